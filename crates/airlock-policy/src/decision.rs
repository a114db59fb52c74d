//! What `evaluate` returns.

use airlock_npm::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Code, Mode};

/// The outcome for one version, from least to most severe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Allow,
    /// Served, logged and shown.
    Warn,
    /// Hidden until `until` (or until a person approves, when `None`).
    Quarantine {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "timestamp_option"
        )]
        until: Option<Timestamp>,
    },
    /// Refused until a person approves.
    Block,
}

impl Verdict {
    fn rank(&self) -> u8 {
        match self {
            Self::Allow => 0,
            Self::Warn => 1,
            Self::Quarantine { .. } => 2,
            Self::Block => 3,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Quarantine { .. } => "quarantine",
            Self::Block => "block",
        }
    }

    /// The more severe of two verdicts; of two quarantines, the longer.
    #[must_use]
    pub fn max(self, other: Self) -> Self {
        match (self, other) {
            (Self::Quarantine { until: a }, Self::Quarantine { until: b }) => Self::Quarantine {
                until: match (a, b) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                },
            },
            (a, b) => {
                if b.rank() > a.rank() {
                    b
                } else {
                    a
                }
            }
        }
    }

    /// Whether a client may have the version under this verdict.
    pub fn admits(&self) -> bool {
        self.rank() <= 1
    }
}

/// One signal behind a decision: its code, what it calls for, and what a person
/// needs to judge it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: Code,
    pub action: Verdict,
    pub message: String,
}

/// Why a decision that would refuse is an Allow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub kind: WaiverKind,
    pub spec: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "timestamp_option"
    )]
    pub expires: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaiverKind {
    Exception,
    AllowList,
}

/// A decision about one version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Every signal found, including those a waiver set aside.
    pub reasons: Vec<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<Waiver>,
    pub mode: Mode,
    pub policy_digest: String,
}

impl Decision {
    /// Whether the version is served: always in dry-run, else when the verdict admits it.
    pub fn admits(&self) -> bool {
        self.mode == Mode::DryRun || self.verdict.admits()
    }

    /// Whether the policy refuses the version, enforced or not (dry-run records this).
    pub fn refuses(&self) -> bool {
        !self.verdict.admits()
    }

    pub fn codes(&self) -> Vec<crate::Code> {
        let mut codes: Vec<_> = self.reasons.iter().map(|reason| reason.code).collect();
        codes.dedup();
        codes
    }

    /// When a quarantine ends by itself, if it does.
    pub fn quarantine_until(&self) -> Option<Timestamp> {
        match self.verdict {
            Verdict::Quarantine { until } => until,
            _ => None,
        }
    }
}

/// `Option<Timestamp>` as an RFC 3339 string or absent.
mod timestamp_option {
    use airlock_npm::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(super) fn serialize<S: Serializer>(
        value: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(timestamp) => serializer.collect_str(timestamp),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|text| {
            Timestamp::parse(&text).ok_or_else(|| {
                serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time"))
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[expect(clippy::unnecessary_wraps, reason = "quarantine ends are optional")]
    fn at(millis: i64) -> Option<Timestamp> {
        Some(Timestamp::from_unix_millis(millis))
    }

    #[test]
    fn max_prefers_severity_then_the_longer_quarantine() {
        assert_eq!(Verdict::Allow.max(Verdict::Warn), Verdict::Warn);
        assert_eq!(
            Verdict::Block.max(Verdict::Quarantine { until: None }),
            Verdict::Block
        );
        assert_eq!(
            Verdict::Quarantine { until: at(5) }.max(Verdict::Quarantine { until: at(9) }),
            Verdict::Quarantine { until: at(9) }
        );
        assert_eq!(
            Verdict::Quarantine { until: at(5) }.max(Verdict::Quarantine { until: None }),
            Verdict::Quarantine { until: None }
        );
    }
}
