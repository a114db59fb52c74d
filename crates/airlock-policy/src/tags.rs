//! Repairing dist-tags after versions are hidden.
//!
//! A client resolving `latest` or `^1.14.0` must land on a version it may have, so a
//! tag whose version is hidden moves back rather than disappearing:
//!
//! - `latest` goes to the newest visible non-prerelease version not greater than the
//!   one it named;
//! - any other tag goes to the newest visible version not greater than the one it
//!   named, on the same major, and a prerelease only if it named a prerelease;
//! - a tag with no such version is dropped.

use indexmap::IndexMap;
use js_semver::Version;

/// `tags` repaired so that each points at one of `visible`.
pub fn repair_dist_tags<'a>(
    tags: &IndexMap<String, String>,
    visible: impl IntoIterator<Item = &'a str>,
) -> IndexMap<String, String> {
    let visible: Vec<(Version, &str)> = visible
        .into_iter()
        .filter_map(|text| Version::parse(text).ok().map(|version| (version, text)))
        .collect();
    let mut repaired = IndexMap::with_capacity(tags.len());
    for (tag, target) in tags {
        if visible.iter().any(|(_, text)| text == target) {
            repaired.insert(tag.clone(), target.clone());
            continue;
        }
        let Ok(wanted) = Version::parse(target) else {
            continue;
        };
        let prerelease_allowed = tag != "latest" && !wanted.pre_release.is_empty();
        let same_line = |version: &Version| tag == "latest" || version.major == wanted.major;
        let fallback = visible
            .iter()
            .filter(|(version, _)| *version <= wanted && same_line(version))
            .filter(|(version, _)| prerelease_allowed || version.pre_release.is_empty())
            .max_by(|(a, _), (b, _)| a.cmp(b));
        if let Some((_, text)) = fallback {
            repaired.insert(tag.clone(), (*text).to_owned());
        }
    }
    repaired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(tags: &[(&str, &str)], visible: &[&str], expect: &[(&str, &str)]) {
        let tags = tags
            .iter()
            .map(|(tag, version)| ((*tag).to_owned(), (*version).to_owned()))
            .collect();
        let repaired = repair_dist_tags(&tags, visible.iter().copied());
        let got: Vec<(&str, &str)> = repaired
            .iter()
            .map(|(tag, version)| (tag.as_str(), version.as_str()))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn visible_tags_stay() {
        check(&[("latest", "1.0.0")], &["1.0.0"], &[("latest", "1.0.0")]);
    }

    #[test]
    fn latest_falls_back_to_the_newest_older_stable_version() {
        check(
            &[("latest", "1.14.1")],
            &["1.13.0", "1.14.0", "0.30.3"],
            &[("latest", "1.14.0")],
        );
        check(
            &[("latest", "2.0.0")],
            &["1.9.0", "2.0.0-rc.1"],
            &[("latest", "1.9.0")],
        );
        check(&[("latest", "1.0.0")], &["1.1.0"], &[]);
        check(&[("latest", "1.0.0")], &[], &[]);
    }

    #[test]
    fn other_tags_stay_on_their_major_and_kind() {
        // axios's `legacy` tag on 0.x must not jump to 1.x.
        check(
            &[("legacy", "0.30.4")],
            &["0.30.3", "1.14.0"],
            &[("legacy", "0.30.3")],
        );
        check(&[("legacy", "0.30.4")], &["1.14.0"], &[]);
        check(
            &[("next", "2.0.0-beta.3")],
            &["2.0.0-beta.2", "1.9.0"],
            &[("next", "2.0.0-beta.2")],
        );
        check(&[("next", "2.0.0-beta.3")], &["1.9.0"], &[]);
        check(
            &[("stable", "2.1.0")],
            &["2.0.0", "2.1.0-rc.1"],
            &[("stable", "2.0.0")],
        );
    }

    #[test]
    fn tags_on_unparsable_versions_are_dropped_when_hidden() {
        check(
            &[("weird", "not-semver"), ("latest", "1.0.0")],
            &["1.0.0"],
            &[("latest", "1.0.0")],
        );
    }
}
