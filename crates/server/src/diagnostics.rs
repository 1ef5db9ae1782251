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
use crate::workspace::folder_of;
use svl_analysis::incremental::{self, Incremental};
use svl_analysis::module::{FileFacts, FileKind, ModuleIndex, ModuleScope};
use svl_analysis::position::Encoding;
use svl_analysis::suppress::Date;
use svl_analysis::{self, Context};

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
/// the folder whose module facts that changed, if they did.
fn analyse_with(
    session: &Session,
    snapshot: &Snapshot,
    mut cache: Option<&mut Incremental>,
) -> (Analysed, Option<PathBuf>) {
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
        (true, Some(cache)) => {
            FileFacts::from_items(&path, snapshot.kind, Arc::clone(&text), cache.item_facts())
        }
        _ => FileFacts::extract(
            &path,
            snapshot.kind,
            Arc::clone(&text),
            Some(&snapshot.tree),
        ),
    };
    let facts = Arc::new(facts);
    // Facts of unsaved buffers count for the whole module.
    let (index, changed) = if snapshot.path.is_some() {
        let mut workspace = session.workspace();
        let changed = workspace.put_open(Arc::clone(&facts));
        (
            workspace.index(&folder_of(&path)),
            changed.then(|| folder_of(&path)),
        )
    } else {
        (Arc::new(ModuleIndex::new(vec![Arc::clone(&facts)])), None)
    };
    let scope = ModuleScope::new(&index);
    let ctx = Context {
        scope: &scope,
        module: Some(&index),
        path: Some(&path),
        today: Date::today(),
        suppressions: true,
    };
    let findings = match snapshot.kind {
        FileKind::Tfvars | FileKind::TfvarsJson => Vec::new(),
        FileKind::Json => svl_analysis::analyze_json(&text, &ctx),
        FileKind::Hcl => match cache {
            Some(cache) if sync.usable => {
                cache
                    .check(&text, &snapshot.tree, &ctx, index.fingerprint())
                    .0
            }
            _ => svl_analysis::analyze(&text, &snapshot.tree, &ctx),
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
        kind: snapshot.kind,
    };
    (analysed, changed)
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
        let mut module_changed = None;
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
        // is checked again against them.
        if let Some(folder) = module_changed {
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
