//! tree-sitter-hcl → [`crate::hir`].
//!
//! Two quirks of the grammar are undone here. Operands of a binary operation
//! are flattened into its children (`var.a + 1` is `variable_expr get_attr
//! '+' literal_value`), so operands are read as child sequences split at the
//! operator. And postfix operators bind looser than operators in its trees
//! (`!var.c` parses as `(!var).c`, `a + f(x)[0]` as `(a + f(x))[0]`), so a
//! postfix that follows an operation is moved onto its rightmost operand,
//! where HCL's own parser puts it. Any node with an `ERROR` or `MISSING` inside
//! becomes [`ExprKind::Invalid`]: an expression being typed means nothing yet.

use tree_sitter::{Node, Tree};

use crate::hir::{
    Attribute, BinaryOp, Block, Body, Expr, ExprKind, ForExpr, Label, Span, Step, TemplatePart,
    UnaryOp,
};
use crate::syntax::{self, BlockParts};

/// A `block` node as a [`Block`].
pub fn block(node: Node<'_>, src: &str) -> Option<Block> {
    let parts = BlockParts::of(node)?;
    let labels = (0..parts.label_count)
        .filter_map(|i| parts.label(i))
        .map(|l| Label {
            value: syntax::label_value(l, src).unwrap_or_default().into(),
            span: l.byte_range(),
        })
        .collect();
    let closed = parts.is_closed();
    let braces = match (parts.block_start, parts.block_end) {
        (Some(open), Some(close)) if closed => Some((open.end_byte(), close.start_byte())),
        _ => None,
    };
    Some(Block {
        kind: syntax::text(parts.ident, src).to_owned().into(),
        kind_span: parts.ident.byte_range(),
        labels,
        body: body(parts.body, src),
        span: node.byte_range(),
        closed,
        clean: closed && !syntax::is_broken(node),
        braces,
        json: false,
        comments: Default::default(),
    })
}

/// A top-level `block` node as a [`Block`], with the comments that may
/// suppress its findings ([`crate::suppress::candidate_comments`]).
pub(crate) fn top_block(node: Node<'_>, src: &str) -> Option<Block> {
    let mut block = block(node, src)?;
    block.comments = crate::suppress::candidate_comments(node, src)
        .into_iter()
        .map(|c| (c.byte_range(), syntax::text(c, src).into()))
        .collect();
    Some(block)
}

/// The items of a `body` node (`None`: an empty block).
pub fn body(node: Option<Node<'_>>, src: &str) -> Body {
    let mut out = Body::default();
    let Some(_nest) = super::Nest::enter() else {
        return out;
    };
    let Some(node) = node else {
        return out;
    };
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.kind() {
            "attribute" => out.attributes.extend(attribute(child, src)),
            "block" => out.blocks.extend(block(child, src)),
            _ => {}
        }
        // Recovery may fold the items after an error into the item that
        // holds it (`name = "m"` then `[,]` swallowed the `vpc_config`
        // after it into an index of `"m"`): every word of such an item is
        // what may have been meant.
        if child.is_error() || child.has_error() {
            // A set: such an item may hold the rest of the file.
            let mut seen: std::collections::HashSet<String> = out
                .unparsed_words
                .iter()
                .map(|w| w.as_str().to_owned())
                .collect();
            for word in words(syntax::text(child, src)) {
                if seen.insert(word.to_owned()) {
                    out.unparsed_words.push(word.into());
                }
            }
        }
    }
    out
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
}

/// An `attribute` node.
pub fn attribute(node: Node<'_>, src: &str) -> Option<Attribute> {
    let (name, value) = syntax::attribute_parts(node)?;
    Some(Attribute {
        name: syntax::text(name, src).to_owned().into(),
        name_span: name.byte_range(),
        span: node.byte_range(),
        value: value.map(|v| expr(v, src)),
    })
}

