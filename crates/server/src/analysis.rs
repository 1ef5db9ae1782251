//! Analysis jobs: a document snapshot (or the closed files of some folders)
//! in, findings and their diagnostics out, on a worker thread. The protocol
//! loop decides what to do with a result (see `server.rs`): a result for an
//! older generation of a document is dropped, identical diagnostics are not
//! published again.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use lsp_types::Url;
use ropey::Rope;
use smallvec::SmallVec;
use svl_analysis::document::LazyTree;
use svl_analysis::finding::Made;
use svl_analysis::fix::{FixContext, Style};
use svl_analysis::incremental::{CacheOp, Incremental};
use svl_analysis::module::{FileFacts, FileKind, Frame, ModuleIndex};
use svl_analysis::position::{Encoding, ts_point};
use svl_analysis::{Finding, Findings, Options, Placed, Severity};
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
    /// Unsuppressed findings (shared with the cache that made them).
    pub findings: Findings,
    /// The module facts the findings were computed with.
    pub index: Arc<ModuleIndex>,
    /// The instances of the module they were computed in.
    pub frames: Vec<Arc<Frame>>,
    /// The document's facts at that generation.
    pub facts: Arc<FileFacts>,
    pub kind: FileKind,
    /// The text's style, read when a fix first needs it (a parse of its
    /// last blocks, see [`Style::of`]) and kept for the next ones.
    style: std::sync::OnceLock<Style>,
}

impl Analyzed {
    /// The text's indentation and line endings.
    pub fn style(&self) -> &Style {
        self.style
            .get_or_init(|| Style::of(&self.text, self.tree.ready()))
    }

    /// What fixes of this text consult: the document's whole tree if it
    /// has one, else `whole` asks for it (a fix of every finding reads
    /// every block: the tree, which the document keeps, is read once), or
    /// each fix parses the blocks it reads.
    pub fn fix_context(&self, whole: bool) -> FixContext<'_> {
        let tree = match whole {
            true => Some(self.tree.get(&self.text)),
            false => self.tree.ready(),
        };
        FixContext::new(&self.text, tree, &self.index)
            .with_frames(&self.frames)
            .with_style(self.style().clone())
    }
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
    let (sync, lenient) = match (snapshot.kind, cache.as_deref_mut()) {
        (FileKind::Hcl, Some(cache)) => cache.follow(&path, &text, &snapshot.tree, &|byte| {
            ts_point(&snapshot.rope, byte)
        }),
        _ => Default::default(),
    };
    // A large file the cache cannot follow (a syntax error) was read as
    // `check` reads it.
    let read_leniently = lenient.is_some();
    let facts = match (sync.usable, cache.as_deref(), lenient) {
        (_, _, Some(facts)) => facts,
        (true, Some(cache), None) => cache.facts(&path, snapshot.kind, Arc::clone(&text)),
        // JSON files are read by their own parser: no HCL tree for them.
        // A `.tfvars` file is read stretch by stretch, without a tree of
        // the whole text for the document to keep.
        _ => FileFacts::extract(
            &path,
            snapshot.kind,
            Arc::clone(&text),
            (snapshot.kind == FileKind::Hcl).then(tree),
        ),
    };
    let facts = Arc::new(facts);
    // Facts of unsaved buffers count for the whole module (and the modules
    // it calls).
    let (index, frames, changed) = if snapshot.path.is_some() {
        // What the update replaces (the file's facts, the module's index)
        // goes to the retire thread in one message, freed while the
        // findings are made.
        svl_project::retire::batched(|| {
            let mut ws = lock(workspace);
            let folder = folder_of(&path);
            let changed = if ws.put_open(Arc::clone(&facts)) {
                ws.and_dependents([folder.clone()])
            } else {
                Vec::new()
            };
            (ws.module_index(&folder), ws.frames(&folder), changed)
        })
    } else {
        let index = Arc::new(ModuleIndex::new(folder_of(&path), vec![Arc::clone(&facts)]));
        let frames = vec![Arc::new(Frame::root(Arc::clone(&index)))];
        (index, frames, Vec::new())
    };
    let options = Options::default();
    let findings: Findings = match snapshot.kind {
        FileKind::Tfvars | FileKind::TfvarsJson => Findings::default(),
        FileKind::Json => check_file(&facts, &frames, &options).into(),
        FileKind::Hcl => {
            let fingerprint = || {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                for frame in &frames {
                    frame.fingerprint().hash(&mut h);
                }
                h.finish()
            };
            let check_block =
                |block: &_| svl_analysis::analyze_block(&path, block, &frames, &options);
            match cache {
                Some(cache) if sync.usable || read_leniently => {
                    // The module as a root, its one instance: the checks
                    // that read none of the resources that changed keep
                    // their findings.
                    let root = match frames.as_slice() {
                        [frame] if frame.call.is_none() => Some(&frame.index),
                        _ => None,
                    };
                    let findings = cache.check(fingerprint(), root, check_block).0;
                    // Often the last hold on the last version's facts: freed
                    // off the keystroke's path.
                    if let Some(old) = cache.replaced_index() {
                        svl_project::retire::retire(old);
                    }
                    findings
                }
                _ => check_file(&facts, &frames, &options).into(),
            }
        }
    };
    let analyzed = Analyzed {
        generation: snapshot.generation,
        version: snapshot.version,
        text,
        tree: Arc::clone(&snapshot.tree),
        rope: snapshot.rope.clone(),
        findings: findings.unsuppressed(),
        index,
        frames,
        facts,
        kind: snapshot.kind,
        style: std::sync::OnceLock::new(),
    };
    (analyzed, changed)
}

