//! The direct reading of HCL (without a syntax tree), which opens documents
//! and reads edited stretches, against tree-sitter-hcl and its lowering: on
//! any text, what it reads is item for item what the analysis cache reads
//! from tree-sitter's tree (blocks, attributes, expressions, spans,
//! suppression comments), it never reads all of a text with a syntax error,
//! and tree-sitter parses what it leaves into the rest of the items.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use svl_analysis::direct_reading_agrees;

fn agrees(src: &str) -> bool {
    match direct_reading_agrees(src) {
        Ok(all) => all,
        Err(e) => panic!("{e}\n--- text ---\n{src}"),
    }
}

/// Spaces, sometimes a newline or a comment, between two tokens.
fn gap() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(String::new()),
        6 => Just(" ".to_owned()),
        2 => Just("\n  ".to_owned()),
        1 => Just(" # c\n".to_owned()),
        1 => Just(" /* c */ ".to_owned()),
        1 => Just("// c\r\n".to_owned()),
        1 => Just("\t".to_owned()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("var".to_owned()),
        Just("local".to_owned()),
        Just("each".to_owned()),
        Just("count".to_owned()),
        Just("aws_subnet".to_owned()),
        Just("index-1".to_owned()),
        Just("_x9".to_owned()),
        Just("for".to_owned()),
        Just("if".to_owned()),
        Just("in".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("é".to_owned()),
        Just("aé".to_owned()),
    ]
}

fn string_part() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("text".to_owned()),
        Just("a b".to_owned()),
        Just("\\n\\t\\\"\\\\".to_owned()),
        Just("\\u00e9\\U0001F600".to_owned()),
        Just("\\q".to_owned()),
        Just("\\u12".to_owned()),
        Just("$${x}".to_owned()),
        Just("%%{x}".to_owned()),
        Just("$$".to_owned()),
        Just("$".to_owned()),
        Just("%".to_owned()),
        Just("%{ if true }y%{ endif }".to_owned()),
        Just("${~ x ~}".to_owned()),
        // Blanks beside an interpolation: tree-sitter-hcl keeps no node
        // of text that is only blanks.
        Just("${x}".to_owned()),
        Just(" ".to_owned()),
        Just("\t ${ var.a }".to_owned()),
        Just("é✓".to_owned()),
        Just("#/*".to_owned()),
        Just("}{".to_owned()),
        Just("\n".to_owned()),
    ]
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        name(),
        Just("1".to_owned()),
        Just("0.5".to_owned()),
        Just("1e3".to_owned()),
        Just("2E-1".to_owned()),
        Just("007".to_owned()),
        Just("1.".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
        Just("\"\"".to_owned()),
        prop::collection::vec(string_part(), 0..3).prop_map(|p| format!("\"{}\"", p.concat())),
        Just("var.x".to_owned()),
        Just("provider::aws::arn_parse(x)".to_owned()),
        Just(".5".to_owned()),
        Just("\"$${\"".to_owned()),
        Just("\"a\rb\"".to_owned()),
        Just(format!("{}1{}", "[".repeat(70), "]".repeat(70))),
        Just(format!("{}1{}", "(".repeat(30), ")".repeat(30))),
    ]
}

