//! `sagemaker_model_replacement` (hint; `check` reports it only when
//! selected): a served model — an endpoint configuration references it and
//! an endpoint uses that configuration — whose chain has no
//! `create_before_destroy` where it matters. Replacing the model (adding
//! `vpc_config` does) then deletes the configuration before its successor
//! exists: if the new model cannot deploy (the network pitfalls), the
//! endpoint's update fails with nothing to roll back to.
//!
//! Measured with `terraform plan` against a prior state (Terraform 1.11.4,
//! hashicorp/aws 5.100.0): `create_before_destroy` on the configuration or
//! the endpoint propagates to the model; on the model alone the
//! configuration is still deleted before it is recreated. So the rule asks
//! for it on a configuration (or the endpoint) of each served chain.
//!
//! The code action *Prepare a blue-green cutover* adds
//! `lifecycle { create_before_destroy = true }` to the configurations, and
//! makes names unique as the provider allows: a fixed model `name` is
//! dropped (`aws_sagemaker_model` has no `name_prefix`; the provider then
//! generates one), a fixed configuration `name` becomes `name_prefix`.

use super::sagemaker_model_in_vpc::{RESOURCE_TYPE, endpoint_chain};

const CONFIG: &str = "aws_sagemaker_endpoint_configuration";
const ENDPOINT: &str = "aws_sagemaker_endpoint";
use super::{Context, Explanation, Reporter, Rule, RuleDoc, Target};
use crate::finding::{Finding, Problem, Related, Severity};
use crate::fix::{Fix, FixContext, Offer, TextEdit};
use crate::hir::ExprKind;
use crate::module::{FileFacts, Merged};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_model_replacement",
    title: "A served SageMaker model can be replaced blue-green",
    default_severity: Severity::Hint,
    why: "Replacing a served model (adding `vpc_config` does) without `create_before_destroy` \
          on its endpoint configuration deletes the configuration before the new one exists: if \
          the new model cannot deploy, the endpoint update fails with nothing to roll back to. \
          `create_before_destroy` on the configuration (or the endpoint) propagates to the \
          model; on the model alone it does not.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: true,
};

pub(crate) struct ModelReplacement;

/// `lifecycle { create_before_destroy = true }`, literally.
fn creates_before_destroy(merged: &Merged<'_>) -> bool {
    merged.blocks_of("lifecycle").any(|(_, b)| {
        b.body
            .attribute("create_before_destroy")
            .and_then(|a| a.value.as_ref())
            .is_some_and(|e| e.kind == ExprKind::Bool(true))
    })
}

/// The configurations serving `model` that an endpoint uses (the chain
/// [`endpoint_chain`] finds), when no configuration or endpoint of it
/// creates before destroying.
fn unprotected<'a>(index: &'a crate::module::ModuleIndex, model: &str) -> Option<Vec<Merged<'a>>> {
    let mut chain = Vec::new();
    for config in endpoint_chain(model, index).configs {
        if config.endpoints.is_empty() {
            continue;
        }
        let merged = index.merged("resource", &[CONFIG, &config.name])?;
        let endpoints_protect = config.endpoints.iter().any(|e| {
            index
                .merged("resource", &[ENDPOINT, e])
                .is_some_and(|m| creates_before_destroy(&m))
        });
        if creates_before_destroy(&merged) || endpoints_protect {
            return None;
        }
        chain.push(merged);
    }
    (!chain.is_empty()).then_some(chain)
}

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if target.block.resource_address().map(|(t, _)| t) != Some(RESOURCE_TYPE)
        || crate::module::never_instantiated(ctx.frame, &target.merged)
    {
        return;
    }
    let model = target.block.label(1).unwrap_or("");
    let Some(chain) = unprotected(&ctx.frame.index, model) else {
        return;
    };
    let (file, base) = target.merged.base;
    let mut reporter = Reporter {
        ctx,
        rule: &DOC,
        resource: target.resource_ref(),
        out,
        everywhere: false,
    };
    let mut related: Vec<Related> = Vec::new();
    let mut configs = Vec::new();
    for config in &chain {
        let (f, b) = config.base;
        let (_, label) = b.resource_address().unwrap_or(("", ""));
        configs.push(format!("aws_sagemaker_endpoint_configuration.{label}"));
        related.push(reporter.related(
            &f.path,
            b.header(),
            "deleted before its replacement exists".to_owned(),
            true,
        ));
    }
    reporter.report(
        &file.path,
        base.header(),
        format!(
            "replacing {} (adding vpc_config does) deletes {} before the new one exists; if the \
             new model cannot deploy, the endpoint has nothing to roll back to: prepare a \
             blue-green cutover (create_before_destroy on the configuration)",
            target.address(),
            configs.join(", ")
        ),
        Problem::Pitfall,
        related,
    );
}

