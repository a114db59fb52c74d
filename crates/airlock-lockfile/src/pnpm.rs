//! pnpm-lock.yaml, `lockfileVersion` 6.x and 9.x.
//!
//! 6.x keys packages as `/name@version(peers)` and records dependencies, `dev` and
//! `optional` on each; 9.x splits `packages` (resolution) from `snapshots`
//! (dependencies) and leaves dev-ness to be derived from the importers.

use serde_json::Value;

use crate::graph::{Builder, Locked, RootKind, classify};
use crate::json::{flag, key_lines, text};
use crate::{Error, Format, Graph, Source};

pub(crate) fn parse(file: &str, text_: &str) -> Result<Graph, Error> {
    let document: Value = serde_saphyr::from_str(text_).map_err(|error| {
        let line = error
            .location()
            .and_then(|location| usize::try_from(location.line()).ok());
        let message = error.to_string();
        let reason = message
            .lines()
            .next()
            .unwrap_or("malformed YAML")
            .to_owned();
        Error::new(file, line, format!("invalid YAML: {reason}"))
    })?;
    let version = text(&document, "lockfileVersion").ok_or_else(|| {
        Error::new(
            file,
            None,
            "no `lockfileVersion`: this is not a pnpm-lock.yaml pnpm wrote",
        )
    })?;
    let major: u8 = version
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    match major {
        6 | 9 => read(file, major, &document, &key_lines(text_)),
        _ => Err(Error::new(
            file,
            None,
            format!(
                "`lockfileVersion` {version} is not one Airlock reads (6.x or 9.x); regenerate the lockfile with pnpm 8 or later"
            ),
        )),
    }
}

/// `name@version` (peer suffix dropped) from a package key.
fn split_key(key: &str) -> Option<(&str, &str)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.split('(').next().unwrap_or(key);
    let at = key.get(1..)?.find('@')? + 1;
    Some((&key[..at], &key[at + 1..]))
}

/// The name and version of a package entry: from its key, or (git and directory
/// packages keyed by their location, in 6.x) from its own `name` and `version`.
fn identity(key: &str, entry: &Value) -> Option<(String, String)> {
    split_key(key)
        .map(|(name, version)| (name.to_owned(), version.to_owned()))
        .or_else(|| text(entry, "name").zip(text(entry, "version")))
}

/// The key a dependency reference (`1.0.0(peer@1)`, `other@1.0.0` for an alias,
/// `link:../x`) points to, given the dependency's name.
fn target(name: &str, reference: &str) -> Option<String> {
    if reference.starts_with("link:") || reference.starts_with("file:") {
        return None;
    }
    let reference = reference.split('(').next().unwrap_or(reference);
    let reference = reference.strip_prefix('/').unwrap_or(reference);
    let aliased = reference.get(1..).is_some_and(|rest| rest.contains('@'))
        && !reference.starts_with(|c: char| c.is_ascii_digit());
    Some(if aliased {
        reference.to_owned()
    } else {
        format!("{name}@{reference}")
    })
}

fn source_of(resolution: Option<&Value>) -> (Source, Option<String>) {
    let Some(resolution) = resolution else {
        return (Source::Registry, None);
    };
    if let Some(tarball) = text(resolution, "tarball") {
        let source = classify(&tarball);
        return (source, Some(tarball));
    }
    if text(resolution, "type").as_deref() == Some("git") || resolution.get("repo").is_some() {
        let repo = text(resolution, "repo").unwrap_or_default();
        let commit = text(resolution, "commit").unwrap_or_default();
        return (Source::Git, Some(format!("{repo}#{commit}")));
    }
    if let Some(directory) = text(resolution, "directory") {
        return (Source::File, Some(format!("file:{directory}")));
    }
    (Source::Registry, None)
}

fn read(
    file: &str,
    major: u8,
    document: &Value,
    lines: &std::collections::HashMap<String, usize>,
) -> Result<Graph, Error> {
    let mut builder = Builder::new(Format::Pnpm(major), file);
    let empty = serde_json::Map::new();
    let packages = match document.get("packages") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(packages)) => packages,
        Some(_) => return Err(Error::new(file, None, "`packages` is not a mapping")),
    };
    for (key, entry) in packages {
        let Some((name, version)) = identity(key, entry) else {
            return Err(Error::new(
                file,
                lines.get(key.as_str()).copied(),
                format!("package key `{key}` is not `name@version`"),
            ));
        };
        let (name, version) = (name.as_str(), version.as_str());
        let (source, resolved) = source_of(entry.get("resolution"));
        let mut package = Locked::new(name, version, source);
        package.resolved = resolved;
        package.line = lines.get(key.as_str()).copied();
        package.integrity = entry
            .get("resolution")
            .and_then(|resolution| text(resolution, "integrity"));
        if major == 6 {
            package.dev = flag(entry, "dev");
            package.optional = flag(entry, "optional");
            package.install_script = entry
                .get("requiresBuild")
                .map(|_| flag(entry, "requiresBuild"));
        }
        builder.add(package);
    }
    // Dependencies live on the package (6.x) or on its snapshot (9.x).
    let with_dependencies = if major == 9 {
        match document.get("snapshots") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(snapshots)) => snapshots,
            Some(_) => return Err(Error::new(file, None, "`snapshots` is not a mapping")),
        }
    } else {
        packages
    };
    for (key, entry) in with_dependencies {
        let Some((name, version)) = identity(key, entry) else {
            return Err(Error::new(
                file,
                lines.get(key.as_str()).copied(),
                format!("snapshot key `{key}` is not `name@version`"),
            ));
        };
        let Some(from) = builder.find(&name, &version) else {
            return Err(Error::new(
                file,
                None,
                format!("`{key}` has dependencies but no entry under `packages`"),
            ));
        };
        for field in ["dependencies", "optionalDependencies"] {
            for (dependency, reference) in references(entry, field) {
                if let Some(to) = target(&dependency, &reference)
                    .and_then(|key| split_key(&key).and_then(|(n, v)| builder.find(n, v)))
                {
                    builder.edge(from, to);
                }
            }
        }
    }
    // The project's dependencies: `importers` (9.x, and 6.x workspaces) or the
    // top-level maps (6.x).
    let mut importers: Vec<&Value> = Vec::new();
    if let Some(Value::Object(map)) = document.get("importers") {
        importers.extend(map.values());
    } else {
        importers.push(document);
    }
    for importer in importers {
        for (field, kind) in [
            ("dependencies", RootKind::Prod),
            ("optionalDependencies", RootKind::Optional),
            ("devDependencies", RootKind::Dev),
        ] {
            for (dependency, reference) in references(importer, field) {
                if let Some(to) = target(&dependency, &reference)
                    .and_then(|key| split_key(&key).and_then(|(n, v)| builder.find(n, v)))
                {
                    builder.root(to, kind);
                }
            }
        }
    }
    Ok(if major == 9 {
        builder.finish_deriving_flags()
    } else {
        builder.finish()
    })
}

/// `(name, version reference)` of a dependency map, whether each value is the
/// reference itself (packages, snapshots) or `{specifier, version}` (importers).
fn references(entry: &Value, field: &str) -> Vec<(String, String)> {
    entry
        .get(field)
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(name, value)| {
                    let reference = match value {
                        Value::Object(_) => text(value, "version")?,
                        Value::String(text) => text.clone(),
                        Value::Number(number) => number.to_string(),
                        _ => return None,
                    };
                    Some((name.clone(), reference))
                })
                .collect()
        })
        .unwrap_or_default()
}
