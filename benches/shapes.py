#!/usr/bin/env python3
"""Opens one file of each shape in the server and prints its peak memory
against issue 11's bound (40 times the text plus 30 MB).

    python3 benches/shapes.py [--size BYTES] SERVER_BINARY

Each shape is generated at about BYTES (default 1,000,000) in a folder of
its own and opened as an editor opens a file on disk
(`benches/open_close.py`, one run): the open (didOpen sent -> first
diagnostics), the diagnostics, and VmRSS idle and at its peak (VmHWM, which
includes the pages of the binary the server ran), in MiB. A row over the
bound says OVER: nothing is hidden.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import open_close  # noqa: E402


def repeat(size, make):
    """`make(i)` for i = 0, 1, … until the text reaches `size` bytes."""
    out, total, i = [], 0, 0
    while total < size:
        piece = make(i)
        out.append(piece)
        total += len(piece)
        i += 1
    return "".join(out)


MODEL = 'resource "aws_sagemaker_model" "m" {\n  execution_role_arn = "arn"\n}\n'


def module(i):
    return (f'resource "aws_subnet" "s{i}" {{\n  vpc_id     = "vpc-1"\n'
            f'  cidr_block = "10.0.{i % 250}.0/24"\n}}\n\n'
            f'resource "aws_security_group" "g{i}" {{\n  vpc_id = "vpc-1"\n}}\n\n'
            f'resource "aws_sagemaker_model" "in{i}" {{\n  execution_role_arn = "arn"\n'
            f'  vpc_config {{\n    subnets            = [aws_subnet.s{i}.id]\n'
            f'    security_group_ids = [aws_security_group.g{i}.id]\n  }}\n}}\n\n'
            f'resource "aws_sagemaker_model" "out{i}" {{\n  execution_role_arn = "arn"\n}}\n\n')


def shapes(size):
    """(name, file name, text) of each shape."""
    nest = max(1, (size - 200) // 2)
    json_models = {}
    total = 0
    while total < size:
        json_models[f"m{len(json_models)}"] = {"execution_role_arn": "arn"}
        total += 52
    return [
        ("module", "main.tf", repeat(size, module)),
        ("dense models", "main.tf", repeat(size, lambda i: MODEL.replace('"m"', f'"m{i}"'))),
        ("subnets", "main.tf", repeat(size, lambda i: f'resource "aws_subnet" "s{i}" {{\n  vpc_id = "v"\n}}\n') + MODEL),
        ("variables", "main.tf", repeat(size, lambda i: f'variable "v{i}" {{}}\n') + MODEL),
        ("locals {}", "main.tf", repeat(size, lambda i: "locals{}\n") + MODEL),
        ("a{}", "main.tf", repeat(size, lambda i: "a{}\n") + MODEL),
        ("comments", "main.tf", repeat(size, lambda i: "# a comment line that is long enough\n") + MODEL),
        ("top-level attributes", "main.tf", repeat(size, lambda i: f"a{i} = 1\n") + MODEL),
        ("one long string", "main.tf",
         'resource "aws_sagemaker_model" "m" {\n  name = "' + "x" * size + '"\n}\n'),
        ("one heredoc", "main.tf",
         'resource "aws_sagemaker_model" "m" {\n  name = <<EOT\n' + ("y" * 99 + "\n") * (size // 100) + "EOT\n}\n"),
        ("nested lists", "main.tf",
         'resource "aws_sagemaker_model" "m" {\n  name = ' + "[" * nest + "]" * nest + "\n}\n"),
        ("JSON models", "main.tf.json",
         json.dumps({"resource": {"aws_sagemaker_model": json_models}}, indent=1)),
        ("minified JSON models", "main.tf.json",
         json.dumps({"resource": {"aws_sagemaker_model": json_models}}, separators=(",", ":"))),
        ("tfvars", "terraform.tfvars", repeat(size, lambda i: f"a{i} = {i}\n")),
    ]


def main():
    args = sys.argv[1:]
    size = 1_000_000
    if args[:1] == ["--size"]:
        size, args = int(args[1]), args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    server = args[0]
    print(f"{'shape':>22} {'MB':>5} {'diagnostics':>11} {'open':>9} {'idle':>5} "
          f"{'peak':>5} {'bound':>6}  (MiB)")
    for name, file, text in shapes(size):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, file)
            with open(path, "w") as f:
                f.write(text)
            got = open_close.run(server, path, quiet=True)
        bound = (40 * len(text) + 30_000_000) / 2**20
        verdict = "" if got["peak"] <= bound else "  OVER"
        print(f"{name:>22} {len(text) / 1e6:>5.2f} {got['diagnostics']:>11} "
              f"{got['open_ms']:>6.0f} ms {got['idle']:>5} {got['peak']:>5} {bound:>6.0f}{verdict}")


if __name__ == "__main__":
    main()
