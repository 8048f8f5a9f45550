//! The admin API under `/__admin/`: scenarios, the journal, violations, reset, health.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::journal::{Cursor, JournalEntry};
use super::scenarios::ScenarioSpec;
use super::{AppState, ConnectionControl};
use crate::contract::Operation;
use crate::domain::afacturar::events::EventCode;
use crate::domain::afacturar::ledger::RecordError;
use crate::respond;

/// The admin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/health", get(health))
        .route(
            "/__admin/scenarios",
            post(arm).get(list_scenarios).delete(clear_scenarios),
        )
        .route("/__admin/scenarios/{id}", delete(remove_scenario))
        .route("/__admin/requests", get(requests).delete(clear_requests))
        .route("/__admin/violations", get(violations))
        .route("/__admin/webhooks", get(webhooks))
        .route("/__admin/junit", get(junit))
        .route("/__admin/reset", post(reset))
        .route("/__admin/events", post(record_event))
        .route("/__admin/coverage", get(coverage))
        .route("/__admin/ui", get(ui))
        // Anything else under /__admin/ is the admin API's 404, in JSON (not provider traffic).
        .route("/__admin", any(not_found))
        .route("/__admin/{*rest}", any(not_found))
        // Browsers ask for it when they open the page; it is not a provider request.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(axum::middleware::map_response(json_method_not_allowed))
}

/// An admin path that does not exist.
async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no admin endpoint {} {} (see the README's admin API table)",
            request.method(),
            request.uri().path()
        ),
    )
}

/// axum's own 405 has no body: the admin API answers JSON, naming the allowed methods.
async fn json_method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let allowed = allow
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // axum adds `Allow` after this layer runs on some routes: name the methods only when known.
    let message = if allowed.is_empty() {
        "method not allowed here (the Allow header lists the methods)".to_owned()
    } else {
        format!("method not allowed here; allowed: {allowed}")
    };
    let mut answer = error(StatusCode::METHOD_NOT_ALLOWED, message);
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

/// Refuses admin calls from other hosts (unless allowed) and without the admin token (when
/// one is set). Health checks are exempt from both: container runtimes probe from outside the
/// container's loopback and cannot send a token, and the answer reveals nothing.
///
/// Without a token, a browser on the same machine is a loopback client too: a page of another
/// origin could arm scenarios (a cross-origin `text/plain` POST needs no preflight) or, through
/// DNS rebinding (`Host: rebind.evil.example` resolving to 127.0.0.1), read the journal. So,
/// without a token, requests with an `Origin` that is not a loopback origin are refused, and
/// so are requests whose `Host` is not a loopback name or address (unless
/// `--admin-allow-remote`, where clients use the machine's other names; set a token there).
///
/// The body is read here, within `read_timeout_ms` and the admin body limit: an admin request
/// that never finishes its body gets 408 instead of holding its connection (issue 15).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let server = &state.config().server;
    // HTTP's own rules before anything else (health included): one valid `Host`.
    if let Some(super::edge::BadHost(problem)) = request.extensions().get() {
        return closing(error(StatusCode::BAD_REQUEST, *problem));
    }
    let is_health = request.uri().path() == "/__admin/health";
    let remote = request
        .extensions()
        .get::<ConnectionControl>()
        .is_some_and(|c| !is_loopback_ip(c.peer().ip()));
    if remote && !server.admin_allow_remote && !is_health {
        return error(
            StatusCode::FORBIDDEN,
            "the admin API answers loopback clients only (see --admin-allow-remote)",
        );
    }
    match &server.admin_token {
        Some(expected) => {
            let headers = request.headers();
            let given = headers
                .get("X-Admin-Token")
                .and_then(|v| v.to_str().ok())
                .or_else(|| {
                    headers
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.strip_prefix("Bearer "))
                });
            // The page cannot send headers when opened in a browser: `?token=` is accepted there.
            let from_query = request
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")));
            let given = given.or(from_query.filter(|_| request.uri().path() == "/__admin/ui"));
            if !is_health && !given.is_some_and(|given| same_secret(given, expected)) {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "the admin API needs the admin token (X-Admin-Token or Authorization: Bearer)",
                );
            }
        }
        None if !is_health => {
            if let Some(refused) = foreign_origin_or_host(&request, server.admin_allow_remote) {
                return error(StatusCode::FORBIDDEN, refused);
            }
        }
        None => {}
    }
    let limit = body_limit(request.uri().path());
    let too_large = closing(error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "{} bodies are limited to {limit} bytes",
            request.uri().path()
        ),
    ));
    // Refused from the declared length before the body is read, so never `100 Continue`.
    if super::edge::declared_over(request.headers(), limit).is_some() {
        return too_large;
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, limit);
    let body = match tokio::time::timeout(server.read_timeout(), read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return too_large,
        Err(_) => {
            // The rest of the body was not read: the connection cannot be reused.
            return closing(error(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive within server.read_timeout_ms",
            ));
        }
    };
    next.run(Request::from_parts(parts, axum::body::Body::from(body)))
        .await
}

