/* zoo: HF configs, checkpoints, the graph builder and the architectures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"
#include "ia/zoo.h"

static char tmp[64];

static void mktmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/ia_zoo_XXXXXX");
    if (!mkdtemp(tmp)) abort();
}

static void rmtree(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

static void test_config(void) {
    const char *j = "{\"hidden_size\": 64, \"eps\": 1e-6, \"name\": \"x\", \"flag\": true,"
                    " \"none\": null, \"id2label\": {\"0\": \"a\", \"1\": \"b\"}, \"f\": 3.0}";
    struct ia_hf_config *c;
    REQUIRE(ia_hf_config_parse(j, strlen(j), "cfg", &c) == IA_OK);
    int64_t v;
    double d;
    const char *s;
    int b;
    CHECK(ia_hf_config_int(c, "hidden_size", &v) == IA_OK && v == 64);
    CHECK(ia_hf_config_int(c, "f", &v) == IA_OK && v == 3);
    CHECK(ia_hf_config_float(c, "eps", &d) == IA_OK && d == 1e-6);
    CHECK(ia_hf_config_str_or(c, "name", NULL, &s) == IA_OK && !strcmp(s, "x"));
    CHECK(ia_hf_config_bool_or(c, "flag", 0, &b) == IA_OK && b == 1);
    CHECK_EQ_INT(ia_hf_config_int(c, "none", &v), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "'none'") != NULL);
    CHECK_EQ_INT(ia_hf_config_int(c, "name", &v), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "'name' is not an integer") != NULL);
    CHECK(ia_hf_config_int_or(c, "missing", 7, &v) == IA_OK && v == 7);
    CHECK_EQ_INT(ia_hf_config_len(c, "id2label"), 2);
    CHECK(ia_hf_config_set(c, "hidden_size", "128") == IA_OK);
    CHECK(ia_hf_config_int(c, "hidden_size", &v) == IA_OK && v == 128);
    CHECK(ia_hf_config_set(c, "act", "gelu") == IA_OK); /* not JSON: a string */
    CHECK(ia_hf_config_str_or(c, "act", NULL, &s) == IA_OK && !strcmp(s, "gelu"));
    CHECK(ia_hf_config_set(c, "architectures", "[\"BertForMaskedLM\"]") == IA_OK);
    CHECK_EQ_STR(ia_hf_config_architecture(c), "BertForMaskedLM");
    ia_hf_config_free(c);
    CHECK_EQ_INT(ia_hf_config_parse("[1]", 3, "cfg", &c), IA_EFORMAT);
    CHECK_EQ_INT(ia_hf_config_parse("{\"a\":1,\"a\":2}", 13, "cfg", &c), IA_EFORMAT);
}

