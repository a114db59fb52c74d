//! Building the sandbox and running the scripts in it.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::judge::{Context, finding, install_finding, judge, observe};
use crate::trace::{Event, TRACED, parse};
use crate::{Config, Error, Layout, Report, SANDBOX_VERSION, home, unpack};

/// The lifecycle scripts npm runs when it installs a package from a registry.
const LIFECYCLE: [&str; 3] = ["preinstall", "install", "postinstall"];
/// The record read back at most.
const MAX_TRACE_BYTES: u64 = 64 * 1024 * 1024;
/// How much of a file written outside the package is read to see whether it is a
/// download kept (the sink's answer is short and comes first).
const KEPT_DOWNLOAD_BYTES: u64 = 64 * 1024;
/// What a run may write to a file (the record included).
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
const MAX_OUTPUT_CHARS: usize = 4_000;
/// In the record directory when the run tells Node it is on Windows.
pub(crate) const POSING_AS_WINDOWS: &str = "windows";
/// Written by the runner when the last script has returned.
const DONE: &str = "scripts-done";
/// How long what the scripts started may outlive them before it counts as left
/// running (and is killed). Telemetry reporters (`@scarf/scarf`) detach a child
/// that runs `npm ls` and posts its report, which takes several seconds on a busy
/// machine; a daemon stays for good.
const LINGER: Duration = Duration::from_secs(10);

/// Whether the sandbox can run here, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    Ready {
        bwrap: PathBuf,
        strace: PathBuf,
        node: PathBuf,
    },
    Unavailable(String),
}

/// Finds the tools and starts Node once in an empty sandbox.
pub fn probe(config: &Config) -> Availability {
    let found = |tool: &Path, package: &str| {
        locate(tool).ok_or_else(|| {
            format!(
                "`{}` was not found (install Debian's `{package}` package, or set its path)",
                tool.display()
            )
        })
    };
    let tools = (|| {
        Ok::<_, String>((
            found(&config.bwrap, "bubblewrap")?,
            found(&config.strace, "strace")?,
            found(&config.node, "nodejs")?,
        ))
    })();
    let (bwrap, strace, node) = match tools {
        Ok(tools) => tools,
        Err(why) => return Availability::Unavailable(why),
    };
    let mut command = bubblewrap(&bwrap);
    command
        .args(isolation())
        .args(FILTER_ON_STDIN)
        .args(system_mounts(&node))
        // Node itself, under the filter and as the sandbox's user, not just a shell.
        .arg("--")
        .arg(&node)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match spawn_with_filter(&mut command).and_then(std::process::Child::wait_with_output) {
        Ok(output) if output.status.success() => Availability::Ready {
            bwrap,
            strace,
            node,
        },
        Ok(output) => Availability::Unavailable(format!(
            "bubblewrap could not start the sandbox: {}{}",
            String::from_utf8_lossy(&output.stderr).trim(),
            if rustix::process::geteuid().is_root() {
                " (Airlock runs as root, so the sandbox runs as nobody: Node and the \
                 directories it lives in must be readable by every user)"
            } else {
                ""
            }
        )),
        Err(error) => Availability::Unavailable(format!("bubblewrap could not run: {error}")),
    }
}

/// bubblewrap reads the seccomp program from its standard input (and closes it;
/// `boot.sh` opens `/dev/null` there again).
const FILTER_ON_STDIN: [&str; 2] = ["--seccomp", "0"];

/// Starts bubblewrap and writes the seccomp filter to its standard input, which
/// it reads before it starts anything.
fn spawn_with_filter(command: &mut Command) -> std::io::Result<std::process::Child> {
    use std::io::Write as _;
    let mut child = command.stdin(Stdio::piped()).spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        // A bubblewrap that fails before reading says why on stderr.
        let _ = stdin.write_all(&crate::seccomp::bytes());
    }
    Ok(child)
}

/// Runs the install scripts of the package in `tarball` and judges what they did.
/// A package without install scripts is not run (its report is empty).
///
/// Most stealers act only on Windows, where most developers' secrets are. When the
/// first run finds nothing that stops the version, the scripts run a second time
/// with Node saying it runs on Windows (`process.platform`, `os.platform()`, `cmd.exe`
/// as the shell, `APPDATA`), and what that run does counts when it is unambiguous:
/// canaries read or sent, a download run, a PowerShell or `cmd` download cradle
/// (`Pose::Windows`, `windows_findings`).
pub fn run(config: &Config, tarball: &[u8]) -> Result<Report, Error> {
    let tools = ready(config)?;
    let (mut report, looked_for) = run_posing(config, &tools, tarball, Pose::Itself)?;
    if report.scripts.is_empty() || stops(&report.findings) {
        return Ok(report);
    }
    let windows = match run_posing(config, &tools, tarball, Pose::Windows) {
        Ok((windows, _)) => windows,
        Err(error) => {
            report.findings.push(crate::not_run(&format!(
                "the second run, told it is on Windows: {error}"
            )));
            return Ok(report);
        }
    };
    report.millis = report.millis.saturating_add(windows.millis);
    report.ran_as_windows = true;
    report
        .findings
        .extend(unambiguous(windows.findings, "told it runs on Windows"));
    if looked_for.is_empty() || stops(&report.findings) {
        return Ok(report);
    }
    // Code that acts only when a variable is set (`if (process.env.demo)`) runs
    // once more with every variable it looked for and did not find set.
    let told = format!("with {} set", looked_for.join(", "));
    match run_posing(config, &tools, tarball, Pose::Configured(&looked_for)) {
        Ok((configured, _)) => {
            report.millis = report.millis.saturating_add(configured.millis);
            report
                .findings
                .extend(unambiguous(configured.findings, &told));
            report.variables_set = looked_for;
        }
        Err(error) => report
            .findings
            .push(crate::not_run(&format!("the last run, {told}: {error}"))),
    }
    Ok(report)
}

