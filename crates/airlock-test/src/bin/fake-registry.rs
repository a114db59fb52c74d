//! A fake upstream registry for benchmarks and manual testing, serving the synthetic
//! data set of `airlock_test::dataset` on loopback, and the real `sigstore@2.0.0`
//! with its provenance (for trying `airlock check`).
//!
//! Usage: `fake-registry [ADDR] [GRAPH_SIZE]` (default `127.0.0.1:48733`, 700
//! packages in the synthetic graph). Prints its URL, then serves until killed.

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:48733".to_owned());
    let addr = addr.parse().unwrap_or_else(|_| {
        eprintln!("error: `{addr}` is not an address such as 127.0.0.1:48733");
        std::process::exit(2);
    });
    let graph_size = match std::env::args().nth(2) {
        None => airlock_test::dataset::GRAPH_SIZE,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("error: `{text}` is not a number of packages");
            std::process::exit(2);
        }),
    };
    let registry = airlock_test::FakeRegistry::start_on(addr).await;
    airlock_test::dataset::publish_bench_dataset_sized(&registry, graph_size);
    registry.publish(airlock_test::provenance::sigstore_package());
    println!("fake registry listening on {}", registry.url());
    std::future::pending::<()>().await;
}
