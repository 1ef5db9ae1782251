//! What the analysis reports: findings with byte ranges, never protocol types.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How serious a finding is. The default for every rule is `Warning`; the
/// front ends may override it from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    #[default]
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "information" | "info" => Some(Severity::Information),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
}

/// The two arguments of `vpc_config` the control requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VpcAttribute {
    SecurityGroupIds,
    Subnets,
}

impl VpcAttribute {
    pub(crate) const ALL: [VpcAttribute; 2] =
        [VpcAttribute::SecurityGroupIds, VpcAttribute::Subnets];

    /// The argument's name in Terraform.
    pub fn name(self) -> &'static str {
        match self {
            VpcAttribute::SecurityGroupIds => "security_group_ids",
            VpcAttribute::Subnets => "subnets",
        }
    }

    /// What one value of the argument is, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            VpcAttribute::SecurityGroupIds => "security group id",
            VpcAttribute::Subnets => "private subnet id",
        }
    }
}

/// Why a value counts as empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emptiness {
    /// `[]`, possibly through functions or conditionals whose every outcome is `[]`.
    EmptyList,
    /// `null`: the same as leaving the argument out.
    Null,
    /// Only `""` or `null` elements, which the AWS API rejects.
    BlankElements,
}

/// The kind of problem a finding reports, with what a fix needs to find its
/// place in the text again (byte offsets into the analyzed file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The model has no `vpc_config` block.
    MissingVpcConfig,
    /// `vpc_config` lacks one of its two arguments.
    MissingAttribute {
        attribute: VpcAttribute,
        /// The `vpc_config` block.
        vpc_config: Range<usize>,
    },
    /// An argument's value is certainly empty.
    EmptyValue {
        attribute: VpcAttribute,
        /// The value expression.
        value: Range<usize>,
        emptiness: Emptiness,
        /// The `vpc_config` block holding the argument.
        vpc_config: Range<usize>,
        /// The emptiness comes from a definition elsewhere (a variable's
        /// default, tfvars, a local): fixing the value here is not the fix.
        resolved: bool,
    },
    /// A `dynamic "vpc_config"` whose `for_each` is certainly empty, and no
    /// other `vpc_config`: the model gets none.
    EmptyForEach {
        /// The `dynamic` block.
        dynamic: Range<usize>,
    },
    /// More than one `vpc_config` (the provider allows one).
    DuplicateVpcConfig {
        /// The extra block.
        block: Range<usize>,
    },
    /// A model that passes the control but is certain to fail at deploy,
    /// or to keep serving from where it was (the pitfall rules): the cause
    /// is elsewhere, in the network or the serving chain, and the rule
    /// recomputes it for a fix.
    Pitfall,
    /// The resource could not be checked: its block (or an override of
    /// it) has syntax errors, so what it declares is not known. Not a
    /// violation but the absence of a verdict: the editor shows it as a
    /// hint whatever the configured severity, `check` names it and exits 2.
    NotChecked,
    /// A `module` call that cannot be followed — a source (registry, git,
    /// …) `terraform init` has not installed, a local folder that is not
    /// there, no source or one Terraform does not take: what it declares
    /// was not checked. Its resource is the call (`module.NAME`). A hint in
    /// the editor; `check` names it without changing the exit code.
    NotFollowed,
    /// A suppression comment that suppresses nothing: no reason, unknown
    /// rule, bad date.
    InvalidSuppression,
    /// A suppression past its expiry date: the finding is back.
    ExpiredSuppression,
}

impl Problem {
    /// No verdict rather than a violation (not checked, not followed): kept
    /// a hint whatever the configured severity, shown while any rule is.
    pub fn is_no_verdict(&self) -> bool {
        matches!(self, Problem::NotChecked | Problem::NotFollowed)
    }

    /// The `vpc_config` argument the problem is about, if it is about one.
    pub fn attribute(&self) -> Option<VpcAttribute> {
        match self {
            Problem::MissingAttribute { attribute, .. } | Problem::EmptyValue { attribute, .. } => {
                Some(*attribute)
            }
            _ => None,
        }
    }

    /// A short label: `missing vpc_config`, `empty subnets (EmptyList, resolved)`.
    pub fn summary(&self) -> String {
        match self {
            Problem::MissingVpcConfig => "missing vpc_config".to_owned(),
            Problem::MissingAttribute { attribute, .. } => format!("missing {}", attribute.name()),
            Problem::EmptyValue {
                attribute,
                emptiness,
                resolved,
                ..
            } => format!(
                "empty {} ({emptiness:?}{})",
                attribute.name(),
                if *resolved { ", resolved" } else { "" }
            ),
            Problem::EmptyForEach { .. } => "empty for_each".to_owned(),
            Problem::DuplicateVpcConfig { .. } => "duplicate vpc_config".to_owned(),
            Problem::Pitfall => "deployment pitfall".to_owned(),
            Problem::NotChecked => "not checked".to_owned(),
            Problem::NotFollowed => "not followed".to_owned(),
            Problem::InvalidSuppression => "invalid suppression".to_owned(),
            Problem::ExpiredSuppression => "expired suppression".to_owned(),
        }
    }
}

