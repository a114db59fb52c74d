//! The content-addressed blob store.
//!
//! A blob's path is derived from its digest, so a hit needs no database lookup. Bytes
//! are written to `tmp/` while they are hashed, flushed to disk, and renamed into
//! place only when the digest matches what the registry promised; a mismatch or a
//! crash leaves nothing under `blobs/`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use airlock_npm::{Integrity, IntegrityHasher};
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::Error;

/// The blob layout version, part of every blob path.
const LAYOUT: &str = "v1";

#[derive(Clone, Debug)]
pub struct BlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
}

impl BlobStore {
    pub(crate) async fn open(root: &Path) -> Result<Self, Error> {
        let store = Self {
            blobs: root.join("blobs").join(LAYOUT),
            tmp: root.join("tmp"),
        };
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::DataDir { path, source }
        };
        // Partial downloads from a previous run are never resumed: they were not
        // verified, so they are simply dropped.
        match tokio::fs::remove_dir_all(&store.tmp).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io(&store.tmp)(error)),
        }
        tokio::fs::create_dir_all(&store.tmp)
            .await
            .map_err(io(&store.tmp))?;
        tokio::fs::create_dir_all(&store.blobs)
            .await
            .map_err(io(&store.blobs))?;
        Ok(store)
    }

    /// Where the blob with this digest lives (whether or not it exists yet).
    pub fn path(&self, integrity: &Integrity) -> PathBuf {
        let hex = integrity.hex_digest();
        self.blobs
            .join(integrity.algorithm().as_str())
            .join(&hex[..2])
            .join(hex)
    }

    /// Removes the blob stored under `key` (`sha512/<hex>`, as the tarball
    /// records name it); its size, or `None` when there was none. A key of any
    /// other shape names no blob and removes nothing.
    pub fn remove_key(&self, key: &str) -> std::io::Result<Option<u64>> {
        let Some((algorithm, hex)) = key.split_once('/') else {
            return Ok(None);
        };
        let known = matches!(algorithm, "sha512" | "sha384" | "sha256" | "sha1");
        if !known || hex.len() < 8 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let path = self.blobs.join(algorithm).join(&hex[..2]).join(hex);
        let size = match std::fs::metadata(&path) {
            Ok(metadata) => metadata.len(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(Some(size)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The blob's size, when it is stored.
    pub async fn size(&self, integrity: &Integrity) -> Option<u64> {
        let metadata = tokio::fs::metadata(self.path(integrity)).await.ok()?;
        metadata.is_file().then_some(metadata.len())
    }

    /// How many blobs are stored and their total size in bytes: a walk of the
    /// directory, so callers run it off the request path and not often.
    pub fn usage(&self) -> (u64, u64) {
        fn walk(dir: &Path, usage: &mut (u64, u64)) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => walk(&entry.path(), usage),
                    Ok(kind) if kind.is_file() => {
                        usage.0 += 1;
                        usage.1 += entry.metadata().map_or(0, |metadata| metadata.len());
                    }
                    _ => {}
                }
            }
        }
        let mut usage = (0, 0);
        walk(&self.blobs, &mut usage);
        usage
    }

    /// Starts writing a blob that must hash to `expected`.
    pub async fn writer(&self, expected: &Integrity) -> Result<BlobWriter, Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let temp = self.tmp.join(format!(
            "{}-{}.part",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = match tokio::fs::File::create(&temp).await {
            // `tmp/` removed under a running server (a cleanup script, an
            // operator): make it again rather than fail every download.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                tokio::fs::create_dir_all(&self.tmp)
                    .await
                    .map_err(|source| Error::DataDir {
                        path: self.tmp.clone(),
                        source,
                    })?;
                tracing::warn!(path = %self.tmp.display(), "the blob store's tmp/ was missing; made it again");
                tokio::fs::File::create(&temp).await
            }
            created => created,
        }
        .map_err(|source| Error::Blob {
            path: temp.clone(),
            source,
        })?;
        Ok(BlobWriter {
            file: BufWriter::with_capacity(64 * 1024, file),
            temp: TempGuard(Some(temp)),
            hasher: expected.hasher(),
            expected: expected.clone(),
            destination: self.path(expected),
            size: 0,
        })
    }
}

