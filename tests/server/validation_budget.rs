//! A document over the work budget, through the fake: the provider's 400, and a journal that
//! says the budget was hit.

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::Value;

use super::{client, deterministic_config, fixture_json};
use einvoice_mock::FakeProvider;
use einvoice_mock::MAX_VALIDATION_STEPS;

#[tokio::test]
async fn an_acuse_over_the_work_budget_gets_afacturars_semantic_400_and_the_journal_says_so() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let mut data = fixture_json("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
    let root = data.as_object_mut().expect("an object");
    for index in 0..MAX_VALIDATION_STEPS + 2_000 {
        root.insert(format!("k{index}"), Value::from(0));
    }
    let answer = client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Authorization", "Bearer token_cliente")
        .header("Accept", "application/json")
        .multipart(
            Form::new()
                .text("data", data.to_string())
                .text("documento_obligado", "830020470"),
        )
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.expect("a JSON body");
    let resultado = body["resultado"].as_array().expect("a resultado list");
    assert!(
        resultado[0]["descripcion"]
            .as_str()
            .is_some_and(|d| d.contains("work budget")),
        "{}",
        resultado[0]
    );
    assert_eq!(
        resultado[1]["descripcion"],
        "The property k0 is not defined and the definition does not allow additional properties"
    );
    let journal = fake.requests();
    let entry = journal.last().expect("journaled");
    assert_eq!(entry.status, 400);
    assert_eq!(entry.violations[0].rule, "workBudget");
}

#[tokio::test]
async fn a_saldos_body_over_the_work_budget_gets_sovos_400_001() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let mut body = serde_json::Map::new();
    body.insert("MesConsulta".into(), Value::from("2019-11"));
    for index in 0..MAX_VALIDATION_STEPS + 2_000 {
        body.insert(format!("k{index}"), Value::from(0));
    }
    let answer = client()
        .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
        .header("RCApiKey", "una_llave")
        .json(&Value::Object(body))
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.expect("a JSON body");
    assert_eq!(body["errors"][0]["Code"], "400-001");
    assert_eq!(fake.requests()[0].violations[0].rule, "workBudget");
}
