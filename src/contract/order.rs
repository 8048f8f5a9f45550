//! Document order for violations.
//!
//! The engine reports violations in an order of its own. Reports are easier to read — and
//! match what PHP's justinrainbow/json-schema produces — in *document order*: depth first,
//! children in the order the schema declares its properties, and at each node the checks in a
//! fixed sequence: `required`, `type`, the combinators, array bounds, the children,
//! `additionalProperties`, then the value checks (lengths, pattern, format, bounds, enum, const).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::violation::{InstancePath, JsonKind, PathSegment, Violation, ViolationKind};

/// The schema documents by name, as `engine` holds them while compiling.
pub(super) type Documents = HashMap<&'static str, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Required,
    Type,
    Combinator,
    Collection,
    Children,
    AdditionalProperties,
    MaxLength,
    MinLength,
    Pattern,
    Format,
    Numeric,
    Enum,
    Const,
    Other,
}

fn phase(kind: &ViolationKind) -> Phase {
    match kind {
        ViolationKind::Required { .. } => Phase::Required,
        ViolationKind::Type { .. } => Phase::Type,
        ViolationKind::AnyOf | ViolationKind::OneOf | ViolationKind::Not => Phase::Combinator,
        ViolationKind::MinItems { .. }
        | ViolationKind::MaxItems { .. }
        | ViolationKind::UniqueItems => Phase::Collection,
        ViolationKind::AdditionalProperties { .. } => Phase::AdditionalProperties,
        ViolationKind::MaxLength { .. } => Phase::MaxLength,
        ViolationKind::MinLength { .. } => Phase::MinLength,
        ViolationKind::Pattern { .. } => Phase::Pattern,
        ViolationKind::Format { .. } => Phase::Format,
        ViolationKind::Minimum { .. }
        | ViolationKind::Maximum { .. }
        | ViolationKind::ExclusiveMinimum { .. }
        | ViolationKind::ExclusiveMaximum { .. } => Phase::Numeric,
        ViolationKind::Enum { .. } => Phase::Enum,
        ViolationKind::Const { .. } => Phase::Const,
        ViolationKind::Other { .. } => Phase::Other,
    }
}

/// The index of each key of an object, by the object's path.
type KeyPositions<'i> = HashMap<InstancePath, HashMap<&'i str, usize>>;

/// One schema with every `$ref` it can reach, so that the property order of any node can be
/// looked up while sorting.
#[derive(Debug)]
pub(super) struct PropertyOrder {
    root: &'static str,
    documents: Arc<Documents>,
}

impl PropertyOrder {
    pub(super) fn new(root: &'static str, documents: Arc<Documents>) -> PropertyOrder {
        PropertyOrder { root, documents }
    }

    /// Sorts `violations` of `instance` into document order (stable for ties).
    pub(super) fn sort(&self, instance: &Value, violations: &mut [Violation]) {
        if violations.len() < 2 {
            return;
        }
        // Where each key sits in its object, built once per object that has extra
        // properties: looking each one up by scanning the object made a document of n
        // undocumented keys cost n² (25,000 keys: seconds).
        let mut positions = KeyPositions::new();
        violations.sort_by_cached_key(|violation| self.key(instance, violation, &mut positions));
    }

