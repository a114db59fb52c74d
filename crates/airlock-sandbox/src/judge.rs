//! What the sandbox saw, sorted into observations, and the observations judged.
//!
//! Each rule is one function from the observations to findings, listed in `RULES`;
//! `docs/codes.md` describes the codes. The rules are written against what
//! ordinary installers do: esbuild and sharp run node and write into their own
//! directory, puppeteer and cypress download into `~/.cache`, node-gyp reads npm's
//! config. None of that is more than a warning; stolen canaries, beacons to
//! interaction catchers, dropped files that run, and persistence are.

use std::fmt::Write as _;

use airlock_policy::{Code, Confidence, Finding, Reach, Severity};

use crate::home::{Secret, canary};
use crate::trace::{Event, normalise};
use crate::{Layout, Observation};

/// Programs whose only business at install would be moving data over the network.
const NETWORK_TOOLS: &[&str] = &[
    "curl", "wget", "nc", "ncat", "netcat", "socat", "telnet", "ftp", "tftp", "scp", "sftp", "ssh",
    "nslookup", "dig", "host", "ping",
];
/// Hosts no install step needs, by what they are for. The sandbox sees names, not
/// paths, so a service counts by its host (the static analyser also wants a path,
/// such as a webhook's id, because it reads code that may only mention a service).
const UNNEEDED_AT_INSTALL: &[(&str, &str)] = &[
    ("webhook.site", "a request catcher"),
    ("requestbin.net", "a request catcher"),
    ("requestcatcher.com", "a request catcher"),
    ("pipedream.net", "a request catcher"),
    ("beeceptor.com", "a request catcher"),
    ("oastify.com", "an interaction catcher"),
    ("burpcollaborator.net", "an interaction catcher"),
    ("interact.sh", "an interaction catcher"),
    ("oast.fun", "an interaction catcher"),
    ("oast.pro", "an interaction catcher"),
    ("oast.live", "an interaction catcher"),
    ("oast.site", "an interaction catcher"),
    ("oast.online", "an interaction catcher"),
    ("oast.me", "an interaction catcher"),
    ("dnslog.cn", "an interaction catcher"),
    ("ceye.io", "an interaction catcher"),
    ("canarytokens.com", "an interaction catcher"),
    ("pastebin.com", "a paste site"),
    ("paste.ee", "a paste site"),
    ("hastebin.com", "a paste site"),
    ("rentry.co", "a paste site"),
    ("transfer.sh", "a file drop"),
    ("file.io", "a file drop"),
    ("api.telegram.org", "a chat bot API"),
    ("discord.com", "Discord"),
    ("discordapp.com", "Discord"),
    ("cdn.discordapp.com", "Discord's file host"),
    ("hooks.slack.com", "a chat webhook"),
    ("script.google.com", "a script host that receives posts"),
    ("ngrok.io", "a tunnel"),
    ("ngrok-free.app", "a tunnel"),
    ("trycloudflare.com", "a tunnel"),
    ("serveo.net", "a tunnel"),
    ("localtunnel.me", "a tunnel"),
    ("ifconfig.co", "a public-address lookup"),
    ("ifconfig.me", "a public-address lookup"),
    ("ipinfo.io", "a public-address lookup"),
    ("api.ipify.org", "a public-address lookup"),
    ("icanhazip.com", "a public-address lookup"),
    ("checkip.amazonaws.com", "a public-address lookup"),
    ("ip-api.com", "a public-address lookup"),
    ("ipapi.co", "a public-address lookup"),
    ("dns.google", "DNS over HTTPS"),
    ("dns.google.com", "DNS over HTTPS"),
    ("cloudflare-dns.com", "DNS over HTTPS"),
];

/// Programs that tell who and where the machine is.
const IDENTITY_TOOLS: &[&str] = &[
    "whoami",
    "hostname",
    "id",
    "uname",
    "ifconfig",
    "ip",
    "ipconfig",
    "systeminfo",
    "netstat",
];
/// Files that tell who the machine is.
const IDENTITY_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/hostname",
    "/etc/machine-id",
];
const WINDOWS_EXECUTABLES: &[&str] = &[".exe", ".bat", ".cmd", ".ps1", ".scr", ".dll", ".vbs"];
/// Windows' own programs that run or fetch code, named without an extension.
const WINDOWS_TOOLS: &[&str] = &[
    "rundll32",
    "regsvr32",
    "mshta",
    "wscript",
    "cscript",
    "certutil",
    "bitsadmin",
    "powershell",
    "pwsh",
    "schtasks",
    "reg",
    "wmic",
    "msiexec",
    "start-process",
];
/// Programs that keep a process running after the install returns.
const DAEMON_MANAGERS: &[&str] = &["forever", "pm2", "nohup", "setsid", "daemonize", "disown"];
/// Programs that run a file of code given as an argument.
const INTERPRETERS: &[&str] = &[
    "node", "nodejs", "sh", "bash", "dash", "zsh", "python", "python3", "perl", "ruby", "php",
];
const SHELL_PROFILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".config/fish/config.fish",
    ".ssh/authorized_keys",
];
const AUTOSTART_DIRS: &[&str] = &[
    ".config/autostart/",
    ".config/systemd/user/",
    ".local/share/systemd/user/",
];
/// Caches ordinary installers write under the home directory.
const HOME_CACHES: &[&str] = &[".cache/", ".npm/", ".node-gyp/", ".cargo/", ".local/share/"];

