//! A JSON document as the contract reads a request: every value in one vector, in document
//! order, and every string in one text buffer.
//!
//! A `serde_json::Value` costs an allocation per string, per array and two per object, and
//! its objects (insertion-ordered) hash every key with SipHash on insert. A request's `data`
//! document is decoded, validated, walked for coverage and read for its events once, then
//! dropped: built as a [`Document`] it costs two allocations that grow, and dropping it two
//! frees. What reads a document (the engine, the field walks, the handlers) reads it through
//! [`Node`]; what keeps or shows a value (a violation's instance, the public API) converts it
//! with [`Node::to_value`].
//!
//! Objects keep their members in document order, and a document never holds a name twice in
//! one object. Where a text repeats one, the name keeps its first place and its last value, as
//! in a `Value` and in PHP: [`Document::parse`] merges it through a `Value`; for
//! [`Document::parse_php`] (`None`), PHP's own decoder does.

use std::hash::BuildHasher as _;
use std::sync::OnceLock;

use hashbrown::{DefaultHashBuilder, HashTable};

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::violation::{InstancePath, PathSegment};

/// A parsed JSON document (see the module's documentation).
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Every string and property name, one after the other.
    text: String,
    /// Every value in document order; a container is followed by its contents, an object's
    /// members each by a [`Slot::Key`] then the value.
    nodes: Vec<Slot>,
    /// Where each item of each array is, and each member of each large object by name:
    /// built the first time an item far into an array, or a member of a large object, is asked
    /// for. The findings in one long array or one large object would otherwise each walk it.
    tables: OnceLock<Box<Tables>>,
}

#[derive(Debug, Clone, Default)]
struct Tables {
    items: ItemTable,
    names: NameTable,
}

/// For each object of more than [`SCANNED_NAMES`] members, its members' value places by name.
type NameTable = std::collections::HashMap<usize, std::collections::HashMap<Box<str>, usize>>;

/// The most members an object is scanned to find one by name; a larger one has a table.
const SCANNED_NAMES: usize = 32;

/// Documents are equal when they hold the same JSON, as their `Value`s compare (objects whatever
/// their members' order); not by their storage, where a repeated form field leaves its earlier
/// value's text behind, unread.
impl PartialEq for Document {
    fn eq(&self, other: &Document) -> bool {
        self.root().to_value() == other.root().to_value()
    }
}

/// Every array's items' places, array after array, and where each array's run starts.
#[derive(Debug, Clone, Default)]
struct ItemTable {
    places: Vec<usize>,
    runs: std::collections::HashMap<usize, usize>,
}

/// The items of an array walked one by one to reach an index below this.
const WALKED_ITEMS: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Null,
    Bool(bool),
    Number(Number),
    String(Span),
    /// An object member's name; its value follows.
    Key(Span),
    /// `len` items; the next value after the array is at `end`.
    Array {
        len: usize,
        end: usize,
    },
    /// `len` members; the next value after the object is at `end`.
    Object {
        len: usize,
        end: usize,
    },
}

/// Where a string lies in [`Document::text`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: usize,
    len: usize,
}

impl Span {
    /// The string this span marks in `text`.
    fn of(self, text: &str) -> &str {
        text.get(self.start..self.start + self.len)
            .unwrap_or_default()
    }
}

/// Whose rules a text is read by: serde_json's (a Sovos body), or PHP's `json_decode` where
/// serde_json reads it alike (see [`Document::parse_php`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    Serde,
    Php,
}

