//! Sovos's balance and its two reports: a verified request and the state → the provider's
//! reply.

use http::header::{self, HeaderValue};
use http::{HeaderMap, Method};

use super::{with_account, Context, Finding, Parsed, ProviderState, Reply, Request};
use crate::contract::{Document, Operation, Provider};
use crate::domain::sovos::ledger::{Month, QueryError};
use crate::render::sovos::errors::{self, SovosError};
use crate::render::sovos::report_csv;

/// A Sovos error as a reply.
pub fn error_reply(error: SovosError) -> Reply {
    Reply::json(error.status(), &error.body())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The `RCApiKey`, once it is known to reach an account and the body's content type is
/// checked; then the parsed body, checked against the contract.
fn front(
    state: &(impl ProviderState + ?Sized),
    request: Request<'_>,
) -> Result<(String, Document), SovosError> {
    if request.method != Method::POST {
        return Err(SovosError::MethodNotAllowed);
    }
    let key =
        super::credential(Provider::Sovos, request.headers).ok_or(SovosError::Unauthorized)?;
    let keys = &state.config().sovos.api_keys;
    if !keys.is_empty() && !keys.iter().any(|k| k == key) {
        return Err(SovosError::Unauthorized);
    }
    with_account(state, key, |_| ()).ok_or(SovosError::Unauthorized)?;
    let key = key.to_owned();
    if !is_json(request.headers) {
        return Err(SovosError::NotJson);
    }
    match request.parsed {
        Parsed::Json {
            payload,
            violations,
        } => match SovosError::for_violations(request.operation, &violations) {
            Some(error) => Err(error),
            None => Ok((key, payload)),
        },
        // A body that is not JSON binds to nothing: MesConsulta is then missing (400-001).
        _ => Err(SovosError::MesConsultaInvalido),
    }
}

fn month_of(payload: &Document) -> Result<Month, SovosError> {
    Ok(payload
        .root()
        .get("MesConsulta")
        .and_then(|month| month.as_str())
        .ok_or(SovosError::MesConsultaInvalido)?
        .parse::<Month>()?)
}

/// `POST /api/rest/Timbre/saldos`.
pub fn saldos(state: &(impl ProviderState + ?Sized), request: Request<'_>) -> Reply {
    let answer = || -> Result<Reply, SovosError> {
        let (key, payload) = front(state, request)?;
        let month = month_of(&payload)?;
        let rfc = payload
            .root()
            .get("RFCConsulta")
            .and_then(|rfc| rfc.as_str());
        let now = state.clock().mexico();
        let body = with_account(state, &key, |account| {
            let saldos = account.saldos(month, rfc, now)?;
            Ok::<_, QueryError>(crate::render::sovos::saldos::saldos_json(&saldos))
        })
        .ok_or(SovosError::Unauthorized)??;
        Ok(Reply::json_bytes(200, body))
    };
    answer().unwrap_or_else(error_reply)
}

/// `POST /api/rest/Timbre/saldos/pdf` and `/csv`.
pub fn report(state: &(impl ProviderState + ?Sized), request: Request<'_>) -> Reply {
    let operation = request.operation;
    let answer = || -> Result<Reply, SovosError> {
        let (key, payload) = front(state, request)?;
        let month = month_of(&payload)?;
        let now = state.clock().mexico();
        let report = with_account(state, &key, |account| account.report(month, now))
            .ok_or(SovosError::Unauthorized)?;
        let (content_type, extension, bytes) = match operation {
            #[cfg(feature = "pdf")]
            Operation::SaldosPdf => (
                "application/pdf",
                "pdf",
                crate::render::sovos::report_pdf::render(&report),
            ),
            #[cfg(not(feature = "pdf"))]
            Operation::SaldosPdf => return Err(SovosError::FormatoNoSoportado),
            _ => (
                "text/csv; charset=utf-8",
                "csv",
                report_csv::render(&report).into_bytes(),
            ),
        };
        let disposition = format!("attachment; filename=\"ReporteConsumo_{month}.{extension}\"");
        let mut reply = Reply {
            status: http::StatusCode::OK,
            content_type,
            headers: Vec::new(),
            body: bytes,
        };
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            reply = reply.with_header(header::CONTENT_DISPOSITION, value);
        }
        Ok(reply)
    };
    answer().unwrap_or_else(error_reply)
}

/// `POST /api/rest/Timbre/saldos/{formato}` with a format Sovos does not serve: the key and
/// the body are checked first, as for a supported format, then 400-003. `request` is verified
/// as a report request.
pub fn unsupported_format(state: &(impl ProviderState + ?Sized), request: Request<'_>) -> Reply {
    match front(state, request) {
        Ok(_) => error_reply(SovosError::FormatoNoSoportado),
        Err(error) => error_reply(error),
    }
}

/// The answer to a request that breaks the contract, without the state: a method other than
/// `POST` is 405; no `RCApiKey` is 401; a body that is not `application/json` is 415; a body
/// that is not JSON, or a bad `MesConsulta`, is 400-001; a bad `RFCConsulta` is 400-002.
/// Other findings (an undocumented field) are a 400 with `Code` `"400"` and the finding as
/// `Message`: Sovos documents no code for them. For wiremock's `ContractResponder`.
pub fn refuse_violation(
    _context: &(impl Context + ?Sized),
    request: Request<'_>,
    findings: &[Finding],
) -> Reply {
    if request.method != Method::POST {
        return error_reply(SovosError::MethodNotAllowed);
    }
    if super::credential(Provider::Sovos, request.headers).is_none() {
        return error_reply(SovosError::Unauthorized);
    }
    if !is_json(request.headers) {
        return error_reply(SovosError::NotJson);
    }
    let Parsed::Json { violations, .. } = &request.parsed else {
        return error_reply(SovosError::MesConsultaInvalido);
    };
    if let Some(error) = SovosError::for_violations(request.operation, violations) {
        return error_reply(error);
    }
    let messages = findings.iter().map(
        |Finding {
             location, message, ..
         }| format!("{location}: {message}"),
    );
    Reply::json(400, &errors::undocumented(messages))
}
