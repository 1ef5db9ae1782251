//! The one place where protocol types meet the analysis: byte ranges become
//! LSP ranges in the negotiated encoding, findings become diagnostics.

use lsp_types::{
    self as lsp, ClientCapabilities, CodeDescription, DiagnosticRelatedInformation,
    DiagnosticSeverity, NumberOrString, PositionEncodingKind, TextDocumentContentChangeEvent, Url,
};
use ropey::Rope;
use serde::{Deserialize, Serialize};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use svl_analysis::document::Change;
use svl_analysis::module::ModuleIndex;
use svl_analysis::position::{self, Clamp, Encoding, LineCol};
use svl_analysis::{Finding, Problem, Severity, VpcAttribute};

/// The `source` of every diagnostic.
pub const SOURCE: &str = "sagemaker-vpc-lsp";

/// Picks the position encoding: UTF-8 if the client offers it (no conversion
/// for ropey and tree-sitter), else UTF-16, which every client supports.
pub fn negotiate_encoding(caps: &ClientCapabilities) -> Encoding {
    let offered = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

pub fn encoding_kind(encoding: Encoding) -> PositionEncodingKind {
    match encoding {
        Encoding::Utf8 => PositionEncodingKind::UTF8,
        Encoding::Utf16 => PositionEncodingKind::UTF16,
        Encoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

pub fn position(rope: &Rope, offset: usize, encoding: Encoding) -> lsp::Position {
    let lc = position::to_line_col(rope, offset, encoding);
    lsp::Position::new(saturate(lc.line), saturate(lc.col))
}

pub fn range(rope: &Rope, range: std::ops::Range<usize>, encoding: Encoding) -> lsp::Range {
    lsp::Range::new(
        position(rope, range.start, encoding),
        position(rope, range.end, encoding),
    )
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn line_col(p: lsp::Position) -> LineCol {
    LineCol {
        line: p.line as usize,
        col: p.character as usize,
    }
}

/// A protocol position as a byte offset (clamped as LSP specifies).
pub fn offset(rope: &Rope, p: lsp::Position, encoding: Encoding) -> (usize, Clamp) {
    position::to_offset(rope, line_col(p), encoding)
}

pub fn change(event: TextDocumentContentChangeEvent) -> Change {
    Change {
        range: event.range.map(|r| (line_col(r.start), line_col(r.end))),
        text: event.text,
    }
}

pub fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// What a code action needs to find a diagnostic's finding again, carried in
/// `Diagnostic.data` (clients that drop `data` still get fixes by range).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    pub rule: String,
    pub resource: String,
    pub problem: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attribute: Option<VpcAttribute>,
}

impl FindingKey {
    pub fn of(finding: &Finding) -> Self {
        let problem = match &finding.problem {
            Problem::MissingVpcConfig => "missing_vpc_config",
            Problem::MissingAttribute { .. } => "missing_attribute",
            Problem::EmptyValue { .. } => "empty_value",
            Problem::EmptyForEach { .. } => "empty_for_each",
            Problem::DuplicateVpcConfig { .. } => "duplicate_vpc_config",
            Problem::Pitfall => "pitfall",
            Problem::NotChecked => "not_checked",
            Problem::NotFollowed => "not_followed",
            Problem::InvalidSuppression => "invalid_suppression",
            Problem::ExpiredSuppression => "expired_suppression",
        };
        let attribute = finding.problem.attribute();
        Self {
            rule: finding.rule.to_owned(),
            resource: finding.resource.address(),
            problem: problem.to_owned(),
            attribute,
        }
    }
}

/// Texts of the module's other files, read once per batch, for related
/// information that points into them.
pub struct OtherFiles<'a> {
    index: &'a ModuleIndex,
    ropes: HashMap<PathBuf, Option<Rope>>,
}

impl<'a> OtherFiles<'a> {
    pub fn new(index: &'a ModuleIndex) -> Self {
        Self {
            index,
            ropes: HashMap::new(),
        }
    }

    fn location(
        &mut self,
        path: &Path,
        range: std::ops::Range<usize>,
        encoding: Encoding,
    ) -> Option<lsp::Location> {
        let index = self.index;
        let rope = self
            .ropes
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                index
                    .files
                    .iter()
                    .find(|f| f.path == path)
                    .map(|f| Rope::from_str(&f.text))
            })
            .as_ref()?;
        Some(lsp::Location::new(
            Url::from_file_path(path).ok()?,
            self::range(rope, range, encoding),
        ))
    }
}

/// The documentation page of a rule (parsed once per rule, not per
/// diagnostic).
fn docs_url(rule: &str) -> Option<Url> {
    static URLS: std::sync::LazyLock<HashMap<&'static str, Url>> = std::sync::LazyLock::new(|| {
        svl_analysis::rules::RULES
            .iter()
            .filter_map(|r| Some((r.doc().id, Url::parse(r.doc().docs_url).ok()?)))
            .collect()
    });
    URLS.get(rule).cloned()
}

