//! Publisher history: each version judged against the earlier versions of its
//! release line.
//!
//! A release line is a major version (0.x is one line): a line that was always
//! published from CI with provenance makes a version without it news, while a line
//! that never had provenance says nothing by lacking it. The baseline of a version
//! is what the versions published before it on its line did: provenance, trusted
//! publishing, publishing accounts and their email domains, source repositories.
//! One earlier version is a weak baseline, and findings against it carry a low
//! confidence.

use airlock_npm::{Timestamp, VersionDoc};
use airlock_policy::Code;
use airlock_policy::{Confidence, Finding, Severity};
use serde::{Deserialize, Serialize};

/// The account that published a version (`_npmUser`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Publisher {
    fn email_domain(&self) -> Option<String> {
        let email = self.email.as_deref()?;
        let (_, domain) = email.rsplit_once('@')?;
        Some(domain.trim().to_ascii_lowercase())
    }
}

/// What history needs to know about one version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    pub version: String,
    pub published: Option<Timestamp>,
    pub publisher: Option<Publisher>,
    /// The trusted-publishing configuration it was published through
    /// (`_npmUser.trustedPublisher`), by its `oidcConfigId` or provider id.
    pub trusted_publisher: Option<String>,
    /// Whether the registry lists provenance for it (`dist.attestations`).
    pub provenance: bool,
    /// The source repository's numeric id and URI, from verified provenance, when
    /// Airlock has verified it.
    pub repository_id: Option<String>,
    pub provenance_repository: Option<String>,
    /// `repository` of its `package.json`.
    pub manifest_repository: Option<String>,
}

impl Release {
    /// The facts of `doc` as the registry lists them.
    pub fn from_doc(version: &str, doc: &VersionDoc, published: Option<Timestamp>) -> Self {
        #[derive(Deserialize)]
        struct NpmUser {
            name: Option<String>,
            email: Option<String>,
            #[serde(rename = "trustedPublisher")]
            trusted_publisher: Option<serde_json::Value>,
        }
        let user = doc.get::<NpmUser>("_npmUser");
        let trusted_publisher = user
            .as_ref()
            .and_then(|user| user.trusted_publisher.as_ref())
            .filter(|value| value.is_object())
            .map(|value| {
                ["oidcConfigId", "id"]
                    .iter()
                    .find_map(|key| value.get(*key).and_then(serde_json::Value::as_str))
                    .unwrap_or("trusted publisher")
                    .to_owned()
            });
        let manifest_repository =
            doc.get::<serde_json::Value>("repository")
                .and_then(|repository| match repository {
                    serde_json::Value::String(url) => Some(url),
                    serde_json::Value::Object(fields) => fields
                        .get("url")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned),
                    _ => None,
                });
        Self {
            version: version.to_owned(),
            published,
            publisher: user.and_then(|user| {
                Some(Publisher {
                    name: user.name?,
                    email: user.email,
                })
            }),
            trusted_publisher,
            provenance: doc
                .dist_get::<serde_json::Value>("attestations")
                .is_some_and(|value| value.is_object()),
            repository_id: None,
            provenance_repository: None,
            manifest_repository,
        }
    }

    fn attested(&self) -> bool {
        self.provenance || self.trusted_publisher.is_some()
    }
}

/// What the earlier versions of a line did, as the baseline of one version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The release line, as `1.x`.
    pub line: String,
    /// Versions published before this one on the line.
    pub earlier: usize,
    pub with_provenance: usize,
    pub with_trusted_publisher: usize,
    /// How many of the most recent earlier versions in a row had provenance or
    /// trusted publishing.
    pub attested_streak: usize,
    /// The most recent earlier version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Publishing accounts of the line, each with the email domains it used.
    pub accounts: Vec<(String, Vec<String>)>,
    /// Source repository ids from verified provenance, with their URIs.
    pub repositories: Vec<(String, Option<String>)>,
}

