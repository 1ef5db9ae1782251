//! The `check` CLI, run as users run it: the real binary, real folders.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_sagemaker-vpc-lsp");

const BAD: &str = "resource \"aws_sagemaker_model\" \"bad\" {\n  name = \"bad\"\n}\n";
const GOOD: &str = "resource \"aws_sagemaker_model\" \"good\" {\n  vpc_config {\n    security_group_ids = [\"sg-1\"]\n    subnets            = [\"subnet-1\"]\n  }\n}\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A module tree in a git repository: a compliant root, a nested module with
/// a failing model, a `.terraform/` copy of a module, an ignored folder and a
/// hidden file.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(root, "main.tf", GOOD);
    write(root, "modules/ml/model.tf", BAD.replace("bad", "inner"));
    write(root, ".terraform/modules/ml/model.tf", BAD);
    write(root, ".gitignore", "generated/\n");
    write(root, "generated/model.tf", BAD);
    write(root, ".hidden.tf", BAD);
    write(root, "notes.txt", BAD);
    dir
}

#[test]
fn exit_0_when_clean() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", GOOD);
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0 findings in 0 files (1 file checked)\n");
}

#[test]
fn text_output_names_place_rule_and_underlines_the_source() {
    let dir = project();
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let expected = "\
modules/ml/model.tf:1:1: warning[sagemaker_model_in_vpc]: aws_sagemaker_model.inner has no vpc_config block";
    assert!(text.starts_with(expected), "{text}");
    assert!(
        text.contains(
            "  |\n1 | resource \"aws_sagemaker_model\" \"inner\" {\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("\n1 finding in 1 file (2 files checked)\n"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when piped: {text:?}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = project();
    let out = run(dir.path(), &["check", "--color", "always"]);
    assert!(stdout(&out).contains("\x1b["));
    let out = run(dir.path(), &["check", "--color", "never"]);
    assert!(!stdout(&out).contains('\x1b'));
}

#[test]
fn json_output_has_exactly_the_documented_shape() {
    let dir = project();
    let out = run(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = json["findings"][0]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("aws_sagemaker_model.inner"));
    let expected = serde_json::json!({
        "version": 1,
        "files_checked": 2,
        "findings": [{
            "rule": "sagemaker_model_in_vpc",
            "severity": "warning",
            "path": "modules/ml/model.tf",
            "resource": "aws_sagemaker_model.inner",
            "message": message,
            "range": {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 39}},
            "notes": []
        }]
    });
    assert_eq!(json, expected);
}

#[test]
fn json_paths_keep_the_users_prefix_without_dot_slash() {
    let dir = project();
    let parent = dir.path().parent().unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap();
    for arg in [
        name.to_string(),
        format!("./{name}/"),
        format!("{name}/modules"),
    ] {
        let out = run(parent, &["check", "--format", "json", &arg]);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json["findings"][0]["path"],
            format!("{name}/modules/ml/model.tf"),
            "for argument {arg}"
        );
    }
    let file = run(
        dir.path(),
        &["check", "--format", "json", "./modules/ml/model.tf"],
    );
    let json: Value = serde_json::from_slice(&file.stdout).unwrap();
    assert_eq!(json["findings"][0]["path"], "modules/ml/model.tf");
}

#[test]
fn columns_count_characters_and_end_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let src = "resource \"aws_sagemaker_model\" \"m\" {\r\n  vpc_config {\r\n\tsecurity_group_ids = [\"sg\"]\r\n    subnets = /* 💣 中 ß */ []\r\n  }\r\n}\r\n";
    write(dir.path(), "m.tf", src);
    let out = run(dir.path(), &["check", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let range = &json["findings"][0]["range"];
    // `    subnets = /* 💣 中 ß */ ` is 26 characters.
    assert_eq!(range["start"], serde_json::json!({"line": 4, "column": 27}));
    assert_eq!(range["end"], serde_json::json!({"line": 4, "column": 29}));
}

#[test]
fn missing_path_is_exit_2_and_the_rest_is_still_checked() {
    let dir = project();
    let out = run(dir.path(), &["check", "does-not-exist", "modules"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("does-not-exist"), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(stdout(&out).contains("modules/ml/model.tf:1:1"));
}

#[test]
fn non_utf8_file_is_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a_latin1.tf",
        b"# caf\xe9\nresource \"aws_sagemaker_model\" \"x\" {}\n",
    );
    write(dir.path(), "b.tf", BAD);
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("a_latin1.tf") && err.contains("not valid UTF-8"),
        "{err}"
    );
    // Once, as an error: not also as a module file that could not be read.
    assert_eq!(err.matches("a_latin1.tf").count(), 1, "{err}");
    let text = stdout(&out);
    assert!(text.contains("b.tf:1:1"), "{text}");
    assert!(text.contains("(1 file checked)"), "{text}");
}

