//! The tree-sitter queries under `queries/`, each compiled once.
//!
//! tree-sitter-hcl ships no query files; these are ours. Each query is embedded
//! at build time and compiled on first use; a unit test compiles every one and
//! checks its captures, so a broken `.scm` fails `cargo test`, not a user.

use std::sync::LazyLock;

use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, Query, QueryCursor};

use super::syntax::language;

/// A compiled query with the capture indexes its users need.
pub(crate) struct Compiled {
    pub query: Query,
    captures: Vec<(&'static str, u32)>,
}

impl Compiled {
    fn new(name: &str, source: &str, captures: &[&'static str]) -> Self {
        let query = Query::new(&language(), source)
            .unwrap_or_else(|e| panic!("query {name} does not compile: {e}"));
        let captures = captures
            .iter()
            .map(|&c| {
                let index = query
                    .capture_index_for_name(c)
                    .unwrap_or_else(|| panic!("query {name} has no capture @{c}"));
                (c, index)
            })
            .collect();
        Self { query, captures }
    }

    /// Runs the query under `node` and hands each match's captures, in
    /// declaration order, to `f` (`None` for a capture absent from a match).
    /// With `max_depth`, matches only start at most `max_depth` levels below
    /// `node` (the cursor does not descend further,
    /// which is what keeps top-level lookups fast on large files).
    pub(crate) fn for_each_match_within<'t>(
        &self,
        node: Node<'t>,
        max_depth: Option<u32>,
        src: &str,
        mut f: impl FnMut(&[Option<Node<'t>>]),
    ) {
        let mut cursor = QueryCursor::new();
        cursor.set_max_start_depth(max_depth);
        let mut matches = cursor.matches(&self.query, node, src.as_bytes());
        let mut row = vec![None; self.captures.len()];
        while let Some(m) = matches.next() {
            row.iter_mut().for_each(|slot| *slot = None);
            for capture in m.captures {
                if let Some(slot) = self.captures.iter().position(|(_, i)| *i == capture.index) {
                    row[slot] = Some(capture.node);
                }
            }
            f(&row);
        }
    }
}

/// `queries/resource_blocks.scm`: captures `block`.
pub(crate) static RESOURCE_BLOCKS: LazyLock<Compiled> = LazyLock::new(|| {
    Compiled::new(
        "resource_blocks",
        include_str!("../../../queries/resource_blocks.scm"),
        &["block"],
    )
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, text};

    fn captures_of(q: &Compiled, src: &str, names: &[&str]) -> Vec<Vec<String>> {
        let tree = parse(src, None);
        let mut rows = Vec::new();
        q.for_each_match_within(tree.root_node(), None, src, |row| {
            rows.push(
                names
                    .iter()
                    .map(|n| {
                        let i = q.captures.iter().position(|(c, _)| c == n).unwrap();
                        row[i]
                            .map(|node| text(node, src).to_owned())
                            .unwrap_or_default()
                    })
                    .collect(),
            );
        });
        rows
    }

    #[test]
    fn resource_blocks_compiles_and_captures_resource_blocks() {
        let src = r#"
resource "aws_sagemaker_model" "a" {}
resource /* note */ aws_sagemaker_model b {
  name = "x"
}
data "aws_sagemaker_model" "d" {}
locals { resource = 1 }
"#;
        let rows = captures_of(&RESOURCE_BLOCKS, src, &["block"]);
        let starts: Vec<&str> = rows.iter().map(|r| &r[0][..22]).collect();
        assert_eq!(
            starts,
            ["resource \"aws_sagemake", "resource /* note */ aw"]
        );
        assert_eq!(RESOURCE_BLOCKS.query.capture_names().len(), 2);
    }
}
