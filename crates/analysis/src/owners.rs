//! Cloning and dropping many shared values at once.
//!
//! An open document's blocks and findings are shared (`Arc`): each new
//! version of its facts holds a handle to every block (40,000 at 10 MB), and
//! each analysis one to every run of findings. A handle's clone or drop
//! updates the value's count of owners, seldom in the cache after a
//! keystroke's other work; that update is a locked instruction, which waits
//! for the count's memory before the next can start, so the misses came one
//! after another: cloning the blocks of a 10 MB document took about 3 ms of
//! a keystroke's 10 ms analysis. Here the counts of the next few values are
//! read first, with plain loads the processor overlaps, then the values are
//! cloned or dropped.

/// How many counts are read ahead of the values cloned or dropped.
const AHEAD: usize = 16;

/// Clones of `items`, appended to `out` in order. `owners` reads a value's
/// count of owners (`Arc::strong_count`): what a clone updates.
pub(crate) fn clone_all<'a, T: Clone + 'a>(
    items: impl IntoIterator<Item = &'a T>,
    owners: impl Fn(&T) -> usize,
    out: &mut Vec<T>,
) {
    let mut items = items.into_iter();
    let mut window: Vec<&T> = Vec::with_capacity(AHEAD);
    loop {
        window.clear();
        window.extend(items.by_ref().take(AHEAD));
        if window.is_empty() {
            return;
        }
        let read: usize = window.iter().map(|item| owners(item)).sum();
        std::hint::black_box(read);
        out.extend(window.iter().copied().cloned());
    }
}

/// Drops `items`, in order, reading ahead as [`clone_all`] does.
pub(crate) fn drop_all<T>(items: Vec<T>, owners: impl Fn(&T) -> usize) {
    let mut items = items.into_iter();
    loop {
        let ahead = items.as_slice();
        if ahead.is_empty() {
            break;
        }
        let n = ahead.len().min(AHEAD);
        let read: usize = ahead[..n].iter().map(&owners).sum();
        std::hint::black_box(read);
        for item in items.by_ref().take(n) {
            drop(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn clones_are_appended_in_order_and_drops_give_every_value_back() {
        // More than one window, and not a whole number of them.
        let values: Vec<Arc<usize>> = (0..AHEAD * 3 + 5).map(Arc::new).collect();
        let mut out = vec![Arc::new(usize::MAX)];
        clone_all(&values, Arc::strong_count, &mut out);
        assert_eq!(out.len(), values.len() + 1);
        assert!(out[1..].iter().zip(&values).all(|(a, b)| Arc::ptr_eq(a, b)));
        assert!(values.iter().all(|v| Arc::strong_count(v) == 2));
        drop_all(out, Arc::strong_count);
        assert!(values.iter().all(|v| Arc::strong_count(v) == 1));
        let mut none = Vec::new();
        clone_all(&values[..0], Arc::strong_count, &mut none);
        assert!(none.is_empty());
        drop_all(Vec::<Arc<usize>>::new(), Arc::strong_count);
    }
}
