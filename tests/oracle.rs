//! Differential tests against Terraform itself: every model instance
//! `terraform plan` plans (offline, see `common/terraform.rs`) is compared
//! with the checker's verdict for it.
//!
//! * A finding ⇒ the plan has no, or an empty, `vpc_config` (or plans no
//!   instance only because a root module variable's default disables it: the
//!   documented "may exist" policy, counted apart).
//! * No finding ⇒ the plan has a populated one, or an unknown one.
//! * "Not created" ⇒ the plan has no instance.
//!
//! Where the checker says unknown and the plan knows, the case is counted
//! and listed (not a disagreement: silence is allowed, a wrong verdict is
//! not). Inputs: every fixture folder that plans, and generated modules
//! (`ORACLE_CASES`, default 40; `ORACLE_SEED` picks another sequence).
//! Without `terraform` or the provider mirror the test prints why and
//! passes; `.ci/run` says so loudly.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::terraform::{self, Instance, Planned, Terraform, add_required_arguments};
use svl_analysis::rules::sagemaker_model_in_vpc::Judgement;
use svl_analysis::{Judged, judge_file};
use svl_project::Workspace;
use svl_project::read::{Depth, Source, kind_of};
use svl_project::walk;

/// The checker's judgements for every model of the tree at `root`.
fn checker(root: &Path) -> Vec<Judged> {
    let walk = walk::collect(&[root.to_path_buf()]);
    let mut ws = Workspace::default();
    let mut by_folder: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for t in &walk.targets {
        by_folder
            .entry(svl_project::folder_of(&t.path))
            .or_default()
            .push(t.path.clone());
    }
    let mut files = Vec::new();
    for folder in by_folder.keys() {
        let facts: Vec<_> = walk::module_files(folder)
            .iter()
            .filter_map(|p| {
                Source::read(p, kind_of(p), None, Depth::Fixes)
                    .ok()
                    .map(|s| s.facts(p))
            })
            .collect();
        files.extend(facts.iter().cloned());
        ws.add_scanned(folder.clone(), facts);
    }
    // Terraform plans the top folder and what it calls; a folder nothing
    // calls is a root of its own that this plan does not cover.
    let top = svl_project::folder_of(&root.join("main.tf"));
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.kind.is_config()) {
        let folder = svl_project::folder_of(&file.path);
        out.extend(
            judge_file(file, &ws.frames_of(&folder))
                .into_iter()
                .filter(|j| folder == top || !j.module.is_empty()),
        );
    }
    out
}

/// One case: its index, the plan (or why not), the checker's verdicts, the
/// case's files.
type Outcome = (usize, Result<Vec<Instance>, String>, Vec<Judged>, String);

#[derive(Default)]
struct Tally {
    cases: usize,
    planned: usize,
    not_plannable: Vec<String>,
    instances: usize,
    agree_findings: usize,
    agree_compliant: usize,
    agree_not_created: usize,
    unknown_plan_known: Vec<String>,
    by_policy: Vec<String>,
    disagreements: Vec<String>,
}

impl Tally {
    fn compare(&mut self, case: &str, ours: &[Judged], planned: &[Instance], source: &str) {
        self.planned += 1;
        let plan = terraform::by_resource(planned);
        let mut keys: Vec<(String, String)> = ours
            .iter()
            .map(|j| (j.module.clone(), j.resource.clone()))
            .collect();
        keys.extend(plan.keys().cloned());
        keys.sort();
        keys.dedup();
        for key in keys {
            let instances = plan.get(&key).cloned().unwrap_or_default();
            self.instances += instances.len();
            let judged = ours
                .iter()
                .find(|j| (j.module.clone(), j.resource.clone()) == key);
            let name = format!(
                "{case}: {}{}{}",
                key.0,
                if key.0.is_empty() { "" } else { "." },
                key.1
            );
            let Some(judged) = judged else {
                // The plan has an instance of a model the checker did not
                // judge in that instance: a silent pass.
                self.disagreements.push(format!(
                    "{name}: planned {:?} but the checker has no verdict for this instance\n{source}",
                    instances.iter().map(|i| i.planned).collect::<Vec<_>>()
                ));
                continue;
            };
            let known_bad = instances.iter().any(|i| i.planned == Planned::NonCompliant);
            let known_good = instances.iter().any(|i| i.planned == Planned::Compliant);
            match judged.judgement {
                Judgement::NonCompliant if instances.is_empty() => {
                    if judged.by_policy {
                        self.by_policy.push(name);
                    } else {
                        self.disagreements.push(format!(
                            "{name}: the checker reports it, the plan creates no instance\n{source}"
                        ));
                    }
                }
                Judgement::NonCompliant if known_good => self.disagreements.push(format!(
                    "{name}: the checker reports it, the plan has a populated vpc_config\n{source}"
                )),
                Judgement::NonCompliant => self.agree_findings += 1,
                Judgement::NotCreated if !instances.is_empty() => self.disagreements.push(format!(
                    "{name}: the checker says never created, the plan creates {}\n{source}",
                    instances.len()
                )),
                Judgement::NotCreated => self.agree_not_created += 1,
                Judgement::Compliant | Judgement::Unknown if known_bad => {
                    self.disagreements.push(format!(
                        "{name}: no finding, but the plan's vpc_config is missing or empty \
                         (checker: {:?})\n{source}",
                        judged.judgement
                    ))
                }
                Judgement::Compliant => self.agree_compliant += 1,
                Judgement::Unknown if known_good => self.unknown_plan_known.push(name),
                Judgement::Unknown => {}
            }
        }
    }

