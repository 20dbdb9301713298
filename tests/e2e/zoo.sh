#!/bin/bash
# zoo list / zoo build / zoo inputs / convert through the CLI: every built
# family at preset tiny is built, verified and run on generated inputs;
# usage errors exit 2, impossible builds exit 1.
. "$IA_SOURCE_DIR/tests/e2e/lib.sh"
cli=$IA_CLI

expect_status 0 "zoo list" -- "$cli" zoo list
for f in bert gpt2 llama qwen2 vit; do expect_grep "^$f +built" "$T/out" "list: $f is built"; done
for f in detr xclip llava clap; do expect_grep "^$f +built" "$T/out" "list: $f is built"; done
for f in t5 clip whisper wav2vec2; do expect_grep "^$f +built" "$T/out" "list: $f is built"; done
for f in llava_next; do
    expect_grep "^$f +todo" "$T/out" "list: $f is marked not built yet"
done
expect_grep "109482240" "$T/out" "list: bert-base has bert-base-uncased's parameter count"
cp "$T/out" "$T/list_out"
expect_status 0 "zoo list --json" -- "$cli" zoo list --json
expect_grep '"implemented": false' "$T/out" "list --json marks unbuilt families"

run_model() { # NAME MODEL [inputs options...]
    local name=$1 model=$2
    shift 2
    expect_status 0 "$name: verify" -- "$cli" verify "$model"
    expect_status 0 "$name: zoo inputs" -- "$cli" -q zoo inputs "$model" -o "$T/in_$name" "$@"
    local args=() x n
    for x in "$T/in_$name"/*; do n=$(basename "$x"); args+=(-i "${n%.*}=$x"); done
    expect_status 0 "$name: run" -- "$cli" run "$model" "${args[@]}" -o "$T/out_$name"
}

for f in bert gpt2 llama qwen2 vit; do
    expect_status 0 "build $f tiny" -- "$cli" zoo build "$f" --preset tiny -o "$T/$f.onnx"
    expect_grep "synthetic" "$T/out" "$f: says the weights are synthetic"
    run_model "$f" "$T/$f.onnx"
done
# DETR, X-CLIP, LLaVA, CLAP: build, verify, run at tiny.
for f in detr xclip llava clap; do
    expect_status 0 "build $f tiny" -- "$cli" zoo build "$f" --preset tiny -o "$T/$f.onnx"
    run_model "$f" "$T/$f.onnx" --batch 2 --seq 5
done
[ -f "$T/out_detr/pred_boxes.pb" ] && pass "detr: pred_boxes written" || fail "detr: no pred_boxes"
[ -f "$T/out_xclip/logits_per_text.pb" ] && pass "xclip: logits_per_text written" ||
    fail "xclip: no logits_per_text"
[ -f "$T/out_clap/logits_per_audio.pb" ] && pass "clap: logits_per_audio written" ||
    fail "clap: no logits_per_audio"
expect_status 1 "clap: a fused model (enable_fusion) is refused" -- "$cli" zoo build clap \
    --set 'audio_config={"enable_fusion": true}' -o "$T/x.onnx"
expect_grep "enable_fusion" "$T/err" "names enable_fusion"
# T5, CLIP, Whisper, wav2vec 2.0: build, verify, run at tiny.
for f in t5 clip whisper wav2vec2; do
    expect_status 0 "build $f tiny" -- "$cli" zoo build "$f" --preset tiny -o "$T/$f.onnx"
    run_model "$f" "$T/$f.onnx" --batch 2 --seq 5
done
expect_grep "60506624" "$T/list_out" "list: t5-small has t5-small's parameter count"
expect_grep "151277313" "$T/list_out" "list: clip-small has clip-vit-base-patch32's parameter count"
for x in t5/logits t5/encoder_last_hidden_state clip/logits_per_image clip/text_embeds \
    whisper/logits wav2vec2/last_hidden_state; do
    [ -f "$T/out_${x%%/*}/${x#*/}.pb" ] && pass "${x%%/*}: ${x#*/} written" || fail "${x%%/*}: no ${x#*/}"
