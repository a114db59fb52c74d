//! The admin API under `/-/airlock/`: decisions, approvals, denials, the quarantine
//! and the download log, for the `airlock` CLI and for people.
//!
//! Every route needs `Authorization: Bearer <admin token>`, compared in constant
//! time. Without a configured token the admin API refuses everything: it is never
//! open by accident.

use airlock_npm::{PackageName, Timestamp};
use airlock_policy::{Decision, Exception, HumanDuration, PackageSpec};
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::advisories::ImportReport;
use crate::alerts::Alert;
use crate::error::ErrorChain;
use crate::packuments::Freshness;
use crate::{ApiError, AppState};

/// What `airlock check` reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub decision: Decision,
    /// What the content analysis found, including what decided nothing.
    #[serde(default)]
    pub findings: Vec<airlock_analyze::Finding>,
    /// Signature, provenance and the publisher history of the release line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<TrustReport>,
}

/// The trust material of one version, as `airlock check` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustReport {
    pub signature: airlock_provenance::SignatureStatus,
    /// The provenance check, when the registry lists provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::trust::ProvenanceCheck>,
    /// Who published it (`_npmUser`), and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<airlock_provenance::Publisher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_publisher: Option<String>,
    /// What the earlier versions of its release line did.
    pub baseline: airlock_provenance::Baseline,
}

/// The decision about `name@version` now, fetching the packument if needed.
pub async fn check(
    state: &AppState,
    name: &PackageName,
    version: &str,
) -> Result<CheckReport, ApiError> {
    let mut entry = state.inner.packuments.get(name, Freshness::Cached).await?;
    if entry.packument().version_index(version).is_none() {
        entry = state
            .inner
            .packuments
            .get(name, Freshness::Revalidate)
            .await?;
    }
    let Some(index) = entry.packument().version_index(version) else {
        return Err(ApiError::not_found(format!(
            "`{name}@{version}` is not listed upstream; it"
        )));
    };
    let (_, doc) = entry
        .packument()
        .version_at(index)
        .expect("the index came from this packument");
    let findings = match state.inner.analyses.findings(doc) {
        Some(findings) => findings,
        None => crate::vetting::ensure_analysed(state, &entry, version).await?,
    };
    let trust = &state.inner.trust;
    crate::vetting::ensure_provenance(state, &entry, version).await?;
    let decided = state.inner.gate.decide(&entry);
    let packument = entry.packument();
    let published = packument
        .publish_time(version)
        .as_deref()
        .and_then(airlock_npm::Timestamp::parse);
    let release = airlock_provenance::Release::from_doc(version, doc, published);
    let (judged, trust_findings) = trust
        .findings(packument)
        .into_iter()
        .nth(index)
        .expect("one judgement per version");
    let trust = TrustReport {
        signature: trust.signature(name, version, doc, published),
        provenance: trust
            .check(name, version, doc)
            .map(|check| (*check).clone()),
        publisher: release.publisher,
        trusted_publisher: release.trusted_publisher,
        baseline: judged.baseline,
    };
    Ok(CheckReport {
        trust: Some(trust),
        findings: {
            let (advisories, _) = state.advisories().current();
            let mut all = findings.findings.clone();
            all.extend(airlock_analyze::indicator_findings(
                &findings.hosts,
                advisories.iocs(),
            ));
            // The signature's status has its own place in the report.
            all.extend(
                trust_findings
                    .into_iter()
                    .filter(|finding| finding.code != airlock_policy::Code::SignatureMissing),
            );
            all
        },
        package: name.to_string(),
        version: version.to_owned(),
        published: entry.packument().publish_time(version),
        decision: decided.decisions[index].clone(),
    })
}

/// What changed from `name@from` to `name@to`, both analysed.
pub async fn diff(
    state: &AppState,
    name: &PackageName,
    from: &str,
    to: &str,
) -> Result<airlock_analyze::VersionDiff, ApiError> {
    let mut entry = state.inner.packuments.get(name, Freshness::Cached).await?;
    if [from, to]
        .iter()
        .any(|version| entry.packument().version_index(version).is_none())
    {
        entry = state
            .inner
            .packuments
            .get(name, Freshness::Revalidate)
            .await?;
    }
    let mut both = Vec::new();
    for version in [from, to] {
        if entry.packument().version_index(version).is_none() {
            return Err(ApiError::not_found(format!(
                "`{name}@{version}` is not listed upstream; it"
            )));
        }
        let analysis = state.inner.analyses.analysis_of(entry.packument(), version).await.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("could not fetch or analyse `{name}@{version}`\nhint: the log says why; check the upstream"),
            )
        })?;
        both.push(analysis);
    }
    Ok(airlock_analyze::VersionDiff::of_analyses(
        &both[0], &both[1], from, to,
    ))
}

