//! Issue 20: what arrives on the wire is judged as the provider would judge it — `data` as the
//! bytes PHP receives, whatever the transport; what the admin API stores, by the contract's
//! rules; and HTTP's own rules (one `Host`, the authority a request names, a declared size).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{admin_get, client, deterministic_fake, ejemplo_1_with};
use einvoice_mock::FakeProvider;

const ACUSE: &str = "/api/radian/acuse_recibo_fev";
const SYNTAX: &str = "Syntax error";
const MALFORMED: &str = "Malformed UTF-8 characters, possibly incorrectly encoded";

/// Every byte percent-encoded, as a client that encodes everything sends it.
fn percent_encoded(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// An acuse whose `data` is `data`, over multipart or urlencoded: the status and the body.
async fn acuse_bytes(fake: &FakeProvider, data: &[u8], urlencoded: bool) -> (StatusCode, Value) {
    let request = client()
        .post(format!("{}{ACUSE}", fake.uri()))
        .header("Authorization", "Bearer t")
        .header("Accept", "application/json");
    let request = if urlencoded {
        request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "documento_obligado=830020470&data={}",
                percent_encoded(data)
            ))
    } else {
        request.multipart(
            Form::new()
                .text("documento_obligado", "830020470")
                .part("data", Part::bytes(data.to_vec())),
        )
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The seed's Ejemplo 1 for a CUFE made of `digit`, its `nombres` replaced by `nombres`.
fn ejemplo_with_nombres(digit: char, nombres: &[u8]) -> Vec<u8> {
    let text = ejemplo_1_with(&digit.to_string().repeat(96), None);
    let (before, after) = text.split_once("Prueba").unwrap();
    [before.as_bytes(), nombres, after.as_bytes()].concat()
}

#[tokio::test]
async fn data_php_cannot_decode_is_its_data_error_over_multipart_and_urlencoded_alike() {
    let fake = deterministic_fake().await;
    let utf16: Vec<u8> = std::iter::once(0xfeff_u16)
        .chain(ejemplo_1_with(&"1".repeat(96), None).encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    let cases: [(&str, Vec<u8>, &str); 8] = [
        (
            "a UTF-8 byte order mark",
            [&b"\xef\xbb\xbf"[..], &ejemplo_with_nombres('2', b"Prueba")].concat(),
            SYNTAX,
        ),
        ("UTF-16 with its byte order mark", utf16, MALFORMED),
        (
            "a stray FF",
            ejemplo_with_nombres('3', b"Pru\xffeba"),
            MALFORMED,
        ),
        (
            "an overlong /",
            ejemplo_with_nombres('4', b"\xc0\xaf"),
            MALFORMED,
        ),
        (
            "a surrogate as UTF-8 (CESU-8)",
            ejemplo_with_nombres('5', b"\xed\xa0\x80"),
            MALFORMED,
        ),
        (
            "a lone continuation byte",
            ejemplo_with_nombres('6', b"\x80"),
            MALFORMED,
        ),
        (
            "a truncated sequence",
            ejemplo_with_nombres('7', b"\xe2\x82"),
            MALFORMED,
        ),
        (
            "a NUL byte",
            ejemplo_with_nombres('8', b"Pru\x00eba"),
            "Control character error, possibly incorrectly encoded",
        ),
    ];
    for (what, data, php_says) in cases {
        for urlencoded in [false, true] {
            let (status, body) = acuse_bytes(&fake, &data, urlencoded).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{what}, {urlencoded}: {body}"
            );
            assert_eq!(body["codigo_error"], 400, "{what}: {body}");
            assert_eq!(
                body["resultado"],
                json!([{ "propiedad": "data", "descripcion": php_says }]),
                "{what}, urlencoded {urlencoded}"
            );
        }
    }
    // Nothing was recorded: PHP stops at json_decode.
    for digit in '1'..='8' {
        assert!(fake
            .state()
            .events()
            .history(&digit.to_string().repeat(96))
            .is_empty());
    }
}

#[tokio::test]
async fn valid_multibyte_text_is_accepted_over_both_transports() {
    let fake = deterministic_fake().await;
    for (digit, urlencoded) in [('a', false), ('b', true)] {
        let nombres = "Ñandú 😀 \u{feff}\u{fffe}".as_bytes();
        let (status, body) =
            acuse_bytes(&fake, &ejemplo_with_nombres(digit, nombres), urlencoded).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["codigo_error"], 0, "urlencoded {urlencoded}: {body}");
    }
}

