#!/usr/bin/env bash
# The validator as a team that wants only it would use it: a crate outside the workspace that
# depends on einvoice-mock with `default-features = false`. It must build without the server
# stack and word the seed's semantic-error example exactly as seed 003 prints it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/target/validator-alone"
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "validator-alone"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
einvoice-mock = { path = "$root", default-features = false }
serde_json = "1"
TOML
cat > "$work/src/main.rs" <<'RUST'
use einvoice_mock::render::afacturar::body::resultado;
use einvoice_mock::{validate, Operation};

fn main() {
    let root = std::env::args().nth(1).expect("the project root");
    let read = |path: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(format!("{root}/{path}")).expect("a fixture");
        serde_json::from_str(&text).expect("JSON")
    };
    let data = read("fixtures/afacturar/acuse_recibo_fev.data/invalid/seed_003_apellido_en_vez_de_apellidos.json");
    let expected = read("fixtures/afacturar/acuse_recibo_fev.semantic_error/valid/seed_003_errores_de_semantica.json");
    let violations = validate(Operation::AcuseReciboFev, &data);
    let got = serde_json::Value::Array(resultado(&violations, &data));
    assert_eq!(got, expected["resultado"], "the seed's semantic-error example");
    println!("validator alone: {} violations, worded as seed 003 words them", violations.len());
}
RUST
cd "$work"
# Nothing of the server stack may be in the build.
tree="$(cargo tree -e normal --prefix none)"
for heavy in tokio axum hyper rusqlite reqwest rustls wiremock clap pdf-writer multer; do
    if grep -q "^$heavy v" <<<"$tree"; then
        echo "validator-alone: $heavy is in the validator's dependency tree" >&2
        exit 1
    fi
done
echo "validator-alone: $(sed 's/ (\*)//' <<<"$tree" | awk '{print $1}' | sort -u | wc -l) crates"
cargo run --quiet -- "$root"
