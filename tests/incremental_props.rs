//! Property test of incremental analysis: after any sequence of edits, the
//! findings reused from the per-item cache must equal a full analysis of the
//! text, finding for finding.
#![allow(clippy::unwrap_used)]

mod common;

use common::props::{floor, frames, frames_following};
use proptest::prelude::*;
use ropey::Rope;
use std::path::Path;
use std::sync::Arc;
use svl_analysis::document::{Change, Document};

use svl_analysis::incremental::{Incremental, Stats};
use svl_analysis::module::{FileFacts, FileKind};
use svl_analysis::position::{Encoding, to_line_col, ts_point};
use svl_analysis::{Finding, Findings, Options};

const SEED: &str = r#"resource "aws_subnet" "a" {
  vpc_id = "vpc-1"
  availability_zone = "us-east-1a"
}
resource "aws_subnet" "b" {
  vpc_id = "vpc-1"
  availability_zone = "us-east-1a"
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
resource "aws_sagemaker_model" "four" {
  vpc_config {
    subnets = [aws_subnet.a.id, aws_subnet.b.id]
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
    "a = [\n  1,\n]\n",
    "b = 1 # c\n",
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
    "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test\n",
    "/* sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test */",
];

/// What the server does: the cache, brought up to date from the edited
/// stretches alone when they parse on their own, else from the whole tree;
/// a full analysis when the tree has errors. Returns whether the stretches
/// served.
fn incremental(cache: &mut Incremental, doc: &Document) -> (Vec<Finding>, Stats, bool) {
    let (findings, stats, served) = incremental_runs(cache, doc);
    (findings.to_vec(), stats, served)
}

/// [`incremental`]'s findings as the cache gives them: in runs, shared.
fn incremental_runs(cache: &mut Incremental, doc: &Document) -> (Findings, Stats, bool) {
    let path = Path::new("main.tf");
    let options = Options::default();
    let tree = doc.lazy_tree();
    let by_text = match tree.ready() {
        Some(_) => None,
        None => cache.sync_text(&doc.text, &|b| ts_point(&doc.rope, b)),
    };
    let served = by_text.is_some();
    let sync = by_text.unwrap_or_else(|| cache.sync(&doc.text, tree.get(&doc.text)));
    if !sync.usable {
        let facts = Arc::new(FileFacts::extract(
            path,
            FileKind::Hcl,
            doc.text.clone(),
            Some(tree.get(&doc.text)),
        ));
        let stats = Stats {
            full: true,
            ..Stats::default()
        };
        return (
            svl_analysis::analyze_file(&facts, &frames(&facts), &options).into(),
            stats,
            served,
        );
    }
    let facts = Arc::new(cache.facts(path, FileKind::Hcl, doc.text.clone()));
    // The hashes kept per item make the same facts as hashing every block.
    let hashed = FileFacts::from_parts(
        path,
        FileKind::Hcl,
        doc.text.clone(),
        cache.blocks(),
        Vec::new(),
    );
    assert_eq!(facts.semantic, hashed.semantic);
    let frames = frames_following(&facts);
    let fingerprint = frames[0].fingerprint();
    let (findings, stats) = cache.check(fingerprint, Some(&frames[0].index), |block| {
        svl_analysis::analyze_block(path, block, &frames, &options)
    });
    (findings, stats, served)
}

/// The document's tree if something parsed it (an analysis that fell back
/// to the whole text: with errors, recovery depends on the previous tree),
/// else a fresh parse (equal to it for a text without errors), leaving the
/// document's tree unparsed, as in the server until a code action asks.
fn whole_tree(doc: &Document) -> tree_sitter::Tree {
    let tree = doc.lazy_tree();
    match tree.ready() {
        Some(t) => t.clone(),
        None => svl_analysis::syntax::parse(&doc.text, None),
    }
}

/// A full analysis of the document (no cache), with the document's tree
/// (re-parsed from its edited tree, as the server would, but not kept: the
/// edits of several notifications pile up on it, as in the server while the
/// stretches serve).
fn full(doc: &Document) -> Vec<Finding> {
    let facts = Arc::new(FileFacts::extract(
        Path::new("main.tf"),
        FileKind::Hcl,
        doc.text.clone(),
        Some(&whole_tree(doc)),
    ));
    svl_analysis::analyze_file(&facts, &frames(&facts), &Options::default())
}

/// One notification of `edits` (each at a fraction of the text, of a
/// fraction of its length, replaced by a piece), each against the text the
/// one before left: applied to `text`, to the document, and told `cache`.
fn notify(
    text: &mut String,
    doc: &mut Document,
    cache: &mut Incremental,
    edits: &[(f64, f64, &str)],
) {
    let mut changes = Vec::new();
    for &(start, len, piece) in edits {
        let s = floor(text, (start * text.len() as f64) as usize);
        let e = floor(text, s + (len * text.len() as f64) as usize);
        let rope = Rope::from_str(text);
        changes.push(Change {
            range: Some((
                to_line_col(&rope, s, Encoding::Utf8),
                to_line_col(&rope, e, Encoding::Utf8),
            )),
            text: piece.to_owned(),
        });
        text.replace_range(s..e, piece);
    }
    let applied = doc.apply_changes(&changes, Encoding::Utf8);
    for op in &applied.ops {
        cache.apply(op);
    }
}

/// Up to 14 notifications of 1 to 3 edits each (see [`notify`]).
fn notifications() -> impl Strategy<Value = Vec<Vec<(f64, f64, &'static str)>>> {
    prop::collection::vec(
        prop::collection::vec(
            (
                0.0..=1.0f64,
                prop_oneof![Just(0.0), 0.0..0.1f64],
                prop::sample::select(PIECES),
            ),
            1..4,
        ),
        1..15,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(500), ..ProptestConfig::default() })]

    #[test]
    fn incremental_findings_equal_full_analysis(
        notifications in notifications()
    ) {
        let mut text = SEED.to_owned();
        let mut doc = Document::new(&text, 0);
        let mut cache = Incremental::default();
        let (first, _, _) = incremental(&mut cache, &doc);
        prop_assert_eq!(first, full(&doc));
        for edits in notifications {
            notify(&mut text, &mut doc, &mut cache, &edits);
            // With the module's facts (this file's variables and locals), as
            // the server analyses: a changed variable re-checks everything.
            let (incremental, _, _) = incremental(&mut cache, &doc);
            prop_assert_eq!(incremental, full(&doc), "text:\n{}", text);
            // The file's blocks, kept per item, match a fresh read.
            let tree = whole_tree(&doc);
            if !tree.root_node().has_error() {
                let fresh = FileFacts::extract(Path::new("main.tf"), FileKind::Hcl, doc.text.clone(), Some(&tree));
                let cached: Vec<_> = cache.blocks().into_iter().map(|b| (*b).clone()).collect();
                let fresh_blocks: Vec<_> = fresh.blocks.iter().map(|b| (**b).clone()).collect();
                // A block Terraform rejects too, with the headers it may hide.
                prop_assert_eq!(cached, fresh_blocks, "text:\n{}", text);
            }
        }
    }
}

