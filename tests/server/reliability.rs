//! No crash, no hang, no lost event: bad input, concurrency, limits, the admin API's guard.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::{client, deterministic_config, deterministic_fake};
use einvoice_mock::internals::server::ConnectionControl;
use einvoice_mock::{app, AppState, FakeProvider};

fn ejemplo_1_with(cufe: &str) -> String {
    super::ejemplo_1_with(cufe, None)
}

async fn acuse(fake: &FakeProvider, data: String) -> Value {
    client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Authorization", "Bearer t")
        .header("Accept", "application/json")
        .multipart(
            Form::new()
                .text("data", data)
                .text("documento_obligado", "830020470"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_acuses_for_one_cufe_give_one_success_and_the_rest_lgc01_a_hundred_times() {
    let fake = deterministic_fake().await;
    for round in 0..100u32 {
        let cufe = format!("{round:096x}");
        let attempts = (0..8).map(|_| acuse(&fake, ejemplo_1_with(&cufe)));
        let answers = futures_util::future::join_all(attempts).await;
        let successes = answers.iter().filter(|a| a["codigo_error"] == 0).count();
        let rejections = answers
            .iter()
            .filter(|a| {
                a["codigo_error"] == 15
                    && a["ErrorMessage_DIAN"]
                        == "Regla: LGC01, Rechazo: Evento registrado previamente"
            })
            .count();
        assert_eq!(
            (successes, rejections),
            (1, 7),
            "round {round}: {answers:?}"
        );
        let history = fake.state().events().history(&cufe).to_vec();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].row.numero, "1");
    }
}

async fn raw(
    fake: &FakeProvider,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let response = client()
        .post(format!("{}{path}", fake.uri()))
        .header("Authorization", "Bearer t")
        .header("RCApiKey", "k")
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

const ACUSE: &str = "/api/radian/acuse_recibo_fev";
const SALDOS: &str = "/api/rest/Timbre/saldos";

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_the_providers_format() {
    let mut config = deterministic_config();
    config.server.body_limit_bytes = Some(1024);
    let fake = FakeProvider::start_with(config).await;
    let (status, body) = raw(&fake, SALDOS, "application/json", vec![b' '; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["errors"][0]["Code"],
        "413"
    );
    let (status, body) = raw(
        &fake,
        ACUSE,
        "multipart/form-data; boundary=x",
        vec![b'x'; 4096],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["codigo_error"],
        413
    );
    let (status, _) = raw(
        &fake,
        SALDOS,
        "application/json",
        br#"{"MesConsulta":"2019-11"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the fake goes on");
}

#[tokio::test]
async fn invalid_utf8_is_a_clear_error() {
    let fake = deterministic_fake().await;
    let (status, body) = raw(
        &fake,
        SALDOS,
        "application/json",
        b"{\"MesConsulta\":\"20\xff\xfe\"}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("400-001"), "{body}");
    let multipart = b"--x\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n\xff\xfe{\r\n--x\r\nContent-Disposition: form-data; name=\"documento_obligado\"\r\n\r\n830020470\r\n--x--\r\n";
    let (status, body) = raw(
        &fake,
        ACUSE,
        "multipart/form-data; boundary=x",
        multipart.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn json_nested_ten_thousand_deep_is_a_clear_error() {
    let fake = deterministic_fake().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, body) = raw(&fake, SALDOS, "application/json", deep.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("400-001"));
    let form = Form::new()
        .text("data", deep)
        .text("documento_obligado", "830020470");
    let response = client()
        .post(format!("{}{ACUSE}", fake.uri()))
        .header("Authorization", "Bearer t")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    // PHP's json_decode refuses the 512th level with its own message (the PHP oracle).
    assert_eq!(
        body["resultado"][0]["descripcion"],
        "Maximum stack depth exceeded"
    );
}

#[tokio::test]
async fn numbers_out_of_range_are_clear_errors() {
    let fake = deterministic_fake().await;
    for number in ["1e400", "-1e400", "123456789012345678901234567890"] {
        let (status, _) = raw(
            &fake,
            SALDOS,
            "application/json",
            format!(r#"{{"MesConsulta":{number}}}"#).into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{number}");
        let data = ejemplo_1_with(&"a".repeat(96)).replace(
            "\"tipo_ambiente_dian\":2",
            &format!("\"tipo_ambiente_dian\":{number}"),
        );
        let answer = acuse(&fake, data).await;
        assert_eq!(answer["codigo_error"], 400, "{number}: {answer}");
    }
}

#[tokio::test]
async fn multipart_without_boundary_truncated_or_with_duplicate_fields_is_handled() {
    let fake = deterministic_fake().await;
    let (status, body) = raw(&fake, ACUSE, "multipart/form-data", b"--x\r\n".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no boundary: {body}");
    let truncated =
        b"--x\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"evento\"".to_vec();
    let (status, body) = raw(&fake, ACUSE, "multipart/form-data; boundary=x", truncated).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "truncated: {body}");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["codigo_error"] == 400);

    // A repeated field keeps its last value, as PHP's $_POST does.
    let cufe = "9".repeat(96);
    let form = Form::new()
        .text("data", "not json")
        .text("data", ejemplo_1_with(&cufe))
        .text("documento_obligado", "830020470");
    let response = client()
        .post(format!("{}{ACUSE}", fake.uri()))
        .header("Authorization", "Bearer t")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["codigo_error"], 0, "{body}");
}

#[tokio::test]
async fn data_that_is_not_json_is_a_clear_error() {
    let fake = deterministic_fake().await;
    let answer = acuse(&fake, "{'evento': []}".into()).await;
    assert_eq!(answer["codigo_error"], 400);
    assert_eq!(
        answer["resultado"],
        json!([{ "propiedad": "data", "descripcion": "Syntax error" }])
    );
}

#[tokio::test]
async fn huge_headers_are_refused_and_the_fake_goes_on() {
    let fake = deterministic_fake().await;
    let result = client()
        .post(format!("{}{SALDOS}", fake.uri()))
        .header("RCApiKey", "k")
        .header("X-Huge", "h".repeat(2 * 1024 * 1024))
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await;
    match result {
        Ok(response) => assert!(response.status().is_client_error(), "{}", response.status()),
        Err(error) => assert!(
            error.is_request() || error.is_connect() || error.is_body(),
            "{error}"
        ),
    }
    let ok = client()
        .post(format!("{}{SALDOS}", fake.uri()))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_slow_client_is_cut_off_by_the_read_timeout() {
    let mut config = deterministic_config();
    config.server.read_timeout_ms = Some(300);
    let fake = FakeProvider::start_with(config).await;
    let address = fake.address();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Headers announce a body that never comes.
        stream
            .write_all(b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(outcome.starts_with("HTTP/1.1 408"), "{outcome}");

    let silent = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).map(|_| answer.len())
    })
    .await
    .unwrap();
    assert!(
        silent.is_ok(),
        "headers never finished: the connection is closed, not left hanging"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_never_get_a_500() {
    let fake = deterministic_fake().await;
    for (method, path) in [
        ("GET", "/"),
        ("DELETE", ACUSE),
        ("PUT", SALDOS),
        ("POST", "/api/rest/Timbre/saldos/xlsx/extra"),
        ("PATCH", "/api/radian/historico_eventos"),
        ("POST", "/%FF%FE"),
    ] {
        let response = client()
            .request(method.parse().unwrap(), format!("{}{path}", fake.uri()))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{method} {path}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn the_admin_api_needs_its_token_when_one_is_set_but_health_stays_open() {
    let mut config = deterministic_config();
    config.server.admin_token = Some("s3creto".into());
    let fake = FakeProvider::start_with(config).await;
    let without = client()
        .get(format!("{}/__admin/requests", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    let with = client()
        .get(format!("{}/__admin/requests", fake.uri()))
        .header("X-Admin-Token", "s3creto")
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), StatusCode::OK);
    let health = client()
        .get(format!("{}/__admin/health", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_admin_api_refuses_clients_that_are_not_loopback_unless_allowed() {
    let remote: std::net::SocketAddr = "203.0.113.7:40000".parse().unwrap();
    let request = |path: &str| {
        let mut request = Request::get(path).body(Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectionControl::detached(remote));
        request
    };
    let state = AppState::new(deterministic_config()).unwrap();
    let refused = app(state.clone())
        .oneshot(request("/__admin/requests"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A container runtime probes from outside the container's loopback.
    let health = app(state)
        .oneshot(request("/__admin/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    let mut config = deterministic_config();
    config.server.admin_allow_remote = true;
    let allowed = app(AppState::new(config).unwrap())
        .oneshot(request("/__admin/requests"))
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "einvoice-mock-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn concurrent_acuses_with_a_data_dir_give_one_success_and_numbering_without_gaps() {
    let dir = temp_dir("concurrency");
    let mut config = deterministic_config();
    config.server.data_dir = Some(dir.clone());
    let fake = FakeProvider::start_with(config.clone()).await;
    for round in 0..100u32 {
        let cufe = format!("{round:096x}");
        let answers =
            futures_util::future::join_all((0..8).map(|_| acuse(&fake, ejemplo_1_with(&cufe))))
                .await;
        let successes = answers.iter().filter(|a| a["codigo_error"] == 0).count();
        let rejections = answers.iter().filter(|a| a["codigo_error"] == 15).count();
        assert_eq!((successes, rejections), (1, 7), "round {round}");
    }
    drop(fake);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A second process on the same directory sees every event, numbered 1 per CUFE.
    let reopened = AppState::new(config).unwrap();
    for round in 0..100u32 {
        let history = reopened.events().history(&format!("{round:096x}")).to_vec();
        assert_eq!(history.len(), 1, "round {round}");
        assert_eq!(history[0].row.numero, "1");
    }
    assert_eq!(
        reopened.events().history("aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137").len(),
        3,
        "the seed is kept"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kill_9_during_a_stream_of_acuses_loses_no_acknowledged_event() {
    kill_9_during_a_stream_loses_no_acknowledged_event("kill9", &["acuse_recibo_fev"]);
}

#[test]
fn kill_9_during_a_stream_of_recibos_and_reclamos_loses_no_acknowledged_032_or_031() {
    kill_9_during_a_stream_loses_no_acknowledged_event(
        "kill9-lifecycle",
        &["acuse_recibo_fev", "recibo_bien_servicio", "reclamo"],
    );
}

/// Streams `operations`, in order, for fresh CUFEs from four clients, `kill -9`s the fake in
/// the middle, restarts it on the same data dir and checks that every CUFE whose last event
/// was acknowledged has every one of its events.
fn kill_9_during_a_stream_loses_no_acknowledged_event(name: &str, operations: &[&'static str]) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = temp_dir(name);
    let bin = env!("CARGO_BIN_EXE_einvoice-mock");
    let start = || {
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0", "--data-dir", dir.to_str().unwrap()])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        (child, url)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let operations: Vec<&'static str> = operations.to_vec();

    let (mut child, url) = start();
    let pid = child.id();
    let acknowledged = runtime.block_on(async {
        let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for worker in 0..4u32 {
            let url = url.clone();
            let acknowledged = acknowledged.clone();
            let operations = operations.clone();
            clients.push(tokio::spawn(async move {
                for n in 0..10_000u32 {
                    let cufe = format!("{:048x}{:048x}", worker + 1, n);
                    for (step, operation) in operations.iter().enumerate() {
                        let data = match *operation {
                            "reclamo" => ejemplo_1_with(&cufe).replacen(
                                "{\"informacion_documento_referencia\"",
                                "{\"encabezado\":{\"tipo_reclamo\":\"02\"},\"informacion_documento_referencia\"",
                                1,
                            ),
                            _ => ejemplo_1_with(&cufe),
                        };
                        let sent = client()
                            .post(format!("{url}/api/radian/{operation}"))
                            .header("Authorization", "Bearer t")
                            .multipart(
                                Form::new()
                                    .text("data", data)
                                    .text("documento_obligado", "830020470"),
                            )
                            .send()
                            .await;
                        let Ok(response) = sent else { return };
                        let Ok(body) = response.json::<Value>().await else {
                            return;
                        };
                        if body["codigo_error"] != 0 {
                            break;
                        }
                        if step + 1 == operations.len() {
                            acknowledged.lock().unwrap().push(cufe.clone());
                        }
                    }
                }
            }));
        }
        // Let the stream run, then kill -9 in the middle of it.
        while acknowledged.lock().unwrap().len() < 200 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let killed = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        for client in clients {
            let _ = client.await;
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        acknowledged
    });
    let _ = child.wait();
    assert!(acknowledged.len() >= 200);

    let codes: Vec<&str> = operations
        .iter()
        .map(|operation| match *operation {
            "recibo_bien_servicio" => "032",
            "reclamo" => "031",
            _ => "030",
        })
        .collect();
    let (mut restarted, url) = start();
    runtime.block_on(async {
        for cufe in &acknowledged {
            let body: Value = client()
                .post(format!("{url}/api/radian/historico_eventos"))
                .header("Authorization", "Bearer t")
                .multipart(Form::new().text("cufe", cufe.clone()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                body["codigo_error"], 0,
                "acknowledged events of {cufe} lost after kill -9"
            );
            let kept: Vec<&str> = body["resultado"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row["codigo"].as_str().unwrap())
                .collect();
            assert_eq!(kept, codes, "{cufe}");
        }
    });
    let _ = restarted.kill();
    let _ = restarted.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CUDE and XML URL of every successful acuse in `answers`.
fn cudes_and_urls(answers: &[Value]) -> (Vec<String>, Vec<String>) {
    let field = |name: &str| {
        answers
            .iter()
            .map(|a| a["resultado"][name].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    (field("cude"), field("url_representacion_xml"))
}

fn all_distinct(values: &[String]) -> bool {
    let set: std::collections::HashSet<&String> = values.iter().collect();
    set.len() == values.len()
}

#[tokio::test]
async fn acuses_for_different_cufes_in_the_same_second_get_their_own_cude_and_xml_url() {
    // A frozen clock: every acuse happens in the same second, from the same sender.
    let dir = temp_dir("unique-cude");
    let mut config = deterministic_config();
    config.server.data_dir = Some(dir.clone());
    let fake = FakeProvider::start_with(config.clone()).await;
    let mut answers = Vec::new();
    for round in 0..3u32 {
        answers.push(acuse(&fake, ejemplo_1_with(&format!("{:096x}", round + 1))).await);
    }
    // Concurrently too.
    answers.extend(
        futures_util::future::join_all(
            (10..40u32).map(|round| acuse(&fake, ejemplo_1_with(&format!("{round:096x}")))),
        )
        .await,
    );
    assert!(
        answers.iter().all(|a| a["codigo_error"] == 0),
        "{answers:#?}"
    );
    drop(fake);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // And after a restart on the same data dir.
    let fake = FakeProvider::start_with(config).await;
    for round in 50..53u32 {
        answers.push(acuse(&fake, ejemplo_1_with(&format!("{round:096x}"))).await);
    }
    let (cudes, urls) = cudes_and_urls(&answers);
    assert_eq!(cudes.len(), 36);
    assert!(all_distinct(&cudes), "{cudes:#?}");
    assert!(all_distinct(&urls), "{urls:#?}");
    assert!(cudes.iter().all(|c| c.len() == 96));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_body_with_a_bad_chunk_size_is_400_in_the_providers_format_and_only_an_oversize_one_413()
{
    let mut config = deterministic_config();
    config.server.body_limit_bytes = Some(1024);
    let fake = FakeProvider::start_with(config).await;
    let address = fake.address();
    let send = move |request: &'static [u8]| {
        tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream.write_all(request).unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer
        })
    };
    let bad_chunk = send(b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n").await.unwrap();
    assert!(bad_chunk.starts_with("HTTP/1.1 400"), "{bad_chunk}");
    assert!(bad_chunk.contains("\"Code\":\"400-001\""), "{bad_chunk}");
    let afacturar = send(b"POST /api/radian/historico_eventos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\ncufe=\r\n0\r\n\r\n").await.unwrap();
    assert!(afacturar.starts_with("HTTP/1.1 400"), "{afacturar}");
    assert!(afacturar.contains("\"codigo_error\":400"), "{afacturar}");
    let mut request = b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n".to_vec();
    request.extend(std::iter::repeat_n(b' ', 2000));
    let oversize = send(Box::leak(request.into_boxed_slice())).await.unwrap();
    assert!(oversize.starts_with("HTTP/1.1 413"), "{oversize}");
}

#[tokio::test]
async fn a_data_document_with_a_huge_array_of_empty_events_is_answered_in_bounded_size() {
    let fake = deterministic_fake().await;
    // Each `{}` breaks two rules: 9,000 of them hold 18,000 violations (within the work
    // budget, which `tests/contract/budget.rs` covers).
    let many = format!("{{\"evento\":[{}]}}", vec!["{}"; 9_000].join(","));
    let body = acuse(&fake, many).await;
    assert_eq!(body["codigo_error"], 400);
    let resultado = body["resultado"].as_array().unwrap();
    assert_eq!(
        resultado.len(),
        einvoice_mock::internals::contract::MAX_REPORTED_VIOLATIONS
    );
    assert_eq!(resultado[0]["propiedad"], "generalidades");
    // Past the value bound the document is not read at all (2 MiB of `{},`).
    let huge = format!("{{\"evento\":[{}]}}", vec!["{}"; 700_000].join(","));
    let body = acuse(&fake, huge).await;
    assert_eq!(body["codigo_error"], 400);
    assert_eq!(body["resultado"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["resultado"][0]["propiedad"], "data");
    // The journal keeps a bounded number of findings per request, and counts the rest.
    let journal: Value = client()
        .get(format!("{}/__admin/requests", fake.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &journal["requests"][0];
    assert_eq!(first["violations"].as_array().unwrap().len(), 50);
    assert_eq!(first["findings_omitted"], 1000 - 50);
}
