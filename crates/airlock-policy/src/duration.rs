//! Durations as people write them in configuration: `500ms`, `30s`, `5m`, `72h`, `7d`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration read from configuration. Deserialising it validates it, so a bad value
/// is reported with the line it is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let invalid = || {
            format!(
                "`{text}` is not a duration; write a number and a unit: `500ms`, `30s`, `5m`, `72h`, `7d`"
            )
        };
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let duration = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            "d" => Duration::from_secs(number.saturating_mul(86_400)),
            _ => return Err(invalid()),
        };
        Ok(Self(duration))
    }

    pub fn as_millis_i64(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Writes a span of milliseconds the way people say it: `45 s`, `12 min`, `5 h`,
/// `3 d 4 h`.
pub fn describe_millis(millis: i64) -> String {
    let seconds = millis.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h", seconds / 3600),
        _ if seconds % 86_400 < 3600 => format!("{} d", seconds / 86_400),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe_millis(self.as_millis_i64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_describes() {
        assert_eq!(
            HumanDuration::parse("500ms").unwrap().0,
            Duration::from_millis(500)
        );
        assert_eq!(
            HumanDuration::parse("72h").unwrap().0,
            Duration::from_hours(72)
        );
        assert_eq!(
            HumanDuration::parse("7d").unwrap().0,
            Duration::from_hours(7 * 24)
        );
        for bad in ["", "5", "m", "5 years", "-1s", "1.5h"] {
            assert!(HumanDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(describe_millis(45_000), "45 s");
        assert_eq!(describe_millis(12 * 60_000), "12 min");
        assert_eq!(describe_millis(72 * 3_600_000), "3 d");
        assert_eq!(describe_millis(76 * 3_600_000), "3 d 4 h");
    }
}
