//! A module's declarations across its files, with override files merged in.
//!
//! Terraform loads the module's ordinary files, then each override file in
//! lexical order, merging every block of an override file into the block of
//! the same type and labels: an argument replaces the argument of the same
//! name; nested blocks of a type replace every nested block of that type (a
//! `dynamic "x"` counts as type `x`); a local replaces the local of the same
//! name. A block in an override file that overrides nothing is an error in
//! Terraform and contributes nothing here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{FileFacts, FileKind, normalize};
use crate::hir::{Attribute, Block, SharedBlock};

/// Where a block is: `(file index, block index)`.
use super::reads::At;

/// The blocks of one key hash: almost always one, held without an
/// allocation (a copy of the tables for a renamed block copies no list).
type Ats = smallvec::SmallVec<[At; 1]>;

/// The hash of a top-level block's kind and labels ([`key_hash`]). Maps
/// keyed by it may hold blocks of other keys (a collision): every lookup
/// checks the block's own kind and labels.
type KeyHash = u64;

fn key_hash<'l>(kind: &str, labels: impl IntoIterator<Item = &'l str>) -> KeyHash {
    use std::hash::{Hash, Hasher};
    let mut h = super::hash::hasher();
    kind.hash(&mut h);
    for label in labels {
        label.hash(&mut h);
    }
    h.finish()
}

fn labels_of(block: &Block) -> impl Iterator<Item = &str> {
    block.labels.iter().map(|l| l.value.as_str())
}

fn block_key(block: &Block) -> KeyHash {
    key_hash(&block.kind, labels_of(block))
}

/// `block` has this kind and these labels.
fn has_key(block: &Block, kind: &str, labels: &[&str]) -> bool {
    block.kind == kind && labels_of(block).eq(labels.iter().copied())
}

/// The two blocks have the same kind and labels.
fn same_key(a: &Block, b: &Block) -> bool {
    a.kind == b.kind && labels_of(a).eq(labels_of(b))
}

/// What differs in a module's index from an earlier one
/// ([`ModuleIndex::changed_since`]).
#[derive(Debug, Default)]
pub(crate) struct Changed {
    /// The keys of the resources whose facts changed ([`ModuleIndex::keys_read`]).
    pub blocks: Vec<u64>,
    /// The files whose text changed: places found in them before may have
    /// moved.
    pub files: Vec<PathBuf>,
}

/// Blocks by key. A key is a hash already: hashed again with SipHash,
/// std's default, the lookups were a tenth of a 10 MB open's index.
type KeyMap = HashMap<KeyHash, Ats, super::hash::FastState>;

/// The declarations of one module.
#[derive(Debug, Default, Clone)]
pub struct ModuleIndex {
    /// The module's folder.
    pub folder: PathBuf,
    /// Sorted by path.
    pub files: Vec<Arc<FileFacts>>,
    /// Where each block and local is: shared by the indexes of texts that
    /// differ only inside blocks (see [`ModuleIndex::replacing`]).
    shape: Arc<Shape>,
    /// The folders `terraform init` installed this module's calls of other
    /// sources (registry, git, …) in, by call name
    /// ([`ModuleIndex::with_installed`]).
    installed: Arc<BTreeMap<String, PathBuf>>,
    /// The called folders that are not there ([`ModuleIndex::with_absent`]).
    absent: Arc<BTreeSet<PathBuf>>,
}

/// Blocks by key hash, in shards each shared until changed: the index of a
/// text whose only change is a renamed block is a copy of the last one's
/// with that block moved ([`ModuleIndex::replacing`]), and copying one map
/// of every block's key for it was most of what a keystroke's index cost
/// (about 0.25 ms at 2 MB, 7,000 blocks). A copy of this copies the shards'
/// pointers; a change copies the shard it changes. About 512 keys a shard,
/// up to 64 shards; a small module has one.
#[derive(Debug, Clone, PartialEq)]
struct Keyed {
    /// A power of two of shards; a key's shard is its top bits.
    shards: Vec<Arc<KeyMap>>,
}

impl Default for Keyed {
    fn default() -> Self {
        Self::for_keys(0)
    }
}

impl Keyed {
    const KEYS_PER_SHARD: usize = 512;
    const MAX_SHARDS: usize = 64;

    /// An empty map sharded for up to about `keys` keys, each shard with
    /// room for its share and an eighth more. Shards grown by doubling left
    /// their old tables free in the allocator's arenas (a table of a shard
    /// is under the size glibc maps on its own): 9 MB more at the peak of a
    /// check of a million blocks.
    fn for_keys(keys: usize) -> Self {
        let shards = (keys / Self::KEYS_PER_SHARD)
            .next_power_of_two()
            .min(Self::MAX_SHARDS);
        let share = keys.div_ceil(shards);
        Self {
            shards: (0..shards)
                .map(|_| {
                    Arc::new(KeyMap::with_capacity_and_hasher(
                        share + share / 8,
                        Default::default(),
                    ))
                })
                .collect(),
        }
    }

    fn shard_of(&self, key: KeyHash) -> usize {
        match self.shards.len() {
            0 | 1 => 0,
            n => (key >> (64 - n.trailing_zeros())) as usize,
        }
    }

    fn get(&self, key: &KeyHash) -> Option<&Ats> {
        self.shards[self.shard_of(*key)].get(key)
    }

    /// The shard of `key`, copied first if it is shared.
    fn shard_mut(&mut self, key: KeyHash) -> &mut KeyMap {
        let i = self.shard_of(key);
        Arc::make_mut(&mut self.shards[i])
    }

