//! How a module's `var.*` and `local.*` resolve, instance by instance.
//!
//! A folder that no `module` block calls (by a local `source`, or one
//! `terraform init` installed: [`ModuleIndex::calls`]) is a root module: a variable is its tfvars value, else its default. A folder that is
//! called is judged once per call: a variable is the call's argument
//! (evaluated in the caller's own frame), else its default — tfvars files
//! in a called folder are not read, as Terraform reads them only for the
//! root. [`frames`] lists the instances of a folder.
//!
//! For `count` and `for_each`, [`ModuleScope::literal`] distrusts a root
//! module's variables (a toggle that defaults to off must not hide a
//! resource that is wrong when switched on: `-var` can switch it), while a
//! call's arguments and a called module's defaults are what they are.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ModuleIndex;
use super::file_name;
use super::reads::Reads;
use crate::eval::types::Type;
use crate::eval::{self, Origin, OriginKind, Scope, Value};
use crate::hir::Span;

/// One instance of a module: its declarations, and how it was called.
#[derive(Debug, Clone)]
pub struct Frame {
    pub index: Arc<ModuleIndex>,
    pub call: Option<Call>,
    /// What reference-mode evaluation computed in this frame (it depends on
    /// nothing else: the index and the call chain are fixed for a frame).
    cache: Arc<FrameCache>,
}

/// Values cached per frame, shared by every rule and model checked in it.
#[derive(Debug, Default)]
pub(crate) struct FrameCache {
    /// `TYPE.NAME` in reference mode, by `(TYPE, NAME)`, with the blocks
    /// read to make it: each check that takes it read them too.
    resources: std::sync::Mutex<std::collections::HashMap<(String, String), (Value, Reads)>>,
}

/// A `module` block that instantiates a frame.
#[derive(Debug, Clone)]
pub struct Call {
    /// The caller's frame.
    pub parent: Arc<Frame>,
    /// `module "NAME"`.
    pub name: String,
    /// The caller's file holding the block, and the block's header.
    pub file: PathBuf,
    pub header: Span,
}

impl Frame {
    pub fn root(index: Arc<ModuleIndex>) -> Self {
        Self {
            index,
            call: None,
            cache: Arc::default(),
        }
    }

    /// Changes when anything this instance's values depend on changes.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = super::hash::hasher();
        let mut frame = Some(self);
        while let Some(f) = frame {
            f.index.fingerprint().hash(&mut h);
            match &f.call {
                Some(call) => {
                    call.name.hash(&mut h);
                    frame = Some(&call.parent);
                }
                None => frame = None,
            }
        }
        h.finish()
    }

    /// The folder of the root module whose calls made this instance (its
    /// own folder for a root).
    pub fn root_folder(&self) -> &Path {
        let mut frame = self;
        while let Some(call) = &frame.call {
            frame = &call.parent;
        }
        &frame.index.folder
    }

    /// `module.a.module.b` for messages, or `None` for a root module.
    pub fn call_path(&self) -> Option<String> {
        let mut names = Vec::new();
        let mut frame = self;
        while let Some(call) = &frame.call {
            names.push(format!("module.{}", call.name));
            frame = &call.parent;
        }
        names.reverse();
        (!names.is_empty()).then(|| names.join("."))
    }
}

/// What the project knows about the workspace's modules.
pub trait Modules {
    /// The index of `folder`, if it is known.
    fn index(&self, folder: &Path) -> Option<Arc<ModuleIndex>>;
    /// The folders with a `module` block whose local `source` is `folder`.
    fn callers(&self, folder: &Path) -> Vec<PathBuf>;
}

/// The most instances of one folder that are analyzed.
pub(crate) const MAX_FRAMES: usize = 16;

/// The instances of `folder`: one per call chain from a root module, or the
/// folder itself as a root when nothing calls it. A call that certainly
/// creates no instance (`count = 0`) contributes none.
pub fn frames(modules: &dyn Modules, index: Arc<ModuleIndex>) -> Vec<Arc<Frame>> {
    let mut out = Vec::new();
    let mut disabled = 0;
    frames_into(
        modules,
        Arc::clone(&index),
        &mut Vec::new(),
        &mut out,
        &mut disabled,
    );
    if out.is_empty() && disabled == 0 {
        // The callers could not be read: judge the folder on its own.
        out.push(Arc::new(Frame::root(index)));
    }
    out
}

