//! The fake provider: the axum application, `serve`, and [`FakeProvider`] for in-process use.

mod admin;
pub mod coverage;
mod edge;
mod intercept;
pub mod journal;
mod listener;
pub mod proxy;
pub mod scenarios;
mod state;
pub mod tls;
pub mod webhooks;

use std::net::SocketAddr;

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use crate::config::{Config, ConfigError};
/// For `cli::logging`'s test that the request line is written alike every way.
#[cfg(all(test, feature = "cli"))]
pub(crate) use intercept::emit_request_event;
pub use journal::JournalEntry;
pub use listener::{ConnectionControl, ConnectionStats};
pub use scenarios::{Fault, Scenario, ScenarioError, ScenarioSpec};
pub use state::{AppState, Clock};

use crate::contract::Operation;
use crate::respond::{self, Parsed, Refusal, Reply};

/// Log lines dropped because stderr did not take them in time, since the process started: the
/// writer that drops them (`cli::logging`) counts them here, and
/// `/__admin/health` and the shutdown line show them.
pub static LOG_LINES_DROPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The fields of the one line logged per request (`intercept`'s `request` event, target
/// `einvoice_mock::server::intercept`, level INFO).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestLine<'a> {
    /// The request's method.
    pub method: &'a str,
    /// Its path.
    pub path: &'a str,
    /// The documented operation, or `-`.
    pub operation: &'a str,
    /// The status answered.
    pub status: u16,
    /// `conforms`, `violates` or `unknown`.
    pub verdict: &'a str,
    /// Milliseconds from arrival to answer, to the microsecond.
    pub latency_ms: f64,
}

type WriteRequestLine = Box<dyn Fn(&RequestLine<'_>) + Send + Sync>;

static REQUEST_LINES: std::sync::OnceLock<WriteRequestLine> = std::sync::OnceLock::new();

/// From now on, each request's line is handed to `write` instead of being emitted as a tracing
/// event (when that event is enabled: the log filter still decides). For the command line,
/// whose text format writes the line itself (`cli::logging`): tracing's dispatch and its visit of
/// the six fields were 2,600 of the line's 4,300 instructions, 4% of a `saldos` over HTTP.
/// Once per process: `false` when a writer was already set.
pub fn log_request_lines_with(write: impl Fn(&RequestLine<'_>) + Send + Sync + 'static) -> bool {
    REQUEST_LINES.set(Box::new(write)).is_ok()
}

/// The application: the provider routes behind contract verification, scenarios and the
/// journal, and the admin API under `/__admin/`.
pub fn app(state: AppState) -> Router {
    Served::fake(state).router
}

/// What the accept loop serves: an application's router and, for the fake, the documented
/// operations handed to `intercept` without the router. A `POST` to a documented path is
/// answered by the answer core whichever way it goes; the router and the layer's boxing cost
/// about a tenth of a `saldos` over HTTP.
#[derive(Clone)]
pub struct Served {
    router: Router,
    direct: Option<(AppState, Router)>,
}

impl Served {
    /// The fake on `state`: its router (what [`app`] returns), with the direct path.
    pub fn fake(state: AppState) -> Served {
        let routes = provider_routes(state.clone());
        Served {
            router: with_intercept_and_admin(
                routes.clone(),
                intercept::Answering::Core,
                state.clone(),
            ),
            direct: Some((state, routes)),
        }
    }

    /// The state and provider routes that answer `request` directly, when it is a `POST` to a
    /// documented operation of the fake.
    fn direct_for<B>(&self, request: &axum::http::Request<B>) -> Option<&(AppState, Router)> {
        let direct = self.direct.as_ref()?;
        (request.method() == axum::http::Method::POST
            && Operation::from_path(request.uri().path()).is_some())
        .then_some(direct)
    }

    /// The router, for every request not answered directly.
    fn router(&self) -> Router {
        self.router.clone()
    }
}

impl From<Router> for Served {
    /// Any router (the proxy's), every request through it.
    fn from(router: Router) -> Served {
        Served {
            router,
            direct: None,
        }
    }
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("direct", &self.direct.is_some())
            .finish_non_exhaustive()
    }
}

/// `routes` behind the `intercept` layer (verdict, scenarios, journal), merged with the admin
/// API: what `serve` and `proxy` have in common.
pub(crate) fn with_intercept_and_admin(
    routes: Router,
    answering: intercept::Answering,
    state: AppState,
) -> Router {
    routes
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), answering),
            intercept::intercept,
        ))
        .merge(
            admin::routes()
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    admin::guard,
                ))
                .with_state(state),
        )
}

