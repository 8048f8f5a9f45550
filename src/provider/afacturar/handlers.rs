//! Afacturar's two endpoints as axum handlers.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::body::{self, AcuseResultado, Meta};
use super::events::{url_representacion_xml, EventCode};
use super::ledger::RecordError;
use crate::contract::{parse_form, FormError, FormPayload, Operation, Violations};
use crate::server::forms::{read_fields, FormBodyError};
use crate::server::verify::{Parsed, Verified};
use crate::server::AppState;

/// An Afacturar answer: an HTTP status and one of the documented bodies.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
}

impl Answer {
    fn new(status: StatusCode, body: Value) -> Answer {
        Answer { status, body }
    }

    /// A row of the error table (`descripcion_error` is the table's "Estado").
    pub fn table(codigo: u16) -> Answer {
        let status = StatusCode::from_u16(codigo).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Answer::new(status, body::http_error(codigo, body::table_estado(codigo)))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// A 200 with `body` serialized as JSON, as `axum::Json` would answer it.
fn json_response(body: &impl serde::Serialize) -> Response {
    // Room for a few history rows up front instead of growing from 128 bytes.
    let mut bytes = Vec::with_capacity(2048);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a response body could not be serialized");
            Answer::table(500).into_response()
        }
    }
}

/// Whether the request carries an accepted Bearer token.
fn authenticated(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return false;
    };
    let tokens = &state.config().afacturar.tokens;
    tokens.is_empty() || tokens.iter().any(|t| t == token)
}

/// The shared front of both endpoints: token, content type, form level.
async fn front(
    state: &AppState,
    operation: Operation,
    headers: &HeaderMap,
    request_body: Body,
    parsed: Option<Parsed>,
    started: Instant,
) -> Result<Checked, Answer> {
    if !authenticated(state, headers) {
        return Err(Answer::new(
            StatusCode::UNAUTHORIZED,
            body::unauthenticated(),
        ));
    }
    // Contract verification in front of the routes usually parsed and validated already.
    if let Some(Parsed::Form {
        form,
        form_violations,
        data_violations,
    }) = parsed
    {
        return Ok(Checked {
            form,
            violations: Some((form_violations, data_violations)),
        });
    }
    // Read here only without verification in front: `provider_routes` on its own, or the
    // code-28 webhook replay (its body is already in memory).
    let Ok(request_body) = axum::body::to_bytes(request_body, usize::MAX).await else {
        return Err(Answer::table(400));
    };
    let fields = match read_fields(headers, request_body).await {
        Ok(fields) => fields,
        Err(FormBodyError::UnsupportedMediaType(_)) => return Err(Answer::table(415)),
        Err(FormBodyError::Malformed(why)) => {
            tracing::debug!(%why, "malformed form");
            let meta = meta(state, None, started);
            let resultado =
                vec![serde_json::json!({ "propiedad": "", "descripcion": "Malformed form body" })];
            return Err(Answer::new(
                StatusCode::BAD_REQUEST,
                body::semantic_error(resultado, &meta),
            ));
        }
    };
    let documento = fields
        .iter()
        .rev()
        .find(|(name, _)| name == "documento_obligado")
        .map(|(_, value)| value.clone());
    parse_form(operation, fields)
        .map(|form| Checked {
            form,
            violations: None,
        })
        .map_err(|error: FormError| {
            let meta = meta(state, documento.as_deref(), started);
            Answer::new(
                StatusCode::BAD_REQUEST,
                body::semantic_error(body::resultado_for_form_error(&error), &meta),
            )
        })
}

/// A readable form, with its violations when verification already computed them.
struct Checked {
    form: FormPayload,
    violations: Option<(Violations, Violations)>,
}

fn meta(state: &AppState, documento_obligado: Option<&str>, started: Instant) -> Meta {
    let micros = state.uniqid_micros();
    Meta {
        tiempo_ejecucion: state.tiempo_ejecucion(started),
        transaccion: match documento_obligado {
            Some(nit) => body::transaccion_for(nit, micros),
            None => body::uniqid(micros),
        },
        entorno: state.config().afacturar.entorno.clone(),
    }
}

