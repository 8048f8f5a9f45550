//! Where log lines go: a buffer in memory that a flusher thread writes out in batches.
//!
//! The fake logs one line per request. Written straight to stderr that is one system call per
//! request, and through a channel to a logging thread (tracing-appender) one wake-up per line;
//! both showed in the profile of `cargo xtask bench`. Here a request appends its line to a
//! shared buffer under a lock, and a thread writes the whole buffer every
//! [`FLUSH_INTERVAL`] or as soon as it holds [`FLUSH_SIZE`] bytes. Logging never blocks
//! serving (issue 15): when stderr cannot keep up (a pipe nobody reads), the buffer stops at
//! [`BLOCK_SIZE`] and the lines that do not fit are dropped and counted (`LOG_LINES_DROPPED`,
//! shown by `/__admin/health` and at shutdown). Dropping the [`FlushGuard`] writes what is
//! left, waiting at most [`EXIT_WAIT`] for a sink that does not take it.

use std::cell::Cell;
use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::domain::datetime_text;
use crate::server::RequestLine;

/// How long a line may wait in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(25);
/// A buffer this large is written without waiting for the interval.
pub const FLUSH_SIZE: usize = 64 * 1024;
/// A buffer this large takes no more lines: they are dropped and counted.
pub const BLOCK_SIZE: usize = 4 * 1024 * 1024;
/// How long the guard waits at exit for the last lines to be written.
pub const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Lines dropped because the buffer was full, since the process started: the server's
/// counter, which `/__admin/health` shows.
use crate::server::LOG_LINES_DROPPED as DROPPED;

/// How many log lines were dropped because stderr did not take them in time.
#[cfg(test)]
fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

fn count_dropped(bytes: &[u8]) {
    let lines = memchr::memchr_iter(b'\n', bytes).count().max(1);
    DROPPED.fetch_add(lines as u64, Ordering::Relaxed);
}

type Sink = Box<dyn Write + Send>;

/// What the flusher writes with: the sink, and the buffer it last took, kept for its capacity.
struct Output {
    sink: Sink,
    spare: Vec<u8>,
}

struct Shared {
    buffer: Mutex<Vec<u8>>,
    output: Mutex<Output>,
    wake: Condvar,
    closed: Mutex<bool>,
    /// Set by the flusher when it has written its last batch and returns.
    finished: Mutex<bool>,
    done: Condvar,
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
    /// Writes out what the buffer holds. The output's lock keeps batches in order.
    ///
    /// The buffer is swapped with a spare one, and both keep their capacity: after start-up
    /// no line allocates, and no thread frees what another allocated (such frees contended
    /// on glibc's arena locks under load, issue 5).
    fn flush_buffer(&self) -> io::Result<()> {
        let mut output = lock(&self.output);
        let output = &mut *output;
        std::mem::swap(&mut *lock(&self.buffer), &mut output.spare);
        let written = if output.spare.is_empty() {
            Ok(())
        } else {
            output.sink.write_all(&output.spare)
        };
        output.spare.clear();
        // A burst may have grown it towards BLOCK_SIZE; give that back.
        output.spare.shrink_to(2 * FLUSH_SIZE);
        written.and(output.sink.flush())
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
            buffer: Mutex::new(Vec::with_capacity(2 * FLUSH_SIZE)),
            output: Mutex::new(Output {
                sink,
                spare: Vec::with_capacity(2 * FLUSH_SIZE),
            }),
            wake: Condvar::new(),
            closed: Mutex::new(false),
            finished: Mutex::new(false),
            done: Condvar::new(),
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
                        } else if lock(&shared.buffer).len() >= FLUSH_SIZE {
                            // The line that crossed the mark notified while this thread was
                            // writing the last batch: that wake-up is gone, the batch is due.
                            false
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
                        *lock(&shared.finished) = true;
                        shared.done.notify_all();
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

impl BatchedWriter {
    /// Appends the request's line as [`RequestLines`] writes the request event (no colours):
    /// what `main` hands to `server::log_request_lines_with` for the text format.
    pub fn write_request_line(&self, line: &RequestLine<'_>) {
        thread_local! {
            /// Each thread's line, kept for its capacity.
            static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        TEXT.with_borrow_mut(|text| {
            text.clear();
            request_line_text(line, text);
            self.append(text);
        });
    }

    fn append(&self, bytes: &[u8]) {
        let held = {
            let mut buffer = lock(&self.shared.buffer);
            if buffer.len() + bytes.len() > BLOCK_SIZE {
                // The sink does not keep up: the line goes, the request does not wait.
                drop(buffer);
                count_dropped(bytes);
                return;
            }
            buffer.extend_from_slice(bytes);
            buffer.len()
        };
        if held >= FLUSH_SIZE && held - bytes.len() < FLUSH_SIZE {
            // Once, by the line that crosses the mark: a notify is a system call, and every
            // line until the flusher ran used to make one.
            self.shared.wake.notify_one();
        }
    }
}

impl Write for BatchedWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.append(bytes);
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
                // Waits for the last batch, but not forever: a sink that takes nothing (a pipe
                // nobody reads) must not keep the process from exiting.
                let finished = lock(&self.shared.finished);
                let (finished, _) = self
                    .shared
                    .done
                    .wait_timeout_while(finished, EXIT_WAIT, |finished| !*finished)
                    .unwrap_or_else(PoisonError::into_inner);
                if *finished {
                    drop(finished);
                    let _ = flusher.join();
                } else {
                    count_dropped(&lock(&self.shared.buffer));
                }
            }
            // No thread could be started: write the buffer here.
            None => {
                let _ = self.shared.flush_buffer();
            }
        }
    }
}

