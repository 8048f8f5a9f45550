//! Webhook deliveries: the final result of a code-28 acuse, POSTed to
//! `generalidades.webhook`.
//!
//! A webhook URL comes from a client's request, so the fake guards where it goes (issue 15):
//! the scheme and host rules of [`allowed`], never the fake's own listening address (a webhook
//! aimed at `/__admin/reset` would reset it), the address checked is the address connected to
//! (the name is resolved once and pinned), and redirects are not followed (the 3xx is recorded).
//! Credentials in a URL (`user:password@`) are masked wherever it is logged or journaled.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::AppState;

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// Where (credentials masked).
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
    let loopback = crate::respond::afacturar::is_loopback_host(host);
    match url.scheme() {
        "https" if loopback || hosts.is_empty() || hosts.iter().any(|h| h == host) => Ok(()),
        "https" => Err(format!("host `{host}` is not in server.webhook_hosts")),
        "http" if loopback => Ok(()),
        "http" => Err("the documents require https; plain http is allowed to loopback only".into()),
        other => Err(format!("unsupported scheme `{other}`")),
    }
}

/// Whether connecting to `target` could reach the fake listening on `own`: the same port on
/// the same address, on an address of this machine's loopback, or on the unspecified address
/// (which Linux connects to the local host), or any address when the fake listens on all.
pub fn reaches_self(target: SocketAddr, own: SocketAddr) -> bool {
    let (ip, own_ip) = (target.ip().to_canonical(), own.ip().to_canonical());
    target.port() == own.port()
        && (own_ip.is_unspecified() || ip == own_ip || ip.is_loopback() || ip.is_unspecified())
}

/// `url` (or any text holding URLs) with the userinfo of each URL (`user:password@`) replaced
/// by `****@`; borrowed when there is none.
pub fn mask_userinfo(text: &str) -> Cow<'_, str> {
    if !text.contains('@') || !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut masked = false;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(i) => {
                out.push_str("****@");
                out.push_str(&authority[i + 1..]);
                masked = true;
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    if masked {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// The address in `url`'s host, when it is one (`127.0.0.1`, `[::1]`).
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    url.host_str()?.trim_matches(['[', ']']).parse().ok()
}

/// The addresses `url` connects to, resolved once; refused when one of them is the fake's own.
async fn resolve(url: &reqwest::Url, own: Option<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "the URL has no port".to_owned())?;
    let addresses: Vec<SocketAddr> = match literal_ip(url) {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => {
            let name = url
                .host_str()
                .ok_or_else(|| "the URL has no host".to_owned())?;
            tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| format!("cannot resolve `{name}`: {e}"))?
                .collect()
        }
    };
    if addresses.is_empty() {
        return Err("the host resolves to no address".into());
    }
    if let Some(own) = own {
        if let Some(target) = addresses.iter().find(|a| reaches_self(**a, own)) {
            return Err(format!(
                "the webhook would reach the fake itself ({target}, listening on {own})"
            ));
        }
    }
    Ok(addresses)
}

/// POSTs `payload` to `url` and records the attempt.
pub async fn deliver(state: &AppState, url: &str, payload: Value) {
    let shown = mask_userinfo(url).into_owned();
    let mut delivery = WebhookDelivery {
        url: shown.clone(),
        payload,
        status: None,
        error: None,
    };
    let checked = match reqwest::Url::parse(url)
        .map_err(|e| e.to_string())
        .and_then(|parsed| allowed(&parsed, &state.config().server.webhook_hosts).map(|()| parsed))
    {
        Ok(parsed) => resolve(&parsed, state.connections().local_address())
            .await
            .map(|addresses| (parsed, addresses)),
        Err(why) => Err(why),
    };
    match checked {
        Err(why) => delivery.error = Some(why),
        Ok((parsed, addresses)) => {
            let mut client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                // A redirect would go where nothing above checked: its 3xx is the answer.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy();
            if let (None, Some(name)) = (literal_ip(&parsed), parsed.host_str()) {
                // Connect to the addresses checked, not to what a second lookup says.
                client = client.resolve_to_addrs(name, &addresses);
            }
            match client.build() {
                Err(e) => delivery.error = Some(e.to_string()),
                Ok(client) => match client.post(parsed).json(&delivery.payload).send().await {
                    Ok(response) => delivery.status = Some(response.status().as_u16()),
                    Err(e) => delivery.error = Some(mask_userinfo(&e.to_string()).into_owned()),
                },
            }
        }
    }
    if let Some(error) = &delivery.error {
        tracing::warn!(url = %shown, %error, "webhook not delivered");
    } else {
        tracing::info!(url = %shown, status = delivery.status, "webhook delivered");
    }
    state.journal().record_delivery(delivery);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_masked_in_urls_and_in_text_holding_them() {
        assert_eq!(
            mask_userinfo("https://user:s3cret@hooks.example/a?b=c"),
            "https://****@hooks.example/a?b=c"
        );
        assert_eq!(
            mask_userinfo(r#"{"webhook":"http://u:p@127.0.0.1:9/x","y":"a@b"}"#),
            r#"{"webhook":"http://****@127.0.0.1:9/x","y":"a@b"}"#
        );
        assert_eq!(
            mask_userinfo(r#"\"webhook\": \"https://a:b@h\""#),
            r#"\"webhook\": \"https://****@h\""#
        );
        assert!(matches!(
            mask_userinfo("https://hooks.example/a@b"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn the_fakes_own_address_is_recognised_however_it_is_written() {
        let own: SocketAddr = "127.0.0.1:8787"
            .parse()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8787)));
        for target in [
            "127.0.0.1:8787",
            "0.0.0.0:8787",
            "[::1]:8787",
            "[::ffff:127.0.0.1]:8787",
            "[::]:8787",
        ] {
            let target: SocketAddr = target.parse().unwrap_or(own);
            assert!(reaches_self(target, own), "{target}");
        }
        let other: SocketAddr = "127.0.0.1:9999".parse().unwrap_or(own);
        assert!(!reaches_self(other, own));
        let everywhere: SocketAddr = "0.0.0.0:8787".parse().unwrap_or(own);
        let lan: SocketAddr = "192.0.2.7:8787".parse().unwrap_or(own);
        assert!(reaches_self(lan, everywhere));
    }
}
