//! Finds the files `check` reads: the paths the user named, and under each
//! folder every `*.tf` and `*.tf.json` file, skipping `.terraform/`, `.git/`, hidden files
//! (Terraform itself ignores them) and whatever `.gitignore` excludes.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use svl_analysis::module::FileKind;

/// A file to check: where it is, and how to name it to the user.
#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    /// The path as the user named it joined with the path found under it,
    /// with `.` components dropped (`./a/b.tf` → `a/b.tf`).
    pub display: String,
}

/// A path the user named that could not be walked.
#[derive(Debug)]
pub struct WalkError {
    pub path: String,
    pub reason: String,
}

/// Is `path` a Terraform configuration file the walk checks (`*.tf`,
/// `*.tf.json`)? tfvars files are read as module context, not checked.
pub fn is_terraform_file(path: &Path) -> bool {
    FileKind::of(path).is_some_and(FileKind::is_config)
}

/// The Terraform files directly in `folder` (configuration and tfvars), as
/// Terraform reads them to build the module.
pub fn module_files(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && FileKind::of(p).is_some())
        .collect();
    paths.sort();
    paths
}

/// Collects the files under `roots`, deduplicated, in no particular order.
pub fn collect(roots: &[PathBuf]) -> (Vec<Target>, Vec<WalkError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |path: PathBuf, targets: &mut Vec<Target>| {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            let display = display_path(&path);
            targets.push(Target { path, display });
        }
    };
    for root in roots {
        let meta = match std::fs::metadata(root) {
            Ok(meta) => meta,
            Err(e) => {
                errors.push(WalkError {
                    path: display_path(root),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if meta.is_file() {
            // A file named explicitly is checked whatever its name.
            push(root.clone(), &mut targets);
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(|entry| {
                let name = entry.file_name();
                !(entry.depth() > 0 && (name == ".terraform" || name == ".git"))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file && is_terraform_file(entry.path()) {
                        push(entry.into_path(), &mut targets);
                    }
                }
                Err(e) => errors.push(WalkError {
                    path: error_path(&e).map_or_else(|| display_path(root), |p| display_path(&p)),
                    reason: error_reason(&e),
                }),
            }
        }
    }
    (targets, errors)
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

fn error_reason(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_reason(err),
        other => other.to_string(),
    }
}

/// `./a//b/./c.tf` → `a/b/c.tf`; absolute paths stay absolute.
pub fn display_path(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for component in path.components() {
        match component {
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::Prefix(p) => parts.push(p.as_os_str().to_string_lossy().into_owned()),
            Component::ParentDir => parts.push("..".to_owned()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_drop_dot_components() {
        assert_eq!(
            display_path(Path::new("./modules/ml/model.tf")),
            "modules/ml/model.tf"
        );
        assert_eq!(
            display_path(Path::new("examples//main.tf")),
            "examples/main.tf"
        );
        assert_eq!(display_path(Path::new("/abs/./x.tf")), "/abs/x.tf");
        assert_eq!(display_path(Path::new("../up/x.tf")), "../up/x.tf");
        assert_eq!(display_path(Path::new(".")), ".");
    }

    #[test]
    fn terraform_files_by_name() {
        assert!(is_terraform_file(Path::new("a/main.tf")));
        assert!(is_terraform_file(Path::new("a/main.tf.json")));
        assert!(!is_terraform_file(Path::new("a/terraform.tfvars")));
        assert!(!is_terraform_file(Path::new("a/.tf")));
    }
}
