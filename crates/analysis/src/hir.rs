//! A syntax-free model of Terraform configuration: blocks, attributes and
//! expressions with byte spans, the same whether the file was HCL
//! (`*.tf`, tfvars) or JSON (`*.tf.json`, `*.tfvars.json`).
//!
//! Rules, the module index and the evaluator read this model, never the
//! syntax trees: a block merged from an override file, a module call's
//! arguments in another folder, or a JSON resource are all just [`Block`]s.
//! Lowering from the trees is in [`crate::lower`]. Spans are byte ranges in
//! the file the node was read from; which file that is, the owner knows.

use std::ops::Range;

use thin_vec::ThinVec;

/// A byte range in one file.
pub type Span = Range<usize>;

/// A name or piece of text in the model: short ones are held inline and
/// longer ones shared, so copying a block (to move its spans after an
/// edit) allocates no string.
pub type Name = smol_str::SmolStr;

/// The items of a block (or of a tfvars file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    pub attributes: Vec<Attribute>,
    /// Thin lists (one pointer; none allocated while empty): most bodies
    /// have no nested block, and almost none an unparsed word.
    pub blocks: ThinVec<Block>,
    /// Identifier-like words in `ERROR` nodes directly inside this body: what
    /// the user may be typing (a `vpc_config` that does not parse yet).
    pub unparsed_words: ThinVec<Name>,
}

impl Body {
    /// The last attribute called `name` (Terraform rejects duplicates; the
    /// last is what the user just typed).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().rev().find(|a| a.name == name)
    }

    /// The nested blocks of type `kind`, in order.
    pub(crate) fn blocks_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }

    /// Does `word` appear in a part of the body that did not parse?
    pub(crate) fn mentions_unparsed(&self, word: &str) -> bool {
        self.unparsed_words.iter().any(|w| w == word)
    }
}

/// `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: Name,
    pub name_span: Span,
    /// The whole `name = value`.
    pub span: Span,
    /// `None` while the value is not written yet (`subnets =`).
    pub value: Option<Expr>,
}

/// A block label (`"aws_sagemaker_model"`), unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub value: Name,
    pub span: Span,
}

/// `kind "label" … { body }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: Name,
    pub kind_span: Span,
    pub labels: Vec<Label>,
    pub body: Body,
    /// The whole block.
    pub span: Span,
    /// The closing brace was really written (or, in JSON, the object is
    /// well formed).
    pub closed: bool,
    /// Parsed without syntax errors anywhere inside, and closed.
    pub clean: bool,
    /// Where `{` ends and `}` starts (for fixes); `None` in JSON.
    pub braces: Option<(usize, usize)>,
    /// Read from a JSON file.
    pub json: bool,
    /// Comments that may hold a suppression directive for this (top-level)
    /// block: the one on the line above its header and one on the header
    /// line; in JSON, its `"//"` member.
    pub comments: ThinVec<(Span, Name)>,
}

impl Block {
    /// From the block type to the end of its last label (the header a
    /// finding about the whole block points at).
    pub fn header(&self) -> Span {
        let end = self
            .labels
            .last()
            .map_or(self.kind_span.end, |l| l.span.end);
        self.kind_span.start..end
    }

    pub fn label(&self, i: usize) -> Option<&str> {
        self.labels.get(i).map(|l| l.value.as_str())
    }

    /// `resource "TYPE" "NAME"` → `(TYPE, NAME)`.
    pub fn resource_address(&self) -> Option<(&str, &str)> {
        (self.kind == "resource" && self.labels.len() == 2)
            .then(|| (self.labels[0].value.as_str(), self.labels[1].value.as_str()))
    }
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    /// A string: literal parts and interpolations (a plain string is one
    /// literal part; `"${x}"` is one interpolation and yields `x` itself).
    Template(TemplateParts),
    Tuple(Vec<Expr>),
    /// `{ key = value }`; a bare identifier key is a literal string.
    Object(Vec<(Expr, Expr)>),
    /// A root name: `var`, `local`, `aws_subnet`, an iterator, `each`…
    Variable(Name),
    GetAttr(Box<Expr>, Name),
    Index(Box<Expr>, Box<Expr>),
    /// `base[*]` followed by `steps` applied to each element (`.*` too).
    Splat(Box<Expr>, Vec<Step>),
    /// A function call (boxed: the rarer, larger variant keeps every
    /// expression small).
    Call(Box<Call>),
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    For(Box<ForExpr>),
    Parens(Box<Expr>),
    /// Did not parse, or a construct this model does not represent.
    Invalid,
}

