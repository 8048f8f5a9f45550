//! Contract verification of a raw HTTP request: what the client sent, judged against the
//! documents, independently of how the fake answers it.

use bytes::Bytes;
use http::{header, HeaderMap, Method};
use serde::Serialize;

use super::forms::{read_fields, FormBodyError, FormFields};
use crate::contract::{
    read_form, Contract, Document, Form, FormError, Node, Operation, Provider, Violation,
    Violations,
};
use crate::render::afacturar::php_validator;
use crate::render::sovos::errors::SovosError;

/// One way a request breaks the documented contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Where: `method`, `header Authorization`, `body`, `form field cufe`, or a JSON Pointer
    /// into the payload (`data/evento/0/…` for the `data` document of `acuse_recibo_fev`).
    pub location: String,
    /// What rule: a JSON Schema keyword, or `method`, `header`, `content-type`, `json`, `form`.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

/// What verification made of the body: parsed and validated once, then handed to
/// [`answer`](super::answer), which answers from it and never reads the body again.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A form operation whose body is not a form (`Content-Type` neither multipart nor
    /// urlencoded).
    NotAForm,
    /// A form whose encoding is broken (no boundary, truncated, not UTF-8 …).
    MalformedForm,
    /// A readable form that lacks a field or whose `data` is not JSON.
    FormRefused {
        /// Why.
        error: FormError,
        /// The last `documento_obligado` sent (PHP's `$_POST` keeps the last value).
        documento_obligado: Option<String>,
    },
    /// A JSON operation whose body is not JSON.
    NotJson,
    /// A form operation whose form level passed.
    Form {
        /// The fields and the parsed `data`.
        form: Form,
        /// The form fields against the form schema.
        form_violations: Violations,
        /// The `data` document against its schema.
        data_violations: Violations,
    },
    /// A JSON operation whose body is JSON.
    Json {
        /// The body.
        payload: Document,
        /// The body against its schema.
        violations: Violations,
    },
}

/// What verification found in one request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// The documented operation the request was sent to, if any.
    pub operation: Option<Operation>,
    /// Every finding; empty means the request conforms.
    pub findings: Vec<Finding>,
    /// The Afacturar form fields of a form that could be read but not parsed (a parsed
    /// form, and the Sovos body, are in `parsed`; [`Verdict::payload`] reads any of them).
    #[serde(skip)]
    pub fields: Option<Document>,
    /// The parsed request and its violations, for the handler.
    #[serde(skip)]
    pub parsed: Option<Parsed>,
}

impl Verdict {
    /// Whether the request conforms to the contract.
    pub fn conforms(&self) -> bool {
        self.operation.is_some() && self.findings.is_empty()
    }

    /// The parsed payload, while the verdict holds it: the Afacturar form fields or the
    /// Sovos body.
    pub fn payload(&self) -> Option<Node<'_>> {
        match (&self.fields, &self.parsed) {
            (Some(fields), _) => Some(fields.root()),
            (None, Some(Parsed::Form { form, .. })) => Some(form.fields.root()),
            (None, Some(Parsed::Json { payload, .. })) => Some(payload.root()),
            (None, _) => None,
        }
    }

    /// For each field `operation` documents, whether the request sent it: in the form fields
    /// (or the JSON body) or the parsed `data` document.
    pub fn sent_fields(&self, operation: Operation) -> Vec<bool> {
        crate::contract::sent_fields(operation, self.payload(), self.data().map(Document::root))
    }

    /// The CUFEs the request names (`cufe` field, or the `data` document's events).
    pub fn cufes(&self) -> Vec<&str> {
        let Some(payload) = self.payload() else {
            return Vec::new();
        };
        let mut found: Vec<&str> = payload
            .get("cufe")
            .and_then(Node::as_str)
            .into_iter()
            .collect();
        if let Some(data) = self.data() {
            found.extend(crate::contract::event_cufes(data));
        }
        found
    }

    /// The RFC the request names (`RFCConsulta`).
    pub fn rfc(&self) -> Option<&str> {
        self.payload()?.get("RFCConsulta")?.as_str()
    }

    /// The webhook of an event request (`acuse_recibo_fev`, `recibo_bien_servicio`, `reclamo`), if
    /// given.
    pub fn webhook(&self) -> Option<&str> {
        self.data()?
            .root()
            .get("generalidades")?
            .get("webhook")?
            .as_str()
    }

    /// The parsed `data` document of an event request, while the verdict still holds it.
    fn data(&self) -> Option<&Document> {
        match &self.parsed {
            Some(Parsed::Form { form, .. }) => form.data.as_ref(),
            _ => None,
        }
    }

    fn push(&mut self, location: impl Into<String>, rule: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            location: location.into(),
            rule: rule.to_owned(),
            message: message.into(),
        });
    }
}

