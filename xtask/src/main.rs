//! Project automation: `cargo xtask <task>`; `cargo xtask <task> --help` prints a task's
//! options and their defaults.
//!
//! - `ci`: runs `.ci/run`, the CI entry point — formatting, lints, the journal page in
//!   headless Chromium, the test suite.
//! - `bench`: the server benchmark of issues 5 and 21 — einvoice-mock (and, with `--before`,
//!   an earlier build) against a bare-axum baseline under `wrk` on loopback, start-up time,
//!   peak memory, and state growth (see `bench.rs`).
//! - `bench-events`: the state-growth part alone.
//! - `criterion`: the criterion benchmarks (`benches/validate.rs`, `benches/handlers.rs`).
//! - `soak`: many concurrent clients on loopback for a bounded time (see `soak.rs`).
//! - `fuzz`: the proptest fuzz targets of `tests/server/fuzz.rs`, with many more cases.
//! - `php-oracle`: the differential test against PHP's justinrainbow/json-schema
//!   (`tests/contract/php_oracle.rs`) with many more generated documents and another seed.
//! - `attack`: the slow attacks of issue 15 against the release binary (see `attack.rs`).
//! - `budget`: instructions per request of every operation under callgrind, against the
//!   committed budgets of `xtask/budget.toml` (see `budget.rs`).
//!
//! The command line is parsed into a [`Parsed`] before anything runs: `-h`/`--help` anywhere
//! among a task's options prints its usage and does nothing else; a command line that does not
//! parse exits with status 2 and a pointer to the help.

mod attack;
mod bench;
mod budget;
mod http;
mod server;
mod soak;
mod wrk;

use std::fmt;
use std::io::Write as _;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

const OVERVIEW: &str = "usage: cargo xtask <task> [options]
       cargo xtask <task> --help    (or -h) a task's options and their defaults
       cargo xtask help [<task>]    this text, or a task's usage

tasks:
  ci            runs .ci/run as CI does: formatting, lints (--locked), the journal page in
                headless Chromium, the test suite (--locked)
  bench         einvoice-mock vs a bare-axum baseline under wrk (loopback only), start-up
                time, peak RSS, and state growth with recorded events
  bench-events  only the state growth: RSS and historico_eventos latency at 1k/100k/1M events
  criterion     the criterion benchmarks (validation, handlers without the network);
                arguments after `--` go to criterion
  soak          many concurrent clients on loopback across every operation and an armed
                scenario, bounded in time; fails on any unexpected answer
  fuzz          the fuzz targets (tests/server/fuzz.rs) with many more proptest cases
  php-oracle    Afacturar's semantic 400 against PHP's justinrainbow/json-schema 5.2 on many
                more generated documents, from another seed (tests/contract/php_oracle.rs)
  attack        the slow attacks of issues 15 and 20 (idle connections, long tokens, an unread
                stderr, a restored data dir, long paths, journal bytes and reads, costly documents beside a normal client)
                on loopback;
                --short is the CI form
  budget        instructions per request of each operation (callgrind, in process) against
                xtask/budget.toml; fails past a budget + 5%";

const CI_USAGE: &str = "usage: cargo xtask ci

Runs .ci/run, the CI entry point, with CI=true, INSTA_UPDATE=no (snapshots must match what
is committed) and CARGO_INCREMENTAL=0 (a clean clone never reads the caches) — that is:
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets --locked -- -D warnings
  cargo clippy -p einvoice-mock --no-default-features --all-targets --locked -- -D warnings
  cargo test -p einvoice-mock --no-default-features --locked
  cargo clippy -p einvoice-mock --no-default-features --features fake --all-targets --locked -- -D warnings
  cargo clippy -p einvoice-mock --no-default-features --features wiremock --all-targets --locked -- -D warnings
  bash .ci/validator-alone.sh
  cargo test --workspace --locked
  cargo build --release --locked -p einvoice-mock -p bench-baseline --bin einvoice-mock --bin bench-budget
  cargo xtask budget --skip-build >\"$budget_log\" 2>&1 &
  bash .ci/ui-check.sh
  bash .ci/wheel-check.sh
  bash .ci/npm-check.sh
  bash .ci/action-check.sh
  bash .ci/actionlint.sh
  bash .ci/image-check.sh
  cargo xtask attack --short --binary \"$EINVOICE_MOCK_BIN\"
