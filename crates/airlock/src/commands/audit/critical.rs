//! `airlock audit --critical`: the packages of a lockfile that matter most (reach,
//! install scripts, provenance, publishers, age), what the platform now provides
//! in their place, and `--write-policy`'s approval gate for them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use airlock_lockfile::Graph;
use airlock_server::audit::Stewardship;
use anyhow::Context as _;
use serde::Serialize;

use super::Answers;

const REPLACEMENTS: &str = include_str!("../../../data/replacements.json");

/// The packages that matter most, and what the platform now provides.
#[derive(Debug, Serialize)]
pub(super) struct Critical {
    ranked: Vec<Ranked>,
    replaceable: Vec<Replaceable>,
}

#[derive(Debug, Serialize)]
struct Ranked {
    package: String,
    version: String,
    score: u64,
    /// Packages in the lockfile that depend on it, directly or not.
    dependents: usize,
    install_script: bool,
    provenance: bool,
    publishers: usize,
    maintainers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_published: Option<String>,
    /// Who publishes it and how: accounts and their history, trusted publishing
    /// and provenance on its line, `bin`.
    #[serde(flatten)]
    stewardship: Stewardship,
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Replaceable {
    package: String,
    replacement: String,
    node: String,
    note: String,
}

pub(super) fn critical(graphs: &[Graph], answers: &Answers) -> Critical {
    #[derive(serde::Deserialize)]
    struct Data {
        replacements: Vec<Replaceable>,
    }
    let data: Data = serde_json::from_str(REPLACEMENTS).expect("the replacement data set parses");
    let mut ranked: BTreeMap<(String, String), Ranked> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for graph in graphs {
        let dependents = graph.transitive_dependents();
        for (index, package) in graph.packages.iter().enumerate() {
            names.insert(package.name.clone());
            let key = (package.name.clone(), package.version.clone());
            let answer = answers.get(&key);
            let install_script = package.install_script.unwrap_or(false)
                || answer.is_some_and(|answer| answer.install_script);
            let provenance = answer.is_some_and(|answer| answer.provenance);
            let publishers = answer.map_or(0, |answer| answer.publishers);
            let entry = ranked.entry(key).or_insert_with(|| Ranked {
                package: package.name.clone(),
                version: package.version.clone(),
                score: 0,
                dependents: 0,
                install_script,
                provenance,
                publishers,
                maintainers: answer.map_or(0, |answer| answer.maintainers),
                newest_published: answer.and_then(|answer| answer.newest_published.clone()),
                stewardship: answer
                    .map(|answer| answer.stewardship.clone())
                    .unwrap_or_default(),
            });
            entry.dependents = entry.dependents.max(dependents[index]);
        }
    }
    let mut ranked: Vec<Ranked> = ranked
        .into_values()
        .map(|mut ranked| {
            // Reach counts most: a compromise there reaches every dependent. Install
            // scripts run on every machine, and a `bin` in CI jobs with their
            // secrets; no provenance and many publishers widen who can publish it.
            let reach = u64::try_from(ranked.dependents + 1).unwrap_or(u64::MAX);
            let mut weight = 1;
            if ranked.install_script {
                weight += 2;
            }
            if ranked.stewardship.bin {
                weight += 1;
            }
            if !ranked.provenance {
                weight += 1;
            }
            weight += u64::try_from(ranked.publishers.min(5)).unwrap_or(5) / 2;
            ranked.score = reach * weight;
            ranked
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.package.cmp(&b.package))
    });
    ranked.truncate(20);
    let replaceable = data
        .replacements
        .into_iter()
        .filter(|replacement| names.contains(&replacement.package))
        .collect();
    Critical {
        ranked,
        replaceable,
    }
}

