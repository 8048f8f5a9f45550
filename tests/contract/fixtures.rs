//! Every fixture against the schema its folder names, every example the operation table
//! names against the request or answer it illustrates, and every schema file embedded.
//!
//! Layout: `fixtures/<provider>/<schema-stem>/{valid,invalid}/*.json`, where
//! `<provider>/<schema-stem>` is the name of an embedded schema. Files that are not JSON
//! (`fixtures/sovos/reports/*.csv`) are skipped; a JSON file anywhere else is an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use einvoice_mock::internals::contract::SCHEMA_FILES;
use einvoice_mock::{validate, Contract, Example, Operation, OperationSpec, OPERATIONS};
use serde_json::Value;

use super::support::{fixture, fixtures_dir, read_json, schemas_dir};

/// Whether a fixture must conform or must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    Valid,
    Invalid,
}

/// A JSON fixture in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fixture {
    schema: String,
    expectation: Expectation,
}

/// Where a file under `fixtures/` belongs: `Ok(None)` for a file the walker skips (not
/// JSON), `Err` for a JSON file outside the layout.
fn classify(relative: &Path, schema_names: &BTreeSet<&str>) -> Result<Option<Fixture>, String> {
    if relative.extension().and_then(|e| e.to_str()) != Some("json") {
        return Ok(None);
    }
    let parts: Vec<&str> = relative.iter().filter_map(|part| part.to_str()).collect();
    let [provider, stem, class, _file] = parts.as_slice() else {
        return Err(format!(
            "{}: a JSON fixture must sit in <provider>/<schema>/{{valid,invalid}}/",
            relative.display()
        ));
    };
    let schema = format!("{provider}/{stem}");
    if !schema_names.contains(schema.as_str()) {
        return Err(format!(
            "{}: `{schema}` names no schema",
            relative.display()
        ));
    }
    let expectation = match *class {
        "valid" => Expectation::Valid,
        "invalid" => Expectation::Invalid,
        other => {
            return Err(format!(
                "{}: `{other}` is neither `valid` nor `invalid`",
                relative.display()
            ))
        }
    };
    Ok(Some(Fixture {
        schema,
        expectation,
    }))
}

/// Every file below `dir`, recursively, sorted.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", current.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn schema_names() -> BTreeSet<&'static str> {
    SCHEMA_FILES.iter().map(|(name, _)| *name).collect()
}

