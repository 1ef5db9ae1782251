//! `sagemaker_model_in_vpc`: every `aws_sagemaker_model` has a `vpc_config`
//! block whose `security_group_ids` and `subnets` each hold at least one value
//! (AWS Config `SAGEMAKER_MODEL_IN_VPC`).
//!
//! Only what is certain is reported. A value that is not literal is unknown and
//! silent; a block that is itself broken by a syntax error reports only the
//! parts that parsed cleanly.

use tree_sitter::Node;

use super::{Context, Rule};
use crate::analysis::eval::{self, Verdict};
use crate::analysis::finding::{
    Emptiness, Finding, Problem, Related, ResourceRef, Severity, VpcAttribute,
};
use crate::analysis::syntax::{self, BlockParts};
use crate::analysis::terraform::Resource;

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
            check_model(resource, src, ctx, out);
        }
    }
}

/// What is known of one model's network placement.
#[derive(Debug, Clone)]
pub enum Assessment<'t> {
    /// Certainly no `vpc_config` block.
    NoVpcConfig,
    /// No clean `vpc_config`, but the block is broken: nothing is certain.
    Undecided,
    /// A `vpc_config` block, with each argument's state.
    VpcConfig {
        block: Node<'t>,
        /// False when the block itself has syntax errors.
        clean: bool,
        arguments: [(VpcAttribute, Argument<'t>); 2],
    },
}

/// The state of `subnets` or `security_group_ids` inside `vpc_config`.
#[derive(Debug, Clone, Copy)]
pub enum Argument<'t> {
    /// Not written (certain only when the block is clean).
    Missing,
    /// Written without a value yet (`subnets =` while typing).
    NoValue,
    /// Written, with what its value is known to be.
    Value { expr: Node<'t>, verdict: Verdict },
}

/// Decides the control for one model, without producing findings.
pub fn assess<'t>(model: &Resource<'t>, src: &str, ctx: &Context<'_>) -> Assessment<'t> {
    let vpc_config = model
        .parts
        .body
        .into_iter()
        .flat_map(syntax::body_items)
        .find(|item| syntax::block_type(*item, src) == Some(BLOCK));
    let Some(vpc_config) = vpc_config else {
        return if vpc_config_certainly_absent(model, src) {
            Assessment::NoVpcConfig
        } else {
            Assessment::Undecided
        };
    };
    let Some(parts) = BlockParts::of(vpc_config) else {
        return Assessment::Undecided;
    };
    // A vpc_config whose own text is broken may hold the argument we would
    // call missing; only a clean block proves absence.
    let clean = parts.is_closed() && !syntax::is_broken(vpc_config);
    let argument = |attribute: VpcAttribute| match find_attribute(parts.body, attribute.name(), src)
    {
        None => Argument::Missing,
        Some(None) => Argument::NoValue,
        Some(Some(expr)) => Argument::Value {
            expr,
            verdict: eval::eval(expr, src, ctx.scope, 0).list_verdict(),
        },
    };
    Assessment::VpcConfig {
        block: vpc_config,
        clean,
        arguments: VpcAttribute::ALL.map(|a| (a, argument(a))),
    }
}

fn check_model(model: &Resource<'_>, src: &str, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let resource = ResourceRef {
        kind: model.kind.clone(),
        name: model.name.clone(),
        block: model.block.byte_range(),
        header: model.header.clone(),
    };
    let address = resource.address();
    let finding = |range, message, problem, related| Finding {
        rule: ID,
        severity: Severity::Warning,
        range,
        message,
        resource: resource.clone(),
        problem,
        related,
    };
    let declared_here = || Related {
        path: None,
        range: resource.header.clone(),
        message: format!("{address} is declared here"),
    };

    match assess(model, src, ctx) {
        Assessment::Undecided => {}
        Assessment::NoVpcConfig => out.push(finding(
            model.header.clone(),
            format!(
                "{address} has no vpc_config block, so it runs outside your VPC: add vpc_config \
                 with at least one private subnet in subnets and one security group in \
                 security_group_ids"
            ),
            Problem::MissingVpcConfig,
            Vec::new(),
        )),
        Assessment::VpcConfig {
            block,
            clean,
            arguments,
        } => {
            let ident = BlockParts::of(block).map_or(block.byte_range(), |p| p.ident.byte_range());
            for (attribute, argument) in arguments {
                match argument {
                    Argument::Missing if clean => out.push(finding(
                        ident.clone(),
                        format!(
                            "vpc_config of {address} has no {name}: set {name} to at least one {noun}",
                            name = attribute.name(),
                            noun = attribute.noun(),
                        ),
                        Problem::MissingAttribute {
                            attribute,
                            vpc_config: block.byte_range(),
                        },
                        vec![declared_here()],
                    )),
                    Argument::Value {
                        expr,
                        verdict: Verdict::Empty(emptiness),
                    } => out.push(finding(
                        expr.byte_range(),
                        empty_message(&address, attribute, emptiness),
                        Problem::EmptyValue {
                            attribute,
                            value: expr.byte_range(),
                            emptiness,
                            vpc_config: block.byte_range(),
                        },
                        vec![declared_here()],
                    )),
                    _ => {}
                }
            }
        }
    }
}

fn empty_message(address: &str, attribute: VpcAttribute, emptiness: Emptiness) -> String {
    let name = attribute.name();
    let noun = attribute.noun();
    match emptiness {
        Emptiness::EmptyList => format!(
            "{name} of {address} is an empty list, so the model is not placed in your VPC: \
             give at least one {noun}"
        ),
        Emptiness::Null => format!(
            "{name} of {address} is null, which is the same as leaving it out: \
             give at least one {noun}"
        ),
        Emptiness::BlankElements => format!(
            "{name} of {address} holds only empty strings or nulls, which AWS rejects: \
             give at least one {noun}"
        ),
    }
}

/// The value of the attribute `name` directly in `body`: `None` if absent,
/// `Some(None)` if written without a value yet. The last definition wins
/// (Terraform rejects duplicates; the last is what the user just typed).
fn find_attribute<'t>(body: Option<Node<'t>>, name: &str, src: &str) -> Option<Option<Node<'t>>> {
    let mut found = None;
    for item in body.into_iter().flat_map(syntax::body_items) {
        if let Some((ident, value)) = syntax::attribute_parts(item)
            && syntax::text(ident, src) == name
        {
            found = Some(value);
        }
    }
    found
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
