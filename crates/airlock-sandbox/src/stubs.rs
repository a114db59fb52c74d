//! Stand-ins for a package's dependencies. The sandbox installs no dependency, so
//! a script that requires one would stop at its first line; each dependency is a
//! stub instead. HTTP clients are thin shims over Node's own `fetch`, so that what
//! a script sends through them is seen (the name looked up); packages that are `fs`
//! with another face (fs-extra, graceful-fs, promise-fs) are the real `fs`; `pm2` starts what it is
//! given; anything else answers every property, call and `new` with itself (calling
//! back what it is given, fetching URLs it is given), so that the script goes on.
//! A module required that is not there at all gets a stub through `preload`.

use std::path::Path;

use crate::Error;

/// Names whose stub makes real requests (through Node's `fetch`).
pub(crate) const HTTP_CLIENTS: &[&str] = &[
    "axios",
    "node-fetch",
    "cross-fetch",
    "isomorphic-fetch",
    "request",
    "request-promise",
    "got",
    "needle",
    "phin",
];

/// Answers every property, call and `new` with a stand-in like itself, and is a
/// promise that settles (to a value like it that is not a promise). A call or `new`
/// given a URL (or an object with one) fetches it (a `ws://` one as a WebSocket
/// upgrade), so that a client this file does not know still shows where it was
/// pointed. A stand-in keeps the objects it is given (and, as a promise, waits for
/// the promises among them), as the collection classes of
/// utility libraries do (`List.fromArray([...])`, `list.addRange(other)`,
/// `collection.set(key, value)`): `map`, `forEach`, `filter` and Array's other
/// visiting methods run their function over them, and iterating, `size` and
/// `length` see them, so code that keeps its targets in such a class still visits
/// them. `delay(ms)`, `sleep(ms)` and the like wait (3 s at most), as the promise
/// libraries' do. `listen(port)` opens a real server on that port for a second, as
/// a web framework's app would, so a server started at install shows. Any other function it is given is a callback: called once, later, as
/// `(null, value)` (and as `(value)` when that throws at once), so that code
/// waiting on it goes on; a stand-in never fails, so neither its `catch` nor its
/// `error` listeners are called. As a string a stand-in is `stub`, as a number 0.
pub(crate) const ANYTHING: &str = r"'use strict';
const CALLBACKS = 64, ITEMS = 1024, VISITS = 20000;
const VISITING = new Set(['map', 'forEach', 'filter', 'find', 'findIndex', 'some', 'every', 'reduce', 'flatMap', 'each', 'mapValues']);
const SLEEPING = new Set(['delay', 'sleep', 'wait', 'pause']);
const LISTENING = new Set(['on', 'once', 'addListener', 'prependListener']);
let called = 0, visits = 0;
// One table for every stub module, so that one stub's objects reach another's calls.
const kept = globalThis[Symbol.for('airlock.stub.kept')] || (globalThis[Symbol.for('airlock.stub.kept')] = new WeakMap());
const address = (value) => typeof value === 'string' && /^(https?|wss?):\/\//i.test(value) ? value : null;
function open(target) {
  if (!/^wss?:/i.test(target)) return fetch(target).catch(() => {});
  const url = new URL(target.replace(/^ws/i, 'http'));
  const client = require(url.protocol === 'https:' ? 'https' : 'http');
  const headers = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'YWlybG9jay1zYW5kYm94IQ==' };
  client.get(url, { headers }).on('error', () => {}).on('upgrade', (response, socket) => socket.destroy());
}
function later(callback) {
  if (called >= CALLBACKS) return;
  called += 1;
  const value = make([], false);
  setImmediate(() => {
    try { callback(null, value); } catch (e) { try { callback(value, value); } catch (e) {} }
  });
}
// The objects an argument stands for: an array's or a stand-in's elements, a Set's
// or a Map's values, or the object itself; strings and numbers are keys, not kept.
function members(arg) {
  if (kept.has(arg)) return kept.get(arg);
  if (Array.isArray(arg)) return arg;
  if (arg instanceof Set || arg instanceof Map) return [...arg.values()];
  return arg !== null && typeof arg === 'object' ? [arg] : [];
}
function keep(items, args) {
  for (const arg of args) {
    for (const item of members(arg)) if (items.length < ITEMS) items.push(item);
  }
}
// `fn` over a snapshot of `items`, as Array's method `name` runs it, each call
// guarded; an array answered is a stand-in holding it.
function visit(items, name, fn, rest) {
  const guarded = (...args) => {
    if (visits >= VISITS) return undefined;
    visits += 1;
    try { return fn(...args); } catch (e) { return undefined; }
  };
  const method = typeof Array.prototype[name] === 'function' ? name : name === 'mapValues' ? 'map' : 'forEach';
  const result = Array.prototype[method].call(items.slice(), guarded, ...rest);
  return Array.isArray(result) ? make(result, true) : result;
}
// A call of the stand-in `name` of a stand-in holding `items` (the module itself
// when `name` is undefined).
function call(items, name, args) {
  try {
    for (const arg of args) {
      const target = address(arg) || (arg && typeof arg === 'object' ? address(String(arg.url || arg.uri || arg.href || '')) : null);
      if (target) open(target);
    }
    if (VISITING.has(name) && typeof args[0] === 'function' && !kept.has(args[0])) {
      return visit(items, name, args[0], args.slice(1));
    }
    // A promise library's pause waits (up to a few seconds), as the script expects.
    if (SLEEPING.has(name) && typeof args[0] === 'number') {
      return new Promise((done) => setTimeout(done, Math.min(Math.max(args[0], 0), 3000), args[1]));
    }
    // A stand-in never fails: its promise's `catch` and its `error` listeners wait forever.
    if (name === 'catch' || (args[0] === 'error' && LISTENING.has(name))) return make([], true);
    if (name === 'listen') serve(args);
    for (const arg of args) if (typeof arg === 'function' && !kept.has(arg)) later(arg);
    keep(items, args);
  } catch (e) {}
  const made = [];
  keep(made, args);
  return make(made, true);
}
// A web framework's `listen(port[, host])` (or `listen({ port, host })`): a real
// server on that port, closed after a second, so that the bind is in the trace.
function serve(args) {
  const numeric = (value) => typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
  const options = args.find((arg) => arg && typeof arg === 'object' && !kept.has(arg) && numeric(arg.port));
  const port = options ? options.port : args.find(numeric);
  if (port === undefined) return;
  const host = options ? options.host : args.find((arg) => typeof arg === 'string' && !numeric(arg));
  const server = require('net').createServer((socket) => socket.destroy());
  server.on('error', () => {});
  server.listen(Number(port), typeof host === 'string' ? host : undefined);
  server.unref();
  setTimeout(() => server.close(), 1000).unref();
}
// Waits for the promises among `items`, as `Promise.all` (Bluebird's `all`) would.
const settled = (items) => Promise.all(items.filter((item) => item instanceof Promise).map((item) => item.catch(() => {})));
// A stand-in holding `items`; called, it acts on `owner`'s (the stand-in it was read from).
function make(items, thenable, owner, name) {
  const proxy = new Proxy(function () {}, {
    get(target, key) {
      if (key === 'then') return thenable ? (ok, bad) => settled(items).then(() => make(items, false)).then(ok, bad) : undefined;
      if (key === Symbol.toPrimitive) return (hint) => hint === 'number' ? 0 : 'stub';
      if (key === Symbol.iterator) return function* () { yield* items.slice(); };
      if (key === '__esModule') return false;
      if (key === 'size' || key === 'length' || key === 'count') return items.length;
      if (typeof key === 'symbol') return undefined;
      return make([], true, items, key);
    },
    apply(target, self, args) { return call(owner || items, name, args); },
    construct(target, args) { return call([], undefined, args); },
  });
  kept.set(proxy, items);
  return proxy;
}
module.exports = make([], true);
";

