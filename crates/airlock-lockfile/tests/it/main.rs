//! Lockfiles written by the real clients (see `tests/fixtures/generate.sh`) become
//! the same graph; malformed ones are refused with file, line and reason.

use std::collections::BTreeSet;

mod properties;

use airlock_lockfile::{Format, Graph, Source, parse};

const FIXTURES: [(&str, &str); 8] = [
    (
        "npm-v1.package-lock.json",
        include_str!("../fixtures/npm-v1.package-lock.json"),
    ),
    (
        "npm-v2.package-lock.json",
        include_str!("../fixtures/npm-v2.package-lock.json"),
    ),
    (
        "npm-v3.package-lock.json",
        include_str!("../fixtures/npm-v3.package-lock.json"),
    ),
    (
        "pnpm-v6.pnpm-lock.yaml",
        include_str!("../fixtures/pnpm-v6.pnpm-lock.yaml"),
    ),
    (
        "pnpm-v9.pnpm-lock.yaml",
        include_str!("../fixtures/pnpm-v9.pnpm-lock.yaml"),
    ),
    (
        "yarn-classic.yarn.lock",
        include_str!("../fixtures/yarn-classic.yarn.lock"),
    ),
    (
        "yarn-berry.yarn.lock",
        include_str!("../fixtures/yarn-berry.yarn.lock"),
    ),
    ("bun.lock", include_str!("../fixtures/bun.lock")),
];

fn graph(file: &str) -> Graph {
    let (_, text) = FIXTURES.iter().find(|(name, _)| *name == file).unwrap();
    parse(file, text).unwrap_or_else(|error| panic!("{error}"))
}

fn set(graph: &Graph) -> BTreeSet<String> {
    graph
        .packages
        .iter()
        .map(|package| format!("{}@{}", package.name, package.version))
        .collect()
}

fn index(graph: &Graph, id: &str) -> usize {
    graph
        .packages
        .iter()
        .position(|package| format!("{}@{}", package.name, package.version) == id)
        .unwrap_or_else(|| panic!("{id} missing from {:?}", set(graph)))
}

fn depends(graph: &Graph, from: &str, to: &str) -> bool {
    graph
        .edges
        .contains(&(index(graph, from), index(graph, to)))
}

