//! Incremental analysis: findings cached per top-level item of the file.
//!
//! After a keystroke, only the top-level items of the new tree that overlap
//! an edited range are checked again; every other item's findings are reused,
//! shifted by the edit. That is enough because a change of top-level structure
//! starts at the edit and spreads forward: the item of the new tree that holds
//! the edit spans everything whose tokens changed (a `/*` that comments out
//! ten blocks becomes one comment item covering them), and cached items it
//! overlaps are dropped. tree-sitter's `changed_ranges` would say the same at
//! a cost of milliseconds on large files. The result is identical to
//! [`super::analyze`]; a property test with comments, heredocs and braces
//! holds it to that. The cache only serves clean trees: when the tree has
//! errors, resources may sit inside `ERROR` nodes or unclosed blocks, and the
//! full analysis runs instead.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::rules::{self, Context};
use super::{Finding, terraform};

/// One edit in byte offsets: `start..old_end` became `start..new_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

/// What happened to the text since the cache was last brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOp {
    Edit(ByteEdit),
    /// Start over (full text replaced, or facts from outside changed).
    Invalidate,
}

#[derive(Debug, Clone)]
struct Entry {
    range: Range<usize>,
    findings: Vec<Finding>,
}

/// Findings per top-level item, kept in step with edits.
#[derive(Debug, Clone, Default)]
pub struct Incremental {
    entries: Vec<Entry>,
    valid: bool,
    /// Ranges (current offsets) whose items must be checked again.
    dirty: Vec<Range<usize>>,
}

/// Statistics of the last [`Incremental::analyze`], for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub full: bool,
    pub rechecked: usize,
    pub reused: usize,
}

impl Incremental {
    pub fn apply(&mut self, op: &CacheOp) {
        match op {
            CacheOp::Edit(edit) => self.edit(*edit),
            CacheOp::Invalidate => self.invalidate(),
        }
    }

    pub fn invalidate(&mut self) {
        self.valid = false;
        self.entries.clear();
        self.dirty.clear();
    }

    fn edit(&mut self, e: ByteEdit) {
        if !self.valid {
            return;
        }
        let delta = e.new_end as isize - e.old_end as isize;
        let shift = |x: usize| x.saturating_add_signed(delta);
        // An item that touches the edit (even at its edge) is checked again.
        self.entries.retain_mut(|entry| {
            if entry.range.end < e.start {
                true
            } else if entry.range.start > e.old_end {
                entry.range = shift(entry.range.start)..shift(entry.range.end);
                for finding in &mut entry.findings {
                    finding.shift(delta);
                }
                true
            } else {
                false
            }
        });
        for d in &mut self.dirty {
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
    }

    /// The findings of `src` (whose tree is `tree`), reusing what it can.
    pub fn analyze(&mut self, src: &str, tree: &Tree, ctx: &Context<'_>) -> (Vec<Finding>, Stats) {
        let root = tree.root_node();
        if root.kind() != "config_file" || root.has_error() {
            self.invalidate();
            let findings = super::analyze(src, tree, ctx);
            return (
                findings,
                Stats {
                    full: true,
                    ..Stats::default()
                },
            );
        }
        // Comments before the first item are siblings of the body, not in it.
        let mut cursor = root.walk();
        let body = root
            .named_children(&mut cursor)
            .find(|n| n.kind() == "body");
        let mut stats = Stats::default();
        match body {
            None => {
                self.entries.clear();
                self.dirty.clear();
            }
            Some(body) if !self.valid => {
                stats.full = true;
                let mut cursor = body.walk();
                self.entries = body
                    .children(&mut cursor)
                    .map(|item| check_item(item, src, ctx))
                    .collect();
                self.dirty.clear();
                stats.rechecked = self.entries.len();
            }
            Some(body) => {
                // Comments before or after all items are children of the
                // root, not of the body: a `/*` can turn the rest of the file
                // into one such comment.
                let mut cursor = root.walk();
                let outside: Vec<Node<'_>> = root
                    .children(&mut cursor)
                    .filter(|n| n.kind() != "body")
                    .collect();
                let mut fresh: Vec<Node<'_>> = Vec::new();
                for d in std::mem::take(&mut self.dirty) {
                    // Include an item that ends exactly where the range starts.
                    let mut node = body.first_child_for_byte(d.start.saturating_sub(1));
                    while let Some(item) = node {
                        if item.start_byte() > d.end {
                            break;
                        }
                        if !fresh.contains(&item) {
                            fresh.push(item);
                        }
                        node = item.next_sibling();
                    }
                    for item in &outside {
                        if item.start_byte() <= d.end
                            && d.start <= item.end_byte()
                            && !fresh.contains(item)
                        {
                            fresh.push(*item);
                        }
                    }
                }
                let overlaps = |a: &Range<usize>, b: &Range<usize>| {
                    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
                };
                self.entries.retain(|entry| {
                    !fresh
                        .iter()
                        .any(|item| overlaps(&entry.range, &item.byte_range()))
                });
                stats.rechecked = fresh.len();
                stats.reused = self.entries.len();
                self.entries
                    .extend(fresh.into_iter().map(|item| check_item(item, src, ctx)));
                self.entries.sort_by_key(|e| (e.range.start, e.range.end));
            }
        }
        self.valid = true;
        let findings = self
            .entries
            .iter()
            .flat_map(|e| e.findings.iter().cloned())
            .collect();
        (findings, stats)
    }
}

/// The findings of one top-level item, sorted as [`super::analyze`] sorts.
fn check_item(item: Node<'_>, src: &str, ctx: &Context<'_>) -> Entry {
    let mut findings = Vec::new();
    if let Some(resource) = terraform::resource_of(item, src) {
        for rule in rules::RULES {
            rule.check_resource(&resource, src, ctx, &mut findings);
        }
        findings.sort_by(|a, b| {
            (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
        });
    }
    Entry {
        range: item.byte_range(),
        findings,
    }
}
