//! The protocol loop: one thread that reads every message in order, keeps
//! the documents, routes requests to workers and their results back to the
//! client. It never analyses, computes an edit or reads a file itself, so a
//! keystroke is never queued behind a slow request.
//!
//! The method table is [`Server::on_request`] and [`Server::on_notification`];
//! each handler lives beside what it works on (`docs.rs`, `actions.rs`,
//! `hover.rs`, `commands.rs`, `indexing.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::docs::Reuse;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use lsp_types::{InitializeParams, Url};
use serde_json::{Value, json};
use svl_analysis::position::Encoding;
use svl_project::Workspace;

use crate::analysis::{Analyzed, SharedWorkspace};
use crate::config::{self, Config, Scope};
use crate::docs::Doc;
use crate::pool::{Cancel, Pool};
use crate::protocol::{self, Message, code};
use crate::published::{self, DiagnosticsJson};
use crate::transport::{Input, Output};
use crate::{convert, parent};

/// What the client said it can do, reduced to what the server uses.
#[derive(Debug, Clone, Default)]
pub struct ClientSupport {
    pub document_changes: bool,
    pub configuration_pull: bool,
    pub dynamic_configuration: bool,
    pub dynamic_watched_files: bool,
    pub work_done_progress: bool,
    /// `codeAction/resolve` can fill in an action's edit.
    pub resolve_edit: bool,
    pub apply_edit: bool,
}

/// Where the server is in the LSP lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Uninitialized,
    Running,
    ShutDown,
}

/// What workers and helper threads report to the protocol loop.
pub enum Event {
    Input(Input),
    /// An analysis of a document ended (or panicked).
    Analyzed {
        uri: String,
        generation: u64,
        outcome: Result<(Arc<Analyzed>, DiagnosticsJson), String>,
        /// Boxed: every event is as large as the largest variant.
        reuse: Box<Reuse>,
        /// Folders whose instances its facts changed.
        changed: Vec<PathBuf>,
    },
    /// The answer to a request a worker computed.
    Reply {
        id: Value,
        result: Result<Value, (i64, String)>,
    },
    /// Diagnostics of files that are not open, and the folders whose facts changed
    /// because one of the folders read was loaded for the first time (see
    /// `Workspace::take_callers_changed`).
    ClosedFiles(Vec<(Url, DiagnosticsJson)>, Vec<PathBuf>),
    /// The workspace folders were walked: these module folders, this many
    /// Terraform files.
    Walked {
        folders: Vec<PathBuf>,
        files: usize,
    },
    /// These folders were read into the workspace.
    Indexed(Vec<PathBuf>),
    /// A job wants a request sent to the client.
    ClientRequest {
        method: String,
        params: Value,
        then: Outgoing,
    },
    /// Time to look at the parent process again.
    Tick,
}

/// What to do with the client's response to a request of ours.
#[derive(Debug)]
pub enum Outgoing {
    Configuration,
    Registration,
    /// Start indexing once the progress token exists.
    ProgressCreated {
        folders: Vec<PathBuf>,
        files: usize,
    },
    /// Answer the `workspace/executeCommand` request `reply_to` with the
    /// outcome of the edit.
    ApplyEdit {
        reply_to: Value,
        changed: usize,
    },
}

pub struct Server {
    pub(crate) out: Output,
    pub(crate) events: Sender<Event>,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) docs: HashMap<String, Doc>,
    /// Documents the editor has open that the server does not check (too
    /// large or too costly to parse, when opened or after a change): what
    /// the workspace scan finds in their file on disk is not shown for them
    /// while they are open, as their unsaved text may differ.
    pub(crate) unchecked: HashMap<String, Url>,
    pub(crate) config: Config,
    pub(crate) encoding: Encoding,
    pub(crate) support: ClientSupport,
    pub(crate) workspace: SharedWorkspace,
    pub(crate) roots: Vec<PathBuf>,
    pub(crate) next_generation: u64,
    /// Analyses of documents and folders.
    pub(crate) analysis: Pool,
    /// Code actions, hover, commands, indexing.
    pub(crate) requests: Pool,
    /// Requests on workers, by id, so `$/cancelRequest` can stop them.
    pub(crate) running: HashMap<String, Cancel>,
    /// Our requests to the client, waiting for a response.
    pub(crate) outgoing: HashMap<String, Outgoing>,
    pub(crate) next_outgoing: u64,
    /// What was last published per URI (nothing identical is sent twice).
    pub(crate) published: HashMap<String, DiagnosticsJson>,
    pub(crate) parent: Option<u32>,
    /// Settings errors from `initializationOptions`, shown once initialized.
    pub(crate) pending_config_errors: Option<String>,
    /// Set by `exit`: the process exit code.
    pub(crate) exit: Option<u8>,
    /// Set when stdin closed: documents' parses give up.
    pub(crate) input_closed: Arc<AtomicBool>,
    /// Analyses landed since memory was last given back: it is, once the
    /// server has been idle for [`IDLE_RELEASE`].
    pub(crate) release_owed: bool,
}