/// The tools, found once per configuration: a sandbox that started once keeps
/// working, and probing costs a bubblewrap and a Node start per run otherwise. What
/// is unavailable is probed again (it may have been installed since).
fn ready(config: &Config) -> Result<(PathBuf, PathBuf, PathBuf), Error> {
    type Tools = (PathBuf, PathBuf, PathBuf);
    static READY: std::sync::Mutex<Vec<(Tools, Tools)>> = std::sync::Mutex::new(Vec::new());
    let asked = (
        config.bwrap.clone(),
        config.strace.clone(),
        config.node.clone(),
    );
    let known = READY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, tools)) = known.iter().find(|(key, _)| *key == asked) {
        return Ok(tools.clone());
    }
    drop(known);
    match probe(config) {
        Availability::Ready {
            bwrap,
            strace,
            node,
        } => {
            let tools = (bwrap, strace, node);
            READY
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((asked, tools.clone()));
            Ok(tools)
        }
        Availability::Unavailable(why) => Err(Error::Start(why)),
    }
}

/// What the scripts are told the machine is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pose<'a> {
    /// This machine, as it is.
    Itself,
    /// Windows, as far as Node and the environment tell.
    Windows,
    /// This machine, with these environment variables set to `1`.
    Configured(&'a [String]),
}

/// A finding the policy quarantines or blocks by default.
fn stops(findings: &[airlock_policy::Finding]) -> bool {
    findings
        .iter()
        .any(|finding| finding.severity >= airlock_policy::Severity::High)
}

/// Words of a command that fetches and runs code on Windows.
const DOWNLOAD_CRADLES: &[&str] = &[
    "iex",
    "invoke-expression",
    "downloadstring",
    "downloadfile",
    "irm ",
    "iwr ",
    "invoke-webrequest",
    "invoke-restmethod",
    "start-bitstransfer",
    "frombase64string",
    "-enc ",
    "-encodedcommand",
    "certutil -urlcache",
    "bitsadmin /transfer",
    "mshta http",
    "curl ",
    "wget ",
];

/// What a later run (told it is on Windows, or with variables set) found that only
/// malice explains: what a build step for Windows does (run `.exe` and `.cmd`
/// files, PowerShell to unpack) is left out. `told` says how the run differed.
fn unambiguous(findings: Vec<airlock_policy::Finding>, told: &str) -> Vec<airlock_policy::Finding> {
    findings
        .into_iter()
        .filter(|finding| {
            let rule = finding.rule.as_deref().unwrap_or_default();
            let message = finding.message.to_ascii_lowercase();
            finding.severity == airlock_policy::Severity::Critical
                || rule == "runtime-credential-read"
                || matches!(rule, "runtime-powershell" | "runtime-windows-command")
                    && DOWNLOAD_CRADLES.iter().any(|word| message.contains(word))
        })
        .map(|mut finding| {
            finding.message = format!("{told}, {}", finding.message);
            finding
        })
        .collect()
}

/// One run of the scripts, in a sandbox of its own.
fn run_posing(
    config: &Config,
    (bwrap, strace, node): &(PathBuf, PathBuf, PathBuf),
    tarball: &[u8],
    pose: Pose,
) -> Result<(Report, Vec<String>), Error> {
    let work = tempfile::Builder::new()
        .prefix("airlock-sandbox-")
        .tempdir()
        .map_err(Error::io(&std::env::temp_dir()))?;
    let stage = work.path().join("stage");
    std::fs::create_dir_all(&stage).map_err(Error::io(&stage))?;
    let package = Package::unpack(tarball, &stage)?;
    let mut report = Report {
        package: package.name.clone(),
        version: package.version.clone(),
        scripts: package.scripts.clone(),
        observations: Vec::new(),
        findings: Vec::new(),
        exit_code: None,
        timed_out: false,
        left_running: false,
        millis: 0,
        output: String::new(),
        ran_as_windows: pose == Pose::Windows,
        variables_set: Vec::new(),
        sandbox_version: SANDBOX_VERSION,
    };
    if package.scripts.is_empty() {
        return Ok((report, Vec::new()));
    }
    let built = build(work.path(), &stage, &package, node, strace, pose)?;
    hand_over(work.path())?;
    execute(config, (bwrap, node), &built, &package, &mut report)?;
    assess(config, &built, &mut report);
    Ok((report, looked_for(&built.record, &package.name)))
}

/// At most this many variables are set for the last run.
const MAX_VARIABLES_SET: usize = 32;

/// The environment variables the scripts' Node processes looked for and did not
/// find (the preload notes them), that a last run may set.
fn looked_for(record: &Path, package: &str) -> Vec<String> {
    let noted =
        crate::trace::read_record(&record.join(Layout::LOOKED_FOR), 64 * 1024).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for name in noted.lines() {
        if settable(name) && !own_setting(name, package) && !names.iter().any(|known| known == name)
        {
            names.push(name.to_owned());
        }
    }
    names.truncate(MAX_VARIABLES_SET);
    names
}

