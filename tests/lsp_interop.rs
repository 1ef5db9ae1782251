//! Every client, every message: the server driven as odd clients drive it,
//! through the real binary over stdio.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Server, capabilities, file_uri};
use serde_json::{Value, json};

const MODEL: &str = "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"m\"\n}\n";

fn started() -> Server {
    let mut server = Server::spawn();
    server.initialize(capabilities(false), Value::Null);
    server
}

/// The text of the next `window/showMessage`.
fn shown_message(server: &mut Server) -> String {
    let shown = server.await_notification("window/showMessage");
    shown["message"].as_str().unwrap().to_owned()
}

/// A string this long makes a tree of ~3.4 GB, over the server's budget.
const HUGE: usize = 16 * 1024 * 1024;

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn shutdown_and_exit_accept_any_empty_params() {
    // Emacs eglot sends `"params": null`; others `{}`, `[]` or nothing.
    for params in [json!(null), json!({}), json!([])] {
        let mut server = started();
        server.send(&json!({"jsonrpc": "2.0", "id": 99, "method": "shutdown", "params": params}));
        let reply = server.take(|m| m["id"] == 99, "shutdown");
        assert_eq!(reply["result"], Value::Null, "{params}: {reply}");
        assert!(reply.get("error").is_none(), "{params}: {reply}");
        server.send(&json!({"jsonrpc": "2.0", "method": "exit", "params": params}));
        assert_eq!(server.wait_exit_keeping_stdin().code(), Some(0), "{params}");
    }
}

/// After the bad bytes, five well-formed requests are all answered, and a
/// shutdown + exit still ends the process cleanly.
fn survives(bad: &[u8]) {
    let mut server = started();
    server.send_raw(bad);
    let error = server.take(
        |m| m.get("error").is_some() && m["id"].is_null(),
        "a parse error",
    );
    assert_eq!(error["error"]["code"], -32700, "{error}");
    for i in 0..5 {
        let id = 100 + i;
        // Real clients send no newline after a body.
        server.send_raw(&frame(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"textDocument/hover\",\"params\":{{\"textDocument\":{{\"uri\":\"file:///none.tf\"}},\"position\":{{\"line\":0,\"character\":0}}}}}}"
        )));
        let reply = server.take(|m| m["id"] == id, "a hover reply");
        assert!(reply.get("error").is_none(), "{reply}");
    }
    // The rest of a cut body is junk too, reported as such.
    for m in server.drain(Duration::from_millis(50)) {
        assert_eq!(m["error"]["code"], -32700, "{m}");
    }
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn a_header_block_without_content_length() {
    survives(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}");
}

#[test]
fn a_content_length_that_is_not_a_number() {
    survives(b"Content-Length: abc\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}");
}

#[test]
fn a_content_length_shorter_than_the_body() {
    let body = "{\"jsonrpc\":\"2.0\",\"method\":\"$/setTrace\",\"params\":{\"value\":\"off\"}}";
    survives(format!("Content-Length: {}\r\n\r\n{body}", body.len() - 5).as_bytes());
}

#[test]
fn stray_bytes_without_a_newline() {
    survives(b"these bytes belong to nothing");
}

#[test]
fn unknown_requests_get_method_not_found_then_invalid_request_after_shutdown() {
    let mut server = started();
    for method in ["$/unknown", "textDocument/diagnostic", "nonsense"] {
        let reply = server.request_raw(method, json!({}));
        assert_eq!(reply["error"]["code"], -32601, "{method}: {reply}");
    }
    // An unknown notification, `$/` or not, is ignored.
    server.notify("$/unknownNotification", json!({}));
    server.request("shutdown", Value::Null);
    for method in ["textDocument/hover", "$/unknown", "initialize"] {
        let reply = server.request_raw(method, json!({}));
        assert_eq!(reply["error"]["code"], -32600, "{method}: {reply}");
    }
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit_keeping_stdin().code(), Some(0));
    // Before initialize, requests are refused with ServerNotInitialized.
    let mut fresh = Server::spawn();
    let reply = fresh.request_raw("textDocument/hover", json!({}));
    assert_eq!(reply["error"]["code"], -32002, "{reply}");
    fresh.notify("exit", Value::Null);
    assert_eq!(fresh.wait_exit_keeping_stdin().code(), Some(1));
}

