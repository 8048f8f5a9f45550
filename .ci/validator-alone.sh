#!/usr/bin/env bash
# The validator as a team that wants only it would use it: a crate outside the workspace whose
# `[dependencies]` are the README's own block ("Use only the validator") verbatim, with the
# `git = "…"` source pointed at this checkout. It must build without the server stack, run the
# README's snippet as written, and word the seed's semantic-error example exactly as seed 003
# prints it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/target/validator-alone"
rm -rf "$work/src"
mkdir -p "$work/src/bin"

# The README's section, its first toml and first rust block.
section="$(awk '/^### Use only the validator/{on=1; next} on && /^##/{exit} on' "$root/README.md")"
block() { awk -v lang="$1" '$0 == "```" lang {on=1; next} on && /^```/{exit} on' <<<"$section"; }
dependencies="$(block toml)"
snippet="$(block rust)"
[ -n "$dependencies" ] && [ -n "$snippet" ] \
  || { echo "validator-alone: the README's section has no toml or rust block" >&2; exit 1; }
grep -q '^einvoice-mock = { git = "…", default-features = false }' <<<"$dependencies" \
  || { echo "validator-alone: the README's dependency line changed; update this script" >&2; exit 1; }
{
  printf '[package]\nname = "validator-alone"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[workspace]\n\n'
  sed "s|git = \"…\"|path = \"$root\"|" <<<"$dependencies"
} > "$work/Cargo.toml"
{ echo 'fn main() {'; cat <<<"$snippet"; echo '}'; } > "$work/src/bin/readme.rs"
cat > "$work/src/main.rs" <<'RUST'
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
    let got = serde_json::Value::Array(violations.afacturar_resultado(&data));
    assert_eq!(got, expected["resultado"], "the seed's semantic-error example");
    println!("validator alone: {} violations, worded as seed 003 words them", violations.len());
}
RUST
# The project's lock file (so the same versions are resolved) and target directory (so the
# dependencies CI already built without default features are reused, not built again).
cp "$root/Cargo.lock" "$work/Cargo.lock"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
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
cargo run --quiet --bin readme >/dev/null
echo "validator-alone: the README's snippet builds and runs with the README's [dependencies]"
cargo run --quiet --bin validator-alone -- "$root"
