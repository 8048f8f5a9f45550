//! The accept loop. axum's own `serve` cannot drop one connection on purpose; the
//! `connection_reset` and `empty_response` faults need to, so each connection gets a
//! [`ConnectionControl`]: handed to `intercept` with a request on the direct path
//! ([`Served`]), in the request's extensions for the router.
//!
//! Every connection has a deadline in every phase (issue 15): its socket is wrapped in a
//! [`Deadline`] that notes each byte read or written, and a watchdog beside the connection
//! ([`idle`]) drops it when nothing moved for `read_timeout` while no request is being handled —
//! a client that sends nothing, half an HTTP/2 preface or half a TLS handshake, an idle HTTP/2
//! connection, a keep-alive connection left open, a client that stops reading its answer — or
//! when a request head is not whole `read_timeout` after the connection opened or, over
//! HTTP/1, after the answer before it was written (a head trickled a byte at a time). After
//! its first request an HTTP/2 connection owes no head (hyper's timer never applied to HTTP/2
//! either): only the silence rule, `max_connections` and [`MAX_STREAMS`] bound it. The
//! watchdog does not depend on the protocol polling the socket, and it keeps the head's
//! deadline instead of hyper's timer, which registered and cancelled a timer per request. Requests themselves are bounded by the body reads of `intercept` and the admin
//! guard. At most `max_connections` are open at once; past that new ones are closed as
//! soon as they are accepted, and the established ones go on being served.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::intercept::{self, Answering, Arrival, Onward};
use super::Served;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection-level limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long a client may take to send its request headers, and how long a connection may
    /// go without reading or writing a byte while no request is being handled.
    pub header_read_timeout: Duration,
    /// How many connections may be open at once.
    pub max_connections: usize,
    /// Where the counts go (shared with the state, for `/__admin/health`).
    pub stats: Arc<ConnectionStats>,
}

/// What the accept loop counts, and the address it listens on.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    open: AtomicUsize,
    refused: AtomicU64,
    timed_out: AtomicU64,
    local: OnceLock<SocketAddr>,
}

impl ConnectionStats {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections closed unserved because `max_connections` were open.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Connections cut off by their deadline.
    pub fn timed_out(&self) -> u64 {
        self.timed_out.load(Ordering::Relaxed)
    }

    /// The address the fake listens on, once it does.
    pub fn local_address(&self) -> Option<SocketAddr> {
        self.local.get().copied()
    }
}

