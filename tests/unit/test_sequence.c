/* Sequence and optional values: the Sequence and Optional ops, Identity/If/
 * Loop carrying them, the session's checks of sequence and optional graph
 * inputs, the engine refusing them to tensor-only kernels, and
 * SequenceProto/OptionalProto files (tensor_io: round trips and hostile
 * bytes). Models are built by hand (the builder writes tensor types only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"

#define A(...) ((const char *const[]){__VA_ARGS__})
#define NODE(nm, op, ins, n_in, outs, n_out, at, n_at)                                             \
    {                                                                                              \
        .name = nm, .op_type = op, .domain = "", .n_inputs = n_in, .inputs = ins,                  \
        .n_outputs = n_out, .outputs = outs, .n_attrs = n_at, .attrs = at                          \
    }
#define TVAL(nm, dt)                                                                               \
    { .name = nm, .is_tensor = 1, .dtype = dt }
#define SEQ(nm, dt)                                                                                \
    {                                                                                              \
        .name = nm, .type = IA_ONNX_TYPE_SEQUENCE, .elem_type = IA_ONNX_TYPE_TENSOR,               \
        .elem_dtype = dt                                                                           \
    }
#define OPT(nm, inner, dt)                                                                         \
    { .name = nm, .type = IA_ONNX_TYPE_OPTIONAL, .elem_type = inner, .elem_dtype = dt }

static const struct ia_onnx_opset opset17[] = {{"", 17}};

static struct ia_tensor tens(enum ia_dtype dt, int rank, const int64_t *dims, const void *data) {
    struct ia_tensor t;
    memset(&t, 0, sizeof t);
    if (ia_tensor_set_shape(&t, dt, rank, dims) != IA_OK) abort();
    t.data = (void *)data;
    return t;
}

static struct ia_tensor seq_of(struct ia_tensor *items, size_t n, enum ia_dtype dt) {
    struct ia_tensor s;
    memset(&s, 0, sizeof s);
    ia_value_set_sequence(&s, dt);
    s.items = items;
    s.n_items = n;
    return s;
}

static struct ia_model model(const struct ia_onnx_value *in, size_t n_in,
                             const struct ia_onnx_value *out, size_t n_out,
                             const struct ia_onnx_node *nodes, size_t n_nodes,
                             const struct ia_onnx_tensor *inits, size_t n_inits) {
    struct ia_model m = {.ir_version = 8,
                         .n_opsets = 1,
                         .opsets = opset17,
                         .graph = {.name = "g",
                                   .n_inputs = n_in,
                                   .inputs = in,
                                   .n_outputs = n_out,
                                   .outputs = out,
                                   .n_nodes = n_nodes,
                                   .nodes = nodes,
                                   .n_initializers = n_inits,
                                   .initializers = inits}};
    return m;
}

static const int64_t i64_m1 = -1, i64_1 = 1, i64_0 = 0;
#define I64_SCALAR(nm, p)                                                                          \
    { .name = nm, .dtype = IA_DTYPE_INT64, .rank = 0, .numel = 1, .data = p, .nbytes = 8 }

/* ---- ops on sequences built inside the graph ------------------------------------ */

/* x[2,3] → SplitToSequence(axis 1, keepdims 0) = 3 items [2]; erase the
 * last; insert c at the front; length, item 1, stack (new_axis) and
 * concat (axis 0); and split with a scalar split (uneven chunks). */
