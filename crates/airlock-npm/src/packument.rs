//! Packuments: the per-package documents a registry serves.
//!
//! Airlock always fetches the full document (per-version publish times exist only
//! there) and derives every answer from it. Upstream bytes are kept as [`RawValue`]s,
//! so fields Airlock does not touch (`integrity`, `shasum`, `signatures`,
//! `attestations`, and anything a registry adds later) reach clients byte for byte.
//! Only what a decision needs is parsed: the versions, `dist-tags`, `time` and each
//! version's `dist`.
//!
//! A [`View`] is the outcome of deciding: which versions a client may see and where the
//! dist-tags point. Rendering takes a view, so every response form is filtered the
//! same way.

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::{Error, Integrity, PackageName};

pub(crate) type RawMap = IndexMap<String, Box<RawValue>>;

/// A top-level member of the document, in upstream order.
pub(crate) enum Member {
    Raw(Box<RawValue>),
    DistTags,
    Versions,
    Time,
}

/// A parsed full packument.
pub struct Packument {
    name: PackageName,
    pub(crate) members: Vec<(String, Member)>,
    dist_tags: IndexMap<String, String>,
    versions: IndexMap<String, VersionDoc>,
    pub(crate) time: RawMap,
}

/// One entry of `versions`.
pub struct VersionDoc {
    pub(crate) fields: RawMap,
    pub(crate) dist: Dist,
}

pub(crate) struct Dist {
    pub(crate) fields: RawMap,
    integrity: Option<String>,
    shasum: Option<String>,
    tarball: Option<String>,
}

/// The versions a client may see, and where each dist-tag points among them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub(crate) visible: Vec<bool>,
    pub(crate) dist_tags: IndexMap<String, String>,
}

impl Packument {
    /// Parses a full packument. The document must be a JSON object whose `versions`
    /// are objects with a `dist` object; every other value is kept as sent.
    pub fn parse(name: &PackageName, body: &[u8]) -> Result<Self, Error> {
        let shape = |reason: String| Error::PackumentShape {
            name: name.to_string(),
            reason,
        };
        let top: RawMap = serde_json::from_slice(body).map_err(|source| Error::PackumentJson {
            name: name.to_string(),
            source,
        })?;

        let mut members = Vec::with_capacity(top.len());
        let mut dist_tags = IndexMap::new();
        let mut versions = IndexMap::new();
        let mut time = RawMap::new();
        for (key, raw) in top {
            let member = match key.as_str() {
                "name" => {
                    let upstream_name: String = serde_json::from_str(raw.get())
                        .map_err(|_| shape("`name` is not a string".into()))?;
                    if upstream_name != name.as_str() {
                        return Err(shape(format!("it describes `{upstream_name}`")));
                    }
                    Member::Raw(raw)
                }
                "dist-tags" => {
                    dist_tags = parse_string_map(&raw)
                        .ok_or_else(|| shape("`dist-tags` is not an object of strings".into()))?;
                    Member::DistTags
                }
                "versions" => {
                    let raw_versions: IndexMap<String, RawMap> = serde_json::from_str(raw.get())
                        .map_err(|_| shape("`versions` is not an object of objects".into()))?;
                    for (version, fields) in raw_versions {
                        let doc = VersionDoc::from_fields(fields)
                            .map_err(|reason| shape(format!("version `{version}`: {reason}")))?;
                        versions.insert(version, doc);
                    }
                    Member::Versions
                }
                "time" => {
                    time = serde_json::from_str(raw.get())
                        .map_err(|_| shape("`time` is not an object".into()))?;
                    Member::Time
                }
                _ => Member::Raw(raw),
            };
            members.push((key, member));
        }
        Ok(Self {
            name: name.clone(),
            members,
            dist_tags,
            versions,
            time,
        })
    }

    pub fn name(&self) -> &PackageName {
        &self.name
    }

    pub fn versions(&self) -> impl Iterator<Item = (&str, &VersionDoc)> {
        self.versions
            .iter()
            .map(|(version, doc)| (version.as_str(), doc))
    }

    pub fn version(&self, version: &str) -> Option<&VersionDoc> {
        self.versions.get(version)
    }

    pub fn dist_tags(&self) -> &IndexMap<String, String> {
        &self.dist_tags
    }

    /// The publish time of `version` as the registry wrote it (RFC 3339).
    pub fn publish_time(&self, version: &str) -> Option<String> {
        let raw = self.time.get(version)?;
        serde_json::from_str(raw.get()).ok()
    }

