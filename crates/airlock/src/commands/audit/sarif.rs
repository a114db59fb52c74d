//! `airlock audit --format sarif`: SARIF 2.1.0 for code scanning.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use airlock_lockfile::anomalies::AnomalyCode;
use airlock_policy::Severity;

use super::Row;

/// SARIF 2.1.0: one rule per code, one result per finding, located in its lockfile.
pub(super) fn sarif(findings: &[Row]) -> serde_json::Value {
    let codes: BTreeSet<&str> = findings
        .iter()
        .map(|finding| finding.code.as_str())
        .collect();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|code| {
            let description = airlock_policy::Code::parse(code)
                .map(airlock_policy::Code::description)
                .or_else(|| AnomalyCode::parse(code).map(AnomalyCode::describe))
                .unwrap_or("lockfile finding");
            serde_json::json!({
                "id": code,
                "name": code,
                "shortDescription": {"text": description},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|finding| {
            let mut region = serde_json::json!({});
            if let Some(line) = finding.line {
                region = serde_json::json!({"startLine": line});
            }
            let mut location = serde_json::json!({
                "physicalLocation": {"artifactLocation": {"uri": artifact_uri(&finding.file)}}
            });
            if finding.line.is_some() {
                location["physicalLocation"]["region"] = region;
            }
            serde_json::json!({
                "ruleId": finding.code,
                "level": level(finding.severity),
                "message": {"text": format!("{}@{}: {} Fix: {}", finding.package, finding.version, finding.why, finding.fix)},
                "locations": [location],
                "partialFingerprints": {"airlock/package": format!("{}@{}:{}", finding.package, finding.version, finding.code)},
                "properties": {"severity": finding.severity.name(), "package": finding.package, "version": finding.version},
            })
        })
        .collect();
    serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "airlock",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A lockfile's path as a SARIF artifact URI: relative to the current directory when
/// it is under it (code scanning maps those to the repository), percent-encoded.
pub(super) fn artifact_uri(file: &str) -> String {
    let path = std::path::Path::new(file);
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            path.strip_prefix(&cwd)
                .ok()
                .map(std::path::Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf());
    let text = relative.to_string_lossy().replace('\\', "/");
    let text = text.trim_start_matches("./");
    let mut uri = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~@".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    if text.starts_with('/') {
        format!("file://{uri}")
    } else {
        uri
    }
}

/// The SARIF level of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_uris_are_relative_and_encoded() {
        assert_eq!(
            artifact_uri("./apps/web app/package-lock.json"),
            "apps/web%20app/package-lock.json"
        );
        assert_eq!(
            artifact_uri("/elsewhere/yarn.lock"),
            "file:///elsewhere/yarn.lock"
        );
    }
}
