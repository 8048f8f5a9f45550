//! The form level of the multipart operations: which fields must be there, and `data` must
//! be JSON. What the fields *contain* is checked by the schemas.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::document::Document;
use super::php::Bounded;
use super::{Contract, Operation, Violations};

/// A form that cannot be checked against the schemas at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// The `data` document holds more JSON values than the fake validates
    /// ([`MAX_DOCUMENT_VALUES`](super::MAX_DOCUMENT_VALUES)).
    #[error("the `data` document holds more than {limit} JSON values")]
    TooManyValues {
        /// The bound.
        limit: usize,
    },
    /// The operation takes a JSON body, not a form.
    #[error("`{0}` takes a JSON body, not a form")]
    NotAForm(Operation),
    /// Required fields are absent (in documentation order).
    #[error("missing form field(s): {}", .0.join(", "))]
    MissingFields(Vec<&'static str>),
    /// The `data` field is not a JSON document, as PHP's `json_decode` reads it.
    #[error("the `data` field is not JSON: {message}")]
    DataNotJson {
        /// The parser's message, which ends with the position (`… at line 1 column 2`).
        message: String,
        /// PHP's `json_last_error_msg()`: `Syntax error`, `Maximum stack depth exceeded` …
        php_message: &'static str,
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
    },
}

/// The fields of a form operation, with `data` parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct FormPayload {
    /// Operation the form was sent to.
    pub operation: Operation,
    /// Every field, as a JSON object of strings. A repeated field keeps its last value, as
    /// PHP's `$_POST` does.
    pub fields: Value,
    /// The parsed `data` field of `acuse_recibo_fev`.
    pub data: Option<Value>,
}

impl FormPayload {
    /// The value of a field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// What [`crate::validate`] checks for this operation: the `data` document of
    /// `acuse_recibo_fev`, the fields of `historico_eventos`.
    pub fn payload(&self) -> &Value {
        self.data.as_ref().unwrap_or(&self.fields)
    }
}

/// The form fields each operation requires, in documentation order (the operation table's).
fn required_fields(operation: Operation) -> &'static [&'static str] {
    operation.spec().required_form_fields
}

/// Checks the form level of a form operation and parses its `data` field.
///
/// ```
/// use einvoice_mock::{parse_form, FormError, Operation};
///
/// let form = [("documento_obligado".to_string(), "888888888".to_string())];
/// assert_eq!(
///     parse_form(Operation::AcuseReciboFev, form),
///     Err(FormError::MissingFields(vec!["data"]))
/// );
/// ```
pub fn parse_form<I>(operation: Operation, fields: I) -> Result<FormPayload, FormError>
where
    I: IntoIterator<Item = (String, String)>,
{
    parse_form_bytes(operation, fields)
}

/// [`parse_form`] of values as they arrive on the wire: bytes, which PHP's `$_POST` keeps as
/// they are. `data` is decoded from its bytes as `json_decode` decodes them (a byte order
/// mark, invalid UTF-8, an overlong or a surrogate is PHP's decode error, contract note A48);
/// the other fields are kept as text, bytes that are not UTF-8 replaced by U+FFFD (no
/// pattern of the contract matches that character, as none matches invalid UTF-8 in PHP).
///
/// ```
/// use einvoice_mock::{parse_form_bytes, FormError, Operation};
///
/// let form = [
///     ("documento_obligado".to_string(), b"888888888".to_vec()),
///     ("data".to_string(), b"\xef\xbb\xbf{}".to_vec()),
/// ];
/// let Err(FormError::DataNotJson { php_message, .. }) =
///     parse_form_bytes(Operation::AcuseReciboFev, form)
/// else {
///     panic!("a byte order mark is not JSON for PHP")
/// };
/// assert_eq!(php_message, "Syntax error");
/// ```
pub fn parse_form_bytes<I, V>(operation: Operation, fields: I) -> Result<FormPayload, FormError>
where
    I: IntoIterator<Item = (String, V)>,
    V: Into<Vec<u8>>,
{
    let fields: Vec<(String, Vec<u8>)> = fields
        .into_iter()
        .map(|(name, value)| (name, value.into()))
        .collect();
    read_form(
        operation,
        fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice())),
    )
    .map(Form::into_payload)
}

