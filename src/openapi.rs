//! The OpenAPI 3.1 document of the eight operations, generated from the embedded schemas.
//!
//! `einvoice-mock openapi` prints it; `openapi/openapi.json` is the checked-in copy, kept in
//! sync by a test. Nothing here is written by hand twice:
//!
//! - `components.schemas` are the embedded schemas ([`SCHEMA_FILES`]) converted for OpenAPI
//!   3.1 (JSON Schema 2020-12): `$id` and `$schema` dropped, the `$defs` of
//!   `common/defs.json` hoisted to components of their own (`common.cufe` …), and every
//!   cross-file `$ref` (`../common/defs.json#/$defs/cufe`) rewritten to
//!   `#/components/schemas/…`. A schema `afacturar/acuse_recibo_fev.data` becomes the component
//!   `afacturar.acuse_recibo_fev.data`.
//! - Examples are the fixtures (`fixtures/**/valid/*.json`, embedded with `include_str!`) and,
//!   for the documented responses without a fixture, the bodies the fake itself answers
//!   ([`documented_response`], [`SovosError::body`]).
//!
//! The two reports are two concrete paths (`/api/rest/Timbre/saldos/pdf` and `…/csv`), one
//! operation each, rather than `/saldos/{formato}`: each has exactly one success media type,
//! the operation ids are the eight operation names, and a fuzzer cannot wander into path
//! segments such as `..` that clients normalise away.

use serde_json::{json, Map, Value};

use crate::contract::FormError;
use crate::contract::{Operation, Provider, SCHEMA_FILES};
use crate::render::afacturar::body::{
    documented_codes, documented_response, resultado_for_form_error, semantic_error, table_estado,
    Meta,
};
use crate::render::sovos::errors::SovosError;

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
}

/// A fixture embedded in the binary.
struct Fixture {
    /// Its path under `fixtures/`.
    path: &'static str,
    /// Its text.
    text: &'static str,
}

macro_rules! fixture {
    ($path:literal) => {
        Fixture {
            path: $path,
            text: include_str!(concat!("../fixtures/", $path)),
        }
    };
}

const HISTORICO_SUCCESS: Fixture =
    fixture!("afacturar/historico_eventos.success/valid/seed_001_salida_exitosa.json");
const HISTORICO_SIN_EVENTOS: Fixture =
    fixture!("afacturar/historico_eventos.sin_eventos/valid/seed_001_sin_eventos.json");
const ACUSE_SUCCESS: Fixture =
    fixture!("afacturar/acuse_recibo_fev.success/valid/seed_003_salida_exitosa.json");
const ACUSE_DIAN_ERROR: Fixture =
    fixture!("afacturar/acuse_recibo_fev.dian_error/valid/seed_003_error_dian.json");
const ACUSE_SEMANTIC_ERROR: Fixture =
    fixture!("afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json");
const ACUSE_DATA_ERROR: Fixture =
    fixture!("afacturar/acuse_recibo_fev.data_error/valid/seed_003_errores_de_datos.json");
const ACUSE_FORM_CURL: Fixture =
    fixture!("afacturar/acuse_recibo_fev.request/valid/seed_003_curl_form.json");
const ACUSE_FORM_CSHARP: Fixture =
    fixture!("afacturar/acuse_recibo_fev.request/valid/seed_003_csharp_form.json");
const ACUSE_DATA_CURL: Fixture =
    fixture!("afacturar/acuse_recibo_fev.data/valid/seed_003_curl.json");
const RECIBO_FORM: Fixture =
    fixture!("afacturar/recibo_bien_servicio.request/valid/formulario.json");
const RECLAMO_FORM: Fixture = fixture!("afacturar/reclamo.request/valid/formulario.json");
const LECTOR_FORM: Fixture =
    fixture!("afacturar/lector_cufe_tenedor_legitimo.request/valid/un_cufe.json");
const LECTOR_VALIDATION_ERROR: Fixture = fixture!(
    "afacturar/lector_cufe_tenedor_legitimo.validation_error/valid/ejemplo_de_la_pagina.json"
);
const LECTOR_TOKEN_ERROR: Fixture =
    fixture!("afacturar/lector_cufe_tenedor_legitimo.token_error/valid/ejemplo_de_la_pagina.json");
const UNAUTHENTICATED: Fixture =
    fixture!("afacturar/unauthenticated/valid/seed_001_salida_con_errores_de_datos.json");