/// The largest admin request body (scenarios are small JSON documents).
pub const ADMIN_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The largest `POST /__admin/events` body: one event of four short fields.
pub const EVENT_BODY_LIMIT: usize = 4 * 1024;

/// The body limit of an admin path.
fn body_limit(path: &str) -> usize {
    if path == "/__admin/events" {
        EVENT_BODY_LIMIT
    } else {
        ADMIN_BODY_LIMIT
    }
}

/// `response` with `Connection: close`: a request refused before its body was read.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

/// Whether `ip` is loopback, an IPv4-mapped IPv6 loopback (`::ffff:127.0.0.1`) included.
pub fn is_loopback_ip(ip: std::net::IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Whether `host` (a `Host` header or an origin's authority, with or without port and
/// brackets) names this machine's loopback: `localhost`, `*.localhost`, `127.0.0.0/8`, `::1`,
/// `::ffff:127.0.0.1`. Anything but `host[:port]` (`localhost:80/evil`, `a@localhost`) is not.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.parse::<std::net::IpAddr>() {
        // A bare IPv6 address, `::1`.
        Ok(_) => host,
        Err(_) => match super::edge::split_authority(host) {
            Some((name, _port)) => name.trim_start_matches('[').trim_end_matches(']'),
            None => return false,
        },
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(is_loopback_ip)
}

/// Why a request without a token is refused for its `Origin` or `Host`, if it is.
fn foreign_origin_or_host(request: &Request, allow_remote: bool) -> Option<String> {
    let headers = request.headers();
    let mut origins = headers.get_all(header::ORIGIN).iter();
    if let Some(origin) = origins.next() {
        if origins.next().is_some() {
            // A browser sends one; which of several a check reads is anyone's guess.
            return Some(
                "the admin API refuses requests with more than one Origin header".to_owned(),
            );
        }
        let origin = origin.to_str().unwrap_or_default();
        // An origin is `scheme://host[:port]`, nothing after (RFC 6454 §6.2).
        let host = origin.split_once("://").map(|(_, authority)| authority);
        if !host.is_some_and(is_loopback_host) {
            return Some(format!(
                "the admin API refuses pages of other origins (Origin `{origin}`) unless an \
                 admin token is set (--admin-token)"
            ));
        }
    }
    if allow_remote {
        return None;
    }
    // What the request names: an absolute target's authority before `Host` (RFC 9112 §3.2.2).
    let host = super::edge::named_authority(request.uri(), headers);
    match host {
        Some(host) if !is_loopback_host(host) => Some(format!(
            "the admin API answers requests for loopback names only (Host `{host}`) unless an \
             admin token is set (--admin-token)"
        )),
        _ => None,
    }
}

/// Compares a given secret with the expected one in constant time: the SHA-256 digests of
/// both, byte by byte without stopping at the first difference, so that the time taken says
/// nothing about how much of a guess was right (nor its length).
pub fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest as _, Sha256};
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |difference, (x, y)| difference | (x ^ y))
        == 0
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The journal page: the requests, live, with their verdicts and violations, and the armed
/// scenarios. With an admin token, open it as `/__admin/ui?token=…`.
async fn ui() -> Response {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // The operation filter lists the table's operations: the page names none itself.
    let page = PAGE.get_or_init(|| {
        let names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
        include_str!("ui/journal.html").replace("@OPERATIONS@", &names.join("\", \""))
    });
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.as_str(),
    )
        .into_response()
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let connections = state.connections();
    Json(json!({
        "status": "ok",
        "connections": {
            "open": connections.open(),
            "refused": connections.refused(),
            "timed_out": connections.timed_out(),
        },
        "log_lines_dropped": super::LOG_LINES_DROPPED.load(std::sync::atomic::Ordering::Relaxed),
    }))
}

