#!/usr/bin/env bash
# `ipfs-accelerate bench` end to end: JSON checked field by field, rows in
# the results database (measured, with their raw timings), models by path,
# CID and zoo:, a failing model skipped while the others run, usage errors,
# two writers on one database, and a SIGKILL in the middle of a run.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
M=$IA_SOURCE_DIR/tests/models
FAST=(--min-time 0.05 --min-iterations 5 --warmup 1)
DB=$T/r.db

# ---- JSON, field by field ------------------------------------------------------
expect_status 0 "bench mlp --json" -- "$IA_CLI" -q bench "$M/mlp.onnx" --batch 1,3 --threads 1 \
    --scenario single-stream,offline "${FAST[@]}" --db "$DB" --json
cp "$T/out" "$T/mlp.json"
if $PY - "$T/mlp.json" <<'EOF'; then pass "JSON fields and values"; else fail "JSON fields and values"; fi
import json, math, sys
d = json.load(open(sys.argv[1]))
rs = d["results"]
assert d["failed"] == [], d["failed"]
assert isinstance(d["run_id"], int) and d["db"].endswith("r.db")
# single-stream at batch 1 and 3, offline only at the largest batch
got = sorted((r["scenario"], r["batch"]) for r in rs)
assert got == [("offline", 3), ("single-stream", 1), ("single-stream", 3)], got
for r in rs:
    assert r["model"] == "mlp" and r["model_path"].endswith("mlp.onnx")
    assert r["model_cid"].startswith("bafk"), r["model_cid"]
    assert r["family"] == "unknown"
    assert r["seq"] is None  # mlp has no sequence axis
    assert r["threads"] == 1 and r["precision"] == "fp32" and r["warmup"] == 1
    assert isinstance(r["iterations"], int) and 5 <= r["iterations"] <= 10000
    for k in ("mean_ms", "min_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms", "stddev_ms", "cv",
              "throughput_per_s", "load_ms", "first_inference_ms"):
        assert isinstance(r[k], float) and math.isfinite(r[k]) and r[k] >= 0, (k, r[k])
    assert r["min_ms"] <= r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"]
    assert r["min_ms"] <= r["mean_ms"] <= r["max_ms"]
    assert abs(r["cv"] - r["stddev_ms"] / r["mean_ms"]) < 1e-9
    assert r["unstable"] == (r["cv"] > 0.1)
    assert isinstance(r["n_outliers"], int) and 0 <= r["n_outliers"] < r["iterations"]
    assert isinstance(r["peak_rss_bytes"], int) and r["peak_rss_bytes"] > 1 << 20
    assert r["peak_rss_scope"] in ("configuration", "process")
    assert isinstance(r["arena_bytes"], int) and r["arena_bytes"] > 0
    # mlp: x[b,4] @ [4,8] then [8,2] (+ biases): 2*b*(4*8 + 8*2) FLOPs
    assert r["flops_estimated"] == 96 * r["batch"], r["flops_estimated"]
    assert r["bytes_moved_estimated"] > 232
    assert r["decoder"] is False and r["ttft_ms"] is None and r["tpot_ms"] is None
    assert r["tokens_per_s"] is None and r["target_qps"] is None and r["achieved_qps"] is None
    assert r["is_predicted"] is False
    if r["scenario"] == "single-stream":
        assert abs(r["throughput_per_s"] - r["batch"] * 1000 / r["mean_ms"]) < 1e-6 * r["throughput_per_s"]
EOF

# ---- the database -------------------------------------------------------------------
q() { sqlite3 "$DB" "$1"; }
[ "$(q 'SELECT count(*) FROM results WHERE is_predicted = 0')" = 3 ] && pass "3 measured rows" \
    || fail "3 measured rows: $(q 'SELECT count(*), sum(is_predicted) FROM results')"
[ "$(q 'SELECT count(*) FROM results r WHERE iterations = (SELECT count(*) FROM timings t WHERE t.result_id = r.id)')" = 3 ] \
    && pass "raw timings stored for every row" || fail "raw timings stored for every row"
[ "$(q "SELECT status FROM runs")" = ok ] && pass "run finished ok" || fail "run status: $(q 'SELECT status FROM runs')"
q "SELECT command_line FROM runs" | grep -q "bench .*mlp.onnx" && pass "command line stored" || fail "command line stored"
[ "$(q 'SELECT count(*) FROM models WHERE name = "mlp" AND cid LIKE "bafk%" AND n_params = 58 AND flops_estimated = 96')" = 1 ] \
    && pass "model row: cid, params, est. flops" || fail "model row: $(q 'SELECT * FROM models')"
[ "$(q 'SELECT count(*) FROM hardware')" = 1 ] && pass "hardware row" || fail "hardware row"
p50_json=$($PY -c "import json,sys; print(sorted(r['p50_ms'] for r in json.load(open('$T/mlp.json'))['results'])[0])")
p50_db=$(q 'SELECT min(p50_ms) FROM results')
$PY -c "import sys; a,b=float('$p50_json'),float('$p50_db'); sys.exit(abs(a-b) > 1e-9*a)" \
    && pass "JSON and DB agree" || fail "JSON p50 $p50_json vs DB $p50_db"