#[test]
fn skips_dot_terraform_gitignored_and_hidden_files() {
    let dir = project();
    let out = run(dir.path(), &["check", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["modules/ml/model.tf"]);
    assert_eq!(json["files_checked"], 2);
}

#[test]
fn output_is_sorted_by_path_then_position() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["z.tf", "a.tf", "m/b.tf", "m/a.tf", "b.tf"] {
        write(
            dir.path(),
            name,
            format!("{BAD}{}", BAD.replace("bad", "second")),
        );
    }
    let first = run(dir.path(), &["check", "--format", "json"]);
    let json: Value = serde_json::from_slice(&first.stdout).unwrap();
    let places: Vec<(String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = places.clone();
    sorted.sort();
    assert_eq!(places, sorted);
    assert_eq!(places.len(), 10);
    for _ in 0..3 {
        assert_eq!(
            run(dir.path(), &["check", "--format", "json"]).stdout,
            first.stdout
        );
    }
}

#[test]
fn a_file_wrapped_in_an_error_node_still_yields_its_models() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "broken.tf",
        format!("{BAD}\nresource \"aws_s3_bucket\" \"b\" {{\n  bucket = [\n"),
    );
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("broken.tf:1:1: warning[sagemaker_model_in_vpc]"));
}

#[test]
fn usage_errors_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("yaml"));
}

#[test]
fn multi_line_ranges_show_every_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "m.tf",
        "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = [\"sg\"]\n    subnets = [\n      # none\n    ]\n  }\n}\n",
    );
    let text = stdout(&run(dir.path(), &["check"]));
    assert!(
        text.contains("4 |     subnets = [\n  |               ^\n5 |       # none\n  |       ^^^^^^\n6 |     ]\n  |     ^\n"),
        "{text}"
    );
}

#[test]
fn fix_writes_the_files_and_declares_variables_in_variables_tf() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", BAD);
    write(
        dir.path(),
        "variables.tf",
        "variable \"region\" {\n  type = string\n}\n",
    );
    let out = run(dir.path(), &["check", "--fix"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("fixed main.tf: added vpc_config to aws_sagemaker_model.bad"),
        "{err}"
    );
    assert!(
        err.contains("fixed variables.tf: declared variables security_group_ids, subnet_ids"),
        "{err}"
    );
    assert!(
        stdout(&out).ends_with("0 findings in 0 files (2 files checked)\n"),
        "{}",
        stdout(&out)
    );
    let main = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    assert!(main.contains("  vpc_config {\n    security_group_ids = var.security_group_ids\n    subnets            = var.subnet_ids\n  }\n"), "{main}");
    let vars = std::fs::read_to_string(dir.path().join("variables.tf")).unwrap();
    assert!(
        vars.starts_with(
            "variable \"region\" {\n  type = string\n}\n\nvariable \"security_group_ids\" {"
        ),
        "{vars}"
    );
    // Nothing left to fix, nothing left over.
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temporary files"
    );
}

#[test]
fn diff_shows_the_fixes_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", BAD);
    let out = run(dir.path(), &["check", "--diff"]);
    assert_eq!(out.status.code(), Some(1));
    let diff = stdout(&out);
    assert!(diff.starts_with("--- a/main.tf\n+++ b/main.tf\n"), "{diff}");
    assert!(diff.contains("+  vpc_config {\n"), "{diff}");
    assert!(diff.contains("+variable \"subnet_ids\" {\n"), "{diff}");
    assert!(stderr(&out).contains("1 file would be changed by --fix"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        BAD
    );
    // A clean module: an empty diff and exit 0.
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "main.tf", GOOD);
    let out = run(clean.path(), &["check", "--diff"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
}

#[test]
fn suppressed_findings_are_counted_and_no_suppress_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        format!("# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- offline batch model\n{BAD}"),
    );
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "0 findings in 0 files (1 file checked); 1 suppressed by comments\n"
    );
    let out = run(dir.path(), &["check", "--no-suppress"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("main.tf:2:1: warning[sagemaker_model_in_vpc]"));
}

#[test]
fn notes_point_at_the_definition_that_made_a_value_empty() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "variables.tf",
        "variable \"subnets\" {\n  default = []\n}\n",
    );
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = [\"sg\"]\n    subnets            = var.subnets\n  }\n}\n",
    );
    let parent = dir.path().parent().unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap();
    // A single file named on the command line is still read with its module.
    let out = run(parent, &["check", &format!("{name}/main.tf")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains(&format!("{name}/main.tf:4:5: warning[sagemaker_model_in_vpc]: subnets of aws_sagemaker_model.m resolves to an empty list")), "{text}");
    assert!(
        text.contains(&format!(
            "= note: resolved through the default of variable \"subnets\": {name}/variables.tf:2:13"
        )),
        "{text}"
    );
}

