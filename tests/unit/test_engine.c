/* Engine: sessions (create, run, input checks, re-planning when shapes
 * change, stats), control flow (If from a file, Loop and Scan with
 * outer-scope values), the small ops of basic.c, and tensor files
 * (tensor_io: .pb and .npy round trips and hostile input). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"

#define A(...) ((const char *const[]){__VA_ARGS__})

/* ---- helpers ----------------------------------------------------------------- */

static struct ia_onnx_builder *mb_new(int opset) {
    struct ia_onnx_builder *b;
    if (ia_onnx_builder_create(&b) != IA_OK) abort();
    ia_onnx_builder_set_info(b, "g", "test_engine", "1", 0);
    ia_onnx_builder_add_opset(b, "", opset);
    return b;
}

static void mb_io(struct ia_onnx_builder *b, int is_input, const char *name, enum ia_dtype dt,
                  int rank, const int64_t *dims, const char *const *params) {
    struct ia_onnx_dim d[8];
    for (int i = 0; i < rank; i++) {
        d[i].value = params && params[i] ? -1 : dims[i];
        d[i].param = params ? params[i] : NULL;
    }
    if ((is_input ? ia_onnx_builder_add_input : ia_onnx_builder_add_output)(b, name, dt, rank, d))
        abort();
}

static void mb_node(struct ia_onnx_builder *b, const char *op, size_t n_in, const char *const *in,
                    size_t n_out, const char *const *out, size_t n_attrs,
                    const struct ia_onnx_attr *attrs) {
    struct ia_onnx_node n = {.name = "",
                             .op_type = op,
                             .domain = "",
                             .n_inputs = n_in,
                             .inputs = in,
                             .n_outputs = n_out,
                             .outputs = out,
                             .n_attrs = n_attrs,
                             .attrs = attrs};
    if (ia_onnx_builder_add_node(b, &n) != IA_OK) abort();
}

static struct ia_model *mb_load(struct ia_onnx_builder *b) {
    uint8_t *buf;
    size_t len;
    if (ia_onnx_builder_serialize(b, &buf, &len) != IA_OK) abort();
    ia_onnx_builder_destroy(b);
    struct ia_model *m = NULL;
    int rc = ia_onnx_load_memory(buf, len, NULL, 0, &m);
    ia_free(buf);
    if (rc) {
        fprintf(stderr, "load: %s\n", ia_error_msg());
        abort();
    }
    return m;
}

static struct ia_tensor tens(enum ia_dtype dt, int rank, const int64_t *dims, void *data) {
    struct ia_tensor t = {0};
    if (ia_tensor_set_shape(&t, dt, rank, dims)) abort();
    t.data = data;
    return t;
}

/* y = x + w with x: float32[N, 3] (N symbolic), w = [1, 2, 3]. */
static struct ia_model *add_model(void) {
    struct ia_onnx_builder *b = mb_new(17);
    int64_t d[2] = {2, 3}, d3 = 3;
    float w[3] = {1, 2, 3};
    mb_io(b, 1, "x", IA_DTYPE_FLOAT32, 2, d, A("N", NULL));
    mb_io(b, 0, "y", IA_DTYPE_FLOAT32, 2, d, A("N", NULL));
    ia_onnx_builder_add_initializer(b, "w", IA_DTYPE_FLOAT32, 1, &d3, w, sizeof w);
    mb_node(b, "Add", 2, A("x", "w"), 1, A("a"), 0, NULL);
    mb_node(b, "Relu", 1, A("a"), 1, A("y"), 0, NULL);
    return mb_load(b);
}

/* ---- sessions ------------------------------------------------------------------ */

static void test_run_and_rerun_with_new_shapes(void) {
    struct ia_model *m = add_model();
    struct ia_session *s;
    struct ia_session_opts o = {.threads = 2};
    REQUIRE(ia_session_create(m, &o, &s) == IA_OK);
    CHECK_EQ_INT(ia_session_n_inputs(s), 1);
    CHECK_EQ_INT(ia_session_n_outputs(s), 1);
    const struct ia_session_value *in = ia_session_input(s, 0);
    CHECK_EQ_STR(in->name, "x");
    CHECK(in->dtype == IA_DTYPE_FLOAT32);
    CHECK_EQ_INT(in->rank, 2);
    CHECK_EQ_STR(in->dims[0].param, "N");
    CHECK(ia_session_input(s, 1) == NULL);
    for (int round = 0; round < 3; round++) {
        int64_t n = round == 1 ? 5 : 2;
        float x[15];
        for (int i = 0; i < n * 3; i++) x[i] = (float)(i % 3 == 0 ? -10 : i);
        int64_t dims[2] = {n, 3};
        struct ia_tensor xt = tens(IA_DTYPE_FLOAT32, 2, dims, x);
        const struct ia_tensor *ins[1] = {&xt};
        struct ia_tensor *const *outs;
        REQUIRE(ia_session_run(s, 1, A("x"), ins, 1, &outs) == IA_OK);
        CHECK_EQ_INT(outs[0]->rank, 2);
        CHECK_EQ_INT(outs[0]->dims[0], n);
        const float *y = outs[0]->data;
        for (int i = 0; i < n * 3; i++) {
            float want = x[i] + (float)(i % 3 + 1);
            CHECK(y[i] == (want > 0 ? want : 0));
        }
    }
    struct ia_session_stats st;
    ia_session_get_stats(s, &st);
    CHECK_EQ_STR(st.backend, "cpu");
    CHECK_EQ_INT(st.threads, 2);
    CHECK_EQ_INT(st.n_nodes, 2);
    CHECK_EQ_INT(st.n_runs, 3);
    CHECK_EQ_INT(st.arena_bytes, 2 * 64); /* a and y, [2,3] floats each in a 64-byte slot */
    CHECK(st.last_run_s >= 0);
    ia_session_destroy(s);
    ia_model_free(m);
}