#[tokio::test]
async fn a_documento_obligado_that_is_not_utf8_breaks_its_pattern() {
    let fake = deterministic_fake().await;
    let data = ejemplo_1_with(&"c".repeat(96), None);
    let response = client()
        .post(format!("{}{ACUSE}", fake.uri()))
        .header("Authorization", "Bearer t")
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "documento_obligado=830020470%FF&data={}",
            percent_encoded(data.as_bytes())
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["resultado"],
        json!([{
            "propiedad": "documento_obligado",
            "descripcion": "Does not match the regex pattern ^[0-9]{5,15}$"
        }])
    );
}

#[tokio::test]
async fn a_sovos_body_that_is_not_utf8_or_starts_with_a_byte_order_mark_is_400_001() {
    let fake = deterministic_fake().await;
    for body in [
        &b"\xef\xbb\xbf{\"MesConsulta\":\"2019-11\"}"[..],
        b"{\"MesConsulta\":\"2019-11\",\"RFCConsulta\":\"\xff\"}",
        b"{\"MesConsulta\":\"2019-1\xc0\xb1\"}",
    ] {
        let response = client()
            .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
            .header("RCApiKey", "k")
            .header("Content-Type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["errors"][0]["Code"], "400-001", "{answer}");
    }
}

// ---------------------------------------------------------------------------------------
// HTTP as the RFCs say: one `Host`, the authority a request names, a declared size.

/// Sends raw bytes and returns everything the fake answers until it closes the connection
/// (or 20 s pass, which no test here comes near).
async fn raw_exchange(address: SocketAddr, request: Vec<u8>) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(&request).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_body_that_arrives_in_pieces_is_read_and_journaled_whole() {
    let fake = deterministic_fake().await;
    let request = saldos_request("HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let address = fake.address();
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        // The head and the first bytes of the body, then the rest once the server has read
        // them: the body's first frame is only a part of it.
        let split = request.len() - 10;
        stream.write_all(&request[..split]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        stream.write_all(&request[split..]).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert_eq!(first_status(&raw), 200, "{raw}");
    assert_eq!(first_body(&raw)["TipoConsumo"], "Postpago", "{raw}");
    let journal = admin_get(&fake, "requests").await;
    assert_eq!(
        journal["requests"][0]["body"],
        r#"{"MesConsulta":"2019-11"}"#
    );
    assert_eq!(journal["requests"][0]["verdict"], "conforms");
}

#[tokio::test]
async fn an_http2_body_that_goes_on_past_its_declared_length_is_not_answered_as_conforming() {
    let fake = deterministic_fake().await;
    let address = fake.address();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_nodelay(true).unwrap();
        let body = br#"{"MesConsulta":"2019-11"}"#;
        let authority = address.to_string();
        let length = body.len().to_string();
        let block = super::http2_header_block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/api/rest/Timbre/saldos"),
            (":authority", authority.as_str()),
            ("rcapikey", "k"),
            ("content-type", "application/json"),
            ("content-length", length.as_str()),
        ]);
        let frame = super::http2_frame;
        // The preface, the headers and every declared byte in one write, without the end of
        // the stream; then five more bytes, and the end.
        let mut first = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        first.extend(frame(0x4, 0, 0, &[]));
        first.extend(frame(0x1, 0x4, 1, &block));
        first.extend(frame(0x0, 0, 1, body));
        stream.write_all(&first).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        stream.write_all(&frame(0x0, 0x1, 1, b"     ")).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    })
    .await
    .unwrap();
    let journal = admin_get(&fake, "requests").await;
    let entry = &journal["requests"][0];
    assert_eq!(entry["path"], "/api/rest/Timbre/saldos", "{entry}");
    assert_eq!(entry["refusal"], "malformed_body", "{entry}");
    assert_eq!(entry["status"], 400, "{entry}");
}

