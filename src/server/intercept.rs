//! The layer in front of the provider routes: it verifies each request against the contract,
//! applies the rate limit and armed scenarios, and records the journal.

use std::future::Future as _;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::Value;

use super::journal::{
    near_miss, Evicted, Fitted, Headers, JournalEntry, Raw, Verdict as JournalVerdict,
};
use super::listener::ConnectionControl;
use super::scenarios::{Fault, RequestKeys, Scenario};
use super::{into_response, AppState, Verified};
use crate::contract::Operation;
use crate::respond::{self, credential, mask, provider_of, verify, Refusal};

/// How much of a body the journal keeps.
const JOURNAL_BODY_LIMIT: usize = 64 * 1024;

/// Who answers a verified request, decided synchronously from the state and the verdict
/// before any effect (a delay, the route, a fault, a webhook) takes place.
#[derive(Debug)]
enum Decision {
    /// Past the rate limit: the 429, and how long until a slot frees.
    RateLimited(std::time::Duration),
    /// An armed scenario matched (taken: its count is spent).
    Scenario(Scenario),
    /// The operation's route answers, as the provider would.
    Route,
}

/// The rate limit first, then the armed scenarios, for requests to a documented operation;
/// everything else goes to the routes (which answer 404/405 in the provider's format).
fn decide(
    state: &AppState,
    operation: Option<Operation>,
    token: Option<&str>,
    verdict: &respond::Verdict,
) -> Decision {
    let Some(operation) = operation else {
        return Decision::Route;
    };
    if let Some(Err(retry_after)) = token.map(|token| state.admit_or_retry_after(token)) {
        return Decision::RateLimited(retry_after);
    }
    let mut scenarios = state.scenarios();
    // The keys are looked up in the document only when a scenario could match them.
    if scenarios.is_empty() {
        return Decision::Route;
    }
    let cufes = verdict.cufes();
    let keys = RequestKeys {
        operation,
        cufes: &cufes,
        rfc: verdict.rfc(),
        token,
    };
    match scenarios.take(keys) {
        Some(scenario) => Decision::Scenario(scenario),
        None => Decision::Route,
    }
}

/// Who answers what the routes would: the fake's answer core, or the routes themselves (the
/// proxy's forwarder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    /// The answer core, called here for a documented operation: through the routes it is the
    /// same call after a second dispatch, a boxed future and the request's extensions (about
    /// a sixth of a saldos request).
    Core,
    /// The routes, for every request.
    Routes,
}

/// The middleware.
pub async fn intercept(
    State((state, answering)): State<(AppState, Answering)>,
    request: Request,
    next: Next,
) -> Response {
    let arrival = Arrival {
        control: request.extensions().get::<ConnectionControl>().cloned(),
        bad_host: request.extensions().get::<super::edge::BadHost>().is_some(),
    };
    handle(state, answering, request, Onward::Next(next), arrival).await
}

/// What the accept loop knows of a request beyond the request itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct Arrival {
    /// The connection it arrived on (none in-process).
    pub(crate) control: Option<ConnectionControl>,
    /// Whether its `Host` breaks HTTP's rules (`edge`).
    pub(crate) bad_host: bool,
}

/// Where a request goes when the answer core does not answer it.
pub(crate) enum Onward {
    /// The rest of the router, behind this layer.
    Next(Next),
    /// The provider routes themselves (the accept loop's direct path, which skips the router
    /// and this layer's boxing for the documented operations).
    Routes(axum::Router),
}

