//! Property tests: generated conforming payloads are always accepted, and a single mutation
//! of one is always rejected at the mutated path with the mutated rule.

use einvoice_mock::internals::render::afacturar::body;
use einvoice_mock::SovosError;
use einvoice_mock::{validate, Contract, Operation};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use serde_json::{json, Value};

use super::support::{found, remove, set};

const TIPOS_IDENTIFICACION: [i64; 10] = [11, 12, 13, 21, 22, 31, 41, 42, 50, 91];

// ---------------------------------------------------------------------------------------------
// Conforming payloads

fn cufe() -> impl Strategy<Value = String> {
    "[0-9a-f]{96}"
}

/// Names of 3 to 40 characters, accents and ñ included.
fn nombre() -> impl Strategy<Value = String> {
    "[A-Za-zÁÉÍÓÚáéíóúÑñÜü ]{3,40}"
}

fn quien_recibio_documento() -> impl Strategy<Value = Value> {
    (
        select(TIPOS_IDENTIFICACION.to_vec()),
        "[0-9]{5,12}",
        nombre(),
        nombre(),
        proptest::option::of(nombre()),
        proptest::option::of(nombre()),
    )
        .prop_map(|(tipo, identificacion, nombres, apellidos, cargo, area)| {
            let mut quien = json!({
                "tipo_identificacion": tipo,
                "identificacion": identificacion,
                "nombres": nombres,
                "apellidos": apellidos,
            });
            if let Some(cargo) = cargo {
                quien["cargo"] = json!(cargo);
            }
            if let Some(area) = area {
                quien["area"] = json!(area);
            }
            quien
        })
}

fn evento() -> impl Strategy<Value = Value> {
    (cufe(), quien_recibio_documento()).prop_map(|(cufe, quien)| {
        json!({
            "informacion_documento_referencia": { "cufe": cufe },
            "quien_recibio_documento": quien,
        })
    })
}

fn integrador_tipo() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["MOVIL", "WEB", "DLL", "EXCEL"]).prop_map(str::to_owned),
        "ERP-[A-Za-z0-9_.-]{1,12}",
    ]
}

fn webhook() -> impl Strategy<Value = String> {
    "https://[a-z][a-z0-9]{0,15}\\.(com|co|net)(/[a-z0-9_-]{1,10}){0,3}"
}

fn generalidades() -> impl Strategy<Value = Value> {
    (
        select(vec![1, 2]),
        "[A-Za-z0-9_]{5,30}",
        "[A-Za-z ]{1,20}",
        integrador_tipo(),
        proptest::option::of(webhook()),
    )
        .prop_map(|(ambiente, identificador, nombre, tipo, webhook)| {
            let mut generalidades = json!({
                "tipo_ambiente_dian": ambiente,
                "identificador_transmision": identificador,
                "integrador": { "nombre": nombre, "tipo": tipo },
            });
            if let Some(webhook) = webhook {
                generalidades["webhook"] = json!(webhook);
            }
            generalidades
        })
}

/// A conforming `acuse_recibo_fev` data document with 1 to 3 eventos.
fn acuse_data() -> impl Strategy<Value = Value> {
    (prop::collection::vec(evento(), 1..=3), generalidades()).prop_map(
        |(eventos, generalidades)| json!({ "evento": eventos, "generalidades": generalidades }),
    )
}

/// Any month from 0001-01 to 9999-12.
fn mes_consulta() -> impl Strategy<Value = String> {
    (1u32..=9999, 1u32..=12).prop_map(|(year, month)| format!("{year:04}-{month:02}"))
}

/// An RFC built from SAT's t_RFC pattern: 12 characters for a company, 13 for an individual.
fn rfc() -> impl Strategy<Value = String> {
    "[A-Z&Ñ]{3,4}[0-9]{2}(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])[A-Z0-9]{2}[0-9A]"
}

/// A conforming `saldos` request, with or without an RFC.
fn saldos_request() -> impl Strategy<Value = Value> {
    (mes_consulta(), proptest::option::of(rfc())).prop_map(|(mes, rfc)| match rfc {
        Some(rfc) => json!({ "MesConsulta": mes, "RFCConsulta": rfc }),
        None => json!({ "MesConsulta": mes }),
    })
}

// ---------------------------------------------------------------------------------------------
// Single mutations

/// One change to a conforming payload, and where it must be reported.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove a required property: reported at the property's own path.
    Remove { pointer: String },
    /// Replace a value: reported at its path with `keyword`.
    Replace {
        pointer: String,
        value: Value,
        keyword: &'static str,
    },
    /// Add an undefined property: reported at the object that holds it.
    Extra { object: String, key: String },
}

