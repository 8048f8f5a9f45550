//! `cargo xtask soak`: many concurrent clients on loopback, for a bounded time, across every
//! operation and the armed scenarios. Reports errors (none is allowed besides what the armed
//! scenarios produce), RSS growth and latency percentiles.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::http;
use crate::server::Server;

/// `cargo xtask soak --help`: every option of [`Options::parse`], with its default.
pub const USAGE: &str = "usage: cargo xtask soak [options]

Builds the release binary, starts `einvoice-mock serve --port 0` with the saldos_pdf scenario
armed to answer its documented 500, and runs many concurrent clients on loopback across every
operation (fresh and repeated acuses, invalid payloads, the armed scenario) for a bounded time.
Reports requests/s, latency percentiles, the journal's summary, and RSS at start, after the
load and after DELETE /__admin/requests. Fails on any unexpected answer or transport error, and
when memory outside the recorded state (RSS less the events recorded, at 200 bytes each) keeps
growing: its mean over the last third of the run more than 4 MiB (or 5%) above the middle
third's. Run at least 9 s for three samples per third.

options:
  --duration SECS       how long the load runs, `30` or `30s`, positive (default 30s)
  --clients N           concurrent clients, positive (default 16)
  -h, --help            print this help";

/// Options of `soak`.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the load runs.
    pub duration: Duration,
    /// Concurrent clients.
    pub clients: usize,
}

impl Options {
    /// `--duration SECONDS`, `--clients N` (see [`USAGE`]); an unknown option is an error.
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            duration: Duration::from_secs(30),
            clients: 16,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .map(String::as_str)
                    .with_context(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--duration" => {
                    let v = value()?;
                    let seconds = v
                        .trim_end_matches('s')
                        .parse()
                        .with_context(|| format!("--duration {v}: seconds, e.g. 30s"))?;
                    options.duration = Duration::from_secs(seconds);
                }
                "--clients" => {
                    let v = value()?;
                    options.clients = v
                        .parse()
                        .with_context(|| format!("--clients {v}: a number of clients"))?;
                }
                other => bail!("unknown option `{other}`"),
            }
        }
        if options.clients == 0 || options.duration.is_zero() {
            bail!("--clients and --duration must be positive");
        }
        Ok(options)
    }
}

/// What one recorded event may cost, generously (BENCHMARKS.md: about 150 bytes).
const EVENT_BYTES: u64 = 200;

