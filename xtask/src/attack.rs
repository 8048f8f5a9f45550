//! `cargo xtask attack`: the slow attacks of issue 15 against the release binary, on loopback,
//! bounded in time and count; every server started is stopped. The fast ones are tests
//! (`tests/server/connections.rs` and its neighbours).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::http;
use crate::server::{clock_ticks_per_second, Server};

mod wire;

/// `cargo xtask attack --help`.
pub const USAGE: &str = "usage: cargo xtask attack [options]

Builds the release binary and runs the slow attacks of issue 15 against `einvoice-mock serve`
on loopback, each against a server of its own (stopped afterwards), and prints what it
measured. Fails when a limit does not hold:
  B  idle and half-open connections (nothing sent, half an HTTP/2 preface, idle HTTP/2, half
     a request head, an admin body never finished) against a fake under `ulimit -n 1024`: one
     descriptor per connection, connections past server.max_connections refused while an
     established client is still served, every one of them closed by server.read_timeout_ms
  E  distinct 60 KB tokens with --rate-limit: resident memory stays bounded
  M  stderr on a pipe nobody reads: every request answered, dropped lines counted in
     /__admin/health, SIGTERM still exits
  N  events recorded live with --data-dir, then a restart: the restored process needs no
     more memory than the live one (within 20%)
  O  60 KiB unknown paths: CPU per request stays small
  P  journal bytes: Sovos requests with 90 headers of 4,400 bytes of 0xFF, then bodies of
     64 KiB of 0x01: resident memory grows by no more than the journal's byte budget
     (server.journal_max_bytes, 64 MiB) and some slack, 128 MiB in all
  Q  journal reads: with 1,000 bodies of 64 KiB of 0x01 kept, one GET /__admin/requests and
     a walk through every page answer at most twice what the journal says it keeps; four
     concurrent reads and six readers at 128 KiB/s add at most a page each (4 MiB) to
     resident memory, and the slow readers are cut at server.read_timeout_ms
  R  acuse documents of ~24,000 undocumented keys (370 KB, or 9 MB in the full form), four in
     flight, while one client asks saldos: the hostile documents get the semantic 400 at a
     bounded CPU each, and saldos stays fast
  S  `data` in encodings PHP's json_decode refuses (BOM, UTF-16, FF, overlongs, CESU-8
     surrogates, truncated sequences), multipart and urlencoded: PHP's data error every time
  T  /__admin/events with CUFEs the provider refuses (6 spellings) and 1.9 MB ones: 400 and
     413, resident memory unmoved
  U  HTTP/1.1 without its one Host, admin requests naming another authority (absolute
     target, Host with a path, a second Origin): 400 and 403
  V  bodies declared over the limit, never sent (with Expect: 100-continue too): 413 at
     once, never 100 Continue
The other rows (C, D, H, I, J, K, L) are tests of the integration suite.

options:
  --short          the CI form, under 2 minutes: 1,500 connections, 3,000 tokens, 30,000
                   requests on the unread pipe, 30,000 events, 200 long paths, 400 hostile
                   header sets (160 MB), 20 CUFEs of 1.9 MB, 6 s of hostile documents
                   (default: the full form: 10,000 connections, 3,000 tokens, 100,000
                   requests, 1,150,000 events, 1,000 long paths, 2,000 hostile header sets
                   (800 MB), 200 CUFEs of 1.9 MB, 20 s of 370 KB and 9 MB hostile documents)
  --events N       events of attack N (default 1150000, or 30000 with --short)
  --only ROWS      only these attacks, e.g. `B,N` (default: all of B,E,M,N,O,P,Q,R,S,T,U,V)
  --binary PATH    attack this build of einvoice-mock instead of building the release one
  -h, --help       print this help";

/// Options of `attack`.
#[derive(Debug, Clone)]
pub struct Options {
    /// The CI form.
    pub short: bool,
    /// Events recorded for attack N.
    pub events: u64,
    /// The attacks to run (rows).
    pub only: Vec<String>,
    /// The binary to attack instead of the release build.
    pub binary: Option<PathBuf>,
}

