//! The pitfall rules: a model that passes `sagemaker_model_in_vpc` and is
//! still certain to fail at deploy because of the network it is placed in
//! (the control documentation's "common pitfalls"). Each rule is one file;
//! what they share — where a finding goes, related information, the text a
//! fix inserts after a declaration — is here. The facts come from
//! [`crate::network`]; only what is certain is reported.

pub mod az_spread;
pub mod dns;
pub mod egress;
pub mod endpoints;
pub mod public_subnet;

use std::path::{Path, PathBuf};

use super::{Context, Explanation, Reporter, RuleDoc, Target};
use crate::finding::{Finding, Problem, Related};
use crate::fix::{Fix, FixContext, TextEdit};
use crate::hir::Span;
use crate::module::{FileFacts, Frame, InstanceKey, Reference};
use crate::network::{Inst, Site};

pub(crate) const MODEL: &str = "aws_sagemaker_model";

/// Checks one model, appending its findings.
type Check = fn(&Target<'_>, &Context<'_>, &mut Vec<Finding>);

/// A pitfall rule: its documentation, the model argument its findings
/// start at (and hover explains), its check, and its fix if it has one.
/// Every pitfall rule reads the network types and starts from models, so
/// one implementation of [`super::Rule`] serves them all.
pub(crate) struct NetworkRule {
    pub doc: &'static RuleDoc,
    /// `subnets` or `security_group_ids`.
    pub site: &'static str,
    pub check: Check,
    pub fix: Option<Fixer>,
}

/// The fix of a pitfall rule's finding, and the title of several merged:
/// what the rules' `offers`, `fix` and `fix_all` do with it.
pub(crate) struct Fixer {
    pub fix: fn(&Finding, &FixContext<'_>) -> Option<Fix>,
    pub all_title: &'static str,
}

impl Fixer {
    /// The fix, offered when it applies (computing it says whether it does).
    pub fn offers(&self, finding: &Finding, ctx: &FixContext<'_>) -> Vec<crate::fix::Offer> {
        (self.fix)(finding, ctx)
            .map(|fix| crate::fix::Offer {
                title: fix.title,
                preferred: fix.preferred,
                kind: crate::fix::OfferKind::Resources,
            })
            .into_iter()
            .collect()
    }

    pub fn fix(&self, finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
        (self.fix)(finding, ctx)
    }

    /// The fixes of `findings`, merged into one.
    pub fn fix_all(&self, findings: &[&Finding], ctx: &FixContext<'_>) -> Option<Fix> {
        let fixes = findings.iter().filter_map(|f| (self.fix)(f, ctx)).collect();
        merge_fixes(self.all_title, fixes)
    }
}

impl super::Rule for NetworkRule {
    fn doc(&self) -> &'static RuleDoc {
        self.doc
    }

    fn resource_types(&self) -> &'static [&'static str] {
        &[MODEL]
    }

    fn reads_resources(&self) -> &'static [&'static str] {
        crate::network::TYPES
    }

    fn check(&self, target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        (self.check)(target, ctx, out);
    }

    fn explain(
        &self,
        target: &Target<'_>,
        ctx: &Context<'_>,
        offset: usize,
    ) -> Option<Explanation> {
        explain_with(self.doc, target, ctx, offset, self.site, &self.check)
    }

    fn offers(&self, finding: &Finding, ctx: &FixContext<'_>) -> Vec<crate::fix::Offer> {
        self.fix
            .as_ref()
            .map(|f| f.offers(finding, ctx))
            .unwrap_or_default()
    }

    fn fix(&self, finding: &Finding, ctx: &FixContext<'_>, _: &crate::fix::Offer) -> Option<Fix> {
        self.fix.as_ref()?.fix(finding, ctx)
    }

    fn fix_all(&self, findings: &[&Finding], ctx: &FixContext<'_>) -> Option<Fix> {
        self.fix.as_ref()?.fix_all(findings, ctx)
    }
}

/// A cause of a finding: a message part and the declaration it points at.
pub(crate) struct Cause {
    pub text: String,
    pub at: Option<(PathBuf, Span, String)>,
}

impl Cause {
    pub fn at(inst: &Inst<'_>, text: String, note: &str) -> Self {
        let (file, header) = inst.declared();
        Self {
            text,
            at: Some((file.path.clone(), header, note.to_owned())),
        }
    }
}

