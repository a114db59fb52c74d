//! The review console under `/-/airlock/ui/`: the quarantine queue, a version's
//! decision with its findings and traces, and approve or deny with a reason.
//!
//! Server-rendered HTML with no outside assets (it works offline). Sign-in takes
//! the admin token, or, behind an SSO reverse proxy, a configured trusted header
//! naming the user; either gives a session cookie (`HttpOnly`, `SameSite=Strict`)
//! and every form carries the session's CSRF token. The actions are the admin
//! API's own, with the signed-in user recorded as the author.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::admin::{self, NewDenial, NewException};
use crate::{ApiError, AppState};

const COOKIE: &str = "airlock_console";
const BASE: &str = "/-/airlock/ui";

/// At most `max` characters of `text`, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// The signed-in user and CSRF token of a request, if any.
fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<(String, String)> {
    state
        .inner
        .console
        .find(&cookie_value(headers)?, state.clock().now_millis())
}

/// The user a trusted reverse proxy names, when the configuration names its header.
fn proxy_user(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let name = state.inner.config.console_user_header.as_deref()?;
    let user = headers.get(name)?.to_str().ok()?.trim();
    (!user.is_empty()).then(|| user.to_owned())
}

fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age={}",
        crate::sessions::SESSION.as_secs()
    ))
    .expect("hex and ASCII")
}

/// A table of `rows` (cells already HTML) under `headings`.
fn table(headings: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = String::from("<table><tr>");
    for heading in headings {
        let _ = write!(out, "<th>{heading}</th>");
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: the console's frame around `body`.
fn page(title: &str, user: Option<(&str, &str)>, body: &str) -> Response {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - Airlock</title><style>{STYLE}</style></head><body><header><span><a href=\"{BASE}/\">Airlock review</a> &nbsp; <a href=\"{BASE}/exceptions\">Approvals</a> &nbsp; <a href=\"{BASE}/denials\">Denials</a> &nbsp; <a href=\"{BASE}/exposure\">Exposure</a> &nbsp; <a href=\"{BASE}/policy\">Policy</a> &nbsp; <a href=\"{BASE}/critical\">Critical path</a></span>",
        escape(title)
    );
    if let Some((user, csrf)) = user {
        let _ = write!(
            html,
            "<form method=\"post\" action=\"{BASE}/sign-out\" class=\"inline\"><span>{}</span> <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>Sign out</button></form>",
            escape(user)
        );
    }
    let _ = write!(html, "</header><main>{body}</main></body></html>");
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a}header{background:#1d232a;color:#fff;padding:.6em 1.2em;display:flex;justify-content:space-between}header a{color:#fff;font-weight:600;text-decoration:none}main{padding:1em 1.2em;max-width:70em}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #dde;vertical-align:top}code,pre{font:12px/1.4 ui-monospace,monospace}pre{background:#f4f5f7;padding:.5em;white-space:pre-wrap;word-break:break-all;margin:.2em 0}.critical,.block{color:#b00020;font-weight:600}.high,.quarantine{color:#b25e00;font-weight:600}.note{background:#eef6ee;padding:.5em}.error{background:#fdecea;padding:.5em}form.inline{display:inline}input[type=text]{width:24em}fieldset{margin:1em 0;border:1px solid #dde}";

fn sign_in_page(error: Option<&str>, proxy_configured: bool) -> Response {
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(error) = error {
        let _ = write!(body, "<p class=\"error\">{}</p>", escape(error));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{BASE}/sign-in\"><p><label>Your name (recorded with what you approve)<br><input type=\"text\" name=\"user\" autocomplete=\"username\" required></label></p><p><label>Admin token<br><input type=\"password\" name=\"token\" autocomplete=\"current-password\" required></label></p><p><button>Sign in</button></p></form><p>The admin token is in the data directory's <code>admin-token</code> file unless one is configured.</p>"
    );
    if proxy_configured {
        body.push_str("<p>Behind the single sign-on proxy, opening the console signs you in.</p>");
    }
    page("Sign in", None, &body)
}

#[derive(Deserialize)]
pub(crate) struct SignIn {
    user: String,
    token: String,
}

pub(crate) async fn sign_in(State(state): State<AppState>, Form(form): Form<SignIn>) -> Response {
    let user = form.user.trim();
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {}", form.token.trim())) {
        headers.insert(header::AUTHORIZATION, value);
    }
    if user.is_empty() || admin::authorise(&state, &headers).is_err() {
        let mut response = sign_in_page(
            Some("That token is not this Airlock's admin token (or the name is empty)."),
            state.inner.config.console_user_header.is_some(),
        );
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    }
    let (id, _) = state.inner.console.start(user, state.clock().now_millis());
    tracing::info!(user, "console sign-in");
    let mut response = Redirect::to(&format!("{BASE}/")).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&id));
    response
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some((_, csrf)) = signed_in(&state, &headers)
        && csrf == form.csrf
        && let Some(cookie) = cookie_value(&headers)
    {
        state.inner.console.end(&cookie);
    }
    let mut response = Redirect::to(&format!("{BASE}/")).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "airlock_console=; Path=/-/airlock/ui; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The signed-in user, or a response that signs in: the trusted proxy's user gets
