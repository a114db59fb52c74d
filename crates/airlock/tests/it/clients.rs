//! Real npm, pnpm, Yarn (classic and berry) and Bun installing through Airlock.
//!
//! Each test publishes a small dependency graph on the fake upstream, installs a
//! project through Airlock, checks what landed in `node_modules` and that every
//! tarball came through Airlock, then installs again from the lockfile alone with an
//! empty client cache, as CI would.

use std::path::Path;

use airlock_test::{Client, Clients, FakeRegistry, PackageBuilder};

use crate::support::{Airlock, Workspace};

/// `app` depends on `rightish ^3` and `@acme/util ^2`; `rightish` on `@acme/util`;
/// `@acme/util` on `leftish ^1`. Newer majors and a prerelease must not be picked.
fn publish_graph(registry: &FakeRegistry) {
    registry.publish(PackageBuilder::new("leftish", "1.0.0").build());
    registry.publish(PackageBuilder::new("leftish", "1.1.0").build());
    registry.publish(PackageBuilder::new("leftish", "2.0.0").build());
    registry.publish(
        PackageBuilder::new("@acme/util", "2.0.0")
            .dependency("leftish", "^1.0.0")
            .build(),
    );
    registry.publish(
        PackageBuilder::new("@acme/util", "2.1.0-beta.1")
            .dependency("leftish", "^2.0.0")
            .build(),
    );
    registry.set_dist_tag("@acme/util", "next", "2.1.0-beta.1");
    registry.publish(
        PackageBuilder::new("rightish", "3.0.0")
            .dependency("@acme/util", "^2.0.0")
            .build(),
    );
}

fn write_project(project: &Path) {
    let manifest = serde_json::json!({
        "name": "app",
        "version": "1.0.0",
        "private": true,
        "dependencies": { "rightish": "^3.0.0", "@acme/util": "^2.0.0" }
    });
    std::fs::write(
        project.join("package.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

#[track_caller]
fn installed_version(project: &Path, name: &str) -> String {
    let path = project.join("node_modules").join(name).join("package.json");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|error| panic!("{} missing: {error}", path.display())),
    )
    .unwrap();
    manifest["version"].as_str().unwrap().to_owned()
}

fn is_tarball(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, extension)| extension == "tgz")
}

/// The command that installs from the lockfile only, refusing to change it.
fn frozen_args(client: Client) -> &'static [&'static str] {
    match client {
        Client::Npm => &["ci"],
        Client::Pnpm | Client::Bun => &["install", "--frozen-lockfile"],
        Client::YarnClassic => &["install", "--frozen-lockfile", "--non-interactive"],
        Client::YarnBerry => &["install", "--immutable"],
    }
}

