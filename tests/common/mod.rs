//! A small LSP client for end-to-end tests: spawns the real binary, speaks
//! JSON-RPC over its stdio, answers the server's requests, and fails loudly on
//! timeouts and on messages nobody looked at.
#![allow(dead_code, clippy::unwrap_used)]

pub mod props;
pub mod terraform;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_sagemaker-vpc-lsp");
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    arrivals: Arrivals,
    next_id: i64,
    /// Messages received but not yet consumed by the test.
    pending: VecDeque<Value>,
    /// What `workspace/configuration` answers.
    pub settings: Value,
    /// Every request the server sent us (method, params).
    pub server_requests: Vec<(String, Value)>,
    /// Every line the server wrote to stderr so far.
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// How long `take` and friends wait before failing ([`TIMEOUT`]; the
    /// latency benchmark raises it to measure slow servers).
    pub timeout: Duration,
    finished: bool,
}

/// Reads `Content-Length`-framed messages until the stream ends.
/// When each versioned `publishDiagnostics` arrived, by (uri, version):
/// stamped once its bytes are read, before the client parses them.
type Arrivals = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(String, i64), Instant>>>;

fn read_messages(stdout: impl Read, tx: std::sync::mpsc::Sender<Value>, arrivals: Arrivals) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("Content-Length header")];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let arrived = Instant::now();
        let value: Value = serde_json::from_slice(&body).expect("server sent invalid JSON");
        if value["method"] == "textDocument/publishDiagnostics"
            && let (Some(uri), Some(version)) = (
                value["params"]["uri"].as_str(),
                value["params"]["version"].as_i64(),
            )
        {
            arrivals
                .lock()
                .unwrap()
                .insert((uri.to_owned(), version), arrived);
        }
        if tx.send(value).is_err() {
            return;
        }
    }
}

impl Server {
    pub fn spawn() -> Self {
        Self::spawn_with(&[])
    }

    pub fn spawn_with(args: &[&str]) -> Self {
        Self::spawn_env(args, &[])
    }

