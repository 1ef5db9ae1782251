//! Fixes: pure functions from findings to text edits (byte ranges).
//!
//! ```text
//! resource "aws_sagemaker_model" "m" {        resource "aws_sagemaker_model" "m" {
//!   name = "m"                        →          name = "m"
//! }
//!                                                vpc_config {
//!                                                  security_group_ids = var.security_group_ids
//!                                                  subnets            = var.subnet_ids
//!                                                }
//!                                              }
//! ```
//!
//! Each rule offers its own fixes (see [`crate::rules::Rule`]); this module
//! holds what they share and dispatches to them: the [`FixContext`] of a
//! file, edits and their application, the layout conventions generated text
//! follows ([`layout`]: the file's [`Style`], `=` aligned as `terraform fmt`
//! aligns it), declaring new variables ([`variables`]) and suppression
//! comments ([`suppression`]). Listing fixes ([`offers_for`]) is cheap;
//! computing one ([`fix_for`]) or all of a file's ([`fix_all`]) is linear in
//! the file.

mod layout;
mod suppression;
mod variables;

use std::cell::OnceCell;
use std::ops::Range;

use tree_sitter::Tree;

use super::finding::{Finding, Problem};
use super::module::ModuleIndex;
use super::rules;
pub use super::style::Style;
use super::terraform;

pub(crate) use layout::{
    Abs, Geometry, Slot, adjacent, align_assignments, align_chains, append_lines, equals_gap,
    line_start,
};
pub(crate) use variables::choose_variable;
pub(crate) use variables::description as variable_description;
pub use variables::{declaration_edit, declaration_edit_styled};

/// Replace `range` of the file with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub new_text: String,
}

/// Applies non-overlapping `edits` (byte ranges into `text`) to `text`.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        let start = edit.range.start.clamp(at, text.len());
        out.push_str(&text[at..start]);
        out.push_str(&edit.new_text);
        at = edit.range.end.clamp(start, text.len());
    }
    out.push_str(&text[at..]);
    out
}

/// A variable a fix references that the module does not declare yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVariable {
    pub name: String,
    pub description: &'static str,
}

/// One fix: edits in the analyzed file plus variables to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    /// The one obvious fix for its finding (LSP `isPreferred`).
    pub preferred: bool,
    /// Sorted, non-overlapping edits of the analyzed file.
    pub edits: Vec<TextEdit>,
    pub declare: Vec<NewVariable>,
    /// Edits of other files of the module or its callers (where the
    /// declaration a finding points at lives), by path: sorted,
    /// non-overlapping byte ranges of the text the analysis read.
    pub elsewhere: Vec<(std::path::PathBuf, Vec<TextEdit>)>,
    /// Where the resources it fixes start (their `block.start`).
    pub resources: Vec<usize>,
}

/// What fixes may consult: the file, its tree and its module, with what
/// fixes need of the whole file (its style, its islands, where its strings
/// and comments are) computed at most once, when first needed: listing the
/// offers of one finding costs nothing per byte of the file, and fixing a
/// file's findings one by one or all at once stays linear in its size.
///
/// Without the file's tree (an editor's document is read block by block),
/// a fix parses only what it reads: the block it edits, and the last
/// blocks of the file for its style. The edits are the same as with the
/// whole tree; a file the block split does not understand is parsed whole.
pub struct FixContext<'a> {
    pub src: &'a str,
    pub module: &'a ModuleIndex,
    /// The instances of the module the findings were computed in (rules
    /// that read other resources recompute their facts in them).
    pub frames: Vec<std::sync::Arc<super::module::Frame>>,
    /// The whole file's tree, when the caller has one.
    tree: Option<&'a Tree>,
    /// Otherwise the file's top-level blocks, each parsed when first read
    /// (`None`: the split does not understand the file).
    blocks: OnceCell<Option<Blocks>>,
    style: OnceCell<Style>,
    islands: OnceCell<Vec<terraform::Island<'a>>>,
    non_code: OnceCell<Vec<Range<usize>>>,
}

/// A file's top-level blocks ([`crate::split::split`]), with their points,
/// each with its tree once parsed (`None`: it does not parse cleanly alone).
struct Blocks {
    ranges: Vec<Range<usize>>,
    points: Vec<(tree_sitter::Point, tree_sitter::Point)>,
    trees: Vec<OnceCell<Option<Tree>>>,
}

