//! Connections: every deadline holds (nothing sent, half a preface, an idle HTTP/2 or TLS
//! connection, a request head trickled a byte at a time) and a live HTTP/2 connection is not
//! cut, one descriptor each, a cap that refuses new ones while established clients
//! are served, v4-mapped loopback, long unknown paths. The slow forms are in
//! `cargo xtask attack`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::{client, deterministic_config};
use einvoice_mock::{AppState, Config, FakeProvider};

/// A fake whose every deadline is 300 ms.
async fn impatient_fake() -> FakeProvider {
    let mut config = deterministic_config();
    config.server.read_timeout_ms = Some(300);
    FakeProvider::start_with(config).await
}

/// Connects, sends `bytes`, and reads until the fake closes the connection: `Ok` with what it
/// answered when it closed it within `wait` (well past the fake's deadline), `Err` when the
/// connection was still open then.
async fn closed_by_the_fake(address: SocketAddr, bytes: &'static [u8]) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(bytes).unwrap();
        let mut answer = Vec::new();
        match stream.read_to_end(&mut answer) {
            Ok(_) => Ok(answer),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(answer),
            Err(e) => Err(format!("still open after 20 s: {e}")),
        }
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_by_the_read_timeout() {
    let fake = impatient_fake().await;
    closed_by_the_fake(fake.address(), b"").await.unwrap();
    assert!(fake.state().connections().timed_out() >= 1);
}

#[tokio::test]
async fn a_partial_http2_preface_is_closed_by_the_read_timeout() {
    let fake = impatient_fake().await;
    closed_by_the_fake(fake.address(), b"PRI * HTTP/2.0\r\n")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_by_the_read_timeout() {
    let fake = impatient_fake().await;
    // The whole preface and an empty SETTINGS frame: a valid HTTP/2 connection, then nothing.
    let answer = closed_by_the_fake(
        fake.address(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    )
    .await
    .unwrap();
    assert!(!answer.is_empty(), "the fake spoke HTTP/2 before closing");
}

#[tokio::test]
async fn an_unfinished_tls_handshake_is_closed_by_the_read_timeout() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let tls =
        einvoice_mock::internals::server::tls::Tls::self_signed(dir.path(), "localhost").unwrap();
    let mut config = deterministic_config();
    config.server.read_timeout_ms = Some(300);
    let state = AppState::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(einvoice_mock::internals::server::serve_tls_until(
        listener,
        state,
        tls,
        async {
            let _ = stopped.await;
        },
    ));
    // The first bytes of a ClientHello, and the rest never.
    closed_by_the_fake(address, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        .await
        .unwrap();
    let _ = stop.send(());
    let _ = serving.await;
}

/// Sends `first` whole, then a request head one byte every 50 ms (each within the fake's
/// 300 ms deadline for a silent connection): how long after the head's first byte the fake
/// closed the connection, or `None` when it was still open 5 s later.
async fn head_trickled_until_closed(address: SocketAddr, first: &'static [u8]) -> Option<Duration> {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        stream.write_all(first).unwrap();
        let mut answered = 0;
        let mut buffer = [0u8; 4096];
        // The answer to `first`, if any, before the slow head starts.
        while !first.is_empty() && answered == 0 {
            answered = stream.read(&mut buffer).unwrap();
        }
        let head = b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        trickled_until_closed(&mut stream, head, Instant::now())
    })
    .await
    .unwrap()
}

/// Writes `head` and then `a`s on `stream` a byte at a time, each followed by a read of up to
/// the stream's read timeout: how long after `since` the fake closed the connection, or `None`
/// when it was still open 5 s after it.
fn trickled_until_closed(stream: &mut TcpStream, head: &[u8], since: Instant) -> Option<Duration> {
    let mut buffer = [0u8; 4096];
    for byte in head.iter().chain(std::iter::repeat(&b'a')) {
        if since.elapsed() > Duration::from_secs(5) {
            return None;
        }
        if stream.write_all(&[*byte]).is_err() {
            return Some(since.elapsed());
        }
        match stream.read(&mut buffer) {
            Ok(0) => return Some(since.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(since.elapsed()),
        }
    }
    unreachable!("the head goes on for ever")
}

#[tokio::test]
async fn a_request_head_trickled_a_byte_at_a_time_is_cut_off_by_the_read_timeout() {
    let fake = impatient_fake().await;
    let closed = head_trickled_until_closed(fake.address(), b"").await;
    let closed = closed.expect("a head that never ends is cut off");
    assert!(closed < Duration::from_secs(2), "cut off after {closed:?}");
}

#[tokio::test]
async fn the_next_head_on_a_kept_alive_connection_has_the_same_deadline() {
    let fake = impatient_fake().await;
    let closed = head_trickled_until_closed(
        fake.address(),
        b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{\"MesConsulta\":\"2019-11\"}",
    )
    .await;
    let closed = closed.expect("a head that never ends is cut off");
    assert!(closed < Duration::from_secs(2), "cut off after {closed:?}");
}

#[tokio::test]
async fn half_a_head_sent_behind_a_request_has_the_deadline_from_the_answer_on() {
    let mut config = deterministic_config();
    config.server.read_timeout_ms = Some(1000);
    let fake = FakeProvider::start_with(config).await;
    let address = fake.address();
    let closed_after_answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        // A whole request and, in the same write, the start of the next head.
        stream
            .write_all(b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{\"MesConsulta\":\"2019-11\"}POST /api/rest/Timbre/saldos HTTP/1.1\r\nX-Slow: ")
            .unwrap();
        let mut buffer = [0u8; 4096];
        let answered = loop {
            match stream.read(&mut buffer) {
                Ok(n) if n > 0 => break Instant::now(),
                Ok(_) => panic!("closed before answering"),
                Err(_) => {}
            }
        };
        // Silent for most of the deadline, then the rest of the head a byte at a time.
        std::thread::sleep(Duration::from_millis(900));
        trickled_until_closed(&mut stream, b"", answered)
    })
    .await
    .unwrap();
    let closed = closed_after_answer.expect("a head that never ends is cut off");
    // Its deadline runs from the answer, as for a head that starts after it: not from the
    // first byte that arrives after the answer.
    assert!(
        closed < Duration::from_millis(1500),
        "cut off {closed:?} after the answer"
    );
}

#[tokio::test]
async fn an_http2_connection_that_pings_between_requests_is_not_cut_as_a_slow_head() {
    let fake = impatient_fake().await;
    let address = fake.address();
    let still_open = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let authority = address.to_string();
        let block = super::http2_header_block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/__admin/health"),
            (":authority", authority.as_str()),
        ]);
        let mut first = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        first.extend(super::http2_frame(0x4, 0, 0, &[]));
        // HEADERS with END_STREAM and END_HEADERS: one request, answered.
        first.extend(super::http2_frame(0x1, 0x5, 1, &block));
        stream.write_all(&first).unwrap();
        // Then only pings, one every 100 ms for three times the fake's 300 ms deadline: bytes
        // keep moving, and no request head is being read.
        let mut buffer = [0u8; 4096];
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(900) {
            if stream
                .write_all(&super::http2_frame(0x6, 0, 0, b"12345678"))
                .is_err()
            {
                return false;
            }
            match stream.read(&mut buffer) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return false,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    })
    .await
    .unwrap();
    assert!(still_open, "the fake closed a live HTTP/2 connection");
    assert_eq!(fake.state().connections().timed_out(), 0);
}

