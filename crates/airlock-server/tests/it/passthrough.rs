//! The `/-/` endpoints and the routes Airlock refuses.

use axum::body::Body;
use axum::http::Request;

use crate::harness::Harness;

#[tokio::test]
async fn ping_keys_attestations_and_search_pass_through() {
    let harness = Harness::new().await;
    let key = airlock_test::RegistryKeyPair::generate("SHA256:fake");
    let entry = key.key_entry();
    harness.registry.sign_with(vec![key]);
    harness.registry.publish(
        airlock_test::PackageBuilder::new("demo", "1.2.0")
            .build()
            .with_attestations(&br#"{"attestations": [{"predicateType": "x", "bundle": {}}]}"#[..]),
    );
    assert_eq!(harness.get("/-/ping").await.status, 200);
    let keys = harness.get("/-/npm/v1/keys").await;
    assert_eq!(keys.json()["keys"][0], entry);
    let attestations = harness.get("/-/npm/v1/attestations/demo@1.2.0").await;
    assert_eq!(
        attestations.body,
        br#"{"attestations": [{"predicateType": "x", "bundle": {}}]}"#
    );
    let search = harness.get("/-/v1/search?text=demo&size=5").await;
    assert_eq!(search.json()["query"], "text=demo&size=5");
    let paths: Vec<String> = harness
        .registry
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/-/ping",
            "/-/npm/v1/keys",
            "/-/npm/v1/attestations/demo@1.2.0",
            "/-/v1/search"
        ]
    );
}

#[tokio::test]
async fn audit_requests_pass_through_with_their_encoding() {
    let harness = Harness::new().await;
    for path in [
        "/-/npm/v1/security/advisories/bulk",
        "/-/npm/v1/security/audits/quick",
    ] {
        let request = Request::post(path)
            .header("host", "airlock.test")
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(Body::from(vec![1u8; 100]))
            .unwrap();
        let answer = harness.request(request).await;
        assert_eq!(answer.status, 200, "{path}");
        let json = answer.json();
        assert_eq!(json["received_bytes"], 100);
        assert_eq!(json["content_encoding"], "gzip");
    }
}

#[tokio::test]
async fn whoami_answers_without_upstream() {
    let harness = Harness::new().await;
    let answer = harness.get("/-/whoami").await;
    assert_eq!(answer.json()["username"], "anonymous");
    assert!(harness.registry.requests().is_empty());
}

#[tokio::test]
async fn unknown_endpoints_and_publishing_get_json_errors() {
    let harness = Harness::new().await;
    let unknown = harness.get("/-/nonsense").await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.error().contains("does not serve `GET /-/nonsense`"),
        "{}",
        unknown.error()
    );

    let publish = Request::put("/demo")
        .header("host", "airlock.test")
        .body(Body::from("{}"))
        .unwrap();
    let answer = harness.request(publish).await;
    assert_eq!(answer.status, 405);
    assert!(
        answer.error().contains("refuses publishing"),
        "{}",
        answer.error()
    );

    let wrong = Request::post("/-/ping")
        .header("host", "airlock.test")
        .body(Body::empty())
        .unwrap();
    let answer = harness.request(wrong).await;
    assert_eq!(answer.status, 405);
    assert!(
        answer.error().contains("not supported"),
        "{}",
        answer.error()
    );
    assert!(harness.registry.requests().is_empty());
}

#[tokio::test]
async fn upstream_errors_on_passthrough_keep_their_status() {
    let harness = Harness::new().await;
    harness.registry.faults(|faults| faults.status = Some(400));
    let answer = harness.get("/-/v1/search?text=x").await;
    assert_eq!(answer.status, 400);
}

#[tokio::test]
async fn the_upstream_token_goes_to_the_upstream_only() {
    let harness = Harness::new().await;
    // A tarball hosted on another origin (a CDN listed in `tarball_hosts`, say)
    // must not receive the token.
    let upstream = airlock_upstream::Upstream::builder(harness.registry.url().parse().unwrap())
        .token(Some(airlock_upstream::Token::new("s3cret")))
        .tarball_hosts(vec!["127.0.0.1".to_owned()])
        .build()
        .unwrap();
    let other = airlock_test::FakeRegistry::start().await;
    other.publish(airlock_test::PackageBuilder::new("elsewhere", "1.0.0").build());
    let tarball = format!("{}elsewhere/-/elsewhere-1.0.0.tgz", other.url());
    let response = upstream.tarball(&tarball).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(other.requests()[0].authorization, None);

    let name = airlock_npm::PackageName::new("demo").unwrap();
    upstream
        .packument(&name, &airlock_upstream::Validators::default())
        .await
        .unwrap();
    let own = format!("{}demo/-/demo-1.0.0.tgz", harness.registry.url());
    upstream.tarball(&own).await.unwrap();
    let sent: Vec<Option<String>> = harness
        .registry
        .requests()
        .into_iter()
        .map(|r| r.authorization)
        .collect();
    assert_eq!(
        sent,
        [
            Some("Bearer s3cret".to_owned()),
            Some("Bearer s3cret".to_owned())
        ]
    );
}

/// Keys, search, security and attestation answers that never end are cut at the
/// upstream's body cap with a clear error, instead of filling memory.
#[tokio::test]
async fn endless_upstream_bodies_are_cut_at_the_cap() {
    let harness = Harness::with_body_cap(1024 * 1024).await;
    harness
        .registry
        .faults(|faults| faults.endless_bodies = true);
    for path in [
        "/-/npm/v1/keys",
        "/-/v1/search?text=demo",
        "/-/npm/v1/attestations/demo@1.0.0",
    ] {
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), harness.get(path))
            .await
            .expect("the endless body is cut off");
        assert_eq!(answer.status, 502, "{path}: {}", answer.error());
        assert!(answer.error().contains("413"), "{path}: {}", answer.error());
    }
    let request = Request::post("/-/npm/v1/security/advisories/bulk")
        .header("host", "airlock.test")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let answer = harness.request(request).await;
    assert_eq!(answer.status, 502, "{}", answer.error());
}