    fn report(&self) -> String {
        let mut out = String::new();
        writeln!(
            out,
            "oracle: {} cases, {} planned ({} not plannable), {} model instances",
            self.cases,
            self.planned,
            self.not_plannable.len(),
            self.instances
        )
        .unwrap();
        writeln!(
            out,
            "  agree: {} findings, {} compliant, {} never created; {} unknown where the plan knows; {} reported by the may-exist policy; {} disagreements",
            self.agree_findings,
            self.agree_compliant,
            self.agree_not_created,
            self.unknown_plan_known.len(),
            self.by_policy.len(),
            self.disagreements.len()
        )
        .unwrap();
        out
    }
}

fn concat_files(root: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tfdata")
                || name == ".terraform.lock.hcl"
                || name.starts_with("zz_oracle_provider")
                || name == "oracle.plan"
            {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let rel = f.strip_prefix(root).unwrap();
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        writeln!(out, "--- {}\n{text}", rel.display()).unwrap();
    }
    out
}

/// Removes the generated child modules (`cases/cN`) an error names, and
/// the calls to them; false if it names none.
fn drop_failing_children(root: &Path, errors: &str) -> bool {
    let mut failing: Vec<String> = Vec::new();
    // Errors name the folder (`cases/c3/main.tf`) or the call (`module.c3_0`).
    for marker in ["cases/c", "module.c"] {
        for part in errors.split(marker).skip(1) {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() && !failing.contains(&digits) {
                failing.push(digits);
            }
        }
    }
    if failing.is_empty() {
        return false;
    }
    let main = root.join("main.tf");
    let Ok(text) = std::fs::read_to_string(&main) else {
        return false;
    };
    let kept: Vec<&str> = text
        .split_inclusive("}\n")
        .filter(|block| {
            !failing
                .iter()
                .any(|n| block.contains(&format!("source = \"./cases/c{n}\"")))
        })
        .collect();
    std::fs::write(&main, kept.concat()).unwrap();
    for n in &failing {
        let _ = std::fs::remove_dir_all(root.join(format!("cases/c{n}")));
    }
    true
}

/// Gives the root module's variables that have no default a value, in an
/// auto.tfvars file both Terraform and the checker read (a type this does
/// not know how to fill leaves the case unplannable).
fn set_required_variables(root: &Path) {
    let mut tfvars = String::new();
    for p in walk::module_files(root) {
        let Some(kind) = svl_analysis::module::FileKind::of(&p) else {
            continue;
        };
        if !kind.is_config() {
            continue;
        }
        let Ok(source) = Source::read(&p, kind, None, Depth::Fixes) else {
            continue;
        };
        for b in &source.facts(&p).blocks {
            if b.kind != "variable" || b.body.attribute("default").is_some() {
                continue;
            }
            let Some(name) = b.label(0) else { continue };
            let ty = b
                .body
                .attribute("type")
                .and_then(|a| a.value.as_ref())
                .map(|e| source.text[e.span.clone()].to_owned())
                .unwrap_or_default();
            let value = match ty.trim().trim_matches('"') {
                "" | "any" | "list(string)" | "set(string)" | "list" => "[\"oracle\"]",
                "string" => "\"oracle\"",
                "bool" => "true",
                "number" => "1",
                _ => continue,
            };
            writeln!(tfvars, "{name} = {value}").unwrap();
        }
    }
    if !tfvars.is_empty() {
        std::fs::write(root.join("zz_oracle.auto.tfvars"), tfvars).unwrap();
    }
}

