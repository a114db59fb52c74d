//! The capability table: which combinations of what a package can do, and when it
//! does it, decide. One row per rule, strongest first; a capability is judged by the
//! first row that applies to it. Each row gives a severity for each stage (install,
//! load, call, elsewhere): critical blocks, high quarantines, medium warns.
//!
//! The rows follow one principle (DETECTION-ANCHORS.md: a capability is not a
//! verdict): reading the hostname, making a request, or running a process is
//! ordinary; data from the machine reaching a host written in the code, fetched
//! code being run, or decoded literals being run is not, and less so at install.
//! Registry context (a first version, a look-alike name) raises what content shows
//! and never decides alone.

use std::fmt::Write as _;

use airlock_policy::Code;

use crate::capability::{Ability, Capability, Stage, describe_data};
use crate::finding::{Confidence, Finding, Reach, Severity};
use crate::js::apis::SinkKind;
use crate::js::kinds::{FOREIGN_HOSTS, Kind, Mask};
use crate::js::literals::{self, HostClass};
use crate::shell::Behaviour;

use Severity::{Critical, High, Info, Low, Medium};

/// What the table knows of the package besides the capability.
#[derive(Clone, Debug, Default)]
pub(crate) struct Context<'a> {
    /// Builds or downloads native code at install (node-gyp, prebuilds, binary
    /// installers): fetching from a vendor's host is its job.
    pub(crate) native_build: bool,
    /// Why the package's origin is doubtful (a first version of a new package, a
    /// look-alike name), when it is.
    pub(crate) doubtful_origin: Option<String>,
    /// The previous version of the release line, when the version is compared
    /// with one.
    pub(crate) previous: Option<Before<'a>>,
}

/// The version a release is compared with, as the table weighs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Before<'a> {
    pub(crate) version: &'a str,
    /// Its capabilities ([`signature`]s).
    pub(crate) capabilities: &'a std::collections::BTreeSet<String>,
    /// The capabilities it was itself held for (quarantine or block), with how
    /// firmly. They are not its ordinary behaviour: a second release of the same
    /// payload is held at least as the first was.
    pub(crate) held: &'a std::collections::BTreeMap<String, Severity>,
    /// It had been public long enough to stand for the package's ordinary
    /// behaviour (see [`crate::RegistryContext::previous_settled`]); what it shares
    /// with this version is softened only then.
    pub(crate) settled: bool,
}

/// A capability finding as a version-independent key: its rule and where its data
/// went (the API and the host), not the minified names on the way.
pub(crate) fn signature(finding: &Finding) -> Option<String> {
    let rule = finding.rule.as_ref()?;
    Some(format!(
        "{rule} → {}",
        finding.trail.last().map_or("", String::as_str)
    ))
}

/// One row of the table.
pub(crate) struct Rule {
    pub(crate) id: &'static str,
    pub(crate) code: Code,
    /// Install, load, call, elsewhere.
    pub(crate) severity: [Severity; 4],
    /// What the row catches, for the docs and for reviewers.
    pub(crate) summary: &'static str,
    pub(crate) applies: fn(&Capability, &Context) -> bool,
}

