//! A certain evaluator for Terraform expressions.
//!
//! One evaluator answers every question a rule asks of a value (`count`,
//! `for_each`, `subnets`, a `dynamic` block's `for_each`): it folds what is
//! known (literals, operators, templates, `for` expressions, splats, the
//! built-in functions of [`functions`], variables and locals through a
//! [`Scope`]) and leaves the rest [`Value::Unknown`]. Its contract is the one
//! the control needs: a value it calls known is the value Terraform computes;
//! everything else is unknown, never a guess.
//!
//! Evaluation can also [`Fail`]: the expression is certainly an error in
//! Terraform (an attribute a known object lacks, an index out of range).
//! `try` and `can` need that distinction; everyone else reads a failure as
//! unknown.

pub mod functions;
pub mod types;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use crate::finding::Emptiness;
use crate::hir::{BinaryOp, Expr, ExprKind, ForExpr, Step, TemplatePart, UnaryOp};

/// Bounds recursion through nested expressions and reference chains.
pub(crate) const MAX_DEPTH: usize = 48;

/// What is known of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Not known before apply (or not knowable here).
    Unknown,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// A list, set or tuple: exactly these elements, in this order.
    List(Vec<Value>),
    /// A map or object: exactly these keys.
    Map(BTreeMap<String, Value>),
}

/// Starts and separates the fields of a resource reference: a string no
/// configuration can spell, which evaluation in reference mode (see
/// [`crate::module::ModuleScope::references`]) gives for `TYPE.NAME.id`.
/// Functions pass such strings along as they are; what would read their
/// text (`length`, `upper`, comparing two of them) is unknown.
pub(crate) const REF_MARK: char = '\u{1}';

/// A key of a resource instance object: its other attributes exist but are
/// unknown (reading one is unknown, not an error).
pub(crate) const OPEN: &str = "\u{1}open";

/// Is this a string that holds a resource reference?
pub(crate) fn is_reference_text(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.contains(REF_MARK))
}

/// The evaluation is certainly an error in Terraform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail(pub String);

pub type Result<T> = std::result::Result<T, Fail>;

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(Fail(message.into()))
}

/// The three verdicts the control distinguishes for a list argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Empty(Emptiness),
    NonEmpty,
    Unknown,
}

impl Value {
    /// Is this value, used as a list of ids, certainly empty? A list of only
    /// `""` and `null` is (the AWS API rejects them); a list with any other
    /// element, even one not known statically (`aws_subnet.a.id`), is not.
    pub(crate) fn list_verdict(&self) -> Verdict {
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
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }
    }

    /// Known all the way down.
    pub(crate) fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(items) => items.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// A known empty list, set, map or object.
    pub(crate) fn is_empty_collection(&self) -> bool {
        matches!(self, Value::List(v) if v.is_empty())
            || matches!(self, Value::Map(m) if m.is_empty())
    }

    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// The number this value converts to, as Terraform converts for
    /// arithmetic and `count`.
    pub(crate) fn to_number(&self) -> Result<Option<f64>> {
        match self {
            Value::Unknown => Ok(None),
            v if is_reference_text(v) => Ok(None),
            Value::Number(n) => Ok(Some(*n)),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(n) if !s.trim().is_empty() => Ok(Some(n)),
                _ => fail(format!("cannot convert {s:?} to a number")),
            },
            Value::Null => fail("a null value cannot be used here"),
            _ => fail("a number is required"),
        }
    }

    pub(crate) fn to_bool(&self) -> Result<Option<bool>> {
        match self {
            Value::Unknown => Ok(None),
            v if is_reference_text(v) => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::String(s) if s == "true" => Ok(Some(true)),
            Value::String(s) if s == "false" => Ok(Some(false)),
            Value::Null => fail("a null value cannot be used as a condition"),
            _ => fail("a bool is required"),
        }
    }

    /// The string a primitive converts to (`1` → `"1"`).
    pub(crate) fn to_text(&self) -> Result<Option<String>> {
        match self {
            Value::Unknown => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(format_number(*n))),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Null => fail("a null value cannot be converted to a string"),
            _ => fail("a string is required"),
        }
    }

    /// Terraform's `==`: `None` when unknown.
    pub(crate) fn equals(&self, other: &Value) -> Option<bool> {
        match (self, other) {
            (Value::Unknown, _) | (_, Value::Unknown) => None,
            // The same instance's id is itself; two instances' ids, or an id
            // and a literal, are not known to differ before apply.
            (a, b) if is_reference_text(a) || is_reference_text(b) => (a == b).then_some(true),
            (Value::List(a), Value::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let mut all = true;
                for (x, y) in a.iter().zip(b) {
                    match x.equals(y) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => all = false,
                    }
                }
                all.then_some(true)
            }
            (Value::Map(a), Value::Map(b)) => {
                if a.len() != b.len() || a.keys().ne(b.keys()) {
                    return Some(false);
                }
                let mut all = true;
                for (x, y) in a.values().zip(b.values()) {
                    match x.equals(y) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => all = false,
                    }
                }
                all.then_some(true)
            }
            _ => Some(self == other),
        }
    }
}