/// A blob being written. Dropping it without [`BlobWriter::finish`] removes the
/// partial file.
pub struct BlobWriter {
    file: BufWriter<tokio::fs::File>,
    temp: TempGuard,
    hasher: IntegrityHasher,
    expected: Integrity,
    destination: PathBuf,
    size: u64,
}

impl BlobWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.file
            .write_all(chunk)
            .await
            .map_err(|source| self.temp.error(source))
    }

    /// Checks the digest and moves the blob into place; returns its size.
    pub async fn finish(mut self) -> Result<u64, Error> {
        let actual = self.hasher.finish();
        if actual != self.expected {
            return Err(Error::IntegrityMismatch {
                expected: self.expected.to_string(),
                actual: actual.to_string(),
            });
        }
        self.file
            .flush()
            .await
            .map_err(|source| self.temp.error(source))?;
        self.file
            .get_ref()
            .sync_all()
            .await
            .map_err(|source| self.temp.error(source))?;
        let parent = self.destination.parent().expect("blob paths have a parent");
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| Error::Blob {
                path: parent.to_owned(),
                source,
            })?;
        let temp = self
            .temp
            .0
            .clone()
            .expect("the temp file exists until finish");
        tokio::fs::rename(&temp, &self.destination)
            .await
            .map_err(|source| Error::Blob {
                path: self.destination.clone(),
                source,
            })?;
        // Renamed into place: nothing is left for the guard to remove.
        self.temp.0 = None;
        Ok(self.size)
    }
}

struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn error(&self, source: std::io::Error) -> Error {
        Error::Blob {
            path: self.0.clone().unwrap_or_default(),
            source,
        }
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrity_of(bytes: &[u8]) -> Integrity {
        let mut hasher = IntegrityHasher::new(airlock_npm::Algorithm::Sha512);
        hasher.update(bytes);
        hasher.finish()
    }

    fn entries(path: &Path) -> usize {
        std::fs::read_dir(path).unwrap().count()
    }

    #[tokio::test]
    async fn verified_blobs_land_and_mismatches_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let good = integrity_of(b"tarball");

        let mut writer = store.writer(&good).await.unwrap();
        writer.write(b"tar").await.unwrap();
        writer.write(b"ball").await.unwrap();
        assert_eq!(writer.finish().await.unwrap(), 7);
        assert_eq!(std::fs::read(store.path(&good)).unwrap(), b"tarball");
        assert_eq!(store.size(&good).await, Some(7));

        let wanted = integrity_of(b"something else");
        let mut writer = store.writer(&wanted).await.unwrap();
        writer.write(b"evil").await.unwrap();
        let error = writer.finish().await.unwrap_err();
        assert!(matches!(error, Error::IntegrityMismatch { .. }));
        assert_eq!(store.size(&wanted).await, None);
        assert_eq!(entries(&dir.path().join("tmp")), 0);
    }

    #[tokio::test]
    async fn abandoned_writes_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let integrity = integrity_of(b"x");
        let mut writer = store.writer(&integrity).await.unwrap();
        writer.write(b"x").await.unwrap();
        drop(writer);
        assert_eq!(entries(&dir.path().join("tmp")), 0);
        assert_eq!(store.size(&integrity).await, None);
    }

    #[tokio::test]
    async fn a_tmp_directory_removed_while_running_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        std::fs::remove_dir_all(dir.path().join("tmp")).unwrap();
        let integrity = integrity_of(b"after");
        let mut writer = store.writer(&integrity).await.unwrap();
        writer.write(b"after").await.unwrap();
        assert_eq!(writer.finish().await.unwrap(), 5);
        assert_eq!(store.size(&integrity).await, Some(5));
    }

    #[tokio::test]
    async fn leftovers_of_a_killed_process_are_cleared_at_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        std::fs::write(dir.path().join("tmp/123-0.part"), b"half").unwrap();
        BlobStore::open(dir.path()).await.unwrap();
        assert_eq!(entries(&dir.path().join("tmp")), 0);
    }
}
