//! Registry signatures, provenance and publisher history decide through the proxy.

use std::time::{Duration, SystemTime};

use airlock_test::{Package, PackageBuilder, RegistryKeyPair, attacks, provenance};
use serde_json::json;

use crate::harness::Harness;

fn days_ago(days: u64) -> SystemTime {
    SystemTime::now() - Duration::from_hours(24 * days)
}

#[tokio::test]
async fn signed_versions_verify_and_keep_their_signatures() {
    let harness = Harness::new().await;
    harness
        .registry
        .sign_with(vec![RegistryKeyPair::generate("SHA256:fake-registry")]);
    let report = harness.admin("GET", "/check/demo@1.1.0", None).await.json();
    assert_eq!(
        report["trust"]["signature"]["status"], "verified",
        "{report}"
    );
    assert_eq!(
        report["trust"]["signature"]["keyids"][0],
        "SHA256:fake-registry"
    );
    let packument = harness.get("/demo").await.json();
    let upstream = harness.registry.package("demo", "1.1.0").unwrap();
    let signature = &packument["versions"]["1.1.0"]["dist"]["signatures"][0];
    assert_eq!(signature["keyid"], "SHA256:fake-registry");
    assert_eq!(
        packument["versions"]["1.1.0"]["dist"]["integrity"],
        upstream.integrity
    );
    // The abbreviated form keeps them too: `npm audit signatures` reads them there.
    let abbreviated = harness
        .get_with(
            "/demo",
            &[("accept", "application/vnd.npm.install-v1+json")],
        )
        .await
        .json();
    assert_eq!(
        abbreviated["versions"]["1.1.0"]["dist"]["signatures"][0]["keyid"],
        "SHA256:fake-registry"
    );
}

#[tokio::test]
async fn a_signature_that_does_not_verify_blocks_the_version() {
    let harness = Harness::new().await;
    let key = RegistryKeyPair::generate("SHA256:fake-registry");
    // Signed over another tarball's integrity: the tarball was swapped after signing.
    let forged = key.sign("demo@1.2.0", "sha512-c3dhcHBlZCB0YXJiYWxs");
    harness.registry.sign_with(vec![key]);
    harness.registry.publish(
        PackageBuilder::new("demo", "1.2.0")
            .dist_field("signatures", json!([forged]))
            .build(),
    );
    let tarball = harness.get("/demo/-/demo-1.2.0.tgz").await;
    assert_eq!(tarball.status, 403);
    let error = tarball.error();
    assert!(error.contains("signature-invalid"), "{error}");
    assert!(error.contains("does not match its integrity"), "{error}");
    let packument = harness.get("/demo").await.json();
    assert!(packument["versions"].get("1.2.0").is_none());
    assert_eq!(packument["dist-tags"]["latest"], "1.1.0");
}

#[tokio::test]
async fn malformed_signatures_are_invalid_not_missing() {
    let harness = Harness::new().await;
    harness.registry.publish(
        PackageBuilder::new("demo", "1.2.0")
            .dist_field("signatures", json!([{"keyid": 7}]))
            .build(),
    );
    let tarball = harness.get("/demo/-/demo-1.2.0.tgz").await;
    assert_eq!(tarball.status, 403);
    assert!(
        tarball.error().contains("is not a list of {keyid, sig}"),
        "{}",
        tarball.error()
    );
}

