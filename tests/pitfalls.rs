//! The pitfall rules, from outside: each fixture folder under
//! `tests/fixtures/pitfalls` is checked with the real binary and must give
//! exactly the findings listed here (rule, file, line) — a certain failing
//! case per rule, passing cases, unknown cases that stay silent (a VPC
//! behind a module call, subnets from a variable, a security group from a
//! data source), a module split across files, and a model in a called
//! module judged on its caller's network. The fixes are applied with
//! `check --fix`, must clear what they fix, and (where Terraform is
//! installed) leave files `terraform fmt` and `terraform validate` accept.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sagemaker-vpc-lsp");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pitfalls")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .output()
        .unwrap()
}

/// `(rule, path, line)` of every finding of `check --format json` in `dir`,
/// with the JSON of each.
fn findings(dir: &Path, extra: &[&str]) -> Vec<(String, String, u64, Value)> {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(".");
    let out = run(dir, &args);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut v: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["range"]["start"]["line"].as_u64().unwrap(),
                f.clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    v
}

/// `(rule, file, line)` of one expected finding.
type Expected = (&'static str, &'static str, u64);

const CASES: &[(&str, &[Expected])] = &[
    (
        "endpoints_missing",
        &[("sagemaker_vpc_endpoints", "main.tf", 31)],
    ),
    ("endpoints_present", &[]),
    // Another way out (a transit gateway route): not certain.
    ("endpoints_transit_gateway", &[]),
    // Custom DNS servers: enable_dns_support = false is not certainly fatal
    // (the missing enable_dns_hostnames still is).
    (
        "dns_custom_dhcp",
        &[
            ("sagemaker_subnet_az_spread", "main.tf", 47),
            ("sagemaker_vpc_dns", "main.tf", 47),
        ],
    ),
    ("endpoints_unknown_module_call", &[]),
    ("nat_gateway", &[]),
    (
        "egress_blocked",
        &[("sagemaker_security_group_egress", "main.tf", 4)],
    ),
    ("egress_allowed", &[]),
    ("egress_unknown_data", &[]),
    (
        "dns_off",
        &[
            ("sagemaker_subnet_az_spread", "main.tf", 47),
            ("sagemaker_vpc_dns", "main.tf", 47),
        ],
    ),
    (
        "split_files",
        &[
            ("sagemaker_security_group_egress", "model.tf", 4),
            ("sagemaker_subnet_az_spread", "model.tf", 3),
            ("sagemaker_vpc_dns", "model.tf", 3),
            ("sagemaker_vpc_endpoints", "model.tf", 3),
        ],
    ),
    (
        "child_module",
        &[
            ("sagemaker_security_group_egress", "modules/ml/main.tf", 12),
            ("sagemaker_subnet_az_spread", "modules/ml/main.tf", 11),
            ("sagemaker_vpc_endpoints", "modules/ml/main.tf", 11),
        ],
    ),
    ("child_module_output", &[]),
    (
        "subnets_from_variable",
        &[("sagemaker_security_group_egress", "main.tf", 13)],
    ),
    (
        "public_route",
        &[("sagemaker_public_subnet", "main.tf", 58)],
    ),
    (
        "blue_green",
        &[("sagemaker_endpoint_stale_model", "main.tf", 2)],
    ),
    (
        "stale_name",
        &[("sagemaker_endpoint_stale_model", "main.tf", 2)],
    ),
];

#[test]
fn each_fixture_gets_exactly_its_findings() {
    let mut folders: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(c, _)| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(folders, listed, "every fixture folder has expectations");
    for (case, expected) in CASES {
        let got: Vec<(String, String, u64)> = findings(&fixtures().join(case), &[])
            .into_iter()
            .filter(|(rule, ..)| rule != "sagemaker_model_in_vpc")
            .map(|(r, p, l, _)| (r, p.trim_start_matches("./").to_owned(), l))
            .collect();
        let expected: Vec<(String, String, u64)> = expected
            .iter()
            .map(|(r, p, l)| ((*r).to_owned(), (*p).to_owned(), *l))
            .collect();
        assert_eq!(got, expected, "{case}");
    }
}

