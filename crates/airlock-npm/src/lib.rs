//! npm wire types, with no IO, and the one clock.
//!
//! Everything Airlock reads from an upstream registry or a client passes through the
//! types here first: a validated [`PackageName`], a parsed [`Integrity`], and a
//! [`Packument`] that keeps every upstream byte it does not need to change.
//!
//! ```
//! use airlock_npm::{Form, Packument, PackageName, TarballBase};
//!
//! let name = PackageName::new("left-pad").unwrap();
//! let body = br#"{"name":"left-pad","dist-tags":{"latest":"1.0.0"},
//!   "versions":{"1.0.0":{"name":"left-pad","version":"1.0.0",
//!   "dist":{"tarball":"http://upstream.invalid/left-pad/-/left-pad-1.0.0.tgz","shasum":"00"}}},
//!   "time":{"1.0.0":"2020-01-01T00:00:00.000Z"}}"#;
//! let packument = Packument::parse(&name, body).unwrap();
//! let base = TarballBase::new("http://127.0.0.1:4873");
//! let view = packument.view_all();
//! let abbreviated = packument.render(&view, Form::Abbreviated, &base);
//! assert!(std::str::from_utf8(&abbreviated).unwrap()
//!     .contains("http://127.0.0.1:4873/left-pad/-/left-pad-1.0.0.tgz"));
//! ```

mod clock;
mod error;
mod integrity;
mod name;
mod packument;
mod render;
mod time;

pub use clock::Clock;
pub use error::Error;
pub use integrity::{Algorithm, Integrity, IntegrityHasher};
pub use name::{PackageName, TarballFile};
pub use packument::{Packument, VersionDoc, View};
pub use render::{Form, TarballBase};
pub use time::Timestamp;
