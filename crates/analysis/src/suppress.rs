//! Suppression comments: a team may accept a finding on one resource, with a
//! reason and optionally an expiry date.
//!
//! ```hcl
//! # sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc:exp:2027-06-30 -- batch-only model, no network access needed
//! resource "aws_sagemaker_model" "offline" {
//! ```
//!
//! The comment sits on the line directly above the resource header, or on the
//! header line itself (after `{`). `#`, `//` and `/* */` comments all work;
//! in `.tf.json` the directive is the value of a `"//"` member of the
//! resource. Rule ids follow `ignore` after `:` or a space (several may be
//! separated by commas); `:exp:YYYY-MM-DD` (or ` exp:YYYY-MM-DD`) sets the
//! last day it applies; the reason follows `--` and is mandatory.
//! A directive without a reason, naming an unknown rule or with a bad date
//! is reported and suppresses nothing; an expired one is reported and the
//! finding is back.

use std::ops::Range;

use tree_sitter::Node;

use super::syntax::BlockParts;

pub(crate) const DIRECTIVE: &str = "sagemaker-vpc-lsp:ignore";
/// The rule id of a finding about a directive that suppresses nothing.
pub const INVALID_RULE: &str = "invalid_suppression";
/// The rule id of a finding about a directive past its expiry date.
pub const EXPIRED_RULE: &str = "expired_suppression";
/// The text the "Suppress with a reason…" fix leaves for the user to replace.
pub(crate) const REASON_PLACEHOLDER: &str = "<reason>";

/// A calendar date (no time zone: expiry is by day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let days_in_month = match date.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if date.year % 4 == 0 && (date.year % 100 != 0 || date.year % 400 == 0) => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month).contains(&date.day).then_some(date)
    }

    /// The civil date `days` days after 1970-01-01 (Howard Hinnant's
    /// algorithm).
    pub(crate) fn from_unix_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Today in UTC, or `SAGEMAKER_VPC_LSP_TODAY` (YYYY-MM-DD) when set, so
    /// expiry can be tested.
    pub fn today() -> Self {
        if let Some(date) = std::env::var("SAGEMAKER_VPC_LSP_TODAY")
            .ok()
            .and_then(|s| Date::parse(&s))
        {
            return date;
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Date::from_unix_days(secs.div_euclid(86_400))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A parsed suppression directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The comment (or JSON string) it was read from.
    pub range: Range<usize>,
    pub rules: Vec<String>,
    pub expires: Option<Date>,
    pub reason: Option<String>,
    /// What is wrong with it, if anything (it then suppresses nothing).
    pub problem: Option<String>,
}

impl Directive {
    /// Does it suppress `rule` today?
    pub(crate) fn suppresses(&self, rule: &str, today: Date) -> bool {
        self.problem.is_none()
            && self.rules.iter().any(|r| r == rule)
            && self.expires.is_none_or(|d| today <= d)
    }

    pub(crate) fn expired(&self, today: Date) -> Option<Date> {
        self.expires
            .filter(|d| self.problem.is_none() && today > *d)
    }
}

/// Reads a directive from comment text (with its `#`, `//` or `/* */`), or
/// `None` if the comment is not one.
pub fn parse(text: &str, range: Range<usize>, known_rules: &[&str]) -> Option<Directive> {
    let body = text.trim();
    let body = body
        .strip_prefix("/*")
        .map(|b| b.strip_suffix("*/").unwrap_or(b))
        .or_else(|| body.strip_prefix("//"))
        .or_else(|| body.strip_prefix('#'))
        .unwrap_or(body)
        .trim();
    let rest = body.strip_prefix(DIRECTIVE)?;
    let (spec, reason) = match rest.split_once("--") {
        Some((spec, reason)) => (spec, Some(reason.trim())),
        None => (rest, None),
    };
    let mut directive = Directive {
        range,
        rules: Vec::new(),
        expires: None,
        reason: reason
            .filter(|r| !r.is_empty() && *r != REASON_PLACEHOLDER)
            .map(str::to_owned),
        problem: None,
    };
    let mut problems = Vec::new();
    let tokens: Vec<&str> = spec
        .split(|c: char| c == ':' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "exp" {
            match tokens.get(i + 1).and_then(|d| Date::parse(d)) {
                Some(date) => directive.expires = Some(date),
                None => problems.push(format!(
                    "the expiry date {} is not a date (YYYY-MM-DD)",
                    tokens.get(i + 1).map_or("(missing)", |d| d)
                )),
            }
            i += 2;
            continue;
        }
        for rule in tokens[i].split(',').filter(|r| !r.is_empty()) {
            if known_rules.contains(&rule) {
                directive.rules.push(rule.to_owned());
            } else {
                problems.push(format!(
                    "unknown rule id `{rule}` (known: {})",
                    known_rules.join(", ")
                ));
            }
        }
        i += 1;
    }
    if directive.rules.is_empty() && problems.is_empty() {
        problems.push(format!(
            "name the rule it suppresses: `{DIRECTIVE}:{}`",
            known_rules.first().copied().unwrap_or("RULE")
        ));
    }
    if directive.reason.is_none() {
        problems.push(format!(
            "a suppression needs a reason after `--` (replace `{REASON_PLACEHOLDER}`)"
        ));
    }
    if !problems.is_empty() {
        directive.problem = Some(problems.join("; "));
    }
    Some(directive)
}

/// The comments that may hold a block's suppression directive: the one on
/// the line directly above its header, and one on its header line.
pub(crate) fn candidate_comments<'t>(block: Node<'t>, src: &str) -> Vec<Node<'t>> {
    let header_row = block.start_position().row;
    let mut candidates: Vec<Node<'t>> = comment_above(block, src, block.start_byte())
        .into_iter()
        .collect();
    // On the header line, after `{`.
    if let Some(parts) = BlockParts::of(block) {
        let mut cursor = block.walk();
        let inline = block
            .children(&mut cursor)
            .chain(
                parts
                    .body
                    .map(|b| {
                        let mut c = b.walk();
                        b.children(&mut c).collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            )
            .filter(|n| n.kind() == "comment" && n.start_position().row == header_row);
        candidates.extend(inline);
    }
    candidates
}

/// The comment token of `node`'s tree that ends the line directly above
/// the one holding `start` (it may be a sibling of the block starting
/// there, or of the whole body for the first block).
pub(crate) fn comment_above<'t>(node: Node<'t>, src: &str, start: usize) -> Option<Node<'t>> {
    // Anything but a line that may end in a comment is answered without the
    // tree, whose root (found through each parent) and descendants took a
    // quarter of the time a file of one-line blocks took to read.
    let (line_start, last) = line_above(src, start)?;
    let mut root = node;
    while let Some(parent) = root.parent() {
        root = parent;
    }
    let comment = root
        .descendant_for_byte_range(last - 1, last - 1)
        .filter(|n| n.kind() == "comment")?;
    // A line comment must start on that line; a block comment may start
    // earlier.
    above_by(src, comment.start_byte(), line_start).then_some(comment)
}

