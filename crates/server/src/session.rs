//! The server's shared state: open documents, settings, negotiated options.
//!
//! Everything lives behind `std::sync::Mutex`es that are never held across an
//! `.await` (tower-lsp may poll several notification handlers at once; see
//! tower-lsp#284): a handler takes the lock, does synchronous work, releases.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ropey::Rope;
use tower_lsp::lsp_types::Url;
use tree_sitter::Tree;

use crate::config::Config;
use svl_analysis::Finding;
use svl_analysis::document::Document;
use svl_analysis::incremental::{CacheOp, Incremental};
use svl_analysis::module::{FileKind, ModuleIndex};
use svl_analysis::position::Encoding;
use svl_project::Workspace;

/// An open document and what the server knows about it.
pub struct Entry {
    pub doc: Document,
    pub language_id: String,
    /// What Terraform makes of the file.
    pub kind: FileKind,
    /// Its path, for `file:` URIs (module facts are per folder).
    pub path: Option<PathBuf>,
    /// Bumped on every change; a result for an older generation is stale.
    pub generation: u64,
    /// The latest analysis, if it is of this generation.
    pub analysed: Option<Arc<Analysed>>,
    /// The incremental analysis cache; `None` while an analysis has it.
    pub cache: Option<Incremental>,
    /// Changes the cache has not seen yet (logged while it is away).
    pub pending: Vec<CacheOp>,
    /// An analysis of this document is running; at most one runs at a time.
    pub analysing: bool,
}

impl Entry {
    pub fn new(
        doc: Document,
        uri: &Url,
        language_id: String,
        kind: FileKind,
        generation: u64,
    ) -> Self {
        let path = uri.to_file_path().ok();
        let cache =
            Incremental::for_file(path.as_deref().unwrap_or(std::path::Path::new(uri.path())));
        Self {
            doc,
            language_id,
            kind,
            path,
            generation,
            analysed: None,
            cache: Some(cache),
            pending: Vec::new(),
            analysing: false,
        }
    }

    /// Tells the cache about a change, now or when it comes back.
    pub fn record(&mut self, ops: Vec<CacheOp>) {
        match self.cache.as_mut() {
            Some(cache) => ops.iter().for_each(|op| cache.apply(op)),
            None => self.pending.extend(ops),
        }
    }
}

/// An immutable view of a document at one generation (cheap to take: the
/// rope and the tree are reference-counted).
#[derive(Clone)]
pub struct Snapshot {
    pub uri: Url,
    pub path: Option<PathBuf>,
    pub kind: FileKind,
    pub rope: Rope,
    pub text: Arc<String>,
    pub tree: Tree,
    pub version: i32,
    pub generation: u64,
    pub language_id: String,
}

/// The findings of one snapshot.
pub struct Analysed {
    pub generation: u64,
    pub version: i32,
    pub text: Arc<String>,
    pub tree: Tree,
    pub rope: Rope,
    pub findings: Vec<Finding>,
    /// The module facts the findings were computed with.
    pub index: Arc<ModuleIndex>,
    /// The instances of the module they were computed in.
    pub frames: Vec<Arc<svl_analysis::module::Frame>>,
    /// The document's facts at that generation.
    pub facts: Arc<svl_analysis::module::FileFacts>,
    pub kind: FileKind,
}

/// What the client said it can do, reduced to what the server uses.
#[derive(Debug, Clone, Default)]
pub struct ClientSupport {
    pub document_changes: bool,
    pub configuration_pull: bool,
    pub dynamic_configuration: bool,
    pub dynamic_watched_files: bool,
    pub work_done_progress: bool,
    pub related_information: bool,
}

pub struct Session {
    docs: Mutex<HashMap<Url, Entry>>,
    config: Mutex<Config>,
    encoding: Mutex<Encoding>,
    support: Mutex<ClientSupport>,
    generation: AtomicU64,
    workspace: Mutex<Workspace>,
    roots: Mutex<Vec<PathBuf>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the whole server down with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for Session {
    fn default() -> Self {
        Self {
            docs: Mutex::new(HashMap::new()),
            config: Mutex::new(Config::default()),
            encoding: Mutex::new(Encoding::Utf16),
            support: Mutex::new(ClientSupport::default()),
            generation: AtomicU64::new(0),
            workspace: Mutex::new(Workspace::default()),
            roots: Mutex::new(Vec::new()),
        }
    }
}

impl Session {
    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn docs(&self) -> MutexGuard<'_, HashMap<Url, Entry>> {
        lock(&self.docs)
    }

