//! `textDocument/codeAction` and `codeAction/resolve`.
//!
//! Listing is cheap: titles and kinds from the analysis (each action carries
//! in `data` which finding and which fix it is). Edits are computed when the
//! client resolves an action — or, for clients without resolve support,
//! while listing, in time linear in the file. Both run on a worker; the
//! protocol loop only gathers what they need (a snapshot of the document,
//! the texts of its open neighbours).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionParams, Diagnostic, DocumentChanges, OneOf,
    OptionalVersionedTextDocumentIdentifier, TextDocumentEdit, TextEdit, Url, WorkspaceEdit,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use svl_analysis::fix::{self, Fix, Offer, OfferKind, declaration_edit_styled};
use svl_analysis::module::FileKind;
use svl_analysis::position::Encoding;
use svl_analysis::{Finding, Placed};
use svl_project::fixplan::{declaration_edit, declaration_target};
use svl_project::folder_of;

use crate::analysis::{self, Analyzed, SharedWorkspace, Snapshot};
use crate::capabilities::FIX_ALL_KIND;
use crate::config::Config;
use crate::convert::{self, FindingKey};
use crate::pool::Cancel;
use crate::protocol::code;
use crate::server::Server;

/// What a listed action says it is, for `codeAction/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ActionData {
    uri: String,
    version: i32,
    /// The finding it fixes (`None`: fix all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finding: Option<FindingKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offer: Option<OfferKind>,
}

/// An open document of the same folder: its URI, text and version.
#[derive(Clone)]
struct OpenFile {
    uri: String,
    text: Arc<String>,
    version: i32,
}

/// Everything a code action job needs, gathered on the protocol loop.
struct Job {
    snapshot: Snapshot,
    current: Option<Arc<Analyzed>>,
    open: HashMap<PathBuf, OpenFile>,
    workspace: SharedWorkspace,
    config: Config,
    encoding: Encoding,
    document_changes: bool,
}

impl Job {
    fn analyzed(&self) -> Arc<Analyzed> {
        match &self.current {
            Some(a) => Arc::clone(a),
            None => Arc::new(analysis::analyze(&self.workspace, &self.snapshot, None).0),
        }
    }
}

fn admits(only: Option<&Vec<CodeActionKind>>, kind: &str) -> bool {
    match only {
        None => true,
        Some(kinds) => kinds.iter().any(|k| {
            let k = k.as_str();
            kind == k || kind.starts_with(&format!("{k}."))
        }),
    }
}

impl Server {
    fn action_job(&self, uri: &str) -> Option<Job> {
        let doc = self.docs.get(uri)?;
        let folder = doc.path.as_deref().map(folder_of);
        let open = self
            .docs
            .iter()
            .filter_map(|(u, d)| {
                let path = d.path.clone()?;
                (Some(folder_of(&path)) == folder).then(|| {
                    (
                        path,
                        OpenFile {
                            uri: u.clone(),
                            text: Arc::clone(&d.doc.text),
                            version: d.doc.version,
                        },
                    )
                })
            })
            .collect();
        Some(Job {
            snapshot: doc.snapshot(uri),
            current: doc.current(),
            open,
            workspace: Arc::clone(&self.workspace),
            config: self.config.clone(),
            encoding: self.encoding,
            document_changes: self.support.document_changes,
        })
    }

    pub(crate) fn code_action(&mut self, id: Value, params: Value) {
        let raw_uri = params
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let params: CodeActionParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                return self.reply_error(id, code::INVALID_PARAMS, format!("codeAction: {e}"));
            }
        };
        let uri = raw_uri.unwrap_or_else(|| params.text_document.uri.to_string());
        let Some(job) = self.action_job(&uri) else {
            return self.reply(id, json!([]));
        };
        let eager = !self.support.resolve_edit;
        self.spawn_request(id, move |cancel| Ok(list(&job, &params, eager, cancel)));
    }

    pub(crate) fn resolve_code_action(&mut self, id: Value, params: Value) {
        let action: CodeAction = match serde_json::from_value(params) {
            Ok(a) => a,
            Err(e) => {
                return self.reply_error(
                    id,
                    code::INVALID_PARAMS,
                    format!("codeAction/resolve: {e}"),
                );
            }
        };
        let data: Option<ActionData> = action
            .data
            .clone()
            .and_then(|d| serde_json::from_value(d).ok());
        let Some(data) = data else {
            return self.reply_error(
                id,
                code::INVALID_PARAMS,
                "codeAction/resolve: not one of our code actions",
            );
        };
        let Some(job) = self.action_job(&data.uri) else {
            // Closed meanwhile: nothing to edit.
            return self.reply(id, serde_json::to_value(action).unwrap_or(Value::Null));
        };
        self.spawn_request(id, move |cancel| {
            let mut action = action;
            action.edit = resolve(&job, &data, cancel);
            Ok(serde_json::to_value(action).unwrap_or(Value::Null))
        });
    }
}

