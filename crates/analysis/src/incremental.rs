//! Incremental analysis: facts and findings cached per top-level item.
//!
//! After a keystroke, only the top-level items of the new tree that overlap
//! an edited range are read again; every other item's facts and findings are
//! reused, shifted by the edit. That is enough because a change of top-level
//! structure starts at the edit and spreads forward: the item of the new tree
//! that holds the edit spans everything whose tokens changed (a `/*` that
//! comments out ten blocks becomes one comment item covering them), and cached
//! items it overlaps are dropped. tree-sitter's `changed_ranges` would say the
//! same at a cost of milliseconds on large files. The item right after an
//! edit is read again too: the edit may have touched its suppression comment.
//!
//! Analysis happens in two steps so cross-file facts can sit in between:
//! [`Incremental::sync`] brings the items (each lowered to a [`Block`]) up to
//! the new tree; the caller assembles the file's facts and the module index
//! from them; [`Incremental::check`] then re-checks the items that changed —
//! or all of them when the module's facts changed (its fingerprint differs).
//! The result is identical to [`super::analyze_file`]; property tests with
//! comments, heredocs, braces and multi-change edits hold it to that. The
//! cache only serves clean trees: with syntax errors, resources may sit inside
//! `ERROR` nodes or unclosed blocks, and the full analysis runs instead. A
//! clean tree with a block Terraform rejects is served: what such a block
//! may hide is read from its own text (its entry stands for several blocks).

use std::ops::Range;

use std::sync::Arc;

use tree_sitter::{Node, Point, Tree};

use super::Finding;
use super::finding::{Findings, Run};
use super::hir::{Block, SharedBlock};
use super::module::reads::{self, Reads};
use super::module::{
    FileFacts, FileKind, LenientMemo, ModuleIndex, WHOLE_FILE_PARSE_LIMIT, shared_hash,
};

/// One edit in byte offsets: `start..old_end` became `start..new_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    /// How many lines the text has more after the edit (fewer: negative):
    /// how far every line after it moved.
    pub lines: isize,
}

/// What happened to the text since the cache was last brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOp {
    Edit(ByteEdit),
    /// Start over (full text replaced).
    Invalidate,
}

#[derive(Debug, Clone)]
struct Entry {
    range: Range<usize>,
    /// The item is a block (not a comment or a stray attribute).
    is_block: bool,
    /// The item lowered (`None` for a comment or a stray attribute).
    block: Option<SharedBlock>,
    /// [`shared_hash`] of `block`: what other blocks may read from it
    /// (`None`: nothing).
    hash: Option<u64>,
    /// The blocks the item stands for after `block`, with their hashes: the
    /// resources a block Terraform rejects may hide among its labels or in
    /// its body ([`crate::terraform::rejected_item_blocks`]). Empty (no
    /// allocation) for any other item.
    more: Box<[(SharedBlock, Option<u64>)]>,
    /// `None` until checked against the current module facts; then its
    /// findings (`Some(None)`: none).
    checked: Option<Option<Run>>,
    /// The blocks of the module its last check read, by key (when the
    /// check was given the module's index).
    reads: Reads<u64>,
    /// A finding of its last check has a related place in another file.
    points_elsewhere: bool,
}

impl Entry {
    /// The entry of `item`, a top-level item of `tree` (which has no
    /// syntax error), the tree of `src` or of a stretch of it.
    fn new(item: Node<'_>, src: &str, tree: &Tree, override_file: bool) -> Self {
        let lowered = (item.kind() == "block")
            .then(|| crate::lower::hcl::top_block(item, src))
            .flatten();
        // A block Terraform rejects at the top level (of an unknown type,
        // or with more labels than its type takes) may hide a resource
        // header among its labels or in its body: it stands for more.
        let (first, more) = match lowered {
            Some(b) if crate::terraform::rejected_header(&b.kind, b.labels.len()) => {
                let mut all = crate::terraform::rejected_item_blocks(src, tree, b).into_iter();
                (all.next(), all.collect())
            }
            other => (other, Vec::new()),
        };
        let share = |mut b: Block| {
            b.shrink();
            let block = SharedBlock::new(b);
            let hash = shared_hash(&block, override_file);
            (block, hash)
        };
        let (block, hash) = first.map(share).unzip();
        Self {
            range: item.byte_range(),
            is_block: item.kind() == "block",
            hash: hash.flatten(),
            block,
            more: more.into_iter().map(share).collect(),
            checked: None,
            reads: Reads::default(),
            points_elsewhere: false,
        }
    }

    /// The entry of an item read without a tree ([`crate::lower::direct`]).
    fn direct(item: crate::lower::direct::Item, override_file: bool) -> Self {
        use crate::lower::direct::Item;
        let (range, is_block, block) = match item {
            Item::Comment(range) => (range, false, None),
            Item::Attribute(a) => (a.span, false, None),
            Item::Block(mut b) => {
                b.shrink();
                (b.span.clone(), true, Some(SharedBlock::new(b)))
            }
        };
        let hash = block.as_ref().and_then(|b| shared_hash(b, override_file));
        Self {
            range,
            is_block,
            block,
            hash,
            more: Box::default(),
            checked: None,
            reads: Reads::default(),
            points_elsewhere: false,
        }
    }

