resource "aws_sagemaker_model" "inference" {
  name               = "churn-scorer"
  execution_role_arn = "arn:aws:iam::123456789012:role/sagemaker"

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-scorer:1.4.0"
  }

  vpc_config {
    security_group_ids = var.security_group_ids
    subnets            = var.subnet_ids
  }
}

variable "security_group_ids" {
  description = "Security groups for the SageMaker model's network interfaces (sagemaker_model_in_vpc); allow egress on 443."
  type        = list(string)
}

variable "subnet_ids" {
  description = "Private subnets for the SageMaker model's network interfaces (sagemaker_model_in_vpc)."
  type        = list(string)
}
