//! strace's record, read back. strace runs with `-f -qq -xx -y`: every string is
//! written as `\xNN` escapes (so no quote, bracket or newline inside one can be
//! mistaken for syntax), and file descriptors carry their path (`3</home/user>`),
//! `AT_FDCWD` the working directory. A line is `PID call(args) = result`; a call
//! interrupted by another thread's line is split into `<unfinished ...>` and
//! `<... call resumed>` halves, joined here.

use std::collections::HashMap;
use std::io::BufRead;

/// One system call that matters to the judgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Exec {
        path: String,
        argv: Vec<String>,
        ok: bool,
    },
    Open {
        path: String,
        write: bool,
        ok: bool,
    },
    Delete {
        path: String,
        ok: bool,
    },
    Rename {
        from: String,
        to: String,
        ok: bool,
    },
    Connect {
        address: String,
        port: u16,
        ok: bool,
    },
    /// A socket bound to a port of its own (a server's first step), failed or not.
    Bind {
        address: String,
        port: u16,
        ok: bool,
    },
    /// A DNS query sent (to the sandbox's resolver, which is not there).
    Resolve {
        name: String,
    },
    /// A change of working directory asked for (the sink's answer, run as
    /// JavaScript, asks for one that does not exist).
    ChangeDir {
        path: String,
        ok: bool,
    },
}

/// A file of the run's record, opened to be read as it is, at most `limit` bytes.
/// The record directory is writable from inside, so what is there may be a trap: a
/// symbolic link, a FIFO or a device is not followed or waited on. `None` when it is
/// not a regular file or cannot be opened (the caller counts that as tampering); a
/// file that is not there reads as empty.
pub(crate) fn open_record(path: &std::path::Path, limit: u64) -> Option<Box<dyn BufRead>> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Some(Box::new(std::io::empty()));
        }
        Err(_) => return None,
    };
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    Some(Box::new(std::io::BufReader::new(file.take(limit))))
}

/// A small file of the run's record, read whole as text (see `open_record`).
pub(crate) fn read_record(path: &std::path::Path, limit: u64) -> Option<String> {
    let mut bytes = Vec::new();
    open_record(path, limit)?.read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The syscalls strace is told to record.
pub(crate) const TRACED: &str = "execve,execveat,open,openat,openat2,creat,unlink,unlinkat,rmdir,rename,renameat,renameat2,connect,bind,sendto,sendmsg,sendmmsg,chdir,clone,clone3,fork,vfork";

/// A line with its strings and annotations taken out: the syntax is left in
/// `skeleton`, with `S` for each string and `A` for each annotation.
struct Line {
    skeleton: String,
    strings: Vec<String>,
    /// The strings' bytes as sent (a DNS packet is not text).
    bytes: Vec<Vec<u8>>,
    annotations: Vec<String>,
}

/// A trace read into events.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) events: Vec<Event>,
    /// Bytes read: none when strace wrote nothing.
    pub(crate) bytes: u64,
}

/// Reads a trace into events line by line, following each process's working
/// directory. The record can be tens of megabytes; only one line is held at a time.
pub(crate) fn parse(mut trace: impl BufRead) -> Trace {
    let mut pending: HashMap<u32, String> = HashMap::new();
    let mut cwd: HashMap<u32, String> = HashMap::new();
    let mut events = Vec::new();
    let mut bytes = 0;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match trace.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => bytes += read as u64,
        }
        // strace's record is ASCII (`-xx`); anything else is read as best it can be.
        let raw = String::from_utf8_lossy(&buffer);
        let raw = raw.trim_end_matches(['\n', '\r']);
        let Some((pid, rest)) = raw.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.trim().parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        let joined;
        let rest = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, head.to_owned());
            continue;
        } else if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((_, tail)) = resumed.split_once(" resumed>") else {
                continue;
            };
            let Some(head) = pending.remove(&pid) else {
                continue;
            };
            joined = format!("{head}{tail}");
            joined.as_str()
        } else {
            rest
        };
        let Some((call, _)) = rest.split_once('(') else {
            continue;
        };
        let line = tokenize(rest);
        if let Some(event) = event(call, &line, pid, &mut cwd) {
            events.push(event);
        }
    }
    // Calls never resumed: the process ended (or was killed) inside them. Their
    // arguments were recorded (a DNS query sent as the process died still counts).
    let mut unfinished: Vec<_> = pending.into_iter().collect();
    unfinished.sort();
    for (pid, head) in unfinished {
        if let Some((call, _)) = head.split_once('(')
            && let Some(event) = event(call, &tokenize(&head), pid, &mut cwd)
        {
            events.push(event);
        }
    }
    Trace { events, bytes }
}

