//! Terraform itself as the judge, offline: `terraform plan` says what a
//! module really makes of each `aws_sagemaker_model` instance, `terraform
//! validate` whether a fixed file is still valid configuration.
//!
//! Needs `terraform` on the PATH (or `TERRAFORM`) and the `hashicorp/aws`
//! provider in a filesystem mirror (`/opt/tf-plugins`, or `TF_PLUGIN_MIRROR`).
//! [`Terraform::detect`] says what is missing; callers skip loudly then.
//! The provider (700 MB) is installed once per run into a template folder
//! whose `providers` every case links to, so a case costs one `terraform
//! get` (modules only) and one plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub const PROVIDER: &str = r#"provider "aws" {
  region                      = "us-east-1"
  access_key                  = "AKIAXXXXXXXXXXXXXXXX"
  secret_key                  = "x"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"#;

pub struct Terraform {
    bin: PathBuf,
    /// Holds the CLI config, the plugin cache and the template.
    home: tempfile::TempDir,
}

/// What a plan says of one model instance's `vpc_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// A `vpc_config` with at least one non-empty subnet and security group.
    Compliant,
    /// No `vpc_config`, or an empty (or blank-only) `subnets` or
    /// `security_group_ids`.
    NonCompliant,
    /// Not known until apply.
    Unknown,
}

/// One planned model instance.
#[derive(Debug, Clone)]
pub struct Instance {
    /// `module.a.module.b` (instance keys dropped), or `""` for the root.
    pub module: String,
    /// `aws_sagemaker_model.NAME`.
    pub resource: String,
    /// The full address, with instance keys.
    pub address: String,
    pub planned: Planned,
}

/// `module.a[0].module.b["x"].aws_sagemaker_model.m[1]` →
/// (`module.a.module.b`, `aws_sagemaker_model.m`).
fn split_address(address: &str) -> (String, String) {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    parts.push(current);
    let resource = parts[parts.len() - 2..].join(".");
    let module = parts[..parts.len() - 2].join(".");
    (module, resource)
}

fn blank(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

/// The verdict of one `vpc_config` value from `after` / `after_unknown`.
fn judge(after: &Value, unknown: &Value) -> Planned {
    if unknown == &Value::Bool(true) {
        return Planned::Unknown;
    }
    let blocks = match after {
        Value::Array(blocks) => blocks,
        Value::Null => return Planned::NonCompliant,
        _ => return Planned::Unknown,
    };
    let Some(block) = blocks.first() else {
        return Planned::NonCompliant;
    };
    let unknown_block = unknown.get(0);
    let mut verdict = Planned::Compliant;
    for key in ["subnets", "security_group_ids"] {
        let u = unknown_block.and_then(|b| b.get(key));
        if u == Some(&Value::Bool(true)) {
            if verdict == Planned::Compliant {
                verdict = Planned::Unknown;
            }
            continue;
        }
        let items = block.get(key).and_then(Value::as_array);
        let unknown_items: Vec<bool> = u
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| x == &Value::Bool(true)).collect())
            .unwrap_or_default();
        let any_id = items.is_some_and(|items| {
            items
                .iter()
                .enumerate()
                .any(|(i, x)| !blank(x) || unknown_items.get(i) == Some(&true))
        });
        if !any_id {
            return Planned::NonCompliant;
        }
    }
    verdict
}

