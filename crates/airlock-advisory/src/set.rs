//! The advisory set: lookups by package and version, duplicates merged.

use std::collections::HashMap;
use std::sync::Arc;

use airlock_npm::PackageName;

use crate::{Advisory, Iocs};

/// Every advisory in force, indexed by package name.
#[derive(Clone, Debug, Default)]
pub struct AdvisorySet {
    by_name: HashMap<PackageName, Vec<(usize, usize)>>,
    advisories: Vec<Arc<Advisory>>,
    iocs: Iocs,
}

/// What the advisories say about one version: one match per distinct advisory, with
/// the ids of every record that describes it (a `MAL-` record and the GHSA aliasing it
/// are one match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub ids: Vec<String>,
    pub summary: String,
    /// Malware, or a vulnerability with its rating.
    pub kind: crate::Kind,
    /// The versions that fix it (vulnerabilities), lowest first.
    pub fixed: Vec<String>,
}

impl AdvisorySet {
    pub fn new(advisories: Vec<Advisory>) -> Self {
        let advisories: Vec<Arc<Advisory>> = advisories.into_iter().map(Arc::new).collect();
        let mut by_name: HashMap<PackageName, Vec<(usize, usize)>> = HashMap::new();
        for (index, advisory) in advisories.iter().enumerate() {
            for (entry, affected) in advisory.affected.iter().enumerate() {
                by_name
                    .entry(affected.name.clone())
                    .or_default()
                    .push((index, entry));
            }
        }
        let iocs = merged_iocs(&advisories);
        Self {
            by_name,
            advisories,
            iocs,
        }
    }

    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Whether any advisory names `name` at all (cheap; for skipping lookups).
    pub fn names(&self, name: &PackageName) -> bool {
        self.by_name.contains_key(name)
    }

    /// The findings about `name@version`, duplicates merged.
    pub fn lookup(&self, name: &PackageName, version: &str) -> Vec<Match> {
        let Some(entries) = self.by_name.get(name) else {
            return Vec::new();
        };
        let mut findings: Vec<(Vec<String>, Match)> = Vec::new();
        for &(index, entry) in entries {
            let advisory = &self.advisories[index];
            if !advisory.affected[entry].matches(version) {
                continue;
            }
            let names: Vec<String> = std::iter::once(advisory.id.clone())
                .chain(advisory.aliases.iter().cloned())
                .collect();
            match findings
                .iter_mut()
                .find(|(known, _)| known.iter().any(|id| names.contains(id)))
            {
                Some((known, finding)) => {
                    for id in names {
                        if !known.contains(&id) {
                            known.push(id);
                        }
                    }
                    if !finding.ids.contains(&advisory.id) {
                        finding.ids.push(advisory.id.clone());
                    }
                    // One record saying malware is enough.
                    if advisory.kind == crate::Kind::Malicious {
                        finding.kind = crate::Kind::Malicious;
                    }
                }
                None => findings.push((
                    names,
                    Match {
                        ids: vec![advisory.id.clone()],
                        summary: advisory.summary.clone(),
                        kind: advisory.kind,
                        fixed: advisory.affected[entry].fixed(),
                    },
                )),
            }
        }
        findings.into_iter().map(|(_, finding)| finding).collect()
    }

    /// Every advisory naming `name`, for reports.
    pub fn advisories_for(&self, name: &PackageName) -> impl Iterator<Item = &Advisory> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&(index, _)| self.advisories[index].as_ref())
    }

    /// The indicators of compromise of every advisory, merged (computed once, when
    /// the set is built: decisions consult them on every recomputation).
    pub fn iocs(&self) -> &Iocs {
        &self.iocs
    }
}

fn merged_iocs(advisories: &[Arc<Advisory>]) -> Iocs {
    let mut all = Iocs::default();
    let mut seen = std::collections::HashSet::new();
    for advisory in advisories {
        for (into, from) in [
            (&mut all.domains, &advisory.iocs.domains),
            (&mut all.ips, &advisory.iocs.ips),
            (&mut all.urls, &advisory.iocs.urls),
        ] {
            for item in from {
                if seen.insert(item.clone()) {
                    into.push(item.clone());
                }
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_record;

    fn advisory(json: &str) -> Advisory {
        parse_record(json.as_bytes(), "t.json").unwrap().unwrap()
    }

    #[test]
    fn duplicates_across_sources_are_one_finding() {
        let mal = advisory(
            r#"{"id": "MAL-2026-7", "aliases": ["GHSA-aaaa-bbbb-cccc"], "summary": "Malicious code in axios",
                "affected": [{"package": {"ecosystem": "npm", "name": "axios"}, "versions": ["1.14.1", "0.30.4"]}]}"#,
        );
        let ghsa = advisory(
            r#"{"id": "GHSA-aaaa-bbbb-cccc", "summary": "axios compromised",
                "affected": [{"package": {"ecosystem": "npm", "name": "axios"}, "versions": ["1.14.1"]}]}"#,
        );
        let other = advisory(
            r#"{"id": "MAL-2026-8", "summary": "another", "affected": [{"package": {"ecosystem": "npm", "name": "axios"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.14.1"}, {"fixed": "1.14.2"}]}]}]}"#,
        );
        let set = AdvisorySet::new(vec![mal, ghsa, other]);
        let name = PackageName::new("axios").unwrap();
        let findings = set.lookup(&name, "1.14.1");
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].ids, ["MAL-2026-7", "GHSA-aaaa-bbbb-cccc"]);
        assert_eq!(findings[1].ids, ["MAL-2026-8"]);
        assert_eq!(set.lookup(&name, "0.30.4").len(), 1);
        assert!(set.lookup(&name, "1.14.0").is_empty());
        assert!(
            set.lookup(&PackageName::new("other").unwrap(), "1.14.1")
                .is_empty()
        );
    }

    #[test]
    fn scoped_names_are_matched_exactly() {
        let set = AdvisorySet::new(vec![advisory(
            r#"{"id": "MAL-9", "affected": [{"package": {"ecosystem": "npm", "name": "@evil/pkg"}, "versions": ["1.0.0"]}]}"#,
        )]);
        assert_eq!(
            set.lookup(&PackageName::new("@evil/pkg").unwrap(), "1.0.0")
                .len(),
            1
        );
        assert!(
            set.lookup(&PackageName::new("pkg").unwrap(), "1.0.0")
                .is_empty()
        );
    }
}
