//! Routes, the access log, and serving.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, delete, get, post};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::{AppState, admin, console, handlers, health, metrics};

/// The largest request body accepted (audit payloads of big projects).
const MAX_REQUEST_BODY: usize = 32 * 1024 * 1024;

/// The router over `state`; tests drive it with `tower::ServiceExt::oneshot`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(handlers::root))
        .route("/-/ping", get(handlers::passthrough))
        .route("/-/whoami", get(handlers::whoami))
        .route("/-/npm/v1/keys", get(handlers::passthrough))
        .route("/-/npm/v1/attestations/{*spec}", get(handlers::passthrough))
        .route(
            "/-/npm/v1/security/advisories/bulk",
            post(handlers::passthrough),
        )
        .route(
            "/-/npm/v1/security/audits/quick",
            post(handlers::passthrough),
        )
        .route("/-/v1/search", get(handlers::passthrough))
        // Outside the admin API's token check: load balancers and Prometheus.
        .route("/-/airlock/health/live", get(health::live))
        .route("/-/airlock/health/ready", get(health::ready))
        .route("/-/airlock/metrics", get(health::metrics_page))
        // The review console signs in on its own (session cookie and CSRF tokens).
        .route(
            "/-/airlock/ui",
            get(|| async { axum::response::Redirect::permanent("/-/airlock/ui/") }),
        )
        .route("/-/airlock/ui/", get(console::queue))
        .route("/-/airlock/ui/sign-in", post(console::sign_in))
        .route("/-/airlock/ui/sign-out", post(console::sign_out))
        .route("/-/airlock/ui/version/{*spec}", get(console::version))
        .route("/-/airlock/ui/approve", post(console::approve))
        .route("/-/airlock/ui/deny", post(console::deny))
        .route("/-/airlock/ui/exceptions", get(console::exceptions))
        .route("/-/airlock/ui/denials", get(console::denials))
        .route("/-/airlock/ui/exposure", get(console::exposure))
        .route("/-/airlock/ui/policy", get(console::policy))
        .route("/-/airlock/ui/critical", get(console::critical))
        .route("/-/airlock/ui/revoke", post(console::revoke))
        .route("/-/airlock/ui/lift", post(console::lift))
        .nest("/-/airlock", admin_router(state.clone()))
        .route("/-/{*rest}", any(handlers::unknown_endpoint))
        .fallback(handlers::package)
        .method_not_allowed_fallback(handlers::wrong_method)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

fn admin_router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/check/{*spec}", get(admin::check_route))
        .route("/why/{*spec}", get(admin::why))
        .route("/audit", post(crate::audit::audit_route))
        .route(
            "/exceptions",
            get(admin::list_exceptions).post(admin::add_exception),
        )
        .route("/exceptions/{id}", delete(admin::revoke_exception))
        .route("/denials", get(admin::list_denials).post(admin::add_denial))
        .route("/denials/{id}", delete(admin::revoke_denial))
        .route("/quarantine", get(admin::list_quarantine))
        .route("/downloads", get(admin::list_downloads))
        .route(
            "/advisories",
            get(admin::advisory_summary).post(admin::import_advisories),
        )
        .route("/takedowns", get(admin::list_takedowns))
        .route("/exposure", get(admin::exposure))
        .fallback(handlers::unknown_endpoint)
        .route_layer(middleware::from_fn_with_state(state, admin::require_admin))
}

/// How long requests in flight may run on after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `state` on `listener` until `shutdown` completes, then finishes the
/// requests in flight (for at most 30 seconds).
///
/// A client that trickles its headers (slowloris) or holds a kept-alive socket
/// idle is cut off after the configured header-read timeout, and at most
/// `max_connections` are served at once (more wait in the kernel's backlog), so
/// that a flood of sockets cannot exhaust file descriptors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let downloads = state.downloads().clone();
    downloads.fold_in_background();
    let header_read_timeout = state.inner.config.header_read_timeout;
    let slots = Arc::new(Semaphore::new(state.inner.config.max_connections.max(1)));
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(header_read_timeout)
        .keep_alive_timeout(header_read_timeout);
    let builder = Arc::new(builder);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, or a connection reset before it was
                    // accepted: wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Answers are written whole; Nagle's algorithm would only hold back their tails.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let service = app.clone().layer(axum::Extension(ConnectInfo(peer)));
        let service = TowerToHyperService::new(service);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // Telling HTTP/1 from HTTP/2 waits for the first bytes, before
            // hyper's header timer runs: a socket that says nothing is closed here.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(header_read_timeout, stream.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                drop(slot);
                return;
            }
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
    // Requests have finished: write the download records they left behind.
    downloads.flush().await;
    Ok(())
}

/// One line per request: method, path, status, time.
async fn log_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let took = start.elapsed();
    metrics::request(metrics::route_of(&path), response.status().as_u16(), took);
    state
        .inner
        .config
        .access_log
        .record(&method, &path, response.status(), took);
    response
}
