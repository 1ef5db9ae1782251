//! The network a model is placed in, as far as the configuration makes it
//! certain: which `aws_subnet`s its `subnets` are, which VPC they belong to,
//! the endpoints, NAT gateways, route tables and security group rules that
//! module declares. The pitfall rules judge these facts.
//!
//! Values are evaluated in reference mode ([`ModuleScope::references`]): a
//! resource of one of [`TYPES`] evaluates to instance objects whose `id` is
//! a reference to the instance, so `aws_subnet.private[*].id`,
//! `[for s in aws_subnet.private : s.id]`, `concat(...)`, locals and a call's
//! arguments all resolve to the instances they name. Anything else — a
//! variable of a root module, a data source, a module's output, an id
//! written as a literal — is unknown, and a rule that needs it stays silent.
//!
//! A model in a called module follows its arguments into the caller (the
//! frames of the call chain); resources are looked up in the frame whose
//! folder declares them.

use std::collections::BTreeSet;
use std::path::Path;

use crate::eval::{self, Value, WithRoots};
use crate::hir::{Attribute, Block, Expr, Span};
use crate::module::{
    FileFacts, Frame, InstanceKey, Merged, ModuleScope, Reference, expand, instance_keys,
    instance_roots, parse_reference,
};

/// The resource types the pitfall rules read.
pub(crate) const TYPES: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_security_group",
    "aws_default_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_endpoint",
    "aws_vpc_endpoint_subnet_association",
    "aws_vpc_endpoint_route_table_association",
    "aws_nat_gateway",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_vpc_dhcp_options_association",
    "aws_ec2_transit_gateway_vpc_attachment",
    "aws_vpc_peering_connection",
];

/// Route targets through which a subnet may reach ECR and S3 other than a
/// NAT gateway of its own VPC or its endpoints (a transit gateway, a
/// peering, an appliance, an Outpost's gateway).
const OTHER_PATHS: &[&str] = &[
    "transit_gateway_id",
    "vpc_peering_connection_id",
    "network_interface_id",
    "nat_gateway_id",
    "core_network_arn",
    "local_gateway_id",
    "carrier_gateway_id",
    "vpc_endpoint_id",
    "instance_id",
];

/// Whether some route or attachment declared in the chain may give the
/// VPC another way out (or whether that is not known): then a missing
/// endpoint is not certainly a problem.
pub(crate) fn may_route_elsewhere(net: &Net<'_>) -> bool {
    for kind in [
        "aws_ec2_transit_gateway_vpc_attachment",
        "aws_vpc_peering_connection",
    ] {
        if net.all(kind).is_none_or(|v| !v.is_empty()) {
            return true;
        }
    }
    let Some(routes) = net.all("aws_route") else {
        return true;
    };
    if routes
        .iter()
        .any(|r| OTHER_PATHS.iter().any(|a| r.attribute(a).is_some()))
    {
        return true;
    }
    let Some(tables) = net.all("aws_route_table") else {
        return true;
    };
    tables.iter().any(|t| {
        t.merged.blocks_of("route").any(|(_, b)| {
            b.kind != "route" || OTHER_PATHS.iter().any(|a| b.body.attribute(a).is_some())
        })
    })
}

/// A three-valued answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Certain {
    Yes,
    No,
    Unknown,
}

/// One resource instance, with what evaluating its arguments needs.
pub(crate) struct Inst<'f> {
    pub reference: Reference,
    pub frame: &'f Frame,
    pub merged: Merged<'f>,
    roots: Vec<(String, Value)>,
}

impl<'f> Inst<'f> {
    /// The file and header of the block (where related information points).
    pub fn declared(&self) -> (&'f FileFacts, Span) {
        let (file, block) = self.merged.base;
        (file, block.header())
    }

    pub fn block(&self) -> (&'f FileFacts, &'f Block) {
        self.merged.base
    }

    pub fn attribute(&self, name: &str) -> Option<(&'f FileFacts, &'f Attribute)> {
        self.merged.attribute(name)
    }

    /// `TYPE.NAME` (without the key): how the configuration refers to it.
    pub fn resource(&self) -> String {
        format!("{}.{}", self.reference.kind, self.reference.name)
    }

    /// Whether the resource has `count` or `for_each`.
    pub fn expanded(&self) -> bool {
        self.reference.key != InstanceKey::None
    }
}

