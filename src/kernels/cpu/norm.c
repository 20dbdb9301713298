/* Normalisations: BatchNormalization (inference and training mode, every
 * opset form), InstanceNormalization, LayerNormalization (with Mean and
 * InvStdDev), GroupNormalization, LRN and com.microsoft
 * SkipLayerNormalization.
 *
 * Statistics are two passes in double (mean, then the mean squared
 * deviation): one pass of sum and sum of squares loses the variance to
 * cancellation when the mean is large. Data are float32 (other floating
 * types are converted, nn_util.h). Rows of LayerNormalization and
 * SkipLayerNormalization are spread over the pool. */
#include <math.h>

#include "nn_util.h"

/* Mean and population variance of n floats. */
static void moments(const float *x, uint64_t n, double *mean, double *var) {
    double s = 0.0;
    for (uint64_t i = 0; i < n; i++) s += x[i];
    double m = n ? s / (double)n : 0.0, v = 0.0;
    for (uint64_t i = 0; i < n; i++) {
        double d = x[i] - m;
        v += d * d;
    }
    *mean = m;
    *var = n ? v / (double)n : 0.0;
}

/* Input i converted to float32, or NULL when absent. */
static int f32_opt(struct ia_op_ctx *ctx, size_t i, const float **out) {
    const struct ia_tensor *t = sh_in(ctx, i);
    *out = NULL;
    return t ? nn_f32_in(ctx, t, out) : IA_OK;
}

static int need_x(struct ia_op_ctx *ctx, size_t n_req, int min_rank) {
    for (size_t i = 0; i < n_req; i++)
        if (!sh_in(ctx, i)) return ia_op_error(ctx, IA_EINVAL, "input %zu is missing", i);
    if (!sh_out(ctx, 0)) return ia_op_error(ctx, IA_EINVAL, "output 0 is missing");
    const struct ia_tensor *x = ctx->inputs[0];
    char sx[128];
    if (x->rank < min_rank)
        return ia_op_error(ctx, IA_EINVAL, "input %s needs rank >= %d",
                           ia_tensor_describe(x, sx, sizeof sx), min_rank);
    for (size_t i = 0; i < n_req; i++) {
        int rc = nn_need_float(ctx, ctx->inputs[i], "an input");
        if (rc) return rc;
    }
    return IA_OK;
}

/* Error unless input i (when present) has exactly n elements. */
static int need_numel(struct ia_op_ctx *ctx, size_t i, uint64_t n, const char *what) {
    const struct ia_tensor *t = sh_in(ctx, i);
    if (!t || t->numel == n) return IA_OK;
    char st[128];
    return ia_op_error(ctx, IA_EINVAL, "%s %s must have %llu elements", what,
                       ia_tensor_describe(t, st, sizeof st), (unsigned long long)n);
}

/* ---- BatchNormalization ------------------------------------------------------------ */

/* Training statistics are computed when training_mode=1 (opset 14+), or
 * before opset 14 when the optional outputs that only training fills are
 * wanted (and, before opset 7, is_test is not set). */
static int bn_training(const struct ia_op_ctx *ctx) {
    if (ctx->opset >= 14) return ia_attr_int(ctx->node, "training_mode", 0) != 0;
    if (ctx->opset < 7 && ia_attr_int(ctx->node, "is_test", 0)) return 0;
    for (size_t i = 1; i < ctx->n_outputs; i++)
        if (ctx->outputs[i]) return 1;
    return 0;
}

static int bn_check(struct ia_op_ctx *ctx, uint64_t *per) {
    int rc = need_x(ctx, 5, 2);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    uint64_t C = (uint64_t)x->dims[1], sp = C ? x->numel / C : 0;
    /* spatial=0 (before opset 9): statistics per element of [C, D1, ...]. */
    uint64_t n = ctx->inputs[1]->numel;
    *per = n == C ? C : n;
    if (n != C && !(ctx->opset < 9 && n == C * (x->dims[0] ? sp / (uint64_t)x->dims[0] : 0)))
        return ia_op_error(ctx, IA_EINVAL, "scale has %llu elements for %llu channels",
                           (unsigned long long)n, (unsigned long long)C);
    static const char *const names[] = {"", "scale", "B", "mean", "var"};
    for (size_t i = 2; i < 5; i++)
        if ((rc = need_numel(ctx, i, n, names[i]))) return rc;
    if (bn_training(ctx) && n != C)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "training mode needs per-channel statistics");
    return IA_OK;
}

