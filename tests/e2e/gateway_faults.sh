# fetch against hostile gateways (tests/fake_gateway, on 127.0.0.1): wrong
# bytes, a hang after the headers, a connection cut mid-body, HTTP 500.
# Alone, each makes fetch fail with a message that says why, in bounded
# time, leaving only verified blocks of the DAG in the store; listed before
# a good gateway, each is dropped and the fetch completes.
. "$(dirname "$0")/lib.sh"

FAKE="$IA_BUILD_DIR/tests/fake_gateway/fake_gateway"
PIDS=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
if [ ! -x "$FAKE" ]; then
    fail "test helper $FAKE is not built"
    finish
    exit 1
fi

# start OUTFILE PATTERN COMMAND...: runs a server in the background and
# prints the port it announces (waits at most 10 s).
start() {
    local out=$1 pat=$2
    shift 2
    "$@" >"$out" 2>"$out.err" &
    PIDS="$PIDS $!"
    for _ in $(seq 1 100); do
        local p
        p=$(sed -n "s|$pat|\\1|p" "$out")
        if [ -n "$p" ]; then echo "$p"; return 0; fi
        sleep 0.1
    done
    echo 1
}

A="$T/home_a"
mkdir -p "$T/src"
head -c 1400000 /dev/urandom >"$T/src/big.bin"
echo "small" >"$T/src/small.txt"
root=$(IA_HOME="$A" "$IA_CLI" -q add -r -Q "$T/src")
(cd "$A/blocks" && find . -type f | sort) >"$T/dag_blocks"
good_port=$(start "$T/good.out" '^serving /ipfs/ on http://127\.0\.0\.1:\([0-9][0-9]*\)$' \
    env IA_HOME="$A" "$IA_CLI" serve-gateway --listen 127.0.0.1:0)
good="http://127.0.0.1:$good_port"

# Every block file in HOME is one of the DAG's (and verify-blocks passes).
only_dag_blocks() {
    local home=$1 what=$2
    mkdir -p "$home/blocks"
    (cd "$home/blocks" && find . -type f | sort) >"$T/held"
    if [ -z "$(comm -23 "$T/held" "$T/dag_blocks")" ]; then pass "$what: only DAG blocks stored"; else
        fail "$what: blocks outside the DAG stored"; fi
    expect_status 0 "$what: verify-blocks finds nothing bad" -- env IA_HOME="$home" "$IA_CLI" verify-blocks
}

check_mode() { # MODE PATTERN
    local mode=$1 pat=$2
    local port
    port=$(start "$T/fake_$mode.out" '^port \([0-9][0-9]*\)$' "$FAKE" --home "$A" --mode "$mode" --lifetime 120)
    local bad="http://127.0.0.1:$port"
    local t0 t1
    t0=$(date +%s)
    expect_status 1 "$mode: fetch from the bad gateway alone fails" -- \
        env IA_HOME="$T/alone_$mode" timeout 60 "$IA_CLI" -q fetch "$root" --gateway "$bad" \
        --timeout 2 --retries 1
    t1=$(date +%s)
    expect_grep "^ipfs-accelerate: fetch: .*$pat" "$T/err" "$mode: the message says why"
    expect_grep "$bad" "$T/err" "$mode: the message names the gateway"
    if [ $((t1 - t0)) -le 20 ]; then pass "$mode: gave up in $((t1 - t0)) s"; else
        fail "$mode: took $((t1 - t0)) s to give up"; fi
    only_dag_blocks "$T/alone_$mode" "$mode"

    expect_status 0 "$mode: bad gateway first, good second: fetch succeeds" -- \
        env IA_HOME="$T/over_$mode" timeout 60 "$IA_CLI" -q fetch "$root" --gateway "$bad" \
        --gateway "$good" --timeout 2 --retries 1
    rm -rf "$T/copy"
    IA_HOME="$T/over_$mode" "$IA_CLI" get "$root" -o "$T/copy" >/dev/null 2>&1
    if diff -r "$T/src" "$T/copy" >/dev/null; then pass "$mode: fetched folder equals the original"
    else fail "$mode: fetched folder differs"; fi
    only_dag_blocks "$T/over_$mode" "$mode fall-over"
}

check_mode wrong-bytes "block bafk[a-z0-9]+ from http://127\.0\.0\.1:[0-9]+: hash mismatch"
check_mode hang "gateway http://127\.0\.0\.1:[0-9]+: stalled \(under 1024 bytes/s for 2 s\) for baf[a-z0-9]+ \(CAR\) after 2 tries"
check_mode hang-raw "gateway http://127\.0\.0\.1:[0-9]+: timed out after 2 s for baf[a-z0-9]+ after 2 tries"
check_mode drop "gateway http://127\.0\.0\.1:[0-9]+: .*(transfer closed|Connection|connection)"
check_mode 500 "gateway http://127\.0\.0\.1:[0-9]+: HTTP 500 for baf"

# A CAR padded with blocks outside the DAG: those are not stored.
port=$(start "$T/fake_extra.out" '^port \([0-9][0-9]*\)$' "$FAKE" --home "$A" --mode extra --lifetime 120)
expect_status 0 "extra: fetch succeeds" -- env IA_HOME="$T/extra" timeout 60 "$IA_CLI" -q fetch \
    "$root" --gateway "http://127.0.0.1:$port" --timeout 5
(cd "$T/extra/blocks" && find . -type f | sort) >"$T/held"
if cmp -s "$T/held" "$T/dag_blocks"; then pass "extra: exactly the DAG's blocks stored"; else
    fail "extra: stored blocks differ from the DAG's"; fi

# A gateway without CARs: every block comes one by one.
port=$(start "$T/fake_nocar.out" '^port \([0-9][0-9]*\)$' "$FAKE" --home "$A" --mode nocar --lifetime 120)
n_blocks=$(wc -l <"$T/dag_blocks")
expect_status 0 "nocar: fetch succeeds block by block" -- env IA_HOME="$T/nocar" timeout 60 \
    "$IA_CLI" fetch "$root" --gateway "http://127.0.0.1:$port" --timeout 5 --json
expect_grep "\"requests\": $((n_blocks + 1))," "$T/out" "nocar: one refused CAR, then one request per block"
expect_grep "\"blocks_fetched\": $n_blocks," "$T/out" "nocar: every block fetched"
finish
