//! Content analysis in the proxy: the analyses made and the running of new ones.
//!
//! A tarball is analysed once per digest and analyser version (the result is
//! stored), compared with the previous version on its release line (analysing that
//! one too when it has never been seen). Analyses run in a worker process or on the
//! blocking pool, at most as many at once as there are cores, each under a time
//! limit; a timeout is a finding (`analysis-incomplete`), not an allow.
//!
//! Findings live in memory, keyed by digest, so that [`crate::gate::Gate`] can fold
//! them into every decision synchronously; a new analysis bumps a generation that
//! invalidates cached decisions. When to analyse (before a tarball is served, in the
//! background when a packument is), and judging the dependencies a version adds by
//! their own decisions, is [`crate::vetting`]'s: it needs the gate, which reads this.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use airlock_analyze::{ANALYZER_VERSION, Analysis, Finding, Request, StoredTarball, VersionDiff};
use airlock_npm::{Clock, PackageName, Packument, Timestamp, VersionDoc};
use airlock_store::{AnalysisRecord, Store};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::ApiError;
use crate::advisories::AdvisoryHandle;
use crate::error::ErrorChain;
use crate::flight::SingleFlight;
use crate::isolation::{Isolation, WorkerError, analyse_in_worker};
use crate::tarballs::{Tarballs, Wanted};

/// What the gate needs of one analysed tarball: its findings, and the hosts its code
/// names (matched against advisory indicators at decision time).
#[derive(Debug, Serialize, Deserialize)]
pub struct Analyzed {
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub hosts: Vec<String>,
}

pub type Findings = Arc<Analyzed>;

pub struct Analyses {
    store: Store,
    known: RwLock<HashMap<String, Findings>>,
    generation: AtomicU64,
    limit: Arc<Semaphore>,
    flight: SingleFlight<String, Result<Findings, ApiError>>,
    background: SingleFlight<String, ()>,
    /// Background analyses running at once (each fetching a tarball): one per slot.
    background_turns: Arc<Semaphore>,
    /// How long one tarball's analysis may take.
    time_limit: Duration,
    /// Analyses waiting for a slot.
    waiting: std::sync::atomic::AtomicUsize,
    /// Slots: one per core.
    slots: usize,
    /// Where analyses run.
    isolation: Isolation,
    clock: Clock,
    /// Where tarballs come from (verified).
    tarballs: Arc<Tarballs>,
    /// Whose indicators analyses match hosts against.
    advisories: Arc<AdvisoryHandle>,
    /// The configured upstream's host: code that talks to it talks to the registry.
    registry_hosts: Vec<String>,
    /// Install scripts run in the sandbox after the static analysis, when on.
    sandbox: Option<Sandboxing>,
}

/// The sandbox's settings and its turns (one run at a time: each is a whole
/// process tree).
struct Sandboxing {
    config: airlock_sandbox::Config,
    turns: Semaphore,
}

/// What an analysis depends on besides its settings.
pub(crate) struct Sources {
    pub(crate) store: Store,
    pub(crate) tarballs: Arc<Tarballs>,
    pub(crate) advisories: Arc<AdvisoryHandle>,
    pub(crate) registry_hosts: Vec<String>,
}

