/* Reductions: ReduceSum, ReduceSumSquare, ReduceMean, ReduceProd,
 * ReduceMax, ReduceMin, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp,
 * ArgMax, ArgMin and MeanVarianceNormalization.
 *
 * A reduction makes one pass over the input in memory order, folding each
 * element into an accumulator per output element (double for floating
 * types, 64-bit integers for integer types), then finishes each
 * accumulator (mean, sqrt, log) into the output dtype. Only the innermost
 * dim is special-cased: reduced (one accumulator for the whole row) or kept
 * (a row of accumulators), both plain loops the compiler vectorises. */
#include "sh_common.h"

#include <math.h>
#include <stdlib.h>

enum red_op { R_SUM, R_SUMSQ, R_MEAN, R_PROD, R_MAX, R_MIN, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP };

struct red_plan {
    int rank;                  /* input rank, at least 1 */
    int64_t dims[IA_MAX_RANK]; /* input dims */
    int reduced[IA_MAX_RANK];
    int64_t ostr[IA_MAX_RANK]; /* output element stride per input dim; 0 if reduced */
    int out_rank;
    int64_t out_dims[IA_MAX_RANK];
    uint64_t n_out, count; /* outputs; inputs folded into each */
    int noop;              /* empty axes with noop_with_empty_axes: identity */
};

static int red_plan(struct ia_op_ctx *ctx, int axes_input, struct red_plan *p) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (!x) return ia_op_error(ctx, IA_EINVAL, "no input");
    int64_t axes[IA_MAX_RANK];
    size_t n = 0;
    int given = 0, rc;
    if (axes_input) {
        const struct ia_tensor *a = sh_in(ctx, 1);
        if (a) {
            if ((rc = sh_read_i64s(ctx, a, "axes", axes, IA_MAX_RANK, &n))) return rc;
            given = n > 0;
        }
    } else {
        const int64_t *a;
        n = ia_attr_ints(ctx->node, "axes", &a);
        if (a) {
            if (n > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "%zu axes", n);
            memcpy(axes, a, n * sizeof *a);
            given = n > 0;
        }
    }
    int keep = ia_attr_int(ctx->node, "keepdims", 1) != 0;
    p->noop = !given && ia_attr_int(ctx->node, "noop_with_empty_axes", 0) != 0;
    int ax[IA_MAX_RANK];
    if (given && (rc = sh_norm_axes(ctx, axes, n, x->rank, ax))) return rc;
    p->rank = x->rank ? x->rank : 1;
    p->out_rank = 0;
    for (int k = 0; k < p->rank; k++) {
        p->dims[k] = x->rank ? x->dims[k] : 1;
        p->reduced[k] = !p->noop && !given;
    }
    for (size_t i = 0; given && i < n; i++) p->reduced[ax[i]] = 1;
    p->n_out = 1;
    p->count = 1;
    for (int k = 0; k < x->rank; k++) {
        if (p->reduced[k]) {
            p->count *= (uint64_t)p->dims[k];
            if (keep) p->out_dims[p->out_rank++] = 1;
        } else {
            p->n_out *= (uint64_t)p->dims[k];
            p->out_dims[p->out_rank++] = p->dims[k];
        }
    }
    uint64_t st = 1;
    for (int k = p->rank - 1; k >= 0; k--) {
        p->ostr[k] = p->reduced[k] ? 0 : (int64_t)st;
        if (!p->reduced[k]) st *= (uint64_t)p->dims[k];
    }
    return IA_OK;
}

/* Folds every input element into acc[] (n_out entries, already set to the
 * op's identity). T: element type, A: accumulator type. */