pub(crate) const HTTP: &str = r"'use strict';
const BODY_ONLY = false;
function target(first, options) {
  if (typeof first === 'string' || first instanceof URL) return [String(first), options || {}];
  const config = first || {};
  return [String(config.url || config.uri || config.href || ''), config];
}
function body(config, data) {
  const value = data !== undefined ? data : (config.data !== undefined ? config.data : (config.body !== undefined ? config.body : config.json !== undefined ? config.json : config.form));
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value);
}
function answer(text, status) {
  return { data: text, body: text, status, statusCode: status, ok: status < 400, headers: {},
    text: () => Promise.resolve(text), json: () => Promise.resolve().then(() => JSON.parse(text)),
    buffer: () => Promise.resolve(Buffer.from(text)), arrayBuffer: () => Promise.resolve(Buffer.from(text)) };
}
function send(method, first, options, data) {
  const [url, config] = target(first, options);
  return fetch(url, { method: (config.method || method || 'GET').toUpperCase(), headers: config.headers || {}, body: body(config, data) })
    .then((response) => response.text().then((text) => answer(text, response.status)), () => answer('', 200));
}
function client(first, options, callback) {
  if (typeof options === 'function') { callback = options; options = undefined; }
  const done = send(undefined, first, options);
  if (typeof callback === 'function') done.then((answer) => callback(null, answer, answer.body));
  return BODY_ONLY ? done.then((answer) => answer.body) : done;
}
for (const method of ['get', 'delete', 'head', 'options']) client[method] = (url, config, callback) => client(url, Object.assign({}, typeof config === 'object' ? config : {}, { method }), typeof config === 'function' ? config : callback);
for (const method of ['post', 'put', 'patch']) client[method] = (url, data, config) => send(method, url, config, data);
client.create = () => client;
client.defaults = (() => client);
client.default = client;
client.request = client;
client.fetch = client;
module.exports = client;
";

