//! npm attestation documents (Sigstore bundles) on arbitrary bytes: verified or
//! refused with a reason, never a panic. The subject and keys are fixed.
#![no_main]

use airlock_provenance::{Keyring, Subject, verify_attestations};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let subject = Subject {
        name: "fuzzed",
        version: "1.0.0",
        sha512: &[0u8; 64],
    };
    let _ = verify_attestations(data, subject, &Keyring::default());
});
