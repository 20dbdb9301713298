/* Pooling: AveragePool, MaxPool (with Indices), LpPool and their Global
 * forms, over 1 to 6 spatial dims with strides, dilations, pads, auto_pad
 * and ceil_mode (window geometry from nn_geom_init, conv.c).
 *
 * Each output element's window is clipped per spatial dim to the kernel
 * offsets that land inside the input (with dilation they still form one
 * range), so padding is never read: MaxPool ignores it, AveragePool
 * divides by the in-input count, or with count_include_pad by the count
 * inside the padded input (a ceil_mode window reaching past the end pads
 * still excludes that part), and LpPool treats it as zeros. Planes (n, c)
 * are spread over the pool. MaxPool keeps int8/uint8 as they are; the
 * other pools compute in float32 (nn_util.h). */
#include <math.h>

#include "nn_util.h"

enum pool_kind { P_AVG, P_MAX, P_LP };

struct pool_job {
    const struct nn_geom *g;
    enum pool_kind kind;
    enum ia_dtype dt;      /* MaxPool element type (float32 for the rest) */
    const void *x;
    void *y;
    int64_t *ind;          /* MaxPool Indices or NULL */
    int include_pad, col_major;
    float p;               /* LpPool exponent */
    int64_t istr[NN_MAX_SPATIAL]; /* input element stride per spatial dim */
    int64_t cstr[NN_MAX_SPATIAL]; /* the same, column-major (storage_order 1) */
};

/* Window of output position o in dim i: kernel offsets [lo, hi), input start st. */
static inline void win(const struct nn_geom *g, int i, int64_t o, int64_t *st, int64_t *lo,
                       int64_t *hi) {
    int64_t s = o * g->s[i] - g->pb[i], d = g->d[i], in = g->in[i];
    int64_t l = s >= 0 ? 0 : (-s + d - 1) / d;
    int64_t h = in - s <= 0 ? 0 : (in - 1 - s) / d + 1;
    if (h > g->k[i]) h = g->k[i];
    if (h < l) h = l;
    *st = s;
    *lo = l;
    *hi = h;
}

/* Positions of dim i's window inside the padded input [-pb, in + pe). */
static inline int64_t padded_count(const struct nn_geom *g, int i, int64_t st) {
    int64_t n = 0;
    for (int64_t k = 0; k < g->k[i]; k++) {
        int64_t p = st + k * g->d[i];
        n += p >= -g->pb[i] && p < g->in[i] + g->pe[i];
    }
    return n;
}

#define MAXPOOL_WINDOW(T)                                                                     \
    do {                                                                                      \
        const T *xp = (const T *)j->x + plane * g->insz;                                      \
        T best = 0;                                                                           \
        int64_t bi = -1;                                                                      \
        int64_t kk[NN_MAX_SPATIAL];                                                           \
        for (int i = 0; i < S; i++) kk[i] = lo[i];                                            \
        for (;;) {                                                                            \
            int64_t off = 0;                                                                  \
            for (int i = 0; i < S; i++) off += (st[i] + kk[i] * g->d[i]) * j->istr[i];        \
            T v = xp[off];                                                                    \
            if (bi < 0 || v > best) {                                                         \
                best = v;                                                                     \
                bi = off;                                                                     \
            }                                                                                 \
            int i = S - 1;                                                                    \
            for (; i >= 0; i--) {                                                             \
                if (++kk[i] < hi[i]) break;                                                   \
                kk[i] = lo[i];                                                                \
            }                                                                                 \
            if (i < 0) break;                                                                 \
        }                                                                                     \
        ((T *)j->y)[plane * g->outsz + oi] = best;                                            \
        if (j->ind) {                                                                         \
            int64_t idx = bi;                                                                 \
            if (j->col_major) {                                                               \
                int64_t r = bi;                                                               \
                idx = 0;                                                                      \
                for (int i = S - 1; i >= 0; i--) {                                            \
                    idx += (r % g->in[i]) * j->cstr[i];                                       \
                    r /= g->in[i];                                                            \
                }                                                                             \
            }                                                                                 \
            j->ind[plane * g->outsz + oi] = (int64_t)(plane * g->insz) + idx;                 \
        }                                                                                     \
    } while (0)

