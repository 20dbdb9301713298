/* Index-driven data movement: Gather, GatherElements, GatherND,
 * ScatterElements (and its older name Scatter), ScatterND. Every index is
 * read as int64, negative ones count from the end where the spec allows,
 * and any index outside its axis is an error, never an out-of-bounds access. */
#include "sh_common.h"

/* Index i of `ind` checked against an axis of size dim (negatives wrap
 * once). */
static int get_index(const struct ia_op_ctx *ctx, const struct ia_tensor *ind, uint64_t i,
                     int64_t dim, int64_t *out) {
    int64_t v = ia_tensor_get_i64(ind, i);
    int64_t w = v < 0 ? v + dim : v;
    if (w < 0 || w >= dim)
        return ia_op_error(ctx, IA_EINVAL, "index %lld is outside [-%lld, %lld)", (long long)v,
                           (long long)dim, (long long)dim);
    *out = w;
    return IA_OK;
}

static int check_index_type(const struct ia_op_ctx *ctx, const struct ia_tensor *ind) {
    if (!ind) return ia_op_error(ctx, IA_EINVAL, "indices are missing");
    if (ind->dtype != IA_DTYPE_INT32 && ind->dtype != IA_DTYPE_INT64)
        return ia_op_error(ctx, IA_EINVAL, "indices must be int32 or int64, not %s",
                           ia_dtype_name(ind->dtype));
    return IA_OK;
}

/* ---- Gather ------------------------------------------------------------- */

static int gather_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1);
    int rc = check_index_type(ctx, ind);
    if (rc) return rc;
    if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "data must have rank >= 1");
    int axis;
    if ((rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), x->rank, &axis))) return rc;
    int r = x->rank - 1 + ind->rank;
    if (r > IA_MAX_RANK) return ia_op_error(ctx, IA_ERANGE, "output rank %d", r);
    int64_t d[IA_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++) d[k++] = x->dims[i];
    for (int i = 0; i < ind->rank; i++) d[k++] = ind->dims[i];
    for (int i = axis + 1; i < x->rank; i++) d[k++] = x->dims[i];
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, r, d);
}

static int gather_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    int axis;
    int rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), x->rank, &axis);
    if (rc) return rc;
    int64_t dim = x->dims[axis];
    uint64_t n = ind->numel;
    /* Check every index once before any copy. */
    for (uint64_t j = 0; j < n; j++) {
        int64_t w = 0;
        if ((rc = get_index(ctx, ind, j, dim, &w))) return rc;
    }
    if (!y->numel) return IA_OK;
    size_t es = sh_esize(x->dtype);
    int64_t outer = 1, inner = (int64_t)es;
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++) inner *= x->dims[i];
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    for (int64_t o = 0; o < outer; o++)
        for (uint64_t j = 0; j < n; j++) {
            int64_t w = ia_tensor_get_i64(ind, j);
            if (w < 0) w += dim;
            memcpy(dst, src + (size_t)((o * dim + w) * inner), (size_t)inner);
            dst += inner;
        }
    return IA_OK;
}

const struct ia_op_def ia_op_Gather = {"", "Gather", 1, 0, gather_infer, gather_compute};

/* ---- GatherElements ----------------------------------------------------- */

static int ge_check(struct ia_op_ctx *ctx, const struct ia_tensor *x, const struct ia_tensor *ind,
                    int *axis) {
    int rc = check_index_type(ctx, ind);
    if (rc) return rc;
    if (x->rank == 0 || ind->rank != x->rank)
        return ia_op_error(ctx, IA_EINVAL, "data and indices must have the same rank >= 1");
    if ((rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", 0), x->rank, axis))) return rc;
    for (int k = 0; k < x->rank; k++)
        if (k != *axis && ind->dims[k] > x->dims[k])
            return ia_op_error(ctx, IA_EINVAL, "indices dim %d (%lld) exceeds data's (%lld)", k,
                               (long long)ind->dims[k], (long long)x->dims[k]);
    return IA_OK;
}

static int ge_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1);
    int axis;
    int rc = ge_check(ctx, x, ind, &axis);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, ind->rank, ind->dims);
}

/* Walks every position of `ind` (same rank as data) and calls back with
 * the flat position in ind and the flat offset in data it addresses. */
typedef int (*elem_fn)(void *u, uint64_t i, uint64_t data_off);

