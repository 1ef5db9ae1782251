//! The language server: a thin front end over the analysis core, on stdio.
//!
//! stdout is the protocol channel; logs go to stderr through `tracing`.

pub mod backend;
pub mod code_action;
pub mod config;
pub mod convert;
pub mod diagnostics;
pub mod documents;
pub mod hover;
pub mod indexing;
pub mod session;
pub mod transport;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tower_lsp::{LspService, Server};

use backend::Backend;
use session::Session;

/// Serves LSP on stdin/stdout until the client exits. Returns the process
/// exit code: 0 after `shutdown` then `exit`, 1 if the stream ended without
/// a `shutdown` (the LSP spec's rule).
pub fn run() -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(async {
        let session = Arc::new(Session::default());
        let shutdown = Arc::new(AtomicBool::new(false));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (service, socket) = {
            let session = Arc::clone(&session);
            let shutdown = Arc::clone(&shutdown);
            LspService::new(move |client| {
                tokio::spawn(diagnostics::run_publisher(
                    client.clone(),
                    Arc::clone(&session),
                    rx,
                ));
                Backend::new(client, session, tx, shutdown)
            })
        };
        let (input, output, pumps) = transport::guard(tokio::io::stdin(), tokio::io::stdout());
        Server::new(input, output, socket).serve(service).await;
        pumps.finish().await;
        if shutdown.load(Ordering::SeqCst) {
            0
        } else {
            1
        }
    });
    // An analysis still running on the blocking pool has nobody to report to.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}
