//! Packuments for unit tests: a package's versions, when each was published, and
//! its `latest` tag.

use airlock_npm::{PackageName, Packument};

/// `name` with `versions` (`(version, published)`: an RFC 3339 time, or none) and
/// `latest`, each version's tarball on a loopback port nothing listens on.
pub(crate) fn packument(
    name: &str,
    versions: &[(&str, Option<&str>)],
    latest: Option<&str>,
) -> Packument {
    let documents: serde_json::Map<String, serde_json::Value> = versions
        .iter()
        .map(|(version, _)| {
            (
                (*version).to_owned(),
                serde_json::json!({"name": name, "version": version, "dist": {"tarball": "http://127.0.0.1:1/x.tgz"}}),
            )
        })
        .collect();
    let time: serde_json::Map<String, serde_json::Value> = versions
        .iter()
        .filter_map(|(version, at)| Some(((*version).to_owned(), serde_json::json!(at.as_ref()?))))
        .collect();
    let mut body = serde_json::json!({"name": name, "versions": documents, "time": time});
    if let Some(latest) = latest {
        body["dist-tags"] = serde_json::json!({ "latest": latest });
    }
    Packument::parse(
        &PackageName::new(name).unwrap(),
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap()
}