impl Terraform {
    /// Terraform and the provider mirror, or why they cannot be used.
    pub fn detect() -> Result<Self, String> {
        let bin = std::env::var_os("TERRAFORM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("terraform"));
        let version = Command::new(&bin).arg("version").output();
        if !version.is_ok_and(|o| o.status.success()) {
            return Err(format!("`{}` is not installed", bin.display()));
        }
        let mirror = std::env::var_os("TF_PLUGIN_MIRROR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"));
        if !mirror.join("registry.terraform.io/hashicorp/aws").is_dir() {
            return Err(format!(
                "the hashicorp/aws provider mirror {} is missing",
                mirror.display()
            ));
        }
        let home = tempfile::tempdir().map_err(|e| e.to_string())?;
        let cache = home.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(
            home.path().join("cli.tfrc"),
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\nplugin_cache_dir = \"{}\"\n",
                mirror.display(),
                cache.display()
            ),
        )
        .unwrap();
        let tf = Self { bin, home };
        // The template: init once, every case links to its providers.
        let template = tf.home.path().join("template");
        std::fs::create_dir_all(&template).unwrap();
        std::fs::write(template.join("provider.tf"), PROVIDER).unwrap();
        let out = tf.run(&template, &["init", "-backend=false", "-input=false"]);
        if !out.0 {
            return Err(format!("terraform init failed offline: {}", out.1));
        }
        Ok(tf)
    }

    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", self.home.path().join("cli.tfrc"))
            .env("TF_DATA_DIR", dir.join(".tfdata"))
            .env("TF_IN_AUTOMATION", "1")
            .env("NO_COLOR", "1")
            .env("CHECKPOINT_DISABLE", "1");
        cmd
    }

    /// Runs terraform in `dir`: (success, stdout + stderr).
    fn run(&self, dir: &Path, args: &[&str]) -> (bool, String) {
        match self.command(dir, args).arg("-no-color").output() {
            Ok(out) => (
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ),
            Err(e) => (false, e.to_string()),
        }
    }

    /// Makes `dir` (a root module) ready to plan: a provider block, the
    /// template's lock file and providers, its modules installed.
    fn prepare(&self, dir: &Path) -> Result<(), String> {
        let template = self.home.path().join("template");
        std::fs::write(dir.join("zz_oracle_provider.tf"), PROVIDER).map_err(|e| e.to_string())?;
        std::fs::copy(
            template.join(".terraform.lock.hcl"),
            dir.join(".terraform.lock.hcl"),
        )
        .map_err(|e| e.to_string())?;
        let data = dir.join(".tfdata");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let link = data.join("providers");
        if !link.exists() {
            std::os::unix::fs::symlink(template.join(".tfdata/providers"), &link)
                .map_err(|e| e.to_string())?;
        }
        let (ok, out) = self.run(dir, &["get"]);
        if ok { Ok(()) } else { Err(out) }
    }

    /// `terraform validate` in `dir` (a module on its own).
    pub fn validate(&self, dir: &Path) -> Result<(), String> {
        self.prepare(dir)?;
        let (ok, out) = self.run(dir, &["validate"]);
        if ok { Ok(()) } else { Err(out) }
    }

    /// The number of errors `terraform validate` finds in `dir`, and their
    /// text.
    pub fn validation_errors(&self, dir: &Path) -> Result<(usize, String), String> {
        self.prepare(dir)?;
        let out = self
            .command(dir, &["validate", "-json"])
            .output()
            .map_err(|e| e.to_string())?;
        let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        let count = json["error_count"].as_u64().unwrap_or(0) as usize;
        let text = json["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["severity"] == "error")
            .map(|d| format!("{}: {}", d["summary"], d["detail"]))
            .collect::<Vec<_>>()
            .join("\n");
        Ok((count, text))
    }

    /// Plans `dir` against the state in it (`terraform.tfstate`); the
    /// actions planned per resource address.
    pub fn plan_actions(&self, dir: &Path) -> Result<Vec<(String, Vec<String>)>, String> {
        self.prepare(dir)?;
        let (ok, out) = self.run(
            dir,
            &[
                "plan",
                "-input=false",
                "-refresh=false",
                "-lock=false",
                "-out=oracle.plan",
            ],
        );
        if !ok {
            return Err(out);
        }
        let shown = self
            .command(dir, &["show", "-json", "oracle.plan"])
            .output()
            .map_err(|e| e.to_string())?;
        let plan: Value = serde_json::from_slice(&shown.stdout).map_err(|e| e.to_string())?;
        Ok(plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|rc| {
                (
                    rc["address"].as_str().unwrap_or_default().to_owned(),
                    rc["change"]["actions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect(),
                )
            })
            .collect())
    }

    /// Plans `dir` (a root module) offline; the plan as `terraform show
    /// -json` prints it.
    pub fn plan_json(&self, dir: &Path) -> Result<Value, String> {
        self.prepare(dir)?;
        let (ok, out) = self.run(
            dir,
            &[
                "plan",
                "-input=false",
                "-refresh=false",
                "-lock=false",
                "-out=oracle.plan",
            ],
        );
        if !ok {
            return Err(out);
        }
        let shown = self
            .command(dir, &["show", "-json", "oracle.plan"])
            .output()
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&shown.stdout).map_err(|e| e.to_string())
    }

    /// Plans `dir` (a root module) offline; the model instances it plans.
    pub fn plan(&self, dir: &Path) -> Result<Vec<Instance>, String> {
        let plan = self.plan_json(dir)?;
        let mut out = Vec::new();
        for rc in plan["resource_changes"].as_array().into_iter().flatten() {
            if rc["type"] != "aws_sagemaker_model" || rc["mode"] != "managed" {
                continue;
            }
            let address = rc["address"].as_str().unwrap_or_default().to_owned();
            let (module, resource) = split_address(&address);
            let after = &rc["change"]["after"]["vpc_config"];
            let unknown = &rc["change"]["after_unknown"]["vpc_config"];
            out.push(Instance {
                module,
                resource,
                address,
                planned: judge(after, unknown),
            });
        }
        Ok(out)
    }
}

