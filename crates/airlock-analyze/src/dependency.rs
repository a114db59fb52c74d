//! `dependency-risk`: what a version newly pulls in.
//!
//! The Axios case: axios itself carries no bad code; its new dependency does. The
//! caller (proxy or CLI) gathers what the registry says about each added dependency;
//! this module judges it.

use airlock_npm::Timestamp;
use airlock_policy::{Code, Verdict};

use crate::finding::{Confidence, Finding, Reach, Severity};

/// What is known about one added dependency.
#[derive(Clone, Debug)]
pub struct DependencyFacts {
    pub name: String,
    pub range: String,
    /// When the package's first version was published.
    pub created: Option<Timestamp>,
    /// How many versions it has.
    pub versions: usize,
    /// The version the range resolves to, and Airlock's decision about it.
    pub resolved: Option<(String, Verdict)>,
    /// The account that published the resolved version, when no other version of
    /// the dependency was published by it.
    pub new_publisher: Option<String>,
}

const DAY_MS: i64 = 24 * 3_600_000;

/// Findings for the dependencies a version added.
pub fn dependency_risk(dependencies: &[DependencyFacts], now: Timestamp) -> Vec<Finding> {
    let mut findings = Vec::new();
    for dependency in dependencies {
        let mut concerns = Vec::new();
        let mut severity = Severity::Info;
        if let Some((version, verdict)) = &dependency.resolved {
            match verdict {
                Verdict::Block => {
                    concerns.push(format!("its {version} is blocked"));
                    severity = Severity::Critical;
                }
                Verdict::Quarantine { .. } => {
                    concerns.push(format!("its {version} is quarantined"));
                    severity = severity.max(Severity::High);
                }
                Verdict::Warn | Verdict::Allow => {}
            }
        } else {
            concerns.push("no published version matches the range".to_owned());
            severity = severity.max(Severity::Medium);
        }
        let young = dependency
            .created
            .is_some_and(|created| now.unix_millis() - created.unix_millis() < 30 * DAY_MS);
        if young {
            concerns.push("the package is less than 30 days old".to_owned());
        }
        if dependency.versions <= 3 {
            concerns.push(format!("it has {} version(s)", dependency.versions));
        }
        if let Some(publisher) = &dependency.new_publisher {
            concerns.push(format!(
                "published by `{publisher}`, who published no other version of it"
            ));
            severity = severity.max(Severity::Medium);
        }
        // Few versions alone is common (small utilities); a young package with few
        // versions is what an attacker publishes the day before.
        if young && dependency.versions <= 3 {
            severity = severity.max(Severity::High);
        } else if young {
            severity = severity.max(Severity::Low);
        }
        if concerns.is_empty() {
            continue;
        }
        findings.push(
            Finding::new(
                Code::DependencyRisk,
                severity,
                Confidence::High,
                format!(
                    "new dependency `{}@{}`: {}",
                    dependency.name,
                    dependency.range,
                    concerns.join("; ")
                ),
            )
            .at(
                "package.json",
                None,
                &format!("\"{}\": \"{}\"", dependency.name, dependency.range),
            )
            .reach(Reach::Install),
        );
    }
    findings
}
