//! Byte offsets ↔ (line, column) in a chosen encoding.
//!
//! The analysis speaks byte offsets. Editors speak lines and columns counted in
//! UTF-16 code units (VS Code), bytes or code points (Neovim may offer either),
//! and the CLI prints columns in Unicode characters. Every conversion goes
//! through here with the encoding passed explicitly. Line breaks are `\n`,
//! `\r\n` and a lone `\r`, as LSP defines them (ropey's `cr_lines`, without
//! the Unicode line separators LSP does not count).

use ropey::Rope;

/// How columns are counted. The order is the server's preference: tree-sitter
/// and ropey work in bytes, so UTF-8 costs nothing to convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
    /// Unicode scalar values (code points), as the CLI reports columns.
    Utf32,
}

/// A zero-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

/// Byte length of line `line` without its line break.
fn line_content_len(rope: &Rope, line: usize) -> usize {
    let slice = rope.line(line);
    let mut len = slice.len_bytes();
    let mut trailing = slice.bytes_at(len).reversed();
    match trailing.next() {
        Some(b'\n') => {
            len -= 1;
            if trailing.next() == Some(b'\r') {
                len -= 1;
            }
        }
        Some(b'\r') => len -= 1,
        _ => {}
    }
    len
}

/// The tree-sitter point of a byte offset: the rope's line, and the column
/// in bytes.
pub fn ts_point(rope: &Rope, byte: usize) -> tree_sitter::Point {
    let row = rope.byte_to_line(byte);
    tree_sitter::Point {
        row,
        column: byte - rope.line_to_byte(row),
    }
}

/// Up to this many bytes from the start of its line, whether a column is
/// all ASCII is read from the bytes (most lines are short); further on,
/// from the rope's counts of characters, which do not grow with the line.
/// Every finding of a minified `.tf.json` file is on its one line: reading
/// each from the line's start took 58 % of the second it took to open
/// 25,000 models, and more than that of `check`.
const SCANNED_COLUMN: usize = 256;

/// Converts a byte offset (clamped to the text, rounded down to a character
/// boundary) to a line and column.
pub fn to_line_col(rope: &Rope, offset: usize, encoding: Encoding) -> LineCol {
    let offset = offset.min(rope.len_bytes());
    // Most lines before a finding are ASCII: the column is then the byte
    // distance in every encoding, without counting characters.
    let line = rope.byte_to_line(offset);
    let line_start = rope.line_to_byte(line);
    let ascii = if offset - line_start <= SCANNED_COLUMN {
        ascii_between(rope, line_start, offset)
    } else {
        // As many characters as bytes: all ASCII.
        rope.byte_to_char(offset) - rope.line_to_char(line) == offset - line_start
    };
    if ascii {
        return LineCol {
            line,
            col: offset - line_start,
        };
    }
    counted(rope, offset, encoding)
}

/// The line and column of `offset` (within the text) by counting
/// characters through the rope.
fn counted(rope: &Rope, offset: usize, encoding: Encoding) -> LineCol {
    let char_idx = rope.byte_to_char(offset);
    let line = rope.char_to_line(char_idx);
    let line_char = rope.line_to_char(line);
    let col = match encoding {
        Encoding::Utf8 => rope.char_to_byte(char_idx) - rope.line_to_byte(line),
        Encoding::Utf16 => rope.char_to_utf16_cu(char_idx) - rope.char_to_utf16_cu(line_char),
        Encoding::Utf32 => char_idx - line_char,
    };
    LineCol { line, col }
}

/// The bytes `start..end` of the rope are all ASCII.
fn ascii_between(rope: &Rope, start: usize, end: usize) -> bool {
    if start >= end {
        return true;
    }
    let (chunks, mut chunk_start, _, _) = rope.chunks_at_byte(start);
    for chunk in chunks {
        let bytes = chunk.as_bytes();
        let from = start.saturating_sub(chunk_start).min(bytes.len());
        let to = (end - chunk_start).min(bytes.len());
        if !bytes[from..to].is_ascii() {
            return false;
        }
        chunk_start += bytes.len();
        if chunk_start >= end {
            break;
        }
    }
    true
}

/// What happened when a position did not name a place in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clamp {
    /// The position was inside the text.
    Exact,
    /// The column was past the end of its line (LSP: means the line's end).
    PastLineEnd,
    /// The column split a character (inside a UTF-8 sequence or a surrogate pair).
    InsideCharacter,
    /// The line was past the last line: the end of the text.
    PastEnd,
}