/// Sorts the trace's events into what the judgement reads (system libraries and
/// the package's own files opened for reading are left out).
pub(crate) fn observe(events: &[Event], layout: &Layout) -> Vec<Observation> {
    let mut seen = Vec::new();
    let mut push = |observation: Observation| {
        if !seen.contains(&observation) {
            seen.push(observation);
        }
    };
    for event in events {
        match event {
            Event::Resolve { name } => push(Observation::Resolved { name: name.clone() }),
            Event::Connect { address, port, .. } => {
                // The sandbox's own resolver address is how names are seen; the rest
                // of loopback is the sandbox itself.
                if !is_loopback(address) {
                    push(Observation::Connected {
                        address: address.clone(),
                        port: *port,
                    });
                }
            }
            // Port 0 is a client's socket given any port; a server names its own.
            Event::Bind { address, port, .. } if *port != 0 => push(Observation::Listened {
                address: address.clone(),
                port: *port,
            }),
            Event::Open {
                path,
                write: false,
                ok: true,
            } => {
                if let Some(secret) = canary(path, &layout.home) {
                    push(Observation::ReadSecret {
                        path: path.clone(),
                        secret,
                    });
                } else if matches!(
                    path.as_str(),
                    "/etc/passwd" | "/etc/shadow" | "/etc/hostname"
                ) || path.starts_with(&format!("{}/.", layout.home))
                    && !layout.inside_package(path)
                {
                    push(Observation::ReadFile { path: path.clone() });
                }
            }
            Event::Open {
                path, write: true, ..
            } => {
                // The runner's own mark that the scripts returned, and the
                // preload's notes, are not theirs.
                let mark = path == &format!("{}/scripts-done", Layout::RECORD_DIR)
                    || path == &format!("{}/{}", Layout::RECORD_DIR, Layout::LOOKED_FOR);
                if !mark && !Layout::scratch(path) && !layout.inside_package(path) {
                    push(Observation::Wrote { path: path.clone() });
                }
            }
            Event::Delete { path, .. } => {
                if !Layout::scratch(path) {
                    push(Observation::Deleted { path: path.clone() });
                }
            }
            Event::Rename { from, to, .. } => {
                if !(Layout::scratch(from) && Layout::scratch(to)) {
                    push(Observation::Renamed {
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
            }
            Event::Open { ok: false, .. } | Event::Bind { .. } => {}
            Event::ChangeDir { path, .. } => {
                if path.starts_with(crate::sink::ANSWER_RAN) {
                    push(Observation::RanAnswer);
                }
            }
            // The sandbox's own runner (only it: an argument naming the record
            // directory does not hide a command).
            Event::Exec { argv, .. }
                if argv.len() == 2 && argv[1] == format!("{}/run.sh", Layout::RECORD_DIR) => {}
            // A failed start is mostly a PATH search; it counts for the tools that
            // matter even when they are missing here, and outside the system's
            // directories (a dropped file that is not a program here).
            Event::Exec {
                path, ok: false, ..
            } if !suspicious_program(path) && on_search_path(path) => {}
            Event::Exec { path, argv, .. } => push(Observation::Ran {
                path: path.clone(),
                argv: argv.clone(),
            }),
        }
    }
    seen
}

type Rule = fn(&[Observation], &Layout, &Context) -> Vec<Finding>;

/// Facts about the run the rules weigh.
pub(crate) struct Context {
    /// Host names the sandbox's owner trusts (the upstream registry's).
    pub(crate) trusted_hosts: Vec<String>,
    /// Files the package wrote during the run (a dropped file that then runs).
    pub(crate) written: Vec<String>,
    /// Files outside the package, the project and the caches that hold, when the
    /// run ended, what the sink answered a request with: a download kept.
    pub(crate) kept_downloads: Vec<String>,
}

/// The rules, in the order their findings are listed.
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("runtime-credential-read", credentials_read),
    ("runtime-network", network),
    ("runtime-network", sent_canaries),
    ("runtime-network", websockets),
    ("runtime-network", servers),
    ("runtime-network", uploads),
    ("runtime-exec", programs_run),
    ("runtime-exec", shell_commands),
    ("runtime-exec", answer_ran),
    ("runtime-persistence", persistence),
    ("runtime-file-write", files_changed),
    ("runtime-file-write", downloads_kept),
];

pub(crate) fn judge(
    observations: &[Observation],
    layout: &Layout,
    context: &Context,
) -> Vec<Finding> {
    RULES
        .iter()
        .flat_map(|(_, rule)| rule(observations, layout, context))
        .collect()
}

/// A finding about what the install scripts did, graded by `rule`.
pub(crate) fn finding(code: Code, severity: Severity, message: String, rule: &str) -> Finding {
    let mut finding = install_finding(code, severity, message);
    finding.rule = Some(rule.to_owned());
    finding
}

/// A finding about the install scripts' run, seen for certain.
pub(crate) fn install_finding(code: Code, severity: Severity, message: String) -> Finding {
    let mut finding = Finding::new(code, severity, Confidence::High, message);
    finding.reach = Reach::Install;
    finding
}

fn destinations<'a>(observations: &'a [Observation], context: &Context) -> Vec<&'a str> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Resolved { name } => Some(name.as_str()),
            Observation::Connected { address, .. } => Some(address.as_str()),
            _ => None,
        })
        .filter(|destination| !trusted(destination, &context.trusted_hosts))
        .collect()
}