    fn get_mut(&mut self, key: &KeyHash) -> Option<&mut Ats> {
        let shard = &self.shards[self.shard_of(*key)];
        if !shard.contains_key(key) {
            return None; // not copied for nothing
        }
        self.shard_mut(*key).get_mut(key)
    }

    fn remove(&mut self, key: &KeyHash) {
        self.shard_mut(*key).remove(key);
    }

    fn entry(&mut self, key: KeyHash) -> &mut Ats {
        self.shard_mut(key).entry(key).or_default()
    }

    fn values(&self) -> impl Iterator<Item = &Ats> {
        self.shards.iter().flat_map(|shard| shard.values())
    }
}

/// Where the blocks and locals of a module's files are, by position. Keyed
/// by hashes, not by copies of every block's kind and labels: building an
/// index allocates no string per block.
#[derive(Debug, Default, Clone, PartialEq)]
struct Shape {
    /// Top-level blocks of ordinary configuration files by `(kind, labels)`.
    base: Keyed,
    /// Top-level blocks of override files, in the order they apply.
    overrides: KeyMap,
    /// Every local: name → `(file, block, attribute)`, the effective one.
    locals: HashMap<String, (usize, usize, usize)>,
    /// The first block of each key of `base`, by the hash of its kind and
    /// (resources only: [`typed_label`]) by the hash of its kind and first
    /// label, in source order: looking up one resource type stays cheap in
    /// a module of thousands of blocks.
    by_kind: KeyMap,
    by_label: KeyMap,
}

/// The first label of a block listed by it (`Shape::by_label`): a
/// resource's type, which [`ModuleIndex::resources`] looks up. Other
/// blocks are not: a module of 4 million variables listed each of them a
/// second time for nothing (about 60 bytes a block).
fn typed_label(block: &Block) -> Option<&str> {
    (block.kind == "resource")
        .then(|| labels_of(block).next())
        .flatten()
}

impl Shape {
    /// Moves the ordinary block at `at`, whose key differs between `old`
    /// and `new` (the module's files before and after, block for block of
    /// the same kinds), from its old key to its new one: in `base`, and in
    /// `by_kind`/`by_label` where it or another block of either key becomes
    /// or stops being the first of its key. The blocks at `pending` are
    /// renamed too, later: they are still under their old keys.
    fn rename(&mut self, old: &[Arc<FileFacts>], new: &[Arc<FileFacts>], at: At, pending: &[At]) {
        fn block(files: &[Arc<FileFacts>], (fi, bi): At) -> &Block {
            files[fi].blocks[bi].unplaced()
        }
        let before = block(old, at);
        let after = block(new, at);
        // The first block (in source order) of `like`'s key in its bucket,
        // reading `at` as `at_as` and each other block under the key it is
        // listed by now.
        let first_of = |base: &Keyed, like: &Block, at_as: &Block| {
            base.get(&block_key(like)).and_then(|ats| {
                ats.iter().copied().find(|x| {
                    let b = match *x {
                        x if x == at => at_as,
                        x if pending.contains(&x) => block(old, x),
                        x => block(new, x),
                    };
                    same_key(b, like)
                })
            })
        };
        let old_first = first_of(&self.base, before, before);
        // Out of the old key's bucket.
        let old_hash = block_key(before);
        if let Some(ats) = self.base.get_mut(&old_hash) {
            ats.retain(|x| *x != at);
            if ats.is_empty() {
                self.base.remove(&old_hash);
            }
        }
        if old_first == Some(at) {
            self.unlist_first(before, at);
            if let Some(next) = first_of(&self.base, before, before) {
                self.list_first(before, next);
            }
        }
        // Into the new key's bucket, in source order.
        let new_first = first_of(&self.base, after, after);
        let ats = self.base.entry(block_key(after));
        let place = ats.partition_point(|x| *x < at);
        ats.insert(place, at);
        match new_first {
            Some(first) if first < at => {}
            Some(first) => {
                self.unlist_first(after, first);
                self.list_first(after, at);
            }
            None => self.list_first(after, at),
        }
    }

    /// Lists `at` (a block with `like`'s kind and first label) as the first
    /// of its key.
    fn list_first(&mut self, like: &Block, at: At) {
        for (map, hash) in self.first_keys(like) {
            let ats = map.entry(hash).or_default();
            let place = ats.partition_point(|x| *x < at);
            ats.insert(place, at);
        }
    }

    fn unlist_first(&mut self, like: &Block, at: At) {
        for (map, hash) in self.first_keys(like) {
            if let Some(ats) = map.get_mut(&hash) {
                ats.retain(|x| *x != at);
                if ats.is_empty() {
                    map.remove(&hash);
                }
            }
        }
    }

    /// Where the first block of `like`'s key is listed: by its kind, and by
    /// its kind and first label.
    fn first_keys(&mut self, like: &Block) -> Vec<(&mut KeyMap, KeyHash)> {
        let mut out = vec![(&mut self.by_kind, key_hash(&like.kind, None))];
        if let Some(first) = typed_label(like) {
            out.push((&mut self.by_label, key_hash(&like.kind, Some(first))));
        }
        out
    }
}

