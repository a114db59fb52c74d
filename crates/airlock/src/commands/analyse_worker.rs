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

pub(crate) fn run(args: &AnalyseWorkerArgs) -> ExitCode {
    match work(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}

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
    let (request, tgz) = Request::split(&frame)?;
    let analysis = request.run(tgz);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &analysis).context("could not write the analysis")?;
    out.flush().context("could not write the analysis")?;
    Ok(())
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
