//! The server's settings, from `initializationOptions`,
//! `workspace/didChangeConfiguration` or a `workspace/configuration` pull.
//!
//! Accepted shapes: the settings object itself (`{"severity": "error"}`), or
//! the object under the section name `sagemakerVpcLsp` (what VS Code sends)
//! or `sagemaker-vpc-lsp`. Unknown keys are ignored (editors send their own,
//! such as `trace`); a known key with a bad value keeps its default and is
//! named in one error message.
//!
//! ```json
//! {"enable": true, "severity": "warning", "scope": "workspace",
//!  "rules": {"sagemaker_model_in_vpc": {"enable": true, "severity": "error"}}}
//! ```

use std::collections::BTreeMap;

use serde_json::Value;
use svl_analysis::{Finding, Severity, rules};

/// The section name editors use for these settings.
pub const SECTION: &str = "sagemakerVpcLsp";
const ALT_SECTION: &str = "sagemaker-vpc-lsp";

/// Which files get diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every Terraform file of the workspace folders, open or not.
    #[default]
    Workspace,
    /// Open documents only.
    OpenFiles,
}

/// One rule's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSetting {
    pub enable: Option<bool>,
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Publish diagnostics and offer fixes at all.
    pub enable: bool,
    /// The severity every finding is published with (each rule's own
    /// default when unset).
    pub severity: Option<Severity>,
    pub scope: Scope,
    /// Per-rule settings, by rule id.
    pub rules: BTreeMap<String, RuleSetting>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            enable: true,
            severity: None,
            scope: Scope::Workspace,
            rules: BTreeMap::new(),
        }
    }
}

/// A setting that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's full name (`sagemakerVpcLsp.severity`).
    pub key: String,
    pub problem: String,
}

fn parse_severity(value: &Value, key: String, errors: &mut Vec<ConfigError>) -> Option<Severity> {
    if value.is_null() {
        return None;
    }
    let parsed = value.as_str().and_then(Severity::parse);
    if parsed.is_none() {
        errors.push(ConfigError {
            key,
            problem: format!("expected error, warning, information or hint, got {value}"),
        });
    }
    parsed
}

fn parse_bool(value: &Value, key: String, errors: &mut Vec<ConfigError>) -> Option<bool> {
    if value.is_null() {
        return None;
    }
    let parsed = value.as_bool();
    if parsed.is_none() {
        errors.push(ConfigError {
            key,
            problem: format!("expected true or false, got {value}"),
        });
    }
    parsed
}

impl Config {
    /// Reads settings from `value`; `None`/`null` means all defaults.
    pub fn from_json(value: Option<&Value>) -> (Self, Vec<ConfigError>) {
        let mut config = Self::default();
        let mut errors = Vec::new();
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return (config, errors);
        };
        let settings = value
            .get(SECTION)
            .or_else(|| value.get(ALT_SECTION))
            .unwrap_or(value);
        let Some(settings) = settings.as_object() else {
            if !settings.is_null() {
                errors.push(ConfigError {
                    key: SECTION.to_owned(),
                    problem: format!("expected an object, got {settings}"),
                });
            }
            return (config, errors);
        };
        let key = |k: &str| format!("{SECTION}.{k}");
        if let Some(v) = settings.get("enable")
            && let Some(b) = parse_bool(v, key("enable"), &mut errors)
        {
            config.enable = b;
        }
        if let Some(v) = settings.get("severity") {
            config.severity = parse_severity(v, key("severity"), &mut errors);
        }
        if let Some(v) = settings.get("scope").filter(|v| !v.is_null()) {
            match v.as_str() {
                Some("workspace") => config.scope = Scope::Workspace,
                Some("openFiles") => config.scope = Scope::OpenFiles,
                _ => errors.push(ConfigError {
                    key: key("scope"),
                    problem: format!("expected \"workspace\" or \"openFiles\", got {v}"),
                }),
            }
        }
        if let Some(v) = settings.get("rules").filter(|v| !v.is_null()) {
            match v.as_object() {
                None => errors.push(ConfigError {
                    key: key("rules"),
                    problem: format!("expected an object of rule ids, got {v}"),
                }),
                Some(map) => {
                    for (id, setting) in map {
                        let rule_key = key(&format!("rules.{id}"));
                        if rules::by_id(id).is_none() {
                            errors.push(ConfigError {
                                key: rule_key,
                                problem: format!(
                                    "no such rule (known: {})",
                                    rules::rule_ids().join(", ")
                                ),
                            });
                            continue;
                        }
                        let mut parsed = RuleSetting::default();
                        match setting {
                            // `"rules": {"id": false}` is short for enable = false.
                            Value::Bool(b) => parsed.enable = Some(*b),
                            Value::Object(o) => {
                                if let Some(v) = o.get("enable") {
                                    parsed.enable =
                                        parse_bool(v, format!("{rule_key}.enable"), &mut errors);
                                }
                                if let Some(v) = o.get("severity") {
                                    parsed.severity = parse_severity(
                                        v,
                                        format!("{rule_key}.severity"),
                                        &mut errors,
                                    );
                                }
                            }
                            other => errors.push(ConfigError {
                                key: rule_key.clone(),
                                problem: format!("expected an object or true/false, got {other}"),
                            }),
                        }
                        config.rules.insert(id.clone(), parsed);
                    }
                }
            }
        }
        (config, errors)
    }

    /// Is the rule of this id reported?
    pub fn rule_enabled(&self, id: &str) -> bool {
        self.enable && self.rules.get(id).and_then(|r| r.enable).unwrap_or(true)
    }

    /// Is `finding` published? See [`svl_analysis::rules::reported`].
    pub fn reports(&self, finding: &Finding) -> bool {
        svl_analysis::rules::reported(finding, &|id| self.rule_enabled(id))
    }

    /// The severity a finding is published with: its rule's setting, else
    /// the global one, else the rule's default.
    pub fn severity_of(&self, finding: &Finding) -> Severity {
        // Not a violation: what cannot be checked keeps the severity it was
        // reported with (a hint), or every model being typed would be
        // flagged at the configured severity.
        if finding.problem.is_no_verdict() {
            return finding.severity;
        }
        self.rules
            .get(finding.rule)
            .and_then(|r| r.severity)
            .or(self.severity)
            .unwrap_or(finding.severity)
    }
}

