//! Property test of the partial extraction `check` uses
//! (`FileFacts::extract_needed`): on any text, the findings equal those of
//! a whole-file parse whenever that parse is clean, and on a clean text the
//! blocks it keeps are exactly the whole-file blocks findings read. The
//! lenient split (files over a megabyte) agrees the same way.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::props::{floor, frames};
use proptest::prelude::*;
use svl_analysis::hir::SharedBlock;
use svl_analysis::module::{FileFacts, FileKind};
use svl_analysis::{Finding, Options, syntax};

const SEED: &str = r#"# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- reviewed
resource "aws_subnet" "a" {
  vpc_id = "vpc-1"
  tags   = { Name = "}" }
}
/* a comment { */
locals {
  doc = <<EOT
resource "aws_sagemaker_model" "in_heredoc" {}
}
EOT
  ids = ["${ {a = 1}.a }"]
}

resource "aws_sagemaker_model" "one" {
  name = "one"
}

data "aws_iam_policy_document" "p" {
  statement {
    actions = ["s3:*"]
  }
}
resource "aws_sagemaker_model" "two" {
  vpc_config {
    security_group_ids = ["sg-1"]
    subnets            = local.ids
  }
} # trailing
variable "x" {
  default = []
}
resource aws_sagemaker_model three {
  vpc_config {
    subnets            = var.x
    security_group_ids = ["sg"]
  }
}
module "m" {
  source = "./m"
}
"#;

const PIECES: &[&str] = &[
    "a",
    " ",
    "\n",
    "}",
    "{",
    "\"",
    "=",
    "[]",
    "#",
    "💣",
    "resource \"aws_sagemaker_model\" \"n\" {}\n",
    "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
    "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc\n",
    "vpc_config {\n}\n",
    "subnets = []\n",
    "locals {\n",
    "/*",
    "*/",
    "a = <<EOT\n",
    "EOT\n",
    "//",
    "\\",
    "\\u005f",
    "${",
    "variable \"v\" {\n  default = []\n}\n",
    "output \"o\" {\n  value = 1\n}\n",
    "var.v",
];

fn findings(facts: FileFacts) -> Vec<Finding> {
    let facts = Arc::new(facts);
    svl_analysis::analyze_file(&facts, &frames(&facts), &Options::default())
}

