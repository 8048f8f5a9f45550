//! Reading form bodies — `multipart/form-data` and `application/x-www-form-urlencoded` —
//! from bytes already received.

use std::future::Future as _;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{header, HeaderMap};

/// A body that is not a form this fake reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormBodyError {
    /// Neither multipart nor urlencoded.
    #[error("not a form: Content-Type `{0}`")]
    UnsupportedMediaType(String),
    /// A form whose encoding is broken (no boundary, truncated, a part head multer cannot read
    /// …); values that are not UTF-8 are not broken: they are read as bytes.
    #[error("malformed form body: {0}")]
    Malformed(String),
}

/// A form's fields in order: each name (as text) and its value as sent, bytes. PHP's `$_POST`
/// holds bytes too: whether a value is UTF-8 is for whoever reads it (`json_decode` for
/// `data`, contract note A48).
pub type FormFields = Vec<(String, Bytes)>;

/// The fields of a form body already received, in order.
///
/// Synchronous: the body is in memory, so multer's reader (an async stream over one chunk)
/// finishes on its first poll. Should it ever wait, the form counts as malformed rather than
/// blocking a caller that cannot wait (wiremock's `Match` and `Respond` are synchronous).
pub fn read_fields(headers: &HeaderMap, body: Bytes) -> Result<FormFields, FormBodyError> {
    let mut reading = pin!(read_fields_streaming(headers, body));
    match reading
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(fields) => fields,
        Poll::Pending => Err(FormBodyError::Malformed(
            "the form reader did not finish on a body in memory".to_owned(),
        )),
    }
}

async fn read_fields_streaming(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<FormFields, FormBodyError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Ok(urlencoded_fields(&body));
    }
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return Err(FormBodyError::UnsupportedMediaType(
            media.to_ascii_lowercase(),
        ));
    }
    let parsed;
    let boundary = match plain_boundary(content_type) {
        Some(boundary) => boundary,
        None => {
            parsed = multer::parse_boundary(content_type)
                .map_err(|e| FormBodyError::Malformed(e.to_string()))?;
            parsed.as_str()
        }
    };
    if let Some(fields) = plain_multipart(&body, boundary) {
        return Ok(fields);
    }
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary.to_owned());
    let mut fields = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| FormBodyError::Malformed(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        // The bytes as sent: multer's `text()` would decode them by the part's charset,
        // replacing what is not UTF-8 and dropping a byte order mark.
        let value = field
            .bytes()
            .await
            .map_err(|e| FormBodyError::Malformed(e.to_string()))?;
        fields.push((name, value));
    }
    Ok(fields)
}

/// The boundary of `multipart/form-data; boundary=…` (or `;boundary=`) written exactly so: no
/// other parameter, no space before the `;` or around the value, and a plain token (letters,
/// digits, `'+_-.`), as HTTP clients write it. `None` for anything else, which
/// `multer::parse_boundary` then reads (it parses the whole media type with `mime`, a cost on
/// every request) — or refuses: `mime` rejects a space before the `;` and a tab after it, and
/// this fast path must never accept what multer refuses.
fn plain_boundary(content_type: &str) -> Option<&str> {
    const MEDIA: &str = "multipart/form-data";
    let media = content_type.get(..MEDIA.len())?;
    if !media.eq_ignore_ascii_case(MEDIA) {
        return None;
    }
    let params = &content_type[MEDIA.len()..];
    let boundary = params
        .strip_prefix("; boundary=")
        .or_else(|| params.strip_prefix(";boundary="))?;
    let plain = !boundary.is_empty()
        && boundary.len() <= 70
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'+_-.".contains(&b));
    plain.then_some(boundary)
}

/// The fields of an urlencoded body as PHP reads them (`php_default_treat_data`): pairs split
/// at `&` (empty ones skipped), name and value at the first `=`, then `+` is a space and `%`
/// with two hex digits a byte (any other `%` stays). The values stay bytes; a name that is not
/// UTF-8 is kept with U+FFFD, and then names no field of the contract.
fn urlencoded_fields(body: &[u8]) -> FormFields {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match memchr::memchr(b'=', pair) {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            let name = String::from_utf8_lossy(&url_decode(name)).into_owned();
            (name, Bytes::from(url_decode(value)))
        })
        .collect()
}

