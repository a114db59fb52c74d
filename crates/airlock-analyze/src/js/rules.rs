//! From a file's facts to findings, weighed by where the file runs.
//!
//! The same call means more in an install script than in a library function, and
//! less again in a minified vendor bundle, where `eval`, computed `require` and long
//! literals are ordinary. Each rule is a function that names its severity for the
//! three reaches, listed in [`FILE_RULES`] (and in `docs/detection-rules.md`); the
//! package-level pass then escalates when several strong signals meet.

use airlock_policy::Code;

use crate::Indicators;
use crate::finding::{Confidence, Finding, Reach, Severity};
use crate::js::scan::{FileFacts, Site};
use crate::js::strings;

use Severity::{Critical, High, Info, Low, Medium};

pub(crate) struct FileContext<'a> {
    pub(crate) path: &'a str,
    pub(crate) reach: Reach,
    /// A minified or generated bundle: judged as a bundle, not as obfuscation.
    pub(crate) bundle: bool,
    pub(crate) indicators: &'a Indicators,
    /// The package's name, as its manifest gives it.
    pub(crate) package: &'a str,
}

/// A severity for each reach: (install, import, elsewhere).
#[derive(Clone, Copy)]
struct ByReach(Severity, Severity, Severity);

impl FileContext<'_> {
    fn severity(&self, by: ByReach) -> Severity {
        match self.reach {
            Reach::Install => by.0,
            Reach::Import => by.1,
            Reach::Elsewhere => by.2,
        }
    }

    /// Bundles are full of what would be odd in hand-written code; outside install
    /// scripts, soften rules that bundlers trigger.
    fn bundle_softened(&self, severity: Severity) -> Severity {
        if self.bundle && self.reach != Reach::Install {
            match severity {
                Critical => High,
                High => Medium,
                Medium | Low | Info => Info,
            }
        } else {
            severity
        }
    }

    fn finding(
        &self,
        code: Code,
        severity: Severity,
        confidence: Confidence,
        message: String,
        site: Option<&Site>,
    ) -> Finding {
        let (line, text) = site.map_or((None, ""), |site| (Some(site.line), site.text.as_str()));
        Finding::new(code, severity, confidence, message)
            .at(self.path, line, text)
            .reach(self.reach)
    }
}

/// Kinds of credential store one file names before it reads as a harvester.
const HARVEST_LIST: usize = 5;

/// How many kinds of secret token a file's patterns must find to be a harvester's.
const TOKEN_LIST: usize = 3;

/// One file as the rules see it: its facts and where it runs.
pub(crate) struct Subject<'a> {
    facts: &'a FileFacts,
    context: &'a FileContext<'a>,
}

impl Subject<'_> {
    /// It decodes strings (base64, hex, a cipher).
    fn decodes(&self) -> bool {
        !self.facts.decoders.is_empty()
    }

    /// Literals that decode to something telling: the file hides what it does.
    fn hides(&self) -> bool {
        self.facts.hidden.iter().any(Option::is_some)
    }

    /// It runs code built at runtime or loads modules by computed names.
    fn executes(&self) -> bool {
        !self.facts.dynamic.is_empty() || !self.facts.computed_requires.is_empty()
    }

    /// One of its decoders is a cipher.
    fn decrypts(&self) -> bool {
        self.facts
            .decoders
            .iter()
            .any(|(_, kind)| *kind == "decryption")
    }

    /// Whether the file can reach the machine or the network: starts processes,
    /// evaluates code, or loads a network or process module.
    fn capable(&self) -> bool {
        !self.facts.spawns.is_empty()
            || !self.facts.dynamic.is_empty()
            || self.facts.requires.iter().any(|(module, _)| {
                is_network_module(module) || module.trim_start_matches("node:") == "child_process"
            })
    }
}

/// A per-file rule: its name, what it flags, and the function that judges.
pub(crate) struct FileRule {
    pub(crate) id: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) judge: fn(&Subject<'_>) -> Vec<Finding>,
}