/// A block as Terraform sees it after merging overrides.
#[derive(Debug, Clone)]
pub struct Merged<'a> {
    /// The block in an ordinary file.
    pub base: (&'a FileFacts, &'a Block),
    /// The override blocks merged into it, in order.
    pub overrides: Vec<(&'a FileFacts, &'a Block)>,
    /// Its arguments, each from the file that last set it.
    pub attributes: Vec<(&'a FileFacts, &'a Attribute)>,
    /// Its nested blocks, each type from the file that last set it.
    pub blocks: Vec<(&'a FileFacts, &'a Block)>,
}

/// The type a nested block stands for: `dynamic "x"` is an `x`.
pub(crate) fn effective_kind(block: &Block) -> &str {
    if block.kind == "dynamic" {
        block.label(0).unwrap_or("")
    } else {
        &block.kind
    }
}

impl<'a> Merged<'a> {
    fn new(base: (&'a FileFacts, &'a Block), overrides: Vec<(&'a FileFacts, &'a Block)>) -> Self {
        let mut attributes: Vec<(&FileFacts, &Attribute)> =
            base.1.body.attributes.iter().map(|a| (base.0, a)).collect();
        let mut blocks: Vec<(&FileFacts, &Block)> =
            base.1.body.blocks.iter().map(|b| (base.0, b)).collect();
        for (file, block) in &overrides {
            for attr in &block.body.attributes {
                attributes.retain(|(_, a)| a.name != attr.name);
                attributes.push((file, attr));
            }
            let replaced: Vec<&str> = block.body.blocks.iter().map(effective_kind).collect();
            blocks.retain(|(_, b)| !replaced.contains(&effective_kind(b)));
            blocks.extend(block.body.blocks.iter().map(|b| (*file, b)));
        }
        Self {
            base,
            overrides,
            attributes,
            blocks,
        }
    }

    /// The argument `name` (the last one written, as Terraform keeps one).
    pub fn attribute(&self, name: &str) -> Option<(&'a FileFacts, &'a Attribute)> {
        self.attributes
            .iter()
            .rev()
            .find(|(_, a)| a.name == name)
            .copied()
    }

    /// Nested blocks standing for `kind` (static `kind` blocks and
    /// `dynamic "kind"` blocks), in order.
    pub(crate) fn blocks_of<'k>(
        &'k self,
        kind: &'k str,
    ) -> impl Iterator<Item = (&'a FileFacts, &'a Block)> + 'k {
        self.blocks
            .iter()
            .filter(move |(_, b)| effective_kind(b) == kind)
            .copied()
    }

    /// Is `block` (a top-level block of `file`) part of this merged block?
    pub fn contains(&self, file: &Path, block: &Block) -> bool {
        std::iter::once(&self.base)
            .chain(&self.overrides)
            .any(|(f, b)| f.path == file && b.span == block.span)
    }
}

/// A variable declaration, with overrides merged.
#[derive(Debug, Clone)]
pub struct VariableDecl<'a> {
    pub name: &'a str,
    pub merged: Merged<'a>,
}

impl<'a> VariableDecl<'a> {
    pub fn default(&self) -> Option<(&'a FileFacts, &'a Attribute)> {
        self.merged.attribute("default")
    }

    pub(crate) fn type_expr(&self) -> Option<&'a crate::hir::Expr> {
        self.merged
            .attribute("type")
            .and_then(|(_, a)| a.value.as_ref())
    }

    /// `nullable = false`: a `null` value means the default.
    pub fn nullable(&self) -> bool {
        !matches!(
            self.merged
                .attribute("nullable")
                .and_then(|(_, a)| a.value.as_ref())
                .map(|e| &e.kind),
            Some(crate::hir::ExprKind::Bool(false))
        )
    }
}

/// Whether a module `source` is a local path, which Terraform reads where
/// it is (anything else it installs: registry, git, …).
pub fn is_local_source(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// The name and literal `source` of a `module` block.
fn call_of<'m>(merged: &Merged<'m>) -> Option<(&'m str, &'m str)> {
    let name = merged.base.1.label(0).unwrap_or("");
    let source = merged
        .attribute("source")
        .and_then(|(_, a)| a.value.as_ref())
        .and_then(|e| e.as_literal_string())?;
    Some((name, source))
}

/// Why a module call is not followed ([`ModuleIndex::unfollowed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfollowed<'a> {
    /// A source (registry, git, …) `terraform init` has not installed.
    NotInstalled(&'a str),
    /// A local path to a folder that is not there.
    Absent(&'a str),
    /// No `source` argument: Terraform requires one.
    NoSource,
    /// A `source` that is not a literal string (a variable, a template):
    /// Terraform takes none.
    NotLiteral,
}

/// A `module` block whose folder is known ([`ModuleIndex::calls`]).
#[derive(Debug, Clone)]
pub struct ModuleCall<'a> {
    pub name: &'a str,
    /// The called folder, relative to the same base as this module's.
    pub child: PathBuf,
    pub merged: Merged<'a>,
}

