resource "aws_sagemaker_model" "inference" {
  execution_role_arn = "arn:aws:iam::123456789012:role/sagemaker"

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-scorer:1.4.0"
  }

  vpc_config {
    subnets            = [aws_subnet.a.id, aws_subnet.b.id]
    security_group_ids = [aws_security_group.model.id]
  }
}
