//! The APIs the flow knows, by qualified name: what a call takes from the machine
//! (sources), where what it is given goes (sinks), and what it does to the data in
//! between. One table, so that a reviewer can read what counts.
//!
//! A qualified name is the module (or global) and the member path the callee
//! resolves to, whatever local name the code gave it: `const { request: r } =
//! require('node:https'); r(...)` is `https.request`.

use super::kinds::{Kind, Mask};

/// Where a sink sends, runs or writes what it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SinkKind {
    /// A DNS query: the name itself carries the data.
    Dns,
    /// An HTTP request (Node's clients, `fetch`, the usual libraries, XHR, beacons).
    Http,
    /// A raw socket, TLS connection, datagram or WebSocket.
    Socket,
    /// A child process.
    Exec,
    /// Code built at runtime: `eval`, `Function`, `vm`, `module._compile`.
    Code,
    /// A file written, copied or renamed.
    FileWrite,
    /// A file deleted.
    FileDelete,
    /// A file made executable.
    Chmod,
    /// The address a page element loads or submits to (`img.src`, `link.href`,
    /// `form.action`): a request from a browser, and only from one.
    PageAddress,
}

impl SinkKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Dns => "a DNS lookup",
            Self::Http => "an HTTP request",
            Self::Socket => "a socket",
            Self::Exec => "a child process",
            Self::Code => "code evaluation",
            Self::FileWrite => "a file write",
            Self::FileDelete => "a file deletion",
            Self::Chmod => "chmod",
            Self::PageAddress => "a page element's address",
        }
    }

    pub(crate) fn is_network(self) -> bool {
        matches!(self, Self::Dns | Self::Http | Self::Socket)
    }
}

/// What a call does, as the flow models it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The result carries these kinds (`os.hostname()`).
    Source(Mask),
    /// The arguments go to a sink; the result is what comes back.
    Sink(SinkKind),
    /// Creates an object whose `write`, `send`, `end`, `open` and `connect` feed
    /// the sink (`new XMLHttpRequest()`, `net.connect(...)`).
    Handle(SinkKind),
    /// Reads a file: the result's kinds depend on the path.
    ReadFile,
    /// Decodes: the result carries the input and [`Kind::Decoded`].
    Decode,
    /// The result carries nothing of the input (hashes, tests, lengths).
    Opaque,
}

