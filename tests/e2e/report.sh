#!/usr/bin/env bash
# `ipfs-accelerate report` and `db` on databases built here: the schema by
# `db migrate`, the rows by the sqlite3 CLI. Every row is made-up TEST data
# (machine "TEST CPU (e2e)", model "TEST-e2e-model"), not a measurement.
source "$(dirname "$0")/lib.sh"
if ! command -v sqlite3 >/dev/null; then
    fail "the sqlite3 CLI is needed: run scripts/install-deps.sh"
    finish
    exit 1
fi

DB="$T/e2e.db"
FP=e2e0000000000000000000000000000000000000000000000000000000000000
expect_status 0 "db migrate creates a schema" -- "$IA_CLI" db migrate --db "$DB"
expect_grep "schema v0 -> v1" "$T/out" "db migrate says what it did"

# Two runs of batch {1,2,4} x threads {1,2}; p50 = batch/threads ms, except
# run 2 batch 4 threads 1 (4 -> 5 ms: a regression).
{
  echo "BEGIN;"
  echo "INSERT INTO hardware VALUES ('$FP', 'e2e0000000000000',"
  echo "  '{\"cpu\":{\"model\":\"TEST CPU (e2e)\",\"logical_cpus\":2},\"memory\":{\"total_bytes\":4294967296}}',"
  echo "  '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z');"
  echo "INSERT INTO models (id, model_key, name, family, synthetic, first_seen)"
  echo "  VALUES (1, 'name:TEST-e2e-model', 'TEST-e2e-model', 'bert', 1, '2025-01-01T00:00:00.000Z');"
  id=0
  for run in 1 2; do
    echo "INSERT INTO runs (id, started_at, ended_at, status, version, hw_fingerprint)"
    echo "  VALUES ($run, '2025-01-0${run}T00:00:00.000Z', '2025-01-0${run}T00:10:00.000Z', 'ok', 'TEST', '$FP');"
    for t in 1 2; do
      for b in 1 2 4; do
        id=$((id + 1))
        p50=$(awk "BEGIN{print $b/$t}")
        [ "$run" = 2 ] && [ "$b" = 4 ] && [ "$t" = 1 ] && p50=5
        echo "INSERT INTO results (id, run_id, model_id, hw_fingerprint, scenario, batch, seq_len,"
        echo "  threads, precision, warmup, iterations, mean_ms, stddev_ms, cv, min_ms, p50_ms, p90_ms,"
        echo "  p99_ms, max_ms, throughput_per_s, n_outliers, unstable, peak_rss_bytes, created_at)"
        echo "  VALUES ($id, $run, 1, '$FP', 'single-stream', $b, 64, $t, 'fp32', 1, 3, $p50, 0.001,"
        echo "  0.001, $p50, $p50, $p50, $p50, $p50, $b * 1000.0 / $p50, 0, 0, $((100 + b)) * 1048576,"
        echo "  '2025-01-0${run}T00:0$t:0$b.000Z');"
        for i in 0 1 2; do
          echo "INSERT INTO timings VALUES ($id, $i, $p50, 0);"
        done
      done
    done
  done
  echo "COMMIT;"
} >"$T/fill.sql"
if sqlite3 "$DB" <"$T/fill.sql"; then pass "TEST rows inserted"; else fail "TEST rows inserted"; fi

expect_status 0 "db info" -- "$IA_CLI" db info --db "$DB"
expect_grep "^Results +12 measured, 0 predicted" "$T/out" "db info counts results"
expect_status 0 "db info --json" -- "$IA_CLI" db info --db "$DB" --json
expect_grep '"timings": 36' "$T/out" "db info --json counts timings"

expect_status 0 "report (markdown, the default)" -- "$IA_CLI" report --db "$DB"
cp "$T/out" "$T/report.md"
expect_grep '^## TEST-e2e-model on `e2e0000000000000`' "$T/report.md" "a section per model and machine"
expect_grep '^\| single-stream \| 4 \| 64 \| 1 \| fp32 \| 5\.000 \|' "$T/report.md" "latest p50 in the table"
expect_grep '\| single-stream b=4 seq=64 t=1 fp32 \| 4\.000 \| 5\.000 \| \+25\.0 % \| .* \| \*\*REGRESSION\*\* \|' \
  "$T/report.md" "regression flagged"