/// `request-promise`: the promise is of the body.
pub(crate) fn http_body_only() -> String {
    HTTP.replacen("const BODY_ONLY = false;", "const BODY_ONLY = true;", 1)
}

/// Names whose promise is of the body itself.
pub(crate) const BODY_CLIENTS: &[&str] = &["request-promise", "request-promise-native"];

/// `sync-request` and `then-request`: `(method, url, options)`; the request is
/// made in the background and an empty success answered at once.
pub(crate) const METHOD_FIRST: &str = r"'use strict';
function request(method, url, options) {
  const config = options || {};
  const body = config.json !== undefined ? JSON.stringify(config.json) : config.body;
  fetch(String(url), { method: String(method || 'GET').toUpperCase(), headers: config.headers || {}, body }).catch(() => {});
  const answer = { statusCode: 200, headers: {}, body: '', getBody: () => '', url: String(url) };
  return answer;
}
module.exports = request;
module.exports.default = request;
";

/// Packages that are Node's `fs` with another face: the real file system behind
/// them, so what a script reads and writes through one is what it does.
pub(crate) const FS_WRAPPERS: &[&str] =
    &["fs-extra", "graceful-fs", "promise-fs", "fs-promise", "mz"];

/// `fs` itself, each call answering a callback when given one and a promise when
/// not (fs-extra, promise-fs), with fs-extra's common additions.
pub(crate) const FS: &str = r"'use strict';
const fs = require('fs'), path = require('path');
const api = Object.assign({}, fs);
for (const [name, call] of Object.entries(fs.promises)) {
  if (typeof call !== 'function' || typeof fs[name] !== 'function') continue;
  api[name] = (...args) => typeof args[args.length - 1] === 'function' ? fs[name](...args) : call(...args);
}
const either = (promise, args) => {
  const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : null;
  if (!callback) return promise;
  promise.then((value) => callback(null, value), (error) => callback(error));
};
const rest = (args) => typeof args[args.length - 1] === 'function' ? args.slice(0, -1) : args;
api.exists = (...args) => either(fs.promises.access(args[0]).then(() => true, () => false), args);
api.pathExists = api.exists;
api.pathExistsSync = fs.existsSync;
api.ensureDir = api.mkdirp = api.mkdirs = (...args) => either(fs.promises.mkdir(args[0], { recursive: true }), args);
api.ensureDirSync = api.mkdirpSync = api.mkdirsSync = (dir) => fs.mkdirSync(dir, { recursive: true });
api.readJson = api.readJSON = (...args) => either(fs.promises.readFile(args[0], 'utf8').then(JSON.parse), args);
api.readJsonSync = api.readJSONSync = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
api.writeJson = api.writeJSON = (...args) => either(fs.promises.writeFile(args[0], JSON.stringify(args[1], null, 2)), args);
api.writeJsonSync = api.writeJSONSync = (file, value) => fs.writeFileSync(file, JSON.stringify(value, null, 2));
api.outputFile = (...args) => either(fs.promises.mkdir(path.dirname(args[0]), { recursive: true }).then(() => fs.promises.writeFile(...rest(args))), args);
api.outputFileSync = (file, ...more) => { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, ...more); };
api.remove = (...args) => either(fs.promises.rm(args[0], { recursive: true, force: true }), args);
api.removeSync = (target) => fs.rmSync(target, { recursive: true, force: true });
api.copy = (...args) => either(fs.promises.cp(args[0], args[1], { recursive: true }), args);
api.copySync = (from, to) => fs.cpSync(from, to, { recursive: true });
api.move = (...args) => either(fs.promises.rename(args[0], args[1]), args);
api.moveSync = fs.renameSync;
api.emptyDir = (...args) => either(fs.promises.rm(args[0], { recursive: true, force: true }).then(() => fs.promises.mkdir(args[0], { recursive: true })), args);
api.fs = api;
api.promises = fs.promises;
api.default = api;
module.exports = api;
";

