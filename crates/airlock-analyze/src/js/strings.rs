//! What string literals give away: addresses, hosts, paths, and text hidden by
//! reversal or base64.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use base64::Engine as _;

/// A URL found in a string.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Address<'t> {
    pub(crate) url: &'t str,
    pub(crate) host: &'t str,
    pub(crate) plain_http: bool,
    pub(crate) port: Option<&'t str>,
}

impl Address<'_> {
    pub(crate) fn raw_ip(&self) -> bool {
        let parts: Vec<&str> = self.host.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|part| {
                !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit())
            })
    }
}

/// The `http://` and `https://` URLs in `text`.
pub(crate) fn addresses(text: &str) -> Vec<Address<'_>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(index) = rest.find("http") {
        let candidate = &rest[index..];
        let (plain_http, after) = if let Some(after) = candidate.strip_prefix("http://") {
            (true, after)
        } else if let Some(after) = candidate.strip_prefix("https://") {
            (false, after)
        } else {
            rest = &candidate[4..];
            continue;
        };
        let end = after
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | '\\')
            })
            .unwrap_or(after.len());
        let url_end = candidate.len() - after.len() + end;
        let authority = after[..end].split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
                (host, Some(port))
            }
            _ => (authority, None),
        };
        if !host.is_empty() {
            found.push(Address {
                url: &candidate[..url_end],
                host,
                plain_http,
                port,
            });
        }
        rest = &after[end..];
    }
    found
}

/// Hosts reserved for documentation (RFC 2606): examples in help text, never a
/// real endpoint.
pub(crate) fn documentation_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    ["example.com", "example.org", "example.net", "localhost"]
        .iter()
        .any(|reserved| host == *reserved || host.ends_with(&format!(".{reserved}")))
}

/// Services that receive stolen data without an account of the attacker's own: chat
/// webhooks, paste sites, request catchers, tunnels. Only concrete endpoints count
/// (a webhook URL with its id), not a library's mention of the service.
pub(crate) fn exfiltration_service(url: &str) -> Option<&'static str> {
    // Where each marker first ends, ignoring case.
    let mut first_end = [None::<usize>; SERVICES.len()];
    for hit in SERVICE_MARKERS.find_overlapping_iter(url) {
        first_end[hit.pattern().as_usize()].get_or_insert(hit.end());
    }
    SERVICES
        .iter()
        .zip(first_end)
        .find_map(|((marker, what), end)| {
            let end = end?;
            // A webhook path must carry an id after the marker.
            (marker.starts_with('.')
                || url[end..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric()))
            .then_some(*what)
        })
}

const SERVICES: [(&str, &str); 14] = [
    ("discord.com/api/webhooks/", "a Discord webhook"),
    ("discordapp.com/api/webhooks/", "a Discord webhook"),
    ("hooks.slack.com/services/", "a Slack webhook"),
    ("api.telegram.org/bot", "a Telegram bot"),
    ("pastebin.com/raw/", "a paste site"),
    ("paste.ee/r/", "a paste site"),
    ("hastebin.com/raw/", "a paste site"),
    ("transfer.sh/", "a file drop"),
    ("webhook.site/", "a request catcher"),
    (".pipedream.net", "a request catcher"),
    (".oastify.com", "an interaction catcher"),
    (".burpcollaborator.net", "an interaction catcher"),
    (".interact.sh", "an interaction catcher"),
    (".ngrok", "a tunnel"),
];

/// The markers of [`SERVICES`], in one automaton: a URL is read once.
static SERVICE_MARKERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(SERVICES.iter().map(|(marker, _)| marker))
        .expect("the service markers are valid")
});

