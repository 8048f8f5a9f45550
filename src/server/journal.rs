//! The request journal: every request the fake received, with its contract verdict.
//!
//! Two bounded rings share their entries: the most recent requests, and the most recent
//! requests that broke the contract, so that a burst of conforming traffic does not push a
//! violation out of `/__admin/violations`. The totals count every request, kept or not.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::sync::Arc;

use axum::http::Method;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::coverage::{Coverage, CoverageReport};
use super::scenarios::Fault;
use super::webhooks::WebhookDelivery;
use crate::contract::Operation;
use crate::respond::Finding;

/// The nearest documented operation to a request that matched none, and what differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMiss {
    /// The operation it most resembles.
    pub operation: Operation,
    /// `POST /api/…` of that operation.
    pub expected: String,
    /// What differs: path, method, content type.
    pub differences: Vec<String>,
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Sequence number, from 1.
    pub id: u64,
    /// When it was received (serialized as RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339")]
    pub received_at: DateTime<Utc>,
    /// HTTP method.
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    /// Path.
    pub path: String,
    /// The documented operation, if the path names one.
    pub operation: Option<Operation>,
    /// The Bearer token or `RCApiKey`, all but its last 4 characters masked.
    pub credential: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// `conforms`, `violates`, or `unknown` (no documented operation).
    pub verdict: Verdict,
    /// The contract findings: the first [`MAX_FINDINGS_KEPT`] of them.
    pub violations: Vec<Finding>,
    /// How many findings past the first [`MAX_FINDINGS_KEPT`] were not kept.
    #[serde(skip_serializing_if = "is_zero")]
    pub findings_omitted: usize,
    /// The answer's HTTP status (0 when the connection was dropped by a fault).
    pub status: u16,
    /// The armed scenario that answered, if any.
    pub scenario: Option<u64>,
    /// For requests matching no operation: the nearest one.
    pub near_miss: Option<NearMiss>,
    /// Time to answer, in milliseconds.
    pub duration_ms: f64,
    /// The request body as text (lossy UTF-8, cut at 64 KiB).
    pub body: String,
    /// The request headers, credentials masked (all but their last 4 characters).
    pub headers: Vec<(String, String)>,
    /// The fault an armed scenario applied to the answer, if any (`status` is still the real
    /// one; 0 when the connection was dropped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// What answered instead of the provider: the fake itself refusing the body
    /// (`request_timeout`, `payload_too_large`, `malformed_body`), or `upstream_error` behind
    /// the proxy when the real provider could not be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<&'static str>,
}

/// The findings a journal entry keeps (and so a JUnit case, and the journal page): the rest
/// are counted in `findings_omitted`, so that one request cannot fill the journal.
pub const MAX_FINDINGS_KEPT: usize = 50;

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// What the journal concluded of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A documented operation, asked as documented.
    Conforms,
    /// A documented operation, asked otherwise (or answered with drift, behind the proxy).
    Violates,
    /// No documented operation on that path.
    Unknown,
}

impl Verdict {
    /// `conforms`, `violates` or `unknown`, as the journal and the logs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Conforms => "conforms",
            Verdict::Violates => "violates",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Compared with its text, as the journal's JSON writes it.
impl PartialEq<&str> for Verdict {
    fn eq(&self, text: &&str) -> bool {
        self.as_str() == *text
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Totals over every request since the last reset, including those dropped from the journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Requests received.
    pub requests: u64,
    /// Requests that conform to the contract.
    pub conforming: u64,
    /// Requests that break it (including unknown operations).
    pub violating: u64,
    /// Findings in all.
    pub violations: u64,
}

fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.to_rfc3339())
}

fn method_name<S: Serializer>(method: &Method, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
}

impl JournalEntry {
    /// A `POST` to `path` answered 200, with nothing else recorded: for tests.
    #[cfg(test)]
    pub(crate) fn for_test(
        path: &str,
        operation: Option<Operation>,
        verdict: Verdict,
    ) -> JournalEntry {
        JournalEntry {
            id: 0,
            received_at: DateTime::<Utc>::UNIX_EPOCH,
            method: Method::POST,
            path: path.to_owned(),
            operation,
            credential: None,
            content_type: None,
            verdict,
            violations: Vec::new(),
            findings_omitted: 0,
            status: 200,
            scenario: None,
            near_miss: None,
            duration_ms: 0.0,
            body: String::new(),
            headers: Vec::new(),
            fault: None,
            refusal: None,
        }
    }

