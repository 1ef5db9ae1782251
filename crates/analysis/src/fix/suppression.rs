//! "Suppress with a reason…": a directive comment above the resource, with
//! a placeholder reason the user must replace.

use crate::finding::{Finding, Problem};
use crate::syntax;

use super::{Fix, FixContext, TextEdit};

pub(crate) fn suppressible(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::MissingVpcConfig
            | Problem::MissingAttribute { .. }
            | Problem::EmptyValue { .. }
            | Problem::EmptyForEach { .. }
            | Problem::Pitfall
    )
}

/// "Suppress with a reason…": a directive above the header, with a reason
/// placeholder the user must replace (until then it suppresses nothing and
/// says so). An existing directive there is replaced.
pub(crate) fn suppression_fix(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    let src = ctx.src;
    let header = finding.resource.header.start;
    let line_start = src[..header].rfind('\n').map_or(0, |i| i + 1);
    let indent = crate::style::line_indent(src, header).to_owned();
    let style = ctx.style();
    let directive = format!(
        "# {}:{} -- {}",
        crate::suppress::DIRECTIVE,
        finding.rule,
        crate::suppress::REASON_PLACEHOLDER
    );
    // An existing directive on the line above is replaced, not stacked.
    let existing = ctx
        .resource_at(finding.resource.block.start)
        .and_then(|(offset, resource)| {
            let island_src = &src[offset..];
            let ids = crate::rules::rule_ids();
            let d = crate::suppress::candidate_comments(resource.block, island_src)
                .into_iter()
                .find_map(|c| {
                    crate::suppress::parse(syntax::text(c, island_src), c.byte_range(), &ids)
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
        elsewhere: Vec::new(),
        resources: Vec::new(),
    })
}