fn frames_into(
    modules: &dyn Modules,
    index: Arc<ModuleIndex>,
    visiting: &mut Vec<PathBuf>,
    out: &mut Vec<Arc<Frame>>,
    disabled: &mut usize,
) {
    let folder = index.folder.clone();
    let callers: Vec<PathBuf> = modules
        .callers(&folder)
        .into_iter()
        .filter(|c| !visiting.contains(c) && *c != folder)
        .collect();
    if callers.is_empty() {
        out.push(Arc::new(Frame::root(index)));
        return;
    }
    visiting.push(folder.clone());
    for caller in callers {
        let Some(caller_index) = modules.index(&caller) else {
            continue;
        };
        let mut parents = Vec::new();
        frames_into(
            modules,
            Arc::clone(&caller_index),
            visiting,
            &mut parents,
            disabled,
        );
        for parent in parents {
            for call in caller_index.calls() {
                if call.child != folder {
                    continue;
                }
                if out.len() >= MAX_FRAMES {
                    visiting.pop();
                    return;
                }
                let (file, block) = call.merged.base;
                if never_instantiated(&parent, &call.merged) {
                    *disabled += 1;
                    continue;
                }
                out.push(Arc::new(Frame {
                    cache: Arc::default(),
                    index: Arc::clone(&index),
                    call: Some(Call {
                        parent: Arc::clone(&parent),
                        name: call.name.to_owned(),
                        file: file.path.clone(),
                        header: block.header(),
                    }),
                }));
            }
        }
    }
    visiting.pop();
}

/// `count = 0` or an empty `for_each` on a block, as far as certain.
pub(crate) fn never_instantiated(frame: &Frame, merged: &super::Merged<'_>) -> bool {
    zero_instances(merged, &ModuleScope::literal(frame))
}

/// Whether the (merged) block certainly makes no instance in `scope`. When
/// both `count` and `for_each` are set — an override file can add one to a
/// block that has the other — Terraform expands by `count` alone (checked
/// with `terraform plan`: base `for_each = toset([])` plus an override's
/// `count = 2` makes two instances; base `count = 1` plus an override's
/// `for_each = toset([])` makes one).
pub(crate) fn zero_instances(merged: &super::Merged<'_>, scope: &dyn eval::Scope) -> bool {
    let value = |name: &str| {
        merged
            .attribute(name)
            .and_then(|(_, a)| a.value.as_ref())
            .map(|e| eval::eval(e, scope, 0))
    };
    if merged.attribute("count").is_some() {
        return value("count")
            .is_some_and(|v| v.to_number().ok().flatten().is_some_and(|n| n == 0.0));
    }
    value("for_each").is_some_and(|v| v.is_empty_collection())
}

/// How many instances a resource certainly has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expansion {
    /// Neither `count` nor `for_each`.
    Single,
    Count(usize),
    /// `for_each`: `each.value` by `each.key`.
    Each(std::collections::BTreeMap<String, Value>),
}

/// The instances of a (merged) block in `scope`, or `None` when they are
/// not certain. `count` wins over `for_each` (see [`zero_instances`]).
pub(crate) fn expand(
    merged: &super::Merged<'_>,
    scope: &dyn eval::Scope,
    depth: usize,
) -> Option<Expansion> {
    let value = |name: &str| {
        merged
            .attribute(name)
            .map(|(_, a)| a.value.as_ref().map(|e| eval::eval(e, scope, depth + 1)))
    };
    if let Some(count) = value("count") {
        let n = count?.to_number().ok()??;
        return (n >= 0.0 && n.fract() == 0.0 && n < 100_000.0)
            .then_some(Expansion::Count(n as usize));
    }
    match value("for_each") {
        None => Some(Expansion::Single),
        Some(v) => match v? {
            Value::Map(items) => Some(Expansion::Each(items)),
            // A set of strings: each key is its own value.
            Value::List(items) => {
                let mut out = std::collections::BTreeMap::new();
                for item in items {
                    let Value::String(k) = item else {
                        return None;
                    };
                    out.insert(k.clone(), Value::String(k));
                }
                Some(Expansion::Each(out))
            }
            _ => None,
        },
    }
}

