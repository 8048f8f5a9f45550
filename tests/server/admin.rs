//! The admin API over loopback: scenarios, faults, rate limit, webhooks, journal.

use std::time::{Duration, Instant};

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    acuse, admin_get, arm, client, deterministic_config, deterministic_fake, ejemplo_1_with,
    fixture, fixture_json, saldos,
};
use einvoice_mock::internals::render::afacturar::body::{documented_codes, DOCUMENTED_CODES};
use einvoice_mock::SovosError;
use einvoice_mock::{Config, FakeProvider, Operation};

#[tokio::test]
async fn every_afacturar_error_code_is_one_admin_call_away() {
    let fake = deterministic_fake().await;
    let historico = || {
        client()
            .post(format!("{}/api/radian/historico_eventos", fake.uri()))
            .header("Authorization", "Bearer t")
            .multipart(Form::new().text("cufe", "4".repeat(96)))
    };
    let lector = || {
        client()
            .post(format!(
                "{}/api/radian/lector_cufe_tenedor_legitimo",
                fake.uri()
            ))
            .header("Authorization", "Bearer t")
            .multipart(
                Form::new()
                    .text("documento_obligado", "830020470")
                    .text("lista_cufe", "4".repeat(96)),
            )
    };
    let per_operation = [
        Operation::AcuseReciboFev,
        Operation::HistoricoEventos,
        Operation::LectorCufeTenedorLegitimo,
    ]
    .into_iter()
    .flat_map(|op| documented_codes(op).iter().map(move |code| (op, *code)));
    let mut armed = 0;
    for (operation, code) in per_operation {
        arm(
            &fake,
            json!({ "operation": operation.name(), "respond": code }),
        )
        .await;
        let request = match operation {
            Operation::HistoricoEventos => historico(),
            Operation::LectorCufeTenedorLegitimo => lector(),
            _ => acuse(&fake, ejemplo_1_with(&"1".repeat(96), None), "t"),
        };
        let response = request.send().await.unwrap();
        armed += 1;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        let codigo = code.split('-').next().unwrap();
        assert_eq!(body["codigo_error"].to_string(), codigo, "{code}: {body}");
        let expected_status = match codigo.parse::<u16>().unwrap() {
            c if c < 100 => 200,
            c => c,
        };
        assert_eq!(status, expected_status, "{code}");
    }
    // Every documented code is armable on some operation.
    assert_eq!(
        armed,
        DOCUMENTED_CODES.len() + 10 * 2 + 1,
        "the table's 10 shared rows on three operations, 28 on two"
    );
    // Armed responses are the documents' own bodies where the documents print one.
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "15" }),
    )
    .await;
    let body: Value = acuse(&fake, ejemplo_1_with(&"1".repeat(96), None), "t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        fixture_json("afacturar/acuse_recibo_fev.dian_error/valid/seed_003_error_dian.json")
    );
    // Scenarios are used up: the next request is processed normally.
    let body: Value = acuse(&fake, ejemplo_1_with(&"1".repeat(96), None), "t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["codigo_error"], 0, "{body}");
}

#[tokio::test]
async fn every_sovos_error_code_is_one_admin_call_away() {
    let fake = deterministic_fake().await;
    for code in SovosError::documented_codes(Operation::Saldos) {
        arm(&fake, json!({ "operation": "saldos", "respond": code })).await;
        let response = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
            .send()
            .await
            .unwrap();
        let expected = SovosError::documented(code, einvoice_mock::Operation::Saldos).unwrap();
        assert_eq!(response.status().as_u16(), expected.status(), "{code}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            expected.body(),
            "{code}"
        );
    }
}

