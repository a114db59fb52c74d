//! Trust material in the proxy: registry signatures, provenance, publisher history.
//!
//! Registry keys are the pinned copy shipped with Airlock, the upstream's own
//! `/-/npm/v1/keys` (fetched when a signature names a key Airlock does not know, at
//! most every few minutes; it adds keys but never replaces a pinned or configured
//! one) and the keys from configuration. Signatures are checked
//! for every version when the gate decides, each result kept so a packument is
//! verified once. Provenance is fetched and verified with the tarball's analysis
//! (the tarball's sha512 is the subject), stored per version and digest, and loaded
//! at start. History findings are computed per packument at decision time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use airlock_analyze::{Confidence, Finding, Severity};
use airlock_npm::{Clock, PackageName, Packument, Timestamp, VersionDoc};
use airlock_policy::Code;
use airlock_provenance::{
    Attested, Judged, Keyring, RegistrySignature, Release, SignatureStatus, Signed, Subject, judge,
    verify_attestations, verify_signatures,
};
use airlock_store::{ProvenanceRecord, Store};
use airlock_upstream::Upstream;
use axum::http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::ApiError;
use crate::analyses::previous_in_major;
use crate::error::ErrorChain;
use crate::flight::SingleFlight;
use crate::tarballs::{Tarballs, Wanted};

/// How often the upstream's keys may be fetched when a signature names an unknown key.
const KEY_REFRESH: Duration = Duration::from_mins(5);

/// What checking a version's attestations found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ProvenanceCheck {
    Verified(Attested),
    /// The bundles do not verify, or are about something else.
    Invalid {
        reason: String,
    },
    /// The registry lists attestations but does not serve them.
    Unavailable {
        reason: String,
    },
}

impl ProvenanceCheck {
    fn outcome(&self) -> &'static str {
        match self {
            Self::Verified(_) => "verified",
            Self::Invalid { .. } => "invalid",
            Self::Unavailable { .. } => "unavailable",
        }
    }
}

pub struct Trust {
    upstream: Upstream,
    store: Store,
    configured: Keyring,
    keys: RwLock<Arc<Keyring>>,
    fetched_keys: Mutex<Option<Instant>>,
    key_flight: SingleFlight<(), ()>,
    /// Changes whenever keys or provenance checks change.
    generation: AtomicU64,
    signatures: moka::sync::Cache<String, SignatureStatus>,
    /// Provenance checks by `name@version`, with the digest they were made for.
    checks: RwLock<HashMap<String, (String, Arc<ProvenanceCheck>)>>,
    check_flight: SingleFlight<String, Result<Arc<ProvenanceCheck>, ApiError>>,
    clock: Clock,
}

