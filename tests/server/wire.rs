//! Issue 20: what arrives on the wire is judged as the provider would judge it — `data` as the
//! bytes PHP receives, whatever the transport; what the admin API stores, by the contract's
//! rules; and HTTP's own rules (one `Host`, the authority a request names, a declared size).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{client, deterministic_fake, ejemplo_1_with};
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
