//! How `check` prints findings: rustc/ruff-style text blocks, or JSON.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use ropey::Rope;
use serde::Serialize;
use unicode_width::UnicodeWidthChar;

use svl_analysis::position::{self, Encoding, LineCol};
use svl_analysis::{Finding, Severity};

/// One checked file and what was found in it.
pub struct FileReport {
    pub display: String,
    pub rope: Rope,
    /// Unsuppressed findings, sorted by position.
    pub findings: Vec<Finding>,
    /// Per finding: notes on the definitions that caused it.
    pub notes: Vec<Vec<String>>,
    /// How many findings suppression comments accepted.
    pub suppressed: usize,
    /// Resources no verdict could be reached on (`Problem::NotChecked`),
    /// sorted by position: named on stderr, and `check` exits 2.
    pub unchecked: Vec<Finding>,
    /// Module calls not followed (`Problem::NotFollowed`), sorted by
    /// position: named on stderr; the exit code is not changed.
    pub unfollowed: Vec<Finding>,
}

impl FileReport {
    /// `path:line:column` and the message of each resource that was not
    /// checked.
    pub fn unchecked_lines(&self) -> impl Iterator<Item = (String, &str)> + '_ {
        self.lines(&self.unchecked)
    }

    /// `path:line:column` and the message of each module call not followed.
    pub fn unfollowed_lines(&self) -> impl Iterator<Item = (String, &str)> + '_ {
        self.lines(&self.unfollowed)
    }

    fn lines<'a>(&'a self, list: &'a [Finding]) -> impl Iterator<Item = (String, &'a str)> + 'a {
        list.iter().map(|f| {
            (
                place(&self.display, &self.rope, f.range.start),
                f.message.as_str(),
            )
        })
    }
}

/// Totals for the summary line.
pub struct Totals {
    pub files_checked: usize,
    pub suppressed: usize,
}

const TAB_WIDTH: usize = 4;
/// Ranges longer than this many lines show their first and last lines only.
const MAX_SNIPPET_LINES: usize = 6;

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Information => AnsiColor::Blue,
        Severity::Hint => AnsiColor::Cyan,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

fn gutter_style() -> Style {
    Style::new().fg_color(Some(AnsiColor::Blue.into())).bold()
}

fn bold() -> Style {
    Style::new().bold()
}

/// `display:line:column` of `offset` in `rope`, as the CLI names a place.
pub fn place(display: &str, rope: &Rope, offset: usize) -> String {
    let at = human(rope, offset);
    format!("{display}:{}:{}", at.line, at.col)
}

/// 1-based line and column in Unicode characters, as the CLI reports them.
fn human(rope: &Rope, offset: usize) -> LineCol {
    let lc = position::to_line_col(rope, offset, Encoding::Utf32);
    LineCol {
        line: lc.line + 1,
        col: lc.col + 1,
    }
}

/// Writes every finding as a text block, then the summary line; with
/// terminal styles when `colour` (else none are written: a writer that
/// would strip them has nothing to scan).
pub fn text(
    out: &mut dyn Write,
    reports: &[FileReport],
    totals: &Totals,
    colour: bool,
) -> io::Result<()> {
    let mut findings = 0;
    let mut files = 0;
    for report in reports {
        if !report.findings.is_empty() {
            files += 1;
        }
        for (i, finding) in report.findings.iter().enumerate() {
            findings += 1;
            let notes = report.notes.get(i).map_or(&[][..], Vec::as_slice);
            text_block(out, report, finding, notes, colour)?;
        }
    }
    let mut line = summary(findings, files, totals.files_checked);
    if totals.suppressed > 0 {
        line.push_str(&format!("; {} suppressed by comments", totals.suppressed));
    }
    let unchecked: usize = reports.iter().map(|r| r.unchecked.len()).sum();
    if unchecked > 0 {
        line.push_str(&format!(
            "; {unchecked} resource{} not checked (syntax errors)",
            if unchecked == 1 { "" } else { "s" }
        ));
    }
    let unfollowed: usize = reports.iter().map(|r| r.unfollowed.len()).sum();
    if unfollowed > 0 {
        line.push_str(&format!(
            "; {unfollowed} module call{} not followed",
            if unfollowed == 1 { "" } else { "s" }
        ));
    }
    writeln!(out, "{line}")
}

/// `N findings in M files (K files checked)`, in correct English.
pub fn summary(findings: usize, files: usize, checked: usize) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{} in {} ({} checked)",
        plural(findings, "finding"),
        plural(files, "file"),
        plural(checked, "file")
    )
}