/// Sovos's API key header. A constant name is looked up without parsing and lowercasing a
/// `&str` on every call (about 350 instructions each, twice per Sovos request).
const RC_API_KEY: header::HeaderName = header::HeaderName::from_static("rcapikey");

/// The credential a request carries: the Bearer token (Afacturar) or the `RCApiKey` (Sovos).
pub fn credential(provider: Provider, headers: &HeaderMap) -> Option<&str> {
    match provider {
        Provider::Afacturar => headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty()),
        Provider::Sovos => headers
            .get(RC_API_KEY)?
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty()),
    }
}

/// Masks a secret for logs and the journal: all but the last four characters become `*`, and
/// a secret shorter than 12 characters is masked whole (four characters of a short one are
/// most of it). At most 16 `*` are written: a 60 KB token costs the journal 20 characters.
pub fn mask(secret: &str) -> String {
    let (stars, tail) = masked(secret);
    let mut out = String::with_capacity(stars + tail.len());
    out.extend(std::iter::repeat_n('*', stars));
    out.push_str(tail);
    out
}

/// [`mask`], appended to `out`.
pub fn mask_into(secret: &str, out: &mut Vec<u8>) {
    let (stars, tail) = masked(secret);
    out.extend(std::iter::repeat_n(b'*', stars));
    out.extend_from_slice(tail.as_bytes());
}

/// How many `*` mask `secret`, and the end of it left as it is.
fn masked(secret: &str) -> (usize, &str) {
    const STARS: usize = 16;
    let count = secret.chars().count();
    let keep = if count >= 12 { 4 } else { 0 };
    let tail = secret
        .char_indices()
        .nth(count - keep)
        .map_or("", |(at, _)| &secret[at..]);
    ((count - keep).min(STARS), tail)
}

/// The media type of `Content-Type`, as sent (compared without case; lowercased only for a
/// finding, so that a conforming request allocates nothing here).
fn media_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
}

