//! Routes, the access log, and serving.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, delete, get, post};
use axum::serve::ListenerExt as _;

use crate::{AppState, admin, handlers};

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
        .route("/audit", post(crate::audit::audit_route))
        .route(
            "/exceptions",
            get(admin::list_exceptions).post(admin::add_exception),
        )
        .route("/exceptions/{id}", delete(admin::revoke_exception))
        .route("/denials", get(admin::list_denials).post(admin::add_denial))
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

/// Serves `state` on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let downloads = state.downloads().clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Answers are written whole; Nagle's algorithm would only hold back their tails.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // Requests have finished: write the download records they left behind.
    downloads.flush().await;
    served
}

/// One line per request: method, path, status, time.
async fn log_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    state
        .inner
        .config
        .access_log
        .record(&method, &path, response.status(), start.elapsed());
    response
}
