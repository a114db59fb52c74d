//! Vetting a version before it is served: when its tarball is analysed (before a
//! client gets it, and in the background as soon as its packument is served, so
//! that it is judged before its quarantine ends), what the dependencies it adds
//! weigh (each judged by Airlock's own decision about it), and when its provenance
//! is checked. This sits above the gate: judging a dependency asks the gate about
//! it, while the gate only reads what [`crate::analyses`] and [`crate::trust`] hold.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use airlock_analyze::{AddedDependency, DependencyFacts, Finding, Manifest, VersionDiff};
use airlock_npm::{PackageName, Packument, Timestamp, VersionDoc};
use futures_util::StreamExt as _;

use crate::analyses::Findings;
use crate::packuments::{Entry, Freshness};
use crate::{ApiError, AppState};

/// How many dependencies of a package on disk are fetched and analysed at once.
const DEPENDENCIES_AT_ONCE: usize = 8;

/// Analyses `version` of `entry` unless that was done before, with the
/// dependencies it adds judged.
pub(crate) async fn ensure_analysed(
    state: &AppState,
    entry: &Arc<Entry>,
    version: &str,
) -> Result<Findings, ApiError> {
    state
        .inner
        .analyses
        .ensure(entry.packument(), version, async |diff| {
            dependency_risk(state, diff).await
        })
        .await
}

/// Checks the provenance of `version` of `entry` (and of the previous version on
/// its release line) when the registry lists provenance for them.
pub(crate) async fn ensure_provenance(
    state: &AppState,
    entry: &Arc<Entry>,
    version: &str,
) -> Result<(), ApiError> {
    state
        .inner
        .trust
        .ensure(&state.inner.tarballs, entry.packument(), version)
        .await
}

/// `dependency-risk` for what the diff added: each new dependency's packument,
/// the version its range resolves to, and Airlock's decision about that version
/// (analysed here if it never was).
async fn dependency_risk(state: &AppState, diff: &VersionDiff) -> Vec<Finding> {
    let prerelease = js_semver::Version::parse(&diff.current)
        .is_ok_and(|version| !version.pre_release.is_empty());
    let mut facts = Vec::new();
    // One fetched from elsewhere is judged by the analysis (`dependency-outside-registry`).
    for added in diff
        .dependencies_added
        .iter()
        .filter(|added| airlock_analyze::from_registry(&added.range))
    {
        if let Some(found) = Box::pin(dependency_facts(state, added, prerelease, true)).await {
            facts.push(found);
        }
    }
    airlock_analyze::dependency_risk(&facts, state.clock().now())
}

/// What the registry and Airlock know of one dependency: whether the registry
/// has it at all (or replaced it with a security placeholder), its age and
/// history, the version its range resolves to, and, when `analyse` is set,
/// Airlock's decision about that version (analysed here if it never was).
async fn dependency_facts(
    state: &AppState,
    added: &AddedDependency,
    prerelease: bool,
    analyse: bool,
) -> Option<DependencyFacts> {
    let name = PackageName::new(&added.name).ok()?;
    let base = DependencyFacts {
        name: added.name.clone(),
        range: added.range.clone(),
        phantom: added.phantom,
        optional: added.optional,
        prerelease,
        ..DependencyFacts::default()
    };
    let entry = match state.inner.packuments.get(&name, Freshness::Cached).await {
        Ok(entry) => entry,
        // The registry has no such package, or refuses to serve it: removed,
        // usually for what it did.
        Err(error) if error.status() == http::StatusCode::NOT_FOUND || error.upstream_refused() => {
            return Some(DependencyFacts {
                missing: true,
                ..base
            });
        }
        Err(_) => return Some(base),
    };
    let packument = entry.packument();
    // Every version unpublished: the registry keeps the name and nothing else.
    if packument.versions().next().is_none() {
        return Some(DependencyFacts {
            missing: true,
            ..base
        });
    }
    let taken_down = packument.versions().next().is_some()
        && packument
            .versions()
            .all(|(version, _)| version.ends_with("-security"));
    let resolved = resolve_range(packument, &added.range);
    let mut decided_codes = Vec::new();
    let mut install_scripts = false;
    let verdict = match &resolved {
        Some(version) => {
            if analyse
                && let Err(error) = Box::pin(state.inner.analyses.ensure(
                    packument,
                    version,
                    async |_| Vec::new(),
                ))
                .await
            {
                tracing::warn!(package = %name, %version, error = error.message(), "could not analyse a new dependency");
            }
            let decided = state.inner.gate.decide(&entry);
            packument.version_index(version).map(|index| {
                let decision = &decided.decisions[index];
                decided_codes = decision.reasons.iter().map(|reason| reason.code).collect();
                if let Some((_, doc)) = packument.version_at(index) {
                    install_scripts = has_install_scripts(doc);
                }
                (version.clone(), decision.verdict.clone())
            })
        }
        None => None,
    };
    Some(DependencyFacts {
        created: packument
            .versions()
            .filter_map(|(version, _)| {
                packument
                    .publish_time(version)
                    .as_deref()
                    .and_then(Timestamp::parse)
            })
            .min(),
        versions: packument.versions().count(),
        new_publisher: resolved
            .as_deref()
            .and_then(|version| new_publisher(packument, version)),
        resolved: verdict,
        resolved_codes: decided_codes,
        install_scripts,
        taken_down,
        ..base
    })
}