/// What `check` makes of the document read as it reads any file over
/// 1 MB: chunk by chunk ([`FileFacts::extract_needed_with`], lenient), the
/// facts and the findings.
fn check_large(doc: &Document) -> (Arc<FileFacts>, Vec<Finding>) {
    let facts = Arc::new(FileFacts::extract_needed_with(
        Path::new("main.tf"),
        FileKind::Hcl,
        doc.text.clone(),
        true,
        false,
    ));
    let findings = svl_analysis::analyze_file(&facts, &frames(&facts), &Options::default());
    (facts, findings)
}

/// What the server does with a large file (`cache` reads leniently any
/// file): the cache follows the edited blocks, or the text is read as
/// `check` reads it, and the findings of the chunks an edit left are kept.
/// The findings, and the facts of a lenient read.
fn server_large(cache: &mut Incremental, doc: &Document) -> (Vec<Finding>, Option<Arc<FileFacts>>) {
    let path = Path::new("main.tf");
    let tree = doc.lazy_tree();
    let (sync, lenient) = cache.follow(path, &doc.text, &tree, &|b| ts_point(&doc.rope, b));
    if let Some(facts) = lenient {
        // Checked as the server checks it: the chunks' findings kept.
        let facts = Arc::new(facts);
        let frames = frames(&facts);
        let (findings, _) = cache.check(frames[0].fingerprint(), None, |block| {
            svl_analysis::analyze_block(path, block, &frames, &Options::default())
        });
        return (findings.to_vec(), Some(facts));
    }
    assert!(sync.usable, "a large file is followed or read leniently");
    assert!(tree.ready().is_none(), "never parsed whole");
    let facts = Arc::new(cache.facts(path, FileKind::Hcl, doc.text.clone()));
    let frames = frames_following(&facts);
    let (findings, _) = cache.check(frames[0].fingerprint(), Some(&frames[0].index), |block| {
        svl_analysis::analyze_block(path, block, &frames, &Options::default())
    });
    (findings.to_vec(), None)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(500), ..ProptestConfig::default() })]

    /// A large file is never parsed whole, and the server's findings for it
    /// are `check`'s, broken or not: followed block by block only where
    /// tree-sitter reads the blocks the lenient split finds; else read
    /// leniently, reusing the chunks the last read read, and their findings
    /// (`LenientMemo`): the same blocks as a fresh read, block for block.
    #[test]
    fn a_large_file_reads_as_check_reads_it(
        notifications in notifications()
    ) {
        let mut text = SEED.to_owned();
        let mut doc = Document::new(&text, 0);
        let mut cache = Incremental::default().reading_leniently_above(0);
        for edits in std::iter::once(Vec::new()).chain(notifications) {
            notify(&mut text, &mut doc, &mut cache, &edits);
            let (findings, lenient) = server_large(&mut cache, &doc);
            let (facts, expected) = check_large(&doc);
            prop_assert_eq!(findings, expected, "text:\n{}", text);
            if let Some(read) = lenient {
                let blocks: Vec<_> = read.blocks.iter().map(|b| (**b).clone()).collect();
                let fresh: Vec<_> = facts.blocks.iter().map(|b| (**b).clone()).collect();
                prop_assert_eq!(blocks, fresh, "text:\n{}", text);
                // The hashes kept with the blocks make the facts' hash.
                let hashed = FileFacts::from_parts(
                    Path::new("main.tf"),
                    FileKind::Hcl,
                    doc.text.clone(),
                    read.blocks.clone(),
                    Vec::new(),
                );
                prop_assert_eq!(read.semantic, hashed.semantic);
            }
        }
    }
}

/// `n` models `m0`, `m1`… a blank line apart, each header starting with
/// `keyword(i)` (`resource`, or a word Terraform rejects).
fn models(n: usize, keyword: impl Fn(usize) -> &'static str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{} \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m{i}\"\n}}\n\n",
                keyword(i)
            )
        })
        .collect()
}

#[test]
fn a_keystroke_rechecks_one_item() {
    let text = models(200, |_| "resource");
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (_, stats, _) = incremental(&mut cache, &doc);
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
    let (findings, stats, served) = incremental(&mut cache, &doc);
    assert!(served, "the edited block parses on its own");
    assert!(
        doc.lazy_tree().ready().is_none(),
        "nothing parsed the whole text"
    );
    assert!(!stats.full);
    assert_eq!(
        stats.rechecked, 1,
        "the edited item alone (a blank line before the next): {stats:?}"
    );
    assert_eq!(findings.len(), 200);
    assert_eq!(findings, full(&doc));
    // The blocks after the edit moved without being copied: nothing the
    // keystroke's analysis read needed their new positions.
    let blocks = cache.blocks();
    assert_eq!(blocks.len(), 200);
    let copied = blocks[102..].iter().filter(|b| b.is_placed()).count();
    assert_eq!(copied, 0, "moved blocks copied by the keystroke");
    // Read, they are where the text says.
    let block = &blocks[150];
    let header = "resource \"aws_sagemaker_model\" \"m150\"";
    assert_eq!(doc.text.find(header), Some(block.span.start));
    assert!(block.is_placed());
}

