//! What a violation is, independent of the validation engine and of any provider's wording.

use std::fmt;
use std::ops::Deref;

use serde::Serialize;
use serde_json::{Number, Value};

use super::document::Node;

/// One step of an [`InstancePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A property of an object.
    Key(String),
    /// An index into an array.
    Index(usize),
}

/// Where a violation sits in the validated document.
///
/// Displays as a JSON Pointer (`/evento/0/quien_recibio_documento`); the root is the empty
/// string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstancePath(pub Vec<PathSegment>);

impl InstancePath {
    /// The segments, from the root.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// This path with `segment` appended.
    pub fn child(&self, segment: PathSegment) -> InstancePath {
        let mut segments = self.0.clone();
        segments.push(segment);
        InstancePath(segments)
    }

    /// The value this path points at in `root`, if any.
    pub fn lookup<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.0
            .iter()
            .try_fold(root, |value, segment| match segment {
                PathSegment::Key(key) => value.get(key.as_str()),
                PathSegment::Index(index) => value.get(*index),
            })
    }
}

impl fmt::Display for InstancePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.0 {
            match segment {
                PathSegment::Key(key) => {
                    write!(f, "/{}", key.replace('~', "~0").replace('/', "~1"))?
                }
                PathSegment::Index(index) => write!(f, "/{index}")?,
            }
        }
        Ok(())
    }
}