/// `name(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: Name,
    pub args: Vec<Expr>,
    /// The last argument is expanded (`f(xs...)`).
    pub expand_final: bool,
}

/// The parts of a template: inline while there is one (a plain string, by
/// far the most common value), without an allocation of its own.
pub type TemplateParts = smallvec::SmallVec<[TemplatePart; 1]>;

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Literal(Name),
    Interpolation(Box<Expr>),
    /// `%{if}`/`%{for}`: not evaluated.
    Directive,
}

/// A step after a splat.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Attr(Name),
    Index(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Negate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Multiply,
    Divide,
    Modulo,
    Add,
    Subtract,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
    And,
    Or,
}

impl BinaryOp {
    pub(crate) fn from_token(token: &str) -> Option<Self> {
        Some(match token {
            "*" => Self::Multiply,
            "/" => Self::Divide,
            "%" => Self::Modulo,
            "+" => Self::Add,
            "-" => Self::Subtract,
            "<" => Self::Less,
            "<=" => Self::LessEqual,
            ">" => Self::Greater,
            ">=" => Self::GreaterEqual,
            "==" => Self::Equal,
            "!=" => Self::NotEqual,
            "&&" => Self::And,
            "||" => Self::Or,
            _ => return None,
        })
    }
}

/// `[for k, v in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForExpr {
    pub key_var: Option<Name>,
    pub value_var: Name,
    pub collection: Expr,
    /// `Some` for an object `for`.
    pub key: Option<Expr>,
    pub value: Expr,
    /// `...`: values grouped by key.
    pub group: bool,
    pub condition: Option<Expr>,
}

impl Expr {
    pub fn invalid(span: Span) -> Self {
        Self {
            span,
            kind: ExprKind::Invalid,
        }
    }

    /// `var.NAME` → `NAME` (the lowering tests read expressions with it).
    #[cfg(test)]
    pub fn as_var(&self) -> Option<&str> {
        self.as_root_attr("var")
    }

    /// `ROOT.NAME` (exactly) → `NAME`.
    #[cfg(test)]
    pub fn as_root_attr(&self, root: &str) -> Option<&str> {
        match &self.kind {
            ExprKind::GetAttr(base, name) => match &base.kind {
                ExprKind::Variable(r) if r == root => Some(name),
                _ => None,
            },
            _ => None,
        }
    }

    /// The literal string this expression is, if it is one (no
    /// interpolation).
    pub(crate) fn as_literal_string(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Template(parts) => match parts.as_slice() {
                [] => Some(""),
                [TemplatePart::Literal(s)] => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every `ROOT.NAME…` reference in this expression (resource, data and
    /// module references), as `(root, first attribute)` pairs.
    pub(crate) fn references(&self) -> Vec<(Name, Name)> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let ExprKind::GetAttr(base, name) = &e.kind
                && let ExprKind::Variable(root) = &base.kind
            {
                let pair = (root.clone(), name.clone());
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        });
        out
    }

    /// Calls `f` on this expression and every expression inside it.
    pub(crate) fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Template(parts) => {
                for part in parts {
                    if let TemplatePart::Interpolation(e) = part {
                        e.visit(f);
                    }
                }
            }
            ExprKind::Tuple(items) => items.iter().for_each(|e| e.visit(f)),
            ExprKind::Object(items) => {
                for (k, v) in items {
                    k.visit(f);
                    v.visit(f);
                }
            }
            ExprKind::GetAttr(base, _) | ExprKind::Parens(base) | ExprKind::Unary(_, base) => {
                base.visit(f)
            }
            ExprKind::Index(base, index) => {
                base.visit(f);
                index.visit(f);
            }
            ExprKind::Splat(base, steps) => {
                base.visit(f);
                for step in steps {
                    if let Step::Index(e) = step {
                        e.visit(f);
                    }
                }
            }
            ExprKind::Call(call) => call.args.iter().for_each(|e| e.visit(f)),
            ExprKind::Conditional(a, b, c) => {
                a.visit(f);
                b.visit(f);
                c.visit(f);
            }
            ExprKind::Binary(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            ExprKind::For(for_expr) => {
                for_expr.collection.visit(f);
                if let Some(k) = &for_expr.key {
                    k.visit(f);
                }
                for_expr.value.visit(f);
                if let Some(c) = &for_expr.condition {
                    c.visit(f);
                }
            }
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::Variable(_)
            | ExprKind::Invalid => {}
        }
    }

