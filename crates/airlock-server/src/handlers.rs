//! Request handlers: one function per kind of answer.

use airlock_npm::{Form, PackageName, TarballBase, TarballFile};
use axum::body::Bytes;
use std::net::SocketAddr;

use airlock_policy::{Decision, Verdict};
use airlock_store::DownloadRecord;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::alerts::Alert;
use crate::answers::AnswerKey;
use crate::encoding::{COMPRESS_FROM, Coding, etag_of};
use crate::gate::{Decided, codes_text};
use crate::packuments::{Entry, Freshness};
use crate::path::PackagePath;
use crate::tarballs::Wanted;
use crate::{ApiError, AppState};

const METADATA_CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

/// Everything under a package name: packuments, version documents, tarballs.
pub(crate) async fn package(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    let (method, uri, headers) = (&parts.method, &parts.uri, &parts.headers);
    match *method {
        Method::GET | Method::HEAD => {}
        Method::PUT | Method::POST | Method::DELETE | Method::PATCH => {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Airlock is a read-only proxy and refuses publishing, unpublishing and dist-tag changes\nhint: publish to your upstream registry directly (`npm publish --registry <upstream>`)",
            ));
        }
        _ => return Err(method_not_allowed(method, uri.path())),
    }
    match PackagePath::parse(uri.path())? {
        PackagePath::Packument(name) => packument(&state, &name, headers).await,
        PackagePath::Version(name, spec) => version(&state, &name, &spec, headers).await,
        PackagePath::Tarball(name, file) => {
            let client = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.to_string());
            tarball(&state, &name, &file, headers, client).await
        }
    }
}

async fn packument(
    state: &AppState,
    name: &PackageName,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let form = Form::from_accept(
        headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok()),
    );
    let key = AnswerKey {
        name: name.clone(),
        form,
        base: tarball_base(state, headers)?,
        coding: Coding::preferred(headers),
    };
    let packuments = &state.inner.packuments;
    let gate = &state.inner.gate;
    let answer = if let Some(answer) = packuments
        .answers()
        .fresh(&key, |decided| gate.holds(decided))
    {
        crate::metrics::cache("packument", "answer");
        answer
    } else {
        let entry = packuments.get(name, Freshness::Cached).await?;
        let decided = gate.decide(&entry);
        crate::vetting::analyse_newest(state, &entry);
        if decided.view.is_empty() && entry.packument().versions().next().is_some() {
            return Err(everything_refused(name, &decided));
        }
        let base = key.base.clone();
        let (source, fetched_at) = entry.source();
        packuments
            .answers()
            .answer(key, (&source, fetched_at), &decided, || {
                entry.packument().render(&decided.view, form, &base)
            })
            .await
    };
    let decided = &answer.decided;
    crate::metrics::withheld(decided.withheld);
    let mut response = json_response(
        headers,
        form.content_type(),
        &answer.etag,
        answer.body.clone(),
        answer.coding.map(Coding::name),
    );
    if let Some(notice) = &decided.notice {
        decided.log_withheld_once(name);
        if let Ok(value) = header::HeaderValue::from_str(notice) {
            response.headers_mut().insert("npm-notice", value);
        }
        if decided.latest_withheld {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    Ok(response)
}

/// Every version is refused: say which codes, so the user knows what to approve.
fn everything_refused(name: &PackageName, decided: &Decided) -> ApiError {
    let mut codes: Vec<String> = decided
        .decisions
        .iter()
        .flat_map(Decision::codes)
        .map(|code| code.to_string())
        .collect();
    codes.sort();
    codes.dedup();
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "every version of `{name}` is refused by Airlock's policy [{}]\nhint: `airlock quarantine list` shows when quarantines end; `airlock approve {name}@<version> --reason ...` allows one version",
            codes.join(", ")
        ),
    )
}

async fn version(
    state: &AppState,
    name: &PackageName,
    spec: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let packuments = &state.inner.packuments;
    let mut entry = packuments.get(name, Freshness::Cached).await?;
    let known = |entry: &Entry| {
        let packument = entry.packument();
        packument.version_index(spec).is_some() || packument.dist_tags().contains_key(spec)
    };
    if !known(&entry) {
        entry = packuments.get(name, Freshness::Revalidate).await?;
    }
    let decided = state.inner.gate.decide(&entry);
    let packument = entry.packument();
    let Some((version, doc)) = packument.resolve(&decided.view, spec) else {
        // A version, or the target of a tag, that the policy hides: say why.
        let target = packument.dist_tags().get(spec).map_or(spec, String::as_str);
        if let Some(index) = packument.version_index(target) {
            crate::metrics::decision(&decided.decisions[index]);
            return Err(ApiError::refused(name, target, &decided.decisions[index]));
        }
        return Err(ApiError::not_found(format!(
            "`{name}` has no version or dist-tag `{spec}`; this"
        )));
    };
    let body = Bytes::from(packument.render_version(version, doc, &tarball_base(state, headers)?));
    let etag = etag_of(&body);
    if let Some(coding) = Coding::preferred(headers).filter(|_| body.len() >= COMPRESS_FROM) {
        return Ok(json_response(
            headers,
            "application/json",
            &coding.etag(&etag),
            coding.compress(&body),
            Some(coding.name()),
        ));
    }
    Ok(json_response(
        headers,
        "application/json",
        &etag,
        body,
        None,
    ))
}