/// Where the line holding `start` starts, and where the text of the line
/// above it ends, when that line may end in a comment: it holds a line
/// comment, or ends a block comment.
pub(crate) fn line_above(src: &str, start: usize) -> Option<(usize, usize)> {
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    if line_start == 0 {
        return None;
    }
    let above = src[..line_start - 1].trim_end_matches('\r');
    let last = above.trim_end_matches([' ', '\t']).len();
    if last == 0 {
        return None;
    }
    let line = &above[above[..last].rfind('\n').map_or(0, |i| i + 1)..last];
    (line.contains('#') || line.contains("//") || line.ends_with("*/"))
        .then_some((line_start, last))
}

/// Does the comment starting at `comment_start`, ending the line above the
/// line starting at `line_start`, stand above it: a line comment that
/// starts on that line, or a block comment?
pub(crate) fn above_by(src: &str, comment_start: usize, line_start: usize) -> bool {
    !src[comment_start..line_start - 1].contains('\n') || src[comment_start..].starts_with("/*")
}

/// The suppression directive among a block's candidate comments.
pub(crate) fn for_block(block: &crate::hir::Block, known_rules: &[&str]) -> Option<Directive> {
    block
        .comments
        .iter()
        .find_map(|(span, text)| parse(text, span.clone(), known_rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[&str] = &["sagemaker_model_in_vpc"];

    fn directive(text: &str) -> Directive {
        parse(text, 0..text.len(), RULES).unwrap()
    }

    #[test]
    fn both_separators_expiry_and_reason() {
        let d = directive(
            "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc:exp:2027-06-30 -- batch only",
        );
        assert_eq!(d.rules, ["sagemaker_model_in_vpc"]);
        assert_eq!(d.expires, Date::parse("2027-06-30"));
        assert_eq!(d.reason.as_deref(), Some("batch only"));
        assert_eq!(d.problem, None);
        let d =
            directive("// sagemaker-vpc-lsp:ignore sagemaker_model_in_vpc -- reviewed by security");
        assert!(d.suppresses("sagemaker_model_in_vpc", Date::parse("2030-01-01").unwrap()));
        let d = directive(
            "/* sagemaker-vpc-lsp:ignore sagemaker_model_in_vpc exp:2020-01-01 -- old */",
        );
        assert_eq!(
            d.expired(Date::parse("2021-01-01").unwrap()),
            Date::parse("2020-01-01")
        );
        assert!(!d.suppresses("sagemaker_model_in_vpc", Date::parse("2021-01-01").unwrap()));
        assert!(d.suppresses("sagemaker_model_in_vpc", Date::parse("2020-01-01").unwrap()));
    }

    #[test]
    fn problems_are_named_and_suppress_nothing() {
        let d = directive("# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc");
        assert!(d.problem.unwrap().contains("needs a reason"));
        let d = directive("# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- <reason>");
        assert!(d.problem.unwrap().contains("needs a reason"));
        let d = directive("# sagemaker-vpc-lsp:ignore:no_such_rule -- x");
        assert!(
            d.problem
                .unwrap()
                .contains("unknown rule id `no_such_rule`")
        );
        let d = directive("# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc:exp:2027-02-30 -- x");
        assert!(d.problem.unwrap().contains("not a date"));
        assert!(parse("# an ordinary comment", 0..1, RULES).is_none());
    }

    #[test]
    fn dates() {
        assert_eq!(
            Date::from_unix_days(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(Date::from_unix_days(20_788).to_string(), "2026-12-01");
        assert_eq!(
            Date::parse("2024-02-29"),
            Some(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        assert_eq!(Date::parse("2023-02-29"), None);
        assert!(Date::parse("2026-11-26") < Date::parse("2026-12-01"));
    }
}