    /// Whether the request conforms to the contract.
    pub fn conforms(&self) -> bool {
        self.verdict == Verdict::Conforms
    }
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    recent: VecDeque<Arc<JournalEntry>>,
    violating: VecDeque<Arc<JournalEntry>>,
    capacity: usize,
    deliveries: VecDeque<WebhookDelivery>,
    next_id: u64,
    summary: Summary,
    lifetime: Summary,
    junit: Option<JunitSpool>,
    coverage: Coverage,
    upstream_errors: u64,
}

/// How many test cases a JUnit report holds, and how many of them failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JunitCounts {
    /// Test cases: requests.
    pub tests: u64,
    /// Failed test cases: requests that broke the contract.
    pub failures: u64,
}

/// Where `serve --junit` writes each request's test case as it is recorded: the report at
/// shutdown covers every request, not only those the rings still keep, in bounded memory.
struct JunitSpool {
    sink: Box<dyn io::Write + Send>,
    counts: JunitCounts,
    /// Bytes of test cases written so far.
    bytes: u64,
    /// The first write that failed; reported when the spool is finished.
    failed: Option<io::Error>,
}

impl std::fmt::Debug for JunitSpool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JunitSpool")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Default for Journal {
    fn default() -> Self {
        Journal::with_capacity(crate::config::DEFAULT_JOURNAL_CAPACITY)
    }
}

impl Journal {
    /// A journal whose rings keep `capacity` entries each (at least 1).
    pub fn with_capacity(capacity: usize) -> Journal {
        Journal {
            recent: VecDeque::new(),
            violating: VecDeque::new(),
            capacity: capacity.max(1),
            deliveries: VecDeque::new(),
            next_id: 0,
            summary: Summary::default(),
            lifetime: Summary::default(),
            junit: None,
            coverage: Coverage::new(),
            upstream_errors: 0,
        }
    }

    /// Records an entry, assigning its id.
    pub fn record(&mut self, mut entry: JournalEntry) -> u64 {
        mask_urls(&mut entry);
        self.next_id += 1;
        entry.id = self.next_id;
        self.summary.count(&entry);
        self.lifetime.count(&entry);
        if entry.refusal == Some(UPSTREAM_ERROR) {
            self.upstream_errors += 1;
        }
        if let Some(spool) = &mut self.junit {
            spool.write(&entry);
        }
        let entry = Arc::new(entry);
        if !entry.conforms() {
            push_bounded(&mut self.violating, Arc::clone(&entry), self.capacity);
        }
        push_bounded(&mut self.recent, entry, self.capacity);
        self.next_id
    }

