//! Analysis jobs: a document snapshot (or the closed files of some folders)
//! in, findings and their diagnostics out, on a worker thread. The protocol
//! loop decides what to do with a result (see `server.rs`): a result for an
//! older generation of a document is dropped, identical diagnostics are not
//! published again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use lsp_types::{Diagnostic, Url};
use ropey::Rope;
use svl_analysis::document::LazyTree;
use svl_analysis::incremental::{self, Incremental};
use svl_analysis::module::{FileFacts, FileKind, Frame, ModuleIndex};
use svl_analysis::position::{Encoding, ts_point};
use svl_analysis::{Finding, Options};
use svl_project::check::check_file;
use svl_project::{Workspace, folder_of};

use crate::config::Config;
use crate::convert;
use crate::published::DiagnosticsJson;

/// The workspace's module facts, shared by the workers.
pub type SharedWorkspace = Arc<Mutex<Workspace>>;

pub fn lock(ws: &SharedWorkspace) -> MutexGuard<'_, Workspace> {
    // A panic elsewhere must not take the whole server down with it.
    ws.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An immutable view of a document at one generation (cheap to take: the
/// rope and the tree are reference-counted).
#[derive(Clone)]
pub struct Snapshot {
    /// As the client sent it.
    pub uri: String,
    pub url: Url,
    pub path: Option<PathBuf>,
    pub kind: FileKind,
    pub rope: Rope,
    pub text: Arc<String>,
    /// Parsed when needed: most keystrokes' analyses re-read only the blocks
    /// they touched (`Incremental::sync_text`).
    pub tree: Arc<LazyTree>,
    pub version: i32,
    pub generation: u64,
}

/// The findings of one snapshot.
pub struct Analyzed {
    pub generation: u64,
    pub version: i32,
    pub text: Arc<String>,
    pub tree: Arc<LazyTree>,
    pub rope: Rope,
    /// Unsuppressed findings.
    pub findings: Vec<Finding>,
    /// The module facts the findings were computed with.
    pub index: Arc<ModuleIndex>,
    /// The instances of the module they were computed in.
    pub frames: Vec<Arc<Frame>>,
    /// The document's facts at that generation.
    pub facts: Arc<FileFacts>,
    pub kind: FileKind,
}

/// Fault injection for the end-to-end tests: with
/// `SAGEMAKER_VPC_LSP_FAULT=analysis` in the environment (read once),
/// analyzing a text that contains `FAULT-INJECTION` panics, so the tests can
/// prove a panic is contained — in debug and release builds alike.
fn inject_fault(text: &str) {
    static ENABLED: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("SAGEMAKER_VPC_LSP_FAULT").as_deref() == Ok("analysis")
    });
    if *ENABLED && text.contains("FAULT-INJECTION") {
        panic!("injected analysis fault");
    }
}

