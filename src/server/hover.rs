//! `textDocument/hover` over a model's type label or its `vpc_config` block:
//! what the control checks, why, what changing it costs, and this model's
//! current verdict.

use tower_lsp::lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::analysis::eval::{NoScope, Verdict};
use crate::analysis::rules::Context;
use crate::analysis::rules::sagemaker_model_in_vpc::{self as control, Argument, Assessment};
use crate::analysis::terraform::{self, Resource};
use crate::analysis::{Emptiness, syntax};
use crate::server::convert;
use crate::server::session::Session;

pub fn hover(session: &Session, params: &HoverParams) -> Option<Hover> {
    if !session.config().enable {
        return None;
    }
    let uri = &params.text_document_position_params.text_document.uri;
    let snapshot = session.snapshot(uri)?;
    let encoding = session.encoding();
    let (offset, _) = convert::offset(
        &snapshot.rope,
        params.text_document_position_params.position,
        encoding,
    );
    let text = &snapshot.text;
    for island in terraform::islands(text, &snapshot.tree) {
        let Some(local) = offset.checked_sub(island.offset) else {
            continue;
        };
        for model in island.resources() {
            if model.kind != control::RESOURCE_TYPE {
                continue;
            }
            let Some(range) = hovered_range(&model, island.src, local) else {
                continue;
            };
            let markdown = describe(&model, island.src);
            let range = range.start + island.offset..range.end + island.offset;
            return Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: markdown,
                }),
                range: Some(convert::range(&snapshot.rope, range, encoding)),
            });
        }
    }
    None
}

/// The range under the cursor if it is the model's type label or (inside)
/// its top-level `vpc_config` block.
fn hovered_range(model: &Resource<'_>, src: &str, offset: usize) -> Option<std::ops::Range<usize>> {
    if model.type_label.contains(&offset) {
        return Some(model.type_label.clone());
    }
    model
        .parts
        .body
        .into_iter()
        .flat_map(syntax::body_items)
        .filter(|item| syntax::block_type(*item, src) == Some(control::BLOCK))
        .map(|item| item.byte_range())
        .find(|r| r.contains(&offset))
}

const ABOUT: &str = "\
Checks that every `aws_sagemaker_model` has a `vpc_config` block whose `subnets` and \
`security_group_ids` each hold at least one value. Without it the model runs in AWS-managed \
network space: no security groups, no VPC endpoints, and a misconfigured IAM policy becomes \
the only barrier between the inference container and your data.

- **Changing `vpc_config` replaces the model.** Endpoint configurations that reference it, and \
their endpoints, are replaced along with it: stage a blue-green cutover.
- **Prerequisites:** private subnets in every AZ your instance types need; VPC endpoints for \
S3 (gateway) and ECR `api` + `dkr` (interface), or a NAT gateway; security groups that allow \
egress on 443 to them; `enable_dns_support` and `enable_dns_hostnames` on the VPC.

AWS Config `SAGEMAKER_MODEL_IN_VPC` · Powerpipe `aws_compliance.control.sagemaker_model_in_vpc` · \
Prowler `sagemaker_models_vpc_settings_configured`";

fn describe(model: &Resource<'_>, src: &str) -> String {
    let address = format!("{}.{}", model.kind, model.name);
    let verdict = verdict(model, src);
    format!(
        "**SageMaker models should be in a VPC** (`{}`)\n\n`{address}`: {verdict}\n\n{ABOUT}\n\n[Control documentation]({})",
        control::ID,
        convert::DOCS_URL
    )
}

/// One line on where this model stands.
fn verdict(model: &Resource<'_>, src: &str) -> String {
    let ctx = Context { scope: &NoScope };
    match control::assess(model, src, &ctx) {
        Assessment::NoVpcConfig => "**not compliant**: it has no `vpc_config` block.".to_owned(),
        Assessment::Undecided => "not decided yet: the block has syntax errors.".to_owned(),
        Assessment::VpcConfig {
            clean, arguments, ..
        } => {
            let mut problems = Vec::new();
            let mut unknown = Vec::new();
            for (attribute, argument) in arguments {
                let name = attribute.name();
                match argument {
                    Argument::Missing if clean => problems.push(format!("`{name}` is missing")),
                    Argument::Missing | Argument::NoValue => {
                        unknown.push(format!("`{name}` is incomplete"))
                    }
                    Argument::Value { verdict, expr } => match verdict {
                        Verdict::Empty(Emptiness::Null) => {
                            problems.push(format!("`{name}` is null"))
                        }
                        Verdict::Empty(_) => problems.push(format!("`{name}` is empty")),
                        Verdict::NonEmpty => {}
                        Verdict::Unknown => unknown.push(format!(
                            "`{name} = {}` is only known at plan time",
                            one_line(syntax::text(expr, src))
                        )),
                    },
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