/// The serialised diagnostics of a document's last publish, in order, with
/// what they say (the finding's rule, message, resource and problem, its
/// severity: hashed) and the byte offsets their positions come from. After a
/// keystroke almost every diagnostic is the same as before, its finding
/// merely moved in bytes: [`DiagnosticMemo::edited`] moves the memo along
/// with the text where that keeps every position (line and column), so such
/// a diagnostic is neither built, nor placed in the text, nor serialised
/// again.
///
/// Findings come in the order of the last publish, give or take those an
/// edit changed: [`diagnostics_json`] matches them against the memo in that
/// order, by where they start, with no lookup by content (a table of 20,000
/// diagnostics was looked up and built again on every keystroke).
///
/// The JSON is held in segments of [`SEGMENT`] diagnostics, joined: a
/// segment whose diagnostics are all reused, in order, is reused whole. One
/// string per diagnostic cost a cache miss each, on every keystroke, to
/// share it (its count) and again to let it go.
#[derive(Debug, Default)]
pub struct DiagnosticMemo {
    /// The last publish's segments, in order.
    segments: Vec<Segment>,
    /// How many diagnostics the last call reused.
    reused: usize,
    /// How many findings' contents the last call hashed.
    hashed: usize,
    /// The settings and encoding the memo's diagnostics were made with.
    made_with: Option<(Config, Encoding)>,
}

/// About how many diagnostics a segment of JSON holds.
const SEGMENT: usize = 64;

/// Diagnostics serialised together.
#[derive(Debug)]
struct Segment {
    /// Their JSON, joined by commas.
    json: Arc<str>,
    /// Those memoised, in order (all of them unless `whole` is false).
    items: Vec<Memoed>,
    /// `items` are all the diagnostics in `json`: none was left unmemoised
    /// or forgotten since.
    whole: bool,
}

/// One memoised diagnostic.
#[derive(Debug, Clone)]
struct Memoed {
    /// The finding it was last matched with: while that finding lives on
    /// (its item was not checked again), what it says is as it was, and
    /// it is not hashed again.
    made: Made,
    /// How far `made` had moved, and `offsets[0]`, when it was last
    /// matched: the memo's offsets are still `made`'s where it is while
    /// both moved alike since.
    made_moved: isize,
    made_first: usize,
    severity: Severity,
    /// [`content_key`] of its finding and severity.
    key: u64,
    /// The byte offsets of its range and its related places, in order
    /// (held inline: read for every diagnostic on every keystroke).
    offsets: SmallVec<[usize; 4]>,
    /// The largest of them.
    last: usize,
    /// Where the line holding `first` starts.
    line_start: usize,
    /// Where its JSON is in its segment's.
    json: Range<usize>,
    /// How many lines further on its positions are now than its JSON says
    /// (the text above it gained lines since; fewer: negative).
    lines: isize,
}

impl Memoed {
    /// The memo of `finding`'s diagnostic, made with `severity` (its
    /// [`content_key`] is `key`), its JSON not yet placed.
    fn of(finding: &Placed<'_>, severity: Severity, key: u64, rope: &Rope) -> Self {
        let offsets: SmallVec<[usize; 4]> = offsets_of(finding).collect();
        let first = offsets.iter().copied().min().unwrap_or_default();
        let last = offsets.iter().copied().max().unwrap_or_default();
        let line_start = rope.line_to_byte(rope.byte_to_line(first.min(rope.len_bytes())));
        Self {
            made: finding.made(),
            made_moved: finding.moved(),
            made_first: offsets[0],
            severity,
            key,
            offsets,
            last,
            line_start,
            json: 0..0,
            lines: 0,
        }
    }

    /// It is the diagnostic of `finding` (where it is now), made with
    /// `severity`; `key` gives [`content_key`] when it is needed.
    fn matches(&mut self, finding: &Placed<'_>, severity: Severity, key: &mut Key<'_>) -> bool {
        if !self.offsets.iter().copied().eq(offsets_of(finding)) || self.severity != severity {
            return false;
        }
        if self.made.is(finding) {
            return true;
        }
        if self.key != key.get() {
            return false;
        }
        // The same diagnostic, of a finding made again: that one is read
        // from now on.
        self.made = finding.made();
        self.made_moved = finding.moved();
        self.made_first = self.offsets[0];
        true
    }

    /// It is the diagnostic of `finding`, made with the same settings:
    /// the same finding as made (alive in its run, so saying the same), and
    /// moved as far as the memo since. Reads nothing of the finding itself
    /// (a cache miss each, on every keystroke).
    fn is_of(&self, finding: &Placed<'_>) -> bool {
        self.made.is(finding)
            && (self.offsets[0] as isize - self.made_first as isize).checked_add(self.made_moved)
                == Some(finding.moved())
    }
}

/// A finding's [`content_key`], computed once if at all (and counted in
/// `hashed`).
struct Key<'a> {
    finding: &'a Finding,
    severity: Severity,
    key: Option<u64>,
    hashed: &'a mut usize,
}

impl Key<'_> {
    fn get(&mut self) -> u64 {
        *self.key.get_or_insert_with(|| {
            *self.hashed += 1;
            content_key(self.finding, self.severity)
        })
    }
}

/// The memo's next diagnostic, (segment, item), passing segments it has
/// gone through and those that hold none.
fn settle(old: &[Segment], mut next: (usize, usize)) -> (usize, usize) {
    while old.get(next.0).is_some_and(|s| next.1 >= s.items.len()) {
        next = (next.0 + 1, 0);
    }
    next
}