static void test_sequence_ops(void) {
    const struct ia_onnx_attr split_at[] = {{.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 1},
                                            {.name = "keepdims", .type = IA_ONNX_ATTR_INT}};
    const struct ia_onnx_attr stack_at[] = {{.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 0},
                                            {.name = "new_axis", .type = IA_ONNX_ATTR_INT, .i = 1}};
    const struct ia_onnx_attr cat_at[] = {{.name = "axis", .type = IA_ONNX_ATTR_INT, .i = -1}};
    const struct ia_onnx_attr split2_at[] = {{.name = "axis", .type = IA_ONNX_ATTR_INT, .i = 1}};
    const struct ia_onnx_node nodes[] = {
        NODE("split", "SplitToSequence", A("x"), 1, A("s0"), 1, split_at, 2),
        NODE("erase", "SequenceErase", A("s0", "m1"), 2, A("s1"), 1, NULL, 0),
        NODE("ins", "SequenceInsert", A("s1", "c", "zero"), 3, A("s2"), 1, NULL, 0),
        NODE("len", "SequenceLength", A("s2"), 1, A("n"), 1, NULL, 0),
        NODE("at", "SequenceAt", A("s2", "one"), 2, A("a"), 1, NULL, 0),
        NODE("stack", "ConcatFromSequence", A("s2"), 1, A("st"), 1, stack_at, 2),
        NODE("cat", "ConcatFromSequence", A("s2"), 1, A("ct"), 1, cat_at, 1),
        NODE("split2", "SplitToSequence", A("x", "two"), 2, A("s3"), 1, split2_at, 1),
    };
    const float c_val[2] = {7, 8};
    const int64_t two = 2, d2 = 2;
    const struct ia_onnx_tensor inits[] = {
        I64_SCALAR("m1", &i64_m1),
        I64_SCALAR("zero", &i64_0),
        I64_SCALAR("one", &i64_1),
        I64_SCALAR("two", &two),
        {.name = "c",
         .dtype = IA_DTYPE_FLOAT32,
         .rank = 1,
         .dims = &d2,
         .numel = 2,
         .data = c_val,
         .nbytes = 8},
    };
    const struct ia_onnx_value in[] = {TVAL("x", IA_DTYPE_FLOAT32)};
    const struct ia_onnx_value out[] = {SEQ("s2", IA_DTYPE_FLOAT32),  TVAL("n", IA_DTYPE_INT64),
                                        TVAL("a", IA_DTYPE_FLOAT32),  TVAL("st", IA_DTYPE_FLOAT32),
                                        TVAL("ct", IA_DTYPE_FLOAT32), SEQ("s3", IA_DTYPE_FLOAT32)};
    struct ia_model m = model(in, 1, out, 6, nodes, 8, inits, 5);
    struct ia_session *s;
    REQUIRE(ia_session_create(&m, NULL, &s) == IA_OK);
    CHECK_EQ_INT(ia_session_output(s, 0)->type, IA_ONNX_TYPE_SEQUENCE);
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t dx[2] = {2, 3};
    struct ia_tensor xt = tens(IA_DTYPE_FLOAT32, 2, dx, x);
    const struct ia_tensor *ins[1] = {&xt};
    struct ia_tensor *const *o;
    for (int round = 0; round < 2; round++) {
        REQUIRE(ia_session_run(s, 1, A("x"), ins, 6, &o) == IA_OK);
        /* s0 = [1,4], [2,5], [3,6]; s1 drops [3,6]; s2 = [7,8], [1,4], [2,5] */
        REQUIRE(o[0]->kind == IA_KIND_SEQUENCE && o[0]->n_items == 3);
        CHECK(o[0]->dtype == IA_DTYPE_FLOAT32);
        const float *i0 = o[0]->items[0].data, *i2 = o[0]->items[2].data;
        CHECK_EQ_INT(o[0]->items[1].rank, 1);
        CHECK(i0[0] == 7 && i0[1] == 8 && i2[0] == 2 && i2[1] == 5);
        CHECK_EQ_INT(*(const int64_t *)o[1]->data, 3);
        const float *a = o[2]->data;
        CHECK(o[2]->rank == 1 && a[0] == 1 && a[1] == 4);
        CHECK(o[3]->rank == 2 && o[3]->dims[0] == 3 && o[3]->dims[1] == 2);
        const float *st = o[3]->data;
        CHECK(st[0] == 7 && st[1] == 8 && st[2] == 1 && st[5] == 5);
        CHECK(o[4]->rank == 1 && o[4]->dims[0] == 6);
        const float *ct = o[4]->data;
        CHECK(ct[0] == 7 && ct[2] == 1 && ct[5] == 5);
        /* split 2 along axis 1 of [2,3]: [2,2] then [2,1] */
        REQUIRE(o[5]->n_items == 2);
        CHECK(o[5]->items[0].dims[1] == 2 && o[5]->items[1].dims[1] == 1);
        const float *t0 = o[5]->items[0].data, *t1 = o[5]->items[1].data;
        CHECK(t0[0] == 1 && t0[1] == 2 && t0[2] == 4 && t0[3] == 5 && t1[0] == 3 && t1[1] == 6);
    }
    ia_session_destroy(s);
}

