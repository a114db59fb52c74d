//! Packages built in code: a manifest, files, and the gzipped tarball npm would pack.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};
use sha1::Digest as _;

/// One published version, ready for the fake registry to serve.
#[derive(Clone, Debug)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The `package.json` inside the tarball, which is also the version document.
    pub manifest: Value,
    pub tarball: Bytes,
    /// `sha512-<base64>` of the tarball.
    pub integrity: String,
    /// Hex sha1 of the tarball.
    pub shasum: String,
    pub published: SystemTime,
    /// Fields added to `dist` as the registry serves it (`attestations`, or
    /// `signatures` that override the registry's own).
    pub dist: Map<String, Value>,
    /// The body of `/-/npm/v1/attestations/{name}@{version}`, when it has one.
    pub attestations: Option<Bytes>,
}

/// Builds a [`Package`]. Defaults: an `index.js`, no dependencies, published 30 days ago.
#[derive(Clone, Debug)]
pub struct PackageBuilder {
    name: String,
    version: String,
    manifest: Map<String, Value>,
    files: Vec<(String, Vec<u8>)>,
    published: SystemTime,
    dist: Map<String, Value>,
}

impl PackageBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        let mut manifest = Map::new();
        manifest.insert("name".into(), json!(name));
        manifest.insert("version".into(), json!(version));
        manifest.insert("description".into(), json!(format!("{name} for tests")));
        manifest.insert("main".into(), json!("index.js"));
        manifest.insert("license".into(), json!("MIT"));
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            manifest,
            files: vec![(
                "index.js".into(),
                format!("module.exports = {:?};\n", format!("{name}@{version}")).into_bytes(),
            )],
            published: SystemTime::now() - Duration::from_hours(30 * 24),
            dist: Map::new(),
        }
    }

    #[must_use]
    pub fn dependency(mut self, name: &str, range: &str) -> Self {
        self.object("dependencies")
            .insert(name.into(), json!(range));
        self
    }

    #[must_use]
    pub fn script(mut self, name: &str, command: &str) -> Self {
        self.object("scripts").insert(name.into(), json!(command));
        self
    }

    /// Sets any manifest field.
    #[must_use]
    pub fn field(mut self, key: &str, value: Value) -> Self {
        self.manifest.insert(key.into(), value);
        self
    }

    /// Adds a file under `package/`; a later file with the same path replaces it.
    #[must_use]
    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.retain(|(existing, _)| existing != path);
        self.files.push((path.into(), contents.into()));
        self
    }

    /// Leaves out the file at `path` (the default `index.js`, say), and the
    /// manifest's field `key` when one is given (its `main`).
    #[must_use]
    pub fn without(mut self, path: &str, key: Option<&str>) -> Self {
        self.files.retain(|(existing, _)| existing != path);
        if let Some(key) = key {
            self.manifest.remove(key);
        }
        self
    }

    /// Sets a field of `dist` as the registry serves it.
    #[must_use]
    pub fn dist_field(mut self, key: &str, value: Value) -> Self {
        self.dist.insert(key.into(), value);
        self
    }

    #[must_use]
    pub fn published(mut self, time: SystemTime) -> Self {
        self.published = time;
        self
    }

    pub fn build(self) -> Package {
        let manifest = Value::Object(self.manifest);
        let mut entries = vec![(
            "package/package.json".to_owned(),
            serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
        )];
        entries.extend(
            self.files
                .into_iter()
                .map(|(path, contents)| (format!("package/{path}"), contents)),
        );
        let tarball = Bytes::from(gzip_tar(&entries));
        let integrity = format!("sha512-{}", STANDARD.encode(sha2::Sha512::digest(&tarball)));
        let shasum = hex_encode(&sha1::Sha1::digest(&tarball));
        Package {
            name: self.name,
            version: self.version,
            manifest,
            tarball,
            integrity,
            shasum,
            published: self.published,
            dist: self.dist,
            attestations: None,
        }
    }

    fn object(&mut self, key: &str) -> &mut Map<String, Value> {
        self.manifest
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("dependency and script fields are objects")
    }
}

impl Package {
    /// A package around a tarball built elsewhere (a real one from test data), its
    /// version document read from the tarball's `package.json` by the caller.
    pub fn from_tarball(manifest: Value, tarball: impl Into<Bytes>) -> Self {
        let tarball = tarball.into();
        let field = |key: &str| {
            manifest[key]
                .as_str()
                .expect("the manifest names the package and version")
                .to_owned()
        };
        Self {
            name: field("name"),
            version: field("version"),
            integrity: format!("sha512-{}", STANDARD.encode(sha2::Sha512::digest(&tarball))),
            shasum: hex_encode(&sha1::Sha1::digest(&tarball)),
            manifest,
            tarball,
            published: SystemTime::now() - Duration::from_hours(30 * 24),
            dist: Map::new(),
            attestations: None,
        }
    }

    /// The same package with an attestations document served for it, and
    /// `dist.attestations` pointing at it.
    #[must_use]
    pub fn with_attestations(mut self, document: impl Into<Bytes>) -> Self {
        self.dist.insert(
            "attestations".into(),
            json!({
                "url": format!("/-/npm/v1/attestations/{}@{}", self.name, self.version),
                "provenance": {"predicateType": crate::provenance::SLSA_PROVENANCE_V1},
            }),
        );
        self.attestations = Some(document.into());
        self
    }
}

/// A gzipped tar of `(path, contents)` entries, as `npm pack` lays them out.
pub fn gzip_tar(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, contents) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(499_162_500);
        builder
            .append_data(&mut header, path, contents.as_slice())
            .expect("writing a tar to memory cannot fail");
    }
    builder
        .into_inner()
        .and_then(GzEncoder::finish)
        .expect("writing a tar to memory cannot fail")
}

fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
