//! `airlock sandbox`: a package's install scripts run in the sandbox by hand.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use airlock_npm::Clock;
use airlock_policy::{Action, default_action};
use airlock_sandbox::{Availability, Config, Observation, Report};
use anyhow::{Context as _, anyhow};

use crate::cli::SandboxArgs;

pub(crate) async fn run(args: SandboxArgs, clock: Clock) -> anyhow::Result<ExitCode> {
    let upstream = crate::config::upstream_for_analysis(&args.setup).await?;
    let mut config = Config {
        time_limit: Duration::from_secs(args.time_limit.max(1)),
        trusted_hosts: upstream
            .as_ref()
            .and_then(|url| url.host_str().map(str::to_owned))
            .into_iter()
            .collect(),
        ..Config::default()
    };
    if let Some(node) = &args.node {
        config.node.clone_from(node);
    }
    if let Availability::Unavailable(why) = airlock_sandbox::probe(&config) {
        return Err(anyhow!("the sandbox is not available here: {why}"));
    }
    let tarball = tarball(&args, clock).await?;
    let report = tokio::task::spawn_blocking(move || airlock_sandbox::run(&config, &tarball))
        .await
        .context("the sandbox run stopped")??;
    let action = action(&report);
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["verdict"] = verdict(action).into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", describe(&report, action));
    }
    Ok(if matches!(action, Action::Quarantine | Action::Block) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The tarball named: a file, or `name@version` from the upstream, verified.
async fn tarball(args: &SandboxArgs, clock: Clock) -> anyhow::Result<Vec<u8>> {
    let path = Path::new(&args.target);
    if path.exists() {
        return std::fs::read(path).with_context(|| format!("could not read `{}`", path.display()));
    }
    let (name, version) = airlock_server::admin::parse_name_version(&args.target)
        .map_err(|error| anyhow!("{}", error.message()))?;
    let state = super::check::standalone_state(&args.setup, clock).await?;
    let bytes = airlock_server::admin::tarball(&state, &name, &version)
        .await
        .map_err(|error| anyhow!("{}", error.message()))?;
    Ok(bytes.to_vec())
}

/// The strongest default action the findings call for.
fn action(report: &Report) -> Action {
    report
        .findings
        .iter()
        .map(|finding| default_action(finding.severity, finding.confidence))
        .max_by_key(|action| match action {
            Action::Default | Action::Allow => 0,
            Action::Warn => 1,
            Action::Quarantine => 2,
            Action::Block => 3,
        })
        .unwrap_or(Action::Allow)
}

fn describe(report: &Report, action: Action) -> String {
    let mut out = String::new();
    let verdict = verdict(action);
    let _ = writeln!(
        out,
        "{}@{}: {verdict} (sandbox run of {} ms{}{})",
        report.package,
        report.version,
        report.millis,
        if report.timed_out {
            ", stopped at the time limit"
        } else {
            ""
        },
        if report.ran_as_windows {
            ", run again told it is on Windows"
        } else {
            ""
        }
    );
    if report.scripts.is_empty() {
        out.push_str("no install scripts: nothing to run\n");
        return out;
    }
    out.push_str("scripts:\n");
    for (event, script) in &report.scripts {
        let _ = writeln!(out, "  {event}: {script}");
    }
    if !report.observations.is_empty() {
        out.push_str("observed:\n");
        for observation in &report.observations {
            let _ = writeln!(out, "  {}", observed(observation));
        }
    }
    if !report.findings.is_empty() {
        out.push_str("findings:\n");
        for finding in &report.findings {
            let rule = finding
                .rule
                .as_deref()
                .map(|rule| format!(" [{rule}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}: {}{rule}",
                finding.severity.name(),
                finding.code.as_str(),
                finding.message
            );
        }
    }
    if let Some(code) = report.exit_code {
        let _ = writeln!(out, "exit status: {code}");
    }
    out
}

fn verdict(action: Action) -> &'static str {
    match action {
        Action::Default | Action::Allow => "allow",
        Action::Warn => "warn",
        Action::Quarantine => "quarantine",
        Action::Block => "block",
    }
}

fn observed(observation: &Observation) -> String {
    match observation {
        Observation::Resolved { name } => format!("resolved   {name}"),
        Observation::Connected { address, port } => format!("connected  {address}:{port}"),
        Observation::ReadSecret { path, secret } => {
            format!("read       {path} (canary: {})", secret.describe())
        }
        Observation::Listened { address, port } => format!("listened   {address}:{port}"),
        Observation::ReadFile { path } => format!("read       {path}"),
        Observation::Wrote { path } => format!("wrote      {path}"),
        Observation::Deleted { path } => format!("deleted    {path}"),
        Observation::Renamed { from, to } => format!("renamed    {from} -> {to}"),
        Observation::Ran { path, argv } => format!("ran        {path}: {}", argv.join(" ")),
        Observation::RanAnswer => {
            "ran        what the sink answered a request with, as code".to_owned()
        }
        Observation::Sent {
            host,
            port,
            bytes,
            secrets,
            websocket,
            request,
        } => {
            let carried = if secrets.is_empty() {
                String::new()
            } else {
                format!(", carrying {}", secrets.join(" and "))
            };
            let upgrade = if *websocket {
                " (opening a WebSocket)"
            } else {
                ""
            };
            let asked = request.as_ref().map_or(String::new(), |request| {
                format!(" ({} {})", request.method, request.target)
            });
            format!(
                "sent       {bytes} bytes to {}:{port}{asked}{upgrade}{carried}",
                host.as_deref().unwrap_or("an address")
            )
        }
    }
}
