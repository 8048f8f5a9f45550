//! `cargo xtask budget`: instructions per request of each operation's success and main error,
//! counted by valgrind's callgrind (deterministic: the machine's load does not move them),
//! against the budgets committed in `xtask/budget.toml`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

/// `cargo xtask budget --help`.
pub const USAGE: &str = "usage: cargo xtask budget [options]

Counts the instructions each request costs the fake, in process: every case of
bench-baseline/src/bin/bench-budget.rs (each operation's success and its main error) goes
through einvoice_mock::app(state) — intercept, verification, journal, coverage, handler, state —
with tower's oneshot on a current-thread runtime, under `valgrind --tool=callgrind`, counting
only the measured requests (--toggle-collect on the function that sends them). Prints
instructions per request per case against xtask/budget.toml and fails when a case costs more
than its budget + 5%, or when a case has no budget. Builds bench-budget in release mode first
(the profile CI builds); installs Debian's valgrind when it is missing and running as root.
Raising a budget is a reviewed edit of xtask/budget.toml, with its reason in the commit.

options:
  --requests N   measured requests per case (default 200; the warm-up is 128 more)
  --cases LIST   only these cases, e.g. `saldos,acuse_recibo_fev` (default: all 16)
  --skip-build   use target/release/bench-budget as it is (default: build it)
  --write        rewrite the budgets of xtask/budget.toml with the counts measured (for a
                 reviewed raise, or after a change that made requests cheaper)
  -h, --help     print this help";

/// How far over its budget a case may go before the task fails, in percent.
pub const TOLERANCE_PERCENT: u64 = 5;

/// Options of `budget`.
#[derive(Debug, Clone)]
pub struct Options {
    pub requests: u64,
    pub cases: Option<Vec<String>>,
    pub skip_build: bool,
    pub write: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            requests: 200,
            cases: None,
            skip_build: false,
            write: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--requests" => {
                    let v = args.next().context("--requests needs a value")?;
                    options.requests = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .with_context(|| format!("--requests {v}: a positive number"))?;
                }
                "--cases" => {
                    let v = args.next().context("--cases needs a value")?;
                    options.cases = Some(v.split(',').map(|c| c.trim().to_owned()).collect());
                }
                "--skip-build" => options.skip_build = true,
                "--write" => options.write = true,
                other => bail!("unknown option `{other}`"),
            }
        }
        Ok(options)
    }
}

/// The committed budgets: case name → instructions per request.
pub fn parse_budgets(text: &str) -> Result<BTreeMap<String, u64>> {
    let mut budgets = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line == "[instructions_per_request]" {
            continue;
        }
        let parsed = line.split_once('=').and_then(|(name, value)| {
            let name = name.trim().trim_matches('"');
            let value = value.trim().replace('_', "").parse::<u64>().ok()?;
            Some((name.to_owned(), value))
        });
        let Some((name, value)) = parsed else {
            bail!(
                "xtask/budget.toml line {}: expected `\"case\" = instructions`, got `{line}`",
                number + 1
            );
        };
        if budgets.insert(name.clone(), value).is_some() {
            bail!("xtask/budget.toml: `{name}` twice");
        }
    }
    Ok(budgets)
}

/// `budget * (100 + TOLERANCE_PERCENT) / 100`: the most a case may cost.
pub fn ceiling(budget: u64) -> u64 {
    budget.saturating_mul(100 + TOLERANCE_PERCENT) / 100
}

