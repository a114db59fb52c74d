//! The metadata cache: full upstream packuments, parsed, in memory and in SQLite.
//!
//! A request is answered from memory while the entry is younger than
//! `metadata_max_age`. After that, one request per package (the others wait on it)
//! revalidates upstream with the stored `ETag`/`Last-Modified`; a `304` only refreshes
//! the timestamp. When the upstream fails, an entry no older than `stale_if_error`
//! past its max age is served anyway, and the failure is logged. After a restart,
//! entries come back from SQLite, so a warm cache survives it.
//!
//! Rendered answers are cached apart, in `answers.rs`: a warm
//! request is answered from there without the parsed packument.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airlock_npm::{Clock, PackageName, Packument};
use airlock_store::{Store, StoredPackument};
use airlock_upstream::{Fetched, Upstream, Validators};

use crate::alerts::{Alert, Alerts};
use crate::answers::Answers;
use crate::error::ErrorChain;
use crate::flight::SingleFlight;
use crate::{ApiError, ServerConfig};

/// A cached full packument.
pub struct Entry {
    packument: Packument,
    validators: Validators,
    fetched_at: AtomicI64,
    size: usize,
    /// The gate's decisions about this packument, while they hold.
    pub(crate) decided: Mutex<Option<Arc<crate::decided::Decided>>>,
    /// Whether the background analysis of this copy's newest versions was started.
    pub(crate) newest_analysed: std::sync::atomic::AtomicBool,
}

impl Entry {
    fn new(packument: Packument, validators: Validators, fetched_at: i64, size: usize) -> Self {
        Self {
            packument,
            validators,
            fetched_at: AtomicI64::new(fetched_at),
            size,
            decided: Mutex::new(None),
            newest_analysed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn packument(&self) -> &Packument {
        &self.packument
    }

    /// The upstream document this copy holds, as its validators and size name it,
    /// and when it was last fetched or revalidated: what an answer rendered from it
    /// is checked against.
    pub(crate) fn source(&self) -> (String, i64) {
        (
            format!(
                "{}|{}|{}",
                self.validators.etag.as_deref().unwrap_or(""),
                self.validators.last_modified.as_deref().unwrap_or(""),
                self.size
            ),
            self.fetched_at.load(Ordering::Relaxed),
        )
    }

    fn age(&self, now: i64) -> Duration {
        Duration::from_millis(
            u64::try_from(now - self.fetched_at.load(Ordering::Relaxed)).unwrap_or(0),
        )
    }

    /// What the entry costs the memory cache: the parsed packument, about twice
    /// its JSON.
    fn weight(&self) -> u32 {
        u32::try_from(self.size.saturating_mul(2)).unwrap_or(u32::MAX)
    }
}

pub struct PackumentCache {
    memory: moka::sync::Cache<PackageName, Arc<Entry>>,
    answers: Answers,
    alerts: Alerts,
    flight: SingleFlight<(PackageName, Freshness), Result<Arc<Entry>, ApiError>>,
    upstream: Upstream,
    store: Store,
    max_age: Duration,
    stale_if_error: Duration,
    trust: Arc<crate::trust::Trust>,
    clock: Clock,
}

/// Whether a lookup may use a fresh cached copy or must ask upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// Use the cached copy while it is younger than the max age.
    Cached,
    /// Revalidate upstream now (a version the cached copy lacks was asked for).
    Revalidate,
}

impl PackumentCache {
    pub(crate) fn new(
        config: &ServerConfig,
        upstream: Upstream,
        store: Store,
        (budget, answers_budget): (u64, u64),
        alerts: Alerts,
        trust: Arc<crate::trust::Trust>,
        clock: Clock,
    ) -> Self {
        let memory = moka::sync::Cache::builder()
            .max_capacity(budget)
            .weigher(|_, entry: &Arc<Entry>| entry.weight())
            .build();
        Self {
            memory,
            answers: Answers::new(answers_budget, config.metadata_max_age, clock.clone()),
            alerts,
            flight: SingleFlight::new(),
            upstream,
            store,
            max_age: config.metadata_max_age,
            stale_if_error: config.stale_if_error,
            trust,
            clock,
        }
    }

    /// The rendered answers, cached apart from the parsed packuments.
    pub(crate) fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The packument of `name`, from cache or upstream.
    pub async fn get(
        &self,
        name: &PackageName,
        freshness: Freshness,
    ) -> Result<Arc<Entry>, ApiError> {
        if freshness == Freshness::Cached
            && let Some(entry) = self.memory.get(name)
            && entry.age(self.clock.now_millis()) < self.max_age
        {
            crate::metrics::cache("packument", "memory");
            return Ok(entry);
        }
        self.flight
            .run((name.clone(), freshness), || self.refresh(name, freshness))
            .await
    }

