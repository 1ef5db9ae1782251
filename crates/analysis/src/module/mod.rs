//! What a Terraform module (one folder) declares, across its files, and how
//! its values resolve.
//!
//! * [`FileFacts`]: one file, lowered to [`crate::hir`] (its top-level
//!   blocks, or a tfvars file's assignments).
//! * [`ModuleIndex`]: a folder's files, with override files merged into the
//!   blocks they override, as Terraform merges them.
//! * [`Frame`] and [`ModuleScope`]: a module as one instance of it is
//!   evaluated — as a root module (tfvars, then defaults) or through a
//!   `module` block of a caller (that call's arguments, then defaults).
//!
//! Nothing here reads files: texts come from the project layer (disk or an
//! editor's buffers).

mod hash;
mod index;
pub(crate) mod reads;
mod scope;

use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tree_sitter::Tree;

use crate::finding::Run;
use crate::hir::{Attribute, Block, SharedBlock};
use crate::{json, lower, syntax, terraform};

pub(crate) use index::{Merged, VariableDecl, effective_kind};
pub use index::{ModuleIndex, Unfollowed, is_local_source};
pub use scope::{Frame, InstanceKey, Modules, Reference, frames};

/// Above this size a file's findings come from its chunks parsed one by one
/// even when it has syntax errors (see [`FileFacts::extract_needed`]).
pub const WHOLE_FILE_PARSE_LIMIT: usize = 1024 * 1024;

/// Above this size, the blocks of a file read for findings that no other
/// block reads are not held lowered while its module is read: each is
/// lowered again when the file is analyzed (see [`FileFacts::detached`]).
/// That parses them twice (a 10 MB file of models, read so with the limit
/// lowered: 4.7 s instead of 3.2 s) but holds the file in bounded memory
/// (123 MB instead of 205 MB; a 100 MB one, 0.77 GB instead of 1.97 GB).
/// Below it, holding them is the faster
/// choice and costs at most a few hundred megabytes; the default
/// `--max-file-size` of `check` (32 MiB) is above it.
pub const DETACH_LIMIT: usize = 16 * 1024 * 1024;

/// Only blocks up to this size are left out: what a block costs held
/// lowered is mostly per block (a large one is mostly masked strings or
/// nesting its parse costs anyway), while parsing it twice costs per byte
/// (a file of 20 blocks nested 450,000 deep took twice as long, for no
/// memory saved).
const DETACH_MAX_BLOCK: usize = 64 * 1024;

/// How far (in bytes) a broken chunk of the lenient split is joined with
/// the chunks after it to find a clean parse.
const MEND_WINDOW: usize = 256 * 1024;

/// A chunk's tree; in the lenient read, of the chunk with its long
/// literals masked (see [`crate::lower::mask`]), kept for lowering.
struct Parsed {
    tree: tree_sitter::Tree,
    masked: Option<(String, crate::lower::Masks)>,
}

impl Parsed {
    fn new(chunk: &str, lenient: bool) -> Self {
        let masked = lenient
            .then(|| crate::lower::mask(chunk, crate::lower::MASK_MIN))
            .flatten();
        // What is nested too deep for the lowering to read is blanked too
        // (the same length: the literals' masks stay where they were).
        let masked = match syntax::mask_deep(masked.as_ref().map_or(chunk, |(m, _)| m)) {
            Some(deep) => Some((deep, masked.map(|(_, masks)| masks).unwrap_or_default())),
            None => masked,
        };
        let tree = syntax::parse(masked.as_ref().map_or(chunk, |(m, _)| m), None);
        Self { tree, masked }
    }

    fn has_error(&self) -> bool {
        self.tree.root_node().has_error()
    }

    /// The chunk's blocks.
    fn lower(self, chunk: &str) -> Vec<Block> {
        match self.masked {
            Some((masked, masks)) => {
                crate::lower::with_masks(masks, || terraform::file_blocks(&masked, &self.tree))
            }
            None => terraform::file_blocks(chunk, &self.tree),
        }
    }
}

/// The blocks of the item at `range` of `text`, parsed into `parsed`, with
/// spans in `text`.
fn lower_parsed(text: &str, range: Range<usize>, parsed: Parsed) -> Vec<Block> {
    let mut blocks = parsed.lower(&text[range.clone()]);
    for block in &mut blocks {
        block.shift(range.start as isize);
    }
    blocks
}

/// The blocks of the item at `range` of `text` read without a tree
/// ([`crate::lower::direct`]): what [`Parsed::lower`] of the item's parse
/// gives, when the direct reading reads all of it (`None` otherwise).
fn read_directly(text: &str, range: Range<usize>) -> Option<Vec<Block>> {
    let mut blocks = Vec::new();
    let refuse = |b: &Block| terraform::rejected_header(&b.kind, b.labels.len());
    let stop = crate::lower::direct::read(text, range.clone(), refuse, |item| {
        if let crate::lower::direct::Item::Block(mut b) = item {
            b.shrink();
            blocks.push(b);
        }
    });
    (stop == range.end).then_some(blocks)
}

/// The blocks of a detached item (see [`FileFacts::detached`]), read as the
/// lenient split first read them.
pub(crate) fn lower_detached(text: &str, range: Range<usize>) -> Vec<Block> {
    if let Some(blocks) = read_directly(text, range.clone()) {
        return blocks;
    }
    let parsed = Parsed::new(&text[range.clone()], true);
    lower_parsed(text, range, parsed)
}

/// A top-level block `check` need not hold while it reads the rest of its
/// module: a resource of an ordinary file that no other block reads (a
/// model, most often). It is analyzed on its own, against the module's
/// shared blocks, as the server's incremental analysis does.
fn detachable(block: &Block) -> bool {
    block.kind == "resource" && !hash::is_shared(block, false)
}

/// The chunks of the lenient split, by where each ends: each starts where
/// the one before it ends (the first at 0).
struct Chunks(Vec<usize>);