impl Mutation {
    fn apply(&self, payload: &mut Value) {
        match self {
            Mutation::Remove { pointer } => remove(payload, pointer),
            Mutation::Replace { pointer, value, .. } => set(payload, pointer, value.clone()),
            Mutation::Extra { object, key } => set(payload, &format!("{object}/{key}"), json!("x")),
        }
    }

    /// The (JSON Pointer, keyword) the violation must carry.
    fn expected(&self) -> (String, &'static str) {
        match self {
            Mutation::Remove { pointer } => (pointer.clone(), "required"),
            Mutation::Replace {
                pointer, keyword, ..
            } => (pointer.clone(), keyword),
            Mutation::Extra { object, .. } => (object.clone(), "additionalProperties"),
        }
    }
}

/// A value of none of the listed kinds.
fn wrong_type_for(kind: &'static str) -> BoxedStrategy<Value> {
    let string = "[0-9]{1,3}".prop_map(Value::from);
    let integer = any::<i32>().prop_map(Value::from);
    // Never integral: an integral float such as 2.0 is a known divergence of its own.
    let double = (-1000i32..1000).prop_map(|n| json!(f64::from(n) + 0.5));
    let boolean = any::<bool>().prop_map(Value::from);
    let null = Just(Value::Null);
    let array = Just(json!(["x"]));
    let object = Just(json!({ "x": 1 }));
    match kind {
        "string" => prop_oneof![integer, double, boolean, null, array, object].boxed(),
        "integer" => prop_oneof![string, double, boolean, null, array, object].boxed(),
        "object" => prop_oneof![string, integer, boolean, null, array].boxed(),
        "array" => prop_oneof![string, integer, boolean, null, object].boxed(),
        other => unreachable!("no such kind {other}"),
    }
}

