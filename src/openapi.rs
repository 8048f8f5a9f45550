//! The OpenAPI 3.1 document of the operations, generated from the operation table and the
//! embedded schemas.
//!
//! `einvoice-mock openapi` prints it; `openapi/openapi.json` is the checked-in copy, kept in
//! sync by a test. Nothing here is written by hand twice, and nothing names an operation:
//!
//! - The paths, texts, request bodies and responses are each row of the operation table
//!   (`contract/operations.rs`): its request schema and examples, and per documented status
//!   its description, response schemas and examples. What is the provider's and not the
//!   operation's is here: Afacturar's form encodings and error-table wording, its 400 (the
//!   semantic 400 the fake answers to a form it cannot use), Sovos's JSON bodies, report
//!   attachments and 415.
//! - `components.schemas` are the embedded schemas ([`SCHEMA_FILES`]) converted for OpenAPI
//!   3.1 (JSON Schema 2020-12): `$id` and `$schema` dropped, the `$defs` of
//!   `common/defs.json` hoisted to components of their own (`common.cufe` …), and every
//!   cross-file `$ref` (`../common/defs.json#/$defs/cufe`) rewritten to
//!   `#/components/schemas/…`. A schema `afacturar/acuse_recibo_fev.data` becomes the component
//!   `afacturar.acuse_recibo_fev.data`.
//! - Examples are the fixtures the table names (embedded there) and, for the documented codes
//!   no fixture shows, the bodies the fake itself answers ([`documented_response`],
//!   [`SovosError::body`]).
//!
//! The two reports are two concrete paths (`/api/rest/Timbre/saldos/pdf` and `…/csv`), one
//! operation each, rather than `/saldos/{formato}`: each has exactly one success media type,
//! the operation ids are the operation names, and a fuzzer cannot wander into path segments
//! such as `..` that clients normalise away.

use serde_json::{json, Map, Value};

use crate::contract::{
    DocumentedStatus, Example, FormError, Operation, OperationSpec, Provider, SCHEMA_FILES,
};
use crate::render::afacturar::body::{
    answered_code as afacturar_answered_code, documented_response, resultado_for_form_error,
    semantic_error, table_estado, Meta,
};
use crate::render::sovos::errors::{answered_code as sovos_answered_code, SovosError};

/// The server the document points at: `einvoice-mock serve` with its default host and port.
pub const SERVER_URL: &str = "http://127.0.0.1:8787";

/// The OpenAPI version the document declares.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// How the checked-in copy is regenerated.
pub const REGENERATE: &str = "cargo run -- openapi > openapi/openapi.json";

/// The base of every embedded schema's `$id` (see `contract/engine.rs`).
const SCHEMA_BASE_URI: &str = "https://einvoice-mock.local/schemas/";

/// The document could not be generated: an embedded schema or fixture is unusable.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// An embedded schema or fixture is not valid JSON.
    #[error("`{name}` is not valid JSON")]
    Json {
        /// The schema's name or the fixture's path.
        name: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// An embedded schema is not a JSON object.
    #[error("schema `{0}` is not a JSON object")]
    NotAnObject(String),
    /// A `$ref` points outside the embedded schemas, or at something other than a schema or
    /// one of its `$defs`.
    #[error("schema `{schema}`: cannot rewrite `$ref` `{reference}` for OpenAPI")]
    Reference {
        /// The schema holding the reference.
        schema: String,
        /// The reference as written.
        reference: String,
    },
    /// A documented response the provider modules do not produce.
    #[error("no documented response for code `{0}`")]
    Undocumented(String),
    /// An answer of the operation table has no description, and its provider no wording for
    /// its status.
    #[error("{operation}: the answer with status {status} has no description")]
    Undescribed {
        /// The operation's name.
        operation: &'static str,
        /// The answer's status.
        status: u16,
    },
}

/// An OpenAPI Example Object, under its name among its siblings.
type NamedExample = (String, Value);

