//! The analysis core: Terraform text in, findings and fixes out.
//!
//! Nothing here reads files or knows about LSP or the terminal: ranges are
//! byte offsets into the analyzed text. Files become a syntax-free model
//! ([`hir`], via [`lower`]); a folder's files make a [`module::ModuleIndex`];
//! each instance of a module is a [`module::Frame`] in which [`eval`]
//! resolves values; the [`rules`] judge resources in a frame. The project
//! layer (crate `svl-project`) supplies texts and frames; the language server
//! and the `check` CLI are thin front ends over both.

pub(crate) mod batch;
pub mod document;
pub(crate) mod eval;
pub mod finding;
pub mod fix;
pub mod hir;
pub mod incremental;
pub(crate) mod json;
pub(crate) mod lex;
pub(crate) mod lower;
pub mod module;
pub mod network;
pub(crate) mod owners;
pub mod position;
pub(crate) mod queries;
pub mod rules;
pub(crate) mod split;
pub(crate) mod style;
pub mod suppress;
pub mod syntax;
pub(crate) mod terraform;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use finding::ResourceRef;
pub use finding::{Finding, Findings, Placed, Problem, Severity, VpcAttribute};
pub use lower::ANALYSIS_STACK_SIZE;
#[doc(hidden)]
pub use lower::direct::agrees_with_tree_sitter as direct_reading_agrees;
pub use rules::Context;

use hir::Block;
use module::{FileFacts, Frame};
use suppress::Date;

/// How findings are produced.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Suppressions expire against this date.
    pub today: Date,
    /// Honour suppression comments.
    pub suppressions: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            today: Date::today(),
            suppressions: true,
        }
    }
}

