/* Fused ops the graph fusion pass (src/graph/fuse.c) puts in place of
 * common exported subgraphs. Domain "ai.ia.fused" is ours, internal: the
 * ops are public only in that a model could name them, so they check
 * their inputs like any other op.
 *
 *   FusedMatMul(A, B, bias?, Bp?, R?) -> Y   attr act: 0 none, 1 GELU (erf),
 *                                             2 GELU (tanh approximation)
 *       Y = act(A @ B + bias) + R. A [..., K] (rank >= 1), B [K, N] float32,
 *       bias [N] (or any shape of N elements). Bp, when present, is B packed
 *       once by ia_sgemm_pack_b for this machine's best GEMM path; a Bp of
 *       the wrong size is ignored (the product then packs B itself). Y is
 *       A's shape with the last dim N, broadcast with R's when R is given
 *       (a transformer's residual). The bias, activation and a residual of
 *       Y's own shape run on each tile of Y right after the product
 *       (ia_sgemm_epi), not as passes; a residual that broadcasts is added
 *       by the elementwise machinery after the product.
 *       attr parts = n > 1: A times n weights at once (a transformer's Q, K
 *       and V projections, merged by the fusion pass): part p's B, bias
 *       and Bp are inputs 1 + 4p .. 3 + 4p, its output is output p, no R.
 *       A is packed once and all the products run as one pool job.
 *   FusedLayerNorm(X, scale?, bias?) -> Y     attr epsilon (default 1e-5)
 *       over the last axis: Y = (X - mean) / sqrt(var + epsilon) * scale + bias,
 *       scale and bias with as many elements as the last dim.
 *
 * GELU here uses erf and exp written as branch-free polynomials so the loops
 * vectorise (libm's are scalar calls): erf by Abramowitz & Stegun 7.1.26
 * (absolute error under 1.5e-7), exp by range reduction to [-ln2/2, ln2/2]
 * and a degree-6 polynomial (relative error about 2e-7), 16 lanes at a
 * time. LayerNorm sums run in float lanes and end in double. */
#include <math.h>
#include <string.h>

#include "ew_internal.h"
#include "gemm.h"
#include "ia/kernels.h"

enum { ACT_NONE = 0, ACT_GELU_ERF = 1, ACT_GELU_TANH = 2 };

/* 16 floats at a time with GCC's vector extensions: the compiler will not
 * vectorise these loops itself (float selects count as control flow to it
 * without -ffast-math). Clamp/select through integer masks. */
#include "fused_math.h"

static inline __attribute__((always_inline)) void v_gelu_erf(v16f *px) {
    v16f x = *px, z = x * 0.70710678f;
    v16i neg = z < 0.0f;
    v16f az = VSEL(neg, -z, z), t = 1.0f / (1.0f + 0.3275911f * az), e = -az * az;
    v_exp(&e);
    v16f y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t -
                      0.284496736f) * t + 0.254829592f) * t * e;
    *px = 0.5f * x * (1.0f + VSEL(neg, -y, y));
}

static inline __attribute__((always_inline)) void v_gelu_tanh(v16f *px) {
    v16f x = *px, e = 2.0f * (0.7978845608f * (x + 0.044715f * x * x * x));
    /* tanh(u) = 1 - 2 / (exp(2u) + 1); v_exp clamps, so no inf/inf. */
    v_exp(&e);
    *px = 0.5f * x * (2.0f - 2.0f / (e + 1.0f));
}

/* In place over n floats; the tail goes through a padded copy. */
#define GELU_LOOP(VFN)                                                                       \
    int64_t i = 0;                                                                           \
    for (; i + 16 <= n; i += 16) {                                                           \
        v16f v;                                                                              \
        memcpy(&v, x + i, sizeof v);                                                         \
        VFN(&v);                                                                             \
        memcpy(x + i, &v, sizeof v);                                                         \
    }                                                                                        \
    if (i < n) {                                                                             \
        v16f v = {0};                                                                        \
        memcpy(&v, x + i, (size_t)(n - i) * sizeof(float));                                 \
        VFN(&v);                                                                             \
        memcpy(x + i, &v, (size_t)(n - i) * sizeof(float));                                  \
    }

void ia_fused_gelu_erf(float *x, int64_t n);
void ia_fused_gelu_tanh(float *x, int64_t n);

