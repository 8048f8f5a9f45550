//! Issue 15: what an attacker on the same machine (or a page in its browser) could do to the
//! fake, and what must hold instead. The slow attacks (thousands of connections, a million
//! events, a pipe nobody reads) are in `cargo xtask attack`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::cli::{block_on, start_serving, BIN};
use super::{client, deterministic_config, ejemplo_1_with};
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

async fn arm(fake: &FakeProvider, spec: Value) {
    let armed = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), StatusCode::CREATED);
}

fn acuse(fake: &FakeProvider, data: String, token: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "application/json")
        .multipart(
            Form::new()
                .text("data", data)
                .text("documento_obligado", "830020470"),
        )
}

/// Sends a code-28 acuse whose webhook is `hook`, and waits for the delivery attempt.
async fn code_28_delivery(fake: &FakeProvider, hook: &str) -> Value {
    arm(
        fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "28", "webhook_delay_ms": 0 }),
    )
    .await;
    let cufe = format!("{:096x}", fastrand::u128(..));
    let answer: Value = acuse(fake, ejemplo_1_with(&cufe, Some(hook)), "token_cliente")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["codigo_error"], 28, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(delivery) = fake.state().journal().deliveries().last() {
            return serde_json::to_value(delivery).unwrap();
        }
        assert!(Instant::now() < deadline, "no delivery attempt recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_webhook_aimed_at_the_fakes_own_admin_api_is_never_sent() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let kept = "7".repeat(96);
    fake.state()
        .record_event(&kept, einvoice_mock::EventCode::AcuseRecibo, "830020470")
        .unwrap();
    let port = fake.address().port();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let hook = format!("http://{host}:{port}/__admin/reset");
        let delivery = code_28_delivery(&fake, &hook).await;
        assert!(delivery["status"].is_null(), "{delivery}");
        assert!(
            delivery["error"]
                .as_str()
                .unwrap()
                .contains("the fake itself"),
            "{delivery}"
        );
        assert_eq!(fake.state().events().history(&kept).len(), 1, "not reset");
    }
}

#[tokio::test]
async fn a_webhook_that_redirects_is_not_followed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let followed = Arc::new(AtomicUsize::new(0));
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_address = target.local_addr().unwrap();
    let counted = Arc::clone(&followed);
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "followed" }
        });
        axum::serve(target, app).await
    });
    let redirecting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", redirecting.local_addr().unwrap());
    tokio::spawn(async move {
        let location = format!("http://{target_address}/elsewhere");
        let app = axum::Router::new().fallback(move || {
            let location = location.clone();
            async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, location)],
                )
            }
        });
        axum::serve(redirecting, app).await
    });
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let delivery = code_28_delivery(&fake, &hook).await;
    assert_eq!(delivery["status"], 307, "{delivery}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

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

fn data_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("einvoice-mock-{name}-"))
        .tempdir()
        .unwrap()
}