#[tokio::test]
async fn an_admin_body_never_finished_gets_408_within_the_read_timeout() {
    let fake = impatient_fake().await;
    let answer = closed_by_the_fake(
        fake.address(),
        b"POST /__admin/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(fake.state().scenarios().list().is_empty());
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Waits (generously) until `check` holds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_connection_costs_the_fake_one_file_descriptor() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let before = open_descriptors();
    let clients: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(fake.address()).unwrap())
        .collect();
    let connections = fake.state().connections();
    eventually("the fake accepted the 50", || connections.open() == 50).await;
    let added = open_descriptors() - before;
    // 50 client sockets in this process and 50 on the fake's side; a duplicated socket per
    // connection would make it 150.
    assert!(
        added <= 50 + 50 + 5,
        "{added} descriptors for 50 connections"
    );
    drop(clients);
    eventually("the fake closed them", || connections.open() == 0).await;
}

#[tokio::test]
async fn past_max_connections_new_ones_are_refused_and_established_clients_are_still_served() {
    let mut config = deterministic_config();
    config.server.max_connections = Some(8);
    let fake = FakeProvider::start_with(config).await;
    let established = client();
    let saldos = || {
        established
            .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
            .header("RCApiKey", "k")
            .json(&json!({ "MesConsulta": "2019-11" }))
            .send()
    };
    assert_eq!(saldos().await.unwrap().status(), StatusCode::OK);
    let connections = fake.state().connections();
    let silent: Vec<TcpStream> = (0..7)
        .map(|_| TcpStream::connect(fake.address()).unwrap())
        .collect();
    eventually("8 connections open", || connections.open() == 8).await;
    // The ninth is closed at once (the deadline is 30 s: it is not what closes it).
    let started = Instant::now();
    closed_by_the_fake(fake.address(), b"").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(connections.refused() >= 1);
    // The client that was already connected is still served, on its connection.
    for _ in 0..3 {
        assert_eq!(saldos().await.unwrap().status(), StatusCode::OK);
    }
    drop(silent);
    eventually("room again", || connections.open() < 8).await;
    assert_eq!(
        client()
            .get(format!("{}/__admin/health", fake.uri()))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_ipv4_mapped_loopback_client_is_a_loopback_client() {
    let listener = match tokio::net::TcpListener::bind("[::ffff:127.0.0.1]:0").await {
        Ok(listener) => listener,
        // No IPv6 on this machine: nothing to check.
        Err(_) => return,
    };
    let address = listener.local_addr().unwrap();
    let state = AppState::new(deterministic_config()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(einvoice_mock::internals::server::serve_until(
        listener,
        state,
        async {
            let _ = stopped.await;
        },
    ));
    let url = format!("http://127.0.0.1:{}/__admin/requests", address.port());
    let status = client().get(url).send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
    let _ = stop.send(());
    let _ = serving.await;
}

#[tokio::test]
async fn a_60_kib_unknown_path_is_answered_and_its_near_miss_quoted_short() {
    let fake = FakeProvider::start_with(Config::embedded_default()).await;
    let path = format!("/api/rest/Timbre/saldo{}", "x".repeat(60 * 1024));
    let response = client()
        .post(format!("{}{path}", fake.uri()))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let entry = fake.requests().pop().unwrap();
    assert!(
        entry.path.len() < 4200,
        "the journal keeps 4 KiB of the path"
    );
    assert!(entry.path.capacity() < 8192, "and no more memory for it");
    let near = entry.near_miss.unwrap();
    assert_eq!(near.expected, "POST /api/rest/Timbre/saldos");
    assert!(near.differences[0].len() < 400, "{}", near.differences[0]);
}