/// The top-level attributes of a tfvars file.
pub fn tfvars(src: &str, tree: &Tree) -> Vec<Attribute> {
    let root = tree.root_node();
    let mut cursor = root.walk();
    let Some(body) = root
        .named_children(&mut cursor)
        .find(|n| n.kind() == "body")
    else {
        return Vec::new();
    };
    syntax::body_items(body)
        .filter_map(|item| attribute(item, src))
        .collect()
}

/// Parses `text` as one expression (a local kept as text, a type in JSON, an
/// interpolation in a JSON string). Spans are relative to `text`.
pub(crate) fn parse_expression(text: &str) -> Expr {
    let src = format!("x = {text}\n");
    let tree = syntax::parse(&src, None);
    let whole = 0..text.len();
    let root = tree.root_node();
    if root.has_error() {
        return Expr::invalid(whole);
    }
    let Some(body) = root.named_child(0).filter(|n| n.kind() == "body") else {
        return Expr::invalid(whole);
    };
    let mut items = syntax::body_items(body);
    let (Some(item), None) = (items.next(), items.next()) else {
        return Expr::invalid(whole);
    };
    match syntax::attribute_parts(item) {
        Some((_, Some(value))) if value.end_byte() + 1 == src.len() => {
            let mut e = expr(value, &src);
            e.shift(-4);
            e
        }
        _ => Expr::invalid(whole),
    }
}

/// An expression node (`expression`, or any node that can stand for one).
pub(crate) fn expr(node: Node<'_>, src: &str) -> Expr {
    let span = node.byte_range();
    let Some(_nest) = super::Nest::enter() else {
        return Expr::invalid(span);
    };
    if syntax::is_broken(node) {
        return Expr::invalid(span);
    }
    match node.kind() {
        "expression" => {
            let children = all_children(node);
            sequence(&children, src, span)
        }
        _ => primary(node, src),
    }
}

fn all_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.children(&mut cursor)
        .filter(|c| c.kind() != "comment")
        .collect()
}

