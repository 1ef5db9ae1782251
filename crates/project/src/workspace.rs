//! The modules of a workspace: per folder, the facts of every Terraform
//! file — from an editor's buffer when the file is open (unsaved text wins),
//! from disk otherwise — and which folders call which through `module`
//! blocks with a local `source` or one `terraform init` installed
//! ([`Workspace::follow_installed`]), so each folder can be judged per instance
//! ([`Workspace::frames`]).
//!
//! Used by both front ends: `check` fills it from the files it walked; the
//! language server from its workspace folders, open buffers and file
//! events. Clients that cannot watch files (Neovim 0.7, eglot) are covered
//! too: while a module's files are being edited, its folder is looked at
//! again (names, sizes, modification times) every couple of seconds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use svl_analysis::module::{
    self, FileFacts, FileKind, Frame, ModuleIndex, Modules, WHOLE_FILE_PARSE_LIMIT,
};

use crate::read::{DEFAULT_MAX_FILE_SIZE, Source, read_source};
use crate::walk::module_files;

/// How often a folder is looked at again for changes nobody reported.
const RESCAN: Duration = Duration::from_secs(2);

/// What a file on disk looked like when it was read.
type Stamp = (Option<SystemTime>, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok(), meta.len()))
}

/// The module folder of a file, as the workspace keys folders.
pub fn folder_of(path: &Path) -> PathBuf {
    module::normalize(&module::folder_of(path))
}

/// One folder's files.
#[derive(Default)]
struct ModuleState {
    files: BTreeMap<PathBuf, Arc<FileFacts>>,
    /// Files whose facts come from an open buffer.
    open: BTreeSet<PathBuf>,
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
}

/// Whether [`Workspace::install`] looks again which called folders are
/// there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Again,
    /// The index's look holds while its calls lead where they did.
    Kept,
}

/// Every known module, and the calls between them.
#[derive(Default)]
pub struct Workspace {
    modules: HashMap<PathBuf, ModuleState>,
    /// Called folder → the folders that call it.
    callers: HashMap<PathBuf, BTreeSet<PathBuf>>,
    /// Calling folder → the folders it calls.
    calls: HashMap<PathBuf, BTreeSet<PathBuf>>,
    /// Calling folder → where `terraform init` installed its calls of
    /// sources that are not local paths, by call name
    /// ([`Workspace::follow_installed`]).
    installed: HashMap<PathBuf, Arc<BTreeMap<String, PathBuf>>>,
    /// Folders whose facts changed because a folder they call came, went
    /// or was loaded, not yet taken by [`Workspace::take_callers_changed`].
    callers_changed: BTreeSet<PathBuf>,
}

/// Reads a file's facts from disk; `None` if it is not a Terraform file,
/// cannot be read, or is larger than [`DEFAULT_MAX_FILE_SIZE`] (the limit
/// `check` applies by default). A file over [`WHOLE_FILE_PARSE_LIMIT`]
/// holds the blocks findings read ([`Source::facts_for_findings`]), as in
/// `check`.
pub fn read_facts(path: &Path) -> Option<Arc<FileFacts>> {
    read_facts_reusing(path, None)
}

/// [`read_facts`], giving back `known` (the facts of a buffer of the file)
/// when the file holds the same text and none of its blocks moved (a moved
/// block may hold a second, placed copy of itself): closing a buffer only
/// looked at, or edited at its end and saved, parsed the whole file again,
/// on the protocol thread (0.3 s at 2 MB).
fn read_facts_reusing(path: &Path, known: Option<&Arc<FileFacts>>) -> Option<Arc<FileFacts>> {
    let kind = FileKind::of(path)?;
    let text = match read_source(path, kind, Some(DEFAULT_MAX_FILE_SIZE)) {
        Ok(text) => text,
        // Deleted, or a new buffer never saved: nothing to say.
        Err(crate::read::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return None;
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), "not read: {e}");
            return None;
        }
    };
    if let Some(known) = known
        && known.kind == kind
        && known.detached.is_empty()
        && *known.text == text
        && known.blocks.iter().all(|b| b.is_as_read())
    {
        return Some(Arc::clone(known));
    }
    let source = Source::new(kind, text, false);
    // A large file is read as `check` reads it: chunk by chunk, keeping the
    // blocks analysis reads. Parsed whole, a stray `=` on the first line
    // of a 10 MB file sent tree-sitter's error recovery to 23 s and 2.8 GB,
    // which the server kept, for a file no buffer had open.
    Some(if source.text.len() > WHOLE_FILE_PARSE_LIMIT {
        source.facts_for_findings(path)
    } else {
        source.facts(path)
    })
}

