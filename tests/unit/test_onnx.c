/* onnx: loading (every dtype, raw and typed), external data, the builder
 * and writer round trip, verify on broken graphs, allocation failures.
 * Models come from tests/models (scripts/gen-test-models.py). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ia/core.h"
#include "ia/onnx.h"
#include "ia/tensor.h"

static char path_buf[PATH_MAX];

static const char *model_path(const char *name) {
    const char *src = getenv("IA_SOURCE_DIR");
    snprintf(path_buf, sizeof path_buf, "%s/tests/models/%s", src ? src : ".", name);
    return path_buf;
}

static const struct ia_onnx_tensor *find_init(const struct ia_model *m, const char *name) {
    for (size_t i = 0; i < m->graph.n_initializers; i++)
        if (!strcmp(m->graph.initializers[i].name, name)) return &m->graph.initializers[i];
    return NULL;
}

static int has_substr(const char *hay, const char *needle) {
    return hay && strstr(hay, needle) != NULL;
}

/* ---- tensor.h ----------------------------------------------------------- */

static void test_dtype_table(void) {
    CHECK_EQ_STR(ia_dtype_name(IA_DTYPE_BFLOAT16), "bfloat16");
    CHECK_EQ_INT(ia_dtype_size(IA_DTYPE_FLOAT64), 8);
    CHECK_EQ_INT(ia_dtype_size(IA_DTYPE_BOOL), 1);
    CHECK_EQ_INT(ia_dtype_size(IA_DTYPE_STRING), 0);
    CHECK_EQ_STR(ia_dtype_name((enum ia_dtype)999), "undefined");
    enum ia_dtype t;
    CHECK(ia_dtype_from_name("uint16", &t) == IA_OK && t == IA_DTYPE_UINT16);
    CHECK(ia_dtype_from_name("half", &t) == IA_OK && t == IA_DTYPE_FLOAT16);
    CHECK(ia_dtype_from_name("nope", &t) == IA_ENOTFOUND);
    for (int i = 1; i < IA_DTYPE_COUNT; i++) {
        CHECK(ia_dtype_from_name(ia_dtype_name((enum ia_dtype)i), &t) == IA_OK && (int)t == i);
        CHECK_EQ_INT(ia_onnx_dtype_from_proto(ia_onnx_dtype_to_proto((enum ia_dtype)i)), i);
    }
    uint64_t n;
    int64_t big[] = {1ll << 62, 1ll << 62}, zero[] = {1ll << 62, 1ll << 62, 0}, neg[] = {2, -1};
    CHECK(ia_shape_numel(big, 2, &n) == IA_ERANGE);
    CHECK(ia_shape_numel(zero, 3, &n) == IA_OK && n == 0);
    CHECK(ia_shape_numel(neg, 2, &n) == IA_ERANGE);
    CHECK(ia_shape_numel(NULL, 0, &n) == IA_OK && n == 1);
    int64_t d[] = {1ll << 61};
    CHECK(ia_shape_nbytes(IA_DTYPE_FLOAT64, d, 1, &n) == IA_ERANGE);
    CHECK(ia_shape_nbytes(IA_DTYPE_STRING, d, 1, &n) == IA_EINVAL);
}

/* ---- loading ------------------------------------------------------------ */

static void test_load_mlp(void) {
    struct ia_model *m;
    REQUIRE(ia_onnx_load(model_path("mlp.onnx"), &m) == IA_OK);
    CHECK_EQ_INT(m->ir_version, 8);
    CHECK_EQ_STR(m->producer_name, "gen-test-models");
    CHECK_EQ_STR(m->graph.name, "mlp");
    CHECK_EQ_INT(ia_onnx_opset_version(m, ""), 17);
    CHECK_EQ_INT(ia_onnx_opset_version(m, "ai.onnx"), 17);
    CHECK_EQ_INT(m->n_props, 2);
    CHECK_EQ_STR(m->props[0].key, "author");
    CHECK_EQ_STR(m->props[0].value, "ipfs-accelerate tests");
    REQUIRE(m->graph.n_inputs == 1 && m->graph.n_outputs == 1);
    const struct ia_onnx_value *x = &m->graph.inputs[0];
    CHECK_EQ_STR(x->name, "x");
    CHECK(x->is_tensor && x->dtype == IA_DTYPE_FLOAT32 && x->has_shape && x->rank == 2);
    CHECK(x->dims[0].value == -1 && x->dims[0].param && !strcmp(x->dims[0].param, "batch"));
    CHECK(x->dims[1].value == 4 && x->dims[1].param == NULL);
    REQUIRE(m->graph.n_nodes == 5);
    const struct ia_onnx_node *n = &m->graph.nodes[0];
    CHECK_EQ_STR(n->op_type, "MatMul");
    CHECK_EQ_STR(n->name, "fc1");
    CHECK_EQ_STR(n->domain, "");
    CHECK(n->n_inputs == 2 && !strcmp(n->inputs[1], "W1"));
    CHECK(n->n_outputs == 1 && !strcmp(n->outputs[0], "h1"));
    CHECK_EQ_INT(m->graph.n_initializers, 4);
    const struct ia_onnx_tensor *w1 = find_init(m, "W1");
    REQUIRE(w1);
    CHECK(w1->dtype == IA_DTYPE_FLOAT32 && w1->rank == 2 && w1->dims[0] == 4 && w1->dims[1] == 8);
    CHECK(w1->numel == 32 && w1->nbytes == 128 && w1->data && w1->location == IA_ONNX_DATA_RAW);
    CHECK(!w1->problem);
    CHECK_EQ_INT(m->n_problems, 0);
    ia_model_free(m);
}

