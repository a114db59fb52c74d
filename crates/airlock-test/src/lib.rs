//! Test support for Airlock: a fake upstream registry on loopback, package and
//! tarball builders, and the environment for running real npm clients in isolation.
//!
//! ```no_run
//! # async fn run() {
//! use airlock_test::{FakeRegistry, PackageBuilder};
//!
//! let registry = FakeRegistry::start().await;
//! registry.publish(PackageBuilder::new("left-pad", "1.0.0").dependency("tiny", "^1").build());
//! println!("upstream at {}", registry.url());
//! # }
//! ```

pub mod attacks;
mod clients;
pub mod dataset;
pub mod lockfiles;
mod package;
pub mod provenance;
mod registry;
mod signing;
mod time;

pub use clients::{Client, ClientRun, Clients, offline_tuf_preload};
pub use package::{Package, PackageBuilder, gzip_tar};
pub use registry::{FakeRegistry, Faults, RequestRecord};
pub use signing::RegistryKeyPair;
pub use time::{days_ago, rfc3339};
