//! Latency of the real server over stdio, through the same client the
//! end-to-end tests use (`tests/common`). Prints a table per measurement:
//!
//! - typing: `didChange` sent → `publishDiagnostics` of that version, for
//!   documents of 10 KB to 10 MB (typing a model's name label), with the
//!   time from `didOpen` to the first diagnostics; then dense documents of
//!   100 KB to 10 MB holding nothing but models outside a VPC (`--sizes
//!   1MBdense`); then the 2 MB document ending in a block Terraform rejects
//!   (`2MBrejected`) or in an unclosed block (`2MBbroken`; also 10 MB,
//!   `10MBbroken`), as while a block is typed;
//! - lines: Enter then Backspace on a blank line in the middle of the
//!   document (every diagnostic below moves a line), and typing into a
//!   subnet the models read (every item is checked again), 100 KB to 10 MB;
//! - memory: the server's resident memory idle, with a document open, and
//!   after it is closed, over three open/close cycles;
//! - code actions at 100 KB, 300 KB and 1 MB: listing the actions of a
//!   finding (client with and without `codeAction/resolve` support), and
//!   resolving the quick fix and the fix-all action;
//! - contention: typing and hover while a code-action request is in flight
//!   before every keystroke, next to typing alone.
//!
//! Run: `cargo bench --bench lsp_latency` (`-- --keystrokes N`, `-- --only
//! typing|lines|memory|actions|contention`, `-- --sizes 100KB,1MB`). `SVL_BENCH_BIN=/path/to/sagemaker-vpc-lsp`
//! measures another build of the server (an older commit, for before/after
//! figures); the tables say which binary they measured. `cargo test
//! --benches` runs everything once, briefly, as a smoke test.

#![allow(clippy::print_stdout, clippy::unwrap_used)] // a benchmark reports on stdout

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};

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

/// A dense module: nothing but models outside a VPC, a finding each
/// (about 7,300 per megabyte, against 2,000 in [`chunk`]'s).
fn dense_chunk(i: usize) -> String {
    format!(
        r#"resource "aws_sagemaker_model" "public_{i}" {{
  name               = "public-{i}"
  execution_role_arn = aws_iam_role.sagemaker.arn
}}

"#
    )
}

fn document(bytes: usize) -> String {
    document_of(bytes, chunk)
}

fn document_of(bytes: usize, chunk: fn(usize) -> String) -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&chunk(i));
        i += 1;
    }
    text
}

const URI: &str = "file:///bench/main.tf";

struct Settings {
    /// The server binary measured.
    bin: String,
    keystrokes: usize,
    /// Most samples per code-action measurement.
    samples: usize,
    /// A measurement stops sampling after this long (at least 3 samples).
    budget: Duration,
    /// A smoke run (`cargo test --benches`), not a measurement.
    quick: bool,
    /// `--sizes 100KB,1MB`: only these document sizes.
    sizes: Option<Vec<String>>,
}