/* Expected element k (0..5) of each dtype tensor, as the generator wrote. */
static void check_dtype_tensor(const struct ia_onnx_tensor *t, const char *name) {
    static const uint16_t f16[] = {0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500};
    static const uint16_t bf16[] = {0x0000, 0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0};
    REQUIRE(t && !t->problem);
    CHECK_EQ_INT(t->numel, 6);
    CHECK_EQ_INT(t->nbytes, 6 * ia_dtype_size(t->dtype));
    REQUIRE(t->data);
    CHECK((uintptr_t)t->data % ia_dtype_size(t->dtype) == 0);
    for (int k = 0; k < 6; k++) {
        int ok = 0;
        const void *d = t->data;
        switch (t->dtype) {
        case IA_DTYPE_FLOAT32:
            ok = ((const float *)d)[k] == (float)k;
            break;
        case IA_DTYPE_FLOAT64:
            ok = ((const double *)d)[k] == (double)k;
            break;
        case IA_DTYPE_FLOAT16:
            ok = ((const uint16_t *)d)[k] == f16[k];
            break;
        case IA_DTYPE_BFLOAT16:
            ok = ((const uint16_t *)d)[k] == bf16[k];
            break;
        case IA_DTYPE_INT8:
            ok = ((const int8_t *)d)[k] == k - 3;
            break;
        case IA_DTYPE_INT16:
            ok = ((const int16_t *)d)[k] == k - 3;
            break;
        case IA_DTYPE_INT32:
            ok = ((const int32_t *)d)[k] == k - 3;
            break;
        case IA_DTYPE_INT64:
            ok = ((const int64_t *)d)[k] == k - 3;
            break;
        case IA_DTYPE_UINT8:
            ok = ((const uint8_t *)d)[k] == k;
            break;
        case IA_DTYPE_UINT16:
            ok = ((const uint16_t *)d)[k] == k;
            break;
        case IA_DTYPE_UINT32:
            ok = ((const uint32_t *)d)[k] == (uint32_t)k;
            break;
        case IA_DTYPE_UINT64:
            ok = ((const uint64_t *)d)[k] == (uint64_t)k;
            break;
        case IA_DTYPE_BOOL:
            ok = ((const uint8_t *)d)[k] == k % 2;
            break;
        default:
            break;
        }
        if (!ok) {
            fprintf(stderr, "  %s element %d wrong\n", name, k);
            CHECK(ok);
            return;
        }
    }
}

static void check_dtypes_model(const char *file, enum ia_onnx_data_location loc) {
    static const struct {
        const char *name;
        enum ia_dtype t;
    } want[] = {{"f32", IA_DTYPE_FLOAT32}, {"f16", IA_DTYPE_FLOAT16}, {"bf16", IA_DTYPE_BFLOAT16},
                {"f64", IA_DTYPE_FLOAT64}, {"i8", IA_DTYPE_INT8},     {"i16", IA_DTYPE_INT16},
                {"i32", IA_DTYPE_INT32},   {"i64", IA_DTYPE_INT64},   {"u8", IA_DTYPE_UINT8},
                {"u16", IA_DTYPE_UINT16},  {"u32", IA_DTYPE_UINT32},  {"u64", IA_DTYPE_UINT64},
                {"bool", IA_DTYPE_BOOL}};
    struct ia_model *m;
    REQUIRE(ia_onnx_load(model_path(file), &m) == IA_OK);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct ia_onnx_tensor *t = find_init(m, want[i].name);
        CHECK(t && t->dtype == want[i].t);
        CHECK(t && t->location == loc);
        check_dtype_tensor(t, want[i].name);
    }
    const struct ia_onnx_tensor *s = find_init(m, "str");
    CHECK(s && s->dtype == IA_DTYPE_STRING && s->n_strings == 2 && s->data == NULL);
    if (s && s->n_strings == 2) {
        CHECK(s->strings[0].len == 1 && !memcmp(s->strings[0].data, "a", 1));
        CHECK(s->strings[1].len == 2 && !memcmp(s->strings[1].data, "bc", 2));
    }
    ia_model_free(m);
}

static void test_dtypes_raw(void) { check_dtypes_model("dtypes_raw.onnx", IA_ONNX_DATA_RAW); }
static void test_dtypes_typed(void) { check_dtypes_model("dtypes_typed.onnx", IA_ONNX_DATA_TYPED); }

