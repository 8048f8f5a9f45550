//! Document order for violations.
//!
//! The engine reports violations in an order of its own. Reports are easier to read — and
//! match what PHP's justinrainbow/json-schema produces — in *document order*: depth first,
//! children in the order the schema declares its properties, and at each node the checks in a
//! fixed sequence: `required`, `type`, the combinators, array bounds, the children,
//! `additionalProperties`, then the value checks (lengths, pattern, format, bounds, enum, const).

use std::collections::HashMap;

use serde_json::Value;

use super::document::{Document, Node as DocNode};
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

/// What a subtree of the schema can make the walks report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Yields(u8);

impl Yields {
    const NOTHING: Yields = Yields(0);
    /// A node whose `type` wants an integer ([`PropertyOrder::float_integers`]).
    const INTEGER: Yields = Yields(1);
    /// A node with `format: uri` ([`PropertyOrder::numeric_formats`]).
    const URI: Yields = Yields(2);

    fn any(self, of: Yields) -> bool {
        self.0 & of.0 != 0
    }

    fn with(self, other: Yields) -> Yields {
        Yields(self.0 | other.0)
    }
}

/// The index of the node of a schema that says nothing (an absent or unresolvable one).
const EMPTY: usize = 0;

/// One schema node with its `$ref` followed, holding what the walks and the sort read.
#[derive(Debug, Default)]
struct Node {
    /// `properties`, in declared order.
    properties: Vec<(String, usize)>,
    /// `additionalProperties`: what the sort judges a key outside `properties` by.
    additional: usize,
    /// `items`.
    items: usize,
    /// `required`, in order (entries that are not strings keep their place).
    required: Vec<Option<String>>,
    /// `type` is `integer`, or a list with `integer` and without `number`.
    wants_integer: bool,
    /// `enum`.
    allowed: Option<Value>,
    /// `format: uri`.
    uri: bool,
    /// What the node itself yields for a scalar.
    own: Yields,
    /// What its `properties` and `items`, to any depth, yield.
    below: Yields,
}

/// One schema with every `$ref` it can reach resolved once, when the engine is built: the
/// walks run on every request whose document holds a number, and resolving references there
/// (a path joined, documents looked up by name, JSON pointers followed) was a sixth of
/// `acuse_recibo_fev`'s CPU. Nodes are shared by identity, so recursive schemas are finite.
#[derive(Debug)]
pub(super) struct PropertyOrder {
    /// Node [`EMPTY`] first, then the root.
    nodes: Vec<Node>,
    root: usize,
}

/// A step of the path to the value being walked, borrowed from the instance.
#[derive(Debug, Clone, Copy)]
enum Step<'i> {
    Key(&'i str),
    Index(usize),
}