/// Credential stores: files whose only use to a package is theft.
const CREDENTIAL_PATHS: [(&str, &str); 12] = [
    (".npmrc", "npm tokens (~/.npmrc)"),
    (".aws/credentials", "AWS credentials"),
    (".config/gcloud", "Google Cloud credentials"),
    (".azure/", "Azure credentials"),
    (".kube/config", "Kubernetes credentials"),
    (".docker/config.json", "Docker registry credentials"),
    (".git-credentials", "git credentials"),
    (".pypirc", "PyPI tokens"),
    (".netrc", "netrc passwords"),
    ("id_rsa", "SSH keys"),
    (".ssh/", "SSH keys"),
    ("id_ed25519", "SSH keys"),
];
/// Browser profile files: saved passwords, cookies, form data, the key that opens them.
const BROWSER_PATHS: [(&str, &str); 8] = [
    ("Login Data", "browser saved passwords"),
    ("Local State", "the browser's key store"),
    ("Web Data", "browser form data"),
    ("Network/Cookies", "browser cookies"),
    ("Cookies/Cookies", "browser cookies"),
    ("logins.json", "Firefox saved passwords"),
    ("key4.db", "Firefox's key store"),
    ("cookies.sqlite", "Firefox cookies"),
];
/// Wallet files and wallet extensions' stores.
const WALLET_PATHS: [(&str, &str); 14] = [
    ("wallet.dat", "a Bitcoin wallet"),
    (".electrum", "an Electrum wallet"),
    ("exodus.wallet", "an Exodus wallet"),
    (".ethereum/keystore", "an Ethereum keystore"),
    ("solana/id.json", "a Solana keypair"),
    ("com.liberty.jaxx", "a Jaxx wallet"),
    ("Local Extension Settings", "browser extension stores"),
    (
        "nkbihfbeogaeaoehlefnkodbefgpgknn",
        "the MetaMask extension store",
    ),
    (
        "bfnaelmomeimhlpmgjnjophhpkkoljpa",
        "the Phantom extension store",
    ),
    (
        "hnfanknocfeofbddgcijnmhnfnkdnaad",
        "the Coinbase Wallet extension store",
    ),
    (
        "ibnejdfjmmkpcnlpebklmnkoeoihofec",
        "the TronLink extension store",
    ),
    (
        "fhbohimaelbohpjbbldcngcnapndodjp",
        "the Binance Wallet extension store",
    ),
    (
        "fnjhmkhhmkbjkkabndcnnogagogbneec",
        "the Ronin extension store",
    ),
    (
        "egjidjbpglichdcondbcbdnbeeppgdph",
        "the Trust Wallet extension store",
    ),
];
/// Discord's token stores, and the client's own code that injectors overwrite.
const DISCORD_PATHS: [(&str, &str); 6] = [
    ("Local Storage/leveldb", "Discord's token store (leveldb)"),
    (
        "discord_desktop_core",
        "the Discord client's code (discord_desktop_core)",
    ),
    ("Local Storage\\leveldb", "Discord's token store (leveldb)"),
    ("discordcanary", "Discord Canary's profile"),
    ("discordptb", "Discord PTB's profile"),
    ("Lightcord", "Lightcord's profile"),
];
/// Files that describe the host and its users.
const SYSTEM_PATHS: [(&str, &str); 5] = [
    ("/etc/passwd", "the user list (/etc/passwd)"),
    ("/etc/shadow", "password hashes (/etc/shadow)"),
    (".bash_history", "shell history"),
    (".zsh_history", "shell history"),
    ("/proc/self/environ", "the process environment"),
];
/// Places that make code run again later, or run in CI.
const PERSISTENCE_PATHS: [(&str, &str); 12] = [
    (".github/workflows", "a GitHub Actions workflow"),
    ("authorized_keys", "SSH authorized keys"),
    ("/.profile", "a shell start-up file"),
    ("/etc/systemd/system", "a systemd service"),
    (".config/autostart", "a desktop autostart entry"),
    (".bashrc", "a shell start-up file"),
    (".zshrc", "a shell start-up file"),
    (".bash_profile", "a shell start-up file"),
    ("LaunchAgents", "a macOS launch agent"),
    (
        "Start Menu\\Programs\\Startup",
        "the Windows start-up folder",
    ),
    ("CurrentVersion\\Run", "a Windows run key"),
    ("/etc/cron", "a cron table"),
];

/// Where installed applications keep their code: a write there patches another
/// program (an IDE, a wallet app) to run the writer's code. Matched in this case
/// only (`/applications/` in a URL is an API's).
const APPLICATION_PATHS: [(&str, &str); 3] = [
    ("/Applications/", "an installed macOS application"),
    (
        "\\AppData\\Local\\Programs\\",
        "an installed Windows application",
    ),
    (
        "/AppData/Local/Programs/",
        "an installed Windows application",
    ),
];

/// The folders of the user's own documents, as path segments (matched in this
/// case only: `/documents` in a URL is an API's).
const USER_FOLDERS: [&str; 10] = [
    "/Desktop",
    "\\Desktop",
    "/Documents",
    "\\Documents",
    "/OneDrive",
    "\\OneDrive",
    "/Pictures",
    "\\Pictures",
    "My Documents",
    "/Downloads",
];