/// Variables that are part of the ordinary environment of Node, npm, builds and
/// shells rather than a package's decision: set, they change how everything runs
/// (Node, npm, proxies, the terminal, the locale, the XDG and Windows directories,
/// node-gyp's Python and make, debug switches, test runners). Prefixes, then whole
/// names; matched without regard to case.
const ORDINARY_PREFIXES: &[&str] = &[
    "NODE",
    "NPM_",
    "UV_",
    "LC_",
    "V8_",
    "YARN_",
    "PNPM_",
    "XDG_",
    "PYTHON",
    "UNDICI_",
    "JEST_",
    "GRACEFUL_FS",
    "TEST_",
    "_",
];
const ORDINARY_NAMES: &[&str] = &[
    "TERM",
    "COLORTERM",
    "FORCE_COLOR",
    "NO_COLOR",
    "TZ",
    "LANG",
    "LANGUAGE",
    "TMP",
    "TEMP",
    "TMPDIR",
    "HOME",
    "PATH",
    "SHELL",
    "PWD",
    "OLDPWD",
    "CI",
    "COLUMNS",
    "LINES",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "WINDIR",
    "PROGRAMFILES",
    "PROGRAMW6432",
    "PROGRAMDATA",
    "APPDATA",
    "LOCALAPPDATA",
    "USERNAME",
    "USERPROFILE",
    "PATHEXT",
    "COMSPEC",
    "MAKE",
    "CC",
    "CXX",
    "WATCH_REPORT_DEPENDENCIES",
];

/// A variable a script may gate what it does on: a plain name that is not part
/// of the ordinary environment (`ORDINARY_PREFIXES`, `ORDINARY_NAMES`, anything
/// about proxies or debugging).
fn settable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain
        && !ORDINARY_PREFIXES
            .iter()
            .any(|prefix| upper.starts_with(prefix))
        && !ORDINARY_NAMES.contains(&upper.as_str())
        && !upper.contains("PROXY")
        && !upper.contains("DEBUG")
}

/// A setting of the package's own, named after it (`ESBUILD_BINARY_PATH` for
/// esbuild, `SENTRYCLI_CDNURL` for `@sentry/cli`, `SKIP_INSTALL_SIMPLE_GIT_HOOKS`):
/// the installer's documented switches, not a gate a script hides behind.
fn own_setting(variable: &str, package: &str) -> bool {
    let upper = variable.to_ascii_uppercase();
    let normalised = airlock_analyze::as_variable_name(package.trim_start_matches('@'));
    let whole = normalised.rsplit('_').count() > 1 && upper.contains(&normalised);
    whole
        || normalised
            .split('_')
            .filter(|word| word.len() >= 2)
            .any(|word| {
                upper == word
                    || upper.starts_with(&format!("{word}_"))
                    || word.len() >= 4 && upper.starts_with(word)
            })
}

/// What the tarball's manifest says the sandbox needs.
struct Package {
    name: String,
    version: String,
    /// The lifecycle scripts npm runs, in order: (event, command).
    scripts: Vec<(String, String)>,
    /// Every declared dependency, to stub.
    dependencies: Vec<String>,
}

impl Package {
    /// Unpacks `tarball` into `stage` and reads its manifest.
    fn unpack(tarball: &[u8], stage: &Path) -> Result<Self, Error> {
        let manifest = unpack::unpack(tarball, stage)?;
        let manifest: serde_json::Value = serde_json::from_slice(&manifest)
            .map_err(|error| Error::Tarball(format!("package.json: {error}")))?;
        let name = manifest["name"].as_str().unwrap_or_default().to_owned();
        if !crate::stubs::valid(&name) {
            return Err(Error::Tarball(format!(
                "package.json names `{name}`, not a package name"
            )));
        }
        // npm's default: a `binding.gyp` and no `install` or `preinstall` of its own
        // is built with `node-gyp rebuild` at install.
        let gyp = stage.join("binding.gyp").is_file()
            && manifest["gypfile"] != serde_json::Value::Bool(false)
            && ["install", "preinstall"].iter().all(|event| {
                manifest["scripts"][event]
                    .as_str()
                    .is_none_or(str::is_empty)
            });
        let scripts = LIFECYCLE
            .iter()
            .filter_map(|event| {
                if gyp && *event == "install" {
                    return Some(((*event).to_owned(), "node-gyp rebuild".to_owned()));
                }
                let script = manifest["scripts"][event].as_str()?.trim();
                (!script.is_empty()).then(|| ((*event).to_owned(), script.to_owned()))
            })
            .collect();
        let dependencies = ["dependencies", "optionalDependencies", "peerDependencies"]
            .iter()
            .filter_map(|field| manifest[field].as_object())
            .flat_map(|map| map.keys().cloned())
            .filter(|dependency| *dependency != name)
            .collect();
        Ok(Self {
            version: manifest["version"].as_str().unwrap_or_default().to_owned(),
            name,
            scripts,
            dependencies,
        })
    }
}

/// The sandbox's directories on this machine, and the paths inside.
struct Built {
    layout: Layout,
    home: PathBuf,
    etc: PathBuf,
    record: PathBuf,
}