/// The rows `attack` knows.
const ROWS: [&str; 12] = ["B", "E", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V"];

impl Options {
    /// `--short`, `--events N` (see [`USAGE`]).
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut short = false;
        let mut events = None;
        let mut only: Vec<String> = ROWS.iter().map(|r| (*r).to_owned()).collect();
        let mut binary = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--short" => short = true,
                "--events" => {
                    let v = args.next().context("--events needs a value")?;
                    events = Some(
                        v.replace('_', "")
                            .parse::<u64>()
                            .ok()
                            .filter(|&n| n > 0)
                            .with_context(|| format!("--events {v}: a positive number"))?,
                    );
                }
                "--only" => {
                    let v = args.next().context("--only needs a value")?;
                    only = v
                        .split(',')
                        .map(|r| r.trim().to_ascii_uppercase())
                        .collect();
                    if let Some(unknown) = only.iter().find(|r| !ROWS.contains(&r.as_str())) {
                        bail!(
                            "--only {v}: unknown attack `{unknown}` (one of {})",
                            ROWS.join(",")
                        );
                    }
                }
                "--binary" => {
                    binary = Some(PathBuf::from(
                        args.next().context("--binary needs a value (a path)")?,
                    ));
                }
                other => bail!("unknown option `{other}`"),
            }
        }
        Ok(Options {
            short,
            events: events.unwrap_or(if short { 30_000 } else { 1_150_000 }),
            only,
            binary,
        })
    }
}

/// The deadline the attacked servers run with.
const READ_TIMEOUT_MS: u64 = 15_000;

/// One attack's outcome.
struct Outcome {
    row: &'static str,
    measured: String,
    failures: Vec<String>,
}

