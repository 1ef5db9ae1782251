//! The protocol-free project layer both front ends (the `check` CLI and the
//! language server) stand on: which files are Terraform, finding them,
//! reading them, and the modules they make up.

pub mod read;
pub mod walk;

pub use read::{ReadError, read_source, read_source_bom};