#[test]
fn every_client_lockfile_becomes_the_same_package_set() {
    let expected: BTreeSet<String> = [
        "@acme/util@2.1.0",
        "app-lib@1.4.0",
        "installer@1.0.0",
        "opt-native@0.2.0",
        "test-kit@3.0.0",
        "tiny-dep@1.0.0",
        "tiny-dep@2.0.0",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for (file, _) in FIXTURES {
        let graph = graph(file);
        assert_eq!(set(&graph), expected, "{file}");
        assert!(
            depends(&graph, "app-lib@1.4.0", "@acme/util@2.1.0"),
            "{file}"
        );
        assert!(depends(&graph, "app-lib@1.4.0", "tiny-dep@1.0.0"), "{file}");
        assert!(
            depends(&graph, "test-kit@3.0.0", "tiny-dep@2.0.0"),
            "{file}"
        );
        assert!(
            !depends(&graph, "test-kit@3.0.0", "tiny-dep@1.0.0"),
            "{file}"
        );
        let roots: BTreeSet<&str> = graph
            .roots
            .iter()
            .map(|&root| graph.packages[root].name.as_str())
            .collect();
        assert!(
            roots.contains("app-lib") && roots.contains("test-kit"),
            "{file}: {roots:?}"
        );
    }
}

#[test]
fn registry_facts_are_kept_where_the_format_has_them() {
    for (file, _) in FIXTURES {
        let graph = graph(file);
        let util = &graph.packages[index(&graph, "@acme/util@2.1.0")];
        assert_eq!(util.source, Source::Registry, "{file}");
        let has_integrity = !matches!(graph.format, Format::YarnBerry);
        assert_eq!(
            util.integrity.as_deref(),
            has_integrity.then_some(
                "sha512-IXz6XcFI6e2tf6yC25OKCNSihunl34+MQGi+X15PNFeF0/fac+1or/AH23SHEUvZrhY9MzTLG9ILJHWCOuTqqg=="
            ),
            "{file}"
        );
        if matches!(
            graph.format,
            Format::Npm(_) | Format::YarnClassic | Format::Bun
        ) {
            assert!(
                util.resolved.as_deref().is_some_and(
                    |url| url.starts_with("http://127.0.0.1:48744/@acme/util/-/util-2.1.0.tgz")
                ),
                "{file}: {util:?}"
            );
        }
    }
}

#[test]
fn dev_and_optional_flags_follow_the_project() {
    for file in [
        "npm-v2.package-lock.json",
        "npm-v3.package-lock.json",
        "pnpm-v6.pnpm-lock.yaml",
        "pnpm-v9.pnpm-lock.yaml",
        "bun.lock",
    ] {
        let graph = graph(file);
        let package = |id: &str| &graph.packages[index(&graph, id)];
        assert!(package("test-kit@3.0.0").dev, "{file}");
        assert!(package("tiny-dep@2.0.0").dev, "{file}");
        assert!(!package("tiny-dep@1.0.0").dev, "{file}");
        assert!(package("opt-native@0.2.0").optional, "{file}");
        assert!(!package("app-lib@1.4.0").optional, "{file}");
    }
    let npm = graph("npm-v3.package-lock.json");
    assert_eq!(
        npm.packages[index(&npm, "installer@1.0.0")].install_script,
        Some(true)
    );
    assert_eq!(
        npm.packages[index(&npm, "app-lib@1.4.0")].install_script,
        Some(false)
    );
    let bun = graph("bun.lock");
    assert_eq!(
        bun.packages[index(&bun, "installer@1.0.0")].install_script,
        Some(true)
    );
}

#[test]
fn every_entry_knows_its_line() {
    for (file, text) in FIXTURES {
        if file.starts_with("npm-v1") {
            continue;
        }
        let graph = graph(file);
        for package in &graph.packages {
            let line = package
                .line
                .unwrap_or_else(|| panic!("{file}: {} has no line", package.name));
            let at = text.lines().nth(line - 1).unwrap();
            assert!(
                at.contains(&package.name),
                "{file}:{line} `{at}` is not {}",
                package.name
            );
        }
    }
}

#[test]
fn formats_are_told_apart() {
    let formats: Vec<Format> = FIXTURES
        .iter()
        .map(|(file, _)| graph(file).format)
        .collect();
    assert_eq!(
        formats,
        [
            Format::Npm(1),
            Format::Npm(2),
            Format::Npm(3),
            Format::Pnpm(6),
            Format::Pnpm(9),
            Format::YarnClassic,
            Format::YarnBerry,
            Format::Bun
        ]
    );
}

#[test]
fn transitive_dependents_count_everything_upstream() {
    let graph = graph("npm-v3.package-lock.json");
    let counts = graph.transitive_dependents();
    // tiny-dep@1 is needed by @acme/util and app-lib (which also needs @acme/util).
    assert_eq!(counts[index(&graph, "tiny-dep@1.0.0")], 2);
    assert_eq!(counts[index(&graph, "app-lib@1.4.0")], 0);
}

#[test]
fn malformed_lockfiles_name_the_file_line_and_reason() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "package-lock.json",
            "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {},\n    \"\": {}\n  }\n}",
            "package-lock.json:5: invalid JSON: duplicate key ``",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\": 3,\n \"packages\": {\n",
            "package-lock.json:3: invalid JSON: EOF while parsing an object",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\": 9, \"packages\": {}}",
            "package-lock.json: `lockfileVersion` 9 is not one Airlock reads (1, 2 or 3); regenerate the lockfile with npm 7 or later",
        ),
        (
            "package-lock.json",
            "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": {\"resolved\": \"x\"}}}",
            "package-lock.json: `packages[\"node_modules/a\"]` has no `version`",
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n  a@1.0.0: {}\n",
            "pnpm-lock.yaml:4: invalid YAML",
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '5.4'\n",
            "`lockfileVersion` 5.4 is not one Airlock reads",
        ),
        (
            "yarn.lock",
            "# yarn lockfile v1\n\na@^1:\n  version \"1.0.0\"\n\na@^1:\n  version \"1.0.1\"\n",
            "yarn.lock:6: duplicate key `a@^1` (first at line 3)",
        ),
        (
            "yarn.lock",
            "# yarn lockfile v1\n\na@^1:\n  version \"1.0.0\"\n      deep \"x\"\n",
            "yarn.lock:5: unexpected indentation of 6 spaces",
        ),
        (
            "bun.lock",
            "{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n    \"a\": [\"a@1.0.0\", \"\", {}, \"sha512-x\"],\n    \"a\": [\"a@1.0.1\", \"\", {}, \"sha512-y\"],\n  },\n}",
            "bun.lock:5: invalid JSON: duplicate key `a`",
        ),
    ];
    for (file, text, expected) in cases {
        let error = parse(file, text).unwrap_err().to_string();
        assert!(
            error.starts_with(expected) || error.contains(expected),
            "{file}: {error}\nexpected: {expected}"
        );
    }
    // Found by the fuzzer: a key starting with a multi-byte character.
    // Found by the fuzzer too: one entry listing a specifier twice.
    assert_eq!(
        parse(
            "yarn.lock",
            "# yarn lockfile v1\n\na@^1, a@^1:\n  version \"1.0.0\"\n"
        )
        .unwrap_err()
        .to_string(),
        "yarn.lock:3: duplicate key `a@^1` (first at line 3)"
    );
    // Also found by the fuzzer: a berry resolution without `@`.
    let error = parse(
        "yarn.lock",
        "__metadata:\n  version: 8\n\n\"kit@npm:^3\":\n  version: 3.0.0\n  resolution: \"kit\"\n",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "yarn.lock:4: the resolution `kit` of `kit@npm:^3` is not `name@reference`"
    );
    let error = parse(
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  é-kit@3.0.0: {}\n",
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("package key `é-kit@3.0.0` is not `name@version`"),
        "{error}"
    );
    assert_eq!(
        parse("Gemfile.lock", "").unwrap_err().to_string(),
        "Gemfile.lock: not a lockfile Airlock reads (one of npm-shrinkwrap.json, package-lock.json, pnpm-lock.yaml, yarn.lock, bun.lock)"
    );
}

