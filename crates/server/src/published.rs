//! Diagnostics as the text the client receives.
//!
//! A publish on a large document carries thousands of diagnostics, almost all
//! of them unchanged since the last keystroke. They are serialised once, on
//! the worker that computed them, straight from the protocol types (no
//! intermediate `serde_json::Value` tree to build, copy and drop on the
//! protocol loop); the loop compares texts to skip identical publishes and
//! hands the writer the finished message.

use std::sync::Arc;

use crate::transport::Joined;

#[cfg(test)]
use lsp_types::Diagnostic;

/// The diagnostics of one file: the JSON array sent in `publishDiagnostics`,
/// held in parts (each one diagnostic, or several joined by commas). They
/// are written end to end, never joined into one string: a publish of a
/// large document is mostly diagnostics memoised since the last keystroke,
/// shared as they are. Equal when they write the same text.
#[derive(Debug, Clone)]
pub struct DiagnosticsJson {
    parts: Arc<[Arc<str>]>,
    /// How many diagnostics.
    count: usize,
    /// How many bytes they take, written (parts joined by commas).
    bytes: usize,
}

impl PartialEq for DiagnosticsJson {
    fn eq(&self, other: &Self) -> bool {
        if self.count != other.count || self.bytes != other.bytes {
            return false;
        }
        // Alike part by part (shared, mostly), else as written.
        let aligned = self.parts.len() == other.parts.len()
            && self
                .parts
                .iter()
                .zip(other.parts.iter())
                .all(|(a, b)| a.len() == b.len());
        if aligned {
            return self
                .parts
                .iter()
                .zip(other.parts.iter())
                .all(|(a, b)| a == b);
        }
        let written = |parts: &[Arc<str>]| -> Vec<u8> {
            let mut out = Vec::with_capacity(self.bytes);
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(part.as_bytes());
            }
            out
        };
        written(&self.parts) == written(&other.parts)
    }
}

impl Eq for DiagnosticsJson {}

impl Default for DiagnosticsJson {
    fn default() -> Self {
        Self::empty()
    }
}

impl DiagnosticsJson {
    pub fn empty() -> Self {
        Self::from_segments(Vec::new(), 0)
    }

    /// Each diagnostic serialised alone (what [`DiagnosticsJson::from_parts`]
    /// of the memoised pieces must equal).
    #[cfg(test)]
    pub fn new(diagnostics: &[Diagnostic]) -> Self {
        Self::from_parts(
            diagnostics
                .iter()
                // Diagnostics are plain data: serialising them cannot fail.
                .map(|d| Arc::from(serde_json::to_string(d).unwrap_or_else(|_| "null".into())))
                .collect(),
        )
    }

    /// The array of diagnostics already serialised one by one.
    #[cfg(test)]
    pub fn from_parts(parts: Vec<Arc<str>>) -> Self {
        let count = parts.len();
        Self::from_segments(parts, count)
    }

    /// The array of `count` diagnostics serialised in parts, each one or
    /// more diagnostics joined by commas (none empty).
    pub fn from_segments(parts: Vec<Arc<str>>, count: usize) -> Self {
        Self {
            bytes: parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1),
            parts: Arc::from(parts),
            count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// How many diagnostics.
    pub fn len(&self) -> usize {
        self.count
    }

    /// In how many parts they are held.
    #[cfg(test)]
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// How many of the parts are `other`'s, shared.
    #[cfg(test)]
    pub fn parts_shared_with(&self, other: &Self) -> usize {
        self.parts
            .iter()
            .filter(|p| other.parts.iter().any(|o| Arc::ptr_eq(p, o)))
            .count()
    }
}

/// The whole `textDocument/publishDiagnostics` notification, in pieces to
/// write end to end: the diagnostics' JSON is shared, not copied.
pub fn notification(uri: &str, diagnostics: &DiagnosticsJson, version: Option<i32>) -> Joined {
    let uri = serde_json::Value::String(uri.to_owned()).to_string();
    Joined {
        head: format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":{uri},"diagnostics":["#
        ),
        items: Arc::clone(&diagnostics.parts),
        tail: match version {
            Some(version) => format!(r#"],"version":{version}}}}}"#),
            None => "]}}".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{DiagnosticSeverity, Position, Range};
    use serde_json::{Value, json};

    fn diagnostic(message: &str) -> Diagnostic {
        Diagnostic {
            range: Range::new(Position::new(1, 2), Position::new(1, 7)),
            severity: Some(DiagnosticSeverity::WARNING),
            message: message.to_owned(),
            ..Diagnostic::default()
        }
    }

    #[test]
    fn the_message_is_the_notification_the_value_form_would_be() {
        let diagnostics = vec![diagnostic("a \"quoted\" \\ message\n"), diagnostic("é💣")];
        let uri = "file:///a%20b/\"odd\".tf";
        for version in [Some(7), None] {
            let text = notification(uri, &DiagnosticsJson::new(&diagnostics), version).concat();
            let parsed: Value = serde_json::from_str(&text).unwrap();
            let mut params = json!({"uri": uri, "diagnostics": diagnostics});
            if let Some(v) = version {
                params["version"] = json!(v);
            }
            let expected = json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": params});
            assert_eq!(parsed, expected);
        }
    }

    /// Equal when written alike, however they are held in parts.
    #[test]
    fn equal_when_written_alike() {
        let parts = |p: &[&str], count| {
            DiagnosticsJson::from_segments(p.iter().map(|s| Arc::from(*s)).collect(), count)
        };
        let one_by_one = parts(&["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"], 3);
        assert_eq!(one_by_one, parts(&["{\"a\":1},{\"b\":2}", "{\"c\":3}"], 3));
        assert_eq!(one_by_one, parts(&["{\"a\":1},{\"b\":2},{\"c\":3}"], 3));
        assert_ne!(one_by_one, parts(&["{\"a\":1},{\"b\":2},{\"c\":4}"], 3));
        assert_ne!(
            one_by_one,
            parts(&["{\"a\":1}", "{\"b\":2}", "{\"c\":4}"], 3)
        );
        assert_ne!(one_by_one, parts(&["{\"a\":1}", "{\"b\":2}"], 2));
    }

    #[test]
    fn empty_and_equal() {
        assert!(DiagnosticsJson::empty().is_empty());
        assert_eq!(DiagnosticsJson::new(&[]), DiagnosticsJson::empty());
        let one = DiagnosticsJson::new(&[diagnostic("x")]);
        assert_eq!(one.len(), 1);
        assert_eq!(one, DiagnosticsJson::new(&[diagnostic("x")]));
        assert_ne!(one, DiagnosticsJson::new(&[diagnostic("y")]));
    }
}