/// The rows, strongest first.
pub(crate) const RULES: &[Rule] = &[
    Rule {
        id: "exfil-credentials",
        code: Code::DataExfiltration,
        severity: [Critical, Critical, Critical, Low],
        summary: "credential files, browser or Discord stores, wallet keys, the user's documents or the clipboard reach the network",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { data, hosts, .. } => {
                let taken = data.meet(Mask::of(&[
                    Kind::Credential,
                    Kind::BrowserData,
                    Kind::WalletData,
                    Kind::DiscordData,
                    Kind::UserFiles,
                    Kind::Clipboard,
                ]));
                // npm's own clients send `.npmrc` tokens to the registry.
                let to_registry = taken == Kind::Credential.bit()
                    && !hosts.is_empty()
                    && hosts.minus(Kind::HostRegistry.bit()).is_empty();
                !taken.is_empty() && !to_registry
            }
            _ => false,
        },
    },
    Rule {
        id: "exfil-form-input",
        code: Code::DataExfiltration,
        // Browser code is often shipped as a bundle nothing imports: it is
        // loaded by a page, so even there it waits for a person.
        severity: [Critical, Critical, Critical, High],
        summary: "what users type into a page's forms (passwords, card numbers) or press on its keyboard is sent to a host written in the code: a skimmer or a keylogger",
        applies: |capability, _| matches!(capability.ability, Ability::SkimsForms { .. }),
    },
    Rule {
        id: "environment-to-raw-ip",
        code: Code::DataExfiltration,
        severity: [Critical, Critical, High, Medium],
        summary: "the whole environment (`process.env`) is sent to a raw IP address or an exfiltration service, even from a function its user calls: no library's job",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { data, hosts, .. } => {
                data.has(Kind::EnvAll) && hosts.any(Mask::of(&[Kind::HostRawIp, Kind::HostExfil]))
            }
            _ => false,
        },
    },
    Rule {
        id: "exfil-environment",
        code: Code::DataExfiltration,
        severity: [Critical, Critical, Medium, Low],
        summary: "the whole environment (`process.env`) reaches the network",
        applies: |capability, _| matches!(&capability.ability, Ability::Sends { data, .. } if data.has(Kind::EnvAll)),
    },
    Rule {
        id: "exfil-secrets",
        code: Code::DataExfiltration,
        severity: [Critical, High, Low, Info],
        summary: "a secret from the environment (`NPM_TOKEN`, `AWS_SECRET_ACCESS_KEY`) is sent at install or load, not by a function its user calls",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { data, hosts, .. } => {
                // A token sent to its own service (a release tool to the forge's
                // API, npm's client to the registry) is its use, not its theft.
                let own_service = !hosts.is_empty()
                    && hosts
                        .minus(Mask::of(&[Kind::HostKnown, Kind::HostRegistry]))
                        .is_empty();
                data.has(Kind::Secret) && !own_service
            }
            _ => false,
        },
    },
    Rule {
        id: "exfil-over-dns",
        code: Code::DataExfiltration,
        severity: [Critical, Critical, High, Low],
        summary: "host data is looked up as part of a DNS name under a domain written in the code",
        applies: |capability, _| match &capability.ability {
            Ability::Sends {
                data,
                hosts,
                via: SinkKind::Dns,
                ..
            } => {
                data.any(Mask::of(&[
                    Kind::Identity,
                    Kind::Location,
                    Kind::SystemFile,
                    Kind::ProcessOutput,
                    Kind::PackageMeta,
                ])) && hosts.any(FOREIGN_HOSTS.union(Kind::HostLocal.bit()))
            }
            _ => false,
        },
    },
    Rule {
        id: "exfil-host-identity",
        code: Code::DataExfiltration,
        severity: [Critical, Critical, Medium, Info],
        summary: "who and which machine it is (hostname, user, home, interfaces, system files) is sent to a host written in the code",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { data, hosts, .. } => {
                data.any(Mask::of(&[Kind::Identity, Kind::SystemFile]))
                    && hosts.any(FOREIGN_HOSTS.union(Kind::HostLocal.bit()))
            }
            _ => false,
        },
    },
    Rule {
        id: "identity-to-source-host",
        code: Code::DataExfiltration,
        severity: [Critical, High, Low, Info],
        summary: "who and which machine it is is sent to source hosting (an issue comment or a gist is a drop box too) as it installs or loads",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { data, hosts, .. } => {
                data.any(Mask::of(&[Kind::Identity, Kind::SystemFile]))
                    && hosts.has(Kind::HostKnown)
            }
            _ => false,
        },
    },
    Rule {
        id: "sends-to-exfil-service",
        code: Code::NetworkAccess,
        severity: [Critical, Critical, High, Low],
        summary: "a request catcher, OAST service, tunnel, paste site, file drop or chat webhook is contacted",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { hosts, .. } | Ability::Contacts { hosts, .. } => {
                hosts.has(Kind::HostExfil)
            }
            Ability::Shell(Behaviour::Contacts {
                class: HostClass::Exfil(_),
                ..
            }) => true,
            _ => false,
        },
    },
    Rule {
        id: "recon-beacon",
        code: Code::DataExfiltration,
        severity: [High, Medium, Low, Info],
        summary: "where it is installed and what it is (working directory, package name and version, command output, files) is sent to a host written in the code",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { data, hosts, .. } => {
                data.any(Mask::of(&[
                    Kind::Location,
                    Kind::PackageMeta,
                    Kind::ProcessOutput,
                    Kind::FileContents,
                ])) && hosts.any(FOREIGN_HOSTS)
            }
            _ => false,
        },
    },
    Rule {
        id: "fetch-and-run",
        code: Code::DownloadExecute,
        severity: [Critical, Critical, High, Low],
        summary: "what comes from a host written in the code is evaluated, handed to a process, or saved and run",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::RunsFetched { foreign: true, .. }
            )
        },
    },
    Rule {
        id: "runs-received",
        code: Code::DownloadExecute,
        severity: [High, High, Medium, Info],
        summary: "what comes from the network (a host the code does not name: a daemon's socket, a configured server) is evaluated or handed to a process",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::RunsFetched { foreign: false, .. }
            )
        },
    },
    Rule {
        id: "evaluates-requests",
        code: Code::DownloadExecute,
        severity: [Critical, Critical, High, Low],
        summary: "what clients send a server (headers, body, cookies) is evaluated as code or run as a command: a backdoor",
        applies: |capability, _| matches!(capability.ability, Ability::RunsReceived),
    },
    Rule {
        id: "decode-and-run",
        code: Code::ObfuscatedCode,
        severity: [Critical, High, Medium, Info],
        summary: "literals decoded at runtime (base64, hex, reversed, character codes) are evaluated or run as a command",
        applies: |capability, _| matches!(capability.ability, Ability::RunsDecoded { .. }),
    },
    Rule {
        id: "stages-secrets",
        code: Code::CredentialAccess,
        severity: [Critical, High, Medium, Info],
        summary: "credential files, browser, wallet or Discord stores are copied into a file (staged to send or archive)",
        applies: |capability, _| matches!(capability.ability, Ability::StagesSecrets { .. }),
    },
    Rule {
        id: "decoded-file-target",
        code: Code::ObfuscatedCode,
        severity: [Critical, High, Medium, Low],
        summary: "writes or deletes files at paths decoded at runtime: it hides where it acts",
        applies: |capability, _| matches!(capability.ability, Ability::HidesTarget),
    },
    Rule {
        id: "evaluates-file",
        code: Code::DynamicCode,
        severity: [High, Low, Info, Info],
        summary: "a file's contents are evaluated as code rather than required: code hidden in data",
        applies: |capability, _| matches!(capability.ability, Ability::RunsFileContents),
    },
    Rule {
        id: "persistence",
        code: Code::SensitiveFileAccess,
        severity: [Critical, Critical, Medium, Low],
        summary: "writes to a start-up location, a credential store, or another application's files",
        applies: |capability, _| matches!(capability.ability, Ability::Persists { .. }),
    },
    Rule {
        id: "destroys-home",
        code: Code::Sabotage,
        severity: [Critical, Critical, High, Low],
        summary: "deletes the home directory, the filesystem root, or the project the package is installed in (`../..`)",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Destroys | Ability::Shell(Behaviour::Wipes { .. })
            )
        },
    },
    Rule {
        id: "powers-off",
        code: Code::Sabotage,
        severity: [Critical, Critical, Medium, Low],
        summary: "shuts the machine down or restarts it",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::PowersOff { .. })
            )
        },
    },
    Rule {
        id: "writes-user-files",
        code: Code::Sabotage,
        severity: [High, High, Low, Info],
        summary: "writes or deletes files in the user's desktop, Documents, Pictures or OneDrive folders as it installs or loads",
        applies: |capability, _| matches!(capability.ability, Ability::WritesUserFiles),
    },
    Rule {
        id: "rewrites-itself",
        code: Code::SelfDeletion,
        severity: [High, High, Medium, Info],
        summary: "rewrites its own source file: the code that ran is gone when someone looks",
        applies: |capability, _| matches!(capability.ability, Ability::RewritesItself),
    },
    Rule {
        id: "shell-exfil",
        code: Code::DataExfiltration,
        severity: [Critical, Critical, High, Low],
        summary: "a shell command sends host data (substituted commands, identity variables, uploaded files) with a network tool",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::Exfiltrates { .. })
            )
        },
    },
    Rule {
        id: "shell-fetch-and-run",
        code: Code::DownloadExecute,
        severity: [Critical, Critical, High, Low],
        summary: "a shell command pipes a download into a shell, or saves a download and runs it",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::DownloadsAndRuns { .. })
            )
        },
    },
    Rule {
        id: "shell-encoded",
        code: Code::ObfuscatedCode,
        severity: [Critical, Critical, High, Low],
        summary: "a shell command runs an encoded command (`base64 -d | sh`, `powershell -enc`)",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::RunsEncoded { .. })
            )
        },
    },
    Rule {
        id: "shell-publishes",
        code: Code::SelfPropagation,
        severity: [Critical, High, Medium, Info],
        summary: "a shell command publishes packages",
        applies: |capability, _| matches!(capability.ability, Ability::Shell(Behaviour::Publishes)),
    },
    Rule {
        id: "shell-installs-globally",
        code: Code::DownloadExecute,
        severity: [High, High, Medium, Info],
        summary: "a shell command installs packages into the machine's global prefix (`npm install -g x`): a dependency that fetches, installs and runs other packages (their own install scripts) and puts programs on the user's path",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::InstallsGlobally { .. })
            )
        },
    },
    Rule {
        id: "runs-shipped-executable",
        code: Code::BundledExecutable,
        severity: [Critical, High, Medium, Info],
        summary: "an executable the package ships (outside a native-build layout, in a package that builds or fetches no native code) is run",
        applies: |capability, context| {
            !context.native_build
                && matches!(
                    capability.ability,
                    Ability::ShipsExecutable {
                        runs: true,
                        prebuild_layout: false,
                        ..
                    }
                )
        },
    },
    Rule {
        id: "shell-lolbin",
        code: Code::ProcessSpawn,
        severity: [High, High, Medium, Info],
        summary: "a Windows binary that runs other code (rundll32, mshta, regsvr32, …) is started",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::LivingOffTheLand { .. })
            )
        },
    },
    Rule {
        id: "ip-lookup",
        code: Code::NetworkAccess,
        severity: [High, Medium, Low, Info],
        summary: "a service that tells the machine's public address and place is asked",
        applies: |capability, _| match &capability.ability {
            Ability::Sends { hosts, .. } | Ability::Contacts { hosts, .. } => {
                hosts.has(Kind::HostIpLookup)
            }
            Ability::Shell(Behaviour::Contacts {
                class: HostClass::IpLookup,
                ..
            }) => true,
            _ => false,
        },
    },
    Rule {
        id: "install-contacts-host",
        code: Code::NetworkAccess,
        severity: [High, Info, Info, Info],
        summary: "an install script contacts a host written in the code, in a package that builds or downloads no native code",
        applies: |capability, context| {
            let foreign = Mask::of(&[Kind::HostOther, Kind::HostRawIp]);
            !context.native_build
                && match &capability.ability {
                    Ability::Sends { hosts, .. } | Ability::Contacts { hosts, .. } => {
                        hosts.any(foreign)
                    }
                    Ability::Shell(Behaviour::Contacts { class, .. }) => {
                        matches!(class, HostClass::Other | HostClass::RawIp)
                    }
                    _ => false,
                }
        },
    },
    Rule {
        id: "shell-network-tool",
        code: Code::NetworkAccess,
        severity: [Medium, Low, Info, Info],
        summary: "a shell command uses a network tool",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::Shell(Behaviour::UsesNetworkTool { .. } | Behaviour::Contacts { .. })
            )
        },
    },
    Rule {
        id: "shell-reads-accounts",
        code: Code::CredentialAccess,
        severity: [High, Medium, Low, Info],
        summary: "a shell command prints the machine's accounts or credential files (`cat /etc/passwd`, `cat ~/.npmrc`): no install has a use for them",
        applies: |capability, _| {
            matches!(&capability.ability, Ability::Shell(Behaviour::Recon { command })
                if crate::shell::reads_accounts(command))
        },
    },
    Rule {
        id: "shell-recon",
        code: Code::CredentialAccess,
        severity: [Medium, Low, Info, Info],
        summary: "a shell command prints who or where the machine is",
        applies: |capability, _| {
            matches!(capability.ability, Ability::Shell(Behaviour::Recon { .. }))
        },
    },
    Rule {
        id: "shell-hides",
        code: Code::ProcessSpawn,
        severity: [Medium, Low, Info, Info],
        summary: "a shell command detaches or hides what it starts",
        applies: |capability, _| {
            matches!(capability.ability, Ability::Shell(Behaviour::Hides { .. }))
        },
    },
    Rule {
        id: "writes-home",
        code: Code::SensitiveFileAccess,
        severity: [Low, Low, Info, Info],
        summary: "writes or deletes files in the user's home directory (weighed with other capabilities)",
        applies: |capability, _| matches!(capability.ability, Ability::WritesHome),
    },
    Rule {
        id: "disguised-script",
        code: Code::ObfuscatedCode,
        severity: [Critical, Critical, High, High],
        summary: "ships JavaScript under a font's, an image's or a sound's name (`fa-solid-400.woff2`): code that hides from reviewers and scanners",
        applies: |capability, _| matches!(capability.ability, Ability::DisguisedScript),
    },
    Rule {
        id: "disguised-executable",
        code: Code::BundledExecutable,
        severity: [High, High, Medium, Medium],
        summary: "ships an executable named as a text or script file (`sass.js`, `data.json`): a disguise, not a layout",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::ShipsExecutable {
                    disguised: true,
                    ..
                }
            )
        },
    },
    Rule {
        id: "ships-executable",
        code: Code::BundledExecutable,
        severity: [Low, Low, Low, Info],
        summary: "ships an executable outside a native-build layout",
        applies: |capability, _| {
            matches!(
                capability.ability,
                Ability::ShipsExecutable {
                    prebuild_layout: false,
                    ..
                }
            )
        },
    },
];

