//! `evaluate`: the one decision function the proxy and the CLI share.

use airlock_npm::{PackageName, Timestamp};

use crate::duration::describe_millis;
use crate::{Code, Decision, Policy, Reason, Verdict, Waiver, WaiverKind};

/// What is known about one version.
#[derive(Clone, Debug)]
pub struct Evidence<'a> {
    pub name: &'a PackageName,
    pub version: &'a str,
    /// The registry's publish time, when it gives one.
    pub published: Option<Timestamp>,
    /// Signals found elsewhere (analysis, provenance, advisories), each with the
    /// action it calls for.
    pub signals: &'a [Reason],
    /// What this Airlock served of the package before, for the approval gates;
    /// `None` where no history is kept (the gates then hold nothing).
    pub history: Option<crate::History<'a>>,
    /// Vulnerabilities of earlier versions of its release line that this version
    /// fixes, for the fast lane.
    pub fixes: &'a [Fix],
    /// Its `license` (an SPDX expression, usually), for `[licenses]`.
    pub license: Option<&'a str>,
}

/// A vulnerability advisory that names this version as its fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// The advisory's id (`GHSA-…`).
    pub advisory: String,
    /// Its rating.
    pub severity: crate::Severity,
}

/// Decides about one version under `policy` at `now`.
///
/// Deny rules block; a version younger than its package's quarantine, or without a
/// publish time, is quarantined (fail closed); other signals add their own actions.
/// The most severe action wins. An active exception covering the version turns any
/// outcome into Allow; an allow-list rule does the same for everything but a block.
pub fn evaluate(evidence: &Evidence<'_>, policy: &Policy, now: Timestamp) -> Decision {
    let Evidence {
        name,
        version,
        published,
        signals,
        history,
        fixes,
        license,
    } = *evidence;
    let mut reasons = Vec::new();
    for rule in policy
        .deny
        .iter()
        .filter(|rule| rule.spec.matches_including_prereleases(name, version))
    {
        let by = rule.author.as_deref().unwrap_or("the policy file");
        reasons.push(Reason {
            code: Code::KnownMalicious,
            action: Verdict::Block,
            message: format!("denied by {by} (`{}`): {}", rule.spec, rule.reason),
        });
    }
    let min_age = policy.min_release_age_ms(name);
    if min_age > 0 {
        match published {
            None => reasons.push(Reason {
                code: Code::PublishTimeMissing,
                action: Verdict::Quarantine { until: None },
                message: "the registry gives no publish time for this version, so its age cannot be checked".into(),
            }),
            Some(published) => {
                let until = published.plus_millis(min_age);
                if now < until {
                    let age = now.unix_millis() - published.unix_millis();
                    reasons.push(Reason {
                        code: Code::ReleaseAge,
                        action: Verdict::Quarantine { until: Some(until) },
                        message: format!(
                            "published {} ago, younger than the {} minimum release age",
                            describe_millis(age),
                            describe_millis(min_age)
                        ),
                    });
                }
            }
        }
    }
    reasons.extend(signals.iter().cloned());
    reasons.extend(policy.licenses.reason(license));
    reasons.extend(policy.gates.trust_reasons(name, version, signals));
    if let Some(history) = history {
        reasons.extend(
            policy
                .gates
                .reasons(name, version, history, &policy.exceptions, now),
        );
    }

    fast_lane(policy, fixes, &mut reasons);
    let verdict = reasons.iter().fold(Verdict::Allow, |verdict, reason| {
        verdict.max(reason.action.clone())
    });
    let waived_by = if verdict == Verdict::Allow {
        None
    } else {
        waiver(policy, name, version, &verdict, now)
    };
    Decision {
        verdict: if waived_by.is_some() {
            Verdict::Allow
        } else {
            verdict
        },
        reasons,
        waived_by,
        mode: policy.mode(),
        policy_digest: policy.digest().to_owned(),
    }
}

