//! `airlock analyse-worker` (hidden): one analysis in its own process.
//!
//! `serve` starts one per analysis (see `airlock_server::Isolation`): the frame
//! (`airlock_analyze::Request::head` and the tarball) comes on stdin, the analysis
//! goes to stdout as JSON. The process limits its own address space and CPU time
//! first, so that a tarball built to exhaust memory ends here with an allocation
//! failure the server reports as `analysis-incomplete`.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use airlock_analyze::Request;
use rustix::process::{Resource, Rlimit, setrlimit};

use crate::cli::AnalyseWorkerArgs;

/// The exit code for a stored tarball that no longer matches its digest: the
/// server then reads (and, if need be, fetches) it again and sends the bytes.
pub(crate) const STALE_TARBALL: u8 = 3;

pub(crate) fn run(args: &AnalyseWorkerArgs) -> ExitCode {
    match work(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            if error.downcast_ref::<Stale>().is_some() {
                ExitCode::from(STALE_TARBALL)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

/// The stored tarball's bytes do not hash to the digest the request names.
#[derive(Debug)]
struct Stale(String);

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the stored tarball {} does not match its digest", self.0)
    }
}

impl std::error::Error for Stale {}

fn work(args: &AnalyseWorkerArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    // No core files of hostile input.
    limit(Resource::Core, Some(0)).context("could not turn core files off")?;
    limit(Resource::As, args.memory_limit).context("could not set the memory limit")?;
    limit(Resource::Cpu, args.cpu_seconds).context("could not set the CPU limit")?;
    let mut frame = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut frame)
        .context("could not read the analysis request from stdin")?;
    let (request, sent) = Request::split(&frame)?;
    let stored_bytes;
    let tgz = match &request.stored {
        None => sent,
        Some(stored) => {
            stored_bytes = read_verified(stored)?;
            &stored_bytes
        }
    };
    let analysis = request.run(tgz);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &analysis).context("could not write the analysis")?;
    out.flush().context("could not write the analysis")?;
    Ok(())
}

/// Reads a stored tarball and checks it against its digest.
fn read_verified(stored: &airlock_analyze::StoredTarball) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    let integrity = airlock_npm::Integrity::parse_sri(&stored.integrity)
        .map_err(|error| anyhow::anyhow!("the request's digest is not usable: {error}"))?;
    let bytes = std::fs::read(&stored.path).with_context(|| {
        format!(
            "could not read the stored tarball {}",
            stored.path.display()
        )
    })?;
    let mut hasher = integrity.hasher();
    hasher.update(&bytes);
    if hasher.finish() != integrity {
        return Err(Stale(stored.path.display().to_string()).into());
    }
    Ok(bytes)
}

/// Sets a resource's soft and hard limit to `value`, when given.
fn limit(resource: Resource, value: Option<u64>) -> rustix::io::Result<()> {
    let Some(value) = value else {
        return Ok(());
    };
    setrlimit(
        resource,
        Rlimit {
            current: Some(value),
            maximum: Some(value),
        },
    )
}