/* ---- sequence and optional graph inputs ------------------------------------------ */

static void test_value_inputs(void) {
    const struct ia_onnx_node nodes[] = {
        NODE("len", "SequenceLength", A("seq"), 1, A("n"), 1, NULL, 0),
        NODE("id", "Identity", A("seq"), 1, A("seq_copy"), 1, NULL, 0),
        NODE("has", "OptionalHasElement", A("opt"), 1, A("has"), 1, NULL, 0),
        NODE("idopt", "Identity", A("opt"), 1, A("opt_copy"), 1, NULL, 0),
    };
    const struct ia_onnx_value in[] = {SEQ("seq", IA_DTYPE_INT32),
                                       OPT("opt", IA_ONNX_TYPE_TENSOR, IA_DTYPE_FLOAT32)};
    const struct ia_onnx_value out[] = {TVAL("n", IA_DTYPE_INT64), SEQ("seq_copy", IA_DTYPE_INT32),
                                        TVAL("has", IA_DTYPE_BOOL),
                                        OPT("opt_copy", IA_ONNX_TYPE_TENSOR, IA_DTYPE_FLOAT32)};
    struct ia_model m = model(in, 2, out, 4, nodes, 4, NULL, 0);
    struct ia_session *s;
    REQUIRE(ia_session_create(&m, NULL, &s) == IA_OK);
    CHECK_EQ_INT(ia_session_input(s, 0)->type, IA_ONNX_TYPE_SEQUENCE);
    CHECK_EQ_INT(ia_session_input(s, 1)->type, IA_ONNX_TYPE_OPTIONAL);
    CHECK_EQ_INT(ia_session_input(s, 1)->elem_dtype, IA_DTYPE_FLOAT32);
    int32_t a[3] = {1, 2, 3}, b[1] = {9};
    int64_t d3 = 3, d1 = 1;
    struct ia_tensor items[2] = {tens(IA_DTYPE_INT32, 1, &d3, a), tens(IA_DTYPE_INT32, 1, &d1, b)};
    struct ia_tensor seq = seq_of(items, 2, IA_DTYPE_UNDEFINED);
    float f = 2.5f;
    struct ia_tensor ft = tens(IA_DTYPE_FLOAT32, 0, NULL, &f), none;
    memset(&none, 0, sizeof none);
    ia_value_set_none(&none);
    struct ia_tensor *const *o;
    const struct ia_tensor *ins[2] = {&seq, &ft};
    REQUIRE(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_OK);
    CHECK_EQ_INT(*(const int64_t *)o[0]->data, 2);
    REQUIRE(o[1]->kind == IA_KIND_SEQUENCE && o[1]->n_items == 2);
    CHECK(o[1]->items != items); /* the engine's own copy */
    CHECK(((const int32_t *)o[1]->items[0].data)[2] == 3 && o[1]->dtype == IA_DTYPE_INT32);
    CHECK_EQ_INT(*(const uint8_t *)o[2]->data, 1);
    CHECK(o[3]->kind == IA_KIND_TENSOR && *(const float *)o[3]->data == 2.5f);
    /* an empty optional, then an empty sequence */
    ins[1] = &none;
    REQUIRE(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_OK);
    CHECK_EQ_INT(*(const uint8_t *)o[2]->data, 0);
    CHECK(o[3]->kind == IA_KIND_NONE);
    struct ia_tensor empty = seq_of(NULL, 0, IA_DTYPE_UNDEFINED);
    ins[0] = &empty;
    REQUIRE(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_OK);
    CHECK_EQ_INT(*(const int64_t *)o[0]->data, 0);
    CHECK(o[1]->n_items == 0 && o[1]->dtype == IA_DTYPE_INT32); /* from the declaration */
    /* wrong kinds and types, each named */
    ins[0] = &ft;
    CHECK(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "'seq' is a tensor but the model declares a sequence"));
    ins[0] = &none;
    CHECK(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "empty optional"));
    float g[1] = {1};
    struct ia_tensor mixed_items[2] = {tens(IA_DTYPE_INT32, 1, &d1, b),
                                       tens(IA_DTYPE_FLOAT32, 1, &d1, g)};
    struct ia_tensor mixed = seq_of(mixed_items, 2, IA_DTYPE_UNDEFINED);
    ins[0] = &mixed;
    CHECK(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "item 1 is float32"));
    ins[0] = &seq;
    ins[1] = &seq;
    CHECK(ia_session_run(s, 2, A("seq", "opt"), ins, 4, &o) == IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "'opt'"));
    ia_session_destroy(s);
}

