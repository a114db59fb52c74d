//! Packuments and version documents.

use std::time::Duration;

use airlock_server::ServerConfig;
use airlock_test::PackageBuilder;

use crate::harness::{Harness, config_with_max_age};

const ABBREVIATED: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

#[tokio::test]
async fn full_packument_keeps_upstream_fields_and_points_tarballs_at_airlock() {
    let harness = Harness::new().await;
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/json");
    let json = answer.json();
    let upstream = harness.registry.package("demo", "1.0.0").unwrap();
    let dist = &json["versions"]["1.0.0"]["dist"];
    assert_eq!(
        dist["tarball"],
        "http://airlock.test:4873/demo/-/demo-1.0.0.tgz"
    );
    assert_eq!(dist["integrity"], upstream.integrity.as_str());
    assert_eq!(dist["shasum"], upstream.shasum.as_str());
    assert!(
        json["time"]["1.0.0"].is_string(),
        "full documents carry per-version times"
    );
    assert_eq!(json["readme"], "A package served by the fake registry.");
    assert_eq!(json["dist-tags"]["latest"], "1.1.0");
}

#[tokio::test]
async fn abbreviated_packument_is_what_npm_asks_for() {
    let harness = Harness::new().await;
    let answer = harness.get_with("/demo", &[("accept", ABBREVIATED)]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        "application/vnd.npm.install-v1+json"
    );
    assert_eq!(answer.header("vary"), "Accept, Accept-Encoding");
    let json = answer.json();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "modified", "dist-tags", "versions"]);
    let version = json["versions"]["1.1.0"].as_object().unwrap();
    let keys: Vec<&String> = version.keys().collect();
    assert_eq!(keys, ["name", "version", "dependencies", "dist"]);
    // Airlock always asks upstream for the full document.
    let fetched = harness.registry.requests();
    assert_eq!(fetched.len(), 1);
}