    /// Moves every span by `delta` (text was edited before it, or it was
    /// read from a piece of the file).
    pub(crate) fn shift(&mut self, delta: isize) {
        self.visit_mut(&mut |e| shift_span(&mut e.span, delta));
    }

    /// Calls `f` on this expression and every expression inside it.
    pub(crate) fn visit_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        f(self);
        match &mut self.kind {
            ExprKind::Template(parts) => {
                for part in parts {
                    if let TemplatePart::Interpolation(e) = part {
                        e.visit_mut(f);
                    }
                }
            }
            ExprKind::Tuple(items) => items.iter_mut().for_each(|e| e.visit_mut(f)),
            ExprKind::Object(items) => {
                for (k, v) in items {
                    k.visit_mut(f);
                    v.visit_mut(f);
                }
            }
            ExprKind::GetAttr(base, _) | ExprKind::Parens(base) | ExprKind::Unary(_, base) => {
                base.visit_mut(f)
            }
            ExprKind::Index(base, index) => {
                base.visit_mut(f);
                index.visit_mut(f);
            }
            ExprKind::Splat(base, steps) => {
                base.visit_mut(f);
                for step in steps {
                    if let Step::Index(e) = step {
                        e.visit_mut(f);
                    }
                }
            }
            ExprKind::Call(call) => call.args.iter_mut().for_each(|e| e.visit_mut(f)),
            ExprKind::Conditional(a, b, c) => {
                a.visit_mut(f);
                b.visit_mut(f);
                c.visit_mut(f);
            }
            ExprKind::Binary(_, a, b) => {
                a.visit_mut(f);
                b.visit_mut(f);
            }
            ExprKind::For(for_expr) => {
                for_expr.collection.visit_mut(f);
                if let Some(k) = &mut for_expr.key {
                    k.visit_mut(f);
                }
                for_expr.value.visit_mut(f);
                if let Some(c) = &mut for_expr.condition {
                    c.visit_mut(f);
                }
            }
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::Variable(_)
            | ExprKind::Invalid => {}
        }
    }
}

impl ExprKind {
    /// Gives back the unused capacity of the lists it holds directly.
    fn shrink(&mut self) {
        match self {
            Self::Template(parts) => parts.shrink_to_fit(),
            Self::Tuple(items) => items.shrink_to_fit(),
            Self::Object(items) => items.shrink_to_fit(),
            Self::Splat(_, steps) => steps.shrink_to_fit(),
            Self::Call(call) => call.args.shrink_to_fit(),
            _ => {}
        }
    }
}

pub(crate) fn shift_span(span: &mut Span, delta: isize) {
    *span = span.start.saturating_add_signed(delta)..span.end.saturating_add_signed(delta);
}

impl Body {
    fn shrink(&mut self) {
        self.attributes.shrink_to_fit();
        self.blocks.shrink_to_fit();
        self.unparsed_words.shrink_to_fit();
        for a in &mut self.attributes {
            if let Some(v) = &mut a.value {
                v.visit_mut(&mut |e| e.kind.shrink());
            }
        }
        for b in &mut self.blocks {
            b.shrink();
        }
    }

