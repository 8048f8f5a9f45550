#!/usr/bin/env bash
# The journal page (/__admin/ui) rendered in headless Chromium: after an invalid request it
# must show the request as violating, with the violation's location. Installs Debian's
# chromium when it is missing (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

cargo build --quiet --bin einvoice-mock
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

"${CARGO_TARGET_DIR:-target}/debug/einvoice-mock" serve --port 0 >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/stdout" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)
[ -n "$url" ] || { echo "ui-check: the fake did not start"; cat "$work/stderr"; exit 1; }

curl -s -o /dev/null -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-13"}'
curl -s -o /dev/null -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-11"}'

chrome_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --virtual-time-budget=5000)
chromium "${chrome_flags[@]}" --dump-dom "$url/__admin/ui" >"$work/dom.html" 2>"$work/chromium.log" || true
chromium "${chrome_flags[@]}" --window-size=1280,800 --screenshot="$work/ui.png" "$url/__admin/ui" >/dev/null 2>&1 || true

fail() { echo "ui-check: $1"; echo "--- DOM ---"; head -c 4000 "$work/dom.html"; exit 1; }
grep -q '2 requests — 1 conform, 1 break the contract' "$work/dom.html" || fail "the summary is not rendered"
grep -q "class=\"verdict violates\"" "$work/dom.html" || fail "the violating request is not highlighted"
grep -q '/MesConsulta' "$work/dom.html" || fail "the violation's location is not shown"
[ -s "$work/ui.png" ] && mkdir -p target && cp "$work/ui.png" target/ui-check.png
echo "ui-check: 1 passed, 0 failed"
