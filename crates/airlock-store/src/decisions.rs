//! Decisions: the rules people add at run time (approvals and denials), and the
//! gate's latest decision about each version.

use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::{Error, Store};

/// An approval as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub id: i64,
    pub spec: String,
    pub reason: String,
    pub author: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A denial as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenialRecord {
    pub id: i64,
    pub spec: String,
    pub reason: String,
    pub author: String,
    pub created_at: i64,
}

/// The latest decision about one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionRecord {
    pub name: String,
    pub version: String,
    pub verdict: String,
    pub until: Option<i64>,
    pub codes: String,
    /// The whole decision, as JSON.
    pub decision: String,
    pub policy_digest: String,
    pub decided_at: i64,
}

impl Store {
    pub async fn add_exception(
        &self,
        spec: &str,
        reason: &str,
        author: &str,
        created_at: i64,
        expires_at: Option<i64>,
    ) -> Result<i64, Error> {
        let row = sqlx::query(
            "INSERT INTO exceptions (spec, reason, author, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(spec)
        .bind(reason)
        .bind(author)
        .bind(created_at)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get("id"))
    }

    /// Exceptions not revoked (expired ones included: they stop applying by themselves).
    pub async fn exceptions(&self) -> Result<Vec<ExceptionRecord>, Error> {
        let rows = sqlx::query(
            "SELECT id, spec, reason, author, created_at, expires_at FROM exceptions WHERE revoked_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ExceptionRecord {
                id: row.get("id"),
                spec: row.get("spec"),
                reason: row.get("reason"),
                author: row.get("author"),
                created_at: row.get("created_at"),
                expires_at: row.get("expires_at"),
            })
            .collect())
    }

    /// Revokes an exception; `false` when there is no such active exception.
    pub async fn revoke_exception(&self, id: i64, at: i64) -> Result<bool, Error> {
        let result =
            sqlx::query("UPDATE exceptions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Lifts a denial; `false` when there is no such active denial.
    pub async fn revoke_denial(&self, id: i64, at: i64) -> Result<bool, Error> {
        let result =
            sqlx::query("UPDATE denials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn add_denial(
        &self,
        spec: &str,
        reason: &str,
        author: &str,
        created_at: i64,
    ) -> Result<i64, Error> {
        let row = sqlx::query("INSERT INTO denials (spec, reason, author, created_at) VALUES (?, ?, ?, ?) RETURNING id")
            .bind(spec)
            .bind(reason)
            .bind(author)
            .bind(created_at)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get("id"))
    }

    pub async fn denials(&self) -> Result<Vec<DenialRecord>, Error> {
        let rows =
            sqlx::query("SELECT id, spec, reason, author, created_at FROM denials WHERE revoked_at IS NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|row| DenialRecord {
                id: row.get("id"),
                spec: row.get("spec"),
                reason: row.get("reason"),
                author: row.get("author"),
                created_at: row.get("created_at"),
            })
            .collect())
    }

    /// Stores the latest decisions for versions, in one transaction.
    pub async fn record_decisions(&self, records: &[DecisionRecord]) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        for record in records {
            sqlx::query(
                "INSERT INTO decisions (name, version, verdict, until, codes, decision, policy_digest, decided_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (name, version) DO UPDATE SET verdict = excluded.verdict, until = excluded.until,
                   codes = excluded.codes, decision = excluded.decision,
                   policy_digest = excluded.policy_digest, decided_at = excluded.decided_at",
            )
            .bind(&record.name)
            .bind(&record.version)
            .bind(&record.verdict)
            .bind(record.until)
            .bind(&record.codes)
            .bind(&record.decision)
            .bind(&record.policy_digest)
            .bind(record.decided_at)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Versions whose latest decision is a quarantine that has not ended at `now`.
    pub async fn quarantined(&self, now: i64) -> Result<Vec<DecisionRecord>, Error> {
        let rows = sqlx::query(
            "SELECT * FROM decisions WHERE verdict = 'quarantine' AND (until IS NULL OR until > ?)
             ORDER BY until IS NULL, until, name, version",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(decision_record).collect())
    }

    pub async fn decision(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<DecisionRecord>, Error> {
        let row = sqlx::query("SELECT * FROM decisions WHERE name = ? AND version = ?")
            .bind(name)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(decision_record))
    }
}

fn decision_record(row: &SqliteRow) -> DecisionRecord {
    DecisionRecord {
        name: row.get("name"),
        version: row.get("version"),
        verdict: row.get("verdict"),
        until: row.get("until"),
        codes: row.get("codes"),
        decision: row.get("decision"),
        policy_digest: row.get("policy_digest"),
        decided_at: row.get("decided_at"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exceptions_and_quarantines() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let id = store
            .add_exception("a@1.0.0", "ok", "alice", 1, Some(100))
            .await
            .unwrap();
        assert_eq!(store.exceptions().await.unwrap()[0].expires_at, Some(100));
        assert!(store.revoke_exception(id, 5).await.unwrap());
        assert!(!store.revoke_exception(id, 6).await.unwrap());
        assert!(store.exceptions().await.unwrap().is_empty());

        let record = |version: &str, verdict: &str, until| DecisionRecord {
            name: "a".into(),
            version: version.into(),
            verdict: verdict.into(),
            until,
            codes: "release-age".into(),
            decision: "{}".into(),
            policy_digest: "d".into(),
            decided_at: 1,
        };
        store
            .record_decisions(&[
                record("1.0.0", "quarantine", Some(50)),
                record("2.0.0", "quarantine", Some(500)),
                record("3.0.0", "allow", None),
            ])
            .await
            .unwrap();
        let waiting: Vec<String> = store
            .quarantined(100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(waiting, ["2.0.0"]);
        store
            .record_decisions(&[record("2.0.0", "allow", None)])
            .await
            .unwrap();
        assert!(store.quarantined(100).await.unwrap().is_empty());
    }
}
