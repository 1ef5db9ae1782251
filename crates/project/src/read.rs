//! Reading Terraform files as text, with the errors `check` documents.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use svl_analysis::module::{FileFacts, FileKind};
use svl_analysis::syntax;
use tree_sitter::Tree;

/// Why a file could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not valid UTF-8 (first invalid byte at line {line}); skipped")]
    NotUtf8 { line: usize },
    #[error("not a regular file (a FIFO, device or socket); not read")]
    NotRegular,
}

/// Reads a file as UTF-8 text, dropping a leading byte-order mark.
pub(crate) fn read_source(path: &Path) -> Result<String, ReadError> {
    read_source_bom(path).map(|(text, _)| text)
}

/// Reads a file as UTF-8 text; says whether it started with a byte-order
/// mark (dropped from the text, restored when a fix writes the file). A
/// FIFO or device is refused rather than read (reading one could block
/// forever).
pub(crate) fn read_source_bom(path: &Path) -> Result<(String, bool), ReadError> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let bytes = std::fs::read(path)?;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let bytes = if bom { bytes[3..].to_vec() } else { bytes };
    String::from_utf8(bytes)
        .map(|text| (text, bom))
        .map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..valid]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            ReadError::NotUtf8 { line }
        })
}

/// What kind of file `path` is: by name, else (a file named explicitly)
/// JSON if it ends in `.json`, HCL otherwise.
pub fn kind_of(path: &Path) -> FileKind {
    FileKind::of(path).unwrap_or_else(|| {
        if path.extension().is_some_and(|e| e == "json") {
            FileKind::Json
        } else {
            FileKind::Hcl
        }
    })
}

/// How much of a file analysis needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Findings only: the blocks they can depend on.
    Findings,
    /// Findings and fixes: every block (fixes read subnets, security
    /// groups, endpoint configurations…).
    Fixes,
}

/// A file as read. It is parsed only when its facts are first asked for,
/// and its syntax tree is not kept (a tree takes many times the text's
/// memory); fixes parse again what they edit.
pub struct Source {
    pub kind: FileKind,
    pub text: Arc<String>,
    /// It started with a byte-order mark (kept when a fix writes it).
    pub bom: bool,
    facts: OnceLock<Arc<FileFacts>>,
    needed: OnceLock<Arc<FileFacts>>,
}

impl Source {
    pub fn read(path: &Path, kind: FileKind) -> Result<Self, ReadError> {
        let (text, bom) = read_source_bom(path)?;
        Ok(Self::new(kind, text, bom))
    }

    pub fn new(kind: FileKind, text: String, bom: bool) -> Self {
        Self {
            kind,
            text: Arc::new(text),
            bom,
            facts: OnceLock::new(),
            needed: OnceLock::new(),
        }
    }

    /// The facts of this file at `path` (the path it is stored under: the
    /// first call's path is kept).
    pub fn facts(&self, path: &Path) -> Arc<FileFacts> {
        Arc::clone(self.facts.get_or_init(|| {
            Arc::new(FileFacts::extract(
                path,
                self.kind,
                Arc::clone(&self.text),
                None,
            ))
        }))
    }

    /// The facts findings depend on (see [`FileFacts::extract_needed`]):
    /// parses only the blocks that can matter. Not for fixes.
    pub fn facts_for_findings(&self, path: &Path) -> Arc<FileFacts> {
        if let Some(full) = self.facts.get() {
            return Arc::clone(full);
        }
        Arc::clone(self.needed.get_or_init(|| {
            Arc::new(FileFacts::extract_needed(
                path,
                self.kind,
                Arc::clone(&self.text),
            ))
        }))
    }

    /// The facts at `depth`.
    pub fn facts_at(&self, path: &Path, depth: Depth) -> Arc<FileFacts> {
        match depth {
            Depth::Findings => self.facts_for_findings(path),
            Depth::Fixes => self.facts(path),
        }
    }

    /// The syntax tree of an HCL file, parsed now.
    pub fn tree(&self) -> Option<Tree> {
        self.kind.is_hcl().then(|| syntax::parse(&self.text, None))
    }
}
