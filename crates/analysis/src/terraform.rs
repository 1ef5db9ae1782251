//! Terraform structure on top of the HCL tree: which blocks are resources.
//!
//! Terraform only knows top-level `resource` blocks. While a user types, the
//! tree is rarely clean, so "top level" is read generously but never blindly:
//!
//! * a block under `config_file` is top level;
//! * an `ERROR` node is transparent (tree-sitter wraps a whole file in one when
//!   a later block is unclosed, keeping earlier blocks as its children);
//! * a block nested in a block whose `}` is MISSING is top level too: the
//!   outer block is unfinished and the user is still typing it;
//! * a block nested in a properly closed block is not a resource.
//!
//! Sometimes recovery flattens a well-formed block into loose tokens inside an
//! `ERROR` (e.g. after a stray `}`). Such a header is found by its text (at
//! the start of a line, or glued after the error) and its block re-parsed on
//! its own as an [`Island`]. A header no parse can read still stands for a
//! resource whose verdict is "not checked" (see [`file_blocks`]).

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::queries::RESOURCE_BLOCKS;
use super::syntax::{self, BlockParts};

/// A piece of a file that is analyzed with its own tree: the whole file, or
/// a block recovered from inside an `ERROR` node and re-parsed alone.
pub(crate) struct Island<'a> {
    /// The island's text (a slice of the file's text).
    pub src: &'a str,
    /// Where `src` starts in the file.
    pub offset: usize,
    tree: IslandTree<'a>,
}

enum IslandTree<'a> {
    Borrowed(&'a Tree),
    Owned(Tree),
}

impl<'a> Island<'a> {
    pub fn root(&self) -> Node<'_> {
        match &self.tree {
            IslandTree::Borrowed(tree) => tree.root_node(),
            IslandTree::Owned(tree) => tree.root_node(),
        }
    }

    /// The top-level blocks of this island (of any type), in source order.
    pub(crate) fn top_blocks(&self) -> Vec<Node<'_>> {
        let mut found = Vec::new();
        for container in containers(self.root()) {
            let mut cursor = container.walk();
            found.extend(
                container
                    .named_children(&mut cursor)
                    .filter(|n| n.kind() == "block"),
            );
        }
        // A re-parsed island stands for exactly the one block at its start.
        if self.offset > 0 {
            found.retain(|b| b.start_byte() == 0);
        }
        found.sort_by_key(|b| b.start_byte());
        found
    }
}

/// The resource that `block` (a top-level block of `src`) is, if it is one.
pub(crate) fn resource_of<'t>(block: Node<'t>, src: &str) -> Option<Resource<'t>> {
    let mut found = Vec::new();
    collect_resources(block, Some(0), src, &mut found);
    found.pop()
}

fn collect_resources<'t>(
    node: Node<'t>,
    max_depth: Option<u32>,
    src: &str,
    found: &mut Vec<Resource<'t>>,
) {
    RESOURCE_BLOCKS.for_each_match_within(node, max_depth, src, |row| {
        let Some(block) = row[0] else {
            return;
        };
        let Some(parts) = BlockParts::of(block) else {
            return;
        };
        let (Some(type_label), Some(name_label)) = (parts.label(0), parts.label(1)) else {
            return;
        };
        if parts.label_count != 2 || parts.block_start.is_none() {
            return;
        }
        if syntax::label_value(type_label, src).is_none()
            || syntax::label_value(name_label, src).is_none()
        {
            return;
        }
        found.push(Resource { block, parts });
    });
}

