//! The download log writer.
//!
//! Every tarball request that names a version is recorded: who, when, what, and the
//! decision. A record is in the store's download journal before the tarball leaves:
//! `append` writes it (one `write`, no commit to wait for), so a process killed
//! right after serving has logged what it served, and a disk that refuses the write
//! refuses the download too. While Airlock serves, a task folds the journal into
//! the database's download log every `FOLD_EVERY`, and `flush` folds at once for a
//! reader that wants every record so far. A fold the database refuses leaves the records in the journal for
//! the next one: they are never lost, only late.

use std::sync::Arc;
use std::time::Duration;

use airlock_npm::Clock;
use airlock_store::{DownloadRecord, Store};

use crate::error::ErrorChain;

const FOLD_EVERY: Duration = Duration::from_millis(500);

/// The download record could not be written.
#[derive(Debug)]
pub(crate) struct NotRecorded;

/// Appends to the download log.
#[derive(Clone)]
pub struct DownloadLog {
    store: Store,
    clock: Clock,
    /// One fold at a time in this process.
    folding: Arc<tokio::sync::Mutex<()>>,
}

impl DownloadLog {
    /// The log. Records are folded into the database by `flush`, and every
    /// `FOLD_EVERY` once [`DownloadLog::fold_in_background`] runs (the server);
    /// the first fold takes in what an earlier process that was killed left.
    pub(crate) fn start(store: Store, clock: Clock) -> Self {
        Self {
            store,
            clock,
            folding: Arc::default(),
        }
    }

    /// Folds the journal every `FOLD_EVERY` until the runtime ends: for a server,
    /// not for one-shot commands, which flush when they read the log.
    pub fn fold_in_background(&self) {
        let folder = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(FOLD_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                folder.fold().await;
            }
        });
    }

    /// Appends `record` to the journal; an error when it could not be written.
    pub(crate) fn append(&self, record: &DownloadRecord) -> Result<(), NotRecorded> {
        self.store.journal().append(record).map_err(|error| {
            crate::metrics::download_log_failure();
            tracing::error!(
                %error,
                package = %record.name,
                version = %record.version,
                client = ?record.client,
                at = record.at,
                "could not write a download record"
            );
            NotRecorded
        })
    }

    /// Records written and not yet in the database.
    pub fn backlog(&self) -> usize {
        self.store.journal().unfolded()
    }

    /// Folds everything appended so far into the database (when it accepts it).
    pub async fn flush(&self) {
        self.fold().await;
    }

    async fn fold(&self) {
        let _one = self.folding.lock().await;
        match self
            .store
            .fold_download_journal(self.clock.now_millis())
            .await
        {
            Ok(folded) if folded.skipped_lines > 0 => {
                tracing::warn!(
                    records = folded.records,
                    skipped = folded.skipped_lines,
                    "folded the download journal; some lines were not records"
                );
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %ErrorChain(&error), backlog = self.backlog(), "could not fold the download journal into the database; its records wait on disk for the next try");
            }
        }
    }
}
