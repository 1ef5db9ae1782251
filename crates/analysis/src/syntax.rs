//! Thin helpers over the tree-sitter-hcl syntax tree.
//!
//! tree-sitter-hcl has no field names (except `object_elem` `key`/`val`), so a
//! `block` is read positionally: `identifier` (its type), labels (`string_lit`
//! or `identifier`), `block_start`, optional `body`, `block_end`. Everything
//! here tolerates the `ERROR` and `MISSING` nodes that appear while a user types.

use std::cell::RefCell;
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicBool, Ordering};

use tree_sitter::{Language, Node, ParseOptions, ParseState, Parser, Tree};

/// The HCL language, as shipped by `tree-sitter-hcl`.
pub fn language() -> Language {
    tree_sitter_hcl::LANGUAGE.into()
}

thread_local! {
    // A parser is cheap to reuse and not `Sync`; one per thread avoids locking.
    static PARSER: RefCell<Parser> = RefCell::new(parser_for(&language()));
}

/// A parser of `language` (HCL or JSON, both built with this crate).
pub(crate) fn parser_for(language: &Language) -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(language)
        .expect("the grammars are ABI-compatible with the linked tree-sitter");
    parser
}

/// Replaces a thread's parser with a new one, unless it is in use.
pub(crate) fn renew(parser: &RefCell<Parser>, language: &Language) {
    if let Ok(mut parser) = parser.try_borrow_mut() {
        *parser = parser_for(language);
    }
}

/// Replaces this thread's parsers with new ones, freeing the buffers
/// (parse stack, token and node pools) the old ones grew to on the largest
/// text they parsed. Call it between jobs.
pub fn release_parsers() {
    PARSER.with(|parser| renew(parser, &language()));
    crate::json::release_parser();
}

/// Parses `text`, reusing `old_tree` (already `edit`ed to match `text`) when given.
pub fn parse(text: &str, old_tree: Option<&Tree>) -> Tree {
    PARSER.with(|parser| {
        parser
            .borrow_mut()
            .parse(text, old_tree)
            // `parse` only fails without a language or after a cancellation or
            // timeout, and this parser has a language and never sets either.
            .expect("parser has a language and no cancellation")
    })
}

/// Parses `range` of `text` alone, as if the rest were not there; node
/// offsets and points are those of the whole text. `start` and `end` are
/// the points of the range's ends. `None` when tree-sitter refuses the range.
pub fn parse_range(
    text: &str,
    range: std::ops::Range<usize>,
    start: tree_sitter::Point,
    end: tree_sitter::Point,
) -> Option<Tree> {
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        parser
            .set_included_ranges(&[tree_sitter::Range {
                start_byte: range.start,
                end_byte: range.end,
                start_point: start,
                end_point: end,
            }])
            .ok()?;
        let tree = match mask_deep(&text[range.clone()]) {
            // What is nested too deep is read as blanks, where it is.
            Some(masked) => {
                let (bytes, masked) = (text.as_bytes(), masked.as_bytes());
                parser.parse_with_options(
                    &mut |offset, _| match offset.checked_sub(range.start) {
                        Some(at) if offset < range.end => &masked[at..],
                        _ => bytes.get(offset..).unwrap_or_default(),
                    },
                    None,
                    None,
                )
            }
            None => parser.parse(text, None),
        };
        // Back to whole texts for the next parse on this thread.
        let _ = parser.set_included_ranges(&[]);
        tree
    })
}

/// How deep brackets may nest before what the deepest hold is masked for
/// a block-by-block parse ([`mask_deep`]): twice as deep as the lowering
/// reads ([`crate::lower::MAX_NESTING`] levels; past them it reads an
/// invalid expression and nothing inside).
pub(crate) const MASK_DEPTH: usize = 2 * crate::lower::MAX_NESTING;

