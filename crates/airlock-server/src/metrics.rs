//! Prometheus metrics. Every metric Airlock exports is written down here, one
//! function per thing measured, so this file is the list of names and labels.
//! Labels never carry package names: their number stays bounded.
//!
//! Counters and histograms go through the `metrics` facade to one process-wide
//! recorder; gauges that describe state (queues, disk, advisory age) are read
//! when the page is scraped.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request latency buckets, in seconds: a warm tarball is well under a
/// millisecond, a cold packument or a first analysis takes seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Analysis duration buckets, in seconds.
const ANALYSIS_BUCKETS: &[f64] = &[0.001, 0.005, 0.02, 0.1, 0.5, 1.0, 5.0, 30.0];

/// The process-wide recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_duration_seconds".to_owned()),
                LATENCY_BUCKETS,
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full("airlock_analysis_duration_seconds".to_owned()),
                    ANALYSIS_BUCKETS,
                )
            })
            .expect("the bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder was installed first (an embedding
        // program's); Airlock's page then shows the gauges alone.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; /-/airlock/metrics shows gauges only"
            );
        }
        handle
    })
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the recorder, so that the first scrape already lists what happened,
/// and starts its upkeep: histogram samples wait in a queue until folded into
/// their buckets, and without upkeep a server nobody scrapes would keep every
/// sample.
pub(crate) fn install() {
    static UPKEEP: OnceLock<()> = OnceLock::new();
    let handle = handle();
    UPKEEP.get_or_init(|| {
        let handle = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    handle.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the metrics upkeep thread");
        }
    });
}

/// What a request was for; a fixed set, never a package name.
pub(crate) fn route_of(path: &str) -> &'static str {
    if let Some(rest) = path.strip_prefix("/-/airlock/") {
        return match rest {
            "metrics" => "metrics",
            rest if rest.starts_with("health/") => "health",
            _ => "admin",
        };
    }
    if path.starts_with("/-/") {
        return "registry-api";
    }
    if path == "/" {
        return "root";
    }
    if path.contains("/-/") {
        return "tarball";
    }
    // `/name`, `/@scope/name` (or `/@scope%2fname`): a packument; one more segment
    // is a version document.
    let segments = path
        .trim_start_matches('/')
        .split('/')
        .filter(|segment| !segment.is_empty())
        .count();
    let scoped = path.starts_with("/@") && !path.to_ascii_lowercase().contains("%2f");
    match segments - usize::from(scoped) {
        0 | 1 => "packument",
        _ => "version",
    }
}

/// One answered request.
pub(crate) fn request(route: &'static str, status: u16, took: Duration) {
    metrics::counter!("airlock_http_requests_total", "route" => route, "status" => status_label(status))
        .increment(1);
    metrics::histogram!("airlock_http_request_duration_seconds", "route" => route)
        .record(took.as_secs_f64());
}