/// The top-level blocks of a parsed HCL file, lowered, in source order:
/// those of the file's tree and those recovered from `ERROR` nodes.
pub(crate) fn file_blocks(src: &str, tree: &Tree) -> Vec<crate::hir::Block> {
    let mut out: Vec<crate::hir::Block> = Vec::new();
    // Where the blocks found so far start: an island may find a block again.
    let mut starts = std::collections::HashSet::new();
    for island in islands(src, tree) {
        for node in island.top_blocks() {
            if let Some(mut block) = crate::lower::hcl::top_block(node, island.src) {
                block.shift(island.offset as isize);
                block.shrink();
                if starts.insert(block.span.start) {
                    out.push(block);
                }
            }
        }
    }
    out.sort_by_key(|b| b.span.start);
    let broken = tree.root_node().has_error();
    if broken {
        adopt_strays(&mut out);
    }
    // A block Terraform rejects at the top level (of a type it does not
    // know, or with more labels than its type takes) may hold a model's
    // header among its labels (`a` typed on the line above one) or in its
    // body. In a file without syntax errors, nowhere else: a header in a
    // block of a known type (`data /* c */ aws_sagemaker_model x {`) is
    // that block's, whatever other blocks say.
    if broken {
        take_unreadable(src, tree, &mut out, 0..src.len());
        out.retain(held);
    } else if out.iter().any(|b| rejected_header(&b.kind, b.labels.len())) {
        let mut each = Vec::with_capacity(out.len());
        for block in out {
            if rejected_header(&block.kind, block.labels.len()) {
                each.extend(rejected_item_blocks(src, tree, block));
            } else {
                each.push(block);
            }
        }
        out = each;
    }
    out.shrink_to_fit();
    out
}

/// Adds to `out` (the blocks read in `range` of the file, in order) the
/// resources no parse could read there ([`unreadable_resources`]), in order.
fn take_unreadable(src: &str, tree: &Tree, out: &mut Vec<crate::hir::Block>, range: Range<usize>) {
    let (lost, misspelt) = unreadable_resources(src, tree, out, range);
    if !lost.is_empty() || !misspelt.is_empty() {
        // Recovery's reading of such a header (labels taken from the
        // broken text after it) gives way to the header alone. A
        // misspelt one stays beside it: Terraform rejects it.
        out.retain(|b| !lost.iter().any(|l| l.span.start == b.span.start));
        out.extend(lost);
        out.extend(misspelt);
        out.sort_by_key(|b| b.span.start);
    }
}

/// The blocks that stand for `block`, a top-level block Terraform rejects
/// (see [`rejected_header`]) of a tree without syntax errors: the block
/// itself (unless a resource header at its start that no parse could read
/// takes its place, or it is not [`worth_holding`]) and the resources it
/// may hide, in order. In such a
/// tree a header can hide in such a block alone, and what it hides depends
/// on the block's text and the comment above it: [`file_blocks`] and the
/// analysis cache, which reads the file item by item, read it alike.
pub(crate) fn rejected_item_blocks(
    src: &str,
    tree: &Tree,
    block: crate::hir::Block,
) -> Vec<crate::hir::Block> {
    let range = block.span.clone();
    let mut out = vec![block];
    take_unreadable(src, tree, &mut out, range);
    out.retain(held);
    out
}

/// Whether a top-level block is held: unless Terraform rejects it and it
/// is not [`worth_holding`].
fn held(block: &crate::hir::Block) -> bool {
    !rejected_header(&block.kind, block.labels.len()) || worth_holding(block)
}

/// Whether a top-level block is worth holding for analysis: one analysis
/// reads, or one that may hide such a block (syntax errors, nested blocks,
/// words that did not parse) or holds a suppression directive. A block
/// Terraform rejects that is none of these is not held: a file of tiny
/// ones (`a{}`) held them all lowered, 8 MB of them took 851 MB to check,
/// and 1 MB of them 111 MiB in the editor.
pub(crate) fn worth_holding(block: &crate::hir::Block) -> bool {
    crate::rules::read_for_findings(&block.kind, block.label(0))
        || !block.clean
        || !block.body.blocks.is_empty()
        || !block.body.unparsed_words.is_empty()
        || block
            .comments
            .iter()
            .any(|(_, text)| text.contains(crate::suppress::DIRECTIVE))
}

/// The block types Terraform knows at the top level of a file, with the
/// number of labels each takes.
const TOP_LEVEL: &[(&str, usize)] = &[
    ("check", 1),
    ("data", 2),
    ("ephemeral", 2),
    ("import", 0),
    ("locals", 0),
    ("module", 1),
    ("moved", 0),
    ("output", 1),
    ("provider", 1),
    ("removed", 0),
    ("resource", 2),
    ("terraform", 0),
    ("variable", 1),
];

/// Whether `kind` is a block type Terraform knows at the top level.
pub(crate) fn known_top_level(kind: &str) -> bool {
    TOP_LEVEL.iter().any(|&(known, _)| known == kind)
}

