//! `airlock audit [PATH...]`: lockfiles checked with the proxy's own decisions.
//!
//! Each lockfile becomes a graph (`airlock-lockfile`); every registry version in it
//! is decided by the same gate the proxy uses (here, or by `--server`), and the
//! lockfile itself is checked for what no install-time gate sees
//! (`airlock_lockfile::anomalies`: `resolved` URLs outside the registry, git / URL /
//! file sources, missing or different integrity, entries whose tarball is another
//! package than their label). This module orchestrates; the text report is in
//! `table.rs`, SARIF in `sarif.rs`, the CycloneDX SBOM in `cyclonedx.rs`, JSON is the
//! report serialised, and the crown-jewel ranking is in `critical.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use airlock_lockfile::anomalies::{self, Checks, RegistryFacts};
use airlock_lockfile::{FILE_NAMES, Graph, Locked, Source};
use airlock_npm::{Clock, Timestamp};
use airlock_policy::{Code, Decision, Severity, Verdict};
use airlock_server::audit::{AuditAnswer, AuditQuery, AuditRequest, AuditResponse};
use anyhow::{Context as _, bail};
use serde::Serialize;
use url::Url;

use crate::cli::{AuditArgs, AuditFormat, FailOn, ServerArgs};
use crate::commands::client::{AdminClient, print_json};

mod critical;
mod cyclonedx;
mod sarif;
mod table;

/// Versions decided per request, so progress can be shown between them.
const BATCH: usize = 64;

/// One row of the report.
#[derive(Clone, Debug, Serialize)]
struct Row {
    severity: Severity,
    /// A decision code (`release-age`, `known-malicious`, ...) or a lockfile
    /// anomaly (`lockfile-integrity-mismatch`, ...).
    code: String,
    package: String,
    version: String,
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    why: String,
    fix: String,
}

#[derive(Debug, Serialize)]
struct LockfileSummary {
    file: String,
    format: String,
    packages: usize,
    /// When the lockfile was last written: its last commit, else its modification
    /// time.
    #[serde(skip_serializing_if = "Option::is_none")]
    locked_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    lockfiles: Vec<LockfileSummary>,
    findings: Vec<Row>,
    #[serde(skip_serializing_if = "Option::is_none")]
    critical: Option<critical::Critical>,
}

/// What the gate answered for each locked (name, version).
type Answers = BTreeMap<(String, String), AuditAnswer>;

pub(crate) async fn run(args: AuditArgs, clock: Clock) -> anyhow::Result<ExitCode> {
    let files = find_lockfiles(&args.paths)?;
    let graphs = read_graphs(&files)?;
    let locked: Vec<Option<Timestamp>> = files.iter().map(|file| locked_at(file)).collect();
    let queries: Vec<AuditQuery> = registry_packages(&graphs)
        .into_iter()
        .map(|(name, version)| AuditQuery { name, version })
        .collect();
    let baseline = if args.baseline.is_empty() {
        BTreeSet::new()
    } else {
        registry_packages(&read_graphs(&find_lockfiles(&args.baseline)?)?)
    };
    let now = clock.now();
    let (answers, mut registries) = decide(&args, queries, &baseline, clock).await?;
    registries.extend(args.registries.iter().cloned());
    if let Some(server) = &args.server {
        registries.push(server.clone());
    }
    let answers: Answers = answers
        .into_iter()
        .map(|answer| ((answer.name.clone(), answer.version.clone()), answer))
        .collect();
    let mut findings = Vec::new();
    for (graph, locked_at) in graphs.iter().zip(&locked) {
        let checks = Checks {
            registries: &registries,
            locked_at: *locked_at,
        };
        findings.extend(findings_of(graph, &answers, &checks));
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| {
            (&a.file, &a.package, &a.version, &a.code)
                .cmp(&(&b.file, &b.package, &b.version, &b.code))
        })
    });
    let critical = args.critical.then(|| critical::critical(&graphs, &answers));
    if let (Some(path), Some(critical)) = (&args.write_policy, &critical) {
        critical::write_critical_gate(path, critical, &files)?;
    }
    let report = Report {
        lockfiles: graphs
            .iter()
            .zip(&locked)
            .map(|(graph, locked_at)| LockfileSummary {
                file: graph.file.clone(),
                format: graph.format.to_string(),
                packages: graph.packages.len(),
                locked_at: locked_at.map(|at| at.to_string()),
            })
            .collect(),
        findings,
        critical,
    };
    let failing = report
        .findings
        .iter()
        .any(|finding| reaches(finding.severity, args.fail_on));
    let summary = summary(&report, failing, args.fail_on);
    match args.format {
        AuditFormat::Table => print!("{}\n{summary}\n", table::table(&report)),
        // Standard output stays the document; the summary goes with the log.
        AuditFormat::Json => {
            print_json(&report)?;
            eprintln!("{summary}");
        }
        AuditFormat::Sarif => {
            print_json(&sarif::sarif(&report.findings))?;
            eprintln!("{summary}");
        }
        AuditFormat::Cyclonedx => {
            print_json(&cyclonedx::sbom(&graphs, &answers, now))?;
            eprintln!("{summary}");
        }
    }
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every lockfile in `files`, parsed.
fn read_graphs(files: &[PathBuf]) -> anyhow::Result<Vec<Graph>> {
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("could not read {}", file.display()))?;
            airlock_lockfile::parse(&file.display().to_string(), &text)
                .map_err(|error| anyhow::anyhow!("{error}"))
        })
        .collect()
}

