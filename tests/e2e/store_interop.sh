#!/usr/bin/env bash
# Interop with the IPFS reference implementations (npm ipfs-unixfs-importer
# 17 and @ipld/car, installed by scripts/npm-refs.sh):
#  1. `add -Q --only-hash` gives the reference importer's root CID for every
#     profile, on files at the chunk and tree boundaries and on a folder tree;
#  2. our `car export` is read and hash-verified by @ipld/car, with the same
#     blocks the reference importer makes;
#  3. a CAR written by the reference goes through our `car import`, and our
#     `cat`/`get` give back the original bytes.
# Without node/npm or the npm registry this test FAILS: it is the proof of
# the compatibility DESIGN.md promises, not an optional extra.
. "$(dirname "$0")/lib.sh"
: "${IA_SOURCE_DIR:?}"
REF="$IA_SOURCE_DIR/tests/ref"
PROFILES="default unixfs-v1-2025 unixfs-v0-2015"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    fail "node and npm are needed for the reference importer (scripts/install-deps.sh installs them)"
    finish
    exit 1
fi
if ! IA_NPM_CACHE=$("$IA_SOURCE_DIR/scripts/npm-refs.sh" 2>"$T/npm.err"); then
    fail "could not install the npm reference packages:"
    sed 's/^/    /' "$T/npm.err" >&2
    finish
    exit 1
fi
export IA_NPM_CACHE
pass "npm reference packages in $IA_NPM_CACHE"

# ---- inputs ---------------------------------------------------------------
D="$T/in"
mkdir -p "$D"
: >"$D/empty"
printf 'x' >"$D/one-byte"
head -c 262144 /dev/urandom >"$D/chunk"              # exactly one 256 KiB chunk
head -c 262145 /dev/urandom >"$D/chunk+1"
head -c 1048576 /dev/urandom >"$D/mib"               # exactly one 1 MiB chunk
head -c 1048577 /dev/urandom >"$D/mib+1"
# 175 chunks and a bit (> 45.6 MiB): two levels of parents at 174 links.
head -c $((175 * 262144 + 1234)) /dev/urandom >"$D/big"
F="$D/tree"
mkdir -p "$F/models/bert/empty" "$F/models/gpt2" "$F/data"
printf 'hello\n' >"$F/README"
printf 'B\n' >"$F/B"
head -c 700000 /dev/urandom >"$F/models/bert/weights.bin"
printf '{"dim": 768}\n' >"$F/models/bert/config.json"
head -c 300000 /dev/urandom >"$F/models/gpt2/model.onnx"
: >"$F/data/empty.txt"
printf 'ü\n' >"$F/data/$(printf 'caf\xc3\xa9').txt"
printf 'hidden\n' >"$F/.hidden"                      # skipped without -H, by both

# ---- 1. root CIDs -------------------------------------------------------------
check_cid() { # PROFILE PATH [-r]
    local p=$1 path=$2 r=${3:-} ours ref
    ref=$(node "$REF/import.mjs" --profile "$p" "$path" 2>"$T/ref.err") || {
        fail "reference importer on $(basename "$path") ($p):"
        sed 's/^/    /' "$T/ref.err" >&2
        return
    }
    ours=$("$IA_CLI" -q add -Q --only-hash $r --profile "$p" "$path" 2>"$T/err")
    if [ "$ours" = "$ref" ]; then pass "$p $(basename "$path"): $ours"; else
        fail "$p $(basename "$path"): ours '$ours', reference '$ref'"
        sed 's/^/    stderr: /' "$T/err" | head -3 >&2
    fi
}
for p in $PROFILES; do
    for f in empty one-byte chunk chunk+1 mib mib+1 big; do check_cid "$p" "$D/$f"; done
    check_cid "$p" "$F" -r
done

# ---- 2. our CAR, read by @ipld/car -------------------------------------------
car_blocks() { # JSON FILE → sorted block CIDs, one a line
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
             for (const b of [...new Set(j.blocks)].sort()) console.log(b)' "$1"
}
for spec in "default $F -r" "unixfs-v0-2015 $F -r" "default $D/big" "unixfs-v1-2025 $D/mib+1"; do
    set -- $spec
    p=$1 path=$2 r=${3:-}
    what="$p $(basename "$path")"
    cid=$("$IA_CLI" -q add -Q $r --profile "$p" "$path" 2>"$T/err") || {
        fail "$what: add: $(head -1 "$T/err")"
        continue
    }
    expect_status 0 "$what: car export" -- "$IA_CLI" car export "$cid" -o "$T/ours.car"
    if node "$REF/car-read.mjs" "$T/ours.car" >"$T/ours.json" 2>"$T/read.err"; then
        pass "$what: @ipld/car reads our CAR, every block verifies"
    else
        fail "$what: @ipld/car rejects our CAR: $(head -3 "$T/read.err")"
        continue
    fi
    expect_grep "^\{\"roots\":\[\"$cid\"\]" "$T/ours.json" "$what: CAR root is $cid"
    node "$REF/car-write.mjs" --profile "$p" "$path" -o "$T/ref.car" >/dev/null 2>"$T/ref.err" &&
        node "$REF/car-read.mjs" "$T/ref.car" >"$T/ref.json" 2>>"$T/ref.err" || {
        fail "$what: reference CAR: $(head -3 "$T/ref.err")"
        continue
    }
    if cmp -s <(car_blocks "$T/ours.json") <(car_blocks "$T/ref.json"); then
        pass "$what: same blocks as the reference ($(car_blocks "$T/ours.json" | wc -l))"
    else
        fail "$what: block sets differ from the reference's"
        diff <(car_blocks "$T/ours.json") <(car_blocks "$T/ref.json") | head -5 >&2
    fi
done

# ---- 3. the reference's CAR, into our store ----------------------------------
export IA_HOME="$T/home2"
for spec in "default $D/big" "unixfs-v0-2015 $D/chunk+1" "unixfs-v1-2025 $D/mib+1" \
    "default $F" "unixfs-v0-2015 $F"; do
    set -- $spec
    p=$1 path=$2
    what="$p $(basename "$path")"
    cid=$(node "$REF/car-write.mjs" --profile "$p" "$path" -o "$T/ref.car" 2>"$T/ref.err") || {
        fail "$what: reference CAR: $(head -3 "$T/ref.err")"
        continue
    }
    expect_status 0 "$what: car import of the reference's CAR" -- "$IA_CLI" -q car import "$T/ref.car"
    expect_grep "$cid" "$T/out" "$what: import names root $cid"
    if [ -d "$path" ]; then
        rm -rf "$T/got"
        expect_status 0 "$what: get" -- "$IA_CLI" -q get "$cid" -o "$T/got"
        if diff -r -x '.*' "$path" "$T/got" >"$T/diff" 2>&1; then
            pass "$what: get reproduces the folder"
        else
            fail "$what: get differs from the folder"; head -5 "$T/diff" >&2
        fi
    else
        if "$IA_CLI" -q cat "$cid" 2>"$T/err" | cmp -s - "$path"; then
            pass "$what: cat reproduces the bytes"
        else
            fail "$what: cat differs: $(head -1 "$T/err")"
        fi
    fi
done

finish
