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
//! Generated text follows the file's [`Style`] (indent unit, line ending) and
//! aligns `=` the way `terraform fmt` does: consecutive lines that assign are a
//! chain, and a chain's `=` line up one space after its longest key. Edits that
//! change a chain re-space its other lines too, so the result stays fmt-clean.
//! Variables a fix references but the module lacks come back as
//! [`NewVariable`]s; the front end decides which file declares them.

use std::collections::BTreeMap;
use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::eval::types::Type;
use super::eval::{self, NoScope, Value};
use super::finding::{Finding, Problem, VpcAttribute};
use super::module::{ModuleIndex, VariableDecl};
use super::rules::sagemaker_model_in_vpc::{self as control, BLOCK};
use super::style::{self, Style};
use super::syntax::{self, BlockParts};
use super::terraform;

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

/// One fix: edits in the analysed file plus variables to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    /// The one obvious fix for its finding (LSP `isPreferred`).
    pub preferred: bool,
    /// Sorted, non-overlapping edits of the analysed file.
    pub edits: Vec<TextEdit>,
    pub declare: Vec<NewVariable>,
    /// Where the resources it fixes start (their `block.start`).
    pub resources: Vec<usize>,
}

/// What fixes may consult: the file, its tree and its module, with what
/// every fix of the file needs computed once (its style, its islands, where
/// its strings and comments are), so fixing a file's findings one by one
/// or all at once stays linear in its size.
pub struct FixContext<'a> {
    pub src: &'a str,
    pub tree: &'a Tree,
    pub module: &'a ModuleIndex,
    style: Style,
    islands: Vec<terraform::Island<'a>>,
    non_code: Vec<Range<usize>>,
}

impl<'a> FixContext<'a> {
    pub fn new(src: &'a str, tree: &'a Tree, module: &'a ModuleIndex) -> Self {
        Self {
            src,
            tree,
            module,
            style: Style::detect(src, tree.root_node()),
            islands: terraform::islands(src, tree),
            non_code: crate::lex::non_code(src),
        }
    }

