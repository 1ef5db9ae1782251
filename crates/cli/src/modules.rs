//! `check` one module (folder) at a time: read every Terraform file of the
//! folder (configuration and tfvars, as Terraform does), build the module
//! index, then check the files the user asked for against it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ropey::Rope;
use tree_sitter::Tree;

use super::fixes::Change;
use super::render::FileReport;
use svl_analysis::fix::{self, FixContext};
use svl_analysis::module::{FileFacts, FileKind, ModuleIndex, ModuleScope};
use svl_analysis::position::{self, Encoding};
use svl_analysis::suppress::Date;
use svl_analysis::{self, Context, Finding, Problem, syntax};
use svl_project::walk::{self, Target, display_path};

pub use svl_analysis::module::folder_of;

/// A file of the module, as read.
struct Source {
    kind: FileKind,
    text: String,
    bom: bool,
    /// Its HCL tree, for HCL files.
    tree: Option<Tree>,
}

/// A file the user asked to check, and its findings.
pub struct CheckedFile {
    pub target: Target,
    pub findings: Vec<Finding>,
}

pub struct CheckedModule {
    pub folder: PathBuf,
    sources: BTreeMap<PathBuf, Source>,
    index: Arc<ModuleIndex>,
    pub files: Vec<CheckedFile>,
    /// Targets that could not be read: (display path, reason).
    pub errors: Vec<(String, String)>,
    /// Module files that could not be read for context.
    pub warnings: Vec<String>,
    today: Date,
}

/// What kind of file a target is: by name, else (a file named explicitly)
/// JSON if it ends in `.json`, HCL otherwise.
fn kind_of(path: &Path) -> FileKind {
    FileKind::of(path).unwrap_or_else(|| {
        if path.extension().is_some_and(|e| e == "json") {
            FileKind::Json
        } else {
            FileKind::Hcl
        }
    })
}

fn read(path: &Path, kind: FileKind) -> Result<Source, String> {
    let (text, bom) = svl_project::read_source_bom(path).map_err(|e| e.to_string())?;
    let tree = matches!(kind, FileKind::Hcl | FileKind::Tfvars).then(|| syntax::parse(&text, None));
    Ok(Source {
        kind,
        text,
        bom,
        tree,
    })
}

fn build_index(sources: &BTreeMap<PathBuf, Source>) -> Arc<ModuleIndex> {
    Arc::new(ModuleIndex::new(
        sources
            .iter()
            .map(|(path, s)| {
                Arc::new(FileFacts::extract(
                    path,
                    s.kind,
                    Arc::new(s.text.clone()),
                    s.tree.as_ref(),
                ))
            })
            .collect(),
    ))
}

impl CheckedModule {
    pub fn check(folder: PathBuf, targets: Vec<Target>, suppress: bool) -> Self {
        let mut sources = BTreeMap::new();
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for path in walk::module_files(&folder) {
            if targets.iter().any(|t| t.path == path) {
                continue; // read below, where errors are the user's business
            }
            match read(&path, kind_of(&path)) {
                Ok(source) => {
                    sources.insert(path, source);
                }
                Err(e) => warnings.push(format!(
                    "{}: {e}; not read for the module's variables and locals",
                    display_path(&path)
                )),
            }
        }
        let mut readable = Vec::new();
        for target in targets {
            match read(&target.path, kind_of(&target.path)) {
                Ok(source) => {
                    sources.insert(target.path.clone(), source);
                    readable.push(target);
                }
                Err(e) => errors.push((target.display.clone(), e)),
            }
        }
        let mut module = CheckedModule {
            index: build_index(&sources),
            folder,
            sources,
            files: readable
                .into_iter()
                .map(|target| CheckedFile {
                    target,
                    findings: Vec::new(),
                })
                .collect(),
            errors,
            warnings,
            today: Date::today(),
        };
        module.analyse_all(suppress);
        module
    }

    fn analyse(&self, path: &Path, suppress: bool) -> Vec<Finding> {
        let Some(source) = self.sources.get(path) else {
            return Vec::new();
        };
        let scope = ModuleScope::new(&self.index);
        let ctx = Context {
            scope: &scope,
            module: Some(&self.index),
            path: Some(path),
            today: self.today,
            suppressions: suppress,
        };
        match (source.kind, &source.tree) {
            (FileKind::Json, _) => svl_analysis::analyze_json(&source.text, &ctx),
            (FileKind::Hcl, Some(tree)) => svl_analysis::analyze(&source.text, tree, &ctx),
            _ => Vec::new(),
        }
    }

    fn analyse_all(&mut self, suppress: bool) {
        let findings: Vec<Vec<Finding>> = self
            .files
            .iter()
            .map(|f| self.analyse(&f.target.path, suppress))
            .collect();
        for (file, findings) in self.files.iter_mut().zip(findings) {
            file.findings = findings;
        }
    }

