//! Where log lines go: a buffer in memory that a flusher thread writes out in batches.
//!
//! The fake logs one line per request. Written straight to stderr that is one system call per
//! request, and through a channel to a logging thread (tracing-appender) one wake-up per line;
//! both showed in the profile of `cargo xtask bench`. Here a request appends its line to a
//! shared buffer under a lock, and a thread writes the whole buffer every
//! [`FLUSH_INTERVAL`] or as soon as it holds [`FLUSH_SIZE`] bytes. Nothing is dropped: past
//! [`BLOCK_SIZE`] the writer that overflows writes the buffer itself (the requests wait for
//! the log, as with a plain stderr), and dropping the [`FlushGuard`] writes what is left.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(25);
/// A buffer this large is written without waiting for the interval.
pub const FLUSH_SIZE: usize = 64 * 1024;
/// A buffer this large is written by the request that fills it.
pub const BLOCK_SIZE: usize = 4 * 1024 * 1024;

type Sink = Box<dyn Write + Send>;

struct Shared {
    buffer: Mutex<Vec<u8>>,
    sink: Mutex<Sink>,
    wake: Condvar,
    closed: Mutex<bool>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the buffer leaves bytes, not a broken invariant.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Writes out what the buffer holds. The sink's lock keeps batches in order.
    fn flush_buffer(&self) -> io::Result<()> {
        let mut sink = lock(&self.sink);
        let batch = std::mem::take(&mut *lock(&self.buffer));
        if !batch.is_empty() {
            sink.write_all(&batch)?;
        }
        sink.flush()
    }
}

/// A cloneable writer of log lines into the shared buffer; give it to
/// `tracing_subscriber::fmt().with_writer(move || writer.clone())`.
#[derive(Debug, Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the flusher thread when dropped.
#[derive(Debug)]
pub struct FlushGuard {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

impl BatchedWriter {
    /// A writer to standard error, and the guard that flushes it at exit.
    pub fn stderr() -> (BatchedWriter, FlushGuard) {
        BatchedWriter::to(Box::new(io::stderr()))
    }

    /// A writer to `sink`, and the guard that flushes it at exit.
    pub fn to(sink: Sink) -> (BatchedWriter, FlushGuard) {
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Vec::with_capacity(FLUSH_SIZE)),
            sink: Mutex::new(sink),
            wake: Condvar::new(),
            closed: Mutex::new(false),
        });
        let flusher = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("log-flusher".to_owned())
                .spawn(move || loop {
                    let closed = {
                        let closed = lock(&shared.closed);
                        if *closed {
                            true
                        } else {
                            let (closed, _) = shared
                                .wake
                                .wait_timeout(closed, FLUSH_INTERVAL)
                                .unwrap_or_else(PoisonError::into_inner);
                            *closed
                        }
                    };
                    // Logging has nowhere to report its own failure.
                    let _ = shared.flush_buffer();
                    if closed {
                        return;
                    }
                })
                .ok()
        };
        let writer = BatchedWriter {
            shared: Arc::clone(&shared),
        };
        (writer, FlushGuard { shared, flusher })
    }
}

impl Write for BatchedWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let held = {
            let mut buffer = lock(&self.shared.buffer);
            buffer.extend_from_slice(bytes);
            buffer.len()
        };
        if held >= BLOCK_SIZE {
            self.shared.flush_buffer()?;
        } else if held >= FLUSH_SIZE {
            self.shared.wake.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Batching is the point: an explicit flush waits for the flusher like any line.
        Ok(())
    }
}

impl FlushGuard {
    /// Writes out every line logged so far.
    pub fn flush(&self) -> io::Result<()> {
        self.shared.flush_buffer()
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        *lock(&self.shared.closed) = true;
        self.shared.wake.notify_one();
        match self.flusher.take() {
            Some(flusher) => {
                let _ = flusher.join();
            }
            // No thread could be started: write the buffer here.
            None => {
                let _ = self.shared.flush_buffer();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<Vec<u8>>>);

    impl Write for Collected {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_from_every_thread_is_written_once_the_guard_drops() {
        let collected = Collected::default();
        let (writer, guard) = BatchedWriter::to(Box::new(collected.clone()));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        writer
                            .write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(collected.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 20_000);
        for t in 0..4 {
            let own: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> =
                (0..5_000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(own, expected, "thread {t}'s lines, in order");
        }
    }

    #[test]
    fn lines_are_written_without_waiting_for_exit() {
        let collected = Collected::default();
        let (mut writer, _guard) = BatchedWriter::to(Box::new(collected.clone()));
        writer.write_all(b"one line\n").unwrap();
        // The flusher writes within its interval; poll well past it, without a ceiling
        // that a slow machine could miss.
        for _ in 0..1_000 {
            if !collected.0.lock().unwrap().is_empty() {
                break;
            }
            std::thread::sleep(FLUSH_INTERVAL);
        }
        assert_eq!(collected.0.lock().unwrap().as_slice(), b"one line\n");
    }
}
