#!/usr/bin/env bash
# The SDK as a user gets it: `cmake --install` into a scratch prefix, then a
# program outside the tree built against it with pkg-config and with
# find_package(ipfs-accelerate), and run.
. "$(dirname "$0")/lib.sh"
: "${IA_BUILD_DIR:?}" "${IA_SOURCE_DIR:?}"
P="$T/prefix"
expect_status 0 "cmake --install into a scratch prefix" -- cmake --install "$IA_BUILD_DIR" --prefix "$P"
for f in include/ia/core.h include/ia/cid.h include/ia/engine.h bin/ipfs-accelerate; do
    [ -e "$P/$f" ] && pass "installed $f" || fail "installed $f"
done
pc=$(ls "$P"/lib*/pkgconfig/ipfs-accelerate.pc "$P"/lib/*/pkgconfig/ipfs-accelerate.pc 2>/dev/null | head -1)
[ -n "$pc" ] && pass "pkg-config file installed" || fail "pkg-config file installed"
libdir=$(dirname "$(dirname "$pc")")

# A sanitizer build's library needs the sanitizer runtime in the program too.
san=""
grep -q "^IA_SANITIZE:BOOL=ON" "$IA_BUILD_DIR/CMakeCache.txt" && san="-fsanitize=address,undefined"
export PKG_CONFIG_PATH="$(dirname "$pc")"
expect_status 0 "pkg-config knows the package" -- pkg-config --exists ipfs-accelerate
expect_status 0 "compile and link with pkg-config" -- \
    cc $san "$IA_SOURCE_DIR/tests/sdk/sdk_sample.c" $(pkg-config --cflags --libs ipfs-accelerate) -o "$T/sample"
expect_status 0 "the pkg-config program runs" -- env LD_LIBRARY_PATH="$libdir" "$T/sample"
expect_grep "^bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku$" "$T/out" "pkg-config program output"

expect_status 0 "configure with find_package" -- \
    cmake -S "$IA_SOURCE_DIR/tests/sdk" -B "$T/cmk" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san"
expect_status 0 "build with find_package" -- cmake --build "$T/cmk"
expect_status 0 "the find_package program runs" -- env LD_LIBRARY_PATH="$libdir" "$T/cmk/sdk_sample"
finish
