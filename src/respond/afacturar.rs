//! Afacturar's operations: a verified request and the state → the provider's reply.

use std::time::Instant;

use http::{HeaderMap, Method};
use serde_json::Value;

use super::{record_event, Context, Parsed, ProviderState, Reply, Request};
use crate::contract::{event_cufes, Document, Form, Operation, Violation, Violations};
use crate::domain::afacturar::events::{url_representacion_xml, EventCode};
use crate::domain::afacturar::ledger::RecordError;
use crate::render::afacturar::body::{self, AcuseResultado, Meta};
use crate::render::afacturar::errors::AfacturarError;

/// An Afacturar error as a reply.
pub fn error_reply(error: AfacturarError) -> Reply {
    Reply::json(error.status(), &error.body())
}

/// The request's Bearer token, when it is one the configuration accepts.
fn accepted_token<'h>(
    context: &(impl Context + ?Sized),
    headers: &'h HeaderMap,
) -> Option<&'h str> {
    let token = super::credential(crate::contract::Provider::Afacturar, headers)?;
    let tokens = &context.config().afacturar.tokens;
    (tokens.is_empty() || tokens.iter().any(|t| t == token)).then_some(token)
}

/// `tiempo_ejecucion`, `transaccion` and `entorno`, as the fake fills them: `transaccion` is
/// the base64 of `documento_obligado`, when there is one, then a `uniqid()`.
pub fn meta(
    context: &(impl Context + ?Sized),
    documento_obligado: Option<&str>,
    started: Instant,
) -> Meta {
    let micros = context.uniqid_micros();
    Meta {
        tiempo_ejecucion: context.tiempo_ejecucion(started),
        transaccion: match documento_obligado {
            Some(nit) => body::transaccion_for(nit, micros),
            None => body::uniqid(micros),
        },
        entorno: context.config().afacturar.entorno.clone(),
    }
}

/// A form that passed the front: its fields and `data`, with their violations.
struct Accepted {
    form: Form,
    form_violations: Violations,
    data_violations: Violations,
}

/// What both operations check first, in the provider's order: the method, the token, the
/// content type, a readable form with its fields.
fn front(context: &(impl Context + ?Sized), request: Request<'_>) -> Result<Accepted, Reply> {
    if request.method != Method::POST {
        return Err(error_reply(AfacturarError::Table(405)));
    }
    if accepted_token(context, request.headers).is_none() {
        return Err(error_reply(AfacturarError::Unauthenticated));
    }
    let semantic = |resultado: Vec<Value>, documento: Option<&str>| {
        let meta = meta(context, documento, request.started);
        Reply::json(400, &body::semantic_error(resultado, &meta))
    };
    match request.parsed {
        Parsed::Form {
            form,
            form_violations,
            data_violations,
        } => Ok(Accepted {
            form,
            form_violations,
            data_violations,
        }),
        Parsed::NotAForm | Parsed::NotJson | Parsed::Json { .. } => {
            Err(error_reply(AfacturarError::Table(415)))
        }
        Parsed::MalformedForm => Err(semantic(
            vec![body::resultado_entry("", "Malformed form body")],
            None,
        )),
        Parsed::FormRefused {
            error,
            documento_obligado,
        } => Err(semantic(
            body::resultado_for_form_error(&error),
            documento_obligado.as_deref(),
        )),
    }
}

/// `POST /api/radian/historico_eventos`.
pub fn historico_eventos(state: &(impl ProviderState + ?Sized), request: Request<'_>) -> Reply {
    let started = request.started;
    let accepted = match front(state, request) {
        Ok(accepted) => accepted,
        Err(reply) => return reply,
    };
    let cufe = accepted.form.field("cufe").unwrap_or_default();
    let meta = meta(state, None, started);
    // Serialized from the ledger under its lock (nothing else locked meanwhile).
    let events = state.events();
    let rows = events.history_rows(cufe);
    Reply::json(200, &body::Historico::new(&rows, &meta))
}

