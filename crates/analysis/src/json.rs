//! Terraform's JSON syntax (`*.tf.json`, `*.tfvars.json`), parsed with
//! tree-sitter-json so every key and value keeps its byte range.
//!
//! Here are the tree helpers; what the values mean is in [`crate::lower::json`].

use std::cell::RefCell;

use tree_sitter::{Language, Node, Parser, Tree};

pub fn language() -> Language {
    tree_sitter_json::LANGUAGE.into()
}

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new(crate::syntax::parser_for(&language()));
}

/// Replaces this thread's parser with a new one (see
/// [`crate::syntax::release_parsers`]).
pub(crate) fn release_parser() {
    PARSER.with(|parser| crate::syntax::renew(parser, &language()));
}

pub fn parse(text: &str) -> Tree {
    PARSER.with(|p| {
        p.borrow_mut()
            .parse(text, None)
            .expect("parser has a language and no cancellation")
    })
}

/// The top-level object of a JSON document, if that is what it holds.
pub(crate) fn root_object(tree: &Tree) -> Option<Node<'_>> {
    let root = tree.root_node();
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .find(|n| n.kind() == "object")
}

/// A `"key": value` member of an object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member<'t> {
    pub pair: Node<'t>,
    pub key: Node<'t>,
    pub value: Node<'t>,
}

/// The members of `object`, with their decoded keys, in order.
pub(crate) fn members<'t>(object: Node<'t>, src: &str) -> Vec<(String, Member<'t>)> {
    if object.kind() != "object" {
        return Vec::new();
    }
    let mut cursor = object.walk();
    object
        .named_children(&mut cursor)
        .filter(|n| n.kind() == "pair")
        .filter_map(|pair| {
            let key = pair.child_by_field_name("key")?;
            let value = pair.child_by_field_name("value")?;
            Some((string_value(key, src)?, Member { pair, key, value }))
        })
        .collect()
}

/// The value of member `name` of `object` (the last one if repeated).
pub(crate) fn member<'t>(object: Node<'t>, name: &str, src: &str) -> Option<Member<'t>> {
    members(object, src)
        .into_iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, m)| m)
}

/// A JSON string literal decoded (escapes resolved); `None` if not a string.
pub(crate) fn string_value(node: Node<'_>, src: &str) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    serde_json::from_str(src.get(node.byte_range())?).ok()
}

/// Where a block may be written as an object or an array of objects, the
/// objects.
pub(crate) fn objects<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    match node.kind() {
        "object" => vec![node],
        "array" => {
            let mut cursor = node.walk();
            node.named_children(&mut cursor)
                .filter(|n| n.kind() == "object")
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_positions_and_decode_keys() {
        let src = r#"{"resource": {"aws_sagemaker_model": {"m\u0031": {}}}}"#;
        let tree = parse(src);
        let root = root_object(&tree).unwrap();
        let resource = member(root, "resource", src).unwrap();
        let types = members(resource.value, src);
        assert_eq!(types[0].0, "aws_sagemaker_model");
        let names = members(types[0].1.value, src);
        assert_eq!(names[0].0, "m1");
        assert_eq!(&src[names[0].1.key.byte_range()], "\"m\\u0031\"");
    }
}
