//! The validating proxy: requests go to the real provider (sandbox or production); each
//! request and each real response is checked against the contract, and drift — a response
//! shape the schemas do not allow, or a status the documents do not list — is reported in the
//! same journal as `serve`'s.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

use super::AppState;
use crate::contract::{Contract, DocumentedStatus, Operation};
use crate::respond::Finding;

/// Findings about the upstream's answer, handed from the forwarder to the journal.
#[derive(Debug, Clone, Default)]
pub struct ResponseFindings(pub Vec<Finding>);

/// The provider could not be reached or failed to answer: the proxy answered 502 itself (in
/// the provider's format). Not drift, not a contract violation; the journal counts it apart.
#[derive(Debug, Clone)]
pub struct UpstreamError(pub String);

/// Where the proxy forwards: one base URL per provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Afacturar's base URL (`/api/radian/…`).
    pub afacturar: Option<reqwest::Url>,
    /// Sovos's base URL (`/api/rest/…`).
    pub sovos: Option<reqwest::Url>,
}

impl Targets {
    /// Both providers at one base URL (`proxy --target`).
    pub fn both(target: reqwest::Url) -> Targets {
        Targets {
            afacturar: Some(target.clone()),
            sovos: Some(target),
        }
    }

    /// The base URL for a request to `path`: its provider's; for a path of neither, the
    /// first one given.
    pub fn for_path(&self, path: &str) -> Option<&reqwest::Url> {
        match crate::respond::provider_of(path) {
            Some(crate::contract::Provider::Afacturar) => self.afacturar.as_ref(),
            Some(crate::contract::Provider::Sovos) => self.sovos.as_ref(),
            None => self.afacturar.as_ref().or(self.sovos.as_ref()),
        }
    }
}

/// The response schemas that may describe an answer of `operation` with `status`: the
/// operation table's, those the documents give it first, then the shapes it tolerates; for a
/// status the documents do not list, the provider's error shapes.
pub fn response_schemas(operation: Operation, status: u16) -> Vec<&'static str> {
    if let Some(answer) = documented_answer(operation, status) {
        return answer
            .schemas
            .iter()
            .chain(answer.tolerated)
            .copied()
            .collect();
    }
    match operation.provider() {
        crate::contract::Provider::Afacturar => vec!["afacturar/http_error", "afacturar/error"],
        crate::contract::Provider::Sovos => vec!["sovos/errors"],
    }
}

/// The operation table's answer of `operation` with `status`.
fn documented_answer(operation: Operation, status: u16) -> Option<&'static DocumentedStatus> {
    operation.spec().answers.iter().find(|a| a.status == status)
}

/// Checks an upstream answer against the contract.
pub fn check_response(
    contract: &Contract,
    operation: Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let drift = |rule: &str, message: String| Finding {
        location: "response".to_owned(),
        rule: rule.to_owned(),
        message,
    };
    let Some(answer) = documented_answer(operation, status) else {
        findings.push(drift(
            "status",
            format!("status {status} is not documented for {operation}"),
        ));
        return findings;
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // An answer without schemas is a file (the reports), known by its media type alone.
    if answer.schemas.is_empty() {
        let expected = operation.spec().success_media_type;
        if !content_type.starts_with(expected) {
            findings.push(drift(
                "content-type",
                format!("the report is documented as {expected}, got `{content_type}`"),
            ));
        }
        return findings;
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            findings.push(drift(
                "json",
                format!("the documents say every answer is JSON: {error}"),
            ));
            return findings;
        }
    };
    let schemas = response_schemas(operation, status);
    let mut closest: Option<(&str, Vec<Finding>)> = None;
    for &schema in &schemas {
        let Ok(violations) = contract.validate_schema(schema, &value) else {
            continue;
        };
        if violations.is_valid() {
            return findings;
        }
        let found: Vec<Finding> = violations
            .iter()
            .map(|v| Finding {
                location: format!("response{}", v.path),
                rule: v.keyword().to_owned(),
                message: format!("{} (schema {schema})", v.message),
            })
            .collect();
        if closest.as_ref().is_none_or(|(_, c)| found.len() < c.len()) {
            closest = Some((schema, found));
        }
    }
    if let Some((schema, found)) = closest {
        findings.push(drift(
            "shape",
            format!(
                "the {status} body matches none of the documented shapes ({}); closest: {schema}",
                schemas.join(", ")
            ),
        ));
        findings.extend(found);
    }
    findings
}