    /// Loads the stored packuments of `names` that memory lacks, a batch per query and
    /// parsed on every core, so a caller about to look up thousands of packages (an
    /// audit) does not pay a query and a hand-off per package. `get` still decides
    /// what is fresh: a stale copy loaded here is revalidated as one in memory is.
    pub async fn preload<'n>(&self, names: impl IntoIterator<Item = &'n PackageName>) {
        let missing: Vec<&PackageName> = names
            .into_iter()
            .filter(|name| !self.memory.contains_key(*name))
            .collect();
        for batch in missing.chunks(PRELOAD_BATCH) {
            let keys: Vec<&str> = batch.iter().map(|name| name.as_str()).collect();
            let stored = match self.store.packuments(&keys).await {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "could not read cached packuments; reading them one by one");
                    return;
                }
            };
            for (name, entry) in parse_stored(stored).await {
                self.trust.learn_keys(entry.packument()).await;
                // A copy fetched meanwhile is newer than the stored one.
                self.memory.entry(name).or_insert(entry);
            }
        }
    }

    async fn refresh(
        &self,
        name: &PackageName,
        freshness: Freshness,
    ) -> Result<Arc<Entry>, ApiError> {
        let (cached, source) = match self.memory.get(name) {
            Some(entry) => (Some(entry), "memory"),
            None => (self.load(name).await, "disk"),
        };
        let now = self.clock.now_millis();
        if let Some(entry) = &cached
            && freshness == Freshness::Cached
            && entry.age(now) < self.max_age
        {
            crate::metrics::cache("packument", source);
            self.memory.insert(name.clone(), entry.clone());
            return Ok(entry.clone());
        }
        let validators = cached
            .as_ref()
            .map(|entry| entry.validators.clone())
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let result = match self.upstream.packument(name, &validators).await {
            Ok(Fetched::NotModified) => match &cached {
                Some(entry) => {
                    crate::metrics::upstream("packument", "not-modified", started.elapsed());
                    crate::metrics::cache("packument", "revalidated");
                    entry.fetched_at.store(now, Ordering::Relaxed);
                    if let Err(error) = self.store.touch_packument(name.as_str(), now).await {
                        tracing::warn!(package = %name, error = %ErrorChain(&error), "could not record revalidation");
                    }
                    return Ok(entry.clone());
                }
                // A 304 to an unconditional request: ask again without validators.
                None => self.upstream.packument(name, &Validators::default()).await,
            },
            other => other,
        };
        crate::metrics::upstream(
            "packument",
            match &result {
                Ok(_) => "ok",
                Err(airlock_upstream::Error::NotFound { .. }) => "not-found",
                Err(_) => "error",
            },
            started.elapsed(),
        );
        if result.is_ok() {
            crate::metrics::cache("packument", "upstream");
        }
        let context = format!("the packument of `{name}`");
        let fetched = match result {
            Ok(Fetched::Modified { body, validators }) => {
                Packument::parse(name, &body).map(|packument| (packument, body, validators))
            }
            Ok(Fetched::NotModified) => {
                return Err(ApiError::upstream(
                    &context,
                    &airlock_upstream::Error::Status {
                        url: name.to_string(),
                        status: 304,
                    },
                ));
            }
            Err(error @ airlock_upstream::Error::NotFound { .. }) => {
                self.memory.invalidate(name);
                self.answers.forget(name);
                if let Err(error) = self.store.delete_packument(name.as_str()).await {
                    tracing::warn!(package = %name, error = %ErrorChain(&error), "could not forget a removed packument");
                }
                if let Some(old) = &cached {
                    self.notice_takedowns(name, old.packument(), None).await;
                }
                return Err(ApiError::upstream(&context, &error));
            }
            Err(error) => {
                let failure = ApiError::upstream(&context, &error);
                return self.stale_or(cached, name, now, failure);
            }
        };
        match fetched {
            Ok((packument, body, validators)) => {
                if let Some(old) = &cached {
                    self.notice_takedowns(name, old.packument(), Some(&packument))
                        .await;
                }
                let stored = StoredPackument {
                    body: body.clone(),
                    etag: validators.etag.clone(),
                    last_modified: validators.last_modified.clone(),
                    fetched_at: now,
                };
                if let Err(error) = self.store.put_packument(name.as_str(), &stored).await {
                    tracing::warn!(package = %name, error = %ErrorChain(&error), "could not store packument");
                }
                // A signature by a key Airlock does not know: the registry may have
                // rotated its keys.
                self.trust.learn_keys(&packument).await;
                let entry = Arc::new(Entry::new(packument, validators, now, body.len()));
                self.answers.forget(name);
                self.memory.insert(name.clone(), entry.clone());
                Ok(entry)
            }
            Err(error) => {
                let failure = ApiError::malformed_packument(name, &error);
                self.stale_or(cached, name, now, failure)
            }
        }
    }

    /// Records, and alerts on, versions Airlock has stored that the upstream no longer
    /// lists (or has replaced with a security placeholder). The blobs stay.
    async fn notice_takedowns(&self, name: &PackageName, old: &Packument, new: Option<&Packument>) {
        let placeholder = new.is_some_and(|new| {
            new.versions().next().is_some()
                && new
                    .versions()
                    .all(|(version, _)| version.ends_with("-security"))
        });
        let removed: Vec<&str> = old
            .versions()
            .map(|(version, _)| version)
            .filter(|version| new.is_none_or(|new| new.version(version).is_none()))
            .collect();
        if removed.is_empty() {
            return;
        }
        let stored = match self.store.stored_versions(name.as_str()).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(package = %name, error = %ErrorChain(&error), "could not check for takedowns");
                return;
            }
        };
        let kind = if placeholder {
            "security-placeholder"
        } else {
            "removed"
        };
        let now = self.clock.now_millis();
        for version in removed
            .into_iter()
            .filter(|version| stored.iter().any(|stored| stored == version))
        {
            match self.store.record_takedown(name.as_str(), version, kind, now).await {
                Ok(true) => self.alerts.send(Alert {
                    event: "takedown",
                    text: format!("the upstream removed `{name}@{version}` ({kind}); Airlock stopped serving it and keeps its tarball"),
                    details: serde_json::json!({"package": name.as_str(), "version": version, "kind": kind,
                        "noticed_at": airlock_npm::Timestamp::from_unix_millis(now).to_string()}),
                }),
                Ok(false) => {}
                Err(error) => tracing::warn!(package = %name, version, error = %ErrorChain(&error), "could not record a takedown"),
            }
        }
    }

    /// Stale-if-error: the last good copy, if it is recent enough, else `failure`.
    fn stale_or(
        &self,
        cached: Option<Arc<Entry>>,
        name: &PackageName,
        now: i64,
        failure: ApiError,
    ) -> Result<Arc<Entry>, ApiError> {
        match cached {
            Some(entry) if entry.age(now) < self.max_age + self.stale_if_error => {
                tracing::warn!(package = %name, age = ?entry.age(now), "serving a stale packument: {}", failure.message());
                self.memory.insert(name.clone(), entry.clone());
                Ok(entry)
            }
            _ => Err(failure),
        }
    }

    async fn load(&self, name: &PackageName) -> Option<Arc<Entry>> {
        let stored = match self.store.packument(name.as_str()).await {
            Ok(stored) => stored?,
            Err(error) => {
                tracing::warn!(package = %name, error = %ErrorChain(&error), "could not read the cached packument");
                return None;
            }
        };
        let entry = stored_entry(name, stored)?;
        self.trust.learn_keys(entry.packument()).await;
        Some(entry)
    }
}

