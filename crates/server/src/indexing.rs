//! Indexing the workspace folders at start-up, reported with `$/progress`
//! (work-done progress) when there is a lot to read.
//!
//! Modules are also loaded on demand when a file of theirs opens, so
//! diagnostics never wait for this, and folders already loaded are skipped;
//! it makes the facts of the whole workspace ready ahead of use.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp::Client;
use tower_lsp::lsp_types::notification::Progress;
use tower_lsp::lsp_types::request::WorkDoneProgressCreate;
use tower_lsp::lsp_types::{
    NumberOrString, ProgressParams, ProgressParamsValue, WorkDoneProgress, WorkDoneProgressBegin,
    WorkDoneProgressCreateParams, WorkDoneProgressEnd, WorkDoneProgressReport,
};

use crate::session::Session;
use svl_project::folder_of;
use svl_project::walk;
use svl_project::walk::module_files;
use svl_project::workspace::read_facts;

/// Below this many files indexing is quick and reported to nobody.
pub const PROGRESS_THRESHOLD: usize = 100;
const CHUNK: usize = 16;

/// The module folders under `roots`, walked like `check` walks them.
fn folders(roots: &[PathBuf]) -> (BTreeSet<PathBuf>, usize) {
    let walk = walk::collect(roots);
    for e in walk.errors {
        tracing::warn!(path = e.path, "cannot index: {}", e.reason);
    }
    let files = walk.targets.len();
    (
        walk.targets.iter().map(|t| folder_of(&t.path)).collect(),
        files,
    )
}

async fn progress(client: &Client, token: &NumberOrString, value: WorkDoneProgress) {
    client
        .send_notification::<Progress>(ProgressParams {
            token: token.clone(),
            value: ProgressParamsValue::WorkDone(value),
        })
        .await;
}

/// Reads every module of the workspace into the index.
pub async fn index_workspace(
    client: Client,
    session: Arc<Session>,
    roots: Vec<PathBuf>,
    with_progress: bool,
) {
    if roots.is_empty() {
        return;
    }
    let Ok((folders, files)) = tokio::task::spawn_blocking(move || folders(&roots)).await else {
        return;
    };
    let folders: Vec<PathBuf> = {
        // Folders an open file already loaded are current: skip them.
        let workspace = session.workspace();
        folders
            .into_iter()
            .filter(|f| !workspace.is_known(f))
            .collect()
    };
    let token = NumberOrString::String("sagemaker-vpc-lsp/indexing".to_owned());
    let report = with_progress && files >= PROGRESS_THRESHOLD;
    if report {
        let created = client
            .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                token: token.clone(),
            })
            .await;
        if let Err(e) = created {
            tracing::warn!("work-done progress refused: {e}");
        }
        progress(
            &client,
            &token,
            WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title: "Indexing Terraform modules".to_owned(),
                cancellable: Some(false),
                message: Some(format!("{files} files in {} folders", folders.len())),
                percentage: Some(0),
            }),
        )
        .await;
    }
    let total = folders.len().max(1);
    let mut done = 0;
    for chunk in folders.chunks(CHUNK) {
        let chunk = chunk.to_vec();
        let Ok(read) = tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(|folder| {
                    let facts = module_files(&folder)
                        .iter()
                        .filter_map(|p| read_facts(p))
                        .collect::<Vec<_>>();
                    (folder, facts)
                })
                .collect::<Vec<_>>()
        })
        .await
        else {
            return;
        };
        done += read.len();
        {
            let mut workspace = session.workspace();
            for (folder, facts) in read {
                workspace.add_scanned(folder, facts);
            }
        }
        if report {
            progress(
                &client,
                &token,
                WorkDoneProgress::Report(WorkDoneProgressReport {
                    cancellable: Some(false),
                    message: Some(format!("{done}/{total} folders")),
                    percentage: Some((done * 100 / total) as u32),
                }),
            )
            .await;
        }
    }
    if report {
        progress(
            &client,
            &token,
            WorkDoneProgress::End(WorkDoneProgressEnd {
                message: Some(format!("indexed {files} files")),
            }),
        )
        .await;
    }
    tracing::info!(files, folders = total, "workspace indexed");
}
