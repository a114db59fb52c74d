//! The project whose lockfiles, written by the real clients against the fake
//! registry, are the lockfile parsers' fixtures.
//!
//! `app` depends on `app-lib` (which pulls `@acme/util` and `tiny-dep@1`), on
//! `@acme/util` directly, on `installer` (an install script), has `test-kit` (which
//! pulls `tiny-dep@2`) as a dev dependency and `opt-native` as an optional one. The
//! tarballs are deterministic, so their integrity is the same on every run.
//!
//! `crates/airlock-lockfile/tests/fixtures/generate.sh` regenerates the fixtures.

use serde_json::{Value, json};

use crate::{FakeRegistry, Package, PackageBuilder};

/// The port the fixtures were generated against; tests rewrite it to their own.
pub const FIXTURE_PORT: u16 = 48744;

/// Every package of the fixture project.
pub fn packages() -> Vec<Package> {
    vec![
        PackageBuilder::new("tiny-dep", "1.0.0").build(),
        PackageBuilder::new("tiny-dep", "2.0.0").build(),
        PackageBuilder::new("@acme/util", "2.1.0")
            .dependency("tiny-dep", "^1.0.0")
            .build(),
        PackageBuilder::new("app-lib", "1.4.0")
            .dependency("@acme/util", "^2.0.0")
            .dependency("tiny-dep", "^1.0.0")
            .build(),
        PackageBuilder::new("installer", "1.0.0")
            .script("postinstall", "node install.js")
            .file("install.js", "console.log('installed');\n")
            .build(),
        PackageBuilder::new("test-kit", "3.0.0")
            .dependency("tiny-dep", "^2.0.0")
            .build(),
        PackageBuilder::new("opt-native", "0.2.0").build(),
    ]
}

/// Publishes the fixture packages.
pub fn publish(registry: &FakeRegistry) {
    for package in packages() {
        registry.publish(package);
    }
}

/// The project's `package.json`.
pub fn project_manifest() -> Value {
    json!({
        "name": "app",
        "version": "1.0.0",
        "private": true,
        "dependencies": {
            "app-lib": "^1.4.0",
            "@acme/util": "^2.1.0",
            "installer": "^1.0.0"
        },
        "devDependencies": {"test-kit": "^3.0.0"},
        "optionalDependencies": {"opt-native": "^0.2.0"}
    })
}
