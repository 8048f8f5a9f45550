//! The embedded schemas and the JSON Schema engine behind them.
//!
//! This is the only module that touches `jsonschema` types: its API moves between minor
//! versions, so everything it returns is converted to [`Violation`] here.

use std::collections::HashMap;

use std::borrow::Cow;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::json::{Array, Json, Node as EngineNode, NodeIdentity, Object};
use jsonschema::paths::LocationSegment;
use jsonschema::{JsonType, Registry, ValidationError, Validator};
use jsonschema_value::LazyInstance;
use serde_json::{Number, Value};

use super::budget;
use super::document::{Document, Items, Members, Node};
use super::order::{Documents, PropertyOrder};
use super::php;
use super::violation::{InstancePath, JsonKind, PathSegment, Violation, ViolationKind, Violations};

/// The base of every schema's `$id`; a schema `afacturar/x` has the id `BASE_URI` + `afacturar/x.json`.
const BASE_URI: &str = "https://einvoice-mock.local/schemas/";

macro_rules! schema_files {
    ($($name:literal),* $(,)?) => {
        /// Every schema under `schemas/`, by name (its path without `.json`), embedded in the binary.
        pub const SCHEMA_FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../schemas/", $name, ".json"))),)*
        ];
    };
}

schema_files![
    "common/defs",
    "afacturar/unauthenticated",
    "afacturar/error",
    "afacturar/http_error",
    "afacturar/historico_eventos.request",
    "afacturar/historico_eventos.success",
    "afacturar/historico_eventos.sin_eventos",
    "afacturar/acuse_recibo_fev.request",
    "afacturar/acuse_recibo_fev.data",
    "afacturar/acuse_recibo_fev.success",
    "afacturar/acuse_recibo_fev.semantic_error",
    "afacturar/acuse_recibo_fev.data_error",
    "afacturar/acuse_recibo_fev.dian_error",
    "afacturar/recibo_bien_servicio.request",
    "afacturar/recibo_bien_servicio.data",
    "afacturar/reclamo.request",
    "afacturar/reclamo.data",
    "afacturar/lector_cufe_tenedor_legitimo.request",
    "afacturar/lector_cufe_tenedor_legitimo.success",
    "afacturar/lector_cufe_tenedor_legitimo.validation_error",
    "afacturar/lector_cufe_tenedor_legitimo.token_error",
    "sovos/saldos.request",
    "sovos/reporte.request",
    "sovos/saldos.success",
    "sovos/errors",
];

/// A schema that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// No embedded schema has that name.
    #[error("no schema named `{0}`")]
    Unknown(String),
    /// An embedded schema is not valid JSON.
    #[error("schema `{name}` is not valid JSON")]
    Json {
        /// The schema's name.
        name: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// An embedded schema does not compile.
    #[error("schema `{name}` does not compile: {message}")]
    Compile {
        /// The schema's name.
        name: String,
        /// The engine's message.
        message: String,
    },
}

struct CompiledSchema {
    validator: Validator<DocumentJson>,
    order: PropertyOrder,
    /// Whether the provider checks documents of this schema with PHP's
    /// justinrainbow/json-schema 5.2, whose rules differ from JSON Schema's in places
    /// ([`php_dialect`]).
    php: bool,
}

/// The schemas whose documents Afacturar's PHP server validates with justinrainbow/json-schema
/// 5.2: its request payloads (the `data` document and the form fields).
fn php_dialect(name: &str) -> bool {
    // The legitimate-holder query words its form errors as Laravel's validator (code 10).
    name.starts_with("afacturar/")
        && !name.starts_with("afacturar/lector_cufe_tenedor_legitimo")
        && (name.ends_with(".request") || name.ends_with(".data"))
}

pub(super) struct Engine {
    schemas: HashMap<&'static str, CompiledSchema>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.schemas.keys().collect();
        names.sort();
        f.debug_struct("Engine").field("schemas", &names).finish()
    }
}

