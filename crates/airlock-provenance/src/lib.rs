//! Trust material: registry signatures, Sigstore provenance, publisher history.
//!
//! Pure: bytes and documents in, verdicts out; no IO and no clock. The proxy fetches
//! keys and attestations and calls these; `airlock check` and `airlock scan` show
//! what they return.
//!
//! - [`verify_signatures`] checks `dist.signatures` exactly as npm's client does.
//! - [`verify_attestations`] verifies the Sigstore bundles of a version offline and
//!   returns the [`Provenance`] its certificate states.
//! - [`judge`] compares each version with the earlier versions of its release line
//!   and returns `provenance-regression` and `publisher-changed` findings.
//!
//! ```
//! use airlock_provenance::{Keyring, SignatureStatus, Signed, verify_signatures};
//!
//! let keys = Keyring::pinned();
//! let signed = Signed { id: "left-pad@1.3.0", integrity: "sha512-x", published: None };
//! assert_eq!(verify_signatures(&keys, signed, &[]), SignatureStatus::Missing);
//! ```

mod attestations;
mod history;
mod keys;
mod signatures;

pub use attestations::{Attested, Provenance, SLSA_PROVENANCE_V1, Subject, verify_attestations};
pub use history::{Baseline, Judged, Publisher, Release, judge, same_repository};
pub use keys::{Keyring, RegistryKey};
pub use signatures::{RegistrySignature, SignatureStatus, Signed, verify_signatures};

/// Trust material that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("registry keys: {0}")]
    Keys(String),
}