impl Chunks {
    fn range(&self, i: usize) -> Range<usize> {
        let start = if i == 0 { 0 } else { self.0[i - 1] };
        start..self.0[i]
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// What the lenient read wants of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Nothing: no block analysis reads starts in it.
    No,
    /// Every block in it.
    Whole,
    /// A chunk Terraform would reject (a header it does not take, a stray
    /// token): parsed, but only the blocks [`worth_holding`] are held.
    ///
    /// [`worth_holding`]: crate::terraform::worth_holding
    Held,
}

/// The assignments of a `.tfvars` text read stretch by stretch, as the
/// analysis cache first reads a `.tf` file: the tree of one stretch of
/// attributes at a time, not of the whole text (a tree costs about 40
/// times its text: 1 MB of `aN = N` took 67 MiB in the editor, which kept
/// it). `None` when the split does not understand the text or a stretch
/// does not parse cleanly: it is then parsed whole.
fn tfvars_by_stretches(text: &str) -> Option<Vec<Attribute>> {
    let items = crate::split::split_with_attributes(text)?;
    if items.is_empty() {
        return None;
    }
    let mut points = syntax::Points::new(text);
    let mut assignments = Vec::new();
    for stretch in crate::incremental::init_stretches(&items, text.len()) {
        // Read without a tree as far as that goes (see `lower::direct`).
        let stop = lower::direct::read(
            text,
            stretch.clone(),
            |_| false,
            |item| {
                if let lower::direct::Item::Attribute(a) = item {
                    assignments.push(a);
                }
            },
        );
        if text[stop..stretch.end].trim().is_empty() {
            continue;
        }
        let (start, end) = (points.at(stop), points.at(stretch.end));
        let tree = syntax::parse_stretch_at(text, stop..stretch.end, start, end)?;
        assignments.extend(lower::hcl::tfvars(text, &tree));
    }
    Some(assignments)
}

/// A chunk of the lenient split that does not parse on its own is either
/// a real syntax error or a place where the split's lexical view and
/// tree-sitter's differ (a string the split ended early): joined with the
/// chunks after it — 1, 2, 4… of them, within [`MEND_WINDOW`] and the
/// budget of bytes to parse again — the second kind parses cleanly.
/// `read_clean` reads a run of chunks joined (`None` when it does not
/// parse cleanly). Returns the last chunk joined and what was read, or
/// `None`: the error is real, and stays in its chunk.
fn mend<T>(
    chunks: &Chunks,
    first: usize,
    budget: &mut usize,
    mut read_clean: impl FnMut(Range<usize>) -> Option<T>,
) -> Option<(usize, T)> {
    let start = chunks.range(first).start;
    let mut more = 1;
    loop {
        let last = (first + more).min(chunks.len() - 1);
        let end = chunks.range(last).end;
        if last == first || end - start > MEND_WINDOW || end - start > *budget {
            return None;
        }
        *budget -= end - start;
        if let Some(read) = read_clean(start..end) {
            return Some((last, read));
        }
        if last == chunks.len() - 1 {
            return None;
        }
        more *= 2;
    }
}
pub(crate) use scope::{
    ModuleScope, expand, instance_keys, instance_roots, never_instantiated, parse_reference,
    zero_instances,
};

/// The files Terraform reads in a module folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `*.tf`
    Hcl,
    /// `*.tf.json`
    Json,
    /// `terraform.tfvars`, `*.auto.tfvars`
    Tfvars,
    /// `terraform.tfvars.json`, `*.auto.tfvars.json`
    TfvarsJson,
}

impl FileKind {
    /// The kind of file `path` is, if Terraform reads it. Like Terraform,
    /// configuration files whose names start with `.` (or are editor
    /// backups: `x~`, `#x#`) are ignored; tfvars files are read whatever
    /// their first character (`.net.auto.tfvars` counts).
    pub fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        let ignored_config = name.starts_with('.')
            || name.ends_with('~')
            || (name.starts_with('#') && name.ends_with('#'));
        if name.ends_with(".tf.json") && name.len() > 8 {
            (!ignored_config).then_some(FileKind::Json)
        } else if name.ends_with(".tf") && name.len() > 3 {
            (!ignored_config).then_some(FileKind::Hcl)
        } else if name == "terraform.tfvars" || (name.ends_with(".auto.tfvars") && name.len() > 12)
        {
            Some(FileKind::Tfvars)
        } else if name == "terraform.tfvars.json"
            || (name.ends_with(".auto.tfvars.json") && name.len() > 17)
        {
            Some(FileKind::TfvarsJson)
        } else {
            None
        }
    }

    /// Configuration (resources, variables, locals) rather than values.
    pub fn is_config(self) -> bool {
        matches!(self, FileKind::Hcl | FileKind::Json)
    }

    /// Parsed with tree-sitter-hcl (rather than JSON).
    pub fn is_hcl(self) -> bool {
        matches!(self, FileKind::Hcl | FileKind::Tfvars)
    }
}

/// The most syntax tokens (see [`too_complex`]) one parse of HCL may take:
/// tree-sitter's tree and the lowered blocks take about 300 bytes a token,
/// so a parse stays near 300 MB, two in parallel well under a gigabyte. No
/// file up to this many bytes can reach it.
pub const MAX_PARSE_TOKENS: usize = 1 << 20;

/// [`MAX_PARSE_TOKENS`] for JSON, whose values take about half as much.
const MAX_JSON_PARSE_TOKENS: usize = 4 * MAX_PARSE_TOKENS;

/// The most syntax tokens a file read for fixes may hold: fixing parses it
/// whole, edits it and reads the result again, up to about 2 KB a token
/// when every block gets a fix (a 39,000-model file of 507,000 tokens took
/// 1.04 GB to fix; a 400,000-token nesting with one fix, 260 MB).
pub const MAX_FIX_TOKENS: usize = 450_000;

/// The most memory reading one `.tf` file block by block may hold at
/// once, by [`HeldTooMuch::estimate`]: its text and the blocks held lowered
/// while its module is read. The rest of a check (the program, the chunks
/// being parsed) took 15–45 MiB more at the peak, so a file stays under
/// 1 GiB.
pub const MAX_HELD_BYTES: usize = 960 << 20;

/// What a block held lowered costs, about: the block and its places in
/// the module index, plus so much a syntax token in it. Fitted to the
/// peaks of checks of 32 MB files of one-line blocks, less their text and
/// 15 MiB (`locals{}`, 3 tokens: 391 bytes a block; `locals{ a=1 }`, 6
/// tokens: 518; `variable "v1" {}`, 4 tokens: 458). It errs high for
/// resources: 100 MB of subnets (13 tokens a block: 726 bytes, 934 MiB at
/// the peak) are estimated at 1,037 MiB, and refused.
const HELD_PER_BLOCK: usize = 270;
const HELD_PER_TOKEN: usize = 44;

/// Why a file is not read (see [`too_complex`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TooComplex {
    /// A part of it one parse would take.
    Part(HeavyPart),
    /// The blocks held while its module is read.
    Held(HeldTooMuch),
}

impl std::fmt::Display for TooComplex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooComplex::Part(part) => part.fmt(f),
            TooComplex::Held(held) => held.fmt(f),
        }
    }
}

/// A part of a file one parse would take, too large to parse in bounded
/// memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeavyPart {
    /// The line (1-based) where the part starts.
    pub line: usize,
    /// The part is one block of a file read block by block, rather than
    /// the whole file.
    pub block: bool,
    /// The whole file counted because a fix parses it whole.
    pub fixing: bool,
    /// Its syntax tokens, about.
    pub tokens: usize,
    /// The most one parse may take.
    pub limit: usize,
}

impl std::fmt::Display for HeavyPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = match (self.block, self.fixing) {
            (true, _) => format!("the block at line {}", self.line),
            (false, false) => "the file, parsed as one,".to_string(),
            (false, true) => "the file, parsed as one to fix it,".to_string(),
        };
        let why = match self.fixing {
            true => "fixing a file",
            false => "one parse",
        };
        write!(
            f,
            "{part} holds about {} syntax tokens, over the {} {why} may take in bounded memory; \
             not checked",
            thousands(self.tokens),
            thousands(self.limit)
        )?;
        if self.fixing {
            write!(f, " (without --fix, it is read block by block)")?;
        }
        Ok(())
    }
}

/// A file of so many blocks analysis reads (variables, locals, module
/// calls, resources other blocks read) that holding them lowered, as
/// reading its module does, would take more than [`MAX_HELD_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldTooMuch {
    /// The blocks that would be held.
    pub blocks: usize,
    /// Their syntax tokens, about.
    pub tokens: usize,
    /// The file's size in bytes.
    pub bytes: usize,
}

