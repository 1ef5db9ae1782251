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
//! [`Incremental::sync`] brings the items (and their [`ItemFacts`]) up to the
//! new tree; the caller assembles the file's facts and the module index from
//! them; [`Incremental::check`] then re-checks the items that changed — or
//! all of them when the module's facts changed (its fingerprint differs).
//! The result is identical to [`super::analyze`]; property tests with
//! comments, heredocs, braces and multi-change edits hold it to that. The
//! cache only serves clean trees: with syntax errors, resources may sit inside
//! `ERROR` nodes or unclosed blocks, and the full analysis runs instead.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use std::path::Path;
use std::sync::Arc;

use super::module::{self, FileFacts, FileKind, ItemFacts};
use super::rules::Context;
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
    /// Start over (full text replaced).
    Invalidate,
}

#[derive(Debug, Clone)]
struct Entry {
    range: Range<usize>,
    facts: ItemFacts,
    /// `None` until checked against the current module facts.
    findings: Option<Vec<Finding>>,
}

/// Facts and findings per top-level item, kept in step with edits.
#[derive(Debug, Clone, Default)]
pub struct Incremental {
    entries: Vec<Entry>,
    valid: bool,
    /// Ranges (current offsets) whose items must be read again.
    dirty: Vec<Range<usize>>,
    /// The module fingerprint the cached findings were computed against.
    checked_with: Option<u64>,
    /// The file's facts as last assembled, and whether an item's facts
    /// changed since.
    file_facts: Option<Arc<FileFacts>>,
    facts_changed: bool,
}

/// What [`Incremental::sync`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sync {
    /// The tree is clean and the cache follows it; `check` may be used.
    pub usable: bool,
    /// Some item's facts (variables, locals, resources) changed.
    pub facts_changed: bool,
}

