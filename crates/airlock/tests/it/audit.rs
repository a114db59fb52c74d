//! `airlock audit` on lockfiles the real clients wrote (committed fixtures of
//! `airlock-lockfile`), standalone and through a running server.

use std::path::{Path, PathBuf};

use airlock_test::{Clients, FakeRegistry, PackageBuilder, lockfiles};

use crate::support::{Airlock, CliRun, Workspace, airlock_command};

/// `(fixture, the file name the client gives it)`.
const FIXTURES: [(&str, &str); 8] = [
    ("npm-v1.package-lock.json", "package-lock.json"),
    ("npm-v2.package-lock.json", "package-lock.json"),
    ("npm-v3.package-lock.json", "npm-shrinkwrap.json"),
    ("pnpm-v6.pnpm-lock.yaml", "pnpm-lock.yaml"),
    ("pnpm-v9.pnpm-lock.yaml", "pnpm-lock.yaml"),
    ("yarn-classic.yarn.lock", "yarn.lock"),
    ("yarn-berry.yarn.lock", "yarn.lock"),
    ("bun.lock", "bun.lock"),
];

/// The policy every refusing test uses.
const DENY_TINY_DEP: &str =
    "[[deny]]\npackage = \"tiny-dep@1.0.0\"\nreason = \"compromised release\"\n";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../airlock-lockfile/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A project directory holding `fixture` as `file_name`, its URLs moved to `registry`.
fn project(
    workspace: &Workspace,
    dir: &str,
    fixture_name: &str,
    file_name: &str,
    registry: &FakeRegistry,
) -> PathBuf {
    let project = workspace.path(dir);
    std::fs::create_dir_all(&project).unwrap();
    let text = fixture(fixture_name).replace(
        &format!("127.0.0.1:{}", lockfiles::FIXTURE_PORT),
        &registry.addr().to_string(),
    );
    std::fs::write(project.join(file_name), text).unwrap();
    std::fs::write(
        project.join("package.json"),
        lockfiles::project_manifest().to_string(),
    )
    .unwrap();
    project
}