#[test]
fn exit_sent_with_an_id_still_ends_the_process() {
    let mut server = started();
    server.request("shutdown", Value::Null);
    server.send(&json!({"jsonrpc": "2.0", "id": 7, "method": "exit"}));
    assert_eq!(server.wait_exit_keeping_stdin().code(), Some(0));
    let mut server = started();
    server.send(&json!({"jsonrpc": "2.0", "id": 8, "method": "exit", "params": null}));
    assert_eq!(server.wait_exit_keeping_stdin().code(), Some(1));
}

#[test]
fn a_dead_client_process_ends_the_server() {
    // At initialize: the process is already gone.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let mut server = Server::spawn();
    server.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": dead, "capabilities": {}}}));
    let status = server.await_exit(Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "the server lives on"
    );
    // Later: the parent dies while stdin stays open.
    let mut parent = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let mut server = Server::spawn();
    server.request(
        "initialize",
        json!({"processId": parent.id(), "capabilities": {}}),
    );
    server.notify("initialized", json!({}));
    parent.kill().unwrap();
    parent.wait().unwrap();
    let status = server.await_exit(Duration::from_secs(15));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "the server lives on"
    );
}

#[test]
fn closing_stdin_during_a_long_analysis_ends_the_server_without_waiting() {
    let mut server = started();
    let mut big = String::new();
    while big.len() < 5_000_000 {
        big.push_str(&MODEL.replace("\"m\"", &format!("\"m{}\"", big.len())));
    }
    server.open("file:///w/big.tf", &big);
    server.close_stdin();
    let status = server.await_exit(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    // Parsing 5 MB takes seconds; the parse gave up when the input closed
    // instead of keeping the process alive until it finished.
    server.await_log("input closed while opening the document; not checked");
    // It did not wait for the analysis: nothing was published.
    let messages = server.drain(Duration::from_millis(100));
    assert!(
        !messages
            .iter()
            .any(|m| m["method"] == "textDocument/publishDiagnostics"),
        "the analysis was waited for"
    );
}

#[test]
fn a_change_that_cannot_be_read_is_logged_and_the_document_dropped() {
    for bad in [
        json!({"textDocument": {"uri": "file:///w/main.tf", "version": 2}, "contentChanges": [{"range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}]}),
        json!({"textDocument": {"uri": "file:///w/main.tf", "version": "2"}, "contentChanges": []}),
        json!({"textDocument": {"uri": "file:///w/main.tf", "version": 2147483648i64}, "contentChanges": []}),
    ] {
        let mut server = Server::spawn_env(&[], &[("SAGEMAKER_VPC_LSP_LOG", "warn")]);
        server.initialize(capabilities(false), Value::Null);
        server.open("file:///w/main.tf", MODEL);
        let first = server.await_diagnostics("file:///w/main.tf");
        assert_eq!(first["diagnostics"].as_array().unwrap().len(), 1);
        server.notify("textDocument/didChange", bad.clone());
        // Its diagnostics are cleared rather than left stale…
        let cleared = server.await_diagnostics("file:///w/main.tf");
        assert_eq!(cleared["diagnostics"], json!([]), "{bad}");
        // …the user is told, and the log names the document.
        let shown = shown_message(&mut server);
        assert!(shown.contains("file:///w/main.tf"), "{shown}");
        let line = server.await_log("didChange with params that cannot be read");
        assert!(
            line.contains("WARN") && line.contains("file:///w/main.tf"),
            "{line}"
        );
        assert_eq!(server.shutdown().code(), Some(0));
    }
}

#[test]
fn unencoded_uris_are_published_as_the_client_sent_them() {
    let mut server = started();
    for uri in ["file:///tmp/my models/main.tf", "file:///tmp/mödel/ürl.tf"] {
        server.open(uri, MODEL);
        let params = server.await_diagnostics(uri);
        assert_eq!(params["uri"], uri);
        assert_eq!(params["diagnostics"].as_array().unwrap().len(), 1);
    }
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn no_log_noise_for_what_clients_normally_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn_env(&[], &[("SAGEMAKER_VPC_LSP_LOG", "info")]);
    // A client that pushes its settings.
    server.initialize(json!({}), Value::Null);
    // VS Code asks for pull diagnostics, which are not advertised.
    let reply = server.request_raw(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": "file:///w/main.tf"}}),
    );
    assert_eq!(reply["error"]["code"], -32601);
    // A new, unsaved file opened and closed.
    let uri = file_uri(&dir.path().join("new.tf"));
    server.open(&uri, MODEL);
    server.await_diagnostics(&uri);
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    server.await_diagnostics(&uri);
    // A settings error names each bad key once, with its section once.
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"sagemakerVpcLsp": 5}}),
    );
    let message = shown_message(&mut server);
    assert!(
        message.contains("sagemakerVpcLsp: expected an object"),
        "{message}"
    );
    assert!(
        !message.contains("sagemakerVpcLsp.sagemakerVpcLsp"),
        "{message}"
    );
    let log = std::sync::Arc::clone(&server.stderr);
    assert_eq!(server.shutdown().code(), Some(0));
    let noise: Vec<String> = log
        .lock()
        .unwrap()
        .clone()
        .into_iter()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .collect();
    assert!(noise.is_empty(), "{noise:#?}");
}

/// Applies LSP edits to `text` (UTF-16 columns), checking that no position
/// lies past the document's last line.
fn apply_inside(text: &str, edits: &[Value]) -> String {
    let lines = text.lines().count().max(1);
    for e in edits {
        for end in ["start", "end"] {
            let line = e["range"][end]["line"].as_u64().unwrap() as usize;
            assert!(
                line < lines,
                "an edit at line {line} of a {lines}-line document: {e}"
            );
        }
    }
    common::apply_edits(text, edits, false)
}

#[test]
fn fix_edits_stay_inside_the_document_with_and_without_a_final_newline() {
    for text in [
        MODEL.to_owned(),
        MODEL.trim_end().to_owned(),
        MODEL.replace('\n', "\r\n"),
    ] {
        let mut server = started();
        let uri = "file:///w/edge.tf";
        server.open(uri, &text);
        server.await_diagnostics(uri);
        let actions = server.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}),
        );
        let preferred = actions
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["isPreferred"] == true)
            .unwrap();
        let edits = preferred["edit"]["documentChanges"][0]["edits"]
            .as_array()
            .unwrap();
        let fixed = apply_inside(&text, edits);
        assert!(fixed.contains("variable \"subnet_ids\""), "{fixed}");
        assert_eq!(server.shutdown().code(), Some(0));
    }
}

