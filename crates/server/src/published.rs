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
/// held as its diagnostics serialised one by one. They are written end to
/// end, never joined into one string: a publish of a large document is
/// mostly diagnostics memoised since the last keystroke, shared as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsJson {
    parts: Arc<[Arc<str>]>,
}

impl Default for DiagnosticsJson {
    fn default() -> Self {
        Self::empty()
    }
}

impl DiagnosticsJson {
    pub fn empty() -> Self {
        Self {
            parts: Arc::from(Vec::new()),
        }
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
    pub fn from_parts(parts: Vec<Arc<str>>) -> Self {
        Self {
            parts: Arc::from(parts),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.parts.len()
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