    /// Every version visible, dist-tags kept where they point at a version that exists.
    pub fn view_all(&self) -> View {
        self.view(|_, _| true)
    }

    /// The view that shows exactly the versions `admit` accepts. A dist-tag whose
    /// version is hidden is dropped; repairing it to an older version is the policy's
    /// job, which replaces the tags of the returned view.
    pub fn view(&self, mut admit: impl FnMut(&str, &VersionDoc) -> bool) -> View {
        let visible: Vec<bool> = self
            .versions
            .iter()
            .map(|(version, doc)| admit(version, doc))
            .collect();
        let dist_tags = self
            .dist_tags
            .iter()
            .filter(|(_, version)| {
                self.versions
                    .get_index_of(version.as_str())
                    .is_some_and(|index| visible[index])
            })
            .map(|(tag, version)| (tag.clone(), version.clone()))
            .collect();
        View { visible, dist_tags }
    }

    pub(crate) fn visible_versions<'a>(
        &'a self,
        view: &'a View,
    ) -> impl Iterator<Item = (&'a str, &'a VersionDoc)> + 'a {
        self.versions
            .iter()
            .zip(&view.visible)
            .filter(|(_, visible)| **visible)
            .map(|((version, doc), _)| (version.as_str(), doc))
    }

    /// The position of `version` among the versions, for indexing per-version data.
    pub fn version_index(&self, version: &str) -> Option<usize> {
        self.versions.get_index_of(version)
    }

    /// The version at `index`, as [`Packument::version_index`] numbers them.
    pub fn version_at(&self, index: usize) -> Option<(&str, &VersionDoc)> {
        self.versions
            .get_index(index)
            .map(|(version, doc)| (version.as_str(), doc))
    }

    /// The versions `view` shows, in document order.
    pub fn visible<'a>(&'a self, view: &'a View) -> impl Iterator<Item = &'a str> + 'a {
        self.visible_versions(view).map(|(version, _)| version)
    }

    /// Resolves a version or a dist-tag within `view`, as `GET /{name}/{spec}` does.
    pub fn resolve<'a>(&'a self, view: &View, spec: &str) -> Option<(&'a str, &'a VersionDoc)> {
        let version = view.dist_tags.get(spec).map_or(spec, String::as_str);
        let index = self.versions.get_index_of(version)?;
        if !view.visible.get(index).copied().unwrap_or(false) {
            return None;
        }
        let (version, doc) = self.versions.get_index(index)?;
        Some((version.as_str(), doc))
    }
}

impl View {
    pub fn dist_tags(&self) -> &IndexMap<String, String> {
        &self.dist_tags
    }

    /// Replaces the dist-tags, as a policy's repair decides them.
    #[must_use]
    pub fn with_dist_tags(mut self, dist_tags: IndexMap<String, String>) -> Self {
        self.dist_tags = dist_tags;
        self
    }

    /// Whether the version at `index` is visible.
    pub fn is_visible(&self, index: usize) -> bool {
        self.visible.get(index).copied().unwrap_or(false)
    }

    /// How many versions are visible.
    pub fn len(&self) -> usize {
        self.visible.iter().filter(|visible| **visible).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl VersionDoc {
    fn from_fields(fields: RawMap) -> Result<Self, String> {
        let Some(raw_dist) = fields.get("dist") else {
            return Err("it has no `dist`".into());
        };
        let dist_fields: RawMap = serde_json::from_str(raw_dist.get())
            .map_err(|_| "`dist` is not an object".to_owned())?;
        let string = |key: &str| -> Result<Option<String>, String> {
            dist_fields
                .get(key)
                .map(|raw| serde_json::from_str::<String>(raw.get()))
                .transpose()
                .map_err(|_| format!("`dist.{key}` is not a string"))
        };
        let dist = Dist {
            integrity: string("integrity")?,
            shasum: string("shasum")?,
            tarball: string("tarball")?,
            fields: dist_fields,
        };
        Ok(Self { fields, dist })
    }

    /// The tarball URL the upstream gave.
    pub fn upstream_tarball(&self) -> Option<&str> {
        self.dist.tarball.as_deref()
    }

    /// `dist.integrity` as the registry wrote it (falling back to `dist.shasum`).
    pub fn integrity_text(&self) -> Option<&str> {
        self.dist
            .integrity
            .as_deref()
            .or(self.dist.shasum.as_deref())
    }

    /// The strongest digest the registry gives for the tarball.
    pub fn integrity(&self) -> Result<Integrity, Error> {
        Integrity::from_dist(self.dist.integrity.as_deref(), self.dist.shasum.as_deref())
    }

    /// A field of the version document, deserialised; `None` when absent or of
    /// another type.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_str(self.fields.get(key)?.get()).ok()
    }

    /// A field of `dist` (`signatures`, `attestations`, ...), deserialised; `None`
    /// when absent or of another type.
    pub fn dist_get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_str(self.dist.fields.get(key)?.get()).ok()
    }

