//! `sagemaker_model_in_vpc`: every `aws_sagemaker_model` has a `vpc_config`
//! block whose `security_group_ids` and `subnets` each hold at least one value
//! (AWS Config `SAGEMAKER_MODEL_IN_VPC`).
//!
//! Only what is certain is reported. The facts of a model (overrides merged,
//! values resolved in one module instance) are read into one syntax-free
//! [`ModelFacts`], and [`decide`] judges them:
//!
//! * `count`/`for_each` certainly create no instance: nothing to report (a
//!   root module's variables are not trusted here, see
//!   [`crate::module::ModuleScope::literal`]);
//! * no `vpc_config` (static or `dynamic`): one finding on the header;
//! * more than one `vpc_config` that certainly exists (two static, or a
//!   `dynamic` one whose `for_each` has several elements): a finding on each
//!   extra block. A `dynamic` block whose `for_each` is unknown may render
//!   nothing, so it never makes a duplicate;
//! * `dynamic "vpc_config"` blocks only, all over a certainly empty
//!   `for_each`: a finding on `for_each`;
//! * in each `vpc_config` that exists (a `dynamic` one once per element of its
//!   `for_each`, with its iterator bound): a missing argument (only when the
//!   block parsed cleanly), or a value certainly empty — literally, or
//!   through variables, tfvars, locals, module arguments or the iterator, in
//!   which case the finding covers the attribute and points at them.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

mod fix;

use super::{Context, Explanation, Reporter, Rule, RuleDoc, Target};
use crate::eval::{self, Origin, OriginKind, Scope, Value, Verdict, WithRoots};
use crate::finding::{Emptiness, Finding, Problem, Related, Severity, VpcAttribute};
use crate::fix::{Fix, FixContext, Offer};
use crate::hir::{Block, Body, Expr, ExprKind, Span};
use crate::module::{FileFacts, Merged, ModuleIndex, ModuleScope};

pub(crate) const ID: &str = "sagemaker_model_in_vpc";
pub(crate) const RESOURCE_TYPE: &str = "aws_sagemaker_model";
pub(crate) const BLOCK: &str = "vpc_config";

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: ID,
    title: "SageMaker models should be in a VPC",
    default_severity: Severity::Warning,
    why: "Without `vpc_config` a model runs in AWS-managed network space: no security groups, \
          no VPC endpoints, and a misconfigured IAM policy becomes the only barrier between the \
          inference container and your data.",
    aws_config: Some("SAGEMAKER_MODEL_IN_VPC"),
    powerpipe: Some("aws_compliance.control.sagemaker_model_in_vpc"),
    prowler: Some("sagemaker_models_vpc_settings_configured"),
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

pub(crate) struct SagemakerModelInVpc;

impl Rule for SagemakerModelInVpc {
    fn doc(&self) -> &'static RuleDoc {
        &DOC
    }

    fn resource_types(&self) -> &'static [&'static str] {
        &[RESOURCE_TYPE]
    }

    fn check(&self, target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        if target.block.resource_address().map(|(t, _)| t) != Some(RESOURCE_TYPE) {
            return;
        }
        let facts = facts(target, ctx);
        let mut reporter = Reporter {
            ctx,
            rule: &DOC,
            resource: target.resource_ref(),
            out,
            everywhere: false,
        };
        decide(&facts, ctx, &mut reporter);
    }

    fn explain(
        &self,
        target: &Target<'_>,
        ctx: &Context<'_>,
        offset: usize,
    ) -> Option<Explanation> {
        if target.block.resource_address().map(|(t, _)| t) != Some(RESOURCE_TYPE) {
            return None;
        }
        let span = hovered(target.block, offset)?;
        let facts = facts(target, ctx);
        Some(Explanation {
            rule: ID,
            markdown: describe(target, &facts, &ctx.frame.index),
            span,
        })
    }

    fn offers(&self, finding: &Finding, ctx: &FixContext<'_>) -> Vec<Offer> {
        fix::offers(finding, ctx)
    }

    fn fix(&self, finding: &Finding, ctx: &FixContext<'_>, offer: &Offer) -> Option<Fix> {
        fix::fix(finding, ctx, offer)
    }

    fn fix_all(&self, findings: &[&Finding], ctx: &FixContext<'_>) -> Option<Fix> {
        fix::fix_all(findings, ctx)
    }
}

