//! `airlock serve`: run the registry proxy until interrupted.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use airlock_npm::Clock;
use airlock_server::{AccessLog, AdvisoryHandle, AppState, PolicyHandle};
use airlock_store::Store;
use airlock_upstream::Upstream;
use anyhow::Context as _;

use crate::cli::ServeArgs;
use crate::config::Settings;

/// The store and the upstream client, as every command that decides needs them.
pub(crate) struct Parts {
    pub(crate) store: Store,
    pub(crate) upstream: Upstream,
}

pub(crate) async fn open(settings: &Settings) -> anyhow::Result<Parts> {
    let store = Store::open(&settings.data_dir).await.with_context(|| {
        format!(
            "could not open the data directory `{}`",
            settings.data_dir.display()
        )
    })?;
    let upstream = Upstream::builder(settings.upstream.url.clone())
        .token(settings.upstream.token.clone())
        .timeout(settings.upstream.timeout)
        .connect_timeout(settings.upstream.connect_timeout)
        .retries(settings.upstream.retries)
        .tarball_hosts(settings.upstream.tarball_hosts.clone())
        .build()
        .context("could not set up the upstream client")?;
    Ok(Parts { store, upstream })
}

pub(crate) async fn run(
    args: ServeArgs,
    access_log: AccessLog,
    clock: Clock,
) -> anyhow::Result<ExitCode> {
    raise_open_file_limit();
    let mut settings = Settings::resolve(args).await?;
    tracing::info!("install-script sandbox: {}", settings.sandbox_status);
    settings.server.access_log = access_log;
    let Parts { store, upstream } = open(&settings).await?;
    let policy = PolicyHandle::load(settings.policy.clone(), store.clone())
        .await
        .context("could not load the policy")?;
    let policy = Arc::new(policy);
    let listener = tokio::net::TcpListener::bind(settings.listen).await.with_context(|| {
        format!(
            "could not listen on {}\nhint: another process may hold the port; pick another with `--listen`",
            settings.listen
        )
    })?;
    let address = listener
        .local_addr()
        .context("could not read the listening address")?;
    let (current, _) = policy.current();
    tracing::info!(
        upstream = %redacted(&settings.upstream.url),
        data_dir = %settings.data_dir.display(),
        policy = %settings.policy.as_ref().map_or_else(|| "embedded defaults".to_owned(), |path| path.display().to_string()),
        policy_digest = current.digest(),
        mode = ?current.mode(),
        admin_token = %settings.admin_token_file.as_ref().map_or_else(|| "configured".to_owned(), |file| file.display().to_string()),
        "Airlock listening on http://{address}/"
    );
    tokio::spawn(watch_policy(policy.clone()));
    let advisories = AdvisoryHandle::load(store.clone())
        .await
        .context("could not load the imported advisories")?;
    let state = AppState::new(
        settings.server,
        upstream,
        store,
        (policy, Arc::new(advisories)),
        clock.clone(),
    );
    state
        .load_history()
        .await
        .context("could not read the download log")?;
    if let Some(blobs) = settings.retention.blobs {
        let retention = super::gc::Retention {
            blobs,
            downloads: settings.retention.downloads,
        };
        tokio::spawn(collect_daily(state.store().clone(), retention, clock));
    }
    for source in settings.advisories.clone() {
        tokio::spawn(super::advisories::refresh_periodically(
            state.clone(),
            source.location,
            source.refresh,
        ));
    }
    airlock_server::serve(listener, state, shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("Airlock stopped");
    Ok(ExitCode::SUCCESS)
}

/// Runs `airlock gc`'s collection once a day (the first an hour after start).
async fn collect_daily(store: Store, retention: super::gc::Retention, clock: Clock) {
    let mut daily = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_hours(1),
        Duration::from_hours(24),
    );
    loop {
        daily.tick().await;
        match super::gc::collect(&store, retention, clock.now_system(), false).await {
            Ok(collected) => tracing::info!(%collected, "retention: removed"),
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "retention: collection failed");
            }
        }
    }
}

/// Reloads the policy on SIGHUP and when its file changes (checked every 2 s).
async fn watch_policy(policy: Arc<PolicyHandle>) {
    if policy.file().is_none() {
        return;
    }
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    loop {
        #[cfg(unix)]
        let signalled = async {
            match hangup.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<()>();
        tokio::select! {
            () = signalled => policy.reload_logged().await,
            _ = poll.tick() => policy.reload_if_changed().await,
        }
    }
}

fn redacted(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

/// Raises the soft limit on open files to the hard one: every connection, blob
/// and database file is a descriptor, and distributions start services at 1,024.
fn raise_open_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::debug!(from = ?limit.current, to = ?limit.maximum, "raised the open-file limit");
            }
            Err(error) => {
                tracing::warn!(%error, current = ?limit.current, "could not raise the open-file limit");
            }
        }
    }
}
