//! `bench-baseline`: the bare-axum server `cargo xtask bench` compares einvoice-mock with.
//!
//! The same routes as the fake, the same runtime (tokio multi-thread, one worker per core),
//! `TCP_NODELAY` like the fake's accept loop; each handler reads the whole body and answers
//! fixed bytes: a copy of the fake's own success body for that route, so that both servers
//! send about as much over the wire. No validation, no state, no journal, no logging.
//!
//! `bench-baseline [--host 127.0.0.1] [--port 0] [--work-ns N]`; the first stdout line is
//! `listening on http://HOST:PORT`, as for `einvoice-mock serve`. It stops on SIGTERM/SIGINT
//! (default action).
//!
//! `--work-ns N` makes each provider route spin for N nanoseconds of CPU before answering:
//! `cargo xtask bench` uses it to show how far a given amount of extra work per request moves
//! the throughput of this baseline (the load generator shares the machine's cores).

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

/// The fake's answer to the benchmark's `saldos` request.
const SALDOS: &str = r#"{"TipoConsumo":"Postpago","FechaActual":"2026-11-23T10:02:48","Registrados":0,"Autorizados":2,"GeneraronTimbre":2,"Transacciones":2,"Detalle":[{"RFC":"A&D061009TY8","Fecha":"2019-11-02T00:00:00","TipoMovimiento":"Consumo de timbre","Monto":1},{"RFC":"AAA010101AAA","Fecha":"2019-11-03T00:00:00","TipoMovimiento":"Consumo de timbre","Monto":1}]}"#;

/// The fake's answer to a successful `acuse_recibo_fev`.
const ACUSE: &str = r#"{"codigo_error":0,"descripcion_error":"OK","tiempo_ejecucion":0.000047068,"transaccion":"ODMwMDIwNDcw6b0463a88e62a","resultado":{"cude":"04387dc166a6d366d0de962ec0c424d91581b2b73490883babd08bcc7f1e98959264095a1d8f1658ad6c1ae5b2c3676e","numero_evento":"1","url_representacion_xml":"https://afacturar.archivamos.com/310c4707/1e552c715fe8f7e53626bd261ce6681d3db495f8/eventos/2026/11/23/ar08300204700552600000001.xml"},"entorno":"Este documento se envia al entorno: DOCUMENTO_NO_VALIDO","ErrorMessage_DIAN":""}"#;

/// The fake's answer to `historico_eventos` for the seed's CUFE (three events).
const HISTORICO: &str = r#"{"codigo_error":0,"descripcion_error":"OK","tiempo_ejecucion":0.000018825,"transaccion":"6b0463a8837af","resultado":[{"numero":"1","codigo":"030","descripcion":"Acuse de recibo de Factura Electrónica de Venta","fecha":"2022-11-30 21:22:17","cude":"e6c2667a3deaf9e1b7d74b4afdd93172d580b21fd31c41fbccd61578d33f959dc6b73d3200961376314f450ae79d96dd57","identificacion_evento":"PAR29","emisor_nombre":"SOFTWARE SAS","emisor_identificacion":"9999999","receptor_nombre":"ENERGIA","receptor_identificacion":"5555555"},{"numero":"2","codigo":"032","descripcion":"Recibo del bien o prestación del servicio","fecha":"2022-11-30 21:22:37","cude":"d9446472b7057cde108ffb50c4f64770918f0169d685e329cf840d515981324411852fd51bb664f07ea7b512833e6fe26","identificacion_evento":"PRE27","emisor_nombre":"SOFTWARE SAS","emisor_identificacion":"9999999","receptor_nombre":"ENERGIA","receptor_identificacion":"5555555"},{"numero":"3","codigo":"033","descripcion":"Aceptación expresa","fecha":"2022-11-30 21:23:07","cude":"5c214161121fd07c19324b36f97b5b7ce07d80dd702ca123116e9f43bde5af814c74c940d676e7f0062d4ada7e2d","identificacion_evento":"PAC20","emisor_nombre":"SOFTWARE SAS","emisor_identificacion":"9999999","receptor_nombre":"ENERGIAS","receptor_identificacion":"5555555"}]}"#;

/// The fake's answer to `lector_cufe_tenedor_legitimo` for one CUFE.
const LECTOR: &str = r#"{"codigo_error":"0","descripcion_error":"OK","tiempo_ejecucion":"0.000021","resultado":[{"cufe":"aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137a","codigo_error":"0","descripcion_error":"OK","nit_legitimo_tenedor":"5555555","razon_social_legitimo_tenedor":"ENERGIA"}]}"#;

/// Extra CPU work per request, in nanoseconds (`--work-ns`).
static WORK_NS: AtomicU64 = AtomicU64::new(0);

/// Spins for `--work-ns` nanoseconds: CPU work the way a heavier handler would spend it.
fn work() {
    let work = Duration::from_nanos(WORK_NS.load(Ordering::Relaxed));
    if work.is_zero() {
        return;
    }
    let started = Instant::now();
    while started.elapsed() < work {
        std::hint::spin_loop();
    }
}

/// Fixed bytes as JSON: the body was read in full by the `Bytes` extractor.
fn fixed(body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

async fn saldos(_body: Bytes) -> impl IntoResponse {
    work();
    fixed(SALDOS)
}

async fn acuse(_body: Bytes) -> impl IntoResponse {
    work();
    fixed(ACUSE)
}

async fn historico(_body: Bytes) -> impl IntoResponse {
    work();
    fixed(HISTORICO)
}

async fn lector(_body: Bytes) -> impl IntoResponse {
    work();
    fixed(LECTOR)
}

async fn health() -> impl IntoResponse {
    fixed(r#"{"status":"ok"}"#)
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, fixed(r#"{"error":"not found"}"#))
}

fn app() -> Router {
    Router::new()
        .route("/api/radian/historico_eventos", post(historico))
        .route("/api/radian/acuse_recibo_fev", post(acuse))
        .route("/api/radian/lector_cufe_tenedor_legitimo", post(lector))
        .route("/api/rest/Timbre/saldos", post(saldos))
        .route("/api/rest/Timbre/saldos/{formato}", post(saldos))
        .route("/__admin/health", get(health))
        .fallback(not_found)
}

fn main() -> std::io::Result<()> {
    let mut host = String::from("127.0.0.1");
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--host", Some(v)) => host = v,
            ("--work-ns", Some(v)) => WORK_NS.store(
                v.parse().map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--work-ns: {e}"))
                })?,
                Ordering::Relaxed,
            ),
            ("--port", Some(v)) => {
                port = v.parse().map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--port: {e}"))
                })?
            }
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "usage: bench-baseline [--host HOST] [--port PORT] [--work-ns N]",
                ))
            }
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
            let address = listener.local_addr()?;
            {
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "listening on http://{address}")?;
                stdout.flush()?;
            }
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            axum::serve(listener, app()).await
        })
}