/// `dependency-risk` for a package seen without its history (a tarball on
/// disk): every dependency is looked up in the registry, resolved, analysed and
/// decided as the proxy decides a new dependency; one no file requires (the
/// Axios shape) weighs more.
pub async fn judge_dependencies(
    state: &AppState,
    manifest: &Manifest,
    required: &std::collections::BTreeSet<String>,
) -> Vec<Finding> {
    let prerelease = manifest
        .version
        .as_deref()
        .and_then(|version| js_semver::Version::parse(version).ok())
        .is_some_and(|version| !version.pre_release.is_empty());
    // Git, file, URL and alias dependencies are not the registry's to judge;
    // bundled ones ship inside the tarball. Every other one is resolved,
    // analysed and decided as the proxy would when a client asks for it.
    let added: Vec<AddedDependency> = manifest
        .dependencies
        .iter()
        .filter(|(name, range)| {
            !(range.contains(':') || range.contains('/') || manifest.bundled.contains(*name))
        })
        .map(|(name, range)| AddedDependency {
            name: name.clone(),
            range: range.clone(),
            phantom: Some(!required.contains(name)),
            optional: manifest.optional.contains(name),
        })
        .collect();
    let facts: Vec<DependencyFacts> = futures_util::stream::iter(&added)
        .map(|added| Box::pin(dependency_facts(state, added, prerelease, true)))
        .buffered(DEPENDENCIES_AT_ONCE)
        .filter_map(|found| async move {
            // Without the package's history, nothing says the dependency is new.
            found.map(|facts| DependencyFacts {
                history_unknown: true,
                ..facts
            })
        })
        .collect()
        .await;
    airlock_analyze::dependency_risk(&facts, state.clock().now())
}

/// Analyses the newest versions of a served packument in the background, so that
/// they are judged before their quarantine ends.
pub(crate) fn analyse_newest(state: &AppState, entry: &Arc<Entry>) {
    // Once per fetched copy: the warm path pays one atomic swap.
    if entry.newest_analysed.swap(true, Ordering::AcqRel) {
        return;
    }
    let packument = entry.packument();
    let newest = background_targets(packument);
    let decided = state.inner.gate.decide(entry);
    for version in newest {
        let Some(index) = packument.version_index(&version) else {
            continue;
        };
        let (_, doc) = packument
            .version_at(index)
            .expect("the index came from this packument");
        if state.inner.analyses.findings(doc).is_some()
            || doc.integrity().is_err()
            || refused_before_analysis(&decided.decisions[index])
        {
            continue;
        }
        let key = format!("{}@{version}", packument.name());
        let (state, name) = (state.clone(), packument.name().clone());
        // A waiting task holds a name, not the packument or a tarball: a cold
        // install serves hundreds of packuments in a burst, and the analyses
        // they start must not pile up in memory behind the analysis slots.
        tokio::spawn(async move {
            let analyses = state.inner.analyses.clone();
            let Some(_turn) = analyses.background_turn().await else {
                return;
            };
            let Ok(entry) = state.inner.packuments.get(&name, Freshness::Cached).await else {
                return;
            };
            analyses
                .in_background(key, async || {
                    if let Err(error) = ensure_analysed(&state, &entry, &version).await {
                        tracing::debug!(error = error.message(), "background analysis failed");
                    }
                    if let Err(error) = ensure_provenance(&state, &entry, &version).await {
                        tracing::debug!(
                            error = error.message(),
                            "background provenance check failed"
                        );
                    }
                })
                .await;
        });
    }
}

