#!/usr/bin/env bash
# The npm packages (npm/): the main package `einvoice-mock` (a JS entry, the startFake API and
# its TypeScript types) and this machine's platform package (`einvoice-mock-linux-x64`, made by
# npm/platform/make-package.js around the release binary). Both are packed with `npm pack` and
# installed into an empty folder offline, with an empty npm cache (nothing comes from a
# registry); then `npx einvoice-mock --version` and `serve --port 0` must work, and the example
# test (npm/example/fake.test.mjs, `node --test`) arms a scenario and reads the journal.
# Prints the time from `npm install` to /__admin/health answering.
#
# Needs node >= 18 and npm. Takes the release binary from EINVOICE_MOCK_BIN (default
# target/release/einvoice-mock), built if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin="${EINVOICE_MOCK_BIN:-target/release/einvoice-mock}"
if [ ! -x "$bin" ]; then
  cargo build --release --locked --bin einvoice-mock
  bin="${CARGO_TARGET_DIR:-target}/release/einvoice-mock"
fi
bin=$(realpath "$bin")
fail() { echo "npm-check: $1"; exit 1; }

work=$(mktemp -d)
server_pgid=
cleanup() {
  if [ -n "$server_pgid" ]; then
    kill -TERM -- "-$server_pgid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$server_pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pgid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
npm_version=$(node -p 'require("./npm/einvoice-mock/package.json").version')
[ "$cargo_version" = "$npm_version" ] || fail "npm/einvoice-mock is $npm_version, Cargo.toml $cargo_version"
node -e '
  const p = require("./npm/einvoice-mock/package.json");
  for (const [name, v] of Object.entries(p.optionalDependencies))
    if (v !== p.version) { console.error(`${name} is ${v}, not ${p.version}`); process.exit(1); }'

platform=$(node -p '`${process.platform}-${process.arch}`')
node npm/platform/make-package.js --os "${platform%-*}" --cpu "${platform#*-}" --binary "$bin" \
  --out "$work/platform" >/dev/null
mkdir "$work/packs"
(cd npm/einvoice-mock && npm pack --silent --pack-destination "$work/packs" >/dev/null)
(cd "$work/platform" && npm pack --silent --pack-destination "$work/packs" >/dev/null)
main_tgz="$work/packs/einvoice-mock-$npm_version.tgz"
platform_tgz="$work/packs/einvoice-mock-$platform-$npm_version.tgz"
[ -f "$main_tgz" ] && [ -f "$platform_tgz" ] || fail "npm pack did not make both tarballs: $(ls "$work/packs")"
echo "npm-check: packed $(basename "$main_tgz") ($(du -k "$main_tgz" | cut -f1) kB), $(basename "$platform_tgz") ($(du -k "$platform_tgz" | cut -f1) kB)"

mkdir "$work/app"
cd "$work/app"
export npm_config_cache="$work/npm-cache" npm_config_offline=true npm_config_audit=false \
  npm_config_fund=false npm_config_update_notifier=false
started=$(date +%s%N)
npm install --silent "$main_tgz" "$platform_tgz" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "npm install of the tarballs failed"; }

version=$(npx einvoice-mock --version)
[ "$version" = "einvoice-mock $cargo_version" ] || fail "npx einvoice-mock --version said: $version"

setsid npx einvoice-mock serve --port 0 >"$work/stdout" 2>"$work/stderr" &
server_pgid=$!
for _ in $(seq 300); do grep -q '^listening on ' "$work/stdout" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)
[ -n "$url" ] || { cat "$work/stderr"; fail "npx einvoice-mock serve did not start"; }
for _ in $(seq 100); do curl -sf "$url/__admin/health" >/dev/null && break; sleep 0.05; done
elapsed=$((($(date +%s%N) - started) / 1000000))
curl -sf "$url/__admin/health" | grep -q '"status":"ok"' || fail "/__admin/health did not answer ok"
echo "npm-check: npm install (offline) to /__admin/health answering through npx: $elapsed ms"
saldo=$(curl -s -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-11"}')
echo "$saldo" | grep -q '"TipoConsumo"' || fail "saldos did not answer the documented balance: $saldo"
# SIGTERM to npx's process group: npm, the JS entry and the binary all stop.
kill -TERM -- "-$server_pgid"
for _ in $(seq 100); do kill -0 -- "-$server_pgid" 2>/dev/null || break; sleep 0.1; done
kill -0 -- "-$server_pgid" 2>/dev/null && fail "npx einvoice-mock serve did not stop on SIGTERM"
server_pgid=

# The TypeScript types ship with the package.
[ -f node_modules/einvoice-mock/lib/index.d.ts ] || fail "the package has no index.d.ts"

cp "$repo/npm/example/fake.test.mjs" .
node --test fake.test.mjs >"$work/test.log" 2>&1 || { cat "$work/test.log"; fail "the example test failed"; }
grep -q '^# pass 1' "$work/test.log" || { cat "$work/test.log"; fail "the example test did not pass once"; }
grep -q '<testsuite' contract.xml || fail "the example left no JUnit report"
echo "npm-check: npx einvoice-mock --version, serve --port 0 ($url), the example test (node --test) pass"