const EJEMPLO_1: &str =
    include_str!("../../fixtures/afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
/// Ejemplo 1 as a reclamo: an `encabezado` first (the reclamo page's template).
const RECLAMO: &str = r#"{"evento":[{"encabezado":{"tipo_reclamo":"02"},"informacion_documento_referencia":{"cufe":"f46111923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4"},"quien_recibio_documento":{"tipo_identificacion":13,"identificacion":"1111111","nombres":"Prueba","apellidos":"Reclamo de FEV"}}],"generalidades":{"tipo_ambiente_dian":2,"identificador_transmision":"20220913_122843","integrador":{"nombre":"WEB","tipo":"WEB"}}}"#;
/// Requests per cycle of [`call`].
const CYCLE: u64 = 11;
const SEED_CUFE: &str = "aadd9b013437bb072b6d2d99773368992e4678499d6123456e7cea9653c585dda585cfb89f177133165def832852137";

/// One kind of request the soak sends, and the statuses that are correct for it.
struct Call {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    expected: &'static [u16],
}

fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "einvoicemocksoak";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The `n`-th request of client `client`: a rotation over every operation, a fresh CUFE per
/// cycle taken through 030, 032 and 031 (and asked for its holder and history), a repeated
/// acuse (DIAN 15), invalid payloads (400), and the operations the armed scenarios answer.
fn call(client: usize, n: u64) -> Call {
    let afacturar = |path, fields: &[(&str, &str)], expected| {
        let (content_type, body) = multipart(fields);
        Call {
            name: path,
            method: "POST",
            path,
            headers: vec![
                ("Authorization", "Bearer soak".to_owned()),
                ("Accept", "application/json".to_owned()),
                ("Content-Type", content_type),
            ],
            body,
            expected,
        }
    };
    let sovos = |path, body: &str, expected| Call {
        name: path,
        method: "POST",
        path,
        headers: vec![
            ("RCApiKey", "soak".to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ],
        body: body.as_bytes().to_vec(),
        expected,
    };
    // The RADIAN lifecycle on one fresh CUFE per cycle: 030, then 032, then 031.
    let cycle = n / CYCLE;
    let fresh_cufe = format!("{:048x}{:048x}", client + 1, cycle);
    let with_cufe = |data: &str| {
        data.replace(
            "f46111923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4",
            &fresh_cufe,
        )
    };
    match n % CYCLE {
        0 => afacturar(
            "/api/radian/acuse_recibo_fev",
            &[
                ("data", &with_cufe(EJEMPLO_1)),
                ("documento_obligado", "830020470"),
            ],
            &[200],
        ),
        1 => afacturar(
            "/api/radian/recibo_bien_servicio",
            &[
                ("data", &with_cufe(EJEMPLO_1)),
                ("documento_obligado", "830020470"),
            ],
            &[200],
        ),
        8 => afacturar(
            "/api/radian/reclamo",
            &[
                ("data", &with_cufe(RECLAMO)),
                ("documento_obligado", "830020470"),
            ],
            &[200],
        ),
        9 => afacturar(
            "/api/radian/lector_cufe_tenedor_legitimo",
            &[
                ("documento_obligado", "830020470"),
                ("lista_cufe", &fresh_cufe),
            ],
            &[200],
        ),
        10 => afacturar(
            "/api/radian/historico_eventos",
            &[("cufe", &fresh_cufe)],
            &[200],
        ),
        // The document's Ejemplo 1 again and again: one success in the whole run, then DIAN 15.
        2 => afacturar(
            "/api/radian/acuse_recibo_fev",
            &[("data", EJEMPLO_1), ("documento_obligado", "830020470")],
            &[200],
        ),
        3 => afacturar(
            "/api/radian/historico_eventos",
            &[("cufe", SEED_CUFE)],
            &[200],
        ),
        4 => sovos(
            "/api/rest/Timbre/saldos",
            r#"{"MesConsulta":"2019-11"}"#,
            &[200],
        ),
        5 => sovos(
            "/api/rest/Timbre/saldos",
            r#"{"MesConsulta":"2019-13"}"#,
            &[400],
        ),
        6 => sovos(
            "/api/rest/Timbre/saldos/csv",
            r#"{"MesConsulta":"2019-10"}"#,
            &[200],
        ),
        // Answered by the scenario armed in `run` (the documented 500).
        _ => sovos(
            "/api/rest/Timbre/saldos/pdf",
            r#"{"MesConsulta":"2019-10"}"#,
            &[500],
        ),
    }
}

/// Runs the soak against the release binary.
pub fn run(binary: &std::path::Path, options: &Options) -> Result<()> {
    let mut server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    // Every pdf report answers the documented 500: the scenarios are part of the load.
    http::request(
        &address,
        "POST",
        "/__admin/scenarios",
        &[("Content-Type", "application/json")],
        br#"{"operation":"saldos_pdf","respond":"500","times":null}"#,
    )?;
    let (_, rss_start) = server.memory_kib();
    println!(
        "soak: {} clients for {:?} against {address} (RSS at start {rss_start} KiB)",
        options.clients, options.duration
    );

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let recorded = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut threads = Vec::new();
    for client in 0..options.clients {
        let (stop, sent, recorded, latencies, errors, address) = (
            stop.clone(),
            sent.clone(),
            recorded.clone(),
            latencies.clone(),
            errors.clone(),
            address.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let mut own = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let call = call(client, n);
                n += 1;
                let headers: Vec<(&str, &str)> =
                    call.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let started = Instant::now();
                let answer = http::request(&address, call.method, call.path, &headers, &call.body);
                own.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
                sent.fetch_add(1, Ordering::Relaxed);
                match answer {
                    Ok(answer) if call.expected.contains(&answer.status) => {
                        // A fresh CUFE's 030, 032 and 031 record events: state the client
                        // asked for.
                        if matches!((n - 1) % CYCLE, 0 | 1 | 8) {
                            recorded.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(answer) => errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!(
                            "{} answered {}: {}",
                            call.name,
                            answer.status,
                            answer.text().chars().take(200).collect::<String>()
                        )),
                    Err(error) => errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{}: {error:#}", call.name)),
                }
            }
            latencies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(own);
        }));
    }
    let started = Instant::now();
    // RSS, and RSS less the recorded events: what is not state the clients asked for.
    let mut samples = Vec::new();
    let mut outside = Vec::new();
    while started.elapsed() < options.duration {
        std::thread::sleep(Duration::from_secs(1).min(options.duration));
        let (_, rss) = server.memory_kib();
        samples.push(rss);
        let state_kib = recorded.load(Ordering::Relaxed) * EVENT_BYTES / 1024;
        outside.push(rss.saturating_sub(state_kib));
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        let _ = thread.join();
    }
    let (peak, rss_end) = server.memory_kib();
    let summary = http::get(&address, "/__admin/requests")?;
    let cleared = http::request(&address, "DELETE", "/__admin/requests", &[], &[])?;
    if cleared.status != 204 {
        bail!("DELETE /__admin/requests answered {}", cleared.status);
    }
    std::thread::sleep(Duration::from_millis(500));
    let (_, rss_cleared) = server.memory_kib();
    server.stop();

    let mut latencies = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(index).copied().unwrap_or(0) as f64 / 1000.0
    };
    let total = sent.load(Ordering::Relaxed);
    let errors = errors.lock().unwrap_or_else(|e| e.into_inner()).clone();
    println!(
        "soak: {total} requests in {:.1} s ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        total as f64 / started.elapsed().as_secs_f64()
    );
    println!(
        "soak: latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(0.50),
        percentile(0.99),
        percentile(1.0)
    );
    let first_sample = samples.first().copied().unwrap_or(rss_start);
    let events = recorded.load(Ordering::Relaxed);
    println!(
        "soak: RSS at start {rss_start} KiB, after 1 s {first_sample} KiB, after the load \
         {rss_end} KiB (peak {peak} KiB), after DELETE /__admin/requests {rss_cleared} KiB"
    );
    let (middle, last) = thirds(&outside);
    println!(
        "soak: {events} events recorded (≤ {} KiB of state at {EVENT_BYTES} B each); RSS less \
         that state: mean {middle} KiB over the middle third, {last} KiB over the last third",
        events * EVENT_BYTES / 1024
    );
    let growing = last.saturating_sub(middle) > (4 * 1024).max(middle / 20);
    let journal_summary = summary
        .text()
        .split("\"summary\":")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .map(|s| format!("{s}}}"))
        .unwrap_or_default();
    println!("soak: journal summary {journal_summary}");
    println!(
        "soak: {} unexpected answers or transport errors",
        errors.len()
    );
    for error in errors.iter().take(10) {
        println!("  {error}");
    }
    if !errors.is_empty() {
        bail!("{} unexpected answers during the soak", errors.len());
    }
    if growing {
        bail!(
            "memory outside the recorded state keeps growing: {middle} KiB over the middle \
             third, {last} KiB over the last"
        );
    }
    Ok(())
}

/// The means of the middle and the last third of `samples` (the first third is warm-up: the
/// journal filling to its capacity, the allocator's arenas).
fn thirds(samples: &[u64]) -> (u64, u64) {
    let third = samples.len() / 3;
    let mean = |part: &[u64]| {
        if part.is_empty() {
            0
        } else {
            part.iter().sum::<u64>() / part.len() as u64
        }
    };
    if third == 0 {
        let last = samples.last().copied().unwrap_or(0);
        return (last, last);
    }
    (
        mean(&samples[third..2 * third]),
        mean(&samples[2 * third..]),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn thirds_skip_the_warm_up_and_average_the_rest() {
        assert_eq!(
            super::thirds(&[100, 100, 100, 10, 10, 10, 20, 20, 20]),
            (10, 20)
        );
        assert_eq!(super::thirds(&[5, 7]), (7, 7));
        assert_eq!(super::thirds(&[]), (0, 0));
    }
}
