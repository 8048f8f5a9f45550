//! Issue 17: a CI gate you can trust (JUnit always on disk, contract coverage, faults that
//! keep the truth, every request journaled, 429 with Retry-After, upstream errors apart).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{client, deterministic_config, ejemplo_1_with};
use einvoice_mock::{Config, FakeProvider};

const BIN: &str = env!("CARGO_BIN_EXE_einvoice-mock");

async fn arm(fake: &FakeProvider, spec: Value) {
    let response = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{spec}");
}

async fn get_json(url: String) -> (StatusCode, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    (status, body)
}

fn acuse(fake: &FakeProvider, token: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/radian/acuse_recibo_fev", fake.uri()))
        .header("Accept", "application/json")
        .header("Authorization", format!("Bearer {token}"))
        .multipart(
            Form::new()
                .text("data", ejemplo_1_with(&"7".repeat(96), None))
                .text("documento_obligado", "830020470"),
        )
}

fn saldos(fake: &FakeProvider, month: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": month }))
}

fn coverage_of<'a>(coverage: &'a Value, operation: &str) -> &'a Value {
    coverage["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == operation)
        .unwrap_or_else(|| panic!("{operation} in {coverage}"))
}

fn hits(operation: &Value, code: &str) -> u64 {
    operation["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {operation}"))["hits"]
        .as_u64()
        .unwrap()
}

