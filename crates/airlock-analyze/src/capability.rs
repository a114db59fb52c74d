//! Capabilities: what a package can do, derived from the flow graph, its lifecycle
//! scripts and the files it ships, each with where it happens and how the analysis
//! knows. The table in [`crate::table`] judges them.

use crate::finding::Reach;
use crate::js::apis::SinkKind;
use crate::js::graph::{Graph, Reached};
use crate::js::kinds::{FOREIGN_HOSTS, HOST_DATA, HOSTS, Kind, Mask};
use crate::js::literals::{self, HostClass};
use crate::shell::Behaviour;

/// When the code runs for someone who installs the package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// Only if something calls it: tests, tools, `bin`, files nothing requires.
    Elsewhere,
    /// Inside a function of an imported file: when the importer calls it.
    Call,
    /// At the top level of an imported file: on `require`.
    Load,
    /// During `npm install`.
    Install,
}

impl Stage {
    pub(crate) fn of(reach: Reach, deferred: bool) -> Self {
        match (reach, deferred) {
            (Reach::Install, _) => Self::Install,
            (Reach::Import, false) => Self::Load,
            (Reach::Import, true) => Self::Call,
            (Reach::Elsewhere, _) => Self::Elsewhere,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Install => "at install",
            Self::Load => "when imported",
            Self::Call => "when its function is called",
            Self::Elsewhere => "in code no install or import runs",
        }
    }
}

/// One thing the package can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ability {
    /// Data from the machine reaches the network (or a process given a host).
    Sends {
        data: Mask,
        hosts: Mask,
        via: SinkKind,
        /// The host named, with its class.
        host: Option<(String, HostClass)>,
    },
    /// A network call to a host written in the code, carrying nothing of the machine.
    Contacts {
        hosts: Mask,
        host: Option<(String, HostClass)>,
        via: SinkKind,
    },
    /// What came from the network is run: evaluated, or handed to a process, or
    /// saved and run. `foreign`: the file names a host of the author's choosing.
    RunsFetched { via: SinkKind, foreign: bool },
    /// Literals decoded at runtime are run.
    RunsDecoded { via: SinkKind },
    /// What clients send a server is evaluated: a backdoor.
    RunsReceived,
    /// What users type into a page's forms is sent to a host written in the code.
    SkimsForms { host: Option<(String, HostClass)> },
    /// A file's contents are evaluated (rather than required): code kept as data.
    RunsFileContents,
    /// Writes where code runs again later, or into credential stores and other
    /// applications' files.
    Persists { what: &'static str },
    /// Deletes or overwrites the home directory or the filesystem root.
    Destroys,
    /// Writes or deletes files at paths decoded at runtime: it hides where.
    HidesTarget,
    /// Writes or deletes files in the user's home directory.
    WritesHome,
    /// Writes or deletes files in the user's own folders (the desktop, Documents,
    /// OneDrive): no library's business.
    WritesUserFiles,
    /// Rewrites its own source file: erasing what it did.
    RewritesItself,
    /// Copies credentials, browser, wallet or Discord stores into a file: staging
    /// them to send or archive.
    StagesSecrets { data: Mask },
    /// What a lifecycle script or a command string does.
    Shell(Behaviour),
    /// Ships JavaScript named as a font, an image or a sound: code in disguise.
    DisguisedScript,
    /// Ships an executable file.
    ShipsExecutable {
        format: &'static str,
        /// Code that runs at install or import names it.
        runs: bool,
        prebuild_layout: bool,
        /// Named as a text or script file (`sass.js`, `data.json`): a disguise.
        disguised: bool,
    },
}

/// An ability with its place and its evidence.
#[derive(Clone, Debug)]
pub(crate) struct Capability {
    pub(crate) ability: Ability,
    pub(crate) stage: Stage,
    pub(crate) file: String,
    pub(crate) line: Option<u32>,
    pub(crate) snippet: String,
    /// From source to sink.
    pub(crate) trail: Vec<String>,
    /// Found in a bundle or minified file.
    pub(crate) bundle: bool,
}

impl Capability {
    /// What a shipped file is, found from the file itself (no line, no trail).
    fn of_file(ability: Ability, stage: Stage, path: &str) -> Self {
        Self {
            ability,
            stage,
            file: path.to_owned(),
            line: None,
            snippet: String::new(),
            trail: Vec::new(),
            bundle: false,
        }
    }
}

