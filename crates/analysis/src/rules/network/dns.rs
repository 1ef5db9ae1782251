//! `sagemaker_vpc_dns`: the VPC of the model's subnets turns DNS off
//! (`enable_dns_support = false`), or has Interface endpoints with private
//! DNS and does not set `enable_dns_hostnames = true` (false by default for
//! a new VPC; private DNS needs both): the container cannot resolve ECR, S3
//! or the SageMaker runtime, and the deployment times out.

use super::{Cause, is_model, report};
use crate::finding::{Finding, Severity};
use crate::fix::{Fix, FixContext, TextEdit};
use crate::network::{Inst, Placement, private_dns_interfaces};
use crate::rules::{Context, RuleDoc, Target};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_vpc_dns",
    title: "A SageMaker model's VPC resolves the names it needs",
    default_severity: Severity::Warning,
    why: "Inside a VPC, the model's container resolves ECR, S3 and the SageMaker runtime through \
          the VPC's DNS. With `enable_dns_support = false` nothing resolves; Interface endpoints \
          with private DNS also need `enable_dns_hostnames = true`, which is false by default for \
          a new VPC. The deployment then times out.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

pub(crate) struct Assessment<'t, 'f> {
    placement: &'t Placement<'f>,
    vpc: Inst<'f>,
    /// The flags to set to true.
    flags: Vec<&'static str>,
    causes: Vec<String>,
    endpoint: Option<Inst<'f>>,
}

fn assess<'t, 'f>(target: &'t Target<'f>) -> Option<Assessment<'t, 'f>> {
    if !is_model(target) {
        return None;
    }
    let placement = target.placement()?;
    let vpc = placement.vpc()?;
    let net = &placement.net;
    let address = vpc.reference.address();
    let mut flags = Vec::new();
    let mut causes = Vec::new();
    // Custom DHCP options may point the VPC at DNS servers of its own.
    let custom_dns = net
        .all("aws_vpc_dhcp_options_association")
        .is_none_or(|v| !v.is_empty());
    if net.flag(&vpc, "enable_dns_support", true) == Some(false) && !custom_dns {
        flags.push("enable_dns_support");
        causes.push(format!(
            "{address} sets enable_dns_support = false, so nothing in it resolves names"
        ));
    }
    let interfaces = private_dns_interfaces(net, &vpc.reference);
    let mut endpoint = None;
    if let Some(first) = interfaces.into_iter().next()
        && net.flag(&vpc, "enable_dns_hostnames", false) == Some(false)
    {
        flags.push("enable_dns_hostnames");
        causes.push(format!(
            "{address} does not set enable_dns_hostnames = true (false by default), which the \
             private DNS of {} needs",
            first.reference.address()
        ));
        endpoint = Some(first);
    }
    if flags.is_empty() {
        return None;
    }
    Some(Assessment {
        placement,
        vpc,
        flags,
        causes,
        endpoint,
    })
}

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(a) = assess(target) else {
        return;
    };
    let message = format!(
        "{} runs in a VPC whose DNS cannot resolve the names it needs: {}",
        target.address(),
        a.causes.join("; ")
    );
    let vpc = a.vpc.reference.address();
    let mut causes = vec![Cause::at(
        &a.vpc,
        String::new(),
        &format!("{vpc} is declared here"),
    )];
    if let Some(e) = &a.endpoint {
        causes.push(Cause::at(
            e,
            String::new(),
            &format!("{} relies on private DNS", e.reference.address()),
        ));
    }
    report(&DOC, target, ctx, &a.placement.site, message, &causes, out);
}

fn fix_of(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    super::with_target(finding, ctx, &check_model, &|target, path| {
        let a = assess(target)?;
        let (file, block) = a.vpc.block();
        if block.json || !block.clean || !a.vpc.merged.overrides.is_empty() {
            return None;
        }
        let edits = flag_edits(file, block, &a.flags)?;
        let title = format!(
            "Set {} on {}",
            a.flags
                .iter()
                .map(|f| format!("{f} = true"))
                .collect::<Vec<_>>()
                .join(" and "),
            a.vpc.resource()
        );
        Some(super::fix_in(
            title,
            path,
            &file.path,
            edits,
            finding.resource.block.start,
        ))
    })
}

/// The edits that set `flags` to `true` in a VPC block: a literal `false`
/// is replaced; missing ones are added as a group of their own before the
/// closing brace, after a blank line (so `terraform fmt` aligns them apart).
/// `None` when that cannot be done safely (a value from elsewhere, a brace
/// not on a line of its own).
pub(crate) fn flag_edits(
    file: &crate::module::FileFacts,
    block: &crate::hir::Block,
    flags: &[&'static str],
) -> Option<Vec<TextEdit>> {
    let eol = super::eol_of(file);
    let indent = super::indent_of(file);
    let mut edits = Vec::new();
    let mut added = Vec::new();
    for flag in flags {
        match block.body.attribute(flag).and_then(|a| a.value.as_ref()) {
            // `false` (or what resolves to it) becomes `true`.
            Some(expr) => edits.push(TextEdit {
                range: expr.span.clone(),
                new_text: "true".to_owned(),
            }),
            None => added.push((*flag, "true".to_owned())),
        }
    }
    if !added.is_empty() {
        // A group of their own before the closing brace, after a blank
        // line (so `terraform fmt` aligns them apart); only when the
        // brace is on a line of its own.
        let line_start = super::before_close(&file.text, block)?;
        edits.push(TextEdit {
            range: line_start..line_start,
            new_text: format!("{eol}{}", super::aligned(&indent, &added, eol)),
        });
    }
    // Only a literal `false` is replaced: a value from elsewhere is
    // changed where it is defined.
    if edits
        .iter()
        .any(|e| !e.range.is_empty() && file.text[e.range.clone()].trim() != "false")
    {
        return None;
    }
    edits.sort_by_key(|e| e.range.start);
    Some(edits)
}

pub(crate) static RULE: super::NetworkRule = super::NetworkRule {
    doc: &DOC,
    site: "subnets",
    check: check_model,
    fix: Some(super::Fixer {
        fix: fix_of,
        all_title: "Turn on the VPC's DNS",
    }),
};