pub fn diagnostic(
    finding: &Finding,
    rope: &Rope,
    encoding: Encoding,
    uri: &Url,
    severity: Severity,
    others: &mut OtherFiles<'_>,
) -> lsp::Diagnostic {
    let related: Vec<DiagnosticRelatedInformation> = finding
        .related
        .iter()
        .filter_map(|r| {
            let location = match &r.path {
                None => lsp::Location::new(uri.clone(), range(rope, r.range.clone(), encoding)),
                Some(path) => others.location(path, r.range.clone(), encoding)?,
            };
            Some(DiagnosticRelatedInformation {
                location,
                message: r.message.to_string(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(rope, finding.range.clone(), encoding),
        severity: Some(self::severity(severity)),
        code: Some(NumberOrString::String(finding.rule.to_owned())),
        code_description: docs_url(finding.rule).map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_owned()),
        message: finding.message.to_string(),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: serde_json::to_value(FindingKey::of(finding)).ok(),
    }
}

/// An edit in protocol terms. An edit that reaches the end of a text ending
/// in a line break is moved before that line break (its text rotated to
/// match), so no position ever lies past the last line: Neovim 0.11 applies
/// such positions with an extra blank line.
pub fn text_edit(
    rope: &Rope,
    text: &str,
    edit: &svl_analysis::fix::TextEdit,
    encoding: Encoding,
) -> lsp::TextEdit {
    let mut range = edit.range.clone();
    let mut new_text = edit.new_text.as_str();
    let eol = if text.ends_with("\r\n") {
        "\r\n"
    } else if text.ends_with('\n') {
        "\n"
    } else {
        ""
    };
    let rotated;
    if !eol.is_empty()
        && range.end == text.len()
        && let Some(body) = new_text.strip_suffix(eol)
    {
        if range.start == text.len() {
            // An insertion after the last line break: insert before it.
            rotated = format!("{eol}{body}");
            range = text.len() - eol.len()..text.len() - eol.len();
            new_text = &rotated;
        } else if range.start + eol.len() <= text.len() {
            // The last line break stays; the text before it is replaced.
            range = range.start..text.len() - eol.len();
            new_text = body;
        }
    }
    lsp::TextEdit {
        range: self::range(rope, range, encoding),
        new_text: new_text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::GeneralClientCapabilities;

    fn caps(encodings: Option<Vec<PositionEncodingKind>>) -> ClientCapabilities {
        ClientCapabilities {
            general: Some(GeneralClientCapabilities {
                position_encodings: encodings,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn edits_at_the_end_stay_inside_the_document() {
        use svl_analysis::fix::TextEdit as Edit;
        for text in ["a = 1\n", "a = 1\r\n", "a = 1"] {
            let rope = Rope::from_str(text);
            let eol = &text[5..];
            let edit = Edit {
                range: text.len()..text.len(),
                new_text: format!("{eol}b = 2{eol}"),
            };
            let lsp = text_edit(&rope, text, &edit, Encoding::Utf16);
            assert_eq!(lsp.range.start.line, 0, "{text:?}");
            // Applying either gives the same text.
            let start = lsp.range.start.character as usize;
            let end = lsp.range.end.character as usize;
            let mut applied = text.to_owned();
            applied.replace_range(start..end, &lsp.new_text);
            let mut expected = text.to_owned();
            expected.push_str(&edit.new_text);
            assert_eq!(applied, expected, "{text:?}");
        }
    }

    #[test]
    fn prefers_utf8_else_utf16() {
        use PositionEncodingKind as K;
        assert_eq!(
            negotiate_encoding(&caps(Some(vec![K::UTF16, K::UTF8]))),
            Encoding::Utf8
        );
        assert_eq!(
            negotiate_encoding(&caps(Some(vec![K::UTF16]))),
            Encoding::Utf16
        );
        assert_eq!(
            negotiate_encoding(&caps(Some(vec![K::UTF32]))),
            Encoding::Utf16
        );
        assert_eq!(negotiate_encoding(&caps(None)), Encoding::Utf16);
        assert_eq!(
            negotiate_encoding(&ClientCapabilities::default()),
            Encoding::Utf16
        );
    }

    #[test]
    fn finding_keys_round_trip_through_json() {
        let key = FindingKey {
            rule: "sagemaker_model_in_vpc".into(),
            resource: "aws_sagemaker_model.m".into(),
            problem: "missing_attribute".into(),
            attribute: Some(VpcAttribute::Subnets),
        };
        let json = serde_json::to_value(&key).unwrap();
        assert_eq!(json["attribute"], "subnets");
        let back: FindingKey = serde_json::from_value(json).unwrap();
        assert_eq!(back, key);
    }
}