static int walk_elements(struct ia_op_ctx *ctx, const struct ia_tensor *x,
                         const struct ia_tensor *ind, int axis, elem_fn fn, void *u) {
    int r = x->rank;
    int64_t xs[IA_MAX_RANK], idx[IA_MAX_RANK] = {0};
    sh_strides(r, x->dims, 1, xs);
    if (!ind->numel) return IA_OK;
    for (uint64_t i = 0; i < ind->numel; i++) {
        int64_t w = 0;
        int rc = get_index(ctx, ind, i, x->dims[axis], &w);
        if (rc) return rc;
        int64_t off = 0;
        for (int k = 0; k < r; k++) off += (k == axis ? w : idx[k]) * xs[k];
        if ((rc = fn(u, i, (uint64_t)off))) return rc;
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < ind->dims[k]) break;
            idx[k] = 0;
        }
    }
    return IA_OK;
}

struct move {
    const uint8_t *src;
    uint8_t *dst;
    size_t es;
    enum ia_dtype dtype;
    int red;
};

static int ge_one(void *u, uint64_t i, uint64_t off) {
    struct move *m = u;
    memcpy(m->dst + i * m->es, m->src + off * m->es, m->es);
    return IA_OK;
}

static int ge_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1);
    int axis;
    int rc = ge_check(ctx, x, ind, &axis);
    if (rc) return rc;
    struct move m = {sh_src(x), sh_dst(sh_out(ctx, 0)), sh_esize(x->dtype), x->dtype, 0};
    return walk_elements(ctx, x, ind, axis, ge_one, &m);
}

const struct ia_op_def ia_op_GatherElements = {"", "GatherElements", 11, 0, ge_infer, ge_compute};

/* ---- GatherND ----------------------------------------------------------- */

static int gnd_plan(struct ia_op_ctx *ctx, int *out_rank, int64_t *od) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1);
    int rc = check_index_type(ctx, ind);
    if (rc) return rc;
    if (ind->dtype != IA_DTYPE_INT64 && ind->dtype != IA_DTYPE_INT32)
        return ia_op_error(ctx, IA_EINVAL, "indices must be int64");
    int64_t b = ia_attr_int(ctx->node, "batch_dims", 0);
    if (x->rank < 1 || ind->rank < 1) return ia_op_error(ctx, IA_EINVAL, "rank must be >= 1");
    if (b < 0 || b >= x->rank || b >= ind->rank)
        return ia_op_error(ctx, IA_EINVAL, "batch_dims %lld", (long long)b);
    int64_t m = ind->dims[ind->rank - 1];
    if (m < 1 || m > x->rank - b)
        return ia_op_error(ctx, IA_EINVAL, "index tuples of %lld for data rank %d", (long long)m,
                           x->rank);
    for (int k = 0; k < b; k++)
        if (x->dims[k] != ind->dims[k])
            return ia_op_error(ctx, IA_EINVAL, "batch dim %d differs", k);
    int r = 0;
    for (int k = 0; k < ind->rank - 1; k++) od[r++] = ind->dims[k];
    for (int k = (int)(b + m); k < x->rank; k++) {
        if (r >= IA_MAX_RANK) return ia_op_error(ctx, IA_ERANGE, "output rank too big");
        od[r++] = x->dims[k];
    }
    *out_rank = r;
    return IA_OK;
}

static int gnd_infer(struct ia_op_ctx *ctx) {
    int r = 0;
    int64_t d[IA_MAX_RANK];
    int rc = gnd_plan(ctx, &r, d);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 0)->dtype, r, d);
}

/* Shared by GatherND and ScatterND: for tuple t (of `m` indices starting at
 * `first` in ind) the element offset into data, checked per axis. */
static int nd_offset(const struct ia_op_ctx *ctx, const struct ia_tensor *ind, uint64_t first,
                     int64_t m, const struct ia_tensor *x, int axis0, const int64_t *xs,
                     int64_t *off) {
    int64_t o = 0;
    for (int64_t j = 0; j < m; j++) {
        int64_t w = 0;
        int rc = get_index(ctx, ind, first + (uint64_t)j, x->dims[axis0 + j], &w);
        if (rc) return rc;
        o += w * xs[axis0 + j];
    }
    *off = o;
    return IA_OK;
}