/// An OpenAPI Example Object holding `example`, under its name: the fixture's JSON document,
/// or its text (a CSV report).
fn example_object(example: &Example) -> Result<NamedExample, OpenApiError> {
    let value = if example.is_json() {
        serde_json::from_str(example.text()).map_err(|source| OpenApiError::Json {
            name: format!("fixtures/{}", example.fixture()),
            source,
        })?
    } else {
        Value::String(example.text().to_owned())
    };
    let summary = example
        .summary()
        .map_or_else(|| format!("fixtures/{}", example.fixture()), str::to_owned);
    Ok((
        example.name().to_owned(),
        json!({ "summary": summary, "value": value }),
    ))
}

/// The Example Objects of `examples`, in their order.
fn example_objects(examples: &[Example]) -> Result<Vec<NamedExample>, OpenApiError> {
    examples.iter().map(example_object).collect()
}

/// The OpenAPI document, as a JSON value.
pub fn document() -> Result<Value, OpenApiError> {
    let mut paths = Map::new();
    for operation in Operation::ALL {
        paths.insert(
            operation.path().to_owned(),
            json!({ "post": path_item_operation(operation)? }),
        );
    }
    Ok(json!({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "einvoice-mock: Afacturar RADIAN and Sovos Mexico",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": format!("The {} documented operations of Afacturar (Colombia, DIAN RADIAN events) and Sovos Mexico (Reachcore stamping balance), as einvoice-mock serves them.", operation_count()),
            "description": format!(
                "Generated from the JSON Schemas under `schemas/` and the fixtures under `fixtures/` by `einvoice-mock openapi`; do not edit `openapi/openapi.json` by hand, regenerate it: `{REGENERATE}`. The decisions taken where the provider documents are silent or contradict themselves are in `docs/contract-notes.md`."
            ),
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" }
        },
        "servers": [
            { "url": SERVER_URL, "description": "einvoice-mock serve (default host and port)" }
        ],
        "tags": [
            { "name": "Afacturar", "description": "Afacturar RADIAN (Colombia): Bearer token, form bodies, errors as {codigo_error, descripcion_error}." },
            { "name": "Sovos", "description": "Sovos Mexico (Reachcore): RCApiKey header, JSON bodies, errors as {errors: [{Code, Message}]}." }
        ],
        "paths": paths,
        "components": {
            "schemas": component_schemas()?,
            "securitySchemes": {
                "afacturarBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Afacturar: `Authorization: Bearer <token>`. The fake accepts any non-empty token unless `[afacturar] tokens` lists them."
                },
                "sovosApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "RCApiKey",
                    "description": "Sovos: the account's API key. The fake accepts any non-empty key unless `[sovos] api_keys` lists them."
                }
            }
        }
    }))
}

/// How many operations the table has, in words (the document's summary and `openapi`'s help
/// say it).
pub fn operation_count() -> String {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let count = Operation::ALL.len();
    WORDS
        .get(count)
        .map_or_else(|| count.to_string(), |word| (*word).to_owned())
}

/// The document as printed by `einvoice-mock openapi`: pretty JSON and a final newline.
pub fn render() -> Result<String, OpenApiError> {
    let document = document()?;
    let mut text =
        serde_json::to_string_pretty(&document).map_err(|source| OpenApiError::Json {
            name: "openapi".to_owned(),
            source,
        })?;
    text.push('\n');
    Ok(text)
}

/// The component name of an embedded schema: `afacturar/x.y` → `afacturar.x.y`.
pub fn component_name(schema: &str) -> String {
    schema.replace('/', ".")
}

/// The component name of `$defs/<def>` of an embedded schema. The definitions of a file
/// called `defs` are named after its folder: `common/defs` `cufe` → `common.cufe`.
fn def_component_name(schema: &str, def: &str) -> String {
    match schema.rsplit_once('/') {
        Some((folder, "defs")) => format!("{}.{def}", component_name(folder)),
        _ => format!("{}.{def}", component_name(schema)),
    }
}

