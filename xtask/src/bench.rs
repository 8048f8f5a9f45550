//! `cargo xtask bench`: einvoice-mock against a bare-axum baseline (`bench-baseline/`), both
//! driven by the same `wrk` scripts on loopback, plus start-up time, peak RSS and the growth
//! of the state with recorded events (`bench-events`). Prints a Markdown report with the
//! targets of issue 5 judged.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::server::{field_kib, Server};
use crate::wrk::{self, Route, Run};
use crate::{cargo, workspace_root};

/// Targets of issue 5.
const TARGET_THROUGHPUT_RATIO: f64 = 0.75;
const TARGET_START_MS: f64 = 20.0;
const TARGET_RSS_MIB: f64 = 20.0;
const TARGET_1M_EVENTS_MIB: f64 = 300.0;
/// "Flat": the largest state's median historico latency within this factor of the empty one's.
const FLAT_FACTOR: f64 = 1.5;

/// `cargo xtask bench --help`: every option of [`Options::parse`], with its default.
pub const USAGE: &str = "usage: cargo xtask bench [options]

einvoice-mock against a bare-axum baseline (bench-baseline/), both built in release mode and
driven by the same wrk scripts on 127.0.0.1 (installs Debian's wrk when run as root, otherwise
prints the command): start-up time, requests/s, p50/p99, peak RSS and CPU per request, the
baseline with added work per request (calibration), and the state growth of `bench-events`.
Prints a Markdown report, also saved to <target dir>/xtask-bench/report.md.

options:
  --duration SECS       length of each wrk run, 1 to 600, `10` or `10s` (default 10s)
  --threads N           wrk threads (default 2)
  --connections N       wrk connections (default 32)
  --rounds N            alternate baseline/fake N times per route, report the medians;
                        clamped to 1..20 (default 1)
  --routes LIST         saldos,acuse_recibo_fev,historico_eventos,lector_cufe_tenedor_legitimo
                        (`acuse`, `lector` for short)
                        (default: all four)
  --startup-runs N      spawns of each server to time start-up, clamped to 1..100 (default 10)
  --events LIST         checkpoints of the state-growth run (default 1000,100000,1000000);
                        `--sizes LIST` is the same option
  --no-events           skip the state-growth run (default: run it)
  --calibrate LIST      also run the baseline on saldos with this much spinning added per
                        request, in ns (default 1000,2000,4000): how far extra work per
                        request moves the baseline's own throughput on this machine
  --no-calibration      skip that (default: run it)
  --log-level LEVEL     RUST_LOG for the fake (default: unset, i.e. its default `info`)
  --skip-build          use the release binaries already built (default: build them)
  --keep-scripts        keep the wrk Lua scripts and outputs (their directory is printed;
                        default: delete them)
  --out FILE            also write the Markdown report to FILE (default: none)
  -h, --help            print this help";

/// `cargo xtask bench-events --help`.
pub const EVENTS_USAGE: &str = "usage: cargo xtask bench-events [options]

Only the state growth of `bench`: builds bench-baseline/ (which holds the bench-events binary)
in release mode, then one process records acuse events on distinct CUFEs and, at each
checkpoint, reports its RSS and the latency of 2,000 historico_eventos requests (no network).
Prints a Markdown report, also saved to <target dir>/xtask-bench/report.md.

options:
  --events LIST         the checkpoints (default 1000,100000,1000000); `--sizes LIST` is the
                        same option
  --skip-build          use the release binary already built (default: build it)
  --out FILE            also write the Markdown report to FILE (default: none)
  -h, --help            print this help

The other options of `bench` are accepted too; besides --no-events (which leaves nothing to
measure) they change nothing here.";

/// A comma-separated list of numbers (`1000,100_000`), sorted.
fn sorted_numbers(list: &str) -> Result<Vec<u64>> {
    let mut numbers = list
        .split(',')
        .map(|s| s.trim().replace('_', "").parse::<u64>())
        .collect::<Result<Vec<_>, _>>()?;
    numbers.sort_unstable();
    Ok(numbers)
}

