//! `airlock check`, `airlock diff` and `airlock why`: a version's decision with its
//! reasons and trust material, what changed between two versions, and what a range
//! gets through Airlock now.

use airlock_npm::PackageName;
use airlock_policy::Decision;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::packuments::Freshness;
use crate::{ApiError, AppState};

/// What `airlock check` reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub decision: Decision,
    /// What the content analysis found, including what decided nothing.
    #[serde(default)]
    pub findings: Vec<airlock_analyze::Finding>,
    /// Signature, provenance and the publisher history of the release line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<TrustReport>,
}

/// The trust material of one version, as `airlock check` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustReport {
    pub signature: airlock_provenance::SignatureStatus,
    /// The provenance check, when the registry lists provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::trust::ProvenanceCheck>,
    /// Who published it (`_npmUser`), and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<airlock_provenance::Publisher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_publisher: Option<String>,
    /// What the earlier versions of its release line did.
    pub baseline: airlock_provenance::Baseline,
}

/// The packument of `name`, fetched again when the cached one does not list
/// `version` yet.
async fn listing(
    state: &AppState,
    name: &PackageName,
    version: &str,
) -> Result<std::sync::Arc<crate::packuments::Entry>, ApiError> {
    let entry = state.inner.packuments.get(name, Freshness::Cached).await?;
    if entry.packument().version_index(version).is_some() {
        return Ok(entry);
    }
    state
        .inner
        .packuments
        .get(name, Freshness::Revalidate)
        .await
}

/// The decision about `name@version` now, fetching the packument if needed.
pub async fn check(
    state: &AppState,
    name: &PackageName,
    version: &str,
) -> Result<CheckReport, ApiError> {
    let entry = listing(state, name, version).await?;
    let Some(index) = entry.packument().version_index(version) else {
        return Err(ApiError::not_found(format!(
            "`{name}@{version}` is not listed upstream; it"
        )));
    };
    let (_, doc) = entry
        .packument()
        .version_at(index)
        .expect("the index came from this packument");
    let findings = match state.inner.analyses.findings(doc) {
        Some(findings) => findings,
        None => crate::vetting::ensure_analysed(state, &entry, version).await?,
    };
    let trust = &state.inner.trust;
    crate::vetting::ensure_provenance(state, &entry, version).await?;
    let decided = state.inner.gate.decide(&entry);
    let packument = entry.packument();
    let published = packument
        .publish_time(version)
        .as_deref()
        .and_then(airlock_npm::Timestamp::parse);
    let release = airlock_provenance::Release::from_doc(version, doc, published);
    let (judged, trust_findings) = trust
        .findings(packument)
        .into_iter()
        .nth(index)
        .expect("one judgement per version");
    let trust = TrustReport {
        signature: trust.signature(name, version, doc, published),
        provenance: trust
            .check(name, version, doc)
            .map(|check| (*check).clone()),
        publisher: release.publisher,
        trusted_publisher: release.trusted_publisher,
        baseline: judged.baseline,
    };
    Ok(CheckReport {
        trust: Some(trust),
        findings: {
            let (advisories, _) = state.advisories().current();
            let mut all = findings.findings.clone();
            all.extend(airlock_analyze::indicator_findings(
                &findings.hosts,
                advisories.iocs(),
            ));
            // The signature's status has its own place in the report.
            all.extend(
                trust_findings
                    .into_iter()
                    .filter(|finding| finding.code != airlock_policy::Code::SignatureMissing),
            );
            all
        },
        package: name.to_string(),
        version: version.to_owned(),
        published: entry.packument().publish_time(version),
        decision: decided.decisions[index].clone(),
    })
}

/// What changed from `name@from` to `name@to`, both analysed.
pub async fn diff(
    state: &AppState,
    name: &PackageName,
    from: &str,
    to: &str,
) -> Result<airlock_analyze::VersionDiff, ApiError> {
    let mut entry = state.inner.packuments.get(name, Freshness::Cached).await?;
    if [from, to]
        .iter()
        .any(|version| entry.packument().version_index(version).is_none())
    {
        entry = state
            .inner
            .packuments
            .get(name, Freshness::Revalidate)
            .await?;
    }
    let mut both = Vec::new();
    for version in [from, to] {
        if entry.packument().version_index(version).is_none() {
            return Err(ApiError::not_found(format!(
                "`{name}@{version}` is not listed upstream; it"
            )));
        }
        let analysis = state.inner.analyses.analysis_of(entry.packument(), version).await.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("could not fetch or analyse `{name}@{version}`\nhint: the log says why; check the upstream"),
            )
        })?;
        both.push(analysis);
    }
    Ok(airlock_analyze::VersionDiff::of_analyses(
        &both[0], &both[1], from, to,
    ))
}