[ "$(grep -c 'within noise' "$T/report.md")" = 5 ] && pass "others within noise" || fail "others within noise"
expect_grep 'TEST CPU \(e2e\), 2 logical CPUs, 4\.00 GiB RAM' "$T/report.md" "machine described"
expect_grep '^## Recommendations' "$T/report.md" "recommendations"
expect_grep '\| TEST-e2e-model \| `e2e0000000000000` \| single-stream b=1 seq=64 t=2 fp32 \(p50 0\.500 ms\)' \
  "$T/report.md" "lowest latency picked"
expect_no_grep 'Predicted' "$T/report.md" "no predicted section without predictions"

expect_status 0 "report --format html -o" -- "$IA_CLI" report --db "$DB" --format html -o "$T/report.html"
[ -s "$T/report.html" ] && pass "HTML written" || fail "HTML written"
[ ! -s "$T/out" ] && pass "nothing on stdout with -o" || fail "nothing on stdout with -o"
[ "$(grep -c '<svg class="chart"' "$T/report.html")" = 2 ] && pass "two charts" || fail "two charts"
expect_no_grep '<script|src=|href=' "$T/report.html" "HTML is self-contained"
expect_grep '<tr class="regression">' "$T/report.html" "regression row highlighted"

expect_status 0 "report --json" -- "$IA_CLI" report --db "$DB" --json
if python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["measured_results"] == 12, d["summary"]
g = d["groups"][0]
assert len(g["configurations"]) == 6
v = sorted(c["change"]["verdict"] for c in g["configurations"])
assert v == ["regression"] + ["within noise"] * 5, v
assert g["recommendations"]["latency"]["label"] == "single-stream b=1 seq=64 t=2 fp32"
EOF
then pass "JSON report holds the same"; else fail "JSON report holds the same"; fi

# A prediction appears only in its own section.
sqlite3 "$DB" "INSERT INTO results (run_id, model_id, hw_fingerprint, scenario, batch, seq_len,
  threads, precision, warmup, iterations, p50_ms, is_predicted, prediction_method, created_at)
  VALUES (2, 1, '$FP', 'single-stream', 32, 64, 2, 'fp32', 0, 0, 777.7, 1, 'TEST method',
  '2025-01-03T00:00:00.000Z');"
expect_status 0 "report with a prediction" -- "$IA_CLI" report --db "$DB"
expect_grep '^## Predicted \(not measured\)' "$T/out" "predicted section"
if awk '/^## Predicted/{p=1} /777\.7/{ if (!p) bad=1 } END{exit bad}' "$T/out"; then
  pass "predicted figure only under Predicted"; else fail "predicted figure only under Predicted"; fi

expect_status 1 "missing --db file" -- "$IA_CLI" report --db "$T/missing.db"
expect_grep "^ipfs-accelerate: report: $T/missing.db: no such results database$" "$T/err" "names the file"
expect_status 2 "bad format" -- "$IA_CLI" report --format pdf
expect_status 2 "stray argument" -- "$IA_CLI" report extra

expect_status 0 "empty default database" -- "$IA_CLI" report
expect_grep "No results yet: run \`ipfs-accelerate bench MODEL\`" "$T/out" "friendly empty report"
[ -f "$IA_HOME/results.db" ] && pass "default database in IA_HOME" || fail "default database in IA_HOME"
expect_status 0 "db path" -- "$IA_CLI" db path
expect_grep "^$IA_HOME/results.db$" "$T/out" "db path prints the default"

head -c 4096 /dev/urandom >"$T/garbage.db"
expect_status 1 "a file that is not a database" -- "$IA_CLI" report --db "$T/garbage.db"
[ "$(wc -l <"$T/err")" = 1 ] && pass "one-line error" || fail "one-line error"
expect_grep "^ipfs-accelerate: report: $T/garbage.db: not an SQLite database" "$T/err" "error names the file"

cp "$DB" "$T/newer.db"
sqlite3 "$T/newer.db" "PRAGMA user_version = 99"
expect_status 1 "a database from a newer build" -- "$IA_CLI" report --db "$T/newer.db"
expect_grep "schema v99 is newer than this build" "$T/err" "says it is newer"

finish
