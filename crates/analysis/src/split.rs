//! A lexical split of an HCL configuration file into its top-level blocks,
//! without a parse: each block's byte range (with the comments and blank
//! lines before it) and its type and first label.
//!
//! tree-sitter-hcl parses about a megabyte per second, and most blocks of a
//! repository (buckets, roles, functions) cannot change a finding. With the
//! split, [`crate::module::FileFacts::extract_needed`] parses only the blocks
//! analysis reads, each on its own. The scan knows strings (with their
//! interpolations), heredocs and comments ([`crate::lex::non_code`]); it
//! gives up — and the caller parses the whole file — on anything it does not
//! expect of a well-formed file: unbalanced braces, a top-level attribute, a
//! stray token after the last block.

use std::ops::Range;

use crate::hir::Name;

/// One top-level block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// From the end of the previous block (so the comments above are in
    /// it) to the end of this block's closing brace.
    pub range: Range<usize>,
    /// The block type (`resource`, `variable`, …). Short names are held
    /// inline: a file of a million blocks has a million items.
    pub kind: Name,
    /// The first label, when it is a plain identifier or a quoted string
    /// without escapes (`None` otherwise: it could be anything).
    pub label: Option<Name>,
    /// The chunk is not one well-formed block, or its header is one
    /// Terraform rejects (the one irregularity [`split`] lets through): its
    /// type and label say nothing, it must be parsed to know what it holds.
    pub irregular: bool,
}

/// The top-level blocks of `src`, or `None` when the text is not a plain
/// sequence of blocks the scan understands.
pub(crate) fn split(src: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    scan(src, Mode::Blocks, &mut |item| items.push(item)).then_some(items)
}

/// [`split`], with each top-level attribute (`name = value`, which
/// Terraform rejects in a configuration file) an item of its own, ending
/// after the newline that ends its value: the analysis cache reads a text
/// of them stretch by stretch. A file of 92,000 of them was parsed whole,
/// and its open document kept the tree: 80 MiB for 1 MB. Where an
/// attribute really ends is the parse's to say (a stretch that does not
/// parse cleanly is not taken).
pub(crate) fn split_with_attributes(src: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    scan(src, Mode::Attributes, &mut |item| items.push(item)).then_some(items)
}

/// The top-level chunks of a text that may be broken: like [`split`] where
/// the text is regular; where it is not (a stray token or attribute at the
/// top level, an unbalanced brace, a block cut off at the end), the chunk
/// holding the irregularity is marked [`Item::irregular`] and the scan goes
/// on, so that a syntax error stays inside the chunk that holds it. The
/// chunks cover the text but for blanks and comments after the last one.
#[cfg(test)]
pub(crate) fn split_lenient(src: &str) -> Vec<Item> {
    let mut items = Vec::new();
    each_lenient(src, |item| items.push(item));
    items
}

/// [`split_lenient`], one chunk at a time, in order, without a list of
/// them all: a file of tiny blocks (`a{}`, four bytes) held some 70 bytes
/// of items a byte.
pub(crate) fn each_lenient(src: &str, mut take: impl FnMut(Item)) {
    scan(src, Mode::Lenient, &mut take);
}

/// [`each_lenient`]; `true` when the text ends at the end of a chunk (or
/// after it, in blanks and comments), not in a chunk cut off by its end.
pub(crate) fn each_lenient_ended(src: &str, mut take: impl FnMut(Item)) -> bool {
    scan(src, Mode::Lenient, &mut take)
}

/// What [`scan`] makes of a text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Top-level blocks and comments ([`split`]).
    Blocks,
    /// Those, and top-level attributes as items of their own
    /// ([`split_with_attributes`]).
    Attributes,
    /// Chunks, past what it does not understand ([`each_lenient`]).
    Lenient,
}

