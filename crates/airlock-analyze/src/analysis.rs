//! The whole analysis of one tarball: read, find reach, scan, judge, escalate.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use airlock_policy::Code;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::archive::{Archive, Entry, FileKind, Limits};
use crate::capability::{self, Capability, Stage};
use crate::context::RegistryContext;
use crate::diff::VersionDiff;
use crate::finding::{Confidence, Finding, Reach, Severity};
use crate::js::graph::{FileInput, Graph};
use crate::js::rules::{self, FileContext};
use crate::js::scan::{self, FileFacts, MAX_HOSTS};
use crate::manifest::{self, Manifest};
use crate::table::{self, Context};
use crate::{ANALYZER_VERSION, Indicators};
use crate::{gyp, python, shell};

/// What the analysis needs besides the tarball.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    pub limits: Limits,
    /// The registry's version document, compared with the tarball's `package.json`.
    pub registry_manifest: Option<&'a Value>,
    /// Addresses from advisories.
    pub indicators: Option<&'a Indicators>,
    /// The previous version on the same release line: (version, its analysis).
    pub previous: Option<(&'a str, &'a Analysis)>,
    /// The configured registry's hosts: code that talks to them talks to the
    /// registry (update checks), not to a host of the author's choosing.
    pub registry_hosts: &'a [String],
    /// What the registry says about the package (first version, age).
    pub context: Option<&'a RegistryContext>,
    /// When the analysis must stop: files not yet scanned by then are left out,
    /// and the analysis says it is incomplete (so the version is held).
    pub deadline: Option<std::time::Instant>,
}

/// A file, as the diff needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub path: String,
    pub size: u64,
    pub kind: FileKind,
}

/// Everything the analyser found in one tarball.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Analysis {
    /// The analyser version that produced it; a newer analyser re-analyses.
    pub analyzer: u32,
    pub manifest: Manifest,
    pub files: Vec<FileSummary>,
    pub unpacked_bytes: u64,
    /// Packages some file requires or imports (bare names, scopes kept).
    pub required_packages: BTreeSet<String>,
    /// Hosts that URLs in the code name, kept so that indicators imported later
    /// still match (see [`crate::indicator_findings`]).
    #[serde(default)]
    pub hosts: BTreeSet<String>,
    /// Most severe first.
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<VersionDiff>,
    /// What the capability table found, as `rule → sink`, to compare a version's
    /// capabilities with its predecessor's.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub capabilities: BTreeSet<String>,
    /// Those of [`Self::capabilities`] the version was held for (a finding of high
    /// severity or worse), with the severity: a successor repeating them is held
    /// at least as firmly.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub held_capabilities: BTreeMap<String, Severity>,
}

impl Analysis {
    /// Whether npm runs something of this version when it installs it: a lifecycle
    /// script, or `node-gyp rebuild` for a `binding.gyp` with no `install` of its own.
    #[must_use]
    pub fn runs_at_install(&self) -> bool {
        !self.manifest.install_scripts.is_empty()
            || !self.manifest.gypfile_disabled
                && self.files.iter().any(|file| file.path == "binding.gyp")
    }

    /// Analyses a gzipped tarball.
    ///
    /// Inflating is sequential; scripts are scanned on a second thread as soon as
    /// they are read, and the reading thread joins the scanning when it is done, so
    /// that both cores work on a large tarball.
    pub fn of_tarball(tgz: &[u8], options: &Options<'_>) -> Self {
        let (sender, receiver) = std::sync::mpsc::channel::<(String, Arc<String>)>();
        let receiver = Mutex::new(receiver);
        let drain = || {
            let mut scanned = Vec::new();
            loop {
                let next = receiver
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv();
                let Ok((path, text)) = next else {
                    return scanned;
                };
                // Past the deadline the file is left to `analyse`, which skips it too.
                if past(options.deadline) {
                    continue;
                }
                let facts = scan_guarded(&path, &text);
                scanned.push((path, facts));
            }
        };
        std::thread::scope(|scope| {
            let helper = scope.spawn(drain);
            let archive = Archive::read_streaming(tgz, &options.limits, |entry| {
                if let Some(text) = &entry.text
                    && is_script(&entry.path, entry.kind)
                {
                    let _ = sender.send((entry.path.clone(), text.clone()));
                }
            });
            drop(sender);
            let mut prescanned: HashMap<String, FileFacts> = drain().into_iter().collect();
            prescanned.extend(helper.join().unwrap_or_default());
            Self::analyse(&archive, options, prescanned)
        })
    }

    /// Analyses files already read (a tarball, or a directory the CLI walked).
    pub fn of_archive(archive: &Archive, options: &Options<'_>) -> Self {
        Self::analyse(archive, options, HashMap::new())
    }