/// The calls the flow knows. Everything else passes its arguments and receiver
/// through to its result.
const TABLE: &[(&str, Role)] = &[
    // Who and where the machine is.
    ("os.hostname", Role::Source(Kind::Identity.bit())),
    ("os.userInfo", Role::Source(Kind::Identity.bit())),
    ("os.networkInterfaces", Role::Source(Kind::Identity.bit())),
    (
        "os.homedir",
        Role::Source(Mask::of(&[Kind::Identity, Kind::PathHome])),
    ),
    ("os.tmpdir", Role::Source(Kind::PathTemp.bit())),
    ("os.platform", Role::Source(Kind::System.bit())),
    ("os.type", Role::Source(Kind::System.bit())),
    ("os.release", Role::Source(Kind::System.bit())),
    ("os.version", Role::Source(Kind::System.bit())),
    ("os.arch", Role::Source(Kind::System.bit())),
    ("os.machine", Role::Source(Kind::System.bit())),
    ("os.cpus", Role::Source(Kind::System.bit())),
    ("os.totalmem", Role::Source(Kind::System.bit())),
    ("os.freemem", Role::Source(Kind::System.bit())),
    ("os.uptime", Role::Source(Kind::System.bit())),
    ("process.cwd", Role::Source(Kind::Location.bit())),
    ("process.getuid", Role::Source(Kind::Identity.bit())),
    ("username.sync", Role::Source(Kind::Identity.bit())),
    ("username", Role::Source(Kind::Identity.bit())),
    (
        "node-machine-id.machineIdSync",
        Role::Source(Kind::Identity.bit()),
    ),
    ("public-ip.v4", Role::Source(Kind::Identity.bit())),
    ("clipboardy.read", Role::Source(Kind::Clipboard.bit())),
    ("clipboardy.readSync", Role::Source(Kind::Clipboard.bit())),
    (
        "electron.clipboard.readText",
        Role::Source(Kind::Clipboard.bit()),
    ),
    (
        "navigator.clipboard.readText",
        Role::Source(Kind::Clipboard.bit()),
    ),
    // Files read.
    ("fs.readFileSync", Role::ReadFile),
    ("fs.readFile", Role::ReadFile),
    ("fs.promises.readFile", Role::ReadFile),
    ("fs/promises.readFile", Role::ReadFile),
    ("fs.createReadStream", Role::ReadFile),
    ("fs.readdirSync", Role::ReadFile),
    ("fs.readdir", Role::ReadFile),
    ("fs.promises.readdir", Role::ReadFile),
    ("fs/promises.readdir", Role::ReadFile),
    ("fs-extra.readFileSync", Role::ReadFile),
    ("fs-extra.readFile", Role::ReadFile),
    ("fs-extra.readJson", Role::ReadFile),
    ("fs-extra.readJsonSync", Role::ReadFile),
    ("glob.sync", Role::ReadFile),
    // DNS.
    ("dns.lookup", Role::Sink(SinkKind::Dns)),
    ("dns.resolve", Role::Sink(SinkKind::Dns)),
    ("dns.resolve4", Role::Sink(SinkKind::Dns)),
    ("dns.resolve6", Role::Sink(SinkKind::Dns)),
    ("dns.resolveAny", Role::Sink(SinkKind::Dns)),
    ("dns.resolveTxt", Role::Sink(SinkKind::Dns)),
    ("dns.resolveCname", Role::Sink(SinkKind::Dns)),
    ("dns.resolveMx", Role::Sink(SinkKind::Dns)),
    ("dns.resolveNs", Role::Sink(SinkKind::Dns)),
    ("dns.promises.lookup", Role::Sink(SinkKind::Dns)),
    ("dns.promises.resolve", Role::Sink(SinkKind::Dns)),
    ("dns.promises.resolve4", Role::Sink(SinkKind::Dns)),
    ("dns.promises.resolveTxt", Role::Sink(SinkKind::Dns)),
    ("dns/promises.lookup", Role::Sink(SinkKind::Dns)),
    ("dns/promises.resolve", Role::Sink(SinkKind::Dns)),
    ("dns.Resolver", Role::Handle(SinkKind::Dns)),
    ("dns.promises.Resolver", Role::Handle(SinkKind::Dns)),
    // HTTP.
    ("http.request", Role::Sink(SinkKind::Http)),
    ("http.get", Role::Sink(SinkKind::Http)),
    ("https.request", Role::Sink(SinkKind::Http)),
    ("https.get", Role::Sink(SinkKind::Http)),
    ("http2.connect", Role::Handle(SinkKind::Http)),
    ("fetch", Role::Sink(SinkKind::Http)),
    ("node-fetch", Role::Sink(SinkKind::Http)),
    ("node-fetch.default", Role::Sink(SinkKind::Http)),
    ("cross-fetch", Role::Sink(SinkKind::Http)),
    ("isomorphic-fetch", Role::Sink(SinkKind::Http)),
    ("undici.fetch", Role::Sink(SinkKind::Http)),
    ("undici.request", Role::Sink(SinkKind::Http)),
    ("axios", Role::Sink(SinkKind::Http)),
    ("axios.default", Role::Sink(SinkKind::Http)),
    ("axios.get", Role::Sink(SinkKind::Http)),
    ("axios.post", Role::Sink(SinkKind::Http)),
    ("axios.put", Role::Sink(SinkKind::Http)),
    ("axios.patch", Role::Sink(SinkKind::Http)),
    ("axios.request", Role::Sink(SinkKind::Http)),
    ("axios.default.get", Role::Sink(SinkKind::Http)),
    ("axios.default.post", Role::Sink(SinkKind::Http)),
    ("got", Role::Sink(SinkKind::Http)),
    ("got.get", Role::Sink(SinkKind::Http)),
    ("got.post", Role::Sink(SinkKind::Http)),
    ("request", Role::Sink(SinkKind::Http)),
    ("request.get", Role::Sink(SinkKind::Http)),
    ("request.post", Role::Sink(SinkKind::Http)),
    ("needle", Role::Sink(SinkKind::Http)),
    ("needle.get", Role::Sink(SinkKind::Http)),
    ("needle.post", Role::Sink(SinkKind::Http)),
    ("needle.request", Role::Sink(SinkKind::Http)),
    ("superagent.get", Role::Sink(SinkKind::Http)),
    ("superagent.post", Role::Sink(SinkKind::Http)),
    ("sync-request", Role::Sink(SinkKind::Http)),
    ("phin", Role::Sink(SinkKind::Http)),
    ("$.ajax", Role::Sink(SinkKind::Http)),
    ("$.post", Role::Sink(SinkKind::Http)),
    ("$.get", Role::Sink(SinkKind::Http)),
    ("jQuery.ajax", Role::Sink(SinkKind::Http)),
    ("navigator.sendBeacon", Role::Sink(SinkKind::Http)),
    ("XMLHttpRequest", Role::Handle(SinkKind::Http)),
    ("request-promise", Role::Sink(SinkKind::Http)),
    ("request-promise.get", Role::Sink(SinkKind::Http)),
    ("request-promise.post", Role::Sink(SinkKind::Http)),
    ("request-promise-native", Role::Sink(SinkKind::Http)),
    ("request-promise-native.get", Role::Sink(SinkKind::Http)),
    ("request-promise-native.post", Role::Sink(SinkKind::Http)),
    ("requestretry", Role::Sink(SinkKind::Http)),
    ("bent", Role::Sink(SinkKind::Http)),
    ("simple-get", Role::Sink(SinkKind::Http)),
    ("simple-get.concat", Role::Sink(SinkKind::Http)),
    ("ky", Role::Sink(SinkKind::Http)),
    ("ky.get", Role::Sink(SinkKind::Http)),
    ("ky.post", Role::Sink(SinkKind::Http)),
    ("make-fetch-happen", Role::Sink(SinkKind::Http)),
    ("wretch", Role::Sink(SinkKind::Http)),
    ("centra", Role::Sink(SinkKind::Http)),
    ("download", Role::Sink(SinkKind::Http)),
    ("axios.create", Role::Handle(SinkKind::Http)),
    ("got.extend", Role::Handle(SinkKind::Http)),
    // Sockets.
    ("net.connect", Role::Handle(SinkKind::Socket)),
    ("net.createConnection", Role::Handle(SinkKind::Socket)),
    ("net.Socket", Role::Handle(SinkKind::Socket)),
    ("tls.connect", Role::Handle(SinkKind::Socket)),
    ("dgram.createSocket", Role::Handle(SinkKind::Socket)),
    ("WebSocket", Role::Handle(SinkKind::Socket)),
    ("ws", Role::Handle(SinkKind::Socket)),
    ("ws.WebSocket", Role::Handle(SinkKind::Socket)),
    ("socket.io-client", Role::Handle(SinkKind::Socket)),
    ("socket.io-client.io", Role::Handle(SinkKind::Socket)),
    // File transfer and mail: what they upload or send leaves the machine.
    ("ftp", Role::Handle(SinkKind::Socket)),
    ("basic-ftp.Client", Role::Handle(SinkKind::Socket)),
    ("ssh2-sftp-client", Role::Handle(SinkKind::Socket)),
    ("nodemailer.createTransport", Role::Handle(SinkKind::Socket)),
    // Processes.
    ("child_process.exec", Role::Sink(SinkKind::Exec)),
    ("child_process.execSync", Role::Sink(SinkKind::Exec)),
    ("child_process.spawn", Role::Sink(SinkKind::Exec)),
    ("child_process.spawnSync", Role::Sink(SinkKind::Exec)),
    ("child_process.execFile", Role::Sink(SinkKind::Exec)),
    ("child_process.execFileSync", Role::Sink(SinkKind::Exec)),
    ("child_process.fork", Role::Sink(SinkKind::Exec)),
    ("shelljs.exec", Role::Sink(SinkKind::Exec)),
    ("execa", Role::Sink(SinkKind::Exec)),
    ("execa.execa", Role::Sink(SinkKind::Exec)),
    ("execa.sync", Role::Sink(SinkKind::Exec)),
    ("execa.command", Role::Sink(SinkKind::Exec)),
    ("execa.execaSync", Role::Sink(SinkKind::Exec)),
    ("execa.execaCommand", Role::Sink(SinkKind::Exec)),
    ("cross-spawn", Role::Sink(SinkKind::Exec)),
    ("cross-spawn.sync", Role::Sink(SinkKind::Exec)),
    // Code built at runtime.
    ("eval", Role::Sink(SinkKind::Code)),
    ("Function", Role::Sink(SinkKind::Code)),
    ("vm.runInThisContext", Role::Sink(SinkKind::Code)),
    ("vm.runInNewContext", Role::Sink(SinkKind::Code)),
    ("vm.runInContext", Role::Sink(SinkKind::Code)),
    ("vm.compileFunction", Role::Sink(SinkKind::Code)),
    ("vm.Script", Role::Sink(SinkKind::Code)),
    ("module._compile", Role::Sink(SinkKind::Code)),
    // Markup written into the page as it loads runs its `<script>`s.
    ("document.write", Role::Sink(SinkKind::Code)),
    ("document.writeln", Role::Sink(SinkKind::Code)),
    ("module.constructor", Role::Sink(SinkKind::Code)),
    // Deserialisers that call the functions they revive.
    ("node-serialize.unserialize", Role::Sink(SinkKind::Code)),
    // Files changed.
    ("fs.writeFile", Role::Sink(SinkKind::FileWrite)),
    ("fs.writeFileSync", Role::Sink(SinkKind::FileWrite)),
    ("fs.appendFile", Role::Sink(SinkKind::FileWrite)),
    ("fs.appendFileSync", Role::Sink(SinkKind::FileWrite)),
    ("fs.createWriteStream", Role::Handle(SinkKind::FileWrite)),
    ("fs.copyFile", Role::Sink(SinkKind::FileWrite)),
    ("fs.copyFileSync", Role::Sink(SinkKind::FileWrite)),
    ("fs.rename", Role::Sink(SinkKind::FileWrite)),
    ("fs.renameSync", Role::Sink(SinkKind::FileWrite)),
    ("fs.cp", Role::Sink(SinkKind::FileWrite)),
    ("fs.cpSync", Role::Sink(SinkKind::FileWrite)),
    ("fs.promises.writeFile", Role::Sink(SinkKind::FileWrite)),
    ("fs.promises.appendFile", Role::Sink(SinkKind::FileWrite)),
    ("fs/promises.writeFile", Role::Sink(SinkKind::FileWrite)),
    ("fs/promises.appendFile", Role::Sink(SinkKind::FileWrite)),
    ("fs-extra.outputFile", Role::Sink(SinkKind::FileWrite)),
    ("fs-extra.outputFileSync", Role::Sink(SinkKind::FileWrite)),
    ("fs-extra.writeFile", Role::Sink(SinkKind::FileWrite)),
    ("fs-extra.writeFileSync", Role::Sink(SinkKind::FileWrite)),
    ("fs.unlink", Role::Sink(SinkKind::FileDelete)),
    ("fs.unlinkSync", Role::Sink(SinkKind::FileDelete)),
    ("fs.rm", Role::Sink(SinkKind::FileDelete)),
    ("fs.rmSync", Role::Sink(SinkKind::FileDelete)),
    ("fs.rmdir", Role::Sink(SinkKind::FileDelete)),
    ("fs.rmdirSync", Role::Sink(SinkKind::FileDelete)),
    ("fs.promises.rm", Role::Sink(SinkKind::FileDelete)),
    ("fs.promises.unlink", Role::Sink(SinkKind::FileDelete)),
    ("fs/promises.rm", Role::Sink(SinkKind::FileDelete)),
    ("fs/promises.unlink", Role::Sink(SinkKind::FileDelete)),
    ("fs-extra.remove", Role::Sink(SinkKind::FileDelete)),
    ("fs-extra.removeSync", Role::Sink(SinkKind::FileDelete)),
    ("rimraf", Role::Sink(SinkKind::FileDelete)),
    ("rimraf.sync", Role::Sink(SinkKind::FileDelete)),
    ("fs.chmod", Role::Sink(SinkKind::Chmod)),
    ("fs.chmodSync", Role::Sink(SinkKind::Chmod)),
    ("fs.promises.chmod", Role::Sink(SinkKind::Chmod)),
    // Decoders.
    ("atob", Role::Decode),
    ("Buffer.from", Role::Decode),
    ("Buffer", Role::Decode),
    ("String.fromCharCode", Role::Decode),
    ("crypto.createDecipher", Role::Decode),
    ("crypto.createDecipheriv", Role::Decode),
    ("zlib.inflateSync", Role::Decode),
    ("zlib.gunzipSync", Role::Decode),
    ("zlib.inflateRawSync", Role::Decode),
    ("zlib.unzipSync", Role::Decode),
    ("zlib.brotliDecompressSync", Role::Decode),
    // One-way or boolean results.
    ("crypto.createHash", Role::Opaque),
    ("crypto.createHmac", Role::Opaque),
    ("crypto.randomBytes", Role::Opaque),
    ("crypto.randomUUID", Role::Opaque),
    ("fs.existsSync", Role::Opaque),
    ("fs.exists", Role::Opaque),
    ("fs.statSync", Role::Opaque),
    ("fs.lstatSync", Role::Opaque),
    ("fs.accessSync", Role::Opaque),
    ("Boolean", Role::Opaque),
    ("Number", Role::Opaque),
    ("parseInt", Role::Opaque),
    ("parseFloat", Role::Opaque),
    ("isNaN", Role::Opaque),
    ("Array.isArray", Role::Opaque),
    ("Object.keys", Role::Opaque),
    ("Math.max", Role::Opaque),
    ("Math.min", Role::Opaque),
    ("Math.floor", Role::Opaque),
    ("Math.random", Role::Opaque),
    ("Date.now", Role::Opaque),
    ("console.log", Role::Opaque),
    ("console.error", Role::Opaque),
    ("console.warn", Role::Opaque),
    ("setTimeout", Role::Opaque),
    ("setInterval", Role::Opaque),
];