/// A secondary location that explains a finding (the model's header, the
/// variable default that made a value empty, …). `path: None` is the same file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub path: Option<std::path::PathBuf>,
    pub range: Range<usize>,
    pub message: crate::hir::Name,
    /// A cause (the definition that made a value empty) rather than a
    /// pointer back to the resource; the CLI prints causes as notes.
    pub cause: bool,
}

/// A Terraform resource address and where its block is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: crate::hir::Name,
    pub name: crate::hir::Name,
    /// The whole `resource … { … }` block.
    pub block: Range<usize>,
    /// `resource "TYPE" "NAME"`.
    pub header: Range<usize>,
}

/// `TYPE.NAME`, as Terraform addresses the resource.
impl std::fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

impl ResourceRef {
    /// `TYPE.NAME`, as Terraform addresses the resource.
    pub fn address(&self) -> String {
        self.to_string()
    }
}

/// One violation of a rule at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// Byte range in the analyzed file.
    pub range: Range<usize>,
    pub message: crate::hir::Name,
    pub resource: ResourceRef,
    pub problem: Problem,
    pub related: Vec<Related>,
    /// The reason of the suppression comment that accepts this finding;
    /// suppressed findings are counted, not reported.
    pub suppressed: Option<crate::hir::Name>,
}

impl Finding {
    /// The same finding, its text held in memory this thread allocates.
    ///
    /// A finding made on a worker thread lives in that thread's allocator
    /// arena, between the lowered blocks and trees the worker freed; a
    /// million of them kept every hole in between resident (a check of
    /// 100 MB of models: 0.90 GB against 0.67 GB when they are copied to
    /// the thread that keeps them).
    pub fn rehomed(self) -> Self {
        let name = |n: crate::hir::Name| crate::hir::Name::new(n.as_str());
        Self {
            message: name(self.message),
            resource: ResourceRef {
                kind: name(self.resource.kind),
                name: name(self.resource.name),
                ..self.resource
            },
            // Not collected in place: that would keep the worker's list.
            related: crate::batch::exact(self.related.into_iter().map(|r| Related {
                path: r.path.map(|p| p.as_path().to_owned()),
                message: name(r.message),
                ..r
            })),
            suppressed: self.suppressed.map(name),
            ..self
        }
    }

    /// Follows an edit of its file that replaced `start..old_end` with text
    /// `delta` bytes longer, the finding's block untouched by it (`moved`:
    /// the block is after the edit). The finding's own places move with its
    /// block; a related place in this file (in another block, maybe) moves
    /// if it is after the edit and stays if it is before. False if a related
    /// place overlaps the edit: the finding must be made again.
    pub(crate) fn follow_edit(
        &mut self,
        start: usize,
        old_end: usize,
        delta: isize,
        moved: bool,
    ) -> bool {
        let stays = |r: &Related| r.path.is_some() || r.range.end <= start;
        let moves = |r: &Related| !stays(r) && r.range.start >= old_end;
        if !self.related.iter().all(|r| stays(r) || moves(r)) {
            return false;
        }
        if moved {
            self.shift(delta);
        }
        for related in self.related.iter_mut().filter(|r| moves(r)) {
            related.range = shifted(&related.range, delta);
        }
        true
    }

    /// Moves the finding's own places (not its related ones) by `delta`.
    fn shift(&mut self, delta: isize) {
        self.own_places(|r| *r = shifted(r, delta));
    }

    /// Visits the finding's own places, all in its block.
    fn own_places(&mut self, mut visit: impl FnMut(&mut Range<usize>)) {
        visit(&mut self.range);
        visit(&mut self.resource.block);
        visit(&mut self.resource.header);
        match &mut self.problem {
            Problem::MissingVpcConfig => {}
            Problem::MissingAttribute { vpc_config, .. } => visit(vpc_config),
            Problem::EmptyValue {
                value, vpc_config, ..
            } => {
                visit(value);
                visit(vpc_config);
            }
            Problem::EmptyForEach { dynamic } => visit(dynamic),
            Problem::DuplicateVpcConfig { block } => visit(block),
            Problem::Pitfall
            | Problem::NotChecked
            | Problem::NotFollowed
            | Problem::InvalidSuppression
            | Problem::ExpiredSuppression => {}
        }
    }

