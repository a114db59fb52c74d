//! The review console: sign in, see the queue, read a version's reasons, approve
//! with the session's CSRF token; nothing without a session or with a forged form.

use std::time::{Duration, SystemTime};

use airlock_policy::Policy;
use airlock_server::ServerConfig;
use airlock_test::PackageBuilder;
use axum::body::Body;
use axum::http::Request;

use crate::harness::{ADMIN_TOKEN, Answer, Harness};

async fn quarantined(config: ServerConfig) -> Harness {
    let harness = Harness::with_policy(config, Duration::from_secs(5), Policy::default()).await;
    harness.registry.publish(
        PackageBuilder::new("fresh", "2.0.0-beta.1")
            .published(SystemTime::now() - Duration::from_hours(24 * 40))
            .build(),
    );
    harness.registry.publish(
        PackageBuilder::new("fresh", "2.0.0")
            .published(SystemTime::now() - Duration::from_hours(1))
            .build(),
    );
    // A first request decides it; the decision is recorded in the background.
    assert_eq!(harness.get("/fresh/-/fresh-2.0.0.tgz").await.status, 403);
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let waiting = harness.admin("GET", "/quarantine", None).await.json();
            if waiting.as_array().is_some_and(|list| !list.is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the quarantine is recorded within 10 s");
    harness
}

async fn post(harness: &Harness, path: &str, cookie: Option<&str>, form: &str) -> Answer {
    let mut request = Request::post(path)
        .header("host", "airlock.test:4873")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    harness
        .request(request.body(Body::from(form.to_owned())).unwrap())
        .await
}

fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// `name="csrf" value="…"` from a page.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_owned()
}

