//! Sovos's balance endpoint and its two reports as axum handlers.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::errors::SovosError;
use super::ledger::Month;
use super::{report_csv, report_pdf};
use crate::contract::Operation;
use crate::server::verify::{Parsed, Verified};
use crate::server::AppState;

/// A Sovos failure, answered in the `errors[{Code, Message}]` shape.
#[derive(Debug)]
pub enum Failure {
    /// A documented error.
    Documented(SovosError),
    /// The body is not `application/json` (415; the seed only says JSON is required).
    NotJson,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Documented(error) => {
                let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
                (status, Json(error.body())).into_response()
            }
            Failure::NotJson => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({ "errors": [{
                    "Code": "415",
                    "Message": "El API REST solo procesa estructuras JSON (Content-Type: application/json)."
                }]})),
            )
                .into_response(),
        }
    }
}

impl From<SovosError> for Failure {
    fn from(error: SovosError) -> Failure {
        Failure::Documented(error)
    }
}

/// The `RCApiKey`, once it is known to reach an account and the body's content type is
/// checked; then the parsed body, checked against the contract.
async fn front(
    state: &AppState,
    operation: Operation,
    headers: &HeaderMap,
    body: Body,
    parsed: Option<Parsed>,
) -> Result<(String, Value), Failure> {
    let key = headers
        .get("RCApiKey")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(SovosError::Unauthorized)?;
    let keys = &state.config().sovos.api_keys;
    if !keys.is_empty() && !keys.iter().any(|k| k == key) {
        return Err(SovosError::Unauthorized.into());
    }
    state
        .with_account(key, |_| ())
        .ok_or(SovosError::Unauthorized)?;
    let key = key.to_owned();

    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Failure::NotJson);
    }
    let (payload, violations) = match parsed {
        // Contract verification in front of the routes parsed and validated already.
        Some(Parsed::Json {
            payload,
            violations,
        }) => (payload, violations),
        _ => {
            // Read here only without verification in front (`provider_routes` on its own). A
            // body that is not JSON binds to nothing: MesConsulta is then missing (400-001).
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| SovosError::MesConsultaInvalido)?;
            let payload: Value =
                serde_json::from_slice(&body).map_err(|_| SovosError::MesConsultaInvalido)?;
            let violations = state.contract().validate(operation, &payload);
            (payload, violations)
        }
    };
    if let Some(error) = SovosError::for_violations(operation, &violations) {
        return Err(error.into());
    }
    Ok((key, payload))
}

fn month_of(payload: &Value) -> Result<Month, SovosError> {
    payload["MesConsulta"]
        .as_str()
        .ok_or(SovosError::MesConsultaInvalido)?
        .parse()
}

/// `POST /api/rest/Timbre/saldos`.
pub async fn saldos(
    State(state): State<AppState>,
    Verified(parsed): Verified,
    request: Request,
) -> Result<Response, Failure> {
    // The request whole, not `HeaderMap` and `Bytes`: those extractors copy the headers and
    // collect the body again on every request (issue 5).
    let (parts, body) = request.into_parts();
    let (key, payload) = front(&state, Operation::Saldos, &parts.headers, body, parsed).await?;
    let month = month_of(&payload)?;
    let rfc = payload["RFCConsulta"].as_str();
    let now = state.clock().mexico();
    let saldos = state
        .with_account(&key, |account| account.saldos(month, rfc, now))
        .ok_or(SovosError::Unauthorized)??;
    Ok(Json(saldos).into_response())
}

/// `POST /api/rest/Timbre/saldos/{formato}`: `pdf` and `csv`; any other format is 400-003.
pub async fn report(
    State(state): State<AppState>,
    Path(formato): Path<String>,
    Verified(parsed): Verified,
    request: Request,
) -> Result<Response, Failure> {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let operation = match formato.to_ascii_lowercase().as_str() {
        "pdf" => Operation::SaldosPdf,
        "csv" => Operation::SaldosCsv,
        _ => {
            // The key and the body are checked first, as for a supported format.
            front(&state, Operation::SaldosCsv, headers, body, None).await?;
            return Err(SovosError::FormatoNoSoportado.into());
        }
    };
    let (key, payload) = front(&state, operation, headers, body, parsed).await?;
    let month = month_of(&payload)?;
    let now = state.clock().mexico();
    let report = state
        .with_account(&key, |account| account.report(month, now))
        .ok_or(SovosError::Unauthorized)?;
    let (content_type, extension, bytes) = match operation {
        Operation::SaldosPdf => ("application/pdf", "pdf", report_pdf::render(&report)),
        _ => (
            "text/csv; charset=utf-8",
            "csv",
            report_csv::render(&report).into_bytes(),
        ),
    };
    let disposition = format!("attachment; filename=\"ReporteConsumo_{month}.{extension}\"");
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
