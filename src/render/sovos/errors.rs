//! Sovos errors: `{"errors":[{"Code":"400-001","Message":"…"}]}` with the seed's messages.

use serde_json::{json, Value};

use crate::contract::{Operation, PathSegment, Violation, ViolationKind, Violations};
use crate::domain::sovos::ledger::QueryError;

/// Every error Sovos documents (seed 002, "Response Codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SovosError {
    /// 400-001: `MesConsulta` is not a yyyy-mm month (or is missing).
    MesConsultaInvalido,
    /// 400-002 on `saldos`: the RFC does not belong to the account.
    RfcNoRegistrado,
    /// 400-002 on the reports: `RFCConsulta` must not be sent.
    RfcNoNecesario,
    /// 400-003: the report format is not supported.
    FormatoNoSoportado,
    /// 401: the API key is not valid.
    Unauthorized,
    /// 404: the URL does not exist.
    NotFound,
    /// 500: Sovos platform error.
    Internal,
    /// 405: a documented path asked with another method (not in the seed's table).
    MethodNotAllowed,
    /// 400 for a request that breaks HTTP's own rules (no `Host`, or two), before any body
    /// is read (not in the seed's table).
    BadRequest,
    /// 408: the body did not arrive in time (not in the seed's table).
    RequestTimeout,
    /// 413: the body is over the limit (not in the seed's table).
    PayloadTooLarge,
    /// 415: the body is not `application/json` (the seed only says JSON is required).
    NotJson,
    /// 429: past `serve --rate-limit` (Sovos documents no limit: contract note S17).
    TooManyRequests,
}

impl SovosError {
    /// Every documented error.
    pub const ALL: [SovosError; 7] = [
        SovosError::MesConsultaInvalido,
        SovosError::RfcNoRegistrado,
        SovosError::RfcNoNecesario,
        SovosError::FormatoNoSoportado,
        SovosError::Unauthorized,
        SovosError::NotFound,
        SovosError::Internal,
    ];

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            SovosError::MesConsultaInvalido
            | SovosError::RfcNoRegistrado
            | SovosError::RfcNoNecesario
            | SovosError::FormatoNoSoportado => 400,
            SovosError::Unauthorized => 401,
            SovosError::NotFound => 404,
            SovosError::Internal => 500,
            SovosError::MethodNotAllowed => 405,
            SovosError::BadRequest => 400,
            SovosError::RequestTimeout => 408,
            SovosError::PayloadTooLarge => 413,
            SovosError::NotJson => 415,
            SovosError::TooManyRequests => 429,
        }
    }

    /// The `Code` field.
    pub fn code(self) -> &'static str {
        match self {
            SovosError::MesConsultaInvalido => "400-001",
            SovosError::RfcNoRegistrado | SovosError::RfcNoNecesario => "400-002",
            SovosError::FormatoNoSoportado => "400-003",
            SovosError::Unauthorized => "401",
            SovosError::NotFound => "404",
            SovosError::Internal => "500",
            SovosError::MethodNotAllowed => "405",
            SovosError::BadRequest => "400",
            SovosError::RequestTimeout => "408",
            SovosError::PayloadTooLarge => "413",
            SovosError::NotJson => "415",
            SovosError::TooManyRequests => "429",
        }
    }

    /// The `Message` field. 400-001 and the reports' 400-002 are the seed's own words; the
    /// others are not in the seed and are worded after its English table
    /// (`docs/contract-notes.md`).
    pub fn message(self) -> &'static str {
        match self {
            SovosError::MesConsultaInvalido => "'MesConsulta' se encuentra en un formato inválido.",
            SovosError::RfcNoNecesario => "No es necesario mandar el 'RFCConsulta'",
            SovosError::RfcNoRegistrado => {
                "El 'RFCConsulta' no pertenece a los RFC registrados en la cuenta del API KEY."
            }
            SovosError::FormatoNoSoportado => "El formato solicitado no es soportado.",
            SovosError::Unauthorized => "El API Key no es válido.",
            SovosError::NotFound => "La URL no existe.",
            SovosError::Internal => "Error de la plataforma Sovos.",
            SovosError::MethodNotAllowed => "Método no permitido.",
            SovosError::BadRequest => "Solicitud incorrecta.",
            SovosError::RequestTimeout => "Se agotó el tiempo de espera de la solicitud.",
            SovosError::PayloadTooLarge => "El cuerpo de la solicitud es demasiado grande.",
            SovosError::NotJson => {
                "El API REST solo procesa estructuras JSON (Content-Type: application/json)."
            }
            SovosError::TooManyRequests => "Se excedió el límite de solicitudes por minuto.",
        }
    }

    /// The codes `operation` documents, which a scenario may arm (the operation table's):
    /// 400-003 (format not supported) only on the reports.
    pub fn documented_codes(operation: Operation) -> &'static [&'static str] {
        match operation.provider() {
            crate::contract::Provider::Sovos => operation.spec().documented_codes,
            crate::contract::Provider::Afacturar => &[],
        }
    }

    /// The error armed by `code` on `operation` (400-002 words differ between `saldos` and
    /// the reports; 400-003 is the reports' only).
    pub fn documented(code: &str, operation: Operation) -> Option<SovosError> {
        Some(match code {
            "400-001" => SovosError::MesConsultaInvalido,
            "400-002" if operation == Operation::Saldos => SovosError::RfcNoRegistrado,
            "400-002" => SovosError::RfcNoNecesario,
            "400-003" if operation != Operation::Saldos => SovosError::FormatoNoSoportado,
            "401" => SovosError::Unauthorized,
            "404" => SovosError::NotFound,
            "500" => SovosError::Internal,
            _ => return None,
        })
    }

    /// The body of this error alone.
    pub fn body(self) -> Value {
        body(&[self])
    }

    /// The error a request's contract violations produce on `operation`, if any: a bad or
    /// missing `MesConsulta` (or a body that is not an object) is 400-001, a bad `RFCConsulta`
    /// is 400-002.
    pub fn for_violations(operation: Operation, violations: &Violations) -> Option<SovosError> {
        let mut found = None;
        for violation in violations {
            match SovosError::for_violation(operation, violation) {
                Some(SovosError::MesConsultaInvalido) => {
                    return Some(SovosError::MesConsultaInvalido)
                }
                Some(error) => {
                    found.get_or_insert(error);
                }
                None => {}
            }
        }
        found
    }

    /// The documented error one violation stands for on `operation`, if any.
    pub fn for_violation(operation: Operation, violation: &Violation) -> Option<SovosError> {
        let field = match (&violation.kind, violation.path.segments().first()) {
            (_, Some(PathSegment::Key(key))) => key.as_str(),
            (ViolationKind::Required { property }, None) => property.as_str(),
            _ => "MesConsulta",
        };
        match field {
            "RFCConsulta" if operation == Operation::Saldos => Some(SovosError::RfcNoRegistrado),
            "RFCConsulta" => Some(SovosError::RfcNoNecesario),
            "MesConsulta" => Some(SovosError::MesConsultaInvalido),
            _ => None,
        }
    }

    /// A finding as Sovos words it: the documented error's code and message where one
    /// stands for it (`400-001: 'MesConsulta' se encuentra …`), otherwise the rule in plain
    /// language (Sovos documents no code for an undocumented field).
    pub fn finding(operation: Operation, violation: &Violation) -> String {
        match SovosError::for_violation(operation, violation) {
            Some(error) => format!("{}: {}", error.code(), error.message()),
            None => violation.message.clone(),
        }
    }
}