/// a session on the spot; anyone else gets the sign-in page.
fn require_user(state: &AppState, headers: &HeaderMap) -> Result<(String, String), Box<Response>> {
    if let Some(found) = signed_in(state, headers) {
        return Ok(found);
    }
    if let Some(user) = proxy_user(state, headers) {
        let (id, _) = state.inner.console.start(&user, state.clock().now_millis());
        let mut response = Redirect::to(&format!("{BASE}/")).into_response();
        response
            .headers_mut()
            .insert(header::SET_COOKIE, session_cookie(&id));
        return Err(Box::new(response));
    }
    Err(Box::new(sign_in_page(
        None,
        state.inner.config.console_user_header.is_some(),
    )))
}

#[derive(Deserialize, Default)]
pub(crate) struct QueueFilter {
    #[serde(default)]
    code: String,
    #[serde(default)]
    package: String,
    /// Only decisions made within this long (`1d`, `7d`, ...).
    #[serde(default)]
    within: String,
}

/// The queue: versions waiting in quarantine, newest decisions first.
pub(crate) async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<QueueFilter>,
) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let waiting = match admin::list_quarantine(State(state.clone())).await {
        Ok(axum::Json(waiting)) => waiting,
        Err(error) => return error.into_response(),
    };
    let since = airlock_policy::HumanDuration::parse(&filter.within)
        .ok()
        .map(|within| state.clock().now().plus_millis(-within.as_millis_i64()));
    let shown: Vec<_> = waiting
        .iter()
        .filter(|entry| {
            since.is_none_or(|since| {
                entry
                    .decided
                    .as_deref()
                    .and_then(airlock_npm::Timestamp::parse)
                    .is_some_and(|decided| decided >= since)
            })
        })
        .filter(|entry| filter.code.is_empty() || entry.codes.contains(&filter.code))
        .filter(|entry| {
            filter.package.is_empty() || entry.package.contains(filter.package.as_str())
        })
        .collect();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Waiting for review</h1><form method=\"get\" action=\"{BASE}/\"><input type=\"text\" name=\"package\" placeholder=\"package\" value=\"{}\"> <input type=\"text\" name=\"code\" placeholder=\"code (release-age, data-exfiltration, ...)\" value=\"{}\"> <input type=\"text\" name=\"within\" placeholder=\"decided within (1d, 7d)\" value=\"{}\"> <button>Filter</button></form><p>Queues: <a href=\"{BASE}/?code=new-package\">new packages</a> · <a href=\"{BASE}/?code=critical-bump\">critical-path bumps</a> · <a href=\"{BASE}/?code=release-age\">release age</a> · <a href=\"{BASE}/\">all</a></p><p>{} of {} versions.</p><table><tr><th>version</th><th>until</th><th>codes</th><th>why</th></tr>",
        escape(&filter.package),
        escape(&filter.code),
        escape(&filter.within),
        shown.len(),
        waiting.len()
    );
    for entry in shown.iter().rev() {
        let spec = format!("{}@{}", entry.package, entry.version);
        let why = entry
            .decision
            .reasons
            .first()
            .map(|reason| reason.message.as_str())
            .unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td><a href=\"{BASE}/version/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&spec),
            escape(&spec),
            escape(entry.until.as_deref().unwrap_or("until approved")),
            escape(&entry.codes.join(", ")),
            escape(&shorten(why, 160))
        );
    }
    body.push_str("</table>");
    page("Waiting for review", Some((&user, &csrf)), &body)
}

#[derive(Deserialize, Default)]
pub(crate) struct Notice {
    #[serde(default)]
    done: String,
}

