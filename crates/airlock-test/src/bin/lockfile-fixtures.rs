//! Serves the lockfile fixture project's packages (`airlock_test::lockfiles`) on
//! `127.0.0.1:48744` until killed, for the real clients to write lockfiles against.

#[tokio::main]
async fn main() {
    let port = airlock_test::lockfiles::FIXTURE_PORT;
    let registry = airlock_test::FakeRegistry::start_on(([127, 0, 0, 1], port).into()).await;
    airlock_test::lockfiles::publish(&registry);
    println!("{}", registry.url());
    std::future::pending::<()>().await;
}
