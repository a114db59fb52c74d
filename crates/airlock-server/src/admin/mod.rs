//! The admin API under `/-/airlock/`: decisions, approvals, denials, the quarantine
//! and the download log, for the `airlock` CLI and for people.
//!
//! Every route needs `Authorization: Bearer <admin token>`, compared in constant
//! time. Without a configured token the admin API refuses everything: it is never
//! open by accident.
//!
//! One file per resource: `reports.rs` (check, diff, why), `rules.rs` (approvals
//! and denials), `quarantine.rs`, `downloads.rs` (the download log, takedowns,
//! exposure) and `advisories.rs`; this file holds the authentication and the
//! helpers they share.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::{ApiError, AppState};

mod advisories;
mod downloads;
mod quarantine;
mod reports;
mod rules;

pub use advisories::{AdvisorySummary, NamedRecord, import_records};
pub(crate) use advisories::{advisory_summary, import_advisories};
pub use downloads::{DownloadView, ExposureReport, TakedownView};
pub(crate) use downloads::{ExposureQuery, exposure, list_downloads, list_takedowns};
pub use quarantine::QuarantineView;
pub(crate) use quarantine::list_quarantine;
pub use reports::{
    CheckReport, TrustReport, WhyReport, WithheldView, check, diff, parse_name_version, tarball,
};
pub(crate) use reports::{check_route, why};
pub use rules::{DenialView, ExceptionView};
pub(crate) use rules::{
    NewDenial, NewException, RunTimeRule, add_denial, add_exception, end_rule, list_denials,
    list_exceptions, revoke_denial, revoke_exception,
};

pub(crate) async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    authorise(&state, request.headers())?;
    Ok(next.run(request).await)
}

/// Whether `headers` carry the admin token.
pub(crate) fn authorise(state: &AppState, headers: &http::HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.inner.config.admin_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the admin API is disabled because no admin token is configured\nhint: set `admin.token` in Airlock's configuration or AIRLOCK_ADMIN_TOKEN, then pass the same token to the CLI",
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the admin API needs `Authorization: Bearer <admin token>`\nhint: pass `--admin-token` or set AIRLOCK_ADMIN_TOKEN to the server's admin token; a server started without one keeps it in its data directory's `admin-token` file",
        )),
    }
}

/// Compares without an early exit, so timing does not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn reload(state: &AppState) -> Result<(), ApiError> {
    state
        .policy()
        .reload_admin_rules()
        .await
        .map_err(|error| ApiError::internal("reloading the policy", &error))
}

fn require_text(value: &str, field: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{field}` must not be empty\nhint: say who decided and why, so the next person can judge it"
            ),
        ));
    }
    Ok(())
}

fn bad_request(error: &airlock_policy::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_version_specs() {
        let (name, version) = parse_name_version("@scope/pkg@1.2.3").unwrap();
        assert_eq!((name.as_str(), version.as_str()), ("@scope/pkg", "1.2.3"));
        let (name, version) = parse_name_version("axios@1.14.1").unwrap();
        assert_eq!((name.as_str(), version.as_str()), ("axios", "1.14.1"));
        for bad in ["axios", "@scope/pkg", "axios@", "@x"] {
            assert!(parse_name_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
