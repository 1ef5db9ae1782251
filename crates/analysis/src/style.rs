//! The layout conventions of a file, so generated text looks like its
//! neighbours: the indentation unit (spaces or a tab) and the line ending.
//! Defaults follow `terraform fmt`: two spaces, `\n`.

use tree_sitter::{Node, Tree};

use super::syntax;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// One level of indentation: `"  "`, `"    "` or `"\t"`.
    pub indent: String,
    /// `"\n"` or `"\r\n"`.
    pub eol: &'static str,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            indent: "  ".to_owned(),
            eol: "\n",
        }
    }
}

/// How many blocks indentation is read from, at most (see
/// [`detect_indent`]).
const SAMPLE_BLOCKS: usize = 201;

impl Style {
    /// The conventions of `src`: from its `tree` when the caller has one,
    /// else from a parse of its last [`SAMPLE_BLOCKS`] top-level blocks,
    /// which hold every block [`detect_indent`] reads (it reads from the
    /// end of the file), so the result is the same without parsing the
    /// whole file. A text the split does not understand is parsed whole.
    pub fn of(src: &str, tree: Option<&Tree>) -> Self {
        if let Some(tree) = tree {
            return Self::detect(src, tree.root_node());
        }
        if let Some(items) = crate::split::split(src)
            && let Some(first) = items
                .len()
                .checked_sub(SAMPLE_BLOCKS)
                .map_or(items.first(), |i| items.get(i))
            && let Some(tree) = syntax::parse_stretch(src, first.range.start..src.len())
        {
            return Self::detect(src, tree.root_node());
        }
        Self::detect(src, syntax::parse(src, None).root_node())
    }

    /// Reads the conventions of `src`, whose tree's root is `root`.
    pub fn detect(src: &str, root: Node<'_>) -> Self {
        let crlf = src.matches("\r\n").count();
        let lf = src.matches('\n').count() - crlf;
        let eol = if crlf > lf { "\r\n" } else { "\n" };
        let indent = detect_indent(src, root).unwrap_or_else(|| "  ".to_owned());
        Self { indent, eol }
    }
}

/// The most common step between a block's line indentation and the
/// indentation of its first item, over the first [`SAMPLE_BLOCKS`] blocks
/// of a depth-first walk that starts from the file's last top-level block
/// (a stack: the last child is taken first).
fn detect_indent(src: &str, root: Node<'_>) -> Option<String> {
    let mut steps: Vec<(String, usize)> = Vec::new();
    let mut stack = vec![(root, 0usize)];
    let mut seen = 0;
    while let Some((node, depth)) = stack.pop() {
        if seen >= SAMPLE_BLOCKS || depth > 6 {
            continue;
        }
        if node.kind() == "block" {
            seen += 1;
            if let Some(body) = syntax::BlockParts::of(node).and_then(|p| p.body)
                && let Some(first) = syntax::body_items(body).next()
            {
                let outer = line_indent(src, node.start_byte());
                let inner = line_indent(src, first.start_byte());
                // Only when the item starts its own line, deeper than the block.
                if first.start_position().row != node.start_position().row
                    && let Some(step) = inner.strip_prefix(outer)
                    && !step.is_empty()
                {
                    match steps.iter_mut().find(|(s, _)| s == step) {
                        Some((_, n)) => *n += 1,
                        None => steps.push((step.to_owned(), 1)),
                    }
                }
            }
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            if matches!(child.kind(), "body" | "block" | "ERROR" | "config_file") {
                stack.push((child, depth + 1));
            }
        }
    }
    steps
        .into_iter()
        .filter(|(s, _)| s == "\t" || s.chars().all(|c| c == ' '))
        .max_by_key(|(s, n)| (*n, std::cmp::Reverse(s.len())))
        .map(|(s, _)| s)
}

/// The whitespace that starts the line containing byte `at`.
pub(crate) fn line_indent(src: &str, at: usize) -> &str {
    let at = at.min(src.len());
    let start = src[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line = &src[start..];
    let end = line
        .find(|c: char| c != ' ' && c != '\t')
        .unwrap_or(line.len());
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    /// Without the tree, the style comes from the last blocks alone: the
    /// same as from the whole tree, whichever indentation the file's head
    /// and tail use, with nested blocks, comments and files the split does
    /// not understand.
    #[test]
    fn the_last_blocks_give_the_whole_files_style() {
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for blocks in [0usize, 1, 3, 150, 200, 201, 202, 260, 450] {
            for _ in 0..4 {
                let mut src = String::new();
                for i in 0..blocks {
                    let step = ["  ", "    ", "\t", "   "][next(4) as usize];
                    if next(5) == 0 {
                        src.push_str("# a comment\n\n");
                    }
                    src.push_str(&format!("resource \"t\" \"r{i}\" {{\n{step}a = 1\n"));
                    if next(3) == 0 {
                        let inner = ["  ", "\t"][next(2) as usize];
                        src.push_str(&format!(
                            "{step}inner {{\n{step}{inner}b = [\n{step}{inner}]\n{step}}}\n"
                        ));
                    }
                    src.push_str("}\n");
                }
                let whole = Style::detect(&src, parse(&src, None).root_node());
                assert_eq!(Style::of(&src, None), whole, "{blocks} blocks:\n{src}");
                // A text the split gives up on is parsed whole.
                let broken = format!("{src}stray = 1\n");
                let whole = Style::detect(&broken, parse(&broken, None).root_node());
                assert_eq!(Style::of(&broken, None), whole);
            }
        }
    }

    fn style_of(src: &str) -> Style {
        let tree = parse(src, None);
        Style::detect(src, tree.root_node())
    }

    #[test]
    fn detects_spaces_tabs_and_line_endings() {
        assert_eq!(style_of("a {\n  b = 1\n}\n").indent, "  ");
        assert_eq!(style_of("a {\n    b = 1\n  c {\n  }\n}\n").indent, "    ");
        assert_eq!(style_of("a {\n\tb {\n\t\tc = 1\n\t}\n}\n").indent, "\t");
        assert_eq!(style_of("a {\r\n  b = 1\r\n}\r\n").eol, "\r\n");
        assert_eq!(style_of("a {}\n").indent, "  ");
        assert_eq!(style_of("a { b = 1 }\n").indent, "  ");
    }

    #[test]
    fn line_indent_of_a_position() {
        assert_eq!(line_indent("x\n\t  y", 5), "\t  ");
        assert_eq!(line_indent("y", 0), "");
    }
}
