//! The analysis core: text + tree in, findings (and later fixes) out.
//!
//! Nothing here knows about LSP or the terminal: ranges are byte offsets into
//! the analysed text. The language server and the `check` CLI are two thin
//! front ends over [`analyze`].

pub mod document;
pub mod eval;
pub mod finding;
pub mod fix;
pub mod incremental;
pub mod json;
pub mod module;
pub mod position;
pub mod queries;
pub mod rules;
pub mod style;
pub mod suppress;
pub mod syntax;
pub mod terraform;

use tree_sitter::Tree;

pub use finding::{Emptiness, Finding, Problem, Related, ResourceRef, Severity, VpcAttribute};
pub use rules::Context;

/// Checks one parsed HCL file with every rule; findings are sorted by position.
pub fn analyze(src: &str, tree: &Tree, ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for island in terraform::islands(src, tree) {
        let before = findings.len();
        for resource in island.resources() {
            check_resource(&resource, island.src, ctx, &mut findings);
        }
        for finding in &mut findings[before..] {
            finding.shift(island.offset as isize);
        }
    }
    sort(&mut findings);
    findings
}

/// Checks one `.tf.json` file with every rule.
pub fn analyze_json(src: &str, ctx: &Context<'_>) -> Vec<Finding> {
    let tree = json::parse(src);
    let mut findings = Vec::new();
    let Some(root) = json::root_object(&tree) else {
        return findings;
    };
    let ids = rules::rule_ids();
    for resource in terraform::json_resources(root, src) {
        let before = findings.len();
        for rule in rules::RULES {
            rule.check_json_resource(&resource, src, ctx, &mut findings);
        }
        // A suppression is the value of a `"//"` member of the resource.
        let directive = json::objects(resource.member.value)
            .into_iter()
            .next()
            .and_then(|object| json::member(object, "//", src))
            .and_then(|m| {
                let text = json::string_value(m.value, src)?;
                suppress::parse(&text, m.value.byte_range(), &ids)
            });
        let reference = ResourceRef {
            kind: resource.kind.clone(),
            name: resource.name.clone(),
            block: resource.member.pair.byte_range(),
            header: resource.member.key.byte_range(),
        };
        apply_suppression(directive, reference, ctx, &mut findings, before);
    }
    sort(&mut findings);
    findings
}

/// Runs every rule on one HCL resource and applies its suppression comment.
pub(crate) fn check_resource(
    resource: &terraform::Resource<'_>,
    src: &str,
    ctx: &Context<'_>,
    out: &mut Vec<Finding>,
) {
    let before = out.len();
    for rule in rules::RULES {
        rule.check_resource(resource, src, ctx, out);
    }
    let directive = suppress::for_hcl_block(resource.block, src, &rules::rule_ids());
    let reference = ResourceRef {
        kind: resource.kind.clone(),
        name: resource.name.clone(),
        block: resource.block.byte_range(),
        header: resource.header.clone(),
    };
    apply_suppression(directive, reference, ctx, out, before);
}

/// Marks `out[from..]` suppressed by a valid, current directive, or reports
/// what is wrong with the directive.
fn apply_suppression(
    directive: Option<suppress::Directive>,
    resource: ResourceRef,
    ctx: &Context<'_>,
    out: &mut Vec<Finding>,
    from: usize,
) {
    let Some(directive) = directive else {
        return;
    };
    let report = |rule: &'static str, message: String, problem: Problem| Finding {
        rule,
        severity: Severity::Warning,
        range: directive.range.clone(),
        message,
        resource: resource.clone(),
        problem,
        related: Vec::new(),
        suppressed: None,
    };
    if let Some(problem) = &directive.problem {
        out.push(report(
            suppress::INVALID_RULE,
            format!(
                "this suppression of {} has no effect: {problem}",
                resource.address()
            ),
            Problem::InvalidSuppression,
        ));
        return;
    }
    if let Some(expired) = directive.expired(ctx.today) {
        out.push(report(
            suppress::EXPIRED_RULE,
            format!(
                "this suppression of {} expired on {expired}: its findings are reported again; \
                 fix them or renew the date with a reason",
                resource.address()
            ),
            Problem::ExpiredSuppression,
        ));
        return;
    }
    if !ctx.suppressions {
        return;
    }
    let reason = directive.reason.clone().unwrap_or_default();
    for finding in &mut out[from..] {
        if directive.suppresses(finding.rule, ctx.today) {
            finding.suppressed = Some(reason.clone());
        }
    }
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
    });
}

/// Parses and checks HCL `src` with no knowledge beyond the file itself.
pub fn analyze_text(src: &str) -> Vec<Finding> {
    let tree = syntax::parse(src, None);
    analyze(src, &tree, &Context::standalone(&eval::NoScope))
}
