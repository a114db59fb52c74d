//! Airlock's policy: what may reach a client, decided by one pure function.
//!
//! [`Policy`] is the validated policy file (plus approvals and denials added at run
//! time), [`evaluate`] turns the [`Evidence`] about one version into a [`Decision`]
//! with reasons, each carrying a stable [`Code`]. The proxy and the CLI call the same
//! `evaluate`, so an install and an audit can never disagree. No IO and no clock: the
//! caller passes `now`.
//!
//! ```
//! use airlock_npm::{PackageName, Timestamp};
//! use airlock_policy::{evaluate, Evidence, Policy, Verdict};
//!
//! let policy = Policy::from_toml(r#"min_release_age = "72h""#).unwrap();
//! let name = PackageName::new("axios").unwrap();
//! let now = Timestamp::parse("2026-03-31T03:00:00Z").unwrap();
//! let evidence = Evidence {
//!     name: &name,
//!     version: "1.14.1",
//!     published: Timestamp::parse("2026-03-31T00:21:00Z"),
//!     signals: &[],
//!     history: None,
//!     fixes: &[],
//!     license: None,
//! };
//! let decision = evaluate(&evidence, &policy, now);
//! assert!(matches!(decision.verdict, Verdict::Quarantine { .. }));
//! assert!(!decision.admits());
//! ```

mod analysis;
mod code;
mod decision;
mod duration;
mod error;
mod evaluate;
mod finding;
mod gates;
mod grading;
mod licenses;
mod matcher;
mod policy;
mod tags;
mod vulnerabilities;

pub use analysis::{Action, AnalysisAllow, AnalysisRules};
pub use code::Code;
pub use decision::{Decision, Reason, Verdict, Waiver, WaiverKind};
pub use duration::{HumanDuration, describe_millis};
pub use error::Error;
pub use evaluate::{Evidence, Fix, evaluate};
pub use finding::{Confidence, Finding, Reach, Severity, one_line};
pub use gates::{CriticalBump, Gates, History};
pub use grading::{default_action, reasons};
pub use licenses::Licenses;
pub use matcher::{PackageSpec, Specificity};
pub use policy::{Exception, Mode, Policy, Rule};
pub use tags::repair_dist_tags;
pub use vulnerabilities::{Ignore, Vulnerabilities, VulnerabilityAction};