/// The server's CPU time per request answered in a run, in µs, from its clock ticks.
fn cpu_us_per_request(ticks: u64, ticks_per_second: f64, run: &wrk::Run) -> f64 {
    ticks as f64 / ticks_per_second * 1e6 / run.requests.max(1) as f64
}

/// Options of `bench` and `bench-events`.
#[derive(Debug, Clone)]
pub struct Options {
    pub duration_s: u64,
    pub threads: u32,
    pub connections: u32,
    pub rounds: u32,
    pub routes: Vec<Route>,
    pub startup_runs: u32,
    pub events: Option<Vec<u64>>,
    pub skip_build: bool,
    pub out: Option<PathBuf>,
    pub only_events: bool,
    pub keep_scripts: bool,
    pub log_level: Option<String>,
    /// Extra work per request, in ns, to run the baseline with (`--calibrate`).
    pub calibration: Vec<u64>,
}

impl Options {
    /// The options of [`USAGE`]; an unknown option is an error.
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            duration_s: 10,
            threads: 2,
            connections: 32,
            rounds: 1,
            routes: Route::ALL.to_vec(),
            startup_runs: 10,
            events: Some(vec![1_000, 100_000, 1_000_000]),
            skip_build: false,
            out: None,
            only_events: false,
            keep_scripts: false,
            log_level: None,
            calibration: vec![1_000, 2_000, 4_000],
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .map(String::as_str)
                    .with_context(|| format!("{arg} needs a value"))
            };
            let number = || format!("{arg}: a number");
            match arg.as_str() {
                "--duration" => {
                    let v = value()?;
                    options.duration_s = v
                        .trim_end_matches('s')
                        .parse()
                        .with_context(|| format!("--duration {v}: seconds, e.g. 10s"))?;
                    if options.duration_s == 0 || options.duration_s > 600 {
                        bail!("--duration must be between 1s and 600s");
                    }
                }
                "--threads" => options.threads = value()?.parse().with_context(number)?,
                "--connections" => options.connections = value()?.parse().with_context(number)?,
                "--rounds" => {
                    options.rounds = value()?.parse::<u32>().with_context(number)?.clamp(1, 20)
                }
                "--routes" => {
                    options.routes = value()?
                        .split(',')
                        .map(|r| Route::parse(r.trim()))
                        .collect::<Result<_>>()?
                }
                "--startup-runs" => {
                    options.startup_runs =
                        value()?.parse::<u32>().with_context(number)?.clamp(1, 100)
                }
                "--events" | "--sizes" => {
                    options.events = Some(
                        sorted_numbers(value()?)
                            .context("--events: numbers of events, e.g. 1000,100000")?,
                    );
                }
                "--no-events" => options.events = None,
                "--calibrate" => {
                    options.calibration = sorted_numbers(value()?)
                        .context("--calibrate: nanoseconds, e.g. 1000,2000,4000")?;
                }
                "--no-calibration" => options.calibration.clear(),
                "--skip-build" => options.skip_build = true,
                "--keep-scripts" => options.keep_scripts = true,
                "--log-level" => options.log_level = Some(value()?.to_owned()),
                "--out" => options.out = Some(PathBuf::from(value()?)),
                other => bail!("unknown option `{other}`"),
            }
        }
        Ok(options)
    }
}