/// A reference to a component schema.
fn schema_ref(schema: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", component_name(schema)) })
}

/// The embedded schemas as OpenAPI 3.1 components.
fn component_schemas() -> Result<Map<String, Value>, OpenApiError> {
    let mut components = Map::new();
    for (name, text) in SCHEMA_FILES {
        let mut schema: Value =
            serde_json::from_str(text).map_err(|source| OpenApiError::Json {
                name: format!("schemas/{name}.json"),
                source,
            })?;
        convert(name, &mut schema)?;
        let Value::Object(mut object) = schema else {
            return Err(OpenApiError::NotAnObject((*name).to_owned()));
        };
        if let Some(Value::Object(defs)) = object.remove("$defs") {
            for (def, value) in defs {
                components.insert(def_component_name(name, &def), value);
            }
        }
        // A file of definitions only (`common/defs`) has nothing left to be a schema of its own.
        let is_schema = object
            .keys()
            .any(|key| !matches!(key.as_str(), "title" | "description" | "$comment"));
        if is_schema {
            components.insert(component_name(name), Value::Object(object));
        }
    }
    Ok(components)
}

/// Drops `$id` and `$schema` everywhere in `schema` and rewrites its `$ref`s to components.
fn convert(name: &str, schema: &mut Value) -> Result<(), OpenApiError> {
    match schema {
        Value::Object(object) => {
            object.remove("$id");
            object.remove("$schema");
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                *reference =
                    component_ref(name, reference).ok_or_else(|| OpenApiError::Reference {
                        schema: name.to_owned(),
                        reference: reference.clone(),
                    })?;
            }
            for value in object.values_mut() {
                convert(name, value)?;
            }
        }
        Value::Array(items) => {
            for value in items {
                convert(name, value)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The component reference of `reference`, written in the embedded schema `current`.
fn component_ref(current: &str, reference: &str) -> Option<String> {
    if reference.starts_with("#/components/") {
        return Some(reference.to_owned());
    }
    let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    let target = if file.is_empty() {
        current.to_owned()
    } else {
        resolve(current, file)?
    };
    if !SCHEMA_FILES.iter().any(|(name, _)| *name == target) {
        return None;
    }
    let component = match fragment {
        "" | "/" => component_name(&target),
        pointer => {
            let def = pointer.strip_prefix("/$defs/")?;
            if def.contains('/') || def.contains('~') {
                return None;
            }
            def_component_name(&target, def)
        }
    };
    Some(format!("#/components/schemas/{component}"))
}

/// The embedded schema name `file` points at, relative to the schema `current`.
fn resolve(current: &str, file: &str) -> Option<String> {
    let file = file.strip_suffix(".json")?;
    if let Some(absolute) = file.strip_prefix(SCHEMA_BASE_URI) {
        return Some(absolute.to_owned());
    }
    let mut segments: Vec<&str> = current.split('/').collect();
    segments.pop();
    for segment in file.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            other => segments.push(other),
        }
    }
    Some(segments.join("/"))
}

/// A response with a JSON body that is one of `schemas`.
fn json_response(description: &str, schemas: &[&str], examples: Vec<NamedExample>) -> Value {
    let schema = match schemas {
        [one] => schema_ref(one),
        many => json!({ "anyOf": many.iter().map(|s| schema_ref(s)).collect::<Vec<_>>() }),
    };
    let mut media = Map::new();
    media.insert("schema".to_owned(), schema);
    if !examples.is_empty() {
        media.insert(
            "examples".to_owned(),
            Value::Object(examples.into_iter().collect()),
        );
    }
    json!({
        "description": description,
        "content": { "application/json": media }
    })
}

/// The OpenAPI Operation Object of `operation`.
fn path_item_operation(operation: Operation) -> Result<Value, OpenApiError> {
    let spec = operation.spec();
    let (tag, security) = match spec.provider {
        Provider::Afacturar => ("Afacturar", json!([{ "afacturarBearer": [] }])),
        Provider::Sovos => ("Sovos", json!([{ "sovosApiKey": [] }])),
    };
    Ok(json!({
        "operationId": spec.name,
        "tags": [tag],
        "summary": spec.summary,
        "description": spec.description,
        "security": security,
        "parameters": [accept_header(spec)],
        "requestBody": request_body(spec)?,
        "responses": responses(spec)?,
    }))
}

/// The `Accept` header the documents' examples send. OpenAPI tools ignore a header parameter
/// named `Accept`; it is listed for readers.
fn accept_header(spec: &OperationSpec) -> Value {
    json!({
        "name": "Accept",
        "in": "header",
        "required": false,
        "description": "What the client accepts; seed 003's curl sends `Accept: application/json`. The fake answers the documented media type whatever it says.",
        "schema": { "type": "string" },
        "example": spec.success_media_type,
    })
}

/// The request body: Afacturar's form (with its `data` document, for an event), Sovos's JSON
/// body; the examples are the row's.
fn request_body(spec: &OperationSpec) -> Result<Value, OpenApiError> {
    let examples = Value::Object(
        example_objects(spec.request_examples)?
            .into_iter()
            .collect(),
    );
    let schema = schema_ref(spec.request_schema());
    Ok(match spec.provider {
        Provider::Afacturar if spec.registers_event => {
            // The form schema as embedded, plus what JSON Schema 2020-12 can say of `data`:
            // JSON text whose document is the operation's `data` schema.
            let data = schema_ref(spec.payload_schema);
            let source = spec
                .payload_source
                .map(|passage| format!(" ({passage})"))
                .unwrap_or_default();
            let description = format!(
                "{FORM_DESCRIPTION} The field `data` holds a JSON document (as text) that must conform to `{}`{source}; the field `documento_obligado` is the NIT of the party that sends the event.",
                data["$ref"].as_str().unwrap_or_default()
            );
            form_body(
                vec![
                    schema,
                    json!({
                        "properties": {
                            "data": {
                                "contentMediaType": "application/json",
                                "contentSchema": data,
                            }
                        }
                    }),
                ],
                examples,
                description,
            )
        }
        Provider::Afacturar => form_body(vec![schema], examples, FORM_DESCRIPTION.to_owned()),
        Provider::Sovos => json!({
            "required": true,
            "content": {
                "application/json": { "schema": schema, "examples": examples }
            }
        }),
    })
}

const FORM_DESCRIPTION: &str = "A form: `multipart/form-data` as documented, or `application/x-www-form-urlencoded`, which the real PHP server also takes. Fields beyond the documented ones are ignored (docs/contract-notes.md A3); a repeated field's last value wins (A18).";

/// The name of a multipart part travels in its `Content-Disposition` header, where ASCII
/// control characters other than tab cannot appear (RFC 9110 field values, RFC 7578); a part
/// named so is a malformed body.
const PART_NAME_PATTERN: &str = "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$";

/// An Afacturar request body: the same form as `multipart/form-data` and as
/// `application/x-www-form-urlencoded`. `schemas` are all the form must conform to.
fn form_body(schemas: Vec<Value>, examples: Value, description: String) -> Value {
    let schema = |mut schemas: Vec<Value>| match schemas.len() {
        1 => schemas.pop().unwrap_or_default(),
        _ => json!({ "allOf": schemas }),
    };
    let mut multipart = schemas.clone();
    multipart.push(json!({
        "description": "Part names cannot carry ASCII control characters: they travel in a header.",
        "propertyNames": { "pattern": PART_NAME_PATTERN }
    }));
    json!({
        "required": true,
        "description": description,
        "content": {
            "multipart/form-data": { "schema": schema(multipart), "examples": examples },
            "application/x-www-form-urlencoded": { "schema": schema(schemas), "examples": examples },
        }
    })
}

/// The fixed fields of the bodies generated as examples.
fn example_meta() -> Meta {
    Meta {
        tiempo_ejecucion: 0.05,
        transaccion: "6399e1b8d93e0".to_owned(),
        entorno: "DOCUMENTO_NO_VALIDO".to_owned(),
    }
}

/// The responses: each answer of the row, by status, with the row's examples and then the
/// provider's words for every code the operation documents that no example shows; an answer
/// in JSON that nothing illustrates is left out. The fake's own refusals that the documents do
/// not list are added ([`undocumented_refusals`]).
fn responses(spec: &OperationSpec) -> Result<Value, OpenApiError> {
    let mut shown = Vec::new();
    for answer in spec.answers {
        for example in answer.examples {
            shown.extend(answered_code(spec, answer.status, example));
        }
    }
    let unshown = unshown_code_examples(spec, &shown)?;
    let mut responses = Vec::new();
    for answer in spec.answers {
        let mut examples = example_objects(answer.examples)?;
        examples.extend(
            unshown
                .iter()
                .filter(|(status, _)| *status == answer.status)
                .map(|(_, example)| example.clone()),
        );
        if examples.is_empty() {
            examples.extend(form_refusal_example(spec, answer.status));
        }
        let is_file = answer.schemas.is_empty();
        if examples.is_empty() && !is_file {
            continue;
        }
        let (description, schemas) = described(spec, answer)?;
        let response = if is_file {
            file_response(&description, spec.success_media_type, examples)
        } else {
            json_response(&description, schemas, examples)
        };
        responses.push((answer.status, response));
    }
    responses.extend(undocumented_refusals(spec));
    responses.sort_by_key(|(status, _)| *status);
    Ok(Value::Object(
        responses
            .into_iter()
            .map(|(status, response)| (status.to_string(), response))
            .collect(),
    ))
}

/// The code a fixture of the answer with `status` shows, as a scenario names it.
fn answered_code(spec: &OperationSpec, status: u16, example: &Example) -> Option<&'static str> {
    let body = example.text().as_bytes();
    match spec.provider {
        Provider::Afacturar => afacturar_answered_code(spec.operation, status, body),
        Provider::Sovos => sovos_answered_code(spec.operation, status, body),
    }
}

