#!/usr/bin/env bash
# CI's check of the local Lambda loop: `make watch` as a new user types it (no DATABASE_URL,
# no API_KEY), one request to query-api through `cargo lambda watch` (its first invocation
# builds and starts the function), then stop it. Fails unless the answer is 200 with the
# health body.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${WATCH_PORT:-9137}"
log="$(mktemp)"
unset DATABASE_URL API_KEY
# Its own process group, so stopping it stops cargo lambda and the function it runs.
setsid make watch WATCH_PORT="$port" >"$log" 2>&1 &
watch=$!
stop() { kill -TERM -- "-$watch" 2>/dev/null || true; wait "$watch" 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT

url="http://127.0.0.1:$port/lambda-url/query-api/health"
started=$(date +%s)
for _ in $(seq 1 600); do
  if ! kill -0 "$watch" 2>/dev/null; then
    cat "$log" >&2
    echo "watch-check: make watch stopped before answering" >&2
    exit 1
  fi
  # The first request waits while cargo builds query-api; the emulator answers once it runs.
  if body="$(curl -sf --max-time 300 "$url")"; then
    break
  fi
  sleep 1
done
echo "watch-check: GET $url -> $body ($(( $(date +%s) - started )) s after make watch)"
case "$body" in
  *'"status":"ok"'*'"backend":"postgres"'* | *'"backend":"postgres"'*'"status":"ok"'*) ;;
  *) cat "$log" >&2; echo "watch-check: unexpected answer" >&2; exit 1 ;;
esac
