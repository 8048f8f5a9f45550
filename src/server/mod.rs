//! The fake provider: the axum application, `serve`, and [`FakeProvider`] for in-process use.

mod admin;
pub mod config;
pub mod forms;
mod intercept;
pub mod journal;
mod listener;
pub mod proxy;
pub mod scenarios;
mod state;
pub mod tls;
pub mod verify;
pub mod webhooks;

use std::net::SocketAddr;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use config::{Config, ConfigError};
pub use journal::JournalEntry;
pub use listener::{ConnectionControl, ConnectionStats};
pub use scenarios::{Fault, Scenario, ScenarioError, ScenarioSpec};
pub use state::{AppState, Clock};

use crate::contract::{Operation, Provider};
use crate::provider::afacturar::handlers as afacturar;
use crate::provider::sovos::errors::SovosError;
use crate::provider::sovos::handlers as sovos;

/// The application: the provider routes behind contract verification, scenarios and the
/// journal, and the admin API under `/__admin/`.
pub fn app(state: AppState) -> Router {
    with_intercept_and_admin(provider_routes(state.clone()), state)
}

/// `routes` behind the `intercept` layer (verdict, scenarios, journal), merged with the admin
/// API: what `serve` and `proxy` have in common.
pub(crate) fn with_intercept_and_admin(routes: Router, state: AppState) -> Router {
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
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

/// The provider routes alone: every documented endpoint, with unknown paths and methods
/// answered in the format of the provider whose path prefix they share.
pub fn provider_routes(state: AppState) -> Router {
    Router::new()
        .route(
            Operation::HistoricoEventos.path(),
            post(afacturar::historico_eventos),
        )
        .route(
            Operation::AcuseReciboFev.path(),
            post(afacturar::acuse_recibo_fev),
        )
        .route(Operation::Saldos.path(), post(sovos::saldos))
        .route("/api/rest/Timbre/saldos/{formato}", post(sovos::report))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // `intercept` enforces the configured limit and answers in the provider's format.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

pub(crate) fn provider_of(path: &str) -> Option<Provider> {
    if path.starts_with("/api/radian/") {
        Some(Provider::Afacturar)
    } else if path.starts_with("/api/rest/") {
        Some(Provider::Sovos)
    } else {
        None
    }
}

async fn not_found(request: Request) -> Response {
    match provider_of(request.uri().path()) {
        Some(Provider::Afacturar) => afacturar::Answer::table(404).into_response(),
        Some(Provider::Sovos) => (StatusCode::NOT_FOUND, Json(SovosError::NotFound.body())).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({
                "error": "not found",
                "path": request.uri().path(),
                "operations": Operation::ALL.iter().map(|op| format!("POST {}", op.path())).collect::<Vec<_>>(),
            })),
        )
            .into_response(),
    }
}

async fn method_not_allowed(request: Request) -> Response {
    match provider_of(request.uri().path()) {
        Some(Provider::Sovos) => (
            StatusCode::METHOD_NOT_ALLOWED,
            Json(serde_json::json!({ "errors": [{ "Code": "405", "Message": "Método no permitido." }] })),
        )
            .into_response(),
        _ => afacturar::Answer::table(405).into_response(),
    }
}

/// Serves the fake on `listener` until `shutdown` resolves.
pub async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_until(listener, app(state.clone()), &state, None, shutdown).await
}

/// Serves any application built on `state` (the fake or the proxy), over HTTPS when `tls` is
/// given, until `shutdown` resolves.
pub async fn serve_router_until(
    listener: TcpListener,
    router: Router,
    state: &AppState,
    tls: Option<tls::Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.connection_limits();
    listener::serve(listener, router, limits, tls.map(|t| t.acceptor), shutdown).await
}

/// Serves `state` over HTTPS on `listener` until `shutdown` resolves.
pub async fn serve_tls_until(
    listener: TcpListener,
    state: AppState,
    tls: tls::Tls,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.connection_limits();
    listener::serve(listener, app(state), limits, Some(tls.acceptor), shutdown).await
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
    /// default), with their contract verdicts.
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