The validator alone (--no-default-features) is linted, tested, and used from a crate outside
the workspace (.ci/validator-alone.sh).
.ci/ui-check.sh renders the journal page (/__admin/ui) in headless Chromium; when `chromium` is
not installed it installs Debian's with apt-get, which needs root.
.ci/wheel-check.sh builds the Python wheel (pyproject.toml) with maturin from PyPI, installs it
into a fresh virtual environment and starts the installed `einvoice-mock`; it needs python3 with
venv and network access to PyPI. The one release build is reused: `cargo xtask budget` counts
instructions per request under valgrind's callgrind against xtask/budget.toml, the wheel packs
it (WHEEL_PROFILE=release), `cargo xtask attack --short --binary` runs the slow
attacks of issues 15 and 20 (under 2 minutes); its path is exported as EINVOICE_MOCK_BIN. The
budget runs in the background beside the page, wheel and distribution checks (its counts are
deterministic; they mostly wait) and is awaited, its output printed, before the attacks, which
measure latency; valgrind is installed before it starts. The distribution checks reuse that
binary: npm-check.sh packs and installs the npm packages offline, action-check.sh runs the
GitHub Action's steps against a release served on loopback, actionlint.sh lints the workflows,
image-check.sh builds and runs the container image with buildah (installing buildah and
debootstrap with apt-get).

options:
  -h, --help    print this help";

const CRITERION_USAGE: &str = "usage: cargo xtask criterion [-- CRITERION_ARGS]

The criterion benchmarks: benches/validate.rs (validation) and benches/handlers.rs (the
handlers without the network), run by `cargo bench --bench validate --bench handlers`.
Arguments after `--` go to criterion unchanged (default: none, i.e. criterion's defaults),
e.g. `cargo xtask criterion -- --warm-up-time 1 --measurement-time 3`.

options:
  -h, --help    print this help";

const FUZZ_USAGE: &str = "usage: cargo xtask fuzz [--cases N]

The proptest fuzz targets of tests/server/fuzz.rs (`cargo test --release --test integration
fuzz`) with PROPTEST_CASES set: many more cases than the 256 of the test suite.

options:
  --cases N     PROPTEST_CASES (default 20000)
  -h, --help    print this help";

const PHP_ORACLE_USAGE: &str = "usage: cargo xtask php-oracle [--cases N] [--seed S]

The differential test of tests/contract/php_oracle.rs (`cargo test --test integration
php_oracle`) as a longer campaign: besides every single mutation of the fixtures, N combined
mutations drawn from seed S (PHP_ORACLE_CASES, PHP_ORACLE_SEED), each compared with what PHP's
justinrainbow/json-schema 5.2 answers. Needs php, the library and mbstring
(apt-get install php-cli php-json-schema php8.2-mbstring); runs with CI=true, so a missing
PHP fails instead of skipping.

options:
  --cases N     combined documents (default 20000; the test suite draws 1500)
  --seed S      the generator's seed (default: the clock's microseconds, printed first,
                never the suite's 1335021)
  -h, --help    print this help";

/// Every task and its usage, in the order of the overview.
const TASKS: [(&str, &str); 9] = [
    ("ci", CI_USAGE),
    ("bench", bench::USAGE),
    ("bench-events", bench::EVENTS_USAGE),
    ("criterion", CRITERION_USAGE),
    ("soak", soak::USAGE),
    ("fuzz", FUZZ_USAGE),
    ("php-oracle", PHP_ORACLE_USAGE),
    ("attack", attack::USAGE),
    ("budget", budget::USAGE),
];

/// A known task's name and usage.
fn task(name: &str) -> Option<(&'static str, &'static str)> {
    TASKS.into_iter().find(|(task, _)| *task == name)
}

/// `cargo xtask help`: the overview, then every task's usage.
fn full_usage() -> String {
    let mut text = OVERVIEW.to_owned();
    for (_, usage) in TASKS {
        text.push_str("\n\n");
        text.push_str(usage);
    }
    text
}

/// What a command line asks for.
#[derive(Debug)]
enum Parsed {
    /// Print this on stdout, exit 0, do nothing else.
    Help(String),
    Run(Task),
}

/// A task with its options, ready to run.
#[derive(Debug)]
enum Task {
    Ci,
    /// `bench`, or `bench-events` (`only_events`).
    Bench(bench::Options),
    /// The arguments after `--`, for criterion.
    Criterion(Vec<String>),
    Soak(soak::Options),
    Attack(attack::Options),
    Budget(budget::Options),
    Fuzz {
        cases: u32,
    },
    PhpOracle {
        cases: usize,
        seed: Option<u64>,
    },
}

/// A command line that does not parse: exit status 2.
#[derive(Debug)]
struct UsageError {
    message: String,
    /// The task whose help to point to, if the task is known.
    task: Option<&'static str>,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        match self.task {
            Some(task) => write!(f, "\nsee `cargo xtask {task} --help`"),
            None => write!(f, "\n\n{OVERVIEW}"),
        }
    }
}

