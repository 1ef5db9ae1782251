//! Module-level fixtures: every folder under `tests/fixtures/modules/` is a
//! Terraform module (variables, locals, tfvars, .tf.json, suppressions) checked
//! as `check` checks it; the findings of all its files are snapshotted, with
//! the definitions they point at.
#![allow(clippy::unwrap_used)]

use std::fmt::Write;
use std::path::Path;

use ropey::Rope;
use svl_analysis::position::{Encoding, to_line_col};
use svl_cli::modules::Batch;
use svl_project::walk;

fn at(text: &str, offset: usize) -> String {
    let lc = to_line_col(&Rope::from_str(text), offset, Encoding::Utf32);
    format!("{}:{}", lc.line + 1, lc.col + 1)
}

fn describe(dir: &Path) -> String {
    let walk = walk::collect(&[dir.to_path_buf()]);
    assert!(walk.errors.is_empty(), "{:?}", walk.errors);
    let batch = Batch::check(
        walk.targets,
        svl_analysis::Options::default(),
        svl_project::read::Depth::Findings,
        None,
        &|_| true,
        &|_| {},
    );
    assert!(batch.errors.is_empty(), "{:?}", batch.errors);
    let mut out = String::new();
    let mut files: Vec<_> = batch.modules.iter().flat_map(|m| m.files.iter()).collect();
    files.sort_by(|a, b| a.target.path.cmp(&b.target.path));
    for file in files {
        let name = file
            .target
            .path
            .strip_prefix(dir)
            .unwrap()
            .to_str()
            .unwrap();
        let text = std::fs::read_to_string(&file.target.path).unwrap();
        writeln!(out, "# {name}").unwrap();
        if file.findings.is_empty() {
            writeln!(out, "no findings").unwrap();
        }
        for f in &file.findings {
            let kind = f.problem.summary();
            writeln!(
                out,
                "{} {} [{}] {kind}{}",
                at(&text, f.range.start),
                f.rule,
                f.resource.address(),
                f.suppressed
                    .as_ref()
                    .map(|r| format!(" — suppressed: {r}"))
                    .unwrap_or_default()
            )
            .unwrap();
            writeln!(out, "  text: {:?}", &text[f.range.clone()]).unwrap();
            writeln!(out, "  message: {}", f.message).unwrap();
            for r in f.related.iter().filter(|r| r.cause) {
                let (file, rel_text) = match &r.path {
                    Some(p) => (
                        p.strip_prefix(dir)
                            .unwrap_or(p)
                            .to_str()
                            .unwrap()
                            .to_owned(),
                        std::fs::read_to_string(p).unwrap(),
                    ),
                    None => (name.to_owned(), text.clone()),
                };
                writeln!(
                    out,
                    "  cause {file}:{} {:?}: {}",
                    at(&rel_text, r.range.start),
                    &rel_text[r.range.clone()],
                    r.message
                )
                .unwrap();
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn module_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/modules");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case.file_name().unwrap().to_str().unwrap().to_owned();
        insta::with_settings!({ snapshot_path => "snapshots/modules", prepend_module_to_snapshot => false, description => format!("tests/fixtures/modules/{name}"), omit_expression => true }, {
            insta::assert_snapshot!(name, describe(&case));
        });
    }
}