/// Shell commands that fetch something to run.
pub(crate) fn downloader(command: &str) -> Option<&'static str> {
    let lower = command.to_ascii_lowercase();
    let fetches = [
        "curl ",
        "wget ",
        "certutil",
        "bitsadmin",
        "invoke-webrequest",
        "iwr ",
        "downloadstring",
        "downloadfile",
    ]
    .iter()
    .find(|tool| lower.contains(*tool));
    if let Some(tool) = fetches {
        return Some(match *tool {
            "curl " => "curl",
            "wget " => "wget",
            "certutil" => "certutil",
            "bitsadmin" => "bitsadmin",
            _ => "PowerShell download",
        });
    }
    if lower.contains("/dev/tcp/") || lower.contains("nc -e") {
        return Some("a reverse shell");
    }
    if lower.contains("powershell") && (lower.contains(" -enc") || lower.contains(" -e ")) {
        return Some("encoded PowerShell");
    }
    None
}

/// Runs `npm publish` or repacks tarballs: how worms spread.
pub(crate) fn publishes(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("npm publish")
        || lower.contains("npm/v1/packages")
        || lower.contains("npm-publish")
}

/// Shannon entropy in bits per character.
pub(crate) fn entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for byte in text.bytes() {
        counts[usize::from(byte)] += 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "lengths far below 2^52")]
    let total = text.len() as f64;
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let p = f64::from(*count) / total;
            -p * p.log2()
        })
        .sum()
}

/// Words that have no business being hidden.
const TELLS: [&str; 14] = [
    "child_process",
    "http://",
    "https://",
    "execSync",
    "spawn",
    "eval(",
    ".npmrc",
    "/bin/sh",
    "cmd.exe",
    "powershell",
    "require(",
    "process.env",
    "unlink",
    "curl ",
];

/// How secret tokens' patterns start, and what each finds. Only patterns count (a
/// regular expression, or a string with its syntax), not a token's mention.
const TOKEN_PATTERNS: [(&str, &str); 15] = [
    ("gh[", "GitHub tokens"),
    ("ghp_", "GitHub tokens"),
    ("gho_", "GitHub tokens"),
    ("ghp|", "GitHub tokens"),
    ("github_pat_", "GitHub tokens"),
    ("npm_[", "npm tokens"),
    ("AKIA", "AWS access keys"),
    ("xox[", "Slack tokens"),
    ("xox(", "Slack tokens"),
    ("_(test|live)_", "Stripe keys"),
    ("sk_live_", "Stripe keys"),
    ("AIza", "Google API keys"),
    ("glpat-", "GitLab tokens"),
    ("PRIVATE KEY", "private keys"),
    (
        "\"type\":\\s*\"service_account\"",
        "cloud service-account keys",
    ),
];

