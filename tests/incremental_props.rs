//! Property test of incremental analysis: after any sequence of edits, the
//! findings reused from the per-item cache must equal a full analysis of the
//! text, finding for finding.
#![allow(clippy::unwrap_used)]

mod common;

use common::props::{floor, frames};
use proptest::prelude::*;
use ropey::Rope;
use std::path::Path;
use std::sync::Arc;
use svl_analysis::document::{Change, Document};

use svl_analysis::incremental::{Incremental, Stats};
use svl_analysis::module::{FileFacts, FileKind};
use svl_analysis::position::{Encoding, to_line_col};
use svl_analysis::{Finding, Options};

const SEED: &str = r#"resource "aws_subnet" "a" {
  vpc_id = "vpc-1"
}
/* a comment */
locals {
  doc = <<EOT
resource "aws_sagemaker_model" "in_heredoc" {}
EOT
}

resource "aws_sagemaker_model" "one" {
  name = "one"
}

resource "aws_sagemaker_model" "two" {
  vpc_config {
    security_group_ids = ["sg-1"]
    subnets            = []
  }
}
variable "x" {}
resource "aws_sagemaker_model" "three" {
  vpc_config {
    subnets = ["s"]
  }
}
"#;

const PIECES: &[&str] = &[
    "a",
    " ",
    "\n",
    "}",
    "{",
    "\"",
    "[]",
    "[\"x\"]",
    "#",
    "💣",
    "resource \"aws_sagemaker_model\" \"n\" {}\n",
    "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets = []\n  }\n}\n",
    "vpc_config {\n}\n",
    "security_group_ids = []\n",
    "subnets",
    "locals {\n",
    "/*",
    "*/",
    "a = <<EOT\n",
    "EOT\n",
    "x = <<-EOT\n  y\n  EOT\n",
    "//",
    "\\",
    "variable \"v\" {\n  default = []\n}\n",
    "locals {\n  l = []\n}\n",
    "default",
    "var.v",
];

/// What the server does: the cache when the tree is clean, else a full
/// analysis.
fn incremental(cache: &mut Incremental, doc: &Document) -> (Vec<Finding>, Stats) {
    let path = Path::new("main.tf");
    let options = Options::default();
    if !cache.sync(&doc.text, &doc.tree).usable {
        let facts = Arc::new(FileFacts::extract(
            path,
            FileKind::Hcl,
            doc.text.clone(),
            Some(&doc.tree),
        ));
        let stats = Stats {
            full: true,
            ..Stats::default()
        };
        return (
            svl_analysis::analyze_file(&facts, &frames(&facts), &options),
            stats,
        );
    }
    let facts = Arc::new(FileFacts::from_parts(
        path,
        FileKind::Hcl,
        doc.text.clone(),
        cache.blocks(),
        Vec::new(),
    ));
    let frames = frames(&facts);
    let fingerprint = frames[0].fingerprint();
    cache.check(fingerprint, |block| {
        svl_analysis::analyze_block(path, block, &frames, &options)
    })
}

/// A full analysis of the document (no cache), with the same tree.
fn full(doc: &Document) -> Vec<Finding> {
    let facts = Arc::new(FileFacts::extract(
        Path::new("main.tf"),
        FileKind::Hcl,
        doc.text.clone(),
        Some(&doc.tree),
    ));
    svl_analysis::analyze_file(&facts, &frames(&facts), &Options::default())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn incremental_findings_equal_full_analysis(
        notifications in prop::collection::vec(
            prop::collection::vec(
                (0.0..=1.0f64, prop_oneof![Just(0.0), 0.0..0.1f64], prop::sample::select(PIECES)),
                1..4,
            ),
            1..15,
        )
    ) {
        let mut text = SEED.to_owned();
        let mut doc = Document::new(&text, 0);
        let mut cache = Incremental::default();
        let (first, _) = incremental(&mut cache, &doc);
        prop_assert_eq!(first, full(&doc));
        for edits in notifications {
            // Several changes in one notification, each against the text
            // left by the previous one.
            let mut changes = Vec::new();
            for (start, len, piece) in edits {
                let s = floor(&text, (start * text.len() as f64) as usize);
                let e = floor(&text, s + (len * text.len() as f64) as usize);
                let rope = Rope::from_str(&text);
                changes.push(Change {
                    range: Some((to_line_col(&rope, s, Encoding::Utf8), to_line_col(&rope, e, Encoding::Utf8))),
                    text: piece.to_owned(),
                });
                text.replace_range(s..e, piece);
            }
            let applied = doc.apply_changes(&changes, Encoding::Utf8);
            for op in &applied.ops {
                cache.apply(op);
            }
            // With the module's facts (this file's variables and locals), as
            // the server analyses: a changed variable re-checks everything.
            let (incremental, _) = incremental(&mut cache, &doc);
            prop_assert_eq!(incremental, full(&doc), "text:\n{}", text);
            // The file's blocks, kept per item, match a fresh read.
            if !doc.tree.root_node().has_error() {
                let fresh = FileFacts::extract(Path::new("main.tf"), FileKind::Hcl, doc.text.clone(), Some(&doc.tree));
                let cached: Vec<_> = cache.blocks().into_iter().map(|b| (*b).clone()).collect();
                let fresh_blocks: Vec<_> = fresh.blocks.iter().map(|b| (**b).clone()).collect();
                prop_assert_eq!(cached, fresh_blocks);
            }
        }
    }
}

#[test]
fn a_keystroke_rechecks_one_item() {
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!(
            "resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m{i}\"\n}}\n\n"
        ));
    }
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (_, stats) = incremental(&mut cache, &doc);
    assert!(stats.full);
    // Type inside the name of model 100.
    let line = 100 * 4 + 1;
    let at = svl_analysis::position::LineCol { line, col: 10 };
    let applied = doc.apply_changes(
        &[Change {
            range: Some((at, at)),
            text: "x".into(),
        }],
        Encoding::Utf8,
    );
    for op in &applied.ops {
        cache.apply(op);
    }
    let (findings, stats) = incremental(&mut cache, &doc);
    assert!(!stats.full);
    assert_eq!(
        stats.rechecked, 2,
        "the edited item and the next: {stats:?}"
    );
    assert_eq!(findings.len(), 200);
    assert_eq!(findings, full(&doc));
}
