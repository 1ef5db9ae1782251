//! Differential test of the facts the pitfall rules read, against
//! `terraform plan` (offline, Terraform 1.11.4 and hashicorp/aws 5.100.0,
//! see `common/terraform.rs`): generated network modules — VPC DNS flags,
//! subnets' AZs and public IP mapping, endpoint types, private DNS and
//! service names, security group rules, routes; with `count`, `for_each`,
//! locals, functions, conditionals, and a called child module — are planned,
//! and every fact the checker calls known must be what the plan says
//! (silence is allowed, a wrong fact is not). Instances the checker lists
//! must be planned, and a resource whose instances it lists must have no
//! others. `NETWORK_ORACLE_CASES` (default 12) and `ORACLE_SEED` pick the
//! cases; without Terraform the test says why and passes.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::terraform::Terraform;
use serde_json::Value;
use svl_analysis::network::{Fact, facts};
use svl_project::Workspace;
use svl_project::read::{Depth, Source, kind_of};
use svl_project::walk;

/// The checker's facts for every folder of the tree at `root`.
fn checker(root: &Path) -> Vec<Fact> {
    let walk = walk::collect(&[root.to_path_buf()]);
    let mut ws = Workspace::default();
    let folders: BTreeSet<_> = walk
        .targets
        .iter()
        .map(|t| svl_project::folder_of(&t.path))
        .collect();
    for folder in &folders {
        let files: Vec<_> = walk::module_files(folder)
            .iter()
            .filter_map(|p| {
                Source::read(p, kind_of(p), None, Depth::Fixes)
                    .ok()
                    .map(|s| s.facts(p))
            })
            .collect();
        ws.add_scanned(folder.clone(), files);
    }
    let mut out = Vec::new();
    for folder in &folders {
        for frame in ws.frames_of(folder) {
            out.extend(facts(&frame));
        }
    }
    out
}

/// A primitive as text, the way Terraform converts between them.
fn canonical(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            let f = n.as_f64()?;
            Some(if f.fract() == 0.0 {
                format!("{}", f as i64)
            } else {
                f.to_string()
            })
        }
        _ => None,
    }
}

fn classify(name: &str) -> &'static str {
    ["s3", "ecr.api", "ecr.dkr"]
        .into_iter()
        .find(|s| name.ends_with(&format!(".{s}")))
        .unwrap_or("other")
}

/// Compares the checker's facts with one plan; returns the disagreements
/// and how many known facts were compared.
fn compare(ours: &[Fact], plan: &Value) -> (Vec<String>, usize) {
    let mut planned: BTreeMap<String, &Value> = BTreeMap::new();
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        if rc["mode"] == "managed" {
            planned.insert(rc["address"].as_str().unwrap().to_owned(), &rc["change"]);
        }
    }
    let mut wrong = Vec::new();
    let mut compared = 0;
    let resource_of = |address: &str| address.split('[').next().unwrap_or(address).to_owned();
    let listed: BTreeSet<String> = ours.iter().map(|f| f.address.clone()).collect();
    let listed_resources: BTreeSet<String> = listed.iter().map(|a| resource_of(a)).collect();
    for address in planned.keys() {
        if listed_resources.contains(&resource_of(address)) && !listed.contains(address) {
            wrong.push(format!(
                "{address}: planned, but the checker lists other instances"
            ));
        }
    }
    for fact in ours {
        let Some(value) = &fact.value else { continue };
        let Some(change) = planned.get(&fact.address) else {
            wrong.push(format!("{}: listed, but not planned", fact.address));
            continue;
        };
        if fact.attribute == "exists" {
            compared += 1;
            continue;
        }
        let (attribute, plan_value) = if fact.attribute == "service" {
            let name = &change["after"]["service_name"];
            if change["after_unknown"]["service_name"] == true || !name.is_string() {
                continue;
            }
            (
                "service_name",
                Value::String(classify(name.as_str().unwrap()).to_owned()),
            )
        } else {
            (fact.attribute, change["after"][fact.attribute].clone())
        };
        if change["after_unknown"][attribute] == true || plan_value.is_null() {
            continue;
        }
        compared += 1;
        if canonical(value) != canonical(&plan_value) {
            wrong.push(format!(
                "{} {}: checker {value}, plan {plan_value}",
                fact.address, fact.attribute
            ));
        }
    }
    (wrong, compared)
}

mod generate {
    /// xorshift64*: deterministic, no dependency.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn next(&mut self) -> u64 {
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

    fn boolean(rng: &mut Rng) -> String {
        rng.pick(&[
            "true",
            "false",
            "var.flag",
            "!var.flag",
            "local.on",
            "!local.on",
            "local.region == \"eu-west-1\"",
            "length(local.zones) > 2",
            "var.region == \"eu-west-1\" ? true : false",
            "try(local.settings.dns, false)",
            "contains(local.zones, \"b\")",
        ])
        .to_owned()
    }

