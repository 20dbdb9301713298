/* Small generators and element-placing ops: ConstantOfShape, Range,
 * Dropout, Trilu, EyeLike, OneHot, ReverseSequence, CumSum. */
#include "sh_common.h"

#include <math.h>

/* ---- ConstantOfShape ---------------------------------------------------- */

static int cos_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *s = sh_in(ctx, 0);
    int64_t d[IA_MAX_RANK];
    size_t n;
    int rc = sh_read_i64s(ctx, s, "shape", d, IA_MAX_RANK, &n);
    if (rc) return rc;
    enum ia_dtype t = IA_DTYPE_FLOAT32;
    const struct ia_onnx_attr *v = ia_attr_find(ctx->node, "value");
    if (v) {
        if (v->type != IA_ONNX_ATTR_TENSOR || !v->t || v->t->numel != 1 ||
            v->t->dtype == IA_DTYPE_UNDEFINED || v->t->dtype == IA_DTYPE_STRING || !v->t->data)
            return ia_op_error(ctx, IA_EINVAL, "value must be a one-element numeric tensor");
        t = v->t->dtype;
    }
    for (size_t i = 0; i < n; i++)
        if (d[i] < 0) return ia_op_error(ctx, IA_EINVAL, "shape[%zu] = %lld", i, (long long)d[i]);
    return ia_tensor_set_shape(sh_out(ctx, 0), t, (int)n, d);
}

static int cos_compute(struct ia_op_ctx *ctx) {
    struct ia_tensor *y = sh_out(ctx, 0);
    const struct ia_onnx_attr *v = ia_attr_find(ctx->node, "value");
    size_t es = sh_esize(y->dtype);
    uint8_t *dst = sh_dst(y);
    if (!v) {
        if (y->nbytes) memset(dst, 0, (size_t)y->nbytes);
        return IA_OK;
    }
    for (uint64_t i = 0; i < y->numel; i++) memcpy(dst + i * es, v->t->data, es);
    return IA_OK;
}

const struct ia_op_def ia_op_ConstantOfShape = {"", "ConstantOfShape", 9,
                                                0,  cos_infer,         cos_compute};

/* ---- Range -------------------------------------------------------------- */

static int range_count(struct ia_op_ctx *ctx, int64_t *n) {
    const struct ia_tensor *s = sh_in(ctx, 0), *l = sh_in(ctx, 1), *d = sh_in(ctx, 2);
    if (!s || !l || !d) return ia_op_error(ctx, IA_EINVAL, "needs start, limit and delta");
    if (s->numel != 1 || l->numel != 1 || d->numel != 1)
        return ia_op_error(ctx, IA_EINVAL, "start, limit and delta must be scalars");
    if (!s->data || !l->data || !d->data) return IA_EAGAIN;
    if (!sh_is_numeric(s->dtype) || s->dtype == IA_DTYPE_BOOL)
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(s->dtype));
    double st = sh_get_f64(s->data, s->dtype, 0), li = sh_get_f64(l->data, l->dtype, 0),
           de = sh_get_f64(d->data, d->dtype, 0);
    if (de == 0 || de != de || st != st || li != li)
        return ia_op_error(ctx, IA_EINVAL, "delta is 0 or a value is NaN");
    double c = ceil((li - st) / de);
    if (c > (double)((int64_t)1 << 40)) return ia_op_error(ctx, IA_ERANGE, "range too long");
    *n = c > 0 ? (int64_t)c : 0;
    return IA_OK;
}

static int range_infer(struct ia_op_ctx *ctx) {
    int64_t n = 0;
    int rc = range_count(ctx, &n);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 0)->dtype, 1, &n);
}