/// The names `count.index` or `each.key`/`each.value` of one instance.
pub(crate) fn instance_roots(expansion: &Expansion, key: &InstanceKey) -> Vec<(String, Value)> {
    use std::collections::BTreeMap;
    match (expansion, key) {
        (Expansion::Count(_), InstanceKey::Index(i)) => vec![(
            "count".to_owned(),
            Value::Map(BTreeMap::from([(
                "index".to_owned(),
                Value::Number(*i as f64),
            )])),
        )],
        (Expansion::Each(items), InstanceKey::Key(k)) => vec![(
            "each".to_owned(),
            Value::Map(BTreeMap::from([
                ("key".to_owned(), Value::String(k.clone())),
                (
                    "value".to_owned(),
                    items.get(k).cloned().unwrap_or(Value::Unknown),
                ),
            ])),
        )],
        _ => Vec::new(),
    }
}

/// The keys of the instances of an expansion.
pub(crate) fn instance_keys(expansion: &Expansion) -> Vec<InstanceKey> {
    match expansion {
        Expansion::Single => vec![InstanceKey::None],
        Expansion::Count(n) => (0..*n).map(InstanceKey::Index).collect(),
        Expansion::Each(items) => items.keys().cloned().map(InstanceKey::Key).collect(),
    }
}

/// State shared by the scopes of one evaluation (a frame and its callers).
#[derive(Default)]
struct Shared {
    trace: RefCell<Option<Vec<Origin>>>,
    /// Locals being resolved, per frame (a cycle is unknown).
    resolving: RefCell<Vec<(usize, String)>>,
    literal: Cell<bool>,
    /// Resource types whose instances evaluate to reference objects.
    references: Cell<&'static [&'static str]>,
}

/// Resolves `var.*` and `local.*` in one frame, recording the definitions
/// it used.
pub struct ModuleScope<'a> {
    frame: &'a Frame,
    shared: SharedRef<'a>,
}

enum SharedRef<'a> {
    Owned(Box<Shared>),
    Borrowed(&'a Shared),
}

impl SharedRef<'_> {
    fn get(&self) -> &Shared {
        match self {
            SharedRef::Owned(s) => s,
            SharedRef::Borrowed(s) => s,
        }
    }
}

impl<'a> ModuleScope<'a> {
    pub fn new(frame: &'a Frame) -> Self {
        Self {
            frame,
            shared: SharedRef::Owned(Box::default()),
        }
    }

    /// A scope for `count`/`for_each`: a root module's variables are unknown.
    pub(crate) fn literal(frame: &'a Frame) -> Self {
        let scope = Self::new(frame);
        scope.shared.get().literal.set(true);
        scope
    }

