use std::sync::Arc;

use airlock_npm::Clock;
use airlock_store::Store;
use airlock_upstream::Upstream;

use crate::ServerConfig;
use crate::advisories::AdvisoryHandle;
use crate::alerts::Alerts;
use crate::analyses::Analyses;
use crate::downloads::DownloadLog;
use crate::gate::Gate;
use crate::packuments::PackumentCache;
use crate::policy::PolicyHandle;
use crate::tarballs::Tarballs;
use crate::trust::Trust;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ServerConfig,
    pub(crate) gate: Gate,
    pub(crate) upstream: Upstream,
    pub(crate) packuments: PackumentCache,
    pub(crate) tarballs: Arc<Tarballs>,
    pub(crate) downloads: DownloadLog,
    pub(crate) store: Store,
    pub(crate) alerts: Alerts,
    pub(crate) analyses: Arc<Analyses>,
    pub(crate) trust: Arc<Trust>,
    pub(crate) history: Arc<crate::history::History>,
    pub(crate) usage: crate::metrics::BlobUsage,
    pub(crate) console: crate::sessions::Sessions,
    pub(crate) clock: Clock,
}

impl AppState {
    /// Must be called inside a Tokio runtime: it starts the download log writer and
    /// the alert sender. Every "now" the server needs (release ages, expiries, the
    /// logs) is read from `clock`.
    pub fn new(
        config: ServerConfig,
        upstream: Upstream,
        store: Store,
        (policy, advisories): (Arc<PolicyHandle>, Arc<AdvisoryHandle>),
        clock: Clock,
    ) -> Self {
        crate::metrics::install();
        let alerts = Alerts::start(config.webhook.clone());
        // Parsed packuments get half the memory budget, the answers rendered from
        // them (compressed as clients ask) a quarter, hot small tarballs the rest.
        let packument_budget = config.memory_cache_bytes / 2;
        let answer_budget = config.memory_cache_bytes / 4;
        let tarball_budget = config.memory_cache_bytes - packument_budget - answer_budget;
        let trust = Trust::start(
            upstream.clone(),
            store.clone(),
            config.registry_keys.clone(),
            clock.clone(),
        );
        let packuments = PackumentCache::new(
            &config,
            upstream.clone(),
            store.clone(),
            (packument_budget, answer_budget),
            alerts.clone(),
            trust.clone(),
            clock.clone(),
        );
        let tarballs = Arc::new(Tarballs::new(
            upstream.clone(),
            store.clone(),
            tarball_budget,
            clock.clone(),
        ));
        let record_decisions = config.record_decisions;
        let history = Arc::new(crate::history::History::default());
        let analyses = Analyses::start(
            crate::analyses::Sources {
                store: store.clone(),
                tarballs: tarballs.clone(),
                advisories: advisories.clone(),
                registry_hosts: upstream
                    .base()
                    .host_str()
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
            },
            config.analysis_time_limit,
            (config.isolation.clone(), config.sandbox.clone()),
            clock.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                config,
                gate: Gate {
                    policy,
                    advisories,
                    analyses: analyses.clone(),
                    trust: trust.clone(),
                    history: history.clone(),
                    store: store.clone(),
                    alerts: alerts.clone(),
                    record_decisions,
                    clock: clock.clone(),
                },
                history,
                upstream,
                packuments,
                tarballs,
                downloads: DownloadLog::start(store.clone(), clock.clone()),
                store,
                alerts,
                analyses,
                trust,
                usage: crate::metrics::BlobUsage::default(),
                console: crate::sessions::Sessions::default(),
                clock,
            }),
        }
    }

    /// The clock every decision reads.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn packuments(&self) -> &PackumentCache {
        &self.inner.packuments
    }

    pub fn policy(&self) -> &Arc<PolicyHandle> {
        self.inner.gate.policy()
    }

    pub fn advisories(&self) -> &Arc<AdvisoryHandle> {
        self.inner.gate.advisories()
    }

    pub fn analyses(&self) -> &Arc<crate::analyses::Analyses> {
        &self.inner.analyses
    }

    pub fn downloads(&self) -> &DownloadLog {
        &self.inner.downloads
    }

    /// The upstream registry's base URL.
    pub fn upstream_url(&self) -> &url::Url {
        self.inner.upstream.base()
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// What this Airlock has served, for the approval gates.
    pub fn history(&self) -> &crate::history::History {
        &self.inner.history
    }

    /// Reads what the download log says was served, so that the approval gates
    /// know the packages this Airlock already serves. Call before serving.
    pub async fn load_history(&self) -> Result<usize, airlock_store::Error> {
        self.inner.history.load(&self.inner.store).await
    }
}
