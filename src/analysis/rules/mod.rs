//! The rules: each checks one island of a file and appends findings.
//!
//! A rule sees one resource block at a time and a [`Context`] (the scope that
//! resolves references, later also cross-file facts); adding a rule means adding
//! a module here and an entry in [`RULES`].

use super::eval::Scope;
use super::finding::Finding;
use super::terraform::Resource;

pub mod sagemaker_model_in_vpc;

/// What a rule may know beyond the island's own text.
pub struct Context<'a> {
    /// Resolves `var.*` and `local.*` references.
    pub scope: &'a dyn Scope,
}

pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    /// Checks one top-level resource block of `src` (its island's text).
    fn check_resource(
        &self,
        resource: &Resource<'_>,
        src: &str,
        ctx: &Context<'_>,
        out: &mut Vec<Finding>,
    );
}

/// Every rule, in the order their findings are produced.
pub static RULES: &[&dyn Rule] = &[&sagemaker_model_in_vpc::SagemakerModelInVpc];