/// One open connection, counted until dropped.
struct Open(Arc<ConnectionStats>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
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

/// Serves `served` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    served: Served,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS);
    if let Ok(local) = listener.local_addr() {
        let _ = limits.stats.local.set(local);
    }
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
        let stats = &limits.stats;
        if stats.open.fetch_add(1, Ordering::Relaxed) >= limits.max_connections {
            stats.open.fetch_sub(1, Ordering::Relaxed);
            if stats.refused.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection refused: server.max_connections are open (logged once; \
                     /__admin/health counts them)"
                );
            }
            // Closed unanswered; the clients already connected go on being served.
            drop(stream);
            continue;
        }
        let open = Open(Arc::clone(stats));
        let _ = stream.set_nodelay(true);
        let control = ConnectionControl {
            abort: Arc::default(),
            reset: Arc::default(),
            peer,
        };
        let progress = Arc::new(Progress::new());
        let io = Deadline {
            stream,
            progress: Arc::clone(&progress),
            reset: Arc::clone(&control.reset),
        };
        let service = Connection {
            served: served.clone(),
            progress: Arc::clone(&progress),
            control: control.clone(),
        };
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let timeout = limits.header_read_timeout;
        let stats = Arc::clone(stats);
        tokio::spawn(async move {
            let serving = async {
                match tls {
                    None => drive(builder, watcher, io, service, control).await,
                    // The handshake is under the watchdog too.
                    Some(acceptor) => match acceptor.accept(io).await {
                        Ok(stream) => drive(builder, watcher, stream, service, control).await,
                        Err(error) => tracing::debug!(%error, "TLS handshake failed"),
                    },
                }
            };
            tokio::select! {
                () = serving => {}
                () = idle(&progress, timeout) => {
                    // Dropping the connection closes its socket.
                    stats.timed_out.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(open);
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

/// Streams one HTTP/2 client may have open at once.
const MAX_STREAMS: u32 = 128;

/// Serves one connection until it ends or a fault asks to drop it.
async fn drive<I, S>(
    builder: Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    io: I,
    service: S,
    control: ConnectionControl,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            axum::extract::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    let connection = watcher.watch(connection.into_owned());
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        // Dropping the connection closes the socket unanswered; `Deadline`'s drop sets linger 0
        // first when the fault asked for a reset.
        () = control.abort.notified() => {}
    }
}

/// The service of one connection. It counts the requests being handled, during which the
/// connection's idle deadline does not apply (a handler may take its time: a delay scenario);
/// hands a `POST` to a documented operation of the fake to `intercept` directly; and gives every
/// other request its connection and `Host` verdict as extensions, for the router.
struct Connection {
    served: Served,
    progress: Arc<Progress>,
    control: ConnectionControl,
}

/// Decrements the count of requests being handled when the response (or its failure) is in.
struct Active {
    progress: Arc<Progress>,
    http1: bool,
}

impl Drop for Active {
    fn drop(&mut self) {
        let now = self.progress.touch();
        if self.http1 {
            self.progress.answered(now);
        }
        self.progress.active.fetch_sub(1, Ordering::Relaxed);
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<axum::response::Response, Infallible>> + Send>>;

impl hyper::service::Service<axum::extract::Request<hyper::body::Incoming>> for Connection {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: axum::extract::Request<hyper::body::Incoming>) -> Answer {
        self.progress.active.fetch_add(1, Ordering::Relaxed);
        self.progress.head_ended();
        let active = Active {
            progress: Arc::clone(&self.progress),
            http1: request.version() <= axum::http::Version::HTTP_11,
        };
        // HTTP's `Host` rules, judged on what came off the wire (`edge`).
        let bad_host = super::edge::host_problem(request.version(), request.headers());
        let mut request = request.map(axum::body::Body::new);
        if let Some((state, routes)) = self.served.direct_for(&request) {
            let (state, routes) = (state.clone(), routes.clone());
            let arrival = Arrival {
                control: Some(self.control.clone()),
                bad_host: bad_host.is_some(),
            };
            return Box::pin(async move {
                let response = intercept::handle(
                    state,
                    Answering::Core,
                    request,
                    Onward::Routes(routes),
                    arrival,
                )
                .await;
                drop(active);
                Ok(response)
            });
        }
        request.extensions_mut().insert(self.control.clone());
        if let Some(problem) = bad_host {
            request
                .extensions_mut()
                .insert(super::edge::BadHost(problem));
        }
        let answer = self.served.router().oneshot(request);
        Box::pin(async move {
            let response = answer.await;
            drop(active);
            response
        })
    }
}

/// When a connection last moved a byte, how many of its requests are being handled, and since
/// when it has owed a request head.
#[derive(Debug)]
struct Progress {
    origin: tokio::time::Instant,
    /// Milliseconds from `origin` to the last byte read or written.
    last: AtomicU64,
    active: AtomicUsize,
    /// Milliseconds from `origin` to when the request head being awaited could begin: the
    /// connection's start, or the end of the answer before it over HTTP/1 ([`NO_HEAD`] while
    /// a request is being handled, and on HTTP/2 after its first request: its frames between
    /// requests, pings and settings, are not a head).
    head: AtomicU64,
    /// Whether the answer just given is still being written: its writes move `head` on, until
    /// the client sends a byte.
    answer_tail: AtomicBool,
}

/// [`Progress::head`] when no request head is being read.
const NO_HEAD: u64 = u64::MAX;

impl Progress {
    fn new() -> Progress {
        Progress {
            origin: tokio::time::Instant::now(),
            last: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            head: AtomicU64::new(0),
            answer_tail: AtomicBool::new(false),
        }
    }

    /// Notes a byte moved, now; returns when (milliseconds from `origin`).
    fn touch(&self) -> u64 {
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
        now
    }

    /// Notes bytes read. The next head's clock, started by an answer, runs from here on even
    /// if the answer is still being written: the client has begun sending.
    fn read(&self) {
        self.touch();
        if self.answer_tail.load(Ordering::Relaxed) {
            self.answer_tail.store(false, Ordering::Relaxed);
        }
    }

    /// Notes bytes written: the answer's tail moves the next head's clock on, as hyper's own
    /// timer began once the answer was out.
    fn wrote(&self) {
        let now = self.touch();
        if self.answer_tail.load(Ordering::Relaxed) {
            self.head.store(now, Ordering::Relaxed);
        }
    }

    /// A request head came whole.
    fn head_ended(&self) {
        self.answer_tail.store(false, Ordering::Relaxed);
        self.head.store(NO_HEAD, Ordering::Relaxed);
    }

    /// An HTTP/1 request was answered at `now`: the next head is awaited from then, and the
    /// answer's writes move that on.
    fn answered(&self, now: u64) {
        self.head.store(now, Ordering::Relaxed);
        self.answer_tail.store(true, Ordering::Relaxed);
    }

    fn at(&self, millis: u64) -> tokio::time::Instant {
        self.origin + Duration::from_millis(millis)
    }

    fn last(&self) -> tokio::time::Instant {
        self.at(self.last.load(Ordering::Relaxed))
    }

    /// Since when a request head has been owed, if one is.
    fn head(&self) -> Option<tokio::time::Instant> {
        match self.head.load(Ordering::Relaxed) {
            NO_HEAD => None,
            millis => Some(self.at(millis)),
        }
    }
}

/// Resolves once, while no request was being handled, nothing moved on the connection for
/// `timeout` or a request head has been owed for `timeout`: the connection's deadline,
/// whatever phase it is in. One timer per connection, moved once per `timeout` at most.
async fn idle(progress: &Progress, timeout: Duration) {
    loop {
        // A head is owed from a moment the connection moved (its start, an answer's last
        // write), so never from after its last byte.
        let since = progress.head().unwrap_or_else(|| progress.last());
        tokio::time::sleep_until(since + timeout).await;
        if progress.active.load(Ordering::Relaxed) > 0 {
            // A handler may take its time (a delay scenario); its body reads have their own.
            progress.touch();
            continue;
        }
        let now = tokio::time::Instant::now();
        let head_late = progress.head().is_some_and(|head| now >= head + timeout);
        if head_late || now >= progress.last() + timeout {
            return;
        }
    }
}

/// A connection's socket: notes each byte read or written for [`idle`]. It owns the only
/// descriptor of the socket (no clone kept for `SO_LINGER`): when a fault asked for a reset,
/// its drop sets linger 0 so that closing sends RST.
pub(crate) struct Deadline {
    stream: TcpStream,
    progress: Arc<Progress>,
    reset: Arc<AtomicBool>,
}

impl AsyncRead for Deadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.progress.read();
        }
        polled
    }
}

impl AsyncWrite for Deadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, bytes);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // Linger 0: closing sends RST instead of FIN. On the one descriptor, just before
            // it closes.
            let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        }
    }
}