# ---- a failing model is skipped, the others still run ---------------------------
expect_status 1 "a failing model gives exit 1" -- "$IA_CLI" -q bench "$M/cyclic.onnx" "$M/mlp.onnx" \
    "$T/missing.onnx" --threads 1 "${FAST[@]}" --no-db --json
expect_grep "cyclic.onnx.*cycle" "$T/err" "the failing model is named with its reason"
expect_grep "missing.onnx" "$T/err" "a missing file is named"
$PY -c "
import json; d = json.load(open('$T/out'))
assert [r['model'] for r in d['results']] == ['mlp'], d['results']
assert len(d['failed']) == 2" && pass "the good model still ran" || fail "the good model still ran"

# ---- usage errors -------------------------------------------------------------------
expect_status 2 "no MODEL" -- "$IA_CLI" bench
expect_status 2 "--batch 0" -- "$IA_CLI" bench "$M/mlp.onnx" --batch 0
expect_status 2 "--batch 1,,2" -- "$IA_CLI" bench "$M/mlp.onnx" --batch 1,,2
expect_status 2 "--threads x" -- "$IA_CLI" bench "$M/mlp.onnx" --threads x
expect_status 2 "--scenario multi-stream" -- "$IA_CLI" bench "$M/mlp.onnx" --scenario multi-stream
expect_status 2 "--min-time -1" -- "$IA_CLI" bench "$M/mlp.onnx" --min-time -1
expect_status 2 "--min-iterations 0" -- "$IA_CLI" bench "$M/mlp.onnx" --min-iterations 0
expect_status 2 "--target-qps without server" -- "$IA_CLI" bench "$M/mlp.onnx" --target-qps 5
expect_status 2 "unknown option" -- "$IA_CLI" bench "$M/mlp.onnx" --bogus
expect_status 2 "-i without =" -- "$IA_CLI" bench "$M/mlp.onnx" -i x
expect_status 2 "--precision int8" -- "$IA_CLI" bench "$M/mlp.onnx" --precision int8
expect_grep "precision int8 is not supported yet" "$T/err" "int8: a clear message"
expect_status 2 "--precision fp32,fp16" -- "$IA_CLI" bench "$M/mlp.onnx" --precision fp32,fp16
expect_grep "precision fp16 is not supported yet" "$T/err" "fp16: a clear message"
[ ! -e "$IA_HOME/results.db" ] && pass "usage errors write nothing" || fail "usage errors wrote a DB"

# ---- by CID, with -i inputs, and the server scenario -----------------------------
cid=$("$IA_CLI" add -Q "$M/mlp.onnx")
expect_status 0 "bench by CID" -- "$IA_CLI" -q bench "$cid" --threads 1 "${FAST[@]}" --no-db --json
$PY -c "
import json; r = json.load(open('$T/out'))['results'][0]
assert r['model'] == '$cid' and r['model_cid'] == '$cid', r
assert '/cache/models/$cid/' in r['model_path']" && pass "CID resolved from the store" \
    || fail "CID resolved from the store"
expect_status 0 "server scenario" -- "$IA_CLI" -q bench "$M/mlp.onnx" --threads 1 --scenario server \
    --target-qps 200 --min-time 0.2 --min-iterations 5 --no-db --json
$PY -c "
import json; r = json.load(open('$T/out'))['results'][0]
assert r['scenario'] == 'server' and r['target_qps'] == 200, r
assert 100 < r['achieved_qps'] < 400, r['achieved_qps']
assert r['latency_bound_met'] is None" && pass "server: target and achieved QPS" \
    || fail "server: target and achieved QPS"

# ---- zoo models: encoder, decoder with and without a KV cache ------------------------
if "$IA_CLI" zoo list 2>/dev/null | grep -q "^bert"; then
    expect_status 0 "bench zoo models" -- "$IA_CLI" -q bench zoo:bert-tiny zoo:gpt2-tiny+past \
        zoo:gpt2 --seq 8 --batch 2 --threads 1 "${FAST[@]}" --db "$DB" --json
    $PY - "$T/out" <<'EOF' && pass "zoo: names, seq, decoder metrics" || fail "zoo: names, seq, decoder metrics"