/// The findings of every top-level block of `file` (a configuration file
/// of the module the frames are instances of), sorted by position.
pub fn analyze_file(file: &FileFacts, frames: &[Arc<Frame>], options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    if file.detached.is_empty() {
        for block in &file.blocks {
            findings.extend(analyze_block(&file.path, block, frames, options));
        }
    } else {
        // A large file with blocks left out of its facts: each is lowered
        // again, analyzed on its own and dropped; all blocks in source
        // order, in parallel.
        enum Item<'a> {
            Held(&'a Block),
            Detached(&'a std::ops::Range<usize>),
        }
        // Both lists are in source order: merged as they are taken (a list
        // of all of a million blocks, and the sort of it, were a tenth of
        // the peak of such a file's check).
        let mut held = file.blocks.iter().peekable();
        let mut left_out = file.detached.iter().peekable();
        let items = std::iter::from_fn(|| match (held.peek(), left_out.peek()) {
            (Some(b), Some(r)) if b.span.start < r.start => held.next().map(|b| Item::Held(b)),
            (_, Some(_)) => left_out.next().map(Item::Detached),
            (Some(_), None) => held.next().map(|b| Item::Held(b)),
            (None, None) => None,
        });
        batch::par_map_in_order(
            items,
            batch::BATCH,
            |item| match item {
                Item::Held(block) => analyze_block(&file.path, block, frames, options),
                Item::Detached(range) => module::lower_detached(&file.text, (*range).clone())
                    .iter()
                    .flat_map(|block| analyze_block_in(&file.path, block, frames, options, true))
                    .collect(),
            },
            // Kept by this thread (see `Finding::rehomed`).
            |_, found| findings.extend(found.into_iter().map(Finding::rehomed)),
        );
    }
    sort(&mut findings);
    findings
}

/// The findings of one top-level block of the file at `path`, in every
/// instance of its module (findings that differ only by instance are
/// merged, their related information combined), sorted by position.
pub fn analyze_block(
    path: &Path,
    block: &Block,
    frames: &[Arc<Frame>],
    options: &Options,
) -> Vec<Finding> {
    analyze_block_in(path, block, frames, options, false)
}

/// [`analyze_block`]; `detached`: the block is not in its file's facts
/// (see [`FileFacts::detached`]).
fn analyze_block_in(
    path: &Path,
    block: &Block,
    frames: &[Arc<Frame>],
    options: &Options,
    detached: bool,
) -> Vec<Finding> {
    if block.kind == "module" {
        return not_followed(path, block, frames).into_iter().collect();
    }
    if block.resource_address().is_none() {
        return Vec::new();
    }
    let ids = rules::rule_ids();
    let mut merged: BTreeMap<(usize, usize, &'static str, String), Finding> = BTreeMap::new();
    for frame in frames {
        let target_merged = if detached {
            frame.index.merged_detached(path, block)
        } else {
            frame.index.merged_for(path, block)
        };
        let Some(target_merged) = target_merged else {
            continue;
        };
        let target = rules::Target::new(block, target_merged, frame);
        let ctx = Context {
            frame,
            path,
            today: options.today,
            suppressions: options.suppressions,
        };
        let mut out = Vec::new();
        for rule in rules::RULES {
            rule.check(&target, &ctx, &mut out);
        }
        let directive = suppress::for_block(block, &ids)
            .or_else(|| suppress::for_block(target.merged.base.1, &ids));
        let directive_here = suppress::for_block(block, &ids).is_some();
        apply_suppression(
            directive,
            directive_here,
            target.resource_ref(),
            &ctx,
            &mut out,
        );
        for finding in out {
            let key = (
                finding.range.start,
                finding.range.end,
                finding.rule,
                finding.problem.summary(),
            );
            match merged.get_mut(&key) {
                Some(existing) => {
                    for r in finding.related {
                        if !existing.related.contains(&r) {
                            existing.related.push(r);
                        }
                    }
                }
                None => {
                    merged.insert(key, finding);
                }
            }
        }
    }
    let mut findings: Vec<Finding> = merged.into_values().collect();
    sort(&mut findings);
    findings
}

/// The "not followed" finding of a `module` block whose source `terraform
/// init` has not installed, whose local folder is not there, or whose
/// source Terraform does not take (the same in every instance of its
/// module), on its header: what the module declares was not checked.
fn not_followed(path: &Path, block: &Block, frames: &[Arc<Frame>]) -> Option<Finding> {
    let frame = frames.first()?;
    let merged = frame.index.merged_for(path, block)?;
    let (name, why) = frame.index.unfollowed(&merged)?;
    let header = block.header();
    let message = match why {
        module::Unfollowed::NotInstalled(source) => format!(
            "module.{name} was not checked: its source \"{source}\" is not installed (run terraform init, then check again)"
        ),
        module::Unfollowed::Absent(source) => format!(
            "module.{name} was not checked: its source \"{source}\" is not a folder here (Terraform cannot read the module: check the path)"
        ),
        module::Unfollowed::NoSource => {
            format!("module.{name} was not checked: it has no source (Terraform requires one)")
        }
        module::Unfollowed::NotLiteral => format!(
            "module.{name} was not checked: its source is not a literal string (Terraform allows no variables or references there)"
        ),
    };
    Some(Finding {
        rule: rules::sagemaker_model_in_vpc::ID,
        severity: finding::Severity::Hint,
        range: header.clone(),
        message: message.into(),
        resource: finding::ResourceRef {
            kind: "module".into(),
            name: name.into(),
            block: block.span.clone(),
            header,
        },
        problem: finding::Problem::NotFollowed,
        related: Vec::new(),
        suppressed: None,
    })
}

/// Marks `out` suppressed by a valid, current directive, or reports what is
/// wrong with the directive (when it is in the analyzed file).
fn apply_suppression(
    directive: Option<suppress::Directive>,
    directive_here: bool,
    resource: ResourceRef,
    ctx: &Context<'_>,
    out: &mut Vec<Finding>,
) {
    let Some(directive) = directive else {
        return;
    };
    let report = |rule: &'static str, message: String, problem: Problem| Finding {
        rule,
        severity: Severity::Warning,
        range: directive.range.clone(),
        message: message.into(),
        resource: resource.clone(),
        problem,
        related: Vec::new(),
        suppressed: None,
    };
    if let Some(problem) = &directive.problem {
        if directive_here {
            out.push(report(
                suppress::INVALID_RULE,
                format!(
                    "this suppression of {} has no effect: {problem}",
                    resource.address()
                ),
                Problem::InvalidSuppression,
            ));
        }
        return;
    }
    if let Some(expired) = directive.expired(ctx.today) {
        if directive_here {
            out.push(report(
                suppress::EXPIRED_RULE,
                format!(
                    "this suppression of {} expired on {expired}: its findings are reported again; \
                     fix them or renew the date with a reason",
                    resource.address()
                ),
                Problem::ExpiredSuppression,
            ));
        }
        return;
    }
    if !ctx.suppressions {
        return;
    }
    let reason = directive.reason.clone().unwrap_or_default();
    for finding in out.iter_mut() {
        if directive.suppresses(finding.rule, ctx.today) {
            finding.suppressed = Some(reason.clone().into());
        }
    }
}

pub(crate) fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
    });
}