/// Makes every model plannable without changing what the control reads:
/// each model block without an `execution_role_arn` (which the provider
/// requires, and which an override file cannot supply) gets one.
pub fn add_required_arguments(root: &Path) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let Some(kind) = svl_analysis::module::FileKind::of(&p) else {
                continue;
            };
            if !kind.is_config() || svl_analysis::module::is_override(&p) {
                continue;
            }
            let Ok(source) =
                svl_project::Source::read(&p, kind, None, svl_project::read::Depth::Fixes)
            else {
                continue;
            };
            let mut inserts: Vec<(usize, String)> = Vec::new();
            for b in &source.facts(&p).blocks {
                if b.resource_address().map(|(t, _)| t) != Some("aws_sagemaker_model")
                    || b.body.attribute("execution_role_arn").is_some()
                {
                    continue;
                }
                let arn = "arn:aws:iam::123456789012:role/oracle";
                match (b.json, b.braces) {
                    (false, Some((open, _))) => {
                        inserts.push((open, format!("\n  execution_role_arn = \"{arn}\"\n")))
                    }
                    (true, _) => {
                        // After the `{` of the resource's object.
                        let at = source.text[b.span.clone()]
                            .find('{')
                            .map(|i| b.span.start + i + 1);
                        if let Some(at) = at {
                            let comma = if source.text[at..].trim_start().starts_with('}') {
                                ""
                            } else {
                                ","
                            };
                            inserts.push((at, format!("\"execution_role_arn\": \"{arn}\"{comma}")));
                        }
                    }
                    _ => {}
                }
            }
            if inserts.is_empty() {
                continue;
            }
            let mut text = source.text.as_str().to_owned();
            inserts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
            for (at, insert) in inserts {
                text.insert_str(at, &insert);
            }
            std::fs::write(&p, text).unwrap();
        }
    }
}

/// Copies the folder `from` (recursively, without `.terraform` or
/// `.tfdata`) to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".terraform" || name == ".tfdata" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Instances grouped by (module path, resource address).
pub fn by_resource(instances: &[Instance]) -> BTreeMap<(String, String), Vec<&Instance>> {
    let mut out: BTreeMap<(String, String), Vec<&Instance>> = BTreeMap::new();
    for i in instances {
        out.entry((i.module.clone(), i.resource.clone()))
            .or_default()
            .push(i);
    }
    out
}

