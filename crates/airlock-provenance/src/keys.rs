//! The registry's signing keys, in the shape of its `/-/npm/v1/keys` document.
//!
//! Keys come from three places, merged in this order (a later copy of a key id
//! replaces an earlier one): the pinned copy of the public registry's keys shipped
//! with Airlock ([`Keyring::pinned`]), the upstream's own keys document, and keys
//! from configuration.

use airlock_npm::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::Error;

/// The only key type npm registries sign with.
const ECDSA_P256: &str = "ecdsa-sha2-nistp256";

const PINNED: &str = include_str!("../data/registry-keys.json");

/// One registry key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryKey {
    /// `SHA256:` and the base64 digest of the key, as signatures name it.
    pub keyid: String,
    /// Signatures on versions published at or after this time are not accepted.
    pub expires: Option<Timestamp>,
    /// The public key, DER-encoded `SubjectPublicKeyInfo`.
    pub key: Vec<u8>,
}

/// The keys signatures and publish attestations are checked against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keyring {
    keys: Vec<RegistryKey>,
}

#[derive(Deserialize)]
struct KeysDocument {
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawKey {
    keyid: String,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    keytype: Option<String>,
    #[serde(default)]
    scheme: Option<String>,
    key: String,
}

impl Keyring {
    /// Parses a keys document (`{"keys": [{"keyid", "key", "expires", ...}]}`).
    /// Keys of a type other than ECDSA P-256 are left out; a key that cannot be
    /// decoded, or an expiry that is not a time, is an error naming the key.
    pub fn parse(document: &[u8]) -> Result<Self, Error> {
        let document: KeysDocument = serde_json::from_slice(document)
            .map_err(|error| Error::Keys(format!("it is not a keys document: {error}")))?;
        let mut keyring = Self::default();
        for raw in document.keys {
            let supported = [&raw.keytype, &raw.scheme]
                .iter()
                .all(|field| field.as_deref().is_none_or(|value| value == ECDSA_P256));
            if !supported {
                continue;
            }
            let key = STANDARD
                .decode(raw.key.trim())
                .map_err(|_| Error::Keys(format!("key `{}` is not base64 DER", raw.keyid)))?;
            let expires = match raw.expires.as_deref() {
                None => None,
                Some(text) => Some(Timestamp::parse(text).ok_or_else(|| {
                    Error::Keys(format!(
                        "key `{}` expires at `{text}`, which is not a time",
                        raw.keyid
                    ))
                })?),
            };
            keyring.insert(RegistryKey {
                keyid: raw.keyid,
                expires,
                key,
            });
        }
        Ok(keyring)
    }

    /// The public registry's keys as published when this Airlock was built, so
    /// signatures verify even when the upstream is a mirror without a keys
    /// endpoint.
    pub fn pinned() -> Self {
        Self::parse(PINNED.as_bytes()).expect("the pinned keys parse")
    }

    /// Adds `key`, replacing a key with the same id.
    pub fn insert(&mut self, key: RegistryKey) {
        self.keys.retain(|known| known.keyid != key.keyid);
        self.keys.push(key);
    }

    /// Adds every key of `other`, its copies winning.
    pub fn extend(&mut self, other: Keyring) {
        for key in other.keys {
            self.insert(key);
        }
    }

    pub fn get(&self, keyid: &str) -> Option<&RegistryKey> {
        self.keys.iter().find(|key| key.keyid == keyid)
    }

    pub fn keys(&self) -> &[RegistryKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