#[test]
fn a_second_serve_on_one_data_dir_exits_2_naming_the_first_ones_pid() {
    let dir = data_dir("locked");
    let mut first = Command::new(BIN);
    first
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    let (mut first, _) = start_serving(first);
    let second = Command::new(BIN)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(0));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("in use by process {}", first.id())),
        "{stderr}"
    );

    // Once the first is gone, the directory is free again.
    let mut third = Command::new(BIN);
    third
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    let (mut third, _) = start_serving(third);
    Command::new("kill")
        .args(["-TERM", &third.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(third.wait().unwrap().code(), Some(0));
}

#[test]
fn events_racing_resets_leave_memory_and_the_data_dir_agreeing() {
    use einvoice_mock::EventCode;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::RwLock;
    let dir = data_dir("reset-race");
    let mut config = deterministic_config();
    config.server.data_dir = Some(dir.path().to_path_buf());
    let state = AppState::new(config).unwrap();
    let database = rusqlite::Connection::open(dir.path().join("einvoice-mock.sqlite3")).unwrap();
    // Recorders hold the gate for reading around each event; after each reset the checker
    // takes it for writing, so that it compares with nothing in flight.
    let gate = RwLock::new(());
    let stop = AtomicBool::new(false);
    let next = AtomicU32::new(0);
    let mut disagreements = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let _recording = gate.read().unwrap();
                    let cufe = format!("{:096x}", next.fetch_add(1, Ordering::Relaxed));
                    state
                        .record_event(&cufe, EventCode::AcuseRecibo, "830020470")
                        .unwrap();
                }
            });
        }
        for round in 0..30 {
            std::thread::sleep(Duration::from_millis(3));
            state.reset().unwrap();
            let _checking = gate.write().unwrap();
            let stored: i64 = database
                .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                .unwrap();
            let in_memory = state.events().len();
            if stored as usize != in_memory {
                disagreements.push(format!(
                    "after reset {round}: {stored} events in SQLite, {in_memory} in memory"
                ));
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(next.load(Ordering::Relaxed) > 30, "the recorders ran");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[tokio::test]
async fn a_short_token_is_masked_whole_in_the_journal() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    acuse(&fake, ejemplo_1_with(&"8".repeat(96), None), "abcd")
        .send()
        .await
        .unwrap();
    let journal = fake.requests();
    assert_eq!(journal[0].credential.as_deref(), Some("****"));
}

#[test]
fn a_webhook_password_appears_neither_in_the_logs_nor_in_the_journal() {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--port", "0"])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped());
    let (child, url) = start_serving(command);
    let (journal, deliveries) = block_on(async {
        let http = client();
        http.post(format!("{url}/__admin/scenarios"))
            .json(
                &json!({ "operation": "acuse_recibo_fev", "respond": "28", "webhook_delay_ms": 0 }),
            )
            .send()
            .await
            .unwrap();
        let hook = "https://hook-user:hunter2-s3cret@127.0.0.1:1/hook";
        http.post(format!("{url}/api/radian/acuse_recibo_fev"))
            .header("Authorization", "Bearer token_cliente")
            .multipart(
                Form::new()
                    .text("data", ejemplo_1_with(&"9".repeat(96), Some(hook)))
                    .text("documento_obligado", "830020470"),
            )
            .send()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let deliveries: Value = http
                .get(format!("{url}/__admin/webhooks"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if deliveries["deliveries"].get(0).is_some() {
                let journal = http
                    .get(format!("{url}/__admin/requests"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                break (journal, deliveries);
            }
            assert!(Instant::now() < deadline, "no delivery attempt");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("webhook not delivered"), "{logs}");
    for (what, text) in [
        ("logs", logs.to_string()),
        ("journal", journal),
        ("deliveries", deliveries.to_string()),
    ] {
        assert!(!text.contains("hunter2"), "{what}: {text}");
    }
    assert_eq!(
        deliveries["deliveries"][0]["url"],
        "https://****@127.0.0.1:1/hook"
    );
}

#[cfg(unix)]
#[test]
fn serve_tls_without_a_data_dir_keeps_its_key_0600_in_a_private_directory() {
    use std::io::BufRead as _;
    use std::os::unix::fs::PermissionsExt as _;
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--tls"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let certificate =
        std::path::PathBuf::from(second.trim().strip_prefix("certificate: ").unwrap());
    let dir = certificate.parent().unwrap().to_path_buf();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let (dir_mode, key_mode) = (mode(&dir), mode(&dir.join("key.pem")));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!((dir_mode, key_mode), (0o700, 0o600));
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert!(
        !name.contains(&child.id().to_string()),
        "the name is not predictable from the pid: {name}"
    );
    assert!(!dir.exists(), "removed at shutdown");
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

#[tokio::test]
async fn pending_code_28_replays_are_bounded_and_freed_when_their_scenario_is_disarmed() {
    use einvoice_mock::internals::server::scenarios::MAX_PENDING_REPLAYS;
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let armed: Value = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&json!({ "operation": "acuse_recibo_fev", "respond": "28", "times": null, "webhook_delay_ms": 600_000 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook = "http://127.0.0.1:9/hook";
    for round in 0..(MAX_PENDING_REPLAYS + 6) {
        let answer: Value = acuse(
            &fake,
            ejemplo_1_with(&format!("{round:096x}"), Some(hook)),
            "t",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        // The client is always answered its 28.
        assert_eq!(answer["codigo_error"], 28, "{answer}");
    }
    let (pending, bytes) = fake.state().scenarios().pending_replays();
    assert_eq!(pending, MAX_PENDING_REPLAYS);
    assert!(bytes > 0);
    // The ones past the bound are recorded as not scheduled.
    let refused = fake
        .state()
        .journal()
        .deliveries()
        .filter(|d| {
            d.error
                .as_deref()
                .is_some_and(|e| e.starts_with("not scheduled"))
        })
        .count();
    assert_eq!(refused, 6);
    // Disarming the scenario cancels its replays and frees what they held.
    let id = armed["id"].as_u64().unwrap();
    let removed = client()
        .delete(format!("{}/__admin/scenarios/{id}", fake.uri()))
        .send()
        .await
        .unwrap();
    assert!(removed.status().is_success());
    assert_eq!(fake.state().scenarios().pending_replays(), (0, 0));
}
