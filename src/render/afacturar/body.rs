//! Afacturar's response bodies, field for field as seeds 001 and 003 show them.

use base64::Engine as _;
use serde_json::{json, Value};

use super::php_validator::{descripcion, propiedad};
use crate::contract::{Document, FormError, InstancePath, Node, Operation, Violations};
use crate::domain::afacturar::history::{HistoricoEvento, HistoryList};
use crate::render::json::JsonText;

/// The fields every processed request carries besides its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// Seconds the provider spent, as PHP's `microtime(true)` difference.
    pub tiempo_ejecucion: f64,
    /// PHP `uniqid()`, prefixed by the base64 of the obligated party's NIT on `acuse_recibo_fev`.
    pub transaccion: String,
    /// What follows `Este documento se envia al entorno: `.
    pub entorno: String,
}

impl Meta {
    /// The `entorno` field as the provider writes it.
    pub fn entorno_text(&self) -> String {
        format!("Este documento se envia al entorno: {}", self.entorno)
    }
}

/// `descripcion_error` of the semantic 400.
pub const SEMANTIC_ERROR: &str = "Hay un problema con la informacion entregada";
/// `descripcion_error` of the data 400 (business rules, nested arrays).
pub const DATA_ERROR: &str = "Hay problema(s) con la información entregada";
/// `descripcion_error` of a DIAN rejection.
pub const DIAN_ERROR: &str = "La validación en la DIAN devuelve error(es)";
/// PHP's `json_last_error_msg()` for a document that is not JSON.
pub const JSON_SYNTAX_ERROR: &str = "Syntax error";

/// A PHP `uniqid()` for a moment given in microseconds since the Unix epoch: 8 hex digits of
/// seconds and 5 of microseconds.
pub fn uniqid(micros_since_epoch: u64) -> String {
    let mut text = String::with_capacity(13);
    push_uniqid(&mut text, micros_since_epoch);
    text
}

/// [`uniqid`] at the end of `out`: 8 hex digits of seconds (more past 2106), 5 of microseconds.
fn push_uniqid(out: &mut String, micros_since_epoch: u64) {
    // At most 16 digits: the shifts stay below 64.
    let hex = |out: &mut String, value: u64, width: usize| {
        let digits = ((64 - value.leading_zeros()).div_ceil(4) as usize).max(width);
        for place in (0..digits).rev() {
            let nibble = ((value >> (4 * place)) & 0xf) as u32;
            out.push(char::from_digit(nibble, 16).unwrap_or('0'));
        }
    };
    hex(out, micros_since_epoch / 1_000_000, 8);
    hex(out, micros_since_epoch % 1_000_000, 5);
}

/// `transaccion` of `acuse_recibo_fev`: base64 of the NIT, then a `uniqid()`. Written piece by
/// piece: every event registered answers one.
pub fn transaccion_for(documento_obligado: &str, micros_since_epoch: u64) -> String {
    let mut text = String::with_capacity(documento_obligado.len().div_ceil(3) * 4 + 13);
    base64::engine::general_purpose::STANDARD.encode_string(documento_obligado, &mut text);
    push_uniqid(&mut text, micros_since_epoch);
    text
}

/// The stock body of a missing or unknown Bearer token.
pub fn unauthenticated() -> Value {
    json!({ "codigo_error": 401, "descripcion_error": "Unauthenticated." })
}

/// A row of the error table with no further fields (403, 404, 405, 409, 415, 422, 429, 500, 503 …).
pub fn http_error(codigo_error: u16, descripcion_error: &str) -> Value {
    json!({ "codigo_error": codigo_error, "descripcion_error": descripcion_error })
}

/// The "Estado" column of seed 003's error table.
pub fn table_estado(codigo: u16) -> &'static str {
    match codigo {
        28 => "Timeout",
        15 => "Error retornado por la DIAN",
        400 => "Solicitud incorrecta",
        401 => "No autorizado",
        403 => "Prohibido",
        404 => "No encontrado",
        405 => "Método no permitido",
        409 => "Conflicto",
        415 => "Tipo de medio no admitido",
        422 => "Entidad no procesable",
        429 => "Exceder el límite de envío",
        503 => "Servicio no disponible",
        _ => "Error de servidor interno",
    }
}