static void test_input_errors(void) {
    struct ia_onnx_builder *b = mb_new(17);
    int64_t d[2] = {2, 3};
    mb_io(b, 1, "a", IA_DTYPE_FLOAT32, 2, d, A("N", NULL));
    mb_io(b, 1, "b", IA_DTYPE_FLOAT32, 2, d, A("N", NULL));
    mb_io(b, 0, "y", IA_DTYPE_FLOAT32, 2, d, A("N", NULL));
    mb_node(b, "Add", 2, A("a", "b"), 1, A("y"), 0, NULL);
    struct ia_model *m = mb_load(b);
    struct ia_session *s;
    REQUIRE(ia_session_create(m, NULL, &s) == IA_OK);
    float buf[64] = {0};
    int64_t d23[2] = {2, 3}, d33[2] = {3, 3}, d24[2] = {2, 4}, d6 = 6;
    struct ia_tensor t23 = tens(IA_DTYPE_FLOAT32, 2, d23, buf),
                     t33 = tens(IA_DTYPE_FLOAT32, 2, d33, buf),
                     t24 = tens(IA_DTYPE_FLOAT32, 2, d24, buf),
                     t6 = tens(IA_DTYPE_FLOAT32, 1, &d6, buf),
                     i23 = tens(IA_DTYPE_INT32, 2, d23, buf);
    struct ia_tensor *const *outs;
    const struct ia_tensor *ok2[2] = {&t23, &t23};
    CHECK(ia_session_run(s, 2, A("a", "b"), ok2, 1, &outs) == IA_OK);
    CHECK(ia_session_run(s, 1, A("a"), ok2, 1, &outs) == IA_EINVAL);
    CHECK_EQ_STR(ia_error_msg(), "input 'b' is missing");
    CHECK(ia_session_run(s, 2, A("a", "c"), ok2, 1, &outs) == IA_ENOTFOUND);
    CHECK_EQ_STR(ia_error_msg(), "the model has no input 'c' (inputs: 'a', 'b')");
    CHECK(ia_session_run(s, 2, A("a", "a"), ok2, 1, &outs) == IA_EINVAL);
    CHECK_EQ_STR(ia_error_msg(), "input 'a' is given twice");
    const struct ia_tensor *dt[2] = {&t23, &i23};
    CHECK(ia_session_run(s, 2, A("a", "b"), dt, 1, &outs) == IA_EINVAL);
    CHECK_EQ_STR(ia_error_msg(), "input 'b' is int32 but the model declares float32");
    const struct ia_tensor *rk[2] = {&t6, &t23};
    CHECK(ia_session_run(s, 2, A("a", "b"), rk, 1, &outs) == IA_EINVAL);
    CHECK_EQ_STR(ia_error_msg(), "input 'a' has rank 1 (float32[6]) but the model declares rank 2");
    const struct ia_tensor *dm[2] = {&t23, &t24};
    CHECK(ia_session_run(s, 2, A("a", "b"), dm, 1, &outs) == IA_EINVAL);
    CHECK_EQ_STR(ia_error_msg(), "input 'b': dim 1 is 4 but the model declares 3");
    const struct ia_tensor *sy[2] = {&t23, &t33};
    CHECK(ia_session_run(s, 2, A("a", "b"), sy, 1, &outs) == IA_EINVAL);
    CHECK_EQ_STR(ia_error_msg(), "input 'b': symbolic dim 'N' is 3 here but 2 in input 'a'");
    CHECK(ia_session_run(s, 2, A("a", "b"), ok2, 2, &outs) == IA_EINVAL);
    /* Still usable after errors. */
    CHECK(ia_session_run(s, 2, A("a", "b"), ok2, 1, &outs) == IA_OK);
    ia_session_destroy(s);
    ia_model_free(m);
}

static void test_unsupported_ops_at_create(void) {
    struct ia_onnx_builder *b = mb_new(17);
    int64_t d = 2;
    mb_io(b, 1, "x", IA_DTYPE_FLOAT32, 1, &d, NULL);
    mb_io(b, 0, "y", IA_DTYPE_FLOAT32, 1, &d, NULL);
    mb_node(b, "FancyOp", 1, A("x"), 1, A("y"), 0, NULL);
    struct ia_model *m = mb_load(b);
    struct ia_session *s = NULL;
    CHECK(ia_session_create(m, NULL, &s) == IA_EUNSUPPORTED);
    CHECK_EQ_STR(ia_error_msg(), "unsupported op: FancyOp (opset 17)");
    CHECK(s == NULL);
    struct ia_session_opts o = {.backend = "tpu"};
    CHECK(ia_session_create(m, &o, &s) == IA_ENOTFOUND);
    ia_model_free(m);
}

/* Constant in every form, Shape with start/end, Size, Identity on strings;
 * all foldable, so the session computes them at creation. */