/// The model's frame and its callers, evaluated together.
pub(crate) struct Net<'f> {
    chain: Vec<&'f Frame>,
    scope: ModuleScope<'f>,
}

impl<'f> Net<'f> {
    pub fn new(frame: &'f Frame) -> Self {
        let mut chain = vec![frame];
        let mut at = frame;
        while let Some(call) = &at.call {
            at = &call.parent;
            chain.push(at);
        }
        Self {
            chain,
            scope: ModuleScope::references(frame, TYPES),
        }
    }

    fn frame_of(&self, folder: &Path) -> Option<&'f Frame> {
        self.chain
            .iter()
            .copied()
            .find(|f| f.index.folder == folder)
    }

    /// Evaluates `expr` in `frame` with extra names bound.
    pub fn eval(&self, frame: &Frame, expr: &Expr, roots: &[(String, Value)]) -> Value {
        let scope = self.scope.sibling(frame);
        let with = WithRoots {
            inner: &scope,
            roots: roots.to_vec(),
        };
        eval::eval(expr, &with, 0)
    }

    /// The instances a value names: a reference, or a list of only
    /// references (`None` for anything else).
    pub fn references(value: &Value) -> Option<Vec<Reference>> {
        match value {
            Value::String(s) => parse_reference(s).map(|r| vec![r]),
            Value::List(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => parse_reference(s),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// The instance a reference names.
    pub fn get(&self, reference: &Reference) -> Option<Inst<'f>> {
        let frame = self.frame_of(&reference.folder)?;
        let merged = frame
            .index
            .merged("resource", &[&reference.kind, &reference.name])?;
        let expansion = expand(&merged, &self.scope.sibling(frame), 0)?;
        if !instance_keys(&expansion).contains(&reference.key) {
            return None;
        }
        Some(Inst {
            roots: instance_roots(&expansion, &reference.key),
            reference: reference.clone(),
            frame,
            merged,
        })
    }

    /// Every instance of `kind` declared in the chain's frames, or `None`
    /// when how many there are is not certain.
    pub fn all(&self, kind: &'static str) -> Option<Vec<Inst<'f>>> {
        let mut out = Vec::new();
        for frame in &self.chain {
            for merged in frame.index.resources(kind) {
                let scope = self.scope.sibling(frame);
                let expansion = expand(&merged, &scope, 0)?;
                let name = merged.base.1.label(1).unwrap_or("").to_owned();
                for key in instance_keys(&expansion) {
                    out.push(Inst {
                        roots: instance_roots(&expansion, &key),
                        reference: Reference {
                            folder: frame.index.folder.clone(),
                            kind: kind.to_owned(),
                            name: name.clone(),
                            key,
                        },
                        frame,
                        merged: merged.clone(),
                    });
                }
            }
        }
        Some(out)
    }

    /// The value of an instance's argument (`None`: not written).
    pub fn value(&self, inst: &Inst<'_>, name: &str) -> Option<Value> {
        let (_, attr) = inst.merged.attribute(name)?;
        Some(match &attr.value {
            Some(expr) => self.eval(inst.frame, expr, &inst.roots),
            None => Value::Unknown,
        })
    }

    /// The value of an argument of a nested block of an instance.
    pub fn block_value(&self, inst: &Inst<'_>, block: &Block, name: &str) -> Option<Value> {
        let attr = block.body.attribute(name)?;
        Some(match &attr.value {
            Some(expr) => self.eval(inst.frame, expr, &inst.roots),
            None => Value::Unknown,
        })
    }

    /// The one instance an argument refers to: `Yes(r)` when certain,
    /// `Unknown` when it may be anything, `No` when not written or null.
    pub fn reference_of(&self, inst: &Inst<'_>, name: &str) -> Option<Option<Reference>> {
        match self.value(inst, name) {
            None | Some(Value::Null) => Some(None),
            Some(v) => match Self::references(&v) {
                Some(mut refs) if refs.len() == 1 && matches!(v, Value::String(_)) => {
                    Some(refs.pop())
                }
                _ => None,
            },
        }
    }

    /// A bool argument: `Some(default)` when not written, `None` when
    /// unknown.
    pub fn flag(&self, inst: &Inst<'_>, name: &str, default: bool) -> Option<bool> {
        match self.value(inst, name) {
            None | Some(Value::Null) => Some(default),
            Some(v) => v.to_bool().ok().flatten(),
        }
    }

    /// A string argument, if known.
    pub fn text(&self, inst: &Inst<'_>, name: &str) -> Option<String> {
        match self.value(inst, name)? {
            v if eval::is_reference_text(&v) => None,
            v => v.to_text().ok().flatten(),
        }
    }

    /// Whether a module call in the chain's frames, other than the calls of
    /// the chain itself, receives something that may carry a resource's id
    /// (it could create endpoints, routes or rules for it): then what the
    /// module declares is not all there is.
    pub fn opaque_calls(&self) -> Option<(&'f FileFacts, Span)> {
        for (i, frame) in self.chain.iter().enumerate() {
            // The call this frame makes into the chain (toward the model).
            let chain_call = i
                .checked_sub(1)
                .and_then(|j| self.chain[j].call.as_ref())
                .map(|c| c.name.as_str());
            for call in frame.index.all_merged("module") {
                let name = call.base.1.label(0).unwrap_or("");
                if Some(name) == chain_call {
                    continue;
                }
                for (_, attr) in &call.attributes {
                    if matches!(attr.name.as_str(), "source" | "version" | "providers") {
                        continue;
                    }
                    let Some(expr) = &attr.value else { continue };
                    let value = self.eval(frame, expr, &[]);
                    let carries = contains_reference(&value)
                        || (!value.is_wholly_known()
                            && expr.references().iter().any(|(root, _)| {
                                matches!(root.as_str(), "var" | "local" | "module")
                                    || TYPES.contains(&root.as_str())
                            }));
                    if carries {
                        let (file, block) = call.base;
                        return Some((file, block.header()));
                    }
                }
            }
        }
        None
    }
}

/// Does a value hold a resource reference anywhere?
pub(crate) fn contains_reference(value: &Value) -> bool {
    match value {
        Value::String(_) => eval::is_reference_text(value),
        Value::List(items) => items.iter().any(contains_reference),
        Value::Map(items) => items.values().any(contains_reference),
        _ => false,
    }
}

/// The `vpc_config` argument of a model that the pitfall rules start from:
/// the one static block's `name`, with the file it is in.
pub(crate) struct Site<'f> {
    pub file: &'f FileFacts,
    pub attribute: &'f Attribute,
    pub expr: &'f Expr,
}

/// The model's single static `vpc_config` argument `name` (a `dynamic`
/// block or several blocks: nothing is certain).
pub(crate) fn site<'f>(merged: &Merged<'f>, name: &str) -> Option<Site<'f>> {
    let blocks: Vec<_> = merged.blocks_of("vpc_config").collect();
    let [(file, block)] = blocks.as_slice() else {
        return None;
    };
    if block.kind != "vpc_config" {
        return None;
    }
    let attribute = block.body.attribute(name)?;
    Some(Site {
        file,
        attribute,
        expr: attribute.value.as_ref()?,
    })
}

