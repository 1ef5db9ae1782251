//! Which folders a `check` must parse at all.
//!
//! Parsing is most of a check's time and memory, and in a large repository
//! most modules cannot hold a finding: no file of theirs mentions a type a
//! rule checks ([`svl_analysis::rules::may_apply`], a byte search). Such a
//! folder is still needed when it calls, directly or through other folders,
//! one that can: its `module` blocks supply the values the called folder is
//! judged with. Calls are found by a byte search too: a local module source
//! is a literal string starting with `./` or `../` (Terraform allows nothing
//! else), so every text that could be one is resolved against the folders
//! being checked. A folder whose text may call a module of another source
//! ([`may_call_elsewhere`]) is parsed too: that call is followed where
//! `terraform init` installed it, or named as not followed. The searches
//! err on the side of parsing: a folder is skipped only when nothing in its
//! text could make a difference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use svl_analysis::module::normalize;

/// The folders of `folders` (each with the texts of its files) that must be
/// parsed: those whose files may hold findings (a model, a call not
/// followed), and every folder that may call one of them, transitively —
/// by a local source, or by one of the `installed` calls (caller, called
/// folder: see [`crate::manifest`]).
pub fn folders_to_parse(
    folders: &BTreeMap<PathBuf, Vec<&str>>,
    installed: &[(PathBuf, PathBuf)],
) -> BTreeSet<PathBuf> {
    let mut needed: BTreeSet<PathBuf> = folders
        .iter()
        .filter(|(folder, texts)| {
            texts.iter().any(|t| {
                svl_analysis::rules::may_apply(t)
                    || may_call_elsewhere(t)
                    || may_call_absent(folder, t, folders)
            })
        })
        .map(|(folder, _)| folder.clone())
        .collect();
    // callee → the folders that may call it.
    let mut callers: BTreeMap<PathBuf, Vec<&PathBuf>> = BTreeMap::new();
    for (folder, texts) in folders {
        for text in texts {
            for path in local_paths(text) {
                let callee = normalize(&folder.join(path));
                if &callee != folder && folders.contains_key(&callee) {
                    callers.entry(callee).or_default().push(folder);
                }
            }
        }
    }
    for (caller, callee) in installed {
        if let Some((caller, _)) = folders.get_key_value(caller) {
            callers.entry(callee.clone()).or_default().push(caller);
        }
    }
    let mut stack: Vec<PathBuf> = needed.iter().cloned().collect();
    while let Some(folder) = stack.pop() {
        for caller in callers.get(&folder).into_iter().flatten() {
            if needed.insert((*caller).clone()) {
                stack.push((*caller).clone());
            }
        }
    }
    needed
}

/// Whether `text` may hold a `module` block whose source is not a local
/// path (a call `check` follows where `terraform init` installed it, or
/// names as not followed), or none Terraform takes: a `module "` header at
/// the start of a line (or a JSON `"module":` key, which always counts)
/// and a `source` set to anything but a string starting with `./` or
/// `../` (a provider's `source` counts too: it errs on the side of
/// parsing), or fewer `source`s than headers.
pub fn may_call_elsewhere(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut headers = 0;
    for at in memchr::memmem::find_iter(bytes, b"module") {
        let line_start = bytes[..at]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(is_blank);
        let rest = after_blanks(bytes, at + "module".len());
        if at > 0 && bytes[at - 1] == b'"' && rest.starts_with(b"\":") {
            return true;
        }
        if line_start && rest.first() == Some(&b'"') {
            headers += 1;
        }
    }
    if headers == 0 {
        return false;
    }
    let mut sources = 0;
    for value in source_values(text) {
        sources += 1;
        match value.strip_prefix('"') {
            Some(string) if svl_analysis::module::is_local_source(string) => {}
            _ => return true,
        }
    }
    sources < headers
}

fn is_blank(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `bytes` from `at` on, blanks skipped.
fn after_blanks(bytes: &[u8], at: usize) -> &[u8] {
    let rest = &bytes[at..];
    &rest[rest.iter().position(|b| !is_blank(b)).unwrap_or(rest.len())..]
}

/// The text after each `source =` (or the JSON key `"source":`) and the
/// blanks after it, to the end of `text`.
fn source_values(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"source").filter_map(move |at| {
        let rest = after_blanks(bytes, at + "source".len());
        // A JSON key: `"source": "…"`.
        let rest = match rest.first() {
            Some(b'"') => after_blanks(bytes, bytes.len() - rest.len() + 1),
            _ => rest,
        };
        let rest = match rest.first() {
            Some(b'=' | b':') => after_blanks(bytes, bytes.len() - rest.len() + 1),
            _ => return None,
        };
        // `rest` starts after ASCII: a char boundary of `text`.
        Some(&text[bytes.len() - rest.len()..])
    })
}

/// Whether `text`, in `folder`, may call a local folder that is not there
/// (a call `check` names as not followed): a `source` set to a local path
/// (to the next `"` or line break) that is neither one of the `known`
/// folders nor a folder on disk.
fn may_call_absent(folder: &Path, text: &str, known: &BTreeMap<PathBuf, Vec<&str>>) -> bool {
    source_values(text)
        .filter_map(|value| value.strip_prefix('"'))
        .filter(|source| svl_analysis::module::is_local_source(source))
        .any(|source| {
            let path = &source[..source.find(['"', '\n', '\r']).unwrap_or(source.len())];
            let callee = normalize(&folder.join(path));
            !known.contains_key(&callee) && !callee.is_dir()
        })
}

