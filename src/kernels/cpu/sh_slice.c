/* Ops that cut tensors apart or join them: Concat, Split, Slice, Pad.
 * Every dtype is moved by element size. */
#include "sh_common.h"

/* ---- Concat ------------------------------------------------------------- */

static int concat_plan(struct ia_op_ctx *ctx, int *axis_out, int64_t *dims) {
    const struct ia_tensor *x0 = sh_in(ctx, 0);
    if (!x0) return ia_op_error(ctx, IA_EINVAL, "needs at least one input");
    if (x0->rank == 0) return ia_op_error(ctx, IA_EINVAL, "cannot concatenate scalars");
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "axis");
    int axis;
    int rc = ia_norm_axis(ctx, a ? a->i : 0, x0->rank, &axis);
    if (rc) return rc;
    memcpy(dims, x0->dims, sizeof x0->dims[0] * (size_t)x0->rank);
    dims[axis] = 0;
    for (size_t i = 0; i < ctx->n_inputs; i++) {
        const struct ia_tensor *x = ctx->inputs[i];
        if (!x) return ia_op_error(ctx, IA_EINVAL, "input %zu is missing", i);
        if (x->dtype != x0->dtype || x->rank != x0->rank)
            return ia_op_error(ctx, IA_EINVAL, "input %zu differs in type or rank", i);
        for (int k = 0; k < x->rank; k++)
            if (k != axis && x->dims[k] != x0->dims[k])
                return ia_op_error(ctx, IA_EINVAL, "input %zu has dim %d = %lld, not %lld", i, k,
                                   (long long)x->dims[k], (long long)x0->dims[k]);
        dims[axis] += x->dims[axis];
    }
    *axis_out = axis;
    return IA_OK;
}

static int concat_infer(struct ia_op_ctx *ctx) {
    int axis;
    int64_t d[IA_MAX_RANK];
    int rc = concat_plan(ctx, &axis, d);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 0)->dtype, sh_in(ctx, 0)->rank, d);
}

/* Copying is bound by one core's memory bandwidth, so a big Concat (a
 * decode step's KV cache: 12 heads x 128 keys x 64 per layer, twice) is
 * split over the pool by rows of the outer dims. */
#define CONCAT_PAR_BYTES ((uint64_t)256 << 10)

struct concat_job {
    struct ia_op_ctx *ctx;
    uint8_t *dst;
    size_t out_row, inner;
    int axis;
};

/* Row o of every input into row o of the output. */
static void concat_row(void *u, int64_t o, int thread) {
    const struct concat_job *j = u;
    (void)thread;
    size_t at = 0;
    for (size_t i = 0; i < j->ctx->n_inputs; i++) {
        const struct ia_tensor *x = j->ctx->inputs[i];
        size_t chunk = (size_t)x->dims[j->axis] * j->inner;
        if (chunk)
            memcpy(j->dst + (size_t)o * j->out_row + at,
                   (const uint8_t *)sh_src(x) + (size_t)o * chunk, chunk);
        at += chunk;
    }
}

static int concat_compute(struct ia_op_ctx *ctx) {
    int axis;
    int64_t d[IA_MAX_RANK];
    int rc = concat_plan(ctx, &axis, d);
    if (rc) return rc;
    struct ia_tensor *y = sh_out(ctx, 0);
    if (!y->numel) return IA_OK;
    size_t es = sh_esize(y->dtype);
    int64_t outer = 1, inner = (int64_t)es;
    for (int k = 0; k < axis; k++) outer *= d[k];
    for (int k = axis + 1; k < y->rank; k++) inner *= d[k];
    uint8_t *dst = sh_dst(y);
    size_t out_row = (size_t)(d[axis] * inner);
    if (ctx->pool && outer >= 2 && (uint64_t)y->nbytes >= CONCAT_PAR_BYTES &&
        y->dtype != IA_DTYPE_STRING) {
        struct concat_job j = {ctx, dst, out_row, (size_t)inner, axis};
        ia_pool_run(ctx->pool, outer, concat_row, &j);
        return IA_OK;
    }
    size_t at = 0;
    for (size_t i = 0; i < ctx->n_inputs; i++) {
        const struct ia_tensor *x = ctx->inputs[i];
        const uint8_t *src = sh_src(x);
        size_t chunk = (size_t)(x->dims[axis] * inner);
        if (!chunk) continue;
        for (int64_t o = 0; o < outer; o++)
            memcpy(dst + (size_t)o * out_row + at, src + (size_t)o * chunk, chunk);
        at += chunk;
    }
    return IA_OK;
}

