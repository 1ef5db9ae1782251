//! `sagemaker_vpc_endpoints`: the model's subnets are `aws_subnet`s of one
//! `aws_vpc` of the configuration, and that VPC has no NAT gateway in any of
//! its subnets and lacks one of the endpoints SageMaker pulls through: S3
//! (Gateway, on the route tables of the model's subnets), ECR API and ECR
//! DKR (Interface, with `private_dns_enabled = true`). CreateModel succeeds;
//! the endpoint or the batch transform job times out pulling the image.
//!
//! Certain only: a NAT gateway or an endpoint whose VPC, subnet, type,
//! service or route tables are not known counts as possibly there; a module
//! call that receives a resource's id may create them, and keeps the rule
//! silent.

use super::{Cause, aligned, eol_of, hcl_string, id_expr, indent_of, is_model, report};
use crate::finding::{Finding, Severity};
use crate::fix::{Fix, FixContext, TextEdit};
use crate::module::{Frame, Reference};
use crate::network::{Inst, Net, Placement, Service, endpoint_type, service_suffix};
use crate::rules::{Context, RuleDoc, Target};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_vpc_endpoints",
    title: "A SageMaker model's VPC reaches S3 and ECR",
    default_severity: Severity::Warning,
    why: "A model in a VPC pulls its container image from ECR and its artifacts from S3 through \
          that VPC. Without a NAT gateway, or VPC endpoints for S3 (Gateway) and ECR `api` and \
          `dkr` (Interface, private DNS on), CreateModel succeeds and the endpoint or batch \
          transform job then times out at deploy.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

/// Where a service stands in the VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Present,
    /// Certainly absent; why an endpoint that exists does not count.
    Absent(Option<String>),
    Unknown,
}

/// What the rule found for one model.
pub(crate) struct Assessment<'t, 'f> {
    pub placement: &'t Placement<'f>,
    pub vpc: Inst<'f>,
    missing: Vec<(Service, Option<String>)>,
}

fn gateway_on_model_tables(net: &Net<'_>, endpoint: &Inst<'_>, subnets: &[Inst<'_>]) -> State {
    let mut tables: Vec<Reference> = match net.value(endpoint, "route_table_ids") {
        None | Some(crate::eval::Value::Null) => Vec::new(),
        Some(v) => match Net::references(&v) {
            Some(refs) => refs,
            None => return State::Unknown,
        },
    };
    let Some(associations) = net.all("aws_vpc_endpoint_route_table_association") else {
        return State::Unknown;
    };
    for a in &associations {
        match net.reference_of(a, "vpc_endpoint_id") {
            None => return State::Unknown,
            Some(Some(r)) if r == endpoint.reference => match net.reference_of(a, "route_table_id")
            {
                Some(Some(t)) => tables.push(t),
                _ => return State::Unknown,
            },
            Some(_) => {}
        }
    }
    let not_on = || {
        State::Absent(Some(format!(
            "{} is a Gateway endpoint on none of the route tables of the model's subnets",
            endpoint.reference.address()
        )))
    };
    if tables.is_empty() {
        return not_on();
    }
    let Some(subnet_associations) = net.all("aws_route_table_association") else {
        return State::Unknown;
    };
    let mut all_on = true;
    for subnet in subnets {
        let mut table = None;
        for a in &subnet_associations {
            match net.reference_of(a, "subnet_id") {
                None => return State::Unknown,
                Some(Some(s)) if s == subnet.reference => {
                    match net.reference_of(a, "route_table_id") {
                        Some(Some(t)) => table = Some(t),
                        _ => return State::Unknown,
                    }
                }
                Some(_) => {}
            }
        }
        match table {
            // The VPC's main route table: not known by reference here.
            None => return State::Unknown,
            Some(t) if tables.contains(&t) => {}
            Some(_) => all_on = false,
        }
    }
    if all_on { State::Present } else { not_on() }
}

/// The state of each service in `vpc`.
fn services(net: &Net<'_>, vpc: &Reference, subnets: &[Inst<'_>]) -> Option<Vec<(Service, State)>> {
    let endpoints = net.all("aws_vpc_endpoint")?;
    let mut states: Vec<(Service, State)> = Service::ALL
        .iter()
        .map(|s| (*s, State::Absent(None)))
        .collect();
    for endpoint in &endpoints {
        let in_vpc = match net.reference_of(endpoint, "vpc_id") {
            Some(Some(r)) => Some(r == *vpc),
            Some(None) => Some(false),
            None => None,
        };
        let suffix = service_suffix(net, endpoint);
        for (service, state) in states.iter_mut() {
            if *state == State::Present {
                continue;
            }
            let matches = suffix.as_deref().map(|s| service.matches(s));
            if in_vpc == Some(false) || matches == Some(false) {
                continue;
            }
            if in_vpc.is_none() || matches.is_none() {
                *state = State::Unknown;
                continue;
            }
            let address = endpoint.reference.address();
            let found = match (endpoint_type(net, endpoint).as_deref(), service.gateway()) {
                (None, _) => State::Unknown,
                (Some("Gateway"), true) => gateway_on_model_tables(net, endpoint, subnets),
                // An S3 Interface endpoint's private DNS needs a Gateway one
                // too; not judged here.
                (Some(_), true) => State::Unknown,
                (Some("Interface"), false) => {
                    match net.flag(endpoint, "private_dns_enabled", false) {
                        Some(true) => State::Present,
                        Some(false) => State::Absent(Some(format!(
                            "{address} has no private_dns_enabled = true, so {} names do not \
                             resolve to it",
                            service.suffix()
                        ))),
                        None => State::Unknown,
                    }
                }
                (Some(t), false) => State::Absent(Some(format!(
                    "{address} is of type {t}; {} needs Interface",
                    service.suffix()
                ))),
            };
            match (&*state, found) {
                (_, State::Present) => *state = State::Present,
                (_, State::Unknown) => *state = State::Unknown,
                (State::Absent(None), absent) => *state = absent,
                _ => {}
            }
        }
    }
    Some(states)
}

