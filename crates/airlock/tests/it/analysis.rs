//! Content analysis end to end: `airlock scan`, `airlock diff`, and real npm installs
//! that the analysis refuses.

use std::path::Path;
use std::time::Duration;

use airlock_test::{Client, Clients, FakeRegistry, attacks};

use crate::support::{Airlock, Workspace, airlock_command, run_airlock};

fn publish_axios_pair(registry: &FakeRegistry) {
    for package in [
        attacks::axios_clean(),
        attacks::axios_compromised(),
        attacks::plain_crypto_js_decoy(),
        attacks::plain_crypto_js_dropper(),
        attacks::follow_redirects(),
        attacks::form_data(),
    ] {
        registry.publish(package);
    }
}

async fn start(workspace: &Workspace, registry: &FakeRegistry) -> Airlock {
    // No age gate: what is refused here is refused by the analysis alone.
    Airlock::with_policy(workspace, registry, "min_release_age = \"0s\"\n").await
}

async fn scan(home: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec![std::ffi::OsStr::new("scan")];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    run_airlock(home, &all).await
}

#[tokio::test]
async fn scan_blocks_the_dropper_tarball_and_allows_a_lookalike_directory() {
    let workspace = Workspace::new();
    let home = workspace.path("home");
    let tarball = workspace.path("plain-crypto-js-4.2.1.tgz");
    std::fs::write(&tarball, attacks::plain_crypto_js_dropper().tarball).unwrap();
    // `--offline`: no registry to judge dependencies by (the test has none).
    let (code, output) = scan(&home, &[tarball.to_str().unwrap(), "--offline"]).await;
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.starts_with("plain-crypto-js@4.2.1: block"),
        "{output}"
    );
    for expected in [
        "obfuscated-code",
        "self-deletion",
        "manifest-swap",
        "setup.js:",
        "install",
    ] {
        assert!(output.contains(expected), "{expected} missing:\n{output}");
    }

    // An unpacked esbuild-like package: its install script is shown, not refused.
    // It downloads from the registry npm is configured with, which is no foreign host.
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".npmrc"),
        "registry=https://registry.example.invalid/\n",
    )
    .unwrap();
    let package = attacks::esbuild_like();
    let directory = workspace.path("esbuild");
    let archive =
        airlock_analyze::Archive::read(&package.tarball, &airlock_analyze::Limits::default());
    for entry in &archive.entries {
        let path = directory.join(&entry.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, entry.text().unwrap_or_default()).unwrap();
    }
    let (code, output) = scan(&home, &[directory.to_str().unwrap(), "--json", "--offline"]).await;
    assert_eq!(code, Some(0), "{output}");
    let report: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(report["verdict"]["verdict"], "allow");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["code"] == "install-script"),
        "{report:#}"
    );
}

