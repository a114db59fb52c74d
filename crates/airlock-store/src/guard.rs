//! Guards against starting silently over lost state.
//!
//! A deleted, emptied or swapped database, or a write-ahead log removed after an
//! unclean stop, would otherwise open as a fresh (or older) database: approvals,
//! denials and the download log gone, and a denied version served again. So the
//! data directory keeps two files beside `airlock.db`:
//!
//! - `airlock.db.id`: the id stored in the database's `store_identity` table. A
//!   database that is missing, empty or carries another id is refused.
//! - `airlock.db.running.<pid>`: present while that process has the database
//!   open. Left behind by a crash (its process is gone), it says the write-ahead
//!   log (`airlock.db-wal`) holds committed writes; if that log is gone, they are
//!   lost, and the start is refused. Once a start has recovered the log, the
//!   crash's marker is cleared.
//!
//! Each refusal names the way out: `airlock restore BACKUP` puts a backup (made by
//! `airlock backup`) in place; `airlock restore --start-empty` sets the damaged
//! database aside and starts over knowingly.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

use sqlx::{Row, SqlitePool};

use crate::Error;

pub(crate) const DATABASE: &str = "airlock.db";
const IDENTITY: &str = "airlock.db.id";
const RUNNING: &str = "airlock.db.running.";

/// The database's companion files.
pub(crate) struct Files {
    pub(crate) database: PathBuf,
    root: PathBuf,
    identity: PathBuf,
    wal: PathBuf,
    blobs: PathBuf,
}

impl Files {
    pub(crate) fn of(root: &Path) -> Self {
        Self {
            database: root.join(DATABASE),
            root: root.to_owned(),
            identity: root.join(IDENTITY),
            wal: root.join(format!("{DATABASE}-wal")),
            blobs: root.join("blobs"),
        }
    }

    /// Before opening: refuses a database that is gone or empty while the data
    /// directory says it held state, and a write-ahead log lost after a crash.
    pub(crate) fn check_before_open(&self) -> Result<(), Error> {
        let size = std::fs::metadata(&self.database)
            .ok()
            .map(|meta| meta.len());
        let known = self.identity.exists();
        match size {
            None | Some(0) if known => {
                return Err(self.lost(if size.is_none() {
                    "is missing, but this data directory has used one (airlock.db.id)"
                } else {
                    "is empty, but this data directory has used one (airlock.db.id)"
                }));
            }
            None | Some(0) if holds_blobs(&self.blobs) => {
                return Err(self.lost(
                    "is missing or empty, but the blob store holds tarballs from earlier runs",
                ));
            }
            _ => {}
        }
        if size.is_some_and(|size| size > 0) && !self.crashed().is_empty() && !self.wal.exists() {
            return Err(self.lost(
                "was not closed cleanly and its write-ahead log (airlock.db-wal) is gone: the writes it held are lost",
            ));
        }
        Ok(())
    }

    /// After opening: checks (or, the first time, records) the database's id, and
    /// marks the database open until the returned marker is dropped.
    pub(crate) async fn check_identity(&self, pool: &SqlitePool) -> Result<Running, Error> {
        let stored: Option<String> = sqlx::query("SELECT id FROM store_identity LIMIT 1")
            .fetch_optional(pool)
            .await?
            .map(|row| row.get("id"));
        let expected = std::fs::read_to_string(&self.identity)
            .ok()
            .map(|text| text.trim().to_owned());
        match (stored, expected) {
            (Some(stored), Some(expected)) if stored != expected => {
                return Err(self.lost(
                    "is not the one this data directory was using (its id differs from airlock.db.id)",
                ));
            }
            (None, Some(_)) => {
                return Err(self.lost(
                    "was created afresh, but this data directory has used another (airlock.db.id)",
                ));
            }
            (Some(stored), None) => self.write_identity(&stored)?,
            (None, None) => {
                let id = new_id();
                sqlx::query("INSERT INTO store_identity (id) VALUES (?)")
                    .bind(&id)
                    .execute(pool)
                    .await?;
                self.write_identity(&id)?;
            }
            (Some(_), Some(_)) => {}
        }
        // The database is open: SQLite has replayed any log a crash left, so the
        // crash's markers have served their purpose.
        for marker in self.crashed() {
            let _ = std::fs::remove_file(marker);
        }
        let running = self.root.join(format!("{RUNNING}{}", std::process::id()));
        std::fs::write(&running, b"").map_err(|source| io_error(&running, source))?;
        Ok(Running(running, std::sync::atomic::AtomicBool::new(false)))
    }