const struct ia_op_def ia_op_Concat = {"", "Concat", 4, 0, concat_infer, concat_compute};

/* ---- Split -------------------------------------------------------------- */

#define SPLIT_MAX_OUTPUTS 64

/* The size along the axis of each output. */
static int split_plan(struct ia_op_ctx *ctx, int *axis_out, int64_t sizes[SPLIT_MAX_OUTPUTS]) {
    if (ctx->n_outputs > SPLIT_MAX_OUTPUTS)
        return ia_op_error(ctx, IA_ERANGE, "%zu outputs is too many", ctx->n_outputs);
    const struct ia_tensor *x = sh_in(ctx, 0);
    int axis;
    int rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), x->rank, &axis);
    if (rc) return rc;
    if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "cannot split a scalar");
    size_t n_out = ctx->n_outputs, n = 0;
    if (n_out == 0) return ia_op_error(ctx, IA_EINVAL, "no outputs");
    const int64_t *a = NULL;
    if (ctx->opset < 13) {
        n = ia_attr_ints(ctx->node, "split", &a);
        if (a && n != n_out)
            return ia_op_error(ctx, IA_EINVAL, "split has %zu sizes for %zu outputs", n, n_out);
        if (a) memcpy(sizes, a, n * sizeof *a);
    } else if (sh_in(ctx, 1)) {
        const struct ia_tensor *s = sh_in(ctx, 1);
        if (s->numel != n_out)
            return ia_op_error(ctx, IA_EINVAL, "split has %llu sizes for %zu outputs",
                               (unsigned long long)s->numel, n_out);
        rc = sh_read_i64s(ctx, s, "split", sizes, n_out, &n);
        if (rc) return rc;
        a = sizes;
    }
    int64_t dim = x->dims[axis];
    if (a) {
        int64_t sum = 0;
        for (size_t i = 0; i < n_out; i++) {
            if (sizes[i] < 0 || sizes[i] > dim)
                return ia_op_error(ctx, IA_EINVAL, "split[%zu] = %lld", i, (long long)sizes[i]);
            sum += sizes[i];
        }
        if (sum != dim)
            return ia_op_error(ctx, IA_EINVAL, "split sizes add up to %lld, not the dim %lld",
                               (long long)sum, (long long)dim);
    } else {
        int64_t k = (int64_t)n_out;
        if (dim % k && !ia_attr_find(ctx->node, "num_outputs"))
            return ia_op_error(ctx, IA_EINVAL, "dim %lld does not split into %lld equal parts",
                               (long long)dim, (long long)k);
        /* Opset 18: uneven splits give every part ceil(dim/k), the last less. */
        int64_t part = (dim + k - 1) / k, left = dim;
        for (size_t i = 0; i < n_out; i++) {
            sizes[i] = left < part ? left : part;
            left -= sizes[i];
        }
    }
    *axis_out = axis;
    return IA_OK;
}

static int split_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int axis;
    int64_t sizes[SPLIT_MAX_OUTPUTS] = {0};
    int rc = split_plan(ctx, &axis, sizes);
    if (rc) return rc;
    for (size_t i = 0; i < ctx->n_outputs; i++) {
        struct ia_tensor *y = ctx->outputs[i];
        if (!y) continue;
        int64_t d[IA_MAX_RANK];
        memcpy(d, x->dims, sizeof d[0] * (size_t)x->rank);
        d[axis] = sizes[i];
        rc = ia_tensor_set_shape(y, x->dtype, x->rank, d);
        if (rc) return rc;
    }
    return IA_OK;
}

