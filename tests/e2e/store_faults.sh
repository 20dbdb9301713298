#!/usr/bin/env bash
# The store under faults: a block rotting on disk, add killed with SIGKILL,
# hostile or broken CARs, and a full disk. In each case the store must fail
# loudly, name the bad block, and never hold or emit unverified bytes.
. "$(dirname "$0")/lib.sh"

cli() { "$IA_CLI" "$@"; }

# Every file under blocks/ and pins/ with its checksum: equal listings
# before and after mean the store did not change.
listing() { (cd "$1" && find blocks pins -type f -exec sha256sum {} + 2>/dev/null | sort); }

# The block file holding exactly the bytes of $2 in store $1.
block_file_of() {
    local f
    for f in "$1"/blocks/*/*; do
        if cmp -s "$f" "$2"; then echo "$f"; return 0; fi
    done
    return 1
}

flip_byte() { # FILE OFFSET
    local b
    b=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    printf "$(printf '\\%03o' $(((b ^ 0x55) & 0xff)))" |
        dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}

# ---- a block corrupted on disk --------------------------------------------------
head -c 700000 /dev/urandom >"$T/f.bin" # leaves of 262144, 262144, 175712 bytes
dd if="$T/f.bin" of="$T/chunk1" bs=262144 count=1 2>/dev/null
dd if="$T/f.bin" of="$T/chunk2" bs=262144 skip=1 count=1 2>/dev/null
root=$(cli add -Q "$T/f.bin")
leaf2=$(cli add -Q --only-hash "$T/chunk2") # a one-chunk file is its raw leaf
blk=$(block_file_of "$IA_HOME" "$T/chunk2")
[ -n "$blk" ] && pass "found the second leaf's block file" || fail "no block file for chunk 2"
flip_byte "$blk" 1000

expect_status 1 "cat fails on a corrupt block" -- cli cat "$root"
expect_grep "$leaf2" "$T/err" "cat names the corrupt block"
size=$(wc -c <"$T/out")
if [ "$size" -eq 262144 ] && cmp -s "$T/out" "$T/chunk1"; then
    pass "cat printed only the bytes before the corrupt block"
else fail "cat printed $size bytes"; fi
expect_status 1 "verify-blocks finds the corrupt block" -- cli verify-blocks
expect_grep "$leaf2" "$T/err" "verify-blocks names the corrupt block"
expect_grep '1 corrupt' "$T/out" "verify-blocks counts it"
expect_status 1 "verify-blocks CID finds it" -- cli verify-blocks "$root"
expect_grep "$leaf2" "$T/err" "verify-blocks CID names it"
expect_status 1 "get fails on a corrupt block" -- cli get "$root" -o "$T/got"
[ ! -e "$T/got" ] && pass "get leaves nothing behind" || fail "get left $T/got"
expect_status 1 "car export refuses a corrupt block" -- cli car export "$root" -o "$T/c.car"
[ ! -e "$T/c.car" ] && pass "car export leaves no file" || fail "car export left a file"

# A corrupt pinned dag-pb node: gc cannot know what is under it, so refuses.
head -c 1000 /dev/urandom >"$T/loose.bin"
cli add -Q --no-pin "$T/loose.bin" >/dev/null # an unpinned block gc would remove
rootblk=$(for f in "$IA_HOME"/blocks/*/*; do [ "$(wc -c <"$f")" -lt 1000 ] && echo "$f"; done | head -1)
flip_byte "$rootblk" 5
before=$(listing "$IA_HOME")
expect_status 1 "gc refuses with a corrupt pinned node" -- cli gc
expect_grep 'corrupt' "$T/err" "gc says why"
[ "$before" = "$(listing "$IA_HOME")" ] && pass "gc deleted nothing" || fail "gc changed the store"

# ---- add killed with SIGKILL ---------------------------------------------------------
export IA_HOME="$T/killed"
head -c 64M /dev/urandom >"$T/big.bin"
for attempt in 1 2 3; do
    "$IA_CLI" -q add "$T/big.bin" >/dev/null 2>&1 &
    pid=$!
    # Kill once blocks are being written, so the kill lands mid-add.
    for _ in $(seq 200); do
        n=$(find "$IA_HOME/blocks" -type f 2>/dev/null | wc -l)
        [ "$n" -ge $((attempt * 20)) ] && break
        sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
n=$(find "$IA_HOME/blocks" -type f | wc -l)
[ "$n" -gt 0 ] && pass "add was killed mid-way ($n blocks written)" || fail "add wrote nothing"
expect_status 0 "verify-blocks passes after SIGKILL" -- cli verify-blocks
left=$(find "$IA_HOME/tmp" -mindepth 1 | wc -l)
[ "$left" -eq 0 ] && pass "no temp files left after the next open" || fail "$left temp files left"
stray=$(find "$IA_HOME/blocks" -mindepth 2 -type f ! -regex '.*/[A-Z2-7][A-Z2-7]/[A-Z2-7]+' | wc -l)
[ "$stray" -eq 0 ] && pass "nothing but named blocks in blocks/" || fail "$stray stray files"
expect_status 0 "pin ls after SIGKILL" -- cli pin ls
[ ! -s "$T/out" ] && pass "the killed add pinned nothing" || fail "killed add left a pin"
expect_status 0 "the same add completes afterwards" -- cli -q add -Q "$T/big.bin"
expect_status 0 "and verifies" -- cli verify-blocks "$(cat "$T/out")"
rm -f "$T/big.bin"

