//! Enforcement: what the policy refuses never reaches a client.

use std::time::{Duration, SystemTime};

use airlock_policy::Policy;
use airlock_server::ServerConfig;
use airlock_test::PackageBuilder;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::harness::Harness;

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

fn hours_ago(hours: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(hours * 3600)
}

/// `axios`: 1.13.0 (old), 1.14.0 (old), 1.14.1 (an hour old, `latest`); 0.30.3 (old)
/// and 0.30.4 (an hour old, `legacy`).
async fn axios_harness(policy: &str) -> Harness {
    axios_harness_with(ServerConfig::default(), policy).await
}

async fn axios_harness_with(config: ServerConfig, policy: &str) -> Harness {
    let harness = Harness::with_policy(
        config,
        Duration::from_secs(5),
        Policy::from_toml(policy).unwrap(),
    )
    .await;
    for (version, age) in [
        ("0.30.3", 900),
        ("0.30.4", 1),
        ("1.13.0", 1000),
        ("1.14.0", 800),
        ("1.14.1", 1),
    ] {
        harness.registry.publish(
            PackageBuilder::new("axios", version)
                .published(hours_ago(age))
                .build(),
        );
    }
    harness.registry.set_dist_tag("axios", "latest", "1.14.1");
    harness.registry.set_dist_tag("axios", "legacy", "0.30.4");
    harness
}

#[tokio::test]
async fn young_versions_vanish_from_both_forms_and_tags_fall_back() {
    let harness = axios_harness("").await;
    for accept in [ABBREVIATED, "application/json"] {
        let json = harness
            .get_with("/axios", &[("accept", accept)])
            .await
            .json();
        let versions: Vec<&String> = json["versions"].as_object().unwrap().keys().collect();
        assert_eq!(versions, ["0.30.3", "1.13.0", "1.14.0"], "{accept}");
        assert_eq!(
            json["dist-tags"],
            json!({"latest": "1.14.0", "legacy": "0.30.3"}),
            "{accept}"
        );
        if accept != ABBREVIATED {
            assert!(json["time"].get("1.14.1").is_none());
        }
    }
    let answer = harness.get("/axios/1.14.1").await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        harness.get("/axios/latest").await.json()["version"],
        "1.14.0"
    );
}

#[tokio::test]
async fn a_packument_with_withheld_versions_carries_a_notice_npm_prints() {
    let harness = axios_harness("").await;
    let answer = harness.get_with("/axios", &[("accept", ABBREVIATED)]).await;
    assert_eq!(answer.status, 200);
    let notice = answer.header("npm-notice");
    assert!(notice.starts_with("Airlock withholds axios "), "{notice}");
    for part in [
        "1.14.1 (quarantined until 20",
        "0.30.4 (quarantined until 20",
        ": release-age)",
        "`airlock check axios@",
    ] {
        assert!(notice.contains(part), "{part} missing from: {notice}");
    }
    assert!(
        !notice.contains("1.14.0"),
        "served versions are not named: {notice}"
    );
    // `latest` is withheld: clients must not store the answer, or npm never shows it.
    assert_eq!(answer.header("cache-control"), "no-store");

    // Nothing withheld, no notice.
    let open = axios_harness("min_release_age = \"0s\"\n").await;
    let answer = open.get("/axios").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("npm-notice"), "");
    assert_ne!(answer.header("cache-control"), "no-store");
}

#[tokio::test]
async fn why_lists_what_a_range_withholds_and_what_it_resolves_to() {
    let harness = axios_harness("").await;
    let report = harness
        .admin("GET", "/why/axios@^1.13.0", None)
        .await
        .json();
    assert_eq!(report["resolves_to"], "1.14.0", "{report}");
    let withheld = report["withheld"].as_array().unwrap();
    assert_eq!(withheld.len(), 1, "{report}");
    assert_eq!(withheld[0]["version"], "1.14.1");
    assert_eq!(withheld[0]["verdict"], "quarantine");
    assert_eq!(withheld[0]["codes"], json!(["release-age"]));
    assert!(withheld[0]["until"].as_str().unwrap().ends_with('Z'));

    let whole = harness.admin("GET", "/why/axios", None).await.json();
    let versions: Vec<&str> = whole["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.14.1", "0.30.4"], "newest first: {whole}");
    let bad = harness.admin("GET", "/why/axios@not-a-range!!", None).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.error().contains("not a version range"),
        "{}",
        bad.error()
    );
}