/// The table as Markdown, for `docs/detection-rules.md`.
pub fn markdown() -> String {
    let name = |severity: Severity| match severity {
        Critical => "block",
        High => "quarantine",
        Medium => "warn",
        Low | Info => "allow",
    };
    let mut out = String::from(
        "| rule | code | install | import (load) | import (call) | elsewhere | what it catches |\n|---|---|---|---|---|---|---|\n",
    );
    for rule in RULES {
        let [install, load, call, elsewhere] = rule.severity;
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} | {} | {} |",
            rule.id,
            rule.code,
            name(install),
            name(load),
            name(call),
            name(elsewhere),
            rule.summary
        );
    }
    out.push_str("\n| combination | when both | and | raised to | why |\n|---|---|---|---|---|\n");
    for combination in COMBINATIONS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            combination.id,
            combination
                .first
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", "),
            combination
                .second
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", "),
            name(combination.severity),
            combination.summary
        );
    }
    out.push_str("\n| file rule | what it flags in one file (severity by reach, softened in bundles) |\n|---|---|\n");
    for rule in &crate::js::rules::FILE_RULES {
        let _ = writeln!(out, "| `{}` | {} |", rule.id, rule.summary);
    }
    out
}

fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::Install => 0,
        Stage::Load => 1,
        Stage::Call => 2,
        Stage::Elsewhere => 3,
    }
}

