//! Health for load balancers and the Prometheus page.
//!
//! `/-/airlock/health/live` answers while the process serves requests;
//! `/-/airlock/health/ready` also checks the database and the download log, the
//! two things without which Airlock refuses to serve tarballs. Both need no token.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::config::MetricsAccess;
use crate::metrics::Gauges;
use crate::{ApiError, AppState, admin};

/// How long the readiness check waits for the database.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
struct Liveness {
    status: &'static str,
}

pub(crate) async fn live() -> Json<impl Serialize> {
    Json(Liveness { status: "live" })
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    database: String,
    download_log_backlog: usize,
    analyses_running: usize,
    analyses_waiting: usize,
    /// Every advisory source in force: its records and last successful import.
    advisory_sources: Vec<crate::advisories::SourceStatus>,
}

pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let database = match tokio::time::timeout(DATABASE_TIMEOUT, state.store().ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("the database refused a query: {error}")),
        Err(_) => Err(format!(
            "the database did not answer within {} s",
            DATABASE_TIMEOUT.as_secs()
        )),
    };
    let (analyses_running, analyses_waiting) = state.analyses().load();
    let body = Readiness {
        status: if database.is_ok() {
            "ready"
        } else {
            "not-ready"
        },
        database: database.clone().err().unwrap_or_else(|| "ok".to_owned()),
        download_log_backlog: state.downloads().backlog(),
        analyses_running,
        analyses_waiting,
        advisory_sources: state.advisories().sources(),
    };
    let status = if database.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

pub(crate) async fn metrics_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match state.inner.config.metrics_access {
        MetricsAccess::Open => {}
        MetricsAccess::Admin => admin::authorise(&state, &headers)?,
        MetricsAccess::Off => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "metrics are turned off on this Airlock\nhint: set `metrics.access` to `open` or `admin` in its configuration",
            ));
        }
    }
    let (analyses_running, analyses_waiting) = state.analyses().load();
    let (advisories, _) = state.advisories().current();
    let (blob_files, blob_bytes) = state.inner.usage.get(state.store().blobs()).await;
    let now_ms = state.clock().now().unix_millis();
    let gauges = Gauges {
        analyses_running,
        analyses_waiting,
        download_log_backlog: state.downloads().backlog(),
        advisory_records: advisories.len(),
        advisory_age: state
            .advisories()
            .last_import()
            .map(|at| Duration::from_millis(u64::try_from(now_ms - at).unwrap_or_default())),
        database_bytes: state.store().database_bytes(),
        blob_bytes,
        blob_files,
    };
    let sources = state.advisories().sources();
    let source_gauges: Vec<crate::metrics::SourceGauge<'_>> = sources
        .iter()
        .map(|status| crate::metrics::SourceGauge {
            source: &status.source,
            records: status.records,
            imported_ms: status.imported_ms,
        })
        .collect();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&gauges, &source_gauges, state.clock().now_millis()),
    )
        .into_response())
}
