//! Terraform's built-in functions that matter for the values rules read
//! (collections, conversions, strings and numbers). A function not listed
//! here, or a provider function, is unknown — never an error.

use std::collections::BTreeMap;

use super::{Evaluator, Result, Value, fail, format_number};
use crate::hir::Expr;

pub(crate) fn call(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[Expr],
    expand_final: bool,
    depth: usize,
) -> Result<Value> {
    // `try` and `can` look at each argument's own outcome.
    match name {
        "try" => {
            let mut last = None;
            for arg in args {
                match ev.eval(arg, depth) {
                    Ok(v) if v.is_wholly_known() => return Ok(v),
                    // An unknown value might still fail once known.
                    Ok(_) => return Ok(Value::Unknown),
                    Err(e) => last = Some(e),
                }
            }
            return Err(last.unwrap_or_else(|| super::Fail("try needs arguments".into())));
        }
        "can" => {
            let [arg] = args else {
                return fail("can takes one argument");
            };
            return Ok(match ev.eval(arg, depth) {
                Ok(v) if v.is_wholly_known() => Value::Bool(true),
                Ok(_) => Value::Unknown,
                Err(_) => Value::Bool(false),
            });
        }
        _ => {}
    }
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        values.push(ev.eval(arg, depth)?);
    }
    if expand_final {
        match values.pop() {
            Some(Value::List(items)) => values.extend(items),
            Some(Value::Unknown) => return Ok(Value::Unknown),
            Some(_) => return fail("only a list can be expanded with ..."),
            None => return fail("nothing to expand"),
        }
    }
    apply(name, values)
}

/// Unknown if any argument is wholly unknown.
macro_rules! known {
    ($($v:expr),*) => {
        $( if matches!($v, Value::Unknown) { return Ok(Value::Unknown); } )*
    };
}

fn list_arg(v: &Value, what: &str) -> Result<Option<Vec<Value>>> {
    match v {
        Value::Unknown => Ok(None),
        Value::List(items) => Ok(Some(items.clone())),
        Value::Null => fail(format!("{what}: argument must not be null")),
        _ => fail(format!("{what}: a list is required")),
    }
}

fn text_arg(v: &Value) -> Result<Option<String>> {
    v.to_text()
}

fn number_arg(v: &Value) -> Result<Option<f64>> {
    v.to_number()
}

/// Removes known duplicates; `None` when unknown elements make the result's
/// length uncertain.
fn dedup(items: Vec<Value>) -> Option<Vec<Value>> {
    if items.len() > 1 && items.iter().any(|v| !v.is_wholly_known()) {
        return None;
    }
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.iter().any(|o| o.equals(&item) == Some(true)) {
            out.push(item);
        }
    }
    Some(out)
}