    /// The most recent requests, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &JournalEntry> {
        self.recent.iter().map(Arc::as_ref)
    }

    /// The most recent requests that broke the contract, oldest first (kept even when
    /// newer conforming requests pushed them out of [`Journal::entries`]).
    pub fn violations(&self) -> impl Iterator<Item = &JournalEntry> {
        self.violating.iter().map(Arc::as_ref)
    }

    /// Every kept entry, recent and violating, once each, oldest first.
    fn kept(&self) -> Vec<&JournalEntry> {
        let mut kept: Vec<&JournalEntry> = self.entries().chain(self.violations()).collect();
        kept.sort_by_key(|e| e.id);
        kept.dedup_by_key(|e| e.id);
        kept
    }

    /// How many entries each ring keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The totals since start or the last [`Journal::clear`].
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The totals since start, which [`Journal::clear`] leaves alone: what
    /// `serve --fail-on-violation` judges (a reset between test suites must not hide a
    /// violation from the CI gate).
    pub fn lifetime(&self) -> Summary {
        self.lifetime
    }

    /// From now on, writes every recorded request as a JUnit test case to `sink` (`serve
    /// --junit`). Clearing the journal does not stop it.
    pub fn spool_junit(&mut self, sink: Box<dyn io::Write + Send>) {
        self.junit = Some(JunitSpool {
            sink,
            counts: JunitCounts::default(),
            bytes: 0,
            failed: None,
        });
    }

    /// Flushes the spool: its counts and how many bytes of test cases it holds, for a
    /// complete report written beside it (`serve --junit` rewrites the report from these while
    /// it runs). `None` when nothing is spooled.
    pub fn junit_checkpoint(&mut self) -> Option<io::Result<(JunitCounts, u64)>> {
        let spool = self.junit.as_mut()?;
        if let Some(error) = &spool.failed {
            return Some(Err(io::Error::new(error.kind(), error.to_string())));
        }
        Some(spool.sink.flush().map(|()| (spool.counts, spool.bytes)))
    }

    /// Contract coverage since start or the last reset.
    pub fn coverage(&self) -> CoverageReport {
        self.coverage.report()
    }

    /// The coverage counters, for `intercept`.
    pub fn coverage_mut(&mut self) -> &mut Coverage {
        &mut self.coverage
    }

    /// Requests the proxy answered 502 because the provider could not be reached or failed
    /// (counted apart from drift; not contract violations), since start.
    pub fn upstream_errors(&self) -> u64 {
        self.upstream_errors
    }

    /// [`Journal::clear`], and the coverage counters too (`POST /__admin/reset`).
    pub fn reset(&mut self) {
        self.clear();
        self.coverage.clear();
    }

    /// Stops spooling: flushes the sink and returns what it holds, or the first write error.
    /// `None` when nothing was spooled.
    pub fn finish_junit(&mut self) -> Option<io::Result<JunitCounts>> {
        let mut spool = self.junit.take()?;
        Some(match spool.failed.take() {
            Some(error) => Err(error),
            None => spool.sink.flush().map(|()| spool.counts),
        })
    }

    /// Records a webhook delivery attempt.
    pub fn record_delivery(&mut self, delivery: WebhookDelivery) {
        push_bounded(&mut self.deliveries, delivery, self.capacity);
    }

    /// The webhook delivery attempts, oldest first.
    pub fn deliveries(&self) -> impl Iterator<Item = &WebhookDelivery> {
        self.deliveries.iter()
    }

    /// Empties the journal and its totals, except [`Journal::lifetime`] and the JUnit spool.
    pub fn clear(&mut self) {
        self.recent.clear();
        self.violating.clear();
        self.deliveries.clear();
        self.summary = Summary::default();
    }

    /// A JUnit XML report: one test case per kept request, failed when it broke the
    /// contract.
    pub fn junit(&self) -> String {
        let kept = self.kept();
        let mut cases = String::new();
        for entry in &kept {
            junit_case(&mut cases, entry);
        }
        let counts = JunitCounts {
            tests: kept.len() as u64,
            failures: kept.iter().filter(|e| !e.conforms()).count() as u64,
        };
        let properties = junit_properties(&self.coverage.report());
        format!(
            "{}{cases}{JUNIT_TAIL}",
            junit_head_with(counts, &properties)
        )
    }
}

impl Summary {
    fn count(&mut self, entry: &JournalEntry) {
        self.requests += 1;
        if entry.conforms() {
            self.conforming += 1;
        } else {
            self.violating += 1;
            self.violations += (entry.violations.len() + entry.findings_omitted).max(1) as u64;
        }
    }
}

impl JunitSpool {
    fn write(&mut self, entry: &JournalEntry) {
        if self.failed.is_some() {
            return;
        }
        let mut case = String::new();
        junit_case(&mut case, entry);
        match self.sink.write_all(case.as_bytes()) {
            Ok(()) => {
                self.bytes += case.len() as u64;
                self.counts.tests += 1;
                self.counts.failures += u64::from(!entry.conforms());
            }
            Err(error) => self.failed = Some(error),
        }
    }
}

/// A JUnit report up to its first test case.
pub fn junit_head(counts: JunitCounts) -> String {
    junit_head_with(counts, "")
}

/// A JUnit report up to its first test case, with `properties` (a `<properties>` element, or
/// nothing) first in the test suite.
pub fn junit_head_with(counts: JunitCounts, properties: &str) -> String {
    let JunitCounts { tests, failures } = counts;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"einvoice-mock\" tests=\"{tests}\" failures=\"{failures}\">\n  \
         <testsuite name=\"contract\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{properties}"
    )
}

/// Contract coverage as the test suite's `<properties>`: the totals, then per operation the
/// answers received and fields sent (`coverage.acuse_recibo_fev.answers` = `3/10`) and the
/// answers never received.
pub fn junit_properties(report: &CoverageReport) -> String {
    let mut xml = String::from("    <properties>\n");
    let mut property = |name: &str, value: &str| {
        let _ = writeln!(
            xml,
            "      <property name=\"{}\" value=\"{}\"/>",
            escape(name),
            escape(value)
        );
    };
    property("coverage.percent", &report.percent.to_string());
    property("coverage.covered", &report.covered.to_string());
    property("coverage.documented", &report.documented.to_string());
    for op in &report.operations {
        let name = op.operation.name();
        let hit = op.responses.iter().filter(|r| r.hits > 0).count();
        let sent = op.fields.iter().filter(|f| f.sent > 0).count();
        property(
            &format!("coverage.{name}.answers"),
            &format!("{hit}/{}", op.responses.len()),
        );
        property(
            &format!("coverage.{name}.fields"),
            &format!("{sent}/{}", op.fields.len()),
        );
        let never: Vec<&str> = op
            .responses
            .iter()
            .filter(|r| r.hits == 0)
            .map(|r| r.code)
            .collect();
        property(&format!("coverage.{name}.never_answered"), &never.join(","));
    }
    xml.push_str("    </properties>\n");
    xml
}

