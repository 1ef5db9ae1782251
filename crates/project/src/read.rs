//! Reading Terraform files as text, with the errors `check` documents.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use svl_analysis::module::{self, FileFacts, FileKind};
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
    #[error(
        "{size} bytes, over the limit of {} (--max-file-size); not checked",
        size_text(*limit)
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    TooComplex(svl_analysis::module::TooComplex),
}

/// The size limit of the files `check` reads unless told otherwise: a file
/// above it is named and skipped (exit 2) instead of taking the machine's
/// memory (a 32 MiB `.tf` file of dense models takes about 1.5 GB to check).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;
/// [`DEFAULT_MAX_FILE_SIZE`] as `--max-file-size` writes it.
pub const DEFAULT_MAX_FILE_SIZE_TEXT: &str = "32M";

/// `12345678` → `11.8 MiB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Reads a size written as bytes or with a binary suffix: `500000`,
/// `512K`, `64M`, `1G` (`KiB`, `MB`… and lower case are accepted too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, suffix) = t.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (examples: 500000, 512K, 64M, 1G)"))?;
    let factor: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("{text:?}: unknown unit (use K, M or G)")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Reads a file as UTF-8 text, dropping a leading byte-order mark.
pub(crate) fn read_source(
    path: &Path,
    kind: FileKind,
    max_size: Option<u64>,
) -> Result<String, ReadError> {
    read_source_bom(path, kind, max_size, Depth::Findings).map(|(text, _)| text)
}

/// Reads a file as UTF-8 text; says whether it started with a byte-order
/// mark (dropped from the text, restored when a fix writes the file). A
/// FIFO or device is refused rather than read (reading one could block
/// forever), and so is a file larger than `max_size`, and one that a parse
/// could not take in bounded memory when read to `depth` (see
/// [`module::too_complex`]).
pub(crate) fn read_source_bom(
    path: &Path,
    kind: FileKind,
    max_size: Option<u64>,
    depth: Depth,
) -> Result<(String, bool), ReadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if let Some(limit) = max_size
        && meta.len() > limit
    {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let bytes = std::fs::read(path)?;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let bytes = if bom { bytes[3..].to_vec() } else { bytes };
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        ReadError::NotUtf8 { line }
    })?;
    match module::too_complex(path, kind, &text, depth == Depth::Fixes) {
        Some(part) => Err(ReadError::TooComplex(part)),
        None => Ok((text, bom)),
    }
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
    /// Reads `path` for analysis to `depth`, refusing a file larger than
    /// `max_size` or too complex to parse in bounded memory.
    pub fn read(
        path: &Path,
        kind: FileKind,
        max_size: Option<u64>,
        depth: Depth,
    ) -> Result<Self, ReadError> {
        let (text, bom) = read_source_bom(path, kind, max_size, depth)?;
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

    /// Drops the facts read so far (they are read again if asked for).
    pub fn forget_facts(&mut self) {
        self.facts = OnceLock::new();
        self.needed = OnceLock::new();
    }

    /// The syntax tree of an HCL file, parsed now.
    pub fn tree(&self) -> Option<Tree> {
        self.kind.is_hcl().then(|| syntax::parse(&self.text, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_print_in_binary_units() {
        assert_eq!(parse_size("500000"), Ok(500_000));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("10X").is_err());
        assert!(parse_size("99999999999999G").is_err());
        assert_eq!(size_text(100), "100 bytes");
        assert_eq!(size_text(32 << 20), "32 MiB");
        assert_eq!(size_text(12_345_678), "11.8 MiB");
        assert_eq!(
            parse_size(DEFAULT_MAX_FILE_SIZE_TEXT),
            Ok(DEFAULT_MAX_FILE_SIZE)
        );
    }
}
