//! The graph every lockfile becomes.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::Format;

/// Where a locked package comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A registry tarball (`…/{name}/-/{file}.tgz`), or a registry version the format
    /// records without its URL (pnpm, Yarn berry).
    Registry,
    /// A tarball from a URL that is not a registry's.
    Tarball,
    Git,
    /// A directory or tarball on disk (`file:`).
    File,
    /// A symlink or workspace (`link:`, `workspace:`): the project's own code.
    Link,
}

/// One distinct package version in a lockfile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Locked {
    /// The name the project installs it under.
    pub name: String,
    pub version: String,
    pub source: Source,
    /// The URL or spec the lockfile records for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    /// The SRI integrity (`sha512-…`), when the format keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// Only dev dependencies lead to it.
    pub dev: bool,
    /// Only optional dependencies lead to it.
    pub optional: bool,
    pub peer: bool,
    /// Whether it runs install scripts, where the format says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_script: Option<bool>,
    /// The line of its entry in the lockfile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Locked {
    pub(crate) fn new(name: &str, version: &str, source: Source) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            source,
            resolved: None,
            integrity: None,
            dev: false,
            optional: false,
            peer: false,
            install_script: None,
            line: None,
        }
    }
}

/// A lockfile's packages and who depends on whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Graph {
    pub format: Format,
    pub file: String,
    pub packages: Vec<Locked>,
    /// `(dependent, dependency)`, indices into `packages`.
    pub edges: Vec<(usize, usize)>,
    /// What the project itself depends on.
    pub roots: Vec<usize>,
}

impl Graph {
    /// How many packages depend on each package, directly or not.
    pub fn transitive_dependents(&self) -> Vec<usize> {
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); self.packages.len()];
        for &(from, to) in &self.edges {
            dependents[to].push(from);
        }
        (0..self.packages.len())
            .map(|start| {
                let mut seen = HashSet::from([start]);
                let mut queue = VecDeque::from([start]);
                while let Some(node) = queue.pop_front() {
                    for &next in &dependents[node] {
                        if seen.insert(next) {
                            queue.push_back(next);
                        }
                    }
                }
                seen.len() - 1
            })
            .collect()
    }
}

/// How the project depends on a root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RootKind {
    Prod,
    Dev,
    Optional,
    Peer,
}

/// Collects packages (one per name and version), edges and roots.
pub(crate) struct Builder {
    graph: Graph,
    /// Every package of a name and version: copies that disagree on where they come
    /// from or on their integrity stay apart, so each is checked.
    index: HashMap<(String, String), Vec<usize>>,
    edges: HashSet<(usize, usize)>,
    roots: Vec<(usize, RootKind)>,
}

impl Builder {
    pub(crate) fn new(format: Format, file: &str) -> Self {
        Self {
            graph: Graph {
                format,
                file: file.to_owned(),
                packages: Vec::new(),
                edges: Vec::new(),
                roots: Vec::new(),
            },
            index: HashMap::new(),
            edges: HashSet::new(),
            roots: Vec::new(),
        }
    }

    /// Adds a package, or merges it into the copy with its name and version that
    /// agrees on source, `resolved` and integrity: it is dev (optional, peer) only if
    /// every occurrence is.
    pub(crate) fn add(&mut self, locked: Locked) -> usize {
        let key = (locked.name.clone(), locked.version.clone());
        let agrees = |known: &Locked| {
            let same =
                |a: &Option<String>, b: &Option<String>| a.is_none() || b.is_none() || a == b;
            known.source == locked.source
                && same(&known.resolved, &locked.resolved)
                && same(&known.integrity, &locked.integrity)
        };
        let copy = self.index.get(&key).and_then(|copies| {
            copies
                .iter()
                .copied()
                .find(|&index| agrees(&self.graph.packages[index]))
        });
        if let Some(index) = copy {
            let known = &mut self.graph.packages[index];
            known.dev &= locked.dev;
            known.optional &= locked.optional;
            known.peer &= locked.peer;
            if known.integrity.is_none() {
                known.integrity = locked.integrity;
            }
            if known.resolved.is_none() {
                known.resolved = locked.resolved;
            }
            if known.install_script.is_none() {
                known.install_script = locked.install_script;
            }
            return index;
        }
        let index = self.graph.packages.len();
        self.graph.packages.push(locked);
        self.index.entry(key).or_default().push(index);
        index
    }

    pub(crate) fn find(&self, name: &str, version: &str) -> Option<usize> {
        self.index
            .get(&(name.to_owned(), version.to_owned()))
            .and_then(|copies| copies.first().copied())
    }

    pub(crate) fn edge(&mut self, from: usize, to: usize) {
        if from != to {
            self.edges.insert((from, to));
        }
    }

    pub(crate) fn root(&mut self, index: usize, kind: RootKind) {
        self.roots.push((index, kind));
    }

    /// The graph, its flags as recorded.
    pub(crate) fn finish(mut self) -> Graph {
        let mut edges: Vec<(usize, usize)> = self.edges.into_iter().collect();
        edges.sort_unstable();
        self.graph.edges = edges;
        let mut roots: Vec<usize> = self.roots.iter().map(|(index, _)| *index).collect();
        roots.sort_unstable();
        roots.dedup();
        self.graph.roots = roots;
        self.graph
    }

    /// The graph, with dev / optional / peer derived from what reaches each package
    /// from the project's roots (for formats that do not record them).
    pub(crate) fn finish_deriving_flags(self) -> Graph {
        let roots = self.roots.clone();
        let mut graph = self.finish();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); graph.packages.len()];
        for &(from, to) in &graph.edges {
            children[from].push(to);
        }
        let reach = |kinds: &[RootKind]| {
            let mut seen = vec![false; children.len()];
            let mut queue: VecDeque<usize> = roots
                .iter()
                .filter(|(_, kind)| kinds.contains(kind))
                .map(|(index, _)| *index)
                .collect();
            for &index in &queue {
                seen[index] = true;
            }
            while let Some(node) = queue.pop_front() {
                for &next in &children[node] {
                    if !seen[next] {
                        seen[next] = true;
                        queue.push_back(next);
                    }
                }
            }
            seen
        };
        let prod = reach(&[RootKind::Prod]);
        let optional = reach(&[RootKind::Optional]);
        let peer = reach(&[RootKind::Peer]);
        for (index, package) in graph.packages.iter_mut().enumerate() {
            let runtime = prod[index] || optional[index] || peer[index];
            package.dev = !runtime;
            package.optional = !prod[index] && optional[index];
            package.peer = !prod[index] && !optional[index] && peer[index];
        }
        graph
    }
}

/// Where a `resolved` URL or spec points.
pub(crate) fn classify(resolved: &str) -> Source {
    let lower = resolved.to_ascii_lowercase();
    if lower.starts_with("git+")
        || lower.starts_with("git:")
        || lower.starts_with("github:")
        || lower.starts_with("gitlab:")
        || lower.starts_with("bitbucket:")
        || lower.contains(".git#")
    {
        Source::Git
    } else if lower.starts_with("file:") {
        Source::File
    } else if lower.starts_with("link:") || lower.starts_with("workspace:") {
        Source::Link
    } else if (lower.starts_with("http://") || lower.starts_with("https://"))
        && !lower.contains("/-/")
    {
        Source::Tarball
    } else {
        Source::Registry
    }
}
