//! `dependency-risk`: what a version newly pulls in, judged by the dependency itself.
//!
//! The Axios case: axios itself carries no bad code; its new dependency does. A new
//! dependency is ordinary (packages gain dependencies in every kind of release), and
//! so is one that no file requires (type packages, CLIs, CSS, plugins named in
//! configuration). What makes one dangerous is the dependency: Airlock's own verdict
//! on its content, a package days old, an install script, a publisher it never had.
//! The caller (proxy or CLI) gathers those facts; this module judges them, in the
//! order of the table below.

use std::collections::{BTreeMap, BTreeSet};

use airlock_npm::Timestamp;
use airlock_policy::{Code, Verdict};

use crate::finding::{Confidence, Finding, Reach, Severity};

/// What is known about one added dependency.
#[derive(Clone, Debug, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about the dependency, each weighed by the table"
)]
pub struct DependencyFacts {
    pub name: String,
    pub range: String,
    /// When the package's first version was published.
    pub created: Option<Timestamp>,
    /// How many versions it has.
    pub versions: usize,
    /// The version the range resolves to, Airlock's decision about it, and the codes
    /// of the reasons behind that decision.
    pub resolved: Option<(String, Verdict)>,
    pub resolved_codes: Vec<Code>,
    /// The resolved version runs install scripts.
    pub install_scripts: bool,
    /// The account that published the resolved version, when no other version of
    /// the dependency was published by it.
    pub new_publisher: Option<String>,
    /// No file of the depending version requires it (`None`: unknown).
    pub phantom: Option<bool>,
    /// The depending version is a prerelease: experiments there are ordinary.
    pub prerelease: bool,
    /// An optional dependency: platform packages that a registry may not carry.
    pub optional: bool,
    /// The registry has no such package, or refuses to serve it.
    pub missing: bool,
    /// The registry replaced the package with a security placeholder.
    pub taken_down: bool,
    /// Judged without the depending package's history (a tarball on disk): whether
    /// the dependency is new to it is unknown, so an install script alone does not
    /// make an unrequired dependency the Axios shape; its youth or a new publisher
    /// still does.
    pub history_unknown: bool,
}

const DAY_MS: i64 = 24 * 3_600_000;

/// Codes that only say a version is young: the dependency waits out its own
/// quarantine, and that is no judgement of its content.
fn only_age(codes: &[Code]) -> bool {
    codes
        .iter()
        .all(|code| matches!(code, Code::ReleaseAge | Code::PublishTimeMissing))
}