/// Whether a NAT gateway is (or may be) in one of `vpc`'s subnets.
fn may_have_nat(net: &Net<'_>, vpc: &Reference) -> bool {
    let Some(nats) = net.all("aws_nat_gateway") else {
        return true;
    };
    for nat in &nats {
        let Some(Some(subnet)) = net.reference_of(nat, "subnet_id") else {
            return true;
        };
        let Some(subnet) = net.get(&subnet) else {
            return true;
        };
        match net.reference_of(&subnet, "vpc_id") {
            Some(Some(v)) if v != *vpc => {}
            _ => return true,
        }
    }
    false
}

pub(crate) fn assess<'t, 'f>(target: &'t Target<'f>) -> Option<Assessment<'t, 'f>> {
    if !is_model(target) {
        return None;
    }
    let placement = target.placement()?;
    let vpc = placement.vpc()?;
    let net = &placement.net;
    if net.opaque_calls().is_some()
        || may_have_nat(net, &vpc.reference)
        || crate::network::may_route_elsewhere(net)
    {
        return None;
    }
    let states = services(net, &vpc.reference, &placement.subnets)?;
    let missing: Vec<(Service, Option<String>)> = states
        .into_iter()
        .filter_map(|(s, state)| match state {
            State::Absent(why) => Some((s, why)),
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(Assessment {
        placement,
        vpc,
        missing,
    })
}

fn describe(service: Service) -> &'static str {
    match service {
        Service::S3 => "S3 (Gateway)",
        Service::EcrApi => "ECR API (Interface)",
        Service::EcrDkr => "ECR DKR (Interface)",
    }
}

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(a) = assess(target) else {
        return;
    };
    let vpc = a.vpc.reference.address();
    let list: Vec<&str> = a.missing.iter().map(|(s, _)| describe(*s)).collect();
    let mut message = format!(
        "{} runs in {vpc}, which has no NAT gateway and no usable VPC endpoint for {}: the model \
         is created, then its endpoint or batch transform job times out pulling the image and \
         artifacts",
        target.address(),
        list.join(", ")
    );
    let notes: Vec<&str> = a.missing.iter().filter_map(|(_, w)| w.as_deref()).collect();
    if !notes.is_empty() {
        message.push_str(&format!(" ({})", notes.join("; ")));
    }
    let causes = vec![Cause::at(
        &a.vpc,
        format!("{vpc} lacks the endpoints"),
        &format!("{vpc} is declared here, without a NAT gateway or the endpoints"),
    )];
    report(&DOC, target, ctx, &a.placement.site, message, &causes, out);
}