impl ModuleIndex {
    pub fn new(folder: PathBuf, mut files: Vec<Arc<FileFacts>>) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let blocks = files
            .iter()
            .filter(|f| f.kind.is_config() && !f.is_override())
            .map(|f| f.blocks.len())
            .sum();
        let mut base = Keyed::for_keys(blocks);
        let mut overrides = KeyMap::default();
        let mut locals = HashMap::new();
        for (fi, file) in files.iter().enumerate() {
            if !file.kind.is_config() {
                continue;
            }
            // Keys and names do not depend on where blocks are: read
            // without placing moved blocks.
            for (bi, block) in file.blocks.iter().enumerate() {
                let block = block.unplaced();
                if block.kind == "locals" {
                    continue;
                }
                let key = block_key(block);
                let ats = if file.is_override() {
                    overrides.entry(key).or_default()
                } else {
                    base.entry(key)
                };
                ats.push((fi, bi));
            }
        }
        // Locals: ordinary files first, then overrides replace by name.
        for pass_override in [false, true] {
            for (fi, file) in files.iter().enumerate() {
                if !file.kind.is_config() || file.is_override() != pass_override {
                    continue;
                }
                for (bi, block) in file.blocks.iter().enumerate() {
                    let block = block.unplaced();
                    if block.kind != "locals" {
                        continue;
                    }
                    for (ai, attr) in block.body.attributes.iter().enumerate() {
                        if pass_override && !locals.contains_key(attr.name.as_str()) {
                            continue; // overrides nothing
                        }
                        if !pass_override && locals.contains_key(attr.name.as_str()) {
                            continue; // a duplicate: the first counts
                        }
                        locals.insert(attr.name.to_string(), (fi, bi, ai));
                    }
                }
            }
        }
        // The first block of each key (a bucket may hold several keys).
        let block = |(fi, bi): At| files[fi].blocks[bi].unplaced();
        let mut firsts: Vec<At> = Vec::new();
        for ats in base.values() {
            for (i, at) in ats.iter().enumerate() {
                if !ats[..i]
                    .iter()
                    .any(|prev| same_key(block(*prev), block(*at)))
                {
                    firsts.push(*at);
                }
            }
        }
        firsts.sort_unstable();
        let mut by_kind = KeyMap::default();
        let mut by_label = KeyMap::default();
        for at in firsts {
            let b = block(at);
            by_kind.entry(key_hash(&b.kind, None)).or_default().push(at);
            if let Some(first) = typed_label(b) {
                by_label
                    .entry(key_hash(&b.kind, Some(first)))
                    .or_default()
                    .push(at);
            }
        }
        // Grown by doubling: a module of a million subnets lists them all
        // under one kind and one type, with up to as much room again.
        for ats in by_kind.values_mut().chain(by_label.values_mut()) {
            ats.shrink_to_fit();
        }
        Self {
            folder,
            files,
            shape: Arc::new(Shape {
                base,
                overrides,
                locals,
                by_kind,
                by_label,
            }),
            installed: Arc::default(),
            absent: Arc::default(),
        }
    }

    /// This index, knowing where `terraform init` installed the module's
    /// calls whose sources are not local paths (by call name): those calls
    /// are followed like local ones ([`ModuleIndex::calls`]).
    pub fn with_installed(mut self, installed: Arc<BTreeMap<String, PathBuf>>) -> Self {
        self.installed = installed;
        self
    }

    /// This index, knowing which of the folders its calls lead to are not
    /// there (`./modules/typo`: Terraform cannot read the module): such a
    /// call is not followed, like one of a source not installed.
    pub fn with_absent(mut self, absent: BTreeSet<PathBuf>) -> Self {
        self.absent = Arc::new(absent);
        self
    }

    /// This index with `file` in place of the file of the same path, when
    /// that keeps every block's and local's place: the same blocks (by
    /// kind) in the same order, the same locals. A few renamed blocks of an
    /// ordinary file are moved to their new keys in a copy of the old
    /// shape. `None` otherwise (build a new index). A keystroke inside a
    /// block, or in one block's labels, makes such a file: its index costs a
    /// comparison instead of a rebuild of every block's key.
    pub fn replacing(&self, file: Arc<FileFacts>) -> Option<Self> {
        /// More renamed blocks than this: a new index is as cheap.
        const MAX_RENAMED: usize = 16;
        let i = self.file_at(&file.path)?;
        let old = &self.files[i];
        if old.kind != file.kind || old.blocks.len() != file.blocks.len() {
            return None;
        }
        let mut renamed = Vec::new();
        for (bi, (a, b)) in old.blocks.iter().zip(&file.blocks).enumerate() {
            // A block the edit only moved (or did not touch) keeps its key;
            // keys are read without placing moved blocks.
            if SharedBlock::same_source(a, b) {
                continue;
            }
            let (a, b) = (a.unplaced(), b.unplaced());
            if a.kind != b.kind {
                return None;
            }
            if a.kind == "locals" {
                let (x, y) = (&a.body.attributes, &b.body.attributes);
                if !x.iter().map(|a| &a.name).eq(y.iter().map(|b| &b.name)) {
                    return None;
                }
            } else if !same_key(a, b) {
                renamed.push(bi);
                if renamed.len() > MAX_RENAMED || old.is_override() || !old.kind.is_config() {
                    return None;
                }
            }
        }
        let mut files = self.files.clone();
        files[i] = file;
        let shape = if renamed.is_empty() {
            Arc::clone(&self.shape)
        } else {
            let mut shape = Shape::clone(&self.shape);
            for (n, bi) in renamed.iter().enumerate() {
                let pending: Vec<At> = renamed[n + 1..].iter().map(|b| (i, *b)).collect();
                shape.rename(&self.files, &files, (i, *bi), &pending);
            }
            Arc::new(shape)
        };
        Some(Self {
            folder: self.folder.clone(),
            files,
            shape,
            installed: Arc::clone(&self.installed),
            absent: Arc::clone(&self.absent),
        })
    }

    /// The block at `at`, read (by the check recording, if one is).
    fn at(&self, (fi, bi): At) -> (&FileFacts, &Block) {
        super::reads::read(self.address(), (fi, bi));
        let file = &self.files[fi];
        (file.as_ref(), file.blocks[bi].as_ref())
    }

    /// The merged block of type `kind` with these labels.
    pub(crate) fn merged(&self, kind: &str, labels: &[&str]) -> Option<Merged<'_>> {
        // The first declaration counts (Terraform rejects duplicates).
        let base = *self
            .shape
            .base
            .get(&key_hash(kind, labels.iter().copied()))?
            .iter()
            .find(|at| has_key(self.at(**at).1, kind, labels))?;
        Some(self.merged_at(base))
    }

    /// The merged block whose first ordinary declaration is `base`.
    fn merged_at(&self, base: At) -> Merged<'_> {
        let base = self.at(base);
        Merged::new(base, self.overrides_of(base.1))
    }

    /// The override blocks of `block`'s key, in the order they apply.
    fn overrides_of(&self, block: &Block) -> Vec<(&FileFacts, &Block)> {
        self.shape
            .overrides
            .get(&block_key(block))
            .map(|v| {
                v.iter()
                    .map(|at| self.at(*at))
                    .filter(|(_, b)| same_key(b, block))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The merged block that `block` (a top-level block of `file`, ordinary
    /// or override) belongs to. A second ordinary declaration of the same
    /// address (an error to Terraform) is judged as if it were the only one.
    pub(crate) fn merged_for(&self, file: &Path, block: &Block) -> Option<Merged<'_>> {
        let bases: Vec<(&FileFacts, &Block)> = self
            .shape
            .base
            .get(&block_key(block))?
            .iter()
            .map(|at| self.at(*at))
            .filter(|(_, b)| same_key(b, block))
            .collect();
        let overrides = self.overrides_of(block);
        for (f, b) in &bases {
            if f.path == file && b.span == block.span {
                return Some(Merged::new((f, b), overrides));
            }
        }
        let merged = Merged::new(*bases.first()?, overrides);
        merged.contains(file, block).then_some(merged)
    }

    /// The merged view of `block`, a block of the ordinary file `file` left
    /// out of its facts ([`FileFacts::detached`]): itself, with the blocks
    /// of override files merged into it. `None` if `file` is not in this
    /// module.
    pub(crate) fn merged_detached<'s>(
        &'s self,
        file: &Path,
        block: &'s Block,
    ) -> Option<Merged<'s>> {
        let facts = &self.files[self.file_at(file)?];
        Some(Merged::new((facts, block), self.overrides_of(block)))
    }

    /// Where the file at `path` is in `files` (sorted by path).
    fn file_at(&self, path: &Path) -> Option<usize> {
        self.files
            .binary_search_by(|f| f.path.as_path().cmp(path))
            .ok()
    }

    /// Every merged block of type `kind` (`resource`, `module`, …).
    pub(crate) fn all_merged<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = Merged<'s>> + 's {
        self.merged_where(kind, None)
    }

    /// Every merged block of type `kind` whose first label is `label` (when
    /// given), in source order. Only those are merged: looking up one
    /// resource type in a module of thousands of resources stays cheap.
    fn merged_where<'s>(
        &'s self,
        kind: &'s str,
        label: Option<&'s str>,
    ) -> impl Iterator<Item = Merged<'s>> + 's {
        debug_assert!(
            label.is_none() || kind == "resource",
            "by_label lists resources only"
        );
        let firsts = match label {
            Some(l) => self.shape.by_label.get(&key_hash(kind, Some(l))),
            None => self.shape.by_kind.get(&key_hash(kind, None)),
        };
        firsts
            .into_iter()
            .flatten()
            .filter(move |at| {
                let b = self.at(**at).1;
                b.kind == kind && label.is_none_or(|l| labels_of(b).next() == Some(l))
            })
            .map(|at| self.merged_at(*at))
    }

    /// The merged resources of `resource_type`.
    pub fn resources<'s>(
        &'s self,
        resource_type: &'s str,
    ) -> impl Iterator<Item = Merged<'s>> + 's {
        self.merged_where("resource", Some(resource_type))
    }

    /// The module's variable `name`.
    pub fn variable(&self, name: &str) -> Option<VariableDecl<'_>> {
        let merged = self.merged("variable", &[name])?;
        Some(VariableDecl {
            name: merged.base.1.label(0).unwrap_or(""),
            merged,
        })
    }

    /// Every variable the module declares.
    pub fn variables(&self) -> impl Iterator<Item = VariableDecl<'_>> {
        self.all_merged("variable").map(|merged| VariableDecl {
            name: merged.base.1.label(0).unwrap_or(""),
            merged,
        })
    }

    /// The effective definition of `local.NAME`.
    pub fn local(&self, name: &str) -> Option<(&FileFacts, &Attribute)> {
        let (fi, bi, ai) = *self.shape.locals.get(name)?;
        super::reads::read(self.address(), (fi, bi));
        let file = &self.files[fi];
        Some((file.as_ref(), &file.blocks[bi].body.attributes[ai]))
    }

    /// The tfvars assignment Terraform would use for `name` in a root module:
    /// `terraform.tfvars`, then `terraform.tfvars.json`, then the
    /// `*.auto.tfvars(.json)` files in lexical order; later wins.
    pub fn assignment(&self, name: &str) -> Option<(&FileFacts, &Attribute)> {
        let mut tfvars: Vec<&Arc<FileFacts>> = self
            .files
            .iter()
            .filter(|f| matches!(f.kind, FileKind::Tfvars | FileKind::TfvarsJson))
            .collect();
        tfvars.sort_by_key(|f| tfvars_precedence(&f.path));
        tfvars.into_iter().rev().find_map(|f| {
            f.assignments
                .iter()
                .rev()
                .find(|a| a.name == name)
                .map(|a| (f.as_ref(), a))
        })
    }

    /// The `module` blocks whose folder is known: a `source` that is a local
    /// path (`./x`, `../x`), or one `terraform init` installed.
    pub fn calls(&self) -> Vec<ModuleCall<'_>> {
        self.all_merged("module")
            .filter_map(|merged| {
                let (name, source) = call_of(&merged)?;
                let child = self.folder_of_call(name, source)?;
                Some(ModuleCall {
                    name,
                    child,
                    merged,
                })
            })
            .collect()
    }

    /// The name of the `module` block `merged` and why it is not followed,
    /// when its folder is not known — a source (registry, git, …) `terraform
    /// init` has not installed, or none Terraform takes — or not there.
    pub(crate) fn unfollowed<'m>(&self, merged: &Merged<'m>) -> Option<(&'m str, Unfollowed<'m>)> {
        let Some((name, source)) = call_of(merged) else {
            let (_, block) = merged.base;
            // A block being typed may have its source in what did not parse.
            if !block.closed || merged.overrides.iter().any(|(_, b)| !b.closed) {
                return None;
            }
            let why = match merged.attribute("source") {
                None => Unfollowed::NoSource,
                Some(_) => Unfollowed::NotLiteral,
            };
            return Some((block.label(0).unwrap_or(""), why));
        };
        let why = match self.folder_of_call(name, source) {
            None => Unfollowed::NotInstalled(source),
            Some(folder) if self.absent.contains(&folder) => Unfollowed::Absent(source),
            Some(_) => return None,
        };
        Some((name, why))
    }

    /// Where the call `name` of `source` leads, if that is known.
    fn folder_of_call(&self, name: &str, source: &str) -> Option<PathBuf> {
        if is_local_source(source) {
            Some(normalize(&self.folder.join(source)))
        } else {
            self.installed.get(name).cloned()
        }
    }

    /// What a check that read `read` (in this index) read, by the keys of
    /// the blocks: a block found by its key in a later index whose blocks
    /// moved (one added before it, say) is still the block read. Two
    /// blocks of one key (a second declaration, an override) are taken as
    /// one: when one changes, the checks that read either are made again.
    /// A read of another index (a caller's, a called module's) counts as a
    /// read of every block.
    pub(crate) fn keys_read(&self, read: &super::reads::Reads) -> super::reads::Reads<u64> {
        use super::reads::Reads;
        let key = |&(index, (fi, bi)): &super::reads::Read| {
            let file = self.files.get(fi).filter(|_| index == self.address())?;
            Some(block_key(file.blocks.get(bi)?.unplaced()))
        };
        match read {
            Reads::Blocks(blocks) => blocks
                .iter()
                .map(key)
                .collect::<Option<Vec<u64>>>()
                .map_or(Reads::All, Reads::of),
            Reads::All => Reads::All,
        }
    }

    /// Where this index is while a check reads it: which index a recorded
    /// read was of.
    fn address(&self) -> usize {
        self as *const Self as usize
    }

    /// The resources whose facts (what other blocks read of them) differ
    /// from `old`'s; `old` is an earlier index of the module with
    /// the same keys in the same places (what keystrokes inside blocks make:
    /// [`ModuleIndex::replacing`]). `None` when anything else may differ: a
    /// block added, removed or renamed; a variable, local, module call,
    /// data source or override changed; a tfvars file, the calls' folders.
    /// Only the checks that read one of these blocks
    /// ([`super::reads`]) can find something else than before.
    pub(crate) fn changed_since(&self, old: &ModuleIndex) -> Option<Changed> {
        if !Arc::ptr_eq(&self.shape, &old.shape)
            || self.folder != old.folder
            || self.files.len() != old.files.len()
            || self.installed != old.installed
            || self.absent != old.absent
        {
            return None;
        }
        let mut changed = Changed::default();
        for (new, was) in self.files.iter().zip(&old.files) {
            if Arc::ptr_eq(new, was) {
                continue;
            }
            changed.files.push(new.path.clone());
            let alike = new.path == was.path
                && new.kind == was.kind
                && new.kind.is_config()
                && !new.is_override()
                && new.detached.is_empty()
                && was.detached.is_empty()
                && new.blocks.len() == was.blocks.len();
            if !alike {
                return None;
            }
            if new.semantic == was.semantic {
                continue;
            }
            for (a, b) in new.blocks.iter().zip(&was.blocks) {
                if SharedBlock::same_source(a, b) {
                    continue;
                }
                let (a, b) = (a.unplaced(), b.unplaced());
                if super::shared_hash(a, false) == super::shared_hash(b, false) {
                    continue;
                }
                if a.kind != "resource" || b.kind != "resource" {
                    return None;
                }
                changed.blocks.push(block_key(a));
            }
        }
        Some(changed)
    }

    /// Changes when anything analysis reads from the index changes (not when
    /// text moves or changes elsewhere in the files).
    pub fn fingerprint(&self) -> u64 {
        let mut h = super::hash::hasher();
        self.installed.hash(&mut h);
        self.absent.hash(&mut h);
        for f in &self.files {
            (&f.path, f.kind as u8, f.semantic).hash(&mut h);
        }
        h.finish()
    }
}