/// The kinds of secret token a pattern finds.
pub(crate) fn token_kinds(pattern: &str) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for (start, kind) in TOKEN_PATTERNS {
        if pattern.contains(start) && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// A short decoded text that names a secret store (`.env`, `.npmrc`, `Login Data`,
/// a wallet file, `/etc/passwd`): a path a package encodes only so that reading it
/// goes unseen.
fn names_secret_store(decoded: &str) -> bool {
    const SHORT: usize = 200;
    if decoded.len() > SHORT {
        return false;
    }
    let trimmed = decoded.trim();
    if trimmed == ".env" || trimmed.ends_with("/.env") || trimmed.ends_with("\\.env") {
        return true;
    }
    let found = markers(decoded);
    found.credential.is_some()
        || found.browser.is_some()
        || found.wallet.is_some()
        || found.discord.is_some()
        || found.system.is_some()
}

/// Tells that only a payload has: processes, evaluation, shells, credentials.
pub(crate) fn dangerous_tell(decoded: &str) -> bool {
    names_secret_store(decoded)
        || [
            "child_process",
            "execSync",
            "spawn",
            "eval(",
            "/bin/sh",
            "cmd.exe",
            "powershell",
            ".npmrc",
            "process.env",
            "unlink",
            "curl ",
        ]
        .iter()
        .any(|tell| decoded.contains(tell))
}

/// What a string says once reversed or base64-decoded, when that reveals a tell.
#[cfg(test)]
pub(crate) fn hidden_text(text: &str) -> Option<(&'static str, String)> {
    if text.len() < 8 || text.len() > 100_000 {
        return None;
    }
    let found = markers(text);
    hidden_text_with(text, &found)
}

/// [`hidden_text`] with the markers already found.
pub(crate) fn hidden_text_with(text: &str, found: &Markers) -> Option<(&'static str, String)> {
    if text.len() < 8 || text.len() > 100_000 {
        return None;
    }
    if found.reversed_tell && !found.tell {
        // The automaton ignores case; the tell must read exactly once reversed.
        let reversed: String = text.chars().rev().collect();
        if TELLS.iter().any(|tell| reversed.contains(tell)) {
            return Some(("reversed", reversed));
        }
    }
    decoded_layers(text, 0)
}

/// Hex and base64, and one inside the other (a hex string of base64 of code).
fn decoded_layers(text: &str, depth: u32) -> Option<(&'static str, String)> {
    let told = |decoded: &str| {
        TELLS.iter().any(|tell| decoded.contains(tell)) || names_secret_store(decoded)
    };
    if let Some(decoded) = hex_text(text) {
        if told(&decoded) || decoded == "crypto" {
            return Some(("hex", decoded));
        }
        if depth < 2
            && let Some((_, inner)) = decoded_layers(&decoded, depth + 1)
        {
            return Some(("hex-encoded base64", inner));
        }
    }
    if !looks_base64(text, depth) {
        return None;
    }
    let reversed: String = text.chars().rev().collect();
    for candidate in [text, reversed.as_str()] {
        if let Some(decoded) = base64_text(candidate, depth) {
            if told(&decoded) {
                return Some(("base64", decoded));
            }
            if depth < 2
                && looks_base64(&decoded, depth + 1)
                && let Some((_, inner)) = decoded_layers(&decoded, depth + 1)
            {
                return Some(("nested base64", inner));
            }
        }
    }
    None
}

/// The tells, written backwards.
const REVERSED_TELLS: [&str; 14] = [
    "ssecorp_dlihc",
    "//:ptth",
    "//:sptth",
    "cnySexe",
    "nwaps",
    "(lave",
    "crmpn.",
    "hs/nib/",
    "exe.dmc",
    "llehsrewop",
    "(eriuqer",
    "vne.ssecorp",
    "knilnu",
    " lruc",
];

/// The bytes of a base64 text (standard, unpadded or URL-safe alphabet).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim();
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed.trim_end_matches('='))
        })
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('='))
        })
        .ok()
}

/// A WebAssembly module written in base64 (it starts with `\0asm`): handed to the
/// WebAssembly API, which compiles it; what it computes is not code decoded to run.
pub(crate) fn is_wasm_base64(text: &str) -> bool {
    text.starts_with("AGFzbQ")
}

/// A payload written as one long base64 or hex word: nothing but its decoder can
/// read it, so code that runs it decoded it on the way (however the decoder is
/// wrapped: a helper function, a decompressor, a variable holding `"base64"`).
pub(crate) fn is_encoded_blob(text: &str) -> bool {
    const MIN: usize = 80;
    if text.len() < MIN {
        return false;
    }
    let body = text.trim_end_matches('=');
    let has = |test: fn(&u8) -> bool| body.as_bytes().iter().any(test);
    let base64 = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
        && has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && text.len() - body.len() <= 2
        && decode_base64(text).is_some();
    let hex = text.len().is_multiple_of(2)
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && has(u8::is_ascii_digit)
        && has(u8::is_ascii_alphabetic);
    base64 || hex
}

/// The bytes of an even-length hex text.
/// Names of modules and functions that reach the machine or the network. Written
/// in hex or base64 instead of plainly, they are hidden from whoever reads the code.
const API_NAMES: [&str; 40] = [
    "require",
    "child_process",
    "exec",
    "execSync",
    "execFile",
    "spawn",
    "spawnSync",
    "fork",
    "eval",
    "Function",
    "constructor",
    "axios",
    "request",
    "post",
    "fetch",
    "http",
    "https",
    "net",
    "dns",
    "dgram",
    "readFileSync",
    "readFile",
    "writeFileSync",
    "writeFile",
    "unlinkSync",
    "readdirSync",
    "homedir",
    "hostname",
    "userInfo",
    "networkInterfaces",
    "platform",
    "env",
    "process",
    "WebSocket",
    "XMLHttpRequest",
    "sendBeacon",
    "Buffer",
    "toString",
    "fromCharCode",
    "createDecipheriv",
];

