//! One analysis as another process receives it: everything [`Options`] borrows,
//! owned, and a frame that carries it with the tarball.
//!
//! The proxy runs the analyser in a child process, so that whatever a hostile
//! tarball does to the analyser (an abort, a stack overflow, memory it cannot
//! have) ends that process, not the server. The frame is the request's JSON
//! preceded by its length (8 bytes, little-endian), then the tarball's bytes to
//! the end of the input (or nothing, when [`Request::stored`] names the file to
//! read); the answer is the [`Analysis`] as JSON.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analysis::{Analysis, Options};
use crate::context::RegistryContext;
use crate::indicators::Indicators;

/// An analysis to run, owned so that it can cross a process boundary.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Request {
    /// The registry's version document (see [`Options::registry_manifest`]).
    pub registry_manifest: Option<Value>,
    /// Addresses from advisories.
    pub indicators: Option<Indicators>,
    /// The previous version on the same release line: (version, its analysis).
    pub previous: Option<(String, Analysis)>,
    /// The configured registry's hosts.
    pub registry_hosts: Vec<String>,
    /// What the registry says about the package.
    pub context: Option<RegistryContext>,
    /// How long the analysis may take, counted from when it starts.
    pub time_limit: Option<Duration>,
    /// Where the tarball is stored, when the worker reads it itself instead of
    /// receiving its bytes (the server then never holds the tarball in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredTarball>,
}

/// A tarball on disk and the digest (SRI) it must have: the reader checks it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredTarball {
    pub path: std::path::PathBuf,
    pub integrity: String,
}

/// A frame that is not one this module wrote.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the analysis request is cut short: {0} bytes, fewer than its length prefix says")]
    Truncated(usize),
    #[error("the analysis request is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Request {
    /// The options the analyser takes, with the deadline counted from `started`.
    pub fn options(&self, started: Instant) -> Options<'_> {
        Options {
            registry_manifest: self.registry_manifest.as_ref(),
            indicators: self.indicators.as_ref(),
            previous: self
                .previous
                .as_ref()
                .map(|(version, analysis)| (version.as_str(), analysis)),
            registry_hosts: &self.registry_hosts,
            context: self.context.as_ref(),
            deadline: self.time_limit.map(|limit| started + limit),
            ..Options::default()
        }
    }

    /// Analyses `tgz` as asked, the time limit starting now.
    pub fn run(&self, tgz: &[u8]) -> Analysis {
        Analysis::of_tarball(tgz, &self.options(Instant::now()))
    }

    /// The frame's head: the length prefix and the request's JSON. The tarball's
    /// bytes follow it.
    pub fn head(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        let mut head = Vec::with_capacity(8 + json.len());
        head.extend_from_slice(&(json.len() as u64).to_le_bytes());
        head.extend_from_slice(&json);
        head
    }

    /// Splits a whole frame into the request and the tarball's bytes.
    pub fn split(frame: &[u8]) -> Result<(Self, &[u8]), RequestError> {
        let (length, rest) = frame
            .split_first_chunk::<8>()
            .ok_or(RequestError::Truncated(frame.len()))?;
        let length = usize::try_from(u64::from_le_bytes(*length))
            .map_err(|_| RequestError::Truncated(frame.len()))?;
        if rest.len() < length {
            return Err(RequestError::Truncated(frame.len()));
        }
        let (json, tgz) = rest.split_at(length);
        Ok((serde_json::from_slice(json)?, tgz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_carries_the_request_and_the_tarball() {
        let request = Request {
            registry_hosts: vec!["registry.test".to_owned()],
            time_limit: Some(Duration::from_secs(3)),
            context: Some(RegistryContext {
                versions: 2,
                first_version: false,
                package_age_days: Some(40),
                previous_age_days: Some(9),
            }),
            ..Request::default()
        };
        let mut frame = request.head();
        frame.extend_from_slice(b"tarball bytes");
        let (read, tgz) = Request::split(&frame).unwrap();
        assert_eq!(tgz, b"tarball bytes");
        assert_eq!(read.registry_hosts, request.registry_hosts);
        assert_eq!(read.time_limit, request.time_limit);
        assert_eq!(read.context.unwrap().package_age_days, Some(40));
    }

    #[test]
    fn a_cut_frame_is_an_error_not_a_panic() {
        let frame = Request::default().head();
        for cut in 0..frame.len() {
            assert!(Request::split(&frame[..cut]).is_err(), "cut at {cut}");
        }
        let mut garbage = 3u64.to_le_bytes().to_vec();
        garbage.extend_from_slice(b"{{{");
        assert!(matches!(
            Request::split(&garbage),
            Err(RequestError::Json(_))
        ));
    }

    #[test]
    fn the_run_is_the_analysis_of_the_tarball() {
        let analysis = Request::default().run(b"not a tarball");
        assert_eq!(analysis.findings[0].code.as_str(), "tarball-malformed");
    }
}
