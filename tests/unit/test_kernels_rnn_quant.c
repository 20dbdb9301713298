/* Recurrent, quantization and transformer-contrib kernels called directly:
 * infer, allocate, compute, compare. Float expectations come from the numpy
 * references in kernels_rnn_quant_ref.py (embedded in kernels_rnn_quant_ref.h);
 * the integer ones are worked out by hand in the comments. Also: optional
 * outputs left out, zero-size inputs, the threaded paths and bad shapes
 * refused with a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/kernels.h"
#include "kernels/cpu/fused_math.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/rnn.h"
#include "kernels_rnn_quant_ref.h"

#define MAX_IO 10

/* A tensor over caller-owned data (inputs are never written). */
static struct ia_tensor ten(enum ia_dtype dt, int rank, const int64_t *dims, const void *data) {
    struct ia_tensor t;
    memset(&t, 0, sizeof t);
    if (ia_tensor_set_shape(&t, dt, rank, dims)) abort();
    t.name = "t";
    t.data = (void *)data;
    return t;
}

static struct ia_onnx_attr attr_i(const char *name, int64_t v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_INT, .i = v};
    return a;
}
static struct ia_onnx_attr attr_f(const char *name, float v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_FLOAT, .f = v};
    return a;
}
static struct ia_onnx_attr attr_s(const char *name, const char *v) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_STRING};
    a.s.data = (const uint8_t *)v;
    a.s.len = strlen(v);
    return a;
}
static struct ia_onnx_attr attr_ints(const char *name, const int64_t *v, size_t n) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_INTS, .ints = v, .n = n};
    return a;
}
static struct ia_onnx_attr attr_floats(const char *name, const float *v, size_t n) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_FLOATS, .floats = v, .n = n};
    return a;
}
static struct ia_onnx_attr attr_strs(const char *name, const struct ia_onnx_bytes *v, size_t n) {
    struct ia_onnx_attr a = {.name = name, .type = IA_ONNX_ATTR_STRINGS, .strings = v, .n = n};
    return a;
}
#define BYTES(s)                                                                                   \
    { (const uint8_t *)(s), sizeof(s) - 1 }

static void *scratch_mem[16];
static int n_scratch;
static void *test_scratch(struct ia_op_ctx *ctx, size_t bytes) {
    (void)ctx;
    if (n_scratch == 16) return NULL;
    return scratch_mem[n_scratch++] = malloc(bytes ? bytes : 1);
}

static struct ia_pool *run_pool;
static int run_generic; /* recurrent ops: run the generic recurrence, not the fast one */
static struct ia_tensor outs[MAX_IO];

static void free_outs(void) {
    for (int i = 0; i < MAX_IO; i++) {
        free(outs[i].data);
        memset(&outs[i], 0, sizeof outs[i]);
    }
    for (int i = 0; i < n_scratch; i++) free(scratch_mem[i]);
    n_scratch = 0;
}

/* Runs op; in[i] may be NULL (omitted input); want[i] = 0 leaves output i
 * unused (NULL). Outputs land in outs[] (freed by the next run). */
static int run(const char *domain, const char *op, int64_t opset, const struct ia_onnx_attr *attrs,
               size_t n_attrs, size_t n_in, const struct ia_tensor *const *in, size_t n_out,
               const int *want) {
    free_outs();
    const struct ia_op_def *d = ia_kernels_find(domain, op, opset);
    if (!d) return IA_ENOTFOUND;
    struct ia_onnx_node node = {.name = "n",
                                .op_type = op,
                                .domain = domain,
                                .n_inputs = n_in,
                                .n_outputs = n_out,
                                .n_attrs = n_attrs,
                                .attrs = attrs};
    struct ia_tensor *optr[MAX_IO];
    for (size_t i = 0; i < n_out; i++) {
        outs[i].name = "y";
        optr[i] = want && !want[i] ? NULL : &outs[i];
    }
    struct ia_op_ctx ctx = {.node = &node,
                            .opset = opset,
                            .n_inputs = n_in,
                            .inputs = in,
                            .n_outputs = n_out,
                            .outputs = optr,
                            .pool = run_pool,
                            .scratch = test_scratch};
    int rc = d->infer(&ctx);
    if (rc) return rc;
    for (size_t i = 0; i < n_out; i++) {
        if (!optr[i]) continue;
        outs[i].data = malloc(outs[i].nbytes ? outs[i].nbytes : 1);
        memset(outs[i].data, 0xab, outs[i].nbytes);
    }
    return run_generic ? ia_rnn_compute_path(&ctx, 0) : d->compute(&ctx);
}

static int close_f(const struct ia_tensor *t, const float *want, size_t n) {
    if (!t->data || t->dtype != IA_DTYPE_FLOAT32 || t->numel != n) {
        fprintf(stderr, "  output is %s with %llu values, %zu expected\n", ia_dtype_name(t->dtype),
                (unsigned long long)t->numel, n);
        return 0;
    }
    const float *a = t->data;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - want[i]) <= 1e-5f + 1e-4f * fabsf(want[i]))) {
            fprintf(stderr, "  [%zu] = %.7g, expected %.7g\n", i, a[i], want[i]);
            return 0;
        }
    return 1;
}

static int same_dims(const struct ia_tensor *t, int rank, const int64_t *dims) {
    if (t->rank != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (t->dims[i] != dims[i]) return 0;
    return 1;
}

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define NDIMS(...) (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define SHAPE_IS(t, ...) same_dims(t, NDIMS(__VA_ARGS__), DIMS(__VA_ARGS__))
#define IN(...)                                                                                    \
    (const struct ia_tensor *const[]) { __VA_ARGS__ }
#define NIN(...) (sizeof((const struct ia_tensor *const[]){__VA_ARGS__}) / sizeof(void *))

/* ---- recurrent ------------------------------------------------------------------ */

static void test_lstm_bidirectional(void) {
    /* sequence_lens, initial states, peepholes and clip in one run */
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 3, DIMS(3, 2, 2), l1_x);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 12, 2), l1_w);
    struct ia_tensor r = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 12, 3), l1_r);
    struct ia_tensor b = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 24), l1_b);
    struct ia_tensor sl = ten(IA_DTYPE_INT32, 1, DIMS(2), (int32_t[]){3, 2});
    struct ia_tensor h0 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 2, 3), l1_h0);
    struct ia_tensor c0 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 2, 3), l1_c0);
    struct ia_tensor p = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 9), l1_p);
    struct ia_onnx_attr at[] = {attr_s("direction", "bidirectional"), attr_i("hidden_size", 3),
                                attr_f("clip", 1.2f)};
    CHECK_EQ_INT(run("", "LSTM", 14, at, 3, 8, IN(&x, &w, &r, &b, &sl, &h0, &c0, &p), 3, NULL),
                 IA_OK);
    CHECK(SHAPE_IS(&outs[0], 3, 2, 2, 3));
    CHECK(close_f(&outs[0], l1_y, 36));
    CHECK(close_f(&outs[1], l1_yh, 12));
    CHECK(close_f(&outs[2], l1_yc, 12));
    /* the same on the pool */
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(2, &pool) == IA_OK);
    run_pool = pool;
    CHECK_EQ_INT(run("", "LSTM", 7, at, 3, 8, IN(&x, &w, &r, &b, &sl, &h0, &c0, &p), 3, NULL),
                 IA_OK);
    CHECK(close_f(&outs[0], l1_y, 36));
    run_pool = NULL;
    ia_pool_destroy(pool);
    free_outs();
}