impl HeldTooMuch {
    /// The memory reading the file would hold at once, about.
    pub fn estimate(&self) -> usize {
        self.bytes + self.blocks * HELD_PER_BLOCK + self.tokens * HELD_PER_TOKEN
    }
}

impl std::fmt::Display for HeldTooMuch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "its {} blocks that analysis reads (variables, locals, module calls, resources \
             other blocks read) would take about {} MiB held at once, over the {} MiB one file may \
             take in bounded memory; not checked (split the file)",
            thousands(self.blocks),
            thousands(self.estimate() >> 20),
            thousands(MAX_HELD_BYTES >> 20)
        )
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The first part of `text` (a file of `kind` at `path`) that analysis
/// would parse at once and that holds more syntax tokens than one parse may
/// take in bounded memory: a block nested or listed millions deep, which
/// would take gigabytes. A `.tf` file over [`WHOLE_FILE_PARSE_LIMIT`] is
/// parsed block by block (see [`FileFacts::extract_needed`]), so each of its
/// blocks counts on its own; any other file counts as one. A file no larger
/// than the limit in bytes is never too complex, and is not scanned.
/// `fixing`: the file is read for fixes, which parse it whole.
pub fn too_complex(path: &Path, kind: FileKind, text: &str, fixing: bool) -> Option<TooComplex> {
    let fixing = fixing && kind.is_hcl(); // JSON is not fixed
    let limit = match (kind.is_hcl(), fixing) {
        (true, true) => MAX_FIX_TOKENS,
        (true, false) => MAX_PARSE_TOKENS,
        (false, _) => MAX_JSON_PARSE_TOKENS,
    };
    if text.len() <= limit {
        return None;
    }
    let block = !fixing
        && kind == FileKind::Hcl
        && !is_override(path)
        && text.len() > WHOLE_FILE_PARSE_LIMIT;
    let over = |part: Range<usize>| {
        let chunk = &text[part.clone()];
        if chunk.len() <= limit {
            return None;
        }
        let tokens = crate::lex::tokens(chunk);
        let start = part.start + (chunk.len() - chunk.trim_start().len());
        (tokens > limit).then(|| {
            TooComplex::Part(HeavyPart {
                line: 1 + text.as_bytes()[..start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count(),
                block,
                fixing,
                tokens,
                limit,
            })
        })
    };
    if !block {
        return over(0..text.len());
    }
    let mut found = None;
    let held = held_when_read(text, |item| {
        if found.is_none() {
            found = over(item.range.clone());
        }
    });
    found.or_else(|| (held.estimate() > MAX_HELD_BYTES).then_some(TooComplex::Held(held)))
}

/// What the lenient read of a `.tf` file of `text` holds lowered while its
/// module is read, as far as its text tells: the chunks it wants whole but
/// those it detaches (in a file over [`DETACH_LIMIT`]), and the irregular
/// chunks that may hold a nested block or a resource a rule reads (see
/// [`crate::terraform::worth_holding`]). Each chunk is handed to `each` on the way.
fn held_when_read(text: &str, mut each: impl FnMut(&crate::split::Item)) -> HeldTooMuch {
    let detach = text.len() > DETACH_LIMIT;
    let mut held = HeldTooMuch {
        blocks: 0,
        tokens: 0,
        bytes: text.len(),
    };
    crate::split::each_lenient(text, |item| {
        each(&item);
        let chunk = &text[item.range.clone()];
        let holds = match wanted(text, &item) {
            Want::No => false,
            Want::Held => {
                chunk.bytes().filter(|&b| b == b'{').count() > 1 || crate::rules::may_apply(chunk)
            }
            // As `detachable` tells once the block is lowered; a label the
            // split cannot read could be anything, and counts as held.
            Want::Whole => {
                !(detach
                    && chunk.len() <= DETACH_MAX_BLOCK
                    && item.kind == "resource"
                    && item.label.is_some()
                    && !hash::shared_kind(&item.kind, item.label.as_deref(), false))
            }
        };
        if holds {
            held.blocks += 1;
            held.tokens += crate::lex::tokens(chunk);
        }
    });
    held
}

/// What the lenient read ([`FileFacts::extract_needed`]) wants of a chunk
/// of `text`.
fn wanted(text: &str, item: &crate::split::Item) -> Want {
    if crate::rules::read_for_findings(&item.kind, item.label.as_deref())
        || text[item.range.clone()].contains(crate::suppress::DIRECTIVE)
    {
        Want::Whole
    } else if item.irregular {
        Want::Held
    } else {
        Want::No
    }
}

/// An override file (`override.tf`, `*_override.tf`, and their `.tf.json`
/// forms): Terraform merges its blocks into the blocks they override.
pub fn is_override(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tf"));
    stem.is_some_and(|s| s == "override" || s.ends_with("_override"))
}

/// The module (folder) a file belongs to: its parent, or `.` for a bare
/// file name.
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (module sources
/// are resolved this way; `..` past the start is kept).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// What one file contributes to its module.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub path: PathBuf,
    pub kind: FileKind,
    pub text: Arc<String>,
    /// Top-level blocks (configuration files), in source order.
    pub blocks: Vec<SharedBlock>,
    /// `NAME = value` (tfvars files).
    pub assignments: Vec<Attribute>,
    /// Top-level resource blocks no other block reads, left out of
    /// `blocks` (a large file read for findings, see
    /// [`FileFacts::extract_needed`]): the ranges of their items, in order,
    /// each lowered again on its own when the file is analyzed
    /// ([`FileFacts::detached_blocks`]). A file of a million models is then
    /// not held lowered all at once.
    pub detached: Vec<Range<usize>>,
    /// A hash of what analysis reads from the file (not where it is): see
    /// [`ModuleIndex::fingerprint`].
    pub semantic: u64,
}

/// Dropped reading ahead (an open document's facts hold a handle to each
/// of its blocks, and a keystroke drops the last version's).
impl Drop for FileFacts {
    fn drop(&mut self) {
        crate::owners::drop_all(std::mem::take(&mut self.blocks), SharedBlock::owners);
    }
}

impl FileFacts {
    /// Reads the facts of a file of `kind`. `tree` is its HCL tree when the
    /// caller already has one (it is parsed here otherwise).
    pub fn extract(path: &Path, kind: FileKind, text: Arc<String>, tree: Option<&Tree>) -> Self {
        let mut blocks = Vec::new();
        let mut assignments = Vec::new();
        match kind {
            FileKind::Tfvars
                if tree.is_none()
                    && let Some(read) = tfvars_by_stretches(&text) =>
            {
                assignments = read;
            }
            FileKind::Hcl | FileKind::Tfvars => {
                let owned;
                let tree = match tree {
                    Some(tree) => tree,
                    None => {
                        owned = syntax::parse(&text, None);
                        &owned
                    }
                };
                if kind == FileKind::Hcl {
                    blocks = terraform::file_blocks(&text, tree);
                } else {
                    assignments = lower::hcl::tfvars(&text, tree);
                }
            }
            FileKind::Json | FileKind::TfvarsJson => {
                // In a large file, long strings are masked (see
                // `lower::mask_json`): they would cost ~210 bytes each.
                let masked = (text.len() > WHOLE_FILE_PARSE_LIMIT)
                    .then(|| lower::mask_json(&text, lower::MASK_MIN))
                    .flatten();
                let masked_text;
                let (src, masks) = match masked {
                    Some((m, masks)) => {
                        masked_text = m;
                        (masked_text.as_str(), masks)
                    }
                    None => (text.as_str(), Default::default()),
                };
                let tree = json::parse(src);
                lower::with_masks(masks, || {
                    if kind == FileKind::Json {
                        blocks = lower::json::file_blocks(src, &tree);
                    } else {
                        assignments = lower::json::tfvars(src, &tree);
                    }
                });
            }
        }
        Self::from_parts(path, kind, text, shared(blocks), assignments)
    }

    /// The facts findings depend on, parsing as little as possible: for an
    /// ordinary `.tf` file the lexical split ([`crate::split`]) finds the
    /// top-level blocks and only those analysis reads for findings (see
    /// [`crate::rules::read_for_findings`]), and those holding a suppression
    /// directive, are parsed, each on its own. Anything else — other kinds,
    /// override files (every block of theirs counts), a text the split does
    /// not understand, a block that does not parse cleanly — falls back to
    /// [`FileFacts::extract`], except in a file larger than
    /// [`WHOLE_FILE_PARSE_LIMIT`]: there tree-sitter's error recovery over
    /// the whole file costs minutes and gigabytes, so each chunk of the
    /// lenient split is parsed on its own and a syntax error stays in the
    /// chunk that holds it. Not for fixes and hover, which read more.
    pub fn extract_needed(path: &Path, kind: FileKind, text: Arc<String>) -> Self {
        let lenient = text.len() > WHOLE_FILE_PARSE_LIMIT;
        let detach = text.len() > DETACH_LIMIT;
        Self::extract_needed_with(path, kind, text, lenient, detach)
    }

    /// [`FileFacts::extract_needed`], with the lenient split or not, and
    /// (with it) the blocks no other block reads left out or not.
    pub fn extract_needed_with(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        lenient: bool,
        detach: bool,
    ) -> Self {
        Self::extract_needed_batched(path, kind, text, lenient, detach, crate::batch::BATCH)
    }

    /// [`FileFacts::extract_needed_with`], the lenient read taking `batch`
    /// chunks at a time (for tests: any batch size reads the same facts).
    #[doc(hidden)]
    pub fn extract_needed_batched(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        lenient: bool,
        detach: bool,
        batch: usize,
    ) -> Self {
        if kind != FileKind::Hcl || is_override(path) {
            return Self::extract(path, kind, text, None);
        }
        if lenient {
            return Self::read_lenient(path, text, detach, batch, None).0;
        }
        let lowered = |range: std::ops::Range<usize>, parsed: Parsed| -> Vec<SharedBlock> {
            shared(lower_parsed(&text, range, parsed))
        };
        let mut blocks = Vec::new();
        let Some(items) = crate::split::split(&text) else {
            return Self::extract(path, kind, text, None);
        };
        for item in items.iter().filter(|item| wanted(&text, item) != Want::No) {
            if let Some(read) = read_directly(&text, item.range.clone()) {
                blocks.extend(shared(read));
                continue;
            }
            let parsed = Parsed::new(&text[item.range.clone()], false);
            if parsed.has_error() {
                return Self::extract(path, kind, text, None);
            }
            blocks.extend(lowered(item.range.clone(), parsed));
        }
        Self::from_parts(path, kind, text, blocks, Vec::new())
    }

    /// The lenient read of [`FileFacts::extract_needed`] (of an ordinary
    /// `.tf` file, `batch` chunks at a time), and whether every chunk it
    /// parsed parsed cleanly on its own (`false`: the text has a syntax
    /// error, or one the split could not see as Terraform does). With a
    /// `memo` of the read before (of the same document), a chunk whose text
    /// it holds is not parsed again; the memo is then left holding this
    /// read's chunks. The facts are the same with or without it.
    pub(crate) fn read_lenient(
        path: &Path,
        text: Arc<String>,
        detach: bool,
        batch: usize,
        mut memo: Option<&mut LenientMemo>,
    ) -> (Self, bool) {
        let kind = FileKind::Hcl;
        let mut blocks = Vec::new();
        // The hashes of the blocks others read, in order (see `from_hashed`).
        let mut semantic = Semantic(hash::Combined::default());
        let mut clean = true;
        // A large file: its chunks are parsed in parallel, then the broken
        // ones mended in order. Of each chunk only where it ends is held,
        // and whether it is read (a file of a million blocks held a list of
        // its items, 72 bytes each, while it was read).
        // What the last read made of the same text, moved here.
        let old = memo.as_deref_mut().map(std::mem::take);
        let edited = old.as_ref().map(|old| Edited::between(&old.text, &text));
        let (mut ends, mut wants) = lenient_chunks(&text, old.as_ref().zip(edited.as_ref()));
        ends.shrink_to_fit();
        wants.shrink_to_fit();
        let chunks = Chunks(ends);
        enum Chunk {
            Held {
                blocks: Kept,
                broken: bool,
                /// Its findings, from the memo (see [`LenientMemo::check`]).
                checked: Option<Option<Run>>,
            },
            Detached,
        }
        let mut next = memo.is_some().then(|| LenientMemo {
            text: Arc::clone(&text),
            checked_with: old.as_ref().and_then(|old| old.checked_with),
            ..LenientMemo::default()
        });
        let recall = |joined: bool, range: &Range<usize>| {
            old.as_ref()?.recall(joined, &text, range, edited.as_ref()?)
        };
        let read = |i: usize| {
            let range = chunks.range(i);
            let rejected = wants[i] == Want::Held;
            if let Some((broken, blocks, checked)) = recall(false, &range) {
                return Chunk::Held {
                    blocks,
                    broken,
                    checked,
                };
            }
            let small = range.len() <= DETACH_MAX_BLOCK;
            // Lowered even when left out: whether the block is one others
            // read is known from its lowered labels (escapes and all), not
            // from the split's.
            let (broken, mut blocks) = match read_directly(&text, range.clone()) {
                Some(blocks) => (false, blocks),
                None => {
                    let parsed = Parsed::new(&text[range.clone()], true);
                    (parsed.has_error(), lower_parsed(&text, range, parsed))
                }
            };
            // A chunk Terraform rejects is held, what is worth holding of
            // it: detached, it would be lowered again whole.
            if rejected {
                blocks.retain(crate::terraform::worth_holding);
            }
            if detach
                && small
                && !broken
                && !rejected
                && matches!(blocks.as_slice(), [b] if detachable(b))
            {
                return Chunk::Detached;
            }
            let blocks = Kept::new(hashed(blocks));
            Chunk::Held {
                blocks,
                broken,
                checked: None,
            }
        };
        // A run of chunks joined to mend a broken one, if it parses cleanly.
        let read_joined = |range: Range<usize>, next: &mut Option<LenientMemo>| {
            let (broken, held, checked) = recall(true, &range).unwrap_or_else(|| {
                let parsed = Parsed::new(&text[range.clone()], true);
                if parsed.has_error() {
                    return (true, Kept::new(Vec::new()), None);
                }
                let mut held = lower_parsed(&text, range.clone(), parsed);
                if !text[range.clone()].contains(crate::suppress::DIRECTIVE) {
                    // The chunks joined to this one: those nothing
                    // reads were not wanted at all.
                    held.retain(crate::terraform::worth_holding);
                }
                (false, Kept::new(hashed(held)), None)
            });
            let read = next
                .as_mut()
                .map(|next| next.remember(true, range, broken, &held, checked));
            (!broken).then_some((held, read))
        };
        let mut detached = Vec::new();
        // Bytes the lenient read may parse again to mend broken chunks: as
        // many as the text holds (the read stays linear), and never less
        // than twice the window, so that a broken chunk of a short text
        // (only tests read one leniently: the lenient read is for files
        // over a megabyte) is mended as it would be in a long one.
        let mut mend_budget = text.len().max(2 * MEND_WINDOW);
        // Items up to here were read as part of a mended chunk.
        let mut covered = 0;
        // A batch at a time: the chunks of a whole file of a million blocks,
        // read before any is taken, held some 60 MB more at the peak.
        crate::batch::par_map_in_order(
            (0..wants.len()).filter(|&i| wants[i] != Want::No),
            batch,
            |&i| read(i),
            |i, chunk| {
                // This chunk's read, kept by the memo.
                let this_read = match (&mut next, &chunk) {
                    (
                        Some(next),
                        Chunk::Held {
                            blocks,
                            broken,
                            checked,
                        },
                    ) => Some(next.remember(
                        false,
                        chunks.range(i),
                        *broken,
                        blocks,
                        checked.clone(),
                    )),
                    _ => None,
                };
                if i < covered {
                    return;
                }
                if let Chunk::Held { broken: true, .. } = chunk {
                    clean = false;
                }
                match chunk {
                    Chunk::Detached => detached.push(chunks.range(i)),
                    Chunk::Held { broken: true, .. }
                        if let Some((end, (held, read))) =
                            mend(&chunks, i, &mut mend_budget, |range| {
                                read_joined(range, &mut next)
                            }) =>
                    {
                        for (block, hash) in held.placed() {
                            blocks.push(block);
                            semantic.extend(hash);
                        }
                        covered = end + 1;
                        if let (Some(read), Some(next)) = (read, &mut next) {
                            next.used.push(read);
                        }
                    }
                    Chunk::Held { blocks: held, .. } => {
                        for (block, hash) in held.placed() {
                            blocks.push(block);
                            semantic.extend(hash);
                        }
                        if let (Some(read), Some(next)) = (this_read, &mut next) {
                            next.used.push(read);
                        }
                    }
                }
            },
        );
        match (memo, next) {
            (Some(memo), Some(mut next)) => {
                next.ends = chunks.0;
                next.wants = wants;
                *memo = next;
            }
            _ => drop(chunks),
        }
        blocks.shrink_to_fit();
        // Each block's hash was made as it was read (on the workers), or
        // kept by the memo: no pass over every block to hash them again.
        let facts = Self {
            path: path.to_path_buf(),
            kind,
            text,
            blocks,
            assignments: Vec::new(),
            detached: {
                detached.shrink_to_fit();
                detached
            },
            semantic: semantic.0.finish(&[]),
        };
        (facts, clean)
    }

    /// The blocks left out of [`FileFacts::blocks`] ([`FileFacts::detached`]),
    /// lowered again, in order: what the first read made of them.
    pub fn detached_blocks(&self) -> impl Iterator<Item = Block> + '_ {
        self.detached
            .iter()
            .flat_map(|range| lower_detached(&self.text, range.clone()))
    }

    /// A file's facts from blocks lowered elsewhere (the incremental cache).
    pub fn from_parts(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        blocks: Vec<SharedBlock>,
        assignments: Vec<Attribute>,
    ) -> Self {
        let semantic = hash::file(&blocks, &assignments, is_override(path));
        Self {
            path: path.to_path_buf(),
            kind,
            text,
            blocks,
            assignments,
            detached: Vec::new(),
            semantic,
        }
    }

    /// Like [`FileFacts::from_parts`] for a configuration file, with the
    /// [`shared_hash`] of the blocks others can read already known
    /// (`hashes`, in order): nothing is hashed again.
    pub(crate) fn from_hashed(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        blocks: Vec<SharedBlock>,
        hashes: impl Iterator<Item = u64>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            kind,
            text,
            blocks,
            assignments: Vec::new(),
            detached: Vec::new(),
            semantic: hash::combine(hashes, &[]),
        }
    }

    pub fn is_override(&self) -> bool {
        is_override(&self.path)
    }

    /// The file name, for messages.
    pub fn name(&self) -> String {
        file_name(&self.path)
    }
}