/// Writes the ranked packages as `[gates] critical` into the policy file at
/// `path`: a new file, or the section appended to one that has no `[gates]`. The
/// result must be a valid policy before it replaces the file.
pub(super) fn write_critical_gate(
    path: &std::path::Path,
    critical: &Critical,
    lockfiles: &[PathBuf],
) -> anyhow::Result<()> {
    let names: BTreeSet<&str> = critical
        .ranked
        .iter()
        .map(|ranked| ranked.package.as_str())
        .collect();
    let list = names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sources = lockfiles
        .iter()
        .map(|file| file.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let block = format!(
        "\n# The critical-path list, written by `airlock audit --critical --write-policy` from\n# {sources}: a new major of these waits for a person.\n[gates]\ncritical = [{list}]\n"
    );
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(error).with_context(|| format!("could not read {}", path.display()));
        }
    };
    if current.lines().any(|line| line.trim() == "[gates]") {
        anyhow::bail!(
            "{} already has a [gates] section; add these to its `critical` list by hand: [{list}]",
            path.display()
        );
    }
    let written = format!("{current}{block}");
    airlock_policy::Policy::from_toml(&written).map_err(|error| {
        anyhow::anyhow!(
            "{} would not be a valid policy with the critical-path list appended ({error}); nothing was written",
            path.display()
        )
    })?;
    let staging = path.with_extension("toml.airlock-tmp");
    std::fs::write(&staging, &written)
        .with_context(|| format!("could not write {}", staging.display()))?;
    std::fs::rename(&staging, path)
        .with_context(|| format!("could not replace {}", path.display()))?;
    eprintln!(
        "wrote [gates] critical ({} packages) to {}",
        names.len(),
        path.display()
    );
    Ok(())
}

pub(super) fn describe_critical(critical: &Critical) -> String {
    let mut out =
        String::from("\nMOST CRITICAL (reach x install script, provenance, publishers)\n");
    let _ = writeln!(
        out,
        "  {:<5} {:<36} {:>10} {:>7} {:>10} {:>10}  newest",
        "score", "package", "dependents", "script", "provenance", "publishers"
    );
    for ranked in &critical.ranked {
        let _ = writeln!(
            out,
            "  {:<5} {:<36} {:>10} {:>7} {:>10} {:>10}  {}",
            ranked.score,
            format!("{}@{}", ranked.package, ranked.version),
            ranked.dependents,
            if ranked.install_script { "yes" } else { "-" },
            if ranked.provenance { "yes" } else { "no" },
            ranked.publishers,
            ranked.newest_published.as_deref().unwrap_or("?"),
        );
    }
    out.push_str("\nWHO PUBLISHES THEM\n");
    for ranked in &critical.ranked {
        let _ = writeln!(
            out,
            "  {}@{}: {}",
            ranked.package,
            ranked.version,
            stewardship_line(&ranked.stewardship)
        );
    }
    if !critical.replaceable.is_empty() {
        out.push_str("\nTHE PLATFORM NOW PROVIDES\n");
        for replaceable in &critical.replaceable {
            let note = if replaceable.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", replaceable.note)
            };
            let _ = writeln!(
                out,
                "  {:<24} -> {}, Node.js {}+{note}",
                replaceable.package, replaceable.replacement, replaceable.node
            );
        }
    }
    out
}

/// Who published a version and how, its line's habits, its accounts and `bin`,
/// in one line.
fn stewardship_line(stewardship: &Stewardship) -> String {
    let published_by = match (&stewardship.publisher, stewardship.trusted_publishing) {
        (Some(account), true) => format!("published by `{account}` through trusted publishing"),
        (Some(account), false) => format!("published by `{account}`"),
        (None, true) => "published through trusted publishing".to_owned(),
        (None, false) => "publisher not listed".to_owned(),
    };
    let accounts: Vec<String> = stewardship
        .accounts
        .iter()
        .take(4)
        .map(|account| {
            let since = account
                .first
                .as_deref()
                .map(|first| format!(" since {}", &first[..first.len().min(10)]))
                .unwrap_or_default();
            format!("{} ({} versions{since})", account.name, account.versions)
        })
        .collect();
    let more = stewardship.accounts.len().saturating_sub(4);
    let mut line = format!(
        "{published_by}; the {} line: {} of {} stable versions with provenance, {} through trusted publishing; accounts: {}{}",
        if stewardship.line.is_empty() {
            "?"
        } else {
            &stewardship.line
        },
        stewardship.line_with_provenance,
        stewardship.line_versions,
        stewardship.line_trusted,
        if accounts.is_empty() {
            "none listed".to_owned()
        } else {
            accounts.join(", ")
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
    );
    if stewardship.bin {
        line.push_str("; ships a command (`bin`), so CI jobs run it");
    }
    line
}