impl Onward {
    async fn run(self, request: Request) -> Response {
        match self {
            Onward::Next(next) => next.run(request).await,
            Onward::Routes(routes) => match tower::ServiceExt::oneshot(routes, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
        }
    }
}

/// Verifies, answers and journals one request: the layer's work, called by the layer or
/// directly by the accept loop.
pub(crate) async fn handle(
    state: AppState,
    answering: Answering,
    request: Request,
    onward: Onward,
    arrival: Arrival,
) -> Response {
    let started = Instant::now();
    let received_at = state.clock().now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let operation = Operation::from_path(&path);
    let provider = operation
        .map(Operation::provider)
        .or_else(|| provider_of(&path));
    let token = provider.and_then(|p| credential(p, &parts.headers));
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (headers, headers_cut) = journal_headers(
        &parts.headers,
        state.config().server.journal_entry_max_bytes(),
    );
    let mut entry = JournalEntry {
        id: 0,
        received_at,
        method: parts.method.clone(),
        path,
        operation,
        credential: token.map(mask),
        content_type,
        verdict: JournalVerdict::Unknown,
        findings_omitted: 0,
        violations: Vec::new(),
        status: 0,
        scenario: None,
        near_miss: None,
        duration_ms: 0.0,
        body: Raw::default(),
        headers,
        truncated: headers_cut,
        fault: None,
        refusal: None,
    };
    let server = &state.config().server;
    // HTTP's own rules first, from the head alone: a declared body over the limit is refused
    // before hyper would tell the client `100 Continue` (it does so on the first read).
    let declared = super::edge::declared_length(&parts.headers);
    let at_the_edge = if arrival.bad_host {
        Some(Refusal::BadHost)
    } else {
        super::edge::over_limit(declared, server.body_limit()).map(|_| Refusal::PayloadTooLarge)
    };
    if let Some(refusal) = at_the_edge {
        return refused(&state, entry, refusal, started);
    }
    // Its share of the bodies in flight, held until it is answered: partial bodies on many
    // connections (or many HTTP/2 streams of one) wait here instead of each holding the limit.
    let share = body_share_kib(parts.version, declared, &parts.headers, server.body_limit());
    let budget = state.bodies_in_flight();
    // Permits free now are taken without a timer: arming one reads the clock. The semaphore
    // hands released permits to those waiting first, so this never passes a waiting request.
    let _share = match budget.clone().try_acquire_many_owned(share) {
        Ok(permit) => permit,
        Err(_) => {
            match tokio::time::timeout(server.read_timeout(), budget.acquire_many_owned(share))
                .await
            {
                Ok(Ok(permit)) => permit,
                _ => return refused(&state, entry, Refusal::RequestTimeout, started),
            }
        }
    };
    let bytes = match read_body(body, server.body_limit(), server.read_timeout()).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => {
            // Over the limit is 413; a body that breaks HTTP (a bad chunk size) is 400.
            let too_large = error
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let refusal = if too_large {
                Refusal::PayloadTooLarge
            } else {
                Refusal::MalformedBody
            };
            return refused(&state, entry, refusal, started);
        }
        Err(_) => return refused(&state, entry, Refusal::RequestTimeout, started),
    };
    let mut verdict =
        verify_off_workers(&state, &parts.method, &entry.path, &parts.headers, &bytes).await;
    entry.near_miss = (operation.is_none() || parts.method != Method::POST).then(|| {
        near_miss(
            parts.method.as_str(),
            &entry.path,
            entry.content_type.as_deref(),
        )
    });
    entry.verdict = match (operation, verdict.conforms()) {
        (None, _) => JournalVerdict::Unknown,
        (Some(_), true) => JournalVerdict::Conforms,
        (Some(_), false) => JournalVerdict::Violates,
    };
    entry.findings_omitted = verdict
        .findings
        .len()
        .saturating_sub(super::journal::MAX_FINDINGS_KEPT);
    entry.violations = {
        let mut findings = std::mem::take(&mut verdict.findings);
        findings.truncate(super::journal::MAX_FINDINGS_KEPT);
        findings
    };
    let excerpt = bytes.len().min(JOURNAL_BODY_LIMIT);
    entry.body = Raw::new(&bytes[..excerpt]);
    entry.truncated += (bytes.len() - excerpt) as u64;
    if !entry.violations.is_empty() {
        tracing::warn!(method = %entry.method, path = %entry.path, findings = entry.violations.len() + entry.findings_omitted, "request breaks the contract");
    }
    // Read before the parsed body moves to the handler.
    let sent_fields = operation
        .map(|op| verdict.sent_fields(op))
        .unwrap_or_default();

    let control = arrival.control;

