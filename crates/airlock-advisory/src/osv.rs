//! OSV records, as published in the OSSF malicious-packages repository and the GitHub
//! advisory database (schema 1.x). Only npm entries are kept.

use std::io::Read as _;

use airlock_npm::PackageName;
use js_semver::Version;
use serde::Deserialize;

use crate::Error;

/// What an advisory says a version is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Malware: a `MAL-` record, or an advisory whose weakness is embedded
    /// malicious code (CWE-506) or whose summary says it is malicious.
    Malicious,
    /// A vulnerability, with the database's rating when it gives one.
    Vulnerability(Option<Rating>),
}

/// A vulnerability database's severity rating (GHSA's `database_specific.severity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rating {
    Low,
    Moderate,
    High,
    Critical,
}

impl Rating {
    pub fn name(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Moderate => "moderate",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "low" => Some(Self::Low),
            "moderate" | "medium" => Some(Self::Moderate),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// One advisory, reduced to what decisions and alerts need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advisory {
    pub id: String,
    pub kind: Kind,
    pub aliases: Vec<String>,
    pub summary: String,
    pub affected: Vec<Affected>,
    pub iocs: Iocs,
    /// Where the record came from (a file name), for messages.
    pub source: String,
}

/// The versions of one npm package an advisory names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Affected {
    pub name: PackageName,
    /// Exact versions listed.
    pub versions: Vec<String>,
    /// SEMVER or ECOSYSTEM ranges.
    pub ranges: Vec<VersionRange>,
}

/// One OSV range: affected from each `introduced` up to the next `fixed` (exclusive)
/// or `last_affected` (inclusive). `introduced: "0"` means from the first version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRange {
    intervals: Vec<(Option<Version>, Bound)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Bound {
    Fixed(Version),
    LastAffected(Version),
    Open,
}

/// Indicators of compromise: where the malware talks to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Iocs {
    pub domains: Vec<String>,
    pub ips: Vec<String>,
    pub urls: Vec<String>,
}

impl Iocs {
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.ips.is_empty() && self.urls.is_empty()
    }

    /// Whether a URL's host (or the URL) is listed; subdomains of a listed domain
    /// count.
    pub fn matches(&self, host: &str, url: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let host = host.to_ascii_lowercase();
        self.ips.contains(&host)
            || self.domains.iter().any(|domain| {
                let domain = domain.to_ascii_lowercase();
                host == domain || host.ends_with(&format!(".{domain}"))
            })
            || self
                .urls
                .iter()
                .any(|listed| url.starts_with(listed.as_str()))
    }

    /// Whether a string names a listed address outside a URL (a bare host or IP).
    pub fn matches_text(&self, text: &str) -> bool {
        if self.is_empty() || text.contains("://") {
            return false;
        }
        let text = text.trim().to_ascii_lowercase();
        self.ips
            .iter()
            .any(|ip| text == *ip || text.starts_with(&format!("{ip}:")))
            || self
                .domains
                .iter()
                .any(|domain| text == domain.to_ascii_lowercase())
    }
}

impl Affected {
    /// The versions that fix it, as the ranges name them.
    pub fn fixed(&self) -> Vec<String> {
        self.ranges
            .iter()
            .flat_map(|range| &range.intervals)
            .filter_map(|(_, bound)| match bound {
                Bound::Fixed(version) => Some(version.to_string()),
                Bound::LastAffected(_) | Bound::Open => None,
            })
            .collect()
    }

    pub fn matches(&self, version: &str) -> bool {
        if self.versions.iter().any(|listed| listed == version) {
            return true;
        }
        let Ok(parsed) = Version::parse(version) else {
            return false;
        };
        self.ranges.iter().any(|range| range.contains(&parsed))
    }
}

impl VersionRange {
    pub fn contains(&self, version: &Version) -> bool {
        self.intervals.iter().any(|(introduced, bound)| {
            let after_start = introduced.as_ref().is_none_or(|start| version >= start);
            let before_end = match bound {
                Bound::Fixed(fixed) => version < fixed,
                Bound::LastAffected(last) => version <= last,
                Bound::Open => true,
            };
            after_start && before_end
        })
    }
}

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    affected: Vec<RawAffected>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
}

/// One `severity` entry: `{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/..."}`.
#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    ranges: Vec<RawRange>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

