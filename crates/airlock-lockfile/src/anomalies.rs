//! What is wrong with a lockfile itself, whatever the versions in it: the checks no
//! install-time gate can make, because a client installing from the lockfile never
//! asks the registry. One function per rule, listed in [`RULES`].
//!
//! ```
//! use airlock_lockfile::anomalies::{self, AnomalyCode, Checks};
//!
//! let text = r#"{"name": "app", "lockfileVersion": 3, "packages": {
//!   "": {"dependencies": {"a": "^1.0.0"}},
//!   "node_modules/a": {"version": "1.0.0",
//!                      "resolved": "https://elsewhere.invalid/a/-/a-1.0.0.tgz"}}}"#;
//! let graph = airlock_lockfile::parse("package-lock.json", text).unwrap();
//! let registry = url::Url::parse("http://127.0.0.1:4873/").unwrap();
//! let checks = Checks { registries: &[registry], locked_at: None };
//! let found = anomalies::check(&graph, &checks, |_| None);
//! let codes: Vec<_> = found.iter().map(|anomaly| anomaly.code).collect();
//! assert_eq!(codes, [AnomalyCode::OutsideRegistry, AnomalyCode::MissingIntegrity]);
//! ```

use airlock_npm::{Integrity, Timestamp};
use airlock_policy::{Severity, describe_millis};
use serde::Serialize;
use url::Url;

use crate::{Format, Graph, Locked, Source};

/// The lockfile rules' codes, as reports and policies name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AnomalyCode {
    /// Installed from git, a URL or a path.
    #[serde(rename = "lockfile-unregistered-source")]
    UnregisteredSource,
    /// A `resolved` URL outside the configured registries.
    #[serde(rename = "lockfile-outside-registry")]
    OutsideRegistry,
    /// An entry whose tarball is another package than its label.
    #[serde(rename = "lockfile-name-confusion")]
    NameConfusion,
    /// No integrity recorded, or none the registry's can be compared with.
    #[serde(rename = "lockfile-missing-integrity")]
    MissingIntegrity,
    /// The locked integrity is not the registry's.
    #[serde(rename = "lockfile-integrity-mismatch")]
    IntegrityMismatch,
    /// The registry does not list the locked version.
    #[serde(rename = "lockfile-unknown-version")]
    UnknownVersion,
    /// Locked while younger than the quarantine.
    #[serde(rename = "lockfile-locked-young")]
    LockedYoung,
}

impl AnomalyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnregisteredSource => "lockfile-unregistered-source",
            Self::OutsideRegistry => "lockfile-outside-registry",
            Self::NameConfusion => "lockfile-name-confusion",
            Self::MissingIntegrity => "lockfile-missing-integrity",
            Self::IntegrityMismatch => "lockfile-integrity-mismatch",
            Self::UnknownVersion => "lockfile-unknown-version",
            Self::LockedYoung => "lockfile-locked-young",
        }
    }

    /// The rule in a line, for reports that list rules (SARIF).
    pub fn describe(self) -> &'static str {
        match self {
            Self::OutsideRegistry => "a resolved URL points outside the configured registry",
            Self::UnregisteredSource => {
                "installed from git, a URL or a path: no registry check covers it"
            }
            Self::MissingIntegrity => "the lockfile records no integrity for a registry package",
            Self::IntegrityMismatch => "the locked integrity differs from the registry's",
            Self::NameConfusion => "an entry's tarball is another package than its label",
            Self::UnknownVersion => "the registry does not list the locked version",
            Self::LockedYoung => "locked while younger than the quarantine: it bypassed Airlock",
        }
    }

    /// The code named `text`, if it is one of these.
    pub fn parse(text: &str) -> Option<Self> {
        RULES
            .iter()
            .map(|(code, _)| *code)
            .find(|code| code.as_str() == text)
    }
}

/// One thing wrong with one entry of a lockfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    pub code: AnomalyCode,
    pub severity: Severity,
    /// The entry: an index into the graph's `packages`.
    pub package: usize,
    /// What is wrong, naming the entry.
    pub why: String,
    /// What to do about it.
    pub fix: String,
}

/// What the registry says of one locked registry version.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistryFacts<'a> {
    /// `dist.integrity` as the registry lists it.
    pub integrity: Option<&'a str>,
    pub published: Option<Timestamp>,
    /// The release-age quarantine that applies to it, in milliseconds.
    pub quarantine_ms: i64,
    /// Why the registry could not answer for it (the version is not listed).
    pub error: Option<&'a str>,
}