/// Parses the arguments after `cargo xtask`; runs nothing.
fn parse(args: &[String]) -> Result<Parsed, UsageError> {
    let error = |task, message: String| UsageError { message, task };
    let Some((task_name, rest)) = args.split_first() else {
        return Err(error(None, "no task given".into()));
    };
    match (task_name.as_str(), rest) {
        ("-h" | "--help" | "help", []) => return Ok(Parsed::Help(full_usage())),
        ("-h" | "--help" | "help", [name]) => {
            return task(name)
                .map(|(_, usage)| Parsed::Help(usage.to_owned()))
                .ok_or_else(|| error(None, format!("unknown task `{name}`")))
        }
        ("-h" | "--help" | "help", _) => {
            return Err(error(
                None,
                "too many arguments: cargo xtask help [<task>], or cargo xtask <task> --help"
                    .into(),
            ))
        }
        _ => {}
    }
    let Some((name, usage)) = task(task_name) else {
        return Err(error(None, format!("unknown task `{task_name}`")));
    };
    // The task's own options end at `--` (what follows goes to criterion).
    let (options, passed_on) = match rest.iter().position(|a| a == "--") {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    if options.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Parsed::Help(usage.to_owned()));
    }
    let error = |message: String| error(Some(name), message);
    if name != "criterion" && rest.len() != options.len() {
        return Err(error("unexpected `--`".into()));
    }
    let task = match name {
        "ci" => match options {
            [] => Task::Ci,
            [other, ..] => return Err(error(format!("unknown option `{other}`"))),
        },
        "bench" | "bench-events" => {
            let mut options =
                bench::Options::parse(options).map_err(|e| error(format!("{e:#}")))?;
            options.only_events = name == "bench-events";
            Task::Bench(options)
        }
        "criterion" => match options {
            [] => Task::Criterion(passed_on.to_vec()),
            [other, ..] => {
                return Err(error(format!(
                    "unknown option `{other}` (criterion's options go after `--`)"
                )))
            }
        },
        "soak" => Task::Soak(soak::Options::parse(options).map_err(|e| error(format!("{e:#}")))?),
        "attack" => {
            Task::Attack(attack::Options::parse(options).map_err(|e| error(format!("{e:#}")))?)
        }
        "budget" => {
            Task::Budget(budget::Options::parse(options).map_err(|e| error(format!("{e:#}")))?)
        }
        "fuzz" => {
            let mut cases = 20_000;
            let mut options = options.iter();
            while let Some(option) = options.next() {
                match option.as_str() {
                    "--cases" => {
                        let n = options
                            .next()
                            .ok_or_else(|| error("--cases needs a value".into()))?;
                        cases = n
                            .parse()
                            .ok()
                            .filter(|&cases| cases > 0)
                            .ok_or_else(|| error(format!("--cases {n}: a positive number")))?;
                    }
                    other => return Err(error(format!("unknown option `{other}`"))),
                }
            }
            Task::Fuzz { cases }
        }
        "php-oracle" => {
            let (mut cases, mut seed) = (20_000, None);
            let mut options = options.iter();
            while let Some(option) = options.next() {
                let mut value = || {
                    options
                        .next()
                        .ok_or_else(|| error(format!("{option} needs a value")))
                };
                match option.as_str() {
                    "--cases" => {
                        let n = value()?;
                        cases = n
                            .parse()
                            .ok()
                            .filter(|&cases| cases > 0)
                            .ok_or_else(|| error(format!("--cases {n}: a positive number")))?;
                    }
                    "--seed" => {
                        let n = value()?;
                        seed = Some(
                            n.parse()
                                .map_err(|_| error(format!("--seed {n}: a number")))?,
                        );
                    }
                    other => return Err(error(format!("unknown option `{other}`"))),
                }
            }
            Task::PhpOracle { cases, seed }
        }
        _ => return Err(error(format!("unknown task `{name}`"))),
    };
    Ok(Parsed::Run(task))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Parsed::Help(text)) => {
            // Not `println!`: it panics when stdout is closed early (`cargo xtask help | head`).
            let _ = writeln!(std::io::stdout(), "{text}");
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(task)) => match run(task) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("Error: {error:?}");
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(2)
        }
    }
}

