//! [wiremock](https://docs.rs/wiremock) integration: the providers' contracts as matchers and
//! responders, for tests that already mock their HTTP dependencies with wiremock.
//!
//! [`FakeProvider`](crate::FakeProvider) is a whole provider with state. When a test suite
//! already runs a [`wiremock::MockServer`] and only wants to *add* the contract to its own
//! mocks, this module gives it four pieces:
//!
//! | piece | kind | what it does |
//! | --- | --- | --- |
//! | [`conforms_to`] | [`wiremock::Match`] | true for a `POST` to the operation's path that [`verify`] finds nothing wrong with |
//! | [`breaks_contract`] | [`wiremock::Match`] | true for a request to the operation's path that breaks the contract |
//! | [`DocumentedResponse`] | [`wiremock::Respond`] | one documented answer, by code: Afacturar's `15`, Sovos's `400-001` … |
//! | [`ContractResponder`] | [`wiremock::Respond`] | the provider's own error for a request that breaks the contract, your template otherwise |
//!
//! # Match conforming requests, answer the others as the provider does
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use einvoice_mock::mocks::{breaks_contract, conforms_to, DocumentedResponse};
//! use einvoice_mock::Operation;
//! use serde_json::{json, Value};
//! use wiremock::matchers::{method, path};
//! use wiremock::{Mock, MockServer, ResponseTemplate};
//!
//! let server = MockServer::start().await;
//! let balance = json!({
//!     "TipoConsumo": "Postpago", "FechaActual": "2019-11-19T13:55:49",
//!     "Registrados": 0, "Autorizados": 0, "GeneraronTimbre": 0, "Transacciones": 0,
//!     "Detalle": []
//! });
//! // Your mock, now only for requests the documents allow …
//! Mock::given(method("POST"))
//!     .and(path(Operation::Saldos.path()))
//!     .and(conforms_to(Operation::Saldos))
//!     .respond_with(ResponseTemplate::new(200).set_body_json(&balance))
//!     .mount(&server)
//!     .await;
//! // … and the provider's 400-001 for the others.
//! Mock::given(breaks_contract(Operation::Saldos))
//!     .respond_with(DocumentedResponse::sovos(Operation::Saldos, "400-001")?)
//!     .mount(&server)
//!     .await;
//!
//! let client = reqwest::Client::builder().no_proxy().build()?;
//! let saldos = |body: Value| {
//!     client
//!         .post(format!("{}{}", server.uri(), Operation::Saldos.path()))
//!         .header("RCApiKey", "my-key")
//!         .json(&body)
//!         .send()
//! };
//!
//! let ok = saldos(json!({ "MesConsulta": "2019-11" })).await?;
//! assert_eq!(ok.status(), 200);
//! assert_eq!(ok.json::<Value>().await?, balance);
//!
//! let bad = saldos(json!({ "MesConsulta": "2019-13" })).await?;
//! assert_eq!(bad.status(), 400);
//! assert_eq!(bad.json::<Value>().await?["errors"][0]["Code"], "400-001");
//! # Ok(())
//! # }
//! ```
//!
//! # One responder for both: [`ContractResponder`]
//!
//! [`ContractResponder`] judges the request itself, and words what is wrong exactly as the
//! provider would (Afacturar's PHP validator, Sovos's `errors[{Code, Message}]`); a request
//! that conforms gets the template you give it.
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use einvoice_mock::mocks::ContractResponder;
//! use einvoice_mock::Operation;
//! use serde_json::{json, Value};
//! use wiremock::matchers::{method, path};
//! use wiremock::{Mock, MockServer, ResponseTemplate};
//!
//! let server = MockServer::start().await;
//! let success = ResponseTemplate::new(200).set_body_json(json!({ "Transacciones": 0 }));
//! Mock::given(method("POST"))
//!     .and(path(Operation::Saldos.path()))
//!     .respond_with(ContractResponder::new(Operation::Saldos, success))
//!     .mount(&server)
//!     .await;
//!
//! let client = reqwest::Client::builder().no_proxy().build()?;
//! let url = format!("{}{}", server.uri(), Operation::Saldos.path());
//!
//! // Without the RCApiKey header: Sovos's 401.
//! let anonymous = client.post(&url).json(&json!({ "MesConsulta": "2019-11" })).send().await?;
//! assert_eq!(anonymous.status(), 401);
//!
//! // A month 13: 400-001 in the seed's words.
//! let bad = client
//!     .post(&url)
//!     .header("RCApiKey", "my-key")
//!     .json(&json!({ "MesConsulta": "2019-13" }))
//!     .send()
//!     .await?;
//! assert_eq!(bad.status(), 400);
//! assert_eq!(
//!     bad.json::<Value>().await?,
//!     json!({ "errors": [{
//!         "Code": "400-001",
//!         "Message": "'MesConsulta' se encuentra en un formato inválido."
//!     }]})
//! );
//!
//! // A conforming request: your template.
//! let good = client
//!     .post(&url)
//!     .header("RCApiKey", "my-key")
//!     .json(&json!({ "MesConsulta": "2019-11" }))
//!     .send()
//!     .await?;
//! assert_eq!(good.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! Afacturar's operations take a form (`multipart/form-data`, or urlencoded); the matchers and
//! responders read it from the request wiremock has already received.
//!
//! [`verify`]: crate::server::verify::verify

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use wiremock::{Match, Request, Respond, ResponseTemplate};