impl DiagnosticMemo {
    /// Carries the memo over changes of the text (in order). A position
    /// depends on the text before it only: a diagnostic that ends before a
    /// change keeps its positions. One whose first line starts after a
    /// change keeps its columns, moved in bytes, and its lines move by as
    /// many lines as the change added or removed (a change at the start of
    /// that line is on it): its JSON is written again with those lines,
    /// not built again (pressing Enter in a 10 MB document made 10,000
    /// diagnostics afresh). Any other is forgotten.
    pub fn edited(&mut self, ops: &[CacheOp]) {
        for op in ops {
            let e = match op {
                CacheOp::Invalidate => {
                    self.segments.clear();
                    continue;
                }
                CacheOp::Edit(e) => e,
            };
            let delta = e.new_end as isize - e.old_end as isize;
            let shift = |x: &mut usize| *x = x.saturating_add_signed(delta);
            for segment in &mut self.segments {
                let before = segment.items.len();
                segment.items.retain_mut(|m| {
                    if m.last <= e.start {
                        true
                    } else if e.old_end < m.line_start {
                        m.offsets.iter_mut().for_each(shift);
                        shift(&mut m.last);
                        shift(&mut m.line_start);
                        m.lines += e.lines;
                        true
                    } else {
                        false
                    }
                });
                segment.whole &= segment.items.len() == before;
            }
            self.segments.retain(|s| !s.items.is_empty());
        }
    }

    /// How many diagnostics the last call reused.
    pub fn reused(&self) -> usize {
        self.reused
    }

    /// How many findings' contents the last call hashed (those whose
    /// items were checked again, or new).
    pub fn hashed(&self) -> usize {
        self.hashed
    }

    /// Forgets everything (the text changed in ways it was not told).
    pub fn clear(&mut self) {
        self.segments.clear();
        self.made_with = None;
    }
}

/// A diagnostic of a publish being made: one of the memo's (segment, item),
/// or made afresh (its JSON in a chunk of [`Fresh`]; memoised unless
/// `None`).
enum Piece {
    Reused(usize, usize),
    Fresh(usize, Range<usize>, Option<Memoed>),
}

/// The JSON of the diagnostics made afresh for a publish, one after the
/// other, in chunks freed as they are joined: one string each cost an
/// allocation and a free per diagnostic, and one buffer of all of them was
/// held whole beside the joined JSON at a first publish.
#[derive(Default)]
struct Fresh {
    chunks: Vec<Vec<u8>>,
}

impl Fresh {
    /// About how many bytes a chunk holds.
    const CHUNK: usize = 64 * 1024;