/// One version's place in its line's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    pub baseline: Baseline,
    pub findings: Vec<Finding>,
}

/// Judges every release against its line's history; the result is in the order of
/// `releases`. Versions that are not semver are judged against nothing.
pub fn judge(releases: &[Release]) -> Vec<Judged> {
    // Within a line, publish order (versions without a publish time first), then
    // version order: a total order, whatever times are missing.
    let mut keyed: Vec<((u64, i64, js_semver::Version), usize)> = releases
        .iter()
        .enumerate()
        .filter_map(|(index, release)| {
            let version = js_semver::Version::parse(&release.version).ok()?;
            let published = release.published.map_or(i64::MIN, Timestamp::unix_millis);
            Some(((version.major, published, version), index))
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
    let order: Vec<(u64, usize)> = keyed
        .into_iter()
        .map(|((line, _, _), index)| (line, index))
        .collect();
    let mut judged: Vec<Option<Judged>> = vec![None; releases.len()];
    let mut baseline = Baseline::default();
    let mut current_line = None;
    for (line, index) in order {
        if current_line != Some(line) {
            current_line = Some(line);
            baseline = Baseline {
                line: format!("{line}.x"),
                ..Baseline::default()
            };
        }
        let release = &releases[index];
        judged[index] = Some(Judged {
            findings: findings(release, &baseline),
            baseline: baseline.clone(),
        });
        baseline.add(release);
    }
    judged
        .into_iter()
        .zip(releases)
        .map(|(judged, release)| {
            judged.unwrap_or_else(|| Judged {
                baseline: Baseline {
                    line: format!("`{}` (not semver)", release.version),
                    ..Baseline::default()
                },
                findings: Vec::new(),
            })
        })
        .collect()
}

impl Baseline {
    fn add(&mut self, release: &Release) {
        self.earlier += 1;
        self.with_provenance += usize::from(release.provenance);
        self.with_trusted_publisher += usize::from(release.trusted_publisher.is_some());
        self.attested_streak = if release.attested() {
            self.attested_streak + 1
        } else {
            0
        };
        self.previous = Some(release.version.clone());
        if let Some(publisher) = &release.publisher {
            let domain = publisher.email_domain();
            match self
                .accounts
                .iter_mut()
                .find(|(name, _)| *name == publisher.name)
            {
                Some((_, domains)) => {
                    if let Some(domain) = domain
                        && !domains.contains(&domain)
                    {
                        domains.push(domain);
                    }
                }
                None => self
                    .accounts
                    .push((publisher.name.clone(), domain.into_iter().collect())),
            }
        }
        if let Some(id) = &release.repository_id
            && !self.repositories.iter().any(|(known, _)| known == id)
        {
            self.repositories
                .push((id.clone(), release.provenance_repository.clone()));
        }
    }

    fn previous_attested(&self) -> bool {
        self.attested_streak > 0
    }

    /// One earlier version (or a streak of one) is a weak baseline.
    fn confidence(count: usize) -> Confidence {
        match count {
            0 | 1 => Confidence::Low,
            2 => Confidence::Medium,
            _ => Confidence::High,
        }
    }
}

fn findings(release: &Release, baseline: &Baseline) -> Vec<Finding> {
    let mut findings = Vec::new();
    if baseline.earlier == 0 {
        return findings;
    }
    let line = &baseline.line;
    let previous = baseline.previous.as_deref().unwrap_or("?");
    if baseline.previous_attested() && !release.provenance {
        let streak = baseline.attested_streak;
        let lost = if release.trusted_publisher.is_some() {
            None
        } else if baseline.with_trusted_publisher > 0 && baseline.with_provenance == 0 {
            Some("trusted publishing")
        } else {
            Some("provenance")
        };
        if let Some(lost) = lost {
            findings.push(Finding::new(
                Code::ProvenanceRegression,
                if streak > 1 {
                    Severity::Critical
                } else {
                    Severity::High
                },
                Baseline::confidence(streak),
                format!(
                    "published without {lost}, after {streak} version(s) of the {line} line \
                     in a row had it (last: {previous}); a stolen token publishes this way"
                ),
            ));
        }
    }
    if let Some(publisher) = &release.publisher {
        publisher_findings(release, publisher, baseline, &mut findings);
    }
    if let Some(id) = &release.repository_id
        && !baseline.repositories.is_empty()
        && !baseline.repositories.iter().any(|(known, _)| known == id)
    {
        let built_from = release.provenance_repository.as_deref().unwrap_or(id);
        let known: Vec<&str> = baseline
            .repositories
            .iter()
            .map(|(id, uri)| uri.as_deref().unwrap_or(id))
            .collect();
        // A repository re-created under a known name (same URI, new id) is exactly what
        // the id catches: the manifest naming it proves nothing then.
        let known_uri = baseline.repositories.iter().any(|(_, uri)| {
            uri.as_deref()
                .is_some_and(|uri| same_repository(uri, built_from))
        });
        let declared = !known_uri
            && release
                .manifest_repository
                .as_deref()
                .is_some_and(|declared| same_repository(declared, built_from));
        let (severity, tail) = if declared {
            (
                Severity::Medium,
                "its package.json names the new repository",
            )
        } else {
            (
                Severity::Critical,
                "and its package.json does not name it either",
            )
        };
        findings.push(Finding::new(
            Code::PublisherChanged,
            severity,
            Baseline::confidence(baseline.repositories.len() + 1),
            format!(
                "built from {built_from} (repository id {id}), not from {} as earlier versions of the {line} line; {tail}",
                known.join(", ")
            ),
        ));
    }
    findings
}

fn publisher_findings(
    release: &Release,
    publisher: &Publisher,
    baseline: &Baseline,
    findings: &mut Vec<Finding>,
) {
    let line = &baseline.line;
    if baseline.accounts.is_empty() {
        return;
    }
    let known = baseline
        .accounts
        .iter()
        .find(|(name, _)| *name == publisher.name);
    if let Some((_, domains)) = known {
        if let Some(domain) = publisher.email_domain()
            && !domains.is_empty()
            && !domains.contains(&domain)
        {
            findings.push(Finding::new(
                Code::PublisherChanged,
                Severity::High,
                Baseline::confidence(baseline.earlier),
                format!(
                    "published by `{}` with an email at {domain}; on the {line} line this account used {}",
                    publisher.name,
                    domains.join(", ")
                ),
            ));
        }
        return;
    }
    let accounts: Vec<&str> = baseline
        .accounts
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    let replaced_ci = baseline.previous_attested() && release.trusted_publisher.is_none();
    let mut message = format!(
        "published by `{}`, an account that published none of the {} earlier version(s) of the {line} line ({})",
        publisher.name,
        baseline.earlier,
        accounts.join(", ")
    );
    if replaced_ci {
        message.push_str("; earlier versions came from CI");
    }
    findings.push(Finding::new(
        Code::PublisherChanged,
        if replaced_ci {
            Severity::High
        } else {
            Severity::Medium
        },
        Baseline::confidence(baseline.earlier),
        message,
    ));
}

/// Whether two repository URLs name the same repository, whatever their form
/// (`git+https://forge.example/o/r.git`, `git@forge.example:o/r`, `o/r`).
pub fn same_repository(a: &str, b: &str) -> bool {
    fn tail(url: &str) -> Option<(String, String)> {
        let url = url.trim().trim_end_matches('/');
        let url = url.strip_suffix(".git").unwrap_or(url);
        let mut parts = url.rsplit(['/', ':']);
        let repo = parts.next()?.to_ascii_lowercase();
        let owner = parts.next()?.to_ascii_lowercase();
        (!repo.is_empty() && !owner.is_empty()).then_some((owner, repo))
    }
    matches!((tail(a), tail(b)), (Some(x), Some(y)) if x == y)
}
