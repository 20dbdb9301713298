/* Softmax, LogSoftmax and Hardmax.
 *
 * Before opset 13 the input is coerced to 2-D at `axis` (default 1) and
 * each row of prod(dims[axis:]) elements is one distribution; from opset
 * 13 the distribution runs along the single dim `axis` (default -1). Both
 * become (outer, n, inner): n elements at stride inner (inner is 1 in the
 * old form). Contiguous rows (inner 1) are spread over the pool; strided
 * ones keep a row of running maxima and sums so the loops over inner stay
 * contiguous. Computed in float32 (nn_util.h), sums in double. */
#include <math.h>

#include "nn_util.h"

enum sm_kind { SM_SOFT, SM_LOG, SM_HARD };

struct sm_job {
    enum sm_kind kind;
    const float *x;
    float *y;
    int64_t n;
};

static void sm_row(void *vj, int64_t r, int thread) {
    (void)thread;
    const struct sm_job *j = vj;
    const float *x = j->x + (uint64_t)r * (uint64_t)j->n;
    float *y = j->y + (uint64_t)r * (uint64_t)j->n;
    int64_t n = j->n, am = 0;
    float mx = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > mx) {
            mx = x[i];
            am = i;
        }
    if (j->kind == SM_HARD) {
        for (int64_t i = 0; i < n; i++) y[i] = i == am ? 1.0f : 0.0f;
        return;
    }
    double s = 0.0;
    if (j->kind == SM_SOFT) {
        for (int64_t i = 0; i < n; i++) {
            y[i] = expf(x[i] - mx);
            s += y[i];
        }
        float inv = (float)(1.0 / s);
        for (int64_t i = 0; i < n; i++) y[i] *= inv;
    } else {
        for (int64_t i = 0; i < n; i++) s += exp((double)x[i] - mx);
        float l = (float)log(s);
        for (int64_t i = 0; i < n; i++) y[i] = x[i] - mx - l;
    }
}

/* One distribution block of n x inner elements; mx (float) and sm
 * (double) hold inner entries each. */
static void sm_strided(enum sm_kind kind, const float *x, float *y, int64_t n, int64_t inner,
                       float *mx, double *sm, int64_t *am) {
    for (int64_t i = 0; i < inner; i++) {
        mx[i] = x[i];
        am[i] = 0;
        sm[i] = 0.0;
    }
    for (int64_t k = 1; k < n; k++) {
        const float *xr = x + k * inner;
        for (int64_t i = 0; i < inner; i++)
            if (xr[i] > mx[i]) {
                mx[i] = xr[i];
                am[i] = k;
            }
    }
    for (int64_t k = 0; k < n; k++) {
        const float *xr = x + k * inner;
        float *yr = y + k * inner;
        if (kind == SM_HARD)
            for (int64_t i = 0; i < inner; i++) yr[i] = am[i] == k ? 1.0f : 0.0f;
        else if (kind == SM_SOFT)
            for (int64_t i = 0; i < inner; i++) {
                yr[i] = expf(xr[i] - mx[i]);
                sm[i] += yr[i];
            }
        else
            for (int64_t i = 0; i < inner; i++) sm[i] += exp((double)xr[i] - mx[i]);
    }
    if (kind == SM_HARD) return;
    for (int64_t k = 0; k < n; k++) {
        const float *xr = x + k * inner;
        float *yr = y + k * inner;
        if (kind == SM_SOFT)
            for (int64_t i = 0; i < inner; i++) yr[i] = (float)(yr[i] / sm[i]);
        else
            for (int64_t i = 0; i < inner; i++) yr[i] = (float)(xr[i] - mx[i] - log(sm[i]));
    }
}

static int sm_shape(struct ia_op_ctx *ctx, uint64_t *outer, int64_t *n, int64_t *inner) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (!x || !sh_out(ctx, 0)) return ia_op_error(ctx, IA_EINVAL, "input and output are required");
    int rc = nn_need_float(ctx, x, "input");
    if (rc) return rc;
    int old = ctx->opset < 13, axis;
    if ((rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", old ? 1 : -1), x->rank, &axis)))
        return rc;
    uint64_t o = 1, in = 1;
    for (int i = 0; i < x->rank && i < axis; i++) o *= (uint64_t)x->dims[i];
    if (old) {
        for (int i = axis; i < x->rank; i++) in *= (uint64_t)x->dims[i];
        *n = (int64_t)in;
        *inner = 1;
    } else {
        for (int i = axis + 1; i < x->rank; i++) in *= (uint64_t)x->dims[i];
        *n = x->rank ? x->dims[axis] : 1;
        *inner = (int64_t)in;
    }
    *outer = o;
    return IA_OK;
}

static int sm_infer(struct ia_op_ctx *ctx) {
    uint64_t outer;
    int64_t n, inner;
    int rc = sm_shape(ctx, &outer, &n, &inner);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    return ia_tensor_set_shape(ctx->outputs[0], x->dtype, x->rank, x->dims);
}

static int sm_compute(struct ia_op_ctx *ctx, enum sm_kind kind) {
    uint64_t outer;
    int64_t n, inner;
    int rc = sm_shape(ctx, &outer, &n, &inner);
    struct ia_tensor *yt = ctx->outputs[0];
    if (rc || yt->numel == 0) return rc;
    struct sm_job j = {.kind = kind, .n = n};
    float *y;
    if ((rc = nn_f32_in(ctx, ctx->inputs[0], &j.x)) || (rc = nn_f32_out(ctx, yt, &y))) return rc;
    j.y = y;
    if (inner == 1) {
        if (ctx->pool && outer > 1 && yt->numel > 32768)
            ia_pool_run(ctx->pool, (int64_t)outer, sm_row, &j);
        else
            for (uint64_t r = 0; r < outer; r++) sm_row(&j, (int64_t)r, 0);
    } else {
        float *mx = nn_scratch_f32(ctx, (uint64_t)inner * 5 + 2);
        if (!mx) return IA_ENOMEM;
        /* sm and am (8 bytes each) after mx, in the same block. */
        double *sm = (double *)(void *)(mx + ((uint64_t)inner + 1) / 2 * 2);
        int64_t *am = (int64_t *)(void *)(sm + inner);
        uint64_t blk = (uint64_t)n * (uint64_t)inner;
        for (uint64_t o = 0; o < outer; o++)
            sm_strided(kind, j.x + o * blk, y + o * blk, n, inner, mx, sm, am);
    }
    return nn_f32_out_done(ctx, yt, y);
}

static int softmax_compute(struct ia_op_ctx *ctx) { return sm_compute(ctx, SM_SOFT); }
static int logsoftmax_compute(struct ia_op_ctx *ctx) { return sm_compute(ctx, SM_LOG); }
static int hardmax_compute(struct ia_op_ctx *ctx) { return sm_compute(ctx, SM_HARD); }

const struct ia_op_def ia_op_Softmax = {"", "Softmax", 1, 0, sm_infer, softmax_compute};
const struct ia_op_def ia_op_LogSoftmax = {"", "LogSoftmax", 1, 0, sm_infer, logsoftmax_compute};
const struct ia_op_def ia_op_Hardmax = {"", "Hardmax", 1, 0, sm_infer, hardmax_compute};