#[tokio::test]
async fn a_reviewer_signs_in_reads_the_reasons_and_approves() {
    let harness = quarantined(ServerConfig::default()).await;

    let first = harness.get("/-/airlock/ui/").await;
    assert_eq!(first.status, 200);
    assert!(text(&first).contains("Sign in"), "{}", text(&first));
    assert!(
        !text(&first).contains("fresh@2.0.0"),
        "nothing before sign-in"
    );
    assert!(
        first
            .header("content-security-policy")
            .contains("default-src 'none'")
    );

    let wrong = post(
        &harness,
        "/-/airlock/ui/sign-in",
        None,
        "user=alice&token=nope",
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_empty());

    let signed = post(
        &harness,
        "/-/airlock/ui/sign-in",
        None,
        &format!("user=alice&token={ADMIN_TOKEN}"),
    )
    .await;
    assert_eq!(signed.status, 303);
    let set_cookie = signed.header("set-cookie").to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let queue = harness
        .get_with("/-/airlock/ui/", &[("cookie", &cookie)])
        .await;
    assert_eq!(queue.status, 200);
    let page = text(&queue);
    assert!(
        page.contains("fresh@2.0.0") && page.contains("release-age"),
        "{page}"
    );
    // Filtered by how recently it was decided: within a day it is there; the
    // decision is older than "within 0 s".
    for (within, listed) in [("1d", true), ("0s", false)] {
        let filtered = text(
            &harness
                .get_with(
                    &format!("/-/airlock/ui/?within={within}"),
                    &[("cookie", &cookie)],
                )
                .await,
        );
        assert_eq!(
            filtered.contains("fresh@2.0.0</a>"),
            listed,
            "{within}: {filtered}"
        );
    }
    let filtered = harness
        .get_with(
            "/-/airlock/ui/?code=data-exfiltration",
            &[("cookie", &cookie)],
        )
        .await;
    assert!(
        !text(&filtered).contains("fresh@2.0.0"),
        "the filter applies"
    );

    let version = harness
        .get_with("/-/airlock/ui/version/fresh@2.0.0", &[("cookie", &cookie)])
        .await;
    assert_eq!(version.status, 200);
    let page = text(&version);
    assert!(
        page.contains("quarantine") && page.contains("release-age"),
        "{page}"
    );
    assert!(
        page.contains("Changes since 2.0.0-beta.1"),
        "the diff: {page}"
    );
    assert!(page.contains("Downloads"), "the refused request: {page}");
    let csrf = csrf_of(&page);

    // A form without the session's token is refused, and changes nothing.
    let forged = post(
        &harness,
        "/-/airlock/ui/approve",
        Some(&cookie),
        "csrf=forged&spec=fresh%402.0.0&reason=trust+me&expires=",
    )
    .await;
    assert_eq!(forged.status, 403);
    let no_session = post(
        &harness,
        "/-/airlock/ui/approve",
        None,
        &format!("csrf={csrf}&spec=fresh%402.0.0&reason=x&expires="),
    )
    .await;
    assert_eq!(no_session.status, 401);
    assert_eq!(harness.get("/fresh/-/fresh-2.0.0.tgz").await.status, 403);

    let approved = post(
        &harness,
        "/-/airlock/ui/approve",
        Some(&cookie),
        &format!("csrf={csrf}&spec=fresh%402.0.0&reason=diff+reviewed&expires=7d"),
    )
    .await;
    assert_eq!(approved.status, 303, "{}", text(&approved));
    let location = approved.header("location").to_owned();
    let after = harness.get_with(&location, &[("cookie", &cookie)]).await;
    assert!(
        text(&after).contains("Approved by alice"),
        "{}",
        text(&after)
    );
    assert_eq!(harness.get("/fresh/-/fresh-2.0.0.tgz").await.status, 200);
    let exceptions = harness.admin("GET", "/exceptions", None).await.json();
    assert_eq!(exceptions[0]["author"], "alice");
    assert_eq!(exceptions[0]["reason"], "diff reviewed");

    // The approvals page lists it; revoking it there refuses the version again.
    let listed = harness
        .get_with("/-/airlock/ui/exceptions", &[("cookie", &cookie)])
        .await;
    let page = text(&listed);
    assert!(
        page.contains("fresh@2.0.0") && page.contains("Revoke"),
        "{page}"
    );
    let id = exceptions[0]["id"].as_i64().unwrap();
    let revoked = post(
        &harness,
        "/-/airlock/ui/revoke",
        Some(&cookie),
        &format!("csrf={}&id={id}", csrf_of(&page)),
    )
    .await;
    assert_eq!(revoked.status, 303, "{}", text(&revoked));
    assert_eq!(harness.get("/fresh/-/fresh-2.0.0.tgz").await.status, 403);

    // A denial from the console blocks it, and the denials page names who and why.
    let denied = post(
        &harness,
        "/-/airlock/ui/deny",
        Some(&cookie),
        &format!("csrf={csrf}&spec=fresh%402.0.0&reason=typosquat+of+a+dependency"),
    )
    .await;
    assert_eq!(denied.status, 303, "{}", text(&denied));
    let blocked = harness.get("/fresh/-/fresh-2.0.0.tgz").await;
    assert_eq!(blocked.status, 403);
    assert!(blocked.error().contains("blocked"), "{}", blocked.error());
    let page = text(
        &harness
            .get_with("/-/airlock/ui/denials", &[("cookie", &cookie)])
            .await,
    );
    assert!(
        page.contains("fresh@2.0.0")
            && page.contains("typosquat of a dependency")
            && page.contains("alice"),
        "{page}"
    );
    // Lifting it there leaves the version to the release age again.
    let denial = harness.admin("GET", "/denials", None).await.json()[0]["id"]
        .as_i64()
        .unwrap();
    let lift = post(
        &harness,
        "/-/airlock/ui/lift",
        Some(&cookie),
        &format!("csrf={}&id={denial}", csrf_of(&page)),
    )
    .await;
    assert_eq!(lift.status, 303, "{}", text(&lift));
    let held = harness.get("/fresh/-/fresh-2.0.0.tgz").await;
    assert_eq!(held.status, 403);
    assert!(held.error().contains("quarantined"), "{}", held.error());

    // Exposure: who downloaded it, and the requests refused.
    let exposure = text(
        &harness
            .get_with("/-/airlock/ui/exposure?spec=fresh", &[("cookie", &cookie)])
            .await,
    );
    assert!(
        exposure.contains("downloads served") && exposure.contains("requests refused"),
        "{exposure}"
    );
    assert!(exposure.contains("<code>fresh@2.0.0</code>"), "{exposure}");
    let glob = harness
        .get_with("/-/airlock/ui/exposure?spec=fr*", &[("cookie", &cookie)])
        .await;
    assert_eq!(glob.status, 400);
    assert!(
        text(&glob).contains("names no single package"),
        "{}",
        text(&glob)
    );
    let anonymous = harness.get("/-/airlock/ui/exposure?spec=fresh").await;
    assert!(!text(&anonymous).contains("requests refused"));

    // The policy in force and the advisory set.
    let policy = text(
        &harness
            .get_with("/-/airlock/ui/policy", &[("cookie", &cookie)])
            .await,
    );
    assert!(
        policy.contains("Policy in force")
            && policy.contains("Denials: 0")
            && policy.contains("No policy file")
            && policy.contains("0 advisories in force")
            && policy.contains("Taken down upstream (0)"),
        "{policy}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_its_user_is_signed_in() {
    let harness = quarantined(ServerConfig {
        console_user_header: Some("x-forwarded-user".to_owned()),
        ..ServerConfig::default()
    })
    .await;
    let answer = harness
        .get_with(
            "/-/airlock/ui/",
            &[("x-forwarded-user", "bob@example.test")],
        )
        .await;
    assert_eq!(answer.status, 303);
    let cookie = answer
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let queue = harness
        .get_with("/-/airlock/ui/", &[("cookie", &cookie)])
        .await;
    assert!(
        text(&queue).contains("bob@example.test"),
        "{}",
        text(&queue)
    );
    // Without the header nobody is signed in.
    let plain = harness.get("/-/airlock/ui/").await;
    assert!(text(&plain).contains("Sign in"));
}

#[tokio::test]
async fn the_critical_path_page_says_who_publishes_each_package_and_how() {
    let policy = Policy::from_toml(
        "min_release_age = \"0s\"\n[gates]\ncritical = [\"tool\", \"@scope/*\"]\ncritical_trust_change = true\n",
    )
    .unwrap();
    let harness =
        Harness::with_policy(ServerConfig::default(), Duration::from_secs(5), policy).await;
    for (version, account) in [("1.0.0", "ada"), ("1.1.0", "ada"), ("1.2.0", "grace")] {
        harness.registry.publish(
            PackageBuilder::new("tool", version)
                .field(
                    "_npmUser",
                    serde_json::json!({"name": account, "email": format!("{account}@example.com")}),
                )
                .field("bin", serde_json::json!({"tool": "cli.js"}))
                .script("postinstall", "node setup.js")
                .file("setup.js", "console.log('set up');\n")
                .build(),
        );
    }
    // A glob lists what was served under it.
    assert_eq!(harness.get("/@scope/lib/-/lib-2.0.0.tgz").await.status, 200);
    let signed = post(
        &harness,
        "/-/airlock/ui/sign-in",
        None,
        &format!("user=alice&token={ADMIN_TOKEN}"),
    )
    .await;
    let cookie = signed
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = text(
        &harness
            .get_with("/-/airlock/ui/critical", &[("cookie", &cookie)])
            .await,
    );
    assert!(
        page.contains("a new major waits for a person; so does a version with a new publisher"),
        "{page}"
    );
    assert!(
        page.contains("<code>grace</code>; the 1.x line: 0 of 3 with provenance")
            && page.contains("ada (2), grace (1)")
            && page.contains("install script, a command (bin)")
            && page.contains("never served"),
        "{page}"
    );
    assert!(page.contains("<code>@scope/lib</code>"), "{page}");
    let anonymous = text(&harness.get("/-/airlock/ui/critical").await);
    assert!(!anonymous.contains("grace"), "{anonymous}");
}