/// Numbers as Terraform prints them: integers without a fraction.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A definition a value was resolved through: a variable's default, a
/// tfvars assignment, a local, a module call's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub path: PathBuf,
    /// Byte range of the defining expression in that file.
    pub range: Range<usize>,
    /// What it is, for messages: `the default of variable "subnets"`.
    pub what: String,
    pub kind: OriginKind,
}

/// The kinds of definitions values are resolved through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OriginKind {
    Default,
    Tfvars,
    Local,
    /// A module call's argument: the value depends on the instance.
    Argument,
    /// The `for_each` a dynamic block's iterator takes values from.
    Iterator,
}

/// Resolves the names an expression refers to.
pub trait Scope {
    /// `var.NAME`.
    fn var(&self, _name: &str, _depth: usize) -> Value {
        Value::Unknown
    }

    /// `local.NAME`.
    fn local(&self, _name: &str, _depth: usize) -> Value {
        Value::Unknown
    }

    /// Any other root name: a `dynamic` block's iterator, `each`, `count`,
    /// a resource type. Unknown by default.
    fn root(&self, _name: &str) -> Value {
        Value::Unknown
    }

    /// `TYPE.NAME` when the scope knows resources of `TYPE` (reference
    /// mode): the resource's value, or a failure when it is not declared.
    /// `None`: resources are not resolved here.
    fn resource(&self, _kind: &str, _name: &str) -> Option<Result<Value>> {
        None
    }

    /// Starts recording the definitions that resolutions use.
    fn begin_trace(&self) {}

    /// The definitions used since [`Scope::begin_trace`], outermost first.
    fn take_trace(&self) -> Vec<Origin> {
        Vec::new()
    }
}

/// A scope that resolves nothing: every reference is unknown.
pub(crate) struct NoScope;
impl Scope for NoScope {}

/// A scope that adds named values (a `dynamic` block's iterator) to another.
pub(crate) struct WithRoots<'a> {
    pub inner: &'a dyn Scope,
    pub roots: Vec<(String, Value)>,
}

impl Scope for WithRoots<'_> {
    fn var(&self, name: &str, depth: usize) -> Value {
        self.inner.var(name, depth)
    }
    fn local(&self, name: &str, depth: usize) -> Value {
        self.inner.local(name, depth)
    }
    fn root(&self, name: &str) -> Value {
        match self.roots.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None => self.inner.root(name),
        }
    }
    fn resource(&self, kind: &str, name: &str) -> Option<Result<Value>> {
        if self.roots.iter().any(|(n, _)| n == kind) {
            return None;
        }
        self.inner.resource(kind, name)
    }
    fn begin_trace(&self) {
        self.inner.begin_trace()
    }
    fn take_trace(&self) -> Vec<Origin> {
        self.inner.take_trace()
    }
}

