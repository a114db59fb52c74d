//! Health checks and the Prometheus page.

use std::time::Duration;

use airlock_server::{MetricsAccess, ServerConfig};

use crate::harness::{ADMIN_TOKEN, Harness};

/// The page parsed by a Prometheus text-format parser.
fn parse(body: &[u8]) -> prometheus_parse::Scrape {
    let text = std::str::from_utf8(body).expect("the page is UTF-8");
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    prometheus_parse::Scrape::parse(lines).expect("the page parses as Prometheus text")
}

/// The value of the sample `name` whose labels include `labels` (0 when absent).
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, wanted)| sample.labels.get(key) == Some(*wanted))
        })
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(value)
            | prometheus_parse::Value::Gauge(value)
            | prometheus_parse::Value::Untyped(value) => value,
            prometheus_parse::Value::Histogram(ref buckets) => {
                buckets.last().map_or(0.0, |bucket| bucket.count)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn the_metrics_page_parses_and_counts_what_was_served() {
    let harness = Harness::new().await;
    let before = parse(&harness.get("/-/airlock/metrics").await.body);

    assert_eq!(harness.get("/demo").await.status, 200);
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);

    let page = harness.get("/-/airlock/metrics").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/plain"));
    let after = parse(&page.body);
    let grew = |name: &str, labels: &[(&str, &str)], by: f64| {
        let (old, new) = (value(&before, name, labels), value(&after, name, labels));
        assert!(
            new - old >= by,
            "{name}{labels:?} went from {old} to {new}, expected +{by}"
        );
    };
    grew(
        "airlock_http_requests_total",
        &[("route", "tarball"), ("status", "200")],
        2.0,
    );
    grew(
        "airlock_http_requests_total",
        &[("route", "packument"), ("status", "200")],
        1.0,
    );
    grew(
        "airlock_cache_lookups_total",
        &[("kind", "tarball"), ("source", "upstream")],
        1.0,
    );
    grew(
        "airlock_upstream_requests_total",
        &[("kind", "packument"), ("outcome", "ok")],
        1.0,
    );
    grew("airlock_decisions_total", &[("verdict", "allow")], 2.0);
    grew("airlock_analyses_total", &[], 1.0);
    grew(
        "airlock_http_request_duration_seconds_count",
        &[("route", "tarball")],
        2.0,
    );
    // No label names a package.
    let text = String::from_utf8_lossy(&page.body);
    assert!(!text.contains("demo"), "a package name leaked into a label");
}

#[tokio::test]
async fn gauges_describe_this_servers_state() {
    let harness = Harness::new().await;
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    // The blob directory is walked at most once a minute; this is the first scrape.
    let page = parse(&harness.get("/-/airlock/metrics").await.body);
    assert!((value(&page, "airlock_blob_files", &[]) - 1.0).abs() < f64::EPSILON);
    assert!(value(&page, "airlock_blob_bytes", &[]) > 0.0);
    assert!(value(&page, "airlock_database_bytes", &[]) > 0.0);
    assert!(
        value(&page, "airlock_advisory_age_seconds", &[]) < 0.0,
        "never imported"
    );
    assert!(value(&page, "airlock_analyses_waiting", &[]).abs() < f64::EPSILON);
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let harness = Harness::new().await;
    let live = harness.get("/-/airlock/health/live").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "live");
    let ready = harness.get("/-/airlock/health/ready").await;
    assert_eq!(
        ready.status,
        200,
        "{}",
        String::from_utf8_lossy(&ready.body)
    );
    assert_eq!(ready.json()["status"], "ready");
    assert_eq!(ready.json()["database"], "ok");
    // The rest of the admin API still needs the token.
    assert_eq!(harness.get("/-/airlock/quarantine").await.status, 401);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let harness = Harness::new().await;
    harness.state.store().clone().close().await;
    let ready = harness.get("/-/airlock/health/ready").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["status"], "not-ready");
    assert_ne!(ready.json()["database"], "ok");
    assert_eq!(harness.get("/-/airlock/health/live").await.status, 200);
}

#[tokio::test]
async fn metrics_access_is_configurable() {
    let admin_only = Harness::with_config(
        ServerConfig {
            metrics_access: MetricsAccess::Admin,
            ..ServerConfig::default()
        },
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(admin_only.get("/-/airlock/metrics").await.status, 401);
    let with_token = admin_only
        .get_with(
            "/-/airlock/metrics",
            &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        )
        .await;
    assert_eq!(with_token.status, 200);
    parse(&with_token.body);

    let off = Harness::with_config(
        ServerConfig {
            metrics_access: MetricsAccess::Off,
            ..ServerConfig::default()
        },
        Duration::from_secs(5),
    )
    .await;
    let answer = off.get("/-/airlock/metrics").await;
    assert_eq!(answer.status, 404);
    assert!(
        answer.error().contains("metrics.access"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn a_package_named_metrics_is_still_a_package() {
    let harness = Harness::new().await;
    harness
        .registry
        .publish(airlock_test::PackageBuilder::new("metrics", "1.0.0").build());
    let answer = harness.get("/metrics").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["name"], "metrics");
}