/// `text` with what each bracket nested [`MASK_DEPTH`] deep holds (outside
/// comments, strings and heredocs, which the lexical scan knows) replaced
/// by blanks, newlines kept: a `0` in a `[` or `(` (an element, an index,
/// an argument), nothing in a `{`. The same length, lines and columns, and
/// the same lowered blocks: the lowering stops before that depth. `None`
/// when nothing is nested that deep.
///
/// tree-sitter's tree of `[[[…]]]` takes about 340 bytes a byte of text:
/// 1 MB of it took the editor to 330 MiB, over the bound of 40 times the
/// text plus 30 MB, and 20 blocks nested 450,000 deep took `check` 15 s
/// and 600 MB. What is masked is read by no rule; a syntax error in it is
/// not seen.
pub(crate) fn mask_deep(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // Brackets counted in strings and comments too, without a lexical scan:
    // most texts never come near the depth. (A string of closing brackets
    // can hide a deep nesting from this count: it is then parsed unmasked,
    // as before masking, the same in the editor and in `check`.) A count
    // of opening brackets alone sent every 64 KB stretch of a module (some
    // 800 of them) through the lexical scan at open.
    let mut depth = 0usize;
    let deep = bytes.iter().any(|&b| {
        match b {
            b'[' | b'(' | b'{' => depth += 1,
            b']' | b')' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth > MASK_DEPTH
    });
    if !deep {
        return None;
    }
    let regions = crate::lex::non_code(text);
    let mut next_region = 0;
    // Where each bracket that is MASK_DEPTH deep opens, and its contents.
    let mut spans: Vec<(u8, Range<usize>)> = Vec::new();
    let mut opened: Option<(u8, usize)> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(region) = regions.get(next_region)
            && region.start == i
        {
            next_region += 1;
            i = region.end.max(i + 1);
            continue;
        }
        match bytes[i] {
            b @ (b'[' | b'(' | b'{') => {
                depth += 1;
                if depth == MASK_DEPTH {
                    opened = Some((b, i + 1));
                }
            }
            b']' | b')' | b'}' => {
                if depth == MASK_DEPTH
                    && let Some((b, start)) = opened.take()
                {
                    spans.push((b, start..i));
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        i += 1;
    }
    let deeper = |(_, span): &(u8, Range<usize>)| {
        bytes[span.clone()]
            .iter()
            .any(|b| matches!(b, b'[' | b'(' | b'{'))
    };
    spans.retain(deeper);
    if spans.is_empty() {
        return None;
    }
    let mut out = bytes.to_vec();
    for (open, span) in spans {
        for b in &mut out[span.clone()] {
            if !matches!(*b, b'\n' | b'\r') {
                *b = b' ';
            }
        }
        if open != b'{'
            && let Some(first) = out[span].first_mut()
        {
            *first = b'0';
        }
    }
    // Only ASCII bytes were written, over whole characters (between two
    // ASCII brackets).
    String::from_utf8(out).ok()
}

/// The points (row, byte column) of increasing offsets of a text, found
/// in one pass over it.
pub(crate) struct Points<'t> {
    text: &'t [u8],
    at: usize,
    row: usize,
    line_start: usize,
}

impl<'t> Points<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            row: 0,
            line_start: 0,
        }
    }

    /// The point of `byte`, which is not before the last one asked for.
    pub(crate) fn at(&mut self, byte: usize) -> tree_sitter::Point {
        debug_assert!(byte >= self.at, "points are asked for in order");
        for (i, &b) in self.text[self.at..byte].iter().enumerate() {
            if b == b'\n' {
                self.row += 1;
                self.line_start = self.at + i + 1;
            }
        }
        self.at = byte;
        tree_sitter::Point::new(self.row, byte - self.line_start)
    }
}

/// [`parse_range`] of whole top-level blocks of `text` (a stretch of
/// [`crate::split::split`]'s items): the tree when the stretch parses
/// cleanly into them, as it does within the whole file's tree.
pub(crate) fn parse_stretch(text: &str, range: std::ops::Range<usize>) -> Option<Tree> {
    let mut points = Points::new(text);
    let (start, end) = (points.at(range.start), points.at(range.end));
    parse_stretch_at(text, range, start, end)
}