/// A primary followed by postfix operators, as child nodes.
fn sequence(children: &[Node<'_>], src: &str, span: Span) -> Expr {
    let Some(first) = children.first() else {
        return Expr::invalid(span);
    };
    let (mut value, rest) = if first.kind() == "(" {
        let Some(inner) = children.get(1) else {
            return Expr::invalid(span);
        };
        let close = children.iter().position(|c| c.kind() == ")");
        let end = close.map_or(inner.end_byte(), |i| children[i].end_byte());
        let parens = Expr {
            span: first.start_byte()..end,
            kind: ExprKind::Parens(Box::new(expr(*inner, src))),
        };
        (parens, &children[close.map_or(2, |i| i + 1)..])
    } else {
        (primary(*first, src), &children[1..])
    };
    for post in rest {
        value = postfix(value, *post, src);
    }
    value
}

/// Applies one postfix node to `base`. After an operation, the postfix
/// belongs to its rightmost operand (see the module docs).
fn postfix(base: Expr, node: Node<'_>, src: &str) -> Expr {
    match base.kind {
        ExprKind::Unary(op, operand) => {
            let inner = postfix(*operand, node, src);
            Expr {
                span: base.span.start..inner.span.end.max(base.span.end),
                kind: ExprKind::Unary(op, Box::new(inner)),
            }
        }
        ExprKind::Binary(op, left, right) => {
            let inner = postfix(*right, node, src);
            Expr {
                span: base.span.start..inner.span.end.max(base.span.end),
                kind: ExprKind::Binary(op, left, Box::new(inner)),
            }
        }
        _ => {
            let span = base.span.start..node.end_byte().max(base.span.end);
            let kind = match node.kind() {
                "get_attr" => match node.named_child(0) {
                    Some(name) => ExprKind::GetAttr(Box::new(base), syntax::text(name, src).into()),
                    None => ExprKind::Invalid,
                },
                "index" => match index_expr(node, src) {
                    Some(index) => ExprKind::Index(Box::new(base), Box::new(index)),
                    None => ExprKind::Invalid,
                },
                "splat" => {
                    let mut steps = Vec::new();
                    if let Some(kind) = node.named_child(0) {
                        let mut cursor = kind.walk();
                        for step in kind.named_children(&mut cursor) {
                            match step.kind() {
                                "get_attr" => {
                                    if let Some(name) = step.named_child(0) {
                                        steps.push(Step::Attr(syntax::text(name, src).into()));
                                    }
                                }
                                "index" => match index_expr(step, src) {
                                    Some(i) => steps.push(Step::Index(i)),
                                    None => return Expr::invalid(span),
                                },
                                _ => {}
                            }
                        }
                    }
                    ExprKind::Splat(Box::new(base), steps)
                }
                _ => ExprKind::Invalid,
            };
            Expr { span, kind }
        }
    }
}

/// `[expr]` or the legacy `.0`.
fn index_expr(node: Node<'_>, src: &str) -> Option<Expr> {
    let inner = node.named_child(0)?;
    match inner.kind() {
        "new_index" => inner
            .named_children(&mut inner.walk())
            .find(|n| n.kind() == "expression")
            .map(|e| expr(e, src)),
        "legacy_index" => {
            let digits = syntax::text(inner, src).trim_start_matches('.');
            Some(Expr {
                span: inner.byte_range(),
                kind: ExprKind::Number(digits.parse().ok()?),
            })
        }
        _ => None,
    }
}

fn primary(node: Node<'_>, src: &str) -> Expr {
    let span = node.byte_range();
    if syntax::is_broken(node) {
        return Expr::invalid(span);
    }
    if matches!(
        node.kind(),
        "quoted_template" | "heredoc_template" | "string_lit"
    ) && let Some(masked) = super::masked_at(span.start)
    {
        // A literal masked before parsing (see `super::mask`).
        return Expr {
            span: span.start..masked.end,
            kind: literal_template(masked.value),
        };
    }
    let kind = match node.kind() {
        "expression" => return expr(node, src),
        "literal_value" | "collection_value" | "template_expr" | "for_expr" | "operation" => {
            match node.named_child(0) {
                Some(inner) => return primary(inner, src),
                None => ExprKind::Invalid,
            }
        }
        "null_lit" => ExprKind::Null,
        "bool_lit" => ExprKind::Bool(syntax::text(node, src) == "true"),
        "numeric_lit" => match syntax::text(node, src).parse::<f64>() {
            Ok(n) => ExprKind::Number(n),
            Err(_) => ExprKind::Invalid,
        },
        "string_lit" => {
            let inner = syntax::text(node, src);
            let inner = inner.strip_prefix('"').unwrap_or(inner);
            let inner = inner.strip_suffix('"').unwrap_or(inner);
            literal_template(unescape(inner))
        }
        "quoted_template" => quoted_template(node, src),
        "heredoc_template" => heredoc(node, src),
        "tuple" => {
            let mut cursor = node.walk();
            ExprKind::Tuple(
                node.named_children(&mut cursor)
                    .filter(|n| n.kind() == "expression")
                    .map(|n| expr(n, src))
                    .collect(),
            )
        }
        "object" => object(node, src),
        "variable_expr" => ExprKind::Variable(syntax::text(node, src).to_owned().into()),
        "function_call" => function_call(node, src),
        "conditional" => {
            let mut cursor = node.walk();
            let parts: Vec<Node<'_>> = node
                .named_children(&mut cursor)
                .filter(|n| n.kind() == "expression")
                .collect();
            match parts.as_slice() {
                [c, a, b] => return conditional(expr(*c, src), expr(*a, src), expr(*b, src)),
                _ => ExprKind::Invalid,
            }
        }
        "unary_operation" => {
            let children = all_children(node);
            let op = match children.first().map(|c| c.kind()) {
                Some("!") => UnaryOp::Not,
                Some("-") => UnaryOp::Negate,
                _ => return Expr::invalid(span),
            };
            let operand = sequence(&children[1..], src, span.clone());
            ExprKind::Unary(op, Box::new(operand))
        }
        "binary_operation" => {
            let children = all_children(node);
            let Some(at) = children
                .iter()
                .position(|c| !c.is_named() && BinaryOp::from_token(c.kind()).is_some())
            else {
                return Expr::invalid(span);
            };
            let Some(op) = BinaryOp::from_token(children[at].kind()) else {
                return Expr::invalid(span);
            };
            if at == 0 || at + 1 >= children.len() {
                return Expr::invalid(span);
            }
            let left = sequence(
                &children[..at],
                src,
                children[0].start_byte()..children[at - 1].end_byte(),
            );
            let right = sequence(
                &children[at + 1..],
                src,
                children[at + 1].start_byte()..span.end,
            );
            return grouped(op, left, right);
        }
        "for_tuple_expr" | "for_object_expr" => for_expr(node, src),
        _ => ExprKind::Invalid,
    };
    Expr { span, kind }
}

/// `left op right`, grouped as Terraform groups it. tree-sitter-hcl closes
/// every pending operation before an attribute access, index or splat of a
/// later operand: `a && b.c * d` is `((a && b).c) * d` in its tree, `(a &&
/// b.c) * d` once [`postfix`] moves the access onto `b`. An operation of a
/// looser operator can be a left operand only so (parentheses make a
/// `Parens`): its right operand is given to `op` instead, `a && (b.c * d)`.
fn grouped(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.start..right.span.end;
    match left.kind {
        ExprKind::Binary(inner, ll, lr) if precedence(inner) < precedence(op) => {
            let regrouped = grouped(op, *lr, right);
            Expr {
                span,
                kind: ExprKind::Binary(inner, ll, Box::new(regrouped)),
            }
        }
        kind => Expr {
            span,
            kind: ExprKind::Binary(
                op,
                Box::new(Expr {
                    span: left.span,
                    kind,
                }),
                Box::new(right),
            ),
        },
    }
}

/// `cond ? yes : no`, grouped as Terraform groups it. tree-sitter-hcl
/// groups `a ? b : c ? d : e` to the left, `(a ? b : c) ? d : e`; Terraform
/// to the right, `a ? b : (c ? d : e)`. A conditional can be a condition
/// only so (parentheses make a `Parens`): its last part takes the rest.
fn conditional(cond: Expr, yes: Expr, no: Expr) -> Expr {
    let span = cond.span.start..no.span.end;
    match cond.kind {
        ExprKind::Conditional(c, y, n) => {
            let rest = conditional(*n, yes, no);
            conditional(*c, *y, rest)
        }
        kind => Expr {
            span: span.clone(),
            kind: ExprKind::Conditional(
                Box::new(Expr {
                    span: cond.span,
                    kind,
                }),
                Box::new(yes),
                Box::new(no),
            ),
        },
    }
}

/// How tightly a binary operator binds (higher: tighter).
pub(super) fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Equal | BinaryOp::NotEqual => 3,
        BinaryOp::Less | BinaryOp::LessEqual | BinaryOp::Greater | BinaryOp::GreaterEqual => 4,
        BinaryOp::Add | BinaryOp::Subtract => 5,
        BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => 6,
    }
}