/// One server's figures on one route (medians over the rounds; peak RSS: the highest).
#[derive(Debug, Clone, Default)]
struct Measured {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    peak_rss_kib: u64,
    cpu_us_per_request: f64,
    requests: u64,
    http_errors: u64,
    socket_errors: u64,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One run: wrk's figures, the server's peak RSS (KiB) and its CPU µs per request.
type Sample = (Run, u64, f64);

fn summarize(runs: &[Sample]) -> Measured {
    let mut rps: Vec<f64> = runs.iter().map(|(r, _, _)| r.rps()).collect();
    let mut p50: Vec<f64> = runs.iter().map(|(r, _, _)| r.p50_us).collect();
    let mut p99: Vec<f64> = runs.iter().map(|(r, _, _)| r.p99_us).collect();
    let mut cpu: Vec<f64> = runs.iter().map(|(_, _, c)| *c).collect();
    Measured {
        rps: median(&mut rps),
        p50_us: median(&mut p50),
        p99_us: median(&mut p99),
        peak_rss_kib: runs.iter().map(|(_, hwm, _)| *hwm).max().unwrap_or(0),
        cpu_us_per_request: median(&mut cpu),
        requests: runs.iter().map(|(r, _, _)| r.requests).sum(),
        http_errors: runs.iter().map(|(r, _, _)| r.http_errors).sum(),
        socket_errors: runs.iter().map(|(r, _, _)| r.socket_errors).sum(),
    }
}

pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root.join(p) } else { p })
        .unwrap_or_else(|| root.join("target"))
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine(root: &Path) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = field_kib(&meminfo, "MemTotal") as f64 / 1024.0 / 1024.0;
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(root)
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    format!(
        "- machine: {nproc} CPUs (`nproc`), {cpu}, {mem_gib:.1} GiB memory, Linux {}\n\
         - load average at start: {} (the machine is shared with other builds)\n\
         - toolchain: {}; load generator: {}\n\
         - code: commit {commit}{}\n",
        kernel.trim(),
        loadavg(),
        first_line("rustc", &["-V"]),
        first_line("wrk", &["-v"]),
        if dirty {
            " plus uncommitted changes in the work tree"
        } else {
            ""
        },
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fmt_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A verdict cell.
fn verdict(holds: bool) -> &'static str {
    if holds {
        "**holds**"
    } else {
        "**misses**"
    }
}

pub fn run(options: Options) -> Result<()> {
    let root = workspace_root();
    if !options.skip_build {
        if !options.only_events {
            cargo(&["build", "--release"])?;
        }
        cargo(&["build", "--release", "-p", "bench-baseline"])?;
    }
    let release = target_dir(&root).join("release");
    let fake = release.join("einvoice-mock");
    let baseline = release.join("bench-baseline");
    let events_bin = release.join("bench-events");

    let mut report = String::new();
    let command = std::iter::once("cargo xtask".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(report, "## Run\n\n- command: `{command}`");
    report.push_str(&machine(&root));
    report.push('\n');
    eprintln!("{report}");

    let mut verdicts: Vec<(String, bool, String)> = Vec::new();
    if !options.only_events {
        wrk::ensure_installed()?;
        startup(&options, &fake, &baseline, &mut report, &mut verdicts)?;
        load(
            &options,
            &root,
            &fake,
            &baseline,
            &mut report,
            &mut verdicts,
        )?;
    }
    if !options.only_events && !options.calibration.is_empty() {
        calibrate(&options, &root, &baseline, &mut report)?;
    }
    if let Some(sizes) = &options.events {
        events(&events_bin, sizes, &mut report, &mut verdicts)?;
    }

    let _ = writeln!(report, "## Targets of issue 5\n");
    let _ = writeln!(
        report,
        "| target | measured | verdict |\n| --- | --- | --- |"
    );
    for (target, holds, measured) in &verdicts {
        let _ = writeln!(report, "| {target} | {measured} | {} |", verdict(*holds));
    }
    let _ = writeln!(report, "\nload average at the end: {}", loadavg());

    println!("{report}");
    let saved = target_dir(&root).join("xtask-bench").join("report.md");
    if let Some(parent) = saved.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&saved, &report)?;
    eprintln!("xtask: report saved to {}", saved.display());
    if let Some(out) = &options.out {
        std::fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// `RUST_LOG` for the fake when `--log-level` is given (otherwise its default, `info`).
fn fake_env(options: &Options) -> Vec<(&str, &str)> {
    options
        .log_level
        .as_deref()
        .map(|level| vec![("RUST_LOG", level)])
        .unwrap_or_default()
}

fn fake_args() -> Vec<&'static str> {
    vec!["serve", "--port", "0"]
}

/// `historico_eventos` runs on the embedded default plus a conforming copy of the seed history
/// (see [`wrk::history_config`]); the other routes on the embedded default.
fn route_fake_args(route: Route, history_config: &str) -> Vec<&str> {
    match route {
        Route::HistoricoEventos => vec!["serve", "--port", "0", "--config", history_config],
        _ => fake_args(),
    }
}

fn baseline_args() -> Vec<&'static str> {
    vec!["--port", "0"]
}