/* Cloned for AVX-512 and AVX2 (picked at load time by ifunc): these loops
 * are most of a transformer's non-GEMM time. The clones stay static behind
 * plain exported wrappers: clang 14 emits no external symbol for an
 * exported target_clones function, so the fuzz (clang) build could not
 * link callers in other files. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
gelu_erf_loop(float *x, int64_t n) {
    GELU_LOOP(v_gelu_erf)
}

__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
gelu_tanh_loop(float *x, int64_t n) {
    GELU_LOOP(v_gelu_tanh)
}

void ia_fused_gelu_erf(float *x, int64_t n) { gelu_erf_loop(x, n); }
void ia_fused_gelu_tanh(float *x, int64_t n) { gelu_tanh_loop(x, n); }

/* ---- FusedMatMul ------------------------------------------------------------------------ */

static const struct ia_tensor *opt_in(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

/* Parts: a FusedMatMul may multiply A by several weights at once (the
 * fusion pass merges the MatMuls that read one value, such as Q, K and V):
 * attribute parts (default 1), then per part p the inputs B, bias, Bp at
 * 1 + 4p .. 3 + 4p and output p. R is for a single part only. */
#define FMM_MAX_PARTS 16

static int fmm_parts(struct ia_op_ctx *ctx, int *parts) {
    int64_t n = ia_attr_int(ctx->node, "parts", 1);
    if (n < 1 || n > FMM_MAX_PARTS || (size_t)n > ctx->n_outputs)
        return ia_op_error(ctx, IA_EINVAL, "parts %lld is not 1 to %d (one output each)",
                           (long long)n, FMM_MAX_PARTS);
    for (int64_t p = 1; n > 1 && p <= n; p++)
        if (opt_in(ctx, 4 * (size_t)p))
            return ia_op_error(ctx, IA_EINVAL, "a residual needs parts = 1");
    *parts = (int)n;
    return IA_OK;
}

/* Part p's B and bias against A: K, N and the activation. */
static int fmm_check(struct ia_op_ctx *ctx, int p, int64_t *K, int64_t *N, int *act) {
    const struct ia_tensor *a = opt_in(ctx, 0), *b = opt_in(ctx, 1 + 4 * (size_t)p),
                           *bias = opt_in(ctx, 2 + 4 * (size_t)p);
    char sa[128], sb[128];
    if (!a || !b || ctx->n_outputs <= (size_t)p || !ctx->outputs[p])
        return ia_op_error(ctx, IA_EINVAL, "A, B and the output are required");
    if (a->dtype != IA_DTYPE_FLOAT32 || b->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "float32 only, got %s and %s",
                           ia_dtype_name(a->dtype), ia_dtype_name(b->dtype));
    if (a->rank < 1 || b->rank != 2 || a->dims[a->rank - 1] != b->dims[0])
        return ia_op_error(ctx, IA_EINVAL, "A %s and B %s do not multiply (B must be 2-D)",
                           ia_tensor_describe(a, sa, sizeof sa), ia_tensor_describe(b, sb, sizeof sb));
    *K = b->dims[0];
    *N = b->dims[1];
    if (bias && (bias->dtype != IA_DTYPE_FLOAT32 || bias->numel != (uint64_t)*N))
        return ia_op_error(ctx, IA_EINVAL, "bias %s must be float32 with %lld elements",
                           ia_tensor_describe(bias, sa, sizeof sa), (long long)*N);
    int64_t ac = ia_attr_int(ctx->node, "act", 0);
    if (ac < ACT_NONE || ac > ACT_GELU_TANH)
        return ia_op_error(ctx, IA_EINVAL, "act %lld is not 0, 1 or 2", (long long)ac);
    *act = (int)ac;
    return IA_OK;
}

/* The product's shape (A's with the last dim N) in *mm, no data. */
static int fmm_product_shape(const struct ia_tensor *a, int64_t N, struct ia_tensor *mm) {
    int64_t dims[IA_MAX_RANK];
    memcpy(dims, a->dims, sizeof dims);
    dims[a->rank - 1] = N;
    memset(mm, 0, sizeof *mm);
    return ia_tensor_set_shape(mm, IA_DTYPE_FLOAT32, a->rank, dims);
}

/* R when given and of the product's own shape (added tile by tile). */
static int same_shape(const struct ia_tensor *x, const struct ia_tensor *y) {
    return x->rank == y->rank && !memcmp(x->dims, y->dims, sizeof(int64_t) * (size_t)x->rank);
}

static int fmm_infer(struct ia_op_ctx *ctx) {
    int64_t K = 0, N = 0;
    int act = 0, parts = 1, rc = fmm_parts(ctx, &parts);
    struct ia_tensor mm;
    for (int p = 0; rc == IA_OK && p < parts; p++) {
        rc = fmm_check(ctx, p, &K, &N, &act);
        if (rc == IA_OK) rc = fmm_product_shape(ctx->inputs[0], N, &mm);
        if (rc == IA_OK && p + 1 < parts)
            rc = ia_tensor_set_shape(ctx->outputs[p], IA_DTYPE_FLOAT32, mm.rank, mm.dims);
    }
    if (rc) return rc;
    const struct ia_tensor *r = opt_in(ctx, 4);
    if (parts > 1 || !r)
        return ia_tensor_set_shape(ctx->outputs[parts - 1], IA_DTYPE_FLOAT32, mm.rank, mm.dims);
    if (r->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "residual must be float32, got %s",
                           ia_dtype_name(r->dtype));
    const struct ia_tensor *both[2] = {&mm, r};
    return ew_infer_bcast(ctx, 2, both, IA_DTYPE_FLOAT32);
}

struct fmm_epi {
    const float *bias;
    const float *res; /* residual of Y's shape, or NULL */
    const float *y;   /* Y's start: a row piece's offset in Y is its offset in res */
    int act;
};

/* The bias and residual adds, 16 at a time. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
add_rows(float *c, const float *x, int64_t n) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        v16f a, b;
        memcpy(&a, c + j, sizeof a);
        memcpy(&b, x + j, sizeof b);
        a += b;
        memcpy(c + j, &a, sizeof a);
    }
    for (; j < n; j++) c[j] += x[j];
}

/* c += x + z in one pass (bias and residual, no activation between). */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
add_rows2(float *c, const float *x, const float *z, int64_t n) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        v16f a, b, d;
        memcpy(&a, c + j, sizeof a);
        memcpy(&b, x + j, sizeof b);
        memcpy(&d, z + j, sizeof d);
        a = (a + b) + d;
        memcpy(c + j, &a, sizeof a);
    }
    for (; j < n; j++) c[j] = (c[j] + x[j]) + z[j];
}