/// Hands the items of `src` to `take` in order; `false` when the text is
/// not a sequence of blocks the scan understands, after handing over those
/// before the trouble (lenient: the rest as one chunk, irregular).
fn scan(src: &str, mode: Mode, take: &mut impl FnMut(Item)) -> bool {
    let lenient = mode == Mode::Lenient;
    let bytes = src.as_bytes();
    let regions = crate::lex::non_code(src);
    let mut next_region = 0;
    let mut chunk_start = 0;
    let mut header: Option<usize> = None;
    let mut irregular = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(region) = regions.get(next_region)
            && region.start == i
        {
            let comment = matches!(bytes[i], b'#' | b'/');
            if depth == 0 && header.is_none() && !comment {
                // A string or heredoc before any block type.
                if !lenient {
                    return false;
                }
                irregular = true;
            }
            next_region += 1;
            i = region.end.max(i + 1);
            continue;
        }
        if depth > 0 {
            // Inside a block only braces count, up to the next string,
            // heredoc or comment: skipped to without a look at each byte
            // (most of a file is inside blocks).
            let limit = regions
                .get(next_region)
                .filter(|r| r.start >= i)
                .map_or(bytes.len(), |r| r.start);
            match bytes[i..limit].iter().position(|&b| b == b'{' || b == b'}') {
                Some(skip) => i += skip,
                None => {
                    i = limit;
                    continue;
                }
            }
        }
        let b = bytes[i];
        if depth == 0 && header.is_none() && !b.is_ascii_whitespace() {
            if b.is_ascii_alphabetic() || b == b'_' {
                header = Some(i);
            } else if !lenient {
                return false;
            } else if b != b'}' {
                irregular = true;
            }
        }
        match b {
            b'{' => {
                // A block header must be on one line: one that is not (a
                // stray word before the block) is the irregularity.
                if lenient && depth == 0 && header.is_some_and(|h| src[h..i].contains('\n')) {
                    irregular = true;
                }
                depth += 1;
            }
            b'}' if depth == 0 => {
                // A closing brace that closes nothing.
                if !lenient {
                    return false;
                }
                irregular = true;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    let header_info = header.and_then(|h| read_header(src, h, i, &regions));
                    let (kind, label) = match header_info {
                        Some((kind, label, rejected)) => {
                            irregular |= rejected;
                            (kind, label)
                        }
                        None if lenient => {
                            irregular = true;
                            (Name::default(), None)
                        }
                        None => return false,
                    };
                    take(Item {
                        range: chunk_start..i + 1,
                        kind,
                        label,
                        irregular,
                    });
                    chunk_start = i + 1;
                    header = None;
                    irregular = false;
                }
            }
            // `name = value` at the top level: not a configuration file.
            b'=' if depth == 0 => {
                if mode == Mode::Attributes
                    && let Some(h) = header
                    && bytes.get(i + 1) != Some(&b'=')
                    && is_name(src[h..i].trim_end())
                {
                    let Some(end) = attribute_end(bytes, i + 1, &regions, &mut next_region) else {
                        return false;
                    };
                    take(Item {
                        range: chunk_start..end,
                        kind: Name::default(),
                        label: None,
                        irregular: true,
                    });
                    chunk_start = end;
                    header = None;
                    i = end;
                    continue;
                }
                if !lenient {
                    return false;
                }
                irregular = true;
            }
            _ => {}
        }
        i += 1;
    }
    if depth == 0 && header.is_none() && !irregular {
        return true;
    }
    if !lenient {
        return false;
    }
    // A block cut off at the end, or stray text after the last block.
    take(Item {
        range: chunk_start..src.len(),
        kind: Name::default(),
        label: None,
        irregular: true,
    });
    false
}

/// A character of a name: a block's type, an attribute's.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Whether `word` is an identifier (an attribute's name).
fn is_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && word.chars().all(name_char)
}

/// Where the value of a top-level attribute that starts at `from` ends:
/// after the first newline outside brackets, strings, heredocs and
/// comments (`regions`, from `next_region` on, which is kept in step), or
/// at the end of the text. `None` when a bracket closes what it did not
/// open, or one is left open.
fn attribute_end(
    bytes: &[u8],
    from: usize,
    regions: &[Range<usize>],
    next_region: &mut usize,
) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = from;
    while j < bytes.len() {
        if let Some(region) = regions.get(*next_region)
            && region.start == j
        {
            *next_region += 1;
            j = region.end.max(j + 1);
            continue;
        }
        match bytes[j] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.checked_sub(1)?,
            b'\n' if depth == 0 => return Some(j + 1),
            _ => {}
        }
        j += 1;
    }
    (depth == 0).then_some(bytes.len())
}

