//! Terraform's JSON syntax (`*.tf.json`, `*.tfvars.json`) → [`crate::hir`].
//!
//! JSON carries no schema, so which object members are nested blocks is
//! decided by name ([`NESTED_BLOCKS`]); everything else is an attribute.
//! Strings are templates in expression positions (`"${var.x}"` is `var.x`)
//! and literal in variable defaults and tfvars. An interpolation inside a
//! string gets the string's span, or exact spans when the string has no
//! escapes (its text is then the same as the source).

use tree_sitter::{Node, Tree};

use crate::hir::{Attribute, Block, Body, Expr, ExprKind, Label, Span, TemplatePart};
use crate::json::{self, Member};
use crate::lower::hcl;
use crate::syntax;

/// Members that are nested blocks in the resource types the rules read.
pub(crate) const NESTED_BLOCKS: &[&str] = &[
    "vpc_config",
    "primary_container",
    "container",
    "production_variants",
    "shadow_production_variants",
    "ingress",
    "egress",
    "route",
    "lifecycle",
    "content",
    "subnet_mapping",
];

/// How a JSON string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A template (expression positions).
    Template,
    /// Literal text (variable defaults, tfvars).
    Literal,
}

/// The top-level blocks of a `.tf.json` document.
pub(crate) fn file_blocks(src: &str, tree: &Tree) -> Vec<Block> {
    let mut out = Vec::new();
    let root = json::root_object(tree);
    // A document Terraform rejects (no root object, a section it does not
    // know, `"resources"` for `"resource"`) may hold a model it hides.
    let mut rejected = root.is_none();
    for (section, member) in root.map(|r| json::members(r, src)).unwrap_or_default() {
        rejected |= section != "//" && !crate::terraform::known_top_level(&section);
        for object in json::objects(member.value) {
            match section.as_str() {
                "resource" | "data" => {
                    for (kind, names) in json::members(object, src) {
                        for names_object in json::objects(names.value) {
                            for (name, body) in json::members(names_object, src) {
                                for body_object in json::objects(body.value) {
                                    out.push(labelled(
                                        &section,
                                        vec![
                                            Label {
                                                value: kind.clone().into(),
                                                span: names.key.byte_range(),
                                            },
                                            Label {
                                                value: name.clone().into(),
                                                span: body.key.byte_range(),
                                            },
                                        ],
                                        body,
                                        body_object,
                                        src,
                                    ));
                                }
                            }
                        }
                    }
                }
                "variable" | "module" | "output" | "provider" => {
                    for (name, body) in json::members(object, src) {
                        for body_object in json::objects(body.value) {
                            let mut block = labelled(
                                &section,
                                vec![Label {
                                    value: name.clone().into(),
                                    span: body.key.byte_range(),
                                }],
                                body,
                                body_object,
                                src,
                            );
                            if section == "variable" {
                                variable_fixups(&mut block, body_object, src);
                            }
                            out.push(block);
                        }
                    }
                }
                "locals" => {
                    out.push(Block {
                        kind: section.clone().into(),
                        kind_span: member.key.byte_range(),
                        labels: Vec::new(),
                        body: body(object, src, Mode::Template, false),
                        span: object.byte_range(),
                        closed: !object.has_error(),
                        clean: !object.has_error(),
                        braces: None,
                        json: true,
                        comments: Default::default(),
                    });
                }
                _ => {}
            }
        }
    }
    if rejected || tree.root_node().has_error() {
        let lost = unreadable_resources(src, &out);
        out.extend(lost);
    }
    out.sort_by_key(|b| b.span.start);
    out.iter_mut().for_each(Block::shrink);
    out.shrink_to_fit();
    out
}

/// The resources of a document with syntax errors or that Terraform
/// rejects that no block read holds: each key `"TYPE": {"NAME": …` (or `[{"NAME": …`) of a type some
/// rule checks, found by its text, whose type key no block read has as
/// its label, becomes a block of the header alone, unfinished, so that its
/// verdict is "not checked" rather than nothing.
fn unreadable_resources(src: &str, found: &[Block]) -> Vec<Block> {
    let mut out = Vec::new();
    // The type keys read: where each block's first label is.
    let mut known: std::collections::HashSet<Span> = found
        .iter()
        .filter_map(|b| b.labels.first().map(|l| l.span.clone()))
        .collect();
    for &kind in crate::rules::checked_types() {
        let quoted = format!("\"{kind}\"");
        for (at, _) in src.match_indices(&quoted) {
            let type_key = at..at + quoted.len();
            if src[..at].ends_with('\\') || !known.insert(type_key.clone()) {
                continue;
            }
            let Some((name, name_key)) = first_key_of_object(src, type_key.end) else {
                continue;
            };
            out.push(Block {
                kind: "resource".into(),
                // As a block read whole: its header is the name's key.
                kind_span: name_key.clone(),
                labels: vec![
                    Label {
                        value: kind.into(),
                        span: type_key.clone(),
                    },
                    Label {
                        value: name.into(),
                        span: name_key.clone(),
                    },
                ],
                body: Default::default(),
                span: name_key.clone(),
                closed: false,
                clean: false,
                braces: None,
                json: true,
                comments: Default::default(),
            });
        }
    }
    out
}

