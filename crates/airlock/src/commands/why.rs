//! `airlock why name[@range]`: what a range gets now and what Airlock withholds.

use std::process::ExitCode;

use airlock_server::admin::WhyReport;

use crate::cli::WhyArgs;
use crate::commands::client::{AdminClient, print_json};

pub(crate) async fn run(args: WhyArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.server)?;
    let report: WhyReport = client.get(&format!("why/{}", args.spec)).await?;
    if args.server.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let asked = if report.range == "*" {
        report.package.clone()
    } else {
        format!("{}@{}", report.package, report.range)
    };
    match &report.resolves_to {
        Some(version) => println!("`{asked}` resolves to {version} through Airlock"),
        None => println!("`{asked}` resolves to no version through Airlock now"),
    }
    if report.withheld.is_empty() {
        println!("nothing in it is withheld");
    }
    for withheld in &report.withheld {
        let until = withheld
            .until
            .as_deref()
            .map(|until| format!(" until {until}"))
            .unwrap_or_default();
        println!(
            "withheld {}: {}{until} [{}]",
            withheld.version,
            withheld.verdict,
            withheld.codes.join(", ")
        );
        for reason in &withheld.reasons {
            println!("    {reason}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
