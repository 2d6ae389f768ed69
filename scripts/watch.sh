#!/usr/bin/env bash
# `make watch`: the local Lambda loop. `cargo lambda watch` emulates the Lambda Runtime API
# on 127.0.0.1:$WATCH_PORT (default 9000) and runs each function with `cargo run` on its
# first invocation. query-api needs Postgres and a key: without DATABASE_URL this uses (and
# creates, once) the database `cost_tracker_watch` on the local Postgres of the tests
# (started if it is down); without API_KEY, the key `watch-local-key-0001`. Migrations run
# first, as the deploy step does for Lambda.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${WATCH_PORT:-9000}"

if [ -z "${DATABASE_URL:-}" ]; then
  admin="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  scripts/ensure-postgres.sh
  db=cost_tracker_watch
  if [ "$(psql "$admin" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    psql "$admin" -qc "CREATE DATABASE $db"
    echo "watch: created the database $db" >&2
  fi
  export DATABASE_URL="${admin%/*}/$db"
  echo "watch: DATABASE_URL=$DATABASE_URL" >&2
fi
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "watch: DATABASE_URL must be postgres:// (query-api runs on Postgres only, as on Lambda)" >&2; exit 1 ;;
esac
export API_KEY="${API_KEY:-watch-local-key-0001}"

cargo run -q -p server -- migrate
echo "watch: try  curl -H 'X-API-Key: $API_KEY' http://127.0.0.1:$port/lambda-url/query-api/costs/daily" >&2
exec cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port"
