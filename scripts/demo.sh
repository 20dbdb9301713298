#!/usr/bin/env bash
# The main job (`make demo`), about two minutes on a 2-core machine:
#   1. the hardware every result is keyed by;
#   2. small zoo models (synthetic weights): BERT, GPT-2 with a KV cache, ViT;
#   3. each added to the content-addressed store and verified;
#   4. a benchmark matrix (batch 1,4 x threads 1,2 x single-stream + offline)
#      measured into $IA_HOME/results.db;
#   5. the HTML report and the summary table from the database.
# IA_HOME is the user's (default ~/.ipfs-accelerate) unless set. Every
# figure printed was measured here, except those marked est. (from the graph).
set -euo pipefail
cli=${1:-build/ipfs-accelerate}
[ -x "$cli" ] || { echo "demo: no CLI at $cli (run make first)" >&2; exit 1; }
home=${IA_HOME:-$HOME/.ipfs-accelerate}
export IA_HOME=$home
mkdir -p "$home/demo"
models_dir=$home/demo
db=$home/results.db
report=$home/report.html
min_time=${DEMO_MIN_TIME:-2}

echo "== 1. hardware at hand"
"$cli" hw
echo

echo "== 2. small models from the zoo (synthetic weights, built in C)"
models=(bert:tiny:"" gpt2:tiny:--with-past vit:tiny:"")
paths=()
for spec in "${models[@]}"; do
    IFS=: read -r arch preset flag <<<"$spec"
    out=$models_dir/$arch-$preset${flag:+-past}.onnx
    # shellcheck disable=SC2086
    "$cli" zoo build "$arch" --preset "$preset" $flag -o "$out"
    paths+=("$out")
done
echo

echo "== 3. into the store, and verified"
cids=()
for p in "${paths[@]}"; do
    cid=$("$cli" add -Q "$p")
    cids+=("$cid")
    printf '%-40s %s\n' "$(basename "$p")" "$cid"
done
for p in "${paths[@]}"; do
    if "$cli" verify "$p" >"$models_dir/verify.txt"; then
        echo "verify $(basename "$p"): $(tail -1 "$models_dir/verify.txt")"
    else
        cat "$models_dir/verify.txt"
        exit 1
    fi
done
echo

echo "== 4. benchmark: batch 1,4 x threads 1,2 x single-stream + offline"
# By path: the database keys each model by the same CID `add` printed.
"$cli" bench "${paths[@]}" --batch 1,4 --seq 32 --threads 1,2 \
    --scenario single-stream,offline --min-time "$min_time" --db "$db"
echo

echo "== 5. report"
"$cli" report --db "$db" --format html -o "$report"
"$cli" report --db "$db" --format md >"$models_dir/report.md"
# The summary: the report's first tables, not the whole document.
awk 'NR <= 60' "$models_dir/report.md"
lines=$(wc -l <"$models_dir/report.md")
[ "$lines" -gt 60 ] && echo "... ($lines lines in all: $models_dir/report.md)"
echo
echo "results database: $db"
echo "HTML report:      $report"
