/* The broadcast iterator behind every elementwise op (see ew_internal.h).
 *
 * ew_run turns the output shape and each input's right-aligned shape into
 * per-input element strides (0 along broadcast dims), drops size-1 dims and
 * merges neighbours that are contiguous for every operand, so a same-shape
 * op becomes one row of numel elements and `x + bias[c]` becomes rows of
 * contiguous x against a stride-0 bias. The flattened element range is then
 * cut into pieces, one pool task each, and every piece walks its rows with
 * an odometer over the outer dims. */
#include "ew_internal.h"

#include <stdio.h>

/* Below this many output elements threading costs more than it saves. */
#define EW_PAR_MIN 65536
/* float16/bfloat16 operands are widened this many elements at a time. */
#define EW_HALF_BLK 256

struct ew_job {
    int rank; /* >= 1 after coalescing */
    int64_t dims[IA_MAX_RANK];
    int n_in;
    int64_t st[EW_MAX_IN][IA_MAX_RANK]; /* element strides, 0 = broadcast */
    const char *base[EW_MAX_IN];
    size_t isz[EW_MAX_IN];
    enum ia_dtype it[EW_MAX_IN];
    char *obase;
    size_t osz;
    enum ia_dtype ot;
    int half; /* some operand is float16/bfloat16: convert around fn */
    uint64_t numel;
    int64_t per_task;
    ew_fn fn;
    const struct ew_param *p;
};

static int is_half(enum ia_dtype t) { return t == IA_DTYPE_FLOAT16 || t == IA_DTYPE_BFLOAT16; }

static void widen(enum ia_dtype t, const uint16_t *src, int64_t stride, int64_t n, float *dst) {
    if (t == IA_DTYPE_FLOAT16)
        for (int64_t i = 0; i < n; i++) dst[i] = ia_f16_to_f32(src[i * stride]);
    else
        for (int64_t i = 0; i < n; i++) dst[i] = ia_bf16_to_f32(src[i * stride]);
}

/* One output row segment of n elements; in[k] already points at the
 * segment's first element of input k. */
static void run_row(const struct ew_job *j, char *out, const void *const *in, const int64_t *is,
                    int64_t n) {
    if (!j->half) {
        j->fn(out, in, is, n, j->p);
        return;
    }
    float buf[EW_MAX_IN][EW_HALF_BLK], obuf[EW_HALF_BLK];
    for (int64_t s = 0; s < n; s += EW_HALF_BLK) {
        int64_t m = n - s < EW_HALF_BLK ? n - s : EW_HALF_BLK;
        const void *pin[EW_MAX_IN];
        int64_t pis[EW_MAX_IN];
        for (int k = 0; k < j->n_in; k++) {
            const char *src = (const char *)in[k] + (size_t)(s * is[k]) * j->isz[k];
            if (is_half(j->it[k])) {
                int64_t cnt = is[k] == 0 ? 1 : m;
                widen(j->it[k], (const uint16_t *)src, is[k], cnt, buf[k]);
                pin[k] = buf[k];
                pis[k] = is[k] == 0 ? 0 : 1;
            } else {
                pin[k] = src;
                pis[k] = is[k];
            }
        }
        char *dst = out + (size_t)s * j->osz;
        if (is_half(j->ot)) {
            j->fn(obuf, pin, pis, m, j->p);
            uint16_t *o = (uint16_t *)dst;
            if (j->ot == IA_DTYPE_FLOAT16)
                for (int64_t i = 0; i < m; i++) o[i] = ia_f32_to_f16(obuf[i]);
            else
                for (int64_t i = 0; i < m; i++) o[i] = ia_f32_to_bf16(obuf[i]);
        } else {
            j->fn(dst, pin, pis, m, j->p);
        }
    }
}

/* Output elements [e0, e1) in row order. */
static void run_range(const struct ew_job *j, uint64_t e0, uint64_t e1) {
    int r = j->rank;
    int64_t inner = j->dims[r - 1];
    int64_t idx[IA_MAX_RANK] = {0};
    int64_t row = (int64_t)(e0 / (uint64_t)inner), col = (int64_t)(e0 % (uint64_t)inner);
    for (int d = r - 2; d >= 0; d--) {
        idx[d] = row % j->dims[d];
        row /= j->dims[d];
    }
    int64_t off[EW_MAX_IN], is[EW_MAX_IN];
    for (int k = 0; k < j->n_in; k++) {
        off[k] = 0;
        for (int d = 0; d < r - 1; d++) off[k] += idx[d] * j->st[k][d];
        is[k] = j->st[k][r - 1];
    }
    uint64_t e = e0;
    while (e < e1) {
        int64_t n = inner - col;
        if ((uint64_t)n > e1 - e) n = (int64_t)(e1 - e);
        const void *in[EW_MAX_IN];
        for (int k = 0; k < j->n_in; k++)
            in[k] = j->base[k] + (size_t)(off[k] + col * is[k]) * j->isz[k];
        run_row(j, j->obase + (size_t)e * j->osz, in, is, n);
        e += (uint64_t)n;
        col = 0;
        for (int d = r - 2; d >= 0; d--) { /* odometer over the outer dims */
            for (int k = 0; k < j->n_in; k++) off[k] += j->st[k][d];
            if (++idx[d] < j->dims[d]) break;
            for (int k = 0; k < j->n_in; k++) off[k] -= j->st[k][d] * j->dims[d];
            idx[d] = 0;
        }
    }
}

