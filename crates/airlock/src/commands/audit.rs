//! `airlock audit [PATH...]`: lockfiles checked with the proxy's own decisions.
//!
//! Each lockfile becomes a graph (`airlock-lockfile`); every registry version in it
//! is decided by the same gate the proxy uses (here, or by `--server`), and the
//! lockfile itself is checked for what no install-time gate sees: `resolved` URLs
//! outside the registry, git / URL / file sources, missing or different integrity,
//! and entries whose tarball is another package than their label.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use airlock_lockfile::{FILE_NAMES, Graph, Locked, Source};
use airlock_npm::{Clock, Timestamp};
use airlock_policy::{Decision, Verdict, describe_millis};
use airlock_server::audit::{AuditAnswer, AuditQuery, AuditRequest, AuditResponse};
use anyhow::{Context as _, bail};
use serde::Serialize;
use url::Url;

use crate::cli::{AuditArgs, AuditFormat, FailOn, ServerArgs};
use crate::commands::client::{AdminClient, print_json};

/// Versions decided per request, so progress can be shown between them.
const BATCH: usize = 64;

const REPLACEMENTS: &str = include_str!("../../data/replacements.json");

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    fn name(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    fn sarif_level(self) -> &'static str {
        match self {
            Self::Critical | Self::High => "error",
            Self::Medium => "warning",
            Self::Low => "note",
        }
    }

    fn reaches(self, fail_on: FailOn) -> bool {
        let threshold = match fail_on {
            FailOn::Low => Self::Low,
            FailOn::Medium => Self::Medium,
            FailOn::High => Self::High,
            FailOn::Critical => Self::Critical,
            FailOn::Never => return false,
        };
        self >= threshold
    }
}

