//! `airlock advisories import` and `airlock exposure`, and reading advisory sources
//! (paths, and feeds by URL refreshed on a schedule).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use airlock_server::ImportReport;
use airlock_server::admin::{ExposureReport, NamedRecord};
use anyhow::Context as _;
use serde_json::json;
use url::Url;

use crate::cli::{AdvisoriesCommand, ExposureArgs};
use crate::commands::client::{AdminClient, print_json};
use crate::config::AdvisoryLocation;

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
    records.extend(records_of(&path.display().to_string(), &bytes)?);
    Ok(())
}

/// The OSV records in `bytes` named `name`: a zip export, a JSON array of records,
/// or one record.
fn records_of(name: &str, bytes: &[u8]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    if bytes.starts_with(b"PK\x03\x04") || name.ends_with(".zip") {
        return Ok(airlock_advisory::zip_records(bytes, name)?);
    }
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        let items: Vec<serde_json::Value> = serde_json::from_slice(bytes)
            .with_context(|| format!("`{name}` is not a JSON array of OSV records"))?;
        return items
            .into_iter()
            .enumerate()
            .map(|(index, item)| Ok((format!("{name}[{index}]"), serde_json::to_vec(&item)?)))
            .collect();
    }
    Ok(vec![(name.to_owned(), bytes.to_vec())])
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

/// Re-imports the source on a schedule; a failed fetch or import is logged and the
/// previous set stays in force (an import replaces its source's records atomically).
pub(crate) async fn refresh_periodically(
    state: airlock_server::AppState,
    location: AdvisoryLocation,
    every: std::time::Duration,
) {
    let mut feed = Feed::default();
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let read = match &location {
            AdvisoryLocation::Path(path) => {
                let path = path.clone();
                let source = std::fs::canonicalize(&path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
                    .to_string();
                tokio::task::spawn_blocking(move || read_source(&path))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|read| read.map(|records| Some((source, records))))
            }
            AdvisoryLocation::Url(url) => feed.fetch(url).await,
        };
        let (source, records) = match read {
            Ok(Some(found)) => found,
            Ok(None) => {
                tracing::debug!("the advisory feed has not changed");
                continue;
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "advisory import failed; the previous advisories stay in force"
                );
                continue;
            }
        };
        match airlock_server::admin::import_records(&state, &source, records).await {
            Ok(_) => feed.imported(),
            Err(error) => tracing::error!(
                error = error.message(),
                "advisory import failed; the previous advisories stay in force"
            ),
        }
    }
}

/// An advisory feed fetched by URL: conditional requests against the last answer
/// imported, so an unchanged feed costs one 304.
#[derive(Default)]
struct Feed {
    /// The validators of the answer being imported, and of the last one imported.
    pending: Option<(Option<String>, Option<String>)>,
    imported: Option<(Option<String>, Option<String>)>,
}

/// The largest feed Airlock downloads (the OSV npm export is tens of megabytes).
const MAX_FEED: usize = 512 * 1024 * 1024;

impl Feed {
    /// The feed's records, or `None` when it has not changed since the last import.
    async fn fetch(
        &mut self,
        url: &Url,
    ) -> anyhow::Result<Option<(String, Vec<(String, Vec<u8>)>)>> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_mins(10))
            .build()?;
        let mut request = client.get(url.clone());
        if let Some((etag, modified)) = &self.imported {
            if let Some(etag) = etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
            }
        }
        let shown = redacted(url);
        let mut response = request
            .send()
            .await
            .with_context(|| format!("could not fetch the advisory feed {shown}"))?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !response.status().is_success() {
            anyhow::bail!("the advisory feed {shown} answered {}", response.status());
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        let validators = (
            header(reqwest::header::ETAG),
            header(reqwest::header::LAST_MODIFIED),
        );
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("the advisory feed {shown} broke off"))?
        {
            if body.len() + chunk.len() > MAX_FEED {
                anyhow::bail!(
                    "the advisory feed {shown} is larger than {} MiB",
                    MAX_FEED >> 20
                );
            }
            body.extend_from_slice(&chunk);
        }
        let name = url.path().rsplit('/').next().unwrap_or("feed").to_owned();
        let records = records_of(&name, &body)?;
        for (record, bytes) in &records {
            airlock_advisory::parse_record(bytes, record)?;
        }
        self.pending = Some(validators);
        Ok(Some((shown, records)))
    }

    /// The fetched answer was imported: the next request is conditional on it.
    fn imported(&mut self) {
        if let Some(validators) = self.pending.take() {
            self.imported = Some(validators);
        }
    }
}

/// A URL without its credentials or query, for logs and source names.
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}
