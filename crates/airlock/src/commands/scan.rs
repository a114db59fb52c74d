//! `airlock scan`: the content analysis of a tarball, a directory or a published
//! version; `airlock diff`: what changed between two versions.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use airlock_analyze::{Analysis, Archive, Finding, Limits, Options, Severity, VersionDiff};
use airlock_npm::{Clock, PackageName};
use airlock_policy::{Policy, Reason, Verdict};
use airlock_server::admin::{CheckReport, TrustReport, parse_name_version};
use anyhow::{Context as _, anyhow};
use serde::Serialize;

use crate::cli::{DiffArgs, ScanArgs};
use crate::commands::client::{AdminClient, print_json};

/// What `scan` prints.
#[derive(Serialize)]
struct ScanReport {
    package: String,
    version: String,
    verdict: Verdict,
    reasons: Vec<Reason>,
    findings: Vec<Finding>,
    /// Time spent reading and analysing, for local targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    millis: Option<f64>,
    /// Time the install scripts ran in the sandbox, for tarballs run there.
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_millis: Option<f64>,
    /// Files and unpacked size, for local targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unpacked_bytes: Option<u64>,
    /// Signature, provenance and publisher history, for versions from the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    trust: Option<TrustReport>,
}

pub(crate) async fn scan(args: ScanArgs, clock: Clock) -> anyhow::Result<ExitCode> {
    let mut all_allowed = true;
    let several = args.targets.len() > 1;
    // Code that talks to the configured registry talks to the registry, not to a
    // host of its author's choosing.
    let local = args.targets.iter().any(|target| Path::new(target).exists());
    let registry_hosts: Vec<String> = if local {
        crate::config::upstream_for_analysis(&args.setup)
            .await?
            .and_then(|url| url.host_str().map(str::to_owned))
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    // `--previous` is checked before the registry is asked anything.
    let previous = match &args.previous {
        Some(path) => Some(predecessor(path, &args.targets, &registry_hosts)?),
        None => None,
    };
    // The registry, to judge local packages' dependencies by.
    let registry = if local && !args.offline {
        match super::check::standalone_state(&args.setup, clock.clone()).await {
            Ok(state) => Some(state),
            Err(error) => {
                tracing::warn!(
                    "dependencies are not checked: {error:#}\nhint: configure an upstream, or pass `--offline`"
                );
                None
            }
        }
    } else {
        None
    };
    let sandbox = if local && !args.no_sandbox {
        let (sandbox, status) = crate::config::scan_sandbox(&args.setup, &registry_hosts)?;
        if sandbox.is_none() {
            tracing::info!("install-script sandbox: {status}");
        }
        sandbox
    } else {
        None
    };
    let local_context = Local {
        previous: previous
            .as_ref()
            .map(|(version, analysis)| (version.as_str(), analysis)),
        policy: args.setup.policy.as_deref(),
        registry_hosts: &registry_hosts,
        registry: registry.as_ref(),
        sandbox: sandbox.as_ref(),
        clock: &clock,
    };
    for target in &args.targets {
        let report = report(target, &args, &local_context).await?;
        all_allowed &= report.verdict == Verdict::Allow;
        if args.server.json && several {
            println!("{}", serde_json::to_string(&report)?);
        } else if args.server.json {
            print_json(&report)?;
        } else {
            print!("{}", describe(&report));
        }
    }
    Ok(if all_allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn report(
    target: &str,
    args: &ScanArgs,
    local_context: &Local<'_>,
) -> anyhow::Result<ScanReport> {
    let path = Path::new(target);
    if path.exists() {
        return local(path, local_context).await;
    }
    let check = if args.standalone {
        super::check::standalone_report(target, &args.setup, local_context.clock.clone()).await?
    } else {
        AdminClient::new(&args.server)?
            .get::<CheckReport>(&format!("check/{target}"))
            .await?
    };
    Ok(ScanReport {
        package: check.package,
        version: check.version,
        verdict: check.decision.verdict,
        reasons: check.decision.reasons,
        findings: check.findings,
        millis: None,
        sandbox_millis: None,
        files: None,
        unpacked_bytes: None,
        trust: check.trust,
    })
}

/// Analyses a tarball or a directory on disk under the policy's analysis rules.
/// What scanning a tarball or a directory needs besides the path.
struct Local<'a> {
    /// The version before the target on its line, and its analysis (`--previous`).
    previous: Option<(&'a str, &'a Analysis)>,
    policy: Option<&'a Path>,
    /// The configured registry's hosts: code talking to them talks to the registry.
    registry_hosts: &'a [String],
    /// The registry, through Airlock's own state, to judge the dependencies by.
    registry: Option<&'a airlock_server::AppState>,
    /// Where a tarball's install scripts run, when they do.
    sandbox: Option<&'a airlock_sandbox::Config>,
    /// What "now" is for remote targets decided in this process.
    clock: &'a Clock,
}

/// Analyses a tarball or a directory on disk under the policy's analysis rules.
async fn local(path: &Path, context: &Local<'_>) -> anyhow::Result<ScanReport> {
    let started = std::time::Instant::now();
    let options = Options {
        registry_hosts: context.registry_hosts,
        previous: context.previous,
        ..Options::default()
    };
    let (mut analysis, tarball) = analyse_path(path, &options)?;
    if let Some((_, previous)) = context.previous
        && previous.manifest.name != analysis.manifest.name
    {
        return Err(anyhow!(
            "`--previous` is {}, and `{}` is {}: a version is compared with an earlier version of the same package",
            previous
                .manifest
                .name
                .as_deref()
                .map_or("unnamed".to_owned(), |name| format!("`{name}`")),
            path.display(),
            analysis
                .manifest
                .name
                .as_deref()
                .map_or("unnamed".to_owned(), |name| format!("`{name}`")),
        ));
    }
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let mut sandbox_millis = None;
    if let (Some(config), Some(tarball)) = (context.sandbox, tarball)
        && analysis.runs_at_install()
    {
        let started = std::time::Instant::now();
        analysis
            .findings
            .extend(run_install_scripts(config.clone(), tarball).await);
        sandbox_millis = Some(started.elapsed().as_secs_f64() * 1000.0);
    }
    if let Some(state) = context.registry {
        let found = airlock_server::vetting::judge_dependencies(
            state,
            &analysis.manifest,
            &analysis.required_packages,
        )
        .await;
        analysis.findings.extend(found);
    }
    let policy = context.policy;
    let policy = match policy {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("could not read the policy `{}`", file.display()))?;
            Policy::from_toml(&text)
                .with_context(|| format!("the policy `{}` is invalid", file.display()))?
        }
        None => Policy::default(),
    };
    let package = analysis
        .manifest
        .name
        .clone()
        .unwrap_or_else(|| path.display().to_string());
    let version = analysis.manifest.version.clone().unwrap_or_default();
    // A directory or tarball without a usable name is still judged, under the
    // policy's rules for no package in particular.
    let name = PackageName::new(&package)
        .or_else(|_| PackageName::new("unnamed-package"))
        .expect("a valid package name");
    let reasons = airlock_policy::reasons(&analysis.findings, &name, &version, &policy);
    let verdict = reasons.iter().fold(Verdict::Allow, |verdict, reason| {
        verdict.max(reason.action.clone())
    });
    Ok(ScanReport {
        package,
        version,
        verdict,
        reasons,
        files: Some(analysis.files.len()),
        unpacked_bytes: Some(analysis.unpacked_bytes),
        findings: analysis.findings,
        millis: Some(millis),
        sandbox_millis,
        trust: None,
    })
}

