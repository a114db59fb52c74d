//! Every lockfile parser on arbitrary input: an error or a graph, never a panic,
//! never unbounded work. The first byte picks the format.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FILES: [&str; 5] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lock",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let file = FILES[usize::from(selector) % FILES.len()];
    let text = String::from_utf8_lossy(rest);
    if let Ok(graph) = airlock_lockfile::parse(file, &text) {
        for &(from, to) in &graph.edges {
            assert!(from < graph.packages.len() && to < graph.packages.len());
        }
        let _ = graph.transitive_dependents();
    }
});
