//! What the policy says about analysis findings: per-code overrides and per-package
//! allowances.
//!
//! The analyser grades each finding (severity, confidence); the policy turns a grade
//! into an action. A team overrides a code everywhere (`install-script = "warn"`) or
//! allows named codes for named packages (`esbuild`'s install script picks a
//! platform binary: allowed, and still shown).

use std::collections::BTreeMap;

use serde::Deserialize;

use airlock_npm::PackageName;

use crate::{Code, PackageSpec};

/// What a finding's code calls for, overriding its grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Use the grade: critical blocks, high quarantines, medium warns.
    Default,
    Allow,
    Warn,
    Quarantine,
    Block,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnalysis {
    #[serde(default)]
    codes: BTreeMap<String, Action>,
    #[serde(default)]
    allow: Vec<RawAnalysisAllow>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnalysisAllow {
    package: PackageSpec,
    codes: Vec<String>,
    reason: String,
}

/// A package's allowance for some codes.
#[derive(Clone, Debug)]
pub struct AnalysisAllow {
    pub spec: PackageSpec,
    pub codes: Vec<Code>,
    pub reason: String,
}

/// The analysis part of a policy.
#[derive(Clone, Debug, Default)]
pub struct AnalysisRules {
    overrides: BTreeMap<Code, Action>,
    allow: Vec<AnalysisAllow>,
}

impl AnalysisRules {
    pub(crate) fn from_raw(raw: RawAnalysis) -> Result<Self, String> {
        let code = |name: &str| {
            Code::parse(name).ok_or_else(|| {
                format!("`[analysis]` names an unknown code `{name}`; the codes are listed in docs/codes.md")
            })
        };
        let mut overrides = BTreeMap::new();
        for (name, action) in raw.codes {
            overrides.insert(code(&name)?, action);
        }
        let mut allow = Vec::new();
        for rule in raw.allow {
            allow.push(AnalysisAllow {
                spec: rule.package,
                codes: rule
                    .codes
                    .iter()
                    .map(|name| code(name))
                    .collect::<Result<_, _>>()?,
                reason: rule.reason,
            });
        }
        Ok(Self { overrides, allow })
    }

    /// The action for `code` in `name@version`, and the allowance that set it.
    pub fn action(
        &self,
        name: &PackageName,
        version: &str,
        code: Code,
    ) -> (Action, Option<&AnalysisAllow>) {
        if let Some(rule) = self
            .allow
            .iter()
            .find(|rule| rule.codes.contains(&code) && rule.spec.matches(name, version))
        {
            return (Action::Allow, Some(rule));
        }
        (
            self.overrides
                .get(&code)
                .copied()
                .unwrap_or(Action::Default),
            None,
        )
    }
}
