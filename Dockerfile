# syntax=docker/dockerfile:1
# `cost-tracker serve` in a container (Railway or any Docker host): the REST API on
# 0.0.0.0:$PORT, run as a non-root user. DATABASE_URL defaults to SQLite under /data
# (mount a volume there to keep it); set it to postgres://… (e.g. Neon) for production.
# Migrations run at start-up. Lambda packages are built by `make package`, not here.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p server \
    && install -m 0755 target/release/cost-tracker /usr/local/bin/cost-tracker

FROM debian:bookworm-slim AS runtime
# wget is for the HEALTHCHECK only (about 1 MB); ca-certificates for outbound TLS.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates wget \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin cost-tracker \
    && mkdir -p /data \
    && chown cost-tracker:cost-tracker /data
COPY --from=build /usr/local/bin/cost-tracker /usr/local/bin/cost-tracker
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:///data/cost-tracker.db \
    RUST_LOG=info,sqlx=warn
WORKDIR /data
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "wget -q -O /dev/null http://127.0.0.1:${PORT}/health || exit 1"]
ENTRYPOINT ["cost-tracker"]
CMD ["serve"]