/// Methods whose result says nothing of the value they are called on: tests,
/// lengths, hashes, signatures, derived addresses.
const OPAQUE_METHODS: &[&str] = &[
    "digest",
    "test",
    "includes",
    "startsWith",
    "endsWith",
    "indexOf",
    "lastIndexOf",
    "some",
    "every",
    "has",
    "hasOwnProperty",
    "localeCompare",
    "findIndex",
    "sign",
    "signTransaction",
    "signMessage",
    "signTypedData",
    "getAddress",
    "getPublicKey",
    "verify",
    "keccak256",
    "sha256",
    "hash",
    "log",
    "warn",
    "error",
    "info",
    "debug",
];

/// Methods that put their argument into the object they are called on
/// (`data.push(os.hostname())`, `form.append('h', …)`).
pub(crate) const FILLING_METHODS: &[&str] = &[
    "push", "unshift", "append", "set", "add", "assign", "concat", "write", "addRange", "addAll",
    "extend", "merge", "insert", "put", "enqueue",
];

/// Clients of chat webhooks and bots: whatever they send goes to a service that
/// takes anyone's data (`new WebhookClient(id, token).send(…)`).
pub(crate) const WEBHOOK_CLIENTS: &[(&str, &str)] = &[
    ("discord.js.WebhookClient", "a Discord webhook"),
    ("discord-webhook-node.Webhook", "a Discord webhook"),
    ("webhook-discord.Webhook", "a Discord webhook"),
    ("node-telegram-bot-api", "a Telegram bot"),
    ("telegraf.Telegraf", "a Telegram bot"),
];