#[test]
fn tf_json_files_are_walked_with_json_positions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf.json",
        "{\n  \"resource\": {\n    \"aws_sagemaker_model\": {\n      \"m\": {\n        \"vpc_config\": { \"security_group_ids\": [\"sg\"], \"subnets\": [] }\n      }\n    }\n  }\n}\n",
    );
    let out = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"][0]["path"], "main.tf.json");
    assert_eq!(json["findings"][0]["resource"], "aws_sagemaker_model.m");
    assert_eq!(
        json["findings"][0]["range"],
        serde_json::json!({"start": {"line": 5, "column": 66}, "end": {"line": 5, "column": 68}})
    );
}

#[test]
fn unreadable_module_context_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", GOOD);
    write(dir.path(), "terraform.tfvars", b"s = \"caf\xe9\"\n");
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: terraform.tfvars")
            || stderr(&out).contains("terraform.tfvars: not valid UTF-8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_progress_bar_when_piped_even_for_long_runs() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..250 {
        write(
            dir.path(),
            &format!("m{}/f{i}.tf", i % 25),
            GOOD.replace("good", &format!("g{i}")),
        );
    }
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "",
        "stderr must stay clean when not a terminal"
    );
    assert_eq!(stdout(&out), "0 findings in 0 files (250 files checked)\n");
}

/// The committed fixture tree `tests/fixtures/walk`: a root module, a nested
/// module (HCL and JSON), a `.terraform/` copy, a `.gitignore`d folder, a
/// hidden file and a non-Terraform file.
#[test]
fn walk_fixture_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = run(&root, &["check", "--format", "json", "walk"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["files_checked"], 3);
    let found: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["resource"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "walk/modules/ml/model.tf".to_owned(),
                "aws_sagemaker_model.inner".to_owned()
            ),
            (
                "walk/modules/ml/network.tf.json".to_owned(),
                "aws_sagemaker_model.json_model".to_owned()
            ),
        ]
    );
}

// ----------------------------------------------------------- no evasions

#[test]
fn symbolic_links_to_files_and_module_folders_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "shared/model.tf", BAD);
    write(
        root,
        "shared-module/main.tf",
        BAD.replace("bad", "in_linked_folder"),
    );
    std::fs::create_dir_all(root.join("env")).unwrap();
    std::os::unix::fs::symlink(root.join("shared/model.tf"), root.join("env/main.tf")).unwrap();
    std::os::unix::fs::symlink(root.join("shared-module"), root.join("env/linked")).unwrap();
    let out = run(&root.join("env"), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["linked/main.tf", "main.tf"]);
}

