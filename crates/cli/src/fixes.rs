//! `check --fix` and `check --diff`: the changes the preferred fixes make to
//! files, written atomically or shown as a unified diff.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One file's new text.
pub struct Change {
    pub path: PathBuf,
    pub display: String,
    pub old_text: String,
    pub new_text: String,
    /// The file started with a byte-order mark; it is kept.
    pub bom: bool,
    /// What was done, for the user.
    pub summary: Vec<String>,
}

impl Change {
    /// A unified diff of the change, with `a/` and `b/` paths like git's.
    pub fn diff(&self) -> String {
        similar::TextDiff::from_lines(&self.old_text, &self.new_text)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("a/{}", self.display),
                &format!("b/{}", self.display),
            )
            .to_string()
    }
}

/// Replaces `path` with `text` atomically: a temporary file in the same
/// folder, with the original's permissions, renamed over it. A reader sees
/// the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, text: &str, bom: bool) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = folder.join(format!(
        ".{name}.sagemaker-vpc-lsp.{}.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        if bom {
            file.write_all(b"\xEF\xBB\xBF")?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_bom_and_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.tf");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, "new\n", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"\xEF\xBB\xBFnew\n");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn diff_has_git_style_headers() {
        let change = Change {
            path: "m.tf".into(),
            display: "m.tf".into(),
            old_text: "a\nb\n".into(),
            new_text: "a\nc\n".into(),
            bom: false,
            summary: vec![],
        };
        let diff = change.diff();
        assert!(diff.starts_with("--- a/m.tf\n+++ b/m.tf\n"), "{diff}");
        assert!(diff.contains("-b\n+c\n"), "{diff}");
    }
}