fn literal_template(s: String) -> ExprKind {
    if s.is_empty() {
        ExprKind::Template(Default::default())
    } else {
        ExprKind::Template(smallvec::smallvec![TemplatePart::Literal(s.into())])
    }
}

fn object(node: Node<'_>, src: &str) -> ExprKind {
    let mut items = Vec::new();
    let mut cursor = node.walk();
    for elem in node.named_children(&mut cursor) {
        if elem.kind() != "object_elem" {
            continue;
        }
        let (Some(key), Some(val)) = (
            elem.child_by_field_name("key"),
            elem.child_by_field_name("val"),
        ) else {
            return ExprKind::Invalid;
        };
        // A bare identifier key is its own name, not a reference.
        let bare = key.named_child_count() == 1
            && key
                .named_child(0)
                .is_some_and(|n| n.kind() == "variable_expr");
        let key_expr = if bare {
            Expr {
                span: key.byte_range(),
                kind: literal_template(syntax::text(key, src).to_owned()),
            }
        } else {
            expr(key, src)
        };
        items.push((key_expr, expr(val, src)));
    }
    ExprKind::Object(items)
}

fn function_call(node: Node<'_>, src: &str) -> ExprKind {
    let Some(name) = node.named_child(0).filter(|n| n.kind() == "identifier") else {
        return ExprKind::Invalid;
    };
    let mut args = Vec::new();
    let mut expand_final = false;
    let mut cursor = node.walk();
    if let Some(list) = node
        .named_children(&mut cursor)
        .find(|n| n.kind() == "function_arguments")
    {
        let mut c = list.walk();
        for arg in list.named_children(&mut c) {
            match arg.kind() {
                "expression" => args.push(expr(arg, src)),
                "ellipsis" => expand_final = true,
                _ => {}
            }
        }
    }
    ExprKind::Call(Box::new(crate::hir::Call {
        name: syntax::text(name, src).to_owned().into(),
        args,
        expand_final,
    }))
}