#[tokio::test]
async fn scenarios_match_by_cufe_rfc_and_token_and_count_down() {
    let fake = deterministic_fake().await;
    let target = "2".repeat(96);
    arm(&fake, json!({ "operation": "acuse_recibo_fev", "respond": "503", "times": 2, "match": { "cufe": target } })).await;
    let other = acuse(&fake, ejemplo_1_with(&"3".repeat(96), None), "t")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another CUFE is not matched"
    );
    for _ in 0..2 {
        let hit = acuse(&fake, ejemplo_1_with(&target, None), "t")
            .send()
            .await
            .unwrap();
        assert_eq!(hit.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let after = acuse(&fake, ejemplo_1_with(&target, None), "t")
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::OK, "used up after two");

    arm(&fake, json!({ "operation": "saldos", "respond": "500", "times": null, "match": { "rfc": "AAA010101AAA", "token": "mi-api-key" } })).await;
    let plain = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    for _ in 0..3 {
        let hit = saldos(
            &fake,
            json!({ "MesConsulta": "2019-11", "RFCConsulta": "AAA010101AAA" }),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(hit.status(), StatusCode::INTERNAL_SERVER_ERROR, "unlimited");
    }
    let listed = admin_get(&fake, "scenarios").await;
    assert_eq!(listed["scenarios"][0]["hits"], 3);
    let cleared = client()
        .delete(format!("{}/__admin/scenarios", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let hit = saldos(
        &fake,
        json!({ "MesConsulta": "2019-11", "RFCConsulta": "AAA010101AAA" }),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(hit.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_undocumented_code_or_a_broken_spec_is_refused_clearly() {
    let fake = deterministic_fake().await;
    for spec in [
        json!({ "operation": "saldos", "respond": "15" }),
        json!({ "operation": "facturas", "respond": "500" }),
        json!({ "operation": "saldos", "respond": "500", "colour": "red" }),
        json!({ "operation": "saldos", "times": 0 }),
    ] {
        let response = client()
            .post(format!("{}/__admin/scenarios", fake.uri()))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{spec}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    let response = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Past the admin API's body limit (axum's default, 2 MB) the refusal is JSON like every
    // other admin answer.
    let response = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .body(vec![b' '; 11 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn a_delay_scenario_answers_normally_but_later() {
    let fake = deterministic_fake().await;
    arm(&fake, json!({ "operation": "saldos", "delay_ms": 300 })).await;
    let started = Instant::now();
    let response = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), StatusCode::OK);
    arm(
        &fake,
        json!({ "operation": "saldos", "delay_ms": 50, "delay_max_ms": 120, "respond": "500" }),
    )
    .await;
    let started = Instant::now();
    let response = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn connection_faults_drop_the_connection_without_an_answer() {
    let fake = deterministic_fake().await;
    for fault in ["connection_reset", "empty_response"] {
        arm(&fake, json!({ "operation": "saldos", "fault": fault })).await;
        let result = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
            .send()
            .await;
        assert!(result.is_err(), "{fault}: {result:?}");
    }
    let ok = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.status(),
        StatusCode::OK,
        "the fake still serves after faults"
    );
    let journal = admin_get(&fake, "requests").await;
    assert_eq!(
        journal["summary"]["requests"], 3,
        "faulted requests are journaled too"
    );
}

#[tokio::test]
async fn body_faults_send_a_malformed_or_truncated_body() {
    let fake = deterministic_fake().await;
    arm(
        &fake,
        json!({ "operation": "saldos", "fault": "malformed_body" }),
    )
    .await;
    let response = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    arm(
        &fake,
        json!({ "operation": "saldos", "fault": "truncated_body" }),
    )
    .await;
    let response = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.bytes().await.is_err(),
        "the body stops before its Content-Length"
    );
}

#[tokio::test]
async fn the_rate_limit_answers_429_past_the_limit_per_token() {
    let mut config = deterministic_config();
    config.server.rate_limit_per_minute = Some(3);
    let fake = FakeProvider::start_with(config).await;
    let historico = |token: &'static str| {
        client()
            .post(format!("{}/api/radian/historico_eventos", fake.uri()))
            .header("Authorization", format!("Bearer {token}"))
            .multipart(Form::new().text("cufe", "4".repeat(96)))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(historico("uno").await.unwrap().status(), StatusCode::OK);
    }
    let limited = historico("uno").await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        limited.json::<Value>().await.unwrap(),
        json!({ "codigo_error": 429, "descripcion_error": "Exceder el límite de envío" })
    );
    assert_eq!(
        historico("dos").await.unwrap().status(),
        StatusCode::OK,
        "another token has its own window"
    );
}

#[tokio::test]
async fn code_28_with_a_webhook_answers_now_and_posts_the_final_result_later() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let receiver = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let fake = deterministic_fake().await;
    let cufe = "5".repeat(96);
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "28", "webhook_delay_ms": 50 }),
    )
    .await;
    let now: Value = acuse(&fake, ejemplo_1_with(&cufe, Some(&hook)), "t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["codigo_error"], 28);

    let delivered = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered["codigo_error"], 0, "{delivered}");
    assert_eq!(delivered["resultado"]["numero_evento"], "1");
    assert_eq!(
        fake.state().events().history(&cufe).len(),
        1,
        "the event was registered"
    );
    let deliveries = admin_get(&fake, "webhooks").await;
    assert_eq!(deliveries["deliveries"][0]["status"], 200);
}

