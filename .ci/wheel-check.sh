#!/usr/bin/env bash
# The pip-installable wheel (pyproject.toml: maturin, bindings = "bin"), for teams that do not
# use Rust: maturin from PyPI builds it in a fresh virtual environment, reusing the repository's
# cargo target dir; pip installs it into another fresh virtual environment; the installed
# `einvoice-mock serve --port 0` must answer /__admin/health and a documented saldos.
# WHEEL_PROFILE picks the cargo profile (default release, as published wheels are built).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
profile="${WHEEL_PROFILE:-release}"
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.5,<2'
"$work/build/bin/maturin" build --profile "$profile" --out "$work/dist" >"$work/maturin.log" 2>&1 \
  || { cat "$work/maturin.log"; exit 1; }
wheel=$(ls "$work/dist"/einvoice_mock-*.whl)

python3 -m venv "$work/use"
"$work/use/bin/pip" install --quiet --disable-pip-version-check "$wheel"
[ -x "$work/use/bin/einvoice-mock" ] || { echo "wheel-check: no einvoice-mock in the venv"; exit 1; }

"$work/use/bin/einvoice-mock" serve --port 0 >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/stdout" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)
[ -n "$url" ] || { echo "wheel-check: the installed fake did not start"; cat "$work/stderr"; exit 1; }

fail() { echo "wheel-check: $1"; exit 1; }
curl -sf "$url/__admin/health" | grep -q '"status":"ok"' || fail "/__admin/health did not answer ok"
saldo=$(curl -s -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-11"}')
echo "$saldo" | grep -q '"TipoConsumo"' || fail "saldos did not answer the documented balance: $saldo"
kill "$server"; wait "$server" || true; server=

# The README's pytest fixture and example test (docs/python/), with the installed command.
"$work/use/bin/pip" install --quiet --disable-pip-version-check pytest
cp docs/python/conftest.py docs/python/test_saldos.py "$work/"
(cd "$work" && PATH="$work/use/bin:$PATH" "$work/use/bin/python" -m pytest -q -p no:cacheprovider \
  conftest.py test_saldos.py) || fail "the README's pytest example failed"
[ -s "$work/contract.xml" ] || fail "the pytest session left no contract.xml"
echo "wheel-check: $(basename "$wheel") installs and serves ($url); the pytest example passes"
