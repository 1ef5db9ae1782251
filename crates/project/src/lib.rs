//! The protocol-free project layer both front ends (the `check` CLI and the
//! language server) stand on: which files are Terraform, finding them,
//! reading them, the modules they make up and the calls between them,
//! analyzing a file within its module, and planning fixes across files.

pub mod check;
pub mod fixplan;
pub mod manifest;
pub mod prefilter;
pub mod read;
pub mod retire;
pub mod walk;
pub mod workspace;

pub use read::{ReadError, Source, kind_of};
pub use workspace::{Workspace, folder_of};