fn sent(operation: &Value, path: &str) -> u64 {
    operation["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} in {operation}"))["sent"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn after_an_armed_dian_15_coverage_shows_15_hit_and_28_never_and_survives_clearing_the_journal(
) {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "15" }),
    )
    .await;
    assert_eq!(acuse(&fake, "t").send().await.unwrap().status(), 200);
    assert_eq!(acuse(&fake, "t").send().await.unwrap().status(), 200);
    saldos(&fake, "2019-11").send().await.unwrap();
    saldos(&fake, "2019-13").send().await.unwrap();

    let (status, coverage) = get_json(format!("{}/__admin/coverage", fake.uri())).await;
    assert_eq!(status, 200);
    let acuse_coverage = coverage_of(&coverage, "acuse_recibo_fev");
    assert_eq!(hits(acuse_coverage, "15"), 1, "{acuse_coverage}");
    assert_eq!(hits(acuse_coverage, "0"), 1, "{acuse_coverage}");
    assert_eq!(hits(acuse_coverage, "28"), 0, "{acuse_coverage}");
    assert_eq!(sent(acuse_coverage, "documento_obligado"), 2);
    assert_eq!(
        sent(
            acuse_coverage,
            "evento[].informacion_documento_referencia.cufe"
        ),
        2
    );
    assert_eq!(sent(acuse_coverage, "generalidades.webhook"), 0);
    let saldos_coverage = coverage_of(&coverage, "saldos");
    assert_eq!(hits(saldos_coverage, "200"), 1, "{saldos_coverage}");
    assert_eq!(hits(saldos_coverage, "400-001"), 1, "{saldos_coverage}");
    assert_eq!(sent(saldos_coverage, "MesConsulta"), 2);
    assert_eq!(sent(saldos_coverage, "RFCConsulta"), 0);
    let (covered, documented) = (
        coverage["covered"].as_u64(),
        coverage["documented"].as_u64(),
    );
    assert!(covered.unwrap() > 0 && covered < documented, "{coverage}");

    // Clearing the journal keeps the coverage; a reset clears it.
    let cleared = client()
        .delete(format!("{}/__admin/requests", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let (_, kept) = get_json(format!("{}/__admin/coverage", fake.uri())).await;
    assert_eq!(kept, coverage);
    client()
        .post(format!("{}/__admin/reset", fake.uri()))
        .send()
        .await
        .unwrap();
    let (_, reset) = get_json(format!("{}/__admin/coverage", fake.uri())).await;
    assert_eq!(reset["covered"], 0, "{reset}");
}

#[tokio::test]
async fn a_malformed_body_fault_keeps_the_real_401_and_the_journal_records_status_and_fault() {
    let mut config = deterministic_config();
    config.afacturar.tokens = vec!["the-right-token".to_owned()];
    let fake = FakeProvider::start_with(config).await;
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "fault": "malformed_body" }),
    )
    .await;
    let response = acuse(&fake, "a-wrong-token").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "garbled");

    // An explicit status replaces the real one.
    arm(
        &fake,
        json!({ "operation": "acuse_recibo_fev", "fault": "malformed_body", "status": 503 }),
    )
    .await;
    assert_eq!(
        acuse(&fake, "the-right-token")
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    let entries = journal["requests"].as_array().unwrap();
    assert_eq!(entries[0]["status"], 401, "{journal}");
    assert_eq!(entries[0]["fault"], "malformed_body", "{journal}");
    assert_eq!(entries[1]["status"], 503, "{journal}");
    // The journal's headers keep the credential masked.
    let authorization = entries[0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "authorization")
        .unwrap();
    assert_eq!(authorization[1], "Bearer *********oken", "{authorization}");
    // A status without a body fault is refused.
    let refused = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&json!({ "operation": "saldos", "respond": "500", "status": 503 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn a_413_is_journaled_and_counted_with_its_refusal() {
    let mut config = Config::embedded_default();
    config.server.body_limit_bytes = Some(1024);
    let fake = FakeProvider::start_with(config).await;
    let big = json!({ "MesConsulta": "2019-11", "pad": "x".repeat(4096) });
    let response = client()
        .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
        .header("RCApiKey", "k")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    assert_eq!(journal["summary"]["requests"], 1, "{journal}");
    let entry = &journal["requests"][0];
    assert_eq!(entry["status"], 413);
    assert_eq!(entry["refusal"], "payload_too_large");
    assert_eq!(entry["operation"], "saldos");
    assert_eq!(entry["verdict"], "violates");
}

#[tokio::test]
async fn unknown_admin_paths_and_wrong_methods_answer_json_and_are_not_provider_traffic() {
    let fake = FakeProvider::start().await;
    for (method, path, status) in [
        (reqwest::Method::GET, "/__admin/reset", 405),
        (reqwest::Method::GET, "/__admin/no-such-thing", 404),
        (reqwest::Method::POST, "/__admin/requests/7/x", 404),
        (reqwest::Method::PUT, "/__admin/coverage", 405),
    ] {
        let response = client()
            .request(method.clone(), format!("{}{path}", fake.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    assert_eq!(journal["summary"]["requests"], 0, "{journal}");
}

#[tokio::test]
async fn requests_filter_by_operation_verdict_status_since_and_limit() {
    let fake = FakeProvider::start().await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    saldos(&fake, "2019-11").send().await.unwrap();
    saldos(&fake, "2019-13").send().await.unwrap();
    acuse(&fake, "t").send().await.unwrap();
    let list = |query: &str| get_json(format!("{}/__admin/requests?{query}", fake.uri()));
    let ids = |body: &Value| -> Vec<u64> {
        body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    let (status, only) = list("operation=saldos").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&only), [1, 2]);
    assert!(only["requests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["operation"] == "saldos"));
    assert_eq!(ids(&list("verdict=violates").await.1), [2]);
    assert_eq!(ids(&list("status=400").await.1), [2]);
    assert_eq!(ids(&list("limit=2").await.1), [2, 3]);
    let since = urlencode(&before.to_rfc3339());
    assert_eq!(ids(&list(&format!("since={since}")).await.1), [1, 2, 3]);
    let later = urlencode(&(chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
    assert!(ids(&list(&format!("since={later}")).await.1).is_empty());
    for bad in [
        "bogus=1",
        "status=abc",
        "operation=nope",
        "since=yesterday",
        "limit=-1",
    ] {
        let (status, body) = list(bad).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn the_third_request_past_rate_limit_2_gets_429_with_retry_after() {
    let mut config = Config::embedded_default();
    config.server.rate_limit_per_minute = Some(2);
    let fake = FakeProvider::start_with(config).await;
    for _ in 0..2 {
        let response = acuse(&fake, "t").send().await.unwrap();
        assert!(response.headers().get("retry-after").is_none());
    }
    let third = acuse(&fake, "t").send().await.unwrap();
    assert_eq!(third.status(), 429);
    let seconds: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["codigo_error"], 429, "{body}");

    // Sovos documents no limit; past an explicit one it answers 429 in its own format.
    for _ in 0..2 {
        assert_eq!(saldos(&fake, "2019-11").send().await.unwrap().status(), 200);
    }
    let third = saldos(&fake, "2019-11").send().await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["errors"][0]["Code"], "429", "{body}");
}

/// Starts the binary with `args`; its child and the URL it printed.
fn start(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();
    (child, url)
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Checks that `xml` is one well-formed element tree (enough for the reports written here:
/// no comments, CDATA or doctype) and returns its element names in document order.
pub fn assert_well_formed_xml(xml: &str) -> Vec<String> {
    let mut rest = xml.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        let end = after.find("?>").expect("the declaration ends");
        rest = &after[end + 2..];
    }
    let mut open: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut roots = 0;
    loop {
        let Some(start) = rest.find('<') else {
            assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
            break;
        };
        let text = &rest[..start];
        assert!(!text.contains('>'), "a stray `>` in {text:?}");
        if open.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        }
        // The tag's end: the first `>` outside quotes.
        let tag_text = &rest[start + 1..];
        let mut quote = None;
        let end = tag_text
            .char_indices()
            .find(|&(_, c)| match quote {
                Some(q) if c == q => {
                    quote = None;
                    false
                }
                Some(_) => false,
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    false
                }
                None => c == '>',
            })
            .map(|(i, _)| i)
            .unwrap_or_else(|| {
                panic!(
                    "an unterminated tag: {:?}",
                    &tag_text[..tag_text.len().min(80)]
                )
            });
        let tag = &tag_text[..end];
        rest = &tag_text[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let expected = open
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(name.trim(), expected, "mismatched end tag");
        } else {
            let name: String = tag
                .trim_end_matches('/')
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            assert!(!name.is_empty(), "an empty tag");
            if open.is_empty() {
                roots += 1;
            }
            names.push(name.clone());
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    assert_eq!(roots, 1, "one root element");
    names
}

fn read_report(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_junit_report_is_complete_while_the_fake_runs_and_after_kill_9() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-junit9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("contract.xml");
    let (mut child, url) = start(&["serve", "--port", "0", "--junit", report.to_str().unwrap()]);
    // Valid from the start.
    let xml = read_report(&report);
    assert_well_formed_xml(&xml);
    assert!(xml.contains("tests=\"0\""), "{xml}");
    block_on(async {
        for month in ["2019-11", "2019-13", "2019-10"] {
            client()
                .post(format!("{url}/api/rest/Timbre/saldos"))
                .header("RCApiKey", "k")
                .json(&json!({ "MesConsulta": month }))
                .send()
                .await
                .unwrap();
        }
    });
    // Within a second of the last answer, the report on disk holds it.
    let deadline = Instant::now() + Duration::from_millis(1200);
    let xml = loop {
        let xml = read_report(&report);
        if xml.contains("tests=\"3\"") || Instant::now() > deadline {
            break xml;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let names = assert_well_formed_xml(&xml);
    assert_eq!(
        names.iter().filter(|n| *n == "testcase").count(),
        3,
        "{xml}"
    );
    assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<property name=\"coverage.saldos.answers\" value=\"2/6\"/>"),
        "{xml}"
    );

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after = read_report(&report);
    assert_well_formed_xml(&after);
    assert!(after.contains("tests=\"3\" failures=\"1\""), "{after}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn min_coverage_fails_the_run_below_it_and_the_coverage_is_logged_at_shutdown() {
    let run = |minimum: &str| {
        let (child, url) = start(&["serve", "--port", "0", "--min-coverage", minimum]);
        block_on(async {
            client()
                .post(format!("{url}/api/rest/Timbre/saldos"))
                .header("RCApiKey", "k")
                .json(&json!({ "MesConsulta": "2019-11" }))
                .send()
                .await
                .unwrap();
        });
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let low = run("1");
    assert_eq!(low.status.code(), Some(0), "{low:?}");
    let high = run("90");
    assert_eq!(high.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&high.stderr);
    assert!(stderr.contains("is below --min-coverage 90%"), "{stderr}");
}

#[test]
fn the_ci_snippet_stops_the_fake_and_leaves_a_valid_report_when_the_client_fails() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-snippet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!("{}/docs/ci/contract-tests.sh", env!("CARGO_MANIFEST_DIR"));
    // The README shows the script verbatim.
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        readme.contains(&text),
        "README.md must include docs/ci/contract-tests.sh verbatim"
    );

    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let client_tests =
        "curl -s -o /dev/null -X POST \"$EINVOICE_MOCK_URL/api/rest/Timbre/saldos\" \
        -H 'RCApiKey: k' -H 'Content-Type: application/json' -d '{\"MesConsulta\":\"2019-11\"}' \
        && echo 'a client test fails' && exit 3";
    let output = Command::new("bash")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("PATH", path)
        .env("CLIENT_TESTS", client_tests)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "the client's failure is the step's: {output:?}"
    );
    let xml = read_report(&dir.join("contract.xml"));
    assert_well_formed_xml(&xml);
    assert!(xml.contains("tests=\"1\" failures=\"0\""), "{xml}");
    // The fake was stopped, not left running: its shutdown line is in its log.
    let log = std::fs::read_to_string(dir.join("fake.log")).unwrap();
    assert!(log.contains("stopped"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_in_the_providers_format_counted_apart_from_drift() {
    use einvoice_mock::internals::server::proxy::{proxy_app_to, Targets};
    // A loopback port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target: reqwest::Url = format!("http://{}", closed.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(closed);
    let state = einvoice_mock::AppState::new(Config::embedded_default()).unwrap();
    let router = proxy_app_to(
        state.clone(),
        Targets {
            afacturar: None,
            sovos: Some(target),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = state.clone();
    tokio::spawn(async move {
        einvoice_mock::internals::server::serve_router_until(
            listener,
            router,
            &serving,
            None,
            std::future::pending(),
        )
        .await
    });

    let response = client()
        .post(format!("{url}/api/rest/Timbre/saldos"))
        .header("RCApiKey", "k")
        .json(&json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["Code"], "502", "{body}");
    assert!(body["errors"][0]["Message"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
    // No Afacturar target: a 502 in Afacturar's format.
    let response = client()
        .post(format!("{url}/api/radian/historico_eventos"))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer t")
        .multipart(Form::new().text("cufe", "4".repeat(96)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["codigo_error"], 502, "{body}");

    let journal = state.journal();
    assert_eq!(journal.upstream_errors(), 2);
    let all: Vec<_> = journal
        .entries()
        .map(|e| (&e.path, &e.violations))
        .collect();
    assert_eq!(
        journal.lifetime().violating,
        0,
        "not a contract violation: {all:?}"
    );
    let entry = journal.entries().next().unwrap();
    assert_eq!(entry.refusal, Some("upstream_error"));
    assert!(entry.violations.is_empty());
}

#[test]
fn proxy_accepts_only_http_and_https_targets() {
    let output = Command::new(BIN)
        .args(["proxy", "--port", "0", "--sovos-target", "ftp://127.0.0.1/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--sovos-target ftp://127.0.0.1/: only http:// and https:// targets"),
        "{stderr}"
    );
}

#[test]
fn the_default_configuration_documents_every_server_key_with_a_working_example() {
    let text = include_str!("../../src/config/default.toml");
    for key in [
        "fixed_clock",
        "fixed_tiempo_ejecucion",
        "rate_limit_per_minute",
        "webhook_hosts",
        "body_limit_bytes",
        "read_timeout_ms",
        "admin_token",
        "admin_allow_remote",
        "data_dir",
        "journal_capacity",
        "[[afacturar.invoices]]",
        "[[afacturar.events]]",
        "[[sovos.accounts]]",
    ] {
        assert!(text.contains(key), "default.toml does not document {key}");
    }
    // Every commented `key = value` of [server], uncommented, is a valid configuration.
    let server_end = text.find("[afacturar]").unwrap();
    let uncommented: String = text[..server_end]
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.split(' ').nth(1) == Some("=") => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::from_toml(&format!("{uncommented}\n{}", &text[server_end..]))
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(config.server.rate_limit_per_minute, Some(120));
    assert!(config.server.fixed_clock.is_some());
}

#[test]
fn a_fixed_clock_that_is_not_rfc_3339_names_the_expected_format() {
    let error = Config::from_toml("[server]\nfixed_clock = \"2022-11-30 21:22:17\"\n").unwrap_err();
    let text = format!("{error:#}");
    let chain = {
        let mut chain = text.clone();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        chain
    };
    assert!(chain.contains("RFC 3339"), "{chain}");
    assert!(chain.contains("2022-11-30T21:22:17-05:00"), "{chain}");
}

#[test]
fn a_movement_date_that_is_not_yyyy_mm_dd_names_the_expected_format() {
    let error = Config::from_toml(
        "[[sovos.accounts]]\ncuenta = \"C\"\nrfcs = [{ rfc = \"AAA010101AAA\", estado = \"Autorizado\" }]\n\
         movimientos = [{ rfc = \"AAA010101AAA\", fecha = \"17/10/2019\", monto = 1 }]\n",
    )
    .unwrap_err();
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(chain.contains("yyyy-mm-dd, like `2019-10-17`"), "{chain}");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_journaled() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = Config::embedded_default();
    config.server.read_timeout_ms = Some(300);
    let fake = FakeProvider::start_with(config).await;
    let mut stream = tokio::net::TcpStream::connect(fake.address())
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /api/rest/Timbre/saldos HTTP/1.1\r\nHost: x\r\nRCApiKey: k\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let (_, journal) = get_json(format!("{}/__admin/requests", fake.uri())).await;
    assert_eq!(journal["summary"]["requests"], 1, "{journal}");
    assert_eq!(
        journal["requests"][0]["refusal"], "request_timeout",
        "{journal}"
    );
    assert_eq!(journal["requests"][0]["status"], 408, "{journal}");
}

#[tokio::test]
async fn the_journal_page_has_filters_a_detail_pane_the_coverage_panel_and_wraps_findings() {
    let fake = FakeProvider::start().await;
    let page = client()
        .get(format!("{}/__admin/ui", fake.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for part in [
        "id=\"filter-operation\"",
        "id=\"filter-verdict\"",
        "id=\"detail\"",
        "id='detail-headers'",
        "/__admin/coverage",
        "td.findings { overflow-wrap: anywhere;",
        "dataset.findingsOverflow",
    ] {
        assert!(page.contains(part), "{part}");
    }
    // The filters go to the admin API as query parameters it accepts.
    assert!(page.contains("query.set(\"operation\"") && page.contains("query.set(\"verdict\""));
}

#[test]
fn the_wheel_is_a_maturin_bin_and_the_readme_shows_its_pytest_example_verbatim() {
    let root = env!("CARGO_MANIFEST_DIR");
    let pyproject = std::fs::read_to_string(format!("{root}/pyproject.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&pyproject).unwrap();
    assert_eq!(parsed["tool"]["maturin"]["bindings"].as_str(), Some("bin"));
    assert_eq!(
        parsed["build-system"]["build-backend"].as_str(),
        Some("maturin")
    );
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    for file in ["conftest.py", "test_saldos.py", "test_plugin.py"] {
        let text = std::fs::read_to_string(format!("{root}/docs/python/{file}")).unwrap();
        assert!(
            readme.contains(&text),
            "README.md must show docs/python/{file} verbatim"
        );
    }
    let run = std::fs::read_to_string(format!("{root}/.ci/run")).unwrap();
    assert!(run.contains("bash .ci/wheel-check.sh"));
    assert!(
        !readme.contains("github.com/<you>"),
        "no placeholder that looks real"
    );
}

#[test]
fn the_ci_snippet_fails_at_once_naming_the_cause_when_the_command_is_missing() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-nocmd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!("{}/docs/ci/contract-tests.sh", env!("CARGO_MANIFEST_DIR"));
    // A PATH with bash's own tools but no einvoice-mock.
    let output = Command::new("bash")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("PATH", "/usr/bin:/bin")
        .env("CLIENT_TESTS", "touch client-ran")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("einvoice-mock is not on PATH"), "{stderr}");
    assert!(
        !dir.join("client-ran").exists(),
        "the client ran without a fake"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_ci_snippet_fails_naming_the_cause_when_the_fake_does_not_start() {
    let dir = std::env::temp_dir().join(format!("einvoice-mock-nostart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A stand-in `einvoice-mock` that exits at once, as a bad configuration or a taken port do.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("einvoice-mock");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'error: port 8787 is in use' >&2\nexit 2\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = format!("{}/docs/ci/contract-tests.sh", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("CLIENT_TESTS", "touch client-ran")
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("einvoice-mock did not start"), "{stderr}");
    assert!(stderr.contains("port 8787 is in use"), "{stderr}");
    assert!(
        !dir.join("client-ran").exists(),
        "the client ran without a fake"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