static int bn_infer(struct ia_op_ctx *ctx) {
    uint64_t per;
    int rc = bn_check(ctx, &per);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    if ((rc = ia_tensor_set_shape(ctx->outputs[0], x->dtype, x->rank, x->dims))) return rc;
    for (size_t i = 1; i < ctx->n_outputs && i < 5; i++) {
        struct ia_tensor *o = ctx->outputs[i];
        const struct ia_tensor *like = ctx->inputs[i % 2 ? 3 : 4];
        if (o && (rc = ia_tensor_set_shape(o, like->dtype, like->rank, like->dims))) return rc;
    }
    return IA_OK;
}

static int bn_compute(struct ia_op_ctx *ctx) {
    uint64_t per;
    int rc = bn_check(ctx, &per);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *yt = ctx->outputs[0];
    const float *xf, *sc, *bi, *mu, *va;
    float *y;
    if ((rc = nn_f32_in(ctx, x, &xf)) || (rc = f32_opt(ctx, 1, &sc)) || (rc = f32_opt(ctx, 2, &bi)) ||
        (rc = f32_opt(ctx, 3, &mu)) || (rc = f32_opt(ctx, 4, &va)) || (rc = nn_f32_out(ctx, yt, &y)))
        return rc;
    double eps = ia_attr_float(ctx->node, "epsilon", 1e-5f);
    int64_t N = x->dims[0];
    uint64_t C = (uint64_t)x->dims[1], sp = x->numel / (C && N ? C * (uint64_t)N : 1);
    if (!bn_training(ctx)) {
        /* per == C: one (a, b) per channel; else per element of a [C, ...] plane. */
        uint64_t inner = per == C ? sp : 1;
        for (int64_t n = 0; n < N; n++)
            for (uint64_t c = 0; c < per; c++) {
                double a = sc[c] / sqrt((double)va[c] + eps), b = bi[c] - mu[c] * a;
                const float *xp = xf + ((uint64_t)n * per + c) * inner;
                float *yp = y + ((uint64_t)n * per + c) * inner;
                for (uint64_t i = 0; i < inner; i++) yp[i] = (float)(xp[i] * a + b);
            }
        return nn_f32_out_done(ctx, yt, y);
    }
    float momentum = ia_attr_float(ctx->node, "momentum", 0.9f);
    uint64_t cnt = (uint64_t)N * sp;
    /* Before opset 14 the outputs are mean, var, saved_mean, saved_var. */
    float *out[5] = {0};
    for (size_t i = 1; i < ctx->n_outputs && i < 5; i++)
        if (ctx->outputs[i] && (rc = nn_f32_out(ctx, ctx->outputs[i], &out[i]))) return rc;
    for (uint64_t c = 0; c < C; c++) {
        double s = 0.0, v = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *xp = xf + ((uint64_t)n * C + c) * sp;
            for (uint64_t i = 0; i < sp; i++) s += xp[i];
        }
        double m = cnt ? s / (double)cnt : 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *xp = xf + ((uint64_t)n * C + c) * sp;
            for (uint64_t i = 0; i < sp; i++) v += (xp[i] - m) * (xp[i] - m);
        }
        v = cnt ? v / (double)cnt : 0.0;
        double a = sc[c] / sqrt(v + eps), b = bi[c] - m * a;
        for (int64_t n = 0; n < N; n++) {
            const float *xp = xf + ((uint64_t)n * C + c) * sp;
            float *yp = y + ((uint64_t)n * C + c) * sp;
            for (uint64_t i = 0; i < sp; i++) yp[i] = (float)(xp[i] * a + b);
        }
        if (out[1]) out[1][c] = (float)(mu[c] * momentum + m * (1.0 - momentum));
        if (out[2]) out[2][c] = (float)(va[c] * momentum + v * (1.0 - momentum));
        if (out[3]) out[3][c] = (float)m;
        if (out[4]) out[4][c] = (float)v;
    }
    for (size_t i = 1; i < 5; i++)
        if (out[i] && (rc = nn_f32_out_done(ctx, ctx->outputs[i], out[i]))) return rc;
    return nn_f32_out_done(ctx, yt, y);
}

/* ---- InstanceNormalization and GroupNormalization ------------------------------------ */

static int same_shape_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0];
    return ia_tensor_set_shape(ctx->outputs[0], x->dtype, x->rank, x->dims);
}

