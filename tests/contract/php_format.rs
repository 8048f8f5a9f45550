//! Afacturar's semantic 400, as its PHP server renders the violations that
//! justinrainbow/json-schema reports (provider-facts, "Afacturar runs on PHP").

use einvoice_mock::internals::render::afacturar::body::{self, Meta};
use einvoice_mock::{parse_form, validate, Contract, FormError, Operation};
use serde_json::{json, Value};

use super::support::{apellido_en_vez_de_apellidos, ejemplo_1, fixture, remove, set};

const SEED_SEMANTIC_ERROR: &str =
    "afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json";

/// The fixed meta of the snapshots: the seed's own `transaccion`.
fn meta() -> Meta {
    Meta {
        tiempo_ejecucion: 0.05,
        transaccion: "ODMwMDIwNDcw63992e98b9569".into(),
        entorno: "DOCUMENTO_NO_VALIDO".into(),
    }
}

/// The `resultado` of a data document, as Afacturar renders it.
fn resultado_for(data: &Value) -> Vec<Value> {
    body::resultado(&validate(Operation::AcuseReciboFev, data), data)
}

/// The whole semantic 400 of a data document.
fn semantic_400(data: &Value) -> Value {
    let resultado = resultado_for(data);
    assert!(
        !resultado.is_empty(),
        "{data} conforms: there is no semantic error"
    );
    checked(body::semantic_error(resultado, &meta()))
}

/// The body, after checking it against the semantic-error schema.
fn checked(body: Value) -> Value {
    let violations = Contract::global()
        .validate_schema("afacturar/acuse_recibo_fev.semantic_error", &body)
        .expect("the semantic_error schema is embedded");
    assert!(violations.is_valid(), "{body}:\n{violations}");
    body
}

/// `(propiedad, descripcion)` pairs, for readable assertions.
fn entries(resultado: &[Value]) -> Vec<(&str, &str)> {
    resultado
        .iter()
        .map(|entry| {
            (
                entry["propiedad"].as_str().expect("propiedad is a string"),
                entry["descripcion"]
                    .as_str()
                    .expect("descripcion is a string"),
            )
        })
        .collect()
}

/// The semantic 400 of a form that cannot be read.
fn form_error_400(fields: &[(&str, &str)]) -> Value {
    let fields = fields
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()));
    let error = parse_form(Operation::AcuseReciboFev, fields).expect_err("the form is unreadable");
    checked(body::semantic_error(
        body::resultado_for_form_error(&error),
        &meta(),
    ))
}

#[test]
fn the_seeds_semantic_error_example_is_reproduced_exactly() {
    let data = apellido_en_vez_de_apellidos();
    let seed = fixture(SEED_SEMANTIC_ERROR);
    let expected = seed["resultado"].as_array().expect("resultado is an array");
    assert_eq!(&resultado_for(&data), expected);
}

#[test]
fn the_seeds_whole_semantic_error_body_is_reproduced_from_its_meta() {
    let seed = fixture(SEED_SEMANTIC_ERROR);
    let data = apellido_en_vez_de_apellidos();
    let meta = Meta {
        tiempo_ejecucion: seed["tiempo_ejecucion"].as_f64().expect("a number"),
        transaccion: seed["transaccion"].as_str().expect("a string").to_owned(),
        entorno: "DOCUMENTO_NO_VALIDO".to_owned(),
    };
    assert_eq!(body::semantic_error(resultado_for(&data), &meta), seed);
}

#[test]
fn the_apellido_case_renders_the_semantic_400() {
    insta::assert_json_snapshot!(
        "afacturar_400_apellido_en_vez_de_apellidos",
        semantic_400(&apellido_en_vez_de_apellidos())
    );
}

#[test]
fn a_quoted_tipo_ambiente_dian_is_a_type_error_then_an_enum_error() {
    let mut data = ejemplo_1();
    set(&mut data, "/generalidades/tipo_ambiente_dian", json!("2"));
    assert_eq!(
        entries(&resultado_for(&data)),
        [
            (
                "generalidades.tipo_ambiente_dian",
                "String value found, but an integer is required"
            ),
            (
                "generalidades.tipo_ambiente_dian",
                "Does not have a value in the enumeration [1,2]"
            ),
        ]
    );
    insta::assert_json_snapshot!(
        "afacturar_400_tipo_ambiente_dian_quoted",
        semantic_400(&data)
    );
}

#[test]
fn php_type_names_are_used_for_what_was_found() {
    let pointer = "/evento/0/quien_recibio_documento/nombres";
    for (value, found) in [
        (json!(12), "Integer"),
        (json!(1.5), "Double"),
        (json!(true), "Boolean"),
        (json!(null), "NULL"),
        (json!(["Prueba"]), "Array"),
        (json!({ "nombre": "Prueba" }), "Object"),
    ] {
        let mut data = ejemplo_1();
        set(&mut data, pointer, value);
        assert_eq!(
            entries(&resultado_for(&data)),
            [(
                "evento[0].quien_recibio_documento.nombres",
                format!("{found} value found, but a string is required").as_str()
            )]
        );
    }
}