use crate::contract::{parse_form, Contract, Operation, Provider};
use crate::provider::afacturar::body::{self, Meta};
use crate::provider::afacturar::handlers::Answer;
use crate::provider::sovos::errors::SovosError;
use crate::provider::sovos::handlers::Failure;
use crate::server::forms::{read_fields, FormBodyError};
use crate::server::verify::{credential, verify, Finding, Verdict};

/// `entorno` of the answers built here, as the fake's default configuration has it.
const ENTORNO: &str = "DOCUMENTO_NO_VALIDO";

/// Drives `future` with a waker that does nothing and returns its output if it is ready after
/// one poll. For futures that never wait on I/O (a body already in memory).
fn ready_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// The fields of a form body already received, read synchronously (wiremock's `Match` and
/// `Respond` are not async). A reader that does not finish at once counts as a malformed form.
fn read_form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, FormBodyError> {
    ready_now(read_fields(headers, Bytes::copy_from_slice(body))).unwrap_or_else(|| {
        Err(FormBodyError::Malformed(
            "the form reader did not finish on a body in memory".to_owned(),
        ))
    })
}

/// The form of a request to a form operation, when the request is a readable form.
fn form_of(operation: Operation, request: &Request) -> Option<Vec<(String, String)>> {
    operation
        .is_form()
        .then(|| read_form(&request.headers, &request.body).ok())
        .flatten()
}

/// What [`verify`] finds in `request`, judged as a request to `operation` whatever its path.
fn verdict_of(operation: Operation, request: &Request) -> Verdict {
    verify(
        Contract::global(),
        &request.method,
        operation.path(),
        &request.headers,
        &request.body,
        form_of(operation, request),
    )
}

/// Whether the request's path is the operation's documented path.
fn on_path(operation: Operation, request: &Request) -> bool {
    request.url.path() == operation.path()
}

/// The last `documento_obligado` of a form (PHP's `$_POST` keeps the last value).
fn documento_obligado(fields: &[(String, String)]) -> Option<&str> {
    fields
        .iter()
        .rev()
        .find(|(name, _)| name == "documento_obligado")
        .map(|(_, value)| value.as_str())
}

/// A moment for PHP's `uniqid()`: now, in microseconds, moved forward when needed so that two
/// answers of this process never share one.
fn uniqid_micros() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or_default();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => last = actual,
        }
    }
}

/// Afacturar's `tiempo_ejecucion`, `transaccion` and `entorno`, filled as the fake fills them.
fn afacturar_meta(documento_obligado: Option<&str>, started: Instant) -> Meta {
    let micros = uniqid_micros();
    Meta {
        tiempo_ejecucion: started.elapsed().as_secs_f64(),
        transaccion: match documento_obligado {
            Some(nit) => body::transaccion_for(nit, micros),
            None => body::uniqid(micros),
        },
        entorno: ENTORNO.to_owned(),
    }
}

