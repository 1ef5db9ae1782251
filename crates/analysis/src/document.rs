//! An open document: its text as a rope, its syntax tree, its version.
//!
//! Changes of one notification are applied in order, each against the text
//! left by the previous one (the LSP spec requires it). Each range change is
//! converted with the current rope, turned into the matching tree-sitter
//! `InputEdit`, applied to the rope and to the tree. Computing every
//! `InputEdit` against the original text instead desynchronises the tree.
//!
//! The tree is parsed only when something needs the whole of it (a code
//! action; an analysis whose edits do not parse on their own): a whole-file
//! parse is linear in the file (tens of milliseconds per keystroke in a
//! megabyte, and two thirds of an open document's memory), and the analysis
//! reads the text block by block (see
//! [`crate::incremental::Incremental::sync_text`]). The document holds a
//! [`LazyTree`] shared with its snapshots: a tree one of them parsed is
//! edited and reused by the next parse.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use ropey::Rope;
use tree_sitter::{InputEdit, Point, Tree};

use crate::incremental::{ByteEdit, CacheOp};
use crate::position::{self, Clamp, Encoding, LineCol};
use crate::syntax;

/// One content change, in protocol terms but without protocol types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `None` replaces the whole text.
    pub range: Option<(LineCol, LineCol)>,
    pub text: String,
}

/// Something odd about a change that was nonetheless applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeWarning {
    /// A position past the end, or inside a character, was clamped.
    Clamped { position: LineCol, how: Clamp },
    /// The range ended before it started; it was read end-to-start.
    Reversed,
}

/// What [`Document::apply_changes`] did.
#[derive(Debug, Default)]
pub struct Applied {
    pub warnings: Vec<ChangeWarning>,
    pub ops: Vec<CacheOp>,
}

pub struct Document {
    /// For position conversions (O(log n) per position).
    pub rope: Rope,
    /// The same text as one string: tree-sitter parses a contiguous buffer
    /// several times faster than rope chunks, and analysis reads it too.
    /// Shared with snapshots; a change copies it only while one is alive.
    pub text: Arc<String>,
    /// The tree of `text`, parsed when first asked for.
    tree: Arc<LazyTree>,
    pub version: i32,
    /// When set, parses give up at once (see [`Document::new_unless`]).
    stop: Option<Arc<AtomicBool>>,
    /// The text a change last copied from (a snapshot held it): once
    /// nothing else holds it, the next copy is written into its buffer. A
    /// new buffer for a large text is mapped afresh and faulted in page by
    /// page as it is written (about 7 ms a keystroke at 10 MB).
    spare: Option<Arc<String>>,
}

impl Document {
    pub fn new(text: &str, version: i32) -> Self {
        Self::of(text.to_owned(), version, None)
    }

    /// A document of `text`, taken as it is, whose parses give up when
    /// `stop` is set.
    fn of(text: String, version: i32, stop: Option<Arc<AtomicBool>>) -> Self {
        Self {
            rope: Rope::from_str(&text),
            text: Arc::new(text),
            tree: Arc::new(LazyTree::unparsed(None, stop.clone())),
            version,
            stop,
            spare: None,
        }
    }

    /// A document whose parses (now and after every change) give up as soon
    /// as `stop` is set, leaving an empty tree: for a server whose client
    /// has gone, which only needs to stop, never to use the document again.
    /// It takes the text it is given: an open's 10 MB are not copied.
    pub fn new_unless(text: String, version: i32, stop: Arc<AtomicBool>) -> Self {
        Self::of(text, version, Some(stop))
    }

