//! A lexical scan of HCL that finds what is not code — comments, quoted
//! strings (with their interpolations) and heredocs — without a parse.
//!
//! Syntax-error recovery can flatten a file into loose tokens, so the tree
//! no longer says whether a line is inside a heredoc. This scan does not
//! depend on the tree: text found by searching (a `resource` header to
//! recover) and places a fix would edit are checked against it, so that
//! neither is ever inside a string, heredoc or comment.

use std::ops::Range;

#[derive(Debug, Clone, Copy)]
enum Ctx {
    /// Code nested in a template interpolation, with its `{` depth.
    Interp(usize),
    /// A quoted string.
    Str,
}

/// The outermost comment, string and heredoc spans of `src`, in order.
pub(crate) fn non_code(src: &str) -> Vec<Range<usize>> {
    scan(src).0
}

/// [`non_code`] without the span left open at the end of `src` (a `/*`
/// never closed, a string whose interpolation runs to the end): what such
/// a span holds is text only if the file is finished as it is, which a
/// file with syntax errors is not.
pub(crate) fn closed_non_code(src: &str) -> Vec<Range<usize>> {
    let (mut regions, open) = scan(src);
    if open {
        regions.pop();
    }
    regions
}

/// The bytes [`scan`] acts on in code: comments, strings, heredocs, and
/// the braces of an interpolation.
const CODE_BYTES: [bool; 256] = byte_set(b"#/\"<{}");
/// The bytes [`scan`] acts on in a quoted string: escapes, its end, an
/// interpolation, a line break.
const STRING_BYTES: [bool; 256] = byte_set(b"\\\"$%\n");

const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        set[bytes[i] as usize] = true;
        i += 1;
    }
    set
}

/// The spans of [`non_code`], and whether the last one is left open.
fn scan(src: &str) -> (Vec<Range<usize>>, bool) {
    scan_acting_on(src, (&CODE_BYTES, &STRING_BYTES))
}

/// [`scan`], skipping the bytes that are not in `acts` (in code, in a
/// string) without looking at them: every byte the scan matches on must be.
fn scan_acting_on(src: &str, acts: (&[bool; 256], &[bool; 256])) -> (Vec<Range<usize>>, bool) {
    let bytes = src.as_bytes();
    let mut open = false;
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut region_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most bytes are none of those the scan acts on: skipped in a tight
        // loop (the match below, on every byte, was most of the 57 ms a
        // 10 MB open spent estimating its tree).
        let ctx = stack.last().copied();
        let acts = match ctx {
            Some(Ctx::Str) => acts.1,
            _ => acts.0,
        };
        match bytes[i..].iter().position(|&b| acts[usize::from(b)]) {
            Some(skip) => i += skip,
            None => break,
        }
        let b = bytes[i];
        match ctx {
            Some(Ctx::Str) => match b {
                b'\\' => i += 2,
                b'"' => {
                    stack.pop();
                    i += 1;
                    if stack.is_empty() {
                        out.push(region_start..i);
                    }
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(Ctx::Interp(0));
                    i += 2;
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b) && bytes.get(i + 2) == Some(&b'{') => {
                    i += 3; // `$${`: a literal `${`
                }
                b'\n' => {
                    // A quoted string never spans lines: it was left open.
                    stack.clear();
                    out.push(region_start..i);
                    i += 1;
                }
                _ => i += 1,
            },
            ctx => {
                // Code: at the top level, or inside an interpolation.
                let depth = match ctx {
                    Some(Ctx::Interp(d)) => Some(d),
                    _ => None,
                };
                match b {
                    b'#' => {
                        let end = line_end(bytes, i);
                        if stack.is_empty() {
                            out.push(i..end);
                        }
                        i = end;
                    }
                    b'/' if bytes.get(i + 1) == Some(&b'/') => {
                        let end = line_end(bytes, i);
                        if stack.is_empty() {
                            out.push(i..end);
                        }
                        i = end;
                    }
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        let close = find(bytes, i + 2, b"*/");
                        let end = close.map_or(bytes.len(), |e| e + 2);
                        if stack.is_empty() {
                            out.push(i..end);
                            open = close.is_none();
                        }
                        i = end;
                    }
                    b'"' => {
                        if stack.is_empty() {
                            region_start = i;
                        }
                        stack.push(Ctx::Str);
                        i += 1;
                    }
                    b'<' if bytes.get(i + 1) == Some(&b'<') => match heredoc_end(src, i) {
                        Some((end, closed)) => {
                            if stack.is_empty() {
                                out.push(i..end);
                                open = !closed;
                            }
                            i = end;
                        }
                        None => i += 2,
                    },
                    b'{' => {
                        if let Some(d) = depth {
                            stack.pop();
                            stack.push(Ctx::Interp(d + 1));
                        }
                        i += 1;
                    }
                    b'}' => {
                        match depth {
                            Some(0) => {
                                stack.pop(); // back into the string
                            }
                            Some(d) => {
                                stack.pop();
                                stack.push(Ctx::Interp(d - 1));
                            }
                            None => {}
                        }
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
        }
    }
    if !stack.is_empty() {
        out.push(region_start..bytes.len());
        open = true;
    }
    (out, open)
}

/// About how many syntax nodes a parse of `src` makes, found without one:
/// each word, number and punctuation mark of code counts one; a string or
/// heredoc counts one, plus the code of its interpolations; a comment
/// counts nothing. A parse's memory (tree-sitter's tree and the lowered
/// blocks) grows with this count, not with the text's size: a megabyte of
/// `[[[[…` is a million nodes, a megabyte-long string is one.
pub(crate) fn tokens(src: &str) -> usize {
    tokens_around(src, &non_code(src))
}

/// [`tokens`], given the [`non_code`] spans of `src`.
pub(crate) fn tokens_around(src: &str, non_code: &[Range<usize>]) -> usize {
    let bytes = src.as_bytes();
    let mut count = 0;
    let mut at = 0;
    for region in non_code.iter().cloned() {
        count += code_tokens(&bytes[at..region.start]);
        if !matches!(bytes[region.start], b'#' | b'/') {
            count += 1 + interpolation_tokens(&bytes[region.clone()]);
        }
        at = region.end;
    }
    count + code_tokens(&bytes[at..])
}

/// The words and punctuation marks of a stretch of code.
fn code_tokens(bytes: &[u8]) -> usize {
    // No branch a byte: with them, counting took a 10 MB open about 13 ms.
    let mut count = 0;
    let mut in_word = false;
    for &b in bytes {
        let class = BYTE_CLASS[usize::from(b)];
        let word = class == WORD;
        count += usize::from(class == PUNCTUATION || (word && !in_word));
        in_word = word;
    }
    count
}

/// Whether `b` is a byte of a word: an ASCII letter or digit, `_`, any
/// byte of a non-ASCII character.
pub(crate) fn is_word_byte(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] == WORD
}

