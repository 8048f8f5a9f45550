//! Project automation: `cargo xtask <task>`.
//!
//! - `ci`: what `.ci/run` does — formatting, lints, the test suite.
//! - `bench`: the server benchmark of issue 5 — einvoice-mock against a bare-axum baseline
//!   under `wrk` on loopback, start-up time, peak memory, and state growth (see `bench.rs`).
//! - `bench-events`: the state-growth part alone.
//! - `criterion`: the criterion benchmarks (`benches/validate.rs`, `benches/handlers.rs`).
//! - `soak`: many concurrent clients on loopback for a bounded time (see `soak.rs`).
//! - `fuzz`: the proptest fuzz targets of `tests/server/fuzz.rs`, with many more cases.

mod bench;
mod http;
mod server;
mod soak;
mod wrk;

use std::process::Command;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <task> [options]

tasks:
  ci            formatting, lints and the test suite, as CI runs them
  bench         einvoice-mock vs a bare-axum baseline under wrk (loopback only), start-up
                time, peak RSS, and state growth with recorded events
  bench-events  only the state growth: RSS and historico_eventos latency at 1k/100k/1M events
  criterion     the criterion benchmarks (validation, handlers without the network);
                arguments after `--` go to criterion
  soak          many concurrent clients on loopback across every operation and an armed
                scenario, bounded in time; fails on any unexpected answer
                (--duration SECS, default 30; --clients N, default 16)
  fuzz          the fuzz targets (tests/server/fuzz.rs) with PROPTEST_CASES (default 20000)
                (--cases N)

bench options:
  --duration SECS       length of each wrk run (default 10s)
  --threads N           wrk threads (default 2)
  --connections N       wrk connections (default 32)
  --rounds N            alternate baseline/fake N times per route, report the medians (default 1)
  --routes LIST         saldos,acuse_recibo_fev,historico_eventos (default: all three)
  --startup-runs N      spawns of each server to time start-up (default 10)
  --events LIST         checkpoints of the state-growth run (default 1000,100000,1000000)
  --no-events           skip the state-growth run
  --calibrate LIST      also run the baseline on saldos with this much spinning added per
                        request, in ns (default 1000,2000,4000): how far extra work per
                        request moves the baseline's own throughput on this machine
  --no-calibration      skip that
  --log-level LEVEL     RUST_LOG for the fake (default: unset, i.e. its default `info`)
  --skip-build          use the release binaries already built
  --keep-scripts        keep the wrk Lua scripts and outputs (their directory is printed)
  --out FILE            also write the Markdown report to FILE";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "ci" => {
            cargo(&["fmt", "--all", "--", "--check"])?;
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])?;
            cargo(&["test", "--workspace"])
        }
        "bench" => bench::run(bench::Options::parse(&rest)?),
        "bench-events" => {
            let mut options = bench::Options::parse(&rest)?;
            options.only_events = true;
            bench::run(options)
        }
        "criterion" => {
            let mut cargo_args = vec!["bench", "--bench", "validate", "--bench", "handlers"];
            let extra: Vec<&str> = rest
                .iter()
                .skip_while(|a| a.as_str() != "--")
                .map(String::as_str)
                .collect();
            cargo_args.extend(extra);
            cargo(&cargo_args)
        }
        "soak" => {
            let options = soak::Options::parse(&rest)?;
            cargo(&["build", "--release", "--bin", "einvoice-mock"])?;
            let binary = bench::target_dir(&workspace_root())
                .join("release")
                .join("einvoice-mock");
            soak::run(&binary, &options)
        }
        "fuzz" => {
            let cases = match rest.as_slice() {
                [] => "20000".to_owned(),
                [flag, n] if flag == "--cases" => n.clone(),
                _ => bail!("usage: cargo xtask fuzz [--cases N]"),
            };
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["test", "--release", "--test", "integration", "fuzz"])
                .env("PROPTEST_CASES", &cases)
                .status()
                .context("running the fuzz targets")?;
            if !status.success() {
                bail!("the fuzz targets failed ({status})");
            }
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown task `{task}`")
        }
    }
}

/// Runs `cargo ARGS` in the workspace, failing when it fails.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("running {cargo} {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// The workspace root: the directory above `xtask/`.
pub(crate) fn workspace_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
