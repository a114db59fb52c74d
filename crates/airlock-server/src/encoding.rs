//! Compressed metadata: the content codings Airlock answers packuments and version
//! documents in. pnpm, Yarn berry and Bun accept brotli; npm and Yarn classic accept
//! gzip; a client that names neither gets the plain body.

use axum::http::{HeaderMap, header};
use bytes::Bytes;

/// Bodies smaller than this are sent as they are: compressing saves too little.
pub(crate) const COMPRESS_FROM: usize = 1024;

/// Brotli at quality 5 with a 4 MiB window: within a few percent of the best ratio
/// on packuments, at a fraction of quality 11's time (a 16 MB packument compresses
/// once per render in well under a second).
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;

/// A strong ETag derived from the body.
pub(crate) fn etag_of(body: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// A content coding of a metadata answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Coding {
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Brotli => "br",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Self::Gzip => 0,
            Self::Brotli => 1,
        }
    }

    /// `body` in this coding.
    pub(crate) fn compress(self, body: &[u8]) -> Bytes {
        use std::io::Write as _;
        let mut out = Vec::with_capacity(body.len() / 4);
        // Writing to memory cannot fail.
        match self {
            Self::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(out, flate2::Compression::default());
                let _ = encoder.write_all(body);
                out = encoder.finish().unwrap_or_default();
            }
            Self::Brotli => {
                let mut encoder = brotli::CompressorWriter::new(
                    &mut out,
                    64 * 1024,
                    BROTLI_QUALITY,
                    BROTLI_WINDOW,
                );
                let _ = encoder.write_all(body);
                drop(encoder);
            }
        }
        Bytes::from(out)
    }

    /// The ETag of this representation of a body whose ETag is `etag`: another
    /// representation, another strong validator.
    pub(crate) fn etag(self, etag: &str) -> String {
        format!("{}-{}\"", etag.trim_end_matches('"'), self.name())
    }

    /// The coding to answer `request` in: the one its `Accept-Encoding` weighs
    /// highest (brotli on a tie, being smaller), none when it accepts neither.
    pub(crate) fn preferred(request: &HeaderMap) -> Option<Self> {
        let mut weights = [None::<f32>; 2];
        let mut any = None::<f32>;
        for coding in request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
        {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .find_map(|parameter| parameter.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            match name.as_str() {
                "gzip" | "x-gzip" => weights[0] = Some(q),
                "br" => weights[1] = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
        let weight = |coding: Self| weights[coding.index()].or(any).unwrap_or(0.0);
        let (gzip, brotli) = (weight(Self::Gzip), weight(Self::Brotli));
        if brotli > 0.0 && brotli >= gzip {
            Some(Self::Brotli)
        } else if gzip > 0.0 {
            Some(Self::Gzip)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preferred(accept: &str) -> Option<Coding> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, accept.parse().unwrap());
        Coding::preferred(&headers)
    }

    #[test]
    fn each_client_gets_the_smallest_coding_it_accepts() {
        // What npm, Yarn classic, pnpm, Yarn berry and Bun send.
        assert_eq!(preferred("gzip,deflate"), Some(Coding::Gzip));
        assert_eq!(preferred("gzip, deflate"), Some(Coding::Gzip));
        assert_eq!(preferred("gzip,deflate,br"), Some(Coding::Brotli));
        assert_eq!(preferred("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(preferred("gzip, deflate, br, zstd"), Some(Coding::Brotli));
        assert_eq!(preferred("br;q=0, gzip"), Some(Coding::Gzip));
        assert_eq!(preferred("br;q=0.5, gzip;q=0.8"), Some(Coding::Gzip));
        assert_eq!(preferred("gzip;q=0"), None);
        assert_eq!(preferred("identity"), None);
        assert_eq!(preferred("*"), Some(Coding::Brotli));
        assert_eq!(preferred("*, br;q=0"), Some(Coding::Gzip));
        assert_eq!(Coding::preferred(&HeaderMap::new()), None);
    }

    #[test]
    fn both_codings_round_trip_and_shrink_json() {
        use std::io::Read as _;
        let body = br#"{"name":"demo","versions":{"1.0.0":{"dist":{"tarball":"http://127.0.0.1/demo/-/demo-1.0.0.tgz"}}}}"#.repeat(200);
        let gzip = Coding::Gzip.compress(&body);
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, body);
        let brotli = Coding::Brotli.compress(&body);
        let mut plain = Vec::new();
        brotli::Decompressor::new(&brotli[..], 4096)
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, body);
        assert!(brotli.len() < body.len() / 10 && gzip.len() < body.len() / 10);
        assert_eq!(Coding::Brotli.etag("\"abc\""), "\"abc-br\"");
        assert_eq!(Coding::Gzip.etag("\"abc\""), "\"abc-gzip\"");
    }
}