const HTTP_ERROR: Fixture = fixture!("afacturar/http_error/valid/seed_003_errores_http.json");
const SALDOS_REQUEST_TODOS: Fixture =
    fixture!("sovos/saldos.request/valid/seed_002_todos_los_rfc.json");
const SALDOS_REQUEST_RFC: Fixture =
    fixture!("sovos/saldos.request/valid/seed_002_rfc_especifico.json");
const SALDOS_SUCCESS_TODOS: Fixture =
    fixture!("sovos/saldos.success/valid/seed_002_todos_los_rfc.json");
const SALDOS_SUCCESS_RFC: Fixture =
    fixture!("sovos/saldos.success/valid/seed_002_rfc_especifico.json");
const REPORTE_REQUEST: Fixture = fixture!("sovos/reporte.request/valid/seed_002_reporte.json");
const SOVOS_400_001: Fixture = fixture!("sovos/errors/valid/seed_002_400_001.json");
const SOVOS_400_002: Fixture = fixture!("sovos/errors/valid/seed_002_400_002.json");
const REPORTE_CSV: Fixture = fixture!("sovos/reports/seed_002_reporte.csv");

impl Fixture {
    /// The fixture's name: its file name without the extension.
    fn key(&self) -> &'static str {
        let file = self.path.rsplit('/').next().unwrap_or(self.path);
        file.split('.').next().unwrap_or(file)
    }

    fn value(&self) -> Result<Value, OpenApiError> {
        serde_json::from_str(self.text).map_err(|source| OpenApiError::Json {
            name: format!("fixtures/{}", self.path),
            source,
        })
    }

    /// An OpenAPI Example Object holding the fixture.
    fn example(&self) -> Result<(String, Value), OpenApiError> {
        Ok((
            self.key().to_owned(),
            json!({ "summary": format!("fixtures/{}", self.path), "value": self.value()? }),
        ))
    }
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
            "summary": "The eight documented operations of Afacturar (Colombia, DIAN RADIAN events) and Sovos Mexico (Reachcore stamping balance), as einvoice-mock serves them.",
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
fn json_response(description: &str, schemas: &[&str], examples: Vec<(String, Value)>) -> Value {
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
    let (tag, security) = match operation.provider() {
        Provider::Afacturar => ("Afacturar", json!([{ "afacturarBearer": [] }])),
        Provider::Sovos => ("Sovos", json!([{ "sovosApiKey": [] }])),
    };
    let (summary, description) = texts(operation);
    let responses = match operation.provider() {
        Provider::Afacturar => afacturar_responses(operation)?,
        Provider::Sovos => sovos_responses(operation)?,
    };
    Ok(json!({
        "operationId": operation.name(),
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": security,
        "parameters": [accept_header(operation)],
        "requestBody": request_body(operation)?,
        "responses": responses,
    }))
}

fn texts(operation: Operation) -> (&'static str, &'static str) {
    (operation.spec().summary, operation.spec().description)
}

/// The `Accept` header the documents' examples send. OpenAPI tools ignore a header parameter
/// named `Accept`; it is listed for readers.
fn accept_header(operation: Operation) -> Value {
    let example = operation.spec().success_media_type;
    json!({
        "name": "Accept",
        "in": "header",
        "required": false,
        "description": "What the client accepts; seed 003's curl sends `Accept: application/json`. The fake answers the documented media type whatever it says.",
        "schema": { "type": "string" },
        "example": example,
    })
}

