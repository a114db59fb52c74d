//! Decisions about many locked versions at once, for `airlock audit`.
//!
//! The same gate the proxy uses decides each version, so an audit and an install
//! never disagree. Packuments come from the cache (fetched when missing, several at
//! once); with `analyse`, versions never analysed are fetched and analysed, and
//! their listed provenance verified, exactly as their first download would.

use std::collections::BTreeMap;

use airlock_npm::{PackageName, Timestamp};
use airlock_policy::Decision;
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
    let mut publishers: Vec<String> = packument
        .versions()
        .filter_map(|(_, doc)| {
            doc.get::<serde_json::Value>("_npmUser")?
                .get("name")?
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    publishers.sort();
    publishers.dedup();
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
                publishers: publishers.len(),
                maintainers,
                newest_published: newest_published.clone(),
                install_script: doc.has_install_script(),
                quarantine_ms,
            }
        })
        .collect()
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