static int range_compute(struct ia_op_ctx *ctx) {
    int64_t n = 0;
    int rc = range_count(ctx, &n);
    if (rc) return rc;
    const struct ia_tensor *s = sh_in(ctx, 0), *d = sh_in(ctx, 2);
    struct ia_tensor *y = sh_out(ctx, 0);
    if ((uint64_t)n != y->numel) return ia_op_error(ctx, IA_EINTERNAL, "output size mismatch");
    if (s->dtype == IA_DTYPE_INT64 || s->dtype == IA_DTYPE_INT32 || s->dtype == IA_DTYPE_INT16) {
        /* Wrapping arithmetic: a huge delta must not be undefined behaviour. */
        uint64_t a = (uint64_t)ia_tensor_get_i64(s, 0), b = (uint64_t)ia_tensor_get_i64(d, 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (int64_t)(a + (uint64_t)i * b);
            if (y->dtype == IA_DTYPE_INT64)
                ((int64_t *)y->data)[i] = v;
            else if (y->dtype == IA_DTYPE_INT32)
                ((int32_t *)y->data)[i] = (int32_t)v;
            else
                ((int16_t *)y->data)[i] = (int16_t)v;
        }
        return IA_OK;
    }
    if (s->dtype == IA_DTYPE_FLOAT32) {
        /* Computed in float, as numpy.arange does for float32. */
        float a = *(const float *)s->data, b = *(const float *)d->data;
        float *o = y->data;
        for (int64_t i = 0; i < n; i++) o[i] = a + (float)i * b;
        return IA_OK;
    }
    double a = sh_get_f64(s->data, s->dtype, 0), b = sh_get_f64(d->data, d->dtype, 0);
    for (int64_t i = 0; i < n; i++) sh_set_f64(y->data, y->dtype, (uint64_t)i, a + (double)i * b);
    return IA_OK;
}

const struct ia_op_def ia_op_Range = {"", "Range", 11, 0, range_infer, range_compute};

/* ---- Dropout ------------------------------------------------------------ */

static int dropout_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int rc = ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, x->dims);
    if (rc == IA_OK && sh_out(ctx, 1))
        rc = ia_tensor_set_shape(sh_out(ctx, 1), ctx->opset < 10 ? x->dtype : IA_DTYPE_BOOL,
                                 x->rank, x->dims);
    return rc;
}

/* Training-mode dropout draws its mask from MT19937 seeded with the seed
 * attribute (0 when absent) and uniform doubles of 53 bits, the generator
 * and draw numpy's legacy np.random.seed/uniform use, so a given seed gives
 * the same mask as the ONNX reference. */
struct mt19937 {
    uint32_t mt[624];
    int i;
};

static void mt_seed(struct mt19937 *m, uint32_t s) {
    m->mt[0] = s;
    for (int i = 1; i < 624; i++)
        m->mt[i] = 1812433253u * (m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) + (uint32_t)i;
    m->i = 624;
}

static uint32_t mt_next(struct mt19937 *m) {
    if (m->i >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (m->mt[k] & 0x80000000u) | (m->mt[(k + 1) % 624] & 0x7fffffffu);
            m->mt[k] = m->mt[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
        }
        m->i = 0;
    }
    uint32_t y = m->mt[m->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

static double mt_double(struct mt19937 *m) {
    uint32_t a = mt_next(m) >> 5, b = mt_next(m) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

static int dropout_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *tm = sh_in(ctx, 2), *ratio = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0), *m = sh_out(ctx, 1);
    double r = 0;
    if (ctx->opset >= 12 && tm && tm->numel && ia_tensor_get_i64(tm, 0) != 0)
        r = ratio && ratio->numel ? ia_tensor_get_f64(ratio, 0) : 0.5;
    if (!(r >= 0 && r < 1)) return ia_op_error(ctx, IA_EINVAL, "ratio %g is outside [0, 1)", r);
    if (r == 0) {
        sh_copy_all(y, x);
        if (m) {
            if (m->dtype == IA_DTYPE_BOOL) {
                if (m->nbytes) memset(m->data, 1, (size_t)m->nbytes);
            } else {
                for (uint64_t i = 0; i < m->numel; i++) sh_set_f64(m->data, m->dtype, i, 1.0);
            }
        }
        return IA_OK;
    }
    if (!sh_is_numeric(x->dtype) || x->dtype == IA_DTYPE_BOOL)
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(x->dtype));
    struct mt19937 *g = ia_malloc(sizeof *g);
    if (!g) return ia_op_error(ctx, IA_ENOMEM, "no memory");
    mt_seed(g, (uint32_t)ia_attr_int(ctx->node, "seed", 0));
    double scale = 1 / (1 - r);
    for (uint64_t i = 0; i < x->numel; i++) {
        int keep = mt_double(g) >= r;
        sh_set_f64(y->data, y->dtype, i, keep ? sh_get_f64(x->data, x->dtype, i) * scale : 0);
        if (m) sh_set_f64(m->data, m->dtype, i, keep);
    }
    ia_free(g);
    return IA_OK;
}