/// Every single mutation of an `acuse_recibo_fev` document with `eventos` eventos.
fn acuse_mutation(eventos: usize) -> impl Strategy<Value = Mutation> {
    let at =
        move |suffix: &'static str| (0..eventos).prop_map(move |i| format!("/evento/{i}{suffix}"));
    let quien = "/quien_recibio_documento";

    let required = prop_oneof![
        select(vec![
            "/evento",
            "/generalidades",
            "/generalidades/tipo_ambiente_dian",
            "/generalidades/identificador_transmision",
            "/generalidades/integrador",
            "/generalidades/integrador/nombre",
            "/generalidades/integrador/tipo",
        ])
        .prop_map(str::to_owned),
        (
            0..eventos,
            select(vec![
                "/informacion_documento_referencia",
                "/informacion_documento_referencia/cufe",
                "/quien_recibio_documento",
                "/quien_recibio_documento/tipo_identificacion",
                "/quien_recibio_documento/identificacion",
                "/quien_recibio_documento/nombres",
                "/quien_recibio_documento/apellidos",
            ])
        )
            .prop_map(|(i, suffix)| format!("/evento/{i}{suffix}")),
    ]
    .prop_map(|pointer| Mutation::Remove { pointer });

    let typed = |pointer: BoxedStrategy<String>, kind: &'static str| {
        (pointer, wrong_type_for(kind)).prop_map(|(pointer, value)| Mutation::Replace {
            pointer,
            value,
            keyword: "type",
        })
    };
    let fixed = |pointer: &'static str| Just(pointer.to_owned()).boxed();
    let wrong_type = Union::new(
        [
            (fixed("/evento"), "array"),
            (fixed("/generalidades"), "object"),
            (fixed("/generalidades/tipo_ambiente_dian"), "integer"),
            (fixed("/generalidades/identificador_transmision"), "string"),
            (fixed("/generalidades/integrador"), "object"),
            (fixed("/generalidades/integrador/nombre"), "string"),
            (fixed("/generalidades/integrador/tipo"), "string"),
            (fixed("/generalidades/webhook"), "string"),
            (at("").boxed(), "object"),
            (at("/informacion_documento_referencia").boxed(), "object"),
            (
                at("/informacion_documento_referencia/cufe").boxed(),
                "string",
            ),
            (at("/quien_recibio_documento").boxed(), "object"),
            (
                at("/quien_recibio_documento/tipo_identificacion").boxed(),
                "integer",
            ),
            (
                at("/quien_recibio_documento/identificacion").boxed(),
                "string",
            ),
            (at("/quien_recibio_documento/nombres").boxed(), "string"),
            (at("/quien_recibio_documento/apellidos").boxed(), "string"),
            (at("/quien_recibio_documento/cargo").boxed(), "string"),
            (at("/quien_recibio_documento/area").boxed(), "string"),
        ]
        .map(|(pointer, kind)| typed(pointer, kind)),
    );

    let short = |pointer: BoxedStrategy<String>, value: &'static str| {
        (pointer, value).prop_map(|(pointer, value)| Mutation::Replace {
            pointer,
            value: json!(value),
            keyword: "minLength",
        })
    };
    let too_short = prop_oneof![
        short(
            at("/quien_recibio_documento/nombres").boxed(),
            "[A-Za-zÑñáé ]{0,2}"
        ),
        short(
            at("/quien_recibio_documento/apellidos").boxed(),
            "[A-Za-zÑñáé ]{0,2}"
        ),
        short(
            at("/quien_recibio_documento/cargo").boxed(),
            "[A-Za-zÑñáé ]{0,2}"
        ),
        short(
            at("/quien_recibio_documento/area").boxed(),
            "[A-Za-zÑñáé ]{0,2}"
        ),
        short(
            fixed("/generalidades/identificador_transmision"),
            "[A-Za-z0-9_]{0,4}"
        ),
        short(fixed("/generalidades/integrador/nombre"), ""),
    ];

    let outside_enum = prop_oneof![
        (
            at("/quien_recibio_documento/tipo_identificacion"),
            any::<i64>().prop_filter("undocumented", |n| !TIPOS_IDENTIFICACION.contains(n))
        ),
        any::<i64>()
            .prop_filter("neither 1 nor 2", |n| *n != 1 && *n != 2)
            .prop_map(|n| ("/generalidades/tipo_ambiente_dian".to_owned(), n)),
    ]
    .prop_map(|(pointer, n)| Mutation::Replace {
        pointer,
        value: json!(n),
        keyword: "enum",
    });

    let outside_pattern = prop_oneof![
        (
            at("/informacion_documento_referencia/cufe"),
            "[0-9a-f]{0,95}|[0-9a-f]{97,100}|[0-9A-F]{96}|[0-9a-f]{40} [0-9a-f]{55}"
        )
            .prop_filter("not a CUFE", |(_, cufe)| {
                cufe.len() != 96 || cufe.chars().any(|c| !matches!(c, '0'..='9' | 'a'..='f'))
            }),
        "[a-z]{1,8}|ERP-|ERP|ERP-[ /]{1,3}|WEBS|MOVIL "
            .prop_map(|tipo| ("/generalidades/integrador/tipo".to_owned(), tipo)),
        "http://[a-z]{1,10}\\.com|ftp://[a-z]{1,10}\\.com|HTTPS://[a-z]{1,10}\\.com"
            .prop_map(|url| ("/generalidades/webhook".to_owned(), url)),
    ]
    .prop_map(|(pointer, value)| Mutation::Replace {
        pointer,
        value: json!(value),
        keyword: "pattern",
    });

    let objects = prop_oneof![
        select(vec!["", "/generalidades", "/generalidades/integrador"]).prop_map(str::to_owned),
        (
            0..eventos,
            select(vec!["", "/informacion_documento_referencia", quien])
        )
            .prop_map(|(i, suffix)| format!("/evento/{i}{suffix}")),
    ];
    let extra =
        (objects, "x_[a-z_]{0,12}").prop_map(|(object, key)| Mutation::Extra { object, key });

    prop_oneof![
        required,
        wrong_type,
        too_short,
        outside_enum,
        outside_pattern,
        extra
    ]
}

/// A conforming document and one mutation of it.
fn mutated_acuse_data() -> impl Strategy<Value = (Value, Mutation)> {
    acuse_data().prop_flat_map(|document| {
        let eventos = document["evento"].as_array().map_or(1, Vec::len);
        (Just(document), acuse_mutation(eventos))
    })
}