/// A form as the fake reads it: a [`FormPayload`] whose `data` is a [`Document`], which
/// costs a fraction of a `Value` to build and to drop.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// Operation the form was sent to.
    pub operation: Operation,
    /// Every field, as [`FormPayload::fields`].
    pub fields: Document,
    /// The parsed `data` field of the event operations.
    pub data: Option<Document>,
}

impl Form {
    /// The value of a field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.root().get(name)?.as_str()
    }

    /// The form as the public API has it.
    pub fn into_payload(self) -> FormPayload {
        FormPayload {
            operation: self.operation,
            fields: self.fields.root().to_value(),
            data: self.data.map(|data| data.root().to_value()),
        }
    }
}

/// The CUFEs an event operation's `data` document names, in order: each event's
/// `informacion_documento_referencia.cufe`.
pub fn event_cufes(data: &Document) -> impl Iterator<Item = &str> {
    data.root()
        .get("evento")
        .into_iter()
        .flat_map(|events| events.items())
        .filter_map(|event| {
            event
                .get("informacion_documento_referencia")?
                .get("cufe")?
                .as_str()
        })
}

/// [`parse_form_bytes`], keeping `data` as a [`Document`], of fields that may be borrowed: each
/// value is copied once, into the form's document.
pub fn read_form<'a, I>(operation: Operation, fields: I) -> Result<Form, FormError>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    if !operation.is_form() {
        return Err(FormError::NotAForm(operation));
    }
    // The last `data` as sent, when it is not UTF-8 (the fields hold it as text).
    let mut data_bytes: Option<Vec<u8>> = None;
    let fields = Document::from_fields(fields.into_iter().map(|(name, value)| {
        // `from_utf8` first: its check is several times faster than the lossy one's on text
        // that is valid, as it nearly always is.
        let text = match std::str::from_utf8(value) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value),
        };
        if name == "data" {
            data_bytes = match text {
                Cow::Borrowed(_) => None,
                Cow::Owned(_) => Some(value.to_vec()),
            };
        }
        (name, text)
    }));
    let root = fields.root();
    let missing: Vec<&'static str> = required_fields(operation)
        .iter()
        .copied()
        .filter(|name| root.get(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(FormError::MissingFields(missing));
    }
    let data = match (root.get("data").and_then(|data| data.as_str()), &data_bytes) {
        (Some(_), Some(bytes)) if operation.registers_event() => Some(decode_data(bytes, None)?),
        (Some(text), None) if operation.registers_event() => {
            Some(decode_data(text.as_bytes(), Some(text))?)
        }
        _ => None,
    };
    Ok(Form {
        operation,
        fields,
        data,
    })
}

/// The `data` field as Afacturar's PHP decodes it (`json_decode`, see [`super::php`]): PHP's
/// number types, 511 levels of nesting, UTF-8 checked, PHP's error messages. `text` is the
/// bytes as text, when they are UTF-8 (already checked by whoever has it).
pub(super) fn decode_data(bytes: &[u8], text: Option<&str>) -> Result<Document, FormError> {
    decode_data_within(bytes, text, super::MAX_DOCUMENT_VALUES)
}

/// [`decode_data`] with a bound of `limit` values.
fn decode_data_within(
    bytes: &[u8],
    text: Option<&str>,
    limit: usize,
) -> Result<Document, FormError> {
    let too_many = || FormError::TooManyValues { limit };
    // serde_json where it reads the text as PHP does and the text is within the bound. A
    // text holds at most one value more than its bytes, so one shorter than the bound cannot
    // pass it; a longer one is counted first.
    if let Some(text) = text {
        if bytes.len() < limit || super::json_value_bound(bytes) <= limit {
            if let Some(document) = super::php::json_decode_plain(text) {
                return Ok(document);
            }
        }
    }
    // The decoder counts the values as it reads and stops past the bound; a text it refuses
    // before is counted to its end here, so that the bound still comes before PHP's error.
    let error = match super::php::json_decode_bounded(bytes, limit) {
        Ok(value) => return Ok(Document::from_value(&value)),
        Err(Bounded::TooManyValues) => return Err(too_many()),
        Err(Bounded::Refused(_)) if super::json_value_bound(bytes) > limit => {
            return Err(too_many())
        }
        Err(Bounded::Refused(error)) => error,
    };
    // serde_json words the error for people, with a line and column; where it accepts what
    // PHP refuses (a property name starting with NUL, a byte order mark), the position is
    // PHP's.
    let (message, line, column) = match serde_json::from_slice::<Value>(bytes) {
        Err(serde) if serde.line() > 0 => (serde.to_string(), serde.line(), serde.column()),
        _ => {
            let before = String::from_utf8_lossy(bytes.get(..error.offset).unwrap_or(bytes));
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (
                format!("{} at line {line} column {column}", error.message),
                line,
                column,
            )
        }
    };
    Err(FormError::DataNotJson {
        message,
        php_message: error.message,
        line,
        column,
    })
}

