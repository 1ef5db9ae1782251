//! The analysis core: text + tree in, findings (and later fixes) out.
//!
//! Nothing here knows about LSP or the terminal: ranges are byte offsets into
//! the analysed text. The language server and the `check` CLI are two thin
//! front ends over [`analyze`].

pub mod eval;
pub mod finding;
pub mod fix;
pub mod incremental;
pub mod module;
pub mod queries;
pub mod rules;
pub mod style;
pub mod syntax;
pub mod terraform;

use tree_sitter::Tree;

pub use finding::{Emptiness, Finding, Problem, Related, ResourceRef, Severity, VpcAttribute};
pub use rules::Context;

/// Checks one parsed file with every rule; findings are sorted by position.
pub fn analyze(src: &str, tree: &Tree, ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for island in terraform::islands(src, tree) {
        let before = findings.len();
        for resource in island.resources() {
            for rule in rules::RULES {
                rule.check_resource(&resource, island.src, ctx, &mut findings);
            }
        }
        for finding in &mut findings[before..] {
            finding.shift(island.offset as isize);
        }
    }
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
    });
    findings
}

/// Parses and checks `src` with no knowledge beyond the file itself.
pub fn analyze_text(src: &str) -> Vec<Finding> {
    let tree = syntax::parse(src, None);
    analyze(
        src,
        &tree,
        &Context {
            scope: &eval::NoScope,
        },
    )
}
