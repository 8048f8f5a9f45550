//! The wiremock integration (`einvoice_mock::mocks`) over a wiremock `MockServer` on loopback.

use base64::Engine as _;
use reqwest::multipart::Form;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use einvoice_mock::internals::render::afacturar::body::DOCUMENTED_CODES;
use einvoice_mock::SovosError;
use einvoice_mock::{breaks_contract, conforms_to, ContractResponder, DocumentedResponse};
use einvoice_mock::{Operation, Provider};

const NIT: &str = "830020470";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

fn fixture(path: &str) -> String {
    let full = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).expect("fixture is JSON")
}

fn ejemplo_1() -> String {
    fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json")
}

fn apellido() -> String {
    fixture("afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json")
}

/// The acuse as the documents send it: multipart `data` + `documento_obligado`, Bearer token,
/// `Accept: application/json`.
async fn acuse(server: &MockServer, data: &str) -> Response {
    let form = Form::new()
        .text("data", data.to_owned())
        .text("documento_obligado", NIT);
    client()
        .post(format!(
            "{}{}",
            server.uri(),
            Operation::AcuseReciboFev.path()
        ))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer x")
        .multipart(form)
        .send()
        .await
        .expect("the mock server answers")
}

async fn saldos_like(server: &MockServer, operation: Operation, body: Value) -> Response {
    client()
        .post(format!("{}{}", server.uri(), operation.path()))
        .header("RCApiKey", "my-key")
        .json(&body)
        .send()
        .await
        .expect("the mock server answers")
}

async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "Content-Type `{content_type}`"
    );
    (status, response.json().await.expect("a JSON body"))
}

fn success_template() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({ "codigo_error": 0, "descripcion_error": "OK" }))
}

async fn server_with_conforms_to(operation: Operation) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(operation.path()))
        .and(conforms_to(operation))
        .respond_with(success_template())
        .mount(&server)
        .await;
    server
}

async fn server_with_responder(operation: Operation) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(operation.path()))
        .respond_with(ContractResponder::new(operation, success_template()))
        .mount(&server)
        .await;
    server
}

async fn server_answering(response: DocumentedResponse, operation: Operation) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(operation.path()))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_conforming_acuse_matches_conforms_to() {
    let server = server_with_conforms_to(Operation::AcuseReciboFev).await;
    let response = acuse(&server, &ejemplo_1()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_seeds_apellido_acuse_does_not_match_conforms_to() {
    let server = server_with_conforms_to(Operation::AcuseReciboFev).await;
    let response = acuse(&server, &apellido()).await;
    // Nothing matched: wiremock's own 404.
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn breaks_contract_matches_the_apellido_acuse_and_not_the_conforming_one() {
    let server = MockServer::start().await;
    Mock::given(breaks_contract(Operation::AcuseReciboFev))
        .respond_with(ResponseTemplate::new(418))
        .mount(&server)
        .await;
    assert_eq!(acuse(&server, &apellido()).await.status(), 418);
    assert_eq!(
        acuse(&server, &ejemplo_1()).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn contract_responder_answers_the_apellido_acuse_with_the_documents_two_resultado_entries() {
    let server = server_with_responder(Operation::AcuseReciboFev).await;
    let (status, body) = status_and_json(acuse(&server, &apellido()).await).await;
    let seed = fixture_json(
        "afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json",
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["resultado"], seed["resultado"], "{body:#}");
    assert_eq!(body["codigo_error"], seed["codigo_error"]);
    assert_eq!(body["descripcion_error"], seed["descripcion_error"]);
    assert_eq!(body["entorno"], seed["entorno"]);
    assert_eq!(body["ErrorMessage_DIAN"], "");
    let transaccion = body["transaccion"].as_str().expect("a transaccion");
    assert!(transaccion.starts_with("ODMwMDIwNDcw"), "{transaccion}");
    assert_eq!(transaccion.len(), "ODMwMDIwNDcw".len() + 13);
    assert!(body["tiempo_ejecucion"].is_f64());
}

#[tokio::test]
async fn contract_responder_answers_a_conforming_acuse_with_the_success_template() {
    let server = server_with_responder(Operation::AcuseReciboFev).await;
    let (status, body) = status_and_json(acuse(&server, &ejemplo_1()).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["codigo_error"], 0);
}

#[tokio::test]
async fn contract_responder_answers_an_acuse_without_a_token_with_unauthenticated() {
    let server = server_with_responder(Operation::AcuseReciboFev).await;
    let form = Form::new()
        .text("data", ejemplo_1())
        .text("documento_obligado", NIT);
    let response = client()
        .post(format!(
            "{}{}",
            server.uri(),
            Operation::AcuseReciboFev.path()
        ))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({ "codigo_error": 401, "descripcion_error": "Unauthenticated." })
    );
}

#[tokio::test]
async fn contract_responder_answers_an_acuse_without_accept_json_with_the_semantic_400_naming_the_header(
) {
    let server = server_with_responder(Operation::AcuseReciboFev).await;
    let form = Form::new()
        .text("data", ejemplo_1())
        .text("documento_obligado", NIT);
    let response = client()
        .post(format!(
            "{}{}",
            server.uri(),
            Operation::AcuseReciboFev.path()
        ))
        .header("Authorization", "Bearer x")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["codigo_error"], 400);
    assert_eq!(
        body["resultado"][0]["propiedad"], "header Accept",
        "{body:#}"
    );
}

#[tokio::test]
async fn contract_responder_answers_an_acuse_sent_as_json_with_415() {
    let server = server_with_responder(Operation::AcuseReciboFev).await;
    let response = client()
        .post(format!(
            "{}{}",
            server.uri(),
            Operation::AcuseReciboFev.path()
        ))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer x")
        .json(&json!({ "documento_obligado": NIT, "data": ejemplo_1() }))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["codigo_error"], 415);
}

#[tokio::test]
async fn contract_responder_answers_an_urlencoded_historico_with_a_bad_cufe_with_the_semantic_400()
{
    let server = server_with_responder(Operation::HistoricoEventos).await;
    let response = client()
        .post(format!(
            "{}{}",
            server.uri(),
            Operation::HistoricoEventos.path()
        ))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer x")
        .form(&[("cufe", "not-a-cufe")])
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["codigo_error"], 400);
    assert_eq!(body["resultado"][0]["propiedad"], "cufe", "{body:#}");
}

#[tokio::test]
async fn saldos_with_month_13_gets_400_001_from_contract_responder() {
    let server = server_with_responder(Operation::Saldos).await;
    let response = saldos_like(
        &server,
        Operation::Saldos,
        json!({ "MesConsulta": "2019-13" }),
    )
    .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, SovosError::MesConsultaInvalido.body());
    assert_eq!(body["errors"][0]["Code"], "400-001");
}

