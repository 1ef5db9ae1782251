//! The rules, and what a rule is.
//!
//! A rule is one file in this folder: a [`RuleDoc`] (its id, default
//! severity, title, why it matters, the matching AWS Config / Powerpipe /
//! Prowler ids), a check over one resource as Terraform sees it (overrides
//! merged, values resolved in one module instance), and an `explain` that
//! says where a resource stands (what hover shows). Adding a rule is one
//! file, one line in [`RULES`], and fixtures.

use std::path::Path;

use crate::finding::{Finding, Related, ResourceRef, Severity};
use crate::fix::{Fix, FixContext, Offer};
use crate::hir::{Block, Span};
use crate::module::{Frame, Merged};
use crate::suppress::Date;

pub mod endpoint_stale_model;
#[cfg(test)]
mod example;
pub mod model_replacement;
pub mod network;
pub mod sagemaker_model_in_vpc;

/// What a rule documents about itself (the README, hover and `--help` of
/// the rule list come from here).
#[derive(Debug)]
pub struct RuleDoc {
    pub id: &'static str,
    pub title: &'static str,
    pub default_severity: Severity,
    /// Why it matters, in one paragraph of Markdown.
    pub why: &'static str,
    pub aws_config: Option<&'static str>,
    pub powerpipe: Option<&'static str>,
    pub prowler: Option<&'static str>,
    pub docs_url: &'static str,
    /// `check` reports it only when `--select` names it (the editor shows
    /// it at its severity, a hint).
    pub opt_in: bool,
}

/// Where a resource is analyzed: which module instance resolves its values,
/// and which file findings are reported in.
pub struct Context<'a> {
    pub frame: &'a Frame,
    /// The analyzed file: findings elsewhere are reported with that file.
    pub path: &'a Path,
    /// Suppressions expire against this date.
    pub today: Date,
    /// Honour suppression comments (`check --no-suppress` turns this off).
    pub suppressions: bool,
}

/// One resource to check: the block of the analyzed file, and the resource
/// it is part of after override files are merged.
pub struct Target<'a> {
    pub block: &'a Block,
    pub merged: Merged<'a>,
    /// The frame `merged` was found in.
    frame: &'a Frame,
    /// The model's placement ([`crate::network::placement`]), once a rule
    /// asked for it: four rules read it, and each evaluated it again.
    placement: std::cell::OnceCell<Option<crate::network::Placement<'a>>>,
}

impl<'a> Target<'a> {
    /// The resource of `block` as `frame` merges it (`merged`).
    pub fn new(block: &'a Block, merged: Merged<'a>, frame: &'a Frame) -> Self {
        Self {
            block,
            merged,
            frame,
            placement: std::cell::OnceCell::new(),
        }
    }

    /// The frame the resource was merged in.
    pub(crate) fn frame(&self) -> &'a Frame {
        self.frame
    }

    /// The model's subnets, when every one of them is certainly known
    /// ([`crate::network::placement`] in the target's frame).
    pub(crate) fn placement(&self) -> Option<&crate::network::Placement<'a>> {
        self.placement
            .get_or_init(|| crate::network::placement(&self.merged, self.frame))
            .as_ref()
    }
}

impl Target<'_> {
    /// `TYPE.NAME`.
    pub fn address(&self) -> String {
        let (kind, name) = self.block.resource_address().unwrap_or(("", ""));
        format!("{kind}.{name}")
    }

    pub fn resource_ref(&self) -> ResourceRef {
        let (kind, name) = self.block.resource_address().unwrap_or(("", ""));
        ResourceRef {
            kind: kind.into(),
            name: name.into(),
            block: self.block.span.clone(),
            header: self.block.header(),
        }
    }
}

/// What a rule says about one resource for hover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub rule: &'static str,
    /// Markdown.
    pub markdown: String,
    /// The span the explanation is about (in the analyzed file).
    pub span: Span,
}

pub trait Rule: Sync {
    fn doc(&self) -> &'static RuleDoc;

    fn id(&self) -> &'static str {
        self.doc().id
    }

    /// Checks one resource, appending findings located in `ctx.path`.
    fn check(&self, target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>);

    /// The resource types this rule checks. A folder whose files mention
    /// none of them (see [`may_apply`]) cannot have findings of this rule
    /// and is not parsed by `check`. Empty: any resource (never skipped).
    fn resource_types(&self) -> &'static [&'static str];

    /// The resource types whose blocks this rule reads when it checks
    /// another resource (an edit to one of them re-checks every resource).
    fn reads_resources(&self) -> &'static [&'static str] {
        &[]
    }

    /// What hover shows at `offset` of the analyzed file, if this rule has
    /// something to say about this resource there.
    fn explain(
        &self,
        _target: &Target<'_>,
        _ctx: &Context<'_>,
        _offset: usize,
    ) -> Option<Explanation> {
        None
    }

    /// The fixes of one of this rule's findings, by title (cheap: no
    /// edits). A suppression is offered for every rule, not here.
    fn offers(&self, _finding: &Finding, _ctx: &FixContext<'_>) -> Vec<Offer> {
        Vec::new()
    }

    /// The edits of one of [`Rule::offers`].
    fn fix(&self, _finding: &Finding, _ctx: &FixContext<'_>, _offer: &Offer) -> Option<Fix> {
        None
    }

    /// Every preferred fix of this rule's findings in one file, merged.
    fn fix_all(&self, _findings: &[&Finding], _ctx: &FixContext<'_>) -> Option<Fix> {
        None
    }
}