/// Whether Terraform rejects a top-level block of this type and number of
/// labels for its header: a type it does not know there, or more labels
/// than the type takes. (Fewer labels hide nothing.)
pub(crate) fn rejected_header(kind: &str, labels: usize) -> bool {
    TOP_LEVEL
        .iter()
        .find(|&&(known, _)| known == kind)
        .is_none_or(|&(_, takes)| labels > takes)
}

/// The resources a block Terraform rejects was most likely meant to be: a
/// header naming a checked resource type and then a name, under a
/// misspelt or missing keyword (`resourc "aws_sagemaker_model" "m" {`,
/// `xresource …`, `aws_sagemaker_model "m" {`) or with labels to spare
/// (`resource "aws_sagemaker_model" "m" "x" {`). Each is the header
/// alone, with an empty, unfinished body, as for an unreadable header: a
/// resource that is not checked, rather than nothing. A header whose
/// labels hold a resource read, or a `resource` header in `headers` (`x`
/// typed on the line above one), is that resource already.
fn misspelt_resources(
    blocks: &[crate::hir::Block],
    headers: &[crate::hir::Block],
) -> Vec<crate::hir::Block> {
    use crate::hir::{Block, Label};
    // Both in order of where they start.
    let holds_resource = |of: &[Block], header: &Range<usize>| {
        let from = of.partition_point(|b| b.span.start < header.start);
        of[from..]
            .iter()
            .take_while(|b| b.span.start < header.end)
            .any(|b| b.resource_address().is_some())
    };
    let mut out = Vec::new();
    for rejected in blocks {
        if !rejected_header(&rejected.kind, rejected.labels.len()) {
            continue;
        }
        let header = rejected.header();
        if holds_resource(blocks, &header) || holds_resource(headers, &header) {
            continue;
        }
        // The header's words: its type, then its labels.
        let words = std::iter::once(Label {
            value: rejected.kind.clone(),
            span: rejected.kind_span.clone(),
        })
        .chain(rejected.labels.iter().cloned())
        .collect::<Vec<_>>();
        let Some(at) = words
            .windows(2)
            .position(|w| crate::rules::checked_type(&w[0].value))
        else {
            continue;
        };
        let end = rejected.braces.map_or(header.end, |(open, _)| open);
        out.push(Block {
            kind: "resource".into(),
            kind_span: rejected.kind_span.clone(),
            labels: words[at..at + 2].to_vec(),
            body: Default::default(),
            span: rejected.span.start..end,
            closed: false,
            clean: false,
            braces: None,
            json: false,
            comments: rejected.comments.clone(),
        });
    }
    out
}

/// In a file with syntax errors, a top-level block of a type Terraform
/// only knows nested (`vpc_config`, `dynamic "vpc_config"`) right after a
/// resource is most likely that resource's, cut off by a stray `}`: its
/// type counts as written in the resource's unparsed text, so that what
/// rules decide about it is "not known", not "missing".
fn adopt_strays(blocks: &mut [crate::hir::Block]) {
    for i in 1..blocks.len() {
        let stray = &blocks[i];
        if known_top_level(&stray.kind) {
            continue;
        }
        let word: crate::hir::Name = crate::module::effective_kind(stray).into();
        let owner = &mut blocks[i - 1];
        if owner.kind == "resource" && !owner.body.unparsed_words.contains(&word) {
            owner.body.unparsed_words.push(word);
        }
    }
}

