//! The server's settings, from `initializationOptions`,
//! `workspace/didChangeConfiguration` or a `workspace/configuration` pull.
//!
//! Accepted shapes: the settings object itself (`{"severity": "error"}`), or
//! the object under the section name `sagemakerVpcLsp` (what VS Code sends)
//! or `sagemaker-vpc-lsp`. Unknown keys are ignored (editors send their own,
//! such as `trace`); a known key with a bad value keeps its default and is
//! named in one error message.

use serde_json::Value;

use svl_analysis::Severity;

/// The section name editors use for these settings.
pub const SECTION: &str = "sagemakerVpcLsp";
const ALT_SECTION: &str = "sagemaker-vpc-lsp";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Publish diagnostics and offer fixes at all.
    pub enable: bool,
    /// The severity findings are published with.
    pub severity: Severity,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            enable: true,
            severity: Severity::Warning,
        }
    }
}

/// A setting that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
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
        if let Some(enable) = settings.get("enable").filter(|v| !v.is_null()) {
            match enable.as_bool() {
                Some(b) => config.enable = b,
                None => errors.push(ConfigError {
                    key: "enable".to_owned(),
                    problem: format!("expected true or false, got {enable}"),
                }),
            }
        }
        if let Some(severity) = settings.get("severity").filter(|v| !v.is_null()) {
            match severity.as_str().and_then(Severity::parse) {
                Some(s) => config.severity = s,
                None => errors.push(ConfigError {
                    key: "severity".to_owned(),
                    problem: format!(
                        "expected error, warning, information or hint, got {severity}"
                    ),
                }),
            }
        }
        (config, errors)
    }
}

/// One message naming every bad key, for `window/showMessage`.
pub fn describe_errors(errors: &[ConfigError]) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{SECTION}.{}: {}", e.key, e.problem))
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
        let flat = json!({"enable": false, "severity": "error"});
        let sectioned = json!({"sagemakerVpcLsp": {"enable": false, "severity": "error"}});
        for v in [flat, sectioned] {
            let (config, errors) = Config::from_json(Some(&v));
            assert!(errors.is_empty());
            assert_eq!(
                config,
                Config {
                    enable: false,
                    severity: Severity::Error
                }
            );
        }
        assert_eq!(Config::from_json(None).0, Config::default());
        assert_eq!(Config::from_json(Some(&json!(null))).0, Config::default());
    }

    #[test]
    fn bad_values_keep_defaults_and_are_all_named() {
        let v = json!({"enable": "yes", "severity": "loud", "trace": {"server": "verbose"}});
        let (config, errors) = Config::from_json(Some(&v));
        assert_eq!(config, Config::default());
        let message = describe_errors(&errors).unwrap();
        assert!(message.contains("sagemakerVpcLsp.enable"), "{message}");
        assert!(message.contains("sagemakerVpcLsp.severity"), "{message}");
        assert!(!message.contains("trace"), "{message}");
    }
}
