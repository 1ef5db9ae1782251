//! The engine's reach, end to end: lazily resolved code actions, findings
//! for the whole workspace, per-rule settings, and the workspace fix-all
//! command applying what `check --fix` writes.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, apply_edits, capabilities, file_uri};
use serde_json::{Value, json};

const MODEL: &str = "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n}\n";

fn with_resolve() -> Value {
    let mut caps = capabilities(false);
    caps["textDocument"]["codeAction"]["resolveSupport"] = json!({"properties": ["edit"]});
    caps["textDocument"]["codeAction"]["dataSupport"] = json!(true);
    caps["workspace"]["applyEdit"] = json!(true);
    caps
}

fn actions(server: &mut Server, uri: &str) -> Vec<Value> {
    server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}),
        )
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn code_actions_are_listed_without_edits_and_resolved_to_the_eager_ones() {
    let uri = "file:///w/main.tf";
    // A client without resolve support gets edits while listing.
    let mut eager = Server::spawn();
    eager.initialize(capabilities(false), Value::Null);
    eager.open(uri, MODEL);
    eager.await_diagnostics(uri);
    let listed_eager = actions(&mut eager, uri);
    assert!(
        listed_eager.iter().all(|a| a.get("edit").is_some()),
        "{listed_eager:#?}"
    );
    assert_eq!(eager.shutdown().code(), Some(0));

    let mut server = Server::spawn();
    let init = server.initialize(with_resolve(), Value::Null);
    assert_eq!(
        init["capabilities"]["codeActionProvider"]["resolveProvider"],
        true
    );
    server.open(uri, MODEL);
    server.await_diagnostics(uri);
    let listed = actions(&mut server, uri);
    let titles: Vec<&str> = listed
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    let eager_titles: Vec<&str> = listed_eager
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, eager_titles);
    for (lazy, eager) in listed.iter().zip(&listed_eager) {
        assert!(lazy.get("edit").is_none(), "{lazy}");
        assert!(lazy["data"].is_object(), "{lazy}");
        let resolved = server.request("codeAction/resolve", lazy.clone());
        let resolved_edits = &resolved["edit"]["documentChanges"][0]["edits"];
        let eager_edits = &eager["edit"]["documentChanges"][0]["edits"];
        assert_eq!(
            apply_edits(MODEL, resolved_edits.as_array().unwrap(), false),
            apply_edits(MODEL, eager_edits.as_array().unwrap(), false),
            "{}",
            lazy["title"]
        );
    }
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn a_workspace_shows_every_finding_without_opening_files() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        std::fs::create_dir_all(dir.path().join(format!("m{i}"))).unwrap();
        std::fs::write(dir.path().join(format!("m{i}/main.tf")), MODEL).unwrap();
    }
    std::fs::write(dir.path().join("clean.tf"), "variable \"v\" {}\n").unwrap();
    let mut server = Server::spawn();
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(dir.path()), "capabilities": capabilities(false)}),
    );
    server.notify("initialized", json!({}));
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let params = server.await_notification("textDocument/publishDiagnostics");
        assert_eq!(
            params["diagnostics"].as_array().unwrap().len(),
            1,
            "{params}"
        );
        seen.push(params["uri"].as_str().unwrap().to_owned());
    }
    seen.sort();
    let expected: Vec<String> = (0..3)
        .map(|i| file_uri(&dir.path().join(format!("m{i}/main.tf"))))
        .collect();
    assert_eq!(seen, expected);
    // A file fixed on disk: its finding goes away with the file event.
    let fixed = dir.path().join("m0/main.tf");
    std::fs::write(&fixed, "variable \"v\" {}\n").unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&fixed), "type": 2}]}),
    );
    let params = server.await_diagnostics(&file_uri(&fixed));
    assert_eq!(params["diagnostics"], json!([]));
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A workspace folder whose module calls a folder outside it by a local
/// source (`envs/prod` calling `../../modules/model`), or a registry module
/// `terraform init` installed under `.terraform/modules`: Terraform plans
/// the called module as part of prod, so its model, placed outside a VPC by
/// prod's argument, is shown, judged per call.
#[test]
fn a_module_called_from_outside_the_workspace_is_checked_with_its_caller() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("modules/model");
    let prod = dir.path().join("envs/prod");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::create_dir_all(&prod).unwrap();
    std::fs::write(
        model.join("main.tf"),
        "variable \"subnets\" {\n  type = list(string)\n}\n\nresource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets            = var.subnets\n    security_group_ids = [\"g\"]\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        prod.join("main.tf"),
        "module \"model\" {\n  source  = \"../../modules/model\"\n  subnets = []\n}\n\nmodule \"sm\" {\n  source = \"acme/sm/aws\"\n}\n",
    )
    .unwrap();
    // A registry module `terraform init` installed.
    let installed = prod.join(".terraform/modules/sm");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::write(installed.join("main.tf"), MODEL).unwrap();
    std::fs::write(
        prod.join(".terraform/modules/modules.json"),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"sm","Source":"registry.terraform.io/acme/sm/aws","Dir":".terraform/modules/sm"}]}"#,
    )
    .unwrap();
    let mut server = Server::spawn();
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(&prod), "capabilities": capabilities(false)}),
    );
    server.notify("initialized", json!({}));
    let params = server.await_diagnostics(&file_uri(&model.join("main.tf")));
    let diagnostics = params["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{params}");
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("subnets of aws_sagemaker_model.m resolves to an empty list")
            && message.contains("(in module.model)"),
        "{message}"
    );
    let params = server.await_diagnostics(&file_uri(&installed.join("main.tf")));
    let diagnostics = params["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{params}");
    assert_eq!(diagnostics[0]["data"]["resource"], "aws_sagemaker_model.m");
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn open_files_scope_and_per_rule_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("closed.tf"), MODEL).unwrap();
    let mut server = Server::spawn();
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(dir.path()), "capabilities": {},
               "initializationOptions": {"scope": "openFiles", "rules": {"sagemaker_model_in_vpc": {"severity": "hint"}}}}),
    );
    server.notify("initialized", json!({}));
    let uri = file_uri(&dir.path().join("open.tf"));
    server.open(&uri, MODEL);
    let params = server.await_diagnostics(&uri);
    assert_eq!(params["diagnostics"][0]["severity"], 4, "{params}");
    // The closed file gets nothing in this scope.
    server.assert_quiet(std::time::Duration::from_millis(500));
    // A rule turned off is not reported.
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"scope": "openFiles", "rules": {"sagemaker_model_in_vpc": false}}}),
    );
    let params = server.await_diagnostics(&uri);
    assert_eq!(params["diagnostics"], json!([]));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn the_workspace_fix_all_command_applies_what_check_fix_writes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |root: &Path| {
        std::fs::write(root.join("main.tf"), MODEL).unwrap();
        std::fs::create_dir_all(root.join("ml")).unwrap();
        std::fs::write(root.join("ml/model.tf"), MODEL.replace("\"m\"", "\"n\"")).unwrap();
        std::fs::write(
            root.join("ml/variables.tf"),
            "variable \"region\" {\n  type = string\n}\n",
        )
        .unwrap();
    };
    write(dir.path());
    // What check --fix writes, in a copy.
    let copy = tempfile::tempdir().unwrap();
    write(copy.path());
    let out = Command::new(common::BIN)
        .args(["check", "--fix"])
        .current_dir(copy.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut server = Server::spawn();
    let mut caps = with_resolve();
    caps["workspace"]["workspaceEdit"]["documentChanges"] = json!(false);
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(dir.path()), "capabilities": caps}),
    );
    server.notify("initialized", json!({}));
    // Wait for the workspace's findings: it is indexed.
    server.await_notification("textDocument/publishDiagnostics");
    server.await_notification("textDocument/publishDiagnostics");
    let result = server.request(
        "workspace/executeCommand",
        json!({"command": "sagemaker-vpc-lsp.fixAllInWorkspace", "arguments": []}),
    );
    assert_eq!(result["applied"], true, "{result}");
    assert_eq!(result["changedFiles"], 3, "{result}");
    let (_, apply) = server
        .server_requests
        .iter()
        .find(|(m, _)| m == "workspace/applyEdit")
        .cloned()
        .unwrap();
    for rel in ["main.tf", "ml/model.tf", "ml/variables.tf"] {
        let uri = file_uri(&dir.path().join(rel));
        let edits = apply["edit"]["changes"][&uri].as_array().unwrap();
        let before = std::fs::read_to_string(dir.path().join(rel)).unwrap();
        let after = apply_edits(&before, edits, false);
        let expected = std::fs::read_to_string(copy.path().join(rel)).unwrap();
        assert_eq!(after, expected, "{rel}");
    }
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn identical_diagnostics_are_not_published_again() {
    let uri = "file:///w/main.tf";
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    server.open(uri, MODEL);
    assert_eq!(server.await_diagnostics_at(uri, 1).len(), 1);
    let change = |server: &mut Server, version: i64, line: u32, character: u32, text: &str| {
        server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": {"line": line, "character": character},
                                                 "end": {"line": line, "character": character}},
                                       "text": text}]}),
        );
    };
    // Typing inside the model's `name` string changes no diagnostic: the
    // server says so in its log and publishes nothing for version 2.
    change(&mut server, 2, 1, 10, "x");
    server.await_log("diagnostics unchanged; not published again");
    // Renaming the model changes its finding: version 3 is the next publish
    // (a publish of version 2 would have been sent before the log line).
    change(&mut server, 3, 0, 33, "y");
    let params = server.await_diagnostics(uri);
    assert_eq!(params["version"], 3, "{params}");
    assert!(
        params["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aws_sagemaker_model.my"),
        "{params}"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

/// What `check --format json` reports of `dir`: (line, message) of each
/// finding and of each resource not checked, sorted.
fn check_verdicts(dir: &Path) -> Vec<(u64, String)> {
    let out = Command::new(common::BIN)
        .args(["check", "--format", "json", "--max-file-size", "none"])
        .arg(dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut verdicts: Vec<(u64, String)> = ["findings", "not_checked"]
        .iter()
        .flat_map(|key| report[key].as_array().cloned().unwrap_or_default())
        .map(|f| {
            let line = f["range"]["start"]["line"].as_u64().unwrap();
            (line, f["message"].as_str().unwrap().to_owned())
        })
        .collect();
    verdicts.sort();
    verdicts
}

/// The server's diagnostics as (1-based line, message), sorted.
fn published_verdicts(diagnostics: &[Value]) -> Vec<(u64, String)> {
    let mut verdicts: Vec<(u64, String)> = diagnostics
        .iter()
        .map(|d| {
            let line = d["range"]["start"]["line"].as_u64().unwrap() + 1;
            (line, d["message"].as_str().unwrap().to_owned())
        })
        .collect();
    verdicts.sort();
    verdicts
}

/// A file over 1 MB is read by `check` chunk by chunk, so that a syntax
/// error stays in its block; the editor, which parsed such a file whole,
/// let tree-sitter's recovery fold the next model into the broken one and
/// said "not checked" of a model `check` reports (and took 2.2 s and
/// 435 MiB to open 2 MB with a stray `=` on its first line). The open
/// document now reads the same as `check`, through edits that break it,
/// mend it and break it again.
#[test]
fn a_large_broken_file_reads_in_the_editor_as_check_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.tf");
    let mut text = String::from(
        "resource \"aws_sagemaker_model\" \"x\" {\n  name = \n}\n\n\
         resource \"aws_sagemaker_model\" \"y\" {\n  name = \"y\"\n}\n\n",
    );
    let mut i = 0;
    while text.len() <= 1024 * 1024 {
        text.push_str(&format!(
            "resource \"aws_subnet\" \"s{i}\" {{\n  vpc_id = \"vpc-1\"\n}}\n\n"
        ));
        i += 1;
    }
    std::fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);
    let mut server = Server::spawn();
    server.initialize(capabilities(true), json!({}));
    server.open(&uri, &text);
    let opened = published_verdicts(&server.await_diagnostics_at(&uri, 1));
    let expected = check_verdicts(dir.path());
    assert_eq!(opened, expected);
    assert!(
        opened
            .iter()
            .any(|(line, m)| *line == 1 && m.contains("x has no vpc_config block")),
        "{opened:?}"
    );
    // Each edit renames model y (so that something is published): with x
    // still broken, with x mended (the cache follows the text block by
    // block), with a stray `=` on the first line, with it gone.
    let rename = |n: usize| ((4, 32), (4, 33 + usize::from(n > 0)), format!("y{n}"));
    let edits = [
        vec![rename(0)],
        vec![((1, 9), (1, 9), "\"x\"".to_owned()), rename(1)],
        vec![((0, 0), (0, 0), "= ".to_owned()), rename(2)],
        vec![((0, 0), (0, 2), String::new()), rename(3)],
    ];
    for (n, changes) in edits.into_iter().enumerate() {
        let version = 2 + n as i64;
        let changes: Vec<Value> = changes
            .into_iter()
            .map(|(start, end, new)| {
                json!({
                    "range": {
                        "start": {"line": start.0, "character": start.1},
                        "end": {"line": end.0, "character": end.1},
                    },
                    "text": new,
                })
            })
            .collect();
        for change in &changes {
            let mut edit = change.clone();
            edit["newText"] = edit["text"].take();
            text = apply_edits(&text, &[edit], true);
        }
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": changes,
            }),
        );
        std::fs::write(&path, &text).unwrap();
        let published = published_verdicts(&server.await_diagnostics_at(&uri, version));
        assert_eq!(published, check_verdicts(dir.path()), "after edit {n}");
    }
    assert_eq!(server.shutdown().code(), Some(0));
}