/// Does a quoted string of the whole-file parse span lines?
fn spans_lines(text: &str) -> bool {
    let tree = syntax::parse(text, None);
    let mut cursor = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "quoted_template" | "string_lit")
            && text[node.byte_range()].contains('\n')
        {
            return true;
        }
        stack.extend(node.children(&mut cursor));
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(500), ..ProptestConfig::default() })]

    #[test]
    fn partial_extraction_agrees_with_the_whole_file(
        edits in prop::collection::vec(
            (0.0..=1.0f64, prop_oneof![Just(0.0), 0.0..0.1f64], prop::sample::select(PIECES)),
            0..6,
        )
    ) {
        let mut text = SEED.to_owned();
        for (start, len, piece) in edits {
            let s = floor(&text, (start * text.len() as f64) as usize);
            let e = floor(&text, s + (len * text.len() as f64) as usize);
            text.replace_range(s..e, piece);
        }
        let path = Path::new("main.tf");
        let text = Arc::new(text);
        let full = FileFacts::extract(path, FileKind::Hcl, Arc::clone(&text), None);
        let needed = FileFacts::extract_needed_with(path, FileKind::Hcl, Arc::clone(&text), false, false);
        // The lenient split of large files, on the same text; and of the
        // largest, which leaves out the blocks no other block reads.
        let lenient = FileFacts::extract_needed_with(path, FileKind::Hcl, Arc::clone(&text), true, false);
        let detached = FileFacts::extract_needed_with(path, FileKind::Hcl, Arc::clone(&text), true, true);
        // Read a few chunks at a time (a broken chunk mended with the
        // chunks after it may reach into the next batch), the same facts.
        for (batch, detach) in [(1, false), (2, true), (3, true)] {
            let batched = FileFacts::extract_needed_batched(path, FileKind::Hcl, Arc::clone(&text), true, detach, batch);
            let whole = if detach { &detached } else { &lenient };
            prop_assert_eq!(&batched.blocks, &whole.blocks, "batch {}; text:\n{}", batch, text);
            prop_assert_eq!(&batched.detached, &whole.detached, "batch {}; text:\n{}", batch, text);
        }
        if syntax::parse(&text, None).root_node().has_error() {
            // Recovery from errors is the whole-file parse's business: the
            // partial extraction either fell back to it or parsed blocks
            // that are clean on their own. Both must not panic.
            return Ok(());
        }
        let kept: Vec<_> = full
            .blocks
            .iter()
            .filter(|b| {
                svl_analysis::rules::read_for_findings(&b.kind, b.labels.first().map(|l| l.value.as_str()))
                    || b.comments.iter().any(|(_, c)| c.contains("sagemaker-vpc-lsp:ignore"))
            })
            .map(|b| (**b).clone())
            .collect();
        let partial: Vec<_> = needed.blocks.iter().map(|b| (**b).clone()).collect();
        // The partial read may keep a block the filter above does not name
        // (an escaped label, a directive in a comment it does not attach),
        // never miss one.
        for block in &kept {
            prop_assert!(partial.contains(block), "missing {:?}\ntext:\n{}", block.kind, text);
        }
        prop_assert_eq!(findings(needed), findings(full.clone()), "text:\n{}", text);
        if spans_lines(&text) {
            // tree-sitter-hcl reads a quoted string over several lines as
            // one string; Terraform rejects it, and the lenient split ends
            // it at the line's end, as HCL does: no common ground.
            return Ok(());
        }
        let lenient: Vec<_> = lenient.blocks.iter().map(|b| (**b).clone()).collect();
        for block in &kept {
            prop_assert!(lenient.contains(block), "lenient missed {:?}\ntext:\n{}", block.kind, text);
        }
        // Left out and read again, the blocks are those of the lenient read.
        let mut again: Vec<_> = detached.blocks.iter().map(|b| (**b).clone()).collect();
        again.extend(detached.detached_blocks());
        again.sort_by_key(|b| b.span.start);
        prop_assert_eq!(&again, &lenient, "detached; text:\n{}", text);
        prop_assert_eq!(findings(detached), findings(full.clone()), "detached; text:\n{}", text);
        let lenient_findings = findings(FileFacts::from_parts(
            path,
            FileKind::Hcl,
            Arc::clone(&text),
            lenient.into_iter().map(SharedBlock::new).collect(),
            Vec::new(),
        ));
        prop_assert_eq!(lenient_findings, findings(full), "lenient; text:\n{}", text);
    }
}

/// Long literals are masked in the lenient read (one token instead of one
/// per character): the findings are those of the whole-file parse.
#[test]
fn masked_long_literals_change_no_finding() {
    let long = "x\\\"y".repeat(40_000);
    let text = format!(
        r#"locals {{
  big = "{long}"
  doc = <<EOT
{long}
EOT
}}
resource "aws_sagemaker_model" "named" {{
  name = "{long}"
}}
resource "aws_sagemaker_model" "placed" {{
  vpc_config {{
    subnets            = ["{long}"]
    security_group_ids = [local.big]
  }}
}}
resource "aws_sagemaker_model" "gone" {{
  count = local.big == "x" ? 1 : 0
}}
resource "aws_sagemaker_model" "maybe" {{
  count = local.doc == "" ? 1 : 0
}}
"#
    );
    let path = Path::new("main.tf");
    let text = Arc::new(text);
    let full = findings(FileFacts::extract(
        path,
        FileKind::Hcl,
        Arc::clone(&text),
        None,
    ));
    let lenient = findings(FileFacts::extract_needed_with(
        path,
        FileKind::Hcl,
        Arc::clone(&text),
        true,
        false,
    ));
    assert_eq!(full.len(), 1, "{full:?}");
    assert_eq!(lenient, full);
    let detached =
        FileFacts::extract_needed_with(path, FileKind::Hcl, Arc::clone(&text), true, true);
    // The two models holding a long string are over 64 KiB: held, not
    // parsed twice; the two others are left out.
    assert_eq!(detached.detached.len(), 2);
    assert_eq!(findings(detached), full);
}