/* A tensor-only kernel never sees a sequence; op errors name the node. */
static void test_value_errors(void) {
    const struct ia_onnx_node relu[] = {NODE("r", "Relu", A("seq"), 1, A("y"), 1, NULL, 0)};
    const struct ia_onnx_value in[] = {SEQ("seq", IA_DTYPE_FLOAT32)};
    const struct ia_onnx_value out[] = {TVAL("y", IA_DTYPE_FLOAT32)};
    struct ia_model m = model(in, 1, out, 1, relu, 1, NULL, 0);
    struct ia_session *s;
    REQUIRE(ia_session_create(&m, NULL, &s) == IA_OK);
    float v = 1;
    int64_t d1 = 1;
    struct ia_tensor it = tens(IA_DTYPE_FLOAT32, 1, &d1, &v);
    struct ia_tensor seq = seq_of(&it, 1, IA_DTYPE_FLOAT32),
                     empty = seq_of(NULL, 0, IA_DTYPE_FLOAT32);
    const struct ia_tensor *ins[1] = {&seq};
    struct ia_tensor *const *o;
    CHECK(ia_session_run(s, 1, A("seq"), ins, 1, &o) == IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "is a sequence; the op takes tensors"));
    ia_session_destroy(s);

    const struct ia_onnx_attr cat_at[] = {{.name = "axis", .type = IA_ONNX_ATTR_INT}};
    const struct ia_onnx_node bad[] = {
        NODE("at", "SequenceAt", A("seq", "five"), 2, A("a"), 1, NULL, 0),
        NODE("cat", "ConcatFromSequence", A("seq"), 1, A("c"), 1, cat_at, 1),
        NODE("erase", "SequenceErase", A("seq"), 1, A("e"), 1, NULL, 0)};
    const int64_t five = 5;
    const struct ia_onnx_tensor inits[] = {I64_SCALAR("five", &five)};
    const struct ia_onnx_value outs3[] = {TVAL("a", IA_DTYPE_FLOAT32), TVAL("c", IA_DTYPE_FLOAT32),
                                          SEQ("e", IA_DTYPE_FLOAT32)};
    for (int k = 0; k < 3; k++) {
        struct ia_model mb = model(in, 1, &outs3[k], 1, &bad[k], 1, inits, 1);
        REQUIRE(ia_session_create(&mb, NULL, &s) == IA_OK);
        ins[0] = k == 0 ? &seq : &empty;
        CHECK(ia_session_run(s, 1, A("seq"), ins, 1, &o) == IA_EINVAL);
        const char *want[] = {"position 5 is outside [-1, 0]", "cannot concatenate an empty",
                              "cannot erase from an empty"};
        CHECK(strstr(ia_error_msg(), want[k]) != NULL);
        CHECK(strstr(ia_error_msg(), k == 0 ? "'at'" : k == 1 ? "'cat'" : "'erase'") != NULL);
        ia_session_destroy(s);
    }
}

