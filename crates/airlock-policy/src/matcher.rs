//! Package specs in policies: which packages and versions a rule covers.
//!
//! | spec | matches |
//! |---|---|
//! | `left-pad` | every version of `left-pad` |
//! | `left-pad@1.3.0` | exactly that version |
//! | `axios@>=1.14.1 <1.15.0` | versions in the range, with npm's semantics (a prerelease only when the range names one of its tuple) |
//! | `@mycorp/*` | every package of a scope |
//! | `eslint-plugin-*`, `@types/node?` | names matching a glob (`*` any run, `?` one character) |
//!
//! A version part may follow any name part.

use std::fmt;

use airlock_npm::PackageName;
use js_semver::{Range, Version};

use crate::Error;

/// A parsed package spec.
#[derive(Clone, Debug)]
pub struct PackageSpec {
    text: String,
    name: NamePattern,
    versions: Option<Range>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum NamePattern {
    Exact(PackageName),
    Glob(String),
}

/// How specific a spec's name part is, for choosing among overlapping rules: an exact
/// name beats a glob, and a longer glob beats a shorter one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity(u8, usize);

impl PackageSpec {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidSpec {
            spec: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        // The version part starts at the last `@` that does not begin a scope.
        let (name, versions) = match trimmed.get(1..).and_then(|rest| rest.rfind('@')) {
            Some(index) => (&trimmed[..=index], Some(&trimmed[index + 2..])),
            None => (trimmed, None),
        };
        let name = if name.contains(['*', '?']) {
            check_glob(name).map_err(invalid)?;
            NamePattern::Glob(name.to_owned())
        } else {
            NamePattern::Exact(PackageName::new(name).map_err(|error| invalid(error.to_string()))?)
        };
        let versions =
            match versions {
                None => None,
                Some("") => return Err(invalid("nothing follows the `@`".into())),
                Some(range) => Some(Range::parse(range).map_err(|error| {
                    invalid(format!("`{range}` is not a semver range: {error}"))
                })?),
            };
        Ok(Self {
            text: trimmed.to_owned(),
            name,
            versions,
        })
    }

    /// Whether the spec covers every version of `name`, whatever the version part.
    pub fn matches_name(&self, name: &PackageName) -> bool {
        match &self.name {
            NamePattern::Exact(exact) => exact == name,
            NamePattern::Glob(glob) => glob_matches(glob.as_bytes(), name.as_str().as_bytes()),
        }
    }

    /// Whether the spec covers `name@version`. A version that is not semver matches
    /// only specs without a version part.
    pub fn matches(&self, name: &PackageName, version: &str) -> bool {
        if !self.matches_name(name) {
            return false;
        }
        match &self.versions {
            None => true,
            Some(range) => Version::parse(version).is_ok_and(|version| range.satisfies(&version)),
        }
    }

    /// Like [`PackageSpec::matches`], but a prerelease also matches when its release
    /// tuple does: for deny rules, where `evil@*` must cover `evil@2.0.0-beta.1`
    /// although npm's range semantics would leave prereleases out.
    pub fn matches_including_prereleases(&self, name: &PackageName, version: &str) -> bool {
        if self.matches(name, version) {
            return true;
        }
        let (Some(range), Ok(parsed)) = (&self.versions, Version::parse(version)) else {
            return false;
        };
        !parsed.pre_release.is_empty()
            && range.satisfies(&Version::new(parsed.major, parsed.minor, parsed.patch))
    }

    /// Whether the spec names one exact version of one package.
    pub fn exact_version(&self) -> Option<(&PackageName, Version)> {
        let NamePattern::Exact(name) = &self.name else {
            return None;
        };
        let version_text = self.text.rsplit_once('@').map(|(_, version)| version)?;
        let version = Version::parse(version_text).ok()?;
        (version.to_string() == version_text).then_some((name, version))
    }

    /// The package the spec names, when its name part is not a glob.
    pub fn exact_name(&self) -> Option<&PackageName> {
        match &self.name {
            NamePattern::Exact(name) => Some(name),
            NamePattern::Glob(_) => None,
        }
    }

    /// Whether the name part is a glob (a scope like `@mycorp/*` included).
    pub fn is_glob(&self) -> bool {
        matches!(self.name, NamePattern::Glob(_))
    }

    pub fn has_versions(&self) -> bool {
        self.versions.is_some()
    }

    /// Whether the name part is a glob that names nothing (`*`, `@*/*`): it
    /// matches every package, or every scoped one.
    pub fn is_catch_all(&self) -> bool {
        matches!(&self.name, NamePattern::Glob(glob) if glob.chars().all(|c| matches!(c, '*' | '?' | '@' | '/')))
    }

