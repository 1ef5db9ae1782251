//! `sagemaker_model_in_vpc`: every `aws_sagemaker_model` has a `vpc_config`
//! block whose `security_group_ids` and `subnets` each hold at least one value
//! (AWS Config `SAGEMAKER_MODEL_IN_VPC`).
//!
//! Only what is certain is reported. The facts of a model are read from HCL or
//! JSON into one syntax-free [`ModelFacts`], and one function decides on
//! them:
//!
//! * `count = 0`, or a `for_each` empty as written (literals, locals of
//!   literals; variables are never trusted here, since a toggle that defaults
//!   to off must not hide a model that is wrong when switched on): the model
//!   is never created, nothing to report;
//! * no `vpc_config` (static or `dynamic`): one finding on the header;
//! * more than one `vpc_config` (two static, or a static and a `dynamic`
//!   that is not certainly empty): a finding on each extra block;
//! * a `dynamic "vpc_config"` whose `for_each` is certainly empty, with no
//!   other block: a finding on `for_each`;
//! * in each `vpc_config` (or `dynamic` content): a missing argument (only
//!   when the block parsed cleanly), or a value certainly empty — literally,
//!   or through variables' defaults, tfvars and locals, in which case the
//!   finding covers the attribute and points at the definitions.

use std::ops::Range;

use tree_sitter::Node;

use super::{Context, Rule};
use crate::eval::{self, Origin, Scope, Value, Verdict};
use crate::finding::{Emptiness, Finding, Problem, Related, ResourceRef, Severity, VpcAttribute};
use crate::json;
use crate::syntax::{self, BlockParts};
use crate::terraform::{JsonResource, Resource};

pub const ID: &str = "sagemaker_model_in_vpc";
pub const RESOURCE_TYPE: &str = "aws_sagemaker_model";
pub const BLOCK: &str = "vpc_config";

pub struct SagemakerModelInVpc;

impl Rule for SagemakerModelInVpc {
    fn id(&self) -> &'static str {
        ID
    }

    fn check_resource(
        &self,
        resource: &Resource<'_>,
        src: &str,
        ctx: &Context<'_>,
        out: &mut Vec<Finding>,
    ) {
        if resource.kind == RESOURCE_TYPE {
            decide(&hcl_facts(resource, src, ctx), ctx, out);
        }
    }

    fn check_json_resource(
        &self,
        resource: &JsonResource<'_>,
        src: &str,
        ctx: &Context<'_>,
        out: &mut Vec<Finding>,
    ) {
        if resource.kind == RESOURCE_TYPE {
            decide(&json_facts(resource, src, ctx), ctx, out);
        }
    }
}

/// What is known of one model, whatever syntax it was written in.
#[derive(Debug, Clone)]
pub struct ModelFacts {
    pub resource: ResourceRef,
    /// `count`/`for_each` say the resource is never created.
    pub never_created: bool,
    pub vpc: VpcState,
}

#[derive(Debug, Clone)]
pub enum VpcState {
    /// Certainly no `vpc_config` of any kind.
    Absent,
    /// Nothing clean, but the model is being typed: nothing is certain.
    Undecided,
    Blocks(Vec<VpcBlock>),
}

/// A `vpc_config` block, or the `content` of a `dynamic "vpc_config"`.
#[derive(Debug, Clone)]
pub struct VpcBlock {
    /// The whole block (for a dynamic one, the `dynamic` block).
    pub range: Range<usize>,
    /// `vpc_config` (the identifier, the dynamic label, or the JSON key).
    pub ident: Range<usize>,
    /// Parsed without syntax errors: only then is a missing argument certain.
    pub clean: bool,
    pub dynamic: Option<ForEach>,
    pub arguments: Vec<(VpcAttribute, Argument)>,
}

/// The `for_each` of a `dynamic` block.
#[derive(Debug, Clone)]
pub struct ForEach {
    /// The `for_each` attribute, if written.
    pub range: Option<Range<usize>>,
    pub certainly_empty: bool,
    pub trace: Vec<Origin>,
}

/// The state of `subnets` or `security_group_ids`.
#[derive(Debug, Clone)]
pub enum Argument {
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
    },
}