impl Modules for Workspace {
    fn index(&self, folder: &Path) -> Option<Arc<ModuleIndex>> {
        self.modules.get(folder).map(|m| Arc::clone(&m.index))
    }

    fn callers(&self, folder: &Path) -> Vec<PathBuf> {
        self.callers
            .get(folder)
            .map(|c| c.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl Workspace {
    /// Rebuilds `folder`'s index from its files and the call edges leaving
    /// it; true if what analysis reads from it changed.
    fn rebuild(&mut self, folder: &Path) -> bool {
        let Some(state) = self.modules.get_mut(folder) else {
            return false;
        };
        let index = ModuleIndex::new(
            folder.to_path_buf(),
            state.files.values().cloned().collect(),
        )
        .with_installed(self.installed.get(folder).cloned().unwrap_or_default());
        self.install(folder, index, Look::Again)
    }

    /// Follows the calls `terraform init` installed for the root module at
    /// `root` (its [`crate::manifest::manifest_of`]): each calling folder's
    /// calls of registry, git or other sources lead to where they were
    /// installed. Returns those calls. A folder calling for two roots (a
    /// local module both call) follows the first root's record.
    pub fn follow_installed(&mut self, root: &Path) -> Vec<crate::manifest::Installed> {
        let calls = crate::manifest::installed(root);
        let mut changed = BTreeSet::new();
        for call in &calls {
            let map = self.installed.entry(call.caller.clone()).or_default();
            if !map.contains_key(&call.name) {
                Arc::make_mut(map).insert(call.name.clone(), call.folder.clone());
                changed.insert(call.caller.clone());
            }
        }
        for caller in changed {
            self.rebuild(&caller);
        }
        calls
    }

    /// Makes `index` the module's index (and its calls the module's calls).
    /// True if the module's facts changed.
    fn install(&mut self, folder: &Path, index: ModuleIndex, look: Look) -> bool {
        let Some(state) = self.modules.get_mut(folder) else {
            return false;
        };
        let children: BTreeSet<PathBuf> = index.calls().into_iter().map(|c| c.child).collect();
        // Called folders that are not there (a path mistyped, a folder not
        // checked out): looked at again unless the index is the last one
        // with a file swapped in and the calls lead where they did.
        let index = if look == Look::Again || self.calls.get(folder) != Some(&children) {
            let absent = children.iter().filter(|c| !c.is_dir()).cloned().collect();
            index.with_absent(absent)
        } else {
            index
        };
        let before = state.index.fingerprint();
        crate::retire::retire(std::mem::replace(&mut state.index, Arc::new(index)));
        let changed = state.index.fingerprint() != before;
        let old = self.calls.insert(folder.to_path_buf(), children.clone());
        for child in old.iter().flatten() {
            if let Some(set) = self.callers.get_mut(child) {
                set.remove(folder);
            }
        }
        for child in children {
            self.callers
                .entry(child)
                .or_default()
                .insert(folder.to_path_buf());
        }
        changed
    }

    /// Loads `folder` from disk the first time it is needed.
    fn load(&mut self, folder: &Path) -> &mut ModuleState {
        self.load_with(folder, None)
    }

    /// [`Workspace::load`], with the facts of a buffer being opened in the
    /// folder (`opening`): its file is not read from disk. Reading it cost
    /// a whole parse of a copy about to be replaced: opening a 1 MB file
    /// took 0.45 s instead of 0.21 s.
    fn load_with(&mut self, folder: &Path, opening: Option<&Arc<FileFacts>>) -> &mut ModuleState {
        if !self.modules.contains_key(folder) {
            let mut state = ModuleState::default();
            if let Some(facts) = opening {
                state.open.insert(facts.path.clone());
                state.files.insert(facts.path.clone(), Arc::clone(facts));
            }
            state.rescan(folder);
            self.modules.insert(folder.to_path_buf(), state);
            // A root module's calls lead where `terraform init` installed
            // them, whoever loads it first (an open file, indexing).
            self.follow_installed(folder);
            self.rebuild(folder);
            // A folder loaded (a file of it opened) is there for its callers.
            self.recheck_callers(folder);
        }
        self.modules
            .get_mut(folder)
            .expect("inserted above if it was missing")
    }

    /// Adds a folder read elsewhere (`check`'s sources, the server's initial
    /// scan); files already open in an editor keep their buffer's facts.
    /// True if the module's facts changed.
    pub fn add_scanned(&mut self, folder: PathBuf, files: Vec<Arc<FileFacts>>) -> bool {
        let state = self.modules.entry(folder.clone()).or_default();
        for facts in files {
            if !state.open.contains(&facts.path) {
                if let Some(now) = stamp(&facts.path) {
                    state.stamps.insert(facts.path.clone(), now);
                }
                state.files.insert(facts.path.clone(), facts);
            }
        }
        state.scanned = Some(Instant::now());
        self.rebuild(&folder)
    }

    /// Replaces one file's facts (a fix changed it in memory); true if the
    /// module's facts changed.
    pub fn replace(&mut self, facts: Arc<FileFacts>) -> bool {
        let folder = folder_of(&facts.path);
        let state = self.modules.entry(folder.clone()).or_default();
        state.files.insert(facts.path.clone(), facts);
        self.rebuild(&folder)
    }

    pub fn is_known(&self, folder: &Path) -> bool {
        self.modules.contains_key(folder)
    }

    /// The folders the workspace knows.
    pub fn folders(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.modules.keys().cloned().collect();
        out.sort();
        out
    }

    /// The index of `folder` (loading it from disk if needed).
    pub fn module_index(&mut self, folder: &Path) -> Arc<ModuleIndex> {
        Arc::clone(&self.load(folder).index)
    }

    /// The facts of `path` as the workspace knows them.
    pub fn file(&self, path: &Path) -> Option<Arc<FileFacts>> {
        self.modules.get(&folder_of(path))?.files.get(path).cloned()
    }

    /// The instances `folder` is analyzed in (see [`module::frames`]).
    pub fn frames(&mut self, folder: &Path) -> Vec<Arc<Frame>> {
        let index = self.module_index(folder);
        module::frames(self, index)
    }

    /// The instances of an already loaded `folder` (nothing is read).
    pub fn frames_of(&self, folder: &Path) -> Vec<Arc<Frame>> {
        match Modules::index(self, folder) {
            Some(index) => module::frames(self, index),
            None => Vec::new(),
        }
    }

    /// Folders whose instances depend on `folder`'s facts: the folders it
    /// calls, transitively (their arguments come from it).
    pub fn dependents(&self, folder: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        let mut stack = vec![folder.to_path_buf()];
        while let Some(f) = stack.pop() {
            for child in self.calls.get(&f).into_iter().flatten() {
                if !out.contains(child) && child != folder {
                    out.push(child.clone());
                    stack.push(child.clone());
                }
            }
        }
        out
    }

    /// `folders` and the folders depending on them ([`Workspace::dependents`]),
    /// each once, in that order.
    pub fn and_dependents(&self, folders: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for folder in folders {
            let dependents = self.dependents(&folder);
            for f in std::iter::once(folder).chain(dependents) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// Records the facts of an open buffer; true if the module's facts
    /// changed for analysis (its fingerprint).
    pub fn put_open(&mut self, facts: Arc<FileFacts>) -> bool {
        let folder = folder_of(&facts.path);
        let state = self.load_with(&folder, Some(&facts));
        state.open.insert(facts.path.clone());
        // Changes on disk that no watcher reported, now and then.
        let disk_changed =
            state.scanned.is_none_or(|t| t.elapsed() >= RESCAN) && state.rescan(&folder);
        if let Some(old) = state.files.insert(facts.path.clone(), Arc::clone(&facts)) {
            crate::retire::retire(old);
        }
        // A change inside blocks keeps every block's place: the index is
        // the old one with this file swapped in.
        let swapped = (!disk_changed)
            .then(|| state.index.replacing(facts))
            .flatten();
        let changed = match swapped {
            // The last index's look at the called folders holds.
            Some(index) => self.install(&folder, index, Look::Kept),
            None => self.rebuild(&folder),
        };
        disk_changed || changed
    }

    /// A buffer closed: its file's facts come from disk again. True if the
    /// module's facts changed.
    pub fn close(&mut self, path: &Path) -> bool {
        let folder = folder_of(path);
        let state = self.load(&folder);
        state.open.remove(path);
        let buffer = state.files.get(path).cloned();
        match read_facts_reusing(path, buffer.as_ref()) {
            Some(facts) => state.files.insert(path.to_path_buf(), facts),
            None => state.files.remove(path),
        };
        if let Some(now) = stamp(path) {
            state.stamps.insert(path.to_path_buf(), now);
        }
        self.rebuild(&folder)
    }

    /// A file changed, appeared or vanished on disk; ignored while it is open
    /// (the buffer wins). Returns the folder if its facts changed; the
    /// folders calling it, if it came or went, are told by
    /// [`Workspace::take_callers_changed`].
    pub fn disk_changed(&mut self, path: &Path) -> Option<PathBuf> {
        FileKind::of(path)?;
        let folder = folder_of(path);
        self.recheck_callers(&folder);
        if !self.modules.contains_key(&folder) {
            return None; // not loaded yet: it will be read when needed
        }
        let state = self.load(&folder);
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
        self.rebuild(&folder).then_some(folder)
    }

    /// The folders whose facts changed since the last call because a
    /// folder they call came, went or was loaded (a file of a folder that
    /// was not there opened in the editor, say, with no file watcher to
    /// tell): [`ModuleIndex::with_absent`].
    pub fn take_callers_changed(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.callers_changed)
            .into_iter()
            .collect()
    }

    /// Looks again whether `folder` is there for the folders calling it;
    /// those for which that changed go to [`Workspace::take_callers_changed`].
    fn recheck_callers(&mut self, folder: &Path) {
        let callers: Vec<PathBuf> = self
            .callers
            .get(folder)
            .map(|c| c.iter().cloned().collect())
            .unwrap_or_default();
        for caller in callers {
            let index = self.modules.get(&caller).map(|m| (*m.index).clone());
            if index.is_some_and(|index| self.install(&caller, index, Look::Again)) {
                self.callers_changed.insert(caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn facts(path: &Path, text: &str) -> Arc<FileFacts> {
        Arc::new(FileFacts::extract(
            path,
            FileKind::Hcl,
            Arc::new(text.to_owned()),
            None,
        ))
    }

    #[test]
    fn buffers_win_over_disk_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let folder = module::normalize(dir.path());
        let vars = write(
            &folder,
            "variables.tf",
            "variable \"s\" {\n  default = [\"a\"]\n}\n",
        );
        let mut ws = Workspace::default();
        let index = ws.module_index(&folder);
        assert!(index.variable("s").is_some());
        let fingerprint = index.fingerprint();
        // The user empties the default in the editor, unsaved.
        assert!(ws.put_open(facts(&vars, "variable \"s\" {\n  default = []\n}\n")));
        assert_ne!(ws.module_index(&folder).fingerprint(), fingerprint);
        // Disk events for an open file are ignored.
        std::fs::write(&vars, "variable \"s\" {\n  default = [\"b\"]\n}\n").unwrap();
        assert_eq!(ws.disk_changed(&vars), None);
        // Closing without saving: back to the disk version (as it is now).
        assert!(ws.close(&vars));
        assert_ne!(ws.module_index(&folder).fingerprint(), fingerprint);
    }

    /// Opening a buffer loads its folder from disk, but for the buffer's
    /// own file (a file is stamped when it is read).
    #[test]
    fn a_buffer_opened_in_a_folder_not_loaded_is_not_read_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let folder = module::normalize(dir.path());
        let main = write(&folder, "main.tf", "variable \"d\" {}\n");
        let vars = write(&folder, "variables.tf", "variable \"s\" {}\n");
        let mut ws = Workspace::default();
        assert!(!ws.put_open(facts(&main, "variable \"b\" {}\n")));
        let stamps = &ws.modules[&folder].stamps;
        assert!(stamps.contains_key(&vars));
        assert!(!stamps.contains_key(&main), "the buffer's file was read");
        let index = ws.module_index(&folder);
        assert!(index.variable("s").is_some() && index.variable("b").is_some());
        assert!(index.variable("d").is_none());
        // Closed, it is read.
        assert!(ws.close(&main));
        assert!(ws.modules[&folder].stamps.contains_key(&main));
        assert!(ws.module_index(&folder).variable("d").is_some());
    }

    /// A buffer closed with the text its file has on disk keeps its facts:
    /// the file is not parsed again. One closed with other text (unsaved)
    /// gives way to the disk's.
    #[test]
    fn a_saved_buffer_closed_keeps_its_facts() {
        let dir = tempfile::tempdir().unwrap();
        let folder = module::normalize(dir.path());
        let text = "variable \"s\" {}\n";
        let main = write(&folder, "main.tf", text);
        let mut ws = Workspace::default();
        let buffer = facts(&main, text);
        ws.put_open(Arc::clone(&buffer));
        assert!(!ws.close(&main));
        assert!(Arc::ptr_eq(&ws.modules[&folder].files[&main], &buffer));
        let unsaved = facts(&main, "variable \"u\" {}\n");
        ws.put_open(Arc::clone(&unsaved));
        assert!(ws.close(&main));
        let read = &ws.modules[&folder].files[&main];
        assert!(!Arc::ptr_eq(read, &unsaved) && *read.text == text);
    }

    /// A large file on disk is read as `check` reads it, chunk by chunk,
    /// holding what findings read: not parsed whole, where a stray token at
    /// its top would send error recovery through all of it.
    #[test]
    fn a_large_file_on_disk_is_read_chunk_by_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let folder = module::normalize(dir.path());
        let mut text = String::from("=\n");
        while text.len() <= WHOLE_FILE_PARSE_LIMIT {
            text.push_str("output \"o\" {\n  value = 1\n}\n");
        }
        text.push_str("variable \"v\" {}\n");
        let main = write(&folder, "main.tf", &text);
        let facts = read_facts(&main).unwrap();
        let kinds: Vec<&str> = facts.blocks.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(kinds, ["variable"]);
        // A small one is read whole: every block.
        let small = write(&folder, "small.tf", "output \"o\" {\n  value = 1\n}\n");
        assert_eq!(read_facts(&small).unwrap().blocks.len(), 1);
    }

    #[test]
    fn a_called_folder_coming_or_going_changes_its_callers() {
        let dir = tempfile::tempdir().unwrap();
        let root = module::normalize(dir.path());
        write(
            &root,
            "main.tf",
            "module \"m\" {\n  source = \"./child\"\n}\n",
        );
        let mut ws = Workspace::default();
        let before = ws.module_index(&root).fingerprint();
        // The folder appears: its callers changed, whether it was loaded or not.
        let child = root.join("child");
        std::fs::create_dir(&child).unwrap();
        let file = write(&child, "main.tf", "");
        // (The folder itself is not loaded: nothing of it changed.)
        assert_eq!(ws.disk_changed(&file), None);
        assert_eq!(ws.take_callers_changed(), std::slice::from_ref(&root));
        let there = ws.module_index(&root).fingerprint();
        assert_ne!(there, before);
        // An event that changes nothing of the kind changes no caller.
        assert_eq!(ws.disk_changed(&file), None);
        assert!(ws.take_callers_changed().is_empty());
        // The folder goes.
        std::fs::remove_dir_all(&child).unwrap();
        ws.disk_changed(&file);
        assert_eq!(ws.take_callers_changed(), std::slice::from_ref(&root));
        assert_eq!(ws.module_index(&root).fingerprint(), before);
    }

    #[test]
    fn changes_nobody_reported_are_noticed_while_editing() {
        let dir = tempfile::tempdir().unwrap();
        let folder = module::normalize(dir.path());
        let main = write(
            &folder,
            "main.tf",
            "resource \"aws_sagemaker_model\" \"m\" {}\n",
        );
        let mut ws = Workspace::default();
        let open = |ws: &mut Workspace| {
            ws.put_open(facts(&main, "resource \"aws_sagemaker_model\" \"m\" {}\n"))
        };
        open(&mut ws);
        // A tfvars file appears without any notification.
        write(&folder, "terraform.tfvars", "s = []\n");
        // Within the rescan interval nothing is looked at…
        assert!(!open(&mut ws));
        // …after it, the change is found.
        ws.modules.get_mut(&folder).unwrap().scanned = Instant::now().checked_sub(RESCAN);
        assert!(open(&mut ws));
        assert!(ws.module_index(&folder).assignment("s").is_some());
    }

    #[test]
    fn calls_make_frames_and_dependents() {
        let dir = tempfile::tempdir().unwrap();
        let root = module::normalize(dir.path());
        write(
            &root,
            "main.tf",
            "module \"ml\" {\n  source = \"./modules/ml\"\n  subnets = [\"s\"]\n}\n",
        );
        write(
            &root,
            "modules/ml/variables.tf",
            "variable \"subnets\" {}\n",
        );
        let mut ws = Workspace::default();
        let child = root.join("modules/ml");
        ws.module_index(&root);
        let frames = ws.frames(&child);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].call_path().as_deref(), Some("module.ml"));
        assert_eq!(ws.dependents(&root), vec![child.clone()]);
        // Each once, the named folders first.
        assert_eq!(
            ws.and_dependents([child.clone(), root.clone()]),
            vec![child.clone(), root.clone()]
        );
        // A folder nothing calls is its own root.
        assert!(ws.frames(&root)[0].call.is_none());
    }
}