fn event(call: &str, line: &Line, pid: u32, cwd: &mut HashMap<u32, String>) -> Option<Event> {
    let result = result(&line.skeleton);
    let ok = result.is_some_and(|value| value >= 0);
    // `AT_FDCWD</dir>` tells the working directory whenever it appears.
    if line.skeleton.contains("AT_FDCWD A")
        && let Some(dir) = line.annotations.first()
    {
        cwd.insert(pid, dir.clone());
    }
    let here = cwd.get(&pid).cloned().unwrap_or_default();
    let absolute = |path: &str| resolve(&here, path);
    match call {
        "clone" | "clone3" | "fork" | "vfork" => {
            if let Some(child) = result.and_then(|value| u32::try_from(value).ok()) {
                cwd.insert(child, here.clone());
            }
            None
        }
        "chdir" => {
            let path = absolute(line.strings.first()?);
            if ok {
                cwd.insert(pid, path.clone());
            }
            Some(Event::ChangeDir { path, ok })
        }
        "execve" | "execveat" => Some(Event::Exec {
            path: absolute(line.strings.first()?),
            argv: line.strings.iter().skip(1).cloned().collect(),
            ok,
        }),
        "open" | "openat" | "openat2" | "creat" => {
            let asked = line.strings.first()?;
            // The descriptor returned names the file opened, resolved.
            let path = if ok {
                line.annotations
                    .last()
                    .cloned()
                    .unwrap_or_else(|| absolute(asked))
            } else {
                let base = dir_argument(line).unwrap_or(&here);
                resolve(base, asked)
            };
            let write = call == "creat"
                || ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
                    .iter()
                    .any(|flag| line.skeleton.contains(flag));
            Some(Event::Open { path, write, ok })
        }
        "unlink" | "rmdir" => Some(Event::Delete {
            path: absolute(line.strings.first()?),
            ok,
        }),
        "unlinkat" => {
            let base = dir_argument(line).unwrap_or(&here);
            Some(Event::Delete {
                path: resolve(base, line.strings.first()?),
                ok,
            })
        }
        "rename" => Some(Event::Rename {
            from: absolute(line.strings.first()?),
            to: absolute(line.strings.get(1)?),
            ok,
        }),
        "renameat" | "renameat2" => {
            let base = dir_argument(line).unwrap_or(&here);
            Some(Event::Rename {
                from: resolve(base, line.strings.first()?),
                to: resolve(base, line.strings.get(1)?),
                ok,
            })
        }
        "connect" => inet_address(line).map(|(address, port)| Event::Connect { address, port, ok }),
        "bind" => inet_address(line).map(|(address, port)| Event::Bind { address, port, ok }),
        "sendto" | "sendmsg" | "sendmmsg" => line
            .bytes
            .iter()
            .find_map(|payload| dns_query(payload))
            .map(|name| Event::Resolve { name }),
        _ => None,
    }
}

/// The directory a `*at` call's first descriptor names, when it is not `AT_FDCWD`.
fn dir_argument(line: &Line) -> Option<&String> {
    let arguments = line.skeleton.split_once('(')?.1;
    if arguments.starts_with("AT_FDCWD") {
        return line.annotations.first();
    }
    let first = arguments.split(',').next()?;
    first.ends_with('A').then(|| line.annotations.first())?
}

/// The address and port of an INET (v4 or v6) socket address argument.
fn inet_address(line: &Line) -> Option<(String, u16)> {
    let skeleton = &line.skeleton;
    if !(skeleton.contains("AF_INET") || skeleton.contains("AF_INET6")) {
        return None;
    }
    let port = skeleton
        .split("port=htons(")
        .nth(1)?
        .split(')')
        .next()?
        .parse()
        .ok()?;
    // The address is the only string of an INET connect or bind.
    let address = line.strings.first()?.clone();
    Some((address, port))
}

/// The integer after the call's final `= `, if any (a resumed call pads the gap
/// between its `)` and the `=` with spaces).
fn result(skeleton: &str) -> Option<i64> {
    let (call, after) = skeleton.rsplit_once("= ")?;
    if !call.trim_end().ends_with(')') {
        return None;
    }
    after.split_whitespace().next()?.parse().ok()
}

fn resolve(base: &str, path: &str) -> String {
    if path.starts_with('/') || base.is_empty() {
        return normalise(path);
    }
    normalise(&format!("{base}/{path}"))
}

/// `.` and `..` folded away (textually; links are not followed).
pub(crate) fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Splits a line (after the pid) into its syntax, strings and annotations.
fn tokenize(text: &str) -> Line {
    let mut line = Line {
        skeleton: String::with_capacity(text.len() / 2),
        strings: Vec::new(),
        bytes: Vec::new(),
        annotations: Vec::new(),
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = find(bytes, at + 1, b'"');
                let raw = unescape(&text[at + 1..end]);
                line.strings
                    .push(String::from_utf8_lossy(&raw).into_owned());
                line.bytes.push(raw);
                line.skeleton.push('S');
                at = end + 1;
                // A string cut at `-s` bytes is followed by `...`.
                if text[at..].starts_with("...") {
                    at += 3;
                }
            }
            b'<' if text[at + 1..].starts_with("\\x") => {
                let end = find(bytes, at + 1, b'>');
                line.annotations
                    .push(String::from_utf8_lossy(&unescape(&text[at + 1..end])).into_owned());
                line.skeleton.push_str(" A");
                at = end + 1;
            }
            _ => {
                let next = text[at..]
                    .find(['"', '<'])
                    .map_or(bytes.len(), |offset| at + offset.max(1));
                line.skeleton.push_str(&text[at..next]);
                at = next;
            }
        }
    }
    line
}