/// In the largest files, the blocks no other block reads (the models) are
/// left out of the facts and read again one by one when the file is
/// analyzed: the findings are the whole file's, in every way a model
/// depends on the rest of its module (variables, locals, subnets and
/// security groups, override files, suppression comments, duplicates,
/// endpoints that serve it), and in several instances of the module.
#[test]
fn models_left_out_of_the_facts_are_judged_as_when_held() {
    let main = r#"variable "subnets" {
  default = []
}
locals {
  sgs = ["sg-1"]
}
resource "aws_subnet" "private" {
  vpc_id = "vpc-1"
}
resource "aws_security_group" "model" {
  vpc_id = "vpc-1"
}
resource "aws_sagemaker_model" "outside" {
  name = "outside"
}
resource "aws_sagemaker_model" "empty" {
  vpc_config {
    subnets            = var.subnets
    security_group_ids = local.sgs
  }
}
resource "aws_sagemaker_model" "placed" {
  vpc_config {
    subnets            = [aws_subnet.private.id]
    security_group_ids = [aws_security_group.model.id]
  }
}
# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc:exp:2001-01-01 -- reviewed
resource "aws_sagemaker_model" "expired" {
}
# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- a test model
resource "aws_sagemaker_model" "accepted" {
}
resource "aws_sagemaker_model" "outside" {
  name = "a duplicate"
}
resource "aws_sagemaker_model" "fixed_by_override" {
}
resource "aws_sagemaker_endpoint_configuration" "config" {
  production_variants {
    model_name = aws_sagemaker_model.outside.name
  }
}
"#;
    let over = r#"resource "aws_sagemaker_model" "fixed_by_override" {
  vpc_config {
    subnets            = [aws_subnet.private.id]
    security_group_ids = [aws_security_group.model.id]
  }
}
"#;
    let dir = Path::new("/m");
    let judge = |detach: bool| -> Vec<Finding> {
        let path = dir.join("main.tf");
        let text = Arc::new(main.to_owned());
        let facts = Arc::new(if detach {
            let facts = FileFacts::extract_needed_with(&path, FileKind::Hcl, text, true, true);
            assert_eq!(facts.detached.len(), 7, "{:?}", facts.detached);
            assert!(
                facts
                    .blocks
                    .iter()
                    .all(|b| b.label(0) != Some("aws_sagemaker_model"))
            );
            facts
        } else {
            FileFacts::extract(&path, FileKind::Hcl, text, None)
        });
        let over_path = dir.join("main_override.tf");
        let over = Arc::new(FileFacts::extract(
            &over_path,
            FileKind::Hcl,
            Arc::new(over.to_owned()),
            None,
        ));
        let index = Arc::new(svl_analysis::module::ModuleIndex::new(
            dir.to_path_buf(),
            vec![Arc::clone(&facts), over],
        ));
        let frames = vec![Arc::new(svl_analysis::module::Frame::root(index))];
        svl_analysis::analyze_file(&facts, &frames, &Options::default())
    };
    let held = judge(false);
    let summary = |f: &Finding| {
        (
            f.range.clone(),
            f.rule,
            f.message.to_string(),
            f.suppressed.is_some(),
        )
    };
    assert!(held.len() >= 5, "{held:#?}");
    assert!(held.iter().any(|f| f.suppressed.is_some()), "{held:#?}");
    let in_vpc = |name: &str| {
        held.iter()
            .filter(|f| f.rule == "sagemaker_model_in_vpc" && f.resource.name == name)
            .count()
    };
    assert_eq!(
        in_vpc("placed") + in_vpc("fixed_by_override"),
        0,
        "{held:#?}"
    );
    assert_eq!(in_vpc("outside"), 2, "{held:#?}");
    assert_eq!(in_vpc("expired"), 1, "{held:#?}");
    assert!(
        held.iter().any(|f| f.rule == "expired_suppression"),
        "{held:#?}"
    );
    // The pitfall rules read the subnet and the security group.
    assert!(
        held.iter()
            .any(|f| f.rule != "sagemaker_model_in_vpc" && f.resource.name == "placed")
    );
    assert_eq!(
        judge(true).iter().map(summary).collect::<Vec<_>>(),
        held.iter().map(summary).collect::<Vec<_>>()
    );
    assert_eq!(judge(true), held);
}

