//! Diagnostics as the text the client receives.
//!
//! A publish on a large document carries thousands of diagnostics, almost all
//! of them unchanged since the last keystroke. They are serialised once, on
//! the worker that computed them, straight from the protocol types (no
//! intermediate `serde_json::Value` tree to build, copy and drop on the
//! protocol loop); the loop compares texts to skip identical publishes and
//! hands the writer the finished message.

use std::sync::Arc;

#[cfg(test)]
use lsp_types::Diagnostic;

/// The diagnostics of one file: the JSON array sent in `publishDiagnostics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsJson {
    text: Arc<str>,
    count: usize,
}

impl Default for DiagnosticsJson {
    fn default() -> Self {
        Self::empty()
    }
}

impl DiagnosticsJson {
    pub fn empty() -> Self {
        Self {
            text: Arc::from("[]"),
            count: 0,
        }
    }

    /// Serialised in one go (what [`DiagnosticsJson::from_parts`] of each
    /// diagnostic serialised alone must equal).
    #[cfg(test)]
    pub fn new(diagnostics: &[Diagnostic]) -> Self {
        let text = serde_json::to_string(diagnostics)
            // Diagnostics are plain data: serialising them cannot fail.
            .unwrap_or_else(|_| "[]".to_owned());
        Self {
            text: Arc::from(text),
            count: diagnostics.len(),
        }
    }

    /// The array of diagnostics already serialised one by one.
    pub fn from_parts(parts: &[Arc<str>]) -> Self {
        let mut text = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>() + 2);
        text.push('[');
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(part);
        }
        text.push(']');
        Self {
            text: Arc::from(text),
            count: parts.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn len(&self) -> usize {
        self.count
    }
}

/// The whole `textDocument/publishDiagnostics` notification, in pieces to
/// write end to end: the diagnostics' JSON is shared, not copied.
pub fn notification(
    uri: &str,
    diagnostics: &DiagnosticsJson,
    version: Option<i32>,
) -> Vec<Arc<str>> {
    let uri = serde_json::Value::String(uri.to_owned()).to_string();
    let head = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":{uri},"diagnostics":"#
    );
    let tail = match version {
        Some(version) => format!(r#","version":{version}}}}}"#),
        None => "}}".to_owned(),
    };
    vec![
        Arc::from(head),
        Arc::clone(&diagnostics.text),
        Arc::from(tail),
    ]
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