/// Methods through which a handle's sink receives what it sends.
pub(crate) const HANDLE_METHODS: &[&str] = &[
    "write",
    "end",
    "send",
    "open",
    "connect",
    "emit",
    "setHeader",
    // Uploads and mail (`ftp.put`, `basic-ftp`'s `uploadFrom`, `sendMail`).
    "put",
    "append",
    "uploadFrom",
    "sendMail",
    // A `dns.Resolver`'s lookups: the name asked is what leaves.
    "resolve",
    "resolve4",
    "resolve6",
    "resolveTxt",
    "resolveAny",
    "resolveCname",
    "resolveMx",
    "resolveNs",
    "reverse",
];

/// The role of a call whose callee resolves to `qualified`.
pub(crate) fn role(qualified: &str) -> Option<Role> {
    let qualified = normalise(qualified);
    if let Some((_, role)) = TABLE.iter().find(|(name, _)| *name == qualified) {
        return Some(*role);
    }
    // `module._compile`, `Module.prototype._compile`, `m._compile` alike.
    if qualified.ends_with("._compile") {
        return Some(Role::Sink(SinkKind::Code));
    }
    // `fs.promises.x` and `require('fs/promises').x`, `fs-extra.x` as `fs.x`.
    for (prefix, base) in [
        ("fs-extra.", "fs."),
        ("graceful-fs.", "fs."),
        ("promise-fs.", "fs."),
        ("fs/promises.", "fs."),
        ("mz/fs.", "fs."),
        ("fs.promises.", "fs."),
    ] {
        if let Some(rest) = qualified.strip_prefix(prefix) {
            return role(&format!("{base}{rest}"));
        }
    }
    None
}

