//! `airlock`: a supply-chain firewall for npm.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

mod admin_token;
mod cli;
mod commands;
mod config;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Before any thread starts, and only for the long-running server: the
    // allocator gives memory back (see the crate). One-shot commands and the
    // analysis worker keep glibc's defaults, which are faster for their large
    // short-lived buffers.
    if matches!(cli.command, cli::Command::Serve(_)) {
        airlock_malloc::tune_for_server();
    }
    // The analysis worker needs neither a runtime nor a log: it reads its stdin,
    // writes its stdout, and ends.
    if let cli::Command::AnalyseWorker(args) = &cli.command {
        return commands::analyse_worker::run(args);
    }
    // Log lines go through a writer thread, so a request never waits on a write to
    // stderr. The thread drains its queue into a buffer and flushes when the queue is
    // empty: one write per burst rather than per line, yet nothing lingers when idle.
    // A request waits only if the thread falls 4096 lines behind, which also bounds
    // the queue's memory; no line is dropped. The guard flushes at exit.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(4096)
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    // A server's log is its record; a one-shot command's output is its report, and
    // its log speaks only when something goes wrong.
    let default_filter = match cli.command {
        cli::Command::Serve(_) => "info",
        _ => "warn",
    };
    init_logging(&cli.global, default_filter, writer.clone());
    let access_log = access_log(&cli.global, writer);
    let clock = cli.global.clock();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return report(&anyhow::Error::new(error).context("could not start the async runtime"));
        }
    };
    match runtime.block_on(commands::run(cli.command, access_log, clock)) {
        Ok(code) => code,
        Err(error) => report(&error),
    }
}

/// Prints the error chain and returns exit code 2; a closed stdout is not an error.
fn report(error: &anyhow::Error) -> ExitCode {
    if error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(std::io::stderr(), "error: {error:#}");
    ExitCode::from(2)
}

/// The server's access lines skip `tracing`'s formatter (a fifth of tarball
/// throughput) and go straight to the same writer, unless the filter turns them off.
fn access_log(
    global: &cli::GlobalArgs,
    writer: tracing_appender::non_blocking::NonBlocking,
) -> airlock_server::AccessLog {
    if tracing::enabled!(target: "airlock::access", tracing::Level::INFO) {
        airlock_server::AccessLog::writer(writer, matches!(global.log_format, cli::LogFormat::Json))
    } else {
        airlock_server::AccessLog::off()
    }
}

fn init_logging(
    global: &cli::GlobalArgs,
    default_filter: &str,
    writer: tracing_appender::non_blocking::NonBlocking,
) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(global.log.as_deref().unwrap_or(default_filter))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    match global.log_format {
        cli::LogFormat::Text => builder.init(),
        cli::LogFormat::Json => builder.json().init(),
    }
}