/// An expression, built from `inner` ones.
fn compound(inner: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let op = prop_oneof![
        Just("+"),
        Just("-"),
        Just("*"),
        Just("/"),
        Just("%"),
        Just("=="),
        Just("!="),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">="),
        Just("&&"),
        Just("||"),
    ];
    let postfix = prop_oneof![
        Just(".a".to_owned()),
        Just(".b-c".to_owned()),
        Just(".0".to_owned()),
        Just(".1.x".to_owned()),
        Just("[0]".to_owned()),
        Just("[\"k\"]".to_owned()),
        Just("[*]".to_owned()),
        Just("[*].id".to_owned()),
        Just("[*][0].a".to_owned()),
        Just(".*".to_owned()),
        Just(".*.id".to_owned()),
        Just(".*[0]".to_owned()),
        Just(" [0]".to_owned()),
        Just(" .a".to_owned()),
    ];
    prop_oneof![
        (inner.clone(), gap(), op, gap(), inner.clone())
            .prop_map(|(a, g1, op, g2, b)| format!("{a}{g1}{op}{g2}{b}")),
        (prop_oneof![Just("-"), Just("!")], gap(), inner.clone())
            .prop_map(|(op, g, a)| format!("{op}{g}{a}")),
        (inner.clone(), gap(), inner.clone(), gap(), inner.clone())
            .prop_map(|(c, g1, a, g2, b)| format!("{c}{g1}?{g2}{a} :{g1}{b}")),
        (inner.clone(), postfix).prop_map(|(a, p)| format!("{a}{p}")),
        (gap(), inner.clone(), gap()).prop_map(|(g1, a, g2)| format!("({g1}{a}{g2})")),
        (
            prop::collection::vec((inner.clone(), gap()), 0..4),
            any::<bool>()
        )
            .prop_map(|(items, trailing)| {
                let body: Vec<String> = items.iter().map(|(e, g)| format!("{e}{g}")).collect();
                let comma = if trailing && !body.is_empty() {
                    ","
                } else {
                    ""
                };
                format!("[{}{comma}]", body.join(", "))
            }),
        (
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("k".to_owned()),
                        Just("\"k k\"".to_owned()),
                        Just("(var.k)".to_owned()),
                        Just("true".to_owned()),
                        Just("a.b".to_owned()),
                    ],
                    prop_oneof![Just(" = "), Just(": "), Just("=")],
                    inner.clone(),
                    prop_oneof![
                        Just(", "),
                        Just("\n"),
                        Just(",\n"),
                        Just(" "),
                        Just(" # c\n")
                    ],
                ),
                0..4
            ),
            gap()
        )
            .prop_map(|(items, g)| {
                let body: String = items
                    .iter()
                    .map(|(k, s, v, sep)| format!("{k}{s}{v}{sep}"))
                    .collect();
                format!("{{{g}{body}}}")
            }),
        (
            prop_oneof![Just("f"), Just("jsonencode"), Just("true")],
            prop::collection::vec(inner.clone(), 0..3),
            prop_oneof![Just(""), Just("..."), Just(","), Just(" ...")]
        )
            .prop_map(|(f, args, end)| format!("{f}({}{end})", args.join(", "))),
        (name(), inner.clone(), inner.clone(), any::<bool>(), gap()).prop_map(
            |(v, coll, val, cond, g)| {
                let cond = if cond {
                    format!(" if {v} != \"\"")
                } else {
                    String::new()
                };
                format!("[for i, {v} in {coll} :{g}{val}{cond}]")
            }
        ),
        (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(coll, val, group)| {
            let group = if group { "..." } else { "" };
            format!("{{for k, v in {coll} : k => {val}{group}}}")
        }),
        (
            inner.clone(),
            prop::collection::vec(string_part(), 0..2),
            gap()
        )
            .prop_map(|(e, p, g)| format!("\"a-${{{g}{e}{g}}}{}\"", p.concat())),
        (
            prop_oneof![
                Just("<<EOT"),
                Just("<<-EOT"),
                Just("<<EOT "),
                Just("<<EOT\r")
            ],
            prop::collection::vec(
                prop_oneof![
                    Just("  line".to_owned()),
                    Just("    deeper ${x}".to_owned()),
                    Just("${var.a} start".to_owned()),
                    Just("".to_owned()),
                    Just("  $${not} %%{not}".to_owned()),
                    Just("  %{ if x }y%{ endif }".to_owned()),
                    Just("  EOTX".to_owned()),
                    Just("  EOT)".to_owned()),
                    Just("  ${\nx}".to_owned()),
                ],
                0..4
            ),
            prop_oneof![Just("EOT"), Just("  EOT"), Just("\tEOT")]
        )
            .prop_map(|(open, lines, close)| {
                let mut s = format!("{open}\n");
                for l in lines {
                    s.push_str(&l);
                    s.push('\n');
                }
                s.push_str(close);
                s
            }),
    ]
}

fn expr() -> BoxedStrategy<String> {
    leaf()
        .prop_recursive(4, 48, 4, |inner| compound(inner.boxed()))
        .boxed()
}

/// A block of attributes and nested blocks, with comments where a
/// suppression comment may be.
fn block(depth: u32) -> BoxedStrategy<String> {
    let item = prop_oneof![
        4 => (name(), prop_oneof![Just(" = "), Just(" ="), Just("= ")], expr(), prop_oneof![Just(""), Just(" # c"), Just(" // c"), Just(" /* c */")])
            .prop_map(|(n, eq, e, c)| format!("{n}{eq}{e}{c}")),
        1 => Just("# inside".to_owned()),
        1 => Just("/* a\n b */".to_owned()),
    ];
    let nested = if depth == 0 {
        Just(String::new()).boxed()
    } else {
        block(depth - 1)
    };
    (
        prop_oneof![
            Just("resource \"aws_sagemaker_model\" \"m\"".to_owned()),
            Just("resource aws_subnet s".to_owned()),
            Just("resource \"a\\\"b\" \"\"".to_owned()),
            Just("locals".to_owned()),
            Just("dynamic \"x\"".to_owned()),
            Just("vpc_config".to_owned()),
            Just("a b c d e".to_owned()),
            Just("resource \"a\" /* c */ \"b\"".to_owned()),
            Just("resource \"${x}\" \"b\"".to_owned()),
            Just("resource \"a\"\n\"b\"".to_owned()),
            Just("unknown \"x\" \"y\" \"z\"".to_owned()),
        ],
        prop_oneof![
            Just(" {"),
            Just(" { # head"),
            Just(" { /* head */"),
            Just("{")
        ],
        prop::collection::vec(item, 0..4),
        nested,
        prop_oneof![Just("\n}"), Just(" }"), Just("}")],
        any::<bool>(),
    )
        .prop_map(|(header, open, items, nested, close, one_line)| {
            let sep = if one_line && items.len() <= 1 {
                " "
            } else {
                "\n  "
            };
            let mut s = format!("{header}{open}");
            for item in &items {
                s.push_str(sep);
                s.push_str(item);
            }
            if !nested.is_empty() {
                s.push_str("\n  ");
                s.push_str(&nested);
            }
            s.push_str(close);
            s
        })
        .boxed()
}