/// A module of 3 subnets and 30 models, model `i` in subnet `i % 3`, each
/// reporting its one availability zone.
fn subnets_and_models() -> String {
    let mut text = String::from("variable \"tags\" {\n  default = {}\n}\n\n");
    for s in 0..3 {
        text.push_str(&format!(
            "resource \"aws_subnet\" \"s{s}\" {{\n  vpc_id            = \"vpc-1\"\n  availability_zone = \"eu-west-1a\"\n}}\n\n"
        ));
    }
    for i in 0..30 {
        text.push_str(&format!(
            "resource \"aws_sagemaker_model\" \"m{i}\" {{\n  vpc_config {{\n    security_group_ids = [\"sg-1\"]\n    subnets            = [aws_subnet.s{}.id]\n  }}\n}}\n\n",
            i % 3
        ));
    }
    text
}

/// Types `piece` after the first `after` at or past `from` in the document.
fn type_after(doc: &mut Document, cache: &mut Incremental, after: &str, from: usize, piece: &str) {
    let at = doc.text[from..].find(after).unwrap() + from + after.len();
    type_at(doc, cache, at, piece);
}

/// A keystroke in a block other blocks read changes the module's facts:
/// the items that read that block are checked again, and only they.
#[test]
fn typing_in_a_subnet_rechecks_only_the_models_that_read_it() {
    let text = subnets_and_models();
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (findings, stats, _) = incremental(&mut cache, &doc);
    assert!(stats.full);
    assert_eq!(findings, full(&doc));
    assert!(
        findings.iter().any(|f| f.message.contains("eu-west-1a")),
        "each model is told its zone: {findings:#?}"
    );
    // The zone of subnet 1, read by models 1, 4, …, 28.
    let s1 = doc.text.find("\"s1\"").unwrap();
    type_after(&mut doc, &mut cache, "eu-west-1", s1, "b");
    let (findings, stats, _) = incremental(&mut cache, &doc);
    assert_eq!(findings, full(&doc));
    assert!(findings.iter().any(|f| f.message.contains("eu-west-1ba")));
    assert!(!stats.full, "{stats:?}");
    // The subnet (read again) and the ten models.
    assert_eq!(stats.rechecked, 11, "{stats:?}");
    assert_eq!(stats.reused, 34 - 11, "{stats:?}");
    // A keystroke in a model re-checks it alone, as before.
    let m7 = doc.text.find("\"m7\"").unwrap();
    type_after(&mut doc, &mut cache, "sg-", m7, "2");
    let (findings, stats, _) = incremental(&mut cache, &doc);
    assert_eq!(findings, full(&doc));
    assert_eq!((stats.full, stats.rechecked), (false, 1), "{stats:?}");
    // A variable may be read by anything without a record: all of them.
    type_after(&mut doc, &mut cache, "default = {", 0, " a = 1 ");
    let (findings, stats, _) = incremental(&mut cache, &doc);
    assert_eq!(findings, full(&doc));
    assert!(stats.full, "{stats:?}");
    // So is a subnet renamed (the module's keys change).
    type_after(&mut doc, &mut cache, "\"s2", 0, "x");
    let (findings, stats, _) = incremental(&mut cache, &doc);
    assert_eq!(findings, full(&doc));
    assert!(stats.full, "{stats:?}");
}

