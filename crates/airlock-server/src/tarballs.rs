//! The tarball path: verified blobs, fetched once.
//!
//! A tarball is known by the digest the registry gives in `dist.integrity` (or
//! `dist.shasum` for the oldest packages). A miss streams the upstream body to a
//! temporary file while hashing it; the blob is renamed into the store only if the
//! digest matches, so a client never receives a byte the registry did not vouch for.
//! Concurrent misses for the same digest share one download, which runs in its own
//! task so that a client hanging up does not waste it. Small blobs stay in memory
//! after their first read, so hot tarballs are served without touching the disk.
//!
//! A blob is checked again whenever it is read from disk: a small one before it
//! is served or kept in memory, a large one while it streams. A blob altered on
//! disk is evicted and fetched again (small), or its stream is broken off before
//! its end so that no client receives it whole (large), and either is logged.

use airlock_npm::{Clock, Integrity, PackageName};
use airlock_store::{Store, TarballRecord};
use airlock_upstream::Upstream;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::ApiError;
use crate::error::ErrorChain;
use crate::flight::SingleFlight;

/// Blobs up to this size are kept in memory once read.
const HOT_MAX: u64 = 1024 * 1024;
/// No tarball larger than this is accepted from upstream.
const MAX_TARBALL: u64 = 1024 * 1024 * 1024;

pub(crate) struct Tarballs {
    upstream: Upstream,
    store: Store,
    flight: SingleFlight<String, Result<u64, ApiError>>,
    hot: moka::sync::Cache<Integrity, Bytes>,
    clock: Clock,
}

/// What to fetch, when the blob is missing.
pub(crate) struct Wanted<'a> {
    pub(crate) name: &'a PackageName,
    pub(crate) version: &'a str,
    pub(crate) upstream_url: Option<&'a str>,
    pub(crate) integrity: Integrity,
}

impl<'a> Wanted<'a> {
    /// The tarball of `version`, as its version document names it.
    pub(crate) fn of(
        name: &'a PackageName,
        version: &'a str,
        doc: &'a airlock_npm::VersionDoc,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            name,
            version,
            upstream_url: doc.upstream_tarball(),
            integrity: verifiable(name, version, doc.integrity())?,
        })
    }
}