fn run(task: Task) -> Result<()> {
    match task {
        Task::Ci => {
            let status = Command::new("bash")
                .arg(".ci/run")
                .current_dir(workspace_root())
                .status()
                .context("running bash .ci/run")?;
            if !status.success() {
                bail!("`.ci/run` failed ({status})");
            }
            Ok(())
        }
        Task::Bench(options) => bench::run(options),
        Task::Criterion(passed_on) => {
            let mut args = vec!["bench", "--bench", "validate", "--bench", "handlers"];
            if !passed_on.is_empty() {
                args.push("--");
                args.extend(passed_on.iter().map(String::as_str));
            }
            cargo(&args)
        }
        Task::Soak(options) => soak::run(&release_binary()?, &options),
        Task::Attack(options) => match &options.binary {
            Some(binary) => attack::run(binary, &options),
            None => attack::run(&release_binary()?, &options),
        },
        Task::Budget(options) => budget::run(&options),
        Task::Fuzz { cases } => {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["test", "--release", "--test", "integration", "fuzz"])
                .env("PROPTEST_CASES", cases.to_string())
                .current_dir(workspace_root())
                .status()
                .context("running the fuzz targets")?;
            if !status.success() {
                bail!("the fuzz targets failed ({status})");
            }
            Ok(())
        }
        Task::PhpOracle { cases, seed } => {
            let seed = seed.unwrap_or_else(|| {
                let micros = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_micros() as u64);
                // Never the suite's own seed: the campaign is about documents it does not hold.
                if micros == 1_335_021 {
                    micros + 1
                } else {
                    micros
                }
            });
            println!("php-oracle: {cases} combined documents from seed {seed}");
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "test",
                    "--test",
                    "integration",
                    "php_oracle",
                    "--",
                    "--nocapture",
                ])
                .env("PHP_ORACLE_CASES", cases.to_string())
                .env("PHP_ORACLE_SEED", seed.to_string())
                .env("CI", "true")
                .current_dir(workspace_root())
                .status()
                .context("running the PHP oracle")?;
            if !status.success() {
                bail!("the PHP oracle found differences or could not run ({status}); seed {seed}");
            }
            Ok(())
        }
    }
}

