//! The one place where Airlock decides which versions a client may have.
//!
//! Every path that exposes a version goes through [`Gate`]: the packument (full and
//! abbreviated), the version document and the tarball. The gate evaluates each
//! version of a packument with `airlock_policy::evaluate`, derives the [`View`]
//! clients get (hidden versions removed, dist-tags repaired), and caches both on the
//! packument entry until the policy changes, a quarantine ends or an exception
//! expires, whichever comes first. New decisions are recorded in the database with
//! their reasons and the policy digest. Imported advisories enter as `known-malicious`
//! signals (malware) or `known-vulnerable` ones (weighed by the policy's
//! `[vulnerabilities]`); a change of policy or advisories invalidates every cached
//! decision.

use std::sync::Arc;

use airlock_advisory::{AdvisorySet, Kind, Rating};
use airlock_analyze::indicator_findings;
use airlock_npm::{Clock, Packument, Timestamp, View};
use airlock_policy::{
    Code, Decision, Evidence, Fix, History, Reason, Severity, Verdict, VulnerabilityAction,
    evaluate, repair_dist_tags,
};
use airlock_store::{DecisionRecord, Store};

use crate::advisories::AdvisoryHandle;
use crate::alerts::{Alert, Alerts};
use crate::analyses::Analyses;
pub use crate::decided::Decided;
use crate::error::ErrorChain;
use crate::history::History as Served;
use crate::packuments::Entry;
use crate::policy::PolicyHandle;
use crate::trust::Trust;

/// How many withheld versions a notice names; the rest are counted.
const NOTICE_NAMES: usize = 3;

/// The notice for a packument served with versions withheld: the newest few by
/// publish time, each with its state and codes, and the command that says more.
fn notice_of(packument: &Packument, decisions: &[Decision]) -> Option<String> {
    let mut withheld: Vec<(Option<String>, &str, &Decision)> = packument
        .versions()
        .zip(decisions)
        .filter(|(_, decision)| !decision.admits())
        .map(|((version, _), decision)| (packument.publish_time(version), version, decision))
        .collect();
    if withheld.is_empty() {
        return None;
    }
    withheld.sort_by(|a, b| b.0.cmp(&a.0));
    let name = packument.name();
    let named: Vec<String> = withheld
        .iter()
        .take(NOTICE_NAMES)
        .map(|(_, version, decision)| {
            let state = match decision.quarantine_until() {
                Some(until) => format!("quarantined until {until}"),
                None if matches!(decision.verdict, Verdict::Quarantine { .. }) => {
                    "quarantined until approved".to_owned()
                }
                None => "blocked".to_owned(),
            };
            format!("{version} ({state}: {})", codes_text(decision))
        })
        .collect();
    let more = withheld.len().saturating_sub(NOTICE_NAMES);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let (_, newest, _) = withheld[0];
    let text = format!(
        "Airlock withholds {name} {}{more}; `airlock check {name}@{newest}` says why",
        named.join(", ")
    );
    // A header value is visible ASCII; names and codes are, but be sure.
    Some(
        text.chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .collect(),
    )
}

/// Decides per version; shared by all handlers.
pub struct Gate {
    pub(crate) policy: Arc<PolicyHandle>,
    pub(crate) advisories: Arc<AdvisoryHandle>,
    pub(crate) analyses: Arc<Analyses>,
    pub(crate) trust: Arc<Trust>,
    pub(crate) history: Arc<Served>,
    pub(crate) store: Store,
    pub(crate) alerts: Alerts,
    /// Whether decisions are written to the decision log.
    pub(crate) record_decisions: bool,
    /// What "now" is for release ages, expiries and the decision log.
    pub(crate) clock: Clock,
}

impl Gate {
    pub fn advisories(&self) -> &Arc<AdvisoryHandle> {
        &self.advisories
    }

    pub fn policy(&self) -> &Arc<PolicyHandle> {
        &self.policy
    }

    /// The generations decisions are made under: the policy's and the advisories'
    /// (given), the analyses', the trust material's and, when a gate is on, the
    /// served history's.
    fn generation(
        &self,
        (policy, advisories): (u64, u64),
        gated: bool,
    ) -> (u64, u64, u64, u64, u64) {
        (
            policy,
            advisories,
            self.analyses.generation(),
            self.trust.generation(),
            if gated { self.history.generation() } else { 0 },
        )
    }