/// Every response that can be armed by code (`POST /__admin/scenarios`) on some Afacturar
/// operation, in one order: the operation table's.
pub use crate::contract::AFACTURAR_CODES as DOCUMENTED_CODES;

/// The codes of [`DOCUMENTED_CODES`] that `operation` documents (the operation table's):
/// codigo 12 is `historico_eventos`'s (seed 001); codigos 15 and 28 and both 400s belong to the
/// three event operations (seed 003, and the recibo_bs and reclamo pages that repeat it;
/// `historico_eventos` documents no 400, contract note A1); 10, 11 and 28 to
/// `lector_cufe_tenedor_legitimo` (its page, contract note A46); 401 and the rows of the error
/// table answer on every operation (contract note A31).
pub fn documented_codes(operation: Operation) -> &'static [&'static str] {
    match operation.provider() {
        crate::contract::Provider::Afacturar => operation.spec().documented_codes,
        crate::contract::Provider::Sovos => &[],
    }
}

/// `descripcion_error` of codigo 28 (seed 003's error table).
const TIMEOUT: &str = "La operación duro más de 60 seg";

/// The documented response of `operation` armed by `code`: its HTTP status and body. Bodies
/// the documents print are answered verbatim; table rows without an example use the table's
/// wording (`docs/contract-notes.md`, A11 and A26).
pub fn documented_response(operation: Operation, code: &str, meta: &Meta) -> Option<(u16, Value)> {
    let verbatim = |text: &str| serde_json::from_str::<Value>(text).ok();
    let lector = operation == Operation::LectorCufeTenedorLegitimo;
    Some(match code {
        "10" => (
            200,
            lector_validation_error(vec!["The lista cufe field is required.".to_owned()]),
        ),
        "11" => (200, lector_token_error(meta)),
        "12" => (200, historico(&[], meta)),
        "15" => (200, verbatim(SEED_DIAN_ERROR)?),
        "28" if lector => (
            200,
            json!({
                "codigo_error": 28,
                "descripcion_error": TIMEOUT,
                "tiempo_ejecucion": meta.tiempo_ejecucion,
                "transaccion": meta.transaccion,
            }),
        ),
        "28" => (
            200,
            json!({
                "codigo_error": 28,
                "descripcion_error": TIMEOUT,
                "tiempo_ejecucion": meta.tiempo_ejecucion,
                "transaccion": meta.transaccion,
                "resultado": [],
                "entorno": meta.entorno_text(),
                "ErrorMessage_DIAN": "",
            }),
        ),
        "400" => (400, verbatim(SEED_SEMANTIC_ERROR)?),
        "400-datos" => (400, verbatim(SEED_DATA_ERROR)?),
        "401" => (401, unauthenticated()),
        "500" => (500, verbatim(SEED_HTTP_ERROR)?),
        other => {
            let codigo: u16 = other.parse().ok().filter(|c| (403..=503).contains(c))?;
            if !DOCUMENTED_CODES.contains(&other) {
                return None;
            }
            (codigo, http_error(codigo, table_estado(codigo)))
        }
    })
}

/// One CUFE of the legitimate-holder query, as the page's template shows it (every value a
/// string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenedorLegitimo {
    /// The CUFE asked for.
    pub cufe: String,
    /// `"0"`.
    pub codigo_error: &'static str,
    /// `"OK"`.
    pub descripcion_error: &'static str,
    /// The holder's NIT.
    pub nit_legitimo_tenedor: String,
    /// The holder's name.
    pub razon_social_legitimo_tenedor: String,
}