    /// A scope in which the resources of `types` declared in the module (or
    /// in a caller, for a call's arguments) are objects whose `id` is a
    /// reference to the instance ([`reference`]); every other attribute is
    /// unknown. Instances follow `count`/`for_each` when those are certain
    /// (a root module's variables are not trusted, as for
    /// [`ModuleScope::literal`]); otherwise the resource is unknown.
    pub(crate) fn references(frame: &'a Frame, types: &'static [&'static str]) -> Self {
        let scope = Self::literal(frame);
        scope.shared.get().references.set(types);
        scope
    }

    /// A scope of the same evaluation for another frame of the call chain.
    pub(crate) fn sibling<'b>(&'b self, frame: &'b Frame) -> ModuleScope<'b> {
        ModuleScope {
            frame,
            shared: SharedRef::Borrowed(self.shared.get()),
        }
    }

    /// The value of the resource `kind.name` in this frame (reference
    /// mode): an instance object, a list of them (`count`) or an object of
    /// them by key (`for_each`); unknown when how many is not certain; a
    /// failure when the module declares no such resource.
    fn resource_value(&self, kind: &str, name: &str, depth: usize) -> eval::Result<Value> {
        let key = (kind.to_owned(), name.to_owned());
        let cache = &self.frame.cache.resources;
        if let Some((v, reads)) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            super::reads::replay(reads);
            return Ok(v.clone());
        }
        let (value, reads) =
            super::reads::recording(|| self.resource_value_uncached(kind, name, depth));
        let value = value?;
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (value.clone(), reads));
        Ok(value)
    }

    /// [`ModuleScope::resource_value`], made.
    fn resource_value_uncached(&self, kind: &str, name: &str, depth: usize) -> eval::Result<Value> {
        let Some(merged) = self.frame.index.merged("resource", &[kind, name]) else {
            return Err(eval::Fail(format!("no resource {kind}.{name}")));
        };
        // A cycle through count/for_each reads as unknown.
        let marker = (self.frame_id(), format!("{kind}.{name}"));
        if self.shared.get().resolving.borrow().contains(&marker) {
            return Ok(Value::Unknown);
        }
        self.shared.get().resolving.borrow_mut().push(marker);
        let expansion = expand(&merged, self, depth);
        self.shared.get().resolving.borrow_mut().pop();
        let folder = &self.frame.index.folder;
        let value = match expansion {
            None => Value::Unknown,
            Some(Expansion::Single) => instance(folder, kind, name, &InstanceKey::None),
            Some(Expansion::Count(n)) => Value::List(
                (0..n)
                    .map(|i| instance(folder, kind, name, &InstanceKey::Index(i)))
                    .collect(),
            ),
            Some(Expansion::Each(items)) => Value::Map(
                items
                    .into_keys()
                    .map(|k| {
                        let v = instance(folder, kind, name, &InstanceKey::Key(k.clone()));
                        (k, v)
                    })
                    .collect(),
            ),
        };
        Ok(value)
    }

    fn record(&self, kind: OriginKind, path: &Path, range: Span, what: String) {
        if let Some(trace) = self.shared.get().trace.borrow_mut().as_mut() {
            let origin = Origin {
                path: path.to_path_buf(),
                range,
                what,
                kind,
            };
            if !trace.contains(&origin) {
                trace.push(origin);
            }
        }
    }

    fn frame_id(&self) -> usize {
        self.frame as *const Frame as usize
    }

    /// The raw value of `var.name` in this frame, before type conversion.
    fn raw_var(&self, name: &str, depth: usize) -> Option<Value> {
        let decl = self.frame.index.variable(name)?;
        let shared = self.shared.get();
        let default = || {
            decl.default().and_then(|(file, attr)| {
                let expr = attr.value.as_ref()?;
                self.record(
                    OriginKind::Default,
                    &file.path,
                    expr.span.clone(),
                    format!("the default of variable \"{name}\""),
                );
                // A default is a constant: it may not refer to anything.
                Some(eval::eval(expr, &eval::NoScope, depth))
            })
        };
        let value = match &self.frame.call {
            Some(call) => {
                let argument = call
                    .parent
                    .index
                    .merged("module", &[call.name.as_str()])
                    .and_then(|m| m.attribute(name))
                    .map(|(file, attr)| (file.path.clone(), attr.clone()));
                match argument {
                    Some((path, attr)) => {
                        let expr = attr.value.as_ref()?;
                        self.record(
                            OriginKind::Argument,
                            &path,
                            expr.span.clone(),
                            format!(
                                "the argument {name} of module.{} in {}",
                                call.name,
                                file_name(&path)
                            ),
                        );
                        let parent = ModuleScope {
                            frame: &call.parent,
                            shared: SharedRef::Borrowed(shared),
                        };
                        Some(eval::eval(expr, &parent, depth + 1))
                    }
                    None => default(),
                }
            }
            None if shared.literal.get() => Some(Value::Unknown),
            None => match self.frame.index.assignment(name) {
                Some((file, attr)) => {
                    let expr = attr.value.as_ref()?;
                    self.record(
                        OriginKind::Tfvars,
                        &file.path,
                        expr.span.clone(),
                        format!("{name} as set in {}", file.name()),
                    );
                    Some(eval::eval(expr, &eval::NoScope, depth))
                }
                None => default(),
            },
        }?;
        // `nullable = false`: null means the default.
        if value == Value::Null && !decl.nullable() {
            return default();
        }
        let ty = decl.type_expr().map_or(Type::Any, Type::parse);
        Some(ty.convert(value).unwrap_or(Value::Unknown))
    }
}

