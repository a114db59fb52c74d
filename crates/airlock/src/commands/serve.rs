//! `airlock serve`: run the registry proxy until interrupted.

use std::process::ExitCode;

use airlock_server::AppState;
use airlock_store::Store;
use airlock_upstream::Upstream;
use anyhow::Context as _;

use crate::cli::ServeArgs;
use crate::config::Settings;

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(args).await?;
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
        .build()
        .context("could not set up the upstream client")?;
    let listener = tokio::net::TcpListener::bind(settings.listen).await.with_context(|| {
        format!(
            "could not listen on {}\nhint: another process may hold the port; pick another with `--listen`",
            settings.listen
        )
    })?;
    let address = listener
        .local_addr()
        .context("could not read the listening address")?;
    tracing::info!(
        upstream = %redacted(&settings.upstream.url),
        data_dir = %settings.data_dir.display(),
        "Airlock listening on http://{address}/"
    );
    let state = AppState::new(settings.server, upstream, store);
    airlock_server::serve(listener, state, shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("Airlock stopped");
    Ok(ExitCode::SUCCESS)
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
