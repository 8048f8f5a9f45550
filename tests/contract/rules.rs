//! Every documented rule of the `acuse_recibo_fev` data document (seed 003, "Estructura de
//! JSON de entrada"), each with a passing and a failing case built from "Ejemplo 1".

use einvoice_mock::{validate, Operation, ViolationKind};
use serde_json::{json, Value};

use super::support::{assert_accepted, assert_rejected_at, ejemplo_1, found, remove, set};

const OP: Operation = Operation::AcuseReciboFev;
const QUIEN: &str = "/evento/0/quien_recibio_documento";
const CUFE: &str = "/evento/0/informacion_documento_referencia/cufe";

/// "Ejemplo 1" with one value replaced (or added).
fn with(pointer: &str, value: Value) -> Value {
    let mut document = ejemplo_1();
    set(&mut document, pointer, value);
    document
}

/// "Ejemplo 1" without one property.
fn without(pointer: &str) -> Value {
    let mut document = ejemplo_1();
    remove(&mut document, pointer);
    document
}

fn quien(field: &str) -> String {
    format!("{QUIEN}/{field}")
}

#[test]
fn ejemplo_1_is_accepted() {
    assert_accepted(OP, &ejemplo_1());
}

#[test]
fn every_required_field_is_reported_at_its_own_path_when_missing() {
    for pointer in [
        "/evento",
        "/generalidades",
        "/evento/0/informacion_documento_referencia",
        CUFE,
        QUIEN,
        "/evento/0/quien_recibio_documento/tipo_identificacion",
        "/evento/0/quien_recibio_documento/identificacion",
        "/evento/0/quien_recibio_documento/nombres",
        "/evento/0/quien_recibio_documento/apellidos",
        "/generalidades/tipo_ambiente_dian",
        "/generalidades/identificador_transmision",
        "/generalidades/integrador",
        "/generalidades/integrador/nombre",
        "/generalidades/integrador/tipo",
    ] {
        let document = without(pointer);
        assert_rejected_at(OP, &document, pointer, "required");
        let violations = validate(OP, &document);
        let name = pointer.rsplit('/').next().expect("a property name");
        assert_eq!(violations.len(), 1, "{pointer}: {violations}");
        assert_eq!(
            violations[0].kind,
            ViolationKind::Required {
                property: name.to_owned()
            }
        );
    }
}

#[test]
fn a_missing_apellidos_is_reported_at_its_own_path() {
    assert_rejected_at(
        OP,
        &without(&quien("apellidos")),
        &quien("apellidos"),
        "required",
    );
}

#[test]
fn cargo_and_area_may_be_left_out() {
    assert_accepted(OP, &without(&quien("cargo")));
    assert_accepted(OP, &without(&quien("area")));
    let mut neither = without(&quien("cargo"));
    remove(&mut neither, &quien("area"));
    assert_accepted(OP, &neither);
}

#[test]
fn a_cargo_or_area_of_two_characters_is_too_short_and_three_are_enough() {
    for field in ["cargo", "area"] {
        assert_accepted(OP, &with(&quien(field), json!("TIC")));
        assert_rejected_at(
            OP,
            &with(&quien(field), json!("TI")),
            &quien(field),
            "minLength",
        );
    }
}

#[test]
fn nombres_and_apellidos_need_three_characters_counted_as_characters_not_bytes() {
    for field in ["nombres", "apellidos"] {
        // 3 characters, 5 bytes in UTF-8.
        assert_accepted(OP, &with(&quien(field), json!("Ñño")));
        assert_accepted(OP, &with(&quien(field), json!("Ana")));
        // 2 characters but 4 bytes: still too short.
        assert_rejected_at(
            OP,
            &with(&quien(field), json!("Ññ")),
            &quien(field),
            "minLength",
        );
        assert_rejected_at(
            OP,
            &with(&quien(field), json!("Al")),
            &quien(field),
            "minLength",
        );
        assert_rejected_at(
            OP,
            &with(&quien(field), json!("")),
            &quien(field),
            "minLength",
        );
    }
}

#[test]
fn every_documented_tipo_identificacion_is_accepted() {
    for code in [11, 12, 13, 21, 22, 31, 41, 42, 50, 91] {
        assert_accepted(OP, &with(&quien("tipo_identificacion"), json!(code)));
    }
}

#[test]
fn an_undocumented_or_quoted_tipo_identificacion_is_rejected() {
    let pointer = quien("tipo_identificacion");
    assert_rejected_at(OP, &with(&pointer, json!(10)), &pointer, "enum");
    assert_rejected_at(OP, &with(&pointer, json!(0)), &pointer, "enum");
    // No type coercion: the string "13" is not the integer 13.
    let quoted = with(&pointer, json!("13"));
    assert_rejected_at(OP, &quoted, &pointer, "type");
    assert_rejected_at(OP, &quoted, &pointer, "enum");
}

#[test]
fn identificacion_must_be_a_string() {
    let pointer = quien("identificacion");
    assert_accepted(OP, &with(&pointer, json!("830020470")));
    assert_rejected_at(OP, &with(&pointer, json!(830020470)), &pointer, "type");
}

#[test]
fn tipo_ambiente_dian_accepts_produccion_and_pruebas_only() {
    let pointer = "/generalidades/tipo_ambiente_dian";
    assert_accepted(OP, &with(pointer, json!(1)));
    assert_accepted(OP, &with(pointer, json!(2)));
    assert_rejected_at(OP, &with(pointer, json!(3)), pointer, "enum");
    let quoted = with(pointer, json!("2"));
    assert_rejected_at(OP, &quoted, pointer, "type");
    assert_rejected_at(OP, &quoted, pointer, "enum");
}

