//! The RADIAN lifecycle after the acuse: recibo del bien (032), reclamo (031), events other
//! parties register, and the legitimate-holder query, over loopback HTTP.

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{client, deterministic_config, deterministic_fake, fixture_json};
use einvoice_mock::{AppState, FakeProvider};

/// The seed's Ejemplo 1 for `cufe`, as the `data` of `operation` (reclamo gets an
/// `encabezado` first, as its page orders it).
fn data_for(operation: &str, cufe: &str, tipo_reclamo: Option<&str>) -> String {
    let mut data = fixture_json("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
    let event = data["evento"][0].take();
    let mut with_header = serde_json::Map::new();
    if operation == "reclamo" {
        let encabezado = match tipo_reclamo {
            Some(tipo) => json!({ "tipo_reclamo": tipo }),
            None => json!({}),
        };
        with_header.insert("encabezado".to_owned(), encabezado);
    }
    for (key, value) in event.as_object().unwrap() {
        with_header.insert(key.clone(), value.clone());
    }
    with_header["informacion_documento_referencia"]["cufe"] = json!(cufe);
    data["evento"][0] = Value::Object(with_header);
    data.to_string()
}

async fn send(fake: &FakeProvider, operation: &str, data: String) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/api/radian/{operation}", fake.uri()))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer token_cliente")
        .multipart(
            Form::new()
                .text("documento_obligado", "830020470")
                .text("data", data),
        )
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn event(fake: &FakeProvider, operation: &str, cufe: &str) -> Value {
    send(fake, operation, data_for(operation, cufe, Some("02")))
        .await
        .1
}