    /// Whether `dist` has `key` at all, whatever its value.
    pub fn dist_has(&self, key: &str) -> bool {
        self.dist.fields.contains_key(key)
    }

    /// Whether npm runs a script of this version at install time, as the registry's
    /// `hasInstallScript` flag says it.
    pub fn has_install_script(&self) -> bool {
        if self.get::<bool>("hasInstallScript") == Some(true) {
            return true;
        }
        self.get::<IndexMap<String, serde_json::Value>>("scripts")
            .is_some_and(|scripts| {
                ["preinstall", "install", "postinstall"]
                    .iter()
                    .any(|script| scripts.contains_key(*script))
            })
    }

    /// The version's `license`: the string (an SPDX expression, usually), or the
    /// old `{"type": ...}` object's type.
    pub fn license(&self) -> Option<String> {
        match self.get::<serde_json::Value>("license")? {
            serde_json::Value::String(text) if !text.trim().is_empty() => Some(text),
            serde_json::Value::Object(object) => object
                .get("type")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            _ => None,
        }
    }
}

fn parse_string_map(raw: &RawValue) -> Option<IndexMap<String, String>> {
    serde_json::from_str(raw.get()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> PackageName {
        PackageName::new("demo").unwrap()
    }

    #[track_caller]
    fn parse_error(body: &str) -> String {
        match Packument::parse(&name(), body.as_bytes()) {
            Ok(_) => panic!("parsed: {body}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        assert!(parse_error("{").contains("not valid JSON"));
        assert!(parse_error("[]").contains("not valid JSON"));
        assert!(parse_error(r#"{"name":"other"}"#).contains("describes `other`"));
        assert!(parse_error(r#"{"versions":[]}"#).contains("`versions` is not an object"));
        assert!(
            parse_error(r#"{"versions":{"1.0.0":{}}}"#)
                .contains("version `1.0.0`: it has no `dist`")
        );
        assert!(
            parse_error(r#"{"versions":{"1.0.0":{"dist":{"tarball":1}}}}"#)
                .contains("`dist.tarball`")
        );
        assert!(parse_error(r#"{"dist-tags":{"latest":1}}"#).contains("dist-tags"));
    }

    #[test]
    fn view_drops_tags_of_hidden_versions() {
        let body = r#"{"name":"demo","dist-tags":{"latest":"2.0.0","old":"1.0.0","gone":"9.9.9"},
            "versions":{"1.0.0":{"dist":{}},"2.0.0":{"dist":{}}}}"#;
        let packument = Packument::parse(&name(), body.as_bytes()).unwrap();
        let all = packument.view_all();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all.dist_tags().keys().collect::<Vec<_>>(),
            ["latest", "old"]
        );
        let view = packument.view(|version, _| version == "1.0.0");
        assert_eq!(view.dist_tags().keys().collect::<Vec<_>>(), ["old"]);
        assert_eq!(packument.resolve(&view, "old").unwrap().0, "1.0.0");
        assert!(packument.resolve(&view, "2.0.0").is_none());
        assert!(packument.resolve(&view, "latest").is_none());
    }

    #[test]
    fn install_scripts_are_detected() {
        let body = r#"{"versions":{
            "1.0.0":{"dist":{},"scripts":{"test":"x"}},
            "2.0.0":{"dist":{},"scripts":{"postinstall":"node x"}},
            "3.0.0":{"dist":{},"hasInstallScript":true}}}"#;
        let packument = Packument::parse(&name(), body.as_bytes()).unwrap();
        let flags: Vec<bool> = packument
            .versions()
            .map(|(_, doc)| doc.has_install_script())
            .collect();
        assert_eq!(flags, [false, true, true]);
    }
}