/// Lays the sandbox out under `root`: the package where npm would put it, stubs
/// for its dependencies, the canary home, `/etc`, and the record directory with
/// the runner, the sink, the stand-in tools and the boot script.
fn build(
    root: &Path,
    stage: &Path,
    package: &Package,
    node: &Path,
    strace: &Path,
    pose: Pose,
) -> Result<Built, Error> {
    let mut layout = Layout::new(&package.name);
    layout.windows = pose == Pose::Windows;
    if let Pose::Configured(names) = pose {
        layout.variables_set = names.to_vec();
    }
    let home = root.join("home");
    let node_modules = home.join("project/node_modules");
    let host_package = node_modules.join(&package.name);
    if let Some(parent) = host_package.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    std::fs::rename(stage, &host_package).map_err(Error::io(&host_package))?;
    layout.run_files = run_files(&layout, &host_package, &package.scripts);
    crate::stubs::write(&node_modules, &package.dependencies)?;
    home::seed(&home)?;
    write(
        &home.join("project/package.json"),
        &serde_json::json!({"name": "project", "version": "1.0.0", "dependencies": {&package.name: &package.version}})
            .to_string(),
    )?;
    // A project has its own entry point (some stealers act only beside one).
    write(&home.join("project/index.js"), "console.log('project');\n")?;
    write(&home.join("project/main.js"), "require('./index.js');\n")?;
    let etc = root.join("etc");
    write_etc(&etc, &layout)?;
    let record = root.join("record");
    std::fs::create_dir_all(&record).map_err(Error::io(&record))?;
    write(&record.join("run.sh"), &runner(&layout, &package.scripts))?;
    crate::sink::install(&record)?;
    tools(&record.join("bin"), node)?;
    npm_stand_in(&record.join("first"))?;
    write(&record.join("boot.sh"), &boot(node, strace))?;
    if pose == Pose::Windows {
        write(&record.join(POSING_AS_WINDOWS), "")?;
    }
    Ok(Built {
        layout,
        home,
        etc,
        record,
    })
}

/// Runs the sandbox until the scripts and what they started end, what they
/// started outlives them by `LINGER`, or the time limit; fills in how it ended.
fn execute(
    config: &Config,
    (bwrap, node): (&Path, &Path),
    built: &Built,
    package: &Package,
    report: &mut Report,
) -> Result<(), Error> {
    let layout = &built.layout;
    let started = Instant::now();
    let mut command = bubblewrap(bwrap);
    command
        .args(isolation())
        .args(FILTER_ON_STDIN)
        .args(system_mounts(node))
        .arg("--ro-bind")
        .arg(&built.etc)
        .arg("/etc")
        .args(etc_mounts())
        .arg("--bind")
        .arg(&built.home)
        .arg(&layout.home)
        .arg("--bind")
        .arg(&built.record)
        .arg(Layout::RECORD_DIR)
        .args(["--hostname", &layout.hostname, "--chdir", &layout.package])
        .arg("--clearenv")
        .args(environment(layout, node, &package.name, &package.version))
        .arg("--")
        .args(limits(config))
        .args(["--", "/bin/sh", &format!("{}/boot.sh", Layout::RECORD_DIR)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_with_filter(&mut command)
        .map_err(|error| Error::Start(format!("bubblewrap: {error}")))?;
    let output = collect_output(&mut child);
    let done = built.record.join(DONE);
    let mut finished: Option<Instant> = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < config.time_limit => {
                // The scripts are done, and something they started is not.
                if finished.is_none() && done.exists() {
                    finished = Some(Instant::now());
                }
                if finished.is_some_and(|at| at.elapsed() > LINGER) {
                    let _ = child.kill();
                    let _ = child.wait();
                    report.left_running = true;
                    break None;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                report.timed_out = true;
                break None;
            }
        }
    };
    report.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.exit_code = status.and_then(|status| status.code());
    report.output = output.join().unwrap_or_default();
    Ok(())
}

/// Reads the record and the sink's log into observations and judges them.
fn assess(config: &Config, built: &Built, report: &mut Report) {
    let layout = &built.layout;
    let trace = crate::trace::open_record(&built.record.join("trace"), MAX_TRACE_BYTES);
    let received = crate::sink::received(&built.record);
    let unreadable = trace.is_none() || received.is_none();
    let trace = trace.map(parse).unwrap_or_default();
    let empty = trace.bytes == 0;
    let events = trace.events;
    let written: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            Event::Open {
                path,
                write: true,
                ok: true,
            } => Some(path.clone()),
            _ => None,
        })
        .collect();
    report.observations = observe(&events, layout);
    report
        .observations
        .extend(received.unwrap_or_default().into_iter().map(|received| {
            crate::Observation::Sent {
                secrets: crate::sink::canaries_in(&received.bytes, &layout.canary_values()),
                websocket: crate::sink::asks_for_websocket(&received.bytes),
                request: crate::sink::http_request(&received.bytes),
                host: received.host,
                port: received.port,
                bytes: received.bytes.len(),
            }
        }));
    let context = Context {
        trusted_hosts: config.trusted_hosts.clone(),
        written,
        kept_downloads: kept_downloads(&report.observations, layout, &built.home),
    };
    report.findings = judge(&report.observations, layout, &context);
    if empty || unreadable {
        report.findings.push(tampered());
    }
    if report.left_running {
        report.findings.push(left_running());
    }
    if report.timed_out {
        report.findings.push(past_time_limit(config));
    }
}

