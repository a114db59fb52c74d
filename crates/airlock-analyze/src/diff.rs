//! What changed between two versions of one release line.
//!
//! Attacks show in the diff before they show anywhere else: a dependency added in a
//! patch release and required by no file (Axios), an install script that appeared
//! (ua-parser-js, Shai-Hulud), a large blob appended to a small stable file (chalk),
//! most files deleted (faker).

use std::collections::{BTreeMap, BTreeSet};

use airlock_policy::Code;
use js_semver::Version;
use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::finding::{Confidence, Finding, Reach, Severity};
use crate::manifest::Manifest;

/// The kind of version bump, as semver reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bump {
    Major,
    Minor,
    Patch,
    Prerelease,
    /// Not newer, or not semver.
    Other,
}

impl Bump {
    pub fn between(previous: &str, current: &str) -> Self {
        let (Ok(before), Ok(after)) = (Version::parse(previous), Version::parse(current)) else {
            return Self::Other;
        };
        if after <= before {
            return Self::Other;
        }
        if !after.pre_release.is_empty() {
            Self::Prerelease
        } else if after.major != before.major {
            Self::Major
        } else if after.minor != before.minor {
            Self::Minor
        } else {
            Self::Patch
        }
    }
}

/// An added runtime dependency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedDependency {
    pub name: String,
    pub range: String,
    /// No file of the new version requires it (`None` when the files are unknown).
    pub phantom: Option<bool>,
    /// Listed in `optionalDependencies`: an install goes on without it.
    #[serde(default)]
    pub optional: bool,
}

/// A file that appeared, with its size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedFile {
    pub path: String,
    pub size: u64,
    pub binary: bool,
}

/// The differences that matter for trust.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDiff {
    pub previous: String,
    pub current: String,
    pub dependencies_added: Vec<AddedDependency>,
    pub dependencies_removed: Vec<String>,
    pub install_scripts_added: BTreeMap<String, String>,
    pub install_scripts_changed: BTreeMap<String, (String, String)>,
    pub entry_points_changed: Option<(Vec<String>, Vec<String>)>,
    pub files_added: Vec<AddedFile>,
    pub files_removed: Vec<String>,
    /// Files that grew by more than 10 KB and doubled.
    pub files_grown: Vec<(String, u64, u64)>,
    pub files_before: usize,
    /// Bytes of JavaScript before and after.
    #[serde(default)]
    pub code_bytes_before: u64,
    #[serde(default)]
    pub code_bytes_after: u64,
}

impl VersionDiff {
    /// Compares manifests alone (registry metadata is enough for this part).
    pub fn of_manifests(
        previous: &Manifest,
        current: &Manifest,
        previous_version: &str,
        current_version: &str,
    ) -> Self {
        let mut diff = Self {
            previous: previous_version.to_owned(),
            current: current_version.to_owned(),
            ..Self::default()
        };
        for (name, range) in &current.dependencies {
            if !previous.dependencies.contains_key(name) {
                diff.dependencies_added.push(AddedDependency {
                    name: name.clone(),
                    range: range.clone(),
                    phantom: None,
                    optional: current.optional.contains(name),
                });
            }
        }
        diff.dependencies_removed = previous
            .dependencies
            .keys()
            .filter(|name| !current.dependencies.contains_key(*name))
            .cloned()
            .collect();
        for (script, command) in &current.install_scripts {
            match previous.install_scripts.get(script) {
                // A script newly run by a hook the package already had (`install:
                // "node check.js || npm run build"`, where `install` existed): the
                // package already ran code at install, and changed how; the
                // content rules read the command either way.
                None if run_by_existing_hook(script, &previous.install_scripts) => {
                    diff.install_scripts_changed
                        .insert(script.clone(), (String::new(), command.clone()));
                }
                None => {
                    diff.install_scripts_added
                        .insert(script.clone(), command.clone());
                }
                Some(before) if before != command => {
                    diff.install_scripts_changed
                        .insert(script.clone(), (before.clone(), command.clone()));
                }
                Some(_) => {}
            }
        }
        if previous.import_files() != current.import_files() {
            diff.entry_points_changed = Some((previous.import_files(), current.import_files()));
        }
        diff
    }

    /// Compares two analysed tarballs.
    pub fn of_analyses(
        previous: &Analysis,
        current: &Analysis,
        previous_version: &str,
        current_version: &str,
    ) -> Self {
        let mut diff = Self::of_manifests(
            &previous.manifest,
            &current.manifest,
            previous_version,
            current_version,
        );
        for added in &mut diff.dependencies_added {
            added.phantom = Some(!current.required_packages.contains(&added.name));
        }
        let before: BTreeMap<&str, u64> = previous
            .files
            .iter()
            .map(|file| (file.path.as_str(), file.size))
            .collect();
        let after: BTreeSet<&str> = current
            .files
            .iter()
            .map(|file| file.path.as_str())
            .collect();
        diff.files_before = before.len();
        let code_bytes = |analysis: &Analysis| -> u64 {
            analysis
                .files
                .iter()
                .filter(|file| file.kind == crate::archive::FileKind::Script)
                .map(|file| file.size)
                .sum()
        };
        diff.code_bytes_before = code_bytes(previous);
        diff.code_bytes_after = code_bytes(current);
        for file in &current.files {
            match before.get(file.path.as_str()) {
                None => diff.files_added.push(AddedFile {
                    path: file.path.clone(),
                    size: file.size,
                    binary: file.kind.is_binary(),
                }),
                Some(old) if file.size > old + 10 * 1024 && file.size > old * 2 => {
                    diff.files_grown.push((file.path.clone(), *old, file.size));
                }
                Some(_) => {}
            }
        }
        diff.files_removed = before
            .keys()
            .filter(|path| !after.contains(*path))
            .map(|path| (*path).to_owned())
            .collect();
        diff
    }