const struct ia_op_def ia_op_Dropout = {"", "Dropout", 7, 0, dropout_infer, dropout_compute};

/* ---- Trilu -------------------------------------------------------------- */

static int trilu_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *kt = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    if (x->rank < 2) return ia_op_error(ctx, IA_EINVAL, "input must have rank >= 2");
    int64_t k = 0;
    if (kt) {
        if (kt->numel != 1) return ia_op_error(ctx, IA_EINVAL, "k must be a scalar");
        k = ia_tensor_get_i64(kt, 0);
    }
    int upper = ia_attr_int(ctx->node, "upper", 1) != 0;
    size_t es = sh_esize(x->dtype);
    int64_t N = x->dims[x->rank - 2], M = x->dims[x->rank - 1];
    uint64_t mats = N > 0 && M > 0 ? x->numel / (uint64_t)(N * M) : 0;
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    for (uint64_t b = 0; b < mats; b++)
        for (int64_t i = 0; i < N; i++) {
            size_t row = ((size_t)b * (size_t)N + (size_t)i) * (size_t)M * es;
            for (int64_t j = 0; j < M; j++) {
                int keep = upper ? j - i >= k : j - i <= k;
                if (keep)
                    memcpy(dst + row + (size_t)j * es, src + row + (size_t)j * es, es);
                else
                    memset(dst + row + (size_t)j * es, 0, es);
            }
        }
    return IA_OK;
}

const struct ia_op_def ia_op_Trilu = {"", "Trilu", 14, 0, sh_same_shape_infer, trilu_compute};

/* ---- EyeLike ------------------------------------------------------------ */

static int eyelike_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (x->rank != 2) return ia_op_error(ctx, IA_EINVAL, "input must be 2D, is %dD", x->rank);
    enum ia_dtype t = x->dtype;
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "dtype");
    if (a) {
        t = ia_onnx_dtype_from_proto((int32_t)a->i);
        if (t == IA_DTYPE_UNDEFINED || t == IA_DTYPE_STRING)
            return ia_op_error(ctx, IA_EINVAL, "dtype %lld", (long long)a->i);
    }
    return ia_tensor_set_shape(sh_out(ctx, 0), t, 2, x->dims);
}

static int eyelike_compute(struct ia_op_ctx *ctx) {
    struct ia_tensor *y = sh_out(ctx, 0);
    int64_t k = ia_attr_int(ctx->node, "k", 0);
    if (y->nbytes) memset(y->data, 0, (size_t)y->nbytes);
    if (k >= y->dims[1] || k <= -y->dims[0]) return IA_OK; /* no diagonal inside */
    for (int64_t i = 0; i < y->dims[0]; i++) {
        int64_t j = i + k;
        if (j >= 0 && j < y->dims[1])
            sh_set_f64(y->data, y->dtype, (uint64_t)(i * y->dims[1] + j), 1);
    }
    return IA_OK;
}

const struct ia_op_def ia_op_EyeLike = {"", "EyeLike", 9, 0, eyelike_infer, eyelike_compute};

/* ---- OneHot ------------------------------------------------------------- */

