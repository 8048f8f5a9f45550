#!/usr/bin/env bash
# The GitHub Action (action.yml, action/*.js) run here as a runner runs it: the release archive
# and SHA256SUMS laid out as the release workflow attaches them, served on loopback (the
# `download-url` input stands for GitHub's release downloads), then action/main.js with the
# runner's INPUT_*/GITHUB_* files, and action/post.js with the state main.js saved. Checks the
# checksum path, EINVOICE_MOCK_URL in GITHUB_ENV, a documented saldos, a stop that completes the
# JUnit report, and that a checksum mismatch is refused. Prints the time from the main step's
# start to /__admin/health answering.
#
# Needs node >= 20 and python3 (the loopback file server). Takes the release binary from
# EINVOICE_MOCK_BIN (default target/release/einvoice-mock), built if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin="${EINVOICE_MOCK_BIN:-target/release/einvoice-mock}"
if [ ! -x "$bin" ]; then
  cargo build --release --locked --bin einvoice-mock
  bin="${CARGO_TARGET_DIR:-target}/release/einvoice-mock"
fi
fail() { echo "action-check: $1"; exit 1; }

work=$(mktemp -d)
files_server=
fake_pid=
cleanup() {
  [ -n "$files_server" ] && kill "$files_server" 2>/dev/null || true
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

version=v$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name="einvoice-mock-$version-x86_64-unknown-linux-gnu"
[ "$(node -p '`${process.platform}-${process.arch}`')" = linux-x64 ] || fail "this check runs on linux-x64 only"
mkdir -p "$work/releases/$version/$name"
cp "$bin" "$work/releases/$version/$name/einvoice-mock"
(cd "$work/releases/$version" && tar -czf "$name.tar.gz" "$name" && rm -rf "$name" \
  && sha256sum -- * >SHA256SUMS)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/releases" "$port" >/dev/null 2>&1 &
files_server=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/$version/SHA256SUMS" && break; sleep 0.05; done

run_main() { # workspace, then extra environment
  local workspace=$1; shift
  mkdir -p "$workspace" "$workspace.temp"
  : >"$workspace.env"; : >"$workspace.path"; : >"$workspace.state"; : >"$workspace.output"
  (cd "$workspace" && env -u EINVOICE_MOCK_BINARY "INPUT_VERSION=$version" "INPUT_JUNIT=contract.xml" \
    "INPUT_DOWNLOAD-URL=http://127.0.0.1:$port" "INPUT_FAIL-ON-VIOLATION=true" \
    "GITHUB_WORKSPACE=$workspace" "RUNNER_TEMP=$workspace.temp" "GITHUB_ENV=$workspace.env" \
    "GITHUB_PATH=$workspace.path" "GITHUB_STATE=$workspace.state" "GITHUB_OUTPUT=$workspace.output" \
    "$@" node "$repo/action/main.js")
}

ws="$work/workspace"
started=$(date +%s%N)
run_main "$ws" >"$work/main.log" 2>&1 || { cat "$work/main.log"; fail "the main step failed"; }
url=$(sed -n 's/^EINVOICE_MOCK_URL=//p' "$ws.env")
[ -n "$url" ] || { cat "$work/main.log"; fail "EINVOICE_MOCK_URL was not exported"; }
fake_pid=$(sed -n 's/^pid=//p' "$ws.state")
for _ in $(seq 100); do curl -sf "$url/__admin/health" >/dev/null && break; sleep 0.05; done
elapsed=$((($(date +%s%N) - started) / 1000000))
curl -sf "$url/__admin/health" | grep -q '"status":"ok"' || fail "/__admin/health did not answer ok"
echo "action-check: download (loopback), checksum, extract, serve: /__admin/health answered $elapsed ms after the main step started"
grep -q "^$ws.temp/" "$ws.path" || fail "the binary's folder was not added to GITHUB_PATH"
saldo=$(curl -s -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-11"}')
echo "$saldo" | grep -q '"TipoConsumo"' || fail "saldos did not answer the documented balance: $saldo"

# The post step, with the state main.js saved (the runner passes it as STATE_*).
mapfile -t state < <(sed 's/^/STATE_/' "$ws.state")
env "${state[@]}" "INPUT_FAIL-ON-VIOLATION=true" node "$repo/action/post.js" >"$work/post.log" 2>&1 \
  || { cat "$work/post.log"; fail "the post step failed on a conforming run"; }
kill -0 "$fake_pid" 2>/dev/null && fail "the post step left the fake running"
fake_pid=
grep -q '<testsuite' "$ws/contract.xml" || fail "no complete contract.xml in the workspace"
grep -q '0 request(s) broke the contract' "$work/post.log" || { cat "$work/post.log"; fail "the post step did not judge the report"; }

# A violation makes the post step fail when fail-on-violation is set.
ws2="$work/violating"
run_main "$ws2" >"$work/main2.log" 2>&1 || { cat "$work/main2.log"; fail "the second main step failed"; }
url=$(sed -n 's/^EINVOICE_MOCK_URL=//p' "$ws2.env")
fake_pid=$(sed -n 's/^pid=//p' "$ws2.state")
curl -s -o /dev/null -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-13"}'
mapfile -t state < <(sed 's/^/STATE_/' "$ws2.state")
if env "${state[@]}" "INPUT_FAIL-ON-VIOLATION=true" node "$repo/action/post.js" >"$work/post2.log" 2>&1; then
  cat "$work/post2.log"; fail "the post step passed although a request broke the contract"
fi
fake_pid=

# A tampered archive is refused.
echo "0000000000000000000000000000000000000000000000000000000000000000  $name.tar.gz" \
  >"$work/releases/$version/SHA256SUMS"
if run_main "$work/tampered" >"$work/main3.log" 2>&1; then fail "a checksum mismatch was accepted"; fi
grep -q 'SHA-256' "$work/main3.log" || { cat "$work/main3.log"; fail "the mismatch was not named"; }
echo "action-check: main (EINVOICE_MOCK_URL, GITHUB_PATH), post (stopped, contract.xml complete, a violation fails it), a bad checksum refused"