/// Verifies a request to `path` against the contract.
pub fn verify(
    contract: &Contract,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Verdict {
    match Operation::from_path(path) {
        Some(operation) => verify_as(contract, operation, method, headers, body),
        None => {
            let mut verdict = Verdict::default();
            verdict.push(
                "path",
                "path",
                format!("{path} is not a documented operation"),
            );
            verdict
        }
    }
}

/// Verifies a request as one to `operation`, whatever path it was sent to.
pub fn verify_as(
    contract: &Contract,
    operation: Operation,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Verdict {
    let mut verdict = Verdict {
        operation: Some(operation),
        ..Verdict::default()
    };
    if method != Method::POST {
        verdict.push(
            "method",
            "method",
            format!("{} is documented as POST, got {method}", operation.path()),
        );
    }
    let provider = operation.provider();
    match provider {
        Provider::Afacturar => {
            if credential(provider, headers).is_none() {
                verdict.push(
                    "header Authorization",
                    "header",
                    "documented as `Authorization: Bearer <token>`",
                );
            }
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !accept.contains("application/json") {
                verdict.push(
                    "header Accept",
                    "header",
                    "documented as `Accept: application/json` (without it the PHP framework may answer HTML)",
                );
            }
            let media = media_type(headers);
            if !media.eq_ignore_ascii_case("multipart/form-data")
                && !media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
            {
                verdict.push(
                    "header Content-Type",
                    "content-type",
                    format!(
                        "documented as multipart/form-data, got `{}`",
                        media.to_ascii_lowercase()
                    ),
                );
                verdict.parsed = Some(Parsed::NotAForm);
                return verdict;
            }
            match read_fields(headers, body.clone()) {
                Ok(fields) => verify_form(contract, operation, fields, &mut verdict),
                Err(FormBodyError::UnsupportedMediaType(_)) => {
                    verdict.parsed = Some(Parsed::NotAForm);
                }
                Err(FormBodyError::Malformed(why)) => {
                    tracing::debug!(%why, "malformed form");
                    verdict.push("body", "form", "the form body cannot be read");
                    verdict.parsed = Some(Parsed::MalformedForm);
                }
            }
        }
        Provider::Sovos => {
            if credential(provider, headers).is_none() {
                verdict.push(
                    "header RCApiKey",
                    "header",
                    "documented as required: the API key",
                );
            }
            let media = media_type(headers);
            if !media.eq_ignore_ascii_case("application/json") {
                verdict.push(
                    "header Content-Type",
                    "content-type",
                    format!(
                        "documented as application/json, got `{}`",
                        media.to_ascii_lowercase()
                    ),
                );
            }
            let parsed =
                if crate::contract::json_value_bound(body) > crate::contract::MAX_DOCUMENT_VALUES {
                    Err(format!(
                        "more than {} JSON values: not read (the fake's bound)",
                        crate::contract::MAX_DOCUMENT_VALUES
                    ))
                } else {
                    parse_json(body)
                };
            match parsed {
                Err(error) => {
                    verdict.push("body", "json", format!("not JSON: {error}"));
                    verdict.parsed = Some(Parsed::NotJson);
                }
                Ok(payload) => {
                    let violations = contract.validate_document(operation, &payload);
                    for violation in &violations {
                        verdict.push(
                            location("", &violation.path.to_string()),
                            violation.keyword(),
                            SovosError::finding(operation, violation),
                        );
                    }
                    verdict.parsed = Some(Parsed::Json {
                        payload,
                        violations,
                    });
                }
            }
        }
    }
    verdict
}

/// A JSON body as serde_json reads it, or serde_json's error.
fn parse_json(body: &[u8]) -> Result<Document, String> {
    Document::parse(body).map_err(|error| error.to_string())
}

/// A finding as Afacturar words it: its PHP validator's `descripcion`, or for the
/// legitimate-holder query (validated by Laravel, contract note A46) the plain rule.
fn afacturar_words(operation: Operation, violation: &Violation, document: &Document) -> String {
    if operation == Operation::LectorCufeTenedorLegitimo {
        violation.message.clone()
    } else {
        let text = document.lookup(&violation.path).and_then(Node::as_str);
        php_validator::descripcion(violation, text)
    }
}

fn location(prefix: &str, pointer: &str) -> String {
    match (prefix.is_empty(), pointer.is_empty()) {
        (true, true) => "/".to_owned(),
        (true, false) => pointer.to_owned(),
        (false, _) => format!("{prefix}{pointer}"),
    }
}

fn verify_form(
    contract: &Contract,
    operation: Operation,
    fields: FormFields,
    verdict: &mut Verdict,
) {
    // `data` is decoded from its bytes; the fields as text are needed only when the form is
    // refused (values that are not UTF-8 shown with U+FFFD).
    let text = |value: &[u8]| String::from_utf8_lossy(value).into_owned();
    let parsed = read_form(
        operation,
        fields
            .iter()
            .map(|(name, value)| (name.as_str(), &value[..])),
    );
    match parsed {
        Err(error) => {
            let raw = Document::from_fields(fields.iter().map(|(k, v)| (k, text(v))));
            let documento_obligado = fields
                .iter()
                .rev()
                .find(|(name, _)| name == "documento_obligado")
                .map(|(_, value)| text(value));
            verdict.push("body", "form", error.to_string());
            verdict.fields = Some(raw);
            verdict.parsed = Some(Parsed::FormRefused {
                error,
                documento_obligado,
            });
        }
        Ok(form) => {
            let mut form_violations = Violations::default();
            if let Some(schema) = operation.form_schema() {
                if let Ok(violations) = contract.validate_schema_document(schema, &form.fields) {
                    form_violations = violations;
                    for violation in &form_violations {
                        let field = violation.path.to_string();
                        verdict.push(
                            format!("form field {}", field.trim_start_matches('/')),
                            violation.keyword(),
                            afacturar_words(operation, violation, &form.fields),
                        );
                    }
                }
            }
            let mut data_violations = Violations::default();
            if let Some(data) = &form.data {
                data_violations = contract.validate_document(operation, data);
                for violation in &data_violations {
                    verdict.push(
                        location("data", &violation.path.to_string()),
                        violation.keyword(),
                        afacturar_words(operation, violation, data),
                    );
                }
            }
            verdict.parsed = Some(Parsed::Form {
                form,
                form_violations,
                data_violations,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn secrets_keep_only_their_last_four_characters() {
        assert_eq!(mask("token_cliente"), "*********ente");
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask("4chr"), "****");
        assert_eq!(mask(&"t".repeat(60_000)), format!("{}tttt", "*".repeat(16)));
        assert_eq!(mask(""), "");
    }
}