impl TenedorLegitimo {
    /// The holder of `cufe`.
    pub fn new(cufe: &str, nit: &str, razon_social: &str) -> TenedorLegitimo {
        TenedorLegitimo {
            cufe: cufe.to_owned(),
            codigo_error: "0",
            descripcion_error: "OK",
            nit_legitimo_tenedor: nit.to_owned(),
            razon_social_legitimo_tenedor: razon_social.to_owned(),
        }
    }
}

/// `lector_cufe_tenedor_legitimo`'s success: the page's template, whose values are all strings
/// (`codigo_error` `"0"`, `tiempo_ejecucion` as text) and which has no `transaccion`
/// (contract note A46).
pub fn lector_success(rows: &[TenedorLegitimo], meta: &Meta) -> Value {
    json!({
        "codigo_error": "0",
        "descripcion_error": "OK",
        "tiempo_ejecucion": meta.tiempo_ejecucion.to_string(),
        "resultado": rows,
    })
}

/// `lector_cufe_tenedor_legitimo`'s code 10: the form's messages, as an array.
pub fn lector_validation_error(messages: Vec<String>) -> Value {
    json!({ "codigo_error": 10, "descripcion_error": messages })
}

/// `lector_cufe_tenedor_legitimo`'s code 11: the token is not the `documento_obligado`'s. Its
/// `transaccion` is a bare `uniqid()`, as the page's example shows.
pub fn lector_token_error(meta: &Meta) -> Value {
    let transaccion = meta
        .transaccion
        .get(meta.transaccion.len().saturating_sub(13)..)
        .unwrap_or_default();
    json!({
        "codigo_error": 11,
        "descripcion_error": "El token no esta asociado al documento del obligado",
        "tiempo_ejecucion": meta.tiempo_ejecucion,
        "transaccion": transaccion,
    })
}

/// The messages of code 10, worded as Laravel's validator words them (the page's only example,
/// "The lista cufe field is required.": the field's name with `_` turned into spaces).
pub fn lector_messages(violations: &Violations) -> Vec<String> {
    use crate::contract::{PathSegment, ViolationKind};
    let mut messages: Vec<String> = Vec::new();
    for violation in violations {
        let field = match (&violation.kind, violation.path.segments().first()) {
            (ViolationKind::Required { property }, _) => property.clone(),
            (_, Some(PathSegment::Key(key))) => key.clone(),
            _ => continue,
        };
        let attribute = field.replace('_', " ");
        let message = match &violation.kind {
            ViolationKind::Required { .. } => format!("The {attribute} field is required."),
            ViolationKind::Type { .. } => format!("The {attribute} must be a string."),
            _ => format!("The {attribute} format is invalid."),
        };
        if !messages.contains(&message) {
            messages.push(message);
        }
    }
    messages
}

const SEED_DIAN_ERROR: &str = include_str!(
    "../../../fixtures/afacturar/acuse_recibo_fev.dian_error/valid/seed_003_error_dian.json"
);
const SEED_SEMANTIC_ERROR: &str = include_str!(
    "../../../fixtures/afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json"
);
const SEED_DATA_ERROR: &str = include_str!(
    "../../../fixtures/afacturar/acuse_recibo_fev.data_error/valid/seed_003_errores_de_datos.json"
);
const SEED_HTTP_ERROR: &str =
    include_str!("../../../fixtures/afacturar/http_error/valid/seed_003_errores_http.json");

impl Violations {
    /// Afacturar's semantic 400 `resultado` for these violations of `instance` (the document
    /// they were found in): one `{"propiedad", "descripcion"}` per violation, worded as the
    /// provider's PHP validator words it.
    ///
    /// ```
    /// use einvoice_mock::{validate, Operation};
    /// use serde_json::json;
    ///
    /// let data = json!({ "evento": [], "generalidades": { "tipo_ambiente_dian": "2" } });
    /// let violations = validate(Operation::AcuseReciboFev, &data);
    /// assert_eq!(violations.afacturar_resultado(&data)[0], json!({
    ///     "propiedad": "evento",
    ///     "descripcion": "There must be a minimum of 1 items in the array"
    /// }));
    /// ```
    pub fn afacturar_resultado(&self, instance: &Value) -> Vec<Value> {
        resultado(self, instance)
    }
}

