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

/// Drops `value` on the background thread (in place if there is none);
/// inside [`batched`], once the batch ends.
pub fn retire<T: Send + 'static>(value: T) {
    let value: Box<dyn Send> = Box::new(value);
    let value = BATCH.with_borrow_mut(|batch| match batch {
        Some(held) => {
            held.push(value);
            None
        }
        None => Some(value),
    });
    if let Some(value) = value {
        hand_over(value);
    }
}

fn hand_over(value: Box<dyn Send>) {
    match queue() {
        Some(tx) => {
            if let Err(e) = tx.send(Retired::Value(value)) {
                drop(e.into_inner());
            }
        }
        None => drop(value),
    }
}

std::thread_local! {
    /// What [`retire`] was given inside [`batched`] on this thread.
    static BATCH: std::cell::RefCell<Option<Vec<Box<dyn Send>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `job`, holding what it retires on this thread until it ends (or
/// unwinds), then hands it all over at once. Each hand-over wakes the
/// background thread: updating the workspace retires a few things (the
/// file's facts, the module's index), and waking the thread for each cost
/// about a sixth of a small keystroke's analysis (`perf`, 10 KB). Keep the
/// batch short: what it holds is freed only after it, and freed during
/// the publish of a large document it slowed the publish (10 MB). Nested
/// calls join the outer batch.
pub fn batched<R>(job: impl FnOnce() -> R) -> R {
    struct Flush;
    impl Drop for Flush {
        fn drop(&mut self) {
            let held = BATCH.with_borrow_mut(Option::take).unwrap_or_default();
            if !held.is_empty() {
                hand_over(Box::new(held));
            }
        }
    }
    if BATCH.with_borrow(Option::is_some) {
        return job();
    }
    BATCH.with_borrow_mut(|batch| *batch = Some(Vec::new()));
    let _flush = Flush;
    job()
}

/// How many values [`retire`] holds on this thread for the batch it is in.
#[cfg(test)]
fn held() -> usize {
    BATCH.with_borrow(|b| b.as_ref().map_or(0, Vec::len))
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
    fn a_batch_hands_over_when_it_ends_even_unwinding() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let here = std::thread::current().id();
        let held = batched(|| {
            for _ in 0..3 {
                retire(Counted(Arc::clone(&dropped), here));
            }
            // Nested: the same batch.
            batched(|| retire(Counted(Arc::clone(&dropped), here)));
            held()
        });
        assert_eq!(held, 4, "held until the batch ends");
        assert_eq!(super::held(), 0);
        settle_then(|| {});
        assert_eq!(dropped.load(Ordering::SeqCst), 4, "handed over at its end");
        let unwound = std::panic::catch_unwind(|| {
            batched(|| {
                retire(Counted(Arc::clone(&dropped), here));
                panic!("the job failed");
            })
        });
        assert!(unwound.is_err());
        assert_eq!(super::held(), 0, "no batch left open");
        settle_then(|| {});
        assert_eq!(dropped.load(Ordering::SeqCst), 5, "handed over unwinding");
        // Outside a batch, at once.
        retire(Counted(Arc::clone(&dropped), here));
        assert_eq!(super::held(), 0);
        settle_then(|| {});
        assert_eq!(dropped.load(Ordering::SeqCst), 6);
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
