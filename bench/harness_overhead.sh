#!/usr/bin/env bash
# Builds bench/harness_overhead.c against the library in BUILD_DIR and runs
# it: the cost of the benchmark loop itself next to a 1 ms inference.
# Usage: bench/harness_overhead.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: bench/harness_overhead.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
LIB="$BUILD/libipfs_accelerate.a"
[ -f "$LIB" ] || { echo "harness_overhead: no $LIB (build first)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ia-harness.XXXXXX")
trap 'rm -rf "$W"' EXIT
flags=()
if grep -q "^IA_SANITIZE:BOOL=ON" "$BUILD/CMakeCache.txt" 2>/dev/null; then
    flags=(-fsanitize=address,undefined)
fi
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE "${flags[@]}" -I "$SRC/include" "$SRC/bench/harness_overhead.c" \
    "$LIB" $(pkg-config --libs libcpuinfo hwloc libcrypto jansson libcurl libmicrohttpd \
    libprotobuf-c sqlite3) -lpthread -ldl -lm -o "$W/harness_overhead"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$W/harness_overhead"
