#!/usr/bin/env bash
# Runs the batch Emacs + eglot test against a built server.
# Usage: editors/emacs/test/run.sh [path/to/sagemaker-vpc-lsp]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
bin="${1:-$repo/target/debug/sagemaker-vpc-lsp}"
[ -x "$bin" ] || { echo "server binary not found: $bin (build it first)" >&2; exit 2; }
command -v emacs >/dev/null || { echo "emacs is not installed" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/module" "$tmp/home"
cp "$repo/editors/testdata/model.tf" "$tmp/module/model.tf"

# Not -Q: Debian puts eglot on the load path from site-start.
HOME="$tmp/home" SAGEMAKER_VPC_LSP_BIN="$bin" PLUGIN_DIR="$repo/editors/emacs" \
TF_FILE="$tmp/module/model.tf" EXPECTED_FILE="$repo/editors/testdata/model.fixed.tf" \
  timeout 90 emacs --batch -l "$here/test.el" </dev/null