    fn key<'i>(
        &self,
        instance: &'i Value,
        violation: &Violation,
        positions: &mut KeyPositions<'i>,
    ) -> Vec<(Phase, usize)> {
        let segments = violation.path.segments();
        // `required` belongs to the object that lacks the property.
        let node_segments = match violation.kind {
            ViolationKind::Required { .. } => &segments[..segments.len().saturating_sub(1)],
            _ => segments,
        };
        let mut key = Vec::with_capacity(node_segments.len() + 1);
        let mut schema = self.resolve(self.root, self.documents.get(self.root));
        let mut value = Some(instance);
        for segment in node_segments {
            let (index, next) = match segment {
                PathSegment::Key(name) => {
                    let properties = schema
                        .1
                        .and_then(|s| s.get("properties"))
                        .and_then(Value::as_object);
                    let index = properties
                        .and_then(|p| p.keys().position(|k| k == name))
                        .unwrap_or(usize::MAX);
                    let next = properties
                        .and_then(|p| p.get(name))
                        .or_else(|| schema.1.and_then(|s| s.get("additionalProperties")));
                    (index, next)
                }
                PathSegment::Index(i) => (*i, schema.1.and_then(|s| s.get("items"))),
            };
            key.push((Phase::Children, index));
            schema = self.resolve(schema.0, next);
            value = value.and_then(|v| match segment {
                PathSegment::Key(name) => v.get(name.as_str()),
                PathSegment::Index(i) => v.get(*i),
            });
        }
        let within = match &violation.kind {
            ViolationKind::Required { property } => schema
                .1
                .and_then(|s| s.get("required"))
                .and_then(Value::as_array)
                .and_then(|r| r.iter().position(|p| p.as_str() == Some(property)))
                .unwrap_or(usize::MAX),
            ViolationKind::AdditionalProperties { property } => match value {
                Some(Value::Object(object)) => positions
                    .entry(violation.path.clone())
                    .or_insert_with(|| {
                        object
                            .keys()
                            .enumerate()
                            .map(|(index, key)| (key.as_str(), index))
                            .collect()
                    })
                    .get(property.as_str())
                    .copied()
                    .unwrap_or(usize::MAX),
                _ => usize::MAX,
            },
            _ => 0,
        };
        key.push((phase(&violation.kind), within));
        key
    }

    /// Floats where the schema wants an integer. JSON Schema 2020-12 counts `2.0` as an
    /// integer; the providers' validators (PHP's `is_int`) do not, and neither does their enum
    /// check. The engine accepts such values, so they are found here. PHP reports the type
    /// and then one enum error: when the engine already refused the value by its enum (`3.0`,
    /// `-0.0`), that error is not repeated.
    pub(super) fn float_integers(&self, instance: &Value, out: &mut Vec<Violation>) {
        let mut found = Vec::new();
        self.walk(instance, &mut |schema, value, path| {
            // Fractional values are already refused by the engine itself.
            let Value::Number(n) = value else { return };
            if !(n.is_f64() && n.as_f64().is_some_and(|f| f.fract() == 0.0)) {
                return;
            }
            let wants_integer = match schema.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => {
                    ts.iter().any(|t| t == "integer") && !ts.iter().any(|t| t == "number")
                }
                _ => false,
            };
            if !wants_integer {
                return;
            }
            let path = InstancePath(path.to_vec());
            let kind = ViolationKind::Type {
                found: JsonKind::Number,
                expected: vec![JsonKind::Integer],
            };
            found.push(Violation {
                message: kind.describe(&path),
                path: path.clone(),
                kind,
            });
            if let Some(allowed) = schema.get("enum") {
                let kind = ViolationKind::Enum {
                    allowed: allowed.clone(),
                };
                found.push(Violation {
                    message: kind.describe(&path),
                    path,
                    kind,
                });
            }
        });
        found.retain(|extra| {
            !(matches!(extra.kind, ViolationKind::Enum { .. })
                && out
                    .iter()
                    .any(|v| matches!(v.kind, ViolationKind::Enum { .. }) && v.path == extra.path))
        });
        out.extend(found);
    }

    /// PHP's library checks `format` on numbers too (`NumberConstraint` ends with
    /// `checkFormat`): one more `format` violation for each number where the schema has a
    /// `format` that no number's text satisfies (`uri`). A numeric string is checked twice as
    /// well, as a string and as a number, but the two identical errors are one after
    /// `Validator`'s `array_unique`.
    pub(super) fn numeric_formats(&self, instance: &Value, out: &mut Vec<Violation>) {
        self.walk(instance, &mut |schema, value, path| {
            let Some(format) = schema.get("format").and_then(Value::as_str) else {
                return;
            };
            if !matches!(format, "uri") || !value.is_number() {
                return;
            }
            let path = InstancePath(path.to_vec());
            let kind = ViolationKind::Format {
                format: format.to_owned(),
            };
            out.push(Violation {
                message: kind.describe(&path),
                path,
                kind,
            });
        });
    }

    /// Calls `visit` with every value of `instance` that the schema describes (through
    /// `properties` and `items`), with its schema and path.
    fn walk(&self, instance: &Value, visit: &mut dyn FnMut(&Value, &Value, &[PathSegment])) {
        let root = self.resolve(self.root, self.documents.get(self.root));
        self.walk_node(root, instance, &mut Vec::new(), visit);
    }

    fn walk_node(
        &self,
        (document, schema): (&'static str, Option<&Value>),
        value: &Value,
        path: &mut Vec<PathSegment>,
        visit: &mut dyn FnMut(&Value, &Value, &[PathSegment]),
    ) {
        let Some(schema) = schema else { return };
        match value {
            Value::Object(map) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                for (key, child) in map {
                    let Some(child_schema) = properties.and_then(|p| p.get(key)) else {
                        continue;
                    };
                    path.push(PathSegment::Key(key.clone()));
                    let resolved = self.resolve(document, Some(child_schema));
                    self.walk_node(resolved, child, path, visit);
                    path.pop();
                }
            }
            Value::Array(items) => {
                let items_schema = schema.get("items");
                for (index, item) in items.iter().enumerate() {
                    path.push(PathSegment::Index(index));
                    self.walk_node(self.resolve(document, items_schema), item, path, visit);
                    path.pop();
                }
            }
            scalar => visit(schema, scalar, path),
        }
    }

    /// Follows `$ref`s from `schema` (inside document `document`) to the schema that holds the
    /// keywords. Only references to embedded documents are followed.
    fn resolve<'a>(
        &'a self,
        mut document: &'static str,
        mut schema: Option<&'a Value>,
    ) -> (&'static str, Option<&'a Value>) {
        for _ in 0..16 {
            let Some(reference) = schema.and_then(|s| s.get("$ref")).and_then(Value::as_str) else {
                break;
            };
            let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
            if !file.is_empty() {
                let joined = join_relative(document, file);
                match self.documents.get_key_value(joined.as_str()) {
                    Some((name, _)) => document = name,
                    None => return (document, None),
                }
            }
            schema = self
                .documents
                .get(document)
                .and_then(|d| d.pointer(pointer));
        }
        (document, schema)
    }
}

/// `join_relative("afacturar/x", "../common/defs.json")` is `"common/defs"`.
fn join_relative(from: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in relative.trim_end_matches(".json").split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::join_relative;

    #[test]
    fn relative_references_resolve_against_the_schema_folder() {
        assert_eq!(
            join_relative("afacturar/x", "../common/defs.json"),
            "common/defs"
        );
        assert_eq!(
            join_relative("afacturar/x", "error.json"),
            "afacturar/error"
        );
    }
}