    fn analyse(
        archive: &Archive,
        options: &Options<'_>,
        mut prescanned: HashMap<String, FileFacts>,
    ) -> Self {
        let empty = Indicators::default();
        let indicators = options.indicators.unwrap_or(&empty);
        let mut findings = archive.problems.clone();
        let package_json = archive
            .get("package.json")
            .and_then(|entry| entry.text())
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        let manifest = if let Some(value @ Value::Object(_)) = &package_json {
            Manifest::from_value(value)
        } else {
            findings.push(Finding::new(
                Code::TarballMalformed,
                Severity::High,
                Confidence::High,
                "no readable package.json at the package root",
            ));
            // What a broken manifest still says: its name, version and scripts.
            archive
                .get("package.json")
                .and_then(|entry| entry.text())
                .map(Manifest::recover)
                .unwrap_or_default()
        };

        let code_files: Vec<&crate::archive::Entry> = archive
            .entries
            .iter()
            .filter(|entry| entry.text.is_some() && is_code(entry, &manifest))
            .collect();
        let (mut facts, unscanned): (HashMap<&str, FileFacts>, Vec<&crate::archive::Entry>) = {
            let mut facts = HashMap::new();
            let mut unscanned = Vec::new();
            for entry in &code_files {
                match prescanned.remove(&entry.path) {
                    Some(scanned) => {
                        facts.insert(entry.path.as_str(), scanned);
                    }
                    None => unscanned.push(*entry),
                }
            }
            (facts, unscanned)
        };
        let scanned = scan_all(&unscanned, options.deadline);
        let skipped = unscanned.len() - scanned.len();
        facts.extend(scanned);
        if skipped > 0 {
            findings.push(
                Finding::new(
                    Code::AnalysisIncomplete,
                    Severity::High,
                    Confidence::High,
                    format!(
                        "the analysis reached its time limit with {skipped} of {} code files not read",
                        code_files.len()
                    ),
                )
                .reach(Reach::Install),
            );
        }

        let paths: BTreeSet<&str> = archive
            .entries
            .iter()
            .map(|entry| entry.path.as_str())
            .collect();
        // Install scripts, parsed; the code of `node -e` scanned as a file of its own.
        let scripts: Vec<(&String, &String, shell::Script)> = manifest
            .install_scripts
            .iter()
            .map(|(script, command)| (script, command, shell::parse(command)))
            .collect();
        let inline: Vec<(String, FileFacts)> = scripts
            .iter()
            .flat_map(|(script, _, parsed)| {
                parsed
                    .inline_js
                    .iter()
                    .enumerate()
                    .map(move |(index, code)| {
                        let path = format!("package.json#scripts.{script}.{index}");
                        let facts = scan_guarded(&path, code);
                        (path, facts)
                    })
            })
            .collect();
        // What `binding.gyp` runs when node-gyp reads it at install.
        let gyp = gyp_at_install(archive, &manifest, &paths);
        let (mut install_roots, names_missing_script) = script_roots(
            manifest.install_scripts.values().chain(&gyp.commands),
            &manifest,
            &paths,
        );
        // An install script that runs a script the tarball lacks: an earlier step
        // may write it, or the tarball was packed to hide it. What runs at install
        // is unknown, so every code file is taken to.
        if names_missing_script {
            install_roots.extend(code_files.iter().map(|entry| entry.path.clone()));
        }
        // `node -e "require('./setup')"`: what the inline code requires runs too.
        install_roots.extend(inline.iter().flat_map(|(_, file_facts)| {
            file_facts
                .requires
                .iter()
                .filter_map(|(module, _)| resolve(&paths, "", module))
        }));
        // Without a manifest, or when none of the entry points it names is in the
        // tarball, nothing says which file runs when the package is used: every
        // code file is taken to. A manifest that names none means `index.js`; when
        // there is none either and no command is declared, the package can only be
        // used by requiring its files by path (`pkg/lib/x.js`), which runs each of
        // them: every code file is taken to run on import too.
        let declared: Vec<String> = manifest
            .import_files()
            .iter()
            .filter_map(|path| resolve(&paths, "", &format!("./{path}")))
            .collect();
        let entry_missing =
            declared.is_empty() && (!manifest.entry_points.is_empty() || manifest.bin.is_empty());
        let mut import_roots: Vec<String> = if package_json.is_none() || entry_missing {
            code_files.iter().map(|entry| entry.path.clone()).collect()
        } else {
            declared
        };
        // A private project (cloned and run, never installed from a registry): what
        // its scripts start runs, and so do the tools' configuration files at its
        // root (`next.config.js`, `vite.config.mjs`) that those scripts load.
        if !manifest.project_scripts.is_empty() {
            import_roots
                .extend(script_roots(manifest.project_scripts.values(), &manifest, &paths).0);
            import_roots.extend(
                code_files
                    .iter()
                    .filter(|entry| is_tool_config(&entry.path))
                    .map(|entry| entry.path.clone()),
            );
        }
        let install = reachable(&install_roots, &facts, &paths);
        let import = reachable(&import_roots, &facts, &paths);
        let reach_of = |path: &str| {
            if install.contains(path) {
                Reach::Install
            } else if import.contains(path) {
                Reach::Import
            } else {
                Reach::Elsewhere
            }
        };

        let mut required_packages = BTreeSet::new();
        let mut hosts = BTreeSet::new();
        let longest_dependency = manifest
            .dependencies
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for entry in &code_files {
            let Some(file_facts) = facts.get(entry.path.as_str()) else {
                continue;
            };
            for (module, _) in &file_facts.requires {
                if let Some(package) = package_of(module) {
                    required_packages.insert(package);
                }
            }
            for host in &file_facts.hosts {
                if hosts.len() >= MAX_HOSTS {
                    break;
                }
                hosts.insert(host.clone());
            }
            // Plugins named by string (babel presets, eslint configs) count as used.
            if !manifest.dependencies.is_empty() {
                for (text, _) in &file_facts.strings {
                    if text.len() <= longest_dependency
                        && manifest.dependencies.contains_key(text.as_str())
                    {
                        required_packages.insert(text.clone());
                    }
                }
            }
            let context = FileContext {
                path: &entry.path,
                reach: reach_of(&entry.path),
                bundle: file_facts.bundle,
                indicators,
                package: manifest.name.as_deref().unwrap_or(""),
            };
            findings.extend(rules::judge_file(file_facts, &context));
        }

        let mut capabilities: Vec<Capability> = Vec::new();
        for (script, command, parsed) in &scripts {
            findings.push(
                Finding::new(
                    Code::InstallScript,
                    Severity::Low,
                    Confidence::High,
                    format!("runs `{script}` at install"),
                )
                .at("package.json", None, command)
                .reach(Reach::Install),
            );
            capabilities.extend(shell_capabilities(
                parsed,
                Stage::Install,
                "package.json",
                &format!("scripts.{script}: {command}"),
            ));
        }
        for (path, file_facts) in &inline {
            let context = FileContext {
                path,
                reach: Reach::Install,
                bundle: false,
                indicators,
                package: manifest.name.as_deref().unwrap_or(""),
            };
            findings.extend(rules::judge_file(file_facts, &context));
        }
        if !manifest.install_scripts.contains_key("install")
            && !manifest.gypfile_disabled
            && paths.contains("binding.gyp")
        {
            findings.push(
                Finding::new(
                    Code::InstallScript,
                    Severity::Info,
                    Confidence::High,
                    "builds a native addon at install (`binding.gyp`: npm runs node-gyp rebuild)",
                )
                .at("binding.gyp", None, "")
                .reach(Reach::Install),
            );
        }
        if let Some(name) = gyp.python {
            findings.push(
                Finding::new(
                    Code::DynamicCode,
                    Severity::Critical,
                    Confidence::High,
                    format!(
                        "binding.gyp reaches into Python's internals (`{name}`): node-gyp evaluates its conditions as Python at install, and a build description has no reason to run code"
                    ),
                )
                .at("binding.gyp", None, name)
                .reach(Reach::Install),
            );
        }
        if let Some(finding) = gyp_builds_nothing(&gyp, &manifest, &paths) {
            findings.push(finding);
        }
        for command in &gyp.commands {
            capabilities.extend(shell_capabilities(
                &shell::parse(command),
                Stage::Install,
                "binding.gyp",
                &format!("binding.gyp: {command}"),
            ));
        }

        // The flow of the whole package: every file's graph, linked.
        let index_of: HashMap<&str, usize> = code_files
            .iter()
            .enumerate()
            .map(|(index, entry)| (entry.path.as_str(), index))
            .collect();
        let empty_flow = crate::js::flow::FileFlow::default();
        let mut inputs: Vec<FileInput<'_>> = code_files
            .iter()
            .map(|entry| {
                let file_facts = facts.get(entry.path.as_str());
                FileInput {
                    path: entry.path.as_str(),
                    flow: file_facts.map_or(&empty_flow, |file_facts| &file_facts.flow),
                    reach: reach_of(&entry.path),
                    bundle: file_facts.is_some_and(|file_facts| file_facts.flow_joins),
                }
            })
            .collect();
        inputs.extend(inline.iter().map(|(path, file_facts)| FileInput {
            path: path.as_str(),
            flow: &file_facts.flow,
            reach: Reach::Install,
            bundle: false,
        }));
        let graph = Graph::build(
            inputs,
            |from, specifier| {
                let from = if from.starts_with("package.json#") {
                    ""
                } else {
                    from
                };
                resolve(&paths, from, specifier)
                    .and_then(|path| index_of.get(path.as_str()).copied())
            },
            options.registry_hosts,
        );
        capabilities.extend(capability::from_graph(&graph));

        // Strings of the code that runs at install and at import: what they name
        // (a shell file, an executable) runs too.
        let strings_of = |files: &BTreeSet<String>| -> Vec<&str> {
            files
                .iter()
                .filter_map(|path| facts.get(path.as_str()))
                .flat_map(|file_facts| file_facts.strings.iter().map(|(text, _)| text.as_str()))
                .collect()
        };
        let mut install_strings = strings_of(&install);
        install_strings.extend(manifest.install_scripts.values().map(String::as_str));
        install_strings.extend(
            inline.iter().flat_map(|(_, file_facts)| {
                file_facts.strings.iter().map(|(text, _)| text.as_str())
            }),
        );
        let import_strings = strings_of(&import);
        for entry in archive
            .entries
            .iter()
            .filter(|entry| entry.kind == FileKind::Shell)
        {
            let stage = stage_by_name(&entry.path, &install_strings, &import_strings);
            let parsed = shell::parse(entry.text().unwrap_or(""));
            capabilities.extend(shell_capabilities(&parsed, stage, &entry.path, &entry.path));
        }
        // Python the package runs, named the same way.
        for entry in archive
            .entries
            .iter()
            .filter(|entry| entry.kind == FileKind::Python)
        {
            let stage = stage_by_name(&entry.path, &install_strings, &import_strings);
            capabilities.extend(
                python::abilities(entry.text().unwrap_or(""))
                    .into_iter()
                    .map(|(ability, snippet)| Capability {
                        ability,
                        stage,
                        file: entry.path.clone(),
                        line: None,
                        snippet: snippet.clone(),
                        trail: vec![format!("{}: {snippet}", entry.path)],
                        bundle: false,
                    }),
            );
        }
        capabilities.extend(capability::from_disguised_scripts(
            archive,
            &install_strings,
            &import_strings,
        ));
        capabilities.extend(capability::from_executables(
            archive,
            &manifest,
            &graph,
            &install_strings,
            &import_strings,
        ));
        let (doubtful_origin, origin_findings) =
            crate::context::doubtful_origin(&manifest, options.context);
        let table_context = Context {
            native_build: native_build(&manifest, &paths),
            doubtful_origin,
            previous: options.previous.map(|(version, analysis)| table::Before {
                version,
                capabilities: &analysis.capabilities,
                held: &analysis.held_capabilities,
                settled: options
                    .context
                    .is_none_or(crate::context::RegistryContext::previous_settled),
            }),
        };
        findings.extend(table::judge(&capabilities, &table_context));
        findings.extend(origin_findings);

        findings.extend(minified_twins(&code_files, &facts, reach_of));
        if let Some(registry) = options.registry_manifest {
            findings.extend(mismatch(&Manifest::from_value(registry), &manifest, &paths));
        }
        findings.extend(spare_manifests(archive, &manifest));
        findings.extend(crate::editor::autorun_tasks(archive));
        findings.extend(crate::dependency::outside_registry(
            &manifest.dependencies,
            &manifest.optional,
        ));

        let files: Vec<FileSummary> = archive
            .entries
            .iter()
            .map(|entry| FileSummary {
                path: entry.path.clone(),
                size: entry.size,
                kind: entry.kind,
            })
            .collect();
        let mut analysis = Self {
            analyzer: ANALYZER_VERSION,
            manifest,
            files,
            unpacked_bytes: archive.unpacked_bytes,
            required_packages,
            hosts,
            capabilities: findings.iter().filter_map(table::signature).collect(),
            held_capabilities: BTreeMap::new(),
            findings,
            diff: None,
        };
        if let Some((previous_version, previous)) = options.previous {
            let current_version = analysis.manifest.version.clone().unwrap_or_default();
            let diff =
                VersionDiff::of_analyses(previous, &analysis, previous_version, &current_version);
            analysis.findings.extend(diff.findings());
            analysis.diff = Some(diff);
        }
        escalate(&mut analysis.findings);
        for finding in &analysis.findings {
            if finding.severity >= Severity::High
                && let Some(key) = table::signature(finding)
            {
                let held = analysis
                    .held_capabilities
                    .entry(key)
                    .or_insert(finding.severity);
                *held = (*held).max(finding.severity);
            }
        }
        analysis.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.confidence.cmp(&a.confidence))
        });
        analysis
    }

    /// The analysis of a tarball that could not be analysed (time limit, crash):
    /// one `analysis-incomplete` finding, which is never a pass.
    pub fn unfinished(reason: String) -> Self {
        Self {
            analyzer: ANALYZER_VERSION,
            manifest: Manifest::default(),
            files: Vec::new(),
            unpacked_bytes: 0,
            required_packages: BTreeSet::new(),
            hosts: BTreeSet::new(),
            capabilities: BTreeSet::new(),
            held_capabilities: BTreeMap::new(),
            findings: vec![
                Finding::new(
                    Code::AnalysisIncomplete,
                    Severity::High,
                    Confidence::High,
                    reason,
                )
                .reach(Reach::Install),
            ],
            diff: None,
        }
    }

    /// The most severe finding's severity, or `Info` when there is none.
    pub fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|finding| finding.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

