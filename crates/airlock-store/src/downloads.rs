//! The download log: one record per tarball request, served or refused, appended
//! and never changed (retention removes whole old records).

use sqlx::Row as _;

use crate::{Error, Store};

/// Eleven bound values per record; SQLite allows 32,766 per statement.
const DOWNLOADS_PER_STATEMENT: usize = 500;

/// One line of the download log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DownloadRecord {
    pub at: i64,
    pub name: String,
    pub version: String,
    pub integrity: Option<String>,
    pub verdict: String,
    pub codes: String,
    pub served: bool,
    pub client: Option<String>,
    pub user_agent: Option<String>,
    pub token_name: Option<String>,
    pub policy_digest: Option<String>,
}

impl Store {
    /// Appends download records: one multi-row statement per few hundred records, in
    /// one transaction, because a busy proxy writes thousands a second. A batch that
    /// fits one statement is that statement alone (atomic by itself): requests wait
    /// for this commit, and a transaction would add two round trips to it.
    pub async fn append_downloads(&self, records: &[DownloadRecord]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        if records.len() <= DOWNLOADS_PER_STATEMENT {
            insert_downloads(records)
                .build()
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        for chunk in records.chunks(DOWNLOADS_PER_STATEMENT) {
            insert_downloads(chunk)
                .build()
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Downloads of `name` (optionally one version), oldest first.
    /// Every (name, version) the download log says was served at least once.
    pub async fn served_versions(&self) -> Result<Vec<(String, String)>, Error> {
        let rows = sqlx::query("SELECT DISTINCT name, version FROM downloads WHERE served = 1")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| (row.get("name"), row.get("version")))
            .collect())
    }

    pub async fn downloads(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<DownloadRecord>, Error> {
        let rows = sqlx::query(
            "SELECT * FROM downloads WHERE name = ? AND (? IS NULL OR version = ?) ORDER BY at, id",
        )
        .bind(name)
        .bind(version)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| DownloadRecord {
                at: row.get("at"),
                name: row.get("name"),
                version: row.get("version"),
                integrity: row.get("integrity"),
                verdict: row.get("verdict"),
                codes: row.get("codes"),
                served: row.get("served"),
                client: row.get("client"),
                user_agent: row.get("user_agent"),
                token_name: row.get("token_name"),
                policy_digest: row.get("policy_digest"),
            })
            .collect())
    }
}

/// One multi-row `INSERT` of download records.
pub(crate) fn insert_downloads(records: &[DownloadRecord]) -> sqlx::QueryBuilder<sqlx::Sqlite> {
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO downloads (at, name, version, integrity, verdict, codes, served, client, user_agent, token_name, policy_digest) ",
    );
    insert.push_values(records, |mut row, record| {
        row.push_bind(record.at)
            .push_bind(&record.name)
            .push_bind(&record.version)
            .push_bind(&record.integrity)
            .push_bind(&record.verdict)
            .push_bind(&record.codes)
            .push_bind(record.served)
            .push_bind(&record.client)
            .push_bind(&record.user_agent)
            .push_bind(&record.token_name)
            .push_bind(&record.policy_digest);
    });
    insert
}

#[cfg(test)]
mod tests {
    use super::*;

    fn download(version: &str, at: i64) -> DownloadRecord {
        DownloadRecord {
            at,
            name: "demo".into(),
            version: version.into(),
            integrity: None,
            verdict: "allow".into(),
            codes: String::new(),
            served: true,
            client: Some("127.0.0.1:5000".into()),
            user_agent: Some("npm/11".into()),
            token_name: None,
            policy_digest: None,
        }
    }

    #[tokio::test]
    async fn the_download_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store
            .append_downloads(&[download("1.0.0", 1), download("1.1.0", 2)])
            .await
            .unwrap();
        assert_eq!(
            store.downloads("demo", Some("1.0.0")).await.unwrap().len(),
            1
        );
        assert_eq!(store.downloads("demo", None).await.unwrap().len(), 2);
        let tamper = sqlx::query("DELETE FROM downloads")
            .execute(&store.pool)
            .await;
        assert!(tamper.unwrap_err().to_string().contains("append-only"));
        let tamper = sqlx::query("UPDATE downloads SET client = 'x'")
            .execute(&store.pool)
            .await;
        assert!(tamper.unwrap_err().to_string().contains("append-only"));
    }

    #[tokio::test]
    async fn retention_removes_only_records_older_than_a_cutoff_that_never_moves_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store
            .append_downloads(&[download("1.0.0", 100), download("1.1.0", 200)])
            .await
            .unwrap();
        assert_eq!(store.forget_downloads_before(150).await.unwrap(), 1);
        let left = store.downloads("demo", None).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].version, "1.1.0");
        // Records past the cutoff stay append-only; the cutoff cannot be moved back.
        let tamper = sqlx::query("DELETE FROM downloads")
            .execute(&store.pool)
            .await;
        assert!(tamper.unwrap_err().to_string().contains("append-only"));
        let back = sqlx::query("UPDATE download_retention SET cutoff = 0")
            .execute(&store.pool)
            .await;
        assert!(back.unwrap_err().to_string().contains("only moves forward"));
        // An older cutoff asked later removes nothing and keeps the newer one.
        assert_eq!(store.forget_downloads_before(10).await.unwrap(), 0);
        assert_eq!(store.downloads("demo", None).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn download_records_come_back_exactly_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let odd = DownloadRecord {
            at: i64::from(i32::MAX) * 4,
            name: "demo".into(),
            version: "2.0.0-β.1".into(),
            integrity: Some("sha512-AAA+/=".into()),
            verdict: "block".into(),
            codes: "known-malicious,\"quoted\"".into(),
            served: false,
            client: None,
            user_agent: Some("ua with \\ backslash and \u{1f600}".into()),
            token_name: Some("ci".into()),
            policy_digest: Some("0".repeat(64)),
        };
        let mut records: Vec<DownloadRecord> = (0..3000)
            .map(|at| download(&format!("1.0.{at}"), at))
            .collect();
        records.insert(1234, odd);
        store.append_downloads(&records).await.unwrap();
        store.append_downloads(&[]).await.unwrap();
        assert_eq!(
            store.downloads("demo", None).await.unwrap(),
            records_sorted(&records)
        );
    }

    /// As the log lists them: oldest first, then in the order appended.
    fn records_sorted(records: &[DownloadRecord]) -> Vec<DownloadRecord> {
        let mut sorted = records.to_vec();
        sorted.sort_by_key(|record| record.at);
        sorted
    }
}
