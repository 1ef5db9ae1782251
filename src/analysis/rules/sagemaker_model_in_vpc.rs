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
use crate::analysis::terraform::{Island, Resource};

pub const ID: &str = "sagemaker_model_in_vpc";
pub const RESOURCE_TYPE: &str = "aws_sagemaker_model";
pub const BLOCK: &str = "vpc_config";

pub struct SagemakerModelInVpc;

impl Rule for SagemakerModelInVpc {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, island: &Island<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for resource in island.resources() {
            if resource.kind == RESOURCE_TYPE {
                check_model(&resource, island.src, ctx, out);
            }
        }
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

    let vpc_configs: Vec<Node<'_>> = model
        .parts
        .body
        .into_iter()
        .flat_map(syntax::body_items)
        .filter(|item| syntax::block_type(*item, src) == Some(BLOCK))
        .collect();

    let Some(&vpc_config) = vpc_configs.first() else {
        if vpc_config_certainly_absent(model, src) {
            out.push(finding(
                model.header.clone(),
                format!(
                    "{address} has no vpc_config block, so it runs outside your VPC: add vpc_config \
                     with at least one private subnet in subnets and one security group in \
                     security_group_ids"
                ),
                Problem::MissingVpcConfig,
                Vec::new(),
            ));
        }
        return;
    };

    let Some(parts) = BlockParts::of(vpc_config) else {
        return;
    };
    // A vpc_config whose own text is broken may hold the argument we would
    // call missing; only a clean block proves absence.
    let clean = parts.is_closed() && !syntax::is_broken(vpc_config);
    for attribute in VpcAttribute::ALL {
        let value = find_attribute(parts.body, attribute.name(), src);
        match value {
            None => {
                if clean {
                    out.push(finding(
                        parts.ident.byte_range(),
                        format!(
                            "vpc_config of {address} has no {name}: set {name} to at least one {noun}",
                            name = attribute.name(),
                            noun = attribute.noun(),
                        ),
                        Problem::MissingAttribute {
                            attribute,
                            vpc_config: vpc_config.byte_range(),
                        },
                        vec![declared_here()],
                    ));
                }
            }
            Some(None) => {} // `name =` with no value yet: nothing certain.
            Some(Some(expr)) => {
                if let Verdict::Empty(emptiness) =
                    eval::eval(expr, src, ctx.scope, 0).list_verdict()
                {
                    out.push(finding(
                        expr.byte_range(),
                        empty_message(&address, attribute, emptiness),
                        Problem::EmptyValue {
                            attribute,
                            value: expr.byte_range(),
                            emptiness,
                        },
                        vec![declared_here()],
                    ));
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
