//! Registry signatures: `dist.signatures`, checked as npm's own client checks them.
//!
//! Each signature is ECDSA P-256 with SHA-256, DER-encoded and base64'd, over
//! `${name}@${version}:${integrity}`. Every signature must verify with the key its
//! `keyid` names, and that key must not have expired by the version's publish time.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use airlock_npm::Timestamp;

use crate::Keyring;

/// One entry of `dist.signatures`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrySignature {
    pub keyid: String,
    pub sig: String,
}

/// What the signatures of one version say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// Every signature verified; these are the keys that made them.
    Verified { keyids: Vec<String> },
    /// The registry gave no signature: a policy question, not an error (mirrors
    /// and private registries often sign nothing).
    Missing,
    /// A signature does not verify, names an unknown key, or was made with a key
    /// that had expired.
    Invalid { reason: String },
}

impl SignatureStatus {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Verified { .. } => "verified",
            Self::Missing => "missing",
            Self::Invalid { .. } => "invalid",
        }
    }
}

/// The version a signature is about.
#[derive(Clone, Copy, Debug)]
pub struct Signed<'a> {
    /// `name@version`, the scope included.
    pub id: &'a str,
    /// `dist.integrity` exactly as the registry wrote it.
    pub integrity: &'a str,
    /// The registry's publish time for the version; without one, a key's expiry
    /// cannot rule the signature out (npm treats it as published at the epoch).
    pub published: Option<Timestamp>,
}

/// Checks `signatures` for `signed` against `keys`.
pub fn verify_signatures(
    keys: &Keyring,
    signed: Signed<'_>,
    signatures: &[RegistrySignature],
) -> SignatureStatus {
    if signatures.is_empty() {
        return SignatureStatus::Missing;
    }
    let message = format!("{}:{}", signed.id, signed.integrity);
    let mut keyids = Vec::new();
    for signature in signatures {
        let Some(key) = keys.get(&signature.keyid) else {
            return SignatureStatus::Invalid {
                reason: format!(
                    "`{}` is signed with key `{}`, which is not among the registry's keys",
                    signed.id, signature.keyid
                ),
            };
        };
        if let (Some(expires), Some(published)) = (key.expires, signed.published)
            && published >= expires
        {
            return SignatureStatus::Invalid {
                reason: format!(
                    "`{}` was published at {published}, after key `{}` expired at {expires}",
                    signed.id, signature.keyid
                ),
            };
        }
        let verified = STANDARD.decode(signature.sig.trim()).is_ok_and(|sig| {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key.key)
                .verify(message.as_bytes(), &sig)
                .is_ok()
        });
        if !verified {
            return SignatureStatus::Invalid {
                reason: format!(
                    "the signature of `{}` by key `{}` does not match its integrity `{}`",
                    signed.id, signature.keyid, signed.integrity
                ),
            };
        }
        if !keyids.contains(&signature.keyid) {
            keyids.push(signature.keyid.clone());
        }
    }
    SignatureStatus::Verified { keyids }
}