fn fix_of(finding: &Finding, ctx: &FixContext<'_>) -> Option<Fix> {
    super::with_target(finding, ctx, &check_model, &|target, path| {
        let a = assess(target)?;
        let (file, block) = a.vpc.block();
        let at = super::after_block(block)?;
        let vpc_frame = a.vpc.frame;
        let net = &a.placement.net;
        let eol = eol_of(file);
        let indent = indent_of(file);
        let mut text = String::new();
        // The region, through `data "aws_region"` (added if absent).
        let region = match region_data(vpc_frame) {
            RegionData::Named(name) => name,
            RegionData::Unsure => return None,
            RegionData::Absent => {
                text.push_str(&format!("{eol}{eol}data \"aws_region\" \"current\" {{}}"));
                "current".to_owned()
            }
        };
        let subnets: Vec<&Reference> = a.placement.subnets.iter().map(|s| &s.reference).collect();
        let subnet_list = super::list_in(vpc_frame, &subnets)?;
        let groups = model_groups(target, target.frame(), net)
            .and_then(|g| super::list_in(vpc_frame, &g.iter().collect::<Vec<_>>()));
        let tables: Vec<Reference> = net
            .all("aws_route_table")
            .unwrap_or_default()
            .into_iter()
            .filter(|t| net.reference_of(t, "vpc_id") == Some(Some(a.vpc.reference.clone())))
            .map(|t| t.reference)
            .collect();
        // The VPC's route tables; with none declared, its subnets use
        // the main route table.
        let tables = if tables.is_empty() {
            (a.vpc.reference.folder == vpc_frame.index.folder).then(|| {
                format!(
                    "[{}.{}{}.main_route_table_id]",
                    a.vpc.reference.kind,
                    a.vpc.reference.name,
                    super::key_suffix(&a.vpc.reference.key)
                )
            })
        } else {
            super::list_in(vpc_frame, &tables.iter().collect::<Vec<_>>())
        };
        let taken: Vec<String> = vpc_frame
            .index
            .resources("aws_vpc_endpoint")
            .map(|m| m.base.1.label(1).unwrap_or("").to_owned())
            .collect();
        for (service, _) in &a.missing {
            let mut name = service.resource_name().to_owned();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{}_{n}", service.resource_name());
                n += 1;
            }
            let service_name = format!(
                "\"com.amazonaws.${{data.aws_region.{region}.name}}.{}\"",
                service.suffix()
            );
            let mut pairs = vec![
                ("vpc_id", id_expr(&a.vpc.reference)),
                ("service_name", service_name),
            ];
            if service.gateway() {
                pairs.push(("vpc_endpoint_type", hcl_string("Gateway")));
                if let Some(tables) = &tables {
                    pairs.push(("route_table_ids", tables.clone()));
                }
            } else {
                pairs.push(("vpc_endpoint_type", hcl_string("Interface")));
                pairs.push(("private_dns_enabled", "true".to_owned()));
                pairs.push(("subnet_ids", subnet_list.clone()));
                if let Some(groups) = &groups {
                    pairs.push(("security_group_ids", groups.clone()));
                }
            }
            text.push_str(&format!(
                "{eol}{eol}resource \"aws_vpc_endpoint\" \"{name}\" {{{eol}{}}}",
                aligned(&indent, &pairs, eol)
            ));
        }
        // Right after the VPC's closing brace, each block after a
        // blank line.
        let mut edits = vec![TextEdit {
            range: at..at,
            new_text: text,
        }];
        // Interface endpoints with private DNS need DNS hostnames on.
        if a.missing.iter().any(|(s, _)| !s.gateway())
            && net.flag(&a.vpc, "enable_dns_hostnames", false) == Some(false)
        {
            edits.extend(super::dns::flag_edits(
                file,
                block,
                &["enable_dns_hostnames"],
            )?);
        }
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        Some(super::fix_in(
            "Add the missing VPC endpoints".to_owned(),
            path,
            &file.path,
            edits,
            finding.resource.block.start,
        ))
    })
}

/// The model's security groups, when they are all instances.
fn model_groups(target: &Target<'_>, frame: &Frame, net: &Net<'_>) -> Option<Vec<Reference>> {
    let site = crate::network::site(&target.merged, "security_group_ids")?;
    let refs = Net::references(&net.eval(frame, site.expr, &[]))?;
    refs.iter()
        .all(|r| r.kind == "aws_security_group")
        .then_some(refs)
}

enum RegionData {
    Named(String),
    Absent,
    Unsure,
}

/// The module's `data "aws_region"` block, read from the text (data blocks
/// are not part of the facts).
fn region_data(frame: &Frame) -> RegionData {
    for file in &frame.index.files {
        let text = file.text.as_str();
        if !text.contains("aws_region") {
            continue;
        }
        if file.kind != crate::module::FileKind::Hcl {
            return RegionData::Unsure;
        }
        let mut rest = text;
        while let Some(i) = rest.find("\"aws_region\"") {
            let before = rest[..i].trim_end();
            let after = rest[i + "\"aws_region\"".len()..].trim_start();
            if before.ends_with("data")
                && let Some(label) = after.strip_prefix('"')
                && let Some(end) = label.find('"')
            {
                return RegionData::Named(label[..end].to_owned());
            }
            rest = &rest[i + 1..];
        }
        // Named somewhere in a way not understood here.
        if text.contains("data.aws_region") {
            return RegionData::Unsure;
        }
    }
    RegionData::Absent
}

pub(crate) static RULE: super::NetworkRule = super::NetworkRule {
    doc: &DOC,
    site: "subnets",
    check: check_model,
    fix: Some(super::Fixer {
        fix: fix_of,
        all_title: "Add the missing VPC endpoints",
    }),
};