    let (retry_after, scenario) = match decide(&state, operation, token, &verdict) {
        Decision::RateLimited(retry_after) => (Some(retry_after), None),
        Decision::Scenario(scenario) => (None, Some(scenario)),
        Decision::Route => (None, None),
    };
    let rate_limited = retry_after.is_some();
    entry.scenario = scenario.as_ref().map(|s| s.id);
    // Read from the parsed form before it moves to the handler.
    let webhook = verdict.webhook().map(str::to_owned);
    let answered_here = rate_limited || scenario.is_some();
    let documento = answered_here
        .then(|| verdict.payload()?.get("documento_obligado")?.as_str())
        .flatten()
        .map(str::to_owned);
    // A code-28 scenario replays the request later, for its webhook.
    let replay = scenario
        .as_ref()
        .is_some_and(|s| {
            operation.is_some_and(Operation::registers_event)
                && s.respond.is_some_and(|r| r.code() == "28")
        })
        .then(|| Replay {
            method: parts.method.clone(),
            path: entry.path.clone(),
            headers: parts.headers.clone(),
        });
    let route = Route {
        state: &state,
        answering,
        parts,
        body: bytes.clone(),
        operation,
        parsed: verdict.parsed.take(),
        started,
        onward,
    };

    let mut fault = None;
    let (response, code) = if let Some(retry_after) = retry_after {
        answered(
            operation,
            respond::rate_limited(
                &state,
                &entry.path,
                operation,
                documento.as_deref(),
                retry_after,
                started,
            ),
        )
    } else if let (Some(scenario), Some(_)) = (&scenario, operation) {
        if let Some(delay) = scenario.spec.draw_delay() {
            tokio::time::sleep(delay).await;
        }
        fault = scenario.spec.fault;
        match (scenario.spec.fault, scenario.respond) {
            (Some(_), _) | (None, None) => route.run().await,
            (None, Some(documented)) => {
                if documented.code() == "28" {
                    if let (Some(url), Some(replay)) = (&webhook, replay) {
                        schedule_webhook(&state, scenario, url, replay, bytes);
                    }
                }
                answered(
                    operation,
                    documented.reply(&state, documento.as_deref(), started),
                )
            }
        }
    } else {
        route.run().await
    };
    if let Some(upstream) = response.extensions().get::<super::proxy::UpstreamError>() {
        entry.refusal = Some(super::journal::UPSTREAM_ERROR);
        tracing::warn!(path = %entry.path, cause = %upstream.0, "the provider could not answer");
    }
    if let Some(findings) = response
        .extensions()
        .get::<super::proxy::ResponseFindings>()
    {
        if !findings.0.is_empty() {
            entry.violations.extend(findings.0.iter().cloned());
            entry.verdict = JournalVerdict::Violates;
            tracing::warn!(path = %entry.path, findings = findings.0.len(), "the provider's answer drifts from the contract");
        }
    }
    // The answer's documented code, read from its body (complete in memory here) when the
    // routes answered.
    let (response, code) = match (operation, code) {
        (_, Code::Read(code)) => (response, code),
        (Some(op), Code::InBody) => {
            let (parts, body) = response.into_parts();
            let body = Box::pin(axum::body::to_bytes(body, usize::MAX))
                .await
                .unwrap_or_default();
            let code = respond::answered_code(op, parts.status.as_u16(), &body);
            (Response::from_parts(parts, Body::from(body)), code)
        }
        (None, Code::InBody) => (response, None),
    };
    entry.status = response.status().as_u16();
    let response = match (fault, &scenario) {
        (Some(fault), Some(scenario)) => {
            entry.fault = Some(fault);
            match Box::pin(apply_fault(
                fault,
                response,
                control.as_ref(),
                scenario.spec.status,
            ))
            .await
            {
                Ok(response) => response,
                Err(Dropped) => {
                    // The client receives no answer at all.
                    entry.status = 0;
                    entry.duration_ms = elapsed_ms(started);
                    log_request(&entry);
                    record(&state, entry, None, &sent_fields);
                    if let Some(control) = control {
                        control.abort(fault == Fault::ConnectionReset);
                    }
                    // The connection is being dropped; nothing must be written on it.
                    return std::future::pending().await;
                }
            }
        }
        _ => response,
    };
    // A garbled body is not the documented answer, whatever its status.
    let code = code.filter(|_| fault.is_none());
    entry.status = response.status().as_u16();
    entry.duration_ms = elapsed_ms(started);
    log_request(&entry);
    record(&state, entry, code, &sent_fields);
    response
}