async fn install_through_airlock(client: Client) {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_graph(&registry);
    let workspace = Workspace::new();
    let airlock = Airlock::in_front_of(&workspace, &registry).await;
    let project = workspace.path("project");
    write_project(&project);

    let client_home = workspace.path("client-home");
    clients
        .run(client, &project, &client_home, &airlock.url, &["install"])
        .await
        .assert_success();
    assert_eq!(installed_version(&project, "rightish"), "3.0.0");
    assert_eq!(installed_version(&project, "@acme/util"), "2.0.0");
    let lockfile = std::fs::read_to_string(project.join(client.lockfile())).unwrap();
    assert!(
        lockfile.contains("leftish") && lockfile.contains("1.1.0"),
        "{lockfile}"
    );
    assert!(
        !lockfile.contains("2.1.0-beta.1"),
        "a prerelease was picked:\n{lockfile}"
    );
    if matches!(client, Client::Npm | Client::YarnClassic) {
        let resolved = format!("{}leftish/-/leftish-1.1.0.tgz", airlock.url);
        assert!(
            lockfile.contains(&resolved),
            "lockfile does not point at Airlock:\n{lockfile}"
        );
        assert!(
            !lockfile.contains(&registry.url()),
            "lockfile points at the upstream:\n{lockfile}"
        );
    }

    let requests = registry.requests();
    let tarballs: Vec<_> = requests
        .iter()
        .filter(|request| is_tarball(&request.path))
        .collect();
    // The analysis also fetches the previous version of each release line (for the
    // diff), but no tarball is fetched twice.
    let mut paths: Vec<&str> = tarballs
        .iter()
        .map(|request| request.path.as_str())
        .collect();
    paths.sort_unstable();
    let fetched = paths.len();
    paths.dedup();
    assert_eq!(
        fetched,
        paths.len(),
        "one upstream fetch per tarball: {tarballs:#?}"
    );
    assert!(paths.contains(&"/leftish/-/leftish-1.1.0.tgz"), "{paths:?}");
    for request in &requests {
        assert!(
            request.user_agent.starts_with("airlock/"),
            "{request:?} did not come through Airlock"
        );
    }

    // Lockfile install: no node_modules, an empty client cache, tarballs from Airlock's store.
    std::fs::remove_dir_all(project.join("node_modules")).unwrap();
    registry.clear_requests();
    let fresh_home = workspace.path("fresh-home");
    clients
        .run(
            client,
            &project,
            &fresh_home,
            &airlock.url,
            frozen_args(client),
        )
        .await
        .assert_success();
    assert_eq!(installed_version(&project, "rightish"), "3.0.0");
    assert_eq!(installed_version(&project, "@acme/util"), "2.0.0");
    let upstream_tarballs = registry
        .requests()
        .iter()
        .filter(|request| is_tarball(&request.path))
        .count();
    assert_eq!(
        upstream_tarballs, 0,
        "the second install is served from Airlock's store"
    );
}

#[tokio::test]
async fn npm_installs_through_airlock() {
    install_through_airlock(Client::Npm).await;
}

#[tokio::test]
async fn pnpm_installs_through_airlock() {
    install_through_airlock(Client::Pnpm).await;
}

#[tokio::test]
async fn yarn_classic_installs_through_airlock() {
    install_through_airlock(Client::YarnClassic).await;
}

#[tokio::test]
async fn yarn_berry_installs_through_airlock() {
    install_through_airlock(Client::YarnBerry).await;
}

#[tokio::test]
async fn bun_installs_through_airlock() {
    install_through_airlock(Client::Bun).await;
}

#[tokio::test]
async fn npm_reports_an_integrity_mismatch_with_airlocks_message() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_graph(&registry);
    registry.faults(|faults| faults.corrupt_tarballs = true);
    let workspace = Workspace::new();
    let airlock = Airlock::in_front_of(&workspace, &registry).await;
    let project = workspace.path("project");
    write_project(&project);
    let run = clients
        .run(
            Client::Npm,
            &project,
            &workspace.path("client-home"),
            &airlock.url,
            &["install", "--fetch-retries=0"],
        )
        .await;
    run.assert_failure();
    assert!(
        run.output().contains("integrity mismatch"),
        "{}",
        run.output()
    );
}

#[tokio::test]
async fn npm_audit_works_through_airlock() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_graph(&registry);
    let workspace = Workspace::new();
    let airlock = Airlock::in_front_of(&workspace, &registry).await;
    let project = workspace.path("project");
    write_project(&project);
    let home = workspace.path("client-home");
    clients
        .run(Client::Npm, &project, &home, &airlock.url, &["install"])
        .await
        .assert_success();
    registry.clear_requests();
    clients
        .run(
            Client::Npm,
            &project,
            &home,
            &airlock.url,
            &["audit", "--json"],
        )
        .await;
    let audit_requests = registry
        .requests()
        .into_iter()
        .filter(|request| request.path.starts_with("/-/npm/v1/security/"))
        .count();
    assert!(
        audit_requests > 0,
        "npm audit reached the upstream through Airlock"
    );
}
