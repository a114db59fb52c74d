//! Real npm clients, run in isolation against a registry URL.
//!
//! Every run gets a fresh environment: `env_clear`, a temporary `HOME`, its own npm
//! user and global config, its own caches. Nothing from the machine's npm settings
//! leaks in (this machine's npm config sets `omit-lockfile-registry-resolved`, which
//! would otherwise change the lockfiles the tests read).
//!
//! npm comes from `PATH`; pnpm, Yarn classic, Yarn berry and Bun from the directory
//! `scripts/install-clients` fills (`target/js-clients`, or `AIRLOCK_JS_CLIENTS`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The clients Airlock is tested with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Npm,
    Pnpm,
    YarnClassic,
    YarnBerry,
    Bun,
}

impl Client {
    pub const ALL: [Self; 5] = [
        Self::Npm,
        Self::Pnpm,
        Self::YarnClassic,
        Self::YarnBerry,
        Self::Bun,
    ];

    /// The lockfile this client writes.
    pub fn lockfile(self) -> &'static str {
        match self {
            Self::Npm => "package-lock.json",
            Self::Pnpm => "pnpm-lock.yaml",
            Self::YarnClassic | Self::YarnBerry => "yarn.lock",
            Self::Bun => "bun.lock",
        }
    }
}

/// What a client printed and how it exited.
#[derive(Debug)]
pub struct ClientRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl ClientRun {
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.success,
            "client failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            !self.success,
            "client succeeded\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Where the client installations are.
#[derive(Clone, Debug)]
pub struct Clients {
    modules: PathBuf,
}

impl Clients {
    /// Finds the installed clients or panics with the command that installs them.
    pub fn locate() -> Self {
        let root = std::env::var_os("AIRLOCK_JS_CLIENTS").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/js-clients"),
            PathBuf::from,
        );
        let modules = root.join("node_modules");
        assert!(
            modules.join("pnpm").is_dir(),
            "the JavaScript clients are not installed under `{}`\nhint: run `scripts/install-clients`",
            root.display()
        );
        Self { modules }
    }

    /// An installed package of the test tooling (`ajv`), by its directory.
    pub fn module(&self, name: &str) -> PathBuf {
        self.modules.join(name)
    }

    /// Runs `client` with `args` in `project`, against `registry`, with `home` as its
    /// private home directory. The project gets the client's own registry settings
    /// file; the run is killed after three minutes.
    pub async fn run(
        &self,
        client: Client,
        project: &Path,
        home: &Path,
        registry: &str,
        args: &[&str],
    ) -> ClientRun {
        self.run_with_env(client, project, home, registry, args, &[])
            .await
    }

    /// [`Clients::run`] with extra environment variables.
    pub async fn run_with_env(
        &self,
        client: Client,
        project: &Path,
        home: &Path,
        registry: &str,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> ClientRun {
        configure(client, project, home, registry);
        let (program, mut full_args) = self.program(client);
        full_args.extend(args.iter().map(|arg| (*arg).to_owned()));
        let mut command = tokio::process::Command::new(program);
        command
            .args(&full_args)
            .current_dir(project)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("npm_config_userconfig", home.join(".npmrc"))
            .env("npm_config_globalconfig", home.join("global-npmrc"))
            .env("npm_config_cache", home.join(".npm"))
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_audit", "false")
            .env("YARN_CACHE_FOLDER", home.join(".yarn-cache"))
            .env("YARN_ENABLE_TELEMETRY", "0")
            .env("YARN_ENABLE_IMMUTABLE_INSTALLS", "false")
            .env("YARN_ENABLE_GLOBAL_CACHE", "false")
            .env("BUN_INSTALL_CACHE_DIR", home.join(".bun-cache"))
            .env("DO_NOT_TRACK", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_mins(3), command.output())
            .await
            .unwrap_or_else(|_| panic!("{client:?} {args:?} did not finish within three minutes"))
            .unwrap_or_else(|error| panic!("could not start {client:?}: {error}"));
        ClientRun {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn program(&self, client: Client) -> (PathBuf, Vec<String>) {
        let script = |path: &str| {
            (
                PathBuf::from("node"),
                vec![self.modules.join(path).to_string_lossy().into_owned()],
            )
        };
        match client {
            Client::Npm => (PathBuf::from("npm"), Vec::new()),
            Client::Pnpm => script("pnpm/bin/pnpm.cjs"),
            Client::YarnClassic => script("yarn/bin/yarn.js"),
            Client::YarnBerry => script("@yarnpkg/cli-dist/bin/yarn.js"),
            Client::Bun => (self.modules.join("bun/bin/bun.exe"), Vec::new()),
        }
    }
}

/// A Node.js preload for `npm audit signatures` without internet: npm first asks
/// the Sigstore TUF repository for a registry's keys, which needs the network even
/// for a registry TUF knows nothing about (its answer then is "no such target", and
/// npm falls back to the registry's `/-/npm/v1/keys`). The preload gives npm that
/// answer without the network; every signature check stays npm's own.
/// Pass the returned path as `NODE_OPTIONS=--require <path>`.
pub fn offline_tuf_preload(dir: &Path) -> PathBuf {
    let path = dir.join("offline-tuf.cjs");
    std::fs::write(
        &path,
        r"const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  if (request !== '@sigstore/tuf') return loaded;
  return Object.assign({}, loaded, {
    initTUF: async () => ({
      getTarget: async (name) => {
        throw Object.assign(new Error(`no TUF target ${name} offline`), { code: 'TUF_FIND_TARGET_ERROR' });
      },
    }),
  });
};
",
    )
    .expect("write the preload");
    path
}

/// Writes the registry settings each client reads, so that no machine setting can
/// take their place. Yarn berry's own age gate (a day by default) is switched off so
/// that what the tests see is Airlock's decision alone.
fn configure(client: Client, project: &Path, home: &Path, registry: &str) {
    let write = |path: PathBuf, contents: String| {
        std::fs::create_dir_all(path.parent().expect("config files have a parent"))
            .expect("create config dir");
        std::fs::write(path, contents).expect("write client config");
    };
    write(home.join(".npmrc"), format!("registry={registry}\n"));
    write(home.join("global-npmrc"), String::new());
    match client {
        Client::Npm | Client::Pnpm => {}
        Client::YarnClassic => write(
            project.join(".yarnrc"),
            format!("registry \"{registry}\"\n"),
        ),
        Client::YarnBerry => write(
            project.join(".yarnrc.yml"),
            format!(
                "npmRegistryServer: \"{registry}\"\nunsafeHttpWhitelist:\n  - \"127.0.0.1\"\nnodeLinker: node-modules\nenableGlobalCache: false\nenableTelemetry: false\ncacheFolder: ./.yarn/cache\nnpmMinimalAgeGate: 0\n"
            ),
        ),
        Client::Bun => write(
            project.join("bunfig.toml"),
            format!("[install]\nregistry = \"{registry}\"\n"),
        ),
    }
}