    /// The hashes of its blocks others may read, in order.
    fn hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.hash
            .into_iter()
            .chain(self.more.iter().filter_map(|(_, hash)| *hash))
    }

    /// Its blocks, in order.
    fn blocks(&self) -> impl Iterator<Item = &SharedBlock> {
        self.block.iter().chain(self.more.iter().map(|(b, _)| b))
    }

    /// Declares something other blocks of the module may read.
    fn has_facts(&self) -> bool {
        self.hashes().next().is_some()
    }
}

/// Facts and findings per top-level item, kept in step with edits.
#[derive(Debug, Clone, Default)]
pub struct Incremental {
    entries: Vec<Entry>,
    valid: bool,
    /// Ranges (current offsets) whose items must be read again.
    dirty: Vec<Range<usize>>,
    /// Where the items an edit dropped stood (current offsets): the tree
    /// walk of [`Incremental::sync`] reads all of it again, since an edit
    /// can change how the rest of such an item reads (close a string or a
    /// brace early, so that it becomes several items).
    dropped_extents: Vec<Range<usize>>,
    /// The module fingerprint the cached findings were computed against.
    checked_with: Option<u64>,
    /// The module's index then, when the check was given it: the blocks
    /// that changed since are found against it.
    checked_in: Option<Arc<ModuleIndex>>,
    /// The one before, until the caller takes it
    /// ([`Incremental::replaced_index`]).
    replaced: Option<Arc<ModuleIndex>>,
    /// Hashes of items an edit dropped since the last `sync`.
    dropped: Vec<u64>,
    /// The file is an override file: every block of it is shared.
    override_file: bool,
    /// The last [`Incremental::sync`] was given a tree with syntax errors,
    /// and none since a clean one: [`Incremental::sync_text`] does not try
    /// to split the text (a scan of all of it, which fails while the error
    /// is there); the caller re-parses the edited tree, which also tells
    /// when the error is gone.
    broken: bool,
    /// What the last [`Incremental::read_lenient`] read, while the text is
    /// read so.
    lenient: Option<Box<LenientMemo>>,
    /// Instead of [`WHOLE_FILE_PARSE_LIMIT`] (see
    /// [`Incremental::reading_leniently_above`]).
    lenient_above: Option<u32>,
}

/// What [`Incremental::sync`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sync {
    /// The tree is clean and the cache follows it; `check` may be used.
    pub usable: bool,
    /// Some item's meaning (what other files may read) changed.
    pub facts_changed: bool,
}

/// Statistics of the last [`Incremental::check`], for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub full: bool,
    pub rechecked: usize,
    pub reused: usize,
}

/// About how much text one parse reads when a file is first read block by
/// block ([`Incremental::sync_text`] on an empty cache).
pub const INIT_STRETCH: usize = 64 * 1024;

/// At most how many blocks one such parse reads: a tree costs about 200
/// bytes a block, and the trees parsed ahead of the lowering of a file of
/// `a{}` (16,000 blocks in 64 KB) held 41 MB at 1 MB, per heaptrack.
pub const INIT_STRETCH_ITEMS: usize = 1024;

/// From how many items [`Incremental::check`] checks them all (an open, or
/// a change of the module's facts) on rayon's workers as well as on its
/// own thread.
const PARALLEL_CHECK: usize = 64;

/// A stretch of the text to parse, with the points of its ends.
type StretchAt = (Range<usize>, Point, Point);

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
}

/// The entries are sorted by range, as the cache keeps them.
fn in_order(entries: &[Entry]) -> bool {
    entries
        .windows(2)
        .all(|w| (w[0].range.start, w[0].range.end) <= (w[1].range.start, w[1].range.end))
}

/// Do the blocks of `entries`, the items of `src[stretch]`, end where the
/// chunks of the lenient split of the stretch end? `check` parses each of
/// those on its own, and where tree-sitter reads a string across what the
/// split took for several blocks, `check` and the editor would not agree.
fn lenient_aligned(entries: &[Entry], src: &str, stretch: &Range<usize>) -> bool {
    let mut ends = entries.iter().filter(|e| e.is_block).map(|e| e.range.end);
    let mut aligned = true;
    crate::split::each_lenient(&src[stretch.clone()], |chunk| {
        aligned &= ends.next() == Some(stretch.start + chunk.range.end);
    });
    aligned && ends.next().is_none()
}

/// The stretches a first read parses: consecutive items of the split, about
/// [`INIT_STRETCH`] bytes or [`INIT_STRETCH_ITEMS`] blocks each, the last to
/// the end of the text (`len`); one stretch of all of it when there is no
/// block.
pub(crate) fn init_stretches(items: &[crate::split::Item], len: usize) -> Vec<Range<usize>> {
    let mut stretches: Vec<Range<usize>> = Vec::new();
    let mut held = 0;
    for item in items {
        match stretches.last_mut() {
            Some(last) if last.end - last.start < INIT_STRETCH && held < INIT_STRETCH_ITEMS => {
                last.end = item.range.end;
                held += 1;
            }
            _ => {
                stretches.push(item.range.clone());
                held = 1;
            }
        }
    }
    match stretches.last_mut() {
        Some(last) => last.end = len,   // what follows the last block
        None => stretches.push(0..len), // comments, or nothing
    }
    stretches
}