/// One message naming every bad setting, for `window/showMessage`.
pub fn describe_errors(errors: &[ConfigError]) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.key, e.problem))
        .collect();
    Some(format!(
        "sagemaker-vpc-lsp: invalid settings, using defaults for them: {}",
        parts.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_flat_and_sectioned_settings() {
        let flat = json!({"enable": false, "severity": "error", "scope": "openFiles"});
        let sectioned = json!({"sagemakerVpcLsp": {"enable": false, "severity": "error", "scope": "openFiles"}});
        for v in [flat, sectioned] {
            let (config, errors) = Config::from_json(Some(&v));
            assert!(errors.is_empty());
            assert!(!config.enable);
            assert_eq!(config.severity, Some(Severity::Error));
            assert_eq!(config.scope, Scope::OpenFiles);
        }
        assert_eq!(Config::from_json(None).0, Config::default());
        assert_eq!(Config::from_json(Some(&json!(null))).0, Config::default());
    }

    #[test]
    fn per_rule_settings() {
        let v =
            json!({"severity": "hint", "rules": {"sagemaker_model_in_vpc": {"severity": "error"}}});
        let (config, errors) = Config::from_json(Some(&v));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            config.rules["sagemaker_model_in_vpc"].severity,
            Some(Severity::Error)
        );
        let (off, _) =
            Config::from_json(Some(&json!({"rules": {"sagemaker_model_in_vpc": false}})));
        assert!(!off.rule_enabled("sagemaker_model_in_vpc"));
        assert!(off.rule_enabled("invalid_suppression"));
    }

    #[test]
    fn bad_values_keep_defaults_and_are_all_named_once() {
        let v = json!({"enable": "yes", "severity": "loud", "trace": {"server": "verbose"}, "rules": {"nope": {}}});
        let (config, errors) = Config::from_json(Some(&v));
        assert_eq!(config.enable, Config::default().enable);
        let message = describe_errors(&errors).unwrap();
        assert!(message.contains("sagemakerVpcLsp.enable"), "{message}");
        assert!(message.contains("sagemakerVpcLsp.severity"), "{message}");
        assert!(
            message.contains("sagemakerVpcLsp.rules.nope: no such rule"),
            "{message}"
        );
        assert!(!message.contains("trace"), "{message}");
        let (_, errors) = Config::from_json(Some(&json!({"sagemakerVpcLsp": 3})));
        let message = describe_errors(&errors).unwrap();
        assert!(
            message.contains(": sagemakerVpcLsp: expected an object"),
            "{message}"
        );
        assert!(
            !message.contains("sagemakerVpcLsp.sagemakerVpcLsp"),
            "{message}"
        );
    }
}