fn reach_of(stage: Stage) -> Reach {
    match stage {
        Stage::Install => Reach::Install,
        Stage::Load | Stage::Call => Reach::Import,
        Stage::Elsewhere => Reach::Elsewhere,
    }
}

/// Rows that together say more than either alone: when a package does both, at
/// least as a warning each and not only in code nothing runs, both are raised to
/// the combination's severity.
pub(crate) struct Combination {
    pub(crate) id: &'static str,
    pub(crate) first: &'static [&'static str],
    pub(crate) second: &'static [&'static str],
    pub(crate) severity: Severity,
    pub(crate) summary: &'static str,
}

pub(crate) const COMBINATIONS: &[Combination] = &[
    Combination {
        id: "persists-and-phones-home",
        first: &["persistence"],
        second: &[
            "exfil-host-identity",
            "recon-beacon",
            "sends-to-exfil-service",
            "ip-lookup",
            "exfil-credentials",
            "exfil-environment",
        ],
        severity: Critical,
        summary: "plants itself to run again and sends data about the machine out: a backdoor",
    },
    Combination {
        id: "geolocates-and-destroys",
        first: &["ip-lookup"],
        second: &[
            "destroys-home",
            "persistence",
            "writes-home",
            "writes-user-files",
            "decoded-file-target",
        ],
        severity: Critical,
        summary: "looks up where the machine is and deletes or plants files: targeted sabotage",
    },
];

