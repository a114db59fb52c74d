//! Decisions about many locked versions at once, for `airlock audit`.
//!
//! The same gate the proxy uses decides each version, so an audit and an install
//! never disagree. Packuments come from the cache (fetched when missing, several at
//! once); with `analyse`, versions never analysed are fetched and analysed, and
//! their listed provenance verified, exactly as their first download would.

use std::collections::BTreeMap;

use airlock_npm::{PackageName, Timestamp};
use airlock_policy::Decision;
use airlock_provenance::Release;
use axum::Json;
use axum::extract::State;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use crate::packuments::Freshness;
use crate::{ApiError, AppState};

/// How many packuments an audit fetches at once.
const CONCURRENCY: usize = 16;

/// One locked version to decide about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub name: String,
    pub version: String,
}

/// The request body of `POST /-/airlock/audit`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditRequest {
    pub packages: Vec<AuditQuery>,
    /// Analyse (and check the provenance of) versions never analysed before.
    #[serde(default)]
    pub analyse: bool,
}

/// The answer of `POST /-/airlock/audit`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditResponse {
    /// The server's upstream: lockfile URLs under it are the registry's.
    pub upstream: String,
    pub answers: Vec<AuditAnswer>,
}

/// What the registry and the policy say about one locked version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditAnswer {
    pub name: String,
    pub version: String,
    /// The decision, as the proxy would make it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Why there is no decision (unknown package or version, upstream failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// `dist.integrity` as the registry lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// Whether the registry lists provenance for this version.
    #[serde(default)]
    pub provenance: bool,
    /// Accounts that published any version of the package.
    #[serde(default)]
    pub publishers: usize,
    /// The package's `maintainers`.
    #[serde(default)]
    pub maintainers: usize,
    /// When its newest version was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_published: Option<String>,
    /// Whether the registry says it runs install scripts.
    #[serde(default)]
    pub install_script: bool,
    /// The policy's minimum release age for this package, in milliseconds.
    #[serde(default)]
    pub quarantine_ms: i64,
    /// Who publishes the package and how, for the crown-jewel report.
    #[serde(default)]
    pub stewardship: Stewardship,
    /// The version's `license` as its package.json states it (an SPDX expression,
    /// usually).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// Who publishes a package and how: what a reviewer of a crown jewel asks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stewardship {
    /// The account that published the locked version (`_npmUser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Whether the locked version came through trusted publishing (CI with OIDC).
    #[serde(default)]
    pub trusted_publishing: bool,
    /// Every account that published a version of the package, most versions first.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// The locked version's release line (`1.x`, `0.3.x`) and how its stable
    /// versions were published.
    #[serde(default)]
    pub line: String,
    #[serde(default)]
    pub line_versions: usize,
    #[serde(default)]
    pub line_with_provenance: usize,
    #[serde(default)]
    pub line_trusted: usize,
    /// Whether the locked version declares executables (`bin`): it runs as a
    /// command, in CI jobs too.
    #[serde(default)]
    pub bin: bool,
}

/// One account that published versions of a package.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub versions: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

