//! Webhook deliveries: the final result of a code-28 acuse, POSTed to
//! `generalidades.webhook`.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::AppState;

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// Where.
    pub url: String,
    /// What was (or would have been) sent.
    pub payload: Value,
    /// The webhook's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it was not delivered.
    pub error: Option<String>,
}

/// Whether the fake may call `url`: https to any host (or to `server.webhook_hosts` when
/// set), plain http only to loopback, for tests.
pub fn allowed(url: &reqwest::Url, hosts: &[String]) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" if loopback || hosts.is_empty() || hosts.iter().any(|h| h == host) => Ok(()),
        "https" => Err(format!("host `{host}` is not in server.webhook_hosts")),
        "http" if loopback => Ok(()),
        "http" => Err("the documents require https; plain http is allowed to loopback only".into()),
        other => Err(format!("unsupported scheme `{other}`")),
    }
}

/// POSTs `payload` to `url` and records the attempt.
pub async fn deliver(state: &AppState, url: &str, payload: Value) {
    let mut delivery = WebhookDelivery {
        url: url.to_owned(),
        payload,
        status: None,
        error: None,
    };
    let checked = reqwest::Url::parse(url)
        .map_err(|e| e.to_string())
        .and_then(|parsed| allowed(&parsed, &state.config().server.webhook_hosts).map(|()| parsed));
    match checked {
        Err(why) => delivery.error = Some(why),
        Ok(parsed) => {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .no_proxy()
                .build();
            match client {
                Err(e) => delivery.error = Some(e.to_string()),
                Ok(client) => match client.post(parsed).json(&delivery.payload).send().await {
                    Ok(response) => delivery.status = Some(response.status().as_u16()),
                    Err(e) => delivery.error = Some(e.to_string()),
                },
            }
        }
    }
    if let Some(error) = &delivery.error {
        tracing::warn!(url, %error, "webhook not delivered");
    } else {
        tracing::info!(url, status = delivery.status, "webhook delivered");
    }
    state.journal().record_delivery(delivery);
}