/// The analysis of a tarball or a directory, and the tarball's bytes.
fn analyse_path(path: &Path, options: &Options<'_>) -> anyhow::Result<(Analysis, Option<Vec<u8>>)> {
    if path.is_dir() {
        let archive = Archive::from_files(walk(path)?, &Limits::default());
        return Ok((Analysis::of_archive(&archive, options), None));
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read `{}`", path.display()))?;
    // As the proxy reads a tarball: scanning starts while the rest inflates.
    Ok((Analysis::of_tarball(&bytes, options), Some(bytes)))
}

/// `--previous`: the predecessor's version and analysis, for the one local target
/// it precedes.
fn predecessor(
    path: &Path,
    targets: &[String],
    registry_hosts: &[String],
) -> anyhow::Result<(String, Analysis)> {
    let [target] = targets else {
        return Err(anyhow!(
            "`--previous` compares one tarball or directory with the version before it; give one target, not {}",
            targets.len()
        ));
    };
    if !Path::new(target).exists() {
        return Err(anyhow!(
            "`--previous` compares a tarball or directory on disk with the version before it; `{target}` is not a file or directory here (for `name@version`, the registry's previous version is used without it)"
        ));
    }
    if !path.exists() {
        return Err(anyhow!(
            "the previous version `{}` does not exist; give the tarball or directory of the version published before the target",
            path.display()
        ));
    }
    let options = Options {
        registry_hosts,
        ..Options::default()
    };
    let (analysis, _) = analyse_path(path, &options)?;
    let version = analysis.manifest.version.clone().ok_or_else(|| {
        anyhow!(
            "the previous version `{}` has no version in its package.json; give a package's tarball or directory",
            path.display()
        )
    })?;
    Ok((version, analysis))
}

/// The sandbox's findings about a tarball's install scripts, as the proxy gets
/// them: a run that cannot finish is `analysis-incomplete`.
async fn run_install_scripts(config: airlock_sandbox::Config, tarball: Vec<u8>) -> Vec<Finding> {
    let run = tokio::task::spawn_blocking(move || airlock_sandbox::run(&config, &tarball)).await;
    match run {
        Ok(Ok(report)) => report.findings,
        Ok(Err(error)) => vec![airlock_sandbox::not_run(&error.to_string())],
        Err(error) => vec![airlock_sandbox::not_run(&error.to_string())],
    }
}

/// The files of an unpacked package, `node_modules` and `.git` left out.
fn walk(root: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let entries = std::fs::read_dir(&directory)
            .with_context(|| format!("could not list `{}`", directory.display()))?;
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                continue;
            }
            if kind.is_dir() {
                if !matches!(entry.file_name().to_str(), Some("node_modules" | ".git")) {
                    pending.push(path);
                }
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .expect("walked under the root")
                .to_string_lossy()
                .replace('\\', "/");
            let contents = std::fs::read(&path)
                .with_context(|| format!("could not read `{}`", path.display()))?;
            files.push((relative, contents));
        }
    }
    files.sort();
    Ok(files)
}