impl Incremental {
    /// A cache for the file at `path` (override files share every block).
    pub fn for_file(path: &std::path::Path) -> Self {
        Self {
            override_file: super::module::is_override(path),
            ..Self::default()
        }
    }

    /// Brings the cache up to `src` (of `path`, a configuration file) as
    /// the server does after an edit, reading as little as it can: the
    /// edited blocks alone ([`Incremental::sync_text`]) unless `tree` (the
    /// text's whole tree, parsed when asked for) is already parsed and the
    /// file is not large; else a large file leniently
    /// ([`Incremental::read_lenient`]: its facts are returned), anything
    /// else from the whole tree ([`Incremental::sync`]). A large file
    /// ([`Incremental::reads_leniently`]) is so read as `check` reads it.
    /// Unless the sync is `usable` or facts are returned, the caller reads
    /// the whole tree for the file's facts and findings.
    pub fn follow(
        &mut self,
        path: &std::path::Path,
        src: &Arc<String>,
        tree: &crate::document::LazyTree,
        point: &dyn Fn(usize) -> Point,
    ) -> (Sync, Option<FileFacts>) {
        // A large file is read as `check` reads it, by its lexical split
        // (block by block, or leniently), never from the whole tree: not
        // even when that is there (a fix of every finding parsed it).
        let lenient = self.reads_leniently(src);
        let by_text = match tree.ready() {
            Some(_) if !lenient => None,
            _ => self.sync_text(src, point),
        };
        let sync = match by_text {
            Some(sync) => sync,
            // Not parsed whole: tree-sitter's error recovery over the
            // whole of a large file costs seconds and gigabytes.
            None if lenient => Sync::default(),
            None => self.sync(src, tree.get(src)),
        };
        let facts = (!sync.usable && lenient).then(|| self.read_lenient(path, Arc::clone(src)));
        (sync, facts)
    }

    /// Whether a text the cache cannot follow is read as `check` reads it
    /// ([`Incremental::read_lenient`]) rather than parsed whole: a large
    /// file ([`WHOLE_FILE_PARSE_LIMIT`]), not an override file.
    pub fn reads_leniently(&self, src: &str) -> bool {
        !self.override_file
            && src.len()
                > self
                    .lenient_above
                    .map_or(WHOLE_FILE_PARSE_LIMIT, |b| b as usize)
    }

    /// The cache, reading leniently files larger than `bytes` (for tests:
    /// small texts then take the path of large ones).
    #[doc(hidden)]
    pub fn reading_leniently_above(self, bytes: u32) -> Self {
        Self {
            lenient_above: Some(bytes),
            ..self
        }
    }

    /// The facts of `src` (see [`Incremental::reads_leniently`]) as `check`
    /// reads them, chunk by chunk ([`FileFacts::extract_needed`]): the same
    /// findings, and no parse of the whole text, whose error recovery took
    /// seconds and hundreds of megabytes for a stray `=` on the first line
    /// of 2 MB. The cache is left empty; [`Incremental::sync_text`] tries
    /// the text block by block again after the next edit only if every
    /// chunk read parsed cleanly (an error in a chunk not read, one no rule
    /// reads, is not seen: the next try then fails and reads leniently again).
    pub fn read_lenient(&mut self, path: &std::path::Path, src: Arc<String>) -> FileFacts {
        let mut memo = self.lenient.take().unwrap_or_default();
        let (facts, clean) =
            FileFacts::read_lenient(path, src, false, crate::batch::BATCH, Some(&mut memo));
        self.invalidate();
        self.broken = !clean;
        self.lenient = Some(memo);
        facts
    }

    pub fn apply(&mut self, op: &CacheOp) {
        match op {
            CacheOp::Edit(edit) => self.edit(*edit),
            CacheOp::Invalidate => self.invalidate(),
        }
    }

    pub fn invalidate(&mut self) {
        self.valid = false;
        self.broken = false;
        self.entries.clear();
        self.dirty.clear();
        self.dropped_extents.clear();
        self.dropped.clear();
        self.checked_with = None;
    }

    fn edit(&mut self, e: ByteEdit) {
        if !self.valid {
            return;
        }
        let delta = e.new_end as isize - e.old_end as isize;
        let shift = |x: usize| x.saturating_add_signed(delta);
        // An item that touches the edit (even at its edge) is read again.
        let dropped = &mut self.dropped;
        let mut extents: Vec<Range<usize>> = Vec::new();
        // Findings follow the edit; one whose related place (in another
        // block) the edit touched is made again. A run whose places are
        // all on its block's side of the edit moves as a whole, uncopied.
        let follow = |entry: &mut Entry, moved: bool| {
            let Some(Some(run)) = &mut entry.checked else {
                return;
            };
            let span = run.span();
            if !moved && span.end < e.start {
                return;
            }
            if moved && span.start > e.old_end {
                run.move_by(delta);
                return;
            }
            let mut findings = run.to_vec();
            let followed = findings
                .iter_mut()
                .all(|f| f.follow_edit(e.start, e.old_end, delta, moved));
            entry.checked = followed.then(|| Run::new(findings));
        };
        self.entries.retain_mut(|entry| {
            if entry.range.end < e.start {
                follow(entry, false);
                true
            } else if entry.range.start > e.old_end {
                entry.range = shift(entry.range.start)..shift(entry.range.end);
                if let Some(block) = &mut entry.block {
                    block.move_by(delta);
                }
                for (block, _) in &mut entry.more {
                    block.move_by(delta);
                }
                follow(entry, true);
                true
            } else {
                // Dropped: `sync` reads it again and compares hashes.
                dropped.extend(entry.hashes());
                let end = if entry.range.end > e.old_end {
                    shift(entry.range.end)
                } else {
                    e.new_end
                };
                extents.push(entry.range.start.min(e.start)..end.max(e.new_end));
                false
            }
        });
        for d in self.dirty.iter_mut().chain(&mut self.dropped_extents) {
            if d.end < e.start {
                continue;
            }
            if d.start > e.old_end {
                *d = shift(d.start)..shift(d.end);
            } else {
                *d = d.start.min(e.start)..shift(d.end.max(e.old_end)).max(e.new_end);
            }
        }
        self.dirty.push(e.start..e.new_end);
        self.dropped_extents.extend(extents);
    }

