//! package-lock.json and npm-shrinkwrap.json, `lockfileVersion` 1, 2 and 3.
//!
//! Versions 2 and 3 list every installed folder under `packages`, keyed by its path
//! (`node_modules/a/node_modules/b`); a dependency resolves the way Node finds it, from
//! the dependent's folder upwards. Version 1 nests `dependencies` the same way and
//! names what each package `requires`; it does not record the project's own
//! dependencies, so its roots are the top-level packages nothing else requires.

use std::collections::HashMap;

use serde_json::Value;

use crate::graph::{Builder, Locked, RootKind, classify};
use crate::json::{dependency_map, flag, key_lines, parse_strict, text};
use crate::{Error, Format, Graph, Source};

pub(crate) fn parse(file: &str, text_: &str) -> Result<Graph, Error> {
    let document = parse_strict(file, text_)?;
    let Some(version) = document.get("lockfileVersion").and_then(Value::as_u64) else {
        return Err(Error::new(
            file,
            None,
            "no `lockfileVersion`: this is not a package-lock.json npm wrote",
        ));
    };
    match version {
        1 => v1(file, &document),
        2 | 3 => match document.get("packages").and_then(Value::as_object) {
            Some(packages) => v2(file, u8::try_from(version).unwrap_or(3), packages, text_),
            None => Err(Error::new(
                file,
                None,
                format!("`lockfileVersion` {version} without a `packages` object"),
            )),
        },
        other => Err(Error::new(
            file,
            None,
            format!(
                "`lockfileVersion` {other} is not one Airlock reads (1, 2 or 3); regenerate the lockfile with npm 7 or later"
            ),
        )),
    }
}

/// The folder a dependency `name` of the folder `from` resolves to, among `folders`.
fn resolve(folders: &HashMap<&str, usize>, from: &str, name: &str) -> Option<usize> {
    let mut base = from.to_owned();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(&index) = folders.get(candidate.as_str()) {
            return Some(index);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(cut) => base[..cut].to_owned(),
            None if base.starts_with("node_modules/") => String::new(),
            // A workspace folder: its own node_modules, then the root's.
            None => String::new(),
        };
    }
}

/// The package name in a folder path: what follows its last `node_modules/`.
fn name_of(path: &str) -> &str {
    path.rsplit_once("node_modules/")
        .map_or(path, |(_, name)| name)
}

fn locked(name: &str, entry: &Value, install_script_known: bool) -> Locked {
    let version = text(entry, "version").unwrap_or_default();
    let resolved = text(entry, "resolved");
    let source = match &resolved {
        Some(resolved) => classify(resolved),
        None => match classify(&version) {
            Source::Registry => Source::Registry,
            other => other,
        },
    };
    let mut package = Locked::new(name, &version, source);
    package.resolved = resolved;
    package.integrity = text(entry, "integrity");
    package.dev = flag(entry, "dev");
    package.optional = flag(entry, "optional");
    package.peer = flag(entry, "peer");
    if install_script_known {
        package.install_script = Some(flag(entry, "hasInstallScript"));
    }
    package
}

