//! Well-formed HCL read straight into [`crate::hir`], without a syntax tree.
//!
//! Opening a document was mostly tree-sitter's work: `perf` of 20 opens of
//! a 1 MB module put its parse, the freeing of its trees and the walks over
//! them at about two thirds of the server's CPU. Most of a configuration is
//! plain blocks, attributes, references, calls, strings and collections,
//! which this reads in one pass over the bytes.
//!
//! It reads only what it is sure tree-sitter-hcl and [`super::hcl`] would
//! read the same way: the same blocks, attributes, expressions, spans and
//! suppression comments (`tests/direct_props.rs` holds it to that, on
//! generated texts and on every `.tf` file of the repository). Anything else
//! it refuses rather than guess: a syntax error, a template directive or
//! strip marker, `1e3` (which tree-sitter-hcl does not read), a comment inside
//! an expression on a block's header line, two items on one line, a newline
//! where Terraform ends an expression and tree-sitter would go on, a name
//! that is not ASCII, a literal long enough to be masked. The caller then
//! parses the rest with tree-sitter, from the item it refused.

use std::ops::Range;

use thin_vec::ThinVec;

use crate::hir::{
    Attribute, BinaryOp, Block, Body, Call, Expr, ExprKind, ForExpr, Label, Name, Span, Step,
    TemplatePart, TemplateParts, UnaryOp,
};

/// One top-level item read.
#[derive(Debug)]
pub(crate) enum Item {
    Comment(Range<usize>),
    /// A top-level attribute (of a tfvars file; Terraform rejects one in
    /// a configuration file).
    Attribute(Attribute),
    /// A block, with the comments that may suppress its findings.
    Block(Block),
}

/// How deep brackets and blocks may nest in what is read (deeper is left to
/// tree-sitter, and to the masking of [`crate::syntax::mask_deep`]).
const MAX_DEPTH: usize = 64;

/// Reads the top-level items of `src[range]` (a stretch that starts where
/// an item may start) in order, handing each to `take`, and returns where
/// it stopped: `range.end` when it read all of it, else the end of the last
/// block or attribute it handed over (the comments after that one are not
/// handed over: a refused block's suppression comment must be read with
/// it). A block `refuse` turns down is not read either.
pub(crate) fn read(
    src: &str,
    range: Range<usize>,
    refuse: impl Fn(&Block) -> bool,
    mut take: impl FnMut(Item),
) -> usize {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        i: range.start,
        end: range.end.min(src.len()),
        depth: 0,
    };
    let mut pending: Vec<Range<usize>> = Vec::new();
    let mut stop = range.start;
    loop {
        p.skip_blank();
        if p.i >= p.end {
            for c in pending.drain(..) {
                take(Item::Comment(c));
            }
            return p.end;
        }
        if let Some(comment) = p.comment() {
            match comment {
                Some(c) => pending.push(c),
                None => return stop,
            }
            continue;
        }
        let Some(item) = p.top_item(&pending) else {
            return stop;
        };
        if let Item::Block(block) = &item
            && refuse(block)
        {
            return stop;
        }
        for c in pending.drain(..) {
            take(Item::Comment(c));
        }
        take(item);
        stop = p.i;
    }
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    i: usize,
    /// Nothing at or past it is read (a `0` stands for it).
    end: usize,
    depth: usize,
}