static void pool_plane(void *vj, int64_t plane_i, int thread) {
    (void)thread;
    struct pool_job *j = vj;
    const struct nn_geom *g = j->g;
    int S = g->S;
    uint64_t plane = (uint64_t)plane_i;
    int64_t o[NN_MAX_SPATIAL] = {0};
    for (uint64_t oi = 0; oi < g->outsz; oi++) {
        int64_t st[NN_MAX_SPATIAL], lo[NN_MAX_SPATIAL], hi[NN_MAX_SPATIAL];
        uint64_t count = 1, pcount = 1;
        for (int i = 0; i < S; i++) {
            win(g, i, o[i], &st[i], &lo[i], &hi[i]);
            count *= (uint64_t)(hi[i] - lo[i]);
            if (j->include_pad) pcount *= (uint64_t)padded_count(g, i, st[i]);
        }
        if (j->kind == P_MAX) {
            if (count == 0) {
                /* A window wholly in the padding: nothing to take the max of. */
                sh_set_f64(j->y, j->dt, plane * g->outsz + oi, j->dt == IA_DTYPE_FLOAT32 ||
                           j->dt == IA_DTYPE_FLOAT64 ? -INFINITY : 0);
                if (j->ind) j->ind[plane * g->outsz + oi] = -1;
            } else if (j->dt == IA_DTYPE_FLOAT32) {
                MAXPOOL_WINDOW(float);
            } else if (j->dt == IA_DTYPE_FLOAT64) {
                MAXPOOL_WINDOW(double);
            } else if (j->dt == IA_DTYPE_INT8) {
                MAXPOOL_WINDOW(int8_t);
            } else {
                MAXPOOL_WINDOW(uint8_t);
            }
        } else {
            const float *xp = (const float *)j->x + plane * g->insz;
            double acc = 0.0;
            if (count) {
                int64_t kk[NN_MAX_SPATIAL];
                for (int i = 0; i < S; i++) kk[i] = lo[i];
                for (;;) {
                    int64_t off = 0;
                    for (int i = 0; i < S; i++) off += (st[i] + kk[i] * g->d[i]) * j->istr[i];
                    double v = xp[off];
                    if (j->kind == P_AVG) acc += v;
                    else if (j->p == 2.0f) acc += v * v;
                    else if (j->p == 1.0f) acc += fabs(v);
                    else acc += pow(fabs(v), j->p);
                    int i = S - 1;
                    for (; i >= 0; i--) {
                        if (++kk[i] < hi[i]) break;
                        kk[i] = lo[i];
                    }
                    if (i < 0) break;
                }
            }
            float r;
            if (j->kind == P_AVG) {
                uint64_t div = j->include_pad ? pcount : count;
                r = div ? (float)(acc / (double)div) : NAN;
            } else {
                r = (float)(j->p == 2.0f ? sqrt(acc) : j->p == 1.0f ? acc : pow(acc, 1.0 / j->p));
            }
            ((float *)j->y)[plane * g->outsz + oi] = r;
        }
        for (int i = S - 1; i >= 0; i--) {
            if (++o[i] < g->out[i]) break;
            o[i] = 0;
        }
    }
}

/* LpPool's p: a float before opset 2, an int after. */
static float lp_exponent(const struct ia_op_ctx *ctx) {
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "p");
    if (a && a->type == IA_ONNX_ATTR_FLOAT) return a->f;
    return (float)ia_attr_int(ctx->node, "p", 2);
}

static int pool_run(struct ia_op_ctx *ctx, struct pool_job *j) {
    const struct nn_geom *g = j->g;
    int64_t st = 1;
    for (int i = g->S - 1; i >= 0; i--) {
        j->istr[i] = st;
        st *= g->in[i];
    }
    st = 1;
    for (int i = 0; i < g->S; i++) {
        j->cstr[i] = st;
        st *= g->in[i];
    }
    uint64_t planes = (uint64_t)g->N * (uint64_t)g->C;
    if (ctx->pool && planes > 1 && g->outsz * g->ksz * planes > 32768)
        ia_pool_run(ctx->pool, (int64_t)planes, pool_plane, j);
    else
        for (uint64_t p = 0; p < planes; p++) pool_plane(j, (int64_t)p, 0);
    return IA_OK;
}

/* ---- windowed pools ------------------------------------------------------------------ */