static void test_lstm_layout_activations(void) {
    /* layout 1, reverse, input_forget, HardSigmoid(0.3, 0.4)/Tanh/Softsign, no Y_c */
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 2), l2_x);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 8, 2), l2_w);
    struct ia_tensor r = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 8, 2), l2_r);
    static const struct ia_onnx_bytes acts[] = {BYTES("HardSigmoid"), BYTES("tanh"),
                                                BYTES("Softsign")};
    struct ia_onnx_attr at[] = {attr_s("direction", "reverse"),
                                attr_i("layout", 1),
                                attr_i("input_forget", 1),
                                attr_strs("activations", acts, 3),
                                attr_floats("activation_alpha", (const float[]){0.3f}, 1),
                                attr_floats("activation_beta", (const float[]){0.4f}, 1)};
    CHECK_EQ_INT(run("", "LSTM", 14, at, 6, 3, IN(&x, &w, &r), 3, (const int[]){1, 1, 0}), IA_OK);
    CHECK(SHAPE_IS(&outs[0], 2, 3, 1, 2));
    CHECK(SHAPE_IS(&outs[1], 2, 1, 2));
    CHECK(close_f(&outs[0], l2_y, 12));
    CHECK(close_f(&outs[1], l2_yh, 4));
    free_outs();
}

static void test_gru(void) {
    /* bidirectional, linear_before_reset, sequence_lens {2, 3, 0} */
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 3, DIMS(3, 3, 2), g1_x);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 9, 2), g1_w);
    struct ia_tensor r = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 9, 3), g1_r);
    struct ia_tensor b = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 18), g1_b);
    struct ia_tensor sl = ten(IA_DTYPE_INT32, 1, DIMS(3), (int32_t[]){2, 3, 0});
    struct ia_tensor h0 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 3), g1_h0);
    struct ia_onnx_attr at[] = {attr_s("direction", "bidirectional"),
                                attr_i("linear_before_reset", 1)};
    CHECK_EQ_INT(run("", "GRU", 7, at, 2, 6, IN(&x, &w, &r, &b, &sl, &h0), 2, NULL), IA_OK);
    CHECK(close_f(&outs[0], g1_y, 54));
    CHECK(close_f(&outs[1], g1_yh, 18));
    /* layout 1, Sigmoid + LeakyRelu(0.2), only Y_h wanted */
    struct ia_tensor x2 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 3), g2_x);
    struct ia_tensor w2 = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 6, 3), g2_w);
    struct ia_tensor r2 = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 6, 2), g2_r);
    struct ia_tensor b2 = ten(IA_DTYPE_FLOAT32, 2, DIMS(1, 12), g2_b);
    struct ia_tensor h2 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 1, 2), g2_h0);
    static const struct ia_onnx_bytes acts[] = {BYTES("Sigmoid"), BYTES("LeakyRelu")};
    struct ia_onnx_attr at2[] = {attr_i("layout", 1), attr_strs("activations", acts, 2),
                                 attr_floats("activation_alpha", (const float[]){0.2f}, 1)};
    CHECK_EQ_INT(
        run("", "GRU", 14, at2, 3, 6, IN(&x2, &w2, &r2, &b2, NULL, &h2), 2, (const int[]){0, 1}),
        IA_OK);
    CHECK(close_f(&outs[1], g2_yh, 4));
    CHECK_EQ_INT(run("", "GRU", 14, at2, 3, 6, IN(&x2, &w2, &r2, &b2, NULL, &h2), 2, NULL), IA_OK);
    CHECK(close_f(&outs[0], g2_y, 12));
    free_outs();
}

static void test_rnn(void) {
    /* LeakyRelu(0.1) forward, ScaledTanh(0.7, 1.5) reverse: alpha/beta are consumed in order
     * by the activations that take them */
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 3, DIMS(3, 2, 2), r1_x);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 2), r1_w);
    struct ia_tensor r = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 3), r1_r);
    struct ia_tensor b = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 6), r1_b);
    static const struct ia_onnx_bytes acts[] = {BYTES("LeakyRelu"), BYTES("ScaledTanh")};
    struct ia_onnx_attr at[] = {
        attr_s("direction", "bidirectional"), attr_strs("activations", acts, 2),
        attr_floats("activation_alpha", (const float[]){0.1f, 0.7f}, 2),
        attr_floats("activation_beta", (const float[]){1.5f}, 1), attr_f("clip", 1.5f)};
    CHECK_EQ_INT(run("", "RNN", 7, at, 5, 4, IN(&x, &w, &r, &b), 2, NULL), IA_OK);
    CHECK(close_f(&outs[0], r1_y, 36));
    CHECK(close_f(&outs[1], r1_yh, 12));
    free_outs();
}

static void test_rnn_edges(void) {
    /* seq 0: Y empty, Y_h zero (every sequence has length 0) */
    float wv[3] = {1, 1, 1}, rv[9] = {0};
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 3, DIMS(0, 2, 1), NULL);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 3, 1), wv);
    struct ia_tensor r = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 3, 3), rv);
    CHECK_EQ_INT(run("", "RNN", 7, NULL, 0, 3, IN(&x, &w, &r), 2, NULL), IA_OK);
    CHECK(SHAPE_IS(&outs[0], 0, 1, 2, 3));
    CHECK(close_f(&outs[1], (const float[6]){0}, 6));
    /* bad shapes and attributes are refused, not run */
    struct ia_tensor x1 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 2, 1), (float[4]){1, 2, 3, 4});
    struct ia_tensor wbad = ten(IA_DTYPE_FLOAT32, 3, DIMS(1, 3, 2), (float[6]){0});
    CHECK_EQ_INT(run("", "RNN", 7, NULL, 0, 3, IN(&x1, &wbad, &r), 2, NULL), IA_EINVAL);
    struct ia_onnx_attr dir = attr_s("direction", "sideways");
    CHECK_EQ_INT(run("", "RNN", 7, &dir, 1, 3, IN(&x1, &w, &r), 2, NULL), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "sideways") != NULL);
    static const struct ia_onnx_bytes bad[] = {BYTES("Swish")};
    struct ia_onnx_attr act = attr_strs("activations", bad, 1);
    CHECK_EQ_INT(run("", "RNN", 7, &act, 1, 3, IN(&x1, &w, &r), 2, NULL), IA_EUNSUPPORTED);
    struct ia_tensor sl = ten(IA_DTYPE_INT32, 1, DIMS(2), (int32_t[]){1, 5});
    CHECK_EQ_INT(run("", "RNN", 7, NULL, 0, 5, IN(&x1, &w, &r, NULL, &sl), 2, NULL), IA_EINVAL);
    free_outs();
}

/* ---- the fast recurrence (rnn_fast.c) against the generic one ----------------------- */

