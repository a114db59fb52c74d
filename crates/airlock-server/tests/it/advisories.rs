//! Known malware, takedowns and exposure.

use std::time::Duration;

use airlock_server::ServerConfig;
use airlock_test::PackageBuilder;
use serde_json::json;

use crate::harness::Harness;

fn mal_record(id: &str, name: &str, versions: &[&str]) -> serde_json::Value {
    json!({
        "schema_version": "1.5.0",
        "id": id,
        "summary": format!("Malicious code in {name} (npm)"),
        "details": "Runs a dropper at install time that fetches http://127.0.0.7:8000/stage2.",
        "affected": [{"package": {"ecosystem": "npm", "name": name}, "versions": versions}]
    })
}

async fn import(
    harness: &Harness,
    source: &str,
    records: Vec<serde_json::Value>,
) -> crate::harness::Answer {
    let records: Vec<_> = records
        .into_iter()
        .enumerate()
        .map(|(index, record)| json!({"name": format!("{source}/{index}.json"), "record": record}))
        .collect();
    harness
        .admin(
            "POST",
            "/advisories",
            Some(json!({"source": source, "records": records})),
        )
        .await
}

#[tokio::test]
async fn an_advisory_blocks_a_version_already_cached_on_the_next_request() {
    let harness = Harness::new().await;
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 200);
    let answer = import(
        &harness,
        "mal",
        vec![mal_record("MAL-2026-1", "demo", &["1.1.0"])],
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["imported"], 1);
    let summary = harness.admin("GET", "/advisories", None).await.json();
    assert_eq!(summary["advisories"], 1);
    assert_eq!(summary["iocs"]["ips"], json!(["127.0.0.7"]));

    let refused = harness.get("/demo/-/demo-1.1.0.tgz").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .error()
            .contains("blocked by Airlock [known-malicious]")
            && refused.error().contains("MAL-2026-1"),
        "{}",
        refused.error()
    );
    let json = harness.get("/demo").await.json();
    assert!(json["versions"].get("1.1.0").is_none());
    assert_eq!(json["dist-tags"]["latest"], "1.0.0");
}

#[tokio::test]
async fn a_malformed_import_leaves_the_previous_set_in_force() {
    let harness = Harness::new().await;
    import(
        &harness,
        "mal",
        vec![mal_record("MAL-2026-1", "demo", &["1.1.0"])],
    )
    .await;
    let broken = json!({"id": "MAL-2026-2", "affected": [{"package": {"ecosystem": "npm", "name": "demo"},
        "ranges": [{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}]}]});
    let answer = import(
        &harness,
        "mal",
        vec![mal_record("MAL-2026-3", "demo", &["1.0.0"]), broken],
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.error().contains("mal/1.json") && answer.error().contains("nothing was imported"),
        "{}",
        answer.error()
    );
    assert_eq!(
        harness.get("/demo/-/demo-1.1.0.tgz").await.status,
        403,
        "the previous advisory still blocks"
    );
    assert_eq!(
        harness.get("/demo/-/demo-1.0.0.tgz").await.status,
        200,
        "the rejected import took nothing"
    );
}

#[tokio::test]
async fn withdrawn_records_do_not_block_and_reimports_replace_their_source() {
    let harness = Harness::new().await;
    let mut withdrawn = mal_record("MAL-2026-4", "demo", &["1.0.0"]);
    withdrawn["withdrawn"] = json!("2026-01-01T00:00:00Z");
    let answer = import(
        &harness,
        "mal",
        vec![withdrawn, mal_record("MAL-2026-5", "demo", &["1.1.0"])],
    )
    .await;
    assert_eq!(answer.json()["skipped"], 1);
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 403);
    import(&harness, "mal", vec![]).await;
    assert_eq!(
        harness.get("/demo/-/demo-1.1.0.tgz").await.status,
        200,
        "an empty re-import clears the source"
    );
}

#[tokio::test]
async fn exposure_lists_who_downloaded_what_before_the_advisory() {
    let harness = Harness::new().await;
    let request = |agent: &'static str| {
        axum::http::Request::get("/demo/-/demo-1.1.0.tgz")
            .header("host", "airlock.test")
            .header("user-agent", agent)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        harness.request(request("npm/11.0.0 node/v20")).await.status,
        200
    );
    assert_eq!(
        harness
            .request(request("pnpm/10.0.0 npm/? node/v20"))
            .await
            .status,
        200
    );
    import(
        &harness,
        "mal",
        vec![mal_record("MAL-2026-6", "demo", &["1.1.0"])],
    )
    .await;
    assert_eq!(
        harness.request(request("npm/11.0.0 node/v20")).await.status,
        403
    );

    let report = harness
        .admin("GET", "/exposure?spec=demo%40%5E1.0.0", None)
        .await;
    assert_eq!(
        report.status,
        200,
        "{}",
        String::from_utf8_lossy(&report.body)
    );
    let json = report.json();
    let downloads = json["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 2);
    assert_eq!(downloads[0]["user_agent"], "npm/11.0.0 node/v20");
    assert_eq!(downloads[1]["user_agent"], "pnpm/10.0.0 npm/? node/v20");
    assert_eq!(
        downloads[0]["verdict"], "allow",
        "the decision that let it through"
    );
    assert!(downloads[0]["policy_digest"].is_string());
    assert_eq!(json["refused"], 1);
    assert_eq!(json["advisories"], json!(["MAL-2026-6"]));
    let glob = harness
        .admin("GET", "/exposure?spec=%40scope%2F*", None)
        .await;
    assert_eq!(glob.status, 400);
}

