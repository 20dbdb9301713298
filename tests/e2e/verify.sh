#!/usr/bin/env bash
# ipfs-accelerate verify: good models, a model with an op we have no kernel
# for, broken files and broken graphs. Every failure must be exit 1 with one
# clear line naming the tensor/node, never a crash. MODEL may be a CID in the
# store: a file, or a folder with external data.
. "$(dirname "$0")/lib.sh"
: "${IA_SOURCE_DIR:?}"
M="$IA_SOURCE_DIR/tests/models"

expect_line() { # FILE LINE DESCRIPTION: LINE appears exactly as a whole line
    if grep -qxF -- "$2" "$1"; then pass "$3"; else
        fail "$3: line not in $1: $2"; sed 's/^/    /' "$1" | head -20 >&2
    fi
}

# ---- usage -------------------------------------------------------------
expect_status 0 "verify --help" -- "$IA_CLI" verify --help
expect_grep "^Usage: ipfs-accelerate verify MODEL" "$T/out" "help shows usage"
expect_grep "or the CID of one in the store" "$T/out" "help says MODEL may be a CID"
expect_status 2 "verify without MODEL is a usage error" -- "$IA_CLI" verify
expect_status 2 "unknown option is a usage error" -- "$IA_CLI" verify --bogus "$M/mlp.onnx"

# ---- a good model: every check ok ------------------------------------
expect_status 0 "mlp: verifies" -- "$IA_CLI" verify "$M/mlp.onnx"
expect_line "$T/out" "graph:         mlp" "mlp: graph name"
expect_line "$T/out" "ir_version:    8" "mlp: IR version"
expect_line "$T/out" "opsets:        ai.onnx 17" "mlp: opsets"
expect_line "$T/out" "nodes:         5" "mlp: node count"
expect_line "$T/out" "initializers:  4 (58 params, 232 bytes)" "mlp: initializer counts"
expect_line "$T/out" "  x  float32 [batch, 4]" "mlp: input with symbolic dim"
expect_line "$T/out" "  y  float32 [batch, 2]" "mlp: output"
expect_line "$T/out" "  ok    parse          the file is an ONNX model" "mlp: parse ok"
expect_line "$T/out" "  ok    ir_version     8 (supported 3..10)" "mlp: ir ok"
expect_line "$T/out" "  ok    opset          ai.onnx 17 (supported: ai.onnx 7..21)" "mlp: opset ok"
expect_line "$T/out" "  ok    graph          topological order, defined inputs, unique names" "mlp: graph ok"
expect_line "$T/out" "  ok    initializers   4 tensors, 232 bytes" "mlp: initializers ok"
expect_line "$T/out" "  ok    external_data  none" "mlp: no external data"
expect_line "$T/out" "  ok    ops            3 op types, all supported" "mlp: ops ok"
expect_line "$T/out" "  ok    shapes         all node outputs infer" "mlp: shapes infer"
expect_line "$T/out" "result: ok" "mlp: result line"

expect_status 0 "mlp --json" -- "$IA_CLI" verify --json "$M/mlp.onnx"
if /usr/bin/python3 - "$T/out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True and r["graph"] == "mlp" and r["ir_version"] == 8
assert r["opsets"] == [{"domain": "ai.onnx", "version": 17}]
assert r["inputs"][0] == {"name": "x", "dtype": "float32", "shape": ["batch", 4]}
assert r["counts"]["nodes"] == 5 and r["counts"]["params"] == 58
st = {c["name"]: c["status"] for c in r["checks"]}
assert st["ops"] == "ok" and st["shapes"] == "ok" and st["graph"] == "ok", st
ops = {o["op_type"]: o for o in r["ops"]}
assert ops["MatMul"]["count"] == 2 and ops["MatMul"]["supported"] is True
EOF
then pass "mlp --json content"; else fail "mlp --json content"; fi

