//! Project automation: `cargo xtask <task>`.
//!
//! - `ci`: what `.ci/run` does — formatting, lints, the test suite.
//! - `bench`: the criterion benchmarks (`cargo bench`).

use std::process::Command;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
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
        "bench" => cargo(&["bench", "--bench", "validate"]),
        _ => {
            eprintln!("usage: cargo xtask <ci|bench>\n  ci     formatting, lints and the test suite, as CI runs them\n  bench  the criterion benchmarks");
            bail!("unknown task `{task}`")
        }
    }
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("running {cargo} {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed with {status}", args.join(" "));
    }
    Ok(())
}