#define RED_PASS(T, A, FOLD)                                                                       \
    do {                                                                                           \
        const T *xp = (const T *)xv;                                                               \
        int r = p->rank;                                                                           \
        int64_t W = p->dims[r - 1], idx[IA_MAX_RANK] = {0};                                        \
        uint64_t rows = W ? numel / (uint64_t)W : 0;                                               \
        for (uint64_t row = 0; row < rows; row++, xp += W) {                                       \
            int64_t o = 0;                                                                         \
            for (int k = 0; k < r - 1; k++) o += idx[k] * p->ostr[k];                              \
            if (p->reduced[r - 1]) {                                                               \
                A a = acc[o];                                                                      \
                for (int64_t j = 0; j < W; j++) {                                                  \
                    A v = (A)xp[j];                                                                \
                    FOLD(a, v);                                                                    \
                }                                                                                  \
                acc[o] = a;                                                                        \
            } else {                                                                               \
                A *ar = acc + o;                                                                   \
                for (int64_t j = 0; j < W; j++) {                                                  \
                    A v = (A)xp[j];                                                                \
                    FOLD(ar[j], v);                                                                \
                }                                                                                  \
            }                                                                                      \
            for (int k = r - 2; k >= 0; k--) {                                                     \
                if (++idx[k] < p->dims[k]) break;                                                  \
                idx[k] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define F_SUM(a, v) a += v
#define F_SUMSQ(a, v) a += v * v
#define F_ABS(a, v) a += (v < 0 ? -v : v)
#define F_PROD(a, v) a *= v
#define F_MAX(a, v) a = (v > a || v != v) ? v : a
#define F_MIN(a, v) a = (v < a || v != v) ? v : a
/* Integer accumulators wrap (unsigned arithmetic) like numpy's. */
#define F_ISUM(a, v) a = (int64_t)((uint64_t)a + (uint64_t)v)
#define F_ISUMSQ(a, v) a = (int64_t)((uint64_t)a + (uint64_t)v * (uint64_t)v)
#define F_IABS(a, v) a = (int64_t)((uint64_t)a + (uint64_t)(v < 0 ? -(uint64_t)v : (uint64_t)v))
#define F_IPROD(a, v) a = (int64_t)((uint64_t)a * (uint64_t)v)
#define F_IMAX(a, v) a = v > a ? v : a
#define F_IMIN(a, v) a = v < a ? v : a

/* Floating-point pass over any non-integer dtype. */
static void pass_f(const struct red_plan *p, enum red_op op, const void *xv, enum ia_dtype t,
                   uint64_t numel, double *acc, const double *shift) {
    if (t == IA_DTYPE_FLOAT32 || t == IA_DTYPE_FLOAT64) {
        int is32 = t == IA_DTYPE_FLOAT32;
        switch (op) {
        case R_SUM:
        case R_MEAN:
        case R_LOGSUM:
            if (is32)
                RED_PASS(float, double, F_SUM);
            else
                RED_PASS(double, double, F_SUM);
            return;
        case R_SUMSQ:
        case R_L2:
            if (is32)
                RED_PASS(float, double, F_SUMSQ);
            else
                RED_PASS(double, double, F_SUMSQ);
            return;
        case R_L1:
            if (is32)
                RED_PASS(float, double, F_ABS);
            else
                RED_PASS(double, double, F_ABS);
            return;
        case R_PROD:
            if (is32)
                RED_PASS(float, double, F_PROD);
            else
                RED_PASS(double, double, F_PROD);
            return;
        case R_MAX:
            if (is32)
                RED_PASS(float, double, F_MAX);
            else
                RED_PASS(double, double, F_MAX);
            return;
        case R_MIN:
            if (is32)
                RED_PASS(float, double, F_MIN);
            else
                RED_PASS(double, double, F_MIN);
            return;
        case R_LOGSUMEXP:
            break;
        }
    }
    /* Half types and log-sum-exp: element by element through double. */
    int r = p->rank;
    int64_t idx[IA_MAX_RANK] = {0};
    for (uint64_t i = 0; i < numel; i++) {
        int64_t o = 0;
        for (int k = 0; k < r; k++) o += idx[k] * p->ostr[k];
        double v = sh_get_f64(xv, t, i), *a = &acc[o];
        switch (op) {
        case R_SUM:
        case R_MEAN:
        case R_LOGSUM:
            *a += v;
            break;
        case R_SUMSQ:
        case R_L2:
            *a += v * v;
            break;
        case R_L1:
            *a += fabs(v);
            break;
        case R_PROD:
            *a *= v;
            break;
        case R_MAX:
            F_MAX(*a, v);
            break;
        case R_MIN:
            F_MIN(*a, v);
            break;
        case R_LOGSUMEXP:
            *a += exp(v - shift[o]);
            break;
        }
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < p->dims[k]) break;
            idx[k] = 0;
        }
    }
}

static int is_int(enum ia_dtype t) {
    return t != IA_DTYPE_FLOAT32 && t != IA_DTYPE_FLOAT64 && t != IA_DTYPE_FLOAT16 &&
           t != IA_DTYPE_BFLOAT16;
}

#define INT_PASS(FOLD)                                                                             \
    switch (t) {                                                                                   \
    case IA_DTYPE_INT8:                                                                            \
        RED_PASS(int8_t, int64_t, FOLD);                                                           \
        break;                                                                                     \
    case IA_DTYPE_INT16:                                                                           \
        RED_PASS(int16_t, int64_t, FOLD);                                                          \
        break;                                                                                     \
    case IA_DTYPE_INT32:                                                                           \
        RED_PASS(int32_t, int64_t, FOLD);                                                          \
        break;                                                                                     \
    case IA_DTYPE_INT64:                                                                           \
        RED_PASS(int64_t, int64_t, FOLD);                                                          \
        break;                                                                                     \
    case IA_DTYPE_UINT8:                                                                           \
    case IA_DTYPE_BOOL:                                                                            \
        RED_PASS(uint8_t, int64_t, FOLD);                                                          \
        break;                                                                                     \
    case IA_DTYPE_UINT16:                                                                          \
        RED_PASS(uint16_t, int64_t, FOLD);                                                         \
        break;                                                                                     \
    case IA_DTYPE_UINT32:                                                                          \
        RED_PASS(uint32_t, int64_t, FOLD);                                                         \
        break;                                                                                     \
    case IA_DTYPE_UINT64:                                                                          \
        RED_PASS(int64_t, int64_t, FOLD);                                                          \
        break;                                                                                     \
    default:                                                                                       \
        break;                                                                                     \
    }

/* Integer pass for the ops whose result is exact in integers. */
static void pass_i(const struct red_plan *p, enum red_op op, const void *xv, enum ia_dtype t,
                   uint64_t numel, int64_t *acc) {
    switch (op) {
    case R_SUM:
        INT_PASS(F_ISUM);
        break;
    case R_SUMSQ:
        INT_PASS(F_ISUMSQ);
        break;
    case R_L1:
        INT_PASS(F_IABS);
        break;
    case R_PROD:
        INT_PASS(F_IPROD);
        break;
    case R_MAX:
        INT_PASS(F_IMAX);
        break;
    case R_MIN:
        INT_PASS(F_IMIN);
        break;
    default:
        break;
    }
}

static int reduce_run(struct ia_op_ctx *ctx, enum red_op op) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    int axes_input = op == R_SUM ? ctx->opset >= 13 : ctx->opset >= 18;
    struct red_plan p;
    int rc = red_plan(ctx, axes_input, &p);
    if (rc) return rc;
    if (!sh_is_numeric(x->dtype))
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(x->dtype));
    if (p.noop) {
        sh_copy_all(y, x);
        return IA_OK;
    }
    if (y->numel != p.n_out) return ia_op_error(ctx, IA_EINTERNAL, "output size mismatch");
    int use_int = is_int(x->dtype) && (op == R_SUM || op == R_SUMSQ || op == R_L1 || op == R_PROD ||
                                       op == R_MAX || op == R_MIN);
    uint64_t n = p.n_out ? p.n_out : 1;
    void *buf = ia_calloc((size_t)n * (op == R_LOGSUMEXP ? 2 : 1), 8);
    if (!buf)
        return ia_op_error(ctx, IA_ENOMEM, "no memory for %llu accumulators",
                           (unsigned long long)n);
    const void *xv = sh_src(x);
    if (use_int) {
        int64_t *acc = buf, init = op == R_PROD  ? 1
                                   : op == R_MAX ? INT64_MIN
                                   : op == R_MIN ? INT64_MAX
                                                 : 0;
        for (uint64_t i = 0; i < p.n_out; i++) acc[i] = init;
        pass_i(&p, op, xv, x->dtype, x->numel, acc);
        for (uint64_t i = 0; i < p.n_out; i++) {
            switch (y->dtype) {
            case IA_DTYPE_INT8:
                ((int8_t *)y->data)[i] = (int8_t)acc[i];
                break;
            case IA_DTYPE_INT16:
                ((int16_t *)y->data)[i] = (int16_t)acc[i];
                break;
            case IA_DTYPE_INT32:
                ((int32_t *)y->data)[i] = (int32_t)acc[i];
                break;
            case IA_DTYPE_INT64:
            case IA_DTYPE_UINT64:
                ((int64_t *)y->data)[i] = acc[i];
                break;
            case IA_DTYPE_UINT8:
                ((uint8_t *)y->data)[i] = (uint8_t)acc[i];
                break;
            case IA_DTYPE_BOOL:
                ((uint8_t *)y->data)[i] = acc[i] != 0;
                break;
            case IA_DTYPE_UINT16:
                ((uint16_t *)y->data)[i] = (uint16_t)acc[i];
                break;
            case IA_DTYPE_UINT32:
                ((uint32_t *)y->data)[i] = (uint32_t)acc[i];
                break;
            default:
                break;
            }
        }
        ia_free(buf);
        return IA_OK;
    }
    double *acc = buf, *shift = NULL;
    if (op == R_LOGSUMEXP) {
        /* Shift by the max so exp() cannot overflow. */
        shift = acc + n;
        for (uint64_t i = 0; i < p.n_out; i++) shift[i] = -INFINITY;
        pass_f(&p, R_MAX, xv, x->dtype, x->numel, shift, NULL);
        for (uint64_t i = 0; i < p.n_out; i++)
            if (!isfinite(shift[i])) shift[i] = 0;
    }
    double init = op == R_PROD ? 1 : op == R_MAX ? -INFINITY : op == R_MIN ? INFINITY : 0;
    for (uint64_t i = 0; i < p.n_out; i++) acc[i] = init;
    pass_f(&p, op, xv, x->dtype, x->numel, acc, shift);
    for (uint64_t i = 0; i < p.n_out; i++) {
        double v = acc[i];
        switch (op) {
        case R_MEAN:
            v = v / (double)p.count;
            break;
        case R_L2:
            v = sqrt(v);
            break;
        case R_LOGSUM:
            v = log(v);
            break;
        case R_LOGSUMEXP:
            v = log(v) + shift[i];
            break;
        default:
            break;
        }
        if (y->dtype == IA_DTYPE_FLOAT32)
            ((float *)y->data)[i] = (float)v;
        else
            sh_set_f64(y->data, y->dtype, i, v);
    }
    ia_free(buf);
    return IA_OK;
}