    /// Visits every place of the finding in its file: its own and its
    /// related places there.
    fn places_in_file(&mut self, mut visit: impl FnMut(&mut Range<usize>)) {
        self.own_places(&mut visit);
        self.related
            .iter_mut()
            .filter(|r| r.path.is_none())
            .for_each(|r| visit(&mut r.range));
    }
}

fn shifted(r: &Range<usize>, delta: isize) -> Range<usize> {
    r.start.saturating_add_signed(delta)..r.end.saturating_add_signed(delta)
}

/// Findings held in runs (a top-level block's, say) that an edit before
/// them moves without copying: a run is shared, as it was made, with the
/// cache that made it and with every analysis that reported it, and says
/// how far it moved since (see `incremental::Incremental`).
#[derive(Debug, Clone, Default)]
pub struct Findings {
    runs: Vec<Run>,
    len: usize,
}

/// Findings as made, and how far (in bytes) every place of theirs in their
/// file moved since.
#[derive(Debug, Clone)]
pub struct Run {
    findings: Arc<[Finding]>,
    moved: isize,
    /// The smallest range holding every place of theirs in their file, as
    /// made.
    span: Range<usize>,
    /// One of them is suppressed: a publish leaves it out.
    suppressed: bool,
}

impl Run {
    /// A run of findings where they are; `None` for none.
    pub fn new(mut findings: Vec<Finding>) -> Option<Self> {
        let (mut lo, mut hi) = (usize::MAX, 0);
        for f in &mut findings {
            f.places_in_file(|r| {
                lo = lo.min(r.start);
                hi = hi.max(r.end);
            });
        }
        (!findings.is_empty()).then(|| Self {
            suppressed: findings.iter().any(|f| f.suppressed.is_some()),
            findings: Arc::from(findings),
            moved: 0,
            span: lo.min(hi)..hi,
        })
    }

    /// Moves every place of the findings `delta` bytes further (no copy).
    pub fn move_by(&mut self, delta: isize) {
        self.moved += delta;
    }

    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// The count of its findings' owners, which a clone or a drop updates
    /// (see [`crate::owners`]).
    pub(crate) fn owners(&self) -> usize {
        Arc::strong_count(&self.findings)
    }

    /// The two hold the same findings as made, in the same memory.
    pub fn shares(&self, other: &Run) -> bool {
        Arc::ptr_eq(&self.findings, &other.findings)
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Placed<'_>> + '_ {
        (0..self.findings.len()).map(|index| Placed { run: self, index })
    }

    /// The findings where they are now (copies, when the run moved).
    pub fn to_vec(&self) -> Vec<Finding> {
        self.iter().map(|p| p.to_finding()).collect()
    }

    /// The smallest range holding every place of the run in its file.
    pub fn span(&self) -> Range<usize> {
        shifted(&self.span, self.moved)
    }
}

/// A finding of a [`Run`]: as made, and how far its places moved since.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    run: &'a Run,
    index: usize,
}

/// Which finding, as made, a [`Placed`] is. It keeps its run's memory, so
/// a `Made` is a finding's only while that finding is alive: same `Made`,
/// same finding (what it says; where it is may have moved).
#[derive(Debug, Clone)]
pub struct Made {
    findings: Arc<[Finding]>,
    index: usize,
}

impl Made {
    /// `placed` is this finding.
    pub fn is(&self, placed: &Placed<'_>) -> bool {
        Arc::ptr_eq(&self.findings, &placed.run.findings) && self.index == placed.index
    }
}

impl<'a> Placed<'a> {
    /// Which finding it is.
    pub fn made(&self) -> Made {
        Made {
            findings: Arc::clone(&self.run.findings),
            index: self.index,
        }
    }

    /// The finding as it was made: what it says is as now, but its places
    /// are where they were, [`Placed::moved`] bytes ago (read them through
    /// [`Placed::range`] or [`Placed::to_finding`]).
    pub fn as_made(&self) -> &'a Finding {
        &self.run.findings[self.index]
    }

    /// How far its places in its file moved since it was made.
    pub fn moved(&self) -> isize {
        self.run.moved
    }

    /// Where the finding is now.
    pub fn range(&self) -> Range<usize> {
        shifted(&self.as_made().range, self.run.moved)
    }

    /// The finding where it is now: a copy, moved.
    pub fn to_finding(&self) -> Finding {
        let mut f = self.as_made().clone();
        if self.run.moved != 0 {
            f.places_in_file(|r| *r = shifted(r, self.run.moved));
        }
        f
    }
}

