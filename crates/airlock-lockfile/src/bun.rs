//! bun.lock: JSONC, `lockfileVersion` 0 to 2.
//!
//! `packages` is keyed by install path (`a`, `a/b` for a copy nested under `a`);
//! each value is an array: `"name@version"`, the tarball URL (registry packages),
//! an object with dependencies and flags, and the integrity. Git, file and
//! workspace packages have shorter arrays. Dependencies resolve from the dependent's
//! path upwards, like Node's.

use std::collections::HashMap;

use serde_json::Value;

use crate::graph::{Builder, Locked, RootKind, classify};
use crate::json::{dependency_map, flag, key_lines, parse_jsonc};
use crate::{Error, Format, Graph, Source};

const NEWEST: u64 = 2;

pub(crate) fn parse(file: &str, text: &str) -> Result<Graph, Error> {
    let document = parse_jsonc(file, text)?;
    let version = document
        .get("lockfileVersion")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            Error::new(
                file,
                None,
                "no `lockfileVersion`: this is not a bun.lock Bun wrote",
            )
        })?;
    if version > NEWEST {
        return Err(Error::new(
            file,
            None,
            format!("`lockfileVersion` {version} is newer than Airlock reads (up to {NEWEST})"),
        ));
    }
    let Some(packages) = document.get("packages").and_then(Value::as_object) else {
        return Err(Error::new(file, None, "no `packages` object"));
    };
    // Keys of `packages` only: install paths also name dependencies in `workspaces`.
    let packages_at = text.find("\"packages\"").unwrap_or(0);
    let before = text[..packages_at].matches('\n').count();
    let lines: HashMap<String, usize> = key_lines(&text[packages_at..])
        .into_iter()
        .map(|(key, line)| (key, line + before))
        .collect();
    let mut builder = Builder::new(Format::Bun, file);
    let mut paths: HashMap<&str, usize> = HashMap::new();
    let mut details: Vec<(&str, &Value)> = Vec::new();
    for (path, entry) in packages {
        let Some(items) = entry.as_array() else {
            return Err(Error::new(
                file,
                None,
                format!("`packages[\"{path}\"]` is not an array"),
            ));
        };
        let Some(id) = items.first().and_then(Value::as_str) else {
            return Err(Error::new(
                file,
                None,
                format!("`packages[\"{path}\"]` does not start with `name@version`"),
            ));
        };
        let Some(at) = id.get(1..).and_then(|rest| rest.find('@')).map(|at| at + 1) else {
            return Err(Error::new(
                file,
                None,
                format!("`{id}` is not `name@version`"),
            ));
        };
        let (name, reference) = (&id[..at], &id[at + 1..]);
        if reference.starts_with("workspace:") || reference.starts_with("link:") {
            continue;
        }
        let registry_shape = items.len() == 4 && items[1].is_string();
        let (source, resolved, version) = if registry_shape {
            let url = items[1].as_str().unwrap_or_default();
            let source = if url.is_empty() {
                Source::Registry
            } else {
                classify(url)
            };
            let resolved = (!url.is_empty()).then(|| url.to_owned());
            (source, resolved, reference.to_owned())
        } else {
            (
                classify(reference),
                Some(reference.to_owned()),
                reference.to_owned(),
            )
        };
        let mut package = Locked::new(name, &version, source);
        package.resolved = resolved;
        if registry_shape {
            package.integrity = items[3].as_str().map(str::to_owned);
        }
        let meta = items.iter().find(|item| item.is_object());
        package.install_script = meta.map(|meta| flag(meta, "hasInstallScript"));
        package.line = lines.get(path.as_str()).copied();
        let index = builder.add(package);
        paths.insert(path.as_str(), index);
        if let Some(meta) = meta {
            details.push((path.as_str(), meta));
        }
    }
    let resolve = |from: &str, name: &str| -> Option<usize> {
        let mut base = from;
        loop {
            let candidate = if base.is_empty() {
                name.to_owned()
            } else {
                format!("{base}/{name}")
            };
            if let Some(&index) = paths.get(candidate.as_str()) {
                return Some(index);
            }
            if base.is_empty() {
                return None;
            }
            // Parents of `a/@s/b`: `a`; of `@s/b`: the root.
            base = parent(base);
        }
    };
    let mut edges = Vec::new();
    for (path, meta) in &details {
        let from = paths[path];
        for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
            for (name, _) in dependency_map(meta, field) {
                if let Some(to) = resolve(path, &name) {
                    edges.push((from, to));
                }
            }
        }
    }
    for (from, to) in edges {
        builder.edge(from, to);
    }
    if let Some(workspaces) = document.get("workspaces").and_then(Value::as_object) {
        for workspace in workspaces.values() {
            for (field, kind) in [
                ("dependencies", RootKind::Prod),
                ("optionalDependencies", RootKind::Optional),
                ("peerDependencies", RootKind::Peer),
                ("devDependencies", RootKind::Dev),
            ] {
                for (name, _) in dependency_map(workspace, field) {
                    if let Some(to) = resolve("", &name) {
                        builder.root(to, kind);
                    }
                }
            }
        }
    }
    Ok(builder.finish_deriving_flags())
}

/// The install path one level up: `a/@s/b` -> `a`, `a/b` -> `a`, `@s/b` -> ``.
fn parent(path: &str) -> &str {
    let segments: Vec<&str> = path.split('/').collect();
    let mut keep = segments.len();
    // Drop the last package (one segment, or two for a scoped name).
    keep -= 1;
    if keep >= 1 && segments[keep - 1].starts_with('@') {
        keep -= 1;
    }
    if keep == 0 {
        return "";
    }
    let length: usize = segments[..keep]
        .iter()
        .map(|segment| segment.len() + 1)
        .sum::<usize>()
        - 1;
    &path[..length]
}