impl Tarballs {
    pub(crate) fn new(upstream: Upstream, store: Store, budget: u64, clock: Clock) -> Self {
        let hot = moka::sync::Cache::builder()
            .max_capacity(budget)
            .weigher(|_: &Integrity, bytes: &Bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX))
            .build();
        Self {
            upstream,
            store,
            flight: SingleFlight::new(),
            hot,
            clock,
        }
    }

    /// Answers a tarball request, fetching and verifying the blob first if needed.
    pub(crate) async fn serve(
        &self,
        wanted: Wanted<'_>,
        request: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let etag = wanted.integrity.etag();
        if request
            .get(header::IF_NONE_MATCH)
            .is_some_and(|value| value.as_bytes() == etag.as_bytes())
        {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
        }
        if let Some(bytes) = self.hot.get(&wanted.integrity) {
            crate::metrics::cache("tarball", "memory");
            return Ok(respond(
                Body::from(bytes.clone()),
                bytes.len() as u64,
                &etag,
            ));
        }
        let size = self.stored_size(&wanted).await?;
        if size <= HOT_MAX {
            let bytes = self.read_verified(&wanted).await?;
            return Ok(respond(
                Body::from(bytes.clone()),
                bytes.len() as u64,
                &etag,
            ));
        }
        let path = self.store.blobs().path(&wanted.integrity);
        let file = tokio::fs::File::open(&path).await.map_err(read_error)?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
        let checked = checked_stream(stream, wanted.integrity.clone(), path);
        Ok(respond(Body::from_stream(checked), size, &etag))
    }

    /// The verified bytes of a tarball, fetched first if needed (for analysis).
    pub(crate) async fn bytes(&self, wanted: &Wanted<'_>) -> Result<Bytes, ApiError> {
        if let Some(bytes) = self.hot.get(&wanted.integrity) {
            return Ok(bytes);
        }
        self.stored_size(wanted).await?;
        self.read_verified(wanted).await
    }

    /// Where the tarball's verified blob is stored, fetched first if needed (for
    /// an analysis worker, which reads and checks it itself).
    pub(crate) async fn stored_path(
        &self,
        wanted: &Wanted<'_>,
    ) -> Result<std::path::PathBuf, ApiError> {
        self.stored_size(wanted).await?;
        Ok(self.store.blobs().path(&wanted.integrity))
    }

    /// Reads a stored blob whole and checks it; one altered on disk is evicted and
    /// fetched again from the upstream.
    async fn read_verified(&self, wanted: &Wanted<'_>) -> Result<Bytes, ApiError> {
        if let Some(bytes) = self.read(&wanted.integrity).await? {
            return Ok(bytes);
        }
        self.fetch(wanted).await?;
        self.read(&wanted.integrity).await?.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the tarball of `{}@{}` no longer matches its digest after it was fetched again; Airlock served nothing\nhint: check the disk of the data directory",
                    wanted.name, wanted.version
                ),
            )
        })
    }

    /// The size of the stored blob, downloading and verifying it first if missing.
    async fn stored_size(&self, wanted: &Wanted<'_>) -> Result<u64, ApiError> {
        if let Some(size) = self.store.blobs().size(&wanted.integrity).await {
            crate::metrics::cache("tarball", "disk");
            return Ok(size);
        }
        crate::metrics::cache("tarball", "upstream");
        self.fetch(wanted).await
    }

    /// Reads a stored blob whole and checks its digest; small ones stay in memory
    /// for the next request. `None` when the file was altered: it is removed.
    async fn read(&self, integrity: &Integrity) -> Result<Option<Bytes>, ApiError> {
        let path = self.store.blobs().path(integrity);
        let bytes = Bytes::from(tokio::fs::read(&path).await.map_err(read_error)?);
        let mut hasher = integrity.hasher();
        hasher.update(&bytes);
        let actual = hasher.finish();
        if actual != *integrity {
            evict(&path, integrity, &actual);
            self.hot.invalidate(integrity);
            return Ok(None);
        }
        if bytes.len() as u64 <= HOT_MAX {
            self.hot.insert(integrity.clone(), bytes.clone());
        }
        Ok(Some(bytes))
    }

    async fn fetch(&self, wanted: &Wanted<'_>) -> Result<u64, ApiError> {
        let name = wanted.name.clone();
        let version = wanted.version.to_owned();
        let integrity = wanted.integrity.clone();
        let Some(url) = wanted.upstream_url.map(str::to_owned) else {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the upstream registry gives no tarball URL for `{name}@{version}`\nhint: this is an upstream fault; try again later"
                ),
            ));
        };
        let (upstream, store, clock) = (
            self.upstream.clone(),
            self.store.clone(),
            self.clock.clone(),
        );
        self.flight
            .run(integrity.storage_key(), || async move {
                let started = std::time::Instant::now();
                let task = tokio::spawn(download(
                    upstream, store, clock, name, version, url, integrity,
                ));
                let result = task.await.unwrap_or_else(|error| {
                    Err(ApiError::internal("downloading a tarball", &error))
                });
                let outcome = match &result {
                    Ok(_) => "ok",
                    Err(error) if error.status() == StatusCode::NOT_FOUND => "not-found",
                    Err(_) => "error",
                };
                crate::metrics::upstream("tarball", outcome, started.elapsed());
                result
            })
            .await
    }
}

/// Removes a blob that no longer hashes to its name, and says so.
fn evict(path: &std::path::Path, expected: &Integrity, actual: &Integrity) {
    tracing::error!(path = %path.display(), %expected, %actual, "a stored tarball was altered on disk; evicting it");
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!(%error, path = %path.display(), "could not evict an altered tarball");
    }
}

