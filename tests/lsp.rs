//! End to end: the real binary, spoken to over stdio.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Server, apply_edits, capabilities, file_uri};
use serde_json::{Value, json};

const MODEL: &str = "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n}\n";

fn started(utf8: bool) -> Server {
    let mut server = Server::spawn();
    server.initialize(capabilities(utf8), Value::Null);
    server
}

fn temp_uri(dir: &tempfile::TempDir, name: &str) -> String {
    file_uri(&dir.path().join(name))
}

#[test]
fn initialize_negotiates_utf8_and_advertises_what_is_implemented() {
    let pid = format!("--clientProcessId={}", std::process::id());
    let mut server = Server::spawn_with(&["--stdio", &pid]);
    let result = server.initialize(capabilities(true), Value::Null);
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-8");
    assert_eq!(caps["textDocumentSync"]["change"], 2);
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    // Saving tells the server nothing the buffer did not: not asked for.
    assert!(caps["textDocumentSync"].get("save").is_none());
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.sagemaker-vpc-lsp"])
    );
    assert_eq!(caps["hoverProvider"], true);
    let advertised: Vec<&String> = caps.as_object().unwrap().keys().collect();
    assert_eq!(
        advertised,
        [
            "codeActionProvider",
            "executeCommandProvider",
            "hoverProvider",
            "positionEncoding",
            "textDocumentSync"
        ]
    );
    assert_eq!(
        caps["executeCommandProvider"]["commands"],
        json!(["sagemaker-vpc-lsp.fixAllInWorkspace"])
    );
    assert_eq!(result["serverInfo"]["name"], "sagemaker-vpc-lsp");
    assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn initialize_defaults_to_utf16() {
    let mut server = Server::spawn_with(&["serve"]);
    let result = server.initialize(json!({}), Value::Null);
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    let mut server2 = Server::spawn();
    let result = server2.initialize(capabilities(false), Value::Null);
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(server.shutdown().code(), Some(0));
    assert_eq!(server2.shutdown().code(), Some(0));
}

#[test]
fn open_publishes_a_versioned_diagnostic_with_code_and_docs() {
    let mut server = started(false);
    server.open("file:///w/main.tf", MODEL);
    let params = server.await_diagnostics("file:///w/main.tf");
    assert_eq!(params["version"], 1);
    let d = &params["diagnostics"][0];
    assert_eq!(params["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(d["source"], "sagemaker-vpc-lsp");
    assert_eq!(d["code"], "sagemaker_model_in_vpc");
    assert_eq!(d["severity"], 2);
    assert_eq!(
        d["codeDescription"]["href"],
        "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc"
    );
    assert_eq!(
        d["range"],
        json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 34}})
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("aws_sagemaker_model.m")
    );
    assert_eq!(d["data"]["problem"], "missing_vpc_config");
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn empty_list_diagnostic_relates_to_the_model_header() {
    let mut server = started(false);
    let text = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = [\"sg\"]\n    subnets            = []\n  }\n}\n";
    server.open("file:///w/main.tf", text);
    let diagnostics = server.await_diagnostics_at("file:///w/main.tf", 1);
    let d = &diagnostics[0];
    assert_eq!(d["range"]["start"], json!({"line": 3, "character": 25}));
    let related = &d["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], "file:///w/main.tf");
    assert_eq!(
        related["location"]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

/// Incremental edits that put emoji and CJK before the range: columns must
/// be exact in the negotiated encoding.
fn edits_with_wide_characters(utf8: bool) {
    let mut server = started(utf8);
    let uri = "file:///w/wide.tf";
    let text = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = [\"sg\"]\n    subnets = []\n  }\n}\n";
    server.open(uri, text);
    let d = server.await_diagnostics_at(uri, 1);
    assert_eq!(d[0]["range"]["start"], json!({"line": 3, "character": 14}));
    // Insert a comment with emoji and CJK before `[]` on the same line.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": 3, "character": 14}, "end": {"line": 3, "character": 14}},
                "text": "/* 💣中文 */ "
            }]
        }),
    );
    let d = server.await_diagnostics_at(uri, 2);
    // `/* 💣中文 */ ` is 11 UTF-16 units (💣 is 2) and 17 UTF-8 bytes.
    let start = if utf8 { 14 + 17 } else { 14 + 11 };
    assert_eq!(
        d[0]["range"],
        json!({"start": {"line": 3, "character": start}, "end": {"line": 3, "character": start + 2}})
    );
    // Now edit *after* the emoji, on the same line, in the client's units:
    // replace `[]` with `["subnet-1"]` and the diagnostic goes away.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{
                "range": {"start": {"line": 3, "character": start}, "end": {"line": 3, "character": start + 2}},
                "text": "[\"subnet-1\"]"
            }]
        }),
    );
    assert_eq!(server.await_diagnostics_at(uri, 3), Vec::<Value>::new());
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn wide_characters_utf16() {
    edits_with_wide_characters(false);
}

