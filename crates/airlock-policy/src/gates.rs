//! Approval gates: versions that wait for a person whatever their content.
//!
//! The incident this project starts from gives teams one concrete proxy setting:
//! require manual approval for new packages and for major bumps of the packages on
//! the critical path. Two gates, off by default:
//!
//! | gate | holds | until |
//! |---|---|---|
//! | `new_packages` | every version of a package this Airlock never served (and nobody approved a version of) | a person approves one version; later versions follow the normal rules |
//! | `critical` + `critical_bump` | a version of a listed package newer than every version served, in a newer major (`"major"`), major or minor (`"minor"`), or any version never served (`"any"`) | a person approves that version |
//! | `critical` + `critical_trust_change` | a version of a listed package published by an account new to its line, or without the provenance its line had | a person approves that version |
//!
//! `critical_release_age` gives the listed packages a longer release-age quarantine
//! than the policy's own (the longer of the two applies).
//!
//! ```toml
//! [gates]
//! new_packages = true                  # or a list of scopes/globs it applies to
//! critical = ["axios", "@corp-infra/*"]
//! critical_bump = "major"              # "major", "minor" or "any"
//! critical_trust_change = true         # a new publisher or lost provenance waits too
//! critical_release_age = "14d"         # the listed packages wait longer
//! ```
//!
//! What this Airlock has served is the caller's evidence ([`History`]): the proxy's
//! download log, plus lockfiles an audit is told to take as known.

use airlock_npm::{PackageName, Timestamp};
use js_semver::Version;
use serde::Deserialize;

use crate::{Code, Exception, PackageSpec, Reason, Verdict};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGates {
    new_packages: Option<RawNewPackages>,
    #[serde(default)]
    critical: Vec<PackageSpec>,
    #[serde(default)]
    critical_bump: CriticalBump,
    #[serde(default)]
    critical_trust_change: bool,
    critical_release_age: Option<crate::HumanDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawNewPackages {
    All(bool),
    Only(Vec<PackageSpec>),
}

/// Which versions of a critical-path package wait for a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CriticalBump {
    /// A version in a major newer than every major served (for `0.y`, a newer `y`).
    #[default]
    Major,
    /// A version in a major or minor newer than every one served.
    Minor,
    /// Any version not served before.
    Any,
}

/// The policy's gates.
#[derive(Clone, Debug, Default)]
pub struct Gates {
    /// `None`: off; `Some(empty)`: every package; else the packages it applies to.
    new_packages: Option<Vec<PackageSpec>>,
    critical: Vec<PackageSpec>,
    critical_bump: CriticalBump,
    /// Whether a new publisher or lost provenance holds a critical package's version.
    critical_trust_change: bool,
    /// The release age of critical packages, when longer than the policy's.
    critical_release_age_ms: Option<i64>,
}

/// What this Airlock knows of a package's past: the versions of it served before.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    pub served: &'a [String],
}

impl Gates {
    pub(crate) fn from_raw(raw: RawGates) -> Self {
        Self {
            new_packages: match raw.new_packages {
                None | Some(RawNewPackages::All(false)) => None,
                Some(RawNewPackages::All(true)) => Some(Vec::new()),
                Some(RawNewPackages::Only(specs)) => Some(specs),
            },
            critical: raw.critical,
            critical_bump: raw.critical_bump,
            critical_trust_change: raw.critical_trust_change,
            critical_release_age_ms: raw
                .critical_release_age
                .map(crate::HumanDuration::as_millis_i64),
        }
    }

    /// The release age `name` waits out: `base`, or longer if it is critical and
    /// `critical_release_age` says so.
    pub(crate) fn release_age_ms(&self, name: &PackageName, base: i64) -> i64 {
        match self.critical_release_age_ms {
            Some(critical) if self.is_critical(name) => base.max(critical),
            _ => base,
        }
    }

    /// With `critical_trust_change`, a critical package's version whose publisher
    /// changed or that lost its line's provenance (the trust signals say so) waits for
    /// a person, whatever the signal's own action.
    pub(crate) fn trust_reasons(
        &self,
        name: &PackageName,
        version: &str,
        signals: &[Reason],
    ) -> Vec<Reason> {
        if !self.critical_trust_change || !self.is_critical(name) {
            return Vec::new();
        }
        signals
            .iter()
            .filter(|signal| matches!(signal.code, Code::PublisherChanged | Code::ProvenanceRegression))
            .map(|signal| Reason {
                code: Code::CriticalBump,
                action: Verdict::Quarantine { until: None },
                message: format!(
                    "`{name}` is on the critical-path list and {version} changes who publishes it or how (`{}`): the critical-bump gate holds it until a person approves it (`airlock approve {name}@{version}`)",
                    signal.code
                ),
            })
            .take(1)
            .collect()
    }

    /// Whether any gate is on (the proxy then tracks which packages it served).
    pub fn is_active(&self) -> bool {
        self.new_packages.is_some() || !self.critical.is_empty()
    }

    /// The critical-path list.
    pub fn critical(&self) -> &[PackageSpec] {
        &self.critical
    }

