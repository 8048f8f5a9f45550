//! The request journal: every request the fake received, with its contract verdict.
//!
//! Two bounded rings share their entries: the most recent requests, and the most recent
//! requests that broke the contract, so that a burst of conforming traffic does not push a
//! violation out of `/__admin/violations`. The totals count every request, kept or not.
//!
//! Each ring is bounded by a count and by bytes: what an entry costs is what a read writes of
//! it (its JSON), so that no byte a client sends, however it escapes, is written more than once
//! per read. What a client sent is kept as raw bytes ([`Raw`]) and rendered only when read.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, OnceLock};

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
    /// The request body as sent, cut at 64 KiB and at the entry's byte budget.
    pub body: Raw,
    /// The request headers, credentials masked (all but their last 4 characters), values as
    /// sent, cut at the entry's byte budget.
    pub headers: Headers,
    /// Bytes of the request's headers and body the journal did not keep (past the 64 KiB body
    /// excerpt or the entry's byte budget).
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub truncated: u64,
    /// The fault an armed scenario applied to the answer, if any (`status` is still the real
    /// one; 0 when the connection was dropped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// What answered instead of the provider: the fake itself refusing the body
    /// (`request_timeout`, `payload_too_large`, `malformed_body`, `bad_host`), or `upstream_error` behind
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

fn is_zero_u64(count: &u64) -> bool {
    *count == 0
}

/// Bytes a client sent, kept as sent and rendered when read, in whichever form keeps a read
/// within twice the bytes kept: as a JSON string when they are text (valid UTF-8 as it is,
/// every other byte as `\xNN`, never a 3-byte replacement character), or as
/// `{"base64": "…"}` when escaping would take more than twice their size (control bytes,
/// binary data: `\u0001` is 6 bytes for 1).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Raw {
    bytes: Box<[u8]>,
    /// Rendered as base64: decided once, on the bytes as sent, so that a prefix cut to a budget
    /// keeps its form.
    base64: bool,
    /// What the bytes take as a JSON string's contents (quotes excluded): counted once, so that
    /// fitting a value that fits whole (nearly every one) costs nothing more.
    text_json: usize,
}

/// `{"base64":""}` around the encoded bytes.
const BASE64_JSON_OVERHEAD: usize = 13;

impl Raw {
    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> Raw {
        let text_json = text_json_len(bytes);
        Raw {
            bytes: bytes.into(),
            base64: shown_as_base64(text_json, bytes.len()),
            text_json,
        }
    }

    /// Whether a read shows these bytes as `{"base64": …}` rather than as a string.
    pub fn is_base64(&self) -> bool {
        self.base64
    }

    /// The bytes as sent.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// As text: borrowed when valid UTF-8, otherwise with each invalid byte as `\xNN`.
    pub fn text(&self) -> Cow<'_, str> {
        text_of(&self.bytes)
    }

    /// The longest prefix whose JSON string (quotes excluded) takes at most `budget` bytes:
    /// its length in raw bytes, and in JSON.
    fn fit(&self, budget: usize) -> (usize, usize) {
        fit(&self.bytes, self.base64, self.text_json, budget)
    }

    /// Its first `len` bytes: itself, not a copy, when that is all of it (nearly always).
    fn into_prefix(self, len: usize) -> Raw {
        if len >= self.bytes.len() {
            return self;
        }
        let bytes = &self.bytes[..len];
        Raw {
            bytes: bytes.into(),
            base64: self.base64,
            text_json: text_json_len(bytes),
        }
    }
}

/// `bytes` as text: borrowed when valid UTF-8, otherwise with each invalid byte as `\xNN`.
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out.into()
}

/// The longest prefix of `bytes` (rendered as base64 or not, taking `text_json` as a whole)
/// whose JSON string (quotes excluded) takes at most `budget` bytes: its length in raw bytes,
/// and in JSON.
fn fit(bytes: &[u8], base64: bool, text_json: usize, budget: usize) -> (usize, usize) {
    if !base64 && text_json <= budget {
        return (bytes.len(), text_json);
    }
    if base64 {
        // 4 characters for each 3 bytes (or fewer, the last group padded).
        let groups = budget.saturating_sub(BASE64_JSON_OVERHEAD) / 4;
        let raw = (groups * 3).min(bytes.len());
        return (raw, BASE64_JSON_OVERHEAD + raw.div_ceil(3) * 4);
    }
    let mut raw = 0;
    let mut json = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut char_start = (raw, json);
        for (i, &byte) in valid.as_bytes().iter().enumerate() {
            if valid.is_char_boundary(i) {
                char_start = (raw, json);
            }
            json += json_byte_len(byte);
            raw += 1;
            if json > budget {
                return char_start;
            }
        }
        for _ in chunk.invalid() {
            if json + INVALID_BYTE_JSON_LEN > budget {
                return (raw, json);
            }
            json += INVALID_BYTE_JSON_LEN;
            raw += 1;
        }
    }
    (raw, json)
}

/// Writes `bytes` as a JSON string (text form) or as `{"base64": …}`.
fn serialize_bytes<S: Serializer>(
    bytes: &[u8],
    base64: bool,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if base64 {
        use base64::Engine as _;
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(
            "base64",
            &base64::engine::general_purpose::STANDARD.encode(bytes),
        )?;
        return map.end();
    }
    serializer.serialize_str(&text_of(bytes))
}

/// Whether bytes whose text form takes `text_json` are shown as base64: when escaping would
/// take more than twice their size.
fn shown_as_base64(text_json: usize, len: usize) -> bool {
    text_json > 2 * len
}

