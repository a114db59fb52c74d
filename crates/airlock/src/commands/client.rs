//! The admin API client shared by the operator commands.

use anyhow::{Context as _, anyhow, bail};
use serde::de::DeserializeOwned;
use url::Url;

use crate::cli::ServerArgs;

pub(crate) struct AdminClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl AdminClient {
    pub(crate) fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        let mut base = args.server.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let base = base
            .join("-/airlock/")
            .context("the server URL cannot hold a path")?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("airlock-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_mins(1))
            .build()
            .context("could not build the HTTP client")?;
        let token = match &args.admin_token {
            Some(token) => Some(token.clone()),
            None => local_token(&args.server)?,
        };
        Ok(Self { http, base, token })
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.get(self.url(path)?)).await
    }

    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<T> {
        let request = self
            .http
            .post(self.url(path)?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body)?);
        self.send(request).await
    }

    pub(crate) async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.send::<serde_json::Value>(self.http.delete(self.url(path)?))
            .await
            .map(drop)
    }

    fn url(&self, path: &str) -> anyhow::Result<Url> {
        self.base
            .join(path)
            .with_context(|| format!("`{path}` does not make a URL"))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|error| {
            anyhow!(
                "could not reach Airlock at `{}`: {error}\nhint: is `airlock serve` running there? Pass `--server URL`, or use `--standalone` where a command offers it",
                self.base
            )
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .context("the server's answer broke off")?;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|json| json["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            bail!("Airlock answered {status}: {message}");
        }
        if body.is_empty() {
            return serde_json::from_value(serde_json::Value::Null).context("an empty answer");
        }
        serde_json::from_slice(&body)
            .context("the server's answer is not the JSON this command expects")
    }
}

/// The token that an Airlock on this machine created in its data directory
/// (`AIRLOCK_DATA_DIR` or the default), when `server` is a loopback address: a
/// token file is never sent to another host.
fn local_token(server: &Url) -> anyhow::Result<Option<String>> {
    if !is_loopback(server) {
        return Ok(None);
    }
    let data_dir = match std::env::var_os("AIRLOCK_DATA_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => match crate::config::default_data_dir() {
            Ok(dir) => dir,
            Err(_) => return Ok(None),
        },
    };
    crate::admin_token::read(&data_dir)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The person behind a command, for the record.
pub(crate) fn author(explicit: Option<String>) -> String {
    explicit
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|author| !author.trim().is_empty())
        .unwrap_or_else(account)
}

/// Prints `value` as pretty JSON.
pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The account running this command, for a record when no name is known.
#[cfg(unix)]
fn account() -> String {
    format!("uid {}", rustix::process::getuid().as_raw())
}

#[cfg(not(unix))]
fn account() -> String {
    "unknown".to_owned()
}