/* ---- control flow ------------------------------------------------------------------ */

/* Loop(M=3) carrying a sequence from SequenceEmpty(int64), inserting the
 * iteration number each time; then If picks that sequence or an empty
 * Optional, and OptionalHasElement reads it. */
static void test_loop_and_if(void) {
    const struct ia_onnx_node body_nodes[] = {
        NODE("c", "Identity", A("cond_in"), 1, A("cond_out"), 1, NULL, 0),
        NODE("ins", "SequenceInsert", A("seq_in", "iter"), 2, A("seq_out"), 1, NULL, 0),
    };
    const struct ia_onnx_value body_in[] = {TVAL("iter", IA_DTYPE_INT64),
                                            TVAL("cond_in", IA_DTYPE_BOOL),
                                            SEQ("seq_in", IA_DTYPE_INT64)};
    const struct ia_onnx_value body_out[] = {TVAL("cond_out", IA_DTYPE_BOOL),
                                             SEQ("seq_out", IA_DTYPE_INT64)};
    const struct ia_onnx_graph body = {.name = "body",
                                       .n_inputs = 3,
                                       .inputs = body_in,
                                       .n_outputs = 2,
                                       .outputs = body_out,
                                       .n_nodes = 2,
                                       .nodes = body_nodes};
    const struct ia_onnx_attr then_opt_at[] = {{.name = "type", .type = IA_ONNX_ATTR_TYPE_PROTO}};
    const struct ia_onnx_node then_nodes[] = {
        NODE("none", "Optional", NULL, 0, A("t_out"), 1, then_opt_at, 1)};
    const struct ia_onnx_node else_nodes[] = {
        NODE("some", "Identity", A("loop_seq"), 1, A("e_out"), 1, NULL, 0)};
    const struct ia_onnx_value then_out[] = {OPT("t_out", IA_ONNX_TYPE_SEQUENCE, IA_DTYPE_INT64)};
    const struct ia_onnx_value else_out[] = {SEQ("e_out", IA_DTYPE_INT64)};
    const struct ia_onnx_graph then_g = {
        .name = "then", .n_outputs = 1, .outputs = then_out, .n_nodes = 1, .nodes = then_nodes};
    const struct ia_onnx_graph else_g = {
        .name = "else", .n_outputs = 1, .outputs = else_out, .n_nodes = 1, .nodes = else_nodes};
    const struct ia_onnx_attr loop_at[] = {
        {.name = "body", .type = IA_ONNX_ATTR_GRAPH, .g = &body}};
    const struct ia_onnx_attr if_at[] = {
        {.name = "then_branch", .type = IA_ONNX_ATTR_GRAPH, .g = &then_g},
        {.name = "else_branch", .type = IA_ONNX_ATTR_GRAPH, .g = &else_g}};
    const struct ia_onnx_attr empty_at[] = {{.name = "dtype", .type = IA_ONNX_ATTR_INT, .i = 7}};
    const struct ia_onnx_node nodes[] = {
        NODE("empty", "SequenceEmpty", NULL, 0, A("seq0"), 1, empty_at, 1),
        NODE("loop", "Loop", A("M", "", "seq0"), 3, A("loop_seq"), 1, loop_at, 1),
        NODE("if", "If", A("cond"), 1, A("picked"), 1, if_at, 2),
        NODE("has", "OptionalHasElement", A("picked"), 1, A("has"), 1, NULL, 0),
    };
    const int64_t three = 3;
    const struct ia_onnx_tensor inits[] = {I64_SCALAR("M", &three)};
    const struct ia_onnx_value in[] = {TVAL("cond", IA_DTYPE_BOOL)};
    const struct ia_onnx_value out[] = {SEQ("loop_seq", IA_DTYPE_INT64),
                                        OPT("picked", IA_ONNX_TYPE_SEQUENCE, IA_DTYPE_INT64),
                                        TVAL("has", IA_DTYPE_BOOL)};
    struct ia_model m = model(in, 1, out, 3, nodes, 4, inits, 1);
    struct ia_session *s;
    REQUIRE(ia_session_create(&m, NULL, &s) == IA_OK);
    uint8_t c = 0;
    struct ia_tensor ct = tens(IA_DTYPE_BOOL, 0, NULL, &c);
    const struct ia_tensor *ins[1] = {&ct};
    struct ia_tensor *const *o;
    REQUIRE(ia_session_run(s, 1, A("cond"), ins, 3, &o) == IA_OK);
    REQUIRE(o[0]->kind == IA_KIND_SEQUENCE && o[0]->n_items == 3);
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ_INT(*(const int64_t *)o[0]->items[i].data, (long long)i);
    REQUIRE(o[1]->kind == IA_KIND_SEQUENCE && o[1]->n_items == 3);
    CHECK_EQ_INT(*(const int64_t *)o[1]->items[2].data, 2);
    CHECK_EQ_INT(*(const uint8_t *)o[2]->data, 1);
    c = 1;
    REQUIRE(ia_session_run(s, 1, A("cond"), ins, 3, &o) == IA_OK);
    CHECK(o[1]->kind == IA_KIND_NONE);
    CHECK_EQ_INT(*(const uint8_t *)o[2]->data, 0);
    /* outputs survive a copy that outlives the session */
    struct ia_tensor *keep;
    REQUIRE(ia_tensor_io_clone(o[0], "kept", &keep) == IA_OK);
    ia_session_destroy(s);
    CHECK(keep->kind == IA_KIND_SEQUENCE && keep->n_items == 3);
    CHECK_EQ_STR(keep->name, "kept");
    CHECK_EQ_INT(*(const int64_t *)keep->items[1].data, 1);
    ia_tensor_io_free(keep);
}

