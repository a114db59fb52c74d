//! OSV records and zip exports on arbitrary bytes: an advisory, nothing, or an
//! error naming the record. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(advisory)) = airlock_advisory::parse_record(data, "fuzzed.json") {
        let _ = serde_json::to_string(&advisory.id);
    }
    let _ = airlock_advisory::parse_zip(data, "fuzzed.zip");
});
