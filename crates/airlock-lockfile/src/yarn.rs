//! yarn.lock: classic (v1, Yarn's own indented format) and berry (YAML with
//! `__metadata`).
//!
//! Neither records which dependencies are dev-only. Classic does not record the
//! project's own dependencies either: its roots are the entries nothing else
//! depends on. Berry's workspace entries (`app@workspace:.`) name them.

use std::collections::HashMap;

use serde_json::Value;

use crate::graph::{Builder, Locked, RootKind, classify};
use crate::json::{key_lines, text};
use crate::{Error, Format, Graph, Source};

pub(crate) fn parse(file: &str, text_: &str) -> Result<Graph, Error> {
    if text_.lines().any(|line| line.starts_with("__metadata:")) {
        berry(file, text_)
    } else {
        classic(file, text_)
    }
}

/// `name` of a specifier `name@range` (the scope's `@` is not the separator).
fn spec_name(spec: &str) -> Option<&str> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some(&spec[..at])
}

fn unquote(text: &str) -> String {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .map_or_else(|| text.to_owned(), |inner| inner.replace("\\\"", "\""))
}

#[derive(Default)]
struct ClassicEntry {
    line: usize,
    specs: Vec<String>,
    fields: HashMap<String, String>,
    dependencies: Vec<(String, String)>,
}

fn classic(file: &str, text_: &str) -> Result<Graph, Error> {
    if !text_.contains("# yarn lockfile v1") {
        return Err(Error::new(
            file,
            Some(1),
            "neither a Yarn classic lockfile (`# yarn lockfile v1`) nor a berry one (`__metadata:`)",
        ));
    }
    let mut entries: Vec<ClassicEntry> = Vec::new();
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut nested: Option<String> = None;
    for (number, raw) in text_.lines().enumerate() {
        let line_no = number + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        match indent {
            0 => {
                let Some(keys) = line.strip_suffix(':') else {
                    return Err(Error::new(
                        file,
                        Some(line_no),
                        format!("expected `specifier:` to start an entry, found `{line}`"),
                    ));
                };
                let specs: Vec<String> = keys.split(", ").map(unquote).collect();
                for spec in &specs {
                    if spec_name(spec).is_none() {
                        return Err(Error::new(
                            file,
                            Some(line_no),
                            format!("`{spec}` is not `name@range`"),
                        ));
                    }
                    if let Some(&first) = owner.get(spec) {
                        // The same entry may list it twice, before it is pushed.
                        let first_line = entries.get(first).map_or(line_no, |entry| entry.line);
                        return Err(Error::new(
                            file,
                            Some(line_no),
                            format!("duplicate key `{spec}` (first at line {first_line})"),
                        ));
                    }
                    owner.insert(spec.clone(), entries.len());
                }
                entries.push(ClassicEntry {
                    line: line_no,
                    specs,
                    ..ClassicEntry::default()
                });
                nested = None;
            }
            2 => {
                let Some(entry) = entries.last_mut() else {
                    return Err(Error::new(file, Some(line_no), "a field outside any entry"));
                };
                if let Some(map) = line.strip_suffix(':') {
                    nested = Some(map.to_owned());
                    continue;
                }
                nested = None;
                let (key, value) = line.split_once(' ').ok_or_else(|| {
                    Error::new(
                        file,
                        Some(line_no),
                        format!("expected `field value`, found `{line}`"),
                    )
                })?;
                if entry
                    .fields
                    .insert(key.to_owned(), unquote(value))
                    .is_some()
                {
                    return Err(Error::new(
                        file,
                        Some(line_no),
                        format!("duplicate key `{key}`"),
                    ));
                }
            }
            4 => {
                let Some(entry) = entries.last_mut() else {
                    return Err(Error::new(
                        file,
                        Some(line_no),
                        "a dependency outside any entry",
                    ));
                };
                let (name, range) = line.split_once(' ').ok_or_else(|| {
                    Error::new(
                        file,
                        Some(line_no),
                        format!("expected `name range`, found `{line}`"),
                    )
                })?;
                if matches!(
                    nested.as_deref(),
                    Some("dependencies" | "optionalDependencies")
                ) {
                    entry.dependencies.push((unquote(name), unquote(range)));
                }
            }
            _ => {
                return Err(Error::new(
                    file,
                    Some(line_no),
                    format!("unexpected indentation of {indent} spaces"),
                ));
            }
        }
    }
    let mut builder = Builder::new(Format::YarnClassic, file);
    let mut indices = Vec::with_capacity(entries.len());
    for entry in &entries {
        let label = spec_name(&entry.specs[0]).unwrap_or_default();
        // An alias (`cjs@npm:real@^4`) installs `real` under another name.
        let name = entry.specs[0]
            .get(label.len() + 1..)
            .and_then(|range| range.strip_prefix("npm:"))
            .and_then(spec_name)
            .unwrap_or(label);
        let Some(version) = entry.fields.get("version") else {
            return Err(Error::new(
                file,
                Some(entry.line),
                format!("`{}` has no `version`", entry.specs[0]),
            ));
        };
        let resolved = entry.fields.get("resolved").cloned();
        let source = resolved.as_deref().map_or_else(
            || classify(version),
            |resolved| classify(resolved.split('#').next().unwrap_or(resolved)),
        );
        let mut package = Locked::new(name, version, source);
        package.resolved = resolved;
        package.integrity = entry.fields.get("integrity").cloned();
        package.line = Some(entry.line);
        indices.push(builder.add(package));
    }
    let mut depended = vec![false; entries.len()];
    for (position, entry) in entries.iter().enumerate() {
        for (name, range) in &entry.dependencies {
            if let Some(&target) = owner.get(&format!("{name}@{range}")) {
                builder.edge(indices[position], indices[target]);
                depended[target] = true;
            }
        }
    }
    for (position, depended) in depended.into_iter().enumerate() {
        if !depended {
            builder.root(indices[position], RootKind::Prod);
        }
    }
    Ok(builder.finish())
}

