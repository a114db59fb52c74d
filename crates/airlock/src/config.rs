//! Configuration: the TOML file, the data directory's remembered settings, and the
//! flags and variables on top, merged once into validated [`Settings`].
//!
//! The file is read with `deny_unknown_fields`, so a misspelt key is an error that
//! names its line rather than a setting silently ignored.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use airlock_policy::HumanDuration;
use airlock_server::ServerConfig;
use anyhow::{Context as _, bail};
use serde::Deserialize;
use url::Url;

use crate::cli::{ServeArgs, SetupArgs};

pub(crate) const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4873);
/// The file in the data directory where a detected upstream is remembered.
const REMEMBERED: &str = "airlock.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    public_url: Option<Url>,
    policy: Option<PathBuf>,
    #[serde(default)]
    upstream: RawUpstream,
    #[serde(default)]
    cache: RawCache,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    alerts: RawAlerts,
    #[serde(default)]
    advisories: RawAdvisories,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    retention: RawRetention,
    #[serde(default)]
    console: RawConsole,
    #[serde(default)]
    analyser: RawAnalyser,
    #[serde(default)]
    sandbox: RawSandbox,
}

/// `[sandbox]`: install scripts run in bubblewrap after the static analysis.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    /// `true` requires it (the start fails without it), `false` turns it off;
    /// unset, it is on when bubblewrap, strace and Node are present.
    enabled: Option<bool>,
    node: Option<PathBuf>,
    time_limit: Option<HumanDuration>,
    memory_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnalyser {
    isolation: Option<IsolationKind>,
    memory_mb: Option<u64>,
    time_limit: Option<HumanDuration>,
}

/// Where `serve` runs its analyses (`[analyser] isolation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum IsolationKind {
    /// A worker process per analysis: a crash ends the worker, not the server.
    #[default]
    Process,
    /// The server's own threads: faster to start, but a crash is an outage.
    Thread,
}

/// The address space one analysis worker may take unless configured.
const DEFAULT_ANALYSER_MEMORY_MB: u64 = 2048;