/// Is this target a model (the only resource the pitfall rules start from)?
pub(crate) fn is_model(target: &Target<'_>) -> bool {
    target.block.resource_address().map(|(t, _)| t) == Some(MODEL)
}

/// Reports one finding at `site`'s value, naming every cause.
pub(crate) fn report(
    doc: &'static RuleDoc,
    target: &Target<'_>,
    ctx: &Context<'_>,
    site: &Site<'_>,
    message: String,
    causes: &[Cause],
    out: &mut Vec<Finding>,
) {
    let mut reporter = Reporter {
        ctx,
        rule: doc,
        resource: target.resource_ref(),
        out,
        everywhere: false,
    };
    let mut related: Vec<Related> = Vec::new();
    for cause in causes {
        if let Some((path, span, note)) = &cause.at {
            let r = reporter.related(path, span.clone(), note.clone(), true);
            if !related.contains(&r) {
                related.push(r);
            }
        }
    }
    // A model in a called module: its network is the caller's.
    if let Some(call) = &ctx.frame.call
        && causes.iter().any(|c| {
            c.at.as_ref()
                .is_some_and(|(p, _, _)| crate::module::folder_of(p) != ctx.frame.index.folder)
        })
    {
        related.push(reporter.related(
            &call.file,
            call.header.clone(),
            format!("the values come from module.{}", call.name),
            true,
        ));
    }
    let note = match ctx.frame.call_path() {
        Some(path) => format!(" (in {path})"),
        None => String::new(),
    };
    reporter.report(
        &site.file.path,
        site.expr.span.clone(),
        format!("{message}{note}"),
        Problem::Pitfall,
        related,
    );
}

/// The hover of a pitfall rule: its finding's message, or that it passes.
pub(crate) fn explain_with(
    doc: &'static RuleDoc,
    target: &Target<'_>,
    ctx: &Context<'_>,
    offset: usize,
    site_name: &str,
    check: &dyn Fn(&Target<'_>, &Context<'_>, &mut Vec<Finding>),
) -> Option<Explanation> {
    if !is_model(target) {
        return None;
    }
    let site = crate::network::site(&target.merged, site_name)?;
    if site.file.path != ctx.path || !site.attribute.span.contains(&offset) {
        return None;
    }
    let mut out = Vec::new();
    check(target, ctx, &mut out);
    // Only a rule with something certain to say explains (hover on a
    // compliant argument shows the model's own explanation).
    Some(explanation(doc, out.first()?, site.attribute.span.clone()))
}

/// A pitfall rule's hover over `span`: the rule, what its finding says, and
/// why it matters.
pub(crate) fn explanation(doc: &'static RuleDoc, finding: &Finding, span: Span) -> Explanation {
    Explanation {
        rule: doc.id,
        markdown: format!(
            "**{}** (`{}`)\n\n**{}**\n\n{}\n\n[Control documentation]({})",
            doc.title, doc.id, finding.message, doc.why, doc.docs_url
        ),
        span,
    }
}

/// How the configuration refers to an instance's id from its own module.
pub(crate) fn id_expr(r: &Reference) -> String {
    format!("{}.{}{}.id", r.kind, r.name, key_suffix(&r.key))
}

pub(crate) fn key_suffix(key: &InstanceKey) -> String {
    match key {
        InstanceKey::None => String::new(),
        InstanceKey::Index(i) => format!("[{i}]"),
        InstanceKey::Key(k) => format!("[{}]", hcl_string(k)),
    }
}