/// The model's type label, or the `vpc_config` block under `offset`.
fn hovered(block: &Block, offset: usize) -> Option<Span> {
    if let Some(label) = block.labels.first()
        && label.span.contains(&offset)
    {
        return Some(label.span.clone());
    }
    block
        .body
        .blocks
        .iter()
        .filter(|b| crate::module::effective_kind(b) == BLOCK)
        .map(|b| b.span.clone())
        .find(|s| s.contains(&offset))
}

/// What is known of one model, whatever syntax it was written in.
#[derive(Debug, Clone)]
pub(crate) struct ModelFacts {
    /// `count`/`for_each` say the resource is never created.
    pub never_created: bool,
    pub vpc: VpcState,
    /// The base block's header, where a missing `vpc_config` is reported.
    pub header: (PathBuf, Span),
    /// The header of an override block for the model that did not parse,
    /// which leaves it undecided.
    pub unreadable_override: Option<(PathBuf, Span)>,
}

#[derive(Debug, Clone)]
pub(crate) enum VpcState {
    /// Certainly no `vpc_config` of any kind.
    Absent,
    /// Nothing clean, but the model is being typed: nothing is certain.
    Undecided,
    Blocks(Vec<VpcBlock>),
}

/// A `vpc_config` block, or a `dynamic "vpc_config"`.
#[derive(Debug, Clone)]
pub(crate) struct VpcBlock {
    /// The file the block is in.
    pub path: PathBuf,
    /// The whole block (for a dynamic one, the `dynamic` block).
    pub range: Range<usize>,
    /// `vpc_config` (the identifier, the dynamic label, or the JSON key).
    pub ident: Range<usize>,
    /// Parsed without syntax errors: only then is a missing argument certain.
    pub clean: bool,
    pub dynamic: Option<ForEach>,
    /// The argument states of each block it renders: one for a static block,
    /// one per element of a known `for_each`, one (iterator unknown) when the
    /// `for_each` is unknown.
    pub renderings: Vec<Vec<(VpcAttribute, Argument)>>,
}

/// The `for_each` of a `dynamic` block.
#[derive(Debug, Clone)]
pub(crate) struct ForEach {
    /// The `for_each` attribute, if written.
    pub range: Option<Range<usize>>,
    /// How many blocks it renders, when known.
    pub count: Option<usize>,
    pub trace: Vec<Origin>,
}

impl VpcBlock {
    /// How many blocks this certainly renders (`None`: not known).
    pub(crate) fn certain_count(&self) -> Option<usize> {
        match &self.dynamic {
            None => Some(1),
            Some(d) => d.count,
        }
    }
}

/// The state of `subnets` or `security_group_ids`.
#[derive(Debug, Clone)]
pub(crate) enum Argument {
    Missing,
    /// Written without a value yet (`subnets =` while typing).
    NoValue,
    Value {
        /// `name = value`.
        attribute: Range<usize>,
        /// `value`.
        expr: Range<usize>,
        verdict: Verdict,
        /// Definitions the value was resolved through (empty if literal).
        trace: Vec<Origin>,
        /// The expression as written, for hover.
        text: String,
    },
}

fn traced(scope: &dyn Scope, expr: &Expr) -> (Value, Vec<Origin>) {
    scope.begin_trace();
    let value = eval::eval(expr, scope, 0);
    (value, scope.take_trace())
}

fn argument(body: &Body, attribute: VpcAttribute, scope: &dyn Scope, file: &FileFacts) -> Argument {
    match body.attribute(attribute.name()) {
        None => Argument::Missing,
        Some(attr) => match &attr.value {
            None => Argument::NoValue,
            Some(expr) => {
                let (value, trace) = traced(scope, expr);
                Argument::Value {
                    attribute: attr.span.clone(),
                    expr: expr.span.clone(),
                    verdict: value.list_verdict(),
                    trace,
                    text: file
                        .text
                        .get(expr.span.clone())
                        .unwrap_or_default()
                        .to_owned(),
                }
            }
        },
    }
}

/// Does `expr` refer to the root name `name`?
fn refers_to(expr: &Expr, name: &str) -> bool {
    let mut found = false;
    expr.visit(&mut |e| {
        if let ExprKind::Variable(v) = &e.kind
            && v == name
        {
            found = true;
        }
    });
    found
}