impl RawAnalyser {
    fn isolation(&self) -> anyhow::Result<airlock_server::Isolation> {
        match self.isolation.unwrap_or_default() {
            IsolationKind::Thread => Ok(airlock_server::Isolation::Thread),
            IsolationKind::Process => {
                let memory_mb = self.memory_mb.unwrap_or(DEFAULT_ANALYSER_MEMORY_MB);
                if memory_mb < 64 {
                    bail!(
                        "[analyser] memory_mb = {memory_mb} is too small for any analysis; use at least 64 (default {DEFAULT_ANALYSER_MEMORY_MB})"
                    );
                }
                let command = airlock_server::WorkerCommand::this_binary(
                    vec!["analyse-worker".to_owned()],
                    memory_mb.saturating_mul(1024 * 1024),
                )
                .context("could not find Airlock's own binary to run analysis workers; set [analyser] isolation = \"thread\"")?;
                Ok(airlock_server::Isolation::Process(command))
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsole {
    user_header: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    blobs: Option<HumanDuration>,
    downloads: Option<HumanDuration>,
}

/// The retention the configuration sets (`[retention]`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConfiguredRetention {
    /// Cached tarballs not served for this long go; `serve` collects daily when set.
    pub(crate) blobs: Option<Duration>,
    pub(crate) downloads: Option<Duration>,
}

/// The `[retention]` of the configuration file `args` names.
pub(crate) fn retention(args: &SetupArgs) -> anyhow::Result<ConfiguredRetention> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => RawConfig::default(),
    };
    Ok(ConfiguredRetention {
        blobs: file.retention.blobs.map(|duration| duration.0),
        downloads: file.retention.downloads.map(|duration| duration.0),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    access: Option<airlock_server::MetricsAccess>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    webhook: Option<Url>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvisories {
    path: Option<PathBuf>,
    /// An OSV feed by URL: a zip export, a JSON array of records or one record.
    url: Option<Url>,
    refresh: Option<HumanDuration>,
    /// More sources, each a `path` or a `url` (the OSV npm export, the OpenSSF
    /// malicious-packages records, the GitHub advisory database, ...).
    #[serde(default)]
    feeds: Vec<RawFeed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    path: Option<PathBuf>,
    url: Option<Url>,
}

/// One source's location: a path or an http(s) URL, not both.
fn location(path: Option<PathBuf>, url: Option<Url>) -> anyhow::Result<Option<AdvisoryLocation>> {
    Ok(match (path, url) {
        (Some(_), Some(_)) => anyhow::bail!(
            "`[advisories]` names both a `path` and a `url` for one source\nhint: give each source its own `[[advisories.feeds]]` entry"
        ),
        (Some(path), None) => Some(AdvisoryLocation::Path(path)),
        (None, Some(url)) if matches!(url.scheme(), "http" | "https") => {
            Some(AdvisoryLocation::Url(url))
        }
        (None, Some(url)) => anyhow::bail!(
            "`[advisories] url = \"{url}\"` is not an http(s) URL\nhint: name a local file or directory with `path` instead"
        ),
        (None, None) => None,
    })
}

/// Where advisories are re-imported from on a schedule.
#[derive(Debug, Clone)]
pub(crate) enum AdvisoryLocation {
    Path(PathBuf),
    Url(Url),
}

/// Advisories re-imported on a schedule.
#[derive(Debug, Clone)]
pub(crate) struct AdvisorySource {
    pub(crate) location: AdvisoryLocation,
    pub(crate) refresh: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    url: Option<Url>,
    token: Option<String>,
    timeout: Option<HumanDuration>,
    connect_timeout: Option<HumanDuration>,
    retries: Option<u32>,
    /// Hosts besides the upstream's own that packuments may point tarballs at.
    #[serde(default)]
    tarball_hosts: Vec<String>,
    /// A registry keys document (`/-/npm/v1/keys` format) to trust besides the
    /// upstream's and the pinned public registry keys.
    keys: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    metadata_max_age: Option<HumanDuration>,
    stale_if_error: Option<HumanDuration>,
    memory_mb: Option<u64>,
}

/// Everything `airlock serve` needs, validated.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) advisories: Vec<AdvisorySource>,
    pub(crate) upstream: UpstreamSettings,
    pub(crate) server: ServerConfig,
    /// Where the admin token was read or created, when none was configured.
    pub(crate) admin_token_file: Option<PathBuf>,
    pub(crate) retention: ConfiguredRetention,
    /// Whether install scripts run in the sandbox, and why (said at start).
    pub(crate) sandbox_status: String,
}

#[derive(Debug)]
pub(crate) struct UpstreamSettings {
    pub(crate) url: Url,
    pub(crate) token: Option<airlock_upstream::Token>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) tarball_hosts: Vec<String>,
}

impl Settings {
    /// Merges flags and variables (`args`), the configuration file, and the data
    /// directory's remembered upstream; detects the upstream from npm when none of
    /// them names one, and remembers it.
    pub(crate) async fn resolve(serve: ServeArgs) -> anyhow::Result<Self> {
        let args = serve.setup;
        let file = match &args.config {
            Some(path) => read_config(path)?,
            None => RawConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .map_or_else(default_data_dir, Ok)?;
        let listen = serve.listen.or(file.listen).unwrap_or(DEFAULT_LISTEN);
        let public_url = serve.public_url.or(file.public_url);
        if let Some(url) = &public_url {
            check_http(url, "public_url")?;
        }

        let remembered_path = data_dir.join(REMEMBERED);
        let remembered = if remembered_path.exists() {
            read_config(&remembered_path)?
        } else {
            RawConfig::default()
        };
        let configured = args
            .upstream
            .or(file.upstream.url)
            .or(remembered.upstream.url);
        let detected = configured.is_none();
        let url = match configured {
            Some(url) => url,
            None => detect_upstream().await?,
        };
        check_http(&url, "upstream.url")?;
        check_not_self(&url, listen, public_url.as_ref())?;
        // Remembered only once checked: an Airlock that npm already points at must
        // not keep itself as its upstream for every later start.
        if detected {
            remember_upstream(&data_dir, &remembered_path, &url)?;
        }

        let upstream = UpstreamSettings {
            url,
            token: args
                .upstream_token
                .or(file.upstream.token)
                .map(airlock_upstream::Token::new),
            timeout: file
                .upstream
                .timeout
                .map_or(Duration::from_secs(30), |duration| duration.0),
            connect_timeout: file
                .upstream
                .connect_timeout
                .map_or(Duration::from_secs(5), |duration| duration.0),
            retries: file.upstream.retries.unwrap_or(2),
            tarball_hosts: file.upstream.tarball_hosts.clone(),
        };
        let configured_token = serve
            .admin_token
            .or(file.admin.token)
            .filter(|token| !token.is_empty());
        let (admin_token, admin_token_file) = match configured_token {
            Some(token) => (token, None),
            None => (
                crate::admin_token::load_or_create(&data_dir)?,
                Some(crate::admin_token::path(&data_dir)),
            ),
        };
        let defaults = ServerConfig::default();
        let (sandbox, sandbox_status) = sandbox(
            &file.sandbox,
            upstream
                .url
                .host_str()
                .map(str::to_owned)
                .into_iter()
                .collect(),
        )?;
        let server = ServerConfig {
            sandbox,
            public_url,
            metadata_max_age: file
                .cache
                .metadata_max_age
                .map_or(defaults.metadata_max_age, |duration| duration.0),
            stale_if_error: file
                .cache
                .stale_if_error
                .map_or(defaults.stale_if_error, |duration| duration.0),
            memory_cache_bytes: file
                .cache
                .memory_mb
                .map_or(defaults.memory_cache_bytes, |mb| mb * 1024 * 1024),
            admin_token: Some(admin_token),
            webhook: file.alerts.webhook,
            access_log: defaults.access_log,
            analysis_time_limit: file
                .analyser
                .time_limit
                .map_or(defaults.analysis_time_limit, |duration| duration.0),
            isolation: file.analyser.isolation()?,
            header_read_timeout: defaults.header_read_timeout,
            max_connections: defaults.max_connections,
            metrics_access: file.metrics.access.unwrap_or_default(),
            console_user_header: file
                .console
                .user_header
                .filter(|name| !name.trim().is_empty()),
            record_decisions: true,
            registry_keys: match &file.upstream.keys {
                Some(path) => read_keys(path)?,
                None => airlock_provenance::Keyring::default(),
            },
        };
        let refresh = file
            .advisories
            .refresh
            .map_or(Duration::from_hours(1), |duration| duration.0);
        let mut locations = Vec::new();
        locations.extend(location(file.advisories.path, file.advisories.url)?);
        for feed in file.advisories.feeds {
            match location(feed.path, feed.url)? {
                Some(found) => locations.push(found),
                None => anyhow::bail!(
                    "an `[[advisories.feeds]]` entry names neither a `path` nor a `url`"
                ),
            }
        }
        let advisories = locations
            .into_iter()
            .map(|location| AdvisorySource { location, refresh })
            .collect();
        Ok(Self {
            listen,
            data_dir,
            policy: args.policy.or(file.policy),
            advisories,
            upstream,
            server,
            admin_token_file,
            retention: ConfiguredRetention {
                blobs: file.retention.blobs.map(|duration| duration.0),
                downloads: file.retention.downloads.map(|duration| duration.0),
            },
            sandbox_status,
        })
    }
}

/// The sandbox's settings when it is to run, and a sentence saying whether it does
/// and why; an error when the configuration requires it and it cannot run.
fn sandbox(
    raw: &RawSandbox,
    trusted_hosts: Vec<String>,
) -> anyhow::Result<(Option<airlock_sandbox::Config>, String)> {
    if raw.enabled == Some(false) {
        return Ok((None, "off (`[sandbox] enabled = false`)".to_owned()));
    }
    let defaults = airlock_sandbox::Config::default();
    let config = airlock_sandbox::Config {
        node: raw.node.clone().unwrap_or(defaults.node),
        time_limit: raw
            .time_limit
            .map_or(Duration::from_secs(30), |duration| duration.0),
        memory_mb: raw.memory_mb.unwrap_or(defaults.memory_mb),
        trusted_hosts,
        ..defaults
    };
    match airlock_sandbox::probe(&config) {
        airlock_sandbox::Availability::Ready {
            bwrap,
            strace,
            node,
        } => {
            let status = format!(
                "on: install scripts run in bubblewrap ({}) under strace ({}) with Node {}",
                bwrap.display(),
                strace.display(),
                node.display()
            );
            Ok((Some(config), status))
        }
        airlock_sandbox::Availability::Unavailable(why) if raw.enabled == Some(true) => {
            Err(anyhow::anyhow!(
                "`[sandbox] enabled = true`, but the sandbox cannot run: {why}\nhint: install Debian's `bubblewrap` and `strace`, or set `enabled = false`"
            ))
        }
        airlock_sandbox::Availability::Unavailable(why) => Ok((
            None,
            format!("not available, install scripts are read but not run: {why}"),
        )),
    }
}

/// The sandbox `airlock scan` runs a tarball's install scripts in, from the
/// configuration file's `[sandbox]` as `airlock serve` reads it (on when the tools
/// are there), with the registry's hosts trusted; and whether it runs, and why not.
pub(crate) fn scan_sandbox(
    args: &SetupArgs,
    registry_hosts: &[String],
) -> anyhow::Result<(Option<airlock_sandbox::Config>, String)> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => RawConfig::default(),
    };
    sandbox(&file.sandbox, registry_hosts.to_vec())
}

/// The URLs an Airlock of these settings serves at, which lockfiles written
/// through it name: its listen address (also as `localhost` when on loopback) and
/// its public URL, from the variables `airlock serve` reads or the configuration
/// file, else the default address.
pub(crate) fn own_urls(args: &SetupArgs) -> anyhow::Result<Vec<Url>> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => RawConfig::default(),
    };
    let listen = std::env::var("AIRLOCK_LISTEN")
        .ok()
        .and_then(|text| text.parse::<SocketAddr>().ok())
        .or(file.listen)
        .unwrap_or(DEFAULT_LISTEN);
    let public = std::env::var("AIRLOCK_PUBLIC_URL")
        .ok()
        .and_then(|text| Url::parse(&text).ok())
        .or(file.public_url);
    let mut urls = Vec::new();
    if let Ok(url) = Url::parse(&format!("http://{listen}/")) {
        urls.push(url);
    }
    if listen.ip().is_loopback()
        && let Ok(url) = Url::parse(&format!("http://localhost:{}/", listen.port()))
    {
        urls.push(url);
    }
    urls.extend(public);
    Ok(urls)
}