/// Data worth naming, strongest first: the trail follows the first present.
const DATA_ORDER: [Kind; 14] = [
    Kind::Credential,
    Kind::BrowserData,
    Kind::WalletData,
    Kind::DiscordData,
    Kind::UserFiles,
    Kind::Secret,
    Kind::EnvAll,
    Kind::Clipboard,
    Kind::Identity,
    Kind::SystemFile,
    Kind::Location,
    Kind::PackageMeta,
    Kind::ProcessOutput,
    Kind::FileContents,
];

/// Data a network sink may carry that the rules weigh.
const SENT_DATA: Mask = HOST_DATA.union(Mask::of(&[
    Kind::PackageMeta,
    Kind::ProcessOutput,
    Kind::FileContents,
]));

/// Host classes, strongest first, for naming a destination.
const HOST_ORDER: [Kind; 7] = [
    Kind::HostExfil,
    Kind::HostIpLookup,
    Kind::HostRawIp,
    Kind::HostOther,
    Kind::HostLocal,
    Kind::HostKnown,
    Kind::HostRegistry,
];

/// The capabilities the flow graph shows, sink by sink.
pub(crate) fn from_graph(graph: &Graph<'_>) -> Vec<Capability> {
    let mut found = Vec::new();
    // The commands of each file: a file written and then started by one of them (as
    // the program, or as what an interpreter runs) is run; a file handed to `unzip`
    // or `tar` is only read.
    let mut runners: Vec<(&str, &str)> = Vec::new();
    for reached in graph.sinks() {
        if matches!(reached.site.kind, SinkKind::Exec) {
            runners.push((reached.path, reached.site.target_text.as_str()));
            if let Some(constant) = &reached.site.constant {
                runners.push((reached.path, constant.as_str()));
            }
        }
    }
    let runs = |path: &str, target: &str| {
        let target = target.trim_matches(['"', '\'', '`']);
        !target.is_empty()
            && runners
                .iter()
                .any(|(file, command)| *file == path && starts(command, target))
    };
    for reached in graph.sinks() {
        let site = reached.site;
        let stage = Stage::of(reached.reach, site.in_function);
        let place = |ability: Ability, trail: Vec<String>| Capability {
            ability,
            stage,
            file: reached.path.to_owned(),
            line: Some(site.line),
            snippet: site.snippet.clone(),
            trail,
            bundle: reached.bundle,
        };
        let mask = reached.mask;
        let hosts = mask.meet(HOSTS);
        let data = mask.meet(SENT_DATA);
        // Files written or deleted in the user's home: ordinary for tools on
        // request, telling next to a look-up of where the machine is.
        if matches!(site.kind, SinkKind::FileWrite | SinkKind::FileDelete) {
            let target = graph.target_mask(&reached);
            for (kind, ability) in [
                (Kind::PathUserFiles, Ability::WritesUserFiles),
                (Kind::PathHome, Ability::WritesHome),
                (Kind::PathInHome, Ability::WritesHome),
            ] {
                if target.has(kind) {
                    let mut trail = graph.trail(&reached, kind);
                    trail.push(site.api.clone());
                    found.push(place(ability, trail));
                    break;
                }
            }
            if site.kind == SinkKind::FileWrite
                && matches!(site.target_text.trim(), "__filename" | "process.argv[1]")
            {
                found.push(place(
                    Ability::RewritesItself,
                    vec![format!("{}({})", site.api, site.target_text.trim())],
                ));
            }
        }
        // What users type into a page's forms, sent to a host of the author's
        // choosing: a skimmer. (A form library submits to the page's own backend.)
        if matches!(
            site.kind,
            SinkKind::Http | SinkKind::Socket | SinkKind::PageAddress
        ) && mask.has(Kind::FormInput)
            && hosts.any(FOREIGN_HOSTS)
        {
            let host = destination(graph, &reached, hosts);
            let mut trail = graph.trail(&reached, Kind::FormInput);
            trail.push(sent_to(&reached, host.as_ref()));
            found.push(place(Ability::SkimsForms { host }, trail));
        }
        match site.kind {
            SinkKind::Dns | SinkKind::Http | SinkKind::Socket => {
                let host = destination(graph, &reached, hosts);
                if !data.is_empty() {
                    let trail = trail_to(graph, &reached, data, host.as_ref());
                    found.push(place(
                        Ability::Sends {
                            data,
                            hosts,
                            via: site.kind,
                            host,
                        },
                        trail,
                    ));
                } else if hosts.any(FOREIGN_HOSTS) || hosts.has(Kind::HostLocal) {
                    let trail = host_trail(graph, &reached, hosts);
                    found.push(place(
                        Ability::Contacts {
                            hosts,
                            host,
                            via: site.kind,
                        },
                        trail,
                    ));
                }
            }
            SinkKind::Code | SinkKind::Exec => {
                // Loading a module by a computed name is how plugins load; what
                // reaches `require` counts only when it was decoded in the code.
                let loads_module = site.api == "require";
                // Evaluated, or run as the command (not merely an argument: an
                // editor opened on a requested file is how dev servers work).
                let runs_request = match site.kind {
                    SinkKind::Code => mask.has(Kind::RequestData),
                    _ => graph.target_mask(&reached).has(Kind::RequestData),
                };
                if runs_request && !loads_module {
                    let mut trail = graph.trail(&reached, Kind::RequestData);
                    trail.push(site.api.clone());
                    found.push(place(Ability::RunsReceived, trail));
                }
                if mask.has(Kind::NetworkResponse) && !loads_module {
                    let mut trail = graph.trail(&reached, Kind::NetworkResponse);
                    trail.push(site.api.clone());
                    found.push(place(
                        Ability::RunsFetched {
                            via: site.kind,
                            foreign: reached.names_foreign_host,
                        },
                        trail,
                    ));
                } else if mask.has(Kind::Decoded)
                    && (!loads_module || graph.hops(&reached, Kind::Decoded) <= 3)
                {
                    let mut trail = graph.trail(&reached, Kind::Decoded);
                    trail.push(site.api.clone());
                    found.push(place(Ability::RunsDecoded { via: site.kind }, trail));
                } else if site.kind == SinkKind::Code
                    && mask.has(Kind::FileContents)
                    && !loads_module
                {
                    let mut trail = graph.trail(&reached, Kind::FileContents);
                    trail.push(site.api.clone());
                    found.push(place(Ability::RunsFileContents, trail));
                }
                // A command line assembled from a network tool, host data and a
                // host: `exec('curl -d ' + os.hostname() + ' https://…')`.
                // `spawn('ping', [data + '.x.example'])`: the tool is the command.
                let tool = site
                    .constant
                    .as_deref()
                    .and_then(|command| command.split_whitespace().next())
                    .map(|program| program.rsplit(['/', '\\']).next().unwrap_or(program));
                let network_tool = match tool {
                    Some(program) => literals::is_network_tool(program),
                    None => mask.has(Kind::NetworkTool),
                };
                let dns_tool = tool
                    .is_some_and(|program| matches!(program, "ping" | "nslookup" | "dig" | "host"));
                if site.kind == SinkKind::Exec
                    && network_tool
                    && data.any(HOST_DATA.union(Kind::PackageMeta.bit()))
                    && hosts.any(FOREIGN_HOSTS.union(Kind::HostLocal.bit()))
                {
                    let host = destination(graph, &reached, hosts);
                    let trail = trail_to(graph, &reached, data, host.as_ref());
                    found.push(place(
                        Ability::Sends {
                            data,
                            hosts,
                            via: if dns_tool {
                                SinkKind::Dns
                            } else {
                                SinkKind::Exec
                            },
                            host,
                        },
                        trail,
                    ));
                }
            }
            SinkKind::FileWrite => {
                let taken = mask.meet(Mask::of(&[
                    Kind::Credential,
                    Kind::BrowserData,
                    Kind::WalletData,
                    Kind::DiscordData,
                ]));
                if !taken.is_empty() {
                    let kind = DATA_ORDER
                        .iter()
                        .find(|kind| taken.has(**kind))
                        .copied()
                        .unwrap_or(Kind::Credential);
                    let mut trail = graph.trail(&reached, kind);
                    trail.push(site.api.clone());
                    found.push(place(Ability::StagesSecrets { data: taken }, trail));
                }
                if graph.target_mask(&reached).has(Kind::Decoded) {
                    let mut trail = graph.trail(&reached, Kind::Decoded);
                    trail.push(site.api.clone());
                    found.push(place(Ability::HidesTarget, trail));
                }
                // Written, then run by a command of the same file: a download or a
                // decoded payload dropped and started.
                let foreign_download =
                    mask.has(Kind::NetworkResponse) && !mask.has(Kind::HostRegistry);
                // The command may name the path by another variable: the one the
                // written path was passed from (`download(url, FinalPath)` writes
                // `dest`, then `execFileSync(FinalPath)`).
                let run = (foreign_download || mask.has(Kind::Decoded))
                    && (runs(reached.path, &site.target_text)
                        || graph
                            .target_names(&reached)
                            .iter()
                            .any(|name| name.len() > 1 && runs(reached.path, name)));
                if run {
                    if foreign_download {
                        let mut trail = graph.trail(&reached, Kind::NetworkResponse);
                        trail.push(format!("{} then run", site.api));
                        found.push(place(
                            Ability::RunsFetched {
                                via: SinkKind::FileWrite,
                                foreign: reached.names_foreign_host,
                            },
                            trail,
                        ));
                    } else if mask.has(Kind::Decoded) {
                        let mut trail = graph.trail(&reached, Kind::Decoded);
                        trail.push(format!("{} then run", site.api));
                        found.push(place(
                            Ability::RunsDecoded {
                                via: SinkKind::FileWrite,
                            },
                            trail,
                        ));
                    }
                }
                // Start-up locations (and SSH's authorized keys), and the files of
                // the apps stealers inject into; not config files tools write.
                for (kind, what) in [
                    (
                        Kind::PathPersistence,
                        "a start-up location or an installed application",
                    ),
                    (Kind::PathDiscord, "Discord's files"),
                    (Kind::PathWallet, "a wallet"),
                ] {
                    if mask.has(kind) {
                        let mut trail = graph.trail(&reached, kind);
                        trail.push(site.api.clone());
                        found.push(place(Ability::Persists { what }, trail));
                        break;
                    }
                }
            }
            SinkKind::FileDelete | SinkKind::Chmod
                if graph.target_mask(&reached).has(Kind::Decoded) =>
            {
                let mut trail = graph.trail(&reached, Kind::Decoded);
                trail.push(site.api.clone());
                found.push(place(Ability::HidesTarget, trail));
            }
            SinkKind::FileDelete => {
                let constant_home = site.constant.as_deref().is_some_and(|path| {
                    matches!(path.trim_end_matches(['/', '*']), "" | "~" | "C:" | "C:\\")
                });
                if constant_home || (mask.has(Kind::PathHome) && site.snippet.contains("recursive"))
                {
                    let mut trail = graph.trail(&reached, Kind::PathHome);
                    trail.push(site.api.clone());
                    found.push(place(Ability::Destroys, trail));
                }
            }
            SinkKind::Chmod | SinkKind::PageAddress => {}
        }
        // A command given as a constant is a script of its own; so is a constant
        // written to a file (a batch or shell file dropped to disk).
        let script = match site.kind {
            SinkKind::Exec => site.constant.as_ref(),
            SinkKind::FileWrite => site.content.as_ref(),
            _ => None,
        };
        let forwarded = if site.kind == SinkKind::Exec {
            site.forwarded.as_slice()
        } else {
            &[]
        };
        for command in script.into_iter().chain(forwarded) {
            for (behaviour, text) in crate::shell::behaviours(&crate::shell::parse(command)) {
                found.push(Capability {
                    ability: Ability::Shell(behaviour),
                    stage,
                    file: reached.path.to_owned(),
                    line: Some(site.line),
                    snippet: text,
                    trail: vec![format!(
                        "{}(\"{}\")",
                        site.api,
                        airlock_policy::one_line(command, 80)
                    )],
                    bundle: reached.bundle,
                });
            }
        }
    }
    found.extend(joined_commands(graph));
    found
}