impl Settings {
    /// The document sizes of `all` that were asked for.
    /// (The smoke run, `cargo test --benches`, stops at 1 MB unless asked.)
    fn sizes(&self, all: &[(&'static str, usize)]) -> Vec<(&'static str, usize)> {
        all.iter()
            .filter(|(label, size)| match &self.sizes {
                Some(s) => s.iter().any(|w| w == &label.replace(' ', "")),
                None => !self.quick || *size <= 1_000_000,
            })
            .copied()
            .collect()
    }
}

/// A server with `text` open and analyzed; returns it and the diagnostics
/// of the first version.
fn open(settings: &Settings, text: &str, resolve: bool) -> (Server, Vec<Value>) {
    let (server, diagnostics, _) = open_timed(settings, text, resolve);
    (server, diagnostics)
}

/// [`open`], with the time from `didOpen` sent to the first diagnostics'
/// arrival.
fn open_timed(settings: &Settings, text: &str, resolve: bool) -> (Server, Vec<Value>, Duration) {
    let mut server = spawn(settings, resolve);
    let start = Instant::now();
    server.open(URI, text);
    let diagnostics = server.await_diagnostics_at(URI, 1);
    let opened = server
        .arrival(URI, 1)
        .map_or_else(|| start.elapsed(), |at| at.duration_since(start));
    (server, diagnostics, opened)
}

/// A server, initialized.
fn spawn(settings: &Settings, resolve: bool) -> Server {
    let level = std::env::var("SAGEMAKER_VPC_LSP_LOG").unwrap_or_else(|_| "error".into());
    let mut server = Server::spawn_program(
        &settings.bin,
        &[],
        &[("SAGEMAKER_VPC_LSP_LOG", level.as_str())],
    );
    // The slow builds this measures take seconds, not milliseconds.
    server.timeout = Duration::from_secs(600);
    let mut capabilities = common::capabilities(false);
    if resolve {
        capabilities["textDocument"]["codeAction"]["resolveSupport"] =
            json!({"properties": ["edit"]});
        capabilities["textDocument"]["codeAction"]["dataSupport"] = json!(true);
    }
    server.initialize(capabilities, Value::Null);
    server
}

fn shutdown(server: Server) {
    server.shutdown();
}

/// Where to type: at the end of the name label of a non-compliant model in
/// the middle of `text` (`resource "aws_sagemaker_model" "public_7|"`).
/// Renaming a model changes its finding's message, so every keystroke's
/// version is published (identical diagnostics are not re-sent: typing into
/// a value no finding quotes publishes nothing to wait for), and it changes
/// nothing other blocks read, as typing in one model usually does.
fn typing_position(text: &str) -> (usize, u32) {
    let header = "resource \"aws_sagemaker_model\" \"public_";
    let at = text[text.len() / 2..]
        .find(header)
        .map(|i| i + text.len() / 2)
        .expect("a non-compliant model to rename");
    let line = text[..at].matches('\n').count();
    let line_text = text[at..].lines().next().expect("the header line");
    let column = line_text
        .rfind("\" {")
        .expect("the name label's closing quote");
    (line, column as u32)
}

/// The `sagemaker_model_in_vpc` diagnostic nearest the middle of the
/// document (the pitfall rules' information diagnostics have no quick fix).
fn middle_diagnostic(diagnostics: &[Value], text: &str) -> Value {
    let middle = text[..text.len() / 2].matches('\n').count() as i64;
    diagnostics
        .iter()
        .filter(|d| d["code"] == "sagemaker_model_in_vpc")
        .min_by_key(|d| (d["range"]["start"]["line"].as_i64().unwrap() - middle).abs())
        .expect("a finding to act on")
        .clone()
}

fn code_action_params(diagnostic: &Value) -> Value {
    json!({
        "textDocument": {"uri": URI},
        "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic], "triggerKind": 1},
    })
}

/// Types one character at `(line, column)` as version `version` and waits
/// for that version's diagnostics: the time from sending the change to the
/// arrival of the diagnostics' bytes (the client stamps each message as it
/// reads it; parsing it is the client's own cost).
fn keystroke(server: &mut Server, at: (usize, u32), version: i64) -> Duration {
    let ch = (b'a' + (version % 26) as u8) as char;
    change(server, (at, at, ch.to_string()), version)
}

/// Replaces `from..to` (line, character) with `text` as version `version`
/// and waits for that version's diagnostics, as [`keystroke`] does.
fn change(server: &mut Server, (from, to, text): Edit, version: i64) -> Duration {
    let start = Instant::now();
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {
                "start": {"line": from.0, "character": from.1},
                "end": {"line": to.0, "character": to.1}}, "text": text}]}),
    );
    server.await_diagnostics_at(URI, version);
    // Until the message arrived, not until this client has parsed it.
    server
        .arrival(URI, version)
        .map_or_else(|| start.elapsed(), |at| at.duration_since(start))
}

/// A change: from, to (line, character), and the text put there.
type Edit = ((usize, u32), (usize, u32), String);

/// The `k`th change of a measurement, in a text.
type Edits = fn(&str, usize) -> Edit;

/// The server's CPU time per keystroke since `before` ([`cpu`]).
fn cpu_per_key(server: &Server, before: Option<Duration>, keystrokes: usize) -> String {
    before.zip(cpu(server)).map_or_else(
        || "-".to_owned(),
        |(before, after)| ms(after.saturating_sub(before) / keystrokes as u32),
    )
}