#[test]
fn every_missing_required_field_renders_as_its_own_dotted_path() {
    for (pointer, propiedad) in [
        ("/evento", "evento"),
        ("/generalidades", "generalidades"),
        (
            "/evento/0/informacion_documento_referencia",
            "evento[0].informacion_documento_referencia",
        ),
        (
            "/evento/0/informacion_documento_referencia/cufe",
            "evento[0].informacion_documento_referencia.cufe",
        ),
        (
            "/evento/0/quien_recibio_documento",
            "evento[0].quien_recibio_documento",
        ),
        (
            "/evento/0/quien_recibio_documento/tipo_identificacion",
            "evento[0].quien_recibio_documento.tipo_identificacion",
        ),
        (
            "/evento/0/quien_recibio_documento/identificacion",
            "evento[0].quien_recibio_documento.identificacion",
        ),
        (
            "/evento/0/quien_recibio_documento/nombres",
            "evento[0].quien_recibio_documento.nombres",
        ),
        (
            "/evento/0/quien_recibio_documento/apellidos",
            "evento[0].quien_recibio_documento.apellidos",
        ),
        (
            "/generalidades/tipo_ambiente_dian",
            "generalidades.tipo_ambiente_dian",
        ),
        (
            "/generalidades/identificador_transmision",
            "generalidades.identificador_transmision",
        ),
        ("/generalidades/integrador", "generalidades.integrador"),
        (
            "/generalidades/integrador/nombre",
            "generalidades.integrador.nombre",
        ),
        (
            "/generalidades/integrador/tipo",
            "generalidades.integrador.tipo",
        ),
    ] {
        let mut data = ejemplo_1();
        remove(&mut data, pointer);
        let name = pointer.rsplit('/').next().expect("a property name");
        assert_eq!(
            entries(&resultado_for(&data)),
            [(
                propiedad,
                format!("The property {name} is required").as_str()
            )]
        );
    }
}

#[test]
fn an_extra_property_renders_on_its_parent_and_the_root_is_the_empty_string() {
    let mut data = ejemplo_1();
    set(&mut data, "/version", json!("1.0"));
    assert_eq!(
        entries(&resultado_for(&data)),
        [(
            "",
            "The property version is not defined and the definition does not allow additional properties"
        )]
    );
}

#[test]
fn each_keyword_of_the_data_schema_is_worded_as_the_php_library_words_it() {
    let cases = [
        (
            "/evento",
            json!([]),
            "evento",
            "There must be a minimum of 1 items in the array",
        ),
        (
            "/evento/0/quien_recibio_documento/tipo_identificacion",
            json!(10),
            "evento[0].quien_recibio_documento.tipo_identificacion",
            "Does not have a value in the enumeration [11,12,13,21,22,31,41,42,50,91]",
        ),
        (
            "/evento/0/quien_recibio_documento/apellidos",
            json!("Ro"),
            "evento[0].quien_recibio_documento.apellidos",
            "Must be at least 3 characters long",
        ),
        (
            "/evento/0/informacion_documento_referencia/cufe",
            json!("F46111923E8A"),
            "evento[0].informacion_documento_referencia.cufe",
            "Does not match the regex pattern ^[0-9a-f]{96}$",
        ),
        (
            "/generalidades/integrador/tipo",
            json!("web"),
            "generalidades.integrador.tipo",
            "Does not match the regex pattern ^(MOVIL|WEB|DLL|EXCEL|ERP-[A-Za-z0-9_.-]+)$",
        ),
        (
            "/generalidades/webhook",
            json!("http://hooks.example.com"),
            "generalidades.webhook",
            "Does not match the regex pattern ^https://",
        ),
    ];
    for (pointer, value, propiedad, descripcion) in cases {
        let mut data = ejemplo_1();
        set(&mut data, pointer, value);
        assert_eq!(entries(&resultado_for(&data)), [(propiedad, descripcion)]);
    }

    let mut data = ejemplo_1();
    set(&mut data, "/generalidades/webhook", json!("not a url"));
    assert_eq!(
        entries(&resultado_for(&data)),
        [
            (
                "generalidades.webhook",
                "Does not match the regex pattern ^https://"
            ),
            ("generalidades.webhook", "Invalid URL format"),
        ]
    );
}

/// Violations across evento and generalidades, written in an order that is *not* the
/// schema's: the report follows the schema (depth first, properties in schema order, at each
/// object `required` first and `additionalProperties` after its children).
fn several_violations() -> Value {
    let evento_0 = ejemplo_1()["evento"][0].clone();
    json!({
        "version": "1.0",
        "generalidades": {
            "webhook": "http://hooks.example.com/afacturar",
            "integrador": { "tipo": "web", "nombre": "WEB", "version": "1.0" },
            "identificador_transmision": "2022",
            "tipo_ambiente_dian": 3
        },
        "evento": [
            evento_0,
            {
                "quien_recibio_documento": {
                    "area": "TI",
                    "apellidos": "Ro",
                    "identificacion": 1111111,
                    "tipo_identificacion": 10
                },
                "informacion_documento_referencia": {
                    "cufe": "F46111923E8A010B647ED4192DE51987ADA7C2D18D136AB0184D66838C4AE9F5E9CA302F8E0D41FC0E5883357C2423A4"
                }
            }
        ]
    })
}