/// A `.tf.json` file over a megabyte has its long strings masked too, and
/// their values read back exactly: a masked subnet id is not empty, and a
/// count over a masked local's length is evaluated.
#[test]
fn masked_long_json_strings_keep_their_values() {
    let long = "x\\\"y".repeat(20_000); // 60,000 characters once decoded
    let text = format!(
        r#"{{
  "locals": {{"big": "{long}"}},
  "resource": {{"aws_sagemaker_model": {{
    "named": {{"name": "{long}"}},
    "placed": {{"vpc_config": {{"subnets": ["{long}"], "security_group_ids": ["sg"]}}}},
    "gone": {{"count": "${{length(local.big) == 60000 ? 0 : 1}}"}},
    "padding": {{"name": "x", "tags": {{"a": "{pad}", "b": "{pad}"}}}}
  }}}}
}}
"#,
        pad = "p".repeat(600_000)
    );
    assert!(text.len() > 1024 * 1024);
    let path = Path::new("main.tf.json");
    let found = findings(FileFacts::extract(
        path,
        FileKind::Json,
        Arc::new(text),
        None,
    ));
    let names: Vec<&str> = found.iter().map(|f| f.resource.name.as_str()).collect();
    assert_eq!(names, ["named", "padding"], "{found:?}");
}

/// A `${` in a block's label is text to tree-sitter-hcl (a label is no
/// template) and an interpolation to the lexical split, which then ends
/// the label at the line's end and loses the block's `{`: the chunk does
/// not parse on its own, and is mended by joining the chunks after it. In
/// a short text too, however many chunks that takes within the window:
/// the module call after it was lost when the mend's budget was the
/// text's length. (Each of the block's nested blocks is a chunk of the
/// split: the mend joins four.)
#[test]
fn a_label_the_split_reads_otherwise_is_mended_in_a_short_text() {
    let text = r#"data "aws_iam_policy_${document" "p" {
  statement {
    actions = ["s3:GetObject"]
  }
  statement {
    actions = ["s3:PutObject"]
  }
  statement {
    actions = ["s3:ListBucket"]
  }
}
module "m" {
  source = "./m"
}
"#;
    assert!(!syntax::parse(text, None).root_node().has_error());
    let path = Path::new("main.tf");
    let text = Arc::new(text.to_owned());
    let full = FileFacts::extract(path, FileKind::Hcl, Arc::clone(&text), None);
    let lenient =
        FileFacts::extract_needed_with(path, FileKind::Hcl, Arc::clone(&text), true, false);
    let kinds = |facts: &FileFacts| -> Vec<String> {
        facts.blocks.iter().map(|b| b.kind.to_string()).collect()
    };
    assert_eq!(kinds(&full), ["data", "module"]);
    assert_eq!(kinds(&lenient), kinds(&full));
    assert_eq!(lenient.blocks, full.blocks);
}