/// The comment candidates of a top-level block being read, and the end of
/// its header line.
struct Header {
    line_end: usize,
    comments: ThinVec<(Span, Name)>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl<'s> Parser<'s> {
    fn at(&self, k: usize) -> u8 {
        let j = self.i + k;
        if j < self.end { self.b[j] } else { 0 }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn text(&self, r: &Range<usize>) -> &'s str {
        &self.src[r.clone()]
    }

    /// Spaces and tabs.
    fn skip_inline(&mut self) {
        while matches!(self.at(0), b' ' | b'\t') {
            self.i += 1;
        }
    }

    /// Is a newline next (`\n`, or `\r\n`)?
    fn at_newline(&self) -> bool {
        self.at(0) == b'\n' || (self.at(0) == b'\r' && self.at(1) == b'\n')
    }

    /// Blanks and newlines.
    fn skip_blank(&mut self) {
        loop {
            match self.at(0) {
                b' ' | b'\t' | b'\n' => self.i += 1,
                b'\r' if self.at(1) == b'\n' => self.i += 2,
                _ => return,
            }
        }
    }

    /// Blanks, newlines and comments (inside brackets, where a newline ends
    /// nothing). `None`: a comment left open.
    fn skip_all(&mut self) -> Option<()> {
        loop {
            self.skip_blank();
            match self.comment() {
                None => return Some(()),
                Some(Some(_)) => {}
                Some(None) => return None,
            }
        }
    }

    /// The comment that starts here: `None` if none does, `Some(None)` if
    /// one is left open.
    fn comment(&mut self) -> Option<Option<Range<usize>>> {
        let start = self.i;
        match (self.at(0), self.at(1)) {
            (b'#', _) | (b'/', b'/') => {
                while self.i < self.end && self.b[self.i] != b'\n' {
                    self.i += 1;
                }
                // (A `\r` before the newline is in it, as in tree-sitter's.)
                Some(Some(start..self.i))
            }
            (b'/', b'*') => match self.src[start + 2..self.end].find("*/") {
                Some(k) => {
                    self.i = start + 2 + k + 2;
                    Some(Some(start..self.i))
                }
                None => Some(None),
            },
            _ => None,
        }
    }

    fn ident(&mut self) -> Option<Range<usize>> {
        let start = self.i;
        if !is_ident_start(self.at(0)) {
            return None;
        }
        while is_ident_char(self.at(0)) {
            self.i += 1;
        }
        // A name that goes on in non-ASCII letters is not read here.
        (self.at(0) < 0x80).then_some(start..self.i)
    }

    /// After a value that a newline ended: does what comes next (past
    /// blanks, newlines and comments) start something new, or could
    /// tree-sitter, which reads newlines as blanks, take it as more of the
    /// value (`a = b` then `+ c` on the next line)?
    fn value_ended(&self) -> bool {
        let mut p = Parser { depth: 0, ..*self };
        if p.skip_all().is_none() {
            return false;
        }
        is_ident_start(p.at(0)) || matches!(p.at(0), b'}' | b'"' | 0)
    }

    /// After an item of a body: the rest of its line. `header`: the
    /// comment candidates of the top-level block being read. `None` when
    /// something else follows on the line.
    fn item_end(&mut self, header: &mut Option<&mut Header>) -> Option<()> {
        self.skip_inline();
        if self.at_newline() || self.at(0) == b'}' || self.i >= self.end {
            return Some(());
        }
        let c = self.comment()??;
        if let Some(h) = header
            && c.start < h.line_end
        {
            h.comments.push((c.clone(), self.text(&c).into()));
        }
        self.skip_inline();
        (self.at_newline() || self.i >= self.end).then_some(())
    }

    /// A top-level block or attribute; `pending`: the comments since the
    /// last item.
    fn top_item(&mut self, pending: &[Range<usize>]) -> Option<Item> {
        let start = self.i;
        let name = self.ident()?;
        self.skip_inline();
        if self.at(0) == b'=' {
            let attribute = self.attribute(name, None)?;
            self.skip_inline();
            // A comment after it is left to tree-sitter to place.
            return ((self.at_newline() || self.i >= self.end) && self.value_ended())
                .then_some(Item::Attribute(attribute));
        }
        let line_end = self.src[start..self.end]
            .find('\n')
            .map_or(self.end, |k| start + k);
        let mut header = Header {
            line_end,
            comments: ThinVec::new(),
        };
        if let Some(c) = comment_above(self.src, start, pending) {
            header.comments.push((c.clone(), self.text(&c).into()));
        }
        let mut block = self.block(name, Some(&mut header))?;
        // The rest of the line is a comment (a top-level one) or nothing.
        self.skip_inline();
        if !(self.at_newline() || self.i >= self.end || matches!(self.at(0), b'#' | b'/')) {
            return None;
        }
        header.comments.sort_by_key(|(r, _)| r.start);
        block.comments = header.comments;
        Some(Item::Block(block))
    }

    /// A block, from after its type (`kind`) to its closing brace.
    fn block(&mut self, kind: Range<usize>, mut header: Option<&mut Header>) -> Option<Block> {
        self.enter()?;
        let mut labels = Vec::new();
        loop {
            self.skip_inline();
            match self.at(0) {
                b'{' => break,
                b'"' => {
                    let start = self.i;
                    let raw = self.plain_string()?;
                    labels.push(Label {
                        value: super::hcl::unescape(raw).into(),
                        span: start..self.i,
                    });
                }
                b'/' if self.at(1) == b'*' => {
                    let c = self.comment()??;
                    let h = header.as_deref_mut()?;
                    if self.text(&c).contains('\n') {
                        return None;
                    }
                    h.comments.push((c.clone(), self.text(&c).into()));
                }
                b if is_ident_start(b) => {
                    let l = self.ident()?;
                    labels.push(Label {
                        value: self.text(&l).into(),
                        span: l,
                    });
                }
                _ => return None,
            }
        }
        // Its node keeps three labels: more are Terraform's to reject.
        if labels.len() > 3 {
            return None;
        }
        let open = self.i;
        self.i += 1;
        let body = self.body(&mut header)?;
        let close = self.i;
        self.i += 1;
        self.leave();
        Some(Block {
            kind: self.text(&kind).into(),
            kind_span: kind.clone(),
            labels,
            body,
            span: kind.start..self.i,
            closed: true,
            clean: true,
            braces: Some((open + 1, close)),
            json: false,
            comments: ThinVec::new(),
        })
    }

    /// The items of a body, up to (not past) its `}`.
    fn body(&mut self, header: &mut Option<&mut Header>) -> Option<Body> {
        let mut body = Body::default();
        loop {
            self.skip_blank();
            if let Some(c) = self.comment() {
                let c = c?;
                if let Some(h) = header.as_deref_mut()
                    && c.start < h.line_end
                {
                    h.comments.push((c.clone(), self.text(&c).into()));
                }
                continue;
            }
            match self.at(0) {
                b'}' => return Some(body),
                b if is_ident_start(b) => {}
                _ => return None,
            }
            let name = self.ident()?;
            self.skip_inline();
            if self.at(0) == b'=' {
                let attribute = self.attribute(name, header.as_ref().map(|h| h.line_end))?;
                self.item_end(header)?;
                if !self.value_ended() {
                    return None;
                }
                body.attributes.push(attribute);
            } else {
                let block = self.block(name, None)?;
                body.blocks.push(block);
                self.item_end(header)?;
            }
        }
    }

    /// `name = value`, from the `=`. `header_end`: the end of the header
    /// line of the top-level block it is in, where a comment in the value
    /// is refused (where tree-sitter puts it is not this reader's to say).
    fn attribute(&mut self, name: Range<usize>, header_end: Option<usize>) -> Option<Attribute> {
        if matches!(self.at(1), b'=' | b'>') {
            return None;
        }
        self.i += 1;
        self.operand_space(false)?;
        if let Some(end) = header_end
            && self.i < end
        {
            let line = &self.src[self.i..end];
            if line.contains('#') || line.contains("//") || line.contains("/*") {
                return None;
            }
        }
        let value = self.expr(false)?;
        Some(Attribute {
            name: self.text(&name).into(),
            name_span: name.clone(),
            span: name.start..value.span.end,
            value: Some(value),
        })
    }

    /// A quoted string without template sequences (a label): its raw
    /// contents, with the position after its closing quote.
    fn plain_string(&mut self) -> Option<&'s str> {
        let start = self.i + 1;
        let (end, has_template) = self.scan_quoted()?;
        if has_template {
            return None;
        }
        Some(&self.src[start..end])
    }

