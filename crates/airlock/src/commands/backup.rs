//! `airlock backup` and `airlock restore`: the database's way back.

use std::process::ExitCode;

use airlock_npm::Clock;
use airlock_store::Store;
use anyhow::Context as _;

use crate::cli::{BackupArgs, RestoreArgs};
use crate::config::data_dir;

pub(crate) async fn backup(args: BackupArgs, clock: &Clock) -> anyhow::Result<ExitCode> {
    let root = data_dir(&args.setup)?;
    let store = Store::open(&root)
        .await
        .with_context(|| format!("could not open the data directory `{}`", root.display()))?;
    // Download records a running Airlock wrote in the last moments wait in its
    // journal; what no process holds goes into the database first.
    store
        .fold_download_journal(clock.now_millis())
        .await
        .context("could not fold the download journal into the database")?;
    store.backup(&args.to).await.with_context(|| {
        format!(
            "could not write the backup `{}`\nhint: pick a new file name in a directory you can write",
            args.to.display()
        )
    })?;
    store.close().await;
    println!(
        "backed up the database of `{}` to `{}`\nrestore it with: airlock restore {} --data-dir {}",
        root.display(),
        args.to.display(),
        args.to.display(),
        root.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn restore(args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let root = data_dir(&args.setup)?;
    let from = if args.start_empty {
        None
    } else {
        args.from.as_deref()
    };
    let aside = Store::restore(&root, from).with_context(|| {
        format!(
            "could not restore the database of `{}`\nhint: stop Airlock first, and name a file `airlock backup` wrote",
            root.display()
        )
    })?;
    match from {
        Some(backup) => println!(
            "restored `{}` as the database of `{}`",
            backup.display(),
            root.display()
        ),
        None => println!(
            "the data directory `{}` starts over with an empty database at the next start",
            root.display()
        ),
    }
    if let Some(aside) = aside {
        println!("the database it replaced is kept as `{}`", aside.display());
    }
    Ok(ExitCode::SUCCESS)
}
