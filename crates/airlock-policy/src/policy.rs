//! The policy file and the validated [`Policy`].
//!
//! ```toml
//! mode = "enforce"            # or "dry-run": decide and record, refuse nothing
//! min_release_age = "72h"     # quarantine for fresh versions
//!
//! [[release_age]]             # overrides; the most specific matching spec wins
//! packages = ["@mycorp/*"]
//! min_release_age = "0s"
//!
//! [[deny]]
//! package = "event-stream@3.3.6"
//! reason = "compromised: flatmap-stream"
//!
//! [[allow]]                   # lifts quarantines and warnings, never a block
//! package = "typescript"
//! reason = "vendor releases are reviewed upstream"
//!
//! [[exception]]               # a person's approval of one version
//! package = "axios@1.14.0"
//! reason = "reviewed the diff"
//! author = "alice"
//! expires = "2026-12-31T00:00:00Z"
//! ```
//!
//! Every value is checked while the file is read, so an error names its line. Rules
//! added at run time through the admin API (approvals, denials) join the file's with
//! [`Policy::with_admin_rules`]; the digest covers both, so each stored decision says
//! exactly which rules made it.

use airlock_npm::{PackageName, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::Digest as _;

use crate::{Error, HumanDuration, PackageSpec};

/// Whether decisions are enforced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Enforce,
    /// Compute, log and report every decision, refuse nothing.
    DryRun,
}

const DEFAULT_MIN_RELEASE_AGE_MS: i64 = 72 * 3_600_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    mode: Mode,
    min_release_age: Option<HumanDuration>,
    #[serde(default)]
    release_age: Vec<RawAgeRule>,
    #[serde(default)]
    deny: Vec<RawRule>,
    #[serde(default)]
    allow: Vec<RawRule>,
    #[serde(default)]
    exception: Vec<RawException>,
    #[serde(default)]
    analysis: crate::analysis::RawAnalysis,
    #[serde(default)]
    gates: crate::gates::RawGates,
    #[serde(default)]
    vulnerabilities: crate::vulnerabilities::RawVulnerabilities,
    #[serde(default)]
    licenses: crate::licenses::RawLicenses,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgeRule {
    packages: Vec<PackageSpec>,
    min_release_age: HumanDuration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    package: PackageSpec,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    package: PackageSpec,
    reason: String,
    author: String,
    #[serde(default, deserialize_with = "optional_timestamp")]
    expires: Option<Timestamp>,
    /// Every version of the one package named: asked for, never implied.
    #[serde(default)]
    all_versions: bool,
}

/// A deny or allow rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub spec: PackageSpec,
    pub reason: String,
    /// Who added it through the admin API; `None` for the policy file.
    pub author: Option<String>,
    pub id: Option<i64>,
}

/// A person's approval: turns any decision for what it covers into Allow until it
/// expires.
#[derive(Clone, Debug)]
pub struct Exception {
    pub id: Option<i64>,
    pub spec: PackageSpec,
    pub reason: String,
    pub author: String,
    pub expires: Option<Timestamp>,
}

impl Exception {
    /// Exceptions name one exact version, or a whole scope or glob (for internal
    /// packages): never every version of one public package.
    pub fn new(
        spec: PackageSpec,
        reason: String,
        author: String,
        expires: Option<Timestamp>,
    ) -> Result<Self, Error> {
        if spec.is_catch_all() {
            return Err(Error::InvalidException {
                spec: spec.to_string(),
                reason: "an exception for every package would override every block, known malware included; name a package, a version, or a scope (`@mycorp/*`)",
            });
        }
        let glob_without_versions = spec.is_glob() && !spec.has_versions();
        if spec.exact_version().is_none() && !glob_without_versions {
            return Err(Error::InvalidException {
                spec: spec.to_string(),
                reason: "an exception names one exact version (`name@1.2.3`), or a scope or glob (`@mycorp/*`); every version of one package needs `all_versions = true` (`--all-versions`)",
            });
        }
        Ok(Self {
            id: None,
            spec,
            reason,
            author,
            expires,
        })
    }

