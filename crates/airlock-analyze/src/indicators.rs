//! Indicators of compromise from advisories: addresses known to belong to attackers.

use airlock_policy::Code;
use serde::{Deserialize, Serialize};

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

/// Domains, IPs and URLs; any code naming one is treated as malicious.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicators {
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub urls: Vec<String>,
}

impl Indicators {
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.ips.is_empty() && self.urls.is_empty()
    }

    /// Whether a URL's host (or the URL) is listed; subdomains of a listed domain
    /// count.
    pub fn matches(&self, host: &str, url: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let host = host.to_ascii_lowercase();
        self.ips.contains(&host)
            || self.domains.iter().any(|domain| {
                let domain = domain.to_ascii_lowercase();
                host == domain || host.ends_with(&format!(".{domain}"))
            })
            || self
                .urls
                .iter()
                .any(|listed| url.starts_with(listed.as_str()))
    }

    /// Whether a string names a listed address outside a URL (a bare host or IP).
    pub fn matches_text(&self, text: &str) -> bool {
        if self.is_empty() || text.contains("://") {
            return false;
        }
        let text = text.trim().to_ascii_lowercase();
        self.ips
            .iter()
            .any(|ip| text == *ip || text.starts_with(&format!("{ip}:")))
            || self
                .domains
                .iter()
                .any(|domain| text == domain.to_ascii_lowercase())
    }
}
