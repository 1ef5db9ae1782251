//! What the property tests share: edits placed by fractions of the text, and
//! a file analyzed as the only file of a root module.

use std::path::PathBuf;
use std::sync::Arc;

use svl_analysis::module::{FileFacts, Frame, ModuleIndex};

/// How many cases a property test runs: `default`, or `PROPTEST_CASES` when
/// it is set (for a long one-off run). A case count written in the test's
/// config would otherwise win over the variable.
#[allow(dead_code)]
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Snaps a byte offset down to a character boundary of `text`.
pub fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The one frame of a root module made of `facts` alone.
pub fn frames(facts: &Arc<FileFacts>) -> Vec<Arc<Frame>> {
    let index = ModuleIndex::new(PathBuf::from("."), vec![Arc::clone(facts)]);
    vec![Arc::new(Frame::root(Arc::new(index)))]
}

thread_local! {
    static LAST_INDEX: std::cell::RefCell<Option<Arc<ModuleIndex>>> =
        const { std::cell::RefCell::new(None) };
}

/// [`frames`], with the index made as the server's workspace makes it: the
/// last one this thread made with `facts` swapped in, when a change inside
/// blocks allows ([`ModuleIndex::replacing`]), else a new one. The cache's
/// check finds the resources that changed against it.
#[allow(dead_code)]
pub fn frames_following(facts: &Arc<FileFacts>) -> Vec<Arc<Frame>> {
    let index = LAST_INDEX.with_borrow_mut(|last| {
        let index = last
            .as_ref()
            .and_then(|l| l.replacing(Arc::clone(facts)))
            .unwrap_or_else(|| ModuleIndex::new(PathBuf::from("."), vec![Arc::clone(facts)]));
        let index = Arc::new(index);
        *last = Some(Arc::clone(&index));
        index
    });
    vec![Arc::new(Frame::root(index))]
}
