//! The advisories in force: imported OSV records, rebuilt into an `AdvisorySet`.
//!
//! An import parses every record first and stores nothing unless all of them parse,
//! so a broken file leaves the previous set in force. Each import replaces the records
//! of its source (a path or label); records from different sources coexist, and the
//! set merges duplicates. Every change bumps the generation, which invalidates cached
//! decisions, so a newly known-malicious version is refused on the very next request,
//! cached or not.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use airlock_advisory::{Advisory, AdvisorySet, parse_record};
use airlock_npm::Timestamp;
use airlock_store::Store;
use serde::{Deserialize, Serialize};

use crate::error::ErrorChain;

/// Why an import took nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Invalid(#[from] airlock_advisory::Error),

    #[error("a record in `{0}` is not UTF-8 text")]
    NotText(String),

    #[error("could not store the advisories")]
    Store(#[from] airlock_store::Error),
}

/// What an import did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportReport {
    pub source: String,
    /// npm advisories taken from this source.
    pub imported: usize,
    /// Records skipped: withdrawn, or naming no npm package.
    pub skipped: usize,
    /// Advisories in force after the import, from every source.
    pub total: usize,
}

/// One advisory source in force: how many records it holds and when it was last
/// imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub source: String,
    pub records: usize,
    /// The last successful import (RFC 3339).
    pub imported_at: String,
    /// Unix milliseconds of the same, for gauges.
    #[serde(skip)]
    pub imported_ms: i64,
}

pub struct AdvisoryHandle {
    /// The set and its generation, swapped together.
    current: RwLock<(Arc<AdvisorySet>, u64)>,
    /// Every source in force, by name.
    sources: RwLock<Vec<SourceStatus>>,
    /// Serialises imports and reloads, so an older snapshot never wins.
    reloading: tokio::sync::Mutex<()>,
    store: Store,
    /// When the newest stored record was imported (Unix milliseconds; 0: never).
    last_import: AtomicI64,
}

impl AdvisoryHandle {
    /// Loads the stored records. A stored record that no longer parses is skipped with
    /// a warning rather than taking every advisory down with it.
    pub async fn load(store: Store) -> Result<Self, airlock_store::Error> {
        let handle = Self {
            current: RwLock::new((Arc::new(AdvisorySet::default()), 1)),
            sources: RwLock::new(Vec::new()),
            reloading: tokio::sync::Mutex::new(()),
            store,
            last_import: AtomicI64::new(0),
        };
        handle.reload().await?;
        Ok(handle)
    }

    pub fn current(&self) -> (Arc<AdvisorySet>, u64) {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Every source in force, with its record count and last import.
    pub fn sources(&self) -> Vec<SourceStatus> {
        self.sources
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// When advisories were last imported (Unix milliseconds), if ever.
    pub fn last_import(&self) -> Option<i64> {
        Some(self.last_import.load(Ordering::Relaxed)).filter(|&at| at > 0)
    }

    /// Imports `records` (`(name, bytes)`, one OSV record each) as the whole content
    /// of `source` at `now`; returns the advisories taken, for exposure checks.
    pub async fn import(
        &self,
        source: &str,
        records: Vec<(String, Vec<u8>)>,
        now: Timestamp,
    ) -> Result<(ImportReport, Vec<Advisory>), ImportError> {
        let mut kept = Vec::with_capacity(records.len());
        let mut advisories = Vec::with_capacity(records.len());
        let mut skipped = 0;
        for (name, bytes) in records {
            match parse_record(&bytes, &name)? {
                Some(advisory) => {
                    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotText(name))?;
                    kept.push((advisory.id.clone(), text));
                    advisories.push(advisory);
                }
                None => skipped += 1,
            }
        }
        self.store
            .replace_advisories(source, &kept, now.unix_millis())
            .await?;
        self.reload().await?;
        let report = ImportReport {
            source: source.to_owned(),
            imported: kept.len(),
            skipped,
            total: self.current().0.len(),
        };
        tracing::info!(
            source,
            imported = report.imported,
            skipped,
            total = report.total,
            "advisories imported"
        );
        Ok((report, advisories))
    }

    async fn reload(&self) -> Result<(), airlock_store::Error> {
        let _one_at_a_time = self.reloading.lock().await;
        self.rebuild().await
    }

    async fn rebuild(&self) -> Result<(), airlock_store::Error> {
        let records = self.store.advisories().await?;
        let newest = records.iter().map(|record| record.imported_at).max();
        self.last_import
            .store(newest.unwrap_or(0), Ordering::Relaxed);
        let mut sources: Vec<SourceStatus> = Vec::new();
        for record in &records {
            match sources
                .iter_mut()
                .find(|status| status.source == record.source)
            {
                Some(status) => {
                    status.records += 1;
                    status.imported_ms = status.imported_ms.max(record.imported_at);
                }
                None => sources.push(SourceStatus {
                    source: record.source.clone(),
                    records: 1,
                    imported_at: String::new(),
                    imported_ms: record.imported_at,
                }),
            }
        }
        for status in &mut sources {
            status.imported_at = Timestamp::from_unix_millis(status.imported_ms).to_string();
        }
        *self
            .sources
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = sources;
        let advisories = records
            .into_iter()
            .filter_map(|record| {
                let name = format!("{}:{}", record.source, record.id);
                parse_record(record.record.as_bytes(), &name)
                    .inspect_err(|error| tracing::warn!(error = %ErrorChain(error), "skipping a stored advisory"))
                    .ok()
                    .flatten()
            })
            .collect();
        let mut current = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = (Arc::new(AdvisorySet::new(advisories)), current.1 + 1);
        Ok(())
    }
}