    /// Whether `decided` still stands: nothing it was made under has changed and no
    /// quarantine it counted on has ended.
    pub(crate) fn holds(&self, decided: &Decided) -> bool {
        let (policy, policy_generation) = self.policy.current();
        let (_, advisory_generation) = self.advisories.current();
        let generation = self.generation(
            (policy_generation, advisory_generation),
            policy.gates().is_active(),
        );
        decided.generation == generation
            && decided
                .valid_until
                .is_none_or(|until| self.clock.now() < until)
    }

    /// The decisions for `entry`, from its cache when still valid.
    pub fn decide(&self, entry: &Entry) -> Arc<Decided> {
        let (policy, policy_generation) = self.policy.current();
        let (advisories, advisory_generation) = self.advisories.current();
        let gated = policy.gates().is_active();
        let generation = self.generation((policy_generation, advisory_generation), gated);
        let now = self.clock.now();
        let mut cached = entry
            .decided
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(decided) = cached.as_ref()
            && decided.generation == generation
            && decided.valid_until.is_none_or(|until| now < until)
        {
            return decided.clone();
        }
        let packument = entry.packument();
        let named = advisories.names(packument.name());
        // Addresses from advisories, matched against the hosts every analysis recorded.
        let indicators = advisories.iocs();
        let trust = self.trust.findings(packument);
        let served = if gated {
            self.history.served(packument.name().as_str())
        } else {
            Vec::new()
        };
        let (decisions, analysed): (Vec<Decision>, Vec<bool>) = packument
            .versions()
            .zip(trust)
            .map(|((version, doc), (_, trust))| {
                let (mut signals, fixes) = if named {
                    (
                        advisory_signals(&advisories, packument.name(), version, &policy),
                        fixes_of(&advisories, packument, version),
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
                let analysis = self.analyses.findings(doc);
                if let Some(analyzed) = &analysis {
                    signals.extend(airlock_policy::reasons(
                        &analyzed.findings,
                        packument.name(),
                        version,
                        &policy,
                    ));
                    let named = indicator_findings(&analyzed.hosts, indicators);
                    signals.extend(airlock_policy::reasons(
                        &named,
                        packument.name(),
                        version,
                        &policy,
                    ));
                }
                signals.extend(airlock_policy::reasons(
                    &trust,
                    packument.name(),
                    version,
                    &policy,
                ));
                let license = doc.license();
                let evidence = Evidence {
                    name: packument.name(),
                    version,
                    published: packument
                        .publish_time(version)
                        .as_deref()
                        .and_then(Timestamp::parse),
                    signals: &signals,
                    history: gated.then_some(History { served: &served }),
                    fixes: &fixes,
                    license: license.as_deref(),
                };
                (evaluate(&evidence, &policy, now), analysis.is_some())
            })
            .unzip();
        if let Some(previous) = cached.as_ref() {
            self.announce_releases(packument, previous, &decisions);
        }
        let view = view_of(packument, &decisions);
        let notice = notice_of(packument, &decisions);
        let latest_withheld = packument
            .dist_tags()
            .get("latest")
            .and_then(|latest| packument.version_index(latest))
            .is_some_and(|index| !decisions[index].admits());
        let valid_until = decisions
            .iter()
            .filter_map(Decision::quarantine_until)
            .chain(policy.next_expiry_after(now))
            .filter(|until| *until > now)
            .min();
        let withheld = decisions
            .iter()
            .filter(|decision| !decision.admits())
            .count();
        let decided = Arc::new(Decided {
            generation,
            valid_until,
            withheld,
            decisions,
            analysed,
            view,
            notice,
            latest_withheld,
            logged: std::sync::atomic::AtomicBool::new(false),
        });
        *cached = Some(decided.clone());
        drop(cached);
        if self.record_decisions {
            self.record(packument, &decided, now);
        }
        decided
    }

    fn record(&self, packument: &Packument, decided: &Decided, now: Timestamp) {
        let records: Vec<DecisionRecord> = packument
            .versions()
            .zip(&decided.decisions)
            .map(|((version, _), decision)| DecisionRecord {
                name: packument.name().to_string(),
                version: version.to_owned(),
                verdict: decision.verdict.name().to_owned(),
                until: decision.quarantine_until().map(Timestamp::unix_millis),
                codes: codes_text(decision),
                decision: serde_json::to_string(decision).expect("decisions serialise"),
                policy_digest: decision.policy_digest.clone(),
                decided_at: now.unix_millis(),
            })
            .collect();
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.record_decisions(&records).await {
                tracing::warn!(error = %ErrorChain(&error), "could not record decisions");
            }
        });
    }
}

