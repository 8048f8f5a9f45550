//! Differential test against the reference: Afacturar's semantic 400 lists the errors of the
//! PHP library justinrainbow/json-schema 5.2 (provider-facts), so the tool's `resultado` is
//! compared with that library's own output, run over the project's schema files unchanged by
//! `tests/php-oracle/validate.php`.
//!
//! Documents are derived from the valid fixtures (`fixtures/afacturar/**/valid/`): every
//! single mutation at every node, then combined mutations with shuffled keys drawn from a
//! seeded generator. They go to PHP as raw JSON text (decoded by `json_decode`, as the server
//! decodes `data`) and to the tool through `parse_form`, the path the fake decodes `data` by.
//!
//! `cargo xtask php-oracle` runs a longer campaign: `PHP_ORACLE_CASES` combined documents
//! (default 1500) from `PHP_ORACLE_SEED` (default the suite's own).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use einvoice_mock::internals::render::afacturar::body;
use einvoice_mock::{parse_form_bytes, Contract, Operation};
use serde_json::{json, Value};

use super::support::{fixtures_dir, schemas_dir};

/// The operations whose `data` document and form the PHP server validates: every Afacturar
/// operation that registers an event (contract note A1 keeps `historico_eventos` out).
fn php_operations() -> Vec<Operation> {
    Operation::ALL
        .into_iter()
        .filter(|op| op.registers_event())
        .collect()
}
const SUITE_SEED: u64 = 0x0014_5eed;
const SUITE_CASES: usize = 1500;

/// `(propiedad, descripcion)` pairs.
type Resultado = Vec<(String, String)>;

