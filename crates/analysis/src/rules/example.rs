//! A rule that exists only in this crate's tests, to prove the rule API:
//! this one file and one line in [`super::RULES`] make a rule that the
//! analysis reports, suppression comments accept by its id, hover explains
//! and fixes fix. It asks models to set `name`.

use super::{Context, Explanation, Reporter, Rule, RuleDoc, Target};
use crate::finding::{Finding, Problem, Severity};
use crate::fix::{Fix, FixContext, Offer, OfferKind, TextEdit};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "example_model_named",
    title: "SageMaker models have a name (test-only example)",
    default_severity: Severity::Hint,
    why: "An example rule for the tests of the rule API.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://example.com/example_model_named",
    opt_in: false,
};

pub(crate) struct ExampleRule;

impl Rule for ExampleRule {
    fn doc(&self) -> &'static RuleDoc {
        &DOC
    }

    fn resource_types(&self) -> &'static [&'static str] {
        &["aws_sagemaker_model"]
    }

    fn check(&self, target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        if target.block.resource_address().map(|(t, _)| t) != Some("aws_sagemaker_model")
            || target.merged.attribute("name").is_some()
        {
            return;
        }
        let (file, base) = target.merged.base;
        let mut reporter = Reporter {
            ctx,
            rule: &DOC,
            resource: target.resource_ref(),
            out,
            everywhere: false,
        };
        reporter.report(
            &file.path,
            base.header(),
            format!("{} has no name", target.address()),
            Problem::MissingVpcConfig,
            Vec::new(),
        );
    }

    fn explain(&self, target: &Target<'_>, _: &Context<'_>, offset: usize) -> Option<Explanation> {
        let header = target.block.header();
        header.contains(&offset).then(|| Explanation {
            rule: DOC.id,
            markdown: format!("`{}`: {}", target.address(), DOC.title),
            span: header,
        })
    }

    fn offers(&self, _: &Finding, _: &FixContext<'_>) -> Vec<Offer> {
        vec![Offer {
            title: "Add a name".to_owned(),
            preferred: true,
            kind: OfferKind::Variables,
        }]
    }

    fn fix(&self, finding: &Finding, ctx: &FixContext<'_>, offer: &Offer) -> Option<Fix> {
        let (_, resource) = ctx.resource_at(finding.resource.block.start)?;
        let open = resource.parts.block_start?.end_byte();
        Some(Fix {
            title: offer.title.clone(),
            preferred: true,
            edits: vec![TextEdit {
                range: open..open,
                new_text: format!("\n  name = \"{}\"", finding.resource.name),
            }],
            declare: Vec::new(),
            elsewhere: Vec::new(),
            resources: vec![finding.resource.block.start],
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::fix::{FixContext, apply_edits, fixes_for};
    use crate::module::{FileFacts, FileKind, Frame, ModuleIndex};
    use crate::{analyze_text, explain, syntax};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    const SRC: &str = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets            = [\"s\"]\n    security_group_ids = [\"g\"]\n  }\n}\n";

    #[test]
    fn a_rule_in_one_file_is_reported_explained_suppressed_and_fixed() {
        let findings = analyze_text(SRC);
        let mine: Vec<_> = findings
            .iter()
            .filter(|f| f.rule == "example_model_named")
            .collect();
        assert_eq!(mine.len(), 1, "{findings:#?}");
        assert_eq!(mine[0].severity, crate::Severity::Hint);
        // A suppression comment names it like any rule.
        let suppressed = analyze_text(&format!(
            "# sagemaker-vpc-lsp:ignore:example_model_named -- named elsewhere\n{SRC}"
        ));
        assert!(
            suppressed
                .iter()
                .any(|f| f.rule == "example_model_named" && f.suppressed.is_some()),
            "{suppressed:#?}"
        );
        // Hover asks every rule.
        let facts = Arc::new(FileFacts::extract(
            Path::new("main.tf"),
            FileKind::Hcl,
            Arc::new(SRC.to_owned()),
            None,
        ));
        let index = Arc::new(ModuleIndex::new(
            PathBuf::from("."),
            vec![Arc::clone(&facts)],
        ));
        let frames = vec![Arc::new(Frame::root(Arc::clone(&index)))];
        let explanation = explain(&facts, &frames, 2).unwrap();
        assert_eq!(explanation.rule, "example_model_named");
        // Its fix, through the shared dispatch.
        let tree = syntax::parse(SRC, None);
        let ctx = FixContext::new(SRC, Some(&tree), &index);
        let fixes = fixes_for(mine[0], &ctx);
        assert_eq!(fixes[0].title, "Add a name");
        let fixed = apply_edits(SRC, &fixes[0].edits);
        assert!(
            !analyze_text(&fixed)
                .iter()
                .any(|f| f.rule == "example_model_named"),
            "{fixed}"
        );
    }
}