static void write_file(const char *name, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static void test_checkpoint_sharded(void) {
    mktmp();
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    int64_t d4[1] = {4}, d2[1] = {2};
    struct ia_st_entry e1 = {"a", IA_DTYPE_FLOAT32, 1, d4, a}, e2 = {"b", IA_DTYPE_FLOAT32, 1, d2, b};
    char p[256];
    snprintf(p, sizeof p, "%s/s1.safetensors", tmp);
    REQUIRE(ia_safetensors_write(p, &e1, 1, NULL, 0) == IA_OK);
    snprintf(p, sizeof p, "%s/s2.safetensors", tmp);
    REQUIRE(ia_safetensors_write(p, &e2, 1, NULL, 0) == IA_OK);
    write_file("model.safetensors.index.json",
               "{\"metadata\":{},\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
    struct ia_hf_checkpoint *ck;
    REQUIRE(ia_hf_checkpoint_open(tmp, &ck) == IA_OK);
    CHECK_EQ_INT(ia_hf_checkpoint_n_files(ck), 2);
    CHECK_EQ_INT(ia_hf_checkpoint_n_tensors(ck), 2);
    const char *file;
    const struct ia_st_tensor *t = ia_hf_checkpoint_find(ck, "b", &file);
    CHECK(t && t->numel == 2 && strstr(file, "s2.safetensors"));
    CHECK(ia_hf_checkpoint_find(ck, "c", NULL) == NULL);
    ia_hf_checkpoint_close(ck);
    /* a mapped tensor that is not in its shard */
    write_file("model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
    CHECK_EQ_INT(ia_hf_checkpoint_open(tmp, &ck), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "'b' is not in its shard") != NULL);
    /* a shard name that leaves the folder */
    write_file("model.safetensors.index.json", "{\"weight_map\":{\"a\":\"../s1.safetensors\"}}");
    CHECK_EQ_INT(ia_hf_checkpoint_open(tmp, &ck), IA_EFORMAT);
    /* a missing shard */
    write_file("model.safetensors.index.json", "{\"weight_map\":{\"a\":\"s9.safetensors\"}}");
    CHECK_EQ_INT(ia_hf_checkpoint_open(tmp, &ck), IA_ENOTFOUND);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", tmp);
    unlink(p);
    /* only a pickle */
    write_file("pytorch_model.bin", "x");
    CHECK_EQ_INT(ia_hf_checkpoint_open(tmp, &ck), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "pytorch_model.bin") != NULL);
    rmtree();
}

static int build_tiny(const char *arch, const char *path, const char *set_key,
                      const char *set_val, struct ia_zoo_opts *o) {
    const struct ia_zoo_arch *a = ia_zoo_arch_find(arch);
    if (!a) return IA_ENOTFOUND;
    struct ia_hf_config *cfg;
    int rc = ia_zoo_preset_config(a, "tiny", &cfg);
    if (rc) return rc;
    if (set_key) ia_hf_config_set(cfg, set_key, set_val);
    struct ia_zoo_result res;
    rc = ia_zoo_build(a, cfg, o, path, &res);
    ia_hf_config_free(cfg);
    return rc;
}

static const char *prop(const struct ia_model *m, const char *key) {
    for (size_t i = 0; i < m->n_props; i++)
        if (!strcmp(m->props[i].key, key)) return m->props[i].value;
    return NULL;
}

/* Loads, verifies with the engine and runs once on sample inputs. */
static void check_runs_seq(const char *path, int64_t past, int64_t seq) {
    struct ia_verify_report r;
    struct ia_model *m = NULL;
    REQUIRE(ia_onnx_verify_file(path, ia_engine_verify_opts(), &r, &m) == IA_OK);
    CHECK(r.ok);
    ia_verify_report_free(&r);
    REQUIRE(m);
    CHECK_EQ_STR(prop(m, "weights"), "synthetic");
    CHECK(prop(m, "arch") && prop(m, "converter_version"));
    struct ia_tensor **in;
    size_t n;
    struct ia_zoo_sample_opts so = {.batch = 2, .seq = seq, .past = past};
    REQUIRE(ia_zoo_sample_inputs(m, &so, &in, &n) == IA_OK);
    struct ia_session *s;
    int rc = ia_session_create(m, NULL, &s);
    CHECK(rc == IA_OK);
    if (rc == IA_OK) {
        const char *names[64];
        for (size_t i = 0; i < n; i++) names[i] = in[i]->name;
        struct ia_tensor *const *outs;
        rc = ia_session_run(s, n, names, (const struct ia_tensor *const *)in,
                            ia_session_n_outputs(s), &outs);
        if (rc) fprintf(stderr, "%s: %s\n", path, ia_error_msg());
        CHECK(rc == IA_OK);
        if (rc == IA_OK) CHECK_EQ_INT(outs[0]->dims[0], 2);
        ia_session_destroy(s);
    }
    for (size_t i = 0; i < n; i++) ia_tensor_io_free(in[i]);
    ia_free(in);
    ia_model_free(m);
}

static void check_runs(const char *path, int64_t past) { check_runs_seq(path, past, 3); }

static void test_build_all(void) {
    mktmp();
    const char *archs[] = {"bert", "gpt2", "llama", "qwen2", "vit"};
    for (size_t i = 0; i < 5; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s.onnx", tmp, archs[i]);
        struct ia_zoo_opts o = {.preset = "tiny"};
        int rc = build_tiny(archs[i], p, NULL, NULL, &o);
        if (rc) fprintf(stderr, "%s: %s\n", archs[i], ia_error_msg());
        CHECK(rc == IA_OK);
        if (!rc) check_runs(p, 0);
        if (i >= 1 && i <= 3) {
            snprintf(p, sizeof p, "%s/%s_past.onnx", tmp, archs[i]);
            o.build.with_past = 1;
            CHECK(build_tiny(archs[i], p, NULL, NULL, &o) == IA_OK);
            check_runs(p, 2);
        }
    }
    char p[256];
    snprintf(p, sizeof p, "%s/mlm.onnx", tmp);
    struct ia_zoo_opts o = {0};
    CHECK(build_tiny("bert", p, "architectures", "[\"BertForMaskedLM\"]", &o) == IA_OK);
    check_runs(p, 0);
    snprintf(p, sizeof p, "%s/vitc.onnx", tmp);
    CHECK(build_tiny("vit", p, "architectures", "[\"ViTForImageClassification\"]", &o) == IA_OK);
    check_runs(p, 0);
    /* --with-past on an encoder is refused */
    o.build.with_past = 1;
    CHECK_EQ_INT(build_tiny("bert", p, NULL, NULL, &o), IA_EUNSUPPORTED);
    rmtree();
}

static int same_file(const char *a, const char *b) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void test_deterministic_and_external(void) {
    mktmp();
    char a[256], b[256], c[256], e[256], data[256];
    snprintf(a, sizeof a, "%s/a.onnx", tmp);
    snprintf(b, sizeof b, "%s/b.onnx", tmp);
    snprintf(c, sizeof c, "%s/c.onnx", tmp);
    snprintf(e, sizeof e, "%s/e.onnx", tmp);
    snprintf(data, sizeof data, "%s/e.onnx.data", tmp);
    struct ia_zoo_opts o = {.seed = 1};
    REQUIRE(build_tiny("llama", a, NULL, NULL, &o) == IA_OK);
    REQUIRE(build_tiny("llama", b, NULL, NULL, &o) == IA_OK);
    CHECK(same_file(a, b));
    o.seed = 2;
    REQUIRE(build_tiny("llama", c, NULL, NULL, &o) == IA_OK);
    CHECK(!same_file(a, c));
    o.external_threshold = 1;
    REQUIRE(build_tiny("llama", e, NULL, NULL, &o) == IA_OK);
    struct stat sb;
    CHECK(stat(data, &sb) == 0 && sb.st_size > 200000);
    check_runs(e, 0);
    rmtree();
}

static void test_bad_configs(void) {
    mktmp();
    char p[256];
    snprintf(p, sizeof p, "%s/x.onnx", tmp);
    struct ia_zoo_opts o = {0};
    CHECK_EQ_INT(build_tiny("llama", p, "num_key_value_heads", "3", &o), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "num_key_value_heads") != NULL);
    CHECK_EQ_INT(build_tiny("llama", p, "rope_scaling", "{\"type\":\"linear\",\"factor\":2}", &o),
                 IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "rope_scaling") != NULL);
    CHECK_EQ_INT(build_tiny("bert", p, "hidden_size", "\"wide\"", &o), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "hidden_size") != NULL);
    CHECK_EQ_INT(build_tiny("gpt2", p, "n_layer", "0", &o), IA_ERANGE);
    CHECK(strstr(ia_error_msg(), "n_layer") != NULL);
    CHECK_EQ_INT(build_tiny("vit", p, "patch_size", "5", &o), IA_EINVAL);
    CHECK_EQ_INT(build_tiny("bert", p, "hidden_act", "\"mystery\"", &o), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "mystery") != NULL);
    CHECK(access(p, F_OK) != 0);
    /* families listed but not built */
    const struct ia_zoo_arch *w = ia_zoo_arch_find("llava_next");
    REQUIRE(w);
    CHECK(!w->implemented);
    struct ia_hf_config *cfg;
    CHECK_EQ_INT(ia_zoo_preset_config(w, "tiny", &cfg), IA_EUNSUPPORTED);
    const char *j = "{\"model_type\":\"llava_next\"}";
    REQUIRE(ia_hf_config_parse(j, strlen(j), "config.json", &cfg) == IA_OK);
    CHECK(ia_zoo_arch_for_config(cfg) == NULL);
    CHECK(strstr(ia_error_msg(), "llava_next") != NULL);
    ia_hf_config_free(cfg);
    CHECK_EQ_INT(ia_zoo_n_archs(), 14);
    rmtree();
}