impl ModelFacts {
    /// The blocks that exist: static ones, and dynamic ones whose `for_each`
    /// is not certainly empty.
    pub fn live_blocks(&self) -> Vec<&VpcBlock> {
        match &self.vpc {
            VpcState::Blocks(blocks) => blocks
                .iter()
                .filter(|b| b.dynamic.as_ref().is_none_or(|d| !d.certainly_empty))
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn is_empty_collection(value: &Value) -> bool {
    matches!(value, Value::List(v) if v.is_empty())
        || matches!(value, Value::Object(v) if v.is_empty())
}

/// `count`/`for_each` (evaluated with locals but not variables) say the
/// resource is never created.
fn never_created(count: Option<Value>, for_each: Option<Value>) -> bool {
    let zero = matches!(&count, Some(Value::Number(n)) if n.parse::<f64>().is_ok_and(|n| n == 0.0));
    zero || for_each.as_ref().is_some_and(is_empty_collection)
}

/// A scope that resolves locals but treats every variable as unknown.
struct LiteralsOnly<'a>(&'a dyn Scope);

impl Scope for LiteralsOnly<'_> {
    fn resolve(&self, reference: eval::Reference<'_>, depth: usize) -> Value {
        match reference {
            eval::Reference::Var(_) => Value::Unknown,
            eval::Reference::Local(_) => self.0.resolve_literally(reference, depth),
        }
    }
}

/// Evaluates with a trace of the definitions used.
fn traced(scope: &dyn Scope, f: impl FnOnce(&dyn Scope) -> Value) -> (Value, Vec<Origin>) {
    scope.begin_trace();
    let value = f(scope);
    (value, scope.take_trace())
}

// ---------------------------------------------------------------- HCL facts

fn attr_value<'t>(
    body: Option<Node<'t>>,
    name: &str,
    src: &str,
) -> Option<(Node<'t>, Option<Node<'t>>)> {
    // The last definition wins (Terraform rejects duplicates; the last is
    // what the user just typed).
    let mut found = None;
    for item in body.into_iter().flat_map(syntax::body_items) {
        if let Some((ident, value)) = syntax::attribute_parts(item)
            && syntax::text(ident, src) == name
        {
            found = Some((item, value));
        }
    }
    found
}

fn hcl_argument(
    body: Option<Node<'_>>,
    attribute: VpcAttribute,
    src: &str,
    ctx: &Context<'_>,
) -> Argument {
    match attr_value(body, attribute.name(), src) {
        None => Argument::Missing,
        Some((_, None)) => Argument::NoValue,
        Some((attr, Some(expr))) => {
            let (value, trace) = traced(ctx.scope, |s| eval::eval(expr, src, s, 0));
            Argument::Value {
                attribute: attr.byte_range(),
                expr: expr.byte_range(),
                verdict: value.list_verdict(),
                trace,
            }
        }
    }
}

fn hcl_block(
    block: Node<'_>,
    parts: &BlockParts<'_>,
    src: &str,
    ctx: &Context<'_>,
) -> Option<VpcBlock> {
    let is_dynamic = syntax::text(parts.ident, src) == "dynamic";
    let (ident, content, dynamic) = if is_dynamic {
        let label = parts.label(0)?;
        let content = parts
            .body
            .into_iter()
            .flat_map(syntax::body_items)
            .find(|i| syntax::block_type(*i, src) == Some("content"))
            .and_then(BlockParts::of);
        let for_each = attr_value(parts.body, "for_each", src);
        // Empty as written, or through variables' defaults, tfvars, locals.
        let (certainly_empty, trace) = match for_each {
            Some((_, Some(expr))) => {
                let (value, trace) = traced(ctx.scope, |s| eval::eval(expr, src, s, 0));
                (is_empty_collection(&value), trace)
            }
            _ => (false, Vec::new()),
        };
        let dynamic = ForEach {
            range: for_each.map(|(attr, _)| attr.byte_range()),
            certainly_empty,
            trace,
        };
        (label.byte_range(), content, Some(dynamic))
    } else {
        (parts.ident.byte_range(), Some(*parts), None)
    };
    // Missing arguments are only certain when the block (and for a dynamic
    // one, its content) parsed cleanly.
    let clean =
        parts.is_closed() && !syntax::is_broken(block) && content.is_some_and(|c| c.is_closed());
    let body = content.and_then(|c| c.body);
    Some(VpcBlock {
        range: block.byte_range(),
        ident,
        clean,
        dynamic,
        arguments: VpcAttribute::ALL
            .iter()
            .map(|a| (*a, hcl_argument(body, *a, src, ctx)))
            .collect(),
    })
}

/// `vpc_config { … }` or `dynamic "vpc_config" { … }`.
pub fn is_vpc_config(parts: &BlockParts<'_>, src: &str) -> bool {
    let ident = syntax::text(parts.ident, src);
    ident == BLOCK
        || (ident == "dynamic"
            && parts
                .label(0)
                .and_then(|l| syntax::label_value(l, src))
                .as_deref()
                == Some(BLOCK))
}