/// Scans every code file, spread over the cores by size; a file whose scan panics
/// is reported, never skipped silently.
fn scan_all<'e>(
    files: &[&'e crate::archive::Entry],
    deadline: Option<std::time::Instant>,
) -> HashMap<&'e str, FileFacts> {
    let scan_one =
        |entry: &crate::archive::Entry| scan_guarded(&entry.path, entry.text().unwrap_or(""));
    let total: u64 = files.iter().map(|entry| entry.size).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len());
    if threads <= 1 || total < 512 * 1024 {
        return files
            .iter()
            .take_while(|_| !past(deadline))
            .map(|entry| (entry.path.as_str(), scan_one(entry)))
            .collect();
    }
    // Largest first, each thread taking the next file when it is done with its last:
    // one huge bundle does not leave a core idle, nor a misjudged share of them.
    let mut ordered = files.to_vec();
    ordered.sort_by_key(|entry| std::cmp::Reverse(entry.size));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut scanned = Vec::new();
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(entry) = ordered.get(index) else {
                return scanned;
            };
            if past(deadline) {
                return scanned;
            }
            scanned.push((entry.path.as_str(), scan_one(entry)));
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut scanned: HashMap<&'e str, FileFacts> = work().into_iter().collect();
        for helper in helpers {
            scanned.extend(helper.join().unwrap_or_default());
        }
        scanned
    })
}

