//! A fake upstream registry on `127.0.0.1:0`.
//!
//! It serves full packuments and tarballs of [`Package`]s published in code, plus the
//! `/-/` endpoints Airlock passes through, and records every request so tests can
//! assert what reached upstream and from whom. [`Faults`] switch on latency, failures,
//! corrupt or truncated tarballs and malformed documents.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::{Package, RegistryKeyPair, rfc3339};

/// Switches for misbehaviour; all off by default.
#[derive(Clone, Debug, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent switches, set one by one in tests"
)]
pub struct Faults {
    /// Delay before answering any request.
    pub latency: Duration,
    /// Answer every request with this status.
    pub status: Option<u16>,
    /// Answer the next N requests with 503, then recover.
    pub fail_next: u32,
    /// A `Retry-After` header (seconds) on the answers `status` and `fail_next`
    /// inject.
    pub retry_after: Option<u64>,
    /// Flip a byte in every tarball served (integrity mismatch).
    pub corrupt_tarballs: bool,
    /// Send the first half of each tarball, then wait this long before the rest.
    pub stall_tarballs: Option<Duration>,
    /// Send the first half of each tarball, then break the connection.
    pub truncate_tarballs: bool,
    /// Send tarballs one byte at a time, this long apart (a trickle that never
    /// trips a read timeout).
    pub trickle_tarballs: Option<Duration>,
    /// Packages whose packument is served as broken JSON.
    pub malformed: HashSet<String>,
    /// Do not send `ETag` / `Last-Modified`, and ignore conditional requests.
    pub no_validators: bool,
    /// Leave `time` out of packuments, as some registries and mirrors do.
    pub omit_time: bool,
    /// Sign versions but answer 404 at `/-/npm/v1/keys`, as a registry whose keys
    /// are distributed otherwise.
    pub hide_keys: bool,
    /// Answer `/-/` endpoints (keys, search, security, attestations) with a body
    /// that never ends.
    pub endless_bodies: bool,
}

/// One request the fake registry received.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub user_agent: String,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Inner {
    packages: BTreeMap<String, Vec<Package>>,
    dist_tags: BTreeMap<String, BTreeMap<String, String>>,
    faults: Faults,
    requests: Vec<RequestRecord>,
    /// Keys served at `/-/npm/v1/keys`; the first signs every version.
    keys: Vec<Arc<RegistryKeyPair>>,
}