/// The request headers as the journal keeps them, in the order sent, each value as a [`Raw`]
/// would keep it: the names in one string, the values in one buffer. Three allocations an
/// entry, where a `(String, Raw)` per header took two per header.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    names: String,
    values: Vec<u8>,
    spans: Vec<HeaderSpan>,
}

/// Where one header ends in [`Headers`]' buffers, and what a [`Raw`] knows of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeaderSpan {
    name_end: usize,
    value_end: usize,
    base64: bool,
    text_json: usize,
}

/// One header of [`Headers`], borrowed.
#[derive(Debug, Clone, Copy)]
struct HeaderRef<'h> {
    name: &'h str,
    value: &'h [u8],
    base64: bool,
    text_json: usize,
}

impl Headers {
    /// Room for `count` headers whose names take `names` bytes and values `values` bytes.
    pub fn with_capacity(count: usize, names: usize, values: usize) -> Headers {
        Headers {
            names: String::with_capacity(names),
            values: Vec::with_capacity(values),
            spans: Vec::with_capacity(count),
        }
    }

    /// Appends a header, its value as sent.
    pub fn push(&mut self, name: &str, value: &[u8]) {
        self.push_written(name, |out| out.extend_from_slice(value));
    }

    /// Appends a header whose value `write` appends to the buffer it is given (a masked
    /// credential, written in place).
    pub fn push_written(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.values.len();
        write(&mut self.values);
        let value = &self.values[start..];
        let text_json = text_json_len(value);
        let base64 = shown_as_base64(text_json, value.len());
        self.push_span(name, text_json, base64);
    }

    fn push_span(&mut self, name: &str, text_json: usize, base64: bool) {
        self.names.push_str(name);
        self.spans.push(HeaderSpan {
            name_end: self.names.len(),
            value_end: self.values.len(),
            base64,
            text_json,
        });
    }

    /// Bytes of values kept, all headers together.
    pub fn value_bytes(&self) -> usize {
        self.values.len()
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Each header's name and value, as kept.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.each().map(|header| (header.name, header.value))
    }

    fn each(&self) -> impl Iterator<Item = HeaderRef<'_>> {
        let mut name_start = 0;
        let mut value_start = 0;
        self.spans.iter().map(move |span| {
            let header = HeaderRef {
                name: &self.names[name_start..span.name_end],
                value: &self.values[value_start..span.value_end],
                base64: span.base64,
                text_json: span.text_json,
            };
            name_start = span.name_end;
            value_start = span.value_end;
            header
        })
    }

    /// Appends the first `len` bytes of `header`'s value, rendered as the whole was.
    fn push_prefix(&mut self, header: HeaderRef<'_>, len: usize) {
        let value = &header.value[..len.min(header.value.len())];
        self.values.extend_from_slice(value);
        let text_json = if value.len() == header.value.len() {
            header.text_json
        } else {
            text_json_len(value)
        };
        self.push_span(header.name, text_json, header.base64);
    }

    /// The headers cut to what fits in `max` bytes of JSON after the `size` already taken,
    /// in the order sent: each takes `["name","value"],` whole or a prefix of its value, and
    /// a header whose name does not fit is left out. Adds what they take to `size` and the
    /// bytes not kept to `cut`. Kept as they came (no copy) when every one fits whole.
    fn cut_to(self, max: usize, size: &mut usize, cut: &mut u64) -> Headers {
        let mut rebuilt: Option<Headers> = None;
        for (index, header) in self.each().enumerate() {
            // `["name","value"]` and a comma.
            let fixed = json_len(header.name) + 2 + 4;
            let room = max.saturating_sub(*size);
            let kept = (fixed < room)
                .then(|| fit(header.value, header.base64, header.text_json, room - fixed));
            let whole = kept.is_some_and(|(raw, _)| raw == header.value.len());
            if !whole && rebuilt.is_none() {
                let mut before = Headers::with_capacity(self.len(), self.names.len(), 0);
                for earlier in self.each().take(index) {
                    before.push_prefix(earlier, earlier.value.len());
                }
                rebuilt = Some(before);
            }
            match kept {
                Some((raw, json)) => {
                    *cut += (header.value.len() - raw) as u64;
                    *size += fixed + json;
                    if let Some(rebuilt) = &mut rebuilt {
                        rebuilt.push_prefix(header, raw);
                    }
                }
                None => *cut += (header.name.len() + header.value.len()) as u64,
            }
        }
        rebuilt.unwrap_or(self)
    }
}

impl Serialize for HeaderRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        struct Value<'v>(&'v [u8], bool);
        impl Serialize for Value<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_bytes(self.0, self.1, serializer)
            }
        }
        let mut pair = serializer.serialize_tuple(2)?;
        pair.serialize_element(self.name)?;
        pair.serialize_element(&Value(self.value, self.base64))?;
        pair.end()
    }
}

impl Serialize for Headers {
    /// `[["name", value], …]`, each value as a [`Raw`] is written.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.each())
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(name, value)| (name, text_of(value))))
            .finish()
    }
}

/// `\xNN` in a JSON string: the backslash is escaped.
const INVALID_BYTE_JSON_LEN: usize = 5;

/// What one byte of valid UTF-8 takes in a JSON string, as `serde_json` writes it.
fn json_byte_len(byte: u8) -> usize {
    JSON_BYTE_LEN[usize::from(byte)] as usize
}

/// [`json_byte_len`] as a table: the count runs on every header and body kept, once.
const JSON_BYTE_LEN: [u8; 256] = byte_lengths(
    6,
    &[
        (b'"', 2),
        (b'\\', 2),
        (0x08, 2),
        (0x0c, 2),
        (b'\n', 2),
        (b'\r', 2),
        (b'\t', 2),
    ],
);

