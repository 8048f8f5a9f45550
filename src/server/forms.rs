//! Reading form bodies — `multipart/form-data` and `application/x-www-form-urlencoded` —
//! from bytes already received.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};

/// A body that is not a form this fake reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormBodyError {
    /// Neither multipart nor urlencoded.
    #[error("not a form: Content-Type `{0}`")]
    UnsupportedMediaType(String),
    /// A form whose encoding is broken (no boundary, truncated, not UTF-8 …).
    #[error("malformed form body: {0}")]
    Malformed(String),
}

/// The fields of a form body, in order.
pub async fn read_fields(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Vec<(String, String)>, FormBodyError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(content_type)
                .map_err(|e| FormBodyError::Malformed(e.to_string()))?;
            let stream =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
            let mut multipart = multer::Multipart::new(stream, boundary);
            let mut fields = Vec::new();
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| FormBodyError::Malformed(e.to_string()))?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let value = field
                    .text()
                    .await
                    .map_err(|e| FormBodyError::Malformed(e.to_string()))?;
                fields.push((name, value));
            }
            Ok(fields)
        }
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes(&body).map_err(|e| FormBodyError::Malformed(e.to_string()))
        }
        _ => Err(FormBodyError::UnsupportedMediaType(media)),
    }
}