fn trusted(host: &str, trusted: &[String]) -> bool {
    trusted
        .iter()
        .any(|trusted| host == trusted || host.ends_with(&format!(".{trusted}")))
}

/// A canary read: npm's config alone warns (ordinary tools read it); keys, cloud,
/// browser, chat and wallet files quarantine; any of them with a destination
/// outside the sandbox blocks.
fn credentials_read(observations: &[Observation], _: &Layout, context: &Context) -> Vec<Finding> {
    let destinations = destinations(observations, context);
    // npm reads its own configuration: a script that runs npm (esbuild's fallback
    // install, bun's) reads `.npmrc` through it. A token sent anywhere is still
    // seen in what reaches the sink.
    let ran_npm = observations.iter().any(|observation| {
        matches!(observation, Observation::Ran { path, argv }
            if path.ends_with("/npm") || argv.iter().any(|arg| arg.ends_with("/npm") || arg.ends_with("npm-cli.js")))
    });
    let mut kinds: Vec<(Secret, &str)> = Vec::new();
    for observation in observations {
        if let Observation::ReadSecret { path, secret } = observation
            && !(ran_npm && *secret == Secret::NpmConfig)
            && !kinds.iter().any(|(kind, _)| kind == secret)
        {
            kinds.push((*secret, path));
        }
    }
    kinds
        .into_iter()
        .map(|(secret, path)| {
            let npm = secret == Secret::NpmConfig;
            let (severity, rule, tail) = match destinations.first() {
                Some(destination) if !npm => (
                    Severity::Critical,
                    "runtime-credential-then-network",
                    format!(", and contacted {destination}"),
                ),
                Some(destination) => (
                    Severity::High,
                    "runtime-npm-token-then-network",
                    format!(", and contacted {destination}"),
                ),
                None if npm => (Severity::Medium, "runtime-npm-config-read", String::new()),
                None => (Severity::High, "runtime-credential-read", String::new()),
            };
            finding(
                Code::RuntimeCredentialRead,
                severity,
                format!("install scripts read {} ({path}){tail}", secret.describe()),
                rule,
            )
        })
        .collect()
}

/// A name resolved or an address contacted at install: a warning, unless the name
/// carries the machine's identity (a DNS beacon) or belongs to an interaction
/// catcher, paste site or tunnel.
fn network(observations: &[Observation], layout: &Layout, context: &Context) -> Vec<Finding> {
    destinations(observations, context)
        .into_iter()
        .map(|destination| {
            let lower = destination.to_ascii_lowercase();
            let identity = [layout.hostname.as_str(), layout.user.as_str()]
                .iter()
                .flat_map(|fact| [(*fact).to_owned(), hex::encode(fact)])
                .any(|fact| lower.split('.').any(|label| label.contains(&fact)))
                || lower.replace('.', "").contains(&hex::encode(&layout.hostname));
            if identity {
                finding(
                    Code::RuntimeNetwork,
                    Severity::Critical,
                    format!("install scripts sent the machine's identity out in a DNS name: {destination}"),
                    "runtime-identity-beacon",
                )
            } else if let Some(how) = recon(observations) {
                finding(
                    Code::RuntimeNetwork,
                    Severity::High,
                    format!("install scripts {how}, and contacted {destination}"),
                    "runtime-recon-then-network",
                )
            } else if destination.parse::<std::net::IpAddr>().is_ok() {
                finding(
                    Code::RuntimeNetwork,
                    Severity::High,
                    format!("install scripts connected to a bare address, {destination} (no name looked up)"),
                    "runtime-raw-address",
                )
            } else if let Some(registry) = imitates_registry(&lower, &context.trusted_hosts) {
                finding(
                    Code::RuntimeNetwork,
                    Severity::High,
                    format!("install scripts contacted {destination}, a host made to look like the registry's ({registry})"),
                    "runtime-registry-lookalike",
                )
            } else if let Some(label) = names_the_package(&lower, &layout.name) {
                finding(
                    Code::RuntimeNetwork,
                    Severity::High,
                    format!("install scripts looked up {destination}, whose `{label}` names the package itself (a dependency-confusion beacon)"),
                    "runtime-package-beacon",
                )
            } else if let Some(service) = unneeded_at_install(&lower)
                .or_else(|| airlock_analyze::exfiltration_host(&lower))
            {
                finding(
                    Code::RuntimeNetwork,
                    Severity::High,
                    format!("install scripts contacted {destination}, {service}"),
                    "runtime-exfiltration-endpoint",
                )
            } else {
                finding(
                    Code::RuntimeNetwork,
                    Severity::Medium,
                    format!("install scripts contacted {destination}"),
                    "runtime-network",
                )
            }
        })
        .collect()
}