/// Runs every attack against `binary`.
pub fn run(binary: &Path, options: &Options) -> Result<()> {
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!("einvoice-mock-attack-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let config = scratch.join("attack.toml");
    std::fs::write(
        &config,
        format!("[server]\nread_timeout_ms = {READ_TIMEOUT_MS}\n"),
    )?;
    let attacks: [(&str, &dyn Fn() -> Result<Outcome>); 12] = [
        ("B", &|| connections(binary, &config, options)),
        ("E", &|| tokens(binary, options)),
        ("M", &|| unread_stderr(binary, options)),
        ("N", &|| restore(binary, &scratch, options)),
        ("O", &|| long_paths(binary, options)),
        ("P", &|| journal_bytes(binary, options)),
        ("Q", &|| journal_reads(binary, &scratch)),
        ("R", &|| hostile_documents(binary, options)),
        ("S", &|| wire::encodings(binary)),
        ("T", &|| wire::admin_cufes(binary, options.short)),
        ("U", &|| wire::authority(binary)),
        ("V", &|| wire::declared_oversize(binary)),
    ];
    let total = options.only.len();
    let mut failed = Vec::new();
    for (row, attack) in attacks {
        if !options.only.iter().any(|r| r == row) {
            continue;
        }
        let at = Instant::now();
        match attack() {
            Ok(outcome) => {
                let verdict = if outcome.failures.is_empty() {
                    "holds"
                } else {
                    "FAILS"
                };
                println!(
                    "attack {}: {verdict} ({:.1} s): {}",
                    outcome.row,
                    at.elapsed().as_secs_f64(),
                    outcome.measured
                );
                for failure in &outcome.failures {
                    println!("  {failure}");
                    failed.push(format!("{}: {failure}", outcome.row));
                }
            }
            Err(error) => {
                println!("attack {row}: could not run: {error:#}");
                failed.push(format!("{row}: {error:#}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "attack: {total} attacks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        bail!(
            "{} limit(s) do not hold:\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
    Ok(())
}

/// A server under `ulimit -n 1024` (the shell execs the binary: same pid).
fn start_limited(binary: &Path, args: &[&str]) -> Result<Server> {
    let program = binary.to_str().context("binary path is not UTF-8")?;
    let mut all = vec!["-c", r#"ulimit -n 1024 && exec "$0" "$@""#, program];
    all.extend_from_slice(args);
    Server::start(Path::new("bash"), &all)
}

/// `/__admin/health` as JSON.
fn health(address: &str) -> Result<serde_json::Value> {
    let answer = http::get(address, "/__admin/health")?;
    serde_json::from_slice(&answer.body).context("health is JSON")
}

/// A client that keeps its connection: HTTP/1.1 requests one after the other on one socket.
struct KeepAlive(TcpStream);

impl KeepAlive {
    fn connect(address: &str) -> Result<KeepAlive> {
        let stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(KeepAlive(stream))
    }

    /// `GET /__admin/health` on the kept connection: its status.
    fn health(&mut self) -> Result<u16> {
        self.0
            .write_all(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut raw = Vec::new();
        let mut byte = [0u8; 1];
        while !raw.ends_with(b"\r\n\r\n") {
            if self.0.read(&mut byte)? == 0 {
                bail!("closed before the answer's head");
            }
            raw.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .context("no content-length")?;
        let mut body = vec![0u8; length];
        self.0.read_exact(&mut body)?;
        head.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bad status line")
    }
}

/// How many of the flooding connections the fake has not closed, by the opening they sent
/// (in the order of [`OPENINGS`]).
fn still_open(flood: &[TcpStream], count: usize) -> [usize; OPENINGS.len()] {
    let mut open = [0; OPENINGS.len()];
    // `flood` is in thread order: connection i of thread t is t + 8·k; recompute each opening.
    let mut kinds = Vec::with_capacity(count);
    for t in 0..8 {
        kinds.extend((t..count).step_by(8).map(|i| i % OPENINGS.len()));
    }
    for (stream, kind) in flood.iter().zip(kinds) {
        let _ = stream.set_nonblocking(true);
        let mut buffer = [0u8; 4096];
        let mut reader = stream;
        let closed = loop {
            match reader.read(&mut buffer) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
                Err(_) => break true,
            }
        };
        if !closed {
            open[kind] += 1;
        }
    }
    open
}

/// The soft limit on this process's open files (`/proc/self/limits`).
fn own_descriptor_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))?
                .split_whitespace()
                .nth(3)?
                .parse()
                .ok()
        })
        .unwrap_or(1_024)
}

/// What each flooding connection sends, then nothing more.
const OPENINGS: [&[u8]; 5] = [
    b"",
    b"PRI * HTTP/2.0\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    b"POST /__admin/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{",
];

/// B: idle and half-open connections.
fn connections(binary: &Path, config: &Path, options: &Options) -> Result<Outcome> {
    let wanted: usize = if options.short { 1_500 } else { 10_000 };
    // This process holds the client ends: stay under its own descriptor limit.
    let count = wanted.min(own_descriptor_limit().saturating_sub(200).max(100));
    let config = config.to_str().context("config path")?;
    let server = start_limited(binary, &["serve", "--port", "0", "--config", config])?;
    let address = server.address.clone();
    let mut failures = Vec::new();
    let mut established = KeepAlive::connect(&address)?;
    if established.health()? != 200 {
        failures.push("the established client was not served before the flood".into());
    }
    // The established client goes on asking, once a second, on its one connection, all
    // through the flood (an idle one would rightly be closed by its own deadline).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let asking = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let (mut served, mut failed) = (0u32, None);
            while !stop.load(Ordering::Relaxed) {
                match established.health() {
                    Ok(200) => served += 1,
                    other => {
                        failed = Some(format!("{other:?}"));
                        break;
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            (served, failed)
        })
    };
    let baseline = server.descriptors();
    let flooding = Instant::now();
    // From 8 threads: the flood must be in well within the deadline.
    let flood: Vec<TcpStream> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let address = &address;
                scope.spawn(move || {
                    (t..count)
                        .step_by(8)
                        .filter_map(|i| {
                            let mut stream = TcpStream::connect(address).ok()?;
                            let _ = stream.write_all(OPENINGS[i % OPENINGS.len()]);
                            Some(stream)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_default())
            .collect()
    });
    let flood_took = flooding.elapsed();
    if flood.len() < count {
        failures.push(format!(
            "only {} of {count} connections could connect",
            flood.len()
        ));
    }
    std::thread::sleep(Duration::from_millis(1_200));
    let during = server.descriptors();
    // A new connection past the cap: closed unanswered at once.
    let refused = {
        let mut late = TcpStream::connect(&address)?;
        late.set_read_timeout(Some(Duration::from_secs(2)))?;
        let _ = late.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let mut answer = Vec::new();
        match late.read_to_end(&mut answer) {
            Ok(_) => answer.is_empty(),
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    };
    stop.store(true, Ordering::Relaxed);
    let (served, not_served) = asking
        .join()
        .unwrap_or((0, Some("the client thread panicked".into())));
    let open_during = during.saturating_sub(baseline);
    if count < wanted {
        println!(
            "attack B: {count} connections instead of {wanted}: this process may open no more \
             (ulimit -n)"
        );
    }
    if count > 1_000 && !refused {
        failures.push("a connection past max_connections was not refused".into());
    }
    if let Some(answer) = &not_served {
        failures.push(format!(
            "the established client was not served during the flood after {served} answers: \
             {answer}"
        ));
    }
    if open_during > 1_000 + 8 {
        failures.push(format!(
            "{open_during} descriptors for at most 1,000 connections (one each expected)"
        ));
    }
    // Past the deadline every flooding connection is closed, and new clients are served.
    std::thread::sleep(Duration::from_millis(READ_TIMEOUT_MS + 2_000));
    let after = health(&address);
    let (open_after, refused_count, timed_out) = match &after {
        Ok(h) => (
            h["connections"]["open"].as_u64().unwrap_or(u64::MAX),
            h["connections"]["refused"].as_u64().unwrap_or(0),
            h["connections"]["timed_out"].as_u64().unwrap_or(0),
        ),
        Err(_) => (u64::MAX, 0, 0),
    };
    if after.is_err() || open_after > 3 {
        failures.push(format!(
            "after the deadline: {open_after} connections still open ({after:?}); \
             still open by opening sent: {:?}",
            still_open(&flood, count)
        ));
    }
    drop(flood);
    Ok(Outcome {
        row: "B",
        measured: format!(
            "{count} connections under ulimit -n 1024 in {:.2} s: {open_during} descriptors \
             added during the flood (cap 1,000), {refused_count} refused, the established \
             client served {served} times {}, after {READ_TIMEOUT_MS} ms {timed_out} timed out \
             and {open_after} still open",
            flood_took.as_secs_f64(),
            if not_served.is_none() {
                "without a miss"
            } else {
                "then NOT"
            }
        ),
        failures,
    })
}

/// E: distinct 60 KB tokens with the rate limit on.
fn tokens(binary: &Path, _options: &Options) -> Result<Outcome> {
    let count = 3_000;
    let server = Server::start(binary, &["serve", "--port", "0", "--rate-limit", "120"])?;
    let address = server.address.clone();
    let (_, before) = server.memory_kib();
    let filler = "t".repeat(60 * 1024);
    let mut failures = Vec::new();
    for i in 0..count {
        let token = format!("Bearer {i:08}{filler}");
        let (content_type, body) = multipart_cufe();
        let answer = http::request(
            &address,
            "POST",
            "/api/radian/historico_eventos",
            &[
                ("Authorization", &token),
                ("Accept", "application/json"),
                ("Content-Type", &content_type),
            ],
            &body,
        )?;
        if answer.status != 200 {
            failures.push(format!("token {i}: status {}", answer.status));
            break;
        }
    }
    let (peak, after) = server.memory_kib();
    let grown = after.saturating_sub(before);
    // 3,000 tokens of 60 KB kept would be 180 MB; digests and masked credentials are KBs.
    if grown > 32 * 1024 {
        failures.push(format!("RSS grew by {grown} KiB"));
    }
    Ok(Outcome {
        row: "E",
        measured: format!(
            "{count} distinct 60 KB tokens: RSS {before} KiB before, {after} KiB after \
             (+{grown} KiB), peak {peak} KiB"
        ),
        failures,
    })
}

fn multipart_cufe() -> (String, Vec<u8>) {
    let boundary = "einvoicemockattack";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"cufe\"\r\n\r\n{}\r\n--{boundary}--\r\n",
        "ab".repeat(48)
    );
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

/// Sends `count` requests from 4 threads; `make(i)` gives the i-th request. Returns how many
/// were not answered with an expected status, and the first such answer.
fn load(
    address: &str,
    count: u64,
    make: impl Fn(u64) -> (String, Vec<(&'static str, String)>, Vec<u8>) + Sync,
    expected: &[u16],
) -> (u64, Option<String>) {
    let next = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    let first = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let (path, headers, body) = make(i);
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let outcome = http::request(address, "POST", &path, &headers, &body);
                let problem = match outcome {
                    Ok(answer) if expected.contains(&answer.status) => None,
                    Ok(answer) => Some(format!("{path}: status {}", answer.status)),
                    Err(error) => Some(format!("{path}: {error:#}")),
                };
                if let Some(problem) = problem {
                    failed.fetch_add(1, Ordering::Relaxed);
                    first
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(problem);
                }
            });
        }
    });
    (
        failed.into_inner(),
        first.into_inner().unwrap_or_else(|e| e.into_inner()),
    )
}

fn saldos(_: u64) -> (String, Vec<(&'static str, String)>, Vec<u8>) {
    (
        "/api/rest/Timbre/saldos".into(),
        vec![
            ("RCApiKey", "attack".into()),
            ("Content-Type", "application/json".into()),
        ],
        br#"{"MesConsulta":"2019-11"}"#.to_vec(),
    )
}

/// M: stderr on a pipe nobody reads.
fn unread_stderr(binary: &Path, options: &Options) -> Result<Outcome> {
    let count = if options.short { 30_000 } else { 100_000 };
    let mut server = Server::start_with_unread_stderr(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let started = Instant::now();
    let (failed, first) = load(&address, count, saldos, &[200]);
    let took = started.elapsed();
    let dropped = health(&address)
        .ok()
        .and_then(|h| h["log_lines_dropped"].as_u64());
    let exit = server.terminate(Duration::from_secs(10));
    let mut failures = Vec::new();
    if failed > 0 {
        failures.push(format!("{failed} requests not answered: {first:?}"));
    }
    if dropped.is_none_or(|d| d == 0) {
        failures.push(format!("no dropped line counted: {dropped:?}"));
    }
    if !exit.is_some_and(|s| s.success()) {
        failures.push(format!(
            "SIGTERM did not end it within 10 s with status 0: {exit:?}"
        ));
    }
    Ok(Outcome {
        row: "M",
        measured: format!(
            "{count} requests in {:.1} s with stderr unread: {failed} unanswered, {} log lines \
             dropped and counted, exit on SIGTERM {exit:?}",
            took.as_secs_f64(),
            dropped.map_or("?".into(), |d| d.to_string())
        ),
        failures,
    })
}

const EJEMPLO_1: &str =
    include_str!("../../fixtures/afacturar/acuse_recibo_fev.data/valid/seed_003_ejemplo_1.json");
const EJEMPLO_1_CUFE: &str = "f46111923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4";

fn acuse(i: u64) -> (String, Vec<(&'static str, String)>, Vec<u8>) {
    let data = EJEMPLO_1.replace(EJEMPLO_1_CUFE, &format!("{:096x}", i + 1));
    let boundary = "einvoicemockattack";
    let mut body = Vec::new();
    for (name, value) in [("data", data.as_str()), ("documento_obligado", "830020470")] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (
        "/api/radian/acuse_recibo_fev".into(),
        vec![
            ("Authorization", "Bearer attack".into()),
            ("Accept", "application/json".into()),
            (
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
        ],
        body,
    )
}

/// N: the same state built live, then restored from the data dir.
fn restore(binary: &Path, scratch: &Path, options: &Options) -> Result<Outcome> {
    let dir: PathBuf = scratch.join("data");
    let dir_text = dir.to_str().context("data dir path")?;
    let args = ["serve", "--port", "0", "--data-dir", dir_text];
    let mut live = Server::start(binary, &args)?;
    let started = Instant::now();
    let (failed, first) = load(&live.address, options.events, acuse, &[200]);
    let took = started.elapsed();
    let (live_peak, live_rss) = live.memory_kib();
    live.stop();
    let restarted = Instant::now();
    let restored = Server::start(binary, &args)?;
    let to_answer = restarted.elapsed();
    let (restored_peak, restored_rss) = restored.memory_kib();
    drop(restored);
    let mut failures = Vec::new();
    if failed > 0 {
        failures.push(format!("{failed} acuses not answered 200: {first:?}"));
    }
    // Within 20% of the live state (plus 4 MiB for small runs, where the binary dominates).
    let allowed = live_rss + live_rss / 5 + 4 * 1024;
    if restored_peak > allowed {
        failures.push(format!(
            "restoring peaked at {restored_peak} KiB, the live state took {live_rss} KiB"
        ));
    }
    Ok(Outcome {
        row: "N",
        measured: format!(
            "{} events recorded live in {:.1} s: RSS {live_rss} KiB (peak {live_peak} KiB); \
             restored in {:.1} s: RSS {restored_rss} KiB, peak {restored_peak} KiB ({:.0}% of live)",
            options.events,
            took.as_secs_f64(),
            to_answer.as_secs_f64(),
            100.0 * restored_peak as f64 / live_rss.max(1) as f64
        ),
        failures,
    })
}

/// O: unknown paths of 60 KiB.
fn long_paths(binary: &Path, options: &Options) -> Result<Outcome> {
    let count = if options.short { 200 } else { 1_000 };
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let path = Arc::new(format!("/api/rest/Timbre/saldo{}", "x".repeat(60 * 1024)));
    let before = server.cpu_ticks();
    let (failed, first) = load(
        &address,
        count,
        |_| {
            let (_, headers, body) = saldos(0);
            (path.to_string(), headers, body)
        },
        &[404],
    );
    let ticks = server.cpu_ticks().saturating_sub(before);
    let ms_per_request = ticks as f64 / clock_ticks_per_second() * 1000.0 / count as f64;
    let mut failures = Vec::new();
    if failed > 0 {
        failures.push(format!("{failed} requests not answered 404: {first:?}"));
    }
    if ms_per_request > 5.0 {
        failures.push(format!("{ms_per_request:.2} ms of CPU per request"));
    }
    let (_, rss) = server.memory_kib();
    Ok(Outcome {
        row: "O",
        measured: format!(
            "{count} unknown paths of 60 KiB: {ms_per_request:.2} ms of server CPU per request \
             (parsing, journal and near miss together), RSS {rss} KiB"
        ),
        failures,
    })
}

/// Sends one request whose header values are raw bytes (not text), and reads the whole answer:
/// its status, and how many bytes it took.
fn raw_request(address: &str, head: &[u8], body: &[u8]) -> Result<(u16, usize)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(head)?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let status = raw
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    Ok((status, raw.len()))
}

/// A saldos request with `headers` extra headers of `value` bytes of 0xFF each.
fn hostile_saldos(address: &str, headers: usize, value: usize) -> Vec<u8> {
    let body = br#"{"MesConsulta":"2019-11"}"#;
    let mut head = format!(
        "POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         RCApiKey: attack\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for i in 0..headers {
        head.extend_from_slice(format!("X-Hostile-{i}: ").as_bytes());
        head.extend(std::iter::repeat_n(0xffu8, value));
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head.extend_from_slice(body);
    head
}

/// A saldos request whose body is `size` bytes of 0x01 (not JSON: a 400, journaled).
fn control_body(address: &str, size: usize) -> Vec<u8> {
    let mut request = format!(
        "POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         RCApiKey: attack\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    )
    .into_bytes();
    request.extend(std::iter::repeat_n(0x01u8, size));
    request
}

/// Sends `count` copies of `request` from 4 threads; how many got no answer or another status
/// than `expected`.
fn flood(address: &str, count: u64, request: &[u8], expected: u16) -> u64 {
    let next = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    if !matches!(raw_request(address, request, &[]), Ok((s, _)) if s == expected) {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    failed.into_inner()
}

/// The byte budget the attacked servers keep (the default).
const JOURNAL_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// P: what a client sends, however hostile, grows the journal by its byte budget at most.
fn journal_bytes(binary: &Path, options: &Options) -> Result<Outcome> {
    let count = if options.short { 400 } else { 2_000 };
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let (_, before) = server.memory_kib();
    let request = hostile_saldos(&address, 90, 4_400);
    let sent = request.len() as u64 * count;
    let failed_headers = flood(&address, count, &request, 200);
    let (_, after_headers) = server.memory_kib();
    let bodies = if options.short { 400 } else { 1_000 };
    let failed_bodies = flood(&address, bodies, &control_body(&address, 64 * 1024), 400);
    let (peak, after) = server.memory_kib();
    let journal: serde_json::Value =
        serde_json::from_slice(&http::get(&address, "/__admin/requests?limit=1")?.body)?;
    let kept = journal["journal"]["bytes"].as_u64().unwrap_or(0)
        + journal["journal"]["violation_bytes"].as_u64().unwrap_or(0);
    let grown = peak.saturating_sub(before);
    let allowed = 2 * JOURNAL_MAX_BYTES / 1024;
    let mut failures = Vec::new();
    if failed_headers + failed_bodies > 0 {
        failures.push(format!(
            "{failed_headers} hostile header sets and {failed_bodies} bodies not answered as expected"
        ));
    }
    if grown > allowed {
        failures.push(format!(
            "RSS peaked {grown} KiB above the start (allowed {allowed} KiB)"
        ));
    }
    if kept > JOURNAL_MAX_BYTES {
        failures.push(format!(
            "the journal says it keeps {kept} bytes, over its budget"
        ));
    }
    Ok(Outcome {
        row: "P",
        measured: format!(
            "{count} requests with 90 headers of 4,400 bytes of 0xFF ({} MB), then {bodies} \
             bodies of 64 KiB of 0x01: RSS {before} KiB before, {after_headers} KiB after the \
             headers, {after} KiB after the bodies, peak +{grown} KiB (allowed {allowed} KiB); \
             the journal keeps {kept} bytes (budget {JOURNAL_MAX_BYTES})",
            sent / 1_000_000
        ),
        failures,
    })
}

/// Reads `path` at about `rate` bytes per second for `slowly`, then as fast as it comes until
/// the server closes the connection (10 s at most): the bytes read, whether the answer was
/// complete, and whether the server closed the connection.
fn slow_read(
    address: &str,
    path: &str,
    rate: usize,
    slowly: Duration,
) -> Result<(usize, bool, bool)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let started = Instant::now();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut read = 0;
    let mut tail = Vec::new();
    let mut closed = false;
    while started.elapsed() < slowly + Duration::from_secs(10) {
        let want = if started.elapsed() < slowly {
            rate / 10
        } else {
            buffer.len()
        };
        match stream.read(&mut buffer[..want]) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => {
                read += n;
                tail.extend_from_slice(&buffer[..n]);
                let keep = tail.len().saturating_sub(8);
                tail.drain(..keep);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => {
                closed = true;
                break;
            }
        }
        if started.elapsed() < slowly {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // A chunked answer ends with its last, empty chunk.
    Ok((read, tail.ends_with(b"0\r\n\r\n"), closed))
}

/// Q: reading the journal writes no more than it keeps, and readers hold a page each.
fn journal_reads(binary: &Path, scratch: &Path) -> Result<Outcome> {
    const DEADLINE_MS: u64 = 3_000;
    let config = scratch.join("journal-reads.toml");
    std::fs::write(
        &config,
        format!("[server]\nread_timeout_ms = {DEADLINE_MS}\n"),
    )?;
    let config_text = config.to_str().context("config path")?;
    let server = Server::start(binary, &["serve", "--port", "0", "--config", config_text])?;
    let address = server.address.clone();
    let failed = flood(&address, 1_000, &control_body(&address, 64 * 1024), 400);
    let mut failures = Vec::new();
    if failed > 0 {
        failures.push(format!("{failed} bodies not answered 400"));
    }
    let (_, filled) = server.memory_kib();
    // One read of the largest page.
    let ticks = server.cpu_ticks();
    let answer = http::get(&address, "/__admin/requests?limit=1000")?;
    let read_ms =
        server.cpu_ticks().saturating_sub(ticks) as f64 / clock_ticks_per_second() * 1000.0;
    let page: serde_json::Value = serde_json::from_slice(&answer.body)?;
    let kept = page["journal"]["bytes"].as_u64().unwrap_or(0) as usize;
    let one = answer.body.len();
    if answer.status != 200 || one > 2 * kept.max(1) {
        failures.push(format!(
            "one read answered {} with {one} bytes for {kept} kept",
            answer.status
        ));
    }
    // Every page, newest to oldest.
    let mut walked = one;
    let mut pages = 1;
    let mut before = page["next"]["before"].as_u64();
    while let Some(id) = before {
        let answer = http::get(
            &address,
            &format!("/__admin/requests?limit=1000&before={id}"),
        )?;
        let page: serde_json::Value = serde_json::from_slice(&answer.body)?;
        walked += answer.body.len();
        pages += 1;
        before = page["next"]["before"].as_u64();
        if pages > 1_000 {
            failures.push("the pages do not end".into());
            break;
        }
    }
    if walked > 2 * kept.max(1) {
        failures.push(format!(
            "walking every page answered {walked} bytes for {kept} kept"
        ));
    }
    // Four at once.
    let page_kib = 4 * 1024;
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| http::get(&address, "/__admin/requests?limit=1000"));
        }
    });
    let (_, after_four) = server.memory_kib();
    if after_four.saturating_sub(filled) > 4 * page_kib + 16 * 1024 {
        failures.push(format!(
            "four reads left RSS at {after_four} KiB (from {filled} KiB)"
        ));
    }
    // Six slow readers at 128 KiB/s.
    let mut during = 0;
    let results: Vec<Result<(usize, bool, bool)>> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    slow_read(
                        &address,
                        "/__admin/requests?limit=1000",
                        128 * 1024,
                        Duration::from_millis(DEADLINE_MS + 1_000),
                    )
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(DEADLINE_MS / 2));
        during = server.memory_kib().1;
        readers
            .into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("reader panicked")))
            })
            .collect()
    });
    // Cut at the deadline, or written whole into the socket before it: either way no reader
    // holds the server afterwards.
    let cut = results
        .iter()
        .filter(|r| matches!(r, Ok((_, false, true))))
        .count();
    let whole = results
        .iter()
        .filter(|r| matches!(r, Ok((_, true, true))))
        .count();
    let slow_bytes: usize = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.0)
        .sum();
    if during.saturating_sub(filled) > 6 * page_kib + 16 * 1024 {
        failures.push(format!(
            "six slow readers held RSS at {during} KiB (from {filled} KiB)"
        ));
    }
    if cut + whole < 6 {
        failures.push(format!(
            "{} of 6 slow readers were still served 10 s past the deadline: {results:?}",
            6 - cut - whole
        ));
    }
    Ok(Outcome {
        row: "Q",
        measured: format!(
            "1,000 bodies of 64 KiB of 0x01 kept as {kept} bytes of JSON (RSS {filled} KiB): \
             one read {one} bytes ({read_ms:.0} ms of CPU), every page ({pages}) {walked} bytes; \
             four at once: RSS {after_four} KiB; six readers at 128 KiB/s: RSS {during} KiB, \
             {cut} cut at the {DEADLINE_MS} ms deadline, {whole} written whole before it, \
             {slow_bytes} bytes read in all"
        ),
        failures,
    })
}