/// The body the fake answers for each code the operation documents and no example shows
/// (what a scenario arms), with its status.
fn unshown_code_examples(
    spec: &OperationSpec,
    shown: &[&str],
) -> Result<Vec<(u16, NamedExample)>, OpenApiError> {
    let operation = spec.operation;
    let unshown = spec
        .documented_codes
        .iter()
        .filter(|code| !shown.contains(code));
    let meta = example_meta();
    let mut examples = Vec::new();
    for &code in unshown {
        let example = match spec.provider {
            Provider::Afacturar => {
                let (status, body) = documented_response(operation, code, &meta)
                    .ok_or_else(|| OpenApiError::Undocumented(code.to_owned()))?;
                let codigo = code.parse().unwrap_or(status);
                (
                    status,
                    (
                        format!("codigo_{code}"),
                        json!({
                            "summary": format!("Error table row {code} ({}); `POST /__admin/scenarios` with `\"respond\": \"{code}\"` arms it", table_estado(codigo)),
                            "value": body,
                        }),
                    ),
                )
            }
            Provider::Sovos => {
                let error = SovosError::documented(code, operation)
                    .ok_or_else(|| OpenApiError::Undocumented(code.to_owned()))?;
                (
                    error.status(),
                    (
                        format!("code_{code}"),
                        json!({ "summary": format!("{code} ({error:?})"), "value": error.body() }),
                    ),
                )
            }
        };
        examples.push(example);
    }
    Ok(examples)
}