/// Every per-file rule, in the order their findings are listed.
pub(crate) const FILE_RULES: [FileRule; 27] = [
    FileRule {
        id: "analysis-failed",
        summary: "the analyser failed on the file: what it does is unknown",
        judge: analysis_failed,
    },
    FileRule {
        id: "nesting-too-deep",
        summary: "brackets nested past what Airlock parses",
        judge: nesting_too_deep,
    },
    FileRule {
        id: "unparsable",
        summary: "a script that does not parse as JavaScript",
        judge: unparsable,
    },
    FileRule {
        id: "decode-then-run",
        summary: "strings decoded into code, addresses or a decrypted module, then run",
        judge: decode_then_run,
    },
    FileRule {
        id: "escaped-names",
        summary: "a plain name spelled in Unicode escapes",
        judge: escaped_names,
    },
    FileRule {
        id: "hidden-api-names",
        summary: "two or more names of modules or functions that reach the machine or the network (`require`, `child_process`, `axios`) written only in hex or base64",
        judge: hidden_api_names,
    },
    FileRule {
        id: "code-in-a-string",
        summary: "a whole program kept in a string literal and evaluated",
        judge: code_in_a_string,
    },
    FileRule {
        id: "obfuscator-identifiers",
        summary: "twenty or more `_0x…` identifiers",
        judge: obfuscator_identifiers,
    },
    FileRule {
        id: "generated-names",
        summary: "most declared names look generated; worse in code that can act",
        judge: generated_names,
    },
    FileRule {
        id: "computed-require",
        summary: "modules loaded by a name computed at runtime",
        judge: computed_require,
    },
    FileRule {
        id: "runtime-code",
        summary: "code built and run at runtime (`eval`, `Function`, `vm`)",
        judge: runtime_code,
    },
    FileRule {
        id: "spawned-commands",
        summary: "processes started; downloads and `npm publish` weigh more",
        judge: spawned_commands,
    },
    FileRule {
        id: "detached-inline-code",
        summary: "a detached process is started with its code inline (`node -e …`, `detached: true`): code that outlives the install or the import, out of sight",
        judge: detached_inline_code,
    },
    FileRule {
        id: "fixed-blind-copy",
        summary: "a mail field that copies every message to an address written in the code (`bcc: 'x@y.example'`)",
        judge: fixed_blind_copy,
    },
    FileRule {
        id: "credential-store-list",
        summary: "five or more kinds of credential store named in one file",
        judge: credential_store_list,
    },
    FileRule {
        id: "secret-pattern-list",
        summary: "patterns for three or more kinds of secret token in one file, at install",
        judge: secret_pattern_list,
    },
    FileRule {
        id: "telling-strings",
        summary: "strings naming advisory or exfiltration hosts, raw-IP addresses, credential, browser, wallet or start-up paths, `npm publish`, hidden payloads",
        judge: telling_strings,
    },
    FileRule {
        id: "high-entropy-data",
        summary: "large high-entropy literals, weighed by whether the file decodes and runs",
        judge: high_entropy_data,
    },
    FileRule {
        id: "environment-harvest",
        summary: "the whole environment collected, worse when serialised or sent",
        judge: environment_harvest,
    },
    FileRule {
        id: "environment-secrets",
        summary: "secrets read from the environment; package metadata next to a decoder",
        judge: environment_secrets,
    },
    FileRule {
        id: "file-changes",
        summary: "self-deletion, a swapped package.json, writes to decoded paths",
        judge: file_changes,
    },
    FileRule {
        id: "top-level-loop",
        summary: "an endless loop at the top level: importing hangs",
        judge: top_level_loop,
    },
    FileRule {
        id: "geo-targeting",
        summary: "behaviour reserved for one country's machines (protestware)",
        judge: geo_targeting,
    },
    FileRule {
        id: "wallet-drainer",
        summary: "request or wallet-provider hooks next to wallet-address patterns",
        judge: wallet_drainer,
    },
    FileRule {
        id: "key-exfiltration",
        summary: "private key material sent over the network",
        judge: key_exfiltration,
    },
    FileRule {
        id: "dns-built-names",
        summary: "DNS names built at runtime, from host data above all",
        judge: dns_built_names,
    },
    FileRule {
        id: "host-details-at-install",
        summary: "hostname, user or interfaces collected by an install script",
        judge: host_details_at_install,
    },
];

pub(crate) fn judge_file(facts: &FileFacts, context: &FileContext<'_>) -> Vec<Finding> {
    let file = Subject { facts, context };
    let mut findings = Vec::new();
    for rule in &FILE_RULES {
        for mut finding in (rule.judge)(&file) {
            // What no install or import runs is shown, not acted on.
            if finding.reach == Reach::Elsewhere && finding.code != Code::AnalysisIncomplete {
                finding.severity = finding.severity.min(Low);
            }
            if finding.severity > Info || findings.len() < 50 {
                findings.push(finding);
            }
        }
    }
    findings
}

fn analysis_failed(file: &Subject<'_>) -> Vec<Finding> {
    if !file.facts.crashed {
        return Vec::new();
    }
    vec![file.context.finding(
        Code::AnalysisIncomplete,
        High,
        Confidence::High,
        "the analyser failed on this file; what it does is unknown".to_owned(),
        None,
    )]
}

