//! The method table: each LSP method is one short handler here that calls
//! into the module that does the work.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tower_lsp::jsonrpc::{Error, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

use crate::code_action::{self, fix_all_kind};
use crate::config::{self, Config};
use crate::diagnostics::{self, Publication, panic_message};
use crate::documents::{self, ChangeOutcome};
use crate::session::{ClientSupport, Session};
use crate::{convert, hover, indexing};
use svl_project::folder_of;

pub struct Backend {
    shared: Shared,
    shutdown_requested: Arc<AtomicBool>,
    /// Settings errors from `initializationOptions`, shown once initialized.
    pending_config_errors: std::sync::Mutex<Option<String>>,
}

/// What handlers and the tasks they spawn share (cheap to clone).
#[derive(Clone)]
struct Shared {
    client: Client,
    session: Arc<Session>,
    publish: UnboundedSender<Publication>,
}

impl Backend {
    pub fn new(
        client: Client,
        session: Arc<Session>,
        publish: UnboundedSender<Publication>,
        shutdown_requested: Arc<AtomicBool>,
    ) -> Self {
        Self {
            shared: Shared {
                client,
                session,
                publish,
            },
            shutdown_requested,
            pending_config_errors: std::sync::Mutex::new(None),
        }
    }

    fn schedule(&self, uri: &Url) {
        self.shared.schedule(uri);
    }

    /// Runs a synchronous request body, turning a panic into an error reply.
    fn guarded<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T> {
        catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
            let message = panic_message(&*panic);
            tracing::error!("{what} panicked: {message}");
            Error::internal_error()
        })
    }
}

impl Shared {
    fn schedule(&self, uri: &Url) {
        diagnostics::schedule(&self.session, &self.publish, uri);
    }

    /// Checks every open file of a module again (its facts changed).
    fn schedule_module(&self, folder: &std::path::Path) {
        for uri in self.session.open_in(folder) {
            self.session.touch(&uri);
            self.schedule(&uri);
        }
    }

    /// Re-analyses every open document (after a settings change).
    fn republish_all(&self) {
        for uri in self.session.open_uris() {
            self.session.touch(&uri);
            self.schedule(&uri);
        }
    }

    async fn apply_settings(&self, value: Option<&Value>) {
        let (config, errors) = Config::from_json(value);
        if let Some(message) = config::describe_errors(&errors) {
            self.client.show_message(MessageType::ERROR, message).await;
        }
        if config != self.session.config() {
            tracing::info!(?config, "settings changed");
            self.session.set_config(config);
            self.republish_all();
        }
    }

