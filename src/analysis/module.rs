//! What a Terraform module (one folder) declares, across its files.
//!
//! The fixes need to know which variables exist (to reuse them, or to declare
//! the ones they reference); the evaluator will use the same index to resolve
//! `var.*` and `local.*`. The index is built from parsed files and knows
//! nothing of where their text came from (disk or an editor buffer).

use std::ops::Range;
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Tree};

use super::eval::{self, NoScope, Value};
use super::queries::VARIABLE_BLOCKS;
use super::syntax::{self, BlockParts};

/// One `variable "NAME" { … }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub path: PathBuf,
    pub block: Range<usize>,
    /// The text of its `type` expression, if any (`list(string)`).
    pub type_expr: Option<String>,
    /// Its `default`, evaluated without any scope.
    pub default: Option<Value>,
}

impl Variable {
    /// Does this variable hold a list (by its type, else by its default)?
    pub fn is_list(&self) -> bool {
        if let Some(ty) = &self.type_expr {
            let ty = ty.trim();
            return ["list", "set", "tuple"]
                .iter()
                .any(|k| ty == *k || ty.starts_with(&format!("{k}(")));
        }
        matches!(self.default, Some(Value::List(_)))
    }
}

/// A parsed file of the module.
pub struct ModuleFile<'a> {
    pub path: &'a Path,
    pub src: &'a str,
    pub tree: &'a Tree,
}

/// The declarations of one module.
#[derive(Debug, Default, Clone)]
pub struct ModuleIndex {
    pub variables: Vec<Variable>,
}

impl ModuleIndex {
    pub fn build<'a>(files: impl IntoIterator<Item = ModuleFile<'a>>) -> Self {
        let mut index = Self::default();
        for file in files {
            index.add_file(&file);
        }
        index
            .variables
            .sort_by(|a, b| (&a.name, &a.path).cmp(&(&b.name, &b.path)));
        index
    }

    fn add_file(&mut self, file: &ModuleFile<'_>) {
        let root = file.tree.root_node();
        VARIABLE_BLOCKS.for_each_match(root, file.src, |row| {
            let (Some(block), Some(name)) = (row[0], row[1]) else {
                return;
            };
            if !is_top_level(block) {
                return;
            }
            let Some(name) = syntax::label_value(name, file.src) else {
                return;
            };
            let body = BlockParts::of(block).and_then(|p| p.body);
            let attr = |key: &str| -> Option<Node<'_>> {
                body.into_iter()
                    .flat_map(syntax::body_items)
                    .filter_map(syntax::attribute_parts)
                    .filter(|(ident, _)| syntax::text(*ident, file.src) == key)
                    .find_map(|(_, value)| value)
            };
            self.variables.push(Variable {
                name,
                path: file.path.to_path_buf(),
                block: block.byte_range(),
                type_expr: attr("type").map(|n| syntax::text(n, file.src).to_owned()),
                default: attr("default").map(|n| eval::eval(n, file.src, &NoScope, 0)),
            });
        });
    }

    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// Variables are only declared at the top level of a file.
fn is_top_level(block: Node<'_>) -> bool {
    block
        .parent()
        .and_then(|body| body.parent())
        .is_some_and(|root| root.kind() == "config_file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::syntax::parse;

    #[test]
    fn indexes_variables_with_type_and_default() {
        let src = r#"
variable "subnet_ids" {
  type = list(string)
}
variable sg { default = ["sg-1"] }
variable "name" {
  type    = string
  default = "x"
}
"#;
        let tree = parse(src, None);
        let index = ModuleIndex::build([ModuleFile {
            path: Path::new("variables.tf"),
            src,
            tree: &tree,
        }]);
        let names: Vec<_> = index.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["name", "sg", "subnet_ids"]);
        assert!(index.variable("subnet_ids").unwrap().is_list());
        assert!(index.variable("sg").unwrap().is_list());
        assert!(!index.variable("name").unwrap().is_list());
    }
}
