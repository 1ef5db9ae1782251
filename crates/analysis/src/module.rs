//! What a Terraform module (one folder) declares, across its files: variables
//! with their defaults, locals, tfvars assignments, and the resources the
//! rules and fixes care about.
//!
//! Facts are extracted per file ([`FileFacts`], from HCL or JSON) and
//! combined into a [`ModuleIndex`]; a [`ModuleScope`] resolves `var.*` and
//! `local.*` through it, recording the definitions it used so a finding can
//! point at the default, tfvars line or local that made a value empty. The
//! index knows nothing of where texts came from (disk or an editor buffer).

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tree_sitter::{Node, Tree};

use super::eval::{self, NoScope, Origin, Reference, Scope, Value};
use super::json;
use super::syntax::{self, BlockParts};
use super::terraform;

/// The files Terraform reads in a module folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `*.tf`
    Hcl,
    /// `*.tf.json`
    Json,
    /// `terraform.tfvars`, `*.auto.tfvars`
    Tfvars,
    /// `terraform.tfvars.json`, `*.auto.tfvars.json`
    TfvarsJson,
}

impl FileKind {
    /// The kind of file `path` is, if Terraform reads it (hidden files are
    /// ignored, as Terraform ignores them).
    pub fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        if name.starts_with('.') || name.ends_with('~') {
            return None;
        }
        if name.ends_with(".tf.json") && name.len() > 8 {
            Some(FileKind::Json)
        } else if name.ends_with(".tf") && name.len() > 3 {
            Some(FileKind::Hcl)
        } else if name == "terraform.tfvars" || name.ends_with(".auto.tfvars") {
            Some(FileKind::Tfvars)
        } else if name == "terraform.tfvars.json" || name.ends_with(".auto.tfvars.json") {
            Some(FileKind::TfvarsJson)
        } else {
            None
        }
    }

    /// Configuration (resources, variables, locals) rather than values.
    pub fn is_config(self) -> bool {
        matches!(self, FileKind::Hcl | FileKind::Json)
    }
}

/// The module (folder) a file belongs to.
pub fn folder_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Where Terraform applies a tfvars file: later files win.
fn tfvars_precedence(path: &Path) -> (u8, String) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let rank = match name.as_str() {
        "terraform.tfvars" => 0,
        "terraform.tfvars.json" => 1,
        _ => 2, // *.auto.tfvars(.json), in lexical order of their names
    };
    (rank, name)
}

/// An expression that defines something, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Defined {
    pub value: Value,
    pub range: Range<usize>,
}

/// One `variable "NAME" { … }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub block: Range<usize>,
    /// The text of its `type` expression (`list(string)`).
    pub type_expr: Option<String>,
    pub default: Option<Defined>,
}

impl Variable {
    /// Does this variable hold a list (by its type, else by its default)?
    pub fn is_list(&self) -> bool {
        if let Some(ty) = &self.type_expr {
            let ty = ty.trim().trim_matches('"');
            return ["list", "set", "tuple"]
                .iter()
                .any(|k| ty == *k || ty.starts_with(&format!("{k}(")));
        }
        matches!(
            self.default,
            Some(Defined {
                value: Value::List(_),
                ..
            })
        )
    }
}

/// How a local's expression is written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LocalExpr {
    Hcl(String),
    Json(String),
}

/// One local value.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    pub name: String,
    /// The expression's range.
    pub range: Range<usize>,
    pub expr: LocalExpr,
}

/// `NAME = value` in a tfvars file.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: String,
    pub value: Defined,
}

/// A resource, with the few attributes rules and fixes use (no positions:
/// a keystroke earlier in the file must not change them).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceFact {
    pub kind: String,
    pub name: String,
    /// `map_public_ip_on_launch` of an `aws_subnet`, when written.
    pub public_ip: Option<Value>,
    /// Models an `aws_sagemaker_endpoint_configuration` serves
    /// (`production_variants.model_name`).
    pub model_refs: Vec<String>,
    /// The configuration an `aws_sagemaker_endpoint` uses.
    pub config_ref: Option<String>,
}