/// A model in one file and the subnets it is placed in in another: an
/// edit of that file that changes one subnet and moves the next (a line
/// added above it) makes again the finding of the model that reads only
/// the moved one, whose related place points into that file.
#[test]
fn a_related_place_in_another_file_that_moved_is_placed_again() {
    use svl_analysis::module::{Frame, ModuleIndex};
    let folder = Path::new("/m");
    let network = |extra: &str| {
        format!(
            "resource \"aws_subnet\" \"x\" {{\n  availability_zone = \"eu-west-1a\"\n{extra}}}\n\nresource \"aws_subnet\" \"y\" {{\n  availability_zone = \"eu-west-1b\"\n}}\n"
        )
    };
    let facts = |name: &str, text: String| {
        Arc::new(FileFacts::extract(
            &folder.join(name),
            FileKind::Hcl,
            Arc::new(text),
            None,
        ))
    };
    let main = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = [\"sg-1\"]\n    subnets            = [aws_subnet.y.id]\n  }\n}\n";
    let doc = Document::new(main, 0);
    let mut cache = Incremental::default();
    let main_path = folder.join("main.tf");
    assert!(
        cache
            .sync_text(&doc.text, &|b| ts_point(&doc.rope, b))
            .unwrap()
            .usable
    );
    let main_facts = Arc::new(cache.facts(&main_path, FileKind::Hcl, doc.text.clone()));
    let mut check = |index: &Arc<ModuleIndex>| {
        let frames = vec![Arc::new(Frame::root(Arc::clone(index)))];
        let (findings, stats) = cache.check(frames[0].fingerprint(), Some(index), |block| {
            svl_analysis::analyze_block(&main_path, block, &frames, &Options::default())
        });
        let full = svl_analysis::analyze_file(&main_facts, &frames, &Options::default());
        (findings.to_vec(), full, stats)
    };
    let index = Arc::new(ModuleIndex::new(
        folder.to_path_buf(),
        vec![Arc::clone(&main_facts), facts("network.tf", network(""))],
    ));
    let (findings, full, _) = check(&index);
    assert_eq!(findings, full);
    assert!(
        findings
            .iter()
            .flat_map(|f| &f.related)
            .any(|r| r.path.as_deref() == Some(&*folder.join("network.tf"))),
        "{findings:#?}"
    );
    let edited = facts("network.tf", network("  map_public_ip_on_launch = false\n"));
    let first = Arc::clone(&index);
    let index = Arc::new(index.replacing(edited).unwrap());
    let (findings, full, stats) = check(&index);
    assert!(!stats.full, "the module's keys are the same");
    assert_eq!(findings, full);
    // The index the check replaced is handed over (to be freed elsewhere).
    let replaced = cache.replaced_index().unwrap();
    assert!(Arc::ptr_eq(&replaced, &first));
    assert!(cache.replaced_index().is_none());
}

/// A word typed above a block glues to it: a block Terraform rejects
/// (`x resource "aws_sagemaker_model" "m5" {`), whose labels hide a model
/// that is not checked, and a misspelt one (`resourc …`). The cache serves
/// such a tree: a keystroke elsewhere reads its own block again, not the
/// whole file, and the findings are those of a full analysis.
#[test]
fn a_keystroke_beside_a_block_terraform_rejects_rechecks_one_item() {
    let text = models(20, |i| match i {
        5 => "x resource",
        9 => "resourc",
        12 => "a{}\n\nresource",
        _ => "resource",
    });
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (first, stats, served) = incremental(&mut cache, &doc);
    assert!(served, "read by stretches");
    // 20 models (two of them hidden in rejected headers) and `a{}`.
    assert!(stats.full && stats.rechecked == 21, "{stats:?}");
    assert_eq!(first, full(&doc));
    let not_checked = |findings: &[Finding]| {
        findings
            .iter()
            .filter(|f| f.problem == svl_analysis::Problem::NotChecked)
            .map(|f| f.resource.address())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        not_checked(&first),
        ["aws_sagemaker_model.m5", "aws_sagemaker_model.m9"],
        "the models hidden in rejected headers"
    );
    // Type inside the name of model 16 (lines of four, `a{}` and a blank
    // line before it).
    let line = 16 * 4 + 2 + 1;
    assert!(doc.text.lines().nth(line).unwrap().contains("m16"));
    let at = doc.rope.line_to_byte(line) + 10;
    type_at(&mut doc, &mut cache, at, "x");
    let (findings, stats, served) = incremental(&mut cache, &doc);
    assert!(served, "the edited block parses on its own");
    assert!(!stats.full, "{stats:?}");
    assert_eq!(stats.rechecked, 1, "{stats:?}");
    assert_eq!(findings, full(&doc));
    assert_eq!(not_checked(&findings), not_checked(&first));
    // Typing in the rejected header's hidden model reads that item again.
    let at = doc.text.find("\"m5\"").unwrap() + 3;
    type_at(&mut doc, &mut cache, at, "y");
    let (findings, stats, served) = incremental(&mut cache, &doc);
    assert!(served && !stats.full, "{stats:?}");
    assert_eq!(findings, full(&doc));
    assert!(not_checked(&findings).contains(&"aws_sagemaker_model.m5y".to_owned()));
}

/// While the file has a syntax error the text is not split again at every
/// keystroke (a scan of all of it that fails while the error is there):
/// the edited whole tree is re-parsed, and it tells when the error is gone.
/// A text replaced whole is split again.
#[test]
fn a_file_with_a_syntax_error_is_not_split_at_every_keystroke() {
    let text = models(50, |_| "resource");
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (_, _, served) = incremental(&mut cache, &doc);
    assert!(served, "a clean file opens by stretches");
    // An unclosed block at the end: a syntax error.
    let end = doc.text.len();
    type_at(
        &mut doc,
        &mut cache,
        end,
        "resource \"aws_s3_bucket\" \"b\" {\n",
    );
    let (findings, stats, served) = incremental(&mut cache, &doc);
    assert!(!served && stats.full);
    assert_eq!(findings, full(&doc));
    // A keystroke elsewhere, the error still there.
    type_at(&mut doc, &mut cache, 34, "x");
    let (findings, _, served) = incremental(&mut cache, &doc);
    assert!(!served, "the text was split and read by stretches again");
    assert_eq!(findings, full(&doc));
    // The block closed: the clean tree comes from the edited one, and the
    // cache serves the next keystroke by stretches.
    let end = doc.text.len();
    type_at(&mut doc, &mut cache, end, "}\n");
    let (findings, stats, served) = incremental(&mut cache, &doc);
    assert!(!served && stats.full);
    assert_eq!(findings, full(&doc));
    type_at(&mut doc, &mut cache, 34, "y");
    let (findings, stats, served) = incremental(&mut cache, &doc);
    assert!(served && !stats.full && stats.rechecked == 1, "{stats:?}");
    assert_eq!(findings, full(&doc));
    // Broken again, then replaced whole by a clean text: split again.
    let end = doc.text.len();
    type_at(&mut doc, &mut cache, end, "{");
    assert!(!incremental(&mut cache, &doc).2);
    for op in &doc
        .apply_changes(
            &[Change {
                range: None,
                text: text.clone(),
            }],
            Encoding::Utf8,
        )
        .ops
    {
        cache.apply(op);
    }
    let (findings, _, served) = incremental(&mut cache, &doc);
    assert!(served, "a text replaced whole is read by stretches");
    assert_eq!(findings, full(&doc));
}

/// A keystroke copies no finding it does not change: the findings of the
/// items before it are kept as they were, those after it move in runs, one
/// per item, shared with the last analysis; a finding with a related place
/// on the other side of the edit is copied, and follows it.
#[test]
fn a_keystroke_copies_no_finding_it_leaves() {
    let subnet = "resource \"aws_subnet\" \"s\" {\n  vpc_id = \"v\"\n  availability_zone = \"us-east-1a\"\n}\n\n";
    let mut text = subnet.to_owned();
    text.push_str(&models(50, |_| "resource"));
    // Reads the subnet, at the top: its related place is before any edit
    // below.
    text.push_str("resource \"aws_sagemaker_model\" \"inside\" {\n  vpc_config {\n    subnets = [aws_subnet.s.id]\n    security_group_ids = [\"sg-1\"]\n  }\n}\n");
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (before, _, _) = incremental_runs(&mut cache, &doc);
    assert_eq!(before.runs().len(), 51, "a run per model with a finding");
    let at = doc.text.find("\"m20\"\n").unwrap() + 2;
    type_at(&mut doc, &mut cache, at, "x");
    let (after, stats, _) = incremental_runs(&mut cache, &doc);
    assert_eq!(stats.rechecked, 1, "{stats:?}");
    assert_eq!(after.to_vec(), full(&doc));
    let shared: Vec<bool> = before
        .runs()
        .iter()
        .zip(after.runs())
        .map(|(b, a)| a.shares(b))
        .collect();
    let expected: Vec<bool> = (0..51).map(|i| i != 20 && i != 50).collect();
    assert_eq!(shared, expected, "which runs were shared");
    // The last model's finding, copied, points at the subnet where it is.
    let inside = after.runs()[50].to_vec();
    let related = &inside
        .iter()
        .find(|f| !f.related.is_empty())
        .expect("a related place")
        .related;
    assert!(
        related.iter().any(|r| r.range.start < subnet.len()),
        "{related:?}"
    );
}

#[test]
fn the_next_block_is_read_again_when_the_edit_may_change_its_comment() {
    let model =
        |i: usize| format!("resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m{i}\"\n}}\n");
    let suppress = "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test";
    // Typing into a block, then into the line above the next one, with
    // the blocks apart by a blank line, by none, and by a comment (read
    // again: the comment before the block, the block, the comment after it
    // and the next block).
    for (gap, rechecked) in [("\n", 1), ("", 2), ("# a note\n", 4)] {
        let text: String = (0..5).map(|i| model(i) + gap).collect();
        let mut doc = Document::new(&text, 0);
        let mut cache = Incremental::default();
        incremental(&mut cache, &doc);
        let at = doc.text.find("\"m2\"\n").unwrap() + 2;
        type_at(&mut doc, &mut cache, at, "x");
        let (findings, stats, served) = incremental(&mut cache, &doc);
        assert!(served, "{gap:?}");
        assert_eq!(stats.rechecked, rechecked, "{gap:?}: {stats:?}");
        assert_eq!(findings, full(&doc), "{gap:?}");
        // A suppression typed at the end of the line above `m3` (the blank
        // line, or after `m2`'s brace; after the note it is part of the
        // note), `m3` itself untouched: `m3` reads it.
        let header = doc
            .text
            .find("resource \"aws_sagemaker_model\" \"m3\"")
            .unwrap();
        type_at(&mut doc, &mut cache, header - 1, suppress);
        let (findings, _, _) = incremental(&mut cache, &doc);
        assert_eq!(findings, full(&doc), "{gap:?}:\n{}", doc.text);
        let m3 = findings
            .iter()
            .find(|f| f.resource.name.as_str() == "m3")
            .unwrap();
        assert_eq!(
            m3.suppressed.is_some(),
            !gap.starts_with('#'),
            "{gap:?}:\n{}",
            doc.text
        );
    }
    // A suppression deleted from the line above `m3`, leaving it blank.
    let text: String = (0..5)
        .map(|i| match i {
            3 => format!("{suppress}\n{}\n", model(i)),
            _ => model(i) + "\n",
        })
        .collect();
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (findings, _, _) = incremental(&mut cache, &doc);
    assert_eq!(
        findings.iter().filter(|f| f.suppressed.is_some()).count(),
        1
    );
    let at = doc.text.find(suppress).unwrap();
    let (start, end) = (
        to_line_col(&doc.rope, at, Encoding::Utf8),
        to_line_col(&doc.rope, at + suppress.len(), Encoding::Utf8),
    );
    let applied = doc.apply_changes(
        &[Change {
            range: Some((start, end)),
            text: String::new(),
        }],
        Encoding::Utf8,
    );
    for op in &applied.ops {
        cache.apply(op);
    }
    let (findings, _, served) = incremental(&mut cache, &doc);
    assert!(served);
    assert_eq!(findings, full(&doc), "{}", doc.text);
    assert!(
        findings.iter().all(|f| f.suppressed.is_none()),
        "{}",
        doc.text
    );
}

/// Types `piece` at byte `at` and brings the cache up to date.
fn type_at(doc: &mut Document, cache: &mut Incremental, at: usize, piece: &str) {
    let pos = to_line_col(&doc.rope, at, Encoding::Utf8);
    let applied = doc.apply_changes(
        &[Change {
            range: Some((pos, pos)),
            text: piece.into(),
        }],
        Encoding::Utf8,
    );
    for op in &applied.ops {
        cache.apply(op);
    }
}

#[test]
fn what_may_reach_past_the_edited_block_takes_the_whole_tree() {
    let text = "resource \"aws_sagemaker_model\" \"a\" {\n}\n\nresource \"aws_sagemaker_model\" \"b\" {\n}\n\nresource \"aws_sagemaker_model\" \"c\" {\n}\n";
    // An opened string, heredoc or comment, or a brace, may swallow the
    // blocks after the edited one: a parse of that block alone cannot say.
    for piece in ["\"", "/*", "x = <<EOT\n", "{", "}"] {
        let mut doc = Document::new(text, 0);
        let mut cache = Incremental::default();
        incremental(&mut cache, &doc);
        let at = text.find("\"b\" {\n").unwrap() + 6;
        type_at(&mut doc, &mut cache, at, piece);
        let (findings, _, served) = incremental(&mut cache, &doc);
        assert!(!served, "{piece:?} was judged from the edited block alone");
        assert_eq!(findings, full(&doc), "{piece:?}");
    }
    // Ordinary typing inside a block is read from that block.
    let mut doc = Document::new(text, 0);
    let mut cache = Incremental::default();
    incremental(&mut cache, &doc);
    let at = text.find("\"b\"").unwrap() + 2;
    type_at(&mut doc, &mut cache, at, "x");
    let (findings, _, served) = incremental(&mut cache, &doc);
    assert!(served);
    assert_eq!(findings, full(&doc));
}

#[test]
fn a_suppression_typed_above_a_block_is_read_with_it() {
    let text = "resource \"aws_sagemaker_model\" \"a\" {\n}\n\n# note\nresource \"aws_sagemaker_model\" \"b\" {\n}\n";
    let mut doc = Document::new(text, 0);
    let mut cache = Incremental::default();
    let (before, _, _) = incremental(&mut cache, &doc);
    assert_eq!(before.iter().filter(|f| f.suppressed.is_some()).count(), 0);
    // Turn the comment above `b` into a suppression of its finding.
    let at = text.find("# note").unwrap() + 2;
    type_at(
        &mut doc,
        &mut cache,
        at,
        "sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test ",
    );
    let (after, _, served) = incremental(&mut cache, &doc);
    assert!(served);
    assert_eq!(after, full(&doc));
    assert_eq!(after.iter().filter(|f| f.suppressed.is_some()).count(), 1);
}

/// Edits that keep a file well formed, as most typing does: a character in
/// a string, a line or a block inserted at a line start, a line removed
/// when what is left still parses. Most are read from the edited stretch
/// alone (`sync_text`), which the edits of `incremental_findings_equal_full_analysis`
/// rarely allow.
fn well_formed_edit(
    text: &str,
    at: f64,
    kind: usize,
    piece: &str,
) -> Option<(usize, usize, String)> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i <= text.len())
        .collect();
    let line = line_starts[((at * line_starts.len() as f64) as usize).min(line_starts.len() - 1)];
    match kind {
        // A character after an opening quote.
        0 => {
            let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i + 1).collect();
            let q =
                *quotes.get(((at * quotes.len() as f64) as usize).min(quotes.len().max(1) - 1))?;
            Some((q, q, "z".to_owned()))
        }
        // A line (a block, a comment, an attribute) at a line start.
        1 => Some((line, line, piece.to_owned())),
        // A whole line removed.
        _ => {
            let end = text[line..].find('\n').map_or(text.len(), |i| line + i + 1);
            Some((line, end, String::new()))
        }
    }
}

