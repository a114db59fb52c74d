//! What was served and who has it: the download log, upstream takedowns, and
//! `airlock exposure`.

use airlock_npm::{PackageName, Timestamp};
use airlock_policy::PackageSpec;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState};

use super::bad_request;

#[derive(Debug, Deserialize)]
pub(crate) struct DownloadQuery {
    package: String,
    #[serde(default)]
    version: Option<String>,
}

/// One recorded download.
#[derive(Debug, Serialize, Deserialize)]
pub struct DownloadView {
    pub at: String,
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    pub verdict: String,
    pub codes: Vec<String>,
    pub served: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
    /// The policy and advisories that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
}

pub(crate) async fn list_downloads(
    State(state): State<AppState>,
    Query(query): Query<DownloadQuery>,
) -> Result<Json<Vec<DownloadView>>, ApiError> {
    state.inner.downloads.flush().await;
    let records = state
        .inner
        .store
        .downloads(&query.package, query.version.as_deref())
        .await
        .map_err(|error| ApiError::internal("reading the download log", &error))?;
    Ok(Json(records.into_iter().map(download_view).collect()))
}

fn download_view(record: airlock_store::DownloadRecord) -> DownloadView {
    DownloadView {
        at: Timestamp::from_unix_millis(record.at).to_string(),
        package: record.name,
        version: record.version,
        integrity: record.integrity,
        verdict: record.verdict,
        codes: record
            .codes
            .split(',')
            .filter(|code| !code.is_empty())
            .map(str::to_owned)
            .collect(),
        served: record.served,
        client: record.client,
        user_agent: record.user_agent,
        token_name: record.token_name,
        policy_digest: record.policy_digest,
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TakedownView {
    pub package: String,
    pub version: String,
    pub kind: String,
    pub noticed: String,
}

pub(crate) async fn list_takedowns(
    State(state): State<AppState>,
) -> Result<Json<Vec<TakedownView>>, ApiError> {
    let records = state
        .inner
        .store
        .takedowns()
        .await
        .map_err(|error| ApiError::internal("reading takedowns", &error))?;
    Ok(Json(
        records
            .into_iter()
            .map(|record| TakedownView {
                package: record.name,
                version: record.version,
                kind: record.kind,
                noticed: Timestamp::from_unix_millis(record.noticed_at).to_string(),
            })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExposureQuery {
    #[serde(default)]
    pub(crate) spec: String,
}

/// Who downloaded what a spec covers: `airlock exposure`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExposureReport {
    pub spec: String,
    /// Downloads that were served, oldest first, each with the decision that let it through.
    pub downloads: Vec<DownloadView>,
    /// Requests that were refused, for completeness.
    pub refused: usize,
    /// Those requests: when, from where, and the decision that refused them.
    #[serde(default)]
    pub refused_requests: Vec<DownloadView>,
    pub advisories: Vec<String>,
    pub takedowns: Vec<TakedownView>,
}

pub(crate) async fn exposure(
    State(state): State<AppState>,
    Query(query): Query<ExposureQuery>,
) -> Result<Json<ExposureReport>, ApiError> {
    let spec = PackageSpec::parse(&query.spec).map_err(|error| bad_request(&error))?;
    if spec.is_glob() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{spec}` names no single package\nhint: write `name`, `name@version` or `name@range`"
            ),
        ));
    }
    let name_text = spec
        .as_str()
        .get(1..)
        .and_then(|rest| rest.find('@'))
        .map_or(spec.as_str(), |at| &spec.as_str()[..=at]);
    let name = PackageName::new(name_text).map_err(|error| ApiError::bad_name(&error))?;
    state.inner.downloads.flush().await;
    let store = &state.inner.store;
    let records = store
        .downloads(name.as_str(), None)
        .await
        .map_err(|error| ApiError::internal("reading the download log", &error))?;
    let matching: Vec<_> = records
        .into_iter()
        .filter(|record| spec.matches(&name, &record.version))
        .collect();
    let refused = matching.iter().filter(|record| !record.served).count();
    let refused_requests = matching
        .iter()
        .filter(|record| !record.served)
        .cloned()
        .map(download_view)
        .collect();
    let (advisory_set, _) = state.advisories().current();
    let mut advisories: Vec<String> = matching
        .iter()
        .flat_map(|record| advisory_set.lookup(&name, &record.version))
        .flat_map(|finding| finding.ids)
        .collect();
    advisories.sort();
    advisories.dedup();
    let takedowns = store
        .takedowns()
        .await
        .map_err(|error| ApiError::internal("reading takedowns", &error))?
        .into_iter()
        .filter(|record| record.name == name.as_str() && spec.matches(&name, &record.version))
        .map(|record| TakedownView {
            package: record.name,
            version: record.version,
            kind: record.kind,
            noticed: Timestamp::from_unix_millis(record.noticed_at).to_string(),
        })
        .collect();
    Ok(Json(ExposureReport {
        spec: spec.to_string(),
        downloads: matching
            .into_iter()
            .filter(|record| record.served)
            .map(download_view)
            .collect(),
        refused,
        refused_requests,
        advisories,
        takedowns,
    }))
}