/// What a model's subnets certainly are.
pub(crate) struct Placement<'f> {
    pub net: Net<'f>,
    pub subnets: Vec<Inst<'f>>,
    pub site: Site<'f>,
}

/// The model's subnets, when every one of them is an `aws_subnet` instance
/// declared in the chain.
pub(crate) fn placement<'f>(merged: &Merged<'f>, frame: &'f Frame) -> Option<Placement<'f>> {
    #[cfg(test)]
    tests::PLACEMENTS.with(|n| n.set(n.get() + 1));
    if crate::module::never_instantiated(frame, merged) {
        return None;
    }
    let site = site(merged, "subnets")?;
    let net = Net::new(frame);
    let value = net.eval(frame, site.expr, &[]);
    let refs = Net::references(&value)?;
    if refs.is_empty() || refs.iter().any(|r| r.kind != "aws_subnet") {
        return None;
    }
    let mut seen = BTreeSet::new();
    let mut subnets = Vec::new();
    for r in refs {
        if seen.insert(r.clone()) {
            subnets.push(net.get(&r)?);
        }
    }
    Some(Placement { net, subnets, site })
}

impl<'f> Placement<'f> {
    /// The one VPC every subnet certainly belongs to.
    pub fn vpc(&self) -> Option<Inst<'f>> {
        let mut vpc: Option<Reference> = None;
        for subnet in &self.subnets {
            let r = self.net.reference_of(subnet, "vpc_id")??;
            if r.kind != "aws_vpc" || vpc.as_ref().is_some_and(|v| *v != r) {
                return None;
            }
            vpc = Some(r);
        }
        self.net.get(&vpc?)
    }

    /// The availability zone of a subnet, when known: its name
    /// (`availability_zone`), or `id:` and its id (`availability_zone_id`).
    /// A name and an id cannot be compared.
    pub fn zone(&self, subnet: &Inst<'_>) -> Option<String> {
        self.net.text(subnet, "availability_zone").or_else(|| {
            self.net
                .text(subnet, "availability_zone_id")
                .map(|id| format!("{ZONE_ID}{id}"))
        })
    }
}