static void fmm_row(const void *user, float *c, int64_t col0, int64_t n) {
    const struct fmm_epi *e = user;
    const float *res = e->res ? e->res + (c - e->y) : NULL;
    if (e->bias && res && e->act == ACT_NONE) {
        add_rows2(c, e->bias + col0, res, n);
        return;
    }
    if (e->bias) add_rows(c, e->bias + col0, n);
    if (e->act == ACT_GELU_ERF) ia_fused_gelu_erf(c, n);
    if (e->act == ACT_GELU_TANH) ia_fused_gelu_tanh(c, n);
    if (res) add_rows(c, res, n);
}

static void add_f32(void *out, const void *const *in, const int64_t *is, int64_t n,
                    const struct ew_param *p) {
    (void)p;
    float *o = out;
    const float *a = in[0], *b = in[1];
    for (int64_t j = 0; j < n; j++) o[j] = a[j * is[0]] + b[j * is[1]];
}

/* B packed for this machine when bp is there and of the right size. */
static int fmm_packed_ok(const struct ia_tensor *bp, int64_t K, int64_t N) {
    return bp && bp->dtype == IA_DTYPE_FLOAT32 &&
           bp->numel == ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, K, N);
}

/* parts > 1: every part's product in one call where all are packed. */
static int fmm_compute_parts(struct ia_op_ctx *ctx, int parts) {
    struct fmm_epi e[FMM_MAX_PARTS];
    struct ia_sgemm_epi epi[FMM_MAX_PARTS];
    struct ia_sgemm_part part[FMM_MAX_PARTS];
    const struct ia_tensor *a = ctx->inputs[0];
    int64_t K = 0, M = 0;
    int all_packed = 1;
    for (int p = 0; p < parts; p++) {
        int64_t N = 0;
        int act = 0, rc = fmm_check(ctx, p, &K, &N, &act);
        if (rc) return rc;
        const struct ia_tensor *bias = opt_in(ctx, 2 + 4 * (size_t)p);
        float *y = ctx->outputs[p]->data;
        M = N ? (int64_t)(ctx->outputs[p]->numel / (uint64_t)N) : 0;
        e[p] = (struct fmm_epi){bias ? bias->data : NULL, NULL, y, act};
        epi[p] = (struct ia_sgemm_epi){fmm_row, &e[p]};
        part[p] = (struct ia_sgemm_part){N, N, NULL, y, &epi[p]};
        const struct ia_tensor *bp = opt_in(ctx, 3 + 4 * (size_t)p);
        if (fmm_packed_ok(bp, K, N))
            part[p].Bp = bp->data;
        else
            all_packed = 0;
    }
    if (M == 0) return IA_OK;
    int rc = IA_OK;
    if (all_packed) {
        rc = ia_sgemm_prepacked_multi(IA_SGEMM_AUTO, M, K, a->data, K, (size_t)parts, part,
                                      ctx->pool);
    } else {
        for (int p = 0; rc == IA_OK && p < parts; p++) {
            int64_t N = part[p].N;
            if (N == 0) continue;
            rc = ia_sgemm(0, 0, M, N, K, 1.0f, a->data, K, ctx->inputs[1 + 4 * p]->data, N,
                          0.0f, part[p].C, N, ctx->pool);
            for (int64_t i = 0; rc == IA_OK && i < M; i++) fmm_row(&e[p], part[p].C + i * N, 0, N);
        }
    }
    return rc ? ia_op_error(ctx, rc, "%s", ia_error_msg()) : IA_OK;
}

