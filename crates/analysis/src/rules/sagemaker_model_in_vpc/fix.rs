//! The fixes of `sagemaker_model_in_vpc`: add the `vpc_config` block, add a
//! missing argument, replace an empty value — with `var.subnet_ids` and
//! friends (declared when the module lacks them), or with the module's own
//! private subnets and security group.

use std::collections::BTreeMap;
use std::ops::Range;

use tree_sitter::Node;

use crate::eval::{self, NoScope, Value};
use crate::finding::{Finding, Problem, VpcAttribute};
use crate::fix::{
    Abs, Fix, FixContext, Geometry, NewVariable, Offer, OfferKind, Slot, TextEdit, adjacent,
    align_assignments, align_chains, append_lines, choose_variable, equals_gap, fixable,
};
use crate::module::ModuleIndex;
use crate::style::Style;
use crate::syntax::{self, BlockParts};

use super::{self as control, BLOCK};

/// Where a fix takes the ids it writes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    /// `var.subnet_ids` and friends (declared when missing).
    Variables,
    /// `[aws_subnet.a.id, …]`, `[aws_security_group.x.id]`: resources the
    /// module already declares.
    Resources {
        subnets: Vec<String>,
        security_groups: Vec<String>,
    },
}

fn title(problem: &Problem, form: &Form, module: &ModuleIndex) -> String {
    let refs = |list: &[String]| list.join(", ");
    match (problem, form) {
        (Problem::MissingVpcConfig, Form::Variables) => "Add vpc_config block".to_owned(),
        (
            Problem::MissingVpcConfig,
            Form::Resources {
                subnets,
                security_groups,
            },
        ) => format!(
            "Add vpc_config block with {} and {}",
            refs(subnets),
            refs(security_groups)
        ),
        (Problem::MissingAttribute { attribute, .. }, Form::Variables) => {
            format!("Add {}", attribute.name())
        }
        (Problem::EmptyValue { attribute, .. }, Form::Variables) => {
            format!("Use var.{}", choose_variable(*attribute, module).name)
        }
        (
            Problem::MissingAttribute { attribute, .. } | Problem::EmptyValue { attribute, .. },
            Form::Resources {
                subnets,
                security_groups,
            },
        ) => {
            let list = match attribute {
                VpcAttribute::Subnets => subnets,
                VpcAttribute::SecurityGroupIds => security_groups,
            };
            let verb = if matches!(problem, Problem::MissingAttribute { .. }) {
                "Add"
            } else {
                "Set"
            };
            format!(
                "{verb} {} = [{}]",
                attribute.name(),
                list.iter()
                    .map(|r| format!("{r}.id"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        _ => String::new(),
    }
}

/// The module's private subnets and best security group, when it has both.
fn resource_form(module: &ModuleIndex) -> Option<Form> {
    let public = |m: &crate::module::Merged<'_>| {
        m.attribute("map_public_ip_on_launch")
            .and_then(|(_, a)| a.value.as_ref())
            .is_some_and(|e| eval::eval(e, &NoScope, 0) == Value::Bool(true))
    };
    let subnets: Vec<String> = module
        .resources("aws_subnet")
        .filter(|m| !public(m))
        .filter_map(|m| m.base.1.label(1).map(str::to_owned))
        .filter(|n| !n.to_ascii_lowercase().contains("public"))
        .collect();
    let private: Vec<String> = subnets
        .iter()
        .filter(|n| n.to_ascii_lowercase().contains("private"))
        .cloned()
        .collect();
    let subnets = if private.is_empty() { subnets } else { private };
    let group = module
        .resources("aws_security_group")
        .filter_map(|m| m.base.1.label(1).map(str::to_owned))
        .max_by_key(|name| {
            let lower = name.to_ascii_lowercase();
            let score = ["sagemaker", "model", "ml", "inference", "endpoint"]
                .iter()
                .filter(|t| lower.contains(*t))
                .count();
            (score, std::cmp::Reverse(name.clone()))
        })?;
    if subnets.is_empty() {
        return None;
    }
    Some(Form::Resources {
        subnets: subnets.iter().map(|n| format!("aws_subnet.{n}")).collect(),
        security_groups: vec![format!("aws_security_group.{group}")],
    })
}

/// What the *Add vpc_config block* title says about the resources that
/// serve the model (empty when nothing does): see
/// [`control::replacement_advice`] for the whole story.
pub(crate) fn replacement_note(model: &str, module: &ModuleIndex) -> String {
    let chain = control::endpoint_chain(model, module);
    if chain.configs.is_empty() {
        return String::new();
    }
    let configs: Vec<String> = chain
        .configs
        .iter()
        .map(|c| format!("aws_sagemaker_endpoint_configuration.{}", c.name))
        .collect();
    let endpoints: Vec<String> = chain
        .configs
        .iter()
        .flat_map(|c| c.endpoints.iter())
        .map(|e| format!("aws_sagemaker_endpoint.{e}"))
        .collect();
    if chain.fixed_model_name {
        let serving = if endpoints.is_empty() {
            configs.join(", ")
        } else {
            endpoints.join(", ")
        };
        return format!(
            " (replaces aws_sagemaker_model.{model} only: its fixed name leaves {serving} on the old model)"
        );
    }
    let stale: Vec<String> = chain
        .configs
        .iter()
        .filter(|c| c.fixed_name)
        .flat_map(|c| c.endpoints.iter())
        .map(|e| format!("aws_sagemaker_endpoint.{e}"))
        .collect();
    let updated: Vec<&String> = endpoints.iter().filter(|e| !stale.contains(e)).collect();
    let mut note = format!(
        " (replaces aws_sagemaker_model.{model} and {}",
        configs.join(", ")
    );
    if !updated.is_empty() {
        note.push_str(&format!(
            "; updates {} in place",
            updated
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !stale.is_empty() {
        note.push_str(&format!(
            "; a fixed configuration name leaves {} on the old model",
            stale.join(", ")
        ));
    }
    note.push(')');
    note
}

/// Builds edits resource by resource, collecting variables to declare.
struct Planner<'c, 'a> {
    ctx: &'c FixContext<'a>,
    style: Style,
    form: Form,
    declare: Vec<NewVariable>,
}

impl<'c, 'a> Planner<'c, 'a> {
    fn new(ctx: &'c FixContext<'a>, form: Form) -> Self {
        Self {
            ctx,
            style: ctx.style().clone(),
            form,
            declare: Vec::new(),
        }
    }

    /// The value text for `attribute`, noting a declaration if needed.
    fn value_for(&mut self, attribute: VpcAttribute) -> String {
        if let Form::Resources {
            subnets,
            security_groups,
        } = &self.form
        {
            let list = match attribute {
                VpcAttribute::Subnets => subnets,
                VpcAttribute::SecurityGroupIds => security_groups,
            };
            let ids: Vec<String> = list.iter().map(|r| format!("{r}.id")).collect();
            return format!("[{}]", ids.join(", "));
        }
        let choice = choose_variable(attribute, self.ctx.module);
        if !choice.exists && !self.declare.iter().any(|v| v.name == choice.name) {
            self.declare.push(NewVariable {
                name: choice.name.clone(),
                description: crate::fix::variable_description(attribute),
            });
        }
        format!("var.{}", choice.name)
    }

    /// Edits fixing `findings`, which all concern one resource.
    fn fix_resource(&mut self, findings: &[&Finding]) -> Option<Vec<TextEdit>> {
        let first = findings.first()?;
        let src = self.ctx.src;
        let block_start = first.resource.block.start;
        let (offset, resource) = self.ctx.resource_at(block_start)?;
        // Never touch a block that did not parse cleanly, nor text that is
        // really inside a string, heredoc or comment.
        if syntax::is_broken(resource.block) || !resource.parts.is_closed() {
            return None;
        }
        let non_code = self.ctx.non_code();
        if crate::lex::inside(non_code, block_start) {
            return None;
        }
        let at = Abs { src, offset };
        let missing = findings
            .iter()
            .any(|f| matches!(f.problem, Problem::MissingVpcConfig));
        let edits = if missing {
            self.add_vpc_config(at, &resource.parts)
        } else {
            self.amend_vpc_config(at, &resource.parts, findings)
        }?;
        let safe = edits.iter().all(|e| {
            !crate::lex::inside(non_code, e.range.start)
                && !crate::lex::inside(non_code, e.range.end)
        });
        safe.then_some(edits)
    }

    fn add_vpc_config(&mut self, at: Abs<'_>, model: &BlockParts<'_>) -> Option<Vec<TextEdit>> {
        let geometry = Geometry::of(at, model)?;
        let sg = self.value_for(VpcAttribute::SecurityGroupIds);
        let subnets = self.value_for(VpcAttribute::Subnets);
        let unit = &self.style.indent;
        let mut lines = vec![format!("{BLOCK} {{")];
        lines.extend(
            align_assignments(&[("security_group_ids", &sg), ("subnets", &subnets)])
                .into_iter()
                .map(|l| format!("{unit}{l}")),
        );
        lines.push("}".to_owned());
        Some(append_lines(at.src, &geometry, &lines, true, &self.style))
    }

    fn amend_vpc_config(
        &mut self,
        at: Abs<'_>,
        model: &BlockParts<'_>,
        findings: &[&Finding],
    ) -> Option<Vec<TextEdit>> {
        let src = at.src;
        let wanted_block = vpc_config_range(findings)?;
        let vpc_config = model
            .body
            .into_iter()
            .flat_map(syntax::body_items)
            .find(|item| at.range(*item) == wanted_block)?;
        let mut parts = BlockParts::of(vpc_config)?;
        // In a `dynamic "vpc_config"`, the arguments live in `content`.
        if at.text(parts.ident) == "dynamic" {
            let content = parts
                .body
                .into_iter()
                .flat_map(syntax::body_items)
                .find(|i| BlockParts::of(*i).is_some_and(|p| at.text(p.ident) == "content"))?;
            parts = BlockParts::of(content)?;
        }
        let geometry = Geometry::of(at, &parts)?;

        let mut replace: Vec<(Node<'_>, String)> = Vec::new();
        let mut append: Vec<(VpcAttribute, String)> = Vec::new();
        let mut wanted: Vec<(VpcAttribute, bool)> = findings
            .iter()
            .filter_map(|f| match f.problem {
                Problem::MissingAttribute { attribute, .. } => Some((attribute, false)),
                Problem::EmptyValue {
                    attribute,
                    resolved: false,
                    ..
                } => Some((attribute, true)),
                _ => None,
            })
            .collect();
        wanted.sort();
        wanted.dedup();
        for (attribute, present) in wanted {
            let value = self.value_for(attribute);
            if present {
                let item = syntax::body_items(parts.body?).find(|item| {
                    syntax::attribute_parts(*item)
                        .is_some_and(|(k, _)| at.text(k) == attribute.name())
                })?;
                replace.push((item, value));
            } else {
                append.push((attribute, value));
            }
        }

        // Lay the body out as it will be after the edit, then align chains.
        let items: Vec<Node<'_>> = parts
            .body
            .into_iter()
            .flat_map(syntax::body_items)
            .collect();
        let mut slots: Vec<Slot> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let replaced = replace.iter().find(|(n, _)| n == item);
            let parts_of = syntax::attribute_parts(*item);
            let range = at.range(*item);
            let gap = parts_of.and_then(|_| equals_gap(at, *item));
            let multi_line = match (replaced, parts_of) {
                (Some(_), _) => false,
                _ => src[range.clone()].contains('\n'),
            };
            let adjacent = i > 0 && adjacent(&src[at.range(items[i - 1]).end..range.start]);
            slots.push(Slot {
                key: parts_of.map(|(k, _)| at.text(k).to_owned()),
                multi_line,
                adjacent,
                gap,
                touched: replaced.is_some(),
            });
        }
        let first_appended = slots.len();
        let last_end = items.last().map(|n| at.range(*n).end);
        for (i, (attribute, _)) in append.iter().enumerate() {
            let adjacent = if i > 0 {
                true
            } else {
                match last_end {
                    Some(end) => geometry.appends_adjacent_to(src, end),
                    None => false,
                }
            };
            slots.push(Slot {
                key: Some(attribute.name().to_owned()),
                multi_line: false,
                adjacent,
                gap: None,
                touched: true,
            });
        }
        let gaps = align_chains(&slots);

        let mut edits = Vec::new();
        for (slot, gap) in slots.iter().zip(&gaps).take(first_appended) {
            if let (Some(range), Some(width)) = (&slot.gap, gap) {
                let want = " ".repeat(*width);
                if src[range.clone()] != want {
                    edits.push(TextEdit {
                        range: range.clone(),
                        new_text: want,
                    });
                }
            }
        }
        for (item, value) in &replace {
            let (_, expr) = syntax::attribute_parts(*item)?;
            edits.push(TextEdit {
                range: at.range(expr?),
                new_text: value.clone(),
            });
        }
        if !append.is_empty() {
            let lines: Vec<String> = append
                .iter()
                .zip(&gaps[first_appended..])
                .map(|((attribute, value), gap)| {
                    format!(
                        "{}{}= {value}",
                        attribute.name(),
                        " ".repeat(gap.unwrap_or(1))
                    )
                })
                .collect();
            edits.extend(append_lines(src, &geometry, &lines, false, &self.style));
        }
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        Some(edits)
    }
}

fn vpc_config_range(findings: &[&Finding]) -> Option<Range<usize>> {
    findings.iter().find_map(|f| match &f.problem {
        Problem::MissingAttribute { vpc_config, .. } | Problem::EmptyValue { vpc_config, .. } => {
            Some(vpc_config.clone())
        }
        _ => None,
    })
}

/// The control's fixes for one finding, by title: the preferred one
/// (variables), and one with the module's own subnets and security group
/// when it has them.
pub(crate) fn offers(finding: &Finding, ctx: &FixContext<'_>) -> Vec<Offer> {
    if !fixable(&finding.problem) {
        return Vec::new();
    }
    let chain = match finding.problem {
        Problem::MissingVpcConfig => replacement_note(&finding.resource.name, ctx.module),
        _ => String::new(),
    };
    std::iter::once(Form::Variables)
        .chain(resource_form(ctx.module))
        .map(|form| Offer {
            title: format!("{}{chain}", title(&finding.problem, &form, ctx.module)),
            preferred: form == Form::Variables,
            kind: match form {
                Form::Variables => OfferKind::Variables,
                Form::Resources { .. } => OfferKind::Resources,
            },
        })
        .collect()
}

/// The edits of one of [`offers`].
pub(crate) fn fix(finding: &Finding, ctx: &FixContext<'_>, offer: &Offer) -> Option<Fix> {
    let form = match offer.kind {
        OfferKind::Variables => Form::Variables,
        OfferKind::Resources => resource_form(ctx.module)?,
        OfferKind::Suppress => return None,
    };
    let mut planner = Planner::new(ctx, form);
    let edits = planner.fix_resource(&[finding])?;
    Some(Fix {
        title: offer.title.clone(),
        preferred: offer.preferred,
        edits,
        declare: planner.declare,
        elsewhere: Vec::new(),
        resources: vec![finding.resource.block.start],
    })
}

/// Every preferred fix of the control's findings in one file.
pub(crate) fn fix_all(findings: &[&Finding], ctx: &FixContext<'_>) -> Option<Fix> {
    let mut by_resource: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for finding in findings.iter().copied().filter(|f| fixable(&f.problem)) {
        by_resource
            .entry(finding.resource.block.start)
            .or_default()
            .push(finding);
    }
    let mut planner = Planner::new(ctx, Form::Variables);
    let mut edits = Vec::new();
    let mut resources = Vec::new();
    for (start, group) in &by_resource {
        if let Some(more) = planner.fix_resource(group) {
            edits.extend(more);
            resources.push(*start);
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    Some(Fix {
        title: "Fix all sagemaker_model_in_vpc findings".to_owned(),
        preferred: false,
        edits,
        declare: planner.declare,
        elsewhere: Vec::new(),
        resources,
    })
}