/// One version: its decision and reasons, findings with their code and trace,
/// who published it, and the forms to approve or deny it.
pub(crate) async fn version(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(spec): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let (name, version) = match admin::parse_name_version(&spec) {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    let report = match admin::check(&state, &name, &version).await {
        Ok(report) => report,
        Err(error) => {
            let body = format!("<p class=\"error\">{}</p>", escape(error.message()));
            let mut response = page(&spec, Some((&user, &csrf)), &body);
            *response.status_mut() = error.status();
            return response;
        }
    };
    let decision = &report.decision;
    let verdict = decision.verdict.name();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}@{}</h1>",
        escape(&report.package),
        escape(&report.version)
    );
    if !notice.done.is_empty() {
        let _ = write!(body, "<p class=\"note\">{}</p>", escape(&notice.done));
    }
    let until = decision
        .quarantine_until()
        .map(|until| format!(" until {until}"))
        .unwrap_or_default();
    let _ = write!(
        body,
        "<p>Decision: <span class=\"{verdict}\">{verdict}</span>{}{}</p>",
        escape(&until),
        report
            .published
            .as_deref()
            .map(|at| format!(", published {}", escape(at)))
            .unwrap_or_default()
    );
    if let Some(waiver) = &decision.waived_by {
        let _ = write!(
            body,
            "<p class=\"note\">Waived: {}</p>",
            escape(&format!("{waiver:?}"))
        );
    }
    body.push_str("<h2>Reasons</h2><table><tr><th>code</th><th>action</th><th>why</th></tr>");
    for reason in &decision.reasons {
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(reason.code.as_str()),
            reason.action.name(),
            reason.action.name(),
            escape(&reason.message)
        );
    }
    body.push_str("</table><h2>Findings</h2><table><tr><th>severity</th><th>code</th><th>where</th><th>what</th></tr>");
    for finding in &report.findings {
        let severity = finding.severity.name();
        let mut what = escape(&finding.message);
        if let Some(rule) = &finding.rule {
            let _ = write!(what, "<br>rule <code>{}</code>", escape(rule));
        }
        if !finding.trail.is_empty() {
            let _ = write!(
                what,
                "<br>trace: <code>{}</code>",
                escape(&finding.trail.join(" → "))
            );
        }
        if !finding.snippet.is_empty() {
            let _ = write!(what, "<pre>{}</pre>", escape(&finding.snippet));
        }
        let _ = write!(
            body,
            "<tr><td class=\"{severity}\">{severity}</td><td><code>{}</code></td><td><code>{}</code> ({})</td><td>{what}</td></tr>",
            escape(finding.code.as_str()),
            escape(&finding.location()),
            finding.reach.as_str()
        );
    }
    if report.findings.is_empty() {
        body.push_str(
            "<tr><td colspan=\"4\">The content analysis found nothing to report.</td></tr>",
        );
    }
    body.push_str("</table>");
    if let Some(trust) = &report.trust {
        let publisher = trust.publisher.as_ref().map_or_else(
            || "not given".to_owned(),
            |publisher| match &publisher.email {
                Some(email) => format!("{} <{email}>", publisher.name),
                None => publisher.name.clone(),
            },
        );
        let _ = write!(
            body,
            "<h2>Provenance and publisher</h2><p>Signature: <code>{}</code><br>Publisher: <code>{}</code></p>",
            escape(&format!("{:?}", trust.signature)),
            escape(&publisher)
        );
    }
    // The packument `check` just used, for what the package is and what changed.
    if let Ok(entry) = state
        .inner
        .packuments
        .get(&name, crate::packuments::Freshness::Cached)
        .await
    {
        body.push_str(&package_section(
            entry.packument(),
            &version,
            state.clock().now(),
        ));
        body.push_str(&changes_section(&state, entry.packument(), &version).await);
    }
    body.push_str(&downloads_section(&state, &name, &version).await);
    let spec_text = escape(&format!("{}@{}", report.package, report.version));
    let _ = write!(
        body,
        "<fieldset><legend>Approve</legend><form method=\"post\" action=\"{BASE}/approve\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"spec\" value=\"{spec_text}\"><p><label>Why it is safe<br><input type=\"text\" name=\"reason\" required></label></p><p><label>Expires after (e.g. 7d; empty: never)<br><input type=\"text\" name=\"expires\"></label></p><button>Approve {spec_text}</button></form></fieldset><fieldset><legend>Deny</legend><form method=\"post\" action=\"{BASE}/deny\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"spec\" value=\"{spec_text}\"><p><label>Why<br><input type=\"text\" name=\"reason\" required></label></p><button>Deny {spec_text}</button></form></fieldset>"
    );
    page(&spec, Some((&user, &csrf)), &body)
}