impl Engine {
    pub(super) fn compile() -> Result<Engine, SchemaError> {
        let documents = SCHEMA_FILES
            .iter()
            .map(|(name, text)| {
                serde_json::from_str::<Value>(text)
                    .map(|value| (*name, value))
                    .map_err(|source| SchemaError::Json {
                        name: (*name).to_owned(),
                        source,
                    })
            })
            .collect::<Result<Documents, _>>()?;

        let compile_error = |name: &str, message: String| SchemaError::Compile {
            name: name.to_owned(),
            message,
        };
        let registry = documents
            .iter()
            .try_fold(Registry::new(), |registry, (name, document)| {
                registry.add(format!("{BASE_URI}{name}.json"), document)
            })
            .and_then(|builder| builder.prepare())
            .map_err(|error| compile_error("registry", error.to_string()))?;

        let mut schemas = HashMap::new();
        for (name, document) in documents.iter() {
            let php = php_dialect(name);
            let mut options = jsonschema::options_for::<DocumentJson>()
                .with_registry(&registry)
                .with_base_uri(format!("{BASE_URI}{name}.json"))
                .should_validate_formats(true);
            if php {
                // The library's `uri` is `filter_var(…, FILTER_VALIDATE_URL)`.
                options = options.with_format("uri", php::filter_validate_url);
            }
            let validator = options
                .build(document)
                .map_err(|error| compile_error(name, error.to_string()))?;
            let order = PropertyOrder::new(name, &documents);
            schemas.insert(
                *name,
                CompiledSchema {
                    validator,
                    order,
                    php,
                },
            );
        }
        Ok(Engine { schemas })
    }

    /// The violations of `instance` against the schema called `name`, if there is one.
    pub(super) fn try_validate_document(
        &self,
        name: &str,
        instance: &Document,
    ) -> Option<Violations> {
        let schema = self.schemas.get(name)?;
        let facts = budget::facts(instance);
        if facts.steps <= super::MAX_VALIDATION_STEPS {
            return Some(validate_whole(schema, instance, facts));
        }
        // Past the work budget only a prefix of the document is judged (see `budget`).
        let prefix = budget::prefix(instance, super::MAX_VALIDATION_STEPS);
        let judged = &prefix.document;
        // The budget's finding comes first, so that a journal keeping only the first
        // findings still says the document was judged in part.
        let mut violations = vec![budget::budget_hit()];
        violations.extend(
            validate_whole(schema, judged, budget::facts(judged))
                .into_iter()
                .filter(|violation| !prefix.is_cut_artifact(violation))
                .take(super::MAX_REPORTED_VIOLATIONS - 1),
        );
        Some(Violations(violations))
    }

    /// [`Engine::try_validate_document`], with no violations for a schema that does not exist.
    pub(super) fn validate_document(&self, name: &str, instance: &Document) -> Violations {
        self.try_validate_document(name, instance)
            .unwrap_or_default()
    }
}

fn validate_whole(
    schema: &CompiledSchema,
    instance: &Document,
    facts: budget::Facts,
) -> Violations {
    let mut violations = Vec::new();
    if !schema.validator.is_valid(instance.root()) {
        // Lazily, and no more than are reported: a document can hold hundreds of
        // thousands of violations (contract note A47).
        for error in schema
            .validator
            .iter_errors(instance.root())
            .take(super::MAX_REPORTED_VIOLATIONS)
        {
            convert(&error, instance, &mut violations);
        }
    }
    if schema.php {
        php_library_rules(instance, &mut violations);
    }
    // The schema walk is only worth it when the payload holds a whole-number float.
    if facts.whole_float {
        schema.order.float_integers(instance, &mut violations);
    }
    if schema.php && facts.number {
        schema.order.numeric_formats(instance, &mut violations);
    }
    if violations.is_empty() {
        return Violations::default();
    }
    schema.order.sort(instance, &mut violations);
    if schema.php {
        // `Validator::validate` ends with `array_unique($errors, SORT_REGULAR)`: an error
        // reported twice (same place, same rule) is listed once, where it came first.
        // Kinds hold JSON values (not hashable): bucket by place and rule, compare within
        // the bucket. A bucket holds what one schema node can say about one value, so
        // this is linear where a scan of everything seen was quadratic.
        let mut seen: HashMap<(&InstancePath, &str), Vec<&ViolationKind>> = HashMap::new();
        let mut keep = Vec::with_capacity(violations.len());
        for violation in &violations {
            let rule = match &violation.kind {
                ViolationKind::Required { property }
                | ViolationKind::AdditionalProperties { property } => property.as_str(),
                _ => violation.keyword(),
            };
            let bucket = seen.entry((&violation.path, rule)).or_default();
            keep.push(!bucket.contains(&&violation.kind));
            bucket.push(&violation.kind);
        }
        let mut keep = keep.into_iter();
        violations.retain(|_| keep.next().unwrap_or(true));
    }
    violations.truncate(super::MAX_REPORTED_VIOLATIONS);
    Violations(violations)
}