/// The data directory `args` names: the flag or variable, the configuration file,
/// or the default.
pub(crate) fn data_dir(args: &SetupArgs) -> anyhow::Result<PathBuf> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => RawConfig::default(),
    };
    match args.data_dir.clone().or(file.data_dir) {
        Some(dir) => Ok(dir),
        None => default_data_dir(),
    }
}

/// The upstream a one-shot command compares code against, without remembering it:
/// flags and variables, the configuration file, the data directory's remembered
/// upstream, then npm's own setting; `None` when none of them names one.
pub(crate) async fn upstream_for_analysis(args: &SetupArgs) -> anyhow::Result<Option<Url>> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => RawConfig::default(),
    };
    if let Some(url) = args.upstream.clone().or(file.upstream.url) {
        return Ok(Some(url));
    }
    let data_dir = match args.data_dir.clone().or(file.data_dir) {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let remembered = data_dir.join(REMEMBERED);
    if remembered.exists()
        && let Some(url) = read_config(&remembered)?.upstream.url
    {
        return Ok(Some(url));
    }
    Ok(airlock_upstream::detect::npm_registry().await.ok())
}

fn read_config(path: &Path) -> anyhow::Result<RawConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the configuration file `{}`", path.display()))?;
    let mut config: RawConfig = toml::from_str(&text).map_err(|error| {
        anyhow::anyhow!(
            "the configuration file `{}` is invalid:\n{error}hint: `airlock.toml.example` in Airlock's repository lists every setting",
            path.display()
        )
    })?;
    // Relative paths are relative to the file that names them.
    if let Some(parent) = path.parent() {
        let feeds = config
            .advisories
            .feeds
            .iter_mut()
            .map(|feed| &mut feed.path);
        for relative in [
            &mut config.data_dir,
            &mut config.policy,
            &mut config.advisories.path,
        ]
        .into_iter()
        .chain(feeds)
        {
            if let Some(dir) = relative.as_ref().filter(|dir| dir.is_relative()) {
                *relative = Some(parent.join(dir));
            }
        }
    }
    Ok(config)
}

