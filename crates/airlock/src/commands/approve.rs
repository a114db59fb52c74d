//! `airlock approve` and `airlock deny`: add rules through the admin API.

use std::process::ExitCode;

use airlock_server::admin::{DenialView, ExceptionView};
use serde_json::json;

use crate::cli::{ApproveArgs, DenyArgs};
use crate::commands::client::{AdminClient, author, print_json};

pub(crate) async fn approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.server)?;
    let body = json!({
        "package": args.spec,
        "reason": args.reason,
        "author": author(args.author),
        "expires_in": args.expires,
        "all_versions": args.all_versions,
    });
    let created: ExceptionView = client.post("exceptions", &body).await?;
    if args.server.json {
        print_json(&created)?;
    } else {
        if !args.all_versions
            && let Ok(check) = client
                .get::<serde_json::Value>(&format!("check/{}", created.package))
                .await
            && check["decision"]["verdict"] == "allow"
            && check["decision"]["waived_by"].is_null()
        {
            println!(
                "note: `{}` was not refused before this approval; it takes effect if it ever is",
                created.package
            );
        }
        let expires = created
            .expires
            .as_deref()
            .map(|at| format!(", until {at}"))
            .unwrap_or_default();
        println!(
            "approved `{}` (exception {}, by {}{expires}): {}",
            created.package, created.id, created.author, created.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn deny(args: DenyArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.server)?;
    let body = json!({
        "package": args.spec,
        "reason": args.reason,
        "author": author(args.author),
    });
    let created: DenialView = client.post("denials", &body).await?;
    if args.server.json {
        print_json(&created)?;
    } else {
        println!(
            "denied `{}` (denial {}, by {}): {}",
            created.package, created.id, created.author, created.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}