static void test_fast_sigmoid_tanh(void) {
    /* fused_math.h's vector sigmoid and tanh against libm, relative, over
     * tiny, mid and saturated inputs of both signs */
    int bad = 0;
    for (int i = -60000; i <= 60000 && bad < 5; i += 16) {
        float xs[16];
        for (int l = 0; l < 16; l++) {
            int q = i + l;
            /* dense near 0, then out to +-100 */
            xs[l] = q * 1e-5f * (1.0f + (float)(q < 0 ? -q : q) * 1.5e-3f);
        }
        v16f s, t;
        memcpy(&s, xs, sizeof s);
        memcpy(&t, xs, sizeof t);
        v_sigmoid(&s);
        v_tanh(&t);
        float sv[16], tv[16];
        memcpy(sv, &s, sizeof sv);
        memcpy(tv, &t, sizeof tv);
        for (int l = 0; l < 16; l++) {
            double ws = 1.0 / (1.0 + exp(-(double)xs[l])), wt = tanh((double)xs[l]);
            int s_ok = fabs(sv[l] - ws) <= 1e-6 * ws || (xs[l] < -87.0f && sv[l] == 0.0f);
            int t_ok = fabs(tv[l] - wt) <= 1e-6 * fabs(wt) + 1e-30;
            if (!s_ok || !t_ok) {
                fprintf(stderr, "  x=%.9g sigmoid %.9g (%.9g) tanh %.9g (%.9g)\n", xs[l], sv[l], ws,
                        tv[l], wt);
                bad++;
            }
        }
    }
    CHECK(bad == 0);
}

static uint32_t rng = 12345;
static float frand(float scale) {
    rng = rng * 1664525u + 1013904223u;
    return scale * ((float)(rng >> 8) / 8388608.0f - 1.0f);
}
static float *rand_buf(size_t n, float scale) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand(scale);
    return p;
}

struct rec_case {
    const char *op;
    int64_t seq, batch, in, hid;
    int dirs, layout, with_b, with_lens, with_h0, with_c0, with_p, pool;
    const struct ia_onnx_attr *attrs;
    size_t n_attrs;
    int r_shift; /* 1 + floats from a 64-byte boundary to R; 0: where malloc puts it */
};

/* FusedLSTM (what fuse_rnn.c makes of an LSTM with constant W and B) on
 * the inputs of an LSTM case, on run_pool: W packed per direction, B
 * pre-summed and R packed by ia_rnn_pack_r (the packed recurrence), then
 * B left to the op (B not constant) and no packed R; every output must
 * match the generic LSTM's (want). */
static void check_fused_lstm(const struct rec_case *rc, const struct ia_tensor *const *in8,
                             float *const *want, const size_t *n_want) {
    const struct ia_tensor *w = in8[1], *b = in8[3];
    const int64_t D = w->dims[0], GH = w->dims[1], I = w->dims[2];
    size_t per = ia_rnn_packed_w_floats(I, GH);
    if (!per) return; /* no packed GEMM path here: the pass leaves LSTM alone */
    float *wp = calloc((size_t)D * per, sizeof(float)), *bs = malloc((size_t)(D * GH) * 4 + 4);
    for (int64_t d = 0; d < D; d++)
        REQUIRE(ia_sgemm_pack_b(IA_SGEMM_AUTO, 1, I, GH, (const float *)w->data + d * GH * I, I,
                                wp + (size_t)d * per) == IA_OK);
    for (int64_t d = 0; b && d < D; d++)
        for (int64_t j = 0; j < GH; j++)
            bs[d * GH + j] = ((const float *)b->data)[d * 2 * GH + j] +
                             ((const float *)b->data)[d * 2 * GH + GH + j];
    struct ia_tensor wpt = ten(IA_DTYPE_FLOAT32, 1, DIMS((int64_t)(D * (int64_t)per)), wp);
    struct ia_tensor bst = ten(IA_DTYPE_FLOAT32, 2, DIMS(D, GH), bs);
    const int64_t H = in8[2]->dims[2];
    const size_t rper = ia_rnn_packed_r_floats(4, H);
    float *rcopy = malloc((size_t)D * rper * sizeof(float) + 4);
    for (int64_t d = 0; d < D; d++)
        ia_rnn_pack_r(4, H, (const float *)in8[2]->data + d * GH * H, rcopy + (size_t)d * rper);
    struct ia_tensor rht = ten(IA_DTYPE_FLOAT32, 1, DIMS((int64_t)(D * (int64_t)rper)), rcopy);
    for (int with_sum = 1; with_sum >= 0; with_sum--) {
        const struct ia_tensor *in[11];
        memcpy(in, in8, 8 * sizeof *in);
        in[8] = &wpt;
        in[9] = with_sum && b ? &bst : NULL;
        in[10] = with_sum && rper ? &rht : NULL;
        CHECK_EQ_INT(run("ai.ia.fused", "FusedLSTM", 14, rc->attrs, rc->n_attrs, 11, in, 3, NULL),
                     IA_OK);
        for (size_t i = 0; i < 3; i++) {
            if (!close_f(&outs[i], want[i], n_want[i]))
                fprintf(stderr, "  FusedLSTM H=%lld N=%lld sum %d output %zu differs\n",
                        (long long)(GH / 4), (long long)rc->batch, with_sum, i);
            CHECK(close_f(&outs[i], want[i], n_want[i]));
        }
    }
    free(wp), free(bs), free(rcopy);
}

/* Runs one recurrent op with random inputs through the fast and the generic
 * recurrence and checks that every output agrees. */