#[test]
fn messages_name_every_cause_and_point_at_the_declarations() {
    let f = findings(&fixtures().join("endpoints_missing"), &[]);
    let m = f[0].3["message"].as_str().unwrap();
    for part in ["S3 (Gateway)", "ECR API", "ECR DKR", "private_dns_enabled"] {
        assert!(m.contains(part), "{m}");
    }
    // Facts in another file: related information points there.
    let f = findings(&fixtures().join("egress_blocked"), &[]);
    let m = f[0].3["message"].as_str().unwrap();
    assert!(m.contains("aws_security_group.g") && m.contains("aws_security_group.h"));
    assert!(m.contains("no egress rule at all"), "{m}");
    let related = f[0].3["notes"].to_string();
    assert!(related.contains("network.tf"), "{related}");
    let f = findings(
        &fixtures().join("dns_custom_dhcp"),
        &["--select", "sagemaker_vpc_dns"],
    );
    let m = f[0].3["message"].as_str().unwrap();
    assert!(
        m.contains("enable_dns_hostnames") && !m.contains("enable_dns_support"),
        "{m}"
    );
    let f = findings(
        &fixtures().join("dns_off"),
        &["--select", "sagemaker_vpc_dns"],
    );
    let m = f[0].3["message"].as_str().unwrap();
    assert!(
        m.contains("enable_dns_support = false") && m.contains("enable_dns_hostnames"),
        "{m}"
    );
    // A model in a called module: the call is pointed at.
    let f = findings(&fixtures().join("child_module"), &[]);
    let endpoints = f.iter().find(|x| x.0 == "sagemaker_vpc_endpoints").unwrap();
    let m = endpoints.3["message"].as_str().unwrap();
    assert!(m.contains("(in module.ml)"), "{m}");
    let related = endpoints.3["notes"].to_string();
    assert!(related.contains("module.ml"), "{related}");
}