fn apply(name: &str, args: Vec<Value>) -> Result<Value> {
    // A resource reference's text is not its id: what reads the text of one
    // is unknown (lists of them are passed along as they are).
    let reads_text = match name {
        "length" | "lower" | "upper" | "trimspace" => args.iter().any(super::is_reference_text),
        "sort" => args.iter().any(|a| match a {
            Value::List(items) => items.iter().any(super::is_reference_text),
            _ => false,
        }),
        _ => false,
    };
    if reads_text {
        return Ok(Value::Unknown);
    }
    let arity = |n: usize| -> Result<()> {
        if args.len() == n {
            Ok(())
        } else {
            fail(format!("{name} takes {n} argument(s)"))
        }
    };
    match name {
        "length" => {
            arity(1)?;
            Ok(match &args[0] {
                Value::Unknown => Value::Unknown,
                Value::List(items) => Value::Number(items.len() as f64),
                Value::Map(items) => Value::Number(items.len() as f64),
                Value::String(s) => Value::Number(s.chars().count() as f64),
                Value::Null => return fail("length: argument must not be null"),
                _ => return fail("length: a collection or string is required"),
            })
        }
        "concat" => {
            if args.is_empty() {
                return fail("concat: at least one argument is required");
            }
            let mut out = Vec::new();
            let mut unknown = false;
            for arg in &args {
                match list_arg(arg, name)? {
                    Some(items) => out.extend(items),
                    None => unknown = true,
                }
            }
            Ok(if unknown {
                Value::Unknown
            } else {
                Value::List(out)
            })
        }
        "tolist" => {
            arity(1)?;
            Ok(match &args[0] {
                Value::Null => Value::Null,
                Value::Unknown => Value::Unknown,
                Value::List(items) => Value::List(items.clone()),
                _ => return fail("tolist: a list, set or tuple is required"),
            })
        }
        "toset" => {
            arity(1)?;
            Ok(match &args[0] {
                Value::Null => Value::Null,
                Value::Unknown => Value::Unknown,
                Value::List(items) => dedup(items.clone()).map_or(Value::Unknown, Value::List),
                _ => return fail("toset: a list, set or tuple is required"),
            })
        }
        "distinct" => {
            arity(1)?;
            match list_arg(&args[0], name)? {
                Some(items) => Ok(dedup(items).map_or(Value::Unknown, Value::List)),
                None => Ok(Value::Unknown),
            }
        }
        "tomap" => {
            arity(1)?;
            Ok(match &args[0] {
                Value::Map(_) | Value::Null | Value::Unknown => args[0].clone(),
                _ => return fail("tomap: a map or object is required"),
            })
        }
        "tostring" => {
            arity(1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                v => Ok(text_arg(v)?.map_or(Value::Unknown, Value::String)),
            }
        }
        "tonumber" => {
            arity(1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                v => Ok(number_arg(v)?.map_or(Value::Unknown, Value::Number)),
            }
        }
        "tobool" => {
            arity(1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                v => Ok(v.to_bool()?.map_or(Value::Unknown, Value::Bool)),
            }
        }
        "compact" => {
            arity(1)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::Null => {}
                    Value::Unknown => return Ok(Value::Unknown),
                    other => match text_arg(&other)? {
                        Some(s) if s.is_empty() => {}
                        Some(s) => out.push(Value::String(s)),
                        None => return Ok(Value::Unknown),
                    },
                }
            }
            Ok(Value::List(out))
        }
        "coalesce" => {
            for arg in &args {
                match arg {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    other => return Ok(other.clone()),
                }
            }
            fail("coalesce: no non-null, non-empty-string arguments")
        }
        "coalescelist" => {
            for arg in &args {
                match list_arg(arg, name)? {
                    None => return Ok(Value::Unknown),
                    Some(items) if !items.is_empty() => return Ok(Value::List(items)),
                    Some(_) => {}
                }
            }
            // Checked with `terraform console`: all empty is an error.
            fail("coalescelist: no non-null arguments")
        }
        "flatten" => {
            arity(1)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            fn flat(items: Vec<Value>, out: &mut Vec<Value>) -> bool {
                for item in items {
                    match item {
                        Value::List(inner) => {
                            if !flat(inner, out) {
                                return false;
                            }
                        }
                        // An unknown element might be a list to splice.
                        Value::Unknown => return false,
                        other => out.push(other),
                    }
                }
                true
            }
            let mut out = Vec::new();
            Ok(if flat(items, &mut out) {
                Value::List(out)
            } else {
                Value::Unknown
            })
        }
        "element" => {
            arity(2)?;
            known!(&args[0], &args[1]);
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            let Some(i) = number_arg(&args[1])? else {
                return Ok(Value::Unknown);
            };
            if items.is_empty() {
                return fail("element: cannot use element with an empty list");
            }
            Ok(items[(i.max(0.0) as usize) % items.len()].clone())
        }
        "slice" => {
            arity(3)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            let (Some(a), Some(b)) = (number_arg(&args[1])?, number_arg(&args[2])?) else {
                return Ok(Value::Unknown);
            };
            let (a, b) = (a as usize, b as usize);
            if a > b || b > items.len() {
                return fail("slice: index out of range");
            }
            Ok(Value::List(items[a..b].to_vec()))
        }
        "reverse" => {
            arity(1)?;
            Ok(
                list_arg(&args[0], name)?.map_or(Value::Unknown, |mut items| {
                    items.reverse();
                    Value::List(items)
                }),
            )
        }
        "sort" => {
            arity(1)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            let mut texts = Vec::new();
            for item in &items {
                match text_arg(item)? {
                    Some(s) => texts.push(s),
                    None => return Ok(Value::Unknown),
                }
            }
            texts.sort();
            Ok(Value::List(texts.into_iter().map(Value::String).collect()))
        }
        "keys" | "values" => {
            arity(1)?;
            Ok(match &args[0] {
                Value::Unknown => Value::Unknown,
                Value::Map(items) if name == "keys" => {
                    Value::List(items.keys().cloned().map(Value::String).collect())
                }
                Value::Map(items) => Value::List(items.values().cloned().collect()),
                _ => return fail(format!("{name}: a map or object is required")),
            })
        }
        "lookup" => {
            if !(2..=3).contains(&args.len()) {
                return fail("lookup takes two or three arguments");
            }
            known!(&args[0], &args[1]);
            let Value::Map(items) = &args[0] else {
                return fail("lookup: a map or object is required");
            };
            let Some(key) = text_arg(&args[1])? else {
                return Ok(Value::Unknown);
            };
            match (items.get(&key), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => fail(format!("lookup: no key {key:?}")),
            }
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for arg in &args {
                match arg {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => {}
                    Value::Map(items) => out.extend(items.clone()),
                    _ => return fail("merge: maps or objects are required"),
                }
            }
            Ok(Value::Map(out))
        }
        "zipmap" => {
            arity(2)?;
            let (Some(keys), Some(values)) = (list_arg(&args[0], name)?, list_arg(&args[1], name)?)
            else {
                return Ok(Value::Unknown);
            };
            if keys.len() != values.len() {
                return fail("zipmap: lists of different lengths");
            }
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(values) {
                match text_arg(k)? {
                    Some(k) => {
                        out.insert(k, v);
                    }
                    None => return Ok(Value::Unknown),
                }
            }
            Ok(Value::Map(out))
        }
        "one" => {
            arity(1)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            match items.len() {
                0 => Ok(Value::Null),
                1 => Ok(items[0].clone()),
                _ => fail("one: more than one element"),
            }
        }
        "contains" => {
            arity(2)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            let mut unknown = false;
            for item in &items {
                match item.equals(&args[1]) {
                    Some(true) => return Ok(Value::Bool(true)),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            Ok(if unknown {
                Value::Unknown
            } else {
                Value::Bool(false)
            })
        }
        "setunion" => {
            let mut all = Vec::new();
            for arg in &args {
                match list_arg(arg, name)? {
                    Some(items) => all.extend(items),
                    None => return Ok(Value::Unknown),
                }
            }
            Ok(dedup(all).map_or(Value::Unknown, Value::List))
        }
        "join" => {
            if args.len() < 2 {
                return fail("join takes a separator and lists");
            }
            let Some(sep) = text_arg(&args[0])? else {
                return Ok(Value::Unknown);
            };
            let mut parts = Vec::new();
            for arg in &args[1..] {
                let Some(items) = list_arg(arg, name)? else {
                    return Ok(Value::Unknown);
                };
                for item in items {
                    match text_arg(&item)? {
                        Some(s) => parts.push(s),
                        None => return Ok(Value::Unknown),
                    }
                }
            }
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            arity(2)?;
            let (Some(sep), Some(s)) = (text_arg(&args[0])?, text_arg(&args[1])?) else {
                return Ok(Value::Unknown);
            };
            if sep.is_empty() {
                return Ok(Value::Unknown);
            }
            Ok(Value::List(
                s.split(sep.as_str()).map(Value::string).collect(),
            ))
        }
        "lower" | "upper" | "trimspace" => {
            arity(1)?;
            Ok(match text_arg(&args[0])? {
                None => Value::Unknown,
                Some(s) => Value::String(match name {
                    "lower" => s.to_lowercase(),
                    "upper" => s.to_uppercase(),
                    _ => s.trim().to_owned(),
                }),
            })
        }
        "format" => {
            let Some((fmt, rest)) = args.split_first() else {
                return fail("format needs a format string");
            };
            let Some(fmt) = text_arg(fmt)? else {
                return Ok(Value::Unknown);
            };
            format(&fmt, rest)
        }
        "range" => {
            let mut nums = Vec::new();
            for arg in &args {
                match number_arg(arg)? {
                    Some(n) => nums.push(n),
                    None => return Ok(Value::Unknown),
                }
            }
            let (start, end, step) = match nums.as_slice() {
                [end] => (0.0, *end, 1.0),
                [start, end] => (*start, *end, if start <= end { 1.0 } else { -1.0 }),
                [start, end, step] => (*start, *end, *step),
                _ => return fail("range takes one to three arguments"),
            };
            if step == 0.0 {
                return fail("range: step must not be zero");
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 1024 {
                    return Ok(Value::Unknown);
                }
            }
            Ok(Value::List(out))
        }
        "min" | "max" | "sum" => {
            let items = if name == "sum" {
                arity(1)?;
                match list_arg(&args[0], name)? {
                    Some(items) => items,
                    None => return Ok(Value::Unknown),
                }
            } else {
                args.clone()
            };
            if items.is_empty() {
                return fail(format!("{name}: at least one number is required"));
            }
            let mut nums = Vec::new();
            for item in &items {
                match number_arg(item)? {
                    Some(n) => nums.push(n),
                    None => return Ok(Value::Unknown),
                }
            }
            Ok(Value::Number(match name {
                "min" => nums.iter().copied().fold(f64::INFINITY, f64::min),
                "max" => nums.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => nums.iter().sum(),
            }))
        }
        "abs" | "ceil" | "floor" => {
            arity(1)?;
            Ok(match number_arg(&args[0])? {
                None => Value::Unknown,
                Some(n) => Value::Number(match name {
                    "abs" => n.abs(),
                    "ceil" => n.ceil(),
                    _ => n.floor(),
                }),
            })
        }
        "alltrue" | "anytrue" => {
            arity(1)?;
            let Some(items) = list_arg(&args[0], name)? else {
                return Ok(Value::Unknown);
            };
            let mut unknown = false;
            let all = name == "alltrue";
            for item in &items {
                match item.to_bool()? {
                    Some(b) if b != all => return Ok(Value::Bool(!all)),
                    Some(_) => {}
                    None => unknown = true,
                }
            }
            Ok(if unknown {
                Value::Unknown
            } else {
                Value::Bool(all)
            })
        }
        "sensitive" | "nonsensitive" => {
            arity(1)?;
            Ok(args[0].clone())
        }
        _ => Ok(Value::Unknown),
    }
}

/// `format` with the verbs `%s`, `%d`, `%v` and `%%`; other verbs are unknown.
fn format(fmt: &str, args: &[Value]) -> Result<Value> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s' | 'v') => match args.next().map(Value::to_text).transpose()? {
                Some(Some(s)) => out.push_str(&s),
                Some(None) => return Ok(Value::Unknown),
                None => return fail("format: too few arguments"),
            },
            Some('d') => match args.next().map(Value::to_number).transpose()? {
                Some(Some(n)) => out.push_str(&format_number(n.trunc())),
                Some(None) => return Ok(Value::Unknown),
                None => return fail("format: too few arguments"),
            },
            _ => return Ok(Value::Unknown),
        }
    }
    Ok(Value::String(out))
}
