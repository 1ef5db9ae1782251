//! Fixes, tested by applying their edits to each `tests/fixtures/fixes/*.tf`
//! and comparing the resulting text with a reviewed snapshot; every result must
//! clear the finding it fixes, and stay `terraform fmt`-clean when the input
//! was (checked only where `terraform` is installed).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use std::sync::Arc;
use svl_analysis::fix::{self, FixContext, TextEdit};

use svl_analysis::module::{FileFacts, FileKind, ModuleIndex};
use svl_analysis::{self as analysis, Finding, syntax};

fn apply(src: &str, edits: &[TextEdit]) -> String {
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    for pair in sorted.windows(2) {
        assert!(
            pair[0].range.end <= pair[1].range.start,
            "overlapping edits {pair:?}"
        );
    }
    let mut out = src.to_owned();
    for edit in sorted.iter().rev() {
        out.replace_range(edit.range.clone(), &edit.new_text);
    }
    out
}

/// Applies a fix to `src`, declaring its variables at the end of the same
/// file (what the server does when the module has no `variables.tf`).
fn apply_fix(src: &str, fix: &fix::Fix) -> String {
    let fixed = apply(src, &fix.edits);
    let tree = syntax::parse(&fixed, None);
    match fix::declaration_edit(&fixed, Some(&tree), &fix.declare) {
        Some(edit) => apply(&fixed, &[edit]),
        None => fixed,
    }
}

/// `terraform validate` of a fixed file (alone in a module, every model given
/// the `execution_role_arn` the provider requires); `None` without
/// terraform.
/// `Err` when the text does not even parse for Terraform.
fn terraform_validate(
    tf: &common::terraform::Terraform,
    src: &str,
) -> Result<(usize, String), String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), src).unwrap();
    common::terraform::add_required_arguments(dir.path());
    tf.validation_errors(dir.path())
}