/// Evaluates `expr`; a certain error reads as unknown.
pub(crate) fn eval(expr: &Expr, scope: &dyn Scope, depth: usize) -> Value {
    try_eval(expr, scope, depth).unwrap_or(Value::Unknown)
}

/// Evaluates `expr`, telling a certain error apart from an unknown value.
pub(crate) fn try_eval(expr: &Expr, scope: &dyn Scope, depth: usize) -> Result<Value> {
    Evaluator {
        scope,
        bindings: Vec::new(),
    }
    .eval(expr, depth)
}

/// The state of one evaluation: the scope, and the names `for` expressions
/// bind.
pub(crate) struct Evaluator<'s> {
    scope: &'s dyn Scope,
    bindings: Vec<(String, Value)>,
}

impl Evaluator<'_> {
    pub(crate) fn eval(&mut self, expr: &Expr, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Ok(Value::Unknown);
        }
        let depth = depth + 1;
        match &expr.kind {
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Number(n) => Ok(Value::Number(*n)),
            ExprKind::Template(parts) => self.template(parts, depth),
            ExprKind::Tuple(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item, depth)?);
                }
                Ok(Value::List(out))
            }
            ExprKind::Object(items) => {
                let mut out = BTreeMap::new();
                let mut unknown = false;
                for (key, value) in items {
                    let key = self.eval(key, depth)?;
                    let value = self.eval(value, depth)?;
                    match key.to_text()? {
                        Some(k) => {
                            out.insert(k, value);
                        }
                        None => unknown = true,
                    }
                }
                Ok(if unknown {
                    Value::Unknown
                } else {
                    Value::Map(out)
                })
            }
            ExprKind::Variable(name) => Ok(self.lookup(name)),
            ExprKind::GetAttr(base, name) => {
                if let ExprKind::Variable(root) = &base.kind
                    && !self.is_bound(root)
                {
                    match root.as_str() {
                        "var" => return Ok(self.scope.var(name, depth)),
                        "local" => return Ok(self.scope.local(name, depth)),
                        _ => {
                            // `TYPE.NAME`: one resource, not every resource
                            // of the type.
                            if let Some(value) = self.scope.resource(root, name) {
                                return value;
                            }
                        }
                    }
                }
                let value = self.eval(base, depth)?;
                get_attr(&value, name)
            }
            ExprKind::Index(base, index) => {
                let value = self.eval(base, depth)?;
                let index = self.eval(index, depth)?;
                get_index(&value, &index)
            }
            ExprKind::Splat(base, steps) => {
                let value = self.eval(base, depth)?;
                let items = match value {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => return Ok(Value::List(Vec::new())),
                    Value::List(items) => items,
                    other => vec![other],
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.steps(item, steps, depth)?);
                }
                Ok(Value::List(out))
            }
            ExprKind::Call(call) => {
                functions::call(self, &call.name, &call.args, call.expand_final, depth)
            }
            ExprKind::Conditional(cond, then, otherwise) => {
                let cond = self.eval(cond, depth)?;
                match cond.to_bool()? {
                    Some(true) => self.eval(then, depth),
                    Some(false) => self.eval(otherwise, depth),
                    None => {
                        // Either outcome: known only if both agree, or both
                        // are certainly empty (the control's question).
                        let (Ok(a), Ok(b)) = (self.eval(then, depth), self.eval(otherwise, depth))
                        else {
                            return Ok(Value::Unknown);
                        };
                        let both_empty = matches!(a.list_verdict(), Verdict::Empty(_))
                            && matches!(b.list_verdict(), Verdict::Empty(_));
                        Ok(if a.equals(&b) == Some(true) || both_empty {
                            a
                        } else {
                            Value::Unknown
                        })
                    }
                }
            }
            ExprKind::Unary(op, operand) => {
                let value = self.eval(operand, depth)?;
                match op {
                    UnaryOp::Not => {
                        Ok(value.to_bool()?.map_or(Value::Unknown, |b| Value::Bool(!b)))
                    }
                    UnaryOp::Negate => Ok(value
                        .to_number()?
                        .map_or(Value::Unknown, |n| Value::Number(-n))),
                }
            }
            ExprKind::Binary(op, left, right) => {
                let a = self.eval(left, depth)?;
                let b = self.eval(right, depth)?;
                binary(*op, &a, &b)
            }
            ExprKind::For(for_expr) => self.for_expr(for_expr, depth),
            ExprKind::Parens(inner) => self.eval(inner, depth),
            ExprKind::Invalid => Ok(Value::Unknown),
        }
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bindings.iter().any(|(n, _)| n == name)
    }

    fn lookup(&self, name: &str) -> Value {
        match self.bindings.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None => self.scope.root(name),
        }
    }

    fn steps(&mut self, mut value: Value, steps: &[Step], depth: usize) -> Result<Value> {
        for step in steps {
            value = match step {
                Step::Attr(name) => get_attr(&value, name)?,
                Step::Index(index) => {
                    let index = self.eval(index, depth)?;
                    get_index(&value, &index)?
                }
            };
        }
        Ok(value)
    }

    fn template(&mut self, parts: &[TemplatePart], depth: usize) -> Result<Value> {
        match parts {
            [] => return Ok(Value::string("")),
            // `"${x}"` is `x` itself, whatever its type.
            [TemplatePart::Interpolation(e)] => return self.eval(e, depth),
            _ => {}
        }
        let mut out = String::new();
        let mut unknown = false;
        for part in parts {
            match part {
                TemplatePart::Literal(s) => out.push_str(s),
                TemplatePart::Directive => unknown = true,
                TemplatePart::Interpolation(e) => {
                    let value = self.eval(e, depth)?;
                    match value {
                        Value::Null => return fail("a template cannot include a null value"),
                        Value::List(_) | Value::Map(_) => {
                            return fail("a template cannot include a collection");
                        }
                        other => match other.to_text()? {
                            Some(s) => out.push_str(&s),
                            None => unknown = true,
                        },
                    }
                }
            }
        }
        Ok(if unknown {
            Value::Unknown
        } else {
            Value::String(out)
        })
    }

    fn for_expr(&mut self, f: &ForExpr, depth: usize) -> Result<Value> {
        let collection = self.eval(&f.collection, depth)?;
        let pairs: Vec<(Value, Value)> = match collection {
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => return fail("a for expression cannot iterate over null"),
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
            Value::Map(items) => items
                .into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect(),
            _ => return fail("a for expression needs a collection"),
        };
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        for (key, value) in pairs {
            let mark = self.bindings.len();
            if let Some(k) = &f.key_var {
                self.bindings.push((k.to_string(), key));
            }
            self.bindings.push((f.value_var.to_string(), value));
            let result = self.for_item(f, depth);
            self.bindings.truncate(mark);
            match result? {
                ForItem::Skip => {}
                ForItem::Unknown => unknown = true,
                ForItem::Value(v) => list.push(v),
                ForItem::Entry(k, v) => {
                    if f.group {
                        groups.entry(k).or_default().push(v);
                    } else if map.insert(k.clone(), v).is_some() {
                        return fail(format!("duplicate key {k:?} in a for expression"));
                    }
                }
            }
        }
        if unknown {
            return Ok(Value::Unknown);
        }
        Ok(match (&f.key, f.group) {
            (None, _) => Value::List(list),
            (Some(_), false) => Value::Map(map),
            (Some(_), true) => Value::Map(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::List(v)))
                    .collect(),
            ),
        })
    }

    fn for_item(&mut self, f: &ForExpr, depth: usize) -> Result<ForItem> {
        if let Some(cond) = &f.condition {
            match self.eval(cond, depth)?.to_bool()? {
                Some(false) => return Ok(ForItem::Skip),
                None => return Ok(ForItem::Unknown),
                Some(true) => {}
            }
        }
        let value = self.eval(&f.value, depth)?;
        match &f.key {
            None => Ok(ForItem::Value(value)),
            Some(key) => match self.eval(key, depth)?.to_text()? {
                Some(k) => Ok(ForItem::Entry(k, value)),
                None => Ok(ForItem::Unknown),
            },
        }
    }
}