    /// Skips a quoted string from its opening quote, checking its escapes;
    /// the end of its contents and whether it holds a `${`.
    fn scan_quoted(&mut self) -> Option<(usize, bool)> {
        self.i += 1;
        let mut template = false;
        loop {
            match self.at(0) {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    return Some((end, template));
                }
                0 | b'\n' | b'\r' => return None,
                b'\\' => self.escape()?,
                b'$' | b'%' if self.at(1) == b'{' => {
                    template = true;
                    self.i += 2;
                }
                b'$' | b'%' if self.at(1) == self.at(0) => return None,
                _ => self.i += 1,
            }
        }
    }

    /// Steps over an escape sequence of a quoted string, one HCL knows.
    fn escape(&mut self) -> Option<()> {
        let n = match self.at(1) {
            b'n' | b'r' | b't' | b'"' | b'\\' => 0,
            b'u' => 4,
            b'U' => 8,
            _ => return None,
        };
        let digits = self.src.get(self.i + 2..self.i + 2 + n)?;
        if self.i + 2 + n > self.end
            || !digits.bytes().all(|b| b.is_ascii_hexdigit())
            || (n > 0
                && u32::from_str_radix(digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .is_none())
        {
            return None;
        }
        self.i += 2 + n;
        Some(())
    }

    /// Before an operand: blanks (and, inside brackets, newlines and
    /// comments). `None` where a newline would end the expression.
    fn operand_space(&mut self, nl: bool) -> Option<()> {
        if nl {
            return self.skip_all();
        }
        self.skip_inline();
        (!(self.at_newline()
            || matches!(self.at(0), b'#' | 0)
            || self.at(0) == b'/' && matches!(self.at(1), b'/' | b'*')))
        .then_some(())
    }

    /// What may follow an expression before an operator: `Some(i)` where
    /// the operator would start, `None` when the expression ends here (the
    /// position is not moved). Inside brackets (`nl`) newlines and comments
    /// may come first; outside, an operator after a newline is refused by
    /// the caller of the item (it cannot start one).
    fn peek_after(&mut self, nl: bool) -> Option<usize> {
        let save = self.i;
        if nl {
            self.skip_all()?;
        } else {
            self.skip_inline();
        }
        let at = self.i;
        self.i = save;
        Some(at)
    }

    fn expr(&mut self, nl: bool) -> Option<Expr> {
        self.enter()?;
        let cond = self.binary(nl)?;
        let at = self.peek_after(nl)?;
        if self.b.get(at) != Some(&b'?') || at >= self.end {
            self.leave();
            return Some(cond);
        }
        self.i = at + 1;
        self.operand_space(nl)?;
        let yes = self.expr(nl)?;
        self.i = self.peek_after(nl)?;
        if self.at(0) != b':' {
            return None;
        }
        self.i += 1;
        self.operand_space(nl)?;
        // To the right, as Terraform (and the lowering) group it.
        let no = self.expr(nl)?;
        self.leave();
        Some(Expr {
            span: cond.span.start..no.span.end,
            kind: ExprKind::Conditional(Box::new(cond), Box::new(yes), Box::new(no)),
        })
    }

    /// The binary operator at `at`, and its length.
    fn binary_op(&self, at: usize) -> Option<(BinaryOp, usize)> {
        let b = |k: usize| if at + k < self.end { self.b[at + k] } else { 0 };
        Some(match (b(0), b(1)) {
            (b'|', b'|') => (BinaryOp::Or, 2),
            (b'&', b'&') => (BinaryOp::And, 2),
            (b'=', b'=') => (BinaryOp::Equal, 2),
            (b'!', b'=') => (BinaryOp::NotEqual, 2),
            (b'<', b'=') => (BinaryOp::LessEqual, 2),
            (b'>', b'=') => (BinaryOp::GreaterEqual, 2),
            (b'<', b'<') => return None,
            (b'<', _) => (BinaryOp::Less, 1),
            (b'>', _) => (BinaryOp::Greater, 1),
            (b'+', _) => (BinaryOp::Add, 1),
            (b'-', _) => (BinaryOp::Subtract, 1),
            (b'*', _) => (BinaryOp::Multiply, 1),
            (b'/', b'/' | b'*') => return None,
            (b'/', _) => (BinaryOp::Divide, 1),
            (b'%', b'{') => return None,
            (b'%', _) => (BinaryOp::Modulo, 1),
            _ => return None,
        })
    }

    /// A chain of operands and binary operators, grouped by precedence
    /// (left to right within one), as Terraform and [`super::hcl`] group it.
    fn binary(&mut self, nl: bool) -> Option<Expr> {
        let mut operands = vec![self.unary(nl)?];
        let mut ops: Vec<(BinaryOp, u8)> = Vec::new();
        loop {
            let at = self.peek_after(nl)?;
            let Some((op, len)) = self.binary_op(at) else {
                break;
            };
            if ops.len() >= MAX_DEPTH {
                return None;
            }
            self.i = at + len;
            self.operand_space(nl)?;
            ops.push((op, super::hcl::precedence(op)));
            operands.push(self.unary(nl)?);
        }
        // Precedence climbing over the chain: an operator waits while the
        // next binds tighter.
        let mut operands = operands.into_iter();
        let mut out: Vec<Expr> = operands.next().into_iter().collect();
        let mut waiting: Vec<(BinaryOp, u8)> = Vec::new();
        let reduce = |out: &mut Vec<Expr>, op: BinaryOp| {
            let right = out.pop()?;
            let left = out.pop()?;
            out.push(Expr {
                span: left.span.start..right.span.end,
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
            });
            Some(())
        };
        for ((op, prec), operand) in ops.into_iter().zip(operands) {
            while let Some(&(top, top_prec)) = waiting.last()
                && top_prec >= prec
            {
                waiting.pop();
                reduce(&mut out, top)?;
            }
            waiting.push((op, prec));
            out.push(operand);
        }
        while let Some((op, _)) = waiting.pop() {
            reduce(&mut out, op)?;
        }
        out.pop()
    }

    fn unary(&mut self, nl: bool) -> Option<Expr> {
        let op = match self.at(0) {
            b'-' => UnaryOp::Negate,
            b'!' if self.at(1) != b'=' => UnaryOp::Not,
            _ => return self.postfix(),
        };
        let start = self.i;
        self.i += 1;
        self.operand_space(nl)?;
        self.enter()?;
        let operand = self.unary(nl)?;
        self.leave();
        Some(Expr {
            span: start..operand.span.end,
            kind: ExprKind::Unary(op, Box::new(operand)),
        })
    }

    /// A primary with its attribute accesses, indexes and splats (written
    /// right after it).
    fn postfix(&mut self) -> Option<Expr> {
        let mut e = self.primary()?;
        loop {
            let start = e.span.start;
            match (self.at(0), self.at(1)) {
                (b'.', b'*') => {
                    self.i += 2;
                    let mut steps = Vec::new();
                    while self.at(0) == b'.' && is_ident_start(self.at(1)) {
                        self.i += 1;
                        let name = self.ident()?;
                        steps.push(Step::Attr(self.text(&name).into()));
                    }
                    if matches!(self.at(0), b'[' | b'.') {
                        return None;
                    }
                    e = Expr {
                        span: start..self.i,
                        kind: ExprKind::Splat(Box::new(e), steps),
                    };
                }
                (b'.', b) if is_ident_start(b) => {
                    self.i += 1;
                    let name = self.ident()?;
                    e = Expr {
                        span: start..self.i,
                        kind: ExprKind::GetAttr(Box::new(e), self.text(&name).into()),
                    };
                }
                (b'.', b) if b.is_ascii_digit() => {
                    let index = self.legacy_index()?;
                    e = Expr {
                        span: start..self.i,
                        kind: ExprKind::Index(Box::new(e), Box::new(index)),
                    };
                }
                (b'[', _) if self.full_splat_ahead() => {
                    self.i += 3;
                    let mut steps = Vec::new();
                    loop {
                        match (self.at(0), self.at(1)) {
                            (b'.', b) if is_ident_start(b) => {
                                self.i += 1;
                                let name = self.ident()?;
                                steps.push(Step::Attr(self.text(&name).into()));
                            }
                            (b'.', b) if b.is_ascii_digit() => {
                                steps.push(Step::Index(self.legacy_index()?))
                            }
                            (b'[', _) if !self.full_splat_ahead() => {
                                steps.push(Step::Index(self.index()?))
                            }
                            (b'.' | b'[', _) => return None,
                            _ => break,
                        }
                    }
                    e = Expr {
                        span: start..self.i,
                        kind: ExprKind::Splat(Box::new(e), steps),
                    };
                }
                (b'[', _) => {
                    let index = self.index()?;
                    e = Expr {
                        span: start..self.i,
                        kind: ExprKind::Index(Box::new(e), Box::new(index)),
                    };
                }
                // `xs...`: an expansion, after the expression.
                (b'.', b'.') => return Some(e),
                (b'.', _) => return None,
                _ => return Some(e),
            }
        }
    }

    fn full_splat_ahead(&self) -> bool {
        self.at(0) == b'[' && self.at(1) == b'*' && self.at(2) == b']'
    }

    /// `[expr]`, from its `[`.
    fn index(&mut self) -> Option<Expr> {
        self.i += 1;
        self.skip_all()?;
        let index = self.expr(true)?;
        self.skip_all()?;
        if self.at(0) != b']' {
            return None;
        }
        self.i += 1;
        Some(index)
    }

    /// `.0`: the number, spanning the dot too (as its node does).
    fn legacy_index(&mut self) -> Option<Expr> {
        let start = self.i;
        self.i += 1;
        while self.at(0).is_ascii_digit() {
            self.i += 1;
        }
        if is_ident_char(self.at(0)) || self.at(0) >= 0x80 {
            return None;
        }
        let n: f64 = self.src[start + 1..self.i].parse().ok()?;
        Some(Expr {
            span: start..self.i,
            kind: ExprKind::Number(n),
        })
    }

    fn primary(&mut self) -> Option<Expr> {
        let start = self.i;
        let kind = match self.at(0) {
            b'0'..=b'9' => return self.number(),
            b'"' => return self.quoted(),
            b'<' if self.at(1) == b'<' => return self.heredoc(),
            open @ (b'[' | b'{') => {
                self.enter()?;
                self.i += 1;
                self.skip_all()?;
                let kind = match (self.keyword_ahead("for"), open) {
                    (true, b'[') => self.for_expr(b']')?,
                    (true, _) => self.for_expr(b'}')?,
                    (false, b'[') => self.tuple()?,
                    (false, _) => self.object()?,
                };
                self.leave();
                kind
            }
            b'(' => {
                self.enter()?;
                self.i += 1;
                self.skip_all()?;
                let inner = self.expr(true)?;
                self.skip_all()?;
                if self.at(0) != b')' {
                    return None;
                }
                self.i += 1;
                self.leave();
                ExprKind::Parens(Box::new(inner))
            }
            b if is_ident_start(b) => {
                let name = self.ident()?;
                match self.text(&name) {
                    "true" | "false" | "null" if self.at(0) == b'(' => return None,
                    "true" => ExprKind::Bool(true),
                    "false" => ExprKind::Bool(false),
                    "null" => ExprKind::Null,
                    "for" | "in" | "if" => return None,
                    text if self.at(0) == b'(' => self.call(text)?,
                    _ if self.at(0) == b':' && self.at(1) == b':' => return None,
                    text => ExprKind::Variable(text.into()),
                }
            }
            _ => return None,
        };
        Some(Expr {
            span: start..self.i,
            kind,
        })
    }

    /// Is the keyword `word` next, as a word of its own?
    fn keyword_ahead(&self, word: &str) -> bool {
        let w = word.as_bytes();
        (0..w.len()).all(|k| self.at(k) == w[k])
            && !is_ident_char(self.at(w.len()))
            && self.at(w.len()) < 0x80
    }

    fn number(&mut self) -> Option<Expr> {
        let start = self.i;
        while self.at(0).is_ascii_digit() {
            self.i += 1;
        }
        let fraction = self.at(0) == b'.' && self.at(1).is_ascii_digit();
        if fraction {
            self.i += 1;
            while self.at(0).is_ascii_digit() {
                self.i += 1;
            }
        }
        // tree-sitter-hcl reads an exponent only after a fraction (`1.5e3`,
        // not `1e3`).
        if matches!(self.at(0), b'e' | b'E') && fraction {
            self.i += 1;
            if matches!(self.at(0), b'+' | b'-') {
                self.i += 1;
            }
            if !self.at(0).is_ascii_digit() {
                return None;
            }
            while self.at(0).is_ascii_digit() {
                self.i += 1;
            }
        }
        if is_ident_char(self.at(0)) || matches!(self.at(0), b'.' | b'[') || self.at(0) >= 0x80 {
            return None;
        }
        let n: f64 = self.src[start..self.i].parse().ok()?;
        Some(Expr {
            span: start..self.i,
            kind: ExprKind::Number(n),
        })
    }

    /// `[a, b]`, after `[` and blanks.
    fn tuple(&mut self) -> Option<ExprKind> {
        let mut items = Vec::new();
        loop {
            if self.at(0) == b']' {
                self.i += 1;
                return Some(ExprKind::Tuple(items));
            }
            items.push(self.expr(true)?);
            self.skip_all()?;
            match self.at(0) {
                b',' => {
                    self.i += 1;
                    self.skip_all()?;
                }
                b']' => {}
                _ => return None,
            }
        }
    }

    /// `{ key = value }`, after `{` and blanks. Keys are names or quoted
    /// strings; elements end at a comma or a newline.
    fn object(&mut self) -> Option<ExprKind> {
        let mut items = Vec::new();
        loop {
            if self.at(0) == b'}' {
                self.i += 1;
                return Some(ExprKind::Object(items));
            }
            let key = match self.at(0) {
                b'"' => self.quoted()?,
                b if is_ident_start(b) => {
                    let name = self.ident()?;
                    let text = self.text(&name);
                    if matches!(text, "true" | "false" | "null" | "for" | "in" | "if") {
                        return None;
                    }
                    Expr {
                        span: name,
                        kind: ExprKind::Template(smallvec::smallvec![TemplatePart::Literal(
                            text.into()
                        )]),
                    }
                }
                _ => return None,
            };
            self.skip_inline();
            match (self.at(0), self.at(1)) {
                (b'=', b'=' | b'>') => return None,
                (b'=' | b':', _) => self.i += 1,
                _ => return None,
            }
            self.operand_space(false)?;
            let value = self.expr(false)?;
            items.push((key, value));
            self.skip_inline();
            let comma = self.at(0) == b',';
            if comma {
                self.i += 1;
                self.skip_inline();
            }
            if !(comma
                || self.at(0) == b'}'
                || (self.at_newline() || self.comment_ahead()) && self.value_ended())
            {
                return None;
            }
            self.skip_all()?;
        }
    }

    fn comment_ahead(&self) -> bool {
        self.at(0) == b'#' || (self.at(0) == b'/' && matches!(self.at(1), b'/' | b'*'))
    }

    /// `name(args)`, from `(`.
    fn call(&mut self, name: &str) -> Option<ExprKind> {
        self.enter()?;
        self.i += 1;
        self.skip_all()?;
        let mut args = Vec::new();
        let mut expand_final = false;
        while self.at(0) != b')' {
            args.push(self.expr(true)?);
            self.skip_all()?;
            if self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.' {
                self.i += 3;
                expand_final = true;
                self.skip_all()?;
                if self.at(0) != b')' {
                    return None;
                }
                break;
            }
            match self.at(0) {
                b',' => {
                    self.i += 1;
                    self.skip_all()?;
                }
                b')' => {}
                _ => return None,
            }
        }
        self.i += 1;
        self.leave();
        Some(ExprKind::Call(Box::new(Call {
            name: name.into(),
            args,
            expand_final,
        })))
    }

    /// `[for …]` or `{for …}`, from `for`.
    fn for_expr(&mut self, close: u8) -> Option<ExprKind> {
        self.i += 3;
        self.skip_all()?;
        let first = self.ident()?;
        self.skip_all()?;
        let (key_var, value_var) = if self.at(0) == b',' {
            self.i += 1;
            self.skip_all()?;
            let second = self.ident()?;
            self.skip_all()?;
            (Some(first), second)
        } else {
            (None, first)
        };
        for name in key_var.iter().chain([&value_var]) {
            if matches!(
                self.text(name),
                "for" | "in" | "if" | "true" | "false" | "null"
            ) {
                return None;
            }
        }
        if !self.keyword_ahead("in") {
            return None;
        }
        self.i += 2;
        self.skip_all()?;
        let collection = self.expr(true)?;
        if matches!(collection.kind, ExprKind::Conditional(..)) {
            return None;
        }
        self.skip_all()?;
        if self.at(0) != b':' {
            return None;
        }
        self.i += 1;
        self.skip_all()?;
        let first = self.expr(true)?;
        self.skip_all()?;
        let (key, value) = if close == b'}' {
            if !(self.at(0) == b'=' && self.at(1) == b'>') {
                return None;
            }
            self.i += 2;
            self.skip_all()?;
            let value = self.expr(true)?;
            self.skip_all()?;
            (Some(first), value)
        } else {
            (None, first)
        };
        let group = self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.';
        if group {
            if close != b'}' {
                return None;
            }
            self.i += 3;
            self.skip_all()?;
        }
        let condition = if self.keyword_ahead("if") {
            self.i += 2;
            self.skip_all()?;
            let c = self.expr(true)?;
            self.skip_all()?;
            Some(c)
        } else {
            None
        };
        if self.at(0) != close {
            return None;
        }
        self.i += 1;
        Some(ExprKind::For(Box::new(ForExpr {
            key_var: key_var.map(|r| self.text(&r).into()),
            value_var: self.text(&value_var).into(),
            collection,
            key,
            value,
            group,
            condition,
        })))
    }

    /// A quoted template, from its `"`: literal text and interpolations.
    fn quoted(&mut self) -> Option<Expr> {
        let start = self.i;
        self.i += 1;
        let mut parts = TemplateParts::new();
        let mut literal = self.i;
        loop {
            match self.at(0) {
                b'"' => break,
                0 | b'\n' | b'\r' => return None,
                b'\\' => self.escape()?,
                b'$' | b'%' if self.at(1) == self.at(0) => {
                    // `$${` and `%%{` are escapes; a third `$` or `%` is
                    // left to tree-sitter.
                    if self.at(2) != b'{' || self.i > literal && self.b[self.i - 1] == self.at(0) {
                        return None;
                    }
                    self.i += 3;
                }
                b'%' if self.at(1) == b'{' => return None,
                b'$' if self.at(1) == b'{' => {
                    if self.i > literal && self.b[self.i - 1] == b'$' {
                        return None;
                    }
                    super::hcl::push_literal(
                        &mut parts,
                        super::hcl::unescape(&self.src[literal..self.i]),
                    );
                    parts.push(TemplatePart::Interpolation(Box::new(self.interpolation()?)));
                    literal = self.i;
                }
                _ => self.i += 1,
            }
        }
        super::hcl::push_literal(&mut parts, super::hcl::unescape(&self.src[literal..self.i]));
        self.i += 1;
        if self.i - start >= super::MASK_MIN {
            return None;
        }
        Some(Expr {
            span: start..self.i,
            kind: ExprKind::Template(parts),
        })
    }

    /// `${ expr }`, from `$`.
    fn interpolation(&mut self) -> Option<Expr> {
        self.enter()?;
        self.i += 2;
        if self.at(0) == b'~' {
            return None;
        }
        self.skip_all()?;
        let e = self.expr(true)?;
        self.skip_all()?;
        if self.at(0) != b'}' {
            return None;
        }
        self.i += 1;
        self.leave();
        Some(e)
    }

    /// `<<EOF` … `EOF` (or `<<-`), from `<<`.
    fn heredoc(&mut self) -> Option<Expr> {
        let start = self.i;
        self.i += 2;
        let flush = self.at(0) == b'-';
        if flush {
            self.i += 1;
        }
        let id = self.ident()?;
        let id = self.text(&id);
        if self.at(0) != b'\n' {
            return None;
        }
        let text_start = self.i + 1;
        let mut line = text_start;
        let mut pieces: Vec<(Span, Option<TemplatePart>)> = Vec::new();
        let mut literal = text_start;
        loop {
            let line_end = self.src[line..self.end].find('\n').map(|k| line + k)?;
            let text = &self.src[line..line_end];
            if text.contains('\r') {
                return None;
            }
            let marker = text.trim_start_matches([' ', '\t']);
            if marker == id {
                if literal < line {
                    pieces.push((literal..line, None));
                }
                self.i = line_end;
                break;
            }
            if marker.starts_with(id)
                && !marker[id.len()..]
                    .starts_with(|c: char| is_ident_char(c as u8) || !c.is_ascii())
            {
                // The marker and then something else: tree-sitter's to read.
                return None;
            }
            // Template sequences on this line.
            self.i = line;
            while self.i < line_end {
                match (self.at(0), self.at(1)) {
                    (b'$' | b'%', b) if b == self.at(0) => {
                        if self.at(2) != b'{' {
                            return None;
                        }
                        self.i += 3;
                    }
                    (b'%', b'{') => return None,
                    (b'$', b'{') => {
                        let at = self.i;
                        let e = self.interpolation()?;
                        if self.i > line_end {
                            return None;
                        }
                        if literal < at {
                            pieces.push((literal..at, None));
                        }
                        pieces.push((at..self.i, Some(TemplatePart::Interpolation(Box::new(e)))));
                        literal = self.i;
                    }
                    _ => self.i += 1,
                }
            }
            line = line_end + 1;
        }
        if self.i - start >= super::MASK_MIN {
            return None;
        }
        Some(Expr {
            span: start..self.i,
            kind: ExprKind::Template(super::hcl::heredoc_parts(
                self.src, text_start, pieces, flush,
            )),
        })
    }
}

