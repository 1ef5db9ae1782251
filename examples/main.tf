# A small inference module: one model inside the VPC, one outside it.
# `sagemaker-vpc-lsp check examples` reports the second.

resource "aws_sagemaker_model" "in_vpc" {
  name               = "churn-scorer"
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

resource "aws_sagemaker_model" "public" {
  name               = "fraud-detector"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-detector:2.0.1"
  }
}