    /// The resource block starting at `block_start` (an offset in the
    /// file), with the offset of the island it was parsed in.
    fn resource_at(&self, block_start: usize) -> Option<(usize, terraform::Resource<'_>)> {
        for island in &self.islands {
            let Some(local) = block_start.checked_sub(island.offset) else {
                continue;
            };
            if local > island.src.len() {
                continue;
            }
            let mut node = island.root().descendant_for_byte_range(local, local);
            while let Some(n) = node {
                if n.start_byte() != local {
                    break;
                }
                // Findings name top-level resources only: the block that
                // starts there is the one.
                if n.kind() == "block"
                    && let Some(resource) = terraform::resource_of(n, island.src)
                {
                    return Some((island.offset, resource));
                }
                node = n.parent();
            }
        }
        None
    }
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

/// The fixes offered for one finding — the preferred one (variables), one
/// using the module's own subnets and security group when it has them, and
/// a suppression with a reason — by title, without computing edits.
pub fn offers_for(finding: &Finding, ctx: &FixContext<'_>) -> Vec<Offer> {
    let mut offers = Vec::new();
    let chain = match finding.problem {
        Problem::MissingVpcConfig => replacement_note(&finding.resource.name, ctx.module),
        _ => String::new(),
    };
    if fixable(&finding.problem) {
        for form in std::iter::once(Form::Variables).chain(resource_form(ctx.module)) {
            offers.push(Offer {
                title: format!("{}{chain}", title(&finding.problem, &form, ctx.module)),
                preferred: form == Form::Variables,
                kind: match form {
                    Form::Variables => OfferKind::Variables,
                    Form::Resources { .. } => OfferKind::Resources,
                },
            });
        }
    }
    if suppressible(&finding.problem) {
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
    let form = match offer.kind {
        OfferKind::Suppress => return suppression_fix(finding, ctx),
        OfferKind::Variables => Form::Variables,
        OfferKind::Resources => resource_form(ctx.module)?,
    };
    let mut planner = Planner::new(ctx, form);
    let edits = planner.fix_resource(&[finding])?;
    Some(Fix {
        title: offer.title.clone(),
        preferred: offer.preferred,
        edits,
        declare: planner.declare,
        resources: vec![finding.resource.block.start],
    })
}

/// Every fix offered for one finding, with its edits.
pub fn fixes_for(finding: &Finding, ctx: &FixContext<'_>) -> Vec<Fix> {
    offers_for(finding, ctx)
        .iter()
        .filter_map(|offer| fix_for(finding, ctx, offer))
        .collect()
}

/// Can a change to the model's own text fix it? (An empty value that comes
/// from a default or tfvars elsewhere cannot: the cause is there.)
pub fn fixable(problem: &Problem) -> bool {
    match problem {
        Problem::MissingVpcConfig | Problem::MissingAttribute { .. } => true,
        Problem::EmptyValue { resolved, .. } => !resolved,
        _ => false,
    }
}

fn suppressible(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::MissingVpcConfig
            | Problem::MissingAttribute { .. }
            | Problem::EmptyValue { .. }
            | Problem::EmptyForEach { .. }
    )
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
    let public = |m: &super::module::Merged<'_>| {
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
pub fn replacement_note(model: &str, module: &ModuleIndex) -> String {
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

/// "Suppress with a reason…": a directive above the header, with a reason
/// placeholder the user must replace (until then it suppresses nothing and
/// says so). An existing directive there is replaced.
fn suppression_fix(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    let src = ctx.src;
    let header = finding.resource.header.start;
    let line_start = src[..header].rfind('\n').map_or(0, |i| i + 1);
    let indent = style::line_indent(src, header).to_owned();
    let style = &ctx.style;
    let directive = format!(
        "# {}:{} -- {}",
        super::suppress::DIRECTIVE,
        finding.rule,
        super::suppress::REASON_PLACEHOLDER
    );
    // An existing directive on the line above is replaced, not stacked.
    let existing = ctx
        .resource_at(finding.resource.block.start)
        .and_then(|(offset, resource)| {
            let island_src = &src[offset..];
            let ids = super::rules::rule_ids();
            let d = super::suppress::candidate_comments(resource.block, island_src)
                .into_iter()
                .find_map(|c| {
                    super::suppress::parse(syntax::text(c, island_src), c.byte_range(), &ids)
                })?;
            let range = d.range.start + offset..d.range.end + offset;
            // Only one on its own line above the header is replaced in place.
            (range.end <= line_start).then_some(range)
        });
    let edit = match existing {
        Some(range) => {
            let text = &src[range.clone()];
            let trimmed = text.trim_end_matches(['\n', '\r']);
            TextEdit {
                range: range.start..range.start + trimmed.len(),
                new_text: directive,
            }
        }
        None => TextEdit {
            range: line_start..line_start,
            new_text: format!("{indent}{directive}{}", style.eol),
        },
    };
    Some(Fix {
        title: "Suppress with a reason…".to_owned(),
        preferred: false,
        edits: vec![edit],
        declare: Vec::new(),
        resources: Vec::new(),
    })
}

/// Every preferred fix of `findings` (one file) merged into one fix, or `None`
/// when there is nothing to fix.
pub fn fix_all(findings: &[Finding], ctx: &FixContext<'_>) -> Option<Fix> {
    let mut by_resource: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for finding in findings.iter().filter(|f| f.suppressed.is_none()) {
        if fixable(&finding.problem) {
            by_resource
                .entry(finding.resource.block.start)
                .or_default()
                .push(finding);
        }
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
        resources,
    })
}

/// The edit that declares `vars` at the end of `target` (a module file, often
/// `variables.tf`), in `target`'s own style.
pub fn declaration_edit(
    target: &str,
    target_tree: &Tree,
    vars: &[NewVariable],
) -> Option<TextEdit> {
    if vars.is_empty() {
        return None;
    }
    let style = Style::detect(target, target_tree.root_node());
    let eol = style.eol;
    let trailing = &target[target.trim_end().len()..];
    let prefix = if target.trim().is_empty() || trailing.matches('\n').count() >= 2 {
        ""
    } else if trailing.contains('\n') {
        eol
    } else {
        // No line break after the last line: end it, then a blank line.
        if eol == "\n" { "\n\n" } else { "\r\n\r\n" }
    };
    let blocks: Vec<String> = vars
        .iter()
        .map(|v| {
            let lines = align_assignments(&[
                ("description", &format!("{:?}", v.description)),
                ("type", "list(string)"),
            ]);
            let mut text = format!("variable \"{}\" {{{eol}", v.name);
            for line in lines {
                text.push_str(&format!("{}{line}{eol}", style.indent));
            }
            text.push('}');
            text.push_str(eol);
            text
        })
        .collect();
    // Replace trailing spaces after the last line too, so none dangle.
    let start = if target.trim().is_empty() {
        0
    } else {
        target.len()
    };
    Some(TextEdit {
        range: start..target.len(),
        new_text: format!("{prefix}{}", blocks.join(eol)),
    })
}

/// The variable a fix uses for `attribute`: an existing variable that can
/// hold a list of ids and whose name clearly holds such ids, else a new one
/// named `subnet_ids` / `security_group_ids` — or, when a variable of that
/// name exists with another type (`type = string`), a free name.
pub struct VariableChoice {
    pub name: String,
    pub exists: bool,
}

/// Can `var` hold a list of ids, by its type, else by its default?
fn holds_id_list(var: &VariableDecl<'_>) -> bool {
    match var.type_expr() {
        Some(ty) => Type::parse(ty).can_be_id_list(),
        None => match var.default().and_then(|(_, a)| a.value.as_ref()) {
            Some(default) => matches!(
                eval::eval(default, &NoScope, 0),
                Value::List(_) | Value::Null | Value::Unknown
            ),
            None => true,
        },
    }
}

pub fn choose_variable(attribute: VpcAttribute, module: &ModuleIndex) -> VariableChoice {
    let default = default_variable(attribute);
    // A variable whose value is certainly empty (`default = []`) would only
    // move the finding: not reused.
    let empty = |v: &VariableDecl<'_>| {
        let value = module
            .assignment(v.name)
            .or_else(|| v.default())
            .and_then(|(_, a)| a.value.as_ref())
            .map(|e| eval::eval(e, &NoScope, 0));
        value.is_some_and(|v| matches!(v.list_verdict(), eval::Verdict::Empty(_)))
    };
    if let Some(var) = module.variable(default) {
        if holds_id_list(&var) && !empty(&var) {
            return VariableChoice {
                name: default.to_owned(),
                exists: true,
            };
        }
    }
    let best = module
        .variables()
        .filter(holds_id_list)
        .filter(|v| !empty(v))
        .filter(|v| v.type_expr().is_some() || v.default().is_some())
        .filter_map(|v| name_score(attribute, v.name).map(|score| (score, v.name.to_owned())))
        .max_by(|(sa, a), (sb, b)| {
            sa.cmp(sb)
                .then_with(|| b.len().cmp(&a.len()))
                .then_with(|| b.cmp(a))
        });
    if let Some((_, name)) = best {
        return VariableChoice { name, exists: true };
    }
    // A new variable, under a name nothing declares yet.
    let candidates = [
        default.to_owned(),
        format!("model_{default}"),
        format!("sagemaker_{default}"),
    ];
    let name = candidates
        .into_iter()
        .chain((2..).map(|i| format!("{default}_{i}")))
        .find(|n| module.variable(n).is_none())
        .unwrap_or_else(|| default.to_owned());
    VariableChoice {
        name,
        exists: false,
    }
}

fn default_variable(attribute: VpcAttribute) -> &'static str {
    match attribute {
        VpcAttribute::SecurityGroupIds => "security_group_ids",
        VpcAttribute::Subnets => "subnet_ids",
    }
}