fn for_expr(node: Node<'_>, src: &str) -> ExprKind {
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    let Some(intro) = children.iter().find(|n| n.kind() == "for_intro") else {
        return ExprKind::Invalid;
    };
    let mut c = intro.walk();
    let names: Vec<String> = intro
        .named_children(&mut c)
        .filter(|n| n.kind() == "identifier")
        .map(|n| syntax::text(n, src).to_owned())
        .collect();
    let Some(collection) = intro
        .named_children(&mut intro.walk())
        .find(|n| n.kind() == "expression")
    else {
        return ExprKind::Invalid;
    };
    let (key_var, value_var) = match names.as_slice() {
        [v] => (None, v.clone()),
        [k, v] => (Some(k.clone()), v.clone()),
        _ => return ExprKind::Invalid,
    };
    let body: Vec<Expr> = children
        .iter()
        .filter(|n| n.kind() == "expression")
        .map(|n| expr(*n, src))
        .collect();
    let condition = children
        .iter()
        .find(|n| n.kind() == "for_cond")
        .and_then(|n| {
            n.named_children(&mut n.walk())
                .find(|e| e.kind() == "expression")
        })
        .map(|e| expr(e, src));
    let group = children.iter().any(|n| n.kind() == "ellipsis");
    let is_object = node.kind() == "for_object_expr";
    let (key, value) = match (is_object, body.as_slice()) {
        (false, [value]) => (None, value.clone()),
        (true, [key, value]) => (Some(key.clone()), value.clone()),
        _ => return ExprKind::Invalid,
    };
    ExprKind::For(Box::new(ForExpr {
        key_var: key_var.map(Into::into),
        value_var: value_var.into(),
        collection: expr(collection, src),
        key,
        value,
        group,
        condition,
    }))
}

/// A quoted string's parts. Text of blanks only between two parts (or
/// beside the quotes) has no node of its own: the grammar takes it for the
/// blanks between tokens (`" ${x}"`, `"${x} ${y}"`), and it is read from
/// the gaps between the nodes.
fn quoted_template(node: Node<'_>, src: &str) -> ExprKind {
    let mut parts = crate::hir::TemplateParts::new();
    let mut cursor = node.walk();
    // Where the text read so far ends (after the opening quote).
    let mut at: Option<usize> = None;
    for child in node.named_children(&mut cursor) {
        if let Some(from) = at
            && from < child.start_byte()
        {
            push_literal(&mut parts, src[from..child.start_byte()].to_owned());
        }
        at = Some(child.end_byte());
        match child.kind() {
            "template_literal" => push_literal(&mut parts, unescape(syntax::text(child, src))),
            "template_interpolation" => match interpolation(child, src) {
                Some(e) => parts.push(TemplatePart::Interpolation(Box::new(e))),
                None => return ExprKind::Invalid,
            },
            "template_directive" => parts.push(TemplatePart::Directive),
            "quoted_template_start" | "quoted_template_end" => {}
            _ => return ExprKind::Invalid,
        }
    }
    ExprKind::Template(parts)
}

pub(super) fn push_literal(parts: &mut crate::hir::TemplateParts, s: String) {
    if s.is_empty() {
        return;
    }
    if let Some(TemplatePart::Literal(last)) = parts.last_mut() {
        *last = format!("{last}{s}").into();
    } else {
        parts.push(TemplatePart::Literal(s.into()));
    }
}

