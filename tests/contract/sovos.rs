//! Sovos Mexico (seed 002): the documented rules of the `saldos` and report requests, and the
//! error bodies their violations produce.

use einvoice_mock::internals::render::sovos::errors::{body, SovosError};
use einvoice_mock::{validate, Contract, Operation};
use serde_json::{json, Value};

use super::support::{assert_accepted, assert_rejected_at, fixture};

const REPORTS: [Operation; 2] = [Operation::SaldosPdf, Operation::SaldosCsv];

/// The error body Sovos sends for a request, or `None` if the request conforms.
fn error_body(operation: Operation, request: &Value) -> Option<Value> {
    let violations = validate(operation, request);
    let error = SovosError::for_violations(operation, &violations);
    assert_eq!(
        error.is_none(),
        violations.is_valid(),
        "{operation} {request}: a request is refused if and only if it breaks the contract"
    );
    error.map(SovosError::body)
}

/// The body conforms to `sovos/errors`.
#[track_caller]
fn assert_error_body_shape(body: &Value) {
    let violations = Contract::global()
        .validate_schema("sovos/errors", body)
        .expect("sovos/errors is embedded");
    assert!(violations.is_valid(), "{body}:\n{violations}");
}

#[test]
fn the_seed_requests_are_accepted() {
    assert_accepted(
        Operation::Saldos,
        &fixture("sovos/saldos.request/valid/seed_002_todos_los_rfc.json"),
    );
    assert_accepted(
        Operation::Saldos,
        &fixture("sovos/saldos.request/valid/seed_002_rfc_especifico.json"),
    );
    for operation in REPORTS {
        assert_accepted(
            operation,
            &fixture("sovos/reporte.request/valid/seed_002_reporte.json"),
        );
    }
}

#[test]
fn every_month_of_2019_is_accepted() {
    for month in 1..=12 {
        let request = json!({ "MesConsulta": format!("2019-{month:02}") });
        assert_accepted(Operation::Saldos, &request);
        for operation in REPORTS {
            assert_accepted(operation, &request);
        }
    }
}

#[test]
fn a_mes_consulta_that_is_not_yyyy_mm_is_rejected_at_mes_consulta() {
    for operation in [
        Operation::Saldos,
        Operation::SaldosPdf,
        Operation::SaldosCsv,
    ] {
        for month in [
            "2019-00",
            "2019-13",
            "2019-1",
            "19-01",
            "2019/01",
            "2019-01-01",
            " 2019-01",
            "",
        ] {
            let request = json!({ "MesConsulta": month });
            assert_rejected_at(operation, &request, "/MesConsulta", "pattern");
        }
        assert_rejected_at(
            operation,
            &json!({ "MesConsulta": 201901 }),
            "/MesConsulta",
            "type",
        );
        assert_rejected_at(
            operation,
            &json!({ "MesConsulta": null }),
            "/MesConsulta",
            "type",
        );
    }
}

#[test]
fn an_empty_body_is_rejected_because_mes_consulta_is_required() {
    for operation in [
        Operation::Saldos,
        Operation::SaldosPdf,
        Operation::SaldosCsv,
    ] {
        assert_rejected_at(operation, &json!({}), "/MesConsulta", "required");
    }
    assert_rejected_at(
        Operation::Saldos,
        &json!({ "RFCConsulta": "AAA010101AAA" }),
        "/MesConsulta",
        "required",
    );
}

#[test]
fn the_documented_rfcs_and_an_individual_rfc_with_enye_are_accepted() {
    let individual = "MUÑO800101AB1";
    assert_eq!(individual.chars().count(), 13);
    assert_eq!(
        individual.len(),
        14,
        "Ñ is two bytes: the length must count characters"
    );
    for rfc in [
        "A&D061009TY8",
        "AAA010101AAA",
        "XAXX010101000",
        "XEXX010101000",
        "EKU9003173C9",
        individual,
    ] {
        assert_accepted(
            Operation::Saldos,
            &json!({ "MesConsulta": "2019-12", "RFCConsulta": rfc }),
        );
    }
}

