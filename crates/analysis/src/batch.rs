//! Work on the blocks of a large file: in parallel, a batch at a time, in
//! order, and without keeping more room than the results need.

/// How many items of a large file are worked on in parallel at a time:
/// enough to keep every worker busy, few enough that the batch's results
/// (a million of a file's blocks would be) are not all held at once.
pub(crate) const BATCH: usize = 8192;

/// Maps `items` on rayon's workers, `batch` at a time, and hands each item
/// with its result to `take`, in order, on the calling thread.
pub(crate) fn par_map_in_order<I, T>(
    items: impl IntoIterator<Item = I>,
    batch: usize,
    map: impl Fn(&I) -> T + Sync,
    mut take: impl FnMut(I, T),
) where
    I: Sync,
    T: Send,
{
    use rayon::prelude::*;
    let batch = batch.max(1);
    let mut items = items.into_iter();
    let mut chunk = Vec::new();
    loop {
        chunk.extend(items.by_ref().take(batch));
        if chunk.is_empty() {
            return;
        }
        let results: Vec<T> = chunk.par_iter().map(&map).collect();
        for (item, result) in chunk.drain(..).zip(results) {
            take(item, result);
        }
    }
}

/// The items in a list of their own, exactly as long. Not
/// `into_iter().map(…).collect()` from another list: that collects in
/// place, and the new list keeps the old one's allocation (a list of
/// pointers made from lowered blocks kept about 200 bytes a block).
pub(crate) fn exact<T>(items: impl ExactSizeIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    out.extend(items);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_whatever_the_batch() {
        for batch in [0, 1, 2, 3, 100] {
            let mut seen = Vec::new();
            par_map_in_order(0..10, batch, |i| i * i, |i, sq| seen.push((i, sq)));
            assert_eq!(seen, (0..10).map(|i| (i, i * i)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_exact_list_holds_no_room_of_the_list_it_came_from() {
        let wide: Vec<[u64; 8]> = vec![[1; 8]; 5];
        let narrow = exact(wide.into_iter().map(|w| w[0]));
        assert_eq!((narrow.len(), narrow.capacity()), (5, 5));
    }
}
