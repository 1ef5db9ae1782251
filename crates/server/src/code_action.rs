//! `textDocument/codeAction`: quick fixes per finding, and
//! `source.fixAll.sagemaker-vpc-lsp` for the whole document.
//!
//! Fixes are recomputed from the current document rather than trusted from
//! the client: `Diagnostic.data` only identifies which finding a diagnostic
//! was, so clients that drop `data` still get fixes by range.

use std::collections::HashMap;

use tower_lsp::lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Diagnostic, DocumentChanges,
    OneOf, OptionalVersionedTextDocumentIdentifier, TextDocumentEdit, TextEdit, Url, WorkspaceEdit,
};

use crate::convert::{self, FindingKey};
use crate::diagnostics::current_analysis;
use crate::session::{Analysed, Session};
use svl_analysis::fix::{self, Fix, FixContext};
use svl_analysis::module::FileKind;
use svl_analysis::position::Encoding;
use svl_analysis::{Finding, syntax};

pub const FIX_ALL_KIND: &str = "source.fixAll.sagemaker-vpc-lsp";

pub fn fix_all_kind() -> CodeActionKind {
    CodeActionKind::new(FIX_ALL_KIND)
}

/// Does the client's `only` filter admit `kind`? Kinds are hierarchical:
/// `source.fixAll` admits `source.fixAll.sagemaker-vpc-lsp`.
fn admits(only: Option<&Vec<CodeActionKind>>, kind: &str) -> bool {
    match only {
        None => true,
        Some(kinds) => kinds.iter().any(|k| {
            let k = k.as_str();
            kind == k || kind.starts_with(&format!("{k}."))
        }),
    }
}

pub fn code_actions(session: &Session, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    let uri = &params.text_document.uri;
    let config = session.config();
    if !config.enable {
        return Vec::new();
    }
    let Some(analysed) = current_analysis(session, uri) else {
        return Vec::new();
    };
    // Fixes write HCL; JSON files are usually generated and get none.
    if analysed.findings.is_empty() || analysed.kind != FileKind::Hcl {
        return Vec::new();
    }
    let encoding = session.encoding();
    let only = params.context.only.as_ref();
    let want_quickfix = admits(only, CodeActionKind::QUICKFIX.as_str());
    let want_fix_all = admits(only, FIX_ALL_KIND);
    if !want_quickfix && !want_fix_all {
        return Vec::new();
    }

    let ctx = FixContext {
        src: &analysed.text,
        tree: &analysed.tree,
        module: &analysed.index,
    };
    let edits = EditBuilder {
        uri,
        analysed: &analysed,
        variables_file: variables_file(session, uri, &analysed),
        encoding,
        document_changes: session.support().document_changes,
    };

    let mut actions = Vec::new();
    if want_quickfix {
        let (start, _) = convert::offset(&analysed.rope, params.range.start, encoding);
        let (end, _) = convert::offset(&analysed.rope, params.range.end, encoding);
        for finding in &analysed.findings {
            let diagnostic =
                matching_diagnostic(finding, &params.context.diagnostics, analysed.version);
            let touches = finding.range.start <= end && start <= finding.range.end;
            if diagnostic.is_none() && !touches {
                continue;
            }
            let diagnostic = diagnostic.cloned().unwrap_or_else(|| {
                convert::diagnostic(
                    finding,
                    &analysed.rope,
                    encoding,
                    uri,
                    config.severity,
                    analysed.version,
                    &mut convert::OtherFiles::new(&analysed.index),
                )
            });
            for fix in fix::fixes_for(finding, &ctx) {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(edits.workspace_edit(&fix)),
                    is_preferred: Some(fix.preferred),
                    ..Default::default()
                }));
            }
        }
    }
    if want_fix_all && let Some(fix) = fix::fix_all(&analysed.findings, &ctx) {
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: fix.title.clone(),
            kind: Some(fix_all_kind()),
            diagnostics: None,
            edit: Some(edits.workspace_edit(&fix)),
            is_preferred: None,
            ..Default::default()
        }));
    }
    actions
}

/// The client's diagnostic for `finding`, matched by its `data` key.
fn matching_diagnostic<'d>(
    finding: &Finding,
    diagnostics: &'d [Diagnostic],
    version: i32,
) -> Option<&'d Diagnostic> {
    let key = FindingKey::of(finding, Some(version));
    diagnostics.iter().find(|d| {
        d.source.as_deref() == Some(convert::SOURCE)
            && d.data
                .as_ref()
                .and_then(|data| serde_json::from_value::<FindingKey>(data.clone()).ok())
                .is_some_and(|k| k.same_finding(&key))
    })
}

/// The module's `variables.tf` (not the document itself), with the text and
/// version the editor has if it is open.
struct VariablesFile {
    uri: Url,
    text: String,
    version: Option<i32>,
}

fn variables_file(session: &Session, uri: &Url, analysed: &Analysed) -> Option<VariablesFile> {
    let path = uri.to_file_path().ok()?;
    let target = svl_project::fixplan::declaration_target(&path, &analysed.index);
    if target == path {
        return None;
    }
    if let Some((uri, text, version)) = session.open_text_at(&target) {
        return Some(VariablesFile {
            uri,
            text,
            version: Some(version),
        });
    }
    let facts = analysed.index.files.iter().find(|f| f.path == target)?;
    Some(VariablesFile {
        uri: Url::from_file_path(&target).ok()?,
        text: facts.text.as_str().to_owned(),
        version: None,
    })
}

/// Turns a [`Fix`] into a `WorkspaceEdit`: its edits in the document, and the
/// variables it needs declared in `variables.tf` (else the document's end).
struct EditBuilder<'a> {
    uri: &'a Url,
    analysed: &'a Analysed,
    variables_file: Option<VariablesFile>,
    encoding: Encoding,
    document_changes: bool,
}

impl EditBuilder<'_> {
    fn workspace_edit(&self, fix: &Fix) -> WorkspaceEdit {
        let mut per_file: Vec<(Url, Option<i32>, Vec<TextEdit>)> = Vec::new();
        let own: Vec<TextEdit> = fix
            .edits
            .iter()
            .map(|e| convert::text_edit(&self.analysed.rope, e, self.encoding))
            .collect();
        per_file.push((self.uri.clone(), Some(self.analysed.version), own));

        match &self.variables_file {
            Some(file) => {
                let tree = syntax::parse(&file.text, None);
                if let Some(edit) = fix::declaration_edit(&file.text, &tree, &fix.declare) {
                    let rope = ropey::Rope::from_str(&file.text);
                    per_file.push((
                        file.uri.clone(),
                        file.version,
                        vec![convert::text_edit(&rope, &edit, self.encoding)],
                    ));
                }
            }
            None => {
                // Declare at the end of this document, as it will be after
                // the fix's own edits (which never reach its end).
                let text = &self.analysed.text;
                let tree = syntax::parse(text, None);
                if let Some(edit) = fix::declaration_edit(text, &tree, &fix.declare) {
                    per_file[0].2.push(convert::text_edit(
                        &self.analysed.rope,
                        &edit,
                        self.encoding,
                    ));
                }
            }
        }

        if self.document_changes {
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
