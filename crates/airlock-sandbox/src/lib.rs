//! Watching install scripts run: a package's `preinstall`, `install` and
//! `postinstall` scripts, run the way npm runs them, inside bubblewrap, under strace.
//!
//! The sandbox shares nothing it does not have to: every namespace is new (no
//! network at all: only a loopback where the sink, `sink.rs`, answers every name and
//! takes what is sent, so a beacon shows its destination and payload and reaches
//! neither), the system directories
//! are read-only, `/etc` is a few made-up files, and the home directory is a fresh
//! one seeded with canary credentials (`home.rs`). The scripts run with no
//! capabilities (dropped for good once the sink listens), no new privileges, in a new session,
//! under limits on CPU time, memory, file size and open files, and are killed with
//! the sandbox at the time limit. strace records what they do (`trace.rs`); the
//! record is sorted into observations and judged into findings (`judge.rs`).
//!
//! Dependencies are not installed: each is a stub (`stubs.rs`) that lets a script
//! go on past its `require`, and the common HTTP clients are shims over Node's
//! `fetch`, so that the names they are pointed at are seen.

mod home;
mod judge;
mod run;
pub mod seccomp;
mod sink;
mod stubs;
mod trace;
mod unpack;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use home::{CANARIES, CANARY_ENV, Secret};
pub use run::{Availability, probe, run};
pub use trace::Event;

/// The finding for install scripts that could not be run in the sandbox (it could
/// not start, the tarball could not be had): what they do is unknown.
#[must_use]
pub fn not_run(why: &str) -> airlock_policy::Finding {
    judge::install_finding(
        airlock_policy::Code::AnalysisIncomplete,
        airlock_policy::Severity::Medium,
        format!("the install scripts could not be run in the sandbox: {why}"),
    )
}

/// Bump when what the sandbox runs or records changes, so stored results are redone.
pub const SANDBOX_VERSION: u32 = 7;

/// Where the tools are and how far a run may go.
#[derive(Clone, Debug)]
pub struct Config {
    pub bwrap: PathBuf,
    pub strace: PathBuf,
    /// The Node.js that runs the scripts (`node` on the PATH by default).
    pub node: PathBuf,
    pub time_limit: Duration,
    pub memory_mb: u64,
    /// Processes and threads alive at once in one sandbox (the sink's and a
    /// script's Node use about ten each).
    pub max_processes: u32,
    /// Hosts a script may contact without it counting (the upstream registry's).
    pub trusted_hosts: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bwrap: PathBuf::from("bwrap"),
            strace: PathBuf::from("strace"),
            node: PathBuf::from("node"),
            time_limit: Duration::from_mins(1),
            memory_mb: 4_096,
            max_processes: 512,
            trusted_hosts: Vec::new(),
        }
    }
}

/// One thing the scripts did that matters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Observation {
    /// A DNS query for `name` (no resolver answers it).
    Resolved {
        name: String,
    },
    /// A connection tried to an address outside the sandbox.
    Connected {
        address: String,
        port: u16,
    },
    /// A socket bound to a port of its own: a server, listening (or trying to).
    Listened {
        address: String,
        port: u16,
    },
    /// A canary credential read.
    ReadSecret {
        path: String,
        secret: Secret,
    },
    /// Another file of the home directory or the system's identity read.
    ReadFile {
        path: String,
    },
    /// A file opened for writing outside the package and the scratch directories.
    Wrote {
        path: String,
    },
    Deleted {
        path: String,
    },
    Renamed {
        from: String,
        to: String,
    },
    /// A program started, with its arguments.
    Ran {
        path: String,
        argv: Vec<String>,
    },
    /// The sink's answer to a request was run as code (a download executed).
    RanAnswer,
    /// What a script sent to the sandbox's sink: the host it meant (TLS server
    /// name or HTTP `Host`), the port, how much, and the canaries in it.
    Sent {
        host: Option<String>,
        port: u16,
        bytes: usize,
        secrets: Vec<&'static str>,
        /// An HTTP request asking to become a WebSocket.
        websocket: bool,
        /// What was asked, when it was HTTP.
        request: Option<Request>,
    },
}