/// The trusted registry host that `host` borrows its name from without being it:
/// the distinctive label of the registry's domain (the one before the top level,
/// five letters or more) inside another domain.
fn imitates_registry<'a>(host: &str, trusted: &'a [String]) -> Option<&'a str> {
    trusted.iter().map(String::as_str).find(|registry| {
        let labels: Vec<&str> = registry.split('.').collect();
        let Some(name) = labels.len().checked_sub(2).map(|at| labels[at]) else {
            return false;
        };
        name.len() >= 5
            && name.chars().all(|c| c.is_ascii_alphabetic())
            && host.contains(name)
            && !trusted_host(host, registry)
    })
}

fn trusted_host(host: &str, trusted: &str) -> bool {
    let domain = trusted.split('.').skip(1).collect::<Vec<_>>().join(".");
    host == trusted || host.ends_with(&format!(".{domain}")) || host == domain
}

/// What a host is for, when no install step needs it.
fn unneeded_at_install(host: &str) -> Option<&'static str> {
    UNNEEDED_AT_INSTALL
        .iter()
        .find(|(service, _)| host == *service || host.ends_with(&format!(".{service}")))
        .map(|(_, what)| *what)
}

/// The subdomain label that carries the package's name with something added
/// (`lolpkg-name.package.x.example`): a host of the package's own (`pkg.example`,
/// `pkg.s3...`) is not one.
fn names_the_package<'a>(host: &'a str, name: &str) -> Option<&'a str> {
    let bare = bare_name(name);
    if bare.len() < 5 {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let subdomains = labels.len().checked_sub(2)?;
    labels[..subdomains]
        .iter()
        .find(|label| label.contains(bare.as_str()) && **label != bare)
        .copied()
}

/// What a recursive `rm` removes outside the package and `/tmp`, if it does.
fn wipe_target(program: &str, argv: &[String], layout: &Layout) -> Option<String> {
    let recursive = argv.iter().skip(1).any(|arg| {
        arg.starts_with('-') && !arg.starts_with("--") && arg.contains(['r', 'R'])
            || arg == "--recursive"
    });
    if program != "rm" || !recursive {
        return None;
    }
    argv.iter()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .map(|arg| {
            let absolute = if arg.starts_with('/') {
                arg.clone()
            } else {
                format!("{}/{arg}", layout.package)
            };
            normalise(&absolute)
        })
        .find(|path| !layout.inside_package(path) && !Layout::scratch(path))
}

/// How the scripts learnt who the machine is, if they did: an identity file read
/// or an identity program run.
fn recon(observations: &[Observation]) -> Option<String> {
    observations
        .iter()
        .find_map(|observation| match observation {
            Observation::ReadFile { path } if IDENTITY_FILES.contains(&path.as_str()) => {
                Some(format!("read {path}"))
            }
            Observation::Ran { path, argv } => {
                let program = path.rsplit('/').next().unwrap_or(path);
                IDENTITY_TOOLS
                    .contains(&program)
                    .then(|| format!("ran `{}`", argv.join(" ")))
            }
            _ => None,
        })
}

/// What reached the sink with canaries in it: the machine's identity or its
/// secrets, sent.
fn sent_canaries(observations: &[Observation], _: &Layout, _: &Context) -> Vec<Finding> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Sent {
                host,
                port,
                secrets,
                ..
            } if !secrets.is_empty() => Some(finding(
                Code::RuntimeNetwork,
                Severity::Critical,
                format!(
                    "install scripts sent {} to {}:{port}",
                    secrets.join(" and "),
                    host.as_deref().unwrap_or("an address")
                ),
                "runtime-sent-canary",
            )),
            _ => None,
        })
        .collect()
}