impl Document {
    /// The document serde_json reads in `bytes`, with serde_json's values and errors: an
    /// object that repeats a name keeps its first place and its last value, as serde_json's
    /// `Value` keeps it. Every name is a name: serde_json's `Value`, with the `raw_value`
    /// feature axum turns on, reads an object whose first name is
    /// `$serde_json::private::RawValue` as the JSON text of its value.
    pub fn parse(bytes: &[u8]) -> Result<Document, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let mut builder = Builder::new(bytes.len(), Rules::Serde);
        ValueSeed(&mut builder).deserialize(&mut deserializer)?;
        deserializer.end()?;
        let repeated_name = builder.repeated_name;
        let document = builder.into_document();
        if repeated_name {
            // `to_value` inserts the members one by one into a `Value`'s object, which keeps
            // a repeated name's first place and its last value.
            return Ok(Document::from_value(&document.root().to_value()));
        }
        Ok(document)
    }

    /// The document PHP's `json_decode` reads in `text`, for the texts serde_json reads alike
    /// (see `php::json_decode_plain`); `None` for the others.
    pub(super) fn parse_php(text: &str) -> Option<Document> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let mut builder = Builder::new(text.len(), Rules::Php);
        ValueSeed(&mut builder)
            .deserialize(&mut deserializer)
            .ok()?;
        deserializer.end().ok()?;
        (!builder.repeated_name).then(|| builder.into_document())
    }

    /// `value` as a document.
    pub fn from_value(value: &Value) -> Document {
        fn push(value: &Value, builder: &mut Builder) {
            match value {
                Value::Null => builder.nodes.push(Slot::Null),
                Value::Bool(b) => builder.nodes.push(Slot::Bool(*b)),
                Value::Number(n) => builder.nodes.push(Slot::Number(n.clone())),
                Value::String(s) => {
                    let span = builder.text(s);
                    builder.nodes.push(Slot::String(span));
                }
                Value::Array(items) => {
                    let at = builder.open();
                    for item in items {
                        push(item, builder);
                    }
                    builder.close(at, false, items.len());
                }
                Value::Object(members) => {
                    let at = builder.open();
                    for (name, child) in members {
                        builder.name(name);
                        push(child, builder);
                    }
                    builder.close(at, true, members.len());
                }
            }
        }
        let mut builder = Builder::new(0, Rules::Serde);
        push(value, &mut builder);
        builder.into_document()
    }

    /// An object of strings, in the order their names first came, each with the last value
    /// given for it: a form's fields as PHP's `$_POST` keeps them.
    pub fn from_fields<N, V>(fields: impl IntoIterator<Item = (N, V)>) -> Document
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        // Gathered first, so that the document's storage is allocated once, at its size.
        let fields: Vec<(N, V)> = fields.into_iter().collect();
        let mut builder = Builder::new(0, Rules::Serde);
        builder.text.reserve(
            fields
                .iter()
                .map(|(n, v)| n.as_ref().len() + v.as_ref().len())
                .sum(),
        );
        builder.nodes.reserve(1 + 2 * fields.len());
        builder.nodes.push(Slot::Null);
        // Past a handful of fields, where each name's value is, instead of a scan per field.
        let mut index: Option<std::collections::HashMap<String, usize>> = None;
        for (name, value) in &fields {
            let (name, value) = (name.as_ref(), value.as_ref());
            let found = match &index {
                Some(index) => index.get(name).copied(),
                None => (1..builder.nodes.len())
                    .step_by(2)
                    .find(|&at| builder.name_at(at) == name)
                    .map(|at| at + 1),
            };
            // A repeated field's value is written anew and its member pointed at it.
            let span = builder.text(value);
            match found {
                Some(at) => builder.nodes[at] = Slot::String(span),
                None => {
                    builder.name(name);
                    builder.nodes.push(Slot::String(span));
                    let members = builder.nodes.len() / 2;
                    if let Some(index) = &mut index {
                        index.insert(name.to_owned(), builder.nodes.len() - 1);
                    } else if members > SCANNED_MEMBERS {
                        index = Some(
                            (1..builder.nodes.len())
                                .step_by(2)
                                .map(|at| (builder.name_at(at).to_owned(), at + 1))
                                .collect(),
                        );
                    }
                }
            }
        }
        let members = builder.nodes.len() / 2;
        builder.close(0, true, members);
        builder.into_document()
    }

    /// A document holding one string (reusing this one's storage).
    pub fn set_string(&mut self, string: &str) {
        self.tables = OnceLock::new();
        self.text.clear();
        self.text.push_str(string);
        self.nodes.clear();
        self.nodes.push(Slot::String(Span {
            start: 0,
            len: string.len(),
        }));
    }

    /// The document's root value.
    pub fn root(&self) -> Node<'_> {
        Node { doc: self, at: 0 }
    }

    /// The value `path` points at, if any.
    pub fn lookup(&self, path: &InstancePath) -> Option<Node<'_>> {
        path.segments()
            .iter()
            .try_fold(self.root(), |node, segment| match segment {
                PathSegment::Key(key) => node.get(key),
                PathSegment::Index(index) => node.index(*index),
            })
    }

    /// Every value and property name, in document order, as what [`Document::visit`] tells.
    pub fn visit(&self, mut visit: impl FnMut(Visited<'_>)) {
        for slot in &self.nodes {
            visit(match slot {
                Slot::Number(n) => Visited::Number(n),
                Slot::String(span) => Visited::String(span.len),
                Slot::Key(span) => Visited::Name(span.len),
                _ => Visited::Other,
            });
        }
    }

    fn str(&self, span: Span) -> &str {
        span.of(&self.text)
    }

    fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| {
            Box::new(Tables {
                items: self.item_table(),
                names: self.name_table(),
            })
        })
    }

    fn name_table(&self) -> NameTable {
        let mut table = NameTable::new();
        for (at, slot) in self.nodes.iter().enumerate() {
            if matches!(slot, Slot::Object { len, .. } if *len > SCANNED_NAMES) {
                let members = Node { doc: self, at }.members();
                let names = members
                    .map(|(name, value)| (Box::from(name), value.at))
                    .collect();
                table.insert(at, names);
            }
        }
        table
    }

    fn item_table(&self) -> ItemTable {
        let mut table = ItemTable::default();
        for (at, slot) in self.nodes.iter().enumerate() {
            if let Slot::Array { .. } = slot {
                table.runs.insert(at, table.places.len());
                let items = Node { doc: self, at }.items();
                table.places.extend(items.map(|item| item.at));
            }
        }
        table
    }

    /// The index of the value after the one at `at` (and after everything it holds).
    fn after(&self, at: usize) -> usize {
        match self.nodes.get(at) {
            Some(Slot::Array { end, .. } | Slot::Object { end, .. }) => *end,
            _ => at + 1,
        }
    }
}

