//! A server process under benchmark: spawned, its address read from the first stdout line,
//! polled until it answers, measured through `/proc/PID/status`, stopped.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::http;

/// A running server.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Kept open: the server may write to stdout again.
    _stdout: BufReader<ChildStdout>,
    /// A stderr pipe kept open and never read, when asked for (`cargo xtask attack`).
    _stderr: Option<ChildStderr>,
    /// `HOST:PORT`.
    pub address: String,
    /// From spawn to the `listening on` line.
    pub to_listening: Duration,
    /// From spawn to the first answered `GET /__admin/health`.
    pub to_first_answer: Duration,
}

impl Server {
    /// Spawns `binary args…` (stderr discarded, stdout piped), reads
    /// `listening on http://HOST:PORT`, then polls `GET /__admin/health` in a tight loop until
    /// it answers 200 `{"status":"ok"}`.
    // `bench` passes an environment; other tasks (`soak`) start servers as they are.
    #[allow(dead_code)]
    pub fn start(binary: &Path, args: &[&str]) -> Result<Server> {
        Server::start_with_env(binary, args, &[])
    }

    /// [`Server::start`] with extra environment variables (`RUST_LOG` …).
    pub fn start_with_env(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Server> {
        Server::spawn(binary, args, env, false)
    }

    /// [`Server::start`] with stderr on a pipe that nobody reads.
    pub fn start_with_unread_stderr(binary: &Path, args: &[&str]) -> Result<Server> {
        Server::spawn(binary, args, &[], true)
    }

    fn spawn(
        binary: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        unread_stderr: bool,
    ) -> Result<Server> {
        let spawned = Instant::now();
        let mut child = Command::new(binary)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if unread_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .with_context(|| format!("spawning {}", binary.display()))?;
        let stderr = child.stderr.take();
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let to_listening = spawned.elapsed();
        let Some(address) = line
            .trim()
            .strip_prefix("listening on http://")
            .map(str::to_owned)
        else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{} printed `{}` instead of `listening on http://HOST:PORT`",
                binary.display(),
                line.trim()
            );
        };
        let mut server = Server {
            child,
            _stdout: stdout,
            _stderr: stderr,
            address,
            to_listening,
            to_first_answer: Duration::ZERO,
        };
        let deadline = spawned + Duration::from_secs(10);
        loop {
            if let Ok(answer) = http::get(&server.address, "/__admin/health") {
                if answer.status == 200 && answer.text().contains(r#""status":"ok""#) {
                    server.to_first_answer = spawned.elapsed();
                    break;
                }
            }
            if Instant::now() > deadline {
                server.stop();
                bail!("{} did not answer its health check", binary.display());
            }
        }
        Ok(server)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak and current resident memory in KiB (`VmHWM`, `VmRSS`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        (field_kib(&status, "VmHWM"), field_kib(&status, "VmRSS"))
    }

    /// CPU time used so far (user + system), in clock ticks (`/proc/PID/stat`).
    pub fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // After the `(comm)` field: state is field 3, utime 14 and stime 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        field(11) + field(12)
    }

    /// SIGTERM, and its exit status if it exits within `within` (else it is killed: `None`).
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// Open file descriptors (`/proc/PID/fd`).
    pub fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, Iterator::count)
    }

    /// SIGTERM, then SIGKILL if it has not exited within 3 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// A `Name:   123 kB` field of a `/proc/*/status` file.
pub fn field_kib(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(':')?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_proc_status_field() {
        let status = "Name:\tx\nVmHWM:\t   10240 kB\nVmRSS:\t    8000 kB\n";
        assert_eq!(super::field_kib(status, "VmHWM"), 10240);
        assert_eq!(super::field_kib(status, "VmRSS"), 8000);
        assert_eq!(super::field_kib(status, "VmSwap"), 0);
    }
}