/// After a key ending at `from`: `: {"NAME"` or `: [{"NAME"` — the name
/// (decoded) and the span of its key.
fn first_key_of_object(src: &str, from: usize) -> Option<(String, Span)> {
    let rest = src
        .get(from..)?
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let rest = rest.strip_prefix('[').map_or(rest, str::trim_start);
    let rest = rest.strip_prefix('{')?.trim_start();
    let start = src.len() - rest.len();
    if !rest.starts_with('"') {
        return None;
    }
    let mut strings = serde_json::Deserializer::from_str(rest).into_iter::<String>();
    let name = strings.next()?.ok()?;
    Some((name, start..start + strings.byte_offset()))
}

/// A block with labels: its header points at the last label's key.
fn labelled(
    kind: &str,
    labels: Vec<Label>,
    member: Member<'_>,
    object: Node<'_>,
    src: &str,
) -> Block {
    Block {
        kind: kind.to_owned().into(),
        kind_span: member.key.byte_range(),
        labels,
        body: body(
            object,
            src,
            Mode::Template,
            kind == "resource" || kind == "data",
        ),
        span: member.pair.byte_range(),
        closed: !object.has_error(),
        clean: !object.has_error(),
        braces: None,
        json: true,
        comments: json::member(object, "//", src)
            .and_then(|m| {
                Some((
                    m.value.byte_range(),
                    json::string_value(m.value, src)?.into(),
                ))
            })
            .into_iter()
            .collect(),
    }
}

/// In JSON, a variable's `default` is a literal and its `type` is an
/// expression written as a string.
fn variable_fixups(block: &mut Block, object: Node<'_>, src: &str) {
    for attr in &mut block.body.attributes {
        let Some(member) = json::member(object, &attr.name, src) else {
            continue;
        };
        match attr.name.as_str() {
            "default" => attr.value = Some(value(member.value, src, Mode::Literal)),
            "type" => {
                if let Some(text) = json::string_value(member.value, src) {
                    let mut e = hcl::parse_expression(&text);
                    respan(&mut e, member.value.byte_range());
                    attr.value = Some(e);
                }
            }
            _ => {}
        }
    }
}

/// The members of a JSON object as a body: nested blocks by name, the rest
/// attributes. `blocks` says whether [`NESTED_BLOCKS`] apply here.
fn body(object: Node<'_>, src: &str, mode: Mode, blocks: bool) -> Body {
    let mut out = Body::default();
    let Some(_nest) = super::Nest::enter() else {
        return out;
    };
    for (key, member) in json::members(object, src) {
        if key == "//" {
            continue;
        }
        if blocks && key == "dynamic" {
            for dynamics in json::objects(member.value) {
                for (label, inner) in json::members(dynamics, src) {
                    let objects = json::objects(inner.value);
                    let in_array = inner.value.kind() == "array";
                    for dynamic in objects {
                        let mut b = body(dynamic, src, mode, true);
                        // `content` is always a block in a dynamic block.
                        if let Some(content) = json::member(dynamic, "content", src) {
                            b.attributes.retain(|a| a.name != "content");
                            b.blocks.retain(|b| b.kind != "content");
                            for c in json::objects(content.value) {
                                b.blocks
                                    .push(nested("content", content, c, false, src, mode));
                            }
                        }
                        out.blocks.push(Block {
                            kind: "dynamic".to_owned().into(),
                            kind_span: if in_array {
                                dynamic.byte_range()
                            } else {
                                inner.key.byte_range()
                            },
                            labels: vec![Label {
                                value: label.clone().into(),
                                span: inner.key.byte_range(),
                            }],
                            body: b,
                            span: dynamic.byte_range(),
                            closed: !dynamic.has_error(),
                            clean: !dynamic.has_error(),
                            braces: None,
                            json: true,
                            comments: Default::default(),
                        });
                    }
                }
            }
            continue;
        }
        if blocks && NESTED_BLOCKS.contains(&key.as_str()) {
            let in_array = member.value.kind() == "array";
            for object in json::objects(member.value) {
                out.blocks
                    .push(nested(&key, member, object, in_array, src, mode));
            }
            continue;
        }
        out.attributes.push(Attribute {
            name: key.into(),
            name_span: member.key.byte_range(),
            span: member.pair.byte_range(),
            value: Some(value(member.value, src, mode)),
        });
    }
    out
}

