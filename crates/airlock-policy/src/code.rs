//! The stable codes every decision reason carries.
//!
//! A code names one signal, never changes meaning, and is what policies, logs, alerts
//! and users refer to. The table in `DESIGN.md` is the source; `docs/codes.md`
//! describes each code.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One signal that contributes to a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    ReleaseAge,
    PublishTimeMissing,
    KnownMalicious,
    InstallScript,
    InstallScriptAdded,
    DependencyAdded,
    DependencyRisk,
    ObfuscatedCode,
    DynamicCode,
    ProcessSpawn,
    NetworkAccess,
    CredentialAccess,
    SensitiveFileAccess,
    ManifestSwap,
    ManifestMismatch,
    ProvenanceRegression,
    PublisherChanged,
    SignatureInvalid,
    SignatureMissing,
    ProvenanceInvalid,
    IntegrityMismatch,
    Takedown,
    SelfDeletion,
    SelfPropagation,
    Sabotage,
    UnparsableCode,
    TarballMalformed,
    AnalysisIncomplete,
    DataExfiltration,
    DownloadExecute,
    BundledExecutable,
    NameConfusion,
    NewPackage,
    CriticalBump,
    KnownVulnerable,
    License,
    RuntimeNetwork,
    RuntimeCredentialRead,
    RuntimeExec,
    RuntimePersistence,
    RuntimeFileWrite,
}