/// The verified tarball of `name@version`, from the store or the upstream.
pub async fn tarball(
    state: &AppState,
    name: &PackageName,
    version: &str,
) -> Result<bytes::Bytes, ApiError> {
    let entry = listing(state, name, version).await?;
    let Some((_, doc)) = entry
        .packument()
        .version_index(version)
        .and_then(|index| entry.packument().version_at(index))
    else {
        return Err(ApiError::not_found(format!(
            "`{name}@{version}` is not listed upstream; it"
        )));
    };
    let wanted = crate::tarballs::Wanted {
        name,
        version,
        upstream_url: doc.upstream_tarball(),
        integrity: crate::tarballs::verifiable(name, version, doc.integrity())?,
    };
    state.inner.tarballs.bytes(&wanted).await
}

/// Splits `name@version` (`@scope/name@1.0.0` included).
pub fn parse_name_version(spec: &str) -> Result<(PackageName, String), ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "`{spec}` is not `name@version`\nhint: write the package and an exact version, such as `axios@1.14.1`"
            ),
        )
    };
    let index = spec
        .get(1..)
        .and_then(|rest| rest.rfind('@'))
        .ok_or_else(invalid)?
        + 1;
    let (name, version) = (&spec[..index], &spec[index + 1..]);
    if version.is_empty() {
        return Err(invalid());
    }
    let name = PackageName::new(name).map_err(|error| ApiError::bad_name(&error))?;
    Ok((name, version.to_owned()))
}

pub(crate) async fn check_route(
    State(state): State<AppState>,
    Path(spec): Path<String>,
) -> Result<Json<CheckReport>, ApiError> {
    let (name, version) = parse_name_version(&spec)?;
    check(&state, &name, &version).await.map(Json)
}

/// One version withheld from clients, and why.
#[derive(Debug, Serialize, Deserialize)]
pub struct WithheldView {
    pub version: String,
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub codes: Vec<String>,
    pub reasons: Vec<String>,
}

/// What a range gets through Airlock now, and what it withholds.
#[derive(Debug, Serialize, Deserialize)]
pub struct WhyReport {
    pub package: String,
    /// The range asked about; `*` for the whole package.
    pub range: String,
    /// The newest version in the range a client gets now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolves_to: Option<String>,
    /// Versions in the range withheld, newest first.
    pub withheld: Vec<WithheldView>,
}

/// `why/{name}` or `why/{name@range}`: the versions of the range Airlock withholds,
/// each with its decision, and what the range resolves to meanwhile.
pub(crate) async fn why(
    State(state): State<AppState>,
    Path(spec): Path<String>,
) -> Result<Json<WhyReport>, ApiError> {
    let (name_text, range_text) = match spec.get(1..).and_then(|rest| rest.rfind('@')) {
        Some(at) => (&spec[..=at], &spec[at + 2..]),
        None => (spec.as_str(), "*"),
    };
    let name = PackageName::new(name_text).map_err(|error| ApiError::bad_name(&error))?;
    let range = js_semver::Range::parse(range_text).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{range_text}` is not a version range\nhint: write `name`, `name@^1.2.0` or `name@1.x`"),
        )
    })?;
    let entry = state.inner.packuments.get(&name, Freshness::Cached).await?;
    let decided = state.inner.gate.decide(&entry);
    let packument = entry.packument();
    let mut resolves_to: Option<js_semver::Version> = None;
    let mut withheld = Vec::new();
    for ((version, _), decision) in packument.versions().zip(&decided.decisions) {
        let Ok(parsed) = js_semver::Version::parse(version) else {
            continue;
        };
        if !range.satisfies(&parsed) {
            continue;
        }
        if decision.admits() {
            if resolves_to.as_ref().is_none_or(|best| parsed > *best) {
                resolves_to = Some(parsed);
            }
            continue;
        }
        withheld.push((
            parsed,
            WithheldView {
                version: version.to_owned(),
                verdict: decision.verdict.name().to_owned(),
                until: decision.quarantine_until().map(|until| until.to_string()),
                codes: decision.codes().iter().map(ToString::to_string).collect(),
                reasons: decision
                    .reasons
                    .iter()
                    .map(|reason| format!("{}: {}", reason.code, reason.message))
                    .collect(),
            },
        ));
    }
    withheld.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(Json(WhyReport {
        package: name.to_string(),
        range: range_text.to_owned(),
        resolves_to: resolves_to.map(|version| version.to_string()),
        withheld: withheld.into_iter().map(|(_, view)| view).collect(),
    }))
}
