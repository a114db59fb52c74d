//! From graded findings to the reasons `evaluate` weighs, under the policy's
//! analysis rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{Action, Code, Confidence, Finding, Policy, Reason, Severity, Verdict};
use airlock_npm::PackageName;

/// The action a grade calls for by default: critical blocks, high quarantines until
/// a person looks, medium warns; a low confidence lowers it one step.
pub fn default_action(severity: Severity, confidence: Confidence) -> Action {
    let step = match severity {
        Severity::Critical => 3,
        Severity::High => 2,
        Severity::Medium => 1,
        Severity::Low | Severity::Info => 0,
    };
    let step = if confidence == Confidence::Low {
        step - i32::from(step > 0)
    } else {
        step
    };
    match step {
        3 => Action::Block,
        2 => Action::Quarantine,
        1 => Action::Warn,
        _ => Action::Allow,
    }
}

fn verdict_of(action: Action) -> Option<Verdict> {
    match action {
        Action::Block => Some(Verdict::Block),
        Action::Quarantine => Some(Verdict::Quarantine { until: None }),
        Action::Warn => Some(Verdict::Warn),
        Action::Allow | Action::Default => None,
    }
}

/// One reason per code that calls for an action, naming its strongest finding and
/// how many more there are.
pub fn reasons(
    findings: &[Finding],
    name: &PackageName,
    version: &str,
    policy: &Policy,
) -> Vec<Reason> {
    let mut by_code: BTreeMap<Code, (Action, &Finding, usize)> = BTreeMap::new();
    for finding in findings {
        let (action, _) = policy.analysis().action(name, version, finding.code);
        let action = match action {
            Action::Default => default_action(finding.severity, finding.confidence),
            chosen => {
                // An override applies to findings that call for an action at all.
                if default_action(finding.severity, finding.confidence) == Action::Allow
                    && !matches!(chosen, Action::Allow)
                    && finding.severity < Severity::Low
                {
                    Action::Allow
                } else {
                    chosen
                }
            }
        };
        if action == Action::Allow {
            continue;
        }
        let rank = |action: Action| match action {
            Action::Block => 3,
            Action::Quarantine => 2,
            Action::Warn => 1,
            Action::Allow | Action::Default => 0,
        };
        by_code
            .entry(finding.code)
            .and_modify(|(current, strongest, count)| {
                *count += 1;
                if rank(action) > rank(*current) {
                    *current = action;
                    *strongest = finding;
                }
            })
            .or_insert((action, finding, 1));
    }
    by_code
        .into_iter()
        .filter_map(|(code, (action, finding, count))| {
            let location = finding.location();
            let mut message = if location.is_empty() {
                finding.message.clone()
            } else {
                format!("{location}: {}", finding.message)
            };
            // Which row of the capability table decided, and the path that led there.
            if let Some(rule) = &finding.rule {
                if finding.trail.is_empty() {
                    let _ = write!(message, " [rule {rule}]");
                } else {
                    let _ = write!(message, " [rule {rule}: {}]", finding.trail_text());
                }
            }
            if count > 1 {
                let _ = write!(message, " (+{} more)", count - 1);
            }
            Some(Reason {
                code,
                action: verdict_of(action)?,
                message,
            })
        })
        .collect()
}