/// Whether a method name, on any receiver, gives a result that carries none of it.
pub(crate) fn opaque_method(name: &str) -> bool {
    OPAQUE_METHODS.contains(&name)
}

/// `node:fs` as `fs`, and globals reached through `global`, `globalThis`, `window`
/// or `self` as themselves.
fn normalise(qualified: &str) -> &str {
    let mut name = qualified.strip_prefix("node:").unwrap_or(qualified);
    for prefix in ["globalThis.", "global.", "window.", "self."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest;
        }
    }
    name
}

/// Spawn functions distinctive enough to count when the module they came from was
/// loaded through a name the flow could not compute.
pub(crate) fn distinct_member_role(member: &str) -> Option<Role> {
    match member {
        "execSync" | "spawnSync" | "execFileSync" | "execFile" => Some(Role::Sink(SinkKind::Exec)),
        "hostname" | "userInfo" | "networkInterfaces" => Some(Role::Source(Kind::Identity.bit())),
        "homedir" => Some(Role::Source(Mask::of(&[Kind::Identity, Kind::PathHome]))),
        "readFileSync" => Some(Role::ReadFile),
        "writeFileSync" => Some(Role::Sink(SinkKind::FileWrite)),
        "unlinkSync" | "rmSync" => Some(Role::Sink(SinkKind::FileDelete)),
        "chmodSync" => Some(Role::Sink(SinkKind::Chmod)),
        "runInThisContext" | "runInNewContext" => Some(Role::Sink(SinkKind::Code)),
        _ => None,
    }
}

