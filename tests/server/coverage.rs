//! Contract coverage: which documented answers and request fields a client's traffic
//! reached, over the admin API, JUnit and the shutdown log.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    acuse, arm, block_on, client, deterministic_config, ejemplo_1_with, get_json, saldos, start,
};
use einvoice_mock::FakeProvider;

fn coverage_of<'a>(coverage: &'a Value, operation: &str) -> &'a Value {
    coverage["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == operation)
        .unwrap_or_else(|| panic!("{operation} in {coverage}"))
}

fn hits(operation: &Value, code: &str) -> u64 {
    operation["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {operation}"))["hits"]
        .as_u64()
        .unwrap()
}

fn sent(operation: &Value, path: &str) -> u64 {
    operation["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} in {operation}"))["sent"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn after_an_armed_dian_15_coverage_shows_15_hit_and_28_never_and_survives_clearing_the_journal(
) {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "15" }),
    )
    .await;
    assert_eq!(
        acuse(&fake, ejemplo_1_with(&"7".repeat(96), None), "t")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        acuse(&fake, ejemplo_1_with(&"7".repeat(96), None), "t")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    saldos(&fake, json!({ "MesConsulta": "2019-13" }))
        .send()
        .await
        .unwrap();

    let (status, coverage) = get_json(format!("{}/__admin/coverage", fake.uri())).await;
    assert_eq!(status, 200);
    let acuse_coverage = coverage_of(&coverage, "acuse_recibo_fev");
    assert_eq!(hits(acuse_coverage, "15"), 1, "{acuse_coverage}");
    assert_eq!(hits(acuse_coverage, "0"), 1, "{acuse_coverage}");
    assert_eq!(hits(acuse_coverage, "28"), 0, "{acuse_coverage}");
    assert_eq!(sent(acuse_coverage, "documento_obligado"), 2);
    assert_eq!(
        sent(
            acuse_coverage,
            "evento[].informacion_documento_referencia.cufe"
        ),
        2
    );
    assert_eq!(sent(acuse_coverage, "generalidades.webhook"), 0);
    let saldos_coverage = coverage_of(&coverage, "saldos");
    assert_eq!(hits(saldos_coverage, "200"), 1, "{saldos_coverage}");
    assert_eq!(hits(saldos_coverage, "400-001"), 1, "{saldos_coverage}");
    assert_eq!(sent(saldos_coverage, "MesConsulta"), 2);
    assert_eq!(sent(saldos_coverage, "RFCConsulta"), 0);
    let (covered, documented) = (
        coverage["covered"].as_u64(),
        coverage["documented"].as_u64(),
    );
    assert!(covered.unwrap() > 0 && covered < documented, "{coverage}");

    // Clearing the journal keeps the coverage; a reset clears it.
    let cleared = client()
        .delete(format!("{}/__admin/requests", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let (_, kept) = get_json(format!("{}/__admin/coverage", fake.uri())).await;
    assert_eq!(kept, coverage);
    client()
        .post(format!("{}/__admin/reset", fake.uri()))
        .send()
        .await
        .unwrap();
    let (_, reset) = get_json(format!("{}/__admin/coverage", fake.uri())).await;
    assert_eq!(reset["covered"], 0, "{reset}");
}

#[test]
fn min_coverage_fails_the_run_below_it_and_the_coverage_is_logged_at_shutdown() {
    let run = |minimum: &str| {
        let (child, url) = start(&["serve", "--port", "0", "--min-coverage", minimum]);
        block_on(async {
            client()
                .post(format!("{url}/api/rest/Timbre/saldos"))
                .header("RCApiKey", "k")
                .json(&json!({ "MesConsulta": "2019-11" }))
                .send()
                .await
                .unwrap();
        });
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let low = run("1");
    assert_eq!(low.status.code(), Some(0), "{low:?}");
    let high = run("90");
    assert_eq!(high.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&high.stderr);
    assert!(stderr.contains("is below --min-coverage 90%"), "{stderr}");
}
