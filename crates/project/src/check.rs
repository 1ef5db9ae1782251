//! Analyzing a file within its module: in every instance of the module (the
//! frames [`crate::Workspace::frames`] gives). The CLI, the fix planner and
//! the server's full (non-incremental) analyses all go through here.

use std::sync::Arc;

use svl_analysis::module::{FileFacts, Frame};
use svl_analysis::{Finding, Options};

/// The findings of `file` (its facts as the caller has them: disk or an
/// editor's buffer) in `frames`, the instances of its module. Files that
/// hold no configuration (`.tfvars`) have none.
pub fn check_file(file: &FileFacts, frames: &[Arc<Frame>], options: &Options) -> Vec<Finding> {
    if !file.kind.is_config() {
        return Vec::new();
    }
    svl_analysis::analyze_file(file, frames, options)
}