fn vpc_block(file: &FileFacts, block: &Block, scope: &dyn Scope) -> VpcBlock {
    let arguments = |body: &Body, scope: &dyn Scope| -> Vec<(VpcAttribute, Argument)> {
        VpcAttribute::ALL
            .iter()
            .map(|a| (*a, argument(body, *a, scope, file)))
            .collect()
    };
    if block.kind != "dynamic" {
        return VpcBlock {
            path: file.path.clone(),
            range: block.span.clone(),
            ident: block.kind_span.clone(),
            clean: block.clean,
            dynamic: None,
            renderings: vec![arguments(&block.body, scope)],
        };
    }
    let ident = block
        .labels
        .first()
        .map_or(block.kind_span.clone(), |l| l.span.clone());
    let content = block.body.blocks_of("content").last();
    let iterator = block
        .body
        .attribute("iterator")
        .and_then(|a| a.value.as_ref())
        .and_then(|e| match &e.kind {
            ExprKind::Variable(name) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| BLOCK.to_owned().into());
    let for_each_attr = block.body.attribute("for_each");
    let (value, trace) = match for_each_attr.and_then(|a| a.value.as_ref()) {
        Some(expr) => traced(scope, expr),
        None => (Value::Unknown, Vec::new()),
    };
    let elements: Option<Vec<(Value, Value)>> = match value {
        Value::List(items) => Some(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
        ),
        Value::Map(items) => Some(
            items
                .into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect(),
        ),
        _ => None,
    };
    let for_each_range = for_each_attr.map(|a| a.span.clone());
    let iterator_origin = Origin {
        path: file.path.clone(),
        range: for_each_attr
            .and_then(|a| a.value.as_ref())
            .map_or(block.span.clone(), |e| e.span.clone()),
        what: format!("the for_each of the dynamic {BLOCK}"),
        kind: OriginKind::Iterator,
    };
    let render = |key: Value, element: Value| -> Vec<(VpcAttribute, Argument)> {
        let known = element.is_wholly_known();
        let object = if matches!(element, Value::Unknown) {
            Value::Unknown
        } else {
            Value::Map(BTreeMap::from([
                ("key".to_owned(), key),
                ("value".to_owned(), element),
            ]))
        };
        let with = WithRoots {
            inner: scope,
            roots: vec![(iterator.to_string(), object)],
        };
        let body = content.map(|c| &c.body).cloned().unwrap_or_default();
        let mut args = arguments(&body, &with);
        // A value taken from the iterator was resolved through for_each.
        for (attribute, arg) in &mut args {
            if let Argument::Value { trace, .. } = arg
                && known
                && body
                    .attribute(attribute.name())
                    .and_then(|a| a.value.as_ref())
                    .is_some_and(|e| refers_to(e, &iterator))
            {
                trace.push(iterator_origin.clone());
            }
        }
        args
    };
    let (count, renderings) = match elements {
        Some(elements) => {
            let n = elements.len();
            let renderings = elements.into_iter().map(|(k, v)| render(k, v)).collect();
            (Some(n), renderings)
        }
        None => (None, vec![render(Value::Unknown, Value::Unknown)]),
    };
    VpcBlock {
        path: file.path.clone(),
        range: block.span.clone(),
        ident,
        clean: block.clean && content.is_some_and(|c| c.clean),
        dynamic: Some(ForEach {
            range: for_each_range,
            count,
            trace,
        }),
        renderings,
    }
}

/// Where one model stands in one module instance, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// `count`/`for_each` certainly create no instance.
    NotCreated,
    /// A finding (in whichever file it is).
    NonCompliant,
    /// Every `vpc_config` that exists has subnets and security groups.
    Compliant,
    /// Neither is certain.
    Unknown,
}

/// The judgement of a model, and whether only the "may exist" policy kept
/// it from being not created (a root module variable decides its `count`).
pub(crate) fn judge(target: &Target<'_>, ctx: &Context<'_>) -> (Judgement, bool) {
    let facts = facts(target, ctx);
    let trusted_zero = crate::module::zero_instances(&target.merged, &ModuleScope::new(ctx.frame));
    if facts.never_created {
        return (Judgement::NotCreated, false);
    }
    let mut out = Vec::new();
    let mut reporter = Reporter {
        ctx,
        rule: &DOC,
        resource: target.resource_ref(),
        out: &mut out,
        everywhere: true,
    };
    decide(&facts, ctx, &mut reporter);
    if !out.is_empty() {
        return (Judgement::NonCompliant, trusted_zero);
    }
    let compliant = match &facts.vpc {
        VpcState::Blocks(blocks) => {
            let certain: usize = blocks.iter().filter_map(VpcBlock::certain_count).sum();
            certain == 1
                && blocks.iter().all(|b| b.certain_count().is_some())
                && blocks
                    .iter()
                    .flat_map(|b| &b.renderings)
                    .flatten()
                    .all(|(_, a)| {
                        matches!(
                            a,
                            Argument::Value {
                                verdict: Verdict::NonEmpty,
                                ..
                            }
                        )
                    })
        }
        _ => false,
    };
    let judgement = if compliant {
        Judgement::Compliant
    } else {
        Judgement::Unknown
    };
    (judgement, trusted_zero)
}

