//! The module index of the workspace: per folder, the facts of every
//! Terraform file — from the editor's buffer when the file is open (unsaved
//! text wins), from disk otherwise — kept current by document changes and
//! `workspace/didChangeWatchedFiles`. Clients that cannot watch files (Neovim
//! 0.7, eglot) are covered too: while a module's files are being edited, its
//! folder is looked at again (names, sizes, modification times) every couple
//! of seconds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub use svl_analysis::module::folder_of;
use svl_analysis::module::{FileFacts, FileKind, ModuleIndex};

/// How often a folder is looked at again for changes nobody reported.
const RESCAN: Duration = Duration::from_secs(2);

/// What a file on disk looked like when it was read.
type Stamp = (Option<SystemTime>, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok(), meta.len()))
}

/// One folder's files.
#[derive(Default)]
struct ModuleState {
    files: BTreeMap<PathBuf, Arc<FileFacts>>,
    /// Files whose facts come from an open buffer.
    open: std::collections::BTreeSet<PathBuf>,
    index: Arc<ModuleIndex>,
    /// Disk files as read, to notice changes without a watcher.
    stamps: BTreeMap<PathBuf, Stamp>,
    scanned: Option<Instant>,
}

impl ModuleState {
    /// Re-reads disk files that changed since they were read (not open
    /// ones); true if any did.
    fn rescan(&mut self, folder: &Path) -> bool {
        self.scanned = Some(Instant::now());
        if folder.as_os_str().is_empty() {
            return false;
        }
        let on_disk = module_files(folder);
        let mut changed = false;
        for path in &on_disk {
            if self.open.contains(path) {
                continue;
            }
            let now = stamp(path);
            if now.is_some() && self.stamps.get(path) == now.as_ref() {
                continue;
            }
            match read_facts(path) {
                Some(facts) => {
                    self.files.insert(path.clone(), facts);
                }
                None => {
                    self.files.remove(path);
                }
            }
            if let Some(now) = now {
                self.stamps.insert(path.clone(), now);
            }
            changed = true;
        }
        let gone: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| !self.open.contains(*p) && !on_disk.contains(p))
            .cloned()
            .collect();
        for path in gone {
            self.files.remove(&path);
            self.stamps.remove(&path);
            changed = true;
        }
        changed
    }

    fn rebuild(&mut self) -> bool {
        let before = self.index.fingerprint();
        self.index = Arc::new(ModuleIndex::new(self.files.values().cloned().collect()));
        self.index.fingerprint() != before
    }
}

#[derive(Default)]
pub struct Workspace {
    modules: HashMap<PathBuf, ModuleState>,
}

/// Reads a file's facts from disk; `None` if it is not a Terraform file or
/// cannot be read (logged).
pub fn read_facts(path: &Path) -> Option<Arc<FileFacts>> {
    let kind = FileKind::of(path)?;
    match svl_project::read_source(path) {
        Ok(text) => Some(Arc::new(FileFacts::extract(
            path,
            kind,
            Arc::new(text),
            None,
        ))),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot read module file: {e}");
            None
        }
    }
}

pub use svl_project::walk::module_files;

impl Workspace {
    /// Loads `folder` from disk the first time it is needed.
    fn module(&mut self, folder: &Path) -> &mut ModuleState {
        self.modules.entry(folder.to_path_buf()).or_insert_with(|| {
            let mut state = ModuleState::default();
            state.rescan(folder);
            state.rebuild();
            state
        })
    }

    /// Adds a folder read elsewhere (the initial workspace scan); files
    /// already open in the editor keep their buffer's facts.
    pub fn add_scanned(&mut self, folder: PathBuf, files: Vec<Arc<FileFacts>>) -> bool {
        let state = self.modules.entry(folder).or_default();
        for facts in files {
            if !state.open.contains(&facts.path) {
                if let Some(now) = stamp(&facts.path) {
                    state.stamps.insert(facts.path.clone(), now);
                }
                state.files.insert(facts.path.clone(), facts);
            }
        }
        state.scanned = Some(Instant::now());
        state.rebuild()
    }

    pub fn is_known(&self, folder: &Path) -> bool {
        self.modules.contains_key(folder)
    }

    /// The index of `folder` (loading it if needed).
    pub fn index(&mut self, folder: &Path) -> Arc<ModuleIndex> {
        Arc::clone(&self.module(folder).index)
    }

    /// Records the facts of an open buffer; true if the module's facts
    /// changed for analysis (its fingerprint).
    pub fn put_open(&mut self, facts: Arc<FileFacts>) -> bool {
        let folder = folder_of(&facts.path);
        let state = self.module(&folder);
        state.open.insert(facts.path.clone());
        // Changes on disk that no watcher reported, now and then.
        let disk_changed =
            state.scanned.is_none_or(|t| t.elapsed() >= RESCAN) && state.rescan(&folder);
        let unchanged = !disk_changed
            && state
                .files
                .get(&facts.path)
                .is_some_and(|old| old.semantic == facts.semantic);
        state.files.insert(facts.path.clone(), facts);
        if unchanged {
            // Same meaning, new positions: keep the index's ranges current
            // without telling anyone.
            state.rebuild();
            return false;
        }
        state.rebuild()
    }

