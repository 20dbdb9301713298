#!/usr/bin/env bash
# Installs every Debian package the build, the demo and the tests need.
# Idempotent and quick when all is present; run as root on Debian 12.
# Usage: scripts/install-deps.sh [--check]   (--check: only report what is missing)
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # libraries the product links
  libcpuinfo-dev libhwloc-dev libssl-dev libjansson-dev libcurl4-openssl-dev
  libmicrohttpd-dev libsqlite3-dev protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  # fuzzing (clang's libFuzzer) and the outside references of the test tier
  clang python3-onnx python3-numpy hyperfine
  # GNU time: peak RSS in the benchmarks
  time
  # the report tests: the sqlite3 CLI builds databases, headless Chromium checks the HTML
  sqlite3 chromium chromium-driver
  # PyTorch for /usr/bin/python3: the reference of tests/conformance/torch_models.sh
  python3-torch
  # benchmarks only: the BLAS libraries bench/gemm_vs_blas.sh compares our GEMM with
  libopenblas-dev libdnnl-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the reference importers in the test tier; any install of it will do.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -eq 0 ]; then echo "all dependencies present"; exit 0; fi
  echo "missing: ${missing[*]}"; exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