    /// Asks the client for our settings section (`workspace/configuration`).
    async fn pull_settings(&self) -> Option<Value> {
        let item = ConfigurationItem {
            scope_uri: None,
            section: Some(config::SECTION.to_owned()),
        };
        match self.client.configuration(vec![item]).await {
            Ok(mut values) if !values.is_empty() => Some(values.swap_remove(0)),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!("workspace/configuration failed: {e}");
                None
            }
        }
    }

    /// Pulls settings when the client supports it, else uses `pushed`.
    /// Runs as its own task: a handler that awaited a client reply would
    /// keep the server from exiting if the client never answered.
    fn refresh_settings(&self, pushed: Option<Value>) {
        let shared = self.clone();
        tokio::spawn(async move {
            let pulled = if shared.session.support().configuration_pull {
                shared.pull_settings().await
            } else {
                None
            };
            // A notification without settings (`null`, as clients that expect
            // a pull send it) says nothing: keep the current ones.
            let pushed = pushed.filter(|v| !v.is_null());
            if let Some(value) = pulled.filter(|v| !v.is_null()).or(pushed) {
                shared.apply_settings(Some(&value)).await;
            }
        });
    }
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let caps = &params.capabilities;
        let encoding = convert::negotiate_encoding(caps);
        self.shared.session.set_encoding(encoding);
        let workspace = caps.workspace.as_ref();
        self.shared.session.set_support(ClientSupport {
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
            related_information: true,
        });
        let roots: Vec<std::path::PathBuf> = match &params.workspace_folders {
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
        self.shared.session.set_roots(roots);
        let (config, errors) = Config::from_json(params.initialization_options.as_ref());
        self.shared.session.set_config(config);
        if let Ok(mut pending) = self.pending_config_errors.lock() {
            *pending = config::describe_errors(&errors);
        }
        tracing::info!(?encoding, "initialize");
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(convert::encoding_kind(encoding)),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..Default::default()
                    },
                )),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, fix_all_kind()]),
                        resolve_provider: Some(false),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "sagemaker-vpc-lsp".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let pending = self
            .pending_config_errors
            .lock()
            .ok()
            .and_then(|mut p| p.take());
        if let Some(message) = pending {
            self.shared
                .client
                .show_message(MessageType::ERROR, message)
                .await;
        }
        let support = self.shared.session.support();
        let mut registrations = Vec::new();
        if support.dynamic_configuration {
            registrations.push(Registration {
                id: "sagemaker-vpc-lsp/didChangeConfiguration".to_owned(),
                method: "workspace/didChangeConfiguration".to_owned(),
                register_options: None,
            });
        }
        if support.dynamic_watched_files {
            // Files changed on disk (git checkout, another editor, terraform
            // fmt) change module facts; open buffers win over them.
            let options = DidChangeWatchedFilesRegistrationOptions {
                watchers: ["**/*.tf", "**/*.tf.json", "**/*.tfvars", "**/*.tfvars.json"]
                    .into_iter()
                    .map(|glob| FileSystemWatcher {
                        glob_pattern: GlobPattern::String(glob.to_owned()),
                        kind: None,
                    })
                    .collect(),
            };
            registrations.push(Registration {
                id: "sagemaker-vpc-lsp/didChangeWatchedFiles".to_owned(),
                method: "workspace/didChangeWatchedFiles".to_owned(),
                register_options: serde_json::to_value(options).ok(),
            });
        }
        if !registrations.is_empty() {
            let client = self.shared.client.clone();
            tokio::spawn(async move {
                if let Err(e) = client.register_capability(registrations).await {
                    tracing::warn!("could not register for change notifications: {e}");
                }
            });
        }
        self.shared.refresh_settings(None);
        // Index the workspace in the background. Open files load their own
        // module on demand (and the scan skips those), so nothing waits.
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let roots = shared.session.roots();
            indexing::index_workspace(
                shared.client.clone(),
                std::sync::Arc::clone(&shared.session),
                roots,
                support.work_done_progress,
            )
            .await;
            // The calls between folders are known now: files opened before
            // were judged without their callers.
            shared.republish_all();
        });
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut changed = std::collections::BTreeSet::new();
        {
            let mut workspace = self.shared.session.workspace();
            for event in params.changes {
                let Ok(path) = event.uri.to_file_path() else {
                    continue;
                };
                if let Some(folder) = workspace.disk_changed(&path) {
                    changed.insert(folder);
                }
            }
        }
        for folder in changed {
            tracing::debug!(folder = %folder.display(), "module changed on disk");
            self.shared.schedule_module(&folder);
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown_requested.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        if let Some(uri) = documents::open(&self.shared.session, params) {
            self.schedule(&uri);
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri.clone();
        match documents::change(&self.shared.session, params) {
            ChangeOutcome::Applied => self.schedule(&uri),
            ChangeOutcome::Unknown => {}
            ChangeOutcome::Dropped(why) => {
                let _ = self.shared.publish.send(Publication::Closed(uri.clone()));
                self.shared.client
                    .show_message(
                        MessageType::WARNING,
                        format!("sagemaker-vpc-lsp stopped checking {uri}: {why}. Reopen the file to check it again."),
                    )
                    .await;
            }
        }
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri.clone();
        let Some(entry) = documents::close(&self.shared.session, params) else {
            return;
        };
        let _ = self.shared.publish.send(Publication::Closed(uri));
        // Its facts revert to the file on disk; if that changes the module,
        // the other open files of the module are checked again.
        if let Some(path) = entry.path {
            let changed = self.shared.session.workspace().close(&path);
            if changed {
                self.shared.schedule_module(&folder_of(&path));
            }
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        self.shared.refresh_settings(Some(params.settings));
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let actions = self.guarded("codeAction", || {
            code_action::code_actions(&self.shared.session, &params)
        })?;
        Ok(Some(actions))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.guarded("hover", || hover::hover(&self.shared.session, &params))
    }
}