async fn history_codes(fake: &FakeProvider, cufe: &str) -> Vec<String> {
    let body: Value = client()
        .post(format!("{}/api/radian/historico_eventos", fake.uri()))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer t")
        .multipart(Form::new().text("cufe", cufe.to_owned()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["resultado"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["codigo"].as_str().unwrap().to_owned())
        .collect()
}

async fn inject(fake: &FakeProvider, body: Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/__admin/events", fake.uri()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn rule_of(body: &Value) -> &str {
    body["ErrorMessage_DIAN"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn acuse_then_recibo_then_reclamo_succeed_and_the_history_lists_030_032_031() {
    let fake = deterministic_fake().await;
    let cufe = "a1".repeat(48);
    let mut prefixes = Vec::new();
    for operation in ["acuse_recibo_fev", "recibo_bien_servicio", "reclamo"] {
        let body = event(&fake, operation, &cufe).await;
        assert_eq!(body["codigo_error"], 0, "{operation}: {body:#}");
        assert_eq!(body["resultado"]["cude"].as_str().unwrap().len(), 96);
        prefixes.push(body["resultado"]["url_representacion_xml"].clone());
    }
    assert_eq!(history_codes(&fake, &cufe).await, ["030", "032", "031"]);
    let events = fake.state().events().history(&cufe);
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e.row.identificacion_evento.as_str())
        .collect();
    assert!(
        ids[0].starts_with("PAR") && ids[1].starts_with("PRE") && ids[2].starts_with("PRC"),
        "{ids:?}"
    );
    let cudes: std::collections::HashSet<&str> =
        events.iter().map(|e| e.row.cude.as_str()).collect();
    assert_eq!(cudes.len(), 3, "one CUDE per event");
    fake.verify();
}

#[tokio::test]
async fn a_reclamo_before_any_recibo_is_dian_15_with_lgc03_and_a_second_recibo_is_lgc01() {
    let fake = deterministic_fake().await;
    let cufe = "b2".repeat(48);
    event(&fake, "acuse_recibo_fev", &cufe).await;
    let body = event(&fake, "reclamo", &cufe).await;
    assert_eq!(body["codigo_error"], 15, "{body:#}");
    assert!(rule_of(&body).starts_with("Regla: LGC03"), "{body:#}");
    assert_eq!(
        event(&fake, "recibo_bien_servicio", &cufe).await["codigo_error"],
        0
    );
    let again = event(&fake, "recibo_bien_servicio", &cufe).await;
    assert_eq!(again["codigo_error"], 15);
    assert!(rule_of(&again).starts_with("Regla: LGC01"), "{again:#}");
    // 032 without 030 first.
    let lone = event(&fake, "recibo_bien_servicio", &"c3".repeat(48)).await;
    assert_eq!(lone["codigo_error"], 15);
    assert!(rule_of(&lone).starts_with("Regla: LGC09"), "{lone:#}");
}

#[tokio::test]
async fn after_an_injected_aceptacion_expresa_a_reclamo_is_lgc02() {
    let fake = deterministic_fake().await;
    let cufe = "d4".repeat(48);
    event(&fake, "acuse_recibo_fev", &cufe).await;
    event(&fake, "recibo_bien_servicio", &cufe).await;
    let (status, row) = inject(&fake, json!({ "cufe": cufe, "codigo": "033" })).await;
    assert_eq!(status, StatusCode::CREATED, "{row:#}");
    assert_eq!(row["codigo"], "033");
    assert!(row["identificacion_evento"]
        .as_str()
        .unwrap()
        .starts_with("PAC"));
    let body = event(&fake, "reclamo", &cufe).await;
    assert_eq!(body["codigo_error"], 15);
    assert!(rule_of(&body).starts_with("Regla: LGC02"), "{body:#}");
    assert_eq!(history_codes(&fake, &cufe).await, ["030", "032", "033"]);
}

#[tokio::test]
async fn an_injected_event_that_breaks_the_order_is_409_naming_the_rule() {
    let fake = deterministic_fake().await;
    let cufe = "e5".repeat(48);
    let (status, body) = inject(
        &fake,
        json!({ "cufe": cufe, "codigo": "033", "fecha": "2024-01-02 03:04:05" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body:#}");
    assert_eq!(body["regla"], "LGC13");
    let (status, body) = inject(&fake, json!({ "cufe": cufe, "codigo": "099" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    let (status, body) = inject(
        &fake,
        json!({ "cufe": cufe, "codigo": "030", "fecha": "2024-01-02T03:04:05" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("yyyy-mm-dd hh:mm:ss"));
    let (status, row) = inject(&fake, json!({ "cufe": cufe, "codigo": "030", "fecha": "2024-01-02 03:04:05", "emisor_identificacion": "9999999" })).await;
    assert_eq!(status, StatusCode::CREATED, "{row:#}");
    assert_eq!(row["fecha"], "2024-01-02 03:04:05");
    assert_eq!(row["emisor_nombre"], "SOFTWARE SAS");
}

#[tokio::test]
async fn a_reclamo_without_tipo_reclamo_is_the_php_worded_400_at_its_path() {
    let fake = deterministic_fake().await;
    let (status, body) = send(
        &fake,
        "reclamo",
        data_for("reclamo", &"f6".repeat(48), None),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["resultado"],
        json!([{
            "propiedad": "evento[0].encabezado.tipo_reclamo",
            "descripcion": "The property tipo_reclamo is required"
        }])
    );
    let (_, body) = send(
        &fake,
        "reclamo",
        data_for("reclamo", &"f6".repeat(48), Some("05")),
    )
    .await;
    assert_eq!(
        body["resultado"][0]["propiedad"],
        "evento[0].encabezado.tipo_reclamo"
    );
}

#[tokio::test]
async fn concurrent_recibos_for_one_cufe_give_exactly_one_success() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-lifecycle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = deterministic_config();
    config.server.data_dir = Some(dir.clone());
    let fake = FakeProvider::start_with(config.clone()).await;
    for round in 0..20u32 {
        let cufe = format!("{round:096x}");
        event(&fake, "acuse_recibo_fev", &cufe).await;
        let answers = futures_util::future::join_all(
            (0..6).map(|_| event(&fake, "recibo_bien_servicio", &cufe)),
        )
        .await;
        let successes = answers.iter().filter(|a| a["codigo_error"] == 0).count();
        assert_eq!(successes, 1, "round {round}: {answers:#?}");
        assert_eq!(event(&fake, "reclamo", &cufe).await["codigo_error"], 0);
    }
    drop(fake);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // Another process on the same directory holds every acknowledged 032 and 031.
    let reopened = AppState::new(config).unwrap();
    for round in 0..20u32 {
        let codes: Vec<String> = reopened
            .events()
            .history(&format!("{round:096x}"))
            .iter()
            .map(|e| e.row.codigo.clone())
            .collect();
        assert_eq!(codes, ["030", "032", "031"], "round {round}");
    }
    drop(reopened);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_legitimate_holder_query_lists_each_cufe_asked_for_with_its_seller() {
    let fake = deterministic_fake().await;
    let ask = |lista: String, documento: &'static str, token: &'static str| {
        let uri = fake.uri();
        async move {
            let response = client()
                .post(format!("{uri}/api/radian/lector_cufe_tenedor_legitimo"))
                .header("Authorization", format!("Bearer {token}"))
                .multipart(
                    Form::new()
                        .text("documento_obligado", documento)
                        .text("lista_cufe", lista),
                )
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (a, b) = ("a1".repeat(48), "b2".repeat(48));
    let (status, body) = ask(format!("{a},{b}"), "830020470", "t").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["codigo_error"], "0", "{body:#}");
    let resultado = body["resultado"].as_array().unwrap();
    assert_eq!(resultado.len(), 2);
    assert_eq!(resultado[0]["cufe"], a.as_str());
    assert_eq!(resultado[1]["cufe"], b.as_str());
    assert_eq!(resultado[0]["nit_legitimo_tenedor"], "5555555");
    assert_eq!(resultado[0]["razon_social_legitimo_tenedor"], "ENERGIA");
    // A form without lista_cufe: code 10 with Laravel's message.
    let response = client()
        .post(format!(
            "{}/api/radian/lector_cufe_tenedor_legitimo",
            fake.uri()
        ))
        .header("Authorization", "Bearer t")
        .multipart(Form::new().text("documento_obligado", "830020470"))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "codigo_error": 10, "descripcion_error": ["The lista cufe field is required."] })
    );
    // 21 CUFEs are over the limit.
    let (_, body) = ask(vec![a.clone(); 21].join(","), "830020470", "t").await;
    assert_eq!(body["codigo_error"], 10, "{body:#}");
}

#[tokio::test]
async fn a_token_that_is_not_the_obligados_gets_code_11() {
    let mut config = deterministic_config();
    config
        .afacturar
        .token_obligados
        .insert("token_cliente".to_owned(), vec!["830020470".to_owned()]);
    let fake = FakeProvider::start_with(config).await;
    let ask = |documento: &'static str| {
        client()
            .post(format!(
                "{}/api/radian/lector_cufe_tenedor_legitimo",
                fake.uri()
            ))
            .header("Authorization", "Bearer token_cliente")
            .multipart(
                Form::new()
                    .text("documento_obligado", documento)
                    .text("lista_cufe", "a1".repeat(48)),
            )
            .send()
    };
    let body: Value = ask("888888888").await.unwrap().json().await.unwrap();
    assert_eq!(body["codigo_error"], 11, "{body:#}");
    assert_eq!(
        body["descripcion_error"],
        "El token no esta asociado al documento del obligado"
    );
    assert_eq!(body["transaccion"].as_str().unwrap().len(), 13);
    let body: Value = ask("830020470").await.unwrap().json().await.unwrap();
    assert_eq!(body["codigo_error"], "0", "{body:#}");
}
