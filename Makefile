# AI Cost Tracker — `make run` serves the API on SQLite with demo data; `make test` runs everything.

export CARGO_TARGET_DIR ?= $(HOME)/.cache/cost-tracker/target
export TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
BIN := $(CARGO_TARGET_DIR)/debug/cost-tracker

.PHONY: run test toolchain fmt lint unit postgres build release

## Serve on sqlite://cost-tracker.db with 30 days of demo usage (idempotent).
run: toolchain
	cargo build -p server
	$(BIN) demo
	$(BIN) serve

## fmt check, clippy -D warnings, and the whole suite on SQLite and Postgres.
test: toolchain postgres fmt lint unit

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

## Makes sure the local Postgres answers (starts it if needed; fails loudly if it cannot).
postgres:
	@scripts/ensure-postgres.sh

## Installs the rustfmt and clippy components when missing.
toolchain:
	@command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

build:
	cargo build --workspace

release:
	cargo build --release -p server -p query-api