    pub(crate) fn shift(&mut self, delta: isize) {
        for a in &mut self.attributes {
            a.shift(delta);
        }
        for b in &mut self.blocks {
            b.shift(delta);
        }
    }
}

impl Attribute {
    pub(crate) fn shift(&mut self, delta: isize) {
        shift_span(&mut self.name_span, delta);
        shift_span(&mut self.span, delta);
        if let Some(v) = &mut self.value {
            v.shift(delta);
        }
    }
}

impl Block {
    /// Gives back the unused capacity of every list in the block: lists
    /// grow by doubling while a block is read, and a file's blocks are
    /// held for as long as it is open (or its module checked), so a
    /// resource of two attributes would otherwise keep room for four.
    pub(crate) fn shrink(&mut self) {
        self.labels.shrink_to_fit();
        self.comments.shrink_to_fit();
        self.body.shrink();
    }

    pub(crate) fn shift(&mut self, delta: isize) {
        shift_span(&mut self.kind_span, delta);
        shift_span(&mut self.span, delta);
        for l in &mut self.labels {
            shift_span(&mut l.span, delta);
        }
        if let Some((open, close)) = &mut self.braces {
            *open = open.saturating_add_signed(delta);
            *close = close.saturating_add_signed(delta);
        }
        for (span, _) in &mut self.comments {
            shift_span(span, delta);
        }
        self.body.shift(delta);
    }
}

/// A top-level block as files and modules hold it: shared (by the open
/// document's cache, its facts, the module index and the last analysis),
/// and moved by edits without being copied.
///
/// An edit before a block moves every position in it. Copying each block
/// after a keystroke to move its spans cost a 10 MB document about 23 ms a
/// keystroke on the protocol thread, and the copies were then freed on
/// another. A moved block instead keeps the block it was read as and how
/// far it moved; its positions are computed (one copy, kept by this
/// handle) the first time they are read through `Deref`, which after a
/// keystroke is for the few blocks a check reads.
/// [`SharedBlock::unplaced`] reads what does not depend on where the block
/// is (its type, labels, names and values) without that copy.
///
/// Moving a handle ([`SharedBlock::move_by`]) changes a number in it and
/// touches nothing on the heap: a keystroke moves every block after it,
/// and a shared record of the move, allocated per block, cost a 10 MB
/// document 15 % of the server's time while typing (the allocation, and a
/// cache miss on each block's count of owners). A clone shares the placed
/// copy if there is one, not a copy placed later. Three words: a file of
/// `a{}` holds one per 3 bytes, in its cache and in its facts.
#[derive(Clone)]
pub struct SharedBlock {
    /// The block as read, or as last placed.
    block: std::sync::Arc<Block>,
    /// How far it moved since.
    delta: isize,
    /// `block` moved by `delta`, once read.
    placed: once_cell::race::OnceBox<std::sync::Arc<Block>>,
}

impl SharedBlock {
    pub fn new(block: Block) -> Self {
        Self {
            block: std::sync::Arc::new(block),
            delta: 0,
            placed: once_cell::race::OnceBox::new(),
        }
    }

    /// The latest block known (as read, or placed since) and how far the
    /// block moved from it.
    fn latest(&self) -> (&std::sync::Arc<Block>, isize) {
        match self.placed.get() {
            Some(placed) => (placed, 0),
            None => (&self.block, self.delta),
        }
    }

    /// Moves this handle `delta` bytes further in its file: nothing is
    /// copied, and nothing on the heap is read or written unless its
    /// positions were read since it last moved.
    pub(crate) fn move_by(&mut self, delta: isize) {
        if delta == 0 {
            return;
        }
        if let Some(placed) = self.placed.get() {
            self.block = std::sync::Arc::clone(placed);
            self.delta = 0;
            self.placed = once_cell::race::OnceBox::new();
        }
        self.delta += delta;
    }