    /// A buffer closed: its file's facts come from disk again.
    pub fn close(&mut self, path: &Path) -> bool {
        let folder = folder_of(path);
        let state = self.module(&folder);
        state.open.remove(path);
        match read_facts(path) {
            Some(facts) => state.files.insert(path.to_path_buf(), facts),
            None => state.files.remove(path),
        };
        if let Some(now) = stamp(path) {
            state.stamps.insert(path.to_path_buf(), now);
        }
        state.rebuild()
    }

    /// A file changed, appeared or vanished on disk; ignored while it is open
    /// (the buffer wins). Returns the folder if its facts changed.
    pub fn disk_changed(&mut self, path: &Path) -> Option<PathBuf> {
        FileKind::of(path)?;
        let folder = folder_of(path);
        if !self.modules.contains_key(&folder) {
            return None; // not loaded yet: it will be read when needed
        }
        let state = self.module(&folder);
        if state.open.contains(path) {
            return None;
        }
        match read_facts(path) {
            Some(facts) => state.files.insert(path.to_path_buf(), facts),
            None => state.files.remove(path),
        };
        match stamp(path) {
            Some(now) => state.stamps.insert(path.to_path_buf(), now),
            None => state.stamps.remove(path),
        };
        state.rebuild().then_some(folder)
    }

    /// The text and tree-less facts of `path` as the index knows it.
    pub fn facts(&mut self, path: &Path) -> Option<Arc<FileFacts>> {
        let folder = folder_of(path);
        self.module(&folder).files.get(path).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn buffers_win_over_disk_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let vars = write(
            dir.path(),
            "variables.tf",
            "variable \"s\" {\n  default = [\"a\"]\n}\n",
        );
        let mut ws = Workspace::default();
        let index = ws.index(dir.path());
        assert!(index.variable("s").is_some());
        let fingerprint = index.fingerprint();
        // The user empties the default in the editor, unsaved.
        let edited = Arc::new(FileFacts::extract(
            &vars,
            FileKind::Hcl,
            Arc::new("variable \"s\" {\n  default = []\n}\n".to_owned()),
            None,
        ));
        assert!(ws.put_open(edited));
        assert_ne!(ws.index(dir.path()).fingerprint(), fingerprint);
        // Disk events for an open file are ignored.
        std::fs::write(&vars, "variable \"s\" {\n  default = [\"b\"]\n}\n").unwrap();
        assert_eq!(ws.disk_changed(&vars), None);
        // Closing without saving: back to the disk version (as it is now).
        assert!(ws.close(&vars));
        let on_disk = ws.index(dir.path());
        let default = on_disk
            .variable("s")
            .unwrap()
            .1
            .default
            .clone()
            .unwrap()
            .value;
        assert_eq!(
            default,
            svl_analysis::eval::Value::List(vec![svl_analysis::eval::Value::String("b".into())])
        );
        assert_ne!(on_disk.fingerprint(), fingerprint);
    }

    #[test]
    fn changes_nobody_reported_are_noticed_while_editing() {
        let dir = tempfile::tempdir().unwrap();
        let main = write(
            dir.path(),
            "main.tf",
            "resource \"aws_sagemaker_model\" \"m\" {}\n",
        );
        let mut ws = Workspace::default();
        let open = |ws: &mut Workspace| {
            ws.put_open(Arc::new(FileFacts::extract(
                &main,
                FileKind::Hcl,
                Arc::new("resource \"aws_sagemaker_model\" \"m\" {}\n".to_owned()),
                None,
            )))
        };
        open(&mut ws);
        // A tfvars file appears without any notification.
        write(dir.path(), "terraform.tfvars", "s = []\n");
        // Within the rescan interval nothing is looked at…
        assert!(!open(&mut ws));
        // …after it, the change is found.
        ws.modules.get_mut(dir.path()).unwrap().scanned = Instant::now().checked_sub(RESCAN);
        assert!(open(&mut ws));
        assert!(ws.index(dir.path()).assignment("s").is_some());
    }

    #[test]
    fn disk_changes_update_loaded_modules() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::default();
        assert!(ws.index(dir.path()).files.is_empty());
        let path = write(dir.path(), "terraform.tfvars", "s = []\n");
        assert_eq!(ws.disk_changed(&path), Some(dir.path().to_path_buf()));
        assert_eq!(ws.index(dir.path()).files.len(), 1);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(ws.disk_changed(&path), Some(dir.path().to_path_buf()));
        assert!(ws.index(dir.path()).files.is_empty());
        // A file Terraform does not read changes nothing.
        assert_eq!(ws.disk_changed(&dir.path().join("notes.md")), None);
    }
}
