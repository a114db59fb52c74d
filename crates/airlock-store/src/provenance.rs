//! Stored provenance checks, one per version and tarball digest.

use sqlx::Row as _;

use crate::{Error, Store};

/// One checked version; `detail` is JSON written by the verifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenanceRecord {
    pub name: String,
    pub version: String,
    pub integrity: String,
    pub outcome: String,
    pub detail: String,
    pub checked_at: i64,
}

impl Store {
    /// Stores a check; an earlier check of the same version and digest is replaced.
    pub async fn put_provenance(&self, record: &ProvenanceRecord) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO provenance (name, version, integrity, outcome, detail, checked_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (name, version, integrity) DO UPDATE SET
               outcome = excluded.outcome, detail = excluded.detail, checked_at = excluded.checked_at",
        )
        .bind(&record.name)
        .bind(&record.version)
        .bind(&record.integrity)
        .bind(&record.outcome)
        .bind(&record.detail)
        .bind(record.checked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every stored check.
    pub async fn provenance_records(&self) -> Result<Vec<ProvenanceRecord>, Error> {
        let rows = sqlx::query(
            "SELECT name, version, integrity, outcome, detail, checked_at FROM provenance",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ProvenanceRecord {
                name: row.get("name"),
                version: row.get("version"),
                integrity: row.get("integrity"),
                outcome: row.get("outcome"),
                detail: row.get("detail"),
                checked_at: row.get("checked_at"),
            })
            .collect())
    }
}
