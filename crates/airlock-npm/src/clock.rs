//! The one clock: everything that compares with the present asks a [`Clock`] it was
//! given, so tests set the time instead of sleeping.
//!
//! ```
//! use airlock_npm::{Clock, Timestamp};
//! use std::time::Duration;
//!
//! let clock = Clock::manual(Timestamp::parse("2026-03-31T00:00:00Z").unwrap());
//! let copy = clock.clone();
//! clock.advance(Duration::from_secs(90));
//! assert_eq!(copy.now().to_string(), "2026-03-31T00:01:30.000Z");
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Timestamp;

/// Wall-clock time in milliseconds. Clones share one source: advancing one advances
/// all of them.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    /// The system's time plus a shift (zero outside tests).
    System { shift_ms: AtomicI64 },
    /// A time that moves only when told to.
    Manual { at_ms: AtomicI64 },
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::shifted(Duration::ZERO)
    }

    /// The system's clock, running `ahead` of it: what a test gives a process it
    /// starts to see "later" without waiting.
    pub fn shifted(ahead: Duration) -> Self {
        Self(Arc::new(Source::System {
            shift_ms: AtomicI64::new(millis(ahead)),
        }))
    }

    /// A clock that stands at `at` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(at: Timestamp) -> Self {
        Self(Arc::new(Source::Manual {
            at_ms: AtomicI64::new(at.unix_millis()),
        }))
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.now_millis())
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        match &*self.0 {
            Source::System { shift_ms } => system_millis() + shift_ms.load(Ordering::Relaxed),
            Source::Manual { at_ms } => at_ms.load(Ordering::Relaxed),
        }
    }

    /// The present as a `SystemTime`, for APIs that take one.
    pub fn now_system(&self) -> SystemTime {
        let millis = u64::try_from(self.now_millis()).unwrap_or_default();
        UNIX_EPOCH + Duration::from_millis(millis)
    }

    /// Moves the clock forward (a system clock's shift grows).
    pub fn advance(&self, by: Duration) {
        let cell = match &*self.0 {
            Source::System { shift_ms } => shift_ms,
            Source::Manual { at_ms } => at_ms,
        };
        cell.fetch_add(millis(by), Ordering::Relaxed);
    }

    /// Sets a manual clock to `at`; a system clock is shifted so that it reads `at` now.
    pub fn set(&self, at: Timestamp) {
        match &*self.0 {
            Source::System { shift_ms } => {
                shift_ms.store(at.unix_millis() - system_millis(), Ordering::Relaxed);
            }
            Source::Manual { at_ms } => at_ms.store(at.unix_millis(), Ordering::Relaxed),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

fn system_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(millis)
        .unwrap_or_default()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(Timestamp::from_unix_millis(1_000));
        assert_eq!(clock.now_millis(), 1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.clone().now_millis(), 1_250);
        clock.set(Timestamp::from_unix_millis(5));
        assert_eq!(clock.now_millis(), 5);
    }

    #[test]
    fn a_shifted_clock_runs_ahead_of_the_system() {
        let day = Duration::from_hours(24);
        let clock = Clock::shifted(day);
        let ahead = clock.now_millis() - system_millis();
        assert!((86_399_000..=86_401_000).contains(&ahead), "{ahead}");
        clock.set(Timestamp::from_unix_millis(0));
        assert!(clock.now_millis().abs() < 1_000);
    }
}