/// Applies the [`well_formed_edit`] to `text`, the document and the cache,
/// unless it leaves a syntax error (which the cache does not serve): then
/// nothing changes and it says so.
fn apply_well_formed(
    text: &mut String,
    doc: &mut Document,
    cache: &mut Incremental,
    at: f64,
    kind: usize,
    piece: &str,
) -> bool {
    well_formed_edit(text, at, kind, piece)
        .is_some_and(|edit| apply_parsing(text, doc, cache, edit))
}

/// Replaces `s..e` of `text` with `insert` in `text`, the document and the
/// cache, unless that leaves a syntax error: then nothing changes, and it
/// says so.
fn apply_parsing(
    text: &mut String,
    doc: &mut Document,
    cache: &mut Incremental,
    (s, e, insert): (usize, usize, String),
) -> bool {
    let mut next = text.clone();
    next.replace_range(s..e, &insert);
    if svl_analysis::syntax::parse(&next, None)
        .root_node()
        .has_error()
    {
        return false;
    }
    let rope = Rope::from_str(text);
    let change = Change {
        range: Some((
            to_line_col(&rope, s, Encoding::Utf8),
            to_line_col(&rope, e, Encoding::Utf8),
        )),
        text: insert,
    };
    *text = next;
    for op in &doc.apply_changes(&[change], Encoding::Utf8).ops {
        cache.apply(op);
    }
    true
}

