//! The rules: each checks one resource at a time and appends findings.
//!
//! A rule sees one resource (HCL or JSON) and a [`Context`] (the scope that
//! resolves references, the module's facts, the date suppressions expire
//! against); adding a rule means adding a module here and an entry in
//! [`RULES`].

use std::path::Path;

use super::eval::Scope;
use super::finding::Finding;
use super::module::ModuleIndex;
use super::suppress::Date;
use super::terraform::{JsonResource, Resource};

pub mod sagemaker_model_in_vpc;

/// What a rule may know beyond the resource's own text.
pub struct Context<'a> {
    /// Resolves `var.*` and `local.*` references.
    pub scope: &'a dyn Scope,
    /// The facts of the module the file belongs to, if known.
    pub module: Option<&'a ModuleIndex>,
    /// The analysed file (definitions elsewhere are related by path).
    pub path: Option<&'a Path>,
    /// Suppressions expire against this date.
    pub today: Date,
    /// Honour suppression comments (`check --no-suppress` turns this off).
    pub suppressions: bool,
}

impl<'a> Context<'a> {
    /// A context that knows nothing beyond the file.
    pub fn standalone(scope: &'a dyn Scope) -> Self {
        Self {
            scope,
            module: None,
            path: None,
            today: Date::today(),
            suppressions: true,
        }
    }
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
    /// Checks one resource of a `.tf.json` file.
    fn check_json_resource(
        &self,
        _resource: &JsonResource<'_>,
        _src: &str,
        _ctx: &Context<'_>,
        _out: &mut Vec<Finding>,
    ) {
    }
}

/// Every rule, in the order their findings are produced.
pub static RULES: &[&dyn Rule] = &[&sagemaker_model_in_vpc::SagemakerModelInVpc];

/// The ids a suppression comment may name.
pub fn rule_ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id()).collect()
}