/// [`parse_stretch`], with the points of the range's ends known.
pub(crate) fn parse_stretch_at(
    text: &str,
    range: std::ops::Range<usize>,
    start: tree_sitter::Point,
    end: tree_sitter::Point,
) -> Option<Tree> {
    let tree = parse_range(text, range, start, end)?;
    let root = tree.root_node();
    (root.kind() == "config_file" && !root.has_error()).then_some(tree)
}

/// Like [`parse`], but gives up as soon as `stop` is set (`None` then): a
/// parse of megabytes takes seconds, and a server whose client has gone
/// must not wait for it.
pub fn parse_unless(text: &str, old_tree: Option<&Tree>, stop: &AtomicBool) -> Option<Tree> {
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        let bytes = text.as_bytes();
        let mut progress = |_: &ParseState| {
            if stop.load(Ordering::Relaxed) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let tree = parser.parse_with_options(
            &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
            old_tree,
            Some(ParseOptions::new().progress_callback(&mut progress)),
        );
        if tree.is_none() {
            // An interrupted parse would resume on the next call otherwise.
            parser.reset();
        }
        tree
    })
}

/// About how many bytes tree-sitter's tree of `src` takes, with what
/// analysis adds. A lexical scan, linear and without a parse, so a caller
/// can refuse a text before parsing it.
///
/// - Code: about 100 bytes per byte (a dense 2 MB module took the server
///   to 418 MB) or, for code denser in syntax than a module (lists nested
///   or listed by the million), about 320 bytes per syntax token
///   ([`crate::lex::tokens`]: a 10 MB list nested five million deep took
///   3.2 GB), whichever is more.
/// - Strings and heredocs: about 12 bytes per byte of text (the text is
///   held a few times over: document, rope, lowered value) and 210 per
///   token tree-sitter-hcl makes of it. Upstream makes a token of every
///   character (a 50 MB string took 10.3 GB); the vendored scanner makes
///   one of a run of ordinary characters, and one of each `"`, `$`, `%`,
///   `\` and line break. Counted here: one per run of word characters and
///   one per other byte ([`upper_tokens`]), never fewer than that.
///   Measured: a 5 MB plain string peaked at 28 MB, 2 MB of `$` at 225 MB.
pub fn tree_bytes_estimate(src: &str) -> u64 {
    // One scan serves both counts.
    let non_code = crate::lex::non_code(src);
    let literals: Vec<&std::ops::Range<usize>> = non_code
        .iter()
        .filter(|r| matches!(src.as_bytes()[r.start], b'"' | b'<'))
        .collect();
    let literal: usize = literals.iter().map(|r| r.len()).sum();
    let literal_tokens: usize = literals
        .iter()
        .map(|r| upper_tokens(&src.as_bytes()[(*r).clone()]))
        .sum();
    // The literals are counted above, not again as tokens.
    let tokens = crate::lex::tokens_around(src, &non_code) - literals.len();
    let code =
        ((src.len() - literal) as u64 * CODE_TREE_BYTES).max(tokens as u64 * TOKEN_TREE_BYTES);
    literal as u64 * LITERAL_TEXT_BYTES + literal_tokens as u64 * LITERAL_TREE_BYTES + code
}

/// At least as many tokens as tree-sitter-hcl makes of `text`, as code or
/// as the text of a string or heredoc: one per run of ASCII letters,
/// digits, `_` and non-ASCII characters, and one per other byte.
pub fn upper_tokens(text: &[u8]) -> usize {
    let mut tokens = 0;
    let mut in_word = false;
    for &b in text {
        let word = crate::lex::is_word_byte(b);
        tokens += usize::from(!(word && in_word));
        in_word = word;
    }
    tokens
}

/// The most `text` can cost wherever it is inserted: as code or as the text
/// of a string or heredoc.
pub fn inserted_tree_bytes(text: &str) -> u64 {
    text.len() as u64 * CODE_TREE_BYTES + upper_tokens(text.as_bytes()) as u64 * TOKEN_TREE_BYTES
}