/// `--previous` diffs a tarball against the version before it, as the proxy does:
/// a patch release that adds an install script running an unknown file (the
/// hijacked-release shape) is held, the same tarball alone only shows its script,
/// and a predecessor of another package or several targets are refused with why.
#[tokio::test]
async fn scan_with_previous_diffs_a_release_against_its_predecessor() {
    let workspace = Workspace::new();
    let home = workspace.path("home");
    let library = |version: &str, hijacked: bool| {
        let mut builder = airlock_test::PackageBuilder::new("cli-helper", version)
            .file("index.js", "module.exports = (a, b) => a + b;\n");
        if hijacked {
            builder = builder
                .script("preinstall", "node dist/setup.js")
                .file("dist/setup.js", "module.exports = 1;\n");
        }
        builder.build()
    };
    let before = workspace.path("cli-helper-8.13.0.tgz");
    let after = workspace.path("cli-helper-8.14.0.tgz");
    std::fs::write(&before, library("8.13.0", false).tarball).unwrap();
    std::fs::write(&after, library("8.14.0", true).tarball).unwrap();
    let args = |extra: &[&'static str]| {
        let mut all = vec![after.to_str().unwrap().to_owned()];
        all.extend(["--offline", "--no-sandbox", "--json"].map(str::to_owned));
        all.extend(extra.iter().map(|arg| (*arg).to_owned()));
        all
    };
    let alone: Vec<String> = args(&[]);
    let (code, output) = scan(&home, &alone.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let report: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(report["verdict"]["verdict"], "allow", "{report:#}");

    let mut diffed = args(&[]);
    diffed.extend(["--previous".to_owned(), before.to_str().unwrap().to_owned()]);
    let (code, output) = scan(
        &home,
        &diffed.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(code, Some(1), "{output}");
    let report: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(report["verdict"]["verdict"], "quarantine", "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| {
                finding["code"] == "install-script-added"
                    && finding["message"].as_str().unwrap().contains("8.13.0")
            }),
        "{report:#}"
    );

    let other = workspace.path("other-1.0.0.tgz");
    std::fs::write(
        &other,
        airlock_test::PackageBuilder::new("other", "1.0.0")
            .file("index.js", "module.exports = 1;\n")
            .build()
            .tarball,
    )
    .unwrap();
    let (code, output) = scan(
        &home,
        &[
            after.to_str().unwrap(),
            "--offline",
            "--no-sandbox",
            "--previous",
            other.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, Some(2), "a usage error: {output}");
    assert!(
        output.contains("`other`") && output.contains("same package"),
        "{output}"
    );
    let (code, output) = scan(
        &home,
        &[
            after.to_str().unwrap(),
            before.to_str().unwrap(),
            "--offline",
            "--previous",
            before.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, Some(2), "a usage error: {output}");
    assert!(output.contains("give one target, not 2"), "{output}");
}

/// A tarball whose install script reads innocently is also run in the sandbox, as
/// the proxy runs it: what it did decides (`runtime-*` codes); `--no-sandbox` reads
/// it only. Uses the real bubblewrap and strace `scripts/test` installs.
#[tokio::test]
async fn scan_runs_a_tarballs_install_scripts_in_the_sandbox() {
    let workspace = Workspace::new();
    let home = workspace.path("home");
    let tarball = workspace.path("quiet-helper-1.0.0.tgz");
    let package = attacks::quiet_key_thief().build();
    std::fs::write(&tarball, package.tarball).unwrap();
    let (code, output) = scan(&home, &[tarball.to_str().unwrap(), "--offline"]).await;
    assert_eq!(code, Some(1), "{output}");
    for expected in ["runtime-credential-read", "runtime-network", ".ssh/id_rsa"] {
        assert!(output.contains(expected), "{expected} missing:\n{output}");
    }
    let (_, output) = scan(&home, &[tarball.to_str().unwrap(), "--offline", "--json"]).await;
    let report: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert!(report["sandbox_millis"].as_f64().is_some(), "{report:#}");
    let (_, output) = scan(
        &home,
        &[tarball.to_str().unwrap(), "--offline", "--no-sandbox"],
    )
    .await;
    assert!(!output.contains("runtime-"), "{output}");
}

/// A package on disk is judged with its dependencies, as the proxy would judge them
/// when a client asks: one whose resolved version the analysis blocks makes the
/// package that pulls it in blocked too, even when a file requires it.
#[tokio::test]
async fn scan_of_a_local_package_judges_its_dependencies_by_their_content() {
    let registry = FakeRegistry::start().await;
    publish_axios_pair(&registry);
    let workspace = Workspace::new();
    let home = workspace.path("home");
    let data = workspace.path("data");
    let package = airlock_test::PackageBuilder::new("crypto-helpers", "2.0.0")
        .dependency("plain-crypto-js", "^4.2.1")
        .file("index.js", "module.exports = require('plain-crypto-js');\n")
        .build();
    let tarball = workspace.path("crypto-helpers-2.0.0.tgz");
    std::fs::write(&tarball, &package.tarball).unwrap();
    let upstream = registry.url();
    let (code, output) = scan(
        &home,
        &[
            tarball.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--upstream",
            &upstream,
        ],
    )
    .await;
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("dependency-risk") && output.contains("its 4.2.1 is blocked"),
        "{output}"
    );
    // Offline, the same package's own code is all there is to judge.
    let (code, output) = scan(&home, &[tarball.to_str().unwrap(), "--offline"]).await;
    assert_eq!(code, Some(0), "{output}");
}

#[tokio::test]
async fn scan_and_diff_of_published_versions() {
    let registry = FakeRegistry::start().await;
    publish_axios_pair(&registry);
    let workspace = Workspace::new();
    let home = workspace.path("home");
    let data = workspace.path("data");
    let upstream = registry.url();
    let setup = [
        "--standalone",
        "--data-dir",
        data.to_str().unwrap(),
        "--upstream",
        &upstream,
    ];

    let mut args = vec!["axios@1.14.1"];
    args.extend(setup);
    let (code, output) = scan(&home, &args).await;
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("dependency-risk") && output.contains("plain-crypto-js@^4.2.1"),
        "{output}"
    );

    let diff = airlock_command(&home)
        .args([
            "diff",
            "axios@1.14.0",
            "1.14.1",
            "--data-dir",
            data.to_str().unwrap(),
            "--upstream",
            &upstream,
        ])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(text.starts_with("axios: 1.14.0 -> 1.14.1"), "{text}");
    assert!(
        text.contains("+ plain-crypto-js@^4.2.1  (required by no file)"),
        "{text}"
    );
    assert!(text.contains("dependency-added"), "{text}");
}

#[tokio::test]
async fn npm_resolves_past_a_version_the_analysis_refused() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_axios_pair(&registry);
    let workspace = Workspace::new();
    let airlock = start(&workspace, &registry).await;
    let home = workspace.path("home");

    // Serving the packument judges its newest version in the background; a person
    // (or the quarantine) waits for that before installing.
    let check = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let _ = reqwest::get(format!("{}axios", airlock.url)).await;
            let run = airlock.cli(&home, &["check", "axios@1.14.1"]).await;
            if run.code == Some(1) {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("axios@1.14.1 is judged");
    assert!(check.stdout.contains("dependency-risk"), "{}", check.stdout);

    let project = workspace.path("project");
    std::fs::write(
        project.join("package.json"),
        r#"{"name":"app","version":"1.0.0","private":true,"dependencies":{"axios":"^1.14.0"}}"#,
    )
    .unwrap();
    clients
        .run(
            Client::Npm,
            &project,
            &workspace.path("npm-home"),
            &airlock.url,
            &["install"],
        )
        .await
        .assert_success();
    let installed: serde_json::Value = serde_json::from_slice(
        &std::fs::read(project.join("node_modules/axios/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(installed["version"], "1.14.0");
    assert!(!project.join("node_modules/plain-crypto-js").exists());

    // The dropper is no longer listed; fetching its tarball directly (as a lockfile
    // does) fails with Airlock's reasons.
    let tarball = format!("{}plain-crypto-js/-/plain-crypto-js-4.2.1.tgz", airlock.url);
    let refused = clients
        .run(
            Client::Npm,
            &project,
            &workspace.path("npm-home"),
            &airlock.url,
            &["install", &tarball, "--fetch-retries=0"],
        )
        .await;
    refused.assert_failure();
    let output = refused.output();
    assert!(
        output.contains("403") || output.contains("E403"),
        "{output}"
    );
    assert!(output.contains("obfuscated-code"), "{output}");
}