#[tokio::test]
async fn saldos_without_an_api_key_or_as_text_gets_401_or_415_from_contract_responder() {
    let server = server_with_responder(Operation::Saldos).await;
    let url = format!("{}{}", server.uri(), Operation::Saldos.path());
    let anonymous = client()
        .post(&url)
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(anonymous).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, SovosError::Unauthorized.body());

    let text = client()
        .post(&url)
        .header("RCApiKey", "my-key")
        .header("Content-Type", "text/plain")
        .body(r#"{"MesConsulta":"2019-11"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(text).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["errors"][0]["Code"], "415");
}

#[tokio::test]
async fn a_conforming_saldos_gets_the_success_template_from_contract_responder() {
    let server = server_with_responder(Operation::Saldos).await;
    let response = saldos_like(
        &server,
        Operation::Saldos,
        json!({ "MesConsulta": "2019-11" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn documented_response_afacturar_15_answers_the_seeds_dian_15_body() {
    let response = DocumentedResponse::afacturar("15").unwrap();
    assert_eq!(response.provider(), Provider::Afacturar);
    assert_eq!(response.code(), "15");
    let server = server_answering(response, Operation::AcuseReciboFev).await;
    let (status, body) = status_and_json(acuse(&server, &ejemplo_1()).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        fixture_json("afacturar/acuse_recibo_fev.dian_error/valid/seed_003_error_dian.json")
    );
}

#[tokio::test]
async fn documented_response_afacturar_28_fills_transaccion_from_the_forms_documento_obligado() {
    let response = DocumentedResponse::afacturar("28").unwrap();
    let server = server_answering(response, Operation::AcuseReciboFev).await;
    let (status, body) = status_and_json(acuse(&server, &ejemplo_1()).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["codigo_error"], 28);
    let prefix = base64::engine::general_purpose::STANDARD.encode(NIT);
    let transaccion = body["transaccion"].as_str().unwrap();
    assert!(transaccion.starts_with(&prefix), "{transaccion}");
    assert_eq!(
        body["entorno"],
        "Este documento se envia al entorno: DOCUMENTO_NO_VALIDO"
    );
}

#[tokio::test]
async fn documented_response_sovos_400_002_on_the_csv_report_answers_the_report_wording() {
    let response = DocumentedResponse::sovos(Operation::SaldosCsv, "400-002").unwrap();
    assert_eq!(response.provider(), Provider::Sovos);
    let server = server_answering(response, Operation::SaldosCsv).await;
    let request = json!({ "MesConsulta": "2019-10", "RFCConsulta": "AAA010101AAA" });
    let (status, body) =
        status_and_json(saldos_like(&server, Operation::SaldosCsv, request).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "errors": [{
            "Code": "400-002",
            "Message": "No es necesario mandar el 'RFCConsulta'"
        }]})
    );
}

#[test]
fn an_unknown_code_is_an_error_listing_the_documented_codes() {
    let afacturar = DocumentedResponse::afacturar("418").unwrap_err();
    assert_eq!(afacturar.code, "418");
    assert_eq!(afacturar.provider, Provider::Afacturar);
    assert_eq!(afacturar.documented, &DOCUMENTED_CODES[..]);
    let message = afacturar.to_string();
    for code in DOCUMENTED_CODES {
        assert!(message.contains(code), "{message} lacks {code}");
    }

    let sovos = DocumentedResponse::sovos(Operation::Saldos, "400-004").unwrap_err();
    assert_eq!(sovos.provider, Provider::Sovos);
    let message = sovos.to_string();
    assert!(message.contains("`400-004`"), "{message}");
    for code in SovosError::documented_codes(Operation::Saldos) {
        assert!(message.contains(code), "{message} lacks {code}");
    }
    assert!(!message.contains("400-003"), "the reports' code: {message}");
}