/// What the package is, for a reviewer deciding about a package new to this
/// Airlock: its age and versions, who maintains it, where its source lives, what
/// runs at install, and whether the registry lists provenance.
fn package_section(
    packument: &airlock_npm::Packument,
    version: &str,
    now: airlock_npm::Timestamp,
) -> String {
    let Some(doc) = packument.version(version) else {
        return String::new();
    };
    let first = packument
        .versions()
        .filter_map(|(listed, _)| packument.publish_time(listed))
        .min();
    let age = first
        .as_deref()
        .and_then(airlock_npm::Timestamp::parse)
        .map_or_else(
            || "first publication unknown".to_owned(),
            |first| {
                let days = (now.unix_millis() - first.unix_millis()) / 86_400_000;
                format!("first published {first} ({days} days ago)")
            },
        );
    let maintainers = doc
        .get::<Vec<serde_json::Value>>("maintainers")
        .unwrap_or_default()
        .iter()
        .filter_map(|maintainer| {
            maintainer
                .get("name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .collect::<Vec<_>>();
    let repository = match doc.get::<serde_json::Value>("repository") {
        Some(serde_json::Value::String(url)) => url,
        Some(object) => object
            .get("url")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("not given")
            .to_owned(),
        None => "not given".to_owned(),
    };
    let scripts = doc
        .get::<serde_json::Map<String, serde_json::Value>>("scripts")
        .unwrap_or_default();
    let install: Vec<String> = ["preinstall", "install", "postinstall"]
        .iter()
        .filter_map(|hook| {
            scripts
                .get(*hook)
                .and_then(serde_json::Value::as_str)
                .map(|command| format!("{hook}: {command}"))
        })
        .collect();
    let install = if install.is_empty() {
        "none".to_owned()
    } else {
        install.join("; ")
    };
    let provenance = if doc.dist_has("attestations") {
        "listed by the registry"
    } else {
        "none listed"
    };
    format!(
        "<h2>Package</h2><p>{} versions, {}<br>Maintainers: {}<br>Repository: <code>{}</code><br>Install scripts: <code>{}</code><br>Provenance: {}</p>",
        packument.versions().count(),
        escape(&age),
        escape(&if maintainers.is_empty() {
            "not given".to_owned()
        } else {
            maintainers.join(", ")
        }),
        escape(&repository),
        escape(&install),
        provenance
    )
}

/// What changed since the version published before this one on its line.
async fn changes_section(
    state: &AppState,
    packument: &airlock_npm::Packument,
    version: &str,
) -> String {
    let name = packument.name();
    let Some(previous) = crate::analyses::previous_published(packument, version) else {
        return "<h2>Changes</h2><p>No earlier version on this release line: the first of its line.</p>".to_owned();
    };
    let diff = match admin::diff(state, name, &previous, version).await {
        Ok(diff) => diff,
        Err(error) => {
            return format!(
                "<h2>Changes since {}</h2><p class=\"error\">{}</p>",
                escape(&previous),
                escape(error.message())
            );
        }
    };
    let mut out = format!("<h2>Changes since {}</h2><ul>", escape(&previous));
    for added in &diff.dependencies_added {
        let phantom = if added.phantom == Some(true) {
            " (required by no file)"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li>dependency added: <code>{}@{}</code>{phantom}</li>",
            escape(&added.name),
            escape(&added.range)
        );
    }
    for removed in &diff.dependencies_removed {
        let _ = write!(
            out,
            "<li>dependency removed: <code>{}</code></li>",
            escape(removed)
        );
    }
    for (script, command) in &diff.install_scripts_added {
        let _ = write!(
            out,
            "<li>install script added: <code>{}</code>: <code>{}</code></li>",
            escape(script),
            escape(command)
        );
    }
    for (script, (before, after)) in &diff.install_scripts_changed {
        let _ = write!(
            out,
            "<li>install script <code>{}</code> changed: <code>{}</code> → <code>{}</code></li>",
            escape(script),
            escape(before),
            escape(after)
        );
    }
    if let Some((before, after)) = &diff.entry_points_changed {
        let _ = write!(
            out,
            "<li>entry points: <code>{}</code> → <code>{}</code></li>",
            escape(&before.join(", ")),
            escape(&after.join(", "))
        );
    }
    for file in diff.files_added.iter().take(50) {
        let _ = write!(
            out,
            "<li>file added: <code>{}</code> ({} bytes{})</li>",
            escape(&file.path),
            file.size,
            if file.binary { ", binary" } else { "" }
        );
    }
    if diff.files_added.len() > 50 {
        let _ = write!(
            out,
            "<li>… and {} more files added</li>",
            diff.files_added.len() - 50
        );
    }
    for file in diff.files_removed.iter().take(20) {
        let _ = write!(out, "<li>file removed: <code>{}</code></li>", escape(file));
    }
    for (file, before, after) in &diff.files_grown {
        let _ = write!(
            out,
            "<li>file grew: <code>{}</code> {before} → {after} bytes</li>",
            escape(file)
        );
    }
    let _ = write!(
        out,
        "<li>JavaScript: {} → {} bytes</li></ul>",
        diff.code_bytes_before, diff.code_bytes_after
    );
    out
}

/// Who downloaded this version through Airlock, newest first.
async fn downloads_section(
    state: &AppState,
    name: &airlock_npm::PackageName,
    version: &str,
) -> String {
    state.downloads().flush().await;
    let Ok(records) = state.store().downloads(name.as_str(), Some(version)).await else {
        return String::new();
    };
    if records.is_empty() {
        return "<h2>Downloads</h2><p>Nobody downloaded it through Airlock.</p>".to_owned();
    }
    let mut out = format!(
        "<h2>Downloads</h2><p>{} requests.</p><table><tr><th>when</th><th>client</th><th>user agent</th><th>decision</th><th>served</th></tr>",
        records.len()
    );
    for record in records.iter().rev().take(50) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            airlock_npm::Timestamp::from_unix_millis(record.at),
            escape(record.client.as_deref().unwrap_or("-")),
            escape(&shorten(record.user_agent.as_deref().unwrap_or("-"), 60)),
            escape(&record.verdict),
            escape(&record.codes),
            if record.served { "yes" } else { "no" }
        );
    }
    out.push_str("</table>");
    out
}

/// Approvals, active and past, with a revoke button for the active ones.
pub(crate) async fn exceptions(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let list = match admin::list_exceptions(State(state.clone())).await {
        Ok(axum::Json(list)) => list,
        Err(error) => return error.into_response(),
    };
    let rows = list.iter().rev().map(|exception| {
        let action = if exception.active {
            format!(
                "<form method=\"post\" action=\"{BASE}/revoke\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><button>Revoke</button></form>",
                exception.id
            )
        } else {
            "ended".to_owned()
        };
        vec![
            exception.id.to_string(),
            format!("<code>{}</code>", escape(&exception.package)),
            escape(&exception.reason),
            escape(&exception.author),
            escape(&exception.created),
            escape(exception.expires.as_deref().unwrap_or("never")),
            action,
        ]
    });
    let body = format!(
        "<h1>Approvals</h1>{}",
        table(
            &["id", "spec", "reason", "by", "created", "expires", ""],
            rows
        )
    );
    page("Approvals", Some((&user, &csrf)), &body)
}

/// Exposure: who downloaded what a spec covers (`airlock exposure`), with the
/// requests refused, the advisories naming it and its takedowns.
pub(crate) async fn exposure(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<admin::ExposureQuery>,
) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let spec = query.spec.trim().to_owned();
    let mut body = format!(
        "<h1>Exposure</h1><form method=\"get\" action=\"{BASE}/exposure\"><input type=\"text\" name=\"spec\" placeholder=\"name, name@version or name@range\" value=\"{}\" required> <button>Who downloaded it</button></form>",
        escape(&spec)
    );
    if spec.is_empty() {
        return page("Exposure", Some((&user, &csrf)), &body);
    }
    let report = match admin::exposure(
        State(state.clone()),
        Query(admin::ExposureQuery { spec: spec.clone() }),
    )
    .await
    {
        Ok(axum::Json(report)) => report,
        Err(error) => {
            let _ = write!(body, "<p class=\"error\">{}</p>", escape(error.message()));
            let mut response = page("Exposure", Some((&user, &csrf)), &body);
            *response.status_mut() = error.status();
            return response;
        }
    };
    let rows = |downloads: &[admin::DownloadView]| {
        downloads
            .iter()
            .map(|download| {
                vec![
                    escape(&download.at),
                    format!(
                        "<code>{}@{}</code>",
                        escape(&download.package),
                        escape(&download.version)
                    ),
                    escape(download.client.as_deref().unwrap_or("unknown")),
                    escape(download.user_agent.as_deref().unwrap_or("")),
                    format!(
                        "{} {}",
                        escape(&download.verdict),
                        escape(&download.codes.join(", "))
                    ),
                ]
            })
            .collect::<Vec<_>>()
    };
    let headings = ["at", "version", "client", "user agent", "decision"];
    let _ = write!(
        body,
        "<h2>{} downloads served</h2>{}<h2>{} requests refused</h2>{}",
        report.downloads.len(),
        table(&headings, rows(&report.downloads).into_iter()),
        report.refused,
        table(&headings, rows(&report.refused_requests).into_iter()),
    );
    if !report.advisories.is_empty() {
        let _ = write!(
            body,
            "<h2>Advisories</h2><p>{}</p>",
            escape(&report.advisories.join(", "))
        );
    }
    if !report.takedowns.is_empty() {
        let _ = write!(
            body,
            "<h2>Taken down upstream</h2>{}",
            takedowns_table(report.takedowns.iter())
        );
    }
    page("Exposure", Some((&user, &csrf)), &body)
}

