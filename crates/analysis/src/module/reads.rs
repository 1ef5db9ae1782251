//! Which top-level blocks of its module a check read.
//!
//! A keystroke in a block other blocks read (a subnet, a security group)
//! changes the module's facts. The findings of an item that read none of
//! the blocks that changed are still its findings: only the items that
//! read one are checked again ([`crate::incremental::Incremental::check`]).
//! Every read of a block goes through the module index
//! ([`super::ModuleIndex`]), which records where the block is while a check
//! is recording; a value cached for the checks of a frame keeps the reads
//! that made it, and hands them to each check that takes it. What a check
//! read is kept by the blocks' keys (kind and labels:
//! [`super::ModuleIndex::keys_read`]), which a later index, where blocks
//! were added before them, still has.

use std::cell::RefCell;

/// Where a top-level block is in its module's index: (file, block).
pub(crate) type At = (usize, usize);

/// A block read: which index it was read in (its address while the
/// check runs), and where it is in it.
pub(crate) type Read = (usize, At);

/// The blocks one check read: where they are ([`Read`]), or their keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads<T = Read> {
    /// These, sorted, each once.
    Blocks(Box<[T]>),
    /// More than [`MAX_READS`]: taken as read whatever changes (a check
    /// that scans every resource of a type in a large module would keep a
    /// list as long as the module, for each model).
    All,
}

/// The most blocks a check's [`Reads`] lists.
const MAX_READS: usize = 256;

impl<T> Default for Reads<T> {
    fn default() -> Self {
        Reads::Blocks(Box::default())
    }
}

impl<T: Ord> Reads<T> {
    /// It read one of `changed`.
    pub(crate) fn any_of(&self, changed: &[T]) -> bool {
        match self {
            Reads::Blocks(read) => changed.iter().any(|at| read.binary_search(at).is_ok()),
            Reads::All => !changed.is_empty(),
        }
    }

    /// The reads of `blocks` (in any order, with repeats).
    pub(crate) fn of(mut blocks: Vec<T>) -> Self {
        blocks.sort_unstable();
        blocks.dedup();
        Reads::Blocks(blocks.into_boxed_slice())
    }
}

/// What one check has read so far.
#[derive(Default)]
struct Recording {
    /// With repeats, sorted and deduplicated when long.
    blocks: Vec<Read>,
    /// Past [`MAX_READS`].
    all: bool,
}

impl Recording {
    fn add(&mut self, read: impl IntoIterator<Item = Read>) {
        if self.all {
            return;
        }
        self.blocks.extend(read);
        if self.blocks.len() > 4 * MAX_READS {
            self.settle();
        }
    }

    fn take(&mut self, other: &Recording) {
        self.all |= other.all;
        self.add(other.blocks.iter().copied());
    }

    fn settle(&mut self) {
        self.blocks.sort_unstable();
        self.blocks.dedup();
        if self.blocks.len() > MAX_READS {
            self.all = true;
            self.blocks = Vec::new();
        }
    }

    fn done(mut self) -> Reads {
        self.settle();
        match self.all {
            true => Reads::All,
            false => Reads::Blocks(self.blocks.into_boxed_slice()),
        }
    }
}

thread_local! {
    /// What the checks running on this thread read, innermost last.
    static RECORDING: RefCell<Vec<Recording>> = const { RefCell::new(Vec::new()) };
}

/// Notes that the check running on this thread (if one records) read the
/// block at `at` of the index at address `index`.
pub(crate) fn read(index: usize, at: At) {
    RECORDING.with_borrow_mut(|stack| {
        if let Some(top) = stack.last_mut() {
            top.add([(index, at)]);
        }
    });
}

/// Notes every read of `reads`, made for a value this check takes from a
/// cache.
pub(crate) fn replay(reads: &Reads) {
    RECORDING.with_borrow_mut(|stack| {
        if let Some(top) = stack.last_mut() {
            match reads {
                Reads::Blocks(read) => top.add(read.iter().copied()),
                Reads::All => top.all = true,
            }
        }
    });
}

/// Runs `f`, recording what it reads; what it read counts as read by the
/// check around it too (a value cached in the middle of a check).
pub(crate) fn recording<R>(f: impl FnOnce() -> R) -> (R, Reads) {
    RECORDING.with_borrow_mut(|stack| stack.push(Recording::default()));
    // Popped if `f` panics: a panicking check leaves no recording on.
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            let _ = RECORDING.try_with(|r| r.borrow_mut().pop());
        }
    }
    let pop = Pop;
    let out = f();
    std::mem::forget(pop);
    let mine = RECORDING.with_borrow_mut(|stack| {
        let mine = stack.pop().unwrap_or_default();
        if let Some(outer) = stack.last_mut() {
            outer.take(&mine);
        }
        mine
    });
    (out, mine.done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nest_and_are_kept_once_in_order() {
        read(1, (9, 9)); // not recording: nothing
        let ((), outer) = recording(|| {
            read(1, (2, 1));
            let ((), inner) = recording(|| {
                read(1, (1, 5));
                read(1, (1, 5));
            });
            assert_eq!(inner, Reads::Blocks([(1, (1, 5))].into()));
            replay(&Reads::Blocks([(1, (0, 3))].into()));
            read(1, (2, 1));
        });
        assert_eq!(
            outer,
            Reads::Blocks([(1, (0, 3)), (1, (1, 5)), (1, (2, 1))].into())
        );
        assert!(outer.any_of(&[(1, (1, 5))]));
        assert!(!outer.any_of(&[(1, (1, 4)), (2, (2, 1))]));
        let ((), none) = recording(|| {});
        assert!(!none.any_of(&[(1, (0, 0))]));
    }

    /// A check that reads more than [`MAX_READS`] blocks counts as reading
    /// every block; so does one that takes a value made so.
    #[test]
    fn a_check_that_reads_much_reads_all() {
        let ((), many) = recording(|| {
            // Repeats count once.
            for _ in 0..10 {
                (0..=MAX_READS).for_each(|b| read(1, (0, b)));
            }
        });
        assert_eq!(many, Reads::All);
        assert!(many.any_of(&[(1, (7, 7))]));
        assert!(!many.any_of(&[]));
        let ((), bounded) = recording(|| {
            for _ in 0..10 {
                (0..MAX_READS).for_each(|b| read(1, (0, b)));
            }
        });
        assert!(!bounded.any_of(&[(1, (7, 7))]));
        let ((), taking) = recording(|| {
            read(1, (1, 1));
            replay(&many);
        });
        assert_eq!(taking, Reads::All);
    }
}
