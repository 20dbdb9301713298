#!/bin/bash
# Conformance with PyTorch: small models defined in torch_export.py (a
# BERT-style encoder with attention mask, at opsets 17 and 14; a GPT-2-style
# decoder with past key/values; a ViT-style encoder; a ResNet-style CNN with
# BatchNormalization; a bidirectional LSTM; GRUs) are exported with
# torch.onnx.export, and for each model:
#   - `ipfs-accelerate verify MODEL` must exit 0;
#   - for each input set (the export shape, and another batch/sequence
#     length that exercises the dynamic axes; the second also runs on 3
#     threads, an uneven split of the work) `ipfs-accelerate run ... --npy`
#     must succeed and every output must match torch's elementwise within
#     |ours - torch| <= ATOL + RTOL * |torch|, RTOL = 1e-4, ATOL = 1e-5
#     (the absolute floor is for values near zero), same dtype and shape.
# A model counts as passed when all of that holds.
#
# torch is Debian's python3-torch for /usr/bin/python3, installed by
# scripts/test-refs.sh (a failed install fails this test, never skips it).
# Exported models are cached in $IA_BUILD_DIR/conformance-torch and
# re-exported when torch_export.py or torch changes.
#
# Usage: torch_models.sh [MODEL...]   (env: IA_CLI, IA_SOURCE_DIR, IA_BUILD_DIR)
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${IA_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
: "${IA_CLI:?IA_CLI must point at the ipfs-accelerate binary}"
cache=${IA_BUILD_DIR:-$src/build}/conformance-torch
RTOL=1e-4
ATOL=1e-5
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

n_pass=0
n_fail=0
table=()

die_setup() { # WHAT LOGFILE: the whole tier fails before any model ran
    echo "FAIL: $1" >&2
    [ -f "$2" ] && tail -20 "$2" | sed 's/^/    /' >&2
    echo "0 passed, 1 failed"
    exit 1
}

if ! "$src/scripts/test-refs.sh" torch >"$T/install.log" 2>&1; then
    die_setup "installing the torch reference failed (scripts/test-refs.sh torch)" "$T/install.log"
fi
mkdir -p "$cache"
if ! "$PY" "$here/torch_export.py" export "$cache" "$@" >"$T/export.log" 2>&1; then
    die_setup "exporting the torch models failed (torch_export.py export $cache)" "$T/export.log"
fi
cat "$T/export.log"

if [ $# -gt 0 ]; then models=("$@"); else mapfile -t models < <("$PY" "$here/torch_export.py" list); fi

for m in "${models[@]}"; do
    d="$cache/$m"
    opset=$(awk '$1 == "opset" {print $2}' "$d/io.txt")
    sets=$(awk '$1 == "sets" {print $2}' "$d/io.txt")
    ok=1
    if "$IA_CLI" verify "$d/model.onnx" >"$T/verify.out" 2>&1; then
        vres=ok
    else
        vres=FAIL
        ok=0
        echo "FAIL $m: ipfs-accelerate verify exited non-zero:" >&2
        grep -E 'FAIL|fail|unsupported|error' "$T/verify.out" | head -10 | sed 's/^/    /' >&2
    fi
    for ((k = 0; k < sets; k++)); do
        args=()
        shape=""
        while read -r kind name; do
            [ "$kind" = in ] || continue
            args+=(-i "$name=$d/in$k/$name.npy")
        done <"$d/io.txt"
        # The first input's shape tells the sets apart in the table.
        first=$(awk '$1 == "in" {print $2; exit}' "$d/io.txt")
        shape=$("$PY" -c 'import numpy,sys; print("x".join(map(str, numpy.load(sys.argv[1]).shape)))' \
            "$d/in$k/$first.npy" 2>/dev/null)
        got="$T/got/$m/$k"
        rm -rf "$got"
        thr=default
        topt=()
        if [ "$k" -eq 1 ]; then thr=3 topt=(--threads 3); fi
        if ! timeout 600 "$IA_CLI" run "$d/model.onnx" "${args[@]}" "${topt[@]}" -o "$got" --npy \
            >"$T/run.out" 2>&1; then
            ok=0
            echo "FAIL $m set $k ($first $shape, threads $thr): ipfs-accelerate run failed:" >&2
            tail -5 "$T/run.out" | sed 's/^/    /' >&2
            table+=("$(printf '%-11s %5s %-6s %-3s %-10s %-7s %-10s %-10s %-8s %s' "$m" "$opset" "$vres" \
                "$k" "$shape" "$thr" - - - "FAIL (run)")")
            continue
        fi
        "$PY" "$here/torch_export.py" compare "$d/want$k" "$got" "$d/io.txt" "$RTOL" "$ATOL" \
            >"$T/cmp.out" 2>&1
        crc=$?
        sed "s/^out /  $m set $k: /" "$T/cmp.out"
        # Largest max_abs, max_rel and worst over the outputs.
        read -r mabs mrel worst < <(awk '$1 == "out" {
                for (i = 3; i <= 5; i++) if ($i != "-" && ($i + 0 > m[i] || $i ~ /nan/)) m[i] = $i
            } END { printf "%s %s %s\n", m[3] == "" ? "-" : m[3], m[4] == "" ? "-" : m[4],
                    m[5] == "" ? "-" : m[5] }' "$T/cmp.out")
        if [ $crc -eq 0 ]; then res=ok; else
            res=FAIL
            ok=0
            echo "FAIL $m set $k ($first $shape, threads $thr): outputs differ from torch:" >&2
            grep -v ' ok$' "$T/cmp.out" | sed 's/^/    /' >&2
        fi
        table+=("$(printf '%-11s %5s %-6s %-3s %-10s %-7s %-10s %-10s %-8s %s' "$m" "$opset" "$vres" \
            "$k" "$shape" "$thr" "$mabs" "$mrel" "$worst" "$res")")
    done
    if [ $ok -eq 1 ]; then n_pass=$((n_pass + 1)); else n_fail=$((n_fail + 1)); fi
done

echo
echo "torch conformance: |ours - torch| <= $ATOL + $RTOL * |torch|; worst = max error / that bound (<= 1 passes)"
printf '%-11s %5s %-6s %-3s %-10s %-7s %-10s %-10s %-8s %s\n' model opset verify set "in0 shape" \
    threads max_abs max_rel worst result
for row in "${table[@]}"; do echo "$row"; done
if [ $((n_pass + n_fail)) -eq 0 ]; then
    echo "FAIL: no models ran" >&2
    n_fail=1
fi
echo "$n_pass passed, $n_fail failed"
[ $n_fail -eq 0 ]