#[test]
fn information_findings_fail_check_only_with_strict_and_rules_are_selectable() {
    let dir = tempfile::tempdir().unwrap();
    common::terraform::copy_tree(&fixtures().join("dns_off"), dir.path());
    // Select the information rule alone: exit 0 unless --strict.
    let out = run(
        dir.path(),
        &["check", "--select", "sagemaker_subnet_az_spread", "."],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run(
        dir.path(),
        &[
            "check",
            "--strict",
            "--select",
            "sagemaker_subnet_az_spread",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(dir.path(), &["check", "--ignore", "sagemaker_vpc_dns", "."]);
    assert_eq!(out.status.code(), Some(0));
    let f = findings(dir.path(), &["--select", "sagemaker_vpc_dns"]);
    assert_eq!(f.len(), 1);
}

/// `check --fix` on a copy: the fixed rule is gone, and the files are what
/// `terraform fmt` and `terraform validate` accept.
#[test]
fn fixes_clear_their_findings_and_validate() {
    let terraform = common::terraform::Terraform::detect().ok();
    let cases: &[(&str, &str)] = &[
        ("endpoints_missing", "sagemaker_vpc_endpoints"),
        ("egress_blocked", "sagemaker_security_group_egress"),
        ("dns_off", "sagemaker_vpc_dns"),
        ("split_files", "sagemaker_vpc_endpoints"),
        ("split_files", "sagemaker_security_group_egress"),
        ("split_files", "sagemaker_vpc_dns"),
        ("stale_name", "sagemaker_endpoint_stale_model"),
        ("blue_green", "sagemaker_model_replacement"),
    ];
    for (case, rule) in cases {
        let dir = tempfile::tempdir().unwrap();
        common::terraform::copy_tree(&fixtures().join(case), dir.path());
        let before = findings(dir.path(), &["--select", rule]);
        assert_eq!(before.len(), 1, "{case} {rule}");
        let out = run(dir.path(), &["check", "--select", rule, "--fix", "."]);
        assert!(
            out.status.code() == Some(0),
            "{case} {rule}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(findings(dir.path(), &["--select", rule]).is_empty());
        if let Some(tf) = &terraform {
            let fmt = Command::new("terraform")
                .args(["fmt", "-check", "-recursive", "-diff"])
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                fmt.status.success(),
                "{case} {rule}: {}",
                String::from_utf8_lossy(&fmt.stdout)
            );
            common::terraform::add_required_arguments(dir.path());
            let (n, errors) = tf.validation_errors(dir.path()).unwrap();
            assert_eq!(n, 0, "{case} {rule}: {errors}");
        }
    }
}

/// The opt-in hint: reported only when selected, on the model whose chain
/// has no create_before_destroy (not on the protected one).
#[test]
fn the_replacement_hint_is_opt_in_and_spares_protected_chains() {
    let dir = fixtures().join("blue_green");
    assert!(
        !findings(&dir, &[])
            .iter()
            .any(|f| f.0 == "sagemaker_model_replacement")
    );
    let f = findings(&dir, &["--select", "sagemaker_model_replacement"]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].3["resource"], "aws_sagemaker_model.m");
    assert_eq!(f[0].3["severity"], "hint");
    assert_eq!(f[0].2, 1);
    let out = run(
        &dir,
        &["check", "--select", "sagemaker_model_replacement", "."],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a hint fails only with --strict"
    );
    // The cutover: the configuration creates before destroying, and no
    // fixed name stands in the way.
    let tmp = tempfile::tempdir().unwrap();
    common::terraform::copy_tree(&dir, tmp.path());
    let out = run(
        tmp.path(),
        &[
            "check",
            "--select",
            "sagemaker_model_replacement",
            "--fix",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let fixed = std::fs::read_to_string(tmp.path().join("main.tf")).unwrap();
    assert!(
        fixed.contains("name_prefix = \"scorer-config-\""),
        "{fixed}"
    );
    assert!(!fixed.contains("name = \"scorer\""), "{fixed}");
    assert_eq!(fixed.matches("create_before_destroy = true").count(), 2);
}

/// A model in a called module whose network the caller declares: the fix
/// edits the caller's folder, which `check --fix` (one folder at a time)
/// leaves alone, and says so instead of writing half a fix.
#[test]
fn a_fix_in_another_module_folder_is_named_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    common::terraform::copy_tree(&fixtures().join("child_module"), dir.path());
    let before = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    let out = run(
        dir.path(),
        &["check", "--select", "sagemaker_vpc_endpoints", "--fix", "."],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another module folder"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        before
    );
}

#[test]
fn the_example_passes_one_model_and_trips_each_rule_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let f = findings(&root.join("examples"), &[]);
    let mut rules: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "sagemaker_endpoint_stale_model",
            "sagemaker_model_in_vpc",
            "sagemaker_public_subnet",
            "sagemaker_security_group_egress",
            "sagemaker_subnet_az_spread",
            "sagemaker_vpc_dns",
            "sagemaker_vpc_endpoints",
        ]
    );
    assert!(
        !f.iter()
            .any(|x| x.3["resource"] == "aws_sagemaker_model.churn_scorer")
    );
}

const LSP_NETWORK: &str = "resource \"aws_vpc\" \"v\" {\n  cidr_block           = \"10.0.0.0/16\"\n  enable_dns_hostnames = true\n}\n\nresource \"aws_subnet\" \"a\" {\n  vpc_id            = aws_vpc.v.id\n  availability_zone = \"eu-west-1a\"\n}\n\nresource \"aws_subnet\" \"b\" {\n  vpc_id            = aws_vpc.v.id\n  availability_zone = \"eu-west-1b\"\n}\n\nresource \"aws_nat_gateway\" \"n\" {\n  subnet_id = aws_subnet.a.id\n}\n\nresource \"aws_security_group\" \"g\" {\n  vpc_id = aws_vpc.v.id\n}\n";
const LSP_MODEL: &str = "resource \"aws_sagemaker_model\" \"m\" {\n  vpc_config {\n    subnets            = [aws_subnet.a.id, aws_subnet.b.id]\n    security_group_ids = [aws_security_group.g.id]\n  }\n}\n";

/// Waits for a publish of `uri` whose rules are exactly `rules`.
fn await_rules(server: &mut common::Server, uri: &str, rules: &[&str]) -> Vec<Value> {
    loop {
        let params = server.await_diagnostics(uri);
        let d = params["diagnostics"].as_array().unwrap().clone();
        let mut got: Vec<&str> = d.iter().map(|x| x["code"].as_str().unwrap()).collect();
        got.sort_unstable();
        if got == rules {
            return d;
        }
    }
}

