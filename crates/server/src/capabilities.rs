//! What the server advertises: only what it implements.

use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, ExecuteCommandOptions,
    HoverProviderCapability, InitializeResult, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
};
use serde_json::Value;
use svl_analysis::position::Encoding;

use crate::convert;
use crate::server::ClientSupport;

/// The code action kind of "fix everything in this file".
pub const FIX_ALL_KIND: &str = "source.fixAll.sagemaker-vpc-lsp";
/// The command that applies every preferred fix of the workspace.
pub const FIX_WORKSPACE_COMMAND: &str = "sagemaker-vpc-lsp.fixAllInWorkspace";

pub fn initialize_result(encoding: Encoding, support: &ClientSupport) -> Value {
    let result = InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(convert::encoding_kind(encoding)),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    ..Default::default()
                },
            )),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![
                    CodeActionKind::QUICKFIX,
                    CodeActionKind::new(FIX_ALL_KIND),
                ]),
                resolve_provider: Some(support.resolve_edit),
                ..Default::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: vec![FIX_WORKSPACE_COMMAND.to_owned()],
                ..Default::default()
            }),
            ..Default::default()
        },
        server_info: Some(ServerInfo {
            name: "sagemaker-vpc-lsp".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    serde_json::to_value(result).unwrap_or(Value::Null)
}