/// The fast lane: a version held only by its release age is released early when it
/// fixes a vulnerability of its line rated at or above the policy's `fast_lane`
/// (high by default) and nothing else about it calls for more than a warning. The
/// release-age reason stays, as an allow that says why.
fn fast_lane(policy: &Policy, fixes: &[Fix], reasons: &mut [Reason]) {
    let Some(threshold) = policy.vulnerabilities().fast_lane() else {
        return;
    };
    let Some(fix) = fixes
        .iter()
        .filter(|fix| fix.severity >= threshold)
        .max_by_key(|fix| fix.severity)
    else {
        return;
    };
    let held_by_age = reasons
        .iter()
        .any(|reason| reason.code == Code::ReleaseAge && !reason.action.admits());
    let otherwise_clean = reasons
        .iter()
        .all(|reason| reason.code == Code::ReleaseAge || reason.action.admits());
    if !(held_by_age && otherwise_clean) {
        return;
    }
    for reason in reasons
        .iter_mut()
        .filter(|reason| reason.code == Code::ReleaseAge)
    {
        reason.action = Verdict::Allow;
        reason.message = format!(
            "released early (fast lane): it fixes {} ({}) in earlier versions of its line; {}",
            fix.advisory,
            fix.severity.name(),
            reason.message
        );
    }
}

