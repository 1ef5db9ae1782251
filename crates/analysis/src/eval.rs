//! A small, certain evaluator for HCL expressions.
//!
//! The control needs one question answered about an argument: is its value
//! certainly empty, certainly non-empty, or unknown? The evaluator folds what is
//! literal (lists, strings, `null`, a few list functions, conditionals whose
//! outcomes agree) and leaves everything else [`Value::Unknown`]. References
//! (`var.x`, `local.y`) go through a [`Scope`], so a module index can resolve
//! them without this file knowing where values come from.

use tree_sitter::Node;

use super::finding::Emptiness;
use super::syntax;

/// Bounds recursion through nested expressions and reference chains.
pub const MAX_DEPTH: usize = 32;

/// What is known of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unknown,
    Null,
    Bool(bool),
    Number(String),
    String(String),
    /// A list, set or tuple, element by element.
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// The three verdicts the control distinguishes for a list argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Empty(Emptiness),
    NonEmpty,
    Unknown,
}

impl Value {
    /// Is this value, used as a list of ids, certainly empty? A list of
    /// only `""` and `null` is (the AWS API rejects them); a list with any
    /// other element, even one not known statically (`aws_subnet.a.id`), is
    /// not.
    pub fn list_verdict(&self) -> Verdict {
        match self {
            Value::Null => Verdict::Empty(Emptiness::Null),
            Value::List(items) if items.is_empty() => Verdict::Empty(Emptiness::EmptyList),
            Value::List(items) if items.iter().all(Value::is_blank) => {
                Verdict::Empty(Emptiness::BlankElements)
            }
            Value::List(_) => Verdict::NonEmpty,
            _ => Verdict::Unknown,
        }
    }

    /// `""` or `null`: no id at all.
    pub fn is_blank(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }
    }
}

/// A reference the evaluator cannot resolve by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    Var(&'a str),
    Local(&'a str),
}

/// Resolves references; the default knows nothing.
pub trait Scope {
    fn resolve(&self, _reference: Reference<'_>, _depth: usize) -> Value {
        Value::Unknown
    }

    /// Resolves a local without trusting variables: `var.*` inside it (and
    /// inside locals it uses) is unknown. For `count`/`for_each`, where a
    /// toggle's default must not hide a resource.
    fn resolve_literally(&self, _reference: Reference<'_>, _depth: usize) -> Value {
        Value::Unknown
    }

    /// Starts recording the definitions that resolutions use.
    fn begin_trace(&self) {}

    /// The definitions used since [`Scope::begin_trace`], outermost first.
    fn take_trace(&self) -> Vec<Origin> {
        Vec::new()
    }
}

/// A definition a value was resolved through: a variable's default, a
/// tfvars assignment, a local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: std::path::PathBuf,
    /// Byte range of the defining expression in that file.
    pub range: std::ops::Range<usize>,
    /// What it is, for messages: `the default of variable "subnets"`.
    pub what: String,
}

/// A scope that resolves nothing: every reference is unknown.
pub struct NoScope;
impl Scope for NoScope {}

/// Evaluates an HCL expression node of `src`.
pub fn eval(node: Node<'_>, src: &str, scope: &dyn Scope, depth: usize) -> Value {
    if depth > MAX_DEPTH || node.is_error() || node.is_missing() || node.has_error() {
        return Value::Unknown;
    }
    let depth = depth + 1;
    match node.kind() {
        "expression" => eval_expression(node, src, scope, depth),
        "literal_value" => node
            .named_child(0)
            .map_or(Value::Unknown, |n| eval(n, src, scope, depth)),
        "null_lit" => Value::Null,
        "bool_lit" => Value::Bool(syntax::text(node, src) == "true"),
        "numeric_lit" => Value::Number(syntax::text(node, src).to_owned()),
        "string_lit" => syntax::label_value(node, src).map_or(Value::Unknown, Value::String),
        "collection_value" => node
            .named_child(0)
            .map_or(Value::Unknown, |n| eval(n, src, scope, depth)),
        "tuple" => {
            let mut cursor = node.walk();
            let items = node
                .named_children(&mut cursor)
                .filter(|n| n.kind() == "expression")
                .map(|n| eval(n, src, scope, depth))
                .collect();
            Value::List(items)
        }
        "object" => eval_object(node, src, scope, depth),
        "conditional" => eval_conditional(node, src, scope, depth),
        "function_call" => eval_function(node, src, scope, depth),
        _ => Value::Unknown,
    }
}