    fn port(rng: &mut Rng) -> String {
        rng.pick(&[
            "0",
            "443",
            "80",
            "\"443\"",
            "local.port",
            "local.port + 1",
            "65535",
        ])
        .to_owned()
    }

    /// One network module's text; `region` is `var.region` in a called
    /// module (an argument) and in a root one (a default, not trusted).
    pub fn network(rng: &mut Rng) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "variable \"region\" {{\n  default = \"{}\"\n}}\n\nvariable \"flag\" {{\n  type    = bool\n  default = {}\n}}\n\n",
            rng.pick(&["eu-west-1", "us-east-1"]),
            rng.pick(&["true", "false"])
        ));
        s.push_str(&format!(
            "locals {{\n  region   = \"{}\"\n  zones    = {}\n  on       = {}\n  port     = {}\n  settings = {{ dns = {} }}\n  svc      = \"{}\"\n}}\n\n",
            rng.pick(&["eu-west-1", "us-east-1"]),
            rng.pick(&["[\"a\", \"b\", \"c\"]", "[\"a\"]", "[\"b\", \"c\"]"]),
            rng.pick(&["true", "false"]),
            rng.pick(&["443", "22", "0"]),
            rng.pick(&["true", "false"]),
            rng.pick(&["s3", "ecr.api", "ecr.dkr", "sts"]),
        ));
        // The VPC.
        s.push_str("resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n");
        if rng.chance(70) {
            s.push_str(&format!("  enable_dns_support = {}\n", boolean(rng)));
        }
        if rng.chance(70) {
            s.push_str(&format!("  enable_dns_hostnames = {}\n", boolean(rng)));
        }
        s.push_str("}\n\n");
        // Subnets.
        let (expansion, az) = match rng.below(5) {
            0 => (
                String::new(),
                rng.pick(&[
                    "\"eu-west-1a\"",
                    "\"${local.region}b\"",
                    "format(\"%s%s\", local.region, \"c\")",
                    "\"${var.region}a\"",
                ])
                .to_owned(),
            ),
            1 => (
                "  count = length(local.zones)\n".to_owned(),
                rng.pick(&[
                    "\"${local.region}${local.zones[count.index]}\"",
                    "\"eu-west-1${element(local.zones, count.index)}\"",
                    "\"${var.region}${local.zones[count.index]}\"",
                ])
                .to_owned(),
            ),
            2 => (
                "  count = 2\n".to_owned(),
                "\"eu-west-1${[\"a\", \"b\"][count.index]}\"".to_owned(),
            ),
            3 => (
                "  for_each = { a = \"eu-west-1a\", b = \"eu-west-1b\" }\n".to_owned(),
                rng.pick(&["each.value", "\"eu-west-1${each.key}\""])
                    .to_owned(),
            ),
            _ => (
                "  for_each = toset(local.zones)\n".to_owned(),
                "\"${local.region}${each.key}\"".to_owned(),
            ),
        };
        s.push_str(&format!(
            "resource \"aws_subnet\" \"s\" {{\n{expansion}  vpc_id            = aws_vpc.v.id\n  cidr_block        = \"10.0.1.0/24\"\n  availability_zone = {az}\n"
        ));
        if rng.chance(50) {
            s.push_str(&format!("  map_public_ip_on_launch = {}\n", boolean(rng)));
        }
        s.push_str("}\n\n");
        // Endpoints.
        let (expansion, service) = match rng.below(4) {
            0 => (
                String::new(),
                rng.pick(&[
                    "\"com.amazonaws.${local.region}.s3\"",
                    "\"com.amazonaws.${var.region}.ecr.dkr\"",
                    "\"com.amazonaws.eu-west-1.${local.svc}\"",
                    "join(\".\", [\"com.amazonaws\", local.region, \"ecr.api\"])",
                    "format(\"com.amazonaws.%s.s3\", local.region)",
                ])
                .to_owned(),
            ),
            1 => (
                "  for_each = toset([\"api\", \"dkr\"])\n".to_owned(),
                rng.pick(&[
                    "\"com.amazonaws.${local.region}.ecr.${each.key}\"",
                    "\"com.amazonaws.${var.region}.ecr.${each.key}\"",
                ])
                .to_owned(),
            ),
            2 => (
                "  count = 2\n".to_owned(),
                "\"com.amazonaws.${local.region}.${[\"s3\", \"ecr.api\"][count.index]}\""
                    .to_owned(),
            ),
            _ => (
                "  count = local.on ? 1 : 0\n".to_owned(),
                "\"com.amazonaws.${local.region}.ecr.api\"".to_owned(),
            ),
        };
        s.push_str(&format!(
            "resource \"aws_vpc_endpoint\" \"e\" {{\n{expansion}  vpc_id       = aws_vpc.v.id\n  service_name = {service}\n"
        ));
        if rng.chance(70) {
            s.push_str(&format!(
                "  vpc_endpoint_type = {}\n",
                rng.pick(&[
                    "\"Interface\"",
                    "\"Gateway\"",
                    "local.on ? \"Interface\" : \"Gateway\"",
                    "var.flag ? \"Interface\" : \"Gateway\""
                ])
            ));
        }
        if rng.chance(60) {
            s.push_str(&format!("  private_dns_enabled = {}\n", boolean(rng)));
        }
        s.push_str("}\n\n");
        // Security group rules.
        s.push_str("resource \"aws_security_group\" \"g\" {\n  vpc_id = aws_vpc.v.id\n}\n\n");
        s.push_str(&format!(
            "resource \"aws_security_group_rule\" \"r\" {{\n  type              = {}\n  security_group_id = aws_security_group.g.id\n  protocol          = {}\n  from_port         = {}\n  to_port           = {}\n  cidr_blocks       = [\"0.0.0.0/0\"]\n}}\n\n",
            rng.pick(&["\"egress\"", "\"ingress\"", "local.on ? \"egress\" : \"ingress\""]),
            rng.pick(&["\"tcp\"", "\"-1\"", "\"6\"", "\"udp\"", "\"all\""]),
            port(rng),
            port(rng),
        ));
        s.push_str(&format!(
            "resource \"aws_vpc_security_group_egress_rule\" \"x\" {{\n  security_group_id = aws_security_group.g.id\n  ip_protocol       = {}\n  from_port         = {}\n  to_port           = {}\n  cidr_ipv4         = \"0.0.0.0/0\"\n}}\n\n",
            rng.pick(&["\"tcp\"", "\"6\"", "local.on ? \"tcp\" : \"udp\""]),
            port(rng),
            port(rng),
        ));
        // A route to an internet gateway.
        s.push_str(&format!(
            "resource \"aws_internet_gateway\" \"i\" {{\n  vpc_id = aws_vpc.v.id\n}}\n\nresource \"aws_route_table\" \"t\" {{\n  vpc_id = aws_vpc.v.id\n}}\n\nresource \"aws_route\" \"r\" {{\n  route_table_id         = aws_route_table.t.id\n  destination_cidr_block = {}\n  gateway_id             = aws_internet_gateway.i.id\n}}\n",
            rng.pick(&["\"0.0.0.0/0\"", "\"10.1.0.0/16\"", "local.on ? \"0.0.0.0/0\" : \"10.9.0.0/16\"", "cidrsubnet(\"10.0.0.0/8\", 8, 1)"])
        ));
        s
    }
}

