//! The download log writer.
//!
//! Every tarball request that names a version is recorded: who, when, what, and the
//! decision. Requests hand records to a channel; one task writes them in batches, so
//! the tarball path never waits on SQLite unless the log falls far behind (then it
//! waits rather than drop a record: the log must answer "who installed it?").

use airlock_store::{DownloadRecord, Store};
use tokio::sync::{mpsc, oneshot};

use crate::error::ErrorChain;

const QUEUE: usize = 4_096;
const BATCH: usize = 2_048;
/// How long the writer gathers records before a commit. Each commit rewrites the
/// table's and the index's last pages, so a few large commits cost far less than
/// many small ones; a reader that needs everything calls `flush`.
const GATHER: std::time::Duration = std::time::Duration::from_millis(50);

// Records are the common case; boxing them would cost an allocation each.
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every message is a record"
)]
enum Message {
    Record(DownloadRecord),
    Flush(oneshot::Sender<()>),
}

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

    pub(crate) async fn append(&self, record: DownloadRecord) {
        if self.sender.send(Message::Record(record)).await.is_err() {
            tracing::error!("the download log writer has stopped; a download was not recorded");
        }
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
    let mut waiting = Vec::new();
    while let Some(first) = receiver.recv().await {
        let deadline = tokio::time::Instant::now() + GATHER;
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Record(record) => batch.push(record),
                // A flush ends the gathering: someone is waiting to read.
                Message::Flush(done) => waiting.push(done),
            }
            next = if batch.len() >= BATCH || !waiting.is_empty() {
                None
            } else {
                tokio::time::timeout_at(deadline, receiver.recv())
                    .await
                    .ok()
                    .flatten()
            };
        }
        if !batch.is_empty() {
            if let Err(error) = store.append_downloads(&batch).await {
                for record in &batch {
                    tracing::error!(
                        error = %ErrorChain(&error),
                        package = %record.name,
                        version = %record.version,
                        client = ?record.client,
                        at = record.at,
                        "could not write a download record"
                    );
                }
            }
            batch.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