    /// Brings the cached items up to `tree` (the tree of `src`).
    pub fn sync(&mut self, src: &str, tree: &Tree) -> Sync {
        let root = tree.root_node();
        // Read from a tree: not leniently.
        self.lenient = None;
        if root.kind() != "config_file" || root.has_error() {
            let had_facts = self.entries.iter().any(Entry::has_facts);
            self.invalidate();
            self.broken = true;
            return Sync {
                usable: false,
                facts_changed: had_facts,
            };
        }
        self.broken = false;
        let mut cursor = root.walk();
        // Comments before or after all items are children of the root, not
        // of the body: a `/*` can turn the rest of the file into one comment.
        let children: Vec<Node<'_>> = root.children(&mut cursor).collect();
        let body = children.iter().copied().find(|n| n.kind() == "body");
        let Some(body) = body else {
            let had_facts = self.entries.iter().any(Entry::has_facts);
            self.entries.clear();
            self.dirty.clear();
            self.dropped_extents.clear();
            self.valid = true;
            return Sync {
                usable: true,
                facts_changed: had_facts,
            };
        };
        if !self.valid {
            let mut cursor = body.walk();
            self.entries = body
                .children(&mut cursor)
                .map(|item| Entry::new(item, src, tree, self.override_file))
                .collect();
            self.dirty.clear();
            self.dropped_extents.clear();
            self.valid = true;
            self.checked_with = None;
            return Sync {
                usable: true,
                facts_changed: true,
            };
        }
        let outside: Vec<Node<'_>> = children
            .into_iter()
            .filter(|n| n.kind() != "body")
            .collect();
        let mut fresh: Vec<Node<'_>> = Vec::new();
        let extents = std::mem::take(&mut self.dropped_extents);
        for d in std::mem::take(&mut self.dirty).into_iter().chain(extents) {
            // Include an item that ends exactly where the range starts.
            let mut node = body.first_child_for_byte(d.start.saturating_sub(1));
            while let Some(item) = node {
                if item.start_byte() > d.end {
                    // The items after the edit too, up to the first block:
                    // the edit may have changed (or removed) the suppression
                    // comment above it, or where a comment before it starts.
                    if !fresh.contains(&item) {
                        fresh.push(item);
                    }
                    if item.kind() == "block" {
                        break;
                    }
                    node = item.next_sibling();
                    continue;
                }
                if !fresh.contains(&item) {
                    fresh.push(item);
                }
                node = item.next_sibling();
            }
            for item in &outside {
                if item.start_byte() <= d.end && d.start <= item.end_byte() && !fresh.contains(item)
                {
                    fresh.push(*item);
                }
            }
        }
        // Hashes of what was dropped here (or by `edit`), against what is
        // read again: equal multisets mean no other file sees a change.
        let mut before: Vec<u64> = Vec::new();
        self.entries.retain(|entry| {
            let keep = !fresh
                .iter()
                .any(|item| overlaps(&entry.range, &item.byte_range()));
            if !keep {
                before.extend(entry.hashes());
            }
            keep
        });
        before.extend(std::mem::take(&mut self.dropped));
        let mut after: Vec<u64> = Vec::new();
        for item in fresh {
            let entry = Entry::new(item, src, tree, self.override_file);
            after.extend(entry.hashes());
            self.entries.push(entry);
        }
        before.sort_unstable();
        after.sort_unstable();
        let facts_changed = before != after;
        self.entries.sort_by_key(|e| (e.range.start, e.range.end));
        Sync {
            usable: true,
            facts_changed,
        }
    }

