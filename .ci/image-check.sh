#!/usr/bin/env bash
# The container image (Dockerfile, default `release` stage), built and run without Docker:
# Debian's buildah with the chroot isolation (no daemon, no user namespaces), on a
# `debian:bookworm-slim` base made here with debootstrap --variant=minbase from the mirror apt
# already uses (no other registry is reachable from CI) and imported under that name. Then the
# image's own entrypoint and command run (`buildah run`, host network) on a free port; the image's
# own HEALTHCHECK command must pass; one acuse and one saldos must answer as documented; the
# image's size is reported (target: at most 100 MB).
#
# Installs buildah and debootstrap from Debian when missing (CI runs as root). Takes the release
# binary from EINVOICE_MOCK_BIN (default target/release/einvoice-mock), built if absent, and
# strips a copy of it as the release workflow does.
# Leaves the base image and the checked image (einvoice-mock:check) in buildah's storage, so a
# second run skips debootstrap; removes its containers and temporary files.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${EINVOICE_MOCK_BIN:-target/release/einvoice-mock}"
if [ ! -x "$bin" ]; then
  cargo build --release --locked --bin einvoice-mock
  bin="${CARGO_TARGET_DIR:-target}/release/einvoice-mock"
fi

if ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap >/dev/null
fi
# vfs: works in any container this CI may itself run in (overlay on overlay often does not).
export STORAGE_DRIVER=vfs
isolation=(--isolation chroot)

work=$(mktemp -d)
containers=()
server_pgid=
cleanup() {
  if [ -n "$server_pgid" ]; then
    # buildah run and the process it started share the process group made by setsid.
    kill -TERM -- "-$server_pgid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$server_pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pgid" 2>/dev/null || true
  fi
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "image-check: $1"; exit 1; }

