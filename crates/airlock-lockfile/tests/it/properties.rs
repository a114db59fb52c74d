//! Properties: any graph written in a format reads back as itself; no input, however
//! mangled, makes a parser panic.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use airlock_lockfile::parse;
use proptest::prelude::*;

use crate::FIXTURES;

/// A generated dependency graph: package `i` is `p{i}` (every third one scoped) at
/// version `1.{i}.0`; edges only go to higher indices, so it is acyclic.
#[derive(Clone, Debug)]
struct Generated {
    count: usize,
    edges: BTreeSet<(usize, usize)>,
}

impl Generated {
    fn name(index: usize) -> String {
        if index % 3 == 2 {
            format!("@s/p{index}")
        } else {
            format!("p{index}")
        }
    }

    fn version(index: usize) -> String {
        format!("1.{index}.0")
    }

    fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.edges
            .iter()
            .filter(move |(from, _)| *from == index)
            .map(|(_, to)| *to)
    }

    /// Packages nothing depends on: what the project depends on.
    fn roots(&self) -> Vec<usize> {
        (0..self.count)
            .filter(|index| !self.edges.iter().any(|(_, to)| to == index))
            .collect()
    }

    fn ids(&self) -> BTreeSet<String> {
        (0..self.count)
            .map(|index| format!("{}@{}", Self::name(index), Self::version(index)))
            .collect()
    }

    fn named_edges(&self) -> BTreeSet<(String, String)> {
        self.edges
            .iter()
            .map(|(from, to)| (Self::name(*from), Self::name(*to)))
            .collect()
    }

    fn url(index: usize) -> String {
        let name = Self::name(index);
        let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
        format!(
            "http://127.0.0.1:1/{name}/-/{base}-{}.tgz",
            Self::version(index)
        )
    }

    fn npm(&self) -> String {
        let mut packages = serde_json::Map::new();
        let roots: serde_json::Map<String, serde_json::Value> = self
            .roots()
            .into_iter()
            .map(|index| {
                (
                    Self::name(index),
                    format!("^{}", Self::version(index)).into(),
                )
            })
            .collect();
        packages.insert(
            String::new(),
            serde_json::json!({"name": "app", "dependencies": roots}),
        );
        for index in 0..self.count {
            let dependencies: serde_json::Map<String, serde_json::Value> = self
                .children(index)
                .map(|child| {
                    (
                        Self::name(child),
                        format!("^{}", Self::version(child)).into(),
                    )
                })
                .collect();
            packages.insert(
                format!("node_modules/{}", Self::name(index)),
                serde_json::json!({"version": Self::version(index), "resolved": Self::url(index),
                    "integrity": format!("sha512-{index}"), "dependencies": dependencies}),
            );
        }
        serde_json::json!({"name": "app", "lockfileVersion": 3, "requires": true, "packages": packages})
            .to_string()
    }

    fn yarn_classic(&self) -> String {
        let mut out = String::from("# yarn lockfile v1\n\n");
        for index in 0..self.count {
            let name = Self::name(index);
            let version = Self::version(index);
            let _ = write!(
                out,
                "\n\"{name}@^{version}\":\n  version \"{version}\"\n  resolved \"{}#abc\"\n  integrity sha512-{index}\n",
                Self::url(index)
            );
            let children: Vec<usize> = self.children(index).collect();
            if !children.is_empty() {
                out.push_str("  dependencies:\n");
                for child in children {
                    let _ = writeln!(
                        out,
                        "    \"{}\" \"^{}\"",
                        Self::name(child),
                        Self::version(child)
                    );
                }
            }
        }
        out
    }

    fn pnpm(&self) -> String {
        let mut out =
            String::from("lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n");
        for index in self.roots() {
            let _ = write!(
                out,
                "      '{}':\n        specifier: ^{version}\n        version: {version}\n",
                Self::name(index),
                version = Self::version(index)
            );
        }
        out.push_str("\npackages:\n\n");
        for index in 0..self.count {
            let _ = write!(
                out,
                "  '{}@{}':\n    resolution: {{integrity: sha512-{index}}}\n\n",
                Self::name(index),
                Self::version(index)
            );
        }
        out.push_str("snapshots:\n\n");
        for index in 0..self.count {
            let children: Vec<usize> = self.children(index).collect();
            let _ = write!(out, "  '{}@{}':", Self::name(index), Self::version(index));
            if children.is_empty() {
                out.push_str(" {}\n\n");
                continue;
            }
            out.push_str("\n    dependencies:\n");
            for child in children {
                let _ = writeln!(
                    out,
                    "      '{}': {}",
                    Self::name(child),
                    Self::version(child)
                );
            }
            out.push('\n');
        }
        out
    }

    fn bun(&self) -> String {
        let mut out = String::from(
            "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\n    \"\": {\n      \"name\": \"app\",\n      \"dependencies\": {\n",
        );
        for index in self.roots() {
            let _ = writeln!(
                out,
                "        \"{}\": \"^{}\",",
                Self::name(index),
                Self::version(index)
            );
        }
        out.push_str(
            "      },\n    },\n  },\n  // every package, by install path\n  \"packages\": {\n",
        );
        for index in 0..self.count {
            let dependencies: Vec<String> = self
                .children(index)
                .map(|child| format!("\"{}\": \"^{}\"", Self::name(child), Self::version(child)))
                .collect();
            let _ = writeln!(
                out,
                "    \"{name}\": [\"{name}@{version}\", \"{url}\", {{ \"dependencies\": {{ {deps} }} }}, \"sha512-{index}\"],",
                name = Self::name(index),
                version = Self::version(index),
                url = Self::url(index),
                deps = dependencies.join(", ")
            );
        }
        out.push_str("  },\n}\n");
        out
    }
}

fn generated() -> impl Strategy<Value = Generated> {
    (1usize..25).prop_flat_map(|count| {
        proptest::collection::btree_set((0..count, 0..count), 0..count * 2).prop_map(move |pairs| {
            Generated {
                count,
                edges: pairs.into_iter().filter(|(from, to)| from < to).collect(),
            }
        })
    })
}

fn read_back(file: &str, text: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let graph = parse(file, text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let ids = graph
        .packages
        .iter()
        .map(|package| format!("{}@{}", package.name, package.version))
        .collect();
    let edges = graph
        .edges
        .iter()
        .map(|(from, to)| {
            (
                graph.packages[*from].name.clone(),
                graph.packages[*to].name.clone(),
            )
        })
        .collect();
    (ids, edges)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_graph_reads_back_as_itself(graph in generated()) {
        for (file, text) in [
            ("package-lock.json", graph.npm()),
            ("yarn.lock", graph.yarn_classic()),
            ("pnpm-lock.yaml", graph.pnpm()),
            ("bun.lock", graph.bun()),
        ] {
            let (ids, edges) = read_back(file, &text);
            prop_assert_eq!(&ids, &graph.ids(), "{}", file);
            prop_assert_eq!(&edges, &graph.named_edges(), "{}", file);
        }
    }

    #[test]
    fn mangled_lockfiles_are_errors_or_graphs_never_panics(
        fixture in 0..FIXTURES.len(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..64,
        insert in "(\\PC|[\\x00-\\x7f]){0,16}",
    ) {
        let (file, text) = FIXTURES[fixture];
        let mut bytes = text.as_bytes().to_vec();
        let start = at.index(bytes.len());
        let end = (start + cut).min(bytes.len());
        bytes.splice(start..end, insert.bytes());
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(file, &text);
    }
}