/// The policy in force (its file, as loaded), the approvals and denials added at
/// run time, and the advisory set.
pub(crate) async fn policy(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let (policy, _) = state.policy().current();
    let mut body = format!(
        "<h1>Policy in force</h1><p>Mode: <code>{:?}</code><br>Digest (file and admin rules): <code>{}</code><br>Approvals: {} &nbsp; Denials: {}</p>",
        policy.mode(),
        escape(policy.digest()),
        policy.exceptions().len(),
        policy.denials().len()
    );
    match state.policy().file() {
        None => body.push_str(
            "<p>No policy file: the embedded defaults (a 72 h release age, content analysis at its default actions).</p>",
        ),
        Some(path) => {
            let shown = escape(&path.display().to_string());
            match tokio::fs::read_to_string(path).await {
                Ok(text) if airlock_policy::Policy::digest_of_text(&text) == policy.file_digest() => {
                    let _ = write!(body, "<h2><code>{shown}</code></h2><pre>{}</pre>", escape(&text));
                }
                Ok(_) => {
                    let _ = write!(
                        body,
                        "<p class=\"error\"><code>{shown}</code> on disk is not the policy in force: it changed and did not load (the log says which line is wrong), or it is being written.</p>"
                    );
                }
                Err(error) => {
                    let _ = write!(
                        body,
                        "<p class=\"error\"><code>{shown}</code> cannot be read: {}</p>",
                        escape(&error.to_string())
                    );
                }
            }
        }
    }
    let (advisories, _) = state.advisories().current();
    let imported = state.advisories().last_import().map_or_else(
        || "never".to_owned(),
        |at| airlock_npm::Timestamp::from_unix_millis(at).to_string(),
    );
    let iocs = advisories.iocs();
    let _ = write!(
        body,
        "<h2>Advisories</h2><p>{} advisories in force, last imported {}; {} domains, {} addresses and {} URLs as indicators.</p>",
        advisories.len(),
        escape(&imported),
        iocs.domains.len(),
        iocs.ips.len(),
        iocs.urls.len()
    );
    if let Ok(axum::Json(takedowns)) = admin::list_takedowns(State(state.clone())).await {
        let _ = write!(
            body,
            "<h2>Taken down upstream ({})</h2>{}",
            takedowns.len(),
            takedowns_table(takedowns.iter().rev().take(50))
        );
    }
    page("Policy", Some((&user, &csrf)), &body)
}

