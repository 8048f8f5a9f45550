//! The one answer core: a verified request and the provider's state in, the provider's reply
//! out. Synchronous, and free of any HTTP server or mocking library: the axum server, the
//! wiremock responders, `validate --format json`, armed scenarios and the code-28 replay all
//! answer through here, so each answer is written once.
//!
//! `verify` judges a raw request (method, headers, body bytes) against the contract and parses
//! the body once; the functions here answer from that parse and never read the body again.

pub mod afacturar;
pub mod forms;
pub mod sovos;
pub mod verify;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, MutexGuard};
use std::time::Instant;

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

pub use verify::{credential, mask, mask_into, verify, verify_as, Finding, Parsed, Verdict};

use crate::config::Config;
use crate::contract::{Operation, Provider};
use crate::domain::afacturar::events::EventCode;
use crate::domain::afacturar::ledger::{
    EventLedger, EventParty, NewEvent, RecordError, StoredEvent,
};
use crate::domain::clock::Clock;
use crate::domain::sovos::ledger::Account;
use crate::render::afacturar::errors::AfacturarError;
use crate::render::sovos::errors::SovosError;

/// A provider's answer, independent of the HTTP library that sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Content-Type`, when there is a body.
    pub content_type: &'static str,
    /// Further headers (`Content-Disposition` of a report, `Connection: close` of a refusal).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON body already written (`render::json`).
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type: "application/json",
            headers: Vec::new(),
            body,
        }
    }

    /// A JSON body, serialized straight to bytes (no `Value` built on the hot path).
    pub fn json(status: u16, body: &impl serde::Serialize) -> Reply {
        // Room for a few history rows up front instead of growing from 128 bytes.
        let mut bytes = Vec::with_capacity(2048);
        match serde_json::to_writer(&mut bytes, body) {
            Ok(()) => Reply::json_bytes(status, bytes),
            // Only a map with non-string keys fails to serialize; no body here has one.
            Err(error) => {
                tracing::error!(%error, "a response body could not be serialized");
                Reply {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    content_type: "application/json",
                    headers: Vec::new(),
                    body: b"{}".to_vec(),
                }
            }
        }
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// With one more header.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// What an answer needs from its surroundings: the configuration, the clock and PHP-style
/// unique ids. Enough for refusals and documented answers; [`ProviderState`] adds the state.
pub trait Context {
    /// The configuration in force.
    fn config(&self) -> &Config;

    /// The clock.
    fn clock(&self) -> Clock;

    /// A unique moment for PHP's `uniqid()`, in microseconds: two answers never share one.
    fn uniqid_micros(&self) -> u64;

    /// `tiempo_ejecucion` of a request that started at `started`.
    fn tiempo_ejecucion(&self, started: Instant) -> f64 {
        self.config()
            .server
            .fixed_tiempo_ejecucion
            .unwrap_or_else(|| started.elapsed().as_secs_f64())
    }
}

/// The providers' state: the Afacturar event ledger and the Sovos accounts.
pub trait ProviderState: Context {
    /// The Afacturar events. Held only for the bookkeeping itself.
    fn events(&self) -> MutexGuard<'_, EventLedger>;

    /// The Sovos accounts with the key that reaches each (`None`: any key).
    fn accounts(&self) -> MutexGuard<'_, Vec<(Option<String>, Account)>>;
}

/// Runs `f` on the Sovos account that `api_key` reaches, under the lock.
pub fn with_account<R>(
    state: &(impl ProviderState + ?Sized),
    api_key: &str,
    f: impl FnOnce(&Account) -> R,
) -> Option<R> {
    state
        .accounts()
        .iter()
        .find(|(k, _)| k.as_deref().is_none_or(|k| k == api_key))
        .map(|(_, account)| f(account))
}

/// Registers an event for `cufe` sent by `emisor_identificacion` now, under DIAN's ordering
/// rules. The receiver is the invoice's seller (configured invoice, or
/// `afacturar.default_seller`).
pub fn record_event(
    state: &(impl ProviderState + ?Sized),
    cufe: &str,
    code: EventCode,
    emisor_identificacion: &str,
) -> Result<Recorded, RecordError> {
    record_event_at(
        state,
        cufe,
        code,
        emisor_identificacion,
        state.clock().colombia(),
    )
}

/// [`record_event`] at a given moment (Colombian time): an event another party registered,
/// such as the seller's aceptación tácita (`POST /__admin/events`).
pub fn record_event_at(
    state: &(impl ProviderState + ?Sized),
    cufe: &str,
    code: EventCode,
    emisor_identificacion: &str,
    at: chrono::NaiveDateTime,
) -> Result<Recorded, RecordError> {
    let config = state.config();
    let afacturar = &config.afacturar;
    let seller = seller_of(config, cufe);
    let event = NewEvent {
        cufe: cufe.to_owned(),
        code,
        at,
        emisor: EventParty {
            nombre: config
                .party_name(emisor_identificacion)
                .unwrap_or(emisor_identificacion)
                .to_owned(),
            identificacion: emisor_identificacion.to_owned(),
        },
        receptor: EventParty {
            nombre: seller.nombre.clone(),
            identificacion: seller.identificacion.clone(),
        },
        numero_factura: seller.numero_factura.clone(),
        software_pin: afacturar.software_pin.clone(),
        cude: None,
        identificacion_evento: None,
    };
    let mut events = state.events();
    let event = events.record(event)?;
    Ok(Recorded {
        event,
        file_sequence: events.len() as u64,
    })
}

/// An event just registered, and the sequence of its XML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The event.
    pub event: StoredEvent,
    /// The sequence in its `url_representacion_xml`: how many events the fake holds once it is
    /// recorded, so that no two events ever share a file, across CUFEs and restarts (events are
    /// never removed but by a reset; contract note A24).
    pub file_sequence: u64,
}