    /// The block with the positions it had when it was read (or last
    /// placed), which may be stale: only for what does not depend on
    /// where it is.
    pub(crate) fn unplaced(&self) -> &Block {
        &self.block
    }

    /// Where the whole block is now (its `span`), without placing it.
    pub fn placed_span(&self) -> Span {
        let (base, delta) = self.latest();
        let mut span = base.span.clone();
        shift_span(&mut span, delta);
        span
    }

    /// Both are moves of the same block as read: same type, labels and
    /// values.
    pub(crate) fn same_source(a: &Self, b: &Self) -> bool {
        std::sync::Arc::ptr_eq(&a.block, &b.block)
    }

    /// Its positions are known without a copy (it did not move, or they
    /// were read since).
    pub fn is_placed(&self) -> bool {
        self.latest().1 == 0
    }

    /// The count of the block's owners, which a clone or a drop updates
    /// (see [`crate::owners`]).
    pub(crate) fn owners(&self) -> usize {
        std::sync::Arc::strong_count(&self.block)
    }

    /// It is the block as read: it never moved, so it holds no second
    /// copy of itself nor a pending move.
    pub fn is_as_read(&self) -> bool {
        self.delta == 0 && self.placed.get().is_none()
    }
}

impl std::ops::Deref for SharedBlock {
    type Target = Block;

    /// The block at its current place (computed and kept on first read).
    fn deref(&self) -> &Block {
        if self.delta == 0 {
            return &self.block;
        }
        self.placed.get_or_init(|| {
            let mut block = Block::clone(&self.block);
            block.shift(self.delta);
            Box::new(std::sync::Arc::new(block))
        })
    }
}

/// Shown and compared as the block at its place.
impl std::fmt::Debug for SharedBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Block::fmt(self, f)
    }
}

impl PartialEq for SharedBlock {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl AsRef<Block> for SharedBlock {
    fn as_ref(&self) -> &Block {
        self
    }
}

impl From<Block> for SharedBlock {
    fn from(block: Block) -> Self {
        Self::new(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a lowered block costs is mostly these sizes, times the blocks
    /// of every file a check or an open document holds (a file of a
    /// million subnets holds a million blocks and two million attributes).
    #[test]
    fn the_model_stays_small() {
        use std::mem::size_of;
        assert_eq!(size_of::<TemplateParts>(), 32, "one part, inline");
        assert_eq!(size_of::<ExprKind>(), 40);
        assert_eq!(size_of::<Expr>(), 56);
        assert_eq!(size_of::<Attribute>(), 112);
        assert_eq!(size_of::<Body>(), 40);
        assert_eq!(size_of::<Block>(), 160);
        assert_eq!(size_of::<SharedBlock>(), 24);
    }

    /// A block is as read until an edit moves it, and stays moved once
    /// its place is read (it then holds the placed copy beside it).
    #[test]
    fn a_block_is_as_read_until_it_moves() {
        let block = Block {
            kind: "locals".into(),
            kind_span: 0..6,
            labels: Vec::new(),
            body: Body::default(),
            span: 0..9,
            closed: true,
            clean: true,
            braces: Some((7, 8)),
            json: false,
            comments: ThinVec::new(),
        };
        let read = SharedBlock::new(block);
        assert!(read.is_as_read());
        let mut moved = read.clone();
        moved.move_by(0);
        assert!(moved.is_as_read());
        moved.move_by(3);
        assert!(!moved.is_as_read() && !moved.is_placed());
        assert!(SharedBlock::same_source(&read, &moved), "nothing copied");
        assert_eq!(moved.placed_span(), 3..12);
        assert_eq!(moved.span, 3..12);
        assert!(moved.is_placed() && !moved.is_as_read());
        // A clone shares the placed copy; a move after it starts from it.
        let mut again = moved.clone();
        assert!(again.is_placed());
        again.move_by(-1);
        assert_eq!((again.placed_span(), again.span.clone()), (2..11, 2..11));
        assert_eq!((read.span.clone(), moved.span.clone()), (0..9, 3..12));
    }
}
