//! The OpenAPI document (`einvoice-mock openapi`, `openapi/openapi.json`) and `--log-format`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use einvoice_mock::internals::contract::{Contract, Operation, SCHEMA_FILES};
use einvoice_mock::internals::openapi::{self, component_name, OPENAPI_VERSION, REGENERATE};
use einvoice_mock::FakeProvider;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_einvoice-mock");
const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

fn checked_in() -> String {
    std::fs::read_to_string(CHECKED_IN)
        .unwrap_or_else(|e| panic!("{CHECKED_IN}: {e}; regenerate it with `{REGENERATE}`"))
        .replace("\r\n", "\n")
}

fn document() -> Value {
    serde_json::from_str(&checked_in()).expect("openapi/openapi.json is JSON")
}

/// The rust-analyzer codegen pattern: the generated file is checked in, and this test fails
/// when it is stale.
#[test]
fn the_checked_in_document_is_the_generated_one() {
    let generated = openapi::render().expect("the document generates");
    let file = checked_in();
    if generated != file {
        let line = generated
            .lines()
            .zip(file.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || generated.lines().count().min(file.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "openapi/openapi.json is out of date (first difference at line {line}).\n\
             Regenerate it with:\n\n    {REGENERATE}\n"
        );
    }
}

#[test]
fn the_binary_prints_the_generated_document() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        openapi::render().unwrap()
    );
}

fn operations(document: &Value) -> Vec<(&str, &str, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((path.as_str(), method.as_str(), operation));
        }
    }
    found
}

#[test]
fn the_document_is_openapi_3_1_with_every_operation() {
    let document = document();
    assert_eq!(document["openapi"], OPENAPI_VERSION);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "http://127.0.0.1:8787");
    let operations = operations(&document);
    assert_eq!(operations.len(), Operation::ALL.len());
    for operation in Operation::ALL {
        let (_, method, described) = operations
            .iter()
            .find(|(path, _, _)| *path == operation.path())
            .unwrap_or_else(|| panic!("{} is missing", operation.path()));
        assert_eq!(*method, "post");
        assert_eq!(described["operationId"], operation.name());
        let scheme = if operation.is_form() {
            "afacturarBearer"
        } else {
            "sovosApiKey"
        };
        assert!(
            described["security"][0].get(scheme).is_some(),
            "{operation}"
        );
        assert!(described["responses"]["200"].is_object(), "{operation}");
        assert!(described["responses"]["401"].is_object(), "{operation}");
        assert!(described["responses"]["415"].is_object(), "{operation}");
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["afacturarBearer"]["scheme"], "bearer");
    assert_eq!(schemes["sovosApiKey"]["name"], "RCApiKey");
    assert_eq!(schemes["sovosApiKey"]["in"], "header");
}

#[test]
fn form_operations_take_both_form_encodings_and_sovos_takes_json() {
    let document = document();
    for (path, _, operation) in operations(&document) {
        let content = operation["requestBody"]["content"].as_object().unwrap();
        let media: BTreeSet<&str> = content.keys().map(String::as_str).collect();
        if path.starts_with("/api/radian/") {
            assert_eq!(
                media,
                BTreeSet::from(["application/x-www-form-urlencoded", "multipart/form-data"]),
                "{path}"
            );
        } else {
            assert_eq!(media, BTreeSet::from(["application/json"]), "{path}");
        }
    }
    let reports = [
        ("/api/rest/Timbre/saldos/pdf", "application/pdf"),
        ("/api/rest/Timbre/saldos/csv", "text/csv"),
    ];
    for (path, media) in reports {
        let ok = &document["paths"][path]["post"]["responses"]["200"];
        assert!(ok["content"][media].is_object(), "{path}");
        assert_eq!(ok["headers"]["Content-Disposition"]["required"], true);
    }
}

fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                refs.push(reference);
            }
            object.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves_inside_the_document() {
    let document = document();
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(refs.len() > 40, "only {} $refs", refs.len());
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("`{reference}` points outside the document"));
        assert!(
            document.pointer(pointer).is_some(),
            "`{reference}` does not resolve"
        );
    }
}

