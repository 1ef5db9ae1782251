//! `sagemaker_endpoint_stale_model`: a model with a fixed `name` that an
//! endpoint configuration references and an endpoint uses. A change that
//! replaces the model (adding `vpc_config` is one) recreates it under the
//! same name, so the configuration and the endpoint see no change: the
//! endpoint keeps serving the old deployment, outside the VPC, while
//! Terraform and `sagemaker_model_in_vpc` both call the model compliant
//! (measured with `terraform plan` against a prior state; see
//! [`super::sagemaker_model_in_vpc::predicted_actions`]).

use super::sagemaker_model_in_vpc::{RESOURCE_TYPE, endpoint_chain};
use super::{Context, Explanation, Reporter, Rule, RuleDoc, Target};
use crate::finding::{Finding, Problem, Related, Severity};
use crate::fix::{Fix, FixContext, Offer, TextEdit};
use crate::hir::ExprKind;

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_endpoint_stale_model",
    title: "A served SageMaker model lets its name follow replacement",
    default_severity: Severity::Warning,
    why: "With a fixed `name`, replacing the model (adding `vpc_config` does) recreates it under \
          the same name: the endpoint configuration that references it and the endpoint see no \
          change, so the endpoint keeps serving the old deployment — outside the VPC — while \
          Terraform and the control both call the model compliant. Let the provider generate \
          the name, or derive it from what forces replacement.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

pub(crate) struct EndpointStaleModel;

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if target.block.resource_address().map(|(t, _)| t) != Some(RESOURCE_TYPE)
        || crate::module::never_instantiated(ctx.frame, &target.merged)
    {
        return;
    }
    let Some((file, name)) = target.merged.attribute("name") else {
        return;
    };
    let Some(value) = &name.value else { return };
    if value.kind == ExprKind::Null {
        return;
    }
    let model = target.block.label(1).unwrap_or("");
    let chain = endpoint_chain(model, &ctx.frame.index);
    let served: Vec<(&str, &String)> = chain
        .configs
        .iter()
        .flat_map(|c| c.endpoints.iter().map(move |e| (c.name.as_str(), e)))
        .collect();
    if served.is_empty() {
        return;
    }
    let mut reporter = Reporter {
        ctx,
        rule: &DOC,
        resource: target.resource_ref(),
        out,
        everywhere: false,
    };
    let mut related: Vec<Related> = Vec::new();
    for (config, endpoint) in &served {
        for (kind, label) in [
            ("aws_sagemaker_endpoint_configuration", *config),
            ("aws_sagemaker_endpoint", endpoint.as_str()),
        ] {
            if let Some(m) = ctx.frame.index.merged("resource", &[kind, label]) {
                let (f, b) = m.base;
                let r = reporter.related(
                    &f.path,
                    b.header(),
                    format!("{kind}.{label} would keep the old model"),
                    true,
                );
                if !related.contains(&r) {
                    related.push(r);
                }
            }
        }
    }
    let endpoints: Vec<String> = served
        .iter()
        .map(|(_, e)| format!("aws_sagemaker_endpoint.{e}"))
        .collect();
    reporter.report(
        &file.path,
        name.span.clone(),
        format!(
            "{} has a fixed name and serves {}: a change that replaces the model (adding \
             vpc_config is one) recreates it under the same name, so the endpoint configuration \
             and the endpoint see no change and keep serving the old model; drop the fixed name \
             so they follow",
            target.address(),
            endpoints.join(", ")
        ),
        Problem::Pitfall,
        related,
    );
}

static FIXER: super::network::Fixer = super::network::Fixer {
    fix: fix_of,
    all_title: "Drop the fixed model names",
};

impl Rule for EndpointStaleModel {
    fn doc(&self) -> &'static RuleDoc {
        &DOC
    }

    fn resource_types(&self) -> &'static [&'static str] {
        &[RESOURCE_TYPE]
    }

    fn reads_resources(&self) -> &'static [&'static str] {
        &[
            "aws_sagemaker_endpoint_configuration",
            "aws_sagemaker_endpoint",
        ]
    }

    fn check(&self, target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        check_model(target, ctx, out);
    }

    fn explain(
        &self,
        target: &Target<'_>,
        ctx: &Context<'_>,
        offset: usize,
    ) -> Option<Explanation> {
        let (file, name) = target.merged.attribute("name")?;
        if file.path != ctx.path || !name.span.contains(&offset) {
            return None;
        }
        let mut out = Vec::new();
        check_model(target, ctx, &mut out);
        Some(super::network::explanation(
            &DOC,
            out.first()?,
            name.span.clone(),
        ))
    }

    fn offers(&self, finding: &Finding, ctx: &FixContext<'_>) -> Vec<Offer> {
        FIXER.offers(finding, ctx)
    }

    fn fix(&self, finding: &Finding, ctx: &FixContext<'_>, _offer: &Offer) -> Option<Fix> {
        FIXER.fix(finding, ctx)
    }

    fn fix_all(&self, findings: &[&Finding], ctx: &FixContext<'_>) -> Option<Fix> {
        FIXER.fix_all(findings, ctx)
    }
}

/// Removes the `name = …` line (the provider then generates a name, and a
/// replaced model gets a new one that the configuration follows).
fn fix_of(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    let src = ctx.src;
    let range = finding.range.clone();
    if src.get(range.clone())?.split('=').next()?.trim() != "name" {
        return None;
    }
    let (_, resource) = ctx.resource_at(finding.resource.block.start)?;
    if resource.block.has_error() {
        return None;
    }
    let line = super::network::own_line(src, &range)?;
    Some(Fix {
        title: "Drop the fixed name so the endpoint follows a replaced model".to_owned(),
        preferred: true,
        edits: vec![TextEdit {
            range: line,
            new_text: String::new(),
        }],
        declare: Vec::new(),
        elsewhere: Vec::new(),
        resources: vec![finding.resource.block.start],
    })
}
