//! The language server: a thin front end over the project layer, on stdio.
//!
//! stdout is the protocol channel; logs go to stderr through `tracing`. The
//! server speaks JSON-RPC itself (see `ARCHITECTURE.md` for why): a reader
//! thread frames stdin, one protocol loop keeps the state and routes, worker
//! pools do the work, a writer thread frames stdout.

mod actions;
mod analysis;
mod capabilities;
mod commands;
mod config;
mod convert;
mod docs;
mod hover;
mod indexing;
mod parent;
mod pool;
mod protocol;
mod published;
mod server;
mod transport;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::unbounded;

/// Serves LSP on stdin/stdout until the client exits. Returns the process
/// exit code: 0 after `shutdown` then `exit`, 1 if the stream ended without
/// a `shutdown` (the LSP spec's rule) or the client's process died.
/// `client_process` is `--clientProcessId`, watched like
/// `initialize.processId`.
pub fn run(client_process: Option<u32>) -> u8 {
    // Memory a closed document freed goes back to the system.
    svl_trim::fix_thresholds();
    // rayon's workers check the items of a document being opened too: they
    // need the analysis's stack.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(svl_analysis::ANALYSIS_STACK_SIZE)
        .build_global();
    let (out, writer) = transport::spawn_writer(transport::stdout());
    let (events_tx, events_rx) = unbounded();
    let forward = events_tx.clone();
    // Set when stdin closes: parses on the protocol loop give up at once so
    // the loop reaches the end of the input without finishing work nobody
    // will read.
    let input_closed = Arc::new(AtomicBool::new(false));
    let closed_flag = Arc::clone(&input_closed);
    let _reader = transport::spawn_reader(std::io::stdin(), move |input| {
        if matches!(input, transport::Input::Closed) {
            closed_flag.store(true, Ordering::Relaxed);
        }
        forward.send(server::Event::Input(input)).is_ok()
    });
    let code = server::Server::new(out, events_tx, client_process, input_closed).run(events_rx);
    // What was answered goes out; work still running has nobody to report
    // to and is abandoned with the process.
    writer.finish(Duration::from_millis(200));
    code
}