/// Analyzes a snapshot, reusing `cache` (brought up to this snapshot's text)
/// when given. Records the document's facts in the workspace first; returns
/// the folders whose instances that changed (its own, and those it calls).
pub fn analyze(
    workspace: &SharedWorkspace,
    snapshot: &Snapshot,
    mut cache: Option<&mut Incremental>,
) -> (Analyzed, Vec<PathBuf>) {
    let text = Arc::clone(&snapshot.text);
    inject_fault(&text);
    let path = snapshot
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(snapshot.url.path()));
    let tree = || snapshot.tree.get(&text);
    let sync = match (snapshot.kind, cache.as_deref_mut()) {
        (FileKind::Hcl, Some(cache)) => {
            // Without the whole tree when the edited blocks parse on their own.
            let by_text = match snapshot.tree.ready() {
                Some(_) => None,
                None => cache.sync_text(&text, &|byte| ts_point(&snapshot.rope, byte)),
            };
            by_text.unwrap_or_else(|| cache.sync(&text, tree()))
        }
        _ => incremental::Sync::default(),
    };
    let facts = match (sync.usable, cache.as_deref()) {
        (true, Some(cache)) => cache.facts(&path, snapshot.kind, Arc::clone(&text)),
        _ => FileFacts::extract(&path, snapshot.kind, Arc::clone(&text), Some(tree())),
    };
    let facts = Arc::new(facts);
    // Facts of unsaved buffers count for the whole module (and the modules
    // it calls).
    let (index, frames, changed) = if snapshot.path.is_some() {
        let mut ws = lock(workspace);
        let folder = folder_of(&path);
        let mut changed = Vec::new();
        if ws.put_open(Arc::clone(&facts)) {
            changed.push(folder.clone());
            changed.extend(ws.dependents(&folder));
        }
        (ws.module_index(&folder), ws.frames(&folder), changed)
    } else {
        let index = Arc::new(ModuleIndex::new(folder_of(&path), vec![Arc::clone(&facts)]));
        let frames = vec![Arc::new(Frame::root(Arc::clone(&index)))];
        (index, frames, Vec::new())
    };
    let options = Options::default();
    let findings = match snapshot.kind {
        FileKind::Tfvars | FileKind::TfvarsJson => Vec::new(),
        FileKind::Json => check_file(&facts, &frames, &options),
        FileKind::Hcl => match cache {
            Some(cache) if sync.usable => {
                let fingerprint = {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    for frame in &frames {
                        frame.fingerprint().hash(&mut h);
                    }
                    h.finish()
                };
                cache
                    .check(fingerprint, |block| {
                        svl_analysis::analyze_block(&path, block, &frames, &options)
                    })
                    .0
            }
            _ => check_file(&facts, &frames, &options),
        },
    };
    let analyzed = Analyzed {
        generation: snapshot.generation,
        version: snapshot.version,
        text,
        tree: Arc::clone(&snapshot.tree),
        rope: snapshot.rope.clone(),
        findings: findings
            .into_iter()
            .filter(|f| f.suppressed.is_none())
            .collect(),
        index,
        frames,
        facts,
        kind: snapshot.kind,
    };
    (analyzed, changed)
}

/// The diagnostics of findings, as the settings say (disabled rules left
/// out, severities applied). `uri` names the file the findings are in.
pub fn diagnostics(
    findings: &[Finding],
    rope: &Rope,
    kind: FileKind,
    index: &ModuleIndex,
    uri: &Url,
    config: &Config,
    encoding: Encoding,
) -> Vec<Diagnostic> {
    if !config.enable || !kind.is_config() {
        return Vec::new();
    }
    let mut others = convert::OtherFiles::new(index);
    findings
        .iter()
        .filter(|f| config.rule_enabled(f.rule))
        .map(|f| convert::diagnostic(f, rope, encoding, uri, config.severity_of(f), &mut others))
        .collect()
}

/// The diagnostics of every configuration file of `folders` that is not
/// open (`open` lists the open paths), from the workspace's facts.
pub fn closed_files(
    workspace: &SharedWorkspace,
    folders: &[PathBuf],
    open: &[PathBuf],
    config: &Config,
    encoding: Encoding,
) -> Vec<(Url, DiagnosticsJson)> {
    let options = Options::default();
    let mut out = Vec::new();
    for folder in folders {
        let (files, frames, index) = {
            let mut ws = lock(workspace);
            let index = ws.module_index(folder);
            let files: Vec<Arc<FileFacts>> = index
                .files
                .iter()
                .filter(|f| f.kind.is_config() && !open.contains(&f.path))
                .cloned()
                .collect();
            (files, ws.frames(folder), index)
        };
        for file in files {
            let Ok(url) = Url::from_file_path(absolute(&file.path)) else {
                continue;
            };
            let findings: Vec<Finding> = check_file(&file, &frames, &options)
                .into_iter()
                .filter(|f| f.suppressed.is_none())
                .collect();
            let rope = Rope::from_str(&file.text);
            let diagnostics =
                diagnostics(&findings, &rope, file.kind, &index, &url, config, encoding);
            out.push((url, DiagnosticsJson::new(&diagnostics)));
        }
    }
    out
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}
