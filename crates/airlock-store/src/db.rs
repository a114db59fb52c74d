//! The SQLite side of the store.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use airlock_npm::Integrity;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::guard::{Files, Running};
use crate::{BlobStore, Error};

/// The on-disk format this build reads and writes. Bump it when a change cannot be
/// expressed as a migration (the blob layout, say).
const FORMAT: u32 = 1;
const FORMAT_FILE: &str = "FORMAT";

/// A packument as last fetched from upstream.
#[derive(Clone, Debug)]
pub struct StoredPackument {
    /// The JSON as the upstream sent it (kept compressed on disk).
    pub body: bytes::Bytes,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Unix milliseconds of the last fetch or successful revalidation.
    pub fetched_at: i64,
}

/// A verified blob and the version it was fetched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarballRecord {
    pub integrity: String,
    pub name: String,
    pub version: String,
    pub size: i64,
    pub stored_at: i64,
}

/// The data directory, opened.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    blobs: BlobStore,
    root: PathBuf,
    pub(crate) journal: Arc<crate::DownloadJournal>,
    /// Held by every clone: the running marker goes when the last one does.
    running: Arc<Running>,
}

impl Store {
    /// Opens (or creates) the data directory at `root`: checks its format, opens the
    /// database, applies pending migrations and clears partial downloads.
    pub async fn open(root: &Path) -> Result<Self, Error> {
        let data_dir = |source| Error::DataDir {
            path: root.to_owned(),
            source,
        };
        tokio::fs::create_dir_all(root).await.map_err(data_dir)?;
        check_format(root).await?;
        let files = Files::of(root);
        files.check_before_open()?;

        let path = files.database.clone();
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| Error::Open {
                path: path.clone(),
                source,
            })?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| Error::Open { path, source })?;
        migrator().run(&pool).await.map_err(Error::Migrate)?;
        let running = Arc::new(files.check_identity(&pool).await?);

        let blobs = BlobStore::open(root).await?;
        let journal = Arc::new(crate::DownloadJournal::open(root)?);
        Ok(Self {
            pool,
            blobs,
            root: root.to_owned(),
            journal,
            running,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The size in bytes of the database and its write-ahead log.
    pub fn database_bytes(&self) -> u64 {
        let database = crate::guard::DATABASE;
        [
            database.to_owned(),
            format!("{database}-wal"),
            format!("{database}-shm"),
        ]
        .iter()
        .filter_map(|file| std::fs::metadata(self.root.join(file)).ok())
        .map(|metadata| metadata.len())
        .sum()
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the database cleanly: its write-ahead log is checkpointed into the
    /// file and removed, and the data directory no longer says it is open.
    pub async fn close(self) {
        self.pool.close().await;
        // Closed for every clone: a clone a task still holds (and that a process
        // exit never drops) must not leave the marker that says a crash left
        // writes in the log.
        self.running.release();
    }

    /// Writes a consistent copy of the database to `to` while it is in use
    /// (`VACUUM INTO`: SQLite's online copy, compacted). Refuses an existing file.
    pub async fn backup(&self, to: &Path) -> Result<(), Error> {
        if to.exists() {
            return Err(Error::DataDir {
                path: to.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the backup file exists; pick a new name",
                ),
            });
        }
        sqlx::query("VACUUM INTO ?")
            .bind(to.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts `backup` (a file `airlock backup` wrote) in place as the database of
    /// the data directory `root`, or with `None` starts over empty; the database
    /// there is set aside as `airlock.db.replaced-<unix seconds>`. No Airlock may
    /// have the directory open.
    pub fn restore(root: &Path, backup: Option<&Path>) -> Result<Option<PathBuf>, Error> {
        let files = Files::of(root);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::DataDir { path, source }
        };
        if let Some(pid) = files.open_elsewhere().first() {
            return Err(Error::DataDir {
                path: files.database.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::ResourceBusy,
                    format!("Airlock (process {pid}) has this database open; stop it first"),
                ),
            });
        }
        if let Some(backup) = backup {
            check_sqlite_file(backup)?;
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let aside = root.join(format!("airlock.db.replaced-{stamp}"));
        let set_aside = match std::fs::rename(&files.database, &aside) {
            Ok(()) => Some(aside),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(io(&files.database)(source)),
        };
        files.forget()?;
        if let Some(backup) = backup {
            let temporary = root.join("airlock.db.restoring");
            std::fs::copy(backup, &temporary).map_err(io(backup))?;
            std::fs::rename(&temporary, &files.database).map_err(io(&files.database))?;
        }
        Ok(set_aside)
    }
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub async fn packument(&self, name: &str) -> Result<Option<StoredPackument>, Error> {
        let row = sqlx::query(
            "SELECT body, etag, last_modified, fetched_at FROM packuments WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| StoredPackument {
            body: stored_body(row.get("body")),
            etag: row.get("etag"),
            last_modified: row.get("last_modified"),
            fetched_at: row.get("fetched_at"),
        }))
    }

    /// The stored packuments among `names`, in one query.
    pub async fn packuments(
        &self,
        names: &[&str],
    ) -> Result<Vec<(String, StoredPackument)>, Error> {
        let names = serde_json::to_string(names).expect("a list of strings serialises");
        let rows = sqlx::query(
            "SELECT name, body, etag, last_modified, fetched_at FROM packuments
             WHERE name IN (SELECT value FROM json_each(?))",
        )
        .bind(names)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let packument = StoredPackument {
                    body: stored_body(row.get("body")),
                    etag: row.get("etag"),
                    last_modified: row.get("last_modified"),
                    fetched_at: row.get("fetched_at"),
                };
                (row.get("name"), packument)
            })
            .collect())
    }

    /// Stores a packument, gzip-compressed (level 1: a 20 MB packument takes tens of
    /// milliseconds, off the async threads, and keeps about a tenth of its bytes;
    /// the database holds, and SQLite is handed, that tenth rather than copies of
    /// the whole).
    pub async fn put_packument(
        &self,
        name: &str,
        packument: &StoredPackument,
    ) -> Result<(), Error> {
        let plain = packument.body.clone();
        // (A join error means the runtime is shutting down: compress here then.)
        let body = tokio::task::spawn_blocking(move || compress(&plain))
            .await
            .unwrap_or_else(|_| compress(&packument.body));
        sqlx::query(
            "INSERT INTO packuments (name, body, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, etag = excluded.etag,
               last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
        )
        .bind(name)
        .bind(body)
        .bind(&packument.etag)
        .bind(&packument.last_modified)
        .bind(packument.fetched_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a packument the upstream no longer has, so it is not served from here.
    pub async fn delete_packument(&self, name: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM packuments WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a successful revalidation (upstream answered 304).
    pub async fn touch_packument(&self, name: &str, fetched_at: i64) -> Result<(), Error> {
        sqlx::query("UPDATE packuments SET fetched_at = ? WHERE name = ?")
            .bind(fetched_at)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn put_tarball(&self, record: &TarballRecord) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO tarballs (integrity, name, version, size, stored_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (integrity) DO NOTHING",
        )
        .bind(&record.integrity)
        .bind(&record.name)
        .bind(&record.version)
        .bind(record.size)
        .bind(record.stored_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn tarball(&self, integrity: &Integrity) -> Result<Option<TarballRecord>, Error> {
        let row = sqlx::query(
            "SELECT integrity, name, version, size, stored_at FROM tarballs WHERE integrity = ?",
        )
        .bind(integrity.storage_key())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| TarballRecord {
            integrity: row.get("integrity"),
            name: row.get("name"),
            version: row.get("version"),
            size: row.get("size"),
            stored_at: row.get("stored_at"),
        }))
    }
}

/// The embedded migrations, in order. sqlx records applied ones (with checksums) in
/// `_sqlx_migrations`, the same table on SQLite and PostgreSQL.
fn migrator() -> Migrator {
    let migrations = [
        (1, "cache", include_str!("../migrations/0001_cache.sql")),
        (
            2,
            "decisions",
            include_str!("../migrations/0002_decisions.sql"),
        ),
        (
            3,
            "advisories",
            include_str!("../migrations/0003_advisories.sql"),
        ),
        (
            4,
            "analyses",
            include_str!("../migrations/0004_analyses.sql"),
        ),
        (
            5,
            "provenance",
            include_str!("../migrations/0005_provenance.sql"),
        ),
        (
            6,
            "identity",
            include_str!("../migrations/0006_identity.sql"),
        ),
        (
            7,
            "retention",
            include_str!("../migrations/0007_retention.sql"),
        ),
        (
            8,
            "download journal",
            include_str!("../migrations/0008_download_journal.sql"),
        ),
    ];
    Migrator::with_migrations(
        migrations
            .into_iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// Whether `path` is a SQLite database file (its 16-byte header).
fn check_sqlite_file(path: &Path) -> Result<(), Error> {
    let mut header = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header));
    match read {
        Ok(()) if &header == b"SQLite format 3\0" => Ok(()),
        Ok(()) => Err(Error::DataDir {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a SQLite database (a file `airlock backup` wrote is one)",
            ),
        }),
        Err(source) => Err(Error::DataDir {
            path: path.to_owned(),
            source,
        }),
    }
}

async fn check_format(root: &Path) -> Result<(), Error> {
    let path = root.join(FORMAT_FILE);
    let io = |source| Error::DataDir {
        path: path.clone(),
        source,
    };
    match tokio::fs::read_to_string(&path).await {
        Ok(found) => {
            if found.trim() != FORMAT.to_string() {
                return Err(Error::Format {
                    path: root.to_owned(),
                    found: found.trim().to_owned(),
                    expected: FORMAT,
                });
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            tokio::fs::write(&path, format!("{FORMAT}\n"))
                .await
                .map_err(io)
        }
        Err(error) => Err(io(error)),
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn compress(plain: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 8),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(plain)
        .and_then(|()| encoder.finish())
        .expect("writing to memory does not fail")
}

/// A stored body: gzip as written since packuments were compressed, the plain JSON
/// of rows written before (JSON never starts with the gzip magic). A row that does
/// not inflate is returned as stored, and fails to parse as a packument, which
/// sends the server upstream for a fresh copy.
fn stored_body(stored: Vec<u8>) -> bytes::Bytes {
    if !stored.starts_with(&GZIP_MAGIC) {
        return stored.into();
    }
    let mut plain = Vec::with_capacity(stored.len() * 8);
    match std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&stored[..]), &mut plain) {
        Ok(_) => plain.into(),
        Err(_) => stored.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &[u8]) -> StoredPackument {
        StoredPackument {
            body: bytes::Bytes::copy_from_slice(body),
            etag: None,
            last_modified: None,
            fetched_at: 1,
        }
    }

    fn is_lost(result: Result<Store, Error>) -> String {
        match result {
            Err(error @ Error::DatabaseLost { .. }) => error.to_string(),
            Err(other) => panic!("another error: {other}"),
            Ok(_) => panic!("a lost database was opened as if nothing happened"),
        }
    }

    use crate::guard::DATABASE as DATABASE_FILE;

    #[tokio::test]
    async fn a_deleted_or_emptied_database_is_refused_not_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.put_packument("demo", &stored(b"{}")).await.unwrap();
        store.close().await;
        let database = dir.path().join(DATABASE_FILE);

        std::fs::write(&database, b"").unwrap();
        let message = is_lost(Store::open(dir.path()).await);
        assert!(
            message.contains("is empty") && message.contains("airlock restore"),
            "{message}"
        );

        std::fs::remove_file(&database).unwrap();
        let message = is_lost(Store::open(dir.path()).await);
        assert!(message.contains("is missing"), "{message}");

        // Another data directory's database, put in its place, is not this one.
        let other = tempfile::tempdir().unwrap();
        Store::open(other.path()).await.unwrap().close().await;
        std::fs::copy(other.path().join(DATABASE_FILE), &database).unwrap();
        let message = is_lost(Store::open(dir.path()).await);
        assert!(message.contains("id differs"), "{message}");
    }

    #[tokio::test]
    async fn a_write_ahead_log_lost_after_a_crash_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.put_packument("demo", &stored(b"{}")).await.unwrap();
        // A crash: the process never closes the database.
        std::mem::forget(store);
        let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
        assert!(wal.exists(), "an open database in WAL mode has its log");
        std::fs::remove_file(&wal).unwrap();
        let message = is_lost(Store::open(dir.path()).await);
        assert!(message.contains("write-ahead log"), "{message}");
    }

    #[tokio::test]
    async fn a_close_with_a_clone_still_held_is_clean() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.put_packument("demo", &stored(b"{}")).await.unwrap();
        // A task still holds a clone when the command closes the store and the
        // process exits (the clone is never dropped).
        std::mem::forget(store.clone());
        store.close().await;
        let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
        assert!(
            !wal.exists(),
            "a clean close checkpoints and removes the log"
        );
        let reopened = Store::open(dir.path()).await.unwrap();
        assert!(reopened.packument("demo").await.unwrap().is_some());

        // An old clone dropped after a reopen by the same process leaves the new
        // store's marker (same name: same process) in place.
        let old = reopened.clone();
        reopened.close().await;
        let again = Store::open(dir.path()).await.unwrap();
        drop(old);
        let marker = dir
            .path()
            .join(format!("airlock.db.running.{}", std::process::id()));
        assert!(marker.exists(), "the open store's marker stays");
        again.close().await;
        assert!(!marker.exists());
    }

    #[tokio::test]
    async fn backups_restore_and_a_clean_close_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.put_packument("demo", &stored(b"kept")).await.unwrap();
        let backup = dir.path().join("backup.db");
        store.backup(&backup).await.unwrap();
        assert!(
            store.backup(&backup).await.is_err(),
            "an existing file is not overwritten"
        );
        store.put_packument("later", &stored(b"x")).await.unwrap();
        store.close().await;
        // A clean stop reopens as it was.
        let store = Store::open(dir.path()).await.unwrap();
        assert!(store.packument("later").await.unwrap().is_some());
        store.close().await;

        std::fs::write(dir.path().join(DATABASE_FILE), b"").unwrap();
        is_lost(Store::open(dir.path()).await);
        assert!(
            Store::restore(dir.path(), Some(&dir.path().join("FORMAT"))).is_err(),
            "not a database"
        );
        let aside = Store::restore(dir.path(), Some(&backup)).unwrap();
        assert!(aside.is_some_and(|path| path.exists()));
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(
            &store.packument("demo").await.unwrap().unwrap().body[..],
            b"kept"
        );
        assert!(store.packument("later").await.unwrap().is_none());
        store.close().await;

        std::fs::remove_file(dir.path().join(DATABASE_FILE)).unwrap();
        is_lost(Store::open(dir.path()).await);
        Store::restore(dir.path(), None).unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert!(
            store.packument("demo").await.unwrap().is_none(),
            "started over empty, knowingly"
        );
    }

    #[tokio::test]
    async fn packuments_round_trip_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert!(store.packument("a").await.unwrap().is_none());
        let packument = StoredPackument {
            body: bytes::Bytes::from_static(b"{}"),
            etag: Some("\"1\"".into()),
            last_modified: None,
            fetched_at: 5,
        };
        store.put_packument("a", &packument).await.unwrap();
        store.touch_packument("a", 9).await.unwrap();
        drop(store);
        let store = Store::open(dir.path()).await.unwrap();
        let stored = store.packument("a").await.unwrap().unwrap();
        assert_eq!((&stored.body[..], stored.fetched_at), (&b"{}"[..], 9));
        assert_eq!(stored.etag.as_deref(), Some("\"1\""));
    }

    #[tokio::test]
    async fn packuments_are_kept_compressed_and_plain_rows_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let json: String = std::iter::once("{\"versions\":{".to_owned())
            .chain(
                (0..2_000)
                    .map(|n| format!("\"1.0.{n}\":{{\"name\":\"big\",\"version\":\"1.0.{n}\"}},")),
            )
            .chain(std::iter::once("\"2.0.0\":{}}}".to_owned()))
            .collect();
        store
            .put_packument("big", &stored(json.as_bytes()))
            .await
            .unwrap();
        let raw: Vec<u8> = sqlx::query_scalar("SELECT body FROM packuments WHERE name = 'big'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(raw.starts_with(&GZIP_MAGIC), "stored compressed");
        assert!(
            raw.len() * 5 < json.len(),
            "{} of {}",
            raw.len(),
            json.len()
        );
        assert_eq!(
            &store.packument("big").await.unwrap().unwrap().body[..],
            json.as_bytes()
        );
        // A row an earlier Airlock wrote, plain.
        sqlx::query("INSERT INTO packuments (name, body, fetched_at) VALUES ('old', ?, 3)")
            .bind(&b"{\"name\":\"old\"}"[..])
            .execute(&store.pool)
            .await
            .unwrap();
        let loaded = store.packuments(&["old", "big"]).await.unwrap();
        let body = |name: &str| {
            loaded
                .iter()
                .find(|(found, _)| found == name)
                .map(|(_, stored)| stored.body.clone())
                .unwrap()
        };
        assert_eq!(&body("old")[..], b"{\"name\":\"old\"}");
        assert_eq!(&body("big")[..], json.as_bytes());
    }

    #[tokio::test]
    async fn packuments_load_in_one_query_and_skip_unknown_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        for (name, fetched_at) in [("a", 1), ("@s/b", 2), ("c\"d", 3)] {
            let packument = StoredPackument {
                body: bytes::Bytes::copy_from_slice(name.as_bytes()),
                etag: None,
                last_modified: None,
                fetched_at,
            };
            store.put_packument(name, &packument).await.unwrap();
        }
        let mut loaded = store
            .packuments(&["@s/b", "missing", "c\"d", "a"])
            .await
            .unwrap();
        loaded.sort_by_key(|(_, stored)| stored.fetched_at);
        let loaded: Vec<(&str, &[u8])> = loaded
            .iter()
            .map(|(name, stored)| (name.as_str(), &stored.body[..]))
            .collect();
        assert_eq!(
            loaded,
            [("a", &b"a"[..]), ("@s/b", b"@s/b"), ("c\"d", b"c\"d")]
        );
        assert!(store.packuments(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn refuses_a_newer_format() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FORMAT_FILE), "99\n").unwrap();
        let error = Store::open(dir.path()).await.unwrap_err().to_string();
        assert!(error.contains("holds format 99"), "{error}");
    }
}