    /// Writes a diagnostic with `write`; its chunk and range there.
    fn add(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> (usize, Range<usize>) {
        if self.chunks.last().is_none_or(|c| c.len() >= Self::CHUNK) {
            self.chunks
                .push(Vec::with_capacity(Self::CHUNK + Self::CHUNK / 8));
        }
        let at = self.chunks.len() - 1;
        let chunk = &mut self.chunks[at];
        let start = chunk.len();
        write(chunk);
        (at, start..chunk.len())
    }

    /// The JSON at `range` of chunk `at`; the chunks before it are freed.
    fn take(&mut self, at: usize, range: Range<usize>) -> &str {
        if at > 0 && self.chunks[at - 1].capacity() > 0 {
            self.chunks[..at].iter_mut().for_each(|c| *c = Vec::new());
        }
        // serde_json writes UTF-8.
        std::str::from_utf8(&self.chunks[at][range]).unwrap_or("null")
    }
}

/// Joins diagnostics into segments.
#[derive(Default)]
struct Segments {
    done: Vec<Segment>,
    json: String,
    items: Vec<Memoed>,
    count: usize,
    whole: bool,
}

impl Segments {
    /// Adds the diagnostic `write` writes (at the end of the segment's
    /// JSON).
    fn push(&mut self, write: impl FnOnce(&mut String), item: Option<Memoed>) {
        if self.count == 0 {
            self.whole = true;
        } else {
            self.json.push(',');
        }
        let at = self.json.len();
        write(&mut self.json);
        match item {
            Some(mut m) => {
                m.json = at..self.json.len();
                self.items.push(m);
            }
            None => self.whole = false,
        }
        self.count += 1;
        if self.count == SEGMENT {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.count > 0 {
            self.done.push(Segment {
                json: Arc::from(std::mem::take(&mut self.json)),
                items: std::mem::take(&mut self.items),
                whole: self.whole,
            });
            self.count = 0;
        }
    }

    /// A segment of the last publish, as it was.
    fn reuse(&mut self, segment: Segment) {
        self.flush();
        self.done.push(segment);
    }
}

/// The diagnostics of findings as the JSON the client receives, reusing
/// `memo` (which then holds the diagnostics of this call). `memo` must have
/// been told of every change of the text since its last call
/// ([`DiagnosticMemo::edited`]).
#[allow(clippy::too_many_arguments)]
pub fn diagnostics_json(
    findings: &Findings,
    rope: &Rope,
    kind: FileKind,
    index: &ModuleIndex,
    uri: &Url,
    config: &Config,
    encoding: Encoding,
    memo: &mut DiagnosticMemo,
) -> DiagnosticsJson {
    if !config.enable || !kind.is_config() {
        memo.segments.clear();
        memo.made_with = None;
        return DiagnosticsJson::empty();
    }
    // The memo's diagnostics were made with these settings: each is of the
    // finding it was made from while that finding lives on.
    let alike = memo
        .made_with
        .as_ref()
        .is_some_and(|(c, e)| c == config && *e == encoding);
    if !alike {
        memo.made_with = Some((config.clone(), encoding));
    }
    // A first publish (nothing memoised, an open): every diagnostic is made
    // afresh, a segment at a time on rayon's workers.
    if memo.segments.is_empty()
        && findings.len() >= PARALLEL_FIRST
        && rayon::current_thread_index().is_none()
    {
        return first_publish(findings, rope, encoding, uri, index, config, memo);
    }
    let mut writer = convert::Diagnostics::new(rope, encoding, uri, index);
    // The last publish's diagnostics, in order: passed as the findings
    // reach them in the text (`next`: segment, item).
    let mut old = std::mem::take(&mut memo.segments);
    let mut next = (0, 0);
    let mut pieces: Vec<Piece> = Vec::with_capacity(findings.len());
    let mut reused = 0;
    let mut hashed = 0;
    let mut fresh = Fresh::default();
    let mut serialise =
        |p: &Placed<'_>, severity| fresh.add(|out| writer.write(out, &p.to_finding(), severity));
    next = settle(&old, next);
    // Read as made (most moved since, uncopied): only a diagnostic built
    // afresh needs the finding where it is now.
    for p in findings.iter() {
        if alike {
            let next_item = old.get(next.0).map(|s| &s.items[next.1]);
            if next_item.is_some_and(|m| m.is_of(&p)) {
                reused += 1;
                pieces.push(Piece::Reused(next.0, next.1));
                next = settle(&old, (next.0, next.1 + 1));
                continue;
            }
        }
        let f = p.as_made();
        if !config.reports(f) {
            continue;
        }
        let severity = config.severity_of(f);
        if !memoisable(f) {
            let (chunk, json) = serialise(&p, severity);
            pieces.push(Piece::Fresh(chunk, json, None));
            continue;
        }
        let mut key = Key {
            finding: f,
            severity,
            key: None,
            hashed: &mut hashed,
        };
        // Those before this finding in the text are gone: the edit removed
        // or changed their findings.
        let start = p.range().start;
        let mut matched = false;
        while let Some(segment) = old.get_mut(next.0) {
            let m = &mut segment.items[next.1];
            if m.offsets[0] >= start {
                matched = m.matches(&p, severity, &mut key);
                if !matched {
                    break;
                }
            }
            let at = next;
            next = settle(&old, (next.0, next.1 + 1));
            if matched {
                reused += 1;
                pieces.push(Piece::Reused(at.0, at.1));
                break;
            }
        }
        if matched {
            continue;
        }
        let memoed = Memoed::of(&p, severity, key.get(), rope);
        let (chunk, json) = serialise(&p, severity);
        pieces.push(Piece::Fresh(chunk, json, Some(memoed)));
    }
    // Segments of the last publish reused whole where they can be, the
    // rest joined afresh.
    let mut old: Vec<Option<Segment>> = old.into_iter().map(Some).collect();
    let mut out = Segments::default();
    let mut at = 0;
    while at < pieces.len() {
        if let Piece::Reused(s, 0) = pieces[at] {
            let n = old[s].as_ref().map_or(0, |seg| seg.items.len());
            let whole = old[s]
                .as_ref()
                .is_some_and(|seg| seg.whole && seg.items.iter().all(|m| m.lines == 0))
                && pieces.get(at..at + n).is_some_and(|run| {
                    run.iter()
                        .enumerate()
                        .all(|(k, p)| matches!(p, Piece::Reused(s2, i) if *s2 == s && *i == k))
                });
            if let Some(segment) = old[s].take_if(|_| whole) {
                out.reuse(segment);
                at += n;
                continue;
            }
        }
        match &mut pieces[at] {
            Piece::Reused(s, i) => {
                let segment = old[*s].as_ref().expect("a segment reused whole is passed");
                let m = &segment.items[*i];
                let json = &segment.json[m.json.clone()];
                let item = Memoed {
                    lines: 0,
                    ..m.clone()
                };
                out.push(|out| reline(json, m.lines, out), Some(item));
            }
            Piece::Fresh(chunk, json, memoed) => {
                let json = fresh.take(*chunk, json.clone());
                out.push(|out| out.push_str(json), memoed.take());
            }
        }
        at += 1;
    }
    out.flush();
    let parts: Vec<Arc<str>> = out.done.iter().map(|s| Arc::clone(&s.json)).collect();
    let count = pieces.len();
    memo.segments = out.done;
    memo.reused = reused;
    memo.hashed = hashed;
    DiagnosticsJson::from_segments(parts, count)
}

/// From how many findings a first publish makes its diagnostics in
/// parallel ([`first_publish`]).
const PARALLEL_FIRST: usize = 4 * SEGMENT;

/// The diagnostics of a first publish (`memo` holds none): each segment's
/// diagnostics written and memoised on rayon's workers, with a writer
/// each, straight into the segment's JSON. Segments as
/// [`diagnostics_json`] makes them one by one: a first publish of 1 MB
/// (1,992 diagnostics) serialised them on one core for about 10 ms while
/// the other was idle.
fn first_publish(
    findings: &Findings,
    rope: &Rope,
    encoding: Encoding,
    uri: &Url,
    index: &ModuleIndex,
    config: &Config,
    memo: &mut DiagnosticMemo,
) -> DiagnosticsJson {
    use rayon::prelude::*;
    let reported: Vec<(Placed<'_>, Severity)> = findings
        .iter()
        .filter_map(|p| {
            let f = p.as_made();
            config.reports(f).then(|| (p, config.severity_of(f)))
        })
        .collect();
    // Written on the workers a window at a time, and kept in this thread's
    // allocations: what the analysis freed here is reused. Kept where the
    // workers wrote them, a dense 1.2 MB `.tf.json` document's 25,000
    // diagnostics peaked 13 MB higher, over its bound.
    let window = SEGMENT * 4 * rayon::current_num_threads().max(1);
    let mut segments = Vec::with_capacity(reported.len().div_ceil(SEGMENT));
    let mut hashed = 0;
    for window in reported.chunks(window) {
        let written: Vec<(Vec<u8>, Vec<Memoed>, bool, usize)> = window
            .par_chunks(SEGMENT)
            .map(|chunk| {
                let mut writer = convert::Diagnostics::new(rope, encoding, uri, index);
                let mut hashed = 0;
                let mut json = Vec::new();
                let mut items = Vec::with_capacity(chunk.len());
                let mut whole = true;
                for (i, (p, severity)) in chunk.iter().enumerate() {
                    if i > 0 {
                        json.push(b',');
                    }
                    let at = json.len();
                    writer.write(&mut json, &p.to_finding(), *severity);
                    let f = p.as_made();
                    if !memoisable(f) {
                        whole = false;
                        continue;
                    }
                    hashed += 1;
                    let mut m = Memoed::of(p, *severity, content_key(f, *severity), rope);
                    m.json = at..json.len();
                    items.push(m);
                }
                (json, items, whole, hashed)
            })
            .collect();
        for (json, mut items, whole, count) in written {
            hashed += count;
            let mut kept = Vec::with_capacity(items.len());
            kept.append(&mut items);
            segments.push(Segment {
                // serde_json writes UTF-8.
                json: Arc::from(std::str::from_utf8(&json).unwrap_or_default()),
                items: kept,
                whole,
            });
        }
    }
    let parts: Vec<Arc<str>> = segments.iter().map(|s| Arc::clone(&s.json)).collect();
    memo.hashed = hashed;
    memo.reused = 0;
    memo.segments = segments;
    DiagnosticsJson::from_segments(parts, reported.len())
}

/// `json`, a diagnostic's, with every line number `lines` further on, into
/// `out`. A line number is the digits after `"line":`, which only a
/// position's key holds (a quote inside a string is escaped).
fn reline(json: &str, lines: isize, out: &mut String) {
    const KEY: &str = "\"line\":";
    if lines == 0 {
        out.push_str(json);
        return;
    }
    let mut rest = json;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let line: isize = tail[..digits].parse().unwrap_or_default();
        let _ = write!(out, "{}", line.saturating_add(lines).max(0));
        rest = &tail[digits..];
    }
    out.push_str(rest);
}

/// Whether `finding`'s diagnostic is memoised: not with a related place in
/// another file, which depends on that file's text.
fn memoisable(finding: &Finding) -> bool {
    !finding.related.iter().any(|r| r.path.is_some())
}

/// What a diagnostic of `finding` says, apart from where: hashed.
fn content_key(finding: &Finding, severity: Severity) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    // Hashed on every keystroke for every diagnostic: a fast hash, with a
    // fixed seed (the memo lives in this process only).
    let mut h = foldhash::quality::FixedState::default().build_hasher();
    finding.rule.hash(&mut h);
    severity.hash(&mut h);
    finding.message.hash(&mut h);
    // What `FindingKey` (the diagnostic's `data`) is made of, read in place.
    finding.resource.kind.hash(&mut h);
    finding.resource.name.hash(&mut h);
    std::mem::discriminant(&finding.problem).hash(&mut h);
    finding.problem.attribute().hash(&mut h);
    finding.related.len().hash(&mut h);
    for r in &finding.related {
        r.message.hash(&mut h);
    }
    h.finish()
}

/// The byte offsets a diagnostic's positions come from (where they are
/// now: its related places are in its file).
fn offsets_of<'a>(placed: &Placed<'a>) -> impl Iterator<Item = usize> + 'a {
    let finding = placed.as_made();
    let moved = placed.moved();
    [finding.range.start, finding.range.end]
        .into_iter()
        .chain(
            finding
                .related
                .iter()
                .flat_map(|r| [r.range.start, r.range.end]),
        )
        .map(move |offset| offset.saturating_add_signed(moved))
}

