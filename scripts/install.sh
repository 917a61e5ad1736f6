#!/usr/bin/env bash
# Builds regsweep from this checkout on Debian: the compilers node-gyp needs for better-sqlite3 and for the native
# kernels (g++, make, python3; installed with apt-get when missing, as root), then `npm ci` and `npm run build`.
# .ci/run and the Dockerfile (deploy/docker/Dockerfile) both build with it, so the image is built as CI builds.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# better-sqlite3 has no prebuilt binary for every platform: npm ci builds it from source with g++ and Node's headers.
npm ci --no-audit --no-fund
npm run build
