//! Provenance: the Sigstore bundles a registry serves at
//! `/-/npm/v1/attestations/{name}@{version}`, verified offline.
//!
//! Each bundle (media types v0.1 to v0.3) is verified with sigstore-verify against
//! the Sigstore public-good trust root embedded in it: certificate chain to Fulcio,
//! transparency-log inclusion, signature over the DSSE envelope, and the in-toto
//! subject's sha512 against the tarball's. The subject's name must be the package
//! URL of this very version, so a bundle of another package cannot be replayed.
//! Bundles signed with a registry key instead of a certificate (npm's publish
//! attestation) are verified with that key from the [`Keyring`].
//!
//! From the provenance bundle's certificate come the facts a person checks: the
//! source repository (URI and numeric id), the workflow, the commit, the builder.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sigstore_verify::trust_root::{SIGSTORE_PRODUCTION_TRUSTED_ROOT, TrustedRoot};
use sigstore_verify::types::{
    ArtifactDigest, Bundle, DerPublicKey, DigestBytes, HashAlgorithm, SignatureContent,
    VerificationMaterialContent,
};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::Keyring;

/// Where a build's provenance came from, as its verified certificate says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The SLSA predicate type of the statement.
    pub predicate_type: String,
    /// The source repository's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The source repository's numeric id at its forge: survives renames, and
    /// differs for a fork or a re-created repository of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_id: Option<String>,
    /// The build configuration (workflow file and ref) that requested the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// Who ran the build: the runner environment, else a builder other than the
    /// workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// The OIDC issuer of the signing identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The CI run that built and signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// What a version's attestations document proved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attested {
    /// The verified build provenance, when the document has one.
    pub provenance: Option<Provenance>,
    /// How many bundles verified.
    pub bundles: usize,
}

/// The version the bundles must be about.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The package name, the scope included.
    pub name: &'a str,
    pub version: &'a str,
    /// The sha512 of the tarball (verified against `dist.integrity`).
    pub sha512: &'a [u8],
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow, default)]
    attestations: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
    #[serde(borrow)]
    bundle: &'a RawValue,
}

/// The in-toto predicate type of SLSA build provenance v1 (an identifier from the
/// SLSA specification, never contacted). Other versions share its prefix.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// Whether a predicate type is SLSA build provenance of any version.
fn is_slsa_provenance(kind: &str) -> bool {
    kind.rsplit_once('/')
        .is_some_and(|(base, _)| SLSA_PROVENANCE_V1.starts_with(base) && !base.is_empty())
}

/// Verifies every bundle of an attestations document for `subject`. The error is
/// the reason the document cannot be trusted, in a sentence.
pub fn verify_attestations(
    document: &[u8],
    subject: Subject<'_>,
    keys: &Keyring,
) -> Result<Attested, String> {
    let document: Document<'_> = serde_json::from_slice(document).map_err(|error| {
        format!("the attestations document is not JSON of the npm shape: {error}")
    })?;
    if document.attestations.is_empty() {
        return Err("the registry lists attestations for this version but serves none".into());
    }
    let verifier = verifier()?;
    let digest = ArtifactDigest::new(
        HashAlgorithm::Sha2512,
        DigestBytes::new(subject.sha512.to_vec()),
    )
    .map_err(|error| format!("the tarball digest is unusable: {error}"))?;
    let mut attested = Attested::default();
    for entry in document.attestations {
        let kind = &entry.predicate_type;
        let bundle = Bundle::from_json(entry.bundle.get())
            .map_err(|error| format!("the `{kind}` bundle is malformed: {error}"))?;
        check_statement(&bundle, kind, subject)?;
        let result = match &bundle.verification_material.content {
            VerificationMaterialContent::PublicKey(identifier) => {
                let key = keys.get(&identifier.hint).ok_or_else(|| {
                    format!(
                        "the `{kind}` bundle is signed with key `{}`, which is not among the registry's keys",
                        identifier.hint
                    )
                })?;
                let policy = PublicKeyVerificationPolicy::new(DerPublicKey::from_bytes(&key.key));
                verifier.verify(digest.clone(), &bundle, &policy)
            }
            _ => verifier.verify(digest.clone(), &bundle, &VerificationPolicy::any_identity()),
        }
        .map_err(|error| format!("the `{kind}` bundle does not verify: {error}"))?;
        attested.bundles += 1;
        if is_slsa_provenance(kind) {
            let mut provenance = Provenance {
                predicate_type: kind.clone(),
                issuer: result.issuer().map(str::to_owned),
                ..Provenance::default()
            };
            if let Some(certificate) = result.certificate() {
                let claims = &certificate.ci_claims;
                provenance
                    .repository
                    .clone_from(&claims.source_repository_uri);
                provenance
                    .repository_id
                    .clone_from(&claims.source_repository_identifier);
                provenance.workflow.clone_from(&claims.build_config_uri);
                provenance
                    .commit
                    .clone_from(&claims.source_repository_digest);
                provenance.git_ref.clone_from(&claims.source_repository_ref);
                // The runner (`github-hosted`, `self-hosted`); else the signer, when it
                // is not the workflow itself (a reusable builder).
                provenance.builder = claims.runner_environment.clone().or_else(|| {
                    claims
                        .build_signer_uri
                        .clone()
                        .filter(|signer| Some(signer) != claims.build_config_uri.as_ref())
                });
                provenance.run.clone_from(&claims.run_invocation_uri);
            }
            attested.provenance = Some(provenance);
        }
    }
    Ok(attested)
}

/// The verifier over the embedded public-good trust root, built once.
fn verifier() -> Result<&'static Verifier, String> {
    static VERIFIER: OnceLock<Result<Verifier, String>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let root = TrustedRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT)
                .map_err(|error| format!("the embedded Sigstore trust root: {error}"))?;
            Verifier::new(&root)
                .map_err(|error| format!("the embedded Sigstore trust root: {error}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The statement must be an in-toto statement of the declared predicate type about
/// this package version (its package URL, `@` of a scope written either way).
fn check_statement(bundle: &Bundle, kind: &str, subject: Subject<'_>) -> Result<(), String> {
    #[derive(Deserialize)]
    struct Statement {
        #[serde(rename = "predicateType")]
        predicate_type: String,
        subject: Vec<Named>,
    }
    #[derive(Deserialize)]
    struct Named {
        #[serde(default)]
        name: String,
    }
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return Err(format!("the `{kind}` bundle holds no in-toto statement"));
    };
    let statement: Statement = serde_json::from_slice(envelope.payload.as_bytes())
        .map_err(|error| format!("the `{kind}` statement is malformed: {error}"))?;
    if statement.predicate_type != kind {
        return Err(format!(
            "the bundle listed as `{kind}` holds a `{}` statement",
            statement.predicate_type
        ));
    }
    let purl = format!("pkg:npm/{}@{}", subject.name, subject.version);
    let escaped = purl.replacen("pkg:npm/@", "pkg:npm/%40", 1);
    if !statement
        .subject
        .iter()
        .any(|named| named.name == purl || named.name == escaped)
    {
        let names: Vec<&str> = statement
            .subject
            .iter()
            .map(|named| named.name.as_str())
            .collect();
        return Err(format!(
            "the `{kind}` statement is about {}, not `{purl}`",
            names.join(", ")
        ));
    }
    Ok(())
}