/// The type and first label of the block whose header runs from `start` to
/// its `{` (before `end`), and whether Terraform rejects the header
/// ([`crate::terraform::rejected_header`]; its label is then `None`).
fn read_header(
    src: &str,
    start: usize,
    end: usize,
    regions: &[Range<usize>],
) -> Option<(Name, Option<Name>, bool)> {
    let word = |from: usize| -> usize {
        src[from..end]
            .char_indices()
            .find(|&(_, c)| !name_char(c))
            .map_or(end, |(n, _)| from + n)
    };
    let kind_end = word(start);
    let kind = Name::from(&src[start..kind_end]);
    // Skips blanks and comments to the next label (or the `{`).
    let skip = |mut at: usize| loop {
        let rest = &src[at..end];
        at += rest.len() - rest.trim_start().len();
        match region_at(regions, at) {
            Some(r) if matches!(src.as_bytes()[at], b'#' | b'/') => at = r.end,
            _ => return at,
        }
    };
    // Where the label at `at` ends, if one starts there.
    let label_end = |at: usize| match src.as_bytes().get(at) {
        Some(b'"') => region_at(regions, at).map(|r| r.end),
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => Some(word(at)),
        _ => None,
    };
    let at = skip(kind_end);
    let label = match src.as_bytes().get(at) {
        Some(b'"') => region_at(regions, at)
            .and_then(|r| src.get(r.start + 1..r.end.saturating_sub(1)))
            .filter(|inner| !inner.contains(['\\', '$', '%', '"']))
            .map(Name::from),
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => Some(Name::from(&src[at..word(at)])),
        _ => None,
    };
    // A header Terraform rejects (`a` typed above `resource "TYPE" "NAME"`,
    // `resource resource "TYPE" "NAME"`) may hide a resource's among its
    // labels, or in its body: what it says is not to be trusted.
    // No type takes more than two: a third is enough to tell.
    let (mut labels, mut next) = (0, at);
    while labels < 3
        && let Some(end) = label_end(next)
    {
        labels += 1;
        next = skip(end);
    }
    let rejected = crate::terraform::rejected_header(&kind, labels);
    Some((kind, label.filter(|_| !rejected), rejected))
}