/// A verified request on its way to what answers it.
struct Route<'s> {
    state: &'s AppState,
    answering: Answering,
    parts: axum::http::request::Parts,
    body: Bytes,
    operation: Option<Operation>,
    parsed: Option<respond::Parsed>,
    started: Instant,
    onward: Onward,
}

/// Whether the documented code of an answer is known, or is to be read from its body.
enum Code {
    /// Read from the reply before it became a response.
    Read(Option<&'static str>),
    /// The routes answered: the code is in the response's body.
    InBody,
}

/// A reply of the answer core as a response, with the documented code it answers.
fn answered(operation: Option<Operation>, reply: respond::Reply) -> (Response, Code) {
    let code =
        operation.and_then(|op| respond::answered_code(op, reply.status.as_u16(), &reply.body));
    (into_response(reply), Code::Read(code))
}

impl Route<'_> {
    async fn run(self) -> (Response, Code) {
        let Route {
            state,
            answering,
            parts,
            body,
            operation,
            parsed,
            started,
            onward,
        } = self;
        if answering == Answering::Core && parts.method == Method::POST {
            if let (Some(operation), Some(parsed)) = (operation, parsed) {
                let reply = respond::answer(
                    state,
                    respond::Request {
                        operation,
                        method: &parts.method,
                        headers: &parts.headers,
                        parsed,
                        started,
                    },
                );
                return answered(Some(operation), reply);
            }
        }
        let mut request = Request::from_parts(parts, Body::from(body));
        request.extensions_mut().insert(Verified::at(started));
        // Boxed: the router's future is large and this path rare (404, 405, an undocumented
        // report format, the proxy); inline, it made every request's future larger.
        (Box::pin(onward.run(request)).await, Code::InBody)
    }
}

/// Records `entry` in the journal, and its answer and fields in the coverage.
/// The entry is cut to its byte budget before the journal is locked.
fn record(state: &AppState, entry: JournalEntry, code: Option<&str>, sent_fields: &[bool]) {
    let operation = entry.operation;
    let fitted = Fitted::new(entry, state.config().server.journal_entry_max_bytes());
    let mut evicted = Evicted::default();
    {
        let mut journal = state.journal();
        if let Some(operation) = operation {
            journal.coverage_mut().count(operation, code, sent_fields);
        }
        journal.record_fitted_evicting(fitted, &mut evicted);
    }
    // Freed with the lock released.
    drop(evicted);
}

/// A request the fake answers before reading it whole (over the body limit, too slow, broken
/// framing): answered in the provider's format and journaled, with the refusal as its finding.
fn refused(
    state: &AppState,
    mut entry: JournalEntry,
    refusal: Refusal,
    started: Instant,
) -> Response {
    let server = &state.config().server;
    let (name, message) = match refusal {
        Refusal::PayloadTooLarge => (
            "payload_too_large",
            format!(
                "the body is over the fake's limit of {} bytes ([server] body_limit_bytes)",
                server.body_limit()
            ),
        ),
        Refusal::RequestTimeout => (
            "request_timeout",
            format!(
                "the body did not arrive within {} ms ([server] read_timeout_ms)",
                server.read_timeout().as_millis()
            ),
        ),
        Refusal::BadHost => (
            "bad_host",
            "HTTP/1.1 needs exactly one Host header, written host[:port] (RFC 9112 §3.2)"
                .to_owned(),
        ),
        _ => (
            "malformed_body",
            "the body breaks HTTP's framing (e.g. a bad chunk size)".to_owned(),
        ),
    };
    entry.refusal = Some(name);
    entry.verdict = if entry.operation.is_some() {
        JournalVerdict::Violates
    } else {
        JournalVerdict::Unknown
    };
    entry.violations = vec![respond::Finding {
        location: "body".to_owned(),
        rule: name.to_owned(),
        message,
    }];
    let response = into_response(respond::refuse(&entry.path, refusal));
    entry.status = response.status().as_u16();
    entry.duration_ms = elapsed_ms(started);
    log_request(&entry);
    record(state, entry, None, &[]);
    response
}