#[tokio::test]
async fn scoped_names_work_in_both_spellings() {
    let harness = Harness::new().await;
    for path in ["/@scope%2flib", "/@scope%2Flib", "/@scope/lib"] {
        let answer = harness.get(path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(
            answer.json()["versions"]["2.0.0"]["dist"]["tarball"],
            "http://airlock.test:4873/@scope/lib/-/lib-2.0.0.tgz"
        );
    }
    assert_eq!(
        harness.registry.hits("/@scope%2flib"),
        1,
        "one upstream fetch, then the cache"
    );
}

#[tokio::test]
async fn public_url_wins_over_the_host_header() {
    let registry_config = ServerConfig {
        public_url: Some("https://npm.corp.example/airlock/".parse().unwrap()),
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(registry_config, Duration::from_secs(5)).await;
    let json = harness.get("/demo").await.json();
    assert_eq!(
        json["versions"]["1.0.0"]["dist"]["tarball"],
        "https://npm.corp.example/airlock/demo/-/demo-1.0.0.tgz"
    );
}

#[tokio::test]
async fn packuments_are_compressed_for_clients_that_ask_with_their_own_etag() {
    let harness = Harness::new().await;
    for minor in 0..20 {
        harness.registry.publish(
            PackageBuilder::new("wordy", &format!("1.{minor}.0"))
                .field(
                    "description",
                    serde_json::json!("a package with a long history ".repeat(40)),
                )
                .build(),
        );
    }
    let plain = harness.get("/wordy").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), "");
    assert!(plain.header("vary").contains("Accept-Encoding"));

    // npm and Yarn classic send `gzip,deflate`.
    let zipped = harness
        .get_with("/wordy", &[("accept-encoding", "gzip,deflate")])
        .await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), "gzip");
    assert!(zipped.header("vary").contains("Accept-Encoding"));
    assert!(
        zipped.body.len() * 3 < plain.body.len(),
        "{} vs {}",
        zipped.body.len(),
        plain.body.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain.body, "the same document");
    let etag = zipped.header("etag").to_owned();
    assert_ne!(
        etag,
        plain.header("etag"),
        "another representation, another ETag"
    );

    // Each representation revalidates against its own ETag.
    let again = harness
        .get_with(
            "/wordy",
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    let other = harness
        .get_with("/wordy", &[("if-none-match", &etag)])
        .await;
    assert_eq!(
        other.status, 200,
        "a plain request is not matched by the gzip ETag"
    );

    // pnpm, Yarn berry and Bun accept brotli too, and get it: smaller still.
    let brotli = harness
        .get_with("/wordy", &[("accept-encoding", "gzip, deflate, br")])
        .await;
    assert_eq!(brotli.status, 200);
    assert_eq!(brotli.header("content-encoding"), "br");
    assert!(
        brotli.body.len() < zipped.body.len(),
        "{} vs {}",
        brotli.body.len(),
        zipped.body.len()
    );
    let mut unbrotlied = Vec::new();
    std::io::Read::read_to_end(
        &mut brotli::Decompressor::new(&brotli.body[..], 4096),
        &mut unbrotlied,
    )
    .unwrap();
    assert_eq!(unbrotlied, plain.body, "the same document");
    let brotli_etag = brotli.header("etag").to_owned();
    assert!(brotli_etag.ends_with("-br\""), "{brotli_etag}");
    let cached = harness
        .get_with(
            "/wordy",
            &[("accept-encoding", "br"), ("if-none-match", &brotli_etag)],
        )
        .await;
    assert_eq!(cached.status, 304);
    let gzip_only = harness
        .get_with(
            "/wordy",
            &[("accept-encoding", "gzip"), ("if-none-match", &brotli_etag)],
        )
        .await;
    assert_eq!(gzip_only.status, 200, "the brotli ETag is not the gzip one");

    // `q=0` refuses gzip; version documents are compressed too.
    let refused = harness
        .get_with("/wordy", &[("accept-encoding", "gzip;q=0, identity")])
        .await;
    assert_eq!(refused.header("content-encoding"), "");
    let version = harness
        .get_with("/wordy/1.3.0", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(version.status, 200);
    assert_eq!(version.header("content-encoding"), "gzip");
    let version = harness
        .get_with("/wordy/1.3.0", &[("accept-encoding", "br")])
        .await;
    assert_eq!(version.header("content-encoding"), "br");
}

#[tokio::test]
async fn clients_get_304_for_an_unchanged_packument() {
    let harness = Harness::new().await;
    let first = harness.get_with("/demo", &[("accept", ABBREVIATED)]).await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"'));
    let second = harness
        .get_with(
            "/demo",
            &[("accept", ABBREVIATED), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(second.status, 304);
    assert!(second.body.is_empty());
    let full = harness.get_with("/demo", &[("if-none-match", &etag)]).await;
    assert_eq!(full.status, 200, "the full form has its own ETag");
}

#[tokio::test]
async fn revalidation_uses_the_upstream_etag() {
    let harness =
        Harness::with_config(config_with_max_age(Duration::ZERO), Duration::from_secs(5)).await;
    harness.get("/demo").await;
    harness.get("/demo").await;
    // Only the packument's requests: the newest version's tarball is fetched in the
    // background for analysis.
    let requests: Vec<_> = harness
        .registry
        .requests()
        .into_iter()
        .filter(|request| request.path == "/demo")
        .collect();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].if_none_match.is_none());
    assert!(
        requests[1].if_none_match.is_some(),
        "the second fetch is conditional"
    );
}

#[tokio::test]
async fn a_new_upstream_version_appears_after_max_age() {
    let harness =
        Harness::with_config(config_with_max_age(Duration::ZERO), Duration::from_secs(5)).await;
    harness.get("/demo").await;
    harness
        .registry
        .publish(PackageBuilder::new("demo", "1.2.0").build());
    let json = harness.get("/demo").await.json();
    assert_eq!(json["dist-tags"]["latest"], "1.2.0");
    assert!(json["versions"]["1.2.0"].is_object());
}

#[tokio::test]
async fn cache_survives_a_restart() {
    let mut harness = Harness::new().await;
    harness.get("/demo").await;
    harness.restart(ServerConfig::default()).await;
    harness.registry.faults(|faults| faults.status = Some(500));
    let answer = harness.get("/demo").await;
    assert_eq!(
        answer.status, 200,
        "served from SQLite without asking upstream"
    );
    assert_eq!(harness.registry.hits("/demo"), 1);
}

fn audit_request(packages: &[(&str, &str)]) -> airlock_server::audit::AuditRequest {
    airlock_server::audit::AuditRequest {
        packages: packages
            .iter()
            .map(|(name, version)| airlock_server::audit::AuditQuery {
                name: (*name).to_owned(),
                version: (*version).to_owned(),
            })
            .collect(),
        analyse: false,
    }
}

#[tokio::test]
async fn an_audit_after_a_restart_reads_stored_packuments_without_asking_upstream() {
    let mut harness = Harness::new().await;
    harness.get("/demo").await;
    harness.get("/@scope%2flib").await;
    harness.restart(ServerConfig::default()).await;
    harness.registry.faults(|faults| faults.status = Some(500));
    let request = audit_request(&[
        ("demo", "1.0.0"),
        ("@scope/lib", "2.0.0"),
        ("absent", "1.0.0"),
    ]);
    let answers = airlock_server::audit::audit(&harness.state, &request).await;
    let decided: Vec<(&str, bool)> = answers
        .iter()
        .map(|answer| (answer.name.as_str(), answer.decision.is_some()))
        .collect();
    assert_eq!(
        decided,
        [("@scope/lib", true), ("absent", false), ("demo", true)]
    );
    assert_eq!(harness.registry.hits("/demo"), 1);
    assert_eq!(harness.registry.hits("/@scope%2flib"), 1);
}

#[tokio::test]
async fn an_audit_revalidates_stored_packuments_older_than_max_age() {
    let mut harness = Harness::new().await;
    harness.get("/demo").await;
    harness
        .registry
        .publish(PackageBuilder::new("demo", "1.2.0").build());
    harness.restart(config_with_max_age(Duration::ZERO)).await;
    harness.registry.clear_requests();
    let answers =
        airlock_server::audit::audit(&harness.state, &audit_request(&[("demo", "1.2.0")])).await;
    assert!(answers[0].decision.is_some(), "{:?}", answers[0].error);
    let requests = harness.registry.requests();
    let revalidations: Vec<_> = requests
        .iter()
        .filter(|request| request.path == "/demo")
        .collect();
    assert_eq!(revalidations.len(), 1);
    assert!(
        revalidations[0].if_none_match.is_some(),
        "the stored copy's ETag is sent"
    );
}

#[tokio::test]
async fn version_documents_by_version_and_by_tag() {
    let harness = Harness::new().await;
    harness.registry.set_dist_tag("demo", "stable", "1.0.0");
    for (spec, version) in [("1.0.0", "1.0.0"), ("latest", "1.1.0"), ("stable", "1.0.0")] {
        let answer = harness.get(&format!("/demo/{spec}")).await;
        assert_eq!(answer.status, 200, "{spec}");
        let json = answer.json();
        assert_eq!(json["version"], version);
        assert_eq!(
            json["dist"]["tarball"],
            format!("http://airlock.test:4873/demo/-/demo-{version}.tgz")
        );
    }
    let scoped = harness.get("/@scope%2flib/2.0.0").await;
    assert_eq!(scoped.json()["name"], "@scope/lib");
    let missing = harness.get("/demo/9.9.9").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .error()
            .contains("`demo` has no version or dist-tag `9.9.9`"),
        "{}",
        missing.error()
    );
}

