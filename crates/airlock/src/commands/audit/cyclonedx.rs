//! `airlock audit --format cyclonedx`: a CycloneDX 1.6 SBOM of the lockfiles. Every
//! locked package once (by name and version) with its package URL, the hash its
//! lockfile (or the registry) records and its license, and the dependency graph.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use airlock_lockfile::{Graph, Locked, Source};
use airlock_npm::{Algorithm, Integrity, Timestamp};
use serde_json::{Value, json};

use super::Answers;

/// The SBOM of `graphs`, made at `now`; `answers` add what the registry says
/// (integrity, license) to what the lockfiles record.
pub(super) fn sbom(graphs: &[Graph], answers: &Answers, now: Timestamp) -> Value {
    let mut components: BTreeMap<String, Value> = BTreeMap::new();
    let mut depends: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for graph in graphs {
        for package in &graph.packages {
            let answer = answers.get(&(package.name.clone(), package.version.clone()));
            components
                .entry(purl(package))
                .or_insert_with(|| component(package, answer));
        }
        for &(from, to) in &graph.edges {
            let (from, to) = (purl(&graph.packages[from]), purl(&graph.packages[to]));
            let list = depends.entry(from).or_default();
            if !list.contains(&to) {
                list.push(to);
            }
        }
    }
    let dependencies: Vec<Value> = components
        .keys()
        .map(|reference| {
            let mut on = depends.get(reference).cloned().unwrap_or_default();
            on.sort();
            json!({"ref": reference, "dependsOn": on})
        })
        .collect();
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number(),
        "version": 1,
        "metadata": {
            "timestamp": now.to_string(),
            "tools": {"components": [{
                "type": "application",
                "name": "airlock",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
        },
        "components": components.into_values().collect::<Vec<_>>(),
        "dependencies": dependencies,
    })
}

/// The package URL of a locked package: `pkg:npm/%40scope/name@version`.
fn purl(package: &Locked) -> String {
    let name = package
        .name
        .replacen('@', "%40", usize::from(package.name.starts_with('@')));
    format!("pkg:npm/{name}@{}", encode(&package.version))
}

/// Percent-encodes what a purl version may not hold as is.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn component(package: &Locked, answer: Option<&airlock_server::audit::AuditAnswer>) -> Value {
    let (group, name) = match package.name.split_once('/') {
        Some((scope, name)) if package.name.starts_with('@') => (Some(scope), name),
        _ => (None, package.name.as_str()),
    };
    let reference = purl(package);
    let mut component = json!({
        "type": "library",
        "bom-ref": reference,
        "name": name,
        "version": package.version,
        "purl": reference,
    });
    if let Some(group) = group {
        component["group"] = json!(group);
    }
    let integrity = package
        .integrity
        .as_deref()
        .or_else(|| answer.and_then(|answer| answer.integrity.as_deref()));
    let hashes: Vec<Value> = integrity
        .map(Integrity::parse_each)
        .unwrap_or_default()
        .iter()
        .map(|hash| json!({"alg": algorithm(hash.algorithm()), "content": hash.hex_digest()}))
        .collect();
    if !hashes.is_empty() {
        component["hashes"] = json!(hashes);
    }
    if let Some(license) = answer.and_then(|answer| answer.license.as_deref()) {
        component["licenses"] = json!([license_entry(license)]);
    }
    if package.optional || package.dev {
        component["scope"] = json!("optional");
    }
    if package.source != Source::Registry
        && let Some(resolved) = &package.resolved
    {
        component["externalReferences"] = json!([{"type": "distribution", "url": resolved}]);
    }
    component
}

fn algorithm(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Sha1 => "SHA-1",
        Algorithm::Sha256 => "SHA-256",
        Algorithm::Sha384 => "SHA-384",
        Algorithm::Sha512 => "SHA-512",
    }
}

/// A license as CycloneDX takes it: an SPDX expression when it reads as one, else
/// a name (`SEE LICENSE IN ...`, `UNLICENSED`, free text).
fn license_entry(license: &str) -> Value {
    let spdx_like = !license.is_empty()
        && !license.starts_with("SEE ")
        && license != "UNLICENSED"
        && license
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " .-+():".contains(c));
    if spdx_like {
        json!({"expression": license})
    } else {
        json!({"license": {"name": license}})
    }
}

/// A random version-4 UUID as a URN, as CycloneDX asks of a serial number.
fn serial_number() -> String {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    if let Ok(mut random) = std::fs::File::open("/dev/urandom") {
        let _ = random.read_exact(&mut bytes);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_urls_and_licenses_read_as_cyclonedx_wants() {
        let scoped = airlock_lockfile::parse(
            "package-lock.json",
            r#"{"name": "app", "lockfileVersion": 3, "packages": {"": {},
              "node_modules/@acme/util": {"version": "1.0.0-rc.1+build"}}}"#,
        )
        .unwrap();
        assert_eq!(
            purl(&scoped.packages[0]),
            "pkg:npm/%40acme/util@1.0.0-rc.1%2Bbuild"
        );
        assert_eq!(
            license_entry("MIT OR Apache-2.0"),
            json!({"expression": "MIT OR Apache-2.0"})
        );
        assert_eq!(
            license_entry("SEE LICENSE IN LICENSE.md"),
            json!({"license": {"name": "SEE LICENSE IN LICENSE.md"}})
        );
        let serial = serial_number();
        assert_eq!(serial.len(), "urn:uuid:".len() + 36);
        assert_eq!(&serial[23..24], "4", "{serial}");
    }
}
