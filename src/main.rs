//! The `sagemaker-vpc-lsp` binary: `check` runs the CLI; no subcommand (or
//! `serve`) runs the language server on stdio.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use svl_cli::{self as cli, CheckOptions, Format};

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
    /// The client's process id, as some clients pass it: the server exits
    /// when that process does (as with `initialize.processId`).
    #[arg(
        long = "clientProcessId",
        global = true,
        hide = true,
        value_name = "PID"
    )]
    client_process_id: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the language server on stdio (the default with no subcommand)
    Serve,
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
        /// Report findings that suppression comments accept
        #[arg(long)]
        no_suppress: bool,
        /// Apply the preferred fix of every finding to the files (written
        /// atomically), then report what is left
        #[arg(long, conflicts_with = "diff")]
        fix: bool,
        /// Show the fixes as a unified diff without writing anything
        #[arg(long)]
        diff: bool,
        /// Report (and fix) only these rules (comma-separated ids; see
        /// `sagemaker-vpc-lsp rules`)
        #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
        select: Vec<String>,
        /// Do not report (or fix) these rules
        #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
        ignore: Vec<String>,
        /// Make information and hint findings fail the check too
        #[arg(long)]
        strict: bool,
        /// Skip (naming it, exit 2) any file larger than this: bytes, or
        /// with K, M or G; `none` for no limit
        #[arg(long, value_name = "SIZE", default_value = cli::DEFAULT_MAX_FILE_SIZE_TEXT, value_parser = max_file_size)]
        max_file_size: MaxFileSize,
    },
    /// List the rules: id, default severity, what each checks and why
    Rules {
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// `--max-file-size`: a size, or `none`.
#[derive(Clone, Copy)]
struct MaxFileSize(Option<u64>);

fn max_file_size(text: &str) -> Result<MaxFileSize, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(MaxFileSize(None));
    }
    cli::parse_size(text).map(|n| MaxFileSize(Some(n)))
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Logs go to stderr: stdout is the protocol channel. The level comes from
/// `SAGEMAKER_VPC_LSP_LOG` (or `RUST_LOG`), `info` by default.
fn init_logging() {
    let filter = std::env::var("SAGEMAKER_VPC_LSP_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Check {
            paths,
            format,
            color,
            no_suppress,
            fix,
            diff,
            select,
            ignore,
            strict,
            max_file_size,
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
            cli::run_check(&CheckOptions {
                paths,
                format,
                suppress: !no_suppress,
                fix,
                diff,
                select,
                ignore,
                strict,
                max_file_size: max_file_size.0,
            })
        }
        Some(Command::Rules { format }) => cli::run_rules(format),
        Some(Command::Serve) | None => {
            init_logging();
            let parent = args.client_process_id.and_then(|p| p.parse().ok());
            ExitCode::from(svl_server::run(parent))
        }
    }
}