/// Tree bytes per token of a string or heredoc's text.
pub const LITERAL_TREE_BYTES: u64 = 210;
/// Bytes per byte of a string or heredoc's text (the text's own copies).
const LITERAL_TEXT_BYTES: u64 = 12;
/// Tree bytes per byte of code, with what analysis adds.
const CODE_TREE_BYTES: u64 = 100;
/// Tree bytes per syntax token, with what analysis adds: the most any byte
/// can cost (a byte is at most one token).
const TOKEN_TREE_BYTES: u64 = 320;

/// The estimated tree size of `src` with `inserted` more bytes (the most
/// some inserted text can cost: [`inserted_tree_bytes`]), when it is over
/// `budget`. A text too short to get there even if it were all of the
/// costliest kind is not scanned.
pub fn tree_bytes_over(src: &str, inserted: u64, budget: u64) -> Option<u64> {
    if src.len() as u64 * (TOKEN_TREE_BYTES + LITERAL_TEXT_BYTES) + inserted <= budget {
        return None;
    }
    let estimate = tree_bytes_estimate(src) + inserted;
    (estimate > budget).then_some(estimate)
}

/// The source text of `node`, or `""` if its range does not fall on `src`'s
/// character boundaries (never expected, but never worth a panic either).
pub fn text<'s>(node: Node<'_>, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

/// The value of a block label: a bare identifier, or a quoted string without
/// interpolation. `None` for anything else (a template is not a valid label).
pub(crate) fn label_value(node: Node<'_>, src: &str) -> Option<String> {
    match node.kind() {
        "identifier" => Some(text(node, src).to_owned()),
        "string_lit" => {
            let raw = text(node, src);
            let inner = raw.strip_prefix('"')?;
            let inner = inner.strip_suffix('"').unwrap_or(inner);
            Some(crate::lower::hcl::unescape(inner))
        }
        _ => None,
    }
}

/// The positional parts of a `block` node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockParts<'t> {
    /// The block type: `resource`, `vpc_config`, …
    pub ident: Node<'t>,
    pub label_count: usize,
    /// The first three labels: a block of more is read with three, enough
    /// to tell that it has too many (`resource resource "TYPE" "NAME"`).
    labels: [Option<Node<'t>>; 3],
    pub block_start: Option<Node<'t>>,
    pub body: Option<Node<'t>>,
    pub block_end: Option<Node<'t>>,
}

impl<'t> BlockParts<'t> {
    /// Splits a `block` node; `None` if it is not a block or has no type.
    pub fn of(block: Node<'t>) -> Option<Self> {
        if block.kind() != "block" {
            return None;
        }
        let mut cursor = block.walk();
        let mut ident = None;
        let mut labels = [None; 3];
        let mut label_count = 0;
        let mut block_start = None;
        let mut body = None;
        let mut block_end = None;
        for child in block.children(&mut cursor) {
            match child.kind() {
                "identifier" if ident.is_none() => ident = Some(child),
                "identifier" | "string_lit" if block_start.is_none() => {
                    if let Some(slot) = labels.get_mut(label_count) {
                        *slot = Some(child);
                    }
                    label_count += 1;
                }
                "block_start" => block_start = Some(child),
                "body" => body = Some(child),
                "block_end" => block_end = Some(child),
                _ => {}
            }
        }
        Some(Self {
            ident: ident?,
            label_count,
            labels,
            block_start,
            body,
            block_end,
        })
    }

    pub fn label(&self, index: usize) -> Option<Node<'t>> {
        self.labels.get(index).copied().flatten()
    }

    /// True when the block's closing brace was really written.
    pub(crate) fn is_closed(&self) -> bool {
        self.block_end
            .is_some_and(|end| !end.is_missing() && end.start_byte() < end.end_byte())
    }
}

/// The `attribute` and `block` items of a `body` node, in order.
pub(crate) fn body_items<'t>(body: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    let mut cursor = body.walk();
    let items: Vec<Node<'t>> = body
        .named_children(&mut cursor)
        .filter(|n| matches!(n.kind(), "attribute" | "block"))
        .collect();
    items.into_iter()
}

