#!/usr/bin/env bash
# `ipfs-accelerate add --only-hash` (default profile) against the floor and
# the reference on the same 1 GiB file in the same run:
#   openssl dgst -sha256   one pass of the hash every block needs (the floor
#                          for one core; we hash on all cores)
#   node tests/ref/import.mjs   the IPFS reference importer (npm
#                          ipfs-unixfs-importer 17) with the same profile
# Prints a markdown table: median seconds of BENCH_REPS runs (default 3),
# MiB/s, ratios, and peak RSS (GNU time). The file is read once before
# timing so every run reads from the page cache; it is deleted at the end.
# Usage: bench/add_vs_openssl.sh BUILD_DIR   (env: BENCH_SIZE_MIB, BENCH_REPS)
set -euo pipefail
BUILD=${1:?usage: bench/add_vs_openssl.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CLI="$BUILD/ipfs-accelerate"
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
REPS=${BENCH_REPS:-3}
[ -x "$CLI" ] || { echo "add_vs_openssl: no CLI at $CLI" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "add_vs_openssl: GNU time is needed (apt-get install time)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "add_vs_openssl: openssl is needed" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ia-bench-add.XXXXXX")
trap 'rm -rf "$W"' EXIT
export IA_HOME="$W/home" # --only-hash stores nothing, but keep any state out of ~
FILE="$W/data.bin"
head -c $((SIZE_MIB * 1048576)) /dev/urandom >"$FILE"
cat "$FILE" >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME CMD... → median wall seconds in $W/NAME.s, max peak RSS (KiB) in
# $W/NAME.rss, stdout of the last run in $W/NAME.out
run() {
    local name=$1
    shift
    local times=() rss=0
    for _ in $(seq "$REPS"); do
        local t0 t1 r
        t0=$(date +%s%N)
        /usr/bin/time -f '%M' -o "$W/time.txt" "$@" >"$W/$name.out"
        t1=$(date +%s%N)
        times+=("$(((t1 - t0) / 1000))")
        r=$(tail -1 "$W/time.txt")
        [ "$r" -gt "$rss" ] && rss=$r
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)]/1e6}' >"$W/$name.s"
    echo "$rss" >"$W/$name.rss"
}

run ours "$CLI" -q add --only-hash -Q "$FILE"
run openssl openssl dgst -sha256 "$FILE"
ref_ok=0
if NPM=$("$SRC/scripts/npm-refs.sh" 2>"$W/npm.err"); then
    export IA_NPM_CACHE=$NPM
    run ref node "$SRC/tests/ref/import.mjs" --profile default "$FILE" && ref_ok=1
else
    echo "add_vs_openssl: reference importer not installed: $(tail -1 "$W/npm.err")" >&2
fi

mibs() { awk -v s="$(cat "$W/$1.s")" -v m="$SIZE_MIB" 'BEGIN {printf "%.0f", m / s}'; }
ratio() { awk -v a="$(cat "$W/$1.s")" -v b="$(cat "$W/$2.s")" 'BEGIN {printf "%.2f", b / a}'; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "add --only-hash, default profile, ${SIZE_MIB} MiB from the page cache, median of $REPS;"
echo "$(nproc) CPUs ($cpu); $("$CLI" --version); load average before: $load0"
if grep -qs 'IA_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    echo "WARNING: $BUILD is a sanitizer build: its times are not representative."
fi
echo
echo "| tool | seconds | MiB/s | ours ÷ this (speed) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|"
printf '| ipfs-accelerate add | %s | %s | 1.00 | %d |\n' "$(cat "$W/ours.s")" "$(mibs ours)" \
    "$(($(cat "$W/ours.rss") / 1024))"
printf '| openssl dgst -sha256 | %s | %s | %s | %d |\n' "$(cat "$W/openssl.s")" "$(mibs openssl)" \
    "$(ratio ours openssl)" "$(($(cat "$W/openssl.rss") / 1024))"
if [ "$ref_ok" = 1 ]; then
    printf '| JS reference importer (node) | %s | %s | %s | %d |\n' "$(cat "$W/ref.s")" \
        "$(mibs ref)" "$(ratio ours ref)" "$(($(cat "$W/ref.rss") / 1024))"
    echo
    if [ "$(cat "$W/ours.out")" = "$(cat "$W/ref.out")" ]; then
        echo "Root CIDs agree: $(cat "$W/ours.out")"
    else
        echo "ROOT CIDS DIFFER: ours $(cat "$W/ours.out"), reference $(cat "$W/ref.out")"
        exit 1
    fi
else
    echo "| JS reference importer (node) | not measured | | | |"
fi
