//! The one place where protocol types meet the analysis: byte ranges become
//! LSP ranges in the negotiated encoding, findings become diagnostics.

use lsp_types::{
    self as lsp, ClientCapabilities, DiagnosticSeverity, PositionEncodingKind,
    TextDocumentContentChangeEvent, Url,
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
        Self {
            rule: finding.rule.to_owned(),
            resource: finding.resource.address(),
            problem: problem_name(&finding.problem).to_owned(),
            attribute: finding.problem.attribute(),
        }
    }
}

/// A [`FindingKey`]'s `problem`.
fn problem_name(problem: &Problem) -> &'static str {
    match problem {
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
    }
}

/// Texts of the module's other files, read once per batch, for related
/// information that points into them.
struct OtherFiles<'a> {
    index: &'a ModuleIndex,
    ropes: HashMap<PathBuf, Option<Rope>>,
}

impl<'a> OtherFiles<'a> {
    fn new(index: &'a ModuleIndex) -> Self {
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
fn docs_url(rule: &str) -> Option<&'static Url> {
    static URLS: std::sync::LazyLock<HashMap<&'static str, Url>> = std::sync::LazyLock::new(|| {
        svl_analysis::rules::RULES
            .iter()
            .filter_map(|r| Some((r.doc().id, Url::parse(r.doc().docs_url).ok()?)))
            .collect()
    });
    URLS.get(rule)
}

/// A finding's diagnostic as the protocol's JSON has it, borrowed from the
/// finding: the one definition of what a diagnostic says. A publish is
/// written from it straight ([`Diagnostics::write`]): building
/// `lsp_types::Diagnostic` first (its URLs, strings and `data` map), then
/// serialising that, was three quarters of a first publish's cost.
/// `lsp_types::Diagnostic` reads it back and writes it again unchanged
/// (`diagnostics_are_written_as_lsp_types_writes_them`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiagnosticOut<'a> {
    range: lsp::Range,
    severity: DiagnosticSeverity,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_description: Option<Href>,
    source: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_information: Vec<RelatedOut<'a>>,
    data: KeyOut<'a>,
}

#[derive(Serialize)]
struct Href {
    href: &'static Url,
}

#[derive(Serialize)]
struct RelatedOut<'a> {
    location: LocationOut<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct LocationOut<'a> {
    uri: std::borrow::Cow<'a, Url>,
    range: lsp::Range,
}

/// A [`FindingKey`] as `data` holds it: its keys in the order of a
/// `serde_json::Value`'s map (sorted), which `lsp_types` keeps `data` in.
#[derive(Serialize)]
struct KeyOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute: Option<VpcAttribute>,
    problem: &'static str,
    #[serde(serialize_with = "serialize_display")]
    resource: &'a svl_analysis::finding::ResourceRef,
    rule: &'static str,
}

fn serialize_display<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Diagnostics of the findings in one file: its text, the position
/// encoding, its URI, and the module's other files for related places there.
pub struct Diagnostics<'a> {
    rope: &'a Rope,
    encoding: Encoding,
    uri: &'a Url,
    others: OtherFiles<'a>,
}

impl<'a> Diagnostics<'a> {
    pub fn new(rope: &'a Rope, encoding: Encoding, uri: &'a Url, index: &'a ModuleIndex) -> Self {
        Self {
            rope,
            encoding,
            uri,
            others: OtherFiles::new(index),
        }
    }

    /// Appends `finding`'s diagnostic, as JSON, to `out`.
    pub fn write(&mut self, out: &mut Vec<u8>, finding: &Finding, severity: Severity) {
        let diagnostic = self.of(finding, severity);
        // Writing into memory fails only on a serialiser error, which these
        // types (strings, numbers, URLs) cannot raise.
        let _ = serde_json::to_writer(out, &diagnostic);
    }

    /// `finding`'s diagnostic, as `lsp_types` has it.
    pub fn diagnostic(&mut self, finding: &Finding, severity: Severity) -> lsp::Diagnostic {
        let diagnostic = self.of(finding, severity);
        let read = serde_json::to_value(&diagnostic).and_then(serde_json::from_value);
        read.unwrap_or_else(|e| {
            // Not reached: every diagnostic written is read back in the tests.
            tracing::error!("a diagnostic did not read back ({e})");
            lsp::Diagnostic::new_simple(diagnostic.range, diagnostic.message.to_owned())
        })
    }