/// A quoted HCL string.
pub(crate) fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Re-derives the facts of `finding`'s model for a fix: in the frame (of
/// those the findings were computed in) where `check` reports the same
/// finding again.
pub(crate) fn with_target<R>(
    finding: &Finding,
    ctx: &FixContext<'_>,
    check: &dyn Fn(&Target<'_>, &Context<'_>, &mut Vec<Finding>),
    then: &dyn Fn(&Target<'_>, &Path) -> Option<R>,
) -> Option<R> {
    for frame in &ctx.frames {
        // Found by where blocks are, without placing every block the
        // last edits moved (only the one found is).
        let found = frame
            .index
            .files
            .iter()
            .filter(|f| f.text.as_str() == ctx.src)
            .find_map(|f| {
                let at = f
                    .blocks
                    .iter()
                    .find(|b| b.placed_span() == finding.resource.block)?;
                Some((f, at))
            });
        let Some((file, block)) = found else {
            continue;
        };
        let Some(merged) = frame.index.merged_for(&file.path, block) else {
            continue;
        };
        let target = Target::new(block, merged, frame);
        let c = Context {
            frame,
            path: &file.path,
            today: crate::suppress::Date::today(),
            suppressions: false,
        };
        let mut out = Vec::new();
        check(&target, &c, &mut out);
        if out
            .iter()
            .any(|f| f.range == finding.range && f.message == finding.message)
        {
            return then(&target, &file.path);
        }
    }
    None
}

/// Where text inserted after a top-level block goes: right after its
/// closing brace (the edit starts with a blank line).
pub(crate) fn after_block(block: &crate::hir::Block) -> Option<usize> {
    if block.json || !block.clean {
        return None;
    }
    Some(block.span.end)
}

/// A fix whose edits are all in `path`: in the analyzed file's own edits
/// when that is `path`, else in `elsewhere`.
pub(crate) fn fix_in(
    title: String,
    analyzed: &Path,
    path: &Path,
    edits: Vec<TextEdit>,
    resource: usize,
) -> Fix {
    let here = analyzed == path;
    Fix {
        title,
        preferred: true,
        edits: if here { edits.clone() } else { Vec::new() },
        declare: Vec::new(),
        elsewhere: if here {
            Vec::new()
        } else {
            vec![(path.to_path_buf(), edits)]
        },
        resources: vec![resource],
    }
}

/// Merges the fixes of several findings of one rule into one.
fn merge_fixes(title: &str, fixes: Vec<Fix>) -> Option<Fix> {
    let mut all: Option<Fix> = None;
    for fix in fixes {
        match all.as_mut() {
            None => all = Some(fix),
            Some(all) => {
                all.title = title.to_owned();
                crate::fix::merge_edits(&mut all.edits, fix.edits);
                for (path, edits) in fix.elsewhere {
                    crate::fix::merge_elsewhere(&mut all.elsewhere, &path, edits);
                }
                all.resources.extend(fix.resources);
            }
        }
    }
    all
}

/// The module's indentation unit for text a fix writes into `file`.
pub(crate) fn indent_of(file: &FileFacts) -> String {
    // Two spaces is what `terraform fmt` writes; a file indented with
    // something else keeps its own.
    let text = file.text.as_str();
    for line in text.lines() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let n = line.len() - trimmed.len();
        if n > 0 && !trimmed.is_empty() {
            return line[..n].to_owned();
        }
    }
    "  ".to_owned()
}

/// The line ending `file` uses.
pub(crate) fn eol_of(file: &FileFacts) -> &'static str {
    if file.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Lines `key = value` aligned as `terraform fmt` aligns them, each
/// indented and ended.
pub(crate) fn aligned(indent: &str, pairs: &[(&str, String)], eol: &str) -> String {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::fix::align_assignments(&pairs)
        .iter()
        .map(|line| format!("{indent}{line}{eol}"))
        .collect()
}

/// Where lines added as a block's last items go: the start of the line of
/// its closing brace, when the brace stands alone on that line.
pub(crate) fn before_close(text: &str, block: &crate::hir::Block) -> Option<usize> {
    let (_, close) = block.braces?;
    let start = crate::fix::line_start(text, close);
    text[start..close].trim().is_empty().then_some(start)
}

/// The whole line of `span` when the span stands alone on it (a trailing
/// comment allowed), for removing it.
pub(crate) fn own_line(
    text: &str,
    span: &std::ops::Range<usize>,
) -> Option<std::ops::Range<usize>> {
    let start = crate::fix::line_start(text, span.start);
    let end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    let rest = text[span.end..end].trim();
    (text[start..span.start].trim().is_empty()
        && (rest.is_empty() || rest.starts_with('#') || rest.starts_with("//")))
    .then_some(start..end)
}

/// The instances `net` would name in a list for the configuration of
/// `frame` (all declared in its folder), or `None`.
pub(crate) fn list_in(frame: &Frame, refs: &[&Reference]) -> Option<String> {
    if refs.iter().any(|r| r.folder != frame.index.folder) {
        return None;
    }
    Some(format!(
        "[{}]",
        refs.iter()
            .map(|r| id_expr(r))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