/// The time at the start of a log line, exactly as tracing-subscriber's default
/// [`SystemTime`] writes it (`2026-11-28T07:28:31.123456Z`: RFC 3339, UTC, microseconds),
/// with the part up to the second formatted once a second per thread instead of on every
/// line: the default's calendar arithmetic and seven padded `write!`s showed in the profile
/// of every request (issue 5).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogTime;

thread_local! {
    /// The second last written on this thread, and its `yyyy-mm-ddThh:mm:ss`.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

impl FormatTime for LogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        match now_text() {
            // Only ASCII digits and separators were written.
            Some(text) => w.write_str(std::str::from_utf8(&text).unwrap_or_default()),
            None => SystemTime.format_time(w),
        }
    }
}

/// The time now as [`LogTime`] writes it, unless the clock is before 1970 or past 9999 (then
/// tracing-subscriber's own timer writes it).
fn now_text() -> Option<[u8; 27]> {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?;
    let seconds = since_epoch.as_secs();
    let prefix = SECOND.with(|second| {
        let (at, text) = second.get();
        if at == seconds {
            return Some(text);
        }
        let at = i64::try_from(seconds).ok()?;
        let formatted =
            datetime_text::DateTime(chrono::DateTime::from_timestamp(at, 0)?.naive_utc(), 'T')
                .to_string();
        // Years past 9999 take more room: the default writes those.
        let text: [u8; 19] = formatted.as_bytes().try_into().ok()?;
        second.set((seconds, text));
        Some(text)
    })?;
    let mut line = [0u8; 27];
    line[..19].copy_from_slice(&prefix);
    line[19] = b'.';
    datetime_text::digits(&mut line[20..26], since_epoch.subsec_micros());
    line[26] = b'Z';
    Some(line)
}

/// The target of the request event (`server::intercept`).
const REQUEST_TARGET: &str = "einvoice_mock::server::intercept";

