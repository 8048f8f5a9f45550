//! The fake provider over real loopback HTTP.

mod admin;
mod afacturar;
mod cli;
mod fuzz;
mod gate;
mod hardening;
mod lifecycle;
mod proxy;
mod reliability;
mod sovos;
mod validation_budget;

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