static void test_basic_ops(void) {
    for (int fold = 0; fold < 2; fold++) {
        struct ia_onnx_builder *b = mb_new(15);
        int64_t d3 = 3, d4[4] = {2, 3, 4, 5}, d2 = 2, d0 = 0;
        static const int64_t ints[3] = {7, 8, 9};
        static const float floats[2] = {0.5f, 1.5f};
        struct ia_onnx_bytes strs[2] = {{(const uint8_t *)"ab", 2}, {(const uint8_t *)"", 0}};
        mb_io(b, 1, "x", IA_DTYPE_FLOAT32, 4, d4, NULL);
        mb_io(b, 1, "s", IA_DTYPE_STRING, 1, &d2, NULL);
        mb_io(b, 0, "c_ints", IA_DTYPE_INT64, 1, &d3, NULL);
        mb_io(b, 0, "c_float", IA_DTYPE_FLOAT32, 0, NULL, NULL);
        mb_io(b, 0, "c_floats", IA_DTYPE_FLOAT32, 1, &d2, NULL);
        mb_io(b, 0, "c_strs", IA_DTYPE_STRING, 1, &d2, NULL);
        mb_io(b, 0, "shape_mid", IA_DTYPE_INT64, 1, &d2, NULL);
        mb_io(b, 0, "shape_empty", IA_DTYPE_INT64, 1, &d0, NULL);
        mb_io(b, 0, "size", IA_DTYPE_INT64, 0, NULL, NULL);
        mb_io(b, 0, "s_out", IA_DTYPE_STRING, 1, &d2, NULL);
        struct ia_onnx_attr a_ints = {
            .name = "value_ints", .type = IA_ONNX_ATTR_INTS, .n = 3, .ints = ints};
        struct ia_onnx_attr a_f = {.name = "value_float", .type = IA_ONNX_ATTR_FLOAT, .f = 2.5f};
        struct ia_onnx_attr a_fs = {
            .name = "value_floats", .type = IA_ONNX_ATTR_FLOATS, .n = 2, .floats = floats};
        struct ia_onnx_attr a_ss = {
            .name = "value_strings", .type = IA_ONNX_ATTR_STRINGS, .n = 2, .strings = strs};
        struct ia_onnx_attr sh[2] = {{.name = "start", .type = IA_ONNX_ATTR_INT, .i = 1},
                                     {.name = "end", .type = IA_ONNX_ATTR_INT, .i = -1}};
        struct ia_onnx_attr sh2[1] = {{.name = "start", .type = IA_ONNX_ATTR_INT, .i = 10}};
        mb_node(b, "Constant", 0, NULL, 1, A("c_ints"), 1, &a_ints);
        mb_node(b, "Constant", 0, NULL, 1, A("c_float"), 1, &a_f);
        mb_node(b, "Constant", 0, NULL, 1, A("c_floats"), 1, &a_fs);
        mb_node(b, "Constant", 0, NULL, 1, A("c_strs"), 1, &a_ss);
        mb_node(b, "Shape", 1, A("x"), 1, A("shape_mid"), 2, sh);
        mb_node(b, "Shape", 1, A("x"), 1, A("shape_empty"), 1, sh2);
        mb_node(b, "Size", 1, A("x"), 1, A("size"), 0, NULL);
        mb_node(b, "Identity", 1, A("s"), 1, A("s_out"), 0, NULL);
        struct ia_model *m = mb_load(b);
        struct ia_session *s;
        struct ia_session_opts o = {.threads = 1, .no_fold = !fold};
        REQUIRE(ia_session_create(m, &o, &s) == IA_OK);
        struct ia_session_stats st;
        ia_session_get_stats(s, &st);
        CHECK_EQ_INT(st.n_folded, fold ? 4 : 0);
        float xd[120] = {0};
        struct ia_tensor xt = tens(IA_DTYPE_FLOAT32, 4, d4, xd);
        struct ia_onnx_bytes in_s[2] = {{(const uint8_t *)"hello", 5}, {(const uint8_t *)"w", 1}};
        struct ia_tensor st_in = tens(IA_DTYPE_STRING, 1, &d2, in_s);
        st_in.strings = in_s;
        const struct ia_tensor *ins[2] = {&xt, &st_in};
        struct ia_tensor *const *o_;
        REQUIRE(ia_session_run(s, 2, A("x", "s"), ins, 8, &o_) == IA_OK);
        const int64_t *ci = o_[0]->data;
        CHECK(o_[0]->dtype == IA_DTYPE_INT64 && o_[0]->numel == 3 && ci[0] == 7 && ci[2] == 9);
        CHECK(o_[1]->rank == 0 && *(const float *)o_[1]->data == 2.5f);
        CHECK(o_[2]->numel == 2 && ((const float *)o_[2]->data)[1] == 1.5f);
        const struct ia_onnx_bytes *cs = o_[3]->strings;
        CHECK(o_[3]->dtype == IA_DTYPE_STRING && cs && cs[0].len == 2 &&
              !memcmp(cs[0].data, "ab", 2) && cs[1].len == 0);
        const int64_t *sm = o_[4]->data;
        CHECK(o_[4]->numel == 2 && sm[0] == 3 && sm[1] == 4);
        CHECK(o_[5]->numel == 0 && o_[5]->rank == 1);
        CHECK(*(const int64_t *)o_[6]->data == 120);
        const struct ia_onnx_bytes *so = o_[7]->strings;
        CHECK(so && so[0].len == 5 && !memcmp(so[0].data, "hello", 5));
        CHECK(so && so[0].data != in_s[0].data); /* the engine's own copy */
        ia_session_destroy(s);
        ia_model_free(m);
    }
}

/* ---- control flow ------------------------------------------------------------- */

static void test_if_from_file(void) {
    const char *src = getenv("IA_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/models/if_model.onnx", src ? src : "..");
    struct ia_model *m;
    REQUIRE(ia_onnx_load(path, &m) == IA_OK);
    struct ia_session *s;
    REQUIRE(ia_session_create(m, NULL, &s) == IA_OK);
    float x[2] = {1, -2};
    int64_t d2 = 2;
    struct ia_tensor xt = tens(IA_DTYPE_FLOAT32, 1, &d2, x);
    const struct ia_tensor *ins[1] = {&xt};
    struct ia_tensor *const *outs;
    REQUIRE(ia_session_run(s, 1, A("x"), ins, 1, &outs) == IA_OK);
    const float *y = outs[0]->data;
    CHECK(y[0] == 1 && y[1] == 0); /* then_branch: Relu(x) read from the outer scope */
    ia_session_destroy(s);
    ia_model_free(m);
}

/* Hand-built models (the builder does not write graph attributes). */
static const struct ia_onnx_opset opset13[] = {{"", 13}};
static struct ia_onnx_dim dim1[] = {{1, NULL}};
static struct ia_onnx_dim dim32[] = {{3, NULL}, {2, NULL}};
static struct ia_onnx_dim dim2[] = {{2, NULL}};