    pub fn roots(&self) -> Vec<PathBuf> {
        lock(&self.roots).clone()
    }

    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        *lock(&self.roots) = roots;
    }

    /// The workspace's module facts. Never take it while holding `docs()`.
    pub fn workspace(&self) -> MutexGuard<'_, Workspace> {
        lock(&self.workspace)
    }

    /// Open documents whose file is in `folder`.
    pub fn open_in(&self, folder: &std::path::Path) -> Vec<Url> {
        self.docs()
            .iter()
            .filter(|(_, e)| {
                e.path.as_deref().map(svl_project::folder_of).as_deref() == Some(folder)
            })
            .map(|(uri, _)| uri.clone())
            .collect()
    }

    pub fn config(&self) -> Config {
        lock(&self.config).clone()
    }

    pub fn set_config(&self, config: Config) {
        *lock(&self.config) = config;
    }

    pub fn encoding(&self) -> Encoding {
        *lock(&self.encoding)
    }

    pub fn set_encoding(&self, encoding: Encoding) {
        *lock(&self.encoding) = encoding;
    }

    pub fn support(&self) -> ClientSupport {
        lock(&self.support).clone()
    }

    pub fn set_support(&self, support: ClientSupport) {
        *lock(&self.support) = support;
    }

    pub fn snapshot(&self, uri: &Url) -> Option<Snapshot> {
        let docs = self.docs();
        docs.get(uri).map(|entry| Self::snapshot_of(uri, entry))
    }

    pub fn snapshot_of(uri: &Url, entry: &Entry) -> Snapshot {
        Snapshot {
            uri: uri.clone(),
            path: entry.path.clone(),
            kind: entry.kind,
            rope: entry.doc.rope.clone(),
            text: Arc::clone(&entry.doc.text),
            tree: entry.doc.tree.clone(),
            version: entry.doc.version,
            generation: entry.generation,
            language_id: entry.language_id.clone(),
        }
    }

    pub fn open_uris(&self) -> Vec<Url> {
        self.docs().keys().cloned().collect()
    }

    /// Marks `uri` as needing a new analysis although its text did not change
    /// (settings or module facts did): a running analysis of it becomes stale
    /// and re-runs when it ends.
    pub fn touch(&self, uri: &Url) {
        let generation = self.next_generation();
        if let Some(entry) = self.docs().get_mut(uri) {
            entry.generation = generation;
            entry.analysed = None;
        }
    }

    /// The generation of the open document `uri`, if it is open.
    pub fn current_generation(&self, uri: &Url) -> Option<u64> {
        self.docs().get(uri).map(|e| e.generation)
    }

    /// Keeps `analysed` if it is still the document's current generation.
    pub fn store_analysis(&self, uri: &Url, analysed: Arc<Analysed>) -> bool {
        let mut docs = self.docs();
        match docs.get_mut(uri) {
            Some(entry) if entry.generation == analysed.generation => {
                entry.analysed = Some(analysed);
                true
            }
            _ => false,
        }
    }

    /// The analysis of the current generation, if one was stored.
    pub fn current_analysis(&self, uri: &Url) -> Option<Arc<Analysed>> {
        let docs = self.docs();
        let entry = docs.get(uri)?;
        entry
            .analysed
            .clone()
            .filter(|a| a.generation == entry.generation)
    }

    /// The text of an open document with this path, with its URI and version.
    pub fn open_text_at(&self, path: &std::path::Path) -> Option<(Url, String, i32)> {
        let docs = self.docs();
        docs.iter().find_map(|(uri, entry)| {
            let p: PathBuf = uri.to_file_path().ok()?;
            (p == path).then(|| (uri.clone(), entry.doc.text(), entry.doc.version))
        })
    }
}