static void check_fast_vs_generic(const struct rec_case *rc) {
    const int64_t G = !strcmp(rc->op, "LSTM") ? 4 : !strcmp(rc->op, "GRU") ? 3 : 1;
    const int64_t S = rc->seq, N = rc->batch, I = rc->in, H = rc->hid, D = rc->dirs;
    float *xv = rand_buf((size_t)(S * N * I), 1.0f), *wv = rand_buf((size_t)(D * G * H * I), 0.4f);
    float *rv = rand_buf((size_t)(D * G * H * H), 0.4f),
          *bv = rand_buf((size_t)(D * 2 * G * H), 0.3f);
    float *r_block = NULL;
    if (rc->r_shift) {
        /* R at a chosen offset from a cache line (the exported LSTM has 4 floats) */
        r_block = aligned_alloc(64, (size_t)(D * G * H * H + 64) * sizeof(float));
        /* NaN around R: a read past its ends would show (NaN * 0 is NaN) */
        for (int64_t i = 0; i < D * G * H * H + 64; i++) r_block[i] = NAN;
        memcpy(r_block + rc->r_shift - 1, rv, (size_t)(D * G * H * H) * sizeof(float));
        free(rv);
        rv = r_block + rc->r_shift - 1;
    }
    float *hv = rand_buf((size_t)(D * N * H), 0.8f), *cv = rand_buf((size_t)(D * N * H), 0.8f);
    float *pv = rand_buf((size_t)(D * 3 * H), 0.5f);
    int32_t lens[64];
    REQUIRE(N <= 64);
    for (int64_t b = 0; b < N; b++) lens[b] = (int32_t)(b == 1 ? 0 : S - (b * 3) % S);
    struct ia_tensor x = rc->layout ? ten(IA_DTYPE_FLOAT32, 3, DIMS(N, S, I), xv)
                                    : ten(IA_DTYPE_FLOAT32, 3, DIMS(S, N, I), xv);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 3, DIMS(D, G * H, I), wv);
    struct ia_tensor r = ten(IA_DTYPE_FLOAT32, 3, DIMS(D, G * H, H), rv);
    struct ia_tensor b = ten(IA_DTYPE_FLOAT32, 2, DIMS(D, 2 * G * H), bv);
    struct ia_tensor sl = ten(IA_DTYPE_INT32, 1, DIMS(N), lens);
    struct ia_tensor h0 = rc->layout ? ten(IA_DTYPE_FLOAT32, 3, DIMS(N, D, H), hv)
                                     : ten(IA_DTYPE_FLOAT32, 3, DIMS(D, N, H), hv);
    struct ia_tensor c0 = rc->layout ? ten(IA_DTYPE_FLOAT32, 3, DIMS(N, D, H), cv)
                                     : ten(IA_DTYPE_FLOAT32, 3, DIMS(D, N, H), cv);
    struct ia_tensor p = ten(IA_DTYPE_FLOAT32, 2, DIMS(D, 3 * H), pv);
    const struct ia_tensor *in[8] = {&x,
                                     &w,
                                     &r,
                                     rc->with_b ? &b : NULL,
                                     rc->with_lens ? &sl : NULL,
                                     rc->with_h0 ? &h0 : NULL,
                                     rc->with_c0 ? &c0 : NULL,
                                     rc->with_p ? &p : NULL};
    size_t n_in = G == 4 ? 8 : 6, n_out = G == 4 ? 3 : 2;
    struct ia_pool *pool = NULL;
    if (rc->pool) REQUIRE(ia_pool_create(rc->pool, &pool) == IA_OK);
    float *want[3] = {NULL, NULL, NULL};
    size_t n_want[3] = {0, 0, 0};
    run_generic = 1;
    CHECK_EQ_INT(run("", rc->op, 14, rc->attrs, rc->n_attrs, n_in, in, n_out, NULL), IA_OK);
    for (size_t i = 0; i < n_out; i++) {
        n_want[i] = (size_t)outs[i].numel;
        want[i] = malloc(n_want[i] * sizeof(float) + 1);
        memcpy(want[i], outs[i].data, n_want[i] * sizeof(float));
    }
    run_generic = 0;
    run_pool = pool;
    CHECK_EQ_INT(run("", rc->op, 14, rc->attrs, rc->n_attrs, n_in, in, n_out, NULL), IA_OK);
    for (size_t i = 0; i < n_out; i++) {
        if (!close_f(&outs[i], want[i], n_want[i]))
            fprintf(stderr, "  %s H=%lld N=%lld output %zu differs\n", rc->op, (long long)H,
                    (long long)N, i);
        CHECK(close_f(&outs[i], want[i], n_want[i]));
    }
    if (G == 4) check_fused_lstm(rc, in, want, n_want);
    for (size_t i = 0; i < n_out; i++) free(want[i]);
    run_pool = NULL;
    ia_pool_destroy(pool);
    free_outs();
    free(xv), free(wv), free(bv), free(hv), free(cv), free(pv);
    free(r_block ? r_block : rv);
}

