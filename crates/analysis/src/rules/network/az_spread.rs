//! `sagemaker_subnet_az_spread` (information): every subnet of the model is
//! in the same availability zone (or there is one subnet), so an endpoint
//! cannot spread instances across AZs and an instance type missing from
//! that AZ fails the deployment; or the Interface endpoints of the VPC do
//! not cover the AZs of the model's subnets (`subnet_ids`, or
//! `aws_vpc_endpoint_subnet_association`). AZs come from literals and
//! templates over known values; anything else (`data.aws_availability_zones`
//! indexes) is unknown, and keeps the rule silent.

use std::collections::BTreeSet;

use super::{Cause, is_model, report};
use crate::finding::{Finding, Severity};
use crate::module::Reference;
use crate::network::{Net, Placement, private_dns_interfaces};
use crate::rules::{Context, RuleDoc, Target};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_subnet_az_spread",
    title: "A SageMaker model's subnets span availability zones",
    default_severity: Severity::Information,
    why: "SageMaker places endpoint instances in the model's subnets. Subnets in one AZ leave \
          the endpoint without redundancy and fail the deployment when that AZ lacks capacity \
          for the instance type; Interface endpoints that miss one of the model's AZs leave the \
          instances there without a route to ECR.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

/// The AZs of the subnets an Interface endpoint is placed in, if known.
fn endpoint_zones(
    placement: &Placement<'_>,
    endpoint: &crate::network::Inst<'_>,
) -> Option<BTreeSet<String>> {
    let net = &placement.net;
    let mut subnets: Vec<Reference> = match net.value(endpoint, "subnet_ids") {
        None | Some(crate::eval::Value::Null) => Vec::new(),
        Some(v) => Net::references(&v)?,
    };
    for a in net.all("aws_vpc_endpoint_subnet_association")? {
        match net.reference_of(&a, "vpc_endpoint_id")? {
            Some(r) if r == endpoint.reference => subnets.push(net.reference_of(&a, "subnet_id")??),
            _ => {}
        }
    }
    subnets
        .iter()
        .map(|r| placement.zone(&net.get(r)?))
        .collect()
}

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if !is_model(target) {
        return;
    }
    let Some(placement) = target.placement() else {
        return;
    };
    let mut causes = Vec::new();
    let zones: Option<BTreeSet<String>> = placement
        .subnets
        .iter()
        .map(|s| placement.zone(s))
        .collect();
    let by_id = |z: &String| z.starts_with(crate::network::ZONE_ID);
    if placement.subnets.len() == 1 {
        let s = &placement.subnets[0];
        causes.push(Cause::at(
            s,
            format!(
                "it has one subnet, {}{}",
                s.reference.address(),
                zones
                    .as_ref()
                    .and_then(|z| z.first())
                    .map(|z| format!(" in {}", crate::network::zone_text(z)))
                    .unwrap_or_default()
            ),
            "the model's only subnet",
        ));
    } else if let Some(zones) = &zones
        && zones.len() == 1
    {
        let zone = crate::network::zone_text(&zones.first().cloned().unwrap_or_default());
        for s in &placement.subnets {
            causes.push(Cause::at(s, String::new(), &format!("in {zone}")));
        }
        causes.insert(
            0,
            Cause {
                text: format!(
                    "all {} of its subnets are in {zone}",
                    placement.subnets.len()
                ),
                at: None,
            },
        );
    }
    if let Some(zones) = &zones
        && let Some(vpc) = placement.vpc()
    {
        for endpoint in private_dns_interfaces(&placement.net, &vpc.reference) {
            let Some(covered) = endpoint_zones(placement, &endpoint) else {
                continue;
            };
            // Names and ids of zones cannot be compared.
            if zones.iter().chain(&covered).any(by_id) && !zones.iter().chain(&covered).all(by_id) {
                continue;
            }
            let missing: Vec<&String> = zones.difference(&covered).collect();
            if !missing.is_empty() {
                causes.push(Cause::at(
                    &endpoint,
                    format!(
                        "{} has no subnet in {}",
                        endpoint.reference.address(),
                        missing
                            .iter()
                            .map(|s| crate::network::zone_text(s))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "this Interface endpoint misses an AZ of the model's subnets",
                ));
            }
        }
    }
    let texts: Vec<&str> = causes
        .iter()
        .map(|c| c.text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    if texts.is_empty() {
        return;
    }
    let message = format!(
        "{} is not spread across availability zones: {}",
        target.address(),
        texts.join("; ")
    );
    report(&DOC, target, ctx, &placement.site, message, &causes, out);
}

pub(crate) static RULE: super::NetworkRule = super::NetworkRule {
    doc: &DOC,
    site: "subnets",
    check: check_model,
    fix: None,
};