/// Findings for the dependencies a version added.
pub fn dependency_risk(dependencies: &[DependencyFacts], now: Timestamp) -> Vec<Finding> {
    let mut findings = Vec::new();
    for dependency in dependencies {
        let mut concerns: Vec<String> = Vec::new();
        let young = dependency
            .created
            .is_some_and(|created| now.unix_millis() - created.unix_millis() < 30 * DAY_MS);
        let types_only = dependency.name.starts_with("@types/");
        let phantom = dependency.phantom == Some(true);
        if young {
            concerns.push("the package is less than 30 days old".to_owned());
        }
        if dependency.versions <= 3 {
            concerns.push(format!("it has {} version(s)", dependency.versions));
        }
        if dependency.install_scripts {
            concerns.push("it runs install scripts".to_owned());
        }
        if let Some(publisher) = &dependency.new_publisher {
            concerns.push(format!(
                "published by `{publisher}`, who published no other version of it"
            ));
        }
        if phantom {
            concerns.push("no file of this version requires it".to_owned());
        }
        // The table, strongest first.
        let severity = match &dependency.resolved {
            // The registry took it down for what it did.
            _ if dependency.taken_down => {
                concerns.insert(
                    0,
                    "the registry replaced it with a security placeholder".to_owned(),
                );
                Severity::Critical
            }
            // Gone from the registry, or refused by it: a package that depends on
            // it was published with something the registry removed since.
            _ if dependency.missing && !dependency.optional => {
                concerns.clear();
                concerns.push(
                    "the registry has no such package any more, or refuses to serve it".to_owned(),
                );
                if phantom {
                    concerns.push("no file of this version requires it".to_owned());
                }
                Severity::High
            }
            // Airlock refuses the dependency for what it is: so is whatever pulls it in.
            Some((version, Verdict::Block)) if !only_age(&dependency.resolved_codes) => {
                concerns.insert(0, format!("its {version} is blocked"));
                Severity::Critical
            }
            Some((version, Verdict::Quarantine { .. }))
                if !only_age(&dependency.resolved_codes) =>
            {
                concerns.insert(0, format!("its {version} is quarantined"));
                Severity::High
            }
            // An optional dependency the registry does not carry (another
            // platform's binary) is skipped by the install.
            None if dependency.optional => Severity::Info,
            None => {
                concerns.insert(0, "no published version matches the range".to_owned());
                Severity::Medium
            }
            // Types, optional extras (another platform's binary) and prerelease
            // experiments are ordinary whatever else is true.
            _ if types_only || dependency.optional || dependency.prerelease => Severity::Info,
            // Nothing requires it, and it is new, runs scripts at install, or comes
            // from an account its other versions never came from: the Axios shape.
            _ if phantom
                && (young
                    || (dependency.install_scripts && !dependency.history_unknown)
                    || dependency.new_publisher.is_some()) =>
            {
                Severity::High
            }
            // A new account republishing an established package.
            _ if dependency.new_publisher.is_some() => Severity::Medium,
            // Required by code, but days old with almost no history.
            _ if young && dependency.versions <= 3 => Severity::Low,
            _ => Severity::Info,
        };
        if severity == Severity::Info {
            continue;
        }
        findings.push(
            Finding::new(
                Code::DependencyRisk,
                severity,
                Confidence::High,
                format!(
                    "dependency `{}@{}`: {}",
                    dependency.name,
                    dependency.range,
                    concerns.join("; ")
                ),
            )
            .at(
                "package.json",
                None,
                &format!("\"{}\": \"{}\"", dependency.name, dependency.range),
            )
            .reach(Reach::Install),
        );
    }
    findings
}

/// Where npm fetches a dependency from, when not from the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A tarball at an `http(s)` URL: any server.
    Url,
    /// A git repository (`git+https://`, `github:user/repo`, `user/repo`).
    Git,
    /// A path on the installing machine (`file:`, `link:`).
    Local,
}

/// Whether npm resolves `spec` through the registry (a range, a tag, an `npm:`
/// alias) rather than a URL, a git repository or a local path.
pub fn from_registry(spec: &str) -> bool {
    source(spec).is_none()
}

fn source(spec: &str) -> Option<Source> {
    let lower = spec.trim().to_ascii_lowercase();
    let shorthand = |text: &str| {
        let path = text.split('#').next().unwrap_or("");
        let mut parts = path.split('/');
        let (Some(owner), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let word = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        word(owner) && word(repo) && !owner.starts_with('.')
    };
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Some(Source::Url)
    } else if ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        || shorthand(&lower)
    {
        Some(Source::Git)
    } else if lower.starts_with("file:") || lower.starts_with("link:") {
        Some(Source::Local)
    } else {
        None
    }
}