impl From<QueryError> for SovosError {
    fn from(error: QueryError) -> SovosError {
        match error {
            QueryError::InvalidMonth => SovosError::MesConsultaInvalido,
            QueryError::RfcNotRegistered => SovosError::RfcNoRegistrado,
        }
    }
}

/// A 400 for findings Sovos documents no code for (an undocumented field): `Code` `"400"` and
/// each finding as a `Message`.
pub fn undocumented(findings: impl IntoIterator<Item = String>) -> Value {
    let errors: Vec<Value> = findings
        .into_iter()
        .map(|message| json!({ "Code": "400", "Message": message }))
        .collect();
    json!({ "errors": errors })
}

/// An error body with one entry per error.
pub fn body(errors: &[SovosError]) -> Value {
    let errors: Vec<Value> = errors
        .iter()
        .map(|error| json!({ "Code": error.code(), "Message": error.message() }))
        .collect();
    json!({ "errors": errors })
}

/// The documented code of an answer `operation` gave (what contract coverage counts): `200`
/// for a success, else the first error's `Code` when `operation` documents it.
pub fn answered_code(operation: Operation, status: u16, body: &[u8]) -> Option<&'static str> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(rename = "Code")]
        code: String,
    }
    if status == 200 {
        return Some("200");
    }
    let errors: Errors = serde_json::from_slice(body).ok()?;
    let code = errors.errors.first()?.code.as_str();
    SovosError::documented_codes(operation)
        .iter()
        .find(|known| **known == code)
        .copied()
}

/// The proxy's answer when the real provider could not be reached or failed to answer (502,
/// contract note P1): Sovos's error format, with the cause in `Message`.
pub fn upstream_error(cause: &str) -> Value {
    json!({ "errors": [{
        "Code": "502",
        "Message": format!("El proveedor no respondió (einvoice-mock proxy): {cause}"),
    }] })
}