/// The API name a whole literal spells in hex or base64 (`"72657175697265"` is
/// `require`), with the encoding.
pub(crate) fn hidden_api_name(text: &str) -> Option<(&'static str, &'static str)> {
    // Hex of the longest name, and base64 of it, stay under this.
    const LONGEST: usize = 48;
    let text = text.trim();
    if text.len() < 6 || text.len() > LONGEST {
        return None;
    }
    let name_of = |bytes: &[u8]| {
        API_NAMES
            .iter()
            .copied()
            .find(|name| name.as_bytes() == bytes)
    };
    if let Some(name) = decode_hex(text).as_deref().and_then(name_of) {
        return Some(("hex", name));
    }
    // Plain words are valid base64 too (`exec` decodes to three bytes): only a
    // literal with base64's own marks, or one mixing cases and digits, is read.
    let marked = text.ends_with('=')
        || (text.bytes().any(|b| b.is_ascii_uppercase())
            && text.bytes().any(|b| b.is_ascii_lowercase())
            && text.bytes().any(|b| b.is_ascii_digit()));
    if marked && let Some(name) = decode_base64(text).as_deref().and_then(name_of) {
        return Some(("base64", name));
    }
    None
}

pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

/// The text of an even-length hex literal (`"63727970746f"` is `crypto`).
fn hex_text(text: &str) -> Option<String> {
    if text.len() < 8
        || !text.len().is_multiple_of(2)
        || !text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    bytes
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ')
        .then(|| String::from_utf8_lossy(&bytes).into_owned())
}

/// Base64 of text: long enough, only its alphabet, and mixing upper case, lower
/// case and digits (identifiers and words do not).
/// The shortest text read as base64: at the surface 12 characters (shorter ones are
/// words), inside a layer already decoded 8 (`LmVudg==` is `.env`).
fn base64_floor(depth: u32) -> usize {
    if depth == 0 { 12 } else { 8 }
}

fn looks_base64(text: &str, depth: u32) -> bool {
    let trimmed = text.trim();
    trimmed.len() >= base64_floor(depth)
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        && trimmed.bytes().any(|b| b.is_ascii_uppercase())
        && trimmed.bytes().any(|b| b.is_ascii_lowercase())
        && trimmed
            .bytes()
            .any(|b| b.is_ascii_digit() || matches!(b, b'+' | b'/' | b'='))
}

fn base64_text(text: &str, depth: u32) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.len() < base64_floor(depth)
        || !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
    {
        return None;
    }
    let bytes = decode_base64(trimmed)?;
    let printable = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    (printable * 10 >= bytes.len() * 9).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

/// What one pass over a string found, for the rules that look for words in it.
#[derive(Debug, Default)]
#[expect(clippy::struct_excessive_bools, reason = "one flag per kind of marker")]
pub(crate) struct Markers {
    pub(crate) credential: Option<&'static str>,
    pub(crate) browser: Option<&'static str>,
    pub(crate) wallet: Option<&'static str>,
    pub(crate) discord: Option<&'static str>,
    pub(crate) system: Option<&'static str>,
    pub(crate) persistence: Option<&'static str>,
    pub(crate) user_files: bool,
    pub(crate) publishes: bool,
    pub(crate) tell: bool,
    pub(crate) reversed_tell: bool,
    pub(crate) address: bool,
}

