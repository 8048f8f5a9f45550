//! What the server tests share: configurations, a client, fixtures, and the requests and
//! admin calls most of them make.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::Value;

use einvoice_mock::{Config, FakeProvider};

/// The embedded default with a frozen clock and a fixed `tiempo_ejecucion`, so that bodies
/// can be snapshotted. The moment is seed 002's `FechaActual` of its CSV example.
pub fn deterministic_config() -> Config {
    let mut config = Config::embedded_default();
    config.server.fixed_clock = Some(
        chrono::DateTime::parse_from_rfc3339("2019-11-20T16:57:53-06:00").expect("a valid moment"),
    );
    config.server.fixed_tiempo_ejecucion = Some(0.05);
    config
}

pub async fn deterministic_fake() -> FakeProvider {
    FakeProvider::start_with(deterministic_config()).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

/// Reads a fixture under `fixtures/`.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn fixture_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(path)).expect("fixture is JSON")
}

/// The seed's Ejemplo 1 `data` document with another CUFE (and, optionally, a webhook).
pub fn ejemplo_1_with(cufe: &str, webhook: Option<&str>) -> String {
    let mut data = fixture_json("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
    data["evento"][0]["informacion_documento_referencia"]["cufe"] = serde_json::json!(cufe);
    if let Some(url) = webhook {
        data["generalidades"]["webhook"] = serde_json::json!(url);
    }
    data.to_string()
}

/// The binary the command-line tests run.
pub const BIN: &str = env!("CARGO_BIN_EXE_einvoice-mock");

/// Runs `future` on a runtime of its own, for tests that are not async.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Arms a scenario (`POST /__admin/scenarios`), which must be accepted, and returns it.
pub async fn arm(fake: &FakeProvider, spec: Value) -> Value {
    let response = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{spec}");
    response.json().await.unwrap()
}

/// `GET /__admin/{path}` as JSON.
pub async fn admin_get(fake: &FakeProvider, path: &str) -> Value {
    get_json(format!("{}/__admin/{path}", fake.uri())).await.1
}

/// A GET whose answer must be JSON, with its status.
pub async fn get_json(url: String) -> (StatusCode, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    (status, body)
}

/// An `acuse_recibo_fev` as the document sends it: this `data`, Bearer `token`.
pub fn acuse(fake: &FakeProvider, data: String, token: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Accept", "application/json")
        .header("Authorization", format!("Bearer {token}"))
        .multipart(
            Form::new()
                .text("data", data)
                .text("documento_obligado", "830020470"),
        )
}

/// A Sovos saldos with this JSON body.
pub fn saldos(fake: &FakeProvider, body: Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
        .header("RCApiKey", "mi-api-key")
        .json(&body)
}

/// Starts the binary with `args` (logging warnings only); its child and the URL it printed.
pub fn start(args: &[&str]) -> (std::process::Child, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped());
    start_serving(command)
}

/// Spawns a `serve` command and reads its first stdout line: the child and its URL.
pub fn start_serving(mut command: Command) -> (std::process::Child, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the first line names the address: {first:?}"))
        .to_owned();
    (child, url)
}

/// `text` fit for a query string (what RFC 3339 moments need).
pub fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

/// One HTTP/2 frame: its 9-byte header (length, type, flags, stream) and `payload`.
pub fn http2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = u32::try_from(payload.len()).unwrap().to_be_bytes()[1..].to_vec();
    bytes.extend([kind, flags]);
    bytes.extend(stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// An HTTP/2 header block of HPACK literals without indexing: names and values as they are.
pub fn http2_header_block(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in headers {
        block.push(0);
        block.push(u8::try_from(name.len()).unwrap());
        block.extend_from_slice(name.as_bytes());
        block.push(u8::try_from(value.len()).unwrap());
        block.extend_from_slice(value.as_bytes());
    }
    block
}