/// Spawns each server `startup_runs` times, alternating, and times spawn → first answer.
fn startup(
    options: &Options,
    fake: &Path,
    baseline: &Path,
    report: &mut String,
    verdicts: &mut Vec<(String, bool, String)>,
) -> Result<()> {
    eprintln!(
        "xtask: start-up, {} spawns of each server",
        options.startup_runs
    );
    let mut times: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    for _ in 0..options.startup_runs {
        for (slot, (binary, args, env)) in [
            (fake, fake_args(), fake_env(options)),
            (baseline, baseline_args(), Vec::new()),
        ]
        .into_iter()
        .enumerate()
        {
            let mut server = Server::start_with_env(binary, &args, &env)?;
            times[slot].0.push(ms(server.to_listening));
            times[slot].1.push(ms(server.to_first_answer));
            server.stop();
        }
    }
    let _ = writeln!(
        report,
        "## Start-up\n\n{} spawns of each server, alternating; time from `spawn()` to the \
         `listening on` line, and to the first answered `GET /__admin/health` (polled in a \
         tight loop from the moment the address is known).\n",
        options.startup_runs
    );
    let _ = writeln!(
        report,
        "| server | to `listening on` (median) | to first answer: median | min | max |\n| --- | --- | --- | --- | --- |"
    );
    let mut fake_median = 0.0;
    for (slot, name) in ["einvoice-mock", "bare axum"].into_iter().enumerate() {
        let (listening, answered) = &mut times[slot];
        let listening = median(listening);
        let first = median(answered);
        let min = answered.iter().copied().fold(f64::INFINITY, f64::min);
        let max = answered.iter().copied().fold(0.0, f64::max);
        if slot == 0 {
            fake_median = first;
        }
        let _ = writeln!(
            report,
            "| {name} | {listening:.1} ms | {first:.1} ms | {min:.1} ms | {max:.1} ms |"
        );
    }
    report.push('\n');
    verdicts.push((
        format!("start to first answered request ≤ {TARGET_START_MS} ms"),
        fake_median <= TARGET_START_MS,
        format!("{fake_median:.1} ms (median)"),
    ));
    Ok(())
}

/// What the fake's journal and a spot check say about one run.
fn check_fake(server: &Server, route: Route, nonce: &str, run: &Run) -> Result<String> {
    let answer = crate::http::get(&server.address, "/__admin/requests?limit=1000")?;
    let journal: Value = serde_json::from_slice(&answer.body).context("the journal is JSON")?;
    let summary = &journal["summary"];
    let entries = journal["requests"].as_array().cloned().unwrap_or_default();
    let ok = entries
        .iter()
        .filter(|e| {
            e["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .count();
    let mut text = format!(
        "journal: {} requests ({} answered by wrk), {} conforming, {} violating; of the last {} kept, {} answered 2xx",
        summary["requests"],
        run.requests,
        summary["conforming"],
        summary["violating"],
        entries.len(),
        ok
    );
    if let Some(first) = entries.iter().find(|e| e["verdict"] != "conforms") {
        let findings: Vec<String> = first["violations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let text = |key: &str| f[key].as_str().unwrap_or_default().to_owned();
                format!(
                    "{} [{}]: {}",
                    text("location"),
                    text("rule"),
                    text("message")
                )
            })
            .collect();
        let _ = write!(text, "; first violating request: {}", findings.join("; "));
    }
    if route == Route::AcuseReciboFev {
        // The first CUFE thread 1 sent must now have exactly one event: the acuse was
        // recorded. (wrk calls `request()` once to check the script before the run: counter 1
        // of thread 1 is never sent.)
        let cufe = wrk::acuse_cufe(nonce, 1, 2);
        let body = wrk::historico_body(&cufe);
        let content_type = wrk::multipart_type();
        let answer = crate::http::request(
            &server.address,
            "POST",
            Route::HistoricoEventos.path(),
            &[
                ("Authorization", "Bearer t"),
                ("Accept", "application/json"),
                ("Content-Type", &content_type),
            ],
            body.as_bytes(),
        )?;
        let history: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let events = history["resultado"].as_array().map_or(0, Vec::len);
        let _ = write!(
            text,
            "; spot check: the run's first CUFE has {events} event(s) in historico_eventos (codigo_error {})",
            history["codigo_error"]
        );
    }
    Ok(text)
}

fn nonce(salt: u64) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:0>80}",
        format!("{nanos:x}{:08x}{salt:08x}", std::process::id())
    )
}

