#!/usr/bin/env bash
# Installs qemu-user and the arm64 C library (Debian's libc6-arm64-cross, in
# /usr/aarch64-linux-gnu) when missing, so the arm64 Lambda binaries can run here.
set -euo pipefail
if command -v qemu-aarch64 >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  exit 0
fi
echo "ensure-qemu: installing qemu-user and libc6-arm64-cross" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends qemu-user libc6-arm64-cross; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-qemu: FAILED to install qemu-user and libc6-arm64-cross" >&2
  exit 1
fi
