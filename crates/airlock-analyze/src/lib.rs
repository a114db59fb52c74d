//! Content analysis: given a tarball's bytes, what the package does.
//!
//! Pure: no IO, no clock, and package code is never executed. [`Analysis::of_tarball`]
//! reads the tarball as a bounded stream ([`archive`]), takes the manifest's facts
//! ([`manifest`]), parses every JavaScript file with oxc and records what it does,
//! weighs each behaviour by where it runs (install script, import, elsewhere), and
//! returns [`Finding`]s with file, line and snippet. [`VersionDiff`] compares a
//! version with the previous one on its release line; [`dependency_risk`] judges
//! what a version newly depends on; `airlock_policy::reasons` turns findings into the
//! reasons `airlock_policy::evaluate` weighs, under the policy's `[analysis]` rules.
//!
//! ```
//! use airlock_analyze::{Analysis, Options};
//!
//! let analysis = Analysis::of_tarball(b"not a tarball", &Options::default());
//! assert_eq!(analysis.findings[0].code.as_str(), "tarball-malformed");
//! ```

pub mod analysis;
pub mod archive;
mod capability;
pub mod context;
mod dependency;
mod diff;
mod editor;
mod finding;
mod gyp;
mod indicators;
mod js;
pub mod manifest;
mod python;
pub mod request;
mod shell;
mod table;

/// A package name (or a part of one) as an environment variable spells it:
/// `@sentry/cli` as `SENTRY_CLI`.
#[must_use]
pub fn as_variable_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Bumped whenever a rule changes, so that stored verdicts are recomputed.
pub const ANALYZER_VERSION: u32 = 18;

pub use analysis::{Analysis, FileSummary, Options};
pub use archive::{Archive, Entry, FileKind, Limits};
pub use context::RegistryContext;
pub use dependency::{DependencyFacts, dependency_risk, from_registry};
pub use diff::{AddedDependency, AddedFile, Bump, VersionDiff};
pub use finding::{Confidence, Finding, Reach, Severity};
pub use indicators::{Indicators, indicator_findings};
pub use manifest::Manifest;
pub use request::{Request, RequestError, StoredTarball};
pub use table::markdown as rule_table;

/// The kind of service a host name belongs to when that service receives stolen
/// data (interaction catchers, request bins, tunnels); `None` for other hosts.
pub fn exfiltration_host(host: &str) -> Option<&'static str> {
    js::strings::exfiltration_service(&format!("{host}/"))
}
