# einvoice-mock: the fake provider in a container.
#
# From a release binary (what the release pipeline and .ci/image-check.sh do; the default
# stage). BINARY is a path inside the build context:
#
#   cargo build --release
#   docker build -t einvoice-mock .                 # BINARY=target/release/einvoice-mock
#   docker build -t einvoice-mock --build-arg BINARY=dist/einvoice-mock-linux-x86_64 dist-context
#
# From source, for users without a Rust toolchain (builds in a rust:1-bookworm stage):
#
#   docker build -t einvoice-mock --target from-source .
#
#   docker run --rm -p 8787:8787 einvoice-mock
#
# The image runs `einvoice-mock serve --host 0.0.0.0` on port 8787 with the embedded default
# configuration; mount a file and add `--config` to use another. Nothing is installed into the
# Debian base: the health check speaks HTTP with bash's /dev/tcp, so the image is the slim base
# plus one binary, and building it needs no network.

# Build: the binary, from the locked dependencies (only for the `from-source` target).
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo install --path . --locked --root /usr/local

# Run: Debian slim, an unprivileged user, the health check on /__admin/health.
FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin einvoice
USER einvoice
EXPOSE 8787
# The port the health check asks; set it too when passing another `--port`.
ENV EINVOICE_MOCK_PORT=8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${EINVOICE_MOCK_PORT} && printf 'GET /__admin/health HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]
ENTRYPOINT ["einvoice-mock"]
CMD ["serve", "--host", "0.0.0.0"]

FROM runtime AS from-source
COPY --from=builder /usr/local/bin/einvoice-mock /usr/local/bin/einvoice-mock

# The default target: the release binary from the build context.
FROM runtime AS release
ARG BINARY=target/release/einvoice-mock
COPY --chmod=0755 ${BINARY} /usr/local/bin/einvoice-mock
