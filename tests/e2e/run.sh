#!/bin/bash
# ipfs-accelerate run: inputs from .npy and .pb, outputs as .pb and .npy,
# the summary (text and --json), and the errors users meet: missing,
# unknown or ill-typed inputs, bad -i syntax; MODEL as a CID in the store
# (a file, a folder with external data; a CID not there, a damaged cached
# copy, a corrupt block).
. "$(dirname "$0")/lib.sh"
M=$IA_SOURCE_DIR/tests/models

# npy FILE DESCR SHAPE BYTES: a v1 .npy with data given as printf escapes.
npy() {
    local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
    local len=$(( ${#hdr} + 1 + 10 ))
    local pad=$(( (64 - len % 64) % 64 ))
    local hlen=$(( ${#hdr} + pad + 1 ))
    {
        printf '\x93NUMPY\x01\x00'
        printf "\\x$(printf %02x $((hlen & 255)))\\x$(printf %02x $((hlen >> 8)))"
        printf '%s' "$hdr"
        printf "%${pad}s" ''
        printf '\n'
        printf "$4"
    } >"$1"
}

hex() { od -An -v -tx1 "$1" | tr -s ' \n' ' '; }

# x = [1, -2] as float32
npy "$T/x.npy" '<f4' '(2,)' '\x00\x00\x80\x3f\x00\x00\x00\xc0'
# The same as a TensorProto: dims=2, data_type=FLOAT, raw_data (8 bytes)
printf '\x08\x02\x10\x01\x4a\x08\x00\x00\x80\x3f\x00\x00\x00\xc0' >"$T/x.pb"

# if_model: y = Relu(x) (the condition is a true initializer) = [1, 0]
expect_status 0 "run with a .npy input" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/x.npy" -o "$T/o1"
expect_grep '^y +float32 +\[2\]' "$T/out" "summary names the output, dtype and shape"
expect_grep 'ran [0-9]+ nodes .* ms' "$T/out" "summary has the time"
if [ -f "$T/o1/y.pb" ] && hex "$T/o1/y.pb" | grep -q '00 00 80 3f 00 00 00 00'; then
    pass "y.pb holds [1, 0]"
else
    fail "y.pb missing or wrong: $(hex "$T/o1/y.pb" 2>&1)"
fi

expect_status 0 "run with a .pb input and --npy outputs" -- \
    "$IA_CLI" run "$M/if_model.onnx" -i x="$T/x.pb" -o "$T/o2" --npy --threads 1
if [ -f "$T/o2/y.npy" ] && head -c 6 "$T/o2/y.npy" | od -An -tx1 | grep -q '93 4e 55 4d 50 59' &&
    hex "$T/o2/y.npy" | grep -q '00 00 80 3f 00 00 00 00 $'; then
    pass "y.npy is a .npy file holding [1, 0]"
else
    fail "y.npy missing or wrong"
fi

# Outputs round-trip as inputs.
expect_status 0 "an output .pb is a valid input" -- \
    "$IA_CLI" run "$M/if_model.onnx" -i x="$T/o1/y.pb" -o "$T/o3"
expect_status 0 "an output .npy is a valid input" -- \
    "$IA_CLI" run "$M/if_model.onnx" -i x="$T/o2/y.npy" -o "$T/o4"

expect_status 0 "--json" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/x.npy" -o "$T/o5" --json
expect_grep '"name": "y"' "$T/out" "--json lists the output"
expect_grep '"shape": \[' "$T/out" "--json has the shape"
expect_grep '"run_ms"' "$T/out" "--json has the time"

# Default output folder: the current one.
(cd "$T" && mkdir -p cwd && cd cwd && "$IA_CLI" run "$M/if_model.onnx" -i x="$T/x.npy" >/dev/null 2>&1)
if [ -f "$T/cwd/y.pb" ]; then pass "default output folder is ."; else fail "no ./y.pb"; fi

# Out-of-order node lists are sorted: y = Relu(Neg(x)) = [0, 2]
expect_status 0 "a model whose nodes are out of order" -- \
    "$IA_CLI" run "$M/out_of_order.onnx" -i x="$T/x.npy" -o "$T/o6"
if hex "$T/o6/y.pb" | grep -q '00 00 00 00 00 00 00 40'; then pass "out-of-order result"; else
    fail "out-of-order result: $(hex "$T/o6/y.pb")"; fi

# ---- errors ----
expect_status 1 "a missing input" -- "$IA_CLI" run "$M/if_model.onnx" -o "$T/e"
expect_grep "input 'x' is missing" "$T/err" "the missing input is named"
expect_status 1 "an unknown input name" -- "$IA_CLI" run "$M/if_model.onnx" -i z="$T/x.npy" -o "$T/e"
expect_grep "no input 'z'.*x" "$T/err" "the unknown name and the model's inputs are named"
npy "$T/xi.npy" '<i8' '(2,)' '\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00'
expect_status 1 "a wrong dtype" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/xi.npy" -o "$T/e"
expect_grep "input 'x' is int64 but the model declares float32" "$T/err" "the dtype error names the input"
npy "$T/x2.npy" '<f4' '(2, 1)' '\x00\x00\x80\x3f\x00\x00\x00\xc0'
expect_status 1 "a wrong rank" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/x2.npy" -o "$T/e"
expect_grep "input 'x' has rank 2" "$T/err" "the rank error names the input"
npy "$T/x3.npy" '<f4' '(3,)' '\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x00'
expect_status 1 "a wrong dim" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/x3.npy" -o "$T/e"
expect_grep "input 'x': dim 0 is 3 but the model declares 2" "$T/err" "the dim error names the input"
printf 'garbage' >"$T/bad.npy"
expect_status 1 "a malformed .npy" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/bad.npy" -o "$T/e"
expect_grep "bad.npy: not a .npy file" "$T/err" "the malformed file is named"
expect_status 1 "a missing input file" -- "$IA_CLI" run "$M/if_model.onnx" -i x="$T/nope.npy" -o "$T/e"
expect_status 2 "-i without NAME=" -- "$IA_CLI" run "$M/if_model.onnx" -i "$T/x.npy"
expect_status 2 "no MODEL" -- "$IA_CLI" run
expect_status 2 "a bad --threads" -- "$IA_CLI" run "$M/if_model.onnx" --threads zero
expect_status 1 "a missing model file" -- "$IA_CLI" run "$T/none.onnx" -i x="$T/x.npy"
expect_status 1 "a cyclic model" -- "$IA_CLI" run "$M/cyclic.onnx" -i x="$T/x.npy"
expect_grep "cycle" "$T/err" "the cycle is reported"

# Every dtype out, no inputs: .pb works; .npy has no bfloat16.
expect_status 0 "a model with every dtype as outputs" -- "$IA_CLI" run "$M/dtypes_raw.onnx" -o "$T/o7"
n=$(ls "$T/o7" | grep -c '\.pb$')
if [ "$n" -ge 13 ]; then pass "one .pb per output ($n)"; else fail "only $n .pb files"; fi
expect_status 1 "bfloat16 cannot be written as .npy" -- "$IA_CLI" run "$M/dtypes_raw.onnx" -o "$T/o8" --npy
expect_grep "bfloat16" "$T/err" "the npy error names the dtype"

# Symbolic dims (mlp: x is [batch, 4]) when MatMul has a kernel.
npy "$T/m.npy" '<f4' '(3, 4)' "$(printf '\\x00\\x00\\x80\\x3f%.0s' $(seq 12))"
"$IA_CLI" run "$M/mlp.onnx" -i x="$T/m.npy" -o "$T/o9" >"$T/out" 2>"$T/err"
if grep -q "unsupported op" "$T/err"; then
    echo "skip mlp: $(cat "$T/err")"
else
    expect_grep '^y +float32 +\[3, 2\]' "$T/out" "a symbolic batch dim binds to 3"
fi

# Output names become safe file names (needs python3-onnx to build the model).
if /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
    /usr/bin/python3 - "$T/names.onnx" <<'EOF'
import sys
from onnx import helper, TensorProto
vi = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [2])
g = helper.make_graph([helper.make_node("Identity", ["x"], ["../a/b:0"]),
                       helper.make_node("Identity", ["x"], ["../a/b;0"])],
                      "names", [vi("x")], [vi("../a/b:0"), vi("../a/b;0")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
open(sys.argv[1], "wb").write(m.SerializeToString())
EOF
    expect_status 0 "outputs with path characters in their names" -- \
        "$IA_CLI" run "$T/names.onnx" -i x="$T/x.npy" -o "$T/o10"
    if [ -f "$T/o10/_._a_b_0.pb" ] && [ -f "$T/o10/_._a_b_0_1.pb" ] && [ ! -e "$T/a" ]; then
        pass "names sanitised and kept distinct"
    else
        fail "sanitised names: $(ls "$T/o10")"
    fi
else
    echo "skip output-name sanitising: /usr/bin/python3 has no onnx"
fi

# A Reshape to an impossible size: a clear error naming the node, no crash.
/usr/bin/python3 - "$T/badreshape.onnx" <<'EOF'
import sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto, save
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
shape = numpy_helper.from_array(np.array([4], dtype=np.int64), "shape")
node = helper.make_node("Reshape", ["x", "shape"], ["y"], name="to_four")
m = helper.make_model(helper.make_graph([node], "badreshape", [x], [y], [shape]),
                      opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
save(m, sys.argv[1])
EOF
npy "$T/x6.npy" '<f4' '(6,)' '\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f'
expect_status 1 "verify: a reshape to an impossible size" -- "$IA_CLI" verify "$T/badreshape.onnx"
expect_grep "Reshape node 'to_four'" "$T/err" "verify names the Reshape node"
expect_status 1 "run: a reshape to an impossible size" -- "$IA_CLI" run "$T/badreshape.onnx" -i x="$T/x6.npy" -o "$T/e"
expect_grep "Reshape node 'to_four'" "$T/err" "run names the Reshape node"

# ---- MODEL as a CID --------------------------------------------------------------
cid1=$("$IA_CLI" add -Q "$M/if_model.onnx")
mkdir -p "$T/extsrc"
cp "$M/ext/ext_ok.onnx" "$M/ext/weights.bin" "$T/extsrc/"
cid2=$("$IA_CLI" add -r -Q "$T/extsrc")
C=$IA_HOME/cache/models
expect_status 0 "run a file CID" -- "$IA_CLI" run "$cid1" -i x="$T/x.npy" -o "$T/c1"
cmp -s "$T/c1/y.pb" "$T/o1/y.pb" && pass "file CID: same output as the path" ||
    fail "file CID: output differs from the path's"
[ -f "$C/$cid1/model.onnx" ] && pass "file CID: copied to cache/models/<cid>/model.onnx" ||
    fail "file CID: no cached model.onnx: $(ls -R "$C" 2>&1 | head)"
expect_status 0 "run a file CID again (cached copy)" -- \
    "$IA_CLI" run "$cid1" -i x="$T/x.npy" -o "$T/c1b" --json
expect_grep "\"model\": \"$cid1\"" "$T/out" "--json names the CID"
expect_no_grep "damaged" "$T/err" "an intact cached copy is used as is"
cmp -s "$T/c1b/y.pb" "$T/o1/y.pb" && pass "cached copy: same output" || fail "cached copy: output differs"

expect_status 0 "run a folder by path (external data)" -- "$IA_CLI" run "$T/extsrc/ext_ok.onnx" -o "$T/p2"
expect_status 0 "run a folder CID (external data beside the .onnx)" -- "$IA_CLI" run "$cid2" -o "$T/c2"
diff -r "$T/p2" "$T/c2" >/dev/null && [ -n "$(ls "$T/c2")" ] && pass "folder CID: same outputs as the path" ||
    fail "folder CID: outputs differ: $(ls "$T/p2" "$T/c2")"

expect_status 1 "a CID not in the store" -- \
    "$IA_CLI" run bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku -i x="$T/x.npy"
expect_grep "^ipfs-accelerate: run: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku is not in the store.*fetch.*add" \
    "$T/err" "the error says the CID is not in the store and how to bring it"
expect_status 1 "a CID-like name that is neither a file nor a CID" -- "$IA_CLI" run bafkreinotacid -i x="$T/x.npy"
expect_grep "bafkreinotacid: No such file" "$T/err" "it is reported as a missing file"

# A damaged cached copy is detected and made again from the store.
flip() { # FILE OFFSET: changes one byte
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
flip "$C/$cid2/model/weights.bin" 20
expect_status 0 "run a folder CID whose cached copy was edited" -- "$IA_CLI" run "$cid2" -o "$T/c3"
expect_grep "cache/models/$cid2: the cached copy is damaged" "$T/err" "the damage is reported"
diff -r "$T/p2" "$T/c3" >/dev/null && pass "rebuilt copy: same outputs as the path" ||
    fail "rebuilt copy: outputs differ"
cmp -s "$C/$cid2/model/weights.bin" "$M/ext/weights.bin" && pass "the cached copy was made again" ||
    fail "the cached weights are still damaged"
head -c 100 "$M/if_model.onnx" >"$C/$cid1/model.onnx"
expect_status 0 "run a file CID whose cached copy was truncated" -- \
    "$IA_CLI" run "$cid1" -i x="$T/x.npy" -o "$T/c4"
cmp -s "$T/c4/y.pb" "$T/o1/y.pb" && cmp -s "$C/$cid1/model.onnx" "$M/if_model.onnx" &&
    pass "truncated copy made again, right output" || fail "truncated copy not made again"
echo junk >"$C/$cid2/model/extra.txt"
expect_status 0 "run a folder CID whose cached copy gained a file" -- "$IA_CLI" run "$cid2" -o "$T/c5"
[ ! -e "$C/$cid2/model/extra.txt" ] && pass "the extra file is gone" || fail "extra file kept"

# Two runs at once on a CID not yet cached: both succeed, one copy results.
rm -rf "$C"
"$IA_CLI" run "$cid2" -o "$T/c6" >/dev/null 2>"$T/err6" &
p1=$!
"$IA_CLI" run "$cid2" -o "$T/c7" >/dev/null 2>"$T/err7" &
p2=$!
wait $p1 && wait $p2 && diff -r "$T/p2" "$T/c6" >/dev/null && diff -r "$T/p2" "$T/c7" >/dev/null &&
    pass "two runs at once make one copy" || fail "concurrent runs: $(cat "$T/err6" "$T/err7")"
[ "$(ls "$C")" = "$cid2" ] && pass "no temp folder left in cache/models" || fail "cache/models: $(ls -a "$C")"

# A corrupt block in the store, with no cached copy to fall back on.
wcid=$("$IA_CLI" add --only-hash -Q "$M/ext/weights.bin")
for f in "$IA_HOME"/blocks/*/*; do cmp -s "$f" "$M/ext/weights.bin" && blk=$f; done
chmod u+w "$blk"
flip "$blk" 30
rm -rf "$C"
expect_status 1 "run a CID with a corrupt block" -- "$IA_CLI" run "$cid2" -o "$T/c8"
expect_grep "run: $cid2: .*block $wcid is corrupt" "$T/err" "the corrupt block is named"
[ ! -e "$C/$cid2" ] && pass "no cached copy left after the failure" || fail "a copy was left: $(ls -R "$C")"

finish
