//! `airlock serve` start-up: configuration, detection, refusals.

use crate::support::{Airlock, Workspace, airlock_command};
use airlock_test::FakeRegistry;

#[tokio::test]
async fn help_documents_every_flag() {
    let workspace = Workspace::new();
    let output = airlock_command(&workspace.path("home"))
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--config",
        "--listen",
        "--data-dir",
        "--upstream",
        "--public-url",
        "--upstream-token",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    for variable in [
        "AIRLOCK_LISTEN",
        "AIRLOCK_DATA_DIR",
        "AIRLOCK_UPSTREAM",
        "AIRLOCK_PUBLIC_URL",
    ] {
        assert!(help.contains(variable), "{variable} missing from:\n{help}");
    }
}

#[tokio::test]
async fn upstream_is_detected_from_npm_once_and_remembered() {
    let registry = FakeRegistry::start().await;
    let workspace = Workspace::new();
    let home = workspace.path("home");
    std::fs::write(
        home.join(".npmrc"),
        format!("registry={}\n", registry.url()),
    )
    .unwrap();
    let data = workspace.path("data");
    let airlock = Airlock::start(&home, &["--data-dir", data.to_str().unwrap()]).await;
    let remembered = std::fs::read_to_string(data.join("airlock.toml")).unwrap();
    assert!(
        remembered.contains(&format!("url = \"{}\"", registry.url())),
        "{remembered}"
    );
    assert!(
        airlock.log().contains("detected the upstream"),
        "{}",
        airlock.log()
    );
    airlock.kill().await;

    // npm's setting changes (say, to Airlock itself); the remembered upstream stays.
    std::fs::write(home.join(".npmrc"), "registry=http://127.0.0.1:9/\n").unwrap();
    let airlock = Airlock::start(&home, &["--data-dir", data.to_str().unwrap()]).await;
    assert!(!airlock.log().contains("detected the upstream"));
    let answer = reqwest::get(format!("{}-/ping", airlock.url))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "pings reach the remembered upstream");
}

#[tokio::test]
async fn proxying_to_itself_is_refused() {
    let workspace = Workspace::new();
    let output = airlock_command(&workspace.path("home"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:4999",
            "--upstream",
            "http://localhost:4999/",
        ])
        .arg("--data-dir")
        .arg(workspace.path("data"))
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("is this Airlock itself") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_npm_that_already_points_at_airlock_is_refused_and_not_remembered() {
    let workspace = Workspace::new();
    let home = workspace.path("home");
    std::fs::write(home.join(".npmrc"), "registry=http://127.0.0.1:4998/\n").unwrap();
    let data = workspace.path("data");
    let output = airlock_command(&home)
        .args(["serve", "--listen", "127.0.0.1:4998", "--data-dir"])
        .arg(&data)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("is this Airlock itself"), "{stderr}");
    assert!(
        !data.join("airlock.toml").exists(),
        "the self-upstream was remembered, so every later start would fail"
    );
}

#[tokio::test]
async fn a_first_start_makes_an_admin_token_that_local_commands_find() {
    let registry = FakeRegistry::start().await;
    let workspace = Workspace::new();
    let (home, data) = (workspace.path("home"), workspace.path("data"));
    let airlock = Airlock::in_front_of(&workspace, &registry).await;
    let token_file = data.join("admin-token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(token.trim().len(), 64, "{token}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "only Airlock's account reads the token"
        );
    }
    assert!(
        airlock.log().contains(&token_file.display().to_string()),
        "the start-up line says where the token is:\n{}",
        airlock.log()
    );
    assert!(
        !airlock.log().contains(token.trim()),
        "the token itself is never logged"
    );

    // A command on the same machine, told only the data directory, finds it.
    let listed = airlock_command(&home)
        .args(["quarantine", "list", "--server", &airlock.url])
        .env("AIRLOCK_DATA_DIR", &data)
        .output()
        .await
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    // Without the data directory it has no token, and the refusal says where one is.
    let refused = airlock_command(&home)
        .args(["quarantine", "list", "--server", &airlock.url])
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("admin-token"),
        "{stderr}"
    );
    // A restart keeps the same token.
    airlock.kill().await;
    let _again = Airlock::in_front_of(&workspace, &registry).await;
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
}

