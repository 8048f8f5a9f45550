//! The rows of issue 20 seen from outside (the same classes are tests of the integration
//! suite, `tests/server/wire.rs`): encodings PHP refuses (S), what the admin API stores (T),
//! `Host` and the authority a request names (U), a declared body over the limit (V).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Outcome;
use crate::server::Server;

/// Sends `head`, then `body` (a server that answered already may close before taking it
/// all), and returns what it answered: at most 64 KiB, until it closes or 20 s pass.
fn exchange(address: &str, head: &str, body: &[u8]) -> Result<String> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(head.as_bytes())?;
    // Refused bodies are not read: a failed write is the server having answered.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut answer);
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// The status of the answer's first line (0 when there is none).
fn status(answer: &str) -> u16 {
    answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Counts how many of `cases` got what they expected; the others are failures.
struct Tally {
    passed: usize,
    total: usize,
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            passed: 0,
            total: 0,
            failures: Vec::new(),
        }
    }

    fn check(&mut self, what: &str, ok: bool, answer: &str) {
        self.total += 1;
        if ok {
            self.passed += 1;
        } else if self.failures.len() < 5 {
            let first: String = answer.chars().take(200).collect();
            self.failures.push(format!("{what}: {first:?}"));
        }
    }
}

const PHP_SYNTAX: &str = "Syntax error";
const PHP_UTF8: &str = "Malformed UTF-8 characters, possibly incorrectly encoded";

fn acuse_head(address: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST /api/radian/acuse_recibo_fev HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer attack\r\n\
         Accept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n"
    )
}

/// S: `data` in the encodings PHP's `json_decode` refuses, over multipart and urlencoded.
pub fn encodings(binary: &Path) -> Result<Outcome> {
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let document = r#"{"evento":[],"generalidades":{"nombre":"Prueba"}}"#;
    let inside = |bytes: &[u8]| {
        let (before, after) = document.split_once("Prueba").unwrap_or((document, ""));
        [before.as_bytes(), bytes, after.as_bytes()].concat()
    };
    let utf16: Vec<u8> = std::iter::once(0xfeff_u16)
        .chain(document.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a UTF-8 byte order mark",
            [&b"\xef\xbb\xbf"[..], document.as_bytes()].concat(),
            PHP_SYNTAX,
        ),
        ("UTF-16 with its byte order mark", utf16, PHP_UTF8),
        ("FF", inside(b"\xff"), PHP_UTF8),
        ("an overlong C0 AF", inside(b"\xc0\xaf"), PHP_UTF8),
        (
            "a CESU-8 surrogate ED A0 80",
            inside(b"\xed\xa0\x80"),
            PHP_UTF8,
        ),
        ("past U+10FFFF", inside(b"\xf4\x90\x80\x80"), PHP_UTF8),
        ("a lone continuation byte", inside(b"\x80"), PHP_UTF8),
        ("a truncated sequence", inside(b"\xe2\x82"), PHP_UTF8),
    ];
    let mut tally = Tally::new();
    for (what, data, php_says) in &cases {
        let boundary = "attack20";
        let multipart = [
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"documento_obligado\"\r\n\r\n830020470\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n"
            )
            .as_bytes(),
            data,
            format!("\r\n--{boundary}--\r\n").as_bytes(),
        ]
        .concat();
        let urlencoded: String = format!(
            "documento_obligado=830020470&data={}",
            data.iter().map(|b| format!("%{b:02X}")).collect::<String>()
        );
        for (transport, content_type, body) in [
            (
                "multipart",
                format!("multipart/form-data; boundary={boundary}"),
                multipart,
            ),
            (
                "urlencoded",
                "application/x-www-form-urlencoded".to_owned(),
                urlencoded.into_bytes(),
            ),
        ] {
            let answer = exchange(
                &address,
                &acuse_head(&address, &content_type, body.len()),
                &body,
            )?;
            let ok = status(&answer) == 400
                && answer.contains(&format!("\"descripcion\":\"{php_says}\""));
            tally.check(&format!("{what} over {transport}"), ok, &answer);
        }
    }
    // Sovos's JSON: not JSON at all, 400-001.
    for body in [
        &b"\xef\xbb\xbf{\"MesConsulta\":\"2019-11\"}"[..],
        b"{\"MesConsulta\":\"2019-11\",\"RFCConsulta\":\"\xff\"}",
    ] {
        let head = format!(
            "POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: {address}\r\nRCApiKey: attack\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let answer = exchange(&address, &head, body)?;
        tally.check(
            "a Sovos body",
            status(&answer) == 400 && answer.contains("400-001"),
            &answer,
        );
    }
    Ok(Outcome {
        row: "S",
        measured: format!(
            "{}/{} byte-level `data` (BOM, UTF-16, FF, overlong, CESU-8, past U+10FFFF, stray \
             and truncated sequences; multipart and urlencoded) and Sovos bodies refused with \
             PHP's message / 400-001",
            tally.passed, tally.total
        ),
        failures: tally.failures,
    })
}