/// The findings of the capabilities: one per capability that a row applies to,
/// raised a step at install when the package's origin is doubtful, then raised by
/// the combinations that hold.
pub(crate) fn judge(capabilities: &[Capability], context: &Context<'_>) -> Vec<Finding> {
    let mut findings = judge_each(capabilities, context);
    for combination in COMBINATIONS {
        // Both halves in one file: one module that does both, not two features of
        // a large tool.
        let counts = |finding: &Finding, ids: &[&str]| {
            finding.severity >= Low
                && !finding.established
                && finding.reach != Reach::Elsewhere
                && finding
                    .rule
                    .as_deref()
                    .is_some_and(|rule| ids.contains(&rule))
        };
        let files: Vec<Option<String>> = findings
            .iter()
            .filter(|first| counts(first, combination.first))
            .filter(|first| {
                // One half at least a warning on its own.
                findings.iter().any(|second| {
                    second.file == first.file
                        && counts(second, combination.second)
                        && (first.severity >= Medium || second.severity >= Medium)
                })
            })
            .map(|first| first.file.clone())
            .collect();
        for finding in &mut findings {
            let member = files.contains(&finding.file)
                && finding.rule.as_deref().is_some_and(|rule| {
                    combination.first.contains(&rule) || combination.second.contains(&rule)
                });
            if member
                && !finding.established
                && finding.severity >= Low
                && finding.severity < combination.severity
                && finding.reach != Reach::Elsewhere
            {
                finding.severity = combination.severity;
                let _ = write!(
                    finding.message,
                    " ({}: {})",
                    combination.id, combination.summary
                );
            }
        }
    }
    findings
}

