#!/usr/bin/env bash
# Runs the headless Neovim test against a built server.
# Usage: editors/nvim/test/run.sh [path/to/sagemaker-vpc-lsp]
# NVIM picks the Neovim binary (default: nvim on PATH); MODE=plugin (the
# plugin's setup{}, default) or MODE=snippet (the README's 0.11 snippet).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
bin="${1:-$repo/target/debug/sagemaker-vpc-lsp}"
[ -x "$bin" ] || { echo "server binary not found: $bin (build it first)" >&2; exit 2; }
nvim="${NVIM:-nvim}"
command -v "$nvim" >/dev/null || { echo "$nvim is not installed" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/module" "$tmp/xdg/cache" "$tmp/xdg/data" "$tmp/xdg/state" "$tmp/xdg/config"
cp "$repo/editors/testdata/model.tf" "$tmp/module/model.tf"

XDG_CACHE_HOME="$tmp/xdg/cache" XDG_DATA_HOME="$tmp/xdg/data" \
XDG_STATE_HOME="$tmp/xdg/state" XDG_CONFIG_HOME="$tmp/xdg/config" \
SAGEMAKER_VPC_LSP_BIN="$bin" PLUGIN_DIR="$repo/editors/nvim" \
TF_FILE="$tmp/module/model.tf" EXPECTED_FILE="$repo/editors/testdata/model.fixed.tf" \
MODE="${MODE:-plugin}" \
  timeout 60 "$nvim" --headless --clean -c "luafile $here/test.lua"

# A model that does not parse: a not-checked hint, then its warning again
# (once, with the plugin).
if [ "${MODE:-plugin}" = plugin ]; then
  XDG_CACHE_HOME="$tmp/xdg/cache" XDG_DATA_HOME="$tmp/xdg/data" \
  XDG_STATE_HOME="$tmp/xdg/state" XDG_CONFIG_HOME="$tmp/xdg/config" \
  SAGEMAKER_VPC_LSP_BIN="$bin" PLUGIN_DIR="$repo/editors/nvim" \
  TF_FILE="$tmp/module/broken.tf" \
    bash -c 'cp "$1" "$2" && exec timeout 60 "$3" --headless --clean -c "luafile $4"' _ \
    "$repo/editors/testdata/model.tf" "$tmp/module/broken.tf" "$nvim" "$here/not_checked.lua"
fi

# A pitfall rule across files: the fix edits network.tf (once, with the
# plugin).
if [ "${MODE:-plugin}" = plugin ]; then
  mkdir -p "$tmp/pitfalls"
  cp "$repo/editors/testdata/pitfalls/"*.tf "$tmp/pitfalls/"
  XDG_CACHE_HOME="$tmp/xdg/cache" XDG_DATA_HOME="$tmp/xdg/data" \
  XDG_STATE_HOME="$tmp/xdg/state" XDG_CONFIG_HOME="$tmp/xdg/config" \
  SAGEMAKER_VPC_LSP_BIN="$bin" PLUGIN_DIR="$repo/editors/nvim" MODULE_DIR="$tmp/pitfalls" \
    timeout 120 "$nvim" --headless --clean -c "luafile $here/pitfalls.lua"
fi