static int inorm_check(struct ia_op_ctx *ctx) {
    int rc = need_x(ctx, 3, 2);
    if (rc) return rc;
    uint64_t C = (uint64_t)ctx->inputs[0]->dims[1];
    if ((rc = need_numel(ctx, 1, C, "scale")) || (rc = need_numel(ctx, 2, C, "B"))) return rc;
    return IA_OK;
}

static int inorm_infer(struct ia_op_ctx *ctx) {
    int rc = inorm_check(ctx);
    return rc ? rc : same_shape_infer(ctx);
}

/* y = (x - mean) / sqrt(var + eps) * scale[c] + bias[c] over each of the
 * n_img * G groups of `glen` elements, each group made of glen / cl
 * channels of cl elements; channel index = (group % G) * (glen / cl) + k. */
static void group_norm(const float *x, float *y, uint64_t n_groups, uint64_t G, uint64_t glen,
                       uint64_t cl, const float *sc, const float *bi, int per_group, double eps) {
    uint64_t cpg = cl ? glen / cl : 0;
    for (uint64_t gi = 0; gi < n_groups; gi++) {
        const float *xp = x + gi * glen;
        float *yp = y + gi * glen;
        double m, v;
        moments(xp, glen, &m, &v);
        double inv = 1.0 / sqrt(v + eps);
        for (uint64_t k = 0; k < cpg; k++) {
            uint64_t c = per_group ? gi % G : (gi % G) * cpg + k;
            double a = sc[c] * inv, b = bi[c] - m * a;
            for (uint64_t i = 0; i < cl; i++) yp[k * cl + i] = (float)(xp[k * cl + i] * a + b);
        }
    }
}

/* Normalises x [N, C, ...] in G groups of C/G channels per sample, scaled
 * per group or per channel; InstanceNormalization is G = C. */
static int group_norm_run(struct ia_op_ctx *ctx, uint64_t G, int per_group) {
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *yt = ctx->outputs[0];
    const float *xf, *sc, *bi;
    float *y;
    int rc;
    if ((rc = nn_f32_in(ctx, x, &xf)) || (rc = f32_opt(ctx, 1, &sc)) || (rc = f32_opt(ctx, 2, &bi)) ||
        (rc = nn_f32_out(ctx, yt, &y)))
        return rc;
    uint64_t C = (uint64_t)x->dims[1], planes = (uint64_t)x->dims[0] * C;
    uint64_t sp = planes ? x->numel / planes : 0, cpg = G ? C / G : 0;
    group_norm(xf, y, (uint64_t)x->dims[0] * G, G, sp * cpg, sp, sc, bi, per_group,
               ia_attr_float(ctx->node, "epsilon", 1e-5f));
    return nn_f32_out_done(ctx, yt, y);
}

static int inorm_compute(struct ia_op_ctx *ctx) {
    int rc = inorm_check(ctx);
    if (rc) return rc;
    return group_norm_run(ctx, (uint64_t)ctx->inputs[0]->dims[1], 0);
}

static int gnorm_check(struct ia_op_ctx *ctx, int64_t *G) {
    int rc = need_x(ctx, 3, 2);
    if (rc) return rc;
    int64_t C = ctx->inputs[0]->dims[1];
    *G = ia_attr_int(ctx->node, "num_groups", 0);
    if (*G < 1 || C % *G)
        return ia_op_error(ctx, IA_EINVAL, "num_groups %lld does not divide %lld channels",
                           (long long)*G, (long long)C);
    /* Opset 18 scales per group, opset 21 per channel. */
    uint64_t n = ctx->inputs[1]->numel;
    if (n != (uint64_t)C && n != (uint64_t)*G)
        return ia_op_error(ctx, IA_EINVAL, "scale has %llu elements for %lld channels in %lld "
                           "groups", (unsigned long long)n, (long long)C, (long long)*G);
    return need_numel(ctx, 2, n, "bias");
}

static int gnorm_infer(struct ia_op_ctx *ctx) {
    int64_t G;
    int rc = gnorm_check(ctx, &G);
    return rc ? rc : same_shape_infer(ctx);
}

static int gnorm_compute(struct ia_op_ctx *ctx) {
    int64_t G;
    int rc = gnorm_check(ctx, &G);
    if (rc) return rc;
    return group_norm_run(ctx, (uint64_t)G,
                          ctx->inputs[1]->numel != (uint64_t)ctx->inputs[0]->dims[1]);
}

/* ---- LayerNormalization and SkipLayerNormalization ------------------------------------ */

