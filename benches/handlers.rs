//! The fake provider without the network: each benchmarked route answered by
//! `einvoice_mock::app(state)` through `tower::ServiceExt::oneshot` — the whole request path
//! (contract verification, journal, handler, response body) minus sockets and HTTP parsing.
//! Building the state and the router is timed on its own.
//!
//! `cargo bench --bench handlers -- --warm-up-time 1 --measurement-time 3`
//! (or `cargo xtask criterion`).

use std::hint::black_box;
use std::path::Path;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use einvoice_mock::{app, AppState, Config};
use tower::ServiceExt as _;

/// The seed history's CUFE (three events in the embedded default configuration).
const HISTORY_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137";
const BOUNDARY: &str = "----einvoicebench7MA4YWxkTrZu0gW";
/// The `cufe` of the fixture, replaced by a fresh one in each acuse.
const FIXTURE_CUFE: &str =
    "f46111923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn state() -> AppState {
    AppState::new(Config::embedded_default()).expect("the default configuration is valid")
}

fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

fn saldos() -> Request<Body> {
    Request::post("/api/rest/Timbre/saldos")
        .header("RCApiKey", "k")
        .header("Content-Type", "application/json")
        .body(Body::from(r#"{"MesConsulta":"2019-11"}"#))
        .expect("a request")
}

fn form(path: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header("Authorization", "Bearer t")
        .header("Accept", "application/json")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .expect("a request")
}

/// The acuse `data` document of seed 003's Ejemplo 1, split around its CUFE.
fn acuse_template() -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
    let data = std::fs::read_to_string(&path).expect("the fixture");
    let (before, after) = data.split_once(FIXTURE_CUFE).expect("the fixture's CUFE");
    (before.to_owned(), after.to_owned())
}

/// Sends `request` and reads the whole answer; panics unless it starts with `expect`.
async fn answer(router: &Router, request: Request<Body>, expect: &[u8]) -> usize {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body");
    assert!(
        status.is_success() && body.starts_with(expect),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    body.len()
}

/// `AppState::new` (seed data; the contract is compiled once per process, before) and
/// `app(state)` (the router), apart.
fn construction(c: &mut Criterion) {
    let mut group = c.benchmark_group("construction");
    let _ = state(); // compiles the contract: a one-time cost, timed in the validate bench.
    group.bench_function("AppState::new", |b| b.iter(state));
    let built = state();
    group.bench_function("app(state)", |b| b.iter(|| app(black_box(built.clone()))));
    group.finish();
}

fn handlers(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("handlers");

    let router = app(state());
    group.bench_function("saldos", |b| {
        b.iter(|| rt.block_on(answer(&router, saldos(), br#"{"TipoConsumo""#)))
    });

    let router = app(state());
    let historico = multipart(&[("cufe", HISTORY_CUFE)]);
    group.bench_function("historico_eventos", |b| {
        b.iter(|| {
            let request = form("/api/radian/historico_eventos", historico.clone());
            rt.block_on(answer(&router, request, br#"{"codigo_error":0"#))
        })
    });

    // Each acuse names a CUFE never seen before, so every one succeeds and records an event.
    let router = app(state());
    let (before, after) = acuse_template();
    let mut counter = 0u64;
    group.bench_function("acuse_recibo_fev (fresh CUFE)", |b| {
        b.iter(|| {
            counter += 1;
            let data = format!("{before}{counter:096x}{after}");
            let body = multipart(&[("data", &data), ("documento_obligado", "830020470")]);
            let request = form("/api/radian/acuse_recibo_fev", body);
            rt.block_on(answer(&router, request, br#"{"codigo_error":0"#))
        })
    });
    group.finish();
}

criterion_group!(benches, construction, handlers);
criterion_main!(benches);