/// The commands one function runs, read as one script: a download saved by one
/// command and started by the next (`exec(download)`, then `exec(start)`) is run,
/// also when the paths and addresses are parameters (`${path}` holes of a
/// template). Only what the commands do together counts here; each command's own
/// behaviours come from the site.
fn joined_commands(graph: &Graph<'_>) -> Vec<Capability> {
    let mut groups: Vec<(&str, Option<u32>, Vec<Reached<'_>>)> = Vec::new();
    for reached in graph.sinks() {
        if reached.site.kind != SinkKind::Exec
            || (reached.site.constant.is_none() && reached.site.template.is_none())
        {
            continue;
        }
        let key = (reached.path, reached.site.owner);
        match groups
            .iter_mut()
            .find(|(path, owner, _)| (*path, *owner) == key)
        {
            Some((_, _, sites)) => sites.push(reached),
            None => groups.push((key.0, key.1, vec![reached])),
        }
    }
    let together = |behaviour: &Behaviour| {
        matches!(
            behaviour,
            Behaviour::DownloadsAndRuns { .. } | Behaviour::RunsEncoded { .. }
        )
    };
    let mut found = Vec::new();
    for (_, _, mut sites) in groups {
        if sites.len() == 1 && sites[0].site.template.is_none() {
            continue;
        }
        sites.sort_by_key(|reached| reached.site.line);
        let commands: Vec<&str> = sites
            .iter()
            .filter_map(|reached| {
                reached
                    .site
                    .constant
                    .as_deref()
                    .or(reached.site.template.as_deref())
            })
            .collect();
        // What a constant command does alone, its site already says.
        let alone: Vec<String> = sites
            .iter()
            .filter_map(|reached| reached.site.constant.as_deref())
            .flat_map(|command| crate::shell::behaviours(&crate::shell::parse(command)))
            .map(|(_, text)| text)
            .collect();
        let joined = commands.join(" ; ");
        for (behaviour, text) in crate::shell::behaviours(&crate::shell::parse(&joined)) {
            if !together(&behaviour) || alone.contains(&text) {
                continue;
            }
            let reached = sites
                .iter()
                .rev()
                .find(|reached| {
                    let command = reached
                        .site
                        .constant
                        .as_deref()
                        .or(reached.site.template.as_deref())
                        .unwrap_or("");
                    text.split_whitespace()
                        .last()
                        .is_some_and(|word| command.contains(word.trim_matches(['"', '\''])))
                })
                .unwrap_or(&sites[sites.len() - 1]);
            found.push(Capability {
                ability: Ability::Shell(behaviour),
                stage: Stage::of(reached.reach, reached.site.in_function),
                file: reached.path.to_owned(),
                line: Some(reached.site.line),
                snippet: text,
                trail: commands
                    .iter()
                    .map(|command| format!("exec(\"{}\")", airlock_policy::one_line(command, 80)))
                    .collect(),
                bundle: reached.bundle,
            });
        }
    }
    found
}

/// Programs that run the file they are given.
const INTERPRETERS: [&str; 16] = [
    "node",
    "sh",
    "bash",
    "zsh",
    "python",
    "python3",
    "perl",
    "ruby",
    "powershell",
    "pwsh",
    "cmd",
    "start",
    "rundll32",
    "wscript",
    "cscript",
    "mshta",
];

/// Whether a command line (program and arguments, as source text) starts `target`:
/// as its program, or as the script an interpreter is given.
fn starts(command: &str, target: &str) -> bool {
    let words: Vec<&str> = command
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '[' | ']' | '(' | ')' | '"' | '\'' | '`')
        })
        .filter(|word| !word.is_empty() && !word.starts_with('-') && *word != "/c" && *word != "/C")
        .collect();
    let Some(program) = words.first() else {
        return false;
    };
    if program.contains(target) {
        return true;
    }
    let name = program
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(program)
        .trim_end_matches(".exe");
    INTERPRETERS.contains(&name) && words[1..].iter().any(|word| word.contains(target))
}

