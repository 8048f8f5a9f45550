//! The request journal: every request the fake received, with its contract verdict.

use std::collections::VecDeque;
use std::fmt::Write as _;

use serde::Serialize;

use super::verify::Finding;
use super::webhooks::WebhookDelivery;
use crate::contract::Operation;

/// How many entries are kept; older ones are dropped (the counters keep counting).
pub const JOURNAL_CAPACITY: usize = 10_000;

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
    /// When it was received (RFC 3339, UTC).
    pub received_at: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// The documented operation, if the path names one.
    pub operation: Option<Operation>,
    /// The Bearer token or `RCApiKey`, all but its last 4 characters masked.
    pub credential: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// `conforms`, `violates`, or `unknown` (no documented operation).
    pub verdict: &'static str,
    /// Every contract finding.
    pub violations: Vec<Finding>,
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

/// The journal.
#[derive(Debug, Default)]
pub struct Journal {
    entries: VecDeque<JournalEntry>,
    deliveries: Vec<WebhookDelivery>,
    next_id: u64,
    summary: Summary,
}

impl Journal {
    /// Records an entry, assigning its id.
    pub fn record(&mut self, mut entry: JournalEntry) -> u64 {
        self.next_id += 1;
        entry.id = self.next_id;
        self.summary.requests += 1;
        if entry.verdict == "conforms" {
            self.summary.conforming += 1;
        } else {
            self.summary.violating += 1;
            self.summary.violations += entry.violations.len().max(1) as u64;
        }
        if self.entries.len() == JOURNAL_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        self.next_id
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &JournalEntry> {
        self.entries.iter()
    }

    /// The totals.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// Records a webhook delivery attempt.
    pub fn record_delivery(&mut self, delivery: WebhookDelivery) {
        if self.deliveries.len() == JOURNAL_CAPACITY {
            self.deliveries.remove(0);
        }
        self.deliveries.push(delivery);
    }

    /// The webhook delivery attempts, oldest first.
    pub fn deliveries(&self) -> &[WebhookDelivery] {
        &self.deliveries
    }

    /// Empties the journal and its totals.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.deliveries.clear();
        self.summary = Summary::default();
    }

    /// A JUnit XML report: one test case per request, failed when it broke the contract.
    pub fn junit(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"einvoice-mock\" tests=\"{}\" failures=\"{}\">",
            self.entries.len(),
            self.entries
                .iter()
                .filter(|e| e.verdict != "conforms")
                .count()
        );
        let _ = writeln!(
            xml,
            "  <testsuite name=\"contract\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            self.entries.len(),
            self.entries.iter().filter(|e| e.verdict != "conforms").count()
        );
        for entry in &self.entries {
            let class = entry.operation.map_or("unknown", Operation::name);
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"#{} {} {} → {}\" time=\"{:.3}\"",
                escape(class),
                entry.id,
                escape(&entry.method),
                escape(&entry.path),
                entry.status,
                entry.duration_ms / 1000.0
            );
            if entry.verdict == "conforms" {
                xml.push_str("/>\n");
                continue;
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
            let _ = writeln!(
                xml,
                "      <failure message=\"{} contract violation(s)\" type=\"contract\">{}</failure>",
                entry.violations.len().max(1),
                escape(&details)
            );
            xml.push_str("    </testcase>\n");
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }
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

/// The nearest documented operation to a request that matched none.
pub fn near_miss(method: &str, path: &str, content_type: Option<&str>) -> NearMiss {
    let lowered = path.to_ascii_lowercase();
    let operation = Operation::ALL
        .into_iter()
        .min_by_key(|op| edit_distance(&lowered, &op.path().to_ascii_lowercase()))
        .unwrap_or(Operation::AcuseReciboFev);
    let mut differences = Vec::new();
    if path != operation.path() {
        differences.push(format!("path `{path}` instead of `{}`", operation.path()));
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

    #[test]
    fn junit_escapes_what_xml_cannot_hold() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