#[test]
fn wide_characters_utf8() {
    edits_with_wide_characters(true);
}

#[test]
fn deleting_vpc_config_makes_the_warning_appear_on_the_header() {
    let mut server = started(false);
    let uri = "file:///w/main.tf";
    let text = "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n\n  vpc_config {\n    security_group_ids = [\"sg\"]\n    subnets            = [\"subnet\"]\n  }\n}\n";
    server.open(uri, text);
    assert!(server.await_diagnostics_at(uri, 1).is_empty());
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": 2, "character": 0}, "end": {"line": 6, "character": 3}},
                "text": ""
            }]
        }),
    );
    let d = server.await_diagnostics_at(uri, 2);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["range"]["start"], json!({"line": 0, "character": 0}));
    assert_eq!(d[0]["data"]["problem"], "missing_vpc_config");
    assert_eq!(server.shutdown().code(), Some(0));
}

fn code_actions(
    server: &mut Server,
    uri: &str,
    diagnostic: &Value,
    only: Option<Value>,
) -> Vec<Value> {
    let mut context = json!({"diagnostics": [diagnostic]});
    if let Some(only) = only {
        context["only"] = only;
    }
    server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": diagnostic["range"], "context": context}),
        )
        .as_array()
        .unwrap()
        .clone()
}

/// The edits of a `WorkspaceEdit` for `uri` (either form).
fn edits_for(edit: &Value, uri: &str) -> Vec<Value> {
    if let Some(changes) = edit["documentChanges"].as_array() {
        return changes
            .iter()
            .filter(|c| c["textDocument"]["uri"] == uri)
            .flat_map(|c| c["edits"].as_array().unwrap().clone())
            .collect();
    }
    edit["changes"][uri].as_array().cloned().unwrap_or_default()
}