fn load(
    options: &Options,
    root: &Path,
    fake: &Path,
    baseline: &Path,
    report: &mut String,
    verdicts: &mut Vec<(String, bool, String)>,
) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("einvoice-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let history_config = dir.join("history.toml");
    std::fs::write(&history_config, wrk::history_config(root)?)?;
    let history_config = history_config.display().to_string();
    let _ = writeln!(
        report,
        "## Throughput and latency\n\n`wrk -t{} -c{} -d{}s --latency` on 127.0.0.1, the same Lua script for both \
         servers; each server is started fresh for each route (embedded default configuration, \
         `serve --port 0`; for `historico_eventos` plus a copy of the seed history under a \
         well-formed 96-digit CUFE, so that the requests conform; log level `{}` to stderr, \
         discarded), measured, and stopped. Peak RSS is \
         `VmHWM` of the server process at the end of the run; CPU per request is the server \
         process's user + system time during the run divided by the requests wrk completed. \
         {} round(s), alternating baseline and fake; medians over rounds.\n",
        options.threads,
        options.connections,
        options.duration_s,
        options.log_level.as_deref().unwrap_or("info"),
        options.rounds
    );
    let ticks_per_second = crate::server::clock_ticks_per_second();
    let _ = writeln!(
        report,
        "| route | server | requests/s | p50 | p99 | peak RSS | server CPU per request | status ≥ 400 | socket errors |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let mut ratios = String::from(
        "\n| route | throughput fake/baseline | p50 fake/baseline | p99 fake/baseline | peak RSS fake/baseline | CPU per request fake/baseline |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let mut checks = String::from(
        "\nWhat the fake answered (from `GET /__admin/requests`, read after the run):\n\n",
    );
    let mut salt = 0u64;
    for route in &options.routes {
        let mut fake_runs = Vec::new();
        let mut base_runs = Vec::new();
        for round in 0..options.rounds {
            for (is_fake, binary, args, env) in [
                (false, baseline, baseline_args(), Vec::new()),
                (
                    true,
                    fake,
                    route_fake_args(*route, &history_config),
                    fake_env(options),
                ),
            ] {
                salt += 1;
                let nonce = nonce(salt);
                let script = wrk::write_script(&dir, *route, root, &nonce)?;
                let server = Server::start_with_env(binary, &args, &env)?;
                let name = if is_fake { "fake" } else { "baseline" };
                eprintln!(
                    "xtask: {} round {} on {name} (pid {}, {})",
                    route.name(),
                    round + 1,
                    server.pid(),
                    server.address
                );
                let log = dir.join(format!("{}-{name}-{round}.txt", route.name()));
                let ticks_before = server.cpu_ticks();
                let run = wrk::run(
                    &script,
                    &server.address,
                    *route,
                    options.threads,
                    options.connections,
                    options.duration_s,
                    &log,
                )?;
                // Before any admin call: reading the journal allocates.
                let (hwm, _rss) = server.memory_kib();
                let cpu_us = cpu_us_per_request(
                    server.cpu_ticks().saturating_sub(ticks_before),
                    ticks_per_second,
                    &run,
                );
                eprintln!(
                    "xtask:   {:.0} req/s, p50 {}, p99 {}, peak RSS {:.1} MiB, CPU {cpu_us:.0} µs/request, status>=400 {}, socket errors {}",
                    run.rps(),
                    fmt_us(run.p50_us),
                    fmt_us(run.p99_us),
                    mib(hwm),
                    run.http_errors,
                    run.socket_errors
                );
                if is_fake {
                    let text = check_fake(&server, *route, &nonce, &run)?;
                    eprintln!("xtask:   {text}");
                    let _ = writeln!(checks, "- {} (round {}): {text}", route.name(), round + 1);
                    fake_runs.push((run, hwm, cpu_us));
                } else {
                    base_runs.push((run, hwm, cpu_us));
                }
                drop(server);
            }
        }
        let f = summarize(&fake_runs);
        let b = summarize(&base_runs);
        for (name, m) in [("bare axum", &b), ("einvoice-mock", &f)] {
            let _ = writeln!(
                report,
                "| {} ({}) | {name} | {:.0} | {} | {} | {:.1} MiB | {:.1} µs | {} | {} |",
                route.name(),
                route.kind(),
                m.rps,
                fmt_us(m.p50_us),
                fmt_us(m.p99_us),
                mib(m.peak_rss_kib),
                m.cpu_us_per_request,
                m.http_errors,
                m.socket_errors
            );
        }
        let ratio = f.rps / b.rps.max(1e-9);
        let _ = writeln!(
            ratios,
            "| {} | {:.2} ({:.0}%) | {:.2} | {:.2} | {:.2} | {:.2} |",
            route.name(),
            ratio,
            ratio * 100.0,
            f.p50_us / b.p50_us.max(1e-9),
            f.p99_us / b.p99_us.max(1e-9),
            f.peak_rss_kib as f64 / (b.peak_rss_kib as f64).max(1e-9),
            f.cpu_us_per_request / b.cpu_us_per_request.max(1e-9)
        );
        verdicts.push((
            format!(
                "{}: throughput ≥ {:.0}% of the baseline",
                route.name(),
                TARGET_THROUGHPUT_RATIO * 100.0
            ),
            ratio >= TARGET_THROUGHPUT_RATIO,
            format!("{:.0}% ({:.0} vs {:.0} req/s)", ratio * 100.0, f.rps, b.rps),
        ));
        verdicts.push((
            format!(
                "{}: peak RSS under load ≤ {TARGET_RSS_MIB} MB (read as MiB)",
                route.name()
            ),
            mib(f.peak_rss_kib) <= TARGET_RSS_MIB,
            format!(
                "{:.1} MiB (highest of {} run(s), {:.0} requests each on average)",
                mib(f.peak_rss_kib),
                options.rounds,
                f.requests as f64 / f64::from(options.rounds)
            ),
        ));
    }
    report.push_str(&ratios);
    report.push_str(&checks);
    report.push('\n');
    if options.keep_scripts {
        eprintln!("xtask: wrk scripts and outputs kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The baseline on saldos with `--work-ns` 0 and each of `options.calibration`: how much the
/// throughput of a bare server falls for a given amount of extra CPU work per request, on this
/// machine, with the load generator on the same cores. It tells what a ratio to the baseline
/// means in microseconds.
fn calibrate(options: &Options, root: &Path, baseline: &Path, report: &mut String) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("einvoice-calibrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let route = Route::Saldos;
    let script = wrk::write_script(&dir, route, root, &nonce(u64::MAX))?;
    let ticks_per_second = crate::server::clock_ticks_per_second();
    let _ = writeln!(
        report,
        "## Calibration: the baseline with extra work\n\n`bench-baseline --work-ns N` spins N ns \
         of CPU in each saldos request before answering; the same wrk run as above, {} s each, \
         every N once per round, {} round(s); medians over rounds. A throughput ratio of the \
         fake above corresponds to the added work at which the baseline falls to the same \
         ratio.\n\n\
         | added work per request | requests/s | of the baseline without added work | server CPU per request |\n\
         | --- | --- | --- | --- |",
        options.duration_s, options.rounds
    );
    let works: Vec<u64> = std::iter::once(0)
        .chain(options.calibration.iter().copied())
        .collect();
    // Per N: requests/s and CPU per request of each round.
    let mut measured: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); works.len()];
    for round in 0..options.rounds {
        for (work_ns, (rps, cpu)) in works.iter().zip(measured.iter_mut()) {
            let work = work_ns.to_string();
            let server =
                Server::start_with_env(baseline, &["--port", "0", "--work-ns", &work], &[])?;
            eprintln!(
                "xtask: calibration round {}, baseline with {work_ns} ns of added work per request",
                round + 1
            );
            let log = dir.join(format!("calibration-{work_ns}-{round}.txt"));
            let ticks_before = server.cpu_ticks();
            let run = wrk::run(
                &script,
                &server.address,
                route,
                options.threads,
                options.connections,
                options.duration_s,
                &log,
            )?;
            cpu.push(cpu_us_per_request(
                server.cpu_ticks().saturating_sub(ticks_before),
                ticks_per_second,
                &run,
            ));
            rps.push(run.rps());
            drop(server);
        }
    }
    let plain = median(&mut measured[0].0.clone());
    for (work_ns, (mut rps, mut cpu)) in works.iter().zip(measured) {
        let rps = median(&mut rps);
        let _ = writeln!(
            report,
            "| {:.1} µs | {rps:.0} | {:.0}% | {:.1} µs |",
            *work_ns as f64 / 1000.0,
            rps / plain.max(1e-9) * 100.0,
            median(&mut cpu)
        );
    }
    report.push('\n');
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Runs `bench-events` and tabulates its checkpoints.
fn events(
    binary: &Path,
    sizes: &[u64],
    report: &mut String,
    verdicts: &mut Vec<(String, bool, String)>,
) -> Result<()> {
    let list = sizes
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    eprintln!("xtask: state growth at {list} events (bench-events)");
    let mut child = Command::new(binary)
        .args(["--sizes", &list])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut rows: Vec<Vec<(String, f64)>> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        eprintln!("xtask:   {line}");
        if let Some(rest) = line.strip_prefix("checkpoint ") {
            rows.push(
                rest.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.parse().unwrap_or(0.0)))
                    .collect(),
            );
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("bench-events failed with {status}");
    }
    let get = |row: &[(String, f64)], key: &str| {
        row.iter().find(|(k, _)| k == key).map_or(0.0, |(_, v)| *v)
    };
    let Some(empty) = rows.first() else {
        bail!("bench-events printed no checkpoint");
    };
    let empty_rss = get(empty, "rss_kib");
    let empty_p50 = get(empty, "p50_us");
    let _ = writeln!(
        report,
        "## State growth\n\n`bench-events`: one process; `AppState::new` of the default configuration \
         ({:.1} ms), then acuse events (030) recorded with `state.record_event(cufe, \
         EventCode::AcuseRecibo, \"830020470\")`, each on a distinct CUFE. At each checkpoint: \
         `VmRSS` of the process, and 2,000 `historico_eventos` requests through \
         `einvoice_mock::app(state)` + `oneshot` (no network; half on the seed's 3-event CUFE, \
         half on recorded CUFEs spread over the ledger).\n",
        get(empty, "state_new_ms")
    );
    let _ = writeln!(
        report,
        "| events | time to record | RSS | growth over empty state | per event | historico p50 | historico p99 |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in &rows {
        let events = get(row, "events");
        let rss = get(row, "rss_kib");
        let growth = rss - empty_rss;
        let per_event = if events > 0.0 {
            format!("{:.0} B", growth * 1024.0 / events)
        } else {
            "–".into()
        };
        let _ = writeln!(
            report,
            "| {:.0} | {:.2} s | {:.1} MiB | {:.1} MiB | {per_event} | {} | {} |",
            events,
            get(row, "record_s"),
            rss / 1024.0,
            growth / 1024.0,
            fmt_us(get(row, "p50_us")),
            fmt_us(get(row, "p99_us")),
        );
    }
    report.push('\n');
    if let Some(million) = rows.iter().find(|r| get(r, "events") >= 1_000_000.0) {
        let rss = get(million, "rss_kib") / 1024.0;
        verdicts.push((
            format!("1,000,000 events fit in ≤ {TARGET_1M_EVENTS_MIB} MB (read as MiB)"),
            rss <= TARGET_1M_EVENTS_MIB,
            format!("{rss:.0} MiB RSS (whole process)"),
        ));
    }
    if let Some(largest) = rows.last() {
        let p50 = get(largest, "p50_us");
        verdicts.push((
            "historico_eventos latency flat as the state grows".into(),
            p50 <= empty_p50 * FLAT_FACTOR,
            format!(
                "p50 {} at {:.0} events vs {} with the seed only (flat: within {FLAT_FACTOR}×)",
                fmt_us(p50),
                get(largest, "events"),
                fmt_us(empty_p50)
            ),
        ));
    }
    Ok(())
}
