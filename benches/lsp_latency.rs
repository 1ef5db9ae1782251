//! Typing latency of the real server over stdio: for documents of 10 KB,
//! 100 KB and 1 MB, type single characters and time each `didChange` until
//! the `publishDiagnostics` of that version arrives. Prints p50/p99.
//!
//! Run: `cargo bench --bench lsp_latency` (optionally `-- --keystrokes N`).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_sagemaker-vpc-lsp");

/// A realistic module: networking, IAM, compliant and non-compliant models.
fn chunk(i: usize) -> String {
    format!(
        r#"resource "aws_subnet" "private_{i}" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.{a}.{b}.0/24"
  availability_zone = "eu-west-1a"
  tags = {{
    Name = "private-{i}"
  }}
}}

resource "aws_security_group" "model_{i}" {{
  name   = "model-{i}"
  vpc_id = aws_vpc.main.id

  egress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }}
}}

resource "aws_sagemaker_model" "compliant_{i}" {{
  name               = "compliant-{i}"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {{
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:{i}"
  }}

  vpc_config {{
    security_group_ids = [aws_security_group.model_{i}.id]
    subnets            = [aws_subnet.private_{i}.id]
  }}
}}

resource "aws_sagemaker_model" "public_{i}" {{
  name               = "public-{i}"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {{
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:{i}"
  }}
}}

"#,
        a = i / 250,
        b = i % 250
    )
}

fn document(bytes: usize) -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&chunk(i));
        i += 1;
    }
    text
}

struct Client {
    stdin: std::process::ChildStdin,
    rx: Receiver<Value>,
    child: std::process::Child,
}

impl Client {
    fn spawn() -> Self {
        let mut child = Command::new(BIN)
            .env(
                "SAGEMAKER_VPC_LSP_LOG",
                std::env::var("SAGEMAKER_VPC_LSP_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut len = 0;
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
                        len = v.parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if let Ok(v) = serde_json::from_slice(&body)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        let stdin = child.stdin.take().expect("stdin");
        Self { stdin, rx, child }
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self
                .rx
                .recv_timeout(Duration::from_secs(60))
                .expect("server answered in time");
            if v["id"].is_number() && v["method"].is_string() {
                // A server request (registration, configuration): answer it.
                let id = v["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
                continue;
            }
            if pred(&v) {
                return v;
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let keystrokes = args
        .iter()
        .position(|a| a == "--keystrokes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(300usize);
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it briefly.
    let quick = !args.iter().any(|a| a == "--bench");
    let keystrokes = if quick { 20 } else { keystrokes };
    println!("sagemaker-vpc-lsp typing latency: didChange sent -> publishDiagnostics received");
    println!(
        "{:>8} {:>9} {:>8} {:>10} {:>10} {:>10}",
        "size", "findings", "keys", "p50", "p99", "max"
    );
    for (label, size) in [("10 KB", 10_000), ("100 KB", 100_000), ("1 MB", 1_000_000)] {
        let text = document(size);
        let mut client = Client::spawn();
        client.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"capabilities": {"general": {"positionEncodings": ["utf-16"]}}}}));
        client.wait(|v| v["id"] == 1);
        client.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
        let uri = "file:///bench/main.tf";
        client.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "terraform", "version": 1, "text": text}}}),
        );
        let opened = client.wait(|v| v["method"] == "textDocument/publishDiagnostics");
        let findings = opened["params"]["diagnostics"]
            .as_array()
            .map_or(0, Vec::len);
        // Type inside the `name` string of a model in the middle of the file.
        let target = text.len() / 2;
        let line = text[..target].matches('\n').count();
        let line_start = text[..target].rfind('\n').map_or(0, |i| i + 1);
        let (typed_line, mut column) = text[line_start..]
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with("name "))
            .map(|(n, l)| (line + n, l.find('"').map_or(0, |q| q as u32 + 1)))
            .expect("a model name to type into");
        let mut latencies = Vec::with_capacity(keystrokes);
        for k in 0..keystrokes {
            let version = 2 + k as i64;
            let ch = (b'a' + (k % 26) as u8) as char;
            let start = Instant::now();
            client.send(
                json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {
                    "start": {"line": typed_line, "character": column},
                    "end": {"line": typed_line, "character": column}}, "text": ch.to_string()}]}}),
            );
            client.wait(|v| {
                v["method"] == "textDocument/publishDiagnostics"
                    && v["params"]["version"] == version
            });
            latencies.push(start.elapsed());
            column += 1;
        }
        latencies.sort();
        let fmt = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{label:>8} {findings:>9} {keystrokes:>8} {:>10} {:>10} {:>10}",
            fmt(percentile(&latencies, 0.5)),
            fmt(percentile(&latencies, 0.99)),
            fmt(*latencies.last().expect("measured"))
        );
        client.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
        client.wait(|v| v["id"] == 2);
        client.send(json!({"jsonrpc": "2.0", "method": "exit"}));
        let _ = client.child.wait();
    }
}