/// What one top-level item of an HCL file declares (kept per item by the
/// incremental analysis, so a keystroke does not re-read the whole file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemFacts {
    pub variables: Vec<Variable>,
    pub locals: Vec<Local>,
    pub resources: Vec<ResourceFact>,
    /// A hash of what analysis reads from them (not where they are).
    pub semantic: u64,
}

impl ItemFacts {
    pub fn is_empty(&self) -> bool {
        self.variables.is_empty() && self.locals.is_empty() && self.resources.is_empty()
    }

    /// Moves every byte offset by `delta` (text was edited before the item).
    pub fn shift(&mut self, delta: isize) {
        let mv = |r: &mut Range<usize>| {
            *r = r.start.saturating_add_signed(delta)..r.end.saturating_add_signed(delta);
        };
        for v in &mut self.variables {
            mv(&mut v.block);
            if let Some(d) = v.default.as_mut() {
                mv(&mut d.range);
            }
        }
        for l in &mut self.locals {
            mv(&mut l.range);
        }
    }
}

/// The facts of one top-level block of an HCL configuration file.
pub fn item_facts(block: Node<'_>, src: &str) -> ItemFacts {
    let mut facts = ItemFacts::default();
    let Some(parts) = BlockParts::of(block) else {
        return facts;
    };
    match (syntax::text(parts.ident, src), parts.label_count) {
        ("variable", 1) => facts.variables.extend(hcl_variable(block, &parts, src)),
        ("locals", 0) => {
            for attr in parts.body.into_iter().flat_map(syntax::body_items) {
                if let Some((name, Some(expr))) = syntax::attribute_parts(attr) {
                    facts.locals.push(Local {
                        name: syntax::text(name, src).to_owned(),
                        range: expr.byte_range(),
                        expr: LocalExpr::Hcl(syntax::text(expr, src).to_owned()),
                    });
                }
            }
        }
        ("resource", 2) => {
            if let Some(resource) = terraform::resource_of(block, src) {
                facts.resources.push(hcl_resource_fact(&resource, src));
            }
        }
        _ => {}
    }
    if !facts.is_empty() {
        let mut h = DefaultHasher::new();
        hash_facts(
            &facts.variables,
            &facts.locals,
            &[],
            &facts.resources,
            &mut h,
        );
        facts.semantic = h.finish();
    }
    facts
}

/// Hashes names, values and expressions, not positions.
fn hash_facts(
    variables: &[Variable],
    locals: &[Local],
    assignments: &[Assignment],
    resources: &[ResourceFact],
    h: &mut impl Hasher,
) {
    for v in variables {
        format!(
            "{:?}{:?}{:?}",
            v.name,
            v.type_expr,
            v.default.as_ref().map(|d| &d.value)
        )
        .hash(h);
    }
    for l in locals {
        (&l.name, &l.expr).hash(h);
    }
    for a in assignments {
        format!("{:?}{:?}", a.name, a.value.value).hash(h);
    }
    for r in resources {
        format!(
            "{:?}{:?}{:?}{:?}{:?}",
            r.kind, r.name, r.public_ip, r.model_refs, r.config_ref
        )
        .hash(h);
    }
}

/// What one file contributes to its module.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub path: PathBuf,
    pub kind: FileKind,
    pub text: Arc<String>,
    pub variables: Vec<Variable>,
    pub locals: Vec<Local>,
    pub assignments: Vec<Assignment>,
    /// Shared between versions of a file whose resources did not change.
    pub resources: Arc<Vec<ResourceFact>>,
    /// What analysis reads from the file, hashed (see [`ModuleIndex::fingerprint`]).
    pub semantic: u64,
}

