//! The review console's signed-in sessions: who, their CSRF token, and since when
//! (read from the server's clock). Held by the server state; the console reads it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a session lasts.
pub(crate) const SESSION: Duration = Duration::from_hours(12);
/// Sessions kept at once; the oldest go first.
const MAX_SESSIONS: usize = 1024;
struct Session {
    user: String,
    csrf: String,
    /// When it started (Unix milliseconds, from the server's clock).
    started: i64,
}

impl Session {
    fn lasts_at(&self, now: i64) -> bool {
        now - self.started < i64::try_from(SESSION.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Signed-in sessions, by cookie value.
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// A new session for `user` at `now` (Unix milliseconds): its id and CSRF token.
    pub(crate) fn start(&self, user: &str, now: i64) -> (String, String) {
        let (id, csrf) = (random_token(), random_token());
        let mut sessions = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.retain(|_, session| session.lasts_at(now));
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, session)| session.started)
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            id.clone(),
            Session {
                user: user.to_owned(),
                csrf: csrf.clone(),
                started: now,
            },
        );
        (id, csrf)
    }

    /// The user and CSRF token of the session `id`, while it lasts at `now`.
    pub(crate) fn find(&self, id: &str, now: i64) -> Option<(String, String)> {
        let sessions = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions
            .get(id)
            .filter(|session| session.lasts_at(now))
            .map(|session| (session.user.clone(), session.csrf.clone()))
    }

    pub(crate) fn end(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }
}

/// 32 random bytes as hex, from the operating system.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom(&mut bytes);
    hex::encode(bytes)
}

fn getrandom(bytes: &mut [u8]) {
    use std::io::Read as _;
    // `/dev/urandom` never blocks and is always there on the systems Airlock runs on.
    if let Ok(mut source) = std::fs::File::open("/dev/urandom")
        && source.read_exact(bytes).is_ok()
    {
        return;
    }
    panic!("no random source for console sessions");
}
