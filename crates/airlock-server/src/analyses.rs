//! Content analysis in the proxy: every tarball is analysed before it is served.
//!
//! A version's first tarball request fetches and verifies the blob, analyses it
//! (once per digest and analyser version; the result is stored), and only then
//! decides. The analysis compares the version with the previous one on its release
//! line (analysing that one too when it has never been seen), and judges the
//! dependencies it newly pulls in by their own decisions. CPU work runs on the
//! blocking pool, at most as many at once as there are cores, each under a time
//! limit; a timeout is a finding (`analysis-incomplete`), not an allow.
//!
//! Findings live in memory, keyed by digest, so that [`crate::decide::Gate`] can fold
//! them into every decision synchronously; a new analysis bumps a generation that
//! invalidates cached decisions. When a packument is served, its newest versions are
//! analysed in the background, so that a version is judged before its quarantine ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use airlock_analyze::{
    ANALYZER_VERSION, AddedDependency, Analysis, DependencyFacts, Finding, Manifest, Request,
    StoredTarball, VersionDiff, dependency_risk,
};
use airlock_npm::{Clock, PackageName, Packument, Timestamp, VersionDoc};
use airlock_store::{AnalysisRecord, Store};
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::error::ErrorChain;
use crate::flight::SingleFlight;
use crate::isolation::{Isolation, WorkerError, analyse_in_worker};
use crate::packuments::{Entry, Freshness};
use crate::tarballs::Wanted;
use crate::{ApiError, AppState};

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
}

/// How many dependencies of a package on disk are fetched and analysed at once.
const DEPENDENCIES_AT_ONCE: usize = 8;