/// The resources of a file with syntax errors or a top-level block
/// Terraform rejects that no parse could read in `range` of it (`found`:
/// the blocks that were read there, in order; `range` starts and ends
/// outside strings and comments): each resource header (`resource LABEL LABEL {`)
/// outside the bodies of blocks of known types read whole and outside
/// strings, heredocs and comments — except one left open at the end of
/// the file, which may as well be the error — that starts no resource
/// read; then, as headers of their own (the second list), the resources
/// of headers Terraform rejects ([`misspelt_resources`]); and the headers
/// left without a keyword (`<<EOTresource "TYPE" "NAME" {`).
/// What rules decide from such a header is "not known" rather than nothing.
fn unreadable_resources(
    src: &str,
    tree: &Tree,
    found: &[crate::hir::Block],
    range: Range<usize>,
) -> (Vec<crate::hir::Block>, Vec<crate::hir::Block>) {
    // The text of `range` starts and ends outside strings and comments.
    let non_code: Vec<Range<usize>> = crate::lex::closed_non_code(&src[range.clone()])
        .into_iter()
        .map(|r| r.start + range.start..r.end + range.start)
        .collect();
    // The bodies of closed blocks of types Terraform knows: a header there
    // is a nested block. (A header among a block's labels, `resource "a"`
    // glued before it, is not; nor one in the body of a block Terraform
    // rejects, which may well have been meant at the top level.)
    // As sorted disjoint ranges, searched like `non_code`: a file of many
    // blocks has as many headers.
    let mut braces: Vec<(usize, usize)> = found
        .iter()
        .filter(|b| known_top_level(&b.kind))
        .filter_map(|b| b.braces)
        .collect();
    braces.sort_unstable();
    let mut bodies: Vec<Range<usize>> = Vec::new();
    for (open, close) in braces {
        match bodies.last_mut() {
            Some(last) if open <= last.end => last.end = last.end.max(close),
            _ => bodies.push(open..close),
        }
    }
    let in_body = |at: usize| covers(&bodies, at);
    // `found` is in order of where its blocks start.
    let first_from = |at: usize| found.partition_point(|b| b.span.start < at);
    let candidates = header_candidates(src, range.clone());
    let mut out = Vec::new();
    for &at in &candidates {
        if crate::lex::inside(&non_code, at)
            || found[first_from(at)..]
                .iter()
                .take_while(|b| b.span.start == at)
                .any(|b| b.resource_address().is_some())
            || in_body(at)
        {
            continue;
        }
        if let Some(mut block) = unreadable_resource(&src[at..], at) {
            if let Some(comment) = crate::suppress::comment_above(tree.root_node(), src, at) {
                block.comments =
                    std::iter::once((comment.byte_range(), syntax::text(comment, src).into()))
                        .collect();
            }
            out.push(block);
        }
    }
    out.sort_by_key(|b| b.span.start);
    let misspelt = misspelt_resources(found, &out);
    // Headers whose keyword is gone (searched where a header with it is),
    // but not those of the resources read or found above.
    let mut resources: Vec<Range<usize>> = found
        .iter()
        .chain(&out)
        .chain(&misspelt)
        .filter(|b| b.resource_address().is_some())
        .map(|b| b.span.clone())
        .collect();
    resources.sort_unstable_by_key(|r| r.start);
    let mut typed = Vec::new();
    for at in typed_header_candidates(src, range) {
        if crate::lex::inside(&non_code, at) || in_body(at) || covers(&resources, at) {
            continue;
        }
        typed.extend(unreadable_typed(&src[at..], at));
    }
    if !typed.is_empty() {
        out.extend(typed);
        out.sort_by_key(|b| b.span.start);
    }
    (out, misspelt)
}

/// Whether one of `ranges` (sorted, disjoint) holds `at`, its start
/// included.
fn covers(ranges: &[Range<usize>], at: usize) -> bool {
    let i = ranges.partition_point(|r| r.end <= at);
    ranges.get(i).is_some_and(|r| r.start <= at)
}

/// The block of the resource header `src` starts with (at `offset` in the
/// file): the header alone (its span, whatever follows it), with an empty,
/// unfinished body — or `None` when no rule checks resources of its type (a
/// block of another type, read for what it declares, would wrongly declare
/// nothing).
fn unreadable_resource(src: &str, offset: usize) -> Option<crate::hir::Block> {
    let len = header_len(src)?;
    let header = format!("{}}}", &src[..len]);
    let tree = syntax::parse(&header, None);
    let node = tree.root_node().named_child(0)?.named_child(0)?;
    let parts = BlockParts::of(node)?;
    if tree.root_node().has_error() || node.kind() != "block" || parts.label_count != 2 {
        return None;
    }
    let mut block = crate::lower::hcl::block(node, &header)?;
    let (kind, _) = block.resource_address()?;
    if !crate::rules::checked_type(kind) {
        return None;
    }
    block.span = 0..len;
    block.closed = false;
    block.clean = false;
    block.braces = None;
    block.shift(offset as isize);
    block.shrink();
    Some(block)
}