impl Serialize for InstancePath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The JSON type of a value, distinguishing integers from other numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` or `false`
    Boolean,
    /// A number without a fractional part, as written.
    Integer,
    /// Any other number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonKind {
    /// The kind of `value`.
    pub fn of(value: &Value) -> JsonKind {
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Boolean,
            Value::Number(n) => JsonKind::of_number(n),
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }

    /// The kind of a document's value.
    pub(super) fn of_node(node: Node<'_>) -> JsonKind {
        if let Some(n) = node.as_number() {
            JsonKind::of_number(n)
        } else if node.as_str().is_some() {
            JsonKind::String
        } else if node.is_array() {
            JsonKind::Array
        } else if node.is_object() {
            JsonKind::Object
        } else if node.as_bool().is_some() {
            JsonKind::Boolean
        } else {
            JsonKind::Null
        }
    }

    fn of_number(n: &Number) -> JsonKind {
        if n.is_i64() || n.is_u64() {
            JsonKind::Integer
        } else {
            JsonKind::Number
        }
    }

    /// The JSON Schema name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Boolean => "boolean",
            JsonKind::Integer => "integer",
            JsonKind::Number => "number",
            JsonKind::String => "string",
            JsonKind::Array => "array",
            JsonKind::Object => "object",
        }
    }
}

/// What rule a value broke, with the rule's parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "keyword", rename_all = "camelCase")]
pub enum ViolationKind {
    /// A required property is missing. The violation's path points at the missing property.
    Required {
        /// The missing property.
        property: String,
    },
    /// A property the schema does not define. The violation's path points at the object.
    AdditionalProperties {
        /// The property that is not allowed.
        property: String,
    },
    /// The value has the wrong type.
    Type {
        /// What was found.
        found: JsonKind,
        /// What the schema allows, in schema order.
        expected: Vec<JsonKind>,
    },
    /// The value is not one of the allowed values.
    Enum {
        /// The allowed values.
        allowed: Value,
    },
    /// The value is not the one allowed value.
    Const {
        /// The allowed value.
        expected: Value,
    },
    /// A string shorter than allowed (in characters).
    MinLength {
        /// The minimum.
        limit: u64,
    },
    /// A string longer than allowed (in characters).
    MaxLength {
        /// The maximum.
        limit: u64,
    },
    /// A string that does not match the pattern.
    Pattern {
        /// The regular expression, as written in the schema.
        pattern: String,
    },
    /// A string that does not match the format.
    Format {
        /// The format name (`uri`, `date` …).
        format: String,
    },
    /// A number below the minimum.
    Minimum {
        /// The minimum.
        limit: Value,
    },
    /// A number above the maximum.
    Maximum {
        /// The maximum.
        limit: Value,
    },
    /// A number at or below the exclusive minimum.
    ExclusiveMinimum {
        /// The exclusive minimum.
        limit: Value,
    },
    /// A number at or above the exclusive maximum.
    ExclusiveMaximum {
        /// The exclusive maximum.
        limit: Value,
    },
    /// An array with too few items.
    MinItems {
        /// The minimum.
        limit: u64,
        /// How many there are.
        found: usize,
    },
    /// An array with too many items.
    MaxItems {
        /// The maximum.
        limit: u64,
        /// How many there are.
        found: usize,
    },
    /// An array with duplicates.
    UniqueItems,
    /// No `anyOf` branch matched.
    AnyOf,
    /// Not exactly one `oneOf` branch matched.
    OneOf,
    /// A value matched a `not` schema, or a `false` schema.
    Not,
    /// Any other keyword.
    Other {
        /// The keyword's name.
        name: String,
    },
}

/// One broken rule of the contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Where it is. For `required` it is the path of the missing property; for
    /// `additionalProperties`, the path of the object that holds the extra property.
    pub path: InstancePath,
    /// What rule was broken.
    #[serde(flatten)]
    pub kind: ViolationKind,
    /// The rule in plain English ([`ViolationKind::describe`]).
    pub message: String,
}

/// A value as a reader would write it: strings quoted, everything else as JSON.
fn shown(value: &Value) -> String {
    value.to_string()
}

impl ViolationKind {
    /// The rule in plain language, naming the property where there is one: what `validate`,
    /// the journal and JUnit show when no provider words the finding (never the validation
    /// engine's own text).
    pub fn describe(&self, path: &InstancePath) -> String {
        let field = match path.segments().last() {
            Some(PathSegment::Key(key)) => format!("`{key}`"),
            Some(PathSegment::Index(index)) => format!("item {index}"),
            None => "the document".to_owned(),
        };
        match self {
            ViolationKind::Required { property } => format!("`{property}` is required"),
            ViolationKind::AdditionalProperties { property } => {
                format!("`{property}` is not a documented property here")
            }
            ViolationKind::Type { found, expected } => format!(
                "{field} must be {}, not {}",
                expected
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                found.as_str()
            ),
            ViolationKind::Enum { allowed } => match allowed.as_array() {
                Some(values) => format!(
                    "{field} must be one of {}",
                    values.iter().map(shown).collect::<Vec<_>>().join(", ")
                ),
                None => format!("{field} must be one of {}", shown(allowed)),
            },
            ViolationKind::Const { expected } => format!("{field} must be {}", shown(expected)),
            ViolationKind::MinLength { limit } => {
                format!("{field} must be at least {limit} characters long")
            }
            ViolationKind::MaxLength { limit } => {
                format!("{field} must be at most {limit} characters long")
            }
            ViolationKind::Pattern { pattern } => format!("{field} must match {pattern}"),
            ViolationKind::Format { format } => format!("{field} must be a valid {format}"),
            ViolationKind::Minimum { limit } => format!("{field} must be at least {limit}"),
            ViolationKind::Maximum { limit } => format!("{field} must be at most {limit}"),
            ViolationKind::ExclusiveMinimum { limit } => {
                format!("{field} must be greater than {limit}")
            }
            ViolationKind::ExclusiveMaximum { limit } => {
                format!("{field} must be less than {limit}")
            }
            ViolationKind::MinItems { limit, found } => {
                format!("{field} must hold at least {limit} item(s), it holds {found}")
            }
            ViolationKind::MaxItems { limit, found } => {
                format!("{field} must hold at most {limit} item(s), it holds {found}")
            }
            ViolationKind::UniqueItems => format!("{field} must not repeat an item"),
            ViolationKind::AnyOf | ViolationKind::OneOf => {
                format!("{field} matches none of the documented shapes")
            }
            ViolationKind::Not => format!("{field} must not be sent"),
            ViolationKind::Other { name } => format!("{field} breaks the rule `{name}`"),
        }
    }
}

impl Violation {
    /// The JSON Schema keyword that failed (`required`, `type`, `minLength` …).
    pub fn keyword(&self) -> &str {
        match &self.kind {
            ViolationKind::Required { .. } => "required",
            ViolationKind::AdditionalProperties { .. } => "additionalProperties",
            ViolationKind::Type { .. } => "type",
            ViolationKind::Enum { .. } => "enum",
            ViolationKind::Const { .. } => "const",
            ViolationKind::MinLength { .. } => "minLength",
            ViolationKind::MaxLength { .. } => "maxLength",
            ViolationKind::Pattern { .. } => "pattern",
            ViolationKind::Format { .. } => "format",
            ViolationKind::Minimum { .. } => "minimum",
            ViolationKind::Maximum { .. } => "maximum",
            ViolationKind::ExclusiveMinimum { .. } => "exclusiveMinimum",
            ViolationKind::ExclusiveMaximum { .. } => "exclusiveMaximum",
            ViolationKind::MinItems { .. } => "minItems",
            ViolationKind::MaxItems { .. } => "maxItems",
            ViolationKind::UniqueItems => "uniqueItems",
            ViolationKind::AnyOf => "anyOf",
            ViolationKind::OneOf => "oneOf",
            ViolationKind::Not => "not",
            ViolationKind::Other { name } => name,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.to_string();
        let path = if path.is_empty() { "/" } else { &path };
        write!(f, "{path}: {}", self.message)
    }
}

/// Every violation of one document, in document order (see `ARCHITECTURE.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Whether the document conforms.
    pub fn is_valid(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations as a vector.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

impl Deref for Violations {
    type Target = [Violation];

    fn deref(&self) -> &[Violation] {
        &self.0
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}
