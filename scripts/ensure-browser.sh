#!/usr/bin/env bash
# Installs what the browser test of /dashboard needs, each only when missing:
# Debian's chromium (apt-get) and the pinned playwright-core in tests/browser/node_modules
# (npm ci from the committed package-lock.json). Idempotent and quiet; prints the
# installer's log only when an install fails. `--node-only` skips chromium.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
browser_dir="$root/tests/browser"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
  cat "$log" >&2
  echo "ensure-browser: $*" >&2
  exit 1
}

if [ "${1:-}" != "--node-only" ] && [ ! -x /usr/bin/chromium ]; then
  echo "ensure-browser: installing chromium with apt-get" >&2
  command -v apt-get >/dev/null || fail "chromium is missing and apt-get is not available: install Chromium at /usr/bin/chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1 \
    || fail "apt-get install chromium FAILED"
  [ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is still missing after the install"
fi

command -v node >/dev/null || fail "node (20 or later) is required for the browser test"
command -v npm >/dev/null || fail "npm is required for the browser test"
want="$(node -p "require('$browser_dir/package-lock.json').packages['node_modules/playwright-core'].version")"
have="$(node -p "try { require('$browser_dir/node_modules/playwright-core/package.json').version } catch (e) { '' }")"
if [ "$want" != "$have" ]; then
  echo "ensure-browser: installing playwright-core $want in tests/browser" >&2
  (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || fail "npm ci in tests/browser FAILED"
fi
