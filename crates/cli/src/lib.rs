//! The `check` command: walk, analyse in parallel, print in a stable order.

pub mod fixes;
pub mod modules;
pub mod progress;
pub mod render;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use svl_project::walk;

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
    /// Honour suppression comments (`--no-suppress` turns this off).
    pub suppress: bool,
    /// Apply the preferred fixes to the files (`--fix`).
    pub fix: bool,
    /// Print the fixes as a diff instead of writing them (`--diff`).
    pub diff: bool,
}

/// Exit codes: what CI scripts branch on.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn run_check(options: &CheckOptions) -> ExitCode {
    let stderr = &mut anstream::stderr();
    let (targets, walk_errors) = walk::collect(&options.paths);
    let mut failed = !walk_errors.is_empty();
    for e in &walk_errors {
        report_error(stderr, &e.path, &e.reason);
    }

    // Files are checked module by module: a module is a folder, and its
    // variables, locals and tfvars decide what references resolve to.
    let mut folders: BTreeMap<PathBuf, Vec<walk::Target>> = BTreeMap::new();
    for target in targets {
        folders
            .entry(modules::folder_of(&target.path))
            .or_default()
            .push(target);
    }
    let progress = progress::Progress::new(
        folders.values().map(Vec::len).sum(),
        options.format == Format::Text && !options.diff,
    );
    let mut checked: Vec<modules::CheckedModule> = folders
        .into_par_iter()
        .map(|(folder, targets)| {
            let module = modules::CheckedModule::check(folder, targets, options.suppress);
            progress.advance(module.files.len());
            module
        })
        .collect();
    progress.finish();
    checked.sort_by(|a, b| a.folder.cmp(&b.folder));

    for module in &checked {
        for warning in &module.warnings {
            report_warning(stderr, warning);
        }
        for (display, e) in &module.errors {
            failed = true;
            report_error(stderr, display, e);
        }
    }

    if options.fix || options.diff {
        let stdout = &mut anstream::stdout();
        let mut changed_files = 0;
        for module in &mut checked {
            match module.fix(options.suppress) {
                Ok(changes) => {
                    for change in changes {
                        changed_files += 1;
                        if options.diff {
                            let _ = write!(stdout, "{}", change.diff());
                        } else if let Err(e) =
                            fixes::write_atomic(&change.path, &change.new_text, change.bom)
                        {
                            failed = true;
                            report_error(
                                stderr,
                                &change.display,
                                &format!("cannot write the fix: {e}"),
                            );
                        } else {
                            let _ = writeln!(
                                stderr,
                                "fixed {}: {}",
                                change.display,
                                change.summary.join("; ")
                            );
                        }
                    }
                }
                Err(e) => {
                    failed = true;
                    report_error(stderr, &module.folder.display().to_string(), &e);
                }
            }
        }
        if options.diff {
            let _ = stdout.flush();
            let _ = writeln!(
                stderr,
                "{changed_files} file{} would be changed by --fix",
                if changed_files == 1 { "" } else { "s" }
            );
            return ExitCode::from(if failed {
                EXIT_ERROR
            } else if changed_files > 0 {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            });
        }
    }

    let mut reports: Vec<FileReport> = checked.into_iter().flat_map(|m| m.reports()).collect();
    reports.sort_by(|a, b| a.display.cmp(&b.display));
    let totals = Totals {
        files_checked: reports.len(),
        suppressed: reports.iter().map(|r| r.suppressed).sum(),
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

fn report_warning(stderr: &mut dyn Write, message: &str) {
    let yellow = anstyle::Style::new()
        .fg_color(Some(anstyle::AnsiColor::Yellow.into()))
        .bold();
    let _ = writeln!(stderr, "{yellow}warning{yellow:#}: {message}");
}

fn report_error(stderr: &mut dyn Write, path: &str, reason: &str) {
    let red = anstyle::Style::new()
        .fg_color(Some(anstyle::AnsiColor::Red.into()))
        .bold();
    let _ = writeln!(stderr, "{red}error{red:#}: {path}: {reason}");
}
