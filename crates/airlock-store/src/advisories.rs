//! Imported advisories and recorded takedowns.

use sqlx::Row as _;

use crate::{Error, Store};

/// One stored OSV record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvisoryRecord {
    pub source: String,
    pub id: String,
    pub record: String,
    pub imported_at: i64,
}

/// A version the upstream removed after Airlock stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakedownRecord {
    pub name: String,
    pub version: String,
    pub kind: String,
    pub noticed_at: i64,
}

impl Store {
    /// Replaces every record of `source` with `records` (`(id, json)`), atomically.
    pub async fn replace_advisories(
        &self,
        source: &str,
        records: &[(String, String)],
        at: i64,
    ) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM advisories WHERE source = ?")
            .bind(source)
            .execute(&mut *transaction)
            .await?;
        for (id, record) in records {
            sqlx::query(
                "INSERT INTO advisories (source, id, record, imported_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (source, id) DO UPDATE SET record = excluded.record",
            )
            .bind(source)
            .bind(id)
            .bind(record)
            .bind(at)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    pub async fn advisories(&self) -> Result<Vec<AdvisoryRecord>, Error> {
        let rows = sqlx::query(
            "SELECT source, id, record, imported_at FROM advisories ORDER BY source, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| AdvisoryRecord {
                source: row.get("source"),
                id: row.get("id"),
                record: row.get("record"),
                imported_at: row.get("imported_at"),
            })
            .collect())
    }

    /// Records a takedown; `true` when it is new.
    pub async fn record_takedown(
        &self,
        name: &str,
        version: &str,
        kind: &str,
        at: i64,
    ) -> Result<bool, Error> {
        let result = sqlx::query(
            "INSERT INTO takedowns (name, version, kind, noticed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(version)
        .bind(kind)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn takedown(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<TakedownRecord>, Error> {
        let row = sqlx::query(
            "SELECT name, version, kind, noticed_at FROM takedowns WHERE name = ? AND version = ?",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(takedown_record))
    }

    pub async fn takedowns(&self) -> Result<Vec<TakedownRecord>, Error> {
        let rows = sqlx::query("SELECT name, version, kind, noticed_at FROM takedowns ORDER BY noticed_at, name, version")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(takedown_record).collect())
    }

    /// The versions of `name` whose tarballs are in the store.
    pub async fn stored_versions(&self, name: &str) -> Result<Vec<String>, Error> {
        let rows =
            sqlx::query("SELECT DISTINCT version FROM tarballs WHERE name = ? ORDER BY version")
                .bind(name)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(|row| row.get("version")).collect())
    }
}

fn takedown_record(row: &sqlx::sqlite::SqliteRow) -> TakedownRecord {
    TakedownRecord {
        name: row.get("name"),
        version: row.get("version"),
        kind: row.get("kind"),
        noticed_at: row.get("noticed_at"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn imports_replace_their_source_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let record = |id: &str| (id.to_owned(), format!("{{\"id\":\"{id}\"}}"));
        store
            .replace_advisories("a", &[record("MAL-1"), record("MAL-2")], 1)
            .await
            .unwrap();
        store
            .replace_advisories("b", &[record("GHSA-1")], 1)
            .await
            .unwrap();
        store
            .replace_advisories("a", &[record("MAL-3")], 2)
            .await
            .unwrap();
        let ids: Vec<String> = store
            .advisories()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["MAL-3", "GHSA-1"]);
    }

    #[tokio::test]
    async fn takedowns_are_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert!(
            store
                .record_takedown("a", "1.0.0", "removed", 5)
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_takedown("a", "1.0.0", "removed", 9)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .takedown("a", "1.0.0")
                .await
                .unwrap()
                .unwrap()
                .noticed_at,
            5
        );
        assert_eq!(store.takedowns().await.unwrap().len(), 1);
    }
}