impl<'a> FixContext<'a> {
    /// A context for `src`, with its whole `tree` when the caller has one.
    pub fn new(src: &'a str, tree: Option<&'a Tree>, module: &'a ModuleIndex) -> Self {
        Self {
            src,
            module,
            frames: Vec::new(),
            tree,
            blocks: OnceCell::new(),
            style: OnceCell::new(),
            islands: OnceCell::new(),
            non_code: OnceCell::new(),
        }
    }

    /// The same context, knowing the module's instances.
    pub fn with_frames(mut self, frames: &[std::sync::Arc<super::module::Frame>]) -> Self {
        self.frames = frames.to_vec();
        self
    }

    /// The same context, with the file's style already known (a caller
    /// that fixes the same text again keeps it: see [`Style::of`]).
    pub fn with_style(self, style: Style) -> Self {
        let _ = self.style.set(style);
        self
    }

    /// The file's indentation and line endings.
    pub(crate) fn style(&self) -> &Style {
        self.style.get_or_init(|| Style::of(self.src, self.tree))
    }

    /// The file's strings, heredocs and comments (sorted byte ranges).
    pub(crate) fn non_code(&self) -> &[Range<usize>] {
        self.non_code.get_or_init(|| crate::lex::non_code(self.src))
    }

    /// The resource block starting at `block_start` (an offset in the
    /// file), with the offset of the island it was parsed in.
    pub(crate) fn resource_at(
        &self,
        block_start: usize,
    ) -> Option<(usize, terraform::Resource<'_>)> {
        if self.tree.is_none()
            && let Some(blocks) = self.blocks.get_or_init(|| Blocks::of(self.src)).as_ref()
        {
            let i = blocks.ranges.partition_point(|r| r.end <= block_start);
            if let Some(tree) = blocks.tree(self.src, i) {
                return block_in(tree.root_node(), self.src, block_start).map(|r| (0, r));
            }
        }
        // The caller's tree, or the whole file parsed here when the blocks
        // do not do.
        let islands = self.islands.get_or_init(|| match self.tree {
            Some(tree) => terraform::islands(self.src, tree),
            None => terraform::islands_owned(self.src, crate::syntax::parse(self.src, None)),
        });
        for island in islands {
            let Some(local) = block_start.checked_sub(island.offset) else {
                continue;
            };
            if local > island.src.len() {
                continue;
            }
            if let Some(resource) = block_in(island.root(), island.src, local) {
                return Some((island.offset, resource));
            }
        }
        None
    }
}

impl Blocks {
    fn of(src: &str) -> Option<Self> {
        let ranges: Vec<Range<usize>> = crate::split::split(src)?
            .into_iter()
            .map(|item| item.range)
            .collect();
        // The points of every range's ends, in one pass over the text.
        let mut lines = crate::syntax::Points::new(src);
        let points = ranges
            .iter()
            .map(|r| (lines.at(r.start), lines.at(r.end)))
            .collect();
        let trees = ranges.iter().map(|_| OnceCell::new()).collect();
        Some(Self {
            ranges,
            points,
            trees,
        })
    }

    /// The tree of block `i`, parsed alone (with the file's offsets).
    fn tree(&self, src: &str, i: usize) -> Option<&Tree> {
        let range = self.ranges.get(i)?.clone();
        let (start, end) = self.points[i];
        self.trees[i]
            .get_or_init(|| crate::syntax::parse_stretch_at(src, range, start, end))
            .as_ref()
    }
}

/// The top-level resource block that starts at `at` in a tree of `src`.
fn block_in<'t>(
    root: tree_sitter::Node<'t>,
    src: &'t str,
    at: usize,
) -> Option<terraform::Resource<'t>> {
    let mut node = root.descendant_for_byte_range(at, at);
    while let Some(n) = node {
        if n.start_byte() != at {
            break;
        }
        // Findings name top-level resources only: the block that starts
        // there is the one.
        if n.kind() == "block"
            && let Some(resource) = terraform::resource_of(n, src)
        {
            return Some(resource);
        }
        node = n.parent();
    }
    None
}

/// One fix offered for a finding, without its edits (cheap to list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub title: String,
    pub preferred: bool,
    pub kind: OfferKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// `var.subnet_ids` and friends.
    Variables,
    /// The module's own subnets and security group.
    Resources,
    /// A suppression comment with a reason to fill in.
    Suppress,
}