#[tokio::test]
async fn bad_names_are_client_errors_that_say_why() {
    let harness = Harness::new().await;
    for (path, fragment) in [
        ("/has%20space", "not URL-safe"),
        ("/.hidden", "starts with `.`"),
        ("/@scope", "`@scope/name`"),
        (&format!("/{}", "a".repeat(215)), "longer than 214"),
    ] {
        let answer = harness.get(path).await;
        assert_eq!(answer.status, 400, "{path}");
        let error = answer.error();
        assert!(
            error.contains(fragment) && error.contains("hint:"),
            "{path}: {error}"
        );
    }
    assert!(
        harness.registry.requests().is_empty(),
        "bad names never reach upstream"
    );
}

#[tokio::test]
async fn unknown_packages_are_404_with_a_hint() {
    let harness = Harness::new().await;
    let answer = harness.get("/no-such-package").await;
    assert_eq!(answer.status, 404);
    assert!(
        answer
            .error()
            .contains("`no-such-package` was not found upstream"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn upstream_down_without_cache_is_a_502_naming_the_upstream() {
    let harness = Harness::new().await;
    let url = harness.registry.url();
    harness.registry.faults(|faults| faults.status = Some(500));
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 502);
    let error = answer.error();
    assert!(
        error.contains(&url) && error.contains("status 500") && error.contains("hint:"),
        "{error}"
    );
}

#[tokio::test]
async fn unreachable_upstream_is_a_502() {
    let mut harness = Harness::new().await;
    harness.get("/demo").await;
    // A port nobody listens on: bind, read the port, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let upstream =
        airlock_upstream::Upstream::builder(format!("http://{closed}/").parse().unwrap())
            .retries(0)
            .build()
            .unwrap();
    let store = airlock_store::Store::open(&harness.dir.path().join("other"))
        .await
        .unwrap();
    let policy =
        airlock_server::PolicyHandle::fixed(airlock_policy::Policy::default(), store.clone())
            .await
            .unwrap();
    let advisories = airlock_server::AdvisoryHandle::load(store.clone())
        .await
        .unwrap();
    harness.state = airlock_server::AppState::new(
        ServerConfig::default(),
        upstream,
        store,
        (std::sync::Arc::new(policy), std::sync::Arc::new(advisories)),
        harness.clock.clone(),
    );
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 502);
    assert!(answer.error().contains("unreachable"), "{}", answer.error());
}

#[tokio::test]
async fn stale_if_error_serves_the_last_good_copy() {
    let harness =
        Harness::with_config(config_with_max_age(Duration::ZERO), Duration::from_secs(5)).await;
    assert_eq!(harness.get("/demo").await.status, 200);
    harness.registry.faults(|faults| faults.status = Some(503));
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 200, "stale copy while upstream fails");
    assert_eq!(answer.json()["dist-tags"]["latest"], "1.1.0");
}