/// Every piece of `text` that could be a local module source: from each
/// `./` or `../` to the next `"`, line break or end of text (a path may
/// hold spaces; a heredoc ends its lines with a break). Finds more than the
/// real sources (any relative path in any string or comment), never less.
pub fn local_paths(text: &str) -> impl Iterator<Item = &Path> {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"./").filter_map(move |at| {
        let start = if at > 0 && bytes[at - 1] == b'.' {
            at - 1
        } else {
            at
        };
        let len = bytes[start..]
            .iter()
            .position(|&b| matches!(b, b'"' | b'\n' | b'\r'))
            .unwrap_or(bytes.len() - start);
        // `start` and the end both sit next to ASCII bytes.
        text.get(start..start + len).map(Path::new)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(folders: &[(&str, &[&str])]) -> Vec<String> {
        run_installed(folders, &[])
    }

    fn run_installed(folders: &[(&str, &[&str])], installed: &[(&str, &str)]) -> Vec<String> {
        let map: BTreeMap<PathBuf, Vec<&str>> = folders
            .iter()
            .map(|(f, texts)| (PathBuf::from(f), texts.to_vec()))
            .collect();
        let installed: Vec<(PathBuf, PathBuf)> = installed
            .iter()
            .map(|(a, b)| (PathBuf::from(a), PathBuf::from(b)))
            .collect();
        folders_to_parse(&map, &installed)
            .into_iter()
            .map(|p| p.display().to_string())
            .collect()
    }

    const MODEL: &str = "resource \"aws_sagemaker_model\" \"m\" {}\n";
    const BUCKET: &str = "resource \"aws_s3_bucket\" \"b\" {}\n";

    #[test]
    fn folders_without_models_or_callers_of_models_are_skipped() {
        let got = run(&[
            ("/r/ml", &[MODEL]),
            ("/r/web", &[BUCKET]),
            // Calls ml through a chain: both are needed.
            ("/r/env", &["module \"x\" {\n  source = \"../mid\"\n}\n"]),
            ("/r/mid", &["module \"ml\" {\n  source = \"./../ml/\"\n}\n"]),
            // Calls web only.
            ("/r/other", &["module \"w\" {\n  source = \"../web\"\n}\n"]),
            // Calls a folder that is not there: named as not followed.
            ("/r/typo", &["module \"t\" {\n  source = \"../nope\"\n}\n"]),
        ]);
        assert_eq!(got, ["/r/env", "/r/mid", "/r/ml", "/r/typo"]);
    }

    /// A root calling a registry module that `terraform init` installed
    /// holding a model supplies its values: it is parsed, even where the
    /// byte search for such calls misses it (a comment before the header).
    #[test]
    fn callers_of_installed_folders_are_needed() {
        let remote = "/* c */ module \"sm\" {\n  source = \"acme/sm/aws\"\n}\n";
        let folders: &[(&str, &[&str])] = &[
            ("/r/env", &[remote]),
            ("/r/env/.terraform/modules/sm", &[MODEL]),
        ];
        assert_eq!(run(folders), ["/r/env/.terraform/modules/sm"]);
        assert_eq!(
            run_installed(folders, &[("/r/env", "/r/env/.terraform/modules/sm")]),
            ["/r/env", "/r/env/.terraform/modules/sm"]
        );
    }

    /// A call of a source that is not a local path, or of none Terraform
    /// takes, is parsed, to be followed or named; local calls, provider
    /// sources alone and the word in prose are not.
    #[test]
    fn calls_of_other_sources_are_found_by_their_text() {
        for text in [
            "module \"sm\" {\n  source = \"acme/sm/aws\"\n}\n",
            "  module \"sm\" {\n  source=\"git::https://x/y.git\"\n}\n",
            "{\"module\": {\"sm\": {\"source\" : \"acme/sm/aws\"}}}",
            "module \"v\" {\n  source = var.path\n}\n",
            "module \"a\" {\n  source = \"./a\"\n}\nmodule \"none\" {\n}\n",
        ] {
            assert!(may_call_elsewhere(text), "{text}");
        }
        for text in [
            "module \"m\" {\n  source = \"./m\"\n}\n",
            "module \"m\" {\n  source = \"../m\"\n}\n",
            "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n",
            "# the module \"x\" source = \"y\"\n",
        ] {
            assert!(!may_call_elsewhere(text), "{text}");
        }
    }

    #[test]
    fn escapes_suppressions_heredocs_and_json_sources_count() {
        let got = run(&[
            (
                "/r/a",
                &["resource \"aws_sagemaker\\u005fmodel\" \"m\" {}\n"],
            ),
            (
                "/r/b",
                &["# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- x\n"],
            ),
            ("/r/c", &[BUCKET]),
            (
                "/r/d",
                &["module \"c\" {\n  source = <<EOT\n../c\nEOT\n}\n"],
            ),
            ("/r/e", &["{\"module\": {\"x\": {\"source\": \"../a\"}}}"]),
            (
                "/r/f",
                &["module \"m\" {\n  source = \"../with space/x\"\n}\n"],
            ),
            ("/r/with space/x", &[MODEL]),
        ]);
        // A heredoc source (d) is not a string starting with `./`: parsed.
        assert_eq!(
            got,
            ["/r/a", "/r/b", "/r/d", "/r/e", "/r/f", "/r/with space/x"]
        );
    }
}
