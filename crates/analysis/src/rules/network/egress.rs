//! `sagemaker_security_group_egress`: every security group of the model is
//! declared in the configuration and none of them allows TCP 443 out. AWS
//! applies the union of an interface's groups, so the groups are judged
//! together. Terraform removes AWS's default allow-all egress from the
//! groups it manages: a group without egress rules blocks everything.
//!
//! Egress comes from inline `egress` blocks, `aws_security_group_rule`
//! (`type = "egress"`) and `aws_vpc_security_group_egress_rule`. A rule whose
//! group, type, protocol or ports are not known may allow 443, and keeps the
//! rule silent.

use super::{Cause, is_model, report};
use crate::eval::Value;
use crate::finding::{Finding, Severity};
use crate::fix::{Fix, FixContext, TextEdit};
use crate::hir::Block;
use crate::module::Reference;
use crate::network::{Certain, Inst, Net, Site, site};
use crate::rules::{Context, RuleDoc, Target};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_security_group_egress",
    title: "A SageMaker model's security groups allow HTTPS out",
    default_severity: Severity::Warning,
    why: "The model's container reaches ECR, S3 and the VPC endpoints over HTTPS. Terraform \
          removes the default allow-all egress rule from the security groups it manages, so a \
          group without an egress rule for TCP 443 blocks the image pull and the deployment \
          times out.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

struct Assessment<'f> {
    net: Net<'f>,
    site: Site<'f>,
    groups: Vec<(Inst<'f>, bool)>,
}

/// Does a rule with this protocol and these ports allow TCP 443?
fn allows(protocol: Option<Value>, from: Option<Value>, to: Option<Value>) -> Certain {
    let protocol = match protocol.map(|p| p.to_text()) {
        Some(Ok(Some(p))) => p.to_ascii_lowercase(),
        _ => return Certain::Unknown,
    };
    match protocol.as_str() {
        "-1" | "all" => Certain::Yes,
        "tcp" | "6" => {
            let port = |v: Option<Value>| v.and_then(|v| v.to_number().ok().flatten());
            match (port(from), port(to)) {
                (Some(f), Some(t)) if f <= 443.0 && 443.0 <= t => Certain::Yes,
                (Some(_), Some(_)) => Certain::No,
                _ => Certain::Unknown,
            }
        }
        _ => Certain::No,
    }
}

/// Whether `group` allows TCP 443 out, and whether it has any egress rule.
fn group_allows(net: &Net<'_>, group: &Inst<'_>) -> (Certain, bool) {
    let mut any = false;
    let mut unknown = false;
    let mut record = |c: Certain, any_rule: &mut bool| {
        *any_rule = true;
        match c {
            Certain::Yes => Some(()),
            Certain::Unknown => {
                unknown = true;
                None
            }
            Certain::No => None,
        }
    };
    for (_, block) in group.merged.blocks_of("egress") {
        if block.kind != "egress" {
            // A dynamic block: how many rules it renders is not judged.
            return (Certain::Unknown, true);
        }
        let v = |n: &str| net.block_value(group, block, n);
        if record(
            allows(v("protocol"), v("from_port"), v("to_port")),
            &mut any,
        )
        .is_some()
        {
            return (Certain::Yes, true);
        }
    }
    let Some(rules) = net.all("aws_security_group_rule") else {
        return (Certain::Unknown, any);
    };
    for rule in &rules {
        match net.reference_of(rule, "security_group_id") {
            None => return (Certain::Unknown, any),
            Some(Some(r)) if r == group.reference => {}
            Some(_) => continue,
        }
        match net.text(rule, "type").as_deref() {
            Some("egress") => {}
            Some(_) => continue,
            None => return (Certain::Unknown, any),
        }
        let v = |n: &str| net.value(rule, n);
        if record(
            allows(v("protocol"), v("from_port"), v("to_port")),
            &mut any,
        )
        .is_some()
        {
            return (Certain::Yes, true);
        }
    }
    let Some(rules) = net.all("aws_vpc_security_group_egress_rule") else {
        return (Certain::Unknown, any);
    };
    for rule in &rules {
        match net.reference_of(rule, "security_group_id") {
            None => return (Certain::Unknown, any),
            Some(Some(r)) if r == group.reference => {}
            Some(_) => continue,
        }
        let v = |n: &str| net.value(rule, n);
        if record(
            allows(v("ip_protocol"), v("from_port"), v("to_port")),
            &mut any,
        )
        .is_some()
        {
            return (Certain::Yes, true);
        }
    }
    if unknown {
        (Certain::Unknown, any)
    } else {
        (Certain::No, any)
    }
}