    /// An exception for every version of one package, asked for explicitly
    /// (`all_versions = true`, `airlock approve --all-versions`): the name must be
    /// exact and carry no version part.
    pub fn every_version(
        spec: PackageSpec,
        reason: String,
        author: String,
        expires: Option<Timestamp>,
    ) -> Result<Self, Error> {
        if spec.is_glob() || spec.has_versions() {
            return Err(Error::InvalidException {
                spec: spec.to_string(),
                reason: "an exception for every version names one package exactly, without a version (`left-pad`)",
            });
        }
        Ok(Self {
            id: None,
            spec,
            reason,
            author,
            expires,
        })
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expires.is_none_or(|expires| now < expires)
    }
}

/// The validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) mode: Mode,
    pub(crate) min_release_age_ms: i64,
    pub(crate) age_rules: Vec<(PackageSpec, i64)>,
    pub(crate) deny: Vec<Rule>,
    pub(crate) allow: Vec<Rule>,
    pub(crate) exceptions: Vec<Exception>,
    pub(crate) analysis: crate::AnalysisRules,
    pub(crate) gates: crate::Gates,
    pub(crate) vulnerabilities: crate::Vulnerabilities,
    pub(crate) licenses: crate::Licenses,
    file_digest: String,
    digest: String,
}

impl Default for Policy {
    /// The embedded defaults: enforce a 72 h quarantine, nothing else.
    fn default() -> Self {
        Self::from_toml("").expect("the empty policy is valid")
    }
}

impl Policy {
    /// Reads a policy file's text.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let raw: RawPolicy =
            toml::from_str(text).map_err(|error| Error::Toml(error.to_string()))?;
        let mut exceptions = Vec::with_capacity(raw.exception.len());
        for exception in raw.exception {
            let make = if exception.all_versions {
                Exception::every_version
            } else {
                Exception::new
            };
            exceptions.push(make(
                exception.package,
                exception.reason,
                exception.author,
                exception.expires,
            )?);
        }
        let rules = |raw: Vec<RawRule>| {
            raw.into_iter()
                .map(|rule| Rule {
                    spec: rule.package,
                    reason: rule.reason,
                    author: None,
                    id: None,
                })
                .collect()
        };
        let file_digest = Self::digest_of_text(text);
        let mut policy = Self {
            mode: raw.mode,
            min_release_age_ms: raw
                .min_release_age
                .map_or(DEFAULT_MIN_RELEASE_AGE_MS, HumanDuration::as_millis_i64),
            age_rules: raw
                .release_age
                .into_iter()
                .flat_map(|rule| {
                    let age = rule.min_release_age.as_millis_i64();
                    rule.packages.into_iter().map(move |spec| (spec, age))
                })
                .collect(),
            deny: rules(raw.deny),
            allow: rules(raw.allow),
            exceptions,
            analysis: crate::AnalysisRules::from_raw(raw.analysis).map_err(Error::Invalid)?,
            gates: crate::Gates::from_raw(raw.gates),
            vulnerabilities: crate::Vulnerabilities::from_raw(raw.vulnerabilities),
            licenses: crate::Licenses::from_raw(raw.licenses),
            digest: file_digest.clone(),
            file_digest,
        };
        policy.digest = policy.compute_digest(&[], &[]);
        Ok(policy)
    }

    /// This policy plus the approvals and denials added through the admin API.
    #[must_use]
    pub fn with_admin_rules(mut self, exceptions: Vec<Exception>, denials: Vec<Rule>) -> Self {
        self.digest = self.compute_digest(&exceptions, &denials);
        self.exceptions.extend(exceptions);
        self.deny.extend(denials);
        self
    }

    fn compute_digest(&self, exceptions: &[Exception], denials: &[Rule]) -> String {
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.file_digest.as_bytes());
        for exception in exceptions {
            hasher.update(
                format!(
                    "\0e{:?}{}{:?}",
                    exception.id, exception.spec, exception.expires
                )
                .as_bytes(),
            );
        }
        for denial in denials {
            hasher.update(format!("\0d{:?}{}", denial.id, denial.spec).as_bytes());
        }
        hex::encode(&hasher.finalize()[..8])
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// A short digest identifying exactly this policy and its admin rules.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The digest of the policy file's text alone, to tell whether a file on disk
    /// is the one in force.
    pub fn file_digest(&self) -> &str {
        &self.file_digest
    }

    /// The digest [`Self::file_digest`] gives for a file's text.
    pub fn digest_of_text(text: &str) -> String {
        hex::encode(&sha2::Sha256::digest(text.as_bytes())[..8])
    }

    /// The quarantine for `name`: the most specific matching override, else the
    /// default.
    pub fn min_release_age_ms(&self, name: &PackageName) -> i64 {
        let base = self
            .age_rules
            .iter()
            .filter(|(spec, _)| spec.matches_name(name))
            .max_by_key(|(spec, _)| spec.specificity())
            .map_or(self.min_release_age_ms, |(_, age)| *age);
        self.gates.release_age_ms(name, base)
    }

    /// What known vulnerabilities do (`[vulnerabilities]`).
    pub fn vulnerabilities(&self) -> &crate::Vulnerabilities {
        &self.vulnerabilities
    }

    /// The approval gates (new packages, critical-path bumps).
    pub fn gates(&self) -> &crate::Gates {
        &self.gates
    }

    /// What the policy says about analysis findings.
    pub fn analysis(&self) -> &crate::AnalysisRules {
        &self.analysis
    }

    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    pub fn denials(&self) -> &[Rule] {
        &self.deny
    }

    /// The first moment after `now` when an exception expires, so that cached
    /// decisions know when to be recomputed.
    pub fn next_expiry_after(&self, now: Timestamp) -> Option<Timestamp> {
        self.exceptions
            .iter()
            .filter_map(|exception| exception.expires)
            .filter(|expires| *expires > now)
            .min()
    }
}

