//! The `check` command: walk, analyze in parallel, print in a stable order.

pub mod fixes;
pub mod modules;
pub mod progress;
pub mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use svl_analysis::finding::Problem;
use svl_analysis::{Severity, rules, suppress};
use svl_project::read::Depth;
use svl_project::walk;

use render::Totals;

pub use svl_project::read::{DEFAULT_MAX_FILE_SIZE_TEXT, parse_size};

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
    /// Only these rules (`--select`; empty: all).
    pub select: Vec<String>,
    /// Not these rules (`--ignore`).
    pub ignore: Vec<String>,
    /// Information and hint findings fail the check too (`--strict`).
    pub strict: bool,
    /// Files larger than this are named and not checked (exit 2); `None`:
    /// no limit (`--max-file-size`).
    pub max_file_size: Option<u64>,
}

impl CheckOptions {
    /// Is a finding of `rule` reported? Findings about suppression comments
    /// follow the rule they suppress only through `--ignore`.
    fn wants(&self, rule: &str) -> bool {
        let opt_in = rules::by_id(rule).is_some_and(|r| r.doc().opt_in);
        let selected = (self.select.is_empty() && !opt_in)
            || self.select.iter().any(|s| s == rule)
            || rule == suppress::INVALID_RULE
            || rule == suppress::EXPIRED_RULE;
        selected && !self.ignore.iter().any(|s| s == rule)
    }

    /// Rule ids in `--select`/`--ignore` that name no rule.
    fn unknown_rules(&self) -> Vec<&str> {
        let known = rules::rule_ids();
        self.select
            .iter()
            .chain(&self.ignore)
            .map(String::as_str)
            .filter(|id| {
                !known.contains(id)
                    && *id != suppress::INVALID_RULE
                    && *id != suppress::EXPIRED_RULE
            })
            .collect()
    }
}

