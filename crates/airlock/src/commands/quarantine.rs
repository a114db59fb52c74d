//! `airlock quarantine list`: the versions waiting, with why and until when.

use std::process::ExitCode;

use airlock_server::admin::QuarantineView;

use crate::cli::QuarantineCommand;
use crate::commands::client::{AdminClient, print_json};

pub(crate) async fn quarantine(command: QuarantineCommand) -> anyhow::Result<ExitCode> {
    let QuarantineCommand::List(args) = command;
    let server = args.server;
    let mut waiting: Vec<QuarantineView> = AdminClient::new(&server)?.get("quarantine").await?;
    if let Some(code) = &args.code {
        waiting.retain(|entry| entry.codes.iter().any(|held| held == code));
    }
    if server.json {
        print_json(&waiting)?;
    } else if waiting.is_empty() {
        println!("nothing is in quarantine");
    } else {
        for entry in &waiting {
            let until = entry.until.as_deref().unwrap_or("until approved");
            let name = format!("{}@{}", entry.package, entry.version);
            println!("{name:<40} {until:<26} {}", entry.codes.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
