//! `airlock advisories import` and `airlock exposure`, and reading advisory sources.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use airlock_server::ImportReport;
use airlock_server::admin::{ExposureReport, NamedRecord};
use anyhow::Context as _;
use serde_json::json;

use crate::cli::{AdvisoriesCommand, ExposureArgs};
use crate::commands::client::{AdminClient, print_json};

/// Reads an advisory source: a directory tree of `.json` records (and `.zip`
/// exports), a zip export, or one JSON file holding a record or an array of them.
/// Every record is checked before anything is returned, so a broken file fails the
/// whole source.
pub(crate) fn read_source(path: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut records = Vec::new();
    if path.is_dir() {
        for file in walk(path)? {
            read_file(&file, &mut records)?;
        }
    } else {
        read_file(path, &mut records)?;
    }
    for (name, bytes) in &records {
        airlock_advisory::parse_record(bytes, name)?;
    }
    Ok(records)
}

fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("could not read the directory `{}`", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("could not read the directory `{}`", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|extension| extension.to_str()),
                Some("json" | "zip")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read_file(path: &Path, records: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read `{}`", path.display()))?;
    let name = path.display().to_string();
    if path.extension().is_some_and(|extension| extension == "zip") {
        records.extend(airlock_advisory::zip_records(&bytes, &name)?);
        return Ok(());
    }
    // A file may hold one record or an array of them.
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        let items: Vec<serde_json::Value> = serde_json::from_slice(&bytes)
            .with_context(|| format!("`{name}` is not a JSON array of OSV records"))?;
        for (index, item) in items.into_iter().enumerate() {
            records.push((format!("{name}[{index}]"), serde_json::to_vec(&item)?));
        }
    } else {
        records.push((name, bytes));
    }
    Ok(())
}

pub(crate) async fn run(command: AdvisoriesCommand) -> anyhow::Result<ExitCode> {
    let AdvisoriesCommand::Import { path, server } = command;
    let records = read_source(&path).with_context(|| {
        format!(
            "nothing was imported from `{}`; the previous advisories stay in force",
            path.display()
        )
    })?;
    let records: Vec<NamedRecord> = records
        .into_iter()
        .map(|(name, bytes)| {
            let record =
                serde_json::from_slice(&bytes).with_context(|| format!("`{name}` is not JSON"))?;
            Ok(NamedRecord { name, record })
        })
        .collect::<anyhow::Result<_>>()?;
    let source = std::fs::canonicalize(&path)
        .unwrap_or(path)
        .display()
        .to_string();
    let body = json!({ "source": source, "records": records });
    let report: ImportReport = AdminClient::new(&server)?.post("advisories", &body).await?;
    if server.json {
        print_json(&report)?;
    } else {
        println!(
            "imported {} advisories from `{}` ({} skipped: withdrawn or not npm); {} in force",
            report.imported, report.source, report.skipped, report.total
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn exposure(args: ExposureArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.server)?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("spec", &args.spec);
    let report: ExposureReport = client.get(&format!("exposure?{}", query.finish())).await?;
    if args.server.json {
        print_json(&report)?;
        return Ok(exit_code(&report));
    }
    if report.downloads.is_empty() {
        println!("no machine downloaded `{}` through Airlock", report.spec);
    } else {
        println!(
            "`{}` was downloaded {} times:",
            report.spec,
            report.downloads.len()
        );
        println!(
            "{:<26} {:<14} {:<22} {:<30} {:<10} token",
            "when", "version", "client", "user agent", "decision"
        );
        for download in &report.downloads {
            let agent: String = download
                .user_agent
                .as_deref()
                .unwrap_or("-")
                .chars()
                .take(30)
                .collect();
            println!(
                "{:<26} {:<14} {:<22} {:<30} {:<10} {}",
                download.at,
                download.version,
                download.client.as_deref().unwrap_or("-"),
                agent,
                download.verdict,
                download.token_name.as_deref().unwrap_or("-")
            );
        }
    }
    if !report.refused_requests.is_empty() {
        println!(
            "{} requests were refused (nothing was served):",
            report.refused_requests.len()
        );
        for request in &report.refused_requests {
            println!(
                "  {:<26} {:<14} {:<22} {} [{}]",
                request.at,
                request.version,
                request.client.as_deref().unwrap_or("-"),
                request.verdict,
                request.codes.join(", ")
            );
        }
    }
    if !report.advisories.is_empty() {
        println!("advisories: {}", report.advisories.join(", "));
    }
    for takedown in &report.takedowns {
        println!(
            "taken down upstream: {}@{} ({}, noticed {})",
            takedown.package, takedown.version, takedown.kind, takedown.noticed
        );
    }
    Ok(exit_code(&report))
}

/// 1 when anything was downloaded: the exposure is a finding.
fn exit_code(report: &ExposureReport) -> ExitCode {
    if report.downloads.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Re-imports `path` on a schedule; a failed import is logged and the previous set stays.
pub(crate) async fn refresh_periodically(
    state: airlock_server::AppState,
    path: PathBuf,
    every: std::time::Duration,
) {
    let source = std::fs::canonicalize(&path)
        .unwrap_or_else(|_| path.clone())
        .display()
        .to_string();
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let read = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || read_source(&path)).await
        };
        let records = match read {
            Ok(Ok(records)) => records,
            Ok(Err(error)) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "advisory import failed; the previous advisories stay in force"
                );
                continue;
            }
            Err(error) => {
                tracing::error!(%error, "advisory import task failed");
                continue;
            }
        };
        if let Err(error) = airlock_server::admin::import_records(&state, &source, records).await {
            tracing::error!(
                error = error.message(),
                "advisory import failed; the previous advisories stay in force"
            );
        }
    }
}