fn nesting_too_deep(file: &Subject<'_>) -> Vec<Finding> {
    let Some(depth) = file.facts.too_deep else {
        return Vec::new();
    };
    vec![file.context.finding(
        Code::AnalysisIncomplete,
        High,
        Confidence::High,
        format!("brackets nest {depth} deep, past what Airlock parses: what it does is unknown"),
        None,
    )]
}

fn unparsable(file: &Subject<'_>) -> Vec<Finding> {
    let Some(error) = file
        .facts
        .parse_error
        .as_ref()
        .filter(|_| file.facts.too_deep.is_none())
    else {
        return Vec::new();
    };
    vec![file.context.finding(
        Code::UnparsableCode,
        file.context.severity(ByReach(Low, Info, Info)),
        Confidence::Low,
        format!("does not parse as JavaScript: {error}"),
        None,
    )]
}

/// Decode, then execute: the core of every obfuscated dropper. Decoders alone are
/// everywhere (base64 data, checksums, source maps); what gives a dropper away is
/// literals that decode to code or addresses, or a decrypted module compiled.
fn decode_then_run(file: &Subject<'_>) -> Vec<Finding> {
    let (facts, context) = (file.facts, file.context);
    if !(file.decodes() && file.hides() && (file.executes() || !facts.spawns.is_empty())) {
        return Vec::new();
    }
    let compiles = facts
        .dynamic
        .iter()
        .any(|(_, kind)| *kind == "module._compile");
    let (decoder_site, decoder_kind) = &facts.decoders[0];
    let sink = facts
        .dynamic
        .first()
        .map(|(_, kind)| *kind)
        .or_else(|| {
            facts
                .computed_requires
                .first()
                .map(|_| "a computed require")
        })
        .unwrap_or("a process spawn");
    // Decrypting a payload and compiling it as a module: event-stream.
    let severity = if file.decrypts() && compiles {
        context.severity(ByReach(Critical, Critical, High))
    } else {
        context.bundle_softened(context.severity(ByReach(Critical, High, Medium)))
    };
    vec![context.finding(
        Code::ObfuscatedCode,
        severity,
        Confidence::High,
        format!("decodes strings ({decoder_kind}) and runs what it builds through {sink}"),
        Some(decoder_site),
    )]
}

/// `\u0065val(…)`: a plain name spelled in escapes hides it from a text search
/// and from every reviewer's eye; no compiler or minifier writes ASCII so.
fn escaped_names(file: &Subject<'_>) -> Vec<Finding> {
    let Some((site, name)) = &file.facts.escaped_identifier else {
        return Vec::new();
    };
    vec![file.context.finding(
        Code::ObfuscatedCode,
        file.context.severity(ByReach(High, High, Medium)),
        Confidence::High,
        format!("spells the name `{name}` in Unicode escapes: hiding it from whoever reads or searches the code"),
        Some(site),
    )]
}

/// `Function("…800 KB…")`: a whole program kept in a string and evaluated, out
/// of sight of whoever reads the file; with invisible characters in it, built to
/// be unreadable.
fn code_in_a_string(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    let Some((site, length, invisible)) = &file.facts.literal_code else {
        return Vec::new();
    };
    vec![context.finding(
        Code::ObfuscatedCode,
        if *invisible {
            context.severity(ByReach(Critical, High, Medium))
        } else {
            context.bundle_softened(context.severity(ByReach(High, Medium, Low)))
        },
        Confidence::Medium,
        format!(
            "evaluates {} KB of code kept in a string literal{}",
            length / 1024,
            if *invisible {
                ", with invisible characters in it"
            } else {
                ""
            }
        ),
        Some(site),
    )]
}

fn obfuscator_identifiers(file: &Subject<'_>) -> Vec<Finding> {
    if file.facts.hex_identifiers < 20 {
        return Vec::new();
    }
    vec![file.context.finding(
        Code::ObfuscatedCode,
        file.context.severity(ByReach(Critical, High, Medium)),
        Confidence::High,
        format!(
            "{} `_0x…` identifiers: the output of a JavaScript obfuscator",
            file.facts.hex_identifiers
        ),
        None,
    )]
}

/// Renamed by an obfuscator: most declared names look generated. Obfuscation
/// alone is what commercial code ships; with code that can reach the machine or
/// the network it is how droppers hide.
fn generated_names(file: &Subject<'_>) -> Vec<Finding> {
    let (facts, context) = (file.facts, file.context);
    if !(facts.long_names >= 12 && facts.random_names * 3 >= facts.long_names) {
        return Vec::new();
    }
    let capable = file.capable();
    vec![context.finding(
        Code::ObfuscatedCode,
        if capable {
            context.severity(ByReach(Critical, High, Medium))
        } else {
            context.severity(ByReach(Medium, Low, Info))
        },
        Confidence::Medium,
        format!(
            "{} of {} declared names look generated: the output of an obfuscator{}",
            facts.random_names,
            facts.long_names,
            if capable {
                ", in code that starts processes, evaluates code or uses the network"
            } else {
                ""
            }
        ),
        None,
    )]
}