    /// Applies the preferred fix of every fixable finding, file by file, in
    /// memory; returns the files that changed. Variables the fixes use are
    /// declared once, in the folder's `variables.tf` when it has one.
    pub fn fix(&mut self, suppress: bool) -> Result<Vec<Change>, String> {
        let originals: BTreeMap<PathBuf, String> = self
            .sources
            .iter()
            .map(|(p, s)| (p.clone(), s.text.clone()))
            .collect();
        let mut summaries: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        let targets: Vec<PathBuf> = self.files.iter().map(|f| f.target.path.clone()).collect();
        for path in &targets {
            if self
                .sources
                .get(path)
                .is_none_or(|s| s.kind != FileKind::Hcl)
            {
                continue;
            }
            // Earlier fixes may have declared variables: read the module again.
            self.index = build_index(&self.sources);
            let findings = self.analyse(path, suppress);
            let Some(source) = self.sources.get(path) else {
                continue;
            };
            let Some(tree) = source.tree.as_ref() else {
                continue;
            };
            let ctx = FixContext {
                src: &source.text,
                tree,
                module: &self.index,
            };
            let Some(all) = fix::fix_all(&findings, &ctx) else {
                continue;
            };
            let mut text = fix::apply_edits(&source.text, &all.edits);
            summaries
                .entry(path.clone())
                .or_default()
                .extend(describe(&findings));
            if !all.declare.is_empty() {
                let names: Vec<&str> = all.declare.iter().map(|v| v.name.as_str()).collect();
                let note = format!(
                    "declared variable{} {}",
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                );
                let variables = self.folder.join("variables.tf");
                if variables != *path && self.sources.contains_key(&variables) {
                    let vars = &self.sources[&variables];
                    let vars_tree = syntax::parse(&vars.text, None);
                    if let Some(edit) = fix::declaration_edit(&vars.text, &vars_tree, &all.declare)
                    {
                        let new_vars = fix::apply_edits(&vars.text, &[edit]);
                        self.replace(&variables, new_vars);
                        summaries.entry(variables).or_default().push(note);
                    }
                } else {
                    let tree = syntax::parse(&text, None);
                    if let Some(edit) = fix::declaration_edit(&text, &tree, &all.declare) {
                        text = fix::apply_edits(&text, &[edit]);
                        summaries.entry(path.clone()).or_default().push(note);
                    }
                }
            }
            self.replace(path, text);
        }
        self.index = build_index(&self.sources);
        self.analyse_all(suppress);

        let folder_display = self.files.first().map(|f| {
            let d = Path::new(&f.target.display);
            d.parent().map(Path::to_path_buf).unwrap_or_default()
        });
        let mut changes = Vec::new();
        for (path, source) in &self.sources {
            let Some(old) = originals.get(path) else {
                continue;
            };
            if *old == source.text {
                continue;
            }
            let display = self
                .files
                .iter()
                .find(|f| f.target.path == *path)
                .map(|f| f.target.display.clone())
                .unwrap_or_else(|| {
                    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
                    display_path(&folder_display.clone().unwrap_or_default().join(name))
                });
            changes.push(Change {
                path: path.clone(),
                display,
                old_text: old.clone(),
                new_text: source.text.clone(),
                bom: source.bom,
                summary: summaries.remove(path).unwrap_or_default(),
            });
        }
        Ok(changes)
    }

    fn replace(&mut self, path: &Path, text: String) {
        if let Some(source) = self.sources.get_mut(path) {
            source.tree = source.tree.as_ref().map(|_| syntax::parse(&text, None));
            source.text = text;
        }
    }

    /// One report per checked file: unsuppressed findings with their notes.
    pub fn reports(self) -> Vec<FileReport> {
        let mut ropes: BTreeMap<PathBuf, Rope> = BTreeMap::new();
        let mut out = Vec::new();
        for file in &self.files {
            let Some(source) = self.sources.get(&file.target.path) else {
                continue;
            };
            let folder_display = Path::new(&file.target.display)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let suppressed = file
                .findings
                .iter()
                .filter(|f| f.suppressed.is_some())
                .count();
            let findings: Vec<Finding> = file
                .findings
                .iter()
                .filter(|f| f.suppressed.is_none())
                .cloned()
                .collect();
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
                                    display_path(
                                        &folder_display.join(p.file_name().unwrap_or_default()),
                                    ),
                                ),
                                None => (file.target.path.clone(), file.target.display.clone()),
                            };
                            let rope = ropes.entry(path.clone()).or_insert_with(|| {
                                Rope::from_str(
                                    self.sources.get(&path).map_or("", |s| s.text.as_str()),
                                )
                            });
                            let at = position::to_line_col(rope, r.range.start, Encoding::Utf32);
                            format!("{}: {display}:{}:{}", r.message, at.line + 1, at.col + 1)
                        })
                        .collect()
                })
                .collect();
            out.push(FileReport {
                display: file.target.display.clone(),
                rope: Rope::from_str(&source.text),
                findings,
                notes,
                suppressed,
            });
        }
        out
    }
}

/// What fixing `findings` does, in words.
fn describe(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .filter_map(|f| {
            let address = f.resource.address();
            match &f.problem {
                Problem::MissingVpcConfig => Some(format!("added vpc_config to {address}")),
                Problem::MissingAttribute { attribute, .. } => {
                    Some(format!("added {} to {address}", attribute.name()))
                }
                Problem::EmptyValue {
                    attribute,
                    resolved: false,
                    ..
                } => Some(format!(
                    "replaced the empty {} of {address}",
                    attribute.name()
                )),
                _ => None,
            }
        })
        .collect()
}