/// The `resultado` entries of a semantic 400. `instance` is the document the violations'
/// paths point into.
pub fn resultado(violations: &Violations, instance: &Value) -> Vec<Value> {
    resultado_where(violations, |path| {
        path.lookup(instance).and_then(Value::as_str)
    })
}

/// [`resultado`] of violations of a parsed document.
pub fn document_resultado(violations: &Violations, document: &Document) -> Vec<Value> {
    resultado_where(violations, |path| {
        document.lookup(path).and_then(Node::as_str)
    })
}

/// The entries, with `text_at` the string a violation's path points at, if any.
fn resultado_where<'i>(
    violations: &Violations,
    text_at: impl Fn(&InstancePath) -> Option<&'i str>,
) -> Vec<Value> {
    violations
        .iter()
        .map(|violation| {
            json!({
                "propiedad": propiedad(&violation.path),
                "descripcion": descripcion(violation, text_at(&violation.path)),
            })
        })
        .collect()
}

/// One `resultado` entry of a semantic 400: where, and what is wrong there.
pub fn resultado_entry(propiedad: &str, descripcion: &str) -> Value {
    json!({ "propiedad": propiedad, "descripcion": descripcion })
}

/// The `resultado` entries of a form that could not be read.
pub fn resultado_for_form_error(error: &FormError) -> Vec<Value> {
    match error {
        FormError::MissingFields(fields) => fields
            .iter()
            .map(|field| {
                json!({ "propiedad": field, "descripcion": format!("The property {field} is required") })
            })
            .collect(),
        FormError::DataNotJson { php_message, .. } => {
            vec![json!({ "propiedad": "data", "descripcion": php_message })]
        }
        FormError::NotAForm(_) => Vec::new(),
        // Not the provider's words: the real server's answer to such a document is unknown
        // (contract note A47).
        FormError::TooManyValues { limit } => vec![json!({
            "propiedad": "data",
            "descripcion": format!("The document holds more than {limit} JSON values; einvoice-mock does not validate documents this large"),
        })],
    }
}

/// The semantic 400 of seed 003.
pub fn semantic_error(resultado: Vec<Value>, meta: &Meta) -> Value {
    json!({
        "codigo_error": 400,
        "descripcion_error": SEMANTIC_ERROR,
        "tiempo_ejecucion": meta.tiempo_ejecucion,
        "transaccion": meta.transaccion,
        "resultado": resultado,
        "entorno": meta.entorno_text(),
        "ErrorMessage_DIAN": "",
    })
}

/// The data 400 of seed 003: business-rule errors grouped in nested arrays.
pub fn data_error(groups: Vec<Vec<(String, String)>>) -> Value {
    let resultado: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|group| {
            group
                .into_iter()
                .map(|(propiedad, descripcion)| json!({ "propiedad": propiedad, "descripcion": descripcion }))
                .collect()
        })
        .collect();
    json!({ "codigo_error": 400, "descripcion_error": DATA_ERROR, "resultado": resultado })
}

/// The registered event, as `acuse_recibo_fev` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AcuseResultado {
    /// The event's CUDE.
    pub cude: String,
    /// `numero_evento`: the per-CUFE number on success, the event id (`PAR170`) on rejection.
    pub numero_evento: String,
    /// Where the event's XML is kept.
    pub url_representacion_xml: String,
    /// `yyyy-mm-dd hh:mm:ss`, shown on rejections only.
    pub fecha_evento: String,
}

/// The success body of `acuse_recibo_fev`.
pub fn acuse_success(resultado: &AcuseResultado, meta: &Meta) -> Value {
    serde_json::to_value(AcuseSuccess::new(resultado, meta)).unwrap_or_default()
}

