//! The xtask binary itself: `--help` prints the usage on stdout, exits 0 and runs nothing;
//! a bad command line exits 2. `CARGO` and `PATH` point nowhere, so that any attempt to run
//! cargo, bash or a benchmark would fail instead of succeeding.

use std::process::{Command, Output};

const TASKS: [&str; 7] = [
    "ci",
    "bench",
    "bench-events",
    "criterion",
    "soak",
    "fuzz",
    "budget",
];

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("CARGO", "/nonexistent/cargo")
        .env("PATH", "/nonexistent")
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_prints_the_usage_and_runs_nothing() {
    let task_help = |args: &[&str], task: &str| {
        let output = xtask(args);
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            stdout.starts_with(&format!("usage: cargo xtask {task}")),
            "{args:?}: {stdout}"
        );
        assert!(stdout.contains("--help"), "{args:?}: {stdout}");
        assert_eq!(stderr, "", "{args:?}");
    };
    for task in TASKS {
        task_help(&[task, "--help"], task);
        task_help(&[task, "-h"], task);
        task_help(&["help", task], task);
    }
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let output = xtask(args);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(stdout.starts_with("usage: cargo xtask <task>"), "{stdout}");
        for task in TASKS {
            assert!(
                stdout.contains(&format!("usage: cargo xtask {task}")),
                "{task}"
            );
        }
    }
}

#[test]
fn a_bad_command_line_exits_2_and_points_to_the_help() {
    for task in TASKS {
        let output = xtask(&[task, "--bogus"]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{task}: {stderr}");
        assert!(stderr.contains("unknown option `--bogus`"), "{stderr}");
        assert!(
            stderr.contains(&format!("cargo xtask {task} --help")),
            "{stderr}"
        );
        assert_eq!(text(&output.stdout), "");
    }
    for args in [&[][..], &["nope"]] {
        let output = xtask(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains("usage: cargo xtask <task>"));
    }
}

/// The harness itself: with `CARGO` and `PATH` pointing nowhere, a task that does run fails.
#[test]
fn without_help_the_task_runs_and_fails_here() {
    for args in [&["ci"][..], &["criterion"], &["fuzz", "--cases", "1"]] {
        let output = xtask(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
    }
}
