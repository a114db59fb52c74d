//! Command-line arguments; the doc comments are the `--help` text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

/// A supply-chain firewall for npm: a registry proxy that decides before any
/// version reaches a machine.
#[derive(Parser, Debug)]
#[command(name = "airlock", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Debug)]
pub(crate) struct GlobalArgs {
    /// Log filter, in `tracing` syntax (`info`, `airlock=debug`, `warn,airlock::access=off`)
    /// [default: `info` for `serve`, `warn` for the other commands].
    #[arg(long, global = true, env = "AIRLOCK_LOG")]
    pub(crate) log: Option<String>,

    /// Log line format.
    #[arg(long, global = true, env = "AIRLOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,

    /// For tests: run Airlock's clock this far ahead of the system's (`90s`, `2d`),
    /// so a test sees a quarantine end or an approval expire without waiting.
    #[arg(long, global = true, env = "AIRLOCK_CLOCK_SHIFT", hide = true, value_parser = clock_shift)]
    pub(crate) clock_shift: Option<std::time::Duration>,
}

impl GlobalArgs {
    /// The one clock every command reads.
    pub(crate) fn clock(&self) -> airlock_npm::Clock {
        airlock_npm::Clock::shifted(self.clock_shift.unwrap_or_default())
    }
}

fn clock_shift(text: &str) -> Result<std::time::Duration, String> {
    airlock_policy::HumanDuration::parse(text).map(|duration| duration.0)
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the registry proxy. Point clients at it with
    /// `npm config set registry http://127.0.0.1:4873/`.
    Serve(ServeArgs),
    /// Show the decision about one version, its reasons, and when a quarantine ends.
    /// Exits 1 when the version is refused.
    Check(CheckArgs),
    /// What a package or range gets through Airlock now, and every version of it
    /// Airlock withholds, with why and until when.
    Why(WhyArgs),
    /// Approve one version (or, with `--all-versions`, one package) despite the
    /// policy, with a reason and an optional expiry.
    Approve(ApproveArgs),
    /// Block a version, a range, a package, a scope or a glob.
    Deny(DenyArgs),
    /// List or revoke approvals.
    #[command(subcommand)]
    Exceptions(ExceptionsCommand),
    /// List or lift denials made with `airlock deny` (the policy file's deny rules
    /// are edited in the file).
    #[command(subcommand)]
    Denials(DenialsCommand),
    /// What is waiting in quarantine, and until when.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// Import OSV advisories (malicious-package records): the versions they name are
    /// blocked at once, cached or not.
    #[command(subcommand)]
    Advisories(AdvisoriesCommand),
    /// Who downloaded a version or range: when, from which address, with which client,
    /// and which decision let it through. Exits 1 when anything was downloaded.
    Exposure(ExposureArgs),
    /// Analyse a package without executing it: a `.tgz`, an unpacked directory, or
    /// `name@version` from the upstream (then also diffed against the previous version
    /// of its release line, with its new dependencies judged). Exits 1 when the
    /// verdict is not allow.
    Scan(ScanArgs),
    /// What changed between two versions: dependencies (and whether any file uses
    /// them), install scripts, entry points, files. Fetched and analysed here.
    Diff(DiffArgs),
    /// Run a package's install scripts in the sandbox (bubblewrap, no network,
    /// canary credentials) and print what they did: names resolved, connections,
    /// credentials read, programs run, files written. Exits 1 when a finding calls
    /// for more than a warning.
    Sandbox(SandboxArgs),
    /// Check lockfiles (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml,
    /// yarn.lock, bun.lock) with the decisions the proxy makes, plus lockfile
    /// anomalies. Exits 0 when clean, 1 when a finding reaches `--fail-on`, 2 when a
    /// lockfile cannot be read or the registry cannot be asked.
    Audit(AuditArgs),
    /// Copy the database while Airlock runs (SQLite's online copy) to a new file:
    /// approvals, denials, decisions, the download log. Blobs are files; copy
    /// `blobs/` with any tool.
    Backup(BackupArgs),
    /// Put a backup in place as the database (stop Airlock first), or with
    /// `--start-empty` set a lost or damaged database aside and start over. The
    /// database replaced is kept beside it as `airlock.db.replaced-<time>`.
    Restore(RestoreArgs),
    /// Free disk space: remove cached tarballs nobody was served for a while (they
    /// are fetched and verified again when asked for; taken-down versions are
    /// kept), analyses by older analyser versions, and, when asked, old download
    /// records. Safe while Airlock runs.
    Gc(GcArgs),
    /// Internal: analyse one request framed on stdin and answer the analysis as
    /// JSON on stdout. `serve` runs one per analysis, so that a tarball that
    /// crashes the analyser ends this process, not the server.
    #[command(hide = true)]
    AnalyseWorker(AnalyseWorkerArgs),
}