/// T: `POST /__admin/events` with CUFEs the provider routes refuse, and huge ones.
pub fn admin_cufes(binary: &Path, short: bool) -> Result<Outcome> {
    let huge_count = if short { 20 } else { 200 };
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let (_, rss_before) = server.memory_kib();
    let post = |body: &[u8]| {
        let head = format!(
            "POST /__admin/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        exchange(&address, &head, body)
    };
    let valid = "ab".repeat(48);
    let mut tally = Tally::new();
    for cufe in [
        valid.to_uppercase(),
        format!("{}\u{200b}", &valid[..95]),
        format!("{}\u{ff41}", &valid[..95]),
        format!(" {valid} "),
        String::new(),
        valid[..95].to_owned(),
    ] {
        let body = serde_json::json!({ "cufe": cufe, "codigo": "030" }).to_string();
        let answer = post(body.as_bytes())?;
        let ok = status(&answer) == 400 && answer.contains("\"rule\":\"pattern\"");
        tally.check(&format!("cufe {cufe:?}"), ok, &answer);
    }
    let started = Instant::now();
    for i in 0..huge_count {
        let cufe = format!("{i:x}").repeat(1_900_000 / 2);
        let body = serde_json::json!({ "cufe": cufe, "codigo": "030" }).to_string();
        let answer = post(body.as_bytes())?;
        tally.check("a 1.9 MB CUFE", status(&answer) == 413, &answer);
    }
    let seconds = started.elapsed().as_secs_f64();
    let answer = post(
        serde_json::json!({ "cufe": valid, "codigo": "030" })
            .to_string()
            .as_bytes(),
    )?;
    tally.check("a valid CUFE", status(&answer) == 201, &answer);
    let (_, rss_after) = server.memory_kib();
    let grown = rss_after.saturating_sub(rss_before);
    let mut failures = tally.failures;
    if grown > 64 * 1024 {
        failures.push(format!("RSS grew {grown} KiB over {huge_count} huge CUFEs"));
    }
    Ok(Outcome {
        row: "T",
        measured: format!(
            "{}/{} admin events answered as the provider's rules say (6 spellings 400, \
             {huge_count} CUFEs of 1.9 MB 413 in {seconds:.1} s, one valid 201); RSS {rss_before} \
             → {rss_after} KiB",
            tally.passed, tally.total
        ),
        failures,
    })
}

/// U: requests without their one valid `Host`, or naming another authority to the admin API.
pub fn authority(binary: &Path) -> Result<Outcome> {
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let port = address.rsplit(':').next().unwrap_or_default().to_owned();
    let saldos = |version: &str, hosts: &str| {
        let body = r#"{"MesConsulta":"2019-11"}"#;
        format!(
            "POST /api/rest/Timbre/saldos {version}\r\n{hosts}RCApiKey: attack\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let admin = |target: &str, headers: &str| {
        format!("GET {target} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n")
    };
    let arm = |headers: &str| {
        let body = r#"{"operation":"saldos","respond":"500"}"#;
        format!(
            "POST /__admin/scenarios HTTP/1.1\r\n{headers}Content-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let cases: Vec<(&str, String, u16)> = vec![
        ("HTTP/1.1 without Host", saldos("HTTP/1.1", ""), 400),
        (
            "two Host headers",
            saldos("HTTP/1.1", "Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n"),
            400,
        ),
        ("HTTP/1.0 without Host", saldos("HTTP/1.0", ""), 200),
        ("admin without Host", admin("/__admin/requests", ""), 400),
        (
            "admin Host with a path",
            admin("/__admin/requests", "Host: localhost:80/evil\r\n"),
            400,
        ),
        (
            "admin absolute target naming another host",
            admin(
                "http://rebind.evil.example/__admin/requests",
                "Host: 127.0.0.1\r\n",
            ),
            403,
        ),
        (
            "two Origins, loopback first",
            arm(&format!(
                "Host: 127.0.0.1\r\nOrigin: http://localhost:{port}\r\nOrigin: http://evil.example\r\n"
            )),
            403,
        ),
        (
            "admin for loopback",
            admin("/__admin/requests", &format!("Host: 127.0.0.1:{port}\r\n")),
            200,
        ),
    ];
    let mut tally = Tally::new();
    for (what, request, expected) in &cases {
        let answer = exchange(&address, request, b"")?;
        tally.check(what, status(&answer) == *expected, &answer);
    }
    let armed = crate::http::get(&address, "/__admin/scenarios")?;
    let nothing_armed = armed.text().contains("\"scenarios\":[]");
    tally.check("nothing armed", nothing_armed, &armed.text());
    Ok(Outcome {
        row: "U",
        measured: format!(
            "{}/{} requests answered as RFC 9112 §3.2 says (400 without one valid Host; \
             the admin guard judging the authority named, one Origin only)",
            tally.passed, tally.total
        ),
        failures: tally.failures,
    })
}

/// V: a body declared over the limit, without sending it, with and without
/// `Expect: 100-continue`: 413 at once, never `100 Continue`.
pub fn declared_oversize(binary: &Path) -> Result<Outcome> {
    let server = Server::start(binary, &["serve", "--port", "0"])?;
    let address = server.address.clone();
    let cases = [
        (
            "POST /api/radian/acuse_recibo_fev",
            "Authorization: Bearer attack\r\nContent-Type: multipart/form-data; boundary=x\r\n",
            "20000000",
        ),
        (
            "POST /api/radian/acuse_recibo_fev",
            "Authorization: Bearer attack\r\nContent-Type: multipart/form-data; boundary=x\r\n\
             Expect: 100-continue\r\n",
            "50000000",
        ),
        (
            "POST /api/rest/Timbre/saldos",
            "RCApiKey: attack\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n",
            "50000000",
        ),
        (
            "POST /__admin/scenarios",
            "Content-Type: application/json\r\nExpect: 100-continue\r\n",
            "3000000",
        ),
        (
            "POST /__admin/events",
            "Content-Type: application/json\r\n",
            "1900000",
        ),
    ];
    let mut tally = Tally::new();
    let mut slowest = Duration::ZERO;
    for (line, headers, length) in cases {
        let head = format!(
            "{line} HTTP/1.1\r\nHost: {address}\r\n{headers}Content-Length: {length}\r\n\r\n"
        );
        let started = Instant::now();
        let answer = exchange(&address, &head, b"")?;
        slowest = slowest.max(started.elapsed());
        let ok = status(&answer) == 413 && !answer.contains("100 Continue");
        tally.check(&format!("{line} declaring {length}"), ok, &answer);
    }
    Ok(Outcome {
        row: "V",
        measured: format!(
            "{}/{} bodies declared over the limit answered 413 without being sent and without \
             100 Continue (slowest answer {:.0} ms; the read timeout is 30 s)",
            tally.passed,
            tally.total,
            slowest.as_secs_f64() * 1000.0
        ),
        failures: tally.failures,
    })
}