static void test_fast_recurrence(void) {
    struct ia_onnx_attr bi[] = {attr_s("direction", "bidirectional"), attr_f("clip", 2.5f)};
    struct ia_onnx_attr rev_if[] = {attr_s("direction", "reverse"), attr_i("input_forget", 1),
                                    attr_i("layout", 1)};
    struct ia_onnx_attr lbr[] = {attr_s("direction", "reverse"), attr_i("linear_before_reset", 1)};
    struct ia_onnx_attr lbr_bi[] = {attr_s("direction", "bidirectional"),
                                    attr_i("linear_before_reset", 1), attr_i("layout", 1)};
    const struct rec_case cases[] = {
        /* hidden 37: two full blocks of 16 and a tail of 5; batch 3 with lengths {7, 0, 1};
         * everything optional given; on one thread, then on two (3 blocks: 2 parts) */
        {"LSTM", 7, 3, 5, 37, 2, 0, 1, 1, 1, 1, 1, 0, bi, 2, 0},
        {"LSTM", 7, 3, 5, 37, 2, 0, 1, 1, 1, 1, 1, 2, bi, 2, 0},
        /* layout 1, reverse, input_forget, no bias or states; 64 units over 2 threads */
        {"LSTM", 9, 1, 11, 64, 1, 1, 0, 0, 0, 0, 0, 2, rev_if, 3, 0},
        {"LSTM", 5, 2, 3, 3, 1, 0, 1, 1, 1, 1, 1, 2, NULL, 0, 0},
        /* the workload's shape, shortened: 128 -> 256, one sequence */
        {"LSTM", 6, 1, 128, 256, 1, 0, 1, 0, 0, 0, 0, 2, NULL, 0, 0},
        {"GRU", 8, 2, 6, 21, 1, 0, 1, 1, 1, 0, 0, 0, lbr, 2, 0},
        {"GRU", 8, 3, 6, 50, 2, 1, 1, 1, 1, 0, 0, 2, lbr_bi, 3, 0},
        {"GRU", 4, 1, 6, 16, 2, 1, 0, 0, 0, 0, 0, 0, lbr_bi, 3, 0},
        {"RNN", 6, 2, 4, 17, 2, 0, 1, 1, 1, 0, 0, 0, bi, 2, 0},
        {"RNN", 6, 4, 4, 80, 1, 0, 1, 1, 0, 0, 0, 2, NULL, 0, 0},
        /* R 64-byte aligned, or 1, 4 (the exported LSTM's) or 15 floats past a line */
        {"LSTM", 5, 2, 7, 64, 2, 0, 1, 1, 1, 1, 0, 2, bi, 2, 1},
        {"LSTM", 5, 2, 7, 64, 2, 0, 1, 1, 1, 1, 0, 2, bi, 2, 2},
        {"LSTM", 6, 1, 128, 256, 1, 0, 1, 0, 0, 0, 0, 0, NULL, 0, 5},
        {"LSTM", 6, 1, 128, 256, 1, 0, 1, 0, 0, 0, 0, 2, NULL, 0, 5},
        {"GRU", 4, 3, 5, 32, 2, 1, 1, 1, 1, 0, 0, 2, lbr_bi, 3, 16},
        {"RNN", 4, 2, 5, 16, 1, 0, 1, 0, 1, 0, 0, 0, NULL, 0, 16},
        /* GRU without linear_before_reset: two halves per step */
        {"GRU", 7, 3, 5, 37, 2, 0, 1, 1, 1, 0, 0, 0, bi, 2, 0},
        {"GRU", 7, 3, 5, 37, 2, 0, 1, 1, 1, 0, 0, 2, bi, 2, 0},
        {"GRU", 6, 1, 9, 64, 1, 0, 1, 0, 1, 0, 0, 2, NULL, 0, 5},
        /* gate math deferred over several blocks: 10 blocks, 6 wait at a time (batch 5) */
        {"LSTM", 5, 5, 9, 150, 1, 0, 1, 1, 1, 1, 1, 0, NULL, 0, 0},
        {"LSTM", 5, 5, 9, 150, 2, 0, 1, 1, 1, 1, 1, 2, bi, 2, 0},
        /* a batch too big to defer any (33 rows of 4 gates), and H > 256 with a tail of 12 */
        {"LSTM", 4, 33, 5, 20, 1, 0, 1, 1, 1, 1, 1, 2, NULL, 0, 0},
        {"LSTM", 3, 2, 7, 300, 1, 0, 1, 1, 1, 1, 0, 2, NULL, 0, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_fast_vs_generic(&cases[i]);
}

/* ---- quantization --------------------------------------------------------------- */

static void test_quantize(void) {
    /* round half to even, then saturate: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2 (scale 1) */
    float xv[6] = {2.5f, 3.5f, -2.5f, 1000.0f, -1000.0f, 0.4f};
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 1, DIMS(6), xv);
    struct ia_tensor s = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){1.0f});
    struct ia_tensor z8 = ten(IA_DTYPE_INT8, 0, NULL, (int8_t[]){-1});
    CHECK_EQ_INT(run("", "QuantizeLinear", 13, NULL, 0, 3, IN(&x, &s, &z8), 1, NULL), IA_OK);
    CHECK_EQ_INT(outs[0].dtype, IA_DTYPE_INT8);
    const int8_t want8[6] = {1, 3, -3, 127, -128, -1};
    CHECK(memcmp(outs[0].data, want8, 6) == 0);
    /* no zero point: uint8 */
    CHECK_EQ_INT(run("", "QuantizeLinear", 10, NULL, 0, 2, IN(&x, &s), 1, NULL), IA_OK);
    CHECK_EQ_INT(outs[0].dtype, IA_DTYPE_UINT8);
    CHECK(memcmp(outs[0].data, (const uint8_t[]){2, 4, 0, 255, 0, 0}, 6) == 0);
    /* per axis 0 of a [2,3]: scales 2 and 0.5, zero points 10 and 20 */
    float xa[6] = {1, 2, 3, 1, 2, 3};
    struct ia_tensor xq = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 3), xa);
    struct ia_tensor sa = ten(IA_DTYPE_FLOAT32, 1, DIMS(2), (float[]){2, 0.5f});
    struct ia_tensor za = ten(IA_DTYPE_UINT8, 1, DIMS(2), (uint8_t[]){10, 20});
    struct ia_onnx_attr ax = attr_i("axis", 0);
    CHECK_EQ_INT(run("", "QuantizeLinear", 13, &ax, 1, 3, IN(&xq, &sa, &za), 1, NULL), IA_OK);
    /* 1/2=0.5->0, 1, 3/2=1.5->2 ; 2, 4, 6 */
    CHECK(memcmp(outs[0].data, (const uint8_t[]){10, 11, 12, 22, 24, 26}, 6) == 0);
    /* per-axis before opset 13, or a scale that does not match the axis */
    CHECK_EQ_INT(run("", "QuantizeLinear", 10, &ax, 1, 3, IN(&xq, &sa, &za), 1, NULL), IA_EINVAL);
    struct ia_onnx_attr ax1 = attr_i("axis", 1);
    CHECK_EQ_INT(run("", "QuantizeLinear", 13, &ax1, 1, 3, IN(&xq, &sa, &za), 1, NULL), IA_EINVAL);
    /* zero-size x */
    struct ia_tensor x0 = ten(IA_DTYPE_FLOAT32, 2, DIMS(0, 3), NULL);
    CHECK_EQ_INT(run("", "QuantizeLinear", 13, NULL, 0, 2, IN(&x0, &s), 1, NULL), IA_OK);
    CHECK_EQ_INT(outs[0].numel, 0);
    free_outs();
}

static void test_dequantize(void) {
    struct ia_tensor x = ten(IA_DTYPE_INT8, 1, DIMS(4), (int8_t[]){-128, -1, 0, 127});
    struct ia_tensor s = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){0.5f});
    struct ia_tensor z = ten(IA_DTYPE_INT8, 0, NULL, (int8_t[]){-1});
    CHECK_EQ_INT(run("", "DequantizeLinear", 10, NULL, 0, 3, IN(&x, &s, &z), 1, NULL), IA_OK);
    CHECK(close_f(&outs[0], (const float[]){-63.5f, 0, 0.5f, 64}, 4));
    /* int32 (bias-style) input, per axis 1 of [2,2] */
    struct ia_tensor xi = ten(IA_DTYPE_INT32, 2, DIMS(2, 2), (int32_t[]){100000, -3, 7, 8});
    struct ia_tensor sv = ten(IA_DTYPE_FLOAT32, 1, DIMS(2), (float[]){0.001f, 2});
    CHECK_EQ_INT(run("", "DequantizeLinear", 13, NULL, 0, 2, IN(&xi, &sv), 1, NULL), IA_OK);
    CHECK(close_f(&outs[0], (const float[]){100, -6, 0.007f, 16}, 4));
    /* an int32 input with a nonzero zero point is refused */
    struct ia_tensor zi = ten(IA_DTYPE_INT32, 0, NULL, (int32_t[]){3});
    CHECK_EQ_INT(run("", "DequantizeLinear", 13, NULL, 0, 3, IN(&xi, &s, &zi), 1, NULL), IA_EINVAL);
    /* zero point type must match x */
    CHECK_EQ_INT(run("", "DequantizeLinear", 13, NULL, 0, 3, IN(&x, &s, &zi), 1, NULL), IA_EINVAL);
    free_outs();
}

static void test_dynamic_quantize(void) {
    /* range [-1, 3] (0 included): scale 4/255, zero point round(255/4) = 64 */
    float xv[4] = {-1, 0, 1.5f, 3};
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 2), xv);
    CHECK_EQ_INT(run("", "DynamicQuantizeLinear", 11, NULL, 0, 1, IN(&x), 3, NULL), IA_OK);
    float sc = 4.0f / 255.0f;
    CHECK(fabsf(*(float *)outs[1].data - sc) < 1e-9f);
    CHECK_EQ_INT(*(uint8_t *)outs[2].data, 64);
    const uint8_t *y = outs[0].data;
    CHECK_EQ_INT(y[0], 0);
    CHECK_EQ_INT(y[1], 64);
    CHECK_EQ_INT(y[2], (int)rintf(1.5f / sc) + 64);
    CHECK_EQ_INT(y[3], 255);
    CHECK_EQ_INT(outs[1].rank, 0);
    /* all zeros (and empty): scale 1, zero point 0 */
    struct ia_tensor xz = ten(IA_DTYPE_FLOAT32, 1, DIMS(3), (float[3]){0});
    CHECK_EQ_INT(run("", "DynamicQuantizeLinear", 11, NULL, 0, 1, IN(&xz), 3, NULL), IA_OK);
    CHECK(*(float *)outs[1].data == 1.0f);
    CHECK_EQ_INT(*(uint8_t *)outs[2].data, 0);
    struct ia_tensor xe = ten(IA_DTYPE_FLOAT32, 1, DIMS(0), NULL);
    CHECK_EQ_INT(run("", "DynamicQuantizeLinear", 11, NULL, 0, 1, IN(&xe), 3, NULL), IA_OK);
    free_outs();
}

