//! sagemaker-vpc-lsp: enforces "SageMaker models should be in a VPC"
//! (`sagemaker_model_in_vpc`) on Terraform, as a language server and a CLI.

pub mod analysis;
pub mod cli;
pub mod position;
pub mod server;
