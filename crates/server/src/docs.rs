//! The document store: `didOpen`, `didChange`, `didClose`, file events, and
//! scheduling the analysis of what changed.
//!
//! Each notification is applied on the protocol loop, in the order the
//! client sent it; analysis runs on a snapshot on a worker, at most one per
//! document at a time (a burst of keystrokes coalesces into the next run),
//! and a result for an older generation is dropped, never published.
//! Documents are keyed by their URI exactly as the client sent it, and
//! diagnostics published under it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use lsp_types::{
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, MessageType, Url,
};
use serde_json::Value;
use svl_analysis::document::{ChangeWarning, Document};
use svl_analysis::incremental::{CacheOp, Incremental};
use svl_analysis::module::FileKind;
use svl_analysis::syntax;
use svl_project::folder_of;

use crate::analysis::{self, Analyzed, DiagnosticMemo, Snapshot, lock};
use crate::config::Scope;
use crate::convert;
use crate::pool::panic_message;
use crate::published::DiagnosticsJson;
use crate::server::{Event, Server};

/// Documents above this size are not analyzed (one message says so).
pub const MAX_DOCUMENT_BYTES: usize = 128 * 1024 * 1024;

/// A document whose syntax tree would take more than this (see
/// [`svl_analysis::syntax::tree_bytes_estimate`]) is not opened for
/// checking: a 50 MB string of `$` in one file would take the server to
/// 10 GB, and an out-of-memory kill is a crash for the editor.
pub const MAX_TREE_BYTES: u64 = 3 * 1024 * 1024 * 1024;

/// An open document and what the server knows about it.
pub struct Doc {
    pub doc: Document,
    pub url: Url,
    /// What Terraform makes of the file.
    pub kind: FileKind,
    /// Its path, for `file:` URIs (module facts are per folder).
    pub path: Option<PathBuf>,
    /// Bumped on every change; a result for an older generation is stale.
    pub generation: u64,
    /// The latest analysis, if it is of this generation.
    pub analyzed: Option<Arc<Analyzed>>,
    /// What the next analysis reuses; `None` while an analysis has it.
    pub reuse: Option<Box<Reuse>>,
    /// Changes `reuse` has not seen yet (logged while it is away).
    pub pending: Vec<CacheOp>,
    /// An analysis of this document is running.
    pub analyzing: bool,
    /// An analysis of it landed since it was opened (the first one, which
    /// parses all of it, gives what that parse freed back to the system).
    pub analyzed_once: bool,
}

/// What an analysis of a document reuses from the last one, both moved
/// along with the text by its changes: the blocks' facts and findings, and
/// the serialised diagnostics.
#[derive(Default)]
pub struct Reuse {
    pub cache: Incremental,
    pub memo: DiagnosticMemo,
}

impl Reuse {
    fn apply(&mut self, op: &CacheOp) {
        self.cache.apply(op);
        self.memo.edited(std::slice::from_ref(op));
    }
}

impl Doc {
    fn new(doc: Document, url: Url, kind: FileKind, generation: u64) -> Self {
        let path = url.to_file_path().ok();
        let cache = Incremental::for_file(path.as_deref().unwrap_or(Path::new(url.path())));
        Self {
            doc,
            url,
            kind,
            path,
            generation,
            analyzed: None,
            reuse: Some(Box::new(Reuse {
                cache,
                memo: DiagnosticMemo::default(),
            })),
            pending: Vec::new(),
            analyzing: false,
            analyzed_once: false,
        }
    }

    /// Tells what is reused about a change, now or when it comes back.
    fn record(&mut self, ops: Vec<CacheOp>) {
        match self.reuse.as_mut() {
            Some(reuse) => ops.iter().for_each(|op| reuse.apply(op)),
            None => self.pending.extend(ops),
        }
    }

    pub fn snapshot(&self, uri: &str) -> Snapshot {
        Snapshot {
            uri: uri.to_owned(),
            url: self.url.clone(),
            path: self.path.clone(),
            kind: self.kind,
            rope: self.doc.rope.clone(),
            text: Arc::clone(&self.doc.text),
            tree: self.doc.lazy_tree(),
            version: self.doc.version,
            generation: self.generation,
        }
    }