#[derive(Clone, Copy)]
enum Marker {
    Credential(&'static str),
    Browser(&'static str),
    Wallet(&'static str),
    Discord(&'static str),
    System(&'static str),
    Persistence(&'static str),
    Application(&'static str),
    UserFiles,
    Publish,
    Tell,
    ReversedTell,
    Address,
}

/// Every word the rules look for, in one automaton: a string is read once, however
/// many rules there are.
static MARKERS: LazyLock<(AhoCorasick, Vec<Marker>)> = LazyLock::new(|| {
    let patterns = &*MARKER_PATTERNS;
    let markers = marker_table()
        .into_iter()
        .map(|(_, marker)| marker)
        .collect();
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(patterns)
        .expect("the marker patterns are valid");
    (automaton, markers)
});

/// The patterns of [`MARKERS`], in its order.
static MARKER_PATTERNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    marker_table()
        .into_iter()
        .map(|(pattern, _)| pattern)
        .collect()
});

fn marker_table() -> Vec<(&'static str, Marker)> {
    let mut patterns: Vec<&'static str> = Vec::new();
    let mut markers = Vec::new();
    let mut add = |pattern: &'static str, marker: Marker| {
        patterns.push(pattern);
        markers.push(marker);
    };
    for (pattern, what) in CREDENTIAL_PATHS {
        add(pattern, Marker::Credential(what));
    }
    for (pattern, what) in BROWSER_PATHS {
        add(pattern, Marker::Browser(what));
    }
    for (pattern, what) in WALLET_PATHS {
        add(pattern, Marker::Wallet(what));
    }
    for (pattern, what) in DISCORD_PATHS {
        add(pattern, Marker::Discord(what));
    }
    for (pattern, what) in SYSTEM_PATHS {
        add(pattern, Marker::System(what));
    }
    for (pattern, what) in PERSISTENCE_PATHS {
        add(pattern, Marker::Persistence(what));
    }
    for (pattern, what) in APPLICATION_PATHS {
        add(pattern, Marker::Application(what));
    }
    for pattern in USER_FOLDERS {
        add(pattern, Marker::UserFiles);
    }
    for pattern in ["npm publish", "npm/v1/packages", "npm-publish"] {
        add(pattern, Marker::Publish);
    }
    for pattern in TELLS {
        add(pattern, Marker::Tell);
    }
    for pattern in REVERSED_TELLS {
        add(pattern, Marker::ReversedTell);
    }
    add("http", Marker::Address);
    patterns.into_iter().zip(markers).collect()
}

/// The markers in `text`, in one pass.
pub(crate) fn markers(text: &str) -> Markers {
    let (automaton, kinds) = &*MARKERS;
    let mut found = Markers::default();
    for hit in automaton.find_iter(text) {
        let kind = kinds[hit.pattern().as_usize()];
        // Profile file names are ordinary words in other cases ("local state").
        if let Marker::Browser(_)
        | Marker::Discord(_)
        | Marker::Application(_)
        | Marker::UserFiles = kind
        {
            let exact = MARKER_PATTERNS[hit.pattern().as_usize()];
            if text.get(hit.start()..hit.end()) != Some(exact) {
                continue;
            }
        }
        match kind {
            Marker::Credential(what) => found.credential = found.credential.or(Some(what)),
            Marker::Browser(what) => found.browser = found.browser.or(Some(what)),
            Marker::Wallet(what) => found.wallet = found.wallet.or(Some(what)),
            Marker::Discord(what) => found.discord = found.discord.or(Some(what)),
            Marker::System(what) => found.system = found.system.or(Some(what)),
            Marker::Persistence(what) | Marker::Application(what) => {
                found.persistence = found.persistence.or(Some(what));
            }
            Marker::UserFiles => found.user_files = true,
            Marker::Publish => found.publishes = true,
            Marker::Tell => found.tell = true,
            Marker::ReversedTell => found.reversed_tell = true,
            Marker::Address => found.address = true,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_ports_and_ips() {
        let found = addresses("get http://127.0.0.1:8000/stage2 then https://example.invalid/x");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].host, "127.0.0.1");
        assert_eq!(found[0].port, Some("8000"));
        assert!(found[0].plain_http && found[0].raw_ip());
        assert_eq!(found[1].host, "example.invalid");
        assert!(!found[1].plain_http);
    }

    #[test]
    fn hidden_text_is_revealed() {
        assert_eq!(
            hidden_text("ssecorp_dlihc").map(|(how, _)| how),
            Some("reversed")
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode("require('child_process')");
        assert_eq!(hidden_text(&encoded).map(|(how, _)| how), Some("base64"));
        assert_eq!(hidden_text("just some ordinary words"), None);
    }

    #[test]
    fn only_concrete_webhooks_count() {
        // Matched on the text after the scheme; no real endpoint is written here.
        assert!(exfiltration_service("discord.com/api/webhooks/123/abc").is_some());
        assert!(exfiltration_service("discord.com/api/webhooks/").is_none());
        assert!(exfiltration_service("https://docs.example.invalid").is_none());
        assert_eq!(
            exfiltration_service("HTTPS://Discord.com/API/Webhooks/1/x"),
            Some("a Discord webhook"),
            "case does not hide a webhook"
        );
        assert_eq!(
            exfiltration_service("x.pipedream.net/hooks.slack.com/services/T1"),
            Some("a Slack webhook"),
            "the first rule that matches names the service"
        );
        assert!(
            exfiltration_service("hooks.slack.com/services/ then hooks.slack.com/services/T1")
                .is_none(),
            "the first mention decides, as for one endpoint"
        );
    }
}