/// Where justinrainbow/json-schema 5.2 is more lenient than JSON Schema
/// (`docs/contract-notes.md`, A34):
/// - it never reports a property named `$schema` as not defined (`ObjectConstraint` skips its
///   `inlineSchemaProperty`), whatever `additionalProperties` says;
/// - its `pattern` is PCRE's, whose `$` also matches before a final newline.
fn php_library_rules(instance: &Document, violations: &mut Vec<Violation>) {
    violations.retain(|violation| match &violation.kind {
        ViolationKind::AdditionalProperties { property } => property != "$schema",
        ViolationKind::Pattern { pattern } => !instance
            .lookup(&violation.path)
            .and_then(Node::as_str)
            .is_some_and(|value| php::pcre_matches_before_final_newline(pattern, value)),
        _ => true,
    });
}

/// The engine's view of a [`Document`]: validators are compiled for it, so that a request's
/// documents are validated where they were parsed, without a `serde_json::Value`.
struct DocumentJson;

impl Json for DocumentJson {
    type Node<'a> = Node<'a>;
    type PreparedKey = String;
    type StringBuffer = Document;

    // A lookup scans the members, so one pass over them beats two lookups.
    const KEYS_PER_LOOKUP: usize = 2;
    // A document is a tree: no value holds itself.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(
        buffer: &mut Document,
        string: &str,
        f: impl FnOnce(Node<'_>) -> T,
    ) -> T {
        buffer.set_string(string);
        f(buffer.root())
    }
}

impl<'a> EngineNode<'a, DocumentJson> for Node<'a> {
    type Object = ObjectNode<'a>;
    type Array = ArrayNode<'a>;
    type Number = &'a Number;

    fn as_object(&self) -> Option<ObjectNode<'a>> {
        self.is_object().then_some(ObjectNode(*self))
    }

    fn as_array(&self) -> Option<ArrayNode<'a>> {
        self.is_array().then_some(ArrayNode(*self))
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        self.as_str().map(Cow::Borrowed)
    }

    fn as_number(&self) -> Option<&'a Number> {
        Node::as_number(*self)
    }

    fn as_boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_null(&self) -> bool {
        Node::is_null(*self)
    }

    fn json_type(&self) -> JsonType {
        match JsonKind::of_node(*self) {
            JsonKind::Null => JsonType::Null,
            JsonKind::Boolean => JsonType::Boolean,
            JsonKind::Integer | JsonKind::Number => JsonType::Number,
            JsonKind::String => JsonType::String,
            JsonKind::Array => JsonType::Array,
            JsonKind::Object => JsonType::Object,
        }
    }

    fn string_length_within(&self, min: u64, max: u64) -> Option<bool> {
        let string = self.as_str()?;
        // A code point takes one to four bytes: the byte length alone often decides.
        let bytes = string.len() as u64;
        let fewest = bytes.div_ceil(4);
        if bytes < min || fewest > max {
            return Some(false);
        }
        if min <= fewest && bytes <= max {
            return Some(true);
        }
        Some((min..=max).contains(&(string.chars().count() as u64)))
    }

    fn equals_value(&self, expected: &Value) -> bool {
        equals(*self, expected)
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(Node::to_value(*self))
    }

    /// Nothing: [`convert`] reads what it reports from the document, at the error's path, and
    /// never the error's instance. Built for every error, an instance would copy the whole
    /// subtree under it: a document's size for each of up to a thousand errors.
    fn lazy_value(&self) -> LazyInstance<'a> {
        LazyInstance::Ready(Cow::Owned(Value::Null))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        let (document, at) = self.position();
        Some(NodeIdentity::tagged(
            document,
            u32::try_from(at).unwrap_or(u32::MAX),
        ))
    }
}

/// Whether `node` equals `expected` as JSON Schema's `const` and `enum` compare: numbers by
/// value, objects whatever their members' order.
fn equals(node: Node<'_>, expected: &Value) -> bool {
    match expected {
        Value::Null => node.is_null(),
        Value::Bool(b) => node.as_bool() == Some(*b),
        Value::Number(n) => node
            .as_number()
            .is_some_and(|found| jsonschema::json::cmp::equal_numbers(&found, n)),
        Value::String(s) => node.as_str() == Some(s.as_str()),
        Value::Array(items) => {
            node.is_array()
                && node.len() == items.len()
                && node.items().zip(items).all(|(item, e)| equals(item, e))
        }
        Value::Object(members) => {
            node.is_object()
                && node.len() == members.len()
                && members
                    .iter()
                    .all(|(name, e)| node.get(name).is_some_and(|member| equals(member, e)))
        }
    }
}

/// An object node, as the engine reads objects.
#[derive(Clone, Copy)]
struct ObjectNode<'a>(Node<'a>);

