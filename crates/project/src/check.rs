//! Analysing a file within its module: in every instance of the module the
//! workspace knows (see [`svl_analysis::module::frames`]).

use svl_analysis::module::FileFacts;
use svl_analysis::{Finding, Options};

use crate::workspace::{Workspace, folder_of};

/// The findings of `file` (its facts as the caller has them: disk or an
/// editor's buffer), in every instance of its module.
pub fn check_file(ws: &mut Workspace, file: &FileFacts, options: &Options) -> Vec<Finding> {
    if !file.kind.is_config() {
        return Vec::new();
    }
    let frames = ws.frames(&folder_of(&file.path));
    svl_analysis::analyze_file(file, &frames, options)
}