#[tokio::test]
async fn a_plain_http_webhook_outside_loopback_is_never_called() {
    let fake = deterministic_fake().await;
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "28", "webhook_delay_ms": 0 }),
    )
    .await;
    // `webhook` must be https for the contract; this request breaks it, and the fake must
    // still not call a plain-http host that is not loopback.
    let response = acuse(
        &fake,
        ejemplo_1_with(&"6".repeat(96), Some("http://192.0.2.1/hook")),
        "t",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = admin_get(&fake, "webhooks").await;
        if let Some(first) = deliveries["deliveries"].get(0) {
            assert!(first["status"].is_null());
            assert!(
                first["error"].as_str().unwrap().contains("https"),
                "{first}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no delivery attempt recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_journal_shows_every_request_with_its_verdict_and_reset_empties_it() {
    let fake = deterministic_fake().await;
    acuse(
        &fake,
        ejemplo_1_with(&"7".repeat(96), None),
        "token-secreto",
    )
    .send()
    .await
    .unwrap();
    let bad = fixture(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json",
    );
    acuse(&fake, bad, "token-secreto").send().await.unwrap();
    saldos(&fake, json!({ "MesConsulta": "2019-13" }))
        .send()
        .await
        .unwrap();
    client()
        .post(format!("{}/api/radian/acuse_recibo", fake.uri()))
        .send()
        .await
        .unwrap();

    let journal = admin_get(&fake, "requests").await;
    let requests = journal["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 4);
    let verdicts: Vec<&str> = requests
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["conforms", "violates", "violates", "unknown"]);
    assert_eq!(
        requests[0]["credential"], "*********reto",
        "credentials are masked"
    );
    assert_eq!(
        requests[1]["violations"][0]["location"],
        "data/evento/0/quien_recibio_documento/apellidos"
    );
    assert_eq!(requests[2]["status"], 400);
    assert_eq!(requests[3]["near_miss"]["operation"], "acuse_recibo_fev");
    assert_eq!(
        journal["summary"],
        json!({ "requests": 4, "conforming": 1, "violating": 3, "violations": 4 })
    );

    let violations = admin_get(&fake, "violations").await;
    assert_eq!(violations["violations"].as_array().unwrap().len(), 3);

    let junit = client()
        .get(format!("{}/__admin/junit", fake.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(junit.contains("tests=\"4\" failures=\"3\""), "{junit}");

    arm(&fake, json!({ "operation": "saldos", "respond": "500" })).await;
    let reset = client()
        .post(format!("{}/__admin/reset", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(admin_get(&fake, "requests").await["requests"], json!([]));
    assert_eq!(admin_get(&fake, "scenarios").await["scenarios"], json!([]));
    assert!(
        fake.state().events().history(&"7".repeat(96)).is_empty(),
        "state is back to the seed"
    );
}

#[tokio::test]
async fn the_journal_keeps_its_capacity_and_a_violation_survives_later_traffic() {
    let mut config = deterministic_config();
    config.server.journal_capacity = Some(2);
    let fake = FakeProvider::start_with(config).await;
    // Month 13 breaks the contract; the three after it conform.
    saldos(&fake, json!({ "MesConsulta": "2019-13" }))
        .send()
        .await
        .unwrap();
    for _ in 0..3 {
        let answer = saldos(&fake, json!({ "MesConsulta": "2019-11" }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let requests = admin_get(&fake, "requests").await;
    let ids: Vec<u64> = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 4], "the last two requests");
    assert_eq!(
        requests["summary"]["requests"], 4,
        "the totals count every request"
    );
    let violations = admin_get(&fake, "violations").await;
    let violating = violations["violations"].as_array().unwrap();
    assert_eq!(violating.len(), 1, "{violations}");
    assert_eq!(violating[0]["id"], 1);
    assert_eq!(violating[0]["verdict"], "violates");
    assert_eq!(fake.violations().len(), 1);
}

#[tokio::test]
async fn health_answers_for_container_checks() {
    let fake = FakeProvider::start_with(Config::embedded_default()).await;
    let health = admin_get(&fake, "health").await;
    assert_eq!(health["status"], "ok", "{health}");
    assert!(health["connections"]["open"].is_u64(), "{health}");
    assert!(health["log_lines_dropped"].is_u64(), "{health}");
}

#[tokio::test]
async fn scenarios_and_the_journal_are_reachable_from_rust() {
    use einvoice_mock::{Fault, Operation, ScenarioSpec};
    let fake = deterministic_fake().await;
    let cufe = "8".repeat(96);
    fake.arm(ScenarioSpec::respond(Operation::AcuseReciboFev, "15").cufe(&cufe))
        .unwrap();
    fake.arm(ScenarioSpec::fault(Operation::Saldos, Fault::EmptyResponse))
        .unwrap();
    assert!(fake
        .arm(ScenarioSpec::respond(Operation::Saldos, "28"))
        .is_err());

    let body: Value = acuse(&fake, ejemplo_1_with(&cufe, None), "t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["codigo_error"], 15);
    assert!(saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .is_err());

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].scenario, Some(1));
    fake.verify();

    saldos(&fake, json!({ "MesConsulta": "2019-13" }))
        .send()
        .await
        .unwrap();
    assert_eq!(fake.violations().len(), 1);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify()));
    let message = *panicked.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("/MesConsulta [pattern]"), "{message}");
}

#[tokio::test]
async fn the_journal_page_is_served_and_reads_the_admin_api() {
    let fake = deterministic_fake().await;
    let response = client()
        .get(format!("{}/__admin/ui", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("/__admin/requests") && page.contains("/__admin/scenarios"));
    // The operation filter lists the operation table's operations, filled in by the server.
    let names: Vec<String> = Operation::ALL
        .iter()
        .map(|op| format!("\"{}\"", op.name()))
        .collect();
    let filter = format!("const OPERATIONS = [{}];", names.join(", "));
    assert!(page.contains(&filter), "no `{filter}` in the page");
    assert!(!page.contains("@OPERATIONS@"));
    let favicon = client()
        .get(format!("{}/favicon.ico", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(favicon.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        fake.requests().len(),
        0,
        "the page and the favicon are not provider requests"
    );
}

#[tokio::test]
async fn the_journal_and_junit_word_findings_as_the_provider_never_as_the_engine() {
    let fake = deterministic_fake().await;
    let report = client()
        .post(format!("{}/api/rest/Timbre/saldos/csv", fake.uri()))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11", "RFCConsulta": "AAA010101AAA" }))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 400);
    let mut data: Value = serde_json::from_str(&ejemplo_1_with(&"1".repeat(96), None)).unwrap();
    data["generalidades"]["tipo_ambiente_dian"] = json!(3);
    acuse(&fake, data.to_string(), "t").send().await.unwrap();
    let journal = client()
        .get(format!("{}/__admin/requests", fake.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let junit = client()
        .get(format!("{}/__admin/junit", fake.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [&journal, &junit] {
        for word in ["(not)", "(enum)", "other candidates", "is not one of"] {
            assert!(!text.contains(word), "`{word}` in:\n{text}");
        }
    }
    assert!(
        journal.contains("400-002: No es necesario mandar el 'RFCConsulta'"),
        "{journal}"
    );
    assert!(
        journal.contains("Does not have a value in the enumeration [1,2]"),
        "{journal}"
    );
}

#[tokio::test]
async fn a_scenario_matching_control_characters_and_a_delete_of_a_non_utf8_id_get_json_refusals() {
    let fake = deterministic_fake().await;
    let refused = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&json!({ "operation": "saldos", "respond": "401", "match": { "token": "\u{1}".repeat(4000) } }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("control character"), "{body}");
    let deleted = client()
        .delete(format!("{}/__admin/scenarios/%ff", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    let body: Value = deleted.json().await.unwrap();
    assert!(body["error"].as_str().is_some(), "{body}");
}