base=docker.io/library/debian:bookworm-slim
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  # The mirror apt is configured with (deb822 sources first, then the one-line format).
  mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\/\?\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  [ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(http[^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  started=$(date +%s)
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; fail "debootstrap from $mirror failed"; }
  # What debian:bookworm-slim leaves out: documentation, manuals, translations, apt's caches.
  rm -rf "$work"/rootfs/usr/share/{doc,man,info,locale}/* "$work"/rootfs/var/cache/apt/*.bin \
    "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/log/*
  tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
  rm -rf "$work/rootfs"
  c=$(buildah from scratch); containers+=("$c")
  buildah add "$c" "$work/rootfs.tar" / >/dev/null
  buildah config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  buildah commit --quiet "$c" "$base" >/dev/null
  echo "image-check: made $base with debootstrap from $mirror in $(($(date +%s) - started)) s"
fi

# The build context of a release pipeline: the Dockerfile and the binary, nothing else.
mkdir -p "$work/context"
cp Dockerfile "$work/context/"
cp "$bin" "$work/context/einvoice-mock"
# Without its symbol table, as the release workflow builds it (CARGO_PROFILE_RELEASE_STRIP).
strip "$work/context/einvoice-mock"
# The previous run's image goes first, so that reruns do not pile up untagged copies.
buildah rmi einvoice-mock:check >/dev/null 2>&1 || true
started=$(date +%s)
buildah bud "${isolation[@]}" --pull=never --format docker --layers=false \
  --build-arg BINARY=einvoice-mock -t einvoice-mock:check "$work/context" >"$work/bud.log" 2>&1 \
  || { tail -n 30 "$work/bud.log"; fail "buildah bud failed"; }
echo "image-check: built einvoice-mock:check in $(($(date +%s) - started)) s"

# The image's own configuration (docker format: buildah keeps HEALTHCHECK only there).
buildah inspect --type image einvoice-mock:check >"$work/inspect.json"
python3 - "$work" <<'PY' || fail "the image's configuration is not as the Dockerfile says"
import json, sys
work = sys.argv[1]
config = json.load(open(f"{work}/inspect.json"))["Docker"]["config"]
assert config.get("User") == "einvoice", f"runs as {config.get('User')!r}, not the unprivileged user"
test = (config.get("Healthcheck") or {}).get("Test") or []
assert test[:1] == ["CMD"], f"no exec-form HEALTHCHECK: {test}"
open(f"{work}/command", "w").write("\0".join(config["Entrypoint"] + config["Cmd"]) + "\0")
open(f"{work}/health", "w").write("\0".join(test[1:]) + "\0")
PY
mapfile -d '' -t command <"$work/command"
mapfile -d '' -t health <"$work/health"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

server=$(buildah from --pull-never einvoice-mock:check); containers+=("$server")
probe=$(buildah from --pull-never einvoice-mock:check); containers+=("$probe")
setsid buildah run "${isolation[@]}" --network host --env "EINVOICE_MOCK_PORT=$port" "$server" -- \
  "${command[@]}" --port "$port" >"$work/stdout" 2>"$work/stderr" &
server_pgid=$!
started=$(date +%s%N)
healthy=
for _ in $(seq 60); do
  if buildah run "${isolation[@]}" --network host --env "EINVOICE_MOCK_PORT=$port" "$probe" -- \
    "${health[@]}" >/dev/null 2>&1; then healthy=yes; break; fi
  kill -0 "$server_pgid" 2>/dev/null || break
  sleep 0.5
done
[ -n "$healthy" ] || { cat "$work/stdout" "$work/stderr"; fail "the image's HEALTHCHECK never passed"; }
echo "image-check: \`${command[*]} --port $port\` healthy (its own HEALTHCHECK) $((($(date +%s%N) - started) / 1000000)) ms after buildah run"
grep -q "^listening on http://0.0.0.0:$port" "$work/stdout" || fail "unexpected first line: $(head -n 1 "$work/stdout")"
url="http://127.0.0.1:$port"

cufe=f46fb7923e8a010b647ed4192de51987ada7c2d18d136ab0184d66838c4ae9f5e9ca302f8e0d41fc0e5883357c2423a4
data='{"evento":[{"informacion_documento_referencia":{"cufe":"'$cufe'"},"quien_recibio_documento":{"tipo_identificacion":50,"identificacion":"111111","nombres":"Prueba","apellidos":"Apellido"}}],"generalidades":{"tipo_ambiente_dian":2,"identificador_transmision":"20220913_122843","integrador":{"nombre":"WEB","tipo":"WEB"}}}'
acuse=$(curl -s -X POST "$url/api/radian/acuse_recibo_fev" -H 'Accept: application/json' \
  -H 'Authorization: Bearer token_cliente' -F documento_obligado=888888888 -F "data=$data")
echo "$acuse" | grep -q '"codigo_error":0' || fail "the acuse did not succeed: $acuse"
saldo=$(curl -s -X POST "$url/api/rest/Timbre/saldos" -H 'RCApiKey: k' \
  -H 'Content-Type: application/json' -d '{"MesConsulta":"2019-11"}')
echo "$saldo" | grep -q '"TipoConsumo"' || fail "saldos did not answer the documented balance: $saldo"

kill -TERM -- "-$server_pgid"
for _ in $(seq 100); do kill -0 -- "-$server_pgid" 2>/dev/null || break; sleep 0.1; done
kill -0 -- "-$server_pgid" 2>/dev/null && fail "the served process did not stop on SIGTERM"
server_pgid=

# The size `buildah images` (and `docker images`) reports: uncompressed, decimal units.
size=$(buildah images --json einvoice-mock:check | python3 -c '
import json, sys
number, unit = json.load(sys.stdin)[0]["size"].split()
print(round(float(number) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]))')
mb=$(python3 -c "print(f'{$size / 1e6:.1f}')")
echo "image-check: einvoice-mock:check is $mb MB (target: at most 100 MB; the base alone: $(buildah images --json "$base" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["size"])')); acuse codigo_error 0, saldos documented"
python3 -c "import sys; sys.exit(0 if $size <= 100e6 else 1)" || fail "the image is $mb MB, over 100 MB"
