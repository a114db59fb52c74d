//! The policy in force, and how it changes while the server runs.
//!
//! The policy is the file's rules plus the approvals and denials stored through the
//! admin API. Readers take an `Arc` snapshot and a generation number; every change
//! (a reloaded file, a new approval) bumps the generation, which is how cached
//! decisions know they are out of date. A reload that fails keeps the old policy in
//! force and says why in the log: a typo never opens the gate.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use airlock_npm::Timestamp;
use airlock_policy::{Exception, PackageSpec, Policy, Rule};
use airlock_store::Store;

use crate::error::ErrorChain;

/// Why the policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("could not read the policy file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the policy file `{path}` is invalid")]
    Invalid {
        path: PathBuf,
        #[source]
        source: airlock_policy::Error,
    },

    #[error("could not read the approvals and denials from the database")]
    Store(#[from] airlock_store::Error),
}

/// The current policy, shared by every request.
pub struct PolicyHandle {
    file: Option<PathBuf>,
    file_policy: RwLock<Arc<Policy>>,
    /// The policy and its generation, swapped together so that no reader can pair
    /// an old policy with a new generation.
    current: RwLock<(Arc<Policy>, u64)>,
    /// Serialises reloads: each reads the database and then swaps, and two
    /// overlapping ones must not let the older snapshot win.
    reloading: tokio::sync::Mutex<()>,
    file_modified: RwLock<Option<SystemTime>>,
    store: Store,
}

impl PolicyHandle {
    /// Loads the policy file (or the embedded defaults when there is none) and the
    /// stored admin rules. An invalid file is an error here: the server does not
    /// start on a policy it cannot read.
    pub async fn load(file: Option<PathBuf>, store: Store) -> Result<Self, PolicyError> {
        let (file_policy, modified) = match &file {
            Some(path) => read_policy(path)?,
            None => (Policy::default(), None),
        };
        let handle = Self {
            file,
            current: RwLock::new((Arc::new(file_policy.clone()), 1)),
            file_policy: RwLock::new(Arc::new(file_policy)),
            reloading: tokio::sync::Mutex::new(()),
            file_modified: RwLock::new(modified),
            store,
        };
        handle.reload_admin_rules().await?;
        Ok(handle)
    }

    /// A fixed policy, for tests and one-shot commands.
    pub async fn fixed(policy: Policy, store: Store) -> Result<Self, PolicyError> {
        let handle = Self {
            file: None,
            current: RwLock::new((Arc::new(policy.clone()), 1)),
            file_policy: RwLock::new(Arc::new(policy)),
            reloading: tokio::sync::Mutex::new(()),
            file_modified: RwLock::new(None),
            store,
        };
        handle.reload_admin_rules().await?;
        Ok(handle)
    }

    /// The policy in force and its generation.
    pub fn current(&self) -> (Arc<Policy>, u64) {
        read(&self.current).clone()
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Re-reads the file. On error the old policy stays in force and the error is
    /// returned for the log.
    pub async fn reload_file(&self) -> Result<(), PolicyError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let _one_at_a_time = self.reloading.lock().await;
        let (policy, modified) = read_policy(path)?;
        *write(&self.file_policy) = Arc::new(policy);
        *write(&self.file_modified) = modified;
        self.rebuild().await?;
        tracing::info!(file = %path.display(), digest = self.current().0.digest(), "policy reloaded");
        Ok(())
    }

    /// Reloads when the file's modification time changed; logs a failed reload.
    pub async fn reload_if_changed(&self) {
        let Some(path) = &self.file else {
            return;
        };
        let modified = std::fs::metadata(path)
            .and_then(|metadata| metadata.modified())
            .ok();
        if modified == *read(&self.file_modified) {
            return;
        }
        self.reload_logged().await;
    }

    /// Reloads, logging instead of returning a failure (for SIGHUP and file watching).
    pub async fn reload_logged(&self) {
        if let Err(error) = self.reload_file().await {
            // Remember the broken file's time, so that it is reported once, not every poll.
            if let Some(path) = &self.file {
                *write(&self.file_modified) = std::fs::metadata(path)
                    .and_then(|metadata| metadata.modified())
                    .ok();
            }
            tracing::error!(error = %ErrorChain(&error), "policy reload failed; the previous policy stays in force");
        }
    }

    /// Rebuilds the policy from the file's rules and the stored admin rules.
    pub async fn reload_admin_rules(&self) -> Result<(), PolicyError> {
        let _one_at_a_time = self.reloading.lock().await;
        self.rebuild().await
    }

    /// Combines the file's rules with the stored admin rules; callers hold `reloading`.
    async fn rebuild(&self) -> Result<(), PolicyError> {
        let exceptions = self
            .store
            .exceptions()
            .await?
            .into_iter()
            .filter_map(|record| {
                let spec = parse_stored(&record.spec)?;
                let expires = record.expires_at.map(Timestamp::from_unix_millis);
                // A stored bare name was added with `all_versions`.
                let make = if spec.is_glob() || spec.has_versions() {
                    Exception::new
                } else {
                    Exception::every_version
                };
                let mut exception = match make(spec, record.reason, record.author, expires) {
                    Ok(exception) => exception,
                    Err(error) => {
                        tracing::warn!(id = record.id, %error, "a stored exception is not honoured; revoke it with `airlock exceptions revoke`");
                        return None;
                    }
                };
                exception.id = Some(record.id);
                Some(exception)
            })
            .collect();
        let denials = self
            .store
            .denials()
            .await?
            .into_iter()
            .filter_map(|record| {
                Some(Rule {
                    spec: parse_stored(&record.spec)?,
                    reason: record.reason,
                    author: Some(record.author),
                    id: Some(record.id),
                })
            })
            .collect();
        let file_policy = Policy::clone(&read(&self.file_policy));
        let mut current = write(&self.current);
        *current = (
            Arc::new(file_policy.with_admin_rules(exceptions, denials)),
            current.1 + 1,
        );
        Ok(())
    }
}

fn parse_stored(spec: &str) -> Option<PackageSpec> {
    PackageSpec::parse(spec)
        .inspect_err(
            |error| tracing::warn!(%spec, %error, "skipping a stored rule that no longer parses"),
        )
        .ok()
}

fn read_policy(path: &Path) -> Result<(Policy, Option<SystemTime>), PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.to_owned(),
        source,
    })?;
    let modified = std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok();
    let policy = Policy::from_toml(&text).map_err(|source| PolicyError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    Ok((policy, modified))
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