#[test]
fn several_violations_are_listed_depth_first_in_schema_property_order() {
    let data = several_violations();
    let q = "evento[1].quien_recibio_documento";
    assert_eq!(
        entries(&resultado_for(&data)),
        [
            (
                "evento[1].informacion_documento_referencia.cufe",
                "Does not match the regex pattern ^[0-9a-f]{96}$"
            ),
            (&format!("{q}.nombres") as &str, "The property nombres is required"),
            (
                &format!("{q}.tipo_identificacion"),
                "Does not have a value in the enumeration [11,12,13,21,22,31,41,42,50,91]"
            ),
            (&format!("{q}.identificacion"), "Integer value found, but a string is required"),
            (&format!("{q}.apellidos"), "Must be at least 3 characters long"),
            (&format!("{q}.area"), "Must be at least 3 characters long"),
            ("generalidades.tipo_ambiente_dian", "Does not have a value in the enumeration [1,2]"),
            ("generalidades.identificador_transmision", "Must be at least 5 characters long"),
            (
                "generalidades.integrador.tipo",
                "Does not match the regex pattern ^(MOVIL|WEB|DLL|EXCEL|ERP-[A-Za-z0-9_.-]+)$"
            ),
            (
                "generalidades.integrador",
                "The property version is not defined and the definition does not allow additional properties"
            ),
            ("generalidades.webhook", "Does not match the regex pattern ^https://"),
            (
                "",
                "The property version is not defined and the definition does not allow additional properties"
            ),
        ]
    );
    insta::assert_json_snapshot!("afacturar_400_several_violations", semantic_400(&data));
}

#[test]
fn a_form_without_data_renders_the_missing_field() {
    let body = form_error_400(&[("documento_obligado", "830020470")]);
    assert_eq!(
        body["resultado"],
        json!([{ "propiedad": "data", "descripcion": "The property data is required" }])
    );
    insta::assert_json_snapshot!("afacturar_400_form_without_data", body);
}

#[test]
fn a_form_without_any_field_lists_them_in_documentation_order() {
    let error =
        parse_form(Operation::AcuseReciboFev, Vec::new()).expect_err("both fields are missing");
    assert_eq!(
        error,
        FormError::MissingFields(vec!["documento_obligado", "data"])
    );
    assert_eq!(
        entries(&body::resultado_for_form_error(&error)),
        [
            (
                "documento_obligado",
                "The property documento_obligado is required"
            ),
            ("data", "The property data is required"),
        ]
    );
}

#[test]
fn a_form_whose_data_is_not_json_renders_a_syntax_error() {
    let body = form_error_400(&[
        ("documento_obligado", "830020470"),
        ("data", "{\"evento\": ["),
    ]);
    assert_eq!(
        body["resultado"],
        json!([{ "propiedad": "data", "descripcion": "Syntax error" }])
    );
    insta::assert_json_snapshot!("afacturar_400_form_data_not_json", body);
}

#[test]
fn a_form_with_the_seeds_data_parses_to_ejemplo_1_and_conforms() {
    let form = fixture("afacturar/acuse_recibo_fev.request/valid/seed_003_curl_form.json");
    let fields = form
        .as_object()
        .expect("an object")
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                value.as_str().expect("a string field").to_owned(),
            )
        });
    let payload =
        parse_form(Operation::AcuseReciboFev, fields).expect("the seed's form is readable");
    assert_eq!(payload.field("documento_obligado"), Some("888888888"));
    assert!(Contract::global().validate_form(&payload).is_valid());
    assert!(resultado_for(payload.payload()).is_empty());
}

#[test]
fn a_whole_number_written_as_a_float_is_a_double_like_php_sees_it() {
    for (pointer, value, propiedad, enumeration) in [
        (
            "/generalidades/tipo_ambiente_dian",
            "2.0",
            "generalidades.tipo_ambiente_dian",
            "[1,2]",
        ),
        (
            "/generalidades/tipo_ambiente_dian",
            "1e0",
            "generalidades.tipo_ambiente_dian",
            "[1,2]",
        ),
        (
            "/evento/0/quien_recibio_documento/tipo_identificacion",
            "13.0",
            "evento[0].quien_recibio_documento.tipo_identificacion",
            "[11,12,13,21,22,31,41,42,50,91]",
        ),
    ] {
        let mut data = ejemplo_1();
        set(&mut data, pointer, serde_json::from_str(value).unwrap());
        let enum_message = format!("Does not have a value in the enumeration {enumeration}");
        assert_eq!(
            entries(&resultado_for(&data)),
            [
                (propiedad, "Double value found, but an integer is required"),
                (propiedad, enum_message.as_str()),
            ],
            "{value}"
        );
    }
}