/// The provider routes: every documented endpoint, with unknown paths and methods answered
/// in the format of the provider whose path prefix they share. Only behind `intercept`, which
/// verifies each request and answers the documented operations itself ([`Verified`]).
fn provider_routes(state: AppState) -> Router {
    // The reports share one route, which also answers undocumented formats (400-003).
    let routes = Operation::ALL
        .into_iter()
        .filter(|op| !matches!(op, Operation::SaldosPdf | Operation::SaldosCsv))
        .fold(Router::new(), |routes, op| {
            routes.route(op.path(), post(operation))
        });
    routes
        .route("/api/rest/Timbre/saldos/{formato}", post(report))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // `intercept` enforces the configured limit and answers in the provider's format.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// What `intercept` hands to the routes in the request's extensions: when the request
/// arrived. A documented operation is answered by `intercept` itself (through the answer core),
/// so the routes answer only the rest: 404, 405 and the report formats Sovos does not document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verified {
    /// When the request arrived.
    started: Instant,
}

impl Verified {
    pub(crate) fn at(started: Instant) -> Verified {
        Verified { started }
    }
}

/// A reply of the answer core as an axum response.
pub(crate) fn into_response(reply: Reply) -> Response {
    let Reply {
        status,
        content_type,
        headers,
        body,
    } = reply;
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in headers {
        map.insert(name, value);
    }
    response
}

/// A documented operation's route: `intercept` answers every `POST` to it before it gets
/// here (other methods are 405), so reaching it means a request went round the answer core.
async fn operation(request: Request) -> Response {
    tracing::error!(path = %request.uri().path(), "a documented operation reached its route");
    into_response(respond::refuse(request.uri().path(), Refusal::NotFound))
}

/// `POST /api/rest/Timbre/saldos/{formato}`: `pdf` and `csv` in any case; any other format is
/// 400-003 once the key and the body pass. A path that differs from the documented one only
/// in case is verified here as the report it names (the journal still calls it undocumented).
async fn report(
    State(state): State<AppState>,
    Path(formato): Path<String>,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let started = parts
        .extensions
        .remove::<Verified>()
        .map_or_else(Instant::now, |v| v.started);
    let as_operation = match formato.to_ascii_lowercase().as_str() {
        "pdf" => Some(Operation::SaldosPdf),
        "csv" => Some(Operation::SaldosCsv),
        _ => None,
    };
    // An undocumented format is verified as a report request, then answered 400-003. The body
    // is in memory (intercept read it): this completes at once.
    let operation = as_operation.unwrap_or(Operation::SaldosCsv);
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let parsed = respond::verify_as(
        state.contract(),
        operation,
        &parts.method,
        &parts.headers,
        &bytes,
    )
    .parsed
    .unwrap_or(Parsed::NotJson);
    let request = respond::Request {
        operation,
        method: &parts.method,
        headers: &parts.headers,
        parsed,
        started,
    };
    into_response(match as_operation {
        Some(_) => respond::answer(&state, request),
        None => respond::sovos::unsupported_format(&state, request),
    })
}

async fn not_found(request: Request) -> Response {
    into_response(respond::refuse(request.uri().path(), Refusal::NotFound))
}

async fn method_not_allowed(request: Request) -> Response {
    into_response(respond::refuse(
        request.uri().path(),
        Refusal::MethodNotAllowed,
    ))
}