impl Gate {
    /// Alerts for versions whose quarantine has just ended (or been lifted).
    fn announce_releases(&self, packument: &Packument, previous: &Decided, decisions: &[Decision]) {
        for ((version, _), (before, after)) in packument
            .versions()
            .zip(previous.decisions.iter().zip(decisions))
        {
            if matches!(before.verdict, Verdict::Quarantine { .. }) && after.verdict.admits() {
                let name = packument.name();
                self.alerts.send(Alert {
                    event: "quarantine-release",
                    text: format!("`{name}@{version}` left quarantine and is now served"),
                    details: serde_json::json!({"package": name.as_str(), "version": version, "decision": after}),
                });
            }
        }
    }
}

/// The reasons the advisories naming `name@version` give: malware blocks
/// (`known-malicious`); a vulnerability (`known-vulnerable`) does what the policy's
/// `[vulnerabilities]` says for its rating, with the fixed version as the way out.
fn advisory_signals(
    advisories: &AdvisorySet,
    name: &airlock_npm::PackageName,
    version: &str,
    policy: &airlock_policy::Policy,
) -> Vec<Reason> {
    advisories
        .lookup(name, version)
        .into_iter()
        .filter_map(|found| match found.kind {
            Kind::Malicious => Some(Reason {
                code: Code::KnownMalicious,
                action: Verdict::Block,
                message: format!("{}: {}", found.ids.join(", "), found.summary),
            }),
            Kind::Vulnerability(rating) => {
                let action = match policy.vulnerabilities().action(name, severity_of(rating), &found.ids) {
                    VulnerabilityAction::Nothing => return None,
                    VulnerabilityAction::Act(action) => action,
                    VulnerabilityAction::Ignored(reason) => {
                        return Some(Reason {
                            code: Code::KnownVulnerable,
                            action: Verdict::Allow,
                            message: format!(
                                "{} is set aside by the policy's [vulnerabilities] ignore list: {reason}",
                                found.ids.join(", ")
                            ),
                        });
                    }
                };
                let fix = match found.fixed.first() {
                    Some(fixed) => format!("; fixed in {fixed}"),
                    None => "; no fixed version listed".to_owned(),
                };
                Some(Reason {
                    code: Code::KnownVulnerable,
                    action,
                    message: format!(
                        "{} ({} vulnerability): {}{fix}",
                        found.ids.join(", "),
                        rating.map_or("unrated", Rating::name),
                        found.summary
                    ),
                })
            }
        })
        .collect()
}

/// The vulnerabilities `version` fixes: advisories that name it as a fixed version
/// and affect an earlier version of its release line (what the line's users have
/// now). For the fast lane.
fn fixes_of(advisories: &AdvisorySet, packument: &Packument, version: &str) -> Vec<Fix> {
    let Ok(this) = js_semver::Version::parse(version) else {
        return Vec::new();
    };
    let line = |version: &js_semver::Version| match version.major {
        0 => (0, version.minor),
        major => (major, 0),
    };
    let earlier: Vec<&str> = packument
        .versions()
        .map(|(other, _)| other)
        .filter(|other| {
            js_semver::Version::parse(other)
                .is_ok_and(|parsed| parsed < this && line(&parsed) == line(&this))
        })
        .collect();
    advisories
        .advisories_for(packument.name())
        .filter_map(|advisory| {
            let Kind::Vulnerability(rating) = advisory.kind else {
                return None;
            };
            let fixes_here = advisory
                .affected
                .iter()
                .filter(|affected| affected.name == *packument.name())
                .any(|affected| {
                    affected.fixed().iter().any(|fixed| fixed == version)
                        && earlier.iter().any(|other| affected.matches(other))
                });
            fixes_here.then(|| Fix {
                advisory: advisory.id.clone(),
                severity: severity_of(rating),
            })
        })
        .collect()
}

/// A database's rating as a severity; unrated records count as moderate.
fn severity_of(rating: Option<Rating>) -> Severity {
    match rating {
        Some(Rating::Critical) => Severity::Critical,
        Some(Rating::High) => Severity::High,
        Some(Rating::Moderate) | None => Severity::Medium,
        Some(Rating::Low) => Severity::Low,
    }
}

/// The view clients get: admitted versions, dist-tags repaired among them.
fn view_of(packument: &Packument, decisions: &[Decision]) -> View {
    let mut admits = decisions.iter().map(Decision::admits);
    let view = packument.view(|_, _| admits.next().unwrap_or(false));
    let tags = repair_dist_tags(packument.dist_tags(), packument.visible(&view));
    view.with_dist_tags(tags)
}

pub(crate) fn codes_text(decision: &Decision) -> String {
    decision
        .codes()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