static int reduce_infer_(struct ia_op_ctx *ctx, enum red_op op) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int axes_input = op == R_SUM ? ctx->opset >= 13 : ctx->opset >= 18;
    struct red_plan p;
    int rc = red_plan(ctx, axes_input, &p);
    if (rc) return rc;
    if (p.noop) return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, x->dims);
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, p.out_rank, p.out_dims);
}

#define REDUCE_OP(Name, OP)                                                                        \
    static int Name##_infer(struct ia_op_ctx *ctx) { return reduce_infer_(ctx, OP); }              \
    static int Name##_compute(struct ia_op_ctx *ctx) { return reduce_run(ctx, OP); }

REDUCE_OP(rsum, R_SUM)
REDUCE_OP(rsumsq, R_SUMSQ)
REDUCE_OP(rmean, R_MEAN)
REDUCE_OP(rprod, R_PROD)
REDUCE_OP(rmax, R_MAX)
REDUCE_OP(rmin, R_MIN)
REDUCE_OP(rl1, R_L1)
REDUCE_OP(rl2, R_L2)
REDUCE_OP(rlogsum, R_LOGSUM)
REDUCE_OP(rlse, R_LOGSUMEXP)

const struct ia_op_def ia_op_ReduceSum = {"", "ReduceSum", 1, 0, rsum_infer, rsum_compute};
const struct ia_op_def ia_op_ReduceSumSquare = {"", "ReduceSumSquare", 1,
                                                0,  rsumsq_infer,      rsumsq_compute};