/// `line` as [`RequestLines`] writes the request event, time and newline included.
fn request_line_text(line: &RequestLine<'_>, out: &mut Vec<u8>) {
    match now_text() {
        Some(time) => out.extend_from_slice(&time),
        None => {
            let mut time = String::new();
            if SystemTime.format_time(&mut Writer::new(&mut time)).is_err() {
                time = "<unknown time>".to_owned();
            }
            out.extend_from_slice(time.as_bytes());
        }
    }
    out.extend_from_slice(b"  INFO ");
    out.extend_from_slice(REQUEST_TARGET.as_bytes());
    out.extend_from_slice(b": request method=");
    out.extend_from_slice(line.method.as_bytes());
    out.extend_from_slice(b" path=");
    out.extend_from_slice(line.path.as_bytes());
    out.extend_from_slice(b" operation=");
    quoted(line.operation, out);
    out.extend_from_slice(b" status=");
    out.extend_from_slice(itoa::Buffer::new().format(line.status).as_bytes());
    out.extend_from_slice(b" verdict=");
    quoted(line.verdict, out);
    out.extend_from_slice(b" latency_ms=");
    millis_debug(line.latency_ms, out);
    out.push(b'\n');
}

/// `ms` as `{:?}` writes it, as the event's field: `0.5`, `12.0`. A latency is whole
/// microseconds (`intercept`'s `elapsed_ms`), written here from the integer: `{:?}` on the
/// float was a third of the line's cost. Any other value goes to `{:?}`.
fn millis_debug(ms: f64, out: &mut Vec<u8>) {
    let micros = (ms * 1000.0).round();
    if (0.0..=f64::from(u32::MAX)).contains(&micros) {
        // In range and integral: exact.
        let whole = micros as u32;
        // Only when the float is that many microseconds to the bit (and not, say, -0.0).
        if (f64::from(whole) / 1000.0).to_bits() == ms.to_bits() {
            let mut digits = itoa::Buffer::new();
            out.extend_from_slice(digits.format(whole / 1000).as_bytes());
            out.push(b'.');
            let fraction = whole % 1000;
            if fraction == 0 {
                out.push(b'0');
            } else {
                let three = [fraction / 100, fraction / 10 % 10, fraction % 10];
                let shown = if three[2] != 0 {
                    3
                } else if three[1] != 0 {
                    2
                } else {
                    1
                };
                out.extend(three[..shown].iter().map(|&d| b'0' + d as u8));
            }
            return;
        }
    }
    let _ = write!(out, "{ms:?}");
}

/// A string field as `{:?}` writes it (see [`PlainFields`]'s `record_str`).
fn quoted(value: &str, out: &mut Vec<u8>) {
    if is_plain(value) {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{value:?}");
    }
}

/// Whether `{:?}` writes `value` between quotes as it is.
fn is_plain(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// tracing-subscriber's default text format (`inner`), with a shorter way to the same bytes for
/// the one line logged per request (`intercept`'s `request` event): the default paints every
/// field name and `=` through its colour machinery and goes through `write!` for each piece,
/// about a tenth of the fake's own work per request (issue 5). Any other event, any event in a
/// span, and any line with colours goes to `inner`. [`BatchedWriter::write_request_line`]
/// writes the same line without the event; a test checks that the three write the same bytes.
#[derive(Debug, Clone)]
pub struct RequestLines<F, T> {
    inner: F,
    timer: T,
}

impl<F, T> RequestLines<F, T> {
    /// `inner` for every other line; `timer` must be the one `inner` uses.
    pub fn new(inner: F, timer: T) -> RequestLines<F, T> {
        RequestLines { inner, timer }
    }
}

/// Whether `metadata` is the per-request line (see `server::intercept::log_request`).
fn is_request_line(metadata: &Metadata<'_>) -> bool {
    const FIELDS: [&str; 7] = [
        "message",
        "method",
        "path",
        "operation",
        "status",
        "verdict",
        "latency_ms",
    ];
    *metadata.level() == Level::INFO
        && metadata.target() == REQUEST_TARGET
        && metadata.fields().len() == FIELDS.len()
        && metadata
            .fields()
            .iter()
            .zip(FIELDS)
            .all(|(field, name)| field.name() == name)
}

impl<S, N, F, T> FormatEvent<S, N> for RequestLines<F, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if writer.has_ansi_escapes()
            || !is_request_line(event.metadata())
            || ctx.event_scope().is_some()
        {
            return self.inner.format_event(ctx, writer, event);
        }
        if self.timer.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str("  INFO ")?;
        writer.write_str(event.metadata().target())?;
        writer.write_str(": ")?;
        let mut fields = PlainFields {
            writer: writer.by_ref(),
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// The fields as tracing-subscriber's `DefaultFields` writes them without colours: the
/// message as is, then ` name=value` with each value as `Debug` writes it.
struct PlainFields<'a> {
    writer: Writer<'a>,
    first: bool,
    result: std::fmt::Result,
}

impl PlainFields<'_> {
    fn name(&mut self, field: &Field) {
        if self.result.is_err() {
            return;
        }
        if !std::mem::take(&mut self.first) {
            self.result = self.writer.write_char(' ');
        }
        if field.name() != "message" {
            self.result = self
                .result
                .and_then(|()| self.writer.write_str(field.name()))
                .and_then(|()| self.writer.write_char('='));
        }
    }
}