/// PHP's `urldecode`: `+` is a space, `%XX` a byte, anything else as it is.
fn url_decode(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&byte) = text.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => match (
                text.get(i + 1).and_then(|&b| hex(b)),
                text.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// The fields of a multipart body in the plain shape that HTTP clients send for text fields
/// (every part `Content-Disposition: form-data; name="…"` and nothing else, no preamble or
/// epilogue), read in one pass over bytes already in memory. `None` for anything else, which
/// `multer` then reads as before: this is only a fast path, measured at about a tenth of the
/// CPU of `acuse_recibo_fev` and `historico_eventos` when every body went through multer's
/// streaming parser.
fn plain_multipart(body: &Bytes, boundary: &str) -> Option<FormFields> {
    let boundary = boundary.as_bytes();
    let mut rest = body.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let mut fields = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix(b"--") {
            return (after.is_empty() || after == b"\r\n").then_some(fields);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        // Part heads are a line or two: a scan, where `memmem` builds a searcher per call.
        let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n")?;
        let name = plain_part_name(std::str::from_utf8(&rest[..head_end]).ok()?)?;
        rest = &rest[head_end + 4..];
        let value_end = next_delimiter(rest, boundary)?;
        let value = body.slice_ref(&rest[..value_end]);
        fields.push((name.to_owned(), value));
        rest = &rest[value_end + 4 + boundary.len()..];
    }
}

/// Where `\r\n--{boundary}` starts in `rest`: each `\r` found by `memchr` is compared with
/// it in place, with no searcher built and no delimiter string formatted per request.
fn next_delimiter(rest: &[u8], boundary: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let at = from + memchr::memchr(b'\r', rest.get(from..)?)?;
        let after = &rest[at..];
        if after.starts_with(b"\r\n--") && after[4..].starts_with(boundary) {
            return Some(at);
        }
        from = at + 1;
    }
}