/// A table of what each byte takes once escaped: `controls` for the bytes below 0x20, one for
/// the others, then the `exceptions` (byte, length).
const fn byte_lengths(controls: u8, exceptions: &[(u8, u8)]) -> [u8; 256] {
    let mut table = [1u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = controls;
        byte += 1;
    }
    let mut i = 0;
    while i < exceptions.len() {
        table[exceptions[i].0 as usize] = exceptions[i].1;
        i += 1;
    }
    table
}

/// What `bytes` take as the contents of a JSON string in text form: valid UTF-8 escaped as
/// `serde_json` escapes it, every other byte as `\\xNN`.
fn text_json_len(bytes: &[u8]) -> usize {
    // ASCII (nearly every header value) is checked a word at a time, without UTF-8's decoding.
    if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        return escaped_len(bytes);
    }
    bytes
        .utf8_chunks()
        .map(|chunk| {
            escaped_len(chunk.valid().as_bytes()) + chunk.invalid().len() * INVALID_BYTE_JSON_LEN
        })
        .sum()
}

/// What valid UTF-8 takes in a JSON string. A body is counted 16 bytes at a time with
/// arithmetic the compiler turns into vector operations: a third of the table's cost on an
/// event's form; the table stays cheaper for short texts such as header values.
fn escaped_len(valid: &[u8]) -> usize {
    if valid.len() < 64 {
        return valid.iter().map(|&b| json_byte_len(b)).sum();
    }
    // What a byte adds to its own: 1 for `"` and `\\`, 1 for the controls written `\n` and
    // the like (0x08 to 0x0d but 0x0b), 5 for the other controls (`\u00XX`).
    let extra = |b: u8| -> u8 {
        let quoted = u8::from(b == b'"') | u8::from(b == b'\\');
        let control = u8::from(b < 0x20);
        let short = u8::from(b.wrapping_sub(0x08) < 6) & u8::from(b != 0x0b);
        quoted + control * 5 - short * 4
    };
    let (chunks, rest) = valid.as_chunks::<16>();
    let mut total = valid.len();
    // One counter per lane, emptied before it can overflow (at most 5 a byte).
    for run in chunks.chunks(u8::MAX as usize / 5) {
        let mut lanes = [0u8; 16];
        for chunk in run {
            for (lane, &b) in lanes.iter_mut().zip(chunk) {
                *lane += extra(b);
            }
        }
        total += lanes.iter().map(|&n| usize::from(n)).sum::<usize>();
    }
    total + rest.iter().map(|&b| usize::from(extra(b))).sum::<usize>()
}

/// What a string takes in JSON, quotes included.
fn json_len(text: &str) -> usize {
    2 + text.bytes().map(json_byte_len).sum::<usize>()
}

impl Serialize for Raw {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_bytes(&self.bytes, self.base64, serializer)
    }
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text(), f)
    }
}

impl From<&str> for Raw {
    fn from(text: &str) -> Raw {
        Raw::new(text.as_bytes())
    }
}

impl PartialEq<&str> for Raw {
    fn eq(&self, text: &&str) -> bool {
        &*self.bytes == text.as_bytes()
    }
}

/// Counts the bytes written to it.
#[derive(Default)]
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How many bytes `value` takes as JSON.
fn json_size(value: &impl Serialize) -> usize {
    let mut counter = Counter::default();
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
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
            body: Raw::default(),
            headers: Headers::default(),
            truncated: 0,
            fault: None,
            refusal: None,
        }
    }

    /// Whether the request conforms to the contract.
    pub fn conforms(&self) -> bool {
        self.verdict == Verdict::Conforms
    }
}

/// An entry in a ring, with what it takes as JSON.
#[derive(Debug, Clone)]
struct Kept {
    entry: Arc<JournalEntry>,
    size: usize,
}

/// A ring of entries bounded by a count and by their bytes as JSON.
#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Kept>,
    bytes: usize,
}