/// The strongest host that reaches a sink.
fn destination(
    graph: &Graph<'_>,
    reached: &Reached<'_>,
    hosts: Mask,
) -> Option<(String, HostClass)> {
    HOST_ORDER
        .iter()
        .filter(|kind| hosts.has(**kind))
        .find_map(|kind| graph.host(reached, *kind))
}

fn trail_to(
    graph: &Graph<'_>,
    reached: &Reached<'_>,
    data: Mask,
    host: Option<&(String, HostClass)>,
) -> Vec<String> {
    let kind = DATA_ORDER
        .iter()
        .find(|kind| data.has(**kind))
        .copied()
        .unwrap_or(Kind::Identity);
    let mut trail = graph.trail(reached, kind);
    trail.push(sent_to(reached, host));
    trail
}

/// The last step of a trail: the sink, and the host it sends to.
fn sent_to(reached: &Reached<'_>, host: Option<&(String, HostClass)>) -> String {
    match host {
        Some((host, class)) => format!(
            "{} to {host} ({})",
            reached.site.api,
            literals::describe_host(*class)
        ),
        None => reached.site.api.clone(),
    }
}

fn host_trail(graph: &Graph<'_>, reached: &Reached<'_>, hosts: Mask) -> Vec<String> {
    let kind = HOST_ORDER
        .iter()
        .find(|kind| hosts.has(**kind))
        .copied()
        .unwrap_or(Kind::HostOther);
    let mut trail = graph.trail(reached, kind);
    trail.push(reached.site.api.clone());
    trail
}