/// The body of [`acuse_success`] as a type, serialized straight to bytes by the handler;
/// fields in the seed's order.
#[derive(Debug, serde::Serialize)]
pub struct AcuseSuccess<'a> {
    codigo_error: u16,
    descripcion_error: &'static str,
    tiempo_ejecucion: f64,
    transaccion: &'a str,
    resultado: AcuseSuccessResultado<'a>,
    entorno: String,
    #[serde(rename = "ErrorMessage_DIAN")]
    error_message_dian: &'static str,
}

#[derive(Debug, serde::Serialize)]
struct AcuseSuccessResultado<'a> {
    cude: &'a str,
    numero_evento: &'a str,
    url_representacion_xml: &'a str,
}

impl<'a> AcuseSuccess<'a> {
    /// The event registered.
    pub fn new(resultado: &'a AcuseResultado, meta: &'a Meta) -> AcuseSuccess<'a> {
        AcuseSuccess {
            codigo_error: 0,
            descripcion_error: "OK",
            tiempo_ejecucion: meta.tiempo_ejecucion,
            transaccion: &meta.transaccion,
            resultado: AcuseSuccessResultado {
                cude: &resultado.cude,
                numero_evento: &resultado.numero_evento,
                url_representacion_xml: &resultado.url_representacion_xml,
            },
            entorno: meta.entorno_text(),
            error_message_dian: "",
        }
    }

    /// The body as serde_json writes it, written by hand (`render::json`): every event
    /// registered answers it.
    pub fn to_json(&self) -> Vec<u8> {
        let resultado = &self.resultado;
        let mut text = JsonText::with_capacity(512);
        text.raw("{\"codigo_error\":")
            .unsigned(self.codigo_error.into())
            .raw(",\"descripcion_error\":")
            .string(self.descripcion_error)
            .raw(",\"tiempo_ejecucion\":")
            .float(self.tiempo_ejecucion)
            .raw(",\"transaccion\":")
            .string(self.transaccion)
            .raw(",\"resultado\":{\"cude\":")
            .string(resultado.cude)
            .raw(",\"numero_evento\":")
            .string(resultado.numero_evento)
            .raw(",\"url_representacion_xml\":")
            .string(resultado.url_representacion_xml)
            .raw("},\"entorno\":")
            .string(&self.entorno)
            .raw(",\"ErrorMessage_DIAN\":")
            .string(self.error_message_dian)
            .raw("}");
        text.into_bytes()
    }
}

/// The DIAN rejection (codigo 15) of `acuse_recibo_fev`.
pub fn dian_error(resultado: &AcuseResultado, error_message_dian: &str, meta: &Meta) -> Value {
    json!({
        "codigo_error": 15,
        "descripcion_error": DIAN_ERROR,
        "tiempo_ejecucion": meta.tiempo_ejecucion,
        "transaccion": meta.transaccion,
        "resultado": {
            "cude": resultado.cude,
            "numero_evento": resultado.numero_evento,
            "url_representacion_xml": resultado.url_representacion_xml,
            "fecha_evento": resultado.fecha_evento,
        },
        "entorno": meta.entorno_text(),
        "ErrorMessage_DIAN": error_message_dian,
    })
}

/// `historico_eventos` with events (codigo 0) or without (codigo 12, "Sin eventos").
pub fn historico(eventos: &[HistoricoEvento], meta: &Meta) -> Value {
    serde_json::to_value(Historico::new(eventos, meta)).unwrap_or_default()
}

/// The body of [`historico`] as a type, serialized straight to bytes by the handler (no
/// `Value` built on the hot path); fields in the seed's order. `R` is the rows: a slice of
/// rendered rows, or the ledger's own view of them (`ledger::HistoryRows`).
#[derive(Debug, serde::Serialize)]
pub struct Historico<'a, R: ?Sized = [HistoricoEvento]> {
    codigo_error: u16,
    descripcion_error: &'static str,
    tiempo_ejecucion: f64,
    transaccion: &'a str,
    resultado: &'a R,
}