/// Which instance of a resource: none (no `count`/`for_each`), an index,
/// a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    None,
    Index(usize),
    Key(String),
}

impl std::fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => write!(f, "[{k:?}]"),
        }
    }
}

/// A resource instance declared in a module folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub folder: PathBuf,
    pub kind: String,
    pub name: String,
    pub key: InstanceKey,
}

impl Reference {
    /// `TYPE.NAME[KEY]`.
    pub fn address(&self) -> String {
        format!("{}.{}{}", self.kind, self.name, self.key)
    }
}

/// The text standing for the id of an instance in reference mode.
pub(crate) fn reference(folder: &Path, kind: &str, name: &str, key: &InstanceKey) -> String {
    let m = eval::REF_MARK;
    let key = match key {
        InstanceKey::None => String::new(),
        InstanceKey::Index(i) => format!("#{i}"),
        InstanceKey::Key(k) => format!("={k}"),
    };
    format!("{m}ref{m}{}{m}{kind}{m}{name}{m}{key}{m}", folder.display())
}

/// Reads back a [`reference`] (`None` for any other text).
pub(crate) fn parse_reference(text: &str) -> Option<Reference> {
    let m = eval::REF_MARK;
    let inner = text.strip_prefix(m)?.strip_suffix(m)?;
    let mut parts = inner.split(m);
    if parts.next()? != "ref" {
        return None;
    }
    let folder = PathBuf::from(parts.next()?);
    let kind = parts.next()?.to_owned();
    let name = parts.next()?.to_owned();
    let key = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let key = if key.is_empty() {
        InstanceKey::None
    } else if let Some(i) = key.strip_prefix('#') {
        InstanceKey::Index(i.parse().ok()?)
    } else {
        InstanceKey::Key(key.strip_prefix('=')?.to_owned())
    };
    Some(Reference {
        folder,
        kind,
        name,
        key,
    })
}

/// An instance object: `id` is its reference, the rest unknown.
fn instance(folder: &Path, kind: &str, name: &str, key: &InstanceKey) -> Value {
    Value::Map(std::collections::BTreeMap::from([
        (
            "id".to_owned(),
            Value::String(reference(folder, kind, name, key)),
        ),
        (eval::OPEN.to_owned(), Value::Unknown),
    ]))
}