/// Each capability by its row, then weighed by the previous version's capabilities:
/// what the package did before, and was not held for, is its ordinary behaviour,
/// one step milder; what the release adds (a trojanised library's new exfiltration)
/// one step stronger, unless it sits in a bundle where the flow is least sure.
/// What the previous version was held for is held at least as firmly again;
/// a predecessor published too shortly before softens nothing.
fn judge_each(capabilities: &[Capability], context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (mut finding, softened) in judge_rows(capabilities, context) {
        if let Some(Before {
            version,
            capabilities: before,
            held,
            settled,
        }) = context.previous
            && !before.is_empty()
            && finding.severity >= Medium
            && finding.reach != Reach::Elsewhere
            && let Some(key) = signature(&finding)
        {
            if let Some(&was) = held.get(&key) {
                finding.severity = finding.severity.max(was);
                let _ = write!(finding.message, " (as in {version}, which was held for it)");
            } else if before.contains(&key) && !settled {
                let _ = write!(
                    finding.message,
                    " (as in {version}, published too shortly before to vouch for it)"
                );
            } else if before.contains(&key) {
                finding.severity = match finding.severity {
                    Critical => High,
                    High => Medium,
                    _ => Low,
                };
                finding.established = true;
                let _ = write!(finding.message, " (as in {version})");
            } else if !softened && finding.severity < Critical {
                finding.severity = if finding.severity == High {
                    Critical
                } else {
                    High
                };
                let _ = write!(finding.message, " (new since {version})");
            }
        }
        findings.push(finding);
    }
    findings
}

fn judge_rows(capabilities: &[Capability], context: &Context<'_>) -> Vec<(Finding, bool)> {
    let mut findings = Vec::new();
    for capability in capabilities {
        let Some(rule) = RULES
            .iter()
            .find(|rule| (rule.applies)(capability, context))
        else {
            continue;
        };
        let mut severity = rule.severity[stage_index(capability.stage)];
        // In a bundle, everything is one file and the flow joins more than the code
        // does; what runs only when a function is called weighs at most a warning.
        let softened = capability.bundle && capability.stage == Stage::Call && severity > Medium;
        if softened {
            severity = Medium;
        }
        let mut message = format!(
            "{} {}",
            describe(&capability.ability),
            capability.stage.describe()
        );
        if capability.stage == Stage::Install
            && severity == High
            && let Some(origin) = &context.doubtful_origin
        {
            severity = Critical;
            let _ = write!(message, ", in {origin}");
        }
        let mut finding = Finding::new(rule.code, severity, Confidence::High, message)
            .at(&capability.file, capability.line, &capability.snippet)
            .reach(reach_of(capability.stage));
        finding.rule = Some(rule.id.to_owned());
        finding.deferred = capability.stage == Stage::Call;
        finding.trail.clone_from(&capability.trail);
        findings.push((finding, softened));
    }
    findings
}