fn computed_require(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    let Some(site) = file.facts.computed_requires.first() else {
        return Vec::new();
    };
    let severity = if file.hides() {
        context.severity(ByReach(High, Medium, Low))
    } else {
        context.bundle_softened(context.severity(ByReach(Low, Info, Info)))
    };
    vec![context.finding(
        Code::DynamicCode,
        severity,
        Confidence::Medium,
        format!(
            "loads {} module(s) by a name computed at runtime",
            file.facts.computed_requires.len()
        ),
        Some(site),
    )]
}

fn runtime_code(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    let Some((site, kind)) = file.facts.dynamic.first() else {
        return Vec::new();
    };
    vec![context.finding(
        Code::DynamicCode,
        context.bundle_softened(context.severity(ByReach(Medium, Low, Info))),
        Confidence::Medium,
        format!("runs code built at runtime ({kind})"),
        Some(site),
    )]
}

fn spawned_commands(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    file.facts
        .spawns
        .iter()
        .map(|(site, command)| {
            let command_text = command.as_deref().unwrap_or("");
            if let Some(tool) = strings::downloader(command_text) {
                context.finding(
                    Code::ProcessSpawn,
                    context.severity(ByReach(Critical, High, Medium)),
                    Confidence::High,
                    format!("runs a shell command that downloads with {tool}"),
                    Some(site),
                )
            } else if strings::publishes(command_text) {
                context.finding(
                    Code::SelfPropagation,
                    context.severity(ByReach(Critical, Low, Low)),
                    Confidence::Medium,
                    "runs `npm publish`".to_owned(),
                    Some(site),
                )
            } else {
                context.finding(
                    Code::ProcessSpawn,
                    context.severity(ByReach(Low, Info, Info)),
                    Confidence::Low,
                    "starts a process".to_owned(),
                    Some(site),
                )
            }
        })
        .collect()
}

/// How many distinct API names a file must hide before it reads as hiding them.
const HIDDEN_NAMES: usize = 2;