#define TVAL(nm, dt, r, d)                                                                         \
    { .name = nm, .is_tensor = 1, .dtype = dt, .has_shape = 1, .rank = r, .dims = d }

/* Loop(M=3, cond=true, v0) with body v = v + step (step = Relu(v0) from
 * the outer scope), cond passed through, scan output v. */
static void test_loop(void) {
    static const char *const b_in0[] = {"v_in", "step"}, *const b_out0[] = {"v_out"};
    static const char *const b_in1[] = {"cond_in"}, *const b_out1[] = {"cond_out"};
    static const char *const b_in2[] = {"v_out"}, *const b_out2[] = {"scan"};
    static const struct ia_onnx_node body_nodes[] = {
        {.name = "add",
         .op_type = "Add",
         .domain = "",
         .n_inputs = 2,
         .inputs = b_in0,
         .n_outputs = 1,
         .outputs = b_out0},
        {.name = "c",
         .op_type = "Identity",
         .domain = "",
         .n_inputs = 1,
         .inputs = b_in1,
         .n_outputs = 1,
         .outputs = b_out1},
        {.name = "sc",
         .op_type = "Identity",
         .domain = "",
         .n_inputs = 1,
         .inputs = b_in2,
         .n_outputs = 1,
         .outputs = b_out2},
    };
    static const struct ia_onnx_value body_in[] = {TVAL("iter", IA_DTYPE_INT64, 0, NULL),
                                                   TVAL("cond_in", IA_DTYPE_BOOL, 0, NULL),
                                                   TVAL("v_in", IA_DTYPE_FLOAT32, 1, dim1)};
    static const struct ia_onnx_value body_out[] = {TVAL("cond_out", IA_DTYPE_BOOL, 0, NULL),
                                                    TVAL("v_out", IA_DTYPE_FLOAT32, 1, dim1),
                                                    TVAL("scan", IA_DTYPE_FLOAT32, 1, dim1)};
    static const struct ia_onnx_graph body = {.name = "body",
                                              .n_inputs = 3,
                                              .inputs = body_in,
                                              .n_outputs = 3,
                                              .outputs = body_out,
                                              .n_nodes = 3,
                                              .nodes = body_nodes};
    static const struct ia_onnx_attr loop_attr[] = {
        {.name = "body", .type = IA_ONNX_ATTR_GRAPH, .g = &body}};
    static const char *const l_in[] = {"M", "cond", "v0"}, *const l_out[] = {"v_final", "scans"};
    static const char *const r_in[] = {"v0"}, *const r_out[] = {"step"};
    /* step is a node's output in the arena: the Loop's implicit input keeps it alive. */
    static const struct ia_onnx_node nodes[] = {{.name = "relu",
                                                 .op_type = "Relu",
                                                 .domain = "",
                                                 .n_inputs = 1,
                                                 .inputs = r_in,
                                                 .n_outputs = 1,
                                                 .outputs = r_out},
                                                {.name = "loop",
                                                 .op_type = "Loop",
                                                 .domain = "",
                                                 .n_inputs = 3,
                                                 .inputs = l_in,
                                                 .n_outputs = 2,
                                                 .outputs = l_out,
                                                 .n_attrs = 1,
                                                 .attrs = loop_attr}};
    static const int64_t m_val = 3, d1 = 1;
    static const uint8_t c_val = 1;
    static const struct ia_onnx_tensor inits[] = {
        {.name = "M", .dtype = IA_DTYPE_INT64, .rank = 0, .numel = 1, .data = &m_val, .nbytes = 8},
        {.name = "cond",
         .dtype = IA_DTYPE_BOOL,
         .rank = 0,
         .numel = 1,
         .data = &c_val,
         .nbytes = 1},
    };
    static const struct ia_onnx_value g_in[] = {TVAL("v0", IA_DTYPE_FLOAT32, 1, dim1)};
    static const struct ia_onnx_value g_out[] = {
        {.name = "v_final", .is_tensor = 1, .dtype = IA_DTYPE_FLOAT32},
        {.name = "scans", .is_tensor = 1, .dtype = IA_DTYPE_FLOAT32}};
    struct ia_model m = {.ir_version = 8,
                         .n_opsets = 1,
                         .opsets = opset13,
                         .graph = {.name = "loop",
                                   .n_inputs = 1,
                                   .inputs = g_in,
                                   .n_outputs = 2,
                                   .outputs = g_out,
                                   .n_nodes = 2,
                                   .nodes = nodes,
                                   .n_initializers = 2,
                                   .initializers = inits}};
    struct ia_session *s;
    REQUIRE(ia_session_create(&m, NULL, &s) == IA_OK);
    float v0 = 0.5f;
    struct ia_tensor vt = tens(IA_DTYPE_FLOAT32, 1, &d1, &v0);
    const struct ia_tensor *ins[1] = {&vt};
    struct ia_tensor *const *outs;
    for (int round = 0; round < 2; round++) {
        REQUIRE(ia_session_run(s, 1, A("v0"), ins, 2, &outs) == IA_OK);
        CHECK(*(const float *)outs[0]->data == 2.0f);
        CHECK_EQ_INT(outs[1]->rank, 2);
        CHECK_EQ_INT(outs[1]->dims[0], 3);
        CHECK_EQ_INT(outs[1]->dims[1], 1);
        const float *sc = outs[1]->data;
        CHECK(sc[0] == 1.0f && sc[1] == 1.5f && sc[2] == 2.0f);
    }
    ia_session_destroy(s);
}

/* Scan over X[3,2] with state s = s + x_t; scan output s (reversed output
 * direction on the second run of the check). */