impl Visit for PlainFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.name(field);
        // What `{:?}` writes for a string that needs no escape, without going through it.
        self.result = self.result.and_then(|()| {
            if is_plain(value) {
                self.writer.write_char('"')?;
                self.writer.write_str(value)?;
                self.writer.write_char('"')
            } else {
                write!(self.writer, "{value:?}")
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.name(field);
        self.result = self.result.and_then(|()| write!(self.writer, "{value:?}"));
    }
}

/// Everything written to it, kept in memory: a sink and a `MakeWriter` for tests.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Collected(Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Collected {
    /// What was written so far, as text (it must be UTF-8).
    #[allow(clippy::unwrap_used)]
    pub(crate) fn text(&self) -> String {
        String::from_utf8(lock(&self.0).clone()).unwrap()
    }
}

#[cfg(test)]
impl Write for Collected {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Collected {
    type Writer = Collected;
    fn make_writer(&'a self) -> Collected {
        self.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
        let text = collected.text();
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

    /// A sink that takes nothing until told to: stderr on a pipe nobody reads.
    struct Stuck(Arc<(Mutex<bool>, Condvar)>);

    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            let (open, wake) = &*self.0;
            let mut open = lock(open);
            while !*open {
                open = wake.wait(open).unwrap();
            }
            Err(io::Error::other("closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_sink_that_takes_nothing_neither_blocks_the_writers_nor_the_exit_and_drops_are_counted() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (mut writer, guard) = BatchedWriter::to(Box::new(Stuck(Arc::clone(&gate))));
        let before = dropped_lines();
        let line = vec![b'x'; 1023];
        let writing = std::thread::spawn(move || {
            // 12 MiB of lines: three times what the buffer holds, and the flusher is stuck.
            for _ in 0..12 * 1024 {
                writer.write_all(&line).unwrap();
                writer.write_all(b"\n").unwrap();
            }
        });
        // Generous: the writes are memory copies; a blocked writer would never finish.
        for _ in 0..600 {
            if writing.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(writing.is_finished(), "writers blocked on a stuck sink");
        writing.join().unwrap();
        assert!(
            dropped_lines() - before >= 4 * 1024,
            "{}",
            dropped_lines() - before
        );
        let exiting = std::thread::spawn(move || drop(guard));
        for _ in 0..600 {
            if exiting.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(exiting.is_finished(), "the guard waited for ever");
        let (open, wake) = &*gate;
        *lock(open) = true;
        wake.notify_all();
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

    #[test]
    fn a_flush_keeps_the_buffers_but_gives_back_a_burst() {
        let collected = Collected::default();
        let (mut writer, guard) = BatchedWriter::to(Box::new(collected.clone()));
        let capacities = |writer: &BatchedWriter| {
            let buffer = lock(&writer.shared.buffer).capacity();
            let spare = lock(&writer.shared.output).spare.capacity();
            (buffer, spare)
        };
        writer.write_all(b"one line\n").unwrap();
        guard.flush().unwrap();
        let (buffer, spare) = capacities(&writer);
        assert!(
            buffer >= FLUSH_SIZE && spare >= FLUSH_SIZE,
            "{buffer} {spare}"
        );

        writer.write_all(&vec![b'x'; 3 * FLUSH_SIZE]).unwrap();
        guard.flush().unwrap();
        guard.flush().unwrap();
        let (buffer, spare) = capacities(&writer);
        assert!(
            buffer < 3 * FLUSH_SIZE && spare < 3 * FLUSH_SIZE,
            "{buffer} {spare}"
        );
        assert_eq!(collected.0.lock().unwrap().len(), 9 + 3 * FLUSH_SIZE);
    }

    #[test]
    fn log_time_writes_what_the_default_timer_writes() {
        let write = |timer: &dyn FormatTime| {
            let mut text = String::new();
            timer.format_time(&mut Writer::new(&mut text)).unwrap();
            text
        };
        // Twice, so that the second one comes from the cache.
        for _ in 0..2 {
            let (before, ours, after) = (write(&SystemTime), write(&LogTime), write(&SystemTime));
            assert_eq!(ours.len(), before.len(), "{ours} vs {before}");
            // Same layout, and between the two default readings.
            assert!(
                before <= ours && ours <= after,
                "{before} <= {ours} <= {after}"
            );
            for (i, (a, b)) in ours.bytes().zip(before.bytes()).enumerate() {
                assert_eq!(
                    a.is_ascii_digit(),
                    b.is_ascii_digit(),
                    "byte {i}: {ours} vs {before}"
                );
            }
        }
    }

    /// What a subscriber with `format` writes for the request event of `line`, emitted by
    /// `server::intercept` itself.
    fn event_line<F>(line: &RequestLine<'_>, format: F) -> String
    where
        F: FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    {
        let collected = Collected::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(collected.clone())
            .with_ansi(false)
            .event_format(format)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            crate::server::emit_request_event(line);
        });
        collected.text()
    }

    proptest::proptest! {
        #[test]
        fn a_latency_is_written_as_debug_writes_the_float(
            micros in proptest::prelude::any::<u32>(),
            other in proptest::prelude::any::<f64>(),
        ) {
            for ms in [f64::from(micros) / 1000.0, other, -f64::from(micros) / 1000.0] {
                let mut written = Vec::new();
                millis_debug(ms, &mut written);
                proptest::prop_assert_eq!(String::from_utf8(written).unwrap(), format!("{ms:?}"));
            }
        }
    }

    /// A line without its time, which the three take at different moments.
    fn after_time(line: &str) -> &str {
        &line[line.find("  INFO ").unwrap()..]
    }

    #[test]
    fn the_request_line_is_written_alike_by_the_default_format_the_event_shortcut_and_the_direct_writer(
    ) {
        let lines = [
            RequestLine {
                method: "POST",
                path: "/api/rest/Timbre/saldos",
                operation: "saldos",
                status: 200,
                verdict: "conforms",
                latency_ms: 0.123,
            },
            RequestLine {
                method: "GET",
                path: "/a path/with \"quotes\"/ñ",
                operation: "-",
                status: 404,
                verdict: "unknown",
                latency_ms: 12.0,
            },
            RequestLine {
                method: "DELETE",
                path: "/",
                operation: "say \"hi\"\tñ",
                status: 65535,
                verdict: "violates",
                latency_ms: 4_294_967.295,
            },
            RequestLine {
                method: "POST",
                path: "/api/radian/acuse_recibo_fev",
                operation: "acuse_recibo_fev",
                status: 400,
                verdict: "violates",
                latency_ms: 0.0,
            },
        ];
        for line in &lines {
            let default = event_line(line, tracing_subscriber::fmt::format().with_timer(LogTime));
            let shortcut = event_line(
                line,
                RequestLines::new(
                    tracing_subscriber::fmt::format().with_timer(LogTime),
                    LogTime,
                ),
            );
            let mut direct = Vec::new();
            request_line_text(line, &mut direct);
            let direct = String::from_utf8(direct).unwrap();
            assert!(
                default.ends_with('\n') && default.lines().count() == 1,
                "{default}"
            );
            assert_eq!(after_time(&shortcut), after_time(&default));
            assert_eq!(after_time(&direct), after_time(&default));
            // The time is LogTime's in all three.
            assert_eq!(direct.find("  INFO "), default.find("  INFO "));
        }
    }
}