/// An HTTP request's first line and the size of its body.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Request {
    pub method: String,
    /// The path and query asked for.
    pub target: String,
    /// Bytes after the headers.
    pub body: usize,
}

/// What a run saw and what it makes of it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub package: String,
    pub version: String,
    /// The lifecycle scripts run, in order: (event, command).
    pub scripts: Vec<(String, String)>,
    pub observations: Vec<Observation>,
    pub findings: Vec<airlock_policy::Finding>,
    /// The scripts' exit status (the last one run), if they finished.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// The scripts returned, and a process they started was still running
    /// (killed a few seconds later).
    pub left_running: bool,
    pub millis: u64,
    /// The end of what the scripts printed.
    pub output: String,
    /// The scripts also ran with Node told it runs on Windows (the first run found
    /// nothing that stops the version); what that run found is among `findings`.
    pub ran_as_windows: bool,
    /// Environment variables the scripts looked for and did not find, set (to `1`)
    /// for a last run, when the runs before found nothing that stops the version;
    /// what that run found is among `findings`. Empty when there was no such run.
    pub variables_set: Vec<String>,
    pub sandbox_version: u32,
}

/// Failures to run the sandbox (not what the package did).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the tarball cannot be unpacked for the sandbox: {0}")]
    Tarball(String),
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox could not start: {0}")]
    Start(String),
}

impl Error {
    fn tarball(error: impl std::fmt::Display) -> Self {
        Self::Tarball(error.to_string())
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Paths as the scripts see them inside the sandbox.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The package's name.
    pub(crate) name: String,
    pub(crate) home: String,
    pub(crate) user: String,
    pub(crate) hostname: String,
    pub(crate) project: String,
    pub(crate) package: String,
    /// The package's manifest and the files its scripts name.
    pub(crate) run_files: Vec<String>,
    /// Node is told it runs on Windows.
    pub(crate) windows: bool,
    /// Environment variables set to `1` for this run (ones an earlier run looked
    /// for and did not find).
    pub(crate) variables_set: Vec<String>,
}

impl Layout {
    pub(crate) const RECORD_DIR: &'static str = "/airlock";
    /// The file in the record directory where the preload notes the environment
    /// variables looked for and not found, one per line.
    pub(crate) const LOOKED_FOR: &'static str = "env-unset";

    fn new(name: &str) -> Self {
        let user = "canaryuser".to_owned();
        let home = format!("/home/{user}");
        let project = format!("{home}/project");
        let package = format!("{project}/node_modules/{name}");
        Self {
            name: name.to_owned(),
            home,
            user,
            hostname: "canaryhost-5d1e".to_owned(),
            project,
            package,
            run_files: Vec::new(),
            windows: false,
            variables_set: Vec::new(),
        }
    }

    pub(crate) fn inside_package(&self, path: &str) -> bool {
        path == self.package || path.starts_with(&format!("{}/", self.package))
    }

    pub(crate) fn in_project(&self, path: &str) -> bool {
        path.starts_with(&format!("{}/", self.project))
    }

    /// Scratch space whose writes mean nothing: `/tmp` (a tmpfs of the sandbox),
    /// devices and the process's own `/proc` files.
    pub(crate) fn scratch(path: &str) -> bool {
        ["/tmp", "/dev", "/proc"]
            .iter()
            .any(|dir| path == *dir || path.starts_with(&format!("{dir}/")))
    }

    /// The values only this sandbox has, by what they are: found in what a script
    /// sends, they were taken from the machine.
    pub(crate) fn canary_values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("the machine's host name", self.hostname.clone()),
            ("the user's name", self.user.clone()),
            ("a canary token", "AirlockCanary".to_owned()),
            ("a canary credential", "airlock-canary".to_owned()),
            ("a canary cloud key", "AKIAAIRLOCKCANARY000".to_owned()),
        ]
    }

    /// A file written inside the package (a build's output) rather than dropped.
    pub(crate) fn built(&self, path: &str) -> bool {
        self.inside_package(path)
    }

    /// The manifest or a file the lifecycle scripts named: erasing one after the
    /// run hides what ran.
    pub(crate) fn is_trace_of_run(&self, path: &str) -> bool {
        self.run_files.iter().any(|file| file == path)
    }
}
