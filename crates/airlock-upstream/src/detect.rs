//! Finding the upstream when the configuration names none: ask the npm client the
//! user already has, exactly as they would (`npm config get registry`).

use std::process::Stdio;
use std::time::Duration;

use url::Url;

use crate::Error;

/// Runs `npm config get registry` and parses its answer.
pub async fn npm_registry() -> Result<Url, Error> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: "npm config get registry".into(),
        reason,
    };
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("npm")
            .args(["config", "get", "registry"])
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .map_err(|_| invalid("npm did not answer within 30 s".into()))?
    .map_err(|error| invalid(format!("could not run npm: {error}")))?;
    if !output.status.success() {
        return Err(invalid(format!(
            "npm exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    parse_registry(&String::from_utf8_lossy(&output.stdout))
        .map_err(|reason| invalid(reason.to_owned()))
}

fn parse_registry(text: &str) -> Result<Url, &'static str> {
    let text = text.trim();
    if text.is_empty() || text == "undefined" {
        return Err("npm has no registry configured");
    }
    let url = Url::parse(text).map_err(|_| "npm's registry setting is not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("npm's registry setting is not an http(s) URL");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_npm_output() {
        assert_eq!(
            parse_registry("http://127.0.0.1:9/\n").unwrap().as_str(),
            "http://127.0.0.1:9/"
        );
        assert!(parse_registry("undefined\n").is_err());
        assert!(parse_registry("file:///x").is_err());
        assert!(parse_registry("").is_err());
    }
}