    /// The gate's settings in words, for people.
    pub fn critical_settings(&self) -> String {
        let bump = match self.critical_bump {
            CriticalBump::Major => "a new major",
            CriticalBump::Minor => "a new major or minor",
            CriticalBump::Any => "any version never served",
        };
        let mut text = format!("{bump} waits for a person");
        if self.critical_trust_change {
            text.push_str(
                "; so does a version with a new publisher or without its line's provenance",
            );
        }
        if let Some(age) = self.critical_release_age_ms {
            text.push_str("; the release age is at least ");
            text.push_str(&crate::describe_millis(age));
        }
        text
    }

    /// Whether `name` is on the critical-path list.
    pub fn is_critical(&self, name: &PackageName) -> bool {
        self.critical.iter().any(|spec| spec.matches_name(name))
    }

    fn gates_new(&self, name: &PackageName) -> bool {
        self.new_packages
            .as_ref()
            .is_some_and(|only| only.is_empty() || only.iter().any(|spec| spec.matches_name(name)))
    }

    /// The gates' reasons to hold `name@version`, given what was served before and
    /// the approvals in force.
    pub(crate) fn reasons(
        &self,
        name: &PackageName,
        version: &str,
        history: History<'_>,
        approvals: &[Exception],
        now: Timestamp,
    ) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if history.served.is_empty() {
            let approved_before = approvals
                .iter()
                .any(|exception| exception.is_active(now) && exception.spec.matches_name(name));
            if self.gates_new(name) && !approved_before {
                reasons.push(Reason {
                    code: Code::NewPackage,
                    action: Verdict::Quarantine { until: None },
                    message: format!(
                        "`{name}` was never installed through this Airlock: the new-package gate holds it until a person approves a version (`airlock approve {name}@{version}`)"
                    ),
                });
            }
            return reasons;
        }
        if self.is_critical(name)
            && let Some(highest) = bump(self.critical_bump, version, history.served)
        {
            let kind = match self.critical_bump {
                CriticalBump::Major => "a new major",
                CriticalBump::Minor => "a new major or minor",
                CriticalBump::Any => "a version never served",
            };
            reasons.push(Reason {
                code: Code::CriticalBump,
                action: Verdict::Quarantine { until: None },
                message: format!(
                    "`{name}` is on the critical-path list and {version} is {kind} (highest served: {highest}): the critical-bump gate holds it until a person approves it (`airlock approve {name}@{version}`)"
                ),
            });
        }
        reasons
    }
}

/// Whether `version` is a bump of the kind `gate` holds past every served
/// version; `Some` names the highest served version.
fn bump(gate: CriticalBump, version: &str, served: &[String]) -> Option<String> {
    if served.iter().any(|seen| seen == version) {
        return None;
    }
    let wanted = Version::parse(version).ok()?;
    let highest = served
        .iter()
        .filter_map(|seen| Version::parse(seen).ok())
        .max()?;
    let is_bump = match gate {
        CriticalBump::Any => true,
        CriticalBump::Major => line(&wanted) > line(&highest),
        CriticalBump::Minor => (wanted.major, wanted.minor) > (highest.major, highest.minor),
    };
    is_bump.then(|| highest.to_string())
}

