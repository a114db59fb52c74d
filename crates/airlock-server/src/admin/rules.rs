//! Rules added at run time: approvals (exceptions) and denials, listed, added and
//! ended; each change reloads the policy.

use airlock_npm::Timestamp;
use airlock_policy::{Exception, HumanDuration, PackageSpec};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState};

use super::{bad_request, reload, require_text};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewException {
    pub(crate) package: String,
    pub(crate) reason: String,
    pub(crate) author: String,
    /// A duration from now, such as `7d`.
    #[serde(default)]
    pub(crate) expires_in: Option<String>,
    /// Every version of the one package named (`left-pad`), asked for explicitly.
    #[serde(default)]
    pub(crate) all_versions: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExceptionView {
    pub id: i64,
    pub package: String,
    pub reason: String,
    pub author: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub active: bool,
}

pub(crate) async fn add_exception(
    State(state): State<AppState>,
    Json(new): Json<NewException>,
) -> Result<(StatusCode, Json<ExceptionView>), ApiError> {
    let spec = PackageSpec::parse(&new.package).map_err(|error| bad_request(&error))?;
    // Deny lists may be wide; approvals through the API may not: a glob here
    // would waive every block of every package it matches, malware included.
    if spec.is_glob() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{spec}` is a glob: an approval names one version (`name@1.2.3`) or, with `all_versions`, every version of one package; scope-wide approvals belong in the reviewed policy file"
            ),
        ));
    }
    require_text(&new.reason, "reason")?;
    require_text(&new.author, "author")?;
    let now = state.clock().now();
    let expires = match &new.expires_in {
        Some(text) => {
            let duration = HumanDuration::parse(text)
                .map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?;
            if duration.as_millis_i64() <= 0 {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "`expires_in` is `{text}`: an approval must last a positive time (`12h`, `7d`)"
                    ),
                ));
            }
            Some(now.plus_millis(duration.as_millis_i64()))
        }
        None => None,
    };
    let make = if new.all_versions {
        Exception::every_version
    } else {
        Exception::new
    };
    make(
        spec.clone(),
        new.reason.clone(),
        new.author.clone(),
        expires,
    )
    .map_err(|error| bad_request(&error))?;
    let store = &state.inner.store;
    let id = store
        .add_exception(
            spec.as_str(),
            &new.reason,
            &new.author,
            now.unix_millis(),
            expires.map(Timestamp::unix_millis),
        )
        .await
        .map_err(|error| ApiError::internal("storing an exception", &error))?;
    reload(&state).await?;
    tracing::info!(id, package = %spec, author = %new.author, reason = %new.reason, ?expires, "exception added");
    Ok((
        StatusCode::CREATED,
        Json(ExceptionView {
            id,
            package: spec.to_string(),
            reason: new.reason,
            author: new.author,
            created: now.to_string(),
            expires: expires.map(|expires| expires.to_string()),
            active: true,
        }),
    ))
}

pub(crate) async fn list_exceptions(
    State(state): State<AppState>,
) -> Result<Json<Vec<ExceptionView>>, ApiError> {
    let now = state.clock().now();
    let records = state
        .inner
        .store
        .exceptions()
        .await
        .map_err(|error| ApiError::internal("reading exceptions", &error))?;
    Ok(Json(
        records
            .into_iter()
            .map(|record| ExceptionView {
                id: record.id,
                package: record.spec,
                reason: record.reason,
                author: record.author,
                created: Timestamp::from_unix_millis(record.created_at).to_string(),
                expires: record
                    .expires_at
                    .map(|at| Timestamp::from_unix_millis(at).to_string()),
                active: record.expires_at.is_none_or(|at| now.unix_millis() < at),
            })
            .collect(),
    ))
}

/// A rule added at run time that a person can end.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RunTimeRule {
    Exception,
    Denial,
}

impl RunTimeRule {
    fn name(self) -> &'static str {
        match self {
            Self::Exception => "exception",
            Self::Denial => "denial",
        }
    }
}

/// Ends an exception or a denial and reloads the policy.
pub(crate) async fn end_rule(
    state: &AppState,
    rule: RunTimeRule,
    id: i64,
) -> Result<StatusCode, ApiError> {
    let at = state.clock().now().unix_millis();
    let store = &state.inner.store;
    let ended = match rule {
        RunTimeRule::Exception => store.revoke_exception(id, at).await,
        RunTimeRule::Denial => store.revoke_denial(id, at).await,
    }
    .map_err(|error| ApiError::internal(&format!("revoking a {}", rule.name()), &error))?;
    if !ended {
        return Err(ApiError::not_found(format!("{} {id}", rule.name())));
    }
    reload(state).await?;
    tracing::info!(id, rule = rule.name(), "revoked");
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn revoke_exception(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    end_rule(&state, RunTimeRule::Exception, id).await
}

pub(crate) async fn revoke_denial(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    end_rule(&state, RunTimeRule::Denial, id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDenial {
    pub(crate) package: String,
    pub(crate) reason: String,
    pub(crate) author: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DenialView {
    pub id: i64,
    pub package: String,
    pub reason: String,
    pub author: String,
    pub created: String,
}

pub(crate) async fn add_denial(
    State(state): State<AppState>,
    Json(new): Json<NewDenial>,
) -> Result<(StatusCode, Json<DenialView>), ApiError> {
    let spec = PackageSpec::parse(&new.package).map_err(|error| bad_request(&error))?;
    require_text(&new.reason, "reason")?;
    require_text(&new.author, "author")?;
    let now = state.clock().now();
    let id = state
        .inner
        .store
        .add_denial(spec.as_str(), &new.reason, &new.author, now.unix_millis())
        .await
        .map_err(|error| ApiError::internal("storing a denial", &error))?;
    reload(&state).await?;
    tracing::info!(id, package = %spec, author = %new.author, reason = %new.reason, "denial added");
    Ok((
        StatusCode::CREATED,
        Json(DenialView {
            id,
            package: spec.to_string(),
            reason: new.reason,
            author: new.author,
            created: now.to_string(),
        }),
    ))
}

pub(crate) async fn list_denials(
    State(state): State<AppState>,
) -> Result<Json<Vec<DenialView>>, ApiError> {
    let records = state
        .inner
        .store
        .denials()
        .await
        .map_err(|error| ApiError::internal("reading denials", &error))?;
    Ok(Json(
        records
            .into_iter()
            .map(|record| DenialView {
                id: record.id,
                package: record.spec,
                reason: record.reason,
                author: record.author,
                created: Timestamp::from_unix_millis(record.created_at).to_string(),
            })
            .collect(),
    ))
}