/// The files written in the home directory, outside the project and the caches,
/// that hold the sink's answer (read from the host's side of the home directory,
/// without following links).
fn kept_downloads(
    observations: &[crate::Observation],
    layout: &crate::Layout,
    host_home: &Path,
) -> Vec<String> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            crate::Observation::Wrote { path } => Some(path),
            _ => None,
        })
        .filter(|path| !crate::judge::in_home_cache(path, layout) && !layout.in_project(path))
        .filter(|path| {
            path.strip_prefix(&layout.home)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|relative| {
                    crate::trace::read_record(&host_home.join(relative), KEPT_DOWNLOAD_BYTES)
                })
                .is_some_and(|content| content.contains(crate::sink::ANSWER_RAN))
        })
        .cloned()
        .collect()
}

/// The scripts returned and left something running.
fn left_running() -> airlock_policy::Finding {
    finding(
        airlock_policy::Code::RuntimePersistence,
        airlock_policy::Severity::High,
        format!(
            "the install scripts returned and left a process running in the background (killed after {} s)",
            LINGER.as_secs()
        ),
        "runtime-left-running",
    )
}

/// The scripts were still running at the time limit.
fn past_time_limit(config: &Config) -> airlock_policy::Finding {
    install_finding(
        airlock_policy::Code::AnalysisIncomplete,
        airlock_policy::Severity::Medium,
        format!(
            "the install scripts were still running after {} s in the sandbox; what they did until then is judged",
            config.time_limit.as_secs()
        ),
    )
}

/// The record was emptied, removed or replaced from inside: nothing the scripts
/// did can be trusted to be absent.
fn tampered() -> airlock_policy::Finding {
    finding(
        airlock_policy::Code::RuntimeFileWrite,
        airlock_policy::Severity::High,
        "the sandbox's record of the run is empty or not a plain file: the scripts removed, emptied or replaced it".to_owned(),
        "runtime-record-tampered",
    )
}

/// Namespaces, identity and privileges.
fn isolation() -> Vec<String> {
    [
        "--unshare-all",
        "--unshare-user",
        // The user namespace maps one user, as 0. Its two capabilities, over its own
        // namespaces, let the sink listen on low ports and then drop every
        // capability for good before anything of the package runs. New namespaces
        // inside are refused by the seccomp filter (bubblewrap's `--disable-userns`
        // would nest a second user namespace that does not own the network).
        "--uid",
        "0",
        "--gid",
        "0",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "CAP_NET_BIND_SERVICE",
        "--cap-add",
        "CAP_SETPCAP",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The user the sandbox runs as outside when Airlock runs as root: the sandbox's
/// user 0 is then nobody, not root, and the kernel enforces its process limit
/// (it does not for root).
const NOBODY: u32 = 65_534;

/// bubblewrap, started as `NOBODY` when Airlock runs as root.
fn bubblewrap(bwrap: &Path) -> Command {
    if rustix::process::geteuid().is_root() {
        let mut command = Command::new("setpriv");
        command
            .arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={NOBODY}"))
            .args(["--clear-groups", "--"])
            .arg(bwrap);
        command
    } else {
        Command::new(bwrap)
    }
}

/// Hands the work directory to `NOBODY` when the sandbox runs as nobody.
fn hand_over(root: &Path) -> Result<(), Error> {
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        std::os::unix::fs::lchown(&path, Some(NOBODY), Some(NOBODY)).map_err(Error::io(&path))?;
        let metadata = std::fs::symlink_metadata(&path).map_err(Error::io(&path))?;
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&path).map_err(Error::io(&path))? {
                pending.push(entry.map_err(Error::io(&path))?.path());
            }
        }
    }
    Ok(())
}

/// The system, read-only: `/usr` and the top-level links or directories into it,
/// and Node's own directory when it lives elsewhere.
fn system_mounts(node: &Path) -> Vec<String> {
    let mut mounts = vec!["--ro-bind".to_owned(), "/usr".to_owned(), "/usr".to_owned()];
    for top in ["/bin", "/sbin", "/lib", "/lib64", "/lib32"] {
        let path = Path::new(top);
        if let Ok(target) = std::fs::read_link(path) {
            mounts.extend([
                "--symlink".to_owned(),
                target.display().to_string(),
                top.to_owned(),
            ]);
        } else if path.is_dir() {
            mounts.extend(["--ro-bind".to_owned(), top.to_owned(), top.to_owned()]);
        }
    }
    if let Some(prefix) = node.parent().and_then(Path::parent)
        && !node.starts_with("/usr")
    {
        let prefix = prefix.display().to_string();
        mounts.extend(["--ro-bind".to_owned(), prefix.clone(), prefix]);
    }
    mounts
}

/// Parts of the real `/etc` that programs need and that hold no secrets:
/// certificates and Debian's alternatives links.
fn etc_mounts() -> Vec<String> {
    let mut mounts = Vec::new();
    for dir in ["/etc/ssl", "/etc/alternatives", "/etc/ca-certificates"] {
        if Path::new(dir).is_dir() {
            mounts.extend(["--ro-bind".to_owned(), dir.to_owned(), dir.to_owned()]);
        }
    }
    mounts
}

fn write_etc(etc: &Path, layout: &Layout) -> Result<(), Error> {
    std::fs::create_dir_all(etc).map_err(Error::io(etc))?;
    let user = &layout.user;
    let home = &layout.home;
    let files = [
        ("passwd", format!("{user}:x:0:0:{user}:{home}:/bin/sh\n")),
        ("group", format!("{user}:x:0:\n")),
        ("hostname", format!("{}\n", layout.hostname)),
        (
            "hosts",
            format!("127.0.0.1 localhost {}\n::1 localhost\n", layout.hostname),
        ),
        // Names are asked of a resolver on the sandbox's loopback, where nothing
        // listens: the query is recorded and fails at once.
        (
            "resolv.conf",
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n".to_owned(),
        ),
        (
            "nsswitch.conf",
            "passwd: files\ngroup: files\nhosts: files dns\n".to_owned(),
        ),
    ];
    for (name, content) in files {
        write(&etc.join(name), &content)?;
    }
    for dir in ["ssl", "alternatives", "ca-certificates"] {
        let mount_point = etc.join(dir);
        std::fs::create_dir_all(&mount_point).map_err(Error::io(&mount_point))?;
    }
    Ok(())
}

