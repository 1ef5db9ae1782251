//! `workspace/executeCommand`: `sagemaker-vpc-lsp.fixAllInWorkspace` applies
//! every preferred fix of every Terraform file of the workspace through
//! `workspace/applyEdit` — the same edits `check --fix` writes (both come
//! from the project layer's fix planning), computed on the editor's buffers
//! where files are open.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use lsp_types::{
    DocumentChanges, ExecuteCommandParams, OneOf, OptionalVersionedTextDocumentIdentifier,
    TextDocumentEdit, TextEdit, Url, WorkspaceEdit,
};
use serde_json::{Value, json};
use svl_analysis::Options;
use svl_analysis::module::FileKind;
use svl_project::fixplan::{FileChange, fix_module};
use svl_project::{Source, Workspace};

use crate::analysis::lock;
use crate::capabilities::FIX_WORKSPACE_COMMAND;
use crate::protocol::code;
use crate::server::{Event, Outgoing, Server};

impl Server {
    pub(crate) fn execute_command(&mut self, id: Value, params: Value) {
        let params: ExecuteCommandParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                return self.reply_error(id, code::INVALID_PARAMS, format!("executeCommand: {e}"));
            }
        };
        if params.command != FIX_WORKSPACE_COMMAND {
            return self.reply_error(
                id,
                code::INVALID_PARAMS,
                format!("unknown command {:?}", params.command),
            );
        }
        if !self.support.apply_edit {
            return self.reply_error(
                id,
                code::INVALID_REQUEST,
                "this client cannot apply workspace edits (workspace.applyEdit)",
            );
        }
        // The buffers of open files, by path.
        let open: HashMap<PathBuf, (String, Arc<String>, i32)> = self
            .docs
            .iter()
            .filter_map(|(uri, d)| {
                Some((
                    d.path.clone()?,
                    (uri.clone(), Arc::clone(&d.doc.text), d.doc.version),
                ))
            })
            .collect();
        let workspace = Arc::clone(&self.workspace);
        let events = self.events.clone();
        let document_changes = self.support.document_changes;
        let encoding = self.encoding;
        let config = self.config.clone();
        self.requests.spawn(move || {
            let changes = plan(&workspace, &open, &|rule| config.rule_enabled(rule));
            if changes.is_empty() {
                let _ = events.send(Event::Reply {
                    id,
                    result: Ok(json!({"applied": true, "changedFiles": 0})),
                });
                return;
            }
            let edit = workspace_edit(&changes, &open, document_changes, encoding);
            let _ = events.send(Event::ClientRequest {
                method: "workspace/applyEdit".to_owned(),
                params: json!({"label": "Fix all sagemaker_model_in_vpc findings in the workspace", "edit": edit}),
                then: Outgoing::ApplyEdit {
                    reply_to: id,
                    changed: changes.len(),
                },
            });
        });
    }
}

/// The changes `check --fix` would make to every folder the workspace
/// knows, with open files' buffers in place of their files.
fn plan(
    workspace: &crate::analysis::SharedWorkspace,
    open: &HashMap<PathBuf, (String, Arc<String>, i32)>,
    wants: &dyn Fn(&str) -> bool,
) -> Vec<FileChange> {
    let folders: Vec<(PathBuf, Vec<Arc<svl_analysis::module::FileFacts>>)> = {
        let mut ws = lock(workspace);
        ws.folders()
            .into_iter()
            .map(|f| {
                let files = ws.module_index(&f).files.clone();
                (f, files)
            })
            .collect()
    };
    // A private workspace: fixes are planned in memory, never applied to
    // the server's own facts before the client applies them.
    let mut local = Workspace::default();
    let mut sources: BTreeMap<PathBuf, BTreeMap<PathBuf, Source>> = BTreeMap::new();
    for (folder, files) in &folders {
        let mut folder_sources = BTreeMap::new();
        for file in files {
            let text = match open.get(&file.path) {
                Some((_, text, _)) => text.as_str().to_owned(),
                None => file.text.as_str().to_owned(),
            };
            folder_sources.insert(file.path.clone(), Source::new(file.kind, text, false));
        }
        let facts = folder_sources.iter().map(|(p, s)| s.facts(p)).collect();
        local.add_scanned(folder.clone(), facts);
        sources.insert(folder.clone(), folder_sources);
    }
    let options = Options::default();
    let mut changes = Vec::new();
    for (_, folder_sources) in sources.iter_mut() {
        let targets: Vec<PathBuf> = folder_sources
            .iter()
            .filter(|(_, s)| s.kind == FileKind::Hcl)
            .map(|(p, _)| p.clone())
            .collect();
        changes.extend(fix_module(&mut local, folder_sources, &targets, &options, wants).changes);
    }
    changes
}

/// The smallest single edit turning `old` into `new`: their common prefix
/// and suffix stay.
fn minimal_edit(old: &str, new: &str) -> (std::ops::Range<usize>, String) {
    let (prefix, suffix) = svl_analysis::position::common_ends(old, new);
    // Whole characters only.
    let both = |i: usize, j: usize| old.is_char_boundary(i) && new.is_char_boundary(j);
    let prefix = (0..=prefix).rev().find(|&i| both(i, i)).unwrap_or(0);
    let suffix = (0..=suffix.min(old.len() - prefix).min(new.len() - prefix))
        .rev()
        .find(|&k| both(old.len() - k, new.len() - k))
        .unwrap_or(0);
    (
        prefix..old.len() - suffix,
        new[prefix..new.len() - suffix].to_owned(),
    )
}

fn workspace_edit(
    changes: &[FileChange],
    open: &HashMap<PathBuf, (String, Arc<String>, i32)>,
    document_changes: bool,
    encoding: svl_analysis::position::Encoding,
) -> WorkspaceEdit {
    let mut per_file: Vec<(Url, Option<i32>, TextEdit)> = Vec::new();
    for change in changes {
        let (uri, version) = match open.get(&change.path) {
            Some((uri, _, version)) => (Url::parse(uri).ok(), Some(*version)),
            None => (Url::from_file_path(&change.path).ok(), None),
        };
        let Some(uri) = uri else {
            continue;
        };
        let (range, new_text) = minimal_edit(&change.old_text, &change.new_text);
        let rope = ropey::Rope::from_str(&change.old_text);
        let edit = crate::convert::text_edit(
            &rope,
            &change.old_text,
            &svl_analysis::fix::TextEdit { range, new_text },
            encoding,
        );
        per_file.push((uri, version, edit));
    }
    if document_changes {
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(
                per_file
                    .into_iter()
                    .map(|(uri, version, edit)| TextDocumentEdit {
                        text_document: OptionalVersionedTextDocumentIdentifier { uri, version },
                        edits: vec![OneOf::Left(edit)],
                    })
                    .collect(),
            )),
            ..Default::default()
        }
    } else {
        WorkspaceEdit {
            changes: Some(
                per_file
                    .into_iter()
                    .map(|(uri, _, edit)| (uri, vec![edit]))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_edits_keep_common_ends() {
        for (old, new) in [
            ("abc", "abXc"),
            ("a = 1\n", "a = 1\nb = 2\n"),
            ("ß💣x", "ß💣yx"),
            ("same", "same"),
            ("", "new"),
        ] {
            let (range, text) = minimal_edit(old, new);
            let mut applied = old.to_owned();
            applied.replace_range(range, &text);
            assert_eq!(applied, new, "{old:?} → {new:?}");
        }
        let (range, _) = minimal_edit("a = 1\n", "a = 1\nb = 2\n");
        assert_eq!(range, 6..6);
    }
}