/// Reads one OSV record. `Ok(None)` for a withdrawn record or one that names no npm
/// package; an error for anything that is not a valid record.
pub fn parse_record(bytes: &[u8], source_name: &str) -> Result<Option<Advisory>, Error> {
    let invalid = |reason: String| Error::Record {
        source_name: source_name.to_owned(),
        reason,
    };
    let raw: RawRecord =
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
    if raw.id.trim().is_empty() {
        return Err(invalid("`id` is empty".into()));
    }
    if raw.withdrawn.is_some() {
        return Ok(None);
    }
    let mut affected = Vec::new();
    for entry in raw.affected {
        let Some(package) = entry.package else {
            continue;
        };
        if !package.ecosystem.eq_ignore_ascii_case("npm") {
            continue;
        }
        let name = PackageName::new(&package.name).map_err(|error| invalid(error.to_string()))?;
        let mut ranges = Vec::new();
        for range in entry.ranges {
            if matches!(range.kind.as_str(), "SEMVER" | "ECOSYSTEM") {
                ranges.push(
                    parse_range(&range.events)
                        .map_err(|reason| invalid(format!("{name}: {reason}")))?,
                );
            }
        }
        affected.push(Affected {
            name,
            versions: entry.versions,
            ranges,
        });
    }
    if affected.is_empty() {
        return Ok(None);
    }
    let iocs = iocs(raw.details.as_deref(), raw.database_specific.as_ref());
    let kind = match kind_of(
        &raw.id,
        raw.summary.as_deref(),
        raw.database_specific.as_ref(),
    ) {
        // Without the database's rating, the CVSS v3 vector's base score rates it.
        Kind::Vulnerability(None) => Kind::Vulnerability(
            raw.severity
                .iter()
                .filter(|severity| severity.kind == "CVSS_V3")
                .find_map(|severity| cvss3_rating(&severity.score)),
        ),
        kind => kind,
    };
    Ok(Some(Advisory {
        kind,
        summary: raw
            .summary
            .unwrap_or_else(|| format!("{} names this version", raw.id)),
        id: raw.id,
        aliases: raw.aliases,
        affected,
        iocs,
        source: source_name.to_owned(),
    }))
}

