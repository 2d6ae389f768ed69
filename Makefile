# AI Cost Tracker — `make run` serves the API on SQLite with demo data; `make test` runs everything;
# `make check-deploy` lints the deployment files (template.yaml, Dockerfile) and builds the Lambda
# packages. Deployment targets: `make package` (three arm64 Lambda zips), `make migrate`
# (DATABASE_URL=… cost-tracker migrate), `make watch` + `make invoke-collector` / `make invoke-sync`
# (local Lambda loop). Python-packaged tools (cfn-lint, sam, cargo-lambda, moto, hadolint) live in
# one virtualenv, $(VENV), installed by `make pytools` when missing.

export CARGO_TARGET_DIR ?= $(HOME)/.cache/cost-tracker/target
export TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export VENV ?= $(HOME)/.cache/cost-tracker/venv
export MOTO_SERVER := $(VENV)/bin/moto_server
export PATH := $(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY ?= 0
BIN := $(CARGO_TARGET_DIR)/debug/cost-tracker

# The Lambda binaries (template.yaml's BuildProperties.Binary) and where cargo lambda puts them.
LAMBDAS := query-api collector cv-sync
LAMBDA_DIR := $(CARGO_TARGET_DIR)/lambda
# sam and cfn-lint want a region; validation never calls AWS.
OFFLINE_AWS := AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=validate-offline AWS_SECRET_ACCESS_KEY=validate-offline

.PHONY: run test toolchain fmt lint unit postgres build release pytools arm64-target package \
	check-deploy lint-deploy image-check migrate watch watch-check invoke-collector invoke-sync bench bench-micro bench-import

## Serve on sqlite://cost-tracker.db with 30 days of demo usage (idempotent).
run: toolchain
	cargo build -p server
	$(BIN) demo
	$(BIN) serve

## fmt check, clippy -D warnings, and the whole suite on SQLite and Postgres.
test: toolchain postgres pytools fmt lint unit

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

## Makes sure the local Postgres answers (starts it if needed; fails loudly if it cannot).
postgres:
	@scripts/ensure-postgres.sh --drop-test-databases

## Installs the rustfmt and clippy components when missing.
toolchain:
	@command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

## Creates $(VENV) and installs cfn-lint, aws-sam-cli, cargo-lambda, moto[server], hadolint when missing.
pytools:
	@scripts/pytools.sh

build:
	cargo build --workspace

release:
	cargo build --release -p server -p query-api

## The Rust standard library for arm64 Lambda (cargo lambda links it with zig).
arm64-target:
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

## The three Lambda packages: $(LAMBDA_DIR)/<function>/bootstrap.zip, arm64, checked and measured.
package: toolchain pytools arm64-target
	cargo lambda build --profile lambda --arm64 --output-format zip $(LAMBDAS:%=--bin %)
	@python3 scripts/check-packages.py $(LAMBDA_DIR) $(LAMBDAS)

## cfn-lint, sam validate (plain and --lint) of both templates (zips, container images), the
## templates' contract, hadolint of both Dockerfiles; all offline.
lint-deploy: pytools
	cfn-lint template.yaml template-image.yaml
	for t in template.yaml template-image.yaml; do \
		$(OFFLINE_AWS) sam validate --template-file $$t && \
		$(OFFLINE_AWS) sam validate --lint --template-file $$t || exit 1; \
	done
	python3 scripts/check-template.py
	hadolint --no-color Dockerfile Dockerfile.lambda

## The container image's entry binary (the arm64 bootstrap of the query-api package, laid out
## as Dockerfile.lambda copies it) answers an API Gateway event under the Lambda Runtime API
## fake, run by qemu-user (installed when missing, with the arm64 C library).
image-check: package postgres
	@scripts/ensure-qemu.sh
	LAMBDA_PACKAGES=$(LAMBDA_DIR) cargo test -p query-api --test image -- --ignored

## Everything about deployment that can be checked without AWS or Docker (run by .ci/run).
check-deploy: lint-deploy package image-check

## Applies the migrations to DATABASE_URL (the deploy step for Neon; Lambdas never migrate).
migrate: toolchain
	@test -n "$(DATABASE_URL)" || { echo "usage: make migrate DATABASE_URL=postgres://…  (e.g. the Neon URL)"; exit 1; }
	cargo run -q -p server -- migrate

## Local Lambda loop: `make watch` in one terminal (the Lambda runtime emulator on :9000;
## without DATABASE_URL a local Postgres database cost_tracker_watch, created once, and
## API_KEY watch-local-key-0001; see scripts/watch.sh), then in another:
watch: toolchain pytools
	WATCH_PORT=$(WATCH_PORT) scripts/watch.sh
WATCH_PORT ?= 9000

## CI: make watch, one request to query-api through it, stop (scripts/watch-check.sh).
watch-check: toolchain pytools
	scripts/watch-check.sh

invoke-collector: pytools
	cargo lambda invoke collector --data-file tests/fixtures/eventbridge-scheduled.json

invoke-sync: pytools
	cargo lambda invoke cv-sync --data-file tests/fixtures/eventbridge-scheduled.json

## The benchmark (issue 6): release binaries, a fresh database (Postgres by default,
## BENCH_DB=sqlite for SQLite), BENCH_EVENTS events (default 10,000,000) over BENCH_DAYS days
## through the ledger, then `cost-tracker serve` measured. Prints a table and writes
## $(CARGO_TARGET_DIR)/bench/results.json. The Lambda zip sizes come from `make package`.
bench: toolchain postgres package
	cargo build --release -p server -p query-api -p collector -p cv-sync -p bench
	$(CARGO_TARGET_DIR)/release/cost-tracker-bench run
	$(MAKE) bench-import

## The transcript-import benchmark (issue 12): generates a ~1 GiB Claude Code tree and a
## ~1 GiB OpenClaw root (bench/import/gen_agent_logs.py), imports each into a fresh SQLite
## and Postgres database with the release binary, re-runs it unchanged, checks the totals
## against the generator's ground truth, and runs ccusage 20.0.24 (npm) on the same trees.
## BENCH_IMPORT_SIZE (default 1G), BENCH_IMPORT_ARGS (e.g. --reuse) pass through.
BENCH_IMPORT_SIZE ?= 1G
bench-import: toolchain postgres
	cargo build --release -p server
	python3 bench/import/run_import_bench.py --binary $(CARGO_TARGET_DIR)/release/cost-tracker \
		--workdir $(CARGO_TARGET_DIR)/bench/import --size $(BENCH_IMPORT_SIZE) $(BENCH_IMPORT_ARGS)

## Micro-benchmarks (criterion) of the hot pure paths: pricing, rule resolution, batch parsing.
bench-micro: toolchain
	cargo bench -p cost-tracker-shared --bench hot_paths