#[test]
fn components_are_the_embedded_schemas_without_ids() {
    let document = document();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for (name, _) in SCHEMA_FILES.iter().filter(|(n, _)| *n != "common/defs") {
        assert!(
            schemas.contains_key(&component_name(name)),
            "{name} is missing"
        );
    }
    assert!(schemas.contains_key("common.cufe"));
    let valid_name = regex::Regex::new(r"^[a-zA-Z0-9._-]+$").unwrap();
    for (name, schema) in schemas {
        assert!(valid_name.is_match(name), "component name `{name}`");
        let text = schema.to_string();
        for keyword in ["\"$id\"", "\"$schema\"", "\"$defs\""] {
            assert!(!text.contains(keyword), "{name} still has {keyword}");
        }
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        for reference in refs {
            assert!(
                reference.starts_with("#/components/schemas/"),
                "{name}: `{reference}`"
            );
        }
    }
}

/// The embedded schema names a schema object of the document stands for: its `$ref`s to
/// components that are whole embedded schemas.
fn schema_names(schema: &Value) -> Vec<&'static str> {
    let mut refs = Vec::new();
    collect_refs(schema, &mut refs);
    refs.iter()
        .filter_map(|reference| reference.strip_prefix("#/components/schemas/"))
        .filter_map(|component| {
            SCHEMA_FILES
                .iter()
                .map(|(name, _)| *name)
                .find(|name| component_name(name) == component)
        })
        .collect()
}

#[test]
fn every_json_example_conforms_to_its_schema() {
    let document = document();
    let contract = Contract::global();
    let mut checked = 0;
    for (path, _, operation) in operations(&document) {
        let mut media_objects = Vec::new();
        for media in operation["requestBody"]["content"]
            .as_object()
            .unwrap()
            .values()
        {
            media_objects.push(("request", media));
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if let Some(media) = response["content"].get("application/json") {
                media_objects.push((status.as_str(), media));
            }
        }
        for (place, media) in media_objects {
            // A request body's schema is the form (or JSON) schema, then the `data` document's.
            let names = schema_names(&media["schema"]);
            let alternatives: Vec<&str> = if place == "request" {
                names.iter().take(1).copied().collect()
            } else {
                names
            };
            assert!(!alternatives.is_empty(), "{path} {place}: no schema");
            let examples = media["examples"].as_object();
            assert!(examples.is_some(), "{path} {place}: no examples");
            for (key, example) in examples.into_iter().flatten() {
                let value = &example["value"];
                let conforms = alternatives
                    .iter()
                    .any(|name| contract.validate_schema(name, value).unwrap().is_valid());
                assert!(
                    conforms,
                    "{path} {place} example {key}: not one of {alternatives:?}"
                );
                if let Some(data) = value.get("data").and_then(Value::as_str) {
                    let data: Value = serde_json::from_str(data).unwrap();
                    let operation = Operation::from_path(path).unwrap();
                    assert!(
                        contract.validate(operation, &data).is_valid(),
                        "{path} example {key}: `data` breaks {operation}'s data schema"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} examples checked");
}

/// The examples the fake cannot show from a fixture are checked against what it answers.
#[tokio::test]
async fn the_401_and_415_examples_are_what_the_fake_answers() {
    let document = document();
    let fake = FakeProvider::start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for operation in Operation::ALL {
        let responses = &document["paths"][operation.path()]["post"]["responses"];
        let example = |status: &str| {
            responses[status]["content"]["application/json"]["examples"]
                .as_object()
                .and_then(|examples| examples.values().next())
                .map(|example| example["value"].clone())
                .unwrap()
        };
        let url = format!("{}{}", fake.uri(), operation.path());

        let anonymous = client.post(&url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{operation}");
        let body: Value = anonymous.json().await.unwrap();
        assert_eq!(body, example("401"), "{operation}");

        let plain = client
            .post(&url)
            .header("Authorization", "Bearer t")
            .header("RCApiKey", "k")
            .header("Content-Type", "text/plain")
            .body("MesConsulta=2019-11")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 415, "{operation}");
        let body: Value = plain.json().await.unwrap();
        assert_eq!(body, example("415"), "{operation}");
    }
}

/// `--log-format json`: stdout's first line is unchanged, stderr carries JSON lines.
#[test]
fn log_format_json_writes_json_lines_on_stderr() {
    let mut child = Command::new(BIN)
        .args(["--log-format", "json", "serve", "--port", "0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let mut log = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut log)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    let line: Value = serde_json::from_str(&log)
        .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {log}"));
    assert_eq!(line["level"], "INFO", "{log}");
    assert!(line["fields"]["message"].is_string(), "{log}");
}

#[test]
fn log_format_is_a_global_option_and_refuses_unknown_formats() {
    let output = Command::new(BIN)
        .args(["openapi", "--log-format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let output = Command::new(BIN)
        .args(["--log-format", "xml", "openapi"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("xml"));
}
