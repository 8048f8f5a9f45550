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
//! use einvoice_mock::{breaks_contract, conforms_to, DocumentedResponse};
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
//! use einvoice_mock::ContractResponder;
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
//! [`verify`]: crate::respond::verify::verify

use std::time::Instant;

use wiremock::{Match, Request, Respond, ResponseTemplate};

use crate::contract::{Contract, Operation, Provider};
use crate::respond::{self, verify_as, Detached, DocumentedCode, Reply, Verdict};

/// What verification finds in `request`, judged as a request to `operation` whatever its
/// path.
fn verdict_of(operation: Operation, request: &Request) -> Verdict {
    verify_as(
        Contract::global(),
        operation,
        &request.method,
        &request.headers,
        &bytes::Bytes::copy_from_slice(&request.body),
    )
}

/// Whether the request's path is the operation's documented path.
fn on_path(operation: Operation, request: &Request) -> bool {
    request.url.path() == operation.path()
}

/// A reply of the answer core as a wiremock template.
fn template(reply: Reply) -> ResponseTemplate {
    let mut template =
        ResponseTemplate::new(reply.status.as_u16()).set_body_raw(reply.body, reply.content_type);
    for (name, value) in reply.headers {
        template = template.insert_header(name, value);
    }
    template
}

/// Matches requests that conform to an operation's contract: a `POST` to its documented path
/// in which verification finds nothing (credential, headers, form or JSON body, payload
/// schema).
///
/// ```
/// use einvoice_mock::conforms_to;
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
            && request.method == http::Method::POST
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

/// Answers one documented response, by code: its HTTP status and JSON body
/// (`Content-Type: application/json`), as the fake answers an armed scenario.
///
/// Afacturar's bodies that carry `transaccion`, `tiempo_ejecucion` and `entorno` get them as
/// the fake fills them: a `uniqid()` from the current time, prefixed by the base64 of the
/// request's `documento_obligado` when its form has one, and entorno `DOCUMENTO_NO_VALIDO`.
/// Bodies the documents print (15, 400, 400-datos, 500) are answered verbatim.
///
/// ```
/// use einvoice_mock::DocumentedResponse;
/// use einvoice_mock::Operation;
///
/// assert!(DocumentedResponse::afacturar("15").is_ok());
/// assert!(DocumentedResponse::sovos(Operation::SaldosPdf, "400-003").is_ok());
/// let unknown = DocumentedResponse::afacturar("418").unwrap_err();
/// assert!(unknown.to_string().contains("400-datos"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentedResponse {
    documented: DocumentedCode,
}

impl DocumentedResponse {
    /// One of Afacturar's documented responses: any of
    /// [`DOCUMENTED_CODES`](crate::render::afacturar::body::DOCUMENTED_CODES) (`"12"`,
    /// `"15"`, `"28"`, `"400"`, `"400-datos"`, `"401"`, the error table's rows).
    pub fn afacturar(code: &str) -> Result<DocumentedResponse, UnknownCode> {
        DocumentedCode::afacturar(code)
            .map(|documented| DocumentedResponse { documented })
            .map_err(|unknown| UnknownCode {
                code: unknown.code,
                provider: Provider::Afacturar,
                documented: unknown.documented,
            })
    }

    /// One of the Sovos errors `operation` documents (`"400-001"`, `"400-002"`, `"401"`,
    /// `"404"`, `"500"`, and `"400-003"` on the reports only). `operation` also chooses the
    /// wording where it differs: 400-002 on `saldos` is an RFC that is not the account's, on
    /// the reports an `RFCConsulta` that must not be sent.
    pub fn sovos(operation: Operation, code: &str) -> Result<DocumentedResponse, UnknownCode> {
        DocumentedCode::sovos(operation, code)
            .map(|documented| DocumentedResponse { documented })
            .map_err(|unknown| UnknownCode {
                code: unknown.code,
                provider: Provider::Sovos,
                documented: unknown.documented,
            })
    }

    /// The provider whose response this is.
    pub fn provider(&self) -> Provider {
        self.documented.provider()
    }

    /// The documented code: `"15"`, `"400-001"` …
    pub fn code(&self) -> &'static str {
        self.documented.code()
    }
}

impl Respond for DocumentedResponse {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let started = Instant::now();
        let documento = match self.documented.provider() {
            Provider::Afacturar => {
                let verdict = verdict_of(Operation::AcuseReciboFev, request);
                verdict
                    .payload()
                    .and_then(|payload| payload.get("documento_obligado"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            }
            Provider::Sovos => None,
        };
        template(
            self.documented
                .reply(&Detached, documento.as_deref(), started),
        )
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
}

impl Respond for ContractResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let started = Instant::now();
        let mut verdict = verdict_of(self.operation, request);
        if verdict.conforms() {
            return self.success.clone();
        }
        let Some(parsed) = verdict.parsed.take() else {
            return template(respond::refuse(
                self.operation.path(),
                respond::Refusal::NotFound,
            ));
        };
        let judged = respond::Request {
            operation: self.operation,
            method: &request.method,
            headers: &request.headers,
            parsed,
            started,
        };
        template(match self.operation.provider() {
            Provider::Afacturar => {
                respond::afacturar::refuse_violation(&Detached, judged, &verdict.findings)
            }
            Provider::Sovos => {
                respond::sovos::refuse_violation(&Detached, judged, &verdict.findings)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_is_not_json_gets_sovos_own_415() {
        let mut headers = http::HeaderMap::new();
        headers.insert("RCApiKey", http::HeaderValue::from_static("key"));
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain"),
        );
        let body = bytes::Bytes::from_static(b"{}");
        let verdict = verify_as(
            Contract::global(),
            Operation::Saldos,
            &http::Method::POST,
            &headers,
            &body,
        );
        let reply = respond::sovos::refuse_violation(
            &Detached,
            respond::Request {
                operation: Operation::Saldos,
                method: &http::Method::POST,
                headers: &headers,
                parsed: verdict.parsed.clone().unwrap(),
                started: Instant::now(),
            },
            &verdict.findings,
        );
        assert_eq!(reply.status, 415);
        assert_eq!(reply.body_json().unwrap()["errors"][0]["Code"], "415");
    }

    #[test]
    fn uniqids_never_repeat() {
        use respond::Context as _;
        let a = Detached.uniqid_micros();
        let b = Detached.uniqid_micros();
        assert!(b > a);
    }
}
