/* Shape, data-movement and reduction kernels called directly through the
 * registry (infer, allocate, compute), on small hand-checked cases. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/core.h"
#include "ia/kernels.h"

#define MAXT 8

struct run {
    struct ia_onnx_node node;
    struct ia_onnx_attr attrs[8];
    size_t n_attrs;
    struct ia_tensor in[MAXT];
    const struct ia_tensor *inp[MAXT];
    size_t n_in;
    struct ia_tensor out[MAXT];
    struct ia_tensor *outp[MAXT];
    size_t n_out;
};

static int quiet;                 /* hostile inputs fail on purpose: no messages */
static struct ia_pool *test_pool; /* set while a test runs kernels threaded */

static void *scratch(struct ia_op_ctx *ctx, size_t n) {
    (void)ctx;
    (void)n;
    return NULL;
}

static void r_init(struct run *r, const char *op) {
    memset(r, 0, sizeof *r);
    r->node.op_type = op;
    r->node.name = "t";
    r->node.domain = "";
    r->n_out = 1;
}

static void r_in(struct run *r, enum ia_dtype t, int rank, const int64_t *dims, const void *data) {
    struct ia_tensor *x = &r->in[r->n_in];
    ia_tensor_set_shape(x, t, rank, dims);
    x->data = (void *)data;
    r->inp[r->n_in++] = x;
}

static void r_none(struct run *r) { r->inp[r->n_in++] = NULL; }

static void r_int(struct run *r, const char *name, int64_t v) {
    struct ia_onnx_attr *a = &r->attrs[r->n_attrs++];
    a->name = name;
    a->type = IA_ONNX_ATTR_INT;
    a->i = v;
}

static void r_ints(struct run *r, const char *name, const int64_t *v, size_t n) {
    struct ia_onnx_attr *a = &r->attrs[r->n_attrs++];
    a->name = name;
    a->type = IA_ONNX_ATTR_INTS;
    a->ints = v;
    a->n = n;
}

static void r_str(struct run *r, const char *name, const char *s) {
    struct ia_onnx_attr *a = &r->attrs[r->n_attrs++];
    a->name = name;
    a->type = IA_ONNX_ATTR_STRING;
    a->s.data = (const uint8_t *)s;
    a->s.len = strlen(s);
}

/* Runs infer, allocates outputs and runs compute; returns the first
 * failing status. */
static int r_go(struct run *r, int opset) {
    r->node.attrs = r->attrs;
    r->node.n_attrs = r->n_attrs;
    const struct ia_op_def *d = ia_kernels_find("", r->node.op_type, opset);
    if (!d) return IA_ENOTFOUND;
    for (size_t i = 0; i < r->n_out; i++) r->outp[i] = &r->out[i];
    struct ia_op_ctx ctx = {0};
    ctx.node = &r->node;
    ctx.opset = opset;
    ctx.n_inputs = r->n_in;
    ctx.inputs = r->inp;
    ctx.n_outputs = r->n_out;
    ctx.outputs = r->outp;
    ctx.scratch = scratch;
    ctx.pool = test_pool;
    int rc = d->infer(&ctx);
    if (rc == IA_OK) {
        for (size_t i = 0; i < r->n_out; i++) r->out[i].data = calloc(1, r->out[i].nbytes + 1);
        rc = d->compute(&ctx);
    }
    if (rc && !quiet) fprintf(stderr, "  (%s: %s)\n", r->node.op_type, ia_error_msg());
    return rc;
}

static void r_free(struct run *r) {
    for (size_t i = 0; i < r->n_out; i++) free(r->out[i].data);
}

static int same_f(const struct ia_tensor *t, const float *want, size_t n) {
    if (t->numel != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(((const float *)t->data)[i] - want[i]) > 1e-5f * (1 + fabsf(want[i]))) {
            fprintf(stderr, "  [%zu] %g != %g\n", i, ((const float *)t->data)[i], want[i]);
            return 0;
        }
    return 1;
}

