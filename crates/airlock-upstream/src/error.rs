use std::time::Duration;

/// Why a request to the upstream registry failed. Each variant names the URL (without
/// credentials) so that the message a user sees says where Airlock was going.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the upstream registry at `{url}` is unreachable")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("the upstream registry did not answer `{url}` within {timeout:?}")]
    Timeout { url: String, timeout: Duration },

    #[error("the upstream registry has no `{url}` (404)")]
    NotFound { url: String },

    #[error("the upstream registry answered `{url}` with status {status}")]
    Status { url: String, status: u16 },

    #[error("the upstream registry broke off its answer to `{url}`")]
    Body {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("the upstream URL `{url}` is not usable: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error(
        "the packument points the tarball at `{host}` (`{url}`), which is neither the upstream's host nor listed in `upstream.tarball_hosts`; Airlock did not fetch it"
    )]
    ForeignTarballHost { url: String, host: String },

    #[error("the HTTP client could not be built")]
    Client(#[source] reqwest::Error),
}

impl Error {
    /// Whether waiting would help: the upstream did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}