fn nested(
    kind: &str,
    member: Member<'_>,
    object: Node<'_>,
    in_array: bool,
    src: &str,
    mode: Mode,
) -> Block {
    Block {
        kind: kind.to_owned().into(),
        // In an array, each object is its own block: point at it.
        kind_span: if in_array {
            object.byte_range()
        } else {
            member.key.byte_range()
        },
        labels: Vec::new(),
        body: body(object, src, mode, true),
        span: object.byte_range(),
        closed: !object.has_error(),
        clean: !object.has_error(),
        braces: None,
        json: true,
        comments: Default::default(),
    }
}

/// The top-level assignments of a `.tfvars.json` document.
pub fn tfvars(src: &str, tree: &Tree) -> Vec<Attribute> {
    let Some(root) = json::root_object(tree) else {
        return Vec::new();
    };
    json::members(root, src)
        .into_iter()
        .map(|(name, member)| Attribute {
            name: name.into(),
            name_span: member.key.byte_range(),
            span: member.pair.byte_range(),
            value: Some(value(member.value, src, Mode::Literal)),
        })
        .collect()
}

/// A JSON value as an expression.
fn value(node: Node<'_>, src: &str, mode: Mode) -> Expr {
    let span = node.byte_range();
    let Some(_nest) = super::Nest::enter() else {
        return Expr::invalid(span);
    };
    if node.has_error() || node.is_missing() {
        return Expr::invalid(span);
    }
    if node.kind() == "string"
        && let Some(masked) = super::masked_at(span.start)
    {
        // A long string masked before parsing (see `super::mask_json`).
        let mut expr = string(&masked.value, node, src, mode);
        expr.span = span.start..masked.end;
        return expr;
    }
    let kind = match node.kind() {
        "null" => ExprKind::Null,
        "true" => ExprKind::Bool(true),
        "false" => ExprKind::Bool(false),
        "number" => match syntax::text(node, src).parse::<f64>() {
            Ok(n) => ExprKind::Number(n),
            Err(_) => ExprKind::Invalid,
        },
        "string" => match json::string_value(node, src) {
            Some(s) => return string(&s, node, src, mode),
            None => ExprKind::Invalid,
        },
        "array" => {
            let mut cursor = node.walk();
            ExprKind::Tuple(
                node.named_children(&mut cursor)
                    .filter(|n| n.kind() != "comment")
                    .map(|n| value(n, src, mode))
                    .collect(),
            )
        }
        "object" => ExprKind::Object(
            json::members(node, src)
                .into_iter()
                .map(|(k, m)| {
                    (
                        Expr {
                            span: m.key.byte_range(),
                            kind: ExprKind::Template(smallvec::smallvec![TemplatePart::Literal(
                                k.into()
                            )]),
                        },
                        value(m.value, src, mode),
                    )
                })
                .collect(),
        ),
        _ => ExprKind::Invalid,
    };
    Expr { span, kind }
}

/// A JSON string: literal text, or a template whose interpolations are HCL
/// expressions.
fn string(s: &str, node: Node<'_>, src: &str, mode: Mode) -> Expr {
    let span = node.byte_range();
    if mode == Mode::Literal || !(s.contains("${") || s.contains("%{")) {
        let kind = if s.is_empty() {
            ExprKind::Template(Default::default())
        } else {
            ExprKind::Template(smallvec::smallvec![TemplatePart::Literal(
                s.to_owned().into()
            )])
        };
        return Expr { span, kind };
    }
    // Parse the template as the body of an HCL heredoc, whose escapes are
    // the template escapes only (JSON already decoded the rest).
    let marker = (0..)
        .map(|i| format!("EOT{i}"))
        .find(|m| !s.contains(m.as_str()))
        .unwrap_or_else(|| "EOT".to_owned());
    let prefix = format!("x = <<{marker}\n");
    let text = format!("{prefix}{s}\n{marker}\n");
    let tree = syntax::parse(&text, None);
    let attr = hcl::tfvars(&text, &tree).into_iter().next();
    let Some(mut e) = attr.and_then(|a| a.value) else {
        return Expr::invalid(span);
    };
    // The heredoc adds a final newline the string does not have.
    if let ExprKind::Template(parts) = &mut e.kind {
        if let Some(TemplatePart::Literal(last)) = parts.last_mut() {
            let mut text = last.to_string();
            text.pop();
            *last = text.into();
            if last.is_empty() {
                parts.pop();
            }
        }
    }
    let raw = &src[span.start + 1..span.end.saturating_sub(1).max(span.start + 1)];
    if raw == s {
        // No escapes: source offsets are the string's offsets.
        e.shift(span.start as isize + 1 - prefix.len() as isize);
        e.span = span;
    } else {
        respan(&mut e, span);
    }
    e
}