/// The (name, version) of every package the lockfiles take from a registry.
fn registry_packages(graphs: &[Graph]) -> BTreeSet<(String, String)> {
    graphs
        .iter()
        .flat_map(|graph| &graph.packages)
        .filter(|package| package.source == Source::Registry)
        .map(|package| (package.name.clone(), package.version.clone()))
        .collect()
}

/// The lockfiles named, or found in the directories named (the current one when
/// none is).
fn find_lockfiles(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path);
            continue;
        }
        if !path.is_dir() {
            bail!("{} does not exist", path.display());
        }
        let found: Vec<PathBuf> = FILE_NAMES
            .iter()
            .map(|name| path.join(name))
            .filter(|file| file.is_file())
            .collect();
        if found.is_empty() {
            bail!(
                "no lockfile in {} (looked for {})\nhint: run your package manager's install once to write one",
                path.display(),
                FILE_NAMES.join(", ")
            );
        }
        files.extend(found);
    }
    Ok(files)
}

/// When `file` was last written: its last commit when it is in a git work tree
/// (a fresh checkout's modification times say nothing), else its modification time.
fn locked_at(file: &std::path::Path) -> Option<Timestamp> {
    let directory = file
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let committed = std::process::Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(["log", "-1", "--format=%cI", "--"])
        .arg(file.file_name()?)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| Timestamp::parse(String::from_utf8_lossy(&output.stdout).trim()));
    committed.or_else(|| {
        let modified = std::fs::metadata(file).ok()?.modified().ok()?;
        let millis = modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis();
        Some(Timestamp::from_unix_millis(i64::try_from(millis).ok()?))
    })
}