impl Analyses {
    /// Starts empty and loads the stored findings in the background.
    pub(crate) fn start(
        store: Store,
        time_limit: Duration,
        isolation: Isolation,
        clock: Clock,
    ) -> Arc<Self> {
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
        });
        let loading = analyses.clone();
        tokio::spawn(async move {
            match loading
                .store
                .analysis_findings(i64::from(ANALYZER_VERSION))
                .await
            {
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

    /// Analyses `version` of `entry` unless that was done before.
    pub(crate) async fn ensure(
        &self,
        state: &AppState,
        entry: &Arc<Entry>,
        version: &str,
    ) -> Result<Findings, ApiError> {
        self.ensure_at(state, entry, version, true).await
    }

    async fn ensure_at(
        &self,
        state: &AppState,
        entry: &Arc<Entry>,
        version: &str,
        with_dependencies: bool,
    ) -> Result<Findings, ApiError> {
        let packument = entry.packument();
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
            let (analysis, took_ms) = self.analyse(state, entry, version, doc).await?;
            let mut findings = analysis.findings.clone();
            if with_dependencies && let Some(diff) = &analysis.diff {
                findings.extend(self.dependency_risk(state, diff).await);
            }
            self.remember(&key, name, version, (&analysis, took_ms), findings)
                .await
        }))
        .await
    }

    async fn stored(&self, key: &str) -> Option<Findings> {
        let record = self
            .store
            .analysis(key, i64::from(ANALYZER_VERSION))
            .await
            .ok()??;
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
            analyzer: i64::from(ANALYZER_VERSION),
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
        state: &AppState,
        entry: &Arc<Entry>,
        version: &str,
        doc: &VersionDoc,
    ) -> Result<(Analysis, i64), ApiError> {
        let packument = entry.packument();
        let wanted = wanted(packument.name(), version, doc)?;
        let previous = match previous_published(packument, version) {
            Some(previous) => self
                .full_analysis(state, entry, &previous)
                .await
                .map(|analysis| (previous, analysis)),
            None => None,
        };
        let (advisories, _) = state.advisories().current();
        let request = Request {
            registry_manifest: Some(registry_manifest(doc)),
            indicators: Some(advisories.iocs().clone()),
            previous,
            registry_hosts: registry_hosts(state),
            context: Some(registry_context(packument, version)),
            ..Request::default()
        };
        self.analyse_tarball(state, &wanted, request).await
    }

    /// The whole analysis of `version` (analysing it, without a diff, if needed).
    pub async fn analysis_of(
        &self,
        state: &AppState,
        entry: &Arc<Entry>,
        version: &str,
    ) -> Option<Analysis> {
        self.full_analysis(state, entry, version).await
    }

    /// The stored analysis of `version` (analysing it, without a diff, if needed).
    async fn full_analysis(
        &self,
        state: &AppState,
        entry: &Arc<Entry>,
        version: &str,
    ) -> Option<Analysis> {
        let packument = entry.packument();
        let index = packument.version_index(version)?;
        let (_, doc) = packument.version_at(index)?;
        let key = doc.integrity().ok()?.storage_key();
        if let Ok(Some(record)) = self.store.analysis(&key, i64::from(ANALYZER_VERSION)).await
            && let Ok(analysis) = serde_json::from_str::<Analysis>(&record.analysis)
        {
            return Some(analysis);
        }
        let wanted = wanted(packument.name(), version, doc).ok()?;
        let request = Request {
            registry_manifest: Some(registry_manifest(doc)),
            registry_hosts: registry_hosts(state),
            context: Some(registry_context(packument, version)),
            ..Request::default()
        };
        let (analysis, took_ms) = self.analyse_tarball(state, &wanted, request).await.ok()?;
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
        state: &AppState,
        wanted: &Wanted<'_>,
        mut request: Request,
    ) -> Result<(Analysis, i64), ApiError> {
        let label = format!("{}@{}", wanted.name, wanted.version);
        if matches!(self.isolation, Isolation::Process(_)) {
            let path = state.inner.tarballs.stored_path(wanted).await?;
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
        let bytes = state.inner.tarballs.bytes(wanted).await?;
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

    /// `dependency-risk` for what the diff added: each new dependency's packument,
    /// the version its range resolves to, and Airlock's decision about that version
    /// (analysed here if it never was).
    async fn dependency_risk(&self, state: &AppState, diff: &VersionDiff) -> Vec<Finding> {
        let prerelease = js_semver::Version::parse(&diff.current)
            .is_ok_and(|version| !version.pre_release.is_empty());
        let mut facts = Vec::new();
        for added in &diff.dependencies_added {
            if let Some(found) =
                Box::pin(self.dependency_facts(state, added, prerelease, true)).await
            {
                facts.push(found);
            }
        }
        dependency_risk(&facts, self.clock.now())
    }

    /// What the registry and Airlock know of one dependency: whether the registry
    /// has it at all (or replaced it with a security placeholder), its age and
    /// history, the version its range resolves to, and, when `analyse` is set,
    /// Airlock's decision about that version (analysed here if it never was).
    pub(crate) async fn dependency_facts(
        &self,
        state: &AppState,
        added: &AddedDependency,
        prerelease: bool,
        analyse: bool,
    ) -> Option<DependencyFacts> {
        let name = PackageName::new(&added.name).ok()?;
        let base = DependencyFacts {
            name: added.name.clone(),
            range: added.range.clone(),
            phantom: added.phantom,
            optional: added.optional,
            prerelease,
            ..DependencyFacts::default()
        };
        let entry = match state.inner.packuments.get(&name, Freshness::Cached).await {
            Ok(entry) => entry,
            // The registry has no such package, or refuses to serve it: removed,
            // usually for what it did.
            Err(error)
                if error.status() == http::StatusCode::NOT_FOUND || error.upstream_refused() =>
            {
                return Some(DependencyFacts {
                    missing: true,
                    ..base
                });
            }
            Err(_) => return Some(base),
        };
        let packument = entry.packument();
        // Every version unpublished: the registry keeps the name and nothing else.
        if packument.versions().next().is_none() {
            return Some(DependencyFacts {
                missing: true,
                ..base
            });
        }
        let taken_down = packument.versions().next().is_some()
            && packument
                .versions()
                .all(|(version, _)| version.ends_with("-security"));
        let resolved = resolve_range(packument, &added.range);
        let mut decided_codes = Vec::new();
        let mut install_scripts = false;
        let verdict = match &resolved {
            Some(version) => {
                if analyse
                    && let Err(error) =
                        Box::pin(self.ensure_at(state, &entry, version, false)).await
                {
                    tracing::warn!(package = %name, %version, error = error.message(), "could not analyse a new dependency");
                }
                let decided = state.inner.gate.decide(&entry);
                packument.version_index(version).map(|index| {
                    let decision = &decided.decisions[index];
                    decided_codes = decision.reasons.iter().map(|reason| reason.code).collect();
                    if let Some((_, doc)) = packument.version_at(index) {
                        install_scripts = has_install_scripts(doc);
                    }
                    (version.clone(), decision.verdict.clone())
                })
            }
            None => None,
        };
        Some(DependencyFacts {
            created: packument
                .versions()
                .filter_map(|(version, _)| {
                    packument
                        .publish_time(version)
                        .as_deref()
                        .and_then(Timestamp::parse)
                })
                .min(),
            versions: packument.versions().count(),
            new_publisher: resolved
                .as_deref()
                .and_then(|version| new_publisher(packument, version)),
            resolved: verdict,
            resolved_codes: decided_codes,
            install_scripts,
            taken_down,
            ..base
        })
    }

    /// `dependency-risk` for a package seen without its history (a tarball on
    /// disk): every dependency is looked up in the registry, resolved, analysed and
    /// decided as the proxy decides a new dependency; one no file requires (the
    /// Axios shape) weighs more.
    pub async fn judge_dependencies(
        &self,
        state: &AppState,
        manifest: &Manifest,
        required: &std::collections::BTreeSet<String>,
    ) -> Vec<Finding> {
        let prerelease = manifest
            .version
            .as_deref()
            .and_then(|version| js_semver::Version::parse(version).ok())
            .is_some_and(|version| !version.pre_release.is_empty());
        // Git, file, URL and alias dependencies are not the registry's to judge;
        // bundled ones ship inside the tarball. Every other one is resolved,
        // analysed and decided as the proxy would when a client asks for it.
        let added: Vec<AddedDependency> = manifest
            .dependencies
            .iter()
            .filter(|(name, range)| {
                !(range.contains(':') || range.contains('/') || manifest.bundled.contains(*name))
            })
            .map(|(name, range)| AddedDependency {
                name: name.clone(),
                range: range.clone(),
                phantom: Some(!required.contains(name)),
                optional: manifest.optional.contains(name),
            })
            .collect();
        let facts: Vec<DependencyFacts> = futures_util::stream::iter(&added)
            .map(|added| Box::pin(self.dependency_facts(state, added, prerelease, true)))
            .buffered(DEPENDENCIES_AT_ONCE)
            .filter_map(|found| async move {
                // Without the package's history, nothing says the dependency is new.
                found.map(|facts| DependencyFacts {
                    history_unknown: true,
                    ..facts
                })
            })
            .collect()
            .await;
        dependency_risk(&facts, self.clock.now())
    }

    /// Analyses the newest versions of a served packument in the background, so that
    /// they are judged before their quarantine ends.
    pub(crate) fn analyse_newest(&self, state: &AppState, entry: &Arc<Entry>) {
        // Once per fetched copy: the warm path pays one atomic swap.
        if entry.newest_analysed.swap(true, Ordering::AcqRel) {
            return;
        }
        let packument = entry.packument();
        let newest = background_targets(packument);
        let decided = state.inner.gate.decide(entry);
        for version in newest {
            let Some(index) = packument.version_index(&version) else {
                continue;
            };
            let (_, doc) = packument
                .version_at(index)
                .expect("the index came from this packument");
            if self.findings(doc).is_some()
                || doc.integrity().is_err()
                || refused_before_analysis(&decided.decisions[index])
            {
                continue;
            }
            let key = format!("{}@{version}", packument.name());
            let (state, name) = (state.clone(), packument.name().clone());
            // A waiting task holds a name, not the packument or a tarball: a cold
            // install serves hundreds of packuments in a burst, and the analyses
            // they start must not pile up in memory behind the analysis slots.
            tokio::spawn(async move {
                let analyses = state.inner.analyses.clone();
                let Ok(_turn) = analyses.background_turns.clone().acquire_owned().await else {
                    return;
                };
                let Ok(entry) = state.inner.packuments.get(&name, Freshness::Cached).await else {
                    return;
                };
                analyses
                    .background
                    .run(key, || async {
                        if let Err(error) = analyses.ensure(&state, &entry, &version).await {
                            tracing::debug!(error = error.message(), "background analysis failed");
                        }
                        if let Err(error) = state.inner.trust.ensure(&state, &entry, &version).await
                        {
                            tracing::debug!(
                                error = error.message(),
                                "background provenance check failed"
                            );
                        }
                    })
                    .await;
            });
        }
    }
}

/// Refused on what the registry says (an advisory, a denial, publisher history),
/// not only waiting out its release age: analysing it in the background would fetch
/// a tarball nobody will be served; a download after an approval analyses it then.
fn refused_before_analysis(decision: &airlock_policy::Decision) -> bool {
    decision.refuses()
        && decision.reasons.iter().any(|reason| {
            !reason.action.admits() && reason.code != airlock_policy::Code::ReleaseAge
        })
}

/// The versions a served packument's background analysis covers: `latest` and the
/// highest stable version (what `^x` ranges resolve to). Prereleases (canaries,
/// betas) are analysed when a client asks for one, not before: some packages
/// publish several a day.
pub(crate) fn background_targets(packument: &Packument) -> Vec<String> {
    let mut newest: Vec<String> = packument
        .dist_tags()
        .get("latest")
        .cloned()
        .into_iter()
        .collect();
    if let Some(highest) = packument
        .versions()
        .filter_map(|(version, _)| js_semver::Version::parse(version).ok())
        .filter(|version| version.pre_release.is_empty())
        .max()
    {
        newest.push(highest.to_string());
    }
    newest.dedup();
    newest
}

pub(crate) fn wanted<'a>(
    name: &'a PackageName,
    version: &'a str,
    doc: &'a VersionDoc,
) -> Result<Wanted<'a>, ApiError> {
    Ok(Wanted {
        name,
        version,
        upstream_url: doc.upstream_tarball(),
        integrity: crate::tarballs::verifiable(name, version, doc.integrity())?,
    })
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

