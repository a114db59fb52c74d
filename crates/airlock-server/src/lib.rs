//! The HTTP side of Airlock.
//!
//! [`router`] builds the axum router over an [`AppState`]: packuments, version
//! documents and tarballs for every package path, the `/-/` endpoints npm clients use,
//! and JSON errors npm prints. The request flow is in `ARCHITECTURE.md`; in short,
//! every answer about a package is derived from the full upstream packument (cached and
//! revalidated in [`packuments`]), filtered through the one decision point in
//! [`gate`], and every tarball is verified against the registry's digest before a
//! byte of it is stored or served.
//!
//! ```no_run
//! # async fn run(state: airlock_server::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4873").await?;
//! airlock_server::serve(listener, state, std::future::pending()).await
//! # }
//! ```

mod access;
pub mod admin;
pub mod advisories;
mod alerts;
pub mod analyses;
mod answers;
pub mod audit;
mod config;
mod console;
mod decided;
mod downloads;
mod encoding;
mod error;
mod flight;
pub mod gate;
mod handlers;
mod health;
pub mod history;
mod isolation;
mod metrics;
pub mod packuments;
mod path;
pub mod policy;
mod router;
mod sessions;
mod state;
mod tarballs;
pub mod trust;
pub mod vetting;

pub use access::AccessLog;
pub use advisories::{AdvisoryHandle, ImportError, ImportReport};
pub use alerts::Alert;
pub use config::{MetricsAccess, ServerConfig};
pub use downloads::DownloadLog;
pub use error::ApiError;
pub use isolation::{Isolation, WorkerCommand};
pub use policy::{PolicyError, PolicyHandle};
pub use router::{router, serve};
pub use state::AppState;