#[derive(Args, Debug)]
pub(crate) struct AnalyseWorkerArgs {
    /// The address space this process may take, in bytes.
    #[arg(long, value_name = "BYTES")]
    pub(crate) memory_limit: Option<u64>,
    /// The CPU time this process may take, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) cpu_seconds: Option<u64>,
}

#[derive(Args, Debug)]
pub(crate) struct GcArgs {
    /// Remove cached tarballs stored before this long ago and not served since
    /// [default: `retention.blobs` of the configuration, else 30d].
    #[arg(long, value_name = "DURATION")]
    pub(crate) unused_for: Option<String>,

    /// Also remove download records older than this (the download log is what
    /// `airlock exposure` answers from; by default it is kept whole, or as long as
    /// `retention.downloads` says).
    #[arg(long, value_name = "DURATION")]
    pub(crate) downloads_older_than: Option<String>,

    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Args, Debug)]
pub(crate) struct BackupArgs {
    /// The file to write; an existing file is refused.
    #[arg(value_name = "FILE")]
    pub(crate) to: PathBuf,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Args, Debug)]
pub(crate) struct RestoreArgs {
    /// A file `airlock backup` wrote.
    #[arg(value_name = "FILE", required_unless_present = "start_empty")]
    pub(crate) from: Option<PathBuf>,

    /// Start over with an empty database, knowingly: approvals, denials and the
    /// download log of the database set aside are not carried over.
    #[arg(long, conflicts_with = "from")]
    pub(crate) start_empty: bool,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum AdvisoriesCommand {
    /// Import a directory of OSV JSON records, a zip export, or one JSON file. The
    /// import replaces what was imported from the same path before; a malformed record
    /// fails the whole import and leaves the previous advisories in force.
    Import {
        path: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Args, Debug)]
pub(crate) struct ExposureArgs {
    /// `name`, `name@version` or `name@range`.
    #[arg(value_name = "SPEC")]
    pub(crate) spec: String,

    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// Where the settings come from; shared by `serve` and standalone commands.
/// Flags override environment variables, which override the configuration file,
/// which overrides the embedded defaults.
#[derive(Args, Debug, Default, Clone)]
pub(crate) struct SetupArgs {
    /// Configuration file (TOML); see `airlock.toml.example` for every setting.
    #[arg(long, short, env = "AIRLOCK_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Data directory: database, cached tarballs, detected settings
    /// [default: $XDG_DATA_HOME/airlock, or ~/.local/share/airlock].
    #[arg(long, env = "AIRLOCK_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// The registry to proxy. When no flag, variable or file names one, Airlock asks
    /// `npm config get registry` once and remembers the answer in the data directory.
    #[arg(long, env = "AIRLOCK_UPSTREAM", value_name = "URL")]
    pub(crate) upstream: Option<Url>,

    /// Bearer token for a private upstream; sent only to the upstream's own origin.
    #[arg(
        long,
        env = "AIRLOCK_UPSTREAM_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) upstream_token: Option<String>,

    /// Policy file (TOML): quarantine, deny and allow lists, exceptions, mode. Reloaded
    /// on change and on SIGHUP [default: the embedded policy, a 72 h quarantine].
    #[arg(long, env = "AIRLOCK_POLICY", value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
}

#[derive(Args, Debug, Default)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) setup: SetupArgs,