/// Arms one scenario, or several given as an array.
async fn arm(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    // Everything under /__admin/ answers JSON, a body axum could not read (too large) too.
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let many = value.is_array();
    let specs: Vec<Value> = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut parsed = Vec::with_capacity(specs.len());
    for (index, spec) in specs.into_iter().enumerate() {
        match serde_json::from_value::<ScenarioSpec>(spec) {
            Ok(spec) => match spec.check() {
                Ok(()) => parsed.push(spec),
                Err(e) => return error(StatusCode::BAD_REQUEST, format!("scenario {index}: {e}")),
            },
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("scenario {index}: {e}")),
        }
    }
    let mut scenarios = state.scenarios();
    // All or none: a batch that does not fit is refused whole.
    if scenarios.list().len() + parsed.len() > super::scenarios::MAX_ARMED_SCENARIOS {
        return error(
            StatusCode::CONFLICT,
            format!(
                "{} scenarios are armed and {} more would pass the limit of {}; disarm some \
                 first (DELETE /__admin/scenarios)",
                scenarios.list().len(),
                parsed.len(),
                super::scenarios::MAX_ARMED_SCENARIOS
            ),
        );
    }
    let armed: Vec<Value> = parsed
        .into_iter()
        .filter_map(|spec| scenarios.arm(spec).ok())
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect();
    let body = if many {
        Value::Array(armed)
    } else {
        armed.into_iter().next().unwrap_or(Value::Null)
    };
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn list_scenarios(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "scenarios": state.scenarios().list() }))
}

async fn clear_scenarios(State(state): State<AppState>) -> StatusCode {
    state.scenarios().clear();
    StatusCode::NO_CONTENT
}

async fn remove_scenario(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    // An id that is not even UTF-8 names no scenario: a JSON 404 like any other.
    let Ok(Path(id)) = id else {
        return error(
            StatusCode::NOT_FOUND,
            "no armed scenario with that id".to_owned(),
        );
    };
    match id.parse::<u64>() {
        Ok(id) if state.scenarios().remove(id) => StatusCode::NO_CONTENT.into_response(),
        _ => error(StatusCode::NOT_FOUND, format!("no armed scenario {id}")),
    }
}

/// The most entries a page of `GET /__admin/requests` (or `/__admin/violations`) holds when
/// `limit` is not given.
pub const DEFAULT_PAGE_LIMIT: usize = 100;

/// The largest `limit`.
pub const MAX_PAGE_LIMIT: usize = 1_000;

/// The most JSON a page's entries take (one entry at least): what a reader holds, however slow.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// `GET /__admin/requests`: a page of the kept requests, oldest first, narrowed by
/// `operation`, `verdict`, `status`, `since` (RFC 3339), from a cursor (`before`, `after`) and
/// at most `limit` of them (the most recent, or with `after` the oldest newer than it).
async fn requests(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    journal_page(&state, query.as_deref(), false)
}

/// `GET /__admin/violations`: the same page over the contract-breaking requests kept apart.
async fn violations(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    journal_page(&state, query.as_deref(), true)
}

fn journal_page(state: &AppState, query: Option<&str>, violating: bool) -> Response {
    let filter = match RequestFilter::parse(query.unwrap_or_default()) {
        Ok(filter) => filter,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let (page, summary, upstream_errors, kept) = {
        let journal = state.journal();
        let last = journal.last_id();
        if let Cursor::After(id) | Cursor::Before(id) = filter.cursor {
            if id > last.saturating_add(1) {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("cursor {id} is past the newest request ({last})"),
                );
            }
        }
        let page = journal.page(
            violating,
            |e| filter.keeps(e),
            filter.cursor,
            filter.limit,
            MAX_PAGE_BYTES,
        );
        let (recent_bytes, violating_bytes) = journal.bytes();
        let (ring_max, entry_max) = journal.byte_limits();
        let oldest = if violating {
            journal.violations().next()
        } else {
            journal.entries().next()
        };
        let kept = json!({
            "oldest": oldest.map(|e| e.id),
            "requests": journal.entries().count(),
            "bytes": recent_bytes,
            "violations": journal.violations().count(),
            "violation_bytes": violating_bytes,
            "max_bytes": ring_max,
            "entry_max_bytes": entry_max,
        });
        (page, journal.summary(), journal.upstream_errors(), kept)
    };
    // Written here, out of the lock, entry by entry: no tree of values in between.
    let mut out = Vec::with_capacity(page.bytes + 1024);
    let head = json!({
        "summary": summary,
        "upstream_errors": upstream_errors,
        "journal": kept,
        "next": { "before": page.before, "after": page.after },
    });
    if serde_json::to_writer(&mut out, &head).is_err() {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the journal cannot be written",
        );
    }
    out.pop();
    out.extend_from_slice(if violating {
        b",\"violations\":["
    } else {
        b",\"requests\":["
    });
    for (i, entry) in page.entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if serde_json::to_writer(&mut out, entry.as_ref()).is_err() {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the journal cannot be written",
            );
        }
    }
    out.extend_from_slice(b"]}");
    drop(page);
    let deadline = state.config().server.read_timeout();
    (
        [(header::CONTENT_TYPE, "application/json")],
        paced(Bytes::from(out), deadline),
    )
        .into_response()
}