/// npm's environment for a lifecycle script, and the canary secrets.
fn environment(layout: &Layout, node: &Path, name: &str, version: &str) -> Vec<String> {
    let node_dir = node
        .parent()
        .map_or_else(|| "/usr/bin".to_owned(), |dir| dir.display().to_string());
    // npm puts its own node-gyp on the PATH of the scripts it runs.
    let gyp = npm_node_gyp();
    let node_gyp = gyp
        .as_ref()
        .map(|(dir, _)| format!("{}:", dir.display()))
        .unwrap_or_default();
    let path = format!(
        "{}/first:{}/node_modules/.bin:{}/node_modules/.bin:{node_gyp}{node_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:{}/bin",
        Layout::RECORD_DIR,
        layout.package,
        layout.project,
        Layout::RECORD_DIR
    );
    let mut variables = vec![
        ("HOME", layout.home.clone()),
        ("USER", layout.user.clone()),
        ("LOGNAME", layout.user.clone()),
        ("SHELL", "/bin/sh".to_owned()),
        ("TMPDIR", "/tmp".to_owned()),
        ("LANG", "C.UTF-8".to_owned()),
        ("PATH", path),
        ("INIT_CWD", layout.project.clone()),
        ("npm_command", "install".to_owned()),
        ("npm_package_name", name.to_owned()),
        ("npm_package_version", version.to_owned()),
        (
            "npm_package_json",
            format!("{}/package.json", layout.package),
        ),
        ("npm_node_execpath", node.display().to_string()),
        ("NODE", node.display().to_string()),
        (
            "npm_config_user_agent",
            "npm/10.9.0 node/v22.0.0 linux x64 workspaces/false".to_owned(),
        ),
        // An npm the scripts start (esbuild's fallback installs its platform
        // package) fails at once instead of retrying a registry it cannot reach.
        ("npm_config_offline", "true".to_owned()),
        ("npm_config_fetch_retries", "0".to_owned()),
        ("npm_config_update_notifier", "false".to_owned()),
        ("npm_config_audit", "false".to_owned()),
        ("npm_config_fund", "false".to_owned()),
        // The sink answers HTTPS with a certificate of its own.
        ("NODE_TLS_REJECT_UNAUTHORIZED", "0".to_owned()),
        // A module a script requires that is not there (an undeclared dependency,
        // a file left out of the tarball) is a stub too (`stubs::PRELOAD`).
        (
            "NODE_OPTIONS",
            format!("--require={}/preload.js", Layout::RECORD_DIR),
        ),
    ];
    if let Some((_, script)) = gyp {
        variables.push(("npm_config_node_gyp", script.display().to_string()));
    }
    if layout.windows {
        variables.extend([
            ("APPDATA", format!("{}/AppData/Roaming", layout.home)),
            ("LOCALAPPDATA", format!("{}/AppData/Local", layout.home)),
            ("USERPROFILE", layout.home.clone()),
            ("USERNAME", layout.user.clone()),
            ("COMPUTERNAME", layout.hostname.to_ascii_uppercase()),
            ("OS", "Windows_NT".to_owned()),
            ("ComSpec", format!("{}/bin/cmd.exe", Layout::RECORD_DIR)),
        ]);
    }
    // Node's headers where this Node keeps them: node-gyp configures without
    // downloading them (the sandbox cannot), as on a machine that has them cached.
    if let Some(prefix) = node.parent().and_then(Path::parent)
        && prefix.join("include/node/common.gypi").is_file()
    {
        variables.push(("npm_config_nodedir", prefix.display().to_string()));
    }
    variables.extend(
        home::CANARY_ENV
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned())),
    );
    variables.extend(
        layout
            .variables_set
            .iter()
            .map(|name| (name.as_str(), "1".to_owned())),
    );
    variables
        .into_iter()
        .flat_map(|(key, value)| ["--setenv".to_owned(), key.to_owned(), value])
        .collect()
}

/// npm's own node-gyp, when npm is on this machine's PATH (and, like Node, under a
/// directory the sandbox mounts): the directory npm adds to a script's PATH, and
/// the script its `node-gyp` there runs (`npm_config_node_gyp`).
fn npm_node_gyp() -> Option<(PathBuf, PathBuf)> {
    let npm = locate(Path::new("npm"))?;
    let root = npm.parent()?.parent()?;
    let dir = root.join("node_modules/@npmcli/run-script/lib/node-gyp-bin");
    let script = root.join("node_modules/node-gyp/bin/node-gyp.js");
    (dir.join("node-gyp").is_file() && script.is_file()).then_some((dir, script))
}

