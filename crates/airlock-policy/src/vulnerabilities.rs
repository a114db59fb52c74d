//! `[vulnerabilities]`: what a known vulnerability (an advisory that is not malware)
//! does, by the rating its database gives it.
//!
//! ```toml
//! [vulnerabilities]
//! block = "critical"          # block from this rating up (none by default)
//! warn = "high"               # warn from this rating up (the default)
//! fast_lane = "high"          # a fix this serious skips its quarantine (false: off)
//!
//! [[vulnerabilities.rule]]    # per scope or glob: the most specific rule wins
//! packages = ["@corp/*"]
//! block = "high"
//!
//! [[vulnerabilities.ignore]]  # an advisory a person judged not to matter here
//! advisory = "GHSA-xxxx-yyyy-zzzz"
//! reason = "the vulnerable parser is never given user input"
//! ```

use airlock_npm::PackageName;
use serde::Deserialize;

use crate::{PackageSpec, Severity, Verdict};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVulnerabilities {
    block: Option<Severity>,
    warn: Option<Severity>,
    fast_lane: Option<RawFastLane>,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    ignore: Vec<Ignore>,
}

/// `fast_lane = false`, or the lowest rating it applies to.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawFastLane {
    On(bool),
    From(Severity),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    packages: Vec<PackageSpec>,
    block: Option<Severity>,
    warn: Option<Severity>,
}

/// An advisory set aside, with why.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub advisory: String,
    pub reason: String,
}

/// Thresholds: block from `block` up, warn from `warn` up.
#[derive(Clone, Copy, Debug)]
struct Thresholds {
    block: Option<Severity>,
    warn: Severity,
}

/// What the policy does with a vulnerability of one package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VulnerabilityAction {
    /// Below the warning line.
    Nothing,
    /// Warn or block.
    Act(Verdict),
    /// A person set the advisory aside, for this reason.
    Ignored(String),
}

/// The vulnerability policy.
#[derive(Clone, Debug)]
pub struct Vulnerabilities {
    default: Thresholds,
    rules: Vec<(PackageSpec, Thresholds)>,
    ignore: Vec<Ignore>,
    fast_lane: Option<Severity>,
}

impl Default for Vulnerabilities {
    fn default() -> Self {
        Self::from_raw(RawVulnerabilities::default())
    }
}

impl Vulnerabilities {
    pub(crate) fn from_raw(raw: RawVulnerabilities) -> Self {
        let default = Thresholds {
            block: raw.block,
            warn: raw.warn.unwrap_or(Severity::High),
        };
        Self {
            default,
            rules: raw
                .rule
                .into_iter()
                .flat_map(|rule| {
                    let thresholds = Thresholds {
                        block: rule.block.or(default.block),
                        warn: rule.warn.unwrap_or(default.warn),
                    };
                    rule.packages
                        .into_iter()
                        .map(move |spec| (spec, thresholds))
                })
                .collect(),
            ignore: raw.ignore,
            fast_lane: match raw.fast_lane {
                None | Some(RawFastLane::On(true)) => Some(Severity::High),
                Some(RawFastLane::On(false)) => None,
                Some(RawFastLane::From(severity)) => Some(severity),
            },
        }
    }

    /// What a vulnerability of `name` rated `severity`, known by `ids`, calls for:
    /// set aside when one of its ids is ignored; else block or warn by the most
    /// specific rule naming the package, or by the defaults.
    pub fn action(
        &self,
        name: &PackageName,
        severity: Severity,
        ids: &[String],
    ) -> VulnerabilityAction {
        if let Some(ignored) = self.ignore.iter().find(|ignore| {
            ids.iter()
                .any(|id| id.eq_ignore_ascii_case(&ignore.advisory))
        }) {
            return VulnerabilityAction::Ignored(ignored.reason.clone());
        }
        let thresholds = self
            .rules
            .iter()
            .filter(|(spec, _)| spec.matches_name(name))
            .max_by_key(|(spec, _)| spec.specificity())
            .map_or(self.default, |(_, thresholds)| *thresholds);
        if thresholds.block.is_some_and(|block| severity >= block) {
            VulnerabilityAction::Act(Verdict::Block)
        } else if severity >= thresholds.warn {
            VulnerabilityAction::Act(Verdict::Warn)
        } else {
            VulnerabilityAction::Nothing
        }
    }

    /// The lowest rating of a fixed vulnerability that releases its fix from the
    /// release-age quarantine early; `None` when the fast lane is off.
    pub fn fast_lane(&self) -> Option<Severity> {
        self.fast_lane
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::{Critical, High, Low, Medium};

    fn vulnerabilities(text: &str) -> Vulnerabilities {
        Vulnerabilities::from_raw(toml::from_str(text).unwrap())
    }

    #[test]
    fn rules_per_scope_and_ignored_advisories() {
        let policy = vulnerabilities(
            "block = \"critical\"\n[[rule]]\npackages = [\"@corp/*\"]\nblock = \"medium\"\n[[rule]]\npackages = [\"@corp/legacy\"]\nwarn = \"low\"\n[[ignore]]\nadvisory = \"GHSA-aaaa-bbbb-cccc\"\nreason = \"never given user input\"\n",
        );
        let name = |text: &str| PackageName::new(text).unwrap();
        let ids = ["GHSA-zzzz-zzzz-zzzz".to_owned()];
        assert_eq!(
            policy.action(&name("left-pad"), Critical, &ids),
            VulnerabilityAction::Act(Verdict::Block)
        );
        assert_eq!(
            policy.action(&name("left-pad"), High, &ids),
            VulnerabilityAction::Act(Verdict::Warn)
        );
        assert_eq!(
            policy.action(&name("left-pad"), Medium, &ids),
            VulnerabilityAction::Nothing
        );
        assert_eq!(
            policy.action(&name("@corp/api"), Medium, &ids),
            VulnerabilityAction::Act(Verdict::Block)
        );
        // The most specific rule wins; it keeps the defaults it does not set.
        assert_eq!(
            policy.action(&name("@corp/legacy"), Low, &ids),
            VulnerabilityAction::Act(Verdict::Warn)
        );
        assert_eq!(
            policy.action(&name("@corp/legacy"), Critical, &ids),
            VulnerabilityAction::Act(Verdict::Block)
        );
        let ignored = ["CVE-2026-1".to_owned(), "ghsa-aaaa-bbbb-cccc".to_owned()];
        assert_eq!(
            policy.action(&name("left-pad"), Critical, &ignored),
            VulnerabilityAction::Ignored("never given user input".into())
        );
    }
}