async fn tarball(
    state: &AppState,
    name: &PackageName,
    file: &str,
    headers: &HeaderMap,
    client: Option<String>,
) -> Result<Response, ApiError> {
    let file = TarballFile::parse(name, file)
        .map_err(|error| ApiError::new(StatusCode::NOT_FOUND, error.to_string()))?;
    let version = file.version.as_str();
    let packuments = &state.inner.packuments;
    let mut entry = packuments.get(name, Freshness::Cached).await;
    if entry
        .as_ref()
        .is_ok_and(|entry| entry.packument().version_index(version).is_none())
    {
        // The cached copy may predate the version; never answer 404 from stale metadata.
        entry = packuments.get(name, Freshness::Revalidate).await;
    }
    let entry = match entry {
        Ok(entry) => entry,
        // The whole package may have been taken down: say so, and log the attempt.
        Err(error) if error.status() == StatusCode::NOT_FOUND => {
            return Err(unlisted(state, name, version, headers, client).await);
        }
        Err(error) => return Err(error),
    };
    let Some(index) = entry.packument().version_index(version) else {
        return Err(unlisted(state, name, version, headers, client).await);
    };
    let (_, doc) = entry
        .packument()
        .version_at(index)
        .expect("the index came from this packument");
    let mut decided = state.inner.gate.decide(&entry);
    // No tarball leaves before its analysis: the first request analyses it.
    if decided.decisions[index].admits() && !decided.analysed[index] {
        crate::vetting::ensure_analysed(state, &entry, version).await?;
        decided = state.inner.gate.decide(&entry);
    }
    // Nor before the provenance the registry lists for it is verified.
    if decided.decisions[index].admits() && state.inner.trust.needs_check(name, version, doc) {
        crate::vetting::ensure_provenance(state, &entry, version).await?;
        decided = state.inner.gate.decide(&entry);
    }
    let decision = &decided.decisions[index];
    crate::metrics::decision(decision);
    let integrity = doc.integrity();
    let mut record = DownloadRecord {
        at: state.clock().now_millis(),
        name: name.to_string(),
        version: version.to_owned(),
        integrity: doc.integrity_text().map(str::to_owned),
        verdict: decision.verdict.name().to_owned(),
        codes: codes_text(decision),
        served: false,
        client,
        user_agent: user_agent(headers),
        token_name: None,
        policy_digest: Some(decision.policy_digest.clone()),
    };
    if !decision.admits() {
        // Refused either way; a record that cannot be written is logged as such.
        let _ = state.inner.downloads.append(&record);
        if decision.verdict == Verdict::Block {
            state.inner.alerts.send_once(
                format!("block {name}@{version}"),
                Alert {
                    event: "block",
                    text: format!("Airlock blocked a download of `{name}@{version}` [{}]", codes_text(decision)),
                    details: serde_json::json!({"package": name.as_str(), "version": version, "decision": decision}),
                },
            );
        }
        return Err(ApiError::refused(name, version, decision));
    }
    let integrity = crate::tarballs::verifiable(name, version, integrity)?;
    let wanted = Wanted {
        name,
        version,
        upstream_url: doc.upstream_tarball(),
        integrity,
    };
    let result = state.inner.tarballs.serve(wanted, headers).await;
    record.served = result
        .as_ref()
        .is_ok_and(|response| response.status().is_success());
    let served = record.served;
    // Nothing leaves unlogged: the record is written before the body is sent.
    if state.inner.downloads.append(&record).is_err() && served {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Airlock could not record the download of `{name}@{version}` in its download log (the disk refused the write; is it full?), and serves nothing it cannot log\nhint: the operator should free space in the data directory; retry afterwards"
            ),
        ));
    }
    if served {
        state.inner.history.record(name.as_str(), version);
    }
    result
}