/// One row of the report.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Finding {
    pub(crate) severity: Severity,
    /// A decision code (`release-age`, `known-malicious`, ...) or a lockfile
    /// anomaly (`lockfile-integrity-mismatch`, ...).
    pub(crate) code: String,
    pub(crate) package: String,
    pub(crate) version: String,
    pub(crate) file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<usize>,
    pub(crate) why: String,
    pub(crate) fix: String,
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
    findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    critical: Option<Critical>,
}

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
    let (answers, mut registries) = decide(&args, queries, &baseline, clock).await?;
    registries.extend(args.registries.iter().cloned());
    if let Some(server) = &args.server {
        registries.push(server.clone());
    }
    let answers: BTreeMap<(String, String), AuditAnswer> = answers
        .into_iter()
        .map(|answer| ((answer.name.clone(), answer.version.clone()), answer))
        .collect();
    let mut findings = Vec::new();
    for (graph, locked_at) in graphs.iter().zip(&locked) {
        findings.extend(check_graph(graph, &answers, &registries, *locked_at));
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| {
            (&a.file, &a.package, &a.version, &a.code)
                .cmp(&(&b.file, &b.package, &b.version, &b.code))
        })
    });
    let critical = args.critical.then(|| critical(&graphs, &answers));
    if let (Some(path), Some(critical)) = (&args.write_policy, &critical) {
        write_critical_gate(path, critical, &files)?;
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
        .any(|finding| finding.severity.reaches(args.fail_on));
    let summary = summary(&report, failing, args.fail_on);
    match args.format {
        AuditFormat::Table => print!("{}\n{summary}\n", table(&report)),
        // Standard output stays the document; the summary goes with the log.
        AuditFormat::Json => {
            print_json(&report)?;
            eprintln!("{summary}");
        }
        AuditFormat::Sarif => {
            print_json(&sarif(&report.findings))?;
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
) -> Finding {
    Finding {
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

/// The findings of one lockfile.
fn check_graph(
    graph: &Graph,
    answers: &BTreeMap<(String, String), AuditAnswer>,
    registries: &[Url],
    locked_at: Option<Timestamp>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let records_integrity = !matches!(graph.format, airlock_lockfile::Format::YarnBerry);
    for package in &graph.packages {
        let id = format!("{}@{}", package.name, package.version);
        match package.source {
            Source::Registry => {}
            Source::Git | Source::Tarball => {
                let from = package.resolved.as_deref().unwrap_or("?");
                // A tarball from a host that is not the registry: anyone who controls
                // that host decides what gets installed.
                let foreign = package.source == Source::Tarball
                    && !registries.iter().any(|registry| under(from, registry));
                let severity = if foreign {
                    Severity::High
                } else {
                    Severity::Medium
                };
                findings.push(row(package, graph, severity, "lockfile-unregistered-source",
                    format!("`{id}` is installed from {from}, outside any registry: no quarantine, analysis or advisory covers it"),
                    "publish it to your registry and depend on the published version, or vendor the code".into()));
                continue;
            }
            Source::File => {
                findings.push(row(
                    package,
                    graph,
                    Severity::Low,
                    "lockfile-unregistered-source",
                    format!(
                        "`{id}` comes from a local path ({}), which Airlock does not check",
                        package.resolved.as_deref().unwrap_or("file:")
                    ),
                    "fine for code of this repository; otherwise publish it to your registry"
                        .into(),
                ));
                continue;
            }
            Source::Link => continue,
        }
        if let Some(resolved) = package.resolved.as_deref()
            && Url::parse(resolved).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
        {
            if !registries.iter().any(|registry| under(resolved, registry)) {
                let known: Vec<String> = registries.iter().map(ToString::to_string).collect();
                let registry_integrity = answers
                    .get(&(package.name.clone(), package.version.clone()))
                    .and_then(|answer| answer.integrity.as_deref());
                if mirrors_the_registry(package, resolved, registry_integrity) {
                    findings.push(row(package, graph, Severity::Low, "lockfile-outside-registry",
                        format!("`{id}` resolves to {resolved}, a mirror of the registry ({}): the path names this version and the locked integrity is the registry's, so the content is the same, but a client that keeps the host downloads it around Airlock", known.join(", ")),
                        "reinstall through Airlock to point the lockfile at it (npm and pnpm rewrite the default registry's host by themselves)".into()));
                } else {
                    findings.push(row(package, graph, Severity::High, "lockfile-outside-registry",
                        format!("`{id}` resolves to {resolved}, not to the configured registry ({})", known.join(", ")),
                        "reinstall it through Airlock so the lockfile points there, or name that registry with `--registry` if it is yours".into()));
                }
            }
            if let Some((named, file_version)) = tarball_identity(resolved)
                && (named != package.name
                    || file_version
                        .as_deref()
                        .is_some_and(|v| v != package.version))
            {
                findings.push(row(package, graph, Severity::Critical, "lockfile-name-confusion",
                    format!("the entry labelled `{id}` downloads {resolved}, which is `{named}{}`", file_version.map(|v| format!("@{v}")).unwrap_or_default()),
                    "do not install: regenerate this entry from the registry and find out who edited the lockfile".into()));
            }
        }
        let answer = answers.get(&(package.name.clone(), package.version.clone()));
        let locked = package.integrity.as_deref().filter(|text| usable(text));
        match (
            locked,
            answer.and_then(|answer| answer.integrity.as_deref()),
        ) {
            (None, _) if records_integrity => {
                findings.push(row(package, graph, Severity::Medium, "lockfile-missing-integrity",
                    format!("`{id}` has no integrity in the lockfile, so the client installs whatever tarball it gets"),
                    "regenerate the lockfile (`npm install --package-lock-only`, `pnpm install --lockfile-only`, ...) so the integrity is recorded".into()));
            }
            (Some(locked), Some(registry)) if !comparable(locked, registry) => {
                findings.push(row(package, graph, Severity::Medium, "lockfile-missing-integrity",
                    format!("`{id}` is locked to {locked}, which shares no algorithm with the registry's {registry}, so the locked tarball cannot be checked"),
                    "regenerate the lockfile so the client records the registry's sha512 integrity".into()));
            }
            (Some(locked), Some(registry)) if differs(locked, registry) => {
                findings.push(row(package, graph, Severity::Critical, "lockfile-integrity-mismatch",
                    format!("`{id}` is locked to {locked}, but the registry lists {registry}"),
                    "do not install: the locked tarball is not the published one; regenerate the entry and investigate the difference".into()));
            }
            _ => {}
        }
        let Some(answer) = answer else { continue };
        if let Some(error) = &answer.error {
            findings.push(row(package, graph, Severity::High, "lockfile-unknown-version", error.clone(),
                "update the dependency to a version the registry lists, then regenerate the lockfile".into()));
            continue;
        }
        if let Some(decision) = &answer.decision {
            findings.extend(decision_rows(package, graph, decision));
        }
        if let (Some(locked_at), Some(published)) = (
            locked_at,
            answer.published.as_deref().and_then(Timestamp::parse),
        ) {
            let age = locked_at.unix_millis() - published.unix_millis();
            if age >= 0 && age < answer.quarantine_ms {
                findings.push(row(package, graph, Severity::Low, "lockfile-locked-young",
                    format!(
                        "`{id}` was locked {} after it was published ({published}), inside the {} quarantine: it reached this lockfile before Airlock would have served it",
                        describe_millis(age),
                        describe_millis(answer.quarantine_ms)
                    ),
                    "make sure installs go through Airlock (`npm config get registry`); this audit has now checked it".into()));
            }
        }
    }
    findings
}

/// One row per reason of a decision that is not a plain allow.
fn decision_rows(package: &Locked, graph: &Graph, decision: &Decision) -> Vec<Finding> {
    if decision.waived_by.is_some() {
        return Vec::new();
    }
    let id = format!("{}@{}", package.name, package.version);
    decision
        .reasons
        .iter()
        .filter_map(|reason| {
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

const ALGORITHMS: [&str; 4] = ["sha512-", "sha384-", "sha256-", "sha1-"];

/// Whether an SRI string holds a digest of an algorithm Airlock compares.
fn usable(integrity: &str) -> bool {
    integrity.split_whitespace().any(|part| {
        ALGORITHMS
            .iter()
            .any(|algorithm| part.len() > algorithm.len() && part.starts_with(algorithm))
    })
}

/// Whether a `resolved` URL outside the configured registries serves this very
/// version: a registry-shaped tarball path naming it, and a locked integrity that
/// equals the registry's (so the client rejects any other bytes). Registry aliases
/// and mirrors (Yarn classic's default host among them) pass; a lookalike path with
/// other content does not.
fn mirrors_the_registry(
    package: &airlock_lockfile::Locked,
    resolved: &str,
    registry_integrity: Option<&str>,
) -> bool {
    let Some((named, file_version)) = tarball_identity(resolved) else {
        return false;
    };
    let names_this_version = named == package.name
        && file_version
            .as_deref()
            .is_none_or(|version| version == package.version);
    let locked = package.integrity.as_deref().filter(|text| usable(text));
    names_this_version
        && match (locked, registry_integrity) {
            (Some(locked), Some(registry)) => {
                comparable(locked, registry) && !differs(locked, registry)
            }
            _ => false,
        }
}

/// Whether two SRI strings share an algorithm.
fn comparable(locked: &str, registry: &str) -> bool {
    ALGORITHMS.iter().any(|algorithm| {
        locked
            .split_whitespace()
            .any(|part| part.starts_with(algorithm))
            && registry
                .split_whitespace()
                .any(|part| part.starts_with(algorithm))
    })
}

/// Whether two SRI strings of the same algorithm differ.
fn differs(locked: &str, registry: &str) -> bool {
    let digest = |text: &str, algorithm: &str| {
        text.split_whitespace()
            .find(|part| part.starts_with(algorithm))
            .map(str::to_owned)
    };
    ALGORITHMS
        .into_iter()
        .find_map(
            |algorithm| match (digest(locked, algorithm), digest(registry, algorithm)) {
                (Some(a), Some(b)) => Some(a != b),
                _ => None,
            },
        )
        .unwrap_or(false)
}

/// Whether `url` is under `registry` (same origin, path inside).
fn under(url: &str, registry: &Url) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let base = registry.path().trim_end_matches('/');
    url.origin() == registry.origin()
        && url
            .path()
            .strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The package (and version) a registry tarball URL names:
/// `…/{name}/-/{basename}-{version}.tgz`, the scope's `/` possibly escaped.
fn tarball_identity(url: &str) -> Option<(String, Option<String>)> {
    let path = Url::parse(url).ok()?.path().to_owned();
    let (before, file) = path.split_once("/-/")?;
    let before = before
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%40", "@");
    let segments: Vec<&str> = before.trim_start_matches('/').split('/').collect();
    let name = match segments.as_slice() {
        [.., scope, name] if scope.starts_with('@') => format!("{scope}/{name}"),
        [.., name] => (*name).to_owned(),
        [] => return None,
    };
    let basename = name.rsplit('/').next().unwrap_or(&name);
    let version = file
        .strip_suffix(".tgz")
        .and_then(|stem| stem.strip_prefix(basename))
        .and_then(|rest| rest.strip_prefix('-'))
        .map(str::to_owned);
    Some((name, version))
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

fn table(report: &Report) -> String {
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

/// SARIF 2.1.0: one rule per code, one result per finding, located in its lockfile.
fn sarif(findings: &[Finding]) -> serde_json::Value {
    let codes: BTreeSet<&str> = findings
        .iter()
        .map(|finding| finding.code.as_str())
        .collect();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|code| {
            let description = airlock_policy::Code::parse(code).map_or_else(
                || anomaly_description(code),
                |code| code.description().to_owned(),
            );
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
                "level": finding.severity.sarif_level(),
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
fn artifact_uri(file: &str) -> String {
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

fn anomaly_description(code: &str) -> String {
    match code {
        "lockfile-outside-registry" => "a resolved URL points outside the configured registry",
        "lockfile-unregistered-source" => {
            "installed from git, a URL or a path: no registry check covers it"
        }
        "lockfile-missing-integrity" => "the lockfile records no integrity for a registry package",
        "lockfile-integrity-mismatch" => "the locked integrity differs from the registry's",
        "lockfile-name-confusion" => "an entry's tarball is another package than its label",
        "lockfile-unknown-version" => "the registry does not list the locked version",
        "lockfile-locked-young" => "locked while younger than the quarantine: it bypassed Airlock",
        _ => "lockfile finding",
    }
    .to_owned()
}

/// The packages that matter most, and what the platform now provides.
#[derive(Debug, Serialize)]
struct Critical {
    ranked: Vec<Ranked>,
    replaceable: Vec<Replaceable>,
}

#[derive(Debug, Serialize)]
struct Ranked {
    package: String,
    version: String,
    score: u64,
    /// Packages in the lockfile that depend on it, directly or not.
    dependents: usize,
    install_script: bool,
    provenance: bool,
    publishers: usize,
    maintainers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_published: Option<String>,
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Replaceable {
    package: String,
    replacement: String,
    node: String,
    note: String,
}

fn critical(graphs: &[Graph], answers: &BTreeMap<(String, String), AuditAnswer>) -> Critical {
    #[derive(serde::Deserialize)]
    struct Data {
        replacements: Vec<Replaceable>,
    }
    let data: Data = serde_json::from_str(REPLACEMENTS).expect("the replacement data set parses");
    let mut ranked: BTreeMap<(String, String), Ranked> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for graph in graphs {
        let dependents = graph.transitive_dependents();
        for (index, package) in graph.packages.iter().enumerate() {
            names.insert(package.name.clone());
            let key = (package.name.clone(), package.version.clone());
            let answer = answers.get(&key);
            let install_script = package.install_script.unwrap_or(false)
                || answer.is_some_and(|answer| answer.install_script);
            let provenance = answer.is_some_and(|answer| answer.provenance);
            let publishers = answer.map_or(0, |answer| answer.publishers);
            let entry = ranked.entry(key).or_insert_with(|| Ranked {
                package: package.name.clone(),
                version: package.version.clone(),
                score: 0,
                dependents: 0,
                install_script,
                provenance,
                publishers,
                maintainers: answer.map_or(0, |answer| answer.maintainers),
                newest_published: answer.and_then(|answer| answer.newest_published.clone()),
            });
            entry.dependents = entry.dependents.max(dependents[index]);
        }
    }
    let mut ranked: Vec<Ranked> = ranked
        .into_values()
        .map(|mut ranked| {
            // Reach counts most: a compromise there reaches every dependent. Install
            // scripts run on every machine; no provenance and many publishers widen
            // who can publish it.
            let reach = u64::try_from(ranked.dependents + 1).unwrap_or(u64::MAX);
            let mut weight = 1;
            if ranked.install_script {
                weight += 2;
            }
            if !ranked.provenance {
                weight += 1;
            }
            weight += u64::try_from(ranked.publishers.min(5)).unwrap_or(5) / 2;
            ranked.score = reach * weight;
            ranked
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.package.cmp(&b.package))
    });
    ranked.truncate(20);
    let replaceable = data
        .replacements
        .into_iter()
        .filter(|replacement| names.contains(&replacement.package))
        .collect();
    Critical {
        ranked,
        replaceable,
    }
}

/// Writes the ranked packages as `[gates] critical` into the policy file at
/// `path`: a new file, or the section appended to one that has no `[gates]`. The
/// result must be a valid policy before it replaces the file.
fn write_critical_gate(
    path: &std::path::Path,
    critical: &Critical,
    lockfiles: &[PathBuf],
) -> anyhow::Result<()> {
    let names: BTreeSet<&str> = critical
        .ranked
        .iter()
        .map(|ranked| ranked.package.as_str())
        .collect();
    let list = names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sources = lockfiles
        .iter()
        .map(|file| file.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let block = format!(
        "\n# The critical-path list, written by `airlock audit --critical --write-policy` from\n# {sources}: a new major of these waits for a person.\n[gates]\ncritical = [{list}]\n"
    );
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(error).with_context(|| format!("could not read {}", path.display()));
        }
    };
    if current.lines().any(|line| line.trim() == "[gates]") {
        anyhow::bail!(
            "{} already has a [gates] section; add these to its `critical` list by hand: [{list}]",
            path.display()
        );
    }
    let written = format!("{current}{block}");
    airlock_policy::Policy::from_toml(&written).map_err(|error| {
        anyhow::anyhow!(
            "{} would not be a valid policy with the critical-path list appended ({error}); nothing was written",
            path.display()
        )
    })?;
    let staging = path.with_extension("toml.airlock-tmp");
    std::fs::write(&staging, &written)
        .with_context(|| format!("could not write {}", staging.display()))?;
    std::fs::rename(&staging, path)
        .with_context(|| format!("could not replace {}", path.display()))?;
    eprintln!(
        "wrote [gates] critical ({} packages) to {}",
        names.len(),
        path.display()
    );
    Ok(())
}

fn describe_critical(critical: &Critical) -> String {
    let mut out =
        String::from("\nMOST CRITICAL (reach x install script, provenance, publishers)\n");
    let _ = writeln!(
        out,
        "  {:<5} {:<36} {:>10} {:>7} {:>10} {:>10}  newest",
        "score", "package", "dependents", "script", "provenance", "publishers"
    );
    for ranked in &critical.ranked {
        let _ = writeln!(
            out,
            "  {:<5} {:<36} {:>10} {:>7} {:>10} {:>10}  {}",
            ranked.score,
            format!("{}@{}", ranked.package, ranked.version),
            ranked.dependents,
            if ranked.install_script { "yes" } else { "-" },
            if ranked.provenance { "yes" } else { "no" },
            ranked.publishers,
            ranked.newest_published.as_deref().unwrap_or("?"),
        );
    }
    if !critical.replaceable.is_empty() {
        out.push_str("\nTHE PLATFORM NOW PROVIDES\n");
        for replaceable in &critical.replaceable {
            let note = if replaceable.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", replaceable.note)
            };
            let _ = writeln!(
                out,
                "  {:<24} -> {}, Node.js {}+{note}",
                replaceable.package, replaceable.replacement, replaceable.node
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_urls_name_their_package() {
        assert_eq!(
            tarball_identity("http://127.0.0.1:1/@acme/util/-/util-2.1.0.tgz"),
            Some(("@acme/util".into(), Some("2.1.0".into())))
        );
        assert_eq!(
            tarball_identity("http://127.0.0.1:1/@acme%2futil/-/util-2.1.0.tgz"),
            Some(("@acme/util".into(), Some("2.1.0".into())))
        );
        assert_eq!(
            tarball_identity("http://127.0.0.1:1/npm/api/lodash/-/lodash-4.17.21.tgz"),
            Some(("lodash".into(), Some("4.17.21".into())))
        );
    }

    #[test]
    fn integrity_compares_within_one_algorithm() {
        assert!(differs("sha512-AAAA", "sha512-BBBB"));
        assert!(!differs("sha512-AAAA", "sha512-AAAA"));
        assert!(!differs("sha1-AAAA", "sha512-BBBB"));
    }

    #[test]
    fn registry_paths_must_match_too() {
        let registry = Url::parse("http://127.0.0.1:9/npm/").unwrap();
        assert!(under("http://127.0.0.1:9/npm/a/-/a-1.0.0.tgz", &registry));
        assert!(!under(
            "http://127.0.0.1:9/other/a/-/a-1.0.0.tgz",
            &registry
        ));
        assert!(!under("http://127.0.0.2:9/npm/a/-/a-1.0.0.tgz", &registry));
        assert!(!under(
            "http://127.0.0.1:9/npm-evil/a/-/a-1.0.0.tgz",
            &registry
        ));
        assert!(under("HTTP://127.0.0.1:9/npm/a/-/a-1.0.0.tgz", &registry));
    }

    #[test]
    fn integrity_that_cannot_be_compared_is_told_apart() {
        assert!(!usable(""));
        assert!(!usable("md5-x"));
        assert!(!usable("sha512-"));
        assert!(usable("sha1-abc sha512-def"));
        assert!(!comparable("sha1-abc", "sha512-def"));
        assert!(comparable("sha1-abc sha512-x", "sha512-def"));
    }

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

    #[test]
    fn path_helpers_do_not_need_the_file_system() {
        assert!(find_lockfiles(&[PathBuf::from("/nonexistent/airlock")]).is_err());
    }
}
