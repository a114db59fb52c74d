//! Errors as clients see them.
//!
//! npm prints the `error` field of a JSON error body, so each message says what
//! happened and, on a `hint:` line, what to do. The status says who is at fault:
//! 4xx the request, 403 policy, 502/504 the upstream, 500 Airlock itself, whose
//! details go to the log only.

use std::fmt;

use airlock_npm::PackageName;
use airlock_policy::{Decision, Verdict};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Clone, Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Structured fields added to the JSON body beside `error`.
    details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: None,
        }
    }

    /// A version the policy refuses: 403, with the codes, the end of a quarantine,
    /// and the command that approves it.
    pub(crate) fn refused(name: &PackageName, version: &str, decision: &Decision) -> Self {
        let approve = format!("airlock approve {name}@{version} --reason \"<why it is safe>\"");
        let codes: Vec<String> = decision.codes().iter().map(ToString::to_string).collect();
        let state = match decision.quarantine_until() {
            Some(until) => format!("quarantined by Airlock until {until}"),
            None if matches!(decision.verdict, Verdict::Quarantine { .. }) => {
                "quarantined by Airlock until a person approves it".to_owned()
            }
            None => "blocked by Airlock".to_owned(),
        };
        let why: Vec<String> = decision
            .reasons
            .iter()
            .map(|reason| format!("{}: {}", reason.code, reason.message))
            .collect();
        let message = format!(
            "`{name}@{version}` is {state} [{}]: {}\nhint: to allow it, an operator runs `{approve}`",
            codes.join(", "),
            why.join("; ")
        );
        let mut details = serde_json::Map::new();
        details.insert("package".into(), name.as_str().into());
        details.insert("version".into(), version.into());
        details.insert("verdict".into(), decision.verdict.name().into());
        details.insert("codes".into(), codes.into());
        if let Some(until) = decision.quarantine_until() {
            details.insert("until".into(), until.to_string().into());
        }
        details.insert("approve".into(), approve.into());
        Self {
            status: StatusCode::FORBIDDEN,
            message,
            details: Some(details),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The upstream refused the request (401, 403): for a package's metadata, the
    /// registry serves it to nobody.
    pub fn upstream_refused(&self) -> bool {
        self.details.as_ref().is_some_and(|details| {
            details.get("upstream") == Some(&serde_json::Value::from("refused"))
        })
    }

    pub(crate) fn bad_name(error: &airlock_npm::Error) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("{error}\nhint: check the spelling in your package.json or lockfile"),
        )
    }

    pub(crate) fn not_found(what: impl fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} was not found"))
    }

    /// An upstream failure while working for `context` (such as "the packument of `x`").
    pub(crate) fn upstream(context: &str, error: &airlock_upstream::Error) -> Self {
        use airlock_upstream::Error as E;
        let (status, hint) = match error {
            E::NotFound { .. } => (
                StatusCode::NOT_FOUND,
                "check the name and version, or whether it was unpublished",
            ),
            E::Timeout { .. } => (
                StatusCode::GATEWAY_TIMEOUT,
                "the upstream registry is slow or unreachable; try again, or raise `upstream.timeout`",
            ),
            E::Status {
                status: 401 | 403, ..
            } => (
                StatusCode::BAD_GATEWAY,
                "the upstream refused Airlock's credentials; check `upstream.token` (AIRLOCK_UPSTREAM_TOKEN)",
            ),
            E::Unreachable { .. } | E::Body { .. } | E::Status { .. } => (
                StatusCode::BAD_GATEWAY,
                "the upstream registry is down or unreachable from Airlock; try again later, or check `upstream.url`",
            ),
            E::InvalidUrl { .. } | E::Client(_) => (
                StatusCode::BAD_GATEWAY,
                "the upstream registry sent an address Airlock cannot use",
            ),
            E::ForeignTarballHost { .. } => (
                StatusCode::BAD_GATEWAY,
                "if the registry really keeps its files on that host (a mirror's CDN), list it in `upstream.tarball_hosts`",
            ),
        };
        if status == StatusCode::NOT_FOUND {
            // A name the registry does not have: a typo, an unpublished package.
            tracing::debug!(error = %ErrorChain(error), "{context}: not found upstream");
        } else {
            tracing::warn!(error = %ErrorChain(error), "{context}: upstream request failed");
        }
        if status == StatusCode::NOT_FOUND {
            return Self::new(
                status,
                format!("{context} was not found upstream\nhint: {hint}"),
            );
        }
        let mut answer = Self::new(status, format!("{context}: {error}\nhint: {hint}"));
        if matches!(
            error,
            E::Status {
                status: 401 | 403,
                ..
            }
        ) {
            answer.details = Some(serde_json::Map::from_iter([(
                "upstream".to_owned(),
                serde_json::Value::from("refused"),
            )]));
        }
        answer
    }

    pub(crate) fn malformed_packument(name: &PackageName, error: &airlock_npm::Error) -> Self {
        tracing::warn!(package = %name, error = %ErrorChain(error), "upstream sent a malformed packument");
        Self::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "the upstream registry sent a malformed packument for `{name}`: {}\nhint: this is an upstream fault; Airlock serves its last good copy when it has one",
                ErrorChain(error)
            ),
        )
    }

    /// An internal failure: the details are logged, the client gets a reference.
    pub(crate) fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %ErrorChain(error), "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "Airlock failed while {context}\nhint: the details are in Airlock's log; this is a bug or a storage problem on the server"
            ),
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let phrase = reason_phrase(&self.message);
        let mut body = self.details.unwrap_or_default();
        body.insert("error".into(), self.message.into());
        let mut response =
            (self.status, axum::Json(serde_json::Value::Object(body))).into_response();
        // pnpm and Yarn berry print the status line's reason phrase, not the body:
        // it carries the first line of Airlock's message (HTTP/1; HTTP/2 has none).
        if let Some(phrase) = phrase {
            response.extensions_mut().insert(phrase);
        }
        response
    }
}

/// The longest reason phrase sent: long enough for a refusal's why and until when.
const REASON_PHRASE_MAX: usize = 240;

/// The first line of `message` as an HTTP reason phrase: visible ASCII and spaces
/// only (backticks dropped, anything else replaced), at most [`REASON_PHRASE_MAX`]
/// bytes.
fn reason_phrase(message: &str) -> Option<hyper::ext::ReasonPhrase> {
    let line = message.lines().next()?.trim();
    let mut phrase: String = line
        .chars()
        .filter(|c| *c != '`')
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if phrase.len() > REASON_PHRASE_MAX {
        phrase.truncate(REASON_PHRASE_MAX - 3);
        phrase.push_str("...");
    }
    if phrase.is_empty() {
        return None;
    }
    hyper::ext::ReasonPhrase::try_from(phrase.into_bytes()).ok()
}

/// Formats an error with its sources: `outer: inner: root`.
pub(crate) struct ErrorChain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_phrase_is_the_first_line_made_safe_for_a_status_line() {
        let phrase =
            reason_phrase("`x@1` is blocked [known-malicious]: MAL-1\nhint: run it").unwrap();
        assert_eq!(
            phrase.as_bytes(),
            b"x@1 is blocked [known-malicious]: MAL-1"
        );
        let odd = reason_phrase("caf\u{e9}\r\u{7}x").unwrap();
        assert_eq!(odd.as_bytes(), b"caf???x");
        let long = reason_phrase(&"a".repeat(1000)).unwrap();
        assert_eq!(long.as_bytes().len(), REASON_PHRASE_MAX);
        assert!(reason_phrase("").is_none());
    }
}