fn request_body(operation: Operation) -> Result<Value, OpenApiError> {
    Ok(match operation {
        Operation::HistoricoEventos => {
            let examples = json!({
                "cufe": {
                    "summary": "A CUFE (the one of seed 003's curl example)",
                    "value": { "cufe": acuse_example_cufe()? }
                }
            });
            form_body(
                vec![schema_ref("afacturar/historico_eventos.request")],
                examples,
                FORM_DESCRIPTION.to_owned(),
            )
        }
        Operation::AcuseReciboFev | Operation::ReciboBienServicio | Operation::Reclamo => {
            let (fixtures, source): (&[&Fixture], &str) = match operation {
                Operation::AcuseReciboFev => (
                    &[&ACUSE_FORM_CURL, &ACUSE_FORM_CSHARP],
                    " (seed 003 'Estructura de JSON de entrada')",
                ),
                Operation::Reclamo => (&[&RECLAMO_FORM], ""),
                _ => (&[&RECIBO_FORM], ""),
            };
            let examples = fixtures
                .iter()
                .map(|fixture| fixture.example())
                .collect::<Result<Map<String, Value>, _>>()?;
            // The form schema as embedded, plus what JSON Schema 2020-12 can say of `data`:
            // JSON text whose document is the operation's `data` schema.
            let name = operation.name();
            let data = schema_ref(&format!("afacturar/{name}.data"));
            let description = format!(
                "{FORM_DESCRIPTION} The field `data` holds a JSON document (as text) that must conform to `{}`{source}; the field `documento_obligado` is the NIT of the party that sends the event.",
                data["$ref"].as_str().unwrap_or_default()
            );
            form_body(
                vec![
                    schema_ref(&format!("afacturar/{name}.request")),
                    json!({
                        "properties": {
                            "data": {
                                "contentMediaType": "application/json",
                                "contentSchema": data,
                            }
                        }
                    }),
                ],
                Value::Object(examples),
                description,
            )
        }
        Operation::LectorCufeTenedorLegitimo => {
            let examples: Map<String, Value> = [LECTOR_FORM.example()?].into_iter().collect();
            form_body(
                vec![schema_ref("afacturar/lector_cufe_tenedor_legitimo.request")],
                Value::Object(examples),
                FORM_DESCRIPTION.to_owned(),
            )
        }
        Operation::Saldos => {
            let examples: Map<String, Value> = [
                SALDOS_REQUEST_TODOS.example()?,
                SALDOS_REQUEST_RFC.example()?,
            ]
            .into_iter()
            .collect();
            json!({
                "required": true,
                "content": {
                    "application/json": {
                        "schema": schema_ref("sovos/saldos.request"),
                        "examples": examples,
                    }
                }
            })
        }
        Operation::SaldosPdf | Operation::SaldosCsv => {
            let examples: Map<String, Value> = [REPORTE_REQUEST.example()?].into_iter().collect();
            json!({
                "required": true,
                "content": {
                    "application/json": {
                        "schema": schema_ref("sovos/reporte.request"),
                        "examples": examples,
                    }
                }
            })
        }
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

/// The CUFE of seed 003's curl example, for the `historico_eventos` request example.
fn acuse_example_cufe() -> Result<Value, OpenApiError> {
    Ok(ACUSE_DATA_CURL.value()?["evento"][0]["informacion_documento_referencia"]["cufe"].clone())
}

/// The fixed fields of the bodies generated as examples.
fn example_meta() -> Meta {
    Meta {
        tiempo_ejecucion: 0.05,
        transaccion: "6399e1b8d93e0".to_owned(),
        entorno: "DOCUMENTO_NO_VALIDO".to_owned(),
    }
}

/// Afacturar's responses: the fixtures, then every row of the error table
/// that `operation` documents ([`documented_codes`]) and no fixture shows, grouped by HTTP status.
fn afacturar_responses(operation: Operation) -> Result<Value, OpenApiError> {
    let mut groups: Vec<(u16, Vec<(String, Value)>)> = Vec::new();
    let mut add =
        |status: u16, example: (String, Value)| match groups.iter_mut().find(|(s, _)| *s == status)
        {
            Some((_, examples)) => examples.push(example),
            None => groups.push((status, vec![example])),
        };
    let fixtures: &[(u16, &Fixture)] = match operation {
        // The recibo_bs and reclamo pages repeat seed 003's envelope and examples.
        Operation::AcuseReciboFev | Operation::ReciboBienServicio | Operation::Reclamo => &[
            (200, &ACUSE_SUCCESS),
            (200, &ACUSE_DIAN_ERROR),
            (400, &ACUSE_SEMANTIC_ERROR),
            (400, &ACUSE_DATA_ERROR),
            (401, &UNAUTHENTICATED),
            (500, &HTTP_ERROR),
        ],
        Operation::LectorCufeTenedorLegitimo => &[
            (200, &LECTOR_VALIDATION_ERROR),
            (200, &LECTOR_TOKEN_ERROR),
            (401, &UNAUTHENTICATED),
            (500, &HTTP_ERROR),
        ],
        _ => &[
            (200, &HISTORICO_SUCCESS),
            (200, &HISTORICO_SIN_EVENTOS),
            (401, &UNAUTHENTICATED),
            (500, &HTTP_ERROR),
        ],
    };
    if operation == Operation::HistoricoEventos {
        // Seed 001 shows no 400; the fake answers a form it cannot use in the semantic-400
        // shape, and acuse's examples (about `data` and `evento`) would not fit here.
        let resultado = resultado_for_form_error(&FormError::MissingFields(vec!["cufe"]));
        add(
            400,
            (
                "form_error".to_owned(),
                json!({
                    "summary": "A form without `cufe` (or a body that is not a usable form): the semantic-400 shape, as the fake answers it (docs/contract-notes.md A12, A31, A33)",
                    "value": semantic_error(resultado, &example_meta()),
                }),
            ),
        );
    }
    let mut shown = Vec::new();
    for (status, fixture) in fixtures {
        let value = fixture.value()?;
        shown.push((
            value["codigo_error"].clone(),
            value["descripcion_error"].clone(),
        ));
        add(*status, fixture.example()?);
    }
    let meta = example_meta();
    for &code in documented_codes(operation) {
        let (status, body) = documented_response(operation, code, &meta)
            .ok_or_else(|| OpenApiError::Undocumented(code.to_owned()))?;
        let key = (
            body["codigo_error"].clone(),
            body["descripcion_error"].clone(),
        );
        if shown.contains(&key) {
            continue;
        }
        shown.push(key);
        let codigo = body["codigo_error"]
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(status);
        add(
            status,
            (
                format!("codigo_{code}"),
                json!({
                    "summary": format!("Error table row {code} ({}); `POST /__admin/scenarios` with `\"respond\": \"{code}\"` arms it", table_estado(codigo)),
                    "value": body,
                }),
            ),
        );
    }
    groups.sort_by_key(|(status, _)| *status);

    let mut responses = Map::new();
    for (status, examples) in groups {
        let (description, schemas): (String, &[&str]) = match status {
            200 if operation == Operation::LectorCufeTenedorLegitimo => (
                "Processed (HTTP 200 whatever the outcome, docs/contract-notes.md A46): each CUFE's legitimate holder (codigo_error \"0\", every value a string, as the page's template shows), the form's messages (codigo_error 10), a token that is not the obligado's (codigo_error 11), or the operation took too long (codigo_error 28).".to_owned(),
                &[
                    "afacturar/lector_cufe_tenedor_legitimo.success",
                    "afacturar/lector_cufe_tenedor_legitimo.validation_error",
                    "afacturar/lector_cufe_tenedor_legitimo.token_error",
                ],
            ),
            200 if operation.registers_event() => (
                "Processed (HTTP 200 whatever the outcome, docs/contract-notes.md A10): the event was registered (codigo_error 0, with its CUDE and XML URL), DIAN rejected it (codigo_error 15, e.g. rule LGC01 on a repeated acuse), or the operation took too long (codigo_error 28).".to_owned(),
                &[
                    "afacturar/acuse_recibo_fev.success",
                    "afacturar/acuse_recibo_fev.dian_error",
                    "afacturar/error",
                ],
            ),
            200 => (
                "Processed (HTTP 200 whatever the outcome, docs/contract-notes.md A10): the CUFE's events in order (codigo_error 0), none (codigo_error 12, \"Sin eventos\"), or the operation took too long (codigo_error 28).".to_owned(),
                &[
                    "afacturar/historico_eventos.success",
                    "afacturar/historico_eventos.sin_eventos",
                    "afacturar/error",
                ],
            ),
            400 => (
                "The form or its `data` document breaks the contract: the semantic 400 (one `resultado` entry per violation, worded as Afacturar's PHP validator words it; a missing field or a `data` that is not JSON as in docs/contract-notes.md A12), or business-rule errors (the data 400, nested arrays).".to_owned(),
                &[
                    "afacturar/acuse_recibo_fev.semantic_error",
                    "afacturar/acuse_recibo_fev.data_error",
                ],
            ),
            401 => (
                "Missing or unknown Bearer token.".to_owned(),
                &["afacturar/unauthenticated"],
            ),
            415 => (
                "The body is neither `multipart/form-data` nor `application/x-www-form-urlencoded` (error table row 415).".to_owned(),
                &["afacturar/http_error"],
            ),
            429 => (
                "More requests per minute on the token than the limit (the provider documents 120; the fake applies it with `serve --rate-limit N`, docs/contract-notes.md A28).".to_owned(),
                &["afacturar/http_error"],
            ),
            500 => (
                "Internal error; the body is seed 003's 'Salida con errores HTTP', verbatim (docs/contract-notes.md A27).".to_owned(),
                &["afacturar/http_error"],
            ),
            other => (
                format!(
                    "Error table row {other} ({}); HTTP status = codigo_error, body as in docs/contract-notes.md A10, A11.",
                    table_estado(other)
                ),
                &["afacturar/http_error"],
            ),
        };
        responses.insert(
            status.to_string(),
            json_response(&description, schemas, examples),
        );
    }
    Ok(Value::Object(responses))
}

/// An example of a Sovos error body.
fn sovos_example(error: SovosError) -> (String, Value) {
    (
        format!("code_{}", error.code()),
        json!({ "summary": format!("{} ({error:?})", error.code()), "value": error.body() }),
    )
}

/// Sovos's responses.
fn sovos_responses(operation: Operation) -> Result<Value, OpenApiError> {
    let errors = "sovos/errors";
    let mut responses = Map::new();
    match operation {
        Operation::Saldos => {
            responses.insert(
                "200".to_owned(),
                json_response(
                    "The balance of the month, computed from the account (docs/contract-notes.md S9).",
                    &["sovos/saldos.success"],
                    vec![SALDOS_SUCCESS_TODOS.example()?, SALDOS_SUCCESS_RFC.example()?],
                ),
            );
            responses.insert(
                "400".to_owned(),
                json_response(
                    "400-001: `MesConsulta` missing or not a yyyy-mm month (or a body that is not JSON); 400-002: `RFCConsulta` is not registered in the API key's account.",
                    &[errors],
                    vec![
                        SOVOS_400_001.example()?,
                        sovos_example(SovosError::RfcNoRegistrado),
                    ],
                ),
            );
        }
        _ => {
            let (media, description, schema) = match operation {
                Operation::SaldosPdf => (
                    "application/pdf",
                    "The report as a PDF attachment.",
                    json!({ "type": "string", "contentMediaType": "application/pdf" }),
                ),
                _ => (
                    "text/csv",
                    "The report as a CSV attachment (UTF-8, `\\n` line endings).",
                    json!({ "type": "string", "contentMediaType": "text/csv" }),
                ),
            };
            let mut content = Map::new();
            let mut media_object = json!({ "schema": schema });
            if operation == Operation::SaldosCsv {
                let mut examples = Map::new();
                examples.insert(
                    REPORTE_CSV.key().to_owned(),
                    json!({
                        "summary": format!("fixtures/{}", REPORTE_CSV.path),
                        "value": REPORTE_CSV.text,
                    }),
                );
                media_object["examples"] = Value::Object(examples);
            }
            content.insert(media.to_owned(), media_object);
            responses.insert(
                "200".to_owned(),
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
                }),
            );
            responses.insert(
                "400".to_owned(),
                json_response(
                    "400-001: `MesConsulta` missing or not a yyyy-mm month (or a body that is not JSON); 400-002: `RFCConsulta` was sent; 400-003: a format other than pdf and csv (`/api/rest/Timbre/saldos/<format>`).",
                    &[errors],
                    vec![
                        SOVOS_400_001.example()?,
                        SOVOS_400_002.example()?,
                        sovos_example(SovosError::FormatoNoSoportado),
                    ],
                ),
            );
        }
    }
    responses.insert(
        "401".to_owned(),
        json_response(
            "Missing or unknown `RCApiKey`.",
            &[errors],
            vec![sovos_example(SovosError::Unauthorized)],
        ),
    );
    responses.insert(
        "404".to_owned(),
        json_response(
            "The URL does not exist (documented; answered here when armed).",
            &[errors],
            vec![sovos_example(SovosError::NotFound)],
        ),
    );
    responses.insert(
        "415".to_owned(),
        json_response(
            "The body is not `application/json` (docs/contract-notes.md S4).",
            &[errors],
            vec![(
                "code_415".to_owned(),
                json!({
                    "summary": "415",
                    "value": SovosError::NotJson.body(),
                }),
            )],
        ),
    );
    responses.insert(
        "500".to_owned(),
        json_response(
            "Sovos platform error (documented; answered here when armed).",
            &[errors],
            vec![sovos_example(SovosError::Internal)],
        ),
    );
    Ok(Value::Object(responses))
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

    #[test]
    fn fixture_keys_are_file_stems() {
        assert_eq!(REPORTE_CSV.key(), "seed_002_reporte");
        assert_eq!(ACUSE_SUCCESS.key(), "seed_003_salida_exitosa");
    }
}
