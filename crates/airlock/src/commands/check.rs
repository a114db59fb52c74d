//! `airlock check name@version`: the decision, as the proxy would make it now.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use airlock_npm::Clock;
use airlock_policy::{Decision, Verdict, WaiverKind};
use airlock_provenance::SignatureStatus;
use airlock_server::admin::{CheckReport, TrustReport, parse_name_version};
use airlock_server::trust::ProvenanceCheck;
use airlock_server::{AdvisoryHandle, AppState, PolicyHandle};
use anyhow::{Context as _, anyhow};

use crate::cli::{CheckArgs, ServeArgs, SetupArgs};
use crate::commands::client::{AdminClient, print_json};
use crate::config::Settings;

pub(crate) async fn run(args: CheckArgs, clock: Clock) -> anyhow::Result<ExitCode> {
    let report = if args.standalone {
        standalone(&args, clock).await?
    } else {
        AdminClient::new(&args.server)?
            .get::<CheckReport>(&format!("check/{}", args.spec))
            .await?
    };
    if args.server.json {
        print_json(&report)?;
    } else {
        print!("{}", describe(&report));
    }
    Ok(if report.decision.verdict.admits() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Decides in this process, with the same settings `airlock serve` would use.
async fn standalone(args: &CheckArgs, clock: Clock) -> anyhow::Result<CheckReport> {
    standalone_report(&args.spec, &args.setup, clock).await
}

/// The check report for `spec`, decided in this process.
pub(crate) async fn standalone_report(
    spec: &str,
    setup: &SetupArgs,
    clock: Clock,
) -> anyhow::Result<CheckReport> {
    let (name, version) =
        parse_name_version(spec).map_err(|error| anyhow!("{}", error.message()))?;
    let state = standalone_state(setup, clock).await?;
    let report = airlock_server::admin::check(&state, &name, &version)
        .await
        .map_err(|error| anyhow!("{}", error.message()))?;
    state.downloads().flush().await;
    Ok(report)
}

/// The server's state in this process: the same data directory, upstream and policy
/// `airlock serve` would use.
pub(crate) async fn standalone_state(setup: &SetupArgs, clock: Clock) -> anyhow::Result<AppState> {
    let settings = Settings::resolve(ServeArgs {
        setup: setup.clone(),
        ..ServeArgs::default()
    })
    .await?;
    let parts = super::serve::open(&settings).await?;
    let policy = PolicyHandle::load(settings.policy.clone(), parts.store.clone())
        .await
        .context("could not load the policy")?;
    let advisories = AdvisoryHandle::load(parts.store.clone())
        .await
        .context("could not load the imported advisories")?;
    let state = AppState::new(
        // One-shot: decide as the proxy would, without writing its decision log.
        airlock_server::ServerConfig {
            record_decisions: false,
            ..settings.server
        },
        parts.upstream,
        parts.store,
        (Arc::new(policy), Arc::new(advisories)),
        clock,
    );
    state
        .load_history()
        .await
        .context("could not read the download log")?;
    Ok(state)
}

fn describe(report: &CheckReport) -> String {
    let decision = &report.decision;
    let mut out = format!(
        "{}@{}: {}\n",
        report.package,
        report.version,
        verdict_text(decision)
    );
    if let Some(published) = &report.published {
        let _ = writeln!(out, "  published  {published}");
    }
    let mode = match decision.mode {
        airlock_policy::Mode::Enforce => "enforced",
        airlock_policy::Mode::DryRun => "dry-run: recorded, not enforced",
    };
    let _ = writeln!(out, "  policy     {} ({mode})", decision.policy_digest);
    if let Some(trust) = &report.trust {
        out.push_str(&describe_trust(trust));
    }
    for reason in &decision.reasons {
        let _ = writeln!(out, "  {:<22} {}", reason.code.as_str(), reason.message);
    }
    if let Some(waiver) = &decision.waived_by {
        let by = match waiver.kind {
            WaiverKind::Exception => format!(
                "approved by {}",
                waiver.author.as_deref().unwrap_or("unknown")
            ),
            WaiverKind::AllowList => "allowed by the policy's allow list".to_owned(),
        };
        let expires = waiver
            .expires
            .map(|at| format!(", until {at}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {by} (`{}`{expires}): {}",
            waiver.spec, waiver.reason
        );
    }
    if !decision.verdict.admits() {
        let _ = writeln!(
            out,
            "hint: to allow it, run `airlock approve {}@{} --reason \"<why it is safe>\"`",
            report.package, report.version
        );
    }
    out
}

/// Signature, provenance, publisher and the release line's history, one line each.
pub(crate) fn describe_trust(trust: &TrustReport) -> String {
    let mut out = String::new();
    let signature = match &trust.signature {
        SignatureStatus::Verified { keyids } => format!("verified ({})", keyids.join(", ")),
        SignatureStatus::Missing => "none (the registry sent no signature)".to_owned(),
        SignatureStatus::Invalid { reason } => format!("INVALID: {reason}"),
    };
    let _ = writeln!(out, "  signature  {signature}");
    let provenance = match &trust.provenance {
        None => "none listed".to_owned(),
        Some(ProvenanceCheck::Verified(attested)) => match &attested.provenance {
            Some(provenance) => {
                let mut text = format!(
                    "verified: {}",
                    provenance
                        .repository
                        .as_deref()
                        .unwrap_or("unknown repository")
                );
                if let Some(id) = &provenance.repository_id {
                    let _ = write!(text, " (id {id})");
                }
                if let Some(commit) = &provenance.commit {
                    let _ = write!(text, " at {commit}");
                }
                if let Some(workflow) = &provenance.workflow {
                    let _ = write!(text, ", workflow {workflow}");
                }
                if let Some(builder) = &provenance.builder {
                    let _ = write!(text, ", built by {builder}");
                }
                text
            }
            None => format!(
                "{} bundle(s) verified, no build provenance among them",
                attested.bundles
            ),
        },
        Some(ProvenanceCheck::Invalid { reason }) => format!("INVALID: {reason}"),
        Some(ProvenanceCheck::Unavailable { reason }) => format!("unavailable: {reason}"),
    };
    let _ = writeln!(out, "  provenance {provenance}");
    if let Some(publisher) = &trust.publisher {
        let email = publisher
            .email
            .as_deref()
            .map(|email| format!(" <{email}>"))
            .unwrap_or_default();
        let how = trust
            .trusted_publisher
            .as_deref()
            .map(|id| format!(", trusted publishing ({id})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  publisher  {}{email}{how}", publisher.name);
    }
    let baseline = &trust.baseline;
    if baseline.earlier == 0 {
        let _ = writeln!(
            out,
            "  history    first version of the {} line",
            baseline.line
        );
    } else {
        let accounts: Vec<String> = baseline
            .accounts
            .iter()
            .map(|(name, domains)| format!("{name} ({})", domains.join(", ")))
            .collect();
        let _ = writeln!(
            out,
            "  history    {} line: {} earlier version(s), {} with provenance, {} by trusted publishing; published by {}",
            baseline.line,
            baseline.earlier,
            baseline.with_provenance,
            baseline.with_trusted_publisher,
            accounts.join(", ")
        );
    }
    out
}

fn verdict_text(decision: &Decision) -> String {
    match &decision.verdict {
        Verdict::Quarantine { until: Some(until) } => format!("quarantine until {until}"),
        Verdict::Quarantine { until: None } => "quarantine until approved".to_owned(),
        verdict => verdict.name().to_owned(),
    }
}