static int same_i(const struct ia_tensor *t, const int64_t *want, size_t n) {
    if (t->numel != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (((const int64_t *)t->data)[i] != want[i]) return 0;
    return 1;
}

static const float seq[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                              16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                              32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                              48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

static void test_reshape(void) {
    struct run r;
    int64_t xd[3] = {2, 3, 4}, sd[1] = {3}, shape[3] = {0, -1, 2};
    r_init(&r, "Reshape");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 1, sd, shape);
    REQUIRE(r_go(&r, 14) == IA_OK);
    CHECK_EQ_INT(r.out[0].rank, 3);
    CHECK_EQ_INT(r.out[0].dims[0], 2);
    CHECK_EQ_INT(r.out[0].dims[1], 6);
    CHECK_EQ_INT(r.out[0].dims[2], 2);
    CHECK(same_f(&r.out[0], seq, 24));
    r_free(&r);

    /* allowzero: a 0 is a real zero dim, so 24 elements cannot fit. */
    r_init(&r, "Reshape");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 1, sd, shape);
    r_int(&r, "allowzero", 1);
    CHECK(r_go(&r, 14) == IA_EINVAL);
    r_free(&r);

    /* Two -1s are refused. */
    int64_t bad[3] = {-1, -1, 2};
    r_init(&r, "Reshape");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 1, sd, bad);
    CHECK(r_go(&r, 14) == IA_EINVAL);
    r_free(&r);
}

static void test_transpose(void) {
    struct run r;
    int64_t xd[3] = {2, 3, 4}, perm[3] = {2, 0, 1};
    r_init(&r, "Transpose");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    r_ints(&r, "perm", perm, 3);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK_EQ_INT(r.out[0].dims[0], 4);
    const float *y = r.out[0].data;
    int ok = 1;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) ok &= y[(a * 2 + b) * 3 + c] == seq[(b * 3 + c) * 4 + a];
    CHECK(ok);
    r_free(&r);

    /* A big enough 2D transpose to take the blocked path, uint16 elements. */
    enum { R = 37, C = 45 };
    static uint16_t m[R * C];
    for (int i = 0; i < R * C; i++) m[i] = (uint16_t)i;
    int64_t md[2] = {R, C};
    r_init(&r, "Transpose");
    r_in(&r, IA_DTYPE_UINT16, 2, md, m);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const uint16_t *t = r.out[0].data;
    ok = 1;
    for (int i = 0; i < C; i++)
        for (int j = 0; j < R; j++) ok &= t[i * R + j] == m[j * C + i];
    CHECK(ok);
    r_free(&r);
}

/* A copy over 1 MiB is split over the pool; the result must not change. */
static void test_transpose_pool(void) {
    enum { A = 3, B = 300, C = 400 };
    float *x = malloc(sizeof(float) * A * B * C);
    REQUIRE(x);
    for (int i = 0; i < A * B * C; i++) x[i] = (float)i;
    REQUIRE(ia_pool_create(2, &test_pool) == IA_OK);
    struct run r;
    int64_t xd[3] = {A, B, C}, perm[3] = {1, 2, 0};
    r_init(&r, "Transpose");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, x);
    r_ints(&r, "perm", perm, 3);
    int rc = r_go(&r, 13);
    ia_pool_destroy(test_pool);
    test_pool = NULL;
    CHECK(rc == IA_OK);
    int ok = rc == IA_OK;
    const float *y = r.out[0].data;
    for (int b = 0; ok && b < B; b++)
        for (int c = 0; c < C; c++)
            for (int a = 0; a < A; a++) ok &= y[(b * C + c) * A + a] == x[(a * B + b) * C + c];
    CHECK(ok);
    r_free(&r);
    free(x);
}

/* STRING tensors move as their (ptr, len) entries. */
static void test_strings(void) {
    static const struct ia_onnx_bytes sv[3] = {
        {(const uint8_t *)"a", 1}, {(const uint8_t *)"bc", 2}, {(const uint8_t *)"def", 3}};
    struct run r;
    int64_t xd[1] = {3}, id[1] = {2}, ind[2] = {2, -3};
    r_init(&r, "Gather");
    r_in(&r, IA_DTYPE_STRING, 1, xd, sv);
    r.in[0].strings = sv;
    r_in(&r, IA_DTYPE_INT64, 1, id, ind);
    REQUIRE(r_go(&r, 13) == IA_OK);
    REQUIRE(r.out[0].strings == r.out[0].data);
    CHECK(r.out[0].strings[0].len == 3 && !memcmp(r.out[0].strings[0].data, "def", 3));
    CHECK(r.out[0].strings[1].len == 1 && !memcmp(r.out[0].strings[1].data, "a", 1));
    r_free(&r);
}

