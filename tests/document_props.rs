//! Property test of the document store: random edit sequences applied
//! incrementally (rope + tree edits + one re-parse per notification) must
//! leave exactly the text a plain string model has, and a tree identical to a
//! fresh parse of that text (for a text with a syntax error: a tree that has
//! the error too), in UTF-16 and UTF-8 positions.
#![allow(clippy::unwrap_used)]

mod common;

use common::props::floor;
use proptest::prelude::*;
use ropey::Rope;
use svl_analysis::document::{Change, Document};
use svl_analysis::incremental::CacheOp;
use svl_analysis::position::{Encoding, to_line_col};
use svl_analysis::syntax;
use tree_sitter::{Node, Tree};

const SEEDS: &[&str] = &[
    "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"x\"\n}\n",
    "resource \"aws_sagemaker_model\" \"m\" {\r\n  vpc_config {\r\n    subnets = [\"a\", \"💣\"]\r\n  }\r\n}\r\n",
    "# 中文 ß ℝ 💣\nlocals {\n  a = [for s in var.x : s if s != \"\"]\n  b = <<EOT\nhi ${var.y}\nEOT\n}\n",
    "",
];

const PIECES: &[&str] = &[
    "a",
    " ",
    "\n",
    "\r\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "=",
    "💣",
    "中",
    "ß",
    "ℝ",
    "#",
    "resource \"aws_sagemaker_model\" \"n\" {\n}\n",
    "vpc_config {\n",
    "subnets = []\n",
    "security_group_ids = [\"sg\"]",
    "${",
    "<<EOT\n",
    "EOT\n",
    "/*",
    "*/",
    "\t",
];

/// One edit, as fractions of the text so it always lands inside.
#[derive(Debug, Clone)]
struct Edit {
    start: f64,
    len: f64,
    insert: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        0.0..=1.0f64,
        prop_oneof![Just(0.0), 0.0..0.2f64],
        prop::collection::vec(prop::sample::select(PIECES), 0..4).prop_map(|p| p.concat()),
    )
        .prop_map(|(start, len, insert)| Edit { start, len, insert })
}

fn signature(tree: &Tree) -> Vec<(String, usize, usize, bool, bool)> {
    let mut out = Vec::new();
    let mut stack: Vec<Node<'_>> = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        out.push((
            node.kind().to_owned(),
            node.start_byte(),
            node.end_byte(),
            node.is_missing(),
            node.is_error(),
        ));
        let mut cursor = node.walk();
        let children: Vec<_> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

fn run(seed: &str, notifications: &[Vec<Edit>], encoding: Encoding) -> Result<(), TestCaseError> {
    let mut model = seed.to_owned();
    let mut doc = Document::new(seed, 0);
    for (version, edits) in notifications.iter().enumerate() {
        let mut changes = Vec::new();
        // The text before and after each change.
        let mut texts = Vec::new();
        for e in edits {
            // Each change's range is against the text left by the previous one.
            let start = floor(&model, (e.start * model.len() as f64) as usize);
            let end = floor(&model, start + (e.len * model.len() as f64) as usize);
            let rope = Rope::from_str(&model);
            let (s, t) = (
                to_line_col(&rope, start, encoding),
                to_line_col(&rope, end, encoding),
            );
            // A position between `\r` and `\n` does not exist in LSP.
            if model[..start].ends_with('\r') && model[start..].starts_with('\n')
                || model[..end].ends_with('\r') && model[end..].starts_with('\n')
            {
                continue;
            }
            let before = model.clone();
            model.replace_range(start..end, &e.insert);
            texts.push((before, model.clone()));
            changes.push(Change {
                range: Some((s, t)),
                text: e.insert.clone(),
            });
        }
        let applied = doc.apply_changes(&changes, encoding);
        prop_assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
        for (op, (before, after)) in applied.ops.iter().zip(&texts) {
            lines_follow(op, before, after)?;
        }
        prop_assert_eq!(doc.text(), model.clone(), "after notification {}", version);
        prop_assert_eq!(
            doc.rope.to_string(),
            model.clone(),
            "rope and string disagree"
        );
        // The tree is re-parsed when asked for: not after every
        // notification, so edits pile up on it in between.
        if version % 2 == 0 && version + 1 < notifications.len() {
            continue;
        }
        let fresh = syntax::parse(&model, None);
        if fresh.root_node().has_error() {
            // tree-sitter's recovery from an error depends on the previous
            // tree: an incremental parse may wrap the error differently
            // (a root ERROR node against a config_file holding one). Both
            // must still see the error.
            prop_assert!(
                doc.tree().root_node().has_error(),
                "a fresh parse of {:?} has an error, the incremental tree none",
                model
            );
        } else {
            prop_assert_eq!(
                signature(doc.tree()),
                signature(&fresh),
                "incremental tree differs from a fresh parse of {:?}",
                model
            );
        }
    }
    Ok(())
}

/// What the server's memo of diagnostics relies on: a line that starts
/// after a change is the same line after it, `lines` further on, starting
/// `delta` bytes further on.
fn lines_follow(op: &CacheOp, before: &str, after: &str) -> Result<(), TestCaseError> {
    let CacheOp::Edit(e) = op else {
        return Err(TestCaseError::fail("a ranged change is an edit"));
    };
    let (old, new) = (Rope::from_str(before), Rope::from_str(after));
    let delta = e.new_end as isize - e.old_end as isize;
    for line in 0..old.len_lines() {
        let start = old.line_to_byte(line);
        if start <= e.old_end {
            continue;
        }
        let moved = start.checked_add_signed(delta).unwrap();
        let now = new.byte_to_line(moved);
        prop_assert_eq!(
            now as isize,
            line as isize + e.lines,
            "line {} of {:?}",
            line,
            before
        );
        prop_assert_eq!(new.line_to_byte(now), moved);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(400), ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_fresh_utf16(
        seed in prop::sample::select(SEEDS),
        notifications in prop::collection::vec(prop::collection::vec(edit(), 1..4), 1..8),
    ) {
        run(seed, &notifications, Encoding::Utf16)?;
    }

    #[test]
    fn incremental_equals_fresh_utf8(
        seed in prop::sample::select(SEEDS),
        notifications in prop::collection::vec(prop::collection::vec(edit(), 1..4), 1..8),
    ) {
        run(seed, &notifications, Encoding::Utf8)?;
    }
}
