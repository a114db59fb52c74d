//! One file per subcommand.

use std::process::ExitCode;

use airlock_npm::Clock;

use crate::cli::Command;

mod advisories;
pub(crate) mod analyse_worker;
mod approve;
mod audit;
mod backup;
mod check;
mod client;
mod gc;
mod quarantine;
mod rules;
mod sandbox;
mod scan;
mod serve;
mod why;

pub(crate) async fn run(
    command: Command,
    access_log: airlock_server::AccessLog,
    clock: Clock,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(args, access_log, clock).await,
        Command::Check(args) => check::run(args, clock).await,
        Command::Why(args) => why::run(args).await,
        Command::Approve(args) => approve::approve(args).await,
        Command::Deny(args) => approve::deny(args).await,
        Command::Exceptions(command) => rules::exceptions(command).await,
        Command::Denials(command) => rules::denials(command).await,
        Command::Quarantine(command) => quarantine::quarantine(command).await,
        Command::Advisories(command) => advisories::run(command).await,
        Command::Exposure(args) => advisories::exposure(args).await,
        Command::Scan(args) => scan::scan(args, clock).await,
        Command::Diff(args) => scan::diff(args, clock).await,
        Command::Sandbox(args) => sandbox::run(args, clock).await,
        Command::Audit(args) => audit::run(args, clock).await,
        Command::Backup(args) => backup::backup(args, &clock).await,
        Command::Restore(args) => backup::restore(&args),
        Command::Gc(args) => gc::run(args, &clock).await,
        Command::AnalyseWorker(args) => Ok(analyse_worker::run(&args)),
    }
}
