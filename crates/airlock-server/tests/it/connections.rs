//! Connections: clients that trickle headers or hold sockets idle are cut off,
//! and a flood of them does not keep others out.

use std::time::Duration;

use airlock_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::Harness;

/// Reads until the server closes the connection; how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn slow_and_idle_connections_are_cut_off_and_others_still_get_in() {
    let config = ServerConfig {
        header_read_timeout: Duration::from_millis(400),
        max_connections: 6,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config, Duration::from_secs(5)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(airlock_server::serve(
        listener,
        harness.state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    // Every slot taken: half by clients that never finish their headers, half by
    // clients that connect and say nothing.
    let mut attackers = Vec::new();
    for index in 0..6 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        if index % 2 == 0 {
            stream
                .write_all(b"GET /-/ping HTTP/1.1\r\nHost: airlock.test\r\nX-Slow: ")
                .await
                .unwrap();
        }
        attackers.push(stream);
    }
    // A real client waits in the backlog, then is served once the others are cut.
    let client = tokio::spawn(async move {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /-/ping HTTP/1.1\r\nHost: airlock.test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    });
    for (index, stream) in attackers.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "connection {index} (slow or idle) was kept open"
        );
    }
    let answer = tokio::time::timeout(Duration::from_secs(5), client)
        .await
        .expect("the real client was served once the slots freed")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops when asked")
        .unwrap()
        .unwrap();
}