static int fmm_compute(struct ia_op_ctx *ctx) {
    int64_t K = 0, N = 0;
    int act = 0, parts = 1, rc = fmm_parts(ctx, &parts);
    if (rc == IA_OK && parts > 1) return fmm_compute_parts(ctx, parts);
    if (rc == IA_OK) rc = fmm_check(ctx, 0, &K, &N, &act);
    struct ia_tensor *y = ctx->outputs[0];
    if (rc || y->numel == 0) return rc;
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1], *bias = opt_in(ctx, 2),
                           *bp = opt_in(ctx, 3), *r = opt_in(ctx, 4);
    struct ia_tensor mm;
    rc = fmm_product_shape(a, N, &mm);
    if (rc) return rc;
    if (mm.numel == 0) return IA_OK; /* an empty product: R broadcast over nothing */
    int tiled_res = r && same_shape(r, &mm);
    /* A residual that broadcasts: the product goes to scratch, then one
     * broadcast add writes Y. */
    float *dst = y->data;
    if (r && !tiled_res) {
        dst = ctx->scratch(ctx, (size_t)mm.nbytes);
        if (!dst) return ia_op_error(ctx, IA_ENOMEM, "no scratch for the product");
    }
    int64_t M = (int64_t)(mm.numel / (uint64_t)N);
    struct fmm_epi e = {bias ? bias->data : NULL, tiled_res ? r->data : NULL, dst, act};
    struct ia_sgemm_epi epi = {fmm_row, &e};
    /* A few rows (a decode step) too: ia_sgemm_prepacked reads the packed
     * slivers once, in storage order, faster than the plain path reads B. */
    if (fmm_packed_ok(bp, K, N)) {
        rc = ia_sgemm_prepacked(IA_SGEMM_AUTO, M, N, K, a->data, K, bp->data, dst, N, &epi,
                                ctx->pool);
    } else {
        rc = ia_sgemm(0, 0, M, N, K, 1.0f, a->data, K, b->data, N, 0.0f, dst, N, ctx->pool);
        for (int64_t i = 0; rc == IA_OK && i < M; i++) fmm_row(&e, dst + i * N, 0, N);
    }
    if (rc) return ia_op_error(ctx, rc, "%s", ia_error_msg());
    if (r && !tiled_res) {
        mm.data = dst;
        const struct ia_tensor *both[2] = {&mm, r};
        return ew_run(ctx, y, 2, both, add_f32, NULL);
    }
    return IA_OK;
}

/* ---- FusedLayerNorm ------------------------------------------------------------------------ */