/// One entry of a document as [`Document::visit`] sees it.
#[derive(Debug, Clone, Copy)]
pub enum Visited<'d> {
    /// A number.
    Number(&'d Number),
    /// A string value, by its length in bytes.
    String(usize),
    /// A property name, by its length in bytes.
    Name(usize),
    /// `null`, a boolean, an array or an object.
    Other,
}

/// One value of a [`Document`]: cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Node<'d> {
    doc: &'d Document,
    at: usize,
}

impl<'d> Node<'d> {
    fn slot(self) -> &'d Slot {
        // Nodes are only made at the indices of values.
        self.doc.nodes.get(self.at).unwrap_or(&Slot::Null)
    }

    /// What tells this node from every other node of its document.
    pub fn position(self) -> (usize, usize) {
        (std::ptr::from_ref(self.doc) as usize, self.at)
    }

    /// The string, if the value is one.
    pub fn as_str(self) -> Option<&'d str> {
        match self.slot() {
            Slot::String(span) => Some(self.doc.str(*span)),
            _ => None,
        }
    }

    /// The number, if the value is one.
    pub fn as_number(self) -> Option<&'d Number> {
        match self.slot() {
            Slot::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(self) -> Option<bool> {
        match self.slot() {
            Slot::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(self) -> bool {
        matches!(self.slot(), Slot::Null)
    }

    /// Whether the value is an object.
    pub fn is_object(self) -> bool {
        matches!(self.slot(), Slot::Object { .. })
    }

    /// Whether the value is an array.
    pub fn is_array(self) -> bool {
        matches!(self.slot(), Slot::Array { .. })
    }

    /// An object's member count or an array's length; 0 for anything else.
    pub fn len(self) -> usize {
        match self.slot() {
            Slot::Array { len, .. } | Slot::Object { len, .. } => *len,
            _ => 0,
        }
    }

    /// Whether [`Node::len`] is 0.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The members of an object, in document order; none for anything else.
    pub fn members(self) -> Members<'d> {
        let left = if self.is_object() { self.len() } else { 0 };
        Members {
            doc: self.doc,
            at: self.at + 1,
            left,
        }
    }

    /// The items of an array, in order; none for anything else.
    pub fn items(self) -> Items<'d> {
        let left = if self.is_array() { self.len() } else { 0 };
        Items {
            doc: self.doc,
            at: self.at + 1,
            left,
        }
    }

    /// The value of the object's member `name`.
    pub fn get(self, name: &str) -> Option<Node<'d>> {
        if !self.is_object() {
            return None;
        }
        if self.len() <= SCANNED_NAMES {
            // Names of another length are passed over without being read.
            let mut at = self.at + 1;
            for _ in 0..self.len() {
                if let Some(Slot::Key(span)) = self.doc.nodes.get(at) {
                    if span.len == name.len()
                        && self
                            .doc
                            .text
                            .as_bytes()
                            .get(span.start..span.start + span.len)
                            == Some(name.as_bytes())
                    {
                        return Some(Node {
                            doc: self.doc,
                            at: at + 1,
                        });
                    }
                }
                at = self.doc.after(at + 1);
            }
            return None;
        }
        let table = &self.doc.tables().names;
        let at = *table.get(&self.at)?.get(name)?;
        Some(Node { doc: self.doc, at })
    }

    /// The array's item at `index`.
    pub fn index(self, index: usize) -> Option<Node<'d>> {
        if index >= self.len() || !self.is_array() {
            return None;
        }
        if index < WALKED_ITEMS {
            return self.items().nth(index);
        }
        let table = &self.doc.tables().items;
        let at = *table.places.get(table.runs.get(&self.at)? + index)?;
        Some(Node { doc: self.doc, at })
    }

    /// The value as a `serde_json::Value`.
    pub fn to_value(self) -> Value {
        match self.slot() {
            Slot::Null | Slot::Key(_) => Value::Null,
            Slot::Bool(b) => Value::Bool(*b),
            Slot::Number(n) => Value::Number(n.clone()),
            Slot::String(span) => Value::String(self.doc.str(*span).to_owned()),
            Slot::Array { .. } => Value::Array(self.items().map(Node::to_value).collect()),
            Slot::Object { len, .. } => {
                let mut members = Map::with_capacity(*len);
                for (name, value) in self.members() {
                    members.insert(name.to_owned(), value.to_value());
                }
                Value::Object(members)
            }
        }
    }
}

