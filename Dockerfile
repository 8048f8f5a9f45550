# einvoice-mock: the fake provider in a container.
#
#   docker build -t einvoice-mock .
#   docker run --rm -p 8787:8787 einvoice-mock
#
# The image runs `einvoice-mock serve --host 0.0.0.0` on port 8787 with the embedded default
# configuration; mount a file and add `--config` to use another.

# Build: the binary, from the locked dependencies.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo install --path . --locked --root /usr/local

# Run: Debian slim with curl for the health check, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home einvoice
COPY --from=builder /usr/local/bin/einvoice-mock /usr/local/bin/einvoice-mock
USER einvoice
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8787/__admin/health || exit 1
CMD ["einvoice-mock", "serve", "--host", "0.0.0.0"]