/// The status of the first answer in `raw`.
fn first_status(raw: &str) -> u16 {
    raw.get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {raw:?}"))
}

/// The body of the first answer in `raw`, as JSON.
fn first_body(raw: &str) -> Value {
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

fn saldos_request(head: &str) -> Vec<u8> {
    let body = r#"{"MesConsulta":"2019-11"}"#;
    format!(
        "POST /api/rest/Timbre/saldos {head}RCApiKey: k\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn http_1_1_without_a_host_or_with_two_is_400_in_the_providers_format_and_journaled() {
    let fake = deterministic_fake().await;
    for head in [
        "HTTP/1.1\r\n",
        "HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n",
        "HTTP/1.1\r\nHost: localhost:80/evil\r\n",
    ] {
        let raw = raw_exchange(fake.address(), saldos_request(head)).await;
        assert_eq!(first_status(&raw), 400, "{head:?}: {raw}");
        assert_eq!(first_body(&raw)["errors"][0]["Code"], "400", "{raw}");
    }
    let acuse = "POST /api/radian/acuse_recibo_fev HTTP/1.1\r\nAuthorization: Bearer t\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n";
    let raw = raw_exchange(fake.address(), acuse.as_bytes().to_vec()).await;
    assert_eq!(first_status(&raw), 400, "{raw}");
    assert_eq!(first_body(&raw)["codigo_error"], 400, "{raw}");

    let journal = admin_get(&fake, "requests").await;
    let refusals: Vec<&Value> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["refusal"])
        .collect();
    assert_eq!(refusals, [&json!("bad_host"); 4], "{journal}");

    // HTTP/1.0 may leave the Host out.
    let raw = raw_exchange(fake.address(), saldos_request("HTTP/1.0\r\n")).await;
    assert_eq!(first_status(&raw), 200, "{raw}");
    let raw = raw_exchange(
        fake.address(),
        b"GET /__admin/health HTTP/1.0\r\n\r\n".to_vec(),
    )
    .await;
    assert_eq!(first_status(&raw), 200, "{raw}");
}

#[tokio::test]
async fn the_admin_guard_judges_the_authority_the_request_names() {
    let fake = deterministic_fake().await;
    let port = fake.address().port();
    let get = |target: String, headers: String| {
        format!("GET {target} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n").into_bytes()
    };
    let refused = [
        // An absolute target naming another host, whatever the Host says.
        get(
            "http://rebind.evil.example/__admin/requests".into(),
            "Host: 127.0.0.1\r\n".into(),
        ),
        // Two Origins, the loopback one first.
        get(
            "/__admin/requests".into(),
            format!("Host: 127.0.0.1\r\nOrigin: http://localhost:{port}\r\nOrigin: http://evil.example\r\n"),
        ),
        // An origin with something after its authority.
        get(
            "/__admin/requests".into(),
            "Host: 127.0.0.1\r\nOrigin: http://localhost/evil\r\n".into(),
        ),
    ];
    for request in refused {
        let raw = raw_exchange(fake.address(), request.clone()).await;
        assert_eq!(
            first_status(&raw),
            403,
            "{}",
            String::from_utf8_lossy(&request)
        );
        assert!(first_body(&raw)["error"].is_string());
    }
    for host in [
        "Host: localhost:80/evil\r\n".to_owned(),
        "Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n".to_owned(),
        String::new(),
    ] {
        let raw = raw_exchange(
            fake.address(),
            get("/__admin/requests".into(), host.clone()),
        )
        .await;
        assert_eq!(first_status(&raw), 400, "{host:?}");
        assert!(first_body(&raw)["error"].is_string());
    }
    let allowed = get(
        format!("http://127.0.0.1:{port}/__admin/requests"),
        "Host: rebind.evil.example\r\n".into(),
    );
    let raw = raw_exchange(fake.address(), allowed).await;
    assert_eq!(first_status(&raw), 200, "the target names loopback: {raw}");
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_413_at_once_and_never_told_100_continue() {
    let fake = deterministic_fake().await;
    let cases = [
        (
            "POST /api/radian/acuse_recibo_fev",
            "Authorization: Bearer t\r\nContent-Type: multipart/form-data; boundary=x\r\n",
            "20000000",
        ),
        (
            "POST /api/rest/Timbre/saldos",
            "RCApiKey: k\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n",
            "50000000",
        ),
        (
            "POST /__admin/scenarios",
            "Content-Type: application/json\r\nExpect: 100-continue\r\n",
            "3000000",
        ),
        (
            "POST /__admin/events",
            "Content-Type: application/json\r\nExpect: 100-continue\r\n",
            "5000",
        ),
    ];
    for (line, headers, length) in cases {
        // Only the head is sent: a fake that waited for the body would answer 408, 30 s on.
        let request = format!(
            "{line} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {length}\r\n\r\n"
        );
        let raw = raw_exchange(fake.address(), request.into_bytes()).await;
        assert!(raw.starts_with("HTTP/1.1 413 "), "{line}: {raw}");
        assert!(!raw.contains("100 Continue"), "{raw}");
        let body = first_body(&raw);
        match line {
            l if l.contains("radian") => assert_eq!(body["codigo_error"], 413),
            l if l.contains("Timbre") => assert_eq!(body["errors"][0]["Code"], "413"),
            _ => assert!(body["error"].is_string(), "{body}"),
        }
    }
    // The provider routes' refusals are journaled, the admin API's are not.
    let summary = serde_json::to_value(fake.state().journal().summary()).unwrap();
    assert_eq!(summary["requests"], 2, "{summary}");
}

/// One HTTP/2 GET over cleartext (prior knowledge) with only `:authority`, no `host`: the
/// first byte of the answer's header block, `0x88` being `:status 200` from HPACK's table.
async fn h2_get_status_byte(address: SocketAddr, authority: &str, path: &str) -> u8 {
    let literal = |index: u8, value: &str| {
        let mut bytes = vec![index, u8::try_from(value.len()).unwrap()];
        bytes.extend_from_slice(value.as_bytes());
        bytes
    };
    // :method GET, :scheme http, then :path and :authority as literals without indexing.
    let block = [
        &[0x82, 0x86][..],
        &literal(0x04, path),
        &literal(0x01, authority),
    ]
    .concat();
    let length = u32::try_from(block.len()).unwrap().to_be_bytes();
    let mut request =
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00".to_vec();
    // HEADERS, END_STREAM | END_HEADERS, stream 1.
    request.extend_from_slice(&[length[1], length[2], length[3], 0x01, 0x05, 0, 0, 0, 1]);
    request.extend_from_slice(&block);
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(&request).unwrap();
        // Frames until the answer's HEADERS (bounded: a few frames come before it).
        for _ in 0..16 {
            let mut head = [0u8; 9];
            stream.read_exact(&mut head).unwrap();
            let size =
                usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
            let mut payload = vec![0u8; size];
            stream.read_exact(&mut payload).unwrap();
            if head[3] == 0x01 {
                return payload[0];
            }
        }
        panic!("no HEADERS frame in the first 16");
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn http_2_names_its_authority_without_a_host_header_and_the_guard_judges_it() {
    let fake = deterministic_fake().await;
    let loopback = fake.address().to_string();
    assert_eq!(
        h2_get_status_byte(fake.address(), &loopback, "/__admin/health").await,
        0x88
    );
    assert_eq!(
        h2_get_status_byte(fake.address(), &loopback, "/__admin/requests").await,
        0x88
    );
    assert_ne!(
        h2_get_status_byte(fake.address(), "rebind.evil.example", "/__admin/requests").await,
        0x88,
        "a foreign authority is refused"
    );
}

// ---------------------------------------------------------------------------------------
// The admin API checks what it stores.

async fn post_event(fake: &FakeProvider, body: &Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/__admin/events", fake.uri()))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn an_admin_event_for_a_cufe_the_provider_would_refuse_is_a_400_naming_the_rule() {
    let fake = deterministic_fake().await;
    let valid = "ab".repeat(48);
    let refused = [
        valid.to_uppercase(),
        format!("{}\u{200b}", &valid[..95]),
        format!("{}ａ", &valid[..95]),
        format!(" {valid} "),
        valid[..95].to_owned(),
        String::new(),
    ];
    for cufe in &refused {
        let (status, body) = post_event(&fake, &json!({ "cufe": cufe, "codigo": "030" })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cufe:?}: {body}");
        assert_eq!(body["field"], "cufe", "{body}");
        assert_eq!(body["rule"], "pattern", "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("historico_eventos"),
            "{body}"
        );
    }
    let (status, body) = post_event(
        &fake,
        &json!({ "cufe": valid, "codigo": "030", "emisor_identificacion": "830020470-5" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "emisor_identificacion", "{body}");
    assert!(
        fake.state().events().history(&valid).is_empty(),
        "nothing stored"
    );

    let (status, body) = post_event(&fake, &json!({ "cufe": valid, "codigo": "030" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // PCRE's `$` lets one final newline through on the provider's routes (contract note
    // A38): the admin API takes what they take.
    let (status, body) = post_event(
        &fake,
        &json!({ "cufe": format!("{valid}\n"), "codigo": "030" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_admin_event_body_is_a_few_kib_at_most() {
    let fake = deterministic_fake().await;
    let huge = "a".repeat(1_900_000);
    let (status, body) = post_event(&fake, &json!({ "cufe": huge, "codigo": "030" })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("4096"), "{body}");
    // Sent in chunks, without a declared length: cut while read.
    let chunk = " ".repeat(5_000);
    let request = format!(
        "POST /__admin/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let raw = raw_exchange(fake.address(), request.into_bytes()).await;
    assert_eq!(first_status(&raw), 413, "{raw}");
}

#[tokio::test]
async fn scenarios_are_bounded_in_number_and_in_the_size_of_what_they_match() {
    let fake = deterministic_fake().await;
    let arm = |body: Value| {
        client()
            .post(format!("{}/__admin/scenarios", fake.uri()))
            .json(&body)
            .send()
    };
    let long = "t".repeat(5_000);
    for field in ["cufe", "rfc", "token"] {
        let response = arm(json!({ "operation": "saldos", "match": { field: long } }))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
    }
    let one = json!({ "operation": "saldos", "respond": "500" });
    let response = arm(json!(vec![one.clone(); 1_001])).await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = arm(json!(vec![one.clone(); 1_000])).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = arm(one).await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("1000"), "{body}");
    assert_eq!(fake.state().scenarios().list().len(), 1_000);
}

#[test]
fn validate_reads_a_file_as_bytes_and_answers_what_php_says_of_them() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-vbytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes, php_says) in [
        ("bom.json", &b"\xef\xbb\xbf{}"[..], SYNTAX),
        ("ff.json", b"{\"evento\":\"\xff\"}", MALFORMED),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        let output = std::process::Command::new(super::BIN)
            .args(["validate", "acuse_recibo_fev", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let body: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            body["resultado"],
            json!([{ "propiedad": "data", "descripcion": php_says }])
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------
// The accept loop hands a POST to a documented operation straight to `intercept`; in
// process, the same request goes through the router and the layer.

/// A multipart form of these text fields, with its `Content-Type`.
fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----einvoicewire";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn a_documented_operation_is_answered_over_a_socket_as_the_router_answers_it_in_process() {
    use tower::ServiceExt as _;

    let served = deterministic_fake().await;
    let state = einvoice_mock::AppState::new(super::deterministic_config()).unwrap();
    let in_process = einvoice_mock::app(state.clone());
    let cufe = "d".repeat(96);
    let (event_form, event) = multipart(&[
        ("data", &ejemplo_1_with(&cufe, None)),
        ("documento_obligado", "830020470"),
    ]);
    let (lookup_form, lookup) = multipart(&[("cufe", &cufe)]);
    let afacturar = |form: &str| {
        vec![
            ("Authorization", "Bearer t".to_owned()),
            ("Accept", "application/json".to_owned()),
            ("Content-Type", form.to_owned()),
        ]
    };
    let sovos = vec![
        ("RCApiKey", "k".to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ];
    let month = |m: &str| format!("{{\"MesConsulta\":\"{m}\"}}").into_bytes();
    // In an order that moves the state: the second acuse of a CUFE is DIAN's rejection.
    let cases = [
        ("/api/rest/Timbre/saldos", sovos.clone(), month("2019-11")),
        ("/api/rest/Timbre/saldos", sovos.clone(), month("2019-13")),
        (
            "/api/rest/Timbre/saldos",
            sovos[1..].to_vec(),
            month("2019-11"),
        ),
        (
            "/api/rest/Timbre/saldos/pdf",
            sovos.clone(),
            month("2019-11"),
        ),
        (
            "/api/rest/Timbre/saldos/csv",
            sovos.clone(),
            month("2019-11"),
        ),
        (ACUSE, afacturar(&event_form), event.clone()),
        (ACUSE, afacturar(&event_form), event.clone()),
        (ACUSE, afacturar("application/json"), event),
        (
            "/api/radian/historico_eventos",
            afacturar(&lookup_form),
            lookup,
        ),
    ];
    for (path, headers, body) in cases {
        let mut over_socket = client().post(format!("{}{path}", served.uri()));
        let mut routed = axum::http::Request::post(path);
        for (name, value) in &headers {
            over_socket = over_socket.header(*name, value);
            routed = routed.header(*name, value);
        }
        let socket = over_socket.body(body.clone()).send().await.unwrap();
        let (status, content_type) = (socket.status(), socket.headers()["content-type"].clone());
        let socket_body = socket.bytes().await.unwrap();
        let routed = in_process
            .clone()
            .oneshot(routed.body(axum::body::Body::from(body)).unwrap())
            .await
            .unwrap();
        assert_eq!(status.as_u16(), routed.status().as_u16(), "{path}");
        assert_eq!(content_type, routed.headers()["content-type"], "{path}");
        let routed_body = axum::body::to_bytes(routed.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(socket_body, routed_body, "{path}");
    }
    // Journaled and counted alike (the socket's requests carry more headers).
    let (served, routed) = (served.state().journal(), state.journal());
    assert_eq!(served.summary().requests, 9);
    assert_eq!(served.summary(), routed.summary());
    assert_eq!(
        serde_json::to_value(served.coverage()).unwrap(),
        serde_json::to_value(routed.coverage()).unwrap()
    );
    let outline = |entry: &einvoice_mock::internals::server::JournalEntry| {
        (
            entry.path.clone(),
            entry.operation,
            entry.verdict,
            entry.status,
            entry.violations.clone(),
            entry.body.clone(),
        )
    };
    assert_eq!(
        served.entries().map(outline).collect::<Vec<_>>(),
        routed.entries().map(outline).collect::<Vec<_>>()
    );
}