static void test_scan(void) {
    static const char *const b_in0[] = {"s_in", "x_t"}, *const b_out0[] = {"s_out"};
    static const char *const b_in1[] = {"s_out"}, *const b_out1[] = {"y_t"};
    static const struct ia_onnx_node body_nodes[] = {
        {.name = "add",
         .op_type = "Add",
         .domain = "",
         .n_inputs = 2,
         .inputs = b_in0,
         .n_outputs = 1,
         .outputs = b_out0},
        {.name = "id",
         .op_type = "Identity",
         .domain = "",
         .n_inputs = 1,
         .inputs = b_in1,
         .n_outputs = 1,
         .outputs = b_out1},
    };
    static const struct ia_onnx_value body_in[] = {TVAL("s_in", IA_DTYPE_FLOAT32, 1, dim2),
                                                   TVAL("x_t", IA_DTYPE_FLOAT32, 1, dim2)};
    static const struct ia_onnx_value body_out[] = {TVAL("s_out", IA_DTYPE_FLOAT32, 1, dim2),
                                                    TVAL("y_t", IA_DTYPE_FLOAT32, 1, dim2)};
    static const struct ia_onnx_graph body = {.name = "body",
                                              .n_inputs = 2,
                                              .inputs = body_in,
                                              .n_outputs = 2,
                                              .outputs = body_out,
                                              .n_nodes = 2,
                                              .nodes = body_nodes};
    static const int64_t rev[1] = {1};
    static const struct ia_onnx_attr attrs[] = {
        {.name = "body", .type = IA_ONNX_ATTR_GRAPH, .g = &body},
        {.name = "num_scan_inputs", .type = IA_ONNX_ATTR_INT, .i = 1},
        {.name = "scan_output_directions", .type = IA_ONNX_ATTR_INTS, .n = 1, .ints = rev}};
    static const char *const s_in[] = {"s0", "X"}, *const s_out[] = {"s_final", "Y"};
    for (int reverse = 0; reverse < 2; reverse++) {
        const struct ia_onnx_node nodes[] = {{.name = "scan",
                                              .op_type = "Scan",
                                              .domain = "",
                                              .n_inputs = 2,
                                              .inputs = s_in,
                                              .n_outputs = 2,
                                              .outputs = s_out,
                                              .n_attrs = reverse ? 3u : 2u,
                                              .attrs = attrs}};
        static const struct ia_onnx_value g_in[] = {TVAL("s0", IA_DTYPE_FLOAT32, 1, dim2),
                                                    TVAL("X", IA_DTYPE_FLOAT32, 2, dim32)};
        static const struct ia_onnx_value g_out[] = {TVAL("s_final", IA_DTYPE_FLOAT32, 1, dim2),
                                                     TVAL("Y", IA_DTYPE_FLOAT32, 2, dim32)};
        struct ia_model m = {.ir_version = 8,
                             .n_opsets = 1,
                             .opsets = opset13,
                             .graph = {.name = "scan",
                                       .n_inputs = 2,
                                       .inputs = g_in,
                                       .n_outputs = 2,
                                       .outputs = g_out,
                                       .n_nodes = 1,
                                       .nodes = nodes}};
        struct ia_session *s;
        REQUIRE(ia_session_create(&m, NULL, &s) == IA_OK);
        float s0[2] = {0, 0}, x[6] = {1, 2, 3, 4, 5, 6};
        int64_t d2 = 2, d32[2] = {3, 2};
        struct ia_tensor st = tens(IA_DTYPE_FLOAT32, 1, &d2, s0),
                         xt = tens(IA_DTYPE_FLOAT32, 2, d32, x);
        const struct ia_tensor *ins[2] = {&st, &xt};
        struct ia_tensor *const *outs;
        REQUIRE(ia_session_run(s, 2, A("s0", "X"), ins, 2, &outs) == IA_OK);
        const float *sf = outs[0]->data, *y = outs[1]->data;
        CHECK(sf[0] == 9 && sf[1] == 12);
        static const float fwd[6] = {1, 2, 4, 6, 9, 12}, bwd[6] = {9, 12, 4, 6, 1, 2};
        CHECK(!memcmp(y, reverse ? bwd : fwd, sizeof fwd));
        ia_session_destroy(s);
    }
}

/* Concat and Split big enough to be split over the pool (a decode step's
 * KV cache, GPT-2's q/k/v): every element lands where it belongs, with 1
 * and 3 threads. */
