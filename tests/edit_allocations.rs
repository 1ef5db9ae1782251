//! What following an edit allocates: the cache of an open document moves
//! every item after a keystroke (its range, its block, its findings), and
//! that must not cost an allocation per item. At 10 MB (27,000 blocks) one
//! allocation each was about 3 ms a keystroke on the protocol thread, plus
//! as many frees later. Counted, not timed, on this thread (the
//! `allocation-counter` crate's allocator).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::props::frames;
use svl_analysis::document::{Change, Document};
use svl_analysis::incremental::Incremental;
use svl_analysis::module::FileKind;
use svl_analysis::position::{Encoding, LineCol, ts_point};
use svl_analysis::{Findings, Options};

/// Brings the cache up to the document and checks what changed.
fn analyse(cache: &mut Incremental, doc: &Document) -> Findings {
    let path = Path::new("main.tf");
    let sync = cache
        .sync_text(&doc.text, &|b| ts_point(&doc.rope, b))
        .expect("the module reads block by block");
    assert!(sync.usable);
    let facts = Arc::new(cache.facts(path, FileKind::Hcl, doc.text.clone()));
    let frames = frames(&facts);
    let options = Options::default();
    let (findings, _) = cache.check(frames[0].fingerprint(), |block| {
        svl_analysis::analyze_block(path, block, &frames, &options)
    });
    findings
}

#[test]
fn following_a_keystroke_allocates_nothing_per_item() {
    const MODELS: usize = 2_000;
    let mut text = String::new();
    for i in 0..MODELS {
        text.push_str(&format!(
            "resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m{i}\"\n}}\n\n"
        ));
    }
    let mut doc = Document::new(&text, 0);
    let mut cache = Incremental::default();
    assert_eq!(analyse(&mut cache, &doc).len(), MODELS);
    for (round, line) in [1, 5, 1].into_iter().enumerate() {
        // Type into an early model's name: (almost) every item moves.
        let at = LineCol { line, col: 10 };
        let applied = doc.apply_changes(
            &[Change {
                range: Some((at, at)),
                text: "x".into(),
            }],
            Encoding::Utf8,
        );
        let allocations = allocation_counter::measure(|| {
            for op in &applied.ops {
                cache.apply(op);
            }
        })
        .count_total;
        assert!(
            allocations < 16,
            "round {round}: following the edit allocated {allocations} times for {MODELS} items"
        );
        // Still right: the same findings as reading the text afresh, with
        // the moved blocks where the text has them.
        let findings = analyse(&mut cache, &doc);
        let mut fresh = Incremental::default();
        assert_eq!(findings.to_vec(), analyse(&mut fresh, &doc).to_vec());
        let blocks = cache.blocks();
        let last = blocks.last().unwrap();
        let header = format!("resource \"aws_sagemaker_model\" \"m{}\"", MODELS - 1);
        assert_eq!(doc.text.find(&header), Some(last.span.start));
    }
}
