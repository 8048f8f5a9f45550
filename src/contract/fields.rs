//! The request fields each operation documents, as dotted paths (`generalidades.webhook`,
//! arrays as `evento[]`), walked from the embedded schemas: what contract coverage counts.

use std::sync::LazyLock;

use serde_json::Value;

use super::{Operation, SCHEMA_FILES};

/// Every request field `operation` documents, in schema order: the form fields, then the
/// `data` document's (or the JSON body's) properties at every depth. A `$ref` to a shared
/// definition is a leaf.
pub fn documented_fields(operation: Operation) -> &'static [String] {
    static FIELDS: LazyLock<Vec<Vec<String>>> =
        LazyLock::new(|| Operation::ALL.into_iter().map(walk_operation).collect());
    Operation::ALL
        .into_iter()
        .position(|op| op == operation)
        .and_then(|index| FIELDS.get(index))
        .map_or(&[], Vec::as_slice)
}

/// Whether `document` holds the field at `path` (as [`documented_fields`] names it); through
/// an array, when any element holds the rest.
pub fn field_sent(document: &Value, path: &str) -> bool {
    // Walked with the path's own iterator (cloned into arrays), allocating nothing: it runs for
    // every documented field of every request.
    fn holds(value: &Value, mut segments: std::str::Split<'_, char>) -> bool {
        let Some(first) = segments.next() else {
            return true;
        };
        let (name, array) = match first.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (first, false),
        };
        let Some(child) = value.get(name) else {
            return false;
        };
        if array {
            let rest_is_empty = segments.clone().next().is_none();
            child.as_array().is_some_and(|items| {
                rest_is_empty || items.iter().any(|i| holds(i, segments.clone()))
            })
        } else {
            holds(child, segments)
        }
    }
    holds(document, path.split('.'))
}

fn walk_operation(operation: Operation) -> Vec<String> {
    let mut names: Vec<&str> = operation.form_schema().into_iter().collect();
    if !names.contains(&operation.payload_schema()) {
        names.push(operation.payload_schema());
    }
    let mut paths = Vec::new();
    for name in names {
        let schema = SCHEMA_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, text)| serde_json::from_str::<Value>(text).ok());
        if let Some(schema) = schema {
            walk(&schema, "", &mut paths);
        }
    }
    paths
}

fn walk(schema: &Value, prefix: &str, paths: &mut Vec<String>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let mut path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let items = property.get("items");
        if items.is_some() {
            path.push_str("[]");
        }
        if !paths.contains(&path) {
            paths.push(path.clone());
        }
        walk(items.unwrap_or(property), &path, paths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acuse_fields_are_dotted_paths_with_arrays_marked() {
        let fields = documented_fields(Operation::AcuseReciboFev);
        for expected in [
            "documento_obligado",
            "data",
            "evento[]",
            "evento[].informacion_documento_referencia.cufe",
            "generalidades.webhook",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected}: {fields:?}"
            );
        }
        let data =
            serde_json::json!({"evento": [{"informacion_documento_referencia": {"cufe": "x"}}]});
        assert!(field_sent(
            &data,
            "evento[].informacion_documento_referencia.cufe"
        ));
        assert!(!field_sent(&data, "generalidades.webhook"));
        assert_eq!(
            documented_fields(Operation::Saldos),
            ["MesConsulta", "RFCConsulta"]
        );
    }
}
