//! From syntax trees to the syntax-free model of [`crate::hir`].

pub mod hcl;
pub mod json;
