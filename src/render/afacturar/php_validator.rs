//! Violations worded as Afacturar's PHP server words them: it validates `data` with
//! justinrainbow/json-schema and returns that library's property paths and messages
//! (`docs/provider-facts.md`).

use serde_json::Value;

use crate::contract::{InstancePath, JsonKind, PathSegment, Violation, ViolationKind};

/// The `propiedad` of a violation: names joined with `.`, indexes as `[n]`, the root empty.
///
/// For `additionalProperties` the contract already points at the object that holds the
/// extra property, which is where the PHP library points too.
pub fn propiedad(path: &InstancePath) -> String {
    let mut out = String::new();
    for segment in path.segments() {
        match segment {
            PathSegment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathSegment::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// The `descripcion` of a violation: the PHP library's message, first letter upper-cased.
/// `text` is the string the violation's path points at, if it points at one.
pub fn descripcion(violation: &Violation, text: Option<&str>) -> String {
    let message = match &violation.kind {
        ViolationKind::Required { property } => format!("The property {property} is required"),
        ViolationKind::AdditionalProperties { property } => format!(
            "The property {property} is not defined and the definition does not allow additional properties"
        ),
        ViolationKind::Type { found, expected } => format!(
            "{} value found, but {} is required",
            php_type_name(*found),
            expected_wording(expected)
        ),
        ViolationKind::Enum { allowed } => {
            format!("Does not have a value in the enumeration {}", php_json_encode(allowed))
        }
        ViolationKind::Const { expected } => {
            format!("Does not have a value equal to {}", php_json_encode(expected))
        }
        ViolationKind::MinLength { limit } => format!("Must be at least {limit} characters long"),
        ViolationKind::MaxLength { limit } => format!("Must be at most {limit} characters long"),
        ViolationKind::Pattern { pattern } => format!("Does not match the regex pattern {pattern}"),
        ViolationKind::Format { format } => format_message(format, text),
        ViolationKind::Minimum { limit } => format!(
            "Must have a minimum value greater than or equal to {}",
            php_int(limit)
        ),
        ViolationKind::Maximum { limit } => format!(
            "Must have a maximum value less than or equal to {}",
            php_int(limit)
        ),
        ViolationKind::ExclusiveMinimum { limit } => {
            format!("Must have a minimum value greater than {}", php_int(limit))
        }
        ViolationKind::ExclusiveMaximum { limit } => {
            format!("Must have a maximum value less than {}", php_int(limit))
        }
        // 5.2 does not say how many it found (later versions add `, %d found`).
        ViolationKind::MinItems { limit, .. } => {
            format!("There must be a minimum of {limit} items in the array")
        }
        ViolationKind::MaxItems { limit, .. } => {
            format!("There must be a maximum of {limit} items in the array")
        }
        ViolationKind::UniqueItems => "There are no duplicates allowed in the array".to_owned(),
        ViolationKind::AnyOf => "Failed to match at least one schema".to_owned(),
        ViolationKind::OneOf => "Failed to match exactly one schema".to_owned(),
        ViolationKind::Not => "Matched a schema which it should not".to_owned(),
        ViolationKind::Other { .. } => violation.message.clone(),
    };
    ucfirst(message)
}

fn ucfirst(message: String) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => message,
    }
}

/// PHP's `gettype()` of a decoded JSON value.
fn php_type_name(kind: JsonKind) -> &'static str {
    match kind {
        JsonKind::Null => "NULL",
        JsonKind::Boolean => "boolean",
        JsonKind::Integer => "integer",
        JsonKind::Number => "double",
        JsonKind::String => "string",
        JsonKind::Array => "array",
        JsonKind::Object => "object",
    }
}

fn expected_wording(expected: &[JsonKind]) -> String {
    let words: Vec<&str> = expected
        .iter()
        .map(|kind| match kind {
            JsonKind::Integer => "an integer",
            JsonKind::Number => "a number",
            JsonKind::Boolean => "a boolean",
            JsonKind::Object => "an object",
            JsonKind::Array => "an array",
            JsonKind::String => "a string",
            JsonKind::Null => "a null",
        })
        .collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn format_message(format: &str, text: Option<&str>) -> String {
    let shown = text.unwrap_or_default();
    match format {
        "uri" | "uri-reference" => "Invalid URL format".to_owned(),
        "date" => format!("Invalid date {shown}, expected format YYYY-MM-DD"),
        "date-time" => format!(
            "Invalid date-time {shown}, expected format YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DDThh:mm:ss+hh:mm"
        ),
        "email" => "Invalid email".to_owned(),
        other => format!("Invalid {other}"),
    }
}

/// `%d` of a JSON number, as PHP's `sprintf` writes it.
fn php_int(limit: &Value) -> String {
    match limit.as_i64() {
        Some(int) => int.to_string(),
        None => (limit.as_f64().unwrap_or_default().trunc() as i64).to_string(),
    }
}

/// PHP's `json_encode` with default flags: compact, `/` escaped, non-ASCII as `\uXXXX`.
pub fn php_json_encode(value: &Value) -> String {
    let compact = value.to_string();
    let mut out = String::with_capacity(compact.len());
    for c in compact.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_use_dots_and_brackets_and_the_root_is_empty() {
        let path = InstancePath(vec![
            PathSegment::Key("evento".into()),
            PathSegment::Index(0),
            PathSegment::Key("quien_recibio_documento".into()),
        ]);
        assert_eq!(propiedad(&path), "evento[0].quien_recibio_documento");
        assert_eq!(propiedad(&InstancePath::default()), "");
    }

    #[test]
    fn several_expected_types_are_joined_with_commas_and_or() {
        use JsonKind::*;
        assert_eq!(expected_wording(&[Integer]), "an integer");
        assert_eq!(expected_wording(&[Array, Object]), "an array or an object");
        assert_eq!(
            expected_wording(&[String, Null, Integer]),
            "a string, a null or an integer"
        );
    }

    #[test]
    fn json_encode_escapes_slashes_and_non_ascii_like_php() {
        assert_eq!(
            php_json_encode(&json!(["a/b", "ñ"])),
            r#"["a\/b","\u00f1"]"#
        );
        assert_eq!(php_json_encode(&json!([1, 2])), "[1,2]");
    }
}