/// Gives every node of `e` the span `span` (offsets inside a string with
/// escapes do not map to the source).
fn respan(e: &mut Expr, span: Span) {
    e.visit_mut(&mut |x| x.span = span.clone());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hir::ExprKind as K;

    fn blocks(src: &str) -> Vec<Block> {
        let tree = json::parse(src);
        file_blocks(src, &tree)
    }

    /// A model recovery lost, or in valid JSON that Terraform rejects (a
    /// section it does not know, no root object), is a header left
    /// unfinished.
    #[test]
    fn a_model_recovery_lost_is_a_header_left_unfinished() {
        for src in [
            "{\"resource\": {\"aws_sagemaker_model\": {\"m\": {\"name\": \"x\"\n",
            "{\"resource\": {\"aws_sagemaker_model\": [{\"m\": {\"name\": \"x\"}}]",
            "{\"resource\": {\"aws_sagemaker_model\": {\"m\": {\"name\": [}}}}",
            "{\"resources\": {\"aws_sagemaker_model\": {\"m\": {\"name\": \"x\"}}}}",
            "[{\"resource\": {\"aws_sagemaker_model\": {\"m\": {\"name\": \"x\"}}}}]",
            "{\"resource\": {\"aws_sagemaker_model\": {\"n\": {}}}, \"x\": {\"aws_sagemaker_model\": {\"m\": {}}}}",
        ] {
            let models: Vec<Block> = blocks(src)
                .into_iter()
                .filter(|b| b.resource_address() == Some(("aws_sagemaker_model", "m")))
                .collect();
            assert_eq!(models.len(), 1, "{src}");
            assert!(!models[0].closed, "{src}");
            assert_eq!(&src[models[0].header()], "\"m\"", "{src}");
        }
        // In a string, or in a document without errors: nothing is made up.
        let quoted =
            "{\"variable\": {\"d\": {\"default\": \"\\\"aws_sagemaker_model\\\": {\\\"z\\\"\" ,}}}";
        assert!(
            blocks(quoted).iter().all(|b| b.kind != "resource"),
            "{quoted}"
        );
        // `//` (a comment) is a section Terraform accepts.
        for clean in [
            "{\"resource\": {\"aws_sagemaker_model\": {\"m\": {}, \"n\": {}}}}",
            "{\"//\": \"aws_sagemaker_model\", \"resource\": {\"aws_sagemaker_model\": {\"m\": {}, \"n\": {}}}}",
        ] {
            let found = blocks(clean);
            assert_eq!(found.len(), 2, "{clean}");
            assert!(found.iter().all(|b| b.closed), "{clean}");
        }
    }

    #[test]
    fn resources_variables_and_locals() {
        let src = r#"{
  "resource": {"aws_sagemaker_model": {"m": {
    "name": "x",
    "vpc_config": [{"subnets": []}, {"subnets": "${var.s}"}],
    "dynamic": {"vpc_config": {"for_each": "${[]}", "content": {"subnets": []}}}
  }}},
  "variable": {"s": {"type": "list(string)", "default": ["${x}"]}},
  "locals": {"l": "${var.s}"}
}"#;
        let b = blocks(src);
        let model = &b[0];
        assert_eq!(model.resource_address(), Some(("aws_sagemaker_model", "m")));
        assert_eq!(&src[model.header()], "\"m\"");
        let vpcs: Vec<&Block> = model.body.blocks_of("vpc_config").collect();
        assert_eq!(vpcs.len(), 2);
        assert!(src[vpcs[1].kind_span.clone()].starts_with("{\"subnets\": \"${"));
        let sub = vpcs[1]
            .body
            .attribute("subnets")
            .unwrap()
            .value
            .as_ref()
            .unwrap();
        assert_eq!(sub.as_var(), None);
        match &sub.kind {
            K::Template(parts) => match &parts[0] {
                TemplatePart::Interpolation(e) => {
                    assert_eq!(e.as_var(), Some("s"));
                    assert_eq!(&src[e.span.clone()], "var.s");
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        let dynamic = model.body.blocks_of("dynamic").next().unwrap();
        assert_eq!(dynamic.label(0), Some("vpc_config"));
        assert_eq!(dynamic.body.blocks_of("content").count(), 1);
        let var = &b[1];
        assert_eq!(var.kind, "variable");
        let default = var
            .body
            .attribute("default")
            .unwrap()
            .value
            .as_ref()
            .unwrap();
        // Literal: no interpolation in a JSON default.
        match &default.kind {
            K::Tuple(items) => assert_eq!(items[0].as_literal_string(), Some("${x}")),
            other => panic!("{other:?}"),
        }
        let ty = var.body.attribute("type").unwrap().value.as_ref().unwrap();
        assert!(matches!(ty.kind, K::Call(ref call) if call.name == "list"));
        assert_eq!(b[2].kind, "locals");
    }
}
