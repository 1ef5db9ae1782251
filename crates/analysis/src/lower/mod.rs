//! From syntax trees to the syntax-free model of [`crate::hir`].

pub(crate) mod direct;
pub mod hcl;
pub mod json;

use std::cell::Cell;

/// How deep expressions and blocks may nest before the rest is read as an
/// invalid expression (an unknown value) or an empty body. Every pass over
/// the model recurses; without a bound, `[[[…]]]` nested 100,000 deep
/// overflowed the stack. Real configurations nest a dozen levels.
pub(crate) const MAX_NESTING: usize = 256;

/// The stack a thread that analyzes needs: nesting up to [`MAX_NESTING`]
/// takes about 3 MB in a debug build (each level is several frames), more
/// than the 2 MiB Rust gives a spawned thread.
pub const ANALYSIS_STACK_SIZE: usize = 16 * 1024 * 1024;

thread_local! {
    static NESTING: Cell<usize> = const { Cell::new(0) };
}

/// One level of nesting while it is alive; `None` past [`MAX_NESTING`].
pub(crate) struct Nest(());

impl Nest {
    pub(crate) fn enter() -> Option<Nest> {
        NESTING.with(|n| {
            if n.get() >= MAX_NESTING {
                None
            } else {
                n.set(n.get() + 1);
                Some(Nest(()))
            }
        })
    }
}

impl Drop for Nest {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get() - 1));
    }
}

/// Literals at least this long are masked before parsing (see [`mask`]).
pub(crate) const MASK_MIN: usize = 64 * 1024;

/// A literal replaced before parsing: where it ends, and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Masked {
    pub end: usize,
    pub value: String,
}

/// What was masked, by start offset.
pub(crate) type Masks = std::collections::HashMap<usize, Masked>;

thread_local! {
    static MASKS: std::cell::RefCell<Masks> = std::cell::RefCell::default();
}

/// A text being masked: copied on the first replacement only.
struct Masker<'s> {
    src: &'s str,
    out: Option<String>,
    masks: Masks,
}

impl<'s> Masker<'s> {
    fn new(src: &'s str) -> Self {
        Self {
            src,
            out: None,
            masks: Masks::new(),
        }
    }

    /// Replaces `region` by `replacement` (as long) and keeps its value.
    fn put(&mut self, region: std::ops::Range<usize>, replacement: &str, value: String) {
        debug_assert_eq!(replacement.len(), region.len());
        let src = self.src;
        self.out
            .get_or_insert_with(|| src.to_owned())
            .replace_range(region.clone(), replacement);
        self.masks.insert(
            region.start,
            Masked {
                end: region.end,
                value,
            },
        );
    }

    fn finish(self) -> Option<(String, Masks)> {
        self.out.map(|text| (text, self.masks))
    }
}

/// tree-sitter-hcl makes one token, with its scanner state, of every
/// character of a string or heredoc: about 200 bytes of tree per byte of
/// text, so a 50 MB string took 10 GB. `mask` replaces each string (without
/// interpolations) and heredoc of at least `min` bytes by an equally long
/// text that parses to one small token — `""` or an empty heredoc — and a
/// block comment over the rest, and returns the masked text with what was
/// masked, by start offset. Lowering inside [`with_masks`] reads the
/// literal's value back.
pub(crate) fn mask(src: &str, min: usize) -> Option<(String, Masks)> {
    if src.len() < min {
        return None; // no literal that long fits: no scan
    }
    let mut masker = Masker::new(src);
    for region in crate::lex::non_code(src) {
        let text = &src[region.clone()];
        if text.len() < min {
            continue;
        }
        let (keep, value) =
            if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                if inner.contains("${") || inner.contains("%{") || inner.contains('\n') {
                    continue;
                }
                ("\"\"".to_owned(), hcl::unescape(inner))
            } else if text.starts_with("<<") {
                if text.contains("${") || text.contains("%{") {
                    continue;
                }
                let Some((opening, value)) = heredoc_opening(text) else {
                    continue;
                };
                (opening, value)
            } else {
                continue;
            };
        let fill = text.len() - keep.len();
        if fill < 4 {
            continue;
        }
        masker.put(
            region,
            &format!("{keep}/*{}*/", " ".repeat(fill - 4)),
            value,
        );
    }
    masker.finish()
}

/// [`mask`] for JSON: a string value (not a key) of at least `min` bytes
/// without template sequences becomes `""` and blanks (tree-sitter-json
/// too makes a token of every character of a string).
pub(crate) fn mask_json(src: &str, min: usize) -> Option<(String, Masks)> {
    if src.len() < min {
        return None;
    }
    let bytes = src.as_bytes();
    let mut masker = Masker::new(src);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        if i >= bytes.len() {
            break; // an open string: nothing more to mask
        }
        i += 1;
        let region = start..i;
        if region.len() < min {
            continue;
        }
        let is_key = src[i..].trim_start().starts_with(':');
        let Ok(value) = serde_json::from_str::<String>(&src[region.clone()]) else {
            continue;
        };
        if is_key || value.contains("${") || value.contains("%{") {
            continue;
        }
        let blanks = " ".repeat(region.len() - 2);
        masker.put(region, &format!("\"\"{blanks}"), value);
    }
    masker.finish()
}