import json, sys
rs = {r["model"]: r for r in json.load(open(sys.argv[1]))["results"]}
assert sorted(rs) == ["zoo:bert-tiny", "zoo:gpt2-tiny", "zoo:gpt2-tiny+past"], sorted(rs)
b, p, g = rs["zoo:bert-tiny"], rs["zoo:gpt2-tiny+past"], rs["zoo:gpt2-tiny"]
assert b["family"] == "bert" and b["seq"] == 8 and b["batch"] == 2 and not b["decoder"]
assert b["flops_estimated"] > 0
assert p["decoder"] and p["ttft_ms"] == p["p50_ms"] and p["tpot_ms"] > 0
assert abs(p["tokens_per_s"] - 2 * 1000 / p["tpot_ms"]) < 1e-6 * p["tokens_per_s"]
assert g["decoder"] and g["ttft_ms"] > 0 and g["tpot_ms"] is None and g["tokens_per_s"] is None
EOF
    [ "$(q "SELECT count(*) FROM results r JOIN models m ON m.id = r.model_id WHERE m.name = 'zoo:gpt2-tiny' AND r.tpot_ms IS NULL AND r.ttft_ms > 0")" = 1 ] \
        && pass "decode metrics NULL without a KV cache" || fail "decode metrics NULL without a KV cache"
    [ "$(q "SELECT synthetic || family FROM models WHERE name = 'zoo:bert-tiny'")" = 1bert ] \
        && pass "zoo model: synthetic, family" || fail "zoo model: synthetic, family"
    # -i: the files fix batch and seq.
    "$IA_CLI" -q zoo inputs "$IA_HOME/cache/zoo/bert-tiny-v1/model.onnx" --batch 3 --seq 5 -o "$T/in" >/dev/null
    expect_status 0 "bench with -i" -- "$IA_CLI" -q bench zoo:bert-tiny --threads 1 "${FAST[@]}" --no-db \
        --json -i input_ids="$T/in/input_ids.pb" -i attention_mask="$T/in/attention_mask.pb" \
        -i token_type_ids="$T/in/token_type_ids.pb"
    $PY -c "
import json; r = json.load(open('$T/out'))['results'][0]
assert r['batch'] == 3 and r['seq'] == 5, r" && pass "-i: batch and seq from the files" \
        || fail "-i: batch and seq from the files"
    expect_status 2 "-i with --batch" -- "$IA_CLI" bench zoo:bert-tiny --batch 2 -i input_ids="$T/in/input_ids.pb"
else
    echo "skip zoo models: the zoo has no bert"
fi

# ---- two writers on one database ----------------------------------------------------
CDB=$T/c.db
"$IA_CLI" -q bench "$M/mlp.onnx" --batch 1,2,3 --threads 1 "${FAST[@]}" --db "$CDB" >/dev/null 2>"$T/c1" &
p1=$!
"$IA_CLI" -q bench "$M/mlp.onnx" --batch 4,5,6 --threads 1 "${FAST[@]}" --db "$CDB" >/dev/null 2>"$T/c2" &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
[ $s1 = 0 ] && [ $s2 = 0 ] && [ "$(sqlite3 "$CDB" 'SELECT count(*) FROM results')" = 6 ] \
    && [ "$(sqlite3 "$CDB" 'SELECT count(DISTINCT batch) FROM results')" = 6 ] \
    && [ "$(sqlite3 "$CDB" 'SELECT count(*) FROM runs WHERE status = "ok"')" = 2 ] \
    && pass "two benches on one DB lose no rows" \
    || fail "two benches on one DB: exits $s1 $s2, $(sqlite3 "$CDB" 'SELECT count(*) FROM results') rows; $(cat "$T/c1" "$T/c2")"

# ---- SIGKILL in the middle of a run ---------------------------------------------------
KDB=$T/k.db
"$IA_CLI" -q bench "$M/mlp.onnx" --batch 1,2,3,4,5,6,7,8 --threads 1 --min-time 0.3 \
    --min-iterations 5 --db "$KDB" >/dev/null 2>&1 &
pk=$!
n=0
for _ in $(seq 1 300); do
    n=$(sqlite3 "$KDB" 'SELECT count(*) FROM results' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 2 ] && break
    sleep 0.1
done
kill -9 $pk 2>/dev/null
wait $pk 2>/dev/null
[ "$(sqlite3 "$KDB" 'PRAGMA integrity_check')" = ok ] && pass "killed run: DB intact" || fail "killed run: DB not intact"
nk=$(sqlite3 "$KDB" 'SELECT count(*) FROM results')
[ "$nk" -ge 2 ] && [ "$nk" -lt 8 ] && pass "killed run: $nk finished rows kept" || fail "killed run: $nk rows"
[ "$(sqlite3 "$KDB" 'SELECT count(*) FROM results r WHERE iterations = (SELECT count(*) FROM timings t WHERE t.result_id = r.id)')" = "$nk" ] \
    && pass "killed run: every kept row has all its timings" || fail "killed run: timings incomplete"
[ "$(sqlite3 "$KDB" 'SELECT status FROM runs')" = running ] && pass "killed run stays 'running'" \
    || fail "killed run status: $(sqlite3 "$KDB" 'SELECT status FROM runs')"
expect_status 0 "report reads the killed run's DB" -- "$IA_CLI" report --db "$KDB" --format md
expect_grep "mlp" "$T/out" "report shows the kept rows"

finish