/// The request headers as the journal keeps them: credentials masked, values as sent, at most
/// `limit` bytes of names and values copied (the journal cuts them to its budget when it
/// records them); also how many bytes were not copied.
fn journal_headers(headers: &axum::http::HeaderMap, limit: usize) -> (Headers, u64) {
    // One pass to size the buffers (a masked value is about as long as the value sent).
    let (mut names, mut values) = (0, 0);
    for (name, value) in headers {
        names += name.as_str().len();
        values += value.len();
    }
    let mut kept = Headers::with_capacity(headers.len(), names.min(limit), values.min(limit));
    let mut copied = 0;
    let mut cut = 0u64;
    for (name, value) in headers {
        let name = name.as_str();
        let bytes = value.as_bytes();
        let room = limit.saturating_sub(copied + name.len());
        if room == 0 {
            cut += (name.len() + bytes.len()) as u64;
            continue;
        }
        let before = kept.value_bytes();
        match name {
            "authorization"
            | "proxy-authorization"
            | "rcapikey"
            | "cookie"
            | "x-admin-token"
            | "x-api-key" => kept.push_written(name, |out| {
                let text = String::from_utf8_lossy(bytes);
                match (name, text.split_once(' ')) {
                    ("authorization" | "proxy-authorization", Some((scheme, secret))) => {
                        out.extend_from_slice(scheme.as_bytes());
                        out.push(b' ');
                        respond::mask_into(secret, out);
                    }
                    _ => respond::mask_into(&text, out),
                }
            }),
            _ => {
                let end = bytes.len().min(room);
                cut += (bytes.len() - end) as u64;
                kept.push(name, &bytes[..end]);
            }
        }
        copied += name.len() + kept.value_bytes() - before;
    }
    (kept, cut)
}

/// Reads the whole body, giving up after `timeout`. The timer is armed only when the body is
/// not already in: a small body usually arrives with the headers, and a timer per request
/// (registered and cancelled in the runtime's timer wheel) showed in the profile (issue 5).
async fn read_body(
    mut body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Result<Bytes, axum::Error>, tokio::time::error::Elapsed> {
    use axum::body::HttpBody as _;
    // A body of a declared length within the limit that came whole in its first frame (nearly
    // every request) is that frame: collecting it cost a queue, its frames and a copy.
    let mut prefix = Bytes::new();
    if let Some(length) = body.size_hint().exact().filter(|&n| n <= limit as u64) {
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx)));
        match first.await {
            Poll::Ready(None) => return Ok(Ok(Bytes::new())),
            Poll::Ready(Some(Err(error))) => return Ok(Err(error)),
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    // All the declared bytes, and the end of the stream: over HTTP/2 a stream
                    // that goes on past its declared length is malformed, and waits until it
                    // ends or the timer fires.
                    if data.len() as u64 == length && body.is_end_stream() {
                        return Ok(Ok(data));
                    }
                    prefix = data;
                }
            }
            Poll::Pending => {}
        }
    }
    let rest_limit = limit.saturating_sub(prefix.len());
    let mut read = std::pin::pin!(axum::body::to_bytes(body, rest_limit));
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    let rest = match first {
        Poll::Ready(result) => result,
        Poll::Pending => tokio::time::timeout(timeout, read).await?,
    };
    Ok(rest.map(|rest| match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest,
        (_, true) => prefix,
        _ => [prefix, rest].concat().into(),
    }))
}