/// `pm2`'s API: `connect` and `start` call back, and `start` runs its script
/// detached, as pm2's daemon would.
pub(crate) const PM2: &str = r"'use strict';
const { spawn } = require('child_process');
const path = require('path');
const later = (callback, ...args) => { if (typeof callback === 'function') setImmediate(() => { try { callback(...args); } catch (e) {} }); };
function start(options, second, third) {
  const script = typeof options === 'string' ? options : options && options.script;
  if (script) {
    const cwd = (options && options.cwd) || process.cwd();
    try { spawn(process.execPath, [path.resolve(cwd, String(script))], { cwd, detached: true, stdio: 'ignore' }).unref(); } catch (e) {}
  }
  later([second, third].find((f) => typeof f === 'function'), null, []);
}
const quiet = (name, callback) => later(typeof name === 'function' ? name : callback, null, []);
module.exports = { connect: quiet, start, stop: quiet, restart: quiet, delete: quiet, list: quiet, describe: quiet, disconnect() {}, launchBus: (callback) => later(callback, null, { on() {} }) };
";

/// Which stand-in a dependency gets, by its name: the first row naming it, and
/// `any` for every other name. Every place that makes a stub (the install's
/// `node_modules`, a `require` of a module that is not there, a script's own
/// `npm install`) reads this table.
pub(crate) const KINDS: &[(&str, &[&str])] = &[
    ("http-body", BODY_CLIENTS),
    ("http", HTTP_CLIENTS),
    ("method", &["sync-request", "then-request"]),
    ("pm2", &["pm2"]),
    ("fs", FS_WRAPPERS),
];

/// The stand-in kind of the package `name`.
pub(crate) fn kind(name: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map_or("any", |(kind, _)| kind)
}

/// Every kind of stand-in, `any` included.
pub(crate) fn kinds() -> impl Iterator<Item = &'static str> {
    std::iter::once("any").chain(KINDS.iter().map(|(kind, _)| *kind))
}

/// The code of the stand-in `kind` (`any` for a kind the table does not have).
pub(crate) fn code(kind: &str) -> String {
    match kind {
        "http" => HTTP.to_owned(),
        "http-body" => http_body_only(),
        "method" => METHOD_FIRST.to_owned(),
        "pm2" => PM2.to_owned(),
        "fs" => FS.to_owned(),
        _ => ANYTHING.to_owned(),
    }
}

