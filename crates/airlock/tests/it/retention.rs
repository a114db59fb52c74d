//! `airlock gc`: cached tarballs nobody asks for go (and come back verified when
//! asked), taken-down versions stay, the download log stays unless asked.

use airlock_test::{FakeRegistry, PackageBuilder};

use crate::support::{Airlock, Workspace, run_airlock};

fn blob_files(data: &std::path::Path) -> usize {
    fn walk(path: &std::path::Path) -> usize {
        std::fs::read_dir(path).map_or(0, |entries| {
            entries
                .map(|entry| {
                    let path = entry.unwrap().path();
                    if path.is_dir() { walk(&path) } else { 1 }
                })
                .sum()
        })
    }
    walk(&data.join("blobs"))
}

async fn gc(workspace: &Workspace, args: &[&str]) -> (Option<i32>, String) {
    let data = workspace.path("data");
    let mut all = vec![std::ffi::OsStr::new("gc")];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    all.extend([std::ffi::OsStr::new("--data-dir"), data.as_os_str()]);
    run_airlock(&workspace.path("home"), &all).await
}

#[tokio::test]
async fn gc_removes_idle_tarballs_keeps_taken_down_ones_and_refetches_on_demand() {
    let registry = FakeRegistry::start().await;
    let kept = PackageBuilder::new("cached", "1.0.0").build();
    registry.publish(kept.clone());
    registry.publish(PackageBuilder::new("gone", "1.0.0").build());
    registry.publish(PackageBuilder::new("gone", "1.1.0").build());
    let workspace = Workspace::new();
    let data = workspace.path("data");
    let airlock = Airlock::with_admin_token(&workspace, &registry).await;
    let get = |path: &str| reqwest::get(format!("{}{path}", airlock.url));
    assert_eq!(
        get("cached/-/cached-1.0.0.tgz").await.unwrap().status(),
        200
    );
    assert_eq!(get("gone/-/gone-1.0.0.tgz").await.unwrap().status(), 200);
    // The upstream takes `gone@1.0.0` down; Airlock notices on its next look.
    registry.unpublish("gone", "1.0.0");
    assert_eq!(get("gone/9.9.9").await.unwrap().status(), 404);
    let before = blob_files(&data);
    assert!(before >= 2, "{before}");

    // Stored just now: not idle for an hour.
    let (code, out) = gc(&workspace, &["--unused-for", "1h"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("removed 0 cached tarballs"), "{out}");

    let (code, out) = gc(&workspace, &["--unused-for", "0s", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("would remove") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(blob_files(&data), before, "a dry run removes nothing");

    let (code, out) = gc(&workspace, &["--unused-for", "0s"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("removed"), "{out}");
    assert_eq!(
        blob_files(&data),
        1,
        "only the taken-down version's tarball stays: {out}"
    );
    // Asked for again, the removed tarball is fetched, verified and served whole.
    let again = get("cached/-/cached-1.0.0.tgz").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.bytes().await.unwrap(), kept.tarball);

    // The download log stays unless asked; asked, it goes.
    let exposure = airlock.admin_get("exposure?spec=cached").await;
    assert_eq!(exposure["downloads"].as_array().unwrap().len(), 2);
    let (code, out) = gc(&workspace, &["--downloads-older-than", "0s"]).await;
    assert_eq!(code, Some(0), "{out}");
    let exposure = airlock.admin_get("exposure?spec=cached").await;
    assert!(
        exposure["downloads"].as_array().unwrap().is_empty(),
        "{exposure}"
    );

    let (code, out) = gc(&workspace, &["--unused-for", "soon"]).await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("--unused-for soon") && out.contains("hint:"),
        "{out}"
    );
}
