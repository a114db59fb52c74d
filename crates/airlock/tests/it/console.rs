//! The review console in a real browser: headless Chromium driven through
//! WebDriver signs in, opens a quarantined version, reads its reasons, approves
//! it; then npm installs it through Airlock.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use airlock_test::{Client, Clients, FakeRegistry, PackageBuilder};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN, Airlock, Workspace};

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver on a free loopback port with one headless Chromium session,
/// both ended when dropped.
struct Browser {
    driver: tokio::process::Child,
    http: reqwest::Client,
    session: String,
    base: String,
    /// Chromium's profile directory: it names the browser's processes.
    profile: std::path::PathBuf,
}

impl Browser {
    async fn start(profile: &std::path::Path) -> Self {
        let driver_path = which("chromedriver").expect(
            "chromedriver is not installed\nhint: run `scripts/install-browser` (Debian's chromium and chromium-driver)",
        );
        let chromium = which("chromium")
            .expect("chromium is not installed\nhint: run `scripts/install-browser`");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Ok(answer) = http.get(format!("{base}/status")).send().await
                    && let Ok(bytes) = answer.bytes().await
                    && let Ok(status) = serde_json::from_slice::<Value>(&bytes)
                    && status["value"]["ready"] == true
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .expect("chromedriver answers within 30 s");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let created: Value = serde_json::from_slice(
            &http
                .post(format!("{base}/session"))
                .header("content-type", "application/json")
                .body(capabilities.to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        )
        .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        Self {
            driver,
            http,
            session,
            base,
            profile: profile.to_owned(),
        }
    }

    /// Ends the session: chromedriver closes the browser.
    async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer: Value =
            serde_json::from_slice(&request.send().await.unwrap().bytes().await.unwrap()).unwrap();
        assert!(
            answer["value"].get("error").is_none(),
            "WebDriver {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn source(&self) -> String {
        self.command(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The page source once it contains `text`: a click that submits a form
    /// returns before the next page has loaded.
    async fn wait_for(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let source = self.source().await;
            if source.contains(text) || std::time::Instant::now() > deadline {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG of the page under `docs/` when `AIRLOCK_SCREENSHOTS` is set.
    async fn screenshot(&self, name: &str) {
        if std::env::var_os("AIRLOCK_SCREENSHOTS").is_none() {
            return;
        }
        let encoded = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-").to_owned() + name + ".png";
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.start_kill();
        // A browser the session did not close (a failed test) goes too: its
        // processes carry the profile directory on their command lines.
        let _ = std::process::Command::new("pkill")
            .arg("-f")
            .arg(self.profile.as_os_str())
            .status();
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

#[tokio::test]
async fn a_reviewer_approves_in_the_browser_and_the_install_succeeds() {
    let clients = Clients::locate();
    let registry = FakeRegistry::start().await;
    registry.publish(
        PackageBuilder::new("reviewed", "1.0.0")
            .published(SystemTime::now() - Duration::from_hours(24 * 30))
            .build(),
    );
    registry.publish(
        PackageBuilder::new("reviewed", "1.1.0")
            .published(SystemTime::now() - Duration::from_hours(1))
            .build(),
    );
    let workspace = Workspace::new();
    let airlock = Airlock::with_admin_token(&workspace, &registry).await;
    // A pinned install is refused, which puts the version in the queue.
    let project = workspace.path("project");
    std::fs::write(
        project.join("package.json"),
        json!({"name": "app", "version": "1.0.0", "private": true,
               "dependencies": {"reviewed": "1.1.0"}})
        .to_string(),
    )
    .unwrap();
    let home = workspace.path("client-home");
    clients
        .run(
            Client::Npm,
            &project,
            &home,
            &airlock.url,
            &["install", "--fetch-retries=0"],
        )
        .await
        .assert_failure();

    // The refusal's decision is recorded in the background; the queue shows it then.
    tokio::time::timeout(Duration::from_secs(10), async {
        while airlock
            .admin_get("quarantine")
            .await
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the quarantine is recorded within 10 s");
    let browser = Browser::start(&workspace.path("chromium")).await;
    let started = std::time::Instant::now();
    browser.open(&format!("{}-/airlock/ui/", airlock.url)).await;
    browser.screenshot("sign-in").await;
    browser.type_into("input[name=user]", "alice").await;
    browser.type_into("input[name=token]", ADMIN_TOKEN).await;
    browser.click("form[action$='sign-in'] button").await;
    let queue = browser.wait_for("reviewed@1.1.0").await;
    assert!(queue.contains("reviewed@1.1.0"), "{queue}");
    browser.screenshot("queue").await;
    browser.click("a[href$='/version/reviewed@1.1.0']").await;
    let version = browser.wait_for("Changes").await;
    assert!(
        version.contains("release-age") && version.contains("quarantine"),
        "{version}"
    );
    // What the package is, for a reviewer who has never seen it.
    assert!(
        version.contains("2 versions, first published")
            && version.contains("Install scripts: <code>none</code>")
            && version.contains("Provenance: none listed"),
        "{version}"
    );
    browser.screenshot("version").await;
    browser
        .type_into(
            "form[action$='approve'] input[name=reason]",
            "changelog and diff reviewed",
        )
        .await;
    browser.click("form[action$='approve'] button").await;
    let done = browser.wait_for("Approved by").await;
    assert!(done.contains("Approved by alice"), "{done}");
    eprintln!("console: sign-in to approval took {:?}", started.elapsed());
    browser.screenshot("approved").await;
    browser.quit().await;

    clients
        .run(
            Client::Npm,
            &project,
            &home,
            &airlock.url,
            &["install", "--fetch-retries=0"],
        )
        .await
        .assert_success();
    let installed: Value = serde_json::from_slice(
        &std::fs::read(project.join("node_modules/reviewed/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(installed["version"], "1.1.0");
}

/// The policy page shows the policy file in force, and says so when the file on
/// disk is no longer the one in force (it changed and did not load).
#[tokio::test]
async fn the_policy_page_shows_the_file_in_force() {
    let registry = FakeRegistry::start().await;
    let workspace = Workspace::new();
    let policy = "min_release_age = \"2d\"\n[gates]\nnew_packages = [\"@corp/*\"]\n";
    let airlock = Airlock::with_policy(&workspace, &registry, policy).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed = http
        .post(format!("{}-/airlock/ui/sign-in", airlock.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("user=alice&token={ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let cookie = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = || async {
        http.get(format!("{}-/airlock/ui/policy", airlock.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let shown = page().await;
    assert!(
        shown.contains("min_release_age = &quot;2d&quot;") && shown.contains("new_packages"),
        "{shown}"
    );
    std::fs::write(workspace.path("policy.toml"), "min_release_age = \n").unwrap();
    let stale = page().await;
    assert!(stale.contains("is not the policy in force"), "{stale}");
}
