//! Writing packuments and version documents back out, as clients asked for them.
//!
//! The writer emits raw upstream values verbatim and rewrites exactly one thing:
//! `dist.tarball`, which must point at Airlock so that no client ever downloads a
//! tarball that has not passed through it. The abbreviated form carries exactly the
//! fields of npm's install format (`application/vnd.npm.install-v1+json`).

use serde_json::value::RawValue;

use crate::packument::{Member, RawMap, VersionDoc};
use crate::{PackageName, Packument, View};

/// Which packument a client asked for through its `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    Full,
    Abbreviated,
}

impl Form {
    pub const ABBREVIATED_MEDIA_TYPE: &'static str = "application/vnd.npm.install-v1+json";

    /// npm, pnpm and Bun ask for the abbreviated form, with JSON as a fallback; a
    /// client that does not name it gets the full document, as from the registry.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(accept) if accept.contains(Self::ABBREVIATED_MEDIA_TYPE) => Self::Abbreviated,
            _ => Self::Full,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Full => "application/json",
            Self::Abbreviated => Self::ABBREVIATED_MEDIA_TYPE,
        }
    }
}

/// The fields of a version in the abbreviated form, in the registry's order.
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bin",
    "directories",
    "dist",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "cpu",
    "os",
];

/// Where rewritten tarball URLs point: Airlock's public base URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TarballBase(String);

