//! The request fields each operation documents, as dotted paths (`generalidades.webhook`,
//! arrays as `evento[]`), walked from the embedded schemas: what contract coverage counts.

use std::sync::LazyLock;

use serde_json::Value;

use super::document::Node;
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

/// For each of `operation`'s [`documented_fields`], in their order, whether the request's
/// `payload` (the form fields, or the JSON body) or its `data` document holds it: what
/// [`field_sent`] says of each documented path, found in one walk of each document along the
/// operation's field tree (built once) instead of one walk from the root per documented path.
pub fn sent_fields(
    operation: Operation,
    payload: Option<Node<'_>>,
    data: Option<Node<'_>>,
) -> Vec<bool> {
    static TREES: LazyLock<Vec<Vec<FieldNode>>> = LazyLock::new(|| {
        Operation::ALL
            .into_iter()
            .map(|op| field_tree(documented_fields(op)))
            .collect()
    });
    let Some(tree) = Operation::ALL
        .into_iter()
        .position(|op| op == operation)
        .and_then(|index| TREES.get(index))
    else {
        return Vec::new();
    };
    let mut sent = vec![false; documented_fields(operation).len()];
    if let Some(payload) = payload {
        mark_sent(payload, tree, &mut sent);
    }
    if let Some(data) = data {
        mark_sent(data, tree, &mut sent);
    }
    sent
}

/// One segment of the documented paths: `evento[]` is `evento` read as an array.
#[derive(Debug)]
struct FieldNode {
    name: String,
    array: bool,
    /// The index of the path ending here, when that path is documented.
    index: Option<usize>,
    children: Vec<FieldNode>,
}

/// The paths as a tree of their segments, each node with the index of its path.
fn field_tree(paths: &[String]) -> Vec<FieldNode> {
    let mut roots: Vec<FieldNode> = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let mut level = &mut roots;
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let (name, array) = match segment.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (segment, false),
            };
            let at = match level
                .iter()
                .position(|n| n.name == name && n.array == array)
            {
                Some(at) => at,
                None => {
                    level.push(FieldNode {
                        name: name.to_owned(),
                        array,
                        index: None,
                        children: Vec::new(),
                    });
                    level.len() - 1
                }
            };
            if segments.peek().is_none() {
                level[at].index = Some(index);
            }
            level = &mut level[at].children;
        }
    }
    roots
}

/// Marks every node of `nodes` that `value` holds (through an array, any element), as
/// [`field_sent`] decides it for the node's path.
///
/// The object's members are matched against the nodes by name rather than each node looked up
/// in the object: both are a handful, and a lookup hashes its key (SipHash) every time.
fn mark_sent(value: Node<'_>, nodes: &[FieldNode], sent: &mut [bool]) {
    for (name, child) in value.members() {
        for node in nodes.iter().filter(|node| node.name == name) {
            mark_node(node, child, sent);
        }
    }
}

/// Marks `node`, which `child` is the document's value of, and what it holds below.
fn mark_node(node: &FieldNode, child: Node<'_>, sent: &mut [bool]) {
    if node.array {
        if !child.is_array() {
            return;
        }
        let items = child.items();
        mark(node.index, sent);
        for item in items {
            mark_sent(item, &node.children, sent);
        }
    } else {
        mark(node.index, sent);
        mark_sent(child, &node.children, sent);
    }
}

fn mark(index: Option<usize>, sent: &mut [bool]) {
    if let Some(flag) = index.and_then(|i| sent.get_mut(i)) {
        *flag = true;
    }
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
    use crate::contract::Document;

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

    #[test]
    fn one_walk_along_the_field_tree_finds_what_each_path_walked_alone_finds() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut documents: Vec<Value> = vec![
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({"evento": []}),
            serde_json::json!({"evento": {"informacion_documento_referencia": {"cufe": "x"}}}),
            serde_json::json!({"evento": [1, {"encabezado": null}, {"quien_recibio_documento": {"nombres": "a"}}]}),
            serde_json::json!({"generalidades": {"integrador": []}, "documento_obligado": null}),
        ];
        let mut folders = vec![fixtures];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    documents.extend(serde_json::from_str::<Value>(&text).ok());
                }
            }
        }
        assert!(documents.len() > 20, "the fixtures were read");
        for operation in Operation::ALL {
            let paths = documented_fields(operation);
            for first in &documents {
                for second in [None, Some(&documents[3]), Some(&documents[4])] {
                    let both = [Some(first), second];
                    let expected: Vec<bool> = paths
                        .iter()
                        .map(|path| both.iter().flatten().any(|d| field_sent(d, path)))
                        .collect();
                    let payload = Document::from_value(first);
                    let data = second.map(Document::from_value);
                    assert_eq!(
                        sent_fields(
                            operation,
                            Some(payload.root()),
                            data.as_ref().map(Document::root)
                        ),
                        expected,
                        "{operation:?} {first}"
                    );
                }
            }
        }
    }
}