fn description(attribute: VpcAttribute) -> &'static str {
    match attribute {
        VpcAttribute::SecurityGroupIds => {
            "Security groups for the SageMaker model's network interfaces (sagemaker_model_in_vpc); allow egress on 443."
        }
        VpcAttribute::Subnets => {
            "Private subnets for the SageMaker model's network interfaces (sagemaker_model_in_vpc)."
        }
    }
}

/// How clearly `name` holds ids for `attribute`: `None` if not at all.
fn name_score(attribute: VpcAttribute, name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split(['_', '-']).filter(|t| !t.is_empty()).collect();
    let has = |t: &str| tokens.contains(&t);
    let last = tokens.last().copied().unwrap_or("");
    if [
        "cidr", "cidrs", "name", "names", "arn", "arns", "rule", "rules", "az", "azs",
    ]
    .iter()
    .any(|t| has(t))
    {
        return None;
    }
    let clear = match attribute {
        VpcAttribute::Subnets => {
            !has("public")
                && (last == "subnets"
                    || (lower.contains("subnet") && (has("ids") || last == "ids")))
        }
        VpcAttribute::SecurityGroupIds => {
            let sg = lower.contains("security_group") || has("sg") || has("sgs");
            sg && (has("ids") || last == "groups" || last == "sgs")
        }
    };
    if !clear {
        return None;
    }
    let mut score = 1;
    if has("private") {
        score += 2;
    }
    if [
        "sagemaker",
        "model",
        "models",
        "ml",
        "inference",
        "endpoint",
    ]
    .iter()
    .any(|t| has(t))
    {
        score += 1;
    }
    Some(score)
}