/* ---- files --------------------------------------------------------------------------- */

static void test_value_files(void) {
    int64_t d2 = 2, d1 = 1;
    float a[2] = {1, 2}, b[1] = {3};
    struct ia_tensor items[2] = {tens(IA_DTYPE_FLOAT32, 1, &d2, a),
                                 tens(IA_DTYPE_FLOAT32, 1, &d1, b)};
    struct ia_tensor seq = seq_of(items, 2, IA_DTYPE_FLOAT32);
    uint8_t *buf;
    size_t len;
    REQUIRE(ia_tensor_io_encode_pb(&seq, "s", &buf, &len) == IA_OK);
    struct ia_tensor *r;
    REQUIRE(ia_tensor_io_read_value_pb(buf, len, IA_ONNX_TYPE_SEQUENCE, "mem", &r) == IA_OK);
    CHECK(r->kind == IA_KIND_SEQUENCE && r->n_items == 2 && r->dtype == IA_DTYPE_FLOAT32);
    CHECK_EQ_STR(r->name, "s");
    CHECK(((const float *)r->items[0].data)[1] == 2 && ((const float *)r->items[1].data)[0] == 3);
    CHECK(((uintptr_t)r->items[1].data & 63) == 0);
    /* every truncation is refused or read, never over-read (ASan) */
    for (size_t cut = 0; cut < len; cut++) {
        struct ia_tensor *t = NULL;
        int rc = ia_tensor_io_read_value_pb(buf, cut, IA_ONNX_TYPE_SEQUENCE, "cut", &t);
        CHECK(rc == IA_OK || rc == IA_EFORMAT);
        ia_tensor_io_free(t);
    }
    ia_free(buf);
    ia_tensor_io_free(r);
    /* an empty optional; an optional holding a tensor */
    struct ia_tensor none;
    memset(&none, 0, sizeof none);
    ia_value_set_none(&none);
    REQUIRE(ia_tensor_io_encode_pb(&none, "o", &buf, &len) == IA_OK);
    REQUIRE(ia_tensor_io_read_value_pb(buf, len, IA_ONNX_TYPE_OPTIONAL, "mem", &r) == IA_OK);
    CHECK(r->kind == IA_KIND_NONE);
    CHECK_EQ_STR(r->name, "o");
    ia_tensor_io_free(r);
    ia_free(buf);
    /* OptionalProto {elem_type: 1, tensor_value: TensorProto{dims [1], float, raw 4 bytes}} */
    const uint8_t opt_t[] = {0x10, 0x01, 0x1a, 0x0a, 0x08, 0x01, 0x10,
                             0x01, 0x4a, 0x04, 0x00, 0x00, 0x80, 0x3f};
    REQUIRE(ia_tensor_io_read_value_pb(opt_t, sizeof opt_t, IA_ONNX_TYPE_OPTIONAL, "mem", &r) ==
            IA_OK);
    CHECK(r->kind == IA_KIND_TENSOR && r->numel == 1 && *(const float *)r->data == 1.0f);
    ia_tensor_io_free(r);
    /* hostile or unsupported bytes */
    const uint8_t nested[] = {0x10, 0x03, 0x2a, 0x00}; /* sequence of sequences */
    const uint8_t bad_varint[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t long_len[] = {0x1a, 0x7f, 0x08};       /* length past the end */
    const uint8_t group[] = {0x0b};                      /* wire type 3 */
    const uint8_t mismatch[] = {0x10, 0x03, 0x1a, 0x00}; /* says sequence, holds a tensor */
    const uint8_t two_vals[] = {0x1a, 0x00, 0x2a, 0x00};
    CHECK(ia_tensor_io_read_value_pb(nested, sizeof nested, IA_ONNX_TYPE_SEQUENCE, "m", &r) ==
          IA_EUNSUPPORTED);
    CHECK(ia_tensor_io_read_value_pb(bad_varint, sizeof bad_varint, IA_ONNX_TYPE_SEQUENCE, "m",
                                     &r) == IA_EFORMAT);
    CHECK(ia_tensor_io_read_value_pb(long_len, sizeof long_len, IA_ONNX_TYPE_SEQUENCE, "m", &r) ==
          IA_EFORMAT);
    CHECK(ia_tensor_io_read_value_pb(group, sizeof group, IA_ONNX_TYPE_OPTIONAL, "m", &r) ==
          IA_EFORMAT);
    CHECK(ia_tensor_io_read_value_pb(mismatch, sizeof mismatch, IA_ONNX_TYPE_OPTIONAL, "m", &r) ==
          IA_EFORMAT);
    CHECK(ia_tensor_io_read_value_pb(two_vals, sizeof two_vals, IA_ONNX_TYPE_OPTIONAL, "m", &r) ==
          IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "two values") != NULL);
    CHECK(ia_tensor_io_read_value_pb(nested, sizeof nested, IA_ONNX_TYPE_MAP, "m", &r) ==
          IA_EUNSUPPORTED);
    /* .npy holds tensors only */
    CHECK(ia_tensor_io_encode_npy(&seq, &buf, &len) == IA_EUNSUPPORTED);
    /* a file through the path API */
    char path[] = "/tmp/ia_test_seq_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    char pb[64];
    snprintf(pb, sizeof pb, "%s.pb", path);
    REQUIRE(ia_tensor_io_write(pb, IA_TENSOR_FORMAT_PB, &seq, "file_seq") == IA_OK);
    REQUIRE(ia_tensor_io_read_value(pb, IA_ONNX_TYPE_SEQUENCE, &r) == IA_OK);
    CHECK(r->n_items == 2);
    CHECK_EQ_STR(r->name, "file_seq");
    ia_tensor_io_free(r);
    unlink(pb);
    unlink(path);
}

TEST_MAIN(T(test_sequence_ops), T(test_value_inputs), T(test_value_errors), T(test_loop_and_if),
          T(test_value_files))
