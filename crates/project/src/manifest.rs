//! Where `terraform init` installed a root module's calls: its record,
//! `.terraform/modules/modules.json` ([`manifest_of`]), lists each call by key (`sm`, and
//! `sm.inner` for a call inside it) with its source and the folder it was
//! installed in, relative to the root. A call of a registry, git or other
//! source is followed into that folder, as Terraform plans it; one of a
//! local path is resolved where it is written ([`svl_analysis::module`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use svl_analysis::module::{is_local_source, normalize};

/// The record of the root module at `root`: under Terraform's data folder,
/// `TF_DATA_DIR` (relative to the root) when set, else `.terraform`.
pub fn manifest_of(root: &Path) -> PathBuf {
    let data = match std::env::var_os("TF_DATA_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join(".terraform"),
    };
    data.join("modules/modules.json")
}

/// A call `terraform init` installed from a source that is not a local path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The folder holding the `module` block.
    pub caller: PathBuf,
    /// `module "NAME"`.
    pub name: String,
    /// Where Terraform installed it.
    pub folder: PathBuf,
}

/// The installed calls of the root module at `root` (none when it has no
/// record, or one that does not read as Terraform writes it).
pub fn installed(root: &Path) -> Vec<Installed> {
    let manifest = manifest_of(root);
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        return Vec::new();
    };
    let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
        tracing::warn!(path = %manifest.display(), "not a module record");
        return Vec::new();
    };
    let entries = record["Modules"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    // Key → folder, the root's own ("") included.
    let folders: BTreeMap<&str, PathBuf> = entries
        .iter()
        .filter_map(|e| {
            Some((
                e["Key"].as_str()?,
                normalize(&root.join(e["Dir"].as_str()?)),
            ))
        })
        .collect();
    let mut out = Vec::new();
    for entry in entries {
        let (Some(key), Some(source)) = (entry["Key"].as_str(), entry["Source"].as_str()) else {
            continue;
        };
        if key.is_empty() || is_local_source(source) {
            continue;
        }
        let (parent, name) = key.rsplit_once('.').unwrap_or(("", key));
        let (Some(caller), Some(folder)) = (folders.get(parent), folders.get(key)) else {
            continue;
        };
        // A record left behind by a folder since deleted: not followed
        // (and so named), not taken for a module declaring nothing.
        if !folder.is_dir() {
            continue;
        }
        out.push(Installed {
            caller: caller.clone(),
            name: name.to_owned(),
            folder: folder.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_calls_are_read_from_the_record_with_their_callers() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for dir in ["sm", "sm/modules/inner", "sm.inner.net"] {
            std::fs::create_dir_all(root.join(".terraform/modules").join(dir)).unwrap();
        }
        std::fs::write(
            manifest_of(root),
            r#"{"Modules":[
                {"Key":"","Source":"","Dir":"."},
                {"Key":"sm","Source":"registry.terraform.io/acme/sm/aws","Version":"1.0.0","Dir":".terraform/modules/sm"},
                {"Key":"sm.inner","Source":"./modules/inner","Dir":".terraform/modules/sm/modules/inner"},
                {"Key":"sm.inner.net","Source":"git::https://example.com/net.git","Dir":".terraform/modules/sm.inner.net"},
                {"Key":"local","Source":"./local","Dir":"local"}
            ]}"#,
        )
        .unwrap();
        let got = installed(root);
        assert_eq!(
            got,
            [
                Installed {
                    caller: root.to_path_buf(),
                    name: "sm".into(),
                    folder: root.join(".terraform/modules/sm"),
                },
                Installed {
                    caller: root.join(".terraform/modules/sm/modules/inner"),
                    name: "net".into(),
                    folder: root.join(".terraform/modules/sm.inner.net"),
                },
            ]
        );
        // A folder since deleted is not installed.
        std::fs::remove_dir(root.join(".terraform/modules/sm.inner.net")).unwrap();
        assert_eq!(installed(root).len(), 1);
        // No record, or a broken one: nothing is installed.
        assert!(installed(&root.join("local")).is_empty());
        std::fs::write(manifest_of(root), "{").unwrap();
        assert!(installed(root).is_empty());
    }
}
