//! The `sagemaker-vpc-lsp` binary: `check` runs the CLI; no subcommand (or
//! `serve`) runs the language server on stdio.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sagemaker_vpc_lsp::cli::{self, CheckOptions, Format};

#[derive(Parser)]
#[command(
    name = "sagemaker-vpc-lsp",
    version,
    about = "Enforces \"SageMaker models should be in a VPC\" (sagemaker_model_in_vpc) on Terraform",
    long_about = None,
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Accepted and ignored: the server always speaks over stdio (VS Code's
    /// client adds this flag).
    #[arg(long, global = true, hide = true)]
    stdio: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Check Terraform files and folders (default: the current folder)
    Check {
        /// Files or folders to check; folders are walked for *.tf files
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// When to colour text output
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorChoice,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Check {
            paths,
            format,
            color,
        }) => {
            match color {
                ColorChoice::Auto => {}
                ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
                ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
            }
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            cli::run_check(&CheckOptions { paths, format })
        }
        None => {
            eprintln!("the language server is not built yet; use `sagemaker-vpc-lsp check`");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
