//! End to end: the server's module index — edits in one file change the
//! diagnostics of another, files changed on disk too, and large workspaces
//! are indexed with progress.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Server, capabilities, file_uri};
use serde_json::{Value, json};

const MODEL: &str = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = [\"sg-1\"]\n    subnets            = var.subnets\n  }\n}\n";
const VARS_OK: &str = "variable \"subnets\" {\n  default = [\"subnet-1\"]\n}\n";

fn caps_with_watchers() -> Value {
    let mut caps = capabilities(false);
    caps["workspace"]["didChangeWatchedFiles"] = json!({"dynamicRegistration": true});
    caps["window"] = json!({"workDoneProgress": true});
    caps
}

fn open(server: &mut Server, uri: &str, text: &str) {
    server.open(uri, text);
}

fn change_full(server: &mut Server, uri: &str, version: i64, text: &str) {
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

/// Waits until `uri` is published with `count` diagnostics (any version).
fn await_count(server: &mut Server, uri: &str, count: usize) -> Vec<Value> {
    loop {
        let params = server.await_diagnostics(uri);
        let diagnostics = params["diagnostics"].as_array().unwrap().clone();
        if diagnostics.len() == count {
            return diagnostics;
        }
    }
}

#[test]
fn an_unsaved_edit_in_variables_tf_changes_another_open_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("variables.tf"), VARS_OK).unwrap();
    std::fs::write(dir.path().join("main.tf"), MODEL).unwrap();
    let main = file_uri(&dir.path().join("main.tf"));
    let vars = file_uri(&dir.path().join("variables.tf"));
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    open(&mut server, &main, MODEL);
    assert!(server.await_diagnostics_at(&main, 1).is_empty());
    open(&mut server, &vars, VARS_OK);
    server.await_diagnostics_at(&vars, 1);
    // Empty the default in the editor, without saving.
    change_full(
        &mut server,
        &vars,
        2,
        "variable \"subnets\" {\n  default = []\n}\n",
    );
    let d = await_count(&mut server, &main, 1);
    assert_eq!(d[0]["range"]["start"], json!({"line": 3, "character": 4}));
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("resolves to an empty list")
    );
    let related = d[0]["relatedInformation"].as_array().unwrap();
    let cause = related
        .iter()
        .find(|r| r["location"]["uri"] == vars)
        .unwrap();
    assert_eq!(
        cause["location"]["range"]["start"],
        json!({"line": 1, "character": 12})
    );
    assert!(
        cause["message"]
            .as_str()
            .unwrap()
            .contains("the default of variable \"subnets\"")
    );
    // Put it back: the warning goes away again.
    change_full(&mut server, &vars, 3, VARS_OK);
    await_count(&mut server, &main, 0);
    // Closing the unsaved buffer returns to the file on disk (non-empty).
    change_full(
        &mut server,
        &vars,
        4,
        "variable \"subnets\" {\n  default = []\n}\n",
    );
    await_count(&mut server, &main, 1);
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": vars}}),
    );
    await_count(&mut server, &main, 0);
    assert_eq!(server.shutdown().code(), Some(0));
}

/// `main.tf`'s diagnostics as a server that has just opened these texts
/// publishes them (everything read afresh).
fn fresh_diagnostics(files: &[(&str, &str)], main: &str) -> Vec<Value> {
    let mut fresh = Server::spawn();
    fresh.initialize(capabilities(false), Value::Null);
    for (uri, text) in files {
        open(&mut fresh, uri, text);
    }
    let diagnostics = fresh.await_diagnostics_at(main, 1);
    assert_eq!(fresh.shutdown().code(), Some(0));
    diagnostics
}