/// prlimit's arguments: CPU seconds, writable memory, file size, open files,
/// processes (threads count; the sink's and a script's Node use about ten each),
/// no core dumps.
fn limits(config: &Config) -> Vec<String> {
    vec![
        "prlimit".to_owned(),
        format!("--cpu={}", config.time_limit.as_secs().max(1)),
        // Writable private memory (RLIMIT_DATA), not address space: Node reserves
        // far more address space than it uses (WebAssembly guard regions).
        format!("--data={}", config.memory_mb.saturating_mul(1024 * 1024)),
        format!("--fsize={MAX_FILE_BYTES}"),
        "--nofile=1024".to_owned(),
        format!("--nproc={}", config.max_processes.max(16)),
        "--core=0".to_owned(),
    ]
}

/// The shell file that runs the scripts as npm does: each with `sh -c`, in the
/// package directory, with its event in the environment.
fn runner(layout: &Layout, scripts: &[(String, String)]) -> String {
    let mut text = format!("cd {}\n", quote(&layout.package));
    for (event, script) in scripts {
        let _ = writeln!(
            text,
            "export npm_lifecycle_event={event}\nexport npm_lifecycle_script={}\nsh -c {}",
            quote(script),
            quote(script)
        );
    }
    let _ = writeln!(text, ": > {}/{DONE}", Layout::RECORD_DIR);
    text
}

/// Network tools this system lacks, as stand-ins at the end of the sandbox's PATH:
/// a script that runs `nslookup $(hostname).x.example` is seen running it (with its
/// arguments) wherever it runs, and the lookups go through Node to the sink.
const LOOKUP_TOOLS: [&str; 4] = ["nslookup", "dig", "host", "ping"];
const CONNECT_TOOLS: [&str; 7] = ["nc", "ncat", "netcat", "socat", "telnet", "ftp", "tftp"];
/// `sudo` runs its command (the sandbox's user is its own root; first on PATH, as a
/// real one cannot work here); `forever` and `pm2` start their script detached, as
/// they would on a developer's machine.
const SUDO: &str = "#!/bin/sh\nwhile [ $# -gt 0 ]; do case \"$1\" in -u|-g) shift 2 ;; -*) shift ;; *) break ;; esac; done\nexec \"$@\"\n";
/// Windows' shell, for Node told it runs on Windows (`exec` starts
/// `cmd.exe /d /s /c "command"`): the command goes to `sh`, where what it asks
/// for is seen on the shell's command line.
const CMD: &str = "#!/bin/sh\nwhile [ $# -gt 0 ]; do case \"$1\" in /c|/C) shift; break ;; *) shift ;; esac; done\ncommand=\"$*\"; command=${command#\\\"}; command=${command%\\\"}\nexec sh -c \"$command\"\n";
const DAEMON: &str = "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in *.js|*.mjs|*.cjs) file=\"$a\" ;; esac; done\n[ -n \"$file\" ] && setsid node \"$file\" </dev/null >/dev/null 2>&1 &\nexit 0\n";

fn tools(dir: &Path, node: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let present = |tool: &str| {
        ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .any(|system| Path::new(system).join(tool).exists())
    };
    let lookup = format!(
        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in -*) ;; *) name=\"$a\"; break ;; esac; done\nexec {} -e \"require('dns').lookup(process.argv[1] || '', () => {{}})\" \"$name\"\n",
        quote(&node.display().to_string())
    );
    let tools = LOOKUP_TOOLS
        .iter()
        .map(|tool| (*tool, lookup.as_str()))
        .chain(
            CONNECT_TOOLS
                .iter()
                .map(|tool| (*tool, "#!/bin/sh\nexit 1\n")),
        )
        .chain([("forever", DAEMON), ("pm2", DAEMON), ("cmd.exe", CMD)]);
    for (tool, script) in tools {
        if present(tool) {
            continue;
        }
        let path = dir.join(tool);
        std::fs::write(&path, script).map_err(Error::io(&path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(Error::io(&path))?;
    }
    Ok(())
}

/// `npm install NAME...` run by a script (a second stage's dependencies) makes
/// stubs for those names, as the sandbox has no registry to fetch them from; any
/// other npm command goes to the real npm.
fn npm_stand_in(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let script = format!(
        "#!/bin/sh\n\
         case \"$1\" in\n\
         install|i|add|isntall)\n\
         shift\n\
         for name in \"$@\"; do\n\
         case \"$name\" in -*) continue ;; esac\n\
         name=${{name%@*}}; [ -n \"$name\" ] || continue\n\
         mkdir -p \"node_modules/$name\"\n\
         printf '{{\"name\":\"%s\",\"version\":\"0.0.0-airlock-stub\",\"main\":\"index.js\"}}' \"$name\" > \"node_modules/$name/package.json\"\n\
         case \"$name\" in {arms} *) kind=any ;; esac\n\
         cp \"{record}/stub-$kind.js\" \"node_modules/$name/index.js\"\n\
         done\n\
         exit 0 ;;\n\
         esac\n\
         unset NODE_OPTIONS\n\
         PATH=$(printf '%s' \"$PATH\" | sed 's#^{record}/first:##') exec npm \"$@\"\n",
        record = Layout::RECORD_DIR,
        arms = crate::stubs::KINDS
            .iter()
            .map(|(kind, names)| format!("{}) kind={kind} ;;", names.join("|")))
            .collect::<Vec<_>>()
            .join(" "),
    );
    let path = dir.join("npm");
    std::fs::write(&path, script).map_err(Error::io(&path))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(Error::io(&path))?;
    let sudo = dir.join("sudo");
    std::fs::write(&sudo, SUDO).map_err(Error::io(&sudo))?;
    std::fs::set_permissions(&sudo, std::fs::Permissions::from_mode(0o755))
        .map_err(Error::io(&sudo))?;
    let record = dir.parent().unwrap_or(dir);
    for kind in crate::stubs::kinds() {
        let code = crate::stubs::code(kind);
        let stub = record.join(format!("stub-{kind}.js"));
        std::fs::write(&stub, code).map_err(Error::io(&stub))?;
    }
    let preload = record.join("preload.js");
    std::fs::write(&preload, crate::stubs::preload()).map_err(Error::io(&preload))?;
    Ok(())
}

/// The sandbox's first step: standard input back (bubblewrap closed it after
/// reading the filter), then the sink, which listens on its low ports and runs the
/// traced scripts with every capability dropped for good and no new privileges.
fn boot(node: &Path, strace: &Path) -> String {
    let record = Layout::RECORD_DIR;
    let words = [
        node.display().to_string(),
        format!("{record}/sink.js"),
        record.to_owned(),
        "setpriv".into(),
        "--inh-caps=-all".into(),
        "--ambient-caps=-all".into(),
        "--bounding-set=-all".into(),
        "--no-new-privs".into(),
        "--".into(),
        strace.display().to_string(),
        "-f".into(),
        "-qq".into(),
        "-xx".into(),
        "-y".into(),
        "-s".into(),
        "512".into(),
        "-e".into(),
        format!("trace={TRACED}"),
        "-o".into(),
        format!("{record}/trace"),
        "--".into(),
        "/bin/sh".into(),
        format!("{record}/run.sh"),
    ];
    let command: Vec<String> = words.iter().map(|word| quote(word)).collect();
    format!("exec </dev/null\nexec {}\n", command.join(" "))
}

/// Single-quoted for `sh`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The manifest and the package files the scripts name (`node setup.js`).
fn run_files(layout: &Layout, host_package: &Path, scripts: &[(String, String)]) -> Vec<String> {
    let mut files = vec![format!("{}/package.json", layout.package)];
    for (_, script) in scripts {
        for word in script.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|')) {
            let word = word.trim_start_matches("./");
            if word.is_empty() || word.contains("..") || word.starts_with('-') {
                continue;
            }
            if host_package.join(word).is_file() {
                files.push(format!("{}/{word}", layout.package));
            }
        }
    }
    files
}