impl Analyses {
    /// Starts empty and loads the stored findings in the background.
    pub(crate) fn start(
        sources: Sources,
        time_limit: Duration,
        (isolation, sandbox): (Isolation, Option<airlock_sandbox::Config>),
        clock: Clock,
    ) -> Arc<Self> {
        let Sources {
            store,
            tarballs,
            advisories,
            registry_hosts,
        } = sources;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let analyses = Arc::new(Self {
            store,
            known: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            limit: Arc::new(Semaphore::new(cores)),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            slots: cores,
            flight: SingleFlight::new(),
            background: SingleFlight::new(),
            background_turns: Arc::new(Semaphore::new(cores)),
            time_limit,
            isolation,
            clock,
            tarballs,
            advisories,
            registry_hosts,
            sandbox: sandbox.map(|config| Sandboxing {
                config,
                turns: Semaphore::new(1),
            }),
        });
        let loading = analyses.clone();
        tokio::spawn(async move {
            match loading.store.analysis_findings(loading.analyzer_id()).await {
                Ok(rows) => {
                    let mut known = loading.write();
                    for (key, findings) in rows {
                        if let Ok(analyzed) = serde_json::from_str::<Analyzed>(&findings) {
                            known.entry(key).or_insert_with(|| Arc::new(analyzed));
                        }
                    }
                    drop(known);
                    loading.generation.fetch_add(1, Ordering::Release);
                }
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "could not load stored analyses");
                }
            }
        });
        analyses
    }

    /// What stored analyses are keyed by: the analyser's version, and the sandbox's
    /// when install scripts are run (so that turning it on redoes the analyses).
    fn analyzer_id(&self) -> i64 {
        let analyzer = i64::from(ANALYZER_VERSION);
        match &self.sandbox {
            Some(_) => analyzer * 1_000 + i64::from(airlock_sandbox::SANDBOX_VERSION),
            None => analyzer,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Findings>> {
        self.known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Analyses running now, and waiting for a slot.
    pub(crate) fn load(&self) -> (usize, usize) {
        let running = self.slots - self.limit.available_permits().min(self.slots);
        (running, self.waiting.load(Ordering::Relaxed))
    }

    /// A turn for one background analysis: one per slot, so that the tasks a burst
    /// of packuments starts wait holding a name, not a tarball.
    pub(crate) async fn background_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.background_turns.clone().acquire_owned().await.ok()
    }

    /// Runs `work` for `key` unless the same background work is running already.
    pub(crate) async fn in_background(&self, key: String, work: impl AsyncFnOnce()) {
        self.background.run(key, || work()).await;
    }

    /// Changes whenever a new analysis arrives.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The findings for a version document's tarball, when it has been analysed.
    pub fn findings(&self, doc: &VersionDoc) -> Option<Findings> {
        let key = doc.integrity().ok()?.storage_key();
        self.known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned()
    }

    /// Analyses `version` of `packument` unless that was done before; `also` adds
    /// findings from the diff with the previous version (what the caller judges of
    /// the dependencies it adds).
    pub(crate) async fn ensure(
        &self,
        packument: &Packument,
        version: &str,
        also: impl AsyncFnOnce(&VersionDiff) -> Vec<Finding>,
    ) -> Result<Findings, ApiError> {
        let name = packument.name();
        let Some(index) = packument.version_index(version) else {
            return Err(ApiError::not_found(format!(
                "`{name}@{version}` is not listed upstream; it"
            )));
        };
        let (_, doc) = packument
            .version_at(index)
            .expect("the index came from this packument");
        if let Some(findings) = self.findings(doc) {
            return Ok(findings);
        }
        let key = crate::tarballs::verifiable(name, version, doc.integrity())?.storage_key();
        Box::pin(self.flight.run(key.clone(), || async {
            if let Some(findings) = self.stored(&key).await {
                return Ok(findings);
            }
            let (analysis, took_ms) = self.analyse(packument, version, doc).await?;
            let mut findings = analysis.findings.clone();
            if analysis.runs_at_install() {
                findings.extend(
                    self.run_install_scripts(packument.name(), version, doc)
                        .await,
                );
            }
            if let Some(diff) = &analysis.diff {
                findings.extend(also(diff).await);
            }
            self.remember(&key, name, version, (&analysis, took_ms), findings)
                .await
        }))
        .await
    }

    /// The sandbox's findings about the install scripts of `version` (none when the
    /// sandbox is off). A run that cannot start is `analysis-incomplete`.
    async fn run_install_scripts(
        &self,
        name: &PackageName,
        version: &str,
        doc: &VersionDoc,
    ) -> Vec<Finding> {
        let Some(sandbox) = &self.sandbox else {
            return Vec::new();
        };
        let incomplete = |why: String| vec![airlock_sandbox::not_run(&why)];
        // The tarball is read once the turn comes, not held while waiting for it.
        let Ok(_turn) = sandbox.turns.acquire().await else {
            return incomplete("the sandbox is shutting down".into());
        };
        let tarball = match Wanted::of(name, version, doc) {
            Ok(wanted) => self.tarballs.bytes(&wanted).await,
            Err(error) => Err(error),
        };
        let tarball = match tarball {
            Ok(tarball) => tarball,
            Err(error) => return incomplete(error.message().to_owned()),
        };
        let config = sandbox.config.clone();
        let run =
            tokio::task::spawn_blocking(move || airlock_sandbox::run(&config, &tarball)).await;
        match run {
            Ok(Ok(report)) => {
                tracing::info!(package = %name, %version, millis = report.millis, observations = report.observations.len(), findings = report.findings.len(), "install scripts run in the sandbox");
                report.findings
            }
            Ok(Err(error)) => {
                tracing::warn!(package = %name, %version, %error, "the sandbox could not run the install scripts");
                incomplete(error.to_string())
            }
            Err(error) => incomplete(error.to_string()),
        }
    }

    async fn stored(&self, key: &str) -> Option<Findings> {
        let record = self.store.analysis(key, self.analyzer_id()).await.ok()??;
        let findings: Findings = Arc::new(serde_json::from_str::<Analyzed>(&record.findings).ok()?);
        self.write().insert(key.to_owned(), findings.clone());
        self.generation.fetch_add(1, Ordering::Release);
        Some(findings)
    }

    async fn remember(
        &self,
        key: &str,
        name: &PackageName,
        version: &str,
        (analysis, took_ms): (&Analysis, i64),
        findings: Vec<Finding>,
    ) -> Result<Findings, ApiError> {
        let findings: Findings = Arc::new(Analyzed {
            findings,
            hosts: analysis.hosts.iter().cloned().collect(),
        });
        let record = AnalysisRecord {
            integrity: key.to_owned(),
            analyzer: self.analyzer_id(),
            name: name.to_string(),
            version: version.to_owned(),
            analysed_at: self.clock.now_millis(),
            took_ms,
            findings: serde_json::to_string(&*findings).expect("findings serialise"),
            analysis: serde_json::to_string(analysis).expect("analyses serialise"),
        };
        // An analysis that did not finish is kept in memory only: after a restart the
        // tarball is analysed again rather than held for good.
        let unfinished = findings
            .findings
            .iter()
            .any(|finding| finding.code == airlock_policy::Code::AnalysisIncomplete);
        if !unfinished && let Err(error) = self.store.put_analysis(&record).await {
            tracing::warn!(package = %name, %version, error = %ErrorChain(&error), "could not store an analysis");
        }
        self.write().insert(key.to_owned(), findings.clone());
        self.generation.fetch_add(1, Ordering::Release);
        let worst = findings.findings.iter().map(|f| f.severity).max();
        crate::metrics::analysis(
            worst.map_or("none", airlock_analyze::Severity::name),
            Duration::from_millis(u64::try_from(took_ms).unwrap_or(0)),
        );
        tracing::info!(package = %name, %version, findings = findings.findings.len(), ?worst, "analysed");
        Ok(findings)
    }

    /// Fetches, verifies and analyses one tarball, with the previous version of its
    /// release line for the diff.
    async fn analyse(
        &self,
        packument: &Packument,
        version: &str,
        doc: &VersionDoc,
    ) -> Result<(Analysis, i64), ApiError> {
        let wanted = Wanted::of(packument.name(), version, doc)?;
        let previous = match previous_published(packument, version) {
            Some(previous) => self
                .analysis_of(packument, &previous)
                .await
                .map(|analysis| (previous, analysis)),
            None => None,
        };
        let (advisories, _) = self.advisories.current();
        let request = Request {
            registry_manifest: Some(registry_manifest(doc)),
            indicators: Some(advisories.iocs().clone()),
            previous,
            registry_hosts: self.registry_hosts.clone(),
            context: Some(registry_context(packument, version)),
            ..Request::default()
        };
        self.analyse_tarball(&wanted, request).await
    }

    /// The whole analysis of `version`, stored or made now (without a diff).
    pub async fn analysis_of(&self, packument: &Packument, version: &str) -> Option<Analysis> {
        let index = packument.version_index(version)?;
        let (_, doc) = packument.version_at(index)?;
        let key = doc.integrity().ok()?.storage_key();
        if let Ok(Some(record)) = self.store.analysis(&key, self.analyzer_id()).await
            && let Ok(analysis) = serde_json::from_str::<Analysis>(&record.analysis)
        {
            return Some(analysis);
        }
        let wanted = Wanted::of(packument.name(), version, doc).ok()?;
        let request = Request {
            registry_manifest: Some(registry_manifest(doc)),
            registry_hosts: self.registry_hosts.clone(),
            context: Some(registry_context(packument, version)),
            ..Request::default()
        };
        let (analysis, took_ms) = self.analyse_tarball(&wanted, request).await.ok()?;
        let findings = analysis.findings.clone();
        self.remember(
            &key,
            packument.name(),
            version,
            (&analysis, took_ms),
            findings,
        )
        .await
        .ok()?;
        Some(analysis)
    }

    /// Analyses the tarball `wanted` names (fetched and verified first if needed).
    /// A worker process reads the stored blob itself, so the server holds no
    /// tarball in memory for it; a blob that changed on disk since is read (and
    /// fetched again if need be) here and sent to the worker instead.
    async fn analyse_tarball(
        &self,
        wanted: &Wanted<'_>,
        mut request: Request,
    ) -> Result<(Analysis, i64), ApiError> {
        let label = format!("{}@{}", wanted.name, wanted.version);
        if matches!(self.isolation, Isolation::Process(_)) {
            let path = self.tarballs.stored_path(wanted).await?;
            request.stored = Some(StoredTarball {
                path,
                integrity: wanted.integrity.to_string(),
            });
            if let Some(done) = self.run_bounded(&label, &request, Bytes::new()).await? {
                return Ok(done);
            }
            tracing::warn!(package = %label, "the stored tarball changed on disk before its analysis; reading it again");
            request.stored = None;
        }
        let bytes = self.tarballs.bytes(wanted).await?;
        Ok(self
            .run_bounded(&label, &request, bytes)
            .await?
            .unwrap_or_else(|| {
                (
                    Analysis::unfinished(format!(
                        "{label}: the tarball changed on disk during its analysis"
                    )),
                    0,
                )
            }))
    }

    /// Runs `request` on `tgz` (or on the stored tarball it names) where the
    /// configuration says (a worker process, or the blocking pool), bounded in
    /// number and time: the wait for a slot is bounded by the time limit, and the
    /// analysis is handed the deadline it must stop at (it checks it between
    /// files); a worker past it is killed. `None`: the stored tarball no longer
    /// matches its digest.
    async fn run_bounded(
        &self,
        label: &str,
        request: &Request,
        tgz: Bytes,
    ) -> Result<Option<(Analysis, i64)>, ApiError> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit =
            tokio::time::timeout(self.time_limit, self.limit.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let Ok(permit) = permit else {
            return Ok(Some((
                Analysis::unfinished(format!(
                    "no analysis slot came free for {label} within {} s: the analyser is busy",
                    self.time_limit.as_secs_f64()
                )),
                i64::try_from(self.time_limit.as_millis()).unwrap_or(i64::MAX),
            )));
        };
        let permit =
            permit.map_err(|error| ApiError::internal("waiting for an analysis slot", &error))?;
        let started = Instant::now();
        let mut request = request.clone();
        request.time_limit = Some(self.time_limit);
        let outcome = match &self.isolation {
            Isolation::Process(command) => {
                analyse_in_worker(command, &request, tgz, self.time_limit).await
            }
            Isolation::Thread => {
                let task = tokio::task::spawn_blocking(move || request.run(&tgz));
                match tokio::time::timeout(self.time_limit, task).await {
                    Ok(Ok(analysis)) => Ok(analysis),
                    Ok(Err(error)) => {
                        Err(WorkerError::Failed(format!("the analysis failed: {error}")))
                    }
                    Err(_) => Err(WorkerError::Failed(format!(
                        "the analysis did not finish within {} s",
                        self.time_limit.as_secs_f64()
                    ))),
                }
            }
        };
        drop(permit);
        let took_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok(analysis) => {
                tracing::debug!(package = %label, millis = took_ms, "analysis finished");
                Ok(Some((analysis, took_ms)))
            }
            Err(WorkerError::Stale) => Ok(None),
            Err(WorkerError::Failed(reason)) => {
                tracing::warn!(package = %label, %reason, "analysis incomplete");
                Ok(Some((
                    Analysis::unfinished(format!("{label}: {reason}")),
                    took_ms,
                )))
            }
        }
    }
}