/// The seller of the invoice `cufe` (a configured invoice, or `afacturar.default_seller`): the
/// receiver of the buyer's events and, until an endorsement the fake does not model, the
/// invoice's legitimate holder.
pub fn seller_of<'c>(config: &'c Config, cufe: &str) -> &'c crate::config::Seller {
    let afacturar = &config.afacturar;
    afacturar
        .invoices
        .iter()
        .find(|i| i.cufe == cufe)
        .map_or(&afacturar.default_seller, |i| &i.seller)
}

/// A request as verification left it: the operation it is answered as, its method and
/// headers, and the body as parsed once.
#[derive(Debug)]
pub struct Request<'a> {
    /// The operation.
    pub operation: Operation,
    /// The method.
    pub method: &'a Method,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body, parsed and validated.
    pub parsed: Parsed,
    /// When the request arrived, for `tiempo_ejecucion`.
    pub started: Instant,
}

/// The provider's reply to a verified request to one of its operations.
pub fn answer(state: &(impl ProviderState + ?Sized), request: Request<'_>) -> Reply {
    match request.operation {
        Operation::HistoricoEventos => afacturar::historico_eventos(state, request),
        Operation::AcuseReciboFev | Operation::ReciboBienServicio | Operation::Reclamo => {
            afacturar::register_event(state, request)
        }
        Operation::LectorCufeTenedorLegitimo => {
            afacturar::lector_cufe_tenedor_legitimo(state, request)
        }
        Operation::Saldos => sovos::saldos(state, request),
        Operation::SaldosPdf | Operation::SaldosCsv => sovos::report(state, request),
    }
}

/// A response a provider documents, named by its code (`"15"`, `"400-datos"`, `"400-001"` …):
/// checked once, when named, so that answering it cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentedCode {
    /// One of Afacturar's documented responses, on an operation (whose shape it may take).
    Afacturar(Operation, &'static str),
    /// One of the Sovos errors (its wording chosen by the operation).
    Sovos(SovosError),
}

/// A code the provider (or the operation) does not document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode {
    /// The code asked for.
    pub code: String,
    /// The codes that would have been accepted.
    pub documented: &'static [&'static str],
}

impl DocumentedCode {
    /// A response `operation` documents (`afacturar::body::documented_codes`,
    /// `SovosError::documented_codes`): what a scenario may arm.
    pub fn of_operation(operation: Operation, code: &str) -> Result<DocumentedCode, UnknownCode> {
        match operation.provider() {
            Provider::Afacturar => {
                let known = crate::render::afacturar::body::documented_codes(operation);
                known
                    .iter()
                    .find(|known| **known == code)
                    .map(|known| DocumentedCode::Afacturar(operation, known))
                    .ok_or_else(|| UnknownCode {
                        code: code.to_owned(),
                        documented: known,
                    })
            }
            Provider::Sovos => DocumentedCode::sovos(operation, code),
        }
    }