/// Malware or a vulnerability: `MAL-` records are malware; so is an advisory whose
/// weakness is embedded malicious code (CWE-506) or whose summary says it is
/// malicious (GHSA's malware advisories). Everything else is a vulnerability.
fn kind_of(id: &str, summary: Option<&str>, specific: Option<&serde_json::Value>) -> Kind {
    let cwe_506 = specific
        .and_then(|value| value.get("cwe_ids"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|ids| ids.iter().any(|cwe| cwe == "CWE-506"));
    let says_malicious = summary.is_some_and(|summary| {
        let summary = summary.to_ascii_lowercase();
        summary.contains("malicious") || summary.contains("malware")
    });
    if id.starts_with("MAL-") || cwe_506 || says_malicious {
        return Kind::Malicious;
    }
    Kind::Vulnerability(
        specific
            .and_then(|value| value.get("severity"))
            .and_then(serde_json::Value::as_str)
            .and_then(Rating::parse),
    )
}

/// The rating of a CVSS v3.x vector's base score (FIRST's v3.1 formula); `None`
/// for a vector that is not one, and for a score of 0.
fn cvss3_rating(vector: &str) -> Option<Rating> {
    let mut metrics = std::collections::HashMap::new();
    let mut parts = vector.split('/');
    if !parts.next()?.starts_with("CVSS:3") {
        return None;
    }
    for part in parts {
        let (metric, value) = part.split_once(':')?;
        metrics.insert(metric, value);
    }
    let changed = match *metrics.get("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let attack_vector = match *metrics.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let complexity = match *metrics.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let privileges = match (*metrics.get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let interaction = match *metrics.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let impact_of = |metric: &str| match metrics.get(metric) {
        Some(&"H") => Some(0.56),
        Some(&"L") => Some(0.22),
        Some(&"N") => Some(0.0),
        _ => None,
    };
    let (c, i, a): (f64, f64, f64) = (impact_of("C")?, impact_of("I")?, impact_of("A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * attack_vector * complexity * privileges * interaction;
    let score = if impact <= 0.0 {
        0.0
    } else if changed {
        round_up((1.08 * (impact + exploitability)).min(10.0))
    } else {
        round_up((impact + exploitability).min(10.0))
    };
    match score {
        s if s >= 9.0 => Some(Rating::Critical),
        s if s >= 7.0 => Some(Rating::High),
        s if s >= 4.0 => Some(Rating::Moderate),
        s if s > 0.0 => Some(Rating::Low),
        _ => None,
    }
}

/// CVSS v3.1's round-up to one decimal, exact for the inputs the formula gives.
fn round_up(value: f64) -> f64 {
    let tenths = (value * 10.0 - 1e-6).ceil();
    tenths / 10.0
}

fn parse_range(events: &[RawEvent]) -> Result<VersionRange, String> {
    let version = |text: &str| {
        Version::parse(text).map_err(|error| format!("`{text}` is not a version: {error}"))
    };
    let mut intervals = Vec::new();
    let mut open: Option<Option<Version>> = None;
    for event in events {
        let set = [
            &event.introduced,
            &event.fixed,
            &event.last_affected,
            &event.limit,
        ]
        .iter()
        .filter(|field| field.is_some())
        .count();
        if set != 1 {
            return Err("each range event needs exactly one of `introduced`, `fixed`, `last_affected`, `limit`".into());
        }
        if let Some(introduced) = &event.introduced {
            if let Some(start) = open.take() {
                intervals.push((start, Bound::Open));
            }
            open = Some(if introduced == "0" {
                None
            } else {
                Some(version(introduced)?)
            });
        } else if let Some(fixed) = &event.fixed {
            let start = open
                .take()
                .ok_or("`fixed` without an `introduced` before it")?;
            intervals.push((start, Bound::Fixed(version(fixed)?)));
        } else if let Some(last) = &event.last_affected {
            let start = open
                .take()
                .ok_or("`last_affected` without an `introduced` before it")?;
            intervals.push((start, Bound::LastAffected(version(last)?)));
        }
    }
    if let Some(start) = open {
        intervals.push((start, Bound::Open));
    }
    Ok(VersionRange { intervals })
}

/// IOCs from `database_specific.iocs` (`domains`, `ips`, `urls`) and from the URLs and
/// addresses written in `details`. `references` (advisory pages) are not IOCs.
fn iocs(details: Option<&str>, specific: Option<&serde_json::Value>) -> Iocs {
    let mut iocs = Iocs::default();
    if let Some(specific) = specific.and_then(|value| value.get("iocs")) {
        let strings = |key: &str| -> Vec<String> {
            specific[key]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        iocs.domains = strings("domains");
        iocs.ips = strings("ips");
        iocs.urls = strings("urls");
    }
    for word in details.unwrap_or_default().split(|c: char| {
        c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '(' | ')' | '<' | '>' | ',')
    }) {
        let word = word.trim_end_matches(['.', ';', ':']);
        if word.starts_with("http://") || word.starts_with("https://") {
            push_unique(&mut iocs.urls, word);
            if let Some(host) = word
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split(['/', ':']).next())
            {
                if host.parse::<std::net::IpAddr>().is_ok() {
                    push_unique(&mut iocs.ips, host);
                } else if !host.is_empty() {
                    push_unique(&mut iocs.domains, host);
                }
            }
        } else if word.parse::<std::net::Ipv4Addr>().is_ok() {
            push_unique(&mut iocs.ips, word);
        }
    }
    iocs
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|existing| existing == item) {
        list.push(item.to_owned());
    }
}

/// Reads every `.json` record in a zip export (such as an OSV ecosystem archive).
pub fn parse_zip(bytes: &[u8], source_name: &str) -> Result<Vec<Advisory>, Error> {
    let mut advisories = Vec::new();
    for (name, contents) in zip_records(bytes, source_name)? {
        if let Some(advisory) = parse_record(&contents, &name)? {
            advisories.push(advisory);
        }
    }
    Ok(advisories)
}

/// The `.json` entries of a zip export, as `(source!entry, bytes)`, unparsed: for
/// importers that keep records verbatim.
pub fn zip_records(bytes: &[u8], source_name: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    const MAX_RECORD: u64 = 16 * 1024 * 1024;
    let zip_error = |source| Error::Zip {
        source_name: source_name.to_owned(),
        source,
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_error)?;
    let mut records = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(zip_error)?;
        let entry_name = file.name().map_err(zip_error)?.into_owned();
        let is_json = std::path::Path::new(&entry_name)
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
        if !file.is_file() || !is_json {
            continue;
        }
        let name = format!("{source_name}!{entry_name}");
        // Records are small; a huge entry is not an OSV record (or is a zip bomb).
        if file.size() > MAX_RECORD {
            return Err(Error::Record {
                source_name: name,
                reason: "larger than 16 MiB".into(),
            });
        }
        let mut contents = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        file.by_ref()
            .take(MAX_RECORD)
            .read_to_end(&mut contents)
            .map_err(|error| Error::Record {
                source_name: name.clone(),
                reason: error.to_string(),
            })?;
        records.push((name, contents));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> Result<Option<Advisory>, Error> {
        parse_record(json.as_bytes(), "test.json")
    }

    fn affected(events: &str) -> Affected {
        let json = format!(
            r#"{{"id": "MAL-1", "affected": [{{"package": {{"ecosystem": "npm", "name": "pkg"}},
                "ranges": [{{"type": "SEMVER", "events": {events}}}]}}]}}"#
        );
        record(&json).unwrap().unwrap().affected.remove(0)
    }

    #[test]
    fn ranges_follow_osv_semantics() {
        let all = affected(r#"[{"introduced": "0"}]"#);
        assert!(all.matches("0.0.1") && all.matches("99.0.0") && all.matches("1.0.0-beta.1"));
        let fixed = affected(r#"[{"introduced": "1.2.0"}, {"fixed": "1.3.0"}]"#);
        assert!(
            !fixed.matches("1.1.9")
                && fixed.matches("1.2.0")
                && fixed.matches("1.2.9")
                && !fixed.matches("1.3.0")
        );
        let last = affected(r#"[{"introduced": "0"}, {"last_affected": "2.0.0"}]"#);
        assert!(last.matches("2.0.0") && !last.matches("2.0.1"));
        let two = affected(
            r#"[{"introduced": "1.0.0"}, {"fixed": "1.1.0"}, {"introduced": "2.0.0"}, {"fixed": "2.1.0"}]"#,
        );
        assert!(
            two.matches("1.0.5")
                && !two.matches("1.5.0")
                && two.matches("2.0.1")
                && !two.matches("not-semver")
        );
    }

    #[test]
    fn withdrawn_and_other_ecosystems_are_skipped() {
        let withdrawn = r#"{"id": "MAL-2", "withdrawn": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "pkg"}, "versions": ["1.0.0"]}]}"#;
        assert!(record(withdrawn).unwrap().is_none());
        let pypi = r#"{"id": "MAL-3", "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "versions": ["1.0"]}]}"#;
        assert!(record(pypi).unwrap().is_none());
    }

    #[test]
    fn malformed_records_name_the_file_and_the_reason() {
        for (json, fragment) in [
            ("{", "EOF"),
            (r#"{"affected": []}"#, "missing field `id`"),
            (r#"{"id": " "}"#, "`id` is empty"),
            (
                r#"{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "bad name"}}]}"#,
                "URL-safe",
            ),
            (
                r#"{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "ranges": [{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}]}]}"#,
                "`fixed` without",
            ),
            (
                r#"{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "x.y"}]}]}]}"#,
                "not a version",
            ),
        ] {
            let error = record(json).unwrap_err().to_string();
            assert!(
                error.contains("test.json") && error.contains(fragment),
                "{json}: {error}"
            );
        }
    }

    #[test]
    fn zip_exports_are_read_whole_or_not_at_all() {
        use std::io::Write as _;
        let zip = |entries: &[(&str, &str)]| {
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            for (name, contents) in entries {
                writer.start_file(*name, options).unwrap();
                writer.write_all(contents.as_bytes()).unwrap();
            }
            writer.finish().unwrap().into_inner()
        };
        let good = r#"{"id": "MAL-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "versions": ["1.0.0"]}]}"#;
        let other = r#"{"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": ["1.0"]}]}"#;
        let bytes = zip(&[
            ("npm/MAL-1.json", good),
            ("pypi/PYSEC-1.json", other),
            ("README.md", "not json"),
        ]);
        let advisories = parse_zip(&bytes, "export.zip").unwrap();
        assert_eq!(advisories.len(), 1);
        assert_eq!(advisories[0].source, "export.zip!npm/MAL-1.json");
        let bytes = zip(&[("npm/MAL-1.json", good), ("npm/broken.json", "{")]);
        let error = parse_zip(&bytes, "export.zip").unwrap_err().to_string();
        assert!(error.contains("export.zip!npm/broken.json"), "{error}");
        assert!(
            parse_zip(b"not a zip", "x.zip")
                .unwrap_err()
                .to_string()
                .contains("not a readable zip")
        );
    }

    #[test]
    fn iocs_come_from_the_record_and_its_details() {
        let json = r#"{"id": "MAL-4", "details": "Downloads a payload from http://127.0.0.9:8000/6202033 and beacons to https://c2.example.invalid/x.",
            "database_specific": {"iocs": {"domains": ["sfrclak.example.invalid"]}},
            "references": [{"type": "WEB", "url": "https://advisories.example/MAL-4"}],
            "affected": [{"package": {"ecosystem": "npm", "name": "pkg"}, "versions": ["1.0.0"]}]}"#;
        let advisory = record(json).unwrap().unwrap();
        assert_eq!(
            advisory.iocs.domains,
            ["sfrclak.example.invalid", "c2.example.invalid"]
        );
        assert_eq!(advisory.iocs.ips, ["127.0.0.9"]);
        assert_eq!(
            advisory.iocs.urls,
            [
                "http://127.0.0.9:8000/6202033",
                "https://c2.example.invalid/x"
            ]
        );
    }

    #[test]
    fn malware_is_told_apart_from_vulnerabilities() {
        let kind = |json: &str| {
            parse_record(json.as_bytes(), "x.json")
                .unwrap()
                .unwrap()
                .kind
        };
        let affected = r#""affected": [{"package": {"ecosystem": "npm", "name": "pkg"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]}]"#;
        assert_eq!(
            kind(&format!(r#"{{"id": "MAL-9", {affected}}}"#)),
            Kind::Malicious
        );
        assert_eq!(
            kind(&format!(
                r#"{{"id": "GHSA-x", "summary": "Embedded code", "database_specific": {{"cwe_ids": ["CWE-506"]}}, {affected}}}"#
            )),
            Kind::Malicious
        );
        assert_eq!(
            kind(&format!(
                r#"{{"id": "GHSA-y", "summary": "Malicious code in pkg", {affected}}}"#
            )),
            Kind::Malicious
        );
        assert_eq!(
            kind(&format!(
                r#"{{"id": "GHSA-z", "summary": "ReDoS in pkg", "database_specific": {{"severity": "MODERATE"}}, {affected}}}"#
            )),
            Kind::Vulnerability(Some(Rating::Moderate))
        );
        assert_eq!(
            kind(&format!(
                r#"{{"id": "GHSA-w", "summary": "ReDoS in pkg", {affected}}}"#
            )),
            Kind::Vulnerability(None)
        );
        let record = parse_record(
            format!(r#"{{"id": "GHSA-z", {affected}}}"#).as_bytes(),
            "x.json",
        )
        .unwrap()
        .unwrap();
        assert_eq!(record.affected[0].fixed(), ["1.2.3"]);
    }

    #[test]
    fn cvss_v3_vectors_rate_a_record_without_a_database_rating() {
        // Base scores from FIRST's calculator: 9.8, 7.5, 5.3, 3.1, 10.0, 0.
        let rating = cvss3_rating;
        assert_eq!(
            rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(Rating::Critical)
        );
        assert_eq!(
            rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
            Some(Rating::High)
        );
        assert_eq!(
            rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"),
            Some(Rating::Moderate)
        );
        assert_eq!(
            rating("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"),
            Some(Rating::Low)
        );
        assert_eq!(
            rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Some(Rating::Critical)
        );
        assert_eq!(rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), None);
        assert_eq!(
            rating("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            None
        );
        assert_eq!(rating("not a vector"), None);
        let record = r#"{"id": "CVE-2026-9", "summary": "Overflow in pkg",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
            "affected": [{"package": {"ecosystem": "npm", "name": "pkg"}, "versions": ["1.0.0"]}]}"#;
        let advisory = parse_record(record.as_bytes(), "x.json").unwrap().unwrap();
        assert_eq!(advisory.kind, Kind::Vulnerability(Some(Rating::High)));
    }
}