static void test_matmul_integer(void) {
    /* A int8 [2,3] with per-row zero points {1, -1}; B uint8 [3,2] with per-column {2, 0}:
     * A - za = [[0,1,2],[2,1,0]], B - zb = [[1,1],[0,2],[-1,3]]
     * Y = [[0+0-2, 0+2+6], [2+0+0, 2+2+0]] = [[-2, 8], [2, 4]] */
    struct ia_tensor a = ten(IA_DTYPE_INT8, 2, DIMS(2, 3), (int8_t[]){1, 2, 3, 1, 0, -1});
    struct ia_tensor b = ten(IA_DTYPE_UINT8, 2, DIMS(3, 2), (uint8_t[]){3, 1, 2, 2, 1, 3});
    struct ia_tensor za = ten(IA_DTYPE_INT8, 1, DIMS(2), (int8_t[]){1, -1});
    struct ia_tensor zb = ten(IA_DTYPE_UINT8, 1, DIMS(2), (uint8_t[]){2, 0});
    CHECK_EQ_INT(run("", "MatMulInteger", 10, NULL, 0, 4, IN(&a, &b, &za, &zb), 1, NULL), IA_OK);
    CHECK_EQ_INT(outs[0].dtype, IA_DTYPE_INT32);
    CHECK(memcmp(outs[0].data, (const int32_t[]){-2, 8, 2, 4}, 16) == 0);
    /* batched A [2,1,3] against one B, no zero points: rows [1,2,3] and [1,0,-1] */
    struct ia_tensor a3 = ten(IA_DTYPE_INT8, 3, DIMS(2, 1, 3), (int8_t[]){1, 2, 3, 1, 0, -1});
    CHECK_EQ_INT(run("", "MatMulInteger", 10, NULL, 0, 2, IN(&a3, &b), 1, NULL), IA_OK);
    CHECK(SHAPE_IS(&outs[0], 2, 1, 2));
    /* [3+4+3, 1+4+9] = [10, 14]; [3+0-1, 1+0-3] = [2, -2] */
    CHECK(memcmp(outs[0].data, (const int32_t[]){10, 14, 2, -2}, 16) == 0);
    /* 1-D A */
    struct ia_tensor a1 = ten(IA_DTYPE_INT8, 1, DIMS(3), (int8_t[]){1, 2, 3});
    CHECK_EQ_INT(run("", "MatMulInteger", 10, NULL, 0, 2, IN(&a1, &b), 1, NULL), IA_OK);
    CHECK(SHAPE_IS(&outs[0], 2));
    /* K mismatch; zero point of the wrong length */
    CHECK_EQ_INT(run("", "MatMulInteger", 10, NULL, 0, 2, IN(&b, &b), 1, NULL), IA_EINVAL);
    struct ia_tensor z3 = ten(IA_DTYPE_UINT8, 1, DIMS(3), (uint8_t[]){0, 0, 0});
    CHECK_EQ_INT(run("", "MatMulInteger", 10, NULL, 0, 4, IN(&a, &b, NULL, &z3), 1, NULL),
                 IA_EINVAL);
    free_outs();
}

static void test_qlinear_matmul(void) {
    /* int8 path: a - za = [[2, -1]], b - zb = [[3], [4]] -> acc = 2
     * scale 0.5 * 0.25 / 0.1 = 1.25 -> 2.5 -> 2 (half to even) + zy 5 = 7 */
    struct ia_tensor a = ten(IA_DTYPE_INT8, 2, DIMS(1, 2), (int8_t[]){3, 0});
    struct ia_tensor as = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){0.5f});
    struct ia_tensor az = ten(IA_DTYPE_INT8, 0, NULL, (int8_t[]){1});
    struct ia_tensor b = ten(IA_DTYPE_INT8, 2, DIMS(2, 1), (int8_t[]){1, 2});
    struct ia_tensor bs = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){0.25f});
    struct ia_tensor bz = ten(IA_DTYPE_INT8, 0, NULL, (int8_t[]){-2});
    struct ia_tensor ys = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){0.1f});
    struct ia_tensor yz = ten(IA_DTYPE_INT8, 0, NULL, (int8_t[]){5});
    CHECK_EQ_INT(
        run("", "QLinearMatMul", 10, NULL, 0, 8, IN(&a, &as, &az, &b, &bs, &bz, &ys, &yz), 1, NULL),
        IA_OK);
    CHECK_EQ_INT(outs[0].dtype, IA_DTYPE_INT8);
    CHECK_EQ_INT(((int8_t *)outs[0].data)[0], 7);
    /* saturation: y_scale tiny */
    struct ia_tensor ys2 = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){1e-4f});
    CHECK_EQ_INT(run("", "QLinearMatMul", 10, NULL, 0, 8, IN(&a, &as, &az, &b, &bs, &bz, &ys2, &yz),
                     1, NULL),
                 IA_OK);
    CHECK_EQ_INT(((int8_t *)outs[0].data)[0], 127);
    free_outs();
}

static void test_conv_integer(void) {
    /* 1-D, 2 groups, stride 2, dilation 2, pads 1/1, per-channel w zero points.
     * x (uint8, zp 1) [1,2,5]: ch0 2 3 4 5 6 -> 1 2 3 4 5; ch1 1 1 1 1 9 -> 0 0 0 0 8
     * w (uint8) [2,1,2], zp {0, 1}: oc0 = [1, 2]; oc1 = [3, 2] - 1 = [2, 1]
     * Output length (5 + 2 - 3) / 2 + 1 = 3; taps at i and i+2 for i = -1, 1, 3:
     * oc0: 0*1 + 2*2 = 4, 2*1 + 4*2 = 10, 4*1 + 0*2 = 4; oc1 never reaches the 8: 0 0 0 */
    struct ia_tensor x =
        ten(IA_DTYPE_UINT8, 3, DIMS(1, 2, 5), (uint8_t[]){2, 3, 4, 5, 6, 1, 1, 1, 1, 9});
    struct ia_tensor w = ten(IA_DTYPE_UINT8, 3, DIMS(2, 1, 2), (uint8_t[]){1, 2, 3, 2});
    struct ia_tensor xz = ten(IA_DTYPE_UINT8, 0, NULL, (uint8_t[]){1});
    struct ia_tensor wz = ten(IA_DTYPE_UINT8, 1, DIMS(2), (uint8_t[]){0, 1});
    struct ia_onnx_attr at[] = {attr_i("group", 2), attr_ints("strides", DIMS(2), 1),
                                attr_ints("dilations", DIMS(2), 1),
                                attr_ints("pads", DIMS(1, 1), 2)};
    CHECK_EQ_INT(run("", "ConvInteger", 10, at, 4, 4, IN(&x, &w, &xz, &wz), 1, NULL), IA_OK);
    CHECK(SHAPE_IS(&outs[0], 1, 2, 3));
    CHECK(memcmp(outs[0].data, (const int32_t[]){4, 10, 4, 0, 0, 0}, 24) == 0);
    /* SAME_UPPER keeps the length at ceil(5/2) = 3 and pads 0 before, 1 after with dilation 1:
     * taps (p, p+1) at p = 0, 2, 4 over ch0 1 2 3 4 5 (pad): 1+4=5, 3+8=11, 5+0=5 */
    struct ia_onnx_attr at2[] = {attr_i("group", 2), attr_ints("strides", DIMS(2), 1),
                                 attr_s("auto_pad", "SAME_UPPER")};
    CHECK_EQ_INT(run("", "ConvInteger", 10, at2, 3, 4, IN(&x, &w, &xz, &wz), 1, NULL), IA_OK);
    CHECK(SHAPE_IS(&outs[0], 1, 2, 3));
    CHECK(memcmp(outs[0].data, (const int32_t[]){5, 11, 5, 0, 0, 16}, 24) == 0);
    /* channels that do not divide into the groups */
    struct ia_onnx_attr g3 = attr_i("group", 3);
    CHECK_EQ_INT(run("", "ConvInteger", 10, &g3, 1, 2, IN(&x, &w), 1, NULL), IA_EINVAL);
    free_outs();
}