/// A JSON answer.
fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// Matches requests that conform to an operation's contract: a `POST` to its documented path
/// in which [`verify`] finds nothing (credential, headers,
/// form or JSON body, payload schema).
///
/// ```
/// use einvoice_mock::mocks::conforms_to;
/// use einvoice_mock::Operation;
/// use wiremock::{Mock, ResponseTemplate};
///
/// let _mock = Mock::given(conforms_to(Operation::Saldos)).respond_with(ResponseTemplate::new(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConformsTo(pub Operation);

/// A [`ConformsTo`] matcher for `operation`, in wiremock's style.
pub fn conforms_to(operation: Operation) -> ConformsTo {
    ConformsTo(operation)
}

impl Match for ConformsTo {
    fn matches(&self, request: &Request) -> bool {
        let operation = self.0;
        on_path(operation, request)
            && request.method == Method::POST
            && verdict_of(operation, request).conforms()
    }
}

/// Matches requests to an operation's documented path that break its contract (any method):
/// the complement of [`ConformsTo`] on that path. Pair it with [`DocumentedResponse`] or
/// [`ContractResponder`] to answer violations with the provider's 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreaksContract(pub Operation);

/// A [`BreaksContract`] matcher for `operation`, in wiremock's style.
pub fn breaks_contract(operation: Operation) -> BreaksContract {
    BreaksContract(operation)
}

impl Match for BreaksContract {
    fn matches(&self, request: &Request) -> bool {
        let operation = self.0;
        on_path(operation, request) && !verdict_of(operation, request).conforms()
    }
}

/// A response code that the provider does not document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{code}` is not a documented {} response code; documented codes: {}",
    provider_name(*.provider),
    .documented.join(", ")
)]
pub struct UnknownCode {
    /// The code asked for.
    pub code: String,
    /// The provider it was asked of.
    pub provider: Provider,
    /// The codes the provider documents.
    pub documented: &'static [&'static str],
}

fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Afacturar => "Afacturar",
        Provider::Sovos => "Sovos",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Documented {
    Afacturar(&'static str),
    Sovos(SovosError),
}

/// Answers one documented response, by code: its HTTP status and JSON body
/// (`Content-Type: application/json`), as the fake answers an armed scenario.
///
/// Afacturar's bodies that carry `transaccion`, `tiempo_ejecucion` and `entorno` get them as
/// the fake fills them: a `uniqid()` from the current time, prefixed by the base64 of the
/// request's `documento_obligado` when its form has one, and entorno `DOCUMENTO_NO_VALIDO`.
/// Bodies the documents print (15, 400, 400-datos, 500) are answered verbatim.
///
/// ```
/// use einvoice_mock::mocks::DocumentedResponse;
/// use einvoice_mock::Operation;
///
/// assert!(DocumentedResponse::afacturar("15").is_ok());
/// assert!(DocumentedResponse::sovos(Operation::SaldosPdf, "400-003").is_ok());
/// let unknown = DocumentedResponse::afacturar("418").unwrap_err();
/// assert!(unknown.to_string().contains("400-datos"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentedResponse {
    documented: Documented,
}

impl DocumentedResponse {
    /// One of Afacturar's documented responses: any of
    /// [`DOCUMENTED_CODES`](crate::provider::afacturar::body::DOCUMENTED_CODES) (`"12"`,
    /// `"15"`, `"28"`, `"400"`, `"400-datos"`, `"401"`, the error table's rows).
    pub fn afacturar(code: &str) -> Result<DocumentedResponse, UnknownCode> {
        let probe = Meta {
            tiempo_ejecucion: 0.0,
            transaccion: String::new(),
            entorno: ENTORNO.to_owned(),
        };
        body::DOCUMENTED_CODES
            .iter()
            .find(|known| **known == code)
            .filter(|known| body::documented_response(known, &probe).is_some())
            .map(|known| DocumentedResponse {
                documented: Documented::Afacturar(known),
            })
            .ok_or_else(|| UnknownCode {
                code: code.to_owned(),
                provider: Provider::Afacturar,
                documented: &body::DOCUMENTED_CODES,
            })
    }