/// The top-level items of `tree` in order: the children of its `body`,
/// and what stands beside it (comments before or after every item).
pub(crate) fn top_level_items(tree: &Tree) -> Vec<Node<'_>> {
    let root = tree.root_node();
    let mut items = Vec::new();
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        if child.kind() == "body" {
            let mut cursor = child.walk();
            items.extend(child.children(&mut cursor));
        } else {
            items.push(child);
        }
    }
    items
}

/// An `attribute` split into its name and value expression.
pub(crate) fn attribute_parts<'t>(attr: Node<'t>) -> Option<(Node<'t>, Option<Node<'t>>)> {
    if attr.kind() != "attribute" {
        return None;
    }
    let name = attr.named_child(0).filter(|n| n.kind() == "identifier")?;
    let mut cursor = attr.walk();
    let value = attr
        .named_children(&mut cursor)
        .find(|n| n.kind() == "expression");
    Some((name, value))
}

/// True if `node` or anything below it is an `ERROR` or `MISSING` node.
pub(crate) fn is_broken(node: Node<'_>) -> bool {
    node.has_error() || node.is_missing()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renewing the parsers between jobs keeps them working, HCL and JSON,
    /// and leaves a parser that is in use alone.
    #[test]
    fn released_parsers_parse_the_same() {
        let text = "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n}\n".repeat(2_000);
        let before = parse(&text, None).root_node().to_sexp();
        release_parsers();
        assert_eq!(parse(&text, None).root_node().to_sexp(), before);
        let json = crate::json::parse("{\"resource\": {}}")
            .root_node()
            .to_sexp();
        release_parsers();
        assert_eq!(
            crate::json::parse("{\"resource\": {}}")
                .root_node()
                .to_sexp(),
            json
        );
        PARSER.with(|parser| {
            let _in_use = parser.borrow_mut();
            renew(parser, &language()); // no panic, nothing replaced
        });
    }

    /// How many times a clean parse of `src` called its progress callback.
    /// tree-sitter calls it every so many parse operations, one or more per
    /// token: the tokens themselves are hidden from the node API.
    fn progress_calls(src: &str) -> usize {
        let mut calls = 0;
        let mut count = |_: &ParseState| {
            calls += 1;
            ControlFlow::Continue(())
        };
        let bytes = src.as_bytes();
        let tree = parser_for(&language()).parse_with_options(
            &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
            None,
            Some(ParseOptions::new().progress_callback(&mut count)),
        );
        assert!(tree.is_some_and(|t| !t.root_node().has_error()));
        calls
    }

    /// How many characters the lexers skipped (tree-sitter logs each) while
    /// parsing `src`.
    fn skipped_characters(src: &str) -> usize {
        let skipped = std::rc::Rc::new(std::cell::Cell::new(0usize));
        let mut parser = parser_for(&language());
        let count = std::rc::Rc::clone(&skipped);
        parser.set_logger(Some(Box::new(move |_, message| {
            if message.starts_with("skip character") {
                count.set(count.get() + 1);
            }
        })));
        let tree = parser.parse(src, None).expect("a tree");
        assert!(!tree.root_node().has_error());
        skipped.get()
    }

    /// The external scanner skips the whitespace ahead of it before it
    /// decides, and upstream called it again at every character of a run
    /// (each a one-character token): a run of n spaces cost n²/2 skips. A
    /// `check` of 4 MB of spaces around a model ran for over ten minutes;
    /// it now takes 0.1 s. One run is now skipped about once.
    #[test]
    fn a_run_of_whitespace_is_skipped_in_linear_time() {
        let n = 2_000;
        let src = format!("x ={}1\n{}y = 2\n", " ".repeat(n), "\t".repeat(n));
        // Upstream: 2,001,003.
        let skipped = skipped_characters(&src);
        assert!(
            skipped < 10 * n,
            "{skipped} characters skipped for runs of {n}"
        );
    }

    /// The vendored grammar's lexer reads a run of whitespace between tokens
    /// as one hidden token, where upstream makes one of every character
    /// (aligned `=` signs and indentation were a third of a module's
    /// tokens). Whitespace is an extra: the named and anonymous nodes and
    /// their ranges are upstream's.
    #[test]
    fn whitespace_between_tokens_is_one_token_per_run() {
        let pad = " ".repeat(2000);
        let tabs = "\t \n".repeat(700);
        let src =
            format!("x{pad}={pad}1\n{tabs}resource \"a\"{pad}\"b\" {{\n{tabs}y = 2{tabs}}}{tabs}");
        // Upstream: 124 calls.
        assert!(progress_calls(&src) <= 6, "{}", progress_calls(&src));
        let tree = parse(&src, None);
        let body = tree.root_node().child(0).expect("a body");
        let x = body.child(0).expect("x");
        assert_eq!(x.kind(), "attribute");
        assert_eq!(x.byte_range(), 0..2 * pad.len() + 3);
        let block = body.child(1).expect("the block");
        assert_eq!(block.kind(), "block");
        assert_eq!(block.start_byte(), src.find("resource").expect("there"));
        assert_eq!(block.end_byte(), src.rfind('}').expect("there") + 1);
        let y = block
            .named_children(&mut block.walk())
            .find(|n| n.kind() == "body")
            .and_then(|b| b.child(0))
            .expect("y");
        assert_eq!(text(y, &src), "y = 2");
        // A heredoc's closing marker after blank and indented lines.
        let heredoc = format!("x = <<EOT\n  a\n{tabs}\n   EOT\n{pad}y = 1\n");
        assert!(
            progress_calls(&heredoc) <= 6,
            "{}",
            progress_calls(&heredoc)
        );
        let tree = parse(&heredoc, None);
        let body = tree.root_node().child(0).expect("a body");
        assert_eq!(body.named_child_count(), 2, "{}", body.to_sexp());
        let y = body.named_child(1).expect("y");
        assert_eq!(y.start_byte(), heredoc.find("y = 1").expect("there"));
    }

    /// The vendored grammar (`vendor/tree-sitter-hcl/PATCHED.md`) scans a
    /// run of ordinary template text as one token, where upstream makes one
    /// of every character; the named nodes keep upstream's ranges (a
    /// literal starts and ends at non-whitespace) and the characters other
    /// rules read still split the text.
    #[test]
    fn template_text_is_scanned_in_runs() {
        fn literals(src: &str) -> Vec<String> {
            let tree = parse(src, None);
            assert!(!tree.root_node().has_error(), "{src}");
            let mut out = Vec::new();
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                if node.kind() == "template_literal" {
                    out.push(text(node, src).to_owned());
                }
                stack.extend(node.children(&mut node.walk()));
            }
            out.sort();
            out
        }
        // Upstream's token per character makes 122 progress calls for the
        // string below.
        let long = "word ".repeat(1000);
        let literal = long.trim().to_owned();
        let quoted = format!("x = \"  {long}\"\n");
        assert!(progress_calls(&quoted) <= 5, "{}", progress_calls(&quoted));
        assert_eq!(literals(&quoted), std::slice::from_ref(&literal));
        // An escape, an interpolation and a directive split it; `$` and `%`
        // not followed by a brace are text.
        let split = "x = \"a b\\n c ${v} 5$ 10% %{ if true }d e%{ endif }\"\n";
        assert_eq!(literals(split), ["5$ 10%", "a b\\n c", "d e"]);
        // A heredoc: a run per line, the closing marker still found.
        let heredoc = format!("x = <<EOT\n  {long}\n  {long}\nEOT\ny = 1\n");
        assert!(
            progress_calls(&heredoc) <= 5,
            "{}",
            progress_calls(&heredoc)
        );
        assert_eq!(literals(&heredoc), [format!("{long}\n  {literal}")]);
    }

    #[test]
    fn a_stopped_parse_gives_up_and_the_next_one_starts_afresh() {
        let src = "resource \"a\" \"b\" {\n  x = 1\n}\n".repeat(2000);
        assert!(parse_unless(&src, None, &AtomicBool::new(true)).is_none());
        let tree = parse_unless(&src, None, &AtomicBool::new(false)).expect("a tree");
        assert_eq!(
            tree.root_node().to_sexp(),
            parse(&src, None).root_node().to_sexp()
        );
    }

    #[test]
    fn label_values_of_quoted_and_bare_labels() {
        let src = "resource \"aws_x\" y {}\nresource \"a\\\"b\" \"\" {}\n";
        let tree = parse(src, None);
        let body = tree.root_node().named_child(0).unwrap();
        let mut values = Vec::new();
        for block in body_items(body) {
            let parts = BlockParts::of(block).unwrap();
            for i in 0..parts.label_count {
                values.push(label_value(parts.label(i).unwrap(), src).unwrap());
            }
        }
        assert_eq!(values, ["aws_x", "y", "a\"b", ""]);
    }

    #[test]
    fn block_parts_knows_an_unclosed_block() {
        let src = "resource \"a\" \"b\" {\n  x = 1\n";
        let tree = parse(src, None);
        let mut cursor = tree.root_node().walk();
        let mut found = None;
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if node.kind() == "block" {
                found = Some(node);
            }
            stack.extend(node.children(&mut cursor));
        }
        let parts = BlockParts::of(found.unwrap()).unwrap();
        assert!(!parts.is_closed());
    }
}