fn interpolation(node: Node<'_>, src: &str) -> Option<Expr> {
    let mut cursor = node.walk();
    let inner = node
        .named_children(&mut cursor)
        .find(|n| n.kind() == "expression")?;
    Some(expr(inner, src))
}

/// A heredoc's text is what lies between the line of its opening marker and
/// the line of its closing one (the grammar keeps no nodes for whitespace
/// between template parts); `<<-` removes the indentation common to its
/// non-blank lines.
fn heredoc(node: Node<'_>, src: &str) -> ExprKind {
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    let flush = children
        .iter()
        .find(|n| n.kind() == "heredoc_start")
        .is_some_and(|n| syntax::text(*n, src).contains('-'));
    let markers: Vec<&Node<'_>> = children
        .iter()
        .filter(|n| n.kind() == "heredoc_identifier")
        .collect();
    let [open, close] = markers.as_slice() else {
        return ExprKind::Invalid;
    };
    let Some(newline) = src[open.end_byte()..].find('\n') else {
        return ExprKind::Invalid;
    };
    let start = open.end_byte() + newline + 1;
    let end = src[..close.start_byte()]
        .rfind('\n')
        .map_or(start, |i| i + 1);
    if end < start {
        return ExprKind::Template(Default::default());
    }
    // The pieces between start and end: literal text and template parts.
    let mut pieces: Vec<(Span, Option<TemplatePart>)> = Vec::new();
    let mut at = start;
    for child in &children {
        let r = child.byte_range();
        if r.start < start || r.end > end {
            continue;
        }
        let part = match child.kind() {
            "template_interpolation" => match interpolation(*child, src) {
                Some(e) => TemplatePart::Interpolation(Box::new(e)),
                None => return ExprKind::Invalid,
            },
            "template_directive" => TemplatePart::Directive,
            _ => continue,
        };
        if r.start > at {
            pieces.push((at..r.start, None));
        }
        pieces.push((r.clone(), Some(part)));
        at = r.end;
    }
    if at < end {
        pieces.push((at..end, None));
    }
    ExprKind::Template(heredoc_parts(src, start, pieces, flush))
}

/// The parts of a heredoc whose text starts at `start`, from its `pieces`:
/// literal stretches (`None`) and template parts, in order; `flush`: a
/// `<<-` heredoc, whose common indentation is removed.
pub(super) fn heredoc_parts(
    src: &str,
    start: usize,
    pieces: Vec<(Span, Option<TemplatePart>)>,
    flush: bool,
) -> crate::hir::TemplateParts {
    let end = pieces.last().map_or(start, |(r, _)| r.end);
    let strip = if flush {
        common_indent(src, start, end, &pieces)
    } else {
        0
    };
    let mut parts = crate::hir::TemplateParts::new();
    for (range, part) in pieces {
        match part {
            Some(part) => parts.push(part),
            None => {
                let text = &src[range.clone()];
                let at_line_start = range.start == start || src[..range.start].ends_with('\n');
                let text = if strip > 0 {
                    strip_lines(text, strip, at_line_start)
                } else {
                    text.to_owned()
                };
                push_literal(&mut parts, unescape_template_markers(&text));
            }
        }
    }
    parts
}

/// The text of a heredoc without template parts whose lines run from
/// `start` to `end` of `src` (`flush`: a `<<-` heredoc).
pub(crate) fn heredoc_literal(src: &str, start: usize, end: usize, flush: bool) -> String {
    let text = &src[start..end];
    if !flush {
        return unescape_template_markers(text);
    }
    let strip = common_indent(src, start, end, &[(start..end, None)]);
    unescape_template_markers(&strip_lines(text, strip, true))
}

