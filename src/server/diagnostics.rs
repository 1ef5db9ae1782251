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
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp::Client;
use tower_lsp::lsp_types::{Diagnostic, Url};

use crate::analysis::incremental::Incremental;
use crate::analysis::{self, Context, eval::NoScope};
use crate::server::convert;
use crate::server::session::{Analysed, Session, Snapshot};

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

/// Is this document Terraform configuration the control applies to?
pub fn is_terraform(uri: &Url, language_id: &str) -> bool {
    language_id == "terraform" || uri.path().ends_with(".tf")
}

/// Analyses a snapshot from scratch (pure: no protocol, no locks).
pub fn analyse(snapshot: &Snapshot) -> Analysed {
    analyse_with(snapshot, None)
}

/// Analyses a snapshot, reusing `cache` (brought up to this snapshot's
/// text) when given.
fn analyse_with(snapshot: &Snapshot, cache: Option<&mut Incremental>) -> Analysed {
    let text = Arc::clone(&snapshot.text);
    inject_fault(&text);
    let ctx = Context { scope: &NoScope };
    let findings = if !is_terraform(&snapshot.uri, &snapshot.language_id) {
        Vec::new()
    } else if let Some(cache) = cache {
        cache.analyze(&text, &snapshot.tree, &ctx).0
    } else {
        analysis::analyze(&text, &snapshot.tree, &ctx)
    };
    Analysed {
        generation: snapshot.generation,
        version: snapshot.version,
        text,
        tree: snapshot.tree.clone(),
        rope: snapshot.rope.clone(),
        findings,
    }
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
        let result = catch_unwind(AssertUnwindSafe(|| {
            let analysed = analyse_with(&snapshot, Some(&mut cache));
            let analysed_at = started.elapsed();
            let diagnostics = if config.enable {
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
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
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
