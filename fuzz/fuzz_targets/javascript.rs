//! The JavaScript analysis (parser, scopes, data flow, rules) on arbitrary source
//! text, as a package's only file run at install and at import: findings, never a
//! panic, an abort or a stack overflow.
#![no_main]

use airlock_analyze::{Analysis, Archive, Limits, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data).into_owned();
    let manifest = br#"{"name":"fuzzed","version":"1.0.0","main":"index.js","scripts":{"postinstall":"node index.js"}}"#;
    let archive = Archive::from_files(
        [
            ("package.json".to_owned(), manifest.to_vec()),
            ("index.js".to_owned(), source.into_bytes()),
        ],
        &Limits::default(),
    );
    let _ = Analysis::of_archive(&archive, &Options::default());
});