struct Figures(Vec<Duration>);

impl Figures {
    fn percentile(&self, p: f64) -> String {
        let mut sorted = self.0.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        ms(sorted[i])
    }

    fn max(&self) -> String {
        ms(*self.0.iter().max().expect("measured"))
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// Samples `f` until `settings.samples` runs or the time budget is spent
/// (at least three runs).
fn sample(settings: &Settings, mut f: impl FnMut() -> Option<Duration>) -> Option<Figures> {
    let started = Instant::now();
    let mut out = Vec::new();
    while out.len() < settings.samples && (out.len() < 3 || started.elapsed() < settings.budget) {
        out.push(f()?);
    }
    Some(Figures(out))
}

fn typing(settings: &Settings) {
    println!(
        "\ntyping a model name: didChange sent -> publishDiagnostics of that version received"
    );
    println!(
        "{:>13} {:>9} {:>10} {:>6} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8}",
        "size", "findings", "open", "keys", "p50", "p99", "max", "cpu/key", "VmRSS", "idle"
    );
    for (label, size) in settings.sizes(&[
        ("10 KB", 10_000),
        ("100 KB", 100_000),
        ("1 MB", 1_000_000),
        ("2 MB", 2_000_000),
        ("10 MB", 10_000_000),
        ("100 KB dense", 100_000),
        ("1 MB dense", 1_000_000),
        ("2 MB dense", 2_000_000),
        ("10 MB dense", 10_000_000),
        ("2 MB rejected", 2_000_000),
        ("2 MB broken", 2_000_000),
        ("10 MB broken", 10_000_000),
    ]) {
        let mut text = document_of(
            size,
            if label.ends_with("dense") {
                dense_chunk
            } else {
                chunk
            },
        );
        // The state of a file while a block is typed at its end: a word
        // glued to nothing Terraform knows (`a{}`, a block it rejects), or
        // a block left open (a syntax error).
        if label.ends_with("rejected") {
            text.push_str("a{}\n");
        } else if label.ends_with("broken") {
            text.push_str("resource \"aws_s3_bucket\" \"typed\" {\n");
        }
        let (mut server, diagnostics, opened) = open_timed(settings, &text, true);
        let (line, column) = typing_position(&text);
        let cpu_before = cpu(&server);
        let latencies: Vec<Duration> = (0..settings.keystrokes)
            .map(|k| keystroke(&mut server, (line, column + k as u32), 2 + k as i64))
            .collect();
        let cpu_per_key = cpu_per_key(&server, cpu_before, settings.keystrokes);
        let figures = Figures(latencies);
        // What the server holds right after the last keystroke's
        // diagnostics, and once it is idle (what typing freed given back).
        let after = rss(&server).map_or_else(|| "-".to_owned(), mb);
        let idle = match rss_supported() {
            Some(()) => {
                // Past the server's idle second (`IDLE_RELEASE`), which the
                // client cannot observe, then until the readings settle.
                std::thread::sleep(Duration::from_millis(1500));
                mb(settled(&server).0)
            }
            None => "-".to_owned(),
        };
        println!(
            "{label:>13} {:>9} {:>10} {:>6} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8}",
            diagnostics.len(),
            ms(opened),
            settings.keystrokes,
            figures.percentile(0.5),
            figures.percentile(0.99),
            figures.max(),
            cpu_per_key,
            after,
            idle
        );
        shutdown(server);
    }
}

/// Enter, then Backspace, on a blank line in the middle of the document
/// (every diagnostic below moves a line, and is published again); then
/// typing into the `availability_zone` of a subnet in the middle, which
/// the models read (every item of the module is checked again).
fn lines(settings: &Settings) {
    let sizes = settings.sizes(&[
        ("100 KB", 100_000),
        ("1 MB", 1_000_000),
        ("2 MB", 2_000_000),
        ("10 MB", 10_000_000),
    ]);
    let measurements: [(&str, Edits); 2] = [
        (
            "Enter and Backspace on a blank line in the middle",
            |text, k| {
                let middle = text[..text.len() / 2].matches('\n').count();
                let blank = middle
                    + text
                        .lines()
                        .skip(middle)
                        .position(str::is_empty)
                        .expect("a blank line");
                // Enter on even keys, Backspace (the line break removed) on odd.
                if k % 2 == 0 {
                    ((blank, 0), (blank, 0), "\n".to_owned())
                } else {
                    ((blank, 0), (blank + 1, 0), String::new())
                }
            },
        ),
        (
            "typing into a subnet's availability_zone in the middle (a block models read)",
            |text, k| {
                let key = "availability_zone = \"";
                let at = text.len() / 2 + text[text.len() / 2..].find(key).expect("a subnet");
                let line = text[..at].matches('\n').count();
                let column = (at - text[..at].rfind('\n').map_or(0, |i| i + 1) + key.len()) as u32;
                let here = (line, column + k as u32);
                (here, here, ((b'a' + (k % 26) as u8) as char).to_string())
            },
        ),
    ];
    for (what, edit) in measurements {
        println!("\n{what}: didChange sent -> publishDiagnostics of that version received");
        println!(
            "{:>13} {:>9} {:>6} {:>10} {:>10} {:>10} {:>9}",
            "size", "findings", "keys", "p50", "p99", "max", "cpu/key"
        );
        for &(label, size) in &sizes {
            let text = document(size);
            let (mut server, diagnostics) = open(settings, &text, true);
            let cpu_before = cpu(&server);
            let latencies: Vec<Duration> = (0..settings.keystrokes)
                .map(|k| change(&mut server, edit(&text, k), 2 + k as i64))
                .collect();
            let cpu_per_key = cpu_per_key(&server, cpu_before, settings.keystrokes);
            let figures = Figures(latencies);
            println!(
                "{label:>13} {:>9} {:>6} {:>10} {:>10} {:>10} {:>9}",
                diagnostics.len(),
                settings.keystrokes,
                figures.percentile(0.5),
                figures.percentile(0.99),
                figures.max(),
                cpu_per_key,
            );
            shutdown(server);
        }
    }
}

/// The CPU time the server's threads have run so far (the first field of
/// each `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds): what typing
/// costs the machine, steadier than latency on a shared machine, where a
/// keystroke's wait depends on what else runs. `None` where there is no
/// such file (or `SVL_BENCH_BIN` is a wrapper that is not the server).
fn cpu(server: &Server) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{}/task", server.pid())).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// The server's resident memory (`VmRSS`: anonymous memory plus the pages
/// of its binary it touched), in bytes.
fn rss(server: &Server) -> Option<u64> {
    server.status_kb("VmRSS:").map(|kb| kb * 1024)
}

/// The server's anonymous resident memory (`RssAnon`: its heap and stacks,
/// without the binary's pages), in bytes.
fn anon(server: &Server) -> Option<u64> {
    server.status_kb("RssAnon:").map(|kb| kb * 1024)
}

/// The resident memory once it stops moving (a large document takes a
/// while to free): three readings 100 ms apart within 1 %, or the last of
/// 20 s of readings. Returns (`VmRSS`, `RssAnon`).
fn settled(server: &Server) -> (u64, u64) {
    let mut readings: Vec<u64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        readings.push(rss(server).unwrap_or_default());
        if let [.., a, b, c] = readings[..] {
            let (lo, hi) = (a.min(b).min(c), a.max(b).max(c));
            if hi - lo <= hi / 100 {
                break;
            }
        }
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        readings.last().copied().unwrap_or_default(),
        anon(server).unwrap_or_default(),
    )
}

fn mb(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb >= 100.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

/// Resident memory: idle after `initialize`, with the document open (after
/// its first diagnostics), after a quick fix's edits are computed, and after
/// `didClose` (after its diagnostics are cleared), three cycles per size.
/// Each figure is `VmRSS (RssAnon)`.
fn memory(settings: &Settings) {
    if rss_supported().is_none() {
        println!("\nmemory: /proc/<pid>/status is not readable here; skipped");
        return;
    }
    println!(
        "\nresident memory of the server, VmRSS (RssAnon): idle, document open, after a quick fix, after closing it; 3 cycles"
    );
    for (label, size) in settings.sizes(&[("1 MB", 1_000_000), ("10 MB", 10_000_000)]) {
        let text = document(size);
        let mut server = spawn(settings, false);
        let idle = settled(&server);
        let pair = |(r, a): (u64, u64)| format!("{} ({})", mb(r), mb(a));
        println!(
            "{label}: idle {}; goal open <= {}, closed <= {} (10 % over idle)",
            pair(idle),
            mb(40 * text.len() as u64 + 30_000_000),
            mb(idle.0 + idle.0 / 10),
        );
        for cycle in 0..3 {
            let uri = format!("file:///bench/cycle{cycle}.tf");
            server.open(&uri, &text);
            let diagnostics = server.await_diagnostics_at(&uri, 1);
            let open = settled(&server);
            // A quick fix at a finding in the middle, its edits computed (the
            // client does not resolve): it parses the blocks it reads.
            let mut params = code_action_params(&middle_diagnostic(&diagnostics, &text));
            params["textDocument"]["uri"] = json!(uri);
            params["context"]["only"] = json!(["quickfix"]);
            let actions = server.request("textDocument/codeAction", params);
            assert!(
                actions
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a["edit"].is_object())),
                "a quick fix with its edit: {actions}"
            );
            let fixed = settled(&server);
            server.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": uri}}),
            );
            // Closing clears the document's diagnostics.
            server.take(
                |m| {
                    m["method"] == "textDocument/publishDiagnostics"
                        && m["params"]["uri"] == uri.as_str()
                        && m["params"]["diagnostics"]
                            .as_array()
                            .is_some_and(Vec::is_empty)
                },
                "the closed document's diagnostics cleared",
            );
            // Answered once the close is handled (its memory released).
            server.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
            );
            let closed = settled(&server);
            println!(
                "  cycle {}: open {} = {:.0}x the text; after a quick fix {}; closed {}, {:+.0} % of idle",
                cycle + 1,
                pair(open),
                open.0 as f64 / text.len() as f64,
                pair(fixed),
                pair(closed),
                (closed.0 as f64 / idle.0 as f64 - 1.0) * 100.0
            );
        }
        shutdown(server);
    }
}