impl FileFacts {
    /// Reads the facts of a file of `kind`. `tree` is its HCL tree when the
    /// caller already has one (it is parsed here otherwise).
    pub fn extract(path: &Path, kind: FileKind, text: Arc<String>, tree: Option<&Tree>) -> Self {
        let mut facts = FileFacts {
            path: path.to_path_buf(),
            kind,
            text: Arc::clone(&text),
            variables: Vec::new(),
            locals: Vec::new(),
            assignments: Vec::new(),
            resources: Arc::new(Vec::new()),
            semantic: 0,
        };
        match kind {
            FileKind::Hcl | FileKind::Tfvars => {
                let owned;
                let tree = match tree {
                    Some(tree) => tree,
                    None => {
                        owned = syntax::parse(&text, None);
                        &owned
                    }
                };
                if kind == FileKind::Hcl {
                    facts.read_hcl_config(&text, tree);
                } else {
                    facts.read_hcl_tfvars(&text, tree);
                }
            }
            FileKind::Json | FileKind::TfvarsJson => {
                let tree = json::parse(&text);
                if let Some(root) = json::root_object(&tree) {
                    if kind == FileKind::Json {
                        facts.read_json_config(&text, root);
                    } else {
                        facts.read_json_tfvars(&text, root);
                    }
                }
            }
        }
        if kind != FileKind::Hcl {
            let mut h = DefaultHasher::new();
            hash_facts(
                &facts.variables,
                &facts.locals,
                &facts.assignments,
                &facts.resources,
                &mut h,
            );
            facts.semantic = h.finish();
        }
        facts
    }

    fn read_hcl_config(&mut self, src: &str, tree: &Tree) {
        let mut h = DefaultHasher::new();
        for container in terraform::containers(tree.root_node()) {
            let mut cursor = container.walk();
            for block in container.named_children(&mut cursor) {
                let item = item_facts(block, src);
                if !item.is_empty() {
                    item.semantic.hash(&mut h);
                }
                self.add(item);
            }
        }
        self.semantic = h.finish();
    }

    /// Adds what one top-level item declares.
    fn add(&mut self, item: ItemFacts) {
        self.variables.extend(item.variables);
        self.locals.extend(item.locals);
        Arc::make_mut(&mut self.resources).extend(item.resources);
    }

