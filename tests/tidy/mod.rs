//! The codebase's own rules, checked on its source (in the spirit of rust-analyzer's
//! `tidy.rs`): dependencies point one way, heavy crates stay in their adapter, each provider's
//! error format lives in its own module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import its own layer's modules (same top-level
/// module) and any lower layer, never a higher one, and never another module of its rank
/// (the adapters do not import each other; `render` and `store` do not either).
const LAYERS: &[(&str, u8)] = &[
    ("error_text", 0),
    ("contract", 0),
    ("domain", 1),
    ("render", 2),
    ("store", 2),
    ("config", 3),
    ("respond", 4),
    ("server", 5),
    ("mocks", 5),
    ("openapi", 5),
    ("logging", 6),
    ("cli", 6),
];

/// External crates and the top-level modules (or files) allowed to name them.
const CONFINED_CRATES: &[(&str, &[&str])] = &[
    ("jsonschema", &["contract/engine.rs"]),
    ("axum", &["server", "cli"]),
    ("hyper", &["server"]),
    ("hyper_util", &["server"]),
    ("tower", &["server"]),
    ("tokio", &["server", "cli"]),
    ("tokio_rustls", &["server"]),
    ("rustls", &["server"]),
    ("rustls_pki_types", &["server"]),
    ("rcgen", &["server"]),
    ("socket2", &["server"]),
    ("reqwest", &["server", "cli"]),
    ("rusqlite", &["store"]),
    ("wiremock", &["mocks"]),
    ("clap", &["cli"]),
    ("tracing_subscriber", &["logging", "cli"]),
    ("pdf_writer", &["render/sovos/report_pdf.rs"]),
    ("multer", &["respond/forms.rs"]),
    ("http", &["respond", "server", "mocks", "cli"]),
    ("toml", &["config"]),
];

/// Text that only a provider's own renderer may write: its error bodies' field names.
const PROVIDER_WORDS: &[(&str, &str)] = &[
    ("\"codigo_error\"", "render/afacturar"),
    ("\"descripcion_error\"", "render/afacturar"),
    ("\"Code\"", "render/sovos"),
    ("\"errors\"", "render/sovos"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as a path relative to it, with its text up to its unit
/// tests (a `#[cfg(test)]` module at the end may use anything).
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = match unit_tests_start(&text) {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative.replace('\\', "/"), code);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), &src(), &mut out);
    out
}

/// Where a file's `#[cfg(test)] mod tests` begins (attributes may stand between the two).
fn unit_tests_start(text: &str) -> Option<usize> {
    text.match_indices("\n#[cfg(test)]\n")
        .find_map(|(at, marker)| {
            let after = &text[at + marker.len()..];
            let module = after.lines().find(|line| !line.starts_with("#["))?;
            module.starts_with("mod tests").then_some(at)
        })
}

/// The top-level module a file belongs to: `respond/sovos.rs` → `respond`, `cli.rs` → `cli`.
fn module_of(file: &str) -> &str {
    file.split('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs")
}

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// The code of a file without comments (doc comments name other layers freely).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(n, line)| {
        let code = line.split("//").next().unwrap_or_default();
        (!code.trim().is_empty()).then_some((n + 1, code))
    })
}

/// Every `crate::<module>` a line names.
fn crate_imports(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name_end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let before_ok = at == 0 || {
            let before = rest.as_bytes()[at - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        };
        if before_ok && name_end > 0 {
            found.push(&after[..name_end]);
        }
        rest = &after[name_end..];
    }
    found
}

/// Whether `line` names the external crate `name` as a path (`name::…`).
fn names_crate(line: &str, name: &str) -> bool {
    let needle = format!("{name}::");
    line.match_indices(&needle).any(|(at, _)| {
        at == 0 || {
            let before = line.as_bytes()[at - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        }
    })
}

/// The rule broken by `file` importing `target`, if any.
fn layer_violation(file: &str, target: &str) -> Option<String> {
    let source = module_of(file);
    if source == "lib" || source == "main" || source == target {
        return None;
    }
    let (Some(from), Some(to)) = (rank(source), rank(target)) else {
        return Some(format!("{file}: `crate::{target}` is not a known layer"));
    };
    (to >= from).then(|| {
        format!("{file}: `{source}` (layer {from}) imports `crate::{target}` (layer {to})")
    })
}

fn allowed_to_name(file: &str, places: &[&str]) -> bool {
    places.iter().any(|place| {
        file == *place || module_of(file) == *place || file.starts_with(&format!("{place}/"))
    })
}

#[test]
fn the_checker_catches_an_import_that_points_up() {
    assert!(layer_violation("domain/afacturar/ledger.rs", "render").is_some());
    assert!(layer_violation("render/sovos/errors.rs", "store").is_some());
    assert!(layer_violation("mocks.rs", "server").is_some());
    assert!(layer_violation("respond/afacturar.rs", "render").is_none());
    assert_eq!(
        crate_imports("use crate::server::AppState; x::crate::no"),
        ["server"]
    );
    assert!(names_crate("use axum::Router;", "axum"));
    assert!(!names_crate("use crate::respond::http_thing;", "http"));
    assert!(!names_crate("let hyper_util::x;", "hyper"));
}

#[test]
fn no_layer_imports_a_layer_above_it_or_beside_it() {
    let mut broken = Vec::new();
    for (file, text) in sources() {
        for (number, line) in code_lines(&text) {
            for target in crate_imports(line) {
                if let Some(why) = layer_violation(&file, target) {
                    broken.push(format!("{why} (line {number})"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layers:\n{}",
        broken.join("\n")
    );
}

#[test]
fn heavy_crates_stay_in_the_module_that_adapts_them() {
    let mut broken = Vec::new();
    for (file, text) in sources() {
        if file == "lib.rs" || file == "main.rs" {
            continue;
        }
        for (number, line) in code_lines(&text) {
            for (name, places) in CONFINED_CRATES {
                if names_crate(line, name) && !allowed_to_name(&file, places) {
                    broken.push(format!(
                        "{file}:{number} names `{name}` (only {places:?} may)"
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "crates outside their place:\n{}",
        broken.join("\n")
    );
}

#[test]
fn each_provider_error_format_is_written_in_its_own_module_only() {
    let mut broken = Vec::new();
    for (file, text) in sources() {
        for (number, line) in code_lines(&text) {
            for (word, home) in PROVIDER_WORDS {
                if line.contains(word) && !file.starts_with(home) && file != "openapi.rs" {
                    broken.push(format!("{file}:{number} writes {word} (only {home} may)"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "provider wording outside its module:\n{}",
        broken.join("\n")
    );
}
