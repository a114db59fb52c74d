//! The sandbox's own little internet: a resolver that answers every name with the
//! sandbox's loopback, and listeners on the ports droppers and beacons use, which
//! keep what they are sent. So a script that looks up a collector and posts to it
//! gets as far as sending, and what it sent is read here (never further: the
//! sandbox has no other network). HTTPS is answered with a throwaway certificate
//! made once per process (`openssl`), which Node accepts because the sandbox sets
//! `NODE_TLS_REJECT_UNAUTHORIZED=0`; other clients refuse it and are seen by name.
//!
//! The sink is the parent of strace inside the sandbox: it starts listening, then
//! runs the traced scripts, so none of its own calls are in the record.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;

use crate::Error;

/// What the sink writes, one JSON object per line.
pub(crate) const LOG: &str = "sink.jsonl";
/// The directory the sink's answer asks for when it is run as JavaScript.
pub(crate) const ANSWER_RAN: &str = "/airlock-sink-answer-ran";
const CERTIFICATE: &str = "sink.crt";
const KEY: &str = "sink.key";

/// Plain HTTP, TLS, and raw ports (reverse shells).
pub(crate) const SCRIPT: &str = r"'use strict';
const fs = require('fs'), net = require('net'), dgram = require('dgram'), tls = require('tls');
const { spawn } = require('child_process');
const dir = process.argv[2], log = fs.openSync(dir + '/sink.jsonl', 'a');
const LIMIT = 65536;
// What every request is answered with: JavaScript that, if a script runs it, asks
// for a directory that does not exist, which the trace shows.
const ANSWER = `process.chdir('/airlock-sink-answer-ran')\n`;
const record = (entry) => { try { fs.writeSync(log, JSON.stringify(entry) + '\n'); } catch (e) {} };
function keep(port, socket, extra) {
  const chunks = []; let size = 0, done = false;
  const finish = () => { if (done) return; done = true; record(Object.assign({ kind: 'tcp', port, data: Buffer.concat(chunks).toString('base64') }, extra())); };
  socket.on('data', (chunk) => {
    if (size < LIMIT) { chunks.push(chunk.subarray(0, LIMIT - size)); size += chunk.length; }
    if (/^[A-Z]+ /.test(Buffer.concat(chunks).subarray(0, 8).toString('latin1'))) {
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length:\s*(\d+)/i.exec(text);
      if (head >= 0 && (!length || text.length - head - 4 >= Number(length[1]))) {
        finish();
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ' + ANSWER.length + '\r\nConnection: close\r\n\r\n' + ANSWER);
      }
    }
  });
  socket.on('error', () => {}); socket.on('close', finish); socket.setTimeout(3000, () => { finish(); socket.destroy(); });
}
for (const port of [80, 8080, 8000, 3000, 5000, 8888, 4444, 1337, 9001, 6666, 7777, 31337, 5555, 1234, 9999, 21, 25, 587]) {
  net.createServer((socket) => keep(port, socket, () => ({}))).on('error', () => {}).listen(port, '127.0.0.1');
}
let options = null;
try { options = { key: fs.readFileSync(dir + '/sink.key'), cert: fs.readFileSync(dir + '/sink.crt') }; } catch (e) {}
if (options) {
  for (const port of [443, 8443]) {
    tls.createServer(options, (socket) => keep(port, socket, () => ({ tls: true, sni: socket.servername || null })))
      .on('tlsClientError', () => {}).on('error', () => {}).listen(port, '127.0.0.1');
  }
}
function answer(query) {
  let at = 12; const labels = [];
  while (at < query.length && query[at] !== 0) { labels.push(query.subarray(at + 1, at + 1 + query[at]).toString('latin1')); at += query[at] + 1; }
  const end = at + 5, type = query.readUInt16BE(at + 1);
  const header = Buffer.from(query.subarray(0, 12));
  header[2] = 0x81; header[3] = 0x80; header.writeUInt16BE(type === 1 ? 1 : 0, 6); header.writeUInt16BE(0, 8); header.writeUInt16BE(0, 10);
  const question = query.subarray(12, end);
  const a = type === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
  return Buffer.concat([header, question, a]);
}
const resolver = dgram.createSocket('udp4');
resolver.on('message', (query, from) => { try { resolver.send(answer(query), from.port, from.address); } catch (e) {} });
resolver.on('error', () => {});
resolver.bind(53, '127.0.0.1', () => {
  const [command, ...args] = process.argv.slice(3);
  const child = spawn(command, args, { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code === null ? 128 : code));
});
";

/// A throwaway certificate and key for the sink's TLS listeners, made once per
/// process with `openssl`; `None` when that cannot run (HTTPS is then refused in
/// the sandbox, and only the names looked up are seen).
fn certificate() -> Option<&'static (String, String)> {
    static MADE: OnceLock<Option<(String, String)>> = OnceLock::new();
    MADE.get_or_init(|| {
        let dir = tempfile::tempdir().ok()?;
        let key = dir.path().join(KEY);
        let certificate = dir.path().join(CERTIFICATE);
        let status = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=airlock-sandbox-sink", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            tracing::warn!("openssl could not make the sandbox's certificate; HTTPS is refused inside the sandbox");
            return None;
        }
        Some((
            std::fs::read_to_string(certificate).ok()?,
            std::fs::read_to_string(key).ok()?,
        ))
    })
    .as_ref()
}

/// Writes the sink's script (and certificate) into the record directory.
pub(crate) fn install(record: &Path) -> Result<PathBuf, Error> {
    let script = record.join("sink.js");
    std::fs::write(&script, SCRIPT).map_err(Error::io(&script))?;
    if let Some((certificate, key)) = certificate() {
        for (name, content) in [(CERTIFICATE, certificate), (KEY, key)] {
            let path = record.join(name);
            std::fs::write(&path, content).map_err(Error::io(&path))?;
        }
    }
    Ok(script)
}