fn rss_supported() -> Option<()> {
    std::fs::metadata("/proc/self/status").ok().map(|_| ())
}

fn actions(settings: &Settings) {
    println!("\ncode actions on one finding in the middle of the file (request -> response)");
    println!(
        "{:>8} {:<34} {:>7} {:>10} {:>10}",
        "size", "measurement", "samples", "p50", "max"
    );
    for (label, size) in settings.sizes(&[
        ("100 KB", 100_000),
        ("300 KB", 300_000),
        ("1 MB", 1_000_000),
    ]) {
        let text = document(size);
        let row = |what: &str, figures: Option<Figures>| match figures {
            Some(f) => println!(
                "{label:>8} {what:<34} {:>7} {:>10} {:>10}",
                f.0.len(),
                f.percentile(0.5),
                f.max()
            ),
            None => println!(
                "{label:>8} {what:<34} {:>7} {:>10} {:>10}",
                "-", "n/a", "n/a"
            ),
        };
        for resolve in [true, false] {
            let (mut server, diagnostics) = open(settings, &text, resolve);
            let params = code_action_params(&middle_diagnostic(&diagnostics, &text));
            let mut listed = Value::Null;
            let list = sample(settings, || {
                let start = Instant::now();
                listed = server.request("textDocument/codeAction", params.clone());
                Some(start.elapsed())
            });
            if !resolve {
                row("list (client without resolve)", list);
                shutdown(server);
                continue;
            }
            row("list (client with resolve)", list);
            let actions = listed.as_array().cloned().unwrap_or_default();
            // Resolving is only measured for actions listed without edits (an
            // older build computes them eagerly while listing).
            let lazy = |pick: &dyn Fn(&Value) -> bool| -> Option<Value> {
                actions
                    .iter()
                    .find(|a| pick(a) && a.get("edit").is_none())
                    .cloned()
            };
            let mut resolve_row = |what: &str, action: Option<Value>| {
                let figures = action.and_then(|action| {
                    sample(settings, || {
                        let start = Instant::now();
                        let resolved = server.request("codeAction/resolve", action.clone());
                        assert!(resolved.get("edit").is_some(), "resolved without an edit");
                        Some(start.elapsed())
                    })
                });
                row(what, figures);
            };
            resolve_row(
                "resolve the quick fix",
                lazy(&|a| a["kind"] == "quickfix" && a["isPreferred"] == true),
            );
            resolve_row(
                "resolve fix-all",
                lazy(&|a| {
                    a["kind"]
                        .as_str()
                        .is_some_and(|k| k.starts_with("source.fixAll"))
                }),
            );
            shutdown(server);
        }
    }
}