    /// Replaces the last analysis; the old one (a large document's facts
    /// and findings) is dropped off this thread.
    fn set_analyzed(&mut self, analyzed: Option<Arc<Analyzed>>) {
        if let Some(old) = std::mem::replace(&mut self.analyzed, analyzed) {
            svl_project::retire::retire(old);
        }
    }

    /// The analysis of the current generation, if one landed.
    pub fn current(&self) -> Option<Arc<Analyzed>> {
        self.analyzed
            .clone()
            .filter(|a| a.generation == self.generation)
    }
}

/// What Terraform makes of a document: by its file name, else its language.
pub fn kind_of(url: &Url, language_id: &str) -> Option<FileKind> {
    let by_name = url
        .to_file_path()
        .ok()
        .and_then(|p| FileKind::of(&p))
        .or_else(|| FileKind::of(Path::new(url.path())));
    by_name.or(match language_id {
        "terraform" => Some(FileKind::Hcl),
        "terraform-vars" => Some(FileKind::Tfvars),
        _ => None,
    })
}

/// The document URI of a notification's params, as the client wrote it.
fn raw_uri(params: &Value) -> Option<String> {
    params
        .get("textDocument")?
        .get("uri")?
        .as_str()
        .map(str::to_owned)
}

impl Server {
    pub(crate) fn did_open(&mut self, params: Value) {
        let raw = raw_uri(&params);
        let params: DidOpenTextDocumentParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(
                    uri = raw.as_deref().unwrap_or("?"),
                    "didOpen with params that cannot be read ({e}); ignored"
                );
                return;
            }
        };
        let uri = raw.unwrap_or_else(|| params.text_document.uri.to_string());
        let item = params.text_document;
        let Some(kind) = kind_of(&item.uri, &item.language_id) else {
            tracing::debug!(uri, language = item.language_id, "not Terraform; ignored");
            return;
        };
        if item.text.len() > MAX_DOCUMENT_BYTES {
            tracing::warn!(
                uri,
                bytes = item.text.len(),
                "document too large; not analyzed"
            );
            self.show_message(
                MessageType::WARNING,
                format!("sagemaker-vpc-lsp does not check {uri}: it is larger than 128 MiB"),
            );
            self.leave_unchecked(&uri, item.uri);
            return;
        }
        // The same estimate serves `.tf.json`: tree-sitter-json reads a run
        // of plain string text as one token too (a 12 MB string peaked at
        // 91 MB), and counting it as HCL's text only errs on the high side.
        if let Some(estimate) = syntax::tree_bytes_over(&item.text, 0, MAX_TREE_BYTES) {
            tracing::warn!(
                uri,
                bytes = item.text.len(),
                estimate,
                "document's syntax tree would be too large; not analyzed"
            );
            self.show_message(
                MessageType::WARNING,
                format!(
                    "sagemaker-vpc-lsp does not check {uri} in the editor: parsing it would take about {} GB of memory (millions of syntax tokens: strings of `$`, `%` or escapes, or lists nested or listed by the million). `sagemaker-vpc-lsp check` reads it in bounded memory.",
                    estimate.div_ceil(1 << 30)
                ),
            );
            self.leave_unchecked(&uri, item.uri);
            return;
        }
        self.unchecked.remove(&uri);
        let generation = self.next_generation();
        let document =
            Document::new_unless(item.text, item.version, Arc::clone(&self.input_closed));
        if self.input_closed.load(Ordering::Relaxed) {
            // The parse may have given up: nobody is left to check it for.
            tracing::info!(uri, "input closed while opening the document; not checked");
            return;
        }
        let doc = Doc::new(document, item.uri, kind, generation);
        self.docs.insert(uri.clone(), doc);
        self.schedule(&uri);
    }

    pub(crate) fn did_change(&mut self, params: Value) {
        let raw = raw_uri(&params);
        let params: DidChangeTextDocumentParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                // The change cannot be applied: the document would be out of
                // sync from now on. Say so, drop it, clear its diagnostics.
                let uri = raw.unwrap_or_else(|| "<no uri>".to_owned());
                tracing::warn!(
                    uri,
                    "didChange with params that cannot be read ({e}); the document is dropped until it is opened again"
                );
                self.drop_document(&uri, &format!("a change could not be read ({e})"));
                return;
            }
        };
        let uri = raw.unwrap_or_else(|| params.text_document.uri.to_string());
        let version = params.text_document.version;
        let mut changes: Vec<_> = params
            .content_changes
            .into_iter()
            .map(convert::change)
            .collect();
        let encoding = self.encoding;
        let generation = self.next_generation();
        let Some(entry) = self.docs.get_mut(&uri) else {
            // A full text lets us start over; a range change has nothing to
            // apply to.
            let url = params.text_document.uri;
            if let (Some(kind), Some(last_full)) = (
                kind_of(&url, ""),
                changes.iter().rposition(|c| c.range.is_none()),
            ) {
                tracing::warn!(
                    uri,
                    version,
                    "change for a document that is not open; resyncing from its full text"
                );
                let mut doc = Document::new_unless(
                    std::mem::take(&mut changes[last_full].text),
                    version,
                    Arc::clone(&self.input_closed),
                );
                doc.apply_changes(&changes[last_full + 1..], encoding);
                self.docs
                    .insert(uri.clone(), Doc::new(doc, url, kind, generation));
                self.schedule(&uri);
            } else {
                tracing::warn!(
                    uri,
                    version,
                    "change for a document that is not open; ignored"
                );
            }
            return;
        };
        if version <= entry.doc.version {
            tracing::warn!(
                uri,
                version,
                previous = entry.doc.version,
                "document version went backwards or repeated; applying the change anyway"
            );
        }
        // A large paste could make the tree too large to hold: estimate,
        // from the last full text sent (else the current one), counting
        // every text inserted after it at the most it can cost, in code or
        // in a string.
        let full = changes.iter().rposition(|c| c.range.is_none());
        let after_full = &changes[full.map_or(0, |i| i + 1)..];
        let inserted: usize = after_full.iter().map(|c| c.text.len()).sum();
        let base_text = full.map_or(entry.doc.text.as_str(), |i| changes[i].text.as_str());
        if inserted + full.map_or(0, |i| changes[i].text.len()) >= 1024 * 1024 {
            let inserted: u64 = after_full
                .iter()
                .map(|c| syntax::inserted_tree_bytes(&c.text))
                .sum();
            if let Some(estimate) = syntax::tree_bytes_over(base_text, inserted, MAX_TREE_BYTES) {
                tracing::warn!(
                    uri,
                    version,
                    estimate,
                    "a change would make the syntax tree too large"
                );
                self.drop_document(
                    &uri,
                    &format!(
                        "after this change, parsing it could take about {} GB of memory",
                        estimate.div_ceil(1 << 30)
                    ),
                );
                return;
            }
        }
        let started = std::time::Instant::now();
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            entry.doc.apply_changes(&changes, encoding)
        }));
        tracing::debug!(uri, version, elapsed = ?started.elapsed(), "change applied and re-parsed");
        if self.input_closed.load(Ordering::Relaxed) {
            // The parse may have given up: nobody is left to check it for.
            tracing::info!(
                uri,
                version,
                "input closed while applying a change; not checked"
            );
            return;
        }
        match applied {
            Ok(applied) => {
                let started = std::time::Instant::now();
                entry.record(applied.ops);
                tracing::debug!(uri, version, elapsed = ?started.elapsed(), "analysis cache followed the change");
                for warning in applied.warnings {
                    match warning {
                        ChangeWarning::Clamped { position, how } => tracing::warn!(
                            uri,
                            version,
                            line = position.line,
                            character = position.col,
                            "change position out of range ({how:?}); clamped"
                        ),
                        ChangeWarning::Reversed => {
                            tracing::warn!(
                                uri,
                                version,
                                "change range ends before it starts; reversed"
                            )
                        }
                    }
                }
                entry.doc.version = version;
                entry.generation = generation;
                entry.set_analyzed(None);
                if entry.doc.rope.len_bytes() > MAX_DOCUMENT_BYTES {
                    self.drop_document(&uri, "the document grew past 128 MiB");
                    return;
                }
                self.schedule(&uri);
            }
            Err(panic) => {
                // The rope and tree may disagree now: never keep a wrong tree.
                let message = panic_message(&*panic);
                tracing::error!(
                    uri,
                    version,
                    "applying a change panicked: {message}; document dropped"
                );
                self.drop_document(&uri, &message);
            }
        }
    }

    /// Stops checking a document that is out of sync, clearing its
    /// diagnostics, until the client opens it again.
    fn drop_document(&mut self, uri: &str, why: &str) {
        let url = self.docs.get(uri).map(|d| d.url.clone());
        let Some(url) = url else {
            self.publish(uri, DiagnosticsJson::empty(), None);
            return;
        };
        self.leave_unchecked(uri, url);
        self.show_message(
            MessageType::WARNING,
            format!("sagemaker-vpc-lsp stopped checking {uri}: {why}. Reopen the file to check it again."),
        );
    }

    /// `uri` is open in the editor but not checked: nothing is shown for it
    /// (not even what the workspace scan found in the file on disk, which its
    /// text in the editor may no longer hold) until it is closed. Its module
    /// reads the file on disk again.
    fn leave_unchecked(&mut self, uri: &str, url: Url) {
        self.unchecked.insert(uri.to_owned(), url);
        if !self.close_document(uri) {
            self.publish(uri, DiagnosticsJson::empty(), None);
        }
    }

    pub(crate) fn did_close(&mut self, params: Value) {
        let raw = raw_uri(&params);
        let params: Result<DidCloseTextDocumentParams, _> = serde_json::from_value(params);
        let Some(uri) = raw.or_else(|| params.ok().map(|p| p.text_document.uri.to_string())) else {
            return;
        };
        if let Some(url) = self.unchecked.remove(&uri) {
            // What the workspace scan finds in the file on disk is shown
            // again.
            if let Ok(path) = url.to_file_path() {
                self.schedule_closed(vec![folder_of(&path)]);
            }
            return;
        }
        self.close_document(&uri);
    }

    /// Forgets a checked document: clears its diagnostics, and its module
    /// reads the file on disk again. False if it was not open.
    fn close_document(&mut self, uri: &str) -> bool {
        let Some(entry) = self.docs.remove(uri) else {
            return false;
        };
        self.publish(uri, DiagnosticsJson::empty(), None);
        let path = entry.path.clone();
        drop(entry); // its text, trees and analysis
        // Its facts revert to the file on disk; if that changes the module,
        // the other open files of the module are checked again.
        if let Some(path) = path {
            let folder = folder_of(&path);
            if lock(&self.workspace).close(&path) {
                self.folders_changed(vec![folder]);
            } else {
                // The file itself now reads as it is on disk.
                self.schedule_closed(vec![folder]);
            }
        }
        // The document's memory is free now (the workspace no longer holds
        // its facts): give it back to the system.
        let released = self.release_memory();
        tracing::debug!(uri, released, "closed");
        true
    }

    /// Gives free memory back to the system, once what the last analyses
    /// replaced is dropped too: this thread's and the retire thread's, and
    /// the stack pages analyses went deep into and the free tops of their
    /// arenas, in the workers and in the threads that parsed blocks (those
    /// run when the threads are done with the job at hand). Whether this
    /// thread's trim gave anything back.
    ///
    /// With no document open, nothing is kept for the next job: not the free
    /// tops of the arenas, nor the pages of code and tables that ran (they
    /// stay in the page cache). After a 2 MB document closed, the server
    /// kept 1.2 MB of arena tops and 1.7 MB of code over its idle 6 MB.
    pub(crate) fn release_memory(&mut self) -> bool {
        self.release_owed = false;
        let keep = if self.docs.is_empty() {
            svl_trim::Keep::Nothing
        } else {
            svl_trim::Keep::Room
        };
        svl_project::retire::settle_then(move || crate::pool::release_thread_memory(keep));
        let released = svl_trim::release_free_memory(keep);
        self.analysis.release_memory(keep);
        self.requests.release_memory(keep);
        rayon::spawn_broadcast(move |_| crate::pool::release_thread_memory(keep));
        if keep == svl_trim::Keep::Nothing {
            let code = svl_trim::release_code_pages();
            tracing::debug!(code, "nothing open: code pages dropped");
        }
        released
    }

    pub(crate) fn did_change_watched_files(&mut self, params: Value) {
        let params: DidChangeWatchedFilesParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("didChangeWatchedFiles with params that cannot be read: {e}");
                return;
            }
        };
        let mut changed: Vec<PathBuf> = Vec::new();
        let mut gone: Vec<String> = Vec::new();
        {
            let mut ws = lock(&self.workspace);
            for event in params.changes {
                let Ok(path) = event.uri.to_file_path() else {
                    continue;
                };
                if !path.exists() {
                    gone.push(event.uri.to_string());
                }
                changed.extend(ws.disk_changed(&path));
            }
            // The callers of folders that came or went, or were loaded
            // meanwhile by a job that could not tell them.
            changed.extend(ws.take_callers_changed());
        }
        for uri in gone {
            if !self.docs.contains_key(&uri) {
                self.publish(&uri, DiagnosticsJson::empty(), None);
            }
        }
        for folder in &changed {
            tracing::debug!(folder = %folder.display(), "module changed on disk");
        }
        self.folders_changed(changed);
    }

    /// Marks `uri` as needing a new analysis although its text did not
    /// change (settings or module facts did).
    pub(crate) fn touch(&mut self, uri: &str) {
        let generation = self.next_generation();
        if let Some(entry) = self.docs.get_mut(uri) {
            entry.generation = generation;
            entry.set_analyzed(None);
        }
    }

    /// Checks every open file of a folder again.
    pub(crate) fn schedule_folder(&mut self, folder: &Path) {
        let uris: Vec<String> = self
            .docs
            .iter()
            .filter(|(_, d)| d.path.as_deref().map(folder_of).as_deref() == Some(folder))
            .map(|(u, _)| u.clone())
            .collect();
        for uri in uris {
            self.touch(&uri);
            self.schedule(&uri);
        }
    }

    /// Schedules the analysis of the current state of `uri` (unless one is
    /// running: it re-runs for the latest state when it ends).
    pub(crate) fn schedule(&mut self, uri: &str) {
        let Some(entry) = self.docs.get_mut(uri) else {
            return;
        };
        if entry.analyzing {
            return;
        }
        entry.analyzing = true;
        let mut reuse = entry.reuse.take().unwrap_or_default();
        let snapshot = entry.snapshot(uri);
        let workspace = Arc::clone(&self.workspace);
        let config = self.config.clone();
        let encoding = self.encoding;
        let events = self.events.clone();
        self.analysis.spawn(move || {
            let started = std::time::Instant::now();
            let mut changed = Vec::new();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let (analyzed, folders) =
                    analysis::analyze(&workspace, &snapshot, Some(&mut reuse.cache));
                changed = folders;
                // And the callers for which a folder loaded by this analysis,
                // or by a hover's or code action's (which pass on nothing),
                // is there now.
                changed.extend(lock(&workspace).take_callers_changed());
                let diagnostics = analysis::diagnostics_json(
                    &analyzed.findings,
                    &analyzed.rope,
                    analyzed.kind,
                    &analyzed.index,
                    &snapshot.url,
                    &config,
                    encoding,
                    &mut reuse.memo,
                );
                let (reused, hashed) = (reuse.memo.reused(), reuse.memo.hashed());
                tracing::debug!(uri = snapshot.uri, version = snapshot.version, findings = analyzed.findings.len(), reused, hashed, elapsed = ?started.elapsed(), "analyzed");
                (Arc::new(analyzed), diagnostics)
            }))
            .map_err(|panic| {
                // The cache may be half-updated: start it over, and the
                // memo, which missed this job's changes.
                reuse.cache.invalidate();
                reuse.memo.clear();
                panic_message(&*panic)
            });
            let _ = events.send(Event::Analyzed {
                uri: snapshot.uri.clone(),
                generation: snapshot.generation,
                outcome,
                reuse,
                changed,
            });
        });
    }

    pub(crate) fn on_analyzed(
        &mut self,
        uri: String,
        generation: u64,
        outcome: Result<(Arc<Analyzed>, DiagnosticsJson), String>,
        mut reuse: Box<Reuse>,
        changed: Vec<PathBuf>,
    ) {
        let Some(entry) = self.docs.get_mut(&uri) else {
            return; // closed meanwhile
        };
        for op in entry.pending.drain(..) {
            reuse.apply(&op);
        }
        entry.reuse = Some(reuse);
        entry.analyzing = false;
        let current = entry.generation == generation;
        let version = entry.doc.version;
        match outcome {
            Ok((analyzed, diagnostics)) if current => {
                // The first analysis of a document parses all of it: give
                // what that parse freed back to the system. Not after every
                // keystroke's (every change clears `analyzed`): a trim walks
                // the whole heap and unmaps free pages the next keystroke
                // faults in again (about a tenth of a keystroke at 2 MB).
                // What typing frees, and what the threads that parsed the
                // blocks keep, is given back once the server is idle.
                // After the publish: the diagnostics do not wait for it.
                let first = !std::mem::replace(&mut entry.analyzed_once, true);
                entry.set_analyzed(Some(analyzed));
                self.release_owed = true;
                self.publish(&uri, diagnostics, Some(version));
                if first {
                    let released = svl_trim::release_free_memory(svl_trim::Keep::Room);
                    tracing::debug!(uri, released, "first analysis: free memory released");
                }
            }
            Err(message) if current => {
                tracing::error!(
                    uri,
                    version,
                    "analysis panicked: {message}; clearing its diagnostics"
                );
                self.publish(&uri, DiagnosticsJson::empty(), Some(version));
            }
            _ => tracing::debug!(uri, "dropping a stale analysis"),
        }
        if !current {
            self.schedule(&uri);
        }
        // Its facts changed the module (or modules it calls): the other open
        // files there are checked again, and the closed ones.
        for folder in &changed {
            let others: Vec<String> = self
                .docs
                .iter()
                .filter(|(u, d)| {
                    **u != uri && d.path.as_deref().map(folder_of).as_deref() == Some(folder)
                })
                .map(|(u, _)| u.clone())
                .collect();
            for other in others {
                self.touch(&other);
                self.schedule(&other);
            }
        }
        if self.config.scope == Scope::Workspace && !changed.is_empty() {
            self.schedule_closed(changed);
        }
    }

    /// Analyzes the files of `folders` that are not open (workspace scope).
    pub(crate) fn schedule_closed(&mut self, folders: Vec<PathBuf>) {
        if folders.is_empty() || self.config.scope != Scope::Workspace {
            return;
        }
        let open: Vec<PathBuf> = self.docs.values().filter_map(|d| d.path.clone()).collect();
        let workspace = Arc::clone(&self.workspace);
        let config = self.config.clone();
        let encoding = self.encoding;
        let events = self.events.clone();
        self.analysis.spawn(move || {
            let (files, callers) =
                analysis::closed_files(&workspace, &folders, &open, &config, encoding);
            let _ = events.send(Event::ClosedFiles(files, callers));
        });
    }

    /// Checks again the files of `folders`, whose facts changed, and of the
    /// folders depending on them: the open ones, and in workspace scope the
    /// closed ones.
    pub(crate) fn folders_changed(&mut self, folders: Vec<PathBuf>) {
        if folders.is_empty() {
            return;
        }
        let changed = lock(&self.workspace).and_dependents(folders);
        for folder in &changed {
            self.schedule_folder(folder);
        }
        self.schedule_closed(changed);
    }

    pub(crate) fn publish_closed(&mut self, files: Vec<(Url, DiagnosticsJson)>) {
        if self.config.scope != Scope::Workspace {
            return;
        }
        for (url, diagnostics) in files {
            let open = self.docs.values().any(|d| d.url == url)
                || self.unchecked.values().any(|u| *u == url);
            // A clean file that never had diagnostics needs no message.
            let shown = self.published.contains_key(url.as_str());
            if !open && (shown || !diagnostics.is_empty()) {
                self.publish(url.as_str(), diagnostics, None);
            }
        }
    }
}