    fn of<'f>(&mut self, finding: &'f Finding, severity: Severity) -> DiagnosticOut<'f>
    where
        'a: 'f,
    {
        let (rope, encoding) = (self.rope, self.encoding);
        let related_information = finding
            .related
            .iter()
            .filter_map(|r| {
                let location = match &r.path {
                    None => LocationOut {
                        uri: std::borrow::Cow::Borrowed(self.uri),
                        range: range(rope, r.range.clone(), encoding),
                    },
                    Some(path) => {
                        let lsp::Location { uri, range } =
                            self.others.location(path, r.range.clone(), encoding)?;
                        LocationOut {
                            uri: std::borrow::Cow::Owned(uri),
                            range,
                        }
                    }
                };
                Some(RelatedOut {
                    location,
                    message: &r.message,
                })
            })
            .collect();
        DiagnosticOut {
            range: range(rope, finding.range.clone(), encoding),
            severity: self::severity(severity),
            code: finding.rule,
            code_description: docs_url(finding.rule).map(|href| Href { href }),
            source: SOURCE,
            message: &finding.message,
            related_information,
            data: KeyOut {
                attribute: finding.problem.attribute(),
                problem: problem_name(&finding.problem),
                resource: &finding.resource,
                rule: finding.rule,
            },
        }
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

    /// Every diagnostic is written as `lsp_types` writes it (it reads it
    /// back, and writes the same bytes), and says what its finding says:
    /// the findings of the bundled examples (every rule), and findings made
    /// to reach every field (each problem, related places in this file, in
    /// another file of the module and in none, a rule without a page,
    /// characters JSON escapes, columns that differ by encoding).
    #[test]
    fn diagnostics_are_written_as_lsp_types_writes_them() {
        use std::sync::Arc;
        use svl_analysis::finding::{Emptiness, Related, ResourceRef};
        use svl_analysis::module::{FileFacts, FileKind, Frame};

        let main = format!("# é — 💣\n{}", include_str!("../../../examples/main.tf"));
        let network = include_str!("../../../examples/network.tf");
        let facts = |name: &str, text: &str| {
            Arc::new(FileFacts::extract(
                Path::new(&format!("/m/{name}")),
                FileKind::Hcl,
                Arc::new(text.to_owned()),
                None,
            ))
        };
        let files = [facts("main.tf", &main), facts("network.tf", network)];
        let index = Arc::new(ModuleIndex::new(PathBuf::from("/m"), files.to_vec()));
        let frames = vec![Arc::new(Frame::root(Arc::clone(&index)))];
        let mut findings: Vec<Finding> =
            svl_analysis::analyze_file(&files[0], &frames, &svl_analysis::Options::default());
        let rules: std::collections::BTreeSet<_> = findings.iter().map(|f| f.rule).collect();
        assert!(rules.len() >= 4, "{rules:?}");
        assert!(findings.iter().any(|f| !f.related.is_empty()));

        let at = |needle: &str| {
            let start = main.find(needle).expect("in the example");
            start..start + needle.len()
        };
        let resource = ResourceRef {
            kind: "aws_sagemaker_model".into(),
            name: "m\u{e9}\"q".into(),
            block: at("resource"),
            header: at("resource"),
        };
        let problems = [
            Problem::MissingVpcConfig,
            Problem::MissingAttribute {
                attribute: VpcAttribute::Subnets,
                vpc_config: at("resource"),
            },
            Problem::EmptyValue {
                attribute: VpcAttribute::SecurityGroupIds,
                value: at("resource"),
                emptiness: Emptiness::Null,
                vpc_config: at("resource"),
                resolved: true,
            },
            Problem::EmptyForEach {
                dynamic: at("resource"),
            },
            Problem::DuplicateVpcConfig {
                block: at("resource"),
            },
            Problem::Pitfall,
            Problem::NotChecked,
            Problem::NotFollowed,
            Problem::InvalidSuppression,
            Problem::ExpiredSuppression,
        ];
        let elsewhere = network.find("resource").expect("a block");
        for (i, problem) in problems.into_iter().enumerate() {
            findings.push(Finding {
                rule: ["sagemaker_model_in_vpc", "no_such_rule"][i % 2],
                severity: Severity::Warning,
                // A range after characters each encoding counts differently.
                range: if i % 2 == 0 {
                    at("💣")
                } else {
                    at("resource")
                },
                message: format!("quote \" backslash \\ line\n tab\t nul\u{0} é 💣 {i}").into(),
                resource: resource.clone(),
                problem,
                related: vec![
                    Related {
                        path: None,
                        range: at("vpc_config"),
                        message: "here \"too\"".into(),
                        cause: false,
                    },
                    Related {
                        path: Some(PathBuf::from("/m/network.tf")),
                        range: elsewhere..elsewhere + 8,
                        message: "in network.tf".into(),
                        cause: true,
                    },
                    Related {
                        path: Some(PathBuf::from("/elsewhere/gone.tf")),
                        range: 0..1,
                        message: "not in the module".into(),
                        cause: true,
                    },
                ][..i % 4]
                    .to_vec(),
                suppressed: None,
            });
        }

        let rope = Rope::from_str(&main);
        let uri = Url::parse("file:///m/main.tf").unwrap();
        let network_rope = Rope::from_str(network);
        let severities = [
            Severity::Error,
            Severity::Warning,
            Severity::Information,
            Severity::Hint,
        ];
        let mut ends = std::collections::BTreeSet::new();
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let mut diagnostics = Diagnostics::new(&rope, encoding, &uri, &index);
            for (n, finding) in findings.iter().enumerate() {
                let severity = severities[n % 4];
                let mut json = Vec::new();
                diagnostics.write(&mut json, finding, severity);
                let text = String::from_utf8(json.clone()).unwrap();
                let read: lsp::Diagnostic =
                    serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{e}: {text}"));
                assert_eq!(serde_json::to_string(&read).unwrap(), text);
                assert_eq!(read, diagnostics.diagnostic(finding, severity));

                assert_eq!(read.range, range(&rope, finding.range.clone(), encoding));
                if finding.range == at("💣") {
                    ends.insert((read.range.start.character, read.range.end.character));
                }
                assert_eq!(read.severity, Some(self::severity(severity)));
                assert_eq!(
                    read.code,
                    Some(lsp::NumberOrString::String(finding.rule.to_owned()))
                );
                let page = svl_analysis::rules::RULES
                    .iter()
                    .find(|r| r.doc().id == finding.rule)
                    .map(|r| r.doc().docs_url);
                assert_eq!(
                    read.code_description.map(|d| d.href.to_string()),
                    page.map(str::to_owned),
                    "{text}"
                );
                assert_eq!(read.source.as_deref(), Some(SOURCE));
                assert_eq!(read.message, finding.message.as_str());
                assert_eq!(read.tags, None);
                let key: FindingKey = serde_json::from_value(read.data.unwrap()).unwrap();
                assert_eq!(key, FindingKey::of(finding));

                let expected: Vec<lsp::DiagnosticRelatedInformation> = finding
                    .related
                    .iter()
                    .filter_map(|r| {
                        let location = match &r.path {
                            None => lsp::Location::new(
                                uri.clone(),
                                range(&rope, r.range.clone(), encoding),
                            ),
                            Some(p) if p == Path::new("/m/network.tf") => lsp::Location::new(
                                Url::parse("file:///m/network.tf").unwrap(),
                                range(&network_rope, r.range.clone(), encoding),
                            ),
                            Some(_) => return None,
                        };
                        Some(lsp::DiagnosticRelatedInformation {
                            location,
                            message: r.message.to_string(),
                        })
                    })
                    .collect();
                assert_eq!(
                    read.related_information.unwrap_or_default(),
                    expected,
                    "{text}"
                );
            }
        }
        // The bomb's columns, counted in each encoding.
        assert_eq!(ends, [(6, 7), (6, 8), (9, 13)].into());
    }
}