#[tokio::test]
async fn a_refused_tarball_says_why_until_when_and_how_to_approve() {
    let harness = axios_harness("").await;
    let answer = harness.get("/axios/-/axios-1.14.1.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(
        error.contains("`axios@1.14.1` is quarantined by Airlock until 20"),
        "{error}"
    );
    assert!(
        error.contains("[release-age]") && error.contains("younger than the 3 d minimum"),
        "{error}"
    );
    assert!(
        error.contains("airlock approve axios@1.14.1 --reason"),
        "{error}"
    );
    let json = answer.json();
    assert_eq!(json["codes"], json!(["release-age"]));
    assert!(json["until"].as_str().unwrap().ends_with('Z'));
    assert!(
        harness
            .registry
            .requests()
            .iter()
            .all(|request| !request.path.ends_with("1.14.1.tgz")),
        "nothing fetched"
    );

    let log = harness
        .admin("GET", "/downloads?package=axios", None)
        .await
        .json();
    assert_eq!(log[0]["version"], "1.14.1");
    assert_eq!(log[0]["verdict"], "quarantine");
    assert_eq!(log[0]["served"], false);
}

#[tokio::test]
async fn missing_publish_time_fails_closed() {
    let harness = axios_harness("").await;
    harness
        .registry
        .publish(PackageBuilder::new("ghost", "1.0.0").build());
    harness.registry.faults(|faults| faults.omit_time = true);
    let answer = harness.get("/ghost").await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.error().contains("[publish-time-missing]"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn approvals_let_a_version_through_and_expire_by_themselves() {
    let harness = axios_harness("").await;
    let created = harness
        .admin(
            "POST",
            "/exceptions",
            Some(json!({"package": "axios@1.14.1", "reason": "diff reviewed", "author": "alice", "expires_in": "1h"})),
        )
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let json = harness
        .get_with("/axios", &[("accept", ABBREVIATED)])
        .await
        .json();
    assert_eq!(json["dist-tags"]["latest"], "1.14.1");
    assert_eq!(harness.get("/axios/-/axios-1.14.1.tgz").await.status, 200);
    let exceptions = harness.admin("GET", "/exceptions", None).await.json();
    assert_eq!(exceptions[0]["author"], "alice");
    assert_eq!(exceptions[0]["active"], true);

    harness.clock.advance(Duration::from_hours(1));
    assert_eq!(
        harness.get("/axios/-/axios-1.14.1.tgz").await.status,
        403,
        "the exception expired"
    );
    let json = harness
        .get_with("/axios", &[("accept", ABBREVIATED)])
        .await
        .json();
    assert_eq!(json["dist-tags"]["latest"], "1.14.0");
    assert_eq!(
        harness.admin("GET", "/exceptions", None).await.json()[0]["active"],
        false
    );
}

#[tokio::test]
async fn revoking_an_approval_refuses_again() {
    let harness = axios_harness("").await;
    let created = harness
        .admin(
            "POST",
            "/exceptions",
            Some(json!({"package": "axios@1.14.1", "reason": "r", "author": "a"})),
        )
        .await
        .json();
    assert_eq!(harness.get("/axios/-/axios-1.14.1.tgz").await.status, 200);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        harness
            .admin("DELETE", &format!("/exceptions/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(harness.get("/axios/-/axios-1.14.1.tgz").await.status, 403);
}

#[tokio::test]
async fn denials_block_versions_already_cached() {
    let harness = axios_harness("").await;
    assert_eq!(harness.get("/axios/-/axios-1.14.0.tgz").await.status, 200);
    let denied = harness
        .admin("POST", "/denials", Some(json!({"package": "axios@>=1.14.0 <1.15.0", "reason": "compromised", "author": "sec"})))
        .await;
    assert_eq!(denied.status, 201);
    let answer = harness.get("/axios/-/axios-1.14.0.tgz").await;
    assert_eq!(answer.status, 403);
    assert!(
        answer
            .error()
            .contains("blocked by Airlock [known-malicious]"),
        "{}",
        answer.error()
    );
    let json = harness
        .get_with("/axios", &[("accept", ABBREVIATED)])
        .await
        .json();
    assert_eq!(json["dist-tags"]["latest"], "1.13.0");
}

#[tokio::test]
async fn everything_refused_is_a_403_naming_the_codes() {
    let harness = axios_harness("").await;
    harness.registry.publish(
        PackageBuilder::new("brand-new", "1.0.0")
            .published(hours_ago(0))
            .build(),
    );
    let answer = harness.get("/brand-new").await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.error().contains("every version of `brand-new`")
            && answer.error().contains("release-age")
    );
}

#[tokio::test]
async fn per_scope_release_age_and_allow_list() {
    let policy = r#"
        [[release_age]]
        packages = ["@mycorp/*"]
        min_release_age = "0s"
        [[allow]]
        package = "axios@1.14.1"
        reason = "vendor fix we need"
    "#;
    let harness = axios_harness(policy).await;
    harness.registry.publish(
        PackageBuilder::new("@mycorp/tool", "1.0.0")
            .published(hours_ago(0))
            .build(),
    );
    assert_eq!(
        harness.get("/@mycorp/tool/-/tool-1.0.0.tgz").await.status,
        200
    );
    assert_eq!(harness.get("/axios/-/axios-1.14.1.tgz").await.status, 200);
    assert_eq!(harness.get("/axios/-/axios-0.30.4.tgz").await.status, 403);
}

#[tokio::test]
async fn dry_run_serves_everything_and_records_what_it_would_refuse() {
    let harness = axios_harness("mode = \"dry-run\"").await;
    let json = harness
        .get_with("/axios", &[("accept", ABBREVIATED)])
        .await
        .json();
    assert_eq!(json["dist-tags"]["latest"], "1.14.1");
    assert_eq!(harness.get("/axios/-/axios-1.14.1.tgz").await.status, 200);

    let log = harness
        .admin("GET", "/downloads?package=axios&version=1.14.1", None)
        .await
        .json();
    assert_eq!(log[0]["verdict"], "quarantine");
    assert_eq!(log[0]["served"], true);
    let check = harness
        .admin("GET", "/check/axios@1.14.1", None)
        .await
        .json();
    assert_eq!(check["decision"]["verdict"], "quarantine");
    assert_eq!(check["decision"]["mode"], "dry-run");
    // Decisions are recorded in the background; wait for them.
    let mut versions = Vec::new();
    for _ in 0..100 {
        let waiting = harness.admin("GET", "/quarantine", None).await.json();
        versions = waiting
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["version"].as_str().unwrap().to_owned())
            .collect();
        if versions.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(versions, ["0.30.4", "1.14.1"]);
}

#[tokio::test]
async fn check_reports_the_decision_with_reasons_and_digest() {
    let harness = axios_harness("").await;
    let check = harness.admin("GET", "/check/axios@1.14.1", None).await;
    assert_eq!(check.status, 200);
    let json = check.json();
    assert_eq!(json["package"], "axios");
    assert_eq!(json["decision"]["reasons"][0]["code"], "release-age");
    assert_eq!(
        json["decision"]["policy_digest"].as_str().unwrap().len(),
        16
    );
    let missing = harness.admin("GET", "/check/axios@9.9.9", None).await;
    assert_eq!(missing.status, 404);
    let bad = harness.admin("GET", "/check/axios", None).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn the_admin_api_needs_the_token_and_refuses_without_one() {
    let harness = axios_harness("").await;
    let request = |token: Option<&str>| {
        let mut request = Request::get("/-/airlock/exceptions").header("host", "airlock.test");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(Body::empty()).unwrap()
    };
    assert_eq!(harness.request(request(None)).await.status, 401);
    assert_eq!(harness.request(request(Some("wrong"))).await.status, 401);
    assert_eq!(
        harness.request(request(Some("admin-secret"))).await.status,
        200
    );

    let config = ServerConfig {
        admin_token: None,
        ..ServerConfig::default()
    };
    let mut open = Harness::with_config(config, Duration::from_secs(5)).await;
    // `with_policy` fills in a token; take it away again for this case.
    open.restart(ServerConfig::default()).await;
    let answer = open.request(request(Some("admin-secret"))).await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.error().contains("admin API is disabled"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn bad_admin_requests_say_what_is_wrong() {
    let harness = axios_harness("").await;
    let answer = harness
        .admin(
            "POST",
            "/exceptions",
            Some(json!({"package": "axios", "reason": "r", "author": "a"})),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.error().contains("one exact version"),
        "{}",
        answer.error()
    );
    let answer = harness
        .admin(
            "POST",
            "/exceptions",
            Some(json!({"package": "axios@1.0.0", "reason": " ", "author": "a"})),
        )
        .await;
    assert!(
        answer.error().contains("`reason` must not be empty"),
        "{}",
        answer.error()
    );
    let answer = harness
        .admin("POST", "/exceptions", Some(json!({"package": "axios@1.0.0", "reason": "r", "author": "a", "expires_in": "soon"})))
        .await;
    assert!(
        answer.error().contains("not a duration"),
        "{}",
        answer.error()
    );
    // Approvals are never wider than one package, and never already over.
    for (package, expected) in [
        ("*", "is a glob"),
        ("@corp/*", "is a glob"),
        ("ax*", "is a glob"),
    ] {
        let answer = harness
            .admin(
                "POST",
                "/exceptions",
                Some(json!({"package": package, "reason": "r", "author": "a"})),
            )
            .await;
        assert_eq!(answer.status, 400, "{package}");
        assert!(
            answer.error().contains(expected),
            "{package}: {}",
            answer.error()
        );
    }
    let answer = harness
        .admin(
            "POST",
            "/exceptions",
            Some(
                json!({"package": "axios@1.0.0", "reason": "r", "author": "a", "expires_in": "0s"}),
            ),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.error().contains("positive"), "{}", answer.error());
    let answer = harness
        .admin(
            "POST",
            "/exceptions",
            Some(
                json!({"package": "axios@1.x", "reason": "r", "author": "a", "all_versions": true}),
            ),
        )
        .await;
    assert_eq!(answer.status, 400);
    // Every version of one package, asked for by name, is an approval.
    let answer = harness
        .admin(
            "POST",
            "/exceptions",
            Some(json!({"package": "axios", "reason": "r", "author": "a", "all_versions": true})),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.error());
    assert_eq!(
        harness.admin("GET", "/exceptions", None).await.json()[0]["package"],
        "axios"
    );
}

#[tokio::test]
async fn a_tag_whose_only_target_is_refused_answers_with_the_decision() {
    let harness = axios_harness("").await;
    harness.registry.publish(
        PackageBuilder::new("axios", "2.0.0-beta.1")
            .published(hours_ago(1))
            .build(),
    );
    harness
        .registry
        .set_dist_tag("axios", "next", "2.0.0-beta.1");
    let answer = harness.get("/axios/next").await;
    assert_eq!(answer.status, 403);
    assert!(
        answer
            .error()
            .contains("`axios@2.0.0-beta.1` is quarantined"),
        "{}",
        answer.error()
    );
}

#[tokio::test]
async fn a_license_the_policy_refuses_holds_the_version_with_the_reason() {
    let policy = airlock_policy::Policy::from_toml(
        "min_release_age = \"0s\"\n[licenses]\ndeny = [\"GPL-3.0-*\", \"AGPL-*\"]\nunknown = \"warn\"\naction = \"quarantine\"\n",
    )
    .unwrap();
    let harness =
        Harness::with_policy(ServerConfig::default(), Duration::from_secs(5), policy).await;
    for (name, license) in [
        ("copyleft", serde_json::json!("GPL-3.0-only")),
        ("dual", serde_json::json!("MIT OR GPL-3.0-or-later")),
        (
            "legacy",
            serde_json::json!({"type": "AGPL-3.0", "url": "http://127.0.0.1/l"}),
        ),
    ] {
        harness.registry.publish(
            PackageBuilder::new(name, "1.0.0")
                .field("license", license)
                .build(),
        );
    }
    let refused = harness.get("/copyleft/-/copyleft-1.0.0.tgz").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.error().contains("[license]") && refused.error().contains("GPL-3.0-only"),
        "{}",
        refused.error()
    );
    // The user may take MIT: served.
    assert_eq!(harness.get("/dual/-/dual-1.0.0.tgz").await.status, 200);
    // The old object form is read too.
    assert_eq!(harness.get("/legacy/-/legacy-1.0.0.tgz").await.status, 403);
}

/// Warm answers are kept compressed, apart from the parsed packument, and follow
/// what they show: an approval shows in the next answer, and a release upstream
/// shows once the metadata max age has passed (not before: the answer is warm).
#[tokio::test]
async fn warm_compressed_answers_follow_decisions_and_the_upstream() {
    let harness = axios_harness_with(
        ServerConfig {
            metadata_max_age: Duration::from_mins(1),
            ..ServerConfig::default()
        },
        "",
    )
    .await;
    let latest = async |harness: &Harness| {
        let answer = harness
            .get_with(
                "/axios",
                &[("accept", ABBREVIATED), ("accept-encoding", "gzip")],
            )
            .await;
        assert_eq!(answer.status, 200);
        let body = if answer.header("content-encoding") == "gzip" {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&answer.body[..]),
                &mut plain,
            )
            .unwrap();
            plain
        } else {
            answer.body.clone()
        };
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        (
            json["dist-tags"]["latest"].as_str().unwrap().to_owned(),
            answer.header("etag").to_owned(),
        )
    };
    let (first, etag) = latest(&harness).await;
    assert_eq!(first, "1.14.0", "1.14.1 is in quarantine");
    assert_eq!(latest(&harness).await, (first, etag), "the same answer");

    let created = harness
        .admin(
            "POST",
            "/exceptions",
            Some(json!({"package": "axios@1.14.1", "reason": "diff reviewed", "author": "alice"})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        latest(&harness).await.0,
        "1.14.1",
        "the approval shows at once"
    );

    harness.registry.publish(
        PackageBuilder::new("axios", "1.15.0")
            .published(hours_ago(500))
            .build(),
    );
    harness.registry.set_dist_tag("axios", "latest", "1.15.0");
    assert_eq!(
        latest(&harness).await.0,
        "1.14.1",
        "within the max age the warm answer stands"
    );
    harness.clock.advance(Duration::from_secs(61));
    assert_eq!(latest(&harness).await.0, "1.15.0", "revalidated upstream");
}
