//! `didOpen`, `didChange`, `didClose`: keeping the document store in sync.
//!
//! Each function is synchronous and runs before its handler's first `.await`,
//! so notifications apply in the order the client sent them.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tower_lsp::lsp_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams, Url,
};

use crate::convert;
use crate::diagnostics::panic_message;
use crate::session::{Entry, Session};
use svl_analysis::document::{Change, ChangeWarning, Document};
use svl_analysis::module::FileKind;

/// Documents above this size are not analysed (one message says so).
pub const MAX_DOCUMENT_BYTES: usize = 128 * 1024 * 1024;

/// What a change notification led to.
pub enum ChangeOutcome {
    /// Applied: analyse the document again.
    Applied,
    /// The document was not open and the change could not recreate it.
    Unknown,
    /// Applying failed; the document was dropped until the client resends it.
    Dropped(String),
}

pub fn open(session: &Session, params: DidOpenTextDocumentParams) -> Option<Url> {
    let item = params.text_document;
    let Some(kind) = kind_of(&item.uri, &item.language_id) else {
        tracing::debug!(uri = %item.uri, language = item.language_id, "not Terraform; ignored");
        return None;
    };
    if item.text.len() > MAX_DOCUMENT_BYTES {
        tracing::warn!(uri = %item.uri, bytes = item.text.len(), "document too large; not analysed");
        return None;
    }
    let generation = session.next_generation();
    let entry = Entry::new(
        Document::new(&item.text, item.version),
        &item.uri,
        item.language_id,
        kind,
        generation,
    );
    session.docs().insert(item.uri.clone(), entry);
    Some(item.uri)
}

pub fn change(session: &Session, params: DidChangeTextDocumentParams) -> ChangeOutcome {
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    let changes: Vec<Change> = params
        .content_changes
        .into_iter()
        .map(convert::change)
        .collect();
    let encoding = session.encoding();
    let generation = session.next_generation();
    let mut docs = session.docs();
    let Some(entry) = docs.get_mut(&uri) else {
        // A full text lets us start over; a range change has nothing to apply to.
        let kind = kind_of(&uri, "");
        if let (Some(kind), Some(last_full)) =
            (kind, changes.iter().rposition(|c| c.range.is_none()))
        {
            tracing::warn!(%uri, version, "change for a document that is not open; resyncing from its full text");
            let mut doc = Document::new(&changes[last_full].text, version);
            doc.apply_changes(&changes[last_full + 1..], encoding);
            let entry = Entry::new(doc, &uri, String::new(), kind, generation);
            docs.insert(uri, entry);
            return ChangeOutcome::Applied;
        }
        tracing::warn!(%uri, version, "change for a document that is not open; ignored");
        return ChangeOutcome::Unknown;
    };
    if version <= entry.doc.version {
        tracing::warn!(
            %uri,
            version,
            previous = entry.doc.version,
            "document version went backwards or repeated; applying the change anyway"
        );
    }
    let started = std::time::Instant::now();
    let applied = catch_unwind(AssertUnwindSafe(|| {
        entry.doc.apply_changes(&changes, encoding)
    }));
    tracing::debug!(%uri, version, elapsed = ?started.elapsed(), "applied changes and re-parsed");
    match applied {
        Ok(applied) => {
            entry.record(applied.ops);
            for warning in applied.warnings {
                match warning {
                    ChangeWarning::Clamped { position, how } => tracing::warn!(
                        %uri,
                        version,
                        line = position.line,
                        character = position.col,
                        "change position out of range ({how:?}); clamped"
                    ),
                    ChangeWarning::Reversed => {
                        tracing::warn!(%uri, version, "change range ends before it starts; reversed")
                    }
                }
            }
            entry.doc.version = version;
            entry.generation = generation;
            entry.analysed = None;
            if entry.doc.rope.len_bytes() > MAX_DOCUMENT_BYTES {
                docs.remove(&uri);
                return ChangeOutcome::Dropped("the document grew past 128 MiB".to_owned());
            }
            ChangeOutcome::Applied
        }
        Err(panic) => {
            // The rope and tree may disagree now: never keep a wrong tree.
            docs.remove(&uri);
            let message = panic_message(&*panic);
            tracing::error!(%uri, version, "applying a change panicked: {message}; document dropped");
            ChangeOutcome::Dropped(message)
        }
    }
}

/// Forgets the document; returns its entry if it was open.
pub fn close(session: &Session, params: DidCloseTextDocumentParams) -> Option<Entry> {
    session.docs().remove(&params.text_document.uri)
}

/// What Terraform makes of a document: by its file name, else its language.
pub fn kind_of(uri: &Url, language_id: &str) -> Option<FileKind> {
    let by_name = uri
        .to_file_path()
        .ok()
        .and_then(|p| FileKind::of(&p))
        .or_else(|| {
            // Non-file URIs (untitled:, vscode-remote:): judge by the path.
            FileKind::of(std::path::Path::new(uri.path()))
        });
    by_name.or(match language_id {
        "terraform" => Some(FileKind::Hcl),
        "terraform-vars" => Some(FileKind::Tfvars),
        _ => None,
    })
}
