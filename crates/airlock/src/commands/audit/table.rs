//! `airlock audit`'s text report.

use std::fmt::Write as _;

use super::Report;
use super::critical::describe_critical;

/// The report as text: each lockfile, then the findings by severity, worst first.
pub(super) fn table(report: &Report) -> String {
    let mut out = String::new();
    for lockfile in &report.lockfiles {
        let _ = writeln!(
            out,
            "{}: {}, {} packages",
            lockfile.file, lockfile.format, lockfile.packages
        );
    }
    if report.findings.is_empty() {
        out.push_str("no findings: every locked version is allowed\n");
    }
    let mut current = None;
    for finding in &report.findings {
        if current != Some(finding.severity) {
            current = Some(finding.severity);
            let count = report
                .findings
                .iter()
                .filter(|other| other.severity == finding.severity)
                .count();
            let _ = writeln!(
                out,
                "\n{} ({count})",
                finding.severity.name().to_uppercase()
            );
        }
        let place = finding.line.map_or_else(
            || finding.file.clone(),
            |line| format!("{}:{line}", finding.file),
        );
        let _ = writeln!(
            out,
            "  {}@{}  {}  ({place})",
            finding.package, finding.version, finding.code
        );
        let _ = writeln!(out, "    why: {}", finding.why);
        let _ = writeln!(out, "    fix: {}", finding.fix);
    }
    if let Some(critical) = &report.critical {
        out.push_str(&describe_critical(critical));
    }
    out
}
