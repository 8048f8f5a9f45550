//! The contract: the providers' documented payloads as JSON Schemas, and a validator that
//! reports every violation.
//!
//! This module knows nothing about HTTP or about any provider's error format: it says *what*
//! is wrong and *where*; `crate::render` decides how each provider words it.

mod budget;
mod document;
mod engine;
mod fields;
mod form;
mod operations;
mod order;
mod php;
mod violation;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde_json::Value;

pub use budget::validation_steps;
pub use document::{Document, Node};
pub use engine::{SchemaError, SCHEMA_FILES};
pub use fields::{documented_fields, field_sent, sent_fields};
pub use form::{
    event_cufes, parse_form, parse_form_bytes, read_form, Form, FormError, FormPayload,
};
pub use operations::{DocumentedStatus, Example, OperationSpec, AFACTURAR_CODES, OPERATIONS};
pub use php::{
    json_decode as php_json_decode, json_decode_bytes as php_json_decode_bytes,
    JsonDecodeError as PhpJsonError,
};
pub use violation::{InstancePath, JsonKind, PathSegment, Violation, ViolationKind, Violations};

/// The provider that documents an [`Operation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Afacturar (Colombia, DIAN RADIAN events): Bearer token, multipart form.
    Afacturar,
    /// Sovos Mexico (Reachcore): `RCApiKey` header, JSON body.
    Sovos,
}

/// The documented operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `POST /api/radian/historico_eventos`: the events registered for a CUFE.
    HistoricoEventos,
    /// `POST /api/radian/acuse_recibo_fev`: event 030, acknowledgement of receipt.
    AcuseReciboFev,
    /// `POST /api/radian/recibo_bien_servicio`: event 032, receipt of the goods or service.
    ReciboBienServicio,
    /// `POST /api/radian/reclamo`: event 031, a claim against the invoice.
    Reclamo,
    /// `POST /api/radian/lector_cufe_tenedor_legitimo`: the legitimate holder of each CUFE.
    LectorCufeTenedorLegitimo,
    /// `POST /api/rest/Timbre/saldos`: stamping balance.
    Saldos,
    /// `POST /api/rest/Timbre/saldos/pdf`: consumption report as PDF.
    SaldosPdf,
    /// `POST /api/rest/Timbre/saldos/csv`: consumption report as CSV.
    SaldosCsv,
}

impl Operation {
    /// Every operation, in documentation order.
    pub const ALL: [Operation; 8] = [
        Operation::HistoricoEventos,
        Operation::AcuseReciboFev,
        Operation::ReciboBienServicio,
        Operation::Reclamo,
        Operation::LectorCufeTenedorLegitimo,
        Operation::Saldos,
        Operation::SaldosPdf,
        Operation::SaldosCsv,
    ];

