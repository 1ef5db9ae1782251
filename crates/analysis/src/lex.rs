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
    let bytes = src.as_bytes();
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut region_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match stack.last().copied() {
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
                        let end = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
                        if stack.is_empty() {
                            out.push(i..end);
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
                        Some(end) => {
                            if stack.is_empty() {
                                out.push(i..end);
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
    }
    out
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
fn heredoc_end(src: &str, at: usize) -> Option<usize> {
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
            return Some(end);
        }
        pos = end + 1;
    }
    Some(src.len())
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
    fn unterminated_things_run_to_their_end() {
        assert_eq!(texts("a = \"open\nb = 1\n"), ["\"open"]);
        assert_eq!(
            texts("a = <<EOT\nnever closed\n"),
            ["<<EOT\nnever closed\n"]
        );
        assert_eq!(texts("x = 1 <<2"), Vec::<&str>::new());
    }
}
