//! Fixture-driven tests of the `sagemaker_model_in_vpc` control: every
//! `tests/fixtures/control/*.tf` is analyzed and its findings snapshotted
//! (line:column ranges in characters, the text under each range, the message).
#![allow(clippy::unwrap_used)]

use std::fmt::Write;
use std::path::Path;

use ropey::Rope;
use svl_analysis::position::{Encoding, to_line_col};
use svl_analysis::{self as analysis, Finding};

fn describe(src: &str, findings: &[Finding]) -> String {
    let rope = Rope::from_str(src);
    let mut out = String::new();
    for f in findings {
        let start = to_line_col(&rope, f.range.start, Encoding::Utf32);
        let end = to_line_col(&rope, f.range.end, Encoding::Utf32);
        let kind = f.problem.summary();
        writeln!(
            out,
            "{}:{}-{}:{} {} {} [{}] {}",
            start.line + 1,
            start.col + 1,
            end.line + 1,
            end.col + 1,
            f.severity.as_str(),
            f.rule,
            f.resource.address(),
            kind,
        )
        .unwrap();
        writeln!(out, "  text: {:?}", &src[f.range.clone()]).unwrap();
        writeln!(out, "  message: {}", f.message).unwrap();
        for related in &f.related {
            let at = to_line_col(&rope, related.range.start, Encoding::Utf32);
            writeln!(
                out,
                "  related {}:{}: {}",
                at.line + 1,
                at.col + 1,
                related.message
            )
            .unwrap();
        }
    }
    if findings.is_empty() {
        out.push_str("no findings\n");
    }
    out
}

#[test]
fn control_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/control");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "fixtures went missing: {names:?}");
    for path in names {
        let src = std::fs::read_to_string(&path).unwrap();
        let findings = analysis::analyze_text(&src);
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        insta::with_settings!({ snapshot_path => "snapshots/control", prepend_module_to_snapshot => false, description => format!("tests/fixtures/control/{name}.tf"), omit_expression => true }, {
            insta::assert_snapshot!(name, describe(&src, &findings));
        });
    }
}

/// Every finding's range must start and end on character boundaries and lie
/// inside the text, for every fixture (the LSP converts them blindly).
#[test]
fn ranges_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/control");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        for f in analysis::analyze_text(&src) {
            assert!(f.range.start < f.range.end, "{path:?}: empty range {f:?}");
            assert!(
                src.get(f.range.clone()).is_some(),
                "{path:?}: bad range {f:?}"
            );
            assert!(src.get(f.resource.header.clone()).is_some());
        }
    }
}

/// No silent pass: a model without `vpc_config`, in a file broken at any
/// line by any of a set of syntax errors or words Terraform rejects there
/// (inside the model, before it or after it; alone on its line or glued to
/// the next), still gets a verdict
/// — its finding, or a "not checked" one — never nothing.
#[test]
fn a_broken_file_never_passes_a_model_silently() {
    let lines = [
        "variable \"v\" {",
        "  default = \"x\"",
        "}",
        "resource \"aws_sagemaker_model\" \"m\" {",
        "  name               = \"m\"",
        "  execution_role_arn = var.v",
        "  primary_container {",
        "    image = \"i\"",
        "  }",
        "  tags = { a = \"b\" }",
        "}",
        "locals {",
        "  l = 1",
        "}",
    ];
    let breaks = [
        "[,]",
        "(,)",
        "{,}",
        "\"x",
        "<<EOT",
        "=",
        "}",
        "{",
        "${",
        "/*",
        ",",
        "]",
        ")",
        "x = [",
        "x = (",
        "x = {",
        "x = \"${",
        "resource",
        "resource \"a\"",
        // Clean HCL that Terraform rejects: a word or a block type taking
        // fewer labels than it is given, before the model's header.
        "a",
        "variable",
        "data \"x\"",
    ];
    let mut checked = 0;
    let mut silent = 0;
    for at in 0..=lines.len() {
        for bad in breaks {
            for glue in ["\n", ""] {
                // Glued to the header, a string's quote leaves no header to
                // judge: the model's type and name are then the string's
                // text. (A word merges into the keyword, `aresource`: a
                // misspelt keyword, judged all the same.)
                if glue.is_empty() && bad == "\"x" {
                    continue;
                }
                let mut text = lines[..at].join("\n");
                if at > 0 {
                    text.push('\n');
                }
                text.push_str(bad);
                text.push_str(glue);
                text.push_str(&lines[at..].join("\n"));
                text.push('\n');
                let findings = analysis::analyze_text(&text);
                if !findings
                    .iter()
                    .any(|f| f.resource.address() == "aws_sagemaker_model.m")
                {
                    eprintln!("no verdict for the model in:\n{text}\nfindings: {findings:#?}");
                    silent += 1;
                }
                checked += 1;
            }
        }
    }
    assert!(checked > (lines.len() + 1) * breaks.len(), "{checked}");
    assert_eq!(silent, 0, "of {checked} broken files");
}

/// Error recovery may fold a `vpc_config` written after an error into the
/// item before it (`[,]` read as an index of the `name` above), or a stray
/// `}` may end the model before it: the model is then not checked, never
/// reported as having no `vpc_config`.
#[test]
fn a_vpc_config_folded_into_a_broken_item_is_not_reported_missing() {
    // A word on the line above (`resource`, `x`) makes clean HCL that
    // Terraform rejects: a nested block `resource "vpc_config"`.
    for bad in [
        "[,]", "x = [", "x = (", "/*", "=", ",", "]", ")", "}", "resource", "x",
    ] {
        let text = format!(
            "resource \"aws_sagemaker_model\" \"m\" {{\n  name = \"m\"\n{bad}\n  vpc_config {{\n    subnets            = [\"s\"]\n    security_group_ids = [\"g\"]\n  }}\n}}\n"
        );
        let findings = analysis::analyze_text(&text);
        assert!(
            findings
                .iter()
                .all(|f| f.problem == analysis::finding::Problem::NotChecked),
            "{text}\n{findings:#?}"
        );
    }
}
