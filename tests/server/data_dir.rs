//! `--data-dir`: one process at a time, and a reset atomic with recording.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::start_serving;
use super::{deterministic_config, BIN};
use einvoice_mock::AppState;

fn data_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("einvoice-mock-{name}-"))
        .tempdir()
        .unwrap()
}

#[test]
fn a_second_serve_on_one_data_dir_exits_2_naming_the_first_ones_pid() {
    let dir = data_dir("locked");
    let mut first = Command::new(BIN);
    first
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    let (mut first, _) = start_serving(first);
    let second = Command::new(BIN)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(0));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("in use by process {}", first.id())),
        "{stderr}"
    );

    // Once the first is gone, the directory is free again.
    let mut third = Command::new(BIN);
    third
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    let (mut third, _) = start_serving(third);
    Command::new("kill")
        .args(["-TERM", &third.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(third.wait().unwrap().code(), Some(0));
}

#[test]
fn events_racing_resets_leave_memory_and_the_data_dir_agreeing() {
    use einvoice_mock::EventCode;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::RwLock;
    let dir = data_dir("reset-race");
    let mut config = deterministic_config();
    config.server.data_dir = Some(dir.path().to_path_buf());
    let state = AppState::new(config).unwrap();
    let database = rusqlite::Connection::open(dir.path().join("einvoice-mock.sqlite3")).unwrap();
    // Recorders hold the gate for reading around each event; after each reset the checker
    // takes it for writing, so that it compares with nothing in flight.
    let gate = RwLock::new(());
    let stop = AtomicBool::new(false);
    let next = AtomicU32::new(0);
    let mut disagreements = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let _recording = gate.read().unwrap();
                    let cufe = format!("{:096x}", next.fetch_add(1, Ordering::Relaxed));
                    state
                        .record_event(&cufe, EventCode::AcuseRecibo, "830020470")
                        .unwrap();
                }
            });
        }
        for round in 0..30 {
            std::thread::sleep(Duration::from_millis(3));
            state.reset().unwrap();
            let _checking = gate.write().unwrap();
            let stored: i64 = database
                .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                .unwrap();
            let in_memory = state.events().len();
            if stored as usize != in_memory {
                disagreements.push(format!(
                    "after reset {round}: {stored} events in SQLite, {in_memory} in memory"
                ));
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(next.load(Ordering::Relaxed) > 30, "the recorders ran");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
