//! `check` over a set of modules: read every Terraform file of each folder
//! (configuration and tfvars, as Terraform does), put them in one
//! [`Workspace`] so calls between the folders are known, then check the
//! files the user asked for, each in every instance of its module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use ropey::Rope;
use svl_analysis::position::{self, Encoding};
use svl_analysis::{Finding, Options};
use svl_project::check::check_file;
use svl_project::fixplan::{self, FileChange};
use svl_project::prefilter;
use svl_project::read::{Depth, Source, kind_of};
use svl_project::walk::{Target, display_path, module_files};
use svl_project::{Workspace, folder_of};

use crate::render::{self, FileReport};

/// A file the user asked to check, and its findings.
pub struct CheckedFile {
    pub target: Target,
    pub findings: Vec<Finding>,
}

/// One folder: its files as read, and the targets in it.
pub struct Module {
    pub folder: PathBuf,
    pub sources: BTreeMap<PathBuf, Source>,
    pub files: Vec<CheckedFile>,
    /// Parsed and analyzed: false when no file of the folder can hold a
    /// finding and it calls no folder that can (see `svl_project::prefilter`).
    pub parsed: bool,
    /// Not asked for: read because a checked folder may call it (with the
    /// files of it that could not be read). Its files are checked only in
    /// the instances those calls make (Terraform plans them as part of the
    /// checked module), never on their own, and are not fixed.
    pub called_only: Option<Vec<(String, String)>>,
}

/// Every folder `check` reads, in one workspace.
pub struct Batch<'w> {
    pub workspace: Workspace,
    /// Which rules are reported and fixed.
    wants: &'w (dyn Fn(&str) -> bool + Sync),
    pub modules: Vec<Module>,
    /// Targets that could not be read: (display path, reason).
    pub errors: Vec<(String, String)>,
    /// Module files that could not be read for context.
    pub warnings: Vec<String>,
    pub options: Options,
    /// How much of each file is parsed.
    depth: Depth,
}

impl<'w> Batch<'w> {
    /// Reads the folders of `targets` and checks the targets for the rules
    /// `wants` accepts; `progress` is told how many files each checked
    /// folder held.
    pub fn check(
        targets: Vec<Target>,
        options: Options,
        depth: Depth,
        max_file_size: Option<u64>,
        wants: &'w (dyn Fn(&str) -> bool + Sync),
        progress: &(dyn Fn(usize) + Sync),
    ) -> Self {
        let mut by_folder: BTreeMap<PathBuf, Vec<Target>> = BTreeMap::new();
        for target in targets {
            by_folder
                .entry(folder_of(&target.path))
                .or_default()
                .push(target);
        }
        let loaded: Vec<Loaded> = by_folder
            .into_par_iter()
            .map(|(folder, targets)| load(folder, targets, max_file_size, depth))
            .collect();
        let mut batch = Batch {
            workspace: Workspace::default(),
            wants,
            modules: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            options,
            depth,
        };
        let mut modules = Vec::with_capacity(loaded.len());
        for (module, errors, warnings) in loaded {
            batch.errors.extend(errors);
            batch.warnings.extend(warnings);
            modules.push(module);
        }
        // The folders the checked ones call, outside what was asked for
        // (`check envs/prod` calling `../../modules/model`, or a registry
        // module `terraform init` installed under `.terraform/modules`):
        // Terraform plans them as part of the module, so they are checked
        // with it.
        let installed: Vec<(PathBuf, PathBuf)> = modules
            .iter()
            .flat_map(|module| batch.workspace.follow_installed(&module.folder))
            .map(|call| (call.caller, call.folder))
            .collect();
        let mut scanned = 0;
        while scanned < modules.len() {
            let known: std::collections::BTreeSet<&Path> =
                modules.iter().map(|m| m.folder.as_path()).collect();
            let called: std::collections::BTreeSet<PathBuf> = modules[scanned..]
                .iter()
                .flat_map(|m| {
                    m.sources.values().flat_map(|source| {
                        prefilter::local_paths(&source.text)
                            .map(|path| svl_analysis::module::normalize(&m.folder.join(path)))
                    })
                })
                .chain(installed.iter().map(|(_, folder)| folder.clone()))
                .filter(|folder| !known.contains(folder.as_path()) && folder.is_dir())
                .collect();
            scanned = modules.len();
            let loaded: Vec<Loaded> = called
                .into_par_iter()
                .map(|folder| {
                    let targets = module_files(&folder)
                        .into_iter()
                        .map(|path| Target {
                            display: display_path(&path),
                            path,
                        })
                        .collect();
                    load(folder, targets, max_file_size, depth)
                })
                .collect();
            for (mut module, errors, warnings) in loaded {
                // Said only if the folder turns out to be called.
                module.called_only = Some(errors);
                batch.warnings.extend(warnings);
                modules.push(module);
            }
        }
        let texts: BTreeMap<PathBuf, Vec<&str>> = modules
            .iter()
            .map(|m| {
                let texts = m.sources.values().map(|s| s.text.as_str()).collect();
                (m.folder.clone(), texts)
            })
            .collect();
        let needed = prefilter::folders_to_parse(&texts, &installed);
        drop(texts);
        // Parse (in parallel) only what can matter.
        let facts: Vec<Vec<_>> = modules
            .par_iter_mut()
            .map(|module| {
                module.parsed = needed.contains(&module.folder);
                if !module.parsed {
                    return Vec::new();
                }
                module
                    .sources
                    .iter()
                    .map(|(path, source)| source.facts_at(path, depth))
                    .collect()
            })
            .collect();
        for (module, facts) in modules.iter().zip(facts) {
            if module.parsed {
                batch.workspace.add_scanned(module.folder.clone(), facts);
            }
        }
        batch.modules = modules;
        batch.analyze_with(progress);
        // The files of a folder the named ones call that could not be read
        // were not checked.
        let reached: std::collections::BTreeSet<PathBuf> = batch
            .modules
            .iter()
            .filter(|m| m.called_only.is_none())
            .flat_map(|m| batch.workspace.dependents(&m.folder))
            .collect();
        for module in &mut batch.modules {
            if let Some(errors) = &mut module.called_only
                && reached.contains(&module.folder)
            {
                batch.errors.append(errors);
            }
        }
        batch
    }

