#!/usr/bin/env bash
# The store commands end to end: add, ls, cat, get, pin, gc, verify-blocks,
# car export/import into a second store, --only-hash, -Q, usage errors.
. "$(dirname "$0")/lib.sh"

cli() { "$IA_CLI" "$@"; }

src="$T/src"
mkdir -p "$src/sub/deeper"
printf 'hello store\n' >"$src/a.txt"
: >"$src/empty"
head -c 700000 /dev/urandom >"$src/sub/big.bin"      # 3 chunks of 256 KiB
printf 'deep\n' >"$src/sub/deeper/d.txt"

# ---- add -------------------------------------------------------------------
expect_status 0 "add -r" -- cli add -r "$src"
cp "$T/out" "$T/added"
expect_grep '^added b[a-z2-7]+ src/a\.txt$' "$T/added" "add prints 'added <CID> <name>'"
expect_grep '^added b[a-z2-7]+ src/sub/big\.bin$' "$T/added" "add names nested files"
if [ "$(tail -1 "$T/added" | cut -d' ' -f3)" = src ]; then pass "root is listed last"; else
    fail "root is listed last"; fi
root=$(tail -1 "$T/added" | cut -d' ' -f2)
[ "$(wc -l <"$T/added")" -eq 7 ] && pass "one line per file and folder" ||
    fail "one line per file and folder: $(wc -l <"$T/added")"

expect_status 0 "add -Q" -- cli add -r -Q "$src"
if [ "$(cat "$T/out")" = "$root" ]; then pass "-Q prints only the root CID"; else
    fail "-Q prints only the root CID: '$(cat "$T/out")'"; fi

expect_status 0 "add --json" -- cli add -r --json "$src"
if jq -e --arg r "$root" '.roots == [$r] and (.entries | length) == 7' "$T/out" >/dev/null; then
    pass "add --json"; else fail "add --json"; fi

expect_status 0 "add from stdin" -- sh -c "'$IA_CLI' add -Q - <'$src/sub/big.bin'"
stdin_cid=$(cat "$T/out")
big_cid=$(grep ' src/sub/big.bin$' "$T/added" | cut -d' ' -f2)
[ "$stdin_cid" = "$big_cid" ] && pass "stdin gives the file's CID" || fail "stdin CID $stdin_cid != $big_cid"

expect_status 0 "add v0 profile" -- cli add -Q --profile unixfs-v0-2015 "$src/a.txt"
expect_grep '^Qm[1-9A-HJ-NP-Za-km-z]{44}$' "$T/out" "v0 profile gives a CIDv0"

# ---- ls / cat / get ---------------------------------------------------------
expect_status 0 "ls" -- cli ls "$root"
expect_grep '^b[a-z2-7]+ 12 a\.txt$' "$T/out" "ls shows a file with its size"
expect_grep '^b[a-z2-7]+ [0-9]+ sub/$' "$T/out" "ls marks folders"
expect_grep ' 0 empty$' "$T/out" "ls shows the empty file"
expect_status 0 "ls --json" -- cli ls --json "$root"
jq -e 'length == 3 and (map(select(.type == "directory")) | length) == 1' "$T/out" >/dev/null &&
    pass "ls --json" || fail "ls --json"

expect_status 0 "cat a big file" -- cli cat "$big_cid"
cmp -s "$T/out" "$src/sub/big.bin" && pass "cat gives the bytes back" || fail "cat bytes differ"
expect_status 1 "cat a directory" -- cli cat "$root"
expect_grep 'is a directory' "$T/err" "cat says it is a directory"

expect_status 0 "get -o" -- cli get "$root" -o "$T/got"
diff -r "$src" "$T/got" >/dev/null && pass "get writes the same tree" || fail "get tree differs"
expect_status 1 "get onto an existing path" -- cli get "$root" -o "$T/got"

# ---- pins and gc ------------------------------------------------------------
expect_status 0 "pin ls" -- cli pin ls
expect_grep "^$root recursive\$" "$T/out" "pin ls lists the added root"
head -c 300000 /dev/urandom >"$T/loose.bin"
expect_status 0 "add --no-pin" -- cli add -Q --no-pin "$T/loose.bin"
loose=$(cat "$T/out")
expect_status 1 "pin ls of an unpinned CID" -- cli pin ls "$loose"
expect_status 0 "gc" -- cli gc --json
jq -e '.blocks_removed == 3 and .bytes_freed > 300000' "$T/out" >/dev/null &&
    pass "gc removes the unpinned DAG" || { fail "gc count"; cat "$T/out" >&2; }