static void test_slice(void) {
    struct run r;
    int64_t xd[2] = {3, 4}, one[1] = {1}, two[1] = {2};
    int64_t starts[2] = {-1, 100}, ends[2] = {INT64_MIN, -100}, axes[2] = {0, 1},
            steps[2] = {-2, -3};
    r_init(&r, "Slice");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 1, two, starts);
    r_in(&r, IA_DTYPE_INT64, 1, two, ends);
    r_in(&r, IA_DTYPE_INT64, 1, two, axes);
    r_in(&r, IA_DTYPE_INT64, 1, two, steps);
    REQUIRE(r_go(&r, 13) == IA_OK);
    /* rows 2, 0; cols 3, 0 */
    const float want[4] = {11, 8, 3, 0};
    CHECK_EQ_INT(r.out[0].dims[0], 2);
    CHECK_EQ_INT(r.out[0].dims[1], 2);
    CHECK(same_f(&r.out[0], want, 4));
    r_free(&r);

    /* An empty result is fine. */
    int64_t s1[1] = {2}, e1[1] = {1};
    r_init(&r, "Slice");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 1, one, s1);
    r_in(&r, IA_DTYPE_INT64, 1, one, e1);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK_EQ_INT(r.out[0].numel, 0);
    r_free(&r);
}

static void test_pad(void) {
    struct run r;
    int64_t xd[2] = {2, 3}, pd[1] = {4}, pads[4] = {0, 2, 0, 1};
    const float x[6] = {1, 2, 3, 4, 5, 6};
    r_init(&r, "Pad");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, x);
    r_in(&r, IA_DTYPE_INT64, 1, pd, pads);
    r_str(&r, "mode", "reflect");
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float w1[12] = {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5};
    CHECK(same_f(&r.out[0], w1, 12));
    r_free(&r);

    int64_t pads2[4] = {1, -1, 0, 1};
    const float cv = 9;
    int64_t sc = 0;
    r_init(&r, "Pad");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, x);
    r_in(&r, IA_DTYPE_INT64, 1, pd, pads2);
    r_in(&r, IA_DTYPE_FLOAT32, 0, &sc, &cv);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float w2[9] = {9, 9, 9, 2, 3, 9, 5, 6, 9};
    CHECK(same_f(&r.out[0], w2, 9));
    r_free(&r);

    r_init(&r, "Pad");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, x);
    r_ints(&r, "pads", pads, 4);
    r_str(&r, "mode", "edge");
    REQUIRE(r_go(&r, 2) == IA_OK);
    const float w3[12] = {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6};
    CHECK(same_f(&r.out[0], w3, 12));
    r_free(&r);
}

static void test_gather(void) {
    struct run r;
    int64_t xd[2] = {3, 2}, id[2] = {2, 2}, ind[4] = {0, -1, 1, 2};
    r_init(&r, "Gather");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 2, id, ind);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK_EQ_INT(r.out[0].rank, 3);
    const float w[8] = {0, 1, 4, 5, 2, 3, 4, 5};
    CHECK(same_f(&r.out[0], w, 8));
    r_free(&r);

    int64_t badi[4] = {0, 3, 1, 2};
    r_init(&r, "Gather");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 2, id, badi);
    CHECK(r_go(&r, 13) == IA_EINVAL);
    r_free(&r);

    /* GatherND with batch_dims 1 */
    int64_t dd[3] = {2, 2, 2}, nd[2] = {2, 1}, ndi[2] = {1, 0};
    r_init(&r, "GatherND");
    r_in(&r, IA_DTYPE_FLOAT32, 3, dd, seq);
    r_in(&r, IA_DTYPE_INT64, 2, nd, ndi);
    r_int(&r, "batch_dims", 1);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float wn[4] = {2, 3, 4, 5};
    CHECK(same_f(&r.out[0], wn, 4));
    r_free(&r);
}