impl Trust {
    /// Starts with the pinned and configured keys and loads stored checks in the
    /// background.
    pub(crate) fn start(
        upstream: Upstream,
        store: Store,
        configured: Keyring,
        clock: Clock,
    ) -> Arc<Self> {
        let mut keys = Keyring::pinned();
        keys.extend(configured.clone());
        let trust = Arc::new(Self {
            upstream,
            store,
            configured,
            keys: RwLock::new(Arc::new(keys)),
            fetched_keys: Mutex::new(None),
            key_flight: SingleFlight::new(),
            generation: AtomicU64::new(0),
            signatures: moka::sync::Cache::new(200_000),
            checks: RwLock::new(HashMap::new()),
            check_flight: SingleFlight::new(),
            clock,
        });
        let loading = trust.clone();
        tokio::spawn(async move {
            match loading.store.provenance_records().await {
                Ok(records) => {
                    let mut checks = loading.write_checks();
                    for record in records {
                        if let Ok(check) = serde_json::from_str::<ProvenanceCheck>(&record.detail) {
                            checks
                                .entry(format!("{}@{}", record.name, record.version))
                                .or_insert((record.integrity, Arc::new(check)));
                        }
                    }
                    drop(checks);
                    loading.generation.fetch_add(1, Ordering::Release);
                }
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "could not load stored provenance checks");
                }
            }
        });
        trust
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn keys(&self) -> Arc<Keyring> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn write_checks(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<String, (String, Arc<ProvenanceCheck>)>> {
        self.checks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fetches the upstream's keys when a signature in `packument` names a key
    /// Airlock does not know (a rotation), at most every few minutes.
    pub(crate) async fn learn_keys(&self, packument: &Packument) {
        let keys = self.keys();
        let unknown = packument.versions().any(|(_, doc)| {
            signatures_of(doc)
                .iter()
                .any(|signature| keys.get(&signature.keyid).is_none())
        });
        if !unknown {
            return;
        }
        let due = {
            let fetched = self
                .fetched_keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            fetched.is_none_or(|at| at.elapsed() >= KEY_REFRESH)
        };
        if due {
            self.key_flight.run((), || self.fetch_keys()).await;
        }
    }

    async fn fetch_keys(&self) {
        *self
            .fetched_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        let fetched = match self.get("/-/npm/v1/keys").await {
            Ok((StatusCode::OK, body)) => Keyring::parse(&body).map_err(|error| error.to_string()),
            Ok((status, _)) => Err(format!("the upstream answered {status}")),
            Err(error) => Err(error.message().to_owned()),
        };
        match fetched {
            Ok(upstream) => {
                // The upstream adds keys; it cannot replace a pinned or configured one
                // (a key id it names cannot swap the key or lift its expiry).
                let mut keys = upstream;
                keys.extend(Keyring::pinned());
                keys.extend(self.configured.clone());
                tracing::info!(
                    keys = keys.keys().len(),
                    "registry keys refreshed from the upstream"
                );
                *self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
                self.signatures.invalidate_all();
                self.generation.fetch_add(1, Ordering::Release);
            }
            Err(reason) => {
                tracing::warn!(%reason, "could not fetch the upstream's registry keys; signatures by unknown keys stay invalid");
            }
        }
    }

    async fn get(&self, path: &str) -> Result<(StatusCode, bytes::Bytes), ApiError> {
        let context = format!("`{path}`");
        let forwarded = self
            .upstream
            .forward(Method::GET, path, &HeaderMap::new(), bytes::Bytes::new())
            .await
            .map_err(|error| ApiError::upstream(&context, &error))?;
        Ok((forwarded.status, forwarded.body))
    }

    /// The signature status of one version, computed once per signature and keys.
    pub fn signature(
        &self,
        name: &PackageName,
        version: &str,
        doc: &VersionDoc,
        published: Option<Timestamp>,
    ) -> SignatureStatus {
        let signatures = signatures_of(doc);
        if signatures.is_empty()
            && doc
                .dist_get::<serde_json::Value>("signatures")
                .is_some_and(|value| {
                    !value.is_null() && value.as_array().is_none_or(|list| !list.is_empty())
                })
        {
            return SignatureStatus::Invalid {
                reason: format!(
                    "`dist.signatures` of `{name}@{version}` is not a list of {{keyid, sig}}"
                ),
            };
        }
        let Some(integrity) = doc.integrity_text().filter(|_| !signatures.is_empty()) else {
            return SignatureStatus::Missing;
        };
        let id = format!("{name}@{version}");
        let mut key = format!("{id}:{integrity}:{published:?}");
        for signature in &signatures {
            key.push(':');
            key.push_str(&signature.keyid);
            key.push(':');
            key.push_str(&signature.sig);
        }
        let keys = self.keys();
        self.signatures.get_with(key, || {
            verify_signatures(
                &keys,
                Signed {
                    id: &id,
                    integrity,
                    published,
                },
                &signatures,
            )
        })
    }

    /// The provenance check of one version, when it was made for this digest.
    pub fn check(
        &self,
        name: &PackageName,
        version: &str,
        doc: &VersionDoc,
    ) -> Option<Arc<ProvenanceCheck>> {
        let integrity = doc.integrity_text()?;
        let checks = self
            .checks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (checked, check) = checks.get(&format!("{name}@{version}"))?;
        (checked == integrity).then(|| check.clone())
    }

    /// Whether `doc` lists attestations that have not been checked yet.
    pub fn needs_check(&self, name: &PackageName, version: &str, doc: &VersionDoc) -> bool {
        // On every tarball request: a key lookup first, then the check map, and only
        // for an unchecked version the parse of `dist.attestations`.
        doc.dist_has("attestations")
            && self.check(name, version, doc).is_none()
            && lists_attestations(doc)
    }

    /// Fetches and verifies the attestations of one version whose tarball is
    /// `tarball`. An upstream failure is an error (nothing is stored, the next
    /// request tries again); bundles that do not verify are a stored outcome.
    pub(crate) async fn check_provenance(
        &self,
        name: &PackageName,
        version: &str,
        doc: &VersionDoc,
        tarball: bytes::Bytes,
    ) -> Result<Arc<ProvenanceCheck>, ApiError> {
        if let Some(check) = self.check(name, version, doc) {
            return Ok(check);
        }
        let integrity = doc.integrity_text().unwrap_or_default().to_owned();
        let id = format!("{name}@{version}");
        Box::pin(self.check_flight.run(id.clone(), || async {
            let path = format!(
                "/-/npm/v1/attestations/{}@{version}",
                name.to_path_segment()
            );
            let (status, body) = self.get(&path).await?;
            let check = match status {
                StatusCode::OK => {
                    let keys = self.keys();
                    let (name, version) = (name.to_string(), version.to_owned());
                    tokio::task::spawn_blocking(move || {
                        let sha512 = sha2::Sha512::digest(&tarball);
                        let subject = Subject {
                            name: &name,
                            version: &version,
                            sha512: &sha512,
                        };
                        match verify_attestations(&body, subject, &keys) {
                            Ok(attested) => ProvenanceCheck::Verified(attested),
                            Err(reason) => ProvenanceCheck::Invalid { reason },
                        }
                    })
                    .await
                    .map_err(|error| ApiError::internal("verifying provenance", &error))?
                }
                StatusCode::NOT_FOUND => ProvenanceCheck::Unavailable {
                    reason: "the registry lists provenance for this version but serves no attestations for it".into(),
                },
                status => {
                    return Err(ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        format!("the upstream answered {status} for the attestations of `{id}`\nhint: try again; Airlock serves no version whose listed provenance it has not checked"),
                    ));
                }
            };
            tracing::info!(package = %name, %version, outcome = check.outcome(), "provenance checked");
            let record = ProvenanceRecord {
                name: name.to_string(),
                version: version.to_owned(),
                integrity: integrity.clone(),
                outcome: check.outcome().to_owned(),
                detail: serde_json::to_string(&check).expect("checks serialise"),
                checked_at: self.clock.now_millis(),
            };
            if let Err(error) = self.store.put_provenance(&record).await {
                tracing::warn!(package = %name, %version, error = %ErrorChain(&error), "could not store a provenance check");
            }
            let check = Arc::new(check);
            self.write_checks().insert(id.clone(), (integrity.clone(), check.clone()));
            self.generation.fetch_add(1, Ordering::Release);
            Ok(check)
        }))
        .await
    }

    /// Checks the provenance of `version` of `packument`, and of the previous version
    /// on its release line (the baseline its source repository is compared with),
    /// when the registry lists provenance for them.
    pub(crate) async fn ensure(
        &self,
        tarballs: &Tarballs,
        packument: &Packument,
        version: &str,
    ) -> Result<(), ApiError> {
        let name = packument.name();
        let previous = previous_in_major(packument, version);
        for (position, version) in std::iter::once(version)
            .chain(previous.as_deref())
            .enumerate()
        {
            let Some(doc) = packument.version(version) else {
                continue;
            };
            if !self.needs_check(name, version, doc) {
                continue;
            }
            let checked = async {
                let tarball = tarballs.bytes(&Wanted::of(name, version, doc)?).await?;
                self.check_provenance(name, version, doc, tarball).await
            }
            .await;
            // The previous version only informs the baseline: its failure is logged.
            match checked {
                Err(error) if position == 0 => return Err(error),
                Err(error) => {
                    tracing::debug!(package = %name, %version, error = error.message(), "could not check the provenance of the previous version");
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// Every version's trust findings: signature, provenance and publisher history,
    /// in document order.
    pub fn findings(&self, packument: &Packument) -> Vec<(Judged, Vec<Finding>)> {
        let name = packument.name();
        let mut releases = Vec::new();
        let mut own = Vec::new();
        for (version, doc) in packument.versions() {
            let published = packument
                .publish_time(version)
                .as_deref()
                .and_then(Timestamp::parse);
            let mut release = Release::from_doc(version, doc, published);
            let mut findings = Vec::new();
            match self.signature(name, version, doc, published) {
                SignatureStatus::Invalid { reason } => findings.push(Finding::new(
                    Code::SignatureInvalid,
                    Severity::Critical,
                    Confidence::High,
                    reason,
                )),
                SignatureStatus::Missing => findings.push(Finding::new(
                    Code::SignatureMissing,
                    Severity::Low,
                    Confidence::High,
                    "the registry gives no signature for this version",
                )),
                SignatureStatus::Verified { .. } => {}
            }
            match self.check(name, version, doc).as_deref() {
                Some(ProvenanceCheck::Verified(attested)) => {
                    if let Some(provenance) = &attested.provenance {
                        release.repository_id.clone_from(&provenance.repository_id);
                        release
                            .provenance_repository
                            .clone_from(&provenance.repository);
                    }
                }
                Some(ProvenanceCheck::Invalid { reason }) => findings.push(Finding::new(
                    Code::ProvenanceInvalid,
                    Severity::Critical,
                    Confidence::High,
                    reason.clone(),
                )),
                Some(ProvenanceCheck::Unavailable { reason }) => findings.push(Finding::new(
                    Code::ProvenanceInvalid,
                    Severity::Medium,
                    Confidence::Medium,
                    reason.clone(),
                )),
                None => {}
            }
            releases.push(release);
            own.push(findings);
        }
        judge(&releases)
            .into_iter()
            .zip(own)
            .map(|(judged, mut findings)| {
                findings.extend(judged.findings.iter().cloned());
                (judged, findings)
            })
            .collect()
    }
}

/// `dist.signatures` of a version, empty when absent or malformed.
fn signatures_of(doc: &VersionDoc) -> Vec<RegistrySignature> {
    doc.dist_get::<Vec<RegistrySignature>>("signatures")
        .unwrap_or_default()
}

/// Whether the registry lists provenance for a version.
pub(crate) fn lists_attestations(doc: &VersionDoc) -> bool {
    doc.dist_get::<serde_json::Value>("attestations")
        .is_some_and(|value| value.is_object())
}
