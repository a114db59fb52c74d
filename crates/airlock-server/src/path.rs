//! Package paths, parsed by hand.
//!
//! npm clients spell a scoped name two ways (`/@scope%2fname` and `/@scope/name`), and
//! a router's path patterns cannot tell `/@scope/name` (a packument) from `/name/1.0.0`
//! (a version) without knowing about scopes. So everything that is not a `/-/`
//! endpoint arrives here as a raw path.

use std::borrow::Cow;

use airlock_npm::PackageName;

use crate::ApiError;

/// What a package path asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PackagePath {
    Packument(PackageName),
    /// A version or a dist-tag.
    Version(PackageName, String),
    Tarball(PackageName, String),
}

impl PackagePath {
    pub(crate) fn parse(raw_path: &str) -> Result<Self, ApiError> {
        let path = decode_slash(raw_path.trim_start_matches('/'));
        let segments: Vec<&str> = path.split('/').collect();
        let (name, rest) = match segments.as_slice() {
            [scope, base, rest @ ..] if scope.starts_with('@') => (format!("{scope}/{base}"), rest),
            [name, rest @ ..] => ((*name).to_owned(), rest),
            [] => unreachable!("split yields at least one segment"),
        };
        let name = PackageName::new(&name).map_err(|error| ApiError::bad_name(&error))?;
        match rest {
            [] | [""] => Ok(Self::Packument(name)),
            ["-", file] if !file.is_empty() => Ok(Self::Tarball(name, (*file).to_owned())),
            [spec] if !spec.is_empty() && *spec != "-" => {
                Ok(Self::Version(name, percent_decode(spec)))
            }
            _ => Err(ApiError::not_found(format!(
                "`/{raw}`",
                raw = raw_path.trim_start_matches('/')
            ))),
        }
    }
}

/// `@scope%2fname` becomes `@scope/name`; only the scope separator is decoded.
fn decode_slash(path: &str) -> Cow<'_, str> {
    match path.find("%2f").or_else(|| path.find("%2F")) {
        Some(index) => {
            let mut decoded = path.to_owned();
            decoded.replace_range(index..index + 3, "/");
            Cow::Owned(decoded)
        }
        None => Cow::Borrowed(path),
    }
}

/// Version specs may carry `+` build metadata sent as `%2B`.
fn percent_decode(spec: &str) -> String {
    spec.replace("%2B", "+").replace("%2b", "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(name: &str) -> PackageName {
        PackageName::new(name).unwrap()
    }

    #[test]
    fn paths() {
        let check = |path: &str, expect: PackagePath| {
            assert_eq!(PackagePath::parse(path).unwrap(), expect, "{path}");
        };
        check("/express", PackagePath::Packument(name("express")));
        check(
            "/@types%2fnode",
            PackagePath::Packument(name("@types/node")),
        );
        check(
            "/@types%2Fnode",
            PackagePath::Packument(name("@types/node")),
        );
        check("/@types/node", PackagePath::Packument(name("@types/node")));
        check(
            "/express/latest",
            PackagePath::Version(name("express"), "latest".into()),
        );
        check(
            "/@types/node/20.1.0",
            PackagePath::Version(name("@types/node"), "20.1.0".into()),
        );
        check(
            "/@types%2fnode/1.0.0%2Bb",
            PackagePath::Version(name("@types/node"), "1.0.0+b".into()),
        );
        check(
            "/express/-/express-4.0.0.tgz",
            PackagePath::Tarball(name("express"), "express-4.0.0.tgz".into()),
        );
        check(
            "/@a/b/-/b-1.0.0.tgz",
            PackagePath::Tarball(name("@a/b"), "b-1.0.0.tgz".into()),
        );
    }

    #[test]
    fn bad_paths() {
        let status = |path: &str| PackagePath::parse(path).unwrap_err().status().as_u16();
        assert_eq!(status("/"), 400);
        assert_eq!(status("/.."), 400);
        assert_eq!(status("/@scope"), 400);
        assert_eq!(status("/Bad Name"), 400);
        assert_eq!(status("/express/-"), 404);
        assert_eq!(status("/express/1.0.0/extra"), 404);
    }
}