/// An acuse whose `data` holds `keys` undocumented properties named `name_bytes` long: every
/// one a violation, the whole within the body limit and `MAX_DOCUMENT_VALUES`.
fn hostile_acuse(keys: usize, name_bytes: usize) -> (String, Vec<(&'static str, String)>, Vec<u8>) {
    let mut data = String::from(
        r#"{"generalidades":{"tipo_ambiente_dian":2,"identificador_transmision":"attack","integrador":{"nombre":"WEB","tipo":"WEB"}}"#,
    );
    let pad = "x".repeat(name_bytes.saturating_sub(8));
    for index in 0..keys {
        data.push_str(&format!(",\"{pad}{index:08}\":0"));
    }
    data.push('}');
    let body = format!(
        "--R\r\nContent-Disposition: form-data; name=\"documento_obligado\"\r\n\r\n830020470\r\n\
         --R\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n--R--\r\n"
    );
    (
        "/api/radian/acuse_recibo_fev".into(),
        vec![
            ("Authorization", "Bearer attack".into()),
            ("Accept", "application/json".into()),
            ("Content-Type", "multipart/form-data; boundary=R".into()),
        ],
        body.into_bytes(),
    )
}

/// R: four hostile documents in flight at all times while one client asks saldos.
fn hostile_documents(binary: &Path, options: &Options) -> Result<Outcome> {
    let (seconds, shapes): (u64, &[(usize, usize)]) = if options.short {
        (6, &[(24_000, 8)])
    } else {
        (20, &[(24_000, 8), (24_000, 370)])
    };
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let mut measured = Vec::new();
    let mut failures = Vec::new();
    for &(keys, name_bytes) in shapes {
        let (path, headers, body) = hostile_acuse(keys, name_bytes);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let sent = AtomicU64::new(0);
        let wrong = std::sync::Mutex::new(None::<String>);
        let before = server.cpu_ticks();
        let mut latencies = Vec::new();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    // Bounded in time and count.
                    while Instant::now() < deadline && sent.load(Ordering::Relaxed) < 10_000 {
                        let answer = http::request(&address, "POST", &path, &headers, &body);
                        sent.fetch_add(1, Ordering::Relaxed);
                        let problem = match answer {
                            Ok(a) if a.status == 400 && a.text().contains("work budget") => None,
                            Ok(a) => Some(format!("status {}: {:.200}", a.status, a.text())),
                            Err(error) => Some(format!("{error:#}")),
                        };
                        if let Some(problem) = problem {
                            wrong
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(problem);
                        }
                    }
                });
            }
            // Let the hostile documents arrive first.
            std::thread::sleep(Duration::from_millis(300));
            while Instant::now() < deadline && latencies.len() < 100_000 {
                let (path, headers, body) = saldos(0);
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let at = Instant::now();
                match http::request(&address, "POST", &path, &headers, &body) {
                    Ok(answer) if answer.status == 200 => latencies.push(at.elapsed()),
                    Ok(answer) => failures.push(format!("saldos answered {}", answer.status)),
                    Err(error) => failures.push(format!("saldos: {error:#}")),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let documents = sent.into_inner().max(1);
        let ticks = server.cpu_ticks().saturating_sub(before);
        let cpu_ms = ticks as f64 / clock_ticks_per_second() * 1000.0 / documents as f64;
        latencies.sort();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let (p50, p99, max) = (at(0.5), at(0.99), at(1.0));
        let size_kb = body.len() / 1000;
        if let Some(problem) = wrong.into_inner().unwrap_or_else(|e| e.into_inner()) {
            failures.push(format!("a {size_kb} KB hostile document: {problem}"));
        }
        // Server CPU per document includes reading the body and PHP's decoding of `data`.
        let cpu_limit = if name_bytes > 100 { 2_000.0 } else { 1_000.0 };
        if cpu_ms > cpu_limit {
            failures.push(format!(
                "{cpu_ms:.0} ms of server CPU per {size_kb} KB document"
            ));
        }
        if p99 > 50.0 {
            failures.push(format!(
                "saldos p99 {p99:.1} ms (over 50 ms) under {size_kb} KB documents"
            ));
        }
        measured.push(format!(
            "{documents} documents of {size_kb} KB: {cpu_ms:.1} ms of server CPU each; \
             saldos p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms over {} requests",
            latencies.len()
        ));
    }
    Ok(Outcome {
        row: "R",
        measured: measured.join("; "),
        failures,
    })
}
