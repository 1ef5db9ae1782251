//! The files of a document's module (its folder): editor buffers where open
//! (unsaved text wins), the disk otherwise.

use std::path::{Path, PathBuf};

use ropey::Rope;
use tower_lsp::lsp_types::Url;
use tree_sitter::Tree;

use crate::analysis::module::{ModuleFile, ModuleIndex};
use crate::analysis::syntax;
use crate::cli::walk::is_terraform_file;
use crate::server::session::Session;

/// One file of the module, parsed.
pub struct LoadedFile {
    pub path: PathBuf,
    pub uri: Url,
    pub text: String,
    pub tree: Tree,
    /// The editor's version when the text came from an open buffer.
    pub version: Option<i32>,
}

impl LoadedFile {
    pub fn rope(&self) -> Rope {
        Rope::from_str(&self.text)
    }
}

/// The module a document belongs to.
pub struct Module {
    pub files: Vec<LoadedFile>,
    pub index: ModuleIndex,
}

impl Module {
    /// Loads the `*.tf` files of `folder`, preferring open buffers. The
    /// document itself (`current`, not necessarily saved) is always included.
    pub fn load(session: &Session, folder: Option<&Path>, current: LoadedFile) -> Self {
        let mut files = vec![];
        if let Some(folder) = folder
            && let Ok(entries) = std::fs::read_dir(folder)
        {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_terraform_file(p) && !is_hidden(p))
                .filter(|p| *p != current.path)
                .collect();
            paths.sort();
            for path in paths {
                if let Some(file) = load_file(session, &path) {
                    files.push(file);
                }
            }
        }
        files.push(current);
        let index = ModuleIndex::build(files.iter().map(|f| ModuleFile {
            path: &f.path,
            src: &f.text,
            tree: &f.tree,
        }));
        Self { files, index }
    }

    /// The file that should receive new variable declarations: the module's
    /// `variables.tf` if it has one.
    pub fn variables_file(&self) -> Option<&LoadedFile> {
        self.files
            .iter()
            .find(|f| f.path.file_name().is_some_and(|n| n == "variables.tf"))
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn load_file(session: &Session, path: &Path) -> Option<LoadedFile> {
    let uri = Url::from_file_path(path).ok()?;
    let (text, version) = match session.open_text_at(path) {
        Some((_, text, version)) => (text, Some(version)),
        None => match crate::cli::read_source(path) {
            Ok(text) => (text, None),
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read module file: {e}");
                return None;
            }
        },
    };
    let tree = syntax::parse(&text, None);
    Some(LoadedFile {
        path: path.to_path_buf(),
        uri,
        text,
        tree,
        version,
    })
}