static void test_garbage_and_empty(void) {
    struct ia_model *m = (struct ia_model *)1;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02, 0x07};
    CHECK(ia_onnx_load_memory(junk, sizeof junk, NULL, 0, &m) == IA_EFORMAT);
    CHECK(m == NULL);
    CHECK(has_substr(ia_error_msg(), "not a valid ONNX model (protobuf parse failed)"));
    /* An empty message parses but has no graph. */
    CHECK(ia_onnx_load_memory("", 0, NULL, 0, &m) == IA_EFORMAT);
    CHECK(has_substr(ia_error_msg(), "no graph"));
    CHECK(ia_onnx_load(model_path("no-such.onnx"), &m) == IA_ENOTFOUND);
    CHECK(has_substr(ia_error_msg(), "model file not found: "));
    /* A directory is not a model. */
    CHECK(ia_onnx_load(model_path("ext"), &m) == IA_EFORMAT);
}

/* ModelProto.graph(7) → GraphProto.node(1) → NodeProto.attribute(5) →
 * AttributeProto.g(6) → ... nested `levels` times. */
static size_t put_len_field(uint8_t *out, uint8_t tag, const uint8_t *body, size_t n) {
    size_t o = 0;
    out[o++] = tag;
    size_t v = n;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[o++] = b | (v ? 0x80 : 0);
    } while (v);
    memmove(out + o, body, n);
    return o + n;
}

static void test_deep_nesting_refused(void) {
    size_t cap = 1 << 16;
    uint8_t *a = calloc(cap, 1), *b = calloc(cap, 1);
    REQUIRE(a && b);
    size_t n = 0;
    static const uint8_t tags[] = {0x32 /* attr.g */, 0x2a /* node.attribute */,
                                   0x0a /* graph.node */};
    for (int level = 0; level < 3 * 40; level++) {
        n = put_len_field(b, tags[level % 3], a, n);
        uint8_t *t = a;
        a = b, b = t;
    }
    n = put_len_field(b, 0x3a /* model.graph */, a, n);
    struct ia_model *m;
    CHECK(ia_onnx_load_memory(b, n, NULL, 0, &m) == IA_ERANGE);
    CHECK(has_substr(ia_error_msg(), "nested deeper"));
    free(a);
    free(b);
}

/* ---- external data ------------------------------------------------------ */

static void test_external_ok(void) {
    struct ia_model *m;
    REQUIRE(ia_onnx_load(model_path("ext/ext_ok.onnx"), &m) == IA_OK);
    const struct ia_onnx_tensor *w = find_init(m, "W"), *b = find_init(m, "B"),
                                *u = find_init(m, "U");
    REQUIRE(w && b && u);
    CHECK(w->location == IA_ONNX_DATA_EXTERNAL && w->ext_offset == 0 && w->ext_length == 24);
    CHECK_EQ_STR(w->ext_location, "weights.bin");
    REQUIRE(w->data && b->data && u->data);
    for (int k = 0; k < 6; k++) CHECK(((const float *)w->data)[k] == (float)k);
    for (int k = 0; k < 3; k++) CHECK(((const float *)b->data)[k] == (float)(10 + k));
    /* U sits at offset 4110: copied so that it is aligned. */
    CHECK((uintptr_t)u->data % 4 == 0);
    CHECK(((const float *)u->data)[0] == 7.0f && ((const float *)u->data)[1] == 8.0f);
    CHECK_EQ_INT(u->ext_length, 8);
    ia_model_free(m);
}

static void expect_load_fails(const char *file, const char *msg_part) {
    struct ia_model *m = NULL;
    int rc = ia_onnx_load(model_path(file), &m);
    CHECK(rc == IA_EFORMAT);
    CHECK(m == NULL);
    if (!has_substr(ia_error_msg(), msg_part)) {
        fprintf(stderr, "  %s: message '%s' lacks '%s'\n", file, ia_error_msg(), msg_part);
        CHECK(0);
    }
}

static void test_external_refused(void) {
    expect_load_fails(
        "ext/ext_escape.onnx",
        "initializer 'W': external data location '../mlp.onnx' leaves the model's folder");
    expect_load_fails("ext/ext_abs.onnx", "is an absolute path");
    expect_load_fails("ext/ext_short.onnx",
                      "initializer 'W': external data 'weights.bin' is too short: float32[100000] "
                      "needs 400000 bytes at offset 0, the file has 4160");
    expect_load_fails("ext/ext_offset.onnx", "offset 5000 is past the end of 'weights.bin'");
    expect_load_fails("ext/ext_missing.onnx", "external data file 'nope.bin' not found");
    /* Without a folder (from memory), external data cannot be resolved. */
    FILE *f = fopen(model_path("ext/ext_ok.onnx"), "rb");
    REQUIRE(f);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct ia_model *m;
    CHECK(ia_onnx_load_memory(buf, n, NULL, 0, &m) == IA_EFORMAT);
    CHECK(has_substr(ia_error_msg(), "needs the model's folder"));
}

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    int ok = a && b;
    char buf[8192];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b) fclose(b);
    return ok ? 0 : -1;
}