/// A plain-http webhook on loopback breaks the contract (https only) but is answered as if
/// it did not, so that tests can receive deliveries; the journal still reports it.
fn is_loopback_test_webhook(violation: &Violation, data: &Document) -> bool {
    violation.path.to_string() == "/generalidades/webhook"
        && violation.keyword() == "pattern"
        && data
            .lookup(&violation.path)
            .and_then(|webhook| webhook.as_str())
            .is_some_and(is_loopback_http_url)
}

/// `http://` to a loopback host: the plain-http webhooks the fake delivers to.
fn is_loopback_http_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|url| {
        url.scheme() == "http" && is_loopback_host(url.host_str().unwrap_or_default())
    })
}

/// Whether a URL's host is this machine's loopback: `localhost`, 127.0.0.0/8, `[::1]`, or an
/// IPv4-mapped loopback (`[::ffff:127.0.0.1]`). One rule for the answer's leniency here and
/// for the delivery itself (`server::webhooks::allowed`).
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// The DIAN event an operation registers, if it registers one. Exhaustive, so that a new
/// operation is placed here by the compiler.
fn event_code(operation: Operation) -> Option<EventCode> {
    match operation {
        Operation::AcuseReciboFev => Some(EventCode::AcuseRecibo),
        Operation::ReciboBienServicio => Some(EventCode::ReciboBien),
        Operation::Reclamo => Some(EventCode::Reclamo),
        Operation::HistoricoEventos
        | Operation::LectorCufeTenedorLegitimo
        | Operation::Saldos
        | Operation::SaldosPdf
        | Operation::SaldosCsv => None,
    }
}

/// `POST /api/radian/acuse_recibo_fev` (030), `recibo_bien_servicio` (032) and `reclamo` (031):
/// one envelope, one answer, the event registered under DIAN's ordering rules.
pub fn register_event(state: &(impl ProviderState + ?Sized), request: Request<'_>) -> Reply {
    let started = request.started;
    let Some(code) = event_code(request.operation) else {
        // `answer` sends only the operations the table says register an event.
        return super::refuse(request.operation.path(), super::Refusal::NotFound);
    };
    let Accepted {
        form,
        form_violations,
        mut data_violations,
    } = match front(state, request) {
        Ok(accepted) => accepted,
        Err(reply) => return reply,
    };
    let documento = form
        .field("documento_obligado")
        .unwrap_or_default()
        .to_owned();
    let data = form.data.unwrap_or_default();
    data_violations
        .0
        .retain(|v| !is_loopback_test_webhook(v, &data));
    let mut resultado = body::document_resultado(&form_violations, &form.fields);
    resultado.extend(body::document_resultado(&data_violations, &data));
    if !resultado.is_empty() {
        let meta = meta(state, Some(&documento), started);
        return Reply::json(400, &body::semantic_error(resultado, &meta));
    }

    let cufes = event_cufes(&data);
    let at = state.clock().colombia();
    let mut outcome = None;
    for cufe in cufes {
        let recorded = record_event(state, cufe, code, &documento);
        let failed = recorded.is_err();
        outcome = Some(recorded);
        if failed {
            break;
        }
    }
    let xml_base_url = &state.config().afacturar.xml_base_url;
    let meta = meta(state, Some(&documento), started);
    let xml_url =
        |sequence: &str| url_representacion_xml(xml_base_url, at.date(), &documento, sequence);
    match outcome {
        Some(Ok(stored)) => {
            let row = stored.event.row;
            let resultado = AcuseResultado {
                url_representacion_xml: xml_url(&stored.file_sequence.to_string()),
                cude: row.cude,
                numero_evento: row.numero,
                fecha_evento: row.fecha,
            };
            Reply::json_bytes(200, body::AcuseSuccess::new(&resultado, &meta).to_json())
        }
        Some(Err(RecordError::Storage(error))) => {
            let error = crate::error_text::chain(&error);
            tracing::error!(%error, "the event could not be stored");
            error_reply(AfacturarError::Table(500))
        }
        Some(Err(RecordError::Rejected(rejected))) => {
            let row = *rejected.attempt;
            let resultado = AcuseResultado {
                url_representacion_xml: xml_url(&row.identificacion_evento),
                cude: row.cude,
                numero_evento: row.identificacion_evento,
                fecha_evento: row.fecha,
            };
            Reply::json(
                200,
                &body::dian_error(&resultado, &rejected.rejection.to_string(), &meta),
            )
        }
        // The schema requires at least one event with a CUFE: unreachable with a valid form.
        None => error_reply(AfacturarError::Table(500)),
    }
}