expect_status 1 "gc'd file is gone" -- cli cat "$loose"
expect_grep 'not found' "$T/err" "cat says not found"
expect_status 0 "pinned file survives gc" -- cli cat "$big_cid"
expect_status 0 "verify-blocks" -- cli verify-blocks
expect_grep '0 corrupt, 0 missing' "$T/out" "verify-blocks summary"
expect_status 0 "verify-blocks CID" -- cli verify-blocks "$root" --json
jq -e '.ok and .checked == 10' "$T/out" >/dev/null && pass "verify-blocks CID --json" ||
    { fail "verify-blocks CID --json"; cat "$T/out" >&2; }
expect_status 0 "pin rm" -- cli pin rm "$root"
expect_status 1 "pin rm twice" -- cli pin rm "$root"
expect_status 0 "pin add" -- cli pin add "$root"
expect_status 1 "pin add of a DAG not held" -- cli pin add "$loose"

# ---- CAR ---------------------------------------------------------------------
expect_status 0 "car export" -- cli car export "$root" -o "$T/x.car"
expect_status 0 "car import into a second store" -- env IA_HOME="$T/home2" "$IA_CLI" car import "$T/x.car"
expect_grep "^imported $root\$" "$T/out" "car import names the root"
expect_status 0 "cat from the second store" -- env IA_HOME="$T/home2" "$IA_CLI" cat "$big_cid"
cmp -s "$T/out" "$src/sub/big.bin" && pass "imported bytes equal" || fail "imported bytes differ"
expect_status 0 "second store pins the root" -- env IA_HOME="$T/home2" "$IA_CLI" pin ls "$root"
expect_status 0 "car import --json" -- env IA_HOME="$T/home2" "$IA_CLI" car import --json "$T/x.car"
jq -e --arg r "$root" '.roots == [$r]' "$T/out" >/dev/null && pass "car import --json" ||
    fail "car import --json"

# ---- --only-hash stores nothing ---------------------------------------------------
expect_status 0 "add --only-hash" -- env IA_HOME="$T/home3" "$IA_CLI" add -r -Q --only-hash "$src"
[ "$(cat "$T/out")" = "$root" ] && pass "--only-hash gives the same CID" || fail "--only-hash CID"
n=$(find "$T/home3" -type f 2>/dev/null | wc -l)
[ "$n" -eq 0 ] && pass "--only-hash stores nothing" || fail "--only-hash stored $n files"

# ---- usage errors --------------------------------------------------------------------
for c in add cat get ls pin gc verify-blocks car; do
    expect_status 0 "$c --help" -- cli "$c" --help
    expect_grep '^Usage: ipfs-accelerate' "$T/out" "$c --help prints usage"
done
expect_status 2 "cat without CID" -- cli cat
expect_status 2 "cat with a malformed CID" -- cli cat xyz
expect_grep "^ipfs-accelerate: cat: invalid CID 'xyz': " "$T/err" "malformed CID message"
expect_status 2 "ls with a malformed CID" -- cli ls bafyNOTACID
expect_status 2 "get with a malformed CID" -- cli get Qmbad -o "$T/nope"
expect_status 2 "pin add with a malformed CID" -- cli pin add zzz
expect_status 2 "verify-blocks with a malformed CID" -- cli verify-blocks 12
expect_status 2 "car export with a malformed CID" -- cli car export nope -o "$T/n.car"
expect_status 2 "add without PATH" -- cli add
expect_status 2 "add with an unknown profile" -- cli add --profile nope "$src/a.txt"
expect_status 2 "add with an unknown option" -- cli add --bogus "$src/a.txt"
expect_status 1 "add a folder without -r" -- cli add "$src"
expect_grep 'is a directory' "$T/err" "add says to use -r"
expect_status 1 "add a missing file" -- cli add "$T/no-such-file"
expect_status 2 "pin without subcommand" -- cli pin
expect_status 2 "pin with unknown subcommand" -- cli pin frob "$root"
expect_status 2 "car export without -o" -- cli car export "$root"
expect_status 2 "car with unknown subcommand" -- cli car frob
expect_status 1 "car import of a missing file" -- cli car import "$T/no.car"
expect_status 2 "gc with an argument" -- cli gc extra
expect_status 1 "cat of a CID not held" -- cli cat bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy
expect_grep 'not found' "$T/err" "not found message"

finish
