//! What this Airlock has served: the versions of each package the download log
//! records as sent, kept in memory for the approval gates (a package never served
//! is new; a critical package's bump is measured against what was served).
//!
//! Loaded from the download log at start ([`crate::AppState::load_history`]) and
//! added to as tarballs are served. Its generation moves when a version is served
//! for the first time, so that decisions made under the gates are redone.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use airlock_store::Store;

#[derive(Default)]
pub struct History {
    served: RwLock<HashMap<String, Vec<String>>>,
    generation: AtomicU64,
}

impl History {
    /// Adds every version the download log records as served.
    pub(crate) async fn load(&self, store: &Store) -> Result<usize, airlock_store::Error> {
        let rows = store.served_versions().await?;
        let count = rows.len();
        for (name, version) in rows {
            self.record(&name, &version);
        }
        Ok(count)
    }

    /// Notes that `name@version` was served.
    pub fn record(&self, name: &str, version: &str) {
        if self
            .read()
            .get(name)
            .is_some_and(|versions| versions.iter().any(|seen| seen == version))
        {
            return;
        }
        let mut served = self
            .served
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let versions = served.entry(name.to_owned()).or_default();
        if !versions.iter().any(|seen| seen == version) {
            versions.push(version.to_owned());
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// Every package served so far.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .served
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// The versions of `name` served so far.
    pub fn served(&self, name: &str) -> Vec<String> {
        self.read().get(name).cloned().unwrap_or_default()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Vec<String>>> {
        self.served
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_served_again_changes_nothing() {
        let history = History::default();
        assert!(history.served("a").is_empty());
        history.record("a", "1.0.0");
        let generation = history.generation();
        history.record("a", "1.0.0");
        assert_eq!(history.generation(), generation);
        history.record("a", "1.1.0");
        assert_eq!(history.generation(), generation + 1);
        assert_eq!(history.served("a"), ["1.0.0", "1.1.0"]);
    }
}