#[test]
fn a_cancelled_request_is_answered_request_cancelled() {
    let mut server = Server::spawn_env(&[], &[("SAGEMAKER_VPC_LSP_FAULT", "slow-requests")]);
    server.initialize(capabilities(false), Value::Null);
    let uri = "file:///w/main.tf";
    server.open(uri, MODEL);
    server.await_diagnostics(uri);
    server.send(&json!({"jsonrpc": "2.0", "id": 41, "method": "textDocument/hover", "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 12}}}));
    server.notify("$/cancelRequest", json!({"id": 41}));
    let reply = server.take(|m| m["id"] == 41, "the cancelled hover");
    assert_eq!(reply["error"]["code"], -32800, "{reply}");
    // Keystrokes are served while requests are slow.
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": ""}]}),
    );
    let cleared = server.await_diagnostics(uri);
    assert_eq!(cleared["diagnostics"], json!([]));
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A model whose name is a list nested `depth` deep.
fn nested_model(depth: usize) -> String {
    format!(
        "resource \"aws_sagemaker_model\" \"m\" {{\n  name = {}{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// A value nested 100,000 deep used to overflow the stack and abort the
/// server. Now it is an unknown value: the model is still reported, hover
/// and code actions inside it answer, and the next edit is checked.
#[test]
fn deep_nesting_neither_crashes_nor_hides_the_model() {
    let mut server = started();
    let uri = "file:///w/deep.tf";
    let n = 100_000;
    let text = nested_model(n);
    server.open(uri, &text);
    let diagnostics = server.await_diagnostics_at(uri, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let inside = json!({"line": 1, "character": 9 + n / 2});
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": inside}),
    );
    assert!(hover.is_null() || hover["contents"].is_object(), "{hover}");
    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri},
               "range": diagnostics[0]["range"],
               "context": {"diagnostics": diagnostics}}),
    );
    assert!(!actions.as_array().unwrap().is_empty(), "{actions}");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": inside, "end": inside}, "text": "[]"}]}),
    );
    // The same finding: analysed, not published again.
    server.await_log("version=2 findings=1");
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A document whose tree would take gigabytes (a 16 MB string of `$`, a
/// token a character: ~3.4 GB) is refused at open with a message, instead
/// of the server being killed for memory; the server goes on serving other
/// documents. A 16 MB string of plain text, one token, is checked, in `.tf`
/// and `.tf.json` alike. A list nested millions deep is refused too.
#[test]
fn a_document_too_costly_to_parse_is_refused_with_a_message() {
    let mut server = started();
    let uri = "file:///w/blob.tf";
    let string = |text: &str| {
        format!("resource \"aws_sagemaker_model\" \"m\" {{\n  name = \"{text}\"\n}}\n")
    };
    server.open(uri, &string(&"$".repeat(HUGE)));
    let message = shown_message(&mut server);
    assert!(
        message.contains(uri) && message.contains("GB of memory"),
        "{message}"
    );
    server.open("file:///w/ok.tf", MODEL);
    assert_eq!(server.await_diagnostics_at("file:///w/ok.tf", 1).len(), 1);
    let plain_uri = "file:///w/plain.tf";
    server.open(plain_uri, &string(&"a".repeat(HUGE)));
    assert_eq!(server.await_diagnostics_at(plain_uri, 1).len(), 1);
    let json_uri = "file:///w/blob.tf.json";
    let json = format!(
        "{{\"resource\": {{\"aws_sagemaker_model\": {{\"m\": {{\"name\": \"{}\"}}}}}}}}",
        "a".repeat(HUGE)
    );
    server.open(json_uri, &json);
    assert_eq!(server.await_diagnostics_at(json_uri, 1).len(), 1);
    // A list nested six million deep is about as costly, in tokens.
    let nested_uri = "file:///w/nested.tf";
    server.open(nested_uri, &nested_model(6_000_000));
    let message = shown_message(&mut server);
    assert!(
        message.contains(nested_uri) && message.contains("nested"),
        "{message}"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

/// A document the server does not check in the editor shows nothing, not
/// the finding the workspace scan made of its file on disk: its unsaved text
/// may no longer hold it, and the diagnostic would be stale. Not when it is
/// refused on open, not when its folder is scanned again, not when a paste
/// drops it. Closed, it shows the file on disk's finding again.
#[test]
fn a_document_not_checked_in_the_editor_shows_no_finding_of_its_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.tf");
    std::fs::write(&path, MODEL).unwrap();
    let uri = file_uri(&path);
    let mut server = Server::spawn();
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(dir.path()), "capabilities": capabilities(false)}),
    );
    server.notify("initialized", json!({}));
    let diagnostics = |params: &Value| params["diagnostics"].as_array().unwrap().len();
    assert_eq!(diagnostics(&server.await_diagnostics(&uri)), 1);
    // Unsaved: the model is in a VPC now, in a document too costly to parse.
    let in_vpc = format!(
        "resource \"aws_sagemaker_model\" \"m\" {{\n  name = \"{}\"\n  vpc_config {{\n    subnets = [\"s\"]\n    security_group_ids = [\"g\"]\n  }}\n}}\n",
        "$".repeat(HUGE)
    );
    server.open(&uri, &in_vpc);
    assert!(shown_message(&mut server).contains("does not check"));
    assert_eq!(diagnostics(&server.await_diagnostics(&uri)), 0);
    // The folder is scanned again (a file created in it): the other file's
    // finding comes, and none for the document.
    let other = dir.path().join("other.tf");
    std::fs::write(&other, MODEL.replace("\"m\"", "\"n\"")).unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&other), "type": 1}]}),
    );
    assert_eq!(diagnostics(&server.await_diagnostics(&file_uri(&other))), 1);
    // Closed: the finding of the file on disk is shown again.
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(diagnostics(&server.await_diagnostics(&uri)), 1);
    // Opened as it is on disk (the same finding: not published again), then
    // dropped by a paste too costly to parse.
    server.open(&uri, MODEL);
    server.await_log("version=1 findings=1");
    let at = json!({"line": 1, "character": 10});
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": at, "end": at}, "text": "$".repeat(HUGE)}]}),
    );
    assert!(shown_message(&mut server).contains("stopped checking"));
    assert_eq!(diagnostics(&server.await_diagnostics(&uri)), 0);
    std::fs::write(&other, "variable \"v\" {}\n").unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&other), "type": 2}]}),
    );
    assert_eq!(diagnostics(&server.await_diagnostics(&file_uri(&other))), 0);
    // Every message up to a response to a later request is in: none
    // showed the document a finding.
    server.request("shutdown", Value::Null);
    let late: Vec<Value> = server
        .drain(Duration::ZERO)
        .into_iter()
        .filter(|m| m["params"]["uri"] == json!(uri))
        .collect();
    assert!(late.is_empty(), "{late:#?}");
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit().code(), Some(0));
}