static void test_external_symlinks(void) {
    char dir[] = "/tmp/ia-onnx-test-XXXXXX", model[PATH_MAX], link[PATH_MAX], inside[PATH_MAX];
    char weights[PATH_MAX];
    REQUIRE(mkdtemp(dir));
    snprintf(model, sizeof model, "%s/ext_link.onnx", dir);
    snprintf(link, sizeof link, "%s/link.bin", dir);
    snprintf(inside, sizeof inside, "%s/real.bin", dir);
    REQUIRE(copy_file(model_path("ext/ext_link.onnx"), model) == 0);
    REQUIRE(realpath(model_path("ext/weights.bin"), weights));
    /* A link that leaves the folder is refused... */
    REQUIRE(symlink(weights, link) == 0);
    struct ia_model *m = NULL;
    CHECK(ia_onnx_load(model, &m) == IA_EFORMAT);
    CHECK(
        has_substr(ia_error_msg(), "external data 'link.bin' resolves outside the model's folder"));
    /* ...one to a file inside it is fine. */
    REQUIRE(unlink(link) == 0);
    REQUIRE(copy_file(weights, inside) == 0);
    REQUIRE(symlink("real.bin", link) == 0);
    CHECK(ia_onnx_load(model, &m) == IA_OK);
    if (m) {
        const struct ia_onnx_tensor *w = find_init(m, "W");
        CHECK(w && w->data && ((const float *)w->data)[5] == 5.0f);
    }
    ia_model_free(m);
    unlink(link);
    unlink(inside);
    unlink(model);
    rmdir(dir);
}

/* ---- verify ------------------------------------------------------------- */

static const struct ia_verify_check *vcheck(const struct ia_verify_report *r,
                                            enum ia_verify_check_id id) {
    return &r->checks[id];
}

static int reason_has(const struct ia_verify_report *r, enum ia_verify_check_id id, const char *s) {
    for (size_t i = 0; i < r->checks[id].n_reasons; i++)
        if (strstr(r->checks[id].reasons[i], s)) return 1;
    fprintf(stderr, "  check %s lacks reason '%s'; has:\n", r->checks[id].name, s);
    for (size_t i = 0; i < r->checks[id].n_reasons; i++)
        fprintf(stderr, "    %s\n", r->checks[id].reasons[i]);
    return 0;
}

/* The onnx layer is tested on its own: a kernel table that has nothing, so
 * the report must list every op, and no shape inference (skipped). */
static int no_kernels(const char *domain, const char *op_type, int64_t opset) {
    (void)domain, (void)op_type, (void)opset;
    return 0;
}
static const struct ia_verify_opts test_opts = {.op_supported = no_kernels};

static void test_verify_good_model(void) {
    struct ia_verify_report r;
    struct ia_model *m = NULL;
    REQUIRE(ia_onnx_verify_file(model_path("mlp.onnx"), &test_opts, &r, &m) == IA_OK);
    CHECK(m != NULL);
    for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++)
        if (i != IA_VERIFY_OPS && i != IA_VERIFY_SHAPES) CHECK(r.checks[i].status == IA_CHECK_OK);
    CHECK(!r.ok && r.n_failed == 1);
    CHECK(vcheck(&r, IA_VERIFY_OPS)->status == IA_CHECK_FAIL);
    CHECK(reason_has(&r, IA_VERIFY_OPS,
                     "unsupported ops: Add (ai.onnx) \xc3\x97"
                     "2, MatMul (ai.onnx) \xc3\x97"
                     "2, Relu (ai.onnx) \xc3\x97"
                     "1"));
    CHECK(vcheck(&r, IA_VERIFY_SHAPES)->status == IA_CHECK_SKIPPED);
    CHECK_EQ_INT(r.n_ops, 3);
    CHECK_EQ_STR(r.ops[0].op_type, "Add");
    CHECK_EQ_STR(r.ops[0].domain, "ai.onnx");
    CHECK(r.ops[0].count == 2 && r.ops[0].opset == 17 && !r.ops[0].supported);
    CHECK_EQ_INT(r.n_nodes, 5);
    CHECK_EQ_INT(r.n_params, 4 * 8 + 8 + 8 * 2 + 2);
    CHECK_EQ_INT(r.weight_bytes, 4 * (4 * 8 + 8 + 8 * 2 + 2));
    ia_verify_report_free(&r);
    ia_model_free(m);
}

static void verify_expect(const char *file, enum ia_verify_check_id id, const char *reason) {
    struct ia_verify_report r;
    int rc = ia_onnx_verify_file(model_path(file), &test_opts, &r, NULL);
    CHECK(rc == IA_OK);
    CHECK(!r.ok);
    CHECK(r.checks[id].status == IA_CHECK_FAIL);
    if (!reason_has(&r, id, reason)) {
        fprintf(stderr, "  (in %s)\n", file);
        CHECK(0);
    }
    ia_verify_report_free(&r);
}