/// What a lenient read ([`FileFacts::read_lenient`]) of an open document
/// made of its chunks (and of the runs of chunks it joined to mend a broken
/// one), kept for its next read after an edit: a chunk whose text is the
/// same is not parsed again, its blocks are moved to where it now stands.
/// A large file with a syntax error is read so on every keystroke; parsing
/// every chunk of 2 MB again took about 200 ms. Holds only what the last
/// read used; its blocks are those of the facts it made, shared.
#[derive(Debug, Clone, Default)]
pub struct LenientMemo {
    /// The text read.
    text: Arc<String>,
    /// What was read, in order of where it starts.
    reads: Vec<Read>,
    /// The reads whose blocks the facts hold, in order (indices in `reads`).
    used: Vec<usize>,
    /// The module fingerprint the reads' findings were made against.
    checked_with: Option<u64>,
    /// Where each chunk of `text` ends, and what the read wanted of it.
    ends: Vec<usize>,
    wants: Vec<Want>,
}

/// The chunks of `text` for a lenient read: where each ends, and what the
/// read wants of it. Scanned whole; or, given the read before (`old`, and
/// how the text was `edited` since), only from the end of the last of its
/// chunks the edit left before it to the end of one it left after it, the
/// chunks outside taken from `old` (moved): a chunk's end and what is
/// wanted of it depend on its text alone, and a scan that starts where a
/// chunk ends and ends where one ends (not cut off) is where the whole
/// scan would start and end chunks. The whole scan was a tenth of a
/// keystroke in 2 MB with a syntax error.
fn lenient_chunks(text: &str, old: Option<(&LenientMemo, &Edited)>) -> (Vec<usize>, Vec<Want>) {
    let mut ends = Vec::new();
    let mut wants = Vec::new();
    // Scans `text[from..to]`, its chunks after `ends`; whether it ended
    // at the end of a chunk.
    let scan = |from: usize, to: usize, ends: &mut Vec<usize>, wants: &mut Vec<Want>| {
        crate::split::each_lenient_ended(&text[from..to], |mut item| {
            item.range = from + item.range.start..from + item.range.end;
            debug_assert_eq!(item.range.start, ends.last().copied().unwrap_or(0));
            wants.push(wanted(text, &item));
            ends.push(item.range.end);
        })
    };
    if let Some((old, edited)) = old {
        // Not a chunk that ends where the old text ends: it may have been
        // cut off there, and what the edit appended continues it.
        let kept = old
            .ends
            .partition_point(|&e| e <= edited.prefix && e < old.text.len());
        let from = kept.checked_sub(1).map_or(0, |k| old.ends[k]);
        let moved = |e: usize| e.checked_add_signed(edited.delta);
        // Chunk ends the edit left after it: the first, the second, the
        // fourth… then the end of the text, where the scan always stops.
        let mut next = old.ends.partition_point(|&e| e < edited.suffix_from);
        let mut step = 1;
        loop {
            let (to, after) = match old.ends.get(next) {
                Some(&end) => (
                    moved(end).filter(|&to| to >= from && to <= text.len()),
                    next + 1,
                ),
                None => (Some(text.len()), old.ends.len()),
            };
            if let Some(to) = to {
                ends.extend_from_slice(&old.ends[..kept]);
                wants.extend_from_slice(&old.wants[..kept]);
                let ended = scan(from, to, &mut ends, &mut wants);
                if to == text.len() || (ended && ends.last() == Some(&to)) {
                    ends.extend(old.ends[after..].iter().filter_map(|&e| moved(e)));
                    wants.extend_from_slice(&old.wants[after..]);
                    return (ends, wants);
                }
                ends.clear();
                wants.clear();
            }
            next = next.saturating_add(step);
            step *= 2;
        }
    }
    scan(0, text.len(), &mut ends, &mut wants);
    (ends, wants)
}