/// Converts a line and column to a byte offset. Out-of-range positions are
/// clamped the way LSP specifies, and the returned [`Clamp`] says so.
pub fn to_offset(rope: &Rope, pos: LineCol, encoding: Encoding) -> (usize, Clamp) {
    if pos.line >= rope.len_lines() {
        return (rope.len_bytes(), Clamp::PastEnd);
    }
    let line_byte = rope.line_to_byte(pos.line);
    let content = line_content_len(rope, pos.line);
    let line_end_byte = line_byte + content;
    let (offset, mut clamp) = match encoding {
        Encoding::Utf8 => {
            let target = line_byte + pos.col;
            if target > line_end_byte {
                (line_end_byte, Clamp::PastLineEnd)
            } else {
                (target, Clamp::Exact)
            }
        }
        Encoding::Utf16 => {
            let line_cu = rope.char_to_utf16_cu(rope.byte_to_char(line_byte));
            let end_cu = rope.char_to_utf16_cu(rope.byte_to_char(line_end_byte));
            let target = line_cu + pos.col;
            if target > end_cu {
                (line_end_byte, Clamp::PastLineEnd)
            } else {
                let char_idx = rope.utf16_cu_to_char(target);
                let exact = rope.char_to_utf16_cu(char_idx) == target;
                (
                    rope.char_to_byte(char_idx),
                    if exact {
                        Clamp::Exact
                    } else {
                        Clamp::InsideCharacter
                    },
                )
            }
        }
        Encoding::Utf32 => {
            let line_char = rope.byte_to_char(line_byte);
            let end_char = rope.byte_to_char(line_end_byte);
            let target = line_char + pos.col;
            if target > end_char {
                (line_end_byte, Clamp::PastLineEnd)
            } else {
                (rope.char_to_byte(target), Clamp::Exact)
            }
        }
    };
    // Round down to a character boundary (UTF-8 columns may split one).
    let floor = rope.char_to_byte(rope.byte_to_char(offset));
    if floor != offset {
        clamp = Clamp::InsideCharacter;
    }
    (floor, clamp)
}

/// How many bytes `a` and `b` have in common at their start, and how many
/// more at their end (the two never overlap): what an edit turning one into
/// the other left as it was. In bytes, not snapped to characters. Compared
/// a page at a time while equal, then byte by byte.
pub fn common_ends(a: &str, b: &str) -> (usize, usize) {
    const PAGE: usize = 4096;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().min(b.len());
    let mut prefix = 0;
    while prefix + PAGE <= n && a[prefix..prefix + PAGE] == b[prefix..prefix + PAGE] {
        prefix += PAGE;
    }
    while prefix < n && a[prefix] == b[prefix] {
        prefix += 1;
    }
    let most = n - prefix;
    // The `len` bytes before the last `k` of each.
    let same_before_last = |k: usize, len: usize| {
        a[a.len() - k - len..a.len() - k] == b[b.len() - k - len..b.len() - k]
    };
    let mut suffix = 0;
    while suffix + PAGE <= most && same_before_last(suffix, PAGE) {
        suffix += PAGE;
    }
    while suffix < most && same_before_last(suffix, 1) {
        suffix += 1;
    }
    (prefix, suffix)
}

#[cfg(test)]
mod tests {

    /// Pages and single bytes alike: a text of several pages edited at
    /// its start, inside, at its end, not at all, or replaced whole.
    #[test]
    fn common_ends_are_what_an_edit_left() {
        let naive = |a: &str, b: &str| {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let most = a.len().min(b.len()) - p;
            let s = a
                .iter()
                .rev()
                .zip(b.iter().rev())
                .take(most)
                .take_while(|(x, y)| x == y)
                .count();
            (p, s)
        };
        let base: String = (0..3000).map(|i| format!("{i} ")).collect();
        let n = base.len();
        let edits = [
            (0, 0, "x"),
            (0, 5, ""),
            (9000, 9001, "yy"),
            (n, n, "z"),
            (n - 3, n, ""),
            (0, 0, ""),
            (0, n, "other"),
        ];
        for (from, to, with) in edits {
            let mut edited = base.clone();
            edited.replace_range(from..to, with);
            assert_eq!(
                common_ends(&base, &edited),
                naive(&base, &edited),
                "{from}..{to} -> {with:?}"
            );
            assert_eq!(
                common_ends(&edited, &base),
                naive(&edited, &base),
                "{from}..{to} -> {with:?}, reversed"
            );
        }
        // Repeated text: the two ends never overlap.
        assert_eq!(common_ends("aaaa", "aaaaaa"), (4, 0));
    }
    use super::*;