/// The one line logged per request: to the writer the command line set
/// ([`super::log_request_lines_with`]), or as a tracing event. `cli::logging::RequestLines` writes
/// both alike and recognises the event by its target and fields: keep them in step.
fn log_request(entry: &JournalEntry) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let line = super::RequestLine {
        method: entry.method.as_str(),
        path: &entry.path,
        operation: entry.operation.map_or("-", Operation::name),
        status: entry.status,
        verdict: entry.verdict.as_str(),
        latency_ms: entry.duration_ms,
    };
    match super::REQUEST_LINES.get() {
        Some(write) => write(&line),
        None => emit_request_event(&line),
    }
}

/// The request line as a tracing event (target `einvoice_mock::server::intercept`).
pub(crate) fn emit_request_event(line: &super::RequestLine<'_>) {
    tracing::info!(
        method = %line.method,
        path = %line.path,
        operation = line.operation,
        status = line.status,
        verdict = line.verdict,
        latency_ms = line.latency_ms,
        "request"
    );
}

/// Milliseconds since `started`, to the microsecond (`0.649`, not `0.6490779999999999`).
fn elapsed_ms(started: Instant) -> f64 {
    let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
    f64::from(micros) / 1000.0
}

/// A fault that drops the connection.
struct Dropped;

async fn apply_fault(
    fault: Fault,
    real: Response,
    control: Option<&ConnectionControl>,
    status: Option<u16>,
) -> Result<Response, Dropped> {
    let (mut parts, body) = real.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    // The real status line and headers, unless the scenario names a status.
    if let Some(status) = status.and_then(|s| StatusCode::from_u16(s).ok()) {
        parts.status = status;
    }
    match fault {
        Fault::ConnectionReset | Fault::EmptyResponse if control.is_some() => Err(Dropped),
        // In-process without a socket (oneshot): the nearest thing is a body that fails.
        Fault::ConnectionReset | Fault::EmptyResponse => Ok(failing_body(parts, Bytes::new(), 1)),
        Fault::MalformedBody => {
            let half = &bytes[..bytes.len() / 2];
            let mut garbled = half.to_vec();
            garbled.extend_from_slice(b"\x00<<malformed>>");
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(garbled.len()));
            Ok(Response::from_parts(parts, Body::from(garbled)))
        }
        Fault::TruncatedBody => {
            let announced = bytes.len().max(2);
            let half = bytes.slice(..bytes.len() / 2);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(announced));
            match control {
                // The head and half the body go out, then the connection is dropped.
                Some(control) => {
                    let control = control.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        control.abort(false);
                    });
                    let stream = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(half)])
                        .chain(futures_util::stream::pending());
                    Ok(Response::from_parts(parts, Body::from_stream(stream)))
                }
                None => Ok(failing_body(parts, half, announced)),
            }
        }
    }
}

/// A response announcing `announced` bytes that sends `sent` and then fails, so that the
/// server closes the connection mid-body.
fn failing_body(mut parts: axum::http::response::Parts, sent: Bytes, announced: usize) -> Response {
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(announced));
    let stream = futures_util::stream::iter([
        Ok(sent),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "truncated by a fault scenario",
        )),
    ]);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// What a code-28 replay needs of the request besides its body.
struct Replay {
    method: Method,
    path: String,
    headers: axum::http::HeaderMap,
}