/// In the editor: the finding on model.tf points into network.tf, its fix
/// edits network.tf, hover explains it, and editing network.tf (unsaved)
/// re-publishes model.tf.
#[test]
fn in_the_editor_network_tf_drives_model_tf() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("network.tf"), LSP_NETWORK).unwrap();
    std::fs::write(dir.path().join("model.tf"), LSP_MODEL).unwrap();
    let model = common::file_uri(&dir.path().join("model.tf"));
    let network = common::file_uri(&dir.path().join("network.tf"));
    let mut server = common::Server::spawn();
    server.initialize(common::capabilities(false), Value::Null);
    server.open(&model, LSP_MODEL);
    let d = await_rules(&mut server, &model, &["sagemaker_security_group_egress"]);
    assert_eq!(
        d[0]["range"]["start"],
        serde_json::json!({"line": 3, "character": 25})
    );
    let related = d[0]["relatedInformation"].as_array().unwrap();
    assert!(related.iter().any(|r| r["location"]["uri"] == network));
    // Hover on the argument says why.
    let hover = server.request(
        "textDocument/hover",
        serde_json::json!({"textDocument": {"uri": model}, "position": {"line": 3, "character": 8}}),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("sagemaker_security_group_egress") && text.contains("TCP 443"),
        "{hover}"
    );
    // The quick fix edits network.tf.
    let actions = server.request(
        "textDocument/codeAction",
        serde_json::json!({"textDocument": {"uri": model}, "range": d[0]["range"], "context": {"diagnostics": [d[0]]}}),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Allow HTTPS"))
        .unwrap_or_else(|| panic!("{actions}"))
        .clone();
    let fix = if fix["edit"].is_null() {
        server.request("codeAction/resolve", fix)
    } else {
        fix
    };
    let changes = fix["edit"]["documentChanges"].as_array().unwrap();
    let edit = changes
        .iter()
        .find(|c| c["textDocument"]["uri"] == network)
        .unwrap_or_else(|| panic!("{fix}"));
    let fixed = common::apply_edits(LSP_NETWORK, edit["edits"].as_array().unwrap(), false);
    assert!(
        fixed.contains("aws_vpc_security_group_egress_rule"),
        "{fixed}"
    );
    // Applying it in network.tf (unsaved) clears model.tf.
    server.open(&network, LSP_NETWORK);
    server.notify(
        "textDocument/didChange",
        serde_json::json!({"textDocument": {"uri": network, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    await_rules(&mut server, &model, &[]);
}

/// The blue-green cutover does what its title says, as Terraform plans it
/// against a state where the chain serves: with the fix applied and
/// `vpc_config` added, the model and the configuration are created before
/// the old ones are destroyed, and the endpoint is updated in place.
#[test]
fn the_blue_green_cutover_creates_before_destroying_in_terraform_plan() {
    let Ok(tf) = common::terraform::Terraform::detect() else {
        eprintln!("ORACLE TESTS SKIPPED: terraform is not available");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, state) = common::terraform::served_chain(false, true, true);
    std::fs::write(dir.path().join("main.tf"), config).unwrap();
    let select = ["--select", "sagemaker_model_replacement"];
    assert_eq!(findings(dir.path(), &select).len(), 1);
    std::fs::write(
        dir.path().join("terraform.tfstate"),
        serde_json::to_string(&state).unwrap(),
    )
    .unwrap();
    // Without the cutover: the configuration is destroyed first.
    let before: std::collections::BTreeMap<String, Vec<String>> =
        tf.plan_actions(dir.path()).unwrap().into_iter().collect();
    assert_eq!(
        before["aws_sagemaker_endpoint_configuration.c"],
        ["delete", "create"],
        "{before:?}"
    );
    let out = run(
        dir.path(),
        &[
            "check",
            "--select",
            "sagemaker_model_replacement",
            "--fix",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(findings(dir.path(), &select).is_empty());
    let planned: std::collections::BTreeMap<String, Vec<String>> =
        tf.plan_actions(dir.path()).unwrap().into_iter().collect();
    let create_first = vec!["create".to_owned(), "delete".to_owned()];
    assert_eq!(
        planned["aws_sagemaker_model.m"], create_first,
        "{planned:?}"
    );
    assert_eq!(
        planned["aws_sagemaker_endpoint_configuration.c"], create_first,
        "{planned:?}"
    );
    assert_eq!(
        planned["aws_sagemaker_endpoint.e"],
        ["update"],
        "{planned:?}"
    );
}