/// [`JournalEntry::refusal`] of a request the proxy could not forward.
pub const UPSTREAM_ERROR: &str = "upstream_error";

/// A JUnit report after its last test case.
pub const JUNIT_TAIL: &str = "  </testsuite>\n</testsuites>\n";

/// One request as a JUnit test case, failed when it broke the contract.
fn junit_case(xml: &mut String, entry: &JournalEntry) {
    let class = entry.operation.map_or("unknown", Operation::name);
    let _ = write!(
        xml,
        "    <testcase classname=\"{}\" name=\"#{} {} {} → {}\" time=\"{:.3}\"",
        escape(class),
        entry.id,
        escape(entry.method.as_str()),
        escape(&entry.path),
        entry.status,
        entry.duration_ms / 1000.0
    );
    if entry.conforms() {
        xml.push_str("/>\n");
        return;
    }
    xml.push_str(">\n");
    let mut details = String::new();
    for finding in &entry.violations {
        let _ = writeln!(
            details,
            "{} [{}]: {}",
            finding.location, finding.rule, finding.message
        );
    }
    if let Some(near) = &entry.near_miss {
        let _ = writeln!(
            details,
            "nearest documented operation: {} ({})",
            near.expected,
            near.differences.join("; ")
        );
    }
    if entry.findings_omitted > 0 {
        let _ = writeln!(
            details,
            "… and {} more finding(s), not kept",
            entry.findings_omitted
        );
    }
    let _ = writeln!(
        xml,
        "      <failure message=\"{} contract violation(s)\" type=\"contract\">{}</failure>",
        (entry.violations.len() + entry.findings_omitted).max(1),
        escape(&details)
    );
    xml.push_str("    </testcase>\n");
}