/// `bytes` as a body written in chunks, cut (the connection closed) when it is not all written
/// within `deadline`: a slow reader holds one page, not the server.
fn paced(bytes: Bytes, deadline: std::time::Duration) -> axum::body::Body {
    const CHUNK: usize = 64 * 1024;
    if bytes.len() <= CHUNK {
        return axum::body::Body::from(bytes);
    }
    let until = tokio::time::Instant::now() + deadline;
    let stream = futures_util::stream::unfold(Some(bytes), move |rest| async move {
        let mut rest = rest?;
        if rest.is_empty() {
            return None;
        }
        if tokio::time::Instant::now() > until {
            let late = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the journal page was not read within read_timeout_ms",
            );
            return Some((Err(late), None));
        }
        let chunk = rest.split_to(CHUNK.min(rest.len()));
        Some((Ok(chunk), Some(rest)))
    });
    axum::body::Body::from_stream(stream)
}

/// The query of `GET /__admin/requests`.
#[derive(Debug)]
struct RequestFilter {
    operation: Option<crate::contract::Operation>,
    verdict: Option<String>,
    status: Option<u16>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: usize,
    cursor: Cursor,
}

impl RequestFilter {
    fn parse(query: &str) -> Result<RequestFilter, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| format!("the query string cannot be read: {e}"))?;
        let mut filter = RequestFilter {
            operation: None,
            verdict: None,
            status: None,
            since: None,
            limit: DEFAULT_PAGE_LIMIT,
            cursor: Cursor::Latest,
        };
        for (name, value) in pairs {
            match name.as_str() {
                "operation" => {
                    filter.operation = Some(value.parse().map_err(|_| {
                        format!(
                            "operation `{value}` is not one of: {}",
                            crate::contract::Operation::ALL.map(|o| o.name()).join(", ")
                        )
                    })?);
                }
                "verdict" => {
                    if !["conforms", "violates", "unknown"].contains(&value.as_str()) {
                        return Err(format!(
                            "verdict `{value}` is not one of: conforms, violates, unknown"
                        ));
                    }
                    filter.verdict = Some(value);
                }
                "status" => {
                    filter.status = Some(value.parse().map_err(|_| {
                        format!("status `{value}` is not an HTTP status (e.g. 200)")
                    })?);
                }
                "since" => {
                    let at = chrono::DateTime::parse_from_rfc3339(&value).map_err(|e| {
                        format!(
                            "since `{value}`: {e}; expected RFC 3339 like 2022-11-30T21:22:17-05:00"
                        )
                    })?;
                    filter.since = Some(at.with_timezone(&chrono::Utc));
                }
                "limit" => {
                    filter.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
                        .ok_or_else(|| {
                            format!(
                                "limit `{value}` is not a number of requests from 1 to \
                                 {MAX_PAGE_LIMIT} (e.g. 50)"
                            )
                        })?;
                }
                "before" | "after" => {
                    if filter.cursor != Cursor::Latest {
                        return Err("give one cursor: `before` or `after`, not both".into());
                    }
                    let id: u64 = value.parse().map_err(|_| {
                        format!(
                            "{name} `{value}` is not a request id (e.g. `{name}=40`, from `next`)"
                        )
                    })?;
                    filter.cursor = if name == "before" {
                        Cursor::Before(id)
                    } else {
                        Cursor::After(id)
                    };
                }
                // The page's token travels in the query when opened in a browser.
                "token" => {}
                other => {
                    return Err(format!(
                        "unknown query parameter `{other}`; known: operation, verdict, status, \
                         since, limit, before, after"
                    ))
                }
            }
        }
        Ok(filter)
    }

    fn keeps(&self, entry: &JournalEntry) -> bool {
        self.operation.is_none_or(|op| entry.operation == Some(op))
            && self
                .verdict
                .as_deref()
                .is_none_or(|v| entry.verdict.as_str() == v)
            && self.status.is_none_or(|s| entry.status == s)
            && self.since.is_none_or(|since| entry.received_at >= since)
    }
}

/// `GET /__admin/coverage`: every documented answer and request field of every operation,
/// with how often the client received or sent it (cleared by `POST /__admin/reset`, not by
/// `DELETE /__admin/requests`).
async fn coverage(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.journal().coverage()))
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal().clear();
    StatusCode::NO_CONTENT
}

async fn webhooks(State(state): State<AppState>) -> Json<Value> {
    let journal = state.journal();
    let deliveries: Vec<_> = journal.deliveries().collect();
    Json(json!({ "deliveries": deliveries }))
}