fn waiver(
    policy: &Policy,
    name: &PackageName,
    version: &str,
    verdict: &Verdict,
    now: Timestamp,
) -> Option<Waiver> {
    let exception = policy
        .exceptions
        .iter()
        .filter(|exception| exception.is_active(now) && exception.spec.matches(name, version))
        .max_by_key(|exception| exception.spec.specificity());
    if let Some(exception) = exception {
        return Some(Waiver {
            kind: WaiverKind::Exception,
            spec: exception.spec.to_string(),
            reason: exception.reason.clone(),
            author: Some(exception.author.clone()),
            expires: exception.expires,
        });
    }
    if *verdict == Verdict::Block {
        return None;
    }
    policy
        .allow
        .iter()
        .find(|rule| rule.spec.matches(name, version))
        .map(|rule| Waiver {
            kind: WaiverKind::AllowList,
            spec: rule.spec.to_string(),
            reason: rule.reason.clone(),
            author: rule.author.clone(),
            expires: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Exception, Mode, PackageSpec, Rule};

    const HOUR: i64 = 3_600_000;
    const NOW: Timestamp = Timestamp::from_unix_millis(1_000 * HOUR);

    #[expect(
        clippy::unnecessary_wraps,
        reason = "publish times are optional evidence"
    )]
    fn hours_ago(hours: i64) -> Option<Timestamp> {
        Some(NOW.plus_millis(-hours * HOUR))
    }

    #[track_caller]
    fn check(
        policy: &Policy,
        package: &str,
        published: Option<Timestamp>,
        expect: &str,
        codes: &[&str],
    ) {
        let name =
            PackageName::new(package.rsplit_once('@').map_or(package, |(name, _)| name)).unwrap();
        let version = package
            .rsplit_once('@')
            .map_or("1.0.0", |(_, version)| version);
        let evidence = Evidence {
            name: &name,
            version,
            published,
            signals: &[],
            history: None,
            fixes: &[],
            license: None,
        };
        let decision = evaluate(&evidence, policy, NOW);
        let got = match &decision.verdict {
            Verdict::Quarantine { until: Some(until) } => {
                format!(
                    "quarantine {}h",
                    (until.unix_millis() - NOW.unix_millis()) / HOUR
                )
            }
            Verdict::Quarantine { until: None } => "quarantine forever".to_owned(),
            verdict => verdict.name().to_owned(),
        };
        let got = match &decision.waived_by {
            Some(waiver) => format!("{got} by {:?}", waiver.kind),
            None => got,
        };
        assert_eq!(got, expect, "{package}");
        let got_codes: Vec<String> = decision.codes().iter().map(ToString::to_string).collect();
        assert_eq!(got_codes, codes, "{package}");
    }

    fn policy(text: &str) -> Policy {
        Policy::from_toml(text).unwrap()
    }

    #[test]
    fn release_age() {
        let policy = Policy::default();
        check(&policy, "a@1.0.0", hours_ago(100), "allow", &[]);
        check(&policy, "a@1.0.0", hours_ago(72), "allow", &[]);
        check(
            &policy,
            "a@1.0.0",
            hours_ago(2),
            "quarantine 70h",
            &["release-age"],
        );
        check(
            &policy,
            "a@1.0.0",
            hours_ago(-5),
            "quarantine 77h",
            &["release-age"],
        );
        check(
            &policy,
            "a@2.0.0-beta.1",
            hours_ago(1),
            "quarantine 71h",
            &["release-age"],
        );
    }

    #[test]
    fn missing_publish_time_fails_closed_unless_no_quarantine_applies() {
        let policy =
            policy("[[release_age]]\npackages = [\"@mycorp/*\"]\nmin_release_age = \"0s\"\n");
        check(
            &policy,
            "a@1.0.0",
            None,
            "quarantine forever",
            &["publish-time-missing"],
        );
        check(&policy, "@mycorp/tool@1.0.0", None, "allow", &[]);
        check(&policy, "@mycorp/tool@1.0.0", hours_ago(0), "allow", &[]);
    }

    #[test]
    fn deny_list_blocks_and_beats_the_allow_list() {
        let policy = policy(
            r#"
            [[deny]]
            package = "evil"
            reason = "malware"
            [[deny]]
            package = "axios@>=1.14.1 <1.14.2"
            reason = "compromised"
            [[allow]]
            package = "evil"
            reason = "mistake"
            [[allow]]
            package = "@vendor/*"
            reason = "reviewed upstream"
            "#,
        );
        check(
            &policy,
            "evil@9.9.9",
            hours_ago(1000),
            "block",
            &["known-malicious"],
        );
        check(
            &policy,
            "axios@1.14.1",
            hours_ago(1000),
            "block",
            &["known-malicious"],
        );
        check(&policy, "axios@1.14.0", hours_ago(1000), "allow", &[]);
        check(
            &policy,
            "axios@1.14.1",
            hours_ago(1),
            "block",
            &["known-malicious", "release-age"],
        );
        check(
            &policy,
            "@vendor/x@1.0.0",
            hours_ago(1),
            "allow by AllowList",
            &["release-age"],
        );
    }

    #[test]
    fn exceptions_waive_anything_until_they_expire() {
        let mut policy = policy("[[deny]]\npackage = \"evil@1.0.0\"\nreason = \"r\"\n");
        let exception = |spec: &str, expires| {
            Exception::new(
                PackageSpec::parse(spec).unwrap(),
                "reviewed".into(),
                "alice".into(),
                expires,
            )
            .unwrap()
        };
        policy = policy.with_admin_rules(
            vec![
                exception("young@2.0.0", None),
                exception("evil@1.0.0", None),
                exception("lapsed@1.0.0", Some(NOW.plus_millis(-1))),
                exception("@internal/*", Some(NOW.plus_millis(HOUR))),
            ],
            vec![Rule {
                spec: PackageSpec::parse("manual").unwrap(),
                reason: "by hand".into(),
                author: Some("bob".into()),
                id: Some(1),
            }],
        );
        check(
            &policy,
            "young@2.0.0",
            hours_ago(1),
            "allow by Exception",
            &["release-age"],
        );
        check(
            &policy,
            "young@2.0.1",
            hours_ago(1),
            "quarantine 71h",
            &["release-age"],
        );
        check(
            &policy,
            "evil@1.0.0",
            hours_ago(1000),
            "allow by Exception",
            &["known-malicious"],
        );
        check(
            &policy,
            "lapsed@1.0.0",
            hours_ago(1),
            "quarantine 71h",
            &["release-age"],
        );
        check(
            &policy,
            "@internal/x@3.0.0",
            hours_ago(1),
            "allow by Exception",
            &["release-age"],
        );
        check(
            &policy,
            "manual@1.0.0",
            hours_ago(1000),
            "block",
            &["known-malicious"],
        );
        assert_eq!(policy.next_expiry_after(NOW), Some(NOW.plus_millis(HOUR)));
    }

    #[test]
    fn dry_run_decides_the_same_but_admits() {
        let policy = policy("mode = \"dry-run\"\n");
        let name = PackageName::new("a").unwrap();
        let evidence = Evidence {
            name: &name,
            version: "1.0.0",
            published: hours_ago(1),
            signals: &[],
            history: None,
            fixes: &[],
            license: None,
        };
        let decision = evaluate(&evidence, &policy, NOW);
        assert!(decision.refuses());
        assert!(decision.admits());
        assert_eq!(decision.mode, Mode::DryRun);
    }

    #[test]
    fn signals_add_their_actions() {
        let name = PackageName::new("a").unwrap();
        let signals = [Reason {
            code: Code::InstallScript,
            action: Verdict::Warn,
            message: "postinstall".into(),
        }];
        let evidence = Evidence {
            name: &name,
            version: "1.0.0",
            published: hours_ago(1000),
            signals: &signals,
            history: None,
            fixes: &[],
            license: None,
        };
        let decision = evaluate(&evidence, &Policy::default(), NOW);
        assert_eq!(decision.verdict, Verdict::Warn);
        assert!(decision.admits());
    }

    #[test]
    fn the_gates_hold_what_an_approval_then_lets_through() {
        let mut policy = policy("min_release_age = \"0s\"\n[gates]\nnew_packages = true\n");
        let name = PackageName::new("fresh").unwrap();
        let decide = |policy: &Policy, history| {
            evaluate(
                &Evidence {
                    name: &name,
                    version: "1.0.0",
                    published: hours_ago(1000),
                    signals: &[],
                    history,
                    fixes: &[],
                    license: None,
                },
                policy,
                NOW,
            )
        };
        let held = decide(&policy, Some(crate::History { served: &[] }));
        assert_eq!(held.verdict, Verdict::Quarantine { until: None });
        assert_eq!(held.codes(), [Code::NewPackage]);
        assert!(decide(&policy, None).admits());
        policy = policy.with_admin_rules(
            vec![
                Exception::new(
                    PackageSpec::parse("fresh@1.0.0").unwrap(),
                    "reviewed".into(),
                    "alice".into(),
                    None,
                )
                .unwrap(),
            ],
            Vec::new(),
        );
        let approved = decide(&policy, Some(crate::History { served: &[] }));
        assert!(approved.admits());
        assert!(approved.reasons.is_empty(), "{:?}", approved.reasons);
    }

    #[test]
    fn a_fix_for_a_serious_vulnerability_leaves_its_quarantine_early() {
        let name = PackageName::new("lodash").unwrap();
        let decide = |policy: &Policy, fixes: &[Fix], signals: &[Reason]| {
            evaluate(
                &Evidence {
                    name: &name,
                    version: "4.17.22",
                    published: hours_ago(2),
                    signals,
                    history: None,
                    fixes,
                    license: None,
                },
                policy,
                NOW,
            )
        };
        let high = [Fix {
            advisory: "GHSA-aaaa-bbbb-cccc".into(),
            severity: crate::Severity::High,
        }];
        let default = Policy::default();
        let released = decide(&default, &high, &[]);
        assert_eq!(released.verdict, Verdict::Allow);
        assert_eq!(
            released.codes(),
            [Code::ReleaseAge],
            "recorded as the reason"
        );
        assert!(
            released.reasons[0].message.contains("fast lane")
                && released.reasons[0].message.contains("GHSA-aaaa-bbbb-cccc"),
            "{:?}",
            released.reasons
        );
        // Anything else that holds it keeps it held.
        let flagged = [Reason {
            code: Code::InstallScriptAdded,
            action: Verdict::Quarantine { until: None },
            message: "a postinstall appeared".into(),
        }];
        assert!(!decide(&default, &high, &flagged).admits());
        // A moderate fix waits; the policy can switch the lane off or lower it.
        let moderate = [Fix {
            advisory: "GHSA-x".into(),
            severity: crate::Severity::Medium,
        }];
        assert!(!decide(&default, &moderate, &[]).admits());
        let off = policy("[vulnerabilities]\nfast_lane = false\n");
        assert!(!decide(&off, &high, &[]).admits());
        let lower = policy("[vulnerabilities]\nfast_lane = \"medium\"\n");
        assert!(decide(&lower, &moderate, &[]).admits());
        assert!(!decide(&default, &[], &[]).admits());
    }
}