/* A rank-r tensor right-aligned against the trailing r_in dims `in` (extra
 * leading dims must be 1), expanded into `dst` (prod(in) floats). */
static int expand_inner(struct ia_op_ctx *ctx, const struct ia_tensor *t, const float *src,
                        int r_in, const int64_t *in, uint64_t n_in, float *dst, const char *what) {
    char st[128];
    int64_t str[IA_MAX_RANK];
    int64_t s = 1;
    for (int i = t->rank - 1, k = r_in - 1; i >= 0; i--, k--) {
        int64_t d = t->dims[i];
        if (k < 0 ? d != 1 : (d != 1 && d != in[k]))
            return ia_op_error(ctx, IA_EINVAL, "%s %s does not broadcast to the normalised dims",
                               what, ia_tensor_describe(t, st, sizeof st));
        if (k >= 0) str[k] = d == 1 ? 0 : s;
        s *= d;
    }
    for (int k = 0; k < r_in - t->rank; k++) str[k] = 0;
    int64_t idx[IA_MAX_RANK] = {0};
    for (uint64_t i = 0; i < n_in; i++) {
        int64_t off = 0;
        for (int k = 0; k < r_in; k++) off += idx[k] * str[k];
        dst[i] = src[off];
        for (int k = r_in - 1; k >= 0; k--) {
            if (++idx[k] < in[k]) break;
            idx[k] = 0;
        }
    }
    return IA_OK;
}

struct ln_job {
    const float *x, *skip, *bias, *gamma, *beta;
    uint64_t inner, skip_n;
    float *y, *mean, *inv, *sum;
    double eps;
};

/* Row r: z = x (+ skip + bias), y = (z - mean) * inv_std * gamma + beta. */
static void ln_row(void *vj, int64_t r, int thread) {
    (void)thread;
    const struct ln_job *j = vj;
    uint64_t n = j->inner, off = (uint64_t)r * n;
    const float *x = j->x + off;
    float *y = j->y + off;
    if (j->skip) {
        /* The sum goes to y first (or the requested output): a row of scratch. */
        float *z = j->sum ? j->sum + off : y;
        const float *sk = j->skip + off % j->skip_n;
        for (uint64_t i = 0; i < n; i++) z[i] = x[i] + sk[i] + (j->bias ? j->bias[i] : 0.0f);
        x = z;
    }
    double m, v;
    moments(x, n, &m, &v);
    double inv = 1.0 / sqrt(v + j->eps);
    for (uint64_t i = 0; i < n; i++) {
        double t = (x[i] - m) * inv * j->gamma[i];
        y[i] = (float)(j->beta ? t + j->beta[i] : t);
    }
    if (j->mean) j->mean[r] = (float)m;
    if (j->inv) j->inv[r] = (float)inv;
}

static void ln_run(struct ia_op_ctx *ctx, struct ln_job *j, uint64_t rows) {
    if (ctx->pool && rows > 1 && rows * j->inner > 65536)
        ia_pool_run(ctx->pool, (int64_t)rows, ln_row, j);
    else
        for (uint64_t r = 0; r < rows; r++) ln_row(j, (int64_t)r, 0);
}

static int ln_check(struct ia_op_ctx *ctx, int *axis) {
    int rc = need_x(ctx, 2, 1);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    return ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", -1), x->rank, axis);
}

static enum ia_dtype ln_stat_dtype(const struct ia_op_ctx *ctx) {
    return ia_attr_int(ctx->node, "stash_type", 1) == 1 ? IA_DTYPE_FLOAT32
                                                        : ctx->inputs[0]->dtype;
}