fn find(bytes: &[u8], from: usize, wanted: u8) -> usize {
    bytes[from.min(bytes.len())..]
        .iter()
        .position(|&byte| byte == wanted)
        .map_or(bytes.len(), |offset| from + offset)
}

/// `\xNN` escapes (and any other character as itself) to bytes.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4);
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'\\'
            && bytes.get(at + 1) == Some(&b'x')
            && let Some(byte) = text
                .get(at + 2..at + 4)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            at += 4;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    out
}

/// The name asked in a DNS query packet, if `payload` is one.
fn dns_query(payload: &[u8]) -> Option<String> {
    // Header: id, flags (QR = 0: a query), one question, no answers.
    if payload.len() < 17 || payload[2] & 0x80 != 0 || payload[4..6] != [0, 1] {
        return None;
    }
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let length = usize::from(*payload.get(at)?);
        if length == 0 {
            break;
        }
        if length > 63 {
            return None;
        }
        let label = payload.get(at + 1..at + 1 + length)?;
        if !label
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
        {
            return None;
        }
        labels.push(String::from_utf8_lossy(label).into_owned());
        at += 1 + length;
    }
    (!labels.is_empty()).then(|| labels.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> String {
        escape(text.as_bytes())
    }

    /// As strace `-xx` writes bytes.
    fn escape(bytes: &[u8]) -> String {
        use std::fmt::Write as _;
        bytes.iter().fold(String::new(), |mut out, byte| {
            let _ = write!(out, "\\x{byte:02x}");
            out
        })
    }

    #[test]
    fn opens_execs_and_deletes_are_read_with_their_paths() {
        let trace = format!(
            "7     execve(\"{}\", [\"{}\", \"{}\"], 0x7ffe /* 3 vars */ <unfinished ...>\n\
             6     vfork( <unfinished ...>\n\
             7     <... execve resumed>)             = 0\n\
             7     openat(AT_FDCWD<{}>, \"{}\", O_RDONLY|O_CLOEXEC) = 18<{}>\n\
             7     clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD) = 9\n\
             9     unlink(\"{}\") = 0\n\
             7     openat(AT_FDCWD<{}>, \"{}\", O_WRONLY|O_CREAT|O_TRUNC, 0666 <unfinished ...>\n\
             8     +++ exited with 0 +++\n\
             7     <... openat resumed>)             = -1 EROFS (Read-only file system)\n\
             9     connect(3<{}>, {{sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"{}\")}}, 16 <unfinished ...>\n\
             9     +++ killed by SIGKILL +++\n",
            hex("/usr/bin/node"),
            hex("node"),
            hex("i.js"),
            hex("/home/user/project"),
            hex("../.npmrc"),
            hex("/home/user/.npmrc"),
            hex("setup.js"),
            hex("/home/user/project"),
            hex("/etc/profile"),
            hex("socket:[7]"),
            hex("10.9.8.7"),
        );
        assert_eq!(
            parse(trace.as_bytes()).events,
            [
                Event::Exec {
                    path: "/usr/bin/node".into(),
                    argv: vec!["node".into(), "i.js".into()],
                    ok: true
                },
                Event::Open {
                    path: "/home/user/.npmrc".into(),
                    write: false,
                    ok: true
                },
                Event::Delete {
                    path: "/home/user/project/setup.js".into(),
                    ok: true
                },
                Event::Open {
                    path: "/etc/profile".into(),
                    write: true,
                    ok: false
                },
                Event::Connect {
                    address: "10.9.8.7".into(),
                    port: 53,
                    ok: false
                },
            ]
        );
    }

    #[test]
    fn dns_queries_and_connections_are_read() {
        let query = b"\xc9\x9f\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04host\x04oast\x07example\x00\x00\x01\x00\x01";
        let payload = escape(query);
        let trace = format!(
            "13    connect(18<{}>, {{sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr(\"{}\")}}, 16) = -1 ENETUNREACH (Network is unreachable)\n\
             13    sendto(18<{}>, \"{payload}\", 43, MSG_NOSIGNAL, NULL, 0) = 43\n",
            hex("socket:[1]"),
            hex("10.1.2.3"),
            hex("socket:[2]"),
        );
        assert_eq!(
            parse(trace.as_bytes()).events,
            [
                Event::Connect {
                    address: "10.1.2.3".into(),
                    port: 443,
                    ok: false
                },
                Event::Resolve {
                    name: "host.oast.example".into()
                },
            ]
        );
    }

    #[test]
    fn syntax_inside_strings_cannot_forge_a_call() {
        // A file named like the rest of a line stays one string.
        let trace = format!(
            "5     openat(AT_FDCWD<{}>, \"{}\", O_RDONLY) = -1 ENOENT (No such file or directory)\n",
            hex("/p"),
            hex("x\", O_WRONLY) = 3<"),
        );
        let events = parse(trace.as_bytes()).events;
        assert_eq!(
            events,
            [Event::Open {
                path: "/p/x\", O_WRONLY) = 3<".into(),
                write: false,
                ok: false
            }]
        );
    }
}