    /// A file's facts assembled from its items' (see [`ItemFacts`]).
    pub fn from_items<'i>(
        path: &Path,
        kind: FileKind,
        text: Arc<String>,
        items: impl IntoIterator<Item = &'i ItemFacts>,
    ) -> Self {
        let mut facts = FileFacts {
            path: path.to_path_buf(),
            kind,
            text,
            variables: Vec::new(),
            locals: Vec::new(),
            assignments: Vec::new(),
            resources: Arc::new(Vec::new()),
            semantic: 0,
        };
        let mut h = DefaultHasher::new();
        for item in items.into_iter().filter(|i| !i.is_empty()) {
            item.semantic.hash(&mut h);
            facts.add(item.clone());
        }
        facts.semantic = h.finish();
        facts
    }

    /// `previous` with a new text and the variables and locals of `items`
    /// (whose positions may have moved); its resources and meaning are kept.
    /// For a keystroke that changed no item's facts.
    pub fn moved<'i>(
        previous: &FileFacts,
        text: Arc<String>,
        items: impl IntoIterator<Item = &'i ItemFacts>,
    ) -> Self {
        let mut facts = FileFacts {
            path: previous.path.clone(),
            kind: previous.kind,
            text,
            variables: Vec::new(),
            locals: Vec::new(),
            assignments: Vec::new(),
            resources: Arc::clone(&previous.resources),
            semantic: previous.semantic,
        };
        for item in items {
            facts.variables.extend(item.variables.iter().cloned());
            facts.locals.extend(item.locals.iter().cloned());
        }
        facts
    }

    fn read_hcl_tfvars(&mut self, src: &str, tree: &Tree) {
        let mut cursor = tree.root_node().walk();
        let Some(body) = tree
            .root_node()
            .named_children(&mut cursor)
            .find(|n| n.kind() == "body")
        else {
            return;
        };
        for item in syntax::body_items(body) {
            if let Some((name, Some(expr))) = syntax::attribute_parts(item) {
                self.assignments.push(Assignment {
                    name: syntax::text(name, src).to_owned(),
                    value: Defined {
                        value: eval::eval(expr, src, &NoScope, 0),
                        range: expr.byte_range(),
                    },
                });
            }
        }
    }

    fn read_json_config(&mut self, src: &str, root: Node<'_>) {
        for (section, member) in json::members(root, src) {
            for object in json::objects(member.value) {
                match section.as_str() {
                    "variable" => {
                        for (name, var) in json::members(object, src) {
                            let default =
                                json::member(var.value, "default", src).map(|d| Defined {
                                    value: json::eval(d.value, src, &NoScope, 0),
                                    range: d.value.byte_range(),
                                });
                            let type_expr = json::member(var.value, "type", src)
                                .and_then(|t| json::string_value(t.value, src));
                            self.variables.push(Variable {
                                name,
                                block: var.pair.byte_range(),
                                type_expr,
                                default,
                            });
                        }
                    }
                    "locals" => {
                        for (name, local) in json::members(object, src) {
                            self.locals.push(Local {
                                name,
                                range: local.value.byte_range(),
                                expr: LocalExpr::Json(syntax::text(local.value, src).to_owned()),
                            });
                        }
                    }
                    "resource" => {
                        for (kind, names) in json::members(object, src) {
                            for names in json::objects(names.value) {
                                for (name, body) in json::members(names, src) {
                                    Arc::make_mut(&mut self.resources)
                                        .push(json_resource_fact(&kind, name, body, src));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn read_json_tfvars(&mut self, src: &str, root: Node<'_>) {
        for (name, member) in json::members(root, src) {
            self.assignments.push(Assignment {
                name,
                value: Defined {
                    value: json::eval(member.value, src, &NoScope, 0),
                    range: member.value.byte_range(),
                },
            });
        }
    }
}

fn hcl_variable(block: Node<'_>, parts: &BlockParts<'_>, src: &str) -> Option<Variable> {
    let name = syntax::label_value(parts.label(0)?, src)?;
    let attr = |key: &str| -> Option<Node<'_>> {
        parts
            .body
            .into_iter()
            .flat_map(syntax::body_items)
            .filter_map(syntax::attribute_parts)
            .filter(|(ident, _)| syntax::text(*ident, src) == key)
            .find_map(|(_, value)| value)
    };
    Some(Variable {
        name,
        block: block.byte_range(),
        type_expr: attr("type").map(|n| syntax::text(n, src).to_owned()),
        default: attr("default").map(|n| Defined {
            value: eval::eval(n, src, &NoScope, 0),
            range: n.byte_range(),
        }),
    })
}

/// `aws_sagemaker_model.NAME` references in an expression's text.
fn references(text: &str, kind: &str) -> Vec<String> {
    let prefix = format!("{kind}.");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        let before_ok = rest[..at]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        let after = &rest[at + prefix.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if before_ok && !name.is_empty() && !out.contains(&name) {
            out.push(name.clone());
        }
        rest = &after[name.len()..];
    }
    out
}

fn hcl_resource_fact(resource: &terraform::Resource<'_>, src: &str) -> ResourceFact {
    let body_items: Vec<Node<'_>> = resource
        .parts
        .body
        .into_iter()
        .flat_map(syntax::body_items)
        .collect();
    fn attr<'t>(items: &[Node<'t>], key: &str, src: &str) -> Option<Node<'t>> {
        items
            .iter()
            .filter_map(|i| syntax::attribute_parts(*i))
            .filter(|(ident, _)| syntax::text(*ident, src) == key)
            .find_map(|(_, v)| v)
    }
    let mut fact = ResourceFact {
        kind: resource.kind.clone(),
        name: resource.name.clone(),
        public_ip: None,
        model_refs: Vec::new(),
        config_ref: None,
    };
    match resource.kind.as_str() {
        "aws_subnet" => {
            fact.public_ip = attr(&body_items, "map_public_ip_on_launch", src)
                .map(|v| eval::eval(v, src, &NoScope, 0));
        }
        "aws_sagemaker_endpoint_configuration" => {
            // production_variants blocks, static or dynamic; model_name may
            // sit in either.
            for item in &body_items {
                let text = syntax::text(*item, src);
                let block = syntax::block_type(*item, src);
                if matches!(block, Some("production_variants" | "dynamic"))
                    && text.contains("model_name")
                {
                    for name in references(text, "aws_sagemaker_model") {
                        if !fact.model_refs.contains(&name) {
                            fact.model_refs.push(name);
                        }
                    }
                }
            }
        }
        "aws_sagemaker_endpoint" => {
            fact.config_ref = attr(&body_items, "endpoint_config_name", src).and_then(|v| {
                references(syntax::text(v, src), "aws_sagemaker_endpoint_configuration").pop()
            });
        }
        _ => {}
    }
    fact
}

fn json_resource_fact(kind: &str, name: String, body: json::Member<'_>, src: &str) -> ResourceFact {
    let object = json::objects(body.value).into_iter().next();
    let text = syntax::text(body.value, src);
    let mut fact = ResourceFact {
        kind: kind.to_owned(),
        name,
        public_ip: None,
        model_refs: Vec::new(),
        config_ref: None,
    };
    match kind {
        "aws_subnet" => {
            fact.public_ip = object
                .and_then(|o| json::member(o, "map_public_ip_on_launch", src))
                .map(|m| json::eval(m.value, src, &NoScope, 0));
        }
        "aws_sagemaker_endpoint_configuration" if text.contains("model_name") => {
            fact.model_refs = references(text, "aws_sagemaker_model");
        }
        "aws_sagemaker_endpoint" => {
            fact.config_ref = object
                .and_then(|o| json::member(o, "endpoint_config_name", src))
                .and_then(|m| {
                    references(
                        syntax::text(m.value, src),
                        "aws_sagemaker_endpoint_configuration",
                    )
                    .pop()
                });
        }
        _ => {}
    }
    fact
}

/// The declarations of one module.
#[derive(Debug, Default, Clone)]
pub struct ModuleIndex {
    /// Sorted by path.
    pub files: Vec<Arc<FileFacts>>,
}

impl ModuleIndex {
    pub fn new(mut files: Vec<Arc<FileFacts>>) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self { files }
    }

    /// The module's `variable` blocks (the first declaration of each name).
    pub fn variables(&self) -> impl Iterator<Item = (&FileFacts, &Variable)> {
        self.files
            .iter()
            .filter(|f| f.kind.is_config())
            .flat_map(|f| f.variables.iter().map(move |v| (f.as_ref(), v)))
    }

    pub fn variable(&self, name: &str) -> Option<(&FileFacts, &Variable)> {
        self.variables().find(|(_, v)| v.name == name)
    }

    pub fn local(&self, name: &str) -> Option<(&FileFacts, &Local)> {
        self.files
            .iter()
            .filter(|f| f.kind.is_config())
            .flat_map(|f| f.locals.iter().map(move |l| (f.as_ref(), l)))
            .find(|(_, l)| l.name == name)
    }

    /// The tfvars assignment Terraform would use for `name` (later files win).
    pub fn assignment(&self, name: &str) -> Option<(&FileFacts, &Assignment)> {
        let mut tfvars: Vec<&Arc<FileFacts>> = self
            .files
            .iter()
            .filter(|f| matches!(f.kind, FileKind::Tfvars | FileKind::TfvarsJson))
            .collect();
        tfvars.sort_by_key(|f| tfvars_precedence(&f.path));
        tfvars.into_iter().rev().find_map(|f| {
            f.assignments
                .iter()
                .rev()
                .find(|a| a.name == name)
                .map(|a| (f.as_ref(), a))
        })
    }

    pub fn resources<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a FileFacts, &'a ResourceFact)> {
        self.files
            .iter()
            .filter(|f| f.kind.is_config())
            .flat_map(|f| f.resources.iter().map(move |r| (f.as_ref(), r)))
            .filter(move |(_, r)| r.kind == kind)
    }

    /// Changes when anything analysis reads from the index changes (not when
    /// text moves or changes elsewhere in the files).
    pub fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        for f in &self.files {
            (&f.path, f.kind as u8, f.semantic).hash(&mut h);
        }
        h.finish()
    }

    /// This index with `file` in place of the file at its path (or added).
    pub fn with_file(&self, file: Arc<FileFacts>) -> Self {
        let mut files: Vec<Arc<FileFacts>> = self
            .files
            .iter()
            .filter(|f| f.path != file.path)
            .cloned()
            .collect();
        files.push(file);
        Self::new(files)
    }
}