/// The fields of the registry's version document that the tarball must agree with.
fn registry_manifest(doc: &VersionDoc) -> serde_json::Value {
    let mut value = serde_json::Map::new();
    for key in [
        "name",
        "version",
        "dependencies",
        "optionalDependencies",
        "scripts",
    ] {
        if let Some(field) = doc.get::<serde_json::Value>(key) {
            value.insert(key.to_owned(), field);
        }
    }
    serde_json::Value::Object(value)
}

/// What the packument says about the package around `version`.
pub(crate) fn registry_context(
    packument: &Packument,
    version: &str,
) -> airlock_analyze::RegistryContext {
    let published = |candidate: &str| {
        packument
            .publish_time(candidate)
            .as_deref()
            .and_then(Timestamp::parse)
    };
    let first = packument
        .versions()
        .filter_map(|(candidate, _)| published(candidate))
        .min();
    let this = published(version);
    airlock_analyze::RegistryContext {
        versions: packument.versions().count(),
        first_version: match (first, this) {
            (Some(first), Some(this)) => first == this,
            _ => packument.versions().count() <= 1,
        },
        package_age_days: days_between(first, this),
        previous_age_days: days_between(
            previous_published(packument, version).and_then(|previous| published(&previous)),
            this,
        ),
    }
}

