use std::time::Duration;

use url::Url;

use crate::AccessLog;

/// Settings of the HTTP side, already validated by whoever built them.
#[derive(Clone)]
pub struct ServerConfig {
    /// The URL clients reach Airlock at; tarball URLs are rewritten to it. When
    /// absent, it is derived from each request's `Host` header.
    pub public_url: Option<Url>,
    /// How long a fetched packument is used before it is revalidated upstream.
    pub metadata_max_age: Duration,
    /// How long past its max age a packument may still be served while the upstream
    /// is failing.
    pub stale_if_error: Duration,
    /// The memory budget for parsed packuments and small hot tarballs.
    pub memory_cache_bytes: u64,
    /// The bearer token of the admin API; without one the admin API refuses.
    pub admin_token: Option<String>,
    /// Where alerts are posted (generic JSON with a Slack-compatible `text`).
    pub webhook: Option<Url>,
    /// Where the one line per request goes.
    pub access_log: AccessLog,
    /// How long one tarball's analysis may take; past it the version is held
    /// (`analysis-incomplete`), never allowed.
    pub analysis_time_limit: Duration,
    /// Where analyses run: `airlock serve` runs each in a worker process.
    pub isolation: crate::Isolation,
    /// Registry keys from configuration; they win over the upstream's and the
    /// pinned copy's keys of the same id.
    pub registry_keys: airlock_provenance::Keyring,
    /// Whether decisions are written to the database (the history `airlock
    /// quarantine list` and the decision log read). Off for the one-shot commands
    /// (`check --standalone`, `audit`), which decide without serving anything.
    pub record_decisions: bool,
    /// How long a client may take to send a request's headers, which is also how
    /// long a kept-alive connection may sit idle.
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Who may read `/-/airlock/metrics`.
    pub metrics_access: MetricsAccess,
    /// A header a trusted single sign-on proxy sets to the user's name: the
    /// console signs that user in without the admin token.
    pub console_user_header: Option<String>,
    /// Run install scripts in the sandbox after the static analysis (off unless
    /// set; `airlock serve` sets it when bubblewrap, strace and Node are present).
    pub sandbox: Option<airlock_sandbox::Config>,
}

/// Who may read the Prometheus page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricsAccess {
    /// Anyone who reaches the server (labels carry no package names).
    #[default]
    Open,
    /// Only with the admin token, as the admin API.
    Admin,
    /// Nobody: the page answers 404.
    Off,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("public_url", &self.public_url)
            .field("metadata_max_age", &self.metadata_max_age)
            .field("stale_if_error", &self.stale_if_error)
            .field("memory_cache_bytes", &self.memory_cache_bytes)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "****"))
            .field("webhook", &self.webhook)
            .field("access_log", &self.access_log)
            .field("analysis_time_limit", &self.analysis_time_limit)
            .field("isolation", &self.isolation)
            .field("registry_keys", &self.registry_keys.keys().len())
            .field("record_decisions", &self.record_decisions)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("metrics_access", &self.metrics_access)
            .field("console_user_header", &self.console_user_header)
            .field("sandbox", &self.sandbox)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            metadata_max_age: Duration::from_mins(5),
            stale_if_error: Duration::from_hours(7 * 24),
            memory_cache_bytes: 64 * 1024 * 1024,
            admin_token: None,
            webhook: None,
            access_log: AccessLog::default(),
            analysis_time_limit: Duration::from_secs(30),
            isolation: crate::Isolation::default(),
            registry_keys: airlock_provenance::Keyring::default(),
            record_decisions: true,
            header_read_timeout: Duration::from_secs(20),
            max_connections: 4096,
            metrics_access: MetricsAccess::default(),
            console_user_header: None,
            sandbox: None,
        }
    }
}
