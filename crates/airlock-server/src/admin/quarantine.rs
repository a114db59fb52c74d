//! The quarantine queue: every version waiting, with why and until when.

use airlock_npm::{PackageName, Timestamp};
use airlock_policy::Decision;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState};

/// One version waiting in quarantine.
#[derive(Debug, Serialize, Deserialize)]
pub struct QuarantineView {
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub codes: Vec<String>,
    pub decision: Decision,
    /// When the decision was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<String>,
}

pub(crate) async fn list_quarantine(
    State(state): State<AppState>,
) -> Result<Json<Vec<QuarantineView>>, ApiError> {
    let now = state.clock().now();
    let records = state
        .inner
        .store
        .quarantined(now.unix_millis())
        .await
        .map_err(|error| ApiError::internal("reading the quarantine", &error))?;
    let (policy, _) = state.policy().current();
    let mut waiting = Vec::with_capacity(records.len());
    for record in records {
        let Ok(name) = PackageName::new(&record.name) else {
            continue;
        };
        // A decision recorded before an approval may still say "quarantine".
        let approved = policy.exceptions().iter().any(|exception| {
            exception.is_active(now) && exception.spec.matches(&name, &record.version)
        });
        let Ok(decision) = serde_json::from_str::<Decision>(&record.decision) else {
            continue;
        };
        if approved {
            continue;
        }
        waiting.push(QuarantineView {
            package: record.name,
            version: record.version,
            until: record
                .until
                .map(|at| Timestamp::from_unix_millis(at).to_string()),
            codes: record
                .codes
                .split(',')
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
                .collect(),
            decision,
            decided: Some(Timestamp::from_unix_millis(record.decided_at).to_string()),
        });
    }
    Ok(Json(waiting))
}