#[tokio::test]
async fn an_expired_key_does_not_vouch_for_later_versions() {
    let harness = Harness::new().await;
    let expired = RegistryKeyPair::generate("SHA256:retired").expiring("2020-01-01T00:00:00.000Z");
    harness.registry.sign_with(vec![expired]);
    let tarball = harness.get("/demo/-/demo-1.1.0.tgz").await;
    assert_eq!(tarball.status, 403);
    assert!(
        tarball
            .error()
            .contains("after key `SHA256:retired` expired"),
        "{}",
        tarball.error()
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_from_the_upstream_once() {
    let harness = Harness::new().await;
    harness
        .registry
        .sign_with(vec![RegistryKeyPair::generate("SHA256:rotated-in")]);
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 200);
    assert_eq!(harness.get("/@scope/lib/-/lib-2.0.0.tgz").await.status, 200);
    assert_eq!(harness.registry.hits("/-/npm/v1/keys"), 1);
}

#[tokio::test]
async fn a_signature_by_a_key_nobody_publishes_is_invalid() {
    let harness = Harness::new().await;
    let published = RegistryKeyPair::generate("SHA256:published");
    let stranger = RegistryKeyPair::generate("SHA256:stranger");
    let package = PackageBuilder::new("demo", "1.2.0").build();
    let signature = stranger.sign("demo@1.2.0", &package.integrity);
    harness.registry.sign_with(vec![published]);
    harness.registry.publish(
        PackageBuilder::new("demo", "1.2.0")
            .dist_field("signatures", json!([signature]))
            .build(),
    );
    let tarball = harness.get("/demo/-/demo-1.2.0.tgz").await;
    assert_eq!(tarball.status, 403);
    assert!(
        tarball
            .error()
            .contains("`SHA256:stranger`, which is not among the registry's keys"),
        "{}",
        tarball.error()
    );
}

#[tokio::test]
async fn real_provenance_verifies_through_the_proxy_and_shows_in_check() {
    let harness = Harness::new().await;
    harness.registry.publish(provenance::sigstore_package());
    let tarball = harness.get("/sigstore/-/sigstore-2.0.0.tgz").await;
    assert_eq!(tarball.status, 200);
    assert_eq!(tarball.body, provenance::SIGSTORE_TARBALL);
    assert_eq!(
        harness
            .registry
            .hits("/-/npm/v1/attestations/sigstore@2.0.0"),
        1
    );
    let report = harness
        .admin("GET", "/check/sigstore@2.0.0", None)
        .await
        .json();
    let checked = &report["trust"]["provenance"];
    assert_eq!(checked["outcome"], "verified", "{report}");
    assert_eq!(checked["provenance"]["repository_id"], "495574555");
    assert_eq!(
        checked["provenance"]["commit"],
        "f0b49a04e5a62250e0f60fb128004a73110fe311"
    );
    assert_eq!(report["decision"]["verdict"], "allow");
    // Checked once, stored, and passed through unchanged for clients.
    let passed = harness.get("/-/npm/v1/attestations/sigstore@2.0.0").await;
    assert_eq!(passed.body, provenance::sigstore_attestations());
}

#[tokio::test]
async fn provenance_of_another_tarball_blocks_the_version() {
    let harness = Harness::new().await;
    // The real bundle, served for a tarball with one byte changed.
    let mut tarball = provenance::SIGSTORE_TARBALL.to_vec();
    let middle = tarball.len() / 2;
    tarball[middle] ^= 1;
    harness.registry.publish(
        Package::from_tarball(provenance::sigstore_manifest(), tarball)
            .with_attestations(provenance::sigstore_attestations()),
    );
    let answer = harness.get("/sigstore/-/sigstore-2.0.0.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(error.contains("provenance-invalid"), "{error}");
    assert!(error.contains("does not verify"), "{error}");
}

/// `widget` 1.0.0 and 1.1.0 published with provenance, then `version` as `package`.
async fn line_with_provenance(last: PackageBuilder) -> Harness {
    let harness = Harness::new().await;
    for (version, days) in [("1.0.0", 60), ("1.1.0", 40)] {
        harness.registry.publish(
            PackageBuilder::new("widget", version)
                .field("_npmUser", json!({"name": "ci", "email": "ci@acme.example"}))
                // Listed in the packument; the bundles themselves are not needed to
                // know the line had provenance.
                .dist_field("attestations", json!({"url": "unused", "provenance": {"predicateType": provenance::SLSA_PROVENANCE_V1}}))
                .published(days_ago(days))
                .build(),
        );
    }
    harness
        .registry
        .publish(last.published(days_ago(20)).build());
    harness
}

#[tokio::test]
async fn a_version_without_the_provenance_its_line_always_had_is_blocked() {
    let harness = line_with_provenance(PackageBuilder::new("widget", "1.1.1").field(
        "_npmUser",
        json!({"name": "ci", "email": "ci@acme.example"}),
    ))
    .await;
    let answer = harness.get("/widget/-/widget-1.1.1.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(error.contains("provenance-regression"), "{error}");
    let packument = harness.get("/widget").await.json();
    assert!(packument["versions"].get("1.1.1").is_none());
    assert_eq!(packument["dist-tags"]["latest"], "1.1.0");
    let report = harness
        .admin("GET", "/check/widget@1.1.1", None)
        .await
        .json();
    assert_eq!(report["trust"]["baseline"]["line"], "1.x");
    assert_eq!(report["trust"]["baseline"]["with_provenance"], 2);
    assert_eq!(report["trust"]["publisher"]["name"], "ci");
}

#[tokio::test]
async fn a_new_major_line_starts_its_own_history() {
    let harness = line_with_provenance(PackageBuilder::new("widget", "2.0.0").field(
        "_npmUser",
        json!({"name": "ci", "email": "ci@acme.example"}),
    ))
    .await;
    assert_eq!(harness.get("/widget/-/widget-2.0.0.tgz").await.status, 200);
}

#[tokio::test]
async fn an_email_domain_change_on_a_line_is_held_for_review() {
    let harness = Harness::new().await;
    for (version, days, email) in [
        ("3.0.0", 60, "jason@mail.example"),
        ("3.1.0", 50, "jason@mail.example"),
        ("3.1.1", 40, "jason@mail.example"),
        ("3.1.2", 20, "jason@anon-mail.example"),
    ] {
        harness.registry.publish(
            PackageBuilder::new("gadget", version)
                .field("_npmUser", json!({"name": "jason", "email": email}))
                .published(days_ago(days))
                .build(),
        );
    }
    let answer = harness.get("/gadget/-/gadget-3.1.2.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(error.contains("publisher-changed"), "{error}");
    assert!(error.contains("anon-mail.example"), "{error}");
    assert_eq!(harness.get("/gadget/-/gadget-3.1.1.tgz").await.status, 200);
}

#[tokio::test]
async fn axios_1_14_1_is_refused_by_its_publisher_history_before_any_analysis() {
    let harness = Harness::new().await;
    for package in [
        attacks::axios_legacy(),
        attacks::axios_legacy_compromised(),
        attacks::axios_earlier(),
        attacks::axios_clean(),
        attacks::axios_compromised(),
    ] {
        harness.registry.publish(package);
    }
    harness.registry.set_dist_tag("axios", "legacy", "0.30.4");
    // The packument alone says it: the 1.x line came from CI by trusted publishing,
    // 1.14.1 from a person's token with a new email domain.
    let packument = harness.get("/axios").await.json();
    assert!(packument["versions"].get("1.14.1").is_none(), "{packument}");
    assert_eq!(packument["dist-tags"]["latest"], "1.14.0");
    let answer = harness.get("/axios/-/axios-1.14.1.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(error.contains("provenance-regression"), "{error}");
    assert!(
        error.contains("published without trusted publishing, after 2 version(s) of the 1.x line"),
        "{error}"
    );
    assert!(error.contains("publisher-changed"), "{error}");
    assert!(error.contains("`jasonsaayman`"), "{error}");
    assert_eq!(
        harness.registry.hits("/axios/-/axios-1.14.1.tgz"),
        0,
        "refused without fetching the tarball"
    );

    // The 0.x line never had provenance: 0.30.4 loses nothing there, but its
    // publisher's email domain changed.
    let report = harness
        .admin("GET", "/check/axios@0.30.4", None)
        .await
        .json();
    let codes: Vec<&str> = report["decision"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reason| reason["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"publisher-changed"), "{report}");
    assert!(!codes.contains(&"provenance-regression"), "{report}");
    assert_eq!(report["trust"]["baseline"]["line"], "0.x");
    assert_eq!(
        report["trust"]["baseline"]["accounts"][0],
        json!(["jasonsaayman", ["mail.example.invalid"]])
    );
}

#[tokio::test]
async fn configured_keys_verify_what_the_upstream_does_not_publish_keys_for() {
    let key = RegistryKeyPair::generate("SHA256:private-registry");
    let configured = airlock_provenance::Keyring::parse(
        json!({"keys": [key.key_entry()]}).to_string().as_bytes(),
    )
    .unwrap();
    let harness = Harness::with_config(
        airlock_server::ServerConfig {
            registry_keys: configured,
            ..airlock_server::ServerConfig::default()
        },
        Duration::from_secs(5),
    )
    .await;
    harness.registry.sign_with(vec![key]);
    harness.registry.faults(|faults| faults.hide_keys = true);
    assert_eq!(harness.get("/demo/-/demo-1.1.0.tgz").await.status, 200);
    // Without the configured key the same signature names an unknown key.
    let unconfigured = Harness::new().await;
    unconfigured
        .registry
        .sign_with(vec![RegistryKeyPair::generate("SHA256:private-registry")]);
    unconfigured
        .registry
        .faults(|faults| faults.hide_keys = true);
    let refused = unconfigured.get("/demo/-/demo-1.1.0.tgz").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.error().contains("not among the registry's keys"),
        "{}",
        refused.error()
    );
}

#[tokio::test]
async fn a_new_publisher_of_a_critical_package_waits_for_a_person_when_the_policy_asks() {
    let publish = |harness: &Harness| {
        for (version, days, account) in [
            ("3.0.0", 60, "jason"),
            ("3.1.0", 50, "jason"),
            ("3.1.1", 40, "jason"),
            ("3.1.2", 20, "newcomer"),
        ] {
            harness.registry.publish(
                PackageBuilder::new("gadget", version)
                    .field(
                        "_npmUser",
                        json!({"name": account, "email": format!("{account}@mail.example")}),
                    )
                    .published(days_ago(days))
                    .build(),
            );
        }
    };
    // A new account on the line is a warning by itself.
    let plain = Harness::new().await;
    publish(&plain);
    assert_eq!(plain.get("/gadget/-/gadget-3.1.2.tgz").await.status, 200);

    let policy = airlock_policy::Policy::from_toml(
        "min_release_age = \"0s\"\n[gates]\ncritical = [\"gadget\"]\ncritical_trust_change = true\n",
    )
    .unwrap();
    let critical = Harness::with_policy(
        airlock_server::ServerConfig::default(),
        Duration::from_secs(5),
        policy,
    )
    .await;
    publish(&critical);
    let answer = critical.get("/gadget/-/gadget-3.1.2.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(
        error.contains("critical-bump") && error.contains("newcomer"),
        "{error}"
    );
    assert_eq!(critical.get("/gadget/-/gadget-3.1.1.tgz").await.status, 200);
}
