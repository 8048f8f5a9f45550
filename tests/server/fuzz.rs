//! Fuzzing request parsing and validation with proptest: arbitrary bytes, content types and
//! JSON never crash the fake nor make it answer 5xx. It runs briefly here; `cargo xtask fuzz`
//! runs it longer (`PROPTEST_CASES`).

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

use einvoice_mock::{app, validate, AppState, Operation};

const PATHS: [&str; 7] = [
    "/api/radian/historico_eventos",
    "/api/radian/acuse_recibo_fev",
    "/api/rest/Timbre/saldos",
    "/api/rest/Timbre/saldos/pdf",
    "/api/rest/Timbre/saldos/csv",
    "/api/rest/Timbre/saldos/xlsx",
    "/api/radian/otra_cosa",
];

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("multipart/form-data; boundary=x".to_owned()),
        Just("multipart/form-data".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("text/plain".to_owned()),
        "[ -~]{0,40}",
    ]
}

/// Multipart-looking bodies: real structure with random holes, so the parser gets deep.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (
            "[a-z_]{0,20}",
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<bool>()
        )
            .prop_map(|(name, value, close)| {
                let mut body =
                    format!("--x\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                        .into_bytes();
                body.extend(value);
                if close {
                    body.extend_from_slice(b"\r\n--x--\r\n");
                }
                body
            }),
        "\\{\"MesConsulta\":\"[0-9-]{0,10}\"(,\"RFCConsulta\":\"[A-Z0-9&Ñ]{0,14}\")?\\}"
            .prop_map(String::into_bytes),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("evento".to_owned()),
                    Just("generalidades".to_owned()),
                    Just("MesConsulta".to_owned()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// 256 cases in the test suite; `cargo xtask fuzz` sets `PROPTEST_CASES` for a longer run.
fn fuzz_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    #[test]
    fn arbitrary_requests_never_crash_the_fake_nor_get_a_5xx(
        path in proptest::sample::select(PATHS.to_vec()),
        content_type in content_type(),
        body in body(),
        authorized in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let state = AppState::new(super::deterministic_config()).unwrap();
        let mut request = Request::post(path).header("content-type", content_type);
        if authorized {
            request = request.header("Authorization", "Bearer t").header("RCApiKey", "k");
        }
        let request = request.body(Body::from(body)).unwrap();
        let response = runtime.block_on(app(state).oneshot(request)).unwrap();
        prop_assert!(response.status().as_u16() < 500, "{}", response.status());
    }

    #[test]
    fn arbitrary_json_never_crashes_validation(value in json()) {
        for operation in Operation::ALL {
            let violations = validate(operation, &value);
            for violation in &violations {
                // Every reported path points into the document (or at a missing property).
                prop_assert!(
                    violation.path.lookup(&value).is_some() || violation.keyword() == "required",
                    "{violation}"
                );
            }
        }
    }
}
