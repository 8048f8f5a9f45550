#!/usr/bin/env bash
# The pip-installable wheel (pyproject.toml: maturin, bindings = "bin"), for teams that do not
# use Rust: maturin from PyPI builds it in a fresh virtual environment, reusing the repository's
# cargo target dir; pip installs it into another fresh virtual environment; the installed
# `einvoice-mock serve --port 0` must answer /__admin/health and a documented saldos; the
# wheel's Python API (`einvoice_mock.start_fake()`) must find that binary without PATH, and its
# pytest plugin (fixture `einvoice_fake`, registered through the `pytest11` entry point) must
# arm a scenario and read the journal (docs/python/test_plugin.py).
# WHEEL_PROFILE picks the cargo profile: release by default, the build CI makes once and reuses;
# the release workflow builds published wheels with `dist`.
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

# The Python API, from outside the venv's PATH: the binary is found in the venv's scripts dir.
(cd "$work" && env -u EINVOICE_MOCK_BINARY PATH=/usr/bin:/bin "$work/use/bin/python" - "$work" <<'PY'
import sys, urllib.request
import einvoice_mock
binary = einvoice_mock.binary_path()
assert binary.startswith(sys.prefix), f"{binary} is not the wheel's (under {sys.prefix})"
with einvoice_mock.start_fake(junit=sys.argv[1] + "/api-contract.xml") as fake:
    with urllib.request.urlopen(fake.url + "/__admin/health") as health:
        assert b'"status":"ok"' in health.read()
    fake.arm({"operation": "saldos", "respond": "401"})
    assert fake.journal()["requests"] == []
assert fake.stop() == 0, fake.stderr
PY
) || fail "einvoice_mock.start_fake() from the installed wheel failed"
[ -s "$work/api-contract.xml" ] || fail "start_fake(junit=...) left no report"

# The README's pytest fixture and example tests (docs/python/), with the installed command and
# the installed plugin.
"$work/use/bin/pip" install --quiet --disable-pip-version-check pytest
cp docs/python/conftest.py docs/python/test_saldos.py docs/python/test_plugin.py "$work/"
(cd "$work" && "$work/use/bin/pytest" -q -p no:cacheprovider \
  --einvoice-mock-junit plugin-contract.xml conftest.py test_saldos.py test_plugin.py) \
  || fail "the README's pytest examples failed"
[ -s "$work/contract.xml" ] || fail "the pytest session left no contract.xml"
grep -q 'saldos' "$work/plugin-contract.xml" || fail "the plugin's fake left no JUnit report"
echo "wheel-check: $(basename "$wheel") installs and serves ($url); start_fake() and the pytest plugin (einvoice_fake) work; the pytest examples pass"