/// A WebSocket opened at install: the channel of remote-access tools and live
/// stealers; no installer needs one.
fn websockets(observations: &[Observation], _: &Layout, context: &Context) -> Vec<Finding> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Sent {
                host,
                port,
                websocket: true,
                ..
            } if !host
                .as_deref()
                .is_some_and(|host| trusted(host, &context.trusted_hosts)) =>
            {
                Some(finding(
                    Code::RuntimeNetwork,
                    Severity::High,
                    format!(
                        "install scripts opened a WebSocket to {}:{port}",
                        host.as_deref().unwrap_or("an address")
                    ),
                    "runtime-websocket",
                ))
            }
            _ => None,
        })
        .collect()
}

/// Installers download; what sends a body out at install (`POST`, `PUT`) or names
/// the package itself in a query string is reporting on the machine it runs on
/// (telemetry at best, a beacon at worst) and quarantines. The registry is not
/// counted.
fn uploads(observations: &[Observation], layout: &Layout, context: &Context) -> Vec<Finding> {
    let bare = bare_name(&layout.name);
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Sent {
                host,
                request: Some(request),
                ..
            } if !host
                .as_deref()
                .is_some_and(|host| trusted(host, &context.trusted_hosts)) =>
            {
                let to = host.as_deref().unwrap_or("an address");
                let path = request.target.split('?').next().unwrap_or_default();
                let query = request.target.split_once('?').map_or("", |(_, query)| query);
                if request.body > 0 && matches!(request.method.as_str(), "POST" | "PUT" | "PATCH") {
                    Some(finding(
                        Code::RuntimeNetwork,
                        Severity::High,
                        format!(
                            "install scripts sent {} bytes to {to} ({} {path}): installers download, they do not upload",
                            request.body, request.method
                        ),
                        "runtime-upload",
                    ))
                } else if bare.len() >= 4 && query.to_ascii_lowercase().contains(&bare) {
                    Some(finding(
                        Code::RuntimeNetwork,
                        Severity::High,
                        format!("install scripts reported the install to {to}: the query of {path} names the package itself"),
                        "runtime-install-report",
                    ))
                } else {
                    None
                }
            }
            _ => None,
        })
        .collect()
}

/// A server started at install: open to other machines it is a backdoor's shape (a
/// bind shell, a service that evaluates what it is sent) and quarantines; on
/// loopback alone it warns. No installer serves anything.
fn servers(observations: &[Observation], _: &Layout, _: &Context) -> Vec<Finding> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Listened { address, port } if loopback_only(address) => Some(finding(
                Code::RuntimeNetwork,
                Severity::Medium,
                format!("install scripts listened on {address}:{port} (this machine only)"),
                "runtime-listen-local",
            )),
            Observation::Listened { address, port } => Some(finding(
                Code::RuntimeNetwork,
                Severity::High,
                format!("install scripts listened for connections from other machines on port {port} ({address})"),
                "runtime-listen",
            )),
            _ => None,
        })
        .collect()
}

/// Network tools and PowerShell quarantine; a file the scripts wrote and then ran
/// (a dropper) blocks.
fn programs_run(observations: &[Observation], layout: &Layout, context: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for observation in observations {
        let Observation::Ran { path, argv } = observation else {
            continue;
        };
        let program = path.rsplit('/').next().unwrap_or(path);
        let command = argv.join(" ");
        if let Some(dropped) = dropped_file_run(path, argv, layout, context) {
            findings.push(finding(
                Code::RuntimeExec,
                Severity::Critical,
                format!("install scripts wrote {dropped} and then ran it: `{command}`"),
                "runtime-dropped-and-ran",
            ));
        } else if NETWORK_TOOLS.contains(&program)
            && let Some((what, _)) = layout
                .canary_values()
                .into_iter()
                .find(|(_, value)| command.contains(value.as_str()))
        {
            findings.push(finding(
                Code::RuntimeExec,
                Severity::Critical,
                format!(
                    "install scripts ran a network tool with {what} in its arguments: `{command}`"
                ),
                "runtime-tool-sent-identity",
            ));
        } else if NETWORK_TOOLS.contains(&program) {
            findings.push(finding(
                Code::RuntimeExec,
                Severity::High,
                format!("install scripts ran a network tool: `{command}`"),
                "runtime-network-tool",
            ));
        } else if layout.inside_package(path)
            && WINDOWS_EXECUTABLES
                .iter()
                .any(|extension| program.to_ascii_lowercase().ends_with(extension))
        {
            findings.push(finding(
                Code::RuntimeExec,
                Severity::High,
                format!("install scripts tried to run a Windows program the package ships: {path}"),
                "runtime-shipped-windows-program",
            ));
        } else if let Some(target) = wipe_target(program, argv, layout) {
            findings.push(finding(
                Code::RuntimeFileWrite,
                Severity::High,
                format!("install scripts ran `{command}`, removing {target}, outside the package"),
                "runtime-wipe",
            ));
        } else if matches!(program, "shutdown" | "reboot" | "poweroff" | "halt") {
            findings.push(finding(
                Code::RuntimeExec,
                Severity::High,
                format!("install scripts tried to stop the machine: `{command}`"),
                "runtime-power-off",
            ));
        } else if matches!(program, "powershell" | "pwsh" | "powershell.exe") {
            findings.push(finding(
                Code::RuntimeExec,
                Severity::High,
                format!("install scripts ran PowerShell: `{command}`"),
                "runtime-powershell",
            ));
        }
    }
    findings
}

