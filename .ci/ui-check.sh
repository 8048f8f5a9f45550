#!/usr/bin/env bash
# The journal page (/__admin/ui) rendered in headless Chromium at 1280 px: after an invalid
# request it must show the request as violating, with the violation's location, the coverage
# panel, the detail pane of a selected request (masked credential), and a long finding wrapped
# (no findings cell wider than its column: checked through the DOM). The screenshot is kept as
# target/ui-check.png. Installs Debian's chromium when it is missing (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The binary CI already built (EINVOICE_MOCK_BIN), else a debug build of this checkout.
binary="${EINVOICE_MOCK_BIN:-}"
if [ -z "$binary" ]; then
  cargo build --quiet --bin einvoice-mock
  binary="${CARGO_TARGET_DIR:-target}/debug/einvoice-mock"
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

"$binary" serve --port 0 >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/stdout" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)
[ -n "$url" ] || { echo "ui-check: the fake did not start"; cat "$work/stderr"; exit 1; }

curl -s -o /dev/null -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-13"}'
curl -s -o /dev/null -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-11"}'
# A finding with a long unbroken word (a 300-character month): it must wrap, not overflow.
long=$(printf 'x%.0s' $(seq 300))
curl -s -o /dev/null -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: secret-key-1234' \
  -H 'Content-Type: application/json' -d "{\"MesConsulta\":\"2019-$long\"}"
# A finding whose location is one long word (an undeclared 300-character property).
curl -s -o /dev/null -X POST "$url/api/radian/acuse_recibo_fev" -H 'Authorization: Bearer t' \
  -H 'Accept: application/json' -F documento_obligado=830020470 \
  -F "data={\"evento\":[],\"generalidades\":{},\"$long\":1}"

chrome_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --virtual-time-budget=5000)
page="$url/__admin/ui?select=3"
chromium "${chrome_flags[@]}" --window-size=1280,800 --dump-dom "$page" >"$work/dom.html" 2>"$work/chromium.log" || true
chromium "${chrome_flags[@]}" --window-size=1280,1000 --screenshot="$work/ui.png" "$page" >/dev/null 2>&1 || true

fail() { echo "ui-check: $1"; echo "--- DOM ---"; head -c 4000 "$work/dom.html"; exit 1; }
grep -q '4 requests — 1 conforms, 3 break the contract' "$work/dom.html" || fail "the summary is not rendered"
grep -q "class=\"verdict violates\"" "$work/dom.html" || fail "the violating request is not highlighted"
grep -q '/MesConsulta' "$work/dom.html" || fail "the violation's location is not shown"
grep -q "$long" "$work/dom.html" || fail "the long finding is not shown"
grep -q 'data-findings-overflow="0"' "$work/dom.html" || fail "a findings cell overflows its column"
grep -q 'data-page-overflow="no"' "$work/dom.html" || fail "the page scrolls horizontally at 1280 px"
grep -q 'documented answers and request fields exercised' "$work/dom.html" || fail "the coverage panel is not rendered"
grep -q 'id="detail-headers"' "$work/dom.html" || fail "the detail pane is not rendered"
grep -q 'rcapikey</dt><dd>\*\*\*\*\*\*\*\*\*\*\*1234' "$work/dom.html" || fail "the detail pane does not show the masked key"
grep -q 'secret-key-1234' "$work/dom.html" && fail "the detail pane shows the key unmasked"
[ -s "$work/ui.png" ] && mkdir -p target && cp "$work/ui.png" target/ui-check.png
echo "ui-check: 1 passed, 0 failed"