/// Serves the fake on `listener` until `shutdown` resolves.
pub async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_until(
        listener,
        Served::fake(state.clone()),
        &state,
        None,
        shutdown,
    )
    .await
}

/// Serves any application built on `state` (the fake or the proxy), over HTTPS when `tls` is
/// given, until `shutdown` resolves.
pub async fn serve_router_until(
    listener: TcpListener,
    served: impl Into<Served>,
    state: &AppState,
    tls: Option<tls::Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.connection_limits();
    listener::serve(
        listener,
        served.into(),
        limits,
        tls.map(|t| t.acceptor),
        shutdown,
    )
    .await
}

/// Serves `state` over HTTPS on `listener` until `shutdown` resolves.
pub async fn serve_tls_until(
    listener: TcpListener,
    state: AppState,
    tls: tls::Tls,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.connection_limits();
    listener::serve(
        listener,
        Served::fake(state),
        limits,
        Some(tls.acceptor),
        shutdown,
    )
    .await
}

/// A fake provider running in-process on a free loopback port, for tests. It stops when
/// dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use einvoice_mock::FakeProvider;
///
/// let fake = FakeProvider::start().await;
/// assert!(fake.uri().starts_with("http://127.0.0.1:"));
/// assert_eq!(fake.state().events().history("no-such-cufe").len(), 0);
/// # }
/// ```
#[derive(Debug)]
pub struct FakeProvider {
    address: SocketAddr,
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeProvider {
    /// Starts a fake on the embedded default configuration.
    ///
    /// # Panics
    /// If no loopback port can be bound: a test cannot go on without its fake.
    pub async fn start() -> FakeProvider {
        Self::start_with(Config::embedded_default()).await
    }

    /// Starts a fake on `config`.
    ///
    /// # Panics
    /// If the configuration's seed data is inconsistent or no loopback port can be bound.
    #[allow(clippy::expect_used)]
    pub async fn start_with(config: Config) -> FakeProvider {
        Self::try_start(config)
            .await
            .expect("the fake provider starts")
    }

    /// Starts a fake on `config`, reporting what went wrong instead of panicking.
    pub async fn try_start(config: Config) -> Result<FakeProvider, StartError> {
        let state = AppState::new(config)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let serving = state.clone();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(error) = serve_until(listener, serving, shutdown).await {
                tracing::error!(%error, "fake provider stopped");
            }
        });
        Ok(FakeProvider {
            address,
            state,
            shutdown: Some(tx),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The socket address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The state: registered events, accounts, configuration.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Arms a scenario, as `POST /__admin/scenarios` does.
    pub fn arm(&self, spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        self.state.scenarios().arm(spec)
    }

    /// The requests received so far (the most recent `[server] journal_capacity`, 1,000 by
    /// default, within `journal_max_bytes`), with their contract verdicts.
    pub fn requests(&self) -> Vec<JournalEntry> {
        self.state.journal().entries().cloned().collect()
    }

    /// The requests that broke the contract (the most recent `journal_capacity` of them,
    /// however much conforming traffic came after).
    pub fn violations(&self) -> Vec<JournalEntry> {
        self.state.journal().violations().cloned().collect()
    }

    /// Panics, listing them, if any request broke the contract: the last line of a test.
    ///
    /// # Panics
    /// When a request broke the contract.
    pub fn verify(&self) {
        let violations = self.violations();
        if violations.is_empty() {
            return;
        }
        let mut report = format!("{} request(s) broke the contract:\n", violations.len());
        for entry in &violations {
            report.push_str(&format!(
                "  #{} {} {}\n",
                entry.id, entry.method, entry.path
            ));
            for finding in &entry.violations {
                report.push_str(&format!(
                    "    {} [{}]: {}\n",
                    finding.location, finding.rule, finding.message
                ));
            }
        }
        panic!("{report}");
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Why a [`FakeProvider`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The socket could not be bound.
    #[error("cannot bind a loopback port")]
    Io(#[from] std::io::Error),
}
