#!/bin/bash
# Every model family the zoo builds, against ONNX Runtime.
#
# The family list comes from `ipfs-accelerate zoo list --json` (every entry
# with "implemented": true), so a family added to the registry is covered
# without touching this script. For each family, at preset tiny with seeded
# synthetic weights, and again with --with-past where the family has a KV
# cache:
#   - `zoo build` writes it, onnx.checker (full_check) accepts it;
#   - `zoo inputs` makes sample inputs (batch 2, sequence 5, or the sizes
#     in INPUT_OPTS below for a family whose inputs need others);
#   - `run` (ours) and ONNX Runtime's CPU provider (onnxruntime-node through
#     ort_run.mjs, graph optimisations off) run it, and every output must
#     match: |ours - ort| <= 1e-4 + 1e-4 * |ort|, same dtype and shape.
#
# Needs /usr/bin/python3 with onnx (Debian python3-onnx) and node; the npm
# package comes from scripts/test-refs.sh npm (a failed install fails this
# test, never skips it).
#
# Usage: zoo_vs_ort.sh [FAMILY...]   (default: every built family)
here=$(cd "$(dirname "$0")" && pwd)
. "$IA_SOURCE_DIR/tests/e2e/lib.sh"
PY=/usr/bin/python3
RTOL=1e-4
ATOL=1e-4

# Sample-input options per family, after the defaults so they win (none
# needed so far: `zoo inputs` already gives raw audio a second of samples).
declare -A INPUT_OPTS=()

if ! $PY -c 'import onnx' 2>/dev/null; then
    echo "FAIL: /usr/bin/python3 cannot import onnx (apt install python3-onnx)" >&2
    exit 1
fi
if ! prefix=$("$IA_SOURCE_DIR/scripts/test-refs.sh" npm 2>"$T/install.log"); then
    echo "FAIL: installing onnxruntime-node failed (scripts/test-refs.sh npm):" >&2
    tail -20 "$T/install.log" >&2
    exit 1
fi
export IA_NPM_CONF=$prefix

if [ $# -gt 0 ]; then
    families="$*"
else
    if ! "$IA_CLI" zoo list --json >"$T/list.json" 2>"$T/list.err"; then
        echo "FAIL: zoo list --json failed:" >&2
        cat "$T/list.err" >&2
        exit 1
    fi
    families=$($PY -c 'import json, sys
print(" ".join(a["name"] for a in json.load(open(sys.argv[1])) if a["implemented"]))' "$T/list.json")
fi
[ -n "$families" ] || { echo "FAIL: no built families in zoo list --json" >&2; exit 1; }
echo "families: $families"

# check_case NAME MODEL [zoo inputs options...]
check_case() {
    local name=$1 model=$2
    shift 2
    if $PY -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" \
        "$model" 2>"$T/chk.err"; then pass "$name: onnx.checker"; else
        fail "$name: onnx.checker"; head -3 "$T/chk.err" | sed 's/^/    /' >&2
    fi
    if ! "$IA_CLI" -q zoo inputs "$model" -o "$T/in_$name" --npy "$@" 2>"$T/err"; then
        fail "$name: zoo inputs"; head -3 "$T/err" | sed 's/^/    /' >&2
        return
    fi
    local ours=() ort=() x n
    for x in "$T/in_$name"/*.npy; do
        n=$(basename "$x" .npy)
        ours+=(-i "$n=$x")
        ort+=("$n=$x")
    done
    expect_status 0 "$name: run (ours)" -- "$IA_CLI" run "$model" "${ours[@]}" --npy -o "$T/ours_$name"
    if ! node "$here/ort_run.mjs" run "$model" "$T/ort_$name" "${ort[@]}" >"$T/out" 2>"$T/err"; then
        fail "$name: ONNX Runtime run"; head -5 "$T/err" | sed 's/^/    /' >&2
        return
    fi
    local bad=0 line
    for x in "$T/ort_$name"/*.npy; do
        n=$(basename "$x")
        if [ ! -f "$T/ours_$name/$n" ]; then
            echo "    $n: missing from our outputs" >&2
            bad=1
            continue
        fi
        line=$(node "$here/ort_run.mjs" compare "$x" "$T/ours_$name/$n" "$RTOL" "$ATOL") || bad=1
        # max_abs max_rel worst ok|FAIL ...
        printf '    %-34s max |diff| %s\n' "${n%.npy}" "$line"
    done
    if [ "$bad" -eq 0 ]; then pass "$name: matches ONNX Runtime within 1e-4"; else
        fail "$name: differs from ONNX Runtime"; fi
}

for f in $families; do
    model="$T/$f.onnx"
    if "$IA_CLI" -q zoo build "$f" --preset tiny -o "$model" >"$T/out" 2>"$T/err"; then
        pass "$f: build tiny"
        # shellcheck disable=SC2086
        check_case "$f" "$model" --batch 2 --seq 5 ${INPUT_OPTS[$f]:-}
    else
        fail "$f: build tiny"; head -3 "$T/err" | sed 's/^/    /' >&2
    fi
    # The KV-cache variant, for the families that have one.
    if "$IA_CLI" -q zoo build "$f" --preset tiny --with-past -o "$T/${f}_past.onnx" \
        >"$T/out" 2>"$T/err"; then
        pass "$f: build tiny --with-past"
        # shellcheck disable=SC2086
        check_case "${f}_past" "$T/${f}_past.onnx" --batch 2 --seq 2 --past 3 ${INPUT_OPTS[$f]:-}
    elif ! grep -q "no KV cache" "$T/err"; then
        fail "$f: build tiny --with-past"; head -3 "$T/err" | sed 's/^/    /' >&2
    fi
done
finish
