/* Integer convolutions: ConvInteger and QLinearConv (opset 10), any number
 * of spatial dims.
 *
 *   x [N, C, D1..Dk] uint8/int8, w [M, C/group, k1..kk] uint8/int8
 *   ConvInteger: y(int32) [N, M, O1..Ok] = conv(x - x_zero_point, w - w_zero_point)
 *   QLinearConv: y = saturate(round_half_even((acc + B[m]) * x_scale*w_scale[m]/y_scale)
 *                             + y_zero_point), typed as y_zero_point
 * Padding stands for the zero point (it adds nothing). x's zero point is one
 * value; w's zero point and scale are one value or one per output channel.
 * Attributes as Conv: auto_pad, dilations, group, kernel_shape, pads,
 * strides.
 *
 * Per image and group the input is unfolded (im2col) into int16 columns
 * (C/group * kernel, O) with the zero point already taken off, and each
 * output channel is a row of an int32 product over it; output channels are
 * the pool's tasks. */
#include <math.h>
#include <string.h>

#include "ia/kernels.h"

#define QC_MAX_SP (IA_MAX_RANK - 2)

static const struct ia_tensor *in_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

struct qconv {
    int sp;                         /* spatial dims */
    int64_t n, c, m, group, cg, mg; /* batch, in channels, out channels, groups, per group */
    int64_t in[QC_MAX_SP], k[QC_MAX_SP], out[QC_MAX_SP];
    int64_t stride[QC_MAX_SP], dil[QC_MAX_SP], pad_b[QC_MAX_SP];
    int64_t in_sp, k_sp, out_sp; /* spatial element counts */
};

static int is_q8(enum ia_dtype t) { return t == IA_DTYPE_UINT8 || t == IA_DTYPE_INT8; }

