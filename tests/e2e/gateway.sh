# serve-gateway and fetch: a folder added in one home is served on
# 127.0.0.1 and fetched into another, verified, equal to the original.
. "$(dirname "$0")/lib.sh"

SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

A="$T/home_a"
B="$T/home_b"
mkdir -p "$T/src/sub"
head -c 1400000 /dev/urandom >"$T/src/big.bin" # 6 blocks at 256 KiB chunks
echo "hello gateway" >"$T/src/sub/small.txt"
: >"$T/src/empty"
root=$(IA_HOME="$A" "$IA_CLI" -q add -r -Q "$T/src")
big=$(IA_HOME="$A" "$IA_CLI" -q add -Q --only-hash "$T/src/big.bin")
[ -n "$root" ] && [ -n "$big" ] && pass "add a folder to home A" || fail "add a folder to home A"

# The server prints its port; wait for the line (at most 10 s).
IA_HOME="$A" "$IA_CLI" serve-gateway --listen 127.0.0.1:0 >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's|^serving /ipfs/ on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$T/srv.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] && pass "serve-gateway prints its port" || fail "serve-gateway prints its port"
url="http://127.0.0.1:${port:-1}"

expect_status 0 "fetch from serve-gateway" -- \
    env IA_HOME="$B" timeout 120 "$IA_CLI" fetch "$root" --gateway "$url" --timeout 10
expect_grep "^$root\$" "$T/out" "fetch prints the root CID"
expect_grep "^fetched [1-9][0-9]* blocks \([0-9]+ bytes\) in 1 request, 0 already held; pinned\$" \
    "$T/out" "fetch prints counts (one CAR)"

expect_status 0 "get the fetched folder" -- env IA_HOME="$B" "$IA_CLI" get "$root" -o "$T/copy"
if diff -r "$T/src" "$T/copy" >/dev/null; then pass "fetched folder equals the original"; else
    fail "fetched folder equals the original"; fi
IA_HOME="$B" "$IA_CLI" cat "$big" >"$T/big.out" 2>/dev/null
if cmp -s "$T/src/big.bin" "$T/big.out"; then pass "cat of the fetched file"; else
    fail "cat of the fetched file"; fi
expect_status 0 "pin ls in home B" -- env IA_HOME="$B" "$IA_CLI" pin ls
expect_grep "$root" "$T/out" "the fetched root is pinned"
expect_status 0 "verify-blocks in home B" -- env IA_HOME="$B" "$IA_CLI" verify-blocks "$root"

# Again: everything is held, no request is made.
expect_status 0 "fetch again --json" -- \
    env IA_HOME="$B" timeout 60 "$IA_CLI" fetch "$root" --gateway "$url" --json
expect_grep '"requests": 0' "$T/out" "a second fetch makes no request"
expect_grep '"blocks_fetched": 0' "$T/out" "a second fetch fetches nothing"
expect_grep '"pinned": true' "$T/out" "--json says pinned"

# Resumption: a home holding only the big file fetches the rest per block.
C="$T/home_c"
IA_HOME="$C" "$IA_CLI" -q add -Q "$T/src/big.bin" >/dev/null
expect_status 0 "fetch into a home that holds part of the DAG" -- \
    env IA_HOME="$C" timeout 120 "$IA_CLI" fetch "$root" --gateway "$url" --parallel 2 --json
expect_grep '"blocks_held": [1-9]' "$T/out" "held blocks are counted"

expect_status 2 "fetch without --gateway is a usage error" -- env IA_HOME="$B" "$IA_CLI" fetch "$root"
expect_grep "^ipfs-accelerate: fetch: no --gateway given" "$T/err" "usage message"
expect_status 2 "fetch of a non-CID is a usage error" -- \
    env IA_HOME="$B" "$IA_CLI" fetch not-a-cid --gateway "$url"
expect_status 1 "fetch of a CID the gateway lacks fails" -- \
    env IA_HOME="$T/home_d" timeout 60 "$IA_CLI" fetch bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy \
    --gateway "$url" --timeout 5
expect_grep "^ipfs-accelerate: fetch: gateway $url: HTTP 404 for bafk" "$T/err" "the 404 is named"
expect_status 1 "serve-gateway on a bad address fails" -- \
    env IA_HOME="$A" "$IA_CLI" serve-gateway --listen nowhere:80

# SIGTERM stops the server cleanly (exit 0), within 10 s.
kill -TERM "$SRV_PID"
stopped=
for _ in $(seq 1 100); do
    if ! kill -0 "$SRV_PID" 2>/dev/null; then stopped=1; break; fi
    sleep 0.1
done
if [ -n "$stopped" ]; then
    wait "$SRV_PID"
    st=$?
    SRV_PID=
    [ "$st" -eq 0 ] && pass "serve-gateway exits 0 on SIGTERM" || fail "serve-gateway exit status $st"
else
    fail "serve-gateway did not stop on SIGTERM"
fi
finish
