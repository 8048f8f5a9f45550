//! Afacturar's endpoints as the running fake answers them.

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{client, deterministic_fake, fixture, fixture_json};
use einvoice_mock::FakeProvider;

const SEED_001_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137";

async fn acuse(fake: &FakeProvider, data: &str, documento: &str) -> (StatusCode, Value) {
    let form = Form::new()
        .text("data", data.to_owned())
        .text("documento_obligado", documento.to_owned());
    let response = client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer token_cliente")
        .multipart(form)
        .send()
        .await
        .expect("the fake answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

async fn historico(fake: &FakeProvider, cufe: &str) -> (StatusCode, Value) {
    let form = Form::new()
        .text("cufe", cufe.to_owned())
        .text("entorno", "DOCUMENTO_NO_VALIDO");
    let response = client()
        .post(format!("{}/api/radian/historico_eventos", fake.uri()))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer token_cliente")
        .multipart(form)
        .send()
        .await
        .expect("the fake answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

fn ejemplo_1() -> String {
    fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json")
}

fn ejemplo_1_with_cufe(cufe: &str) -> String {
    super::ejemplo_1_with(cufe, None)
}

#[tokio::test]
async fn the_documents_curl_example_sent_as_written_succeeds() {
    let fake = deterministic_fake().await;
    let data = fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_curl.json");
    let (status, body) = acuse(&fake, &data, "888888888").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["codigo_error"], 0, "{body:#}");
    insta::assert_json_snapshot!("acuse_curl_example_success", body);
}

#[tokio::test]
async fn acuse_then_historico_shows_the_event_then_the_same_acuse_is_dian_15() {
    let fake = deterministic_fake().await;
    let cufe = "f46111923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4";

    let (_, before) = historico(&fake, cufe).await;
    assert_eq!(before["codigo_error"], 12);

    let (status, first) = acuse(&fake, &ejemplo_1(), "830020470").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["codigo_error"], 0, "{first:#}");
    assert_eq!(first["resultado"]["numero_evento"], "1");
    assert!(first["transaccion"]
        .as_str()
        .unwrap()
        .starts_with("ODMwMDIwNDcw"));

    let (_, history) = historico(&fake, cufe).await;
    assert_eq!(history["codigo_error"], 0);
    let events = history["resultado"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["codigo"], "030");
    assert_eq!(events[0]["cude"], first["resultado"]["cude"]);
    assert_eq!(events[0]["emisor_identificacion"], "830020470");
    insta::assert_json_snapshot!("historico_after_acuse", history);

    let (status, again) = acuse(&fake, &ejemplo_1(), "830020470").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["codigo_error"], 15);
    assert_eq!(
        again["ErrorMessage_DIAN"],
        "Regla: LGC01, Rechazo: Evento registrado previamente"
    );
    insta::assert_json_snapshot!("acuse_repeated_dian_15", again);

    let (_, history) = historico(&fake, cufe).await;
    assert_eq!(
        history["resultado"].as_array().unwrap().len(),
        1,
        "a rejection records nothing"
    );
}

#[tokio::test]
async fn the_documents_history_request_returns_the_documents_three_events() {
    let fake = deterministic_fake().await;
    let (status, body) = historico(&fake, SEED_001_CUFE).await;
    assert_eq!(status, StatusCode::OK);
    let documented =
        fixture_json("afacturar/historico_eventos.success/valid/seed_001_salida_exitosa.json");
    assert_eq!(body["resultado"], documented["resultado"]);
    assert_eq!(body["codigo_error"], 0);
    assert_eq!(body["descripcion_error"], "OK");
    insta::assert_json_snapshot!("historico_seed_001", body);
}

#[tokio::test]
async fn a_cufe_without_events_is_codigo_12_sin_eventos() {
    let fake = deterministic_fake().await;
    let (status, body) = historico(&fake, &"0".repeat(96)).await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("historico_sin_eventos", body);
}

#[tokio::test]
async fn the_documents_semantic_error_example_is_answered_with_the_documents_resultado() {
    let fake = deterministic_fake().await;
    let data = fixture(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    );
    let (status, body) = acuse(&fake, &data, "830020470").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let documented = fixture_json(
        "afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json",
    );
    assert_eq!(body["resultado"], documented["resultado"]);
    insta::assert_json_snapshot!("acuse_semantic_error", body);
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_unauthenticated() {
    let fake = deterministic_fake().await;
    let documented =
        fixture_json("afacturar/unauthenticated/valid/seed_001_salida_con_errores_de_datos.json");
    for auth in [
        None,
        Some("Bearer "),
        Some("Basic abc"),
        Some("token_cliente"),
    ] {
        let mut request = client()
            .post(format!("{}/api/radian/historico_eventos", fake.uri()))
            .multipart(Form::new().text("cufe", SEED_001_CUFE));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            documented,
            "{auth:?}"
        );
    }
}

#[tokio::test]
async fn configured_tokens_refuse_any_other_token() {
    let mut config = super::deterministic_config();
    config.afacturar.tokens = vec!["secreto".into()];
    let fake = FakeProvider::start_with(config).await;
    let send = |token: &'static str| {
        client()
            .post(format!("{}/api/radian/historico_eventos", fake.uri()))
            .header("Authorization", format!("Bearer {token}"))
            .multipart(Form::new().text("cufe", SEED_001_CUFE))
            .send()
    };
    assert_eq!(
        send("otro").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send("secreto").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn an_urlencoded_form_is_accepted_like_the_php_server_does() {
    let fake = deterministic_fake().await;
    let cufe = "b".repeat(96);
    let response = client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Authorization", "Bearer token_cliente")
        .form(&[
            ("data", ejemplo_1_with_cufe(&cufe)),
            ("documento_obligado", "830020470".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["codigo_error"], 0, "{body:#}");
}

#[tokio::test]
async fn a_json_body_is_415_in_the_documented_error_shape() {
    let fake = deterministic_fake().await;
    let response = client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Authorization", "Bearer token_cliente")
        .json(&json!({ "data": ejemplo_1(), "documento_obligado": "830020470" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    insta::assert_json_snapshot!(
        "acuse_json_body_415",
        response.json::<Value>().await.unwrap()
    );
}

#[tokio::test]
async fn a_missing_data_field_and_data_that_is_not_json_are_400_in_the_same_shape() {
    let fake = deterministic_fake().await;
    let response = client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Authorization", "Bearer token_cliente")
        .multipart(Form::new().text("documento_obligado", "830020470"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!(
        "acuse_missing_data",
        response.json::<Value>().await.unwrap()
    );

    let (status, body) = acuse(&fake, "{\"evento\": [", "830020470").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("acuse_data_not_json", body);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_providers_format() {
    let fake = deterministic_fake().await;
    let response = client()
        .post(format!("{}/api/radian/no_existe", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "codigo_error": 404, "descripcion_error": "No encontrado" })
    );
    let response = client()
        .get(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "codigo_error": 405, "descripcion_error": "Método no permitido" })
    );
}

#[tokio::test]
async fn every_answer_conforms_to_its_own_response_schema() {
    let fake = deterministic_fake().await;
    let contract = einvoice_mock::Contract::global();
    let (_, success) = acuse(&fake, &ejemplo_1(), "830020470").await;
    let (_, dian) = acuse(&fake, &ejemplo_1(), "830020470").await;
    let (_, history) = historico(&fake, SEED_001_CUFE).await;
    let (_, none) = historico(&fake, &"0".repeat(96)).await;
    let data = fixture(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    );
    let (_, semantic) = acuse(&fake, &data, "830020470").await;
    for (schema, body) in [
        ("afacturar/acuse_recibo_fev.success", success),
        ("afacturar/acuse_recibo_fev.dian_error", dian),
        ("afacturar/historico_eventos.success", history),
        ("afacturar/historico_eventos.sin_eventos", none),
        ("afacturar/acuse_recibo_fev.semantic_error", semantic),
    ] {
        let violations = contract.validate_schema(schema, &body).unwrap();
        assert!(violations.is_valid(), "{schema}: {violations}\n{body:#}");
    }
}

#[tokio::test]
async fn the_cude_of_a_registered_acuse_is_96_lowercase_hex_and_deterministic() {
    let cufe = "c".repeat(96);
    let mut cudes = Vec::new();
    for _ in 0..2 {
        let fake = deterministic_fake().await;
        let (_, body) = acuse(&fake, &ejemplo_1_with_cufe(&cufe), "830020470").await;
        let cude = body["resultado"]["cude"].as_str().unwrap().to_owned();
        assert_eq!(cude.len(), 96);
        assert!(cude
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        cudes.push(cude);
    }
    assert_eq!(cudes[0], cudes[1]);
}

#[tokio::test]
async fn events_031_to_034_recorded_from_rust_obey_dians_order_and_show_in_the_history() {
    use einvoice_mock::EventCode;
    let fake = deterministic_fake().await;
    let state = fake.state();
    let cufe = "d".repeat(96);

    let rejected = state
        .record_event(&cufe, EventCode::ReciboBien, "830020470")
        .unwrap_err();
    assert_eq!(
        rejected.rejection().unwrap().rule,
        "LGC09",
        "032 needs a 030 first"
    );

    let (_, acuse_body) = acuse(&fake, &ejemplo_1_with_cufe(&cufe), "830020470").await;
    assert_eq!(acuse_body["codigo_error"], 0);
    state
        .record_event(&cufe, EventCode::ReciboBien, "830020470")
        .unwrap();
    state
        .record_event(&cufe, EventCode::AceptacionExpresa, "830020470")
        .unwrap();
    let rejected = state
        .record_event(&cufe, EventCode::Reclamo, "830020470")
        .unwrap_err();
    assert_eq!(
        rejected.rejection().unwrap().rule,
        "LGC02",
        "no claim after an acceptance"
    );

    let (_, history) = historico(&fake, &cufe).await;
    let codes: Vec<&str> = history["resultado"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["codigo"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["030", "032", "033"]);
    let numbers: Vec<&str> = history["resultado"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["numero"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        ["1", "2", "3"],
        "numbered without gaps, rejections excluded"
    );
    insta::assert_json_snapshot!("historico_030_032_033_from_rust", history);
}

#[tokio::test]
async fn seeded_events_are_checked_against_dians_order_at_start_up() {
    let config = einvoice_mock::Config::from_toml(
        r#"
        [[afacturar.events]]
        cufe = "aaaa"
        codigo = "033"
        fecha = "2022-11-30 21:22:17"
        emisor_nombre = "A"
        emisor_identificacion = "1"
        receptor_nombre = "B"
        receptor_identificacion = "2"
        "#,
    )
    .unwrap();
    let error = FakeProvider::try_start(config)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("afacturar.events[0]") && error.contains("LGC13"),
        "{error}"
    );
}

#[tokio::test]
async fn seeded_events_from_configuration_build_a_history_with_computed_cudes() {
    let config = einvoice_mock::Config::from_toml(
        r#"
        [server]
        fixed_clock = "2022-11-30T21:22:17-05:00"
        fixed_tiempo_ejecucion = 0.05

        [[afacturar.events]]
        cufe = "eeee"
        codigo = "030"
        fecha = "2022-11-30 21:22:17"
        emisor_nombre = "SOFTWARE SAS"
        emisor_identificacion = "9999999"
        receptor_nombre = "ENERGIA"
        receptor_identificacion = "5555555"

        [[afacturar.events]]
        cufe = "eeee"
        codigo = "032"
        fecha = "2022-11-30 21:22:37"
        emisor_nombre = "SOFTWARE SAS"
        emisor_identificacion = "9999999"
        receptor_nombre = "ENERGIA"
        receptor_identificacion = "5555555"

        [[afacturar.events]]
        cufe = "eeee"
        codigo = "034"
        fecha = "2022-12-05 08:00:00"
        emisor_nombre = "ENERGIA"
        emisor_identificacion = "5555555"
        receptor_nombre = "SOFTWARE SAS"
        receptor_identificacion = "9999999"
        "#,
    )
    .unwrap();
    let fake = FakeProvider::start_with(config).await;
    let (_, history) = historico(&fake, "eeee").await;
    let rows = history["resultado"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["descripcion"], "Aceptación tácita");
    for row in rows {
        assert_eq!(row["cude"].as_str().unwrap().len(), 96);
    }
    insta::assert_json_snapshot!("historico_seeded_from_configuration", history);
}