/* ix = index of x, iw = index of w in the inputs. */
static int qconv_setup(struct ia_op_ctx *ctx, size_t ix, size_t iw, struct qconv *q) {
    memset(q, 0, sizeof *q);
    const struct ia_tensor *x = in_opt(ctx, ix), *w = in_opt(ctx, iw);
    char sx[128], sw[128];
    if (!x || !w) return ia_op_error(ctx, IA_EINVAL, "x and w are required");
    if (!is_q8(x->dtype) || !is_q8(w->dtype))
        return ia_op_error(ctx, IA_EINVAL, "x and w must be uint8 or int8 (got %s and %s)",
                           ia_dtype_name(x->dtype), ia_dtype_name(w->dtype));
    if (x->rank < 3 || w->rank != x->rank)
        return ia_op_error(ctx, IA_EINVAL, "x %s and w %s need the same rank, at least 3",
                           ia_tensor_describe(x, sx, sizeof sx),
                           ia_tensor_describe(w, sw, sizeof sw));
    q->sp = x->rank - 2;
    q->n = x->dims[0];
    q->c = x->dims[1];
    q->m = w->dims[0];
    q->group = ia_attr_int(ctx->node, "group", 1);
    if (q->group < 1 || q->c % q->group || q->m % q->group || w->dims[1] * q->group != q->c)
        return ia_op_error(ctx, IA_EINVAL, "x %s, w %s and group %lld do not fit",
                           ia_tensor_describe(x, sx, sizeof sx),
                           ia_tensor_describe(w, sw, sizeof sw), (long long)q->group);
    q->cg = q->c / q->group;
    q->mg = q->m / q->group;
    const int64_t *ks, *st, *di, *pa;
    size_t nks = ia_attr_ints(ctx->node, "kernel_shape", &ks);
    size_t nst = ia_attr_ints(ctx->node, "strides", &st);
    size_t ndi = ia_attr_ints(ctx->node, "dilations", &di);
    size_t npa = ia_attr_ints(ctx->node, "pads", &pa);
    if ((nks && nks != (size_t)q->sp) || (nst && nst != (size_t)q->sp) ||
        (ndi && ndi != (size_t)q->sp) || (npa && npa != 2 * (size_t)q->sp))
        return ia_op_error(ctx, IA_EINVAL,
                           "kernel_shape, strides, dilations or pads do not "
                           "match %d spatial dims",
                           q->sp);
    char apbuf[32];
    const char *ap = ia_attr_string(ctx->node, "auto_pad", apbuf, sizeof apbuf, "NOTSET");
    int same_upper = !strcmp(ap, "SAME_UPPER"), same_lower = !strcmp(ap, "SAME_LOWER");
    int valid = !strcmp(ap, "VALID");
    if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET"))
        return ia_op_error(ctx, IA_EINVAL, "unknown auto_pad '%s'", ap);
    q->in_sp = q->k_sp = q->out_sp = 1;
    for (int i = 0; i < q->sp; i++) {
        q->in[i] = x->dims[2 + i];
        q->k[i] = w->dims[2 + i];
        if (nks && ks[i] != q->k[i])
            return ia_op_error(ctx, IA_EINVAL, "kernel_shape[%d] is %lld but w has %lld", i,
                               (long long)ks[i], (long long)q->k[i]);
        q->stride[i] = nst ? st[i] : 1;
        q->dil[i] = ndi ? di[i] : 1;
        if (q->stride[i] < 1 || q->dil[i] < 1 || q->stride[i] > (1 << 30) || q->dil[i] > (1 << 30))
            return ia_op_error(ctx, IA_EINVAL, "strides and dilations must be in [1, 2^30]");
        int64_t pb = npa ? pa[i] : 0, pe = npa ? pa[q->sp + i] : 0;
        if (pb < 0 || pe < 0 || pb > (1 << 30) || pe > (1 << 30))
            return ia_op_error(ctx, IA_EINVAL, "pads must be in [0, 2^30]");
        int64_t ek = (q->k[i] - 1) * q->dil[i] + 1;
        if (q->k[i] < 1) return ia_op_error(ctx, IA_EINVAL, "empty kernel");
        if (same_upper || same_lower) {
            q->out[i] = (q->in[i] + q->stride[i] - 1) / q->stride[i];
            int64_t total = (q->out[i] - 1) * q->stride[i] + ek - q->in[i];
            if (total < 0) total = 0;
            pb = same_upper ? total / 2 : total - total / 2;
        } else {
            if (valid) pb = pe = 0;
            int64_t span = q->in[i] + pb + pe - ek;
            q->out[i] = span < 0 ? 0 : span / q->stride[i] + 1;
        }
        q->pad_b[i] = pb;
        q->in_sp *= q->in[i];
        q->k_sp *= q->k[i];
        if (__builtin_mul_overflow(q->out_sp, q->out[i], &q->out_sp) ||
            q->out_sp > ((int64_t)1 << 40))
            return ia_op_error(ctx, IA_ERANGE, "the output is too large");
    }
    return IA_OK;
}

/* One value, or one per output channel (n = m). */
static int per_chan(struct ia_op_ctx *ctx, const struct ia_tensor *p, const char *what, int64_t m) {
    if (!p || (p->numel == 1 && p->rank <= 1)) return IA_OK;
    if (p->rank == 1 && p->dims[0] == m) return IA_OK;
    char b[128];
    return ia_op_error(ctx, IA_EINVAL, "%s %s must be a scalar or have %lld values", what,
                       ia_tensor_describe(p, b, sizeof b), (long long)m);
}

static inline int64_t pidx(const struct ia_tensor *p, int64_t m) { return p->numel == 1 ? 0 : m; }

struct qc_job {
    const struct qconv *q;
    const int16_t *col; /* (cg * k_sp, out_sp) for the current image and group */
    const int16_t *w;   /* (m, cg * k_sp), zero point taken off */
    int64_t img, grp;
    int32_t *acc_out; /* ConvInteger: y */
    int32_t *acc_tmp; /* QLinearConv: (threads, out_sp) */
    /* QLinearConv */
    const struct ia_tensor *xs, *ws, *ys, *yz, *bias;
    void *y;
    enum ia_dtype yt;
};

