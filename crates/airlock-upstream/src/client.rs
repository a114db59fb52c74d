//! The pooled, retrying HTTP client.
//!
//! Retries cover only what is safe to repeat: idempotent requests that failed to
//! connect, timed out before an answer, or got 429/502/503/504. A body that breaks off
//! halfway is not retried here; the caller decides, because it may already have
//! streamed part of it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use airlock_npm::PackageName;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use reqwest::{RequestBuilder, Response};
use url::Url;

use crate::{Error, Token};

const USER_AGENT: &str = concat!("airlock/", env!("CARGO_PKG_VERSION"));

/// Validators from an earlier answer, for a conditional request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| {
            headers
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
        }
    }
}

/// The answer to a conditional packument request.
#[derive(Debug)]
pub enum Fetched {
    NotModified,
    Modified { body: Bytes, validators: Validators },
}

/// Options for [`Upstream`]; see each method for its default.
#[derive(Debug)]
pub struct UpstreamBuilder {
    base: Url,
    token: Option<Token>,
    connect_timeout: Duration,
    timeout: Duration,
    retries: u32,
    max_packument_bytes: usize,
    tarball_hosts: Vec<String>,
}

impl UpstreamBuilder {
    /// Hosts besides the upstream's own that packuments may point tarballs at
    /// (a mirror whose files live on a CDN). Default: none.
    #[must_use]
    pub fn tarball_hosts(mut self, hosts: Vec<String>) -> Self {
        self.tarball_hosts = hosts
            .into_iter()
            .map(|host| host.trim().to_ascii_lowercase())
            .collect();
        self
    }

    /// Bearer token sent to the upstream's origin only. Default: none.
    #[must_use]
    pub fn token(mut self, token: Option<Token>) -> Self {
        self.token = token;
        self
    }

    /// Time allowed to open a connection. Default: 5 s.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole metadata request, and for each read of a tarball
    /// body. Default: 30 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Extra attempts for an idempotent request that failed in a retryable way.
    /// Default: 2.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The largest packument accepted. Default: 256 MiB.
    #[must_use]
    pub fn max_packument_bytes(mut self, bytes: usize) -> Self {
        self.max_packument_bytes = bytes;
        self
    }

    pub fn build(self) -> Result<Upstream, Error> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.timeout)
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .map_err(Error::Client)?;
        Ok(Upstream {
            client,
            base: self.base,
            token: self.token,
            timeout: self.timeout,
            retries: self.retries,
            max_packument_bytes: self.max_packument_bytes,
            tarball_hosts: self.tarball_hosts,
        })
    }
}

/// A client for one upstream registry. Cheap to clone; clones share the pool.
#[derive(Clone, Debug)]
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    token: Option<Token>,
    timeout: Duration,
    retries: u32,
    max_packument_bytes: usize,
    tarball_hosts: Vec<String>,
}