/// What the checks compare a lockfile with.
#[derive(Clone, Copy, Debug)]
pub struct Checks<'a> {
    /// Where `resolved` URLs may point: the upstream, Airlock, mirrors named.
    pub registries: &'a [Url],
    /// When the lockfile was last written.
    pub locked_at: Option<Timestamp>,
}

/// One entry as a rule sees it.
pub struct Entry<'a> {
    pub package: &'a Locked,
    /// What the registry says of it (registry sources only).
    pub facts: Option<RegistryFacts<'a>>,
    pub checks: &'a Checks<'a>,
    /// Whether the lockfile's format records integrity at all.
    pub records_integrity: bool,
}

impl Entry<'_> {
    fn id(&self) -> String {
        format!("{}@{}", self.package.name, self.package.version)
    }

    /// The `resolved` URL, when it is an http(s) download.
    fn download(&self) -> Option<&str> {
        self.package.resolved.as_deref().filter(|resolved| {
            Url::parse(resolved).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
        })
    }

    fn is_registry_package(&self) -> bool {
        self.package.source == Source::Registry
    }

    /// The locked integrity, when it holds a digest Airlock can compare.
    fn locked_integrity(&self) -> Option<&str> {
        self.package
            .integrity
            .as_deref()
            .filter(|text| !Integrity::parse_each(text).is_empty())
    }
}

/// What a rule finds: severity, why, fix.
pub type Found = (Severity, String, String);

/// A rule: one entry in, at most one finding out.
pub type Rule = fn(&Entry<'_>) -> Option<Found>;

/// Every lockfile rule, in the order reports list them.
pub const RULES: [(AnomalyCode, Rule); 7] = [
    (AnomalyCode::UnregisteredSource, unregistered_source),
    (AnomalyCode::OutsideRegistry, outside_registry),
    (AnomalyCode::NameConfusion, name_confusion),
    (AnomalyCode::MissingIntegrity, missing_integrity),
    (AnomalyCode::IntegrityMismatch, integrity_mismatch),
    (AnomalyCode::UnknownVersion, unknown_version),
    (AnomalyCode::LockedYoung, locked_young),
];

/// Every anomaly of `graph`; `facts` says what the registry lists for an entry.
pub fn check<'a>(
    graph: &'a Graph,
    checks: &'a Checks<'a>,
    facts: impl Fn(&Locked) -> Option<RegistryFacts<'a>>,
) -> Vec<Anomaly> {
    let records_integrity = !matches!(graph.format, Format::YarnBerry);
    let mut found = Vec::new();
    for (index, package) in graph.packages.iter().enumerate() {
        let entry = Entry {
            package,
            facts: facts(package),
            checks,
            records_integrity,
        };
        for (code, rule) in RULES {
            if let Some((severity, why, fix)) = rule(&entry) {
                found.push(Anomaly {
                    code,
                    severity,
                    package: index,
                    why,
                    fix,
                });
            }
        }
    }
    found
}