async fn junit(State(state): State<AppState>) -> Response {
    let xml = state.journal().junit();
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// What `POST /__admin/events` takes: an event another party registered (the seller's or
/// DIAN's, such as aceptación expresa 033 or tácita 034, whose Afacturar endpoints are not
/// public).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OtherPartysEvent {
    /// The invoice.
    cufe: String,
    /// `030`–`034`.
    codigo: String,
    /// `yyyy-mm-dd hh:mm:ss`, Colombian time; now when absent.
    fecha: Option<String>,
    /// Who registered it; when absent, the seller for 034 and the buyer who sent the
    /// invoice's first event for the others (the seller if there is none).
    emisor_identificacion: Option<String>,
}

/// Records an event through the same ledger and ordering rules as the provider's endpoints:
/// 201 with the stored row, or 409 naming the DIAN rule it breaks.
async fn record_event(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let event: OtherPartysEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body: {e}")),
    };
    // What the provider's routes would refuse is not stored either: the CUFE by
    // `historico_eventos`'s rule, the party by `documento_obligado`'s (the NIT of whoever
    // registers an event), the contract's own rules and wording.
    let checks = [
        (
            "cufe",
            "",
            Operation::HistoricoEventos,
            "cufe",
            Some(&event.cufe),
        ),
        (
            "emisor_identificacion",
            "emisor_identificacion is a NIT: ",
            Operation::AcuseReciboFev,
            "documento_obligado",
            event.emisor_identificacion.as_ref(),
        ),
    ];
    for (name, preface, operation, field, value) in checks {
        let Some(value) = value else { continue };
        let found =
            state
                .contract()
                .validate_form_field(operation, field, &Value::String(value.clone()));
        if let Some(violation) = found.first() {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": format!(
                        "{preface}{} (as on POST {})",
                        violation.message,
                        operation.path()
                    ),
                    "field": name,
                    "rule": violation.keyword(),
                })),
            )
                .into_response();
        }
    }
    let code: EventCode = match event.codigo.parse() {
        Ok(code) => code,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("codigo: {e}")),
    };
    let at = match &event.fecha {
        None => state.clock().colombia(),
        Some(text) => match chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
            Ok(at) => at,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("fecha `{text}`: {e}; expected yyyy-mm-dd hh:mm:ss (Colombian time)"),
                )
            }
        },
    };
    // By default the party DIAN expects: the seller declares a tacit acceptance (034); the
    // buyer, who sent the invoice's first event, registers the others.
    let emisor = event.emisor_identificacion.clone().unwrap_or_else(|| {
        let seller = || {
            respond::seller_of(state.config(), &event.cufe)
                .identificacion
                .clone()
        };
        match code {
            EventCode::AceptacionTacita => seller(),
            _ => state
                .events()
                .history(&event.cufe)
                .first()
                .map_or_else(seller, |first| first.row.emisor_identificacion.clone()),
        }
    });
    match respond::record_event_at(&state, &event.cufe, code, &emisor, at) {
        Ok(recorded) => (StatusCode::CREATED, Json(json!(recorded.event.row))).into_response(),
        Err(RecordError::Rejected(rejected)) => (
            StatusCode::CONFLICT,
            Json(json!({
                "error": format!("DIAN's ordering rules refuse event {code} for this CUFE"),
                "regla": rejected.rejection.rule,
                "rechazo": rejected.rejection.to_string(),
            })),
        )
            .into_response(),
        Err(RecordError::Storage(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn reset(State(state): State<AppState>) -> Response {
    match state.reset() {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_tokens_are_compared_by_digest_and_only_the_same_token_matches() {
        assert!(same_secret("s3cret-token", "s3cret-token"));
        for other in ["", "s3cret-toke", "s3cret-tokenX", "S3cret-token", "x"] {
            assert!(!same_secret(other, "s3cret-token"), "{other}");
        }
    }

    #[test]
    fn loopback_names_and_addresses_are_recognised_with_or_without_ports() {
        for host in [
            "localhost",
            "localhost:8787",
            "app.localhost:1",
            "127.0.0.1",
            "127.1.2.3:80",
            "[::1]:8787",
            "::1",
            "[::ffff:127.0.0.1]:8787",
            "LOCALHOST.",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "rebind.evil.example",
            "rebind.evil.example:8787",
            "0.0.0.0:8787",
            "10.0.0.1",
            "[::]:1",
            "localhost.evil.example",
            "",
            "localhost:80/evil",
            "127.0.0.1/evil",
            "evil.example@localhost",
            "localhost:8o",
            "[::1]evil",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
