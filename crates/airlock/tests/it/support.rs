//! Running the `airlock` binary in tests.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The admin token the tests' servers use.
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token";

/// What an operator command printed.
#[derive(Debug)]
pub(crate) struct CliRun {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// A running `airlock serve`, killed when dropped.
pub(crate) struct Airlock {
    child: Child,
    pub(crate) url: String,
    log: Arc<Mutex<String>>,
}

/// A command for the binary with a clean environment: no npm, XDG or Airlock
/// settings of the machine leak in.
pub(crate) fn airlock_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_airlock"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("npm_config_userconfig", home.join(".npmrc"))
        .env("npm_config_globalconfig", home.join("global-npmrc"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

impl Airlock {
    /// Starts `airlock serve` on a free loopback port with `args` and waits until it
    /// listens.
    pub(crate) async fn start(home: &Path, args: &[&str]) -> Self {
        let mut command = airlock_command(home);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start airlock");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read airlock's log") {
                log.lock().unwrap().push_str(&line);
                log.lock().unwrap().push('\n');
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return rest.split_whitespace().next().expect("a URL").to_owned();
                }
            }
            panic!("airlock exited before listening:\n{}", log.lock().unwrap());
        })
        .await
        .expect("airlock listens within 30 s");
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        Self { child, url, log }
    }

    /// Airlock on the workspace's data directory in front of `registry`, with
    /// `extra` flags.
    async fn in_front_with(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
        extra: &[&str],
    ) -> Self {
        let data = workspace.path("data");
        let upstream = registry.url();
        let mut args = vec![
            "--data-dir",
            data.to_str().expect("a UTF-8 temp path"),
            "--upstream",
            &upstream,
        ];
        args.extend_from_slice(extra);
        Self::start(&workspace.path("home"), &args).await
    }

    /// Airlock on the workspace's data directory in front of `registry`.
    pub(crate) async fn in_front_of(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
    ) -> Self {
        Self::in_front_with(workspace, registry, &[]).await
    }

    /// Airlock on the workspace's data directory in front of `registry`, with the
    /// admin token [`ADMIN_TOKEN`].
    pub(crate) async fn with_admin_token(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
    ) -> Self {
        Self::in_front_with(workspace, registry, &["--admin-token", ADMIN_TOKEN]).await
    }

    /// Airlock on the workspace's data directory in front of `registry`, with the
    /// policy file `policy` and the admin token.
    pub(crate) async fn with_policy(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
        policy: &str,
    ) -> Self {
        Self::with_policy_and(workspace, registry, policy, &[]).await
    }

    /// As [`Airlock::with_policy`], with Airlock's clock `shift` ahead of the
    /// system's (`2h`): a restart "later", without waiting.
    pub(crate) async fn with_policy_later(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
        policy: &str,
        shift: &str,
    ) -> Self {
        Self::with_policy_and(workspace, registry, policy, &["--clock-shift", shift]).await
    }

    async fn with_policy_and(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
        policy: &str,
        extra: &[&str],
    ) -> Self {
        let policy_path = workspace.path("policy.toml");
        std::fs::write(&policy_path, policy).unwrap();
        let policy_arg = policy_path.to_str().expect("a UTF-8 temp path");
        let mut args = vec!["--policy", policy_arg, "--admin-token", ADMIN_TOKEN];
        args.extend_from_slice(extra);
        Self::in_front_with(workspace, registry, &args).await
    }

    /// Airlock on the workspace's data directory in front of `registry`, with the
    /// configuration file `config` and the policy file `policy` (written to the
    /// workspace as `airlock.toml` and `policy.toml`), and the admin token.
    pub(crate) async fn with_config(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
        config: &str,
        policy: &str,
    ) -> Self {
        let config_path = workspace.path("airlock.toml");
        std::fs::write(&config_path, config).unwrap();
        let policy_path = workspace.path("policy.toml");
        std::fs::write(&policy_path, policy).unwrap();
        Self::in_front_with(
            workspace,
            registry,
            &[
                "--config",
                config_path.to_str().expect("a UTF-8 temp path"),
                "--policy",
                policy_path.to_str().expect("a UTF-8 temp path"),
                "--admin-token",
                ADMIN_TOKEN,
            ],
        )
        .await
    }

    /// Airlock on the workspace's data directory in front of `registry`, configured
    /// by the file `config`, with the admin token.
    pub(crate) async fn with_config_file(
        workspace: &Workspace,
        registry: &airlock_test::FakeRegistry,
        home: &Path,
        config: &Path,
    ) -> Self {
        Self::start(
            home,
            &[
                "--config",
                config.to_str().expect("a UTF-8 temp path"),
                "--data-dir",
                workspace.path("data").to_str().expect("a UTF-8 temp path"),
                "--upstream",
                &registry.url(),
                "--admin-token",
                ADMIN_TOKEN,
            ],
        )
        .await
    }

    /// Waits (10 s at most) until `count` advisories are in force.
    pub(crate) async fn wait_for_advisories(&self, count: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.admin_get("advisories").await["advisories"] != count {
            assert!(
                std::time::Instant::now() < deadline,
                "{count} advisories were not imported within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGHUP, which makes Airlock reload its policy file.
    pub(crate) fn hangup(&self) {
        let pid = self.child.id().expect("airlock is running");
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Runs an operator command (`check`, `approve`, ...) against this server.
    pub(crate) async fn cli(&self, home: &Path, args: &[&str]) -> CliRun {
        let output = airlock_command(home)
            .args(args)
            .args(["--server", &self.url, "--admin-token", ADMIN_TOKEN])
            .output()
            .await
            .expect("run airlock");
        CliRun {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// GETs an admin API path (`takedowns`, `downloads?package=x`) as JSON.
    pub(crate) async fn admin_get(&self, path: &str) -> serde_json::Value {
        let body = reqwest::Client::new()
            .get(format!("{}-/airlock/{path}", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("the admin API answers")
            .bytes()
            .await
            .expect("the admin API's answer arrives");
        serde_json::from_slice(&body).expect("the admin API answers JSON")
    }

    /// Kills the process at once (SIGKILL), as a crash or the OOM killer would.
    pub(crate) async fn kill(mut self) {
        self.child.kill().await.expect("kill airlock");
    }
}

/// Runs `airlock ARGS` with `home` and returns its exit code and its standard
/// output and error together.
pub(crate) async fn run_airlock(home: &Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let output = airlock_command(home).args(args).output().await.unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// A temporary directory tree for one test: `home/`, `data/`, `project/`.
pub(crate) struct Workspace {
    pub(crate) dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        for sub in ["home", "data", "project"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Self { dir }
    }

    pub(crate) fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }
}