/// `sagemaker-vpc-lsp rules`: every rule, from its own documentation.
pub fn run_rules(format: Format) -> ExitCode {
    let stdout = &mut anstream::stdout();
    let written = match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rules::RULES
                .iter()
                .map(|r| {
                    let d = r.doc();
                    serde_json::json!({
                        "id": d.id,
                        "title": d.title,
                        "default_severity": d.default_severity.as_str(),
                        "why": d.why,
                        "aws_config": d.aws_config,
                        "powerpipe": d.powerpipe,
                        "prowler": d.prowler,
                        "docs": d.docs_url,
                        "opt_in": d.opt_in,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *stdout, &list)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(stdout))
        }
        Format::Text => rules::RULES.iter().try_for_each(|r| {
            let d = r.doc();
            let ids: Vec<String> = [
                d.aws_config.map(|i| format!("AWS Config {i}")),
                d.powerpipe.map(|i| format!("Powerpipe {i}")),
                d.prowler.map(|i| format!("Prowler {i}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            writeln!(
                stdout,
                "{} ({}{}): {}\n  {}\n  {}\n  {}\n",
                d.id,
                d.default_severity.as_str(),
                if d.opt_in {
                    "; check reports it only with --select"
                } else {
                    ""
                },
                d.title,
                d.why.split_whitespace().collect::<Vec<_>>().join(" "),
                ids.join(" · "),
                d.docs_url
            )
        }),
    };
    ExitCode::from(if written.is_ok() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    })
}

/// Exit codes: what CI scripts branch on.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn run_check(options: &CheckOptions) -> ExitCode {
    let stderr = &mut anstream::stderr();
    let unknown = options.unknown_rules();
    if !unknown.is_empty() {
        report_error(
            stderr,
            "--select/--ignore",
            &format!(
                "no such rule: {} (known: {})",
                unknown.join(", "),
                rules::rule_ids().join(", ")
            ),
        );
        return ExitCode::from(EXIT_ERROR);
    }
    // Analysis recurses as deep as the configuration nests (up to a bound).
    // An error means the pool already exists: it is used as it is.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(svl_analysis::ANALYSIS_STACK_SIZE)
        .build_global();
    // glibc raises its mapping threshold each time a large block is freed,
    // and then serves the next large buffers from arenas where they
    // fragment: fixed, 100 MB of aws_subnet peaks at 0.96 GB instead of
    // 1.01 GB. At 4 MiB (the server's), a file of deeply nested blocks took
    // a third longer (its parses' buffers mapped and unmapped); at 32 MiB
    // the peak was back.
    svl_trim::fix_mmap_threshold(16 << 20);
    let walk = walk::collect(&options.paths);
    let mut failed = !walk.errors.is_empty();
    for e in &walk.errors {
        report_error(stderr, &e.path, &e.reason);
    }
    for note in &walk.notes {
        report_warning(stderr, note);
    }

    let progress = progress::Progress::new(
        walk.targets.len(),
        options.format == Format::Text && !options.diff,
    );
    let analysis = svl_analysis::Options {
        today: svl_analysis::suppress::Date::today(),
        suppressions: options.suppress,
    };
    let wants = |rule: &str| -> bool { options.wants(rule) };
    // Fixes read more of each file than findings do.
    let depth = if options.fix || options.diff {
        Depth::Fixes
    } else {
        Depth::Findings
    };
    let mut batch = modules::Batch::check(
        walk.targets,
        analysis,
        depth,
        options.max_file_size,
        &wants,
        &|n| progress.advance(n),
    );
    progress.finish();

    for warning in &batch.warnings {
        report_warning(stderr, warning);
    }
    for (display, e) in &batch.errors {
        failed = true;
        report_error(stderr, display, e);
    }

    if options.fix || options.diff {
        let stdout = &mut anstream::stdout();
        // `--diff` writes no report: what it could not check is named from
        // the texts as read (fixing replaces them in memory).
        let (unchecked, unfollowed) = if options.diff {
            (
                batch.no_verdict(&Problem::NotChecked),
                batch.no_verdict(&Problem::NotFollowed),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let (changes, unfixed) = batch.fix();
        for u in &unfixed {
            let why = if u.json {
                "Terraform JSON has no automatic fix; edit it by hand"
            } else if u.elsewhere {
                "its fix edits a file of another module folder (where the network is declared), \
                 which check --fix does not change; apply it from the editor or by hand"
            } else {
                "its block does not parse cleanly, so no automatic fix was applied"
            };
            report_warning(
                stderr,
                &format!(
                    "{}:{}:{}: {}: {why}",
                    u.display, u.line, u.column, u.address
                ),
            );
        }
        let mut changed_files = 0;
        for change in &changes {
            changed_files += 1;
            if options.diff {
                let _ = write!(stdout, "{}", change.diff());
            } else if let Err(e) =
                fixes::write_atomic(&change.inner.path, &change.inner.new_text, change.bom)
            {
                failed = true;
                report_error(
                    stderr,
                    &change.display,
                    &format!("cannot write the fix: {e}"),
                );
                batch.revert(change);
            } else {
                let _ = writeln!(
                    stderr,
                    "fixed {}: {}",
                    change.display,
                    change.inner.summary.join("; ")
                );
            }
        }
        if options.diff {
            let _ = stdout.flush();
            for (at, message) in unchecked {
                failed = true;
                report_error(stderr, &at, &message);
            }
            for (at, message) in unfollowed {
                report_warning(stderr, &format!("{at}: {message}"));
            }
            let _ = writeln!(
                stderr,
                "{changed_files} file{} would be changed by --fix{}",
                if changed_files == 1 { "" } else { "s" },
                if unfixed.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} finding{} would remain without an automatic fix",
                        unfixed.len(),
                        if unfixed.len() == 1 { "" } else { "s" }
                    )
                }
            );
            return ExitCode::from(if failed {
                EXIT_ERROR
            } else if changed_files > 0 || !unfixed.is_empty() {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            });
        }
        // What remains is judged on the files as they now are on disk.
        batch.analyze_all();
    }

    let mut reports = batch.into_reports();
    reports.sort_by(|a, b| a.display.cmp(&b.display));
    // No verdict is not a pass: each is named, and the exit code says so.
    for report in &reports {
        for (at, message) in report.unchecked_lines() {
            failed = true;
            report_error(stderr, &at, message);
        }
        // What a module call not followed declares was not checked: named
        // (the exit code is not changed: a module of another source is
        // checked where it is maintained, or here after `terraform init`).
        for (at, message) in report.unfollowed_lines() {
            report_warning(stderr, &format!("{at}: {message}"));
        }
    }
    let totals = Totals {
        files_checked: reports.len(),
        suppressed: reports.iter().map(|r| r.suppressed).sum(),
    };
    // Buffered: a report is written in many small pieces, and each piece
    // written straight to `anstream` locked stdout, scanned for styles to
    // strip and made a system call (a fifth of a 10 MB file's check).
    // Only a text report with colours goes through `anstream` (as Windows
    // consoles need); JSON, or text without colours, is written without
    // styles, straight to stdout.
    let colour = options.format == Format::Text
        && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    let report = |out: &mut dyn Write| {
        match options.format {
            Format::Text => render::text(out, &reports, &totals, colour),
            Format::Json => render::json(out, &reports, &totals),
        }
        .and_then(|()| out.flush())
    };
    let written = if colour {
        report(&mut std::io::BufWriter::with_capacity(
            1 << 16,
            anstream::stdout(),
        ))
    } else {
        report(&mut std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout().lock(),
        ))
    };
    if let Err(e) = written {
        // A closed pipe (`| head`) is not worth a panic, but it is an error.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            report_error(stderr, "<stdout>", &e.to_string());
        }
        return ExitCode::from(EXIT_ERROR);
    }

    // Information and hint findings fail the check only with --strict.
    let any_findings = reports.iter().any(|r| {
        r.findings
            .iter()
            .any(|f| options.strict || matches!(f.severity, Severity::Error | Severity::Warning))
    });
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