impl TarballBase {
    /// `base` is a URL prefix such as `http://127.0.0.1:4873` or
    /// `https://airlock.corp.example/npm/`; a trailing slash is ignored.
    pub fn new(base: &str) -> Self {
        Self(base.trim_end_matches('/').to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL Airlock serves `name@version`'s tarball at.
    pub fn tarball_url(&self, name: &PackageName, version: &str) -> String {
        format!("{}/{name}/-/{}", self.0, name.tarball_file(version))
    }
}

impl Packument {
    /// Renders the document in `form`, showing only what `view` admits.
    pub fn render(&self, view: &View, form: Form, base: &TarballBase) -> Vec<u8> {
        let mut out = Writer::with_capacity(4096);
        match form {
            Form::Full => self.render_full(view, base, &mut out),
            Form::Abbreviated => self.render_abbreviated(view, base, &mut out),
        }
        // The answer is kept with the packument: without the slack doubling left,
        // a 16 MB answer does not hold 32 MB.
        out.0.shrink_to_fit();
        out.0
    }

    /// Renders one version document, as `GET /{name}/{version}` answers.
    pub fn render_version(&self, version: &str, doc: &VersionDoc, base: &TarballBase) -> Vec<u8> {
        let mut out = Writer::with_capacity(1024);
        write_version(self.name(), version, doc, base, None, &mut out);
        out.0
    }

    fn render_full(&self, view: &View, base: &TarballBase, out: &mut Writer) {
        out.open();
        for (key, member) in &self.members {
            out.key(key);
            match member {
                Member::Raw(raw) => out.raw(raw),
                Member::DistTags => out.string_map(view.dist_tags()),
                Member::Versions => self.write_versions(view, base, None, out),
                Member::Time => self.write_time(view, out),
            }
        }
        out.close();
    }

    fn render_abbreviated(&self, view: &View, base: &TarballBase, out: &mut Writer) {
        out.open();
        out.key("name");
        out.string(self.name().as_str());
        if let Some(modified) = self.time.get("modified") {
            out.key("modified");
            out.raw(modified);
        }
        out.key("dist-tags");
        out.string_map(view.dist_tags());
        out.key("versions");
        self.write_versions(view, base, Some(ABBREVIATED_FIELDS), out);
        out.close();
    }

    fn write_versions(
        &self,
        view: &View,
        base: &TarballBase,
        only: Option<&[&str]>,
        out: &mut Writer,
    ) {
        out.open();
        for (version, doc) in self.visible_versions(view) {
            out.key(version);
            write_version(self.name(), version, doc, base, only, out);
        }
        out.close();
    }

    /// `time` keeps its package-level entries (`created`, `modified`, ...) and the
    /// entries of visible versions only: a hidden version leaves no trace.
    fn write_time(&self, view: &View, out: &mut Writer) {
        out.open();
        let visible: std::collections::HashSet<&str> = self
            .visible_versions(view)
            .map(|(version, _)| version)
            .collect();
        for (key, raw) in &self.time {
            if self.version(key).is_some() && !visible.contains(key.as_str()) {
                continue;
            }
            out.key(key);
            out.raw(raw);
        }
        out.close();
    }
}

fn write_version(
    name: &PackageName,
    version: &str,
    doc: &VersionDoc,
    base: &TarballBase,
    only: Option<&[&str]>,
    out: &mut Writer,
) {
    out.open();
    let write_field = |key: &str, raw: &RawValue, out: &mut Writer| {
        out.key(key);
        if key == "dist" {
            write_dist(&doc.dist.fields, &base.tarball_url(name, version), out);
        } else {
            out.raw(raw);
        }
    };
    match only {
        None => {
            for (key, raw) in &doc.fields {
                write_field(key, raw, out);
            }
        }
        Some(keys) => {
            for key in keys {
                if *key == "hasInstallScript" {
                    if doc.has_install_script() {
                        out.key(key);
                        out.0.extend_from_slice(b"true");
                        out.1 = true;
                    }
                } else if let Some(raw) = doc.fields.get(*key) {
                    write_field(key, raw, out);
                }
            }
        }
    }
    out.close();
}

fn write_dist(fields: &RawMap, tarball: &str, out: &mut Writer) {
    out.open();
    let mut wrote_tarball = false;
    for (key, raw) in fields {
        out.key(key);
        if key == "tarball" {
            out.string(tarball);
            wrote_tarball = true;
        } else {
            out.raw(raw);
        }
    }
    if !wrote_tarball {
        out.key("tarball");
        out.string(tarball);
    }
    out.close();
}

/// A minimal JSON writer that tracks whether a comma is due.
struct Writer(Vec<u8>, bool);

impl Writer {
    fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity), false)
    }

    fn open(&mut self) {
        self.0.push(b'{');
        self.1 = false;
    }

    fn close(&mut self) {
        self.0.push(b'}');
        self.1 = true;
    }

    fn key(&mut self, key: &str) {
        if self.1 {
            self.0.push(b',');
        }
        self.string(key);
        self.0.push(b':');
        self.1 = false;
    }

    fn string(&mut self, value: &str) {
        serde_json::to_writer(&mut self.0, value).expect("writing to a Vec cannot fail");
        self.1 = true;
    }

    fn raw(&mut self, raw: &RawValue) {
        self.0.extend_from_slice(raw.get().as_bytes());
        self.1 = true;
    }

    fn string_map<'a>(&mut self, map: impl IntoIterator<Item = (&'a String, &'a String)>) {
        self.open();
        for (key, value) in map {
            self.key(key);
            self.string(value);
        }
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"_id":"@scope/demo","name":"@scope/demo","description":"d",
      "dist-tags":{"latest":"1.1.0"},
      "versions":{
        "1.0.0":{"name":"@scope/demo","version":"1.0.0","readme":"r","scripts":{"postinstall":"x"},
          "dependencies":{"a":"^1"},
          "dist":{"integrity":"sha512-AAAA","shasum":"ab","tarball":"https://up.invalid/@scope/demo/-/demo-1.0.0.tgz",
                  "signatures":[{"keyid":"SHA256:k","sig":"MEUC\u002b"}]}},
        "1.1.0":{"name":"@scope/demo","version":"1.1.0","dist":{"shasum":"cd"}}},
      "time":{"created":"2020-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z",
              "1.0.0":"2020-01-01T00:00:00.000Z","1.1.0":"2021-01-01T00:00:00.000Z"},
      "readme":"long"}"#;

    fn packument() -> Packument {
        Packument::parse(&PackageName::new("@scope/demo").unwrap(), BODY.as_bytes()).unwrap()
    }

    fn render(form: Form, view: &View) -> serde_json::Value {
        let base = TarballBase::new("http://127.0.0.1:9/");
        serde_json::from_slice(&packument().render(view, form, &base)).unwrap()
    }

    #[test]
    fn full_form_rewrites_only_the_tarball() {
        let packument = packument();
        let bytes = packument.render(
            &packument.view_all(),
            Form::Full,
            &TarballBase::new("http://127.0.0.1:9"),
        );
        let text = String::from_utf8(bytes).unwrap();
        // Upstream escapes survive byte for byte, which keeps signatures exact.
        assert!(text.contains(r#""sig":"MEUC\u002b""#), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json["versions"]["1.0.0"]["dist"]["tarball"],
            "http://127.0.0.1:9/@scope/demo/-/demo-1.0.0.tgz"
        );
        assert_eq!(
            json["versions"]["1.1.0"]["dist"]["tarball"],
            "http://127.0.0.1:9/@scope/demo/-/demo-1.1.0.tgz",
            "a missing tarball URL is added"
        );
        assert_eq!(json["versions"]["1.0.0"]["readme"], "r");
        assert_eq!(json["readme"], "long");
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "_id",
                "name",
                "description",
                "dist-tags",
                "versions",
                "time",
                "readme"
            ]
        );
    }

    #[test]
    fn abbreviated_form_has_install_fields_only() {
        let packument = packument();
        let json = render(Form::Abbreviated, &packument.view_all());
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["name", "modified", "dist-tags", "versions"]);
        let version = json["versions"]["1.0.0"].as_object().unwrap();
        let keys: Vec<_> = version.keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "name",
                "version",
                "dependencies",
                "dist",
                "hasInstallScript"
            ]
        );
        assert!(json["versions"]["1.1.0"].get("hasInstallScript").is_none());
    }

    #[test]
    fn hidden_versions_leave_no_trace() {
        let packument = packument();
        let view = packument.view(|version, _| version == "1.0.0");
        let json = render(Form::Full, &view);
        assert!(json["versions"].get("1.1.0").is_none());
        assert!(json["time"].get("1.1.0").is_none());
        assert!(json["time"].get("modified").is_some());
        assert_eq!(json["dist-tags"], serde_json::json!({}));
    }

    #[test]
    fn content_negotiation() {
        let npm = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
        assert_eq!(Form::from_accept(Some(npm)), Form::Abbreviated);
        assert_eq!(Form::from_accept(Some("application/json")), Form::Full);
        assert_eq!(Form::from_accept(None), Form::Full);
    }
}