/// The fixes offered for one finding, by title, without their edits: the
/// rule's own, then a suppression with a reason when one applies.
pub fn offers_for(finding: &Finding, ctx: &FixContext<'_>) -> Vec<Offer> {
    let mut offers = rules::by_id(finding.rule)
        .map(|rule| rule.offers(finding, ctx))
        .unwrap_or_default();
    if suppression::suppressible(&finding.problem) {
        offers.push(Offer {
            title: "Suppress with a reason…".to_owned(),
            preferred: false,
            kind: OfferKind::Suppress,
        });
    }
    offers
}

/// The edits of one offer (`None` when it cannot be applied here: a block
/// that does not parse cleanly, text inside a string).
pub fn fix_for(finding: &Finding, ctx: &FixContext<'_>, offer: &Offer) -> Option<Fix> {
    match offer.kind {
        OfferKind::Suppress => suppression::suppression_fix(finding, ctx),
        _ => rules::by_id(finding.rule)?.fix(finding, ctx, offer),
    }
}

/// Every fix offered for one finding, with its edits.
pub fn fixes_for(finding: &Finding, ctx: &FixContext<'_>) -> Vec<Fix> {
    offers_for(finding, ctx)
        .iter()
        .filter_map(|offer| fix_for(finding, ctx, offer))
        .collect()
}

/// Can a change to the resource's own text fix it? (An empty value that
/// comes from a default or tfvars elsewhere cannot: the cause is there.)
pub fn fixable(problem: &Problem) -> bool {
    match problem {
        Problem::MissingVpcConfig | Problem::MissingAttribute { .. } => true,
        Problem::EmptyValue { resolved, .. } => !resolved,
        _ => false,
    }
}

/// Adds `edits` of `path` to `elsewhere`, dropping any that repeats or
/// overlaps one already there (two findings can ask for the same change).
pub(crate) fn merge_elsewhere(
    elsewhere: &mut Vec<(std::path::PathBuf, Vec<TextEdit>)>,
    path: &std::path::Path,
    edits: Vec<TextEdit>,
) {
    let slot = match elsewhere.iter().position(|(p, _)| p == path) {
        Some(i) => &mut elsewhere[i].1,
        None => {
            elsewhere.push((path.to_path_buf(), Vec::new()));
            &mut elsewhere.last_mut().expect("just pushed").1
        }
    };
    merge_edits(slot, edits);
}

/// Adds `edits` to `into` (kept sorted), dropping repeats and overlaps.
pub(crate) fn merge_edits(into: &mut Vec<TextEdit>, edits: Vec<TextEdit>) {
    for edit in edits {
        let clash = into.iter().any(|e| {
            *e == edit
                || (e.range.start < edit.range.end && edit.range.start < e.range.end)
                || (e.range.is_empty()
                    && edit.range.is_empty()
                    && e.range.start == edit.range.start
                    && e.new_text == edit.new_text)
        });
        if !clash {
            into.push(edit);
        }
    }
    into.sort_by_key(|e| (e.range.start, e.range.end));
}

/// Every preferred fix of `findings` (one file) merged into one fix, rule by
/// rule, or `None` when there is nothing to fix.
pub fn fix_all(findings: &[Finding], ctx: &FixContext<'_>) -> Option<Fix> {
    let mut merged: Option<Fix> = None;
    for rule in rules::RULES.iter() {
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.rule == rule.id() && f.suppressed.is_none())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let Some(fix) = rule.fix_all(&mine, ctx) else {
            continue;
        };
        match merged.as_mut() {
            None => merged = Some(fix),
            Some(all) => {
                all.title = "Fix all findings".to_owned();
                merge_edits(&mut all.edits, fix.edits);
                for v in fix.declare {
                    if !all.declare.iter().any(|d| d.name == v.name) {
                        all.declare.push(v);
                    }
                }
                all.resources.extend(fix.resources);
                for (path, edits) in fix.elsewhere {
                    merge_elsewhere(&mut all.elsewhere, &path, edits);
                }
            }
        }
    }
    if let Some(fix) = merged.as_mut() {
        fix.edits.sort_by_key(|e| (e.range.start, e.range.end));
    }
    merged
}
