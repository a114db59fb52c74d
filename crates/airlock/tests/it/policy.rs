//! Decisions end to end: real clients, a policy file, the operator commands.
//!
//! `quarry` has two mature versions and a `latest` published an hour ago. Under the
//! default 72 h quarantine a `^1.0.0` range must resolve to 1.1.0 in every client, a
//! lockfile pinning 1.2.0 must fail with Airlock's message, an approval must let it
//! through, and the approval must stop applying when it expires.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use airlock_test::{Client, Clients, FakeRegistry, PackageBuilder};

use crate::support::{Airlock, Workspace};

fn publish_quarry(registry: &FakeRegistry) {
    let days_ago = |days: u64| SystemTime::now() - Duration::from_secs(days * 86_400);
    registry.publish(
        PackageBuilder::new("quarry", "1.0.0")
            .published(days_ago(30))
            .build(),
    );
    registry.publish(
        PackageBuilder::new("quarry", "1.1.0")
            .published(days_ago(20))
            .build(),
    );
    registry.publish(
        PackageBuilder::new("quarry", "1.2.0")
            .published(SystemTime::now() - Duration::from_hours(1))
            .build(),
    );
}

fn write_project(project: &Path) {
    std::fs::create_dir_all(project).unwrap();
    let manifest = serde_json::json!({
        "name": "app", "version": "1.0.0", "private": true,
        "dependencies": { "quarry": "^1.0.0" }
    });
    std::fs::write(project.join("package.json"), manifest.to_string()).unwrap();
}

fn installed(project: &Path, name: &str) -> String {
    let manifest =
        std::fs::read(project.join("node_modules").join(name).join("package.json")).unwrap();
    serde_json::from_slice::<serde_json::Value>(&manifest).unwrap()["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn frozen_args(client: Client) -> &'static [&'static str] {
    match client {
        Client::Npm => &["ci", "--fetch-retries=0"],
        Client::Pnpm | Client::Bun => &["install", "--frozen-lockfile"],
        Client::YarnClassic => &["install", "--frozen-lockfile", "--non-interactive"],
        Client::YarnBerry => &["install", "--immutable"],
    }
}

async fn start(workspace: &Workspace, registry: &FakeRegistry, policy: &str) -> Airlock {
    Airlock::with_policy(workspace, registry, policy).await
}

#[tokio::test]
async fn ranges_resolve_past_a_quarantined_version_in_every_client() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_quarry(&registry);
    let workspace = Workspace::new();
    let airlock = start(&workspace, &registry, "").await;
    for client in Client::ALL {
        let project = workspace.path(&format!("{client:?}"));
        write_project(&project);
        let home = workspace.path(&format!("{client:?}-home"));
        let run = clients
            .run(client, &project, &home, &airlock.url, &["install"])
            .await;
        run.assert_success();
        assert_eq!(
            installed(&project, "quarry"),
            "1.1.0",
            "{client:?} resolved past the quarantine"
        );
        if client == Client::Npm {
            // npm prints a registry's `npm-notice` header: the user learns why.
            assert!(
                run.output()
                    .contains("Airlock withholds quarry 1.2.0 (quarantined until"),
                "{}",
                run.output()
            );
        }
    }
    assert!(
        airlock.log().contains("Airlock withholds quarry 1.2.0"),
        "the server log says what it withheld:\n{}",
        airlock.log()
    );
}