/// The data kinds of a mask, named, strongest first.
pub(crate) fn describe_data(data: Mask) -> String {
    let names: Vec<&str> = DATA_ORDER
        .iter()
        .filter(|kind| data.has(**kind))
        .map(|kind| kind.describe())
        .collect();
    match names.as_slice() {
        [] => "data".to_owned(),
        [one] => (*one).to_owned(),
        [first, rest @ ..] => format!("{first} (and {})", rest.join(", ")),
    }
}

/// A file name that promises text (source, data, documents): an executable under
/// it is hiding.
fn disguised_name(lower_path: &str) -> bool {
    const TEXT: [&str; 14] = [
        ".js", ".cjs", ".mjs", ".ts", ".json", ".css", ".txt", ".md", ".html", ".yml", ".yaml",
        ".map", ".svg", ".xml",
    ];
    TEXT.iter().any(|extension| lower_path.ends_with(extension))
}

/// The scripts a package ships under a media file's name (`fa-solid-400.woff2`
/// holding JavaScript), each when the code or commands that run at install or
/// import name it.
pub(crate) fn from_disguised_scripts(
    archive: &crate::archive::Archive,
    install_strings: &[&str],
    import_strings: &[&str],
) -> Vec<Capability> {
    archive
        .entries
        .iter()
        .filter(|entry| crate::archive::is_disguised_script(entry))
        .map(|entry| {
            let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
            let named = |strings: &[&str]| strings.iter().any(|text| text.contains(name));
            let stage = if named(install_strings) {
                Stage::Install
            } else if named(import_strings) {
                Stage::Load
            } else {
                Stage::Elsewhere
            };
            Capability::of_file(Ability::DisguisedScript, stage, &entry.path)
        })
        .collect()
}

