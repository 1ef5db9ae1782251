//! `textDocument/hover` over a model's type label or its `vpc_config` block:
//! what the control checks, why, what changing it costs (naming the endpoint
//! configurations and endpoints that serve the model), and this model's
//! current verdict.

use std::sync::Arc;

use tower_lsp::lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::convert;
use crate::session::Session;
use svl_analysis::eval::Verdict;
use svl_analysis::fix::endpoint_chain;
use svl_analysis::module::{FileKind, ModuleIndex, ModuleScope};
use svl_analysis::rules::Context;
use svl_analysis::rules::sagemaker_model_in_vpc::{
    self as control, Argument, ModelFacts, VpcState,
};
use svl_analysis::suppress::Date;
use svl_analysis::terraform::{self, Resource};
use svl_analysis::{Emptiness, syntax};

pub fn hover(session: &Session, params: &HoverParams) -> Option<Hover> {
    if !session.config().enable {
        return None;
    }
    let uri = &params.text_document_position_params.text_document.uri;
    let snapshot = session.snapshot(uri)?;
    if snapshot.kind != FileKind::Hcl {
        return None;
    }
    let encoding = session.encoding();
    let (offset, _) = convert::offset(
        &snapshot.rope,
        params.text_document_position_params.position,
        encoding,
    );
    // The module facts of the last analysis (or the file alone).
    let index = session
        .current_analysis(uri)
        .map(|a| Arc::clone(&a.index))
        .unwrap_or_default();
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
            let markdown = describe(&model, island.src, &index, snapshot.path.as_deref());
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
/// one of its `vpc_config` blocks (static or dynamic).
fn hovered_range(model: &Resource<'_>, src: &str, offset: usize) -> Option<std::ops::Range<usize>> {
    if model.type_label.contains(&offset) {
        return Some(model.type_label.clone());
    }
    model
        .parts
        .body
        .into_iter()
        .flat_map(syntax::body_items)
        .filter(|item| {
            let parts = syntax::BlockParts::of(*item);
            parts.is_some_and(|p| {
                let ident = syntax::text(p.ident, src);
                ident == control::BLOCK
                    || (ident == "dynamic"
                        && p.label(0)
                            .and_then(|l| syntax::label_value(l, src))
                            .as_deref()
                            == Some(control::BLOCK))
            })
        })
        .map(|item| item.byte_range())
        .find(|r| r.contains(&offset))
}

const ABOUT: &str = "\
Checks that every `aws_sagemaker_model` has a `vpc_config` block whose `subnets` and \
`security_group_ids` each hold at least one value. Without it the model runs in AWS-managed \
network space: no security groups, no VPC endpoints, and a misconfigured IAM policy becomes \
the only barrier between the inference container and your data.

- **Prerequisites:** private subnets in every AZ your instance types need; VPC endpoints for \
S3 (gateway) and ECR `api` + `dkr` (interface), or a NAT gateway; security groups that allow \
egress on 443 to them; `enable_dns_support` and `enable_dns_hostnames` on the VPC.

AWS Config `SAGEMAKER_MODEL_IN_VPC` · Powerpipe `aws_compliance.control.sagemaker_model_in_vpc` · \
Prowler `sagemaker_models_vpc_settings_configured`";

fn describe(
    model: &Resource<'_>,
    src: &str,
    index: &ModuleIndex,
    path: Option<&std::path::Path>,
) -> String {
    let address = format!("{}.{}", model.kind, model.name);
    let scope = ModuleScope::new(index);
    let ctx = Context {
        scope: &scope,
        module: Some(index),
        path,
        today: Date::today(),
        suppressions: true,
    };
    let facts = control::hcl_facts(model, src, &ctx);
    let verdict = verdict(&facts, src);
    let chain = endpoint_chain(&model.name, index);
    let replacement = if chain.is_empty() {
        "- **Changing `vpc_config` replaces the model.** Endpoint configurations that reference \
         it, and their endpoints, are replaced along with it: stage a blue-green cutover."
            .to_owned()
    } else {
        format!(
            "- **Changing `vpc_config` replaces the model, and with it {}.** Stage a blue-green \
             cutover: a new model and endpoint configuration first, then switch the endpoint.",
            chain
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "**SageMaker models should be in a VPC** (`{}`)\n\n`{address}`: {verdict}\n\n{}\n\n{replacement}\n{}\n\n[Control documentation]({})",
        control::ID,
        ABOUT.split("\n\n").next().unwrap_or_default(),
        ABOUT.split_once("\n\n").map_or("", |(_, rest)| rest),
        convert::DOCS_URL
    )
}

/// One line on where this model stands.
fn verdict(facts: &ModelFacts, src: &str) -> String {
    if facts.never_created {
        return "never created (`count`/`for_each` is empty as written), nothing to check."
            .to_owned();
    }
    match &facts.vpc {
        VpcState::Absent => return "**not compliant**: it has no `vpc_config` block.".to_owned(),
        VpcState::Undecided => return "not decided yet: the block has syntax errors.".to_owned(),
        VpcState::Blocks(_) => {}
    }
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let live = facts.live_blocks();
    if live.is_empty() {
        problems.push("its dynamic `vpc_config` iterates over an empty `for_each`".to_owned());
    }
    if live.len() > 1 {
        problems.push("it has more than one `vpc_config`".to_owned());
    }
    for block in live {
        for (attribute, argument) in &block.arguments {
            let name = attribute.name();
            match argument {
                Argument::Missing if block.clean => problems.push(format!("`{name}` is missing")),
                Argument::Missing | Argument::NoValue => {
                    unknown.push(format!("`{name}` is incomplete"))
                }
                Argument::Value {
                    verdict,
                    expr,
                    trace,
                    ..
                } => {
                    let via = trace
                        .first()
                        .map(|o| format!(" ({})", o.what))
                        .unwrap_or_default();
                    match verdict {
                        Verdict::Empty(Emptiness::Null) => {
                            problems.push(format!("`{name}` is null{via}"))
                        }
                        Verdict::Empty(Emptiness::BlankElements) => {
                            problems.push(format!("`{name}` holds only empty ids{via}"))
                        }
                        Verdict::Empty(Emptiness::EmptyList) => {
                            problems.push(format!("`{name}` is empty{via}"))
                        }
                        Verdict::NonEmpty => {}
                        Verdict::Unknown => unknown.push(format!(
                            "`{name} = {}` is only known at plan time",
                            one_line(src.get(expr.clone()).unwrap_or(""))
                        )),
                    }
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
