//! The codebase's own rules, checked on its source (in the spirit of rust-analyzer's
//! `tidy.rs`): dependencies point one way, heavy crates stay in their adapter, each provider's
//! error format lives in its own module, the validator's tests share the workspace's
//! dependency builds, and published binaries (`dist`) optimise every crate the release profile
//! leaves unoptimised.

use std::collections::{BTreeMap, BTreeSet};
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
    ("cli", 6),
];

/// External crates and the top-level modules (or files) allowed to name them.
const CONFINED_CRATES: &[(&str, &[&str])] = &[
    ("jsonschema", &["contract/engine.rs"]),
    ("jsonschema_value", &["contract/engine.rs"]),
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
    ("tracing_subscriber", &["cli"]),
    ("pdf_writer", &["render/sovos/report_pdf.rs"]),
    ("multer", &["respond/forms.rs"]),
    ("http", &["respond", "server", "mocks", "cli"]),
    ("toml", &["config"]),
];

/// Text that only a provider's own renderer may write: its error bodies' field names, as
/// words anywhere in code (a struct field, a `json!` key, an index) where they are
/// distinctive, quoted where they are ordinary English.
const PROVIDER_WORDS: &[(&str, &str)] = &[
    ("codigo_error", "render/afacturar"),
    ("descripcion_error", "render/afacturar"),
    ("ErrorMessage_DIAN", "render/afacturar"),
    ("\"propiedad\"", "render/afacturar"),
    ("\"Code\"", "render/sovos"),
    ("\"Message\"", "render/sovos"),
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

/// The top-level module a file belongs to: `respond/sovos.rs` → `respond`,
/// `cli/logging.rs` → `cli`.
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

/// Every `use` statement of a file's code (comments removed), its tree flattened into paths:
/// `use crate::{render::x, server::{a, b}};` → `crate::render::x`, `crate::server::a`, …
fn use_paths(code: &str) -> Vec<String> {
    fn flatten(tree: &str, out: &mut Vec<String>) {
        let Some(open) = tree.find('{') else {
            out.push(tree.to_owned());
            return;
        };
        let close = tree.rfind('}').unwrap_or(tree.len());
        let (prefix, inner) = (&tree[..open], &tree[open + 1..close]);
        let (mut depth, mut start) = (0, 0);
        for (at, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    flatten(&format!("{prefix}{}", &inner[start..at]), out);
                    start = at + 1;
                }
                _ => {}
            }
        }
        if !inner[start..].is_empty() {
            flatten(&format!("{prefix}{}", &inner[start..]), out);
        }
    }
    let code: String = code_lines(code).map(|(_, l)| format!("{l}\n")).collect();
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("use ") {
        // A statement: only `pub`, `pub(crate)` … or indentation before it on its line.
        let line_start = rest[..at].rfind('\n').map_or(0, |n| n + 1);
        let before = rest[line_start..at].trim();
        let starts_statement = before.is_empty() || before.starts_with("pub");
        let after = &rest[at + "use ".len()..];
        let end = after.find(';').unwrap_or(after.len());
        let statement = &after[..end];
        let is_path = statement
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_:{},* \n\t".contains(c));
        if starts_statement && is_path {
            let words: Vec<&str> = statement.split_whitespace().collect();
            // `x as y` keeps `x`.
            let mut tree = String::new();
            let mut skip = false;
            for word in words {
                if skip {
                    skip = false;
                    tree.extend(word.chars().filter(|c| "{},".contains(*c)));
                } else if word == "as" {
                    skip = true;
                } else {
                    tree.push_str(word);
                }
            }
            flatten(tree.trim_start_matches("::"), &mut out);
        }
        rest = &after[end..];
    }
    out
}

/// The module path of a file: `server/admin.rs` → `[server, admin]`, `server/mod.rs` →
/// `[server]`.
fn module_path(file: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = file.trim_end_matches(".rs").split('/').collect();
    if parts.last() == Some(&"mod") || parts == ["lib"] || parts == ["main"] {
        parts.pop();
    }
    parts
}