const struct ia_op_def ia_op_ReduceMean = {"", "ReduceMean", 1, 0, rmean_infer, rmean_compute};
const struct ia_op_def ia_op_ReduceProd = {"", "ReduceProd", 1, 0, rprod_infer, rprod_compute};
const struct ia_op_def ia_op_ReduceMax = {"", "ReduceMax", 1, 0, rmax_infer, rmax_compute};
const struct ia_op_def ia_op_ReduceMin = {"", "ReduceMin", 1, 0, rmin_infer, rmin_compute};
const struct ia_op_def ia_op_ReduceL1 = {"", "ReduceL1", 1, 0, rl1_infer, rl1_compute};
const struct ia_op_def ia_op_ReduceL2 = {"", "ReduceL2", 1, 0, rl2_infer, rl2_compute};
const struct ia_op_def ia_op_ReduceLogSum = {"", "ReduceLogSum", 1,
                                             0,  rlogsum_infer,  rlogsum_compute};
const struct ia_op_def ia_op_ReduceLogSumExp = {"", "ReduceLogSumExp", 1,
                                                0,  rlse_infer,        rlse_compute};

/* ---- ArgMax / ArgMin ---------------------------------------------------- */

static int arg_plan(struct ia_op_ctx *ctx, int *axis, int64_t *od, int *orank) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), x->rank, axis);
    if (rc) return rc;
    if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "input must have rank >= 1");
    if (!sh_is_numeric(x->dtype))
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(x->dtype));
    int keep = ia_attr_int(ctx->node, "keepdims", 1) != 0, r = 0;
    for (int k = 0; k < x->rank; k++) {
        if (k != *axis)
            od[r++] = x->dims[k];
        else if (keep)
            od[r++] = 1;
    }
    *orank = r;
    return IA_OK;
}

