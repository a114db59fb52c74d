//! The server's modules in layers, top to bottom: what serves requests above, what
//! holds state below. A module may use only modules of lower layers, so the graph
//! has no circles and can be read in order; `ARCHITECTURE.md` draws the same list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom.
const LAYERS: &[&[&str]] = &[
    // The HTTP surface.
    &["router"],
    // Pages built on the admin API's answers.
    &["console", "health"],
    // Answers to requests: packuments and tarballs, the admin API, audits.
    &["admin", "audit", "handlers"],
    // When a version is analysed and its provenance checked; what added
    // dependencies weigh (asks the gate).
    &["vetting"],
    // Everything wired together.
    &["state"],
    // The gate: every decision.
    &["gate"],
    // The packument cache, which keeps each packument's decisions.
    &["packuments"],
    // Registry keys, signatures, provenance.
    &["trust"],
    // Analyses held and run.
    &["analyses"],
    // State and sources with no knowledge of the above.
    &[
        "advisories",
        "answers",
        "config",
        "downloads",
        "path",
        "policy",
        "tarballs",
    ],
    // Leaves.
    &[
        "access",
        "alerts",
        "decided",
        "encoding",
        "error",
        "flight",
        "history",
        "isolation",
        "metrics",
        "sessions",
    ],
];

#[test]
fn modules_use_only_lower_layers() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&source);
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(layer, names)| names.iter().map(move |name| (*name, layer)))
        .collect();
    let unplaced: Vec<&String> = modules
        .keys()
        .filter(|name| !layer_of.contains_key(name.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "place these modules in LAYERS (and in ARCHITECTURE.md): {unplaced:?}"
    );
    let exported = root_exports(&std::fs::read_to_string(source.join("lib.rs")).unwrap());
    let mut wrong = Vec::new();
    for (module, text) in &modules {
        for used in uses(text, &modules, &exported) {
            if used != *module && layer_of[used.as_str()] <= layer_of[module.as_str()] {
                wrong.push(format!("{module} uses {used}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a module may use only lower layers: {wrong:?}"
    );
}

/// Each module's code (a directory module's files together), tests left out.
fn modules(source: &Path) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let files = if path.is_dir() {
            std::fs::read_dir(&path)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect()
        } else if name != "lib" {
            vec![path]
        } else {
            continue;
        };
        let text: String = files
            .iter()
            .map(|file| code_of(&std::fs::read_to_string(file).unwrap()))
            .collect();
        modules.insert(name, text);
    }
    modules
}

/// The code of a file: its test module and comments dropped.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `pub use module::{A, B}` at the crate root: which module each name comes from.
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let mut exported = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        for item in items.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !item.is_empty() {
                exported.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    exported
}

/// The modules `text` uses: `crate::module…`, `use crate::{module, Name}`, and
/// names the crate root re-exports.
fn uses(
    text: &str,
    modules: &BTreeMap<String, String>,
    exported: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let resolve = |name: &str| {
        if modules.contains_key(name) {
            Some(name.to_owned())
        } else {
            exported.get(name).cloned()
        }
    };
    let mut used = BTreeSet::new();
    for (index, _) in text.match_indices("crate::") {
        let rest = &text[index + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            for item in group.split(',') {
                let first = item.trim().split("::").next().unwrap_or_default();
                used.extend(resolve(first));
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            used.extend(resolve(&name));
        }
    }
    used
}