/// Marks a zone given by id (see [`Placement::zone`]).
pub(crate) const ZONE_ID: &str = "id:";

/// A zone for messages.
pub(crate) fn zone_text(zone: &str) -> String {
    match zone.strip_prefix(ZONE_ID) {
        Some(id) => format!("zone id {id}"),
        None => zone.to_owned(),
    }
}

/// What kind of service a VPC endpoint is for, from its `service_name`:
/// the known value, or the literal end of a template
/// (`"com.amazonaws.${var.region}.s3"`).
pub(crate) fn service_suffix(net: &Net<'_>, inst: &Inst<'_>) -> Option<String> {
    if let Some(text) = net.text(inst, "service_name") {
        return Some(text);
    }
    let (_, attr) = inst.attribute("service_name")?;
    match &attr.value.as_ref()?.kind {
        crate::hir::ExprKind::Template(parts) => match parts.last()? {
            crate::hir::TemplatePart::Literal(s) if s.starts_with('.') => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The services the control's documentation names, by the end of their
/// service name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    S3,
    EcrApi,
    EcrDkr,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::S3, Service::EcrApi, Service::EcrDkr];

    pub fn suffix(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::EcrApi => "ecr.api",
            Service::EcrDkr => "ecr.dkr",
        }
    }

    /// The endpoint type it needs.
    pub fn gateway(self) -> bool {
        self == Service::S3
    }

    /// Does a service name (or its known end) name this service? `None`
    /// when the end is too short to tell.
    pub fn matches(self, name: &str) -> bool {
        name.ends_with(&format!(".{}", self.suffix()))
    }

    /// The resource name a fix gives the endpoint.
    pub fn resource_name(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::EcrApi => "ecr_api",
            Service::EcrDkr => "ecr_dkr",
        }
    }
}

/// An endpoint's type (`vpc_endpoint_type`, Gateway when not written).
pub(crate) fn endpoint_type(net: &Net<'_>, inst: &Inst<'_>) -> Option<String> {
    match net.value(inst, "vpc_endpoint_type") {
        None | Some(Value::Null) => Some("Gateway".to_owned()),
        Some(_) => net.text(inst, "vpc_endpoint_type"),
    }
}

/// Interface endpoints of `vpc` that certainly have private DNS on.
pub(crate) fn private_dns_interfaces<'f>(net: &Net<'f>, vpc: &Reference) -> Vec<Inst<'f>> {
    let Some(endpoints) = net.all("aws_vpc_endpoint") else {
        return Vec::new();
    };
    endpoints
        .into_iter()
        .filter(|e| {
            net.reference_of(e, "vpc_id") == Some(Some(vpc.clone()))
                && endpoint_type(net, e).as_deref() == Some("Interface")
                && net.flag(e, "private_dns_enabled", false) == Some(true)
        })
        .collect()
}

/// One thing the pitfall rules read of a network resource instance, as the
/// checker knows it: `value` is `None` when it is not known statically.
/// For the differential tests against `terraform plan`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// `module.a.TYPE.NAME[KEY]`, as `terraform plan` addresses instances.
    pub address: String,
    /// An argument, or a derived fact: `service` (which of `s3`, `ecr.api`,
    /// `ecr.dkr` a service name ends with, else `other`), `allows_443`.
    pub attribute: &'static str,
    pub value: Option<serde_json::Value>,
}

fn json_of(value: &Value) -> Option<serde_json::Value> {
    match value {
        Value::String(s) if !s.contains(eval::REF_MARK) => Some(serde_json::json!(s)),
        Value::Bool(b) => Some(serde_json::json!(b)),
        Value::Number(n) => serde_json::Number::from_f64(*n).map(serde_json::Value::Number),
        _ => None,
    }
}