fn push_bounded<T>(ring: &mut VecDeque<T>, item: T, capacity: usize) {
    if ring.len() == capacity {
        ring.pop_front();
    }
    ring.push_back(item);
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// How much of a request's path the journal keeps (a 60 KiB path would cost 60 KiB per kept
/// entry).
const JOURNAL_PATH_LIMIT: usize = 4096;

/// Credentials in URLs (a webhook's `user:password@`) masked in what the journal keeps: the
/// body and the findings, which quote the values they judge (issue 15). Long paths are cut.
fn mask_urls(entry: &mut JournalEntry) {
    use super::webhooks::mask_userinfo;
    use std::borrow::Cow;
    let kept = prefix(&entry.path, JOURNAL_PATH_LIMIT).len();
    if kept < entry.path.len() {
        // A new string: `truncate` would keep the whole capacity.
        entry.path = format!("{}…", &entry.path[..kept]);
    }
    if let Cow::Owned(masked) = mask_userinfo(&entry.body) {
        entry.body = masked;
    }
    for finding in &mut entry.violations {
        if let Cow::Owned(masked) = mask_userinfo(&finding.message) {
            finding.message = masked;
        }
    }
}

/// How much of an unknown path the near-miss search compares: the longest documented path and
/// then some. A path longer than that is not near any of them anyway, and comparing all of a
/// 60 KiB path cost 46 ms of CPU per request (issue 15).
pub const NEAR_MISS_PREFIX: usize = 64;

/// How much of an unknown path a near miss quotes.
const NEAR_MISS_QUOTE: usize = 256;

/// The nearest documented operation to a request that matched none.
pub fn near_miss(method: &str, path: &str, content_type: Option<&str>) -> NearMiss {
    let lowered = prefix(path, NEAR_MISS_PREFIX).to_ascii_lowercase();
    let operation = Operation::ALL
        .into_iter()
        .min_by_key(|op| edit_distance(&lowered, &op.path().to_ascii_lowercase()))
        .unwrap_or(Operation::AcuseReciboFev);
    let mut differences = Vec::new();
    if path != operation.path() {
        let quoted = prefix(path, NEAR_MISS_QUOTE);
        let more = if quoted.len() < path.len() { "…" } else { "" };
        differences.push(format!(
            "path `{quoted}{more}` instead of `{}`",
            operation.path()
        ));
    }
    if method != "POST" {
        differences.push(format!("method {method} instead of POST"));
    }
    let expected_type = if operation.is_form() {
        "multipart/form-data"
    } else {
        "application/json"
    };
    let media = content_type
        .and_then(|t| t.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    let accepted = media.eq_ignore_ascii_case(expected_type)
        || (operation.is_form() && media.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !accepted {
        differences.push(format!(
            "Content-Type `{}` instead of {expected_type}",
            if media.is_empty() { "(none)" } else { media }
        ));
    }
    NearMiss {
        operation,
        expected: format!("POST {}", operation.path()),
        differences,
    }
}

/// The first `chars` characters of `text`.
fn prefix(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(end, _)| &text[..end])
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_60_kib_unknown_path_is_compared_by_its_prefix_only() {
        let path = format!("/api/rest/Timbre/saldo{}", "x".repeat(60 * 1024));
        let started = std::time::Instant::now();
        let near = near_miss("POST", &path, Some("application/json"));
        // Generous: bounded work takes microseconds; the whole path took 46 ms in release.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(near.operation, Operation::Saldos);
        let bounded = near_miss(
            "POST",
            prefix(&path, NEAR_MISS_PREFIX),
            Some("application/json"),
        );
        assert_eq!(near.operation, bounded.operation);
        assert!(near.differences[0].len() < 400, "{}", near.differences[0]);
        assert!(near.differences[0].contains('…'));
    }

    #[test]
    fn a_misspelled_path_is_nearest_to_the_operation_it_resembles() {
        let near = near_miss(
            "POST",
            "/api/radian/acuse_recibo",
            Some("multipart/form-data; boundary=x"),
        );
        assert_eq!(near.operation, Operation::AcuseReciboFev);
        assert_eq!(near.differences.len(), 1, "{near:?}");
        let near = near_miss("GET", "/api/rest/timbre/saldo", None);
        assert_eq!(near.operation, Operation::Saldos);
        assert_eq!(near.differences.len(), 3, "{near:?}");
    }

    fn entry(verdict: Verdict) -> JournalEntry {
        JournalEntry::for_test(Operation::Saldos.path(), Some(Operation::Saldos), verdict)
    }

    #[test]
    fn a_violation_outlives_the_conforming_traffic_that_follows_it() {
        let mut journal = Journal::with_capacity(3);
        let violating = journal.record(entry(Verdict::Violates));
        for _ in 0..10 {
            journal.record(entry(Verdict::Conforms));
        }
        let recent: Vec<u64> = journal.entries().map(|e| e.id).collect();
        assert_eq!(recent, [9, 10, 11]);
        let kept: Vec<u64> = journal.violations().map(|e| e.id).collect();
        assert_eq!(kept, [violating]);
        assert_eq!(journal.summary().requests, 11);
        assert_eq!(journal.summary().violating, 1);
        let junit = journal.junit();
        assert!(junit.contains("tests=\"4\" failures=\"1\""), "{junit}");
    }

    #[test]
    fn clearing_keeps_the_lifetime_totals_and_the_junit_spool_of_every_request() {
        #[derive(Clone, Default)]
        struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
        impl io::Write for Shared {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let spooled = Shared::default();
        let mut journal = Journal::with_capacity(1);
        journal.spool_junit(Box::new(spooled.clone()));
        journal.record(entry(Verdict::Violates));
        journal.record(entry(Verdict::Conforms));
        journal.clear();
        journal.record(entry(Verdict::Conforms));
        assert_eq!(journal.summary().requests, 1);
        assert_eq!(
            (journal.lifetime().requests, journal.lifetime().violating),
            (3, 1)
        );
        let counts = journal.finish_junit().unwrap().unwrap();
        assert_eq!(
            counts,
            JunitCounts {
                tests: 3,
                failures: 1
            }
        );
        let cases = String::from_utf8(spooled.0.lock().unwrap().clone()).unwrap();
        let names: Vec<&str> = cases
            .lines()
            .filter_map(|l| l.split("name=\"#").nth(1)?.split(' ').next())
            .collect();
        assert_eq!(names, ["1", "2", "3"], "{cases}");
        assert!(journal.finish_junit().is_none(), "finished once");
    }

    #[test]
    fn junit_escapes_what_xml_cannot_hold() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
