//! The validating proxy, against a second einvoice-mock and against a provider that drifts.

use std::process::Command;

use super::BIN;
use axum::routing::post;
use einvoice_mock::Config;
use reqwest::multipart::Form;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::{client, deterministic_config, deterministic_fake, fixture};
use einvoice_mock::internals::server::proxy::proxy_app;
use einvoice_mock::internals::server::serve_router_until;
use einvoice_mock::AppState;

/// Starts a proxy to `target` on loopback; returns its base URL and state.
async fn start_proxy(target: &str) -> (String, AppState) {
    let state = AppState::new(deterministic_config()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = proxy_app(state.clone(), target.parse().unwrap());
    let serving = state.clone();
    tokio::spawn(async move {
        serve_router_until(listener, router, &serving, None, std::future::pending()).await
    });
    (url, state)
}

#[tokio::test]
async fn through_the_proxy_a_conforming_exchange_with_einvoice_mock_shows_no_drift() {
    let upstream = deterministic_fake().await;
    let (proxy, state) = start_proxy(&upstream.uri()).await;
    let data = fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_curl.json");
    let body: Value = client()
        .post(format!("{proxy}/api/radian/acuse_recibo_fev"))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer token_cliente")
        .multipart(
            Form::new()
                .text("data", data)
                .text("documento_obligado", "888888888"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["codigo_error"], 0);
    for month in ["2019-11", "2019-13"] {
        client()
            .post(format!("{proxy}/api/rest/Timbre/saldos"))
            .header("RCApiKey", "k")
            .json(&json!({ "MesConsulta": month }))
            .send()
            .await
            .unwrap();
    }
    let csv = client()
        .post(format!("{proxy}/api/rest/Timbre/saldos/csv"))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-10" }))
        .send()
        .await
        .unwrap();
    assert!(csv.text().await.unwrap().starts_with("Cuenta,TipoConsumo"));

    let entries: Vec<_> = state.journal().entries().cloned().collect();
    assert_eq!(entries.len(), 4);
    assert_eq!(
        entries[0].verdict, "conforms",
        "{:?}",
        entries[0].violations
    );
    assert_eq!(entries[1].verdict, "conforms");
    // The client's own mistake is reported; the provider's documented 400-001 is no drift.
    assert_eq!(entries[2].verdict, "violates");
    assert!(entries[2]
        .violations
        .iter()
        .all(|f| !f.location.starts_with("response")));
    assert_eq!(
        entries[3].verdict, "conforms",
        "{:?}",
        entries[3].violations
    );
    assert_eq!(
        upstream.requests().len(),
        4,
        "every request reached the provider"
    );
}

#[tokio::test]
async fn a_provider_that_drifts_is_reported_in_the_journal() {
    let drifting = axum::Router::new()
        .route(
            "/api/rest/Timbre/saldos",
            post(|| async {
                axum::Json(json!({
                    "TipoConsumo": "Postpago", "FechaActual": "2019-11-19T13:53:41",
                    "Registrados": 0, "Autorizados": 0, "GeneraronTimbre": 0,
                    "Transacciones": "dos", "Detalle": []
                }))
            }),
        )
        .route(
            "/api/rest/Timbre/saldos/csv",
            post(|| async { axum::Json(json!({ "ok": true })) }),
        )
        .route(
            "/api/radian/acuse_recibo_fev",
            post(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "short and stout") }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, drifting).await });
    let (proxy, state) = start_proxy(&upstream).await;

    let saldos = client()
        .post(format!("{proxy}/api/rest/Timbre/saldos"))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        saldos.status(),
        200,
        "the provider's answer is passed on as it is"
    );
    client()
        .post(format!("{proxy}/api/rest/Timbre/saldos/csv"))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-10" }))
        .send()
        .await
        .unwrap();
    let teapot = client()
        .post(format!("{proxy}/api/radian/acuse_recibo_fev"))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer t")
        .multipart(
            Form::new()
                .text(
                    "data",
                    fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json"),
                )
                .text("documento_obligado", "830020470"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(teapot.status(), 418);

    let entries: Vec<_> = state.journal().entries().cloned().collect();
    let rules = |i: usize| {
        entries[i]
            .violations
            .iter()
            .map(|f| f.rule.clone())
            .collect::<Vec<_>>()
    };
    assert!(entries.iter().all(|e| e.verdict == "violates"));
    assert!(
        rules(0).contains(&"shape".to_owned()),
        "{:?}",
        entries[0].violations
    );
    assert!(
        entries[0]
            .violations
            .iter()
            .any(|f| f.location == "response/Transacciones" && f.rule == "type"),
        "{:?}",
        entries[0].violations
    );
    assert_eq!(rules(1), ["content-type"]);
    assert_eq!(rules(2), ["status"]);
    let junit = state.journal().junit();
    assert!(junit.contains("failures=\"3\""), "{junit}");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_in_the_providers_format_counted_apart_from_drift() {
    use einvoice_mock::internals::server::proxy::{proxy_app_to, Targets};
    // A loopback port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target: reqwest::Url = format!("http://{}", closed.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(closed);
    let state = einvoice_mock::AppState::new(Config::embedded_default()).unwrap();
    let router = proxy_app_to(
        state.clone(),
        Targets {
            afacturar: None,
            sovos: Some(target),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = state.clone();
    tokio::spawn(async move {
        einvoice_mock::internals::server::serve_router_until(
            listener,
            router,
            &serving,
            None,
            std::future::pending(),
        )
        .await
    });

    let response = client()
        .post(format!("{url}/api/rest/Timbre/saldos"))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["Code"], "502", "{body}");
    assert!(body["errors"][0]["Message"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
    // No Afacturar target: a 502 in Afacturar's format.
    let response = client()
        .post(format!("{url}/api/radian/historico_eventos"))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer t")
        .multipart(Form::new().text("cufe", "4".repeat(96)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["codigo_error"], 502, "{body}");

    let journal = state.journal();
    assert_eq!(journal.upstream_errors(), 2);
    let all: Vec<_> = journal
        .entries()
        .map(|e| (&e.path, &e.violations))
        .collect();
    assert_eq!(
        journal.lifetime().violating,
        0,
        "not a contract violation: {all:?}"
    );
    let entry = journal.entries().next().unwrap();
    assert_eq!(entry.refusal, Some("upstream_error"));
    assert!(entry.violations.is_empty());
}

#[test]
fn proxy_accepts_only_http_and_https_targets() {
    let output = Command::new(BIN)
        .args(["proxy", "--port", "0", "--sovos-target", "ftp://127.0.0.1/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--sovos-target ftp://127.0.0.1/: only http:// and https:// targets"),
        "{stderr}"
    );
}

/// What the proxy's client (reqwest, as configured in `server/proxy.rs`) does: the target's
/// credentials as basic auth, `accept: */*` when the client sent none, a 302 to a POST followed as a GET
/// without its body and payload headers, with a `referer`; a redirect loop is an upstream
/// error after 10.
#[tokio::test]
async fn the_proxy_follows_redirects_and_sends_the_targets_credentials() {
    let echo = |request: axum::extract::Request| async move {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let headers: serde_json::Map<String, Value> = parts
            .headers
            .keys()
            .map(|name| {
                let all: Vec<&str> = parts
                    .headers
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect();
                (name.to_string(), json!(all))
            })
            .collect();
        axum::Json(json!({
            "method": parts.method.as_str(),
            "uri": parts.uri.to_string(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        }))
    };
    let upstream_app = axum::Router::new()
        .route(
            "/api/rest/Timbre/saldos",
            post(|| async {
                (
                    axum::http::StatusCode::FOUND,
                    [(axum::http::header::LOCATION, "/final?x=1")],
                )
            }),
        )
        .route(
            "/loop",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, "/loop")],
                )
            }),
        )
        .fallback(echo);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, upstream_app).await });
    let (proxy, _state) = start_proxy(&format!("http://us%20er:pw@{address}")).await;

    let answer: Value = client()
        .post(format!("{proxy}/api/rest/Timbre/saldos"))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["method"], "GET", "{answer}");
    assert_eq!(answer["uri"], "/final?x=1", "{answer}");
    assert_eq!(answer["body"], "", "{answer}");
    let headers = &answer["headers"];
    // base64("us er:pw")
    assert_eq!(
        headers["authorization"],
        json!(["Basic dXMgZXI6cHc="]),
        "{answer}"
    );
    assert_eq!(headers["rcapikey"], json!(["k"]), "{answer}");
    assert_eq!(headers["accept"], json!(["*/*"]), "{answer}");
    assert_eq!(
        headers["referer"],
        json!([format!("http://{address}/api/rest/Timbre/saldos")]),
        "{answer}"
    );
    assert!(headers.get("content-type").is_none(), "{answer}");

    let looping = client().get(format!("{proxy}/loop")).send().await.unwrap();
    assert_eq!(looping.status(), 502);
    let text = looping.text().await.unwrap();
    assert!(text.contains("too many redirects"), "{text}");
    assert!(!text.contains("us%20er"), "{text}");
}