/// The number of leading blanks common to the heredoc's non-blank lines (a
/// line that starts with an interpolation has none).
fn common_indent(
    src: &str,
    start: usize,
    end: usize,
    pieces: &[(Span, Option<TemplatePart>)],
) -> usize {
    let mut min: Option<usize> = None;
    let mut line_start = start;
    while line_start < end {
        let line_end = src[line_start..end]
            .find('\n')
            .map_or(end, |i| line_start + i);
        let line = &src[line_start..line_end];
        let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
        let starts_in_part = pieces.iter().any(|(r, p)| {
            p.is_some() && r.start <= line_start + blanks && line_start + blanks < r.end
        });
        if !line.trim().is_empty() || starts_in_part {
            let n = if starts_in_part && blanks == 0 {
                0
            } else {
                blanks
            };
            min = Some(min.map_or(n, |m: usize| m.min(n)));
        }
        line_start = line_end + 1;
    }
    min.unwrap_or(0)
}

/// Removes up to `n` leading blanks from every line of `text` (the first
/// only if `first_is_line_start`).
fn strip_lines(text: &str, n: usize, first_is_line_start: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == 0 && !first_is_line_start {
            out.push_str(line);
            continue;
        }
        let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
        out.push_str(&line[blanks.min(n)..]);
    }
    out
}

/// `$${` → `${`, `%%{` → `%{` (the template escapes heredocs have).
fn unescape_template_markers(s: &str) -> String {
    s.replace("$${", "${").replace("%%{", "%{")
}