/// `POST /api/radian/historico_eventos`.
pub async fn historico_eventos(
    State(state): State<AppState>,
    Verified(parsed): Verified,
    request: Request,
) -> Response {
    // The request whole, not `HeaderMap` and `Bytes`: those extractors copy the headers and
    // collect the body again on every request (issue 5).
    let (parts, request_body) = request.into_parts();
    let headers = &parts.headers;
    let started = Instant::now();
    let form = match front(
        &state,
        Operation::HistoricoEventos,
        headers,
        request_body,
        parsed,
        started,
    )
    .await
    {
        Ok(checked) => checked.form,
        Err(answer) => return answer.into_response(),
    };
    let cufe = form.field("cufe").unwrap_or_default();
    let meta = meta(&state, None, started);
    // Serialized from the ledger under its lock (no await, nothing else locked meanwhile).
    let events = state.events();
    let rows = events.history_rows(cufe);
    json_response(&body::Historico::new(&rows, &meta))
}

/// A plain-http webhook on loopback breaks the contract (https only) but is answered as if
/// it did not, so that tests can receive deliveries; the journal still reports it.
fn is_loopback_test_webhook(violation: &crate::contract::Violation, data: &Value) -> bool {
    violation.path.to_string() == "/generalidades/webhook"
        && violation.keyword() == "pattern"
        && violation
            .path
            .lookup(data)
            .and_then(Value::as_str)
            .and_then(|url| reqwest::Url::parse(url).ok())
            .is_some_and(|url| {
                url.scheme() == "http" && crate::server::webhooks::allowed(&url, &[]).is_ok()
            })
}

/// `POST /api/radian/acuse_recibo_fev`.
pub async fn acuse_recibo_fev(
    State(state): State<AppState>,
    Verified(parsed): Verified,
    request: Request,
) -> Response {
    // The request whole, not `HeaderMap` and `Bytes`: those extractors copy the headers and
    // collect the body again on every request (issue 5).
    let (parts, request_body) = request.into_parts();
    let headers = &parts.headers;
    let started = Instant::now();
    let Checked { form, violations } = match front(
        &state,
        Operation::AcuseReciboFev,
        headers,
        request_body,
        parsed,
        started,
    )
    .await
    {
        Ok(checked) => checked,
        Err(answer) => return answer.into_response(),
    };
    let documento = form
        .field("documento_obligado")
        .unwrap_or_default()
        .to_owned();
    let contract = state.contract();
    let data = form.data.unwrap_or(Value::Null);
    let (form_violations, mut data_violations) = violations.unwrap_or_else(|| {
        let form_violations = Operation::AcuseReciboFev
            .form_schema()
            .and_then(|schema| contract.validate_schema(schema, &form.fields).ok())
            .unwrap_or_default();
        (
            form_violations,
            contract.validate(Operation::AcuseReciboFev, &data),
        )
    });
    data_violations
        .0
        .retain(|v| !is_loopback_test_webhook(v, &data));
    let mut resultado = body::resultado(&form_violations, &form.fields);
    resultado.extend(body::resultado(&data_violations, &data));
    if !resultado.is_empty() {
        let meta = meta(&state, Some(&documento), started);
        return Answer::new(
            StatusCode::BAD_REQUEST,
            body::semantic_error(resultado, &meta),
        )
        .into_response();
    }

    let cufes = data["evento"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["informacion_documento_referencia"]["cufe"].as_str());
    let at = state.clock().colombia();
    let mut outcome = None;
    for cufe in cufes {
        let recorded = state.record_event(cufe, EventCode::AcuseRecibo, &documento);
        let failed = recorded.is_err();
        outcome = Some(recorded);
        if failed {
            break;
        }
    }
    let xml_base_url = &state.config().afacturar.xml_base_url;
    let meta = meta(&state, Some(&documento), started);
    let xml_url =
        |sequence: &str| url_representacion_xml(xml_base_url, at.date(), &documento, sequence);
    match outcome {
        Some(Ok(row)) => {
            let resultado = AcuseResultado {
                url_representacion_xml: xml_url(&row.numero),
                cude: row.cude,
                numero_evento: row.numero,
                fecha_evento: row.fecha,
            };
            json_response(&body::AcuseSuccess::new(&resultado, &meta))
        }
        Some(Err(RecordError::Storage(error))) => {
            let error = crate::error_text::chain(&error);
            tracing::error!(%error, "the event could not be stored");
            Answer::table(500).into_response()
        }
        Some(Err(RecordError::Rejected(rejected))) => {
            let row = *rejected.attempt;
            let resultado = AcuseResultado {
                url_representacion_xml: xml_url(&row.identificacion_evento),
                cude: row.cude,
                numero_evento: row.identificacion_evento,
                fecha_evento: row.fecha,
            };
            Answer::new(
                StatusCode::OK,
                body::dian_error(&resultado, &rejected.rejection.to_string(), &meta),
            )
            .into_response()
        }
        // The schema requires at least one event with a CUFE: unreachable with a valid form.
        None => Answer::table(500).into_response(),
    }
}
