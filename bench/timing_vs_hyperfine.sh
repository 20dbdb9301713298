#!/usr/bin/env bash
# bench's reported time per inference against an outside clock: hyperfine
# times `bench --repeat N` (N untimed ia_session_run calls after the same
# setup) and `bench --repeat 0`; (median(N) - median(0)) / N is the
# per-inference wall time seen from outside, start-up cancelling out.
# Prints it next to bench's own mean and p50 and the exact ratios.
# Usage: bench/timing_vs_hyperfine.sh BUILD_DIR  (a Release build; env
# BENCH_MODELS, BENCH_REPS)
set -euo pipefail
BUILD=${1:?usage: bench/timing_vs_hyperfine.sh BUILD_DIR}
CLI="$BUILD/ipfs-accelerate"
REPS=${BENCH_REPS:-200}
command -v hyperfine >/dev/null || { echo "timing_vs_hyperfine: hyperfine is needed" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ia-timing.XXXXXX")
trap 'rm -rf "$W"' EXIT
export IA_HOME="$W/home"
read -r -a MODELS <<<"${BENCH_MODELS:-zoo:bert-tiny zoo:gpt2-tiny zoo:vit-tiny}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| model | outside ms/inference | bench mean ms | bench p50 ms | outside/mean | outside/p50 |"
echo "|---|---:|---:|---:|---:|---:|"
for m in "${MODELS[@]}"; do
    args=("$m" --seq 32 --batch 1 --threads 1)
    "$CLI" -q bench "${args[@]}" --repeat 1 >/dev/null # builds zoo models once
    hyperfine -N -w 2 -r 7 --export-json "$W/h.json" \
        "$CLI -q bench ${args[*]} --repeat 0" "$CLI -q bench ${args[*]} --repeat $REPS" \
        >/dev/null 2>&1
    "$CLI" -q bench "${args[@]}" --min-iterations "$REPS" --min-time 1 --no-db --json >"$W/b.json"
    /usr/bin/python3 - "$W/h.json" "$W/b.json" "$m" "$REPS" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
r = json.load(open(sys.argv[2]))["results"][0]
reps = int(sys.argv[4])
outside = (h[1]["median"] - h[0]["median"]) * 1000 / reps
print(f"| {sys.argv[3]} | {outside:.4f} | {r['mean_ms']:.4f} | {r['p50_ms']:.4f} | "
      f"{outside / r['mean_ms']:.3f} | {outside / r['p50_ms']:.3f} |")
PY
done