/// Whether PHP with the library and mbstring can run; otherwise how to get them. Under CI a
/// missing PHP is a failure, elsewhere the test says how to install it and passes.
fn php_available() -> bool {
    let probe = Command::new("php")
        .args([
            "-r",
            "require '/usr/share/php/JsonSchema/autoload.php'; \
             exit(extension_loaded('mbstring') && class_exists('JsonSchema\\Validator') ? 0 : 3);",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if probe.is_ok_and(|status| status.success()) {
        return true;
    }
    let how = "the PHP oracle needs php, justinrainbow/json-schema 5.2 and mbstring: \
               apt-get install php-cli php-json-schema php8.2-mbstring";
    assert!(std::env::var_os("CI").is_none(), "{how}");
    eprintln!("skipping: {how}");
    false
}

/// One request line of `validate.php`, for an operation.
enum Request {
    Data(Operation, String),
    Form(Operation, Vec<(String, String)>),
    /// A `data` field as bytes, which need not be UTF-8 (PHP's `$_POST` holds bytes).
    DataBytes(Operation, Vec<u8>),
    /// Form fields as bytes.
    FormBytes(Operation, Vec<(String, Vec<u8>)>),
}

impl Request {
    fn line(&self) -> String {
        let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        match self {
            Request::Data(op, text) => {
                json!({ "schema": op.payload_schema(), "text": text }).to_string()
            }
            Request::Form(op, fields) => {
                let fields: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                json!({ "schema": op.form_schema(), "fields": fields }).to_string()
            }
            Request::DataBytes(op, bytes) => {
                json!({ "schema": op.payload_schema(), "text_base64": base64(bytes) }).to_string()
            }
            Request::FormBytes(op, fields) => {
                let fields: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(base64(v))))
                    .collect();
                json!({ "schema": op.form_schema(), "fields_base64": fields }).to_string()
            }
        }
    }

    /// What the fake answers: the form read by `parse_form`, then the form fields and the
    /// `data` document validated and rendered as the handler renders them.
    fn tool(&self) -> Resultado {
        let data_field = |op: Operation, data: Vec<u8>| {
            (
                op,
                vec![
                    ("documento_obligado".to_owned(), b"888888888".to_vec()),
                    ("data".to_owned(), data),
                ],
            )
        };
        let (operation, fields) = match self {
            Request::Data(op, text) => data_field(*op, text.clone().into_bytes()),
            Request::DataBytes(op, bytes) => data_field(*op, bytes.clone()),
            Request::Form(op, fields) => (
                *op,
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                    .collect(),
            ),
            Request::FormBytes(op, fields) => (*op, fields.clone()),
        };
        let contract = Contract::global();
        let resultado = match parse_form_bytes(operation, fields) {
            Err(error) => body::resultado_for_form_error(&error),
            Ok(form) => {
                let data = form.data.clone().unwrap_or_default();
                let mut resultado = Vec::new();
                if let Request::Form(..) | Request::FormBytes(..) = self {
                    let schema = operation.form_schema().expect("a form operation");
                    let violations = contract
                        .validate_schema(schema, &form.fields)
                        .expect("the form schema is embedded");
                    resultado.extend(body::resultado(&violations, &form.fields));
                }
                resultado.extend(body::resultado(&contract.validate(operation, &data), &data));
                resultado
            }
        };
        resultado
            .iter()
            .map(|entry| {
                (
                    entry["propiedad"].as_str().unwrap_or_default().to_owned(),
                    entry["descripcion"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

/// PHP's answer to one line: its decode error as the fake words it (`propiedad` `data`), or
/// the library's errors with the first letter upper-cased.
fn php_resultado(line: &str) -> Resultado {
    let answer: Value = serde_json::from_str(line).expect("validate.php writes JSON lines");
    if let Some(message) = answer["decode_error"].as_str() {
        return vec![("data".to_owned(), message.to_owned())];
    }
    let errors = answer["errors"].as_array().expect("errors");
    errors
        .iter()
        .map(|error| {
            let property = error["property"].as_str().unwrap_or_default().to_owned();
            let message = error["message"].as_str().unwrap_or_default();
            let mut chars = message.chars();
            let ucfirst = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            (property, ucfirst)
        })
        .collect()
}

/// Runs every request through PHP (one process) and the tool, and fails with every
/// difference.
fn compare(label: &str, requests: &[Request]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/php-oracle/validate.php");
    let mut child = Command::new("php")
        .arg(&script)
        .arg(schemas_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("php starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines: Vec<String> = requests.iter().map(Request::line).collect();
    let writer = std::thread::spawn(move || {
        for line in lines {
            writeln!(stdin, "{line}").expect("php reads its input");
        }
    });
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let answers: Vec<String> = stdout.lines().map(|l| l.expect("php output")).collect();
    writer.join().expect("writer");
    assert!(
        child.wait().expect("php ends").success(),
        "validate.php failed"
    );
    assert_eq!(answers.len(), requests.len(), "one answer per document");

    let mut differences = Vec::new();
    for (request, answer) in requests.iter().zip(&answers) {
        let php = php_resultado(answer);
        let tool = request.tool();
        if php != tool {
            differences.push((request, php, tool));
        }
    }
    let identical = requests.len() - differences.len();
    eprintln!(
        "php oracle, {label}: {} documents, {identical} identical ({:.2}%)",
        requests.len(),
        100.0 * identical as f64 / requests.len() as f64
    );
    if differences.is_empty() {
        return;
    }
    // Every difference, one JSON line each, for a closer look.
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/php-oracle-differences.jsonl");
    let lines: Vec<String> = differences
        .iter()
        .map(|(request, php, tool)| {
            json!({ "document": request.line(), "php": php, "tool": tool }).to_string()
        })
        .collect();
    if std::fs::write(&dump, lines.join("\n")).is_ok() {
        eprintln!("every difference: {}", dump.display());
    }
    let mut report = String::new();
    for (request, php, tool) in differences.iter().take(15) {
        let shown = match request {
            Request::Data(_, text) => {
                let mut shown: String = text.chars().take(1500).collect();
                if shown.len() < text.len() {
                    shown.push_str(" …");
                }
                shown
            }
            Request::Form(_, fields) => format!("{fields:?}"),
            Request::DataBytes(_, bytes) => format!("{:?}", bytes.escape_ascii().to_string()),
            Request::FormBytes(_, fields) => fields
                .iter()
                .map(|(k, v)| format!("{k}={} ", v.escape_ascii()))
                .collect(),
        };
        report.push_str(&format!(
            "\n--- document\n{shown}\n--- PHP\n{php:#?}\n--- tool\n{tool:#?}\n"
        ));
    }
    panic!(
        "{label}: {} of {} documents answered differently from PHP (first {} below){report}",
        differences.len(),
        requests.len(),
        differences.len().min(15)
    );
}

#[test]
fn event_data_errors_are_those_of_phps_json_schema_library_for_every_generated_document() {
    if !php_available() {
        return;
    }
    let seed = std::env::var("PHP_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SUITE_SEED);
    let cases = std::env::var("PHP_ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SUITE_CASES);
    for operation in php_operations() {
        let bases = bases(operation);
        let mut texts: Vec<String> = raw_fixture_texts(operation);
        let singles = single_mutations(&bases);
        let single_count = singles.len();
        texts.extend(singles);
        texts.extend(combined_mutations(&bases, seed, cases));
        assert!(
            texts.len() >= 2000,
            "{operation}: only {} documents",
            texts.len()
        );
        eprintln!(
            "php oracle, {operation}: {single_count} single mutations, {cases} combined (seed {seed}), {} fixtures",
            texts.len() - single_count - cases
        );
        let requests: Vec<Request> = texts
            .into_iter()
            .map(|text| Request::Data(operation, text))
            .collect();
        compare(&format!("{operation} data, seed {seed}"), &requests);
    }
}

#[test]
fn event_form_field_errors_are_those_of_phps_json_schema_library() {
    if !php_available() {
        return;
    }
    for operation in php_operations() {
        let data = raw_fixture_texts(operation).remove(0);
        compare(
            &format!("{operation} form fields"),
            &form_requests(operation, &data),
        );
    }
}

/// Byte sequences PHP's JSON scanner judges one by one: valid UTF-8 of every length, byte
/// order marks, and what is not UTF-8 (a stray byte, overlongs, surrogates written as UTF-8,
/// past U+10FFFF, lone continuation bytes, truncated sequences).
const BYTE_SEQUENCES: [&[u8]; 26] = [
    b"\xc3\xb1",         // ñ
    b"\xe2\x82\xac",     // €
    b"\xf0\x9f\x98\x80", // an emoji, four bytes
    b"\xf4\x8f\xbf\xbf", // U+10FFFF
    b"\xef\xbb\xbf",     // U+FEFF, the byte order mark
    b"\xef\xbf\xbe",     // U+FFFE
    b"\xef\xbf\xbf",     // U+FFFF
    b"\xff",
    b"\xfe",
    b"\xff\xfe",
    b"\xc0\xaf", // an overlong `/`
    b"\xc1\xbf",
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xed\xa0\x80", // U+D800 as UTF-8 (CESU-8)
    b"\xed\xbf\xbf",
    b"\xed\xa0\xbd\xed\xb8\x80", // a CESU-8 pair
    b"\xf4\x90\x80\x80",         // past U+10FFFF
    b"\xf5\x80\x80\x80",
    b"\x80",
    b"\xbf",
    b"\xc3", // truncated
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\x00",
    b"\x7f",
];

/// `data` as bytes: each sequence at the start, inside every string of a fixture (after its
/// opening quote, keys included) and after the document; whole documents with byte order
/// marks or in UTF-16; escapes PHP reads its own way.
fn byte_level_data(operation: Operation) -> Vec<Vec<u8>> {
    let fixture = raw_fixture_texts(operation).remove(0).into_bytes();
    let quotes: Vec<usize> = fixture
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'"')
        .map(|(at, _)| at)
        .collect();
    let mut documents = Vec::new();
    for sequence in BYTE_SEQUENCES {
        documents.push([sequence, &fixture[..]].concat());
        documents.push([&fixture[..], sequence].concat());
        documents.push([b"[\"", sequence, b"\"]"].concat());
        documents.push([b"[\"", sequence].concat());
        documents.push([b"{", sequence, b"}"].concat());
        documents.push([b"\"\\", sequence, b"\""].concat());
        // Inside the strings of the fixture, every other string (keys and values alike).
        for &at in quotes.iter().step_by(2) {
            documents.push([&fixture[..=at], sequence, &fixture[at + 1..]].concat());
        }
    }
    let utf16 = |big_endian: bool| -> Vec<u8> {
        let text = String::from_utf8_lossy(&fixture).into_owned();
        std::iter::once(0xfeff)
            .chain(text.encode_utf16())
            .flat_map(|unit| {
                if big_endian {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                }
            })
            .collect()
    };
    documents.push(utf16(false));
    documents.push(utf16(true));
    for text in [
        r#"["\ud800"]"#,
        r#"["\udc00"]"#,
        r#"["\ud83d\ude00"]"#,
        r#"["\ud800\u0041"]"#,
        r#"["\ud800\udbff"]"#,
        r#"["\ufffe\ufeff\uffff"]"#,
        r#"{"\ud800":1}"#,
        r#"{"\u0000":1}"#,
        r#"["\u0000"]"#,
        "[1,]\u{ff}",
        "\u{feff}",
    ] {
        documents.push(text.as_bytes().to_vec());
    }
    documents.push(b"[1,]\xff".to_vec());
    documents.push(b"]\xff".to_vec());
    documents.push(b"{\"a\":1}\x00".to_vec());
    documents
}

#[test]
fn data_is_decoded_from_its_bytes_as_phps_json_decode_decodes_them() {
    if !php_available() {
        return;
    }
    for operation in php_operations() {
        let requests: Vec<Request> = byte_level_data(operation)
            .into_iter()
            .map(|bytes| Request::DataBytes(operation, bytes))
            .collect();
        compare(&format!("{operation} data bytes"), &requests);
    }
}

#[test]
fn form_fields_that_are_not_utf8_are_judged_as_phps_library_judges_them() {
    if !php_available() {
        return;
    }
    for operation in php_operations() {
        let data = raw_fixture_texts(operation).remove(0).into_bytes();
        let mut requests = Vec::new();
        for sequence in BYTE_SEQUENCES {
            for documento in [
                [b"888888888", sequence].concat(),
                [sequence, b"888888888"].concat(),
                sequence.to_vec(),
            ] {
                requests.push(Request::FormBytes(
                    operation,
                    vec![
                        ("documento_obligado".to_owned(), documento),
                        ("data".to_owned(), data.clone()),
                        ("entorno".to_owned(), sequence.to_vec()),
                    ],
                ));
            }
            // A later `data` replaces an earlier one, bytes and all. (A `data` PHP cannot
            // decode is the data test's: `validate.php` validates form fields as they are.)
            requests.push(Request::FormBytes(
                operation,
                vec![
                    ("data".to_owned(), [sequence, &data[..]].concat()),
                    ("documento_obligado".to_owned(), b"888888888".to_vec()),
                    ("data".to_owned(), data.clone()),
                ],
            ));
        }
        compare(&format!("{operation} form field bytes"), &requests);
    }
}

fn form_requests(operation: Operation, data: &str) -> Vec<Request> {
    let data = data.to_owned();
    let form = |fields: Vec<(String, String)>| Request::Form(operation, fields);
    let mut requests = Vec::new();
    for documento in string_variants("888888888").into_iter().chain(
        [
            "830020470-5",
            "８８８８８",
            "123456789012345",
            "1234567890123456",
        ]
        .map(String::from),
    ) {
        requests.push(form(vec![
            ("documento_obligado".into(), documento.clone()),
            ("data".into(), data.clone()),
        ]));
        requests.push(form(vec![
            ("data".into(), data.clone()),
            ("documento_obligado".into(), documento),
            ("entorno".into(), "2".into()),
        ]));
    }
    requests.push(form(vec![("data".into(), data.clone())]));
    requests.push(form(vec![(
        "documento_obligado".into(),
        "888888888".into(),
    )]));
    requests.push(form(vec![]));
    requests
}

// ---------------------------------------------------------------------------------------
// The generator.

/// A JSON document as text pieces: a `Raw` leaf is written as is, so that a document can hold
/// what a `Value` cannot (`-0`, `1e400`, 64-bit overflow, 512 levels, broken syntax).
#[derive(Debug, Clone)]
enum Node {
    Raw(String),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

impl Node {
    fn from_value(value: &Value) -> Node {
        match value {
            Value::String(s) => Node::Str(s.clone()),
            Value::Array(items) => Node::Arr(items.iter().map(Node::from_value).collect()),
            Value::Object(map) => Node::Obj(
                map.iter()
                    .map(|(k, v)| (k.clone(), Node::from_value(v)))
                    .collect(),
            ),
            other => Node::Raw(other.to_string()),
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Node::Raw(raw) => out.push_str(raw),
            Node::Str(s) => out.push_str(&Value::String(s.clone()).to_string()),
            Node::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Node::Obj(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Every path in the document, the root first.
    fn paths(&self) -> Vec<Vec<Step>> {
        let mut out = vec![Vec::new()];
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        match self {
            Node::Arr(items) => {
                for (i, item) in items.iter().enumerate() {
                    prefix.push(Step::Index(i));
                    out.push(prefix.clone());
                    item.collect_paths(prefix, out);
                    prefix.pop();
                }
            }
            Node::Obj(members) => {
                for (key, value) in members {
                    prefix.push(Step::Key(key.clone()));
                    out.push(prefix.clone());
                    value.collect_paths(prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    fn get_mut(&mut self, path: &[Step]) -> Option<&mut Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let child = match (self, first) {
            (Node::Arr(items), Step::Index(i)) => items.get_mut(*i)?,
            (Node::Obj(members), Step::Key(k)) => {
                &mut members.iter_mut().find(|(key, _)| key == k)?.1
            }
            _ => return None,
        };
        child.get_mut(rest)
    }

    fn get(&self, path: &[Step]) -> Option<&Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let child = match (self, first) {
            (Node::Arr(items), Step::Index(i)) => items.get(*i)?,
            (Node::Obj(members), Step::Key(k)) => &members.iter().find(|(key, _)| key == k)?.1,
            _ => return None,
        };
        child.get(rest)
    }

    /// Applies `op` at `path`; `false` when the path no longer exists.
    fn apply(&mut self, path: &[Step], op: &Op) -> bool {
        match op {
            Op::Delete => {
                let Some((last, parent)) = path.split_last() else {
                    return false;
                };
                match (self.get_mut(parent), last) {
                    (Some(Node::Obj(members)), Step::Key(k)) => {
                        let before = members.len();
                        members.retain(|(key, _)| key != k);
                        members.len() < before
                    }
                    (Some(Node::Arr(items)), Step::Index(i)) if *i < items.len() => {
                        items.remove(*i);
                        true
                    }
                    _ => false,
                }
            }
            Op::AddKey(name, value) => match self.get_mut(path) {
                Some(Node::Obj(members)) => {
                    members.retain(|(key, _)| key != name);
                    members.push((name.clone(), value.clone()));
                    true
                }
                _ => false,
            },
            Op::Replace(node) => match self.get_mut(path) {
                Some(target) => {
                    *target = node.clone();
                    true
                }
                None => false,
            },
            Op::Duplicate => match self.get_mut(path) {
                Some(Node::Arr(items)) if !items.is_empty() => {
                    let first = items[0].clone();
                    items.push(first);
                    true
                }
                _ => false,
            },
        }
    }

    fn shuffle_keys(&mut self, rng: &mut fastrand::Rng) {
        match self {
            Node::Arr(items) => items.iter_mut().for_each(|i| i.shuffle_keys(rng)),
            Node::Obj(members) => {
                rng.shuffle(members);
                members.iter_mut().for_each(|(_, v)| v.shuffle_keys(rng));
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Delete,
    AddKey(String, Node),
    Replace(Node),
    Duplicate,
}

fn raw(text: impl Into<String>) -> Node {
    Node::Raw(text.into())
}

fn s(text: impl Into<String>) -> Node {
    Node::Str(text.into())
}

/// The valid data fixtures of `operation`, each also with a webhook.
fn bases(operation: Operation) -> Vec<Node> {
    let mut bases = Vec::new();
    for text in raw_fixture_texts(operation) {
        let value: Value = serde_json::from_str(&text).expect("fixture is JSON");
        let node = Node::from_value(&value);
        let mut with_webhook = node.clone();
        with_webhook.apply(
            &[Step::Key("generalidades".into())],
            &Op::AddKey("webhook".into(), s("https://ejemplo.com/webhook")),
        );
        bases.push(node);
        bases.push(with_webhook);
    }
    bases
}

fn raw_fixture_texts(operation: Operation) -> Vec<String> {
    let dir = fixtures_dir().join(format!("{}/valid", operation.payload_schema()));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("fixture"))
        .collect()
}

const UNKNOWN_KEYS: [&str; 8] = [
    "extra", "$schema", "data", "apellido", "123", "", "ñandú", "\u{0}a",
];

const DIAN_CODES: [i64; 10] = [11, 12, 13, 21, 22, 31, 41, 42, 50, 91];

/// Each other JSON type.
fn type_samples() -> Vec<Node> {
    vec![
        raw("null"),
        raw("true"),
        raw("false"),
        raw("0"),
        raw("7"),
        raw("1.5"),
        s(""),
        s("texto"),
        Node::Arr(vec![]),
        Node::Obj(vec![]),
        Node::Arr(vec![raw("1")]),
        Node::Obj(vec![("a".into(), raw("1"))]),
    ]
}

/// Numbers whose PHP type or value is not what their text suggests to a JSON Schema engine.
const NUMBER_SHAPES: [&str; 22] = [
    "3.0",
    "0.0",
    "-0.0",
    "-0",
    "1.0",
    "2.0",
    "13.0",
    "1e2",
    "1E0",
    "2e0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "100000000000000000000000",
    "1e400",
    "-1e400",
    "1e-400",
    "-1",
    "2.5",
    "1.0e1",
];

const NUMERIC_STRINGS: [&str; 9] = ["2", " 2", "2 ", "1e3", "-0", ".5", "0x1A", "1.", "13"];

/// Strings near `value`: length bounds, newlines, case, unicode lengths.
fn string_variants(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut out: Vec<String> = (0..=5)
        .map(|n| chars.iter().take(n).collect::<String>())
        .collect();
    out.extend([
        format!("{value}\n"),
        format!("{value}\n\n"),
        format!("\n{value}"),
        format!("{value} "),
        format!("{value}\r\n"),
        format!("{value}x"),
        chars[..chars.len().saturating_sub(1)].iter().collect(),
        value.to_uppercase(),
        value.to_lowercase(),
        format!("{value}\u{0}"),
        "ñ".repeat(2),
        "ñ".repeat(3),
        "😀".repeat(2),
        "😀".repeat(3),
        "é".repeat(5),
        "a\u{301}b".into(),
    ]);
    out
}

const TIPO_SHAPES: [&str; 12] = [
    "WEB\n", "WEB\n\n", "ERP-", "ERP-abc", "ERP-a b", "web", "MOVIL", "DLL", "EXCEL", "ERP-ñ",
    "ERP-x\n", "\nWEB",
];

const URLS: [&str; 62] = [
    "https://ejemplo.com",
    "https://ejemplo.com/webhook?a=1#x",
    "https://",
    "https://ejemplo_x.com",
    "https://ejemplo.com:65535/",
    "https://ejemplo.com:65536/",
    "https://ejemplo.com:0",
    "https://ejemplo.com:",
    "https://ejemplo.com:8a",
    "https://-ejemplo.com",
    "https://ejemplo-.com",
    "https://a-.b.com",
    "https:///ruta",
    "https:ejemplo.com",
    "https:/ejemplo.com",
    "https//ejemplo.com",
    "https://ejemplo.com/a|b",
    "https://ejemplo.com/{x}",
    "https://ejemplo.com/a\\b",
    "https://ejemplo.com/%zz",
    "https://ejemplo.com/[1]",
    "https://ejemplo.com/#a#b",
    "https://ejemplo.com/\"",
    "https://ejemplo.com/a b",
    "https://ejemplo.com/ñ",
    "https://ejemplo.com/\n",
    "https://ejemplo.com\n",
    "https://[::1]/x",
    "https://[::1",
    "https://[1:2:3:4:5:6:7:8]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::1]:443/",
    "https://u{@[::1]/",
    "https://u@[::1]:8a/",
    "https://127.0.0.1/",
    "https://u:p@ejemplo.com/",
    "https://u%41@ejemplo.com/",
    "https://u%zz@ejemplo.com/",
    "https://u{@ejemplo.com/",
    "https://@ejemplo.com/",
    "https://ejemplo.com./",
    "https://ejemplo..com/",
    "https://.ejemplo.com/",
    "https://EJEMPLO.COM/",
    "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/",
    "http://ejemplo.com/",
    "HTTPS://ejemplo.com/",
    "ftp://ejemplo.com/",
    "mailto:a@b.c",
    "file:///etc/passwd",
    "ejemplo.com",
    "//ejemplo.com/x",
    "ejemplo.com:443",
    "https",
    "https:",
    "",
    "https://ejemplo.com?x",
    "https://ejemplo.com#",
    "https://a.b-c.d/",
    "https://1.2.3/",
    "https://ejemplo.com:+80/",
    "https://ejemplo.com:-1/",
];

/// Deeply nested arrays (`n` levels) and objects.
fn nested(n: usize, object: bool) -> Node {
    if object {
        raw(format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)))
    } else {
        raw(format!("{}{}", "[".repeat(n), "]".repeat(n)))
    }
}

/// Every single mutation at every node of every base, as document texts.
fn single_mutations(bases: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |base: &Node, path: &[Step], op: Op| {
        let mut doc = base.clone();
        if doc.apply(path, &op) {
            out.push(doc.text());
        }
    };
    for base in bases {
        for path in base.paths() {
            let node = base.get(&path).expect("path exists").clone();
            if !path.is_empty() {
                push(base, &path, Op::Delete);
            }
            if let Node::Obj(_) = node {
                for key in UNKNOWN_KEYS {
                    push(base, &path, Op::AddKey(key.into(), s("x")));
                }
            }
            if let Node::Arr(_) = node {
                push(base, &path, Op::Duplicate);
            }
            for sample in type_samples() {
                push(base, &path, Op::Replace(sample));
            }
            for shape in NUMBER_SHAPES {
                push(base, &path, Op::Replace(raw(shape)));
            }
            for shape in NUMERIC_STRINGS {
                push(base, &path, Op::Replace(s(shape)));
            }
            match &node {
                Node::Raw(text) => {
                    if let Ok(int) = text.parse::<i64>() {
                        let mut near: Vec<i64> = vec![int - 1, int + 1, int * 10 + 1];
                        near.extend(DIAN_CODES);
                        near.extend(DIAN_CODES.map(|c| c + 1));
                        for n in near {
                            push(base, &path, Op::Replace(raw(n.to_string())));
                        }
                        push(base, &path, Op::Replace(s(text.clone())));
                        push(base, &path, Op::Replace(raw(format!("{int}.0"))));
                    }
                }
                Node::Str(value) => {
                    for variant in string_variants(value) {
                        push(base, &path, Op::Replace(s(variant)));
                    }
                    for shape in TIPO_SHAPES {
                        push(base, &path, Op::Replace(s(shape)));
                    }
                    if matches!(path.last(), Some(Step::Key(k)) if k == "webhook") {
                        for url in URLS {
                            push(base, &path, Op::Replace(s(url)));
                        }
                    }
                }
                _ => {}
            }
            for (levels, object) in [(511, false), (512, false), (510, true), (511, true)] {
                push(base, &path, Op::Replace(nested(levels, object)));
            }
        }
    }
    // Texts no mutation of a tree produces: broken syntax, other roots, decoder limits.
    let whole = bases[0].text();
    for cut in [0, 1, 10, whole.len() / 2, whole.len() - 1] {
        out.push(whole[..cut].to_owned());
    }
    for text in [
        "[]",
        "null",
        "1",
        "\"x\"",
        "{}",
        " ",
        "true",
        "-0",
        "1e400",
        "[1,]",
        "{\"a\":1,}",
        "TRUE",
        "\u{feff}{}",
        "{\"a\" 1}",
        "[\"\\ud800\"]",
        "[\"\\q\"]",
        "[\"a\tb\"]",
        "{\"\\u0000a\":1}",
        "[1]\u{0}",
        "[1] x",
        "[\"\\u12\"]",
        "[01]",
        "[1.]",
        "[.5]",
    ] {
        out.push(text.to_owned());
    }
    out.push(format!("{whole}x"));
    out.push(format!("{whole}\u{0}"));
    out.push(format!("\n\t {whole}\r\n"));
    out.push(format!("\u{feff}{whole}"));
    out.push(whole.replacen("\"WEB\"", "\"W\tB\"", 1));
    out.push(whole.replacen("\"WEB\"", "\"\\ud83d\\ude00\"", 1));
    out.push(whole.replacen("\"WEB\"", "\"\\udc00\"", 1));
    out.push(whole.replacen("\"WEB\"", "\"\\uD83D\"", 1));
    out
}

/// `count` documents, each with 2–4 mutations drawn at random (values included) and, half of
/// the time, every object's keys shuffled.
fn combined_mutations(bases: &[Node], seed: u64, count: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut doc = bases[rng.usize(..bases.len())].clone();
        if rng.bool() {
            doc.shuffle_keys(&mut rng);
        }
        // A third of them with a webhook drawn at random, wherever the other mutations go.
        if rng.usize(..3) == 0 {
            doc.apply(
                &[Step::Key("generalidades".into())],
                &Op::AddKey("webhook".into(), s(random_url(&mut rng))),
            );
        }
        for _ in 0..rng.usize(2..=4) {
            let paths = doc.paths();
            let path = paths[rng.usize(..paths.len())].clone();
            let current = doc.get(&path).cloned();
            let op = random_op(&mut rng, &path, current.as_ref());
            doc.apply(&path, &op);
        }
        out.push(doc.text());
    }
    out
}

fn random_op(rng: &mut fastrand::Rng, path: &[Step], current: Option<&Node>) -> Op {
    match rng.usize(..10) {
        0 if !path.is_empty() => Op::Delete,
        1 if matches!(current, Some(Node::Obj(_))) => {
            let key = if rng.bool() {
                UNKNOWN_KEYS[rng.usize(..UNKNOWN_KEYS.len())].to_owned()
            } else {
                random_string(rng)
            };
            Op::AddKey(key, random_leaf(rng))
        }
        2 if matches!(current, Some(Node::Arr(_))) => Op::Duplicate,
        3 => Op::Replace(s(random_url(rng))),
        4 => {
            let types = type_samples();
            Op::Replace(types[rng.usize(..types.len())].clone())
        }
        5 => Op::Replace(match current {
            Some(Node::Str(value)) => {
                let variants = string_variants(value);
                s(variants[rng.usize(..variants.len())].clone())
            }
            _ => s(TIPO_SHAPES[rng.usize(..TIPO_SHAPES.len())]),
        }),
        6 => Op::Replace(nested(rng.usize(1..=515), rng.bool())),
        _ => Op::Replace(random_leaf(rng)),
    }
}

fn random_leaf(rng: &mut fastrand::Rng) -> Node {
    match rng.usize(..6) {
        0 => raw(NUMBER_SHAPES[rng.usize(..NUMBER_SHAPES.len())]),
        1 => s(NUMERIC_STRINGS[rng.usize(..NUMERIC_STRINGS.len())]),
        2 => raw(rng.i64(-100..100).to_string()),
        3 => raw(DIAN_CODES[rng.usize(..DIAN_CODES.len())].to_string()),
        4 => s(TIPO_SHAPES[rng.usize(..TIPO_SHAPES.len())]),
        _ => s(random_string(rng)),
    }
}

fn random_string(rng: &mut fastrand::Rng) -> String {
    const PIECES: [&str; 16] = [
        "a", "Z", "0", "9", "f", " ", "\n", "ñ", "😀", "-", "_", ".", "WEB", "ERP-", "\t", "é",
    ];
    (0..rng.usize(0..8))
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect()
}

/// A few characters that `FILTER_SANITIZE_URL` keeps (and, rarely, one it does not).
fn random_url_junk(rng: &mut fastrand::Rng) -> String {
    const KEPT: &[u8] = b"aZ09-._~!$&'()*+,;=:@/?#[]%{}|\\^`<>\"";
    (0..rng.usize(0..7))
        .map(|_| {
            if rng.usize(..40) == 0 {
                ' '
            } else {
                char::from(KEPT[rng.usize(..KEPT.len())])
            }
        })
        .collect()
}

/// A URL from random parts: scheme, separator, user info, host, port, path, query, fragment.
fn random_url(rng: &mut fastrand::Rng) -> String {
    fn pick<'a>(rng: &mut fastrand::Rng, options: &[&'a str]) -> &'a str {
        options[rng.usize(..options.len())]
    }
    if rng.usize(..4) == 0 {
        return URLS[rng.usize(..URLS.len())].to_owned();
    }
    let scheme = pick(
        rng,
        &[
            "https", "https", "http", "HTTPS", "ftp", "", "mailto", "file", "h-t",
        ],
    );
    let separator = pick(rng, &["://", "://", ":", ":/", ":///", "//", ""]);
    let user = pick(
        rng,
        &[
            "", "", "", "u@", "u:p@", "%41@", "u%zz@", "@", "u{@", "a:b:c@",
        ],
    );
    let junk = random_url_junk(rng);
    let host = pick(
        rng,
        &[
            junk.as_str(),
            "ejemplo.com",
            "ejemplo.com",
            "ejemplo_x.com",
            "-a.com",
            "a-.com",
            "a..com",
            "[::1]",
            "[::1",
            "[fe80::1%25eth0]",
            "127.0.0.1",
            "ejemplo.com.",
            "x",
            "",
            "a.b-c.d",
            "ñ.com",
            "EJEMPLO.COM",
            "1",
            "a.1",
        ],
    );
    let port = pick(
        rng,
        &[
            "", "", "", ":", ":0", ":443", ":65535", ":65536", ":99999", ":123456", ":8a", ":-1",
            ":+80",
        ],
    );
    let path = pick(
        rng,
        &[
            "", "", "/", "/ruta", "/a|b", "/{x}", "/a\\b", "/%zz", "/[1]", "/a b", "/\"", "/ñ",
            "/a\nb", "/:80",
        ],
    );
    let query = pick(rng, &["", "", "?", "?a=1", "?a=|", "?a:1"]);
    let fragment = pick(rng, &["", "", "#", "#x", "#x#y"]);
    format!("{scheme}{separator}{user}{host}{port}{path}{query}{fragment}")
}