#[test]
fn a_bare_file_name_is_checked_with_its_module() {
    let dir = tempfile::tempdir().unwrap();
    let model = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = var.security_group_ids\n    subnets            = [\"subnet-1\"]\n  }\n}\n";
    write(dir.path(), "main.tf", model);
    write(
        dir.path(),
        "variables.tf",
        "variable \"security_group_ids\" {\n  type    = list(string)\n  default = []\n}\n",
    );
    // `check main.tf` reads variables.tf as `check ./main.tf` does.
    for arg in ["main.tf", "./main.tf"] {
        let out = run(dir.path(), &["check", arg]);
        assert_eq!(out.status.code(), Some(1), "{arg}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("note: resolved through the default of variable \"security_group_ids\": variables.tf:3:13"),
            "{arg}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn fix_of_a_bare_file_name_declares_in_variables_tf_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", BAD);
    write(
        dir.path(),
        "variables.tf",
        "variable \"security_group_ids\" {\n  type = list(string)\n}\n",
    );
    let out = run(dir.path(), &["check", "--fix", "main.tf"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let main = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    assert!(!main.contains("variable \""), "{main}");
    let vars = std::fs::read_to_string(dir.path().join("variables.tf")).unwrap();
    assert_eq!(
        vars.matches("variable \"security_group_ids\"").count(),
        1,
        "{vars}"
    );
    assert_eq!(vars.matches("variable \"subnet_ids\"").count(), 1, "{vars}");
}

#[test]
fn ignore_files_above_the_repository_hide_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "*\n");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    write(&repo, "main.tf", BAD);
    let out = run(&repo, &["check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).ends_with("1 finding in 1 file (1 file checked)\n"));
}

#[test]
fn a_path_that_yields_no_terraform_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    write(dir.path(), "repo/.gitignore", "*.tf\n");
    write(dir.path(), "repo/main.tf", BAD);
    write(dir.path(), "docs/notes.md", "# notes\n");
    let out = run(dir.path(), &["check", "repo", "docs"]);
    let err = stderr(&out);
    assert!(
        err.contains("repo: no Terraform file checked: the 1 *.tf / *.tf.json file under it is excluded by the repository's ignore files"),
        "{err}"
    );
    assert!(
        err.contains("docs: no Terraform file (*.tf, *.tf.json) found under it"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn non_regular_files_named_on_the_command_line_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", GOOD);
    let fifo = dir.path().join("pipe.tf");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    for target in [fifo.to_str().unwrap(), "/dev/null"] {
        let out = run(dir.path(), &["check", target, "main.tf"]);
        assert_eq!(out.status.code(), Some(2), "{target}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{target}: {}",
            stderr(&out)
        );
        // The rest is still checked.
        assert!(
            stdout(&out).contains("(1 file checked)"),
            "{}",
            stdout(&out)
        );
    }
}

// ----------------------------------------------------- fixes that are safe

#[test]
fn a_read_only_file_is_refused_and_its_findings_still_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", BAD);
    let path = dir.path().join("main.tf");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = run(dir.path(), &["check", "--fix", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("main.tf: cannot write the fix: the file is read-only"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), BAD);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 1, "{json}");
}

#[test]
fn json_findings_say_they_have_no_automatic_fix() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf.json",
        r#"{"resource": {"aws_sagemaker_model": {"m": {"name": "m"}}}}"#,
    );
    let out = run(dir.path(), &["check", "--diff"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "main.tf.json:1:39: aws_sagemaker_model.m: Terraform JSON has no automatic fix"
        ),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("1 finding would remain without an automatic fix"));
    let out = run(dir.path(), &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Terraform JSON has no automatic fix"));
}

#[test]
fn fixes_never_edit_strings_heredocs_or_broken_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let text = "locals {\n  doc = <<EOT\nresource \"aws_sagemaker_model\" \"in_text\" {\n}\nEOT\n}\n}\n\nresource \"aws_sagemaker_model\" \"broken\" {\n  name = \n}\n\nresource \"aws_sagemaker_model\" \"real\" {\n  name = \"real\"\n}\n";
    write(dir.path(), "main.tf", text);
    let out = run(dir.path(), &["check", "--fix"]);
    let fixed = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    // The heredoc is untouched and holds no model.
    assert!(
        fixed.starts_with(
            "locals {\n  doc = <<EOT\nresource \"aws_sagemaker_model\" \"in_text\" {\n}\nEOT\n"
        ),
        "{fixed}"
    );
    assert!(!stdout(&out).contains("in_text"), "{}", stdout(&out));
    // The model that does not parse is left alone; the real one is fixed.
    assert!(
        fixed.contains("resource \"aws_sagemaker_model\" \"broken\" {\n  name = \n}\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains(
            "resource \"aws_sagemaker_model\" \"real\" {\n  name = \"real\"\n\n  vpc_config {"
        ),
        "{fixed}"
    );
}

#[test]
fn a_finding_on_a_huge_line_shows_an_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "resource \"aws_sagemaker_model\" \"m\" {{ vpc_config {{ security_group_ids = [\"{}\"] \n subnets = [] }} }}\n",
        "x".repeat(1_000_000)
    );
    let line = line
        .replacen(" \n subnets", ", subnets", 1)
        .replace("\"] , subnets", "\"]\n subnets");
    write(dir.path(), "main.tf", &line);
    write(
        dir.path(),
        "long.tf",
        format!(
            "locals {{ a = \"{}\" }} \nresource \"aws_sagemaker_model\" \"n\" {{ vpc_config {{\n security_group_ids = [\"sg\"]\n subnets = [\"{}\", \"\"][1] == \"\" ? [] : [] }} }}\n",
            "y".repeat(10),
            "z".repeat(1_000_000)
        ),
    );
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        out.stdout.len() < 10_000,
        "{} bytes of output",
        out.stdout.len()
    );
    assert!(stdout(&out).contains('…'), "{}", stdout(&out));
}

// ------------------------------------------------------------------ rules