/// How one model stands in one instance of its module (the differential
/// tests against `terraform plan` compare these).
#[derive(Debug, Clone)]
pub struct Judged {
    /// `module.a.module.b` for a called module, `""` for a root.
    pub module: String,
    /// `aws_sagemaker_model.NAME`.
    pub resource: String,
    pub judgement: rules::sagemaker_model_in_vpc::Judgement,
    /// Only the "may exist" policy for root variables keeps it from being
    /// not created.
    pub by_policy: bool,
}

/// The judgement of every model declared in `file`, per instance.
pub fn judge_file(file: &FileFacts, frames: &[Arc<Frame>]) -> Vec<Judged> {
    debug_assert!(
        file.detached.is_empty(),
        "judged from facts that hold every block"
    );
    let options = Options::default();
    let mut out = Vec::new();
    for block in &file.blocks {
        let Some((kind, name)) = block.resource_address() else {
            continue;
        };
        if kind != rules::sagemaker_model_in_vpc::RESOURCE_TYPE || module::is_override(&file.path) {
            continue;
        }
        for frame in frames {
            let Some(merged) = frame.index.merged_for(&file.path, block) else {
                continue;
            };
            let target = rules::Target::new(block, merged, frame);
            let ctx = Context {
                frame,
                path: &file.path,
                today: options.today,
                suppressions: options.suppressions,
            };
            let (judgement, by_policy) = rules::sagemaker_model_in_vpc::judge(&target, &ctx);
            out.push(Judged {
                module: frame.call_path().unwrap_or_default(),
                resource: format!("{kind}.{name}"),
                judgement,
                by_policy,
            });
        }
    }
    out
}

/// What the rules say about the resource at `offset` of `file` (hover), in
/// the first instance of its module.
pub fn explain(
    file: &FileFacts,
    frames: &[Arc<Frame>],
    offset: usize,
) -> Option<rules::Explanation> {
    debug_assert!(
        file.detached.is_empty(),
        "explained from facts that hold every block"
    );
    let block = file
        .blocks
        .iter()
        .find(|b| b.span.start <= offset && offset <= b.span.end)?;
    block.resource_address()?;
    let options = Options::default();
    frames.iter().find_map(|frame| {
        let merged = frame.index.merged_for(&file.path, block)?;
        let target = rules::Target::new(block, merged, frame);
        let ctx = Context {
            frame,
            path: &file.path,
            today: options.today,
            suppressions: options.suppressions,
        };
        // The most specific explanations (the smallest span) win; rules
        // that explain the same span are shown together.
        let all: Vec<rules::Explanation> = rules::RULES
            .iter()
            .filter_map(|rule| rule.explain(&target, &ctx, offset))
            .collect();
        let width = all.iter().map(|e| e.span.len()).min()?;
        let mut best = all.into_iter().filter(|e| e.span.len() == width);
        let mut first = best.next()?;
        for more in best {
            first.markdown.push_str("\n\n---\n\n");
            first.markdown.push_str(&more.markdown);
        }
        Some(first)
    })
}

/// Checks HCL `src` alone, as the only file of a root module (tests and
/// quick checks).
pub fn analyze_text(src: &str) -> Vec<Finding> {
    let path = Path::new("main.tf");
    let facts = Arc::new(FileFacts::extract(
        path,
        module::FileKind::Hcl,
        Arc::new(src.to_owned()),
        None,
    ));
    let index = Arc::new(module::ModuleIndex::new(
        module::folder_of(path),
        vec![Arc::clone(&facts)],
    ));
    analyze_file(&facts, &[Arc::new(Frame::root(index))], &Options::default())
}