static void run_task(void *ctx, int64_t task, int thread_index) {
    (void)thread_index;
    const struct ew_job *j = ctx;
    uint64_t e0 = (uint64_t)task * (uint64_t)j->per_task;
    uint64_t e1 = e0 + (uint64_t)j->per_task;
    if (e1 > j->numel) e1 = j->numel;
    if (e0 < e1) run_range(j, e0, e1);
}

int ew_run(struct ia_op_ctx *ctx, struct ia_tensor *out, int n_in,
           const struct ia_tensor *const *in, ew_fn fn, const struct ew_param *p) {
    if (!fn) return ew_bad_dtype(ctx, n_in ? in[0] : out);
    if (n_in < 1 || n_in > EW_MAX_IN || !out)
        return ia_op_error(ctx, IA_EINTERNAL, "elementwise run with %d inputs", n_in);
    if (out->numel == 0) return IA_OK;
    struct ew_job j;
    memset(&j, 0, sizeof j);
    j.n_in = n_in;
    j.fn = fn;
    j.p = p;
    j.obase = out->data;
    j.osz = ia_dtype_size(out->dtype);
    j.ot = out->dtype;
    j.half = is_half(out->dtype);
    j.numel = out->numel;
    if (!j.obase || !j.osz) return ia_op_error(ctx, IA_EINTERNAL, "output has no data");

    /* Full-rank strides, right-aligned against the output. */
    int R = out->rank;
    int64_t dims[IA_MAX_RANK], st[EW_MAX_IN][IA_MAX_RANK];
    for (int d = 0; d < R; d++) dims[d] = out->dims[d];
    for (int k = 0; k < n_in; k++) {
        const struct ia_tensor *t = in[k];
        if (!t || !t->data) return ia_op_error(ctx, IA_EINVAL, "input %d has no data", k);
        if (t->rank > R) goto bad_shape;
        j.base[k] = t->data;
        j.isz[k] = ia_dtype_size(t->dtype);
        j.it[k] = t->dtype;
        if (!j.isz[k]) return ew_bad_dtype(ctx, t);
        if (is_half(t->dtype)) j.half = 1;
        int64_t s = 1;
        for (int d = R - 1; d >= 0; d--) {
            int td = d - (R - t->rank);
            int64_t n = td >= 0 ? t->dims[td] : 1;
            if (n != dims[d] && n != 1) goto bad_shape;
            st[k][d] = n == 1 ? 0 : s;
            s *= n;
        }
        continue;
    bad_shape:;
        char so[128], si[128];
        return ia_op_error(ctx, IA_EINVAL, "input %d %s does not broadcast to output %s", k,
                           ia_tensor_describe(t, si, sizeof si),
                           ia_tensor_describe(out, so, sizeof so));
    }

    /* Drop size-1 dims, then merge dims contiguous for every operand. */
    int r = 0;
    for (int d = 0; d < R; d++) {
        if (dims[d] == 1) continue;
        if (r > 0) {
            int merge = 1;
            for (int k = 0; k < n_in && merge; k++) merge = j.st[k][r - 1] == st[k][d] * dims[d];
            if (merge) {
                j.dims[r - 1] *= dims[d];
                for (int k = 0; k < n_in; k++) j.st[k][r - 1] = st[k][d];
                continue;
            }
        }
        j.dims[r] = dims[d];
        for (int k = 0; k < n_in; k++) j.st[k][r] = st[k][d];
        r++;
    }
    if (r == 0) {
        j.dims[0] = 1;
        for (int k = 0; k < n_in; k++) j.st[k][0] = 0;
        r = 1;
    }
    j.rank = r;

    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    if (threads > 1 && j.numel >= EW_PAR_MIN) {
        int64_t tasks = (int64_t)threads * 4;
        int64_t per = (int64_t)((j.numel + (uint64_t)tasks - 1) / (uint64_t)tasks);
        per = (per + 63) & ~(int64_t)63; /* whole cache lines per task */
        j.per_task = per;
        tasks = (int64_t)((j.numel + (uint64_t)per - 1) / (uint64_t)per);
        ia_pool_run(ctx->pool, tasks, run_task, &j);
    } else {
        run_range(&j, 0, j.numel);
    }
    return IA_OK;
}