#[test]
fn the_checker_agrees_with_terraform_plan() {
    let tf = match Terraform::detect() {
        Ok(tf) => tf,
        Err(why) => {
            eprintln!("ORACLE TESTS SKIPPED: {why}");
            return;
        }
    };
    let mut tally = Tally::default();
    // The fixtures: each module folder, and each control file alone.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<(String, tempfile::TempDir)> = Vec::new();
    for entry in std::fs::read_dir(fixtures.join("modules"))
        .unwrap()
        .flatten()
    {
        let dir = tempfile::tempdir().unwrap();
        terraform::copy_tree(&entry.path(), dir.path());
        cases.push((
            format!("modules/{}", entry.file_name().to_string_lossy()),
            dir,
        ));
    }
    for entry in std::fs::read_dir(fixtures.join("control"))
        .unwrap()
        .flatten()
    {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(entry.path(), dir.path().join("main.tf")).unwrap();
        cases.push((
            format!("control/{}", entry.file_name().to_string_lossy()),
            dir,
        ));
    }
    // Generated modules.
    let n: usize = std::env::var("ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for (name, dir) in generate::batches(n, seed) {
        cases.push((name, dir));
    }
    // Plans run in parallel (each is one provider process).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Outcome>> = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((_, dir)) = cases.get(i) else { break };
                    add_required_arguments(dir.path());
                    set_required_variables(dir.path());
                    let mut planned = tf.plan(dir.path());
                    // In a batch, one child Terraform rejects would waste
                    // the others: drop the children its errors name, plan
                    // again.
                    for _ in 0..4 {
                        let Err(why) = &planned else { break };
                        if !drop_failing_children(dir.path(), why) {
                            break;
                        }
                        planned = tf.plan(dir.path());
                    }
                    let ours = checker(dir.path());
                    let source = concat_files(dir.path());
                    results.lock().unwrap().push((i, planned, ours, source));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    for (i, planned, ours, source) in results {
        let name = &cases[i].0;
        tally.cases += 1;
        match planned {
            Ok(planned) => tally.compare(name, &ours, &planned, &source),
            Err(why) => {
                if std::env::var_os("ORACLE_VERBOSE").is_some() {
                    println!("=== {name} not plannable:\n{why}\n{source}");
                }
                let first = why
                    .lines()
                    .find(|l| l.contains("Error"))
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                tally.not_plannable.push(format!("{name}: {first}"));
            }
        }
    }
    let report = tally.report();
    println!("{report}");
    for u in &tally.unknown_plan_known {
        println!("  unknown, plan knows: {u}");
    }
    for u in &tally.not_plannable {
        println!("  not plannable: {u}");
    }
    assert!(
        tally.disagreements.is_empty(),
        "{report}\n{}",
        tally.disagreements.join("\n\n")
    );
    // A harness that plans nothing would agree with everything.
    assert!(
        tally.planned >= 10 && tally.instances >= 30,
        "too few cases planned: {report}"
    );
}

/// Random small modules: variables with and without defaults (and types),
/// tfvars, locals, conditionals, functions, count/for_each, dynamic blocks,
/// override files, and child modules called with and without arguments.
mod generate {
    use std::fmt::Write as _;

    /// xorshift64*: deterministic, no dependency.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        pub fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
        pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// What expressions may refer to in one module.
    struct Names {
        list_vars: Vec<String>,
        list_locals: Vec<String>,
        bool_vars: Vec<String>,
        object_vars: Vec<String>,
        num_locals: Vec<String>,
    }

    const LITERALS: &[&str] = &[
        "[]",
        "[\"subnet-a\"]",
        "[\"\"]",
        "[\"a\", \"b\"]",
        "[\"\", \"x\"]",
        "split(\",\", \"\")",
        "split(\",\", \"a,b\")",
        "[timestamp()]",
        "tolist([])",
        "toset([])",
        "[\"${\"\"}\"]",
        "[<<EOT\nEOT\n]",
    ];