/// How many stored packuments `preload` reads per query.
const PRELOAD_BATCH: usize = 1000;

/// An entry for a stored packument; `None` when it no longer parses (it is then
/// fetched again, as if never stored).
fn stored_entry(name: &PackageName, stored: StoredPackument) -> Option<Arc<Entry>> {
    let packument = Packument::parse(name, &stored.body).ok()?;
    let validators = Validators {
        etag: stored.etag,
        last_modified: stored.last_modified,
    };
    Some(Arc::new(Entry::new(
        packument,
        validators,
        stored.fetched_at,
        stored.body.len(),
    )))
}

/// Parses stored packuments on the blocking pool, split across the cores.
async fn parse_stored(stored: Vec<(String, StoredPackument)>) -> Vec<(PackageName, Arc<Entry>)> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut parts: Vec<Vec<(String, StoredPackument)>> = (0..cores).map(|_| Vec::new()).collect();
    for (index, item) in stored.into_iter().enumerate() {
        parts[index % cores].push(item);
    }
    let tasks: Vec<_> = parts
        .into_iter()
        .map(|part| {
            tokio::task::spawn_blocking(move || {
                part.into_iter()
                    .filter_map(|(name, stored)| {
                        let name = PackageName::new(&name).ok()?;
                        let entry = stored_entry(&name, stored)?;
                        Some((name, entry))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut entries = Vec::new();
    for task in tasks {
        match task.await {
            Ok(part) => entries.extend(part),
            Err(error) => tracing::warn!(%error, "parsing cached packuments failed"),
        }
    }
    entries
}