impl Ring {
    /// Adds `kept`, dropping the oldest entries past `capacity` or `max_bytes` (the newest
    /// stays: it fits by [`cut_to_fit`]).
    fn push(&mut self, kept: Kept, capacity: usize, max_bytes: usize, evicted: &mut Evicted) {
        self.bytes += kept.size;
        self.entries.push_back(kept);
        while self.entries.len() > capacity || (self.bytes > max_bytes && self.entries.len() > 1) {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.size;
                evicted.0.push(old.entry);
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

/// Entries dropped from the journal's rings, to be freed once its lock is released.
#[derive(Debug, Default)]
pub struct Evicted(Vec<Arc<JournalEntry>>);

/// Where a page of the journal starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cursor {
    /// The most recent entries.
    #[default]
    Latest,
    /// The most recent entries older than this id.
    Before(u64),
    /// The oldest entries newer than this id.
    After(u64),
}

/// A page of the journal: entries oldest first, and the cursors to go on.
#[derive(Debug)]
pub struct Page {
    /// The entries, oldest first.
    pub entries: Vec<Arc<JournalEntry>>,
    /// What they take as JSON, commas between them included.
    pub bytes: usize,
    /// `before=` this id gives older matching entries (none when nothing older is kept).
    pub before: Option<u64>,
    /// `after=` this id gives what is newer than this page (and only that).
    pub after: u64,
}

/// An entry masked and cut to a byte budget, ready to record: the work done before taking the
/// journal's lock.
#[derive(Debug)]
pub struct Fitted {
    entry: JournalEntry,
    size: usize,
    max: usize,
}

impl Fitted {
    /// `entry` with credentials in URLs masked, cut to `max` bytes of JSON.
    pub fn new(mut entry: JournalEntry, max: usize) -> Fitted {
        mask_urls(&mut entry);
        let size = cut_to_fit(&mut entry, max);
        Fitted { entry, size, max }
    }
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    recent: Ring,
    violating: Ring,
    capacity: usize,
    /// Bytes each ring may keep (half the configured budget).
    ring_max_bytes: usize,
    /// Bytes one entry may take.
    entry_max_bytes: usize,
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
    /// A journal whose rings keep `capacity` entries each (at least 1), within the default
    /// byte budgets.
    pub fn with_capacity(capacity: usize) -> Journal {
        Journal::with_limits(
            capacity,
            crate::config::DEFAULT_JOURNAL_MAX_BYTES,
            crate::config::DEFAULT_JOURNAL_ENTRY_MAX_BYTES,
        )
    }

    /// A journal whose rings keep `capacity` entries each and `max_bytes` in all (half each),
    /// `entry_max_bytes` per entry (at most half of `max_bytes`), counted as JSON.
    pub fn with_limits(capacity: usize, max_bytes: usize, entry_max_bytes: usize) -> Journal {
        let ring_max_bytes = (max_bytes / 2).max(crate::config::MIN_JOURNAL_ENTRY_MAX_BYTES);
        Journal {
            recent: Ring::default(),
            violating: Ring::default(),
            capacity: capacity.max(1),
            ring_max_bytes,
            entry_max_bytes: entry_max_bytes
                .clamp(crate::config::MIN_JOURNAL_ENTRY_MAX_BYTES, ring_max_bytes),
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
    pub fn record(&mut self, entry: JournalEntry) -> u64 {
        let fitted = Fitted::new(entry, self.entry_max_bytes);
        self.record_fitted(fitted)
    }

    /// Records an entry already cut to its budget (out of the journal's lock), assigning its
    /// id. Cut again when it was cut to a larger budget than this journal's.
    pub fn record_fitted(&mut self, fitted: Fitted) -> u64 {
        let mut evicted = Evicted::default();
        self.record_fitted_evicting(fitted, &mut evicted)
    }

    /// [`Journal::record_fitted`], handing over the entries it drops from the rings, so that
    /// the caller frees them after releasing the journal's lock: freeing an entry (its
    /// headers, body and findings) under the lock held the other workers back.
    pub fn record_fitted_evicting(&mut self, fitted: Fitted, evicted: &mut Evicted) -> u64 {
        let Fitted {
            mut entry,
            mut size,
            max,
        } = fitted;
        if max > self.entry_max_bytes {
            size = cut_to_fit(&mut entry, self.entry_max_bytes);
        }
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
        let kept = Kept {
            entry: Arc::new(entry),
            size,
        };
        let (capacity, max_bytes) = (self.capacity, self.ring_max_bytes);
        if !kept.entry.conforms() {
            self.violating
                .push(kept.clone(), capacity, max_bytes, evicted);
        }
        self.recent.push(kept, capacity, max_bytes, evicted);
        self.next_id
    }

    /// The most recent requests, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &JournalEntry> {
        self.recent.entries.iter().map(|k| k.entry.as_ref())
    }

    /// The most recent requests that broke the contract, oldest first (kept even when
    /// newer conforming requests pushed them out of [`Journal::entries`]).
    pub fn violations(&self) -> impl Iterator<Item = &JournalEntry> {
        self.violating.entries.iter().map(|k| k.entry.as_ref())
    }

    /// Bytes kept (as JSON): by the recent requests, and by the contract-breaking ones. An
    /// entry in both counts in both.
    pub fn bytes(&self) -> (usize, usize) {
        (self.recent.bytes, self.violating.bytes)
    }

    /// The byte budget of each ring, and of one entry.
    pub fn byte_limits(&self) -> (usize, usize) {
        (self.ring_max_bytes, self.entry_max_bytes)
    }

    /// The id of the last request recorded (0 before the first).
    pub fn last_id(&self) -> u64 {
        self.next_id
    }

    /// A page of the recent requests (or, with `violating`, of the contract-breaking ones)
    /// that `keeps` accepts: at most `limit` entries and `max_bytes` of JSON (one entry at
    /// least), from `cursor`. The entries are shared, not copied.
    pub fn page(
        &self,
        violating: bool,
        keeps: impl Fn(&JournalEntry) -> bool,
        cursor: Cursor,
        limit: usize,
        max_bytes: usize,
    ) -> Page {
        let ring = if violating {
            &self.violating
        } else {
            &self.recent
        };
        let matching = |k: &&Kept| keeps(&k.entry);
        let mut entries = Vec::new();
        let mut bytes = 0;
        let fits = |bytes: usize, kept: &Kept, count: usize| {
            count < limit && (count == 0 || bytes + kept.size < max_bytes)
        };
        let mut newer_left = false;
        match cursor {
            Cursor::Latest | Cursor::Before(_) => {
                let before = match cursor {
                    Cursor::Before(id) => id,
                    _ => u64::MAX,
                };
                for kept in ring.entries.iter().rev().filter(|k| k.entry.id < before) {
                    if !matching(&kept) {
                        continue;
                    }
                    if !fits(bytes, kept, entries.len()) {
                        break;
                    }
                    bytes += kept.size + 1;
                    entries.push(Arc::clone(&kept.entry));
                }
                entries.reverse();
            }
            Cursor::After(after) => {
                for kept in ring.entries.iter().filter(|k| k.entry.id > after) {
                    if !matching(&kept) {
                        continue;
                    }
                    if !fits(bytes, kept, entries.len()) {
                        newer_left = true;
                        break;
                    }
                    bytes += kept.size + 1;
                    entries.push(Arc::clone(&kept.entry));
                }
            }
        }
        let first = entries.first().map(|e| e.id);
        let before = match (first, cursor) {
            (Some(first), _) => ring
                .entries
                .iter()
                .take_while(|k| k.entry.id < first)
                .any(|k| keeps(&k.entry))
                .then_some(first),
            (None, Cursor::After(_)) => None,
            (None, Cursor::Before(id)) => ring
                .entries
                .iter()
                .take_while(|k| k.entry.id < id)
                .any(|k| keeps(&k.entry))
                .then_some(id),
            (None, Cursor::Latest) => None,
        };
        let after = match (entries.last(), newer_left, cursor) {
            (Some(last), true, _) => last.id,
            (Some(last), false, Cursor::Before(_)) => last.id,
            _ => self.next_id,
        };
        Page {
            entries,
            bytes: bytes.saturating_sub(1),
            before,
            after,
        }
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

    /// Records a webhook delivery attempt (its URL and error cut at 4 KiB: the URL is a
    /// client's).
    pub fn record_delivery(&mut self, mut delivery: WebhookDelivery) {
        cut_text(&mut delivery.url, DELIVERY_TEXT_LIMIT);
        if let Some(error) = &mut delivery.error {
            cut_text(error, DELIVERY_TEXT_LIMIT);
        }
        // The result posted quotes what the client sent (a semantic 400 names every unknown
        // key): past its budget only the start of it is kept, and how large it was.
        let payload_bytes = json_size(&delivery.payload);
        if payload_bytes > DELIVERY_PAYLOAD_LIMIT {
            let mut excerpt = delivery.payload.to_string();
            cut_text(&mut excerpt, DELIVERY_PAYLOAD_EXCERPT);
            delivery.payload = serde_json::json!({
                "payload_bytes": payload_bytes,
                "excerpt": excerpt,
            });
        }
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

/// How much of a `Content-Type`, and of each finding's location and message, the journal keeps
/// (in characters).
const JOURNAL_TEXT_LIMIT: usize = 1024;

/// How much of a webhook delivery's URL and error the journal keeps (in characters).
const DELIVERY_TEXT_LIMIT: usize = 4096;

/// The JSON a kept webhook delivery's payload may take; a larger one is kept as its first
/// [`DELIVERY_PAYLOAD_EXCERPT`] characters and its size.
const DELIVERY_PAYLOAD_LIMIT: usize = 16 * 1024;

/// The characters of a payload past its limit that a delivery keeps.
const DELIVERY_PAYLOAD_EXCERPT: usize = 2048;

/// `text` cut at `chars` characters, ending with `…` when cut.
fn cut_text(text: &mut String, chars: usize) {
    let kept = prefix(text, chars).len();
    if kept < text.len() {
        // A new string: `truncate` would keep the whole capacity.
        *text = format!("{}…", &text[..kept]);
    }
}

/// Cuts `entry` to `max` bytes of JSON and returns what it takes (an upper bound, within a few
/// bytes). The fields the fake writes come first, then the findings (the first ones, up to
/// half the budget; the rest are counted in `findings_omitted`), then the headers in the
/// order sent, then the body; the bytes of headers and body not kept are added to
/// `truncated`.
fn cut_to_fit(entry: &mut JournalEntry, max: usize) -> usize {
    if let Some(content_type) = &mut entry.content_type {
        cut_text(content_type, JOURNAL_TEXT_LIMIT);
    }
    for finding in &mut entry.violations {
        cut_text(&mut finding.location, JOURNAL_TEXT_LIMIT);
        cut_text(&mut finding.message, JOURNAL_TEXT_LIMIT);
    }
    // A near miss quotes the request's `Content-Type`, whatever its length.
    for difference in entry.near_miss.iter_mut().flat_map(|n| &mut n.differences) {
        cut_text(difference, JOURNAL_TEXT_LIMIT);
    }
    let body = std::mem::take(&mut entry.body);
    let headers = std::mem::take(&mut entry.headers);
    let truncated = entry.truncated;
    // The findings are also read as JUnit XML, where `'` takes 6 bytes: each costs the wider
    // of its two renderings, so that the budget bounds `GET /__admin/junit` too.
    let findings = std::mem::take(&mut entry.violations);
    let mut size = fields_json_bound(entry, !findings.is_empty()).max(junit_case_bound(entry));
    let costs: Vec<usize> = findings
        .iter()
        .map(|f| {
            let xml = xml_len(&f.location) + xml_len(&f.rule) + xml_len(&f.message) + 6;
            (json_size(f) + 1).max(xml)
        })
        .collect();
    let mut kept = 0;
    for cost in &costs {
        if size + cost > max / 2 {
            break;
        }
        size += cost;
        kept += 1;
    }
    entry.findings_omitted += findings.len() - kept;
    entry.violations = findings;
    entry.violations.truncate(kept);
    let mut cut = truncated;
    let kept_headers = headers.cut_to(max, &mut size, &mut cut);
    let (raw, json) = body.fit(max.saturating_sub(size));
    cut += (body.len() - raw) as u64;
    size += json;
    entry.body = body.into_prefix(raw);
    entry.headers = kept_headers;
    entry.truncated = cut;
    size
}

/// What `entry` takes as JSON without its findings, headers and body, at most about a
/// hundred bytes above: the skeleton every entry shares (measured once, numbers at their
/// widest), plus what each field adds to it. `truncated` is counted at its widest, since it is
/// known only once the entry is cut, and `findings_omitted` too when there are findings to
/// omit. Serializing each entry to measure it was an eighth of a saldos request.
fn fields_json_bound(entry: &JournalEntry, has_findings: bool) -> usize {
    static SKELETON: OnceLock<Skeleton> = OnceLock::new();
    let skeleton = SKELETON.get_or_init(Skeleton::measure);
    let text = |text: Option<&str>| text.map_or(0, json_len);
    let omitted = if has_findings || entry.findings_omitted > 0 {
        skeleton.findings_omitted
    } else {
        0
    };
    skeleton.fields
        + skeleton.truncated
        + omitted
        + json_len(entry.method.as_str())
        + json_len(&entry.path)
        + text(entry.operation.map(Operation::name))
        + text(entry.credential.as_deref())
        + text(entry.content_type.as_deref())
        + json_len(entry.verdict.as_str())
        + entry.scenario.map_or(0, |_| U64_JSON_MAX)
        + entry.near_miss.as_ref().map_or(0, json_size)
        + F64_JSON_MAX
        + entry.fault.as_ref().map_or(0, json_size)
        + text(entry.refusal)
}

/// The most a `u64` takes in JSON.
const U64_JSON_MAX: usize = 20;

/// The most a finite `f64` takes in JSON (`-1.7976931348623157e308`), and then some.
const F64_JSON_MAX: usize = 24;

/// What every journal entry writes whatever its contents, and what its two counters add when
/// they are written (they are omitted at zero).
struct Skeleton {
    fields: usize,
    truncated: usize,
    findings_omitted: usize,
}

impl Skeleton {
    fn measure() -> Skeleton {
        let empty = skeleton_entry();
        let fields = json_size(&empty);
        let truncated = json_size(&JournalEntry {
            truncated: u64::MAX,
            ..skeleton_entry()
        }) - fields;
        let findings_omitted = json_size(&JournalEntry {
            findings_omitted: usize::MAX,
            ..skeleton_entry()
        }) - fields;
        Skeleton {
            fields,
            truncated,
            findings_omitted,
        }
    }
}

/// An entry whose every field adds nothing to [`fields_json_bound`]'s sum: texts empty,
/// options absent, counters zero, the other numbers at their widest, the date with nine
/// decimals.
fn skeleton_entry() -> JournalEntry {
    let widest_date = DateTime::from_timestamp(253_402_300_799, 999_999_999).unwrap_or_default();
    JournalEntry {
        id: u64::MAX,
        received_at: widest_date,
        method: Method::GET,
        path: String::new(),
        operation: None,
        credential: None,
        content_type: None,
        verdict: Verdict::Unknown,
        violations: Vec::new(),
        findings_omitted: 0,
        status: u16::MAX,
        scenario: None,
        near_miss: None,
        duration_ms: 0.0,
        body: Raw::default(),
        headers: Headers::default(),
        truncated: 0,
        fault: None,
        refusal: None,
    }
}

/// Credentials in URLs (a webhook's `user:password@`) masked in what the journal keeps: the
/// body and the findings, which quote the values they judge (issue 15). Long paths are cut.
fn mask_urls(entry: &mut JournalEntry) {
    use super::webhooks::mask_userinfo;
    cut_text(&mut entry.path, JOURNAL_PATH_LIMIT);
    if let Some(masked) = mask_raw(&entry.body) {
        entry.body = masked;
    }
    for finding in &mut entry.violations {
        if let Cow::Owned(masked) = mask_userinfo(&finding.message) {
            finding.message = masked;
        }
    }
}

/// At least what [`junit_case`] writes of `entry` besides its findings: the path and near
/// miss escaped, and room for the rest of the markup and the numbers.
fn junit_case_bound(entry: &JournalEntry) -> usize {
    let near = entry.near_miss.as_ref().map_or(0, |n| {
        xml_len(&n.expected) + n.differences.iter().map(|d| xml_len(d) + 2).sum::<usize>() + 40
    });
    JUNIT_CASE_MARKUP + xml_len(entry.method.as_str()) + xml_len(&entry.path) + near
}

/// What a JUnit case writes besides its texts: elements, attributes, numbers, the class.
const JUNIT_CASE_MARKUP: usize = 512;

/// What [`escape`] makes of `text`, in bytes: byte by byte, since a character beyond ASCII is
/// kept whole and each of its bytes counts one.
fn xml_len(text: &str) -> usize {
    text.bytes()
        .map(|b| usize::from(XML_BYTE_LEN[usize::from(b)]))
        .sum()
}

/// [`xml_len`] of each byte.
const XML_BYTE_LEN: [u8; 256] = byte_lengths(
    0,
    &[
        (b'\n', 1),
        (b'\t', 1),
        (b'\r', 1),
        (b'&', 5),
        (b'<', 4),
        (b'>', 4),
        (b'"', 6),
        (b'\'', 6),
    ],
);

/// `raw` with the userinfo of its URLs masked, in each run of valid UTF-8 (the other bytes are
/// kept as they are); `None` when there is nothing to mask.
fn mask_raw(raw: &Raw) -> Option<Raw> {
    use super::webhooks::mask_userinfo;
    if !raw.as_bytes().contains(&b'@') {
        return None;
    }
    let mut masked = Vec::new();
    let mut changed = false;
    for chunk in raw.as_bytes().utf8_chunks() {
        match mask_userinfo(chunk.valid()) {
            Cow::Owned(text) => {
                changed = true;
                masked.extend_from_slice(text.as_bytes());
            }
            Cow::Borrowed(text) => masked.extend_from_slice(text.as_bytes()),
        }
        masked.extend_from_slice(chunk.invalid());
    }
    changed.then(|| Raw::new(&masked))
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
    // No more bytes than `chars`: no more characters either (the usual case, without a scan).
    if text.len() <= chars {
        return text;
    }
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
    fn raw_bytes_are_kept_as_sent_and_shown_escaped_without_inflation() {
        let raw = Raw::new(b"a header value \xff with one stray byte\x01\"");
        assert!(!raw.is_base64());
        assert_eq!(
            raw.text(),
            "a header value \\xff with one stray byte\u{1}\""
        );
        let json = serde_json::to_string(&raw).unwrap();
        assert_eq!(
            json,
            r#""a header value \\xff with one stray byte\u0001\"""#
        );
        assert_eq!(raw.fit(usize::MAX), (raw.len(), json.len() - 2));
        // A prefix never splits a character or an escape.
        let accents = Raw::from("ñññ");
        assert_eq!(accents.fit(5), (4, 4));
    }

    #[test]
    fn bytes_that_escaping_would_more_than_double_are_read_as_base64_within_their_budget() {
        for hostile in [
            vec![0x01; 1000],
            vec![0xff; 1000],
            b"\x01\x02ok\xfe".repeat(100),
        ] {
            let raw = Raw::new(&hostile);
            assert!(raw.is_base64());
            let json = serde_json::to_string(&raw).unwrap();
            assert!(
                json.len() <= 2 * raw.len(),
                "{} for {}",
                json.len(),
                raw.len()
            );
            let decoded: serde_json::Value = serde_json::from_str(&json).unwrap();
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(decoded["base64"].as_str().unwrap())
                .unwrap();
            assert_eq!(bytes, hostile, "kept as sent");
            for budget in [0, 13, 17, 100, 1001] {
                let (kept, written) = raw.fit(budget);
                let prefix = serde_json::to_string(&raw.clone().into_prefix(kept)).unwrap();
                assert_eq!(prefix.len(), written, "budget {budget}");
                assert!(kept == 0 || written <= budget, "budget {budget}: {written}");
            }
        }
    }

    fn hostile(headers: usize, value: usize, body: usize) -> JournalEntry {
        let mut entry = entry(Verdict::Conforms);
        for i in 0..headers {
            entry.headers.push(&format!("x-h{i}"), &vec![0xff; value]);
        }
        entry.body = Raw::new(&vec![0x01; body]);
        entry
    }

    #[test]
    fn an_entry_is_cut_to_its_byte_budget_as_written_and_marked_truncated() {
        let max = 16 * 1024;
        let mut journal = Journal::with_limits(1000, 1024 * 1024, max);
        journal.record(hostile(90, 4400, 64 * 1024));
        let kept = journal.entries().next().unwrap();
        let written = serde_json::to_vec(kept).unwrap().len();
        assert!(
            written <= max,
            "{written} bytes written for a {max}-byte budget"
        );
        let (recent, _) = journal.bytes();
        // An upper bound: the JUnit markup counts when it is wider than the JSON.
        assert!(
            written <= recent && recent <= written + 1024,
            "{written} vs {recent}"
        );
        let names: usize = (0..90).map(|i| format!("x-h{i}").len()).sum();
        let sent = names + 90 * 4400 + 64 * 1024;
        let raw_kept: usize = kept
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>()
            + kept.body.len();
        assert_eq!(kept.truncated as usize + raw_kept, sent);
    }

    #[test]
    fn the_size_of_an_entrys_fields_is_bounded_from_above_within_a_hundred_bytes() {
        let plain = entry(Verdict::Conforms);
        let mut full = entry(Verdict::Violates);
        full.id = 123_456_789;
        full.received_at = Utc::now();
        full.method = Method::from_bytes(b"PROPFIND").unwrap();
        full.path = "/api/\"quoted\"/\u{1}/ñ".to_owned();
        full.credential = Some("****abcd".to_owned());
        full.content_type = Some("multipart/form-data; boundary=\"x\"".to_owned());
        full.findings_omitted = 7;
        full.status = 429;
        full.scenario = Some(u64::MAX);
        full.near_miss = Some(near_miss("PUT", "/api/nope", Some("text/plain")));
        full.duration_ms = -1.797_693_134_862_315_7e308;
        full.truncated = 1;
        full.fault = Some(Fault::TruncatedBody);
        full.refusal = Some("payload_too_large");
        for fields in [plain, full] {
            let written = serde_json::to_vec(&fields).unwrap().len();
            let bound = fields_json_bound(&fields, false);
            assert!(
                written <= bound && bound <= written + 128,
                "{written} written, {bound} bound"
            );
        }
    }

    #[test]
    fn a_near_miss_quoting_a_huge_content_type_is_cut_to_the_entry_budget() {
        let max = 16 * 1024;
        let mut journal = Journal::with_limits(1000, 1024 * 1024, max);
        let mut unknown = entry(Verdict::Unknown);
        let content_type = "x".repeat(300_000);
        unknown.near_miss = Some(near_miss("POST", "/nope", Some(&content_type)));
        unknown.content_type = Some(content_type);
        journal.record(unknown);
        let kept = journal.entries().next().unwrap();
        let written = serde_json::to_vec(kept).unwrap().len();
        assert!(written <= max, "{written}");
    }

    #[test]
    fn the_rings_keep_their_byte_budget_by_dropping_the_oldest() {
        let mut journal = Journal::with_limits(1000, 256 * 1024, 16 * 1024);
        for _ in 0..100 {
            journal.record(hostile(4, 4400, 8 * 1024));
        }
        let (recent, _) = journal.bytes();
        assert!(recent <= 128 * 1024, "{recent}");
        let written: usize = journal
            .entries()
            .map(|e| serde_json::to_vec(e).unwrap().len() + 1)
            .sum();
        assert!(
            written <= recent + journal.entries().count() * 64,
            "{written} > {recent}"
        );
        assert_eq!(journal.entries().last().unwrap().id, 100);
        assert_eq!(journal.summary().requests, 100);
    }

    #[test]
    fn pages_go_back_with_before_and_forward_with_after() {
        let mut journal = Journal::with_capacity(10);
        for _ in 0..10 {
            journal.record(entry(Verdict::Conforms));
        }
        let ids = |page: &Page| page.entries.iter().map(|e| e.id).collect::<Vec<_>>();
        let all = |_: &JournalEntry| true;
        let latest = journal.page(false, all, Cursor::Latest, 3, usize::MAX);
        assert_eq!(ids(&latest), [8, 9, 10]);
        assert_eq!((latest.before, latest.after), (Some(8), 10));
        let older = journal.page(false, all, Cursor::Before(8), 3, usize::MAX);
        assert_eq!(ids(&older), [5, 6, 7]);
        let newer = journal.page(false, all, Cursor::After(3), 4, usize::MAX);
        assert_eq!(ids(&newer), [4, 5, 6, 7]);
        assert_eq!(newer.after, 7);
        let none = journal.page(false, all, Cursor::After(10), 4, usize::MAX);
        assert!(none.entries.is_empty());
        assert_eq!(none.after, 10);
        // The byte cap keeps one entry at least.
        let one = journal.page(false, all, Cursor::After(0), 10, 1);
        assert_eq!(ids(&one), [1]);
        assert_eq!(one.after, 1);
    }

    proptest::proptest! {
        #[test]
        fn what_text_json_len_counts_is_what_a_read_writes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            text in "(?s).{0,200}",
            ascii in "[\\x00-\\x7f]{0,300}",
        ) {
            let written = |bytes: &[u8]| serde_json::to_string(&text_of(bytes)).unwrap().len() - 2;
            proptest::prop_assert_eq!(text_json_len(&bytes), written(&bytes));
            // Every control and every escaped character, in texts long enough to be counted
            // 16 bytes at a time.
            proptest::prop_assert_eq!(text_json_len(ascii.as_bytes()), written(ascii.as_bytes()));
            proptest::prop_assert_eq!(text_json_len(text.as_bytes()), written(text.as_bytes()));
            // Characters beyond ASCII next to bytes that are not UTF-8.
            let mixed = [text.as_bytes(), &bytes, text.as_bytes()].concat();
            proptest::prop_assert_eq!(text_json_len(&mixed), written(&mixed));
            proptest::prop_assert_eq!(json_len(&text), serde_json::to_string(&text).unwrap().len());
        }

        #[test]
        fn a_long_run_of_one_byte_is_counted_as_the_table_counts_it(
            byte in 0u8..0x80,
            chunks in 50usize..54,
            rest in 0usize..17,
        ) {
            // Past 51 chunks of 16 a lane of `escaped_len` would overflow on a control
            // written `\u00XX` without its flush.
            let text = vec![byte; 16 * chunks + rest];
            let table: usize = text.iter().map(|&b| json_byte_len(b)).sum();
            proptest::prop_assert_eq!(escaped_len(&text), table);
        }

        #[test]
        fn what_xml_len_counts_is_what_escape_writes(text in ".*") {
            proptest::prop_assert_eq!(xml_len(&text), escape(&text).len());
        }
    }

    #[test]
    fn junit_escapes_what_xml_cannot_hold() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        for text in ["a<b & \"c\"", "'\u{1}ñ>", ""] {
            assert_eq!(xml_len(text), escape(text).len(), "{text}");
        }
        let mut unknown = entry(Verdict::Unknown);
        unknown.path = "/a&b<c>".repeat(100);
        unknown.near_miss = Some(near_miss("GET", &unknown.path, Some("text/x'y")));
        unknown.findings_omitted = 1_000_000;
        unknown.duration_ms = 1e12;
        let mut case = String::new();
        junit_case(&mut case, &unknown);
        assert!(case.len() <= junit_case_bound(&unknown), "{case}");
    }

    #[test]
    fn findings_that_xml_widens_are_cut_to_the_budget_in_junit_too() {
        let mut journal = Journal::with_limits(1000, 1024 * 1024, 16 * 1024);
        let mut hostile = entry(Verdict::Violates);
        hostile.violations = (0..50)
            .map(|_| crate::respond::Finding {
                location: "body".into(),
                rule: "json".into(),
                message: "'".repeat(1000),
            })
            .collect();
        journal.record(hostile);
        let kept = journal.entries().next().unwrap();
        assert!(kept.violations.len() < 50);
        assert_eq!(kept.violations.len() + kept.findings_omitted, 50);
        // Past the head and the coverage properties, written whatever is kept.
        let cases = journal.junit().len() - Journal::with_capacity(1).junit().len();
        let (recent, _) = journal.bytes();
        assert!(cases <= recent, "{cases} > {recent}");
    }

    #[test]
    fn a_webhook_delivery_keeps_at_most_its_payload_budget() {
        let mut journal = Journal::with_capacity(10);
        let keys: serde_json::Map<String, serde_json::Value> = (0..500)
            .map(|i| (format!("{i}{}", "\u{1}".repeat(1000)), serde_json::json!(i)))
            .collect();
        journal.record_delivery(WebhookDelivery {
            url: "http://127.0.0.1:1/h".into(),
            payload: serde_json::Value::Object(keys),
            status: None,
            error: Some("refused".into()),
        });
        let kept = journal.deliveries().next().unwrap();
        let written = serde_json::to_vec(kept).unwrap().len();
        assert!(written <= DELIVERY_PAYLOAD_LIMIT, "{written} bytes kept");
        assert!(kept.payload["payload_bytes"].as_u64().unwrap() > 3_000_000);
        // A payload within the budget is kept whole.
        let small = serde_json::json!({ "codigo_error": 0 });
        journal.record_delivery(WebhookDelivery {
            url: "http://127.0.0.1:1/h".into(),
            payload: small.clone(),
            status: Some(200),
            error: None,
        });
        assert_eq!(journal.deliveries().last().unwrap().payload, small);
    }
}