    /// (Re)checks every target against the sources as they are now.
    pub(crate) fn analyze_all(&mut self) {
        self.analyze_with(&|_| {});
    }

    fn analyze_with(&mut self, progress: &(dyn Fn(usize) + Sync)) {
        let workspace = &self.workspace;
        let options = &self.options;
        let depth = self.depth;
        let wants = self.wants;
        let called_only: std::collections::BTreeSet<PathBuf> = self
            .modules
            .iter()
            .filter(|m| m.called_only.is_some())
            .map(|m| m.folder.clone())
            .collect();
        self.modules.par_iter_mut().for_each(|module| {
            if !module.parsed {
                // Nothing in it can be a finding: checked by the byte search.
                if module.called_only.is_some() {
                    module.files.clear();
                }
                progress(module.files.len());
                return;
            }
            let mut frames = workspace.frames_of(&module.folder);
            if module.called_only.is_some() {
                // Only as called from what was asked for: a folder the byte
                // search took for a call that is none is not checked at all.
                frames.retain(|frame| !called_only.contains(frame.root_folder()));
                if frames.is_empty() {
                    module.files.clear();
                    return;
                }
            }
            let checked = if module.called_only.is_some() {
                0 // not among the files the progress counts
            } else {
                module.files.len()
            };
            for file in &mut module.files {
                file.findings = match module.sources.get(&file.target.path) {
                    Some(source) => {
                        let facts = source.facts_at(&file.target.path, depth);
                        let mut findings = check_file(&facts, &frames, options);
                        findings.retain(|f| svl_analysis::rules::reported(f, wants));
                        findings
                    }
                    _ => Vec::new(),
                };
            }
            progress(checked);
        });
    }