static void test_scatter(void) {
    struct run r;
    int64_t xd[1] = {4}, id[2] = {2, 1}, ind[2] = {1, 1}, ud[1] = {2};
    const float x[4] = {1, 1, 1, 1}, u[2] = {5, 7};
    r_init(&r, "ScatterND");
    r_in(&r, IA_DTYPE_FLOAT32, 1, xd, x);
    r_in(&r, IA_DTYPE_INT64, 2, id, ind);
    r_in(&r, IA_DTYPE_FLOAT32, 1, ud, u);
    r_str(&r, "reduction", "add");
    REQUIRE(r_go(&r, 16) == IA_OK);
    const float w[4] = {1, 13, 1, 1};
    CHECK(same_f(&r.out[0], w, 4));
    r_free(&r);

    int64_t eind[2] = {-4, 4};
    int64_t ed[1] = {2};
    r_init(&r, "ScatterElements");
    r_in(&r, IA_DTYPE_FLOAT32, 1, xd, x);
    r_in(&r, IA_DTYPE_INT64, 1, ed, eind);
    r_in(&r, IA_DTYPE_FLOAT32, 1, ud, u);
    CHECK(r_go(&r, 16) == IA_EINVAL);
    r_free(&r);
}

static void test_reduce(void) {
    struct run r;
    int64_t xd[3] = {2, 3, 2}, ad[1] = {1}, axes[1] = {-2};
    r_init(&r, "ReduceSum");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    r_in(&r, IA_DTYPE_INT64, 1, ad, axes);
    r_int(&r, "keepdims", 0);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK_EQ_INT(r.out[0].rank, 2);
    const float w[4] = {0 + 2 + 4, 1 + 3 + 5, 6 + 8 + 10, 7 + 9 + 11};
    CHECK(same_f(&r.out[0], w, 4));
    r_free(&r);

    int64_t a2[1] = {2};
    r_init(&r, "ReduceMax");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    r_ints(&r, "axes", a2, 1);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK_EQ_INT(r.out[0].rank, 3);
    const float wm[6] = {1, 3, 5, 7, 9, 11};
    CHECK(same_f(&r.out[0], wm, 6));
    r_free(&r);

    /* No axes: everything, to a kept [1,1,1]. */
    r_init(&r, "ReduceLogSumExp");
    r_in(&r, IA_DTYPE_FLOAT32, 3, xd, seq);
    REQUIRE(r_go(&r, 13) == IA_OK);
    double s = 0;
    for (int i = 0; i < 12; i++) s += exp(seq[i]);
    const float wl[1] = {(float)log(s)};
    CHECK(same_f(&r.out[0], wl, 1));
    r_free(&r);

    const int32_t iv[4] = {3, 9, 9, 1};
    int64_t id4[1] = {4};
    r_init(&r, "ArgMax");
    r_in(&r, IA_DTYPE_INT32, 1, id4, iv);
    r_int(&r, "select_last_index", 1);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const int64_t wa[1] = {2};
    CHECK(same_i(&r.out[0], wa, 1));
    r_free(&r);
}

static void test_topk(void) {
    struct run r;
    int64_t xd[1] = {6}, kd[1] = {1}, k[1] = {3};
    const float x[6] = {1, 5, 3, 5, 0, 3};
    r_init(&r, "TopK");
    r.n_out = 2;
    r_in(&r, IA_DTYPE_FLOAT32, 1, xd, x);
    r_in(&r, IA_DTYPE_INT64, 1, kd, k);
    REQUIRE(r_go(&r, 11) == IA_OK);
    const float wv[3] = {5, 5, 3};
    const int64_t wi[3] = {1, 3, 2};
    CHECK(same_f(&r.out[0], wv, 3));
    CHECK(same_i(&r.out[1], wi, 3));
    r_free(&r);
}

static void test_concat_split(void) {
    struct run r;
    int64_t ad[2] = {2, 1}, bd[2] = {2, 2}, zd[2] = {2, 0};
    const float a[2] = {1, 2}, b[4] = {3, 4, 5, 6};
    r_init(&r, "Concat");
    r_in(&r, IA_DTYPE_FLOAT32, 2, ad, a);
    r_in(&r, IA_DTYPE_FLOAT32, 2, zd, NULL);
    r_in(&r, IA_DTYPE_FLOAT32, 2, bd, b);
    r_int(&r, "axis", -1);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float w[6] = {1, 3, 4, 2, 5, 6};
    CHECK(same_f(&r.out[0], w, 6));
    r_free(&r);

    int64_t sd[1] = {2}, sp[2] = {1, 2};
    r_init(&r, "Split");
    r.n_out = 2;
    r_in(&r, IA_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, w);
    r_in(&r, IA_DTYPE_INT64, 1, sd, sp);
    r_int(&r, "axis", 1);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float w0[2] = {1, 2}, w1[4] = {3, 4, 5, 6};
    CHECK(same_f(&r.out[0], w0, 2));
    CHECK(same_f(&r.out[1], w1, 4));
    r_free(&r);
}