fn terraform_fmt(src: &str) -> Option<String> {
    let mut child = Command::new("terraform")
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(src.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

fn same_place(a: &Finding, b: &Finding) -> bool {
    a.rule == b.rule
        && a.resource.address() == b.resource.address()
        && std::mem::discriminant(&a.problem) == std::mem::discriminant(&b.problem)
        && format!("{:?}", a.problem).split(',').next()
            == format!("{:?}", b.problem).split(',').next()
}

#[test]
fn fix_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fixes");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 8);
    let mut fmt_checked = 0;
    let mut validated = 0;
    let terraform = match common::terraform::Terraform::detect() {
        Ok(tf) => Some(tf),
        Err(why) => {
            eprintln!("note: {why}; terraform validate is not run on fixed files");
            None
        }
    };
    // (what, input, fixed, whole file fixed)
    let mut validations: Vec<(String, String, String, bool)> = Vec::new();
    for path in paths {
        let src = std::fs::read_to_string(&path).unwrap();
        let tree = syntax::parse(&src, None);
        let module = ModuleIndex::new(
            std::path::PathBuf::from("."),
            vec![Arc::new(FileFacts::extract(
                &path,
                FileKind::Hcl,
                Arc::new(src.clone()),
                Some(&tree),
            ))],
        );
        let ctx = FixContext::new(&src, Some(&tree), &module);
        // An editor's document is fixed without its whole tree: each fix
        // parses what it reads. The fixes must be the same.
        let blockwise = FixContext::new(&src, None, &module);
        let input_fmt_clean = terraform_fmt(&src).map(|f| f == src);
        // Opt-in rules offer refactorings, not preferred fixes.
        let findings: Vec<Finding> = analysis::analyze_text(&src)
            .into_iter()
            .filter(|f| !svl_analysis::rules::by_id(f.rule).is_some_and(|r| r.doc().opt_in))
            .collect();
        assert!(!findings.is_empty(), "{path:?} has nothing to fix");
        let mut report = String::new();
        let crlf_input = src.contains("\r\n");
        let tab_input = src.contains("\n\t");
        let mut check = |label: &str, fixed: &str| {
            if !label.starts_with("Suppress") {
                validations.push((
                    format!("{path:?} {label}"),
                    src.clone(),
                    fixed.to_owned(),
                    label == "fix all",
                ));
            }
            // insta normalises line endings, so check them here.
            let lf = fixed.matches('\n').count();
            let crlf = fixed.matches("\r\n").count();
            if crlf_input {
                assert_eq!(crlf, lf, "{path:?} {label}: mixed line endings");
            } else {
                assert_eq!(crlf, 0, "{path:?} {label}: CR introduced");
            }
            if tab_input {
                assert!(
                    !fixed.lines().any(|l| l.starts_with(' ')),
                    "{path:?} {label}: space indentation in a tab-indented file"
                );
            }
            if input_fmt_clean == Some(true) {
                let formatted = terraform_fmt(fixed).unwrap_or_default();
                assert_eq!(
                    formatted, fixed,
                    "{path:?} {label}: not terraform fmt-clean"
                );
                fmt_checked += 1;
            }
        };
        for finding in &findings {
            let fixes = fix::fixes_for(finding, &ctx);
            assert_eq!(
                fix::fixes_for(finding, &blockwise),
                fixes,
                "{path:?}: without the whole tree"
            );
            if fixes.is_empty() {
                // Only findings about suppression comments have no fix.
                assert!(
                    finding.rule.ends_with("_suppression"),
                    "{path:?}: no fix for {finding:?}"
                );
                report.push_str(&format!(
                    "## {} — no fix: {}\n\n",
                    finding.resource.address(),
                    finding.message
                ));
                continue;
            }
            assert!(
                fixes.first().is_some_and(|f| f.preferred),
                "{path:?}: {fixes:?}"
            );
            assert_eq!(fixes.iter().filter(|f| f.preferred).count(), 1);
            for fix in &fixes {
                let fixed = apply_fix(&src, fix);
                let after = analysis::analyze_text(&fixed);
                if fix.title.starts_with("Suppress") {
                    // The placeholder reason suppresses nothing and says so;
                    // once the user writes a reason, the finding is accepted.
                    assert!(
                        after.iter().any(|f| f.rule == "invalid_suppression"),
                        "{fixed}"
                    );
                    assert!(
                        after
                            .iter()
                            .any(|f| same_place(f, finding) && f.suppressed.is_none())
                    );
                    let reasoned = fixed.replace("<reason>", "accepted by the security team");
                    let after = analysis::analyze_text(&reasoned);
                    assert!(
                        after
                            .iter()
                            .any(|f| same_place(f, finding) && f.suppressed.is_some()),
                        "{reasoned}"
                    );
                    assert!(!after.iter().any(|f| f.rule == "invalid_suppression"));
                    check(&fix.title, &reasoned);
                } else {
                    assert!(
                        !after.iter().any(|f| same_place(f, finding)),
                        "{path:?}: `{}` left {after:#?}\n{fixed}",
                        fix.title
                    );
                    check(&fix.title, &fixed);
                }
                report.push_str(&format!(
                    "## {} — {}\n{fixed}\n",
                    finding.resource.address(),
                    fix.title
                ));
            }
        }
        let all = fix::fix_all(&findings, &ctx).unwrap();
        assert_eq!(
            fix::fix_all(&findings, &blockwise),
            Some(all.clone()),
            "{path:?}: fix-all without the whole tree"
        );
        let fixed = apply_fix(&src, &all);
        let left: Vec<_> = analysis::analyze_text(&fixed)
            .into_iter()
            .filter(|f| !f.rule.ends_with("_suppression"))
            .filter(|f| !svl_analysis::rules::by_id(f.rule).is_some_and(|r| r.doc().opt_in))
            .collect();
        assert_eq!(left, Vec::new(), "{path:?}:\n{fixed}");
        check("fix all", &fixed);
        report.push_str(&format!("## {}\n{fixed}", all.title));
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        insta::with_settings!({ snapshot_path => "snapshots/fixes", prepend_module_to_snapshot => false, description => format!("tests/fixtures/fixes/{name}.tf"), omit_expression => true }, {
            insta::assert_snapshot!(name, report);
        });
    }
    if fmt_checked == 0 {
        eprintln!("note: terraform is not installed; fmt-cleanliness was not checked");
    }
    // Every fix leaves a configuration terraform validate accepts.
    // A fix of one finding leaves the others (and their errors) as they
    // were, but never adds an error; fixing all leaves none. Validations
    // run two at a time (each starts the provider), each text once.
    if let Some(tf) = terraform.as_ref() {
        let mut texts: Vec<&String> = validations
            .iter()
            .flat_map(|(_, input, fixed, _)| [input, fixed])
            .collect();
        texts.sort();
        texts.dedup();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results = std::sync::Mutex::new(std::collections::HashMap::new());
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(text) = texts.get(i) else { break };
                        let result = terraform_validate(tf, text);
                        results.lock().unwrap().insert((*text).clone(), result);
                    }
                });
            }
        });
        let results = results.into_inner().unwrap();
        for (label, input, fixed, all) in &validations {
            let after = &results[fixed];
            let before = &results[input];
            match (before, after) {
                (_, Ok((0, _))) => {}
                (_, Ok((n, errors))) if *all => {
                    panic!("{label}: terraform validate finds {n} errors:\n{errors}\n{fixed}")
                }
                (Ok((b, _)), Ok((a, errors))) => assert!(
                    a <= b,
                    "{label}: the fix adds validate errors:\n{errors}\n{fixed}"
                ),
                (Ok(_), Err(why)) => {
                    panic!("{label}: the fixed text does not parse:\n{why}\n{fixed}")
                }
                // An input Terraform cannot read says nothing of the fix.
                (Err(_), _) => continue,
            }
            validated += 1;
        }
    }
    if terraform.is_some() {
        assert!(validated > 0);
    }
}

#[test]
fn declarations_go_after_existing_text_in_its_style() {
    let vars = [fix::NewVariable {
        name: "subnet_ids".into(),
        description: "d",
    }];
    let cases = [
        (
            "",
            "variable \"subnet_ids\" {\n  description = \"d\"\n  type        = list(string)\n}\n",
        ),
        (
            "a = 1\n",
            "a = 1\n\nvariable \"subnet_ids\" {\n  description = \"d\"\n  type        = list(string)\n}\n",
        ),
        (
            "a = 1",
            "a = 1\n\nvariable \"subnet_ids\" {\n  description = \"d\"\n  type        = list(string)\n}\n",
        ),
        (
            "a = 1\n\n",
            "a = 1\n\nvariable \"subnet_ids\" {\n  description = \"d\"\n  type        = list(string)\n}\n",
        ),
        (
            "b {\r\n\tc = 1\r\n}\r\n",
            "b {\r\n\tc = 1\r\n}\r\n\r\nvariable \"subnet_ids\" {\r\n\tdescription = \"d\"\r\n\ttype        = list(string)\r\n}\r\n",
        ),
    ];
    for (target, expected) in cases {
        let tree = syntax::parse(target, None);
        let edit = fix::declaration_edit(target, Some(&tree), &vars).unwrap();
        assert_eq!(
            apply(target, std::slice::from_ref(&edit)),
            expected,
            "{target:?}"
        );
        assert_eq!(fix::declaration_edit(target, None, &vars), Some(edit));
    }
}
