//! Tarball integrity: the Subresource Integrity strings in `dist.integrity` and the
//! legacy hex `dist.shasum`.
//!
//! Airlock keys its blob store by the strongest digest the registry vouches for and
//! refuses any byte that does not hash to it. sha1 is accepted only when it is all a
//! version has (very old packages), never when a stronger digest is present.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest as _;

use crate::Error;

/// Digest algorithms, weakest first so that `max` picks the strongest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// One expected digest of a tarball.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Integrity {
    algorithm: Algorithm,
    digest: Box<[u8]>,
}

impl Integrity {
    /// The strongest usable digest of a version's `dist`: `integrity` when it parses,
    /// otherwise `shasum`.
    pub fn from_dist(integrity: Option<&str>, shasum: Option<&str>) -> Result<Self, Error> {
        match (integrity, shasum) {
            (Some(sri), shasum) => {
                Self::parse_sri(sri).or_else(|error| shasum.map_or(Err(error), Self::from_sha1_hex))
            }
            (None, Some(hex)) => Self::from_sha1_hex(hex),
            (None, None) => Err(Error::InvalidIntegrity {
                value: String::new(),
                reason: "the version has neither `dist.integrity` nor `dist.shasum`",
            }),
        }
    }

    /// Parses an SRI string such as `sha512-<base64>`; of several hashes, the strongest
    /// known one wins and unknown algorithms are skipped, as the SRI spec asks.
    pub fn parse_sri(value: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidIntegrity {
            value: value.to_owned(),
            reason,
        };
        let mut best: Option<Self> = None;
        for token in value.split_ascii_whitespace() {
            let Some((name, rest)) = token.split_once('-') else {
                return Err(invalid("each hash needs the form `algorithm-base64`"));
            };
            let Some(algorithm) = Algorithm::parse(name) else {
                continue;
            };
            let encoded = rest
                .split_once('?')
                .map_or(rest, |(digest, _options)| digest);
            let digest = STANDARD
                .decode(encoded)
                .map_err(|_| invalid("the digest is not base64"))?;
            if digest.len() != algorithm.digest_len() {
                return Err(invalid("the digest has the wrong length for its algorithm"));
            }
            if best.as_ref().is_none_or(|best| algorithm > best.algorithm) {
                best = Some(Self {
                    algorithm,
                    digest: digest.into(),
                });
            }
        }
        best.ok_or_else(|| invalid("it names no supported algorithm"))
    }

    /// Every well-formed hash of an SRI string of a known algorithm, strongest first;
    /// malformed and unknown ones are skipped. For comparing two integrity strings
    /// algorithm by algorithm (a lockfile's and the registry's).
    pub fn parse_each(value: &str) -> Vec<Self> {
        let mut each: Vec<Self> = value
            .split_ascii_whitespace()
            .filter_map(|token| Self::parse_sri(token).ok())
            .collect();
        each.sort_by_key(|integrity| std::cmp::Reverse(integrity.algorithm));
        each
    }

    pub fn from_sha1_hex(value: &str) -> Result<Self, Error> {
        let digest = hex::decode(value).map_err(|_| Error::InvalidIntegrity {
            value: value.to_owned(),
            reason: "`shasum` is not hexadecimal",
        })?;
        if digest.len() != Algorithm::Sha1.digest_len() {
            return Err(Error::InvalidIntegrity {
                value: value.to_owned(),
                reason: "`shasum` is not 40 hexadecimal digits",
            });
        }
        Ok(Self {
            algorithm: Algorithm::Sha1,
            digest: digest.into(),
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    pub fn hex_digest(&self) -> String {
        let mut out = String::with_capacity(self.digest.len() * 2);
        push_hex(&mut out, &self.digest);
        out
    }

    /// A key safe for file names and database rows: `sha512/<hex>`. It is computed
    /// for every tarball request, so it is built without formatting machinery.
    pub fn storage_key(&self) -> String {
        let algorithm = self.algorithm.as_str();
        let mut out = String::with_capacity(algorithm.len() + 1 + self.digest.len() * 2);
        out.push_str(algorithm);
        out.push('/');
        push_hex(&mut out, &self.digest);
        out
    }

    /// A strong HTTP ETag for the blob: the first 128 bits of the digest, quoted.
    pub fn etag(&self) -> String {
        let mut out = String::with_capacity(34);
        out.push('"');
        push_hex(&mut out, &self.digest[..self.digest.len().min(16)]);
        out.push('"');
        out
    }

    pub fn hasher(&self) -> IntegrityHasher {
        IntegrityHasher::new(self.algorithm)
    }
}

impl fmt::Display for Integrity {
    /// The SRI form, `sha512-<base64>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.algorithm.as_str(),
            STANDARD.encode(&self.digest)
        )
    }
}

impl fmt::Debug for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Integrity({self})")
    }
}