static void test_verify_broken(void) {
    verify_expect("cyclic.onnx", IA_VERIFY_GRAPH,
                  "node 'add_a' (Add): input 'c' comes from node 'relu_c' (Relu), which is later "
                  "in the graph (a cycle)");
    verify_expect("out_of_order.onnx", IA_VERIFY_GRAPH,
                  "node 'second' (Relu): input 'a' comes from node 'first' (Neg), which is later "
                  "in the graph (nodes not in topological order)");
    verify_expect("undefined_input.onnx", IA_VERIFY_GRAPH,
                  "node 'add' (Add): input 'ghost' is not defined");
    verify_expect("duplicate_names.onnx", IA_VERIFY_GRAPH, "initializer 'b' is defined twice");
    verify_expect("duplicate_names.onnx", IA_VERIFY_GRAPH,
                  "node 'n2' (Neg): output 'h' is already defined by node 'n1' (Relu)");
    verify_expect("big_claim.onnx", IA_VERIFY_INITIALIZERS,
                  "initializer 'W': raw_data has 12 bytes but float32[1000] needs 4000");
    verify_expect("overflow_dims.onnx", IA_VERIFY_INITIALIZERS,
                  "initializer 'W': dims [4611686018427387904, 4611686018427387904] overflow");
    verify_expect("bad_versions.onnx", IA_VERIFY_IR_VERSION,
                  "ir_version 2 is outside the supported range 3..10");
    verify_expect("bad_versions.onnx", IA_VERIFY_OPSET,
                  "ai.onnx opset 25 is outside the supported range 7..21");
    verify_expect("ext/ext_escape.onnx", IA_VERIFY_EXTERNAL_DATA, "leaves the model's folder");
    verify_expect("ext/ext_short.onnx", IA_VERIFY_EXTERNAL_DATA, "is too short");

    /* Subgraphs see outer values: the If model's graph check passes. */
    struct ia_verify_report r;
    REQUIRE(ia_onnx_verify_file(model_path("if_model.onnx"), &test_opts, &r, NULL) == IA_OK);
    CHECK(r.checks[IA_VERIFY_GRAPH].status == IA_CHECK_OK);
    CHECK_EQ_INT(r.n_subgraph_nodes, 2);
    CHECK_EQ_INT(r.n_ops, 3);
    ia_verify_report_free(&r);

    /* A file that does not parse: the parse check fails, the rest skip. */
    static const uint8_t junk[] = {0x0a, 0x7f, 0x01};
    REQUIRE(ia_onnx_verify_memory(junk, sizeof junk, NULL, &test_opts, &r, NULL) == IA_OK);
    CHECK(!r.ok && r.checks[IA_VERIFY_PARSE].status == IA_CHECK_FAIL);
    CHECK(reason_has(&r, IA_VERIFY_PARSE, "not a valid ONNX model (protobuf parse failed)"));
    CHECK(r.checks[IA_VERIFY_GRAPH].status == IA_CHECK_SKIPPED);
    ia_verify_report_free(&r);
    CHECK(ia_onnx_verify_file(model_path("missing.onnx"), &test_opts, &r, NULL) == IA_ENOTFOUND);
    ia_verify_report_free(&r);
}

/* ---- builder and writer ------------------------------------------------- */

static void compare_tensors(const struct ia_onnx_tensor *a, const struct ia_onnx_tensor *b) {
    CHECK_EQ_STR(a->name, b->name);
    CHECK_EQ_INT(a->dtype, b->dtype);
    REQUIRE(a->rank == b->rank);
    for (size_t i = 0; i < a->rank; i++) CHECK_EQ_INT(a->dims[i], b->dims[i]);
    CHECK_EQ_INT(a->nbytes, b->nbytes);
    if (a->nbytes) CHECK(a->data && b->data && !memcmp(a->data, b->data, (size_t)a->nbytes));
    REQUIRE(a->n_strings == b->n_strings);
    for (size_t i = 0; i < a->n_strings; i++)
        CHECK(a->strings[i].len == b->strings[i].len &&
              (!a->strings[i].len ||
               !memcmp(a->strings[i].data, b->strings[i].data, a->strings[i].len)));
}

static void compare_values(const struct ia_onnx_value *a, const struct ia_onnx_value *b) {
    CHECK_EQ_STR(a->name, b->name);
    CHECK_EQ_INT(a->onnx_elem_type, b->onnx_elem_type);
    CHECK_EQ_INT(a->has_shape, b->has_shape);
    REQUIRE(a->rank == b->rank);
    for (size_t i = 0; i < a->rank; i++) {
        CHECK_EQ_INT(a->dims[i].value, b->dims[i].value);
        CHECK((a->dims[i].param == NULL) == (b->dims[i].param == NULL));
        if (a->dims[i].param && b->dims[i].param) CHECK_EQ_STR(a->dims[i].param, b->dims[i].param);
    }
}

