//! Reading Terraform files as text, with the errors `check` documents.

/// Why a file could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not valid UTF-8 (first invalid byte at line {line}); skipped")]
    NotUtf8 { line: usize },
}

/// Reads a file as UTF-8 text, dropping a leading byte-order mark.
pub fn read_source(path: &std::path::Path) -> Result<String, ReadError> {
    read_source_bom(path).map(|(text, _)| text)
}

/// Reads a file as UTF-8 text; says whether it started with a byte-order
/// mark (dropped from the text, restored when a fix writes the file).
pub fn read_source_bom(path: &std::path::Path) -> Result<(String, bool), ReadError> {
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