static void test_qlinear_conv(void) {
    /* 2-D 1x1 kernel, two output channels with their own scales and a bias:
     * x (uint8, zp 2, scale 0.5) [1,1,1,2] = 4, 6 -> 2, 4
     * w (int8, zp 0) [2,1,1,1] = 3, -1 ; w_scale {0.1, 0.2}; B {1, -2}; y_scale 0.05, zp 10
     * oc0: (2*3+1, 4*3+1) = 7, 13 times 0.5*0.1/0.05 = 1 -> 17, 23
     * oc1: (-2-2, -4-2) = -4, -6 times 0.5*0.2/0.05 = 2 -> -8+10 = 2, -12+10 = -2 -> 0 (uint8) */
    struct ia_tensor x = ten(IA_DTYPE_UINT8, 4, DIMS(1, 1, 1, 2), (uint8_t[]){4, 6});
    struct ia_tensor xs = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){0.5f});
    struct ia_tensor xz = ten(IA_DTYPE_UINT8, 0, NULL, (uint8_t[]){2});
    struct ia_tensor w = ten(IA_DTYPE_INT8, 4, DIMS(2, 1, 1, 1), (int8_t[]){3, -1});
    struct ia_tensor ws = ten(IA_DTYPE_FLOAT32, 1, DIMS(2), (float[]){0.1f, 0.2f});
    struct ia_tensor wz = ten(IA_DTYPE_INT8, 1, DIMS(2), (int8_t[]){0, 0});
    struct ia_tensor ys = ten(IA_DTYPE_FLOAT32, 0, NULL, (float[]){0.05f});
    struct ia_tensor yz = ten(IA_DTYPE_UINT8, 0, NULL, (uint8_t[]){10});
    struct ia_tensor bias = ten(IA_DTYPE_INT32, 1, DIMS(2), (int32_t[]){1, -2});
    CHECK_EQ_INT(run("", "QLinearConv", 10, NULL, 0, 9,
                     IN(&x, &xs, &xz, &w, &ws, &wz, &ys, &yz, &bias), 1, NULL),
                 IA_OK);
    CHECK(SHAPE_IS(&outs[0], 1, 2, 1, 2));
    CHECK(memcmp(outs[0].data, (const uint8_t[]){17, 23, 2, 0}, 4) == 0);
    /* a bias of the wrong length */
    struct ia_tensor b1 = ten(IA_DTYPE_INT32, 1, DIMS(1), (int32_t[]){1});
    CHECK_EQ_INT(run("", "QLinearConv", 10, NULL, 0, 9,
                     IN(&x, &xs, &xz, &w, &ws, &wz, &ys, &yz, &b1), 1, NULL),
                 IA_EINVAL);
    free_outs();
}

/* ---- com.microsoft -------------------------------------------------------------- */

static void test_attention(void) {
    struct ia_onnx_attr nh = attr_i("num_heads", 2);
    /* raw [B, T] mask */
    struct ia_tensor x = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 4), a1_x);
    struct ia_tensor w = ten(IA_DTYPE_FLOAT32, 2, DIMS(4, 12), a1_w);
    struct ia_tensor b = ten(IA_DTYPE_FLOAT32, 1, DIMS(12), a1_b);
    struct ia_tensor m = ten(IA_DTYPE_INT32, 2, DIMS(2, 3), a1_mask);
    CHECK_EQ_INT(run("com.microsoft", "Attention", 1, &nh, 1, 4, IN(&x, &w, &b, &m), 1, NULL),
                 IA_OK);
    CHECK(SHAPE_IS(&outs[0], 2, 3, 4));
    CHECK(close_f(&outs[0], a1_y, 24));
    /* past + present, [2B] end/start index, unidirectional, scale, attention_bias, on a pool */
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(2, &pool) == IA_OK);
    run_pool = pool;
    struct ia_tensor x2 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 2, 4), a2_x);
    struct ia_tensor w2 = ten(IA_DTYPE_FLOAT32, 2, DIMS(4, 12), a2_w);
    struct ia_tensor b2 = ten(IA_DTYPE_FLOAT32, 1, DIMS(12), a2_b);
    struct ia_tensor m2 = ten(IA_DTYPE_INT32, 1, DIMS(4), a2_mask);
    struct ia_tensor past = ten(IA_DTYPE_FLOAT32, 5, DIMS(2, 2, 2, 2, 2), a2_past);
    struct ia_tensor ab = ten(IA_DTYPE_FLOAT32, 4, DIMS(1, 2, 2, 4), a2_ab);
    struct ia_onnx_attr at2[] = {nh, attr_i("unidirectional", 1), attr_f("scale", 0.3f)};
    CHECK_EQ_INT(run("com.microsoft", "Attention", 1, at2, 3, 6, IN(&x2, &w2, &b2, &m2, &past, &ab),
                     2, NULL),
                 IA_OK);
    CHECK(close_f(&outs[0], a2_y, 16));
    CHECK(SHAPE_IS(&outs[1], 2, 2, 2, 4, 2));
    CHECK(close_f(&outs[1], a2_present, 64));
    run_pool = NULL;
    ia_pool_destroy(pool);
    /* [B] lengths, no bias, qkv_hidden_sizes with a wider V */
    struct ia_tensor x3 = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 4), a3_x);
    struct ia_tensor w3 = ten(IA_DTYPE_FLOAT32, 2, DIMS(4, 14), a3_w);
    struct ia_tensor m3 = ten(IA_DTYPE_INT32, 1, DIMS(2), a3_mask);
    struct ia_onnx_attr at3[] = {nh, attr_ints("qkv_hidden_sizes", DIMS(4, 4, 6), 3)};
    CHECK_EQ_INT(run("com.microsoft", "Attention", 1, at3, 2, 4, IN(&x3, &w3, NULL, &m3), 1, NULL),
                 IA_OK);
    CHECK(SHAPE_IS(&outs[0], 2, 3, 6));
    CHECK(close_f(&outs[0], a3_y, 36));
    /* refused: heads that do not divide the hidden size; an unsupported mask form */
    struct ia_onnx_attr nh5 = attr_i("num_heads", 5);
    CHECK_EQ_INT(run("com.microsoft", "Attention", 1, &nh5, 1, 2, IN(&x, &w), 1, NULL), IA_EINVAL);
    struct ia_tensor m4 = ten(IA_DTYPE_INT32, 1, DIMS(3), (int32_t[]){1, 2, 3});
    CHECK_EQ_INT(run("com.microsoft", "Attention", 1, &nh, 1, 4, IN(&x, &w, &b, &m4), 1, NULL),
                 IA_EUNSUPPORTED);
    free_outs();
}

