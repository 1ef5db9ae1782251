#!/usr/bin/env python3
"""Writes a deterministic Terraform tree for timing `check` (and its peers).

    benches/corpus.py OUT [--files N] [--seed S]

The tree looks like a monorepo of many small modules: each folder has
main.tf, variables.tf, outputs.tf and versions.tf (sometimes a tfvars file
and an extra resource file), networking, IAM, storage and compute resources,
module calls between folders, and in about one folder in eight one or more
`aws_sagemaker_model`s: compliant, without vpc_config, with empty lists, or
reading variables. With the defaults (14,000 files) it is about 25 MB.
"""

import argparse
import os
import random

NETWORK = """resource "aws_vpc" "main" {{
  cidr_block           = "10.{a}.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags = {{
    Name        = "{name}-vpc"
    Environment = var.environment
  }}
}}

resource "aws_subnet" "private_a" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.{a}.1.0/24"
  availability_zone = "eu-west-1a"
  tags = {{
    Name = "{name}-private-a"
  }}
}}

resource "aws_subnet" "private_b" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.{a}.2.0/24"
  availability_zone = "eu-west-1b"
  tags = {{
    Name = "{name}-private-b"
  }}
}}

resource "aws_security_group" "app" {{
  name        = "{name}-app"
  description = "Application traffic for {name}"
  vpc_id      = aws_vpc.main.id

  ingress {{
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [aws_vpc.main.cidr_block]
  }}

  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"""

STORAGE = """resource "aws_s3_bucket" "{res}" {{
  bucket = "${{var.prefix}}-{name}-{res}"
  tags = {{
    Owner = "platform"
    Data  = "{res}"
  }}
}}

resource "aws_s3_bucket_versioning" "{res}" {{
  bucket = aws_s3_bucket.{res}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "{res}" {{
  bucket = aws_s3_bucket.{res}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm = "aws:kms"
    }}
  }}
}}
"""

IAM = """data "aws_iam_policy_document" "assume_{res}" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["{service}.amazonaws.com"]
    }}
  }}
}}

resource "aws_iam_role" "{res}" {{
  name               = "{name}-{res}"
  assume_role_policy = data.aws_iam_policy_document.assume_{res}.json
}}

resource "aws_iam_role_policy_attachment" "{res}" {{
  role       = aws_iam_role.{res}.name
  policy_arn = "arn:aws:iam::aws:policy/{policy}"
}}
"""

LAMBDA = """resource "aws_lambda_function" "{res}" {{
  function_name = "{name}-{res}"
  role          = aws_iam_role.{res}.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "${{path.module}}/build/{res}.zip"
  timeout       = {timeout}

  environment {{
    variables = {{
      STAGE  = var.environment
      BUCKET = "${{var.prefix}}-{name}"
    }}
  }}
}}
"""

MODELS = [
    # compliant
    """resource "aws_sagemaker_model" "{res}" {{
  name               = "{name}-{res}"
  execution_role_arn = aws_iam_role.{res}.arn

  primary_container {{
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{res}:latest"
  }}

  vpc_config {{
    subnets            = [aws_subnet.private_a.id, aws_subnet.private_b.id]
    security_group_ids = [aws_security_group.app.id]
  }}
}}
""",
    # no vpc_config
    """resource "aws_sagemaker_model" "{res}" {{
  name               = "{name}-{res}"
  execution_role_arn = aws_iam_role.{res}.arn

  primary_container {{
    image          = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{res}:latest"
    model_data_url = "s3://${{var.prefix}}-{name}/model.tar.gz"
  }}
}}
""",
    # from variables
    """resource "aws_sagemaker_model" "{res}" {{
  name               = "{name}-{res}"
  execution_role_arn = aws_iam_role.{res}.arn

  primary_container {{
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{res}:latest"
  }}

  vpc_config {{
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids
  }}
}}
""",
    # empty list
    """resource "aws_sagemaker_model" "{res}" {{
  name               = "{name}-{res}"
  execution_role_arn = aws_iam_role.{res}.arn

  primary_container {{
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/{res}:latest"
  }}

  vpc_config {{
    subnets            = []
    security_group_ids = [aws_security_group.app.id]
  }}
}}
""",
]

VARIABLES = """variable "environment" {{
  description = "Deployment stage"
  type        = string
  default     = "{env}"
}}

variable "prefix" {{
  description = "Name prefix for every resource"
  type        = string
  default     = "acme"
}}

variable "subnet_ids" {{
  description = "Private subnets"
  type        = list(string)
  default     = {subnets}
}}

variable "security_group_ids" {{
  description = "Security groups"
  type        = list(string)
  default     = ["sg-0123456789abcdef0"]
}}
"""

VERSIONS = """terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}
"""


def module_files(rng, index, folders):
    name = f"svc{index}"
    a = index % 250
    main = [NETWORK.format(a=a, name=name)]
    extra = []
    for k in range(rng.randint(2, 5)):
        main.append(STORAGE.format(name=name, res=f"data{k}"))
    roles = []
    for k in range(rng.randint(1, 4)):
        res = f"fn{k}"
        roles.append(res)
        main.append(IAM.format(name=name, res=res, service="lambda",
                               policy="service-role/AWSLambdaBasicExecutionRole"))
        main.append(LAMBDA.format(name=name, res=res, timeout=rng.choice([3, 10, 30, 60])))
    if rng.random() < 0.125:
        for k in range(rng.randint(1, 3)):
            res = f"model{k}"
            extra.append(IAM.format(name=name, res=res, service="sagemaker",
                                    policy="AmazonSageMakerFullAccess"))
            extra.append(rng.choice(MODELS).format(name=name, res=res))
    if index > 0 and rng.random() < 0.3:
        callee = rng.randrange(0, index)
        main.append(f'module "shared" {{\n  source      = "../../{folders[callee]}"\n'
                    f'  environment = var.environment\n  subnet_ids  = [aws_subnet.private_a.id]\n}}\n')
    files = {
        "main.tf": "\n".join(main),
        "variables.tf": VARIABLES.format(
            env=rng.choice(["dev", "staging", "prod"]),
            subnets=rng.choice(['["subnet-0a", "subnet-0b"]', "[]"])),
        "outputs.tf": "".join(
            f'output "{r}_arn" {{\n  value = aws_lambda_function.{r}.arn\n}}\n\n' for r in roles),
        "versions.tf": VERSIONS,
    }
    if extra:
        files["sagemaker.tf"] = "\n".join(extra)
    if rng.random() < 0.2:
        files["terraform.tfvars"] = f'environment = "{rng.choice(["dev", "prod"])}"\n'
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--files", type=int, default=14000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    written = 0
    total = 0
    folders = []
    index = 0
    while written < args.files:
        folder = f"team{index % 40}/svc{index}"
        folders.append(folder)
        files = module_files(rng, index, folders)
        os.makedirs(os.path.join(args.out, folder), exist_ok=True)
        for name, text in files.items():
            if written >= args.files:
                break
            with open(os.path.join(args.out, folder, name), "w") as f:
                f.write(text)
            written += 1
            total += len(text)
        index += 1
    print(f"{written} files, {index} folders, {total / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