static int fln_check(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = opt_in(ctx, 0);
    char s[128];
    if (!x || ctx->n_outputs < 1 || !ctx->outputs[0])
        return ia_op_error(ctx, IA_EINVAL, "X and the output are required");
    if (x->dtype != IA_DTYPE_FLOAT32 || x->rank < 1)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "X must be float32 with rank >= 1, got %s",
                           ia_tensor_describe(x, s, sizeof s));
    for (size_t i = 1; i < 3; i++) {
        const struct ia_tensor *p = opt_in(ctx, i);
        if (p && (p->dtype != IA_DTYPE_FLOAT32 || p->numel != (uint64_t)x->dims[x->rank - 1]))
            return ia_op_error(ctx, IA_EINVAL, "%s %s must be float32 with %lld elements",
                               i == 1 ? "scale" : "bias", ia_tensor_describe(p, s, sizeof s),
                               (long long)x->dims[x->rank - 1]);
    }
    return IA_OK;
}

static int fln_infer(struct ia_op_ctx *ctx) {
    int rc = fln_check(ctx);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    return ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_FLOAT32, x->rank, x->dims);
}

struct fln_job {
    const float *x, *g, *b;
    float *y;
    int64_t n;
    float eps;
};

/* Sums in 16 float lanes (then double): a 768-wide row has 48 terms per
 * lane, far below float's rounding trouble. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
fln_row(void *vj, int64_t r, int thread) {
    (void)thread;
    const struct fln_job *j = vj;
    const float *x = j->x + r * j->n;
    float *y = j->y + r * j->n;
    int64_t n = j->n, n16 = n / 16 * 16;
    v16f acc = {0};
    for (int64_t i = 0; i < n16; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        acc += v;
    }
    double s = 0.0;
    for (int i = 0; i < 16; i++) s += acc[i];
    for (int64_t i = n16; i < n; i++) s += x[i];
    float mean = (float)(s / (double)n);
    v16f acc2 = {0};
    for (int64_t i = 0; i < n16; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        v -= mean;
        acc2 += v * v;
    }
    double var = 0.0;
    for (int i = 0; i < 16; i++) var += acc2[i];
    for (int64_t i = n16; i < n; i++) var += (double)(x[i] - mean) * (x[i] - mean);
    float inv = (float)(1.0 / sqrt(var / (double)n + (double)j->eps));
    /* 16 at a time by hand: GCC's -O2 cost model will not vectorise a loop
     * that needs an alias check between y, x, g and b. */
    const float *g = j->g, *b = j->b;
    int64_t i = 0;
    for (; i < n16; i += 16) {
        v16f v, gv = {0}, bv = {0};
        memcpy(&v, x + i, sizeof v);
        if (g) memcpy(&gv, g + i, sizeof gv);
        if (b) memcpy(&bv, b + i, sizeof bv);
        v = (v - mean) * inv;
        if (g) v *= gv;
        if (b) v += bv;
        memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; i++) {
        float v = (x[i] - mean) * inv;
        if (g) v *= g[i];
        if (b) v += b[i];
        y[i] = v;
    }
}

static int fln_compute(struct ia_op_ctx *ctx) {
    int rc = fln_check(ctx);
    struct ia_tensor *y = ctx->outputs[0];
    if (rc || y->numel == 0) return rc;
    const struct ia_tensor *x = ctx->inputs[0], *g = opt_in(ctx, 1), *b = opt_in(ctx, 2);
    struct fln_job j = {x->data, g ? g->data : NULL, b ? b->data : NULL, y->data,
                        x->dims[x->rank - 1], ia_attr_float(ctx->node, "epsilon", 1e-5f)};
    if (j.n == 0) return IA_OK;
    int64_t rows = (int64_t)(x->numel / (uint64_t)j.n);
    if (ctx->pool && rows > 1 && x->numel > 16384)
        ia_pool_run(ctx->pool, rows, fln_row, &j);
    else
        for (int64_t r = 0; r < rows; r++) fln_row(&j, r, 0);
    return IA_OK;
}

const struct ia_op_def ia_op_ia_FusedMatMul = {"ai.ia.fused", "FusedMatMul", 1, 0, fmm_infer, fmm_compute};
const struct ia_op_def ia_op_ia_FusedLayerNorm = {"ai.ia.fused", "FusedLayerNorm", 1, 0, fln_infer, fln_compute};