    /// Address to listen on [default: 127.0.0.1:4873].
    #[arg(long, env = "AIRLOCK_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,

    /// The URL clients reach Airlock at, put into tarball URLs. Needed behind a
    /// reverse proxy; otherwise derived from each request's Host header.
    #[arg(long, env = "AIRLOCK_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<Url>,

    /// Token that the admin API (`airlock approve`, `deny`, ...) requires. Without
    /// one, the admin API refuses every request.
    #[arg(
        long,
        env = "AIRLOCK_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) admin_token: Option<String>,
}

/// How operator commands reach a running Airlock.
#[derive(Args, Debug, Clone)]
pub(crate) struct ServerArgs {
    /// The running Airlock's URL.
    #[arg(
        long,
        env = "AIRLOCK_SERVER",
        value_name = "URL",
        default_value = "http://127.0.0.1:4873/"
    )]
    pub(crate) server: Url,

    /// The server's admin token.
    #[arg(
        long,
        env = "AIRLOCK_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) admin_token: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The version to check, as `name@version`.
    #[arg(value_name = "NAME@VERSION")]
    pub(crate) spec: String,

    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// Decide here, without a running server: fetch from the upstream and use the
    /// policy and approvals of the configuration and data directory.
    #[arg(long)]
    pub(crate) standalone: bool,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Args, Debug)]