const LINES: &[&str] = &[
    "resource \"aws_sagemaker_model\" \"n\" {}\n",
    "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets = []\n  }\n}\n",
    "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test\n",
    "# a comment\n",
    "  subnets = []\n",
    "  name = \"x\"\n",
    "variable \"v\" {\n  default = []\n}\n",
    "\n",
];

/// Words typed at the start of a line glue to the block below as its type
/// or labels: blocks Terraform rejects, whose headers may hide resources.
const WORDS: &[&str] = &[
    "a ",
    "x",
    "resourc",
    "resource ",
    "data ",
    "aws_sagemaker_model ",
    "\"aws_sagemaker_model\" \"q\" ",
    "resource \"aws_sagemaker_model\" \"r\" ",
    "a{}\n",
    "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- test\n",
    "\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(300), ..ProptestConfig::default() })]

    #[test]
    fn well_formed_typing_read_by_stretch_equals_full_analysis(
        edits in prop::collection::vec((0.0..1.0f64, 0..3usize, prop::sample::select(LINES)), 1..25)
    ) {
        well_formed_typing_equals_full_read(edits, false)?;
    }

    #[test]
    fn blocks_terraform_rejects_read_by_stretch_equal_full_analysis(
        edits in prop::collection::vec((0.0..1.0f64, 0..3usize, prop::sample::select(WORDS)), 1..25)
    ) {
        // A word at a line start, a character in a string, a line gone.
        well_formed_typing_equals_full_read(edits, true)?;
    }
}

/// The bundled examples in one file: models placed in subnets, security
/// groups, route tables and endpoints of two VPCs, which the pitfall rules
/// read across blocks.
fn network_seed() -> String {
    [
        include_str!("../examples/network.tf"),
        include_str!("../examples/main.tf"),
    ]
    .concat()
}

/// Values an argument of a block may be set to: zones, flags, addresses,
/// references to other blocks, collections of them.
const VALUES: &[&str] = &[
    "\"eu-west-1c\"",
    "\"eu-west-1a\"",
    "true",
    "false",
    "aws_vpc.ml.id",
    "aws_vpc.legacy.id",
    "aws_subnet.private_a.id",
    "[aws_subnet.public_a.id]",
    "[aws_subnet.private_a.id, aws_subnet.private_b.id]",
    "[aws_security_group.model.id]",
    "aws_route_table.private.id",
    "\"10.20.0.0/16\"",
    "[\"0.0.0.0/0\"]",
    "[]",
    "null",
    "2",
    "\"Interface\"",
    "\"com.amazonaws.eu-west-1.s3\"",
    "{ a = aws_subnet.private_b.id }",
    "toset([aws_subnet.private_a.id, aws_subnet.legacy_a.id])",
];