#[test]
fn identificador_transmision_needs_five_characters() {
    let pointer = "/generalidades/identificador_transmision";
    assert_accepted(OP, &with(pointer, json!("12345")));
    assert_rejected_at(OP, &with(pointer, json!("1234")), pointer, "minLength");
}

#[test]
fn integrador_tipo_accepts_the_documented_channels_only() {
    let pointer = "/generalidades/integrador/tipo";
    for tipo in ["MOVIL", "WEB", "DLL", "EXCEL", "ERP-SAP"] {
        assert_accepted(OP, &with(pointer, json!(tipo)));
    }
    for tipo in ["ERP-", "web", "ERP", "SAP", ""] {
        assert_rejected_at(OP, &with(pointer, json!(tipo)), pointer, "pattern");
    }
}

#[test]
fn webhook_is_optional_and_must_be_an_https_url() {
    let pointer = "/generalidades/webhook";
    assert_accepted(OP, &ejemplo_1());
    assert_accepted(
        OP,
        &with(
            pointer,
            json!("https://hooks.example.com/afacturar?cliente=830020470"),
        ),
    );
    assert_rejected_at(
        OP,
        &with(pointer, json!("http://hooks.example.com/afacturar")),
        pointer,
        "pattern",
    );
    let not_a_url = with(pointer, json!("not a url"));
    assert_rejected_at(OP, &not_a_url, pointer, "pattern");
    assert_rejected_at(OP, &not_a_url, pointer, "format");
}

#[test]
fn a_cufe_must_be_96_lowercase_hex_digits() {
    let cufe = ejemplo_1()
        .pointer(CUFE)
        .and_then(Value::as_str)
        .expect("Ejemplo 1 has a CUFE")
        .to_owned();
    assert_eq!(cufe.len(), 96);
    assert_accepted(OP, &with(CUFE, json!(cufe)));
    assert_accepted(OP, &with(CUFE, json!("0123456789abcdef".repeat(6))));

    let spaced = cufe
        .as_bytes()
        .chunks(8)
        .map(|chunk| std::str::from_utf8(chunk).expect("hex is ASCII"))
        .collect::<Vec<_>>();
    let mut one_space = cufe.clone();
    one_space.replace_range(40..41, " ");
    for bad in [
        cufe[..95].to_owned(),
        format!("{cufe}0"),
        cufe.to_uppercase(),
        spaced.join(" "),
        spaced.join("-"),
        one_space,
        format!(" {}", &cufe[1..]),
        cufe[..40].to_owned(),
        String::new(),
    ] {
        assert_rejected_at(OP, &with(CUFE, json!(bad)), CUFE, "pattern");
    }
}

#[test]
fn an_extra_property_is_reported_on_the_object_that_holds_it() {
    for object in [
        "",
        "/evento/0",
        "/evento/0/informacion_documento_referencia",
        QUIEN,
        "/generalidades",
        "/generalidades/integrador",
    ] {
        let document = with(&format!("{object}/apellido"), json!("Acuse de recibo"));
        assert_rejected_at(OP, &document, object, "additionalProperties");
        let violations = validate(OP, &document);
        assert_eq!(
            violations[0].kind,
            ViolationKind::AdditionalProperties {
                property: "apellido".to_owned()
            },
            "{object}"
        );
    }
}

#[test]
fn an_empty_evento_list_is_rejected_with_min_items() {
    let document = with("/evento", json!([]));
    assert_rejected_at(OP, &document, "/evento", "minItems");
    assert_eq!(
        validate(OP, &document)[0].kind,
        ViolationKind::MinItems { limit: 1, found: 0 }
    );
}

#[test]
fn several_eventos_are_accepted_and_each_is_checked() {
    let evento = ejemplo_1()["evento"][0].clone();
    let mut document = with("/evento", json!([evento.clone(), evento.clone(), evento]));
    assert_accepted(OP, &document);
    set(
        &mut document,
        "/evento/2/quien_recibio_documento/nombres",
        json!("Al"),
    );
    assert_rejected_at(
        OP,
        &document,
        "/evento/2/quien_recibio_documento/nombres",
        "minLength",
    );
}

#[test]
fn a_document_that_is_not_an_object_is_rejected_at_the_root() {
    for document in [json!([]), json!("data"), json!(null), json!(42)] {
        assert_rejected_at(OP, &document, "", "type");
    }
}

#[test]
fn the_empty_template_of_the_document_breaks_every_rule_it_can() {
    let template = super::support::fixture(
        "afacturar/acuse_recibo_fev.data/invalid/seed_003_estructura_json_plantilla.json",
    );
    let found = found(&validate(OP, &template));
    for expected in [
        (CUFE, "pattern"),
        (
            "/evento/0/quien_recibio_documento/tipo_identificacion",
            "enum",
        ),
        ("/evento/0/quien_recibio_documento/nombres", "minLength"),
        ("/evento/0/quien_recibio_documento/apellidos", "minLength"),
        ("/evento/0/quien_recibio_documento/cargo", "minLength"),
        ("/evento/0/quien_recibio_documento/area", "minLength"),
        ("/generalidades/identificador_transmision", "minLength"),
        ("/generalidades/integrador/nombre", "minLength"),
        ("/generalidades/integrador/tipo", "pattern"),
    ] {
        assert!(
            found
                .iter()
                .any(|(path, keyword)| path == expected.0 && keyword == expected.1),
            "{expected:?} not in {found:?}"
        );
    }
}