/// Resolves `var.*` (tfvars, else the default) and `local.*` through a
/// module, recording the definitions used.
pub struct ModuleScope<'a> {
    index: &'a ModuleIndex,
    trace: RefCell<Option<Vec<Origin>>>,
    resolving: RefCell<Vec<String>>,
    /// While set, variables are unknown (see [`Scope::resolve_literally`]).
    literal: std::cell::Cell<bool>,
}

impl<'a> ModuleScope<'a> {
    pub fn new(index: &'a ModuleIndex) -> Self {
        Self {
            index,
            trace: RefCell::new(None),
            resolving: RefCell::new(Vec::new()),
            literal: std::cell::Cell::new(false),
        }
    }

    fn record(&self, path: &Path, range: Range<usize>, what: String) {
        if let Some(trace) = self.trace.borrow_mut().as_mut() {
            let origin = Origin {
                path: path.to_path_buf(),
                range,
                what,
            };
            if !trace.contains(&origin) {
                trace.push(origin);
            }
        }
    }
}

impl Scope for ModuleScope<'_> {
    fn resolve(&self, reference: Reference<'_>, depth: usize) -> Value {
        if depth > eval::MAX_DEPTH {
            return Value::Unknown;
        }
        match reference {
            Reference::Var(_) if self.literal.get() => Value::Unknown,
            Reference::Var(name) => {
                // Terraform ignores assignments to undeclared variables.
                let Some((file, variable)) = self.index.variable(name) else {
                    return Value::Unknown;
                };
                if let Some((tfvars, assignment)) = self.index.assignment(name) {
                    self.record(
                        &tfvars.path,
                        assignment.value.range.clone(),
                        format!("{name} as set in {}", file_name(&tfvars.path)),
                    );
                    return assignment.value.value.clone();
                }
                match &variable.default {
                    Some(default) => {
                        self.record(
                            &file.path,
                            default.range.clone(),
                            format!("the default of variable \"{name}\""),
                        );
                        default.value.clone()
                    }
                    None => Value::Unknown,
                }
            }
            Reference::Local(name) => {
                if self.resolving.borrow().iter().any(|n| n == name) {
                    return Value::Unknown; // a cycle: Terraform rejects it too
                }
                let Some((file, local)) = self.index.local(name) else {
                    return Value::Unknown;
                };
                self.record(&file.path, local.range.clone(), format!("local.{name}"));
                self.resolving.borrow_mut().push(name.to_owned());
                let value = match &local.expr {
                    LocalExpr::Hcl(text) => eval::eval_text(text, self, depth + 1),
                    LocalExpr::Json(text) => json_text(text, self, depth + 1),
                };
                self.resolving.borrow_mut().pop();
                value
            }
        }
    }

    fn resolve_literally(&self, reference: Reference<'_>, depth: usize) -> Value {
        let was = self.literal.replace(true);
        let value = self.resolve(reference, depth);
        self.literal.set(was);
        value
    }

    fn begin_trace(&self) {
        *self.trace.borrow_mut() = Some(Vec::new());
    }

    fn take_trace(&self) -> Vec<Origin> {
        self.trace.borrow_mut().take().unwrap_or_default()
    }
}