/// The breaking-change line of a version, as npm's caret ranges see it: the
/// major, or for `0.y` the minor, or for `0.0.z` the patch.
fn line(version: &Version) -> (u64, u64, u64) {
    match (version.major, version.minor) {
        (0, 0) => (0, 0, version.patch),
        (0, minor) => (0, minor, 0),
        (major, _) => (major, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix_millis(1_000_000_000);

    fn gates(text: &str) -> Gates {
        Gates::from_raw(toml::from_str(text).unwrap())
    }

    fn codes(gates: &Gates, package: &str, served: &[&str], approvals: &[Exception]) -> Vec<Code> {
        let (name, version) = package.rsplit_once('@').unwrap();
        let served: Vec<String> = served.iter().map(|seen| (*seen).to_owned()).collect();
        gates
            .reasons(
                &PackageName::new(name).unwrap(),
                version,
                History { served: &served },
                approvals,
                NOW,
            )
            .into_iter()
            .map(|reason| reason.code)
            .collect()
    }

    #[test]
    fn the_gates_are_off_by_default() {
        let off = gates("");
        assert!(!off.is_active());
        assert!(codes(&off, "never-seen@1.0.0", &[], &[]).is_empty());
        assert!(!gates("new_packages = false").is_active());
    }

    #[test]
    fn a_package_never_served_waits_until_one_version_is_approved() {
        let on = gates("new_packages = true");
        assert_eq!(codes(&on, "fresh@1.0.0", &[], &[]), [Code::NewPackage]);
        assert!(codes(&on, "fresh@1.0.1", &["1.0.0"], &[]).is_empty());
        let approval = Exception::new(
            PackageSpec::parse("fresh@1.0.0").unwrap(),
            "reviewed".into(),
            "alice".into(),
            None,
        )
        .unwrap();
        assert!(codes(&on, "fresh@2.0.0", &[], &[approval]).is_empty());
        let lapsed = Exception::new(
            PackageSpec::parse("fresh@1.0.0").unwrap(),
            "reviewed".into(),
            "alice".into(),
            Some(NOW.plus_millis(-1)),
        )
        .unwrap();
        assert_eq!(
            codes(&on, "fresh@2.0.0", &[], &[lapsed]),
            [Code::NewPackage]
        );
    }

    #[test]
    fn the_new_package_gate_can_cover_some_names_only() {
        let some = gates(r#"new_packages = ["@corp/*", "left-*"]"#);
        assert_eq!(
            codes(&some, "@corp/tool@1.0.0", &[], &[]),
            [Code::NewPackage]
        );
        assert_eq!(codes(&some, "left-pad@1.0.0", &[], &[]), [Code::NewPackage]);
        assert!(codes(&some, "right-pad@1.0.0", &[], &[]).is_empty());
    }

    #[test]
    fn a_new_major_of_a_critical_package_waits_and_a_minor_passes() {
        let major = gates(r#"critical = ["axios", "@infra/*"]"#);
        let served = ["1.13.0", "1.14.0"];
        assert_eq!(
            codes(&major, "axios@2.0.0", &served, &[]),
            [Code::CriticalBump]
        );
        assert_eq!(
            codes(&major, "axios@2.0.0-beta.1", &served, &[]),
            [Code::CriticalBump]
        );
        assert!(codes(&major, "axios@1.15.0", &served, &[]).is_empty());
        assert!(codes(&major, "axios@0.30.0", &served, &[]).is_empty());
        assert!(codes(&major, "lodash@5.0.0", &["4.17.21"], &[]).is_empty());
        assert_eq!(
            codes(&major, "@infra/deploy@3.0.0", &["2.1.0"], &[]),
            [Code::CriticalBump]
        );
        // For 0.y, a new y is a new major (as caret ranges see it).
        assert_eq!(
            codes(&major, "@infra/x@0.3.0", &["0.2.9"], &[]),
            [Code::CriticalBump]
        );
        assert!(codes(&major, "@infra/x@0.2.10", &["0.2.9"], &[]).is_empty());
        // Never served: the new-package gate's business, not this one's.
        assert!(codes(&major, "axios@2.0.0", &[], &[]).is_empty());
    }

    #[test]
    fn the_critical_bump_can_be_minor_or_any() {
        let minor = gates("critical = [\"axios\"]\ncritical_bump = \"minor\"");
        assert_eq!(
            codes(&minor, "axios@1.15.0", &["1.14.0"], &[]),
            [Code::CriticalBump]
        );
        assert!(codes(&minor, "axios@1.14.1", &["1.14.0"], &[]).is_empty());
        let any = gates("critical = [\"axios\"]\ncritical_bump = \"any\"");
        assert_eq!(
            codes(&any, "axios@1.14.1", &["1.14.0"], &[]),
            [Code::CriticalBump]
        );
        assert!(codes(&any, "axios@1.14.0", &["1.14.0"], &[]).is_empty());
    }

    #[test]
    fn critical_packages_can_wait_longer() {
        let policy = crate::Policy::from_toml(
            "min_release_age = \"3d\"\n[gates]\ncritical = [\"axios\"]\ncritical_release_age = \"14d\"\n",
        )
        .unwrap();
        let days =
            |name: &str| policy.min_release_age_ms(&PackageName::new(name).unwrap()) / 86_400_000;
        assert_eq!(days("axios"), 14);
        assert_eq!(days("left-pad"), 3);
        let shorter = crate::Policy::from_toml(
            "min_release_age = \"30d\"\n[gates]\ncritical = [\"axios\"]\ncritical_release_age = \"14d\"\n",
        )
        .unwrap();
        assert_eq!(
            shorter.min_release_age_ms(&PackageName::new("axios").unwrap()) / 86_400_000,
            30,
            "the longer of the two applies"
        );
    }

    #[test]
    fn a_new_publisher_of_a_critical_package_waits_when_asked() {
        let changed = [Reason {
            code: Code::PublisherChanged,
            action: Verdict::Warn,
            message: "published by `mallory`, new to the 1.x line".into(),
        }];
        let axios = PackageName::new("axios").unwrap();
        let on = gates("critical = [\"axios\"]\ncritical_trust_change = true");
        let held = on.trust_reasons(&axios, "1.14.1", &changed);
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].code, Code::CriticalBump);
        assert!(!held[0].action.admits());
        assert!(
            held[0].message.contains("publisher-changed"),
            "{}",
            held[0].message
        );
        let lost = [Reason {
            code: Code::ProvenanceRegression,
            ..changed[0].clone()
        }];
        assert_eq!(on.trust_reasons(&axios, "1.14.1", &lost).len(), 1);
        let other = PackageName::new("left-pad").unwrap();
        assert!(on.trust_reasons(&other, "1.0.0", &changed).is_empty());
        let off = gates("critical = [\"axios\"]");
        assert!(off.trust_reasons(&axios, "1.14.1", &changed).is_empty());
        let unrelated = [Reason {
            code: Code::InstallScript,
            ..changed[0].clone()
        }];
        assert!(on.trust_reasons(&axios, "1.14.1", &unrelated).is_empty());
    }
}
