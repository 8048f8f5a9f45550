//! Code-28 webhooks: never to the fake itself, never through a redirect, pending replays
//! bounded and freed.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{acuse, arm, client, deterministic_config, ejemplo_1_with};
use einvoice_mock::FakeProvider;

/// Sends a code-28 acuse whose webhook is `hook`, and waits for the delivery attempt.
async fn code_28_delivery(fake: &FakeProvider, hook: &str) -> Value {
    arm(
        fake,
        json!({ "operation": "acuse_recibo_fev", "respond": "28", "webhook_delay_ms": 0 }),
    )
    .await;
    let cufe = format!("{:096x}", fastrand::u128(..));
    let answer: Value = acuse(fake, ejemplo_1_with(&cufe, Some(hook)), "token_cliente")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["codigo_error"], 28, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(delivery) = fake.state().journal().deliveries().last() {
            return serde_json::to_value(delivery).unwrap();
        }
        assert!(Instant::now() < deadline, "no delivery attempt recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_webhook_aimed_at_the_fakes_own_admin_api_is_never_sent() {
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let kept = "7".repeat(96);
    fake.state()
        .record_event(&kept, einvoice_mock::EventCode::AcuseRecibo, "830020470")
        .unwrap();
    let port = fake.address().port();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let hook = format!("http://{host}:{port}/__admin/reset");
        let delivery = code_28_delivery(&fake, &hook).await;
        assert!(delivery["status"].is_null(), "{delivery}");
        assert!(
            delivery["error"]
                .as_str()
                .unwrap()
                .contains("the fake itself"),
            "{delivery}"
        );
        assert_eq!(fake.state().events().history(&kept).len(), 1, "not reset");
    }
}

#[tokio::test]
async fn a_webhook_that_redirects_is_not_followed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let followed = Arc::new(AtomicUsize::new(0));
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_address = target.local_addr().unwrap();
    let counted = Arc::clone(&followed);
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "followed" }
        });
        axum::serve(target, app).await
    });
    let redirecting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", redirecting.local_addr().unwrap());
    tokio::spawn(async move {
        let location = format!("http://{target_address}/elsewhere");
        let app = axum::Router::new().fallback(move || {
            let location = location.clone();
            async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, location)],
                )
            }
        });
        axum::serve(redirecting, app).await
    });
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let delivery = code_28_delivery(&fake, &hook).await;
    assert_eq!(delivery["status"], 307, "{delivery}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

/// A webhook named by host (the name resolved once, its addresses pinned) is delivered as a
/// JSON POST with `accept: */*` and the URL's credentials as basic auth.
#[tokio::test]
async fn a_webhook_named_by_host_is_delivered_to_the_addresses_checked() {
    let (seen, mut received) = tokio::sync::mpsc::unbounded_channel();
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = target.local_addr().unwrap().port();
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let seen = seen.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let _ = seen.send((parts, body));
                StatusCode::ACCEPTED
            }
        });
        axum::serve(target, app).await
    });
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let hook = format!("http://hook:s3cret@localhost:{port}/hook");
    let delivery = code_28_delivery(&fake, &hook).await;
    assert_eq!(delivery["status"], 202, "{delivery}");
    assert_eq!(
        delivery["url"],
        format!("http://****@localhost:{port}/hook")
    );
    let (parts, body) = received.recv().await.unwrap();
    assert_eq!(parts.method, "POST");
    assert_eq!(parts.uri, "/hook");
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("accept"), Some("*/*"));
    // base64("hook:s3cret")
    assert_eq!(header("authorization"), Some("Basic aG9vazpzM2NyZXQ="));
    assert_eq!(header("host"), Some(format!("localhost:{port}").as_str()));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload, delivery["payload"], "{delivery}");
}

#[tokio::test]
async fn pending_code_28_replays_are_bounded_and_freed_when_their_scenario_is_disarmed() {
    use einvoice_mock::internals::server::scenarios::MAX_PENDING_REPLAYS;
    let fake = FakeProvider::start_with(deterministic_config()).await;
    let armed: Value = client()
        .post(format!("{}/__admin/scenarios", fake.uri()))
        .json(&json!({ "operation": "acuse_recibo_fev", "respond": "28", "times": null, "webhook_delay_ms": 600_000 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook = "http://127.0.0.1:9/hook";
    for round in 0..(MAX_PENDING_REPLAYS + 6) {
        let answer: Value = acuse(
            &fake,
            ejemplo_1_with(&format!("{round:096x}"), Some(hook)),
            "t",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        // The client is always answered its 28.
        assert_eq!(answer["codigo_error"], 28, "{answer}");
    }
    let (pending, bytes) = fake.state().scenarios().pending_replays();
    assert_eq!(pending, MAX_PENDING_REPLAYS);
    assert!(bytes > 0);
    // The ones past the bound are recorded as not scheduled.
    let refused = fake
        .state()
        .journal()
        .deliveries()
        .filter(|d| {
            d.error
                .as_deref()
                .is_some_and(|e| e.starts_with("not scheduled"))
        })
        .count();
    assert_eq!(refused, 6);
    // Disarming the scenario cancels its replays and frees what they held.
    let id = armed["id"].as_u64().unwrap();
    let removed = client()
        .delete(format!("{}/__admin/scenarios/{id}", fake.uri()))
        .send()
        .await
        .unwrap();
    assert!(removed.status().is_success());
    assert_eq!(fake.state().scenarios().pending_replays(), (0, 0));
}
