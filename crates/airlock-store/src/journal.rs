//! The download journal: download records written to a file before a tarball leaves,
//! folded into the database's download log in batches.
//!
//! One `write` of one line to a file opened for appending survives the process being
//! killed as well as a database commit does (the database runs with `synchronous =
//! NORMAL`: neither waits for the disk), and costs microseconds where a commit that
//! a request must wait for costs about a millisecond. A full disk fails the write,
//! and the caller refuses to serve what it cannot log.
//!
//! ```text
//! journal/<process>-<n>.jsonl   one JSON download record per line
//! ```
//!
//! Each process appends to a segment of its own, created at its first record and
//! held under an exclusive file lock while it is written. `seal` starts the next
//! segment; `fold` reads every segment no process holds (this process's sealed ones,
//! and whatever a killed process left), inserts its records and the segment's name
//! in one transaction, then removes the file. A segment's name is inserted once, so
//! its records are too, even when two processes fold at the same moment or a process
//! dies between the commit and the removal.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::{DownloadRecord, Error, Store};

const EXTENSION: &str = "jsonl";
/// Records inserted per statement while folding (eleven values each).
const PER_STATEMENT: usize = 500;
/// How long a folded segment's name is remembered after its file is gone: far longer
/// than a fold that raced it could still be running.
const REMEMBER_FOLDED_MS: i64 = 24 * 60 * 60 * 1000;

/// This process's side of the journal.
#[derive(Debug)]
pub struct DownloadJournal {
    dir: PathBuf,
    /// Names this process's segments apart from other processes' (and from its own
    /// earlier runs with the same pid).
    process: String,
    next: AtomicU64,
    active: RwLock<Option<Active>>,
    /// Records written and not yet folded, by this process.
    unfolded: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct Active {
    name: String,
    file: File,
    records: AtomicUsize,
}

/// What one fold did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Folded {
    pub segments: usize,
    pub records: usize,
    /// Lines that were not a record: the torn tail of a write that failed.
    pub skipped_lines: usize,
}

impl DownloadJournal {
    pub(crate) fn open(root: &Path) -> Result<Self, Error> {
        let dir = root.join("journal");
        std::fs::create_dir_all(&dir).map_err(|source| Error::DataDir {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            process: process_tag(),
            next: AtomicU64::new(0),
            active: RwLock::new(None),
            unfolded: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Writes `record` as one line of the active segment. When that fails (a full
    /// disk), the segment is sealed so that a torn line ends it, and the error is
    /// returned: the record is not logged.
    pub fn append(&self, record: &DownloadRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let written = {
            let active = self
                .active
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            active.as_ref().map(|active| {
                (&active.file).write_all(&line)?;
                active.records.fetch_add(1, Ordering::Relaxed);
                Ok(())
            })
        };
        let result = match written {
            Some(result) => result,
            None => self.start_segment_and_write(&line),
        };
        match result {
            Ok(()) => {
                self.unfolded.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(error) => {
                self.abandon_active();
                Err(error)
            }
        }
    }

    /// Records this process wrote that are not yet in the database.
    pub fn unfolded(&self) -> usize {
        self.unfolded.load(Ordering::Relaxed)
    }

    /// Ends the active segment if it holds a record: the next record starts a new
    /// one, and this one can be folded.
    pub fn seal(&self) {
        let mut active = self
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if active
            .as_ref()
            .is_some_and(|active| active.records.load(Ordering::Relaxed) > 0)
        {
            *active = None;
        }
    }

    fn start_segment_and_write(&self, line: &[u8]) -> std::io::Result<()> {
        let mut active = self
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if active.is_none() {
            *active = Some(self.create_segment()?);
        }
        let active = active.as_ref().expect("made above");
        (&active.file).write_all(line)?;
        active.records.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn create_segment(&self) -> std::io::Result<Active> {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{number:08}.{EXTENSION}", self.process);
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.dir.join(&name))?;
        file.lock()?;
        Ok(Active {
            name,
            file,
            records: AtomicUsize::new(0),
        })
    }

    /// Drops the active segment after a failed write (it may end in a torn line).
    fn abandon_active(&self) {
        *self
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn active_name(&self) -> Option<String> {
        self.active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|active| active.name.clone())
    }

    /// Segments no process is writing, oldest first by name.
    fn sealed(&self) -> std::io::Result<Vec<PathBuf>> {
        let active = self.active_name();
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|name| name.to_str());
            if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION)
                || name.is_none()
                || name == active.as_deref()
            {
                continue;
            }
            paths.push(path);
        }
        paths.sort();
        Ok(paths)
    }
}

impl Store {
    /// This process's download journal.
    pub fn journal(&self) -> &DownloadJournal {
        &self.journal
    }

    /// Seals this process's active segment and folds every sealed segment into the
    /// download log. `now` (Unix milliseconds) dates the fold. A segment that cannot
    /// be folded (the database refuses the write) stays on disk for the next fold.
    pub async fn fold_download_journal(&self, now: i64) -> Result<Folded, Error> {
        self.journal.seal();
        let paths = self.journal.sealed().map_err(|source| Error::DataDir {
            path: self.journal.dir.clone(),
            source,
        })?;
        let mut folded = Folded::default();
        for path in paths {
            let Some(segment) = Segment::claim(&path)? else {
                continue;
            };
            let name = segment.name.clone();
            let (segment, read) = tokio::task::spawn_blocking(move || {
                let read = segment.read();
                (segment, read)
            })
            .await
            .expect("reading a journal segment does not panic");
            let read = read?;
            if self.insert_segment(&name, &read.records, now).await? {
                folded.records += read.records.len();
                folded.segments += 1;
                if name.starts_with(&self.journal.process) {
                    let mine = &self.journal.unfolded;
                    let _ = mine.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        Some(n.saturating_sub(read.records.len()))
                    });
                }
            }
            folded.skipped_lines += read.skipped_lines;
            segment.remove();
        }
        Ok(folded)
    }