/// Reads a model as Terraform sees it in one module instance.
pub(crate) fn facts(target: &Target<'_>, ctx: &Context<'_>) -> ModelFacts {
    model_facts(&target.merged, ctx)
}

fn model_facts(merged: &Merged<'_>, ctx: &Context<'_>) -> ModelFacts {
    let never_created = crate::module::never_instantiated(ctx.frame, merged);
    let scope = ModuleScope::new(ctx.frame);
    let blocks: Vec<VpcBlock> = merged
        .blocks_of(BLOCK)
        .map(|(file, block)| vpc_block(file, block, &scope))
        .collect();
    let (base_file, base) = merged.base;
    let unreadable =
        |b: &Block| !b.closed || b.body.mentions_unparsed(BLOCK) || mislabels(b, BLOCK);
    let unreadable_override = merged
        .overrides
        .iter()
        .find(|(_, b)| unreadable(b))
        .map(|(file, b)| (file.path.clone(), b.header()));
    let vpc = if unreadable_override.is_some() {
        // An override file's block for this model that did not parse (or
        // whose keyword is misspelt) may replace its vpc_config with
        // anything: Terraform rejects that file.
        VpcState::Undecided
    } else if !blocks.is_empty() {
        VpcState::Blocks(blocks)
    } else if std::iter::once(base)
        .chain(merged.overrides.iter().map(|(_, b)| *b))
        .all(|b| !unreadable(b))
    {
        VpcState::Absent
    } else {
        VpcState::Undecided
    };
    ModelFacts {
        never_created,
        vpc,
        header: (base_file.path.clone(), base.header()),
        unreadable_override,
    }
}

/// Whether a nested block of `model` has `kind` among its labels: a word
/// typed on the line above `vpc_config {` (`resource`, `x`) makes clean
/// HCL that Terraform rejects (a block of type `resource` labelled
/// `vpc_config`), where a `vpc_config` was meant. (`dynamic "vpc_config"`
/// is read as what it is.)
fn mislabels(model: &crate::hir::Block, kind: &str) -> bool {
    model
        .body
        .blocks
        .iter()
        .any(|b| b.kind != "dynamic" && b.labels.iter().any(|l| l.value == kind))
}

// ------------------------------------------------------------------ verdict

fn origins(reporter: &Reporter<'_, '_>, trace: &[Origin]) -> Vec<Related> {
    trace
        .iter()
        .map(|o| {
            reporter.related(
                &o.path,
                o.range.clone(),
                format!("resolved through {}", o.what),
                true,
            )
        })
        .collect()
}

/// " in module.ml" when the value depends on the module instance.
fn instance_note(ctx: &Context<'_>, trace: &[Origin]) -> String {
    match ctx.frame.call_path() {
        Some(path) if trace.iter().any(|o| o.kind == OriginKind::Argument) => {
            format!(" (in {path})")
        }
        _ => String::new(),
    }
}