async fn audit(workspace: &Workspace, registry: &FakeRegistry, args: &[&str]) -> CliRun {
    let data = workspace.path("data");
    let policy = workspace.path("policy.toml");
    let mut command = airlock_command(&workspace.path("home"));
    command.arg("audit").args(args).args([
        "--data-dir",
        data.to_str().unwrap(),
        "--upstream",
        &registry.url(),
        "--log",
        "warn",
    ]);
    if policy.exists() {
        command.args(["--policy", policy.to_str().unwrap()]);
    }
    let output = command.output().await.unwrap();
    CliRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            format!(
                "{} {}@{} {}",
                finding["severity"].as_str().unwrap(),
                finding["package"].as_str().unwrap(),
                finding["version"].as_str().unwrap(),
                finding["code"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn every_clients_lockfile_audits_clean() {
    let (registry, workspace) = fixture_registry().await;
    for (index, (fixture_name, file_name)) in FIXTURES.iter().enumerate() {
        let project = project(
            &workspace,
            &format!("p{index}"),
            fixture_name,
            file_name,
            &registry,
        );
        let run = audit(
            &workspace,
            &registry,
            &[project.to_str().unwrap(), "--format", "json"],
        )
        .await;
        assert_eq!(
            run.code,
            Some(0),
            "{fixture_name}: {}{}",
            run.stdout,
            run.stderr
        );
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["lockfiles"][0]["packages"], 7, "{fixture_name}");
        assert_eq!(codes(&report), Vec::<String>::new(), "{fixture_name}");
    }
}

#[tokio::test]
async fn a_registry_mirror_with_the_registrys_integrity_is_a_note_not_a_failure() {
    let (registry, workspace) = fixture_registry().await;
    let project = project(
        &workspace,
        "project",
        "yarn-classic.yarn.lock",
        "yarn.lock",
        &registry,
    );
    // Written through a registry alias (as Yarn classic's default host is): same
    // paths, same integrity, another host.
    let lockfile = project.join("yarn.lock");
    let text = std::fs::read_to_string(&lockfile)
        .unwrap()
        .replace(&registry.url(), "https://mirror.example/");
    std::fs::write(&lockfile, &text).unwrap();
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found = codes(&report);
    assert!(!found.is_empty(), "the mirror is noted");
    assert!(
        found
            .iter()
            .all(|code| code.starts_with("low ") && code.ends_with(" lockfile-outside-registry")),
        "{found:?}"
    );

    // The same host with another tarball's bytes is not a mirror.
    let forged = text.replacen("integrity sha512-", "integrity sha512-AAAA", 1);
    std::fs::write(&lockfile, forged).unwrap();
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        codes(&report)
            .iter()
            .any(|code| code.starts_with("high ") && code.ends_with(" lockfile-outside-registry")),
        "{:?}",
        codes(&report)
    );
}

#[tokio::test]
async fn a_lockfile_written_through_airlock_itself_audits_clean_standalone() {
    let (registry, workspace) = fixture_registry().await;
    let project = project(
        &workspace,
        "project",
        "npm-v3.package-lock.json",
        "package-lock.json",
        &registry,
    );
    // Installed through an Airlock on its default address.
    let lockfile = project.join("package-lock.json");
    let text = std::fs::read_to_string(&lockfile)
        .unwrap()
        .replace(&registry.url(), "http://localhost:4873/");
    std::fs::write(&lockfile, text).unwrap();
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(codes(&report), Vec::<String>::new());
}

/// The registry serving the lockfile fixtures' packages, and an empty workspace.
async fn fixture_registry() -> (FakeRegistry, Workspace) {
    let registry = FakeRegistry::start().await;
    lockfiles::publish(&registry);
    (registry, Workspace::new())
}

/// The fixture registry, a workspace, and the tampered project in it.
async fn tampered_project() -> (FakeRegistry, Workspace, PathBuf) {
    let (registry, workspace) = fixture_registry().await;
    let project = tampered(&workspace, &registry);
    (registry, workspace, project)
}

/// The policy refuses `tiny-dep@1.0.0`; the lockfile was edited: another integrity
/// for `opt-native`, `test-kit`'s entry downloads another package, and a git
/// dependency.
fn tampered(workspace: &Workspace, registry: &FakeRegistry) -> PathBuf {
    std::fs::write(workspace.path("policy.toml"), DENY_TINY_DEP).unwrap();
    let project = project(
        workspace,
        "project",
        "npm-v3.package-lock.json",
        "package-lock.json",
        registry,
    );
    let lockfile = project.join("package-lock.json");
    let mut document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lockfile).unwrap()).unwrap();
    let packages = document["packages"].as_object_mut().unwrap();
    let opt = packages.get_mut("node_modules/opt-native").unwrap();
    opt["integrity"] = "sha512-b3RoZXIgdGFyYmFsbCBlbnRpcmVseSwgbm90IHRoZSBvbmUgdGhlIHJlZ2lzdHJ5IGxpc3RzLi4uLi4uLi4uLg==".into();
    let kit = packages.get_mut("node_modules/test-kit").unwrap();
    kit["resolved"] = format!("{}app-lib/-/app-lib-1.4.0.tgz", registry.url()).into();
    packages.insert(
        "node_modules/forked".into(),
        serde_json::json!({"version": "1.0.0", "resolved": "git+ssh://git@forge.example.invalid/someone/forked.git#0123456789abcdef", "license": "MIT"}),
    );
    std::fs::write(&lockfile, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    project
}

#[tokio::test]
async fn a_lockfile_pinning_a_refused_version_fails_with_the_why_and_the_fix() {
    let (registry, workspace, project) = tampered_project().await;
    let run = audit(&workspace, &registry, &[project.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    // The table, with this run's paths and port taken out, is the snapshot;
    // `AIRLOCK_BLESS=1` rewrites it after a deliberate change.
    let table = run
        .stdout
        .replace(project.to_str().unwrap(), "<project>")
        .replace(&registry.url(), "<registry>/");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audit-tampered.txt");
    if std::env::var_os("AIRLOCK_BLESS").is_some() {
        std::fs::write(&snapshot, &table).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap();
    assert_eq!(table, expected, "the table changed; new output:\n{table}");

    let json = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(json.code, Some(1));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        codes(&report),
        [
            "critical opt-native@0.2.0 lockfile-integrity-mismatch",
            "critical test-kit@3.0.0 lockfile-name-confusion",
            "critical tiny-dep@1.0.0 known-malicious",
            "medium forked@1.0.0 lockfile-unregistered-source",
        ]
    );
    // Only critical findings: `--fail-on critical` still fails, `never` does not.
    let never = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--fail-on", "never"],
    )
    .await;
    assert_eq!(never.code, Some(0));
}

#[tokio::test]
async fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let clients = Clients::locate();
    let (registry, workspace, project) = tampered_project().await;
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "sarif"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|result| {
        result["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .is_some()
    }));
    let output = workspace.path("audit.sarif");
    std::fs::write(&output, &run.stdout).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let compile = format!(
        "const validate = ajv.compile(JSON.parse(fs.readFileSync({schema:?}, 'utf8')));",
        schema = schema.to_str().unwrap()
    );
    let validation = ajv_validate(&clients, &compile, &output);
    assert!(validation.0, "{}", validation.1);
    // A broken document fails the same validation: the check can fail.
    std::fs::write(
        &output,
        r#"{"version": "2.1.0", "runs": [{"results": []}]}"#,
    )
    .unwrap();
    assert!(!ajv_validate(&clients, &compile, &output).0);
}