impl Upstream {
    /// `base` is the registry URL, such as the one `npm config get registry` prints.
    pub fn builder(mut base: Url) -> UpstreamBuilder {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        UpstreamBuilder {
            base,
            token: None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retries: 2,
            max_packument_bytes: 256 * 1024 * 1024,
            tarball_hosts: Vec::new(),
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// How long a whole tarball transfer may take: the request timeout, plus the
    /// time its length takes at 64 KiB/s, at most 30 minutes. A tarball that
    /// trickles in is cut off rather than held forever.
    pub fn transfer_deadline(&self, content_length: Option<u64>) -> Duration {
        let at_slow_rate = Duration::from_secs(content_length.unwrap_or(0) / (64 * 1024));
        (self.timeout + at_slow_rate).min(Duration::from_mins(30))
    }

    /// Fetches the full packument of `name`, conditionally when `validators` hold
    /// anything.
    pub async fn packument(
        &self,
        name: &PackageName,
        validators: &Validators,
    ) -> Result<Fetched, Error> {
        let url = self.url(&name.to_path_segment())?;
        let response = self
            .send(&url, true, || {
                let mut request = self
                    .request(Method::GET, &url)
                    .timeout(self.timeout)
                    .header(header::ACCEPT, "application/json");
                if let Some(etag) = &validators.etag {
                    request = request.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(last_modified) = &validators.last_modified {
                    request = request.header(header::IF_MODIFIED_SINCE, last_modified);
                }
                request
            })
            .await
            .and_then(|response| Self::check(&url, response))?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let validators = Validators::from_headers(response.headers());
        let body = self.read_capped(&url, response).await?;
        Ok(Fetched::Modified { body, validators })
    }

    /// Starts a tarball download; the caller streams the body. The token goes along
    /// only when `url` is on the upstream's own origin.
    pub async fn tarball(&self, url: &str) -> Result<Response, Error> {
        let url = Url::parse(url).map_err(|error| Error::InvalidUrl {
            url: redact(url),
            reason: error.to_string(),
        })?;
        self.check_tarball_host(&url)?;
        self.send(&url, true, || self.request(Method::GET, &url))
            .await
            .and_then(|response| Self::check(&url, response))
    }

    /// Forwards a request to `path_and_query` under the upstream base, for the
    /// endpoints Airlock passes through. Any status comes back as it is; only `GET`
    /// and `HEAD` are retried.
    pub async fn forward(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Forwarded, Error> {
        let url = self.url(path_and_query.trim_start_matches('/'))?;
        let response = self.send_forward(&url, method, headers, body).await?;
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        // Read through the same cap as packuments: an answer that never ends
        // must not fill memory.
        let body = self.read_capped(&url, response).await?;
        Ok(Forwarded {
            status,
            content_type,
            body,
        })
    }

    async fn send_forward(
        &self,
        url: &Url,
        method: Method,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response, Error> {
        let url = url.clone();
        let idempotent = matches!(method, Method::GET | Method::HEAD);
        self.send(&url, idempotent, || {
            let mut request = self
                .request(method.clone(), &url)
                .timeout(self.timeout)
                .body(body.clone());
            for name in [
                header::ACCEPT,
                header::CONTENT_TYPE,
                header::CONTENT_ENCODING,
            ] {
                if let Some(value) = headers.get(&name) {
                    request = request.header(name, value);
                }
            }
            request
        })
        .await
    }

    /// A packument may point a tarball only at the upstream's own host and port
    /// (either scheme) or at a host listed in `tarball_hosts`: anything else would
    /// let whoever writes a packument aim Airlock at internal addresses.
    fn check_tarball_host(&self, url: &Url) -> Result<(), Error> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let base_host = self
            .base
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let default_port = |url: &Url| url.port().is_none();
        let same_origin_host = host == base_host
            && (url.port_or_known_default() == self.base.port_or_known_default()
                || (default_port(url) && default_port(&self.base)));
        if same_origin_host || self.tarball_hosts.contains(&host) {
            return Ok(());
        }
        Err(Error::ForeignTarballHost {
            url: redact(url.as_str()),
            host: url
                .port()
                .map_or_else(|| host.clone(), |port| format!("{host}:{port}")),
        })
    }

    fn url(&self, relative: &str) -> Result<Url, Error> {
        self.base.join(relative).map_err(|error| Error::InvalidUrl {
            url: format!("{}{relative}", redact(self.base.as_str())),
            reason: error.to_string(),
        })
    }

    fn request(&self, method: Method, url: &Url) -> RequestBuilder {
        let request = self.client.request(method, url.clone());
        match &self.token {
            Some(token) if url.origin() == self.base.origin() => {
                request.bearer_auth(token.expose())
            }
            _ => request,
        }
    }

    async fn send(
        &self,
        url: &Url,
        idempotent: bool,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            let result = make().send().await;
            let retryable = match &result {
                Ok(response) => matches!(response.status().as_u16(), 429 | 502 | 503 | 504),
                Err(error) => error.is_connect() || error.is_timeout() || error.is_request(),
            };
            // An upstream that asks for a pause gets it, within a bound; one that
            // asks for longer is not retried, so the client hears it now.
            let asked = result
                .as_ref()
                .ok()
                .and_then(|response| retry_after(response.headers()));
            let too_long = asked.is_some_and(|wait| wait > MAX_RETRY_AFTER);
            if !(idempotent && retryable) || attempt >= self.retries || too_long {
                return result.map_err(|source| self.transport_error(redact(url.as_str()), source));
            }
            attempt += 1;
            let delay = asked.map_or_else(|| backoff(attempt), |wait| wait.max(backoff(attempt)));
            tracing::debug!(url = %redact(url.as_str()), attempt, ?delay, "retrying upstream request");
            tokio::time::sleep(delay).await;
        }
    }

    /// Turns an unexpected status into an error.
    fn check(url: &Url, response: Response) -> Result<Response, Error> {
        let url = redact(url.as_str());
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            Ok(response)
        } else if status == StatusCode::NOT_FOUND {
            Err(Error::NotFound { url })
        } else {
            Err(Error::Status {
                url,
                status: status.as_u16(),
            })
        }
    }

    fn transport_error(&self, url: String, source: reqwest::Error) -> Error {
        if source.is_timeout() {
            Error::Timeout {
                url,
                timeout: self.timeout,
            }
        } else if source.is_body() || source.is_decode() {
            Error::Body { url, source }
        } else {
            Error::Unreachable { url, source }
        }
    }

    async fn read_capped(&self, url: &Url, mut response: Response) -> Result<Bytes, Error> {
        let capacity = response
            .content_length()
            .map_or(64 * 1024, |length| {
                usize::try_from(length).unwrap_or(usize::MAX)
            })
            .min(self.max_packument_bytes);
        let mut body = BytesMut::with_capacity(capacity);
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|source| self.transport_error(redact(url.as_str()), source))?;
            let Some(chunk) = chunk else {
                return Ok(body.freeze());
            };
            if body.len() + chunk.len() > self.max_packument_bytes {
                return Err(Error::Status {
                    url: redact(url.as_str()),
                    status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                });
            }
            body.extend_from_slice(&chunk);
        }
    }
}

