//! The download log writer.
//!
//! Every tarball request that names a version is recorded: who, when, what, and the
//! decision. A record is committed before the tarball leaves: `append` waits for
//! the commit, so a process killed right after serving has logged what it served,
//! and a database that refuses the write (a full disk) refuses the download too.
//! One task writes the records: whatever arrived while the previous commit ran goes
//! in the next (group commit), so waiting costs one commit, not one per request.

use std::time::Duration;

use airlock_store::{DownloadRecord, Store};
use tokio::sync::{mpsc, oneshot};

use crate::error::ErrorChain;

const QUEUE: usize = 4_096;
const BATCH: usize = 2_048;
/// Pauses before retrying a commit that failed: a locked or briefly full disk.
const RETRIES: [Duration; 3] = [
    Duration::from_millis(20),
    Duration::from_millis(100),
    Duration::from_millis(500),
];

// Records are the common case; boxing them would cost an allocation each.
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every message is a record"
)]
enum Message {
    Record(DownloadRecord, oneshot::Sender<bool>),
    Flush(oneshot::Sender<()>),
}

/// The download record could not be committed.
#[derive(Debug)]
pub(crate) struct NotRecorded;

/// Appends to the download log.
#[derive(Clone)]
pub struct DownloadLog {
    sender: mpsc::Sender<Message>,
}

impl DownloadLog {
    pub(crate) fn start(store: Store) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, receiver));
        Self { sender }
    }

    /// Appends `record` and waits until it is committed.
    pub(crate) async fn append(&self, record: DownloadRecord) -> Result<(), NotRecorded> {
        let (done, committed) = oneshot::channel();
        if self
            .sender
            .send(Message::Record(record, done))
            .await
            .is_err()
        {
            tracing::error!("the download log writer has stopped; a download was not recorded");
            return Err(NotRecorded);
        }
        match committed.await {
            Ok(true) => Ok(()),
            _ => Err(NotRecorded),
        }
    }

    /// Records sent and not yet committed.
    pub(crate) fn backlog(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Waits until everything appended so far is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Message>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut committed = Vec::with_capacity(BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Record(record, done) => {
                    batch.push(record);
                    committed.push(done);
                }
                // A flush ends the batch: someone is waiting to read.
                Message::Flush(done) => waiting.push(done),
            }
            next = if batch.len() >= BATCH || !waiting.is_empty() {
                None
            } else {
                receiver.try_recv().ok()
            };
        }
        if !batch.is_empty() {
            let written = commit(&store, &batch).await;
            for done in committed.drain(..) {
                let _ = done.send(written);
            }
            batch.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Commits `batch`, retrying a failure a few times; whether it was written.
async fn commit(store: &Store, batch: &[DownloadRecord]) -> bool {
    let mut pauses = RETRIES.iter();
    loop {
        let Err(error) = store.append_downloads(batch).await else {
            return true;
        };
        if let Some(pause) = pauses.next() {
            tracing::warn!(error = %ErrorChain(&error), records = batch.len(), ?pause, "could not write download records; retrying");
            tokio::time::sleep(*pause).await;
            continue;
        }
        for record in batch {
            crate::metrics::download_log_failure();
            tracing::error!(
                error = %ErrorChain(&error),
                package = %record.name,
                version = %record.version,
                client = ?record.client,
                at = record.at,
                "could not write a download record"
            );
        }
        return false;
    }
}
