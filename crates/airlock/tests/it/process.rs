//! The running process: a killed process never leaves a blob that is served, and its log has one line per request.

use std::time::Duration;

use airlock_test::{FakeRegistry, PackageBuilder};

use crate::support::{Airlock, Workspace};

fn blobs(data: &std::path::Path) -> Vec<std::path::PathBuf> {
    fn walk(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(path).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("blobs"), &mut out);
    out
}

#[tokio::test]
async fn a_download_killed_halfway_leaves_nothing_served() {
    let registry = FakeRegistry::start().await;
    // Incompressible bytes, so that half the tarball is more than a write buffer.
    let noise: Vec<u8> = (0u64..512 * 1024)
        .scan(0x2545_f491_4f6c_dd1d_u64, |state, _| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            Some(state.to_le_bytes()[0])
        })
        .collect();
    let package = PackageBuilder::new("big", "1.0.0")
        .file("data.bin", noise)
        .build();
    registry.publish(package.clone());
    registry.faults(|faults| faults.stall_tarballs = Some(Duration::from_secs(30)));
    let workspace = Workspace::new();
    let (home, data) = (workspace.path("home"), workspace.path("data"));
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--upstream",
        &registry.url(),
    ];

    let airlock = Airlock::start(&home, &args).await;
    let url = format!("{}big/-/big-1.0.0.tgz", airlock.url);
    let request = tokio::spawn(reqwest::get(url.clone()));
    // Wait until half the tarball sits in a partial file, then kill the process.
    let tmp = data.join("tmp");
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let partial = std::fs::read_dir(&tmp)
                .unwrap()
                .any(|entry| entry.unwrap().metadata().unwrap().len() > 0);
            if partial {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a partial download appears");
    airlock.kill().await;
    // The client sees the connection die; what matters is what is on disk.
    let _ = request.await;
    assert!(blobs(&data).is_empty(), "no blob after a killed download");

    registry.faults(|faults| faults.stall_tarballs = None);
    let airlock = Airlock::start(&home, &args).await;
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "partial files are cleared at start"
    );
    let response = reqwest::get(format!("{}big/-/big-1.0.0.tgz", airlock.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), package.tarball);
    assert_eq!(blobs(&data).len(), 1);
}

#[tokio::test]
async fn every_request_leaves_one_access_line() {
    let registry = FakeRegistry::start().await;
    registry.publish(PackageBuilder::new("lined", "1.0.0").build());
    let workspace = Workspace::new();
    let airlock = Airlock::in_front_of(&workspace, &registry).await;

    let client = reqwest::Client::new();
    for path in ["lined", "lined/-/lined-1.0.0.tgz", "-/nothing-here"] {
        client
            .get(format!("{}{path}", airlock.url))
            .send()
            .await
            .unwrap();
    }
    let wanted = [
        "method=GET path=/lined status=200",
        "method=GET path=/lined/-/lined-1.0.0.tgz status=200",
        "method=GET path=/-/nothing-here status=404",
    ];
    // The writer thread flushes when its queue empties; give it a moment.
    let log = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let log = airlock.log();
            if wanted.iter().all(|line| log.contains(line)) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("access lines missing from:\n{}", airlock.log()));
    for line in wanted {
        let matching: Vec<&str> = log.lines().filter(|l| l.contains(line)).collect();
        assert_eq!(matching.len(), 1, "one line for {line}:\n{log}");
        assert!(matching[0].contains(" INFO airlock::access: request "));
    }
}

/// A denial survives a crash; a crash whose write-ahead log is then deleted, or a
/// database emptied, stops the next start with the way back instead of starting
/// afresh and serving the denied version; `airlock backup` and `airlock restore`
/// are that way back.
#[tokio::test]
async fn a_lost_database_stops_the_start_and_a_backup_brings_the_denial_back() {
    let registry = FakeRegistry::start().await;
    registry.publish(
        PackageBuilder::new("quarry", "1.0.0")
            .published(airlock_test::days_ago(30))
            .build(),
    );
    let workspace = Workspace::new();
    let (home, data) = (workspace.path("home"), workspace.path("data"));
    let airlock = Airlock::with_policy(&workspace, &registry, "").await;
    let deny = airlock
        .cli(
            &home,
            &[
                "deny",
                "quarry@1.0.0",
                "--reason",
                "bad build",
                "--author",
                "sec",
            ],
        )
        .await;
    assert_eq!(deny.code, Some(0), "{deny:?}");
    let backup = workspace.path("backup.db");
    let local = |command: &'static str| {
        let (home, data, backup) = (home.clone(), data.clone(), backup.clone());
        async move {
            let output = crate::support::airlock_command(&home)
                .arg(command)
                .arg(&backup)
                .arg("--data-dir")
                .arg(&data)
                .output()
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "{command}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    };
    local("backup").await;
    airlock.kill().await;

    // The crash's log is deleted: the next start refuses, naming the way back.
    std::fs::remove_file(data.join("airlock.db-wal")).unwrap();
    let refused = crate::support::airlock_command(&home)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &registry.url(),
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("write-ahead log") && stderr.contains("airlock restore"),
        "{stderr}"
    );

    local("restore").await;
    let airlock = Airlock::with_policy(&workspace, &registry, "").await;
    let check = airlock.cli(&home, &["check", "quarry@1.0.0"]).await;
    assert_eq!(check.code, Some(1), "the denial is back: {check:?}");
    let tarball = reqwest::get(format!("{}quarry/-/quarry-1.0.0.tgz", airlock.url))
        .await
        .unwrap();
    assert_eq!(tarball.status(), 403);
}