/// Spawn functions called by a bare name that nothing in the file declares: Node has
/// no such globals, so the name was set up where the flow cannot see (a packer's
/// start-up code, `global.exec = …` in another file).
pub(crate) fn undeclared_role(name: &str) -> Option<Role> {
    matches!(
        name,
        "exec" | "execSync" | "execAsync" | "spawn" | "spawnSync" | "execFile" | "execFileSync"
    )
    .then_some(Role::Sink(SinkKind::Exec))
}

/// Methods that hand over a wallet's secret (MetaMask's keyring controller and the
/// wallet libraries named like it): what they return is key material.
pub(crate) fn exports_wallet_secret(method: &str) -> bool {
    matches!(
        method,
        "exportSeedPhrase"
            | "exportAccount"
            | "exportPrivateKey"
            | "exportMnemonic"
            | "getSeedPhrase"
            | "getMnemonic"
            | "revealSeedPhrase"
    )
}

/// Functions that build a path from parts (`path.join`, `path.resolve`, and the
/// same from `pathe` and `upath`).
pub(crate) fn builds_paths(qualified: &str) -> bool {
    let Some((module, function)) = qualified.rsplit_once('.') else {
        return false;
    };
    matches!(function, "join" | "resolve")
        && matches!(
            module.trim_start_matches("node:"),
            "path" | "path.posix" | "path.win32" | "path/posix" | "pathe" | "upath"
        )
}

