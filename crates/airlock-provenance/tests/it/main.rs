//! Registry signatures, a real provenance bundle, and publisher history.

use airlock_npm::{PackageName, Packument, Timestamp};
use airlock_policy::{Code, Finding, Policy, Verdict, reasons};
use airlock_provenance::{
    Keyring, Release, SignatureStatus, Signed, Subject, judge, verify_attestations,
    verify_signatures,
};
use airlock_test::RegistryKeyPair;
use serde_json::json;
use sha2::Digest as _;

fn keyring(pairs: &[&RegistryKeyPair]) -> Keyring {
    let entries: Vec<_> = pairs.iter().map(|pair| pair.key_entry()).collect();
    Keyring::parse(json!({ "keys": entries }).to_string().as_bytes()).unwrap()
}

fn signature(
    pair: &RegistryKeyPair,
    id: &str,
    integrity: &str,
) -> airlock_provenance::RegistrySignature {
    serde_json::from_value(pair.sign(id, integrity)).unwrap()
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

const INTEGRITY: &str = "sha512-cXVpY2sgYnJvd24gZm94";

#[test]
fn a_signature_by_a_known_key_verifies() {
    let pair = RegistryKeyPair::generate("SHA256:test-key");
    let signed = Signed {
        id: "@acme/widget@1.2.3",
        integrity: INTEGRITY,
        published: Some(at("2026-01-01T00:00:00.000Z")),
    };
    let status = verify_signatures(
        &keyring(&[&pair]),
        signed,
        &[signature(&pair, "@acme/widget@1.2.3", INTEGRITY)],
    );
    assert_eq!(
        status,
        SignatureStatus::Verified {
            keyids: vec!["SHA256:test-key".into()]
        }
    );
}

#[test]
fn a_signature_over_other_content_is_invalid() {
    let pair = RegistryKeyPair::generate("SHA256:test-key");
    let keys = keyring(&[&pair]);
    // Signed for another integrity: the tarball was swapped after signing.
    let swapped = signature(&pair, "widget@1.0.0", "sha512-b3RoZXIgdGFyYmFsbA==");
    let signed = Signed {
        id: "widget@1.0.0",
        integrity: INTEGRITY,
        published: None,
    };
    let SignatureStatus::Invalid { reason } = verify_signatures(&keys, signed, &[swapped]) else {
        panic!("a signature over other content must not verify");
    };
    assert!(reason.contains("does not match its integrity"), "{reason}");
    // Signed for another version of the same package: not transferable either.
    let other_version = signature(&pair, "widget@1.0.1", INTEGRITY);
    assert_eq!(
        verify_signatures(&keys, signed, &[other_version]).name(),
        "invalid"
    );
    let garbage = airlock_provenance::RegistrySignature {
        keyid: "SHA256:test-key".into(),
        sig: "bm90IGEgc2lnbmF0dXJl".into(),
    };
    assert_eq!(
        verify_signatures(&keys, signed, &[garbage]).name(),
        "invalid"
    );
}

#[test]
fn a_key_that_expired_before_publication_does_not_count() {
    let pair = RegistryKeyPair::generate("SHA256:old-key").expiring("2025-01-29T00:00:00.000Z");
    let keys = keyring(&[&pair]);
    let sig = signature(&pair, "widget@1.0.0", INTEGRITY);
    let before = Signed {
        id: "widget@1.0.0",
        integrity: INTEGRITY,
        published: Some(at("2024-06-01T00:00:00.000Z")),
    };
    assert_eq!(
        verify_signatures(&keys, before, std::slice::from_ref(&sig)).name(),
        "verified"
    );
    let after = Signed {
        published: Some(at("2025-02-01T00:00:00.000Z")),
        ..before
    };
    let SignatureStatus::Invalid { reason } = verify_signatures(&keys, after, &[sig]) else {
        panic!("a signature made after the key expired must not verify");
    };
    assert!(
        reason.contains("after key `SHA256:old-key` expired"),
        "{reason}"
    );
}

#[test]
fn an_unknown_key_is_invalid_and_no_signature_is_missing() {
    let known = RegistryKeyPair::generate("SHA256:known");
    let stranger = RegistryKeyPair::generate("SHA256:stranger");
    let signed = Signed {
        id: "widget@1.0.0",
        integrity: INTEGRITY,
        published: None,
    };
    let SignatureStatus::Invalid { reason } = verify_signatures(
        &keyring(&[&known]),
        signed,
        &[signature(&stranger, "widget@1.0.0", INTEGRITY)],
    ) else {
        panic!("a signature by an unknown key must not verify");
    };
    assert!(reason.contains("`SHA256:stranger`, which is not among the registry's keys"));
    assert_eq!(
        verify_signatures(&keyring(&[&known]), signed, &[]),
        SignatureStatus::Missing
    );
}

#[test]
fn the_pinned_public_registry_key_verifies_a_real_signature() {
    // A real version's `dist.integrity` and `dist.signatures[0]`, as the public
    // registry serves them.
    let signed = Signed {
        id: "@anthropic-ai/claude-code-linux-x64@2.1.117",
        integrity: "sha512-bhN6qnc9xchKQqKWdwuZazEeSO+9NIhOPcoD/WgqTK5QRPSAwnvo5SZWIQUbkNbTKLaMwuxAu3u+Fj/jYbiidg==",
        published: Some(at("2026-04-20T00:00:00.000Z")),
    };
    let real = airlock_provenance::RegistrySignature {
        keyid: "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U".into(),
        sig: "MEUCIQDUymbxQflsibDfoYq28KKCAIPKbssiUho979lCvEJezQIgHBj/rmNW7BgE8R6GHIAnv92KP0had6nmBupG7SgB7zA=".into(),
    };
    let keys = Keyring::pinned();
    assert_eq!(
        verify_signatures(&keys, signed, std::slice::from_ref(&real)).name(),
        "verified"
    );
    let other = Signed {
        id: "@anthropic-ai/claude-code@2.1.117",
        ..signed
    };
    assert_eq!(verify_signatures(&keys, other, &[real]).name(), "invalid");
}

#[test]
fn keys_documents_are_checked_and_foreign_key_types_left_out() {
    let error = Keyring::parse(br#"{"keys":[{"keyid":"SHA256:x","key":"%%%"}]}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "registry keys: key `SHA256:x` is not base64 DER"
    );
    let error = Keyring::parse(br#"{"keys":[{"keyid":"SHA256:x","key":"AAAA","expires":"soon"}]}"#)
        .unwrap_err();
    assert!(error.to_string().contains("expires at `soon`"), "{error}");
    assert!(Keyring::parse(b"<html>").is_err());
    let keys = Keyring::parse(
        br#"{"keys":[{"keyid":"SHA256:ed","keytype":"ed25519","scheme":"ed25519","key":"AAAA"}]}"#,
    )
    .unwrap();
    assert!(keys.is_empty());
    assert_eq!(Keyring::pinned().keys().len(), 2);
}

use airlock_test::provenance::{
    SIGSTORE_BUNDLE as BUNDLE, SIGSTORE_TARBALL as TARBALL, SLSA_PROVENANCE_V1,
};

/// The attestations document as a registry serves it, around the real bundle.
fn attestations_document() -> Vec<u8> {
    airlock_test::provenance::sigstore_attestations().to_vec()
}

#[test]
fn a_real_provenance_bundle_verifies_against_its_real_tarball() {
    let sha512 = sha2::Sha512::digest(TARBALL);
    let subject = Subject {
        name: "sigstore",
        version: "2.0.0",
        sha512: &sha512,
    };
    let attested =
        verify_attestations(&attestations_document(), subject, &Keyring::pinned()).unwrap();
    assert_eq!(attested.bundles, 1);
    let provenance = attested.provenance.unwrap();
    assert!(
        provenance
            .repository
            .as_deref()
            .is_some_and(|uri| uri.ends_with("/sigstore/sigstore-js")),
        "{provenance:?}"
    );
    assert_eq!(provenance.repository_id.as_deref(), Some("495574555"));
    assert_eq!(
        provenance.commit.as_deref(),
        Some("f0b49a04e5a62250e0f60fb128004a73110fe311")
    );
    assert!(
        provenance
            .workflow
            .as_deref()
            .is_some_and(|workflow| workflow.contains(".github/workflows/release.yml")),
        "{provenance:?}"
    );
    assert_eq!(provenance.predicate_type, SLSA_PROVENANCE_V1);
}

#[test]
fn the_bundle_fails_when_one_byte_of_the_tarball_changes() {
    let mut tarball = TARBALL.to_vec();
    tarball[TARBALL.len() / 2] ^= 1;
    let sha512 = sha2::Sha512::digest(&tarball);
    let subject = Subject {
        name: "sigstore",
        version: "2.0.0",
        sha512: &sha512,
    };
    let error =
        verify_attestations(&attestations_document(), subject, &Keyring::pinned()).unwrap_err();
    assert!(error.contains("does not verify"), "{error}");
}

#[test]
fn the_bundle_of_one_version_does_not_vouch_for_another() {
    let sha512 = sha2::Sha512::digest(TARBALL);
    let subject = Subject {
        name: "sigstore",
        version: "2.0.1",
        sha512: &sha512,
    };
    let error =
        verify_attestations(&attestations_document(), subject, &Keyring::pinned()).unwrap_err();
    assert!(
        error.contains("is about pkg:npm/sigstore@2.0.0, not `pkg:npm/sigstore@2.0.1`"),
        "{error}"
    );
}

#[test]
fn broken_attestation_documents_are_reasons_not_panics() {
    let sha512 = sha2::Sha512::digest(TARBALL);
    let subject = Subject {
        name: "sigstore",
        version: "2.0.0",
        sha512: &sha512,
    };
    let keys = Keyring::pinned();
    for (document, expected) in [
        (&b"{"[..], "not JSON of the npm shape"),
        (br#"{"attestations":[]}"#, "serves none"),
        (
            br#"{"attestations":[{"predicateType":"x","bundle":{"mediaType":"nope"}}]}"#,
            "bundle is malformed",
        ),
    ] {
        let error = verify_attestations(document, subject, &keys).unwrap_err();
        assert!(error.contains(expected), "{expected}: {error}");
    }
    // A bundle signed with a registry key Airlock does not know.
    let mut bundle: serde_json::Value = serde_json::from_str(BUNDLE).unwrap();
    bundle["verificationMaterial"] =
        json!({"publicKey": {"hint": "SHA256:nobody"}, "tlogEntries": []});
    let document =
        json!({"attestations": [{"predicateType": SLSA_PROVENANCE_V1, "bundle": bundle}]});
    let error = verify_attestations(document.to_string().as_bytes(), subject, &keys).unwrap_err();
    assert!(
        error.contains("`SHA256:nobody`, which is not among the registry's keys"),
        "{error}"
    );
}

/// A release line: `(version, publisher, email, attested)`, published a day apart.
fn line(versions: &[(&str, &str, &str, bool)]) -> Vec<Release> {
    versions
        .iter()
        .enumerate()
        .map(|(day, (version, account, email, attested))| Release {
            version: (*version).to_owned(),
            published: Some(at(&format!("2026-03-{:02}T00:00:00.000Z", day + 1))),
            publisher: Some(airlock_provenance::Publisher {
                name: (*account).to_owned(),
                email: Some((*email).to_owned()),
            }),
            provenance: *attested,
            ..Release::default()
        })
        .collect()
}

fn verdict_of(findings: &[Finding], version: &str) -> Verdict {
    let name = PackageName::new("widget").unwrap();
    reasons(findings, &name, version, &Policy::default())
        .into_iter()
        .fold(Verdict::Allow, |verdict, reason| verdict.max(reason.action))
}

fn codes(findings: &[Finding]) -> Vec<Code> {
    findings.iter().map(|finding| finding.code).collect()
}

#[test]
fn a_line_with_provenance_followed_by_a_version_without_is_blocked() {
    let releases = line(&[
        ("1.13.0", "ci-bot", "ci@acme.example", true),
        ("1.14.0", "ci-bot", "ci@acme.example", true),
        ("1.14.1", "ci-bot", "ci@acme.example", false),
    ]);
    let judged = judge(&releases);
    assert!(judged[0].findings.is_empty());
    assert!(judged[1].findings.is_empty());
    assert_eq!(codes(&judged[2].findings), [Code::ProvenanceRegression]);
    assert!(
        judged[2].findings[0]
            .message
            .contains("after 2 version(s) of the 1.x line in a row had it (last: 1.14.0)")
    );
    assert_eq!(verdict_of(&judged[2].findings, "1.14.1"), Verdict::Block);
    assert_eq!(judged[2].baseline.with_provenance, 2);
}

#[test]
fn one_earlier_version_with_provenance_is_a_weak_baseline() {
    let releases = line(&[
        ("2.0.0", "dev", "dev@acme.example", true),
        ("2.0.1", "dev", "dev@acme.example", false),
    ]);
    let judged = judge(&releases);
    assert_eq!(codes(&judged[1].findings), [Code::ProvenanceRegression]);
    assert_eq!(verdict_of(&judged[1].findings, "2.0.1"), Verdict::Warn);
}

#[test]
fn a_line_that_never_had_provenance_says_nothing_by_lacking_it() {
    // The 0.x line never had provenance; the 1.x line always did. Only 1.x's
    // regression counts, and the lines do not mix.
    let mut releases = line(&[
        ("0.27.0", "maintainer", "m@mail.example", false),
        ("0.27.1", "maintainer", "m@mail.example", false),
        ("1.0.0", "maintainer", "m@mail.example", true),
        ("1.0.1", "maintainer", "m@mail.example", true),
        ("0.27.2", "maintainer", "m@mail.example", false),
    ]);
    let judged = judge(&releases);
    assert!(
        judged.iter().all(|judged| judged.findings.is_empty()),
        "{judged:?}"
    );
    assert_eq!(judged[4].baseline.line, "0.x");
    assert_eq!(judged[4].baseline.earlier, 2);
    assert_eq!(verdict_of(&judged[4].findings, "0.27.2"), Verdict::Allow);
    releases[3].provenance = false;
    assert_eq!(
        codes(&judge(&releases)[3].findings),
        [Code::ProvenanceRegression]
    );
}

#[test]
fn an_account_whose_email_domain_changes_is_held() {
    let releases = line(&[
        ("1.0.0", "jason", "jason@mail.example", false),
        ("1.1.0", "jason", "jason@mail.example", false),
        ("1.2.0", "jason", "jason@mail.example", false),
        ("1.2.1", "jason", "jason@anon-mail.example", false),
    ]);
    let judged = judge(&releases);
    assert_eq!(codes(&judged[3].findings), [Code::PublisherChanged]);
    let message = &judged[3].findings[0].message;
    assert!(
        message.contains(
            "with an email at anon-mail.example; on the 1.x line this account used mail.example"
        ),
        "{message}"
    );
    assert_eq!(
        verdict_of(&judged[3].findings, "1.2.1"),
        Verdict::Quarantine { until: None }
    );
}

#[test]
fn a_trusted_publisher_replaced_by_a_human_account_is_blocked() {
    let mut releases = line(&[
        (
            "3.0.0",
            "GitHub Actions",
            "npm-oidc-no-reply@ci.example",
            false,
        ),
        (
            "3.1.0",
            "GitHub Actions",
            "npm-oidc-no-reply@ci.example",
            false,
        ),
        ("3.1.1", "mallory", "mallory@mail.example", false),
    ]);
    releases[0].trusted_publisher = Some("oidc:acme-widget".into());
    releases[1].trusted_publisher = Some("oidc:acme-widget".into());
    let judged = judge(&releases);
    let findings = &judged[2].findings;
    assert_eq!(
        codes(findings),
        [Code::ProvenanceRegression, Code::PublisherChanged]
    );
    assert!(
        findings[0]
            .message
            .contains("published without trusted publishing")
    );
    assert!(
        findings[1]
            .message
            .contains("`mallory`, an account that published none of the 2 earlier version(s)")
    );
    assert!(
        findings[1]
            .message
            .contains("earlier versions came from CI")
    );
    assert_eq!(verdict_of(findings, "3.1.1"), Verdict::Block);
}

#[test]
fn a_new_maintainer_on_a_line_without_ci_only_warns() {
    let releases = line(&[
        ("4.0.0", "alice", "alice@acme.example", false),
        ("4.0.1", "alice", "alice@acme.example", false),
        ("4.0.2", "alice", "alice@acme.example", false),
        ("4.1.0", "bob", "bob@acme.example", false),
    ]);
    let judged = judge(&releases);
    assert_eq!(codes(&judged[3].findings), [Code::PublisherChanged]);
    assert_eq!(verdict_of(&judged[3].findings, "4.1.0"), Verdict::Warn);
}

#[test]
fn provenance_from_another_repository_is_blocked_unless_the_manifest_moved_too() {
    let mut releases = line(&[
        ("5.0.0", "ci", "ci@acme.example", true),
        ("5.0.1", "ci", "ci@acme.example", true),
        ("5.0.2", "ci", "ci@acme.example", true),
    ]);
    for release in &mut releases[..2] {
        release.repository_id = Some("1001".into());
        release.provenance_repository = Some("https://forge.example/acme/widget".into());
    }
    releases[2].repository_id = Some("666".into());
    releases[2].provenance_repository = Some("https://forge.example/mallory/widget".into());
    releases[2].manifest_repository = Some("git+https://forge.example/acme/widget.git".into());
    let judged = judge(&releases);
    assert_eq!(codes(&judged[2].findings), [Code::PublisherChanged]);
    assert!(judged[2].findings[0].message.contains("built from https://forge.example/mallory/widget (repository id 666), not from https://forge.example/acme/widget"));
    assert_eq!(verdict_of(&judged[2].findings, "5.0.2"), Verdict::Block);

    releases[2].manifest_repository = Some("git+https://forge.example/mallory/widget.git".into());
    assert_eq!(
        verdict_of(&judge(&releases)[2].findings, "5.0.2"),
        Verdict::Warn
    );
}

#[test]
fn release_facts_come_from_the_version_documents() {
    let body = json!({
        "name": "widget",
        "dist-tags": {"latest": "1.1.0"},
        "versions": {
            "1.0.0": {"name": "widget", "version": "1.0.0",
                "repository": {"type": "git", "url": "git+https://forge.example/acme/widget.git"},
                "_npmUser": {"name": "GitHub Actions", "email": "npm-oidc-no-reply@ci.example",
                    "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:01"}},
                "dist": {"integrity": INTEGRITY, "attestations": {"url": "x", "provenance": {"predicateType": SLSA_PROVENANCE_V1}}}},
            "1.1.0": {"name": "widget", "version": "1.1.0", "repository": "acme/widget",
                "_npmUser": {"name": "someone", "email": "someone@mail.example"},
                "dist": {"integrity": INTEGRITY}}
        },
        "time": {"1.0.0": "2026-01-01T00:00:00.000Z", "1.1.0": "2026-02-01T00:00:00.000Z"}
    });
    let name = PackageName::new("widget").unwrap();
    let packument = Packument::parse(&name, body.to_string().as_bytes()).unwrap();
    let releases: Vec<Release> = packument
        .versions()
        .map(|(version, doc)| {
            let published = packument
                .publish_time(version)
                .as_deref()
                .and_then(Timestamp::parse);
            Release::from_doc(version, doc, published)
        })
        .collect();
    assert_eq!(releases[0].trusted_publisher.as_deref(), Some("oidc:01"));
    assert!(releases[0].provenance);
    assert!(!releases[1].provenance);
    assert_eq!(
        releases[1].manifest_repository.as_deref(),
        Some("acme/widget")
    );
    assert!(airlock_provenance::same_repository(
        releases[0].manifest_repository.as_deref().unwrap(),
        "https://forge.example/acme/widget"
    ));
    let judged = judge(&releases);
    assert_eq!(
        codes(&judged[1].findings),
        [Code::ProvenanceRegression, Code::PublisherChanged]
    );
}

#[test]
fn a_repository_recreated_under_its_old_name_is_still_blocked() {
    let mut releases = line(&[
        ("6.0.0", "ci", "ci@acme.example", true),
        ("6.0.1", "ci", "ci@acme.example", true),
        ("6.0.2", "ci", "ci@acme.example", true),
    ]);
    for (release, id) in releases.iter_mut().zip(["1001", "1001", "9999"]) {
        release.repository_id = Some(id.into());
        release.provenance_repository = Some("https://forge.example/acme/widget".into());
        release.manifest_repository = Some("git+https://forge.example/acme/widget.git".into());
    }
    let judged = judge(&releases);
    assert_eq!(codes(&judged[2].findings), [Code::PublisherChanged]);
    assert_eq!(verdict_of(&judged[2].findings, "6.0.2"), Verdict::Block);
}

#[test]
fn versions_without_publish_times_are_ordered_without_panicking() {
    // An order that publish times and version numbers disagree on.
    let mut releases = line(&[
        ("1.0.0", "a", "a@acme.example", false),
        ("1.1.0", "a", "a@acme.example", false),
        ("1.2.0", "a", "a@acme.example", false),
    ]);
    releases[0].published = Some(at("2026-03-02T00:00:00.000Z"));
    releases[1].published = None;
    releases[2].published = Some(at("2026-03-01T00:00:00.000Z"));
    let many: Vec<Release> = (0..200)
        .map(|index| Release {
            version: format!("1.{}.{}", index % 7, index),
            published: (index % 3 != 0).then(|| {
                at(&format!(
                    "2026-01-{:02}T00:00:00.000Z",
                    1 + (index * 7) % 28
                ))
            }),
            ..Release::default()
        })
        .collect();
    // Without a time, 1.1.0 comes first on the line; then 1.2.0 (t1), then 1.0.0 (t2).
    let judged = judge(&releases);
    assert_eq!(judged[1].baseline.earlier, 0);
    assert_eq!(judged[2].baseline.earlier, 1);
    assert_eq!(judged[0].baseline.earlier, 2);
    releases.extend(many);
    assert_eq!(judge(&releases).len(), releases.len());
}