/// Whole days from `earlier` to `later`, when both are known and in that order.
fn days_between(earlier: Option<Timestamp>, later: Option<Timestamp>) -> Option<u64> {
    let (earlier, later) = (earlier?, later?);
    u64::try_from((later.unix_millis() - earlier.unix_millis()) / (24 * 3_600_000)).ok()
}

/// The version a diff compares with: on the same release line (the same major,
/// and for 0.x the same minor), lower, and published before it, prereleases
/// included; the highest such. A prerelease of 4.0.1 published before 4.0.0 is
/// compared with what was out then, not with 4.0.0; and a registry whose old
/// publish times are copy times still yields the version just below.
pub(crate) fn previous_published(packument: &Packument, version: &str) -> Option<String> {
    let current = js_semver::Version::parse(version).ok()?;
    let published = |candidate: &str| {
        packument
            .publish_time(candidate)
            .as_deref()
            .and_then(Timestamp::parse)
    };
    let this = published(version);
    packument
        .versions()
        .filter_map(|(candidate, _)| {
            let parsed = js_semver::Version::parse(candidate).ok()?;
            let on_line = parsed.major == current.major
                && (current.major > 0 || parsed.minor == current.minor);
            let before = match (this, published(candidate)) {
                (Some(this), Some(then)) => then <= this,
                _ => true,
            };
            (on_line && parsed < current && before).then_some(parsed)
        })
        .max()
        .map(|candidate| candidate.to_string())
}