pub(crate) struct WhyArgs {
    /// A package (`vite`) or a package and range (`vite@^8`, `@scope/x@1.x`).
    #[arg(value_name = "NAME[@RANGE]")]
    pub(crate) spec: String,

    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ApproveArgs {
    /// `name@version`, or a package name with `--all-versions`.
    #[arg(value_name = "SPEC")]
    pub(crate) spec: String,

    /// Why this is safe; stored with the approval and shown with every decision it makes.
    #[arg(long)]
    pub(crate) reason: String,

    /// How long the approval lasts (`12h`, `7d`); it stops applying by itself.
    #[arg(long, value_name = "DURATION")]
    pub(crate) expires: Option<String>,

    /// Approve every version of the one package SPEC names (no version part).
    #[arg(long)]
    pub(crate) all_versions: bool,

    /// Who approves [default: $USER].
    #[arg(long)]
    pub(crate) author: Option<String>,

    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

#[derive(Args, Debug)]
pub(crate) struct DenyArgs {
    /// `name@version`, `name@range` (npm semantics), `name`, `@scope/*` or a glob.
    #[arg(value_name = "SPEC")]
    pub(crate) spec: String,

    /// Why it is refused; shown to everyone whose install it stops.
    #[arg(long)]
    pub(crate) reason: String,

    /// Who denies [default: $USER].
    #[arg(long)]
    pub(crate) author: Option<String>,

    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum ExceptionsCommand {
    /// Every approval, with its author, reason and expiry.
    List(ServerArgs),
    /// Revoke an approval by its id.
    Revoke {
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum DenialsCommand {
    /// Every denial made at run time, with its author and reason.
    List(ServerArgs),
    /// Lift a denial by its id.
    Revoke {
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum QuarantineCommand {
    /// Versions waiting in quarantine, soonest release first.
    List(QuarantineListArgs),
}

#[derive(Args, Debug)]
pub(crate) struct QuarantineListArgs {
    /// Only versions held for this code: `new-package` and `critical-bump` are the
    /// approval gates' queues, `release-age` the waiting room.
    #[arg(long, value_name = "CODE")]
    pub(crate) code: Option<String>,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ScanArgs {
    /// Tarballs, directories, or `name@version`s. With several and `--json`, one
    /// JSON object per line.
    #[arg(value_name = "TARGET", required = true)]
    pub(crate) targets: Vec<String>,

    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// For `name@version`: analyse here, with the upstream and data directory of the
    /// configuration, instead of asking a running server.
    #[arg(long)]
    pub(crate) standalone: bool,

    /// For tarballs and directories: do not ask the registry about their
    /// dependencies. By default every dependency is looked up (one the registry
    /// removed or took down is a finding), resolved, analysed and decided as the
    /// proxy decides a new dependency; one no file requires weighs more.
    #[arg(long)]
    pub(crate) offline: bool,

    /// For tarballs: do not run their install scripts in the sandbox. By default a
    /// tarball whose install runs something (a lifecycle script, a `binding.gyp`)
    /// is also run there, as the proxy runs it, when bubblewrap, strace and Node
    /// are present (`[sandbox]` in the configuration file applies).
    #[arg(long)]
    pub(crate) no_sandbox: bool,

    /// For one tarball or directory: the version published before it on its
    /// release line (a tarball or directory too). The target is also diffed
    /// against it, as the proxy diffs a new version against its predecessor
    /// (install scripts added, dependencies added, files emptied).
    #[arg(long, value_name = "PATH")]
    pub(crate) previous: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// The older version, as `name@version`.
    #[arg(value_name = "NAME@FROM")]
    pub(crate) from: String,

    /// The newer version, as `name@version` or just the version.
    #[arg(value_name = "[NAME@]TO")]
    pub(crate) to: String,

    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Args, Debug)]
pub(crate) struct SandboxArgs {
    /// A tarball on disk, or `name@version` (fetched from the configured upstream and
    /// verified).
    #[arg(value_name = "TARGET")]
    pub(crate) target: String,

    /// Seconds the scripts may run.
    #[arg(long, default_value_t = 60)]
    pub(crate) time_limit: u64,

    /// The Node.js that runs the scripts [default: `node` on the PATH].
    #[arg(long, value_name = "PATH")]
    pub(crate) node: Option<PathBuf>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Args, Debug)]
pub(crate) struct AuditArgs {
    /// Lockfiles, or directories holding them [default: the current directory].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Ask this running Airlock instead of deciding here (standalone, with the
    /// configuration's upstream and data directory, when absent).
    #[arg(long, value_name = "URL")]
    pub(crate) server: Option<Url>,

    /// The server's admin token.
    #[arg(
        long,
        env = "AIRLOCK_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) admin_token: Option<String>,

    /// Output: a table grouped by severity, JSON, or SARIF 2.1.0 (for code scanning).
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub(crate) format: AuditFormat,

    /// The lowest severity that fails the audit (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub(crate) fail_on: FailOn,

    /// Registries `resolved` URLs may point at besides the upstream (Airlock's own
    /// URL, the server given with `--server`, a mirror). Repeatable.
    #[arg(long = "registry", value_name = "URL")]
    pub(crate) registries: Vec<Url>,

    /// Decide from metadata and stored analyses only: fetch no tarball.
    #[arg(long)]
    pub(crate) no_analysis: bool,

    /// Rank the packages that matter most in the lockfile (reach, install scripts,
    /// provenance, publishers, age) and list the dependencies the platform now
    /// provides.
    #[arg(long)]
    pub(crate) critical: bool,

    /// With `--critical`: write the ranked packages as the policy's critical-path
    /// list (`[gates] critical`) into this policy file, so that a new major of any
    /// of them waits for a person. The file is created, or the section appended;
    /// a file that already has `[gates]` is left alone, with the list printed.
    #[arg(long, value_name = "POLICY", requires = "critical")]
    pub(crate) write_policy: Option<PathBuf>,

    /// Lockfiles (or directories holding them) whose packages count as served
    /// before, for the policy's approval gates: a package in the baseline is not
    /// new, and a critical package's bump is measured against the baseline's
    /// versions. Repeatable. For a standalone audit; a running Airlock knows what
    /// it served from its download log.
    #[arg(long, value_name = "PATH", conflicts_with = "server")]
    pub(crate) baseline: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) setup: SetupArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    Table,
    Json,
    Sarif,
    /// A CycloneDX 1.6 SBOM of the lockfiles: every package with its purl, hashes
    /// and license, and the dependency graph.
    Cyclonedx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum FailOn {
    Low,
    Medium,
    High,
    Critical,
    /// Never fail on findings.
    Never,
}
