//! `textDocument/hover`: what the rules say about the resource under the
//! cursor (each rule's `explain`: the control, why it matters, what applying
//! a fix does, and this resource's verdict). Computed on a worker, only
//! converted here.

use std::sync::Arc;

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};
use serde_json::Value;
use svl_analysis::module::FileKind;

use crate::analysis;
use crate::convert;
use crate::protocol::code;
use crate::server::Server;

impl Server {
    pub(crate) fn hover(&mut self, id: Value, params: Value) {
        let raw_uri = params
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let params: HoverParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => return self.reply_error(id, code::INVALID_PARAMS, format!("hover: {e}")),
        };
        let uri = raw_uri.unwrap_or_else(|| {
            params
                .text_document_position_params
                .text_document
                .uri
                .to_string()
        });
        let Some(doc) = self.docs.get(&uri) else {
            return self.reply(id, Value::Null);
        };
        if !self.config.enable {
            return self.reply(id, Value::Null);
        }
        let snapshot = doc.snapshot(&uri);
        let current = doc.current();
        let workspace = Arc::clone(&self.workspace);
        let encoding = self.encoding;
        let position = params.text_document_position_params.position;
        self.spawn_request(id, move |_| {
            let analyzed = match current {
                Some(a) => a,
                None => Arc::new(analysis::analyze(&workspace, &snapshot, None).0),
            };
            if !matches!(analyzed.kind, FileKind::Hcl | FileKind::Json) {
                return Ok(Value::Null);
            }
            let (offset, _) = convert::offset(&analyzed.rope, position, encoding);
            let Some(explanation) =
                svl_analysis::explain(&analyzed.facts, &analyzed.frames, offset)
            else {
                return Ok(Value::Null);
            };
            let hover = Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: explanation.markdown,
                }),
                range: Some(convert::range(&analyzed.rope, explanation.span, encoding)),
            };
            Ok(serde_json::to_value(hover).unwrap_or(Value::Null))
        });
    }
}