static void qc_chan(void *arg, int64_t task, int thread) {
    struct qc_job *j = arg;
    const struct qconv *q = j->q;
    int64_t oc = j->grp * q->mg + task, rows = q->cg * q->k_sp, O = q->out_sp;
    int64_t yoff = (j->img * q->m + oc) * O;
    int32_t *acc = j->y ? j->acc_tmp + (int64_t)thread * O : j->acc_out + yoff;
    memset(acc, 0, (size_t)O * sizeof *acc);
    const int16_t *wr = j->w + oc * rows;
    for (int64_t r = 0; r < rows; r++) {
        int32_t wv = wr[r];
        if (!wv) continue;
        const int16_t *cr = j->col + r * O;
        for (int64_t o = 0; o < O; o++) acc[o] += wv * cr[o];
    }
    if (!j->y) return;
    int32_t bias = j->bias ? (int32_t)ia_tensor_get_i64(j->bias, (uint64_t)oc) : 0;
    float mult = (float)ia_tensor_get_f64(j->xs, 0) *
                 (float)ia_tensor_get_f64(j->ws, (uint64_t)pidx(j->ws, oc)) /
                 (float)ia_tensor_get_f64(j->ys, 0);
    float yz = j->yz ? (float)ia_tensor_get_i64(j->yz, 0) : 0;
    float lo = j->yt == IA_DTYPE_UINT8 ? 0 : -128, hi = j->yt == IA_DTYPE_UINT8 ? 255 : 127;
    for (int64_t o = 0; o < O; o++) {
        float v = rintf((float)(acc[o] + bias) * mult) + yz;
        v = v < lo ? lo : v > hi ? hi : v;
        if (j->yt == IA_DTYPE_UINT8)
            ((uint8_t *)j->y)[yoff + o] = (uint8_t)v;
        else
            ((int8_t *)j->y)[yoff + o] = (int8_t)v;
    }
}

/* Unfolds image img, group g of x (zero point xz) into col. */
static void im2col(const struct qconv *q, const struct ia_tensor *x, int64_t xz, int64_t img,
                   int64_t g, int16_t *col) {
    const uint8_t *xu = x->data;
    const int8_t *xs = x->data;
    int sgn = x->dtype == IA_DTYPE_INT8;
    int64_t O = q->out_sp;
    for (int64_t ic = 0; ic < q->cg; ic++) {
        int64_t xbase = (img * q->c + g * q->cg + ic) * q->in_sp;
        for (int64_t kp = 0; kp < q->k_sp; kp++) {
            int64_t kc[QC_MAX_SP], rem = kp;
            for (int i = q->sp - 1; i >= 0; i--) kc[i] = rem % q->k[i], rem /= q->k[i];
            int16_t *cr = col + (ic * q->k_sp + kp) * O;
            int64_t oc[QC_MAX_SP] = {0};
            for (int64_t o = 0; o < O; o++) {
                int64_t off = 0, inside = 1;
                for (int i = 0; i < q->sp; i++) {
                    int64_t p = oc[i] * q->stride[i] - q->pad_b[i] + kc[i] * q->dil[i];
                    if (p < 0 || p >= q->in[i]) inside = 0;
                    off = off * q->in[i] + p;
                }
                int v = 0;
                if (inside) v = (sgn ? xs[xbase + off] : xu[xbase + off]) - (int)xz;
                cr[o] = (int16_t)v;
                for (int i = q->sp - 1; i >= 0; i--) { /* next output coordinate */
                    if (++oc[i] < q->out[i]) break;
                    oc[i] = 0;
                }
            }
        }
    }
}

