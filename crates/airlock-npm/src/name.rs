//! Package names as npm's registry accepts them.
//!
//! Names come from request paths and upstream documents, both untrusted, and end up in
//! upstream URLs, database keys and log lines. [`PackageName`] is the only way in: it
//! admits the characters `encodeURIComponent` leaves alone (so a name never needs
//! escaping inside a path segment), one optional `@scope/`, and npm's length limit.
//! Legacy names with capital letters are accepted because the registry still serves them.

use std::fmt;
use std::sync::Arc;

use crate::Error;

const MAX_LENGTH: usize = 214;

/// A validated npm package name, cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName(Arc<str>);

impl PackageName {
    pub fn new(name: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > MAX_LENGTH {
            return Err(invalid("it is longer than 214 characters"));
        }
        let (scope, base) = match name.strip_prefix('@') {
            Some(rest) => {
                let Some((scope, base)) = rest.split_once('/') else {
                    return Err(invalid("a scoped name needs the form `@scope/name`"));
                };
                (Some(scope), base)
            }
            None => (None, name),
        };
        for part in scope.into_iter().chain([base]) {
            check_part(part).map_err(invalid)?;
        }
        Ok(Self(Arc::from(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scope without its `@`, when there is one.
    pub fn scope(&self) -> Option<&str> {
        let rest = self.0.strip_prefix('@')?;
        rest.split_once('/').map(|(scope, _)| scope)
    }

    /// The name without its scope: what tarball file names start with.
    pub fn basename(&self) -> &str {
        self.0.rsplit_once('/').map_or(&self.0, |(_, base)| base)
    }

    /// The name as one URL path segment (`@scope%2fname`), the form registries expect
    /// for packument requests.
    pub fn to_path_segment(&self) -> String {
        self.0.replacen('/', "%2f", 1)
    }

    /// The file name of this package's tarball for `version`.
    pub fn tarball_file(&self, version: &str) -> String {
        format!("{}-{version}.tgz", self.basename())
    }
}

fn check_part(part: &str) -> Result<(), &'static str> {
    if part.is_empty() {
        return Err("a name or scope part is empty");
    }
    if part.starts_with('.') || part.starts_with('_') {
        return Err("it starts with `.` or `_`");
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '.' | '_' | '~' | '!' | '*' | '\'' | '(' | ')')
    };
    if !part.chars().all(allowed) {
        return Err("it contains characters that are not URL-safe");
    }
    Ok(())
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PackageName({})", self.0)
    }
}

impl AsRef<str> for PackageName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A tarball request: which version of which package the file name asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarballFile {
    pub name: PackageName,
    pub version: String,
}

impl TarballFile {
    /// Reads `express-4.18.2.tgz` as version `4.18.2` of `name`. The version must be
    /// made of the characters semver allows, so it is safe in paths and keys.
    pub fn parse(name: &PackageName, file: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidTarballFile {
            name: name.to_string(),
            file: file.to_owned(),
            expected: name.basename().to_owned(),
        };
        let version = file
            .strip_prefix(name.basename())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(".tgz"))
            .ok_or_else(invalid)?;
        let version_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+');
        if version.is_empty() || !version.chars().all(version_char) {
            return Err(invalid());
        }
        Ok(Self {
            name: name.clone(),
            version: version.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(name: &str, expect: Result<(), &str>) {
        let got = PackageName::new(name)
            .map(|_| ())
            .map_err(|error| error.to_string());
        match (got, expect) {
            (Ok(()), Ok(())) => {}
            (Err(message), Err(fragment)) => assert!(message.contains(fragment), "{message}"),
            (got, expect) => panic!("{name}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn names() {
        check("express", Ok(()));
        check("@types/node", Ok(()));
        check("JSONStream", Ok(()));
        check("lodash.get", Ok(()));
        check("", Err("empty"));
        check("@scope", Err("`@scope/name`"));
        check("@/name", Err("empty"));
        check("@scope/", Err("empty"));
        check(".hidden", Err("starts with"));
        check("_private", Err("starts with"));
        check("..", Err("starts with"));
        check("a/b", Err("URL-safe"));
        check("@a/b/c", Err("URL-safe"));
        check("has space", Err("URL-safe"));
        check("percent%2e", Err("URL-safe"));
        check(&"a".repeat(215), Err("214"));
    }

    #[test]
    fn parts() {
        let name = PackageName::new("@scope/pkg").unwrap();
        assert_eq!(name.scope(), Some("scope"));
        assert_eq!(name.basename(), "pkg");
        assert_eq!(name.to_path_segment(), "@scope%2fpkg");
        assert_eq!(name.tarball_file("1.0.0"), "pkg-1.0.0.tgz");
        let name = PackageName::new("pkg").unwrap();
        assert_eq!(name.scope(), None);
        assert_eq!(name.to_path_segment(), "pkg");
    }

    #[test]
    fn tarball_files() {
        let name = PackageName::new("@scope/left-pad").unwrap();
        let file = TarballFile::parse(&name, "left-pad-1.2.3-beta.1+b.tgz").unwrap();
        assert_eq!(file.version, "1.2.3-beta.1+b");
        for bad in [
            "left-pad.tgz",
            "left-pad-.tgz",
            "other-1.0.0.tgz",
            "left-pad-1.0.0.tar",
            "left-pad-../x.tgz",
        ] {
            assert!(TarballFile::parse(&name, bad).is_err(), "{bad}");
        }
    }
}
