use std::time::{SystemTime, UNIX_EPOCH};

use airlock_npm::Timestamp;

/// `days` days before now: a publication old enough to be past any quarantine.
pub fn days_ago(days: u64) -> SystemTime {
    SystemTime::now() - std::time::Duration::from_hours(24 * days)
}

/// Formats a time as the registry does in `time`: `2024-01-31T12:00:00.000Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let millis = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    Timestamp::from_unix_millis(millis).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_like_the_registry() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let time = UNIX_EPOCH + Duration::from_millis(1_709_294_400_123);
        assert_eq!(rfc3339(time), "2024-03-01T12:00:00.123Z");
    }
}