impl<'a> Object<'a, DocumentJson> for ObjectNode<'a> {
    type Node = Node<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, key: &String) -> Option<Node<'a>> {
        self.0.get(key)
    }

    fn members(&self) -> Members<'a> {
        self.0.members()
    }
}

/// An array node, as the engine reads arrays.
#[derive(Clone, Copy)]
struct ArrayNode<'a>(Node<'a>);

impl<'a> Array<'a, DocumentJson> for ArrayNode<'a> {
    type Node = Node<'a>;
    type ElementsIter = Items<'a>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn elements(&self) -> Items<'a> {
        self.0.items()
    }
}

fn instance_path(error: &ValidationError<'_>) -> InstancePath {
    InstancePath(
        error
            .instance_path()
            .segments()
            .map(|segment| match segment {
                LocationSegment::Property(key) => PathSegment::Key(key.into_owned()),
                LocationSegment::Index(index) => PathSegment::Index(index),
            })
            .collect(),
    )
}

fn kind_of(t: jsonschema::JsonType) -> JsonKind {
    use jsonschema::JsonType as T;
    match t {
        T::Null => JsonKind::Null,
        T::Boolean => JsonKind::Boolean,
        T::Integer => JsonKind::Integer,
        T::Number => JsonKind::Number,
        T::String => JsonKind::String,
        T::Array => JsonKind::Array,
        T::Object => JsonKind::Object,
    }
}

fn convert(error: &ValidationError<'_>, root: &Document, out: &mut Vec<Violation>) {
    let path = instance_path(error);
    let kind = match error.kind() {
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default().to_owned();
            let kind = ViolationKind::Required {
                property: property.clone(),
            };
            out.push(Violation {
                message: kind.describe(&path),
                path: path.child(PathSegment::Key(property)),
                kind,
            });
            return;
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for property in unexpected {
                let kind = ViolationKind::AdditionalProperties {
                    property: property.clone(),
                };
                out.push(Violation {
                    path: path.clone(),
                    message: kind.describe(&path),
                    kind,
                });
            }
            return;
        }
        ValidationErrorKind::Type { kind } => ViolationKind::Type {
            found: root.lookup(&path).map_or(JsonKind::Null, JsonKind::of_node),
            expected: match kind {
                TypeKind::Single(t) => vec![kind_of(*t)],
                TypeKind::Multiple(set) => set.iter().map(kind_of).collect(),
            },
        },
        ValidationErrorKind::Enum { options } => ViolationKind::Enum {
            allowed: Value::clone(options),
        },
        ValidationErrorKind::Constant { expected_value } => ViolationKind::Const {
            expected: Value::clone(expected_value),
        },
        ValidationErrorKind::MinLength { limit } => ViolationKind::MinLength { limit: *limit },
        ValidationErrorKind::MaxLength { limit } => ViolationKind::MaxLength { limit: *limit },
        ValidationErrorKind::Pattern { pattern } => ViolationKind::Pattern {
            pattern: pattern.clone(),
        },
        ValidationErrorKind::Format { format } => ViolationKind::Format {
            format: format.clone(),
        },
        ValidationErrorKind::Minimum { limit } => ViolationKind::Minimum {
            limit: limit.clone(),
        },
        ValidationErrorKind::Maximum { limit } => ViolationKind::Maximum {
            limit: limit.clone(),
        },
        ValidationErrorKind::ExclusiveMinimum { limit } => ViolationKind::ExclusiveMinimum {
            limit: limit.clone(),
        },
        ValidationErrorKind::ExclusiveMaximum { limit } => ViolationKind::ExclusiveMaximum {
            limit: limit.clone(),
        },
        ValidationErrorKind::MinItems { limit } => ViolationKind::MinItems {
            limit: *limit,
            found: root
                .lookup(&path)
                .filter(|node| node.is_array())
                .map_or(0, Node::len),
        },
        ValidationErrorKind::MaxItems { limit } => ViolationKind::MaxItems {
            limit: *limit,
            found: root
                .lookup(&path)
                .filter(|node| node.is_array())
                .map_or(0, Node::len),
        },
        ValidationErrorKind::UniqueItems => ViolationKind::UniqueItems,
        ValidationErrorKind::AnyOf { .. } => ViolationKind::AnyOf,
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. } => ViolationKind::OneOf,
        ValidationErrorKind::Not { .. } | ValidationErrorKind::FalseSchema => ViolationKind::Not,
        other => ViolationKind::Other {
            name: other.keyword().to_owned(),
        },
    };
    out.push(Violation {
        message: kind.describe(&path),
        path,
        kind,
    });
}
