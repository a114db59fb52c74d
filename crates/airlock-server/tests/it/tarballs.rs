//! The tarball path: verification, caching, coalescing.

use std::time::Duration;

use airlock_test::PackageBuilder;

use crate::harness::{Harness, config_with_max_age};

#[tokio::test]
async fn tarballs_are_verified_stored_and_served_from_the_store() {
    let harness = Harness::new().await;
    let package = harness.registry.package("@scope/lib", "2.0.0").unwrap();
    let path = "/@scope/lib/-/lib-2.0.0.tgz";
    let answer = harness.get(path).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, package.tarball);
    assert_eq!(
        answer.header("content-length"),
        package.tarball.len().to_string()
    );
    assert_eq!(answer.header("content-type"), "application/octet-stream");
    assert!(answer.header("cache-control").contains("immutable"));
    assert_eq!(harness.blob_count(), 1);

    harness.registry.faults(|faults| faults.status = Some(500));
    let again = harness.get(path).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, package.tarball);
    let upstream_fetches = harness.registry.hits("/@scope/lib/-/lib-2.0.0.tgz");
    assert_eq!(upstream_fetches, 1);

    let etag = again.header("etag").to_owned();
    let cached = harness.get_with(path, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status, 304);
}

#[tokio::test]
async fn integrity_mismatch_is_refused_and_nothing_is_kept() {
    let harness = Harness::new().await;
    harness
        .registry
        .faults(|faults| faults.corrupt_tarballs = true);
    let answer = harness.get("/demo/-/demo-1.0.0.tgz").await;
    assert_eq!(answer.status, 502);
    let error = answer.error();
    assert!(
        error.contains("integrity mismatch") && error.contains("`demo@1.0.0`"),
        "{error}"
    );
    assert!(error.contains("stored nothing"), "{error}");
    assert_eq!(harness.blob_count(), 0);
    assert_eq!(
        std::fs::read_dir(harness.dir.path().join("tmp"))
            .unwrap()
            .count(),
        0
    );

    harness
        .registry
        .faults(|faults| faults.corrupt_tarballs = false);
    let answer = harness.get("/demo/-/demo-1.0.0.tgz").await;
    assert_eq!(answer.status, 200, "a later good download is accepted");
}