/// The file the scripts wrote outside the package and then ran, as the program or
/// as the script an interpreter was given.
fn dropped_file_run<'a>(
    path: &'a str,
    argv: &'a [String],
    layout: &Layout,
    context: &'a Context,
) -> Option<&'a str> {
    let dropped = |candidate: &str| {
        context.written.iter().find(|written| {
            !layout.built(written)
                && (written.as_str() == candidate
                    || !candidate.starts_with('/')
                        && written.ends_with(&format!("/{}", candidate.trim_start_matches("./"))))
        })
    };
    if let Some(written) = dropped(path) {
        return Some(written.as_str());
    }
    let program = path.rsplit('/').next().unwrap_or(path);
    if !INTERPRETERS.contains(&program) {
        return None;
    }
    argv.iter()
        .skip(1)
        .filter(|argument| !argument.starts_with('-') && !argument.contains(char::is_whitespace))
        .find_map(|argument| dropped(argument))
        .map(String::as_str)
}

/// What the shell was asked to run, word by word: a program named in a script or
/// an `exec()` that this system does not have never starts, so the command line is
/// the only trace of it. Windows programs and daemon managers count.
fn shell_commands(observations: &[Observation], _: &Layout, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for observation in observations {
        let Observation::Ran { path, argv } = observation else {
            continue;
        };
        let shell = path.rsplit('/').next().unwrap_or(path);
        if !matches!(shell, "sh" | "bash" | "dash" | "zsh") {
            continue;
        }
        let Some(script) = argv
            .iter()
            .position(|argument| command_option(argument))
            .and_then(|at| argv.get(at + 1))
        else {
            continue;
        };
        for program in command_words(script) {
            let name = program
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(program)
                .to_ascii_lowercase();
            let stem = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(stem, _)| stem);
            if WINDOWS_EXECUTABLES
                .iter()
                .any(|extension| name.ends_with(extension))
                || WINDOWS_TOOLS.contains(&stem)
            {
                findings.push(finding(
                    Code::RuntimeExec,
                    Severity::High,
                    format!("install scripts asked the shell to run a Windows program, {program}: `{script}`"),
                    "runtime-windows-command",
                ));
            } else if DAEMON_MANAGERS.contains(&name.as_str()) {
                findings.push(finding(
                    Code::RuntimeExec,
                    Severity::High,
                    format!("install scripts started something to keep running after the install ({program}): `{script}`"),
                    "runtime-daemon",
                ));
            } else {
                continue;
            }
            break;
        }
    }
    findings
}

/// A shell option that takes the command line next: `-c`, or `-c` among others
/// (`-ec`, `-lc`, `-xc`).
fn command_option(argument: &str) -> bool {
    argument.strip_prefix('-').is_some_and(|letters| {
        !letters.is_empty()
            && letters.contains('c')
            && letters.chars().all(|letter| letter.is_ascii_alphabetic())
    })
}

/// The first word of each command in a shell line, past variable assignments and
/// `sudo`, `env`, `exec` and `command`.
fn command_words(script: &str) -> Vec<&str> {
    script
        .split(['\n', ';', '&', '|', '(', ')', '`'])
        .filter_map(|command| {
            command
                .split_whitespace()
                .map(|word| word.trim_matches(|c| c == '"' || c == '\''))
                .find(|word| {
                    !word.is_empty()
                        && !word.contains('=')
                        && !matches!(
                            *word,
                            "sudo"
                                | "env"
                                | "exec"
                                | "command"
                                | "then"
                                | "do"
                                | "else"
                                | "if"
                                | "!"
                                | "$"
                                | "start"
                                | "/b"
                                | "/c"
                        )
                })
        })
        .collect()
}

/// The sink answers every request with JavaScript that asks for a directory that
/// does not exist; a script that ran it runs what a server sends it.
fn answer_ran(observations: &[Observation], _: &Layout, _: &Context) -> Vec<Finding> {
    if observations.contains(&Observation::RanAnswer) {
        vec![finding(
            Code::RuntimeExec,
            Severity::Critical,
            "install scripts ran what a server sent them as code (the sandbox's answer to a download was executed)".to_owned(),
            "runtime-ran-download",
        )]
    } else {
        Vec::new()
    }
}