static void test_big_copies_on_the_pool(void) {
    enum { H = 12, S = 500, D = 64 };
    struct ia_onnx_builder *b = mb_new(17);
    int64_t da[3] = {H, S, D}, db[3] = {H, 1, D}, dc[3] = {H, S + 1, D}, d0[3] = {H, S + 1, 48},
            d1[3] = {H, S + 1, 16}, two = 2, sizes[2] = {48, 16};
    mb_io(b, 1, "a", IA_DTYPE_FLOAT32, 3, da, NULL);
    mb_io(b, 1, "b", IA_DTYPE_FLOAT32, 3, db, NULL);
    mb_io(b, 0, "c", IA_DTYPE_FLOAT32, 3, dc, NULL);
    mb_io(b, 0, "s0", IA_DTYPE_FLOAT32, 3, d0, NULL);
    mb_io(b, 0, "s1", IA_DTYPE_FLOAT32, 3, d1, NULL);
    ia_onnx_builder_add_initializer(b, "sizes", IA_DTYPE_INT64, 1, &two, sizes, sizeof sizes);
    struct ia_onnx_attr ax1 = {.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 1},
                        ax2 = {.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 2};
    mb_node(b, "Concat", 2, A("a", "b"), 1, A("c"), 1, &ax1);
    mb_node(b, "Split", 2, A("c", "sizes"), 2, A("s0", "s1"), 1, &ax2);
    struct ia_model *m = mb_load(b);
    float *xa = malloc(sizeof(float) * H * S * D), xb[H * D];
    REQUIRE(xa);
    for (int i = 0; i < H * S * D; i++) xa[i] = (float)i;
    for (int i = 0; i < H * D; i++) xb[i] = -(float)i - 1.0f;
    struct ia_tensor ta = tens(IA_DTYPE_FLOAT32, 3, da, xa), tb = tens(IA_DTYPE_FLOAT32, 3, db, xb);
    const struct ia_tensor *ins[2] = {&ta, &tb};
    for (int th = 1; th <= 3; th += 2) {
        struct ia_session *s = NULL;
        struct ia_session_opts o = {.threads = th};
        REQUIRE(ia_session_create(m, &o, &s) == IA_OK);
        struct ia_tensor *const *y;
        REQUIRE(ia_session_run(s, 2, A("a", "b"), ins, 3, &y) == IA_OK);
        const float *c = y[0]->data, *s0 = y[1]->data, *s1 = y[2]->data;
        long bad = 0;
        for (int h = 0; h < H; h++)
            for (int r = 0; r <= S; r++)
                for (int d = 0; d < D; d++) {
                    float want = r < S ? xa[(h * S + r) * D + d] : xb[h * D + d];
                    size_t at = ((size_t)h * (S + 1) + (size_t)r);
                    bad += c[at * D + (size_t)d] != want;
                    bad += (d < 48 ? s0[at * 48 + (size_t)d] : s1[at * 16 + (size_t)d - 48]) != want;
                }
        CHECK_EQ_INT(bad, 0);
        ia_session_destroy(s);
    }
    free(xa);
    ia_model_free(m);
}

/* The issue's rule: runs after the first (same shapes) allocate nothing.
 * A decode-like graph: a KV-cache Concat whose output (396 KiB, above
 * glibc's mmap threshold) is a graph output, an LSTM (asks for kernel
 * scratch) and a MatMul (GEMM packing), on two threads. */
static void test_steady_state_runs_allocate_nothing(void) {
    enum { H = 12, S = 128, D = 64, T = 5, I = 3, HID = 4 };
    struct ia_onnx_builder *b = mb_new(14);
    int64_t dp[4] = {1, H, S, D}, dn[4] = {1, H, 1, D}, dc[4] = {1, H, S + 1, D};
    int64_t dx[3] = {T, 1, I}, dw[3] = {1, 4 * HID, I}, dr[3] = {1, 4 * HID, HID},
            dy[4] = {T, 1, 1, HID}, dm[2] = {D, 32}, dmo[4] = {1, H, S + 1, 32};
    mb_io(b, 1, "past", IA_DTYPE_FLOAT32, 4, dp, NULL);
    mb_io(b, 1, "new", IA_DTYPE_FLOAT32, 4, dn, NULL);
    mb_io(b, 1, "x", IA_DTYPE_FLOAT32, 3, dx, NULL);
    mb_io(b, 0, "present", IA_DTYPE_FLOAT32, 4, dc, NULL);
    mb_io(b, 0, "y", IA_DTYPE_FLOAT32, 4, dy, NULL);
    mb_io(b, 0, "proj", IA_DTYPE_FLOAT32, 4, dmo, NULL);
    static float w[4 * HID * I], r[4 * HID * HID], wm[D * 32];
    for (int i = 0; i < 4 * HID * I; i++) w[i] = (float)(i % 7) * 0.1f - 0.3f;
    for (int i = 0; i < 4 * HID * HID; i++) r[i] = (float)(i % 5) * 0.1f - 0.2f;
    for (int i = 0; i < D * 32; i++) wm[i] = (float)(i % 11) * 0.01f;
    ia_onnx_builder_add_initializer(b, "W", IA_DTYPE_FLOAT32, 3, dw, w, sizeof w);
    ia_onnx_builder_add_initializer(b, "R", IA_DTYPE_FLOAT32, 3, dr, r, sizeof r);
    ia_onnx_builder_add_initializer(b, "Wm", IA_DTYPE_FLOAT32, 2, dm, wm, sizeof wm);
    struct ia_onnx_attr ax2 = {.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 2},
                        hs = {.name = "hidden_size", .type = IA_ONNX_ATTR_INT, .i = HID};
    mb_node(b, "Concat", 2, A("past", "new"), 1, A("present"), 1, &ax2);
    mb_node(b, "LSTM", 3, A("x", "W", "R"), 1, A("y"), 1, &hs);
    mb_node(b, "MatMul", 2, A("present", "Wm"), 1, A("proj"), 0, NULL);
    struct ia_model *m = mb_load(b);
    float *past = malloc(sizeof(float) * H * S * D), nw[H * D], x[T * I];
    REQUIRE(past);
    for (int i = 0; i < H * S * D; i++) past[i] = (float)(i % 1000);
    for (int i = 0; i < H * D; i++) nw[i] = -(float)i;
    for (int i = 0; i < T * I; i++) x[i] = (float)i * 0.1f;
    struct ia_tensor tp = tens(IA_DTYPE_FLOAT32, 4, dp, past), tn = tens(IA_DTYPE_FLOAT32, 4, dn, nw),
                     tx = tens(IA_DTYPE_FLOAT32, 3, dx, x);
    const struct ia_tensor *ins[3] = {&tp, &tn, &tx};
    struct ia_session *s = NULL;
    struct ia_session_opts o = {.threads = 2};
    REQUIRE(ia_session_create(m, &o, &s) == IA_OK);
    struct ia_tensor *const *y;
    float y_first[T * HID];
    REQUIRE(ia_session_run(s, 3, A("past", "new", "x"), ins, 3, &y) == IA_OK);
    memcpy(y_first, y[1]->data, sizeof y_first);
    for (int run = 2; run <= 3; run++) {
        uint64_t before = ia_alloc_count();
        REQUIRE(ia_session_run(s, 3, A("past", "new", "x"), ins, 3, &y) == IA_OK);
        CHECK_EQ_INT(ia_alloc_count() - before, 0);
        const float *c = y[0]->data;
        long bad = 0;
        for (int h = 0; h < H; h++)
            for (int q = 0; q <= S; q++)
                for (int d = 0; d < D; d++)
                    bad += c[((size_t)h * (S + 1) + (size_t)q) * D + (size_t)d] !=
                           (q < S ? past[(h * S + q) * D + d] : nw[h * D + d]);
        CHECK_EQ_INT(bad, 0);
        CHECK(memcmp(y_first, y[1]->data, sizeof y_first) == 0);
    }
    ia_session_destroy(s);
    free(past);
    ia_model_free(m);
}

