//! Where the analyser runs: in a child process (what `airlock serve` does), or on
//! the blocking pool (the library's default, for one-shot commands and tests).
//!
//! In a child process a hostile tarball can at worst end that process: an abort,
//! a stack overflow or an allocation past the worker's memory limit becomes an
//! `analysis-incomplete` finding for that one version (so it is held), and the
//! time limit kills the worker rather than leaving a thread to run on.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use airlock_analyze::{Analysis, Request};
use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How the proxy runs its analyses.
#[derive(Clone, Debug, Default)]
pub enum Isolation {
    /// On the server's blocking pool.
    #[default]
    Thread,
    /// In a child process per analysis.
    Process(WorkerCommand),
}

/// The command that analyses one frame ([`Request::head`] and the tarball) from
/// its stdin and writes the [`Analysis`] as JSON to its stdout. Airlock passes
/// `--memory-limit BYTES --cpu-seconds N` after `args`.
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The address space the worker may take, in bytes.
    pub memory_limit: u64,
}

impl WorkerCommand {
    /// This very binary (the running file, even when it was replaced on disk
    /// since) with `args`, e.g. a hidden subcommand.
    pub fn this_binary(args: Vec<String>, memory_limit: u64) -> std::io::Result<Self> {
        let running = PathBuf::from("/proc/self/exe");
        let program = if running.exists() {
            running
        } else {
            std::env::current_exe()?
        };
        Ok(Self {
            program,
            args,
            memory_limit,
        })
    }
}

/// The most a worker may answer; a real analysis is far smaller.
const MAX_ANSWER_BYTES: u64 = 256 * 1024 * 1024;
/// What is kept of a worker's stderr, for the reason given when it fails.
const MAX_STDERR_BYTES: u64 = 64 * 1024;

/// Why a worker gave no analysis.
#[derive(Debug)]
pub(crate) enum WorkerError {
    /// The stored tarball it was pointed at no longer matches its digest.
    Stale,
    /// Anything else: the reason, for an `analysis-incomplete` finding.
    Failed(String),
}

/// The worker's exit code for [`WorkerError::Stale`].
const STALE_TARBALL: i32 = 3;

/// Runs `request` in a worker on `tgz` (or on the stored tarball the request
/// names, when `tgz` is empty), killing it at `time_limit`.
pub(crate) async fn analyse_in_worker(
    command: &WorkerCommand,
    request: &Request,
    tgz: Bytes,
    time_limit: Duration,
) -> Result<Analysis, WorkerError> {
    let outcome = run_worker(command, request, tgz, time_limit).await;
    match outcome {
        Err(reason) => Err(WorkerError::Failed(reason)),
        Ok((status, _, _)) if request.stored.is_some() && status.code() == Some(STALE_TARBALL) => {
            Err(WorkerError::Stale)
        }
        Ok((status, _, complaint)) if !status.success() => Err(WorkerError::Failed(failure(
            status,
            &complaint,
            command.memory_limit,
        ))),
        Ok((_, answer, _)) => serde_json::from_slice(&answer).map_err(|error| {
            WorkerError::Failed(format!(
                "the analyser process answered something that is not an analysis: {error}"
            ))
        }),
    }
}

/// Starts the worker, feeds it, and collects its exit status, answer and stderr.
async fn run_worker(
    command: &WorkerCommand,
    request: &Request,
    tgz: Bytes,
    time_limit: Duration,
) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), String> {
    let cpu_seconds = time_limit.as_secs().saturating_add(5);
    let mut child = tokio::process::Command::new(&command.program)
        .args(&command.args)
        .arg("--memory-limit")
        .arg(command.memory_limit.to_string())
        .arg("--cpu-seconds")
        .arg(cpu_seconds.to_string())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| {
            tracing::error!(program = %command.program.display(), %error, "could not start the analyser process");
            format!(
                "the analyser process ({}) could not be started: {error}",
                command.program.display()
            )
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err("the analyser process has no pipes".to_owned());
    };
    let head = request.head();
    // A worker that dies early closes its stdin: the write fails, and the exit
    // status says why.
    let feed = async move {
        let _ = stdin.write_all(&head).await;
        let _ = stdin.write_all(&tgz).await;
        drop(stdin);
    };
    let run = async {
        let mut answer = Vec::new();
        let mut complaint = Vec::new();
        let mut stdout = stdout.take(MAX_ANSWER_BYTES);
        let mut stderr = stderr.take(MAX_STDERR_BYTES);
        let ((), read_answer, read_complaint, status) = tokio::join!(
            feed,
            stdout.read_to_end(&mut answer),
            stderr.read_to_end(&mut complaint),
            child.wait(),
        );
        read_answer.map_err(|error| format!("reading the analyser's answer failed: {error}"))?;
        let _ = read_complaint;
        let status =
            status.map_err(|error| format!("waiting for the analyser process failed: {error}"))?;
        Ok::<_, String>((status, answer, complaint))
    };
    let Ok(outcome) = tokio::time::timeout(time_limit, run).await else {
        // Dropping `run` drops the child, which kills it.
        return Err(format!(
            "the analysis did not finish within {} s",
            time_limit.as_secs_f64()
        ));
    };
    outcome
}