/* ConvInteger: x=0 w=1 x_zp=2 w_zp=3. QLinearConv: x=0 xs=1 xz=2 w=3 ws=4 wz=5 ys=6 yz=7 B=8. */
static int qc_run(struct ia_op_ctx *ctx, size_t ix, size_t ixz, size_t iw, size_t iwz,
                  struct qc_job *j) {
    struct qconv q;
    int rc = qconv_setup(ctx, ix, iw, &q);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[ix], *w = ctx->inputs[iw];
    const struct ia_tensor *xz = in_opt(ctx, ixz), *wz = in_opt(ctx, iwz);
    if (xz && xz->numel != 1) return ia_op_error(ctx, IA_EINVAL, "x's zero point must be a scalar");
    int64_t xzv = xz ? ia_tensor_get_i64(xz, 0) : 0;
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    uint64_t rows = (uint64_t)q.cg * (uint64_t)q.k_sp;
    if ((double)rows * (double)q.out_sp > (double)((uint64_t)1 << 40))
        return ia_op_error(ctx, IA_ERANGE, "the unfolded input is too large");
    uint64_t bytes = (rows * (uint64_t)q.out_sp + w->numel) * sizeof(int16_t) + 64;
    if (j->y) bytes += (uint64_t)threads * (uint64_t)q.out_sp * sizeof(int32_t);
    unsigned char *mem = ctx->scratch(ctx, (size_t)bytes);
    if (!mem)
        return ia_op_error(ctx, IA_ENOMEM, "no memory for %llu bytes of work space",
                           (unsigned long long)bytes);
    int16_t *col = (int16_t *)mem, *w16 = col + rows * (uint64_t)q.out_sp;
    if (j->y) j->acc_tmp = (int32_t *)(((uintptr_t)(w16 + w->numel) + 7) & ~(uintptr_t)7);
    for (uint64_t i = 0; i < w->numel; i++) {
        int64_t oc = (int64_t)(i / rows);
        int64_t z = wz ? ia_tensor_get_i64(wz, (uint64_t)pidx(wz, oc)) : 0;
        w16[i] = (int16_t)(ia_tensor_get_i64(w, i) - z);
    }
    j->q = &q;
    j->col = col;
    j->w = w16;
    if (q.out_sp == 0 || q.mg == 0) return IA_OK;
    for (int64_t img = 0; img < q.n; img++)
        for (int64_t g = 0; g < q.group; g++) {
            im2col(&q, x, xzv, img, g, col);
            j->img = img;
            j->grp = g;
            if (ctx->pool && q.mg > 1 && (double)q.mg * (double)rows * (double)q.out_sp > 32768.0)
                ia_pool_run(ctx->pool, q.mg, qc_chan, j);
            else
                for (int64_t t = 0; t < q.mg; t++) qc_chan(j, t, 0);
        }
    return IA_OK;
}

static int qc_out_shape(const struct qconv *q, int64_t *dims) {
    dims[0] = q->n;
    dims[1] = q->m;
    for (int i = 0; i < q->sp; i++) dims[2 + i] = q->out[i];
    return q->sp + 2;
}

static int ci_check(struct ia_op_ctx *ctx, struct qconv *q) {
    int rc = qconv_setup(ctx, 0, 1, q);
    if (rc) return rc;
    const struct ia_tensor *xz = in_opt(ctx, 2), *wz = in_opt(ctx, 3);
    if ((xz && xz->dtype != ctx->inputs[0]->dtype) || (wz && wz->dtype != ctx->inputs[1]->dtype))
        return ia_op_error(ctx, IA_EINVAL, "a zero point's type differs from its input's");
    if (xz && xz->numel != 1) return ia_op_error(ctx, IA_EINVAL, "x_zero_point must be a scalar");
    return per_chan(ctx, wz, "w_zero_point", q->m);
}