impl Code {
    pub const ALL: [Self; 41] = [
        Self::ReleaseAge,
        Self::PublishTimeMissing,
        Self::KnownMalicious,
        Self::InstallScript,
        Self::InstallScriptAdded,
        Self::DependencyAdded,
        Self::DependencyRisk,
        Self::ObfuscatedCode,
        Self::DynamicCode,
        Self::ProcessSpawn,
        Self::NetworkAccess,
        Self::CredentialAccess,
        Self::SensitiveFileAccess,
        Self::ManifestSwap,
        Self::ManifestMismatch,
        Self::ProvenanceRegression,
        Self::PublisherChanged,
        Self::SignatureInvalid,
        Self::SignatureMissing,
        Self::ProvenanceInvalid,
        Self::IntegrityMismatch,
        Self::Takedown,
        Self::SelfDeletion,
        Self::SelfPropagation,
        Self::Sabotage,
        Self::UnparsableCode,
        Self::TarballMalformed,
        Self::AnalysisIncomplete,
        Self::DataExfiltration,
        Self::DownloadExecute,
        Self::BundledExecutable,
        Self::NameConfusion,
        Self::NewPackage,
        Self::CriticalBump,
        Self::KnownVulnerable,
        Self::License,
        Self::RuntimeNetwork,
        Self::RuntimeCredentialRead,
        Self::RuntimeExec,
        Self::RuntimePersistence,
        Self::RuntimeFileWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReleaseAge => "release-age",
            Self::PublishTimeMissing => "publish-time-missing",
            Self::KnownMalicious => "known-malicious",
            Self::InstallScript => "install-script",
            Self::InstallScriptAdded => "install-script-added",
            Self::DependencyAdded => "dependency-added",
            Self::DependencyRisk => "dependency-risk",
            Self::ObfuscatedCode => "obfuscated-code",
            Self::DynamicCode => "dynamic-code",
            Self::ProcessSpawn => "process-spawn",
            Self::NetworkAccess => "network-access",
            Self::CredentialAccess => "credential-access",
            Self::SensitiveFileAccess => "sensitive-file-access",
            Self::ManifestSwap => "manifest-swap",
            Self::ManifestMismatch => "manifest-mismatch",
            Self::ProvenanceRegression => "provenance-regression",
            Self::PublisherChanged => "publisher-changed",
            Self::SignatureInvalid => "signature-invalid",
            Self::SignatureMissing => "signature-missing",
            Self::ProvenanceInvalid => "provenance-invalid",
            Self::IntegrityMismatch => "integrity-mismatch",
            Self::Takedown => "takedown",
            Self::SelfDeletion => "self-deletion",
            Self::SelfPropagation => "self-propagation",
            Self::Sabotage => "sabotage",
            Self::UnparsableCode => "unparsable-code",
            Self::TarballMalformed => "tarball-malformed",
            Self::AnalysisIncomplete => "analysis-incomplete",
            Self::DataExfiltration => "data-exfiltration",
            Self::DownloadExecute => "download-execute",
            Self::BundledExecutable => "bundled-executable",
            Self::NameConfusion => "name-confusion",
            Self::NewPackage => "new-package",
            Self::CriticalBump => "critical-bump",
            Self::KnownVulnerable => "known-vulnerable",
            Self::License => "license",
            Self::RuntimeNetwork => "runtime-network",
            Self::RuntimeCredentialRead => "runtime-credential-read",
            Self::RuntimeExec => "runtime-exec",
            Self::RuntimePersistence => "runtime-persistence",
            Self::RuntimeFileWrite => "runtime-file-write",
        }
    }

    /// One sentence for people: what the code means.
    pub fn description(self) -> &'static str {
        match self {
            Self::ReleaseAge => "published more recently than the configured quarantine",
            Self::PublishTimeMissing => {
                "the registry gives no publish time, so the age cannot be checked (fail closed)"
            }
            Self::KnownMalicious => "an advisory or a manual deny names this version",
            Self::InstallScript => "runs a script at install time",
            Self::InstallScriptAdded => "an install script appeared since the previous version",
            Self::DependencyAdded => "a new runtime dependency in a patch or minor release",
            Self::DependencyRisk => {
                "a dependency this version newly pulls in is itself blocked or quarantined"
            }
            Self::ObfuscatedCode => {
                "code that decodes and runs hidden strings, or is mangled to hide intent"
            }
            Self::DynamicCode => "code built and run at runtime (eval, new Function, vm)",
            Self::ProcessSpawn => "starts other processes",
            Self::NetworkAccess => "talks to the network in a suspicious way",
            Self::CredentialAccess => "reads tokens, keys or environment secrets",
            Self::SensitiveFileAccess => "reads or writes sensitive files",
            Self::ManifestSwap => "rewrites or swaps its own package.json",
            Self::ManifestMismatch => "registry metadata differs from the tarball's package.json",
            Self::ProvenanceRegression => {
                "earlier versions of this release line had provenance or trusted publishing; this one does not"
            }
            Self::PublisherChanged => {
                "the publishing account, its email domain or the source repository changed"
            }
            Self::SignatureInvalid => {
                "a registry signature does not verify, names an unknown key, or an expired one"
            }
            Self::SignatureMissing => {
                "the registry gave no signature (allowed unless the policy requires signatures)"
            }
            Self::ProvenanceInvalid => {
                "the provenance attestations do not verify or are about another package"
            }
            Self::IntegrityMismatch => "the tarball does not hash to the registry's digest",
            Self::Takedown => "the upstream removed this version",
            Self::SelfDeletion => "deletes its own files after running (anti-forensics)",
            Self::SelfPropagation => "publishes packages or edits tarballs (worm behaviour)",
            Self::Sabotage => {
                "hangs or empties the package: unbounded loops at import, most files removed"
            }
            Self::UnparsableCode => "a JavaScript file does not parse (weak on its own)",
            Self::TarballMalformed => {
                "the tarball has unsafe paths, links, or exceeds the reading limits"
            }
            Self::AnalysisIncomplete => {
                "the analysis did not finish (time limit or size caps): not a pass"
            }
            Self::DataExfiltration => {
                "data from the machine (identity, environment, credentials, files) flows to the network"
            }
            Self::DownloadExecute => "runs code or an executable it fetched from the network",
            Self::BundledExecutable => {
                "ships an executable that an install script or entry point runs"
            }
            Self::NameConfusion => {
                "the name imitates a popular package, or the version has a dependency-confusion shape"
            }
            Self::NewPackage => {
                "a package this Airlock never served waits for a person (the new-package gate)"
            }
            Self::CriticalBump => {
                "a new major (or minor, or any) version of a critical-path package waits for a person"
            }
            Self::KnownVulnerable => {
                "a vulnerability advisory (not malware) names this version, rated by its database"
            }
            Self::License => {
                "the version's license is refused by the policy's [licenses], or unknown where that matters"
            }
            Self::RuntimeNetwork => {
                "its install scripts, run in the sandbox, resolved a name or opened a connection"
            }
            Self::RuntimeCredentialRead => {
                "its install scripts, run in the sandbox, read canary credentials (keys, tokens, browser or wallet files)"
            }
            Self::RuntimeExec => {
                "its install scripts, run in the sandbox, ran a network tool or a file they had just written"
            }
            Self::RuntimePersistence => {
                "its install scripts, run in the sandbox, tried to stay: shell profiles, cron, autostart, git hooks"
            }
            Self::RuntimeFileWrite => {
                "its install scripts, run in the sandbox, wrote or deleted files outside the package, or erased their own traces"
            }
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            let json = toml::Value::try_from(code).unwrap();
            assert_eq!(json.as_str(), Some(code.as_str()));
        }
    }
}
