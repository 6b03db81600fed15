#!/usr/bin/env bash
# The e2e layer for CI (called by .ci/run after the unit and integration tests): installs
# what the user-mode-linux tests need on a fresh Debian machine, builds, and runs
# `npm run test:e2e`. Runs as root. Set CALLBACKD_SKIP_E2E=1 to skip it.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${CALLBACKD_SKIP_E2E:-0}" = 1 ]; then
  echo "e2e: skipped (CALLBACKD_SKIP_E2E=1)"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
need=()
# linux.uml and its PPP modules; insmod; pppd and chat; the pty pair; ip; ping; unshare/nsenter;
# python3 for uml-fp-fallback.py (hosts with AMX).
for pkg in user-mode-linux kmod ppp socat iproute2 iputils-ping util-linux python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi

# UML keeps its RAM in a file under TMPDIR (/dev/shm); the runner sets that itself.
npm run test:e2e