/// The configured upstream's host: code that talks to it talks to the registry.
fn registry_hosts(state: &AppState) -> Vec<String> {
    state
        .upstream_url()
        .host_str()
        .map(str::to_owned)
        .into_iter()
        .collect()
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
        package_age_days: match (first, this) {
            (Some(first), Some(this)) => {
                u64::try_from((this.unix_millis() - first.unix_millis()) / (24 * 3_600_000)).ok()
            }
            _ => None,
        },
    }
}

/// Whether a version document runs scripts at install.
fn has_install_scripts(doc: &VersionDoc) -> bool {
    doc.get::<serde_json::Map<String, serde_json::Value>>("scripts")
        .is_some_and(|scripts| {
            airlock_analyze::manifest::INSTALL_SCRIPTS
                .iter()
                .any(|script| scripts.contains_key(*script))
        })
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

/// The account that published `version` (`_npmUser.name`), when other versions
/// name their publisher and none of them is that account.
fn new_publisher(packument: &Packument, version: &str) -> Option<String> {
    let publisher = |doc: &VersionDoc| {
        doc.get::<serde_json::Value>("_npmUser").and_then(|user| {
            user.get("name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
    };
    let index = packument.version_index(version)?;
    let (_, doc) = packument.version_at(index)?;
    let account = publisher(doc)?;
    let others: Vec<String> = packument
        .versions()
        .filter(|(other, _)| *other != version)
        .filter_map(|(_, doc)| publisher(doc))
        .collect();
    (!others.is_empty() && !others.contains(&account)).then_some(account)
}

/// The highest version satisfying `range`, as npm would pick.
fn resolve_range(packument: &Packument, range: &str) -> Option<String> {
    let range = js_semver::Range::parse(range).ok()?;
    packument
        .versions()
        .filter_map(|(candidate, _)| js_semver::Version::parse(candidate).ok())
        .filter(|candidate| range.satisfies(candidate))
        .max()
        .map(|candidate| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packument(latest: &str, versions: &[&str]) -> Packument {
        let versions: serde_json::Map<String, serde_json::Value> = versions
            .iter()
            .map(|version| {
                (
                    (*version).to_owned(),
                    serde_json::json!({"name": "canaried", "version": version, "dist": {"tarball": "http://127.0.0.1:1/x.tgz"}}),
                )
            })
            .collect();
        let body = serde_json::json!({
            "name": "canaried",
            "dist-tags": {"latest": latest},
            "versions": versions,
        });
        Packument::parse(
            &PackageName::new("canaried").unwrap(),
            &serde_json::to_vec(&body).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn background_analysis_covers_latest_and_the_highest_stable_not_canaries() {
        let canaries = packument(
            "1.4.0",
            &["1.4.0", "1.5.0", "2.0.0-canary.7", "2.0.0-beta.1"],
        );
        assert_eq!(background_targets(&canaries), ["1.4.0", "1.5.0"]);
        let plain = packument("3.0.0", &["2.9.0", "3.0.0"]);
        assert_eq!(background_targets(&plain), ["3.0.0"]);
    }
}