static int split_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int axis;
    int64_t sizes[SPLIT_MAX_OUTPUTS] = {0};
    int rc = split_plan(ctx, &axis, sizes);
    if (rc) return rc;
    if (!x->numel) return IA_OK;
    size_t es = sh_esize(x->dtype);
    int64_t outer = 1, inner = (int64_t)es;
    for (int k = 0; k < axis; k++) outer *= x->dims[k];
    for (int k = axis + 1; k < x->rank; k++) inner *= x->dims[k];
    const uint8_t *src = sh_src(x);
    size_t in_row = (size_t)(x->dims[axis] * inner), at = 0;
    for (size_t i = 0; i < ctx->n_outputs; i++) {
        size_t chunk = (size_t)(sizes[i] * inner);
        struct ia_tensor *y = ctx->outputs[i];
        if (y && chunk) {
            /* outer rows of chunk bytes, split over the pool when big */
            int64_t dims[2] = {outer, (int64_t)(chunk / es)}, st[2] = {(int64_t)in_row, (int64_t)es};
            sh_copy_strided_pool(ctx->pool, sh_dst(y), src + at, es, 2, dims, st);
        }
        at += chunk;
    }
    return IA_OK;
}

const struct ia_op_def ia_op_Split = {"", "Split", 2, 0, split_infer, split_compute};

/* ---- Slice -------------------------------------------------------------- */

struct slice_plan {
    int64_t dims[IA_MAX_RANK];  /* output */
    int64_t start[IA_MAX_RANK]; /* first source index per axis */
    int64_t step[IA_MAX_RANK];
};

static int slice_plan(struct ia_op_ctx *ctx, struct slice_plan *p) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int r = x->rank;
    int64_t starts[IA_MAX_RANK], ends[IA_MAX_RANK], axes[IA_MAX_RANK], steps[IA_MAX_RANK];
    size_t ns, ne, na = 0, nst = 0;
    int have_axes = 0, have_steps = 0, rc;
    if (ctx->opset < 10) {
        const int64_t *a;
        ns = ia_attr_ints(ctx->node, "starts", &a);
        if (!a || ns > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "bad starts attribute");
        memcpy(starts, a, ns * sizeof *a);
        ne = ia_attr_ints(ctx->node, "ends", &a);
        if (!a || ne > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "bad ends attribute");
        memcpy(ends, a, ne * sizeof *a);
        na = ia_attr_ints(ctx->node, "axes", &a);
        if (a) {
            if (na > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "bad axes attribute");
            memcpy(axes, a, na * sizeof *a);
            have_axes = 1;
        }
    } else {
        if (!sh_in(ctx, 1) || !sh_in(ctx, 2))
            return ia_op_error(ctx, IA_EINVAL, "needs starts and ends inputs");
        if ((rc = sh_read_i64s(ctx, sh_in(ctx, 1), "starts", starts, IA_MAX_RANK, &ns))) return rc;
        if ((rc = sh_read_i64s(ctx, sh_in(ctx, 2), "ends", ends, IA_MAX_RANK, &ne))) return rc;
        if (sh_in(ctx, 3)) {
            if ((rc = sh_read_i64s(ctx, sh_in(ctx, 3), "axes", axes, IA_MAX_RANK, &na))) return rc;
            have_axes = 1;
        }
        if (sh_in(ctx, 4)) {
            if ((rc = sh_read_i64s(ctx, sh_in(ctx, 4), "steps", steps, IA_MAX_RANK, &nst)))
                return rc;
            have_steps = 1;
        }
    }
    if (ne != ns || (have_axes && na != ns) || (have_steps && nst != ns))
        return ia_op_error(ctx, IA_EINVAL, "starts, ends, axes and steps differ in length");
    if (!have_axes) {
        if ((int)ns > r) return ia_op_error(ctx, IA_EINVAL, "%zu starts for rank %d", ns, r);
        for (size_t i = 0; i < ns; i++) axes[i] = (int64_t)i;
    }
    for (int k = 0; k < r; k++) {
        p->dims[k] = x->dims[k];
        p->start[k] = 0;
        p->step[k] = 1;
    }
    unsigned seen = 0;
    for (size_t i = 0; i < ns; i++) {
        int64_t a = axes[i];
        if (a < -(int64_t)r || a >= r)
            return ia_op_error(ctx, IA_EINVAL, "axis %lld is outside rank %d", (long long)a, r);
        int ax = (int)(a < 0 ? a + r : a);
        if (seen & (1u << ax)) return ia_op_error(ctx, IA_EINVAL, "axis %d repeated", ax);
        seen |= 1u << ax;
        int64_t dim = x->dims[ax], st = have_steps ? steps[i] : 1, s = starts[i], e = ends[i];
        if (st == 0) return ia_op_error(ctx, IA_EINVAL, "step 0 on axis %d", ax);
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        if (st > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
        } else {
            s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        }
        /* Unsigned step magnitude: a step of INT64_MIN must not overflow. */
        uint64_t mag = st > 0 ? (uint64_t)st : (uint64_t)0 - (uint64_t)st;
        int64_t len;
        if (st > 0)
            len = e > s ? (int64_t)((uint64_t)(e - s - 1) / mag) + 1 : 0;
        else
            len = s > e ? (int64_t)((uint64_t)(s - e - 1) / mag) + 1 : 0;
        p->dims[ax] = len;
        p->start[ax] = s;
        p->step[ax] = len > 1 ? st : 1; /* a huge step over one element: no stride product */
    }
    return IA_OK;
}