    /// Inserts a segment's records unless the segment was folded before; whether it
    /// inserted them.
    async fn insert_segment(
        &self,
        segment: &str,
        records: &[DownloadRecord],
        now: i64,
    ) -> Result<bool, Error> {
        let mut transaction = self.pool.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO download_journal_folded (segment, folded_at) VALUES (?, ?) ON CONFLICT (segment) DO NOTHING",
        )
        .bind(segment)
        .bind(now)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            for chunk in records.chunks(PER_STATEMENT) {
                crate::downloads::insert_downloads(chunk)
                    .build()
                    .execute(&mut *transaction)
                    .await?;
            }
        }
        sqlx::query("DELETE FROM download_journal_folded WHERE folded_at < ?")
            .bind(now - REMEMBER_FOLDED_MS)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(fresh)
    }
}

/// A sealed segment this process holds the lock of while folding it.
struct Segment {
    path: PathBuf,
    name: String,
    file: File,
}

struct Read {
    records: Vec<DownloadRecord>,
    skipped_lines: usize,
}

impl Segment {
    /// The segment at `path`, locked, or `None` when another process holds it (its
    /// active segment, or its own fold) or it is already gone.
    fn claim(path: &Path) -> Result<Option<Self>, Error> {
        let io = |source| Error::DataDir {
            path: path.to_owned(),
            source,
        };
        let file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(error)),
        };
        let metadata = file.metadata().map_err(io)?;
        if !metadata.is_file() {
            set_aside(path, "is not a regular file");
            return Ok(None);
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(error)) => return Err(io(error)),
        }
        // Removed by a fold that finished between our open and our lock.
        if !path.exists() {
            return Ok(None);
        }
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        Ok(Some(Self {
            path: path.to_owned(),
            name,
            file,
        }))
    }

    fn read(&self) -> Result<Read, Error> {
        let mut read = Read {
            records: Vec::new(),
            skipped_lines: 0,
        };
        for line in BufReader::new(&self.file).split(b'\n') {
            let line = line.map_err(|source| Error::DataDir {
                path: self.path.clone(),
                source,
            })?;
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice(&line) {
                Ok(record) => read.records.push(record),
                Err(error) => {
                    tracing::warn!(segment = %self.path.display(), %error, "a download journal line is not a record (the torn end of a failed write?); skipped");
                    read.skipped_lines += 1;
                }
            }
        }
        Ok(read)
    }

    /// Removes the folded file (the lock goes with the handle).
    fn remove(self) {
        if let Err(error) = std::fs::remove_file(&self.path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(segment = %self.path.display(), %error, "could not remove a folded download journal segment; it will not be folded twice");
        }
    }
}

/// Renames something that cannot be a segment out of the way, saying so.
fn set_aside(path: &Path, why: &str) {
    let aside = path.with_extension("not-a-segment");
    match std::fs::rename(path, &aside) {
        Ok(()) => {
            tracing::error!(path = %path.display(), aside = %aside.display(), "a download journal entry {why}; set aside");
        }
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "a download journal entry {why} and could not be set aside");
        }
    }
}