/// The members of an object node: name and value.
#[derive(Debug, Clone)]
pub struct Members<'d> {
    doc: &'d Document,
    at: usize,
    left: usize,
}

impl<'d> Iterator for Members<'d> {
    type Item = (&'d str, Node<'d>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let name = match self.doc.nodes.get(self.at) {
            Some(Slot::Key(span)) => self.doc.str(*span),
            _ => "",
        };
        let value = Node {
            doc: self.doc,
            at: self.at + 1,
        };
        self.at = self.doc.after(self.at + 1);
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Members<'_> {}

/// The items of an array node.
#[derive(Debug, Clone)]
pub struct Items<'d> {
    doc: &'d Document,
    at: usize,
    left: usize,
}

impl<'d> Iterator for Items<'d> {
    type Item = Node<'d>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = Node {
            doc: self.doc,
            at: self.at,
        };
        self.at = self.doc.after(self.at);
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Items<'_> {}

/// A document written value by value, in document order: a container is opened, its contents
/// written (an object's members each as a name then a value), then closed with its length.
#[derive(Debug)]
pub(super) struct Writer {
    builder: Builder,
}

impl Writer {
    pub(super) fn new() -> Writer {
        Writer {
            builder: Builder::new(0, Rules::Serde),
        }
    }

    /// A copy of `node`, which holds no array or object (a container is written as an empty
    /// one: open it and close it instead).
    pub(super) fn scalar(&mut self, node: Node<'_>) {
        let slot = match node.slot() {
            Slot::String(span) => Slot::String(self.builder.text(node.doc.str(*span))),
            Slot::Array { .. } => Slot::Array {
                len: 0,
                end: self.builder.nodes.len() + 1,
            },
            Slot::Object { .. } => Slot::Object {
                len: 0,
                end: self.builder.nodes.len() + 1,
            },
            other => other.clone(),
        };
        self.builder.nodes.push(slot);
    }

