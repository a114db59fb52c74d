//! Retention: what `airlock gc` may remove, and removing it.
//!
//! Blobs are a cache: a tarball removed here is fetched and verified again on its
//! next request. So a blob goes when nobody was served it for a while, unless the
//! upstream has taken its version down (then it is evidence, and the upstream no
//! longer has it). Analyses by older analyser versions are never read again. The
//! download log is the record: it goes only when asked, past an age the operator
//! names.

use sqlx::Row as _;

use crate::{Error, Store};

/// A stored tarball nobody was served since the cutoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdleBlob {
    /// The blob's storage key (`sha512/<hex>`).
    pub key: String,
    pub name: String,
    pub version: String,
    pub size: i64,
}

impl Store {
    /// Tarballs stored before `cutoff_ms` and not served since, excluding versions
    /// the upstream took down.
    pub async fn idle_blobs(&self, cutoff_ms: i64) -> Result<Vec<IdleBlob>, Error> {
        let rows = sqlx::query(
            "SELECT t.integrity, t.name, t.version, t.size FROM tarballs t
             WHERE t.stored_at < ?1
               AND NOT EXISTS (SELECT 1 FROM downloads d
                               WHERE d.name = t.name AND d.version = t.version
                                 AND d.served = 1 AND d.at >= ?1)
               AND NOT EXISTS (SELECT 1 FROM takedowns k
                               WHERE k.name = t.name AND k.version = t.version)
             ORDER BY t.stored_at",
        )
        .bind(cutoff_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| IdleBlob {
                key: row.get("integrity"),
                name: row.get("name"),
                version: row.get("version"),
                size: row.get("size"),
            })
            .collect())
    }

    /// Forgets the tarball record of `key` (its blob file is removed by the caller,
    /// after this: a record without a file is fetched again, never the reverse).
    pub async fn forget_tarball(&self, key: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM tarballs WHERE integrity = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes analyses made by analyser versions other than `current`; how many.
    pub async fn forget_old_analyses(&self, current: i64) -> Result<u64, Error> {
        let done = sqlx::query("DELETE FROM analyses WHERE analyzer <> ?")
            .bind(current)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes download records older than `cutoff_ms`; how many.
    /// The cutoff moves forward first (never back): the log's append-only trigger
    /// lets only records older than it go.
    pub async fn forget_downloads_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE download_retention SET cutoff = max(cutoff, ?) WHERE id = 1")
            .bind(cutoff_ms)
            .execute(&mut *transaction)
            .await?;
        let done = sqlx::query("DELETE FROM downloads WHERE at < ?")
            .bind(cutoff_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(done.rows_affected())
    }
}