#[test]
fn quick_fix_adds_vpc_config_and_the_diagnostic_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let uri = temp_uri(&dir, "main.tf");
    let mut server = started(false);
    server.open(&uri, MODEL);
    let d = server.await_diagnostics_at(&uri, 1);
    let actions = code_actions(&mut server, &uri, &d[0], None);
    let fix = actions.iter().find(|a| a["kind"] == "quickfix").unwrap();
    assert_eq!(fix["title"], "Add vpc_config block");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(fix["diagnostics"][0]["data"], d[0]["data"]);
    let change = &fix["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1);
    let fixed = apply_edits(MODEL, &edits_for(&fix["edit"], &uri), false);
    assert_eq!(
        fixed,
        "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n\n  vpc_config {\n    security_group_ids = var.security_group_ids\n    subnets            = var.subnet_ids\n  }\n}\n\nvariable \"security_group_ids\" {\n  description = \"Security groups for the SageMaker model's network interfaces (sagemaker_model_in_vpc); allow egress on 443.\"\n  type        = list(string)\n}\n\nvariable \"subnet_ids\" {\n  description = \"Private subnets for the SageMaker model's network interfaces (sagemaker_model_in_vpc).\"\n  type        = list(string)\n}\n"
    );
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    assert_eq!(server.await_diagnostics_at(&uri, 2), Vec::<Value>::new());
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn declarations_go_to_variables_tf_when_the_module_has_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("variables.tf"),
        "variable \"region\" {\n  type = string\n}\n",
    )
    .unwrap();
    let uri = temp_uri(&dir, "main.tf");
    let vars_uri = temp_uri(&dir, "variables.tf");
    let mut server = started(true);
    server.open(&uri, MODEL);
    let d = server.await_diagnostics_at(&uri, 1);
    let actions = code_actions(&mut server, &uri, &d[0], Some(json!(["quickfix"])));
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Add vpc_config block", "Suppress with a reason…"]);
    let edit = &actions[0]["edit"];
    let vars_change = edit["documentChanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["textDocument"]["uri"] == vars_uri)
        .unwrap();
    // Not open in the editor: no version.
    assert_eq!(vars_change["textDocument"]["version"], Value::Null);
    let vars = apply_edits(
        "variable \"region\" {\n  type = string\n}\n",
        &edits_for(edit, &vars_uri),
        true,
    );
    assert!(
        vars.starts_with(
            "variable \"region\" {\n  type = string\n}\n\nvariable \"security_group_ids\" {\n"
        ),
        "{vars}"
    );
    let main = apply_edits(MODEL, &edits_for(edit, &uri), true);
    assert!(!main.contains("variable \""), "{main}");
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn existing_list_variables_are_reused_and_not_redeclared() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("variables.tf"),
        "variable \"private_subnet_ids\" {\n  type = list(string)\n}\n\nvariable \"model_security_group_ids\" {\n  type = list(string)\n}\n",
    )
    .unwrap();
    let uri = temp_uri(&dir, "main.tf");
    let mut server = started(false);
    server.open(&uri, MODEL);
    let d = server.await_diagnostics_at(&uri, 1);
    let actions = code_actions(&mut server, &uri, &d[0], Some(json!(["quickfix"])));
    let edit = &actions[0]["edit"];
    assert_eq!(edit["documentChanges"].as_array().unwrap().len(), 1);
    let main = apply_edits(MODEL, &edits_for(edit, &uri), false);
    assert!(
        main.contains("security_group_ids = var.model_security_group_ids\n"),
        "{main}"
    );
    assert!(
        main.contains("subnets            = var.private_subnet_ids\n"),
        "{main}"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn changes_form_when_the_client_lacks_document_changes() {
    let mut server = Server::spawn();
    server.initialize(json!({}), Value::Null);
    let uri = "file:///nowhere/main.tf";
    server.open(uri, MODEL);
    let d = server.await_diagnostics_at(uri, 1);
    let actions = code_actions(&mut server, uri, &d[0], None);
    let edit = &actions[0]["edit"];
    assert!(edit.get("documentChanges").is_none());
    let fixed = apply_edits(MODEL, &edits_for(edit, uri), false);
    assert!(fixed.contains("vpc_config {"));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn fix_all_fixes_every_model_in_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let uri = temp_uri(&dir, "main.tf");
    let text = "resource \"aws_sagemaker_model\" \"a\" {}\n\nresource \"aws_sagemaker_model\" \"b\" {\n  vpc_config {\n    subnets = []\n  }\n}\n";
    let mut server = started(false);
    server.open(&uri, text);
    let d = server.await_diagnostics_at(&uri, 1);
    assert_eq!(d.len(), 3);
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]}
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["kind"], "source.fixAll.sagemaker-vpc-lsp");
    let fixed = apply_edits(text, &edits_for(&actions[0]["edit"], &uri), false);
    assert_eq!(
        fixed.matches("variable \"subnet_ids\"").count(),
        1,
        "{fixed}"
    );
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    assert_eq!(server.await_diagnostics_at(&uri, 2), Vec::<Value>::new());
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn hover_explains_the_control_and_the_verdict() {
    let mut server = started(false);
    let uri = "file:///w/main.tf";
    let text = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    security_group_ids = var.sg\n    subnets            = [\"s\"]\n  }\n}\nresource \"aws_sagemaker_model\" \"n\" {}\n";
    server.open(uri, text);
    server.await_diagnostics_at(uri, 1);
    let hover = |server: &mut Server, line: u32, character: u32| {
        server.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    };
    let on_label = hover(&mut server, 0, 12);
    let value = on_label["contents"]["value"].as_str().unwrap();
    for needle in [
        "SAGEMAKER_MODEL_IN_VPC",
        "aws_compliance.control.sagemaker_model_in_vpc",
        "sagemaker_models_vpc_settings_configured",
        "replaces the model",
        "blue-green",
        "VPC endpoints",
        "443",
        "enable_dns_support",
        "`aws_sagemaker_model.m`",
        "only known at plan time",
    ] {
        assert!(value.contains(needle), "missing {needle:?} in {value}");
    }
    assert_eq!(on_label["contents"]["kind"], "markdown");
    assert_eq!(
        on_label["range"]["start"],
        json!({"line": 0, "character": 9})
    );
    let in_block = hover(&mut server, 3, 6);
    assert!(
        in_block["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("`aws_sagemaker_model.m`")
    );
    let other = hover(&mut server, 6, 12);
    assert!(
        other["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("**not compliant**: it has no `vpc_config` block")
    );
    assert_eq!(
        hover(&mut server, 0, 2),
        Value::Null,
        "the keyword is not hovered"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn configuration_changes_republish_and_bad_values_are_named() {
    let mut server = Server::spawn();
    server.settings = json!({"severity": "error"});
    server.initialize(capabilities(false), json!({"severity": "hint"}));
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    // The pulled settings (error) win over the initialization options (hint);
    // whichever analysis is published last must carry them.
    let mut d = server.await_diagnostics_at(uri, 1);
    while d[0]["severity"] != 1 {
        d = server.await_diagnostics_at(uri, 1);
    }
    assert!(
        server
            .server_requests
            .iter()
            .any(|(m, p)| m == "client/registerCapability"
                && p["registrations"][0]["method"] == "workspace/didChangeConfiguration")
    );
    // Disable: diagnostics disappear.
    server.settings = json!({"enable": false});
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    assert_eq!(server.await_diagnostics_at(uri, 1), Vec::<Value>::new());
    // Bad values: one message naming both keys, defaults used (warning).
    server.settings = json!({"enable": "sometimes", "severity": "loud"});
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let message = server.await_notification("window/showMessage");
    let text = message["message"].as_str().unwrap();
    assert!(
        text.contains("sagemakerVpcLsp.enable") && text.contains("sagemakerVpcLsp.severity"),
        "{text}"
    );
    let d = server.await_diagnostics_at(uri, 1);
    assert_eq!(d[0]["severity"], 2);
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn settings_pushed_without_pull_support_are_used() {
    let mut server = Server::spawn();
    server.initialize(
        json!({}),
        json!({"sagemakerVpcLsp": {"severity": "information"}}),
    );
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    assert_eq!(server.await_diagnostics_at(uri, 1)[0]["severity"], 3);
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"sagemakerVpcLsp": {"severity": "error"}}}),
    );
    assert_eq!(server.await_diagnostics_at(uri, 1)[0]["severity"], 1);
    // A notification without settings keeps them.
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    server.assert_quiet(Duration::from_millis(300));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn close_clears_diagnostics() {
    let mut server = started(false);
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    assert_eq!(server.await_diagnostics_at(uri, 1).len(), 1);
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let params = server.await_diagnostics(uri);
    assert_eq!(params["diagnostics"], json!([]));
    server.assert_quiet(Duration::from_millis(300));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn bad_input_is_survived_and_the_next_request_answered() {
    let mut server = started(false);
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    server.await_diagnostics_at(uri, 1);
    // A change far past the end: clamped, logged, applied at the end.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 99, "character": 5}, "end": {"line": 120, "character": 0}}, "text": "resource \"aws_sagemaker_model\" \"n\" {}\n"}]
        }),
    );
    assert_eq!(server.await_diagnostics_at(uri, 2).len(), 2);
    // A change for a document that is not open.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": "file:///w/other.tf", "version": 7}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}]}),
    );
    // A version going backwards is logged, the text still follows the client.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 1}, "contentChanges": [{"text": MODEL}]}),
    );
    assert_eq!(server.await_diagnostics_at(uri, 1).len(), 1);
    // Malformed JSON, then an unknown method, then a real request.
    server.send_raw(b"Content-Length: 12\r\n\r\n{not json!!}");
    let error = server.take(
        |m| m["id"].is_null() && m.get("error").is_some(),
        "parse error",
    );
    assert_eq!(error["error"]["code"], -32700);
    let unknown = server.request_raw(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert!(unknown.get("error").is_some());
    // Positions nonsense in a request: answered, not a crash.
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4000000000u32, "character": 4000000000u32}}),
    );
    assert_eq!(hover, Value::Null);
    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": "file:///w/unknown.tf"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert_eq!(actions, json!([]));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn a_burst_of_changes_ends_with_the_latest_version() {
    let mut server = started(false);
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    let mut text = MODEL.to_owned();
    for version in 2..=61 {
        // Type `# x` character by character on a new first line, then delete.
        let insert = if version % 2 == 0 { "#" } else { "" };
        let end = if version % 2 == 0 { 0 } else { 1 };
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": end}}, "text": insert}]
            }),
        );
        if version % 2 == 0 {
            text.insert(0, '#');
        } else {
            text.remove(0);
        }
    }
    // One more change that certainly changes the diagnostics (identical
    // ones are not published again): a second model.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 62},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "resource \"aws_sagemaker_model\" \"second\" {}\n"}]
        }),
    );
    // Stale results may be skipped, but versions never go backwards and the
    // last one published is the last one sent.
    let mut last = 0;
    loop {
        let params = server.await_diagnostics(uri);
        let version = params["version"].as_i64().unwrap();
        assert!(version >= last, "version {version} published after {last}");
        last = version;
        if version == 62 {
            assert_eq!(params["diagnostics"].as_array().unwrap().len(), 2);
            break;
        }
    }
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let mut server = started(false);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit().code(), Some(1));
}