/// The comment among `pending` that ends the line above the one holding
/// `start`, as [`crate::suppress::comment_above`] finds it in a tree.
fn comment_above(src: &str, start: usize, pending: &[Range<usize>]) -> Option<Range<usize>> {
    let (line_start, last) = crate::suppress::line_above(src, start)?;
    let comment = pending.iter().find(|c| c.start < last && last <= c.end)?;
    crate::suppress::above_by(src, comment.start, line_start).then(|| comment.clone())
}

/// An item as the tests compare it.
#[derive(Debug, PartialEq)]
enum Seen {
    Comment(Range<usize>),
    Attribute(Attribute),
    Block(Box<Block>),
}

impl From<Item> for Seen {
    fn from(item: Item) -> Self {
        match item {
            Item::Comment(r) => Seen::Comment(r),
            Item::Attribute(a) => Seen::Attribute(a),
            Item::Block(b) => Seen::Block(Box::new(b)),
        }
    }
}

/// The items of `tree` from its top level, as the analysis cache reads them
/// from a tree ([`crate::incremental`]): `None` where a block Terraform
/// rejects starts (that one's entry is read from the tree alone).
fn items_of_tree(tree: &tree_sitter::Tree, src: &str) -> Vec<Option<Seen>> {
    crate::syntax::top_level_items(tree)
        .into_iter()
        .map(|node| match node.kind() {
            "comment" => Some(Seen::Comment(node.byte_range())),
            "attribute" => super::hcl::attribute(node, src).map(Seen::Attribute),
            _ => super::hcl::top_block(node, src)
                .filter(|b| !crate::terraform::rejected_header(&b.kind, b.labels.len()))
                .map(|b| Seen::Block(Box::new(b))),
        })
        .collect()
}

