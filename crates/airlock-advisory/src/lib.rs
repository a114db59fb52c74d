//! Known-malicious versions from OSV advisories, with no IO.
//!
//! [`parse_record`] reads one OSV record (the `MAL-` malicious-package format, GHSA
//! malware advisories); [`parse_zip`] reads an export archive of them. An
//! [`AdvisorySet`] built from the records answers "which advisories name
//! `name@version`?", merging duplicates across sources (a `MAL-` record and the GHSA
//! that aliases it are one finding), and keeps each advisory's indicators of
//! compromise for the analyser's network checks. Withdrawn records and other
//! ecosystems are skipped; anything malformed is an error naming the file, so an
//! import either takes every record or none.
//!
//! ```
//! use airlock_advisory::{AdvisorySet, parse_record};
//! use airlock_npm::PackageName;
//!
//! let record = br#"{"id": "MAL-2026-1", "summary": "Malicious code in plain-crypto-js",
//!   "affected": [{"package": {"ecosystem": "npm", "name": "plain-crypto-js"},
//!                 "versions": ["4.2.1"]}]}"#;
//! let advisory = parse_record(record, "MAL-2026-1.json").unwrap().unwrap();
//! let set = AdvisorySet::new(vec![advisory]);
//! let name = PackageName::new("plain-crypto-js").unwrap();
//! assert_eq!(set.lookup(&name, "4.2.1")[0].ids, ["MAL-2026-1"]);
//! assert!(set.lookup(&name, "4.2.0").is_empty());
//! ```

mod error;
mod osv;
mod set;

pub use error::Error;
pub use osv::{
    Advisory, Affected, Iocs, Kind, Rating, VersionRange, parse_record, parse_zip, zip_records,
};
pub use set::{AdvisorySet, Match};
