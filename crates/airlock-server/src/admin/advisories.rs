//! Advisory imports through the API (and scheduled imports), and the advisories
//! in force.

use airlock_npm::Timestamp;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::advisories::ImportReport;
use crate::alerts::Alert;
use crate::error::ErrorChain;
use crate::{ApiError, AppState};

use super::require_text;

/// An import through the API: the records of one source, verbatim.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAdvisories {
    source: String,
    records: Vec<NamedRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NamedRecord {
    /// Where the record came from (a file name), for error messages.
    pub name: String,
    pub record: serde_json::Value,
}

pub(crate) async fn import_advisories(
    State(state): State<AppState>,
    Json(new): Json<NewAdvisories>,
) -> Result<Json<ImportReport>, ApiError> {
    require_text(&new.source, "source")?;
    let records = new
        .records
        .into_iter()
        .map(|record| {
            (
                record.name,
                serde_json::to_vec(&record.record).expect("JSON values serialise"),
            )
        })
        .collect();
    import_records(&state, &new.source, records).await.map(Json)
}

/// Imports `records` as the content of `source`, then alerts on every version they
/// name that has already been downloaded. Shared by the API and scheduled imports.
pub async fn import_records(
    state: &AppState,
    source: &str,
    records: Vec<(String, Vec<u8>)>,
) -> Result<ImportReport, ApiError> {
    let (report, advisories) = state
        .advisories()
        .import(source, records, state.clock().now())
        .await
        .map_err(|error| match error {
            crate::advisories::ImportError::Store(error) => {
                ApiError::internal("storing advisories", &error)
            }
            invalid => ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "{}\nhint: nothing was imported; the previous advisories stay in force",
                    ErrorChain(&invalid)
                ),
            ),
        })?;
    state.inner.downloads.flush().await;
    // Exposure alerts are for malware: a vulnerability is an audit's business.
    for advisory in advisories
        .iter()
        .filter(|advisory| advisory.kind == airlock_advisory::Kind::Malicious)
    {
        for affected in &advisory.affected {
            let downloads = state
                .inner
                .store
                .downloads(affected.name.as_str(), None)
                .await
                .map_err(|error| ApiError::internal("reading the download log", &error))?;
            let exposed: Vec<_> = downloads
                .iter()
                .filter(|download| download.served && affected.matches(&download.version))
                .collect();
            if exposed.is_empty() {
                continue;
            }
            let mut clients: Vec<&str> = exposed
                .iter()
                .filter_map(|download| download.client.as_deref())
                .collect();
            clients.sort_unstable();
            clients.dedup();
            let mut versions: Vec<&str> = exposed
                .iter()
                .map(|download| download.version.as_str())
                .collect();
            versions.sort_unstable();
            versions.dedup();
            let first = Timestamp::from_unix_millis(exposed[0].at);
            let last = Timestamp::from_unix_millis(exposed[exposed.len() - 1].at);
            state.inner.alerts.send(Alert {
                event: "advisory-exposure",
                text: format!(
                    "{} names `{}@{}`, downloaded {} times by {} clients between {first} and {last}; see `airlock exposure {}`",
                    advisory.id,
                    affected.name,
                    versions.join(", "),
                    exposed.len(),
                    clients.len(),
                    affected.name
                ),
                details: serde_json::json!({
                    "advisory": advisory.id, "aliases": advisory.aliases, "summary": advisory.summary,
                    "package": affected.name.as_str(), "versions": versions,
                    "downloads": exposed.len(), "clients": clients,
                    "first": first.to_string(), "last": last.to_string(),
                }),
            });
        }
    }
    Ok(report)
}

/// The advisories in force, with the indicators of compromise they name (for the
/// analyser's network checks and for people).
#[derive(Debug, Serialize, Deserialize)]
pub struct AdvisorySummary {
    pub advisories: usize,
    pub iocs: airlock_advisory::Iocs,
}

pub(crate) async fn advisory_summary(State(state): State<AppState>) -> Json<AdvisorySummary> {
    let (set, _) = state.advisories().current();
    Json(AdvisorySummary {
        advisories: set.len(),
        iocs: set.iocs().clone(),
    })
}