    /// Any of Afacturar's documented responses, in the shape of the operation that documents
    /// it (`acuse_recibo_fev` for the codes several operations share).
    pub fn afacturar(code: &str) -> Result<DocumentedCode, UnknownCode> {
        use crate::render::afacturar::body::{documented_codes, DOCUMENTED_CODES};
        let operation = [
            Operation::AcuseReciboFev,
            Operation::HistoricoEventos,
            Operation::LectorCufeTenedorLegitimo,
        ]
        .into_iter()
        .find(|op| documented_codes(*op).contains(&code))
        .unwrap_or(Operation::AcuseReciboFev);
        DOCUMENTED_CODES
            .iter()
            .find(|known| **known == code)
            .map(|known| DocumentedCode::Afacturar(operation, known))
            .ok_or_else(|| UnknownCode {
                code: code.to_owned(),
                documented: &DOCUMENTED_CODES,
            })
    }

    /// One of the Sovos errors `operation` documents; `operation` also chooses the wording
    /// where it differs (400-002).
    pub fn sovos(operation: Operation, code: &str) -> Result<DocumentedCode, UnknownCode> {
        SovosError::documented(code, operation)
            .map(DocumentedCode::Sovos)
            .ok_or_else(|| UnknownCode {
                code: code.to_owned(),
                documented: SovosError::documented_codes(operation),
            })
    }

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            DocumentedCode::Afacturar(_, code) => code,
            DocumentedCode::Sovos(error) => error.code(),
        }
    }

    /// The provider whose response this is.
    pub fn provider(self) -> Provider {
        match self {
            DocumentedCode::Afacturar(..) => Provider::Afacturar,
            DocumentedCode::Sovos(_) => Provider::Sovos,
        }
    }

    /// The response, with `transaccion` built from `documento_obligado` when the request
    /// carried one.
    pub fn reply(
        self,
        context: &(impl Context + ?Sized),
        documento_obligado: Option<&str>,
        started: Instant,
    ) -> Reply {
        match self {
            DocumentedCode::Afacturar(operation, code) => {
                let meta = afacturar::meta(context, documento_obligado, started);
                match crate::render::afacturar::body::documented_response(operation, code, &meta) {
                    Some((status, body)) => Reply::json(status, &body),
                    // Every code in the list renders (a test walks them): not reached.
                    None => afacturar::error_reply(AfacturarError::Table(500)),
                }
            }
            DocumentedCode::Sovos(error) => sovos::error_reply(error),
        }
    }
}

/// A request the fake refuses before any operation answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No operation on this path (404).
    NotFound,
    /// A documented path asked with another method (405).
    MethodNotAllowed,
    /// The body did not arrive in time (408).
    RequestTimeout,
    /// The body is over the limit (413).
    PayloadTooLarge,
    /// The body breaks HTTP's framing (a bad chunk size): 400.
    MalformedBody,
    /// The request's `Host` breaks HTTP's rules (none in HTTP/1.1, several, not
    /// `host[:port]`: RFC 9112 §3.2): 400, before the body is read.
    BadHost,
}

/// The answer to a request past the rate limit: Afacturar's documented 429 (error table row),
/// or for Sovos, which documents no limit, a 429 in its errors format (contract note S17);
/// `Retry-After` in whole seconds, rounded up, so that a client that waits that long is
/// admitted.
pub fn rate_limited(
    state: &(impl ProviderState + ?Sized),
    path: &str,
    operation: Option<Operation>,
    documento_obligado: Option<&str>,
    retry_after: std::time::Duration,
    started: Instant,
) -> Reply {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let reply = match provider_of(path) {
        Some(Provider::Sovos) => sovos::error_reply(SovosError::TooManyRequests),
        _ => DocumentedCode::Afacturar(operation.unwrap_or(Operation::AcuseReciboFev), "429")
            .reply(state, documento_obligado, started),
    };
    reply.with_header(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)))
}

/// The provider whose path prefix `path` shares, if any.
pub fn provider_of(path: &str) -> Option<Provider> {
    if path.starts_with("/api/radian/") {
        Some(Provider::Afacturar)
    } else if path.starts_with("/api/rest/") {
        Some(Provider::Sovos)
    } else {
        None
    }
}