/// A byte of a word ([`is_word_byte`]), in [`BYTE_CLASS`].
const WORD: u8 = 1;
/// An ASCII punctuation mark, in [`BYTE_CLASS`].
const PUNCTUATION: u8 = 2;
/// Each byte's class for [`code_tokens`]: [`WORD`], [`PUNCTUATION`] or 0.
const BYTE_CLASS: [u8; 256] = {
    let mut class = [0; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        class[b] = if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 {
            WORD
        } else if byte.is_ascii_punctuation() {
            PUNCTUATION
        } else {
            0
        };
        b += 1;
    }
    class
};

/// The tokens of the interpolations (`${…}`, `%{…}`) of a string or
/// heredoc, each up to its closing brace; a string nested in one counts as
/// code (more than the parse makes), and its braces do not count for the
/// nesting.
fn interpolation_tokens(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        let b = bytes[i];
        if (b == b'$' || b == b'%') && bytes[i + 1] == b {
            i += 2; // `$$` and `%%` escape what follows
            continue;
        }
        if (b == b'$' || b == b'%') && bytes[i + 1] == b'{' {
            let start = i + 2;
            let mut depth = 1;
            let mut end = start;
            let mut quoted = false;
            while end < bytes.len() {
                match bytes[end] {
                    // A brace in a string nested in the interpolation
                    // neither opens nor closes anything.
                    b'\\' if quoted => end += 1,
                    b'"' => quoted = !quoted,
                    b'{' if !quoted => depth += 1,
                    b'}' if !quoted => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                end += 1;
            }
            count += 1 + code_tokens(&bytes[start..end]);
            i = end + 1;
            continue;
        }
        i += 1;
    }
    count
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The end of a heredoc starting at `at` (`<<EOT` or `<<-EOT` then a line
/// break): just after its closing marker, or the end of the text if it is
/// never closed. `None` if this is not a heredoc opener.
fn heredoc_end(src: &str, at: usize) -> Option<(usize, bool)> {
    let (marker, flush) = heredoc_marker(&src[at..])?;
    let after = &src[at + 2 + usize::from(flush) + marker.len()..];
    let after = after.strip_prefix('\r').unwrap_or(after);
    if !after.starts_with('\n') {
        return None;
    }
    let mut pos = src.len() - after.len() + 1;
    while pos < src.len() {
        let end = src[pos..].find('\n').map_or(src.len(), |e| pos + e);
        if src[pos..end].trim() == marker {
            return Some((end, true));
        }
        pos = end + 1;
    }
    Some((src.len(), false))
}

/// The marker of the heredoc that `text` starts with (`<<EOT` or
/// `<<-EOT`), and whether it is a `<<-` heredoc (indentation stripped).
pub(crate) fn heredoc_marker(text: &str) -> Option<(&str, bool)> {
    let rest = text.strip_prefix("<<")?;
    let flush = rest.starts_with('-');
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_alphanumeric() || c == '_' || (c == '-' && i > 0)))
        .map_or(rest.len(), |(i, _)| i);
    (marker_len > 0).then(|| (&rest[..marker_len], flush))
}