/// The diagnostics of findings, as the settings say (disabled rules left
/// out, severities applied), built one by one: what [`diagnostics_json`]
/// must serialise. `uri` names the file the findings are in.
#[cfg(test)]
fn diagnostics(
    findings: &[Finding],
    rope: &Rope,
    kind: FileKind,
    index: &ModuleIndex,
    uri: &Url,
    config: &Config,
    encoding: Encoding,
) -> Vec<lsp_types::Diagnostic> {
    if !config.enable || !kind.is_config() {
        return Vec::new();
    }
    let mut diagnostics = convert::Diagnostics::new(rope, encoding, uri, index);
    findings
        .iter()
        .filter(|f| config.reports(f))
        .map(|f| diagnostics.diagnostic(f, config.severity_of(f)))
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
) -> (Vec<(Url, DiagnosticsJson)>, Vec<PathBuf>) {
    let options = Options::default();
    let mut out = Vec::new();
    let mut callers = Vec::new();
    for folder in folders {
        let (files, frames, index) = {
            let mut ws = lock(workspace);
            let index = ws.module_index(folder);
            // Loading the folder may show it is there to its callers.
            callers.extend(ws.take_callers_changed());
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
            let findings: Findings = check_file(&file, &frames, &options)
                .into_iter()
                .filter(|f| f.suppressed.is_none())
                .collect::<Vec<_>>()
                .into();
            let rope = Rope::from_str(&file.text);
            let mut memo = DiagnosticMemo::default();
            let json = diagnostics_json(
                &findings, &rope, file.kind, &index, &url, config, encoding, &mut memo,
            );
            out.push((url, json));
        }
    }
    (out, callers)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The analysis of a document the server makes, with `cache` (told of
    /// every change since its last analysis).
    fn cached(
        doc: &svl_analysis::document::Document,
        uri: &Url,
        cache: &mut Incremental,
    ) -> Analyzed {
        let snapshot = Snapshot {
            uri: uri.to_string(),
            url: uri.clone(),
            path: None,
            kind: FileKind::Hcl,
            rope: doc.rope.clone(),
            text: Arc::clone(&doc.text),
            tree: doc.lazy_tree(),
            version: 1,
            generation: 1,
        };
        analyze(&SharedWorkspace::default(), &snapshot, Some(cache)).0
    }

    fn findings(text: &str) -> (Vec<Finding>, Rope, Arc<ModuleIndex>) {
        findings_beside(text, &[])
    }

    /// The findings of `/m/main.tf` holding `text`, in a module with
    /// `others` (file name, text) beside it.
    fn findings_beside(
        text: &str,
        others: &[(&str, &str)],
    ) -> (Vec<Finding>, Rope, Arc<ModuleIndex>) {
        let facts_of = |name: &str, text: &str| {
            Arc::new(FileFacts::extract(
                &PathBuf::from("/m").join(name),
                FileKind::Hcl,
                Arc::new(text.to_owned()),
                None,
            ))
        };
        let facts = facts_of("main.tf", text);
        let mut files = vec![Arc::clone(&facts)];
        files.extend(others.iter().map(|(name, text)| facts_of(name, text)));
        let index = Arc::new(ModuleIndex::new(PathBuf::from("/m"), files));
        let frames = vec![Arc::new(Frame::root(Arc::clone(&index)))];
        let findings = check_file(&facts, &frames, &Options::default());
        (findings, Rope::from_str(text), index)
    }

    /// Every diagnostic an edit leaves as it was is reused, however many
    /// findings the edit removed or added before it; so is every segment
    /// of JSON whose diagnostics it leaves, whole.
    #[test]
    fn every_diagnostic_an_edit_leaves_is_reused() {
        let uri = Url::parse("file:///m/main.tf").unwrap();
        // Models a blank line apart: five segments of JSON.
        let text: String = (0..300)
            .map(|i| format!("resource \"aws_sagemaker_model\" \"m{i}\" {{}}\n\n"))
            .collect();
        let mut doc = svl_analysis::document::Document::new(&text, 1);
        let mut memo = DiagnosticMemo::default();
        let config = Config::default();
        let encoding = Encoding::Utf16;
        // As the server does: the findings from a cache that follows the
        // edits (moved in runs, uncopied), the memo told of each change.
        let mut cache = Incremental::for_file(Path::new("/m/main.tf"));
        let publish = |doc: &svl_analysis::document::Document,
                       memo: &mut DiagnosticMemo,
                       cache: &mut Incremental| {
            let analyzed = cached(doc, &uri, cache);
            let (f, rope, index) = (&analyzed.findings, &analyzed.rope, &analyzed.index);
            let kind = FileKind::Hcl;
            let memoised = diagnostics_json(f, rope, kind, index, &uri, &config, encoding, memo);
            let fresh = diagnostics(&f.to_vec(), rope, kind, index, &uri, &config, encoding);
            assert_eq!(memoised, DiagnosticsJson::new(&fresh));
            (f.len(), memoised)
        };
        let (count, mut published) = publish(&doc, &mut memo, &mut cache);
        assert_eq!(count, 300);
        assert_eq!(published.parts(), 5);
        // The blank line above model `i`'s header starts after this.
        let above = |i: usize| format!("\"m{}\" {{}}\n", i - 1);
        let comment = "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test";
        // Each step: the changes of one notification (the text each
        // follows, what it removes, what it inserts), then how many
        // findings there are and how many diagnostics are reused.
        // Then how many segments of the last publish are shared whole, and
        // how many findings were hashed (the others were the findings of
        // the last publish, as made: their items were not checked again).
        type Step = (
            Vec<(String, &'static str, &'static str)>,
            usize,
            usize,
            usize,
            usize,
        );
        let steps: Vec<Step> = vec![
            // Typing in one model's name: only its diagnostic is built.
            (vec![("\"m10".into(), "", "x")], 300, 299, 4, 1),
            // Nine models suppressed at once, more than the look-ahead:
            // all the others are reused.
            (
                (12..21).map(|i| (above(i), "", comment)).collect(),
                291,
                291,
                4,
                0,
            ),
            // Their suppressions removed: nine findings back.
            (
                (12..21).map(|i| (above(i), comment, "")).collect(),
                300,
                291,
                4,
                9,
            ),
            // A space typed into a model's braces: its item is read and
            // checked again, its diagnostic the same (hashed to know it);
            // then into another's: the first is not hashed again.
            (vec![("\"m50\" {".into(), "", " ")], 300, 300, 5, 1),
            (vec![("\"m100\" {".into(), "", " ")], 300, 300, 5, 1),
            // The first and the last model renamed.
            (
                vec![("\"m0".into(), "", "y"), ("\"m299".into(), "", "y")],
                300,
                298,
                3,
                2,
            ),
            // Enter on the blank line below model 200, then Backspace:
            // every diagnostic below moves a line and is reused, its JSON
            // written again with that line (the segments above are shared
            // whole; model 200's item, which ends where the change is, is
            // checked again, its diagnostic hashed to know it).
            (vec![("\"m200\" {}\n".into(), "", "\n")], 300, 300, 3, 1),
            (vec![("\"m200\" {}\n".into(), "\n", "")], 300, 300, 3, 1),
            // Two lines added in one model's braces and one removed above
            // it, in one notification. The change ends where model 241's
            // line starts: its diagnostic is made again (and hashed).
            (
                vec![
                    ("\"m250\" {".into(), "", "\n\n"),
                    ("\"m240\" {}\n".into(), "\n", ""),
                ],
                300,
                299,
                3,
                2,
            ),
        ];
        assert_eq!(memo.hashed(), 300);
        for (n, (changes, count, reused, shared, hashed)) in steps.into_iter().enumerate() {
            let mut ops = Vec::new();
            for (after, removed, inserted) in changes {
                let at = doc.text.find(&after).expect("the text") + after.len();
                assert!(doc.text[at..].starts_with(removed));
                let place =
                    |offset| svl_analysis::position::to_line_col(&doc.rope, offset, encoding);
                let change = svl_analysis::document::Change {
                    range: Some((place(at), place(at + removed.len()))),
                    text: inserted.to_owned(),
                };
                ops.extend(doc.apply_changes(&[change], encoding).ops);
            }
            memo.edited(&ops);
            ops.iter().for_each(|op| cache.apply(op));
            let (found, json) = publish(&doc, &mut memo, &mut cache);
            assert_eq!(found, count, "step {n}");
            assert_eq!(memo.reused(), reused, "step {n}");
            assert_eq!(memo.hashed(), hashed, "step {n}");
            assert_eq!(json.parts_shared_with(&published), shared, "step {n}");
            published = json;
        }
    }

    /// A memoised diagnostic is of the finding it was made from only where
    /// the memo and the finding moved alike: the same finding, moved where
    /// the memo was not told of it, gets its diagnostic made again.
    #[test]
    fn a_finding_moved_unbeknown_to_the_memo_is_placed_again() {
        let uri = Url::parse("file:///m/main.tf").unwrap();
        let text = "resource \"aws_sagemaker_model\" \"m\" {}\n\n# padding\nresource \"aws_sagemaker_model\" \"n\" {}\n";
        let (f, rope, index) = findings(text);
        let config = Config::default();
        let kind = FileKind::Hcl;
        let findings = Findings::from(f.clone());
        let mut memo = DiagnosticMemo::default();
        // Each publish is checked against the diagnostics built afresh.
        let json = |findings: &Findings, memo: &mut DiagnosticMemo| {
            let (encoding, config) = (Encoding::Utf16, &config);
            let made =
                diagnostics_json(findings, &rope, kind, &index, &uri, config, encoding, memo);
            let fresh = diagnostics(
                &findings.to_vec(),
                &rope,
                kind,
                &index,
                &uri,
                config,
                encoding,
            );
            assert_eq!(made, DiagnosticsJson::new(&fresh));
        };
        json(&findings, &mut memo);
        // The same findings, as made, and unmoved: all reused, none hashed.
        json(&findings, &mut memo);
        assert_eq!((memo.reused(), memo.hashed()), (2, 0));
        // Moved 12 bytes on (to the second model's line, as if the text
        // had changed).
        let mut run = findings.runs()[0].clone();
        run.move_by(12);
        json(&Findings::new(vec![run]), &mut memo);
        assert_eq!(memo.reused(), 0);
    }

    /// A first publish of many diagnostics is made in parallel: the same
    /// JSON, segments and memo as made one by one (on a rayon worker, which
    /// makes them so), and as the diagnostics built afresh.
    #[test]
    fn a_first_publish_made_in_parallel_is_the_one_made_one_by_one() {
        let subnet = "resource \"aws_subnet\" \"s\" {\n  vpc_id = \"vpc-1\"\n  map_public_ip_on_launch = true\n}\n";
        // The subnet in the file, or in another: then the findings that
        // point at it are written but not memoised (their place there may
        // move unbeknown to this file's memo), in parallel as one by one.
        first_publish_is_made_as_one_by_one(subnet, &[]);
        first_publish_is_made_as_one_by_one("", &[("network.tf", subnet)]);
    }

    fn first_publish_is_made_as_one_by_one(head: &str, others: &[(&str, &str)]) {
        let uri = Url::parse("file:///m/main.tf").unwrap();
        let mut text = String::from(head);
        for i in 0..400 {
            text.push_str(&match i % 3 {
                0 => format!("resource \"aws_sagemaker_model\" \"m{i}é\" {{}}\n"),
                1 => format!(
                    "resource \"aws_sagemaker_model\" \"p{i}\" {{\n  vpc_config {{\n    subnets = [aws_subnet.s.id]\n    security_group_ids = []\n  }}\n}}\n"
                ),
                _ => format!("# 💣 {i}\n"),
            });
        }
        let (f, rope, index) = findings_beside(&text, others);
        let f: Findings = f.into();
        assert!(f.len() >= PARALLEL_FIRST, "{}", f.len());
        let elsewhere = f.iter().filter(|p| !memoisable(p.as_made())).count();
        assert_eq!(elsewhere > 0, !others.is_empty(), "{elsewhere}");
        let config = Config::default();
        for encoding in [Encoding::Utf16, Encoding::Utf8] {
            let publish = |memo: &mut DiagnosticMemo| {
                diagnostics_json(
                    &f,
                    &rope,
                    FileKind::Hcl,
                    &index,
                    &uri,
                    &config,
                    encoding,
                    memo,
                )
            };
            let mut parallel = DiagnosticMemo::default();
            let made = publish(&mut parallel);
            let mut serial = DiagnosticMemo::default();
            let one_pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let one_by_one = one_pool.install(|| publish(&mut serial));
            assert_eq!(made, one_by_one);
            let fresh = diagnostics(
                &f.to_vec(),
                &rope,
                FileKind::Hcl,
                &index,
                &uri,
                &config,
                encoding,
            );
            assert_eq!(made, DiagnosticsJson::new(&fresh));
            let shape = |memo: &DiagnosticMemo| -> Vec<_> {
                memo.segments
                    .iter()
                    .map(|s| {
                        let items: Vec<_> = s
                            .items
                            .iter()
                            .map(|m| {
                                (
                                    m.json.clone(),
                                    m.key,
                                    m.offsets.clone(),
                                    m.last,
                                    m.line_start,
                                    m.severity,
                                )
                            })
                            .collect();
                        (s.json.to_string(), s.whole, items)
                    })
                    .collect()
            };
            assert!(parallel.segments.len() > 1);
            assert_eq!(shape(&parallel), shape(&serial));
            assert_eq!(
                (parallel.reused, parallel.hashed),
                (serial.reused, serial.hashed)
            );
            // The next publish reuses every diagnostic of either memo that
            // is memoised.
            let again = publish(&mut parallel);
            assert_eq!(again, made);
            assert_eq!(parallel.reused, f.len() - elsewhere);
        }
    }

    #[test]
    fn reused_diagnostics_are_the_diagnostics_built_afresh() {
        let uri = Url::parse("file:///m/main.tf").unwrap();
        let mut base = String::from(
            "resource \"aws_subnet\" \"s\" {\n  vpc_id = aws_vpc.v.id\n  availability_zone = \"eu-west-1a\"\n}\n\nresource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n\n",
        );
        for i in 0..6 {
            base.push_str(&format!(
                "resource \"aws_sagemaker_model\" \"m{i}\" {{\n  vpc_config {{\n    subnets = [aws_subnet.s.id]\n    security_group_ids = []\n  }}\n}}\n\nresource \"aws_sagemaker_model\" \"p{i}\" {{}}\n\n"
            ));
        }
        // Each step replaces the first occurrence of a text (through the
        // document, as a client's change): typing in a name, a line added
        // above the last models, non-ASCII (columns differ by encoding) and
        // a line break inside a block, a character typed at the start of a
        // model's line, a space deleted right after a `\r`, joining it with
        // the next `\n` (`@A|B` replaces the `B` right after an `A`), two
        // changes in one notification, a severity setting (no change of
        // text).
        let steps: [&[(&str, &str)]; 9] = [
            &[("\"m3\"", "\"m3x\"")],
            &[(
                "resource \"aws_sagemaker_model\" \"p4\"",
                "\nresource \"aws_sagemaker_model\" \"p4\"",
            )],
            &[("\"p2\" {}", "\"p2\" { # é💣\n}")],
            &[("@# é💣\n}\n\n|", " ")],
            &[("@# é💣\n}\n\n |", "\t")],
            &[("\"m1\"", "\"m1é\""), ("\"p5\"", "\"p5z\"")],
            &[("\"p1\" {}\n", "\"p1\" {}\r \n")],
            &[("@\"p1\" {}\r| ", "")],
            &[],
        ];
        // The memoised JSON of a text's diagnostics, the JSON built afresh,
        // and how many findings there are. The findings made afresh, or
        // from a cache that follows the edits, as the server does (each
        // item's findings are then the same as before, merely moved).
        let both = |doc: &svl_analysis::document::Document,
                    cache: Option<&mut Incremental>,
                    config: &Config,
                    encoding,
                    memo: &mut DiagnosticMemo| {
            let (f, rope, index) = match cache {
                Some(cache) => {
                    let a = cached(doc, &uri, cache);
                    (a.findings, a.rope, a.index)
                }
                None => {
                    let (f, rope, index) = findings(&doc.text);
                    (f.into(), rope, index)
                }
            };
            let kind = FileKind::Hcl;
            let memoised = diagnostics_json(&f, &rope, kind, &index, &uri, config, encoding, memo);
            let fresh = diagnostics(&f.to_vec(), &rope, kind, &index, &uri, config, encoding);
            (memoised, DiagnosticsJson::new(&fresh), f.len())
        };
        let ways = [Encoding::Utf16, Encoding::Utf8]
            .into_iter()
            .flat_map(|e| [(e, false), (e, true)]);
        for (encoding, with_cache) in ways {
            let mut doc = svl_analysis::document::Document::new(&base, 1);
            let mut memo = DiagnosticMemo::default();
            let mut config = Config::default();
            let mut cache = Incremental::for_file(Path::new("/m/main.tf"));
            let mut cache = with_cache.then_some(&mut cache);
            let (first, fresh, count) =
                both(&doc, cache.as_deref_mut(), &config, encoding, &mut memo);
            assert_eq!(first, fresh);
            assert!(count > 10, "{count}");
            for (n, step) in steps.iter().enumerate() {
                let mut ops = Vec::new();
                for (from, to) in step.iter() {
                    let (at, from) = match from.strip_prefix('@').and_then(|f| f.split_once('|')) {
                        Some((after, from)) => (
                            doc.text.find(&format!("{after}{from}")).expect("the text")
                                + after.len(),
                            from,
                        ),
                        None => (doc.text.find(from).expect("the text to replace"), *from),
                    };
                    let place =
                        |offset| svl_analysis::position::to_line_col(&doc.rope, offset, encoding);
                    let change = svl_analysis::document::Change {
                        range: Some((place(at), place(at + from.len()))),
                        text: (*to).to_owned(),
                    };
                    ops.extend(doc.apply_changes(&[change], encoding).ops);
                }
                if step.is_empty() {
                    let settings = serde_json::json!({"rules": {"sagemaker_model_in_vpc": {"severity": "error"}}});
                    let (changed, errors) = Config::from_json(Some(&settings));
                    assert!(errors.is_empty(), "{errors:?}");
                    config = changed;
                }
                memo.edited(&ops);
                if let Some(cache) = cache.as_deref_mut() {
                    ops.iter().for_each(|op| cache.apply(op));
                }
                let (again, fresh, count) =
                    both(&doc, cache.as_deref_mut(), &config, encoding, &mut memo);
                assert_eq!(again, fresh, "step {n} {encoding:?} {with_cache}");
                // Most diagnostics are reused; never those the edit changed.
                assert!(
                    memo.reused > 0 && memo.reused < count,
                    "step {n}: {} of {count}",
                    memo.reused
                );
            }
        }
    }
}