static int arg_infer(struct ia_op_ctx *ctx) {
    int axis, r;
    int64_t d[IA_MAX_RANK];
    int rc = arg_plan(ctx, &axis, d, &r);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), IA_DTYPE_INT64, r, d);
}

static int arg_run(struct ia_op_ctx *ctx, int want_max) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    int axis, r;
    int64_t d[IA_MAX_RANK];
    int rc = arg_plan(ctx, &axis, d, &r);
    if (rc) return rc;
    int last = ia_attr_int(ctx->node, "select_last_index", 0) != 0;
    if (!y->numel) return IA_OK;
    int64_t outer = 1, inner = 1, n = x->dims[axis];
    for (int k = 0; k < axis; k++) outer *= x->dims[k];
    for (int k = axis + 1; k < x->rank; k++) inner *= x->dims[k];
    if (n == 0) return ia_op_error(ctx, IA_EINVAL, "cannot take the arg of an empty axis");
    int64_t *out = y->data;
    int as_int = is_int(x->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            uint64_t base = (uint64_t)(o * n * inner + in);
            int64_t best = 0;
            if (as_int) {
                int64_t bv = ia_tensor_get_i64(x, base);
                for (int64_t j = 1; j < n; j++) {
                    int64_t v = ia_tensor_get_i64(x, base + (uint64_t)(j * inner));
                    int better = want_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
                    if (better) bv = v, best = j;
                }
            } else {
                double bv = sh_get_f64(x->data, x->dtype, base);
                for (int64_t j = 1; j < n; j++) {
                    double v = sh_get_f64(x->data, x->dtype, base + (uint64_t)(j * inner));
                    int better = want_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
                    if (better) bv = v, best = j;
                }
            }
            out[o * inner + in] = best;
        }
    return IA_OK;
}