/// The proxy application: every request forwarded to `target` behind the same contract
/// verification, scenarios and journal as `serve`, with the admin API.
pub fn proxy_app(state: AppState, target: reqwest::Url) -> Router {
    proxy_app_to(state, Targets::both(target))
}

/// The proxy application with one target per provider; a provider without one answers 502.
pub fn proxy_app_to(state: AppState, targets: Targets) -> Router {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let forwarder = Router::new()
        .fallback(move |State(state): State<AppState>, request: Request| {
            let client = client.clone();
            let targets = targets.clone();
            async move { forward(&state, &client, &targets, request).await }
        })
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state.clone());
    super::with_intercept_and_admin(forwarder, super::intercept::Answering::Routes, state)
}

const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
];

async fn forward(
    state: &AppState,
    client: &reqwest::Client,
    targets: &Targets,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config().server.body_limit()).await else {
        // In the provider's format, as the fake refuses it.
        let refusal =
            crate::respond::refuse(parts.uri.path(), crate::respond::Refusal::PayloadTooLarge);
        return super::into_response(refusal);
    };
    let Some(target) = targets.for_path(parts.uri.path()) else {
        return upstream_error(
            parts.uri.path(),
            "no target for this provider (give --afacturar-target or --sovos-target)".to_owned(),
        );
    };
    let mut url = target.clone();
    let base = target.path().trim_end_matches('/');
    url.set_path(&format!("{base}{}", parts.uri.path()));
    url.set_query(parts.uri.query());
    let mut upstream = client
        .request(parts.method.clone(), url.clone())
        .body(bytes);
    for (name, value) in &parts.headers {
        if name == header::HOST
            || name == header::CONTENT_LENGTH
            || HOP_BY_HOP.contains(&name.as_str())
        {
            continue;
        }
        upstream = upstream.header(name, value);
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(error) => {
            // The target's `user:password@`, if any, stays out of the log and the answer.
            let shown = super::webhooks::mask_userinfo(url.as_str()).into_owned();
            let cause =
                super::webhooks::mask_userinfo(&crate::error_text::chain(&error)).into_owned();
            return upstream_error(
                parts.uri.path(),
                format!("{shown} could not be reached: {cause}"),
            );
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    // A gateway in front of the provider that could not reach it is no answer of the
    // provider's: an upstream error, not drift.
    if matches!(status.as_u16(), 502 | 504) {
        return upstream_error(
            parts.uri.path(),
            format!("{url} answered {status} (a gateway, not the provider)"),
        );
    }
    let body = match answer.bytes().await {
        Ok(body) => body,
        Err(error) => {
            return upstream_error(
                parts.uri.path(),
                format!(
                    "{url} failed while answering: {}",
                    crate::error_text::chain(&error)
                ),
            )
        }
    };
    let findings = match Operation::from_path(parts.uri.path()) {
        Some(operation) => check_response(
            state.contract(),
            operation,
            status.as_u16(),
            &headers,
            &body,
        ),
        None => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if HOP_BY_HOP.contains(&name.as_str()) || name == header::CONTENT_LENGTH {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(name.as_str().as_bytes()) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response.extensions_mut().insert(ResponseFindings(findings));
    response
}

/// The proxy's own 502 in the format of the provider `path` belongs to, with the cause.
fn upstream_error(path: &str, cause: String) -> Response {
    let mut response = super::into_response(crate::respond::upstream_error(path, &cause));
    response.extensions_mut().insert(UpstreamError(cause));
    response
}