    /// Brings the cached items up to `src` without the tree of the whole
    /// text: each edited stretch is parsed on its own, from the end of the
    /// last untouched block before it to the end of the first untouched
    /// block after it (so the comments above a block, which may suppress
    /// its findings, are read with it). `point` gives the tree-sitter point
    /// of a byte offset of `src`.
    ///
    /// `None` (and nothing changed) when that cannot stand for a parse of
    /// the whole text: the cache is not valid and the last tree it was
    /// given had syntax errors, the text does not split into blocks, or a
    /// stretch does not parse cleanly into whole blocks and comments — an
    /// unclosed string, heredoc, brace or `/*` may reach past it. The
    /// caller then parses the whole text and calls [`Incremental::sync`].
    pub fn sync_text(&mut self, src: &str, point: &dyn Fn(usize) -> Point) -> Option<Sync> {
        if !self.valid {
            return if self.broken {
                None
            } else {
                self.init_text(src, point)
            };
        }
        // The stretches to read again, as ranges of entry indices to drop
        // and byte ranges to parse.
        let mut regions: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let mut dirty = self.dirty.clone();
        dirty.sort_by_key(|d| d.start);
        for d in &dirty {
            // Entries are sorted and none overlaps a dirty range.
            let mut first = self.entries.partition_point(|e| e.range.end < d.start);
            let mut last = self.entries.partition_point(|e| e.range.start <= d.end);
            if first < last {
                return None; // an entry overlaps the edit: not expected
            }
            // Back over comments (and stray attributes) to the end of a block.
            while first > 0 && !self.entries[first - 1].is_block {
                first -= 1;
            }
            // On to the end of the next block (its suppression comment may
            // have changed), unless no edit can have changed how it reads.
            let keeps_next = self.unaffected_by(last, d.end, src);
            if !keeps_next {
                while last < self.entries.len() {
                    last += 1;
                    if self.entries[last - 1].is_block {
                        break;
                    }
                }
            }
            let start = if first == 0 {
                0
            } else {
                self.entries[first - 1].range.end
            };
            let end = if last == self.entries.len() {
                src.len()
            } else if keeps_next {
                self.entries[last].range.start
            } else {
                self.entries[last - 1].range.end
            };
            if start > end || end > src.len() {
                return None;
            }
            match regions.last_mut() {
                Some((entries, bytes)) if first <= entries.end => {
                    entries.end = entries.end.max(last);
                    bytes.end = bytes.end.max(end);
                }
                _ => regions.push((first..last, start..end)),
            }
        }
        // Parse every stretch before changing anything.
        let stretches: Vec<Range<usize>> = regions.iter().map(|(_, bytes)| bytes.clone()).collect();
        let mut fresh = self.read_stretches(src, &stretches, point, 0)?;
        // Commit: each stretch's items in place of the entries it covers.
        // The items come in order, and each lies within its stretch, between
        // the entries kept around it: the entries stay sorted.
        let mut before: Vec<u64> = std::mem::take(&mut self.dropped);
        let mut after: Vec<u64> = fresh.iter().flat_map(Entry::hashes).collect();
        for (entries, bytes) in regions.iter().rev() {
            let from = fresh.partition_point(|e| e.range.start < bytes.start);
            let items = fresh.split_off(from);
            for entry in self.entries.splice(entries.clone(), items) {
                before.extend(entry.hashes());
            }
        }
        debug_assert!(fresh.is_empty(), "an item before every stretch");
        debug_assert!(in_order(&self.entries), "entries out of order");
        self.dirty.clear();
        self.dropped_extents.clear();
        before.sort_unstable();
        after.sort_unstable();
        Some(Sync {
            usable: true,
            facts_changed: before != after,
        })
    }

    /// Whether the item `next` (an index into the entries) and those after
    /// it read the same whatever the text before it says, given that
    /// nothing from `edited_to` on changed. A block reads the line above
    /// its header (a suppression comment that ends it, [`crate::suppress`]).
    /// It is left as it is when it starts its line after a blank one, and the
    /// blank line and the line break before it are older than the edits:
    /// no comment can end there (the stretch before it parsed cleanly), now
    /// or before. Typing inside a block of a formatted file (blocks apart by
    /// a blank line) then re-reads that block alone, not the next one too (a
    /// parse was most of a keystroke's analysis at 10 KB).
    fn unaffected_by(&self, next: usize, edited_to: usize, src: &str) -> bool {
        let Some(entry) = self.entries.get(next) else {
            return false;
        };
        let blank = |line: &str| line.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        let start = entry.range.start;
        if !entry.is_block || !src.is_char_boundary(start) {
            return false;
        }
        let header_line = crate::fix::line_start(src, start);
        // The line above ends at `header_line - 1`; it must not be the first.
        let Some(above_end) = header_line.checked_sub(1) else {
            return false;
        };
        let above = crate::fix::line_start(src, above_end);
        blank(&src[header_line..start])
            && blank(&src[above..above_end])
            && above.checked_sub(1).is_some_and(|nl| edited_to < nl)
    }

    /// Fills the cache from `src` without the tree of the whole text: the
    /// top-level blocks (and stray attributes) found by a lexical scan
    /// ([`crate::split::split_with_attributes`]), in stretches of about [`INIT_STRETCH`] bytes (or [`INIT_STRETCH_ITEMS`]
    /// blocks) parsed on their own, in
    /// parallel, each ending at a block's closing brace. `None` (nothing
    /// changed) when the scan does not understand the text or a stretch does
    /// not parse cleanly into whole blocks, attributes and comments.
    fn init_text(&mut self, src: &str, point: &dyn Fn(usize) -> Point) -> Option<Sync> {
        let items = crate::split::split_with_attributes(src)?;
        let stretches = init_stretches(&items, src.len());
        // Room for an entry per block the split found, in one allocation
        // rather than grown by doubling (128 bytes an entry: 32 MB for
        // 1 MB of `a{}`); the split's items (72 bytes each) are not held
        // meanwhile. The entries come in order (stretches are read in
        // order, each item within its stretch): no sort, whose stable
        // merge took a buffer of half the entries.
        let expected = items.len();
        drop(items);
        let entries = self.read_stretches(src, &stretches, point, expected)?;
        debug_assert!(in_order(&entries), "stretches are read in order");
        self.entries = entries;
        self.dirty.clear();
        self.dropped_extents.clear();
        self.dropped.clear();
        self.valid = true;
        self.checked_with = None;
        self.lenient = None;
        Some(Sync {
            usable: true,
            facts_changed: true,
        })
    }