static FIXER: super::network::Fixer = super::network::Fixer {
    fix: fix_of,
    all_title: "Prepare blue-green cutovers",
};

impl Rule for ModelReplacement {
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

    fn explain(&self, _: &Target<'_>, _: &Context<'_>, _: usize) -> Option<Explanation> {
        // The model's hover (sagemaker_model_in_vpc) already says what
        // replacing it does to the chain.
        None
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

/// Edits of one configuration: `name` → `name_prefix`, and the lifecycle.
fn config_edits(file: &FileFacts, config: &Merged<'_>) -> Option<Vec<TextEdit>> {
    let (_, block) = config.base;
    if block.json || !block.clean || !config.overrides.is_empty() {
        return None;
    }
    let text = file.text.as_str();
    let eol = super::network::eol_of(file);
    let indent = super::network::indent_of(file);
    let mut edits = Vec::new();
    if let Some(name) = block.body.attribute("name") {
        let value = name.value.as_ref()?;
        let literal = value.as_literal_string()?;
        // `name_prefix` is at most 37 characters.
        if literal.len() > 36 || block.body.attribute("name_prefix").is_some() {
            return None;
        }
        edits.push(TextEdit {
            range: name.span.clone(),
            new_text: format!(
                "name_prefix = {}",
                super::network::hcl_string(&format!("{literal}-"))
            ),
        });
    }
    if let Some((_, lifecycle)) = config.blocks_of("lifecycle").next() {
        if lifecycle.body.attribute("create_before_destroy").is_some()
            || lifecycle.kind != "lifecycle"
        {
            return None;
        }
        let line_start = super::network::before_close(text, lifecycle)?;
        edits.push(TextEdit {
            range: line_start..line_start,
            new_text: format!("{eol}{indent}{indent}create_before_destroy = true{eol}"),
        });
    } else {
        let line_start = super::network::before_close(text, block)?;
        edits.push(TextEdit {
            range: line_start..line_start,
            new_text: format!(
                "{eol}{indent}lifecycle {{{eol}{indent}{indent}create_before_destroy = true{eol}{indent}}}{eol}"
            ),
        });
    }
    Some(edits)
}

fn fix_of(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    let model = &finding.resource.name;
    let chain = unprotected(ctx.module, model)?;
    let mut here: Vec<TextEdit> = Vec::new();
    let mut elsewhere: Vec<(std::path::PathBuf, Vec<TextEdit>)> = Vec::new();
    let analyzed = ctx
        .module
        .files
        .iter()
        .find(|f| f.text.as_str() == ctx.src)?
        .path
        .clone();
    let mut add = |path: &std::path::Path, edits: Vec<TextEdit>| {
        if path == analyzed {
            crate::fix::merge_edits(&mut here, edits);
        } else {
            crate::fix::merge_elsewhere(&mut elsewhere, path, edits);
        }
    };
    // A fixed model name would collide with itself: the provider generates
    // one when `name` is left out.
    let merged = ctx.module.merged("resource", &[RESOURCE_TYPE, model])?;
    if let Some((file, name)) = merged.attribute("name") {
        if !merged.overrides.is_empty() {
            return None;
        }
        let line = super::network::own_line(&file.text, &name.span)?;
        add(
            &file.path,
            vec![TextEdit {
                range: line,
                new_text: String::new(),
            }],
        );
    }
    for config in &chain {
        let (file, _) = config.base;
        add(&file.path, config_edits(file, config)?);
    }
    Some(Fix {
        title: "Prepare a blue-green cutover (create_before_destroy, unique names)".to_owned(),
        preferred: false,
        edits: here,
        declare: Vec::new(),
        elsewhere,
        resources: vec![finding.resource.block.start],
    })
}