static int pool_geom(struct ia_op_ctx *ctx, enum pool_kind kind, struct nn_geom *g) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (!x || !sh_out(ctx, 0)) return ia_op_error(ctx, IA_EINVAL, "X and Y are required");
    enum ia_dtype t = x->dtype;
    if (!nn_is_float(t) && !(kind == P_MAX && (t == IA_DTYPE_INT8 || t == IA_DTYPE_UINT8)))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "type %s is not supported", ia_dtype_name(t));
    int ceil_mode = ia_attr_int(ctx->node, "ceil_mode", 0) != 0;
    return nn_geom_init(ctx, x, NULL, ceil_mode, g);
}

static int pool_infer_kind(struct ia_op_ctx *ctx, enum pool_kind kind) {
    struct nn_geom g;
    int rc = pool_geom(ctx, kind, &g);
    if (rc) return rc;
    int64_t d[IA_MAX_RANK] = {g.N, g.C};
    for (int i = 0; i < g.S; i++) d[2 + i] = g.out[i];
    if ((rc = ia_tensor_set_shape(ctx->outputs[0], ctx->inputs[0]->dtype, g.S + 2, d))) return rc;
    struct ia_tensor *ind = sh_out(ctx, 1);
    if (kind == P_MAX && ind) rc = ia_tensor_set_shape(ind, IA_DTYPE_INT64, g.S + 2, d);
    return rc;
}

/* Runs j on x and y directly when the loops handle their type (native),
 * otherwise on float32 copies converted back into y. */
static int pool_run_on(struct ia_op_ctx *ctx, struct pool_job *j, const struct ia_tensor *x,
                       struct ia_tensor *y, int native) {
    if (native) {
        j->x = x->data;
        j->y = y->data;
        return pool_run(ctx, j);
    }
    const float *xf;
    float *yf;
    int rc;
    if ((rc = nn_f32_in(ctx, x, &xf)) || (rc = nn_f32_out(ctx, y, &yf))) return rc;
    j->dt = IA_DTYPE_FLOAT32;
    j->x = xf;
    j->y = yf;
    if ((rc = pool_run(ctx, j))) return rc;
    return nn_f32_out_done(ctx, y, yf);
}

static int pool_compute_kind(struct ia_op_ctx *ctx, enum pool_kind kind) {
    struct nn_geom g;
    int rc = pool_geom(ctx, kind, &g);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *y = ctx->outputs[0], *ind = kind == P_MAX ? sh_out(ctx, 1) : NULL;
    if (y->numel == 0) return IA_OK;
    struct pool_job j = {.g = &g, .kind = kind, .dt = x->dtype,
                         .include_pad = kind == P_AVG &&
                                        ia_attr_int(ctx->node, "count_include_pad", 0) != 0,
                         .col_major = ia_attr_int(ctx->node, "storage_order", 0) != 0,
                         .p = lp_exponent(ctx),
                         .ind = ind ? (int64_t *)ind->data : NULL};
    int native = kind == P_MAX && (x->dtype == IA_DTYPE_FLOAT32 || x->dtype == IA_DTYPE_FLOAT64 ||
                                   x->dtype == IA_DTYPE_INT8 || x->dtype == IA_DTYPE_UINT8);
    return pool_run_on(ctx, &j, x, y, native);
}

static int avg_infer(struct ia_op_ctx *ctx) { return pool_infer_kind(ctx, P_AVG); }
static int avg_compute(struct ia_op_ctx *ctx) { return pool_compute_kind(ctx, P_AVG); }
static int max_infer(struct ia_op_ctx *ctx) { return pool_infer_kind(ctx, P_MAX); }
static int max_compute(struct ia_op_ctx *ctx) { return pool_compute_kind(ctx, P_MAX); }
static int lp_infer(struct ia_op_ctx *ctx) { return pool_infer_kind(ctx, P_LP); }
static int lp_compute(struct ia_op_ctx *ctx) { return pool_compute_kind(ctx, P_LP); }

/* ---- global pools --------------------------------------------------------------------- */

static int global_check(struct ia_op_ctx *ctx, enum pool_kind kind) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (!x || !sh_out(ctx, 0)) return ia_op_error(ctx, IA_EINVAL, "X and Y are required");
    char sx[128];
    if (x->rank < 2)
        return ia_op_error(ctx, IA_EINVAL, "input %s must be [N, C, ...]",
                           ia_tensor_describe(x, sx, sizeof sx));
    enum ia_dtype t = x->dtype;
    if (!nn_is_float(t) && !(kind == P_MAX && (t == IA_DTYPE_INT8 || t == IA_DTYPE_UINT8)))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "type %s is not supported", ia_dtype_name(t));
    return IA_OK;
}