/// How many critical-path packages the page shows at most.
const CRITICAL_SHOWN: usize = 50;

/// The critical-path packages: the policy's list (globs matched against what was
/// served), each with its newest version, the highest served, who publishes it and
/// how, and whether it runs at install or as a command.
pub(crate) async fn critical(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let (policy, _) = state.policy().current();
    let gates = policy.gates();
    if gates.critical().is_empty() {
        let body = "<h1>Critical path</h1><p>The policy lists no critical-path packages. <code>airlock audit --critical --write-policy policy.toml</code> ranks a project's lockfile and writes its most critical packages under <code>[gates] critical</code>.</p>";
        return page("Critical path", Some((&user, &csrf)), body);
    }
    let served = state.history().names();
    let mut names: Vec<airlock_npm::PackageName> = Vec::new();
    for spec in gates.critical() {
        match spec.exact_name() {
            Some(name) => names.push(name.clone()),
            None => names.extend(
                served
                    .iter()
                    .filter_map(|name| airlock_npm::PackageName::new(name).ok())
                    .filter(|name| spec.matches_name(name)),
            ),
        }
    }
    names.sort();
    names.dedup();
    let listed: Vec<String> = gates
        .critical()
        .iter()
        .map(|spec| format!("<code>{}</code>", escape(spec.as_str())))
        .collect();
    let mut body = format!(
        "<h1>Critical path</h1><p>Listed: {}. For these, {}.</p>",
        listed.join(", "),
        escape(&gates.critical_settings())
    );
    let mut rows = Vec::new();
    for name in names.iter().take(CRITICAL_SHOWN) {
        rows.push(critical_row(&state, name).await);
    }
    body.push_str(&table(
        &[
            "package",
            "newest",
            "highest served",
            "who publishes it",
            "runs",
        ],
        rows.into_iter(),
    ));
    if names.len() > CRITICAL_SHOWN {
        let _ = write!(body, "<p>and {} more</p>", names.len() - CRITICAL_SHOWN);
    }
    page("Critical path", Some((&user, &csrf)), &body)
}