/// The same budget holds for an edit: pasting 16 MB of `$` drops the
/// document with a message (and clears its diagnostics) instead of parsing
/// it; a full-text change of an ordinary 2 MB file, and a paste of 16 MB of
/// plain text into a string, are still applied.
#[test]
fn a_paste_too_costly_to_parse_drops_the_document_with_a_message() {
    let mut server = started();
    let uri = "file:///w/paste.tf";
    server.open(uri, MODEL);
    assert_eq!(server.await_diagnostics_at(uri, 1).len(), 1);
    // A full text of 2 MB of code and comments: well within the budget.
    let big = format!(
        "{}{}",
        MODEL.replace("\"m\"", "\"big\""),
        "# a comment, and some padding for it to be long enough\n".repeat(40_000)
    );
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": big}]}),
    );
    assert_eq!(server.await_diagnostics_at(uri, 2).len(), 1);
    let at = json!({"line": 1, "character": 10});
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
               "contentChanges": [{"range": {"start": at, "end": at}, "text": "a".repeat(HUGE)}]}),
    );
    // Analyzed (and not published again: the finding is the same).
    server.await_log("version=3 findings=1");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4},
               "contentChanges": [{"range": {"start": at, "end": at}, "text": "$".repeat(HUGE)}]}),
    );
    let message = shown_message(&mut server);
    assert!(
        message.contains("stopped checking") && message.contains("GB of memory"),
        "{message}"
    );
    assert!(
        server.await_diagnostics(uri)["diagnostics"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.shutdown().code(), Some(0));
}