static int ln_infer(struct ia_op_ctx *ctx) {
    int axis, rc = ln_check(ctx, &axis);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    if ((rc = same_shape_infer(ctx))) return rc;
    int64_t d[IA_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = i < axis ? x->dims[i] : 1;
    for (size_t i = 1; i < 3 && i < ctx->n_outputs; i++)
        if (ctx->outputs[i] &&
            (rc = ia_tensor_set_shape(ctx->outputs[i], ln_stat_dtype(ctx), x->rank, d)))
            return rc;
    return IA_OK;
}

static int ln_compute(struct ia_op_ctx *ctx) {
    int axis, rc = ln_check(ctx, &axis);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *yt = ctx->outputs[0];
    uint64_t inner = 1;
    for (int i = axis; i < x->rank; i++) inner *= (uint64_t)x->dims[i];
    uint64_t rows = 1;
    for (int i = 0; i < axis; i++) rows *= (uint64_t)x->dims[i];
    struct ln_job j = {.inner = inner, .eps = ia_attr_float(ctx->node, "epsilon", 1e-5f)};
    const float *sc, *bi;
    float *st[3] = {0};
    if ((rc = nn_f32_in(ctx, x, &j.x)) || (rc = f32_opt(ctx, 1, &sc)) || (rc = f32_opt(ctx, 2, &bi)) ||
        (rc = nn_f32_out(ctx, yt, &j.y)))
        return rc;
    for (size_t i = 1; i < 3 && i < ctx->n_outputs; i++)
        if (ctx->outputs[i] && (rc = nn_f32_out(ctx, ctx->outputs[i], &st[i]))) return rc;
    j.mean = st[1];
    j.inv = st[2];
    float *g = nn_scratch_f32(ctx, 2 * inner);
    if (!g) return IA_ENOMEM;
    int r_in = x->rank - axis;
    if ((rc = expand_inner(ctx, ctx->inputs[1], sc, r_in, x->dims + axis, inner, g, "Scale")))
        return rc;
    j.gamma = g;
    if (bi) {
        if ((rc = expand_inner(ctx, ctx->inputs[2], bi, r_in, x->dims + axis, inner, g + inner,
                               "B")))
            return rc;
        j.beta = g + inner;
    }
    if (inner) ln_run(ctx, &j, rows);
    else
        for (uint64_t r = 0; r < rows; r++) {
            if (j.mean) j.mean[r] = NAN;
            if (j.inv) j.inv[r] = NAN;
        }
    for (size_t i = 1; i < 3; i++)
        if (st[i] && (rc = nn_f32_out_done(ctx, ctx->outputs[i], st[i]))) return rc;
    return nn_f32_out_done(ctx, yt, j.y);
}

/* com.microsoft SkipLayerNormalization: inputs input [..., H], skip (input's
 * shape, or its trailing dims such as [S, H]), gamma [H], beta [H]?, bias
 * [H]?; outputs output, mean [..., 1]?, inv_std_var [..., 1]?,
 * input_skip_bias_sum?. Normalises over the last axis. */
static int sln_check(struct ia_op_ctx *ctx) {
    int rc = need_x(ctx, 3, 1);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0], *sk = ctx->inputs[1];
    uint64_t H = (uint64_t)x->dims[x->rank - 1];
    char s1[128], s2[128];
    int ok = sk->rank <= x->rank && sk->rank >= 1 && sk->dtype == x->dtype;
    for (int i = 1; ok && i <= sk->rank; i++) {
        int64_t d = sk->dims[sk->rank - i], want = x->dims[x->rank - i];
        ok = d == want || (d == 1 && i == sk->rank && sk->rank == x->rank);
    }
    for (int i = 0; ok && i < sk->rank - 1 && sk->rank == x->rank; i++)
        ok = sk->dims[i] == x->dims[i] || (i == 0 && sk->dims[0] == 1);
    if (!ok)
        return ia_op_error(ctx, IA_EINVAL, "skip %s does not fit input %s",
                           ia_tensor_describe(sk, s1, sizeof s1),
                           ia_tensor_describe(x, s2, sizeof s2));
    if ((rc = need_numel(ctx, 2, H, "gamma")) || (rc = need_numel(ctx, 3, H, "beta")) ||
        (rc = need_numel(ctx, 4, H, "bias")))
        return rc;
    return IA_OK;
}