static int gnd_compute(struct ia_op_ctx *ctx) {
    int r = 0;
    int64_t d[IA_MAX_RANK];
    int rc = gnd_plan(ctx, &r, d);
    if (rc) return rc;
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    if (!y->numel) return IA_OK;
    int b = (int)ia_attr_int(ctx->node, "batch_dims", 0);
    int64_t m = ind->dims[ind->rank - 1];
    size_t es = sh_esize(x->dtype);
    int64_t xs[IA_MAX_RANK];
    sh_strides(x->rank, x->dims, 1, xs);
    int64_t batches = 1, per_batch = 1, slice = 1;
    for (int k = 0; k < b; k++) batches *= x->dims[k];
    for (int k = b; k < ind->rank - 1; k++) per_batch *= ind->dims[k];
    for (int k = (int)(b + m); k < x->rank; k++) slice *= x->dims[k];
    int64_t batch_stride = b > 0 ? xs[b - 1] : 0;
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    for (int64_t bi = 0; bi < batches; bi++)
        for (int64_t t = 0; t < per_batch; t++) {
            int64_t off;
            uint64_t first = (uint64_t)((bi * per_batch + t) * m);
            if ((rc = nd_offset(ctx, ind, first, m, x, b, xs, &off))) return rc;
            off += bi * batch_stride;
            sh_memcpy(dst, src + (size_t)off * es, (size_t)slice * es);
            dst += (size_t)slice * es;
        }
    return IA_OK;
}

const struct ia_op_def ia_op_GatherND = {"", "GatherND", 11, 0, gnd_infer, gnd_compute};

/* ---- Scatter reductions ------------------------------------------------- */

enum red { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static int read_reduction(struct ia_op_ctx *ctx, int *red) {
    char buf[16];
    const char *s = ia_attr_string(ctx->node, "reduction", buf, sizeof buf, "none");
    if (!strcmp(s, "none"))
        *red = RED_NONE;
    else if (!strcmp(s, "add"))
        *red = RED_ADD;
    else if (!strcmp(s, "mul"))
        *red = RED_MUL;
    else if (!strcmp(s, "max"))
        *red = RED_MAX;
    else if (!strcmp(s, "min"))
        *red = RED_MIN;
    else
        return ia_op_error(ctx, IA_EINVAL, "unknown reduction '%s'", s);
    return IA_OK;
}

#define RED_APPLY(T)                                                                               \
    do {                                                                                           \
        T a, b;                                                                                    \
        memcpy(&a, d, sizeof a);                                                                   \
        memcpy(&b, s, sizeof b);                                                                   \
        a = red == RED_ADD   ? (T)(a + b)                                                          \
            : red == RED_MUL ? (T)(a * b)                                                          \
            : red == RED_MAX ? (a > b ? a : b)                                                     \
                             : (a < b ? a : b);                                                    \
        memcpy(d, &a, sizeof a);                                                                   \
    } while (0)

/* d = d (op) s for one element. Integers wrap like the reference's numpy. */
static void reduce_into(uint8_t *d, const uint8_t *s, enum ia_dtype t, int red, size_t es) {
    if (red == RED_NONE) {
        memcpy(d, s, es);
        return;
    }
    switch (t) {
    case IA_DTYPE_FLOAT32:
        RED_APPLY(float);
        break;
    case IA_DTYPE_FLOAT64:
        RED_APPLY(double);
        break;
    case IA_DTYPE_INT32:
    case IA_DTYPE_UINT32: {
        if (red == RED_ADD || red == RED_MUL)
            RED_APPLY(uint32_t);
        else if (t == IA_DTYPE_INT32)
            RED_APPLY(int32_t);
        else
            RED_APPLY(uint32_t);
        break;
    }
    case IA_DTYPE_INT64:
    case IA_DTYPE_UINT64: {
        if (red == RED_ADD || red == RED_MUL)
            RED_APPLY(uint64_t);
        else if (t == IA_DTYPE_INT64)
            RED_APPLY(int64_t);
        else
            RED_APPLY(uint64_t);
        break;
    }
    default: {
        double a = sh_get_f64(d, t, 0), b = sh_get_f64(s, t, 0);
        a = red == RED_ADD   ? a + b
            : red == RED_MUL ? a * b
            : red == RED_MAX ? (a > b ? a : b)
                             : (a < b ? a : b);
        sh_set_f64(d, t, 0, a);
        break;
    }
    }
}

/* ---- ScatterElements / Scatter ------------------------------------------- */

static int se_one(void *u, uint64_t i, uint64_t off) {
    struct move *m = u;
    reduce_into(m->dst + off * m->es, m->src + i * m->es, m->dtype, m->red, m->es);
    return IA_OK;
}

static int se_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1), *upd = sh_in(ctx, 2);
    struct ia_tensor *y = sh_out(ctx, 0);
    int axis, red;
    int rc = ge_check(ctx, x, ind, &axis);
    if (rc) return rc;
    if ((rc = read_reduction(ctx, &red))) return rc;
    if (!upd || !ia_tensor_same_shape(upd, ind) || upd->dtype != x->dtype)
        return ia_op_error(ctx, IA_EINVAL, "updates must match indices in shape and data in type");
    if (red != RED_NONE && !sh_is_numeric(x->dtype))
        return ia_op_error(ctx, IA_EINVAL, "reduction on %s", ia_dtype_name(x->dtype));
    sh_copy_all(y, x);
    struct move m = {sh_src(upd), y->data, sh_esize(x->dtype), x->dtype, red};
    return walk_elements(ctx, x, ind, axis, se_one, &m);
}

