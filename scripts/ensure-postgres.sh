#!/usr/bin/env bash
# Ensures the Postgres used by the tests answers at TEST_POSTGRES_URL, starting the
# local cluster when it is down. Never skips: if Postgres cannot be reached, it fails.
# `--drop-test-databases` (make test) also drops the ct_test_* databases of earlier runs.
set -euo pipefail
url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

ready() { pg_isready -d "$url" -q 2>/dev/null; }

if ! command -v pg_isready >/dev/null; then
  echo "ensure-postgres: pg_isready not found; installing postgresql-client" >&2
  (apt-get update -qq && apt-get install -y -qq postgresql-client) >/dev/null || true
fi

if ! ready; then
  echo "ensure-postgres: Postgres is not answering at $url; trying to start the local cluster" >&2
  if [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  fi
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi

if ! ready; then
  echo "ensure-postgres: FAILED — Postgres is required for the test suite and is not reachable at $url" >&2
  exit 1
fi

# Drop databases left behind by earlier test runs (each test creates its own).
if [ "${1:-}" = "--drop-test-databases" ]; then
  psql "$url" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'ct_test_%'" 2>/dev/null |
    while read -r db; do psql "$url" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done
fi
echo "ensure-postgres: Postgres is ready at $url" >&2
