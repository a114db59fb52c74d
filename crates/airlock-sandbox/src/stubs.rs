//! Stand-ins for a package's dependencies. The sandbox installs no dependency, so
//! a script that requires one would stop at its first line; each dependency is a
//! stub instead. HTTP clients are thin shims over Node's own `fetch`, so that what
//! a script sends through them is seen (the name looked up); anything else answers
//! every property, call and `new` with itself, so that the script goes on.

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

pub(crate) const ANYTHING: &str = r"'use strict';
const handler = {
  get(target, key) {
    if (key === 'then') return undefined;
    if (key === Symbol.toPrimitive) return () => '';
    if (key === Symbol.iterator) return function* () {};
    if (key === '__esModule') return false;
    return stub;
  },
  apply() { return stub; },
  construct() { return stub; },
};
const stub = new Proxy(function () {}, handler);
module.exports = stub;
";

pub(crate) const HTTP: &str = r"'use strict';
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
function send(method, first, options, data) {
  const [url, config] = target(first, options);
  const answer = { data: '', status: 200, statusCode: 200, headers: {}, body: '' };
  const done = fetch(url, { method: (config.method || method || 'GET').toUpperCase(), headers: config.headers || {}, body: body(config, data) })
    .then(() => answer, () => answer);
  return done;
}
function client(first, options, callback) {
  if (typeof options === 'function') { callback = options; options = undefined; }
  const done = send(undefined, first, options);
  if (typeof callback === 'function') done.then((answer) => callback(null, answer, ''));
  return done;
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
        let code = if HTTP_CLIENTS.contains(&name.as_str()) {
            HTTP
        } else if matches!(name.as_str(), "sync-request" | "then-request") {
            METHOD_FIRST
        } else {
            ANYTHING
        };
        for (file, content) in [
            ("package.json", manifest.to_string()),
            ("index.js", code.to_owned()),
        ] {
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