#[test]
fn a_second_copy_that_disagrees_is_kept_apart() {
    // The same name and version twice, the nested copy from elsewhere: both are
    // checked, not merged into the honest one.
    let text = r#"{"lockfileVersion": 3, "packages": {
      "": {"dependencies": {"lodash": "4.17.21", "x": "1.0.0"}},
      "node_modules/lodash": {"version": "4.17.21", "resolved": "http://127.0.0.1:1/lodash/-/lodash-4.17.21.tgz", "integrity": "sha512-good"},
      "node_modules/x": {"version": "1.0.0", "resolved": "http://127.0.0.1:1/x/-/x-1.0.0.tgz", "integrity": "sha512-x", "dependencies": {"lodash": "4.17.21"}},
      "node_modules/x/node_modules/lodash": {"version": "4.17.21", "resolved": "https://cdn.example.invalid/l.tgz", "integrity": "sha512-evil"}
    }}"#;
    let graph = parse("package-lock.json", text).unwrap();
    let copies: Vec<&str> = graph
        .packages
        .iter()
        .filter(|package| package.name == "lodash")
        .filter_map(|package| package.integrity.as_deref())
        .collect();
    assert_eq!(copies, ["sha512-good", "sha512-evil"]);
}

#[test]
fn aliases_name_the_real_package() {
    let yarn = "# yarn lockfile v1\n\n\"string-width-cjs@npm:string-width@^4.2.0\":\n  version \"4.2.3\"\n  resolved \"http://127.0.0.1:1/string-width/-/string-width-4.2.3.tgz#abc\"\n  integrity sha512-x\n";
    let graph = parse("yarn.lock", yarn).unwrap();
    assert_eq!(
        (
            graph.packages[0].name.as_str(),
            graph.packages[0].version.as_str()
        ),
        ("string-width", "4.2.3")
    );
    let npm = r#"{"lockfileVersion": 1, "dependencies": {"string-width-cjs": {"version": "npm:string-width@4.2.3", "resolved": "http://127.0.0.1:1/string-width/-/string-width-4.2.3.tgz", "integrity": "sha512-x"}}}"#;
    let graph = parse("package-lock.json", npm).unwrap();
    assert_eq!(
        (
            graph.packages[0].name.as_str(),
            graph.packages[0].version.as_str()
        ),
        ("string-width", "4.2.3")
    );
    // pnpm keys split at the first `@` after a scope: a URL version keeps its own.
    let pnpm = "lockfileVersion: '9.0'\npackages:\n  '@s/p@https://127.0.0.1:1/@s/p/-/p-1.0.0.tgz':\n    resolution: {tarball: 'https://127.0.0.1:1/@s/p/-/p-1.0.0.tgz'}\n";
    let graph = parse("pnpm-lock.yaml", pnpm).unwrap();
    assert_eq!(graph.packages[0].name, "@s/p");
}

#[test]
fn git_file_and_tarball_sources_are_told_apart() {
    let text = r#"{"lockfileVersion": 3, "packages": {
      "": {"dependencies": {"g": "github:o/g", "f": "file:../f", "t": "https://cdn.example.invalid/t.tgz"}},
      "node_modules/g": {"version": "1.0.0", "resolved": "git+ssh://git@forge.example.invalid/o/g.git#0123abcd"},
      "node_modules/f": {"version": "1.0.0", "resolved": "file:../f"},
      "node_modules/t": {"version": "1.0.0", "resolved": "https://cdn.example.invalid/t.tgz", "integrity": "sha512-x"}
    }}"#;
    let graph = parse("package-lock.json", text).unwrap();
    let sources: Vec<Source> = graph
        .packages
        .iter()
        .map(|package| package.source)
        .collect();
    assert_eq!(sources, [Source::Git, Source::File, Source::Tarball]);
}