static int argmax_compute(struct ia_op_ctx *ctx) { return arg_run(ctx, 1); }
static int argmin_compute(struct ia_op_ctx *ctx) { return arg_run(ctx, 0); }

const struct ia_op_def ia_op_ArgMax = {"", "ArgMax", 1, 0, arg_infer, argmax_compute};
const struct ia_op_def ia_op_ArgMin = {"", "ArgMin", 1, 0, arg_infer, argmin_compute};

/* ---- MeanVarianceNormalization -------------------------------------------- */

/* Y = (X - mean) / (sqrt(E[X^2] - mean^2) + 1e-9) over `axes`, as the
 * op's function body defines it. */
static int mvn_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    if (x->dtype != IA_DTYPE_FLOAT32 && x->dtype != IA_DTYPE_FLOAT64 &&
        x->dtype != IA_DTYPE_FLOAT16 && x->dtype != IA_DTYPE_BFLOAT16)
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(x->dtype));
    static const int64_t dflt[3] = {0, 2, 3};
    const int64_t *axes;
    size_t n = ia_attr_ints(ctx->node, "axes", &axes);
    if (!axes) {
        axes = dflt;
        n = 3;
    }
    int ax[IA_MAX_RANK];
    int rc = sh_norm_axes(ctx, axes, n, x->rank, ax);
    if (rc) return rc;
    struct red_plan p = {0};
    p.rank = x->rank ? x->rank : 1;
    for (int k = 0; k < p.rank; k++) p.dims[k] = x->rank ? x->dims[k] : 1;
    for (size_t i = 0; i < n; i++) p.reduced[ax[i]] = 1;
    p.n_out = 1;
    p.count = 1;
    for (int k = 0; k < p.rank; k++) {
        if (p.reduced[k])
            p.count *= (uint64_t)p.dims[k];
        else
            p.n_out *= (uint64_t)p.dims[k];
    }
    uint64_t st = 1;
    for (int k = p.rank - 1; k >= 0; k--) {
        p.ostr[k] = p.reduced[k] ? 0 : (int64_t)st;
        if (!p.reduced[k]) st *= (uint64_t)p.dims[k];
    }
    double *acc = ia_calloc((size_t)(p.n_out ? p.n_out : 1), 2 * sizeof(double));
    if (!acc) return ia_op_error(ctx, IA_ENOMEM, "no memory");
    double *sq = acc + p.n_out;
    pass_f(&p, R_SUM, sh_src(x), x->dtype, x->numel, acc, NULL);
    pass_f(&p, R_SUMSQ, sh_src(x), x->dtype, x->numel, sq, NULL);
    for (uint64_t i = 0; i < p.n_out; i++) {
        double m = acc[i] / (double)p.count, v = sq[i] / (double)p.count - m * m;
        acc[i] = m;
        sq[i] = 1.0 / (sqrt(v > 0 ? v : 0) + 1e-9);
    }
    int64_t idx[IA_MAX_RANK] = {0};
    for (uint64_t i = 0; i < x->numel; i++) {
        int64_t o = 0;
        for (int k = 0; k < p.rank; k++) o += idx[k] * p.ostr[k];
        sh_set_f64(y->data, y->dtype, i, (sh_get_f64(x->data, x->dtype, i) - acc[o]) * sq[o]);
        for (int k = p.rank - 1; k >= 0; k--) {
            if (++idx[k] < p.dims[k]) break;
            idx[k] = 0;
        }
    }
    ia_free(acc);
    return IA_OK;
}

const struct ia_op_def ia_op_MeanVarianceNormalization = {
    "", "MeanVarianceNormalization", 9, 0, sh_same_shape_infer, mvn_compute};
