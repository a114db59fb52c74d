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
    /// Log filter, in `tracing` syntax (`info`, `airlock=debug`, `warn,airlock::access=off`).
    #[arg(long, global = true, env = "AIRLOCK_LOG", default_value = "info")]
    pub(crate) log: String,

    /// Log line format.
    #[arg(long, global = true, env = "AIRLOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
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
}

/// Flags override environment variables, which override the configuration file,
/// which overrides the embedded defaults.
#[derive(Args, Debug, Default)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML); see `airlock.toml.example` for every setting.
    #[arg(long, short, env = "AIRLOCK_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:4873].
    #[arg(long, env = "AIRLOCK_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,

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

    /// The URL clients reach Airlock at, put into tarball URLs. Needed behind a
    /// reverse proxy; otherwise derived from each request's Host header.
    #[arg(long, env = "AIRLOCK_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<Url>,
}