#[test]
fn select_and_ignore_choose_rules_and_unknown_ids_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.tf", BAD);
    let out = run(dir.path(), &["check", "--ignore", "sagemaker_model_in_vpc"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("0 findings"));
    let out = run(dir.path(), &["check", "--select", "sagemaker_model_in_vpc"]);
    assert_eq!(out.status.code(), Some(1));
    // --fix follows the selection: an ignored rule is not fixed.
    let out = run(
        dir.path(),
        &["check", "--fix", "--ignore", "sagemaker_model_in_vpc"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        BAD
    );
    let out = run(dir.path(), &["check", "--select", "no_such_rule"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no such rule: no_such_rule"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_rules_command_and_the_readme_list_every_rule() {
    let out = run(Path::new("."), &["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert!(!rules.is_empty());
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("## Rules").expect("a Rules section")..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let row = section
            .lines()
            .find(|l| l.contains(&format!("`{id}`")))
            .unwrap_or_else(|| panic!("the README's Rules section does not list {id}"));
        assert!(row.contains(rule["title"].as_str().unwrap()), "{row}");
        assert!(
            row.contains(rule["default_severity"].as_str().unwrap()),
            "{row}"
        );
    }
    let text = run(Path::new("."), &["rules"]);
    assert!(
        stdout(&text)
            .starts_with("sagemaker_model_in_vpc (warning): SageMaker models should be in a VPC")
    );
}

/// Nesting 100,000 levels deep (in HCL and in JSON) used to overflow the
/// stack and abort the process. Past the nesting limit a value is unknown:
/// the model without `vpc_config` is still reported, the one whose subnets
/// hide in the deep value is not (uncertain), and `--diff` plans its fix.
#[test]
fn deep_nesting_is_read_as_unknown_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    write(
        root,
        "main.tf",
        format!(
            "resource \"aws_sagemaker_model\" \"bare\" {{\n  name = {}\n}}\n\
             resource \"aws_sagemaker_model\" \"hidden\" {{\n  vpc_config {{\n    security_group_ids = [\"sg-1\"]\n    subnets = {}\n  }}\n}}\n",
            deep(100_000),
            deep(100_000)
        ),
    );
    write(
        root,
        "json/main.tf.json",
        format!(
            "{{\"resource\": {{\"aws_sagemaker_model\": {{\"j\": {{\"name\": {}}}}}}}}}\n",
            deep(100_000)
        ),
    );
    let out = run(root, &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["path"].as_str().unwrap(),
                f["range"]["start"]["line"]
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, ["json/main.tf.json:1", "main.tf:1"]);
    let out = run(root, &["check", "--diff", "main.tf"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("+  vpc_config {"), "{}", stdout(&out));
}

/// A file over `--max-file-size` is named on stderr and not checked (exit
/// 2), the others are; `none` lifts the limit; a bad size is a usage error.
#[test]
fn files_over_the_size_limit_are_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let big = format!("{BAD}{}", "# padding\n".repeat(200));
    write(root, "big/main.tf", &big);
    write(root, "small/main.tf", BAD);
    let out = run(
        root,
        &["check", "--max-file-size", "1K", "--format", "json", "."],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("big/main.tf") && err.contains("over the limit of 1 KiB (--max-file-size)"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["path"], "small/main.tf");
    let out = run(root, &["check", "--max-file-size", "none", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(err.matches("big/main.tf").count(), 1, "named once: {err}");
    let out = run(root, &["check", "--max-file-size", "4K", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(root, &["check", "--max-file-size", "lots", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a size"), "{}", stderr(&out));
}

/// A block too large for one parse in bounded memory (a list nested a
/// million deep) is named with its line and not checked (exit 2), within
/// a few megabytes; the rest of the tree is checked. `--fix` parses a file
/// whole, so it counts the whole file against a lower limit and says so.
#[test]
fn blocks_too_large_to_parse_are_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let depth = 1 << 20;
    let padding = "# padding\n".repeat(120_000); // over 1 MB: read block by block
    let huge = format!(
        "{padding}{BAD}resource \"aws_sagemaker_model\" \"deep\" {{\n  name = {}{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    write(root, "huge/main.tf", &huge);
    write(root, "small/main.tf", BAD);
    let line = 1 + huge[..huge.find("\"deep\"").unwrap()].matches('\n').count();
    let out = run(root, &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "huge/main.tf: the block at line {line} holds about 2,097,1"
        )) && err.contains("not checked"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["path"], "small/main.tf");
    // A file of many ordinary models is read, but not fixed whole.
    let many: String = (0..60_000)
        .map(|i| format!("resource \"aws_sagemaker_model\" \"m{i}\" {{\n  name = \"m\"\n}}\n"))
        .collect();
    std::fs::remove_dir_all(root.join("huge")).unwrap();
    write(root, "many/main.tf", &many);
    let out = run(root, &["check", "--format", "json", "many"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(root, &["check", "--fix", "many"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("to fix it"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(root.join("many/main.tf")).unwrap(),
        many,
        "not written"
    );
}

/// The VS Code extension's settings schema offers every rule by id (with
/// its title), so `sagemakerVpcLsp.rules` completes them.
#[test]
fn the_vscode_settings_schema_lists_every_rule() {
    let out = run(Path::new("."), &["rules", "--format", "json"]);
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/package.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let properties = &package["contributes"]["configuration"]["properties"]["sagemakerVpcLsp.rules"]
        ["properties"];
    for rule in rules.as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let description = properties[id]["markdownDescription"]
            .as_str()
            .unwrap_or_else(|| panic!("package.json does not list {id}"));
        assert!(description.contains(rule["title"].as_str().unwrap()));
    }
}

/// A reader that stops early (`check | head`) closes the pipe: the report
/// is cut short with an error exit, never a panic, in both formats (the
/// report is buffered, and a buffer that cannot be flushed is dropped).
#[test]
fn a_reader_that_stops_early_gets_an_error_exit_not_a_panic() {
    use std::io::Read;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&BAD.replace("\"bad\" {", &format!("\"bad{i}\" {{")));
    }
    write(dir.path(), "main.tf", &text);
    for format in ["text", "json"] {
        let mut child = Command::new(BIN)
            .current_dir(dir.path())
            .args(["check", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(2), "{format}: {stderr}");
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
    }
}

/// `check envs/prod` checks the modules prod calls by a local source with
/// it, though they lie outside the path named, as Terraform plans them:
/// the model prod places outside a VPC through its module call is found,
/// with the call's argument as its cause. A folder only named in a comment
/// is not checked, one called by nothing asked for is not either, and
/// `--fix` writes no file outside the paths named.
#[test]
fn a_module_called_from_outside_the_named_path_is_checked_with_its_caller() {
    let dir = tempfile::tempdir().unwrap();
    let module = "variable \"subnets\" {\n  type = list(string)\n}\n\nresource \"aws_sagemaker_model\" \"m\" {\n  execution_role_arn = \"arn\"\n  vpc_config {\n    subnets            = var.subnets\n    security_group_ids = [\"g\"]\n  }\n}\n";
    write(dir.path(), "modules/model/main.tf", module);
    write(dir.path(), "modules/model/bare.tf", BAD);
    write(dir.path(), "modules/model/inner/main.tf", BAD);
    // Named in a comment only, and called from a folder not asked for.
    write(dir.path(), "modules/other/main.tf", BAD);
    write(
        dir.path(),
        "modules/unasked/main.tf",
        "module \"x\" {\n  source = \"../model/inner\"\n}\n",
    );
    write(
        dir.path(),
        "envs/prod/main.tf",
        "# see ../../modules/other and ../../modules/unasked\nmodule \"model\" {\n  source  = \"../../modules/model\"\n  subnets = []\n}\n",
    );
    let prod = dir.path().join("envs/prod");
    let out = run(&prod, &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{json}");
    assert_eq!(findings[0]["path"], "../../modules/model/bare.tf", "{json}");
    assert_eq!(findings[0]["resource"], "aws_sagemaker_model.bad", "{json}");
    assert_eq!(findings[1]["path"], "../../modules/model/main.tf", "{json}");
    assert_eq!(findings[1]["resource"], "aws_sagemaker_model.m", "{json}");
    assert_eq!(
        findings[1]["notes"],
        json!(["resolved through the argument subnets of module.model in main.tf: main.tf:4:13"]),
        "{json}"
    );

    let out = run(&prod, &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("modules/model/bare.tf")).unwrap(),
        BAD
    );
    // A file of the called module that cannot be read was not checked (exit
    // 2); one of the folder only named in a comment is nobody's business.
    let big = format!("locals {{\n  x = \"{}\"\n}}\n", "x".repeat(2000));
    write(dir.path(), "modules/model/big.tf", &big);
    write(dir.path(), "modules/other/big.tf", &big);
    let out = run(&prod, &["check", "--max-file-size", "1K"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("modules/model/big.tf"), "{err}");
    assert!(!err.contains("modules/other/big.tf"), "{err}");
    std::fs::remove_file(dir.path().join("modules/model/big.tf")).unwrap();
    assert!(
        stdout(&out).contains("../../modules/model/bare.tf:1:1"),
        "{}",
        stdout(&out)
    );
}

/// A registry module `terraform init` installed is checked with the root
/// that calls it, from Terraform's record of where it went
/// (`.terraform/modules/modules.json`, or under `TF_DATA_DIR`), and never
/// written by `--fix`; a call of a source not installed is not followed,
/// and named as such (the exit code is not changed).
#[test]
fn a_module_terraform_installed_is_checked_with_its_root() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        "module \"sm\" {\n  source = \"acme/sm/aws\"\n}\n\nmodule \"absent\" {\n  source = \"acme/absent/aws\"\n}\n",
    );
    write(dir.path(), ".terraform/modules/sm/main.tf", BAD);
    write(dir.path(), ".terraform/modules/absent/main.tf", BAD);
    let record = r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"sm","Source":"registry.terraform.io/acme/sm/aws","Version":"1.0.0","Dir":".terraform/modules/sm"}]}"#;
    write(dir.path(), ".terraform/modules/modules.json", record);
    let out = run(dir.path(), &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(".terraform/modules/sm/main.tf:1:1: warning[sagemaker_model_in_vpc]"),
        "{text}"
    );
    assert!(!text.contains("absent/main.tf"), "{text}");
    // The call not installed is named, not passed in silence.
    assert!(
        stderr(&out).contains("warning: main.tf:5:1: module.absent was not checked: its source \"acme/absent/aws\" is not installed (run terraform init, then check again)"),
        "{}",
        stderr(&out)
    );
    assert!(
        text.ends_with("1 finding in 1 file (2 files checked); 1 module call not followed\n"),
        "{text}"
    );
    // `--diff` names it too, from the texts as read.
    let out = run(dir.path(), &["check", "--diff"]);
    assert!(
        stderr(&out).contains("warning: main.tf:5:1: module.absent was not checked"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["check", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["not_followed"],
        json!([{"rule": "sagemaker_model_in_vpc", "severity": "hint", "path": "main.tf",
            "resource": "module.absent",
            "message": "module.absent was not checked: its source \"acme/absent/aws\" is not installed (run terraform init, then check again)",
            "range": {"start": {"line": 5, "column": 1}, "end": {"line": 5, "column": 16}},
            "notes": []}]),
        "{json}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".terraform/modules/sm/main.tf")).unwrap(),
        BAD
    );
    // Terraform's data folder elsewhere.
    std::fs::rename(dir.path().join(".terraform"), dir.path().join(".tfdata")).unwrap();
    write(
        dir.path(),
        ".tfdata/modules/modules.json",
        record.replace(".terraform/", ".tfdata/"),
    );
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("TF_DATA_DIR", ".tfdata")
        .args(["check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(".tfdata/modules/sm/main.tf:1:1"),
        "{}",
        stdout(&out)
    );
}

/// A `module` block with no `source`, or one that is not a literal string,
/// is not followed and named (Terraform refuses both), even in a folder
/// holding nothing else to check; one still being typed is not.
#[test]
fn a_module_call_without_a_source_terraform_takes_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        "variable \"path\" {\n  default = \"./m\"\n}\n\nmodule \"v\" {\n  source = var.path\n}\n\nmodule \"none\" {\n}\n",
    );
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    for line in [
        "warning: main.tf:5:1: module.v was not checked: its source is not a literal string (Terraform allows no variables or references there)",
        "warning: main.tf:9:1: module.none was not checked: it has no source (Terraform requires one)",
    ] {
        assert!(err.contains(line), "{line}\n{err}");
    }
    assert!(
        stdout(&out).ends_with("; 2 module calls not followed\n"),
        "{}",
        stdout(&out)
    );
    write(dir.path(), "main.tf", "module \"typing\" {\n");
    let out = run(dir.path(), &["check"]);
    assert!(!stderr(&out).contains("module.typing"), "{}", stderr(&out));
}

/// A compliant model whose override file's block for it does not parse
/// (or has its keyword misspelt) is not checked: Terraform rejects the
/// override, which may replace the model's `vpc_config` with anything.
#[test]
fn a_model_whose_override_does_not_parse_is_not_checked() {
    for broken in [
        "resource \"aws_sagemaker_model\" \"good\" {\n  vpc_config {\n    subnets = [,]\n  }\n}\n",
        "resourc \"aws_sagemaker_model\" \"good\" {\n  vpc_config {\n    subnets = []\n  }\n}\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "main.tf", GOOD);
        write(dir.path(), "main_override.tf", broken);
        let out = run(dir.path(), &["check"]);
        assert_eq!(out.status.code(), Some(2), "{broken}\n{}", stderr(&out));
        assert!(
            stderr(&out).contains("main.tf:1:1: aws_sagemaker_model.good was not checked: its block in main_override.tf has syntax errors"),
            "{}",
            stderr(&out)
        );
        // A well-formed override that leaves vpc_config alone changes nothing.
        write(
            dir.path(),
            "main_override.tf",
            "resource \"aws_sagemaker_model\" \"good\" {\n  name = \"x\"\n}\n",
        );
        assert_eq!(run(dir.path(), &["check"]).status.code(), Some(0));
    }
}

/// A call of a local folder that is not there (a mistyped path, a folder
/// not checked out) is not followed, and named as such, even in a folder
/// that holds nothing else to check; once the folder is there, it is
/// checked.
#[test]
fn a_module_call_of_a_folder_not_there_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "envs/prod/main.tf",
        "module \"typo\" {\n  source = \"../../modules/mdoel\"\n}\n",
    );
    let out = run(dir.path(), &["check", "envs/prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: envs/prod/main.tf:1:1: module.typo was not checked: its source \"../../modules/mdoel\" is not a folder here (Terraform cannot read the module: check the path)"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out)
            .ends_with("0 findings in 0 files (1 file checked); 1 module call not followed\n"),
        "{}",
        stdout(&out)
    );
    write(dir.path(), "modules/mdoel/main.tf", BAD);
    let out = run(dir.path(), &["check", "envs/prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not followed"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("modules/mdoel/main.tf:1:1: warning[sagemaker_model_in_vpc]"),
        "{}",
        stdout(&out)
    );
}

/// Clean text that Terraform rejects hides no model from `check`: a word on
/// the line above a model's header (a block of an unknown type whose labels
/// take the header in), a model inside such a block, a `.tf.json` section
/// misspelt, a model's keyword misspelt or gone, a label to spare. Each is
/// named as not checked, and the run exits 2.
#[test]
fn a_model_hidden_by_text_terraform_rejects_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        format!("x\n{BAD}\nmodels {{\n  resource \"aws_sagemaker_model\" \"inner\" {{}}\n}}\n"),
    );
    write(
        dir.path(),
        "more.tf.json",
        "{\"resources\": {\"aws_sagemaker_model\": {\"json\": {\"name\": \"j\"}}}}\n",
    );
    // A misspelt keyword, a label to spare, a keyword glued to a heredoc.
    write(
        dir.path(),
        "typo.tf",
        "resourc \"aws_sagemaker_model\" \"typo\" {}\n\nresource \"aws_sagemaker_model\" \"extra\" \"x\" {}\n",
    );
    write(
        dir.path(),
        "zheredoc.tf",
        "locals {}\n<<EOTresource \"aws_sagemaker_model\" \"gone\" {\n}\n",
    );
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for place in [
        "main.tf:2:1: aws_sagemaker_model.bad was not checked",
        "main.tf:7:3: aws_sagemaker_model.inner was not checked",
        "more.tf.json:1:40: aws_sagemaker_model.json was not checked",
        "typo.tf:1:1: aws_sagemaker_model.typo was not checked",
        "typo.tf:3:1: aws_sagemaker_model.extra was not checked",
        "zheredoc.tf:2:15: aws_sagemaker_model.gone was not checked",
    ] {
        assert!(err.contains(place), "{place}\n{err}");
    }
    assert!(
        stdout(&out).ends_with("; 6 resources not checked (syntax errors)\n"),
        "{}",
        stdout(&out)
    );
}

/// A model whose block has syntax errors is not passed: `check` names it on
/// stderr with its place, counts it in the summary, lists it under
/// `not_checked` in JSON and exits 2 — with `--diff` too — while the file's
/// well-formed models are still reported. A suppression comment with a
/// reason accepts it like any finding.
#[test]
fn a_model_with_syntax_errors_is_named_as_not_checked_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "resource \"aws_sagemaker_model\" \"broken\" {\n  name = [,]\n}\n";
    write(dir.path(), "broken.tf", broken);
    write(dir.path(), "main.tf", BAD);

    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: broken.tf:1:1: aws_sagemaker_model.broken was not checked: its block has syntax errors"),
        "{err}"
    );
    let text = stdout(&out);
    assert!(text.contains("aws_sagemaker_model.bad"), "{text}");
    assert!(
        text.ends_with(
            "1 finding in 1 file (2 files checked); 1 resource not checked (syntax errors)\n"
        ),
        "{text}"
    );

    let out = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 1, "{json}");
    let unchecked = json["not_checked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 1, "{json}");
    assert_eq!(unchecked[0]["resource"], "aws_sagemaker_model.broken");
    assert_eq!(unchecked[0]["path"], "broken.tf");
    assert_eq!(unchecked[0]["range"]["start"]["line"], 1);

    // A rule that checks models could not check it either.
    let out = run(dir.path(), &["check", "--select", "sagemaker_vpc_dns"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("broken.tf:1:1: aws_sagemaker_model.broken was not checked"));

    let out = run(dir.path(), &["check", "--diff"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("broken.tf:1:1: aws_sagemaker_model.broken was not checked"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.tf")).unwrap(),
        broken
    );
    // Named where it is in the file as read, though the fix of a model
    // above it moves it down.
    write(dir.path(), "both.tf", format!("{BAD}\n{broken}"));
    let out = run(dir.path(), &["check", "--diff"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("both.tf:5:1: aws_sagemaker_model.broken was not checked"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(dir.path().join("both.tf")).unwrap();

    write(
        dir.path(),
        "broken.tf",
        format!(
            "# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- retired, being deleted\n{broken}"
        ),
    );
    std::fs::remove_file(dir.path().join("main.tf")).unwrap();
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "0 findings in 0 files (1 file checked); 1 suppressed by comments\n"
    );
}
