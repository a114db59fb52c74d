//! Stored content analyses, keyed by tarball digest and analyser version.

use sqlx::Row as _;

use crate::{Error, Store};

/// One stored analysis; `findings` and `analysis` are JSON written by the analyser.
#[derive(Clone, Debug)]
pub struct AnalysisRecord {
    pub integrity: String,
    pub analyzer: i64,
    pub name: String,
    pub version: String,
    pub analysed_at: i64,
    pub took_ms: i64,
    pub findings: String,
    pub analysis: String,
}

impl Store {
    /// Stores an analysis; an existing one for the same digest and analyser is
    /// replaced (the newer one was made with more context, such as a diff).
    pub async fn put_analysis(&self, record: &AnalysisRecord) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO analyses (integrity, analyzer, name, version, analysed_at, took_ms, findings, analysis)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (integrity, analyzer) DO UPDATE SET
               analysed_at = excluded.analysed_at, took_ms = excluded.took_ms,
               findings = excluded.findings, analysis = excluded.analysis",
        )
        .bind(&record.integrity)
        .bind(record.analyzer)
        .bind(&record.name)
        .bind(&record.version)
        .bind(record.analysed_at)
        .bind(record.took_ms)
        .bind(&record.findings)
        .bind(&record.analysis)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The findings of every analysis made by `analyzer`: (digest key, findings JSON).
    pub async fn analysis_findings(&self, analyzer: i64) -> Result<Vec<(String, String)>, Error> {
        let rows = sqlx::query("SELECT integrity, findings FROM analyses WHERE analyzer = ?")
            .bind(analyzer)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get("integrity"), row.get("findings")))
            .collect())
    }

    /// The whole analysis of one tarball.
    pub async fn analysis(
        &self,
        integrity: &str,
        analyzer: i64,
    ) -> Result<Option<AnalysisRecord>, Error> {
        let row = sqlx::query(
            "SELECT integrity, analyzer, name, version, analysed_at, took_ms, findings, analysis
             FROM analyses WHERE integrity = ? AND analyzer = ?",
        )
        .bind(integrity)
        .bind(analyzer)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| AnalysisRecord {
            integrity: row.get("integrity"),
            analyzer: row.get("analyzer"),
            name: row.get("name"),
            version: row.get("version"),
            analysed_at: row.get("analysed_at"),
            took_ms: row.get("took_ms"),
            findings: row.get("findings"),
            analysis: row.get("analysis"),
        }))
    }
}