    /// Applies the preferred fixes in memory, module by module; returns the
    /// changed files and the findings no automatic fix could address.
    pub fn fix(&mut self) -> (Vec<Change>, Vec<Unfixed>) {
        let mut changes = Vec::new();
        let mut unfixed = Vec::new();
        for module in &mut self.modules {
            if module.called_only.is_some() {
                continue; // not asked for: reported, never written
            }
            let targets: Vec<PathBuf> =
                module.files.iter().map(|f| f.target.path.clone()).collect();
            let outcome = fixplan::fix_module(
                &mut self.workspace,
                &mut module.sources,
                &targets,
                &self.options,
                self.wants,
            );
            for (path, finding) in outcome.unfixed {
                let display = display_of(module, &path);
                let text = module
                    .sources
                    .get(&path)
                    .map(|s| s.text.as_str().to_owned())
                    .unwrap_or_default();
                let at = position::to_line_col(
                    &Rope::from_str(&text),
                    finding.range.start,
                    Encoding::Utf32,
                );
                unfixed.push(Unfixed {
                    display,
                    line: at.line + 1,
                    column: at.col + 1,
                    json: path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".json")),
                    address: finding.resource.address(),
                    elsewhere: matches!(finding.problem, svl_analysis::finding::Problem::Pitfall),
                });
            }
            for change in outcome.changes {
                let display = display_of(module, &change.path);
                let bom = module.sources.get(&change.path).is_some_and(|s| s.bom);
                changes.push(Change {
                    display,
                    bom,
                    inner: change,
                });
            }
        }
        (changes, unfixed)
    }

    /// Where and why each resource (or module call) of the checked files
    /// had no verdict of this kind (`Problem::NotChecked`,
    /// `Problem::NotFollowed`; unsuppressed), as `check` names them.
    pub fn no_verdict(&self, kind: &svl_analysis::finding::Problem) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for module in &self.modules {
            for file in &module.files {
                let mut rope = None;
                for f in file
                    .findings
                    .iter()
                    .filter(|f| f.suppressed.is_none() && f.problem == *kind)
                {
                    let rope = rope.get_or_insert_with(|| {
                        module
                            .sources
                            .get(&file.target.path)
                            .map_or_else(Rope::new, |s| Rope::from_str(&s.text))
                    });
                    out.push((
                        render::place(&file.target.display, rope, f.range.start),
                        f.message.as_str().to_owned(),
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// A fix could not be written: the file keeps its old text.
    pub(crate) fn revert(&mut self, change: &Change) {
        let path = &change.inner.path;
        let folder = folder_of(path);
        if let Some(module) = self.modules.iter_mut().find(|m| m.folder == folder)
            && let Some(source) = module.sources.get_mut(path)
        {
            *source = Source::new(source.kind, change.inner.old_text.clone(), source.bom);
            self.workspace.replace(source.facts_at(path, self.depth));
        }
    }

    /// One report per checked file: unsuppressed findings with their notes.
    /// The batch's facts (every read block, lowered) are dropped first and
    /// the findings moved into the reports, so what the report holds is
    /// never held twice: with a file of dense models, the facts and the
    /// findings are most of what `check` takes.
    pub fn into_reports(mut self) -> Vec<FileReport> {
        drop(std::mem::take(&mut self.workspace));
        for module in &mut self.modules {
            for source in module.sources.values_mut() {
                source.forget_facts();
            }
        }
        // The facts were most of the memory, freed into the arenas of the
        // workers that read them, where the report (made on this thread)
        // cannot reuse it: given back, it does not stay under the report
        // (a 10 MB file of models peaked at 229 MB here, 205 MB without).
        svl_trim::release_free_memory(svl_trim::Keep::Room);
        let mut taken: Vec<Vec<Vec<Finding>>> = self
            .modules
            .iter_mut()
            .map(|m| {
                m.files
                    .iter_mut()
                    .map(|f| std::mem::take(&mut f.findings))
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        for (module, taken) in self.modules.iter().zip(&mut taken) {
            let mut ropes: BTreeMap<PathBuf, Rope> = BTreeMap::new();
            for (file, file_findings) in module.files.iter().zip(taken) {
                let Some(source) = module.sources.get(&file.target.path) else {
                    continue;
                };
                let folder_display = Path::new(&file.target.display)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                // In place: a copy would double the findings' memory.
                let mut findings = std::mem::take(file_findings);
                let all = findings.len();
                findings.retain(|f| f.suppressed.is_none());
                let suppressed = all - findings.len();
                // Not violations, and no verdict: named apart.
                let mut unchecked = Vec::new();
                let mut unfollowed = Vec::new();
                findings.retain(|f| match f.problem {
                    svl_analysis::finding::Problem::NotChecked => {
                        unchecked.push(f.clone());
                        false
                    }
                    svl_analysis::finding::Problem::NotFollowed => {
                        unfollowed.push(f.clone());
                        false
                    }
                    _ => true,
                });
                let notes = findings
                    .iter()
                    .map(|f| {
                        f.related
                            .iter()
                            .filter(|r| r.cause)
                            .map(|r| {
                                let (path, display) = match &r.path {
                                    Some(p) => (
                                        p.clone(),
                                        related_display(&folder_display, &module.folder, p),
                                    ),
                                    None => (file.target.path.clone(), file.target.display.clone()),
                                };
                                let rope = ropes.entry(path.clone()).or_insert_with(|| {
                                    let text = module
                                        .sources
                                        .get(&path)
                                        .map(|s| s.text.as_str().to_owned())
                                        .or_else(|| self.text_of(&path));
                                    Rope::from_str(&text.unwrap_or_default())
                                });
                                format!(
                                    "{}: {}",
                                    r.message,
                                    render::place(&display, rope, r.range.start)
                                )
                            })
                            .collect()
                    })
                    .collect();
                out.push(FileReport {
                    display: file.target.display.clone(),
                    // Positions are only computed for findings.
                    rope: if findings.is_empty() && unchecked.is_empty() && unfollowed.is_empty() {
                        Rope::new()
                    } else {
                        Rope::from_str(&source.text)
                    },
                    findings,
                    unchecked,
                    unfollowed,
                    notes,
                    suppressed,
                });
            }
        }
        out
    }

    /// The text of a file the batch read.
    fn text_of(&self, path: &Path) -> Option<String> {
        self.modules
            .iter()
            .find_map(|m| m.sources.get(path))
            .map(|s| s.text.as_str().to_owned())
    }
}

/// How to name a related file: beside the finding's file when it is in the
/// same folder, else by its path relative to the same base.
fn related_display(folder_display: &Path, folder: &Path, path: &Path) -> String {
    match path.strip_prefix(folder) {
        Ok(rest) => display_path(&folder_display.join(rest)),
        Err(_) => display_path(path),
    }
}

fn display_of(module: &Module, path: &Path) -> String {
    module
        .files
        .iter()
        .find(|f| f.target.path == path)
        .map(|f| f.target.display.clone())
        .unwrap_or_else(|| {
            let folder_display = module
                .files
                .first()
                .and_then(|f| Path::new(&f.target.display).parent().map(Path::to_path_buf))
                .unwrap_or_default();
            let name = path.file_name().map(PathBuf::from).unwrap_or_default();
            display_path(&folder_display.join(name))
        })
}

/// A folder as read: the module, unreadable targets, unreadable context.
type Loaded = (Module, Vec<(String, String)>, Vec<String>);

/// Reads one folder: every module file for context, and the targets.
fn load(folder: PathBuf, targets: Vec<Target>, max_file_size: Option<u64>, depth: Depth) -> Loaded {
    let mut sources = BTreeMap::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Each target under the folder's own spelling (`./a/x.tf` as `a/x.tf`),
    // the one the folder's listing uses: one key, one read and one parse
    // per file.
    let targets: Vec<Target> = targets
        .into_iter()
        .map(|mut target| {
            if let Some(name) = target.path.file_name() {
                target.path = folder.join(name);
            }
            target
        })
        .collect();
    let asked: std::collections::HashSet<&Path> =
        targets.iter().map(|t| t.path.as_path()).collect();
    for path in module_files(&folder) {
        if asked.contains(path.as_path()) {
            continue; // read below, where errors are the user's business
        }
        match Source::read(&path, kind_of(&path), max_file_size, depth) {
            Ok(source) => {
                sources.insert(path, source);
            }
            Err(e) => warnings.push(format!(
                "{}: {e}; not read for the module's variables and locals",
                display_path(&path)
            )),
        }
    }
    let mut files = Vec::new();
    for target in targets {
        match Source::read(&target.path, kind_of(&target.path), max_file_size, depth) {
            Ok(source) => {
                sources.insert(target.path.clone(), source);
                files.push(CheckedFile {
                    target,
                    findings: Vec::new(),
                });
            }
            Err(e) => errors.push((target.display.clone(), e.to_string())),
        }
    }
    (
        Module {
            folder,
            sources,
            files,
            parsed: false,
            called_only: None,
        },
        errors,
        warnings,
    )
}

/// One file's fix, for writing or showing.
pub struct Change {
    pub display: String,
    pub bom: bool,
    pub inner: FileChange,
}

impl Change {
    /// A unified diff of the change, with `a/` and `b/` paths like git's.
    pub fn diff(&self) -> String {
        similar::TextDiff::from_lines(&self.inner.old_text, &self.inner.new_text)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("a/{}", self.display),
                &format!("b/{}", self.display),
            )
            .to_string()
    }
}

/// A finding that has a fix, which could not be applied automatically.
pub struct Unfixed {
    pub display: String,
    pub line: usize,
    pub column: usize,
    pub address: String,
    /// In a Terraform JSON file (no automatic fix there).
    pub json: bool,
    /// Its fix edits a file of another module folder (the caller that
    /// declares the network): `check --fix` fixes one folder at a time.
    pub elsewhere: bool,
}