/// `dependency-risk` for dependencies npm fetches from outside the registry at
/// install, past Airlock: a tarball URL on any server quarantines (no popular
/// package has one; campaigns ship an empty package whose dependency is the
/// payload, served from their own host), a git repository warns, and quarantines
/// when it is optional (npm runs a git dependency's `prepare` script at install, and
/// an optional one's failure is silent: a payload that hides its own error), a local
/// path is noted.
pub(crate) fn outside_registry(
    dependencies: &BTreeMap<String, String>,
    optional: &BTreeSet<String>,
) -> Vec<Finding> {
    dependencies
        .iter()
        .filter_map(|(name, spec)| {
            let (severity, what) = match source(spec)? {
                Source::Url => (
                    Severity::High,
                    "a tarball npm downloads from that server at install, past the registry and Airlock: its code is never analysed",
                ),
                Source::Git if optional.contains(name) => (
                    Severity::High,
                    "an optional git repository npm clones and prepares at install, past the registry and Airlock, ignoring its failure",
                ),
                Source::Git => (
                    Severity::Medium,
                    "a git repository npm clones at install, past the registry and Airlock",
                ),
                Source::Local => (Severity::Low, "a path on the installing machine"),
            };
            let mut finding = Finding::new(
                Code::DependencyRisk,
                severity,
                Confidence::High,
                format!("dependency `{name}` is {spec}: {what}"),
            )
            .at("package.json", None, &format!("\"{name}\": \"{spec}\""))
            .reach(Reach::Install);
            finding.rule = Some("dependency-outside-registry".to_owned());
            Some(finding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-03-31T01:00:00Z").unwrap()
    }

    fn facts(name: &str) -> DependencyFacts {
        DependencyFacts {
            name: name.to_owned(),
            range: "^1.0.0".to_owned(),
            created: Timestamp::parse("2020-01-01T00:00:00Z"),
            versions: 40,
            resolved: Some(("1.0.1".to_owned(), Verdict::Allow)),
            ..DependencyFacts::default()
        }
    }

    fn severity(facts: DependencyFacts) -> Option<Severity> {
        dependency_risk(&[facts], now())
            .first()
            .map(|finding| finding.severity)
    }

    #[test]
    fn an_established_dependency_with_install_scripts_seen_without_history_is_ordinary() {
        let mut util = facts("@corp/util");
        util.phantom = Some(true);
        util.install_scripts = true;
        assert_eq!(severity(util.clone()), Some(Severity::High));
        util.history_unknown = true;
        assert_eq!(severity(util.clone()), None);
        util.created = Timestamp::parse("2026-03-30T00:00:00Z");
        assert_eq!(severity(util), Some(Severity::High));
    }

    #[test]
    fn a_phantom_dependency_alone_is_ordinary() {
        let mut types = facts("@types/lodash");
        types.phantom = Some(true);
        assert_eq!(severity(types), None);
        let mut tool = facts("some-cli");
        tool.phantom = Some(true);
        assert_eq!(
            severity(tool),
            None,
            "an established package nobody requires"
        );
    }

    #[test]
    fn a_young_or_scripted_phantom_is_held() {
        let mut young = facts("plain-crypto-js");
        young.phantom = Some(true);
        young.created = Timestamp::parse("2026-03-30T07:00:00Z");
        young.versions = 2;
        assert_eq!(severity(young.clone()), Some(Severity::High));
        young.prerelease = true;
        assert_eq!(severity(young), None, "prerelease lines experiment");
        let mut scripted = facts("helper");
        scripted.phantom = Some(true);
        scripted.install_scripts = true;
        assert_eq!(severity(scripted), Some(Severity::High));
    }

    #[test]
    fn the_dependency_verdict_carries_over_unless_it_is_only_its_age() {
        let mut blocked = facts("plain-crypto-js");
        blocked.resolved = Some(("4.2.1".to_owned(), Verdict::Block));
        blocked.resolved_codes = vec![Code::ObfuscatedCode];
        assert_eq!(severity(blocked), Some(Severity::Critical));
        let mut waiting = facts("@humanfs/node");
        waiting.resolved = Some(("0.16.8".to_owned(), Verdict::Quarantine { until: None }));
        waiting.resolved_codes = vec![Code::ReleaseAge];
        assert_eq!(severity(waiting), None, "a young version of an old package");
    }
    #[test]
    fn dependencies_from_outside_the_registry() {
        let dependencies: BTreeMap<String, String> = [
            ("payload", "http://packages.campaign.example/npm/payload"),
            ("forked", "github:someone/forked#main"),
            ("hidden", "github:someone/hidden#0123abc"),
            ("short", "someone/short"),
            ("local", "file:../local"),
            ("plain", "^1.2.3"),
            ("alias", "npm:other@^2"),
            ("tagged", "latest"),
            ("range", "1.x || >=2.5.0"),
        ]
        .into_iter()
        .map(|(name, spec)| (name.to_owned(), spec.to_owned()))
        .collect();
        let optional = BTreeSet::from(["hidden".to_owned(), "plain".to_owned()]);
        let found: Vec<(String, Severity)> = outside_registry(&dependencies, &optional)
            .into_iter()
            .map(|finding| {
                (
                    finding.message.split('`').nth(1).unwrap().to_owned(),
                    finding.severity,
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("forked".to_owned(), Severity::Medium),
                ("hidden".to_owned(), Severity::High),
                ("local".to_owned(), Severity::Low),
                ("payload".to_owned(), Severity::High),
                ("short".to_owned(), Severity::Medium),
            ]
        );
    }
}
