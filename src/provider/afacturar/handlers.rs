//! Afacturar's two endpoints as axum handlers.

use std::time::Instant;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::body::{self, AcuseResultado, Meta};
use super::events::{url_representacion_xml, EventCode};
use crate::contract::{parse_form, FormError, FormPayload, Operation};
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
        Answer::new(status, body::http_error(codigo, table_estado(codigo)))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
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

/// Reads the form fields of a multipart or urlencoded body; anything else is a 415.
async fn read_fields(request: Request) -> Result<Vec<(String, String)>, FieldsError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| FieldsError::Malformed(e.body_text()))?;
        let mut fields = Vec::new();
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let value = field
                        .text()
                        .await
                        .map_err(|e| FieldsError::Malformed(e.body_text()))?;
                    fields.push((name, value));
                }
                Ok(None) => return Ok(fields),
                Err(e) => return Err(FieldsError::Malformed(e.body_text())),
            }
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|e| FieldsError::Malformed(e.to_string()))?;
        serde_urlencoded::from_bytes(&bytes).map_err(|e| FieldsError::Malformed(e.to_string()))
    } else {
        Err(FieldsError::UnsupportedMediaType)
    }
}

#[derive(Debug)]
enum FieldsError {
    UnsupportedMediaType,
    Malformed(String),
}

/// The shared front of both endpoints: token, content type, form level.
async fn front(
    state: &AppState,
    operation: Operation,
    request: Request,
    started: Instant,
) -> Result<FormPayload, Answer> {
    if !authenticated(state, request.headers()) {
        return Err(Answer::new(
            StatusCode::UNAUTHORIZED,
            body::unauthenticated(),
        ));
    }
    let fields = match read_fields(request).await {
        Ok(fields) => fields,
        Err(FieldsError::UnsupportedMediaType) => return Err(Answer::table(415)),
        Err(FieldsError::Malformed(why)) => {
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
    parse_form(operation, fields).map_err(|error: FormError| {
        let meta = meta(state, documento.as_deref(), started);
        Answer::new(
            StatusCode::BAD_REQUEST,
            body::semantic_error(body::resultado_for_form_error(&error), &meta),
        )
    })
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
pub async fn historico_eventos(State(state): State<AppState>, request: Request) -> Answer {
    let started = Instant::now();
    let form = match front(&state, Operation::HistoricoEventos, request, started).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let cufe = form.field("cufe").unwrap_or_default();
    let rows: Vec<body::HistoricoEvento> = state
        .events()
        .history(cufe)
        .iter()
        .map(|e| e.row.clone())
        .collect();
    let meta = meta(&state, None, started);
    Answer::new(StatusCode::OK, body::historico(&rows, &meta))
}

/// `POST /api/radian/acuse_recibo_fev`.
pub async fn acuse_recibo_fev(State(state): State<AppState>, request: Request) -> Answer {
    let started = Instant::now();
    let form = match front(&state, Operation::AcuseReciboFev, request, started).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let documento = form
        .field("documento_obligado")
        .unwrap_or_default()
        .to_owned();
    let contract = state.contract();
    let mut resultado = Vec::new();
    if let Some(schema) = Operation::AcuseReciboFev.form_schema() {
        if let Ok(violations) = contract.validate_schema(schema, &form.fields) {
            resultado.extend(body::resultado(&violations, &form.fields));
        }
    }
    let data = form.data.clone().unwrap_or(Value::Null);
    resultado.extend(body::resultado(
        &contract.validate(Operation::AcuseReciboFev, &data),
        &data,
    ));
    if !resultado.is_empty() {
        let meta = meta(&state, Some(&documento), started);
        return Answer::new(
            StatusCode::BAD_REQUEST,
            body::semantic_error(resultado, &meta),
        );
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
            Answer::new(StatusCode::OK, body::acuse_success(&resultado, &meta))
        }
        Some(Err(rejected)) => {
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
        }
        // The schema requires at least one event with a CUFE: unreachable with a valid form.
        None => Answer::table(500),
    }
}