/// Git, URL and path sources: no registry check covers them. A tarball from a host
/// that is not the registry is worse: whoever controls that host decides what is
/// installed.
pub fn unregistered_source(entry: &Entry<'_>) -> Option<Found> {
    let id = entry.id();
    let from = entry.package.resolved.as_deref().unwrap_or("?");
    match entry.package.source {
        Source::Registry | Source::Link => None,
        Source::Git | Source::Tarball => {
            let foreign = entry.package.source == Source::Tarball
                && !entry
                    .checks
                    .registries
                    .iter()
                    .any(|registry| under(from, registry));
            Some((
                if foreign {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!("`{id}` is installed from {from}, outside any registry: no quarantine, analysis or advisory covers it"),
                "publish it to your registry and depend on the published version, or vendor the code".into(),
            ))
        }
        Source::File => Some((
            Severity::Low,
            format!(
                "`{id}` comes from a local path ({}), which Airlock does not check",
                entry.package.resolved.as_deref().unwrap_or("file:")
            ),
            "fine for code of this repository; otherwise publish it to your registry".into(),
        )),
    }
}

/// A registry package whose `resolved` URL is outside the configured registries;
/// a mirror serving the very same bytes is only worth a note.
pub fn outside_registry(entry: &Entry<'_>) -> Option<Found> {
    let resolved = entry.download().filter(|_| entry.is_registry_package())?;
    let registries = entry.checks.registries;
    if registries.iter().any(|registry| under(resolved, registry)) {
        return None;
    }
    let id = entry.id();
    let known: Vec<String> = registries.iter().map(ToString::to_string).collect();
    let registry_integrity = entry.facts.and_then(|facts| facts.integrity);
    Some(
        if mirrors_the_registry(entry, resolved, registry_integrity) {
            (
            Severity::Low,
            format!("`{id}` resolves to {resolved}, a mirror of the registry ({}): the path names this version and the locked integrity is the registry's, so the content is the same, but a client that keeps the host downloads it around Airlock", known.join(", ")),
            "reinstall through Airlock to point the lockfile at it (npm and pnpm rewrite the default registry's host by themselves)".into(),
        )
        } else {
            (
            Severity::High,
            format!("`{id}` resolves to {resolved}, not to the configured registry ({})", known.join(", ")),
            "reinstall it through Airlock so the lockfile points there, or name that registry with `--registry` if it is yours".into(),
        )
        },
    )
}

/// An entry labelled as one package whose tarball URL names another.
pub fn name_confusion(entry: &Entry<'_>) -> Option<Found> {
    let resolved = entry.download().filter(|_| entry.is_registry_package())?;
    let (named, file_version) = tarball_identity(resolved)?;
    let package = entry.package;
    let other = named != package.name
        || file_version
            .as_deref()
            .is_some_and(|version| version != package.version);
    other.then(|| {
        (
            Severity::Critical,
            format!(
                "the entry labelled `{}` downloads {resolved}, which is `{named}{}`",
                entry.id(),
                file_version.map(|v| format!("@{v}")).unwrap_or_default()
            ),
            "do not install: regenerate this entry from the registry and find out who edited the lockfile".into(),
        )
    })
}

/// No integrity recorded (where the format records one), or one that shares no
/// algorithm with the registry's: the client installs whatever it gets.
pub fn missing_integrity(entry: &Entry<'_>) -> Option<Found> {
    if !entry.is_registry_package() {
        return None;
    }
    let id = entry.id();
    let registry = entry.facts.and_then(|facts| facts.integrity);
    match (entry.locked_integrity(), registry) {
        (None, _) if entry.records_integrity => Some((
            Severity::Medium,
            match &entry.package.integrity {
                Some(text) => format!("`{id}` is locked to {text}, which holds no well-formed digest, so the locked tarball cannot be checked"),
                None => format!("`{id}` has no integrity in the lockfile, so the client installs whatever tarball it gets"),
            },
            "regenerate the lockfile (`npm install --package-lock-only`, `pnpm install --lockfile-only`, ...) so the integrity is recorded".into(),
        )),
        (Some(locked), Some(registry)) if strongest_shared(locked, registry).is_none() => Some((
            Severity::Medium,
            format!("`{id}` is locked to {locked}, which shares no algorithm with the registry's {registry}, so the locked tarball cannot be checked"),
            "regenerate the lockfile so the client records the registry's sha512 integrity".into(),
        )),
        _ => None,
    }
}

/// A locked integrity that is not the registry's: the locked tarball is not the
/// published one.
pub fn integrity_mismatch(entry: &Entry<'_>) -> Option<Found> {
    if !entry.is_registry_package() {
        return None;
    }
    let locked = entry.locked_integrity()?;
    let registry = entry.facts.and_then(|facts| facts.integrity)?;
    let (ours, theirs) = strongest_shared(locked, registry)?;
    (ours != theirs).then(|| {
        (
            Severity::Critical,
            format!("`{}` is locked to {locked}, but the registry lists {registry}", entry.id()),
            "do not install: the locked tarball is not the published one; regenerate the entry and investigate the difference".into(),
        )
    })
}

/// A locked version the registry does not list.
pub fn unknown_version(entry: &Entry<'_>) -> Option<Found> {
    let error = entry
        .facts
        .filter(|_| entry.is_registry_package())
        .and_then(|facts| facts.error)?;
    Some((
        Severity::High,
        error.to_owned(),
        "update the dependency to a version the registry lists, then regenerate the lockfile"
            .into(),
    ))
}

/// A version locked before its quarantine ended: it reached the lockfile before
/// Airlock would have served it.
pub fn locked_young(entry: &Entry<'_>) -> Option<Found> {
    let facts = entry
        .facts
        .filter(|facts| entry.is_registry_package() && facts.error.is_none())?;
    let (locked_at, published) = (entry.checks.locked_at?, facts.published?);
    let age = locked_at.unix_millis() - published.unix_millis();
    (age >= 0 && age < facts.quarantine_ms).then(|| {
        (
            Severity::Low,
            format!(
                "`{}` was locked {} after it was published ({published}), inside the {} quarantine: it reached this lockfile before Airlock would have served it",
                entry.id(),
                describe_millis(age),
                describe_millis(facts.quarantine_ms)
            ),
            "make sure installs go through Airlock (`npm config get registry`); this audit has now checked it".into(),
        )
    })
}

/// Whether a `resolved` URL outside the configured registries serves this very
/// version: a registry-shaped tarball path naming it, and a locked integrity that
/// equals the registry's (so the client rejects any other bytes). Registry aliases
/// and mirrors (Yarn classic's default host among them) pass; a lookalike path with
/// other content does not.
fn mirrors_the_registry(
    entry: &Entry<'_>,
    resolved: &str,
    registry_integrity: Option<&str>,
) -> bool {
    let Some((named, file_version)) = tarball_identity(resolved) else {
        return false;
    };
    let package = entry.package;
    let names_this_version = named == package.name
        && file_version
            .as_deref()
            .is_none_or(|version| version == package.version);
    names_this_version
        && match (entry.locked_integrity(), registry_integrity) {
            (Some(locked), Some(registry)) => {
                strongest_shared(locked, registry).is_some_and(|(ours, theirs)| ours == theirs)
            }
            _ => false,
        }
}

/// The digests of the strongest algorithm both integrity strings hold.
fn strongest_shared(locked: &str, registry: &str) -> Option<(Integrity, Integrity)> {
    let theirs = Integrity::parse_each(registry);
    Integrity::parse_each(locked).into_iter().find_map(|ours| {
        theirs
            .iter()
            .find(|theirs| theirs.algorithm() == ours.algorithm())
            .map(|theirs| (ours, theirs.clone()))
    })
}

/// Whether `url` is under `registry` (same origin, path inside).
pub fn under(url: &str, registry: &Url) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let base = registry.path().trim_end_matches('/');
    url.origin() == registry.origin()
        && url
            .path()
            .strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The package (and version) a registry tarball URL names:
/// `…/{name}/-/{basename}-{version}.tgz`, the scope's `/` possibly escaped.
fn tarball_identity(url: &str) -> Option<(String, Option<String>)> {
    let path = Url::parse(url).ok()?.path().to_owned();
    let (before, file) = path.split_once("/-/")?;
    let before = before
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%40", "@");
    let segments: Vec<&str> = before.trim_start_matches('/').split('/').collect();
    let name = match segments.as_slice() {
        [.., scope, name] if scope.starts_with('@') => format!("{scope}/{name}"),
        [.., name] => (*name).to_owned(),
        [] => return None,
    };
    let basename = name.rsplit('/').next().unwrap_or(&name);
    let version = file
        .strip_suffix(".tgz")
        .and_then(|stem| stem.strip_prefix(basename))
        .and_then(|rest| rest.strip_prefix('-'))
        .map(str::to_owned);
    Some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid sha512 SRI whose digest is 64 bytes of `byte`.
    fn sha512(byte: u8) -> String {
        use base64::Engine as _;
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode([byte; 64])
        )
    }

    fn sha1(byte: u8) -> String {
        use base64::Engine as _;
        format!(
            "sha1-{}",
            base64::engine::general_purpose::STANDARD.encode([byte; 20])
        )
    }

    #[test]
    fn tarball_urls_name_their_package() {
        assert_eq!(
            tarball_identity("http://127.0.0.1:1/@acme/util/-/util-2.1.0.tgz"),
            Some(("@acme/util".into(), Some("2.1.0".into())))
        );
        assert_eq!(
            tarball_identity("http://127.0.0.1:1/@acme%2futil/-/util-2.1.0.tgz"),
            Some(("@acme/util".into(), Some("2.1.0".into())))
        );
        assert_eq!(
            tarball_identity("http://127.0.0.1:1/npm/api/lodash/-/lodash-4.17.21.tgz"),
            Some(("lodash".into(), Some("4.17.21".into())))
        );
    }

    #[test]
    fn integrity_compares_within_the_strongest_shared_algorithm() {
        let same = strongest_shared(&sha512(1), &sha512(1)).unwrap();
        assert_eq!(same.0, same.1);
        let other = strongest_shared(&sha512(1), &sha512(2)).unwrap();
        assert_ne!(other.0, other.1);
        assert!(strongest_shared(&sha1(1), &sha512(2)).is_none());
        // Both list sha1 and sha512: sha512 decides, whatever sha1 says.
        let both = strongest_shared(
            &format!("{} {}", sha1(1), sha512(3)),
            &format!("{} {}", sha512(3), sha1(9)),
        )
        .unwrap();
        assert_eq!(both.0, both.1);
    }

    #[test]
    fn registry_paths_must_match_too() {
        let registry = Url::parse("http://127.0.0.1:9/npm/").unwrap();
        assert!(under("http://127.0.0.1:9/npm/a/-/a-1.0.0.tgz", &registry));
        assert!(!under(
            "http://127.0.0.1:9/other/a/-/a-1.0.0.tgz",
            &registry
        ));
        assert!(!under("http://127.0.0.2:9/npm/a/-/a-1.0.0.tgz", &registry));
        assert!(!under(
            "http://127.0.0.1:9/npm-evil/a/-/a-1.0.0.tgz",
            &registry
        ));
        assert!(under("HTTP://127.0.0.1:9/npm/a/-/a-1.0.0.tgz", &registry));
    }

    fn locked(resolved: &str, integrity: Option<String>) -> Locked {
        let mut package = Locked::new("a", "1.0.0", Source::Registry);
        package.resolved = Some(resolved.to_owned());
        package.integrity = integrity;
        package
    }

    fn run(rule: Rule, package: &Locked, facts: Option<RegistryFacts<'_>>) -> Option<Severity> {
        let registries = [Url::parse("http://127.0.0.1:9/").unwrap()];
        let checks = Checks {
            registries: &registries,
            locked_at: Some(Timestamp::from_unix_millis(10 * 3_600_000)),
        };
        let entry = Entry {
            package,
            facts,
            checks: &checks,
            records_integrity: true,
        };
        rule(&entry).map(|(severity, _, _)| severity)
    }

    #[test]
    fn each_rule_fires_on_its_shape_and_not_beside_it() {
        let home = "http://127.0.0.1:9/a/-/a-1.0.0.tgz";
        let ours = sha512(1);
        let facts = RegistryFacts {
            integrity: Some(&ours),
            published: Some(Timestamp::from_unix_millis(9 * 3_600_000)),
            quarantine_ms: 72 * 3_600_000,
            error: None,
        };
        let clean = locked(home, Some(ours.clone()));
        for (code, rule) in RULES {
            let expected = (code == AnomalyCode::LockedYoung).then_some(Severity::Low);
            assert_eq!(run(rule, &clean, Some(facts)), expected, "{code:?}");
        }
        let mirror = locked("https://mirror.invalid/a/-/a-1.0.0.tgz", Some(ours.clone()));
        assert_eq!(
            run(outside_registry, &mirror, Some(facts)),
            Some(Severity::Low)
        );
        let elsewhere = locked("https://mirror.invalid/a/-/a-1.0.0.tgz", Some(sha512(2)));
        assert_eq!(
            run(outside_registry, &elsewhere, Some(facts)),
            Some(Severity::High)
        );
        assert_eq!(
            run(integrity_mismatch, &elsewhere, Some(facts)),
            Some(Severity::Critical)
        );
        let swapped = locked("http://127.0.0.1:9/b/-/b-6.6.6.tgz", Some(ours.clone()));
        assert_eq!(
            run(name_confusion, &swapped, Some(facts)),
            Some(Severity::Critical)
        );
        let bare = locked(home, None);
        assert_eq!(
            run(missing_integrity, &bare, Some(facts)),
            Some(Severity::Medium)
        );
        let weak = locked(home, Some(sha1(1)));
        assert_eq!(
            run(missing_integrity, &weak, Some(facts)),
            Some(Severity::Medium)
        );
        let gone = RegistryFacts {
            error: Some("`a@1.0.0` is not listed"),
            ..facts
        };
        assert_eq!(
            run(unknown_version, &clean, Some(gone)),
            Some(Severity::High)
        );
        assert_eq!(run(locked_young, &clean, Some(gone)), None);
        let malformed = locked(home, Some("sha512-AAAA".into()));
        assert_eq!(
            run(missing_integrity, &malformed, Some(facts)),
            Some(Severity::Medium)
        );
        assert_eq!(run(integrity_mismatch, &malformed, Some(facts)), None);
        let mut git = locked("git+https://127.0.0.1:9/a.git", None);
        git.source = Source::Git;
        assert_eq!(run(unregistered_source, &git, None), Some(Severity::Medium));
        assert_eq!(run(missing_integrity, &git, None), None);
    }

    #[test]
    fn codes_are_named_as_reports_name_them() {
        for (code, _) in RULES {
            assert_eq!(AnomalyCode::parse(code.as_str()), Some(code));
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }
}