#[test]
fn a_malformed_rfc_is_rejected_at_rfc_consulta() {
    let request = |rfc: &str| json!({ "MesConsulta": "2019-12", "RFCConsulta": rfc });
    for lowercase in ["aaa010101aaa", "a&d061009ty8", "Aaa010101AAA"] {
        assert_rejected_at(
            Operation::Saldos,
            &request(lowercase),
            "/RFCConsulta",
            "pattern",
        );
    }
    assert_rejected_at(
        Operation::Saldos,
        &request("AAA010101AA"),
        "/RFCConsulta",
        "minLength",
    );
    assert_rejected_at(
        Operation::Saldos,
        &request("AAAA010101AAAA"),
        "/RFCConsulta",
        "maxLength",
    );
    assert_rejected_at(
        Operation::Saldos,
        &request("AAA011301AAA"),
        "/RFCConsulta",
        "pattern",
    );
    assert_rejected_at(
        Operation::Saldos,
        &request("AAA010132AAA"),
        "/RFCConsulta",
        "pattern",
    );
    assert_rejected_at(
        Operation::Saldos,
        &json!({ "MesConsulta": "2019-12", "RFCConsulta": 1 }),
        "/RFCConsulta",
        "type",
    );
}

#[test]
fn a_report_request_with_rfc_consulta_is_rejected() {
    for operation in REPORTS {
        for rfc in [json!("AAA010101AAA"), json!(""), json!(null)] {
            let request = json!({ "MesConsulta": "2019-10", "RFCConsulta": rfc });
            assert_rejected_at(operation, &request, "/RFCConsulta", "not");
        }
    }
}

#[test]
fn a_bad_month_gets_the_seeds_400_001_body() {
    let body = error_body(Operation::Saldos, &json!({ "MesConsulta": "2019-13" }));
    assert_eq!(
        body,
        Some(fixture("sovos/errors/valid/seed_002_400_001.json"))
    );
    insta::assert_json_snapshot!("sovos_400_001_saldos_bad_month", body);
}

#[test]
fn an_empty_body_gets_400_001() {
    // The documents give no code for a body without MesConsulta; the library answers 400-001.
    for operation in [
        Operation::Saldos,
        Operation::SaldosPdf,
        Operation::SaldosCsv,
    ] {
        let body = error_body(operation, &json!({}));
        assert_eq!(
            body,
            Some(SovosError::MesConsultaInvalido.body()),
            "{operation}"
        );
    }
    insta::assert_json_snapshot!(
        "sovos_400_001_saldos_empty_body",
        error_body(Operation::Saldos, &json!({}))
    );
}

#[test]
fn a_body_that_is_not_an_object_gets_400_001() {
    for request in [json!([]), json!("2019-01"), json!(null)] {
        assert_eq!(
            error_body(Operation::Saldos, &request),
            Some(SovosError::MesConsultaInvalido.body()),
            "{request}"
        );
    }
}

#[test]
fn a_malformed_rfc_on_saldos_gets_400_002() {
    let body = error_body(
        Operation::Saldos,
        &json!({ "MesConsulta": "2019-12", "RFCConsulta": "aaa010101aaa" }),
    );
    assert_eq!(body, Some(SovosError::RfcNoRegistrado.body()));
    insta::assert_json_snapshot!("sovos_400_002_saldos_rfc", body);
}

#[test]
fn rfc_consulta_on_a_report_gets_the_seeds_400_002_body() {
    let seed = fixture("sovos/errors/valid/seed_002_400_002.json");
    for operation in REPORTS {
        let body = error_body(
            operation,
            &json!({ "MesConsulta": "2019-10", "RFCConsulta": "AAA010101AAA" }),
        );
        assert_eq!(body, Some(seed.clone()), "{operation}");
    }
    insta::assert_json_snapshot!(
        "sovos_400_002_report_rfc",
        error_body(
            Operation::SaldosCsv,
            &json!({ "MesConsulta": "2019-10", "RFCConsulta": "AAA010101AAA" })
        )
    );
}

#[test]
fn a_bad_month_wins_over_a_bad_rfc() {
    let saldos = json!({ "MesConsulta": "2019-13", "RFCConsulta": "aaa" });
    assert_eq!(
        error_body(Operation::Saldos, &saldos),
        Some(SovosError::MesConsultaInvalido.body())
    );
    let report = json!({ "RFCConsulta": "AAA010101AAA", "MesConsulta": "19-10" });
    for operation in REPORTS {
        assert_eq!(
            error_body(operation, &report),
            Some(SovosError::MesConsultaInvalido.body())
        );
    }
}

#[test]
fn a_conforming_request_gets_no_error() {
    assert_eq!(
        error_body(
            Operation::Saldos,
            &json!({ "MesConsulta": "2019-12", "RFCConsulta": "A&D061009TY8" })
        ),
        None
    );
    assert_eq!(
        error_body(Operation::SaldosPdf, &json!({ "MesConsulta": "2019-10" })),
        None
    );
}

#[test]
fn every_documented_error_body_has_the_documented_shape() {
    for error in SovosError::ALL {
        assert_error_body_shape(&error.body());
    }
    assert_error_body_shape(&body(&SovosError::ALL));
}