/* Deep equality of two loaded models (main graph). */
static void compare_models(const struct ia_model *a, const struct ia_model *b) {
    CHECK_EQ_INT(a->ir_version, b->ir_version);
    CHECK_EQ_STR(a->producer_name, b->producer_name);
    CHECK_EQ_STR(a->producer_version, b->producer_version);
    CHECK_EQ_STR(a->graph.name, b->graph.name);
    REQUIRE(a->n_opsets == b->n_opsets);
    for (size_t i = 0; i < a->n_opsets; i++) {
        CHECK_EQ_STR(a->opsets[i].domain, b->opsets[i].domain);
        CHECK_EQ_INT(a->opsets[i].version, b->opsets[i].version);
    }
    REQUIRE(a->n_props == b->n_props);
    for (size_t i = 0; i < a->n_props; i++) {
        CHECK_EQ_STR(a->props[i].key, b->props[i].key);
        CHECK_EQ_STR(a->props[i].value, b->props[i].value);
    }
    REQUIRE(a->graph.n_inputs == b->graph.n_inputs && a->graph.n_outputs == b->graph.n_outputs);
    for (size_t i = 0; i < a->graph.n_inputs; i++)
        compare_values(&a->graph.inputs[i], &b->graph.inputs[i]);
    for (size_t i = 0; i < a->graph.n_outputs; i++)
        compare_values(&a->graph.outputs[i], &b->graph.outputs[i]);
    REQUIRE(a->graph.n_initializers == b->graph.n_initializers);
    for (size_t i = 0; i < a->graph.n_initializers; i++)
        compare_tensors(&a->graph.initializers[i], &b->graph.initializers[i]);
    REQUIRE(a->graph.n_nodes == b->graph.n_nodes);
    for (size_t i = 0; i < a->graph.n_nodes; i++) {
        const struct ia_onnx_node *x = &a->graph.nodes[i], *y = &b->graph.nodes[i];
        CHECK_EQ_STR(x->name, y->name);
        CHECK_EQ_STR(x->op_type, y->op_type);
        CHECK_EQ_STR(x->domain, y->domain);
        REQUIRE(x->n_inputs == y->n_inputs && x->n_outputs == y->n_outputs &&
                x->n_attrs == y->n_attrs);
        for (size_t k = 0; k < x->n_inputs; k++) CHECK_EQ_STR(x->inputs[k], y->inputs[k]);
        for (size_t k = 0; k < x->n_outputs; k++) CHECK_EQ_STR(x->outputs[k], y->outputs[k]);
        for (size_t k = 0; k < x->n_attrs; k++) {
            const struct ia_onnx_attr *p = &x->attrs[k], *q = &y->attrs[k];
            CHECK_EQ_STR(p->name, q->name);
            CHECK_EQ_INT(p->type, q->type);
            CHECK_EQ_INT(p->n, q->n);
            CHECK(p->f == q->f && p->i == q->i && p->s.len == q->s.len);
            if (p->s.len && p->s.len == q->s.len) CHECK(!memcmp(p->s.data, q->s.data, p->s.len));
            if (p->type == IA_ONNX_ATTR_FLOATS && p->n == q->n)
                CHECK(!memcmp(p->floats, q->floats, p->n * sizeof(float)));
            if (p->type == IA_ONNX_ATTR_INTS && p->n == q->n)
                CHECK(!memcmp(p->ints, q->ints, p->n * sizeof(int64_t)));
            if (p->type == IA_ONNX_ATTR_STRINGS && p->n == q->n)
                for (size_t j = 0; j < p->n; j++)
                    CHECK(p->strings[j].len == q->strings[j].len &&
                          (!p->strings[j].len ||
                           !memcmp(p->strings[j].data, q->strings[j].data, p->strings[j].len)));
            if (p->type == IA_ONNX_ATTR_TENSOR && p->t && q->t) compare_tensors(p->t, q->t);
        }
    }
}