/// The findings for one model.
fn decide(facts: &ModelFacts, ctx: &Context<'_>, reporter: &mut Reporter<'_, '_>) {
    if facts.never_created {
        return;
    }
    let address = reporter.resource.address();
    let (header_path, header) = &facts.header;
    let declared_here = |r: &Reporter<'_, '_>| {
        r.related(
            header_path,
            header.clone(),
            format!("{address} is declared here"),
            false,
        )
    };

    let blocks = match &facts.vpc {
        VpcState::Undecided => {
            let (whose, related) = match &facts.unreadable_override {
                Some((path, range)) => (
                    format!(
                        "its block in {}",
                        path.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    vec![reporter.related(
                        path,
                        range.clone(),
                        format!("the override of {address}, which did not parse"),
                        true,
                    )],
                ),
                None => ("its block".to_owned(), Vec::new()),
            };
            reporter.report(
                header_path,
                header.clone(),
                format!(
                    "{address} was not checked: {whose} has syntax errors, so whether it runs \
                     in your VPC is not known (Terraform rejects the file as it is)"
                ),
                Problem::NotChecked,
                related,
            );
            return;
        }
        VpcState::Absent => {
            reporter.report(
                header_path,
                header.clone(),
                format!(
                    "{address} has no vpc_config block, so it runs outside your VPC: add vpc_config \
                     with at least one private subnet in subnets and one security group in \
                     security_group_ids"
                ),
                Problem::MissingVpcConfig,
                Vec::new(),
            );
            return;
        }
        VpcState::Blocks(blocks) => blocks,
    };

    let certain: usize = blocks.iter().filter_map(VpcBlock::certain_count).sum();
    let uncertain = blocks.iter().any(|b| b.certain_count().is_none());
    if certain == 0 && !uncertain {
        // Only dynamic blocks, all certainly empty: the model gets none.
        for block in blocks {
            if let Some(for_each) = &block.dynamic {
                let mut related = origins(reporter, &for_each.trace);
                related.push(declared_here(reporter));
                let note = instance_note(ctx, &for_each.trace);
                reporter.report(
                    &block.path,
                    for_each.range.clone().unwrap_or_else(|| block.ident.clone()),
                    format!(
                        "the dynamic vpc_config of {address} iterates over an empty for_each{note}, \
                         so the model gets no vpc_config and runs outside your VPC"
                    ),
                    Problem::EmptyForEach {
                        dynamic: block.range.clone(),
                    },
                    related,
                );
            }
        }
        return;
    }
    // Duplicates: only blocks that certainly exist count.
    let mut instances: Vec<&VpcBlock> = Vec::new();
    for block in blocks {
        for _ in 0..block.certain_count().unwrap_or(0) {
            instances.push(block);
        }
    }
    if let Some(first) = instances.first().copied() {
        let mut reported: Vec<&Span> = Vec::new();
        for extra in instances.iter().skip(1).copied() {
            if reported.contains(&&extra.ident) {
                continue;
            }
            reported.push(&extra.ident);
            let message = if std::ptr::eq(first, extra) {
                format!(
                    "the dynamic vpc_config of {address} renders more than one vpc_config block; \
                     the AWS provider allows one"
                )
            } else {
                format!(
                    "{address} has more than one vpc_config block; the AWS provider allows one: \
                     merge them"
                )
            };
            let related = vec![reporter.related(
                &first.path,
                first.ident.clone(),
                "the first vpc_config".to_owned(),
                false,
            )];
            reporter.report(
                &extra.path,
                extra.ident.clone(),
                message,
                Problem::DuplicateVpcConfig {
                    block: extra.range.clone(),
                },
                related,
            );
        }
    }
    // The arguments of every block that exists; with no certain block, those
    // of blocks that may exist (rendered or not, the model is out of its VPC).
    let mut reported: Vec<(Span, VpcAttribute)> = Vec::new();
    for block in blocks {
        match block.certain_count() {
            Some(0) => continue,
            None if certain > 0 => continue,
            _ => {}
        }
        let which = if block.dynamic.is_some() {
            "the dynamic vpc_config"
        } else {
            "vpc_config"
        };
        for rendering in &block.renderings {
            for (attribute, argument) in rendering {
                let (name, noun) = (attribute.name(), attribute.noun());
                match argument {
                    Argument::Missing if block.clean => {
                        if reported.contains(&(block.ident.clone(), *attribute)) {
                            continue;
                        }
                        reported.push((block.ident.clone(), *attribute));
                        let related = vec![declared_here(reporter)];
                        reporter.report(
                            &block.path,
                            block.ident.clone(),
                            format!(
                                "{which} of {address} has no {name}: set {name} to at least one \
                                 {noun}"
                            ),
                            Problem::MissingAttribute {
                                attribute: *attribute,
                                vpc_config: block.range.clone(),
                            },
                            related,
                        );
                    }
                    Argument::Value {
                        attribute: attr_range,
                        expr,
                        verdict: Verdict::Empty(emptiness),
                        trace,
                        ..
                    } => {
                        let resolved = !trace.is_empty();
                        let range = if resolved {
                            attr_range.clone()
                        } else {
                            expr.clone()
                        };
                        if reported.contains(&(range.clone(), *attribute)) {
                            continue;
                        }
                        reported.push((range.clone(), *attribute));
                        let mut related = origins(reporter, trace);
                        related.push(declared_here(reporter));
                        let message = format!(
                            "{}{}",
                            empty_message(&address, *attribute, *emptiness, resolved),
                            instance_note(ctx, trace)
                        );
                        reporter.report(
                            &block.path,
                            range,
                            message,
                            Problem::EmptyValue {
                                attribute: *attribute,
                                value: expr.clone(),
                                emptiness: *emptiness,
                                vpc_config: block.range.clone(),
                                resolved,
                            },
                            related,
                        );
                    }
                    _ => {}
                }
            }
        }
    }
}

fn empty_message(
    address: &str,
    attribute: VpcAttribute,
    emptiness: Emptiness,
    resolved: bool,
) -> String {
    let name = attribute.name();
    let noun = attribute.noun();
    // "is" for a literal; "resolves to" when a variable or local decides.
    let is = if resolved { "resolves to" } else { "is" };
    match emptiness {
        Emptiness::EmptyList => format!(
            "{name} of {address} {is} an empty list, so the model is not placed in your VPC: \
             give at least one {noun}"
        ),
        Emptiness::Null => format!(
            "{name} of {address} {is} null, which is the same as leaving it out: \
             give at least one {noun}"
        ),
        Emptiness::BlankElements => format!(
            "{name} of {address} {} only empty strings or nulls, which AWS rejects: \
             give at least one {noun}",
            if resolved { "resolves to" } else { "holds" }
        ),
    }
}

// ------------------------------------------------------------ explanation

/// The endpoint configurations serving `model`, each with the endpoints
/// that use it, as the module declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain {
    pub configs: Vec<ChainConfig>,
    /// The model sets `name` itself (rather than letting the provider
    /// generate one).
    pub fixed_model_name: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainConfig {
    pub name: String,
    pub fixed_name: bool,
    pub endpoints: Vec<String>,
}

/// References to `aws_sagemaker_model.NAME` anywhere in `body`.
fn body_refers(body: &Body, kind: &str, name: &str, attribute: &str) -> bool {
    body.attributes
        .iter()
        .filter(|a| a.name == attribute)
        .filter_map(|a| a.value.as_ref())
        .any(|e| e.references().iter().any(|(r, n)| r == kind && n == name))
        || body
            .blocks
            .iter()
            .any(|b| body_refers(&b.body, kind, name, attribute))
}

/// The chain of resources that serve `model` in `index`.
pub(crate) fn endpoint_chain(model: &str, index: &ModuleIndex) -> Chain {
    let fixed_model_name = index
        .merged("resource", &[RESOURCE_TYPE, model])
        .and_then(|m| m.attribute("name"))
        .and_then(|(_, a)| a.value.as_ref())
        .is_some_and(|e| e.kind != ExprKind::Null);
    let mut configs = Vec::new();
    for config in index.resources("aws_sagemaker_endpoint_configuration") {
        let refers = config
            .blocks_of("production_variants")
            .any(|(_, b)| body_refers(&b.body, RESOURCE_TYPE, model, "model_name"));
        if !refers {
            continue;
        }
        let name = config.base.1.label(1).unwrap_or("").to_owned();
        let endpoints = index
            .resources("aws_sagemaker_endpoint")
            .filter(|e| {
                e.attribute("endpoint_config_name")
                    .and_then(|(_, a)| a.value.as_ref())
                    .is_some_and(|v| {
                        v.references()
                            .iter()
                            .any(|(r, n)| r == "aws_sagemaker_endpoint_configuration" && *n == name)
                    })
            })
            .map(|e| e.base.1.label(1).unwrap_or("").to_owned())
            .collect();
        configs.push(ChainConfig {
            fixed_name: config.attribute("name").is_some(),
            name,
            endpoints,
        });
    }
    Chain {
        configs,
        fixed_model_name,
    }
}

/// What a plan does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Destroyed, then created (or the other way round).
    Replace,
    /// Updated in place.
    Update,
    /// Left alone.
    NoOp,
}