static int ci_infer(struct ia_op_ctx *ctx) {
    struct qconv q;
    int rc = ci_check(ctx, &q);
    if (rc) return rc;
    int64_t dims[IA_MAX_RANK];
    return ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_INT32, qc_out_shape(&q, dims), dims);
}

static int ci_compute(struct ia_op_ctx *ctx) {
    struct qconv q;
    int rc = ci_check(ctx, &q);
    if (rc) return rc;
    struct qc_job j = {0};
    j.acc_out = ctx->outputs[0]->data;
    return qc_run(ctx, 0, 2, 1, 3, &j);
}

static int qlc_check(struct ia_op_ctx *ctx, struct qconv *q) {
    int rc = qconv_setup(ctx, 0, 3, q);
    if (rc) return rc;
    const struct ia_tensor *xs = in_opt(ctx, 1), *xz = in_opt(ctx, 2), *ws = in_opt(ctx, 4),
                           *wz = in_opt(ctx, 5), *ys = in_opt(ctx, 6), *yz = in_opt(ctx, 7),
                           *B = in_opt(ctx, 8);
    if (!xs || !ws || !ys)
        return ia_op_error(ctx, IA_EINVAL, "x_scale, w_scale and y_scale are required");
    if (xs->dtype != IA_DTYPE_FLOAT32 || ws->dtype != IA_DTYPE_FLOAT32 ||
        ys->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EINVAL, "scales must be float32");
    if (xs->numel != 1 || ys->numel != 1 || (xz && xz->numel != 1) || (yz && yz->numel != 1))
        return ia_op_error(ctx, IA_EINVAL, "x and y scales and zero points must be scalars");
    if ((xz && xz->dtype != ctx->inputs[0]->dtype) || (wz && wz->dtype != ctx->inputs[3]->dtype))
        return ia_op_error(ctx, IA_EINVAL, "a zero point's type differs from its input's");
    if (yz && !is_q8(yz->dtype))
        return ia_op_error(ctx, IA_EINVAL, "y_zero_point must be uint8 or int8");
    if (B && (B->dtype != IA_DTYPE_INT32 || B->rank != 1 || B->dims[0] != q->m))
        return ia_op_error(ctx, IA_EINVAL, "B must be int32 with %lld values", (long long)q->m);
    rc = per_chan(ctx, ws, "w_scale", q->m);
    if (rc == IA_OK) rc = per_chan(ctx, wz, "w_zero_point", q->m);
    return rc;
}

static int qlc_infer(struct ia_op_ctx *ctx) {
    struct qconv q;
    int rc = qlc_check(ctx, &q);
    if (rc) return rc;
    const struct ia_tensor *yz = in_opt(ctx, 7);
    int64_t dims[IA_MAX_RANK];
    return ia_tensor_set_shape(ctx->outputs[0], yz ? yz->dtype : IA_DTYPE_UINT8,
                               qc_out_shape(&q, dims), dims);
}

static int qlc_compute(struct ia_op_ctx *ctx) {
    struct qconv q;
    int rc = qlc_check(ctx, &q);
    if (rc) return rc;
    struct qc_job j = {0};
    j.xs = ctx->inputs[1];
    j.ws = ctx->inputs[4];
    j.ys = ctx->inputs[6];
    j.yz = in_opt(ctx, 7);
    j.bias = in_opt(ctx, 8);
    j.y = ctx->outputs[0]->data;
    j.yt = ctx->outputs[0]->dtype;
    if (!(ia_tensor_get_f64(j.ys, 0) != 0)) return ia_op_error(ctx, IA_EINVAL, "y_scale is 0");
    return qc_run(ctx, 0, 2, 3, 5, &j);
}

// clang-format off
const struct ia_op_def ia_op_ConvInteger = {"", "ConvInteger", 10, 0, ci_infer, ci_compute};
const struct ia_op_def ia_op_QLinearConv = {"", "QLinearConv", 10, 0, qlc_infer, qlc_compute};
// clang-format on