/// Decisions for every query, here or from `--server`, with progress on a
/// terminal; and the registries `resolved` URLs may point at (the upstream, the
/// server's when asked through one).
async fn decide(
    args: &AuditArgs,
    queries: Vec<AuditQuery>,
    baseline: &BTreeSet<(String, String)>,
    clock: Clock,
) -> anyhow::Result<(Vec<AuditAnswer>, Vec<Url>)> {
    let progress = std::io::stderr().is_terminal() && queries.len() > BATCH;
    let total = queries.len();
    let mut answers = Vec::with_capacity(total);
    let analyse = !args.no_analysis;
    if let Some(server) = &args.server {
        let mut registries = Vec::new();
        let client = AdminClient::new(&ServerArgs {
            server: server.clone(),
            admin_token: args.admin_token.clone(),
            json: false,
        })?;
        for batch in queries.chunks(BATCH) {
            let request = AuditRequest {
                packages: batch.to_vec(),
                analyse,
            };
            let response: AuditResponse = client
                .post("audit", &serde_json::to_value(&request)?)
                .await?;
            answers.extend(response.answers);
            if let Ok(upstream) = Url::parse(&response.upstream)
                && !registries.contains(&upstream)
            {
                registries.push(upstream);
            }
            show_progress(progress, answers.len(), total);
        }
        return Ok((answers, registries));
    }
    let state = super::check::standalone_state(&args.setup, clock).await?;
    // The baseline counts as served, for this audit only.
    for (name, version) in baseline {
        state.history().record(name, version);
    }
    for batch in queries.chunks(BATCH) {
        let request = AuditRequest {
            packages: batch.to_vec(),
            analyse,
        };
        answers.extend(airlock_server::audit::audit(&state, &request).await);
        show_progress(progress, answers.len(), total);
    }
    state.downloads().flush().await;
    let upstream = state.upstream_url().clone();
    // Everything is written; the process is about to exit. Tearing down caches of
    // thousands of parsed packuments one allocation at a time would cost a tenth of
    // the audit, so the exit reclaims them instead.
    std::mem::forget(state);
    // A lockfile written through this Airlock names it, not the upstream.
    let mut registries = vec![upstream];
    registries.extend(crate::config::own_urls(&args.setup)?);
    Ok((answers, registries))
}

fn show_progress(enabled: bool, done: usize, total: usize) {
    if !enabled {
        return;
    }
    let width = 30;
    let filled = done * width / total.max(1);
    eprint!(
        "\r[{}{}] {done}/{total} packages",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    if done == total {
        eprintln!();
    }
}

fn row(
    package: &Locked,
    graph: &Graph,
    severity: Severity,
    code: &str,
    why: String,
    fix: String,
) -> Row {
    Row {
        severity,
        code: code.to_owned(),
        package: package.name.clone(),
        version: package.version.clone(),
        file: graph.file.clone(),
        line: package.line,
        why,
        fix,
    }
}

/// The findings of one lockfile: what is wrong with the lockfile itself
/// (`airlock_lockfile::anomalies`), and a row per reason of every decision about
/// a locked registry version that is not a plain allow.
fn findings_of(graph: &Graph, answers: &Answers, checks: &Checks<'_>) -> Vec<Row> {
    let answer = |package: &Locked| answers.get(&(package.name.clone(), package.version.clone()));
    let facts = |package: &Locked| {
        answer(package).map(|answer| RegistryFacts {
            integrity: answer.integrity.as_deref(),
            published: answer.published.as_deref().and_then(Timestamp::parse),
            quarantine_ms: answer.quarantine_ms,
            error: answer.error.as_deref(),
        })
    };
    let mut findings: Vec<Row> = anomalies::check(graph, checks, facts)
        .into_iter()
        .map(|anomaly| {
            let package = &graph.packages[anomaly.package];
            row(
                package,
                graph,
                anomaly.severity,
                anomaly.code.as_str(),
                anomaly.why,
                anomaly.fix,
            )
        })
        .collect();
    for package in &graph.packages {
        if package.source == Source::Registry
            && let Some(answer) = answer(package)
            && answer.error.is_none()
            && let Some(decision) = &answer.decision
        {
            findings.extend(decision_rows(package, graph, decision));
        }
    }
    findings
}

/// One row per reason of a decision that is not a plain allow.
fn decision_rows(package: &Locked, graph: &Graph, decision: &Decision) -> Vec<Row> {
    if decision.waived_by.is_some() {
        return Vec::new();
    }
    let id = format!("{}@{}", package.name, package.version);
    decision
        .reasons
        .iter()
        .filter_map(|reason| {
            // A known vulnerability is as serious in a lockfile as its rating, whatever
            // the proxy does with it, and its way out is the fixed version.
            if reason.code == Code::KnownVulnerable && reason.action != Verdict::Allow {
                let severity = vulnerability_severity(&reason.message);
                let fix = vulnerability_fix(&package.name, &reason.message);
                return Some(row(package, graph, severity, reason.code.as_str(), reason.message.clone(), fix));
            }
            let (severity, fix) = match &reason.action {
                Verdict::Block => (Severity::Critical, format!(
                    "remove `{id}` or move to a version Airlock allows (`airlock check {id}` says why); if you are sure it is safe, `airlock approve {id} --reason \"...\"`"
                )),
                Verdict::Quarantine { until: Some(until) } => (Severity::High, format!(
                    "wait until {until}, or lock the previous version; to take it now, `airlock approve {id} --reason \"...\"`"
                )),
                Verdict::Quarantine { until: None } => (Severity::High, format!(
                    "held until a person approves it: review with `airlock check {id}`, then `airlock approve {id} --reason \"...\"` or lock another version"
                )),
                Verdict::Warn => (Severity::Medium, format!("review with `airlock check {id}`")),
                Verdict::Allow => return None,
            };
            Some(row(package, graph, severity, reason.code.as_str(), reason.message.clone(), fix))
        })
        .collect()
}

/// The rating a `known-vulnerable` reason names (`(critical vulnerability)`), as a
/// severity; an unrated one is medium.
fn vulnerability_severity(message: &str) -> Severity {
    let rated = |rating: &str| message.contains(&format!("({rating} vulnerability)"));
    if rated("critical") {
        Severity::Critical
    } else if rated("high") {
        Severity::High
    } else if rated("low") {
        Severity::Low
    } else {
        Severity::Medium
    }
}

/// The way out of a known vulnerability: the fixed version its advisory names.
fn vulnerability_fix(name: &str, message: &str) -> String {
    match message.split("; fixed in ").nth(1) {
        Some(fixed) => format!("upgrade `{name}` to {fixed} or later"),
        None => format!(
            "no fixed version is listed: replace `{name}` or accept the risk with `airlock approve`"
        ),
    }
}

/// Whether a finding of `severity` fails the audit under `--fail-on`.
fn reaches(severity: Severity, fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
        FailOn::Critical => Severity::Critical,
        FailOn::Never => return false,
    };
    severity >= threshold
}