fn describe(report: &ScanReport) -> String {
    let verdict = match &report.verdict {
        Verdict::Quarantine { .. } => "quarantine until approved",
        verdict => verdict.name(),
    };
    let mut out = format!("{}@{}: {verdict}\n", report.package, report.version);
    for reason in &report.reasons {
        let _ = writeln!(out, "  {:<22} {}", reason.code.as_str(), reason.message);
    }
    if let Some(trust) = &report.trust {
        out.push_str(&super::check::describe_trust(trust));
    }
    if report.findings.is_empty() {
        out.push_str("no findings\n");
        return out;
    }
    let _ = writeln!(out, "\nfindings ({}):", report.findings.len());
    for finding in &report.findings {
        let severity = match finding.severity {
            Severity::Critical => "CRITICAL",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        };
        let _ = writeln!(
            out,
            "  {severity:<8} {:<22} {:<9} {}  {}",
            finding.code.as_str(),
            finding.reach.as_str(),
            finding.location(),
            finding.message
        );
        if let Some(rule) = &finding.rule {
            let _ = writeln!(out, "           rule {rule}: {}", finding.trail_text());
        }
        if !finding.snippet.is_empty() {
            let _ = writeln!(out, "           | {}", finding.snippet);
        }
    }
    out
}

pub(crate) async fn diff(args: DiffArgs, clock: Clock) -> anyhow::Result<ExitCode> {
    let (name, from) =
        parse_name_version(&args.from).map_err(|error| anyhow!("{}", error.message()))?;
    let to = match args.to.rsplit_once('@') {
        Some((other, version)) if !other.is_empty() => {
            if other != name.as_str() {
                return Err(anyhow!(
                    "`{}` and `{}` name different packages",
                    args.from,
                    args.to
                ));
            }
            version.to_owned()
        }
        _ => args.to.clone(),
    };
    let state = super::check::standalone_state(&args.setup, clock).await?;
    let diff = airlock_server::admin::diff(&state, &name, &from, &to)
        .await
        .map_err(|error| anyhow!("{}", error.message()))?;
    if args.json {
        print_json(&diff)?;
    } else {
        print!("{}", describe_diff(&name, &diff));
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_diff(name: &PackageName, diff: &VersionDiff) -> String {
    let mut out = format!("{name}: {} -> {}\n", diff.previous, diff.current);
    let mut section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            let _ = writeln!(out, "{title}:");
            for line in lines {
                let _ = writeln!(out, "  {line}");
            }
        }
    };
    section(
        "dependencies added",
        diff.dependencies_added
            .iter()
            .map(|added| {
                let phantom = if added.phantom == Some(true) {
                    "  (required by no file)"
                } else {
                    ""
                };
                format!("+ {}@{}{phantom}", added.name, added.range)
            })
            .collect(),
    );
    section(
        "dependencies removed",
        diff.dependencies_removed
            .iter()
            .map(|name| format!("- {name}"))
            .collect(),
    );
    section(
        "install scripts added",
        diff.install_scripts_added
            .iter()
            .map(|(script, command)| format!("+ {script}: {command}"))
            .collect(),
    );
    section(
        "install scripts changed",
        diff.install_scripts_changed
            .iter()
            .map(|(script, (before, after))| format!("~ {script}: {before} -> {after}"))
            .collect(),
    );
    if let Some((before, after)) = &diff.entry_points_changed {
        section(
            "entry points changed",
            vec![format!("{before:?} -> {after:?}")],
        );
    }
    section(
        "files added",
        diff.files_added
            .iter()
            .map(|file| {
                format!(
                    "+ {} ({} bytes{})",
                    file.path,
                    file.size,
                    if file.binary { ", binary" } else { "" }
                )
            })
            .collect(),
    );
    section(
        "files removed",
        diff.files_removed
            .iter()
            .map(|path| format!("- {path}"))
            .collect(),
    );
    section(
        "files grown",
        diff.files_grown
            .iter()
            .map(|(path, before, after)| format!("~ {path}: {before} -> {after} bytes"))
            .collect(),
    );
    let findings = diff.findings();
    if !findings.is_empty() {
        let _ = writeln!(out, "signals:");
        for finding in findings {
            let _ = writeln!(out, "  {:<22} {}", finding.code.as_str(), finding.message);
        }
    }
    out
}
