//! The tarball reader and the whole analysis on arbitrary bytes, raw or gzipped:
//! findings, never a panic or an abort, within the archive's limits.
#![no_main]

use airlock_analyze::{Analysis, Limits, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 2_000,
        max_entry_bytes: 4 * 1024 * 1024,
        max_total_bytes: 16 * 1024 * 1024,
        max_text_bytes: 1024 * 1024,
        max_kept_text_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    };
    let options = Options {
        limits,
        ..Options::default()
    };
    // As given (usually not gzip: the reader's error paths) and gzipped (a tar
    // stream inside: its entry handling).
    let _ = Analysis::of_tarball(data, &options);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, data).expect("writing to memory");
    let gzipped = gz.finish().expect("gzip to memory");
    let _ = Analysis::of_tarball(&gzipped, &options);
});