#[cfg(test)]
mod points_tests {
    use super::*;

    /// One pass gives each offset's row and byte column, as tree-sitter
    /// counts them (a CR is a column, a line ends at `\n`).
    #[test]
    fn points_in_one_pass_equal_counting_from_the_start() {
        let text = "a = 1\r\nbé = \"ü\"\n\n  c {\n}\nlast";
        let mut points = Points::new(text);
        for byte in (0..=text.len()).filter(|&b| text.is_char_boundary(b)) {
            let before = &text[..byte];
            let row = before.matches('\n').count();
            let column = byte - before.rfind('\n').map_or(0, |p| p + 1);
            assert_eq!(
                points.at(byte),
                tree_sitter::Point::new(row, column),
                "{byte}"
            );
        }
    }
}

#[cfg(test)]
mod estimate_tests {
    use super::*;

    #[test]
    fn what_the_parser_makes_tokens_of_weighs_more_than_code() {
        let code = "resource \"a\" \"b\" {\n  x = [1, 2]\n}\n".repeat(100);
        let n = code.len();
        // A run of plain text is one token: far cheaper than code.
        let string = format!("x = \"{}\"\n", "a".repeat(n));
        let heredoc = format!("x = <<EOT\n{}\nEOT\n", "a".repeat(n));
        assert!(10 * tree_bytes_estimate(&string) < tree_bytes_estimate(&code));
        assert!(10 * tree_bytes_estimate(&heredoc) < tree_bytes_estimate(&code));
        // What the scanner reads a character at a time costs a token each.
        for costly in ["$", "%", "\\\\", "\\n", "${a}"] {
            let string = format!("x = \"{}\"\n", costly.repeat(n / costly.len()));
            assert!(
                tree_bytes_estimate(&string) > tree_bytes_estimate(&code),
                "{costly}"
            );
        }
        assert_eq!(tree_bytes_estimate(""), 0);
        let budget = tree_bytes_estimate(&code);
        assert_eq!(tree_bytes_over(&code, 0, budget), None);
        assert_eq!(tree_bytes_over(&code, 0, budget - 1), Some(budget));
        assert_eq!(tree_bytes_over(&code, 10, budget), Some(budget + 10));
    }