/// Is `offset` strictly inside one of `regions` (sorted)?
pub fn inside(regions: &[Range<usize>], offset: usize) -> bool {
    let i = regions.partition_point(|r| r.end <= offset);
    regions
        .get(i)
        .is_some_and(|r| r.start < offset && offset < r.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_left_open_at_the_end_is_not_closed_non_code() {
        for open in ["x = <<EOT\nresource", "/* resource", "x = \"${\nresource"] {
            let src = format!("a = \"s\"\n{open} \"m\" \"n\" {{\n");
            assert_eq!(non_code(&src).len(), 2, "{src}");
            assert_eq!(
                closed_non_code(&src),
                vec![Range { start: 4, end: 7 }],
                "{src}"
            );
        }
        for closed in ["x = <<EOT\nresource\nEOT", "/* resource */", "# resource"] {
            let src = format!("a = \"s\"\n{closed}\n");
            assert_eq!(closed_non_code(&src), non_code(&src), "{src}");
            assert_eq!(closed_non_code(&src).len(), 2, "{src}");
        }
    }

    fn texts(src: &str) -> Vec<&str> {
        non_code(src).into_iter().map(|r| &src[r]).collect()
    }

    #[test]
    fn strings_comments_and_heredocs() {
        let src = "a = \"x ${join(\",\", [\"}\"])} y\" # c\nb = <<-EOT\n  resource \"m\" \"x\" {\n  EOT\n/* k */ c = 1 // d\n";
        assert_eq!(
            texts(src),
            [
                "\"x ${join(\",\", [\"}\"])} y\"",
                "# c",
                "<<-EOT\n  resource \"m\" \"x\" {\n  EOT",
                "/* k */",
                "// d"
            ]
        );
        let regions = non_code(src);
        let inner = src.find("resource").unwrap();
        assert!(inside(&regions, inner));
        assert!(!inside(&regions, src.find("c = 1").unwrap()));
    }

    #[test]
    fn tokens_count_code_not_text() {
        // resource "m" "x" { name = "a" }: a word, two strings, braces,
        // a word, `=` and a string.
        assert_eq!(tokens("resource \"m\" \"x\" {\n  name = \"a\"\n}\n"), 8);
        // Nesting is one token a bracket; a long string or heredoc is one.
        assert_eq!(
            tokens(&format!("a = {}{}", "[".repeat(500), "]".repeat(500))),
            1002
        );
        assert_eq!(tokens(&format!("a = \"{}\"", "[".repeat(5000))), 3);
        assert_eq!(
            tokens(&format!("a = <<EOT\n{}\nEOT\n", "x [ ] { }\n".repeat(1000))),
            3
        );
        // Comments count nothing; interpolations count their code, `$${`
        // is text.
        assert_eq!(tokens("# [[[[[[\n/* {{{{ */ a = 1 // ]]]]"), 3);
        assert_eq!(tokens("a = \"${f([1, 2])} $${[[[[}\""), 2 + 1 + 1 + 8);
        assert_eq!(
            tokens("a = <<EOT\n%{ for x in [1] }${x}%{ endfor }\nEOT\n"),
            2 + 1 + 7 + 2 + 2
        );
        // A brace in a string nested in an interpolation does not end it:
        // what follows is counted.
        assert_eq!(tokens("a = \"${f(\"}\") [[[[]]]]}\""), 2 + 1 + 1 + 14);
    }

    proptest::proptest! {
        /// Skipping the bytes the scan does not act on changes nothing: the
        /// scan that looks at every byte finds the same spans.
        #[test]
        fn skipping_ordinary_bytes_finds_the_same_spans(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\"", "\\", "$", "%", "{", "}", "${", "%{", "$${", "#", "/", "//", "/*",
                    "*/", "*", "<", "<<", "<<EOT\n", "<<-EOT\n", "EOT", "  EOT\n", "\n", "\r\n",
                    " ", "a", "x = ", "é", "[", "]", "=",
                ]),
                0..40,
            )
        ) {
            let src: String = parts.concat();
            let every = [true; 256];
            proptest::prop_assert_eq!(scan(&src), scan_acting_on(&src, (&every, &every)));
        }
    }

    #[test]
    fn unterminated_things_run_to_their_end() {
        assert_eq!(texts("a = \"open\nb = 1\n"), ["\"open"]);
        assert_eq!(
            texts("a = <<EOT\nnever closed\n"),
            ["<<EOT\nnever closed\n"]
        );
        assert_eq!(texts("x = 1 <<2"), Vec::<&str>::new());
    }
}