/// What adding `vpc_config` to `model` makes Terraform plan for it and the
/// resources that serve it (the facts [`replacement_advice`] puts in words;
/// the differential tests hold both to `terraform plan`).
pub fn predicted_actions(model: &str, index: &ModuleIndex) -> Vec<(String, Action)> {
    let chain = endpoint_chain(model, index);
    let mut out = vec![(format!("{RESOURCE_TYPE}.{model}"), Action::Replace)];
    for config in &chain.configs {
        let replaced = !chain.fixed_model_name;
        out.push((
            format!("aws_sagemaker_endpoint_configuration.{}", config.name),
            if replaced {
                Action::Replace
            } else {
                Action::NoOp
            },
        ));
        for endpoint in &config.endpoints {
            out.push((
                format!("aws_sagemaker_endpoint.{endpoint}"),
                if replaced && !config.fixed_name {
                    Action::Update
                } else {
                    Action::NoOp
                },
            ));
        }
    }
    out
}

/// What applying `vpc_config` to this model does to what serves it, as
/// planned by Terraform 1.11 with hashicorp/aws 5.100 against a prior
/// state.
pub(crate) fn replacement_advice(model: &str, index: &ModuleIndex) -> String {
    let chain = endpoint_chain(model, index);
    let address = format!("{RESOURCE_TYPE}.{model}");
    // The words below say what `predicted_actions` predicts.
    if chain.configs.is_empty() {
        return format!(
            "adding or removing `vpc_config` replaces the model (`{address}` is destroyed, then \
             created). No endpoint configuration in this module serves it; if one elsewhere \
             does, stage a blue-green cutover."
        );
    }
    let configs: Vec<String> = chain
        .configs
        .iter()
        .map(|c| format!("`aws_sagemaker_endpoint_configuration.{}`", c.name))
        .collect();
    let endpoints: Vec<String> = chain
        .configs
        .iter()
        .flat_map(|c| c.endpoints.iter())
        .map(|e| format!("`aws_sagemaker_endpoint.{e}`"))
        .collect();
    if chain.fixed_model_name {
        let mut text = format!(
            "adding `vpc_config` replaces the model (`{address}`) and nothing else: its `name` \
             is fixed, so {} {} no change",
            configs.join(", "),
            if configs.len() == 1 { "sees" } else { "see" }
        );
        if !endpoints.is_empty() {
            text.push_str(&format!(
                " and {} keeps serving the old model, outside the VPC, while Terraform and this \
                 check both call the model compliant",
                endpoints.join(", ")
            ));
        }
        text.push_str(
            ". Drop the fixed `name` (or derive it from what forces the replacement) so the \
             configuration is replaced with the model, then stage a blue-green cutover.",
        );
        return text;
    }
    let mut text = format!(
        "adding `vpc_config` replaces the model (`{address}`); {} {} it by its generated name \
         and {} replaced too (destroyed, then created)",
        configs.join(", "),
        if configs.len() == 1 {
            "references"
        } else {
            "reference"
        },
        if configs.len() == 1 { "is" } else { "are" },
    );
    let endpoints_of = |fixed: bool| -> Vec<String> {
        chain
            .configs
            .iter()
            .filter(|c| c.fixed_name == fixed)
            .flat_map(|c| c.endpoints.iter())
            .map(|e| format!("`aws_sagemaker_endpoint.{e}`"))
            .collect()
    };
    let updated = endpoints_of(false);
    if !updated.is_empty() {
        text.push_str(&format!(
            "; {} {} updated in place to the new configuration (never destroyed)",
            updated.join(", "),
            if updated.len() == 1 { "is" } else { "are" }
        ));
    }
    let stale = endpoints_of(true);
    if !stale.is_empty() {
        text.push_str(&format!(
            "; but a configuration with a fixed `name` is recreated under that name, so {} \
             {} no change and {} serving the old deployment, outside the VPC — drop the fixed \
             name (or use `name_prefix`) so the endpoint follows",
            stale.join(", "),
            if stale.len() == 1 { "sees" } else { "see" },
            if stale.len() == 1 { "keeps" } else { "keep" },
        ));
    }
    text.push_str(
        ". The old configuration is deleted before the new one exists (unless the configuration \
         or the endpoint has `create_before_destroy`, which Terraform then applies to the model \
         too): stage a blue-green cutover (a new model and configuration first, then switch the \
         endpoint).",
    );
    text
}