#[tokio::test]
async fn stale_copies_expire() {
    let config = ServerConfig {
        metadata_max_age: Duration::ZERO,
        stale_if_error: Duration::ZERO,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    harness.get("/demo").await;
    harness.registry.faults(|faults| faults.status = Some(503));
    assert_eq!(harness.get("/demo").await.status, 502);
}

#[tokio::test]
async fn malformed_upstream_json_is_a_502_and_never_replaces_a_good_copy() {
    let harness =
        Harness::with_config(config_with_max_age(Duration::ZERO), Duration::from_secs(5)).await;
    harness.registry.faults(|faults| {
        faults.malformed.insert("@scope/lib".into());
    });
    let answer = harness.get("/@scope/lib").await;
    assert_eq!(answer.status, 502);
    let error = answer.error();
    assert!(
        error.contains("malformed packument for `@scope/lib`") && error.contains("not valid JSON"),
        "{error}"
    );

    assert_eq!(harness.get("/demo").await.status, 200);
    harness.registry.faults(|faults| {
        faults.malformed.insert("demo".into());
    });
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 200, "the last good copy is served");
    assert!(answer.json()["versions"]["1.1.0"].is_object());
}

#[tokio::test]
async fn transient_upstream_failures_are_retried() {
    let harness = Harness::new().await;
    harness.registry.faults(|faults| faults.fail_next = 1);
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 200);
    assert_eq!(harness.registry.hits("/demo"), 2);
}

/// A `Retry-After` the upstream sends is waited out when it is short, and not
/// at all when it is long: the client hears at once instead of after an hour
/// of retries (or after three retries in a few hundred milliseconds).
#[tokio::test]
async fn retry_after_is_honoured_within_a_bound() {
    let harness = Harness::new().await;
    harness.registry.faults(|faults| {
        faults.fail_next = 1;
        faults.retry_after = Some(1);
    });
    let started = std::time::Instant::now();
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry waited the second asked for: {:?}",
        started.elapsed()
    );
    assert_eq!(harness.registry.hits("/demo"), 2);

    harness.registry.clear_requests();
    harness.registry.faults(|faults| {
        faults.status = Some(429);
        faults.retry_after = Some(3600);
    });
    let started = std::time::Instant::now();
    let answer = harness.get("/@scope/lib").await;
    assert_ne!(answer.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        harness.registry.hits("/@scope%2flib"),
        1,
        "an hour's pause is not retried"
    );
}

/// A tarball that trickles in is cut off at its transfer deadline with a 504
/// that says so, and nothing is stored.
#[tokio::test]
async fn a_trickling_tarball_is_cut_at_its_deadline() {
    let harness = Harness::with_config(ServerConfig::default(), Duration::from_millis(500)).await;
    harness
        .registry
        .faults(|faults| faults.trickle_tarballs = Some(Duration::from_millis(100)));
    let started = std::time::Instant::now();
    let answer = harness.get("/demo/-/demo-1.0.0.tgz").await;
    assert_eq!(answer.status, 504, "{}", answer.error());
    assert!(answer.error().contains("too slowly"), "{}", answer.error());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(harness.blob_count(), 0);
}

#[tokio::test]
async fn slow_upstream_is_a_504() {
    let harness = Harness::with_config(ServerConfig::default(), Duration::from_millis(200)).await;
    harness
        .registry
        .faults(|faults| faults.latency = Duration::from_millis(600));
    let answer = harness.get("/demo").await;
    assert_eq!(answer.status, 504);
    assert!(
        answer.error().contains("did not answer"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn concurrent_packument_misses_share_one_upstream_fetch() {
    let harness = Harness::new().await;
    harness
        .registry
        .faults(|faults| faults.latency = Duration::from_millis(200));
    let answers = futures_util::future::join_all((0..16).map(|_| harness.get("/demo"))).await;
    assert!(answers.iter().all(|answer| answer.status == 200));
    assert_eq!(harness.registry.hits("/demo"), 1);
}