/// Installs with a lockfile pinning the young version: refused, approved, expired.
async fn lockfile_pins_a_quarantined_version(client: Client) {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_quarry(&registry);
    let workspace = Workspace::new();
    let airlock = start(&workspace, &registry, "mode = \"dry-run\"\n").await;
    let project = workspace.path("project");
    write_project(&project);
    let home = workspace.path("home");
    // Every install starts with an empty client cache, so tarballs come from Airlock.
    let mut installs = 0;
    let mut fresh_home = || {
        installs += 1;
        workspace.path(&format!("client-home-{installs}"))
    };
    clients
        .run(client, &project, &fresh_home(), &airlock.url, &["install"])
        .await
        .assert_success();
    assert_eq!(
        installed(&project, "quarry"),
        "1.2.0",
        "dry-run lets the young version through"
    );

    // Enforce from now on: change the file and send SIGHUP.
    std::fs::write(workspace.path("policy.toml"), "mode = \"enforce\"\n").unwrap();
    airlock.hangup();
    wait_for_verdict(&airlock, &home, 1).await;

    std::fs::remove_dir_all(project.join("node_modules")).unwrap();
    let refused = clients
        .run(
            client,
            &project,
            &fresh_home(),
            &airlock.url,
            frozen_args(client),
        )
        .await;
    refused.assert_failure();
    let output = refused.output();
    match client {
        Client::Npm => {
            assert!(
                output.contains("`quarry@1.2.0` is quarantined by Airlock until"),
                "{output}"
            );
            assert!(output.contains("airlock approve quarry@1.2.0"), "{output}");
        }
        // pnpm and Yarn berry print the status line's reason phrase.
        Client::Pnpm | Client::YarnBerry => assert!(
            output.contains("quarry@1.2.0 is quarantined by Airlock until")
                && output.contains("[release-age]"),
            "{client:?} shows Airlock's reason:\n{output}"
        ),
        // Yarn classic and Bun print the status only; README names the command.
        Client::YarnClassic | Client::Bun => assert!(
            output.contains("403"),
            "{client:?} shows the refusal:\n{output}"
        ),
    }

    let approve = airlock
        .cli(
            &home,
            &[
                "approve",
                "quarry@1.2.0",
                "--reason",
                "diff reviewed",
                "--expires",
                "1h",
                "--author",
                "alice",
            ],
        )
        .await;
    assert_eq!(approve.code, Some(0), "{approve:?}");
    assert!(
        approve.stdout.contains("approved `quarry@1.2.0`"),
        "{approve:?}"
    );
    clients
        .run(
            client,
            &project,
            &fresh_home(),
            &airlock.url,
            frozen_args(client),
        )
        .await
        .assert_success();
    assert_eq!(installed(&project, "quarry"), "1.2.0");

    // Two hours later (Airlock restarted with its clock moved on) the approval has
    // expired, while the version is still young: refused again.
    airlock.kill().await;
    let airlock =
        Airlock::with_policy_later(&workspace, &registry, "mode = \"enforce\"\n", "2h").await;
    let expired = airlock.cli(&home, &["exceptions", "list"]).await;
    assert!(expired.stdout.contains("expired"), "{expired:?}");
    std::fs::remove_dir_all(project.join("node_modules")).unwrap();
    clients
        .run(
            client,
            &project,
            &fresh_home(),
            &airlock.url,
            frozen_args(client),
        )
        .await
        .assert_failure();
}