/// Whether `deadline` has passed.
fn past(deadline: Option<std::time::Instant>) -> bool {
    deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline)
}

/// Scans one file; a panic in the parser becomes a finding, not a crash.
fn scan_guarded(path: &str, text: &str) -> FileFacts {
    let mut facts =
        std::panic::catch_unwind(|| scan::scan(path, text)).unwrap_or_else(|_| FileFacts {
            parse_error: Some("the parser failed on this file".to_owned()),
            crashed: true,
            ..FileFacts::default()
        });
    facts.bundle = is_bundle(path, text);
    facts.flow_joins = facts.bundle && flow_joins(text);
    facts
}

/// JavaScript and TypeScript sources (type declarations and maps aside).
fn is_script(path: &str, kind: FileKind) -> bool {
    kind == FileKind::Script && !is_declaration(&path.to_ascii_lowercase())
}

/// TypeScript declarations (`.d.ts`, `.d.cts`, `.d.mts`): types, never run.
fn is_declaration(lower: &str) -> bool {
    [".d.ts", ".d.cts", ".d.mts"]
        .iter()
        .any(|suffix| lower.ends_with(suffix))
}

/// Files parsed as code: JavaScript and TypeScript sources, and whatever `bin`,
/// `main` or a script names (often without an extension).
fn is_code(entry: &crate::archive::Entry, manifest: &Manifest) -> bool {
    let lower = entry.path.to_ascii_lowercase();
    if is_declaration(&lower) || lower.ends_with(".map") {
        return false;
    }
    if entry.kind == FileKind::Script {
        return true;
    }
    let named = |path: &String| manifest::normalise(path) == entry.path;
    entry.kind == FileKind::Text
        && !lower.ends_with(".md")
        && (manifest.bin.values().any(named) || manifest.entry_points.iter().any(named))
}