#[test]
fn the_network_facts_agree_with_terraform_plan() {
    let tf = match Terraform::detect() {
        Ok(tf) => tf,
        Err(why) => {
            eprintln!("NETWORK ORACLE SKIPPED: {why}");
            return;
        }
    };
    let n: usize = std::env::var("NETWORK_ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut rng = generate::Rng::new(seed);
    let mut compared = 0;
    let mut planned = 0;
    let mut failures = Vec::new();
    for case in 0..n {
        let dir = tempfile::tempdir().unwrap();
        let network = generate::network(&mut rng);
        let called = rng.chance(40);
        if called {
            let child = dir.path().join("net");
            std::fs::create_dir_all(&child).unwrap();
            std::fs::write(child.join("main.tf"), &network).unwrap();
            std::fs::write(
                dir.path().join("main.tf"),
                format!(
                    "module \"net\" {{\n  source = \"./net\"\n  region = \"{}\"\n  flag   = {}\n}}\n",
                    rng.pick(&["eu-west-1", "us-east-1"]),
                    rng.pick(&["true", "false"])
                ),
            )
            .unwrap();
        } else {
            std::fs::write(dir.path().join("main.tf"), &network).unwrap();
        }
        let plan = match tf.plan_json(dir.path()) {
            Ok(plan) => plan,
            Err(e) => {
                // A generated module the provider rejects is not a case.
                println!(
                    "case {case}: not planned: {}",
                    e.lines().take(3).collect::<Vec<_>>().join(" ")
                );
                continue;
            }
        };
        planned += 1;
        let ours = checker(dir.path());
        let (wrong, n) = compare(&ours, &plan);
        compared += n;
        if !wrong.is_empty() {
            failures.push(format!("case {case}:\n{}\n{network}", wrong.join("\n")));
        }
    }
    println!("network oracle: {planned} of {n} cases planned, {compared} known facts compared");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(planned > 0 && compared > 0);
}
