//! `airlock gc`: retention of cached tarballs, stale analyses and, when asked, the
//! download log. `serve` runs the same collection once a day when the
//! configuration sets `retention.blobs`.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use airlock_npm::Clock;
use airlock_policy::HumanDuration;
use airlock_store::Store;
use anyhow::Context as _;

use crate::cli::GcArgs;

/// What to remove.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retention {
    /// Cached tarballs not served for this long go.
    pub(crate) blobs: Duration,
    /// Download records older than this go; `None` keeps them all.
    pub(crate) downloads: Option<Duration>,
}

/// What a collection removed (or, dry, would remove).
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) blobs: usize,
    pub(crate) blob_bytes: u64,
    pub(crate) analyses: u64,
    pub(crate) downloads: u64,
}

impl std::fmt::Display for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cached tarballs ({}.{} MB), {} analyses by older analyser versions, {} download records",
            self.blobs,
            self.blob_bytes / 1_000_000,
            self.blob_bytes % 1_000_000 / 100_000,
            self.analyses,
            self.downloads
        )
    }
}

fn millis_before(now: SystemTime, age: Duration) -> i64 {
    let cutoff = now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
    cutoff
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Removes what `retention` lets go, as of `now`. A tarball's record goes before
/// its file: a record without a file is fetched again, never the reverse.
pub(crate) async fn collect(
    store: &Store,
    retention: Retention,
    now: SystemTime,
    dry_run: bool,
) -> anyhow::Result<Collected> {
    let mut collected = Collected::default();
    let idle = store
        .idle_blobs(millis_before(now, retention.blobs))
        .await
        .context("could not list the cached tarballs")?;
    for blob in idle {
        collected.blobs += 1;
        collected.blob_bytes += u64::try_from(blob.size).unwrap_or(0);
        if dry_run {
            continue;
        }
        store
            .forget_tarball(&blob.key)
            .await
            .context("could not forget a cached tarball")?;
        store.blobs().remove_key(&blob.key).with_context(|| {
            format!(
                "could not remove the cached tarball of `{}@{}`",
                blob.name, blob.version
            )
        })?;
    }
    if !dry_run {
        collected.analyses = store
            .forget_old_analyses(i64::from(airlock_analyze::ANALYZER_VERSION))
            .await
            .context("could not remove old analyses")?;
        if let Some(age) = retention.downloads {
            collected.downloads = store
                .forget_downloads_before(millis_before(now, age))
                .await
                .context("could not remove old download records")?;
        }
    }
    Ok(collected)
}

fn duration(text: &str, flag: &str) -> anyhow::Result<Duration> {
    HumanDuration::parse(text)
        .map(|duration| duration.0)
        .map_err(|error| {
            anyhow::anyhow!(
                "`{flag} {text}`: {error}\nhint: write a duration such as `30d` or `12h`"
            )
        })
}

pub(crate) async fn run(args: GcArgs, clock: &Clock) -> anyhow::Result<ExitCode> {
    let configured = crate::config::retention(&args.setup)?;
    let blobs = match &args.unused_for {
        Some(text) => duration(text, "--unused-for")?,
        None => configured.blobs.unwrap_or(DEFAULT_BLOB_RETENTION),
    };
    let downloads = match &args.downloads_older_than {
        Some(text) => Some(duration(text, "--downloads-older-than")?),
        None => configured.downloads,
    };
    let root = crate::config::data_dir(&args.setup)?;
    let store = Store::open(&root)
        .await
        .with_context(|| format!("could not open the data directory `{}`", root.display()))?;
    let collected = collect(
        &store,
        Retention { blobs, downloads },
        clock.now_system(),
        args.dry_run,
    )
    .await?;
    store.close().await;
    if args.dry_run {
        println!("would remove {collected} (dry run: nothing removed)");
    } else {
        println!("removed {collected}");
    }
    Ok(ExitCode::SUCCESS)
}

/// How long a cached tarball nobody asks for is kept when nothing says otherwise.
pub(crate) const DEFAULT_BLOB_RETENTION: Duration = Duration::from_hours(30 * 24);