    /// The findings the diff itself gives.
    pub fn findings(&self) -> Vec<Finding> {
        let bump = Bump::between(&self.previous, &self.current);
        let mut findings = Vec::new();
        let against = format!("since {}", self.previous);
        // A new dependency is ordinary; what makes it dangerous is the dependency
        // itself (young, unknown, with install scripts, flagged), which
        // `dependency_risk` judges from its own decision. The diff only records it.
        for added in &self.dependencies_added {
            let how = match added.phantom {
                Some(true) => ", required by no file of the package",
                _ => "",
            };
            findings.push(
                Finding::new(
                    Code::DependencyAdded,
                    Severity::Info,
                    Confidence::Medium,
                    format!(
                        "new dependency `{}@{}` {against}{how}",
                        added.name, added.range
                    ),
                )
                .at(
                    "package.json",
                    None,
                    &format!("\"{}\": \"{}\"", added.name, added.range),
                )
                .reach(Reach::Install),
            );
        }
        for (script, command) in &self.install_scripts_added {
            // Native builds start running `node-gyp` and the like in ordinary
            // releases; anything else appearing in a patch or minor release is the
            // ua-parser-js and Shai-Hulud shape.
            let severity = if ordinary_install_command(command) {
                Severity::Low
            } else if bump == Bump::Major {
                Severity::Medium
            } else {
                Severity::High
            };
            findings.push(
                Finding::new(
                    Code::InstallScriptAdded,
                    severity,
                    Confidence::High,
                    format!("`{script}` script added {against}"),
                )
                .at("package.json", None, command)
                .reach(Reach::Install),
            );
        }
        for (script, (_, command)) in &self.install_scripts_changed {
            findings.push(
                Finding::new(
                    Code::InstallScriptAdded,
                    Severity::Medium,
                    Confidence::Medium,
                    format!("`{script}` script changed {against}"),
                )
                .at("package.json", None, command)
                .reach(Reach::Install),
            );
        }
        // Emptied, not moved: most files gone *and* almost no code left (faker
        // 6.6.6). A switch to a bundled or compiled layout removes files too, and
        // keeps its code.
        if self.files_before >= 5
            && self.files_removed.len() * 10 >= self.files_before * 8
            && self.code_bytes_before >= 256
            && self.code_bytes_after * 20 < self.code_bytes_before
            && self.code_bytes_after < 2 * 1024
        {
            findings.push(
                Finding::new(
                    Code::Sabotage,
                    Severity::Critical,
                    Confidence::Medium,
                    format!(
                        "emptied {against}: {} of {} files removed, {} bytes of code left of {}",
                        self.files_removed.len(),
                        self.files_before,
                        self.code_bytes_after,
                        self.code_bytes_before
                    ),
                )
                .reach(Reach::Import),
            );
        }
        for added in self.files_added.iter().filter(|file| file.binary) {
            findings.push(
                Finding::new(
                    Code::ObfuscatedCode,
                    Severity::Low,
                    Confidence::Low,
                    format!("binary added {against} ({} bytes)", added.size),
                )
                .at(&added.path, None, "")
                .reach(Reach::Elsewhere),
            );
        }
        findings
    }
}

/// Install commands that build or fetch native code, or set up a project's own
/// tooling: ordinary when they appear in a release.
/// Whether `script` is one an install hook runs by name (`build (run by
/// install)`) and that hook was an install script before.
fn run_by_existing_hook(script: &str, before: &BTreeMap<String, String>) -> bool {
    script
        .split_once(" (run by ")
        .and_then(|(_, hook)| hook.strip_suffix(')'))
        .is_some_and(|hook| before.contains_key(hook))
}

fn ordinary_install_command(command: &str) -> bool {
    let command = command.trim();
    // A build of native code, or a fallback to one (`node prebuild.js || node-gyp
    // rebuild`).
    if ["node-gyp", "prebuild-install", "node-pre-gyp", "cmake-js"]
        .iter()
        .any(|tool| command.contains(tool))
    {
        return true;
    }
    [
        "node-gyp rebuild",
        "node-gyp-build",
        "prebuild-install",
        "node-pre-gyp install",
        "cmake-js",
        "napi-postinstall",
        "opencollective",
        "husky",
        "patch-package",
    ]
    .iter()
    .any(|ordinary| command.starts_with(ordinary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps() {
        assert_eq!(Bump::between("1.14.0", "1.14.1"), Bump::Patch);
        assert_eq!(Bump::between("1.13.9", "1.14.0"), Bump::Minor);
        assert_eq!(Bump::between("1.4.0", "2.0.0"), Bump::Major);
        assert_eq!(Bump::between("1.4.0", "1.4.44-liberty-2"), Bump::Prerelease);
        assert_eq!(Bump::between("2.0.0", "1.0.0"), Bump::Other);
    }
}