/// The actions at a range: quick fixes of the findings there, and fix-all.
fn list(job: &Job, params: &CodeActionParams, eager: bool, cancel: &Cancel) -> Value {
    let analyzed = job.analyzed();
    // Fixes write HCL; a JSON file is usually generated and gets none.
    if !job.config.enable || analyzed.findings.is_empty() || analyzed.kind != FileKind::Hcl {
        return json!([]);
    }
    let only = params.context.only.as_ref();
    let want_quickfix = admits(only, CodeActionKind::QUICKFIX.as_str());
    let want_fix_all = admits(only, FIX_ALL_KIND);
    let encoding = job.encoding;
    let rope = &analyzed.rope;
    // Quick fixes parse the blocks they read, not the whole document.
    let ctx = analyzed.fix_context(false);
    // Where they were made: each is placed (copied) once it is wanted.
    let findings: Vec<Placed<'_>> = analyzed
        .findings
        .iter()
        .filter(|p| job.config.rule_enabled(p.as_made().rule))
        .collect();
    let mut actions = Vec::new();
    if want_quickfix {
        let (start, _) = convert::offset(rope, params.range.start, encoding);
        let (end, _) = convert::offset(rope, params.range.end, encoding);
        for placed in &findings {
            if cancel.is_cancelled() {
                return json!([]);
            }
            let key = FindingKey::of(placed.as_made());
            let client_diagnostic = params.context.diagnostics.iter().find(|d| {
                d.source.as_deref() == Some(convert::SOURCE)
                    && d.data
                        .as_ref()
                        .and_then(|data| serde_json::from_value::<FindingKey>(data.clone()).ok())
                        .is_some_and(|k| k == key)
            });
            let range = placed.range();
            let touches = range.start <= end && start <= range.end;
            if client_diagnostic.is_none() && !touches {
                continue;
            }
            let finding = &placed.to_finding();
            let diagnostic: Diagnostic = client_diagnostic.cloned().unwrap_or_else(|| {
                convert::Diagnostics::new(rope, encoding, &job.snapshot.url, &analyzed.index)
                    .diagnostic(finding, job.config.severity_of(finding))
            });
            for offer in fix::offers_for(finding, &ctx) {
                let mut action = CodeAction {
                    title: offer.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    is_preferred: Some(offer.preferred),
                    data: serde_json::to_value(ActionData {
                        uri: job.snapshot.uri.clone(),
                        version: analyzed.version,
                        finding: Some(key.clone()),
                        offer: Some(offer.kind),
                    })
                    .ok(),
                    ..Default::default()
                };
                if eager {
                    let Some(fix) = fix::fix_for(finding, &ctx, &offer) else {
                        continue;
                    };
                    action.edit = Some(workspace_edit(job, &analyzed, &fix));
                }
                actions.push(action);
            }
        }
    }
    if want_fix_all && findings.iter().any(|p| fix::fixable(&p.as_made().problem)) {
        let mut action = CodeAction {
            title: "Fix all sagemaker_model_in_vpc findings".to_owned(),
            kind: Some(CodeActionKind::new(FIX_ALL_KIND)),
            data: serde_json::to_value(ActionData {
                uri: job.snapshot.uri.clone(),
                version: analyzed.version,
                finding: None,
                offer: None,
            })
            .ok(),
            ..Default::default()
        };
        let mut keep = true;
        if eager {
            let owned: Vec<Finding> = findings.iter().map(Placed::to_finding).collect();
            match fix::fix_all(&owned, &analyzed.fix_context(true)) {
                Some(fix) => action.edit = Some(workspace_edit(job, &analyzed, &fix)),
                None => keep = false,
            }
        }
        if keep {
            actions.push(action);
        }
    }
    serde_json::to_value(actions).unwrap_or_else(|_| json!([]))
}

/// The edit of a listed action, against the document as it is now.
fn resolve(job: &Job, data: &ActionData, cancel: &Cancel) -> Option<WorkspaceEdit> {
    let analyzed = job.analyzed();
    if cancel.is_cancelled() || analyzed.kind != FileKind::Hcl {
        return None;
    }
    let fix = match (&data.finding, data.offer) {
        (Some(key), Some(kind)) => {
            let ctx = analyzed.fix_context(false);
            let finding = &analyzed
                .findings
                .iter()
                .find(|p| FindingKey::of(p.as_made()) == *key)?
                .to_finding();
            let offer: Offer = fix::offers_for(finding, &ctx)
                .into_iter()
                .find(|o| o.kind == kind)?;
            fix::fix_for(finding, &ctx, &offer)?
        }
        _ => {
            let findings: Vec<Finding> = analyzed
                .findings
                .iter()
                .filter(|p| job.config.rule_enabled(p.as_made().rule))
                .map(|p| p.to_finding())
                .collect();
            fix::fix_all(&findings, &analyzed.fix_context(true))?
        }
    };
    Some(workspace_edit(job, &analyzed, &fix))
}