fn file() -> impl Strategy<Value = String> {
    let top = prop_oneof![
        6 => block(2),
        1 => Just("# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- why".to_owned()),
        1 => Just("/* one\n two */".to_owned()),
        1 => Just("// c".to_owned()),
        1 => (name(), expr()).prop_map(|(n, e)| format!("{n} = {e}")),
    ];
    (
        prop::collection::vec(
            (
                top,
                prop_oneof![
                    Just("\n"),
                    Just("\n\n"),
                    Just(" "),
                    Just(" # after\n"),
                    Just("\r\n")
                ],
            ),
            1..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(items, crlf)| {
            let s: String = items.iter().map(|(t, sep)| format!("{t}{sep}")).collect();
            if crlf {
                s.replace("\r\n", "\n").replace('\n', "\r\n")
            } else {
                s
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::props::cases(2000), ..ProptestConfig::default() })]

    #[test]
    fn direct_reading_agrees_with_tree_sitter_on_any_file(src in file()) {
        agrees(&src);
    }

    #[test]
    fn direct_reading_agrees_with_tree_sitter_on_any_expression(e in expr()) {
        agrees(&format!("locals {{\n  x = {e}\n}}\n"));
        agrees(&format!("x = [{e}]\n"));
    }
}

/// Every `.tf` file under `dir`, recursively.
fn tf_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            tf_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "tf") {
            out.push(path);
        }
    }
}

#[test]
fn every_configuration_of_the_repository_reads_as_tree_sitter_reads_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    tf_files(&root.join("examples"), &mut files);
    tf_files(&root.join("tests/fixtures"), &mut files);
    assert!(files.len() > 50, "{} files", files.len());
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = direct_reading_agrees(&src) {
            panic!("{}: {e}", path.display());
        }
    }
}

/// What opening a document reads without a tree: all of the examples and
/// of a module like the benchmark's (networks, security groups, models,
/// heredoc policies, conditionals, `for` expressions, comments).
#[test]
fn common_configurations_are_read_whole_without_a_tree() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["main.tf", "network.tf"] {
        let src = std::fs::read_to_string(root.join("examples").join(name)).unwrap();
        assert_eq!(direct_reading_agrees(&src), Ok(true), "{name}");
    }
    let module = r#"# sagemaker-vpc-lsp:ignore:sagemaker_model_in_vpc -- batch only
resource "aws_sagemaker_model" "public" {
  name               = "public-${var.env}"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:${local.tag}"
    environment = {
      MODE    = var.mode == "" ? "default" : var.mode
      "a-key" = 1.5
    }
  }
}

resource "aws_subnet" "private" { # the model's subnets
  count             = length(var.azs)
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.cidr, 8, count.index + 1)
  availability_zone = var.azs[count.index]
  tags = merge(local.tags, {
    Name = "private-${count.index}"
  })
}

resource "aws_sagemaker_model" "compliant" {
  name = "compliant"
  vpc_config {
    security_group_ids = [for sg in aws_security_group.model : sg.id if sg.name != ""]
    subnets            = aws_subnet.private[*].id
  }
} // trailing

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
  }
}

resource "aws_iam_role_policy" "inline" {
  role   = aws_iam_role.sagemaker.id
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [{"Effect": "Allow", "Resource": "${aws_s3_bucket.b.arn}/*"}]
    }
  EOT
}

locals {
  by_az = { for s in aws_subnet.private : s.availability_zone => s.id... }
  ok    = !var.public && (var.count > 0 || -1 < 0)
}
"#;
    assert_eq!(direct_reading_agrees(module), Ok(true));
    let crlf = module.replace('\n', "\r\n");
    // A heredoc in a file of `\r\n` lines is left to tree-sitter.
    assert_eq!(direct_reading_agrees(&crlf), Ok(false));
}

/// tree-sitter-hcl closes an operation before an attribute access of a
/// later operand (`a && b.c * d` is `(a && b).c * d` in its tree), and
/// groups conditionals to the left; the lowering groups both as Terraform
/// does, and so does the direct reading.
#[test]
fn operators_and_conditionals_group_as_terraform_groups_them() {
    for expr in [
        "true && var.x * true",
        "a * b + c.d * e",
        "a + -b.c * d",
        "a + b.c - d",
        "-a.b * c + d",
        "a + b * c.d - e",
        "var.a * 2 + var.b",
        "a || b.c && d.e == f.g + h.i * j.k",
        "a ? b : c ? d : e",
        "a ? b ? c : d : e",
        "a ? b : c ? d : e ? f : g",
        "a ? (b ? c : d) : e ? f : g",
    ] {
        let src = format!("x = {expr}\n");
        assert_eq!(direct_reading_agrees(&src), Ok(true), "{expr}");
    }
}
