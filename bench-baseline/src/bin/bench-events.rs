//! `bench-events`: how the fake's state grows with recorded events, in-process.
//!
//! Records acuse events (030) on distinct CUFEs through `AppState::record_event`, the path a
//! successful `acuse_recibo_fev` takes, and at each checkpoint reports the process's resident
//! memory (`VmRSS`, `VmHWM` from `/proc/self/status`) and the latency of `historico_eventos`
//! answered by `einvoice_mock::app(state)` through `tower::ServiceExt::oneshot` (no network:
//! the full middleware — verification, journal — and the handler).
//!
//! `bench-events [--sizes 1000,100000,1000000] [--samples 2000]`. One line per checkpoint,
//! `checkpoint events=N ...`, parsed by `cargo xtask bench`.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use einvoice_mock::EventCode;
use einvoice_mock::{app, AppState, Config};
use tower::ServiceExt as _;

/// The seed history's CUFE (three events in the embedded default configuration).
const SEED_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137";

fn cufe(index: u64) -> String {
    format!("{index:096x}")
}

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

fn historico_request(cufe: &str) -> Request<Body> {
    let boundary = "benchboundary7MA4YWxkTrZu0gW";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"cufe\"\r\n\r\n{cufe}\r\n--{boundary}--\r\n"
    );
    Request::post("/api/radian/historico_eventos")
        .header("Authorization", "Bearer t")
        .header("Accept", "application/json")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request: {e}"))
}

/// `samples` historico requests, half on the seed's CUFE, half on recorded CUFEs spread over
/// the ledger; the latencies in microseconds, sorted.
async fn historico_latencies(state: &AppState, recorded: u64, samples: usize) -> Vec<f64> {
    let router = app(state.clone());
    let mut latencies = Vec::with_capacity(samples);
    let mut spread = 0x9e37_79b9_7f4a_7c15_u64;
    for sample in 0..samples {
        let target = if sample % 2 == 0 || recorded == 0 {
            SEED_CUFE.to_owned()
        } else {
            spread = spread
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            cufe((spread >> 11) % recorded)
        };
        let request = historico_request(&target);
        let started = Instant::now();
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        assert!(status.is_success(), "historico answered {status}");
        assert!(
            bytes.starts_with(br#"{"codigo_error":0"#),
            "historico answered {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    latencies.sort_by(f64::total_cmp);
    // The journal kept these requests: empty it so that the next checkpoint's RSS counts the
    // events, not the measurement.
    state.journal().clear();
    latencies
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    let mut sizes: Vec<u64> = vec![1_000, 100_000, 1_000_000];
    let mut samples = 2_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--sizes", Some(v)) => {
                sizes = v
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .replace('_', "")
                            .parse()
                            .unwrap_or_else(|e| panic!("--sizes {s}: {e}"))
                    })
                    .collect();
                sizes.sort_unstable();
            }
            ("--samples", Some(v)) => {
                samples = v.parse().unwrap_or_else(|e| panic!("--samples {v}: {e}"))
            }
            _ => panic!("usage: bench-events [--sizes 1000,100000,1000000] [--samples 2000]"),
        }
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let rss_start = status_kib("VmRSS");
    let built = Instant::now();
    let state = AppState::new(Config::embedded_default()).unwrap_or_else(|e| panic!("{e}"));
    let state_ms = built.elapsed().as_secs_f64() * 1000.0;
    let rss_empty = status_kib("VmRSS");
    // Latency with only the seed: the reference for "flat".
    let base = runtime.block_on(historico_latencies(&state, 0, samples));
    println!(
        "checkpoint events=0 record_s=0 rss_kib={rss_empty} hwm_kib={} p50_us={:.1} p99_us={:.1} mean_us={:.1} state_new_ms={state_ms:.2} rss_start_kib={rss_start}",
        status_kib("VmHWM"),
        percentile(&base, 50.0),
        percentile(&base, 99.0),
        base.iter().sum::<f64>() / base.len().max(1) as f64,
    );

    let mut recorded = 0u64;
    for size in sizes {
        let started = Instant::now();
        while recorded < size {
            let result = state.record_event(&cufe(recorded), EventCode::AcuseRecibo, "830020470");
            assert!(result.is_ok(), "event {recorded} was refused");
            recorded += 1;
        }
        let record_s = started.elapsed().as_secs_f64();
        let rss = status_kib("VmRSS");
        let hwm = status_kib("VmHWM");
        let latencies = runtime.block_on(historico_latencies(&state, recorded, samples));
        println!(
            "checkpoint events={recorded} record_s={record_s:.3} rss_kib={rss} hwm_kib={hwm} p50_us={:.1} p99_us={:.1} mean_us={:.1}",
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            latencies.iter().sum::<f64>() / latencies.len().max(1) as f64,
        );
    }
}