/// Statistics of the last [`Incremental::check`], for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub full: bool,
    pub rechecked: usize,
    pub reused: usize,
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
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
        self.checked_with = None;
        self.file_facts = None;
    }

    /// The facts of the whole file after a [`Incremental::sync`] that was
    /// `usable`: assembled again only when an item's facts changed;
    /// otherwise the last ones, with the (few) variables and locals at their
    /// new positions.
    pub fn file_facts(&mut self, path: &Path, kind: FileKind, text: Arc<String>) -> Arc<FileFacts> {
        let facts = match (&self.file_facts, self.facts_changed) {
            (Some(previous), false) if previous.path == path => {
                let items = self
                    .entries
                    .iter()
                    .map(|e| &e.facts)
                    .filter(|f| !f.variables.is_empty() || !f.locals.is_empty());
                FileFacts::moved(previous, text, items)
            }
            _ => FileFacts::from_items(path, kind, text, self.item_facts()),
        };
        let facts = Arc::new(facts);
        self.file_facts = Some(Arc::clone(&facts));
        self.facts_changed = false;
        facts
    }

    fn edit(&mut self, e: ByteEdit) {
        if !self.valid {
            return;
        }
        let delta = e.new_end as isize - e.old_end as isize;
        let shift = |x: usize| x.saturating_add_signed(delta);
        // An item that touches the edit (even at its edge) is read again.
        let mut dropped_facts = false;
        self.entries.retain_mut(|entry| {
            if entry.range.end < e.start {
                true
            } else if entry.range.start > e.old_end {
                entry.range = shift(entry.range.start)..shift(entry.range.end);
                entry.facts.shift(delta);
                for finding in entry.findings.iter_mut().flatten() {
                    finding.shift(delta);
                }
                true
            } else {
                dropped_facts |= !entry.facts.is_empty();
                false
            }
        });
        self.facts_changed |= dropped_facts;
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

    /// Brings the cached items up to `tree` (the tree of `src`).
    pub fn sync(&mut self, src: &str, tree: &Tree) -> Sync {
        let root = tree.root_node();
        if root.kind() != "config_file" || root.has_error() {
            let had_facts = self.entries.iter().any(|e| !e.facts.is_empty());
            self.invalidate();
            return Sync {
                usable: false,
                facts_changed: had_facts,
            };
        }
        let mut cursor = root.walk();
        // Comments before or after all items are children of the root, not
        // of the body: a `/*` can turn the rest of the file into one comment.
        let children: Vec<Node<'_>> = root.children(&mut cursor).collect();
        let body = children.iter().copied().find(|n| n.kind() == "body");
        let Some(body) = body else {
            let had_facts = self.entries.iter().any(|e| !e.facts.is_empty());
            self.entries.clear();
            self.dirty.clear();
            self.valid = true;
            self.facts_changed = true;
            return Sync {
                usable: true,
                facts_changed: had_facts,
            };
        };
        if !self.valid {
            let mut cursor = body.walk();
            self.entries = body
                .children(&mut cursor)
                .map(|item| Entry {
                    range: item.byte_range(),
                    facts: module::item_facts(item, src),
                    findings: None,
                })
                .collect();
            self.dirty.clear();
            self.valid = true;
            self.checked_with = None;
            self.facts_changed = true;
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
        for d in std::mem::take(&mut self.dirty) {
            // Include an item that ends exactly where the range starts.
            let mut node = body.first_child_for_byte(d.start.saturating_sub(1));
            while let Some(item) = node {
                if item.start_byte() > d.end {
                    // The item after the edit too: the edit may have changed
                    // (or removed) the suppression comment above it.
                    if !fresh.contains(&item) {
                        fresh.push(item);
                    }
                    break;
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
        let mut facts_changed = false;
        self.entries.retain(|entry| {
            let keep = !fresh
                .iter()
                .any(|item| overlaps(&entry.range, &item.byte_range()));
            if !keep && !entry.facts.is_empty() {
                facts_changed = true;
            }
            keep
        });
        for item in fresh {
            let facts = module::item_facts(item, src);
            facts_changed |= !facts.is_empty();
            self.entries.push(Entry {
                range: item.byte_range(),
                facts,
                findings: None,
            });
        }
        self.entries.sort_by_key(|e| (e.range.start, e.range.end));
        self.facts_changed |= facts_changed;
        Sync {
            usable: true,
            facts_changed,
        }
    }

    /// The facts of every item, in order (after [`Incremental::sync`]).
    pub fn item_facts(&self) -> impl Iterator<Item = &ItemFacts> {
        self.entries.iter().map(|e| &e.facts)
    }

    /// The findings of `src`, checking again the items that changed, or all
    /// of them if the module's facts (`fingerprint`) changed. Call after a
    /// [`Incremental::sync`] that reported `usable`.
    pub fn check(
        &mut self,
        src: &str,
        tree: &Tree,
        ctx: &Context<'_>,
        fingerprint: u64,
    ) -> (Vec<Finding>, Stats) {
        let mut stats = Stats::default();
        if self.checked_with != Some(fingerprint) {
            for entry in &mut self.entries {
                entry.findings = None;
            }
            stats.full = true;
            self.checked_with = Some(fingerprint);
        }
        let mut cursor = tree.root_node().walk();
        let body = tree
            .root_node()
            .children(&mut cursor)
            .find(|n| n.kind() == "body");
        for entry in &mut self.entries {
            if entry.findings.is_some() {
                stats.reused += 1;
                continue;
            }
            stats.rechecked += 1;
            let item = body
                .and_then(|b| b.first_child_for_byte(entry.range.start))
                .filter(|n| n.byte_range() == entry.range);
            entry.findings = Some(
                item.map(|item| check_item(item, src, ctx))
                    .unwrap_or_default(),
            );
        }
        let findings = self
            .entries
            .iter()
            .flat_map(|e| e.findings.iter().flatten().cloned())
            .collect();
        (findings, stats)
    }

    /// Sync and check in one go, for callers without cross-file facts: the
    /// full analysis when the tree has errors.
    pub fn analyze(&mut self, src: &str, tree: &Tree, ctx: &Context<'_>) -> (Vec<Finding>, Stats) {
        if !self.sync(src, tree).usable {
            return (
                super::analyze(src, tree, ctx),
                Stats {
                    full: true,
                    ..Stats::default()
                },
            );
        }
        let fingerprint = ctx.module.map_or(0, |m| m.fingerprint());
        self.check(src, tree, ctx, fingerprint)
    }
}

/// The findings of one top-level item, sorted as [`super::analyze`] sorts.
fn check_item(item: Node<'_>, src: &str, ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(resource) = terraform::resource_of(item, src) {
        super::check_resource(&resource, src, ctx, &mut findings);
        findings.sort_by(|a, b| {
            (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
        });
    }
    findings
}
