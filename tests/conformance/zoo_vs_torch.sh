#!/bin/bash
# Converted Hugging Face checkpoints against PyTorch.
#
# zoo_ref_models.py writes tiny checkpoints (BERT, BERT-MLM sharded over 3
# files, GPT-2 with and without KV cache, Llama with and without KV cache,
# Qwen2 in bfloat16, ViT in float16) with inputs and the outputs of a
# PyTorch forward pass written from the HF architectures. Each is converted
# with `convert`, checked with onnx.checker, run with `run`, and every
# output must match the reference within 1e-4 (abs + rel). Also: a second
# convert is served from the cache, and broken checkpoints fail naming the
# key or tensor at fault.
#
# Needs /usr/bin/python3 with torch, numpy and onnx (Debian python3-torch,
# python3-onnx).
here=$(cd "$(dirname "$0")" && pwd)
. "$IA_SOURCE_DIR/tests/e2e/lib.sh"
PY=/usr/bin/python3
if ! $PY -c 'import torch, numpy, onnx' 2>/dev/null; then
    echo "FAIL: /usr/bin/python3 cannot import torch, numpy and onnx (apt install python3-torch python3-onnx)" >&2
    exit 1
fi
if ! $PY "$here/zoo_ref_models.py" "$T/cases" >"$T/gen.log" 2>&1; then
    echo "FAIL: generating the reference cases failed:" >&2
    tail -20 "$T/gen.log" >&2
    exit 1
fi

compare() { # EXPECTED_DIR GOT_DIR
    $PY - "$1" "$2" <<'EOF'
import os, sys
import numpy as np
exp, got = sys.argv[1], sys.argv[2]
bad = 0
for f in sorted(os.listdir(exp)):
    e = np.load(os.path.join(exp, f))
    p = os.path.join(got, f)
    if not os.path.exists(p):
        print("    missing output", f); bad += 1; continue
    g = np.load(p)
    if g.shape != e.shape:
        print("    %s: shape %s, expected %s" % (f, g.shape, e.shape)); bad += 1; continue
    err = np.abs(g - e)
    tol = 1e-4 + 1e-4 * np.abs(e)
    worst = float(err.max()) if err.size else 0.0
    ok = bool(np.all(err <= tol))
    print("    %-28s max |diff| %.3g %s" % (f, worst, "ok" if ok else "OVER 1e-4"))
    bad += not ok
sys.exit(1 if bad else 0)
EOF
}

checker() { # MODEL  (checks a loaded copy: given a path, full_check writes inferred shapes back)
    $PY -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" "$1"
}

for d in "$T"/cases/*/; do
    case=$(basename "$d")
    opts=$(cat "$d/options")
    # shellcheck disable=SC2086
    expect_status 0 "$case: convert" -- "$IA_CLI" convert "$d/ckpt" -o "$T/$case.onnx" $opts
    [ -f "$T/$case.onnx" ] || continue
    if checker "$T/$case.onnx" 2>"$T/chk.err"; then pass "$case: onnx.checker"; else
        fail "$case: onnx.checker"; head -3 "$T/chk.err" >&2; fi
    args=()
    for f in "$d"/inputs/*.npy; do args+=(-i "$(basename "$f" .npy)=$f"); done
    expect_status 0 "$case: run" -- "$IA_CLI" run "$T/$case.onnx" "${args[@]}" --npy -o "$T/got_$case"
    if compare "$d/expected" "$T/got_$case"; then pass "$case: matches PyTorch within 1e-4"; else
        fail "$case: differs from PyTorch"; fi
done

# The same checkpoint again: served from the store, byte-identical.
expect_status 0 "second convert" -- "$IA_CLI" convert "$T/cases/bert/ckpt" -o "$T/again.onnx"
expect_grep '^cached' "$T/out" "second convert says it was cached"
if cmp -s "$T/bert.onnx" "$T/again.onnx"; then pass "cached model is identical"; else
    fail "cached model differs"; fi
expect_status 0 "convert --json" -- "$IA_CLI" convert "$T/cases/llama/ckpt" -o "$T/j.onnx" --json
expect_grep '"cached": true' "$T/out" "--json reports the cache hit"
expect_grep '"source_cid": "b' "$T/out" "--json reports the source CID"
$PY -c "
import onnx, sys
m = onnx.load(sys.argv[1], load_external_data=False)
p = {e.key: e.value for e in m.metadata_props}
assert p['weights'] == 'checkpoint' and p['arch'] == 'llama' and p['source_cid'].startswith('b'), p
assert p['converter_version'], p
" "$T/llama.onnx" && pass "metadata records weights, arch, source CID, converter version" ||
    fail "metadata props"
src=$("$IA_CLI" add -r -Q --only-hash "$T/cases/llama/ckpt" 2>/dev/null)
expect_grep "\"source_cid\": \"$src\"" "$T/out" "source CID equals add -r --only-hash"

# External data for a converted model.
expect_status 0 "convert --external-data" -- "$IA_CLI" convert "$T/cases/gpt2/ckpt" -o "$T/ext.onnx" --external-data --no-cache
[ -f "$T/ext.onnx.data" ] && pass "external data file written" || fail "no external data file"
args=()
for f in "$T"/cases/gpt2/inputs/*.npy; do args+=(-i "$(basename "$f" .npy)=$f"); done
expect_status 0 "run with external data" -- "$IA_CLI" run "$T/ext.onnx" "${args[@]}" --npy -o "$T/got_ext"
compare "$T/cases/gpt2/expected" "$T/got_ext" >/dev/null && pass "external-data model matches" ||
    fail "external-data model differs"

# Impossible conversions name what is at fault.
bad="$T/bad"
cp -r "$T/cases/bert/ckpt" "$bad"
$PY - "$bad/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["intermediate_size"] = 50
json.dump(c, open(sys.argv[1], "w"))
EOF
expect_status 1 "shape mismatch fails" -- "$IA_CLI" convert "$bad" -o "$T/bad.onnx" --no-cache
expect_grep "encoder.layer.0.intermediate.dense.weight' has shape \[48, 32\] but the config makes \[50, 32\]" "$T/err" "names the tensor and both shapes"
cp "$T/cases/bert/ckpt/config.json" "$bad/config.json"
$PY - "$bad/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["num_hidden_layers"] = 3
json.dump(c, open(sys.argv[1], "w"))
EOF
expect_status 1 "missing tensor fails" -- "$IA_CLI" convert "$bad" -o "$T/bad.onnx" --no-cache
expect_grep "no tensor 'encoder.layer.2" "$T/err" "names the missing tensor"
$PY - "$bad/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["num_hidden_layers"] = 2; c["hidden_size"] = "big"
json.dump(c, open(sys.argv[1], "w"))
EOF
expect_status 1 "bad config value fails" -- "$IA_CLI" convert "$bad" -o "$T/bad.onnx" --no-cache
expect_grep "key 'hidden_size' is not an integer" "$T/err" "names the config key"
$PY - "$bad/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["hidden_size"] = 32; c["model_type"] = "llava_next"
json.dump(c, open(sys.argv[1], "w"))
EOF
expect_status 1 "unbuilt family fails" -- "$IA_CLI" convert "$bad" -o "$T/bad.onnx" --no-cache
expect_grep "model_type 'llava_next'" "$T/err" "names the model_type"
[ ! -e "$T/bad.onnx" ] && pass "nothing left behind" || fail "a failed convert left a file"
finish