fn contention(settings: &Settings) {
    println!(
        "\ncontention: latency with a code-action request sent just before each keystroke / hover"
    );
    println!(
        "{:>8} {:<34} {:>6} {:>10} {:>10} {:>10}",
        "size", "measurement", "n", "p50", "p99", "max"
    );
    for (label, size) in settings.sizes(&[
        ("100 KB", 100_000),
        ("300 KB", 300_000),
        ("1 MB", 1_000_000),
    ]) {
        let text = document(size);
        let row = |what: &str, figures: Figures| {
            println!(
                "{label:>8} {what:<34} {:>6} {:>10} {:>10} {:>10}",
                figures.0.len(),
                figures.percentile(0.5),
                figures.percentile(0.99),
                figures.max()
            )
        };
        // A client without resolve support: the listing computes edits, the
        // heaviest a code action request gets.
        let (mut server, diagnostics) = open(settings, &text, false);
        let diagnostic = middle_diagnostic(&diagnostics, &text);
        let params = code_action_params(&diagnostic);
        let (line, column) = typing_position(&text);
        let n = settings.keystrokes.min(50);
        let mut version = 1;
        let alone = Figures(
            (0..n)
                .map(|k| {
                    version += 1;
                    keystroke(&mut server, (line, column + k as u32), version)
                })
                .collect(),
        );
        row("keystroke alone", alone);
        let mut column = column + n as u32;
        let busy = Figures(
            (0..n)
                .map(|_| {
                    let id = server.send_request("textDocument/codeAction", params.clone());
                    version += 1;
                    let latency = keystroke(&mut server, (line, column), version);
                    column += 1;
                    server.response(id, "codeAction");
                    latency
                })
                .collect(),
        );
        row("keystroke with a code action", busy);
        let hover_params =
            json!({"textDocument": {"uri": URI}, "position": diagnostic["range"]["start"]});
        let hover = |server: &mut Server| {
            let start = Instant::now();
            server.request("textDocument/hover", hover_params.clone());
            start.elapsed()
        };
        let alone = Figures((0..n).map(|_| hover(&mut server)).collect());
        row("hover alone", alone);
        let busy = Figures(
            (0..n)
                .map(|_| {
                    let id = server.send_request("textDocument/codeAction", params.clone());
                    let latency = hover(&mut server);
                    server.response(id, "codeAction");
                    latency
                })
                .collect(),
        );
        row("hover with a code action", busy);
        shutdown(server);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it briefly.
    let quick = !args.iter().any(|a| a == "--bench");
    let keystrokes = value("--keystrokes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 5 } else { 200 });
    let settings = Settings {
        bin: std::env::var("SVL_BENCH_BIN").unwrap_or_else(|_| common::BIN.to_owned()),
        keystrokes,
        samples: if quick { 3 } else { 30 },
        budget: Duration::from_secs(if quick { 1 } else { 30 }),
        quick,
        sizes: value("--sizes").map(|v| v.split(',').map(str::to_owned).collect()),
    };
    println!("sagemaker-vpc-lsp latency; server: {}", settings.bin);
    let only = value("--only");
    let wants = |what: &str| only.as_deref().is_none_or(|o| o == what);
    if wants("typing") {
        typing(&settings);
    }
    if wants("lines") {
        lines(&settings);
    }
    if wants("memory") {
        memory(&settings);
    }
    if wants("actions") {
        actions(&settings);
    }
    if wants("contention") {
        contention(&settings);
    }
}