/// Streams a large blob while hashing it; when the end does not match the digest,
/// the last chunk is replaced by an error, so that the client sees a broken
/// transfer rather than a whole, altered file, and the blob is evicted.
fn checked_stream(
    stream: tokio_util::io::ReaderStream<tokio::fs::File>,
    integrity: Integrity,
    path: std::path::PathBuf,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    use futures_util::StreamExt as _;
    let hasher = Some(integrity.hasher());
    let state = (stream.peekable(), hasher, integrity, path);
    futures_util::stream::unfold(
        state,
        |(mut stream, mut hasher, integrity, path)| async move {
            let chunk = match stream.next().await? {
                Ok(chunk) => chunk,
                Err(error) => return Some((Err(error), (stream, None, integrity, path))),
            };
            let running = hasher.as_mut()?;
            running.update(&chunk);
            if std::pin::Pin::new(&mut stream).peek().await.is_none() {
                let actual = hasher.take()?.finish();
                if actual != integrity {
                    evict(&path, &integrity, &actual);
                    let error = std::io::Error::other("the stored tarball was altered on disk");
                    return Some((Err(error), (stream, None, integrity, path)));
                }
            }
            Some((Ok(chunk), (stream, hasher, integrity, path)))
        },
    )
}

#[expect(clippy::needless_pass_by_value, reason = "used as a map_err function")]
fn read_error(error: std::io::Error) -> ApiError {
    ApiError::internal("reading a stored tarball", &error)
}

/// The digest a version's tarball must have; a version without one is not served.
pub(crate) fn verifiable(
    name: &PackageName,
    version: &str,
    integrity: Result<Integrity, airlock_npm::Error>,
) -> Result<Integrity, ApiError> {
    integrity.map_err(|error| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("the upstream metadata of `{name}@{version}` has no usable digest: {error}\nhint: Airlock serves no tarball it cannot verify"),
        )
    })
}

fn respond(body: Body, size: u64, etag: &str) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

async fn download(
    upstream: Upstream,
    store: Store,
    clock: Clock,
    name: PackageName,
    version: String,
    url: String,
    integrity: Integrity,
) -> Result<u64, ApiError> {
    let context = format!("the tarball of `{name}@{version}`");
    let mut response = upstream
        .tarball(&url)
        .await
        .map_err(|error| ApiError::upstream(&context, &error))?;
    let mut writer = store
        .blobs()
        .writer(&integrity)
        .await
        .map_err(|error| ApiError::internal("storing a tarball", &error))?;
    let mut received = 0u64;
    let allowed = upstream.transfer_deadline(response.content_length());
    let deadline = tokio::time::Instant::now() + allowed;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, response.chunk()).await else {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "the upstream sent {context} too slowly: {received} bytes in {allowed:?}; Airlock stopped and stored nothing\nhint: retry later; a registry that stays this slow is failing"
                ),
            ));
        };
        let chunk = match next {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(source) => {
                let error = airlock_upstream::Error::Body {
                    url: url.clone(),
                    source,
                };
                return Err(ApiError::upstream(&context, &error));
            }
        };
        received += chunk.len() as u64;
        if received > MAX_TARBALL {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("{context} is larger than 1 GiB; Airlock refused it and stored nothing"),
            ));
        }
        writer
            .write(&chunk)
            .await
            .map_err(|error| ApiError::internal("storing a tarball", &error))?;
    }
    let size = match writer.finish().await {
        Ok(size) => size,
        Err(airlock_store::Error::IntegrityMismatch { expected, actual }) => {
            tracing::error!(package = %name, %version, %expected, %actual, "tarball integrity mismatch");
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "integrity mismatch: the upstream sent a tarball for `{name}@{version}` that hashes to `{actual}`, but its packument promises `{expected}`; Airlock refused it and stored nothing\nhint: the upstream registry or something between it and Airlock altered the file; report it, and do not install this version from elsewhere"
                ),
            ));
        }
        Err(error) => return Err(ApiError::internal("storing a tarball", &error)),
    };
    let record = TarballRecord {
        integrity: integrity.storage_key(),
        name: name.to_string(),
        version,
        size: i64::try_from(size).unwrap_or(i64::MAX),
        stored_at: clock.now_millis(),
    };
    if let Err(error) = store.put_tarball(&record).await {
        tracing::warn!(package = %name, error = %ErrorChain(&error), "could not record a stored tarball");
    }
    Ok(size)
}