/// The region that starts at `at` (`regions` is sorted by start): a binary
/// search, as a linear one made the split quadratic in the number of blocks.
fn region_at(regions: &[Range<usize>], at: usize) -> Option<&Range<usize>> {
    regions
        .binary_search_by_key(&at, |r| r.start)
        .ok()
        .map(|i| &regions[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(src: &str) -> Option<Vec<(String, Option<String>, String)>> {
        split(src).map(|items| {
            items
                .into_iter()
                .map(|i| {
                    (
                        i.kind.into(),
                        i.label.map(Into::into),
                        src[i.range].to_owned(),
                    )
                })
                .collect()
        })
    }

    #[test]
    fn blocks_with_their_leading_comments() {
        let src = "# top\nresource \"aws_s3_bucket\" \"b\" {\n  x = \"}\"\n  y = <<EOT\n{{\nEOT\n}\n\n/* c { */ variable v {\n  default = \"${ {a = 1} }\"\n}\n# tail\n";
        let got = headers(src).expect("a split");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "resource");
        assert_eq!(got[0].1.as_deref(), Some("aws_s3_bucket"));
        assert!(got[0].2.starts_with("# top\n"));
        assert_eq!(got[1].0, "variable");
        assert_eq!(got[1].1.as_deref(), Some("v"));
        assert!(got[1].2.starts_with("\n\n/* c { */ variable"));
    }

    #[test]
    fn labels_that_could_be_anything_are_unknown() {
        let got = headers(
            "resource \"aws_sagemaker\\u005fmodel\" \"m\" {}\nresource /* x */ \"a\" \"b\" {}\n",
        )
        .expect("a split");
        assert_eq!(got[0].1, None);
        assert_eq!(got[1].1.as_deref(), Some("a"));
    }

    /// A header Terraform rejects (an unknown type, more labels than the
    /// type takes) may hide a model's: its chunk must be parsed.
    #[test]
    fn a_header_terraform_rejects_is_irregular_and_says_nothing() {
        let src = concat!(
            "a\nresource \"aws_sagemaker_model\" \"m\" {}\n",
            "resource resource \"aws_sagemaker_model\" \"n\" {}\n",
            "variable resource \"x\" {}\n",
            "foo {}\n",
            "resource \"aws_s3_bucket\" \"b\" {}\n",
            "variable \"v\" {}\n",
            "locals {}\n",
        );
        let items = split(src).expect("a split");
        let got: Vec<(&str, bool, Option<&str>)> = items
            .iter()
            .map(|i| (i.kind.as_str(), i.irregular, i.label.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", true, None),
                ("resource", true, None),
                ("variable", true, None),
                ("foo", true, None),
                ("resource", false, Some("aws_s3_bucket")),
                ("variable", false, Some("v")),
                ("locals", false, None),
            ]
        );
    }

    /// A top-level attribute is an item of its own for the cache: up to the
    /// newline that ends its value, outside brackets, strings, heredocs and
    /// comments. What cannot be an attribute still gives up.
    #[test]
    fn top_level_attributes_are_items_of_their_own_for_the_cache() {
        let ranges = |src: &str| {
            split_with_attributes(src).map(|items| {
                items
                    .into_iter()
                    .map(|i| src[i.range].to_owned())
                    .collect::<Vec<_>>()
            })
        };
        let src = concat!(
            "a = 1\n",
            "b = [\n  1,\n  { c = \"}\" },\n]\n",
            "d = <<EOT\n]\nEOT\n",
            "e = f(1) # ]\n",
            "resource \"x\" \"y\" {\n  g = 1\n}\n",
            "h = 2",
        );
        assert_eq!(
            ranges(src).expect("a split"),
            [
                "a = 1\n",
                "b = [\n  1,\n  { c = \"}\" },\n]\n",
                "d = <<EOT\n]\nEOT\n",
                "e = f(1) # ]\n",
                "resource \"x\" \"y\" {\n  g = 1\n}",
                "\nh = 2",
            ]
        );
        let items = split_with_attributes(src).unwrap();
        assert!(items[0].irregular && items[0].label.is_none());
        // Without attributes, as before: a text of them is not understood.
        assert_eq!(split(src), None);
        for src in ["a == 1\n", "a = ]\n", "a = [\n", "a b = 1\n", "\"a\" = 1\n"] {
            assert_eq!(ranges(src), None, "{src:?}");
        }
    }

    #[test]
    fn anything_unexpected_gives_up() {
        for src in [
            "resource \"a\" \"b\" {\n",
            "resource \"a\" \"b\" {}\n}\n",
            "a = 1\n",
            "resource \"a\" \"b\" {}\nstray\n",
            "\"a\" {}\n",
            "{}\n",
        ] {
            assert_eq!(split(src), None, "{src:?}");
        }
        assert_eq!(split(""), Some(Vec::new()));
        assert_eq!(split("# only a comment\n"), Some(Vec::new()));
    }

    /// The lenient split keeps going past what [`split`] gives up on: the
    /// chunks cover the text, only those holding the irregularity are
    /// marked, and the blocks after it are found as they are.
    #[test]
    fn the_lenient_split_confines_irregularities_to_their_chunk() {
        let block = "resource \"aws_sagemaker_model\" \"m\" {\n  name = \"}\"\n}\n";
        for junk in [
            "=\n",
            "a = 1\n",
            "}\n",
            "\"a\" ",
            "stray\n",
            "{}\n",
            "/* c */ = 1 # x\n",
        ] {
            let src = format!("{block}{junk}{block}{block}");
            let items = split_lenient(&src);
            let covered: String = items.iter().map(|i| &src[i.range.clone()]).collect();
            assert_eq!(covered, src.trim_end(), "{junk:?}");
            assert!(!items[0].irregular, "{junk:?}: {items:?}");
            let junk_at = block.len()..block.len() + junk.trim_end().len();
            for item in &items {
                let holds_junk = item.range.start < junk_at.end && junk_at.start < item.range.end;
                assert_eq!(item.irregular, holds_junk, "{junk:?}: {items:?}");
            }
            let last = items.last().unwrap();
            assert_eq!(last.kind, "resource");
            assert_eq!(last.label.as_deref(), Some("aws_sagemaker_model"));
        }
        // Cut off at the end: the last chunk runs to the end of the text.
        let src = format!("{block}{block}resource \"x\" \"y\" {{\n  a = 1\n");
        let items = split_lenient(&src);
        assert_eq!(items.len(), 3);
        assert!(items[2].irregular);
        assert_eq!(items[2].range.end, src.len());
        // A regular text splits as `split` does.
        let src = format!("{block}{block}");
        assert_eq!(Some(split_lenient(&src)), split(&src));
    }
}