#[tokio::test]
async fn takedowns_stop_serving_and_keep_the_blob() {
    let config = ServerConfig {
        metadata_max_age: Duration::ZERO,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    harness
        .registry
        .publish(PackageBuilder::new("demo", "0.9.0").build());
    harness.registry.set_dist_tag("demo", "latest", "1.1.0");
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 200);
    let stored = harness.registry.package("demo", "1.1.0").unwrap();
    harness.registry.unpublish("demo", "1.1.0");
    let json = harness.get("/demo").await.json();
    assert!(
        json["versions"].get("1.1.0").is_none(),
        "never advertise what upstream removed"
    );

    let gone = harness.get("/demo/-/demo-1.1.0.tgz").await;
    assert_eq!(gone.status, 410);
    assert!(
        gone.error().contains("removed by the upstream registry")
            && gone.error().contains("[takedown]"),
        "{}",
        gone.error()
    );
    let takedowns = harness.admin("GET", "/takedowns", None).await.json();
    assert_eq!(takedowns[0]["package"], "demo");
    assert_eq!(takedowns[0]["version"], "1.1.0");
    assert_eq!(takedowns[0]["kind"], "removed");
    assert!(harness.has_blob(&stored), "the blob stays for forensics");
    // A version never stored is not a takedown of ours.
    harness.registry.unpublish("demo", "0.9.0");
    harness.get("/demo").await;
    assert_eq!(
        harness
            .admin("GET", "/takedowns", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn security_placeholders_are_takedowns() {
    let config = ServerConfig {
        metadata_max_age: Duration::ZERO,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    harness.registry.unpublish("demo", "1.0.0");
    harness.registry.unpublish("demo", "1.1.0");
    harness
        .registry
        .publish(airlock_test::PackageBuilder::new("demo", "0.0.1-security").build());
    harness.get("/demo").await;
    let takedowns = harness.admin("GET", "/takedowns", None).await.json();
    assert_eq!(takedowns[0]["kind"], "security-placeholder");
}

/// A webhook receiver that refuses its first delivery, to exercise retries.
struct Webhook {
    url: url::Url,
    received: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Webhook {
    async fn start() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let sink = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (sink, calls) = (sink.clone(), calls.clone());
                async move {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    sink.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received }
    }

    async fn wait_for(&self, event: &str) -> serde_json::Value {
        for _ in 0..100 {
            if let Some(alert) = self
                .received
                .lock()
                .unwrap()
                .iter()
                .find(|alert| alert["event"] == event)
            {
                return alert.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no `{event}` alert arrived: {:?}",
            self.received.lock().unwrap()
        );
    }
}

#[tokio::test]
async fn alerts_reach_the_webhook_with_retries() {
    let webhook = Webhook::start().await;
    let config = ServerConfig {
        metadata_max_age: Duration::ZERO,
        webhook: Some(webhook.url.clone()),
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 200);
    import(
        &harness,
        "mal",
        vec![mal_record("MAL-2026-9", "demo", &["1.1.0"])],
    )
    .await;
    let exposure = webhook.wait_for("advisory-exposure").await;
    assert!(
        exposure["text"]
            .as_str()
            .unwrap()
            .contains("MAL-2026-9 names `demo@1.1.0`, downloaded 1 times"),
        "{exposure}"
    );
    assert_eq!(exposure["details"]["downloads"], 1);

    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 403);
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 403);
    let block = webhook.wait_for("block").await;
    assert!(
        block["text"].as_str().unwrap().contains("`demo@1.1.0`"),
        "{block}"
    );

    harness.registry.unpublish("demo", "1.1.0");
    harness.get("/demo").await;
    let takedown = webhook.wait_for("takedown").await;
    assert_eq!(takedown["details"]["version"], "1.1.0");
    let blocks = webhook
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|alert| alert["event"] == "block")
        .count();
    assert_eq!(
        blocks, 1,
        "a blocked version is one alert, not one per request"
    );
}

#[tokio::test]
async fn a_quarantine_ending_is_announced() {
    let webhook = Webhook::start().await;
    let config = ServerConfig {
        webhook: Some(webhook.url.clone()),
        ..ServerConfig::default()
    };
    let policy = airlock_policy::Policy::from_toml("min_release_age = \"1h\"").unwrap();
    let harness = Harness::with_policy(config, Duration::from_secs(5), policy).await;
    harness.registry.publish(
        airlock_test::PackageBuilder::new("fresh", "1.0.0")
            .published(std::time::SystemTime::now())
            .build(),
    );
    harness.registry.publish(
        airlock_test::PackageBuilder::new("fresh", "0.9.0")
            .published(std::time::SystemTime::now() - Duration::from_hours(24))
            .build(),
    );
    assert!(
        harness.get("/fresh").await.json()["versions"]
            .get("1.0.0")
            .is_none()
    );
    harness.clock.advance(Duration::from_hours(1));
    assert!(
        harness.get("/fresh").await.json()["versions"]
            .get("1.0.0")
            .is_some()
    );
    let release = webhook.wait_for("quarantine-release").await;
    assert!(
        release["text"]
            .as_str()
            .unwrap()
            .contains("`fresh@1.0.0` left quarantine"),
        "{release}"
    );
}

#[tokio::test]
async fn a_package_removed_entirely_is_a_takedown_not_a_stale_copy() {
    let config = ServerConfig {
        metadata_max_age: Duration::ZERO,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    harness.registry.unpublish("demo", "1.0.0");
    harness.registry.unpublish("demo", "1.1.0");
    assert_eq!(harness.get("/demo").await.status, 404);
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 410);
    // The removed packument is not served again from the database either.
    assert_eq!(harness.get("/demo").await.status, 404);
    let log = harness
        .admin("GET", "/downloads?package=demo", None)
        .await
        .json();
    assert_eq!(
        log.as_array().unwrap().last().unwrap()["codes"],
        json!(["takedown"])
    );
}

/// A vulnerability advisory as the GitHub advisory database writes it in OSV.
fn vulnerability_record(id: &str, name: &str, fixed: &str, severity: &str) -> serde_json::Value {
    json!({
        "schema_version": "1.4.0",
        "id": id,
        "aliases": ["CVE-2026-0001"],
        "summary": format!("Prototype pollution in {name}"),
        "affected": [{"package": {"ecosystem": "npm", "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
        "database_specific": {"cwe_ids": ["CWE-1321"], "severity": severity, "github_reviewed": true}
    })
}

#[tokio::test]
async fn a_vulnerability_is_not_malware_and_the_policy_decides_what_it_does() {
    // By default a high vulnerability warns: the version is still served.
    let harness = Harness::new().await;
    let answer = import(
        &harness,
        "ghsa",
        vec![
            vulnerability_record("GHSA-aaaa-bbbb-cccc", "demo", "1.1.0", "HIGH"),
            vulnerability_record("GHSA-dddd-eeee-ffff", "@scope/lib", "2.0.1", "LOW"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    let check = harness.admin("GET", "/check/demo@1.0.0", None).await.json();
    let reasons = check["decision"]["reasons"].as_array().unwrap();
    let vulnerable = reasons
        .iter()
        .find(|reason| reason["code"] == "known-vulnerable")
        .unwrap_or_else(|| panic!("{check}"));
    let message = vulnerable["message"].as_str().unwrap();
    assert!(
        message.contains("high vulnerability") && message.contains("fixed in 1.1.0"),
        "{message}"
    );
    assert!(
        !reasons
            .iter()
            .any(|reason| reason["code"] == "known-malicious")
    );
    // The fixed version is not named; a low one is below the warning line.
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 200);
    let low = harness
        .admin("GET", "/check/@scope/lib@2.0.0", None)
        .await
        .json();
    assert_eq!(low["decision"]["verdict"], "allow", "{low}");

    // A policy that blocks high vulnerabilities refuses it, naming the fix.
    let strict = Harness::with_policy(
        ServerConfig::default(),
        Duration::from_secs(5),
        airlock_policy::Policy::from_toml(
            "min_release_age = \"0s\"\n[vulnerabilities]\nblock = \"high\"\n",
        )
        .unwrap(),
    )
    .await;
    import(
        &strict,
        "ghsa",
        vec![vulnerability_record(
            "GHSA-aaaa-bbbb-cccc",
            "demo",
            "1.1.0",
            "HIGH",
        )],
    )
    .await;
    let refused = strict.get("/demo/-/demo-1.0.0.tgz").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.error().contains("[known-vulnerable]")
            && refused.error().contains("fixed in 1.1.0"),
        "{}",
        refused.error()
    );
    // Malware stays malware, whatever the database: a GHSA malware advisory blocks.
    let mut malware = vulnerability_record("GHSA-mmmm-nnnn-oooo", "demo", "1.1.1", "CRITICAL");
    malware["summary"] = json!("Malicious code in demo");
    malware["database_specific"]["cwe_ids"] = json!(["CWE-506"]);
    import(&harness, "ghsa-malware", vec![malware]).await;
    let blocked = harness.get("/demo/-/demo-1.1.0.tgz").await;
    assert_eq!(blocked.status, 403);
    assert!(
        blocked.error().contains("known-malicious"),
        "{}",
        blocked.error()
    );
}

#[tokio::test]
async fn the_fix_for_a_serious_vulnerability_skips_the_quarantine_unless_the_policy_says_not_to() {
    let publish = |harness: &Harness| {
        harness.registry.publish(
            PackageBuilder::new("patched", "1.0.0")
                .published(std::time::SystemTime::now() - Duration::from_hours(24 * 30))
                .build(),
        );
        harness.registry.publish(
            PackageBuilder::new("patched", "1.0.1")
                .published(std::time::SystemTime::now() - Duration::from_hours(1))
                .build(),
        );
        // An unaffected neighbour, as young: not a fix, so it waits.
        harness.registry.publish(
            PackageBuilder::new("patched", "1.1.0")
                .published(std::time::SystemTime::now() - Duration::from_hours(1))
                .build(),
        );
    };
    let harness = Harness::new().await;
    publish(&harness);
    assert_eq!(
        harness.get("/patched/-/patched-1.0.1.tgz").await.status,
        403,
        "young: quarantined"
    );
    import(
        &harness,
        "ghsa",
        vec![vulnerability_record(
            "GHSA-pppp-qqqq-rrrr",
            "patched",
            "1.0.1",
            "HIGH",
        )],
    )
    .await;
    assert_eq!(
        harness.get("/patched/-/patched-1.0.1.tgz").await.status,
        200
    );
    assert_eq!(
        harness.get("/patched/-/patched-1.1.0.tgz").await.status,
        403,
        "the unaffected neighbour stays quarantined"
    );
    let check = harness
        .admin("GET", "/check/patched@1.0.1", None)
        .await
        .json();
    let reason = &check["decision"]["reasons"][0];
    assert_eq!(reason["code"], "release-age", "{check}");
    assert!(
        reason["message"].as_str().unwrap().contains("fast lane")
            && reason["message"]
                .as_str()
                .unwrap()
                .contains("GHSA-pppp-qqqq-rrrr"),
        "{check}"
    );
    // The vulnerable version itself warns and stays served.
    assert_eq!(
        harness.get("/patched/-/patched-1.0.0.tgz").await.status,
        200
    );

    let strict = Harness::with_policy(
        ServerConfig::default(),
        Duration::from_secs(5),
        airlock_policy::Policy::from_toml("[vulnerabilities]\nfast_lane = false\n").unwrap(),
    )
    .await;
    publish(&strict);
    import(
        &strict,
        "ghsa",
        vec![vulnerability_record(
            "GHSA-pppp-qqqq-rrrr",
            "patched",
            "1.0.1",
            "HIGH",
        )],
    )
    .await;
    let held = strict.get("/patched/-/patched-1.0.1.tgz").await;
    assert_eq!(held.status, 403);
    assert!(held.error().contains("release-age"), "{}", held.error());
}

#[tokio::test]
async fn an_advisory_a_person_set_aside_does_not_refuse_and_says_why() {
    let harness = Harness::with_policy(
        ServerConfig::default(),
        Duration::from_secs(5),
        airlock_policy::Policy::from_toml(
            "min_release_age = \"0s\"\n[vulnerabilities]\nblock = \"high\"\n[[vulnerabilities.ignore]]\nadvisory = \"GHSA-aaaa-bbbb-cccc\"\nreason = \"the parser never sees user input here\"\n[[vulnerabilities.rule]]\npackages = [\"@scope/*\"]\nblock = \"low\"\n",
        )
        .unwrap(),
    )
    .await;
    import(
        &harness,
        "ghsa",
        vec![
            vulnerability_record("GHSA-aaaa-bbbb-cccc", "demo", "1.1.0", "HIGH"),
            vulnerability_record("GHSA-dddd-eeee-ffff", "@scope/lib", "2.0.1", "LOW"),
        ],
    )
    .await;
    assert_eq!(harness.get("/demo/-/demo-1.0.0.tgz").await.status, 200);
    let check = harness.admin("GET", "/check/demo@1.0.0", None).await.json();
    assert!(
        check["decision"]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("set aside"),
        "{check}"
    );
    // A rule for the scope blocks even a low one there.
    let scoped = harness.get("/@scope/lib/-/lib-2.0.0.tgz").await;
    assert_eq!(scoped.status, 403);
    assert!(
        scoped.error().contains("known-vulnerable"),
        "{}",
        scoped.error()
    );
}
