//! `check --fix`: writing the changes the preferred fixes make, atomically.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `text` atomically: a temporary file in the same
/// folder, with the original's permissions, renamed over it. A reader sees
/// the old file or the new one, never half of one.
///
/// A read-only file is refused, as `terraform fmt` refuses it; a symbolic
/// link is written through (its target changes, the link stays).
pub(crate) fn write_atomic(path: &Path, text: &str, bom: bool) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let path = target.as_path();
    if std::fs::metadata(path)?.permissions().readonly() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only: not rewritten (make it writable to apply the fix)",
        ));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
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
    fn read_only_files_are_refused_and_links_written_through() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.tf");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomic(&path, "new", false).unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let real = dir.path().join("real.tf");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.tf");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, "new", false).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }
}