/// An `expression` is a primary (possibly parenthesised) followed by postfix
/// operators (`.attr`, `[i]`, splats). Only `var.NAME` and `local.NAME` with no
/// further postfix are resolved; other postfix chains are unknown.
fn eval_expression(node: Node<'_>, src: &str, scope: &dyn Scope, depth: usize) -> Value {
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    match children.as_slice() {
        [single] if single.kind() != "variable_expr" => eval(*single, src, scope, depth),
        [root, attr] if root.kind() == "variable_expr" && attr.kind() == "get_attr" => {
            let Some(name) = attr.named_child(0).map(|n| syntax::text(n, src)) else {
                return Value::Unknown;
            };
            match syntax::text(*root, src) {
                "var" => scope.resolve(Reference::Var(name), depth),
                "local" => scope.resolve(Reference::Local(name), depth),
                _ => Value::Unknown,
            }
        }
        _ => Value::Unknown,
    }
}

fn eval_object(node: Node<'_>, src: &str, scope: &dyn Scope, depth: usize) -> Value {
    let mut cursor = node.walk();
    let mut fields = Vec::new();
    for elem in node.named_children(&mut cursor) {
        if elem.kind() != "object_elem" {
            continue;
        }
        let (Some(key), Some(val)) = (
            elem.child_by_field_name("key"),
            elem.child_by_field_name("val"),
        ) else {
            return Value::Unknown;
        };
        let key = match eval(key, src, scope, depth) {
            Value::String(s) => s,
            // A bare identifier key is the key's own name.
            _ if key.named_child_count() == 1
                && key
                    .named_child(0)
                    .is_some_and(|n| n.kind() == "variable_expr") =>
            {
                syntax::text(key, src).to_owned()
            }
            _ => return Value::Unknown,
        };
        fields.push((key, eval(val, src, scope, depth)));
    }
    Value::Object(fields)
}

/// `cond ? a : b`: the chosen branch when `cond` is known; otherwise a value
/// only when both outcomes are equal or both certainly empty.
fn eval_conditional(node: Node<'_>, src: &str, scope: &dyn Scope, depth: usize) -> Value {
    let mut cursor = node.walk();
    let parts: Vec<Node<'_>> = node
        .named_children(&mut cursor)
        .filter(|n| n.kind() == "expression")
        .collect();
    let [cond, then, otherwise] = parts.as_slice() else {
        return Value::Unknown;
    };
    match eval(*cond, src, scope, depth) {
        Value::Bool(true) => eval(*then, src, scope, depth),
        Value::Bool(false) => eval(*otherwise, src, scope, depth),
        _ => {
            let a = eval(*then, src, scope, depth);
            let b = eval(*otherwise, src, scope, depth);
            if a == b || (is_certainly_empty(&a) && is_certainly_empty(&b)) {
                a
            } else {
                Value::Unknown
            }
        }
    }
}

fn is_certainly_empty(v: &Value) -> bool {
    matches!(v.list_verdict(), Verdict::Empty(_))
}

/// The list functions whose result is certain when their arguments are.
fn eval_function(node: Node<'_>, src: &str, scope: &dyn Scope, depth: usize) -> Value {
    let Some(name) = node.named_child(0).map(|n| syntax::text(n, src)) else {
        return Value::Unknown;
    };
    let mut cursor = node.walk();
    let args: Vec<Value> = node
        .named_children(&mut cursor)
        .find(|n| n.kind() == "function_arguments")
        .map(|args| {
            let mut c = args.walk();
            // An expanded final argument (`f(xs...)`) changes arity: unknown.
            if args.named_children(&mut c).any(|n| n.kind() == "ellipsis") {
                return vec![Value::Unknown];
            }
            args.named_children(&mut c)
                .filter(|n| n.kind() == "expression")
                .map(|n| eval(n, src, scope, depth))
                .collect()
        })
        .unwrap_or_default();
    let lists: Option<Vec<&Vec<Value>>> = args
        .iter()
        .map(|a| match a {
            Value::List(items) => Some(items),
            _ => None,
        })
        .collect();
    match (name, args.as_slice()) {
        ("tolist" | "toset", [Value::List(items)]) => Value::List(items.clone()),
        ("concat", _) => match lists {
            Some(lists) => Value::List(lists.into_iter().flatten().cloned().collect()),
            None => Value::Unknown,
        },
        ("compact", [Value::List(items)]) => {
            if items
                .iter()
                .all(|v| matches!(v, Value::String(_) | Value::Null))
            {
                Value::List(
                    items
                        .iter()
                        .filter(|v| {
                            !matches!(v, Value::Null) && **v != Value::String(String::new())
                        })
                        .cloned()
                        .collect(),
                )
            } else {
                Value::Unknown
            }
        }
        ("coalescelist", _) => match lists {
            Some(lists) => lists
                .into_iter()
                .find(|l| !l.is_empty())
                .map_or(Value::List(Vec::new()), |l| Value::List(l.clone())),
            None => Value::Unknown,
        },
        _ => Value::Unknown,
    }
}