/// Shell profiles, autostart entries, cron, git hooks and anything under `/etc`.
fn persistence(observations: &[Observation], layout: &Layout, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for observation in observations {
        let target = match observation {
            Observation::Wrote { path } | Observation::Renamed { to: path, .. } => path,
            Observation::Ran { path, argv } => {
                let program = path.rsplit('/').next().unwrap_or(path);
                let enables = program == "systemctl" && argv.iter().any(|arg| arg == "enable");
                if program == "crontab" || enables {
                    findings.push(finding(
                        Code::RuntimePersistence,
                        Severity::Critical,
                        format!("install scripts ran `{}`", argv.join(" ")),
                        "runtime-scheduler",
                    ));
                }
                continue;
            }
            _ => continue,
        };
        let in_home = target
            .strip_prefix(&layout.home)
            .and_then(|rest| rest.strip_prefix('/'));
        let persistent = in_home.is_some_and(|relative| {
            SHELL_PROFILES.contains(&relative)
                || AUTOSTART_DIRS.iter().any(|dir| relative.starts_with(dir))
        }) || target.contains("/.git/hooks/")
            || target.starts_with("/etc/")
            || target.starts_with("/var/spool/cron");
        if persistent {
            findings.push(finding(
                Code::RuntimePersistence,
                Severity::Critical,
                format!("install scripts wrote {target}, which runs again later"),
                "runtime-persistence",
            ));
        }
    }
    findings
}

/// Writes outside the package and the caches warn; deleting outside the package,
/// or erasing the package's own manifest or the script that ran, quarantines.
fn files_changed(observations: &[Observation], layout: &Layout, _: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut outside_writes = Vec::new();
    let mut outside_deletes = Vec::new();
    // The package's files the scripts started as programs or handed to an
    // interpreter (`node loader.js`): deleting one after it ran hides what ran.
    let ran_files: Vec<String> = observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Ran { argv, .. } => Some(argv),
            _ => None,
        })
        .flatten()
        .filter(|arg| !arg.starts_with('-'))
        .map(|arg| {
            if arg.starts_with('/') {
                normalise(arg)
            } else {
                normalise(&format!("{}/{arg}", layout.package))
            }
        })
        .filter(|path| layout.inside_package(path) && path != &layout.package)
        .collect();
    for observation in observations {
        match observation {
            Observation::Wrote { path }
                if !in_home_cache(path, layout) && !layout.in_project(path) =>
            {
                outside_writes.push(path.as_str());
            }
            Observation::Deleted { path } => {
                if layout.is_trace_of_run(path) || ran_files.contains(path) {
                    findings.push(finding(
                        Code::RuntimeFileWrite,
                        Severity::High,
                        format!("install scripts erased {path} after running (anti-forensics)"),
                        "runtime-erased-traces",
                    ));
                } else if !layout.inside_package(path)
                    && !layout.in_project(path)
                    && !in_home_cache(path, layout)
                {
                    outside_deletes.push(path.as_str());
                }
            }
            Observation::Renamed { from, to }
                if layout.is_trace_of_run(to) || layout.is_trace_of_run(from) =>
            {
                findings.push(finding(
                    Code::RuntimeFileWrite,
                    Severity::High,
                    format!(
                        "install scripts replaced {to} with {from} after running (anti-forensics)"
                    ),
                    "runtime-erased-traces",
                ));
            }
            _ => {}
        }
    }
    if !outside_deletes.is_empty() {
        findings.push(finding(
            Code::RuntimeFileWrite,
            Severity::High,
            format!(
                "install scripts deleted {} file(s) outside the package: {}",
                outside_deletes.len(),
                shortlist(&outside_deletes)
            ),
            "runtime-delete-outside",
        ));
    }
    if !outside_writes.is_empty() {
        findings.push(finding(
            Code::RuntimeFileWrite,
            Severity::Medium,
            format!(
                "install scripts wrote {} file(s) outside the package: {}",
                outside_writes.len(),
                shortlist(&outside_writes)
            ),
            "runtime-write-outside",
        ));
    }
    findings
}

/// A download saved where no installer keeps one (outside the package, the project
/// and the caches: `~/.coingecko/price`) is a stage waiting for the next: installers
/// download into their own directory or a cache. Quarantines.
fn downloads_kept(_: &[Observation], _: &Layout, context: &Context) -> Vec<Finding> {
    if context.kept_downloads.is_empty() {
        return Vec::new();
    }
    let paths: Vec<&str> = context.kept_downloads.iter().map(String::as_str).collect();
    vec![finding(
        Code::RuntimeFileWrite,
        Severity::High,
        format!(
            "install scripts saved what a server sent them outside the package and the caches: {}",
            shortlist(&paths)
        ),
        "runtime-download-kept",
    )]
}

/// Under one of the caches ordinary installers keep in the home directory
/// (node-gyp's headers, npm's logs, downloaded browsers).
pub(crate) fn in_home_cache(path: &str, layout: &Layout) -> bool {
    path.strip_prefix(&layout.home)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|relative| HOME_CACHES.iter().any(|dir| relative.starts_with(dir)))
}