    /// Other processes that have the database open now.
    pub(crate) fn open_elsewhere(&self) -> Vec<u32> {
        let known = Path::new("/proc").is_dir();
        self.markers()
            .into_iter()
            .filter(|(pid, _)| known && *pid != std::process::id() && process_alive(*pid))
            .map(|(pid, _)| pid)
            .collect()
    }

    /// Running markers of processes that are gone (or of this process's id, from
    /// before it opened the store: a container restarts with the same pid).
    fn crashed(&self) -> Vec<PathBuf> {
        self.markers()
            .into_iter()
            .filter(|(pid, _)| *pid == std::process::id() || !process_alive(*pid))
            .map(|(_, path)| path)
            .collect()
    }

    /// Every running marker in the data directory, with its process id.
    fn markers(&self) -> Vec<(u32, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let pid: u32 = name.strip_prefix(RUNNING)?.parse().ok()?;
                Some((pid, entry.path()))
            })
            .collect()
    }

    /// Forgets the markers: for `airlock restore`, which puts another database in
    /// place knowingly.
    pub(crate) fn forget(&self) -> Result<(), Error> {
        for marker in self.crashed() {
            let _ = std::fs::remove_file(marker);
        }
        for path in [&self.identity, &self.wal] {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(io_error(path, source)),
            }
        }
        let shm = self.database.with_file_name(format!("{DATABASE}-shm"));
        match std::fs::remove_file(&shm) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(io_error(&shm, source)),
        }
    }

    fn write_identity(&self, id: &str) -> Result<(), Error> {
        let temporary = self.identity.with_extension("id.tmp");
        std::fs::write(&temporary, format!("{id}\n"))
            .and_then(|()| std::fs::rename(&temporary, &self.identity))
            .map_err(|source| io_error(&self.identity, source))
    }

    fn lost(&self, reason: &'static str) -> Error {
        Error::DatabaseLost {
            path: self.database.clone(),
            reason,
        }
    }
}

/// `airlock.db.running` while the store is in use: removed when the last handle
/// of the store is dropped (the database closes with it), left behind by a crash.
#[derive(Debug)]
pub(crate) struct Running(PathBuf, std::sync::atomic::AtomicBool);

impl Running {
    /// The database is closed: the marker goes now, whoever still holds the store.
    /// Once only: a store reopened by the same process writes a marker of the same
    /// name, which an old clone's drop must not take away.
    pub(crate) fn release(&self) {
        if self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Err(error) = std::fs::remove_file(&self.0)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(%error, path = %self.0.display(), "could not remove the running marker");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.release();
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Whether process `pid` runs (Linux: `/proc/<pid>`; elsewhere every process
/// counts as running, so no marker is ever taken for a crash's).
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Whether the blob store holds any tarball.
fn holds_blobs(blobs: &Path) -> bool {
    fn any_file(dir: &Path, depth: u32) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|entry| {
            let path = entry.path();
            if path.is_dir() {
                depth < 4 && any_file(&path, depth + 1)
            } else {
                true
            }
        })
    }
    any_file(blobs, 0)
}

/// A fresh id: random per process, with the time and process id mixed in.
fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let random = RandomState::new().hash_one((nanos, std::process::id()));
    let more = RandomState::new().hash_one(random);
    format!("{random:016x}{more:016x}")
}