    /// This operation's row of the operation table.
    pub fn spec(self) -> &'static OperationSpec {
        // The table is in `ALL` order, which is the enum's declaration order.
        &OPERATIONS[self as usize]
    }

    /// Every operation's name, comma-separated, in documentation order (help texts, errors).
    pub fn names() -> String {
        Operation::ALL.map(Operation::name).join(", ")
    }

    /// The name used on the command line and in reports: `acuse_recibo_fev`, `saldos_pdf` …
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The provider that documents this operation.
    pub fn provider(self) -> Provider {
        self.spec().provider
    }

    /// The path the provider serves the operation on (always `POST`).
    pub fn path(self) -> &'static str {
        self.spec().path
    }

    /// Whether the request is a form (Afacturar) rather than a JSON body (Sovos).
    pub fn is_form(self) -> bool {
        self.provider() == Provider::Afacturar
    }

    /// The schema that [`validate`] checks for this operation.
    ///
    /// For the event operations (`acuse_recibo_fev`, `recibo_bien_servicio`, `reclamo`) that
    /// is the `data` document; for the queries, the form fields as an object; for Sovos, the
    /// JSON body.
    pub fn payload_schema(self) -> &'static str {
        self.spec().payload_schema
    }

    /// The schema of the form fields, for the form operations.
    pub fn form_schema(self) -> Option<&'static str> {
        self.spec().form_schema
    }

    /// Whether the operation registers a DIAN event from a `data` document (030, 032, 031).
    pub fn registers_event(self) -> bool {
        self.spec().registers_event
    }

    /// The operation served on `path`, if any.
    pub fn from_path(path: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.path() == path)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation name that is not one of [`Operation::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation `{0}`; expected one of: {names}", names = Operation::names())]
pub struct UnknownOperation(pub String);

impl<'de> serde::Deserialize<'de> for Operation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = s.trim().replace(['-', '/'], "_");
        Operation::ALL
            .into_iter()
            .find(|op| op.name() == normalized)
            .ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

/// Every embedded schema, compiled once.
///
/// [`Contract::global`] compiles them the first time it is called and shares them afterwards;
/// the server calls it at start-up so that no request ever pays for it.
#[derive(Debug)]
pub struct Contract {
    engine: engine::Engine,
}

impl Contract {
    /// Compiles every embedded schema. Prefer [`Contract::global`]; this exists so that
    /// benchmarks can time compilation on its own.
    pub fn compile() -> Result<Contract, SchemaError> {
        Ok(Contract {
            engine: engine::Engine::compile()?,
        })
    }

    /// The process-wide compiled contract.
    pub fn global() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            // The schemas are part of the binary and covered by tests: failing here is a bug.
            #[allow(clippy::expect_used)]
            Contract::compile().expect("the embedded schemas compile")
        })
    }

    /// Validates `payload` against the operation's payload schema (see
    /// [`Operation::payload_schema`]).
    pub fn validate(&self, operation: Operation, payload: &Value) -> Violations {
        self.validate_document(operation, &Document::from_value(payload))
    }

    /// [`Contract::validate`] of a parsed document: what the fake validates a request's
    /// documents with.
    pub(crate) fn validate_document(&self, operation: Operation, payload: &Document) -> Violations {
        self.engine
            .validate_document(operation.payload_schema(), payload)
    }

    /// Validates `instance` against the embedded schema called `name`
    /// (`"afacturar/acuse_recibo_fev.success"`, `"sovos/errors"` …).
    pub fn validate_schema(&self, name: &str, instance: &Value) -> Result<Violations, SchemaError> {
        self.validate_schema_document(name, &Document::from_value(instance))
    }

    /// [`Contract::validate_schema`] of a parsed document.
    pub(crate) fn validate_schema_document(
        &self,
        name: &str,
        instance: &Document,
    ) -> Result<Violations, SchemaError> {
        self.engine
            .try_validate_document(name, instance)
            .ok_or_else(|| SchemaError::Unknown(name.to_owned()))
    }

    /// The names of every embedded schema.
    pub fn schema_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        SCHEMA_FILES.iter().map(|(name, _)| *name)
    }
}

/// The most JSON values a document may hold for the fake to read and validate it. Real
/// payloads hold a few hundred; the bound keeps the memory and time of one request a small
/// multiple of what a real client sends (contract note A47).
pub const MAX_DOCUMENT_VALUES: usize = 50_000;

/// The most violations reported for one document: past it, the first this many found, in
/// document order (contract note A47).
pub const MAX_REPORTED_VIOLATIONS: usize = 1_000;

/// The work budget of one document, in [`validation_steps`]: one per JSON value and one per
/// KiB of text (strings and property names). Past it, only the part of the document that fits is validated and the
/// findings start with a `workBudget` violation at the root. Real payloads cost a few hundred
/// steps; at the budget, validation costs a few milliseconds of CPU.
pub const MAX_VALIDATION_STEPS: usize = 20_000;

/// An upper bound of the number of values in the JSON text `text`, counted without parsing it:
/// one, plus one for each `[`, `{`, `,` and `:` outside strings.
pub fn json_value_bound(text: &[u8]) -> usize {
    let mut count = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'[' | b',' | b':' | b'{' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// Validates `payload` for `operation` and returns every violation, in document order.
///
/// ```
/// use einvoice_mock::{validate, Operation};
/// use serde_json::json;
///
/// let violations = validate(Operation::Saldos, &json!({ "MesConsulta": "2019-13" }));
/// assert_eq!(violations.len(), 1);
/// assert_eq!(violations[0].path.to_string(), "/MesConsulta");
/// assert_eq!(violations[0].keyword(), "pattern");
/// ```
pub fn validate(operation: Operation, payload: &Value) -> Violations {
    Contract::global().validate(operation, payload)
}