    #[test]
    fn the_ascii_path_agrees_with_counting_across_chunks() {
        // Long lines (ropes split them into chunks of about a kilobyte),
        // mixed with non-ASCII characters, `\r\n` and lone `\r`.
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&"a".repeat(i * 7 % 2100));
            text.push_str(["💣", "ß", "", "x", "ℝ"][i % 5]);
            text.push_str(&"b".repeat(i % 13));
            text.push_str(["\n", "\r\n", "\r", "\n\n"][i % 4]);
        }
        let rope = Rope::from_str(&text);
        for offset in (0..=text.len() + 3).step_by(7) {
            for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                assert_eq!(
                    to_line_col(&rope, offset, encoding),
                    counted(&rope, offset.min(rope.len_bytes()), encoding),
                    "{offset} {encoding:?}"
                );
            }
        }
    }

    /// `A` (1 byte, 1 UTF-16 unit), `ß` (2, 1), `ℝ` (3, 1), `💣` (4, 2).
    const LINE: &str = "Aßℝ💣x";

    fn cols(offset: usize) -> (usize, usize, usize) {
        let rope = Rope::from_str(LINE);
        (
            to_line_col(&rope, offset, Encoding::Utf8).col,
            to_line_col(&rope, offset, Encoding::Utf16).col,
            to_line_col(&rope, offset, Encoding::Utf32).col,
        )
    }

    #[test]
    fn width_table() {
        assert_eq!(cols(0), (0, 0, 0));
        assert_eq!(cols(1), (1, 1, 1)); // after A
        assert_eq!(cols(3), (3, 2, 2)); // after ß
        assert_eq!(cols(6), (6, 3, 3)); // after ℝ
        assert_eq!(cols(10), (10, 5, 4)); // after 💣
        assert_eq!(cols(11), (11, 6, 5)); // end of line
    }

    #[test]
    fn round_trips_in_every_encoding() {
        let text = "A\r\nßℝ💣\rx\n\ty💣z\n";
        let rope = Rope::from_str(text);
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            for (offset, c) in text.char_indices() {
                // Between `\r` and `\n` is no position of its own.
                if c == '\n' && text[..offset].ends_with('\r') {
                    continue;
                }
                let lc = to_line_col(&rope, offset, enc);
                assert_eq!(
                    to_offset(&rope, lc, enc),
                    (offset, Clamp::Exact),
                    "{enc:?} {offset}"
                );
            }
        }
    }

    #[test]
    fn crlf_and_lone_cr_are_line_breaks() {
        let rope = Rope::from_str("ab\r\ncd\ref");
        assert_eq!(
            to_line_col(&rope, 4, Encoding::Utf16),
            LineCol { line: 1, col: 0 }
        );
        assert_eq!(
            to_line_col(&rope, 7, Encoding::Utf16),
            LineCol { line: 2, col: 0 }
        );
        // The end of line 0 is before `\r\n`.
        let (end, clamp) = to_offset(&rope, LineCol { line: 0, col: 99 }, Encoding::Utf16);
        assert_eq!((end, clamp), (2, Clamp::PastLineEnd));
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let rope = Rope::from_str("a💣b\nc");
        let past = LineCol { line: 5, col: 0 };
        assert_eq!(to_offset(&rope, past, Encoding::Utf8), (8, Clamp::PastEnd));
        // One past the last line.
        let one_past = LineCol { line: 2, col: 0 };
        assert_eq!(
            to_offset(&rope, one_past, Encoding::Utf16),
            (8, Clamp::PastEnd)
        );
        // Inside the surrogate pair of 💣 rounds down to its start.
        let split = LineCol { line: 0, col: 2 };
        assert_eq!(
            to_offset(&rope, split, Encoding::Utf16),
            (1, Clamp::InsideCharacter)
        );
        // Inside its UTF-8 sequence, likewise.
        let split = LineCol { line: 0, col: 3 };
        assert_eq!(
            to_offset(&rope, split, Encoding::Utf8),
            (1, Clamp::InsideCharacter)
        );
        // Offsets past the end clamp to the end.
        assert_eq!(
            to_line_col(&rope, 99, Encoding::Utf32),
            LineCol { line: 1, col: 1 }
        );
    }
}