/// A refusal in the format of the provider whose path it was sent to. Refusals of a body that
/// was not read whole close the connection: the rest of it cannot be skipped.
pub fn refuse(path: &str, refusal: Refusal) -> Reply {
    let reply = match provider_of(path) {
        Some(Provider::Sovos) => sovos::error_reply(match refusal {
            Refusal::NotFound => SovosError::NotFound,
            Refusal::MethodNotAllowed => SovosError::MethodNotAllowed,
            Refusal::RequestTimeout => SovosError::RequestTimeout,
            Refusal::PayloadTooLarge => SovosError::PayloadTooLarge,
            // A body that cannot be read binds to nothing: MesConsulta is missing.
            Refusal::MalformedBody => SovosError::MesConsultaInvalido,
            Refusal::BadHost => SovosError::BadRequest,
        }),
        None if refusal == Refusal::NotFound => Reply::json(
            404,
            &serde_json::json!({
                "error": "not found",
                "path": path,
                "operations": Operation::ALL.iter().map(|op| format!("POST {}", op.path())).collect::<Vec<_>>(),
            }),
        ),
        // Afacturar's paths, and the others' refusals in Afacturar's table wording, as before
        // any provider was known.
        Some(Provider::Afacturar) | None => afacturar::error_reply(match refusal {
            Refusal::NotFound => AfacturarError::Table(404),
            Refusal::MethodNotAllowed => AfacturarError::Table(405),
            Refusal::RequestTimeout => AfacturarError::RequestTimeout,
            Refusal::PayloadTooLarge => AfacturarError::PayloadTooLarge,
            Refusal::MalformedBody | Refusal::BadHost => AfacturarError::Table(400),
        }),
    };
    match refusal {
        Refusal::RequestTimeout
        | Refusal::PayloadTooLarge
        | Refusal::MalformedBody
        | Refusal::BadHost => {
            reply.with_header(header::CONNECTION, HeaderValue::from_static("close"))
        }
        Refusal::NotFound | Refusal::MethodNotAllowed => reply,
    }
}

/// The next moment for PHP's `uniqid()`: `now_micros`, moved forward past `last` when needed so
/// that two answers never share one (a frozen clock gives 1, 2, 3 … µs later).
pub fn next_uniqid(last: &AtomicU64, now_micros: u64) -> u64 {
    let mut seen = last.load(Ordering::Relaxed);
    loop {
        let next = now_micros.max(seen.saturating_add(1));
        match last.compare_exchange_weak(seen, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => seen = actual,
        }
    }
}

/// A context without a server: the embedded default configuration, the real clock and unique
/// ids per process. What wiremock's responders answer with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Detached;

impl Context for Detached {
    fn config(&self) -> &Config {
        static DEFAULT: LazyLock<Config> = LazyLock::new(Config::embedded_default);
        &DEFAULT
    }

    fn clock(&self) -> Clock {
        Clock::new(None)
    }

    fn uniqid_micros(&self) -> u64 {
        static LAST: AtomicU64 = AtomicU64::new(0);
        let now = u64::try_from(self.clock().now().timestamp_micros()).unwrap_or_default();
        next_uniqid(&LAST, now)
    }
}

/// The code of an answer as a scenario names it (`0`/`200` for a success), when `operation`
/// documents it: what contract coverage counts.
pub fn answered_code(operation: Operation, status: u16, body: &[u8]) -> Option<&'static str> {
    match operation.provider() {
        Provider::Afacturar => {
            crate::render::afacturar::body::answered_code(operation, status, body)
        }
        Provider::Sovos => crate::render::sovos::errors::answered_code(operation, status, body),
    }
}

/// Every answer `operation` documents, success first (`0` on Afacturar, `200` on Sovos), then
/// the codes a scenario may arm.
pub fn documented_answers(operation: Operation) -> Vec<&'static str> {
    let (success, codes) = match operation.provider() {
        Provider::Afacturar => (
            "0",
            crate::render::afacturar::body::documented_codes(operation),
        ),
        Provider::Sovos => ("200", SovosError::documented_codes(operation)),
    };
    std::iter::once(success)
        .chain(codes.iter().copied())
        .collect()
}

/// The proxy's 502 when the real provider could not be reached or failed to answer, in the
/// format of the provider whose path it was sent to (contract note P1).
pub fn upstream_error(path: &str, cause: &str) -> Reply {
    match provider_of(path) {
        Some(Provider::Sovos) => {
            Reply::json(502, &crate::render::sovos::errors::upstream_error(cause))
        }
        _ => Reply::json(502, &crate::render::afacturar::body::upstream_error(cause)),
    }
}