    /// Opens a container: what [`Writer::close`] takes.
    pub(super) fn open(&mut self) -> usize {
        self.builder.open()
    }

    /// The name of the member whose value is written next.
    pub(super) fn name(&mut self, name: &str) {
        self.builder.name(name);
    }

    /// Closes the container opened at `at` as an array (or an object) of `len` items (members).
    pub(super) fn close(&mut self, at: usize, object: bool, len: usize) {
        self.builder.close(at, object, len);
    }

    pub(super) fn finish(self) -> Document {
        self.builder.into_document()
    }
}

/// A document being built by a parse.
#[derive(Debug)]
struct Builder {
    text: String,
    nodes: Vec<Slot>,
    rules: Rules,
    repeated_name: bool,
}

/// The most text bytes and values a parse reserves room for before it reads them.
const RESERVED_TEXT: usize = 64 * 1024;
const RESERVED_NODES: usize = 8 * 1024;

/// The most members an object is searched for a repeated name one by one; past it, by a set.
const SCANNED_MEMBERS: usize = 16;

impl Builder {
    fn new(source_len: usize, rules: Rules) -> Builder {
        Builder {
            // Strings are at most the source's length; values about one per 8 bytes of a
            // typical document. A large text's storage grows as it is read instead of being
            // reserved whole.
            text: String::with_capacity(source_len.min(RESERVED_TEXT)),
            nodes: Vec::with_capacity((source_len / 8 + 1).min(RESERVED_NODES)),
            rules,
            repeated_name: false,
        }
    }

    fn text(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start,
            len: s.len(),
        }
    }

    /// A placeholder for a container, filled when it closes.
    fn open(&mut self) -> usize {
        self.nodes.push(Slot::Null);
        self.nodes.len() - 1
    }

    /// An object member's name, whose value comes next.
    fn name(&mut self, name: &str) {
        let span = self.text(name);
        self.nodes.push(Slot::Key(span));
    }

    /// Fills the placeholder [`Builder::open`] made at `at`: an array (or an object) of `len`
    /// items (members), ending here.
    fn close(&mut self, at: usize, object: bool, len: usize) {
        let end = self.nodes.len();
        self.nodes[at] = if object {
            Slot::Object { len, end }
        } else {
            Slot::Array { len, end }
        };
    }

    fn into_document(self) -> Document {
        Document {
            text: self.text,
            nodes: self.nodes,
            tables: OnceLock::new(),
        }
    }

    /// The name written at `at`.
    fn name_at(&self, at: usize) -> &str {
        match self.nodes.get(at) {
            Some(Slot::Key(span)) => span.of(&self.text),
            _ => "",
        }
    }
}

