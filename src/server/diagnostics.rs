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

/// Analyses a snapshot (pure: no protocol, no locks).
pub fn analyse(snapshot: &Snapshot) -> Analysed {
    let text = snapshot.rope.to_string();
    let findings = if is_terraform(&snapshot.uri, &snapshot.language_id) {
        analysis::analyze(&text, &snapshot.tree, &Context { scope: &NoScope })
    } else {
        Vec::new()
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

/// Schedules the analysis of the current state of `uri`.
pub fn schedule(session: &Arc<Session>, tx: &UnboundedSender<Publication>, uri: &Url) {
    let Some(snapshot) = session.snapshot(uri) else {
        return;
    };
    let session = Arc::clone(session);
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        // A newer change already landed: its own analysis will publish.
        if session.current_generation(&snapshot.uri) != Some(snapshot.generation) {
            return;
        }
        let config = session.config();
        let encoding = session.encoding();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let analysed = analyse(&snapshot);
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
            (analysed, diagnostics)
        }));
        let message = match result {
            Ok((analysed, diagnostics)) => Publication::Analysed {
                uri: snapshot.uri,
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
                Publication::Failed {
                    uri: snapshot.uri,
                    generation: snapshot.generation,
                    version: snapshot.version,
                }
            }
        };
        // The receiver only goes away when the server stops.
        let _ = tx.send(message);
    });
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
