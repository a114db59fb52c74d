//! What the gate decided about every version of one packument: kept with the
//! cached packument until something it depended on changes. Below both the gate
//! ([`crate::gate`]), which makes it, and the packument cache, which keeps it.

use airlock_npm::{Timestamp, View};
use airlock_policy::Decision;

/// The decisions about every version of one packument.
pub struct Decided {
    /// The generations of the policy, the advisories, the analyses, the trust
    /// material and (when a gate is on) the served history these decisions were
    /// made under.
    pub(crate) generation: (u64, u64, u64, u64, u64),
    pub(crate) valid_until: Option<Timestamp>,
    /// One per version, in document order.
    pub decisions: Vec<Decision>,
    /// Per version: whether its analysis was known to these decisions.
    pub analysed: Vec<bool>,
    pub view: View,
    /// How many versions the decisions withhold (counted once, for the metrics
    /// every packument answer reports).
    pub withheld: usize,
    /// What clients are told about withheld versions (npm prints it as a notice);
    /// `None` when every version is served.
    pub notice: Option<String>,
    /// Whether the upstream's `latest` is among the withheld versions: the notice
    /// matters to anyone installing the package, so clients should not cache the
    /// answer (npm prints a notice only from a response it does not store).
    pub latest_withheld: bool,
    /// Whether the withheld versions were logged for these decisions yet.
    pub(crate) logged: std::sync::atomic::AtomicBool,
}

impl Decided {
    /// Logs the withheld versions once for these decisions: at most once per
    /// change of policy, advisories, analyses or packument.
    pub(crate) fn log_withheld_once(&self, name: &airlock_npm::PackageName) {
        if let Some(notice) = &self.notice
            && !self.logged.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::info!(package = %name, "{notice}");
        }
    }
}
