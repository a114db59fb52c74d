//! The packument parser and renderer on arbitrary bytes: an error or a document
//! whose every rendering is JSON (by the grammar: upstream numbers are copied as
//! they came, `1e999` included, as clients' `JSON.parse` reads them) that parses
//! again. Never a panic.
#![no_main]

use airlock_npm::{Form, Packument, PackageName, TarballBase};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = PackageName::new("fuzzed").expect("a valid name");
    let Ok(packument) = Packument::parse(&name, data) else {
        return;
    };
    let base = TarballBase::new("http://127.0.0.1:4873");
    let view = packument.view_all();
    for form in [Form::Full, Form::Abbreviated] {
        let rendered = packument.render(&view, form, &base);
        let value: &serde_json::value::RawValue =
            serde_json::from_slice(&rendered).expect("a rendering is JSON");
        assert!(value.get().starts_with('{'));
        Packument::parse(&name, &rendered).expect("a rendering parses again");
    }
    // Every other version withheld, as a quarantine does.
    let mut keep = false;
    let half = packument.view(|_, _| {
        keep = !keep;
        keep
    });
    let rendered = packument.render(&half, Form::Abbreviated, &base);
    serde_json::from_slice::<&serde_json::value::RawValue>(&rendered)
        .expect("a partial view is JSON");
    for (version, doc) in packument.versions() {
        let one = packument.render_version(version, doc, &base);
        serde_json::from_slice::<&serde_json::value::RawValue>(&one)
            .expect("a version document is JSON");
    }
});