/// `POST /api/radian/lector_cufe_tenedor_legitimo`: the legitimate holder of each CUFE of
/// `lista_cufe`, the invoice's seller (a configured invoice, or the default seller: the fake
/// registers no endorsement, contract note A46). Form errors are code 10 with Laravel's
/// messages; a token that is not the obligado's (`afacturar.token_obligados`) is code 11.
pub fn lector_cufe_tenedor_legitimo(
    state: &(impl ProviderState + ?Sized),
    request: Request<'_>,
) -> Reply {
    let started = request.started;
    if request.method != Method::POST {
        return error_reply(AfacturarError::Table(405));
    }
    let Some(token) = accepted_token(state, request.headers) else {
        return error_reply(AfacturarError::Unauthenticated);
    };
    let config = &state.config().afacturar;
    let (form, violations) = match request.parsed {
        Parsed::Form {
            form,
            form_violations,
            ..
        } => (form, form_violations),
        Parsed::NotAForm | Parsed::NotJson | Parsed::Json { .. } => {
            return error_reply(AfacturarError::Table(415));
        }
        Parsed::MalformedForm | Parsed::FormRefused { .. } => {
            return Reply::json(
                200,
                &body::lector_validation_error(vec![
                    "The documento obligado field is required.".to_owned(),
                    "The lista cufe field is required.".to_owned(),
                ]),
            );
        }
    };
    if !violations.is_empty() {
        return Reply::json(
            200,
            &body::lector_validation_error(body::lector_messages(&violations)),
        );
    }
    let documento = form.field("documento_obligado").unwrap_or_default();
    if let Some(obligados) = config.token_obligados.get(token) {
        if !obligados.iter().any(|o| o == documento) {
            let meta = meta(state, None, started);
            return Reply::json(200, &body::lector_token_error(&meta));
        }
    }
    let rows: Vec<body::TenedorLegitimo> = form
        .field("lista_cufe")
        .unwrap_or_default()
        .split(',')
        .map(|cufe| {
            let seller = super::seller_of(state.config(), cufe);
            body::TenedorLegitimo::new(cufe, &seller.identificacion, &seller.nombre)
        })
        .collect();
    let meta = meta(state, None, started);
    Reply::json(200, &body::lector_success(&rows, &meta))
}

/// The answer to a request that breaks the contract, without the state: what the provider
/// would refuse it with. A request whose only findings the provider tolerates (no
/// `Accept: application/json`) gets the semantic 400 listing those findings, so that a
/// broken request never passes. For wiremock's `ContractResponder`.
pub fn refuse_violation(
    context: &(impl Context + ?Sized),
    request: Request<'_>,
    findings: &[super::Finding],
) -> Reply {
    let started = request.started;
    let accepted = match front(context, request) {
        Ok(accepted) => accepted,
        Err(reply) => return reply,
    };
    let documento = accepted.form.field("documento_obligado").map(str::to_owned);
    let mut resultado = body::document_resultado(&accepted.form_violations, &accepted.form.fields);
    if let Some(data) = &accepted.form.data {
        resultado.extend(body::document_resultado(&accepted.data_violations, data));
    }
    if resultado.is_empty() {
        resultado = findings
            .iter()
            .map(|finding| body::resultado_entry(&finding.location, &finding.message))
            .collect();
    }
    let meta = meta(context, documento.as_deref(), started);
    Reply::json(400, &body::semantic_error(resultado, &meta))
}

#[cfg(test)]
mod tests {
    use super::{event_code, Operation};

    #[test]
    fn the_operations_that_register_an_event_are_those_the_table_says() {
        for operation in Operation::ALL {
            assert_eq!(
                event_code(operation).is_some(),
                operation.registers_event(),
                "{operation}"
            );
        }
    }
}
