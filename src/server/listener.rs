//! The accept loop. axum's own `serve` cannot drop one connection on purpose; the
//! `connection_reset` and `empty_response` faults need to, so each connection gets a
//! [`ConnectionControl`] in its requests' extensions.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
}

/// A handle on the connection a request arrived on.
#[derive(Debug, Clone)]
pub struct ConnectionControl {
    abort: Arc<Notify>,
    reset: Arc<AtomicBool>,
    peer: SocketAddr,
}

impl ConnectionControl {
    /// A handle for a request that did not come through the accept loop (tests, embedding):
    /// aborting it does nothing but mark it.
    pub fn detached(peer: SocketAddr) -> ConnectionControl {
        ConnectionControl {
            abort: Arc::default(),
            reset: Arc::default(),
            peer,
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Drops the connection without an answer: a TCP reset when `reset`, else a plain close.
    pub fn abort(&self, reset: bool) {
        self.reset.store(reset, Ordering::SeqCst);
        self.abort.notify_one();
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    // A client that never finishes its headers is cut off instead of holding a task forever.
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let control = ConnectionControl {
            abort: Arc::default(),
            reset: Arc::default(),
            peer,
        };
        let socket = socket2::SockRef::from(&stream).try_clone().ok();
        let service = app.clone().map_request({
            let control = control.clone();
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(control.clone());
                request
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => drive(builder, watcher, stream, service, control, socket).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => drive(builder, watcher, stream, service, control, socket).await,
                    Err(error) => tracing::debug!(%error, "TLS handshake failed"),
                },
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}");
    }
    Ok(())
}

/// Serves one connection until it ends or a fault asks to drop it.
async fn drive<I, S>(
    builder: Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    io: I,
    service: S,
    control: ConnectionControl,
    socket: Option<socket2::Socket>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            axum::extract::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
    let connection = watcher.watch(connection.into_owned());
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        () = control.abort.notified() => {
            if control.reset.load(Ordering::SeqCst) {
                if let Some(socket) = &socket {
                    // Linger 0: closing sends RST instead of FIN.
                    let _ = socket.set_linger(Some(Duration::ZERO));
                }
            }
            // Dropping the connection (and the clone) closes the socket unanswered.
        }
    }
    drop(socket);
}