/// Methods every function, array, string or promise has: a call of one is almost
/// always the engine's, so it is not bound by name to a package's method.
pub(crate) const STANDARD_METHODS: &[&str] = &[
    "call",
    "apply",
    "bind",
    "then",
    "catch",
    "finally",
    "join",
    "concat",
    "push",
    "pop",
    "shift",
    "unshift",
    "slice",
    "splice",
    "map",
    "filter",
    "reduce",
    "forEach",
    "some",
    "every",
    "find",
    "findIndex",
    "flat",
    "flatMap",
    "sort",
    "reverse",
    "fill",
    "at",
    "includes",
    "indexOf",
    "lastIndexOf",
    "replace",
    "replaceAll",
    "split",
    "trim",
    "trimStart",
    "trimEnd",
    "toString",
    "valueOf",
    "toLowerCase",
    "toUpperCase",
    "startsWith",
    "endsWith",
    "padStart",
    "padEnd",
    "charAt",
    "charCodeAt",
    "substring",
    "substr",
    "match",
    "matchAll",
    "repeat",
    "hasOwnProperty",
];

/// The engine's global objects: `JSON.stringify(x)` is never a package's method.
pub(crate) const BUILTIN_OBJECTS: &[&str] = &[
    "JSON",
    "Object",
    "Math",
    "Array",
    "Promise",
    "Reflect",
    "Buffer",
    "console",
    "String",
    "Number",
    "Date",
    "Symbol",
    "Intl",
    "Atomics",
    "BigInt",
    "Proxy",
    "Error",
    "RegExp",
    "Map",
    "Set",
    "WeakMap",
    "WeakSet",
    "ArrayBuffer",
    "DataView",
    "URL",
    "URLSearchParams",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_qualified_name() {
        assert_eq!(role("node:https.request"), Some(Role::Sink(SinkKind::Http)));
        assert_eq!(role("globalThis.fetch"), Some(Role::Sink(SinkKind::Http)));
        assert_eq!(role("fs-extra.readFileSync"), Some(Role::ReadFile));
        assert_eq!(
            role("Module.prototype._compile"),
            Some(Role::Sink(SinkKind::Code))
        );
        assert_eq!(role("lodash.get"), None);
        assert!(opaque_method("digest"));
    }
}
