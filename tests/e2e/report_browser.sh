#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium loads it from disk
# with the network cut off, must log no console error (a blocked fetch or a
# CSP violation would be one), and its DOM must hold every chart series.
# The database is made-up TEST data built with the sqlite3 CLI.
# IA_REPORT_SCREENSHOT=FILE.png keeps a screenshot for a person to look at.
source "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] || ! command -v sqlite3 >/dev/null; then
    fail "chromium and sqlite3 are needed: run scripts/install-deps.sh"
    finish
    exit 1
fi

DB="$T/browser.db"
FP=b0b0000000000000000000000000000000000000000000000000000000000000
expect_status 0 "db migrate" -- "$IA_CLI" db migrate --db "$DB"

# TEST-bert-e2e: batch {1,2,4,8,16} x threads {1,2,4} -> 3 latency series
# (one per thread count) and 5 throughput series (one per batch).
# TEST-vit-e2e: batch {1,4,16} x threads {1,2} -> 2 and 3 series.
# Two runs each; run 2 makes TEST-bert-e2e batch 16 threads 1 slower.
{
    echo "BEGIN;"
    echo "INSERT INTO hardware VALUES ('$FP', 'b0b0000000000000',"
    echo "  '{\"cpu\":{\"model\":\"TEST CPU (browser e2e)\",\"logical_cpus\":4},\"memory\":{\"total_bytes\":8589934592}}',"
    echo "  '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z');"
    echo "INSERT INTO models (id, model_key, name, family, synthetic, first_seen) VALUES"
    echo "  (1, 'name:TEST-bert-e2e', 'TEST-bert-e2e', 'bert', 1, '2025-01-01T00:00:00.000Z'),"
    echo "  (2, 'name:TEST-vit-e2e', 'TEST-vit-e2e', 'vit', 1, '2025-01-01T00:00:00.000Z');"
    id=0
    for run in 1 2; do
        echo "INSERT INTO runs (id, started_at, status, version, hw_fingerprint)"
        echo "  VALUES ($run, '2025-01-0${run}T00:00:00.000Z', 'ok', 'TEST', '$FP');"
        for model in 1 2; do
            if [ $model = 1 ]; then batches="1 2 4 8 16"; threads="1 2 4"; else batches="1 4 16"; threads="1 2"; fi
            for t in $threads; do
                for b in $batches; do
                    id=$((id + 1))
                    p50=$(awk "BEGIN{printf \"%.4f\", (0.8 + 0.6 * $b * $model) / ($t ^ 0.8)}")
                    [ $run = 2 ] && [ $model = 1 ] && [ $b = 16 ] && [ $t = 1 ] && p50=14.5
                    echo "INSERT INTO results (id, run_id, model_id, hw_fingerprint, scenario, batch,"
                    echo "  seq_len, threads, precision, warmup, iterations, mean_ms, stddev_ms, cv, min_ms,"
                    echo "  p50_ms, p90_ms, p99_ms, max_ms, throughput_per_s, n_outliers, unstable,"
                    echo "  peak_rss_bytes, created_at) VALUES ($id, $run, $model, '$FP', 'single-stream',"
                    echo "  $b, 128, $t, 'fp32', 2, 20, $p50, $p50 * 0.01, 0.01, $p50 * 0.98, $p50,"
                    echo "  $p50 * 1.03, $p50 * 1.06, $p50 * 1.1, $b * 1000.0 / $p50, 0, 0,"
                    echo "  (80 + 12 * $b + 3 * $t) * 1048576, '2025-01-0${run}T01:00:00.000Z');"
                done
            done
        done
    done
    echo "COMMIT;"
} >"$T/fill.sql"
if sqlite3 "$DB" <"$T/fill.sql"; then pass "TEST rows inserted"; else fail "TEST rows inserted"; fi

expect_status 0 "report --format html" -- "$IA_CLI" report --db "$DB" --format html -o "$T/report.html"

chrome() {
    # A fresh profile each time, nothing phoned home, every host unresolvable.
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-default-apps \
        --disable-extensions --host-resolver-rules="MAP * ~NOTFOUND" \
        --user-data-dir="$(mktemp -d "$T/profile.XXXXXX")" --enable-logging=stderr --v=0 "$@"
}

chrome --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chrome.log"
st=$?
if [ $st -eq 0 ] && [ -s "$T/dom.html" ]; then pass "chromium rendered the page"; else
    fail "chromium rendered the page (status $st)"; tail -5 "$T/chrome.log" | sed 's/^/    /' >&2
fi
# Chromium logs console messages as "...:INFO:CONSOLE:<line>] "<text>", source: ...".
# The page has no scripts, so any console line is an error (a CSP block, a
# failed load). First prove the check can see one, on a page that breaks CSP.
console_lines() { grep -E 'CONSOLE|Refused to|Uncaught' "$1"; }
printf '%s\n' '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy"' \
    'content="default-src '"'none'"'"></head><body><img src="http://example.invalid/x.png"></body></html>' \
    >"$T/canary.html"
chrome --dump-dom "file://$T/canary.html" >/dev/null 2>"$T/canary.log"
if console_lines "$T/canary.log" >/dev/null; then pass "console check sees a blocked fetch"; else
    fail "console check sees a blocked fetch (Chromium's log format changed?)"; fi
if console_lines "$T/chrome.log" >"$T/console.txt"; then
    fail "console errors"; head -5 "$T/console.txt" | cut -c1-300 | sed 's/^/    /' >&2
else pass "no console errors"; fi

# Series per chart in the DOM the browser built (not the file we wrote).
python3 - "$T/dom.html" >"$T/series.txt" <<'EOF'
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.section = None
        self.chart = None
        self.out = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-model" in a:
            self.section = a["data-model"]
        elif tag == "svg" and "data-chart" in a:
            self.chart = [self.section, a["data-chart"], 0, 0]
            self.out.append(self.chart)
        elif tag == "g" and a.get("class") == "series" and self.chart:
            self.chart[2] += 1
        elif tag == "circle" and self.chart:
            self.chart[3] += 1

p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
for section, chart, n, pts in p.out:
    print(f"{section} {chart} {n} {pts}")
EOF
cat >"$T/want.txt" <<'EOF'
TEST-bert-e2e latency-vs-batch 3 15
TEST-bert-e2e throughput-vs-threads 5 15
TEST-vit-e2e latency-vs-batch 2 6
TEST-vit-e2e throughput-vs-threads 3 6
EOF
if diff -u "$T/want.txt" "$T/series.txt" >&2; then pass "every chart holds its series and points"; else
    fail "chart series in the DOM"; fi
expect_grep '<tr class="regression">' "$T/dom.html" "regression highlighted in the DOM"
expect_grep 'TEST-bert-e2e on <code>b0b0000000000000</code>' "$T/dom.html" "section heading"

chrome --screenshot="$T/shot.png" --window-size=1280,2600 --hide-scrollbars \
    "file://$T/report.html" >/dev/null 2>"$T/chrome2.log"
if [ -s "$T/shot.png" ] && [ "$(head -c 8 "$T/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    pass "screenshot taken"
    [ -n "${IA_REPORT_SCREENSHOT:-}" ] && cp "$T/shot.png" "$IA_REPORT_SCREENSHOT"
else
    fail "screenshot taken"
fi

finish