fn assess<'f>(target: &Target<'f>) -> Option<Assessment<'f>> {
    let frame = target.frame();
    if !is_model(target) || crate::module::never_instantiated(frame, &target.merged) {
        return None;
    }
    let site = site(&target.merged, "security_group_ids")?;
    let net = Net::new(frame);
    let refs = Net::references(&net.eval(frame, site.expr, &[]))?;
    if refs.is_empty()
        || refs.iter().any(|r| {
            !matches!(
                r.kind.as_str(),
                "aws_security_group" | "aws_default_security_group"
            )
        })
        || net.opaque_calls().is_some()
    {
        return None;
    }
    let mut groups = Vec::new();
    let mut seen: Vec<Reference> = Vec::new();
    for r in refs {
        if seen.contains(&r) {
            continue;
        }
        seen.push(r.clone());
        let group = net.get(&r)?;
        match group_allows(&net, &group) {
            (Certain::No, any) => groups.push((group, any)),
            _ => return None,
        }
    }
    Some(Assessment { net, site, groups })
}

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(a) = assess(target) else {
        return;
    };
    let names: Vec<String> = a
        .groups
        .iter()
        .map(|(g, any)| {
            if *any {
                g.reference.address()
            } else {
                format!(
                    "{} (no egress rule at all: Terraform removes AWS's default allow-all \
                     egress, so it blocks all outbound traffic)",
                    g.reference.address()
                )
            }
        })
        .collect();
    let message = format!(
        "no security group of {} allows TCP 443 out, so the model cannot reach ECR, S3 or the VPC \
         endpoints and its deployment times out: {}",
        target.address(),
        names.join(", ")
    );
    let causes: Vec<Cause> = a
        .groups
        .iter()
        .map(|(g, _)| {
            Cause::at(
                g,
                String::new(),
                &format!("{} allows no TCP 443 egress", g.reference.address()),
            )
        })
        .collect();
    report(&DOC, target, ctx, &a.site, message, &causes, out);
}

/// The destination of the rule a fix adds: the VPC's CIDR when the group's
/// VPC declares one, else anywhere.
fn destination(net: &Net<'_>, group: &Inst<'_>) -> Option<String> {
    let vpc = net.reference_of(group, "vpc_id")??;
    let vpc_inst = net.get(&vpc)?;
    vpc_inst.attribute("cidr_block")?;
    (vpc.folder == group.reference.folder).then(|| {
        format!(
            "{}.{}{}.cidr_block",
            vpc.kind,
            vpc.name,
            super::key_suffix(&vpc.key)
        )
    })
}

fn fix_of(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    super::with_target(finding, ctx, &check_model, &|target, path| {
        let a = assess(target)?;
        // The first group gets the rule: one is enough for the union.
        let (group, _) = a.groups.first()?;
        let (file, block) = group.block();
        if block.json || !block.clean || !group.merged.overrides.is_empty() {
            return None;
        }
        let eol = super::eol_of(file);
        let indent = super::indent_of(file);
        let to = destination(&a.net, group);
        let cidr = to.clone().unwrap_or_else(|| super::hcl_string("0.0.0.0/0"));
        let comment = if to.is_some() {
            String::new()
        } else {
            format!(
                "{indent}# HTTPS to ECR, S3 and the VPC endpoints; narrow it to your VPC's CIDR \
                 or prefix lists.{eol}"
            )
        };
        let inline = has_inline_rules(block) || group.expanded();
        let edit = if inline {
            // Inline rules and rule resources must not be mixed: add an
            // inline block, as its own group before the closing brace.
            let line_start = super::before_close(&file.text, block)?;
            let inner = format!("{indent}{indent}");
            let body = super::aligned(
                &inner,
                &[
                    ("description", super::hcl_string("HTTPS out")),
                    ("from_port", "443".to_owned()),
                    ("to_port", "443".to_owned()),
                    ("protocol", super::hcl_string("tcp")),
                    ("cidr_blocks", format!("[{cidr}]")),
                ],
                eol,
            );
            let comment = comment.replacen(&indent, &inner, 1);
            TextEdit {
                range: line_start..line_start,
                new_text: format!("{eol}{indent}egress {{{eol}{comment}{body}{indent}}}{eol}"),
            }
        } else {
            let at = super::after_block(block)?;
            let name = format!("{}_https_egress", group.reference.name);
            if group
                .frame
                .index
                .merged(
                    "resource",
                    &["aws_vpc_security_group_egress_rule", name.as_str()],
                )
                .is_some()
            {
                return None;
            }
            let body = super::aligned(
                &indent,
                &[
                    ("security_group_id", super::id_expr(&group.reference)),
                    ("description", super::hcl_string("HTTPS out")),
                    ("ip_protocol", super::hcl_string("tcp")),
                    ("from_port", "443".to_owned()),
                    ("to_port", "443".to_owned()),
                    ("cidr_ipv4", cidr),
                ],
                eol,
            );
            TextEdit {
                range: at..at,
                new_text: format!(
                    "{eol}{eol}resource \"aws_vpc_security_group_egress_rule\" \"{name}\" \
                     {{{eol}{comment}{body}}}"
                ),
            }
        };
        Some(super::fix_in(
            format!(
                "Allow HTTPS (TCP 443) egress from {}",
                group.reference.address()
            ),
            path,
            &file.path,
            vec![edit],
            finding.resource.block.start,
        ))
    })
}

/// Does the group declare inline `ingress` or `egress` blocks?
fn has_inline_rules(block: &Block) -> bool {
    block
        .body
        .blocks
        .iter()
        .any(|b| matches!(crate::module::effective_kind(b), "ingress" | "egress"))
}

pub(crate) static RULE: super::NetworkRule = super::NetworkRule {
    doc: &DOC,
    site: "security_group_ids",
    check: check_model,
    fix: Some(super::Fixer {
        fix: fix_of,
        all_title: "Allow HTTPS egress",
    }),
};