/// A running fake registry; it stops when dropped.
pub struct FakeRegistry {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FakeRegistry {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("a loopback address")).await
    }

    pub async fn start_on(addr: SocketAddr) -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the fake registry");
        let addr = listener.local_addr().expect("a bound address");
        let router = axum::Router::new().fallback(handle).with_state(Registry {
            inner: inner.clone(),
            addr,
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the fake registry serves");
        });
        Self { inner, addr, task }
    }

    /// The registry URL, with a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Publishes (or replaces) a version; `latest` moves to it unless it is a
    /// prerelease.
    pub fn publish(&self, package: Package) {
        let mut inner = self.lock();
        if !package.version.contains('-') {
            inner
                .dist_tags
                .entry(package.name.clone())
                .or_default()
                .insert("latest".into(), package.version.clone());
        }
        let versions = inner.packages.entry(package.name.clone()).or_default();
        versions.retain(|existing| existing.version != package.version);
        versions.push(package);
    }

    /// Serves `keys` at `/-/npm/v1/keys` and signs every version with the first
    /// of them, as npm's registry does.
    pub fn sign_with(&self, keys: Vec<RegistryKeyPair>) {
        self.lock().keys = keys.into_iter().map(Arc::new).collect();
    }

    pub fn set_dist_tag(&self, name: &str, tag: &str, version: &str) {
        self.lock()
            .dist_tags
            .entry(name.into())
            .or_default()
            .insert(tag.into(), version.into());
    }

    /// Removes a version, as an unpublish or a takedown would.
    pub fn unpublish(&self, name: &str, version: &str) {
        if let Some(versions) = self.lock().packages.get_mut(name) {
            versions.retain(|package| package.version != version);
        }
    }

    pub fn package(&self, name: &str, version: &str) -> Option<Package> {
        self.lock()
            .packages
            .get(name)?
            .iter()
            .find(|package| package.version == version)
            .cloned()
    }

    /// Changes the fault switches.
    pub fn faults(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.lock().faults);
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    /// How many requests had exactly this path.
    pub fn hits(&self, path: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|request| request.path == path)
            .count()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("the registry lock is not poisoned")
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Registry {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("the registry lock is not poisoned")
    }

    fn packument(&self, name: &str) -> Option<Value> {
        let inner = self.lock();
        let versions = inner.packages.get(name)?;
        let mut documents = Map::new();
        let mut time = Map::new();
        let created = versions.iter().map(|package| package.published).min()?;
        let modified = versions.iter().map(|package| package.published).max()?;
        time.insert("created".into(), json!(rfc3339(created)));
        time.insert("modified".into(), json!(rfc3339(modified)));
        for package in versions {
            let mut document = package.manifest.as_object().cloned().unwrap_or_default();
            document.insert(
                "_id".into(),
                json!(format!("{}@{}", package.name, package.version)),
            );
            // The publisher a package names itself (in tests) wins over the default.
            document
                .entry("_npmUser")
                .or_insert_with(|| json!({"name": "tester", "email": "tester@example.invalid"}));
            let mut dist = Map::new();
            // An empty digest stands for a registry that does not send that field.
            if !package.integrity.is_empty() {
                dist.insert("integrity".into(), json!(package.integrity));
            }
            if !package.shasum.is_empty() {
                dist.insert("shasum".into(), json!(package.shasum));
            }
            let basename = package.name.rsplit('/').next().unwrap_or_default();
            dist.insert(
                "tarball".into(),
                json!(format!(
                    "http://{}/{}/-/{basename}-{}.tgz",
                    self.addr, package.name, package.version
                )),
            );
            if let Some(key) = inner.keys.first()
                && !package.integrity.is_empty()
            {
                let id = format!("{}@{}", package.name, package.version);
                dist.insert(
                    "signatures".into(),
                    json!([key.sign(&id, &package.integrity)]),
                );
            }
            dist.extend(package.dist.clone());
            document.insert("dist".into(), Value::Object(dist));
            documents.insert(package.version.clone(), Value::Object(document));
            time.insert(package.version.clone(), json!(rfc3339(package.published)));
        }
        let dist_tags = inner.dist_tags.get(name).cloned().unwrap_or_default();
        Some(json!({
            "_id": name,
            "name": name,
            "description": format!("{name} for tests"),
            "dist-tags": dist_tags,
            "versions": documents,
            "time": time,
            "readme": "A package served by the fake registry.",
        }))
    }

    /// The attestations document of `name@version`.
    fn attestations(&self, spec: &str) -> Option<Bytes> {
        let (name, version) = spec.rsplit_once('@')?;
        let inner = self.lock();
        inner
            .packages
            .get(name)?
            .iter()
            .find(|package| package.version == version)?
            .attestations
            .clone()
    }

    fn tarball(&self, name: &str, file: &str) -> Option<Bytes> {
        let inner = self.lock();
        let basename = name.rsplit('/').next()?;
        let version = file
            .strip_prefix(basename)?
            .strip_prefix('-')?
            .strip_suffix(".tgz")?;
        inner
            .packages
            .get(name)?
            .iter()
            .find(|package| package.version == version)
            .map(|package| package.tarball.clone())
    }
}