/// Sets the argument on the line at `at` (of those that hold one whole
/// `name = value`) to `value`.
fn set_argument(text: &str, at: f64, value: &str) -> Option<(usize, usize, String)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end();
        if let Some((name, old)) = body.split_once(" = ")
            && name
                .trim()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
            && !old.trim().is_empty()
            && !old.ends_with(['{', '[', '('])
            && !old.contains("<<")
        {
            let value_start = start + body.len() - old.len();
            lines.push(value_start..start + body.len());
        }
        start += line.len();
    }
    let range = lines.get(((at * lines.len() as f64) as usize).min(lines.len().checked_sub(1)?))?;
    Some((range.start, range.end, value.to_owned()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(100), ..ProptestConfig::default() })]

    /// Arguments set anew, and characters typed in strings, all over blocks
    /// other blocks read, and models added (which moves the blocks after
    /// them, and changes nothing others read): the findings the cache keeps
    /// (those of the items that read none of what changed) and those it
    /// makes again equal a full analysis, after every edit.
    #[test]
    fn editing_what_other_blocks_read_equals_full_analysis(
        edits in prop::collection::vec((0.0..1.0f64, 0..4usize, prop::sample::select(VALUES)), 1..16)
    ) {
        let mut text = network_seed();
        let mut doc = Document::new(&text, 0);
        let mut cache = Incremental::default();
        incremental(&mut cache, &doc);
        for (at, kind, value) in edits {
            let edit = match kind {
                0 => well_formed_edit(&text, at, 0, ""),
                1 => well_formed_edit(&text, at, 1, LINES[1]),
                _ => set_argument(&text, at, value),
            };
            if !edit.is_some_and(|edit| apply_parsing(&mut text, &mut doc, &mut cache, edit)) {
                continue;
            }
            let (findings, _, _) = incremental(&mut cache, &doc);
            prop_assert_eq!(findings, full(&doc), "text:\n{}", text);
        }
    }
}

/// Applies `edits` ([`apply_well_formed`]) to the seed one at a time; after
/// each, the cache's findings equal a full analysis and, with `blocks`, its
/// blocks a fresh read.
fn well_formed_typing_equals_full_read(
    edits: Vec<(f64, usize, &str)>,
    blocks: bool,
) -> Result<(), TestCaseError> {
    let mut text = SEED.to_owned();
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    incremental(&mut cache, &doc);
    for (at, kind, piece) in edits {
        if !apply_well_formed(&mut text, &mut doc, &mut cache, at, kind, piece) {
            continue;
        }
        let (findings, _, _) = incremental(&mut cache, &doc);
        prop_assert_eq!(findings, full(&doc), "text:\n{}", text);
        if blocks {
            let fresh =
                FileFacts::extract(Path::new("main.tf"), FileKind::Hcl, doc.text.clone(), None);
            let cached: Vec<_> = cache.blocks().into_iter().map(|b| (*b).clone()).collect();
            let fresh_blocks: Vec<_> = fresh.blocks.iter().map(|b| (**b).clone()).collect();
            prop_assert_eq!(cached, fresh_blocks, "text:\n{}", text);
        }
    }
    Ok(())
}

/// A finding whose related places are in other blocks of the file: an edit
/// between its block and those moves what is after it and nothing else, and
/// one inside a related place (that changes no fact) makes the finding again.
#[test]
fn related_places_in_other_blocks_follow_edits() {
    let subnets = r#"resource "aws_subnet" "a" {
  vpc_id            = "vpc-1"
  availability_zone = "us-east-1a"
}
resource "aws_subnet" "b" {
  vpc_id            = "vpc-1"
  availability_zone = "us-east-1a"
}
resource "aws_security_group" "s" {
  vpc_id = "vpc-1"
}
"#;
    let filler = r#"resource "aws_s3_bucket" "filler" {
  bucket = "abc"
}
resource "aws_s3_bucket" "next" {
  bucket = "n"
}
"#;
    let model = r#"resource "aws_sagemaker_model" "m" {
  name               = "m"
  execution_role_arn = "r"
  vpc_config {
    subnets            = [aws_subnet.a.id, aws_subnet.b.id]
    security_group_ids = [aws_security_group.s.id]
  }
}
"#;
    // The model after the blocks it reads, and before them.
    for text in [
        format!("{subnets}{filler}{model}"),
        format!("{model}{filler}{subnets}"),
    ] {
        let mut doc = Document::new(&text, 0);
        let mut cache = Incremental::default();
        let (first, _, _) = incremental(&mut cache, &doc);
        assert_eq!(first, full(&doc));
        assert!(
            first.iter().filter(|f| !f.related.is_empty()).count() >= 2,
            "findings with related places: {first:#?}"
        );
        // Typed in the filler, then between the labels of subnet b's header
        // (its facts stay: its place in the finding grows).
        let filler_at = doc.text.find("abc").unwrap();
        type_at(&mut doc, &mut cache, filler_at, "xy");
        let (after, stats, _) = incremental(&mut cache, &doc);
        assert!(!stats.full, "{stats:?}");
        assert_eq!(after, full(&doc), "typed in the filler:\n{}", doc.text);
        let header_at = doc.text.find("\"aws_subnet\" \"b\"").unwrap() + 12;
        type_at(&mut doc, &mut cache, header_at, "  ");
        let (after, _, _) = incremental(&mut cache, &doc);
        assert_eq!(after, full(&doc), "typed in a header:\n{}", doc.text);
    }
}

/// A document of many stretches (opened in parallel, each lowered as soon as
/// it and those before it are parsed) reads the same as a whole-file
/// analysis; one stretch that does not parse cleanly, anywhere, sends the
/// whole document to the full parse.
#[test]
fn a_document_of_many_stretches_opens_as_a_whole() {
    let block = |i: usize| {
        format!(
            "# model {i}\nresource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m{i}\"\n  vpc_config {{\n    subnets = [aws_subnet.a.id]\n    security_group_ids = []\n  }}\n}}\n\n"
        )
    };
    let mut text = String::from(SEED);
    let mut i = 0;
    while text.len() < 10 * svl_analysis::incremental::INIT_STRETCH {
        text.push_str(&block(i));
        i += 1;
    }
    let doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    let (findings, _, served) = incremental(&mut cache, &doc);
    assert!(served, "a clean document is read by stretch");
    assert!(findings.len() > i, "{} findings", findings.len());
    assert_eq!(findings, full(&doc));
    for at in [0.05, 0.5, 0.95] {
        let broken = text.replacen(
            &format!("\"m{}\" {{\n  name", (i as f64 * at) as usize),
            &format!("\"m{}\" {{\n  name = =", (i as f64 * at) as usize),
            1,
        );
        assert_ne!(broken, text);
        let doc = Document::new(&broken, 0);
        let mut cache = Incremental::default();
        let (findings, _, served) = incremental(&mut cache, &doc);
        assert!(
            !served,
            "a syntax error at {at} of the text was read by stretch"
        );
        assert_eq!(findings, full(&doc));
    }
}