impl Contract {
    /// The violations of one form field's value, judged as the operation's form schema judges
    /// it on the provider's route (PHP's rules included): what a CUFE or a NIT must look like
    /// wherever else the fake takes one (`POST /__admin/events`). Paths start at the field.
    ///
    /// ```
    /// use einvoice_mock::{Contract, Operation};
    /// use serde_json::json;
    ///
    /// let contract = Contract::global();
    /// let cufe = json!("F4".repeat(48));
    /// let found = contract.validate_form_field(Operation::HistoricoEventos, "cufe", &cufe);
    /// assert_eq!(found[0].keyword(), "pattern");
    /// let cufe = json!("f4".repeat(48));
    /// assert!(contract.validate_form_field(Operation::HistoricoEventos, "cufe", &cufe).is_empty());
    /// ```
    pub fn validate_form_field(
        &self,
        operation: Operation,
        field: &str,
        value: &Value,
    ) -> Violations {
        let Some(schema) = operation.form_schema() else {
            return Violations::default();
        };
        let mut form = Map::new();
        form.insert(field.to_owned(), value.clone());
        let mut found = self
            .validate_schema(schema, &Value::Object(form))
            .unwrap_or_default();
        // The other fields are absent on purpose: their `required` violations are not this
        // field's.
        found.0.retain(|violation| {
            matches!(violation.path.segments().first(), Some(super::PathSegment::Key(key)) if key == field)
        });
        found
    }

    /// Every violation of a parsed form: its fields against the form schema, then its `data`
    /// document (paths of the `data` violations are relative to the document).
    pub fn validate_form(&self, form: &FormPayload) -> Violations {
        let mut violations = Violations::default();
        if let Some(schema) = form.operation.form_schema() {
            if let Ok(found) = self.validate_schema(schema, &form.fields) {
                violations.0.extend(found);
            }
        }
        if let Some(data) = &form.data {
            violations.0.extend(self.validate(form.operation, data));
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The bound counted while decoding refuses what counting the whole text first did,
        /// and lets the rest decode as they did: PHP's error, or the document.
        #[test]
        fn the_bound_counted_while_decoding_is_the_bound_counted_first(
            text in "[\\[\\]{}:, \"\\\\a0-9.e-]{0,40}|\\{\"[a-z\\\\\":,\\[{]{0,6}\":\\[[0-9,\\[\\] ]{0,30}\\]\\}",
            limit in 1usize..12,
        ) {
            let bytes = text.as_bytes();
            let counted_first = if super::super::json_value_bound(bytes) > limit {
                Err(FormError::TooManyValues { limit })
            } else {
                super::super::php::json_decode_bytes(bytes).map_err(|error| error.message)
                    .map_err(|message| FormError::DataNotJson {
                        message: String::new(),
                        php_message: message,
                        line: 0,
                        column: 0,
                    })
            };
            let decoded = decode_data_within(bytes, Some(&text), limit).map(|data| data.root().to_value()).map_err(|error| match error {
                FormError::DataNotJson { php_message, .. } => FormError::DataNotJson {
                    message: String::new(),
                    php_message,
                    line: 0,
                    column: 0,
                },
                other => other,
            });
            prop_assert_eq!(decoded, counted_first, "{}", text);
        }
    }

    #[test]
    fn data_that_is_not_json_is_reported_with_the_parsers_position_once() {
        let form = [
            ("documento_obligado".to_owned(), "888888888".to_owned()),
            ("data".to_owned(), "{x".to_owned()),
        ];
        let error = parse_form(Operation::AcuseReciboFev, form).unwrap_err();
        assert!(
            matches!(
                error,
                FormError::DataNotJson {
                    line: 1,
                    column: 2,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "the `data` field is not JSON: key must be a string at line 1 column 2"
        );
    }
}