/// Validates the JSON document at `document` with Ajv (from the test clients), the
/// validator built by `compile` (JavaScript that defines `validate` from `ajv`,
/// `fs` and `path`): whether it is valid, and Ajv's errors.
fn ajv_validate(clients: &Clients, compile: &str, document: &Path) -> (bool, String) {
    let script = format!(
        "const Ajv = require({ajv:?}); const fs = require('fs'); const path = require('path');\
         const ajv = new Ajv({{strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false}});\
         {compile}\
         if (!validate(JSON.parse(fs.readFileSync({document:?}, 'utf8')))) {{ console.error(JSON.stringify(validate.errors, null, 1)); process.exit(1); }}",
        ajv = clients.module("ajv").to_str().unwrap(),
        document = document.to_str().unwrap(),
    );
    let output = std::process::Command::new("node")
        .args(["-e", &script])
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn the_server_decides_the_same_as_standalone() {
    // The server also names its upstream, so URLs under it are no anomaly.
    let (registry, workspace, project) = tampered_project().await;
    let standalone = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    let airlock = Airlock::with_policy(&workspace, &registry, DENY_TINY_DEP).await;
    let output = airlock_command(&workspace.path("home"))
        .args([
            "audit",
            project.to_str().unwrap(),
            "--format",
            "json",
            "--server",
            &airlock.url,
            "--admin-token",
            crate::support::ADMIN_TOKEN,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let through_server: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let here: serde_json::Value = serde_json::from_str(&standalone.stdout).unwrap();
    assert_eq!(codes(&through_server), codes(&here));
}

#[tokio::test]
async fn unreadable_lockfiles_exit_2_with_the_file_line_and_reason() {
    let registry = FakeRegistry::start().await;
    let workspace = Workspace::new();
    let project = workspace.path("broken");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("yarn.lock"),
        "# yarn lockfile v1\n\na@^1:\n  version \"1.0.0\"\n\na@^1:\n  version \"1.0.1\"\n",
    )
    .unwrap();
    let run = audit(&workspace, &registry, &[project.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("yarn.lock:6: duplicate key `a@^1` (first at line 3)"),
        "{}",
        run.stderr
    );
    let empty = workspace.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = audit(&workspace, &registry, &[empty.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("no lockfile in"), "{}", run.stderr);
}

/// The fixture project's npm v3 lockfile with `uuid@9.0.1` (published by the
/// caller) locked as a direct dependency.
fn project_with_uuid(workspace: &Workspace, registry: &FakeRegistry) -> std::path::PathBuf {
    let project = project(
        workspace,
        "project",
        "npm-v3.package-lock.json",
        "package-lock.json",
        registry,
    );
    let lockfile = project.join("package-lock.json");
    let mut document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lockfile).unwrap()).unwrap();
    let uuid = registry.package("uuid", "9.0.1").unwrap();
    document["packages"]["node_modules/uuid"] = serde_json::json!({
        "version": "9.0.1",
        "resolved": format!("{}uuid/-/uuid-9.0.1.tgz", registry.url()),
        "integrity": uuid.integrity,
    });
    document["packages"][""]["dependencies"]["uuid"] = "^9.0.0".into();
    std::fs::write(&lockfile, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    project
}

#[tokio::test]
async fn critical_ranks_by_reach_and_names_what_the_platform_provides() {
    let (registry, workspace) = fixture_registry().await;
    registry.publish(
        PackageBuilder::new("uuid", "9.0.0")
            .field(
                "_npmUser",
                serde_json::json!({"name": "broofa", "email": "b@example.com"}),
            )
            .build(),
    );
    registry.publish(
        PackageBuilder::new("uuid", "9.0.1")
            .field(
                "_npmUser",
                serde_json::json!({"name": "ctavan", "email": "c@example.com"}),
            )
            .field("bin", serde_json::json!({"uuid": "dist/bin/uuid"}))
            .build(),
    );
    let project = project_with_uuid(&workspace, &registry);
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--critical", "--format", "json"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let ranked = report["critical"]["ranked"].as_array().unwrap();
    // tiny-dep@1 is what most of the tree needs; the install script raises installer.
    assert_eq!(ranked[0]["package"], "tiny-dep");
    assert_eq!(ranked[0]["dependents"], 2);
    let installer = ranked
        .iter()
        .find(|entry| entry["package"] == "installer")
        .unwrap();
    assert_eq!(installer["install_script"], true);
    // Who publishes it: the locked version's account, every account with its
    // versions, the line's provenance, and the command it ships.
    let uuid = ranked
        .iter()
        .find(|entry| entry["package"] == "uuid")
        .unwrap();
    assert_eq!(uuid["publisher"], "ctavan", "{uuid}");
    assert_eq!(uuid["trusted_publishing"], false);
    assert_eq!(uuid["line"], "9.x");
    assert_eq!(uuid["line_versions"], 2);
    assert_eq!(uuid["line_with_provenance"], 0);
    assert_eq!(uuid["bin"], true);
    let accounts: Vec<&str> = uuid["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["name"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["broofa", "ctavan"]);
    assert_eq!(report["critical"]["replaceable"][0]["package"], "uuid");
    assert_eq!(
        report["critical"]["replaceable"][0]["replacement"],
        "crypto.randomUUID"
    );
    let table = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--critical"],
    )
    .await;
    assert!(
        table
            .stdout
            .contains("uuid                     -> crypto.randomUUID, Node.js 14.17+"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("uuid@9.0.1: published by `ctavan`; the 9.x line: 0 of 2 stable versions with provenance")
            && table.stdout.contains("ships a command (`bin`)"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn a_version_locked_inside_its_quarantine_is_noted() {
    let (registry, workspace) = fixture_registry().await;
    let project = project(
        &workspace,
        "project",
        "npm-v3.package-lock.json",
        "package-lock.json",
        &registry,
    );
    // The fixture packages were published 30 days ago; this lockfile was written a day
    // later (not a git work tree, so its modification time counts), inside the
    // default 72 h quarantine.
    let written = std::time::SystemTime::now() - std::time::Duration::from_hours(29 * 24);
    std::fs::File::options()
        .write(true)
        .open(project.join("package-lock.json"))
        .unwrap()
        .set_modified(written)
        .unwrap();
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(
        run.code,
        Some(0),
        "low findings do not fail the default --fail-on high"
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let noted = codes(&report);
    assert_eq!(noted.len(), 7, "{noted:?}");
    assert!(
        noted
            .iter()
            .all(|row| row.starts_with("low ") && row.ends_with(" lockfile-locked-young")),
        "{noted:?}"
    );
    let why = report["findings"][0]["why"].as_str().unwrap();
    assert!(
        why.contains("was locked 1 d after it was published"),
        "{why}"
    );
    assert!(report["lockfiles"][0]["locked_at"].as_str().is_some());
}

#[tokio::test]
async fn every_clients_lockfile_audits_to_its_snapshot() {
    let (registry, workspace) = fixture_registry().await;
    std::fs::write(workspace.path("policy.toml"), DENY_TINY_DEP).unwrap();
    for (index, (fixture_name, file_name)) in FIXTURES.iter().enumerate() {
        let project = project(
            &workspace,
            &format!("p{index}"),
            fixture_name,
            file_name,
            &registry,
        );
        let run = audit(&workspace, &registry, &[project.to_str().unwrap()]).await;
        assert_eq!(
            run.code,
            Some(1),
            "{fixture_name}: {}{}",
            run.stdout,
            run.stderr
        );
        let table = run
            .stdout
            .replace(project.to_str().unwrap(), "<project>")
            .replace(&registry.url(), "<registry>/");
        let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/audit")
            .join(format!("{fixture_name}.txt"));
        if std::env::var_os("AIRLOCK_BLESS").is_some() {
            std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
            std::fs::write(&snapshot, &table).unwrap();
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_else(|error| {
            panic!("{}: {error} (run with AIRLOCK_BLESS=1)", snapshot.display())
        });
        assert_eq!(
            table, expected,
            "{fixture_name}: the table changed; new output:\n{table}"
        );
    }
}

#[tokio::test]
async fn no_analysis_decides_without_fetching_a_tarball() {
    let (registry, workspace) = fixture_registry().await;
    let project = project(
        &workspace,
        "project",
        "pnpm-v9.pnpm-lock.yaml",
        "pnpm-lock.yaml",
        &registry,
    );
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--no-analysis"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let tarballs = registry
        .requests()
        .iter()
        .filter(|request| request.path.ends_with(".tgz"))
        .count();
    assert_eq!(tarballs, 0);
    // Without the flag the versions are fetched and analysed.
    audit(&workspace, &registry, &[project.to_str().unwrap()]).await;
    assert!(
        registry
            .requests()
            .iter()
            .any(|request| request.path.ends_with(".tgz"))
    );
}

/// With the new-package gate on, a standalone audit on a fresh machine would call
/// every package new; the project's own lockfile passed as `--baseline` makes its
/// packages known, so turning the gate on does not fail the current lockfile.
#[tokio::test]
async fn a_baseline_keeps_the_new_package_gate_from_failing_the_current_lockfile() {
    let (registry, workspace) = fixture_registry().await;
    std::fs::write(
        workspace.path("policy.toml"),
        "min_release_age = \"0s\"\n[gates]\nnew_packages = true\n",
    )
    .unwrap();
    let project = project(
        &workspace,
        "gated",
        "npm-v3.package-lock.json",
        "npm-shrinkwrap.json",
        &registry,
    );
    let path = project.to_str().unwrap();
    let gated = audit(&workspace, &registry, &[path, "--format", "json"]).await;
    assert_eq!(gated.code, Some(1), "{}{}", gated.stdout, gated.stderr);
    let report: serde_json::Value = serde_json::from_str(&gated.stdout).unwrap();
    let held = codes(&report);
    assert_eq!(held.len(), 7, "{held:?}");
    assert!(
        held.iter().all(|row| row.ends_with(" new-package")),
        "{held:?}"
    );

    let known = audit(
        &workspace,
        &registry,
        &[path, "--baseline", path, "--format", "json"],
    )
    .await;
    assert_eq!(known.code, Some(0), "{}{}", known.stdout, known.stderr);
}

/// `--critical --write-policy` turns the ranking into the policy's critical-path
/// list; a policy that already has `[gates]` is not rewritten.
#[tokio::test]
async fn the_critical_ranking_becomes_the_critical_path_gate() {
    let (registry, workspace) = fixture_registry().await;
    let project = project(
        &workspace,
        "project",
        "npm-v3.package-lock.json",
        "package-lock.json",
        &registry,
    );
    let written = workspace.path("written-policy.toml");
    std::fs::write(&written, "min_release_age = \"0s\"\n").unwrap();
    let args = [
        project.to_str().unwrap(),
        "--critical",
        "--write-policy",
        written.to_str().unwrap(),
    ];
    let run = audit(&workspace, &registry, &args).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.starts_with("min_release_age = \"0s\"\n"), "{text}");
    let policy = airlock_policy::Policy::from_toml(&text).unwrap();
    for name in ["tiny-dep", "installer"] {
        assert!(
            policy
                .gates()
                .is_critical(&airlock_npm::PackageName::new(name).unwrap()),
            "{text}"
        );
    }

    let again = audit(&workspace, &registry, &args).await;
    assert_eq!(again.code, Some(2), "{again:?}");
    assert!(
        again.stderr.contains("already has a [gates] section"),
        "{again:?}"
    );
    assert_eq!(std::fs::read_to_string(&written).unwrap(), text);
}

#[tokio::test]
async fn cyclonedx_output_validates_against_the_cyclonedx_1_6_schema() {
    let clients = Clients::locate();
    let (registry, workspace) = fixture_registry().await;
    registry.publish(
        PackageBuilder::new("uuid", "9.0.1")
            .field("license", serde_json::json!("MIT"))
            .build(),
    );
    let project = project_with_uuid(&workspace, &registry);
    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "cyclonedx"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let bom: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    let components = bom["components"].as_array().unwrap();
    let uuid_component = components
        .iter()
        .find(|component| component["name"] == "uuid")
        .unwrap();
    assert_eq!(uuid_component["purl"], "pkg:npm/uuid@9.0.1");
    assert_eq!(uuid_component["licenses"][0]["expression"], "MIT");
    assert_eq!(uuid_component["hashes"][0]["alg"], "SHA-512");
    assert_eq!(
        uuid_component["hashes"][0]["content"]
            .as_str()
            .unwrap()
            .len(),
        128
    );
    let dependencies = bom["dependencies"].as_array().unwrap();
    assert_eq!(dependencies.len(), components.len());
    assert!(
        dependencies
            .iter()
            .any(|entry| !entry["dependsOn"].as_array().unwrap().is_empty()),
        "{bom}"
    );

    let output = workspace.path("bom.json");
    std::fs::write(&output, &run.stdout).unwrap();
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cyclonedx");
    // The vendored schema names its references by file; they resolve by `$id`.
    let compile = format!(
        "const read = (name) => JSON.parse(fs.readFileSync(path.join({schemas:?}, name), 'utf8'));\
         ajv.addSchema(read('spdx.schema.json')); ajv.addSchema(read('jsf-0.82.schema.json'));\
         const bom = JSON.parse(JSON.stringify(read('bom-1.6.schema.json')).split('spdx.SNAPSHOT.schema.json').join('spdx.schema.json').split('jsf-0.82.SNAPSHOT.schema.json').join('jsf-0.82.schema.json'));\
         const validate = ajv.compile(bom);",
        schemas = schemas.to_str().unwrap()
    );
    let validation = ajv_validate(&clients, &compile, &output);
    assert!(validation.0, "{}", validation.1);
    // A component with a malformed hash fails the same validation: the check can fail.
    let mut broken = bom.clone();
    broken["components"][0]["hashes"] = serde_json::json!([{"alg": "SHA-512", "content": "zz"}]);
    std::fs::write(&output, broken.to_string()).unwrap();
    assert!(!ajv_validate(&clients, &compile, &output).0);
}

#[tokio::test]
async fn a_lockfile_with_a_critical_vulnerability_fails_as_known_vulnerable_not_malware() {
    let (registry, workspace) = fixture_registry().await;
    let project = project(
        &workspace,
        "project",
        "npm-v3.package-lock.json",
        "package-lock.json",
        &registry,
    );
    // A GitHub-database vulnerability record, imported by a server on the same data
    // directory from its configured advisory path.
    let advisories = workspace.path("advisories");
    std::fs::create_dir_all(&advisories).unwrap();
    std::fs::write(
        advisories.join("GHSA-vvvv-wwww-xxxx.json"),
        serde_json::json!({
            "id": "GHSA-vvvv-wwww-xxxx", "aliases": ["CVE-2026-4242"],
            "summary": "Command injection in tiny-dep",
            "affected": [{"package": {"ecosystem": "npm", "name": "tiny-dep"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}],
            "database_specific": {"severity": "CRITICAL", "cwe_ids": ["CWE-78"]}
        })
        .to_string(),
    )
    .unwrap();
    let config = workspace.path("airlock.toml");
    std::fs::write(&config, "[advisories]\npath = \"advisories\"\n").unwrap();
    let server =
        Airlock::with_config_file(&workspace, &registry, &workspace.path("home"), &config).await;
    server.wait_for_advisories(1).await;
    server.kill().await;

    let run = audit(
        &workspace,
        &registry,
        &[project.to_str().unwrap(), "--format", "json"],
    )
    .await;
    assert_eq!(
        run.code,
        Some(1),
        "fails at --fail-on high: {}{}",
        run.stdout,
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["package"] == "tiny-dep")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(found["code"], "known-vulnerable");
    assert_eq!(found["severity"], "critical");
    assert_eq!(found["fix"], "upgrade `tiny-dep` to 1.0.1 or later");
    assert!(
        !codes(&report).contains(&"known-malicious".to_owned()),
        "{report}"
    );
}
