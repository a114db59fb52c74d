//! Synthetic registry contents for benchmarks.
//!
//! - `many-versions`: one package with 300 versions across 10 majors, each with a
//!   handful of dependencies and metadata, like a popular package's packument.
//! - `synth-0000` .. `synth-0699`: a dependency graph of 700 packages (every tenth one
//!   scoped as `@synth/pkg-NNNN`). Package `i` depends on `2i+1` and `2i+2`, so a
//!   project depending on the first one installs all 700.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::{FakeRegistry, PackageBuilder};

/// The number of packages in the synthetic graph.
pub const GRAPH_SIZE: usize = 700;

/// The name of graph package `index`.
pub fn graph_name(index: usize) -> String {
    if index % 10 == 5 {
        format!("@synth/pkg-{index:04}")
    } else {
        format!("synth-{index:04}")
    }
}

/// Publishes the benchmark data set.
pub fn publish_bench_dataset(registry: &FakeRegistry) {
    publish_bench_dataset_sized(registry, GRAPH_SIZE);
}

/// The benchmark data set with a graph of `graph_size` packages (the audit benchmark
/// uses 5,000).
pub fn publish_bench_dataset_sized(registry: &FakeRegistry, graph_size: usize) {
    let start = SystemTime::now() - Duration::from_hours(3 * 365 * 24);
    for index in 0..300u64 {
        let version = format!("{}.{}.{}", index / 30, (index % 30) / 5, index % 5);
        let package = PackageBuilder::new("many-versions", &version)
            .dependency("synth-0001", "^1.0.0")
            .dependency("synth-0002", "^1.0.0")
            .dependency("@synth/pkg-0005", "^1.0.0")
            .field("engines", json!({"node": ">=14"}))
            .field(
                "repository",
                json!({"type": "git", "url": "git+https://git.example/many-versions.git"}),
            )
            .field(
                "keywords",
                json!(["bench", "synthetic", "many", "versions"]),
            )
            .field(
                "author",
                json!({"name": "Bench Author", "email": "bench@example.invalid"}),
            )
            .script("test", "node test.js")
            .file("lib/util.js", filler(index, 2048))
            .published(start + Duration::from_hours(index * 24))
            .build();
        registry.publish(package);
    }
    for index in 0..graph_size {
        for version in ["1.0.0", "1.1.0"] {
            let mut builder = PackageBuilder::new(&graph_name(index), version)
                .file("lib/impl.js", filler(index as u64, 4096));
            for child in [2 * index + 1, 2 * index + 2] {
                if child < graph_size {
                    builder = builder.dependency(&graph_name(child), "^1.0.0");
                }
            }
            registry.publish(builder.published(start).build());
        }
    }
}

/// Deterministic, mildly compressible JavaScript-like text of about `size` bytes.
fn filler(seed: u64, size: usize) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = String::with_capacity(size + 64);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let _ = writeln!(
            out,
            "exports.f{} = (a) => a * {} + {};",
            state % 997,
            state % 89,
            state % 31
        );
    }
    out
}