/// Undoes the escapes of a quoted string: `\n \r \t \" \\ \uNNNN
/// \UNNNNNNNN`, and the template escapes `$${` and `%%{`.
pub(crate) fn unescape(s: &str) -> String {
    if !s.contains('\\') && !s.contains("$${") && !s.contains("%%{") {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => push_code_point(&mut out, &mut chars, 4),
                Some('U') => push_code_point(&mut out, &mut chars, 8),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' | '%' if chars.peek() == Some(&c) => {
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek() == Some(&'{') {
                    chars.next(); // `$${` → `${`
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn push_code_point(
    out: &mut String,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    n: usize,
) {
    let digits: String = chars.clone().take(n).collect();
    match (digits.len() == n)
        .then(|| u32::from_str_radix(&digits, 16).ok())
        .flatten()
        .and_then(char::from_u32)
    {
        Some(c) => {
            for _ in 0..n {
                chars.next();
            }
            out.push(c);
        }
        None => out.push(if n == 4 { 'u' } else { 'U' }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hir::ExprKind as K;

    fn e(text: &str) -> Expr {
        parse_expression(text)
    }

    #[test]
    fn unescapes_like_hcl() {
        assert_eq!(unescape(r"aws_sagemaker\u005fmodel"), "aws_sagemaker_model");
        assert_eq!(unescape(r"a\U0001F4A3b"), "a💣b");
        assert_eq!(unescape(r#"q\"\\n"#), "q\"\\n");
        assert_eq!(unescape("$${x} %%{y} $5 %"), "${x} %{y} $5 %");
    }

    /// The blanks of a quoted string beside an interpolation are text, as
    /// in Terraform: `"model ${var.env}"` is not `"model${var.env}"`.
    #[test]
    fn blanks_beside_an_interpolation_are_text() {
        let literals = |text: &str| -> Vec<String> {
            match e(text).kind {
                K::Template(parts) => parts
                    .iter()
                    .map(|p| match p {
                        TemplatePart::Literal(s) => s.to_string(),
                        _ => "${}".to_owned(),
                    })
                    .collect(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(literals(r#""model ${x}""#), ["model ", "${}"]);
        assert_eq!(literals(r#"" ${x}""#), [" ", "${}"]);
        assert_eq!(literals(r#""${x} ${y}\t""#), ["${}", " ", "${}", "\t"]);
        assert_eq!(literals(r#""${x}  ""#), ["${}", "  "]);
    }

    #[test]
    fn postfix_binds_tighter_than_operators() {
        // `!var.c` is `!(var.c)`, not `(!var).c`.
        match e("!var.c").kind {
            K::Unary(UnaryOp::Not, inner) => assert_eq!(inner.as_var(), Some("c")),
            other => panic!("{other:?}"),
        }
        match e("var.a.b + 1 * f(x)[0]").kind {
            K::Binary(BinaryOp::Add, left, right) => {
                assert!(matches!(left.kind, K::GetAttr(_, ref b) if b == "b"));
                match right.kind {
                    K::Binary(BinaryOp::Multiply, _, r) => {
                        assert!(matches!(r.kind, K::Index(..)), "{r:?}")
                    }
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }

    /// tree-sitter-hcl closes `a && b` before `.c`; the lowering groups
    /// what follows as Terraform does.
    #[test]
    fn operators_after_an_attribute_access_group_by_precedence() {
        let shape = |text: &str| strip(e(text));
        assert_eq!(shape("true && var.x * 2"), shape("true && (var.x * 2)"));
        assert_eq!(shape("a + b * c.d * e"), shape("a + ((b * c.d) * e)"));
        assert_eq!(shape("a * b + c.d * e"), shape("(a * b) + (c.d * e)"));
        assert_eq!(shape("a - b.c - d"), shape("(a - b.c) - d"));
        // Parentheses stay.
        assert!(matches!(
            e("(a && b).c * d").kind,
            K::Binary(BinaryOp::Multiply, ..)
        ));
    }

    /// `a ? b : c ? d : e` is `a ? b : (c ? d : e)`, as in Terraform.
    #[test]
    fn conditionals_group_to_the_right() {
        let shape = |text: &str| strip(e(text));
        assert_eq!(shape("a ? b : c ? d : e"), shape("a ? b : (c ? d : e)"));
        assert_eq!(
            shape("a ? b : c ? d : e ? f : g"),
            shape("a ? b : (c ? d : (e ? f : g))")
        );
        assert_eq!(shape("a ? b ? c : d : e"), shape("a ? (b ? c : d) : e"));
        // Parentheses stay.
        match e("(a ? b : c) ? d : e").kind {
            K::Conditional(c, ..) => assert!(matches!(c.kind, K::Parens(_))),
            other => panic!("{other:?}"),
        }
        // Spans: the whole, and the regrouped rest.
        let x = e("a ? b : c ? d : e");
        assert_eq!(x.span, 0..17);
        match x.kind {
            K::Conditional(_, _, rest) => assert_eq!(rest.span, 8..17),
            other => panic!("{other:?}"),
        }
    }

    /// An expression without spans or parentheses, to compare groupings.
    fn strip(e: Expr) -> String {
        fn go(e: &Expr) -> String {
            match &e.kind {
                K::Binary(op, l, r) => format!("({} {op:?} {})", go(l), go(r)),
                K::Parens(inner) => go(inner),
                K::GetAttr(base, name) => format!("{}.{name}", go(base)),
                K::Variable(v) => v.to_string(),
                K::Unary(op, inner) => format!("{op:?}{}", go(inner)),
                K::Conditional(c, y, n) => format!("({} ? {} : {})", go(c), go(y), go(n)),
                other => format!("{other:?}"),
            }
        }
        go(&e)
    }

    #[test]
    fn spans_are_relative_to_the_text() {
        let x = e("[var.a]");
        assert_eq!(x.span, 0..7);
        match x.kind {
            K::Tuple(items) => assert_eq!(items[0].span, 1..6),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn heredocs_keep_their_text_and_strip_indentation() {
        let src = "a = <<-EOT\n    x ${y}\n      z\n    EOT\nb = <<EOT\nEOT\n";
        let tree = syntax::parse(src, None);
        let attrs = tfvars(src, &tree);
        match &attrs[0].value.as_ref().unwrap().kind {
            K::Template(parts) => {
                assert_eq!(parts[0], TemplatePart::Literal("x ".into()));
                assert!(matches!(parts[1], TemplatePart::Interpolation(_)));
                assert_eq!(parts[2], TemplatePart::Literal("\n  z\n".into()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            attrs[1].value.as_ref().unwrap().kind,
            K::Template(Default::default())
        );
    }

    #[test]
    fn broken_expressions_are_invalid() {
        assert_eq!(e("[1,").kind, K::Invalid);
    }
}
