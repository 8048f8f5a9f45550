//! Helpers shared by the contract tests: fixture loading, JSON Pointer edits, assertions on
//! (instance path, keyword) pairs.

use std::path::{Path, PathBuf};

use einvoice_mock::{validate, Operation, Violations};
use serde_json::Value;

/// `fixtures/` of the crate.
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// `schemas/` of the crate.
pub(crate) fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Parses a JSON file.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

/// A fixture by its path under `fixtures/`.
pub(crate) fn fixture(relative: &str) -> Value {
    read_json(&fixtures_dir().join(relative))
}

/// Seed 003's "Ejemplo 1", the reference `acuse_recibo_fev` data document.
pub(crate) fn ejemplo_1() -> Value {
    fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json")
}

/// Seed 003's semantic-error example: `apellido` sent instead of `apellidos`.
pub(crate) fn apellido_en_vez_de_apellidos() -> Value {
    fixture("afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json")
}

/// Sets the value at a JSON Pointer, adding the last property if the object lacks it.
#[track_caller]
pub(crate) fn set(document: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("`{pointer}` is not a JSON Pointer below the root"));
    let parent = document
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no value at `{parent}`"));
    match parent {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => {
            let index: usize = key.parse().expect("an array index");
            items[index] = value;
        }
        other => panic!("`{pointer}`: cannot set a child of {other}"),
    }
}

/// Removes the property at a JSON Pointer; panics if it is not there.
#[track_caller]
pub(crate) fn remove(document: &mut Value, pointer: &str) {
    let (parent, key) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("`{pointer}` is not a JSON Pointer below the root"));
    let removed = document
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|map| map.shift_remove(key));
    assert!(removed.is_some(), "nothing to remove at `{pointer}`");
}

/// The (instance path as a JSON Pointer, keyword) of every violation, in order.
pub(crate) fn found(violations: &Violations) -> Vec<(String, String)> {
    violations
        .iter()
        .map(|violation| (violation.path.to_string(), violation.keyword().to_owned()))
        .collect()
}

/// The payload conforms.
#[track_caller]
pub(crate) fn assert_accepted(operation: Operation, payload: &Value) {
    let violations = validate(operation, payload);
    assert!(
        violations.is_valid(),
        "{operation} should accept {payload}, but:\n{violations}"
    );
}

/// The payload is rejected with `keyword` at `pointer`, and with nothing anywhere else.
#[track_caller]
pub(crate) fn assert_rejected_at(
    operation: Operation,
    payload: &Value,
    pointer: &str,
    keyword: &str,
) {
    let violations = validate(operation, payload);
    let found = found(&violations);
    assert!(
        found
            .iter()
            .any(|(path, kw)| path == pointer && kw == keyword),
        "{operation}: expected `{keyword}` at `{pointer}` for {payload}, found {found:?}"
    );
    assert!(
        found.iter().all(|(path, _)| path == pointer),
        "{operation}: expected violations at `{pointer}` only for {payload}, found {found:?}"
    );
}