/// Which of the services a service name (or its known end) is.
pub(crate) fn classify(name: &str) -> &'static str {
    Service::ALL
        .iter()
        .find(|s| s.matches(name))
        .map_or("other", |s| s.suffix())
}

/// The facts of every network resource instance declared in `frame`'s
/// folder (instances whose number is not certain are left out).
pub fn facts(frame: &Frame) -> Vec<Fact> {
    let net = Net::new(frame);
    let prefix = frame
        .call_path()
        .map(|p| format!("{p}."))
        .unwrap_or_default();
    let mut out = Vec::new();
    for kind in TYPES {
        let Some(instances) = net.all(kind) else {
            continue;
        };
        for inst in instances.iter().filter(|i| std::ptr::eq(i.frame, frame)) {
            let address = format!("{prefix}{}", inst.reference.address());
            let mut push = |attribute: &'static str, value: Option<serde_json::Value>| {
                out.push(Fact {
                    address: address.clone(),
                    attribute,
                    value,
                });
            };
            let value = |name: &str| net.value(inst, name).as_ref().and_then(json_of);
            let flag = |name: &str, default: bool| {
                net.flag(inst, name, default).map(serde_json::Value::Bool)
            };
            push("exists", Some(serde_json::Value::Bool(true)));
            match *kind {
                "aws_vpc" => {
                    push("enable_dns_support", flag("enable_dns_support", true));
                    push("enable_dns_hostnames", flag("enable_dns_hostnames", false));
                }
                "aws_subnet" => {
                    push("availability_zone", value("availability_zone"));
                    push(
                        "map_public_ip_on_launch",
                        flag("map_public_ip_on_launch", false),
                    );
                }
                "aws_vpc_endpoint" => {
                    push(
                        "vpc_endpoint_type",
                        endpoint_type(&net, inst).map(serde_json::Value::String),
                    );
                    push("private_dns_enabled", flag("private_dns_enabled", false));
                    push(
                        "service",
                        service_suffix(&net, inst).map(|s| serde_json::json!(classify(&s))),
                    );
                }
                "aws_security_group_rule" => {
                    push("type", value("type"));
                    // As the provider stores it: `6` is `tcp`, `all` is `-1`.
                    let protocol = value("protocol").map(|p| match p.as_str() {
                        Some("6") => serde_json::json!("tcp"),
                        Some("17") => serde_json::json!("udp"),
                        Some("1") => serde_json::json!("icmp"),
                        Some("all") => serde_json::json!("-1"),
                        _ => p,
                    });
                    push("protocol", protocol);
                    push("from_port", value("from_port"));
                    push("to_port", value("to_port"));
                }
                "aws_vpc_security_group_egress_rule" => {
                    push("ip_protocol", value("ip_protocol"));
                    push("from_port", value("from_port"));
                    push("to_port", value("to_port"));
                }
                "aws_route" => {
                    push("destination_cidr_block", value("destination_cidr_block"));
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::hcl::parse_expression;
    use crate::module::{FileFacts, FileKind, ModuleIndex};
    use std::path::PathBuf;
    use std::sync::Arc;

    thread_local! {
        /// How many times this thread evaluated a model's placement.
        pub(super) static PLACEMENTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// The rules that read a model's subnets (availability zones, public
    /// subnets, endpoints, DNS) share one evaluation of them.
    #[test]
    fn the_rules_of_a_model_evaluate_its_placement_once() {
        let text = r#"
resource "aws_vpc" "v" {}
resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.v.id
  availability_zone = "eu-west-1a"
}
resource "aws_sagemaker_model" "m" {
  vpc_config {
    subnets            = [aws_subnet.a.id]
    security_group_ids = ["sg-1"]
  }
}
"#;
        let facts = Arc::new(FileFacts::extract(
            std::path::Path::new("main.tf"),
            FileKind::Hcl,
            Arc::new(text.to_owned()),
            None,
        ));
        let frame = Arc::new(Frame::root(Arc::new(ModuleIndex::new(
            PathBuf::from("."),
            vec![Arc::clone(&facts)],
        ))));
        let model = facts
            .blocks
            .iter()
            .find(|b| b.resource_address() == Some(("aws_sagemaker_model", "m")))
            .unwrap();
        PLACEMENTS.with(|n| n.set(0));
        let findings = crate::analyze_block(
            std::path::Path::new("main.tf"),
            model,
            &[frame],
            &crate::Options::default(),
        );
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "sagemaker_subnet_az_spread"),
            "{findings:?}"
        );
        assert_eq!(PLACEMENTS.with(|n| n.get()), 1);
    }

    const MODULE: &str = r#"
variable "ids" {
  default = ["subnet-1"]
}
variable "n" {
  default = 2
}
locals {
  more = [aws_subnet.p[1].id]
}
resource "aws_subnet" "a" {
  vpc_id = aws_vpc.v.id
}
resource "aws_subnet" "p" {
  count = 2
}
resource "aws_subnet" "m" {
  for_each = { x = "eu-west-1a", y = "eu-west-1b" }
}
resource "aws_subnet" "v" {
  count = var.n
}
resource "aws_vpc" "v" {}
"#;

    fn resolve(expr: &str) -> Option<Vec<String>> {
        let facts = Arc::new(FileFacts::extract(
            std::path::Path::new("main.tf"),
            FileKind::Hcl,
            Arc::new(MODULE.to_owned()),
            None,
        ));
        let frame = Frame::root(Arc::new(ModuleIndex::new(PathBuf::from("."), vec![facts])));
        let net = Net::new(&frame);
        let value = net.eval(&frame, &parse_expression(expr), &[]);
        Net::references(&value).map(|refs| refs.iter().map(Reference::address).collect())
    }

    #[test]
    fn references_follow_instances_through_expressions() {
        let a = Some(vec!["aws_subnet.a".to_owned()]);
        assert_eq!(resolve("[aws_subnet.a.id]"), a);
        assert_eq!(resolve("aws_subnet.a.id"), a);
        assert_eq!(resolve("tolist([tostring(aws_subnet.a.id)])"), a);
        assert_eq!(
            resolve("aws_subnet.p[*].id"),
            Some(vec![
                "aws_subnet.p[0]".to_owned(),
                "aws_subnet.p[1]".to_owned()
            ])
        );
        let m = Some(vec![
            "aws_subnet.m[\"x\"]".to_owned(),
            "aws_subnet.m[\"y\"]".to_owned(),
        ]);
        assert_eq!(resolve("values(aws_subnet.m)[*].id"), m);
        assert_eq!(resolve("[for s in aws_subnet.m : s.id]"), m);
        assert_eq!(
            resolve("concat([aws_subnet.a.id], local.more)"),
            Some(vec![
                "aws_subnet.a".to_owned(),
                "aws_subnet.p[1]".to_owned()
            ])
        );
        assert_eq!(resolve("distinct([aws_subnet.a.id, aws_subnet.a.id])"), a);
        assert_eq!(
            resolve("split(\",\", join(\",\", [aws_subnet.a.id, aws_subnet.p[0].id]))"),
            Some(vec![
                "aws_subnet.a".to_owned(),
                "aws_subnet.p[0]".to_owned()
            ])
        );
    }

    #[test]
    fn what_an_id_cannot_tell_stays_unknown() {
        // Another attribute of an instance is unknown, not an error.
        assert_eq!(resolve("[try(aws_subnet.a.arn, \"x\")]"), None);
        // An id's text and its comparison with a literal are not known.
        assert_eq!(
            resolve("aws_subnet.a.id == \"s\" ? [aws_subnet.a.id] : []"),
            None
        );
        assert_eq!(
            resolve("length(aws_subnet.a.id) > 3 ? [aws_subnet.a.id] : []"),
            None
        );
        assert_eq!(resolve("[upper(aws_subnet.a.id)]"), None);
        assert_eq!(resolve("sort([aws_subnet.a.id, aws_subnet.p[0].id])"), None);
        // The same instance is itself.
        assert_eq!(
            resolve("aws_subnet.a.id == aws_subnet.a.id ? [aws_subnet.a.id] : []"),
            Some(vec!["aws_subnet.a".to_owned()])
        );
        // A root variable, a literal id, a count from a root variable, a
        // resource that is not declared, a data source: not references.
        assert_eq!(resolve("var.ids"), None);
        assert_eq!(resolve("[\"subnet-1\", aws_subnet.a.id]"), None);
        assert_eq!(resolve("aws_subnet.v[*].id"), None);
        assert_eq!(resolve("[aws_subnet.nope.id]"), None);
        assert_eq!(resolve("[data.aws_subnet.x.id]"), None);
    }
}