    #[test]
    fn tokens_are_counted_from_above() {
        assert_eq!(upper_tokens(b""), 0);
        assert_eq!(upper_tokens(b"aaaa"), 1);
        assert_eq!(upper_tokens("é_9x".as_bytes()), 1);
        assert_eq!(upper_tokens(b"a b"), 3);
        assert_eq!(upper_tokens(b"aws_subnet.a.id"), 5);
        assert_eq!(upper_tokens(br"$$\n"), 4);
        // Inserted text costs what it would as code, at least.
        let code = "x = [1, 2]\n".repeat(1000);
        assert!(inserted_tree_bytes(&code) >= tree_bytes_estimate(&code));
        assert!(inserted_tree_bytes(&"a".repeat(1000)) >= 100 * 1000);
    }
}

/// How many nodes a tree has, and how deep its deepest node is (the root
/// is at 0): for tests of what masking spares.
#[cfg(test)]
pub(crate) fn tree_shape(tree: &Tree) -> (usize, usize) {
    let mut cursor = tree.walk();
    let (mut nodes, mut depth, mut deepest) = (1usize, 0usize, 0usize);
    loop {
        if cursor.goto_first_child() {
            depth += 1;
        } else {
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return (nodes, deepest);
                }
                depth -= 1;
            }
        }
        nodes += 1;
        deepest = deepest.max(depth);
    }
}