# ---- an op without a kernel: listed with domain and count ---------------
/usr/bin/python3 - "$T/custom.onnx" <<'EOF'
import sys
from onnx import helper, TensorProto, save
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
nodes = [helper.make_node("Relu", ["x"], ["h"]),
         helper.make_node("Frobnicate", ["h"], ["g"], domain="com.example"),
         helper.make_node("Frobnicate", ["g"], ["y"], domain="com.example")]
g = helper.make_graph(nodes, "custom", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
m.ir_version = 8
save(m, sys.argv[1])
EOF
expect_status 1 "custom op: fails" -- "$IA_CLI" verify "$T/custom.onnx"
expect_line "$T/out" "  FAIL  ops            1 of 2 op types have no kernel" "custom op: ops fail"
expect_line "$T/out" "        unsupported ops: Frobnicate (com.example) ×2" "custom op: listed with domain and count"
expect_line "$T/out" "  skip  shapes         not checked: other checks failed" "custom op: shapes not checked"
expect_line "$T/out" "result: FAIL (1 of 8 checks failed)" "custom op: result line"
expect_line "$T/err" "ipfs-accelerate: verify: $T/custom.onnx: unsupported ops: Frobnicate (com.example) ×2" "custom op: reason on stderr"

expect_status 0 "if_model: subgraphs see outer values" -- "$IA_CLI" verify "$M/if_model.onnx"
expect_line "$T/out" "nodes:         1 (+2 in subgraphs)" "if_model: subgraph nodes counted"
expect_line "$T/out" "  ok    graph          topological order, defined inputs, unique names" "if_model: graph ok"

expect_status 0 "ext_ok: external data fine" -- "$IA_CLI" verify "$M/ext/ext_ok.onnx"
expect_line "$T/out" "  ok    external_data  3 tensors in 1 file" "ext_ok: external data ok"

# ---- files that are not models ----------------------------------------
expect_status 1 "missing file" -- "$IA_CLI" verify "$T/nope.onnx"
expect_line "$T/err" "ipfs-accelerate: verify: model file not found: $T/nope.onnx" "missing file: exact message"
[ -s "$T/out" ] && fail "missing file: no report expected" || pass "missing file: no report"

head -c 100 "$M/mlp.onnx" >"$T/truncated.onnx"
expect_status 1 "truncated file" -- "$IA_CLI" verify "$T/truncated.onnx"
expect_line "$T/err" "ipfs-accelerate: verify: $T/truncated.onnx: not a valid ONNX model (protobuf parse failed)" "truncated: parse failure"
expect_line "$T/out" "  FAIL  parse          the file is an ONNX model" "truncated: parse check failed"

printf 'this is not a model\n\377\377\377' >"$T/garbage.onnx"
expect_status 1 "garbage file" -- "$IA_CLI" verify "$T/garbage.onnx"
expect_grep "not a valid ONNX model \(protobuf parse failed\)$" "$T/err" "garbage: parse failure"

: >"$T/empty.onnx"
expect_status 1 "empty file" -- "$IA_CLI" verify "$T/empty.onnx"
expect_line "$T/err" "ipfs-accelerate: verify: $T/empty.onnx: not a valid ONNX model (no graph)" "empty: no graph"

expect_status 1 "a directory" -- "$IA_CLI" verify "$M"
expect_grep "not a regular file" "$T/err" "directory: refused"

# Bit flips all over the file: whatever they break, the answer is a clean
# exit 1 with a reason, or exit 0 when the flip left a valid model (a byte
# of a name, say); never a crash (a sanitizer report would exit otherwise).
size=$(stat -c %s "$M/mlp.onnx")
flips_ok=1
for off in 0 1 2 3 5 8 13 21 34 55 89 144 233 377 $((size - 3)) $((size - 1)); do
    for bit in 1 16 128; do
        cp "$M/mlp.onnx" "$T/flip.onnx"
        orig=$(od -An -tu1 -j "$off" -N1 "$T/flip.onnx" | tr -d ' ')
        printf "$(printf '\\%03o' $((orig ^ bit)))" |
            dd of="$T/flip.onnx" bs=1 seek="$off" conv=notrunc status=none
        "$IA_CLI" verify "$T/flip.onnx" >"$T/out" 2>"$T/err"
        rc=$?
        if [ "$rc" -eq 0 ] && grep -qx "result: ok" "$T/out"; then continue; fi
        if [ "$rc" -ne 1 ] || ! grep -q "^ipfs-accelerate: verify: " "$T/err"; then
            flips_ok=0
            fail "bit flip at byte $off (^$bit): exit $rc"
            head -5 "$T/err" >&2
        fi
    done
done
[ "$flips_ok" -eq 1 ] && pass "bit-flipped files: exit 1 with a reason or a valid model, no crash"

# ---- broken graphs and tensors -----------------------------------------
check_broken() { # FILE REASON: exit 1 and REASON as the stderr line
    expect_status 1 "$1 fails" -- "$IA_CLI" verify "$M/$1"
    expect_line "$T/err" "ipfs-accelerate: verify: $M/$1: $2" "$1: reason"
}
check_broken cyclic.onnx "node 'add_a' (Add): input 'c' comes from node 'relu_c' (Relu), which is later in the graph (a cycle)"
check_broken out_of_order.onnx "node 'second' (Relu): input 'a' comes from node 'first' (Neg), which is later in the graph (nodes not in topological order)"
check_broken undefined_input.onnx "node 'add' (Add): input 'ghost' is not defined (no earlier node, initializer or graph input produces it)"
check_broken duplicate_names.onnx "initializer 'b' is defined twice"
check_broken duplicate_names.onnx "node 'n2' (Neg): output 'h' is already defined by node 'n1' (Relu)"
check_broken big_claim.onnx "initializer 'W': raw_data has 12 bytes but float32[1000] needs 4000"
check_broken overflow_dims.onnx "initializer 'W': dims [4611686018427387904, 4611686018427387904] overflow: the element count exceeds 2^64"
check_broken bad_versions.onnx "ir_version 2 is outside the supported range 3..10"
check_broken bad_versions.onnx "ai.onnx opset 25 is outside the supported range 7..21"
check_broken ext/ext_escape.onnx "initializer 'W': external data location '../mlp.onnx' leaves the model's folder"
check_broken ext/ext_abs.onnx "initializer 'W': external data location '/etc/hostname' is an absolute path (must be inside the model's folder)"
check_broken ext/ext_short.onnx "initializer 'W': external data 'weights.bin' is too short: float32[100000] needs 400000 bytes at offset 0, the file has 4160"
check_broken ext/ext_offset.onnx "initializer 'W': external data offset 5000 is past the end of 'weights.bin' (4160 bytes)"
check_broken ext/ext_missing.onnx "initializer 'W': external data file 'nope.bin' not found"

# A symlink inside the folder that points outside it.
mkdir -p "$T/linkdir"
cp "$M/ext/ext_link.onnx" "$T/linkdir/"
ln -s "$M/ext/weights.bin" "$T/linkdir/link.bin"
expect_status 1 "external data symlink leaving the folder" -- "$IA_CLI" verify "$T/linkdir/ext_link.onnx"
expect_line "$T/err" "ipfs-accelerate: verify: $T/linkdir/ext_link.onnx: initializer 'W': external data 'link.bin' resolves outside the model's folder" "symlink: refused"

# ---- MODEL as a CID ------------------------------------------------------------
C=$IA_HOME/cache/models
same_report() { # PATH_OUT CID_OUT DESCRIPTION: equal but for the model:/file: lines
    if diff <(grep -vE '^(model|file): ' "$1") <(grep -vE '^(model|file): ' "$2") >/dev/null; then
        pass "$3"
    else
        fail "$3"; diff "$1" "$2" | head -10 >&2
    fi
}
cid1=$("$IA_CLI" add -Q "$M/mlp.onnx")
"$IA_CLI" verify "$M/mlp.onnx" >"$T/by_path" 2>&1
expect_status 0 "verify a file CID" -- "$IA_CLI" verify "$cid1"
expect_line "$T/out" "model:         $cid1" "file CID: the model line names the CID"
expect_line "$T/out" "file:          $C/$cid1/model.onnx" "file CID: the file line names the copy"
same_report "$T/by_path" "$T/out" "file CID: same report as the path"
expect_status 0 "verify a file CID --json" -- "$IA_CLI" verify --json "$cid1"
if /usr/bin/python3 - "$T/out" "$cid1" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["model"] == sys.argv[2] and r["file"].endswith("/model.onnx") and r["ok"] is True, r
EOF2
then pass "--json names the CID and the copy"; else fail "--json names the CID and the copy"; fi

mkdir -p "$T/extsrc"
cp "$M/ext/ext_ok.onnx" "$M/ext/weights.bin" "$T/extsrc/"
cid2=$("$IA_CLI" add -r -Q "$T/extsrc")
"$IA_CLI" verify "$T/extsrc/ext_ok.onnx" >"$T/by_path" 2>&1
expect_status 0 "verify a folder CID with external data" -- "$IA_CLI" verify "$cid2"
expect_line "$T/out" "  ok    external_data  3 tensors in 1 file" "folder CID: external data resolves"
same_report "$T/by_path" "$T/out" "folder CID: same report as the path"

expect_status 1 "verify a CID not in the store" -- \
    "$IA_CLI" verify bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
expect_grep "^ipfs-accelerate: verify: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku is not in the store.*fetch.*add" \
    "$T/err" "the error says the CID is not in the store and how to bring it"
[ -s "$T/out" ] && fail "CID not in the store: no report expected" || pass "CID not in the store: no report"

mkdir -p "$T/two" "$T/none"
cp "$M/mlp.onnx" "$T/two/a.onnx"
cp "$M/if_model.onnx" "$T/two/b.onnx"
cp "$M/ext/weights.bin" "$T/none/"
expect_status 1 "a folder CID with two .onnx files" -- "$IA_CLI" verify "$("$IA_CLI" add -r -Q "$T/two")"
expect_grep "2 .onnx files \((a.onnx, b.onnx|b.onnx, a.onnx)\); give the path of one, under .*/model" "$T/err" \
    "the .onnx files and the folder are named"
expect_status 1 "a folder CID with no .onnx file" -- "$IA_CLI" verify "$("$IA_CLI" add -r -Q "$T/none")"
expect_grep "no .onnx file" "$T/err" "the missing .onnx is reported"

# A damaged cached copy is made again from the store.
printf 'XXXX' | dd of="$C/$cid2/model/weights.bin" bs=1 seek=8 conv=notrunc status=none
expect_status 0 "verify a folder CID whose cached copy was edited" -- "$IA_CLI" verify "$cid2"
expect_grep "cache/models/$cid2: the cached copy is damaged" "$T/err" "the damage is reported"
same_report "$T/by_path" "$T/out" "rebuilt copy: same report as the path"
cmp -s "$C/$cid2/model/weights.bin" "$M/ext/weights.bin" && pass "the cached copy was made again" ||
    fail "the cached weights are still damaged"

# A corrupt block in the store: a verified copy still serves, none fails.
wcid=$("$IA_CLI" add --only-hash -Q "$M/ext/weights.bin")
for f in "$IA_HOME"/blocks/*/*; do cmp -s "$f" "$M/ext/weights.bin" && blk=$f; done
chmod u+w "$blk"
printf 'XXXX' | dd of="$blk" bs=1 seek=40 conv=notrunc status=none
expect_status 0 "an intact cached copy still verifies with a corrupt block in the store" -- \
    "$IA_CLI" verify "$cid2"
rm -rf "$C"
expect_status 1 "verify a CID with a corrupt block and no copy" -- "$IA_CLI" verify "$cid2"
expect_grep "verify: $cid2: .*block $wcid is corrupt" "$T/err" "the corrupt block is named"
[ ! -e "$C/$cid2" ] && pass "no cached copy left after the failure" || fail "a copy was left"

finish
