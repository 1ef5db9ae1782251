//! `sagemaker_public_subnet`: a subnet of the model is public — it sets
//! `map_public_ip_on_launch = true`, or its route table (through
//! `aws_route_table_association`) routes `0.0.0.0/0` or `::/0` to an
//! `aws_internet_gateway` (an inline `route` or an `aws_route`). The
//! control's documentation asks for private subnets, so the inference
//! containers get no public IP and no path from the internet.
//!
//! Only what is certainly public is reported: an association or a route
//! whose values are not known is passed over.

use super::{Cause, is_model, report};
use crate::eval::Value;
use crate::finding::{Finding, Severity};
use crate::network::{Inst, Net};
use crate::rules::{Context, RuleDoc, Target};

pub(crate) static DOC: RuleDoc = RuleDoc {
    id: "sagemaker_public_subnet",
    title: "A SageMaker model's subnets are private",
    default_severity: Severity::Warning,
    why: "A model belongs in private subnets: a subnet that maps public IPs on launch, or whose \
          route table sends 0.0.0.0/0 or ::/0 to an internet gateway, gives the inference \
          containers a path to and from the internet, which the VPC placement is meant to \
          remove.",
    aws_config: None,
    powerpipe: None,
    prowler: None,
    docs_url: "https://compliance.tf/docs/controls/aws/sagemaker_model_in_vpc",
    opt_in: false,
};

fn is_default_route(v: Option<Value>) -> bool {
    matches!(v, Some(Value::String(s)) if s == "0.0.0.0/0" || s == "::/0")
}

fn to_internet_gateway(v: Option<Value>) -> bool {
    v.and_then(|v| Net::references(&v))
        .is_some_and(|r| r.len() == 1 && r[0].kind == "aws_internet_gateway")
}

/// The route of `table` that certainly sends a default route to an
/// internet gateway, if any (its description).
fn internet_route(net: &Net<'_>, table: &Inst<'_>) -> Option<String> {
    for (_, block) in table.merged.blocks_of("route") {
        if block.kind != "route" {
            continue;
        }
        let v = |n: &str| net.block_value(table, block, n);
        if (is_default_route(v("cidr_block")) || is_default_route(v("ipv6_cidr_block")))
            && to_internet_gateway(v("gateway_id"))
        {
            return Some(format!(
                "{} routes the internet to an internet gateway",
                table.reference.address()
            ));
        }
    }
    for route in net.all("aws_route").unwrap_or_default() {
        if net.reference_of(&route, "route_table_id") != Some(Some(table.reference.clone())) {
            continue;
        }
        let v = |n: &str| net.value(&route, n);
        if (is_default_route(v("destination_cidr_block"))
            || is_default_route(v("destination_ipv6_cidr_block")))
            && to_internet_gateway(v("gateway_id"))
        {
            return Some(format!(
                "{} routes the internet to an internet gateway through {}",
                table.reference.address(),
                route.reference.address()
            ));
        }
    }
    None
}

fn check_model(target: &Target<'_>, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if !is_model(target) {
        return;
    }
    let Some(placement) = target.placement() else {
        return;
    };
    let net = &placement.net;
    let associations = net.all("aws_route_table_association").unwrap_or_default();
    let mut causes = Vec::new();
    for subnet in &placement.subnets {
        let address = subnet.reference.address();
        if net.flag(subnet, "map_public_ip_on_launch", false) == Some(true) {
            causes.push(Cause::at(
                subnet,
                format!("{address} sets map_public_ip_on_launch = true"),
                "gives instances public IPs",
            ));
        }
        for a in &associations {
            if net.reference_of(a, "subnet_id") != Some(Some(subnet.reference.clone())) {
                continue;
            }
            let Some(Some(table)) = net.reference_of(a, "route_table_id") else {
                continue;
            };
            let Some(table) = net
                .get(&table)
                .filter(|t| t.reference.kind == "aws_route_table")
            else {
                continue;
            };
            if let Some(route) = internet_route(net, &table) {
                causes.push(Cause::at(
                    &table,
                    format!(
                        "{address} is associated with {}, and {route}",
                        table.reference.address()
                    ),
                    "routes 0.0.0.0/0 or ::/0 to an internet gateway",
                ));
            }
        }
    }
    if causes.is_empty() {
        return;
    }
    let texts: Vec<&str> = causes.iter().map(|c| c.text.as_str()).collect();
    let message = format!(
        "{} is placed in a public subnet, so its containers can get a public IP and a route to \
         the internet: {}",
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