    fn list(rng: &mut Rng, names: &Names, depth: usize) -> String {
        if depth > 2 {
            return rng.pick(LITERALS).to_owned();
        }
        let d = depth + 1;
        match rng.below(20) {
            0..=3 => rng.pick(LITERALS).to_owned(),
            4 | 5 if !names.list_vars.is_empty() => {
                format!("var.{}", names.list_vars[rng.below(names.list_vars.len())])
            }
            6 if !names.list_locals.is_empty() => {
                format!(
                    "local.{}",
                    names.list_locals[rng.below(names.list_locals.len())]
                )
            }
            7 => format!("concat({}, {})", list(rng, names, d), list(rng, names, d)),
            8 => format!("compact({})", list(rng, names, d)),
            9 => format!(
                "flatten([{}, {}])",
                list(rng, names, d),
                list(rng, names, d)
            ),
            10 => format!("distinct({})", list(rng, names, d)),
            11 => format!("try({}, {})", list(rng, names, d), list(rng, names, d)),
            12 => format!("[for s in {} : s]", list(rng, names, d)),
            13 => format!("[for s in {} : s if s != \"\"]", list(rng, names, d)),
            14 => format!(
                "{} ? {} : {}",
                condition(rng, names, d),
                list(rng, names, d),
                list(rng, names, d)
            ),
            15 => format!("lookup({{ k = {} }}, \"k\", [])", list(rng, names, d)),
            16 => format!("merge({{}}, {{ k = {} }}).k", list(rng, names, d)),
            17 if !names.object_vars.is_empty() => {
                format!(
                    "var.{}.ids",
                    names.object_vars[rng.below(names.object_vars.len())]
                )
            }
            18 => format!("coalesce({}, [\"c\"])", list(rng, names, d)),
            _ => format!("\"${{{}}}\"", list(rng, names, d)),
        }
    }

    fn condition(rng: &mut Rng, names: &Names, depth: usize) -> String {
        match rng.below(6) {
            0 => "true".to_owned(),
            1 => "false".to_owned(),
            2 if !names.bool_vars.is_empty() => {
                format!("var.{}", names.bool_vars[rng.below(names.bool_vars.len())])
            }
            3 => format!("length({}) == 0", list(rng, names, depth + 1)),
            4 => "timestamp() == \"\"".to_owned(),
            _ => format!("!(length({}) > 1)", list(rng, names, depth + 1)),
        }
    }

    fn count(rng: &mut Rng, names: &Names) -> Option<String> {
        match rng.below(16) {
            0 => Some("0".into()),
            1 => Some("1".into()),
            2 => Some("\"0\"".into()),
            3 => Some("1 - 1".into()),
            4 => Some("length([])".into()),
            5 => Some(format!("length({})", list(rng, names, 1))),
            6 => Some("\"${length([])}\"".into()),
            7 if !names.bool_vars.is_empty() => Some(format!(
                "var.{} ? 1 : 0",
                names.bool_vars[rng.below(names.bool_vars.len())]
            )),
            8 if !names.num_locals.is_empty() => Some(format!(
                "local.{}",
                names.num_locals[rng.below(names.num_locals.len())]
            )),
            _ => None,
        }
    }

    fn for_each(rng: &mut Rng) -> Option<String> {
        match rng.below(12) {
            0 => Some("{}".into()),
            1 => Some("toset([])".into()),
            2 => Some("toset([\"a\"])".into()),
            3 => Some("{ for k in [] : k => k }".into()),
            4 => Some("{ one = 1 }".into()),
            _ => None,
        }
    }

    fn model(rng: &mut Rng, names: &Names, name: &str) -> String {
        let mut out = format!("resource \"aws_sagemaker_model\" \"{name}\" {{\n");
        if rng.chance(40) {
            if let Some(c) = count(rng, names) {
                writeln!(out, "  count = {c}").unwrap();
            }
        } else if rng.chance(15)
            && let Some(f) = for_each(rng)
        {
            writeln!(out, "  for_each = {f}").unwrap();
        }
        out.push_str("  primary_container {\n    image = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1\"\n  }\n");
        match rng.below(10) {
            0 => {}
            1 | 2 => {
                let fe = match rng.below(7) {
                    0 => "[]".to_owned(),
                    1 => "[1]".to_owned(),
                    2 => format!("{{ a = {{ ids = {} }} }}", list(rng, names, 1)),
                    3 => format!("length({}) > 0 ? [1] : []", list(rng, names, 1)),
                    4 => "toset([timestamp()])".to_owned(),
                    5 if !names.bool_vars.is_empty() => format!(
                        "var.{} ? [1] : []",
                        names.bool_vars[rng.below(names.bool_vars.len())]
                    ),
                    _ => "{}".to_owned(),
                };
                let uses_value = fe.contains("ids");
                let subnets = if uses_value && rng.chance(60) {
                    "vpc_config.value.ids".to_owned()
                } else {
                    list(rng, names, 0)
                };
                let sgs = list(rng, names, 0);
                write!(
                    out,
                    "  dynamic \"vpc_config\" {{\n    for_each = {fe}\n    content {{\n      subnets            = {subnets}\n      security_group_ids = {sgs}\n    }}\n  }}\n"
                )
                .unwrap();
            }
            _ => {
                write!(
                    out,
                    "  vpc_config {{\n    subnets            = {}\n    security_group_ids = {}\n  }}\n",
                    list(rng, names, 0),
                    list(rng, names, 0)
                )
                .unwrap();
            }
        }
        out.push_str("}\n");
        out
    }