    /// The items of `stretches` of `src`, in order (room made for
    /// `expected`). `None` when a stretch does not read cleanly into whole
    /// blocks, attributes and comments.
    ///
    /// Each stretch is read without a tree ([`crate::lower::direct`]), the
    /// stretches in parallel on rayon's workers, as far as that reader
    /// goes (a third of a 1 MB open's CPU was this reading, on one core);
    /// the rest of it, from the item it refused, is parsed with tree-sitter
    /// ([`Incremental::parse_stretches`]) and its entries are put in their
    /// place. A large file read leniently
    /// ([`Incremental::reads_leniently`]) takes a stretch whole one way or
    /// the other, and checks either against the lenient split.
    fn read_stretches(
        &self,
        src: &str,
        stretches: &[Range<usize>],
        point: &dyn Fn(usize) -> Point,
        expected: usize,
    ) -> Option<Vec<Entry>> {
        let lenient = self.reads_leniently(src);
        let refuse = |b: &Block| crate::terraform::rejected_header(&b.kind, b.labels.len());
        // Each stretch read directly, on its own, where it stops.
        let read = |stretch: &Range<usize>| -> (Vec<Entry>, usize) {
            let mut read = Vec::new();
            let stop = crate::lower::direct::read(src, stretch.clone(), refuse, |item| {
                read.push(Entry::direct(item, self.override_file));
            });
            (read, stop)
        };
        // Blank stretches hold nothing to read.
        let stretches: Vec<&Range<usize>> = stretches
            .iter()
            .filter(|s| !src[(*s).clone()].trim().is_empty())
            .collect();
        let reads: Vec<(Vec<Entry>, usize)> = {
            use rayon::prelude::*;
            if stretches.len() > 1 && rayon::current_thread_index().is_none() {
                stretches.par_iter().map(|s| read(s)).collect()
            } else {
                stretches.iter().map(|s| read(s)).collect()
            }
        };
        let mut entries = Vec::with_capacity(expected);
        // What tree-sitter is to parse, and where in `entries` it goes.
        let mut rest: Vec<(usize, StretchAt)> = Vec::new();
        for (stretch, (read, stop)) in stretches.into_iter().zip(reads) {
            let first = entries.len();
            entries.extend(read);
            let from = if stop == stretch.end {
                if lenient && !lenient_aligned(&entries[first..], src, stretch) {
                    return None;
                }
                continue;
            } else if lenient {
                entries.truncate(first);
                stretch.start
            } else {
                stop
            };
            if !src[from..stretch.end].trim().is_empty() {
                let parse = (from..stretch.end, point(from), point(stretch.end));
                rest.push((entries.len(), parse));
            }
        }
        if rest.is_empty() {
            return Some(entries);
        }
        let (at, parses): (Vec<usize>, Vec<_>) = rest.into_iter().unzip();
        let mut ends = Vec::with_capacity(parses.len());
        let mut parsed = Vec::new();
        self.parse_stretches(src, &parses, &mut parsed, &mut ends)?;
        if entries.is_empty() {
            return Some(parsed);
        }
        // The parsed entries in their places, in one list.
        let mut all = Vec::with_capacity(entries.len() + parsed.len());
        let (mut direct, mut parsed) = (entries.into_iter(), parsed.into_iter());
        let (mut direct_at, mut parsed_at) = (0, 0);
        for (at, end) in at.into_iter().zip(ends) {
            all.extend(direct.by_ref().take(at - direct_at));
            all.extend(parsed.by_ref().take(end - parsed_at));
            (direct_at, parsed_at) = (at, end);
        }
        all.extend(direct);
        Some(all)
    }

