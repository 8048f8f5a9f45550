//! What the fake answers instead of the provider, and how the journal records it: body faults
//! that keep the real status, 408 and 413 refusals, the rate limit's 429, admin 404/405.

use std::time::Duration;

use serde_json::{json, Value};

use super::{acuse, arm, client, deterministic_config, ejemplo_1_with, get_json, saldos};
use einvoice_mock::{Config, FakeProvider};

#[tokio::test]
async fn a_malformed_body_fault_keeps_the_real_401_and_the_journal_records_status_and_fault() {
    let mut config = deterministic_config();
    config.afacturar.tokens = vec!["the-right-token".to_owned()];
    let fake = FakeProvider::start_with(config).await;
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "fault": "malformed_body" }),
    )
    .await;
    let response = acuse(
        &fake,
        ejemplo_1_with(&"7".repeat(96), None),
        "a-wrong-token",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "garbled");

    // An explicit status replaces the real one.
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "fault": "malformed_body", "status": 503 }),
    )
    .await;
    assert_eq!(
        acuse(
            &fake,
            ejemplo_1_with(&"7".repeat(96), None),
            "the-right-token"
        )
        .send()
        .await
        .unwrap()
        .status(),
        503
    );

    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    let entries = journal["requests"].as_array().unwrap();
    assert_eq!(entries[0]["status"], 401, "{journal}");
    assert_eq!(entries[0]["fault"], "malformed_body", "{journal}");
    assert_eq!(entries[1]["status"], 503, "{journal}");
    // The journal's headers keep the credential masked.
    let authorization = entries[0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "authorization")
        .unwrap();
    assert_eq!(authorization[1], "Bearer *********oken", "{authorization}");
    // A status without a body fault is refused.
    let refused = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&json!({ "operation": "saldos", "respond": "500", "status": 503 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn a_413_is_journaled_and_counted_with_its_refusal() {
    let mut config = Config::embedded_default();
    config.server.body_limit_bytes = Some(1024);
    let fake = FakeProvider::start_with(config).await;
    let big = json!({ "MesConsulta": "2019-11", "pad": "x".repeat(4096) });
    let response = client()
        .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
        .header("RCApiKey", "k")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    assert_eq!(journal["summary"]["requests"], 1, "{journal}");
    let entry = &journal["requests"][0];
    assert_eq!(entry["status"], 413);
    assert_eq!(entry["refusal"], "payload_too_large");
    assert_eq!(entry["operation"], "saldos");
    assert_eq!(entry["verdict"], "violates");
}

#[tokio::test]
async fn unknown_admin_paths_and_wrong_methods_answer_json_and_are_not_provider_traffic() {
    let fake = FakeProvider::start().await;
    for (method, path, status) in [
        (reqwest::Method::GET, "/__admin/reset", 405),
        (reqwest::Method::GET, "/__admin/no-such-thing", 404),
        (reqwest::Method::POST, "/__admin/requests/7/x", 404),
        (reqwest::Method::PUT, "/__admin/coverage", 405),
    ] {
        let response = client()
            .request(method.clone(), format!("{}{path}", fake.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    assert_eq!(journal["summary"]["requests"], 0, "{journal}");
}

#[tokio::test]
async fn the_third_request_past_rate_limit_2_gets_429_with_retry_after() {
    let mut config = Config::embedded_default();
    config.server.rate_limit_per_minute = Some(2);
    let fake = FakeProvider::start_with(config).await;
    for _ in 0..2 {
        let response = acuse(&fake, ejemplo_1_with(&"7".repeat(96), None), "t")
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("retry-after").is_none());
    }
    let third = acuse(&fake, ejemplo_1_with(&"7".repeat(96), None), "t")
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
    let seconds: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["codigo_error"], 429, "{body}");

    // Sovos documents no limit; past an explicit one it answers 429 in its own format.
    for _ in 0..2 {
        assert_eq!(
            saldos(&fake, json!({ "MesConsulta": "2019-11" }))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let third = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["errors"][0]["Code"], "429", "{body}");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_journaled() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = Config::embedded_default();
    config.server.read_timeout_ms = Some(300);
    let fake = FakeProvider::start_with(config).await;
    let mut stream = tokio::net::TcpStream::connect(fake.address())
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    assert_eq!(journal["summary"]["requests"], 1, "{journal}");
    assert_eq!(
        journal["requests"][0]["refusal"], "request_timeout",
        "{journal}"
    );
    assert_eq!(journal["requests"][0]["status"], 408, "{journal}");
}
