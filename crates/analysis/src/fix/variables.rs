//! Which variable a fix writes (`var.subnet_ids`, or one the module already
//! declares under a name that clearly holds such ids and a type that can),
//! and the declarations of the new ones, in the target file's own style.

use tree_sitter::Tree;

use crate::eval::types::Type;
use crate::eval::{self, NoScope, Value};
use crate::finding::VpcAttribute;
use crate::module::{ModuleIndex, VariableDecl};
use crate::style::Style;

use super::{NewVariable, TextEdit, align_assignments};

/// The edit that declares `vars` at the end of `target` (a module file, often
/// `variables.tf`), in `target`'s own style (read from its tree when the
/// caller has it, see [`Style::of`]).
pub fn declaration_edit(
    target: &str,
    target_tree: Option<&Tree>,
    vars: &[NewVariable],
) -> Option<TextEdit> {
    if vars.is_empty() {
        return None;
    }
    declaration_edit_styled(target, &Style::of(target, target_tree), vars)
}

/// [`declaration_edit`], with `target`'s style already known.
pub fn declaration_edit_styled(
    target: &str,
    style: &Style,
    vars: &[NewVariable],
) -> Option<TextEdit> {
    if vars.is_empty() {
        return None;
    }
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
pub(crate) struct VariableChoice {
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

pub(crate) fn choose_variable(attribute: VpcAttribute, module: &ModuleIndex) -> VariableChoice {
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

pub(crate) fn description(attribute: VpcAttribute) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

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