/// Decides about every queried version.
pub async fn audit(state: &AppState, request: &AuditRequest) -> Vec<AuditAnswer> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for query in &request.packages {
        by_name
            .entry(query.name.clone())
            .or_default()
            .push(query.version.clone());
    }
    let mut answers = Vec::new();
    let mut valid = Vec::new();
    for (name, versions) in by_name {
        match PackageName::new(&name) {
            Ok(parsed) => valid.push((name, parsed, versions)),
            Err(error) => answers.extend(
                versions
                    .iter()
                    .map(|version| failed(&name, version, error.to_string())),
            ),
        }
    }
    state
        .inner
        .packuments
        .preload(valid.iter().map(|(_, parsed, _)| parsed))
        .await;
    let analyse = request.analyse;
    let decided = futures_util::stream::iter(valid)
        .map(|(name, parsed, versions)| async move {
            package(state, &name, &parsed, &versions, analyse).await
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<Vec<AuditAnswer>>>()
        .await;
    answers.extend(decided.into_iter().flatten());
    answers.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    answers
}

fn failed(name: &str, version: &str, error: String) -> AuditAnswer {
    AuditAnswer {
        name: name.to_owned(),
        version: version.to_owned(),
        decision: None,
        error: Some(error),
        published: None,
        integrity: None,
        provenance: false,
        publishers: 0,
        maintainers: 0,
        newest_published: None,
        install_script: false,
        stewardship: Stewardship::default(),
        license: None,
        quarantine_ms: 0,
    }
}

/// The answers for the queried versions of one package; `name` as queried.
async fn package(
    state: &AppState,
    name: &str,
    parsed: &PackageName,
    versions: &[String],
    analyse: bool,
) -> Vec<AuditAnswer> {
    let mut entry = match state.inner.packuments.get(parsed, Freshness::Cached).await {
        Ok(entry) => entry,
        Err(error) => {
            return versions
                .iter()
                .map(|version| failed(name, version, error.message().to_owned()))
                .collect();
        }
    };
    if versions
        .iter()
        .any(|version| entry.packument().version_index(version).is_none())
        && let Ok(fresh) = state
            .inner
            .packuments
            .get(parsed, Freshness::Revalidate)
            .await
    {
        entry = fresh;
    }
    if analyse {
        for version in versions {
            let Some(doc) = entry.packument().version(version) else {
                continue;
            };
            if state.inner.analyses.findings(doc).is_none()
                && let Err(error) = crate::vetting::ensure_analysed(state, &entry, version).await
            {
                tracing::warn!(package = %name, %version, error = error.message(), "could not analyse a locked version");
            }
            if let Err(error) = crate::vetting::ensure_provenance(state, &entry, version).await {
                tracing::warn!(package = %name, %version, error = error.message(), "could not check the provenance of a locked version");
            }
        }
    }
    let decided = state.inner.gate.decide(&entry);
    let packument = entry.packument();
    let quarantine_ms = state
        .policy()
        .current()
        .0
        .min_release_age_ms(packument.name());
    let releases = releases(packument);
    let accounts = accounts(&releases);
    let maintainers = packument
        .versions()
        .last()
        .and_then(|(_, doc)| doc.get::<Vec<serde_json::Value>>("maintainers"))
        .map_or(0, |list| list.len());
    let newest_published = packument
        .versions()
        .filter_map(|(version, _)| packument.publish_time(version))
        .filter_map(|time| Timestamp::parse(&time))
        .max()
        .map(|time| time.to_string());
    versions
        .iter()
        .map(|version| {
            let Some(index) = packument.version_index(version) else {
                return failed(
                    name,
                    version,
                    format!("`{name}@{version}` is not listed by the registry (unpublished, or never published)"),
                );
            };
            let (_, doc) = packument
                .version_at(index)
                .expect("the index came from this packument");
            AuditAnswer {
                name: name.to_owned(),
                version: version.clone(),
                decision: Some(decided.decisions[index].clone()),
                error: None,
                published: packument.publish_time(version),
                integrity: doc.integrity_text().map(str::to_owned),
                provenance: crate::trust::lists_attestations(doc),
                publishers: accounts.len(),
                maintainers,
                newest_published: newest_published.clone(),
                install_script: doc.has_install_script(),
                quarantine_ms,
                stewardship: stewardship(&releases[index], &releases, &accounts, doc),
                license: doc.license(),
            }
        })
        .collect()
}

/// Every version's publishing facts, in document order.
pub(crate) fn releases(packument: &airlock_npm::Packument) -> Vec<Release> {
    packument
        .versions()
        .map(|(version, doc)| {
            let published = packument
                .publish_time(version)
                .as_deref()
                .and_then(Timestamp::parse);
            Release::from_doc(version, doc, published)
        })
        .collect()
}

/// The accounts that published versions, most versions first, with when each
/// first and last published.
pub(crate) fn accounts(releases: &[Release]) -> Vec<Account> {
    let mut by_name: BTreeMap<&str, Account> = BTreeMap::new();
    for release in releases {
        let Some(publisher) = &release.publisher else {
            continue;
        };
        let account = by_name.entry(&publisher.name).or_insert_with(|| Account {
            name: publisher.name.clone(),
            ..Account::default()
        });
        account.versions += 1;
        if let Some(published) = release.published.map(|at| at.to_string()) {
            if account
                .first
                .as_ref()
                .is_none_or(|first| published < *first)
            {
                account.first = Some(published.clone());
            }
            if account.last.as_ref().is_none_or(|last| published > *last) {
                account.last = Some(published);
            }
        }
    }
    let mut accounts: Vec<Account> = by_name.into_values().collect();
    accounts.sort_by(|a, b| {
        b.versions
            .cmp(&a.versions)
            .then_with(|| a.name.cmp(&b.name))
    });
    accounts
}

/// Who published `release` and how, and how its release line is published.
pub(crate) fn stewardship(
    release: &Release,
    releases: &[Release],
    accounts: &[Account],
    doc: &airlock_npm::VersionDoc,
) -> Stewardship {
    let line_of = |version: &str| {
        js_semver::Version::parse(version)
            .ok()
            .map(|parsed| match parsed.major {
                0 => format!("0.{}.x", parsed.minor),
                major => format!("{major}.x"),
            })
    };
    let line = line_of(&release.version).unwrap_or_default();
    let on_line: Vec<&Release> = releases
        .iter()
        .filter(|other| {
            line_of(&other.version).as_ref() == Some(&line)
                && js_semver::Version::parse(&other.version)
                    .is_ok_and(|parsed| parsed.pre_release.is_empty())
        })
        .collect();
    Stewardship {
        publisher: release
            .publisher
            .as_ref()
            .map(|publisher| publisher.name.clone()),
        trusted_publishing: release.trusted_publisher.is_some(),
        accounts: accounts.to_vec(),
        line,
        line_versions: on_line.len(),
        line_with_provenance: on_line.iter().filter(|other| other.provenance).count(),
        line_trusted: on_line
            .iter()
            .filter(|other| other.trusted_publisher.is_some())
            .count(),
        bin: doc
            .get::<serde_json::Value>("bin")
            .is_some_and(|bin| !bin.is_null() && bin != serde_json::json!({}) && bin != ""),
    }
}

/// `POST /-/airlock/audit`.
pub(crate) async fn audit_route(
    State(state): State<AppState>,
    Json(request): Json<AuditRequest>,
) -> Result<Json<AuditResponse>, ApiError> {
    Ok(Json(AuditResponse {
        upstream: state.upstream_url().to_string(),
        answers: audit(&state, &request).await,
    }))
}