static void test_einsum(void) {
    struct run r;
    int64_t ad[3] = {2, 2, 3}, bd[3] = {2, 3, 2};
    r_init(&r, "Einsum");
    r_in(&r, IA_DTYPE_FLOAT32, 3, ad, seq);
    r_in(&r, IA_DTYPE_FLOAT32, 3, bd, seq);
    r_str(&r, "equation", "bij, bjk -> bik");
    REQUIRE(r_go(&r, 12) == IA_OK);
    float want[8];
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 2; k++) {
                float s = 0;
                for (int j = 0; j < 3; j++) s += seq[b * 6 + i * 3 + j] * seq[b * 6 + j * 2 + k];
                want[(b * 2 + i) * 2 + k] = s;
            }
    CHECK(same_f(&r.out[0], want, 8));
    r_free(&r);

    /* Batch diagonal with an ellipsis: "...ii->...i" */
    int64_t dd[3] = {2, 3, 3};
    r_init(&r, "Einsum");
    r_in(&r, IA_DTYPE_FLOAT32, 3, dd, seq);
    r_str(&r, "equation", "...ii->...i");
    REQUIRE(r_go(&r, 12) == IA_OK);
    const float wd[6] = {0, 4, 8, 9, 13, 17};
    CHECK(same_f(&r.out[0], wd, 6));
    r_free(&r);

    /* Implicit output: "ij" stays "ij"; "ii" is a trace to a scalar. */
    int64_t sq[2] = {3, 3};
    r_init(&r, "Einsum");
    r_in(&r, IA_DTYPE_FLOAT32, 2, sq, seq);
    r_str(&r, "equation", "ii");
    REQUIRE(r_go(&r, 12) == IA_OK);
    CHECK_EQ_INT(r.out[0].rank, 0);
    const float wt[1] = {12};
    CHECK(same_f(&r.out[0], wt, 1));
    r_free(&r);
}