enum ForItem {
    Skip,
    Unknown,
    Value(Value),
    Entry(String, Value),
}

/// `value.name`.
pub(crate) fn get_attr(value: &Value, name: &str) -> Result<Value> {
    match value {
        Value::Unknown => Ok(Value::Unknown),
        Value::Map(items) => match items.get(name) {
            Some(v) => Ok(v.clone()),
            None if items.contains_key(OPEN) => Ok(Value::Unknown),
            None => fail(format!("this object has no attribute {name:?}")),
        },
        Value::Null => fail(format!("cannot read {name:?} of a null value")),
        Value::List(_) => fail(format!("a list has no attribute {name:?} (use [*])")),
        _ => fail(format!("a primitive value has no attribute {name:?}")),
    }
}

/// `value[index]`.
pub(crate) fn get_index(value: &Value, index: &Value) -> Result<Value> {
    match (value, index) {
        (Value::Unknown, _) => Ok(Value::Unknown),
        (Value::Null, _) => fail("cannot index a null value"),
        (Value::List(items), index) => match index.to_number()? {
            None => Ok(Value::Unknown),
            Some(n) if n.fract() == 0.0 && n >= 0.0 && (n as usize) < items.len() => {
                Ok(items[n as usize].clone())
            }
            Some(n) => fail(format!("index {n} is out of range")),
        },
        (Value::Map(items), index) => match index.to_text()? {
            None => Ok(Value::Unknown),
            Some(k) => match items.get(&k) {
                Some(v) => Ok(v.clone()),
                None => fail(format!("no element with key {k:?}")),
            },
        },
        _ => fail("this value cannot be indexed"),
    }
}

fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    use BinaryOp::*;
    match op {
        Equal | NotEqual => {
            let eq = a.equals(b);
            Ok(eq.map_or(Value::Unknown, |eq| Value::Bool(eq == (op == Equal))))
        }
        And | Or => match (a.to_bool()?, b.to_bool()?) {
            (Some(x), Some(y)) => Ok(Value::Bool(if op == And { x && y } else { x || y })),
            _ => Ok(Value::Unknown),
        },
        _ => {
            let (Some(x), Some(y)) = (a.to_number()?, b.to_number()?) else {
                return Ok(Value::Unknown);
            };
            Ok(match op {
                Multiply => Value::Number(x * y),
                Divide => Value::Number(x / y),
                Modulo => Value::Number(x % y),
                Add => Value::Number(x + y),
                Subtract => Value::Number(x - y),
                Less => Value::Bool(x < y),
                LessEqual => Value::Bool(x <= y),
                Greater => Value::Bool(x > y),
                GreaterEqual => Value::Bool(x >= y),
                Equal | NotEqual | And | Or => unreachable!("handled above"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::hcl::parse_expression;

    pub(crate) fn value_of(text: &str) -> Value {
        eval(&parse_expression(text), &NoScope, 0)
    }

    fn verdict_of(text: &str) -> Verdict {
        value_of(text).list_verdict()
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::string(*s)).collect())
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
        assert_eq!(
            verdict_of("[\"\", null]"),
            Verdict::Empty(Emptiness::BlankElements)
        );
        assert_eq!(verdict_of("[\"\", var.x]"), Verdict::NonEmpty);
    }

    #[test]
    fn what_is_not_known_stays_unknown() {
        for text in [
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
            "provider::aws::arn_parse(\"x\")",
            "no_such_function([])",
            "\"%{if true}a%{endif}\"",
        ] {
            assert_eq!(verdict_of(text), Verdict::Unknown, "{text}");
        }
    }

    #[test]
    fn certainly_empty_values_terraform_computes() {
        // Each checked against `terraform console` (1.11).
        for text in [
            "try([], [\"a\"])",
            "coalesce([], [\"sg\"])",
            "flatten([[]])",
            "flatten([[], [[]]])",
            "distinct([])",
            "compact([\"\"])",
            "compact(split(\",\", \"\"))",
            "[for s in [] : s]",
            "[for s in [\"a\"] : s if false]",
            "[][*].id",
            "null[*].id",
            "\"${[]}\"",
            "tolist([])",
            "concat([], [])",
            "var.on ? [] : []",
            "true ? [] : [\"a\"]",
            "keys({})",
            "merge({}, {a = []}).a",
            "lookup({}, \"a\", [])",
            "{a = {b = []}}.a.b",
            "{a = [[]]}[\"a\"][0]",
            "slice([\"a\"], 0, 0)",
        ] {
            assert!(
                matches!(verdict_of(text), Verdict::Empty(_)),
                "{text}: {:?}",
                value_of(text)
            );
        }
        for text in ["[\"${\"\"}\"]", "[<<EOT\nEOT\n]", "[trimspace(\" \")]"] {
            assert_eq!(
                verdict_of(text),
                Verdict::Empty(Emptiness::BlankElements),
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_and_counts() {
        for (text, n) in [
            ("length([])", 0.0),
            ("1 - 1", 0.0),
            ("\"0\" + 0", 0.0),
            ("tonumber(\"0\")", 0.0),
            ("length([for s in [] : s])", 0.0),
            ("2 * 3 + 1", 7.0),
            ("-1 + 1", 0.0),
            ("max(0, 1)", 1.0),
            ("length(\"abc\")", 3.0),
        ] {
            assert_eq!(value_of(text), Value::Number(n), "{text}");
        }
        assert_eq!(value_of("\"${length([])}\""), Value::Number(0.0));
        assert_eq!(value_of("\"n${length([])}\""), Value::string("n0"));
    }

    #[test]
    fn operators_and_conditions() {
        assert_eq!(value_of("1 == \"1\""), Value::Bool(false));
        assert_eq!(value_of("null == null"), Value::Bool(true));
        assert_eq!(value_of("!true || false"), Value::Bool(false));
        assert_eq!(value_of("var.x == 1"), Value::Unknown);
        assert_eq!(value_of("1 < 2 ? \"a\" : \"b\""), Value::string("a"));
    }

    #[test]
    fn try_and_can() {
        assert_eq!(value_of("try({}.missing, [])"), Value::List(vec![]));
        assert_eq!(value_of("try(var.x.y, [])"), Value::Unknown);
        assert_eq!(value_of("can({}.missing)"), Value::Bool(false));
        assert_eq!(value_of("can([])"), Value::Bool(true));
        assert_eq!(value_of("try(null, 1)"), Value::Null);
        assert_eq!(
            value_of("try(coalescelist([], []), [\"a\"])"),
            value_of("[\"a\"]")
        );
    }

    #[test]
    fn for_expressions_and_objects() {
        assert_eq!(
            value_of("{for k, v in {a = 1, b = 2} : v => k}"),
            Value::Map(BTreeMap::from([
                ("1".into(), Value::string("a")),
                ("2".into(), Value::string("b"))
            ]))
        );
        assert_eq!(
            value_of("[for i, v in [\"x\", \"y\"] : \"${i}${v}\"]"),
            list(&["0x", "1y"])
        );
        assert_eq!(
            value_of("{for v in [\"a\", \"a\"] : v => 1...}"),
            Value::Map(BTreeMap::from([(
                "a".into(),
                Value::List(vec![Value::Number(1.0), Value::Number(1.0)])
            )]))
        );
        assert_eq!(value_of("[{a = \"x\"}][*].a"), list(&["x"]));
        assert_eq!(value_of("{a = 1}.b"), Value::Unknown);
    }
}