/// The executables a package ships, each with whether the code that runs at
/// install or import names it (`install_strings`, `import_strings`: the string
/// literals and commands of that code) and whether it sits where native builds put
/// their prebuilt files.
pub(crate) fn from_executables(
    archive: &crate::archive::Archive,
    manifest: &crate::manifest::Manifest,
    graph: &Graph<'_>,
    install_strings: &[&str],
    import_strings: &[&str],
) -> Vec<Capability> {
    use crate::archive::FileKind;
    let platform_package = !manifest.os.is_empty() || !manifest.cpu.is_empty();
    let mut found = Vec::new();
    for entry in &archive.entries {
        let format = match entry.kind {
            FileKind::Elf => "ELF",
            FileKind::MachO => "Mach-O",
            FileKind::Windows => "Windows (PE)",
            _ => continue,
        };
        let lower = entry.path.to_ascii_lowercase();
        let prebuild_layout = platform_package
            || lower.ends_with(".node")
            || [
                "prebuilds/",
                "build/release/",
                "build/debug/",
                "lib/binding/",
                "binding/",
                "vendor/",
                "native/",
                "binaries/",
                "bin/linux",
                "bin/darwin",
                "bin/win",
                "bin/mac",
                "napi-v",
                "deps/",
                "third_party/",
            ]
            .iter()
            .any(|layout| lower.contains(layout));
        let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        let named = |strings: &[&str]| {
            name.len() >= 3
                && strings
                    .iter()
                    .any(|text| text.contains(name) || text.contains(entry.path.as_str()))
        };
        // A process started with its name: when that command runs.
        let started = graph
            .sinks()
            .filter(|reached| reached.site.kind == SinkKind::Exec)
            .filter(|reached| {
                reached.site.snippet.contains(name)
                    || reached
                        .site
                        .constant
                        .as_deref()
                        .is_some_and(|command| command.contains(name))
            })
            .map(|reached| Stage::of(reached.reach, reached.site.in_function))
            .max();
        // Imported code that names an executable otherwise usually runs it on
        // request (a clipboard helper, an SSH agent): when its function is called.
        let stage = if let Some(stage) = started.filter(|_| name.len() >= 3) {
            stage
        } else if named(install_strings) {
            Stage::Install
        } else if named(import_strings) {
            Stage::Call
        } else {
            Stage::Elsewhere
        };
        found.push(Capability::of_file(
            Ability::ShipsExecutable {
                format,
                runs: stage != Stage::Elsewhere,
                prebuild_layout,
                disguised: disguised_name(&lower),
            },
            stage,
            &entry.path,
        ));
    }
    found
}