/* ---- shape inference helpers ---------------------------------------------- */

int ew_need_inputs(struct ia_op_ctx *ctx, size_t n_min, size_t n_max) {
    if (ctx->n_inputs < n_min || ctx->n_inputs > n_max)
        return ia_op_error(ctx, IA_EINVAL, "has %zu inputs, expects %zu to %zu", ctx->n_inputs,
                           n_min, n_max);
    for (size_t i = 0; i < n_min; i++)
        if (!ctx->inputs[i]) return ia_op_error(ctx, IA_EINVAL, "required input %zu is missing", i);
    if (ctx->n_outputs < 1 || !ctx->outputs[0]) return ia_op_error(ctx, IA_EINVAL, "has no output");
    return IA_OK;
}

int ew_infer_same(struct ia_op_ctx *ctx, enum ia_dtype dtype) {
    const struct ia_tensor *x = ctx->inputs[0];
    int rc = ia_tensor_set_shape(ctx->outputs[0], dtype, x->rank, x->dims);
    return rc ? ia_op_error(ctx, rc, "%s", ia_error_msg()) : IA_OK;
}

int ew_infer_bcast(struct ia_op_ctx *ctx, size_t n, const struct ia_tensor *const *in,
                   enum ia_dtype dtype) {
    struct ia_tensor acc = *in[0];
    for (size_t i = 1; i < n; i++) {
        int rank;
        int64_t dims[IA_MAX_RANK];
        int rc = ia_broadcast_shapes(ctx, &acc, in[i], &rank, dims);
        if (rc) return rc;
        acc.rank = rank;
        memcpy(acc.dims, dims, sizeof dims);
    }
    int rc = ia_tensor_set_shape(ctx->outputs[0], dtype, acc.rank, acc.dims);
    return rc ? ia_op_error(ctx, rc, "%s", ia_error_msg()) : IA_OK;
}

int ew_bad_dtype(struct ia_op_ctx *ctx, const struct ia_tensor *t) {
    return ia_op_error(ctx, IA_EUNSUPPORTED, "%s input '%s' is not supported",
                       t ? ia_dtype_name(t->dtype) : "undefined", t && t->name ? t->name : "");
}

int ew_binary_args(struct ia_op_ctx *ctx, struct ia_tensor *bview,
                   const struct ia_tensor *args[2]) {
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1];
    args[0] = a;
    args[1] = b;
    if (ctx->opset >= 7 || !ia_attr_int(ctx->node, "broadcast", 0)) return IA_OK;
    int64_t axis = ia_attr_int(ctx->node, "axis", (int64_t)a->rank - b->rank);
    if (axis < 0) axis += a->rank;
    if (axis < 0 || axis + b->rank > a->rank)
        return ia_op_error(ctx, IA_EINVAL,
                           "legacy broadcast axis %lld does not fit rank %d into %d",
                           (long long)axis, b->rank, a->rank);
    *bview = *b;
    bview->rank = a->rank - (int)axis;
    for (int i = b->rank; i < bview->rank; i++) bview->dims[i] = 1;
    args[1] = bview;
    return IA_OK;
}

int ew_binary_infer(struct ia_op_ctx *ctx, const ew_fn *tab, enum ia_dtype out_dtype) {
    int rc = ew_need_inputs(ctx, 2, 2);
    if (rc) return rc;
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1], *args[2];
    if (a->dtype != b->dtype)
        return ia_op_error(ctx, IA_EINVAL, "inputs differ in type: %s and %s",
                           ia_dtype_name(a->dtype), ia_dtype_name(b->dtype));
    if (!ew_pick(tab, a->dtype)) return ew_bad_dtype(ctx, a);
    struct ia_tensor bview;
    rc = ew_binary_args(ctx, &bview, args);
    if (rc) return rc;
    return ew_infer_bcast(ctx, 2, args, out_dtype == IA_DTYPE_UNDEFINED ? a->dtype : out_dtype);
}

int ew_binary_compute(struct ia_op_ctx *ctx, const ew_fn *tab, const struct ew_param *p) {
    const struct ia_tensor *args[2];
    struct ia_tensor bview;
    int rc = ew_binary_args(ctx, &bview, args);
    if (rc) return rc;
    return ew_run(ctx, ctx->outputs[0], 2, args, ew_pick(tab, args[0]->dtype), p);
}