static int slice_infer(struct ia_op_ctx *ctx) {
    struct slice_plan p;
    int rc = slice_plan(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *x = sh_in(ctx, 0);
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, p.dims);
}

static int slice_compute(struct ia_op_ctx *ctx) {
    struct slice_plan p;
    int rc = slice_plan(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    if (!y->numel) return IA_OK;
    size_t es = sh_esize(x->dtype);
    int64_t xs[IA_MAX_RANK], st[IA_MAX_RANK], off = 0;
    sh_strides(x->rank, x->dims, es, xs);
    for (int k = 0; k < x->rank; k++) {
        off += p.start[k] * xs[k];
        st[k] = p.step[k] * xs[k];
    }
    sh_copy_strided_pool(ctx->pool, sh_dst(y), (const uint8_t *)sh_src(x) + off, es, x->rank,
                         p.dims, st);
    return IA_OK;
}

const struct ia_op_def ia_op_Slice = {"", "Slice", 1, 0, slice_infer, slice_compute};

/* ---- Pad ---------------------------------------------------------------- */

enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

struct pad_plan {
    enum pad_mode mode;
    int64_t begin[IA_MAX_RANK], dims[IA_MAX_RANK];
};

static int pad_plan(struct ia_op_ctx *ctx, struct pad_plan *p) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int r = x->rank, rc;
    char buf[16];
    const char *mode = ia_attr_string(ctx->node, "mode", buf, sizeof buf, "constant");
    if (!strcmp(mode, "constant"))
        p->mode = PAD_CONSTANT;
    else if (!strcmp(mode, "reflect"))
        p->mode = PAD_REFLECT;
    else if (!strcmp(mode, "edge"))
        p->mode = PAD_EDGE;
    else if (!strcmp(mode, "wrap"))
        p->mode = PAD_WRAP;
    else
        return ia_op_error(ctx, IA_EINVAL, "unknown mode '%s'", mode);
    int64_t pads[2 * IA_MAX_RANK], axes[IA_MAX_RANK];
    size_t np, na;
    if (ctx->opset < 11) {
        const int64_t *a;
        np = ia_attr_ints(ctx->node, "pads", &a);
        if (!a || np > 2 * IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "bad pads attribute");
        memcpy(pads, a, np * sizeof *a);
    } else {
        if (!sh_in(ctx, 1)) return ia_op_error(ctx, IA_EINVAL, "needs a pads input");
        if ((rc = sh_read_i64s(ctx, sh_in(ctx, 1), "pads", pads, 2 * IA_MAX_RANK, &np))) return rc;
    }
    if (sh_in(ctx, 3)) {
        if ((rc = sh_read_i64s(ctx, sh_in(ctx, 3), "axes", axes, IA_MAX_RANK, &na))) return rc;
    } else {
        na = (size_t)r;
        for (int k = 0; k < r; k++) axes[k] = k;
    }
    if (np != 2 * na) return ia_op_error(ctx, IA_EINVAL, "%zu pads for %zu axes", np, na);
    for (int k = 0; k < r; k++) {
        p->begin[k] = 0;
        p->dims[k] = x->dims[k];
    }
    unsigned seen = 0;
    for (size_t i = 0; i < na; i++) {
        int64_t a = axes[i];
        if (a < -(int64_t)r || a >= r)
            return ia_op_error(ctx, IA_EINVAL, "axis %lld is outside rank %d", (long long)a, r);
        int ax = (int)(a < 0 ? a + r : a);
        if (seen & (1u << ax)) return ia_op_error(ctx, IA_EINVAL, "axis %d repeated", ax);
        seen |= 1u << ax;
        int64_t b = pads[i], e = pads[i + na], d = x->dims[ax];
        if (b < -d || e < -d || b > ((int64_t)1 << 40) || e > ((int64_t)1 << 40) || d + b + e < 0)
            return ia_op_error(ctx, IA_EINVAL, "pads %lld,%lld on axis %d of size %lld",
                               (long long)b, (long long)e, ax, (long long)d);
        if (p->mode != PAD_CONSTANT && d == 0 && (b > 0 || e > 0))
            return ia_op_error(ctx, IA_EINVAL, "cannot %s-pad the empty axis %d", mode, ax);
        p->begin[ax] = b;
        p->dims[ax] = d + b + e;
    }
    return IA_OK;
}