static void test_resize(void) {
    struct run r;
    int64_t xd[4] = {1, 1, 2, 2}, sd[1] = {4};
    const float x[4] = {1, 2, 3, 4}, sc[4] = {1, 1, 2, 2};
    r_init(&r, "Resize");
    r_in(&r, IA_DTYPE_FLOAT32, 4, xd, x);
    r_none(&r);
    r_in(&r, IA_DTYPE_FLOAT32, 1, sd, sc);
    r_str(&r, "mode", "linear");
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float w[16] = {1,    1.25f, 1.75f, 2,    1.5f, 1.75f, 2.25f, 2.5f,
                         2.5f, 2.75f, 3.25f, 3.5f, 3,    3.25f, 3.75f, 4};
    CHECK(same_f(&r.out[0], w, 16));
    r_free(&r);

    r_init(&r, "Resize");
    r_in(&r, IA_DTYPE_FLOAT32, 4, xd, x);
    r_none(&r);
    r_in(&r, IA_DTYPE_FLOAT32, 1, sd, sc);
    REQUIRE(r_go(&r, 13) == IA_OK);
    const float wn[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    CHECK(same_f(&r.out[0], wn, 16));
    r_free(&r);
}

static void test_unique(void) {
    struct run r;
    int64_t xd[1] = {6};
    const float x[6] = {2, 1, 1, 3, 4, 3};
    r_init(&r, "Unique");
    r.n_out = 4;
    r_in(&r, IA_DTYPE_FLOAT32, 1, xd, x);
    r_int(&r, "sorted", 0);
    REQUIRE(r_go(&r, 11) == IA_OK);
    const float wy[4] = {2, 1, 3, 4};
    const int64_t wi[4] = {0, 1, 3, 4}, winv[6] = {0, 1, 1, 2, 3, 2}, wc[4] = {1, 2, 2, 1};
    CHECK(same_f(&r.out[0], wy, 4));
    CHECK(same_i(&r.out[1], wi, 4));
    CHECK(same_i(&r.out[2], winv, 6));
    CHECK(same_i(&r.out[3], wc, 4));
    r_free(&r);
}

static void test_misc(void) {
    struct run r;
    /* Expand [3,1] to [2,1,4] */
    int64_t xd[2] = {3, 1}, sd[1] = {3}, shape[3] = {2, 1, 4};
    const float x[3] = {1, 2, 3};
    r_init(&r, "Expand");
    r_in(&r, IA_DTYPE_FLOAT32, 2, xd, x);
    r_in(&r, IA_DTYPE_INT64, 1, sd, shape);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK_EQ_INT(r.out[0].numel, 24);
    CHECK(((float *)r.out[0].data)[23] == 3 && ((float *)r.out[0].data)[4] == 2);
    r_free(&r);

    /* CumSum exclusive reverse */
    int64_t cd[1] = {4}, zero = 0;
    const int64_t axis = 0;
    const int32_t cv[4] = {1, 2, 3, 4};
    r_init(&r, "CumSum");
    r_in(&r, IA_DTYPE_INT32, 1, cd, cv);
    r_in(&r, IA_DTYPE_INT64, 0, &zero, &axis);
    r_int(&r, "exclusive", 1);
    r_int(&r, "reverse", 1);
    REQUIRE(r_go(&r, 14) == IA_OK);
    const int32_t *c = r.out[0].data;
    CHECK(c[0] == 9 && c[1] == 7 && c[2] == 4 && c[3] == 0);
    r_free(&r);

    /* DepthToSpace CRD then SpaceToDepth back is not the identity, but
     * DCR round-trips. */
    int64_t dd[4] = {1, 8, 2, 2};
    r_init(&r, "DepthToSpace");
    r_in(&r, IA_DTYPE_FLOAT32, 4, dd, seq);
    r_int(&r, "blocksize", 2);
    REQUIRE(r_go(&r, 13) == IA_OK);
    struct run r2;
    r_init(&r2, "SpaceToDepth");
    r_in(&r2, IA_DTYPE_FLOAT32, 4, r.out[0].dims, r.out[0].data);
    r_int(&r2, "blocksize", 2);
    REQUIRE(r_go(&r2, 13) == IA_OK);
    CHECK(same_f(&r2.out[0], seq, 32));
    r_free(&r2);
    r_free(&r);

    /* Squeeze of a non-1 axis fails; Unsqueeze with negative axes. */
    int64_t qd[2] = {1, 3}, one[1] = {1}, ax1[1] = {1}, axm[1] = {-1};
    r_init(&r, "Squeeze");
    r_in(&r, IA_DTYPE_FLOAT32, 2, qd, x);
    r_in(&r, IA_DTYPE_INT64, 1, one, ax1);
    CHECK(r_go(&r, 13) == IA_EINVAL);
    r_free(&r);
    r_init(&r, "Unsqueeze");
    r_in(&r, IA_DTYPE_FLOAT32, 2, qd, x);
    r_in(&r, IA_DTYPE_INT64, 1, one, axm);
    REQUIRE(r_go(&r, 13) == IA_OK);
    CHECK(r.out[0].rank == 3 && r.out[0].dims[2] == 1);
    r_free(&r);
}

/* ---- hostile inputs: random shapes, indices and attributes must give a
 * status, never a crash or an out-of-bounds access (ASan watches). ------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int64_t rnd_val(void) {
    switch (rnd() % 16) {
    case 0:
        return INT64_MAX;
    case 1:
        return INT64_MIN;
    case 2:
        return -1;
    case 3:
        return 0;
    default:
        return (int64_t)(rnd() % 13) - 6;
    }
}

static void test_hostile(void) {
    static const char *const ops[] = {"Reshape",
                                      "Flatten",
                                      "Squeeze",
                                      "Unsqueeze",
                                      "Expand",
                                      "Tile",
                                      "Transpose",
                                      "DepthToSpace",
                                      "SpaceToDepth",
                                      "Concat",
                                      "Split",
                                      "Slice",
                                      "Pad",
                                      "ConstantOfShape",
                                      "Range",
                                      "Dropout",
                                      "Trilu",
                                      "EyeLike",
                                      "OneHot",
                                      "ReverseSequence",
                                      "CumSum",
                                      "Gather",
                                      "GatherElements",
                                      "GatherND",
                                      "ScatterElements",
                                      "ScatterND",
                                      "ReduceSum",
                                      "ReduceMean",
                                      "ReduceMax",
                                      "ReduceLogSumExp",
                                      "ReduceProd",
                                      "ArgMax",
                                      "ArgMin",
                                      "MeanVarianceNormalization",
                                      "NonZero",
                                      "Compress",
                                      "TopK",
                                      "Unique",
                                      "Resize",
                                      "Upsample",
                                      "Einsum"};
    static const char *const strs[] = {"constant",   "reflect", "edge",      "wrap",        "CRD",
                                       "DCR",        "linear",  "cubic",     "nearest",     "add",
                                       "mul",        "max",     "ij,jk->ik", "...ii->...i", "i,i",
                                       "a...,...->", "bad"};
    static const char *const snames[] = {"mode", "reduction", "equation",
                                         "coordinate_transformation_mode"};
    static const char *const inames[] = {"axis",
                                         "keepdims",
                                         "blocksize",
                                         "batch_dims",
                                         "upper",
                                         "sorted",
                                         "k",
                                         "allowzero",
                                         "exclusive",
                                         "select_last_index",
                                         "noop_with_empty_axes"};
    static const char *const lnames[] = {"axes", "perm", "split", "pads", "starts", "ends"};
    static float fdata[5][256];
    static int64_t idata[5][256];
    static int64_t lists[4][8];
    static const int opsets[] = {7, 9, 10, 11, 13, 18};
    int calls = 0;
    quiet = 1;
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (int it = 0; it < 3000; it++) {
            struct run r;
            r_init(&r, ops[o]);
            r.n_out = 1 + rnd() % 4;
            int n_in = 1 + (int)(rnd() % 5);
            for (int i = 0; i < n_in; i++) {
                int rank = (int)(rnd() % 5);
                int64_t d[4];
                uint64_t n = 1;
                for (int k = 0; k < rank; k++) {
                    d[k] = (int64_t)(rnd() % 4);
                    n *= (uint64_t)d[k];
                }
                if (i > 0 && rnd() % 2) { /* a small 1-D integer list */
                    rank = 1;
                    d[0] = (int64_t)(rnd() % 6);
                    n = (uint64_t)d[0];
                }
                for (uint64_t j = 0; j < n && j < 256; j++) {
                    idata[i][j] = rnd_val();
                    fdata[i][j] = (float)((int64_t)(rnd() % 9) - 3) * 0.5f;
                }
                if (i > 0 && rnd() % 6 == 0) {
                    r_none(&r);
                    continue;
                }
                int is_int = i == 0 ? rnd() % 4 == 0 : rnd() % 4 != 0;
                r_in(&r, is_int ? IA_DTYPE_INT64 : IA_DTYPE_FLOAT32, rank, d,
                     is_int ? (void *)idata[i] : (void *)fdata[i]);
            }
            int n_attr = (int)(rnd() % 4);
            for (int a = 0; a < n_attr; a++) {
                switch (rnd() % 3) {
                case 0:
                    r_str(&r, snames[rnd() % 4], strs[rnd() % (sizeof strs / sizeof strs[0])]);
                    break;
                case 1:
                    r_int(&r, inames[rnd() % (sizeof inames / sizeof inames[0])], rnd_val());
                    break;
                default: {
                    size_t n = rnd() % 5;
                    for (size_t j = 0; j < n; j++) lists[a][j] = rnd_val();
                    r_ints(&r, lnames[rnd() % 6], lists[a], n);
                }
                }
            }
            calls += r_go(&r, opsets[rnd() % 6]) == IA_OK;
            r_free(&r);
        }
    quiet = 0;
    /* Some of the random cases must be valid, or the test shows nothing. */
    CHECK(calls > 1000);
    if (getenv("IA_TEST_VERBOSE")) fprintf(stderr, "%d hostile cases ran through\n", calls);
}

TEST_MAIN(T(test_reshape), T(test_transpose), T(test_transpose_pool), T(test_strings), T(test_slice), T(test_pad),
          T(test_gather), T(test_scatter), T(test_reduce), T(test_topk), T(test_concat_split),
          T(test_einsum), T(test_resize), T(test_unique), T(test_misc), T(test_hostile))