/// The nodes whose child blocks Terraform would read as top-level blocks:
/// the file's body, `ERROR` nodes on the way, and the bodies of unclosed
/// blocks (see the module docs). A block nested in a closed block is not
/// reached.
pub(crate) fn containers(root: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    if root.kind() == "ERROR" {
        out.push(root);
    }
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            match child.kind() {
                "body" => {
                    out.push(child);
                    if child.has_error() {
                        stack.push(child);
                    }
                }
                "ERROR" => {
                    out.push(child);
                    stack.push(child);
                }
                // An unclosed block's items count as top level (the user is
                // still typing it); a closed block's nested blocks never do.
                "block"
                    if child.has_error()
                        && BlockParts::of(child).is_some_and(|p| !p.is_closed()) =>
                {
                    stack.push(child);
                }
                _ => {}
            }
        }
    }
    out
}

/// A top-level `resource "TYPE" "NAME" { … }` block.
#[derive(Debug, Clone)]
pub(crate) struct Resource<'t> {
    pub block: Node<'t>,
    pub parts: BlockParts<'t>,
}

/// Splits a parsed file into islands: the file itself, then one per resource
/// header that error recovery flattened into an `ERROR` node.
pub(crate) fn islands<'a>(src: &'a str, tree: &'a Tree) -> Vec<Island<'a>> {
    let mut out = vec![Island {
        src,
        offset: 0,
        tree: IslandTree::Borrowed(tree),
    }];
    out.extend(recovered(src, tree));
    out
}

/// [`islands`], owning the file's tree.
pub(crate) fn islands_owned(src: &str, tree: Tree) -> Vec<Island<'_>> {
    let recovered = recovered(src, &tree);
    let mut out = vec![Island {
        src,
        offset: 0,
        tree: IslandTree::Owned(tree),
    }];
    out.extend(recovered);
    out
}

/// The islands parsed again from the resource headers in `tree`'s
/// `ERROR` nodes.
fn recovered<'a>(src: &'a str, tree: &Tree) -> Vec<Island<'a>> {
    let mut out = Vec::new();
    let root = tree.root_node();
    if !root.has_error() {
        return out;
    }
    // Recovery is by text: never from inside a string, heredoc or comment,
    // whatever the broken tree says.
    let non_code = crate::lex::non_code(src);
    for error in outermost_errors(root) {
        let range = error.byte_range();
        let headers: Vec<usize> = header_candidates(src, range.clone())
            .into_iter()
            .filter(|&at| !starts_a_block(root, at) && !crate::lex::inside(&non_code, at))
            .collect();
        for (i, &start) in headers.iter().enumerate() {
            let end = headers.get(i + 1).copied().unwrap_or(range.end);
            let Some(piece) = src.get(start..end) else {
                continue;
            };
            out.push(Island {
                src: piece,
                offset: start,
                tree: IslandTree::Owned(syntax::parse(piece, None)),
            });
        }
    }
    out
}

