//! Indicators of compromise from advisories: addresses known to belong to attackers.

use airlock_policy::Code;

use crate::finding::{Confidence, Finding, Reach, Severity};

/// `network-access` findings for the hosts an analysis recorded that `indicators`
/// list: advisories imported after the analysis still apply to it.
pub fn indicator_findings<'h>(
    hosts: impl IntoIterator<Item = &'h String>,
    indicators: &Indicators,
) -> Vec<Finding> {
    if indicators.is_empty() {
        return Vec::new();
    }
    hosts
        .into_iter()
        .filter(|host| indicators.matches(host, ""))
        .map(|host| {
            Finding::new(
                Code::NetworkAccess,
                Severity::Critical,
                Confidence::High,
                format!("contacts `{host}`, named by an advisory as attacker infrastructure"),
            )
            .reach(Reach::Import)
        })
        .collect()
}

/// The advisories' indicators of compromise, as the analyser matches them.
pub use airlock_advisory::Iocs as Indicators;