static void test_alloc_failures(void) {
    struct ia_model *m = add_model();
    int ok = 0;
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t d[2] = {2, 3};
    struct ia_tensor xt = tens(IA_DTYPE_FLOAT32, 2, d, x);
    const struct ia_tensor *ins[1] = {&xt};
    for (long n = 0; n < 400 && !ok; n++) {
        struct ia_session *s = NULL;
        struct ia_session_opts o = {.threads = 1};
        ia_alloc_fail_after(n);
        int rc = ia_session_create(m, &o, &s);
        struct ia_tensor *const *outs;
        if (rc == IA_OK) rc = ia_session_run(s, 1, A("x"), ins, 1, &outs);
        ia_alloc_fail_after(-1);
        CHECK(rc == IA_OK || rc == IA_ENOMEM);
        ok = rc == IA_OK;
        ia_session_destroy(s);
    }
    CHECK(ok);
    ia_model_free(m);
}

/* ---- tensor files ------------------------------------------------------------------ */

static void fill(struct ia_tensor *t) {
    uint8_t *p = t->data;
    for (uint64_t i = 0; i < t->nbytes; i++) p[i] = (uint8_t)(i * 7 + 1);
    if (t->dtype == IA_DTYPE_BOOL)
        for (uint64_t i = 0; i < t->numel; i++) p[i] &= 1;
}

static void test_tensor_io_round_trips(void) {
    int64_t dims[3] = {2, 1, 3};
    for (int dt = IA_DTYPE_FLOAT32; dt < IA_DTYPE_STRING; dt++) {
        struct ia_tensor *t;
        REQUIRE(ia_tensor_io_alloc((enum ia_dtype)dt, 3, dims, "t", &t) == IA_OK);
        fill(t);
        for (int fmt = 0; fmt < 2; fmt++) {
            uint8_t *buf;
            size_t len;
            int rc = fmt ? ia_tensor_io_encode_npy(t, &buf, &len)
                         : ia_tensor_io_encode_pb(t, "nm", &buf, &len);
            if (fmt && dt == IA_DTYPE_BFLOAT16) {
                CHECK(rc == IA_EUNSUPPORTED);
                continue;
            }
            REQUIRE(rc == IA_OK);
            struct ia_tensor *r = NULL;
            rc = fmt ? ia_tensor_io_read_npy(buf, len, "mem", &r)
                     : ia_tensor_io_read_pb(buf, len, "mem", &r);
            ia_free(buf);
            REQUIRE(rc == IA_OK);
            CHECK(r->dtype == t->dtype && ia_tensor_same_shape(r, t));
            CHECK(r->nbytes == t->nbytes && !memcmp(r->data, t->data, (size_t)t->nbytes));
            CHECK((uintptr_t)r->data % 64 == 0);
            if (!fmt) CHECK_EQ_STR(r->name, "nm");
            ia_tensor_io_free(r);
        }
        ia_tensor_io_free(t);
    }
    /* strings, scalars and empty tensors */
    struct ia_onnx_bytes s[3] = {
        {(const uint8_t *)"abc", 3}, {NULL, 0}, {(const uint8_t *)"x\0y", 3}};
    int64_t d3 = 3, d0[2] = {0, 4};
    struct ia_tensor st = tens(IA_DTYPE_STRING, 1, &d3, s);
    for (int fmt = 0; fmt < 2; fmt++) {
        uint8_t *buf;
        size_t len;
        REQUIRE((fmt ? ia_tensor_io_encode_npy(&st, &buf, &len)
                     : ia_tensor_io_encode_pb(&st, NULL, &buf, &len)) == IA_OK);
        struct ia_tensor *r;
        REQUIRE((fmt ? ia_tensor_io_read_npy(buf, len, "m", &r)
                     : ia_tensor_io_read_pb(buf, len, "m", &r)) == IA_OK);
        ia_free(buf);
        CHECK(r->dtype == IA_DTYPE_STRING && r->numel == 3 && r->strings == r->data);
        CHECK(r->strings[0].len == 3 && !memcmp(r->strings[0].data, "abc", 3) &&
              r->strings[1].len == 0);
        CHECK(r->strings[2].len == 3 && !memcmp(r->strings[2].data, "x\0y", 3));
        struct ia_tensor *c;
        REQUIRE(ia_tensor_io_clone(r, "copy", &c) == IA_OK);
        CHECK(c->strings[2].len == 3 && c->strings[2].data != r->strings[2].data &&
              !strcmp(c->name, "copy"));
        ia_tensor_io_free(c);
        ia_tensor_io_free(r);
    }
    float one = 1.5f;
    struct ia_tensor sc = tens(IA_DTYPE_FLOAT32, 0, NULL, &one),
                     em = tens(IA_DTYPE_INT64, 2, d0, NULL);
    const struct ia_tensor *cases[2] = {&sc, &em};
    for (int i = 0; i < 2; i++)
        for (int fmt = 0; fmt < 2; fmt++) {
            uint8_t *buf;
            size_t len;
            REQUIRE((fmt ? ia_tensor_io_encode_npy(cases[i], &buf, &len)
                         : ia_tensor_io_encode_pb(cases[i], NULL, &buf, &len)) == IA_OK);
            if (fmt) CHECK((len - cases[i]->nbytes) % 64 == 0);
            struct ia_tensor *r;
            REQUIRE((fmt ? ia_tensor_io_read_npy(buf, len, "m", &r)
                         : ia_tensor_io_read_pb(buf, len, "m", &r)) == IA_OK);
            ia_free(buf);
            CHECK(ia_tensor_same_shape(r, cases[i]) && r->dtype == cases[i]->dtype);
            if (i == 0) CHECK(*(float *)r->data == 1.5f);
            ia_tensor_io_free(r);
        }
}