impl<'de> Deserialize<'de> for PackageSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Timestamp::parse(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{text}` is not an RFC 3339 time such as `2026-12-31T00:00:00Z`"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    /// The annotated example shipped in the repository must stay valid.
    #[test]
    fn the_example_policy_allows_esbuilds_install_script() {
        let policy = Policy::from_toml(include_str!("../../../policy.toml.example")).unwrap();
        let esbuild = PackageName::new("esbuild").unwrap();
        let (action, allowance) =
            policy
                .analysis()
                .action(&esbuild, "0.25.0", crate::Code::InstallScript);
        assert_eq!(action, crate::Action::Allow);
        assert!(allowance.is_some());
    }

    #[track_caller]
    fn error(text: &str) -> String {
        Policy::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_point_at_the_line() {
        let message = error("mode = \"enforce\"\nmin_release_age = \"3 days\"\n");
        assert!(
            message.contains("line 2") && message.contains("not a duration"),
            "{message}"
        );
        let message = error("mode = \"strict\"\n");
        assert!(
            message.contains("line 1") && message.contains("enforce"),
            "{message}"
        );
        let message = error("[[deny]]\npackage = \"bad name\"\nreason = \"x\"\n");
        assert!(
            message.contains("line 2") && message.contains("URL-safe"),
            "{message}"
        );
        let message = error("[[allow]]\npackage = \"x\"\n");
        assert!(message.contains("missing field `reason`"), "{message}");
        let message = error("min_relase_age = \"1h\"\n");
        assert!(
            message.contains("unknown field `min_relase_age`"),
            "{message}"
        );
        let message =
            error("[[exception]]\npackage = \"left-pad\"\nreason = \"r\"\nauthor = \"a\"\n");
        assert!(
            message.contains("one exact version") && message.contains("all_versions"),
            "{message}"
        );
        let message = error("[[exception]]\npackage = \"*\"\nreason = \"r\"\nauthor = \"a\"\n");
        assert!(message.contains("every package"), "{message}");
        let message = error("[[exception]]\npackage = \"@*/*\"\nreason = \"r\"\nauthor = \"a\"\n");
        assert!(message.contains("every package"), "{message}");
        let policy = Policy::from_toml(
            "[[exception]]\npackage = \"left-pad\"\nreason = \"r\"\nauthor = \"a\"\nall_versions = true\n",
        )
        .unwrap();
        assert_eq!(policy.exceptions().len(), 1);
        let message = error(
            "[[exception]]\npackage = \"a@1.0.0\"\nreason = \"r\"\nauthor = \"a\"\nexpires = \"soon\"\n",
        );
        assert!(
            message.contains("line 5") && message.contains("RFC 3339"),
            "{message}"
        );
    }

    #[test]
    fn the_example_policy_is_valid() {
        let example = include_str!("../../../policy.toml.example");
        let policy = Policy::from_toml(example).unwrap();
        assert_eq!(policy.mode(), Mode::Enforce);
        assert_eq!(
            policy.min_release_age_ms(&PackageName::new("@mycorp/x").unwrap()),
            0
        );
        assert_eq!(policy.denials().len(), 2);
        assert!(!policy.gates().is_active());
        // The commented `[gates]` and `[vulnerabilities]` examples are valid once
        // uncommented.
        let block = |header: &str| {
            example
                .split(&format!("# [{header}]\n"))
                .nth(1)
                .unwrap_or_else(|| panic!("the example shows [{header}]"))
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(|line| line.trim_start_matches("# "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let with_gates = Policy::from_toml(&format!(
            "{example}\n[gates]\n{}\n[vulnerabilities]\n{}\n[licenses]\n{}\n",
            block("gates"),
            block("vulnerabilities"),
            block("licenses")
        ))
        .unwrap();
        assert!(with_gates.licenses.is_active());
        assert_eq!(
            with_gates.vulnerabilities().action(
                &PackageName::new("x").unwrap(),
                crate::Severity::Critical,
                &[]
            ),
            crate::VulnerabilityAction::Act(Verdict::Block)
        );
        assert!(with_gates.gates().is_active());
        assert!(
            with_gates
                .gates()
                .is_critical(&PackageName::new("@corp-infra/deploy").unwrap())
        );
        let misspelt = Policy::from_toml("[gates]\nnew_package = true\n").unwrap_err();
        assert!(misspelt.to_string().contains("new_package"), "{misspelt}");
    }

    #[test]
    fn release_age_overrides_pick_the_most_specific() {
        let policy = Policy::from_toml(
            r#"
            min_release_age = "72h"
            [[release_age]]
            packages = ["@mycorp/*"]
            min_release_age = "0s"
            [[release_age]]
            packages = ["@mycorp/risky", "left-*"]
            min_release_age = "7d"
            "#,
        )
        .unwrap();
        let age =
            |name: &str| policy.min_release_age_ms(&PackageName::new(name).unwrap()) / 3_600_000;
        assert_eq!(age("express"), 72);
        assert_eq!(age("@mycorp/tool"), 0);
        assert_eq!(age("@mycorp/risky"), 168);
        assert_eq!(age("left-pad"), 168);
    }

    #[test]
    fn digests_follow_content_and_admin_rules() {
        let a = Policy::from_toml("min_release_age = \"1h\"").unwrap();
        let b = Policy::from_toml("min_release_age = \"2h\"").unwrap();
        assert_ne!(a.digest(), b.digest());
        assert_eq!(
            a.digest(),
            Policy::from_toml("min_release_age = \"1h\"")
                .unwrap()
                .digest()
        );
        let exception = Exception::new(
            PackageSpec::parse("x@1.0.0").unwrap(),
            "r".into(),
            "a".into(),
            None,
        )
        .unwrap();
        let with = a.clone().with_admin_rules(vec![exception], Vec::new());
        assert_ne!(with.digest(), a.digest());
        assert_eq!(Policy::default().mode(), Mode::Enforce);
    }

    #[test]
    fn vulnerabilities_warn_from_high_and_block_only_when_asked() {
        use crate::Severity::{Critical, High, Low, Medium};
        use crate::VulnerabilityAction::{Act, Nothing};
        let name = PackageName::new("x").unwrap();
        let default = Policy::default();
        let action =
            |policy: &Policy, severity| policy.vulnerabilities().action(&name, severity, &[]);
        assert_eq!(action(&default, Critical), Act(Verdict::Warn));
        assert_eq!(action(&default, High), Act(Verdict::Warn));
        assert_eq!(action(&default, Medium), Nothing);
        let strict =
            Policy::from_toml("[vulnerabilities]\nblock = \"critical\"\nwarn = \"medium\"\n")
                .unwrap();
        assert_eq!(action(&strict, Critical), Act(Verdict::Block));
        assert_eq!(action(&strict, High), Act(Verdict::Warn));
        assert_eq!(action(&strict, Medium), Act(Verdict::Warn));
        assert_eq!(action(&strict, Low), Nothing);
        assert!(Policy::from_toml("[vulnerabilities]\nblock = \"severe\"\n").is_err());
    }
}