/// How a text differs from the one read before it: the same up to `prefix`
/// (not moved), and from `suffix_from` (an offset of the text before) to
/// its end, moved `delta` bytes; what lies between was edited.
struct Edited {
    prefix: usize,
    suffix_from: usize,
    delta: isize,
}

impl Edited {
    fn between(before: &str, after: &str) -> Self {
        let (prefix, suffix) = crate::position::common_ends(before, after);
        Self {
            prefix,
            suffix_from: before.len() - suffix,
            delta: after.len() as isize - before.len() as isize,
        }
    }
}

/// A chunk (or a run of chunks, `joined`) a lenient read parsed: where in
/// its text, whether it parsed cleanly, and the blocks kept of it.
#[derive(Debug, Clone)]
struct Read {
    range: Range<usize>,
    joined: bool,
    broken: bool,
    blocks: Kept,
    /// Its blocks' findings, once checked (`Some(None)`: none).
    checked: Option<Option<Run>>,
}

impl LenientMemo {
    /// What was read of `text[range]` (a run of chunks if `joined`), if
    /// the same text was read where it stood before the edits: at the same
    /// offset (before them), or as far from the end (after them). Found by
    /// where it stands, not by a hash of every chunk, and compared byte
    /// for byte. Its blocks are moved to `range`.
    fn recall(
        &self,
        joined: bool,
        text: &str,
        range: &Range<usize>,
        edited: &Edited,
    ) -> Option<(bool, Kept, Option<Option<Run>>)> {
        let chunk = &text[range.clone()];
        let from_end = (range.start + self.text.len()).checked_sub(text.len());
        let read = [Some(range.start), from_end]
            .into_iter()
            .flatten()
            .find_map(|start| {
                let first = self.reads.partition_point(|r| r.range.start < start);
                self.reads[first..]
                    .iter()
                    .take_while(|r| r.range.start == start)
                    .find(|r| {
                        r.joined == joined
                            && r.range.len() == chunk.len()
                            && self.text.get(r.range.clone()) == Some(chunk)
                    })
            })?;
        let delta = range.start as isize - read.range.start as isize;
        let blocks = Kept {
            blocks: Arc::clone(&read.blocks.blocks),
            moved: read.blocks.moved + delta,
        };
        // Its findings move with it if all their places in the file did:
        // they are in it, or where the text is as it was and moved as far
        // (a finding may name a place in another block: a model's subnet).
        let checked = read.checked.clone().filter(|run| {
            run.as_ref().is_none_or(|run| {
                let span = run.span();
                (read.range.start <= span.start && span.end <= read.range.end)
                    || (delta == 0 && span.end <= edited.prefix)
                    || (delta == edited.delta && span.start >= edited.suffix_from)
            })
        });
        let checked = checked.map(|run| {
            run.map(|mut run| {
                run.move_by(delta);
                run
            })
        });
        Some((read.broken, blocks, checked))
    }