static int onehot_plan(struct ia_op_ctx *ctx, int *axis, int64_t *depth) {
    const struct ia_tensor *ind = sh_in(ctx, 0), *dep = sh_in(ctx, 1), *val = sh_in(ctx, 2);
    if (!ind || !dep || !val) return ia_op_error(ctx, IA_EINVAL, "needs indices, depth, values");
    if (dep->numel != 1) return ia_op_error(ctx, IA_EINVAL, "depth must have one element");
    if (val->numel != 2) return ia_op_error(ctx, IA_EINVAL, "values must have two elements");
    if (!dep->data) return IA_EAGAIN;
    double d = ia_tensor_get_f64(dep, 0);
    if (!(d >= 1 && d < (double)((int64_t)1 << 40)))
        return ia_op_error(ctx, IA_EINVAL, "depth %g", d);
    *depth = (int64_t)d;
    if (ind->rank + 1 > IA_MAX_RANK) return ia_op_error(ctx, IA_ERANGE, "rank too big");
    return ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", -1), ind->rank + 1, axis);
}

static int onehot_infer(struct ia_op_ctx *ctx) {
    int axis;
    int64_t depth, d[IA_MAX_RANK];
    int rc = onehot_plan(ctx, &axis, &depth);
    if (rc) return rc;
    const struct ia_tensor *ind = sh_in(ctx, 0);
    for (int i = 0, j = 0; i < ind->rank + 1; i++) d[i] = i == axis ? depth : ind->dims[j++];
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 2)->dtype, ind->rank + 1, d);
}

static int onehot_compute(struct ia_op_ctx *ctx) {
    int axis;
    int64_t depth;
    int rc = onehot_plan(ctx, &axis, &depth);
    if (rc) return rc;
    const struct ia_tensor *ind = sh_in(ctx, 0), *val = sh_in(ctx, 2);
    struct ia_tensor *y = sh_out(ctx, 0);
    size_t es = sh_esize(val->dtype);
    const uint8_t *off = sh_src(val), *on = off + es;
    uint8_t *dst = sh_dst(y);
    if (!y->numel) return IA_OK;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= ind->dims[i];
    for (int i = axis; i < ind->rank; i++) inner *= ind->dims[i];
    for (uint64_t i = 0; i < y->numel; i++) memcpy(dst + i * es, off, es);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            double v = ia_tensor_get_f64(ind, (uint64_t)(o * inner + in));
            if (v != v) continue;
            int64_t k = (int64_t)(v < 0 ? ceil(v) : floor(v));
            if (k < 0) k += depth;
            if (k < 0 || k >= depth) continue; /* out of range: all off */
            memcpy(dst + (size_t)((o * depth + k) * inner + in) * es, on, es);
        }
    return IA_OK;
}

const struct ia_op_def ia_op_OneHot = {"", "OneHot", 9, 0, onehot_infer, onehot_compute};

/* ---- ReverseSequence ---------------------------------------------------- */

static int revseq_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *sl = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    int64_t ta = ia_attr_int(ctx->node, "time_axis", 0),
            ba = ia_attr_int(ctx->node, "batch_axis", 1);
    if (x->rank < 2) return ia_op_error(ctx, IA_EINVAL, "input must have rank >= 2");
    if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0)))
        return ia_op_error(ctx, IA_EINVAL, "time_axis/batch_axis must be 0/1 or 1/0");
    if (!sl || (int64_t)sl->numel != x->dims[ba])
        return ia_op_error(ctx, IA_EINVAL, "sequence_lens must have one entry per batch");
    if (!x->numel) return IA_OK;
    size_t es = sh_esize(x->dtype);
    int64_t T = x->dims[ta], B = x->dims[ba], inner = (int64_t)es;
    for (int k = 2; k < x->rank; k++) inner *= x->dims[k];
    int64_t st_t = ta == 0 ? B * inner : inner, st_b = ba == 0 ? T * inner : inner;
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    for (int64_t b = 0; b < B; b++) {
        int64_t len = ia_tensor_get_i64(sl, (uint64_t)b);
        if (len < 0 || len > T)
            return ia_op_error(ctx, IA_EINVAL, "sequence_lens[%lld] = %lld is outside [0, %lld]",
                               (long long)b, (long long)len, (long long)T);
        for (int64_t t = 0; t < T; t++) {
            int64_t s = t < len ? len - 1 - t : t;
            memcpy(dst + b * st_b + t * st_t, src + b * st_b + s * st_t, (size_t)inner);
        }
    }
    return IA_OK;
}