fn text_block(
    out: &mut dyn Write,
    report: &FileReport,
    finding: &Finding,
    notes: &[String],
    colour: bool,
) -> io::Result<()> {
    let on = |style: Style| if colour { style } else { Style::new() };
    let rope = &report.rope;
    let start = human(rope, finding.range.start);
    let sev = on(severity_style(finding.severity));
    let b = on(bold());
    let g = on(gutter_style());
    writeln!(
        out,
        "{b}{}:{}:{}:{b:#} {sev}{}[{}]{sev:#}{b}:{b:#} {}",
        report.display,
        start.line,
        start.col,
        finding.severity.as_str(),
        finding.rule,
        finding.message,
    )?;
    snippet(out, rope, finding.range.clone(), sev, g)?;
    let width = (position::to_line_col(rope, finding.range.end, Encoding::Utf8).line + 1)
        .to_string()
        .len();
    for note in notes {
        writeln!(out, "{g}{:width$} ={g:#} {b}note{b:#}: {note}", "")?;
    }
    writeln!(out)
}

/// The source lines of `range`, each with its part of the range underlined.
fn snippet(
    out: &mut dyn Write,
    rope: &Rope,
    range: std::ops::Range<usize>,
    mark: Style,
    g: Style,
) -> io::Result<()> {
    let first = position::to_line_col(rope, range.start, Encoding::Utf8).line;
    // An end at column 0 belongs to the line before (a range ending in `\n`).
    let end_lc = position::to_line_col(rope, range.end, Encoding::Utf8);
    let last = if end_lc.col == 0 && end_lc.line > first {
        end_lc.line - 1
    } else {
        end_lc.line
    };
    let lines: Vec<usize> = if last - first < MAX_SNIPPET_LINES {
        (first..=last).collect()
    } else {
        vec![first, first + 1, usize::MAX, last - 1, last]
    };
    let width = (last + 1).to_string().len();
    writeln!(out, "{g}{:width$} |{g:#}", "")?;
    for line in lines {
        if line == usize::MAX {
            writeln!(out, "{g}{:width$} |{g:#} ...", "")?;
            continue;
        }
        let (line_start, line_end) = line_bounds(rope, line);
        // A very long line (minified JSON, a 50 MB string) is shown as a
        // window around the range, never whole.
        let (from, to) = window(rope, line_start, line_end, &range);
        let content: String = rope.byte_slice(from..to).chars().collect();
        let (mut shown, mut marks) = underline(&content, from, to, &range);
        if from > line_start {
            shown.insert(0, '…');
            marks.insert(0, ' ');
        }
        if to < line_end {
            shown.push('…');
        }
        writeln!(out, "{g}{:>width$} |{g:#} {shown}", line + 1)?;
        writeln!(out, "{g}{:width$} |{g:#} {mark}{marks}{mark:#}", "")?;
    }
    Ok(())
}

/// Lines longer than this many bytes are cut to a window around the range.
const MAX_SHOWN: usize = 240;

/// The byte range of line `line` without its line break.
fn line_bounds(rope: &Rope, line: usize) -> (usize, usize) {
    let start = rope.line_to_byte(line);
    let slice = rope.line(line);
    let mut len = slice.len_bytes();
    let mut tail = slice.bytes_at(len).reversed();
    match tail.next() {
        Some(b'\n') => {
            len -= 1;
            if tail.next() == Some(b'\r') {
                len -= 1;
            }
        }
        Some(b'\r') => len -= 1,
        _ => {}
    }
    (start, start + len)
}

/// The part of a line shown: all of it, or about [`MAX_SHOWN`] bytes from a
/// little before the range, on character boundaries.
fn window(
    rope: &Rope,
    line_start: usize,
    line_end: usize,
    range: &std::ops::Range<usize>,
) -> (usize, usize) {
    if line_end - line_start <= MAX_SHOWN {
        return (line_start, line_end);
    }
    let floor = |b: usize| rope.char_to_byte(rope.byte_to_char(b));
    let anchor = range.start.clamp(line_start, line_end);
    let from = floor(anchor.saturating_sub(MAX_SHOWN / 4).max(line_start));
    let to = floor((from + MAX_SHOWN).min(line_end));
    (from, to.max(from))
}

/// Expands tabs and measures display widths so the carets sit under the
/// range even after tabs, CJK and emoji. Returns the line and the carets.
fn underline(
    content: &str,
    line_start: usize,
    line_end: usize,
    range: &std::ops::Range<usize>,
) -> (String, String) {
    // On continuation lines, start at the first visible character rather than
    // underlining indentation.
    let indent = content.len() - content.trim_start().len();
    let from = range
        .start
        .clamp(line_start + indent, line_end.max(line_start + indent));
    let to = range.end.clamp(line_start, line_end);
    let mut shown = String::with_capacity(content.len());
    let mut pad = 0;
    let mut carets = 0;
    let mut column = 0;
    for (i, c) in content.char_indices() {
        let at = line_start + i;
        let w = if c == '\t' {
            TAB_WIDTH - column % TAB_WIDTH
        } else {
            c.width().unwrap_or(0)
        };
        if c == '\t' {
            shown.extend(std::iter::repeat_n(' ', w));
        } else if c.is_control() {
            // Never print raw control characters into a terminal.
            shown.push(char::REPLACEMENT_CHARACTER);
        } else {
            shown.push(c);
        }
        if at < from {
            pad += w;
        } else if at < to {
            carets += w;
        }
        column += w;
    }
    let marks = format!("{}{}", " ".repeat(pad), "^".repeat(carets.max(1)));
    (shown, marks)
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    files_checked: usize,
    findings: JsonFindings<'a>,
    /// Resources no verdict could be reached on, in the findings' shape;
    /// left out when there are none (the shape of version 1 before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_checked: Option<JsonFindings<'a>>,
    /// Module calls not followed (`Problem::NotFollowed`), in the same
    /// shape; left out when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_followed: Option<JsonFindings<'a>>,
}