fn v2(
    file: &str,
    version: u8,
    packages: &serde_json::Map<String, Value>,
    text_: &str,
) -> Result<Graph, Error> {
    let lines = key_lines(text_);
    let mut builder = Builder::new(Format::Npm(version), file);
    let mut folders: HashMap<&str, usize> = HashMap::new();
    for (path, entry) in packages {
        if path.is_empty() || !path.contains("node_modules/") {
            continue;
        }
        if !entry.is_object() {
            return Err(Error::new(
                file,
                None,
                format!("`packages[\"{path}\"]` is not an object"),
            ));
        }
        // Links point at workspace folders (the project's own code); bundled
        // dependencies come inside their parent's tarball.
        if flag(entry, "link") || flag(entry, "inBundle") {
            continue;
        }
        let name = text(entry, "name").unwrap_or_else(|| name_of(path).to_owned());
        if text(entry, "version").is_none() {
            return Err(Error::new(
                file,
                None,
                format!("`packages[\"{path}\"]` has no `version`"),
            ));
        }
        let mut package = locked(&name, entry, true);
        package.line = lines.get(path.as_str()).copied();
        let index = builder.add(package);
        folders.insert(path.as_str(), index);
    }
    for (path, entry) in packages {
        let from = folders.get(path.as_str()).copied();
        for (key, kind) in [
            ("dependencies", RootKind::Prod),
            ("optionalDependencies", RootKind::Optional),
            ("peerDependencies", RootKind::Peer),
            ("devDependencies", RootKind::Dev),
        ] {
            // Only the project's dev dependencies are installed.
            if kind == RootKind::Dev && !path.is_empty() {
                continue;
            }
            for (name, _) in dependency_map(entry, key) {
                let Some(to) = resolve(&folders, path, &name) else {
                    continue;
                };
                match from {
                    Some(from) => builder.edge(from, to),
                    None if path.is_empty() => builder.root(to, kind),
                    // A workspace folder's dependencies are the project's too.
                    None => builder.root(to, kind),
                }
            }
        }
    }
    Ok(builder.finish())
}

fn v1(file: &str, document: &Value) -> Result<Graph, Error> {
    let mut builder = Builder::new(Format::Npm(1), file);
    let mut folders: HashMap<String, usize> = HashMap::new();
    let mut requires: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut pending: Vec<(String, &Value)> = vec![(String::new(), document)];
    while let Some((base, node)) = pending.pop() {
        let Some(dependencies) = node.get("dependencies") else {
            continue;
        };
        let Some(dependencies) = dependencies.as_object() else {
            return Err(Error::new(
                file,
                None,
                format!("`dependencies` under `{base}` is not an object"),
            ));
        };
        for (name, entry) in dependencies {
            if !entry.is_object() || text(entry, "version").is_none() {
                return Err(Error::new(
                    file,
                    None,
                    format!(
                        "the entry for `{name}` under `{}` has no `version`",
                        if base.is_empty() {
                            "the project"
                        } else {
                            &base
                        }
                    ),
                ));
            }
            let path = if base.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{base}/node_modules/{name}")
            };
            if flag(entry, "bundled") {
                continue;
            }
            let mut package = locked(name, entry, false);
            // An alias records the real package in its version: `npm:real@1.2.3`.
            let alias = package.version.strip_prefix("npm:").and_then(|spec| {
                let at = spec.get(1..)?.find('@')? + 1;
                Some((spec[..at].to_owned(), spec[at + 1..].to_owned()))
            });
            if let Some((real, version)) = alias {
                package.name = real;
                package.version = version;
                package.source = Source::Registry;
            }
            let index = builder.add(package);
            folders.insert(path.clone(), index);
            requires.push((path.clone(), dependency_map(entry, "requires")));
            pending.push((path, entry));
        }
    }
    let folder_refs: HashMap<&str, usize> = folders
        .iter()
        .map(|(path, index)| (path.as_str(), *index))
        .collect();
    let mut depended = vec![false; folders.len().max(1)];
    for (path, wanted) in &requires {
        let from = folder_refs[path.as_str()];
        for (name, _) in wanted {
            if let Some(to) = resolve(&folder_refs, path, name) {
                builder.edge(from, to);
                if let Some(flag) = depended.get_mut(to) {
                    *flag = true;
                }
            }
        }
    }
    let mut top: Vec<(&String, usize)> = folders
        .iter()
        .filter(|(path, _)| !path["node_modules/".len()..].contains("/node_modules/"))
        .map(|(path, index)| (path, *index))
        .collect();
    top.sort();
    for (_, index) in top {
        if !depended.get(index).copied().unwrap_or(false) {
            builder.root(index, RootKind::Prod);
        }
    }
    Ok(builder.finish())
}