/// Minified or generated code, judged as a bundle.
fn is_bundle(path: &str, text: &str) -> bool {
    if path.contains(".min.")
        || text.len() > 512 * 1024
        || memchr::memmem::find(text.as_bytes(), b"__webpack_require__").is_some()
    {
        return true;
    }
    // As `text.lines().count()`, without decoding characters.
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let lines = newlines + usize::from(!text.is_empty() && !text.ends_with('\n'));
    text.len() / lines.max(1) > 250
}

/// Below this size a minified file's flow is followed as written.
const SMALL_MINIFIED: usize = 32 * 1024;

/// Whether a bundle's flow joins more than its code does (so what runs only when a
/// function is called weighs at most a warning): not in a small minified file, whose
/// few functions are followed as precisely as written out (a minified dropper stays
/// a dropper); the file rules still read it as a bundle.
fn flow_joins(text: &str) -> bool {
    text.len() >= SMALL_MINIFIED
        || memchr::memmem::find(text.as_bytes(), b"__webpack_require__").is_some()
}

/// What `binding.gyp` runs, when node-gyp reads it at install: npm runs `node-gyp
/// rebuild` for a package without an `install` script (unless `gypfile: false`),
/// and an `install` script may run node-gyp itself.
fn gyp_at_install(archive: &Archive, manifest: &Manifest, paths: &BTreeSet<&str>) -> gyp::Gyp {
    let built = !manifest.gypfile_disabled && !manifest.install_scripts.contains_key("install")
        || manifest
            .install_scripts
            .values()
            .any(|command| command.contains("node-gyp"));
    if !built || !paths.contains("binding.gyp") {
        return gyp::Gyp::default();
    }
    archive
        .get("binding.gyp")
        .and_then(Entry::text)
        .map(gyp::read)
        .unwrap_or_default()
}

/// A `binding.gyp` with nothing to compile (no C, C++, Objective-C or assembly
/// source anywhere in the package) whose command expansions run a file of the
/// package: node-gyp reads it at install, so it is an install script kept out of
/// package.json. Build descriptions run commands to find headers for the sources
/// they compile.
fn gyp_builds_nothing(
    gyp: &gyp::Gyp,
    manifest: &Manifest,
    paths: &BTreeSet<&str>,
) -> Option<Finding> {
    let (runs, _) = script_roots(gyp.commands.iter(), manifest, paths);
    if runs.is_empty() || paths.iter().any(|path| native_source(path)) {
        return None;
    }
    let command = gyp.commands.first().map_or("", String::as_str);
    Some(
        Finding::new(
            Code::InstallScript,
            Severity::High,
            Confidence::Medium,
            format!(
                "binding.gyp compiles nothing (the package has no C or C++ source) and its command expansion runs `{}` at install: an install script kept out of package.json",
                runs.join("`, `")
            ),
        )
        .at("binding.gyp", None, command)
        .reach(Reach::Install),
    )
}

/// A file a compiler node-gyp drives would build.
fn native_source(path: &str) -> bool {
    let extension = path.rsplit_once('.').map_or("", |(_, extension)| extension);
    matches!(
        extension.to_ascii_lowercase().as_str(),
        "c" | "cc" | "cpp" | "cxx" | "c++" | "m" | "mm" | "s" | "asm"
    )
}