/// A tarball of a version the upstream does not list: taken down (410, recorded in
/// the download log), or simply unknown (404).
async fn unlisted(
    state: &AppState,
    name: &PackageName,
    version: &str,
    headers: &HeaderMap,
    client: Option<String>,
) -> ApiError {
    let takedown = match state.inner.store.takedown(name.as_str(), version).await {
        Ok(takedown) => takedown,
        Err(error) => return ApiError::internal("reading takedowns", &error),
    };
    let Some(takedown) = takedown else {
        return ApiError::not_found(format!(
            "`{name}@{version}` is not listed by the upstream registry, so its tarball"
        ));
    };
    let _ = state.inner.downloads.append(&DownloadRecord {
        at: state.clock().now_millis(),
        name: name.to_string(),
        version: version.to_owned(),
        integrity: None,
        verdict: "block".to_owned(),
        codes: "takedown".to_owned(),
        served: false,
        client,
        user_agent: user_agent(headers),
        token_name: None,
        policy_digest: None,
    });
    let noticed = airlock_npm::Timestamp::from_unix_millis(takedown.noticed_at);
    ApiError::new(
        StatusCode::GONE,
        format!(
            "`{name}@{version}` was removed by the upstream registry ({}; Airlock noticed at {noticed}) and is no longer served [takedown]\nhint: upstream removals usually mean malware; check `airlock exposure {name}@{version}` for machines that installed it",
            takedown.kind
        ),
    )
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Endpoints answered by the upstream, passed through unchanged.
pub(crate) async fn passthrough(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let path_and_query = uri.path_and_query().map_or("/", |value| value.as_str());
    let context = format!("`{}`", uri.path());
    let started = std::time::Instant::now();
    let forwarded = state
        .inner
        .upstream
        .forward(method, path_and_query, &headers, body)
        .await;
    crate::metrics::upstream(
        "passthrough",
        if forwarded.is_ok() { "ok" } else { "error" },
        started.elapsed(),
    );
    let airlock_upstream::Forwarded {
        status,
        content_type,
        mut body,
    } = forwarded.map_err(|error| ApiError::upstream(&context, &error))?;
    if uri.path() == "/-/v1/search" {
        body = rewrite_upstream_urls(
            state.inner.upstream.base().as_str(),
            &tarball_base(&state, &headers)?,
            body,
        );
    }
    let mut response = (status, body).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    Ok(response)
}

/// Search results may carry registry URLs; they point at Airlock instead, so nothing
/// a client follows leads around it.
fn rewrite_upstream_urls(upstream: &str, base: &TarballBase, body: Bytes) -> Bytes {
    let upstream = upstream.trim_end_matches('/');
    match std::str::from_utf8(&body) {
        Ok(text) if text.contains(upstream) => Bytes::from(text.replace(upstream, base.as_str())),
        _ => body,
    }
}

/// Airlock has no user accounts; clients asking who they are get a stable answer.
pub(crate) async fn whoami() -> Response {
    axum::Json(serde_json::json!({ "username": "anonymous" })).into_response()
}

pub(crate) async fn root() -> Response {
    axum::Json(serde_json::json!({
        "name": "airlock",
        "version": env!("CARGO_PKG_VERSION"),
    }))
    .into_response()
}

pub(crate) async fn unknown_endpoint(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "Airlock does not serve `{method} {}`\nhint: Airlock serves package metadata and tarballs, `/-/ping`, `/-/whoami`, `/-/npm/v1/keys`, `/-/npm/v1/attestations/*`, `/-/npm/v1/security/*` and `/-/v1/search`",
            uri.path()
        ),
    )
}

pub(crate) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    method_not_allowed(&method, uri.path())
}

fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("`{method} {path}` is not supported by Airlock"),
    )
}

/// The answer for a metadata document: `body` (in the coding `encoding` names)
/// with its ETag, or 304 when the client holds that representation already.
fn json_response(
    request: &HeaderMap,
    content_type: &'static str,
    etag: &str,
    body: Bytes,
    encoding: Option<&'static str>,
) -> Response {
    let etag_value = HeaderValue::from_str(etag).expect("ETags are hex");
    let cache_control = HeaderValue::from_static(METADATA_CACHE_CONTROL);
    let vary = HeaderValue::from_static("Accept, Accept-Encoding");
    if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag_value),
                (header::CACHE_CONTROL, cache_control),
                (header::VARY, vary),
            ],
        )
            .into_response();
    }
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache_control),
            (header::VARY, vary),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// Where tarball URLs point: the configured public URL, else the address the client
/// used to reach Airlock.
fn tarball_base(state: &AppState, headers: &HeaderMap) -> Result<TarballBase, ApiError> {
    if let Some(url) = &state.inner.config.public_url {
        return Ok(TarballBase::new(url.as_str()));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "the request has no `Host` header, so Airlock cannot tell which address to put in tarball URLs\nhint: send a Host header, or set `public_url` in Airlock's configuration",
            )
        })?;
    let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(host_char) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{host}` is not a valid Host header"),
        ));
    }
    let scheme = match headers.get("x-forwarded-proto").map(HeaderValue::as_bytes) {
        Some(b"https") => "https",
        _ => "http",
    };
    Ok(TarballBase::new(&format!("{scheme}://{host}")))
}