    /// Appends the items of `stretches` of `src` to `entries`, each
    /// stretch parsed on its own (node offsets stay the file's), in order,
    /// and the number of entries after each stretch to `ends`. `None` when
    /// a stretch does not parse cleanly into whole blocks and comments.
    ///
    /// Several stretches are parsed in parallel on rayon's workers while
    /// this thread lowers each stretch as soon as it and those before it are
    /// parsed, and hands its tree back to a worker to be freed: parsing,
    /// lowering and freeing trees overlap. Lowering (recursive) stays on this
    /// thread and its stack, and what it builds, which outlives the call,
    /// stays in this thread's allocator arena: lowered blocks spread over the
    /// workers' arenas kept megabytes resident after the document closed
    /// (30db335, 4 of 24 runs of `tests/lsp_memory.rs` under load). The
    /// direct reading of [`Incremental::read_stretches`] does build its
    /// blocks on the workers, and that test passed 24 of 24 runs under the
    /// same load (what stayed in 30db335 was never found).
    fn parse_stretches(
        &self,
        src: &str,
        stretches: &[StretchAt],
        entries: &mut Vec<Entry>,
        ends: &mut Vec<usize>,
    ) -> Option<()> {
        let parse = |(r, start, end): &StretchAt| {
            crate::syntax::parse_stretch_at(src, r.clone(), *start, *end)
        };
        // On a rayon worker, waiting here for other jobs could starve the
        // pool: parse in order on this thread instead.
        if stretches.len() <= 1 || rayon::current_thread_index().is_some() {
            for stretch in stretches {
                self.read_items(&parse(stretch)?, src, &stretch.0, entries)?;
                ends.push(entries.len());
            }
            return Some(());
        }
        // One slot per stretch, read in order: each job fills its own (a
        // job that panics drops its sender, and the wait for it ends).
        let failed = std::sync::atomic::AtomicBool::new(false);
        let (senders, slots): (Vec<_>, Vec<_>) = stretches
            .iter()
            .map(|_| crossbeam_channel::bounded::<Option<Tree>>(1))
            .unzip();
        let mut senders: Vec<_> = senders.into_iter().map(Some).collect();
        // Parsed ahead of the stretch being read, at most: parsing ran ahead
        // of lowering, and the trees of most of a file of one-line blocks
        // were held at once (65 MB at 2 MB, per heaptrack). One a worker
        // keeps the workers busy while this thread lowers: four a worker
        // opened no faster, and held 1 MB of models with a finding each at
        // 80 MiB, over the bound of 40 times the text plus 30 MB.
        let ahead = rayon::current_num_threads().max(1);
        let clean = rayon::in_place_scope(|scope| {
            let mut spawn = |i: usize| {
                let Some(tx) = senders.get_mut(i).and_then(Option::take) else {
                    return;
                };
                let (failed, parse, stretch) = (&failed, &parse, &stretches[i]);
                scope.spawn(move |_| {
                    // After a failure, the rest is not needed.
                    let tree = if failed.load(std::sync::atomic::Ordering::Relaxed) {
                        None
                    } else {
                        parse(stretch)
                    };
                    let _ = tx.send(tree);
                });
            };
            for i in 0..ahead {
                spawn(i);
            }
            for (i, rx) in slots.iter().enumerate() {
                spawn(i + ahead);
                let tree = rx.recv().ok().flatten();
                let read = tree
                    .as_ref()
                    .and_then(|tree| self.read_items(tree, src, &stretches[i].0, entries));
                ends.push(entries.len());
                if let Some(tree) = tree {
                    scope.spawn(move |_| drop(tree));
                }
                if read.is_none() {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    return false;
                }
            }
            true
        });
        clean.then_some(())
    }

    /// Appends the items of one stretch's tree (of `src[stretch]`) to
    /// `entries`. `None` when the stretch does not parse cleanly into whole
    /// blocks and comments, or, in a file read leniently when it cannot be
    /// followed ([`Incremental::reads_leniently`]), into the blocks the
    /// lenient split finds: `check` parses each of those on its own, and
    /// where tree-sitter reads a string across what the split took for
    /// several blocks, `check` and the editor would not agree.
    fn read_items(
        &self,
        tree: &Tree,
        src: &str,
        stretch: &Range<usize>,
        entries: &mut Vec<Entry>,
    ) -> Option<()> {
        let first = entries.len();
        for item in crate::syntax::top_level_items(tree) {
            if !matches!(item.kind(), "block" | "comment" | "attribute") {
                return None;
            }
            entries.push(Entry::new(item, src, tree, self.override_file));
        }
        if self.reads_leniently(src) && !lenient_aligned(&entries[first..], src, stretch) {
            entries.truncate(first);
            return None;
        }
        Some(())
    }

    /// The facts of the file (after a sync), from the cached blocks and
    /// their hashes: equal to [`FileFacts::from_parts`] of [`Incremental::blocks`].
    pub fn facts(&self, path: &std::path::Path, kind: FileKind, text: Arc<String>) -> FileFacts {
        let hashes = self.entries.iter().flat_map(Entry::hashes);
        FileFacts::from_hashed(path, kind, text, self.blocks(), hashes)
    }

    /// The lowered top-level blocks, in order (after [`Incremental::sync`]).
    pub fn blocks(&self) -> Vec<SharedBlock> {
        // Once per analysis of an open document: one list, as long as needed.
        let mut blocks = Vec::with_capacity(self.entries.iter().map(|e| e.blocks().count()).sum());
        crate::owners::clone_all(
            self.entries.iter().flat_map(Entry::blocks),
            SharedBlock::owners,
            &mut blocks,
        );
        blocks
    }

