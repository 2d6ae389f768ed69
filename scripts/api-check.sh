#!/usr/bin/env bash
# The API as third-party tools see it, on SQLite and on Postgres: starts `BINARY serve`,
# generates a Python client from the served /openapi.json with openapi-python-client,
# pushes a batch and reads every report through it (scripts/api_client_check.py), then
# runs schemathesis against the same document (every check; the few exceptions are
# explained where they are made). Exits non-zero at the first failure.
#
# Usage: scripts/api-check.sh BINARY
#   API_CHECK_BACKENDS  which backends, in order (default "sqlite postgres")
#   API_CHECK_EXAMPLES  schemathesis cases per operation (default 50)
#   TEST_POSTGRES_URL   the Postgres to create the check's database in (default
#                       postgres://postgres@127.0.0.1:5432/postgres)
# Tools come from $VENV (scripts/pytools.sh installs them).
set -euo pipefail

binary="$(realpath "${1:?usage: scripts/api-check.sh BINARY}")"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$HOME/.cache/cost-tracker/venv}"
admin_url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
examples="${API_CHECK_EXAMPLES:-50}"
key="api-check-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d)"
server_pid=""
# ct_test_ like the Rust tests' databases, so scripts/ensure-postgres.sh drops one left
# behind by a run that was killed.
database="ct_test_api_check_$$"
database_created=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

cleanup() {
  local status=$?
  stop_server
  # A failure's cause may be only in a server's log (a 5xx says nothing in its body).
  if [ "$status" -ne 0 ]; then
    for log in "$work"/server-*.log; do
      [ -s "$log" ] && { echo "api-check: the end of $log:" >&2; tail -n 40 "$log" >&2; }
    done
  fi
  if [ -n "$database_created" ]; then
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A port nobody listens on now (the kernel's pick; the server binds it a moment later).
free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# BINARY sees only the environment the check sets, in an empty directory: no .env,
# provider key or import root of the caller's changes what the server answers.
server_env=(env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn REPORT_TIMEZONE=UTC API_KEY="$key" HOST=127.0.0.1)

# Starts `serve` on a free port and waits for /health; sets $url.
start_server() {
  local port
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  (cd "$work" && exec "${server_env[@]}" DATABASE_URL="$database_url" PORT="$port" "$binary" serve) \
    >>"$work/server-$backend.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$url/health" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "api-check: the $backend server did not answer /health; its log:" >&2
  cat "$work/server-$backend.log" >&2
  exit 1
}

# Every check on every operation, with a bounded number of cases and a fixed seed: the
# same cases each run, since nothing is carried over (no example database; each run has
# its own working directory, where schemathesis keeps the crashes it replays next time).
# The exceptions:
# - ignored_auth runs in run_auth_probes: its keyless and wrong-key probes would trip
#   the wrong-key limit (20 a minute per address, README "Limits of cost-tracker serve")
#   after a few operations, and every later request would be a 429.
# - positive_data_acceptance (a schema-valid request must not be refused) is left out:
#   by design (README) the server checks what a schema cannot say: IANA zone names with
#   whole-hour offsets, calendar dates, ranges of at most 366 days with start before
#   end, `limit` not with format=csv, `recorded_at` at most 5 minutes ahead, prices as
#   decimal strings, a provider that is configured. Each refusal is a 400 or 422 that
#   names the field, and the other checks hold those answers to the document.
# - NUL characters are not generated: the server refuses them in every text (400 in a
#   query, 422 in a body; README "Errors"), since Postgres text cannot hold them.
# One worker: hypothesis building strategies from two threads trips CPython 3.11's
# "AST constructor recursion depth mismatch" (a tool error, not a finding). The output
# is not sanitized: the key is this run's throwaway, and the sanitizer also hides every
# field named like a token or session, which is what failures here are about.
schemathesis() {
  local dir
  dir="$(mktemp -d "$work/schemathesis.XXXXXX")"
  (cd "$dir" && exec "$venv/bin/schemathesis" --no-color "$@")
}

run_schemathesis() {
  schemathesis run "$url/openapi.json" \
    --checks all --exclude-checks ignored_auth,positive_data_acceptance \
    --max-examples "$examples" --seed 20261203 --workers 1 \
    --generation-database none --generation-allow-x00 false \
    --header "X-API-Key: $key" --output-sanitize false
}

# ignored_auth on every keyed operation: the same request without the key and with a
# wrong one must be refused (401). Each operation costs up to 3 wrong keys, so the
# operations go 6 at a time, each batch to a freshly started server (the wrong-key
# count lives in the process) that has not reached the limit of 20.
run_auth_probes() {
  local keyed batch
  mapfile -t keyed < <("$venv/bin/python" -c '
import json, sys
document = json.load(open(sys.argv[1]))
for item in document["paths"].values():
    for operation in item.values():
        if "security" not in operation:
            print(operation["operationId"])
' "$work/openapi.json")
  for ((i = 0; i < ${#keyed[@]}; i += 6)); do
    batch="$(IFS='|'; echo "${keyed[*]:i:6}")"
    stop_server
    start_server
    schemathesis run "$url/openapi.json" \
      --checks ignored_auth --include-operation-id-regex "^($batch)\$" \
      --phases examples,fuzzing --mode positive --max-examples 5 --seed 20261203 \
      --workers 1 --generation-database none --generation-allow-x00 false \
      --header "X-API-Key: $key"
  done
}

check_backend() {
  backend="$1"
  local started=$SECONDS
  case "$backend" in
    sqlite) database_url="sqlite://$work/api-check.db" ;;
    postgres)
      psql "$admin_url" -qc "CREATE DATABASE $database" >/dev/null
      database_created=1
      database_url="${admin_url%/*}/$database"
      ;;
    *)
      echo "api-check: unknown backend '$backend' (sqlite or postgres)" >&2
      exit 2
      ;;
  esac
  (cd "$work" && exec "${server_env[@]}" DATABASE_URL="$database_url" "$binary" migrate) \
    >>"$work/server-$backend.log" 2>&1
  start_server
  echo "api-check: $backend at $url"

  # The client is generated from what this server serves, not from the snapshot.
  curl -fsS -o "$work/openapi.json" "$url/openapi.json"
  "$venv/bin/openapi-python-client" generate --path "$work/openapi.json" \
    --output-path "$work/client/cost_tracker_client" --meta none \
    --config "$root/scripts/openapi-python-client.yaml" --overwrite --fail-on-warning
  PYTHONPATH="$work/client" "$venv/bin/python" "$root/scripts/api_client_check.py" "$url" "$key" "$backend"

  run_schemathesis
  run_auth_probes

  stop_server
  if [ "$backend" = postgres ]; then
    psql "$admin_url" -qc "DROP DATABASE $database WITH (FORCE)" >/dev/null
    database_created=""
  fi
  echo "api-check: $backend passed in $((SECONDS - started)) s"
}

for backend in ${API_CHECK_BACKENDS:-sqlite postgres}; do
  check_backend "$backend"
done