static int build_sample(struct ia_onnx_builder *b) {
    int rc = ia_onnx_builder_set_info(b, "sample", "test_onnx", "0.1", 9);
    if (!rc) rc = ia_onnx_builder_add_opset(b, "", 17);
    if (!rc) rc = ia_onnx_builder_add_opset(b, "com.example", 1);
    if (!rc) rc = ia_onnx_builder_add_metadata(b, "purpose", "round trip");
    struct ia_onnx_dim in_dims[] = {{-1, "batch"}, {-1, NULL}, {3, NULL}};
    if (!rc) rc = ia_onnx_builder_add_input(b, "x", IA_DTYPE_FLOAT32, 3, in_dims);
    if (!rc) rc = ia_onnx_builder_add_input(b, "mask", IA_DTYPE_BOOL, -1, NULL);
    if (!rc) rc = ia_onnx_builder_add_output(b, "y", IA_DTYPE_FLOAT32, 3, in_dims);
    float w[6] = {1, 2, 3, 4, 5, 6};
    int64_t wd[] = {2, 3};
    if (!rc) rc = ia_onnx_builder_add_initializer(b, "w", IA_DTYPE_FLOAT32, 2, wd, w, sizeof w);
    uint16_t h[3] = {0x3c00, 0x4000, 0xbc00};
    int64_t hd[] = {3};
    if (!rc) rc = ia_onnx_builder_add_initializer(b, "h", IA_DTYPE_FLOAT16, 1, hd, h, sizeof h);
    int64_t scalar = 42;
    if (!rc) rc = ia_onnx_builder_add_initializer(b, "s", IA_DTYPE_INT64, 0, NULL, &scalar, 8);
    int64_t zd[] = {0, 5};
    if (!rc) rc = ia_onnx_builder_add_initializer(b, "empty", IA_DTYPE_INT8, 2, zd, NULL, 0);

    static const float fl[] = {0.5f, -1.25f};
    static const int64_t in[] = {1, -2, 3};
    static const struct ia_onnx_bytes strs[] = {{(const uint8_t *)"ab", 2}, {NULL, 0}};
    static const float tv[] = {9.0f};
    static const int64_t td[] = {1};
    struct ia_onnx_tensor t = {.name = "cv",
                               .dtype = IA_DTYPE_FLOAT32,
                               .rank = 1,
                               .dims = td,
                               .numel = 1,
                               .data = tv,
                               .nbytes = 4};
    struct ia_onnx_attr attrs[] = {
        {.name = "alpha", .type = IA_ONNX_ATTR_FLOAT, .f = 0.25f},
        {.name = "axis", .type = IA_ONNX_ATTR_INT, .i = -1},
        {.name = "mode", .type = IA_ONNX_ATTR_STRING, .s = {(const uint8_t *)"linear", 6}},
        {.name = "scales", .type = IA_ONNX_ATTR_FLOATS, .n = 2, .floats = fl},
        {.name = "perm", .type = IA_ONNX_ATTR_INTS, .n = 3, .ints = in},
        {.name = "names", .type = IA_ONNX_ATTR_STRINGS, .n = 2, .strings = strs},
        {.name = "value", .type = IA_ONNX_ATTR_TENSOR, .t = &t},
    };
    const char *ins[] = {"x", "w", ""};
    const char *outs[] = {"t"};
    struct ia_onnx_node n1 = {.name = "n1",
                              .op_type = "Custom",
                              .domain = "com.example",
                              .n_inputs = 3,
                              .inputs = ins,
                              .n_outputs = 1,
                              .outputs = outs,
                              .n_attrs = sizeof attrs / sizeof attrs[0],
                              .attrs = attrs};
    if (!rc) rc = ia_onnx_builder_add_node(b, &n1);
    const char *ins2[] = {"t"}, *outs2[] = {"y"};
    struct ia_onnx_node n2 = {.name = "",
                              .op_type = "Relu",
                              .n_inputs = 1,
                              .inputs = ins2,
                              .n_outputs = 1,
                              .outputs = outs2};
    if (!rc) rc = ia_onnx_builder_add_node(b, &n2);
    return rc;
}

static void test_builder_round_trip(void) {
    struct ia_onnx_builder *b;
    REQUIRE(ia_onnx_builder_create(&b) == IA_OK);
    REQUIRE(build_sample(b) == IA_OK);
    /* Wrong byte counts and strings are refused. */
    int64_t d[] = {4};
    float four[4] = {0};
    CHECK(ia_onnx_builder_add_initializer(b, "bad", IA_DTYPE_FLOAT32, 1, d, four, 12) == IA_EINVAL);
    CHECK(ia_onnx_builder_add_initializer(b, "bad", IA_DTYPE_STRING, 1, d, four, 16) ==
          IA_EUNSUPPORTED);
    uint8_t *buf;
    size_t len;
    REQUIRE(ia_onnx_builder_serialize(b, &buf, &len) == IA_OK);
    struct ia_model *m;
    REQUIRE(ia_onnx_load_memory(buf, len, NULL, 0, &m) == IA_OK);
    ia_free(buf);
    CHECK_EQ_INT(m->ir_version, 9);
    CHECK_EQ_STR(m->graph.name, "sample");
    CHECK_EQ_INT(ia_onnx_opset_version(m, "com.example"), 1);
    REQUIRE(m->graph.n_inputs == 2);
    const struct ia_onnx_value *x = &m->graph.inputs[0];
    CHECK(x->rank == 3 && x->dims[0].param && !strcmp(x->dims[0].param, "batch"));
    CHECK(x->dims[1].value == -1 && x->dims[1].param == NULL && x->dims[2].value == 3);
    CHECK(!m->graph.inputs[1].has_shape && m->graph.inputs[1].dtype == IA_DTYPE_BOOL);
    const struct ia_onnx_tensor *h = find_init(m, "h"), *s = find_init(m, "s"),
                                *e = find_init(m, "empty");
    CHECK(h && h->dtype == IA_DTYPE_FLOAT16 && h->data && ((const uint16_t *)h->data)[2] == 0xbc00);
    CHECK(s && s->rank == 0 && s->numel == 1 && *(const int64_t *)s->data == 42);
    CHECK(e && e->numel == 0 && e->data == NULL && !e->problem);
    REQUIRE(m->graph.n_nodes == 2);
    const struct ia_onnx_node *n = &m->graph.nodes[0];
    CHECK_EQ_STR(n->domain, "com.example");
    CHECK(n->n_inputs == 3 && !strcmp(n->inputs[2], ""));
    REQUIRE(n->n_attrs == 7);
    CHECK(n->attrs[0].type == IA_ONNX_ATTR_FLOAT && n->attrs[0].f == 0.25f);
    CHECK(n->attrs[1].type == IA_ONNX_ATTR_INT && n->attrs[1].i == -1);
    CHECK(n->attrs[2].s.len == 6 && !memcmp(n->attrs[2].s.data, "linear", 6));
    CHECK(n->attrs[4].n == 3 && n->attrs[4].ints[1] == -2);
    CHECK(n->attrs[5].n == 2 && n->attrs[5].strings[1].len == 0);
    CHECK(n->attrs[6].t && ((const float *)n->attrs[6].t->data)[0] == 9.0f);

    /* The sample verifies except for ops (Relu, and Custom from an imported
     * but unknown domain). */
    struct ia_verify_report r;
    REQUIRE(ia_onnx_verify(m, &test_opts, &r) == IA_OK);
    CHECK(r.checks[IA_VERIFY_GRAPH].status == IA_CHECK_OK);
    CHECK(r.checks[IA_VERIFY_OPSET].status == IA_CHECK_OK);
    CHECK(reason_has(&r, IA_VERIFY_OPS,
                     "Custom (com.example) \xc3\x97"
                     "1"));
    ia_verify_report_free(&r);

    /* write → load → same, through a file. */
    char dir[] = "/tmp/ia-onnx-rt-XXXXXX", p1[PATH_MAX], p2[PATH_MAX];
    REQUIRE(mkdtemp(dir));
    snprintf(p1, sizeof p1, "%s/a.onnx", dir);
    snprintf(p2, sizeof p2, "%s/b.onnx", dir);
    REQUIRE(ia_onnx_builder_write(b, p1) == IA_OK);
    struct ia_model *m1, *m2;
    REQUIRE(ia_onnx_load(p1, &m1) == IA_OK);
    compare_models(m, m1);
    REQUIRE(ia_onnx_write(m1, p2) == IA_OK);
    REQUIRE(ia_onnx_load(p2, &m2) == IA_OK);
    compare_models(m1, m2);
    ia_model_free(m1);
    ia_model_free(m2);
    ia_model_free(m);
    ia_onnx_builder_destroy(b);
    unlink(p1);
    unlink(p2);
    rmdir(dir);
}