/* ---- t5, clip, whisper, wav2vec2 ---------------------------------------------------- */

/* Parameters of a preset counted by a dry run (no weights made). */
static uint64_t preset_params(const char *arch, const char *preset) {
    const struct ia_zoo_arch *a = ia_zoo_arch_find(arch);
    struct ia_hf_config *cfg = NULL;
    struct ia_zb *g = NULL;
    struct ia_zb_opts zo = {.dry_run = 1};
    struct ia_zoo_build_opts bo = {0};
    uint64_t n = 0;
    if (a && ia_zoo_preset_config(a, preset, &cfg) == IA_OK && ia_zb_create(&zo, &g) == IA_OK &&
        a->build(g, cfg, &bo) == IA_OK)
        n = ia_zb_n_params(g);
    else
        fprintf(stderr, "%s-%s: %s\n", arch, preset, g ? ia_zb_errmsg(g) : ia_error_msg());
    ia_zb_destroy(g);
    ia_hf_config_free(cfg);
    return n;
}

static void test_build_speech_and_t5(void) {
    mktmp();
    struct {
        const char *arch, *key, *val;
    } cases[] = {
        {"t5", NULL, NULL},
        {"t5", "architectures", "[\"T5Model\"]"},
        {"t5", "architectures", "[\"T5EncoderModel\"]"},
        {"t5", "feed_forward_proj", "gated-gelu"},
        {"clip", NULL, NULL},
        {"clip", "projection_dim", "16"},
        {"whisper", NULL, NULL},
        {"whisper", "architectures", "[\"WhisperModel\"]"},
        {"wav2vec2", NULL, NULL}, /* input_values: 16000 samples (ia_zoo_sample_inputs) */
        {"wav2vec2", "feat_extract_norm", "layer"},
        {"wav2vec2", "do_stable_layer_norm", "true"},
        {"wav2vec2", "num_conv_pos_embeddings", "7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s_%zu.onnx", tmp, cases[i].arch, i);
        struct ia_zoo_opts o = {.preset = "tiny"};
        int rc = build_tiny(cases[i].arch, p, cases[i].key, cases[i].val, &o);
        if (rc) fprintf(stderr, "%s %s: %s\n", cases[i].arch, cases[i].val ? cases[i].val : "",
                        ia_error_msg());
        CHECK(rc == IA_OK);
        if (!rc) check_runs(p, 0);
    }
    /* Wav2Vec2ForCTC wants a vocabulary size. */
    char p[256];
    snprintf(p, sizeof p, "%s/ctc.onnx", tmp);
    struct ia_zoo_opts o = {0};
    CHECK_EQ_INT(build_tiny("wav2vec2", p, "architectures", "[\"Wav2Vec2ForCTC\"]", &o),
                 IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "vocab_size") != NULL);
    /* Bad configs name the key. */
    CHECK_EQ_INT(build_tiny("t5", p, "relative_attention_max_distance", "10", &o), IA_ERANGE);
    CHECK(strstr(ia_error_msg(), "relative_attention_max_distance") != NULL);
    CHECK_EQ_INT(build_tiny("t5", p, "feed_forward_proj", "gated-mystery", &o), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "mystery") != NULL);
    CHECK_EQ_INT(build_tiny("clip", p, "text_config", "[1, 2]", &o), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "text_config") != NULL);
    CHECK_EQ_INT(build_tiny("clip", p, "vision_config", "{\"patch_size\": 5, \"image_size\": 32}",
                            &o), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "vision_config") != NULL);
    CHECK_EQ_INT(build_tiny("whisper", p, "decoder_attention_heads", "3", &o), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "decoder_attention_heads") != NULL);
    CHECK_EQ_INT(build_tiny("wav2vec2", p, "conv_kernel", "[10, 3]", &o), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "conv_kernel") != NULL);
    CHECK_EQ_INT(build_tiny("wav2vec2", p, "conv_stride", "[5, \"2\", 2]", &o), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "conv_stride") != NULL);
    CHECK_EQ_INT(build_tiny("wav2vec2", p, "feat_extract_norm", "batch", &o), IA_EUNSUPPORTED);
    /* No KV cache for these yet. */
    o.build.with_past = 1;
    CHECK_EQ_INT(build_tiny("t5", p, NULL, NULL, &o), IA_EUNSUPPORTED);
    CHECK_EQ_INT(build_tiny("whisper", p, NULL, NULL, &o), IA_EUNSUPPORTED);
    CHECK(access(p, F_OK) != 0);
    rmtree();
}