    /// One module's text: variables, locals, models. Returns the text and
    /// the variables a caller may set.
    fn module(rng: &mut Rng, models: usize) -> (String, Names, Vec<(String, &'static str, bool)>) {
        let mut names = Names {
            list_vars: Vec::new(),
            list_locals: Vec::new(),
            bool_vars: Vec::new(),
            object_vars: Vec::new(),
            num_locals: Vec::new(),
        };
        let mut out = String::new();
        let mut inputs = Vec::new();
        for i in 0..rng.below(4) {
            let name = format!("ids{i}");
            let ty = rng.pick(&["", "list(string)", "set(string)", "any"]);
            let nullable = rng.chance(20);
            let mut body = String::new();
            if !ty.is_empty() {
                writeln!(body, "  type     = {ty}").unwrap();
            }
            if nullable {
                writeln!(body, "  nullable = false").unwrap();
            }
            let required = !(rng.chance(75) || nullable);
            if !required {
                let default = if rng.chance(6) {
                    "null"
                } else {
                    rng.pick(&["[]", "[\"d\"]", "[\"\"]", "[\"a\", \"a\"]"])
                };
                let default = if nullable && default == "null" {
                    "[]"
                } else {
                    default
                };
                writeln!(body, "  default  = {default}").unwrap();
            }
            writeln!(out, "variable \"{name}\" {{\n{body}}}").unwrap();
            names.list_vars.push(name.clone());
            inputs.push((name, "list", required));
        }
        if rng.chance(50) {
            let default = rng.pick(&["true", "false"]);
            writeln!(
                out,
                "variable \"on\" {{\n  type    = bool\n  default = {default}\n}}"
            )
            .unwrap();
            names.bool_vars.push("on".into());
            inputs.push(("on".into(), "bool", false));
        }
        if rng.chance(30) {
            let default = rng.pick(&[
                "{ ids = [] }",
                "{ ids = [\"o\"] }",
                "{ ids = [\"o\"], extra = 1 }",
            ]);
            writeln!(
                out,
                "variable \"net\" {{\n  type = object({{ ids = list(string), more = optional(list(string), []) }})\n  default = {default}\n}}"
            )
            .unwrap();
            names.object_vars.push("net".into());
            inputs.push(("net".into(), "object", false));
        }
        let mut locals = String::new();
        for i in 0..rng.below(3) {
            let value = list(rng, &names, 1);
            writeln!(locals, "  l{i} = {value}").unwrap();
            names.list_locals.push(format!("l{i}"));
        }
        if rng.chance(30) {
            writeln!(
                locals,
                "  n = {}",
                rng.pick(&["0", "1", "length([])", "2 - 1"])
            )
            .unwrap();
            names.num_locals.push("n".into());
        }
        if !locals.is_empty() {
            writeln!(out, "locals {{\n{locals}}}").unwrap();
        }
        for m in 0..models {
            out.push_str(&model(rng, &names, &format!("m{m}")));
        }
        (out, names, inputs)
    }

    fn argument(rng: &mut Rng, kind: &str) -> String {
        match kind {
            "bool" => rng.pick(&["true", "false"]).to_owned(),
            "object" => rng
                .pick(&["{ ids = [] }", "{ ids = [\"p\"] }", "{ ids = [\"\"] }"])
                .to_owned(),
            _ if rng.chance(6) => "null".to_owned(),
            _ => rng
                .pick(&[
                    "[]",
                    "[\"from-caller\"]",
                    "[\"\"]",
                    "[timestamp()]",
                    "concat([], [])",
                ])
                .to_owned(),
        }
    }

    /// An override file for a model or a variable of the module.
    fn override_file(rng: &mut Rng, names: &Names) -> String {
        match rng.below(3) {
            0 => format!(
                "resource \"aws_sagemaker_model\" \"m0\" {{\n  vpc_config {{\n    subnets            = {}\n    security_group_ids = [\"sg-o\"]\n  }}\n}}\n",
                list(rng, names, 1)
            ),
            1 if !names.list_vars.is_empty() => format!(
                "variable \"{}\" {{\n  default = {}\n}}\n",
                names.list_vars[0],
                rng.pick(&["[]", "[\"ov\"]"])
            ),
            _ => "resource \"aws_sagemaker_model\" \"m0\" {\n  count = 1\n}\n".to_owned(),
        }
    }

    /// `n` cases in batches: root modules with tfvars and overrides, and
    /// child modules called from one root (per-call evaluation).
    pub fn batches(n: usize, seed: u64) -> Vec<(String, tempfile::TempDir)> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::new();
        let mut made = 0;
        let mut batch = 0;
        while made < n {
            batch += 1;
            let dir = tempfile::tempdir().unwrap();
            if batch % 3 == 0 {
                // A root module case with tfvars files and overrides.
                let models = 1 + rng.below(2);
                let (text, names, inputs) = module(&mut rng, models);
                std::fs::write(dir.path().join("main.tf"), text).unwrap();
                let mut tfvars = String::new();
                for (name, kind, required) in &inputs {
                    if *required || rng.chance(40) {
                        // tfvars hold constants only.
                        let value = argument(&mut rng, kind)
                            .replace("[timestamp()]", "[\"t\"]")
                            .replace("concat([], [])", "[]");
                        writeln!(tfvars, "{name} = {value}").unwrap();
                    }
                }
                if !tfvars.is_empty() {
                    let file = rng.pick(&["terraform.tfvars", "a.auto.tfvars", ".net.auto.tfvars"]);
                    std::fs::write(dir.path().join(file), tfvars).unwrap();
                }
                if rng.chance(35) {
                    let file = rng.pick(&["override.tf", "net_override.tf"]);
                    std::fs::write(dir.path().join(file), override_file(&mut rng, &names)).unwrap();
                }
                made += 1;
                out.push((format!("generated root #{batch} (seed {seed})"), dir));
                continue;
            }
            // Several child modules called from one root.
            let mut root = String::new();
            let children = 4.min(n - made).max(1);
            for c in 0..children {
                let models = 1 + rng.below(2);
                let (text, names, inputs) = module(&mut rng, models);
                let folder = dir.path().join(format!("cases/c{c}"));
                std::fs::create_dir_all(&folder).unwrap();
                std::fs::write(folder.join("main.tf"), text).unwrap();
                if rng.chance(20) {
                    std::fs::write(folder.join("override.tf"), override_file(&mut rng, &names))
                        .unwrap();
                }
                for call in 0..rng.below(3).max(1) {
                    let mut args = String::new();
                    for (name, kind, required) in &inputs {
                        if *required || rng.chance(60) {
                            writeln!(args, "  {name} = {}", argument(&mut rng, kind)).unwrap();
                        }
                    }
                    let count = if rng.chance(15) { "  count = 0\n" } else { "" };
                    writeln!(
                        root,
                        "module \"c{c}_{call}\" {{\n  source = \"./cases/c{c}\"\n{count}{args}}}"
                    )
                    .unwrap();
                }
                made += 1;
            }
            std::fs::write(dir.path().join("main.tf"), root).unwrap();
            out.push((format!("generated batch #{batch} (seed {seed})"), dir));
        }
        out
    }
}