/// One conversation the sink had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) port: u16,
    /// The name asked for: TLS's server name, else HTTP's `Host`.
    pub(crate) host: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

/// An HTTP request whose headers ask to upgrade to a WebSocket.
pub(crate) fn asks_for_websocket(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let headers = text.split("\r\n\r\n").next().unwrap_or("");
    headers.lines().skip(1).any(|line| {
        line.split_once(':')
            .is_some_and(|(name, value)| name.trim() == "upgrade" && value.trim() == "websocket")
    })
}

/// The request line and body size of an HTTP request (as the sink heard it, TLS
/// taken off), or `None` when `bytes` is not HTTP.
pub(crate) fn http_request(bytes: &[u8]) -> Option<crate::Request> {
    let head_end = bytes.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let mut words = head.lines().next()?.split(' ');
    let method = words.next()?;
    let target = words.next()?;
    let http = words.next()?.starts_with("HTTP/");
    if !http || method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    Some(crate::Request {
        method: method.to_owned(),
        target: target.to_owned(),
        body: bytes.len() - head_end - 4,
    })
}

/// Reads the sink's log; `None` when it was replaced by something that is not a
/// plain file (the directory is writable from inside).
pub(crate) fn received(record: &Path) -> Option<Vec<Received>> {
    let text = crate::trace::read_record(&record.join(LOG), 64 * 1024 * 1024)?;
    let received = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["kind"] == "tcp")
        .map(|entry| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(entry["data"].as_str().unwrap_or_default())
                .unwrap_or_default();
            let host = entry["sni"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| http_host(&bytes));
            Received {
                port: u16::try_from(entry["port"].as_u64().unwrap_or(0)).unwrap_or(0),
                host,
                bytes,
            }
        })
        .collect();
    Some(received)
}

fn http_host(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
    text.lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("host").then(|| {
                value
                    .trim()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        })
}

/// The canary values found in `bytes` (as they are, hex-encoded or base64-encoded),
/// by what they are.
pub(crate) fn canaries_in(bytes: &[u8], values: &[(&'static str, String)]) -> Vec<&'static str> {
    let lower = bytes.to_ascii_lowercase();
    let mut found = Vec::new();
    for (what, value) in values {
        let plain = value.to_ascii_lowercase();
        let hex = hex::encode(value.as_bytes());
        let hit = contains(&lower, plain.as_bytes())
            || contains(&lower, hex.as_bytes())
            || base64_forms(value.as_bytes())
                .iter()
                .any(|form| contains(bytes, form.as_bytes()));
        if hit && !found.contains(what) {
            found.push(*what);
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// The value's base64 at each of the three alignments it can have inside a longer
/// encoded text, without the characters that depend on its neighbours.
fn base64_forms(value: &[u8]) -> Vec<String> {
    (0..3)
        .filter_map(|offset| {
            let mut padded = vec![0u8; offset];
            padded.extend_from_slice(value);
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            let skip = if offset == 0 {
                0
            } else {
                (offset * 4).div_ceil(3)
            };
            let stable = (offset + value.len()) / 3 * 4;
            encoded.get(skip..stable).map(str::to_owned)
        })
        .filter(|form| form.len() >= 8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_upgrades_are_told_from_requests() {
        assert!(asks_for_websocket(
            b"GET /agent HTTP/1.1\r\nHost: c2.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        ));
        assert!(!asks_for_websocket(
            b"GET / HTTP/1.1\r\nHost: cdn.example\r\n\r\n"
        ));
        assert!(
            !asks_for_websocket(b"POST / HTTP/1.1\r\nHost: x\r\n\r\nUpgrade: websocket"),
            "only the headers count"
        );
    }

    #[test]
    fn canaries_are_found_plain_hex_and_base64_encoded() {
        let values = vec![("the host name", "canaryhost-5d1e".to_owned())];
        let json = br#"{"h":"canaryhost-5d1e"}"#;
        assert_eq!(canaries_in(json, &values), ["the host name"]);
        let hex = hex::encode(json);
        assert_eq!(canaries_in(hex.as_bytes(), &values), ["the host name"]);
        for prefix in ["", "x", "xy"] {
            let encoded = base64::engine::general_purpose::STANDARD
                .encode(format!("{prefix}{{\"h\":\"canaryhost-5d1e\"}}"));
            assert_eq!(
                canaries_in(encoded.as_bytes(), &values),
                ["the host name"],
                "{prefix}"
            );
        }
        assert!(canaries_in(b"nothing here", &values).is_empty());
    }

    #[test]
    fn requests_are_read() {
        let post =
            b"POST /track?x=1 HTTP/1.1\r\nHost: bait.example\r\nContent-Length: 4\r\n\r\nbody";
        assert_eq!(
            http_request(post),
            Some(crate::Request {
                method: "POST".into(),
                target: "/track?x=1".into(),
                body: 4
            })
        );
        assert_eq!(
            http_request(b"GET / HTTP/1.1\r\n\r\n").map(|request| request.body),
            Some(0)
        );
        assert_eq!(http_request(b"\x16\x03\x01 binary"), None);
        assert_eq!(http_request(b"get / HTTP/1.1\r\n\r\n"), None);
    }

    #[test]
    fn the_host_comes_from_http() {
        assert_eq!(
            http_host(b"POST /x HTTP/1.1\r\nHost: collect.example:8080\r\n\r\nbody"),
            Some("collect.example".into())
        );
    }
}