/// A heredoc's opening line and its marker on the next line (an empty
/// heredoc), and the heredoc's value, when the heredoc is closed; `None`
/// otherwise.
fn heredoc_opening(text: &str) -> Option<(String, String)> {
    let first_line_end = text.find('\n')?;
    let (marker, flush) = crate::lex::heredoc_marker(text)?;
    let last_line = &text[text.rfind('\n')? + 1..];
    if last_line.trim() != marker || first_line_end + 1 >= text.len() - last_line.len() {
        return None;
    }
    let content = first_line_end + 1..text.len() - last_line.len();
    let value = hcl::heredoc_literal(text, content.start, content.end, flush);
    Some((format!("{}\n{marker}\n", &text[..first_line_end]), value))
}

/// Runs `f` (lowering a tree of a masked text) with `masks` known.
pub(crate) fn with_masks<R>(masks: Masks, f: impl FnOnce() -> R) -> R {
    MASKS.with(|m| *m.borrow_mut() = masks);
    let result = f();
    // Dropped, not cleared: a cleared map keeps its table.
    MASKS.with(|m| drop(std::mem::take(&mut *m.borrow_mut())));
    result
}

/// The literal masked at `start`, inside [`with_masks`].
pub(crate) fn masked_at(start: usize) -> Option<Masked> {
    MASKS.with(|m| {
        let m = m.borrow();
        if m.is_empty() {
            None
        } else {
            m.get(&start).cloned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hir::{ExprKind, TemplatePart};

    #[test]
    fn long_literals_are_masked_to_one_token_and_read_back() {
        let long = "a\\\"b\\u00e9".repeat(20);
        let src = format!(
            "resource \"r\" \"x\" {{\n  s = \"{long}\"\n  h = <<-EOT\n    {long}\n    EOT\n  i = \"${{var.x}}{long}\"\n  short = \"a\"\n}}\n"
        );
        let (masked, masks) = mask(&src, 64).expect("something to mask");
        assert_eq!(masked.len(), src.len());
        assert_eq!(masks.len(), 2, "{masks:?}");
        assert!(masked.contains("s = \"\"/*"), "{masked}");
        assert!(masked.contains("h = <<-EOT\nEOT\n/*"), "{masked}");
        assert!(masked.contains("${var.x}"), "interpolated: kept");
        let tree = crate::syntax::parse(&masked, None);
        assert!(!tree.root_node().has_error(), "{masked}");
        let block = with_masks(masks, || {
            crate::terraform::file_blocks(&masked, &tree).pop().unwrap()
        });
        let attr = |name: &str| {
            block
                .body
                .attributes
                .iter()
                .find(|a| a.name == name)
                .unwrap()
                .value
                .clone()
                .unwrap()
        };
        let s = attr("s");
        assert_eq!(&src[s.span.clone()], format!("\"{long}\""));
        let expected = "a\"bé".repeat(20);
        assert_eq!(
            s.kind,
            ExprKind::Template(smallvec::smallvec![TemplatePart::Literal(
                expected.clone().into()
            )])
        );
        let h = attr("h");
        let expected = format!("{}\n", "a\\\"b\\u00e9".repeat(20));
        assert_eq!(
            h.kind,
            ExprKind::Template(smallvec::smallvec![TemplatePart::Literal(
                expected.clone().into()
            )]),
            "a heredoc keeps its escapes and loses the common indentation"
        );
        assert!(src[h.span.clone()].ends_with("EOT"));
        assert_ne!(attr("i").kind, ExprKind::Invalid);
    }

    #[test]
    fn long_json_strings_are_masked_but_not_keys_or_templates() {
        let long = "a\\\"b\\u00e9".repeat(20);
        let src =
            format!("{{\"{long}\": 1, \"v\": \"{long}\", \"t\": \"${{x}}{long}\", \"s\": \"a\"}}");
        let (masked, masks) = mask_json(&src, 64).expect("something to mask");
        assert_eq!(masked.len(), src.len());
        assert_eq!(masks.len(), 1, "{masks:?}");
        let (start, m) = masks.iter().next().unwrap();
        assert_eq!(&src[*start..m.end], format!("\"{long}\""));
        assert_eq!(m.value, "a\"bé".repeat(20));
        assert!(masked.contains("\"v\": \"\"  "), "{masked}");
        let tree = crate::json::parse(&masked);
        assert!(!tree.root_node().has_error(), "{masked}");
    }

    #[test]
    fn open_literals_are_not_masked() {
        let long = "x".repeat(100);
        for src in [
            format!("a = <<EOT\n{long}\n"),
            format!("a = \"{long}\nb = 1\n"),
            format!("a = \"{long}\" # short\n"),
        ] {
            let masked = mask(&src, 64);
            if let Some((text, masks)) = &masked {
                // Only the closed string of the last case.
                assert_eq!(masks.len(), 1, "{src:?}");
                assert!(text.starts_with("a = \"\"/*"), "{text}");
            }
            assert_eq!(masked.is_some(), src.contains("\" #"), "{src:?}");
        }
    }
}
