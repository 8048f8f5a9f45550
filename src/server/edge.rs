//! HTTP's own rules, judged from a request's head before its body is touched: one valid
//! `Host` (RFC 9112 §3.2), the authority a request names (§3.2.2), and a declared body over
//! the limit (refused before hyper sends `100 Continue`, which it does on the body's first
//! read). `intercept` answers these refusals in the provider's format and journals them; the
//! admin guard answers them in JSON.
//!
//! The `Host` rules are for HTTP messages: the accept loop notes a request that breaks them
//! ([`BadHost`]); a request handed to the router in-process (`oneshot`, as embedding code and
//! tests build them, usually without a `Host`) never came off a connection and is not judged
//! by them.

use axum::http::{header, HeaderMap, Uri, Version};

/// A request off a connection whose `Host` breaks RFC 9112 §3.2, and how: noted by the accept
/// loop in the request's extensions for the router (on the direct path, in `intercept`'s
/// `Arrival`), refused by `intercept` and the admin guard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BadHost(pub(crate) &'static str);

/// What is wrong with a request's `Host`, if anything: HTTP/1.1 without one, any version with
/// more than one, or a value that is not `host[:port]` (`localhost:80/evil`, `a@b`, a space).
/// HTTP/1.0 may omit it; HTTP/2 names its authority in `:authority` instead.
pub(crate) fn host_problem(version: Version, headers: &HeaderMap) -> Option<&'static str> {
    let mut hosts = headers.get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if version == Version::HTTP_11 => {
            Some("an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)")
        }
        (None, _) => None,
        (Some(_), Some(_)) => Some("a request has one Host header, not several (RFC 9112 §3.2)"),
        (Some(host), None) => match host.to_str().ok().and_then(split_authority) {
            Some(_) => None,
            None => Some("the Host header is not host[:port] (RFC 9112 §3.2, RFC 3986 §3.2)"),
        },
    }
}

/// The authority the request names: the target's own in absolute form (and HTTP/2's
/// `:authority`), which RFC 9112 §3.2.2 puts before `Host`; else `Host`. `None` when the
/// request names none (HTTP/1.0 without `Host`) or names it in bytes that are not text.
pub(crate) fn named_authority<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    match uri.authority() {
        Some(authority) => Some(authority.as_str()),
        None => headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    }
}

/// The body length a request declares (`Content-Length`), when it declares one that parses.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The `Content-Length` a request declares, when it declares one over `limit`.
pub(crate) fn declared_over(headers: &HeaderMap, limit: usize) -> Option<u64> {
    over_limit(declared_length(headers), limit)
}

/// A `declared` length, when it is over `limit`.
pub(crate) fn over_limit(declared: Option<u64>, limit: usize) -> Option<u64> {
    declared.filter(|&length| length > u64::try_from(limit).unwrap_or(u64::MAX))
}

/// `host[:port]` as RFC 3986 writes an authority without userinfo: an IP literal in brackets,
/// or a registered name or IPv4 address (unreserved characters, `%XX`, sub-delimiters), then
/// an optional port of digits. The host and the port, or `None` for anything else.
pub(crate) fn split_authority(authority: &str) -> Option<(&str, &str)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (literal, after) = rest.split_once(']')?;
            let literal_ok = !literal.is_empty()
                && literal
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b":.".contains(&b));
            if !literal_ok {
                return None;
            }
            let port = match after {
                "" => "",
                _ => after.strip_prefix(':')?,
            };
            (&authority[..literal.len() + 2], port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, port),
            None => (authority, ""),
        },
    };
    let name_ok = host.starts_with('[')
        || host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b));
    (name_ok && port.bytes().all(|b| b.is_ascii_digit())).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(hosts: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for host in hosts {
            map.append(header::HOST, HeaderValue::from_str(host).unwrap());
        }
        map
    }

    #[test]
    fn http_1_1_needs_exactly_one_host_of_the_form_host_and_port() {
        for ok in ["localhost", "127.0.0.1:8787", "[::1]:8787", "a.example", ""] {
            assert_eq!(
                host_problem(Version::HTTP_11, &headers(&[ok])),
                None,
                "{ok}"
            );
        }
        for bad in [
            &["localhost:80/evil"][..],
            &["user@localhost"],
            &["local host"],
            &["[::1"],
            &["[::1]x"],
            &["localhost:8o"],
            &["localhost", "localhost"],
            &[],
        ] {
            assert!(
                host_problem(Version::HTTP_11, &headers(bad)).is_some(),
                "{bad:?}"
            );
        }
        assert_eq!(host_problem(Version::HTTP_10, &headers(&[])), None);
        assert_eq!(host_problem(Version::HTTP_2, &headers(&[])), None);
        assert!(host_problem(Version::HTTP_10, &headers(&["a", "b"])).is_some());
    }

    #[test]
    fn the_authority_of_an_absolute_target_comes_before_host() {
        let uri: Uri = "http://evil.example/__admin/requests".parse().unwrap();
        assert_eq!(
            named_authority(&uri, &headers(&["localhost"])),
            Some("evil.example")
        );
        let uri: Uri = "/__admin/requests".parse().unwrap();
        assert_eq!(
            named_authority(&uri, &headers(&["localhost"])),
            Some("localhost")
        );
        assert_eq!(named_authority(&uri, &headers(&[])), None);
    }

    #[test]
    fn a_declared_length_over_the_limit_is_told_apart_before_any_byte_is_read() {
        let mut map = HeaderMap::new();
        assert_eq!(declared_over(&map, 10), None);
        map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert_eq!(declared_over(&map, 10), None);
        map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("20000000"));
        assert_eq!(declared_over(&map, 10), Some(20_000_000));
    }
}