/// The top-level module a path written in `file` names, resolving `crate::`, `super::` and
/// `self::`; `None` for an external crate or a path that stays in the file's own module.
fn named_module<'a>(file: &'a str, path: &'a str) -> Option<&'a str> {
    if let Some(rest) = path.strip_prefix("crate::") {
        return rest.split("::").next();
    }
    if !path.starts_with("super::") {
        return None;
    }
    let mut here = module_path(file);
    let mut rest = path;
    while let Some(after) = rest.strip_prefix("super::") {
        here.pop();
        rest = after;
    }
    match here.first() {
        Some(top) => Some(top),
        None => rest.split("::").next(),
    }
}

/// Every `super::` path written inline (outside `use`): `super::journal::X` in an expression.
fn inline_super_paths(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("super::") {
        let before_ok = at == 0 || {
            let before = rest.as_bytes()[at - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        };
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        if before_ok {
            found.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    found
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
fn the_checker_reads_grouped_imports_and_super_paths() {
    let paths = use_paths("use crate::{render::x, server::{a, b}};\nuse super::journal::J;");
    assert_eq!(
        paths,
        [
            "crate::render::x",
            "crate::server::a",
            "crate::server::b",
            "super::journal::J"
        ]
    );
    assert_eq!(
        named_module("server/intercept.rs", "super::journal::J"),
        Some("server")
    );
    assert_eq!(
        named_module("server/mod.rs", "super::render::x"),
        Some("render")
    );
    assert_eq!(
        named_module("domain/afacturar/ledger.rs", "super::super::store"),
        Some("domain")
    );
    assert_eq!(
        named_module("domain/mod.rs", "super::server::x"),
        Some("server")
    );
    assert_eq!(named_module("respond/mod.rs", "serde_json::Value"), None);
    assert!(layer_violation("domain/mod.rs", "server").is_some());
    assert_eq!(
        inline_super_paths("x(super::journal::MAX)"),
        ["super::journal::MAX"]
    );
}

#[test]
fn no_layer_imports_a_layer_above_it_or_beside_it() {
    let mut broken = Vec::new();
    for (file, text) in sources() {
        for (number, line) in code_lines(&text) {
            let inline = inline_super_paths(line);
            let named = crate_imports(line)
                .into_iter()
                .chain(inline.iter().filter_map(|p| named_module(&file, p)));
            for target in named {
                if let Some(why) = layer_violation(&file, target) {
                    broken.push(format!("{why} (line {number})"));
                }
            }
        }
        for path in use_paths(&text) {
            if let Some(why) = named_module(&file, &path).and_then(|t| layer_violation(&file, t)) {
                broken.push(format!("{why} (`use {path}`)"));
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
                // OpenAPI's texts (and the operation table's, which it shows) describe the
                // answers in prose.
                let describes = file == "openapi.rs" || file == "contract/operations.rs";
                if line.contains(word) && !file.starts_with(home) && !describes {
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

/// What `domain` may not name: it holds rules, not I/O or wire formats (ARCHITECTURE.md).
const NOT_IN_DOMAIN: &[&str] = &[
    "serde_json",
    "std::fs",
    "std::net",
    "std::io",
    "std::process",
    "std::env",
];

#[test]
fn the_domain_does_no_io_and_writes_no_wire_format() {
    let mut broken = Vec::new();
    for (file, text) in sources() {
        if module_of(&file) != "domain" {
            continue;
        }
        for (number, line) in code_lines(&text) {
            for name in NOT_IN_DOMAIN {
                if names_crate(line, name) || line.contains(&format!("{name}::")) {
                    broken.push(format!("{file}:{number} names `{name}`"));
                }
            }
        }
        for path in use_paths(&text) {
            if NOT_IN_DOMAIN.iter().any(|name| path.starts_with(name)) {
                broken.push(format!("{file}: `use {path}`"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "I/O or wire formats in domain:\n{}",
        broken.join("\n")
    );
}

/// Each package of a `cargo tree` (normal, dev and build edges) and the feature lists it is
/// built with there (two when its build scripts and proc macros need another copy).
fn features_in_tree(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["-e", "normal,dev,build", "-f", "{p} [{f}]"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // `name vX.Y.Z (proc-macro) [a,b] (*)`: the features are the last bracket.
        let Some((package, features)) = line.rsplit_once(" [") else {
            continue;
        };
        let package = package.split(" (").next().unwrap_or(package).to_owned();
        let features = features.split(']').next().unwrap_or_default().to_owned();
        packages.entry(package).or_default().insert(features);
    }
    packages
}

/// Every feature named in a package's feature lists.
fn feature_names(lists: &BTreeSet<String>) -> BTreeSet<String> {
    lists
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_validators_tests_build_shared_dependencies_with_the_workspaces_features() {
    // CI builds the tests without default features, then the workspace's: a crate both use is
    // built once only where its features are the same in both (Cargo.toml's dev-dependencies).
    let workspace = features_in_tree(&["--workspace"]);
    let validator = features_in_tree(&["-p", "einvoice-mock", "--no-default-features"]);
    assert!(
        validator.len() > 50,
        "cargo tree lists the packages: {validator:?}"
    );
    let mut differing = Vec::new();
    for (package, features) in &validator {
        if package.starts_with("einvoice-mock ") {
            continue;
        }
        let Some(everywhere) = workspace.get(package) else {
            differing.push(format!("{package}: not in the workspace's tree"));
            continue;
        };
        if everywhere != features {
            let missing: Vec<String> = feature_names(everywhere)
                .difference(&feature_names(features))
                .cloned()
                .collect();
            differing.push(if missing.is_empty() {
                format!("{package}: {features:?} here, {everywhere:?} in the workspace")
            } else {
                format!("{package}: {}", missing.join(", "))
            });
        }
    }
    assert!(
        differing.is_empty(),
        "CI would build these twice (`cargo test -p einvoice-mock --no-default-features`, then \
         `cargo test --workspace`); give them these features in Cargo.toml's dev-dependencies \
         (\"Only for their features\"):\n{}",
        differing.join("\n")
    );
}

/// A profile's per-package opt-levels in Cargo.toml (`[profile.NAME.package]`).
fn package_opt_levels(manifest: &toml::Table, profile: &str) -> BTreeMap<String, i64> {
    let packages = manifest["profile"][profile]["package"]
        .as_table()
        .unwrap_or_else(|| panic!("Cargo.toml has [profile.{profile}.package]"));
    packages
        .iter()
        .map(|(name, settings)| {
            let level = settings["opt-level"]
                .as_integer()
                .unwrap_or_else(|| panic!("{profile}: {name}'s opt-level is a number"));
            (name.clone(), level)
        })
        .collect()
}

#[test]
fn the_dist_profile_optimises_every_crate_the_release_profile_leaves_unoptimised() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("Cargo.toml reads");
    let manifest: toml::Table = text.parse().expect("Cargo.toml parses");
    let release = package_opt_levels(&manifest, "release");
    let dist = package_opt_levels(&manifest, "dist");
    assert!(
        release.values().all(|&level| level == 0),
        "the release profile only lowers opt-levels to 0: {release:?}"
    );
    // `dist` inherits the release profile's packages: each must be raised again, and nothing
    // else listed there.
    let lowered: BTreeSet<&String> = release.keys().collect();
    let raised: BTreeSet<&String> = dist
        .iter()
        .filter(|(_, &level)| level == 3)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        lowered, raised,
        "[profile.dist.package] must list at opt-level 3 exactly the crates [profile.release.package] lists"
    );
    assert_eq!(
        dist.len(),
        raised.len(),
        "dist lists only opt-level 3: {dist:?}"
    );
    // A name that matches no package would leave its crate optimised without a word.
    let packages: BTreeSet<String> = features_in_tree(&["--workspace"])
        .into_keys()
        .filter_map(|package| package.split(' ').next().map(str::to_owned))
        .collect();
    let unknown: Vec<&&String> = lowered
        .iter()
        .filter(|name| !packages.contains(**name))
        .collect();
    assert!(
        unknown.is_empty(),
        "not in the dependency tree: {unknown:?}"
    );
}