static int global_infer_kind(struct ia_op_ctx *ctx, enum pool_kind kind) {
    int rc = global_check(ctx, kind);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    int64_t d[IA_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = i < 2 ? x->dims[i] : 1;
    return ia_tensor_set_shape(ctx->outputs[0], x->dtype, x->rank, d);
}

/* The sum of x[0..n) in double: 8 independent lanes, so the compiler
 * vectorises it (cloned for AVX-512 and AVX2), the lanes added at the end. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static double
plane_sum(const float *x, uint64_t n) {
    double lane[8] = {0};
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) lane[k] += (double)x[i + k];
    double acc = 0.0;
    for (; i < n; i++) acc += (double)x[i];
    for (int k = 0; k < 8; k++) acc += lane[k];
    return acc;
}

/* The whole spatial extent as one window: the same loops with a geometry
 * of one output position per plane. */
static int global_compute_kind(struct ia_op_ctx *ctx, enum pool_kind kind) {
    int rc = global_check(ctx, kind);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *y = ctx->outputs[0];
    if (y->numel == 0) return IA_OK;
    struct nn_geom g = {.S = 1, .N = x->dims[0], .C = x->dims[1], .insz = 1, .outsz = 1};
    for (int i = 2; i < x->rank; i++) g.insz *= (uint64_t)x->dims[i];
    g.in[0] = g.k[0] = (int64_t)g.insz;
    g.s[0] = g.d[0] = g.out[0] = 1;
    g.ksz = g.insz;
    if (g.insz == 0) {
        /* Empty planes: the mean of nothing is NaN, the max undefined. */
        float *yf;
        if ((rc = nn_f32_out(ctx, y, &yf))) return rc;
        for (uint64_t i = 0; i < y->numel; i++) yf[i] = kind == P_MAX ? -INFINITY : NAN;
        return nn_f32_out_done(ctx, y, yf);
    }
    if (kind == P_AVG && x->dtype == IA_DTYPE_FLOAT32) {
        const float *xf = x->data;
        float *yf = y->data;
        for (uint64_t i = 0; i < y->numel; i++)
            yf[i] = (float)(plane_sum(xf + i * g.insz, g.insz) / (double)g.insz);
        return IA_OK;
    }
    struct pool_job j = {.g = &g, .kind = kind, .dt = x->dtype,
                         .p = lp_exponent(ctx)};
    int native = kind == P_MAX && !(x->dtype == IA_DTYPE_FLOAT16 || x->dtype == IA_DTYPE_BFLOAT16);
    return pool_run_on(ctx, &j, x, y, native);
}

static int gavg_infer(struct ia_op_ctx *ctx) { return global_infer_kind(ctx, P_AVG); }
static int gavg_compute(struct ia_op_ctx *ctx) { return global_compute_kind(ctx, P_AVG); }
static int gmax_infer(struct ia_op_ctx *ctx) { return global_infer_kind(ctx, P_MAX); }
static int gmax_compute(struct ia_op_ctx *ctx) { return global_compute_kind(ctx, P_MAX); }
static int glp_infer(struct ia_op_ctx *ctx) { return global_infer_kind(ctx, P_LP); }
static int glp_compute(struct ia_op_ctx *ctx) { return global_compute_kind(ctx, P_LP); }

const struct ia_op_def ia_op_AveragePool = {"", "AveragePool", 1, 0, avg_infer, avg_compute};
const struct ia_op_def ia_op_MaxPool = {"", "MaxPool", 1, 0, max_infer, max_compute};
const struct ia_op_def ia_op_LpPool = {"", "LpPool", 1, 0, lp_infer, lp_compute};
const struct ia_op_def ia_op_GlobalAveragePool = {"", "GlobalAveragePool", 1, 0, gavg_infer, gavg_compute};
const struct ia_op_def ia_op_GlobalMaxPool = {"", "GlobalMaxPool", 1, 0, gmax_infer, gmax_compute};
const struct ia_op_def ia_op_GlobalLpPool = {"", "GlobalLpPool", 1, 0, glp_infer, glp_compute};