static int sln_infer(struct ia_op_ctx *ctx) {
    int rc = sln_check(ctx);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    if ((rc = same_shape_infer(ctx))) return rc;
    int64_t d[IA_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = i < x->rank - 1 ? x->dims[i] : 1;
    for (size_t i = 1; i < 3 && i < ctx->n_outputs; i++)
        if (ctx->outputs[i] &&
            (rc = ia_tensor_set_shape(ctx->outputs[i], IA_DTYPE_FLOAT32, x->rank, d)))
            return rc;
    struct ia_tensor *sum = sh_out(ctx, 3);
    if (sum) rc = ia_tensor_set_shape(sum, x->dtype, x->rank, x->dims);
    return rc;
}

static int sln_compute(struct ia_op_ctx *ctx) {
    int rc = sln_check(ctx);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0], *sk = ctx->inputs[1];
    struct ia_tensor *yt = ctx->outputs[0], *sumt = sh_out(ctx, 3);
    uint64_t H = (uint64_t)x->dims[x->rank - 1];
    struct ln_job j = {.inner = H, .skip_n = sk->numel ? sk->numel : 1,
                       .eps = ia_attr_float(ctx->node, "epsilon", 1e-12f)};
    float *st[3] = {0};
    if ((rc = nn_f32_in(ctx, x, &j.x)) || (rc = nn_f32_in(ctx, sk, &j.skip)) ||
        (rc = f32_opt(ctx, 2, &j.gamma)) || (rc = f32_opt(ctx, 3, &j.beta)) ||
        (rc = f32_opt(ctx, 4, &j.bias)) || (rc = nn_f32_out(ctx, yt, &j.y)))
        return rc;
    for (size_t i = 1; i < 3 && i < ctx->n_outputs; i++)
        if (ctx->outputs[i] && (rc = nn_f32_out(ctx, ctx->outputs[i], &st[i]))) return rc;
    if (sumt && (rc = nn_f32_out(ctx, sumt, &j.sum))) return rc;
    j.mean = st[1];
    j.inv = st[2];
    if (H) ln_run(ctx, &j, x->numel / H);
    for (size_t i = 1; i < 3; i++)
        if (st[i] && (rc = nn_f32_out_done(ctx, ctx->outputs[i], st[i]))) return rc;
    if (sumt && (rc = nn_f32_out_done(ctx, sumt, j.sum))) return rc;
    return nn_f32_out_done(ctx, yt, j.y);
}

/* ---- LRN ------------------------------------------------------------------------------- */

static int lrn_check(struct ia_op_ctx *ctx) {
    int rc = need_x(ctx, 1, 2);
    if (rc) return rc;
    int64_t size = ia_attr_int(ctx->node, "size", 0);
    if (size < 1) return ia_op_error(ctx, IA_EINVAL, "size must be >= 1, got %lld", (long long)size);
    return IA_OK;
}

static int lrn_infer(struct ia_op_ctx *ctx) {
    int rc = lrn_check(ctx);
    return rc ? rc : same_shape_infer(ctx);
}

/* y = x / (bias + alpha / size * sum of x^2 over the channels
 * [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta. */
static int lrn_compute(struct ia_op_ctx *ctx) {
    int rc = lrn_check(ctx);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    struct ia_tensor *yt = ctx->outputs[0];
    const float *xf;
    float *y;
    if ((rc = nn_f32_in(ctx, x, &xf)) || (rc = nn_f32_out(ctx, yt, &y))) return rc;
    int64_t size = ia_attr_int(ctx->node, "size", 1), N = x->dims[0], C = x->dims[1];
    double alpha = ia_attr_float(ctx->node, "alpha", 1e-4f),
           beta = ia_attr_float(ctx->node, "beta", 0.75f),
           bias = ia_attr_float(ctx->node, "bias", 1.0f);
    uint64_t sp = N && C ? x->numel / (uint64_t)(N * C) : 0;
    int64_t lo_off = (size - 1) / 2, hi_off = size - 1 - lo_off;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            int64_t c0 = c - lo_off < 0 ? 0 : c - lo_off;
            int64_t c1 = c + hi_off >= C ? C - 1 : c + hi_off;
            const float *xp = xf + (uint64_t)(n * C + c) * sp;
            float *yp = y + (uint64_t)(n * C + c) * sp;
            for (uint64_t i = 0; i < sp; i++) {
                double s = 0.0;
                for (int64_t q = c0; q <= c1; q++) {
                    double v = xf[(uint64_t)(n * C + q) * sp + i];
                    s += v * v;
                }
                yp[i] = (float)(xp[i] / pow(bias + alpha / (double)size * s, beta));
            }
        }
    return nn_f32_out_done(ctx, yt, y);
}

const struct ia_op_def ia_op_BatchNormalization = {"", "BatchNormalization", 1, 0, bn_infer, bn_compute};
const struct ia_op_def ia_op_InstanceNormalization = {"", "InstanceNormalization", 1, 0, inorm_infer, inorm_compute};
const struct ia_op_def ia_op_GroupNormalization = {"", "GroupNormalization", 18, 0, gnorm_infer, gnorm_compute};
const struct ia_op_def ia_op_LayerNormalization = {"", "LayerNormalization", 17, 0, ln_infer, ln_compute};
const struct ia_op_def ia_op_LRN = {"", "LRN", 1, 0, lrn_infer, lrn_compute};
const struct ia_op_def ia_op_ms_SkipLayerNormalization = {"com.microsoft", "SkipLayerNormalization", 1, 0, sln_infer, sln_compute};