fn status_label(status: u16) -> &'static str {
    const LABELS: &[(u16, &str)] = &[
        (200, "200"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (410, "410"),
        (413, "413"),
        (451, "451"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    LABELS.iter().find(|(code, _)| *code == status).map_or(
        match status {
            100..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        },
        |(_, label)| label,
    )
}

/// Where a packument or tarball came from: `memory`, `disk`, `revalidated` (the
/// upstream answered 304) or `upstream`.
pub(crate) fn cache(kind: &'static str, source: &'static str) {
    metrics::counter!("airlock_cache_lookups_total", "kind" => kind, "source" => source)
        .increment(1);
}

/// One request to the upstream (`packument`, `tarball`, `passthrough`) and how it
/// ended (`ok`, `not-modified`, `not-found`, `error`).
pub(crate) fn upstream(kind: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!("airlock_upstream_requests_total", "kind" => kind, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("airlock_upstream_duration_seconds", "kind" => kind)
        .record(took.as_secs_f64());
}

/// One decision that answered a client: a tarball or version document served or
/// refused, with the verdict and the codes that decided it.
pub(crate) fn decision(decision: &airlock_policy::Decision) {
    let verdict = decision.verdict.name();
    let codes = decision.codes();
    if codes.is_empty() {
        metrics::counter!("airlock_decisions_total", "verdict" => verdict, "code" => "none")
            .increment(1);
    }
    for code in codes {
        metrics::counter!("airlock_decisions_total", "verdict" => verdict, "code" => code.as_str())
            .increment(1);
    }
}

/// Versions left out of a packument that was served.
pub(crate) fn withheld(versions: usize) {
    metrics::counter!("airlock_withheld_versions_total").increment(versions as u64);
}

/// One finished analysis, by its worst finding's severity (`none` when clean).
pub(crate) fn analysis(worst: &'static str, took: Duration) {
    metrics::counter!("airlock_analyses_total", "worst" => worst).increment(1);
    metrics::histogram!("airlock_analysis_duration_seconds").record(took.as_secs_f64());
}

/// A download record the database refused.
pub(crate) fn download_log_failure() {
    metrics::counter!("airlock_download_log_failures_total").increment(1);
}

/// State read at scrape time.
pub(crate) struct Gauges {
    pub(crate) analyses_running: usize,
    pub(crate) analyses_waiting: usize,
    pub(crate) download_log_backlog: usize,
    pub(crate) advisory_records: usize,
    /// Time since the advisory set was last imported; `None` when never.
    pub(crate) advisory_age: Option<Duration>,
    pub(crate) database_bytes: u64,
    pub(crate) blob_bytes: u64,
    pub(crate) blob_files: u64,
}

/// One advisory source for the gauges: its name, records, and last import (Unix
/// milliseconds).
pub(crate) struct SourceGauge<'a> {
    pub(crate) source: &'a str,
    pub(crate) records: usize,
    pub(crate) imported_ms: i64,
}

/// The page Prometheus scrapes: the recorded metrics, then the gauges, then each
/// advisory source's records and age at `now_ms`.
pub(crate) fn render(gauges: &Gauges, sources: &[SourceGauge<'_>], now_ms: i64) -> String {
    let mut page = handle().render();
    let rows: [(&str, &str, String); 8] = [
        (
            "airlock_analyses_running",
            "Analyses running now.",
            gauges.analyses_running.to_string(),
        ),
        (
            "airlock_analyses_waiting",
            "Analyses waiting for a slot.",
            gauges.analyses_waiting.to_string(),
        ),
        (
            "airlock_download_log_backlog",
            "Download records waiting to be committed.",
            gauges.download_log_backlog.to_string(),
        ),
        (
            "airlock_advisory_records",
            "Advisory records in force.",
            gauges.advisory_records.to_string(),
        ),
        (
            "airlock_advisory_age_seconds",
            "Seconds since advisories were last imported (-1: never).",
            gauges.advisory_age.map_or_else(
                || "-1".to_owned(),
                |age| format!("{:.3}", age.as_secs_f64()),
            ),
        ),
        (
            "airlock_database_bytes",
            "Size of the database files.",
            gauges.database_bytes.to_string(),
        ),
        (
            "airlock_blob_bytes",
            "Size of the stored tarballs.",
            gauges.blob_bytes.to_string(),
        ),
        (
            "airlock_blob_files",
            "Stored tarballs.",
            gauges.blob_files.to_string(),
        ),
    ];
    for (name, help, value) in rows {
        let _ = write!(
            page,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        );
    }
    if !sources.is_empty() {
        page.push_str("# HELP airlock_advisory_source_records Advisory records in force, per source.\n# TYPE airlock_advisory_source_records gauge\n");
        for source in sources {
            let _ = writeln!(
                page,
                "airlock_advisory_source_records{{source=\"{}\"}} {}",
                label(source.source),
                source.records
            );
        }
        page.push_str("# HELP airlock_advisory_source_age_seconds Seconds since each source was last imported.\n# TYPE airlock_advisory_source_age_seconds gauge\n");
        for source in sources {
            let age =
                Duration::from_millis(u64::try_from(now_ms - source.imported_ms).unwrap_or(0));
            let _ = writeln!(
                page,
                "airlock_advisory_source_age_seconds{{source=\"{}\"}} {:.3}",
                label(source.source),
                age.as_secs_f64()
            );
        }
    }
    page
}

/// A Prometheus label value: backslashes, quotes and newlines escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_fixed_set_and_never_a_package_name() {
        let cases = [
            ("/", "root"),
            ("/react", "packument"),
            ("/@types/node", "packument"),
            ("/@types%2fnode", "packument"),
            ("/react/18.2.0", "version"),
            ("/@types/node/latest", "version"),
            ("/react/-/react-18.2.0.tgz", "tarball"),
            ("/@types/node/-/node-20.0.0.tgz", "tarball"),
            ("/-/npm/v1/keys", "registry-api"),
            ("/-/airlock/quarantine", "admin"),
            ("/-/airlock/metrics", "metrics"),
            ("/-/airlock/health/ready", "health"),
            ("/metrics", "packument"),
        ];
        for (path, route) in cases {
            assert_eq!(route_of(path), route, "{path}");
        }
    }

    #[test]
    fn statuses_outside_the_table_fall_into_their_class() {
        assert_eq!(status_label(200), "200");
        assert_eq!(status_label(206), "2xx");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
    }
}

/// How often the blob directory is walked for the disk-usage gauges.
const USAGE_EVERY: Duration = Duration::from_mins(1);

/// The last walk of the blob directory, for the gauges: (when, files, bytes).
#[derive(Default)]
pub(crate) struct BlobUsage(std::sync::Mutex<Option<(std::time::Instant, u64, u64)>>);

impl BlobUsage {
    /// Files and bytes in the blob store, walked at most once a minute.
    pub(crate) async fn get(&self, blobs: &airlock_store::BlobStore) -> (u64, u64) {
        let cached = *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, files, bytes)) = cached
            && at.elapsed() < USAGE_EVERY
        {
            return (files, bytes);
        }
        let blobs = blobs.clone();
        let (files, bytes) = tokio::task::spawn_blocking(move || blobs.usage())
            .await
            .unwrap_or_default();
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), files, bytes));
        (files, bytes)
    }
}