#[test]
fn non_terraform_documents_are_ignored() {
    let mut server = started(false);
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": "file:///w/notes.md", "languageId": "markdown", "version": 1, "text": MODEL}}),
    );
    server.open("file:///w/main.tf", "");
    assert_eq!(
        server.await_diagnostics_at("file:///w/main.tf", 1),
        Vec::<Value>::new()
    );
    server.assert_quiet(Duration::from_millis(300));
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn a_panic_in_analysis_clears_diagnostics_and_the_server_keeps_serving() {
    let mut server = Server::spawn_env(&[], &[("SAGEMAKER_VPC_LSP_FAULT", "analysis")]);
    server.initialize(capabilities(false), Value::Null);
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    assert_eq!(server.await_diagnostics_at(uri, 1).len(), 1);
    // This version makes the analysis panic: its diagnostics are cleared
    // rather than left stale.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": format!("# FAULT-INJECTION\n{MODEL}")}]}),
    );
    assert_eq!(server.await_diagnostics_at(uri, 2), Vec::<Value>::new());
    // The next version analyses normally; other requests are answered.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": MODEL}]}),
    );
    assert_eq!(server.await_diagnostics_at(uri, 3).len(), 1);
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 12}}),
    );
    assert!(hover["contents"]["value"].is_string());
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A model whose block is unfinished is not passed in silence: it gets a
/// hint that it was not checked — a hint whatever the configured severity,
/// with no quick fix — and the real verdict replaces it once the block is
/// closed.
#[test]
fn an_unfinished_model_is_a_not_checked_hint_until_it_parses() {
    let mut server = Server::spawn();
    server.settings = json!({"severity": "error"});
    server.initialize(capabilities(false), Value::Null);
    let uri = "file:///w/main.tf";
    let text = "resource \"aws_sagemaker_model\" \"m\" {\n  name = [,]\n}\n";
    server.open(uri, text);
    let d = server.await_diagnostics_at(uri, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["severity"], 4, "{d:?}");
    assert_eq!(d[0]["data"]["problem"], "not_checked", "{d:?}");
    assert_eq!(d[0]["range"]["start"], json!({"line": 0, "character": 0}));
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("aws_sagemaker_model.m was not checked: its block has syntax errors"),
        "{d:?}"
    );
    assert!(
        code_actions(&mut server, uri, &d[0], None).is_empty(),
        "nothing to fix or suppress on a model that was not checked"
    );
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 12}}),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("**not checked**: the block has syntax errors"),
        "{value}"
    );
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": 1, "character": 9}, "end": {"line": 1, "character": 12}},
                "text": "\"m\""
            }]
        }),
    );
    // The pulled settings (error) may be applied after this version's
    // first publish: whichever is published last carries them.
    let mut d = server.await_diagnostics_at(uri, 2);
    while d.first().is_some_and(|d| d["severity"] != 1) {
        d = server.await_diagnostics_at(uri, 2);
    }
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["data"]["problem"], "missing_vpc_config", "{d:?}");
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A word typed on the line above a model makes clean HCL that Terraform
/// rejects (a block of type `x` whose labels hide the model's header): as
/// the edit is read incrementally, the model becomes not checked, and gets
/// its verdict back once the word is gone.
#[test]
fn a_word_typed_above_a_model_makes_it_not_checked_until_it_goes() {
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    let uri = "file:///w/main.tf";
    let text = "resource \"aws_sagemaker_model\" \"a\" {\n  name = \"a\"\n}\n\nresource \"aws_sagemaker_model\" \"b\" {\n  name = \"b\"\n}\n";
    server.open(uri, text);
    let verdicts = |d: &[Value]| -> Vec<(String, String, Value)> {
        d.iter()
            .map(|d| {
                (
                    d["data"]["resource"].as_str().unwrap().to_owned(),
                    d["data"]["problem"].as_str().unwrap().to_owned(),
                    d["range"]["start"]["line"].clone(),
                )
            })
            .collect()
    };
    let both_missing = [
        (
            "aws_sagemaker_model.a".into(),
            "missing_vpc_config".into(),
            json!(0),
        ),
        (
            "aws_sagemaker_model.b".into(),
            "missing_vpc_config".into(),
            json!(4),
        ),
    ];
    assert_eq!(verdicts(&server.await_diagnostics_at(uri, 1)), both_missing);
    let edit = |server: &mut Server, version: i64, range: Value, text: &str| {
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": range, "text": text}]
            }),
        );
    };
    let at = |line: u32| json!({"line": line, "character": 0});
    edit(&mut server, 2, json!({"start": at(4), "end": at(4)}), "x\n");
    let d = server.await_diagnostics_at(uri, 2);
    assert_eq!(
        verdicts(&d),
        [
            (
                "aws_sagemaker_model.a".into(),
                "missing_vpc_config".into(),
                json!(0)
            ),
            (
                "aws_sagemaker_model.b".into(),
                "not_checked".into(),
                json!(5)
            ),
        ]
    );
    assert_eq!(d[1]["severity"], 4, "{d:?}");
    edit(&mut server, 3, json!({"start": at(4), "end": at(5)}), "");
    assert_eq!(verdicts(&server.await_diagnostics_at(uri, 3)), both_missing);
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A model whose keyword is misspelt (`resourc`, `xresource`: Terraform
/// rejects the block type) or given a label to spare is not checked, in
/// step with the edits that make and mend it, rather than gone.
#[test]
fn a_misspelt_model_header_makes_it_not_checked_until_mended() {
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    let uri = "file:///w/main.tf";
    let text = "resource \"aws_sagemaker_model\" \"a\" {\n  name = \"a\"\n}\n\nresource \"aws_sagemaker_model\" \"b\" {\n  name = \"b\"\n}\n";
    server.open(uri, text);
    let verdicts = |d: &[Value]| -> Vec<String> {
        d.iter()
            .map(|d| {
                format!(
                    "{} {} {}",
                    d["data"]["resource"].as_str().unwrap(),
                    d["data"]["problem"].as_str().unwrap(),
                    d["range"]["start"]["line"]
                )
            })
            .collect()
    };
    let both_missing = [
        "aws_sagemaker_model.a missing_vpc_config 0",
        "aws_sagemaker_model.b missing_vpc_config 4",
    ];
    assert_eq!(verdicts(&server.await_diagnostics_at(uri, 1)), both_missing);
    let mut version = 1;
    let mut edit = |server: &mut Server, line: u32, from: u32, to: u32, text: &str| {
        version += 1;
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {
                    "start": {"line": line, "character": from},
                    "end": {"line": line, "character": to}
                }, "text": text}]
            }),
        );
        verdicts(&server.await_diagnostics_at(uri, version))
    };
    // `xresource "aws_sagemaker_model" "b" {`
    assert_eq!(
        edit(&mut server, 4, 0, 0, "x"),
        [
            "aws_sagemaker_model.a missing_vpc_config 0",
            "aws_sagemaker_model.b not_checked 4"
        ]
    );
    // `resourc "aws_sagemaker_model" "a" {` as well
    assert_eq!(
        edit(&mut server, 0, 7, 8, ""),
        [
            "aws_sagemaker_model.a not_checked 0",
            "aws_sagemaker_model.b not_checked 4"
        ]
    );
    assert_eq!(
        edit(&mut server, 4, 0, 1, ""),
        [
            "aws_sagemaker_model.a not_checked 0",
            "aws_sagemaker_model.b missing_vpc_config 4"
        ]
    );
    // `resource "aws_sagemaker_model" "a" "z" {`
    assert_eq!(edit(&mut server, 0, 7, 7, "e"), both_missing);
    assert_eq!(
        edit(&mut server, 0, 35, 35, " \"z\""),
        [
            "aws_sagemaker_model.a not_checked 0",
            "aws_sagemaker_model.b missing_vpc_config 4"
        ]
    );
    assert_eq!(edit(&mut server, 0, 35, 39, ""), both_missing);
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A module call whose source `terraform init` has not installed is a
/// hint, "not followed", whatever the configured severity, with nothing
/// to fix or suppress: what the module declares was not checked.
#[test]
fn a_module_call_not_installed_is_a_not_followed_hint() {
    let mut server = Server::spawn();
    server.settings = json!({"severity": "error"});
    server.initialize(capabilities(false), Value::Null);
    let uri = "file:///w/main.tf";
    server.open(
        uri,
        "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n\nmodule \"local\" {\n  source = \"./local\"\n}\n",
    );
    let d = server.await_diagnostics_at(uri, 1);
    // `/w/local` is not there either.
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[1]["data"]["resource"], "module.local", "{d:?}");
    assert_eq!(d[0]["severity"], 4, "{d:?}");
    assert_eq!(d[0]["data"]["problem"], "not_followed", "{d:?}");
    assert_eq!(d[0]["data"]["resource"], "module.vpc", "{d:?}");
    assert_eq!(d[0]["range"]["start"], json!({"line": 0, "character": 0}));
    assert_eq!(
        d[0]["message"],
        "module.vpc was not checked: its source \"terraform-aws-modules/vpc/aws\" is not installed (run terraform init, then check again)"
    );
    assert!(code_actions(&mut server, uri, &d[0], None).is_empty());
    // Installed (its root's record says where), even with no workspace
    // folder to index: followed, so no hint.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".terraform/modules/vpc")).unwrap();
    std::fs::write(
        dir.path().join(".terraform/modules/modules.json"),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"vpc","Source":"registry.terraform.io/terraform-aws-modules/vpc/aws","Dir":".terraform/modules/vpc"}]}"#,
    )
    .unwrap();
    let text = "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n";
    std::fs::write(dir.path().join("main.tf"), text).unwrap();
    let installed = file_uri(&dir.path().join("main.tf"));
    server.open(&installed, text);
    assert_eq!(
        server.await_diagnostics_at(&installed, 1),
        Vec::<Value>::new()
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

/// With the control's own rule disabled, the rules that still check models
/// could not check a broken one either: it stays named as not checked, and
/// a well-formed model outside a VPC is not reported.
#[test]
fn a_not_checked_model_is_shown_while_any_rule_checking_models_is_enabled() {
    let mut server = Server::spawn();
    server.settings = json!({"rules": {"sagemaker_model_in_vpc": {"enable": false}}});
    server.initialize(
        capabilities(false),
        json!({"rules": {"sagemaker_model_in_vpc": {"enable": false}}}),
    );
    let uri = "file:///w/main.tf";
    let text = format!("{MODEL}resource \"aws_sagemaker_model\" \"broken\" {{\n  name = [,]\n}}\n");
    server.open(uri, &text);
    let d = server.await_diagnostics_at(uri, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["data"]["problem"], "not_checked", "{d:?}");
    assert_eq!(
        d[0]["data"]["resource"], "aws_sagemaker_model.broken",
        "{d:?}"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}