/// What the hover and the fix title say adding `vpc_config` does to a
/// served model (replaced; its endpoint configuration replaced or left
/// alone; its endpoint updated in place or left serving the old model) is
/// what Terraform plans against a state where the chain exists.
#[test]
fn replacement_advice_matches_terraform_plan() {
    use svl_analysis::rules::sagemaker_model_in_vpc::{Action, predicted_actions};
    let tf = match Terraform::detect() {
        Ok(tf) => tf,
        Err(why) => {
            eprintln!("ORACLE TESTS SKIPPED: {why}");
            return;
        }
    };
    for (fixed_model, fixed_config) in [(false, false), (true, false), (false, true), (true, true)]
    {
        let (before, state) = terraform::served_chain(fixed_model, fixed_config, false);
        let (after, _) = terraform::served_chain(fixed_model, fixed_config, true);
        // What the checker predicts, from the configuration as it is.
        let facts = Source::new(svl_analysis::module::FileKind::Hcl, before, false)
            .facts(Path::new("main.tf"));
        let index = svl_analysis::module::ModuleIndex::new(PathBuf::from("."), vec![facts]);
        let mut predicted = predicted_actions("m", &index);
        predicted.sort_by(|a, b| a.0.cmp(&b.0));
        // What Terraform plans once vpc_config is added.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), after).unwrap();
        std::fs::write(
            dir.path().join("terraform.tfstate"),
            serde_json::to_string(&state).unwrap(),
        )
        .unwrap();
        let mut planned: Vec<(String, Action)> = tf
            .plan_actions(dir.path())
            .unwrap()
            .into_iter()
            .map(|(address, actions)| {
                let action = match actions
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["no-op"] => Action::NoOp,
                    ["update"] => Action::Update,
                    _ => Action::Replace,
                };
                (address, action)
            })
            .collect();
        planned.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            predicted, planned,
            "fixed model name: {fixed_model}, fixed configuration name: {fixed_config}"
        );
    }
}

