#!/usr/bin/env bash
# Builds bench/gemm_vs_blas.c (our GEMM sources, as fma_peak is built) with
# OpenBLAS (libopenblas-dev; Debian's default pthread variant) and oneDNN
# (libdnnl-dev, OpenMP) where they are installed, and runs it at 1 and 2
# threads: GFLOP/s per shape and ours/blas. A missing library is reported
# and its column shows "-". BUILD_DIR is accepted for bench/run.sh and not
# used: the program compiles the GEMM sources itself.
# Usage: [GEMM_THREADS="1 2"] bench/gemm_vs_blas.sh [BUILD_DIR]   (scripts/install-deps.sh installs both)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/ia-gemm-vs-blas.XXXXXX")
trap 'rm -rf "$W"' EXIT
defs=()
libs=()
if [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ]; then
    if printf 'int main(void){return 0;}' | cc -x c - -lopenblas -o "$W/t" 2>/dev/null; then
        defs+=(-DHAVE_OPENBLAS)
        libs+=(-lopenblas)
    fi
fi
[ ${#libs[@]} -gt 0 ] || echo "gemm_vs_blas: no OpenBLAS (apt-get install libopenblas-dev)"
if [ -f /usr/include/oneapi/dnnl/dnnl.h ] &&
    printf 'int main(void){return 0;}' | cc -x c - -ldnnl -lgomp -o "$W/t" 2>/dev/null; then
    defs+=(-DHAVE_DNNL)
    libs+=(-ldnnl -lgomp)
else
    echo "gemm_vs_blas: no oneDNN (apt-get install libdnnl-dev)"
fi
cc -std=c11 -O2 -D_GNU_SOURCE "${defs[@]}" -I "$SRC/include" -I "$SRC/src" \
    "$SRC/bench/gemm_vs_blas.c" "$SRC"/src/kernels/cpu/gemm[._]*c "$SRC"/src/core/[a-z]*.c \
    "${libs[@]}" -lpthread -lm -o "$W/gemm_vs_blas"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$W/gemm_vs_blas" ${GEMM_THREADS:-1 2}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