#[tokio::test]
async fn a_broken_off_download_stores_nothing() {
    let harness = Harness::new().await;
    harness
        .registry
        .faults(|faults| faults.truncate_tarballs = true);
    let answer = harness.get("/demo/-/demo-1.0.0.tgz").await;
    assert_eq!(answer.status, 502);
    assert!(answer.error().contains("broke off"), "{}", answer.error());
    assert_eq!(harness.blob_count(), 0);
    assert_eq!(
        std::fs::read_dir(harness.dir.path().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn concurrent_tarball_misses_share_one_upstream_fetch() {
    let harness = Harness::new().await;
    harness.get("/demo").await;
    harness
        .registry
        .faults(|faults| faults.latency = Duration::from_millis(300));
    let package = harness.registry.package("demo", "1.1.0").unwrap();
    let answers =
        futures_util::future::join_all((0..24).map(|_| harness.get("/demo/-/demo-1.1.0.tgz")))
            .await;
    for answer in &answers {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, package.tarball);
    }
    assert_eq!(harness.registry.hits("/demo/-/demo-1.1.0.tgz"), 1);
}

#[tokio::test]
async fn a_version_newer_than_the_cached_packument_is_found_not_404() {
    // Max age is long: only a tarball request for an unknown version forces a refresh.
    let harness = Harness::with_config(
        config_with_max_age(Duration::from_hours(1)),
        Duration::from_secs(5),
    )
    .await;
    harness.get("/demo").await;
    harness
        .registry
        .publish(PackageBuilder::new("demo", "1.2.0").build());
    let answer = harness.get("/demo/-/demo-1.2.0.tgz").await;
    assert_eq!(answer.status, 200);
    assert_eq!(harness.registry.hits("/demo"), 2);
}

#[tokio::test]
async fn tarballs_of_unknown_versions_are_404() {
    let harness = Harness::new().await;
    let answer = harness.get("/demo/-/demo-7.0.0.tgz").await;
    assert_eq!(answer.status, 404);
    assert!(
        answer.error().contains("`demo@7.0.0` is not listed"),
        "{}",
        answer.error()
    );
    let answer = harness.get("/demo/-/other-1.0.0.tgz").await;
    assert_eq!(answer.status, 404);
    assert!(
        answer.error().contains("is not a tarball of `demo`"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn old_packages_with_only_a_sha1_are_verified_by_it() {
    let harness = Harness::new().await;
    let mut package = PackageBuilder::new("ancient", "0.1.0").build();
    package.integrity = String::new();
    harness.registry.publish(package.clone());
    let answer = harness.get("/ancient/-/ancient-0.1.0.tgz").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, package.tarball);

    harness
        .registry
        .faults(|faults| faults.corrupt_tarballs = true);
    let mut corrupt = PackageBuilder::new("ancient", "0.2.0").build();
    corrupt.integrity = String::new();
    harness.registry.publish(corrupt);
    let answer = harness.get("/ancient/-/ancient-0.2.0.tgz").await;
    assert_eq!(answer.status, 502);
    assert!(answer.error().contains("sha1-"), "{}", answer.error());
}

#[tokio::test]
async fn versions_without_any_digest_are_never_served() {
    let harness = Harness::new().await;
    let mut package = PackageBuilder::new("unverifiable", "1.0.0").build();
    package.integrity = String::new();
    package.shasum = String::new();
    harness.registry.publish(package);
    let answer = harness.get("/unverifiable/-/unverifiable-1.0.0.tgz").await;
    assert_eq!(answer.status, 502);
    assert!(
        answer.error().contains("no usable digest"),
        "{}",
        answer.error()
    );
    assert_eq!(
        harness
            .registry
            .hits("/unverifiable/-/unverifiable-1.0.0.tgz"),
        0
    );
}

/// A packument may point tarballs only at the upstream's own host: not at another
/// port of the same machine, not at another loopback address, whatever the file's
/// integrity.
#[tokio::test]
async fn tarballs_pointed_at_other_hosts_are_not_fetched() {
    let harness = Harness::new().await;
    let elsewhere = airlock_test::FakeRegistry::start().await;
    let package = airlock_test::PackageBuilder::new("pointed", "1.0.0").build();
    elsewhere.publish(package.clone());
    let other_port = format!("http://{}/pointed/-/pointed-1.0.0.tgz", elsewhere.addr());
    let other_address = format!(
        "http://127.0.0.2:{}/pointed/-/pointed-1.0.0.tgz",
        elsewhere.addr().port()
    );
    for (version, url) in [("1.0.0", other_port), ("1.0.1", other_address)] {
        let mut package = airlock_test::PackageBuilder::new("pointed", version)
            .published(airlock_test::days_ago(30))
            .build();
        package
            .dist
            .insert("tarball".into(), serde_json::json!(url));
        harness.registry.publish(package);
        let answer = harness
            .get(&format!("/pointed/-/pointed-{version}.tgz"))
            .await;
        assert_eq!(answer.status, 502, "{}", answer.error());
        assert!(
            answer.error().contains("upstream.tarball_hosts"),
            "{}",
            answer.error()
        );
    }
    assert_eq!(elsewhere.hits("/pointed/-/pointed-1.0.0.tgz"), 0);
    assert_eq!(harness.blob_count(), 0);
}

/// Nothing leaves unlogged: while the download journal cannot be written (here its
/// directory is replaced by a file; a full disk fails the same write), tarballs are
/// refused with a 503 that says why; once it can, they are served and recorded.
#[tokio::test]
async fn a_download_that_cannot_be_logged_is_not_served() {
    let harness = Harness::new().await;
    let path = "/@scope/lib/-/lib-2.0.0.tgz";
    let journal = harness.dir.path().join("journal");
    assert_eq!(harness.get(path).await.status, 200);
    // Folded and sealed: the next record starts a new segment.
    harness.state.downloads().flush().await;
    std::fs::remove_dir_all(&journal).unwrap();
    std::fs::write(&journal, "not a directory").unwrap();
    let answer = harness.get(path).await;
    assert_eq!(answer.status, 503, "{}", answer.error());
    assert!(
        answer.error().contains("download log"),
        "{}",
        answer.error()
    );

    std::fs::remove_file(&journal).unwrap();
    std::fs::create_dir(&journal).unwrap();
    assert_eq!(harness.get(path).await.status, 200);
    assert_eq!(served_downloads(&harness, "@scope/lib").await, 2);
}

/// A database that refuses the download log's records (a trigger here) delays them
/// and loses none: tarballs are still served, their records wait in the journal, and
/// they reach the log once the database writes again.
#[tokio::test]
async fn download_records_the_database_refuses_wait_in_the_journal() {
    use sqlx::ConnectOptions as _;
    let harness = Harness::new().await;
    let path = "/@scope/lib/-/lib-2.0.0.tgz";
    let mut database = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(harness.dir.path().join("airlock.db"))
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER refused BEFORE INSERT ON downloads BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END",
    )
    .execute(&mut database)
    .await
    .unwrap();
    for _ in 0..3 {
        assert_eq!(harness.get(path).await.status, 200);
    }
    assert_eq!(served_downloads(&harness, "@scope/lib").await, 0);
    assert_eq!(harness.state.downloads().backlog(), 3);

    sqlx::query("DROP TRIGGER refused")
        .execute(&mut database)
        .await
        .unwrap();
    assert_eq!(served_downloads(&harness, "@scope/lib").await, 3);
    assert_eq!(harness.state.downloads().backlog(), 0);
}

/// Served downloads of `package` in the download log, as the admin API lists them.
async fn served_downloads(harness: &Harness, package: &str) -> usize {
    let downloads = harness
        .admin("GET", &format!("/downloads?package={package}"), None)
        .await
        .json();
    downloads
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| record["served"] == true)
        .count()
}

/// A stored blob altered on disk is never served as it is: a small one is evicted
/// and fetched again (and no altered copy lingers in memory); a large one's stream
/// breaks off before its end, and the next request fetches it again.
#[tokio::test]
async fn blobs_altered_on_disk_are_caught_when_read() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    let harness = Harness::new().await;
    let small = harness.registry.package("@scope/lib", "2.0.0").unwrap();
    let small_path = "/@scope/lib/-/lib-2.0.0.tgz";
    assert_eq!(harness.get(small_path).await.status, 200);
    // Truncated on disk after it was stored (and before any memory copy).
    let restarted = {
        let mut harness = harness;
        harness
            .restart(airlock_server::ServerConfig::default())
            .await;
        harness
    };
    let blob = |package: &airlock_test::Package| {
        let integrity = airlock_npm::Integrity::from_dist(Some(&package.integrity), None).unwrap();
        restarted.state.store().blobs().path(&integrity)
    };
    let file = blob(&small);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let answer = restarted.get(small_path).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, small.tarball, "fetched again, whole");
    assert_eq!(std::fs::read(&file).unwrap(), small.tarball.to_vec());

    // A large blob, streamed: altered bytes never arrive whole.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let large = PackageBuilder::new("large", "1.0.0")
        .published(airlock_test::days_ago(30))
        .file("data.bin", noise)
        .build();
    restarted.registry.publish(large.clone());
    let large_path = "/large/-/large-1.0.0.tgz";
    assert_eq!(restarted.get(large_path).await.body, large.tarball);
    let file = blob(&large);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let request = Request::get(large_path)
        .header("host", "airlock.test")
        .body(Body::empty())
        .unwrap();
    let response = airlock_server::router(restarted.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the headers left before the end was read"
    );
    assert!(
        response.into_body().collect().await.is_err(),
        "the altered stream breaks off"
    );
    assert!(!file.exists(), "the altered blob is evicted");
    assert_eq!(restarted.get(large_path).await.body, large.tarball);
}