/// Afacturar answers a form without its required fields (or a body that is no usable form)
/// with the semantic 400 (docs/contract-notes.md A12, A31, A33): the example of a 400 nothing
/// else shows.
fn form_refusal_example(spec: &OperationSpec, status: u16) -> Option<NamedExample> {
    if spec.provider != Provider::Afacturar || status != 400 || spec.required_form_fields.is_empty()
    {
        return None;
    }
    let fields = spec.required_form_fields;
    let resultado = resultado_for_form_error(&FormError::MissingFields(fields.to_vec()));
    let named: Vec<String> = fields.iter().map(|field| format!("`{field}`")).collect();
    Some((
        "form_error".to_owned(),
        json!({
            "summary": format!("A form without {} (or a body that is not a usable form): the semantic-400 shape, as the fake answers it (docs/contract-notes.md A12, A31, A33)", named.join(", ")),
            "value": semantic_error(resultado, &example_meta()),
        }),
    ))
}

/// What OpenAPI says of an answer, and the schemas it shows for its body.
fn described(
    spec: &OperationSpec,
    answer: &DocumentedStatus,
) -> Result<(String, &'static [&'static str]), OpenApiError> {
    let status = answer.status;
    if let Some(description) = answer.description {
        return Ok((description.to_owned(), answer.schemas));
    }
    match (spec.provider, status) {
        (Provider::Afacturar, _) => Ok((
            format!(
                "Error table row {status} ({}); HTTP status = codigo_error, body as in docs/contract-notes.md A10, A11.",
                table_estado(status)
            ),
            answer.schemas,
        )),
        (Provider::Sovos, _) => Err(OpenApiError::Undescribed {
            operation: spec.name,
            status,
        }),
    }
}

