//! Analysis off the protocol loop, and one publisher that keeps order.
//!
//! Every change bumps the document's generation and schedules an analysis of
//! a snapshot on the blocking pool. An analysis that starts after a newer
//! change has landed is skipped; one that finishes late is dropped by the
//! publisher, the only task that sends `textDocument/publishDiagnostics`, which
//! checks each result against the document's current generation. A panic in
//! analysis is caught: it is logged and the document's diagnostics are cleared
//! (never left stale), and the server keeps serving.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp::Client;
use tower_lsp::lsp_types::{Diagnostic, Url};

use crate::config::Config;
use crate::convert;
use crate::session::{Analysed, Session, Snapshot};
use svl_analysis::incremental::{self, Incremental};
use svl_analysis::module::{FileFacts, FileKind, Frame, ModuleIndex};
use svl_analysis::position::Encoding;
use svl_project::folder_of;

/// What the publisher is asked to send.
pub enum Publication {
    /// Findings of one generation, already converted.
    Analysed {
        uri: Url,
        analysed: Arc<Analysed>,
        diagnostics: Vec<Diagnostic>,
    },
    /// The document closed: clear its diagnostics.
    Closed(Url),
    /// Analysis of this generation panicked: clear rather than keep stale ones.
    Failed {
        uri: Url,
        generation: u64,
        version: i32,
    },
}

/// Analyses a snapshot from scratch (no cache), with the workspace's module
/// facts.
pub fn analyse(session: &Session, snapshot: &Snapshot) -> Analysed {
    analyse_with(session, snapshot, None).0
}

/// Analyses a snapshot, reusing `cache` (brought up to this snapshot's text)
/// when given. Records the document's facts in the workspace first; returns
/// the folders whose instances that changed (the document's own, and those
/// it calls), if it did.
fn analyse_with(
    session: &Session,
    snapshot: &Snapshot,
    mut cache: Option<&mut Incremental>,
) -> (Analysed, Vec<PathBuf>) {
    let text = Arc::clone(&snapshot.text);
    inject_fault(&text);
    let path = snapshot
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(snapshot.uri.path()));
    let sync = match (snapshot.kind, cache.as_deref_mut()) {
        (FileKind::Hcl, Some(cache)) => cache.sync(&text, &snapshot.tree),
        _ => incremental::Sync::default(),
    };
    let facts = match (sync.usable, cache.as_deref()) {
        (true, Some(cache)) => FileFacts::from_parts(
            &path,
            snapshot.kind,
            Arc::clone(&text),
            cache.blocks(),
            Vec::new(),
        ),
        _ => FileFacts::extract(
            &path,
            snapshot.kind,
            Arc::clone(&text),
            Some(&snapshot.tree),
        ),
    };
    let facts = Arc::new(facts);
    // Facts of unsaved buffers count for the whole module (and the modules
    // it calls).
    let (index, frames, changed) = if snapshot.path.is_some() {
        let mut workspace = session.workspace();
        let folder = folder_of(&path);
        let changed = workspace.put_open(Arc::clone(&facts));
        let mut changed_folders = Vec::new();
        if changed {
            changed_folders.push(folder.clone());
            changed_folders.extend(workspace.dependents(&folder));
        }
        (
            workspace.module_index(&folder),
            workspace.frames(&folder),
            changed_folders,
        )
    } else {
        let index = Arc::new(ModuleIndex::new(folder_of(&path), vec![Arc::clone(&facts)]));
        let frames = vec![Arc::new(Frame::root(Arc::clone(&index)))];
        (index, frames, Vec::new())
    };
    let options = svl_analysis::Options::default();
    let findings = match snapshot.kind {
        FileKind::Tfvars | FileKind::TfvarsJson => Vec::new(),
        FileKind::Json => svl_analysis::analyze_file(&facts, &frames, &options),
        FileKind::Hcl => match cache {
            Some(cache) if sync.usable => {
                let fingerprint = {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    for frame in &frames {
                        frame.fingerprint().hash(&mut h);
                    }
                    h.finish()
                };
                cache
                    .check(fingerprint, |block| {
                        svl_analysis::analyze_block(&path, block, &frames, &options)
                    })
                    .0
            }
            _ => svl_analysis::analyze_file(&facts, &frames, &options),
        },
    };
    let analysed = Analysed {
        generation: snapshot.generation,
        version: snapshot.version,
        text,
        tree: snapshot.tree.clone(),
        rope: snapshot.rope.clone(),
        findings: findings
            .into_iter()
            .filter(|f| f.suppressed.is_none())
            .collect(),
        index,
        frames,
        facts,
        kind: snapshot.kind,
    };
    (analysed, changed)
}

/// The analysis of the document as it is now (computed here if the last
/// scheduled one has not landed yet).
pub fn current_analysis(session: &Session, uri: &Url) -> Option<Arc<Analysed>> {
    if let Some(analysed) = session.current_analysis(uri) {
        return Some(analysed);
    }
    let snapshot = session.snapshot(uri)?;
    let analysed = Arc::new(analyse(session, &snapshot));
    session.store_analysis(uri, Arc::clone(&analysed));
    Some(analysed)
}