fn write(path: &Path, content: &str) -> Result<(), Error> {
    std::fs::write(path, content).map_err(Error::io(path))
}

/// Reads the scripts' stdout and stderr on threads (so a chatty script cannot fill
/// a pipe and stall), keeping the end of each.
fn collect_output(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let tail = |stream: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut stream) = stream {
                let mut buffer = [0u8; 8192];
                while let Ok(read @ 1..) = stream.read(&mut buffer) {
                    kept.extend_from_slice(&buffer[..read]);
                    if kept.len() > MAX_OUTPUT_CHARS * 2 {
                        kept.drain(..kept.len() - MAX_OUTPUT_CHARS);
                    }
                }
            }
            kept
        })
    };
    let out = tail(stdout.map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let err = tail(stderr.map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    std::thread::spawn(move || {
        let mut text = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
        text.push_str(&String::from_utf8_lossy(&err.join().unwrap_or_default()));
        let skip = text.chars().count().saturating_sub(MAX_OUTPUT_CHARS);
        text.chars().skip(skip).collect()
    })
}

/// `tool` as given when it is a path, else found on the PATH; resolved.
fn locate(tool: &Path) -> Option<PathBuf> {
    if tool.components().count() > 1 {
        return tool.is_file().then(|| tool.canonicalize().ok()).flatten();
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .and_then(|found| found.canonicalize().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_are_set_and_the_ordinary_environment_is_not() {
        for gate in [
            "demo",
            "ADBLOCK",
            "XVFB_DISPLAY_NUM",
            "OPEN_SOURCE_CONTRIBUTOR",
        ] {
            assert!(settable(gate), "{gate}");
        }
        for ordinary in [
            "NODE_ENV",
            "npm_config_proxy",
            "HTTPS_PROXY",
            "XDG_CACHE_HOME",
            "SystemDrive",
            "ProgramW6432",
            "PYTHONPATH",
            "RUNNER_DEBUG",
            "DEBUG_NOPT",
            "JEST_WORKER_ID",
            "_ISEXE_TEST_PLATFORM_",
            "WATCH_REPORT_DEPENDENCIES",
            "CI",
            "bad-name",
            "",
        ] {
            assert!(!settable(ordinary), "{ordinary}");
        }
    }

    #[test]
    fn a_package_s_own_settings_are_not_gates() {
        for (variable, package) in [
            ("ESBUILD_BINARY_PATH", "esbuild"),
            ("SENTRYCLI_CDNURL", "@sentry/cli"),
            ("SKIP_INSTALL_SIMPLE_GIT_HOOKS", "simple-git-hooks"),
            ("SASS_BINARY_PATH", "node-sass"),
            ("NX_WORKSPACE_ROOT_PATH", "nx"),
            ("PRISMA_CLI_BINARY_TARGETS", "@prisma/engines"),
            ("LEFTHOOK", "lefthook"),
        ] {
            assert!(own_setting(variable, package), "{variable} for {package}");
        }
        for (variable, package) in [
            ("demo", "font-scrubber"),
            ("ADBLOCK", "core-js"),
            ("UNIX_FLAG", "nx"),
        ] {
            assert!(!own_setting(variable, package), "{variable} for {package}");
        }
    }
}
