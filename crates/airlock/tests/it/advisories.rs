//! The "were we hit?" timeline, end to end: a version ages past the quarantine, two
//! clients install it, an advisory arrives, the next install is refused, `airlock
//! exposure` names both downloads, and the upstream's removal is recorded.

use std::time::{Duration, SystemTime};

use airlock_test::{Client, Clients, FakeRegistry, PackageBuilder};

use crate::support::{Airlock, Workspace};

fn write_project(project: &std::path::Path) {
    std::fs::create_dir_all(project).unwrap();
    let manifest = serde_json::json!({"name": "app", "version": "1.0.0", "private": true,
        "dependencies": {"victim": "^1.0.0"}});
    std::fs::write(project.join("package.json"), manifest.to_string()).unwrap();
}

#[tokio::test]
async fn advisory_exposure_and_takedown_timeline() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    // Published two hours ago: past the one-hour quarantine when clients install it.
    let published = SystemTime::now() - Duration::from_hours(2);
    registry.publish(
        PackageBuilder::new("victim", "0.9.0")
            .published(published - Duration::from_hours(24 * 30))
            .build(),
    );
    registry.publish(
        PackageBuilder::new("victim", "1.0.0")
            .published(published)
            .build(),
    );

    let workspace = Workspace::new();
    let airlock = Airlock::with_config(
        &workspace,
        &registry,
        "[cache]\nmetadata_max_age = \"0s\"\n",
        "min_release_age = \"1h\"\n",
    )
    .await;
    let home = workspace.path("home");

    // Two clients install it.
    let (first, second) = (workspace.path("first"), workspace.path("second"));
    for (client, project) in [(Client::Npm, &first), (Client::Pnpm, &second)] {
        write_project(project);
        clients
            .run(
                client,
                project,
                &workspace.path(&format!("{client:?}-home")),
                &airlock.url,
                &["install"],
            )
            .await
            .assert_success();
    }

    // An advisory arrives.
    let advisories = workspace.path("advisories");
    std::fs::create_dir_all(advisories.join("npm/victim")).unwrap();
    let record = serde_json::json!({
        "schema_version": "1.5.0", "id": "MAL-2026-100", "aliases": ["GHSA-test-test-test"],
        "summary": "Malicious code in victim (npm)",
        "details": "The package downloads a second stage from http://127.0.0.5:8000/p.",
        "affected": [{"package": {"ecosystem": "npm", "name": "victim"}, "versions": ["1.0.0"]}]
    });
    std::fs::write(
        advisories.join("npm/victim/MAL-2026-100.json"),
        record.to_string(),
    )
    .unwrap();
    let import = airlock
        .cli(
            &home,
            &["advisories", "import", advisories.to_str().unwrap()],
        )
        .await;
    assert_eq!(import.code, Some(0), "{import:?}");
    assert!(
        import.stdout.contains("imported 1 advisories"),
        "{import:?}"
    );

    // The next install from the lockfile is refused with the advisory's id.
    std::fs::remove_dir_all(first.join("node_modules")).unwrap();
    let refused = clients
        .run(
            Client::Npm,
            &first,
            &workspace.path("fresh-home"),
            &airlock.url,
            &["ci", "--fetch-retries=0"],
        )
        .await;
    refused.assert_failure();
    let output = refused.output();
    assert!(
        output.contains("[known-malicious]") && output.contains("MAL-2026-100"),
        "{output}"
    );

    // Exposure names both earlier downloads, with their times and clients.
    let exposure = airlock
        .cli(&home, &["exposure", "victim@1.0.0", "--json"])
        .await;
    assert_eq!(
        exposure.code,
        Some(1),
        "exposure is a finding: {exposure:?}"
    );
    let report: serde_json::Value = serde_json::from_str(&exposure.stdout).unwrap();
    let downloads = report["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 2, "{report}");
    assert!(
        downloads[0]["user_agent"]
            .as_str()
            .unwrap()
            .starts_with("npm/"),
        "{report}"
    );
    assert!(
        downloads[1]["user_agent"]
            .as_str()
            .unwrap()
            .starts_with("pnpm/"),
        "{report}"
    );
    assert!(
        downloads
            .iter()
            .all(|download| download["verdict"] == "allow"
                && download["at"].as_str().unwrap().ends_with('Z'))
    );
    assert_eq!(report["advisories"], serde_json::json!(["MAL-2026-100"]));
    // The refused request is listed too, with its decision, not only counted.
    let refused = report["refused_requests"].as_array().unwrap();
    assert!(!refused.is_empty(), "{report}");
    assert!(
        refused.iter().all(|request| request["served"] == false
            && request["codes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|code| code == "known-malicious")),
        "{report}"
    );
    let table = airlock.cli(&home, &["exposure", "victim@1.0.0"]).await;
    assert!(table.stdout.contains("was downloaded 2 times"), "{table:?}");
    assert!(
        table
            .stdout
            .contains("requests were refused (nothing was served):")
            && table.stdout.contains("known-malicious"),
        "{table:?}"
    );

    // A malformed advisory file leaves the previous set in force.
    let broken = workspace.path("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("MAL-2026-101.json"),
        "{\"id\": \"MAL-2026-101\", \"affected\": [",
    )
    .unwrap();
    let failed = airlock
        .cli(&home, &["advisories", "import", broken.to_str().unwrap()])
        .await;
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains("MAL-2026-101.json")
            && failed.stderr.contains("previous advisories stay in force"),
        "{failed:?}"
    );
    let check = airlock.cli(&home, &["check", "victim@1.0.0"]).await;
    assert_eq!(check.code, Some(1));
    assert!(check.stdout.contains("known-malicious"), "{check:?}");

    // The upstream takes the version down: Airlock records when it noticed.
    registry.unpublish("victim", "1.0.0");
    let packument = reqwest::get(format!("{}victim", airlock.url))
        .await
        .unwrap();
    assert_eq!(packument.status(), 200);
    let takedowns = airlock.admin_get("takedowns").await;
    assert_eq!(takedowns[0]["package"], "victim");
    assert_eq!(takedowns[0]["version"], "1.0.0");
}

#[tokio::test]
async fn a_configured_advisory_path_is_imported_on_start_and_on_schedule() {
    let registry = FakeRegistry::start().await;
    registry.publish(PackageBuilder::new("victim", "2.0.0").build());
    let workspace = Workspace::new();
    let advisories = workspace.path("advisories");
    std::fs::create_dir_all(&advisories).unwrap();
    let config = workspace.path("airlock.toml");
    std::fs::write(
        &config,
        "[advisories]\npath = \"advisories\"\nrefresh = \"1s\"\n",
    )
    .unwrap();
    let home = workspace.path("home");
    let airlock = Airlock::with_config_file(&workspace, &registry, &home, &config).await;
    assert_eq!(
        airlock.cli(&home, &["check", "victim@2.0.0"]).await.code,
        Some(0)
    );
    let record = serde_json::json!({"id": "MAL-2026-200", "summary": "Malicious code in victim",
        "affected": [{"package": {"ecosystem": "npm", "name": "victim"}, "versions": ["2.0.0"]}]});
    std::fs::write(advisories.join("MAL-2026-200.json"), record.to_string()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let check = airlock.cli(&home, &["check", "victim@2.0.0"]).await;
        if check.code == Some(1) {
            assert!(check.stdout.contains("MAL-2026-200"), "{check:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled import did not happen: {check:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the test's advisory feed serves: status, ETag and body; and the
/// `If-None-Match` of every request it got.
#[derive(Default)]
struct FeedState {
    status: u16,
    etag: String,
    body: String,
    conditional: Vec<String>,
}

/// A minimal HTTP server on loopback serving [`FeedState`], with a 304 for a request
/// whose `If-None-Match` is the current ETag.
async fn feed_server(state: std::sync::Arc<std::sync::Mutex<FeedState>>) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                let if_none_match = text
                    .lines()
                    .find_map(|line| line.strip_prefix("if-none-match:"))
                    .map(|value| value.trim().to_owned());
                let response = {
                    let mut state = state.lock().unwrap();
                    if let Some(tag) = &if_none_match {
                        state.conditional.push(tag.clone());
                    }
                    if state.status == 200 && if_none_match.as_deref() == Some(state.etag.as_str())
                    {
                        "HTTP/1.1 304 Not Modified\r\nconnection: close\r\n\r\n".to_owned()
                    } else {
                        format!(
                            "HTTP/1.1 {} X\r\netag: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                            state.status,
                            state.etag,
                            state.body.len(),
                            state.body
                        )
                    }
                };
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/osv/npm.json")
}

/// Polls `airlock check spec` until it exits with `code`.
async fn wait_for_check(airlock: &Airlock, home: &std::path::Path, spec: &str, code: i32) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let check = airlock.cli(home, &["check", spec]).await;
        if check.code == Some(code) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`check {spec}` did not reach {code}: {check:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_advisory_feed_by_url_is_refreshed_conditionally_and_survives_an_outage() {
    let registry = FakeRegistry::start().await;
    registry.publish(PackageBuilder::new("victim", "2.0.0").build());
    registry.publish(PackageBuilder::new("victim", "2.0.1").build());
    let record = |id: &str, version: &str| {
        serde_json::json!({"id": id, "summary": "Malicious code in victim",
            "affected": [{"package": {"ecosystem": "npm", "name": "victim"}, "versions": [version]}]})
    };
    let state = std::sync::Arc::new(std::sync::Mutex::new(FeedState {
        status: 200,
        etag: "\"v1\"".into(),
        body: serde_json::json!([record("MAL-2026-300", "2.0.0")]).to_string(),
        conditional: Vec::new(),
    }));
    let url = feed_server(state.clone()).await;
    let workspace = Workspace::new();
    // Two sources: the feed by URL, and a directory of records beside it.
    let ossf = workspace.path("ossf");
    std::fs::create_dir_all(&ossf).unwrap();
    std::fs::write(
        ossf.join("MAL-2026-400.json"),
        serde_json::json!({"id": "MAL-2026-400", "summary": "Malicious code in other",
            "affected": [{"package": {"ecosystem": "npm", "name": "other"}, "versions": ["1.0.0"]}]})
        .to_string(),
    )
    .unwrap();
    let config = workspace.path("airlock.toml");
    std::fs::write(
        &config,
        format!(
            "[advisories]\nrefresh = \"1s\"\n[[advisories.feeds]]\nurl = \"{url}\"\n[[advisories.feeds]]\npath = \"ossf\"\n"
        ),
    )
    .unwrap();
    let home = workspace.path("home");
    let airlock = Airlock::with_config_file(&workspace, &registry, &home, &config).await;
    wait_for_check(&airlock, &home, "victim@2.0.0", 1).await;
    assert_eq!(
        airlock.cli(&home, &["check", "victim@2.0.1"]).await.code,
        Some(0)
    );
    // Each source's records and last import, in health and metrics.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ready: serde_json::Value = serde_json::from_slice(
            &reqwest::get(format!("{}-/airlock/health/ready", airlock.url))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        )
        .unwrap();
        let sources = ready["advisory_sources"].as_array().unwrap().clone();
        if sources.len() == 2 {
            assert!(
                sources.iter().all(|source| source["records"] == 1
                    && source["imported_at"].as_str().unwrap().ends_with('Z')),
                "{ready}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let metrics = reqwest::get(format!("{}-/airlock/metrics", airlock.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("airlock_advisory_source_records{source=")
            && metrics.contains("airlock_advisory_source_age_seconds{source="),
        "{metrics}"
    );

    // Later refreshes ask conditionally, and an unchanged feed costs a 304.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !state
        .lock()
        .unwrap()
        .conditional
        .iter()
        .any(|tag| tag == "\"v1\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no conditional request"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The feed fails: the last good set stays in force.
    state.lock().unwrap().status = 503;
    let failed_from = state.lock().unwrap().conditional.len();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while state.lock().unwrap().conditional.len() < failed_from + 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no request during the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        airlock.cli(&home, &["check", "victim@2.0.0"]).await.code,
        Some(1)
    );
    assert!(
        airlock.log().contains("previous advisories stay in force"),
        "{}",
        airlock.log()
    );

    // The feed changes: the new record applies.
    {
        let mut state = state.lock().unwrap();
        state.status = 200;
        state.etag = "\"v2\"".into();
        state.body = serde_json::json!([
            record("MAL-2026-300", "2.0.0"),
            record("MAL-2026-301", "2.0.1")
        ])
        .to_string();
    }
    wait_for_check(&airlock, &home, "victim@2.0.1", 1).await;
}

#[tokio::test]
async fn npm_installs_the_fix_of_a_serious_vulnerability_before_its_quarantine_ends() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    let hours_ago = |hours: u64| SystemTime::now() - Duration::from_hours(hours);
    registry.publish(
        PackageBuilder::new("victim", "1.0.0")
            .published(hours_ago(24 * 30))
            .build(),
    );
    registry.publish(
        PackageBuilder::new("victim", "1.0.1")
            .published(hours_ago(1))
            .build(),
    );
    registry.publish(
        PackageBuilder::new("victim", "1.1.0")
            .published(hours_ago(1))
            .build(),
    );
    let workspace = Workspace::new();
    let advisories = workspace.path("advisories");
    std::fs::create_dir_all(&advisories).unwrap();
    std::fs::write(
        advisories.join("GHSA-ffff-aaaa-ssss.json"),
        serde_json::json!({
            "id": "GHSA-ffff-aaaa-ssss", "summary": "Prototype pollution in victim",
            "affected": [{"package": {"ecosystem": "npm", "name": "victim"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}],
            "database_specific": {"severity": "HIGH"}
        })
        .to_string(),
    )
    .unwrap();
    let config = workspace.path("airlock.toml");
    std::fs::write(&config, "[advisories]\npath = \"advisories\"\n").unwrap();
    let home = workspace.path("home");
    let airlock = Airlock::with_config_file(&workspace, &registry, &home, &config).await;
    airlock.wait_for_advisories(1).await;
    let project = workspace.path("project");
    write_project(&project);
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
    // `^1.0.0` resolves to the fix, not to 1.0.0, and not to 1.1.0, still quarantined.
    let installed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("node_modules/victim/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(installed["version"], "1.0.1");
}