fn json_text(text: &str, scope: &dyn Scope, depth: usize) -> Value {
    let src = format!("{{\"x\": {text}}}");
    let tree = json::parse(&src);
    json::root_object(&tree)
        .and_then(|root| json::member(root, "x", &src))
        .map_or(Value::Unknown, |m| json::eval(m.value, &src, scope, depth))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Verdict;

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

    fn resolve(index: &ModuleIndex, expr: &str) -> (Value, Vec<String>) {
        let scope = ModuleScope::new(index);
        scope.begin_trace();
        let value = eval::eval_text(expr, &scope, 0);
        let trace = scope.take_trace().into_iter().map(|o| o.what).collect();
        (value, trace)
    }

    #[test]
    fn file_kinds() {
        for (name, kind) in [
            ("main.tf", Some(FileKind::Hcl)),
            ("main.tf.json", Some(FileKind::Json)),
            ("terraform.tfvars", Some(FileKind::Tfvars)),
            ("prod.auto.tfvars", Some(FileKind::Tfvars)),
            ("terraform.tfvars.json", Some(FileKind::TfvarsJson)),
            ("x.auto.tfvars.json", Some(FileKind::TfvarsJson)),
            ("prod.tfvars", None),
            (".hidden.tf", None),
            ("main.tf~", None),
        ] {
            assert_eq!(FileKind::of(Path::new(name)), kind, "{name}");
        }
    }

    #[test]
    fn variables_resolve_to_tfvars_else_default() {
        let index = ModuleIndex::new(vec![
            facts(
                "variables.tf",
                "variable \"a\" {\n  default = []\n}\nvariable \"b\" {\n  default = [\"x\"]\n}\nvariable \"c\" {}\n",
            ),
            facts("terraform.tfvars", "b = []\n"),
            facts("z.auto.tfvars.json", "{\"b\": [\"late\"]}"),
            facts("a.auto.tfvars", "b = [\"\"]\n"),
        ]);
        let (a, trace) = resolve(&index, "var.a");
        assert_eq!(a, Value::List(vec![]));
        assert_eq!(trace, ["the default of variable \"a\""]);
        // terraform.tfvars < a.auto.tfvars < z.auto.tfvars.json
        assert_eq!(
            resolve(&index, "var.b").0,
            Value::List(vec![Value::String("late".into())])
        );
        assert_eq!(resolve(&index, "var.c").0, Value::Unknown);
        assert_eq!(resolve(&index, "var.undeclared").0, Value::Unknown);
    }

    #[test]
    fn locals_chain_and_cycles() {
        let index = ModuleIndex::new(vec![
            facts(
                "main.tf",
                "locals {\n  a = local.b\n  b = concat(var.v, [])\n  loop1 = local.loop2\n  loop2 = local.loop1\n}\nvariable \"v\" {\n  default = [\"\"]\n}\n",
            ),
            facts("more.tf.json", "{\"locals\": {\"j\": \"${local.a}\"}}"),
        ]);
        let (value, trace) = resolve(&index, "local.j");
        assert_eq!(
            value.list_verdict(),
            Verdict::Empty(crate::Emptiness::BlankElements)
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
        assert_eq!(resolve(&index, "local.loop1").0, Value::Unknown);
    }

    #[test]
    fn resource_facts_for_fixes() {
        let index = ModuleIndex::new(vec![facts(
            "main.tf",
            r#"
resource "aws_subnet" "public_a" {
  map_public_ip_on_launch = true
}
resource "aws_sagemaker_endpoint_configuration" "cfg" {
  production_variants {
    model_name = aws_sagemaker_model.m.name
  }
}
resource "aws_sagemaker_endpoint" "ep" {
  endpoint_config_name = aws_sagemaker_endpoint_configuration.cfg.name
}
"#,
        )]);
        let subnet = index.resources("aws_subnet").next().unwrap().1;
        assert_eq!(subnet.public_ip, Some(Value::Bool(true)));
        let cfg = index
            .resources("aws_sagemaker_endpoint_configuration")
            .next()
            .unwrap()
            .1;
        assert_eq!(cfg.model_refs, ["m"]);
        let ep = index.resources("aws_sagemaker_endpoint").next().unwrap().1;
        assert_eq!(ep.config_ref.as_deref(), Some("cfg"));
    }

    #[test]
    fn fingerprint_ignores_unrelated_text() {
        let a = ModuleIndex::new(vec![facts(
            "main.tf",
            "variable \"v\" {}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"one\"\n}\n",
        )]);
        let b = ModuleIndex::new(vec![facts(
            "main.tf",
            "variable \"v\" {}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"two\"\n}\n",
        )]);
        let c = ModuleIndex::new(vec![facts(
            "main.tf",
            "variable \"v\" {\n  default = []\n}\n",
        )]);
        let moved = ModuleIndex::new(vec![facts(
            "main.tf",
            "\n\n# moved\nvariable \"v\" {}\nresource \"aws_s3_bucket\" \"b\" {}\n",
        )]);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), moved.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
