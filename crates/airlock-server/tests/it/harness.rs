//! Builds an Airlock router over a fresh data directory, in front of a fake registry.

use std::time::Duration;

use std::sync::Arc;

use airlock_npm::Clock;
use airlock_policy::Policy;
use airlock_server::{AdvisoryHandle, AppState, PolicyHandle, ServerConfig, router};
use airlock_store::Store;
use airlock_test::{FakeRegistry, PackageBuilder};
use airlock_upstream::Upstream;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

pub(crate) const ADMIN_TOKEN: &str = "admin-secret";

pub(crate) struct Harness {
    pub(crate) registry: FakeRegistry,
    pub(crate) state: AppState,
    pub(crate) dir: tempfile::TempDir,
    /// Airlock's clock: the system's until a test moves it on.
    pub(crate) clock: Clock,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .expect("an error message")
            .to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |value| value.to_str().unwrap())
    }
}

impl Harness {
    /// A registry with `demo` 1.0.0 and 1.1.0, and `@scope/lib` 2.0.0.
    pub(crate) async fn new() -> Self {
        Self::with_config(ServerConfig::default(), Duration::from_secs(5)).await
    }

    pub(crate) async fn with_config(config: ServerConfig, timeout: Duration) -> Self {
        Self::with_policy(config, timeout, Policy::default()).await
    }

    /// With a policy and the admin token `admin-secret`.
    pub(crate) async fn with_policy(
        config: ServerConfig,
        timeout: Duration,
        policy: Policy,
    ) -> Self {
        Self::build(config, timeout, policy, None).await
    }

    /// With the upstream's cap on the bodies it reads set to `bytes`.
    pub(crate) async fn with_body_cap(bytes: usize) -> Self {
        Self::build(
            ServerConfig::default(),
            Duration::from_secs(5),
            Policy::default(),
            Some(bytes),
        )
        .await
    }

    async fn build(
        mut config: ServerConfig,
        timeout: Duration,
        policy: Policy,
        body_cap: Option<usize>,
    ) -> Self {
        config
            .admin_token
            .get_or_insert_with(|| ADMIN_TOKEN.to_owned());
        let registry = FakeRegistry::start().await;
        registry.publish(PackageBuilder::new("demo", "1.0.0").build());
        registry.publish(
            PackageBuilder::new("demo", "1.1.0")
                .dependency("@scope/lib", "^2.0.0")
                .file("index.js", "module.exports = require('@scope/lib');\n")
                .build(),
        );
        registry.publish(PackageBuilder::new("@scope/lib", "2.0.0").build());
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::system();
        let state = state(
            &registry,
            dir.path(),
            (config, clock.clone()),
            timeout,
            policy,
            body_cap,
        )
        .await;
        Self {
            registry,
            state,
            dir,
            clock,
        }
    }

    /// Starts over with a new Airlock on the same data directory and registry.
    pub(crate) async fn restart(&mut self, config: ServerConfig) {
        self.state = state(
            &self.registry,
            self.dir.path(),
            (config, self.clock.clone()),
            Duration::from_secs(5),
            Policy::default(),
            None,
        )
        .await;
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.request(
            Request::get(path)
                .header("host", "airlock.test:4873")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub(crate) async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = Request::get(path).header("host", "airlock.test:4873");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.request(request.body(Body::empty()).unwrap()).await
    }

    /// An admin API call with the admin token.
    pub(crate) async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(format!("/-/airlock{path}"))
            .header("host", "airlock.test:4873")
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .header("content-type", "application/json");
        let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
        self.request(request.body(body).unwrap()).await
    }

    pub(crate) async fn request(&self, request: Request<Body>) -> Answer {
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// How many blobs the store holds.
    /// Whether the store holds `package`'s tarball.
    pub(crate) fn has_blob(&self, package: &airlock_test::Package) -> bool {
        let integrity = airlock_npm::Integrity::from_dist(Some(&package.integrity), None).unwrap();
        self.state.store().blobs().path(&integrity).exists()
    }

    pub(crate) fn blob_count(&self) -> usize {
        fn count(path: &std::path::Path) -> usize {
            std::fs::read_dir(path).map_or(0, |entries| {
                entries
                    .map(|entry| {
                        let path = entry.unwrap().path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
        }
        count(&self.dir.path().join("blobs"))
    }
}

async fn state(
    registry: &FakeRegistry,
    dir: &std::path::Path,
    (config, clock): (ServerConfig, Clock),
    timeout: Duration,
    policy: Policy,
    body_cap: Option<usize>,
) -> AppState {
    let mut upstream = Upstream::builder(registry.url().parse().unwrap())
        .timeout(timeout)
        .retries(1);
    if let Some(bytes) = body_cap {
        upstream = upstream.max_packument_bytes(bytes);
    }
    let upstream = upstream.build().unwrap();
    let store = Store::open(dir).await.unwrap();
    let policy = Arc::new(PolicyHandle::fixed(policy, store.clone()).await.unwrap());
    let advisories = Arc::new(AdvisoryHandle::load(store.clone()).await.unwrap());
    AppState::new(config, upstream, store, (policy, advisories), clock)
}

pub(crate) fn config_with_max_age(max_age: Duration) -> ServerConfig {
    ServerConfig {
        metadata_max_age: max_age,
        ..ServerConfig::default()
    }
}