/// `key = value` lines with `=` aligned as `terraform fmt` aligns a chain.
fn align_assignments(pairs: &[(&str, &str)]) -> Vec<String> {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k}{} = {v}", " ".repeat(width - k.chars().count())))
        .collect()
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
            style: ctx.style.clone(),
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
                description: description(attribute),
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
        let non_code = &self.ctx.non_code;
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

/// Absolute positions for nodes of an island that starts at `offset`.
#[derive(Clone, Copy)]
struct Abs<'s> {
    src: &'s str,
    offset: usize,
}

impl Abs<'_> {
    fn range(&self, node: Node<'_>) -> Range<usize> {
        node.start_byte() + self.offset..node.end_byte() + self.offset
    }

    fn text(&self, node: Node<'_>) -> &str {
        self.src.get(self.range(node)).unwrap_or("")
    }
}

/// Where a block's braces are and how its header line is indented.
struct Geometry {
    open_end: usize,
    close_start: usize,
    base_indent: String,
}

impl Geometry {
    fn of(at: Abs<'_>, parts: &BlockParts<'_>) -> Option<Self> {
        if !parts.is_closed() {
            return None;
        }
        let open = at.range(parts.block_start?);
        let close = at.range(parts.block_end?);
        Some(Self {
            open_end: open.end,
            close_start: close.start,
            base_indent: style::line_indent(at.src, open.start).to_owned(),
        })
    }

    /// Does a line appended by [`append_lines`] directly follow the line that
    /// ends at `last_end` (no blank line or comment line between)?
    fn appends_adjacent_to(&self, src: &str, last_end: usize) -> bool {
        let close_line_start = line_start(src, self.close_start);
        if close_line_start > self.open_end
            && src[close_line_start..self.close_start].trim().is_empty()
        {
            adjacent(&src[last_end..close_line_start])
        } else {
            // `}` shares a line with content: the lines go right after it.
            strip_inline_comment(&src[last_end..self.close_start])
                .trim()
                .is_empty()
        }
    }
}

fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Edits that add `lines` (each without indentation or line ending) as the
/// last items of the block, one level deeper than the block's header line.
fn append_lines(
    src: &str,
    g: &Geometry,
    lines: &[String],
    blank_before: bool,
    style: &Style,
) -> Vec<TextEdit> {
    let eol = style.eol;
    let inner = format!("{}{}", g.base_indent, style.indent);
    let body = &src[g.open_end..g.close_start];
    let has_content = !body.trim().is_empty();
    let text: String = lines.iter().map(|l| format!("{inner}{l}{eol}")).collect();
    let mut edits = Vec::new();

    // Content on the `{` line (a one-line block) moves to a line of its own.
    let head = &body[..body.find('\n').unwrap_or(body.len())];
    if !head.trim().is_empty() {
        let ws = head.len() - head.trim_start().len();
        edits.push(TextEdit {
            range: g.open_end..g.open_end + ws,
            new_text: format!("{eol}{inner}"),
        });
    }

    let close_line_start = line_start(src, g.close_start);
    let closing_alone =
        close_line_start > g.open_end && src[close_line_start..g.close_start].trim().is_empty();
    if closing_alone {
        let before = &src[g.open_end..close_line_start];
        let already_blank = before[before.trim_end().len()..].matches('\n').count() >= 2;
        let blank = if blank_before && has_content && !already_blank {
            eol
        } else {
            ""
        };
        edits.push(TextEdit {
            range: close_line_start..close_line_start,
            new_text: format!("{blank}{text}"),
        });
    } else {
        let tail_start = g.open_end + body.trim_end().len();
        let blank = if blank_before && has_content { eol } else { "" };
        edits.push(TextEdit {
            range: tail_start..g.close_start,
            new_text: format!("{eol}{blank}{text}{}", g.base_indent),
        });
    }
    edits
}