/// Waits until `airlock check quarry@1.2.0` exits with `code`.
async fn wait_for_verdict(airlock: &Airlock, home: &Path, code: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let run = airlock.cli(home, &["check", "quarry@1.2.0"]).await;
        if run.code == Some(code) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the policy did not change: {run:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn npm_ci_is_refused_then_approved_then_refused_again() {
    lockfile_pins_a_quarantined_version(Client::Npm).await;
}

#[tokio::test]
async fn pnpm_frozen_lockfile_is_refused_then_approved_then_refused_again() {
    lockfile_pins_a_quarantined_version(Client::Pnpm).await;
}

#[tokio::test]
async fn yarn_berry_immutable_is_refused_then_approved_then_refused_again() {
    lockfile_pins_a_quarantined_version(Client::YarnBerry).await;
}

#[tokio::test]
async fn yarn_classic_frozen_lockfile_is_refused_then_approved_then_refused_again() {
    lockfile_pins_a_quarantined_version(Client::YarnClassic).await;
}

#[tokio::test]
async fn bun_frozen_lockfile_is_refused_then_approved_then_refused_again() {
    lockfile_pins_a_quarantined_version(Client::Bun).await;
}

#[tokio::test]
async fn dry_run_lets_everything_through_and_records_what_it_would_refuse() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    publish_quarry(&registry);
    let workspace = Workspace::new();
    let airlock = start(&workspace, &registry, "mode = \"dry-run\"\n").await;
    let project = workspace.path("project");
    write_project(&project);
    clients
        .run(
            Client::Npm,
            &project,
            &workspace.path("client-home"),
            &airlock.url,
            &["install"],
        )
        .await
        .assert_success();
    assert_eq!(installed(&project, "quarry"), "1.2.0");

    let home = workspace.path("home");
    let waiting = airlock.cli(&home, &["quarantine", "list", "--json"]).await;
    let waiting: serde_json::Value = serde_json::from_str(&waiting.stdout).unwrap();
    assert_eq!(waiting[0]["package"], "quarry");
    assert_eq!(waiting[0]["version"], "1.2.0");
    assert_eq!(waiting[0]["decision"]["mode"], "dry-run");

    let check = airlock.cli(&home, &["check", "quarry@1.2.0"]).await;
    assert_eq!(
        check.code,
        Some(1),
        "the verdict is a quarantine even in dry-run: {check:?}"
    );
    assert!(check.stdout.contains("dry-run"), "{}", check.stdout);

    let log = airlock.admin_get("downloads?package=quarry").await;
    assert_eq!(log[0]["version"], "1.2.0");
    assert_eq!(log[0]["verdict"], "quarantine");
    assert_eq!(log[0]["served"], true);
    assert!(
        log[0]["user_agent"].as_str().unwrap().starts_with("npm/"),
        "{log}"
    );
    assert!(
        log[0]["client"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{log}"
    );
}

#[tokio::test]
async fn operator_commands_report_and_change_decisions() {
    let registry = FakeRegistry::start().await;
    publish_quarry(&registry);
    let workspace = Workspace::new();
    let airlock = start(&workspace, &registry, "").await;
    let home = workspace.path("home");

    let check = airlock.cli(&home, &["check", "quarry@1.2.0"]).await;
    assert_eq!(check.code, Some(1));
    assert!(
        check
            .stdout
            .starts_with("quarry@1.2.0: quarantine until 20"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("release-age")
            && check.stdout.contains("airlock approve quarry@1.2.0"),
        "{}",
        check.stdout
    );
    let check = airlock
        .cli(&home, &["check", "quarry@1.1.0", "--json"])
        .await;
    assert_eq!(check.code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(json["decision"]["verdict"], "allow");

    let deny = airlock
        .cli(
            &home,
            &[
                "deny",
                "quarry@1.1.0",
                "--reason",
                "bad build",
                "--author",
                "sec",
            ],
        )
        .await;
    assert_eq!(deny.code, Some(0), "{deny:?}");
    let check = airlock.cli(&home, &["check", "quarry@1.1.0"]).await;
    assert_eq!(check.code, Some(1));
    assert!(
        check.stdout.contains("block") && check.stdout.contains("known-malicious"),
        "{}",
        check.stdout
    );

    let approve = airlock
        .cli(
            &home,
            &[
                "approve",
                "quarry@1.2.0",
                "--reason",
                "needed",
                "--author",
                "alice",
            ],
        )
        .await;
    assert_eq!(approve.code, Some(0), "{approve:?}");
    assert!(
        !approve.stdout.contains("was not refused"),
        "a quarantined version's approval is no no-op: {approve:?}"
    );
    // Approving what is already allowed says so.
    let needless = airlock
        .cli(
            &home,
            &["approve", "quarry@1.0.0", "--reason", "just in case"],
        )
        .await;
    assert_eq!(needless.code, Some(0), "{needless:?}");
    assert!(
        needless
            .stdout
            .contains("note: `quarry@1.0.0` was not refused"),
        "{needless:?}"
    );
    let why = airlock.cli(&home, &["why", "quarry@^1.0.0"]).await;
    assert_eq!(why.code, Some(0), "{why:?}");
    // 1.2.0 was just approved; 1.1.0 is denied.
    assert!(
        why.stdout
            .contains("`quarry@^1.0.0` resolves to 1.2.0 through Airlock")
            && why
                .stdout
                .contains("withheld 1.1.0: block [known-malicious]"),
        "{why:?}"
    );
    let list = airlock.cli(&home, &["exceptions", "list"]).await;
    assert!(
        list.stdout.contains("quarry@1.2.0") && list.stdout.contains("alice"),
        "{}",
        list.stdout
    );
    let quarantine = airlock.cli(&home, &["quarantine", "list"]).await;
    assert!(
        !quarantine.stdout.contains("quarry@1.2.0"),
        "approved versions leave the list: {}",
        quarantine.stdout
    );

    // The denial is listed, and lifting it serves 1.1.0 again.
    let denials = airlock.cli(&home, &["denials", "list", "--json"]).await;
    let denial_list: serde_json::Value = serde_json::from_str(&denials.stdout).unwrap();
    let denial = denial_list
        .as_array()
        .unwrap()
        .iter()
        .find(|denial| denial["package"] == "quarry@1.1.0")
        .unwrap_or_else(|| panic!("{}", denials.stdout));
    let id = denial["id"].as_i64().unwrap().to_string();
    let lifted = airlock.cli(&home, &["denials", "revoke", &id]).await;
    assert_eq!(lifted.code, Some(0), "{lifted:?}");
    assert!(
        lifted.stdout.contains(&format!("lifted denial {id}")),
        "{lifted:?}"
    );
    let check = airlock.cli(&home, &["check", "quarry@1.1.0"]).await;
    assert_eq!(check.code, Some(0), "{check:?}");
    let again = airlock.cli(&home, &["denials", "revoke", &id]).await;
    assert_eq!(again.code, Some(2), "a lifted denial is gone: {again:?}");

    let wrong = airlock_cli_without_token(&home, &airlock.url).await;
    assert_eq!(wrong.code, Some(2));
    assert!(
        wrong.stderr.contains("401") && wrong.stderr.contains("hint:"),
        "{}",
        wrong.stderr
    );
}

async fn airlock_cli_without_token(home: &Path, url: &str) -> crate::support::CliRun {
    let output = crate::support::airlock_command(home)
        .args(["exceptions", "list", "--server", url])
        .output()
        .await
        .unwrap();
    crate::support::CliRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn check_works_standalone_without_a_server() {
    let registry = FakeRegistry::start().await;
    publish_quarry(&registry);
    let workspace = Workspace::new();
    let output = crate::support::airlock_command(&workspace.path("home"))
        .args([
            "check",
            "quarry@1.2.0",
            "--standalone",
            "--upstream",
            &registry.url(),
            "--data-dir",
        ])
        .arg(workspace.path("data"))
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("quarantine until") && stdout.contains("release-age"),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_invalid_policy_reload_keeps_the_previous_policy() {
    let registry = FakeRegistry::start().await;
    publish_quarry(&registry);
    let workspace = Workspace::new();
    let airlock = start(&workspace, &registry, "mode = \"dry-run\"\n").await;
    let home = workspace.path("home");
    std::fs::write(
        workspace.path("policy.toml"),
        "mode = \"enforce\"\nmin_release_age = \"soon\"\n",
    )
    .unwrap();
    airlock.hangup();
    // Wait for the failed reload to be reported, then check the old policy still rules.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !airlock.log().contains("policy reload failed") {
        assert!(
            Instant::now() < deadline,
            "no reload failure logged:\n{}",
            airlock.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        airlock.log().contains("not a duration"),
        "{}",
        airlock.log()
    );
    let check = airlock
        .cli(&home, &["check", "quarry@1.2.0", "--json"])
        .await;
    let json: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(
        json["decision"]["mode"], "dry-run",
        "the old policy is still in force"
    );
}

#[tokio::test]
async fn serve_refuses_to_start_on_an_invalid_policy() {
    let workspace = Workspace::new();
    let policy = workspace.path("policy.toml");
    std::fs::write(
        &policy,
        "[[deny]]\npackage = \"bad name\"\nreason = \"x\"\n",
    )
    .unwrap();
    let output = crate::support::airlock_command(&workspace.path("home"))
        .args([
            "serve",
            "--upstream",
            "http://127.0.0.1:9/",
            "--policy",
            policy.to_str().unwrap(),
            "--data-dir",
        ])
        .arg(workspace.path("data"))
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("policy file") && stderr.contains("line 2") && stderr.contains("URL-safe"),
        "{stderr}"
    );
}

/// The approval gates with real clients: a package this Airlock never served is
/// refused with the gate's name until a person approves a version; a new major of
/// a critical-path package is refused while a new minor passes.
async fn approval_gates_hold_new_packages_and_critical_majors(client: Client) {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    let long_ago = SystemTime::now() - Duration::from_hours(24 * 40);
    for version in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"] {
        registry.publish(
            PackageBuilder::new("widget", version)
                .published(long_ago)
                .build(),
        );
    }
    let workspace = Workspace::new();
    let airlock = start(
        &workspace,
        &registry,
        "min_release_age = \"0s\"\n[gates]\nnew_packages = true\ncritical = [\"widget\"]\n",
    )
    .await;
    let home = workspace.path("home");
    // Each install in a project and client home of its own.
    let install = |range: &'static str| {
        let clients = &clients;
        let project = workspace.path(&format!("project-{range}"));
        let url = airlock.url.clone();
        let client_home = workspace.path(&format!("client-home-{range}"));
        async move {
            std::fs::create_dir_all(&project).unwrap();
            let manifest = serde_json::json!({
                "name": "app", "version": "1.0.0", "private": true,
                "dependencies": { "widget": range }
            });
            std::fs::write(project.join("package.json"), manifest.to_string()).unwrap();
            let run = clients
                .run(client, &project, &client_home, &url, &["install"])
                .await;
            (run, project)
        }
    };

    // Never served: every version waits, and the client or the log says why.
    let (refused, _) = install("^1.0.0").await;
    refused.assert_failure();
    let check = airlock.cli(&home, &["check", "widget@1.1.0"]).await;
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(check.stdout.contains("new-package"), "{check:?}");
    if client == Client::Npm {
        assert!(
            refused.output().contains("new-package"),
            "{}",
            refused.output()
        );
    }
    let queue = airlock
        .cli(&home, &["quarantine", "list", "--code", "new-package"])
        .await;
    assert!(queue.stdout.contains("widget@1.1.0"), "{queue:?}");

    // A person approves one version: the package is known, later versions follow
    // the normal rules.
    let approve = airlock
        .cli(
            &home,
            &[
                "approve",
                "widget@1.1.0",
                "--reason",
                "reviewed the package",
                "--author",
                "alice",
            ],
        )
        .await;
    assert_eq!(approve.code, Some(0), "{approve:?}");
    let (run, project) = install("~1.1.0").await;
    run.assert_success();
    assert_eq!(installed(&project, "widget"), "1.1.0");

    // 1.1.0 was served: a new minor of the critical package passes, a new major waits.
    let (run, project) = install("^1.2.0").await;
    run.assert_success();
    assert_eq!(installed(&project, "widget"), "1.2.0");
    install("^2.0.0").await.0.assert_failure();
    let check = airlock.cli(&home, &["check", "widget@2.0.0"]).await;
    assert_eq!(check.code, Some(1), "{check:?}");
    assert!(
        check.stdout.contains("critical-bump") && check.stdout.contains("highest served: 1.2.0"),
        "{check:?}"
    );
}

#[tokio::test]
async fn npm_meets_the_approval_gates() {
    approval_gates_hold_new_packages_and_critical_majors(Client::Npm).await;
}

#[tokio::test]
async fn pnpm_meets_the_approval_gates() {
    approval_gates_hold_new_packages_and_critical_majors(Client::Pnpm).await;
}
