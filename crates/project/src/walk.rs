//! Finds the files `check` reads: the paths the user named, and under each
//! folder every `*.tf` and `*.tf.json` file.
//!
//! What is skipped follows Terraform and git, never more: `.terraform/`,
//! `.git/` and hidden entries; and what git itself would not show — ignore
//! files (`.gitignore`, `.git/info/exclude`) apply only inside a git
//! repository, and only those of that repository (a `.gitignore` in a folder
//! above it does not hide the repository's files, as `git status` does not).
//! Symbolic links to files and folders are followed, as Terraform follows
//! them; a link loop is reported. Nothing is skipped silently: a path that
//! yields no Terraform file at all is named in a [`Walk::notes`] line.

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

/// A path that could not be walked or read.
#[derive(Debug, Clone)]
pub struct WalkError {
    pub path: String,
    pub reason: String,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    pub targets: Vec<Target>,
    /// Paths that could not be walked (exit code 2).
    pub errors: Vec<WalkError>,
    /// Things the user should know that are not errors: a path with no
    /// Terraform file, a symbolic link loop.
    pub notes: Vec<String>,
}

/// Is `path` a Terraform configuration file the walk checks (`*.tf`,
/// `*.tf.json`)? tfvars files are read as module context, not checked.
pub(crate) fn is_terraform_file(path: &Path) -> bool {
    FileKind::of(path).is_some_and(FileKind::is_config)
}

/// The Terraform files directly in `folder` (configuration and tfvars), as
/// Terraform reads them to build the module: regular files, or links to
/// them.
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

fn builder(root: &Path, honour_ignores: bool) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(true)
        // git's ignore files, inside a repository only; not the `.ignore`
        // files of ripgrep and friends.
        .ignore(false)
        .git_ignore(honour_ignores)
        .git_exclude(honour_ignores)
        .git_global(honour_ignores)
        .require_git(true)
        .follow_links(true)
        .filter_entry(|entry| {
            let name = entry.file_name();
            !(entry.depth() > 0 && (name == ".terraform" || name == ".git"))
        });
    builder
}

/// Collects the files under `roots`, deduplicated, in no particular order.
pub fn collect(roots: &[PathBuf]) -> Walk {
    let mut walk = Walk::default();
    let mut seen = HashSet::new();
    for root in roots {
        let display = display_path(root);
        let meta = match std::fs::metadata(root) {
            Ok(meta) => meta,
            Err(e) => {
                walk.errors.push(WalkError {
                    path: display,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if meta.is_file() {
            // A file named explicitly is checked whatever its name.
            push(&mut walk, &mut seen, root.clone());
            continue;
        }
        if !meta.is_dir() {
            walk.errors.push(WalkError {
                path: display,
                reason: "not a regular file or folder (a FIFO, device or socket); not read"
                    .to_owned(),
            });
            continue;
        }
        let before = walk.targets.len();
        let mut loops = 0;
        for entry in builder(root, true).build() {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    if !is_terraform_file(path) {
                        continue;
                    }
                    // `file_type` follows links; `metadata` again to be sure
                    // a link's target is a regular file.
                    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
                    let dir = entry.file_type().is_some_and(|t| t.is_dir());
                    if regular {
                        push(&mut walk, &mut seen, entry.into_path());
                    } else if !dir {
                        walk.errors.push(WalkError {
                            path: display_path(path),
                            reason: "not a regular file (a FIFO, device, socket or broken \
                                     link); not read"
                                .to_owned(),
                        });
                    }
                }
                Err(e) if is_loop(&e) => {
                    loops += 1;
                    walk.notes.push(format!(
                        "{}: {}; not followed again",
                        error_path(&e).map_or_else(|| display.clone(), |p| display_path(&p)),
                        error_reason(&e)
                    ));
                }
                Err(e) => walk.errors.push(WalkError {
                    path: error_path(&e).map_or_else(|| display.clone(), |p| display_path(&p)),
                    reason: error_reason(&e),
                }),
            }
        }
        if walk.targets.len() == before && loops == 0 {
            walk.notes.push(nothing_found(root, &display));
        }
    }
    walk
}

/// Says why a folder yielded no Terraform file.
fn nothing_found(root: &Path, display: &str) -> String {
    let ignored = builder(root, false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| is_terraform_file(e.path()) && e.file_type().is_some_and(|t| !t.is_dir()))
        .count();
    if ignored > 0 {
        format!(
            "{display}: no Terraform file checked: the {ignored} *.tf / *.tf.json file{} under it \
             {} excluded by the repository's ignore files (.gitignore, .git/info/exclude)",
            if ignored == 1 { "" } else { "s" },
            if ignored == 1 { "is" } else { "are" }
        )
    } else {
        format!("{display}: no Terraform file (*.tf, *.tf.json) found under it")
    }
}

fn push(walk: &mut Walk, seen: &mut HashSet<(PathBuf, std::ffi::OsString)>, path: PathBuf) {
    // The same file through a linked folder is the same module file; a file
    // linked into another folder belongs to that folder's module too.
    let folder = path.parent().unwrap_or(Path::new("."));
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let key = (
        std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf()),
        path.file_name().map(ToOwned::to_owned).unwrap_or_default(),
    );
    if seen.insert(key) {
        let display = display_path(&path);
        walk.targets.push(Target { path, display });
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
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
        ignore::Error::Loop { ancestor, .. } => {
            format!("a symbolic link loop back to {}", display_path(ancestor))
        }
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

    fn names(walk: &Walk, base: &Path) -> Vec<String> {
        let mut v: Vec<String> = walk
            .targets
            .iter()
            .map(|t| display_path(t.path.strip_prefix(base).unwrap_or(&t.path)))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn ignore_files_count_only_inside_their_repository() {
        let dir = tempfile::tempdir().unwrap();
        let outer = dir.path();
        std::fs::write(outer.join(".gitignore"), "*\n").unwrap();
        let repo = outer.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        std::fs::write(repo.join(".gitignore"), "sub/\n").unwrap();
        std::fs::write(repo.join("main.tf"), "").unwrap();
        std::fs::write(repo.join("sub/a.tf"), "").unwrap();
        std::fs::write(repo.join(".ignore"), "main.tf\n").unwrap();
        let walk = collect(std::slice::from_ref(&repo));
        assert_eq!(names(&walk, &repo), ["main.tf"]);
        // Outside any repository, ignore files mean nothing (as to git).
        let plain = outer.join("plain");
        std::fs::create_dir_all(&plain).unwrap();
        std::fs::write(plain.join(".gitignore"), "*.tf\n").unwrap();
        std::fs::write(plain.join("x.tf"), "").unwrap();
        assert_eq!(
            names(&collect(std::slice::from_ref(&plain)), &plain),
            ["x.tf"]
        );
    }

    #[test]
    fn links_are_followed_and_empty_paths_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::fs::write(root.join("shared/model.tf"), "").unwrap();
        std::fs::create_dir_all(root.join("env")).unwrap();
        std::os::unix::fs::symlink(root.join("shared"), root.join("env/linked")).unwrap();
        std::os::unix::fs::symlink(root.join("shared/model.tf"), root.join("env/main.tf")).unwrap();
        let env = root.join("env");
        let walk = collect(std::slice::from_ref(&env));
        assert_eq!(names(&walk, &env), ["linked/model.tf", "main.tf"]);
        let empty = root.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let walk = collect(&[empty]);
        assert!(walk.targets.is_empty());
        assert!(
            walk.notes[0].contains("no Terraform file"),
            "{:?}",
            walk.notes
        );
    }
}