static void test_presets_and_helpers(void) {
    /* Parameter counts of the public sizes, as HF's num_parameters() gives
     * them (tied embeddings counted once). */
    CHECK_EQ_INT(preset_params("t5", "small"), 60506624);
    CHECK_EQ_INT(preset_params("clip", "small"), 151277313);
    CHECK_EQ_INT(preset_params("whisper", "small"), 37760640);
    const char *archs[] = {"t5", "clip", "whisper", "wav2vec2"};
    for (size_t i = 0; i < 4; i++) {
        CHECK(preset_params(archs[i], "tiny") > 0);
        CHECK(preset_params(archs[i], "small") > preset_params(archs[i], "tiny"));
        CHECK(preset_params(archs[i], "base") > preset_params(archs[i], "tiny"));
    }
    /* T5 buckets (32 buckets, max distance 128), as HF computes them. */
    CHECK_EQ_INT(ia_zb_t5_bucket(0, 1, 32, 128), 0);
    CHECK_EQ_INT(ia_zb_t5_bucket(3, 1, 32, 128), 19);
    CHECK_EQ_INT(ia_zb_t5_bucket(-20, 1, 32, 128), 10);
    CHECK_EQ_INT(ia_zb_t5_bucket(20, 1, 32, 128), 26);
    CHECK_EQ_INT(ia_zb_t5_bucket(-15, 1, 32, 128), 9);
    CHECK_EQ_INT(ia_zb_t5_bucket(-16, 1, 32, 128), 10); /* exactly 2.0 before truncation */
    CHECK_EQ_INT(ia_zb_t5_bucket(1000, 1, 32, 128), 31);
    CHECK_EQ_INT(ia_zb_t5_bucket(5, 0, 32, 128), 0);
    CHECK_EQ_INT(ia_zb_t5_bucket(-20, 0, 32, 128), 17);
    CHECK_EQ_INT(ia_zb_t5_bucket(-1000, 0, 32, 128), 31);
    /* Nested configs and config arrays. */
    const char *j = "{\"text_config\": {\"hidden_size\": 8}, \"v\": [1, 2.5], \"n\": null}";
    struct ia_hf_config *c, *sub;
    REQUIRE(ia_hf_config_parse(j, strlen(j), "cfg", &c) == IA_OK);
    int64_t v;
    REQUIRE(ia_hf_config_sub(c, "text_config", &sub) == IA_OK);
    CHECK(ia_hf_config_int(sub, "hidden_size", &v) == IA_OK && v == 8);
    CHECK_EQ_INT(ia_hf_config_int(sub, "vocab_size", &v), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "cfg: text_config: missing key 'vocab_size'") != NULL);
    ia_hf_config_free(sub);
    REQUIRE(ia_hf_config_sub(c, "n", &sub) == IA_OK); /* null: HF's defaults */
    CHECK(!ia_hf_config_has(sub, "hidden_size"));
    ia_hf_config_free(sub);
    CHECK_EQ_INT(ia_hf_config_sub(c, "v", &sub), IA_EFORMAT);
    CHECK(ia_hf_config_int_at(c, "v", 0, &v) == IA_OK && v == 1);
    CHECK_EQ_INT(ia_hf_config_int_at(c, "v", 1, &v), IA_EFORMAT);
    CHECK_EQ_INT(ia_hf_config_int_at(c, "v", 2, &v), IA_ENOTFOUND);
    CHECK_EQ_INT(ia_hf_config_int_at(c, "text_config", 0, &v), IA_EFORMAT);
    ia_hf_config_free(c);
}