static int pad_infer(struct ia_op_ctx *ctx) {
    struct pad_plan p;
    int rc = pad_plan(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *x = sh_in(ctx, 0);
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, p.dims);
}

/* Source index for output index i along an axis of size d, or -1 for the
 * constant value. */
static int64_t pad_src(enum pad_mode m, int64_t i, int64_t d) {
    if (i >= 0 && i < d) return i;
    switch (m) {
    case PAD_CONSTANT:
        return -1;
    case PAD_EDGE:
        return i < 0 ? 0 : d - 1;
    case PAD_WRAP:
        return ((i % d) + d) % d;
    case PAD_REFLECT: {
        if (d == 1) return 0;
        int64_t period = 2 * (d - 1), j = ((i % period) + period) % period;
        return j < d ? j : period - j;
    }
    }
    return -1;
}

static int pad_compute(struct ia_op_ctx *ctx) {
    struct pad_plan p;
    int rc = pad_plan(ctx, &p);
    if (rc) return rc;
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    size_t es = sh_esize(x->dtype);
    uint8_t cval[16] = {0};
    if (ctx->opset < 11) {
        if (sh_is_numeric(x->dtype))
            sh_set_f64(cval, x->dtype, 0, ia_attr_float(ctx->node, "value", 0.0f));
    } else if (sh_in(ctx, 2) && sh_in(ctx, 2)->numel) {
        const struct ia_tensor *c = sh_in(ctx, 2);
        if (c->dtype != x->dtype)
            return ia_op_error(ctx, IA_EINVAL, "constant_value is %s, data is %s",
                               ia_dtype_name(c->dtype), ia_dtype_name(x->dtype));
        memcpy(cval, sh_src(c), es);
    }
    if (!y->numel) return IA_OK;
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    int r = x->rank;
    if (r == 0) {
        memcpy(dst, src, es);
        return IA_OK;
    }
    int64_t xs[IA_MAX_RANK], idx[IA_MAX_RANK] = {0};
    sh_strides(r, x->dims, es, xs);
    int64_t W = p.dims[r - 1], d = x->dims[r - 1], b = p.begin[r - 1];
    /* The run of the last axis that maps straight onto the source. */
    int64_t lo = b > 0 ? b : 0, hi = b + d < W ? b + d : W;
    for (;;) {
        int64_t off = 0;
        int outside = 0;
        for (int k = 0; k < r - 1; k++) {
            int64_t s = pad_src(p.mode, idx[k] - p.begin[k], x->dims[k]);
            if (s < 0) {
                outside = 1;
                break;
            }
            off += s * xs[k];
        }
        if (outside) {
            for (int64_t j = 0; j < W; j++) memcpy(dst + (size_t)j * es, cval, es);
        } else {
            const uint8_t *row = src + off;
            for (int64_t j = 0; j < lo && j < W; j++) {
                int64_t s = pad_src(p.mode, j - b, d);
                memcpy(dst + (size_t)j * es, s < 0 ? cval : row + (size_t)s * es, es);
            }
            if (hi > lo)
                memcpy(dst + (size_t)lo * es, row + (size_t)(lo - b) * es, (size_t)(hi - lo) * es);
            for (int64_t j = hi > lo ? hi : lo; j < W; j++) {
                int64_t s = pad_src(p.mode, j - b, d);
                memcpy(dst + (size_t)j * es, s < 0 ? cval : row + (size_t)s * es, es);
            }
        }
        dst += (size_t)W * es;
        int k = r - 2;
        for (; k >= 0; k--) {
            if (++idx[k] < p.dims[k]) break;
            idx[k] = 0;
        }
        if (k < 0) break;
    }
    return IA_OK;
}

const struct ia_op_def ia_op_Pad = {"", "Pad", 2, 0, pad_infer, pad_compute};