/// The last line: how much was audited, what was found, and the outcome.
fn summary(report: &Report, failing: bool, fail_on: FailOn) -> String {
    let packages: usize = report
        .lockfiles
        .iter()
        .map(|lockfile| lockfile.packages)
        .sum();
    let count = |severity: Severity| {
        report
            .findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .count()
    };
    let outcome = if failing {
        format!(
            "FAILED (findings at or above --fail-on {})",
            format!("{fail_on:?}").to_lowercase()
        )
    } else {
        "passed".to_owned()
    };
    format!(
        "audit {outcome}: {packages} packages in {} lockfile(s); {} critical, {} high, {} medium, {} low",
        report.lockfiles.len(),
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers_do_not_need_the_file_system() {
        assert!(find_lockfiles(&[PathBuf::from("/nonexistent/airlock")]).is_err());
    }

    #[test]
    fn a_vulnerability_row_is_as_serious_as_its_rating() {
        assert_eq!(
            vulnerability_severity("GHSA-a (critical vulnerability): x; fixed in 2.0.0"),
            Severity::Critical
        );
        assert_eq!(
            vulnerability_severity("GHSA-a (high vulnerability): x"),
            Severity::High
        );
        assert_eq!(
            vulnerability_severity("GHSA-a (unrated vulnerability): x"),
            Severity::Medium
        );
    }

    #[test]
    fn a_vulnerability_names_its_fixed_version_as_the_fix() {
        assert_eq!(
            vulnerability_fix("demo", "GHSA-a (high vulnerability): ReDoS; fixed in 1.1.0"),
            "upgrade `demo` to 1.1.0 or later"
        );
        assert!(
            vulnerability_fix("demo", "GHSA-a: x; no fixed version listed")
                .contains("no fixed version")
        );
    }

    #[test]
    fn fail_on_is_a_threshold() {
        assert!(reaches(Severity::Critical, FailOn::High));
        assert!(reaches(Severity::High, FailOn::High));
        assert!(!reaches(Severity::Medium, FailOn::High));
        assert!(!reaches(Severity::Critical, FailOn::Never));
    }
}