/// A module of another source (here git, which installs offline) is
/// planned as part of its root: `check` of the root alone follows
/// Terraform's record of what `terraform init` installed (under
/// `TF_DATA_DIR`, as the oracle runs it) into the installed folders, local
/// calls inside them included, and judges each model instance as the plan
/// does.
#[test]
fn installed_modules_are_judged_as_terraform_plans_them() {
    let tf = match Terraform::detect() {
        Ok(tf) => tf,
        Err(why) => {
            eprintln!("ORACLE TESTS SKIPPED: {why}");
            return;
        }
    };
    let git = |dir: &Path, args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(dir)
            .args([
                "-c",
                "user.name=oracle",
                "-c",
                "user.email=oracle@example.com",
            ])
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let repo = tempfile::tempdir().unwrap();
    if !git(repo.path(), &["init", "-q"]) {
        eprintln!("ORACLE TEST SKIPPED: no git to install a module with");
        return;
    }
    let model = |name: &str, vpc: &str| {
        format!(
            "resource \"aws_sagemaker_model\" \"{name}\" {{\n  execution_role_arn = \"arn:aws:iam::123456789012:role/r\"\n  primary_container {{\n    image = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1\"\n  }}\n{vpc}}}\n"
        )
    };
    let vpc = |subnets: &str| {
        format!(
            "  vpc_config {{\n    subnets            = {subnets}\n    security_group_ids = [\"sg-1\"]\n  }}\n"
        )
    };
    std::fs::write(
        repo.path().join("main.tf"),
        format!(
            "variable \"subnets\" {{\n  type = list(string)\n}}\n\n{}\n{}\nmodule \"inner\" {{\n  source = \"./modules/inner\"\n}}\n",
            model("from_caller", &vpc("var.subnets")),
            model("fixed", &vpc("[\"subnet-1\"]")),
        ),
    )
    .unwrap();
    std::fs::create_dir_all(repo.path().join("modules/inner")).unwrap();
    std::fs::write(repo.path().join("modules/inner/main.tf"), model("bare", "")).unwrap();
    assert!(git(repo.path(), &["add", "-A"]) && git(repo.path(), &["commit", "-qm", "m"]));
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("main.tf"),
        format!(
            "module \"sm\" {{\n  source  = \"git::file://{}\"\n  subnets = []\n}}\n",
            repo.path().display()
        ),
    )
    .unwrap();
    let planned = tf.plan(root.path()).expect("the root plans");
    assert_eq!(planned.len(), 3, "{planned:?}");
    let out = std::process::Command::new(common::BIN)
        .current_dir(root.path())
        .env("TF_DATA_DIR", ".tfdata")
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    // Each model name is used once, in one instance.
    for instance in &planned {
        let found = findings
            .iter()
            .any(|f| f["resource"] == instance.resource.as_str());
        assert_eq!(
            found,
            instance.planned == Planned::NonCompliant,
            "{instance:?}\n{report:#}"
        );
    }
    assert_eq!(findings.len(), 2, "{report:#}");
}
