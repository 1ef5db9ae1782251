#!/usr/bin/env bash
# `check` at the limits: generates inputs that used to take minutes or
# gigabytes (or would have) and prints wall time and peak RSS of `check` on each.
#
#   benches/limits.sh            (about 1.5 GB of files under /tmp/svl-limits)
#
# Each line: input, wall seconds, peak RSS, exit status (1: findings; 2: a
# file not checked, named on stderr — a block nested or listed by the
# million is refused before its parse, which would take gigabytes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin="$PWD/target/release/sagemaker-vpc-lsp"
root="${LIMITS_DIR:-/tmp/svl-limits}"
mkdir -p "$root"

gen() { # name, python generating the folder's files into argv[1], its arguments
  local dir="$root/$1"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    python3 - "$dir" "${@:3}" <<<"$2"
  fi
}

# name, file, bytes, text written first, a block repeated until the file has
# that many bytes (`{i}` in it is the block's number).
gen_repeated() {
  gen "$1" '
import sys
folder, name, size, head, block = sys.argv[1:6]
with open(folder + "/" + name, "w") as f:
    f.write(head); i = 0
    while f.tell() < int(size):
        f.write(block.replace("{i}", str(i))); i += 1
' "${@:2}"
}

model='resource "aws_sagemaker_model" "m{i}" {
  name = "m"
  execution_role_arn = "x"
}
'

# One model written first, then blocks of another kind.
one_model=$'resource "aws_sagemaker_model" "m" {\n  name = "m"\n}\n'

gen_repeated clean_10mb main.tf 10000000 '' "$model"
gen_repeated stray_eq_10mb main.tf 10000000 $'=\n' "$model"
gen_repeated clean_33mb main.tf 33000000 '' "$model"
gen_repeated clean_100mb main.tf 100000000 '' "$model"
gen_repeated stray_eq_100mb main.tf 100000000 $'=\n' "$model"
gen_repeated subnets_100mb main.tf 100000000 "$one_model" \
  $'resource "aws_subnet" "s{i}" {\n  vpc_id = "vpc-1"\n  cidr_block = "10.0.0.0/24"\n}\n'
# One-line blocks by the million (4.4 million variables in 100 MB), and as
# many as the default --max-file-size admits.
gen_repeated variables_33mb main.tf 33000000 "$one_model" $'variable "v{i}" {}\n'
gen_repeated variables_100mb main.tf 100000000 "$one_model" $'variable "v{i}" {}\n'
# Blocks Terraform rejects (`a{}`, four bytes each: 8.4 million in 32 MB),
# and empty `locals` blocks, which analysis reads (3.7 million in 32 MB: refused,
# holding them would take 1.4 GB).
gen_repeated rejected_32mb main.tf 33000000 "$one_model" $'a{}\n'
gen_repeated rejected_100mb main.tf 100000000 "$one_model" $'a{}\n'
gen_repeated locals_32mb main.tf 33000000 "$one_model" $'locals{}\n'
gen long_string_50mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = \"" + "a" * 50_000_000 + "\"\n}\n")
'
gen heredoc_50mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = <<EOT\n" + ("x" * 99 + "\n") * 500_000 + "EOT\n}\n")
'
gen json_string_50mb '
import sys
open(sys.argv[1] + "/main.tf.json", "w").write("{\"resource\": {\"aws_sagemaker_model\": {\"m\": {\"name\": \"" + "a" * 50_000_000 + "\"}}}}\n")
'
# Runs of whitespace: upstream tree-sitter-hcl skipped a run again from each
# of its characters (quadratic: this took over ten minutes).
gen whitespace_4mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write(" " * 3_000_000 + "\n\t\t\n" + "resource \"aws_sagemaker_model\" \"m\" {\n  name" + " " * 1_000_000 + "= \"m\"\n}\n")
'
gen nesting_100k '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = " + "[" * 100_000 + "]" * 100_000 + "\n}\n")
'
gen nested_10mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = " + "[" * 5_000_000 + "]" * 5_000_000 + "\n}\n")
'
gen wide_list_10mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = [" + "[]," * 3_300_000 + "]\n}\n")
'
gen json_nested_10mb '
import sys
open(sys.argv[1] + "/main.tf.json", "w").write("{\"resource\": {\"aws_sagemaker_model\": {\"m\": {\"name\": " + "[" * 5_000_000 + "]" * 5_000_000 + "}}}}")
'
gen nested_blocks_18mb '
import sys
with open(sys.argv[1] + "/main.tf", "w") as f:
    for i in range(20):
        f.write(f"resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = " + "[" * 450_000 + "]" * 450_000 + "\n}\n")
'
gen long_string_100mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = \"" + "a" * 100_000_000 + "\"\n}\n")
'
gen heredoc_100mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = <<EOT\n" + ("x" * 99 + "\n") * 1_000_000 + "EOT\n}\n")
'
gen nested_100mb '
import sys
open(sys.argv[1] + "/main.tf", "w").write("resource \"aws_sagemaker_model\" \"m\" {\n  name = " + "[" * 50_000_000 + "]" * 50_000_000 + "\n}\n")
'
gen json_models_100mb '
import sys
with open(sys.argv[1] + "/main.tf.json", "w") as f:
    f.write("{\"resource\": {\"aws_sagemaker_model\": {"); i = 0
    while f.tell() < 100_000_000:
        f.write(("," if i else "") + f"\"m{i}\": {{\"name\": \"m\", \"execution_role_arn\": \"x\"}}"); i += 1
    f.write("}}}\n")
'
for n in 20000 40000; do
  gen "one_folder_$n" "
import sys
for i in range($n):
    open(f'{sys.argv[1]}/m{i}.tf', 'w').write(f'resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m\"\n}}\n')
"
done

printf '%-20s %9s %10s %5s\n' input seconds "peak RSS" exit
for dir in clean_10mb stray_eq_10mb whitespace_4mb long_string_50mb heredoc_50mb json_string_50mb nesting_100k \
  nested_10mb wide_list_10mb json_nested_10mb nested_blocks_18mb long_string_100mb heredoc_100mb \
  nested_100mb clean_33mb clean_100mb stray_eq_100mb subnets_100mb variables_33mb variables_100mb \
  rejected_32mb rejected_100mb locals_32mb json_models_100mb \
  one_folder_20000 one_folder_40000; do
  stats=$(mktemp)
  set +e
  /usr/bin/time -o "$stats" -f "%e %M" "$bin" check --max-file-size none --format json "$root/$dir" >/dev/null 2>&1
  code=$?
  set -e
  read -r secs kb < <(tail -1 "$stats")
  rm -f "$stats"
  printf '%-20s %9.2f %7d MB %5d\n' "$dir" "$secs" "$((kb / 1024))" "$code"
done