    /// One of the Sovos errors `operation` documents (`"400-001"`, `"400-002"`, `"401"`,
    /// `"404"`, `"500"`, and `"400-003"` on the reports only). `operation` also chooses the
    /// wording where it differs: 400-002 on `saldos` is an RFC that is not the account's, on
    /// the reports an `RFCConsulta` that must not be sent.
    pub fn sovos(operation: Operation, code: &str) -> Result<DocumentedResponse, UnknownCode> {
        SovosError::documented(code, operation)
            .map(|error| DocumentedResponse {
                documented: Documented::Sovos(error),
            })
            .ok_or_else(|| UnknownCode {
                code: code.to_owned(),
                provider: Provider::Sovos,
                documented: SovosError::documented_codes(operation),
            })
    }

    /// The provider whose response this is.
    pub fn provider(&self) -> Provider {
        match self.documented {
            Documented::Afacturar(_) => Provider::Afacturar,
            Documented::Sovos(_) => Provider::Sovos,
        }
    }

    /// The documented code: `"15"`, `"400-001"` …
    pub fn code(&self) -> &'static str {
        match self.documented {
            Documented::Afacturar(code) => code,
            Documented::Sovos(error) => error.code(),
        }
    }
}

impl Respond for DocumentedResponse {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.documented {
            Documented::Afacturar(code) => {
                let started = Instant::now();
                let fields = read_form(&request.headers, &request.body).unwrap_or_default();
                let meta = afacturar_meta(documento_obligado(&fields), started);
                match body::documented_response(code, &meta) {
                    Some((status, body)) => json_response(status, &body),
                    // Checked by the constructor: an unknown code cannot get here.
                    None => answer(Answer::table(500)),
                }
            }
            Documented::Sovos(error) => json_response(error.status(), &error.body()),
        }
    }
}

/// Answers a request as the provider would judge it: one that breaks the operation's contract
/// gets the provider's own error, one that conforms gets `success`.
///
/// The request is judged as a request to `operation`, whatever path it was mounted on.
///
/// - **Afacturar**: a method other than `POST` is 405; a missing Bearer token is
///   401 `Unauthenticated.`; a body that is not a form is 415; a form that cannot be read,
///   lacks a field or whose `data` is not JSON, and payload violations, are the semantic 400
///   with one `resultado` entry per violation, worded as the PHP validator words them. A
///   request whose only findings the provider tolerates (no `Accept: application/json`) also
///   gets the semantic 400, listing those findings, so that a broken request never passes.
/// - **Sovos**: a method other than `POST` is 405; no `RCApiKey` is 401; a body that is not
///   `application/json` is 415; a body that is not JSON, or a bad `MesConsulta`, is 400-001;
///   a bad `RFCConsulta` is 400-002. Other findings (an undocumented field) are a 400 with
///   `Code` `"400"` and the finding as `Message`: Sovos documents no code for them.
#[derive(Debug, Clone)]
pub struct ContractResponder {
    /// The operation whose contract requests are judged against.
    pub operation: Operation,
    /// The answer to a request that conforms.
    pub success: ResponseTemplate,
}

impl ContractResponder {
    /// A responder for `operation` that answers conforming requests with `success`.
    pub fn new(operation: Operation, success: ResponseTemplate) -> ContractResponder {
        ContractResponder { operation, success }
    }

    fn afacturar_error(&self, request: &Request, verdict: &Verdict) -> ResponseTemplate {
        let started = Instant::now();
        if request.method != Method::POST {
            return answer(Answer::table(405));
        }
        if credential(Provider::Afacturar, &request.headers).is_none() {
            return json_response(401, &body::unauthenticated());
        }
        let fields = match read_form(&request.headers, &request.body) {
            Ok(fields) => fields,
            Err(FormBodyError::UnsupportedMediaType(_)) => return answer(Answer::table(415)),
            Err(FormBodyError::Malformed(_)) => {
                let resultado =
                    vec![json!({ "propiedad": "", "descripcion": "Malformed form body" })];
                let meta = afacturar_meta(None, started);
                return json_response(400, &body::semantic_error(resultado, &meta));
            }
        };
        let documento = documento_obligado(&fields).map(str::to_owned);
        let meta = || afacturar_meta(documento.as_deref(), started);
        let form = match parse_form(self.operation, fields) {
            Ok(form) => form,
            Err(error) => {
                let resultado = body::resultado_for_form_error(&error);
                return json_response(400, &body::semantic_error(resultado, &meta()));
            }
        };
        let contract = Contract::global();
        let mut resultado = Vec::new();
        if let Some(schema) = self.operation.form_schema() {
            if let Ok(violations) = contract.validate_schema(schema, &form.fields) {
                resultado.extend(body::resultado(&violations, &form.fields));
            }
        }
        if let Some(data) = &form.data {
            resultado.extend(body::resultado(
                &contract.validate(self.operation, data),
                data,
            ));
        }
        if resultado.is_empty() {
            resultado = verdict
                .findings
                .iter()
                .map(|finding| json!({ "propiedad": finding.location, "descripcion": finding.message }))
                .collect();
        }
        json_response(400, &body::semantic_error(resultado, &meta()))
    }

