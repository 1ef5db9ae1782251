//! Hashes of what analysis reads from a file, ignoring where it is: a
//! keystroke that moves a block (or edits a comment) leaves them unchanged.

use std::hash::{BuildHasher, Hash, Hasher};

use crate::hir::{Attribute, Block, Body, Expr, ExprKind, Step, TemplatePart};

/// The hasher of analysis's hashes: fast (every block of a document is
/// hashed when it is read; SipHash, std's default, was some 4 % of the
/// CPU of a 1 MB open), and of a fixed seed, so that a hash is the same
/// each time in a process. No hash outlives the process.
pub(crate) type FastHasher = foldhash::quality::FoldHasher<'static>;

/// What makes a [`FastHasher`]: also the hasher of analysis's maps.
pub(crate) type FastState = foldhash::quality::FixedState;

/// A [`FastHasher`], fresh.
pub(crate) fn hasher() -> FastHasher {
    FastState::default().build_hasher()
}

/// What other files (and other blocks of this file) may read: every block
/// of an override file; elsewhere variables, locals, module calls and
/// resources of the types rules read across resources
/// ([`crate::rules::shared_resource_types`]) — not, say, another model's
/// `name`, so typing in one model does not re-check the others.
pub(crate) fn is_shared(b: &Block, override_file: bool) -> bool {
    shared_kind(&b.kind, b.label(0), override_file)
}

/// [`is_shared`] for a block of type `kind` whose first label is `label`,
/// told before the block is lowered.
pub(crate) fn shared_kind(kind: &str, label: Option<&str>, override_file: bool) -> bool {
    override_file
        || match kind {
            "variable" | "locals" | "module" => true,
            "resource" | "data" => {
                label.is_some_and(|t| crate::rules::shared_resource_types().contains(&t))
            }
            _ => false,
        }
}

pub(super) fn file(
    blocks: &[crate::hir::SharedBlock],
    assignments: &[Attribute],
    override_file: bool,
) -> u64 {
    // Where the blocks are is not hashed: moved blocks are read unplaced.
    let shared = blocks
        .iter()
        .map(|b| b.unplaced())
        .filter(|b| is_shared(b, override_file))
        .map(block);
    combine(shared, assignments)
}

/// The file hash from its shared blocks' hashes, in order.
pub(super) fn combine(shared: impl Iterator<Item = u64>, assignments: &[Attribute]) -> u64 {
    let mut h = Combined::default();
    for b in shared {
        h.add(b);
    }
    h.finish(assignments)
}

/// [`combine`], given the shared blocks' hashes one at a time.
pub(super) struct Combined(FastHasher);

impl Default for Combined {
    fn default() -> Self {
        Self(hasher())
    }
}

impl Combined {
    pub(super) fn add(&mut self, shared: u64) {
        shared.hash(&mut self.0);
    }

    pub(super) fn finish(mut self, assignments: &[Attribute]) -> u64 {
        for a in assignments {
            attribute(a, &mut self.0);
        }
        self.0.finish()
    }
}

pub(super) fn block(b: &Block) -> u64 {
    let mut h = hasher();
    block_into(b, &mut h);
    h.finish()
}

fn block_into(b: &Block, h: &mut FastHasher) {
    b.kind.hash(h);
    for l in &b.labels {
        l.value.hash(h);
    }
    (b.closed, b.clean, b.json).hash(h);
    body(&b.body, h);
}

fn body(b: &Body, h: &mut FastHasher) {
    b.attributes.len().hash(h);
    for a in &b.attributes {
        attribute(a, h);
    }
    b.blocks.len().hash(h);
    for nested in &b.blocks {
        block_into(nested, h);
    }
    b.unparsed_words.hash(h);
}

fn attribute(a: &Attribute, h: &mut FastHasher) {
    a.name.hash(h);
    match &a.value {
        Some(e) => expr(e, h),
        None => 0u8.hash(h),
    }
}

fn expr(e: &Expr, h: &mut FastHasher) {
    std::mem::discriminant(&e.kind).hash(h);
    match &e.kind {
        ExprKind::Null | ExprKind::Invalid => {}
        ExprKind::Bool(b) => b.hash(h),
        ExprKind::Number(n) => n.to_bits().hash(h),
        ExprKind::Template(parts) => {
            parts.len().hash(h);
            for p in parts {
                match p {
                    TemplatePart::Literal(s) => (0u8, s).hash(h),
                    TemplatePart::Interpolation(x) => {
                        1u8.hash(h);
                        expr(x, h);
                    }
                    TemplatePart::Directive => 2u8.hash(h),
                }
            }
        }
        ExprKind::Tuple(items) => {
            items.len().hash(h);
            items.iter().for_each(|x| expr(x, h));
        }
        ExprKind::Object(items) => {
            items.len().hash(h);
            for (k, v) in items {
                expr(k, h);
                expr(v, h);
            }
        }
        ExprKind::Variable(name) => name.hash(h),
        ExprKind::GetAttr(base, name) => {
            expr(base, h);
            name.hash(h);
        }
        ExprKind::Index(base, index) => {
            expr(base, h);
            expr(index, h);
        }
        ExprKind::Splat(base, steps) => {
            expr(base, h);
            for s in steps {
                match s {
                    Step::Attr(a) => (0u8, a).hash(h),
                    Step::Index(x) => {
                        1u8.hash(h);
                        expr(x, h);
                    }
                }
            }
        }
        ExprKind::Call(call) => {
            (&call.name, call.expand_final, call.args.len()).hash(h);
            call.args.iter().for_each(|x| expr(x, h));
        }
        ExprKind::Conditional(a, b, c) => {
            expr(a, h);
            expr(b, h);
            expr(c, h);
        }
        ExprKind::Unary(op, x) => {
            (*op as u8).hash(h);
            expr(x, h);
        }
        ExprKind::Binary(op, a, b) => {
            (*op as u8).hash(h);
            expr(a, h);
            expr(b, h);
        }
        ExprKind::For(f) => {
            (&f.key_var, &f.value_var, f.group).hash(h);
            expr(&f.collection, h);
            if let Some(k) = &f.key {
                expr(k, h);
            }
            expr(&f.value, h);
            if let Some(c) = &f.condition {
                expr(c, h);
            }
        }
        ExprKind::Parens(x) => expr(x, h),
    }
}