struct ValueSeed<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        self.0.nodes.push(Slot::Bool(value));
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        self.0.nodes.push(Slot::Number(value.into()));
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<(), E> {
        if self.0.rules == Rules::Php && i64::try_from(value).is_err() {
            return Err(E::custom("an integer PHP makes a float"));
        }
        self.0.nodes.push(Slot::Number(value.into()));
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<(), E> {
        if self.0.rules == Rules::Php {
            return Err(E::custom("a float, which PHP parses by its own rules"));
        }
        // As serde_json's own `Value` does: a float it parsed is finite.
        self.0
            .nodes
            .push(Number::from_f64(value).map_or(Slot::Null, Slot::Number));
        Ok(())
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        let span = self.0.text(value);
        self.0.nodes.push(Slot::String(span));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.nodes.push(Slot::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let builder = self.0;
        let at = builder.open();
        let mut len = 0;
        while seq.next_element_seed(ValueSeed(builder))?.is_some() {
            len += 1;
        }
        builder.close(at, false, len);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let builder = self.0;
        let at = builder.open();
        let mut len = 0;
        // Where each member's name is, for finding a repeated one; past a handful, hashed
        // (foldhash, nothing allocated per name).
        let mut names: Vec<usize> = Vec::new();
        let mut seen: Option<(HashTable<usize>, DefaultHashBuilder)> = None;
        while map.next_key_seed(NameSeed(builder))?.is_some() {
            let name_at = builder.nodes.len() - 1;
            let name = builder.name_at(name_at);
            if builder.rules == Rules::Php && name.starts_with('\0') {
                return Err(serde::de::Error::custom("a property name PHP refuses"));
            }
            let repeated = match &mut seen {
                Some((table, hasher)) => {
                    let hash = hasher.hash_one(name);
                    let repeated = table
                        .find(hash, |&other| builder.name_at(other) == name)
                        .is_some();
                    if !repeated {
                        table.insert_unique(hash, name_at, |&at| {
                            hasher.hash_one(builder.name_at(at))
                        });
                    }
                    repeated
                }
                None => {
                    let repeated = names.iter().any(|&other| builder.name_at(other) == name);
                    names.push(name_at);
                    if names.len() > SCANNED_MEMBERS {
                        let hasher = DefaultHashBuilder::default();
                        let mut table = HashTable::with_capacity(names.len() * 2);
                        for &at in &names {
                            let hash = hasher.hash_one(builder.name_at(at));
                            table.insert_unique(hash, at, |&at| {
                                hasher.hash_one(builder.name_at(at))
                            });
                        }
                        seen = Some((table, hasher));
                    }
                    repeated
                }
            };
            builder.repeated_name |= repeated;
            map.next_value_seed(ValueSeed(builder))?;
            len += 1;
        }
        builder.close(at, true, len);
        Ok(())
    }
}

/// An object member's name, pushed as a [`Slot::Key`].
struct NameSeed<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a property name")
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        self.0.name(value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Document;
    use serde_json::{json, Value};

    #[test]
    fn a_parsed_document_converts_back_to_the_value_serde_json_reads() {
        let text = r#"{"a": [1, -2, 3.5, "x\"y", null, true, {"b": {}}], "c": [], "é": "ü"}"#;
        let document = Document::parse(text.as_bytes()).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(document.root().to_value(), value);
        assert_eq!(Document::from_value(&value), document);
    }

    #[test]
    fn members_and_items_skip_whole_subtrees() {
        let document =
            Document::from_value(&json!({"a": {"x": [1, [2, 3]]}, "b": [4, {"y": 5}], "c": 6}));
        let root = document.root();
        let names: Vec<&str> = root.members().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(
            root.get("c")
                .and_then(|c| c.as_number())
                .and_then(|n| n.as_u64()),
            Some(6)
        );
        let b = root.get("b").unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(
            b.index(1).and_then(|o| o.get("y")).map(|y| y.to_value()),
            Some(json!(5))
        );
        assert!(b.index(2).is_none());
        assert!(root.get("d").is_none());
    }

    #[test]
    fn repeated_fields_keep_their_first_place_and_their_last_value() {
        let fields = |names: &[&str]| {
            Document::from_fields(
                names
                    .iter()
                    .enumerate()
                    .map(|(at, name)| (name.to_string(), at.to_string())),
            )
        };
        let mut expected = serde_json::Map::new();
        let names: Vec<String> = (0..40).map(|i| format!("f{}", i % 25)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for (at, name) in names.iter().enumerate() {
            expected.insert(name.to_string(), Value::String(at.to_string()));
        }
        assert_eq!(fields(&names).root().to_value(), Value::Object(expected));
        assert_eq!(
            fields(&["a", "b", "a"]).root().to_value(),
            json!({"a": "2", "b": "1"})
        );
    }

    #[test]
    fn an_item_far_into_an_array_is_the_one_a_walk_reaches() {
        let items: Vec<Value> = (0..100)
            .map(|i| {
                if i % 3 == 0 {
                    json!({"i": i, "x": [i]})
                } else {
                    json!(i)
                }
            })
            .collect();
        let document = Document::from_value(&json!({"a": [[1, 2], items.clone()], "b": items}));
        for array in [
            document.root().get("b").unwrap(),
            document.root().get("a").unwrap().index(1).unwrap(),
        ] {
            for (index, item) in items.iter().enumerate() {
                assert_eq!(
                    array.index(index).map(|n| n.to_value()).as_ref(),
                    Some(item)
                );
            }
            assert!(array.index(100).is_none());
        }
        assert!(document.root().index(40).is_none());
    }

    #[test]
    fn a_member_of_a_large_object_is_the_one_a_scan_finds() {
        let members: serde_json::Map<String, Value> = (0..100)
            .map(|i| (format!("k{i}"), json!({"i": [i]})))
            .collect();
        let value = json!({"small": {"a": 1}, "large": members});
        let document = Document::from_value(&value);
        let large = document.root().get("large").unwrap();
        for i in 0..100 {
            let name = format!("k{i}");
            assert_eq!(
                large.get(&name).map(|n| n.to_value()),
                Some(value["large"][&name].clone())
            );
        }
        assert!(large.get("k100").is_none());
        assert_eq!(
            document
                .root()
                .get("small")
                .and_then(|s| s.get("a"))
                .map(|a| a.to_value()),
            Some(json!(1))
        );
    }

    #[test]
    fn serde_jsons_raw_value_key_is_an_ordinary_name() {
        // serde_json's `Value` with its `raw_value` feature (which axum turns on) reads an object
        // whose first key is this one as the JSON text of its value; a provider reads a name.
        let text = br#"{"$serde_json::private::RawValue":"{\"MesConsulta\":\"2024-01\"}"}"#;
        let document = Document::parse(text).unwrap();
        let names: Vec<&str> = document.root().members().map(|(name, _)| name).collect();
        assert_eq!(names, ["$serde_json::private::RawValue"]);
    }

    #[test]
    fn a_repeated_name_keeps_its_first_place_and_its_last_value() {
        let text = br#"{"a": 1, "b": {"c": 2, "c": [3]}, "a": 4}"#;
        let document = Document::parse(text).unwrap();
        let expected: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(
            serde_json::to_string(&document.root().to_value()).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
        let many: String = (0..40).map(|i| format!("\"k{i}\": {i},")).collect();
        let text = format!("{{{many} \"k39\": 0}}");
        let document = Document::parse(text.as_bytes()).unwrap();
        assert_eq!(document.root().len(), 40);
        assert_eq!(
            document.root().get("k39").map(|n| n.to_value()),
            Some(json!(0))
        );
        // PHP's rules leave it to PHP's decoder.
        assert!(Document::parse_php(&text).is_none());
        // The first name is a name on this path too.
        let text = br#"{"$serde_json::private::RawValue": "{}", "a": 1, "a": 2}"#;
        let names: Vec<String> = Document::parse(text)
            .unwrap()
            .root()
            .members()
            .map(|(name, _)| name.to_owned())
            .collect();
        assert_eq!(names, ["$serde_json::private::RawValue", "a"]);
    }

    #[test]
    fn serde_json_errors_are_its_own() {
        let Err(error) = Document::parse(b"{\"a\": tru}") else {
            panic!("not JSON")
        };
        let expected = serde_json::from_slice::<Value>(b"{\"a\": tru}").unwrap_err();
        assert_eq!(error.to_string(), expected.to_string());
    }
}
