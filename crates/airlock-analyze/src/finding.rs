//! What the analyser reports: the finding types live in `airlock-policy`, beside the
//! codes and the policy that judges them, so that crates reporting findings without
//! analysing code (provenance, registry facts) need not depend on the analyser.

pub use airlock_policy::{Confidence, Finding, Reach, Severity};