/// Turns a [`Fix`] into a `WorkspaceEdit`: its edits in the document, and
/// the variables it needs declared where the project layer says (the
/// folder's `variables.tf`, else the document's end).
fn workspace_edit(job: &Job, analyzed: &Analyzed, fix: &Fix) -> WorkspaceEdit {
    let encoding = job.encoding;
    let doc_url = &job.snapshot.url;
    let mut per_file: Vec<(Url, Option<i32>, Vec<TextEdit>)> = Vec::new();
    let text = &analyzed.text;
    let rope = &analyzed.rope;
    let mut own: Vec<TextEdit> = fix
        .edits
        .iter()
        .map(|e| convert::text_edit(rope, text, e, encoding))
        .collect();
    if !fix.declare.is_empty() {
        let target = job
            .snapshot
            .path
            .as_ref()
            .map(|p| declaration_target(p, &analyzed.index));
        let elsewhere = target.filter(|t| Some(t) != job.snapshot.path.as_ref());
        match elsewhere {
            Some(target) => {
                // The editor's text if it is open, else the file's.
                let (uri, target_text, version) = match job.open.get(&target) {
                    Some(open) => (
                        Url::parse(&open.uri).ok(),
                        Arc::clone(&open.text),
                        Some(open.version),
                    ),
                    None => (
                        Url::from_file_path(&target).ok(),
                        analyzed
                            .index
                            .files
                            .iter()
                            .find(|f| f.path == target)
                            .map(|f| Arc::clone(&f.text))
                            .unwrap_or_default(),
                        None,
                    ),
                };
                if let (Some(uri), Some(edit)) =
                    (uri, declaration_edit(&target_text, None, &fix.declare))
                {
                    let target_rope = ropey::Rope::from_str(&target_text);
                    per_file.push((
                        uri,
                        version,
                        vec![convert::text_edit(
                            &target_rope,
                            &target_text,
                            &edit,
                            encoding,
                        )],
                    ));
                }
            }
            None => {
                // At the end of this document, as it will be after the
                // fix's own edits (which never reach its end).
                if let Some(edit) = declaration_edit_styled(text, analyzed.style(), &fix.declare) {
                    own.push(convert::text_edit(rope, text, &edit, encoding));
                }
            }
        }
    }
    // Edits of the files where the causes are declared (the VPC, a
    // security group), against the text the analysis read.
    for (path, edits) in &fix.elsewhere {
        if job.snapshot.path.as_ref() == Some(path) {
            own.extend(
                edits
                    .iter()
                    .map(|e| convert::text_edit(rope, text, e, encoding)),
            );
            continue;
        }
        let known = analyzed
            .frames
            .iter()
            .flat_map(|f| {
                let mut frames = vec![&**f];
                let mut at = &**f;
                while let Some(call) = &at.call {
                    at = &call.parent;
                    frames.push(at);
                }
                frames
            })
            .flat_map(|f| f.index.files.iter())
            .find(|f| f.path == *path)
            .map(|f| Arc::clone(&f.text));
        let (uri, other_text, version) = match job.open.get(path) {
            Some(open) => (
                Url::parse(&open.uri).ok(),
                Arc::clone(&open.text),
                Some(open.version),
            ),
            None => (
                Url::from_file_path(path).ok(),
                known.unwrap_or_default(),
                None,
            ),
        };
        let Some(uri) = uri else { continue };
        let other_rope = ropey::Rope::from_str(&other_text);
        let converted: Vec<TextEdit> = edits
            .iter()
            .map(|e| convert::text_edit(&other_rope, &other_text, e, encoding))
            .collect();
        match per_file.iter_mut().find(|(u, _, _)| *u == uri) {
            Some((_, _, existing)) => existing.extend(converted),
            None => per_file.push((uri, version, converted)),
        }
    }
    per_file.insert(0, (doc_url.clone(), Some(analyzed.version), own));
    if job.document_changes {
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(
                per_file
                    .into_iter()
                    .map(|(uri, version, edits)| TextDocumentEdit {
                        text_document: OptionalVersionedTextDocumentIdentifier { uri, version },
                        edits: edits.into_iter().map(OneOf::Left).collect(),
                    })
                    .collect(),
            )),
            ..Default::default()
        }
    } else {
        let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
        for (uri, _, edits) in per_file {
            changes.entry(uri).or_default().extend(edits);
        }
        WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_filters_hierarchically() {
        let kinds =
            |k: &[&'static str]| k.iter().map(|s| CodeActionKind::new(s)).collect::<Vec<_>>();
        assert!(admits(None, "quickfix"));
        assert!(admits(Some(&kinds(&["quickfix"])), "quickfix"));
        assert!(!admits(Some(&kinds(&["quickfix"])), FIX_ALL_KIND));
        assert!(admits(Some(&kinds(&["source.fixAll"])), FIX_ALL_KIND));
        assert!(admits(Some(&kinds(&["source"])), FIX_ALL_KIND));
        assert!(!admits(
            Some(&kinds(&["source.organizeImports"])),
            FIX_ALL_KIND
        ));
        assert!(!admits(Some(&kinds(&["refactor"])), "quickfix"));
    }
}
