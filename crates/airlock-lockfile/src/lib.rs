//! Lockfiles into one package graph.
//!
//! Pure: text in, [`Graph`] out. Reads package-lock.json (v1, v2, v3) and
//! npm-shrinkwrap.json, pnpm-lock.yaml (6.x and 9.x), yarn.lock (classic v1 and
//! berry) and bun.lock (JSONC). Every format becomes the same graph: one [`Locked`]
//! per distinct package version (name, version, where it came from, integrity, dev /
//! optional / peer, install scripts where the format records them) and the edges
//! between them. Malformed input, duplicate keys and unknown versions of a format
//! are errors naming the file, the line and the reason; a file is never read halfway.
//!
//! ```
//! let text = r#"{"name": "app", "lockfileVersion": 3, "packages": {
//!   "": {"dependencies": {"a": "^1.0.0"}},
//!   "node_modules/a": {"version": "1.0.0", "resolved": "http://127.0.0.1/a/-/a-1.0.0.tgz",
//!                      "integrity": "sha512-AAAA"}}}"#;
//! let graph = airlock_lockfile::parse("package-lock.json", text).unwrap();
//! assert_eq!(graph.packages[0].name, "a");
//! assert_eq!(graph.roots, [0]);
//! ```

pub mod anomalies;
mod bun;
mod graph;
mod json;
mod npm;
mod pnpm;
mod yarn;

use std::fmt;

use serde::Serialize;

pub use graph::{Graph, Locked, Source};

/// The lockfile formats Airlock reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// package-lock.json or npm-shrinkwrap.json, with its `lockfileVersion`.
    Npm(u8),
    /// pnpm-lock.yaml, with its major `lockfileVersion`.
    Pnpm(u8),
    YarnClassic,
    YarnBerry,
    Bun,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Npm(version) => write!(f, "package-lock v{version}"),
            Self::Pnpm(version) => write!(f, "pnpm-lock v{version}"),
            Self::YarnClassic => f.write_str("yarn.lock v1"),
            Self::YarnBerry => f.write_str("yarn.lock (berry)"),
            Self::Bun => f.write_str("bun.lock"),
        }
    }
}

/// The file names Airlock recognises as lockfiles, in the order it prefers them.
pub const FILE_NAMES: [&str; 5] = [
    "npm-shrinkwrap.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lock",
];

/// A lockfile that cannot be read, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {reason}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct Error {
    pub file: String,
    /// 1-based, when the reason has a place.
    pub line: Option<usize>,
    pub reason: String,
}

impl Error {
    pub(crate) fn new(file: &str, line: Option<usize>, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        }
    }
}

/// Parses `text`, the contents of the lockfile at `path`; the format comes from the
/// file name (`*.package-lock.json` and the like count too).
pub fn parse(path: &str, text: &str) -> Result<Graph, Error> {
    let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if file_name.ends_with("package-lock.json") || file_name.ends_with("npm-shrinkwrap.json") {
        npm::parse(path, text)
    } else if file_name.ends_with("pnpm-lock.yaml") {
        pnpm::parse(path, text)
    } else if file_name.ends_with("yarn.lock") {
        yarn::parse(path, text)
    } else if file_name.ends_with("bun.lock") {
        bun::parse(path, text)
    } else if file_name.ends_with("bun.lockb") {
        Err(Error::new(
            path,
            None,
            "bun.lockb is Bun's old binary lockfile; run `bun install --save-text-lockfile` to write bun.lock",
        ))
    } else {
        Err(Error::new(
            path,
            None,
            format!(
                "not a lockfile Airlock reads (one of {})",
                FILE_NAMES.join(", ")
            ),
        ))
    }
}