/// A tag unique to this process: its pid and the time it opened the journal (the
/// time only tells apart two runs that had the same pid, as containers do).
fn process_tag() -> String {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{started:x}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: &str) -> DownloadRecord {
        DownloadRecord {
            at: 1,
            name: "demo".into(),
            version: version.into(),
            integrity: None,
            verdict: "allow".into(),
            codes: String::new(),
            served: true,
            client: None,
            user_agent: None,
            token_name: None,
            policy_digest: None,
        }
    }

    fn segments(dir: &Path) -> Vec<PathBuf> {
        let mut paths: Vec<_> = std::fs::read_dir(dir.join("journal"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        paths
    }

    #[tokio::test]
    async fn records_reach_the_log_once_when_folded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert!(
            segments(dir.path()).is_empty(),
            "no segment before a record"
        );
        for version in ["1.0.0", "1.0.1"] {
            store.journal().append(&record(version)).unwrap();
        }
        assert_eq!(store.journal().unfolded(), 2);
        assert!(store.downloads("demo", None).await.unwrap().is_empty());
        let folded = store.fold_download_journal(10).await.unwrap();
        assert_eq!((folded.segments, folded.records), (1, 2));
        assert_eq!(store.journal().unfolded(), 0);
        assert!(
            segments(dir.path()).is_empty(),
            "the folded segment is gone"
        );
        store.journal().append(&record("1.0.2")).unwrap();
        store.fold_download_journal(20).await.unwrap();
        let versions: Vec<_> = store
            .downloads("demo", None)
            .await
            .unwrap()
            .into_iter()
            .map(|record| record.version)
            .collect();
        assert_eq!(versions, ["1.0.0", "1.0.1", "1.0.2"]);
    }

    /// A process killed after the commit and before the removal leaves a segment
    /// that was folded: the next fold removes it without inserting its records again.
    #[tokio::test]
    async fn a_segment_folded_before_is_not_folded_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.journal().append(&record("1.0.0")).unwrap();
        store.journal().seal();
        let [segment] = &segments(dir.path())[..] else {
            panic!("one segment")
        };
        let kept = std::fs::read(segment).unwrap();
        store.fold_download_journal(10).await.unwrap();
        std::fs::write(segment, kept).unwrap();
        let again = store.fold_download_journal(20).await.unwrap();
        assert_eq!(again.records, 0);
        assert!(segments(dir.path()).is_empty());
        assert_eq!(store.downloads("demo", None).await.unwrap().len(), 1);
    }

    /// What a killed process left is folded by the next one; a segment another live
    /// process is writing is left alone; a torn last line is skipped.
    #[tokio::test]
    async fn leftovers_are_folded_and_live_segments_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let journal = dir.path().join("journal");
        let line = serde_json::to_string(&record("0.9.0")).unwrap();
        std::fs::write(
            journal.join("dead-00000000.jsonl"),
            format!("{line}\n{{\"at\":1,\"na"),
        )
        .unwrap();
        let held_path = journal.join("live-00000000.jsonl");
        std::fs::write(&held_path, format!("{line}\n")).unwrap();
        let held = File::open(&held_path).unwrap();
        held.lock().unwrap();

        let folded = store.fold_download_journal(10).await.unwrap();
        assert_eq!(
            folded,
            Folded {
                segments: 1,
                records: 1,
                skipped_lines: 1
            }
        );
        assert_eq!(segments(dir.path()), std::slice::from_ref(&held_path));
        drop(held);
        let folded = store.fold_download_journal(20).await.unwrap();
        assert_eq!(folded.records, 1, "folded once its writer let go");
        assert_eq!(store.downloads("demo", None).await.unwrap().len(), 2);
    }

    /// A write that fails (a full disk: here the segment is `/dev/full`) is an error
    /// for the caller, and the next record goes to a new segment.
    #[tokio::test]
    async fn a_failed_write_is_an_error_and_the_next_record_starts_a_new_segment() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let journal = store.journal();
        let full = dir
            .path()
            .join("journal")
            .join(format!("{}-{:08}.{EXTENSION}", journal.process, 0));
        std::os::unix::fs::symlink("/dev/full", &full).unwrap();
        let error = journal.append(&record("1.0.0")).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull);
        journal.append(&record("1.0.1")).unwrap();
        let folded = store.fold_download_journal(10).await.unwrap();
        assert_eq!(folded.records, 1);
        assert!(
            dir.path()
                .join("journal")
                .join(format!("{}-{:08}.not-a-segment", journal.process, 0))
                .exists(),
            "the device was set aside, not read"
        );
        let versions: Vec<_> = store
            .downloads("demo", None)
            .await
            .unwrap()
            .into_iter()
            .map(|record| record.version)
            .collect();
        assert_eq!(versions, ["1.0.1"]);
    }
}