impl<'a, R: HistoryList + ?Sized> Historico<'a, R> {
    /// With events (codigo 0) or without (codigo 12, "Sin eventos").
    pub fn new(rows: &'a R, meta: &'a Meta) -> Historico<'a, R> {
        let (codigo_error, descripcion_error) = if rows.is_empty() {
            (12, "Sin eventos")
        } else {
            (0, "OK")
        };
        Historico {
            codigo_error,
            descripcion_error,
            tiempo_ejecucion: meta.tiempo_ejecucion,
            transaccion: &meta.transaccion,
            resultado: rows,
        }
    }
}

/// The documented code of an answer `operation` gave (what contract coverage counts), as a
/// scenario names it: `codigo_error` of a 200 (`0` for a success), `400-datos` for the data
/// 400, else the HTTP status; `None` when `operation` does not document it.
pub fn answered_code(operation: Operation, status: u16, body: &[u8]) -> Option<&'static str> {
    #[derive(serde::Deserialize)]
    struct Head {
        codigo_error: Option<Value>,
        descripcion_error: Option<Value>,
    }
    // The fake writes `codigo_error` first: read its token without parsing a history of rows
    // on every request (it showed in the profile); any other body (a proxied provider's) is
    // parsed.
    let leading = body
        .strip_prefix(b"{\"codigo_error\":")
        .and_then(|rest| {
            let end = rest.iter().position(|b| matches!(b, b',' | b'}'))?;
            std::str::from_utf8(&rest[..end]).ok()
        })
        .map(|token| token.trim().trim_matches('"').to_owned());
    let code = match status {
        200 => match leading {
            Some(code) => code,
            None => {
                let head: Head = serde_json::from_slice(body).ok()?;
                match head.codigo_error? {
                    Value::String(text) => text,
                    other => other.to_string(),
                }
            }
        },
        400 => {
            let head: Option<Head> = serde_json::from_slice(body).ok();
            let datos = head
                .and_then(|h| h.descripcion_error)
                .is_some_and(|d| d == DATA_ERROR);
            if datos { "400-datos" } else { "400" }.to_owned()
        }
        other => other.to_string(),
    };
    std::iter::once(&"0")
        .chain(documented_codes(operation))
        .find(|known| **known == code)
        .copied()
}

/// The proxy's answer when the real provider could not be reached or failed to answer (502,
/// contract note P1): the error table's shape, with the cause in `descripcion_error`.
pub fn upstream_error(cause: &str) -> Value {
    json!({
        "codigo_error": 502,
        "descripcion_error": format!("Puerta de enlace incorrecta (einvoice-mock proxy): {cause}"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn an_events_success_body_is_what_serde_json_writes_for_it(
            strings in any::<[String; 5]>(),
            tiempo_ejecucion in any::<f64>(),
        ) {
            let [cude, numero_evento, url_representacion_xml, transaccion, entorno] = strings;
            let resultado = AcuseResultado {
                cude,
                numero_evento,
                url_representacion_xml,
                fecha_evento: String::new(),
            };
            let meta = Meta { tiempo_ejecucion, transaccion, entorno };
            let success = AcuseSuccess::new(&resultado, &meta);
            prop_assert_eq!(
                String::from_utf8(success.to_json()).unwrap(),
                serde_json::to_string(&success).unwrap()
            );
        }
    }

    proptest! {
        #[test]
        fn uniqid_writes_what_phps_format_writes(micros in any::<u64>()) {
            prop_assert_eq!(
                uniqid(micros),
                format!("{:08x}{:05x}", micros / 1_000_000, micros % 1_000_000)
            );
        }
    }

    #[test]
    fn transaccion_is_base64_of_the_nit_then_a_uniqid() {
        // Seed 003: ODMwMDIwNDcw is base64 of 830020470.
        let t = transaccion_for("830020470", 0x62d1ddf2 * 1_000_000 + 0x2a438);
        assert_eq!(t, "ODMwMDIwNDcw62d1ddf22a438");
    }
}