/// Refused on what the registry says (an advisory, a denial, publisher history),
/// not only waiting out its release age: analysing it in the background would fetch
/// a tarball nobody will be served; a download after an approval analyses it then.
fn refused_before_analysis(decision: &airlock_policy::Decision) -> bool {
    decision.refuses()
        && decision.reasons.iter().any(|reason| {
            !reason.action.admits() && reason.code != airlock_policy::Code::ReleaseAge
        })
}

/// The versions a served packument's background analysis covers: `latest` and the
/// highest stable version (what `^x` ranges resolve to). Prereleases (canaries,
/// betas) are analysed when a client asks for one, not before: some packages
/// publish several a day.
pub(crate) fn background_targets(packument: &Packument) -> Vec<String> {
    let mut newest: Vec<String> = packument
        .dist_tags()
        .get("latest")
        .cloned()
        .into_iter()
        .collect();
    if let Some(highest) = packument
        .versions()
        .filter_map(|(version, _)| js_semver::Version::parse(version).ok())
        .filter(|version| version.pre_release.is_empty())
        .max()
    {
        newest.push(highest.to_string());
    }
    newest.dedup();
    newest
}

/// Whether a version document runs scripts at install.
fn has_install_scripts(doc: &VersionDoc) -> bool {
    doc.get::<serde_json::Map<String, serde_json::Value>>("scripts")
        .is_some_and(|scripts| {
            airlock_analyze::manifest::INSTALL_SCRIPTS
                .iter()
                .any(|script| scripts.contains_key(*script))
        })
}

/// The account that published `version` (`_npmUser.name`), when other versions
/// name their publisher and none of them is that account.
fn new_publisher(packument: &Packument, version: &str) -> Option<String> {
    let publisher = |doc: &VersionDoc| {
        doc.get::<serde_json::Value>("_npmUser").and_then(|user| {
            user.get("name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
    };
    let index = packument.version_index(version)?;
    let (_, doc) = packument.version_at(index)?;
    let account = publisher(doc)?;
    let others: Vec<String> = packument
        .versions()
        .filter(|(other, _)| *other != version)
        .filter_map(|(_, doc)| publisher(doc))
        .collect();
    (!others.is_empty() && !others.contains(&account)).then_some(account)
}

/// The highest version satisfying `range`, as npm would pick.
fn resolve_range(packument: &Packument, range: &str) -> Option<String> {
    let range = js_semver::Range::parse(range).ok()?;
    packument
        .versions()
        .filter_map(|(candidate, _)| js_semver::Version::parse(candidate).ok())
        .filter(|candidate| range.satisfies(candidate))
        .max()
        .map(|candidate| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packument(latest: &str, versions: &[&str]) -> Packument {
        let versions: serde_json::Map<String, serde_json::Value> = versions
            .iter()
            .map(|version| {
                (
                    (*version).to_owned(),
                    serde_json::json!({"name": "canaried", "version": version, "dist": {"tarball": "http://127.0.0.1:1/x.tgz"}}),
                )
            })
            .collect();
        let body = serde_json::json!({
            "name": "canaried",
            "dist-tags": {"latest": latest},
            "versions": versions,
        });
        Packument::parse(
            &PackageName::new("canaried").unwrap(),
            &serde_json::to_vec(&body).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn background_analysis_covers_latest_and_the_highest_stable_not_canaries() {
        let canaries = packument(
            "1.4.0",
            &["1.4.0", "1.5.0", "2.0.0-canary.7", "2.0.0-beta.1"],
        );
        assert_eq!(background_targets(&canaries), ["1.4.0", "1.5.0"]);
        let plain = packument("3.0.0", &["2.9.0", "3.0.0"]);
        assert_eq!(background_targets(&plain), ["3.0.0"]);
    }
}