/// Splits `name@version` (`@scope/name@1.0.0` included).
pub fn parse_name_version(spec: &str) -> Result<(PackageName, String), ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{spec}` is not `name@version`\nhint: write the package and an exact version, such as `axios@1.14.1`"
            ),
        )
    };
    let index = spec
        .get(1..)
        .and_then(|rest| rest.rfind('@'))
        .ok_or_else(invalid)?
        + 1;
    let (name, version) = (&spec[..index], &spec[index + 1..]);
    if version.is_empty() {
        return Err(invalid());
    }
    let name = PackageName::new(name).map_err(|error| ApiError::bad_name(&error))?;
    Ok((name, version.to_owned()))
}

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

pub(crate) async fn check_route(
    State(state): State<AppState>,
    Path(spec): Path<String>,
) -> Result<Json<CheckReport>, ApiError> {
    let (name, version) = parse_name_version(&spec)?;
    check(&state, &name, &version).await.map(Json)
}

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

/// One version waiting in quarantine.
#[derive(Debug, Serialize, Deserialize)]
pub struct QuarantineView {
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub codes: Vec<String>,
    pub decision: Decision,
    /// When the decision was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<String>,
}

pub(crate) async fn list_quarantine(
    State(state): State<AppState>,
) -> Result<Json<Vec<QuarantineView>>, ApiError> {
    let now = state.clock().now();
    let records = state
        .inner
        .store
        .quarantined(now.unix_millis())
        .await
        .map_err(|error| ApiError::internal("reading the quarantine", &error))?;
    let (policy, _) = state.policy().current();
    let mut waiting = Vec::with_capacity(records.len());
    for record in records {
        let Ok(name) = PackageName::new(&record.name) else {
            continue;
        };
        // A decision recorded before an approval may still say "quarantine".
        let approved = policy.exceptions().iter().any(|exception| {
            exception.is_active(now) && exception.spec.matches(&name, &record.version)
        });
        let Ok(decision) = serde_json::from_str::<Decision>(&record.decision) else {
            continue;
        };
        if approved {
            continue;
        }
        waiting.push(QuarantineView {
            package: record.name,
            version: record.version,
            until: record
                .until
                .map(|at| Timestamp::from_unix_millis(at).to_string()),
            codes: record
                .codes
                .split(',')
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
                .collect(),
            decision,
            decided: Some(Timestamp::from_unix_millis(record.decided_at).to_string()),
        });
    }
    Ok(Json(waiting))
}

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
    for advisory in &advisories {
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

/// One version withheld from clients, and why.
#[derive(Debug, Serialize, Deserialize)]
pub struct WithheldView {
    pub version: String,
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub codes: Vec<String>,
    pub reasons: Vec<String>,
}

/// What a range gets through Airlock now, and what it withholds.
#[derive(Debug, Serialize, Deserialize)]
pub struct WhyReport {
    pub package: String,
    /// The range asked about; `*` for the whole package.
    pub range: String,
    /// The newest version in the range a client gets now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolves_to: Option<String>,
    /// Versions in the range withheld, newest first.
    pub withheld: Vec<WithheldView>,
}

/// `why/{name}` or `why/{name@range}`: the versions of the range Airlock withholds,
/// each with its decision, and what the range resolves to meanwhile.
pub(crate) async fn why(
    State(state): State<AppState>,
    Path(spec): Path<String>,
) -> Result<Json<WhyReport>, ApiError> {
    let (name_text, range_text) = match spec.get(1..).and_then(|rest| rest.rfind('@')) {
        Some(at) => (&spec[..=at], &spec[at + 2..]),
        None => (spec.as_str(), "*"),
    };
    let name = PackageName::new(name_text).map_err(|error| ApiError::bad_name(&error))?;
    let range = js_semver::Range::parse(range_text).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{range_text}` is not a version range\nhint: write `name`, `name@^1.2.0` or `name@1.x`"),
        )
    })?;
    let entry = state.inner.packuments.get(&name, Freshness::Cached).await?;
    let decided = state.inner.gate.decide(&entry);
    let packument = entry.packument();
    let mut resolves_to: Option<js_semver::Version> = None;
    let mut withheld = Vec::new();
    for ((version, _), decision) in packument.versions().zip(&decided.decisions) {
        let Ok(parsed) = js_semver::Version::parse(version) else {
            continue;
        };
        if !range.satisfies(&parsed) {
            continue;
        }
        if decision.admits() {
            if resolves_to.as_ref().is_none_or(|best| parsed > *best) {
                resolves_to = Some(parsed);
            }
            continue;
        }
        withheld.push((
            parsed,
            WithheldView {
                version: version.to_owned(),
                verdict: decision.verdict.name().to_owned(),
                until: decision.quarantine_until().map(|until| until.to_string()),
                codes: decision.codes().iter().map(ToString::to_string).collect(),
                reasons: decision
                    .reasons
                    .iter()
                    .map(|reason| format!("{}: {}", reason.code, reason.message))
                    .collect(),
            },
        ));
    }
    withheld.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(Json(WhyReport {
        package: name.to_string(),
        range: range_text.to_owned(),
        resolves_to: resolves_to.map(|version| version.to_string()),
        withheld: withheld.into_iter().map(|(_, view)| view).collect(),
    }))
}