    pub fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn_program(BIN, args, env)
    }

    /// Spawns `program` (another build of the server, for the benchmark's
    /// before/after figures). `env` wins over the default debug log level.
    pub fn spawn_program(program: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .env("SAGEMAKER_VPC_LSP_LOG", "debug")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        let arrivals = Arrivals::default();
        let stamps = std::sync::Arc::clone(&arrivals);
        std::thread::spawn(move || read_messages(stdout, tx, stamps));
        // Drain stderr so the server never blocks on a full pipe; keep it
        // for tests that read the log.
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = std::sync::Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("LSP_TEST_STDERR").is_some() {
                    eprintln!("[server] {line}");
                }
                keep.lock().unwrap().push(line);
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            rx,
            arrivals,
            next_id: 1,
            pending: VecDeque::new(),
            settings: Value::Null,
            server_requests: Vec::new(),
            stderr: lines,
            timeout: TIMEOUT,
            finished: false,
        }
    }

    /// Writes to the server's stdin (nothing once it is closed).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).unwrap();
        let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        framed.extend(body);
        self.send_raw(&framed);
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let mut message = json!({"jsonrpc": "2.0", "method": method});
        if !params.is_null() {
            message["params"] = params;
        }
        self.send(&message);
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id, method)
    }

    /// Sends a request without waiting; [`Self::response`] takes its answer.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            message["params"] = params;
        }
        self.send(&message);
        id
    }

    /// The response to request `id` (`what` names it in a timeout).
    pub fn response(&mut self, id: i64, what: &str) -> Value {
        self.take(
            |m| m.get("id") == Some(&json!(id)) && m.get("method").is_none(),
            what,
        )
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Receives one message, answering server requests on the way.
    fn receive(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(message) => {
                    if message.get("id").is_some() && message.get("method").is_some() {
                        self.answer(&message);
                        continue;
                    }
                    return Some(message);
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    fn answer(&mut self, request: &Value) {
        let method = request["method"].as_str().unwrap().to_owned();
        self.server_requests
            .push((method.clone(), request["params"].clone()));
        let result = match method.as_str() {
            "workspace/configuration" => {
                let n = request["params"]["items"].as_array().map_or(1, Vec::len);
                Value::Array(vec![self.settings.clone(); n])
            }
            "workspace/applyEdit" => json!({"applied": true}),
            _ => Value::Null,
        };
        let id = request["id"].clone();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// The first message (pending or new) that satisfies `pred`.
    pub fn take(&mut self, pred: impl Fn(&Value) -> bool, what: &str) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = Instant::now() + self.timeout;
        while let Some(message) = self.receive(deadline) {
            if pred(&message) {
                return message;
            }
            self.pending.push_back(message);
        }
        panic!(
            "timed out waiting for {what}; unconsumed: {:#?}",
            self.pending
        );
    }

    pub fn await_notification(&mut self, method: &str) -> Value {
        self.take(|m| m["method"] == method, method)["params"].clone()
    }

    /// The next `publishDiagnostics` for `uri`.
    pub fn await_diagnostics(&mut self, uri: &str) -> Value {
        let uri = uri.to_owned();
        self.take(
            move |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri,
            "publishDiagnostics",
        )["params"]
            .clone()
    }

    /// Waits for the diagnostics of `uri` at `version`, skipping older ones.
    pub fn await_diagnostics_at(&mut self, uri: &str, version: i64) -> Vec<Value> {
        loop {
            let params = self.await_diagnostics(uri);
            let got = params["version"].as_i64().unwrap_or(-1);
            assert!(
                got <= version,
                "published version {got} after asking for {version}"
            );
            if got == version {
                return params["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A memory figure of the server from `/proc/<pid>/status`, in kB
    /// (`field` as written there: `VmRSS:`, `RssAnon:`); `None` where there
    /// is no such file.
    pub fn status_kb(&self, field: &str) -> Option<u64> {
        status_kb(self.pid(), field)
    }

    /// When the diagnostics of `uri` at `version` arrived (their bytes
    /// read, before parsing), if they did.
    pub fn arrival(&self, uri: &str, version: i64) -> Option<Instant> {
        self.arrivals
            .lock()
            .unwrap()
            .get(&(uri.to_owned(), version))
            .copied()
    }

    /// Nothing else arrives within `wait`.
    pub fn assert_quiet(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        if let Some(message) = self.receive(deadline) {
            self.pending.push_back(message);
        }
        let unexpected: Vec<&Value> = self
            .pending
            .iter()
            .filter(|m| m["method"] != "window/logMessage")
            .collect();
        assert!(
            unexpected.is_empty(),
            "unexpected messages: {unexpected:#?}"
        );
    }

    pub fn initialize(&mut self, capabilities: Value, options: Value) -> Value {
        let result = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": null,
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        );
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "terraform", "version": 1, "text": text}}),
        );
    }

    /// Shuts down and exits; returns the exit status. stdin stays open, as
    /// editors leave it: `exit` alone must end the process.
    pub fn shutdown(mut self) -> ExitStatus {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit_keeping_stdin()
    }

    pub fn wait_exit_keeping_stdin(&mut self) -> ExitStatus {
        self.finished = true;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after `exit`"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the log to hold a line containing `needle`.
    pub fn await_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(line) = self.log().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}: {:#?}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to end by itself (stdin left open).
    pub fn await_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.finished = true;
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes stdin now.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Takes every message received so far.
    pub fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        while let Some(message) = self.receive(deadline) {
            self.pending.push_back(message);
        }
        self.pending.drain(..).collect()
    }

    pub fn wait_exit(&mut self) -> ExitStatus {
        self.finished = true;
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
        }
        if !std::thread::panicking() && self.finished {
            let unexpected: Vec<&Value> = self
                .pending
                .iter()
                .filter(|m| {
                    m["method"] != "window/logMessage"
                        && m["method"] != "textDocument/publishDiagnostics"
                })
                .collect();
            assert!(
                unexpected.is_empty(),
                "messages nobody consumed: {unexpected:#?}"
            );
        }
    }
}

/// Client capabilities of a modern client: UTF-8 offered or not, versioned
/// document changes, configuration pull.
pub fn capabilities(utf8: bool) -> Value {
    let encodings = if utf8 {
        json!(["utf-8", "utf-16"])
    } else {
        json!(["utf-16"])
    };
    json!({
        "general": {"positionEncodings": encodings},
        "workspace": {
            "workspaceEdit": {"documentChanges": true},
            "configuration": true,
            "didChangeConfiguration": {"dynamicRegistration": true}
        },
        "textDocument": {
            "publishDiagnostics": {"relatedInformation": true, "versionSupport": true},
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "source.fixAll"]}}}
        }
    })
}

/// Applies LSP text edits (positions in `encoding`) to `text`.
pub fn apply_edits(text: &str, edits: &[Value], utf8: bool) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap() as usize;
        let character = pos["character"].as_u64().unwrap() as usize;
        let mut start = 0;
        for _ in 0..line {
            start += text[start..].find('\n').unwrap() + 1;
        }
        if utf8 {
            return start + character;
        }
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= character {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut resolved: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    resolved.sort_by_key(|(s, e, _)| (*s, *e));
    let mut out = text.to_owned();
    for (s, e, t) in resolved.into_iter().rev() {
        out.replace_range(s..e, &t);
    }
    out
}

pub fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

/// [`Server::status_kb`] of the process `pid`: for a thread that samples
/// the server while another drives it.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
