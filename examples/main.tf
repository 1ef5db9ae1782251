# A small inference module. `sagemaker-vpc-lsp check examples` passes
# `churn_scorer` on every rule and reports each of the others once:
# outside a VPC, in public subnets, in one AZ, behind a security group that
# blocks HTTPS, in a VPC without endpoints or DNS, and served under a fixed
# name that a replacement would not reach.

resource "aws_sagemaker_model" "churn_scorer" {
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image          = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-scorer:1.4.0"
    model_data_url = "s3://ml-artifacts/churn-scorer/model.tar.gz"
  }

  vpc_config {
    security_group_ids = [aws_security_group.model.id]
    subnets            = [aws_subnet.private_a.id, aws_subnet.private_b.id]
  }
}

resource "aws_sagemaker_model" "fraud_detector" {
  name               = "fraud-detector"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-detector:2.0.1"
  }
}

resource "aws_sagemaker_model" "recommender" {
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/recommender:3.2.0"
  }

  vpc_config {
    security_group_ids = [aws_security_group.model.id]
    subnets            = [aws_subnet.public_a.id, aws_subnet.public_b.id]
  }
}

resource "aws_sagemaker_model" "forecaster" {
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/forecaster:1.0.0"
  }

  vpc_config {
    security_group_ids = [aws_security_group.model.id]
    subnets            = [aws_subnet.private_a.id]
  }
}

resource "aws_sagemaker_model" "classifier" {
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/classifier:0.9.0"
  }

  vpc_config {
    security_group_ids = [aws_security_group.locked.id]
    subnets            = [aws_subnet.private_a.id, aws_subnet.private_b.id]
  }
}

resource "aws_sagemaker_model" "legacy_scorer" {
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/legacy-scorer:7.1.0"
  }

  vpc_config {
    security_group_ids = [aws_security_group.legacy.id]
    subnets            = [aws_subnet.legacy_a.id, aws_subnet.legacy_b.id]
  }
}

resource "aws_sagemaker_model" "ranker" {
  name               = "ranker"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ranker:5.0.0"
  }

  vpc_config {
    security_group_ids = [aws_security_group.model.id]
    subnets            = [aws_subnet.private_a.id, aws_subnet.private_b.id]
  }
}

resource "aws_sagemaker_endpoint_configuration" "ranker" {
  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.ranker.name
    initial_instance_count = 1
    instance_type          = "ml.m5.large"
  }
}

resource "aws_sagemaker_endpoint" "ranker" {
  endpoint_config_name = aws_sagemaker_endpoint_configuration.ranker.name
}