/// The module every Node process in the sandbox loads first (`NODE_OPTIONS`): a
/// `require` of a module that is not there (an undeclared dependency, a file the
/// tarball lacks) gets the stub its name calls for instead of failing. Only
/// `require` itself: `require.resolve`, which installers use to look for their
/// platform's binary package, still fails as it would.
pub(crate) fn preload() -> String {
    let record = crate::Layout::RECORD_DIR;
    // `[name, kind]` pairs, the first row naming a package first.
    let mut pairs: Vec<String> = Vec::new();
    let mut named: Vec<&str> = Vec::new();
    for (kind, names) in KINDS {
        for name in *names {
            if !named.contains(name) {
                named.push(name);
                pairs.push(format!("['{name}', '{kind}']"));
            }
        }
    }
    let kinds = format!("[{}]", pairs.join(", "));
    format!(
        r"'use strict';
const Module = require('module');
const load = Module._load;
if (require('fs').existsSync('{record}/{windows}')) {{
  Object.defineProperty(process, 'platform', {{ value: 'win32' }});
  const os = require('os');
  os.platform = () => 'win32';
  os.type = () => 'Windows_NT';
  os.release = () => '10.0.22631';
}}
const kinds = new Map({kinds});
function stub(request) {{
  const parts = request.split('/');
  const name = request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return `{record}/stub-${{kinds.get(name) || 'any'}}.js`;
}}
Module._load = function (request, parent, isMain) {{
  try {{
    return load.apply(this, arguments);
  }} catch (error) {{
    if (isMain || !error || error.code !== 'MODULE_NOT_FOUND' || typeof request !== 'string'
      || Module.isBuiltin(request) || !String(error.message).includes(`'${{request}}'`)) throw error;
    return load.call(this, stub(request), parent, false);
  }}
}};
// The environment variables looked for and not found, noted for a run that sets them.
{{
  const fs = require('fs'), env = process.env, noted = new Set();
  const note = (key) => {{
    if (typeof key !== 'string' || noted.size >= 256 || noted.has(key) || key in Object.prototype
      || key === 'toJSON' || key === 'then' || Object.prototype.hasOwnProperty.call(env, key)) return;
    noted.add(key);
    try {{ fs.appendFileSync('{record}/{looked_for}', key + '\n'); }} catch (e) {{}}
  }};
  process.env = new Proxy(env, {{
    get(target, key) {{ note(key); return Reflect.get(target, key); }},
    has(target, key) {{ note(key); return Reflect.has(target, key); }},
    // Written straight to the environment (through the proxy, a new name would be
    // defined on it with a descriptor Node's environment refuses).
    set(target, key, value) {{ target[key] = value; return true; }},
    deleteProperty(target, key) {{ return delete target[key]; }},
  }});
}}
",
        windows = crate::run::POSING_AS_WINDOWS,
        looked_for = crate::Layout::LOOKED_FOR,
    )
}

/// Writes a stub for each of `names` under `node_modules`.
pub(crate) fn write(node_modules: &Path, names: &[String]) -> Result<(), Error> {
    for name in names {
        if !valid(name) {
            continue;
        }
        let dir = node_modules.join(name);
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        let manifest = serde_json::json!({
            "name": name,
            "version": "0.0.0-airlock-stub",
            "main": "index.js",
        });
        let code = code(kind(name));
        for (file, content) in [("package.json", manifest.to_string()), ("index.js", code)] {
            let path = dir.join(file);
            std::fs::write(&path, content).map_err(Error::io(&path))?;
        }
    }
    Ok(())
}

/// A package name npm accepts (so also a safe directory name).
pub(crate) fn valid(name: &str) -> bool {
    airlock_npm::PackageName::new(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_gets_the_first_kind_that_names_it_and_each_kind_has_code() {
        assert_eq!(kind("request-promise"), "http-body");
        assert_eq!(kind("axios"), "http");
        assert_eq!(kind("then-request"), "method");
        assert_eq!(kind("fs-extra"), "fs");
        assert_eq!(kind("left-pad"), "any");
        for made in kinds().skip(1) {
            assert_ne!(code(made), ANYTHING, "{made} has code of its own");
        }
        // The preload's table agrees: a name listed twice keeps its first kind.
        let preload = preload();
        assert!(
            preload.contains("['request-promise', 'http-body']"),
            "{preload}"
        );
        assert!(
            !preload.contains("['request-promise', 'http']"),
            "{preload}"
        );
    }
}