/// Every download a client received is in the download log, even when the process
/// is killed (SIGKILL) the moment the answers have left.
#[tokio::test]
async fn downloads_served_before_a_kill_are_all_logged() {
    let registry = FakeRegistry::start().await;
    registry.publish(
        PackageBuilder::new("logged", "1.0.0")
            .published(airlock_test::days_ago(30))
            .build(),
    );
    let workspace = Workspace::new();
    let airlock = Airlock::with_policy(&workspace, &registry, "").await;
    let url = format!("{}logged/-/logged-1.0.0.tgz", airlock.url);
    let client = reqwest::Client::new();
    let requests: Vec<_> = (0..40)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let response = client.get(url).send().await.ok()?;
                let ok = response.status() == 200;
                (ok && response.bytes().await.is_ok()).then_some(())
            })
        })
        .collect();
    let mut received = 0;
    for request in requests {
        if request.await.unwrap().is_some() {
            received += 1;
        }
    }
    airlock.kill().await;
    assert!(received > 0);

    let airlock = Airlock::with_policy(&workspace, &registry, "").await;
    let log = airlock.admin_get("downloads?package=logged").await;
    let served = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| record["served"] == true)
        .count();
    assert!(
        served >= received,
        "{received} downloads reached clients, {served} are in the log"
    );
}

/// The analyser runs in a worker process: a tarball that needs more memory than
/// the worker may take ends that worker, holds that one version with the reason,
/// and the server serves on.
#[tokio::test]
async fn an_analysis_out_of_memory_holds_one_version_and_the_server_serves_on() {
    let registry = FakeRegistry::start().await;
    // 14 MB of one array literal: parsing it needs far more than 64 MiB.
    let numbers: Vec<String> = (0..1_900_000).map(|number| number.to_string()).collect();
    registry.publish(
        PackageBuilder::new("huge-array", "1.0.0")
            .file(
                "index.js",
                format!("module.exports = [{}];\n", numbers.join(",")),
            )
            .build(),
    );
    registry.publish(
        PackageBuilder::new("small", "1.0.0")
            .file("index.js", "module.exports = 1;\n")
            .build(),
    );
    let workspace = Workspace::new();
    let airlock = Airlock::with_config(
        &workspace,
        &registry,
        "[analyser]\nisolation = \"process\"\nmemory_mb = 64\n",
        "min_release_age = \"0s\"\n",
    )
    .await;

    let refused = reqwest::get(format!("{}huge-array/-/huge-array-1.0.0.tgz", airlock.url))
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.unwrap();
    assert!(body.contains("analysis-incomplete"), "{body}");
    assert!(body.contains("memory limit (64 MiB)"), "{body}");

    let served = reqwest::get(format!("{}small/-/small-1.0.0.tgz", airlock.url))
        .await
        .unwrap();
    assert_eq!(served.status(), 200, "{}", airlock.log());
    let ping = reqwest::get(format!("{}-/ping", airlock.url))
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    assert!(
        airlock.log().contains("analysis incomplete"),
        "{}",
        airlock.log()
    );
}

/// A worker memory limit too small for any analysis is refused at start, with
/// what to set instead.
#[tokio::test]
async fn a_worker_memory_limit_too_small_is_refused_at_start() {
    let workspace = Workspace::new();
    std::fs::write(
        workspace.path("airlock.toml"),
        "[analyser]\nmemory_mb = 8\n",
    )
    .unwrap();
    let output = crate::support::airlock_command(&workspace.path("home"))
        .args([
            "serve",
            "--config",
            workspace.path("airlock.toml").to_str().unwrap(),
            "--upstream",
            "http://127.0.0.1:9/",
            "--data-dir",
            workspace.path("data").to_str().unwrap(),
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("memory_mb = 8 is too small"), "{stderr}");
}

/// The worker reads a stored tarball itself and checks it against its digest: a
/// blob that changed on disk is refused with its own exit code (the server then
/// reads and fetches it again), a sound one is analysed.
#[tokio::test]
async fn the_worker_reads_a_stored_tarball_only_when_it_matches_its_digest() {
    use tokio::io::AsyncWriteExt as _;
    let workspace = Workspace::new();
    let package = PackageBuilder::new("stored", "1.0.0")
        .file("index.js", "module.exports = 1;\n")
        .build();
    let blob = workspace.path("blob.tgz");
    let run = |contents: Vec<u8>| {
        let blob = blob.clone();
        let home = workspace.path("home");
        let request = airlock_analyze::Request {
            stored: Some(airlock_analyze::StoredTarball {
                path: blob.clone(),
                integrity: package.integrity.clone(),
            }),
            ..airlock_analyze::Request::default()
        };
        async move {
            std::fs::write(&blob, contents).unwrap();
            let mut child = crate::support::airlock_command(&home)
                .args(["analyse-worker", "--memory-limit", "2147483648"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(&request.head()).await.unwrap();
            drop(stdin);
            child.wait_with_output().await.unwrap()
        }
    };
    let sound = run(package.tarball.to_vec()).await;
    assert!(sound.status.success(), "{sound:?}");
    let analysis: airlock_analyze::Analysis = serde_json::from_slice(&sound.stdout).unwrap();
    assert_eq!(analysis.manifest.name.as_deref(), Some("stored"));

    let mut altered = package.tarball.to_vec();
    let last = altered.len() - 1;
    altered[last] ^= 0xff;
    let stale = run(altered).await;
    assert_eq!(stale.status.code(), Some(3), "{stale:?}");
    assert!(
        String::from_utf8_lossy(&stale.stderr).contains("does not match its digest"),
        "{stale:?}"
    );
}