    /// The findings of the file, checking again the items that changed, and
    /// those that may find something else since the module's facts
    /// (`fingerprint`) changed: all of them, or, given the module's index
    /// (the file's one instance is the module as a root) and an index at
    /// the last check, those that read one of the resources that changed
    /// ([`ModuleIndex::changed_since`], [`crate::module::reads`]). Call
    /// after a [`Incremental::sync`] that reported `usable`, or after
    /// [`Incremental::read_lenient`]: then the findings of the facts it
    /// returned (those of [`crate::analyze_file`]), checking again only the
    /// chunks that changed (no statistics).
    pub fn check(
        &mut self,
        fingerprint: u64,
        index: Option<&Arc<ModuleIndex>>,
        check_block: impl Fn(&Block) -> Vec<Finding> + std::marker::Sync,
    ) -> (Findings, Stats) {
        self.replaced = std::mem::replace(&mut self.checked_in, index.cloned());
        let last_index = self.replaced.as_ref();
        if let Some(memo) = self.lenient.as_deref_mut() {
            self.checked_in = None;
            return (memo.check(fingerprint, check_block), Stats::default());
        }
        let mut stats = Stats::default();
        // Many items to check (an open, a change of the module's facts
        // that many read): on rayon's workers too.
        let mut wide = false;
        if self.checked_with != Some(fingerprint) {
            let changed = index
                .zip(last_index)
                .and_then(|(new, old)| new.changed_since(old));
            match changed {
                Some(changed) => {
                    // A finding with a related place in another file that
                    // changed is made again: the place may have moved.
                    let moved = |run: &Run| {
                        run.iter().any(|f| {
                            f.as_made()
                                .related
                                .iter()
                                .any(|r| r.path.as_ref().is_some_and(|p| changed.files.contains(p)))
                        })
                    };
                    let mut marked = 0;
                    for entry in &mut self.entries {
                        let again = entry.reads.any_of(&changed.blocks)
                            || (entry.points_elsewhere
                                && entry
                                    .checked
                                    .as_ref()
                                    .and_then(Option::as_ref)
                                    .is_some_and(moved));
                        if again {
                            entry.checked = None;
                            marked += 1;
                        }
                    }
                    wide = marked >= PARALLEL_CHECK;
                }
                None => {
                    for entry in &mut self.entries {
                        entry.checked = None;
                    }
                    stats.full = true;
                    wide = true;
                }
            }
            self.checked_with = Some(fingerprint);
        }
        let check_entry = |entry: &mut Entry| {
            let (findings, read) = reads::recording(|| {
                let mut blocks = entry.blocks();
                let mut findings = blocks.next().map(|b| check_block(b)).unwrap_or_default();
                for block in blocks {
                    findings.extend(check_block(block));
                }
                findings
            });
            entry.points_elsewhere = findings
                .iter()
                .any(|f| f.related.iter().any(|r| r.path.is_some()));
            entry.checked = Some(Run::new(findings));
            entry.reads = match index {
                Some(index) => index.keys_read(&read),
                None => Reads::All,
            };
        };
        // Not from a worker, whose wait could starve the pool. A keystroke
        // checks one item or a few, in the one pass over the entries it
        // always made.
        if wide && self.entries.len() >= PARALLEL_CHECK && rayon::current_thread_index().is_none() {
            use rayon::prelude::*;
            stats.rechecked = self.entries.iter().filter(|e| e.checked.is_none()).count();
            stats.reused = self.entries.len() - stats.rechecked;
            self.entries
                .par_iter_mut()
                .with_min_len(PARALLEL_CHECK / 2)
                .filter(|e| e.checked.is_none())
                .for_each(check_entry);
        } else {
            for entry in &mut self.entries {
                if entry.checked.is_some() {
                    stats.reused += 1;
                    continue;
                }
                stats.rechecked += 1;
                check_entry(entry);
            }
        }
        // Each item's run, shared: the findings are not copied.
        let mut runs = Vec::new();
        crate::owners::clone_all(
            self.entries
                .iter()
                .filter_map(|e| e.checked.as_ref()?.as_ref()),
            Run::owners,
            &mut runs,
        );
        (Findings::new(runs), stats)
    }

    /// The index the last [`Incremental::check`] replaced, if it was given
    /// one: often the last hold on the module's previous facts, which the
    /// caller may free off its hot path (a 10 MB file's blocks and text).
    pub fn replaced_index(&mut self) -> Option<Arc<ModuleIndex>> {
        self.replaced.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An open document holds an entry per top-level item (250,000 for
    /// 1 MB of `a{}`), and a first read the split's items meanwhile.
    #[test]
    fn an_entry_stays_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 144);
        assert_eq!(std::mem::size_of::<crate::split::Item>(), 72);
    }

    /// A first read of a file of many small blocks parses a bounded number
    /// of blocks at once (their trees are held until lowered), and its
    /// stretches still cover the text in order.
    #[test]
    fn a_first_read_parses_dense_files_in_stretches_of_few_blocks() {
        let text = "a{}\n".repeat(3 * INIT_STRETCH_ITEMS + 5) + "# end\n";
        let items = crate::split::split(&text).unwrap();
        let stretches = init_stretches(&items, text.len());
        assert_eq!(stretches.len(), 4, "{stretches:?}");
        assert_eq!(stretches[0].start, 0);
        assert_eq!(stretches.last().unwrap().end, text.len());
        for pair in stretches.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        for stretch in &stretches {
            let blocks = items
                .iter()
                .filter(|i| stretch.contains(&i.range.start))
                .count();
            assert!(
                blocks <= INIT_STRETCH_ITEMS,
                "{blocks} blocks in {stretch:?}"
            );
        }
        // Large blocks: bounded by bytes, as before.
        let block = format!("locals {{\n  a = \"{}\"\n}}\n", "x".repeat(1000));
        let text = block.repeat(200);
        let items = crate::split::split(&text).unwrap();
        let stretches = init_stretches(&items, text.len());
        assert!(stretches.len() >= 3, "{} stretches", stretches.len());
        assert!(
            stretches
                .iter()
                .all(|s| s.len() < INIT_STRETCH + block.len())
        );
        // Nothing but comments: one stretch of all of it.
        assert_eq!(init_stretches(&[], 7), vec![0..7]);
    }
}