#[tokio::test]
async fn a_bad_configuration_file_names_the_line() {
    let workspace = Workspace::new();
    let config = workspace.path("airlock.toml");
    std::fs::write(
        &config,
        "[upstream]\nurl = \"http://127.0.0.1:1/\"\ntimeout = \"soon\"\n",
    )
    .unwrap();
    let output = airlock_command(&workspace.path("home"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("line 3") && stderr.contains("`soon` is not a duration"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_example_configuration_is_valid() {
    let registry = FakeRegistry::start().await;
    let workspace = Workspace::new();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../airlock.toml.example"
    ))
    .unwrap();
    let config = workspace.path("airlock.toml");
    std::fs::write(&config, example).unwrap();
    let data = workspace.path("data");
    // Flags override the example's listen address, data directory and upstream.
    let airlock = Airlock::start(
        &workspace.path("home"),
        &[
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--upstream",
            &registry.url(),
        ],
    )
    .await;
    let answer = reqwest::get(format!("{}-/ping", airlock.url))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// README's two commands, as written: the first is `cargo run` at the root, which
/// works only when the workspace's default members hold exactly one binary, and
/// that binary is this one; the second is the test script CI runs.
#[test]
fn the_readme_commands_name_what_exists() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = readme
        .split("## Two commands")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a `Two commands` section");
    let commands: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(str::trim)
        .collect();
    assert_eq!(commands, ["cargo run --release -- serve", "scripts/test"]);
    assert!(std::path::Path::new(&format!("{root}/scripts/test")).exists());

    let metadata = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        metadata.status.success(),
        "{}",
        String::from_utf8_lossy(&metadata.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let defaults = metadata["workspace_default_members"].as_array().unwrap();
    let binaries: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|package| defaults.contains(&package["id"]))
        .flat_map(|package| package["targets"].as_array().unwrap())
        .filter(|target| {
            target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|kind| kind == "bin")
        })
        .map(|target| target["name"].as_str().unwrap())
        .collect();
    assert_eq!(binaries, ["airlock"], "`cargo run` picks exactly Airlock");
}

#[tokio::test]
async fn an_advisory_source_must_be_one_path_or_one_http_url() {
    let workspace = Workspace::new();
    let home = workspace.path("home");
    for (text, expected) in [
        (
            "[advisories]\npath = \"a\"\nurl = \"http://127.0.0.1:9/a.zip\"\n",
            "names both a `path` and a `url`",
        ),
        (
            "[advisories]\nurl = \"ftp://127.0.0.1/a.zip\"\n",
            "is not an http(s) URL",
        ),
    ] {
        let config = workspace.path("airlock.toml");
        std::fs::write(&config, text).unwrap();
        let (code, output) = crate::support::run_airlock(
            &home,
            &[
                "serve".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
                "--data-dir".as_ref(),
                workspace.path("data").as_os_str(),
                "--upstream".as_ref(),
                "http://127.0.0.1:9/".as_ref(),
            ],
        )
        .await;
        assert_eq!(code, Some(2), "{output}");
        assert!(output.contains(expected), "{output}");
    }
}

/// `airlock serve` says at start whether install scripts run in the sandbox and
/// why not; `[sandbox] enabled = true` without the tools stops the start with what
/// to install.
#[tokio::test]
async fn serve_says_whether_the_sandbox_runs() {
    let registry = FakeRegistry::start().await;
    let workspace = Workspace::new();
    let home = workspace.path("home");
    let upstream = registry.url();
    let start = |config: &str, data: &str| {
        let path = workspace.path(&format!("{data}.toml"));
        std::fs::write(&path, config).unwrap();
        vec![
            "--config".to_owned(),
            path.to_str().unwrap().to_owned(),
            "--data-dir".to_owned(),
            workspace.path(data).to_str().unwrap().to_owned(),
            "--upstream".to_owned(),
            upstream.clone(),
        ]
    };

    let args = start("", "on");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let airlock = Airlock::start(&home, &args).await;
    assert!(
        airlock.log().contains("install-script sandbox: on"),
        "{}",
        airlock.log()
    );
    airlock.kill().await;

    let args = start("[sandbox]\nnode = \"/nonexistent/node\"\n", "missing");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let airlock = Airlock::start(&home, &args).await;
    let log = airlock.log();
    assert!(
        log.contains("install-script sandbox: not available") && log.contains("/nonexistent/node"),
        "{log}"
    );
    airlock.kill().await;

    let args = start(
        "[sandbox]\nenabled = true\nnode = \"/nonexistent/node\"\n",
        "required",
    );
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        airlock_command(&home)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&args)
            .output(),
    )
    .await
    .expect("the start is refused at once")
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("enabled = true") && stderr.contains("bubblewrap"),
        "{stderr}"
    );
}