/// Why a worker failed, from its exit status and the last line it wrote.
fn failure(status: ExitStatus, complaint: &[u8], memory_limit: u64) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    let said = String::from_utf8_lossy(complaint);
    // The line that says what went wrong: an allocation failure, a panic or an
    // error, rather than the backtrace note after it.
    let telling = said
        .lines()
        .find(|line| {
            [
                "memory allocation of",
                "thread '",
                "error:",
                "fatal runtime error",
            ]
            .iter()
            .any(|start| line.starts_with(start))
        })
        .or_else(|| said.lines().rev().find(|line| !line.trim().is_empty()));
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}{}", signal_name(signal)),
        (None, None) => "ended abnormally".to_owned(),
    };
    let out_of_memory = said.contains("memory allocation of") || said.contains("out of memory");
    let memory = if out_of_memory {
        format!(
            " after running out of its memory limit ({} MiB)",
            memory_limit >> 20
        )
    } else {
        String::new()
    };
    let telling = telling.map_or_else(String::new, |line| format!(": {}", line.trim()));
    format!("the analyser process {how}{memory}{telling}")
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        7 => " (SIGBUS)",
        24 => " (SIGXCPU, its CPU limit)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> WorkerCommand {
        WorkerCommand {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".to_owned(), script.to_owned(), "worker".to_owned()],
            memory_limit: 64 << 20,
        }
    }

    async fn run(script: &str, limit: Duration) -> Result<Analysis, String> {
        analyse_in_worker(
            &shell(script),
            &Request::default(),
            Bytes::from_static(b"tarball"),
            limit,
        )
        .await
        .map_err(|error| match error {
            WorkerError::Failed(reason) => reason,
            WorkerError::Stale => "stale".to_owned(),
        })
    }

    #[tokio::test]
    async fn a_worker_killed_by_a_signal_is_a_reason_not_a_crash() {
        let reason = run("cat >/dev/null; kill -ABRT $$", Duration::from_secs(20))
            .await
            .unwrap_err();
        assert!(reason.contains("signal 6 (SIGABRT)"), "{reason}");
    }

    #[tokio::test]
    async fn a_failing_worker_is_named_with_its_last_words() {
        let reason = run(
            "cat >/dev/null; echo 'memory allocation of 1048576 bytes failed' >&2; echo 'note: details omitted' >&2; exit 3",
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
        assert!(reason.contains("exited with code 3"), "{reason}");
        assert!(reason.contains("memory limit (64 MiB)"), "{reason}");
        assert!(
            reason.contains("memory allocation of 1048576 bytes failed"),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn a_worker_past_its_time_is_killed() {
        let started = std::time::Instant::now();
        let reason = run("exec sleep 30", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(reason.contains("did not finish within 0.3 s"), "{reason}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn an_answer_that_is_not_an_analysis_is_refused() {
        let reason = run(
            "cat >/dev/null; echo '{\"no\": 1}'",
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
        assert!(reason.contains("not an analysis"), "{reason}");
    }

    #[tokio::test]
    async fn a_worker_that_cannot_start_is_a_reason() {
        let command = WorkerCommand {
            program: PathBuf::from("/nonexistent/airlock-worker"),
            args: Vec::new(),
            memory_limit: 1 << 30,
        };
        let error = analyse_in_worker(
            &command,
            &Request::default(),
            Bytes::new(),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&error, WorkerError::Failed(reason) if reason.contains("could not be started")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_stale_stored_tarball_is_told_apart_only_for_a_stored_request() {
        let stored = Request {
            stored: Some(airlock_analyze::StoredTarball {
                path: PathBuf::from("/nonexistent"),
                integrity: "sha512-AAAA".to_owned(),
            }),
            ..Request::default()
        };
        let error = analyse_in_worker(
            &shell("cat >/dev/null; exit 3"),
            &stored,
            Bytes::new(),
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, WorkerError::Stale), "{error:?}");
        let reason = run("cat >/dev/null; exit 3", Duration::from_secs(20))
            .await
            .unwrap_err();
        assert!(reason.contains("exited with code 3"), "{reason}");
    }

    #[tokio::test]
    async fn the_worker_receives_the_frame() {
        // The frame's head is the 8-byte length and the JSON; `tail` drops the
        // head and the worker echoes the rest, which is the tarball.
        let request = Request::default();
        let skip = request.head().len() + 1;
        let script = format!("tail -c +{skip} | grep -q '^tarball$' && echo bad-json || exit 4");
        let reason = run(&script, Duration::from_secs(20)).await.unwrap_err();
        assert!(reason.contains("not an analysis"), "{reason}");
    }
}