/// Evaluates the HCL expression written in `text` (a local's value kept as
/// text, or an interpolation inside a JSON string).
pub fn eval_text(text: &str, scope: &dyn Scope, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Unknown;
    }
    let src = format!("x = {text}\n");
    let tree = syntax::parse(&src, None);
    let Some(body) = tree
        .root_node()
        .named_child(0)
        .filter(|n| n.kind() == "body")
    else {
        return Value::Unknown;
    };
    let mut items = syntax::body_items(body);
    match (items.next(), items.next()) {
        (Some(attr), None) => match syntax::attribute_parts(attr) {
            Some((_, Some(expr))) if expr.end_byte() + 1 == src.len() => {
                eval(expr, &src, scope, depth)
            }
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{attribute_parts, body_items, parse};

    fn value_of(expr: &str) -> Value {
        let src = format!("x = {expr}\n");
        let tree = parse(&src, None);
        let body = tree.root_node().named_child(0).unwrap();
        let attr = body_items(body).next().unwrap();
        let (_, value) = attribute_parts(attr).unwrap();
        eval(value.unwrap(), &src, &NoScope, 0)
    }

    fn verdict_of(expr: &str) -> Verdict {
        value_of(expr).list_verdict()
    }

    #[test]
    fn literal_lists() {
        assert_eq!(verdict_of("[]"), Verdict::Empty(Emptiness::EmptyList));
        assert_eq!(
            verdict_of("[\n  # none yet\n]"),
            Verdict::Empty(Emptiness::EmptyList)
        );
        assert_eq!(verdict_of("([])"), Verdict::Empty(Emptiness::EmptyList));
        assert_eq!(verdict_of("[\"subnet-1\"]"), Verdict::NonEmpty);
        assert_eq!(verdict_of("[var.a]"), Verdict::NonEmpty);
        assert_eq!(verdict_of("null"), Verdict::Empty(Emptiness::Null));
    }

    #[test]
    fn references_and_non_literals_are_unknown() {
        for expr in [
            "var.subnets",
            "local.subnets",
            "module.net.private_subnets",
            "aws_subnet.a[*].id",
            "aws_subnet.a.*.id",
            "[for s in aws_subnet.a : s.id]",
            "split(\",\", var.x)",
            "var.on ? [] : [\"a\"]",
            "\"${var.x}\"",
            "var.x[0]",
            "concat([], var.x)",
        ] {
            assert_eq!(verdict_of(expr), Verdict::Unknown, "{expr}");
        }
    }

    #[test]
    fn blank_elements_are_empty_but_unknown_elements_are_not() {
        assert_eq!(
            verdict_of("[\"\"]"),
            Verdict::Empty(Emptiness::BlankElements)
        );
        assert_eq!(
            verdict_of("[null]"),
            Verdict::Empty(Emptiness::BlankElements)
        );
        assert_eq!(
            verdict_of("[\"\", null]"),
            Verdict::Empty(Emptiness::BlankElements)
        );
        assert_eq!(verdict_of("[\"\", \"subnet-1\"]"), Verdict::NonEmpty);
        assert_eq!(verdict_of("[\"\", var.x]"), Verdict::NonEmpty);
    }

    #[test]
    fn expression_text_evaluates_alone() {
        assert_eq!(eval_text("[]", &NoScope, 0), Value::List(vec![]));
        assert_eq!(
            eval_text("concat([\"a\"], [])", &NoScope, 0).list_verdict(),
            Verdict::NonEmpty
        );
        assert_eq!(eval_text("[] # trailing", &NoScope, 0), Value::Unknown);
        assert_eq!(eval_text("1\ny = 2", &NoScope, 0), Value::Unknown);
    }

    #[test]
    fn certain_folds() {
        assert_eq!(
            verdict_of("tolist([])"),
            Verdict::Empty(Emptiness::EmptyList)
        );
        assert_eq!(
            verdict_of("concat([], [])"),
            Verdict::Empty(Emptiness::EmptyList)
        );
        assert_eq!(
            verdict_of("var.on ? [] : []"),
            Verdict::Empty(Emptiness::EmptyList)
        );
        assert_eq!(
            verdict_of("true ? [] : [\"a\"]"),
            Verdict::Empty(Emptiness::EmptyList)
        );
        assert_eq!(verdict_of("concat([], [\"a\"])"), Verdict::NonEmpty);
        assert_eq!(
            verdict_of("compact([\"\", null])"),
            Verdict::Empty(Emptiness::EmptyList)
        );
        assert_eq!(verdict_of("coalescelist([], [\"a\"])"), Verdict::NonEmpty);
        assert_eq!(
            value_of("{ a = 1, \"b\" = [] }"),
            Value::Object(vec![
                ("a".into(), Value::Number("1".into())),
                ("b".into(), Value::List(vec![])),
            ])
        );
    }
}