impl Scope for ModuleScope<'_> {
    fn resource(&self, kind: &str, name: &str) -> Option<eval::Result<Value>> {
        let types = self.shared.get().references.get();
        types
            .contains(&kind)
            .then(|| self.resource_value(kind, name, 0))
    }

    fn var(&self, name: &str, depth: usize) -> Value {
        if depth > eval::MAX_DEPTH {
            return Value::Unknown;
        }
        self.raw_var(name, depth).unwrap_or(Value::Unknown)
    }

    fn local(&self, name: &str, depth: usize) -> Value {
        if depth > eval::MAX_DEPTH {
            return Value::Unknown;
        }
        let key = (self.frame_id(), name.to_owned());
        let shared = self.shared.get();
        if shared.resolving.borrow().contains(&key) {
            return Value::Unknown; // a cycle: Terraform rejects it too
        }
        let Some((file, attr)) = self.frame.index.local(name) else {
            return Value::Unknown;
        };
        let Some(expr) = attr.value.as_ref() else {
            return Value::Unknown;
        };
        self.record(
            OriginKind::Local,
            &file.path,
            expr.span.clone(),
            format!("local.{name}"),
        );
        shared.resolving.borrow_mut().push(key);
        let value = eval::eval(expr, self, depth + 1);
        shared.resolving.borrow_mut().pop();
        value
    }

    fn begin_trace(&self) {
        *self.shared.get().trace.borrow_mut() = Some(Vec::new());
    }

    fn take_trace(&self) -> Vec<Origin> {
        self.shared
            .get()
            .trace
            .borrow_mut()
            .take()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Verdict;
    use crate::lower::hcl::parse_expression;
    use crate::module::{FileFacts, FileKind};
    use std::collections::HashMap;

    fn facts(name: &str, text: &str) -> Arc<FileFacts> {
        let path = PathBuf::from(name);
        let kind = FileKind::of(&path).unwrap();
        Arc::new(FileFacts::extract(
            &path,
            kind,
            Arc::new(text.to_owned()),
            None,
        ))
    }

    fn resolve(frame: &Frame, expr: &str) -> (Value, Vec<String>) {
        let scope = ModuleScope::new(frame);
        scope.begin_trace();
        let value = eval::eval(&parse_expression(expr), &scope, 0);
        let trace = scope.take_trace().into_iter().map(|o| o.what).collect();
        (value, trace)
    }

    fn root(files: Vec<Arc<FileFacts>>) -> Frame {
        Frame::root(Arc::new(ModuleIndex::new(PathBuf::from("."), files)))
    }

    /// A resource's value, cached for the frame, was made by reading other
    /// blocks (here what its `count` names): each check that takes it from
    /// the cache read those blocks too, and is checked again when they
    /// change.
    #[test]
    fn a_cached_value_counts_as_read_by_each_check_that_takes_it() {
        let frame = root(vec![facts(
            "main.tf",
            r#"
resource "aws_subnet" "a" {
  count = 2
}
resource "aws_subnet" "b" {
  count = length(aws_subnet.a)
}
"#,
        )]);
        let expr = parse_expression("aws_subnet.b[1].id");
        let read = || {
            super::super::reads::recording(|| {
                let scope = ModuleScope::references(&frame, &["aws_subnet"]);
                eval::eval(&expr, &scope, 0)
            })
        };
        let (first, made) = read();
        let (again, taken) = read();
        assert_eq!(first, again);
        assert!(matches!(first, Value::String(_)), "{first:?}");
        // Block 1 (`b`) and block 0 (`a`, read by `b`'s count), both times.
        let super::super::reads::Reads::Blocks(blocks) = &made else {
            panic!("{made:?}");
        };
        let at: Vec<_> = blocks.iter().map(|(_, at)| *at).collect();
        assert_eq!(at, [(0, 0), (0, 1)]);
        assert_eq!(taken, made);
    }

    #[test]
    fn variables_resolve_to_tfvars_else_default_with_types() {
        let frame = root(vec![
            facts(
                "variables.tf",
                "variable \"a\" {\n  default = []\n}\nvariable \"b\" {\n  default = [\"x\"]\n}\nvariable \"c\" {}\nvariable \"n\" {\n  type = list(string)\n  nullable = false\n  default = [\"d\"]\n}\nvariable \"s\" {\n  type = set(string)\n  default = [\"\", \"\"]\n}\n",
            ),
            facts("terraform.tfvars", "b = []\nn = null\n"),
            facts("z.auto.tfvars.json", "{\"b\": [\"late\"]}"),
        ]);
        let (a, trace) = resolve(&frame, "var.a");
        assert_eq!(a, Value::List(vec![]));
        assert_eq!(trace, ["the default of variable \"a\""]);
        assert_eq!(
            resolve(&frame, "var.b").0,
            Value::List(vec![Value::string("late")])
        );
        assert_eq!(resolve(&frame, "var.c").0, Value::Unknown);
        assert_eq!(resolve(&frame, "var.undeclared").0, Value::Unknown);
        assert_eq!(
            resolve(&frame, "var.n").0,
            Value::List(vec![Value::string("d")])
        );
        assert_eq!(
            resolve(&frame, "var.s").0,
            Value::List(vec![Value::string("")])
        );
        // Attribute access on resolved objects.
        let frame = root(vec![facts(
            "main.tf",
            "variable \"net\" {\n  default = { subnets = [] }\n}\nlocals {\n  cfg = { sg_ids = [] }\n}\n",
        )]);
        assert_eq!(resolve(&frame, "var.net.subnets").0, Value::List(vec![]));
        assert_eq!(resolve(&frame, "local.cfg.sg_ids").0, Value::List(vec![]));
    }

    #[test]
    fn locals_chain_and_cycles() {
        let frame = root(vec![
            facts(
                "main.tf",
                "locals {\n  a = local.b\n  b = concat(var.v, [])\n  loop1 = local.loop2\n  loop2 = local.loop1\n}\nvariable \"v\" {\n  default = [\"\"]\n}\n",
            ),
            facts("more.tf.json", "{\"locals\": {\"j\": \"${local.a}\"}}"),
        ]);
        let (value, trace) = resolve(&frame, "local.j");
        assert_eq!(
            value.list_verdict(),
            Verdict::Empty(crate::finding::Emptiness::BlankElements)
        );
        assert_eq!(
            trace,
            [
                "local.j",
                "local.a",
                "local.b",
                "the default of variable \"v\""
            ]
        );
        assert_eq!(resolve(&frame, "local.loop1").0, Value::Unknown);
    }

    struct Workspace(HashMap<PathBuf, Arc<ModuleIndex>>);

    impl Modules for Workspace {
        fn index(&self, folder: &Path) -> Option<Arc<ModuleIndex>> {
            self.0.get(folder).cloned()
        }
        fn callers(&self, folder: &Path) -> Vec<PathBuf> {
            let mut out: Vec<PathBuf> = self
                .0
                .values()
                .filter(|i| i.calls().iter().any(|c| c.child == folder))
                .map(|i| i.folder.clone())
                .collect();
            out.sort();
            out
        }
    }

    #[test]
    fn called_modules_are_judged_per_call() {
        let child = Arc::new(ModuleIndex::new(
            PathBuf::from("modules/ml"),
            vec![
                facts(
                    "modules/ml/variables.tf",
                    "variable \"subnets\" {\n  default = []\n}\nvariable \"on\" {\n  default = true\n}\n",
                ),
                // Not read for a called module.
                facts("modules/ml/terraform.tfvars", "subnets = [\"tfvars\"]\n"),
            ],
        ));
        let root_index = Arc::new(ModuleIndex::new(
            PathBuf::from("."),
            vec![facts(
                "main.tf",
                "variable \"ids\" {\n  default = [\"s-1\"]\n}\nmodule \"a\" {\n  source = \"./modules/ml\"\n  subnets = var.ids\n}\nmodule \"b\" {\n  source = \"./modules/ml\"\n}\nmodule \"off\" {\n  source = \"./modules/ml\"\n  count = 0\n}\n",
            )],
        ));
        let ws = Workspace(HashMap::from([
            (PathBuf::from("modules/ml"), Arc::clone(&child)),
            (PathBuf::from("."), Arc::clone(&root_index)),
        ]));
        let frames = frames(&ws, child);
        let names: Vec<String> = frames.iter().filter_map(|f| f.call_path()).collect();
        assert_eq!(names, ["module.a", "module.b"]);
        let (a, trace) = resolve(&frames[0], "var.subnets");
        assert_eq!(a, Value::List(vec![Value::string("s-1")]));
        assert_eq!(
            trace,
            [
                "the argument subnets of module.a in main.tf",
                "the default of variable \"ids\""
            ]
        );
        assert_eq!(resolve(&frames[1], "var.subnets").0, Value::List(vec![]));
        // For count/for_each, a root default is distrusted; a child's is not.
        let literal = ModuleScope::literal(&frames[0]);
        let on = eval::eval(&parse_expression("var.on"), &literal, 0);
        assert_eq!(on, Value::Bool(true));
        let ids = eval::eval(&parse_expression("var.subnets"), &literal, 0);
        assert_eq!(ids, Value::Unknown);
    }
}
