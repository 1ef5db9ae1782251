//! How generated text is laid out: where a block's braces are, how lines are
//! appended to a block at its indentation, and `=` aligned the way
//! `terraform fmt` aligns a chain of consecutive assignments (edits that
//! change a chain re-space its other lines too, so the result stays
//! fmt-clean).

use std::ops::Range;

use tree_sitter::Node;

use crate::style::{self, Style};
use crate::syntax::BlockParts;

use super::TextEdit;

/// `key = value` lines with `=` aligned as `terraform fmt` aligns a chain.
pub(crate) fn align_assignments(pairs: &[(&str, &str)]) -> Vec<String> {
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

/// Absolute positions for nodes of an island that starts at `offset`.
#[derive(Clone, Copy)]
pub(crate) struct Abs<'s> {
    pub src: &'s str,
    pub offset: usize,
}

impl Abs<'_> {
    pub(crate) fn range(&self, node: Node<'_>) -> Range<usize> {
        node.start_byte() + self.offset..node.end_byte() + self.offset
    }

    pub(crate) fn text(&self, node: Node<'_>) -> &str {
        self.src.get(self.range(node)).unwrap_or("")
    }
}

/// Where a block's braces are and how its header line is indented.
pub(crate) struct Geometry {
    open_end: usize,
    close_start: usize,
    base_indent: String,
}

impl Geometry {
    pub(crate) fn of(at: Abs<'_>, parts: &BlockParts<'_>) -> Option<Self> {
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
    pub(crate) fn appends_adjacent_to(&self, src: &str, last_end: usize) -> bool {
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

pub(crate) fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Edits that add `lines` (each without indentation or line ending) as the
/// last items of the block, one level deeper than the block's header line.
pub(crate) fn append_lines(
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
pub(crate) fn strip_inline_comment(between: &str) -> &str {
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
pub(crate) fn adjacent(between: &str) -> bool {
    let rest = strip_inline_comment(between);
    rest.trim().is_empty() && rest.matches('\n').count() == 1
}

/// The whitespace between an attribute's key and its `=`.
pub(crate) fn equals_gap(at: Abs<'_>, attr: Node<'_>) -> Option<Range<usize>> {
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
pub(crate) struct Slot {
    /// The key of an attribute; `None` for a nested block.
    pub key: Option<String>,
    pub multi_line: bool,
    /// On the line right after the previous item.
    pub adjacent: bool,
    /// The existing whitespace before `=`.
    pub gap: Option<Range<usize>>,
    /// Added or changed by the fix: its chain gets aligned.
    pub touched: bool,
}

/// The number of spaces before `=` for each slot in a chain that the fix
/// touches (`None` elsewhere: those lines are left alone).
pub(crate) fn align_chains(slots: &[Slot]) -> Vec<Option<usize>> {
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
}
