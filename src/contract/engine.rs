//! The embedded schemas and the JSON Schema engine behind them.
//!
//! This is the only module that touches `jsonschema` types: its API moves between minor
//! versions, so everything it returns is converted to [`Violation`] here.

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{Registry, ValidationError, Validator};
use serde_json::Value;

use super::budget;
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
    validator: Validator,
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
            let mut options = jsonschema::options()
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
    pub(super) fn try_validate(&self, name: &str, instance: &Value) -> Option<Violations> {
        let schema = self.schemas.get(name)?;
        let facts = budget::facts(instance);
        if facts.steps <= super::MAX_VALIDATION_STEPS {
            return Some(validate_whole(schema, instance, facts));
        }
        // Past the work budget only a prefix of the document is judged (see `budget`).
        let prefix = budget::prefix(instance, super::MAX_VALIDATION_STEPS);
        // The budget's finding comes first, so that a journal keeping only the first
        // findings still says the document was judged in part.
        let mut violations = vec![budget::budget_hit()];
        violations.extend(
            validate_whole(schema, &prefix.value, budget::facts(&prefix.value))
                .into_iter()
                .filter(|violation| !prefix.is_cut_artifact(violation))
                .take(super::MAX_REPORTED_VIOLATIONS - 1),
        );
        Some(Violations(violations))
    }

    /// [`Engine::try_validate`], with no violations for a schema that does not exist.
    pub(super) fn validate(&self, name: &str, instance: &Value) -> Violations {
        self.try_validate(name, instance).unwrap_or_default()
    }
}

fn validate_whole(schema: &CompiledSchema, instance: &Value, facts: budget::Facts) -> Violations {
    let mut violations = Vec::new();
    if !schema.validator.is_valid(instance) {
        // Lazily, and no more than are reported: a document can hold hundreds of
        // thousands of violations (contract note A47).
        for error in schema
            .validator
            .iter_errors(instance)
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
fn php_library_rules(instance: &Value, violations: &mut Vec<Violation>) {
    violations.retain(|violation| match &violation.kind {
        ViolationKind::AdditionalProperties { property } => property != "$schema",
        ViolationKind::Pattern { pattern } => !violation
            .path
            .lookup(instance)
            .and_then(Value::as_str)
            .is_some_and(|value| php::pcre_matches_before_final_newline(pattern, value)),
        _ => true,
    });
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

fn convert(error: &ValidationError<'_>, root: &Value, out: &mut Vec<Violation>) {
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
            found: path.lookup(root).map_or(JsonKind::Null, JsonKind::of),
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
            found: path
                .lookup(root)
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
        },
        ValidationErrorKind::MaxItems { limit } => ViolationKind::MaxItems {
            limit: *limit,
            found: path
                .lookup(root)
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
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
