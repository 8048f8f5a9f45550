//! The work budget of one validation: a deterministic step count, linear in the document,
//! and what a document over it is told.

use einvoice_mock::{validate, Operation, ViolationKind};
use einvoice_mock::{validation_steps, MAX_REPORTED_VIOLATIONS, MAX_VALIDATION_STEPS};
use serde_json::{Map, Value};

use super::support::ejemplo_1;

/// The seed's first example with `extra` undocumented keys added at its root.
fn with_undocumented_keys(extra: usize) -> Value {
    let mut data = ejemplo_1();
    let root: &mut Map<String, Value> = data.as_object_mut().expect("an object");
    for index in 0..extra {
        root.insert(format!("k{index:07}"), Value::from(0));
    }
    data
}

#[test]
fn validation_work_grows_by_one_step_per_undocumented_key_and_one_per_kib_of_names() {
    let base = validation_steps(&with_undocumented_keys(0));
    // Each key is a value and an 8-byte name: 1 + 8/1024 steps, give or take the rounding.
    for keys in [1_024, 2_048, 4_096, 25_600] {
        let grown = validation_steps(&with_undocumented_keys(keys)) - base;
        let expected = keys + keys * 8 / 1024;
        assert!(grown.abs_diff(expected) <= 1, "{keys} keys: {grown} steps");
    }
}

#[test]
fn a_long_string_costs_one_step_and_one_per_kib_of_text() {
    let text = Value::String("a".repeat(10 * 1024));
    assert_eq!(validation_steps(&text), 11);
}

#[test]
fn a_document_within_the_budget_is_judged_whole_without_a_budget_finding() {
    let violations = validate(Operation::AcuseReciboFev, &with_undocumented_keys(5_000));
    assert_eq!(violations.len(), MAX_REPORTED_VIOLATIONS);
    assert!(violations
        .iter()
        .all(|v| v.keyword() == "additionalProperties"));
}

#[test]
fn a_document_over_the_budget_says_the_budget_was_hit_then_lists_what_was_found_before_it() {
    let data = with_undocumented_keys(25_000);
    assert!(validation_steps(&data) > MAX_VALIDATION_STEPS);
    let violations = validate(Operation::AcuseReciboFev, &data);
    assert_eq!(violations.len(), MAX_REPORTED_VIOLATIONS);
    let (first, found) = violations.split_first().expect("findings");
    assert_eq!(first.keyword(), "workBudget");
    assert_eq!(first.path.to_string(), "");
    // The first undocumented keys, in document order: the prefix was judged as PHP would.
    for (index, violation) in found.iter().enumerate() {
        assert_eq!(
            violation.kind,
            ViolationKind::AdditionalProperties {
                property: format!("k{index:07}")
            }
        );
    }
}

#[test]
fn cutting_a_document_at_the_budget_invents_no_missing_property() {
    // Undocumented keys first, so that the cut falls before `evento` and `generalidades`.
    let mut data = Map::new();
    for index in 0..MAX_VALIDATION_STEPS + 10 {
        data.insert(format!("k{index}"), Value::from(0));
    }
    let valid = with_undocumented_keys(0);
    data.extend(valid.as_object().expect("an object").clone());
    let violations = validate(Operation::AcuseReciboFev, &Value::Object(data));
    assert!(violations.iter().all(|v| v.keyword() != "required"));
    assert_eq!(violations[0].keyword(), "workBudget");
}