/// The highest version below `version` in its major, 0.x included and prereleases
/// aside: what publisher history compares with.
pub(crate) fn previous_in_major(packument: &Packument, version: &str) -> Option<String> {
    let current = js_semver::Version::parse(version).ok()?;
    packument
        .versions()
        .filter_map(|(candidate, _)| js_semver::Version::parse(candidate).ok())
        .filter(|candidate| {
            candidate < &current
                && candidate.pre_release.is_empty()
                && candidate.major == current.major
        })
        .max()
        .map(|candidate| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packument(times: &[(&str, &str)]) -> Packument {
        let versions: serde_json::Map<String, serde_json::Value> = times
            .iter()
            .map(|(version, _)| {
                (
                    (*version).to_owned(),
                    serde_json::json!({"name": "paced", "version": version, "dist": {"tarball": "http://127.0.0.1:1/x.tgz"}}),
                )
            })
            .collect();
        let time: serde_json::Map<String, serde_json::Value> = times
            .iter()
            .map(|(version, at)| ((*version).to_owned(), serde_json::json!(at)))
            .collect();
        let body = serde_json::json!({"name": "paced", "versions": versions, "time": time});
        Packument::parse(
            &PackageName::new("paced").unwrap(),
            &serde_json::to_vec(&body).unwrap(),
        )
        .unwrap()
    }

    /// How long the version a release is compared with had been public: two
    /// releases published together leave the first unsettled.
    #[test]
    fn the_previous_versions_age_is_counted_from_its_publication() {
        let paced = packument(&[
            ("1.0.0", "2026-01-01T00:00:00.000Z"),
            ("1.0.1", "2026-03-01T00:00:00.000Z"),
            ("1.0.2", "2026-03-01T00:40:00.000Z"),
        ]);
        let settled = registry_context(&paced, "1.0.1");
        assert_eq!(settled.previous_age_days, Some(59));
        assert!(settled.previous_settled());
        let hurried = registry_context(&paced, "1.0.2");
        assert_eq!(hurried.previous_age_days, Some(0));
        assert!(!hurried.previous_settled());
        assert_eq!(registry_context(&paced, "1.0.0").previous_age_days, None);
    }
}