/// A response with a file body of `media_type`, sent as an attachment.
fn file_response(description: &str, media_type: &str, examples: Vec<NamedExample>) -> Value {
    let mut media = Map::new();
    media.insert(
        "schema".to_owned(),
        json!({ "type": "string", "contentMediaType": media_type }),
    );
    if !examples.is_empty() {
        media.insert(
            "examples".to_owned(),
            Value::Object(examples.into_iter().collect()),
        );
    }
    let mut content = Map::new();
    content.insert(media_type.to_owned(), Value::Object(media));
    json!({
        "description": description,
        "headers": {
            "Content-Disposition": {
                "description": "`attachment; filename=\"ReporteConsumo_<yyyy-mm>.<pdf|csv>\"`.",
                "required": true,
                "schema": { "type": "string", "pattern": "^attachment; filename=" }
            }
        },
        "content": content,
    })
}

/// The fake's own refusals that the provider's documents do not list, which it answers on
/// every operation: Sovos's 415 for a body that is not JSON (docs/contract-notes.md S4).
/// Afacturar's 415 is a row of its error table.
fn undocumented_refusals(spec: &OperationSpec) -> Vec<(u16, Value)> {
    match spec.provider {
        Provider::Afacturar => Vec::new(),
        Provider::Sovos => vec![(
            415,
            json_response(
                "The body is not `application/json` (docs/contract-notes.md S4).",
                &["sovos/errors"],
                vec![(
                    "code_415".to_owned(),
                    json!({ "summary": "415", "value": SovosError::NotJson.body() }),
                )],
            ),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_relative_to_the_schema() {
        assert_eq!(
            component_ref("afacturar/x", "../common/defs.json#/$defs/cufe").as_deref(),
            Some("#/components/schemas/common.cufe")
        );
        assert_eq!(
            component_ref("sovos/saldos.request", "errors.json").as_deref(),
            Some("#/components/schemas/sovos.errors")
        );
        assert_eq!(
            component_ref(
                "sovos/errors",
                "https://einvoice-mock.local/schemas/common/defs.json#/$defs/rfc"
            )
            .as_deref(),
            Some("#/components/schemas/common.rfc")
        );
        assert_eq!(component_ref("afacturar/x", "../../x.json"), None);
        assert_eq!(component_ref("afacturar/x", "../common/nope.json"), None);
        assert_eq!(
            component_ref("afacturar/x", "../common/defs.json#/properties/a"),
            None
        );
    }
}