/* ---- detr, xclip, llava, clap ------------------------------------------------------ */

/* A CLAP tower alone: the tiny ClapModel's text_config or audio_config with
 * `arch` and one key set. */
static int build_clap_sub(const char *key, const char *arch, const char *set_key,
                          const char *set_val, const char *path) {
    const struct ia_zoo_arch *a = ia_zoo_arch_find("clap");
    struct ia_hf_config *cfg = NULL, *sub = NULL;
    int rc = a ? ia_zoo_preset_config(a, "tiny", &cfg) : IA_ENOTFOUND;
    if (!rc) rc = ia_hf_config_sub(cfg, key, &sub);
    if (!rc) rc = ia_hf_config_set(sub, "architectures", arch);
    if (!rc && set_key) rc = ia_hf_config_set(sub, set_key, set_val);
    struct ia_zoo_result res;
    struct ia_zoo_opts o = {0};
    if (!rc) rc = ia_zoo_build(a, sub, &o, path, &res);
    ia_hf_config_free(sub);
    ia_hf_config_free(cfg);
    return rc;
}

static void test_build_vision(void) {
    mktmp();
    struct {
        const char *arch, *key, *val;
    } cases[] = {
        {"detr", NULL, NULL},
        {"detr", "architectures", "[\"DetrModel\"]"},
        {"detr", "image_size", "[64, 96]"},
        {"xclip", NULL, NULL},
        {"llava", NULL, NULL},
        {"llava", "vision_feature_select_strategy", "\"full\""},
        {"clap", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s_%zu.onnx", tmp, cases[i].arch, i);
        struct ia_zoo_opts o = {.preset = "tiny"};
        int rc = build_tiny(cases[i].arch, p, cases[i].key, cases[i].val, &o);
        if (rc) fprintf(stderr, "%s %s: %s\n", cases[i].arch, cases[i].val ? cases[i].val : "",
                        ia_error_msg());
        CHECK(rc == IA_OK);
        if (!rc) check_runs_seq(p, 0, 5);
    }
    /* CLAP's towers alone. */
    const char *clap_subs[][2] = {{"text_config", "[\"ClapTextModelWithProjection\"]"},
                                  {"audio_config", "[\"ClapAudioModel\"]"},
                                  {"audio_config", "[\"ClapAudioModelWithProjection\"]"}};
    for (size_t i = 0; i < sizeof clap_subs / sizeof clap_subs[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/clap_sub_%zu.onnx", tmp, i);
        int rc = build_clap_sub(clap_subs[i][0], clap_subs[i][1], NULL, NULL, p);
        if (rc) fprintf(stderr, "clap %s: %s\n", clap_subs[i][1], ia_error_msg());
        CHECK(rc == IA_OK);
        if (!rc) check_runs_seq(p, 0, 5);
    }
    /* A timm ResNet-18 backbone (basic blocks, timm names) at the smallest input. */
    const struct ia_zoo_arch *a = ia_zoo_arch_find("detr");
    struct ia_hf_config *cfg;
    REQUIRE(a && ia_zoo_preset_config(a, "tiny", &cfg) == IA_OK);
    ia_hf_config_set(cfg, "use_timm_backbone", "true");
    ia_hf_config_set(cfg, "backbone", "resnet18");
    ia_hf_config_set(cfg, "image_size", "32");
    char p[256];
    snprintf(p, sizeof p, "%s/detr_r18.onnx", tmp);
    struct ia_zoo_result res;
    struct ia_zoo_opts o = {0};
    CHECK(ia_zoo_build(a, cfg, &o, p, &res) == IA_OK);
    CHECK(res.n_params > 11000000); /* ResNet-18's 11.2M (BN statistics included) */
    check_runs_seq(p, 0, 1);
    ia_hf_config_free(cfg);
    /* Refusals name the reason. */
    snprintf(p, sizeof p, "%s/refused.onnx", tmp);
    CHECK_EQ_INT(build_tiny("clap", p, "architectures", "[\"ClapTextModel\"]", &o),
                 IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "ClapTextModelWithProjection") != NULL);
    CHECK_EQ_INT(build_clap_sub("audio_config", "[\"ClapAudioModel\"]", "enable_fusion", "true",
                                p), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "enable_fusion") != NULL);
    CHECK_EQ_INT(build_clap_sub("audio_config", "[\"ClapAudioModel\"]", "window_size", "8", p),
                 IA_EINVAL); /* the last 4x4 stage is smaller than the window */
    CHECK(strstr(ia_error_msg(), "window_size") != NULL);
    CHECK_EQ_INT(build_clap_sub("audio_config", "[\"ClapAudioModel\"]", "num_frames", "300", p),
                 IA_ERANGE); /* longer than spec_size * freq_ratio: HF refuses it */
    CHECK_EQ_INT(build_clap_sub("audio_config", "[\"ClapAudioModel\"]", "hidden_size", "40", p),
                 IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "hidden_size") != NULL);
    CHECK_EQ_INT(build_tiny("detr", p, "dilation", "true", &o), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "dilation") != NULL);
    CHECK_EQ_INT(build_tiny("detr", p, "backbone_config", "{\"depths\": [1, 0], "
                            "\"hidden_sizes\": [8, 16]}", &o), IA_ERANGE);
    CHECK(strstr(ia_error_msg(), "depths") != NULL);
    CHECK_EQ_INT(build_tiny("xclip", p, "projection_dim", "24", &o), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "mit_hidden_size") != NULL);
    CHECK_EQ_INT(build_tiny("llava", p, "vision_feature_layer", "-9", &o), IA_ERANGE);
    CHECK(strstr(ia_error_msg(), "vision_feature_layer") != NULL);
    CHECK_EQ_INT(build_tiny("llava", p, "vision_feature_select_strategy", "\"odd\"", &o),
                 IA_EUNSUPPORTED);
    CHECK_EQ_INT(build_tiny("llava", p, "text_config", "{\"model_type\": \"gemma\"}", &o),
                 IA_EUNSUPPORTED);
    CHECK(access(p, F_OK) != 0);
    rmtree();
    /* Public sizes, counted by a dry run (nothing allocated). LLaVA-1.5-7B
     * without the vision tower's last layer and post_layernorm, which
     * vision_feature_layer -2 leaves unused; DETR with the frozen batch
     * norms' statistics, which HF keeps as buffers. */
    CHECK_EQ_INT(preset_params("llava", "base"), 7050828800);
    CHECK(preset_params("detr", "base") > 41000000);
    /* patch 16 has fewer patch-embedding weights than patch 32, more positions */
    CHECK(preset_params("xclip", "small") > 150000000 && preset_params("xclip", "base") > 150000000);
    /* laion/clap-htsat-unfused: 153,492,890 parameters (counted from HF's
     * module shapes) plus the audio batch norm's 128 running statistics. */
    CHECK_EQ_INT(preset_params("clap", "base"), 153493018);
}

TEST_MAIN(T(test_config), T(test_checkpoint_sharded), T(test_build_all),
          T(test_deterministic_and_external), T(test_bad_configs), T(test_build_speech_and_t5),
          T(test_presets_and_helpers), T(test_build_vision))
