//! Dropping what an update replaced, off the thread that replaced it.
//!
//! A keystroke in a large document replaces the module's index and the
//! file's facts: tens of thousands of blocks whose last reference goes with
//! them. Freeing them takes milliseconds the user would wait for before the
//! diagnostics are sent, so they are handed to one background thread
//! instead. [`settle_then`] waits until everything handed over so far is freed
//! (before memory is given back to the system, say).

use std::sync::OnceLock;

use crossbeam_channel::{Sender, bounded, unbounded};

enum Retired {
    Value(#[allow(dead_code)] Box<dyn Send>),
    /// Everything sent before it is dropped: run the job (on this thread),
    /// then say so.
    Settle(Sender<()>, Box<dyn FnOnce() + Send>),
}

fn queue() -> Option<&'static Sender<Retired>> {
    static QUEUE: OnceLock<Option<Sender<Retired>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = unbounded::<Retired>();
            let spawned = std::thread::Builder::new()
                .name("retire".into())
                .spawn(move || {
                    for retired in rx {
                        match retired {
                            Retired::Value(value) => drop(value),
                            Retired::Settle(done, job) => {
                                job();
                                let _ = done.send(());
                            }
                        }
                    }
                });
            match spawned {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::warn!("no thread to drop replaced values on ({e}): dropped in place");
                    None
                }
            }
        })
        .as_ref()
}

/// Drops `value` on the background thread (in place if there is none).
pub fn retire<T: Send + 'static>(value: T) {
    match queue() {
        Some(tx) => {
            if let Err(e) = tx.send(Retired::Value(Box::new(value))) {
                drop(e.into_inner());
            }
        }
        None => drop(value),
    }
}

/// Waits until every value retired before this call is dropped and `job`
/// has run on the thread that dropped them (to give back that thread's
/// memory, say); `job` runs here if there is no such thread.
pub fn settle_then(job: impl FnOnce() + Send + 'static) {
    let Some(tx) = queue() else {
        job();
        return;
    };
    let (done_tx, done_rx) = bounded(1);
    if tx.send(Retired::Settle(done_tx, Box::new(job))).is_ok() {
        let _ = done_rx.recv();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counted(Arc<AtomicUsize>, std::thread::ThreadId);

    impl Drop for Counted {
        fn drop(&mut self) {
            assert_ne!(std::thread::current().id(), self.1, "dropped in place");
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn retired_values_are_dropped_elsewhere_and_settled() {
        let dropped = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            retire(Counted(Arc::clone(&dropped), std::thread::current().id()));
        }
        settle_then(|| {});
        assert_eq!(dropped.load(Ordering::SeqCst), 100);
        retire(Counted(Arc::clone(&dropped), std::thread::current().id()));
        let (tx, rx) = std::sync::mpsc::channel();
        let here = std::thread::current().id();
        settle_then(move || {
            let _ = tx.send(std::thread::current().id() != here);
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 101);
        assert_eq!(
            rx.try_recv(),
            Ok(true),
            "the job ran on the retiring thread"
        );
    }
}