/// The field name of a part whose only header is `Content-Disposition: form-data; name="…"`.
fn plain_part_name(head: &str) -> Option<&str> {
    let (header, value) = head.split_once(':')?;
    if !header.eq_ignore_ascii_case("content-disposition") {
        return None;
    }
    let params = value.trim().strip_prefix("form-data;")?.trim_start();
    let name = params.strip_prefix("name=\"")?.strip_suffix('"')?;
    // Escapes, quotes, line breaks or other parameters (`filename`): multer's business.
    (!name.contains(['"', '\\', '\r', '\n', ';'])).then_some(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BOUNDARY: &str = "X-BOUNDARY-7MA4YWxkTrZu0gW";

    #[test]
    fn a_plain_boundary_is_read_as_multer_reads_it_and_anything_else_is_left_to_multer() {
        for content_type in [
            "multipart/form-data; boundary=----einvoicebench7MA4YWxkTrZu0gW",
            "multipart/form-data;boundary=X-BOUNDARY-7MA4YWxkTrZu0gW",
            "Multipart/Form-Data; boundary=a'b+c_d-e.f",
        ] {
            assert_eq!(
                plain_boundary(content_type).map(str::to_owned),
                multer::parse_boundary(content_type).ok(),
                "{content_type}"
            );
        }
        for content_type in [
            "multipart/form-data; boundary=\"quoted\"",
            "multipart/form-data; boundary=abc; charset=utf-8",
            "multipart/form-data; Boundary=abc",
            "multipart/form-data; boundary=",
            "multipart/form-data",
            // mime (through multer) refuses the first four; the fast path must not take them.
            "multipart/form-data ; boundary=x",
            "multipart/form-data;\tboundary=x",
            "multipart/form-data; boundary=x ",
            "multipart/form-data;  boundary=x",
            "multipart/mixed; boundary=x",
        ] {
            assert_eq!(plain_boundary(content_type), None, "{content_type}");
        }
    }

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}")
                .parse()
                .unwrap(),
        );
        headers
    }

    fn body(parts: &[(&str, &str)]) -> String {
        let mut body = String::new();
        for (name, value) in parts {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{BOUNDARY}--\r\n"));
        body
    }

    /// What multer alone reads from `body`.
    fn by_multer(body: &[u8]) -> Option<FormFields> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let bytes = Bytes::copy_from_slice(body);
            let stream =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
            let mut multipart = multer::Multipart::new(stream, BOUNDARY);
            let mut fields = Vec::new();
            while let Some(field) = multipart.next_field().await.ok()? {
                let name = field.name().unwrap_or_default().to_owned();
                fields.push((name, field.bytes().await.ok()?));
            }
            Some(fields)
        })
    }

    #[test]
    fn a_plain_form_is_read_as_multer_reads_it() {
        let body = body(&[
            ("cufe", "ab12"),
            ("data", "{\"a\": \"ñ\r\nx\"}"),
            ("vacio", ""),
            // Near misses of the delimiter, found by their `\r` and passed over.
            ("casi", "a\r\r\n--X-BOUNDARY\r\n-\r\n--\r"),
        ]);
        let fast = plain_multipart(&Bytes::from(body.clone()), BOUNDARY).unwrap();
        assert_eq!(Some(fast.clone()), by_multer(body.as_bytes()));
        assert_eq!(
            fast[1],
            ("data".to_owned(), Bytes::from("{\"a\": \"ñ\r\nx\"}"))
        );
    }

    #[test]
    fn values_are_the_bytes_sent_on_both_paths_byte_order_marks_and_invalid_utf8_included() {
        for value in [
            &b"\xef\xbb\xbf{}"[..],
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"\xc0\xaf\"}",
            b"{\"a\":\"\xed\xa0\x80\"}",
            b"\xff\xfe{\x00}\x00",
        ] {
            for disposition in ["name=\"data\"", "name=\"data\"; filename=\"d.json\""] {
                let body = [
                    format!(
                        "--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n"
                    )
                    .as_bytes(),
                    value,
                    format!("\r\n--{BOUNDARY}--\r\n").as_bytes(),
                ]
                .concat();
                let expected = vec![("data".to_owned(), Bytes::copy_from_slice(value))];
                assert_eq!(by_multer(&body).as_ref(), Some(&expected));
                assert_eq!(
                    read_fields(&headers(), Bytes::from(body)).unwrap(),
                    expected
                );
            }
        }
    }

    #[test]
    fn urlencoded_values_are_percent_decoded_to_bytes_as_php_decodes_them() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let body = "documento_obligado=888888888&&data=%EF%BB%BF%7B%7D+%ff%C0%af%zz%4&vacio=&solo";
        let fields = read_fields(&headers, Bytes::from(body)).unwrap();
        assert_eq!(
            fields,
            vec![
                ("documento_obligado".to_owned(), Bytes::from("888888888")),
                (
                    "data".to_owned(),
                    Bytes::from(&b"\xef\xbb\xbf{} \xff\xc0\xaf%zz%4"[..])
                ),
                ("vacio".to_owned(), Bytes::new()),
                ("solo".to_owned(), Bytes::new()),
            ]
        );
    }

    #[test]
    fn anything_but_the_plain_shape_is_left_to_multer() {
        let plain = body(&[("cufe", "ab12")]);
        let cases = [
            format!("preamble\r\n{plain}"),
            plain.replace("name=\"cufe\"", "name=\"cufe\"; filename=\"a.txt\""),
            plain.replace(
                "\r\n\r\nab12",
                "\r\nContent-Type: text/plain; charset=latin1\r\n\r\nab12",
            ),
            plain.replace("name=\"cufe\"", "name=\"cu\\\"fe\""),
            plain.replace(&format!("--{BOUNDARY}--\r\n"), ""),
            format!("{plain}epilogue"),
        ];
        for case in cases {
            assert_eq!(
                plain_multipart(&Bytes::from(case.clone()), BOUNDARY),
                None,
                "{case:?}"
            );
        }
        let latin1 = [plain.as_bytes(), b"\xff"].concat();
        assert_eq!(plain_multipart(&Bytes::from(latin1), BOUNDARY), None);
    }

    #[test]
    fn read_fields_gives_the_same_fields_on_both_paths() {
        let plain = body(&[("cufe", "ab12"), ("documento_obligado", "830020470")]);
        let with_filename = plain.replace("name=\"cufe\"", "name=\"cufe\"; filename=\"c\"");
        for text in [plain, with_filename] {
            let fields = read_fields(&headers(), Bytes::from(text.clone())).unwrap();
            assert_eq!(Some(fields), by_multer(text.as_bytes()), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn a_boundary_taken_by_the_fast_path_is_the_one_multer_reads(
            media in "(multipart/form-data|Multipart/Form-DATA|multipart/mixed)",
            separator in "[ \t]{0,2};[ \t]{0,2}",
            name in "(boundary|Boundary)=",
            value in "[-a-zA-Z0-9'+_. \t;=\"/]{0,12}",
        ) {
            let content_type = format!("{media}{separator}{name}{value}");
            if let Some(fast) = plain_boundary(&content_type) {
                prop_assert_eq!(
                    Some(fast.to_owned()),
                    multer::parse_boundary(&content_type).ok(),
                    "{}", content_type
                );
            }
        }

        #[test]
        fn generated_plain_forms_read_as_multer_reads_them(
            parts in proptest::collection::vec(("[a-z_]{1,12}", "[^\\x00]{0,40}"), 0..5)
        ) {
            let parts: Vec<(&str, &str)> = parts
                .iter()
                .filter(|(_, value)| !value.contains(BOUNDARY))
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let body = body(&parts);
            if let Some(fast) = plain_multipart(&Bytes::from(body.clone()), BOUNDARY) {
                prop_assert_eq!(Some(fast), by_multer(body.as_bytes()));
            }
        }
    }
}