/// One critical-path package as a row of the page.
async fn critical_row(state: &AppState, name: &airlock_npm::PackageName) -> Vec<String> {
    let served = state.history().served(name.as_str());
    let highest = served
        .iter()
        .filter_map(|version| js_semver::Version::parse(version).ok())
        .max()
        .map_or_else(|| "never served".to_owned(), |version| version.to_string());
    let entry = match state
        .packuments()
        .get(name, crate::packuments::Freshness::Cached)
        .await
    {
        Ok(entry) => entry,
        Err(error) => {
            return vec![
                format!("<code>{}</code>", escape(name.as_str())),
                String::new(),
                escape(&highest),
                format!("the registry did not answer: {}", escape(error.message())),
                String::new(),
            ];
        }
    };
    let packument = entry.packument();
    let newest = packument.dist_tags().get("latest").cloned();
    let facts = newest
        .as_deref()
        .and_then(|version| Some((version, packument.version_index(version)?)))
        .and_then(|(version, index)| {
            let (_, doc) = packument.version_at(index)?;
            let releases = crate::audit::releases(packument);
            let accounts = crate::audit::accounts(&releases);
            Some((
                version,
                crate::audit::stewardship(&releases[index], &releases, &accounts, doc),
                doc.has_install_script(),
            ))
        });
    let Some((version, stewardship, install_script)) = facts else {
        return vec![
            format!("<code>{}</code>", escape(name.as_str())),
            "no `latest`".to_owned(),
            escape(&highest),
            String::new(),
            String::new(),
        ];
    };
    let accounts: Vec<String> = stewardship
        .accounts
        .iter()
        .take(4)
        .map(|account| format!("{} ({})", escape(&account.name), account.versions))
        .collect();
    let publisher = stewardship.publisher.as_deref().unwrap_or("not listed");
    let who = format!(
        "<code>{}</code>{}; the {} line: {} of {} with provenance, {} through trusted publishing; accounts: {}",
        escape(publisher),
        if stewardship.trusted_publishing {
            " through trusted publishing"
        } else {
            ""
        },
        escape(&stewardship.line),
        stewardship.line_with_provenance,
        stewardship.line_versions,
        stewardship.line_trusted,
        accounts.join(", ")
    );
    let runs: Vec<&str> = [
        (install_script, "install script"),
        (stewardship.bin, "a command (bin)"),
    ]
    .into_iter()
    .filter_map(|(yes, what)| yes.then_some(what))
    .collect();
    vec![
        format!(
            "<a href=\"{BASE}/version/{}@{}\"><code>{}</code></a>",
            escape(name.as_str()),
            escape(version),
            escape(name.as_str())
        ),
        escape(version),
        escape(&highest),
        who,
        runs.join(", "),
    ]
}

/// Versions taken down upstream, as a table.
fn takedowns_table<'a>(takedowns: impl Iterator<Item = &'a admin::TakedownView>) -> String {
    let rows = takedowns.map(|takedown| {
        vec![
            format!(
                "<code>{}@{}</code>",
                escape(&takedown.package),
                escape(&takedown.version)
            ),
            escape(&takedown.kind),
            escape(&takedown.noticed),
        ]
    });
    table(&["version", "how", "noticed"], rows)
}