    pub fn specificity(&self) -> Specificity {
        match &self.name {
            NamePattern::Exact(name) => Specificity(1, name.as_str().len()),
            NamePattern::Glob(glob) => Specificity(0, glob.len()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn check_glob(glob: &str) -> Result<(), String> {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.' | '_' | '~' | '!' | '\'' | '(' | ')' | '*' | '?' | '@' | '/'
            )
    };
    if glob.is_empty() || !glob.chars().all(allowed) {
        return Err("a glob may hold name characters, `*`, `?`, and one `@scope/`".into());
    }
    if glob.matches('/').count() > 1 || (glob.contains('/') && !glob.starts_with('@')) {
        return Err("only a scope may precede `/`".into());
    }
    Ok(())
}

/// `*` matches any run of characters (including none), `?` exactly one.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> PackageName {
        PackageName::new(text).unwrap()
    }

    #[track_caller]
    fn check(spec: &str, package: &str, version: &str, expect: bool) {
        let parsed = PackageSpec::parse(spec).unwrap();
        assert_eq!(
            parsed.matches(&name(package), version),
            expect,
            "{spec} vs {package}@{version}"
        );
    }

    #[test]
    fn names_scopes_globs_and_ranges() {
        check("left-pad", "left-pad", "1.0.0", true);
        check("left-pad", "left-pad", "1.0.0-beta.1", true);
        check("left-pad", "left-pads", "1.0.0", false);
        check("left-pad@1.3.0", "left-pad", "1.3.0", true);
        check("left-pad@1.3.0", "left-pad", "1.3.1", false);
        check("axios@>=1.14.1 <1.15.0", "axios", "1.14.1", true);
        check("axios@>=1.14.1 <1.15.0", "axios", "1.14.0", false);
        check("axios@^1.14.0", "axios", "1.15.0-beta.1", false);
        check("axios@1.15.0-beta.1", "axios", "1.15.0-beta.1", true);
        check("@mycorp/*", "@mycorp/tool", "0.0.1", true);
        check("@mycorp/*", "@other/tool", "0.0.1", false);
        check("@mycorp/*", "mycorp", "0.0.1", false);
        check("@scope/pkg@2", "@scope/pkg", "2.5.0", true);
        check("eslint-plugin-*", "eslint-plugin-react", "7.0.0", true);
        check("eslint-plugin-*", "eslint-config-x", "7.0.0", false);
        check("*-internal", "billing-internal", "1.0.0", true);
        check("lib?", "lib1", "1.0.0", true);
        check("lib?", "lib12", "1.0.0", false);
        check("left-pad@1.0.0", "left-pad", "not-semver", false);
    }

    #[test]
    fn deny_rules_cover_prereleases_of_their_range() {
        let spec = PackageSpec::parse("evil@*").unwrap();
        assert!(!spec.matches(&name("evil"), "2.0.0-beta.1"));
        assert!(spec.matches_including_prereleases(&name("evil"), "2.0.0-beta.1"));
        let spec = PackageSpec::parse("axios@>=1.14.1 <1.15.0").unwrap();
        assert!(spec.matches_including_prereleases(&name("axios"), "1.14.2-rc.1"));
        assert!(!spec.matches_including_prereleases(&name("axios"), "1.15.0-rc.1"));
    }

    #[test]
    fn bad_specs_say_why() {
        for (spec, fragment) in [
            ("", "empty"),
            ("bad name", "URL-safe"),
            ("left-pad@", "nothing follows"),
            ("left-pad@>>1", "not a semver range"),
            ("a/b*", "only a scope"),
            ("x$*", "a glob may hold"),
            ("é", "URL-safe"),
            ("éa@1", "URL-safe"),
        ] {
            let error = PackageSpec::parse(spec).unwrap_err().to_string();
            assert!(error.contains(fragment), "{spec}: {error}");
        }
    }

    #[test]
    fn exact_versions_and_specificity() {
        let exact = PackageSpec::parse("@a/b@1.2.3").unwrap();
        assert_eq!(exact.exact_version().unwrap().1.to_string(), "1.2.3");
        assert!(
            PackageSpec::parse("a@^1.2.3")
                .unwrap()
                .exact_version()
                .is_none()
        );
        assert!(
            PackageSpec::parse("a").unwrap().specificity()
                > PackageSpec::parse("@mycorp/*").unwrap().specificity()
        );
        assert!(
            PackageSpec::parse("@mycorp/tool-*").unwrap().specificity()
                > PackageSpec::parse("@mycorp/*").unwrap().specificity()
        );
    }
}