pub(crate) fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(data).join("airlock"));
    }
    match std::env::var_os("HOME").filter(|value| !value.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/airlock")),
        None => bail!(
            "no data directory: neither XDG_DATA_HOME nor HOME is set\nhint: pass `--data-dir DIR`"
        ),
    }
}

async fn detect_upstream() -> anyhow::Result<Url> {
    airlock_upstream::detect::npm_registry().await.context(
        "no upstream is configured and npm's own registry setting could not be read\nhint: pass `--upstream URL` (or set AIRLOCK_UPSTREAM, or `upstream.url` in the configuration file)",
    )
}

fn remember_upstream(data_dir: &Path, remembered: &Path, url: &Url) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir).with_context(|| {
        format!(
            "could not create the data directory `{}`",
            data_dir.display()
        )
    })?;
    let contents = format!(
        "# Written by Airlock on its first start without a configured upstream: the\n# registry that `npm config get registry` named then. Edit it to change the\n# upstream; a flag, variable or configuration file setting takes precedence.\n\n[upstream]\nurl = \"{url}\"\n"
    );
    std::fs::write(remembered, contents).with_context(|| {
        format!(
            "could not remember the upstream in `{}`",
            remembered.display()
        )
    })?;
    tracing::info!(upstream = %url, file = %remembered.display(), "detected the upstream from npm's settings");
    Ok(())
}