/// Hashes a byte stream with one algorithm, chunk by chunk.
pub enum IntegrityHasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl IntegrityHasher {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha1(hasher) => hasher.update(bytes),
            Self::Sha256(hasher) => hasher.update(bytes),
            Self::Sha384(hasher) => hasher.update(bytes),
            Self::Sha512(hasher) => hasher.update(bytes),
        }
    }

    pub fn finish(self) -> Integrity {
        let (algorithm, digest): (_, Box<[u8]>) = match self {
            Self::Sha1(hasher) => (Algorithm::Sha1, boxed(&hasher.finalize())),
            Self::Sha256(hasher) => (Algorithm::Sha256, boxed(&hasher.finalize())),
            Self::Sha384(hasher) => (Algorithm::Sha384, boxed(&hasher.finalize())),
            Self::Sha512(hasher) => (Algorithm::Sha512, boxed(&hasher.finalize())),
        };
        Integrity { algorithm, digest }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

fn boxed(digest: &[u8]) -> Box<[u8]> {
    digest.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha512_of(bytes: &[u8]) -> Integrity {
        let mut hasher = IntegrityHasher::new(Algorithm::Sha512);
        hasher.update(bytes);
        hasher.finish()
    }

    #[test]
    fn round_trips_sri() {
        let integrity = sha512_of(b"hello");
        let parsed = Integrity::parse_sri(&integrity.to_string()).unwrap();
        assert_eq!(parsed, integrity);
        assert!(parsed.storage_key().starts_with("sha512/9b71d224"));
    }

    #[test]
    fn each_hash_strongest_first_malformed_ones_skipped() {
        let sha512 = sha512_of(b"x").to_string();
        let sha1 = "sha1-C+7Hteo/D9vJXQ3UfzxbwnXaijM=";
        let each = Integrity::parse_each(&format!("{sha1} md5-AAAA sha256-short {sha512} junk"));
        let algorithms: Vec<Algorithm> = each.iter().map(Integrity::algorithm).collect();
        assert_eq!(algorithms, [Algorithm::Sha512, Algorithm::Sha1]);
        assert!(Integrity::parse_each("sha512-AAAA").is_empty());
    }

    #[test]
    fn strongest_hash_wins_and_unknown_ones_are_skipped() {
        let sha512 = sha512_of(b"x").to_string();
        let sha1 = "sha1-C+7Hteo/D9vJXQ3UfzxbwnXaijM=";
        let parsed = Integrity::parse_sri(&format!("md5-AAAA {sha1} {sha512}")).unwrap();
        assert_eq!(parsed.algorithm(), Algorithm::Sha512);
        let parsed = Integrity::parse_sri(sha1).unwrap();
        assert_eq!(parsed.algorithm(), Algorithm::Sha1);
    }

    #[test]
    fn rejects_bad_values() {
        for bad in ["", "sha512", "sha512-!!!", "sha512-AAAA", "md5-AAAA"] {
            assert!(Integrity::parse_sri(bad).is_err(), "{bad}");
        }
        assert!(Integrity::from_sha1_hex("abc").is_err());
        assert!(Integrity::from_dist(None, None).is_err());
        let shasum = "0bf5ae8f6d2c9a9ae2a0c2c3f6f0a44d4c61b0a2";
        assert_eq!(
            Integrity::from_dist(None, Some(shasum))
                .unwrap()
                .hex_digest(),
            shasum
        );
    }
}