done
expect_status 1 "t5 --with-past is refused" -- "$cli" zoo build t5 --with-past -o "$T/x.onnx"
[ -f "$T/out_bert/pooler_output.pb" ] && pass "bert: pooler_output written" || fail "bert: no pooler_output"
[ -f "$T/out_vit/last_hidden_state.pb" ] && pass "vit: last_hidden_state written" || fail "vit: no output"

for f in gpt2 llama qwen2; do
    expect_status 0 "build $f --with-past" -- "$cli" zoo build "$f" --with-past -o "$T/${f}_past.onnx"
    run_model "${f}_past" "$T/${f}_past.onnx" --past 3 --seq 1
    [ -f "$T/out_${f}_past/present.1.value.pb" ] && pass "$f: present.1.value written" ||
        fail "$f: no present outputs"
done

expect_status 0 "ARCH-PRESET form and --set" -- "$cli" zoo build bert-tiny \
    --set num_hidden_layers=1 --set 'architectures=["BertForMaskedLM"]' -o "$T/mlm.onnx" --json
expect_grep '"n_params": ' "$T/out" "build --json prints the parameter count"
run_model mlm "$T/mlm.onnx"
[ -f "$T/out_mlm/logits.pb" ] && pass "mlm: logits written" || fail "mlm: no logits"

expect_status 0 "build with external data" -- "$cli" zoo build vit --external-data -o "$T/ext.onnx"
[ -s "$T/ext.onnx.data" ] && pass "external data file written" || fail "no external data file"
run_model ext "$T/ext.onnx" --npy

expect_status 0 "same seed, same bytes" -- "$cli" -q zoo build llama --seed 7 -o "$T/s1.onnx"
"$cli" -q zoo build llama --seed 7 -o "$T/s2.onnx"
cmp -s "$T/s1.onnx" "$T/s2.onnx" && pass "builds are reproducible" || fail "builds differ"

# usage errors (2) and impossible builds (1)
expect_status 2 "zoo without subcommand" -- "$cli" zoo
expect_status 2 "zoo unknown subcommand" -- "$cli" zoo frobnicate
expect_status 2 "build without ARCH" -- "$cli" zoo build -o "$T/x.onnx"
expect_status 2 "build without -o" -- "$cli" zoo build bert
expect_status 2 "build unknown ARCH" -- "$cli" zoo build nosuch -o "$T/x.onnx"
expect_status 2 "build unknown preset" -- "$cli" zoo build bert --preset huge -o "$T/x.onnx"
expect_status 2 "--set without =" -- "$cli" zoo build bert --set hidden_size -o "$T/x.onnx"
expect_status 2 "unknown option" -- "$cli" zoo build bert --bogus -o "$T/x.onnx"
expect_status 1 "unbuilt family" -- "$cli" zoo build llava_next -o "$T/x.onnx"
expect_grep "does not build yet" "$T/err" "says llava_next is not built yet"
expect_status 1 "--with-past on an encoder" -- "$cli" zoo build bert --with-past -o "$T/x.onnx"
expect_status 1 "bad config value" -- "$cli" zoo build llama --set num_key_value_heads=3 -o "$T/x.onnx"
expect_grep "num_key_value_heads" "$T/err" "names the config key"
[ ! -e "$T/x.onnx" ] && pass "failed builds leave no file" || fail "a failed build left a file"
expect_status 2 "convert without HF_DIR" -- "$cli" convert -o "$T/x.onnx"
expect_status 2 "convert without -o" -- "$cli" convert "$T"
expect_status 1 "convert of a folder without config.json" -- "$cli" convert "$T/in_bert" -o "$T/x.onnx"
expect_grep "config.json" "$T/err" "names config.json"
expect_status 0 "zoo --help" -- "$cli" zoo --help
expect_status 0 "convert --help" -- "$cli" convert --help
finish