async fn handle(State(registry): State<Registry>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let faults = {
        let mut inner = registry.lock();
        inner
            .requests
            .push(record(&parts.method, &path, &parts.headers));
        let faults = inner.faults.clone();
        inner.faults.fail_next = inner.faults.fail_next.saturating_sub(1);
        faults
    };
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let injected = |status: StatusCode| {
        let mut response = (status, "fault injected").into_response();
        if let Some(seconds) = faults.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    };
    if let Some(status) = faults.status {
        return injected(StatusCode::from_u16(status).expect("a valid status"));
    }
    if faults.fail_next > 0 {
        return injected(StatusCode::SERVICE_UNAVAILABLE);
    }
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    if faults.endless_bodies && path.starts_with("/-/") {
        let chunk = Bytes::from(vec![b' '; 64 * 1024]);
        let endless =
            futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        return (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(endless),
        )
            .into_response();
    }
    match path.as_str() {
        "/-/ping" => return json_response(&json!({})),
        "/-/npm/v1/keys" => {
            let keys: Vec<Value> = registry
                .lock()
                .keys
                .iter()
                .map(|key| key.key_entry())
                .collect();
            if keys.is_empty() || faults.hide_keys {
                return (
                    StatusCode::NOT_FOUND,
                    json_body(&json!({"error": "Not found"})),
                )
                    .into_response();
            }
            return json_response(&json!({ "keys": keys }));
        }
        "/-/v1/search" => {
            let query = parts.uri.query().unwrap_or_default().to_owned();
            return json_response(&json!({"objects": [], "total": 0, "query": query}));
        }
        "/-/npm/v1/security/advisories/bulk" | "/-/npm/v1/security/audits/quick" => {
            return json_response(&json!({"received_bytes": body.len(),
                "content_encoding": parts.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok())}));
        }
        _ => {}
    }
    if let Some(spec) = path.strip_prefix("/-/npm/v1/attestations/") {
        let spec = spec
            .replace("%40", "@")
            .replace("%2f", "/")
            .replace("%2F", "/");
        return match registry.attestations(&spec) {
            Some(document) => {
                ([(header::CONTENT_TYPE, "application/json")], document).into_response()
            }
            None => (
                StatusCode::NOT_FOUND,
                json_body(&json!({"error": "Not found"})),
            )
                .into_response(),
        };
    }
    let decoded = path.replacen("%2f", "/", 1).replacen("%2F", "/", 1);
    let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let (name, rest) = if segments[0].starts_with('@') && segments.len() > 1 {
        (format!("{}/{}", segments[0], segments[1]), &segments[2..])
    } else {
        (segments[0].to_owned(), &segments[1..])
    };
    match rest {
        [] => {
            if faults.malformed.contains(&name) {
                return (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"name\": \"trunc",
                )
                    .into_response();
            }
            let Some(mut packument) = registry.packument(&name) else {
                return (
                    StatusCode::NOT_FOUND,
                    json_body(&json!({"error": "Not found"})),
                )
                    .into_response();
            };
            if faults.omit_time {
                packument
                    .as_object_mut()
                    .expect("packuments are objects")
                    .remove("time");
            }
            serve_packument(&packument, &parts.headers, faults.no_validators)
        }
        ["-", file] => match registry.tarball(&name, file) {
            Some(tarball) => serve_tarball(&tarball, &faults),
            None => (
                StatusCode::NOT_FOUND,
                json_body(&json!({"error": "Not found"})),
            )
                .into_response(),
        },
        _ => (
            StatusCode::NOT_FOUND,
            json_body(&json!({"error": "Not found"})),
        )
            .into_response(),
    }
}

fn record(method: &Method, path: &str, headers: &HeaderMap) -> RequestRecord {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    RequestRecord {
        method: method.to_string(),
        path: path.to_owned(),
        user_agent: text(header::USER_AGENT).unwrap_or_default(),
        if_none_match: text(header::IF_NONE_MATCH),
        authorization: text(header::AUTHORIZATION),
    }
}

fn serve_packument(packument: &Value, headers: &HeaderMap, no_validators: bool) -> Response {
    let body = json_body(packument);
    if no_validators {
        return ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let etag = format!("\"{}\"", hex_prefix(&sha2::Sha256::digest(&body)));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

fn serve_tarball(tarball: &Bytes, faults: &Faults) -> Response {
    let mut bytes = tarball.to_vec();
    if faults.corrupt_tarballs {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
    }
    let length = bytes.len();
    if let Some(every) = faults.trickle_tarballs {
        let bytes = Bytes::from(bytes);
        let trickle = futures_util::stream::unfold(0usize, move |at| {
            let bytes = bytes.clone();
            async move {
                if at >= bytes.len() {
                    return None;
                }
                tokio::time::sleep(every).await;
                Some((Ok::<_, std::io::Error>(bytes.slice(at..=at)), at + 1))
            }
        });
        return Response::builder()
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, length)
            .body(Body::from_stream(trickle))
            .expect("a valid response");
    }
    let second = Bytes::from(bytes.split_off(length / 2));
    let first = Bytes::from(bytes);
    let stall = faults.stall_tarballs;
    let truncate = faults.truncate_tarballs;
    let stream = async_stream(first, second, stall, truncate);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, length)
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

fn async_stream(
    first: Bytes,
    second: Bytes,
    stall: Option<Duration>,
    truncate: bool,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(0u8, move |step| {
        let (first, second) = (first.clone(), second.clone());
        async move {
            match step {
                0 => Some((Ok(first), 1)),
                1 => {
                    if let Some(stall) = stall {
                        tokio::time::sleep(stall).await;
                    }
                    if truncate {
                        // Let the headers and the first half reach the client first.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Some((
                            Err(std::io::Error::other("fault injected: connection cut")),
                            2,
                        ))
                    } else {
                        Some((Ok(second), 2))
                    }
                }
                _ => None,
            }
        }
    })
}

fn json_body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialise")
}

fn json_response(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        json_body(value),
    )
        .into_response()
}

fn hex_prefix(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes[..8].iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