/// Reads a model written in HCL.
pub fn hcl_facts(model: &Resource<'_>, src: &str, ctx: &Context<'_>) -> ModelFacts {
    let body = model.parts.body;
    let literal = LiteralsOnly(ctx.scope);
    let literal_attr = |name: &str| {
        attr_value(body, name, src)
            .and_then(|(_, v)| v)
            .map(|v| eval::eval(v, src, &literal, 0))
    };
    let never = never_created(literal_attr("count"), literal_attr("for_each"));

    let mut blocks = Vec::new();
    for item in body.into_iter().flat_map(syntax::body_items) {
        let Some(parts) = BlockParts::of(item) else {
            continue;
        };
        let ident = syntax::text(parts.ident, src);
        let is_vpc = ident == BLOCK
            || (ident == "dynamic"
                && parts
                    .label(0)
                    .and_then(|l| syntax::label_value(l, src))
                    .as_deref()
                    == Some(BLOCK));
        if is_vpc && let Some(block) = hcl_block(item, &parts, src, ctx) {
            blocks.push(block);
        }
    }
    let vpc = if !blocks.is_empty() {
        VpcState::Blocks(blocks)
    } else if vpc_config_certainly_absent(model, src) {
        VpcState::Absent
    } else {
        VpcState::Undecided
    };
    ModelFacts {
        resource: ResourceRef {
            kind: model.kind.clone(),
            name: model.name.clone(),
            block: model.block.byte_range(),
            header: model.header.clone(),
        },
        never_created: never,
        vpc,
    }
}