static void test_matmul_nbits(void) {
    /* 4 bits, K = 40 over blocks of 16 (last block partial), packed zero points, bias, 3-D A */
    struct ia_tensor a = ten(IA_DTYPE_FLOAT32, 3, DIMS(2, 3, 40), m1_a);
    struct ia_tensor b = ten(IA_DTYPE_UINT8, 3, DIMS(5, 3, M1_BLOB), m1_b);
    struct ia_tensor s = ten(IA_DTYPE_FLOAT32, 1, DIMS(15), m1_scales);
    struct ia_tensor z = ten(IA_DTYPE_UINT8, 1, DIMS(10), m1_zp);
    struct ia_tensor bias = ten(IA_DTYPE_FLOAT32, 1, DIMS(5), m1_bias);
    struct ia_onnx_attr at[] = {attr_i("K", 40), attr_i("N", 5), attr_i("bits", 4),
                                attr_i("block_size", 16)};
    CHECK_EQ_INT(
        run("com.microsoft", "MatMulNBits", 1, at, 4, 6, IN(&a, &b, &s, &z, NULL, &bias), 1, NULL),
        IA_OK);
    CHECK(SHAPE_IS(&outs[0], 2, 3, 5));
    CHECK(close_f(&outs[0], m1_y, 30));
    /* float zero points, block 32, scales [N, k_blocks] */
    struct ia_tensor a2 = ten(IA_DTYPE_FLOAT32, 2, DIMS(2, 40), m2_a);
    struct ia_tensor b2 = ten(IA_DTYPE_UINT8, 3, DIMS(3, 2, M2_BLOB), m2_b);
    struct ia_tensor s2 = ten(IA_DTYPE_FLOAT32, 2, DIMS(3, 2), m2_scales);
    struct ia_tensor z2 = ten(IA_DTYPE_FLOAT32, 1, DIMS(6), m2_zp);
    struct ia_onnx_attr at2[] = {attr_i("K", 40), attr_i("N", 3), attr_i("block_size", 32)};
    CHECK_EQ_INT(run("com.microsoft", "MatMulNBits", 1, at2, 3, 4, IN(&a2, &b2, &s2, &z2), 1, NULL),
                 IA_OK);
    CHECK(close_f(&outs[0], m2_y, 6));
    /* 2 bits, default zero point 2 */
    struct ia_tensor a3 = ten(IA_DTYPE_FLOAT32, 2, DIMS(1, 32), m3_a);
    struct ia_tensor b3 = ten(IA_DTYPE_UINT8, 3, DIMS(4, 2, M3_BLOB), m3_b);
    struct ia_tensor s3 = ten(IA_DTYPE_FLOAT32, 1, DIMS(8), m3_scales);
    struct ia_onnx_attr at3[] = {attr_i("K", 32), attr_i("N", 4), attr_i("bits", 2),
                                 attr_i("block_size", 16)};
    CHECK_EQ_INT(run("com.microsoft", "MatMulNBits", 1, at3, 4, 3, IN(&a3, &b3, &s3), 1, NULL),
                 IA_OK);
    CHECK(close_f(&outs[0], m3_y, 4));
    /* the same through g_idx naming each k's block (the deprecated reordering input) */
    int32_t gidx[32];
    for (int k = 0; k < 32; k++) gidx[k] = k / 16;
    struct ia_tensor g3 = ten(IA_DTYPE_INT32, 1, DIMS(32), gidx);
    CHECK_EQ_INT(
        run("com.microsoft", "MatMulNBits", 1, at3, 4, 5, IN(&a3, &b3, &s3, NULL, &g3), 1, NULL),
        IA_OK);
    CHECK(close_f(&outs[0], m3_y, 4));
    gidx[5] = 2; /* past the last block */
    CHECK_EQ_INT(
        run("com.microsoft", "MatMulNBits", 1, at3, 4, 5, IN(&a3, &b3, &s3, NULL, &g3), 1, NULL),
        IA_EINVAL);
    /* 8 bits with packed zero points and bias, on a pool */
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(3, &pool) == IA_OK);
    run_pool = pool;
    struct ia_tensor a4 = ten(IA_DTYPE_FLOAT32, 2, DIMS(3, 20), m4_a);
    struct ia_tensor b4 = ten(IA_DTYPE_UINT8, 3, DIMS(2, 2, M4_BLOB), m4_b);
    struct ia_tensor s4 = ten(IA_DTYPE_FLOAT32, 1, DIMS(4), m4_scales);
    struct ia_tensor z4 = ten(IA_DTYPE_UINT8, 1, DIMS(4), m4_zp);
    struct ia_tensor bias4 = ten(IA_DTYPE_FLOAT32, 1, DIMS(2), m4_bias);
    struct ia_onnx_attr at4[] = {attr_i("K", 20), attr_i("N", 2), attr_i("bits", 8),
                                 attr_i("block_size", 16)};
    CHECK_EQ_INT(run("com.microsoft", "MatMulNBits", 1, at4, 4, 6,
                     IN(&a4, &b4, &s4, &z4, NULL, &bias4), 1, NULL),
                 IA_OK);
    CHECK(close_f(&outs[0], m4_y, 6));
    run_pool = NULL;
    ia_pool_destroy(pool);
    /* refused: B of the wrong size, a block size that is not a power of 2 */
    struct ia_tensor bbad = ten(IA_DTYPE_UINT8, 3, DIMS(5, 3, 7), m1_b);
    CHECK_EQ_INT(run("com.microsoft", "MatMulNBits", 1, at, 4, 3, IN(&a, &bbad, &s), 1, NULL),
                 IA_EINVAL);
    struct ia_onnx_attr at5[] = {attr_i("K", 40), attr_i("N", 5), attr_i("block_size", 24)};
    CHECK_EQ_INT(run("com.microsoft", "MatMulNBits", 1, at5, 3, 3, IN(&a, &b, &s), 1, NULL),
                 IA_EINVAL);
    free_outs();
}

TEST_MAIN(T(test_lstm_bidirectional), T(test_lstm_layout_activations), T(test_gru), T(test_rnn),
          T(test_rnn_edges), T(test_fast_sigmoid_tanh), T(test_fast_recurrence), T(test_quantize),
          T(test_dequantize), T(test_dynamic_quantize), T(test_matmul_integer),
          T(test_qlinear_matmul), T(test_conv_integer), T(test_qlinear_conv), T(test_attention),
          T(test_matmul_nbits))