/// The files lifecycle scripts run: `node setup.js`, `sh ./install.sh`, `./x`, and
/// `node .` (the package's main file).
/// The files `commands` run, and whether one names a script the tarball lacks.
fn script_roots<'m>(
    commands: impl Iterator<Item = &'m String>,
    manifest: &Manifest,
    paths: &BTreeSet<&str>,
) -> (Vec<String>, bool) {
    // A word of a command that names a file: the path as given, or, when the
    // tarball lacks it there, a file of that name elsewhere in the package.
    let file_named = |word: &str| -> Option<String> {
        let word = word.trim_matches(['"', '\'']).trim_start_matches("./");
        if word.is_empty() || word.starts_with('-') || word.starts_with('$') {
            return None;
        }
        resolve(paths, "", &format!("./{word}")).or_else(|| {
            let name = word.rsplit('/').next()?;
            let script = std::path::Path::new(name)
                .extension()
                .is_some_and(|extension| {
                    matches!(
                        extension.to_str(),
                        Some("js" | "cjs" | "mjs" | "sh" | "bat" | "cmd" | "ps1")
                    )
                });
            script
                .then(|| {
                    paths
                        .iter()
                        .find(|path| path.rsplit('/').next() == Some(name))
                })
                .flatten()
                .map(|path| (*path).to_owned())
        })
    };
    let script_word = |word: &str| {
        let word = word.trim_matches(['"', '\'']);
        !word.starts_with('-')
            && !word.contains('$')
            && [".js", ".cjs", ".mjs"]
                .iter()
                .any(|extension| word.ends_with(extension))
    };
    let mut roots = Vec::new();
    let mut missing = false;
    for command in commands {
        let parsed = shell::parse(command);
        // Every word that names a file of the package: `node setup.js`,
        // `"preinstall": "index.js"`, `$NODE lint.js`, `sh ./install.sh`.
        for simple in &parsed.commands {
            for word in simple.text.split(' ') {
                if matches!(word, "." | "./") && simple.program.starts_with("node") {
                    roots.extend(
                        manifest
                            .import_files()
                            .iter()
                            .filter_map(|main| resolve(paths, "", &format!("./{main}"))),
                    );
                } else if let Some(found) = file_named(word) {
                    roots.push(found);
                } else if simple.program.starts_with("node") && script_word(word) {
                    missing = true;
                }
            }
        }
    }
    (roots, missing)
}

/// When a script file (shell, Python) runs, as far as its name tells: named by what
/// runs at install, at install; named by import-time code, when that code's function
/// is called; otherwise by nothing the package runs.
fn stage_by_name(path: &str, install_strings: &[&str], import_strings: &[&str]) -> Stage {
    let name = path.rsplit('/').next().unwrap_or(path);
    if install_strings.iter().any(|text| text.contains(name)) {
        Stage::Install
    } else if import_strings.iter().any(|text| text.contains(name)) {
        Stage::Call
    } else {
        Stage::Elsewhere
    }
}

/// A tool's configuration file at the package root (`next.config.js`,
/// `vite.config.ts`, `webpack.config.cjs`): code the tool runs.
fn is_tool_config(path: &str) -> bool {
    !path.contains('/')
        && path.rsplit_once('.').is_some_and(|(stem, extension)| {
            matches!(extension, "js" | "cjs" | "mjs" | "ts" | "cts" | "mts")
                && (stem.ends_with(".config") || stem.ends_with("rc"))
        })
}

/// Capabilities of a parsed script, with where it is.
fn shell_capabilities(
    script: &shell::Script,
    stage: Stage,
    file: &str,
    trail: &str,
) -> Vec<Capability> {
    shell::behaviours(script)
        .into_iter()
        .map(|(behaviour, text)| Capability {
            ability: capability::Ability::Shell(behaviour),
            stage,
            file: file.to_owned(),
            line: None,
            snippet: text,
            trail: vec![airlock_policy::one_line(trail, 160)],
            bundle: false,
        })
        .collect()
}

/// Dependencies that build or fetch native code at install.
const NATIVE_DEPENDENCIES: &[&str] = &[
    "node-gyp",
    "node-gyp-build",
    "prebuild-install",
    "@mapbox/node-pre-gyp",
    "node-pre-gyp",
    "bindings",
    "nan",
    "node-addon-api",
    "cmake-js",
    "@electron/get",
    "extract-zip",
    "@puppeteer/browsers",
    "tar",
    "decompress",
    "adm-zip",
    "yauzl",
    "unzipper",
    "node-downloader-helper",
    "napi-build-utils",
    "detect-libc",
    "@napi-rs/cli",
];

/// Whether the package builds or downloads native code at install.
fn native_build(manifest: &Manifest, paths: &BTreeSet<&str>) -> bool {
    paths.contains("binding.gyp")
        || paths
            .iter()
            .any(|path| path.ends_with(".node") || path.starts_with("prebuilds/"))
        || !manifest.os.is_empty()
        || !manifest.cpu.is_empty()
        || manifest.install_scripts.values().any(|command| {
            ["node-gyp", "prebuild", "node-pre-gyp", "cmake-js", "napi"]
                .iter()
                .any(|tool| command.contains(tool))
        })
        || manifest.dependencies.keys().any(|dependency| {
            NATIVE_DEPENDENCIES.contains(&dependency.as_str()) || platform_package(dependency)
        })
}

/// A package of prebuilt binaries for one platform (`@esbuild/linux-x64`,
/// `@sentry/cli-darwin`, `turbo-windows-64`).
fn platform_package(name: &str) -> bool {
    let name = name.rsplit('/').next().unwrap_or(name);
    [
        "linux", "darwin", "win32", "windows", "freebsd", "android", "musl",
    ]
    .iter()
    .any(|platform| name.split(['-', '_', '.']).any(|part| part == *platform))
}

/// Resolves a relative module specifier from the file at `from` the way Node does
/// for files: exact, with an extension, or a directory's index (`.` and `..` are
/// directories too).
fn resolve(paths: &BTreeSet<&str>, from: &str, specifier: &str) -> Option<String> {
    let specifier = match specifier {
        "." => "./",
        ".." => "../",
        other => other,
    };
    if !(specifier.starts_with("./") || specifier.starts_with("../")) {
        return None;
    }
    let directory = from.rsplit_once('/').map_or("", |(directory, _)| directory);
    let joined = manifest::normalise(&format!("{directory}/{specifier}"));
    let inside = if joined.is_empty() {
        String::new()
    } else {
        format!("{joined}/")
    };
    let candidates = [
        joined.clone(),
        format!("{joined}.js"),
        format!("{joined}.cjs"),
        format!("{joined}.mjs"),
        format!("{joined}.json"),
        format!("{inside}index.js"),
        format!("{inside}index.cjs"),
    ];
    candidates
        .into_iter()
        .filter(|candidate| !candidate.is_empty())
        .find(|candidate| paths.contains(candidate.as_str()))
}