/// True when the model certainly has no `vpc_config`: its block is closed and
/// no `ERROR` inside it could be a `vpc_config` being typed.
fn vpc_config_certainly_absent(model: &Resource<'_>, src: &str) -> bool {
    if !model.parts.is_closed() {
        return false;
    }
    if !model.block.has_error() {
        return true;
    }
    let mut stack = vec![model.block];
    while let Some(node) = stack.pop() {
        if node.is_error() && syntax::text(node, src).contains(BLOCK) {
            return false;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    true
}

// --------------------------------------------------------------- JSON facts

fn json_argument(
    object: Option<Node<'_>>,
    attribute: VpcAttribute,
    src: &str,
    ctx: &Context<'_>,
) -> Argument {
    let Some(member) = object.and_then(|o| json::member(o, attribute.name(), src)) else {
        return Argument::Missing;
    };
    let (value, trace) = traced(ctx.scope, |s| json::eval(member.value, src, s, 0));
    Argument::Value {
        attribute: member.pair.byte_range(),
        expr: member.value.byte_range(),
        verdict: value.list_verdict(),
        trace,
    }
}

fn json_block(
    key: Node<'_>,
    object: Node<'_>,
    dynamic: Option<ForEach>,
    content: Option<Node<'_>>,
    src: &str,
    ctx: &Context<'_>,
) -> VpcBlock {
    VpcBlock {
        range: object.byte_range(),
        ident: key.byte_range(),
        clean: !object.has_error(),
        dynamic,
        arguments: VpcAttribute::ALL
            .iter()
            .map(|a| (*a, json_argument(content, *a, src, ctx)))
            .collect(),
    }
}

/// Reads a model written in JSON (`resource.aws_sagemaker_model.NAME`).
pub fn json_facts(model: &JsonResource<'_>, src: &str, ctx: &Context<'_>) -> ModelFacts {
    let object = json::objects(model.member.value).into_iter().next();
    let literal = LiteralsOnly(ctx.scope);
    let literal_member = |name: &str| {
        object
            .and_then(|o| json::member(o, name, src))
            .map(|m| json::eval(m.value, src, &literal, 0))
    };
    let never = never_created(literal_member("count"), literal_member("for_each"));
    let mut blocks = Vec::new();
    if let Some(object) = object {
        for (key, member) in json::members(object, src) {
            match key.as_str() {
                BLOCK => {
                    for block in json::objects(member.value) {
                        blocks.push(json_block(member.key, block, None, Some(block), src, ctx));
                    }
                }
                "dynamic" => {
                    for dynamics in json::objects(member.value) {
                        let Some(vpc) = json::member(dynamics, BLOCK, src) else {
                            continue;
                        };
                        for dynamic in json::objects(vpc.value) {
                            let for_each = json::member(dynamic, "for_each", src);
                            let (certainly_empty, trace) = match for_each {
                                Some(m) => {
                                    let (value, trace) =
                                        traced(ctx.scope, |s| json::eval(m.value, src, s, 0));
                                    (is_empty_collection(&value), trace)
                                }
                                None => (false, Vec::new()),
                            };
                            let content = json::member(dynamic, "content", src)
                                .and_then(|c| json::objects(c.value).into_iter().next());
                            let for_each = ForEach {
                                range: for_each.map(|m| m.pair.byte_range()),
                                certainly_empty,
                                trace,
                            };
                            blocks.push(json_block(
                                vpc.key,
                                dynamic,
                                Some(for_each),
                                content,
                                src,
                                ctx,
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let vpc = if !blocks.is_empty() {
        VpcState::Blocks(blocks)
    } else if object.is_some_and(|o| !o.has_error()) {
        VpcState::Absent
    } else {
        VpcState::Undecided
    };
    ModelFacts {
        resource: ResourceRef {
            kind: model.kind.clone(),
            name: model.name.clone(),
            block: model.member.pair.byte_range(),
            header: model.member.key.byte_range(),
        },
        never_created: never,
        vpc,
    }
}

// ------------------------------------------------------------------ verdict

/// The findings for one model.
pub fn decide(facts: &ModelFacts, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if facts.never_created {
        return;
    }
    let resource = &facts.resource;
    let address = resource.address();
    let finding =
        |range: Range<usize>, message: String, problem: Problem, related: Vec<Related>| Finding {
            rule: ID,
            severity: Severity::Warning,
            range,
            message,
            resource: resource.clone(),
            problem,
            related,
            suppressed: None,
        };
    let declared_here = || Related {
        path: None,
        range: resource.header.clone(),
        message: format!("{address} is declared here"),
        cause: false,
    };
    let origins = |trace: &[Origin]| -> Vec<Related> {
        trace
            .iter()
            .map(|o| Related {
                path: (Some(o.path.as_path()) != ctx.path).then(|| o.path.clone()),
                range: o.range.clone(),
                message: format!("resolved through {}", o.what),
                cause: true,
            })
            .collect()
    };

    let blocks = match &facts.vpc {
        VpcState::Undecided => return,
        VpcState::Absent => {
            out.push(finding(
                resource.header.clone(),
                format!(
                    "{address} has no vpc_config block, so it runs outside your VPC: add vpc_config \
                     with at least one private subnet in subnets and one security group in \
                     security_group_ids"
                ),
                Problem::MissingVpcConfig,
                Vec::new(),
            ));
            return;
        }
        VpcState::Blocks(blocks) => blocks,
    };

    let live = facts.live_blocks();
    if live.is_empty() {
        // Only dynamic blocks, all certainly empty: the model gets none.
        for block in blocks {
            if let Some(for_each) = &block.dynamic {
                let mut related = origins(&for_each.trace);
                related.push(declared_here());
                out.push(finding(
                    for_each
                        .range
                        .clone()
                        .unwrap_or_else(|| block.ident.clone()),
                    format!(
                        "the dynamic vpc_config of {address} iterates over an empty for_each, so \
                         the model gets no vpc_config and runs outside your VPC"
                    ),
                    Problem::EmptyForEach {
                        dynamic: block.range.clone(),
                    },
                    related,
                ));
            }
        }
        return;
    }
    for extra in live.iter().skip(1) {
        out.push(finding(
            extra.ident.clone(),
            format!(
                "{address} has more than one vpc_config block; the AWS provider allows one: \
                 merge them"
            ),
            Problem::DuplicateVpcConfig {
                block: extra.range.clone(),
            },
            vec![Related {
                path: None,
                range: live[0].ident.clone(),
                message: "the first vpc_config".to_owned(),
                cause: false,
            }],
        ));
    }
    for block in live {
        let which = if block.dynamic.is_some() {
            "the dynamic vpc_config"
        } else {
            "vpc_config"
        };
        for (attribute, argument) in &block.arguments {
            let (name, noun) = (attribute.name(), attribute.noun());
            match argument {
                Argument::Missing if block.clean => out.push(finding(
                    block.ident.clone(),
                    format!(
                        "{which} of {address} has no {name}: set {name} to at least one {noun}"
                    ),
                    Problem::MissingAttribute {
                        attribute: *attribute,
                        vpc_config: block.range.clone(),
                    },
                    vec![declared_here()],
                )),
                Argument::Value {
                    attribute: attr_range,
                    expr,
                    verdict: Verdict::Empty(emptiness),
                    trace,
                } => {
                    let resolved = !trace.is_empty();
                    let mut related = origins(trace);
                    related.push(declared_here());
                    out.push(finding(
                        if resolved {
                            attr_range.clone()
                        } else {
                            expr.clone()
                        },
                        empty_message(&address, *attribute, *emptiness, resolved),
                        Problem::EmptyValue {
                            attribute: *attribute,
                            value: expr.clone(),
                            emptiness: *emptiness,
                            vpc_config: block.range.clone(),
                            resolved,
                        },
                        related,
                    ));
                }
                _ => {}
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