/// The findings (or, `unchecked`, the resources not checked) of every
/// report, serialized one by one as they are made (a 10 MB file of models
/// has 130,000 findings: collected first, they weighed more than the file).
struct JsonFindings<'a> {
    reports: &'a [FileReport],
    list: List,
}

/// Which of a report's lists [`JsonFindings`] writes.
#[derive(Clone, Copy, PartialEq)]
enum List {
    Findings,
    Unchecked,
    Unfollowed,
}

impl Serialize for JsonFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let which = self.list;
        serializer.collect_seq(self.reports.iter().flat_map(|report| {
            let list = match which {
                List::Findings => &report.findings,
                List::Unchecked => &report.unchecked,
                List::Unfollowed => &report.unfollowed,
            };
            list.iter().enumerate().map(move |(i, f)| {
                let notes = match which {
                    List::Findings => report.notes.get(i).map_or(&[][..], Vec::as_slice),
                    _ => &[][..],
                };
                json_finding(report, notes, f)
            })
        }))
    }
}

fn json_finding<'a>(
    report: &'a FileReport,
    notes: &'a [String],
    f: &'a Finding,
) -> JsonFinding<'a> {
    let start = human(&report.rope, f.range.start);
    let end = human(&report.rope, f.range.end);
    JsonFinding {
        rule: f.rule,
        severity: f.severity.as_str(),
        path: &report.display,
        resource: f.resource.address(),
        message: &f.message,
        notes,
        range: JsonRange {
            start: JsonPos {
                line: start.line,
                column: start.col,
            },
            end: JsonPos {
                line: end.line,
                column: end.col,
            },
        },
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'a str,
    path: &'a str,
    resource: String,
    message: &'a str,
    range: JsonRange,
    /// The declarations that cause it, `what: path:line:column`.
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonRange {
    start: JsonPos,
    end: JsonPos,
}

#[derive(Serialize)]
struct JsonPos {
    line: usize,
    column: usize,
}

/// Writes the stable JSON report (`version: 1`).
pub fn json(out: &mut dyn Write, reports: &[FileReport], totals: &Totals) -> io::Result<()> {
    let report = JsonReport {
        version: 1,
        files_checked: totals.files_checked,
        findings: JsonFindings {
            reports,
            list: List::Findings,
        },
        not_checked: reports
            .iter()
            .any(|r| !r.unchecked.is_empty())
            .then_some(JsonFindings {
                reports,
                list: List::Unchecked,
            }),
        not_followed: reports
            .iter()
            .any(|r| !r.unfollowed.is_empty())
            .then_some(JsonFindings {
                reports,
                list: List::Unfollowed,
            }),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_follow_tabs_and_wide_characters() {
        // `\t` expands to 4 columns, `💣` and `中` are 2 columns wide.
        let line = "\t💣中 = []";
        let start = line.find('[').unwrap();
        let (shown, marks) = underline(line, 0, line.len(), &(start..start + 2));
        assert_eq!(shown, "    💣中 = []");
        assert_eq!(marks, "           ^^");
    }

    #[test]
    fn long_lines_are_cut_around_the_range() {
        let line = format!("x = \"{}\" y = []\n", "a".repeat(100_000));
        let rope = Rope::from_str(&line);
        let start = line.find("[]").unwrap();
        let mut out = Vec::new();
        snippet(
            &mut out,
            &rope,
            start..start + 2,
            Style::new(),
            Style::new(),
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.len() < 1_000, "{} bytes", out.len());
        assert!(out.contains("y = []"), "{out}");
        assert!(out.contains('…'), "{out}");
        let marks = out.lines().nth(2).unwrap();
        let shown = out.lines().nth(1).unwrap();
        let col = |s: &str, pat: &str| {
            s.chars().position(|_| false).unwrap_or(0)
                + s.find(pat).map(|b| s[..b].chars().count()).unwrap()
        };
        assert_eq!(col(marks, "^"), col(shown, "[]"), "{out}");
    }

    #[test]
    fn summary_is_correct_english() {
        assert_eq!(summary(1, 1, 1), "1 finding in 1 file (1 file checked)");
        assert_eq!(summary(0, 0, 3), "0 findings in 0 files (3 files checked)");
        assert_eq!(summary(2, 1, 2), "2 findings in 1 file (2 files checked)");
    }
}