# ---- broken CARs leave the store unchanged -----------------------------------------------
export IA_HOME="$T/carsrc"
head -c 600000 /dev/urandom >"$T/g.bin"
groot=$(cli add -Q "$T/g.bin")
cli car export "$groot" -o "$T/good.car" || fail "car export"
other=$(cli add -Q --only-hash "$T/chunk1")

export IA_HOME="$T/cardst"
printf 'already here\n' >"$T/here.txt"
cli add -Q "$T/here.txt" >/dev/null
before=$(listing "$IA_HOME")
unchanged() {
    [ "$before" = "$(listing "$IA_HOME")" ] && pass "$1: store unchanged" || fail "$1: store changed"
    local t
    t=$(find "$IA_HOME/tmp" -mindepth 1 | wc -l)
    [ "$t" -eq 0 ] && pass "$1: no staging left" || fail "$1: $t staging files left"
}

cp "$T/good.car" "$T/bad.car"
flip_byte "$T/bad.car" $(($(wc -c <"$T/bad.car") - 10))
expect_status 1 "import of a CAR with a bad block fails" -- cli car import "$T/bad.car"
expect_grep 'does not match' "$T/err" "import names the bad block"
unchanged "bad block"

head -c $(($(wc -c <"$T/good.car") - 100)) "$T/good.car" >"$T/trunc.car"
expect_status 1 "import of a truncated CAR fails" -- cli car import "$T/trunc.car"
unchanged "truncated section"

# The sections of good.car under a header whose root is another CID.
python3 - "$T/good.car" "$T/noroot.car" "$other" <<'EOF'
import sys, base64
src, dst, cid = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, "rb").read()
def varint(buf, i):
    v = s = 0
    while True:
        b = buf[i]; i += 1; v |= (b & 0x7f) << s; s += 7
        if b < 0x80: return v, i
hl, i = varint(data, 0)
body = data[i + hl:]
raw = base64.b32decode(cid[1:].upper() + "=" * (-len(cid[1:]) % 8))
link = b"\x00" + raw  # dag-cbor CID: tag 42, bytes with a 0x00 prefix
hdr = b"\xa2\x65roots\x81\xd8\x2a\x58" + bytes([len(link)]) + link + b"\x67version\x01"
open(dst, "wb").write(bytes([len(hdr)]) + hdr + body)
EOF
expect_status 1 "import of a CAR without its root fails" -- cli car import "$T/noroot.car"
expect_grep "root $other" "$T/err" "import names the missing root"
unchanged "missing root"

expect_status 0 "the good CAR imports" -- cli car import "$T/good.car"
expect_status 0 "and verifies" -- cli verify-blocks "$groot"

# ---- full disk ----------------------------------------------------------------------------
# A 1 MiB tmpfs in a private mount namespace (as root, or as a user with
# user namespaces); the mount vanishes with the namespace.
full_disk() {
    local ns="unshare -m"
    [ "$(id -u)" -ne 0 ] && ns="unshare -rm"
    mkdir -p "$T/full"
    $ns bash -c '
        mount -t tmpfs -o size=1m tmpfs "$1" || exit 99
        export IA_HOME="$1/home"
        "$2" add -Q "$3/here.txt" >/dev/null || exit 98
        (cd "$IA_HOME" && find blocks pins -type f | sort) >"$3/full.before"
        head -c 3000000 /dev/urandom >"$3/huge.bin"
        "$2" add "$3/huge.bin" >"$3/full.out" 2>"$3/full.err"; echo $? >"$3/full.rc"
        (cd "$IA_HOME" && find blocks pins -type f | sort) >"$3/full.after"
        find "$IA_HOME/tmp" -mindepth 1 >"$3/full.tmp"
        "$2" verify-blocks >/dev/null 2>&1; echo $? >"$3/full.verify"
        "$2" car import "$3/good.car" >/dev/null 2>"$3/full.car.err"; echo $? >"$3/full.car.rc"
        (cd "$IA_HOME" && find blocks pins -type f | sort) >"$3/full.after.car"
        find "$IA_HOME/tmp" -mindepth 1 >>"$3/full.tmp"
    ' full "$T/full" "$IA_CLI" "$T"
}
full_disk
st=$?
if [ "$st" -ne 0 ]; then
    echo "SKIP full disk: cannot mount a tmpfs here (status $st): the full-disk checks did not run"
else
    [ "$(cat "$T/full.rc")" = 1 ] && pass "add on a full disk fails" || fail "add on a full disk: exit $(cat "$T/full.rc")"
    expect_grep 'disk full' "$T/full.err" "add says the disk is full"
    [ ! -s "$T/full.tmp" ] && pass "full disk: no temp files left" || fail "full disk: temp files left"
    [ "$(cat "$T/full.verify")" = 0 ] && pass "full disk: every stored block verifies" ||
        fail "full disk: verify-blocks failed"
    if cmp -s "$T/full.before" "$T/full.after"; then fail "full disk: add stored nothing at all?"; else
        pass "full disk: add stored whole blocks before the disk filled"; fi
    [ "$(cat "$T/full.car.rc")" = 1 ] && pass "car import on a full disk fails" || fail "car import on a full disk"
    expect_grep 'disk full' "$T/full.car.err" "car import says the disk is full"
    cmp -s "$T/full.after" "$T/full.after.car" && pass "full disk: failed import changed nothing" ||
        fail "full disk: failed import changed the store"
fi

finish