#[test]
fn every_fixture_conforms_to_its_schema_or_breaks_it_as_its_folder_says() {
    let names = schema_names();
    let root = fixtures_dir();
    let (mut valid, mut invalid, mut misplaced, mut wrong) = (0, 0, Vec::new(), Vec::new());
    for path in files_below(&root) {
        let relative = path.strip_prefix(&root).expect("a path under fixtures/");
        let fixture = match classify(relative, &names) {
            Ok(Some(fixture)) => fixture,
            Ok(None) => continue,
            Err(reason) => {
                misplaced.push(reason);
                continue;
            }
        };
        let violations = Contract::global()
            .validate_schema(&fixture.schema, &read_json(&path))
            .unwrap_or_else(|error| panic!("{}: {error}", relative.display()));
        match fixture.expectation {
            Expectation::Valid => {
                valid += 1;
                if !violations.is_valid() {
                    wrong.push(format!(
                        "{} should conform:\n{violations}",
                        relative.display()
                    ));
                }
            }
            Expectation::Invalid => {
                invalid += 1;
                if violations.is_valid() {
                    wrong.push(format!("{} should break its schema", relative.display()));
                }
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "misplaced fixtures:\n{}",
        misplaced.join("\n")
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        valid > 0 && invalid > 0,
        "found {valid} valid and {invalid} invalid fixtures"
    );
}

/// The examples of `row`, each with what it illustrates (`request` or a status) and the schemas
/// one of which it must conform to (none: a file of the row's success media type).
fn examples_of(row: &OperationSpec) -> Vec<(&Example, String, Vec<&'static str>)> {
    let requests = row
        .request_examples
        .iter()
        .map(|example| (example, "request".to_owned(), vec![row.request_schema()]));
    let answers = row.answers.iter().flat_map(|answer| {
        answer
            .examples
            .iter()
            .map(move |example| (example, answer.status.to_string(), answer.schemas.to_vec()))
    });
    requests.chain(answers).collect()
}

/// Why `example` does not illustrate what it is named for, if it does not: its embedded text
/// is not the file's, it sits in no `valid/` folder of one of `schemas` (the walker above
/// validates it there), or it breaks that schema; an event form's `data` breaks the
/// operation's document schema; a file is not of the row's media type.
fn misnamed(row: &OperationSpec, example: &Example, schemas: &[&str]) -> Option<String> {
    let path = fixtures_dir().join(example.fixture());
    match std::fs::read_to_string(&path) {
        Ok(text) if text == example.text() => {}
        Ok(_) => return Some("its embedded text is not the file's".to_owned()),
        Err(error) => return Some(format!("{error}")),
    }
    if schemas.is_empty() {
        let extension = example.fixture().rsplit('.').next().unwrap_or_default();
        let media_type = row.success_media_type;
        return (example.is_json() || !media_type.ends_with(&format!("/{extension}")))
            .then(|| format!("a file of {media_type} is expected"));
    }
    let schema = match classify(Path::new(example.fixture()), &schema_names()) {
        Ok(Some(Fixture {
            schema,
            expectation: Expectation::Valid,
        })) if schemas.contains(&schema.as_str()) => schema,
        other => return Some(format!("not a valid fixture of {schemas:?}: {other:?}")),
    };
    let value = read_json(&path);
    let violations = Contract::global()
        .validate_schema(&schema, &value)
        .expect("an embedded schema");
    if !violations.is_valid() {
        return Some(format!("breaks {schema}:\n{violations}"));
    }
    if let Some(data) = value.get("data").and_then(Value::as_str) {
        let Ok(document) = serde_json::from_str::<Value>(data) else {
            return Some("its `data` is not JSON".to_owned());
        };
        let violations = validate(row.operation, &document);
        if !violations.is_valid() {
            return Some(format!(
                "its `data` breaks {}:\n{violations}",
                row.payload_schema
            ));
        }
    }
    None
}

#[test]
fn every_example_the_operation_table_names_illustrates_its_request_or_answer() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for row in &OPERATIONS {
        for (example, place, schemas) in examples_of(row) {
            checked += 1;
            if let Some(why) = misnamed(row, example, &schemas) {
                wrong.push(format!(
                    "{} {place}: {}: {why}",
                    row.name,
                    example.fixture()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked > 30, "only {checked} examples in the table");
}

#[test]
fn an_example_is_refused_where_it_illustrates_something_else() {
    let saldos = Operation::Saldos.spec();
    let success = &saldos.answers[0];
    assert_eq!(success.status, 200);
    let csv = Operation::SaldosCsv.spec();
    let report = &csv.answers[0].examples[0];
    let error = &saldos.answers[1].examples[0];
    // A Sovos error shown as saldos's success, a CSV report as saldos's JSON body, a JSON
    // error as the CSV report.
    assert!(misnamed(saldos, error, success.schemas).is_some());
    assert!(misnamed(saldos, report, success.schemas).is_some());
    assert!(misnamed(csv, error, &[]).is_some());
    assert_eq!(misnamed(csv, report, &[]), None);
}

/// The `historico_eventos` request example says it is the CUFE of seed 003's curl example.
#[test]
fn the_historico_request_example_is_the_cufe_of_seed_003s_curl_example() {
    let historico = Operation::HistoricoEventos.spec();
    let example = &historico.request_examples[0];
    let curl = fixture("afacturar/acuse_recibo_fev.data/valid/seed_003_curl.json");
    let cufe = &curl["evento"][0]["informacion_documento_referencia"]["cufe"];
    assert!(cufe.is_string());
    assert_eq!(
        serde_json::from_str::<Value>(example.text()).unwrap(),
        serde_json::json!({ "cufe": cufe })
    );
}

#[test]
fn the_walker_skips_files_that_are_not_json() {
    let names = schema_names();
    assert_eq!(
        classify(Path::new("sovos/reports/seed_002_reporte.csv"), &names),
        Ok(None)
    );
}

#[test]
fn the_walker_rejects_a_json_file_in_a_folder_that_names_no_schema() {
    let names = schema_names();
    for misplaced in [
        "sovos/reports/seed_002_reporte.json",
        "afacturar/acuse_recibo_fev/valid/x.json",
        "afacturar/acuse_recibo_fev.data/x.json",
        "afacturar/acuse_recibo_fev.data/maybe/x.json",
        "afacturar/acuse_recibo_fev.data/valid/nested/x.json",
        "x.json",
    ] {
        assert!(
            classify(Path::new(misplaced), &names).is_err(),
            "{misplaced} should be reported as misplaced"
        );
    }
}

#[test]
fn the_walker_reads_the_schema_and_the_expectation_from_the_folders() {
    let names = schema_names();
    assert_eq!(
        classify(
            Path::new("afacturar/acuse_recibo_fev.data/invalid/x.json"),
            &names
        ),
        Ok(Some(Fixture {
            schema: "afacturar/acuse_recibo_fev.data".to_owned(),
            expectation: Expectation::Invalid,
        }))
    );
    assert_eq!(
        classify(Path::new("sovos/saldos.request/valid/x.json"), &names),
        Ok(Some(Fixture {
            schema: "sovos/saldos.request".to_owned(),
            expectation: Expectation::Valid,
        }))
    );
}

#[test]
fn every_file_under_schemas_is_embedded_and_nothing_else_is() {
    let root = schemas_dir();
    let on_disk: BTreeSet<String> = files_below(&root)
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).expect("a path under schemas/");
            let text = relative.to_str().expect("a UTF-8 path").replace('\\', "/");
            text.strip_suffix(".json")
                .unwrap_or_else(|| panic!("schemas/{text} is not a .json file"))
                .to_owned()
        })
        .collect();
    let embedded: BTreeSet<String> = SCHEMA_FILES
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert!(!embedded.is_empty(), "no schema is embedded");
    assert_eq!(on_disk, embedded, "schemas/ and SCHEMA_FILES differ");
    assert_eq!(
        embedded.len(),
        SCHEMA_FILES.len(),
        "a schema is embedded twice"
    );
}

#[test]
fn the_embedded_schemas_are_the_files_on_disk() {
    for (name, text) in SCHEMA_FILES {
        let on_disk = std::fs::read_to_string(schemas_dir().join(format!("{name}.json")))
            .unwrap_or_else(|error| panic!("schemas/{name}.json: {error}"));
        assert_eq!(
            *text, on_disk,
            "schemas/{name}.json differs from its embedded copy"
        );
    }
}

#[test]
fn the_contract_compiles_and_names_every_embedded_schema() {
    let contract = Contract::compile().expect("the embedded schemas compile");
    let names: BTreeSet<&str> = contract.schema_names().collect();
    assert!(!names.is_empty());
    assert_eq!(names, schema_names());
}

#[test]
fn every_operation_validates_against_an_embedded_schema() {
    let names = schema_names();
    for operation in Operation::ALL {
        assert!(names.contains(operation.payload_schema()), "{operation}");
        if let Some(form) = operation.form_schema() {
            assert!(names.contains(form), "{operation}");
        }
    }
}

#[test]
fn an_unknown_schema_name_is_an_error_not_a_pass() {
    let result =
        Contract::global().validate_schema("afacturar/no_such_schema", &serde_json::json!({}));
    assert!(result.is_err());
}
