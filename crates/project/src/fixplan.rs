//! Fix planning across the files of a module: which edits go in which file,
//! and where the variables a fix introduces are declared (the folder's
//! `variables.tf` when it has one, else the fixed file itself). Both front
//! ends use it: `check --fix` applies every preferred fix in memory, the
//! server turns the same edits into a workspace edit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use svl_analysis::Options;
use svl_analysis::finding::{Finding, Problem};
use svl_analysis::fix::{self, FixContext};
use svl_analysis::module::{FileKind, ModuleIndex};

use crate::read::Source;
use crate::workspace::{Workspace, folder_of};

/// The file new variables are declared in when `path` is fixed: the
/// module's `variables.tf` if it has one (and it is not `path`), else
/// `path`.
pub fn declaration_target(path: &Path, index: &ModuleIndex) -> PathBuf {
    let variables = folder_of(path).join("variables.tf");
    let known = index
        .files
        .iter()
        .any(|f| f.path == variables && f.kind == FileKind::Hcl);
    if known && variables != path {
        variables
    } else {
        path.to_path_buf()
    }
}

pub use svl_analysis::fix::declaration_edit;

/// One file's new text.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub old_text: String,
    pub new_text: String,
    /// What was done, for the user.
    pub summary: Vec<String>,
}

/// What [`fix_module`] did.
#[derive(Debug, Default)]
pub struct FixOutcome {
    pub changes: Vec<FileChange>,
    /// Findings with a fix that could not be applied automatically: JSON
    /// files (no automatic fix), blocks that do not parse cleanly.
    pub unfixed: Vec<(PathBuf, Finding)>,
}

/// Applies the preferred fix of every fixable finding of `targets` (files
/// of one module, whose texts are in `sources`) in memory, file by file,
/// declaring each new variable once. `ws` is kept current so later files
/// see what earlier fixes declared.
pub fn fix_module(
    ws: &mut Workspace,
    sources: &mut BTreeMap<PathBuf, Source>,
    targets: &[PathBuf],
    options: &Options,
    wants: &dyn Fn(&str) -> bool,
) -> FixOutcome {
    let originals: BTreeMap<PathBuf, String> = sources
        .iter()
        .map(|(p, s)| (p.clone(), s.text.as_str().to_owned()))
        .collect();
    let mut summaries: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut outcome = FixOutcome::default();
    for path in targets {
        let Some(source) = sources.get(path) else {
            continue;
        };
        let facts = source.facts(path);
        let folder = folder_of(path);
        let frames = ws.frames(&folder);
        let findings: Vec<Finding> = crate::check::check_file(&facts, &frames, options)
            .into_iter()
            .filter(|f| f.suppressed.is_none() && wants(f.rule))
            .collect();
        let fixable: Vec<&Finding> = findings
            .iter()
            .filter(|f| fix::fixable(&f.problem))
            .collect();
        if source.kind != FileKind::Hcl {
            outcome
                .unfixed
                .extend(fixable.iter().map(|f| (path.clone(), (*f).clone())));
            continue;
        }
        if !source.kind.is_hcl() {
            continue;
        }
        let index = ws.module_index(&folder);
        // Without the whole tree: each fix parses the block it edits.
        let ctx = FixContext::new(&source.text, None, &index).with_frames(&frames);
        let all = fix::fix_all(&findings, &ctx);
        let fixed_blocks: Vec<usize> = all
            .as_ref()
            .map(|f| f.resources.clone())
            .unwrap_or_default();
        outcome.unfixed.extend(
            fixable
                .iter()
                .filter(|f| !fixed_blocks.contains(&f.resource.block.start))
                .map(|f| (path.clone(), (*f).clone())),
        );
        let Some(all) = all else {
            continue;
        };
        let mut text = fix::apply_edits(&source.text, &all.edits);
        // Edits where the causes are declared (the VPC, a security group):
        // all of them, or the file's fix is not applied.
        if all
            .elsewhere
            .iter()
            .any(|(other, _)| other != path && !sources.contains_key(other))
        {
            outcome.unfixed.extend(
                findings
                    .iter()
                    .filter(|f| matches!(f.problem, Problem::Pitfall))
                    .map(|f| (path.clone(), f.clone())),
            );
            continue;
        }
        for (other, edits) in &all.elsewhere {
            if let Some(source) = sources.get(other) {
                let new_text = fix::apply_edits(&source.text, edits);
                replace(ws, sources, other, new_text);
                summaries
                    .entry(other.clone())
                    .or_default()
                    .push(format!("changed for {}", path.display()));
            }
        }
        summaries
            .entry(path.clone())
            .or_default()
            .extend(describe(&findings, &fixed_blocks));
        if !all.declare.is_empty() {
            let names: Vec<&str> = all.declare.iter().map(|v| v.name.as_str()).collect();
            let note = format!(
                "declared variable{} {}",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            );
            let target = declaration_target(path, &index);
            if target != *path
                && let Some(vars) = sources.get(&target)
            {
                if let Some(edit) = declaration_edit(&vars.text, None, &all.declare) {
                    let new_vars = fix::apply_edits(&vars.text, &[edit]);
                    replace(ws, sources, &target, new_vars);
                    summaries.entry(target).or_default().push(note);
                }
            } else if let Some(edit) = declaration_edit(&text, None, &all.declare) {
                text = fix::apply_edits(&text, &[edit]);
                summaries.entry(path.clone()).or_default().push(note);
            }
        }
        replace(ws, sources, path, text);
    }
    for (path, source) in sources.iter() {
        let Some(old) = originals.get(path) else {
            continue;
        };
        if *old == *source.text {
            continue;
        }
        outcome.changes.push(FileChange {
            path: path.clone(),
            old_text: old.clone(),
            new_text: source.text.as_str().to_owned(),
            summary: summaries.remove(path).unwrap_or_default(),
        });
    }
    outcome
}

/// Replaces a file's text in memory and in the workspace.
fn replace(ws: &mut Workspace, sources: &mut BTreeMap<PathBuf, Source>, path: &Path, text: String) {
    if let Some(source) = sources.get_mut(path) {
        let bom = source.bom;
        *source = Source::new(source.kind, text, bom);
        ws.replace(source.facts(path));
    }
}

/// What fixing `findings` (of the resources starting at `fixed`) does.
fn describe(findings: &[Finding], fixed: &[usize]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.suppressed.is_none() && fixed.contains(&f.resource.block.start))
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
                Problem::Pitfall => Some(format!("fixed {} of {address}", f.rule)),
                _ => None,
            }
        })
        .collect()
}