/// Checks the direct reading of `src` against tree-sitter's: what it reads
/// must be what the cache reads from tree-sitter's tree of the whole text,
/// item for item, and tree-sitter must parse what it leaves, from where it
/// stopped, into the other items. `Ok(true)`: it read all of `src`;
/// `Ok(false)`: it stopped, rightly. `Err`: how they differ.
#[doc(hidden)]
pub fn agrees_with_tree_sitter(src: &str) -> Result<bool, String> {
    let tree = crate::syntax::parse(src, None);
    let refuse = |b: &Block| crate::terraform::rejected_header(&b.kind, b.labels.len());
    let mut read_items: Vec<Seen> = Vec::new();
    let stop = read(src, 0..src.len(), refuse, |item| {
        read_items.push(item.into())
    });
    if tree.root_node().has_error() {
        return if stop == src.len() {
            Err(format!(
                "read all of a text with syntax errors: {read_items:#?}"
            ))
        } else {
            Ok(false)
        };
    }
    let expected = items_of_tree(&tree, src);
    for (k, got) in read_items.iter().enumerate() {
        match expected.get(k) {
            Some(Some(want)) if want == got => {}
            want => return Err(format!("item {k}: read {got:#?}\ntree-sitter: {want:#?}")),
        }
    }
    if stop == src.len() {
        return if read_items.len() == expected.len() {
            Ok(true)
        } else {
            Err(format!(
                "read {} items of {}",
                read_items.len(),
                expected.len()
            ))
        };
    }
    // The rest, parsed from where it stopped, is the rest of the items.
    let point = |at: usize| {
        let row = src[..at].matches('\n').count();
        let column = at - src[..at].rfind('\n').map_or(0, |i| i + 1);
        tree_sitter::Point { row, column }
    };
    if src[stop..].trim().is_empty() {
        return Ok(false);
    }
    let Some(rest) =
        crate::syntax::parse_stretch_at(src, stop..src.len(), point(stop), point(src.len()))
    else {
        return Err(format!("what it left at {stop} does not parse alone"));
    };
    let rest_items = items_of_tree(&rest, src);
    let want = &expected[read_items.len()..];
    if rest_items != want {
        return Err(format!(
            "the rest from {stop}: {rest_items:#?}\nwhole: {want:#?}"
        ));
    }
    Ok(false)
}
