//! JSON-RPC 2.0 as LSP uses it: telling requests, notifications and
//! responses apart, and building replies. Messages stay `serde_json::Value`s
//! here; params are turned into `lsp_types` by the handlers that read them.

use serde_json::{Value, json};

/// The error codes the server answers with.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    pub const SERVER_NOT_INITIALIZED: i64 = -32002;
    pub const REQUEST_CANCELLED: i64 = -32800;
}

/// A message from the client, classified.
#[derive(Debug)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    Response {
        id: Value,
        result: Option<Value>,
        error: Option<Value>,
    },
    /// Not a JSON-RPC 2.0 message: answered `-32600` (with its id, if it
    /// has a usable one).
    Invalid {
        id: Value,
        why: String,
    },
}

fn usable_id(id: &Value) -> bool {
    matches!(id, Value::Number(_) | Value::String(_))
}

/// Classifies a parsed message. `params` absent reads as `null`.
pub fn classify(value: Value) -> Message {
    let Value::Object(mut map) = value else {
        return Message::Invalid {
            id: Value::Null,
            why: "a message must be a JSON object".to_owned(),
        };
    };
    let id = map.remove("id");
    let invalid = |id: Option<&Value>, why: &str| Message::Invalid {
        id: id.filter(|i| usable_id(i)).cloned().unwrap_or(Value::Null),
        why: why.to_owned(),
    };
    if map.get("jsonrpc") != Some(&json!("2.0")) {
        return invalid(
            id.as_ref(),
            "not a JSON-RPC 2.0 message (\"jsonrpc\": \"2.0\" is missing)",
        );
    }
    match map.remove("method") {
        Some(Value::String(method)) => {
            let params = map.remove("params").unwrap_or(Value::Null);
            match id {
                None => Message::Notification { method, params },
                Some(id) if usable_id(&id) => Message::Request { id, method, params },
                Some(id) if id.is_null() => Message::Invalid {
                    id: Value::Null,
                    why: "a request id must be a number or a string".to_owned(),
                },
                Some(id) => invalid(Some(&id), "a request id must be a number or a string"),
            }
        }
        Some(_) => invalid(id.as_ref(), "\"method\" must be a string"),
        None => match id {
            Some(id) if map.contains_key("result") || map.contains_key("error") => {
                Message::Response {
                    id,
                    result: map.remove("result"),
                    error: map.remove("error"),
                }
            }
            id => invalid(
                id.as_ref(),
                "neither a request, a notification nor a response",
            ),
        },
    }
}

pub fn response(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

pub fn request(id: Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        assert!(matches!(
            classify(json!({"jsonrpc": "2.0", "id": 1, "method": "shutdown", "params": null})),
            Message::Request { .. }
        ));
        assert!(matches!(
            classify(json!({"jsonrpc": "2.0", "method": "exit"})),
            Message::Notification { .. }
        ));
        assert!(matches!(
            classify(json!({"jsonrpc": "2.0", "id": 4, "result": null})),
            Message::Response { .. }
        ));
        match classify(json!({"jsonrpc": "2.0", "id": 7, "method": 3})) {
            Message::Invalid { id, .. } => assert_eq!(id, json!(7)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(classify(json!([1, 2])), Message::Invalid { .. }));
        assert!(matches!(
            classify(json!({"id": 1, "method": "x"})),
            Message::Invalid { .. }
        ));
    }
}