/// Builds the release binary of `einvoice-mock`, and its path.
fn release_binary() -> Result<std::path::PathBuf> {
    cargo(&["build", "--release", "--bin", "einvoice-mock"])?;
    Ok(bench::target_dir(&workspace_root())
        .join("release")
        .join("einvoice-mock"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, UsageError> {
        super::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    fn help(args: &[&str]) -> String {
        match parse(args) {
            Ok(Parsed::Help(text)) => text,
            other => panic!("{args:?}: expected the help, got {other:?}"),
        }
    }

    fn run(args: &[&str]) -> Task {
        match parse(args) {
            Ok(Parsed::Run(task)) => task,
            other => panic!("{args:?}: expected a task, got {other:?}"),
        }
    }

    fn usage_error(args: &[&str]) -> UsageError {
        match parse(args) {
            Err(error) => error,
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn help_for_every_task_is_its_usage_and_runs_nothing() {
        for (task, usage) in TASKS {
            assert!(usage.starts_with(&format!("usage: cargo xtask {task}")));
            for flag in ["--help", "-h"] {
                assert_eq!(help(&[task, flag]), usage, "{task} {flag}");
            }
            assert_eq!(help(&["help", task]), usage);
            assert_eq!(help(&["--help", task]), usage);
        }
        // Among other options, valid or not, and before a value it would otherwise consume.
        assert_eq!(help(&["bench", "--rounds", "3", "--help"]), bench::USAGE);
        assert_eq!(help(&["bench", "--out", "-h"]), bench::USAGE);
        assert_eq!(
            help(&["bench-events", "--bogus", "--help"]),
            bench::EVENTS_USAGE
        );
        assert_eq!(help(&["soak", "--duration", "--help"]), soak::USAGE);
        assert_eq!(help(&["fuzz", "--cases", "9", "-h"]), FUZZ_USAGE);
        assert_eq!(
            help(&["criterion", "--help", "--", "--foo"]),
            CRITERION_USAGE
        );
    }

    #[test]
    fn top_level_help_lists_every_task_and_every_option() {
        for args in [&["--help"][..], &["-h"], &["help"]] {
            let text = help(args);
            assert!(text.starts_with(OVERVIEW));
            for (task, usage) in TASKS {
                assert!(OVERVIEW.contains(&format!("\n  {task} ")), "{task}");
                assert!(text.contains(usage), "{task}");
            }
        }
        assert!(usage_error(&["help", "nope"])
            .message
            .contains("unknown task `nope`"));
        assert!(parse(&["help", "bench", "soak"]).is_err());
    }

    /// Every `--option` a usage lists is one its parser accepts (with a value when it takes one).
    #[test]
    fn every_documented_option_parses() {
        // An executable that exists: this test's own binary.
        let executable = std::env::current_exe().unwrap().display().to_string();
        for (task, usage) in TASKS {
            let (_, options) = usage.split_once("\noptions:\n").expect(task);
            let documented: Vec<&str> = options
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|word| word.starts_with("--") && word.len() > 2)
                .filter(|word| *word != "--help")
                .collect();
            for option in documented {
                let value = match option {
                    "--routes" => "saldos,acuse",
                    "--log-level" => "debug",
                    "--out" => "report.md",
                    "--duration" => "5s",
                    "--only" => "B,N",
                    "--before" => &executable,
                    _ => "3",
                };
                let parsed = match parse(&[task, option]) {
                    Err(error) if error.message.contains("needs a value") => {
                        parse(&[task, option, value])
                    }
                    other => other,
                };
                assert!(
                    matches!(parsed, Ok(Parsed::Run(_))),
                    "{task} {option}: {parsed:?}"
                );
            }
        }
    }

    #[test]
    fn bench_defaults_are_the_documented_ones() {
        let Task::Bench(options) = run(&["bench"]) else {
            panic!("bench");
        };
        assert_eq!(
            (
                options.duration_s,
                options.threads,
                options.connections,
                options.rounds
            ),
            (10, 1, 32, 3)
        );
        assert_eq!(options.routes, wrk::Route::ALL.to_vec());
        assert_eq!(options.startup_runs, 10);
        assert_eq!(options.events, Some(vec![1_000, 100_000, 1_000_000]));
        assert_eq!(options.calibration, vec![1_000, 2_000, 4_000]);
        assert!(!options.skip_build && !options.keep_scripts && !options.only_events);
        assert!(options.out.is_none() && options.log_level.is_none() && options.before.is_none());
        for default in [
            "(default 10s)",
            "(default 1: issue 21's harness is `wrk -t1 -c32`)",
            "(default 32)",
            "(default 3)",
            "(default: none)",
            "(default: all four)",
            "(default 10)",
            "(default 1000,100000,1000000)",
            "(default 1000,2000,4000)",
        ] {
            assert!(bench::USAGE.contains(default), "{default}");
        }

        let Task::Bench(events) = run(&["bench-events", "--events", "10,1_000", "--skip-build"])
        else {
            panic!("bench-events");
        };
        assert!(events.only_events && events.skip_build);
        assert_eq!(events.events, Some(vec![10, 1_000]));
    }

    #[test]
    fn bench_before_is_an_existing_executable_made_absolute() {
        let dir = std::env::temp_dir().join(format!("xtask-before-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("einvoice-mock-old");
        std::fs::write(&binary, "#!/bin/sh\n").unwrap();
        let mode = |mode| {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(mode)).unwrap();
        };

        mode(0o755);
        // The path is kept canonical: absolute, without `..`.
        let roundabout = format!(
            "{}/../{}/einvoice-mock-old",
            dir.display(),
            dir.file_name().unwrap().to_string_lossy()
        );
        let Task::Bench(options) = run(&["bench", "--before", &roundabout, "--rounds", "1"]) else {
            panic!("bench");
        };
        assert_eq!(
            options.before.as_deref(),
            Some(binary.canonicalize().unwrap().as_path())
        );
        assert_eq!(options.rounds, 1);

        mode(0o644);
        let error = usage_error(&["bench", "--before", binary.to_str().unwrap()]);
        assert!(error.message.contains("not executable"), "{error}");
        let missing = dir.join("nope");
        let error = usage_error(&["bench", "--before", missing.to_str().unwrap()]);
        assert!(
            error.message.contains("--before") && error.message.contains("not found"),
            "{error}"
        );
        let error = usage_error(&["bench", "--before", dir.to_str().unwrap()]);
        assert!(error.message.contains("not a file"), "{error}");
        assert!(usage_error(&["bench", "--before"])
            .message
            .contains("--before needs a value"));
        assert!(bench::USAGE.contains("--before PATH"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn soak_and_fuzz_defaults_are_the_documented_ones() {
        let Task::Soak(options) = run(&["soak"]) else {
            panic!("soak");
        };
        assert_eq!(
            (options.duration.as_secs(), options.clients),
            (30, 16),
            "{}",
            soak::USAGE
        );
        assert!(soak::USAGE.contains("(default 30s)") && soak::USAGE.contains("(default 16)"));
        let Task::Soak(options) = run(&["soak", "--clients", "4", "--duration", "5s"]) else {
            panic!("soak");
        };
        assert_eq!((options.duration.as_secs(), options.clients), (5, 4));

        assert!(matches!(run(&["fuzz"]), Task::Fuzz { cases: 20_000 }));
        assert!(FUZZ_USAGE.contains("(default 20000)"));
        assert!(matches!(
            run(&["fuzz", "--cases", "7"]),
            Task::Fuzz { cases: 7 }
        ));
    }

    #[test]
    fn php_oracle_takes_a_number_of_cases_and_a_seed() {
        assert!(matches!(
            run(&["php-oracle"]),
            Task::PhpOracle {
                cases: 20_000,
                seed: None
            }
        ));
        assert!(PHP_ORACLE_USAGE.contains("(default 20000;"));
        assert!(matches!(
            run(&["php-oracle", "--seed", "42", "--cases", "9"]),
            Task::PhpOracle {
                cases: 9,
                seed: Some(42)
            }
        ));
        assert!(usage_error(&["php-oracle", "--seed"])
            .message
            .contains("--seed needs a value"));
        assert!(usage_error(&["php-oracle", "--cases", "0"])
            .message
            .contains("a positive number"));
    }

    #[test]
    fn attack_defaults_are_the_full_form_and_short_is_the_ci_form() {
        let Task::Attack(options) = run(&["attack"]) else {
            panic!("attack");
        };
        assert!(!options.short);
        assert_eq!(options.events, 1_150_000);
        let Task::Attack(options) = run(&["attack", "--short"]) else {
            panic!("attack");
        };
        assert!(options.short);
        assert_eq!(options.events, 30_000);
        let Task::Attack(options) = run(&["attack", "--short", "--events", "1_000"]) else {
            panic!("attack");
        };
        assert_eq!(options.events, 1_000);
        assert_eq!(
            options.only,
            ["B", "E", "M", "N", "O", "P", "Q", "R", "S", "T", "U", "V"]
        );
        let Task::Attack(options) = run(&["attack", "--only", "b,N"]) else {
            panic!("attack");
        };
        assert_eq!(options.only, ["B", "N"]);
        assert!(usage_error(&["attack", "--only", "Z"])
            .message
            .contains("unknown attack `Z`"));
        assert!(usage_error(&["attack", "--events", "0"])
            .message
            .contains("positive"));
        assert!(attack::USAGE.contains("(default 1150000, or 30000 with --short)"));
    }

    /// The commands of BENCHMARKS.md's "How to reproduce" and the README's run as written.
    #[test]
    fn the_documented_commands_parse() {
        let benchmarks = include_str!("../../BENCHMARKS.md");
        let section = benchmarks
            .split("## How to reproduce")
            .nth(1)
            .and_then(|rest| rest.split("```sh").nth(1))
            .and_then(|rest| rest.split("```").next())
            .expect("BENCHMARKS.md has a How to reproduce block");
        let commands: Vec<&str> = section
            .lines()
            .filter_map(|line| line.split(" #").next())
            .filter_map(|line| line.trim().strip_prefix("cargo xtask "))
            .collect();
        assert!(commands.len() >= 6, "{commands:?}");
        for command in commands {
            let args: Vec<&str> = command.split_whitespace().collect();
            assert!(parse(&args).is_ok(), "cargo xtask {command}");
        }
        let Task::Bench(options) = run(&["bench", "--duration", "5s", "--no-events"]) else {
            panic!("bench");
        };
        assert_eq!((options.duration_s, options.events), (5, None));
    }

    #[test]
    fn criterion_passes_on_only_what_follows_the_double_dash() {
        assert!(matches!(run(&["criterion"]), Task::Criterion(a) if a.is_empty()));
        assert!(matches!(
            run(&["criterion", "--", "--warm-up-time", "1", "--help"]),
            Task::Criterion(a) if a == ["--warm-up-time", "1", "--help"]
        ));
        let error = usage_error(&["criterion", "--warm-up-time", "1"]);
        assert!(error.message.contains("after `--`"), "{error}");
    }

    #[test]
    fn unknown_options_and_tasks_are_usage_errors_pointing_to_the_help() {
        for (task, _) in TASKS {
            let error = usage_error(&[task, "--bogus"]);
            assert!(
                error.message.contains("unknown option `--bogus`"),
                "{error}"
            );
            assert!(
                error
                    .to_string()
                    .ends_with(&format!("see `cargo xtask {task} --help`")),
                "{error}"
            );
        }
        assert!(usage_error(&["bench", "--", "x"]).message.contains("`--`"));
        assert!(usage_error(&["bench", "--rounds"])
            .message
            .contains("--rounds needs a value"));
        assert!(usage_error(&["bench", "--threads", "two"])
            .message
            .contains("--threads: a number"));
        assert!(usage_error(&["soak", "--clients", "0"])
            .message
            .contains("positive"));
        assert!(usage_error(&["fuzz", "--cases"])
            .message
            .contains("needs a value"));
        assert!(usage_error(&["fuzz", "--cases", "many"])
            .message
            .contains("positive number"));
        for args in [&[][..], &["nope"]] {
            let error = usage_error(args);
            assert!(error.task.is_none());
            assert!(error.to_string().ends_with(OVERVIEW), "{error}");
        }
    }

    /// `ci` runs `.ci/run`; its usage lists exactly the commands `.ci/run` runs.
    #[test]
    fn ci_usage_lists_what_ci_run_runs() {
        assert!(matches!(run(&["ci"]), Task::Ci));
        let script = include_str!("../../.ci/run");
        let commands = |text: &'static str| -> Vec<&'static str> {
            text.lines()
                .map(str::trim)
                .filter(|line| line.starts_with("cargo ") || line.starts_with("bash "))
                .collect()
        };
        assert_eq!(commands(CI_USAGE), commands(script));
        for variable in ["CI=true", "INSTA_UPDATE=no", "CARGO_INCREMENTAL=0"] {
            assert!(script.contains(&format!("export {variable}")), "{variable}");
            assert!(CI_USAGE.contains(variable), "{variable}");
        }
    }
}
