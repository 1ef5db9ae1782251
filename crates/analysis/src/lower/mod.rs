//! From syntax trees to the syntax-free model of [`crate::hir`].

pub mod hcl;
pub mod json;

use std::cell::Cell;

/// How deep expressions and blocks may nest before the rest is read as an
/// invalid expression (an unknown value) or an empty body. Every pass over
/// the model recurses; without a bound, `[[[…]]]` nested 100,000 deep
/// overflowed the stack. Real configurations nest a dozen levels.
pub(crate) const MAX_NESTING: usize = 256;

thread_local! {
    static NESTING: Cell<usize> = const { Cell::new(0) };
}

/// One level of nesting while it is alive; `None` past [`MAX_NESTING`].
pub(crate) struct Nest(());

impl Nest {
    pub(crate) fn enter() -> Option<Nest> {
        NESTING.with(|n| {
            if n.get() >= MAX_NESTING {
                None
            } else {
                n.set(n.get() + 1);
                Some(Nest(()))
            }
        })
    }
}

impl Drop for Nest {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get() - 1));
    }
}