/// A pitfall rule's quick fix after a keystroke finds its model among the
/// file's blocks by where they are, without placing (copying) every block
/// the keystroke moved.
#[test]
fn a_fix_after_a_keystroke_places_only_what_it_reads() {
    let pitfalls = concat!(
        include_str!("../editors/testdata/pitfalls/model.tf"),
        "\n",
        include_str!("../editors/testdata/pitfalls/network.tf"),
    );
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "resource \"aws_sagemaker_model\" \"f{i}\" {{\n  name = \"f{i}\"\n}}\n\n"
        ));
    }
    text.push_str(pitfalls);
    let path = Path::new("main.tf");
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    incremental(&mut cache, &doc);
    // Type into the first model's name: every later block moves.
    type_at(&mut doc, &mut cache, text.find("\"f0\"").unwrap() + 2, "x");
    let (findings, _, served) = incremental(&mut cache, &doc);
    assert!(served);
    let egress = findings
        .iter()
        .find(|f| f.rule == "sagemaker_security_group_egress")
        .expect("the pitfall model's egress finding");
    let facts = Arc::new(cache.facts(path, FileKind::Hcl, doc.text.clone()));
    let frames = frames(&facts);
    let ctx =
        svl_analysis::fix::FixContext::new(&doc.text, None, &frames[0].index).with_frames(&frames);
    let fixes = svl_analysis::fix::fixes_for(egress, &ctx);
    assert!(!fixes.is_empty(), "the egress finding has a fix");
    // The filler models after the two read again (the edited one and the
    // next) moved, and the fix did not place them.
    let placed = facts.blocks[2..100]
        .iter()
        .filter(|b| b.is_placed())
        .count();
    assert_eq!(placed, 0, "moved blocks placed by the fix");
}

/// The findings of `text` read leniently with `cache` (the findings of the
/// chunks it kept kept), and those of a fresh lenient read, as `check`'s.
fn lenient_and_fresh(cache: &mut Incremental, text: String) -> (Vec<Finding>, Vec<Finding>) {
    let path = Path::new("main.tf");
    let text = Arc::new(text);
    let facts = Arc::new(cache.read_lenient(path, Arc::clone(&text)));
    let frames = frames(&facts);
    let findings = cache
        .check(frames[0].fingerprint(), None, |block| {
            svl_analysis::analyze_block(path, block, &frames, &Options::default())
        })
        .0
        .to_vec();
    let fresh = Arc::new(FileFacts::extract_needed_with(
        path,
        FileKind::Hcl,
        text,
        true,
        false,
    ));
    let expected =
        svl_analysis::analyze_file(&fresh, &common::props::frames(&fresh), &Options::default());
    (findings, expected)
}

/// A lenient read keeps the findings of the chunks an edit left, but only
/// while the module's facts are the same: a local changed in another block
/// changes what a model (which holds no place of it) finds.
#[test]
fn a_lenient_read_checks_every_chunk_again_when_the_module_changes() {
    let text = |default: u32| {
        format!(
            "locals {{\n  n = {default}\n}}\n\n\
             resource \"aws_sagemaker_model\" \"m\" {{\n  count = local.n\n}}\n\n\
             resource \"aws_s3_bucket\" \"broken\" {{\n  bucket =\n}}\n"
        )
    };
    let mut cache = Incremental::default().reading_leniently_above(0);
    let mut found = Vec::new();
    for default in [0, 1, 0] {
        let (findings, expected) = lenient_and_fresh(&mut cache, text(default));
        assert_eq!(findings, expected, "default = {default}");
        found.push(findings.len());
    }
    // The model exists only with a count of 1.
    assert_eq!(found, [0, 1, 0]);
}

/// The findings a lenient read keeps move with their chunk only if every
/// place they name moved as far: a model's finding names its subnets, and
/// a line typed between the model and them moves those alone.
#[test]
fn a_lenient_read_keeps_findings_only_where_their_places_moved_with_them() {
    let model = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    \
                 subnets = [aws_subnet.a.id, aws_subnet.b.id]\n    \
                 security_group_ids = [\"sg-1\"]\n  }\n}\n";
    let subnets = "resource \"aws_subnet\" \"a\" {\n  vpc_id = \"v\"\n  \
                   availability_zone = \"us-east-1a\"\n}\n\n\
                   resource \"aws_subnet\" \"b\" {\n  vpc_id = \"v\"\n  \
                   availability_zone = \"us-east-1a\"\n}\n\n\
                   resource \"aws_s3_bucket\" \"broken\" {\n  bucket =\n}\n";
    let mut cache = Incremental::default().reading_leniently_above(0);
    for between in ["\n", "\n# typed\n", "\n"] {
        let (findings, expected) =
            lenient_and_fresh(&mut cache, format!("{model}{between}{subnets}"));
        assert!(
            expected.iter().any(|f| !f.related.is_empty()),
            "{expected:?}"
        );
        assert_eq!(findings, expected, "{between:?}");
    }
}

/// A chunk cut off by the end of the text is not a chunk an edit at the
/// end leaves: what is typed after it continues it (found by a property
/// test run in CI).
#[test]
fn a_lenient_read_reads_again_a_block_cut_off_by_the_end_when_typed_on() {
    let start = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets = []\n";
    let mut cache = Incremental::default().reading_leniently_above(0);
    for typed in ["", "    security_group_ids = []\n"] {
        let (findings, expected) = lenient_and_fresh(&mut cache, format!("{start}{typed}"));
        assert_eq!(findings, expected, "{typed:?}");
    }
}
