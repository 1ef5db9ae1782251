//! The one place where protocol types meet the analysis: byte ranges become
//! LSP ranges in the negotiated encoding, findings become diagnostics.

use ropey::Rope;
use serde::{Deserialize, Serialize};
use tower_lsp::lsp_types::{
    self as lsp, ClientCapabilities, CodeDescription, DiagnosticRelatedInformation,
    DiagnosticSeverity, NumberOrString, PositionEncodingKind, TextDocumentContentChangeEvent, Url,
};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use svl_analysis::document::Change;
use svl_analysis::module::ModuleIndex;
use svl_analysis::position::{self, Clamp, Encoding, LineCol};
use svl_analysis::{Finding, Problem, Severity, VpcAttribute};

/// The `source` of every diagnostic.
pub const SOURCE: &str = "sagemaker-vpc-lsp";
/// Where the control is documented.
pub const DOCS_URL: &str = "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc";

static DOCS_HREF: std::sync::LazyLock<Option<Url>> =
    std::sync::LazyLock::new(|| Url::parse(DOCS_URL).ok());

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingKey {
    pub rule: String,
    pub resource: String,
    pub problem: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attribute: Option<VpcAttribute>,
    /// The document version the diagnostic was computed for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<i32>,
}

impl FindingKey {
    pub fn of(finding: &Finding, version: Option<i32>) -> Self {
        let (problem, attribute) = match &finding.problem {
            Problem::MissingVpcConfig => ("missing_vpc_config", None),
            Problem::MissingAttribute { attribute, .. } => ("missing_attribute", Some(*attribute)),
            Problem::EmptyValue { attribute, .. } => ("empty_value", Some(*attribute)),
            Problem::EmptyForEach { .. } => ("empty_for_each", None),
            Problem::DuplicateVpcConfig { .. } => ("duplicate_vpc_config", None),
            Problem::InvalidSuppression => ("invalid_suppression", None),
            Problem::ExpiredSuppression => ("expired_suppression", None),
        };
        Self {
            rule: finding.rule.to_owned(),
            resource: finding.resource.address(),
            problem: problem.to_owned(),
            attribute,
            version,
        }
    }

    /// Same finding, whatever version each was computed for.
    pub fn same_finding(&self, other: &FindingKey) -> bool {
        (&self.rule, &self.resource, &self.problem, self.attribute)
            == (
                &other.rule,
                &other.resource,
                &other.problem,
                other.attribute,
            )
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

pub fn diagnostic(
    finding: &Finding,
    rope: &Rope,
    encoding: Encoding,
    uri: &Url,
    severity_override: Severity,
    version: i32,
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
                message: r.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(rope, finding.range.clone(), encoding),
        severity: Some(severity(severity_override)),
        code: Some(NumberOrString::String(finding.rule.to_owned())),
        code_description: DOCS_HREF.clone().map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_owned()),
        message: finding.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: serde_json::to_value(FindingKey::of(finding, Some(version))).ok(),
    }
}

pub fn text_edit(
    rope: &Rope,
    edit: &svl_analysis::fix::TextEdit,
    encoding: Encoding,
) -> lsp::TextEdit {
    lsp::TextEdit {
        range: range(rope, edit.range.clone(), encoding),
        new_text: edit.new_text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp::lsp_types::GeneralClientCapabilities;

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
            version: Some(3),
        };
        let json = serde_json::to_value(&key).unwrap();
        assert_eq!(json["attribute"], "subnets");
        let back: FindingKey = serde_json::from_value(json).unwrap();
        assert_eq!(back, key);
    }
}