/// The diagnostics of an analysis, or none for a file that is not
/// configuration (tfvars are only read for their values).
fn diagnostics_of(
    analysed: &Analysed,
    snapshot: &Snapshot,
    config: &Config,
    encoding: Encoding,
) -> Vec<Diagnostic> {
    if !config.enable || !snapshot.kind.is_config() {
        return Vec::new();
    }
    let mut texts = convert::OtherFiles::new(&analysed.index);
    analysed
        .findings
        .iter()
        .map(|f| {
            convert::diagnostic(
                f,
                &analysed.rope,
                encoding,
                &snapshot.uri,
                config.severity,
                analysed.version,
                &mut texts,
            )
        })
        .collect()
}

/// Schedules the analysis of the current state of `uri`. Analyses of one
/// document run one at a time: if one is running, it re-runs for the latest
/// state when it ends (so bursts of keystrokes coalesce).
pub fn schedule(session: &Arc<Session>, tx: &UnboundedSender<Publication>, uri: &Url) {
    let (snapshot, mut cache) = {
        let mut docs = session.docs();
        let Some(entry) = docs.get_mut(uri) else {
            return;
        };
        if entry.analysing {
            return; // the running analysis re-checks the generation at its end
        }
        entry.analysing = true;
        let cache = entry.cache.take().unwrap_or_default();
        (Session::snapshot_of(uri, entry), cache)
    };
    let session = Arc::clone(session);
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let config = session.config();
        let encoding = session.encoding();
        let started = std::time::Instant::now();
        let mut module_changed = Vec::new();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let (analysed, changed) = analyse_with(&session, &snapshot, Some(&mut cache));
            module_changed = changed;
            let analysed_at = started.elapsed();
            let diagnostics = diagnostics_of(&analysed, &snapshot, &config, encoding);
            tracing::debug!(
                uri = %snapshot.uri,
                version = snapshot.version,
                findings = analysed.findings.len(),
                analysis = ?analysed_at,
                total = ?started.elapsed(),
                "analysed"
            );
            (analysed, diagnostics)
        }));
        let message = match result {
            Ok((analysed, diagnostics)) => Publication::Analysed {
                uri: snapshot.uri.clone(),
                analysed: Arc::new(analysed),
                diagnostics,
            },
            Err(panic) => {
                tracing::error!(
                    uri = %snapshot.uri,
                    version = snapshot.version,
                    "analysis panicked: {}; clearing its diagnostics",
                    panic_message(&*panic)
                );
                // The cache may be half-updated: start it over.
                cache.invalidate();
                Publication::Failed {
                    uri: snapshot.uri.clone(),
                    generation: snapshot.generation,
                    version: snapshot.version,
                }
            }
        };
        // The receiver only goes away when the server stops.
        let _ = tx.send(message);
        // Hand the cache back, with the changes it missed meanwhile.
        let again = {
            let mut docs = session.docs();
            match docs.get_mut(&snapshot.uri) {
                Some(entry) => {
                    for op in entry.pending.drain(..) {
                        cache.apply(&op);
                    }
                    entry.cache = Some(cache);
                    entry.analysing = false;
                    entry.generation != snapshot.generation
                }
                None => false,
            }
        };
        if again {
            schedule(&session, &tx, &snapshot.uri);
        }
        // Its facts changed the module: every other open file of the module
        // (and of the modules it calls) is checked again against them.
        for folder in module_changed {
            for uri in session.open_in(&folder) {
                if uri != snapshot.uri {
                    session.touch(&uri);
                    schedule(&session, &tx, &uri);
                }
            }
        }
    });
}

/// Fault injection for the end-to-end tests (debug builds only): with
/// `SAGEMAKER_VPC_LSP_FAULT=analysis`, analysing a text that contains
/// `FAULT-INJECTION` panics, so the tests can prove a panic is contained.
fn inject_fault(text: &str) {
    if cfg!(debug_assertions)
        && std::env::var("SAGEMAKER_VPC_LSP_FAULT").as_deref() == Ok("analysis")
        && text.contains("FAULT-INJECTION")
    {
        panic!("injected analysis fault");
    }
}

pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// The publisher: the only sender of diagnostics, in the order results come.
pub async fn run_publisher(
    client: Client,
    session: Arc<Session>,
    mut rx: UnboundedReceiver<Publication>,
) {
    while let Some(message) = rx.recv().await {
        match message {
            Publication::Analysed {
                uri,
                analysed,
                diagnostics,
            } => {
                let version = analysed.version;
                // Stale (a newer generation exists) or closed meanwhile: drop.
                if !session.store_analysis(&uri, analysed) {
                    tracing::debug!(%uri, version, "dropping a stale analysis");
                    continue;
                }
                client
                    .publish_diagnostics(uri, diagnostics, Some(version))
                    .await;
            }
            Publication::Closed(uri) => {
                client.publish_diagnostics(uri, Vec::new(), None).await;
            }
            Publication::Failed {
                uri,
                generation,
                version,
            } => {
                if session.current_generation(&uri) == Some(generation) {
                    client
                        .publish_diagnostics(uri, Vec::new(), Some(version))
                        .await;
                }
            }
        }
    }
}