fn shortlist(paths: &[&str]) -> String {
    let mut list = paths.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if paths.len() > 3 {
        let _ = write!(list, " and {} more", paths.len() - 3);
    }
    list
}

/// Directories a PATH search looks in.
fn on_search_path(path: &str) -> bool {
    [
        "/usr/",
        "/bin/",
        "/sbin/",
        "/lib",
        "/opt/",
        Layout::RECORD_DIR,
    ]
    .iter()
    .any(|dir| path.starts_with(dir))
        || path.contains("/node_modules/.bin/")
}

fn suspicious_program(path: &str) -> bool {
    let program = path.rsplit('/').next().unwrap_or(path);
    NETWORK_TOOLS.contains(&program)
        || matches!(
            program,
            "powershell" | "pwsh" | "powershell.exe" | "shutdown" | "reboot" | "poweroff" | "halt"
        )
}

/// A package's name without its scope, lower-cased.
fn bare_name(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase()
}

/// A bound address only this machine reaches (`0.0.0.0` and `::` are every
/// interface).
fn loopback_only(address: &str) -> bool {
    address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.")
}

/// A connection's address that stays on this machine (connecting to `0.0.0.0` or
/// `::` reaches it too).
fn is_loopback(address: &str) -> bool {
    loopback_only(address) || address == "0.0.0.0" || address == "::"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beacon_names_the_package_in_a_subdomain_a_vendor_host_does_not() {
        assert_eq!(
            names_the_package(
                "lolzettle-bololreact-router-dom.package.0xlupin.com",
                "@zettle-bo/react-router-dom"
            ),
            Some("lolzettle-bololreact-router-dom")
        );
        assert_eq!(names_the_package("download.cypress.io", "cypress"), None);
        assert_eq!(names_the_package("puppeteer.s3.example", "puppeteer"), None);
        assert_eq!(
            names_the_package("cdn.tool.example", "tool"),
            None,
            "too short to tell"
        );
    }

    #[test]
    fn the_shell_line_is_read_command_by_command() {
        assert_eq!(
            command_words("FOO=1 sudo wget -q x && chmod +x .x; ./.x | tee log"),
            vec!["wget", "chmod", "./.x", "tee"]
        );
        assert_eq!(
            command_words("node-gyp rebuild || (cd build && make)"),
            vec!["node-gyp", "cd", "make"]
        );
        assert_eq!(
            command_words("start /b \"payload.exe\""),
            vec!["payload.exe"]
        );
        let ran = |script: &str| {
            let observations = [Observation::Ran {
                path: "/bin/sh".into(),
                argv: vec!["sh".into(), "-c".into(), script.into()],
            }];
            let layout = Layout::new("shape");
            let context = Context {
                trusted_hosts: Vec::new(),
                written: Vec::new(),
                kept_downloads: Vec::new(),
            };
            shell_commands(&observations, &layout, &context)
                .into_iter()
                .filter_map(|finding| finding.rule)
                .collect::<Vec<_>>()
        };
        assert_eq!(ran("dropper.exe"), ["runtime-windows-command"]);
        assert!(command_option("-ec") && command_option("-lc") && command_option("-c"));
        assert!(!command_option("--c") && !command_option("-e") && !command_option("-"));
        assert_eq!(
            ran("C:\\Windows\\System32\\certutil -urlcache x"),
            ["runtime-windows-command"]
        );
        assert_eq!(ran("pm2 start app.js --name cache"), ["runtime-daemon"]);
        for ordinary in [
            "node install.js",
            "node-gyp rebuild",
            "prebuild-install || node-gyp rebuild --release",
            "husky install",
            "node ./scripts/postinstall.js || echo 'skipped'",
            "opencollective-postinstall || exit 0",
            "is-ci || husky",
        ] {
            assert!(ran(ordinary).is_empty(), "{ordinary}");
        }
    }

    #[test]
    fn hosts_borrowing_the_registry_name_are_told_from_it() {
        let trusted = vec!["registry.pkgsite.example".to_owned()];
        assert!(imitates_registry("pkgsiteregister.example", &trusted).is_some());
        assert!(imitates_registry("registry.pkgsite.example", &trusted).is_none());
        assert!(imitates_registry("cdn.pkgsite.example", &trusted).is_none());
        assert!(imitates_registry("github.example", &trusted).is_none());
        assert!(imitates_registry("anything.example", &["127.0.0.1".to_owned()]).is_none());
    }

    #[test]
    fn services_count_by_host_and_subdomain() {
        assert_eq!(
            unneeded_at_install("webhook.site"),
            Some("a request catcher")
        );
        assert_eq!(
            unneeded_at_install("abc.m.pipedream.net"),
            Some("a request catcher")
        );
        assert_eq!(unneeded_at_install("notpastebin.com"), None);
        assert_eq!(unneeded_at_install("github.com"), None);
    }
}
