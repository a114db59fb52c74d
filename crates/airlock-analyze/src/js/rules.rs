//! From a file's facts to findings, weighed by where the file runs.
//!
//! The same call means more in an install script than in a library function, and
//! less again in a minified vendor bundle, where `eval`, computed `require` and long
//! literals are ordinary. Each rule names its severity for the three reaches; the
//! package-level pass in `lib.rs` then escalates when several strong signals meet.

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

pub(crate) fn judge_file(facts: &FileFacts, context: &FileContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut push = |mut finding: Finding| {
        // What no install or import runs is shown, not acted on.
        if finding.reach == Reach::Elsewhere && finding.code != Code::AnalysisIncomplete {
            finding.severity = finding.severity.min(Low);
        }
        if finding.severity > Info || findings.len() < 50 {
            findings.push(finding);
        }
    };
    let decodes = !facts.decoders.is_empty();
    // Literals that decode to something telling: the file hides what it does.
    let hides = facts.hidden.iter().any(Option::is_some);
    let executes = !facts.dynamic.is_empty() || !facts.computed_requires.is_empty();

    if facts.crashed {
        push(context.finding(
            Code::AnalysisIncomplete,
            High,
            Confidence::High,
            "the analyser failed on this file; what it does is unknown".to_owned(),
            None,
        ));
    }
    if let Some(depth) = facts.too_deep {
        push(context.finding(
            Code::AnalysisIncomplete,
            High,
            Confidence::High,
            format!(
                "brackets nest {depth} deep, past what Airlock parses: what it does is unknown"
            ),
            None,
        ));
    }
    if let Some(error) = facts
        .parse_error
        .as_ref()
        .filter(|_| facts.too_deep.is_none())
    {
        push(context.finding(
            Code::UnparsableCode,
            context.severity(ByReach(Low, Info, Info)),
            Confidence::Low,
            format!("does not parse as JavaScript: {error}"),
            None,
        ));
    }

    // Decode, then execute: the core of every obfuscated dropper. Decoders alone are
    // everywhere (base64 data, checksums, source maps); what gives a dropper away is
    // literals that decode to code or addresses, or a decrypted module compiled.
    let decrypts = facts.decoders.iter().any(|(_, kind)| *kind == "decryption");
    let compiles = facts
        .dynamic
        .iter()
        .any(|(_, kind)| *kind == "module._compile");
    if decodes && hides && (executes || !facts.spawns.is_empty()) {
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
        let severity = if decrypts && compiles {
            context.severity(ByReach(Critical, Critical, High))
        } else {
            context.bundle_softened(context.severity(ByReach(Critical, High, Medium)))
        };
        push(context.finding(
            Code::ObfuscatedCode,
            severity,
            Confidence::High,
            format!("decodes strings ({decoder_kind}) and runs what it builds through {sink}"),
            Some(decoder_site),
        ));
    }

    // `\u0065val(…)`: a plain name spelled in escapes hides it from a text search
    // and from every reviewer's eye; no compiler or minifier writes ASCII so.
    if let Some((site, name)) = &facts.escaped_identifier {
        push(context.finding(
            Code::ObfuscatedCode,
            context.severity(ByReach(High, High, Medium)),
            Confidence::High,
            format!("spells the name `{name}` in Unicode escapes: hiding it from whoever reads or searches the code"),
            Some(site),
        ));
    }

    // `Function("…800 KB…")`: a whole program kept in a string and evaluated, out
    // of sight of whoever reads the file; with invisible characters in it, built to
    // be unreadable.
    if let Some((site, length, invisible)) = &facts.literal_code {
        push(context.finding(
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
        ));
    }

    if facts.hex_identifiers >= 20 {
        push(context.finding(
            Code::ObfuscatedCode,
            context.severity(ByReach(Critical, High, Medium)),
            Confidence::High,
            format!(
                "{} `_0x…` identifiers: the output of a JavaScript obfuscator",
                facts.hex_identifiers
            ),
            None,
        ));
    }

    // Renamed by an obfuscator: most declared names look generated. Obfuscation
    // alone is what commercial code ships; with code that can reach the machine or
    // the network it is how droppers hide.
    if facts.long_names >= 12 && facts.random_names * 3 >= facts.long_names {
        let capable = !facts.spawns.is_empty()
            || !facts.dynamic.is_empty()
            || facts.requires.iter().any(|(module, _)| {
                is_network_module(module) || module.trim_start_matches("node:") == "child_process"
            });
        push(context.finding(
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
        ));
    }
    if let Some(site) = facts.computed_requires.first() {
        let severity = if hides {
            context.severity(ByReach(High, Medium, Low))
        } else {
            context.bundle_softened(context.severity(ByReach(Low, Info, Info)))
        };
        push(context.finding(
            Code::DynamicCode,
            severity,
            Confidence::Medium,
            format!(
                "loads {} module(s) by a name computed at runtime",
                facts.computed_requires.len()
            ),
            Some(site),
        ));
    }
    if let Some((site, kind)) = facts.dynamic.first() {
        let severity = context.bundle_softened(context.severity(ByReach(Medium, Low, Info)));
        push(context.finding(
            Code::DynamicCode,
            severity,
            Confidence::Medium,
            format!("runs code built at runtime ({kind})"),
            Some(site),
        ));
    }

    for (site, command) in &facts.spawns {
        let command_text = command.as_deref().unwrap_or("");
        if let Some(tool) = strings::downloader(command_text) {
            push(context.finding(
                Code::ProcessSpawn,
                context.severity(ByReach(Critical, High, Medium)),
                Confidence::High,
                format!("runs a shell command that downloads with {tool}"),
                Some(site),
            ));
        } else if strings::publishes(command_text) {
            push(context.finding(
                Code::SelfPropagation,
                context.severity(ByReach(Critical, Low, Low)),
                Confidence::Medium,
                "runs `npm publish`".to_owned(),
                Some(site),
            ));
        } else {
            push(context.finding(
                Code::ProcessSpawn,
                context.severity(ByReach(Low, Info, Info)),
                Confidence::Low,
                "starts a process".to_owned(),
                Some(site),
            ));
        }
    }

    // A list of many kinds of credential store (SSH keys, cloud CLIs, npm and
    // Docker tokens, git and Kubernetes configs): a harvester's shopping list. A
    // library that needs a credential names its own, not six kinds of them.
    let mut stores: Vec<(&str, &(String, u32))> = Vec::new();
    for (string, found) in facts.strings.iter().zip(&facts.markers) {
        if let Some(what) = found.credential
            && stores.iter().all(|(seen, _)| *seen != what)
        {
            stores.push((what, string));
        }
    }
    if stores.len() >= HARVEST_LIST {
        let (_, (text, line)) = stores[0];
        let kinds: Vec<&str> = stores.iter().map(|(what, _)| *what).collect();
        push(context.finding(
            Code::CredentialAccess,
            context.severity(ByReach(High, High, Medium)),
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
        ));
    }

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
        let addresses = if found.address {
            strings::addresses(text)
        } else {
            Vec::new()
        };
        for address in addresses {
            if context.indicators.matches(address.host, address.url) {
                push(context.finding(
                    Code::NetworkAccess,
                    Critical,
                    Confidence::High,
                    format!(
                        "contacts `{}`, named by an advisory as attacker infrastructure",
                        address.host
                    ),
                    Some(&site),
                ));
            } else if let Some(service) = strings::exfiltration_service(address.url) {
                push(context.finding(
                    Code::NetworkAccess,
                    context.severity(ByReach(Critical, High, Medium)),
                    Confidence::High,
                    format!("sends to {service} (`{}`)", address.host),
                    Some(&site),
                ));
            } else if address.plain_http
                && (address.port.is_some() || address.raw_ip())
                && !strings::documentation_host(address.host)
            {
                push(context.finding(
                    Code::NetworkAccess,
                    context.severity(ByReach(High, Low, Info)),
                    Confidence::Medium,
                    format!(
                        "plain-HTTP address with {} (`{}`)",
                        if address.raw_ip() {
                            "a raw IP"
                        } else {
                            "a port"
                        },
                        address.url
                    ),
                    Some(&site),
                ));
            }
        }
        if context.indicators.matches_text(text) {
            push(context.finding(
                Code::NetworkAccess,
                Critical,
                Confidence::High,
                "names an address an advisory lists as attacker infrastructure".to_owned(),
                Some(&site),
            ));
        }
        // Paths a package has no business naming, by kind; naming a start-up
        // location matters more when the file also writes files.
        let writes = !facts.fs_changes.is_empty();
        let named_paths = [
            // Naming a path is weak: what reads or writes it shows in the flow.
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
        for (what, code, by_reach) in named_paths {
            if let Some(what) = what {
                push(context.finding(
                    code,
                    context.severity(by_reach),
                    Confidence::Medium,
                    format!("names {what}"),
                    Some(&site),
                ));
            }
        }
        if found.publishes {
            push(context.finding(
                Code::SelfPropagation,
                context.severity(ByReach(Critical, Low, Info)),
                Confidence::Medium,
                "mentions `npm publish` or the publish endpoint".to_owned(),
                Some(&site),
            ));
        }
        if let Some((how, decoded)) = hidden {
            // Inlined workers and data carry addresses and `require`; payloads carry
            // processes, evaluation, shells and credentials.
            let dangerous = strings::dangerous_tell(decoded);
            push(context.finding(
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
            let severity = if (decrypts || hides) && executes {
                context.bundle_softened(context.severity(ByReach(Critical, High, Medium)))
            } else {
                Info
            };
            push(context.finding(
                Code::ObfuscatedCode,
                severity,
                Confidence::Low,
                format!("a {} KB high-entropy literal", text.len() / 1024),
                Some(&Site {
                    line: *line,
                    text: String::new(),
                }),
            ));
        }
    }

    for (length, entropy, line) in &facts.data_literals {
        if *entropy >= 5.2 {
            let severity = if (decrypts || hides) && executes {
                context.bundle_softened(context.severity(ByReach(Critical, High, Medium)))
            } else {
                Info
            };
            push(context.finding(
                Code::ObfuscatedCode,
                severity,
                Confidence::Low,
                format!("a {} KB high-entropy literal", length / 1024),
                Some(&Site {
                    line: *line,
                    text: String::new(),
                }),
            ));
        }
    }

    for site in &facts.env_harvest {
        let stringified = site.text.starts_with("JSON.stringify");
        let talks = !facts.network_calls.is_empty()
            || facts
                .requires
                .iter()
                .any(|(module, _)| is_network_module(module));
        let severity = match (stringified, talks) {
            (true, _) => context.severity(ByReach(Critical, High, Low)),
            (false, true) => context.bundle_softened(context.severity(ByReach(High, Low, Info))),
            (false, false) => context.severity(ByReach(Medium, Info, Info)),
        };
        push(context.finding(
            Code::CredentialAccess,
            severity,
            Confidence::Medium,
            "collects the whole environment (`process.env`)".to_owned(),
            Some(site),
        ));
    }
    for (name, line) in &facts.env_reads {
        let secret = ["TOKEN", "SECRET", "PASSWORD", "ACCESS_KEY", "PRIVATE_KEY"]
            .iter()
            .any(|word| name.to_ascii_uppercase().contains(word));
        let package_field = name.starts_with("npm_package_")
            && !matches!(name.as_str(), "npm_package_name" | "npm_package_version");
        let site = Site {
            line: *line,
            text: format!("process.env.{name}"),
        };
        if secret {
            push(context.finding(
                Code::CredentialAccess,
                context.severity(ByReach(High, Info, Info)),
                Confidence::Medium,
                format!("reads the secret `{name}` from the environment"),
                Some(&site),
            ));
        } else if package_field && decodes {
            push(context.finding(
                Code::ObfuscatedCode,
                context.severity(ByReach(Critical, High, Medium)),
                Confidence::Medium,
                format!("uses `{name}` (the installing package's metadata) next to a decoder: a payload keyed to one victim"),
                Some(&site),
            ));
        }
    }

    for (site, function, arguments) in &facts.fs_changes {
        let deletes = matches!(function.as_str(), "unlink" | "unlinkSync" | "rm" | "rmSync");
        if deletes && (arguments.contains("__filename") || arguments.contains("__dirname")) {
            push(context.finding(
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
            push(context.finding(
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
        } else if hides && !arguments.starts_with(['"', '\'', '`']) {
            push(context.finding(
                Code::SensitiveFileAccess,
                context.bundle_softened(context.severity(ByReach(Critical, High, Medium))),
                Confidence::Medium,
                format!("changes files at paths decoded at runtime (`{function}`)"),
                Some(site),
            ));
        }
    }

    for site in &facts.top_level_loops {
        push(context.finding(
            Code::Sabotage,
            context.severity(ByReach(Critical, Critical, Low)),
            Confidence::High,
            "an endless loop at the top level: importing the package hangs".to_owned(),
            Some(site),
        ));
    }

    // Protestware: behaviour reserved for machines in one country. A time-zone
    // database names every zone; a file that names one country's and reads where
    // the machine is has singled it out.
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
    if let Some(site) = target_site.filter(|_| zones_targeted || geolocated) {
        let harms = !facts.fs_changes.is_empty();
        push(context.finding(
            Code::Sabotage,
            if harms {
                context.severity(ByReach(Critical, Critical, High))
            } else {
                context.severity(ByReach(Medium, Medium, Low))
            },
            Confidence::Medium,
            if harms {
                "acts on machines in one country (time zone or locale) and changes files: protestware".to_owned()
            } else {
                "acts on machines in one country (time zone or locale): protestware".to_owned()
            },
            Some(site),
        ));
    }
    if let (Some(hook), false) = (facts.hooks.first(), facts.wallet_patterns.is_empty()) {
        push(context.finding(
            Code::CredentialAccess,
            context.severity(ByReach(Critical, High, Medium)),
            Confidence::High,
            "hooks fetch/XMLHttpRequest/the wallet provider and matches wallet addresses: a crypto drainer".to_owned(),
            Some(hook),
        ));
    }
    if let Some(site) = facts.key_exfiltration.first() {
        push(context.finding(
            Code::CredentialAccess,
            context.severity(ByReach(Critical, Critical, High)),
            Confidence::Medium,
            "sends private key material over the network".to_owned(),
            Some(site),
        ));
    }
    if let Some(site) = facts.dns_lookups.first() {
        let fingerprints = !facts.host_info.is_empty();
        push(context.finding(
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
        ));
    }
    if context.reach == Reach::Install
        && let Some(site) = facts.host_info.first()
    {
        push(context.finding(
            Code::CredentialAccess,
            Medium,
            Confidence::Low,
            "collects host details (hostname, user, interfaces) at install".to_owned(),
            Some(site),
        ));
    }
    findings
}

pub(crate) fn is_network_module(module: &str) -> bool {
    matches!(
        module.strip_prefix("node:").unwrap_or(module),
        "http" | "https" | "net" | "dgram" | "dns" | "tls" | "http2"
    )
}