/// `ERROR` nodes that are not inside another `ERROR`.
fn outermost_errors(root: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() {
            out.push(node);
            continue;
        }
        if !node.has_error() {
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out.sort_by_key(|n| n.start_byte());
    out
}

/// True if a `block` node starts exactly at byte `at`.
fn starts_a_block(root: Node<'_>, at: usize) -> bool {
    let mut node = root.descendant_for_byte_range(at, at);
    while let Some(n) = node {
        if n.start_byte() != at {
            return false;
        }
        if n.kind() == "block" {
            return true;
        }
        node = n.parent();
    }
    false
}

/// Offsets in `range` where a complete resource header starts:
/// `resource LABEL LABEL {` on one line, `resource` a word of its own (at
/// the start of a line or glued after an error: `[,]resource …`).
fn header_candidates(src: &str, range: Range<usize>) -> Vec<usize> {
    let Some(region) = src.get(range.clone()) else {
        return Vec::new();
    };
    region
        .match_indices("resource")
        .map(|(at, _)| range.start + at)
        .filter(|&at| {
            let before = src[..at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
                && is_resource_header(&src[at..])
        })
        .collect()
}

/// `resource "TYPE" "NAME" {` (labels quoted or bare, `/* */` comments
/// between them) at the start of `s`.
fn is_resource_header(s: &str) -> bool {
    header_len(s).is_some()
}

/// The length of the resource header at the start of `s`, its `{`
/// included (see [`is_resource_header`]).
fn header_len(s: &str) -> Option<usize> {
    let labels = s.strip_prefix("resource")?;
    let rest = s.len() - labels.len();
    Some(rest + labels_len(labels, true)?)
}

/// The length of two labels and the `{` after them at the start of `s`
/// (after a word when `spaced`: a bare label is then apart from it).
fn labels_len(s: &str, spaced: bool) -> Option<usize> {
    let mut rest = s;
    for i in 0..2 {
        let trimmed = skip_blanks(rest);
        if (spaced || i > 0) && trimmed.len() == rest.len() && !rest.starts_with('"') {
            return None;
        }
        rest = skip_label(trimmed)?;
    }
    let rest = skip_blanks(rest).strip_prefix('{')?;
    Some(s.len() - rest.len())
}

/// Offsets where a checked resource type and a name start a header with
/// no `resource` keyword left to read (`<<EOTresource "TYPE" "NAME" {`, a
/// heredoc's marker glued to it): the type, quoted or bare, a label, `{`.
fn typed_header_candidates(src: &str, range: Range<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    for &kind in crate::rules::checked_types() {
        for (at, _) in src[range.clone()].match_indices(kind) {
            let at = range.start + at;
            let quoted = at > 0 && src.as_bytes()[at - 1] == b'"';
            let start = if quoted { at - 1 } else { at };
            let before = src[..start].chars().next_back();
            let after = src[at + kind.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if (quoted && after != Some('"')) || (!quoted && (word(before) || word(after))) {
                continue;
            }
            if labels_len(&src[start..], false).is_some() {
                out.push(start);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The block of the header without a keyword that `src` starts with (at
/// `offset` in the file), as [`unreadable_resource`] reads one with it.
fn unreadable_typed(src: &str, offset: usize) -> Option<crate::hir::Block> {
    const KEYWORD: &str = "resource ";
    let len = labels_len(src, false)?;
    let mut block = unreadable_resource(&format!("{KEYWORD}{}", &src[..len]), 0)?;
    block.shift(offset as isize - KEYWORD.len() as isize);
    block.kind_span = block.labels[0].span.clone();
    block.span = offset..offset + len;
    Some(block)
}

/// Skips spaces, tabs and `/* … */` comments on one line.
fn skip_blanks(mut s: &str) -> &str {
    loop {
        s = s.trim_start_matches([' ', '\t']);
        match s
            .strip_prefix("/*")
            .and_then(|r| r.find("*/").map(|end| &r[end + 2..]))
        {
            Some(after) if !s[..s.len() - after.len()].contains('\n') => s = after,
            _ => return s,
        }
    }
}

fn skip_label(s: &str) -> Option<&str> {
    if let Some(quoted) = s.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                '\n' => return None,
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return Some(&quoted[i + 1..]),
                _ => escaped = false,
            }
        }
        return None;
    }
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_alphanumeric() || c == '_' || (c == '-' && i > 0)))
        .map_or(s.len(), |(i, _)| i);
    (end > 0).then(|| &s[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources_in(src: &str) -> Vec<String> {
        let tree = syntax::parse(src, None);
        islands(src, &tree)
            .iter()
            .flat_map(|island| {
                island
                    .top_blocks()
                    .into_iter()
                    .filter_map(|b| resource_of(b, island.src))
                    .map(|r| {
                        let label = |i| {
                            syntax::label_value(r.parts.label(i).expect("a label"), island.src)
                                .expect("a label value")
                        };
                        let start = r.block.start_byte() + island.offset;
                        format!("{}.{}@{start}", label(0), label(1))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn finds_quoted_and_bare_resources_but_not_data_or_nested() {
        let src = "resource \"a\" \"x\" {}\nresource b y {\n  resource \"c\" \"z\" {}\n}\ndata \"a\" \"d\" {}\n";
        assert_eq!(resources_in(src), ["a.x@0", "b.y@20"]);
    }

    #[test]
    fn a_stray_brace_does_not_hide_later_resources() {
        let src = "resource \"m\" \"a\" {\n}\n}\n}\nresource \"m\" \"b\" {\n  x = 1\n}\n";
        assert_eq!(resources_in(src), ["m.a@0", "m.b@25"]);
    }

    #[test]
    fn a_header_glued_after_an_error_is_recovered() {
        let src = "variable \"v\" {\n}\n[,]resource \"m\" \"a\" {\n  x = 1\n}\n";
        assert_eq!(resources_in(src), ["m.a@20"]);
    }

    /// Clean HCL that Terraform rejects hides no model: a header among the
    /// labels of a block of an unknown type or of too many labels, or in
    /// the body of a block of an unknown type, is a model left unfinished
    /// (not checked); one nested in a block of a known type is not a model.
    #[test]
    fn a_model_in_a_block_terraform_rejects_is_left_unfinished() {
        let src = concat!(
            "a\nresource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n}\n",
            "variable resource \"aws_sagemaker_model\" \"n\" {}\n",
            "foo {\n  resource \"aws_sagemaker_model\" \"o\" {}\n}\n",
            "locals {\n  resource \"aws_sagemaker_model\" \"p\" {}\n}\n",
            "resource \"aws_sagemaker_model\" \"q\" {}\n",
        );
        let header = |name: &str| format!("resource \"aws_sagemaker_model\" \"{name}\" {{");
        assert_eq!(
            models_in(src, |b| b.span.clone()),
            [
                format!("m false {}", header("m")),
                format!("n false {}", header("n")),
                format!("o false {}", header("o")),
                format!("q true {}}}", header("q")),
            ]
        );
        // A clean file of known blocks is read as it is.
        let clean = "locals {\n  resource \"aws_sagemaker_model\" \"p\" {}\n}\n";
        assert_eq!(file_blocks(clean, &syntax::parse(clean, None)).len(), 1);
    }

    /// A block Terraform rejects is held only when analysis may read it: a
    /// file of `a{}` held each lowered (1 MB of them took 111 MiB in the
    /// editor). Nested blocks, words that did not parse, a suppression
    /// directive or a syntax error keep it, and so does a type analysis
    /// reads (a variable with a label to spare); in a file with a syntax
    /// error elsewhere too.
    #[test]
    fn a_block_terraform_rejects_is_held_only_when_analysis_may_read_it() {
        let kinds = |src: &str| -> Vec<String> {
            file_blocks(src, &syntax::parse(src, None))
                .iter()
                .map(|b| format!("{} {}", b.kind, b.labels.len()))
                .collect()
        };
        let src = concat!(
            "a{}\n",
            "b {\n  x = aws_subnet.s.id\n}\n",
            "c {\n  d {}\n}\n",
            "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc kept\n",
            "e {}\n",
            "output \"o\" \"p\" {}\n",
            "variable \"v\" \"w\" {}\n",
            "resource \"aws_sagemaker_model\" \"m\" {}\n",
        );
        let held = ["c 0", "e 0", "variable 2", "resource 2"];
        assert_eq!(kinds(src), held);
        let broken = format!("{src}locals {{\n  x =\n}}\n");
        let mut with_error = kinds(&broken);
        assert_eq!(with_error.pop().as_deref(), Some("locals 0"));
        assert_eq!(with_error, held);
    }

    /// Each model `file_blocks` reads in `src`: its name, whether closed,
    /// and its text at `place`.
    fn models_in(src: &str, place: impl Fn(&crate::hir::Block) -> Range<usize>) -> Vec<String> {
        file_blocks(src, &syntax::parse(src, None))
            .iter()
            .filter_map(|b| {
                let (_, name) = b.resource_address()?;
                Some(format!("{name} {} {}", b.closed, &src[place(b)]))
            })
            .collect()
    }

    /// A header Terraform rejects that names a checked type and a name (a
    /// misspelt or missing keyword, a label to spare) and one whose keyword
    /// a heredoc's marker took are models left unfinished; another type,
    /// or a model nested in a block of a known type, is not.
    #[test]
    fn a_model_whose_keyword_is_misspelt_or_gone_is_left_unfinished() {
        let src = concat!(
            "resourc \"aws_sagemaker_model\" \"a\" {\n  name = \"a\"\n}\n",
            "aws_sagemaker_model \"b\" {}\n",
            "resource \"aws_sagemaker_model\" \"c\" \"x\" {}\n",
            "variable resource \"aws_sagemaker_model\" \"d\" {}\n",
            "resourc \"aws_s3_bucket\" \"e\" {}\n",
            "locals {\n  t = \"aws_sagemaker_model\"\n  aws_sagemaker_model \"f\" {}\n}\n",
            "<<EOTresource \"aws_sagemaker_model\" \"g\" {\n  name = \"g\"\n}\n",
        );
        assert_eq!(
            models_in(src, |b| b.header()),
            [
                "a false resourc \"aws_sagemaker_model\" \"a\"",
                "b false aws_sagemaker_model \"b\"",
                "c false resource \"aws_sagemaker_model\" \"c\"",
                "d false resource \"aws_sagemaker_model\" \"d\"",
                "g false \"aws_sagemaker_model\" \"g\"",
            ]
        );
    }

    /// In a file without syntax errors, a header hides in a block
    /// Terraform rejects alone: one in the header of a block of a known
    /// type (a comment between `data` and its labels) is that block's, even
    /// when another block of the file is rejected.
    #[test]
    fn a_header_in_a_known_block_is_not_taken_for_a_hidden_model() {
        let src = concat!(
            "a {}\n",
            "data /* c */\naws_sagemaker_model \"d\" {\n}\n",
            "x resource \"aws_sagemaker_model\" \"m\" {\n}\n",
        );
        assert!(!syntax::parse(src, None).root_node().has_error());
        assert_eq!(
            models_in(src, |b| b.header()),
            ["m false resource \"aws_sagemaker_model\" \"m\""]
        );
    }

    #[test]
    fn resources_after_an_unclosed_block_are_still_resources() {
        let src = "locals {\n  a = 1\n\nresource \"m\" \"b\" {\n}\n";
        assert_eq!(resources_in(src), ["m.b@18"]);
    }

    #[test]
    fn no_resource_is_recovered_from_a_heredoc() {
        let src = "locals {\n  doc = <<EOT\nresource \"aws_sagemaker_model\" \"fake\" {\n}\nEOT\n}\n}\nresource \"m\" \"real\" {\n}\n";
        let found = resources_in(src);
        assert!(found.iter().all(|r| !r.contains("fake")), "{found:?}");
        assert!(found.iter().any(|r| r.contains("real")), "{found:?}");
    }

    #[test]
    fn header_text_recognises_only_complete_headers() {
        assert!(is_resource_header("resource \"a\" \"b\" {"));
        assert!(is_resource_header("resource a b{"));
        assert!(is_resource_header("resource /* c */ \"a\" /* d */ \"b\" {"));
        assert!(!is_resource_header("resource \"a\" {"));
        assert!(!is_resource_header("resources \"a\" \"b\" {"));
        assert!(!is_resource_header("resource \"a\" \"b\""));
    }

    /// Every list of a lowered block holds no more room than its items:
    /// a file's blocks are kept while it is open or its module checked.
    #[test]
    fn lowered_blocks_keep_no_spare_room() {
        let src = concat!(
            "resource \"aws_sagemaker_model\" \"m\" {\n",
            "  name = \"m\"\n",
            "  execution_role_arn = \"${var.a}-${var.b}-x\"\n",
            "  tags = { a = \"1\", b = \"2\", c = \"3\" }\n",
            "  list = [1, 2, 3]\n",
            "  primary_container {\n    image = \"i\"\n  }\n",
            "}\n",
            "resource \"aws_sagemaker_model\" \"n\" {\n  name = \"n\"\n}\n",
        );
        let blocks = file_blocks(src, &syntax::parse(src, None));
        assert_eq!(blocks.len(), 2);
        fn tight<T>(what: &str, v: &[T], cap: usize) {
            assert_eq!(cap, v.len(), "{what}: capacity {cap} for {} items", v.len());
        }
        fn check_body(body: &crate::hir::Body) {
            tight("attributes", &body.attributes, body.attributes.capacity());
            tight("blocks", &body.blocks, body.blocks.capacity());
            for a in &body.attributes {
                a.value.as_ref().unwrap().visit(&mut |e| match &e.kind {
                    crate::hir::ExprKind::Template(p) => tight("template", p, p.capacity()),
                    crate::hir::ExprKind::Tuple(p) => tight("tuple", p, p.capacity()),
                    crate::hir::ExprKind::Object(p) => tight("object", p, p.capacity()),
                    _ => {}
                });
            }
            body.blocks.iter().for_each(|b| check_body(&b.body));
        }
        for block in &blocks {
            tight("labels", &block.labels, block.labels.capacity());
            check_body(&block.body);
        }
    }
}