/// Edits in the editor to the subnets models in another file read: a
/// zone changed (the models placed in that subnet are checked again: those
/// spread over it and another subnet are no longer spread),
/// a line added to a subnet above another (whose models' related places
/// move), a subnet renamed (the module's keys change). After each,
/// `main.tf`'s diagnostics are what a fresh server publishes.
#[test]
fn editing_subnets_in_another_open_file_updates_the_models_that_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let subnet = |name: &str, zone: &str, extra: &str| {
        format!(
            "resource \"aws_subnet\" \"{name}\" {{\n  vpc_id            = \"vpc-1\"\n  availability_zone = \"{zone}\"\n{extra}}}\n\n"
        )
    };
    // Models in one subnet each (told their one zone, the subnet a related
    // place), and models spread over x and y (nothing to say while the two
    // zones differ).
    let mut models = String::new();
    for i in 0..16 {
        let s = [
            "aws_subnet.x.id",
            "aws_subnet.y.id",
            "aws_subnet.z.id",
            "aws_subnet.x.id, aws_subnet.y.id",
        ][i % 4];
        models.push_str(&format!(
            "resource \"aws_sagemaker_model\" \"m{i}\" {{\n  vpc_config {{\n    security_group_ids = [\"sg-1\"]\n    subnets            = [{s}]\n  }}\n}}\n\n"
        ));
    }
    let network = |y_zone: &str, x_extra: &str, z_name: &str| {
        [
            subnet("x", "eu-west-1a", x_extra),
            subnet("y", y_zone, ""),
            subnet(z_name, "eu-west-1c", ""),
        ]
        .concat()
    };
    let first = network("eu-west-1b", "", "z");
    std::fs::write(dir.path().join("main.tf"), &models).unwrap();
    std::fs::write(dir.path().join("network.tf"), &first).unwrap();
    let main = file_uri(&dir.path().join("main.tf"));
    let net = file_uri(&dir.path().join("network.tf"));
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    open(&mut server, &net, &first);
    server.await_diagnostics_at(&net, 1);
    open(&mut server, &main, &models);
    let opened = server.await_diagnostics_at(&main, 1);
    assert_eq!(
        opened,
        fresh_diagnostics(&[(&net, &first), (&main, &models)], &main)
    );
    let edits = [
        network("eu-west-1a", "", "z"),
        network("eu-west-1a", "  map_public_ip_on_launch = false\n", "z"),
        network("eu-west-1a", "  map_public_ip_on_launch = false\n", "w"),
    ];
    /// Said when the wait below times out (the test panics): which edit,
    /// what a fresh server says and what was published last. It failed so
    /// once, in a CI run under load, and did not again in hundreds of runs.
    struct Waiting {
        edit: usize,
        expected: Vec<Value>,
        last: Option<Value>,
    }
    impl Drop for Waiting {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!(
                    "edit {} of network.tf; a fresh server says {:#?}\nlast published for main.tf: {:#?}",
                    self.edit, self.expected, self.last
                );
            }
        }
    }
    for (n, text) in edits.iter().enumerate() {
        change_full(&mut server, &net, 2 + n as i64, text);
        let mut waiting = Waiting {
            edit: n + 1,
            expected: fresh_diagnostics(&[(&net, text), (&main, &models)], &main),
            last: None,
        };
        // Published again (any version) until it is what a fresh server
        // says: a wrong verdict ends in the wait's time-out.
        loop {
            let params = server.await_diagnostics(&main);
            if params["diagnostics"].as_array() == Some(&waiting.expected) {
                break;
            }
            waiting.last = Some(params);
        }
    }
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn a_file_changed_on_disk_changes_open_files_of_its_module() {
    let dir = tempfile::tempdir().unwrap();
    let vars_path = dir.path().join("variables.tf");
    std::fs::write(&vars_path, VARS_OK).unwrap();
    let main = file_uri(&dir.path().join("main.tf"));
    let mut server = Server::spawn();
    server.initialize(caps_with_watchers(), Value::Null);
    open(&mut server, &main, MODEL);
    assert!(server.await_diagnostics_at(&main, 1).is_empty());
    // The server asked to be told about Terraform files on disk.
    let watched = server
        .server_requests
        .iter()
        .filter(|(m, _)| m == "client/registerCapability")
        .flat_map(|(_, p)| p["registrations"].as_array().unwrap().clone())
        .find(|r| r["method"] == "workspace/didChangeWatchedFiles")
        .expect("a watcher registration");
    assert!(
        watched["registerOptions"]["watchers"]
            .to_string()
            .contains("**/*.tfvars")
    );
    // `git checkout` of a tfvars file that empties the list.
    std::fs::write(dir.path().join("terraform.tfvars"), "subnets = []\n").unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dir.path().join("terraform.tfvars")), "type": 1}]}),
    );
    let d = await_count(&mut server, &main, 1);
    let related = d[0]["relatedInformation"].as_array().unwrap();
    assert!(related.iter().any(|r| {
        r["location"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("terraform.tfvars")
    }));
    // Deleted again.
    std::fs::remove_file(dir.path().join("terraform.tfvars")).unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dir.path().join("terraform.tfvars")), "type": 3}]}),
    );
    await_count(&mut server, &main, 0);
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A model whose override block did not parse is not checked, with the
/// override named in the message and as related information.
#[test]
fn a_model_whose_override_does_not_parse_points_at_the_override() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), MODEL).unwrap();
    std::fs::write(dir.path().join("variables.tf"), VARS_OK).unwrap();
    let broken =
        "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets = [,]\n  }\n}\n";
    std::fs::write(dir.path().join("main_override.tf"), broken).unwrap();
    let main = file_uri(&dir.path().join("main.tf"));
    let mut server = Server::spawn();
    server.initialize(capabilities(true), Value::Null);
    open(&mut server, &main, MODEL);
    let d = server.await_diagnostics_at(&main, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["data"]["problem"], "not_checked", "{d:?}");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("its block in main_override.tf has syntax errors"),
        "{d:?}"
    );
    let related = &d[0]["relatedInformation"][0];
    assert!(
        related["location"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("main_override.tf"),
        "{d:?}"
    );
    assert_eq!(related["location"]["range"]["start"]["line"], 0, "{d:?}");
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A folder whose `main.tf`, open, calls `./child`, not there: the folder,
/// the server (initialized with `caps`), `main.tf`'s URI and its first
/// diagnostics.
fn open_a_call_of_child(caps: Value) -> (tempfile::TempDir, Server, String, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let text = "module \"m\" {\n  source = \"./child\"\n}\n";
    std::fs::write(dir.path().join("main.tf"), text).unwrap();
    let main = file_uri(&dir.path().join("main.tf"));
    let mut server = Server::spawn();
    server.initialize(caps, Value::Null);
    open(&mut server, &main, text);
    let d = server.await_diagnostics_at(&main, 1);
    (dir, server, main, d)
}

/// A call of a local folder that is not there is a "not followed" hint
/// on the call, which goes when the folder appears on disk and comes back
/// when it goes: the caller is analysed again, though its text did not
/// change.
#[test]
fn a_module_call_of_a_folder_not_there_is_a_hint_until_it_appears() {
    let (dir, mut server, main, d) = open_a_call_of_child(caps_with_watchers());
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["severity"], 4, "{d:?}");
    assert_eq!(d[0]["data"]["problem"], "not_followed", "{d:?}");
    assert_eq!(
        d[0]["message"],
        "module.m was not checked: its source \"./child\" is not a folder here (Terraform cannot read the module: check the path)"
    );
    let child = dir.path().join("child/main.tf");
    let told = |server: &mut Server, kind: u32| {
        server.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": file_uri(&child), "type": kind}]}),
        );
    };
    std::fs::create_dir(dir.path().join("child")).unwrap();
    std::fs::write(&child, "").unwrap();
    told(&mut server, 1);
    await_count(&mut server, &main, 0);
    std::fs::remove_dir_all(dir.path().join("child")).unwrap();
    told(&mut server, 3);
    assert_eq!(
        await_count(&mut server, &main, 1)[0]["data"]["resource"],
        "module.m"
    );
    // The path typed again, to a folder that is there.
    std::fs::create_dir(dir.path().join("other")).unwrap();
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": 1, "character": 14}, "end": {"line": 1, "character": 19}},
            "text": "other"
        }]}),
    );
    assert!(server.await_diagnostics_at(&main, 2).is_empty());
    // And to one that is not.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 3}, "contentChanges": [{
            "range": {"start": {"line": 1, "character": 14}, "end": {"line": 1, "character": 19}},
            "text": "typo"
        }]}),
    );
    assert_eq!(
        server.await_diagnostics_at(&main, 3)[0]["message"],
        "module.m was not checked: its source \"./typo\" is not a folder here (Terraform cannot read the module: check the path)"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

/// With no file watcher (Neovim on Linux), a file of the called folder
/// opened in the editor shows the folder is there: the caller's hint goes.
#[test]
fn a_file_of_a_folder_not_there_opened_in_the_editor_ends_the_hint() {
    let (dir, mut server, main, d) = open_a_call_of_child(capabilities(false));
    assert_eq!(d.len(), 1);
    std::fs::create_dir(dir.path().join("child")).unwrap();
    std::fs::write(dir.path().join("child/main.tf"), "").unwrap();
    let child = file_uri(&dir.path().join("child/main.tf"));
    open(&mut server, &child, "");
    await_count(&mut server, &main, 0);
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn a_large_workspace_is_indexed_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..120 {
        let folder = dir.path().join(format!("m{}", i % 12));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join(format!("f{i}.tf")),
            format!("variable \"v{i}\" {{}}\n"),
        )
        .unwrap();
    }
    let mut server = Server::spawn();
    let init = json!({
        "processId": null,
        "rootUri": file_uri(dir.path()),
        "capabilities": caps_with_watchers(),
    });
    server.request("initialize", init);
    server.notify("initialized", json!({}));
    let mut kinds = Vec::new();
    while kinds.last().map(String::as_str) != Some("end") {
        let p = server.await_notification("$/progress");
        assert_eq!(p["token"], "sagemaker-vpc-lsp/indexing");
        kinds.push(p["value"]["kind"].as_str().unwrap().to_owned());
    }
    assert_eq!(kinds.first().map(String::as_str), Some("begin"));
    assert!(kinds.iter().any(|k| k == "report"));
    assert!(
        server
            .server_requests
            .iter()
            .any(|(m, _)| m == "window/workDoneProgress/create")
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn small_workspaces_are_indexed_silently() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "variable \"v\" {}\n").unwrap();
    let mut server = Server::spawn();
    let init = json!({"processId": null, "rootUri": file_uri(dir.path()), "capabilities": caps_with_watchers()});
    server.request("initialize", init);
    server.notify("initialized", json!({}));
    server.assert_quiet(Duration::from_millis(500));
    assert!(
        !server
            .server_requests
            .iter()
            .any(|(m, _)| m == "window/workDoneProgress/create")
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn tf_json_documents_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let uri = file_uri(&dir.path().join("main.tf.json"));
    let text = "{\"resource\": {\"aws_sagemaker_model\": {\"m\": {\"name\": \"x\"}}}}\n";
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "json", "version": 1, "text": text}}),
    );
    let d = server.await_diagnostics_at(&uri, 1);
    assert_eq!(d.len(), 1);
    // The name key `"m"`.
    assert_eq!(d[0]["range"]["start"], json!({"line": 0, "character": 38}));
    // No HCL fixes for JSON.
    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"], "context": {"diagnostics": d}}),
    );
    assert_eq!(actions, json!([]));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn suppression_comment_typed_in_the_editor_takes_effect() {
    let dir = tempfile::tempdir().unwrap();
    let uri = file_uri(&dir.path().join("main.tf"));
    let model = "resource \"aws_sagemaker_model\" \"m\" {}\n";
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    open(&mut server, &uri, model);
    let d = server.await_diagnostics_at(&uri, 1);
    // The quick fix inserts a directive with a placeholder reason…
    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"], "context": {"diagnostics": d}}),
    );
    let suppress = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Suppress with a reason…")
        .unwrap()
        .clone();
    let edits = &suppress["edit"]["documentChanges"][0]["edits"];
    let with_placeholder = common::apply_edits(model, edits.as_array().unwrap(), false);
    assert!(
        with_placeholder
            .starts_with("# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- <reason>\n")
    );
    change_full(&mut server, &uri, 2, &with_placeholder);
    // …which suppresses nothing until a reason is written.
    let d = server.await_diagnostics_at(&uri, 2);
    let codes: Vec<&str> = d.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["invalid_suppression", "sagemaker_model_in_vpc"]);
    change_full(
        &mut server,
        &uri,
        3,
        &with_placeholder.replace("<reason>", "batch only, no network"),
    );
    assert_eq!(server.await_diagnostics_at(&uri, 3), Vec::<Value>::new());
    assert_eq!(server.shutdown().code(), Some(0));
}