/// The hover text for a model.
fn describe(target: &Target<'_>, facts: &ModelFacts, index: &ModuleIndex) -> String {
    let address = target.address();
    let model = target.block.label(1).unwrap_or("");
    let verdict = verdict(facts);
    let ids = [
        DOC.aws_config.map(|id| format!("AWS Config `{id}`")),
        DOC.powerpipe.map(|id| format!("Powerpipe `{id}`")),
        DOC.prowler.map(|id| format!("Prowler `{id}`")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    format!(
        "**{}** (`{ID}`)\n\n`{address}`: {verdict}\n\n\
         Checks that every `aws_sagemaker_model` has a `vpc_config` block whose `subnets` and \
         `security_group_ids` each hold at least one value. {}\n\n\
         - **Applying it:** {}\n\
         - **Changing `subnets` or `security_group_ids` of an existing `vpc_config`** is planned \
         as an in-place update that hashicorp/aws 5.100 does not apply (its update handles tags \
         only; hashicorp/terraform-provider-aws#45490): the diff comes back on every plan until \
         the model is replaced.\n\
         - **Prerequisites:** private subnets in every AZ your instance types need; VPC endpoints \
         for S3 (gateway) and ECR `api` + `dkr` (interface), or a NAT gateway; security groups \
         that allow egress on 443 to them; `enable_dns_support` and `enable_dns_hostnames` on the \
         VPC.\n\n{ids}\n\n[Control documentation]({})",
        DOC.title,
        DOC.why,
        replacement_advice(model, index),
        DOC.docs_url
    )
}

/// One line on where this model stands.
fn verdict(facts: &ModelFacts) -> String {
    if facts.never_created {
        return "never created (`count`/`for_each` create no instance), nothing to check."
            .to_owned();
    }
    let blocks = match &facts.vpc {
        VpcState::Absent => return "**not compliant**: it has no `vpc_config` block.".to_owned(),
        VpcState::Undecided => {
            return "**not checked**: the block has syntax errors, so whether it has a `vpc_config` \
                    is not known until they are fixed."
                .to_owned();
        }
        VpcState::Blocks(blocks) => blocks,
    };
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let certain: usize = blocks.iter().filter_map(VpcBlock::certain_count).sum();
    let uncertain = blocks.iter().any(|b| b.certain_count().is_none());
    if certain == 0 && !uncertain {
        problems.push("its dynamic `vpc_config` iterates over an empty `for_each`".to_owned());
    }
    if certain > 1 {
        problems.push("it has more than one `vpc_config`".to_owned());
    }
    if certain > 0 && uncertain {
        unknown
            .push("a dynamic `vpc_config` whose `for_each` is only known at plan time".to_owned());
    }
    for block in blocks {
        if block.certain_count() == Some(0) || (block.certain_count().is_none() && certain > 0) {
            continue;
        }
        for rendering in &block.renderings {
            for (attribute, argument) in rendering {
                let name = attribute.name();
                let line = match argument {
                    Argument::Missing if block.clean => {
                        problems.push(format!("`{name}` is missing"));
                        continue;
                    }
                    Argument::Missing | Argument::NoValue => {
                        unknown.push(format!("`{name}` is incomplete"));
                        continue;
                    }
                    Argument::Value {
                        verdict,
                        trace,
                        text,
                        ..
                    } => {
                        let via = trace
                            .first()
                            .map(|o| format!(" ({})", o.what))
                            .unwrap_or_default();
                        match verdict {
                            Verdict::Empty(Emptiness::Null) => format!("`{name}` is null{via}"),
                            Verdict::Empty(Emptiness::BlankElements) => {
                                format!("`{name}` holds only empty ids{via}")
                            }
                            Verdict::Empty(Emptiness::EmptyList) => {
                                format!("`{name}` is empty{via}")
                            }
                            Verdict::NonEmpty => continue,
                            Verdict::Unknown => {
                                let line = format!(
                                    "`{name} = {}` is only known at plan time",
                                    one_line(text)
                                );
                                if !unknown.contains(&line) {
                                    unknown.push(line);
                                }
                                continue;
                            }
                        }
                    }
                };
                if !problems.contains(&line) {
                    problems.push(line);
                }
            }
        }
    }
    if !problems.is_empty() {
        format!("**not compliant**: {}.", problems.join(", "))
    } else if !unknown.is_empty() {
        format!(
            "compliant as far as can be told statically; {}.",
            unknown.join(", ")
        )
    } else {
        "**compliant**: `vpc_config` lists subnets and security groups.".to_owned()
    }
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 60 {
        format!("{}…", flat.chars().take(60).collect::<String>())
    } else {
        flat
    }
}