/// The chain a served model sits in, and the state it was applied with.
#[allow(dead_code)]
pub fn served_chain(
    fixed_model: bool,
    fixed_config: bool,
    vpc: bool,
) -> (String, serde_json::Value) {
    let model_name = if fixed_model {
        "my-model"
    } else {
        "terraform-20260101000000000000000001"
    };
    let config_name = if fixed_config {
        "my-config"
    } else {
        "terraform-20260101000000000000000002"
    };
    let name = if fixed_model {
        "  name = \"my-model\"\n"
    } else {
        ""
    };
    let cname = if fixed_config {
        "  name = \"my-config\"\n"
    } else {
        ""
    };
    let vpc_block = if vpc {
        "  vpc_config {\n    subnets            = [\"subnet-1\"]\n    security_group_ids = [\"sg-1\"]\n  }\n"
    } else {
        ""
    };
    let config = format!(
        "resource \"aws_sagemaker_model\" \"m\" {{\n{name}  execution_role_arn = \"arn:aws:iam::123456789012:role/x\"\n  primary_container {{\n    image = \"1.dkr.ecr.us-east-1.amazonaws.com/x:1\"\n  }}\n{vpc_block}}}\n\
         resource \"aws_sagemaker_endpoint_configuration\" \"c\" {{\n{cname}  production_variants {{\n    model_name             = aws_sagemaker_model.m.name\n    variant_name           = \"v\"\n    initial_instance_count = 1\n    instance_type          = \"ml.t2.medium\"\n    initial_variant_weight = 1\n  }}\n}}\n\
         resource \"aws_sagemaker_endpoint\" \"e\" {{\n  name                 = \"e\"\n  endpoint_config_name = aws_sagemaker_endpoint_configuration.c.name\n}}\n"
    );
    let provider = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    let resource = |t: &str, n: &str, attrs: serde_json::Value| {
        serde_json::json!({"mode": "managed", "type": t, "name": n, "provider": provider,
            "instances": [{"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}]})
    };
    let state = serde_json::json!({
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000", "outputs": {},
        "resources": [
            resource("aws_sagemaker_model", "m", serde_json::json!({
                "arn": format!("arn:aws:sagemaker:us-east-1:123456789012:model/{model_name}"),
                "id": model_name, "name": model_name,
                "execution_role_arn": "arn:aws:iam::123456789012:role/x",
                "enable_network_isolation": false, "tags": null, "tags_all": {},
                "container": [], "inference_execution_config": [], "vpc_config": [],
                "primary_container": [{"image": "1.dkr.ecr.us-east-1.amazonaws.com/x:1", "mode": "SingleModel",
                    "container_hostname": "", "environment": null, "image_config": [],
                    "inference_specification_name": "", "model_data_source": [], "model_data_url": "",
                    "model_package_name": "", "multi_model_config": []}]})),
            resource("aws_sagemaker_endpoint_configuration", "c", serde_json::json!({
                "arn": format!("arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{config_name}"),
                "id": config_name, "name": config_name,
                "name_prefix": if fixed_config { "" } else { "terraform-" },
                "kms_key_arn": "", "tags": null, "tags_all": {}, "async_inference_config": [],
                "data_capture_config": [], "shadow_production_variants": [],
                "production_variants": [{"model_name": model_name, "variant_name": "v",
                    "initial_instance_count": 1, "instance_type": "ml.t2.medium",
                    "initial_variant_weight": 1, "accelerator_type": "",
                    "container_startup_health_check_timeout_in_seconds": 0, "core_dump_config": [],
                    "enable_ssm_access": false, "inference_ami_version": "",
                    "managed_instance_scaling": [], "model_data_download_timeout_in_seconds": 0,
                    "routing_config": [], "serverless_config": [], "volume_size_in_gb": 0}]})),
            resource("aws_sagemaker_endpoint", "e", serde_json::json!({
                "arn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e", "id": "e", "name": "e",
                "endpoint_config_name": config_name, "tags": null, "tags_all": {},
                "deployment_config": []})),
        ]
    });
    (config, state)
}

#[cfg(test)]
mod tests {
    // No `use super::*`: the benchmark includes this file too, with `cfg(test)`
    // set but `#[test]` functions compiled out.
    #[test]
    fn addresses_split_into_module_and_resource() {
        assert_eq!(
            super::split_address("module.a[0].module.b[\"x.y\"].aws_sagemaker_model.m[1]"),
            (
                "module.a.module.b".to_owned(),
                "aws_sagemaker_model.m".to_owned()
            )
        );
        assert_eq!(
            super::split_address("aws_sagemaker_model.m"),
            (String::new(), "aws_sagemaker_model.m".to_owned())
        );
    }
}