/// Names of modules and functions written in hex or base64 (`g('72657175697265')`
/// for `require`): code that spells what it calls so that no reader, and no
/// search, finds it. One may be chance; two are a habit.
fn hidden_api_names(file: &Subject<'_>) -> Vec<Finding> {
    let mut names: Vec<&'static str> = Vec::new();
    let mut first: Option<(&'static str, u32, &str)> = None;
    for (text, line) in &file.facts.strings {
        if let Some((how, name)) = strings::hidden_api_name(text) {
            first.get_or_insert((how, *line, text.as_str()));
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let Some((how, line, text)) = first else {
        return Vec::new();
    };
    if names.len() < HIDDEN_NAMES {
        return Vec::new();
    }
    let context = file.context;
    let site = Site {
        line,
        text: text.to_owned(),
    };
    vec![context.finding(
        Code::ObfuscatedCode,
        context.severity(ByReach(High, High, Low)),
        Confidence::Medium,
        format!(
            "spells the names of what it calls in {how} (`{}`)",
            names.join("`, `")
        ),
        Some(&site),
    )]
}

/// A detached process given its code inline: at the top level of code that runs
/// at install or on import, a payload started to outlive its parent. Daemons and
/// update checkers start a file of their own, not a string of code.
fn detached_inline_code(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    file.facts
        .detached_inline
        .iter()
        .map(|(site, top_level)| {
            context.finding(
                Code::ProcessSpawn,
                context.severity(if *top_level {
                    ByReach(High, High, Low)
                } else {
                    ByReach(High, Low, Info)
                }),
                Confidence::Medium,
                "starts a detached process that runs code given inline (`-e`)".to_owned(),
                Some(site),
            )
        })
        .collect()
}

/// A blind copy to a mailbox written in the code: whatever mail the package
/// sends for its user also goes, unseen by the recipients, to that address. A
/// mail library takes its recipients from its caller; it does not add its own.
fn fixed_blind_copy(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    file.facts
        .fixed_blind_copies
        .iter()
        .map(|(site, address)| {
            context.finding(
                Code::DataExfiltration,
                context.severity(ByReach(High, High, Medium)),
                Confidence::Medium,
                format!(
                    "copies the mail it sends to `{address}`, an address written in the code, as a blind copy its recipients do not see"
                ),
                Some(site),
            )
        })
        .collect()
}

/// A list of many kinds of credential store (SSH keys, cloud CLIs, npm and
/// Docker tokens, git and Kubernetes configs): a harvester's shopping list. A
/// library that needs a credential names its own, not six kinds of them.
fn credential_store_list(file: &Subject<'_>) -> Vec<Finding> {
    let facts = file.facts;
    let mut stores: Vec<(&str, &(String, u32))> = Vec::new();
    for (string, found) in facts.strings.iter().zip(&facts.markers) {
        if let Some(what) = found.credential
            && stores.iter().all(|(seen, _)| *seen != what)
        {
            stores.push((what, string));
        }
    }
    if stores.len() < HARVEST_LIST {
        return Vec::new();
    }
    let (_, (text, line)) = stores[0];
    let kinds: Vec<&str> = stores.iter().map(|(what, _)| *what).collect();
    vec![file.context.finding(
        Code::CredentialAccess,
        file.context.severity(ByReach(High, High, Medium)),
        Confidence::Medium,
        format!(
            "names {} kinds of credential store ({}): a harvester's list",
            kinds.len(),
            airlock_policy::one_line(&kinds.join(", "), 160)
        ),
        Some(&Site {
            line: *line,
            text: text.clone(),
        }),
    )]
}

/// Patterns for many kinds of secret token (GitHub, npm, AWS, Slack, Stripe keys):
/// what a harvester greps the disk and the environment with. Secret scanners and
/// log redactors carry such lists too, so only install code is judged by it.
fn secret_pattern_list(file: &Subject<'_>) -> Vec<Finding> {
    let patterns = &file.facts.token_patterns;
    let mut kinds: Vec<&str> = Vec::new();
    for (kind, _) in patterns {
        if !kinds.contains(kind) {
            kinds.push(kind);
        }
    }
    if kinds.len() < TOKEN_LIST {
        return Vec::new();
    }
    vec![file.context.finding(
        Code::CredentialAccess,
        file.context.severity(ByReach(High, Low, Info)),
        Confidence::Medium,
        format!(
            "searches for {} kinds of secret token ({}): a harvester's patterns",
            kinds.len(),
            kinds.join(", ")
        ),
        Some(&patterns[0].1),
    )]
}

/// What each string literal says: addresses (advisory indicators, exfiltration
/// services, plain-HTTP raw IPs and ports), paths a package has no business naming,
/// `npm publish`, payloads hidden in an encoding, and long high-entropy literals.
fn telling_strings(file: &Subject<'_>) -> Vec<Finding> {
    let (facts, context) = (file.facts, file.context);
    let mut findings = Vec::new();
    for (((text, line), found), hidden) in
        facts.strings.iter().zip(&facts.markers).zip(&facts.hidden)
    {
        let interesting = found.address
            || found.credential.is_some()
            || found.browser.is_some()
            || found.wallet.is_some()
            || found.discord.is_some()
            || found.persistence.is_some()
            || found.publishes
            || hidden.is_some()
            || text.len() >= 4096
            || !context.indicators.is_empty();
        if !interesting {
            continue;
        }
        let site = Site {
            line: *line,
            text: text.clone(),
        };
        if found.address {
            findings.extend(addresses_named(file, text, &site));
        }
        if context.indicators.matches_text(text) {
            findings.push(context.finding(
                Code::NetworkAccess,
                Critical,
                Confidence::High,
                "names an address an advisory lists as attacker infrastructure".to_owned(),
                Some(&site),
            ));
        }
        findings.extend(paths_named(file, found, &site));
        // A mention is not a publish: release tools (nx, lerna) name `npm publish`
        // in code their postinstall reaches. A command that publishes is judged by
        // the capability table (`shell-publishes`).
        if found.publishes {
            findings.push(context.finding(
                Code::SelfPropagation,
                context.severity(ByReach(Medium, Low, Info)),
                Confidence::Medium,
                "mentions `npm publish` or the publish endpoint".to_owned(),
                Some(&site),
            ));
        }
        if let Some((how, decoded)) = hidden {
            // Inlined workers and data carry addresses and `require`; payloads carry
            // processes, evaluation, shells and credentials.
            let dangerous = strings::dangerous_tell(decoded);
            findings.push(context.finding(
                Code::ObfuscatedCode,
                if dangerous {
                    context.bundle_softened(context.severity(ByReach(Critical, High, Medium)))
                } else {
                    context.severity(ByReach(Low, Info, Info))
                },
                Confidence::Medium,
                format!(
                    "a {how} string hides `{}`",
                    airlock_policy::one_line(decoded, 80)
                ),
                Some(&site),
            ));
        }
        if text.len() >= 4096 && strings::entropy(text) >= 5.2 {
            findings.push(high_entropy_literal(file, text.len(), *line));
        }
    }
    findings
}

/// The addresses in one string: hosts an advisory names, exfiltration services,
/// and plain-HTTP addresses with a raw IP or a port.
fn addresses_named(file: &Subject<'_>, text: &str, site: &Site) -> Vec<Finding> {
    let context = file.context;
    let mut findings = Vec::new();
    for address in strings::addresses(text) {
        if context.indicators.matches(address.host, address.url) {
            findings.push(context.finding(
                Code::NetworkAccess,
                Critical,
                Confidence::High,
                format!(
                    "contacts `{}`, named by an advisory as attacker infrastructure",
                    address.host
                ),
                Some(site),
            ));
        } else if let Some(service) = strings::exfiltration_service(address.url) {
            // Request catchers, OAST and paste sites have no use in a package's
            // runtime; a tunnel does (a development server shared through ngrok), so
            // naming one in code that loads warns: what is sent there is judged by
            // the capability table.
            let tunnel = service.starts_with("a tunnel");
            findings.push(context.finding(
                Code::NetworkAccess,
                context.severity(if tunnel {
                    ByReach(Critical, Medium, Low)
                } else {
                    ByReach(Critical, High, Medium)
                }),
                Confidence::High,
                format!("sends to {service} (`{}`)", address.host),
                Some(site),
            ));
        } else if (address.plain_http
            && (address.port.is_some() || address.raw_ip())
            && !strings::documentation_host(address.host))
            || (file.facts.tls_off
                && address.raw_ip()
                && crate::js::literals::classify_host(address.host, address.url)
                    == crate::js::literals::HostClass::RawIp)
        {
            findings.push(context.finding(
                Code::NetworkAccess,
                context.severity(ByReach(High, Low, Info)),
                Confidence::Medium,
                format!(
                    "{} with {} (`{}`){}",
                    if address.plain_http {
                        "plain-HTTP address"
                    } else {
                        "HTTPS address"
                    },
                    if address.raw_ip() {
                        "a raw IP"
                    } else {
                        "a port"
                    },
                    address.url,
                    if address.plain_http {
                        ""
                    } else {
                        ", certificate checks turned off"
                    }
                ),
                Some(site),
            ));
        }
    }
    findings
}

/// Paths a package has no business naming, by kind; naming a start-up location
/// matters more when the file also writes files. Naming a path is weak: what reads
/// or writes it shows in the flow.
fn paths_named(file: &Subject<'_>, found: &strings::Markers, site: &Site) -> Vec<Finding> {
    let context = file.context;
    let writes = !file.facts.fs_changes.is_empty();
    let named_paths = [
        (
            found.credential,
            Code::CredentialAccess,
            ByReach(Medium, Low, Info),
        ),
        (
            found.browser.or(found.wallet).or(found.discord),
            Code::SensitiveFileAccess,
            ByReach(Medium, Low, Info),
        ),
        (
            found.persistence,
            Code::SensitiveFileAccess,
            if writes {
                ByReach(Medium, Low, Info)
            } else {
                ByReach(Low, Info, Info)
            },
        ),
    ];
    named_paths
        .into_iter()
        .filter_map(|(what, code, by_reach)| {
            what.map(|what| {
                context.finding(
                    code,
                    context.severity(by_reach),
                    Confidence::Medium,
                    format!("names {what}"),
                    Some(site),
                )
            })
        })
        .collect()
}

/// One high-entropy literal of `length` bytes: noise, unless the file also
/// decodes or hides strings and runs what it builds.
fn high_entropy_literal(file: &Subject<'_>, length: usize, line: u32) -> Finding {
    let context = file.context;
    let severity = if (file.decrypts() || file.hides()) && file.executes() {
        context.bundle_softened(context.severity(ByReach(Critical, High, Medium)))
    } else {
        Info
    };
    context.finding(
        Code::ObfuscatedCode,
        severity,
        Confidence::Low,
        format!("a {} KB high-entropy literal", length / 1024),
        Some(&Site {
            line,
            text: String::new(),
        }),
    )
}

fn high_entropy_data(file: &Subject<'_>) -> Vec<Finding> {
    file.facts
        .data_literals
        .iter()
        .filter(|(_, entropy, _)| *entropy >= 5.2)
        .map(|(length, _, line)| high_entropy_literal(file, *length, *line))
        .collect()
}

fn environment_harvest(file: &Subject<'_>) -> Vec<Finding> {
    let (facts, context) = (file.facts, file.context);
    let talks = !facts.network_calls.is_empty()
        || facts
            .requires
            .iter()
            .any(|(module, _)| is_network_module(module));
    facts
        .env_harvest
        .iter()
        .map(|site| {
            let stringified = site.text.starts_with("JSON.stringify");
            let severity = match (stringified, talks) {
                (true, _) => context.severity(ByReach(Critical, High, Low)),
                (false, true) => {
                    context.bundle_softened(context.severity(ByReach(High, Low, Info)))
                }
                (false, false) => context.severity(ByReach(Medium, Info, Info)),
            };
            context.finding(
                Code::CredentialAccess,
                severity,
                Confidence::Medium,
                "collects the whole environment (`process.env`)".to_owned(),
                Some(site),
            )
        })
        .collect()
}

fn environment_secrets(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    let mut findings = Vec::new();
    for (name, line) in &file.facts.env_reads {
        let secret = ["TOKEN", "SECRET", "PASSWORD", "ACCESS_KEY", "PRIVATE_KEY"]
            .iter()
            .any(|word| name.to_ascii_uppercase().contains(word));
        let package_field = name.starts_with("npm_package_")
            && !matches!(name.as_str(), "npm_package_name" | "npm_package_version");
        let site = Site {
            line: *line,
            text: format!("process.env.{name}"),
        };
        if secret && !names_the_package(name, context.package) {
            findings.push(context.finding(
                Code::CredentialAccess,
                context.severity(ByReach(High, Info, Info)),
                Confidence::Medium,
                format!("reads the secret `{name}` from the environment"),
                Some(&site),
            ));
        } else if package_field && file.decodes() {
            findings.push(context.finding(
                Code::ObfuscatedCode,
                context.severity(ByReach(Critical, High, Medium)),
                Confidence::Medium,
                format!("uses `{name}` (the installing package's metadata) next to a decoder: a payload keyed to one victim"),
                Some(&site),
            ));
        }
    }
    findings
}

/// A variable named after the package itself (`SCARF_API_TOKEN` read by
/// `@scarf/scarf`): the package's own setting, not someone else's secret. Only the
/// whole scope or the whole name counts, not a word of it: `npm-helper` reading
/// `NPM_TOKEN` reads npm's.
fn names_the_package(variable: &str, package: &str) -> bool {
    let upper = variable.to_ascii_uppercase();
    let (scope, name) = match package
        .strip_prefix('@')
        .and_then(|rest| rest.split_once('/'))
    {
        Some((scope, name)) => (Some(scope), name),
        None => (None, package),
    };
    scope.into_iter().chain([name]).any(|part| {
        let part = crate::as_variable_name(part);
        part.len() >= 2 && (upper == part || upper.starts_with(&format!("{part}_")))
    })
}

fn file_changes(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    let mut findings = Vec::new();
    for (site, function, arguments) in &file.facts.fs_changes {
        let deletes = matches!(function.as_str(), "unlink" | "unlinkSync" | "rm" | "rmSync");
        if deletes && (arguments.contains("__filename") || arguments.contains("__dirname")) {
            findings.push(context.finding(
                Code::SelfDeletion,
                context.severity(ByReach(Critical, High, Medium)),
                Confidence::High,
                format!("deletes its own files (`{function}({arguments})`)"),
                Some(site),
            ));
        } else if arguments.contains("package.json") {
            // Renaming or copying a file over package.json swaps it; writing one is
            // what installers do in their own temporary directories.
            let swaps = !function.starts_with("write")
                && !function.starts_with("append")
                && !function.starts_with("create");
            findings.push(context.finding(
                Code::ManifestSwap,
                if swaps {
                    context.severity(ByReach(Critical, High, Low))
                } else {
                    context.severity(ByReach(Low, Info, Info))
                },
                Confidence::Medium,
                format!("rewrites a package.json (`{function}({arguments})`)"),
                Some(site),
            ));
        } else if file.hides() && !arguments.starts_with(['"', '\'', '`']) {
            findings.push(context.finding(
                Code::SensitiveFileAccess,
                context.bundle_softened(context.severity(ByReach(Critical, High, Medium))),
                Confidence::Medium,
                format!("changes files at paths decoded at runtime (`{function}`)"),
                Some(site),
            ));
        }
    }
    findings
}

fn top_level_loop(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    file.facts
        .top_level_loops
        .iter()
        .map(|site| {
            context.finding(
                Code::Sabotage,
                context.severity(ByReach(Critical, Critical, Low)),
                Confidence::High,
                "an endless loop at the top level: importing the package hangs".to_owned(),
                Some(site),
            )
        })
        .collect()
}

/// Protestware: behaviour reserved for machines in one country. A time-zone
/// database names every zone; a file that names one country's and reads where
/// the machine is has singled it out.
fn geo_targeting(file: &Subject<'_>) -> Vec<Finding> {
    let (facts, context) = (file.facts, file.context);
    let zones_targeted = facts.reads_locale
        && !facts.country_targets.is_empty()
        && facts.country_targets.len() * 2
            >= facts
                .strings
                .iter()
                .filter(|(text, _)| {
                    text.contains('/')
                        && text.chars().next().is_some_and(char::is_uppercase)
                        && !text.contains(' ')
                })
                .count();
    let geolocated = !facts.country_names.is_empty()
        && facts.hosts.iter().any(|host| {
            crate::js::literals::classify_host(host, host)
                == crate::js::literals::HostClass::IpLookup
        });
    let target_site = if zones_targeted {
        facts.country_targets.first()
    } else {
        facts.country_names.first()
    };
    let Some(site) = target_site.filter(|_| zones_targeted || geolocated) else {
        return Vec::new();
    };
    let harms = !facts.fs_changes.is_empty();
    vec![context.finding(
        Code::Sabotage,
        if harms {
            context.severity(ByReach(Critical, Critical, High))
        } else {
            context.severity(ByReach(Medium, Medium, Low))
        },
        Confidence::Medium,
        if harms {
            "acts on machines in one country (time zone or locale) and changes files: protestware"
                .to_owned()
        } else {
            "acts on machines in one country (time zone or locale): protestware".to_owned()
        },
        Some(site),
    )]
}

fn wallet_drainer(file: &Subject<'_>) -> Vec<Finding> {
    let facts = file.facts;
    let (Some(hook), false) = (facts.hooks.first(), facts.wallet_patterns.is_empty()) else {
        return Vec::new();
    };
    vec![file.context.finding(
        Code::CredentialAccess,
        file.context.severity(ByReach(Critical, High, Medium)),
        Confidence::High,
        "hooks fetch/XMLHttpRequest/the wallet provider and matches wallet addresses: a crypto drainer".to_owned(),
        Some(hook),
    )]
}

fn key_exfiltration(file: &Subject<'_>) -> Vec<Finding> {
    let Some(site) = file.facts.key_exfiltration.first() else {
        return Vec::new();
    };
    vec![file.context.finding(
        Code::CredentialAccess,
        file.context.severity(ByReach(Critical, Critical, High)),
        Confidence::Medium,
        "sends private key material over the network".to_owned(),
        Some(site),
    )]
}

fn dns_built_names(file: &Subject<'_>) -> Vec<Finding> {
    let context = file.context;
    let Some(site) = file.facts.dns_lookups.first() else {
        return Vec::new();
    };
    let fingerprints = !file.facts.host_info.is_empty();
    vec![context.finding(
        Code::NetworkAccess,
        if fingerprints {
            context.severity(ByReach(Critical, High, Medium))
        } else {
            context.severity(ByReach(Medium, Low, Info))
        },
        Confidence::Medium,
        if fingerprints {
            "looks up DNS names built from host data (hostname, user): exfiltration over DNS"
                .to_owned()
        } else {
            "looks up DNS names built at runtime".to_owned()
        },
        Some(site),
    )]
}

fn host_details_at_install(file: &Subject<'_>) -> Vec<Finding> {
    let Some(site) = file
        .facts
        .host_info
        .first()
        .filter(|_| file.context.reach == Reach::Install)
    else {
        return Vec::new();
    };
    vec![file.context.finding(
        Code::CredentialAccess,
        Medium,
        Confidence::Low,
        "collects host details (hostname, user, interfaces) at install".to_owned(),
        Some(site),
    )]
}

pub(crate) fn is_network_module(module: &str) -> bool {
    matches!(
        module.strip_prefix("node:").unwrap_or(module),
        "http" | "https" | "net" | "dgram" | "dns" | "tls" | "http2"
    )
}

#[cfg(test)]
mod tests {
    use super::names_the_package;

    #[test]
    fn a_variable_names_the_package_by_its_whole_scope_or_name() {
        assert!(names_the_package("SCARF_API_TOKEN", "@scarf/scarf"));
        assert!(names_the_package("SENTRY_AUTH_TOKEN", "@sentry/cli"));
        assert!(names_the_package("NX_CLOUD_AUTH_TOKEN", "nx"));
        assert!(names_the_package("PRISMA_TOKEN", "prisma"));
        assert!(names_the_package("MY_TOOL_TOKEN", "my-tool"));
        // A word of the name is not the name: npm's token is npm's.
        assert!(!names_the_package("NPM_TOKEN", "npm-helper"));
        assert!(!names_the_package("GITHUB_TOKEN", "github-stats-x"));
        assert!(!names_the_package(
            "AWS_SECRET_ACCESS_KEY",
            "@evil/aws-util"
        ));
        assert!(!names_the_package("NPM_TOKEN", ""));
    }
}
