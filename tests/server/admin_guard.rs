//! The admin API's guard against a page in the user's browser: foreign origins and rebound
//! host names need the token.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::deterministic_config;
use einvoice_mock::FakeProvider;

/// Sends a raw HTTP/1.1 request and returns the status code.
async fn raw_status(address: SocketAddr, request: String) -> u16 {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {answer:?}"))
    })
    .await
    .unwrap()
}

fn arm_request(origin: &str) -> String {
    let body = r#"{"operation":"saldos","respond":"500"}"#;
    format!(
        "POST /__admin/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn journal_request(host: &str, token: Option<&str>) -> String {
    let token = token.map_or(String::new(), |t| format!("X-Admin-Token: {t}\r\n"));
    format!("GET /__admin/requests HTTP/1.1\r\nHost: {host}\r\n{token}Connection: close\r\n\r\n")
}

#[tokio::test]
async fn a_page_of_another_origin_cannot_arm_a_scenario_without_a_token() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    for origin in [
        "http://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        assert_eq!(raw_status(fake.address(), arm_request(origin)).await, 403);
    }
    assert!(fake.state().scenarios().list().is_empty(), "nothing armed");
    // A page served from loopback (a local dashboard) may.
    assert_eq!(
        raw_status(fake.address(), arm_request("http://localhost:3000")).await,
        201
    );
}

#[tokio::test]
async fn a_rebound_host_name_cannot_read_the_journal_without_a_token() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let port = fake.address().port();
    let status = |host: String| raw_status(fake.address(), journal_request(&host, None));
    assert_eq!(status("rebind.evil.example".into()).await, 403);
    assert_eq!(status(format!("rebind.evil.example:{port}")).await, 403);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(status(host).await, 200);
    }

    let mut config = deterministic_config();
    config.server.admin_token = Some("a-long-admin-token".into());
    let guarded = FakeProvider::start_with(config).await;
    let request = journal_request("rebind.evil.example", Some("a-long-admin-token"));
    assert_eq!(
        raw_status(guarded.address(), request).await,
        200,
        "with a token, the token decides"
    );
}
