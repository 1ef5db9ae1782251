//! Type constraints of input variables (`type = list(string)`), and the
//! conversion Terraform applies to a variable's value before anything reads
//! it: `set(string)` removes duplicates, `object({…})` drops attributes it
//! does not declare and fills `optional` ones, `string` turns `1` into
//! `"1"`. A constraint this module cannot read makes the value unknown.

use std::collections::BTreeMap;

use super::{NoScope, Result, Value, eval, fail};
use crate::hir::{Expr, ExprKind};

#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(Vec<ObjectAttr>),
    /// Not understood: conversions give unknown values.
    Opaque,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectAttr {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
}

impl Type {
    /// Reads a type constraint expression.
    pub fn parse(expr: &Expr) -> Type {
        match &expr.kind {
            ExprKind::Variable(name) => match name.as_str() {
                "string" => Type::String,
                "number" => Type::Number,
                "bool" => Type::Bool,
                "any" => Type::Any,
                _ => Type::Opaque,
            },
            // Terraform 0.11's quoted types.
            ExprKind::Template(_) => match expr.as_literal_string() {
                Some("string") => Type::String,
                Some("list") => Type::List(Box::new(Type::Any)),
                Some("map") => Type::Map(Box::new(Type::Any)),
                _ => Type::Opaque,
            },
            ExprKind::Call(call) => match (call.name.as_str(), call.args.as_slice()) {
                ("list", [t]) => Type::List(Box::new(Type::parse(t))),
                ("set", [t]) => Type::Set(Box::new(Type::parse(t))),
                ("map", [t]) => Type::Map(Box::new(Type::parse(t))),
                ("tuple", [t]) => match &t.kind {
                    ExprKind::Tuple(items) => Type::Tuple(items.iter().map(Type::parse).collect()),
                    _ => Type::Opaque,
                },
                ("object", [t]) => match &t.kind {
                    ExprKind::Object(items) => {
                        let mut attrs = Vec::new();
                        for (key, value) in items {
                            let Some(name) = key.as_literal_string() else {
                                return Type::Opaque;
                            };
                            let (ty, optional, default) = match &value.kind {
                                ExprKind::Call(call) if call.name == "optional" => {
                                    match call.args.as_slice() {
                                        [t] => (Type::parse(t), true, None),
                                        [t, d] => {
                                            (Type::parse(t), true, Some(eval(d, &NoScope, 0)))
                                        }
                                        _ => return Type::Opaque,
                                    }
                                }
                                _ => (Type::parse(value), false, None),
                            };
                            attrs.push(ObjectAttr {
                                name: name.to_owned(),
                                ty,
                                optional,
                                default,
                            });
                        }
                        Type::Object(attrs)
                    }
                    _ => Type::Opaque,
                },
                _ => Type::Opaque,
            },
            _ => Type::Opaque,
        }
    }

    /// Can a value of this type be a list of ids (`subnets`)?
    pub(crate) fn can_be_id_list(&self) -> bool {
        match self {
            Type::Any => true,
            Type::List(t) | Type::Set(t) => matches!(**t, Type::Any | Type::String),
            Type::Tuple(items) => items.iter().all(|t| matches!(t, Type::Any | Type::String)),
            _ => false,
        }
    }

    /// Converts `value` to this type as Terraform does for input variables.
    pub fn convert(&self, value: Value) -> Result<Value> {
        if matches!(value, Value::Unknown) {
            return Ok(Value::Unknown);
        }
        if matches!(value, Value::Null) {
            return Ok(Value::Null);
        }
        match self {
            Type::Any => Ok(value),
            Type::Opaque => Ok(Value::Unknown),
            Type::String => match value {
                Value::List(_) | Value::Map(_) => fail("a string is required"),
                v => Ok(v.to_text()?.map_or(Value::Unknown, Value::String)),
            },
            Type::Number => Ok(value.to_number()?.map_or(Value::Unknown, Value::Number)),
            Type::Bool => Ok(value.to_bool()?.map_or(Value::Unknown, Value::Bool)),
            Type::List(t) | Type::Set(t) => {
                let Value::List(items) = value else {
                    return fail("a list is required");
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(t.convert(item)?);
                }
                if matches!(self, Type::Set(_)) {
                    if out.len() > 1 && out.iter().any(|v| !v.is_wholly_known()) {
                        return Ok(Value::Unknown);
                    }
                    let mut set: Vec<Value> = Vec::new();
                    for v in out {
                        if !set.iter().any(|s| s.equals(&v) == Some(true)) {
                            set.push(v);
                        }
                    }
                    return Ok(Value::List(set));
                }
                Ok(Value::List(out))
            }
            Type::Map(t) => {
                let Value::Map(items) = value else {
                    return fail("a map is required");
                };
                let mut out = BTreeMap::new();
                for (k, v) in items {
                    out.insert(k, t.convert(v)?);
                }
                Ok(Value::Map(out))
            }
            Type::Tuple(types) => {
                let Value::List(items) = value else {
                    return fail("a tuple is required");
                };
                if items.len() != types.len() {
                    return fail("wrong number of tuple elements");
                }
                let mut out = Vec::new();
                for (t, v) in types.iter().zip(items) {
                    out.push(t.convert(v)?);
                }
                Ok(Value::List(out))
            }
            Type::Object(attrs) => {
                let Value::Map(mut items) = value else {
                    return fail("an object is required");
                };
                let mut out = BTreeMap::new();
                for attr in attrs {
                    let v = match items.remove(&attr.name) {
                        Some(Value::Null) | None if attr.optional => {
                            attr.default.clone().unwrap_or(Value::Null)
                        }
                        Some(v) => v,
                        None => return fail(format!("attribute {:?} is required", attr.name)),
                    };
                    out.insert(attr.name.clone(), attr.ty.convert(v)?);
                }
                Ok(Value::Map(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::hcl::parse_expression;

    fn value_of(text: &str) -> Value {
        eval(&parse_expression(text), &NoScope, 0)
    }

    fn ty(text: &str) -> Type {
        Type::parse(&parse_expression(text))
    }

    #[test]
    fn conversions_as_terraform_applies_them() {
        // Checked with `terraform console` on variables with these types.
        let o = ty(
            "object({ a = list(string), b = optional(list(string), [\"x\"]), c = optional(string) })",
        );
        let converted = o.convert(value_of("{ a = [], d = 1 }")).unwrap();
        assert_eq!(converted, value_of("{ a = [], b = [\"x\"], c = null }"));
        assert_eq!(
            ty("set(string)").convert(value_of("[\"\", \"\"]")).unwrap(),
            value_of("[\"\"]")
        );
        assert_eq!(
            ty("list(string)").convert(value_of("[1]")).unwrap(),
            value_of("[\"1\"]")
        );
        assert!(ty("string").convert(value_of("[]")).is_err());
        assert_eq!(
            ty("foo(bar)").convert(value_of("[]")).unwrap(),
            Value::Unknown
        );
        assert!(ty("list(string)").can_be_id_list());
        assert!(!ty("string").can_be_id_list());
        assert!(!ty("map(string)").can_be_id_list());
    }
}