static int npy_read_str(const char *hdr, const void *data, size_t dlen, struct ia_tensor **out) {
    uint8_t buf[1024];
    size_t hl = strlen(hdr);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)hl;
    buf[9] = 0;
    memcpy(buf + 10, hdr, hl);
    memcpy(buf + 10 + hl, data, dlen);
    return ia_tensor_io_read_npy(buf, 10 + hl + dlen, "t.npy", out);
}

static void test_tensor_io_hostile(void) {
    struct ia_tensor *t = NULL;
    float f[2] = {1, 2};
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f, 8, &t) ==
          IA_OK);
    ia_tensor_io_free(t);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", f, 8, &t) ==
          IA_EUNSUPPORTED);
    CHECK(npy_read_str("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", f, 8, &t) ==
          IA_EUNSUPPORTED);
    CHECK(npy_read_str("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", f, 8, &t) ==
          IA_EUNSUPPORTED);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", f, 8, &t) ==
          IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "t.npy") != NULL);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", f, 8, &t) ==
          IA_EFORMAT);
    CHECK(npy_read_str(
              "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", f,
              8, &t) == IA_EFORMAT);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, "
                       "4294967296), }\n",
                       f, 8, &t) != IA_OK);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n",
                       f, 4, &t) == IA_EUNSUPPORTED);
    CHECK(npy_read_str("{'descr': '<f4', 'shape': (2,), }\n", f, 8, &t) == IA_EFORMAT);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", f, 8, &t) ==
          IA_EFORMAT);
    CHECK(npy_read_str("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n", f, 8, &t) ==
          IA_EFORMAT);
    CHECK(npy_read_str("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", f, 8,
                       &t) == IA_EFORMAT);
    /* UTF-32 strings become UTF-8 */
    uint32_t u[4] = {0x68, 0xe9, 0x1f600, 0};
    REQUIRE(npy_read_str("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }\n", u, 16,
                         &t) == IA_OK);
    CHECK(t->strings[0].len == 3 && !memcmp(t->strings[0].data, "h\xc3\xa9", 3));
    CHECK(t->strings[1].len == 4 && !memcmp(t->strings[1].data, "\xf0\x9f\x98\x80", 4));
    ia_tensor_io_free(t);
    uint32_t bad_cp = 0xd800;
    CHECK(npy_read_str("{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }\n", &bad_cp, 4,
                       &t) == IA_EFORMAT);
    CHECK(ia_tensor_io_read_npy("\x93NUMPY", 6, "x", &t) == IA_EFORMAT);
    CHECK(ia_tensor_io_read_npy("\x93NUMPY\x09\x00\x00\x00", 10, "x", &t) == IA_EUNSUPPORTED);
    CHECK(ia_tensor_io_read_npy("\x93NUMPY\x01\x00\xff\x00{", 11, "x", &t) == IA_EFORMAT);
    CHECK(ia_tensor_io_read_npy("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12, "x", &t) == IA_ERANGE);
    /* TensorProto */
    CHECK(ia_tensor_io_read_pb("\xff\xff\xff", 3, "p.pb", &t) == IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "p.pb") != NULL);
    /* dims=2, FLOAT, raw_data of 4 bytes (8 needed) */
    CHECK(ia_tensor_io_read_pb("\x08\x02\x10\x01\x4a\x04\x00\x00\x80\x3f", 10, "p", &t) ==
          IA_EFORMAT);
    /* negative dim */
    CHECK(ia_tensor_io_read_pb("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x10\x01", 13, "p",
                               &t) == IA_EFORMAT);
    /* complex64 */
    CHECK(ia_tensor_io_read_pb("\x08\x01\x10\x0e\x4a\x08\0\0\0\0\0\0\0\0", 14, "p", &t) ==
          IA_EUNSUPPORTED);
    /* no data type */
    CHECK(ia_tensor_io_read_pb("\x08\x01", 2, "p", &t) == IA_EFORMAT);
    /* float_data (typed): dims=2, FLOAT, float_data packed [1, 2] */
    REQUIRE(ia_tensor_io_read_pb("\x08\x02\x10\x01\x22\x08\x00\x00\x80\x3f\x00\x00\x00\x40", 14,
                                 "p", &t) == IA_OK);
    CHECK(((float *)t->data)[1] == 2.0f);
    ia_tensor_io_free(t);
    /* int32_data for int8 */
    REQUIRE(ia_tensor_io_read_pb("\x08\x02\x10\x03\x2a\x02\x05\x7f", 8, "p", &t) == IA_OK);
    CHECK(t->dtype == IA_DTYPE_INT8 && ((int8_t *)t->data)[0] == 5 &&
          ((int8_t *)t->data)[1] == 127);
    ia_tensor_io_free(t);
    CHECK(ia_tensor_io_read("/nonexistent/file.pb", &t) == IA_ENOTFOUND);
}

TEST_MAIN(T(test_run_and_rerun_with_new_shapes), T(test_input_errors),
          T(test_unsupported_ops_at_create), T(test_basic_ops), T(test_if_from_file), T(test_loop),
          T(test_scan), T(test_big_copies_on_the_pool),
          T(test_steady_state_runs_allocate_nothing), T(test_alloc_failures), T(test_tensor_io_round_trips),
          T(test_tensor_io_hostile))
