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
mod scope;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tree_sitter::Tree;

use crate::hir::{Attribute, Block};
use crate::{json, lower, syntax, terraform};

pub use index::ModuleIndex;
pub(crate) use index::{Merged, VariableDecl, effective_kind};
pub use scope::{Frame, InstanceKey, Modules, Reference, frames};

/// Above this size a file's findings come from its chunks parsed one by one
/// even when it has syntax errors (see [`FileFacts::extract_needed`]).
pub const WHOLE_FILE_PARSE_LIMIT: usize = 1024 * 1024;

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

/// A chunk of the lenient split that does not parse on its own is either
/// a real syntax error or a place where the split's lexical view and
/// tree-sitter's differ (a string the split ended early): joined with the
/// chunks after it — 1, 2, 4… of them, within [`MEND_WINDOW`] and the
/// budget of bytes to parse again — the second kind parses cleanly.
/// Returns the last chunk joined and the clean tree, or `None`: the error
/// is real, and stays in its chunk.
fn mend(
    text: &str,
    items: &[crate::split::Item],
    first: usize,
    budget: &mut usize,
) -> Option<(usize, Parsed)> {
    let start = items[first].range.start;
    let mut more = 1;
    loop {
        let last = (first + more).min(items.len() - 1);
        let end = items[last].range.end;
        if last == first || end - start > MEND_WINDOW || end - start > *budget {
            return None;
        }
        *budget -= end - start;
        let parsed = Parsed::new(&text[start..end], true);
        if !parsed.has_error() {
            return Some((last, parsed));
        }
        if last == items.len() - 1 {
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
    pub blocks: Vec<Arc<Block>>,
    /// `NAME = value` (tfvars files).
    pub assignments: Vec<Attribute>,
    /// A hash of what analysis reads from the file (not where it is): see
    /// [`ModuleIndex::fingerprint`].
    pub semantic: u64,
}

impl FileFacts {
    /// Reads the facts of a file of `kind`. `tree` is its HCL tree when the
    /// caller already has one (it is parsed here otherwise).
    pub fn extract(path: &Path, kind: FileKind, text: Arc<String>, tree: Option<&Tree>) -> Self {
        let mut blocks = Vec::new();
        let mut assignments = Vec::new();
        match kind {
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
        Self::from_parts(
            path,
            kind,
            text,
            blocks.into_iter().map(Arc::new).collect(),
            assignments,
        )
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
        Self::extract_needed_with(path, kind, text, lenient)
    }

    /// [`FileFacts::extract_needed`], with the lenient split or not.
    pub fn extract_needed_with(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        lenient: bool,
    ) -> Self {
        if kind != FileKind::Hcl || is_override(path) {
            return Self::extract(path, kind, text, None);
        }
        let items = if lenient {
            crate::split::split_lenient(&text)
        } else {
            match crate::split::split(&text) {
                Some(items) => items,
                None => return Self::extract(path, kind, text, None),
            }
        };
        let needed = |item: &crate::split::Item| {
            item.irregular
                || crate::rules::read_for_findings(&item.kind, item.label.as_deref())
                || text[item.range.clone()].contains(crate::suppress::DIRECTIVE)
        };
        let lowered = |range: std::ops::Range<usize>, parsed: Parsed| -> Vec<Arc<Block>> {
            let mut blocks = parsed.lower(&text[range.clone()]);
            for block in &mut blocks {
                block.shift(range.start as isize);
            }
            blocks.into_iter().map(Arc::new).collect()
        };
        let mut blocks = Vec::new();
        if !lenient {
            for item in items.iter().filter(|item| needed(item)) {
                let parsed = Parsed::new(&text[item.range.clone()], false);
                if parsed.has_error() {
                    return Self::extract(path, kind, text, None);
                }
                blocks.extend(lowered(item.range.clone(), parsed));
            }
            return Self::from_parts(path, kind, text, blocks, Vec::new());
        }
        // A large file: its chunks are parsed in parallel, then the broken
        // ones mended in order.
        use rayon::prelude::*;
        let wanted: Vec<usize> = (0..items.len()).filter(|&i| needed(&items[i])).collect();
        let chunks: Vec<(Vec<Arc<Block>>, bool)> = wanted
            .par_iter()
            .map(|&i| {
                let range = items[i].range.clone();
                let parsed = Parsed::new(&text[range.clone()], true);
                let broken = parsed.has_error();
                (lowered(range, parsed), broken)
            })
            .collect();
        // Bytes the lenient read may parse again to mend a broken chunk.
        let mut mend_budget = text.len();
        // Items up to here were read as part of a mended chunk.
        let mut covered = 0;
        for (&i, (chunk_blocks, broken)) in wanted.iter().zip(chunks) {
            if i < covered {
                continue;
            }
            if broken && let Some((end, mended)) = mend(&text, &items, i, &mut mend_budget) {
                let range = items[i].range.start..items[end].range.end;
                blocks.extend(lowered(range, mended));
                covered = end + 1;
                continue;
            }
            blocks.extend(chunk_blocks);
        }
        Self::from_parts(path, kind, text, blocks, Vec::new())
    }

    /// A file's facts from blocks lowered elsewhere (the incremental cache).
    pub fn from_parts(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        blocks: Vec<Arc<Block>>,
        assignments: Vec<Attribute>,
    ) -> Self {
        let semantic = hash::file(&blocks, &assignments, is_override(path));
        Self {
            path: path.to_path_buf(),
            kind,
            text,
            blocks,
            assignments,
            semantic,
        }
    }

    /// Like [`FileFacts::from_parts`] for a configuration file, with the
    /// [`shared_hash`] of each block already known (in order; `None` for a
    /// block others cannot read): nothing is hashed again.
    pub(crate) fn from_hashed(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        blocks: Vec<(Arc<Block>, Option<u64>)>,
    ) -> Self {
        let semantic = hash::combine(blocks.iter().filter_map(|(_, h)| *h), &[]);
        Self {
            path: path.to_path_buf(),
            kind,
            text,
            blocks: blocks.into_iter().map(|(b, _)| b).collect(),
            assignments: Vec::new(),
            semantic,
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
}