    /// Keeps what was read of `range` (reads come in order of where they
    /// start); its index in the reads.
    fn remember(
        &mut self,
        joined: bool,
        range: Range<usize>,
        broken: bool,
        blocks: &Kept,
        checked: Option<Option<Run>>,
    ) -> usize {
        debug_assert!(
            self.reads
                .last()
                .is_none_or(|r| r.range.start <= range.start)
        );
        self.reads.push(Read {
            range,
            joined,
            broken,
            blocks: blocks.clone(),
            checked,
        });
        self.reads.len() - 1
    }

    /// The findings of the facts the last read made (what
    /// [`crate::analyze_file`] finds in them), checking again only the
    /// reads that are new, or all of them if the module's facts
    /// (`fingerprint`) changed: as [`crate::incremental::Incremental::check`]
    /// does for the blocks it follows.
    pub(crate) fn check(
        &mut self,
        fingerprint: u64,
        check_block: impl Fn(&Block) -> Vec<crate::Finding>,
    ) -> crate::Findings {
        if self.checked_with != Some(fingerprint) {
            for read in &mut self.reads {
                read.checked = None;
            }
            self.checked_with = Some(fingerprint);
        }
        let mut runs = Vec::new();
        for &i in &self.used {
            let read = &mut self.reads[i];
            let run = read.checked.get_or_insert_with(|| {
                let mut findings: Vec<_> = read
                    .blocks
                    .placed()
                    .flat_map(|(b, _)| check_block(&b))
                    .collect();
                // Sorted as `analyze_file` sorts them: the blocks of a
                // broken chunk need not come in order, but each finding
                // lies in its chunk, so sorting each run is enough.
                crate::sort(&mut findings);
                Run::new(findings)
            });
            runs.extend(run.clone());
        }
        crate::Findings::new(runs)
    }
}

/// Feeds [`hash::Combined`] the hashes of the blocks others read.
struct Semantic(hash::Combined);

impl Extend<u64> for Semantic {
    fn extend<I: IntoIterator<Item = u64>>(&mut self, hashes: I) {
        hashes.into_iter().for_each(|h| self.0.add(h));
    }
}

/// The blocks of a chunk as first read (shared by the memos of the reads
/// that found it again), and how far they moved since: finding a chunk
/// again copies no handle (a copy of each block's handle, once for the
/// read and once for the memo, was a quarter of a keystroke in 2 MB with a
/// syntax error).
#[derive(Debug, Clone)]
struct Kept {
    blocks: Arc<[Hashed]>,
    moved: isize,
}

impl Kept {
    fn new(blocks: Vec<Hashed>) -> Self {
        Self {
            blocks: blocks.into(),
            moved: 0,
        }
    }

    /// Its blocks where they are now, with their hashes.
    fn placed(&self) -> impl Iterator<Item = Hashed> + '_ {
        self.blocks.iter().map(|(b, hash)| {
            let mut b = b.clone();
            b.move_by(self.moved);
            (b, *hash)
        })
    }
}

/// A block as read, with its [`shared_hash`] (in an ordinary file).
type Hashed = (SharedBlock, Option<u64>);

/// [`shared`], each with its hash.
fn hashed(blocks: Vec<Block>) -> Vec<Hashed> {
    crate::batch::exact(blocks.into_iter().map(|b| {
        let hash = shared_hash(&b, false);
        (SharedBlock::new(b), hash)
    }))
}

