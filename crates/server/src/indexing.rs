//! Indexing the workspace folders at start-up, reported with `$/progress`
//! (work-done progress) when there is a lot to read; then, in workspace
//! scope, the diagnostics of every Terraform file, open or not.
//!
//! Modules are also loaded on demand when a file of theirs opens, so an open
//! file's diagnostics never wait for this. Once the folders are read the
//! calls between them are known, and open files are checked again (they may
//! be instances of a module another folder calls).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use svl_project::folder_of;
use svl_project::walk::{self, module_files};
use svl_project::workspace::read_facts;

use crate::analysis::lock;
use crate::protocol;
use crate::server::{Event, Outgoing, Server};

/// Below this many files indexing is quick and reported to nobody.
pub const PROGRESS_THRESHOLD: usize = 100;
const CHUNK: usize = 16;

/// The work-done progress token of indexing.
pub fn token() -> Value {
    json!("sagemaker-vpc-lsp/indexing")
}

impl Server {
    /// Walks the workspace folders on a worker (step 1 of indexing).
    pub(crate) fn index_workspace(&mut self) {
        let roots = self.roots.clone();
        if roots.is_empty() {
            return;
        }
        let events = self.events.clone();
        self.requests.spawn(move || {
            let walk = walk::collect(&roots);
            for e in walk.errors {
                tracing::warn!(path = e.path, "cannot index: {}", e.reason);
            }
            let files = walk.targets.len();
            let folders: BTreeSet<PathBuf> =
                walk.targets.iter().map(|t| folder_of(&t.path)).collect();
            let _ = events.send(Event::Walked {
                folders: folders.into_iter().collect(),
                files,
            });
        });
    }

    /// Step 2: with many files and a client that shows progress, create the
    /// progress token first (its response starts the reading).
    pub(crate) fn on_walked(&mut self, folders: Vec<PathBuf>, files: usize) {
        if self.support.work_done_progress && files >= PROGRESS_THRESHOLD {
            self.request_client(
                "window/workDoneProgress/create",
                json!({"token": token()}),
                Outgoing::ProgressCreated { folders, files },
            );
        } else {
            self.start_indexing(folders, files, None);
        }
    }

    /// Step 3: reads the folders into the workspace on a worker.
    pub(crate) fn start_indexing(
        &mut self,
        folders: Vec<PathBuf>,
        files: usize,
        token: Option<Value>,
    ) {
        let workspace = Arc::clone(&self.workspace);
        let events = self.events.clone();
        let out = self.out.clone();
        self.requests.spawn(move || {
            let progress = |value: Value| {
                if let Some(token) = &token {
                    out.send(protocol::notification(
                        "$/progress",
                        json!({"token": token, "value": value}),
                    ));
                }
            };
            let total = folders.len().max(1);
            progress(json!({
                "kind": "begin",
                "title": "Indexing Terraform modules",
                "cancellable": false,
                "message": format!("{files} files in {} folders", folders.len()),
                "percentage": 0,
            }));
            let mut done = 0;
            for chunk in folders.chunks(CHUNK) {
                let read: Vec<_> = chunk
                    .iter()
                    .map(|folder| {
                        let facts: Vec<_> = module_files(folder)
                            .iter()
                            .filter_map(|p| read_facts(p))
                            .collect();
                        (folder.clone(), facts)
                    })
                    .collect();
                done += read.len();
                {
                    let mut ws = lock(&workspace);
                    for (folder, facts) in read {
                        // Folders an open file already loaded keep it.
                        if !ws.is_known(&folder) {
                            ws.add_scanned(folder, facts);
                        }
                    }
                }
                progress(json!({
                    "kind": "report",
                    "cancellable": false,
                    "message": format!("{done}/{total} folders"),
                    "percentage": done * 100 / total,
                }));
            }
            // The folders those call outside the workspace folders
            // (`envs/prod` calling `../../modules/model`, or a registry
            // module installed under `.terraform/modules`):
            // Terraform plans them as part of the calling module, so they
            // are read too (and judged per call, as called folders are).
            let mut folders = folders;
            {
                // Calls of registry, git or other sources lead where
                // `terraform init` installed them (a root's record).
                let mut ws = lock(&workspace);
                for folder in &folders {
                    ws.follow_installed(folder);
                }
            }
            let mut scanned = 0;
            while scanned < folders.len() {
                let called: BTreeSet<PathBuf> = {
                    let mut ws = lock(&workspace);
                    let children: Vec<PathBuf> = folders[scanned..]
                        .iter()
                        .flat_map(|folder| {
                            let index = ws.module_index(folder);
                            let children: Vec<PathBuf> =
                                index.calls().into_iter().map(|c| c.child).collect();
                            children
                        })
                        .collect();
                    children
                        .into_iter()
                        .filter(|child| !ws.is_known(child) && child.is_dir())
                        .collect()
                };
                scanned = folders.len();
                for folder in called {
                    let facts: Vec<_> = module_files(&folder)
                        .iter()
                        .filter_map(|p| read_facts(p))
                        .collect();
                    let mut ws = lock(&workspace);
                    if !ws.is_known(&folder) {
                        ws.add_scanned(folder.clone(), facts);
                    }
                    folders.push(folder);
                }
            }
            progress(json!({"kind": "end", "message": format!("indexed {files} files")}));
            tracing::info!(files, folders = total, "workspace indexed");
            let _ = events.send(Event::Indexed(folders));
        });
    }

    /// Step 4: the calls between folders are known now; check what is open
    /// again and, in workspace scope, every folder's closed files.
    pub(crate) fn on_indexed(&mut self, folders: Vec<PathBuf>) {
        let uris: Vec<String> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.touch(&uri);
            self.schedule(&uri);
        }
        self.schedule_closed(folders);
    }
}