/// Files reachable from `roots` through relative requires.
fn reachable(
    roots: &[String],
    facts: &HashMap<&str, FileFacts>,
    paths: &BTreeSet<&str>,
) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        if let Some(file_facts) = facts.get(path.as_str()) {
            for (module, _) in &file_facts.requires {
                if let Some(next) = resolve(paths, &path, module) {
                    queue.push_back(next);
                }
            }
            // A file that starts processes runs the package's scripts it names
            // (`spawn('node', [join(__dirname, 'main.js')], { detached: true })`,
            // `nohup node update.js &`): they run when it does.
            if !file_facts.spawns.is_empty() {
                queue.extend(spawned_files(file_facts, &path, paths));
            }
        }
    }
    seen
}

/// The package's script files named by a file's strings: words ending in `.js`,
/// `.cjs` or `.mjs`, resolved from the file's directory, the package root, or by a
/// file name no other file of the package shares.
fn spawned_files(file_facts: &FileFacts, from: &str, paths: &BTreeSet<&str>) -> Vec<String> {
    let mut found = Vec::new();
    for (text, _) in file_facts
        .strings
        .iter()
        .filter(|(text, _)| text.len() <= 1024)
    {
        for word in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`')) {
            let word = word.trim_start_matches("./");
            if word.is_empty()
                || ![".js", ".cjs", ".mjs"]
                    .iter()
                    .any(|extension| word.ends_with(extension))
            {
                continue;
            }
            let relative = format!("./{word}");
            let named = resolve(paths, from, &relative)
                .or_else(|| resolve(paths, "", &relative))
                .or_else(|| {
                    let name = word.rsplit('/').next()?;
                    let mut matches = paths
                        .iter()
                        .filter(|path| path.rsplit('/').next() == Some(name));
                    let only = matches.next()?;
                    matches.next().is_none().then(|| (*only).to_owned())
                });
            if let Some(path) = named
                && path != from
            {
                found.push(path);
            }
        }
    }
    found
}

/// `lodash/fp` → `lodash`, `@scope/x/y` → `@scope/x`; `None` for relative paths
/// and Node built-ins.
fn package_of(specifier: &str) -> Option<String> {
    if specifier.starts_with('.') || specifier.starts_with('/') || specifier.starts_with("node:") {
        return None;
    }
    let mut parts = specifier.split('/');
    let first = parts.next()?;
    if first.starts_with('@') {
        Some(format!("{first}/{}", parts.next()?))
    } else {
        Some(first.to_owned())
    }
}

/// A minified file whose readable twin in the same package does less: the payload
/// hides in the file nobody reads (flatmap-stream).
fn minified_twins(
    files: &[&crate::archive::Entry],
    facts: &HashMap<&str, FileFacts>,
    reach_of: impl Fn(&str) -> Reach,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for entry in files {
        let Some(readable) = entry
            .path
            .strip_suffix(".min.js")
            .map(|stem| format!("{stem}.js"))
        else {
            continue;
        };
        let (Some(minified), Some(twin)) =
            (facts.get(entry.path.as_str()), facts.get(readable.as_str()))
        else {
            continue;
        };
        let modules = |facts: &FileFacts| -> BTreeSet<String> {
            facts
                .requires
                .iter()
                .map(|(module, _)| module.clone())
                .collect()
        };
        let extra: Vec<String> = modules(minified)
            .difference(&modules(twin))
            .cloned()
            .collect();
        // Bundlers inline dependencies (more static requires) and rewrite module
        // loading; what minification never adds is code built and run at runtime, or
        // decryption.
        let hidden = |facts: &FileFacts| {
            facts.dynamic.len()
                + facts
                    .decoders
                    .iter()
                    .filter(|(_, kind)| matches!(*kind, "decryption" | "hex"))
                    .count()
        };
        let more_dynamic = hidden(minified) > hidden(twin);
        if !more_dynamic {
            continue;
        }
        let mut what = Vec::new();
        if !extra.is_empty() {
            what.push(format!(
                "requires {} that `{readable}` does not",
                extra.join(", ")
            ));
        }
        if more_dynamic {
            what.push("decodes or runs code that the readable file does not".to_owned());
        }
        let reach = reach_of(&entry.path);
        findings.push(
            Finding::new(
                Code::ObfuscatedCode,
                if reach == Reach::Elsewhere {
                    Severity::Medium
                } else {
                    Severity::High
                },
                Confidence::High,
                format!(
                    "the minified file is not its readable twin minified: it {}",
                    what.join(" and ")
                ),
            )
            .at(&entry.path, None, "")
            .reach(reach),
        );
    }
    findings
}

/// The registry's metadata against the tarball's `package.json`: what npm decides
/// from (dependencies, install scripts) must be what the tarball holds.
fn mismatch(registry: &Manifest, tarball: &Manifest, paths: &BTreeSet<&str>) -> Vec<Finding> {
    let mut differences = Vec::new();
    if registry.dependencies != tarball.dependencies {
        let names = |manifest: &Manifest| {
            manifest
                .dependencies
                .iter()
                .map(|(name, range)| format!("{name}@{range}"))
                .collect::<BTreeSet<_>>()
        };
        let (registry_deps, tarball_deps) = (names(registry), names(tarball));
        let only_tarball: Vec<&String> = tarball_deps.difference(&registry_deps).collect();
        let only_registry: Vec<&String> = registry_deps.difference(&tarball_deps).collect();
        differences.push(format!(
            "dependencies differ (only in the tarball: {only_tarball:?}; only in the registry: {only_registry:?})"
        ));
    }
    let mut registry_scripts = registry.install_scripts.clone();
    // The registry adds `install: node-gyp rebuild` for packages with binding.gyp.
    if paths.contains("binding.gyp")
        && registry_scripts.get("install").map(String::as_str) == Some("node-gyp rebuild")
        && !tarball.install_scripts.contains_key("install")
    {
        registry_scripts.remove("install");
    }
    let mut tarball_scripts = tarball.install_scripts.clone();
    // `prepare` does not run for registry installs and is often stripped.
    registry_scripts.remove("prepare");
    tarball_scripts.remove("prepare");
    if registry_scripts != tarball_scripts {
        differences.push(format!(
            "install scripts differ (registry: {registry_scripts:?}; tarball: {tarball_scripts:?})"
        ));
    }
    differences
        .into_iter()
        .map(|difference| {
            Finding::new(
                Code::ManifestMismatch,
                Severity::High,
                Confidence::High,
                format!(
                    "the registry's metadata and the tarball's package.json disagree: {difference}"
                ),
            )
            .at("package.json", None, "")
            .reach(Reach::Install)
        })
        .collect()
}

/// Another file that is a complete manifest of this package: kept to be swapped in
/// over `package.json` after the payload ran (Axios's `package.md`).
fn spare_manifests(archive: &Archive, manifest: &Manifest) -> Vec<Finding> {
    let Some(name) = &manifest.name else {
        return Vec::new();
    };
    archive
        .entries
        .iter()
        // Other ecosystems' manifests ship beside package.json (and lag behind it).
        .filter(|entry| entry.path != "package.json" && !entry.path.contains('/'))
        .filter(|entry| !matches!(entry.path.as_str(), "bower.json" | "component.json" | "jsr.json" | "deno.json" | "deno.jsonc" | "composer.json" | "typings.json"))
        .filter(|entry| matches!(entry.kind, FileKind::Text | FileKind::Json))
        .filter_map(|entry| {
            let value: Value = serde_json::from_str(entry.text()?).ok()?;
            let spare = Manifest::from_value(&value);
            (spare.name.as_ref() == Some(name) && spare.version.is_some() && spare.version != manifest.version).then(|| {
                Finding::new(
                    Code::ManifestSwap,
                    Severity::Medium,
                    Confidence::Medium,
                    format!(
                        "`{}` is a second package.json claiming version {}: a clean manifest to swap in after install",
                        entry.path,
                        spare.version.unwrap_or_default()
                    ),
                )
                .at(&entry.path, None, "")
                .reach(Reach::Install)
            })
        })
        .collect()
}

/// Strong signals of different kinds at install or import time make each other
/// stronger: a dropper trips several at once, a legitimate package rarely two.
fn escalate(findings: &mut [Finding]) {
    // What runs only when called, or what the previous version did too, does not
    // make other signals stronger.
    let live = |finding: &Finding| {
        finding.reach != Reach::Elsewhere && !finding.established && !finding.deferred
    };
    let strong: BTreeSet<Code> = findings
        .iter()
        .filter(|finding| {
            live(finding)
                && finding.severity >= Severity::High
                && finding.confidence >= Confidence::Medium
        })
        .map(|finding| finding.code)
        .collect();
    let medium: BTreeSet<Code> = findings
        .iter()
        .filter(|finding| live(finding) && finding.severity >= Severity::Medium)
        .map(|finding| finding.code)
        .collect();
    if strong.len() >= 2 || (!strong.is_empty() && medium.len() >= 3) {
        for finding in findings
            .iter_mut()
            .filter(|finding| live(finding) && finding.severity >= Severity::High)
        {
            if finding.severity == Severity::High {
                finding.severity = Severity::Critical;
                finding
                    .message
                    .push_str(" (together with other strong signals)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_from_specifiers() {
        assert_eq!(package_of("lodash/fp").as_deref(), Some("lodash"));
        assert_eq!(package_of("@scope/x/y").as_deref(), Some("@scope/x"));
        assert_eq!(package_of("./x"), None);
    }

    #[test]
    fn bundles_are_told_by_name_size_loader_or_line_length() {
        let long_line = "x".repeat(300);
        assert!(is_bundle("dist/app.min.js", "short"));
        assert!(is_bundle("index.js", "function __webpack_require__(id) {}"));
        assert!(is_bundle("index.js", &long_line));
        assert!(is_bundle("index.js", &format!("{long_line}\n")));
        assert!(!is_bundle(
            "index.js",
            &format!("{long_line}\n{long_line}\n\n")
        ));
        assert!(!is_bundle("index.js", ""));
        assert!(!is_bundle("index.js", "module.exports = 1;\n"));
    }

    #[test]
    fn only_large_bundles_join_flows() {
        assert!(!flow_joins(&"x".repeat(300)));
        assert!(flow_joins(&"x".repeat(SMALL_MINIFIED)));
        assert!(flow_joins("function __webpack_require__(id) {}"));
    }
}