/// How often the parent process is looked at.
const PARENT_CHECK: Duration = Duration::from_secs(3);

/// How long the server waits without a message or a result before it gives
/// back what the analyses since the last release freed: a pause in typing.
const IDLE_RELEASE: Duration = Duration::from_secs(1);

/// Fault injection for the end-to-end tests: with
/// `SAGEMAKER_VPC_LSP_FAULT=slow-requests` (read once), every request job
/// waits until it is cancelled (or 10 s), so cancellation can be tested
/// without racing a real computation.
fn slow_request_fault(cancel: &Cancel) {
    static SLOW: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("SAGEMAKER_VPC_LSP_FAULT").as_deref() == Ok("slow-requests")
    });
    if *SLOW {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !cancel.is_cancelled() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn id_key(id: &Value) -> String {
    id.to_string()
}

impl Server {
    pub fn new(
        out: Output,
        events: Sender<Event>,
        parent: Option<u32>,
        input_closed: Arc<AtomicBool>,
    ) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
        Self {
            out,
            events,
            lifecycle: Lifecycle::Uninitialized,
            docs: HashMap::new(),
            unchecked: HashMap::new(),
            config: Config::default(),
            encoding: Encoding::Utf16,
            support: ClientSupport::default(),
            workspace: Arc::new(Mutex::new(Workspace::default())),
            roots: Vec::new(),
            next_generation: 0,
            analysis: Pool::new("analysis", threads),
            requests: Pool::new("request", threads),
            running: HashMap::new(),
            outgoing: HashMap::new(),
            next_outgoing: 0,
            published: HashMap::new(),
            parent,
            pending_config_errors: None,
            exit: None,
            input_closed,
            release_owed: false,
        }
    }

    /// Serves until `exit`, the end of the input, or the parent's death;
    /// returns the exit code (0 only after `shutdown` then `exit`).
    pub fn run(mut self, events: Receiver<Event>) -> u8 {
        let ticker = self.events.clone();
        std::thread::Builder::new()
            .name("tick".into())
            .spawn(move || {
                while ticker.send(Event::Tick).is_ok() {
                    std::thread::sleep(PARENT_CHECK);
                }
            })
            .expect("spawning a thread");
        let mut last_event = std::time::Instant::now();
        loop {
            let event = if self.release_owed {
                let wait = IDLE_RELEASE.saturating_sub(last_event.elapsed());
                match events.recv_timeout(wait) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout) => {
                        let released = self.release_memory();
                        tracing::debug!(released, "idle: free memory released");
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                let Ok(event) = events.recv() else { break };
                event
            };
            if !matches!(event, Event::Tick) {
                last_event = std::time::Instant::now();
            }
            match event {
                Event::Input(Input::Closed) => {
                    tracing::info!("stdin closed; exiting");
                    return if self.lifecycle == Lifecycle::ShutDown {
                        0
                    } else {
                        1
                    };
                }
                Event::Tick => {
                    if let Some(pid) = self.parent
                        && !parent::alive(pid)
                    {
                        tracing::info!(pid, "the parent process is gone; exiting");
                        return 1;
                    }
                }
                event => self.on_event(event),
            }
            if let Some(code) = self.exit {
                return code;
            }
        }
        1
    }

    pub(crate) fn next_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    pub(crate) fn reply(&self, id: Value, result: Value) {
        self.out.send(protocol::response(id, result));
    }

    pub(crate) fn reply_error(&self, id: Value, code: i64, message: impl Into<String>) {
        self.out.send(protocol::error(id, code, message));
    }

    pub(crate) fn notify(&self, method: &str, params: Value) {
        self.out.send(protocol::notification(method, params));
    }

    pub(crate) fn show_message(&self, kind: lsp_types::MessageType, message: String) {
        self.notify(
            "window/showMessage",
            json!({"type": kind, "message": message}),
        );
    }

    /// Sends a request to the client; its response goes to `then`.
    pub(crate) fn request_client(&mut self, method: &str, params: Value, then: Outgoing) {
        self.next_outgoing += 1;
        let id = json!(format!("svl-{}", self.next_outgoing));
        self.outgoing.insert(id_key(&id), then);
        self.out.send(protocol::request(id, method, params));
    }

    /// Runs `job` for request `id` on a worker; its result is the reply.
    /// `$/cancelRequest` stops it (if it has not ended).
    pub(crate) fn spawn_request(
        &mut self,
        id: Value,
        job: impl FnOnce(&Cancel) -> Result<Value, (i64, String)> + Send + 'static,
    ) {
        let cancel = Cancel::default();
        self.running.insert(id_key(&id), cancel.clone());
        let events = self.events.clone();
        self.requests.spawn(move || {
            slow_request_fault(&cancel);
            let result = if cancel.is_cancelled() {
                Err((code::REQUEST_CANCELLED, "cancelled".to_owned()))
            } else {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&cancel))) {
                    Ok(result) => result,
                    Err(panic) => {
                        let message = crate::pool::panic_message(&*panic);
                        tracing::error!("a request panicked: {message}");
                        Err((code::INTERNAL_ERROR, format!("internal error: {message}")))
                    }
                }
            };
            let _ = events.send(Event::Reply { id, result });
        });
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Input(Input::Message(value)) => self.on_message(value),
            Event::Input(Input::Malformed(why)) => {
                tracing::warn!("skipping bytes that are not a message: {why}");
                self.reply_error(
                    Value::Null,
                    code::PARSE_ERROR,
                    format!("Parse error: {why}"),
                );
            }
            Event::Input(Input::TooLarge(n)) => {
                tracing::warn!(bytes = n, "skipping a message larger than the limit");
                self.reply_error(
                    Value::Null,
                    code::INVALID_REQUEST,
                    format!("Invalid Request: a message of {n} bytes exceeds the limit"),
                );
            }
            Event::Input(Input::Closed) | Event::Tick => {}
            Event::Analyzed {
                uri,
                generation,
                outcome,
                reuse,
                changed,
            } => self.on_analyzed(uri, generation, outcome, reuse, changed),
            Event::Reply { id, result } => {
                let cancelled = self
                    .running
                    .remove(&id_key(&id))
                    .is_some_and(|c| c.is_cancelled());
                match result {
                    _ if cancelled => {
                        self.reply_error(id, code::REQUEST_CANCELLED, "the request was cancelled")
                    }
                    Ok(value) => self.reply(id, value),
                    Err((code, message)) => self.reply_error(id, code, message),
                }
            }
            Event::ClosedFiles(files, callers) => {
                self.publish_closed(files);
                self.folders_changed(callers);
            }
            Event::Walked { folders, files } => self.on_walked(folders, files),
            Event::Indexed(folders) => self.on_indexed(folders),
            Event::ClientRequest {
                method,
                params,
                then,
            } => self.request_client(&method, params, then),
        }
    }

    fn on_message(&mut self, value: Value) {
        match protocol::classify(value) {
            Message::Request { id, method, params } => self.on_request(id, method, params),
            Message::Notification { method, params } => self.on_notification(&method, params),
            Message::Response { id, result, error } => self.on_response(id, result, error),
            Message::Invalid { id, why } => {
                tracing::warn!("answering an invalid message: {why}");
                self.reply_error(id, code::INVALID_REQUEST, format!("Invalid Request: {why}"));
            }
        }
    }

    /// The request table.
    fn on_request(&mut self, id: Value, method: String, params: Value) {
        // `exit` sent as a request is still the end.
        if method == "exit" {
            self.exit = Some(self.exit_code());
            return;
        }
        match self.lifecycle {
            Lifecycle::Uninitialized if method != "initialize" => {
                return self.reply_error(
                    id,
                    code::SERVER_NOT_INITIALIZED,
                    format!("{method}: the server is not initialized yet"),
                );
            }
            Lifecycle::ShutDown => {
                return self.reply_error(
                    id,
                    code::INVALID_REQUEST,
                    format!("{method}: the server is shut down; only exit is accepted"),
                );
            }
            Lifecycle::Running if method == "initialize" => {
                return self.reply_error(id, code::INVALID_REQUEST, "initialize was already sent");
            }
            _ => {}
        }
        match method.as_str() {
            "initialize" => self.initialize(id, params),
            // Clients send `null`, `{}`, `[]` or nothing: all mean none.
            "shutdown" => {
                self.lifecycle = Lifecycle::ShutDown;
                self.reply(id, Value::Null);
            }
            "textDocument/codeAction" => self.code_action(id, params),
            "codeAction/resolve" => self.resolve_code_action(id, params),
            "textDocument/hover" => self.hover(id, params),
            "workspace/executeCommand" => self.execute_command(id, params),
            _ => {
                tracing::debug!(method, "unknown request");
                self.reply_error(
                    id,
                    code::METHOD_NOT_FOUND,
                    format!("Method not found: {method}"),
                );
            }
        }
    }

    /// The notification table.
    fn on_notification(&mut self, method: &str, params: Value) {
        if method == "exit" {
            self.exit = Some(self.exit_code());
            return;
        }
        if self.lifecycle != Lifecycle::Running {
            tracing::debug!(method, "notification outside the running state; ignored");
            return;
        }
        match method {
            "initialized" => self.initialized(),
            "textDocument/didOpen" => self.did_open(params),
            "textDocument/didChange" => self.did_change(params),
            "textDocument/didClose" => self.did_close(params),
            "workspace/didChangeConfiguration" => self.did_change_configuration(params),
            "workspace/didChangeWatchedFiles" => self.did_change_watched_files(params),
            "$/cancelRequest" => {
                if let Some(cancel) = params
                    .get("id")
                    .and_then(|id| self.running.get(&id_key(id)))
                {
                    cancel.cancel();
                }
            }
            // Saving changes nothing the buffer did not already say;
            // `$/setTrace` and the like are not used.
            _ => tracing::debug!(method, "notification not handled"),
        }
    }

    fn on_response(&mut self, id: Value, result: Option<Value>, error: Option<Value>) {
        let Some(then) = self.outgoing.remove(&id_key(&id)) else {
            tracing::debug!(%id, "a response to nothing we asked");
            return;
        };
        if let Some(error) = &error {
            tracing::warn!(?then, "the client answered with an error: {error}");
        }
        match then {
            Outgoing::Configuration => {
                let value = result
                    .and_then(|r| r.as_array().and_then(|a| a.first().cloned()))
                    .filter(|v| !v.is_null());
                if let Some(value) = value {
                    self.apply_settings(Some(&value));
                }
            }
            Outgoing::Registration => {}
            Outgoing::ProgressCreated { folders, files } => {
                let token = error.is_none().then(crate::indexing::token);
                self.start_indexing(folders, files, token);
            }
            Outgoing::ApplyEdit { reply_to, changed } => {
                let applied = result
                    .as_ref()
                    .and_then(|r| r.get("applied"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                self.reply(
                    reply_to,
                    json!({"applied": applied, "changedFiles": changed}),
                );
            }
        }
    }

    fn exit_code(&self) -> u8 {
        if self.lifecycle == Lifecycle::ShutDown {
            0
        } else {
            1
        }
    }

    fn initialize(&mut self, id: Value, params: Value) {
        let params: InitializeParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                return self.reply_error(id, code::INVALID_PARAMS, format!("initialize: {e}"));
            }
        };
        if self.parent.is_none() {
            self.parent = params.process_id;
        }
        if let Some(pid) = self.parent
            && !parent::alive(pid)
        {
            tracing::warn!(pid, "the client's process is not running; exiting");
            self.exit = Some(1);
            return;
        }
        let caps = &params.capabilities;
        self.encoding = convert::negotiate_encoding(caps);
        let workspace = caps.workspace.as_ref();
        self.support = ClientSupport {
            document_changes: workspace
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.document_changes)
                .unwrap_or(false),
            configuration_pull: workspace.and_then(|w| w.configuration).unwrap_or(false),
            dynamic_configuration: workspace
                .and_then(|w| w.did_change_configuration.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            dynamic_watched_files: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            work_done_progress: caps
                .window
                .as_ref()
                .and_then(|w| w.work_done_progress)
                .unwrap_or(false),
            resolve_edit: caps
                .text_document
                .as_ref()
                .and_then(|t| t.code_action.as_ref())
                .and_then(|c| c.resolve_support.as_ref())
                .is_some_and(|r| r.properties.iter().any(|p| p == "edit")),
            apply_edit: workspace.and_then(|w| w.apply_edit).unwrap_or(false),
        };
        #[allow(deprecated)] // root_uri is what older clients send
        let roots: Vec<PathBuf> = match &params.workspace_folders {
            Some(folders) => folders
                .iter()
                .filter_map(|f| f.uri.to_file_path().ok())
                .collect(),
            None => params
                .root_uri
                .iter()
                .filter_map(|u| u.to_file_path().ok())
                .collect(),
        };
        self.roots = roots;
        let (config, errors) = Config::from_json(params.initialization_options.as_ref());
        self.config = config;
        self.pending_config_errors = config::describe_errors(&errors);
        self.lifecycle = Lifecycle::Running;
        tracing::info!(encoding = ?self.encoding, "initialize");
        self.reply(
            id,
            crate::capabilities::initialize_result(self.encoding, &self.support),
        );
    }

    fn initialized(&mut self) {
        if let Some(message) = self.pending_config_errors.take() {
            self.show_message(lsp_types::MessageType::ERROR, message);
        }
        let mut registrations = Vec::new();
        if self.support.dynamic_configuration {
            registrations.push(json!({
                "id": "sagemaker-vpc-lsp/didChangeConfiguration",
                "method": "workspace/didChangeConfiguration",
            }));
        }
        if self.support.dynamic_watched_files {
            // Files changed on disk (git checkout, another editor, terraform
            // fmt) change module facts; open buffers win over them.
            let watchers: Vec<Value> =
                ["**/*.tf", "**/*.tf.json", "**/*.tfvars", "**/*.tfvars.json"]
                    .iter()
                    .map(|glob| json!({"globPattern": glob}))
                    .collect();
            registrations.push(json!({
                "id": "sagemaker-vpc-lsp/didChangeWatchedFiles",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": {"watchers": watchers},
            }));
        }
        if !registrations.is_empty() {
            self.request_client(
                "client/registerCapability",
                json!({"registrations": registrations}),
                Outgoing::Registration,
            );
        }
        self.refresh_settings(None);
        self.index_workspace();
    }

    /// Pulls settings when the client supports it, else uses `pushed`.
    fn refresh_settings(&mut self, pushed: Option<Value>) {
        if self.support.configuration_pull {
            self.request_client(
                "workspace/configuration",
                json!({"items": [{"section": config::SECTION}]}),
                Outgoing::Configuration,
            );
            return;
        }
        // A notification without settings (`null`, as clients that expect a
        // pull send it) says nothing: keep the current ones.
        if let Some(value) = pushed.filter(|v| !v.is_null()) {
            self.apply_settings(Some(&value));
        }
    }

    fn did_change_configuration(&mut self, params: Value) {
        let pushed = params.get("settings").cloned();
        self.refresh_settings(pushed);
    }

    fn apply_settings(&mut self, value: Option<&Value>) {
        let (config, errors) = Config::from_json(value);
        if let Some(message) = config::describe_errors(&errors) {
            self.show_message(lsp_types::MessageType::ERROR, message);
        }
        if config == self.config {
            return;
        }
        tracing::info!(?config, "settings changed");
        let was_workspace = self.config.scope == Scope::Workspace;
        self.config = config;
        if was_workspace && self.config.scope == Scope::OpenFiles {
            self.clear_closed();
        }
        self.republish_all();
    }

    /// Re-analyzes every open document and, in workspace scope, every
    /// folder (after a settings change, or once the workspace is indexed).
    pub(crate) fn republish_all(&mut self) {
        let uris: Vec<String> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.touch(&uri);
            self.schedule(&uri);
        }
        if self.config.scope == Scope::Workspace {
            let folders = crate::analysis::lock(&self.workspace).folders();
            self.schedule_closed(folders);
        }
    }

    /// Publishes `diagnostics` for `uri` (as the client named it) unless
    /// they are what was last published there.
    pub(crate) fn publish(
        &mut self,
        uri: &str,
        diagnostics: DiagnosticsJson,
        version: Option<i32>,
    ) {
        if self.published.get(uri) == Some(&diagnostics) {
            tracing::debug!(uri, version, "diagnostics unchanged; not published again");
            return;
        }
        let started = std::time::Instant::now();
        let message = published::notification(uri, &diagnostics, version);
        let count = diagnostics.len();
        if diagnostics.is_empty() && !self.docs.contains_key(uri) {
            // A closed file: nothing is shown for it any more.
            self.published.remove(uri);
        } else {
            self.published.insert(uri.to_owned(), diagnostics);
        }
        self.out.send_joined(message);
        tracing::debug!(uri, count, elapsed = ?started.elapsed(), "published");
    }

    /// Forgets and clears everything published for files that are not open.
    fn clear_closed(&mut self) {
        let open: Vec<String> = self.docs.keys().cloned().collect();
        let closed: Vec<String> = self
            .published
            .keys()
            .filter(|u| !open.contains(u))
            .cloned()
            .collect();
        for uri in closed {
            self.publish(&uri, DiagnosticsJson::empty(), None);
        }
    }
}