    fn sovos_error(&self, request: &Request, verdict: &Verdict) -> ResponseTemplate {
        if request.method != Method::POST {
            // The fake's fallback for a wrong method on a Sovos path (`server::app`).
            return json_response(
                405,
                &json!({ "errors": [{ "Code": "405", "Message": "Método no permitido." }] }),
            );
        }
        if credential(Provider::Sovos, &request.headers).is_none() {
            return sovos_error(SovosError::Unauthorized);
        }
        let is_json = request
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return not_json();
        }
        // A body that is not JSON binds to nothing: MesConsulta is then missing (400-001).
        let Ok(payload) = serde_json::from_slice::<Value>(&request.body) else {
            return sovos_error(SovosError::MesConsultaInvalido);
        };
        let violations = Contract::global().validate(self.operation, &payload);
        if let Some(error) = SovosError::for_violations(self.operation, &violations) {
            return sovos_error(error);
        }
        let errors: Vec<Value> = verdict
            .findings
            .iter()
            .map(
                |Finding {
                     location, message, ..
                 }| {
                    json!({ "Code": "400", "Message": format!("{location}: {message}") })
                },
            )
            .collect();
        json_response(400, &json!({ "errors": errors }))
    }
}

impl Respond for ContractResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let verdict = verdict_of(self.operation, request);
        if verdict.conforms() {
            return self.success.clone();
        }
        match self.operation.provider() {
            Provider::Afacturar => self.afacturar_error(request, &verdict),
            Provider::Sovos => self.sovos_error(request, &verdict),
        }
    }
}

/// An Afacturar answer of the fake, as a wiremock template.
fn answer(answer: Answer) -> ResponseTemplate {
    json_response(answer.status.as_u16(), &answer.body)
}

/// A Sovos documented error, as a wiremock template.
fn sovos_error(error: SovosError) -> ResponseTemplate {
    json_response(error.status(), &error.body())
}

/// Sovos's 415, taken from the fake's own answer so that its wording lives in one place.
fn not_json() -> ResponseTemplate {
    let (status, body) = not_json_answer();
    match body {
        Some(body) => json_response(status, &body),
        None => ResponseTemplate::new(status),
    }
}

/// The status and body of the fake's Sovos 415 (the body is in memory: it is ready at once).
fn not_json_answer() -> (u16, Option<Value>) {
    let response = Failure::NotJson.into_response();
    let status = response.status().as_u16();
    let body = ready_now(axum::body::to_bytes(response.into_body(), usize::MAX))
        .and_then(Result::ok)
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_in_memory_is_read_without_a_runtime() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XYZ".parse().unwrap(),
        );
        let body =
            "--XYZ\r\nContent-Disposition: form-data; name=\"cufe\"\r\n\r\nabc\r\n--XYZ--\r\n";
        assert_eq!(
            read_form(&headers, body.as_bytes()),
            Ok(vec![("cufe".to_owned(), "abc".to_owned())])
        );
    }

    #[test]
    fn sovos_415_is_the_fakes_own_body() {
        let (status, body) = not_json_answer();
        assert_eq!(status, 415);
        assert_eq!(body.unwrap()["errors"][0]["Code"], "415");
    }

    #[test]
    fn uniqids_never_repeat() {
        let a = uniqid_micros();
        let b = uniqid_micros();
        assert!(b > a);
    }
}