/// The instruction total of a callgrind output file (its `totals:` line, or `summary:`).
pub fn callgrind_total(text: &str) -> Option<u64> {
    let find = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

pub fn run(options: &Options) -> Result<()> {
    let root = crate::workspace_root();
    crate::wrk::ensure_program("valgrind", "valgrind")?;
    if !options.skip_build {
        crate::cargo(&[
            "build",
            "--release",
            "--locked",
            "-p",
            "bench-baseline",
            "--bin",
            "bench-budget",
        ])?;
    }
    let binary = crate::bench::target_dir(&root)
        .join("release")
        .join("bench-budget");
    let listed = Command::new(&binary)
        .arg("--list")
        .output()
        .with_context(|| format!("running {} --list", binary.display()))?;
    let all: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let cases = match &options.cases {
        Some(cases) => {
            if let Some(unknown) = cases.iter().find(|c| !all.contains(c)) {
                bail!(
                    "--cases: unknown case `{unknown}` (one of {})",
                    all.join(",")
                );
            }
            cases.clone()
        }
        None => all,
    };
    let budget_file = root.join("xtask/budget.toml");
    let budget_text = std::fs::read_to_string(&budget_file)
        .with_context(|| format!("reading {}", budget_file.display()))?;
    let budgets = parse_budgets(&budget_text)?;

    let out_dir = std::env::temp_dir().join(format!("xtask-budget-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir)?;
    let measured = measure_all(&binary, &cases, options.requests, &out_dir);
    let _ = std::fs::remove_dir_all(&out_dir);
    let measured = measured?;

    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<45} {:>12} {:>12} {:>8}  verdict",
        "case", "instr/req", "budget", "change"
    );
    let mut failures = Vec::new();
    for (case, count) in &measured {
        let (budget, change, verdict) = match budgets.get(case) {
            Some(&budget) => {
                let change = (*count as f64 / budget as f64 - 1.0) * 100.0;
                let verdict = if *count > ceiling(budget) {
                    failures.push(format!(
                        "{case}: {count} instructions per request, over its budget {budget} by {change:.1}% (at most {TOLERANCE_PERCENT}%)"
                    ));
                    "OVER BUDGET"
                } else if change < -10.0 {
                    "ok (well under: lower its budget?)"
                } else {
                    "ok"
                };
                (budget.to_string(), format!("{change:+.1}%"), verdict)
            }
            None => {
                failures.push(format!("{case}: no budget in xtask/budget.toml"));
                ("-".to_owned(), "-".to_owned(), "NO BUDGET")
            }
        };
        let _ = writeln!(
            table,
            "{case:<45} {count:>12} {budget:>12} {change:>8}  {verdict}"
        );
    }
    println!(
        "instructions per request (callgrind, {} measured requests per case, release build):",
        options.requests
    );
    print!("{table}");

    if options.write {
        let mut merged = budgets.clone();
        merged.extend(measured.iter().map(|(c, n)| (c.clone(), *n)));
        std::fs::write(&budget_file, rewrite(&budget_text, &merged))?;
        println!("wrote {}", budget_file.display());
        return Ok(());
    }
    if !failures.is_empty() {
        bail!(
            "{} case(s) over budget:\n  {}\n(a raise is a reviewed edit of xtask/budget.toml, or `cargo xtask budget --write`, with its reason in the commit)",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Every case under callgrind, as many at a time as there are cores; results in case order.
fn measure_all(
    binary: &Path,
    cases: &[String],
    requests: u64,
    out_dir: &Path,
) -> Result<Vec<(String, u64)>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<u64>>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(cases.len()).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(cases.len()) {
            scope.spawn(|| loop {
                let index = {
                    let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                    let index = *next;
                    *next += 1;
                    index
                };
                let Some(case) = cases.get(index) else { break };
                let result = measure(binary, case, requests, out_dir);
                results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(result);
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    cases
        .iter()
        .zip(results)
        .map(|(case, result)| {
            let count = result.unwrap_or_else(|| Err(anyhow::anyhow!("not run")))?;
            Ok((case.clone(), count))
        })
        .collect()
}

/// Instructions per request of one case.
fn measure(binary: &Path, case: &str, requests: u64, out_dir: &Path) -> Result<u64> {
    let out_file: PathBuf = out_dir.join(format!("callgrind.{case}"));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg("--toggle-collect=*measured_requests*")
        .arg(binary)
        .args(["--case", case, "--requests", &requests.to_string()])
        .output()
        .context("running valgrind")?;
    if !output.status.success() {
        bail!(
            "{case}: bench-budget failed under valgrind ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = std::fs::read_to_string(&out_file)
        .with_context(|| format!("{case}: reading {}", out_file.display()))?;
    let total = callgrind_total(&text)
        .with_context(|| format!("{case}: no total in callgrind's output"))?;
    if total == 0 {
        bail!("{case}: callgrind counted nothing (the toggle function was not found)");
    }
    Ok(total / requests)
}

/// `text` with every budget line replaced by `budgets` (the comments before them kept), cases
/// in the order of the file, new ones appended.
pub fn rewrite(text: &str, budgets: &BTreeMap<String, u64>) -> String {
    let mut out = String::new();
    let mut written = Vec::new();
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("").trim();
        let name = code
            .split_once('=')
            .map(|(name, _)| name.trim().trim_matches('"').to_owned());
        match name.and_then(|name| budgets.get(&name).map(|n| (name, n))) {
            Some((name, n)) => {
                let _ = writeln!(out, "\"{name}\" = {n}");
                written.push(name);
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for (name, n) in budgets {
        if !written.contains(name) {
            let _ = writeln!(out, "\"{name}\" = {n}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_may_cost_five_percent_more_than_its_budget_and_no_more() {
        assert_eq!(ceiling(100_000), 105_000);
        assert!(101_000 <= ceiling(100_000));
        assert!(105_001 > ceiling(100_000));
    }

    #[test]
    fn budgets_are_read_from_quoted_names_with_comments_and_underscores() {
        let budgets = parse_budgets(
            "# why\n[instructions_per_request]\n\"saldos\" = 120_000 # the balance\n\"saldos.month_13\" = 99\n",
        )
        .expect("parses");
        assert_eq!(budgets["saldos"], 120_000);
        assert_eq!(budgets["saldos.month_13"], 99);
        assert!(parse_budgets("saldos = many\n").is_err());
        assert!(parse_budgets("\"a\" = 1\n\"a\" = 2\n").is_err());
    }

    #[test]
    fn callgrinds_total_is_read_from_its_totals_line() {
        let text = "version: 1\nevents: Ir\nfn=main\n1 5\ntotals: 123456\n";
        assert_eq!(callgrind_total(text), Some(123_456));
        assert_eq!(callgrind_total("summary: 7\n"), Some(7));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn rewriting_keeps_the_comments_and_replaces_the_counts() {
        let text = "# header\n[instructions_per_request]\n\"a\" = 1\n\"b\" = 2\n";
        let budgets = BTreeMap::from([("a".to_owned(), 10), ("c".to_owned(), 30)]);
        assert_eq!(
            rewrite(text, &budgets),
            "# header\n[instructions_per_request]\n\"a\" = 10\n\"b\" = 2\n\"c\" = 30\n"
        );
    }
}