/// Code 28 with a webhook: the acuse is processed for real after a while, verified and
/// answered as any request is, and the answer POSTed to the webhook. Pending replays are
/// bounded in count and bytes, and cancelled when their scenario is disarmed.
fn schedule_webhook(state: &AppState, scenario: &Scenario, url: &str, replay: Replay, body: Bytes) {
    let delay = Duration::from_millis(scenario.spec.webhook_delay_ms.unwrap_or(1000));
    let size = body.len() + replay.path.len();
    let task_state = state.clone();
    let task_url = url.to_owned();
    let scheduled = state
        .scenarios()
        .schedule_replay(scenario.id, size, move |id| {
            tokio::spawn(async move {
                let state = task_state;
                tokio::time::sleep(delay).await;
                let started = Instant::now();
                let verdict = verify_off_workers(
                    &state,
                    &replay.method,
                    &replay.path,
                    &replay.headers,
                    &body,
                )
                .await;
                drop(body);
                let payload = match (verdict.operation, verdict.parsed) {
                    (Some(operation), Some(parsed)) => {
                        let request = respond::Request {
                            operation,
                            method: &replay.method,
                            headers: &replay.headers,
                            parsed,
                            started,
                        };
                        respond::answer(&state, request)
                            .body_json()
                            .unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                };
                state.scenarios().replay_done(id);
                super::webhooks::deliver(&state, &task_url, payload).await;
            })
            .abort_handle()
        });
    if !scheduled {
        let (count, bytes) = state.scenarios().pending_replays();
        let error = format!(
            "not scheduled: {count} replays holding {bytes} bytes are already waiting (at most {} and {} bytes)",
            super::scenarios::MAX_PENDING_REPLAYS,
            super::scenarios::MAX_PENDING_REPLAY_BYTES
        );
        tracing::warn!(%error, "code-28 webhook");
        state
            .journal()
            .record_delivery(super::webhooks::WebhookDelivery {
                url: super::webhooks::mask_userinfo(url).into_owned(),
                payload: Value::Null,
                status: None,
                error: Some(error),
            });
    }
}

/// Bodies up to this size are judged on the async worker: within the work budget they cost
/// well under a millisecond of CPU.
const INLINE_VERIFY_BYTES: usize = 16 * 1024;

/// Judges a request. A larger body is judged on the blocking pool, at most
/// [`heavy_verifications`] at a time, so that hostile documents queue among themselves and
/// never hold the workers that answer ordinary requests.
async fn verify_off_workers(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
) -> respond::Verdict {
    let contract = state.contract();
    if body.len() <= INLINE_VERIFY_BYTES {
        return verify(contract, method, path, headers, body);
    }
    let Ok(_permit) = heavy_verifications().acquire().await else {
        // The semaphore is never closed.
        return verify(contract, method, path, headers, body);
    };
    let (method, path, headers, body) = (
        method.clone(),
        path.to_owned(),
        headers.clone(),
        body.clone(),
    );
    let judged =
        tokio::task::spawn_blocking(move || verify(contract, &method, &path, &headers, &body))
            .await;
    match judged {
        Ok(verdict) => verdict,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// The verifications of large bodies that may run at once: half the cores, so that the other
/// half keeps answering ordinary requests whatever number of large documents arrive.
fn heavy_verifications() -> &'static tokio::sync::Semaphore {
    static HEAVY: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    HEAVY.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

/// A request's share of the bodies in flight, in KiB: its `declared` `Content-Length` (within
/// the limit: a larger one is refused before this), none for an HTTP/1 request that declares
/// no body, the limit when the length is not declared (chunked, or HTTP/2 without
/// `content-length`).
fn body_share_kib(
    version: axum::http::Version,
    declared: Option<u64>,
    headers: &axum::http::HeaderMap,
    limit: usize,
) -> u32 {
    let http1 = version <= axum::http::Version::HTTP_11;
    let bytes = match declared {
        Some(length) => usize::try_from(length).unwrap_or(usize::MAX).min(limit),
        None if http1 && !headers.contains_key(header::TRANSFER_ENCODING) => 0,
        None => limit,
    };
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue, Version};

    use super::body_share_kib;
    use crate::server::edge::declared_length;
    use crate::server::state::body_budget_bytes;

    #[test]
    fn a_body_takes_its_declared_share_and_an_undeclared_one_the_whole_limit() {
        let limit = 10 * 1024 * 1024;
        let share = |version, headers: &HeaderMap| {
            body_share_kib(version, declared_length(headers), headers, limit)
        };
        let mut headers = HeaderMap::new();
        assert_eq!(share(Version::HTTP_11, &headers), 0);
        assert_eq!(share(Version::HTTP_2, &headers), 10 * 1024);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1025"));
        assert_eq!(share(Version::HTTP_11, &headers), 2);
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        assert_eq!(share(Version::HTTP_11, &headers), 10 * 1024);
        // Two bodies at the limit always fit.
        assert_eq!(body_budget_bytes(limit), 256 * 1024 * 1024);
        assert_eq!(body_budget_bytes(200 * 1024 * 1024), 400 * 1024 * 1024);
    }
}