/// What an ability is, in words.
fn describe(ability: &Ability) -> String {
    let to = |host: &Option<(String, HostClass)>| match host {
        Some((host, class)) => format!(" to `{host}` ({})", literals::describe_host(*class)),
        None => String::new(),
    };
    match ability {
        Ability::Sends {
            data, via, host, ..
        } => {
            let how = match via {
                SinkKind::Dns => " in a DNS lookup",
                SinkKind::Exec => " through a command line",
                SinkKind::Socket => " over a socket",
                _ => "",
            };
            format!("sends {}{}{how}", describe_data(*data), to(host))
        }
        Ability::Contacts { host, via, .. } => format!("makes {}{}", via.describe(), to(host)),
        Ability::RunsFetched { via, .. } => match via {
            SinkKind::Code => "evaluates code it downloads".to_owned(),
            SinkKind::FileWrite => "saves a download and runs processes".to_owned(),
            _ => "hands what it downloads to a process".to_owned(),
        },
        Ability::RunsDecoded { via } => match via {
            SinkKind::Exec => "runs a command decoded at runtime".to_owned(),
            SinkKind::FileWrite => {
                "writes code decoded at runtime to a file and runs processes".to_owned()
            }
            _ => "evaluates code decoded at runtime".to_owned(),
        },
        Ability::RunsReceived => "evaluates or runs what clients send it".to_owned(),
        Ability::SkimsForms { host } => format!("sends what users type into forms{}", to(host)),
        Ability::RunsFileContents => "evaluates the contents of a file".to_owned(),
        Ability::Persists { what } => format!("writes to {what}"),
        Ability::Destroys => "deletes the home directory or the root".to_owned(),
        Ability::HidesTarget => "writes or deletes files at paths decoded at runtime".to_owned(),
        Ability::WritesHome => "writes or deletes files in the home directory".to_owned(),
        Ability::WritesUserFiles => {
            "writes or deletes files in the user's desktop or documents".to_owned()
        }
        Ability::RewritesItself => "rewrites its own source file".to_owned(),
        Ability::StagesSecrets { data } => format!("copies {} into a file", describe_data(*data)),
        Ability::Shell(behaviour) => match behaviour {
            Behaviour::Exfiltrates { tool, what, dns } => {
                format!(
                    "sends {what} with `{tool}`{}",
                    if *dns { " as a DNS name" } else { "" }
                )
            }
            Behaviour::DownloadsAndRuns { tool } if tool.starts_with("a saved") => {
                "runs a file it downloaded".to_owned()
            }
            Behaviour::DownloadsAndRuns { tool } => format!("runs what `{tool}` downloads"),
            Behaviour::Contacts { tool, host, class } => {
                format!(
                    "runs `{tool}` against `{host}` ({})",
                    literals::describe_host(*class)
                )
            }
            Behaviour::UsesNetworkTool { tool } => format!("runs `{tool}`"),
            Behaviour::RunsEncoded { how } => format!("runs {how}"),
            Behaviour::Recon { command } => format!("runs `{command}`"),
            Behaviour::RunsFile { path, .. } => format!("runs `{path}`"),
            Behaviour::LivingOffTheLand { tool } => format!("starts `{tool}`"),
            Behaviour::Wipes { target } => format!("deletes `{target}` recursively"),
            Behaviour::PowersOff { command } => format!("turns the machine off (`{command}`)"),
            Behaviour::Publishes => "runs `npm publish`".to_owned(),
            Behaviour::InstallsGlobally { packages } => {
                format!("installs `{packages}` globally")
            }
            Behaviour::Hides { how } => format!("hides what it starts ({how})"),
        },
        Ability::DisguisedScript => {
            "ships JavaScript named as a font, an image or a sound".to_owned()
        }
        Ability::ShipsExecutable { format, runs, .. } => {
            if *runs {
                format!("runs a shipped {format} executable")
            } else {
                format!("ships a {format} executable")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|rule| rule.id).collect();
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count);
        assert!(
            ids.iter()
                .all(|id| id.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
    }
}