impl Findings {
    pub fn new(runs: Vec<Run>) -> Self {
        let len = runs.iter().map(Run::len).sum();
        Self { runs, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// Every finding, in order.
    pub fn iter(&self) -> impl Iterator<Item = Placed<'_>> + '_ {
        self.runs.iter().flat_map(Run::iter)
    }

    /// The findings where they are now.
    pub fn to_vec(&self) -> Vec<Finding> {
        self.iter().map(|p| p.to_finding()).collect()
    }

    /// Those not suppressed; a run without a suppressed finding is kept,
    /// not copied.
    pub fn unsuppressed(mut self) -> Self {
        // Runs without a suppressed finding are kept as they are; which
        // they are is known without reading their findings.
        let mut runs = std::mem::take(&mut self.runs);
        if runs.iter().any(|run| run.suppressed) {
            runs = runs
                .into_iter()
                .filter_map(|run| match run.suppressed {
                    false => Some(run),
                    true => Run::new(
                        run.findings
                            .iter()
                            .filter(|f| f.suppressed.is_none())
                            .cloned()
                            .collect(),
                    )
                    .map(|mut kept| {
                        kept.move_by(run.moved);
                        kept
                    }),
                })
                .collect();
        }
        Self::new(runs)
    }
}

/// Dropped reading ahead (an analysis of a large document holds thousands
/// of runs).
impl Drop for Findings {
    fn drop(&mut self) {
        crate::owners::drop_all(std::mem::take(&mut self.runs), Run::owners);
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(findings: Vec<Finding>) -> Self {
        Self::new(Run::new(findings).into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hir::Name;

    fn at(range: Range<usize>, suppressed: bool) -> Finding {
        Finding {
            rule: "sagemaker_model_in_vpc",
            severity: Severity::Warning,
            range: range.clone(),
            message: Name::new("outside a VPC"),
            resource: ResourceRef {
                kind: Name::new("aws_sagemaker_model"),
                name: Name::new("m"),
                block: range.clone(),
                header: range,
            },
            problem: Problem::MissingVpcConfig,
            related: Vec::new(),
            suppressed: suppressed.then(|| Name::new("accepted")),
        }
    }

    /// A publish leaves out suppressed findings, in order, where they now
    /// are; a run without one is shared, not copied.
    #[test]
    fn unsuppressed_findings_keep_their_order_and_places() {
        let mut runs: Vec<Run> = [
            vec![at(0..5, false)],
            vec![at(10..15, false), at(16..20, true), at(21..25, false)],
            vec![at(30..35, true)],
            vec![at(40..45, false)],
        ]
        .into_iter()
        .map(|f| Run::new(f).unwrap())
        .collect();
        for run in &mut runs[1..] {
            run.move_by(100);
        }
        let findings = Findings::new(runs);
        let kept = findings.clone().unsuppressed();
        let places: Vec<Range<usize>> = kept.to_vec().into_iter().map(|f| f.range).collect();
        assert_eq!(places, [0..5, 110..115, 121..125, 140..145]);
        assert_eq!(kept.len(), 4);
        assert!(kept.runs()[0].shares(&findings.runs()[0]));
        assert!(kept.runs()[2].shares(&findings.runs()[3]));
        assert!(!kept.runs()[1].shares(&findings.runs()[1]));
        assert!(kept.iter().all(|f| f.to_finding().suppressed.is_none()));
    }

    /// Rehomed, a finding says the same, from text of its own.
    #[test]
    fn a_rehomed_finding_is_equal_and_holds_its_own_text() {
        let long = |s: &str| Name::new(format!("{s} long enough not to be held inline"));
        let finding = Finding {
            rule: "sagemaker_model_in_vpc",
            severity: Severity::Warning,
            range: 10..20,
            message: long("message"),
            resource: ResourceRef {
                kind: long("aws_sagemaker_model"),
                name: long("name"),
                block: 0..30,
                header: 0..9,
            },
            problem: Problem::MissingVpcConfig,
            related: vec![Related {
                path: Some("other.tf".into()),
                range: 1..2,
                message: long("related"),
                cause: true,
            }],
            suppressed: Some(long("reason")),
        };
        let rehomed = finding.clone().rehomed();
        assert_eq!(rehomed, finding);
        let text = |n: &Name| n.as_str().as_ptr();
        assert_ne!(text(&rehomed.message), text(&finding.message));
        assert_ne!(text(&rehomed.resource.kind), text(&finding.resource.kind));
        assert_ne!(text(&rehomed.resource.name), text(&finding.resource.name));
        assert_ne!(
            text(&rehomed.related[0].message),
            text(&finding.related[0].message)
        );
        let suppressed = |f: &Finding| text(f.suppressed.as_ref().unwrap());
        assert_ne!(suppressed(&rehomed), suppressed(&finding));
    }
}