/// Drops a comment that ends the current line (`# …`, `// …`, `/* … */`).
fn strip_inline_comment(between: &str) -> &str {
    let mut rest = between.trim_start_matches([' ', '\t']);
    loop {
        if rest.starts_with('#') || rest.starts_with("//") {
            return &rest[rest.find('\n').unwrap_or(rest.len())..];
        }
        if let Some(after) = rest.strip_prefix("/*") {
            match after.find("*/") {
                Some(end) if !after[..end].contains('\n') => {
                    rest = after[end + 2..].trim_start_matches([' ', '\t']);
                    continue;
                }
                _ => return rest,
            }
        }
        return rest;
    }
}

/// Are two items on consecutive lines, with nothing but an inline comment
/// between them? (`terraform fmt` chains only such lines.)
fn adjacent(between: &str) -> bool {
    let rest = strip_inline_comment(between);
    rest.trim().is_empty() && rest.matches('\n').count() == 1
}

/// The whitespace between an attribute's key and its `=`.
fn equals_gap(at: Abs<'_>, attr: Node<'_>) -> Option<Range<usize>> {
    let key = attr.named_child(0)?;
    let mut cursor = attr.walk();
    let eq = attr.children(&mut cursor).find(|c| c.kind() == "=")?;
    let gap = at.range(key).end..at.range(eq).start;
    at.src[gap.clone()]
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(gap)
}

/// One body item as laid out after the edit.
struct Slot {
    /// The key of an attribute; `None` for a nested block.
    key: Option<String>,
    multi_line: bool,
    /// On the line right after the previous item.
    adjacent: bool,
    /// The existing whitespace before `=`.
    gap: Option<Range<usize>>,
    /// Added or changed by the fix: its chain gets aligned.
    touched: bool,
}

/// The number of spaces before `=` for each slot in a chain that the fix
/// touches (`None` elsewhere: those lines are left alone).
fn align_chains(slots: &[Slot]) -> Vec<Option<usize>> {
    let mut out = vec![None; slots.len()];
    let mut start = 0;
    while start < slots.len() {
        // A chain: consecutive attribute lines; a multi-line value ends it.
        let mut end = start + 1;
        if slots[start].key.is_some() {
            while end < slots.len()
                && slots[end].key.is_some()
                && slots[end].adjacent
                && !slots[end - 1].multi_line
            {
                end += 1;
            }
        }
        let chain = &slots[start..end];
        if chain.iter().any(|s| s.touched) && chain[0].key.is_some() {
            let width = chain
                .iter()
                .filter_map(|s| s.key.as_ref())
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(0);
            for (i, slot) in chain.iter().enumerate() {
                if let Some(key) = &slot.key {
                    out[start + i] = Some(width - key.chars().count() + 1);
                }
            }
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_comments_do_not_break_adjacency() {
        assert!(adjacent("\n  "));
        assert!(adjacent(" # note\n  "));
        assert!(adjacent(" /* a */ // b\n"));
        assert!(!adjacent("\n\n  "));
        assert!(!adjacent("\n  # own line\n  "));
        assert!(!adjacent(" "));
    }

    #[test]
    fn names_that_clearly_hold_ids() {
        use VpcAttribute::*;
        for name in [
            "subnet_ids",
            "private_subnets",
            "vpc_subnet_ids",
            "ml_private_subnet_ids",
        ] {
            assert!(name_score(Subnets, name).is_some(), "{name}");
        }
        for name in [
            "subnet_cidrs",
            "public_subnets",
            "subnet_id",
            "subnet_names",
            "vpc_id",
        ] {
            assert!(name_score(Subnets, name).is_none(), "{name}");
        }
        for name in [
            "security_group_ids",
            "model_sg_ids",
            "extra_security_groups",
            "sgs",
        ] {
            assert!(name_score(SecurityGroupIds, name).is_some(), "{name}");
        }
        for name in ["security_group_rules", "sg_name", "security_group_id"] {
            assert!(name_score(SecurityGroupIds, name).is_none(), "{name}");
        }
        assert!(name_score(Subnets, "private_subnet_ids") > name_score(Subnets, "subnet_ids"));
    }
}
