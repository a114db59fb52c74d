//! `airlock exceptions` and `airlock denials`: the rules people added at run time,
//! listed and revoked (`airlock approve` and `airlock deny` add them).

use std::process::ExitCode;

use airlock_server::admin::{DenialView, ExceptionView};

use crate::cli::{DenialsCommand, ExceptionsCommand};
use crate::commands::client::{AdminClient, print_json};

pub(crate) async fn exceptions(command: ExceptionsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ExceptionsCommand::List(server) => {
            let exceptions: Vec<ExceptionView> =
                AdminClient::new(&server)?.get("exceptions").await?;
            if server.json {
                print_json(&exceptions)?;
            } else if exceptions.is_empty() {
                println!("no exceptions");
            } else {
                for exception in &exceptions {
                    let state = match (&exception.expires, exception.active) {
                        (_, false) => "expired".to_owned(),
                        (Some(at), true) => format!("until {at}"),
                        (None, true) => "no expiry".to_owned(),
                    };
                    println!(
                        "{:>4}  {:<32} {:<32} by {} on {}: {}",
                        exception.id,
                        exception.package,
                        state,
                        exception.author,
                        exception.created,
                        exception.reason
                    );
                }
            }
        }
        ExceptionsCommand::Revoke { id, server } => {
            AdminClient::new(&server)?
                .delete(&format!("exceptions/{id}"))
                .await?;
            println!("revoked exception {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn denials(command: DenialsCommand) -> anyhow::Result<ExitCode> {
    match command {
        DenialsCommand::List(server) => {
            let denials: Vec<DenialView> = AdminClient::new(&server)?.get("denials").await?;
            if server.json {
                print_json(&denials)?;
            } else if denials.is_empty() {
                println!("no denials");
            } else {
                for denial in &denials {
                    println!(
                        "{:>4}  {:<32} by {} on {}: {}",
                        denial.id, denial.package, denial.author, denial.created, denial.reason
                    );
                }
            }
        }
        DenialsCommand::Revoke { id, server } => {
            AdminClient::new(&server)?
                .delete(&format!("denials/{id}"))
                .await?;
            println!("lifted denial {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