fn berry(file: &str, text_: &str) -> Result<Graph, Error> {
    let document: Value = serde_saphyr::from_str(text_).map_err(|error| {
        let line = error
            .location()
            .and_then(|location| usize::try_from(location.line()).ok());
        let message = error.to_string();
        Error::new(
            file,
            line,
            format!(
                "invalid YAML: {}",
                message.lines().next().unwrap_or("malformed")
            ),
        )
    })?;
    let Some(entries) = document.as_object() else {
        return Err(Error::new(file, None, "the lockfile is not a mapping"));
    };
    let lines = key_lines(text_);
    let mut builder = Builder::new(Format::YarnBerry, file);
    let mut owner: HashMap<String, Option<usize>> = HashMap::new();
    for (keys, entry) in entries {
        if keys == "__metadata" {
            continue;
        }
        let resolution = text(entry, "resolution")
            .ok_or_else(|| Error::new(file, None, format!("`{keys}` has no `resolution`")))?;
        let version = text(entry, "version").unwrap_or_default();
        let index = if resolution.contains("@workspace:") {
            None
        } else {
            let name = spec_name(&resolution).ok_or_else(|| {
                Error::new(
                    file,
                    lines.get(keys.as_str()).copied(),
                    format!("the resolution `{resolution}` of `{keys}` is not `name@reference`"),
                )
            })?;
            let reference = &resolution[name.len() + 1..];
            let source = if reference.starts_with("npm:") || reference.starts_with("patch:") {
                Source::Registry
            } else if reference.starts_with("link:") || reference.starts_with("portal:") {
                Source::Link
            } else {
                classify(reference)
            };
            let mut package = Locked::new(name, &version, source);
            package.resolved = Some(resolution.clone());
            package.line = lines.get(keys.as_str()).copied();
            Some(builder.add(package))
        };
        for spec in keys.split(", ") {
            let spec = spec.trim().to_owned();
            if owner.insert(spec.clone(), index).is_some() {
                return Err(Error::new(file, None, format!("duplicate key `{spec}`")));
            }
        }
    }
    for (keys, entry) in entries {
        if keys == "__metadata" {
            continue;
        }
        let from = keys
            .split(", ")
            .next()
            .and_then(|spec| owner.get(spec.trim()).copied())
            .flatten();
        let optional_meta = entry.get("dependenciesMeta");
        for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
            let Some(map) = entry.get(field).and_then(Value::as_object) else {
                continue;
            };
            for (name, range) in map {
                let range = match range {
                    Value::String(range) => range.clone(),
                    other => other.to_string(),
                };
                let target = owner
                    .get(&format!("{name}@{range}"))
                    .or_else(|| owner.get(&format!("{name}@npm:{range}")))
                    .copied()
                    .flatten();
                let Some(to) = target else {
                    continue;
                };
                if let Some(from) = from {
                    builder.edge(from, to);
                } else {
                    let optional = field == "optionalDependencies"
                        || optional_meta
                            .and_then(|meta| meta.get(name))
                            .is_some_and(|meta| {
                                meta.get("optional").and_then(Value::as_bool) == Some(true)
                            });
                    let kind = if optional {
                        RootKind::Optional
                    } else if field == "peerDependencies" {
                        RootKind::Peer
                    } else {
                        RootKind::Prod
                    };
                    builder.root(to, kind);
                }
            }
        }
    }
    Ok(builder.finish_deriving_flags())
}