/// Denials: what the operators blocked, by whom and why.
pub(crate) async fn denials(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (user, csrf) = match require_user(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let list = match admin::list_denials(State(state.clone())).await {
        Ok(axum::Json(list)) => list,
        Err(error) => return error.into_response(),
    };
    let rows = list.iter().rev().map(|denial| {
        vec![
            denial.id.to_string(),
            format!("<code>{}</code>", escape(&denial.package)),
            escape(&denial.reason),
            escape(&denial.author),
            escape(&denial.created),
            format!(
                "<form method=\"post\" action=\"{BASE}/lift\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><button>Lift</button></form>",
                denial.id
            ),
        ]
    });
    let body = format!(
        "<h1>Denials</h1>{}",
        table(&["id", "spec", "reason", "by", "created", ""], rows)
    );
    page("Denials", Some((&user, &csrf)), &body)
}

#[derive(Deserialize)]
pub(crate) struct Revoke {
    csrf: String,
    id: i64,
}

/// Revokes an approval.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Revoke>,
) -> Response {
    end_rule(
        &state,
        &headers,
        &form,
        admin::RunTimeRule::Exception,
        "exceptions",
    )
    .await
}

/// Lifts a denial (the policy file's own deny rules are edited in the file).
pub(crate) async fn lift(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Revoke>,
) -> Response {
    end_rule(
        &state,
        &headers,
        &form,
        admin::RunTimeRule::Denial,
        "denials",
    )
    .await
}

/// Ends a run-time rule from a console form, then shows its list again.
async fn end_rule(
    state: &AppState,
    headers: &HeaderMap,
    form: &Revoke,
    rule: admin::RunTimeRule,
    list: &str,
) -> Response {
    let user = match authorise_post(state, headers, &form.csrf) {
        Ok(user) => user,
        Err(response) => return *response,
    };
    match admin::end_rule(state, rule, form.id).await {
        Ok(_) => {
            tracing::info!(id = form.id, ?rule, user, "ended in the console");
            Redirect::to(&format!("{BASE}/{list}")).into_response()
        }
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct Decide {
    csrf: String,
    spec: String,
    reason: String,
    #[serde(default)]
    expires: String,
}

/// Checks the session and its CSRF token for a form post.
fn authorise_post(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<String, Box<Response>> {
    let Some((user, expected)) = signed_in(state, headers) else {
        return Err(Box::new(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the console session has ended\nhint: sign in again",
            )
            .into_response(),
        ));
    };
    if !constant_time_eq(csrf.as_bytes(), expected.as_bytes()) {
        return Err(Box::new(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "the form's CSRF token does not match this session\nhint: reload the page and submit again",
            )
            .into_response(),
        ));
    }
    Ok(user)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn back_to(spec: &str, done: &str) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("done", done);
    Redirect::to(&format!("{BASE}/version/{spec}?{}", query.finish())).into_response()
}

pub(crate) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Decide>,
) -> Response {
    let user = match authorise_post(&state, &headers, &form.csrf) {
        Ok(user) => user,
        Err(response) => return *response,
    };
    let new = NewException {
        package: form.spec.clone(),
        reason: form.reason,
        author: user,
        expires_in: Some(form.expires.trim().to_owned()).filter(|text| !text.is_empty()),
        all_versions: false,
    };
    match admin::add_exception(State(state), axum::Json(new)).await {
        Ok((_, axum::Json(created))) => back_to(
            &form.spec,
            &format!(
                "Approved by {} (exception {}){}.",
                created.author,
                created.id,
                created
                    .expires
                    .map(|at| format!(", until {at}"))
                    .unwrap_or_default()
            ),
        ),
        Err(error) => error.into_response(),
    }
}

pub(crate) async fn deny(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Decide>,
) -> Response {
    let user = match authorise_post(&state, &headers, &form.csrf) {
        Ok(user) => user,
        Err(response) => return *response,
    };
    let new = NewDenial {
        package: form.spec.clone(),
        reason: form.reason,
        author: user,
    };
    match admin::add_denial(State(state), axum::Json(new)).await {
        Ok((_, axum::Json(created))) => back_to(
            &form.spec,
            &format!("Denied by {} (denial {}).", created.author, created.id),
        ),
        Err(error) => error.into_response(),
    }
}