    /// Applies `changes` in order (the tree is only edited: see
    /// [`Document::tree`]). Never panics on bad positions: they are clamped
    /// and reported. Also returns what an [`Incremental`] analysis cache must
    /// learn of the change.
    ///
    /// [`Incremental`]: crate::incremental::Incremental
    pub fn apply_changes(&mut self, changes: &[Change], encoding: Encoding) -> Applied {
        let mut warnings = Vec::new();
        let mut ops = Vec::new();
        // The tree to edit: the last one parsed (or edited) of this text.
        let mut base: Option<Tree> = self.tree.base();
        for change in changes {
            let Some((start, end)) = change.range else {
                self.rope = Rope::from_str(&change.text);
                self.text = Arc::new(change.text.clone());
                base = None;
                ops.push(CacheOp::Invalidate);
                continue;
            };
            let (mut start_byte, start_clamp) = position::to_offset(&self.rope, start, encoding);
            let (mut end_byte, end_clamp) = position::to_offset(&self.rope, end, encoding);
            for (pos, how) in [(start, start_clamp), (end, end_clamp)] {
                if matches!(how, Clamp::PastEnd | Clamp::InsideCharacter) {
                    warnings.push(ChangeWarning::Clamped { position: pos, how });
                }
            }
            if end_byte < start_byte {
                warnings.push(ChangeWarning::Reversed);
                std::mem::swap(&mut start_byte, &mut end_byte);
            }
            let start_point = self.point(start_byte);
            let old_end_point = self.point(end_byte);
            let new_end_point = advance(start_point, &change.text);
            let start_char = self.rope.byte_to_char(start_byte);
            let end_char = self.rope.byte_to_char(end_byte);
            let lines_before = self.rope.len_lines();
            self.rope.remove(start_char..end_char);
            self.rope.insert(start_char, &change.text);
            let lines = self.rope.len_lines() as isize - lines_before as isize;
            self.splice(start_byte..end_byte, &change.text);
            ops.push(CacheOp::Edit(ByteEdit {
                start: start_byte,
                old_end: end_byte,
                new_end: start_byte + change.text.len(),
                lines,
            }));
            if let Some(tree) = base.as_mut() {
                tree.edit(&InputEdit {
                    start_byte,
                    old_end_byte: end_byte,
                    new_end_byte: start_byte + change.text.len(),
                    start_position: start_point,
                    old_end_position: old_end_point,
                    new_end_position: new_end_point,
                });
            }
        }
        if !changes.is_empty() {
            self.tree = Arc::new(LazyTree::unparsed(base, self.stop.clone()));
        }
        Applied { warnings, ops }
    }

    /// Replaces `range` of the text with `with`: in place when nothing else
    /// holds the text. A text an analysis still holds is not copied and
    /// then edited (two copies, the second into a larger buffer): the new
    /// one is built once, in the spare buffer when it is free.
    fn splice(&mut self, range: std::ops::Range<usize>, with: &str) {
        if let Some(own) = Arc::get_mut(&mut self.text) {
            own.replace_range(range, with);
            return;
        }
        let old = self.text.as_str();
        let len = old.len() - range.len() + with.len();
        let mut new = match self.spare.take().map(Arc::try_unwrap) {
            Some(Ok(mut spare)) => {
                spare.clear();
                spare.reserve(len);
                spare
            }
            // Room for some typing: the spare then needs no new buffer.
            _ => String::with_capacity(len + len / 64),
        };
        new.push_str(&old[..range.start]);
        new.push_str(with);
        new.push_str(&old[range.end..]);
        self.spare = Some(std::mem::replace(&mut self.text, Arc::new(new)));
    }

    /// The syntax tree of the text, parsed first if need be.
    pub fn tree(&self) -> &Tree {
        self.tree.get(&self.text)
    }

    /// The tree of the current text, parsed when first asked for, shared:
    /// what a holder parses, the document reuses.
    pub fn lazy_tree(&self) -> Arc<LazyTree> {
        Arc::clone(&self.tree)
    }

    /// The tree-sitter point of a byte offset.
    fn point(&self, byte: usize) -> Point {
        position::ts_point(&self.rope, byte)
    }

    /// A copy of the text.
    pub fn text(&self) -> String {
        self.text.as_str().to_owned()
    }
}

/// Parses `text`, reusing `old_tree` (already edited) when given; an empty
/// tree when `stop` is set.
fn reparse(text: &str, old_tree: Option<&Tree>, stop: Option<&AtomicBool>) -> Tree {
    match stop {
        Some(stop) => {
            syntax::parse_unless(text, old_tree, stop).unwrap_or_else(|| syntax::parse("", None))
        }
        None => syntax::parse(text, old_tree),
    }
}

/// The tree of one text, parsed when first asked for (from the edited tree
/// of an older text). Shared between threads: the first to ask parses.
#[derive(Debug)]
pub struct LazyTree {
    cell: OnceLock<Tree>,
    /// The older text's tree, edited, to re-parse from.
    edited: Option<Tree>,
    stop: Option<Arc<AtomicBool>>,
}

impl LazyTree {
    /// Not parsed yet: to be parsed from `edited` (the tree of an older
    /// text, edited), or from scratch; giving up when `stop` is set.
    fn unparsed(edited: Option<Tree>, stop: Option<Arc<AtomicBool>>) -> Self {
        Self {
            cell: OnceLock::new(),
            edited,
            stop,
        }
    }

    /// The tree to edit for the next text: the parsed one, else the edited
    /// one it would be parsed from.
    fn base(&self) -> Option<Tree> {
        self.cell.get().or(self.edited.as_ref()).cloned()
    }

    /// The tree of `text` (which must be the text this tree stands for).
    pub fn get(&self, text: &str) -> &Tree {
        self.cell
            .get_or_init(|| reparse(text, self.edited.as_ref(), self.stop.as_deref()))
    }