/// Every rule, in the order their findings are produced.
pub static RULES: &[&dyn Rule] = &[
    &sagemaker_model_in_vpc::SagemakerModelInVpc,
    &network::endpoints::RULE,
    &network::egress::RULE,
    &network::dns::RULE,
    &network::az_spread::RULE,
    &network::public_subnet::RULE,
    &endpoint_stale_model::EndpointStaleModel,
    &model_replacement::ModelReplacement,
    #[cfg(test)]
    &example::ExampleRule,
];

/// The resource types of `types` over every rule, once each.
fn types_of(types: fn(&dyn Rule) -> &'static [&'static str]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = RULES
        .iter()
        .flat_map(|r| types(*r).iter().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The resource types some rule reads across resources.
pub fn shared_resource_types() -> &'static [&'static str] {
    static TYPES: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| types_of(|r| r.reads_resources()));
    &TYPES
}

/// The resource types some rule names as the ones it checks (a rule that
/// checks any resource names none; see [`checked_type`]).
pub fn checked_types() -> &'static [&'static str] {
    static TYPES: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| types_of(|r| r.resource_types()));
    &TYPES
}

/// Whether a file with this text could hold a finding of any rule (or a
/// suppression comment, which is checked too). Conservative: an escape
/// (`\u005f`) could spell a resource type, so any `\u`/`\U` counts.
pub fn may_apply(text: &str) -> bool {
    text.contains(crate::suppress::DIRECTIVE)
        || text.contains("\\u")
        || text.contains("\\U")
        || RULES.iter().any(|r| {
            let types = r.resource_types();
            types.is_empty() || types.iter().any(|t| text.contains(t))
        })
}

/// Whether `finding` is shown when the rules `enabled` accepts are: those
/// of an enabled rule, and a resource that could not be checked
/// (`Problem::NotChecked`) whenever an enabled rule checks its type — it
/// was not checked by that rule either — and a module call not followed
/// (`Problem::NotFollowed`) whenever any rule is enabled.
pub fn reported(finding: &Finding, enabled: &dyn Fn(&str) -> bool) -> bool {
    enabled(finding.rule)
        || match finding.problem {
            crate::finding::Problem::NotChecked => RULES.iter().any(|r| {
                enabled(r.id()) && r.resource_types().contains(&finding.resource.kind.as_str())
            }),
            // A module may declare what any rule checks.
            crate::finding::Problem::NotFollowed => RULES.iter().any(|r| enabled(r.id())),
            _ => false,
        }
}

/// Whether some rule checks resources of this type.
pub fn checked_type(kind: &str) -> bool {
    checked_types().contains(&kind) || RULES.iter().any(|r| r.resource_types().is_empty())
}

/// Whether findings can depend on a top-level block of this type and first
/// label (`None`: unknown): the resources rules check or read, and the
/// variables, locals and module calls values come from. Data sources and
/// other resources only ever evaluate to unknown values.
pub fn read_for_findings(kind: &str, label: Option<&str>) -> bool {
    match kind {
        "variable" | "locals" | "module" => true,
        "resource" => label.is_none_or(|t| {
            RULES.iter().any(|r| {
                r.resource_types().is_empty()
                    || r.resource_types().contains(&t)
                    || r.reads_resources().contains(&t)
            })
        }),
        _ => false,
    }
}

/// The ids a suppression comment may name.
pub fn rule_ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id()).collect()
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.id() == id)
}

/// Builds findings for one target, keeping only those in the analyzed file.
pub(crate) struct Reporter<'a, 'o> {
    pub ctx: &'a Context<'a>,
    pub rule: &'static RuleDoc,
    pub resource: ResourceRef,
    pub out: &'o mut Vec<Finding>,
    /// Keep findings of every file (for a verdict), not only the analyzed
    /// file's.
    pub everywhere: bool,
}

impl Reporter<'_, '_> {
    /// A related location, `path: None` when it is in the analyzed file.
    pub fn related(&self, path: &Path, range: Span, message: String, cause: bool) -> Related {
        Related {
            path: (path != self.ctx.path).then(|| path.to_path_buf()),
            range,
            message: message.into(),
            cause,
        }
    }

    /// Reports a finding located at `range` of `path` — if that is the
    /// analyzed file (the other files report their own).
    pub fn report(
        &mut self,
        path: &Path,
        range: Span,
        message: String,
        problem: crate::finding::Problem,
        related: Vec<Related>,
    ) {
        if path != self.ctx.path && !self.everywhere {
            return;
        }
        let severity = match problem {
            crate::finding::Problem::NotChecked => Severity::Hint,
            _ => self.rule.default_severity,
        };
        self.out.push(Finding {
            rule: self.rule.id,
            severity,
            range,
            message: message.into(),
            resource: self.resource.clone(),
            problem,
            related,
            suppressed: None,
        });
    }
}
