//! Registry context: what the package's place in the registry says about its origin.
//!
//! A first version of a new package, a name one edit from a popular one, a version
//! shaped like a dependency-confusion probe (`99.0.0`), no repository: each is
//! common among legitimate packages, so none decides. Together with content (an
//! install script that contacts a host), they raise it.

use std::sync::LazyLock;

use airlock_policy::Code;

use crate::finding::{Confidence, Finding, Reach, Severity};
use crate::manifest::Manifest;

/// What the registry tells about a package, beyond one version's tarball.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RegistryContext {
    /// How many versions the package has.
    pub versions: usize,
    /// This version is the package's first (or only) one.
    pub first_version: bool,
    /// Days between the package's first publication and this version's.
    pub package_age_days: Option<u64>,
    /// Days the version this one is compared with had been public when this one
    /// was published (unknown when the registry's times do not say).
    #[serde(default)]
    pub previous_age_days: Option<u64>,
}

/// How long a version must have been public before what it does counts as its
/// package's ordinary behaviour: the default release-age quarantine, in which
/// most malicious versions are found and taken down.
const SETTLED_DAYS: u64 = 3;

impl RegistryContext {
    /// Whether the previous version had been public long enough, when this one
    /// came out, to stand for the package's ordinary behaviour. Two releases
    /// published together (an attacker's second upload) are one release.
    #[must_use]
    pub fn previous_settled(&self) -> bool {
        self.previous_age_days
            .is_some_and(|days| days >= SETTLED_DAYS)
    }
}

/// The popular names, most downloaded first, with their monthly downloads.
static POPULAR: LazyLock<Vec<(&'static str, u64)>> = LazyLock::new(|| {
    include_str!("../data/popular-npm.tsv")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (name, downloads) = line.split_once('\t')?;
            Some((name, downloads.parse().ok()?))
        })
        .collect()
});

/// The popular package `name` imitates: one edit away (an insertion, deletion,
/// substitution or swap of neighbours), or the same with separators changed, or
/// with a prefix or suffix (`node-`, `-js`). Popular names imitate nothing.
pub fn lookalike(name: &str) -> Option<(&'static str, u64)> {
    if POPULAR.iter().any(|(popular, _)| *popular == name) {
        return None;
    }
    let bare = |text: &str| -> String {
        text.chars()
            .filter(|c| !matches!(c, '-' | '_' | '.'))
            .collect()
    };
    let name_bare = bare(name);
    POPULAR.iter().copied().find(|(popular, _)| {
        if popular.len() < 5 {
            return false;
        }
        one_edit(name, popular)
            || (name_bare == bare(popular) && name != *popular)
            || ["node-", "js-"]
                .iter()
                .any(|prefix| name.strip_prefix(prefix) == Some(popular))
            || ["-js", ".js", "js", "-node", "-cli"]
                .iter()
                .any(|suffix| name.strip_suffix(suffix) == Some(popular))
    })
}

/// Whether `a` and `b` differ by one insertion, deletion, substitution, or swap of
/// two neighbouring characters.
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    match long.len() - short.len() {
        0 => {
            let differences: Vec<usize> = (0..a.len())
                .filter(|index| a[*index] != b[*index])
                .collect();
            match differences.as_slice() {
                [_] => true,
                [first, second] => {
                    *second == first + 1 && a[*first] == b[*second] && a[*second] == b[*first]
                }
                _ => false,
            }
        }
        1 => {
            let prefix = short
                .iter()
                .zip(long.iter())
                .take_while(|(x, y)| x == y)
                .count();
            short[prefix..] == long[prefix + 1..]
        }
        _ => false,
    }
}

/// A version shaped like a dependency-confusion probe: a major so high that it
/// outranks any internal package's version (`99.0.0`, `9999.1.1`).
pub fn confusion_version(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u64>().ok())
        .is_some_and(|major| major >= 90)
}

/// Why the package's origin is doubtful, for messages; and the `name-confusion`
/// findings that say so on their own (informational).
pub(crate) fn doubtful_origin(
    manifest: &Manifest,
    context: Option<&RegistryContext>,
) -> (Option<String>, Vec<Finding>) {
    let mut reasons = Vec::new();
    let mut findings = Vec::new();
    if let Some(name) = &manifest.name
        && let Some((popular, downloads)) = lookalike(name)
    {
        reasons.push(format!("a name that imitates `{popular}`"));
        findings.push(
            Finding::new(
                Code::NameConfusion,
                Severity::Info,
                Confidence::Medium,
                format!("the name imitates `{popular}` ({downloads} downloads a month)"),
            )
            .at("package.json", None, name),
        );
    }
    if let Some(version) = &manifest.version
        && confusion_version(version)
    {
        reasons.push(format!("a dependency-confusion version shape ({version})"));
        findings.push(
            Finding::new(
                Code::NameConfusion,
                Severity::Info,
                Confidence::Medium,
                format!("version {version} outranks any internal package's version: the shape of a dependency-confusion probe"),
            )
            .at("package.json", None, version),
        );
        // The probe's whole point is to run on the machine that resolved it: with
        // an install script and no source to answer for it, the shape is complete.
        if let Some((script, command)) = manifest.install_scripts.iter().next()
            && manifest.repository.is_none()
        {
            findings.push(
                Finding::new(
                    Code::NameConfusion,
                    Severity::High,
                    Confidence::Medium,
                    format!("a dependency-confusion probe's shape: version {version} outranks any internal package's, runs `{script}` at install, and names no repository"),
                )
                .at("package.json", None, command)
                .reach(Reach::Install),
            );
        }
    }
    if let Some(context) = context {
        let new_package = context.first_version
            || context.versions <= 2
            || context.package_age_days.is_some_and(|days| days < 30);
        if new_package && manifest.repository.is_none() {
            reasons.push("a new package with no repository".to_owned());
        } else if context.first_version {
            reasons.push("the first version of a new package".to_owned());
        }
    } else if manifest.repository.is_none() && !manifest.install_scripts.is_empty() {
        reasons.push("a package with install scripts and no repository".to_owned());
    }
    let origin = (!reasons.is_empty()).then(|| reasons.join(" and "));
    (origin, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names() {
        assert_eq!(lookalike("lodahs").map(|(name, _)| name), Some("lodash"));
        assert_eq!(lookalike("expresss").map(|(name, _)| name), Some("express"));
        assert_eq!(
            lookalike("crossenv").map(|(name, _)| name),
            Some("cross-env")
        );
        assert_eq!(lookalike("node-axios").map(|(name, _)| name), Some("axios"));
        assert_eq!(
            lookalike("ndoe"),
            None,
            "short names are too close to each other to tell"
        );
        assert_eq!(lookalike("lodash"), None, "a popular name imitates nothing");
        assert_eq!(lookalike("an-entirely-new-name"), None);
    }

    #[test]
    fn confusion_versions() {
        assert!(confusion_version("99.0.1"));
        assert!(confusion_version("9999.0.0"));
        assert!(!confusion_version("1.2.3"));
        assert!(!confusion_version("20.1.0"));
    }
}
