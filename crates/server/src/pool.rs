//! Worker threads for everything slower than routing a message: analyses,
//! code actions, hover, indexing. The protocol loop hands jobs over and
//! reads their results from its event channel; it never waits for one.
//!
//! A job that panics is caught (and reported by its own result); the
//! thread lives on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Sender, select, unbounded};

type Job = Box<dyn FnOnce() + Send>;

pub struct Pool {
    tx: Sender<Job>,
    /// One per worker: asks it to give back its idle stack pages.
    trims: Vec<Sender<svl_trim::Keep>>,
}

impl Pool {
    /// `threads` workers named `name-N`.
    pub fn new(name: &str, threads: usize) -> Self {
        let (tx, rx) = unbounded::<Job>();
        let mut trims = Vec::new();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let (trim_tx, trim_rx) = unbounded::<svl_trim::Keep>();
            trims.push(trim_tx);
            let name = name.to_owned();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .stack_size(svl_analysis::ANALYSIS_STACK_SIZE)
                .spawn(move || {
                    loop {
                        select! {
                            recv(rx) -> job => {
                                let Ok(job) = job else { break };
                                if let Err(panic) = catch_unwind(AssertUnwindSafe(job)) {
                                    tracing::error!("a {name} job panicked: {}", panic_message(&*panic));
                                }
                            }
                            recv(trim_rx) -> trim => {
                                let Ok(keep) = trim else { break };
                                release_thread_memory(keep);
                                tracing::debug!("{name}-{i}: memory released");
                            }
                        }
                    }
                })
                .expect("spawning a thread");
        }
        Self { tx, trims }
    }

    /// Asks every worker to give back the stack pages its deepest job
    /// touched and the free top of its arena, once it is done with the job
    /// at hand (after a 10 MB document, both stayed resident otherwise).
    pub fn release_memory(&self, keep: svl_trim::Keep) {
        for trim in &self.trims {
            let _ = trim.send(keep);
        }
    }

    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        let _ = self.tx.send(Box::new(job));
    }
}

/// Gives back the calling thread's idle stack pages and its arena's free
/// top (what a worker or a parsing thread keeps after a large document),
/// and, when nothing is kept for the next job, the buffers its parsers
/// grew to (renewed after each idle second of typing, the next keystroke
/// would only grow them again).
pub fn release_thread_memory(keep: svl_trim::Keep) {
    if keep == svl_trim::Keep::Nothing {
        svl_analysis::syntax::release_parsers();
    }
    let stack = svl_trim::release_unused_stack();
    let heap = svl_trim::release_free_memory(keep);
    tracing::debug!(stack, heap, "thread memory released");
}

/// A request's cancellation flag (`$/cancelRequest` sets it).
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
