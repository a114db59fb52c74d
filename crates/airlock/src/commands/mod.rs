//! One file per subcommand.

use std::process::ExitCode;

use crate::cli::Command;

mod serve;

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(args).await,
    }
}