const struct ia_op_def ia_op_ScatterElements = {"", "ScatterElements",   11,
                                                0,  sh_same_shape_infer, se_compute};
/* Scatter (opsets 9-10) is ScatterElements without reduction. */
const struct ia_op_def ia_op_Scatter = {"", "Scatter", 9, 0, sh_same_shape_infer, se_compute};

/* ---- ScatterND ---------------------------------------------------------- */

static int snd_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *ind = sh_in(ctx, 1), *upd = sh_in(ctx, 2);
    struct ia_tensor *y = sh_out(ctx, 0);
    int red;
    int rc = check_index_type(ctx, ind);
    if (rc) return rc;
    if ((rc = read_reduction(ctx, &red))) return rc;
    if (x->rank < 1 || ind->rank < 1) return ia_op_error(ctx, IA_EINVAL, "rank must be >= 1");
    int64_t m = ind->dims[ind->rank - 1];
    if (m < 1 || m > x->rank)
        return ia_op_error(ctx, IA_EINVAL, "index tuples of %lld for data rank %d", (long long)m,
                           x->rank);
    /* updates: indices.shape[:-1] + data.shape[m:] */
    int ur = ind->rank - 1 + x->rank - (int)m;
    int ok = upd && upd->rank == ur && upd->dtype == x->dtype;
    for (int k = 0; ok && k < ur; k++)
        ok = upd->dims[k] == (k < ind->rank - 1 ? ind->dims[k] : x->dims[m + k - (ind->rank - 1)]);
    if (!ok)
        return ia_op_error(ctx, IA_EINVAL, "updates do not have the shape indices and data imply");
    if (red != RED_NONE && !sh_is_numeric(x->dtype))
        return ia_op_error(ctx, IA_EINVAL, "reduction on %s", ia_dtype_name(x->dtype));
    sh_copy_all(y, x);
    if (!x->numel) return IA_OK; /* nothing to write into */
    size_t es = sh_esize(x->dtype);
    int64_t xs[IA_MAX_RANK], slice = 1, n = 1;
    sh_strides(x->rank, x->dims, 1, xs);
    for (int k = (int)m; k < x->rank; k++) slice *= x->dims[k];
    for (int k = 0; k < ind->rank - 1; k++) n *= ind->dims[k];
    const uint8_t *src = sh_src(upd);
    uint8_t *dst = y->data;
    for (int64_t t = 0; t < n; t++) {
        int64_t off;
        if ((rc = nd_offset(ctx, ind, (uint64_t)(t * m), m, x, 0, xs, &off))) return rc;
        const uint8_t *s = src + (size_t)(t * slice) * es;
        uint8_t *d = dst + (size_t)off * es;
        if (red == RED_NONE)
            sh_memcpy(d, s, (size_t)slice * es);
        else
            for (int64_t j = 0; j < slice; j++)
                reduce_into(d + j * es, s + j * es, x->dtype, red, es);
    }
    return IA_OK;
}

const struct ia_op_def ia_op_ScatterND = {"", "ScatterND", 11, 0, sh_same_shape_infer, snd_compute};