fn instance_path(steps: &[Step<'_>]) -> InstancePath {
    InstancePath(
        steps
            .iter()
            .map(|step| match *step {
                Step::Key(key) => PathSegment::Key(key.to_owned()),
                Step::Index(index) => PathSegment::Index(index),
            })
            .collect(),
    )
}

/// Builds a [`PropertyOrder`]: each resolved schema becomes one node, found again by its
/// document and its address in that document.
struct Compiler<'d> {
    documents: &'d Documents,
    nodes: Vec<Node>,
    seen: HashMap<(&'static str, usize), usize>,
}

impl<'d> Compiler<'d> {
    fn node(&mut self, (document, schema): (&'static str, Option<&'d Value>)) -> usize {
        let Some(schema) = schema else { return EMPTY };
        let identity = (document, std::ptr::from_ref(schema) as usize);
        if let Some(&id) = self.seen.get(&identity) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.seen.insert(identity, id);

        let mut properties = Vec::new();
        if let Some(declared) = schema.get("properties").and_then(Value::as_object) {
            for (name, child) in declared {
                let child = resolve(self.documents, document, Some(child));
                properties.push((name.clone(), self.node(child)));
            }
        }
        let additional = self.node(resolve(
            self.documents,
            document,
            schema.get("additionalProperties"),
        ));
        let items = self.node(resolve(self.documents, document, schema.get("items")));
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().map(|p| p.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let wants_integer = match schema.get("type") {
            Some(Value::String(t)) => t == "integer",
            Some(Value::Array(ts)) => {
                ts.iter().any(|t| t == "integer") && !ts.iter().any(|t| t == "number")
            }
            _ => false,
        };
        // Only `uri` is a format that no number's text satisfies.
        let uri = schema.get("format").and_then(Value::as_str) == Some("uri");
        let mut own = Yields::NOTHING;
        if wants_integer {
            own = own.with(Yields::INTEGER);
        }
        if uri {
            own = own.with(Yields::URI);
        }
        self.nodes[id] = Node {
            properties,
            additional,
            items,
            required,
            wants_integer,
            allowed: schema.get("enum").cloned(),
            uri,
            own,
            below: Yields::NOTHING,
        };
        id
    }

    /// Fills each node's `below`, to a fixed point (references can make cycles).
    fn propagate(&mut self) {
        loop {
            let mut changed = false;
            for id in (0..self.nodes.len()).rev() {
                let node = &self.nodes[id];
                let children = node.properties.iter().map(|&(_, child)| child);
                let below = children
                    .chain([node.items])
                    .fold(Yields::NOTHING, |below, child| {
                        let child = &self.nodes[child];
                        below.with(child.own).with(child.below)
                    });
                if below != node.below {
                    self.nodes[id].below = below;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }
}

impl PropertyOrder {
    pub(super) fn new(root: &'static str, documents: &Documents) -> PropertyOrder {
        let mut compiler = Compiler {
            documents,
            nodes: vec![Node::default()],
            seen: HashMap::new(),
        };
        let root = compiler.node(resolve(documents, root, documents.get(root)));
        compiler.propagate();
        PropertyOrder {
            nodes: compiler.nodes,
            root,
        }
    }

    /// Sorts `violations` of `instance` into document order (stable for ties).
    pub(super) fn sort(&self, instance: &Document, violations: &mut [Violation]) {
        if violations.len() < 2 {
            return;
        }
        // Where each key sits in its object, built once per object that has extra
        // properties: looking each one up by scanning the object made a document of n
        // undocumented keys cost n² (25,000 keys: seconds).
        let mut positions = KeyPositions::new();
        violations
            .sort_by_cached_key(|violation| self.key(instance.root(), violation, &mut positions));
    }

    fn key<'i>(
        &self,
        instance: DocNode<'i>,
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
        let mut node = &self.nodes[self.root];
        let mut value = Some(instance);
        for segment in node_segments {
            let (index, next) = match segment {
                PathSegment::Key(name) => node
                    .properties
                    .iter()
                    .position(|(declared, _)| declared == name)
                    .map_or((usize::MAX, node.additional), |index| {
                        (index, node.properties[index].1)
                    }),
                PathSegment::Index(i) => (*i, node.items),
            };
            key.push((Phase::Children, index));
            node = &self.nodes[next];
            value = value.and_then(|v| match segment {
                PathSegment::Key(name) => v.get(name),
                PathSegment::Index(i) => v.index(*i),
            });
        }
        let within = match &violation.kind {
            ViolationKind::Required { property } => node
                .required
                .iter()
                .position(|p| p.as_deref() == Some(property.as_str()))
                .unwrap_or(usize::MAX),
            ViolationKind::AdditionalProperties { property } => match value {
                Some(object) if object.is_object() => positions
                    .entry(violation.path.clone())
                    .or_insert_with(|| {
                        object
                            .members()
                            .enumerate()
                            .map(|(index, (key, _))| (key, index))
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
    pub(super) fn float_integers(&self, instance: &Document, out: &mut Vec<Violation>) {
        let mut found = Vec::new();
        self.walk(Yields::INTEGER, instance, &mut |node, value, steps| {
            // Fractional values are already refused by the engine itself.
            let Some(n) = value.as_number() else { return };
            if !(n.is_f64() && n.as_f64().is_some_and(|f| f.fract() == 0.0)) {
                return;
            }
            if !node.wants_integer {
                return;
            }
            let path = instance_path(steps);
            let kind = ViolationKind::Type {
                found: JsonKind::Number,
                expected: vec![JsonKind::Integer],
            };
            found.push(Violation {
                message: kind.describe(&path),
                path: path.clone(),
                kind,
            });
            if let Some(allowed) = &node.allowed {
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
        // The places the engine already refused by their enum, looked up once each: a scan of
        // every violation for each extra one was quadratic.
        let refused: std::collections::HashSet<&InstancePath> = out
            .iter()
            .filter(|v| matches!(v.kind, ViolationKind::Enum { .. }))
            .map(|v| &v.path)
            .collect();
        found.retain(|extra| {
            !(matches!(extra.kind, ViolationKind::Enum { .. }) && refused.contains(&extra.path))
        });
        out.extend(found);
    }

    /// PHP's library checks `format` on numbers too (`NumberConstraint` ends with
    /// `checkFormat`): one more `format` violation for each number where the schema has a
    /// `format` that no number's text satisfies (`uri`). A numeric string is checked twice as
    /// well, as a string and as a number, but the two identical errors are one after
    /// `Validator`'s `array_unique`.
    pub(super) fn numeric_formats(&self, instance: &Document, out: &mut Vec<Violation>) {
        self.walk(Yields::URI, instance, &mut |node, value, steps| {
            if !node.uri || value.as_number().is_none() {
                return;
            }
            let path = instance_path(steps);
            let kind = ViolationKind::Format {
                format: "uri".to_owned(),
            };
            out.push(Violation {
                message: kind.describe(&path),
                path,
                kind,
            });
        });
    }

    /// Calls `visit` with every scalar of `instance` that the schema describes (through
    /// `properties` and `items`) and whose node can yield `wanted`, with its node and path.
    /// Subtrees that cannot yield it are not entered: usually the whole document.
    fn walk<'i>(
        &self,
        wanted: Yields,
        instance: &'i Document,
        visit: &mut dyn FnMut(&Node, DocNode<'i>, &[Step<'i>]),
    ) {
        self.walk_node(self.root, wanted, instance.root(), &mut Vec::new(), visit);
    }

    fn walk_node<'i>(
        &self,
        id: usize,
        wanted: Yields,
        value: DocNode<'i>,
        path: &mut Vec<Step<'i>>,
        visit: &mut dyn FnMut(&Node, DocNode<'i>, &[Step<'i>]),
    ) {
        let node = &self.nodes[id];
        if value.is_object() {
            if node.below.any(wanted) {
                for (key, child) in value.members() {
                    let Some(&(_, child_id)) = node.properties.iter().find(|(name, _)| name == key)
                    else {
                        continue;
                    };
                    path.push(Step::Key(key));
                    self.walk_node(child_id, wanted, child, path, visit);
                    path.pop();
                }
            }
        } else if value.is_array() {
            if node.below.any(wanted) {
                for (index, item) in value.items().enumerate() {
                    path.push(Step::Index(index));
                    self.walk_node(node.items, wanted, item, path, visit);
                    path.pop();
                }
            }
        } else if node.own.any(wanted) {
            visit(node, value, path);
        }
    }
}

/// Follows `$ref`s from `schema` (inside document `document`) to the schema that holds the
/// keywords. Only references to embedded documents are followed.
fn resolve<'d>(
    documents: &'d Documents,
    mut document: &'static str,
    mut schema: Option<&'d Value>,
) -> (&'static str, Option<&'d Value>) {
    for _ in 0..16 {
        let Some(reference) = schema.and_then(|s| s.get("$ref")).and_then(Value::as_str) else {
            break;
        };
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        if !file.is_empty() {
            let joined = join_relative(document, file);
            match documents.get_key_value(joined.as_str()) {
                Some((name, _)) => document = name,
                None => return (document, None),
            }
        }
        schema = documents.get(document).and_then(|d| d.pointer(pointer));
    }
    (document, schema)
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