/// `blocks`, each behind its own `Arc`, in a list of their own (see
/// [`crate::batch::exact`]).
fn shared(blocks: Vec<Block>) -> Vec<SharedBlock> {
    crate::batch::exact(blocks.into_iter().map(SharedBlock::new))
}

/// The hash [`FileFacts::semantic`] combines for one block, if the block is
/// one that other blocks may read (see [`hash::is_shared`]).
pub(crate) fn shared_hash(block: &Block, override_file: bool) -> Option<u64> {
    hash::is_shared(block, override_file).then(|| hash::block(block))
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of ordinary models, `n` of them (about 50 bytes and 8 tokens
    /// each).
    fn models(n: usize) -> String {
        (0..n)
            .map(|i| format!("resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m\"\n}}\n"))
            .collect()
    }

    /// What reading a large file holds is told from its text before it is
    /// read: the blocks analysis reads and their tokens; not the blocks it
    /// skips, nor a rejected block unless it may hide a nested one, nor
    /// (over [`DETACH_LIMIT`]) the resources it detaches.
    #[test]
    fn what_a_large_file_holds_is_told_from_its_text() {
        let reps = |text: &mut String, block: &str, min: usize| {
            let mut n = 0;
            while text.len() <= min {
                text.push_str(block);
                n += 1;
            }
            n
        };
        let mut text = String::new();
        let n = reps(
            &mut text,
            "variable \"v\" {}\nlocals {\n  a = 1\n}\na{}\ndata \"aws_x\" \"y\" {}\n",
            WHOLE_FILE_PARSE_LIMIT,
        );
        text.push_str(concat!(
            "resource \"aws_sagemaker_model\" \"m\" {}\ne {\n  x {}\n}\n",
            "resourc \"aws_sagemaker_model\" \"n\" {}\n",
        ));
        let held = held_when_read(&text, |_| {});
        // 4 + 6 tokens a repetition; the model 5, `e` 6, the misspelt 5.
        assert_eq!((held.blocks, held.tokens), (2 * n + 3, 10 * n + 16));
        assert_eq!(held.bytes, text.len());
        assert_eq!(
            too_complex(Path::new("main.tf"), FileKind::Hcl, &text, false),
            None
        );
        // Models no other block reads are not held in a file this large;
        // a subnet is.
        let mut text = String::from("resource \"aws_subnet\" \"s\" {}\n");
        reps(
            &mut text,
            "resource \"aws_sagemaker_model\" \"m\" {}\n",
            DETACH_LIMIT,
        );
        let held = held_when_read(&text, |_| {});
        assert_eq!((held.blocks, held.tokens), (1, 5));
    }

    /// A file of blocks analysis reads, so many that holding them would
    /// take more than [`MAX_HELD_BYTES`], is refused, and the message says
    /// why.
    #[test]
    fn a_file_of_more_blocks_than_memory_holds_is_refused() {
        let per_block = HELD_PER_BLOCK + 3 * HELD_PER_TOKEN + "locals{}\n".len();
        let text = "locals{}\n".repeat(MAX_HELD_BYTES / per_block + 1);
        let found = too_complex(Path::new("main.tf"), FileKind::Hcl, &text, false);
        let Some(TooComplex::Held(held)) = &found else {
            panic!("not refused for what it holds: {found:?}");
        };
        assert!(held.estimate() > MAX_HELD_BYTES);
        assert_eq!(held.blocks, MAX_HELD_BYTES / per_block + 1);
        let message = found.unwrap().to_string();
        assert!(
            message.starts_with("its 2,4") && message.contains("over the 960 MiB"),
            "{message}"
        );
        // One block fewer fits.
        let text = "locals{}\n".repeat(MAX_HELD_BYTES / per_block - 1);
        assert_eq!(
            too_complex(Path::new("main.tf"), FileKind::Hcl, &text, false),
            None
        );
    }

    /// The part [`too_complex`] found too large for one parse.
    fn part(found: Option<TooComplex>) -> HeavyPart {
        match found {
            Some(TooComplex::Part(part)) => part,
            other => panic!("not a part too large for one parse: {other:?}"),
        }
    }

    /// A large file (read by the lenient split) holds lowered only the
    /// blocks analysis reads, or that may hide one: of the chunks
    /// Terraform rejects (each `a{}` is one), it parses each but holds
    /// none that is clean, flat and unread. 8 MB of `a{}` held all two
    /// million of them, 851 MB.
    #[test]
    fn a_large_file_holds_no_rejected_block_nothing_reads() {
        let mut text = String::from("resource \"aws_sagemaker_model\" \"m\" {\n}\n");
        while text.len() <= WHOLE_FILE_PARSE_LIMIT {
            text.push_str("a{}\nb \"x\" {\n  c = 1\n}\ndata \"aws_x\" \"y\" {}\n");
        }
        text.push_str(concat!(
            "resourc \"aws_sagemaker_model\" \"n\" {\n}\n",
            "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- kept\n",
            "d {}\n",
            "e {\n  resource \"aws_sagemaker_model\" \"o\" {}\n}\n",
        ));
        for batch in [1, crate::batch::BATCH] {
            let facts = FileFacts::extract_needed_batched(
                Path::new("main.tf"),
                FileKind::Hcl,
                Arc::new(text.clone()),
                true,
                false,
                batch,
            );
            let held: Vec<(String, Vec<&str>)> = facts
                .blocks
                .iter()
                .map(|b| {
                    let labels = b.labels.iter().map(|l| l.value.as_str()).collect();
                    (b.kind.to_string(), labels)
                })
                .collect();
            let want: Vec<(String, Vec<&str>)> = [
                ("resource", vec!["aws_sagemaker_model", "m"]),
                ("resource", vec!["aws_sagemaker_model", "n"]),
                ("d", vec![]),
                // Nested, so kept; the resource inside it is read too.
                ("e", vec![]),
                ("resource", vec!["aws_sagemaker_model", "o"]),
            ]
            .into_iter()
            .map(|(k, l)| (k.to_string(), l))
            .collect();
            assert_eq!(held, want, "batch {batch}");
        }
    }

    /// The list of a file's blocks holds pointers, not room for the
    /// lowered blocks it was collected from (an in-place collect kept
    /// about 200 bytes a block, for as long as the facts live).
    #[test]
    fn the_blocks_of_facts_take_no_room_of_the_lowered_blocks() {
        let facts = FileFacts::extract(
            Path::new("main.tf"),
            FileKind::Hcl,
            Arc::new(models(40)),
            None,
        );
        let blocks = &facts.blocks;
        assert_eq!(blocks.len(), 40);
        assert_eq!(blocks.capacity(), 40);
        let lowered = terraform::file_blocks(&models(3), &syntax::parse(&models(3), None));
        let held = shared(lowered);
        assert_eq!((held.len(), held.capacity()), (3, 3));
        // The open document's facts, from the incremental cache.
        let text = models(3);
        let point = |byte: usize| {
            let before = &text[..byte];
            let row = before.matches('\n').count();
            let column = byte - before.rfind('\n').map_or(0, |i| i + 1);
            tree_sitter::Point { row, column }
        };
        let mut cache = crate::incremental::Incremental::for_file(Path::new("main.tf"));
        assert!(cache.sync_text(&text, &point).unwrap().usable);
        let facts = cache.facts(Path::new("main.tf"), FileKind::Hcl, Arc::new(text.clone()));
        assert_eq!((facts.blocks.len(), facts.blocks.capacity()), (3, 3));
    }

    #[test]
    fn a_part_too_large_for_one_parse_is_found_by_its_tokens() {
        let hcl = Path::new("main.tf");
        let nested = |n: usize| {
            format!(
                "resource \"x\" \"y\" {{\n  v = {}{}\n}}\n",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        // Large files of ordinary blocks, and long strings, are read.
        let big = models(30_000);
        assert!(big.len() > WHOLE_FILE_PARSE_LIMIT);
        assert_eq!(too_complex(hcl, FileKind::Hcl, &big, false), None);
        let long = format!("a = \"{}\"\n", "[".repeat(3 * MAX_PARSE_TOKENS));
        assert_eq!(too_complex(hcl, FileKind::Hcl, &long, false), None);
        // One block nested past the limit, after the others: named by line.
        let text = format!("{big}{}", nested(MAX_PARSE_TOKENS / 2 + 1));
        let found = part(too_complex(hcl, FileKind::Hcl, &text, false));
        assert_eq!(
            (found.line, found.block, found.limit),
            (90_001, true, MAX_PARSE_TOKENS)
        );
        assert!(found.tokens > MAX_PARSE_TOKENS);
        assert!(
            found
                .to_string()
                .starts_with("the block at line 90001 holds about 1,048,5"),
            "{found}"
        );
        // Just under the limit, it is read.
        let text = format!("{big}{}", nested(MAX_PARSE_TOKENS / 2 - 10));
        assert_eq!(too_complex(hcl, FileKind::Hcl, &text, false), None);
        // An override file, tfvars and JSON are parsed whole: they count
        // as one.
        let spread = format!(
            "{}{}",
            nested(MAX_PARSE_TOKENS / 4),
            nested(MAX_PARSE_TOKENS / 4 + 10)
        );
        assert_eq!(too_complex(hcl, FileKind::Hcl, &spread, false), None);
        let found = part(too_complex(
            Path::new("x_override.tf"),
            FileKind::Hcl,
            &spread,
            false,
        ));
        assert_eq!((found.line, found.block), (1, false));
        assert!(
            too_complex(
                Path::new("terraform.tfvars"),
                FileKind::Tfvars,
                &spread,
                false
            )
            .is_some()
        );
        let json = format!(
            "{{\"locals\": {{\"v\": {}{}}}}}",
            "[".repeat(2 * MAX_PARSE_TOKENS - 10),
            "]".repeat(2 * MAX_PARSE_TOKENS - 10)
        );
        assert_eq!(
            too_complex(Path::new("m.tf.json"), FileKind::Json, &json, false),
            None
        );
        let json = json.replace("[", "[[").replace("]", "]]");
        assert!(too_complex(Path::new("m.tf.json"), FileKind::Json, &json, false).is_some());
        // Fixing parses the whole file, with its own limit.
        let fixable = models(MAX_FIX_TOKENS / 8 - 100);
        assert_eq!(too_complex(hcl, FileKind::Hcl, &fixable, true), None);
        let found = part(too_complex(
            hcl,
            FileKind::Hcl,
            &models(MAX_FIX_TOKENS / 8 + 100),
            true,
        ));
        assert_eq!(
            (found.block, found.fixing, found.limit),
            (false, true, MAX_FIX_TOKENS)
        );
        assert!(found.to_string().contains("to fix it"), "{found}");
    }

    #[test]
    fn file_kinds() {
        for (name, kind) in [
            ("main.tf", Some(FileKind::Hcl)),
            ("main.tf.json", Some(FileKind::Json)),
            ("terraform.tfvars", Some(FileKind::Tfvars)),
            ("prod.auto.tfvars", Some(FileKind::Tfvars)),
            (".net.auto.tfvars", Some(FileKind::Tfvars)),
            ("terraform.tfvars.json", Some(FileKind::TfvarsJson)),
            ("x.auto.tfvars.json", Some(FileKind::TfvarsJson)),
            ("prod.tfvars", None),
            (".hidden.tf", None),
            ("main.tf~", None),
            ("#main.tf#", None),
        ] {
            assert_eq!(FileKind::of(Path::new(name)), kind, "{name}");
        }
    }

    #[test]
    fn override_files_by_name() {
        for (name, yes) in [
            ("override.tf", true),
            ("override.tf.json", true),
            ("net_override.tf", true),
            ("net_override.tf.json", true),
            ("overrides.tf", false),
            ("main.tf", false),
        ] {
            assert_eq!(is_override(Path::new(name)), yes, "{name}");
        }
    }

    #[test]
    fn folders_and_normal_paths() {
        assert_eq!(folder_of(Path::new("main.tf")), PathBuf::from("."));
        assert_eq!(folder_of(Path::new("a/main.tf")), PathBuf::from("a"));
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("./../x")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }
    /// A `.tfvars` file is read stretch by stretch to the same assignments
    /// as from the tree of its whole text; one that does not parse cleanly
    /// is parsed whole, as before.
    #[test]
    fn tfvars_read_by_stretches_equal_the_whole_read() {
        let path = Path::new("terraform.tfvars");
        let mut text = String::from("# values\n");
        let mut i = 0;
        while text.len() < 3 * crate::incremental::INIT_STRETCH {
            text.push_str(&format!(
                "a{i} = {i}\nb{i} = [\n  \"s-{i}\", # ]\n]\nc{i} = {{ k = \"}}\" }}\nd{i} = <<EOT\n]\nEOT\n"
            ));
            i += 1;
        }
        text.push_str("# the end\n");
        let whole = lower::hcl::tfvars(&text, &syntax::parse(&text, None));
        assert_eq!(whole.len(), 4 * i);
        assert_eq!(tfvars_by_stretches(&text).as_ref(), Some(&whole));
        let facts = FileFacts::extract(path, FileKind::Tfvars, Arc::new(text.clone()), None);
        assert_eq!(facts.assignments, whole);
        // A syntax error: parsed whole, what recovery reads of it.
        let broken = format!("{text}e =\nf = 1\n");
        assert_eq!(tfvars_by_stretches(&broken), None);
        let facts = FileFacts::extract(path, FileKind::Tfvars, Arc::new(broken.clone()), None);
        let recovered = lower::hcl::tfvars(&broken, &syntax::parse(&broken, None));
        assert_eq!(facts.assignments, recovered);
    }
    /// `check` parses each chunk with what is nested too deep for the
    /// lowering masked ([`syntax::mask_deep`]), in the lenient read and out
    /// of it: 20 blocks nested 450,000 deep took it 16 s and 602 MB.
    #[test]
    fn a_chunk_nested_too_deep_is_parsed_masked() {
        let deep = 3 * syntax::MASK_DEPTH;
        let chunk = format!(
            "resource \"aws_sagemaker_model\" \"m\" {{\n  name = {}{}\n}}\n",
            "[".repeat(deep),
            "]".repeat(deep)
        );
        let depth = |tree: &Tree| syntax::tree_shape(tree).1;
        let whole = depth(&syntax::parse(&chunk, None));
        for lenient in [false, true] {
            let parsed = Parsed::new(&chunk, lenient);
            assert!(!parsed.has_error());
            let masked = depth(&parsed.tree);
            assert!(masked * 2 < whole, "{masked} levels masked, {whole} whole");
        }
    }
}
