//! Registry signatures and provenance end to end: real npm's `audit signatures`
//! through Airlock, and what `airlock check` and `airlock scan` show.

use airlock_test::{Client, Clients, FakeRegistry, PackageBuilder, RegistryKeyPair, provenance};

use crate::support::{Airlock, Workspace};

#[tokio::test]
async fn npm_audit_signatures_passes_for_signed_packages_served_through_airlock() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    registry.sign_with(vec![RegistryKeyPair::generate("SHA256:fake-registry")]);
    registry.publish(PackageBuilder::new("@acme/util", "2.1.0").build());
    registry.publish(
        PackageBuilder::new("app-lib", "1.4.0")
            .dependency("@acme/util", "^2.0.0")
            .build(),
    );
    let workspace = Workspace::new();
    let airlock = Airlock::with_policy(&workspace, &registry, "min_release_age = \"0s\"\n").await;
    let project = workspace.path("project");
    std::fs::write(
        project.join("package.json"),
        r#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"app-lib":"^1.4.0"}}"#,
    )
    .unwrap();
    let npm_home = workspace.path("npm-home");
    clients
        .run(Client::Npm, &project, &npm_home, &airlock.url, &["install"])
        .await
        .assert_success();
    // npm's own verification, with only the Sigstore TUF download (no internet
    // here) answered as it is for any registry TUF does not know.
    let preload = airlock_test::offline_tuf_preload(&workspace.path("home"));
    let node_options = format!("--require {}", preload.display());
    let audit = clients
        .run_with_env(
            Client::Npm,
            &project,
            &npm_home,
            &airlock.url,
            &["audit", "signatures"],
            &[("NODE_OPTIONS", node_options.as_ref())],
        )
        .await;
    audit.assert_success();
    assert!(
        audit
            .output()
            .contains("2 packages have verified registry signatures"),
        "{}",
        audit.output()
    );
    // npm asked Airlock for the keys, and Airlock passed the upstream's through.
    assert!(registry.hits("/-/npm/v1/keys") >= 1);
}

#[tokio::test]
async fn check_and_scan_show_provenance_signature_and_history() {
    let registry = FakeRegistry::start().await;
    registry.publish(provenance::sigstore_package());
    let workspace = Workspace::new();
    let airlock = Airlock::with_policy(&workspace, &registry, "min_release_age = \"0s\"\n").await;
    let home = workspace.path("home");
    let check = airlock.cli(&home, &["check", "sigstore@2.0.0"]).await;
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
    for expected in [
        "signature  none (the registry sent no signature)",
        "/sigstore/sigstore-js (id 495574555) at f0b49a04e5a62250e0f60fb128004a73110fe311, workflow ",
        "history    first version of the 2.x line",
    ] {
        assert!(
            check.stdout.contains(expected),
            "{expected}:\n{}",
            check.stdout
        );
    }
    let scan = airlock
        .cli(&home, &["scan", "sigstore@2.0.0", "--json"])
        .await;
    assert_eq!(scan.code, Some(0), "{}{}", scan.stdout, scan.stderr);
    let report: serde_json::Value = serde_json::from_str(&scan.stdout).unwrap();
    let repository = report["trust"]["provenance"]["provenance"]["repository"]
        .as_str()
        .unwrap();
    assert!(
        repository.ends_with("/sigstore/sigstore-js"),
        "{repository}"
    );
    assert_eq!(report["trust"]["signature"]["status"], "missing");
}