    /// The tree, if it was parsed.
    pub fn ready(&self) -> Option<&Tree> {
        self.cell.get()
    }
}

/// The point reached by writing `text` at `start`.
fn advance(start: Point, text: &str) -> Point {
    match text.rfind('\n') {
        Some(last) => Point {
            row: start.row + text.matches('\n').count(),
            column: text.len() - last - 1,
        },
        None => Point {
            row: start.row,
            column: start.column + text.len(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(l1: usize, c1: usize, l2: usize, c2: usize, text: &str) -> Change {
        Change {
            range: Some((LineCol { line: l1, col: c1 }, LineCol { line: l2, col: c2 })),
            text: text.to_owned(),
        }
    }

    /// A change that must copy the text (a snapshot holds it) writes into
    /// the buffer of the text the last copy replaced, once nothing holds
    /// that one; never into one a snapshot holds.
    #[test]
    fn a_copy_reuses_the_buffer_no_snapshot_holds() {
        let text = "resource \"aws_sagemaker_model\" \"m\" {}\n".repeat(1000);
        let mut doc = Document::new(&text, 1);
        let typed = |doc: &mut Document, col: usize| {
            doc.apply_changes(&[change(0, col, 0, col, "x")], Encoding::Utf8);
        };
        let first = Arc::clone(&doc.text); // a snapshot of version 1
        typed(&mut doc, 10);
        let second = Arc::clone(&doc.text); // and of version 2
        let second_buffer = second.as_ptr();
        typed(&mut doc, 11);
        // Version 1, the spare, is still held: untouched.
        assert_eq!(*first, text);
        drop(first);
        drop(second);
        let third = Arc::clone(&doc.text);
        typed(&mut doc, 12);
        // Version 2's buffer (now the spare) was free: version 4 is in it.
        assert_eq!(doc.text.as_ptr(), second_buffer);
        let mut expected = text.clone();
        for at in [10, 11, 12] {
            expected.insert(at, 'x');
        }
        assert_eq!(*doc.text, expected);
        expected.remove(12);
        assert_eq!(*third, expected);
    }

    fn assert_fresh(doc: &mut Document) {
        let text = doc.text();
        let fresh = syntax::parse(&text, None);
        assert_eq!(
            doc.tree().root_node().to_sexp(),
            fresh.root_node().to_sexp(),
            "{text:?}"
        );
    }

    #[test]
    fn changes_apply_in_order_against_the_previous_text() {
        let mut doc = Document::new("a = 1\nb = 2\n", 1);
        // The second change's position is only right after the first one.
        let warnings = doc
            .apply_changes(
                &[change(0, 0, 0, 0, "x = 0\n"), change(2, 4, 2, 5, "3")],
                Encoding::Utf16,
            )
            .warnings;
        assert!(warnings.is_empty());
        assert_eq!(doc.text(), "x = 0\na = 1\nb = 3\n");
        assert_fresh(&mut doc);
    }

    #[test]
    fn utf16_and_utf8_columns_after_astral_characters() {
        for (enc, col) in [(Encoding::Utf16, 12), (Encoding::Utf8, 18)] {
            let mut doc = Document::new("a = \"💣中💣\" # x\n", 1);
            // Replace `# x` (after the closing quote and a space).
            doc.apply_changes(&[change(0, col, 0, col + 3, "# y")], enc);
            assert_eq!(doc.text(), "a = \"💣中💣\" # y\n", "{enc:?}");
            assert_fresh(&mut doc);
        }
    }

    #[test]
    fn out_of_range_changes_are_clamped_and_reported() {
        let mut doc = Document::new("a = 1\n", 1);
        let warnings = doc
            .apply_changes(&[change(9, 0, 9, 0, "b = 2\n")], Encoding::Utf16)
            .warnings;
        assert_eq!(doc.text(), "a = 1\nb = 2\n");
        assert!(matches!(
            warnings[0],
            ChangeWarning::Clamped {
                how: Clamp::PastEnd,
                ..
            }
        ));
        let warnings = doc
            .apply_changes(&[change(0, 5, 0, 1, "")], Encoding::Utf16)
            .warnings;
        assert_eq!(warnings, [ChangeWarning::Reversed]);
        assert_eq!(doc.text(), "a\nb = 2\n");
        assert_fresh(&mut doc);
    }

    #[test]
    fn full_replacement_then_ranges() {
        let mut doc = Document::new("old", 1);
        doc.apply_changes(
            &[
                Change {
                    range: None,
                    text: "a = 1\r\n".into(),
                },
                change(1, 0, 1, 0, "b = 2\r\n"),
            ],
            Encoding::Utf8,
        );
        assert_eq!(doc.text(), "a = 1\r\nb = 2\r\n");
        assert_fresh(&mut doc);
    }
}
