//! Real, public provenance data: `sigstore@2.0.0` as the registry served it, with
//! the SLSA provenance bundle its release workflow signed (a public-good Sigstore
//! entry). Small, and the only way to test verification end to end offline.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::Package;

/// The predicate type fixtures list: the one the verifier accepts.
pub use airlock_provenance::SLSA_PROVENANCE_V1;

/// The tarball, byte for byte.
pub const SIGSTORE_TARBALL: &[u8] = include_bytes!("../data/sigstore-2.0.0.tgz");

/// The provenance bundle (Sigstore bundle v0.1, DSSE, SLSA provenance v1).
pub const SIGSTORE_BUNDLE: &str = include_str!("../data/sigstore-2.0.0.sigstore.json");

/// The attestations document a registry serves for `sigstore@2.0.0`.
pub fn sigstore_attestations() -> Bytes {
    let bundle: Value = serde_json::from_str(SIGSTORE_BUNDLE).expect("the bundle is JSON");
    let document = json!({"attestations": [
        {"predicateType": SLSA_PROVENANCE_V1, "bundle": bundle}
    ]});
    Bytes::from(document.to_string())
}

/// `sigstore@2.0.0` with its tarball and attestations, as a fake-registry package.
pub fn sigstore_package() -> Package {
    Package::from_tarball(sigstore_manifest(), SIGSTORE_TARBALL)
        .with_attestations(sigstore_attestations())
}

/// The version document: the tarball's own `package.json` fields that matter.
pub fn sigstore_manifest() -> Value {
    json!({
        "name": "sigstore",
        "version": "2.0.0",
        "description": "code-signing for npm packages",
        "main": "dist/index.js",
        "types": "dist/index.d.ts",
        "license": "Apache-2.0",
        "dependencies": {
            "@sigstore/bundle": "^2.0.0",
            "@sigstore/protobuf-specs": "^0.2.1",
            "@sigstore/sign": "^2.0.0",
            "@sigstore/tuf": "^2.0.0"
        }
    })
}
