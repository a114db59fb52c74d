//! The client Airlock uses to talk to its upstream registry.
//!
//! [`Upstream`] wraps one pooled HTTP client with the behaviour a proxy needs:
//! connect and request timeouts, bounded retries with backoff for idempotent requests,
//! conditional packument requests ([`Validators`]), and a bearer token that is only ever
//! sent to the upstream's own origin. [`detect`] finds the upstream the way a user's
//! npm client would, when the configuration names none.
//!
//! ```no_run
//! # async fn run() -> Result<(), airlock_upstream::Error> {
//! use airlock_npm::PackageName;
//! use airlock_upstream::{Upstream, Validators};
//!
//! let upstream = Upstream::builder("http://127.0.0.1:9000/".parse().unwrap()).build()?;
//! let name = PackageName::new("left-pad").unwrap();
//! let fetched = upstream.packument(&name, &Validators::default()).await?;
//! # Ok(()) }
//! ```

mod client;
pub mod detect;
mod error;
mod token;

pub use client::{Fetched, Forwarded, Upstream, UpstreamBuilder, Validators};
pub use error::Error;
pub use token::Token;
