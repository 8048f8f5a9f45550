//! Issue 20: the journal keeps a byte budget, counted as a read writes it, and reading it
//! cannot amplify what it keeps.

use super::{acuse, ejemplo_1_with, get_json, saldos, urlencode};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::StatusCode;
use serde_json::json;
use serde_json::Value;

use super::client;
use einvoice_mock::{Config, FakeProvider};

async fn read(fake: &FakeProvider, query: &str) -> (StatusCode, Vec<u8>, Value) {
    let response = client()
        .get(format!("{}/__admin/requests?{query}", fake.uri()))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap().to_vec();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, bytes, body)
}

fn saldos_request(fake: &FakeProvider) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/api/rest/Timbre/saldos", fake.uri()))
        .header("RCApiKey", "k")
        .header("Content-Type", "application/json")
}

/// The bytes a journal value holds: a string's, or a `{"base64": …}`'s decoded.
fn raw_bytes(value: &Value) -> Vec<u8> {
    use base64::Engine as _;
    match value {
        Value::String(text) => text.as_bytes().to_vec(),
        other => base64::engine::general_purpose::STANDARD
            .decode(other["base64"].as_str().unwrap_or_default())
            .unwrap(),
    }
}

fn ids(page: &Value) -> Vec<u64> {
    page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn hostile_header_bytes_are_kept_as_sent_within_the_entry_budget_and_marked_truncated() {
    let mut config = Config::embedded_default();
    config.server.journal_entry_max_bytes = Some(16 * 1024);
    let fake = FakeProvider::start_with(config).await;
    let mut request = saldos_request(&fake).body(r#"{"MesConsulta":"2019-11"}"#);
    for i in 0..20 {
        request = request.header(
            HeaderName::from_bytes(format!("x-hostile-{i}").as_bytes()).unwrap(),
            HeaderValue::from_bytes(&[0xff; 2_000]).unwrap(),
        );
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    let (status, _, page) = read(&fake, "").await;
    assert_eq!(status, 200);
    let entry = &page["requests"][0];
    let written = serde_json::to_vec(entry).unwrap().len();
    assert!(written <= 16 * 1024, "{written} bytes for a 16 KiB budget");
    let hostile = entry["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "x-hostile-0")
        .unwrap();
    // Bytes that escaping would more than double are shown as base64, never as U+FFFD.
    let kept = raw_bytes(&hostile[1]);
    assert!(
        !kept.is_empty() && kept.iter().all(|&b| b == 0xff),
        "{:.80}",
        hostile[1]
    );
    // 40,000 bytes of values sent, about 10,000 of them fit: the rest is counted.
    let truncated = entry["truncated"].as_u64().unwrap();
    assert!((25_000..=40_000 + 300).contains(&truncated), "{truncated}");
    assert_eq!(entry["verdict"], "conforms");
}

#[tokio::test]
async fn a_journal_read_writes_at_most_twice_what_the_journal_keeps() {
    let mut config = Config::embedded_default();
    config.server.journal_max_bytes = Some(1024 * 1024);
    let fake = FakeProvider::start_with(config).await;
    for _ in 0..40 {
        let answer = saldos_request(&fake)
            .body(vec![0x01; 64 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
    }
    let (status, bytes, page) = read(&fake, "limit=1000").await;
    assert_eq!(status, 200);
    let kept = page["journal"]["bytes"].as_u64().unwrap() as usize;
    assert!(kept <= 512 * 1024, "{kept}");
    assert!(
        bytes.len() <= 2 * kept,
        "{} bytes for {kept} kept",
        bytes.len()
    );
    // And at most twice the client's bytes the page holds: 0x01 is read as base64, not as
    // `\u0001` (six bytes for one).
    let raw: usize = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| raw_bytes(&entry["body"]).len())
        .sum();
    assert!(
        bytes.len() <= 2 * raw,
        "{} bytes read for {raw} bytes of bodies",
        bytes.len()
    );
    assert_eq!(page["summary"]["requests"], 40);
    // Oldest entries went to keep the budget; the newest is there.
    assert_eq!(*ids(&page).last().unwrap(), 40);
    assert!(ids(&page).len() < 40);
}

#[tokio::test]
async fn pages_follow_their_cursors_and_after_gives_only_what_is_new() {
    let fake = FakeProvider::start().await;
    for _ in 0..5 {
        saldos_request(&fake)
            .body(r#"{"MesConsulta":"2019-11"}"#)
            .send()
            .await
            .unwrap();
    }
    let (_, _, latest) = read(&fake, "limit=2").await;
    assert_eq!(ids(&latest), [4, 5]);
    assert_eq!(latest["next"]["before"], 4);
    assert_eq!(latest["next"]["after"], 5);
    let (_, _, older) = read(&fake, "limit=2&before=4").await;
    assert_eq!(ids(&older), [2, 3]);
    let (_, _, nothing_new) = read(&fake, "after=5").await;
    assert!(ids(&nothing_new).is_empty());
    saldos_request(&fake)
        .body(r#"{"MesConsulta":"2019-11"}"#)
        .send()
        .await
        .unwrap();
    let (_, _, new) = read(&fake, "after=5").await;
    assert_eq!(ids(&new), [6]);
    assert_eq!(new["next"]["after"], 6);
    assert_eq!(new["journal"]["oldest"], 1);
}

#[tokio::test]
async fn bad_limits_and_cursors_are_refused_with_a_json_400() {
    let fake = FakeProvider::start().await;
    saldos_request(&fake)
        .body(r#"{"MesConsulta":"2019-11"}"#)
        .send()
        .await
        .unwrap();
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "after=abc",
        "before=-1",
        "after=1&before=1",
        "after=99",
    ] {
        for path in ["requests", "violations"] {
            let response = client()
                .get(format!("{}/__admin/{path}?{bad}", fake.uri()))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path}?{bad}");
            let body: Value = response.json().await.unwrap();
            assert!(body["error"].is_string(), "{path}?{bad}: {body}");
        }
    }
}

#[tokio::test]
async fn requests_filter_by_operation_verdict_status_since_and_limit() {
    let fake = FakeProvider::start().await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    saldos(&fake, json!({ "MesConsulta": "2019-11" }))
        .send()
        .await
        .unwrap();
    saldos(&fake, json!({ "MesConsulta": "2019-13" }))
        .send()
        .await
        .unwrap();
    acuse(&fake, ejemplo_1_with(&"7".repeat(96), None), "t")
        .send()
        .await
        .unwrap();
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