/// An answer passed through from the upstream, read whole (within the cap).
#[derive(Debug)]
pub struct Forwarded {
    pub status: StatusCode,
    pub content_type: Option<HeaderValue>,
    pub body: Bytes,
}

/// The longest `Retry-After` Airlock waits out before retrying; an upstream that
/// asks for more is answered as it is.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A `Retry-After` header in seconds (the HTTP-date form counts as unknown, and
/// so as too long to wait).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    Some(
        value
            .parse::<u64>()
            .map_or(Duration::MAX, Duration::from_secs),
    )
}

/// 100 ms, 200 ms, 400 ms ... with up to 50% jitter so that many waiting requests do
/// not return at the same instant.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(100) * 2u32.saturating_pow(attempt.saturating_sub(1).min(6));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 500) / 1000.0)
}

/// A URL without its user information, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(
            backoff(1) >= Duration::from_millis(100) && backoff(1) < Duration::from_millis(150)
        );
        assert!(backoff(3) >= Duration::from_millis(400));
        assert!(backoff(100) <= Duration::from_millis(6400 * 3 / 2));
    }

    #[test]
    fn redacts_credentials() {
        let with_credentials = format!("http://{}@127.0.0.1:1/x", "user:secret");
        assert_eq!(redact(&with_credentials), "http://127.0.0.1:1/x");
        assert_eq!(redact("http://127.0.0.1:1/x"), "http://127.0.0.1:1/x");
    }

    #[test]
    fn base_gets_a_trailing_slash_so_names_join_under_it() {
        let upstream = Upstream::builder("http://127.0.0.1:1/api/npm".parse().unwrap())
            .build()
            .unwrap();
        let url = upstream.url("@scope%2fname").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:1/api/npm/@scope%2fname");
    }
}