/// Where Terraform applies a tfvars file: later files win.
fn tfvars_precedence(path: &Path) -> (u8, String) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let rank = match name.as_str() {
        "terraform.tfvars" => 0,
        "terraform.tfvars.json" => 1,
        _ => 2, // *.auto.tfvars(.json), in lexical order of their names
    };
    (rank, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn facts(name: &str, text: &str) -> Arc<FileFacts> {
        let path = PathBuf::from(name);
        let kind = FileKind::of(&path).unwrap();
        Arc::new(FileFacts::extract(
            &path,
            kind,
            Arc::new(text.to_owned()),
            None,
        ))
    }

    /// What a check read is kept by the blocks' keys, found again in a
    /// later index where a block was added before them; a read of another
    /// index (or of a place this one does not have) is a read of every
    /// block.
    #[test]
    fn reads_are_kept_by_key_and_of_their_own_index_only() {
        use crate::module::reads::{self, Reads};
        let subnet = "resource \"aws_subnet\" \"s\" {}\n";
        let vpc = "resource \"aws_vpc\" \"v\" {}\n";
        let model = "resource \"aws_sagemaker_model\" \"m\" {}\n";
        let index =
            |text: String| ModuleIndex::new(PathBuf::from("."), vec![facts("main.tf", &text)]);
        let before = index([subnet, vpc].concat());
        let after = index([model, subnet, vpc].concat());
        let read_subnet = |index: &ModuleIndex| {
            reads::recording(|| index.merged("resource", &["aws_subnet", "s"]).is_some())
        };
        let (found, read) = read_subnet(&before);
        assert!(found);
        let keys = before.keys_read(&read);
        let subnet_key = key_hash("resource", ["aws_subnet", "s"]);
        assert_eq!(keys, Reads::of(vec![subnet_key]));
        assert!(!keys.any_of(&[key_hash("resource", ["aws_vpc", "v"])]));
        // The subnet is block 1 now, not 0: the same key.
        let (_, read_after) = read_subnet(&after);
        assert_ne!(read_after, read);
        assert_eq!(after.keys_read(&read_after), keys);
        // Read in one index, taken as of another: every block.
        assert_eq!(after.keys_read(&read), Reads::All);
    }

    #[test]
    fn overrides_replace_arguments_and_nested_blocks() {
        let index = ModuleIndex::new(
            PathBuf::from("."),
            vec![
                facts(
                    "main.tf",
                    "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"a\"\n  vpc_config {\n    subnets = []\n  }\n}\n",
                ),
                facts(
                    "z_override.tf",
                    "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets = [\"s\"]\n  }\n}\nresource \"aws_x\" \"orphan\" {}\n",
                ),
            ],
        );
        let m = index
            .merged("resource", &["aws_sagemaker_model", "m"])
            .unwrap();
        assert_eq!(m.attribute("name").unwrap().0.name(), "main.tf");
        let vpcs: Vec<_> = m.blocks_of("vpc_config").collect();
        assert_eq!(vpcs.len(), 1);
        assert_eq!(vpcs[0].0.name(), "z_override.tf");
        // An override of nothing is no resource.
        assert!(index.merged("resource", &["aws_x", "orphan"]).is_none());
    }

    #[test]
    fn tfvars_precedence_and_local_calls() {
        let index = ModuleIndex::new(
            PathBuf::from("root"),
            vec![
                facts("root/terraform.tfvars", "b = 1\n"),
                facts("root/z.auto.tfvars.json", "{\"b\": 3}"),
                facts("root/a.auto.tfvars", "b = 2\n"),
                facts(
                    "root/main.tf",
                    "module \"ml\" {\n  source = \"../modules/ml\"\n}\nmodule \"r\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
                ),
            ],
        );
        let (file, _) = index.assignment("b").unwrap();
        assert_eq!(file.name(), "z.auto.tfvars.json");
        let calls = index.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].child, PathBuf::from("modules/ml"));
    }

    /// What an index says, for comparing two: every merged block's files,
    /// spans and arguments, and every local.
    fn said(index: &ModuleIndex) -> String {
        let mut out = String::new();
        for kind in ["resource", "variable", "data", "module"] {
            for m in index.all_merged(kind) {
                out += &format!("{kind} {:?} {:?}\n", m.base.0.path, m.base.1);
                for (f, b) in &m.overrides {
                    out += &format!("  override {:?} {:?}\n", f.path, b.span);
                }
            }
        }
        for name in ["a", "b", "c"] {
            out += &format!(
                "local {name}: {:?}\n",
                index.local(name).map(|(f, a)| (&f.path, a))
            );
        }
        out
    }

    /// Random modules, random renames of a few blocks (to a key another
    /// block has, to a new one, away from a duplicate): the patched index
    /// is the new index, its shape included.
    #[test]
    fn renaming_blocks_patches_the_index_into_the_new_one() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let kinds = ["resource", "variable", "data", "module", "output"];
        let types = ["aws_subnet", "aws_sagemaker_model"];
        let names = ["a", "b", "c", "d"];
        for case in 0..400 {
            let mut blocks: Vec<(usize, usize, usize)> = (0..1 + next(12))
                .map(|_| (next(kinds.len()), next(types.len()), next(names.len())))
                .collect();
            let text = |blocks: &[(usize, usize, usize)]| {
                let mut t = String::new();
                for &(k, ty, n) in blocks {
                    match kinds[k] {
                        "resource" | "data" => {
                            t += &format!("{} \"{}\" \"{}\" {{}}\n", kinds[k], types[ty], names[n])
                        }
                        kind => t += &format!("{kind} \"{}\" {{}}\n", names[n]),
                    }
                }
                t
            };
            let other = "resource \"aws_subnet\" \"b\" {}\nvariable \"c\" {}\n";
            let files = |main: &str| {
                vec![
                    facts("a.tf", other),
                    facts("main.tf", main),
                    facts("z.tf", other),
                    facts("x_override.tf", "variable \"a\" {}\n"),
                ]
            };
            let mut index = ModuleIndex::new(PathBuf::from("."), files(&text(&blocks)));
            for step in 0..4 {
                for _ in 0..1 + next(3) {
                    let i = next(blocks.len());
                    blocks[i].1 = next(types.len());
                    blocks[i].2 = next(names.len());
                }
                let main = text(&blocks);
                let replaced = index
                    .replacing(facts("main.tf", &main))
                    .expect("the same kinds in the same order");
                let fresh = ModuleIndex::new(PathBuf::from("."), files(&main));
                assert_eq!(
                    replaced.shape, fresh.shape,
                    "case {case}, step {step}:\n{main}"
                );
                assert_eq!(said(&replaced), said(&fresh), "case {case}, step {step}");
                index = replaced;
            }
        }
    }

    /// A rename in a large module copies the shards of the two keys, not
    /// the map of every block's key, and makes the same index as a new one.
    #[test]
    fn a_rename_in_a_large_module_copies_two_shards_of_its_keys_only() {
        let module = |renamed: usize| {
            let mut text = String::new();
            for i in 0..5_000 {
                let name = if i == renamed {
                    format!("s{i}x")
                } else {
                    format!("s{i}")
                };
                text.push_str(&format!("resource \"aws_subnet\" \"{name}\" {{}}\n"));
            }
            text
        };
        let index = ModuleIndex::new(
            PathBuf::from("."),
            vec![facts("main.tf", &module(usize::MAX))],
        );
        let shards = index.shape.base.shards.len();
        assert!(shards >= 8, "{shards} shards for 5,000 keys");
        // Made with room for their keys: none grew (and left its old table
        // free) while the index was built.
        let made = Keyed::for_keys(5_000).shards[0].capacity();
        for shard in &index.shape.base.shards {
            assert_eq!(
                shard.capacity(),
                made,
                "a shard of {} keys grew",
                shard.len()
            );
        }
        for renamed in [0, 2_500, 4_999] {
            let main = facts("main.tf", &module(renamed));
            let replaced = index
                .replacing(Arc::clone(&main))
                .expect("a rename is patched");
            let copied = index
                .shape
                .base
                .shards
                .iter()
                .zip(&replaced.shape.base.shards)
                .filter(|(a, b)| !Arc::ptr_eq(a, b))
                .count();
            assert!(
                (1..=2).contains(&copied),
                "{copied} of {shards} shards copied"
            );
            let fresh = ModuleIndex::new(PathBuf::from("."), vec![main]);
            assert_eq!(replaced.shape, fresh.shape);
            assert_eq!(said(&replaced), said(&fresh));
        }
    }

    #[test]
    fn replacing_a_file_whose_blocks_keep_their_places_equals_a_new_index() {
        let main = "locals {\n  a = 1\n}\nresource \"aws_subnet\" \"s\" {\n  cidr_block = \"10.0.0.0/24\"\n}\nvariable \"v\" {}\n";
        let other = "locals {\n  b = 2\n}\nresource \"aws_sagemaker_model\" \"m\" {}\n";
        let over = "resource \"aws_subnet\" \"s\" {\n  vpc_id = \"x\"\n}\n";
        let files = |m: &str| {
            vec![
                facts("main.tf", m),
                facts("other.tf", other),
                facts("x_override.tf", over),
            ]
        };
        let index = ModuleIndex::new(PathBuf::from("."), files(main));
        // Inside blocks only (values, spans shifted by a longer line): the
        // old places hold.
        let edited = "locals {\n  a = 100\n}\nresource \"aws_subnet\" \"s\" {\n  cidr_block = \"10.0.1.0/24\"\n  tags = {}\n}\nvariable \"v\" {\n  default = []\n}\n";
        let replaced = index
            .replacing(facts("main.tf", edited))
            .expect("same places");
        let fresh = ModuleIndex::new(PathBuf::from("."), files(edited));
        assert_eq!(said(&replaced), said(&fresh));
        assert_eq!(replaced.fingerprint(), fresh.fingerprint());
        assert_ne!(said(&replaced), said(&index));
        // A renamed block moves to its new key (here away from its
        // override): the same index as a new one.
        let renamed = main.replace("\"s\"", "\"t\"");
        let replaced = index
            .replacing(facts("main.tf", &renamed))
            .expect("a rename is patched");
        let fresh = ModuleIndex::new(PathBuf::from("."), files(&renamed));
        assert_eq!(said(&replaced), said(&fresh));
        assert_eq!(replaced.shape, fresh.shape);
        // A new or removed block, a renamed local: places change, so a new
        // index is needed.
        for changed in [
            main.replace("variable \"v\" {}\n", ""),
            format!("{main}variable \"w\" {{}}\n"),
            main.replace("  a = 1", "  c = 1"),
        ] {
            assert!(
                index.replacing(facts("main.tf", &changed)).is_none(),
                "{changed}"
            );
        }
        // A file the index does not hold.
        assert!(index.replacing(facts("new.tf", main)).is_none());
    }
}