fn check_http(url: &Url, setting: &str) -> anyhow::Result<()> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("`{setting}` must be an http(s) URL with a host, not `{url}`");
    }
    Ok(())
}

/// Refuses an upstream that is Airlock itself: same port on a local address, or the
/// public URL's host and port.
fn check_not_self(
    upstream: &Url,
    listen: SocketAddr,
    public_url: Option<&Url>,
) -> anyhow::Result<()> {
    let port = upstream.port_or_known_default();
    let host = upstream
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    let local = match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified() || ip == listen.ip(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    let same_listener = local && port == Some(listen.port());
    let same_public = public_url.is_some_and(|public| {
        public.host_str() == upstream.host_str() && public.port_or_known_default() == port
    });
    if same_listener || same_public {
        bail!(
            "the upstream `{upstream}` is this Airlock itself (listening on {listen}); it would proxy to itself\nhint: if npm's registry already points at Airlock, pass the real registry with `--upstream URL`"
        );
    }
    Ok(())
}

/// Reads a registry keys document named by `upstream.keys`.
fn read_keys(path: &std::path::Path) -> anyhow::Result<airlock_provenance::Keyring> {
    let text = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the registry keys file {} (upstream.keys)",
            path.display()
        )
    })?;
    airlock_provenance::Keyring::parse(&text).with_context(|| {
        format!(
            "{} (upstream.keys) is not a registry keys document like `/-/npm/v1/keys`",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_proxy_is_refused() {
        let listen: SocketAddr = "127.0.0.1:4873".parse().unwrap();
        let url = |text: &str| Url::parse(text).unwrap();
        assert!(check_not_self(&url("http://127.0.0.1:4873/"), listen, None).is_err());
        assert!(check_not_self(&url("http://localhost:4873"), listen, None).is_err());
        assert!(check_not_self(&url("http://[::1]:4873"), listen, None).is_err());
        assert!(check_not_self(&url("http://127.0.0.1:4874/"), listen, None).is_ok());
        let any: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert!(check_not_self(&url("http://127.0.0.1/"), any, None).is_err());
        let public = url("https://npm.corp.example/");
        assert!(check_not_self(&url("https://npm.corp.example"), listen, Some(&public)).is_err());
        assert!(check_not_self(&url("https://upstream.example"), listen, Some(&public)).is_ok());
    }

    #[test]
    fn config_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("airlock.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:1\"\n[cache]\nmetadata_max_age = \"5 minutes\"\n",
        )
        .unwrap();
        let error = format!("{:#}", read_config(&path).unwrap_err());
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("is not a duration"), "{error}");
        std::fs::write(&path, "[upstream]\nurll = \"http://127.0.0.1:1\"\n").unwrap();
        let error = format!("{:#}", read_config(&path).unwrap_err());
        assert!(
            error.contains("line 2") && error.contains("unknown field `urll`"),
            "{error}"
        );
    }
}