const struct ia_op_def ia_op_ReverseSequence = {"", "ReverseSequence",   10,
                                                0,  sh_same_shape_infer, revseq_compute};

/* ---- CumSum ------------------------------------------------------------- */

#define CUMSUM_LOOP(T, ACC)                                                                        \
    do {                                                                                           \
        const T *s = x->data;                                                                      \
        T *d = y->data;                                                                            \
        for (int64_t o = 0; o < outer; o++)                                                        \
            for (int64_t in = 0; in < inner; in++) {                                               \
                ACC acc = 0;                                                                       \
                for (int64_t j = 0; j < n; j++) {                                                  \
                    int64_t jj = reverse ? n - 1 - j : j;                                          \
                    size_t at = (size_t)((o * n + jj) * inner + in);                               \
                    if (exclusive) {                                                               \
                        d[at] = (T)acc;                                                            \
                        acc += s[at];                                                              \
                    } else {                                                                       \
                        acc += s[at];                                                              \
                        d[at] = (T)acc;                                                            \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    } while (0)

static int cumsum_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *axt = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    if (!axt || axt->numel != 1) return ia_op_error(ctx, IA_EINVAL, "axis must be a scalar");
    int axis;
    int rc = ia_norm_axis(ctx, ia_tensor_get_i64(axt, 0), x->rank, &axis);
    if (rc) return rc;
    int exclusive = ia_attr_int(ctx->node, "exclusive", 0) != 0;
    int reverse = ia_attr_int(ctx->node, "reverse", 0) != 0;
    if (!x->numel) return IA_OK;
    int64_t outer = 1, inner = 1, n = x->rank ? x->dims[axis] : 1;
    for (int k = 0; k < axis; k++) outer *= x->dims[k];
    for (int k = axis + 1; k < x->rank; k++) inner *= x->dims[k];
    switch (x->dtype) {
    case IA_DTYPE_FLOAT32:
        CUMSUM_LOOP(float, float);
        break;
    case IA_DTYPE_FLOAT64:
        CUMSUM_LOOP(double, double);
        break;
    case IA_DTYPE_INT32:
        CUMSUM_LOOP(int32_t, uint32_t);
        break;
    case IA_DTYPE_INT64:
        CUMSUM_LOOP(int64_t, uint64_t);
        break;
    case IA_DTYPE_UINT32:
        CUMSUM_LOOP(uint32_t, uint32_t);
        break;
    case IA_DTYPE_UINT64:
        CUMSUM_LOOP(uint64_t, uint64_t);
        break;
    case IA_DTYPE_FLOAT16:
    case IA_DTYPE_BFLOAT16:
        for (int64_t o = 0; o < outer; o++)
            for (int64_t in = 0; in < inner; in++) {
                float acc = 0;
                for (int64_t j = 0; j < n; j++) {
                    int64_t jj = reverse ? n - 1 - j : j;
                    uint64_t i = (uint64_t)((o * n + jj) * inner + in);
                    float v = (float)sh_get_f64(x->data, x->dtype, i);
                    if (exclusive) sh_set_f64(y->data, y->dtype, i, acc);
                    acc += v;
                    if (!exclusive) sh_set_f64(y->data, y->dtype, i, acc);
                }
            }
        break;
    default:
        return ia_op_error(ctx, IA_EINVAL, "type %s is not supported", ia_dtype_name(x->dtype));
    }
    return IA_OK;
}

const struct ia_op_def ia_op_CumSum = {"", "CumSum", 11, 0, sh_same_shape_infer, cumsum_compute};
