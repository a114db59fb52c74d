//! Registry signing keys generated in tests, signing as npm's registry does.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// An ECDSA P-256 key with its registry key id.
pub struct RegistryKeyPair {
    pub keyid: String,
    /// When the key stops being valid, as RFC 3339 text.
    pub expires: Option<String>,
    pair: EcdsaKeyPair,
}

impl std::fmt::Debug for RegistryKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryKeyPair")
            .field("keyid", &self.keyid)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl RegistryKeyPair {
    /// A fresh key named `keyid`.
    pub fn generate(keyid: &str) -> Self {
        Self {
            keyid: keyid.to_owned(),
            expires: None,
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .expect("key generation works"),
        }
    }

    #[must_use]
    pub fn expiring(mut self, rfc3339: &str) -> Self {
        self.expires = Some(rfc3339.to_owned());
        self
    }

    /// The base64 DER public key, as the keys document carries it.
    pub fn public_key(&self) -> String {
        let der = self.pair.public_key().as_der().expect("public keys encode");
        STANDARD.encode(der.as_ref())
    }

    /// This key as one entry of `/-/npm/v1/keys`.
    pub fn key_entry(&self) -> Value {
        json!({
            "expires": self.expires,
            "keyid": self.keyid,
            "keytype": "ecdsa-sha2-nistp256",
            "scheme": "ecdsa-sha2-nistp256",
            "key": self.public_key(),
        })
    }

    /// The `dist.signatures` entry for `name@version` with `integrity`.
    pub fn sign(&self, id: &str, integrity: &str) -> Value {
        let message = format!("{id}:{integrity}");
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .expect("signing works");
        json!({"keyid": self.keyid, "sig": STANDARD.encode(signature.as_ref())})
    }
}