/// Every single mutation of a `saldos` request (with an RFC so that it can be mutated).
fn saldos_mutation() -> impl Strategy<Value = Mutation> {
    let month = |pattern: &'static str| {
        pattern.prop_map(|value| Mutation::Replace {
            pointer: "/MesConsulta".to_owned(),
            value: json!(value),
            keyword: "pattern",
        })
    };
    prop_oneof![
        Just(Mutation::Remove {
            pointer: "/MesConsulta".to_owned()
        }),
        wrong_type_for("string").prop_map(|value| Mutation::Replace {
            pointer: "/MesConsulta".to_owned(),
            value,
            keyword: "type",
        }),
        wrong_type_for("string").prop_map(|value| Mutation::Replace {
            pointer: "/RFCConsulta".to_owned(),
            value,
            keyword: "type",
        }),
        month("[0-9]{4}-(00|1[3-9]|[2-9][0-9])"),
        month("[0-9]{4}-[1-9]|[0-9]{2}-(0[1-9]|1[0-2])|[0-9]{4}/(0[1-9]|1[0-2])|[0-9]{6}"),
        "[A-Z&Ñ0-9]{0,11}".prop_map(|rfc| Mutation::Replace {
            pointer: "/RFCConsulta".to_owned(),
            value: json!(rfc),
            keyword: "minLength",
        }),
        "[A-Z&Ñ0-9]{14,20}".prop_map(|rfc| Mutation::Replace {
            pointer: "/RFCConsulta".to_owned(),
            value: json!(rfc),
            keyword: "maxLength",
        }),
        rfc()
            .prop_filter("has a letter", |rfc| rfc.to_lowercase() != *rfc)
            .prop_map(|rfc| Mutation::Replace {
                pointer: "/RFCConsulta".to_owned(),
                value: json!(rfc.to_lowercase()),
                keyword: "pattern",
            }),
    ]
}

fn mutated_saldos_request() -> impl Strategy<Value = (Value, Mutation)> {
    (mes_consulta(), rfc(), saldos_mutation()).prop_map(|(mes, rfc, mutation)| {
        (json!({ "MesConsulta": mes, "RFCConsulta": rfc }), mutation)
    })
}

/// The mutated payload breaks the rule at the path, and nothing else anywhere else.
fn check_mutation(
    operation: Operation,
    mut payload: Value,
    mutation: &Mutation,
) -> Result<Value, TestCaseError> {
    mutation.apply(&mut payload);
    let violations = validate(operation, &payload);
    let found = found(&violations);
    let (pointer, keyword) = mutation.expected();
    prop_assert!(
        found
            .iter()
            .any(|(path, kw)| *path == pointer && kw == keyword),
        "expected `{}` at `{}`, found {:?} in {}",
        keyword,
        pointer,
        found,
        payload
    );
    prop_assert!(
        found.iter().all(|(path, _)| *path == pointer),
        "violations elsewhere than `{}`: {:?}",
        pointer,
        found
    );
    Ok(payload)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_generated_conforming_acuse_document_is_always_accepted(document in acuse_data()) {
        let violations = validate(Operation::AcuseReciboFev, &document);
        prop_assert!(violations.is_valid(), "{}\n{}", document, violations);
    }

    #[test]
    fn a_generated_conforming_saldos_request_is_always_accepted(request in saldos_request()) {
        let violations = validate(Operation::Saldos, &request);
        prop_assert!(violations.is_valid(), "{}\n{}", request, violations);
        prop_assert_eq!(SovosError::for_violations(Operation::Saldos, &violations), None);
    }

    #[test]
    fn a_month_alone_is_always_a_conforming_report_request(mes in mes_consulta()) {
        let request = json!({ "MesConsulta": mes });
        prop_assert!(validate(Operation::SaldosPdf, &request).is_valid());
        prop_assert!(validate(Operation::SaldosCsv, &request).is_valid());
    }

    #[test]
    fn a_single_mutation_of_an_acuse_document_is_always_rejected_where_it_was_made(
        (document, mutation) in mutated_acuse_data()
    ) {
        let mutated = check_mutation(Operation::AcuseReciboFev, document, &mutation)?;
        // And the PHP server's rendering of it is a well-formed semantic 400.
        let violations = validate(Operation::AcuseReciboFev, &mutated);
        let meta = body::Meta {
            tiempo_ejecucion: 0.05,
            transaccion: "ODMwMDIwNDcw63992e98b9569".into(),
            entorno: "DOCUMENTO_NO_VALIDO".into(),
        };
        let rendered = body::semantic_error(body::resultado(&violations, &mutated), &meta);
        let shape = Contract::global()
            .validate_schema("afacturar/acuse_recibo_fev.semantic_error", &rendered)
            .expect("the semantic_error schema is embedded");
        prop_assert!(shape.is_valid(), "{}\n{}", rendered, shape);
    }

    #[test]
    fn a_single_mutation_of_a_saldos_request_is_always_rejected_where_it_was_made(
        (request, mutation) in mutated_saldos_request()
    ) {
        let mutated = check_mutation(Operation::Saldos, request, &mutation)?;
        let violations = validate(Operation::Saldos, &mutated);
        let expected = if mutation.expected().0 == "/MesConsulta" {
            SovosError::MesConsultaInvalido
        } else {
            SovosError::RfcNoRegistrado
        };
        prop_assert_eq!(SovosError::for_violations(Operation::Saldos, &violations), Some(expected));
    }
}
