//! The `check` command: walk, analyse in parallel, print in a stable order.

pub mod render;
pub mod walk;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use ropey::Rope;

use crate::analysis;
use render::{FileReport, Totals};

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub format: Format,
}

/// Exit codes: what CI scripts branch on.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Why a file could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not valid UTF-8 (first invalid byte at line {line}); skipped")]
    NotUtf8 { line: usize },
}

/// Reads a file as UTF-8 text, dropping a leading byte-order mark.
pub fn read_source(path: &std::path::Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path)?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        ReadError::NotUtf8 { line }
    })
}

pub fn run_check(options: &CheckOptions) -> ExitCode {
    let stderr = &mut anstream::stderr();
    let (targets, walk_errors) = walk::collect(&options.paths);
    let mut failed = !walk_errors.is_empty();
    for e in &walk_errors {
        report_error(stderr, &e.path, &e.reason);
    }

    let results: Vec<(String, Result<FileReport, ReadError>)> = targets
        .par_iter()
        .map(|target| {
            let result = read_source(&target.path).map(|text| {
                let findings = analysis::analyze_text(&text);
                FileReport {
                    display: target.display.clone(),
                    rope: Rope::from_str(&text),
                    findings,
                }
            });
            (target.display.clone(), result)
        })
        .collect();

    let mut reports = Vec::new();
    let mut read_errors = Vec::new();
    for (display, result) in results {
        match result {
            Ok(report) => reports.push(report),
            Err(e) => read_errors.push((display, e)),
        }
    }
    read_errors.sort_by(|a, b| a.0.cmp(&b.0));
    for (display, e) in &read_errors {
        failed = true;
        report_error(stderr, display, &e.to_string());
    }
    reports.sort_by(|a, b| a.display.cmp(&b.display));

    let totals = Totals {
        files_checked: reports.len(),
    };
    let stdout = &mut anstream::stdout();
    let written = match options.format {
        Format::Text => render::text(stdout, &reports, &totals),
        Format::Json => render::json(stdout, &reports, &totals),
    }
    .and_then(|()| stdout.flush());
    if let Err(e) = written {
        // A closed pipe (`| head`) is not worth a panic, but it is an error.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            report_error(stderr, "<stdout>", &e.to_string());
        }
        return ExitCode::from(EXIT_ERROR);
    }

    let any_findings = reports.iter().any(|r| !r.findings.is_empty());
    ExitCode::from(if failed {
        EXIT_ERROR
    } else if any_findings {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

fn report_error(stderr: &mut dyn Write, path: &str, reason: &str) {
    let red = anstyle::Style::new()
        .fg_color(Some(anstyle::AnsiColor::Red.into()))
        .bold();
    let _ = writeln!(stderr, "{red}error{red:#}: {path}: {reason}");
}