#[cfg(test)]
mod mask_tests {
    use super::*;

    fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
    }

    /// What brackets nested past [`MASK_DEPTH`] hold is blanked where it is
    /// (lines kept), the text still parses cleanly, its tree is small, and
    /// the blocks lowered from it are those of the unmasked text: the
    /// lowering stops before that depth.
    #[test]
    fn what_is_nested_too_deep_is_masked_without_changing_the_lowered_blocks() {
        // The lowering recurses up to its limit: an analysis thread's stack.
        std::thread::Builder::new()
            .stack_size(crate::lower::ANALYSIS_STACK_SIZE)
            .spawn(masked_as_lowered)
            .unwrap()
            .join()
            .unwrap();
    }

    fn masked_as_lowered() {
        let deep = 3 * MASK_DEPTH;
        let text = format!(
            "resource \"aws_sagemaker_model\" \"m\" {{\n  name = {}\n  tags = {{\n    a = {}\n  }}\n  x = {}\n}}\n",
            nested("[", "]", deep, "\"s\", # ]\n  1"),
            nested("(", ")", deep, "1 + f(2, [3])"),
            nested("{ k = ", " }", deep, "<<EOT\n}\nEOT\n"),
        );
        let masked = mask_deep(&text).expect("nested deep enough to mask");
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked.matches('\n').count(), text.matches('\n').count());
        assert!(!masked.contains("\"s\"") && !masked.contains("EOT"));
        let whole = parse(&text, None);
        let tree = parse(&masked, None);
        assert!(!tree.root_node().has_error());
        let nodes = |tree: &Tree| tree_shape(tree).0;
        assert!(
            nodes(&tree) * 2 < nodes(&whole),
            "{} nodes masked, {} whole",
            nodes(&tree),
            nodes(&whole)
        );
        assert_eq!(
            crate::terraform::file_blocks(&masked, &tree),
            crate::terraform::file_blocks(&text, &whole)
        );
        // Parsed as a stretch of a larger text: the same blocks too.
        let file = format!("variable \"v\" {{}}\n{text}");
        let range = "variable \"v\" {}\n".len()..file.len();
        let mut points = Points::new(&file);
        let (start, end) = (points.at(range.start), points.at(range.end));
        let stretch = parse_stretch_at(&file, range.clone(), start, end).expect("a clean stretch");
        let mut blocks = crate::terraform::file_blocks(&file, &stretch);
        let mut expected = crate::terraform::file_blocks(&file, &parse(&file, None));
        expected.remove(0);
        blocks.retain(|b| b.span.start >= range.start);
        assert_eq!(blocks, expected);
    }

    /// Nothing nested that deep, or brackets only in strings and comments:
    /// nothing is masked.
    #[test]
    fn text_not_nested_that_deep_is_not_masked() {
        let shallow = format!("a = {}\n", nested("[", "]", MASK_DEPTH - 1, "1"));
        assert_eq!(mask_deep(&shallow), None);
        let many = "b = [[1], [2], {c = (3)}]\n".repeat(MASK_DEPTH);
        assert_eq!(mask_deep(&many), None);
        let quoted = format!(
            "d = \"{}\"\n# {}\n",
            "[".repeat(2 * MASK_DEPTH),
            "(".repeat(2 * MASK_DEPTH)
        );
        assert_eq!(mask_deep(&quoted), None);
    }
}