static void test_write_loaded_models(void) {
    static const char *files[] = {"mlp.onnx", "dtypes_raw.onnx", "dtypes_typed.onnx",
                                  "ext/ext_ok.onnx"};
    char dir[] = "/tmp/ia-onnx-w-XXXXXX", out[PATH_MAX];
    REQUIRE(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out.onnx", dir);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct ia_model *a, *b;
        REQUIRE(ia_onnx_load(model_path(files[i]), &a) == IA_OK);
        CHECK(ia_onnx_write(a, out) == IA_OK);
        REQUIRE(ia_onnx_load(out, &b) == IA_OK);
        compare_models(a, b);
        /* Typed fields and external data come back as raw_data. */
        for (size_t k = 0; k < b->graph.n_initializers; k++)
            if (b->graph.initializers[k].dtype != IA_DTYPE_STRING)
                CHECK(b->graph.initializers[k].location == IA_ONNX_DATA_RAW);
        ia_model_free(a);
        ia_model_free(b);
    }
    /* Subgraphs cannot be written yet: a clear refusal. */
    struct ia_model *a;
    REQUIRE(ia_onnx_load(model_path("if_model.onnx"), &a) == IA_OK);
    CHECK(ia_onnx_write(a, out) == IA_EUNSUPPORTED);
    ia_model_free(a);
    unlink(out);
    rmdir(dir);
}

/* Every allocation the loader and verify make may fail: each failure must
 * come back as IA_ENOMEM, never a crash or a leak (ASan checks). */
static void test_allocation_failures(void) {
    static const char *files[] = {"mlp.onnx", "dtypes_typed.onnx", "ext/ext_ok.onnx",
                                  "cyclic.onnx"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        int done = 0;
        for (long n = 0; n < 5000 && !done; n++) {
            struct ia_verify_report r;
            struct ia_model *m = NULL;
            ia_alloc_fail_after(n);
            int rc = ia_onnx_verify_file(model_path(files[f]), &test_opts, &r, &m);
            ia_alloc_fail_after(-1);
            if (rc == IA_OK) {
                done = 1;
                /* A truncated report must never claim success. */
                CHECK(!r.ok);
            } else {
                CHECK(rc == IA_ENOMEM);
            }
            ia_verify_report_free(&r);
            ia_model_free(m);
        }
        CHECK(done);
    }
}

TEST_MAIN(T(test_dtype_table), T(test_load_mlp), T(test_dtypes_raw), T(test_dtypes_typed),
          T(test_garbage_and_empty), T(test_deep_nesting_refused), T(test_external_ok),
          T(test_external_refused), T(test_external_symlinks), T(test_verify_good_model),
          T(test_verify_broken), T(test_builder_round_trip), T(test_write_loaded_models),
          T(test_allocation_failures))
