/* Ops that pick elements by value, so their output shape depends on the
 * data: NonZero, Compress, Unique; and TopK, whose k is data. Infer returns
 * IA_EAGAIN until the values are known. */
#include "sh_common.h"

#include <math.h>

/* ---- a stable merge sort of indices --------------------------------------- */

typedef int (*idx_cmp)(const void *u, int64_t a, int64_t b);

/* Sorts idx[0..n) by cmp, keeping equal keys in their input order; tmp
 * holds n entries. */
static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n, idx_cmp cmp, const void *u) {
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = cmp(u, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

/* ---- NonZero ------------------------------------------------------------ */

static int is_nonzero(const struct ia_tensor *x, uint64_t i) {
    if (x->dtype == IA_DTYPE_STRING) {
        const struct ia_onnx_bytes *s = sh_src(x);
        return s[i].len != 0;
    }
    return sh_get_f64(x->data, x->dtype, i) != 0;
}

static int nonzero_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (!sh_src(x) && x->numel) return IA_EAGAIN;
    int64_t nnz = 0;
    for (uint64_t i = 0; i < x->numel; i++) nnz += is_nonzero(x, i);
    int64_t d[2] = {x->rank ? x->rank : 1, nnz};
    return ia_tensor_set_shape(sh_out(ctx, 0), IA_DTYPE_INT64, 2, d);
}

static int nonzero_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    int r = x->rank;
    int64_t nnz = y->dims[1], k = 0, idx[IA_MAX_RANK] = {0};
    int64_t *out = y->data;
    for (uint64_t i = 0; i < x->numel; i++) {
        if (is_nonzero(x, i)) {
            if (k >= nnz) return ia_op_error(ctx, IA_EINTERNAL, "count changed");
            for (int j = 0; j < r; j++) out[j * nnz + k] = idx[j];
            if (r == 0) out[k] = 0;
            k++;
        }
        for (int j = r - 1; j >= 0; j--) {
            if (++idx[j] < x->dims[j]) break;
            idx[j] = 0;
        }
    }
    return IA_OK;
}

const struct ia_op_def ia_op_NonZero = {"", "NonZero", 9, 0, nonzero_infer, nonzero_compute};

/* ---- Compress ----------------------------------------------------------- */

static int compress_plan(struct ia_op_ctx *ctx, int *axis, int64_t *kept) {
    const struct ia_tensor *x = sh_in(ctx, 0), *c = sh_in(ctx, 1);
    if (!c) return ia_op_error(ctx, IA_EINVAL, "needs a condition");
    if (c->rank != 1) return ia_op_error(ctx, IA_EINVAL, "condition must be 1D");
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "axis");
    int64_t dim = (int64_t)x->numel;
    *axis = -1;
    if (a) {
        int rc = ia_norm_axis(ctx, a->i, x->rank, axis);
        if (rc) return rc;
        if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "axis on a scalar");
        dim = x->dims[*axis];
    }
    if (!c->data && c->numel) return IA_EAGAIN;
    int64_t n = 0;
    for (uint64_t i = 0; i < c->numel; i++) {
        if (!ia_tensor_get_i64(c, i)) continue;
        if ((int64_t)i >= dim)
            return ia_op_error(ctx, IA_EINVAL, "condition selects index %llu past the axis (%lld)",
                               (unsigned long long)i, (long long)dim);
        n++;
    }
    *kept = n;
    return IA_OK;
}

static int compress_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int axis;
    int64_t n, d[IA_MAX_RANK];
    int rc = compress_plan(ctx, &axis, &n);
    if (rc) return rc;
    if (axis < 0) return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, 1, &n);
    memcpy(d, x->dims, sizeof d[0] * (size_t)x->rank);
    d[axis] = n;
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, d);
}

static int compress_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *c = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    int axis;
    int64_t n;
    int rc = compress_plan(ctx, &axis, &n);
    if (rc) return rc;
    if (!y->numel) return IA_OK;
    size_t es = sh_esize(x->dtype);
    int64_t outer = 1, inner = (int64_t)es, dim = (int64_t)x->numel;
    if (axis >= 0) {
        dim = x->dims[axis];
        for (int k = 0; k < axis; k++) outer *= x->dims[k];
        for (int k = axis + 1; k < x->rank; k++) inner *= x->dims[k];
    }
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    int64_t lim = (int64_t)c->numel < dim ? (int64_t)c->numel : dim;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < lim; j++)
            if (ia_tensor_get_i64(c, (uint64_t)j)) {
                memcpy(dst, src + (size_t)((o * dim + j) * inner), (size_t)inner);
                dst += inner;
            }
    return IA_OK;
}

const struct ia_op_def ia_op_Compress = {"", "Compress", 9, 0, compress_infer, compress_compute};

/* ---- TopK --------------------------------------------------------------- */

struct topk_keys {
    const void *data;
    enum ia_dtype t;
    int largest;
    int as_int;
};

/* Larger (or smaller) first; NaN counts as the largest value, as numpy
 * sorts it last. Equal keys keep index order through the stable sort. */
static int topk_cmp(const void *u, int64_t a, int64_t b) {
    const struct topk_keys *k = u;
    int c;
    if (k->as_int) {
        int64_t x, y;
        if (k->t == IA_DTYPE_INT64) {
            x = ((const int64_t *)k->data)[a];
            y = ((const int64_t *)k->data)[b];
        } else {
            x = (int64_t)sh_get_f64(k->data, k->t, (uint64_t)a);
            y = (int64_t)sh_get_f64(k->data, k->t, (uint64_t)b);
        }
        c = x < y ? -1 : x > y;
    } else {
        double x = sh_get_f64(k->data, k->t, (uint64_t)a),
               y = sh_get_f64(k->data, k->t, (uint64_t)b);
        int xn = x != x, yn = y != y;
        c = xn || yn ? xn - yn : x < y ? -1 : x > y;
    }
    return k->largest ? -c : c;
}

static int topk_plan(struct ia_op_ctx *ctx, int *axis, int64_t *k) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "input must have rank >= 1");
    int rc = ia_norm_axis(ctx, ia_attr_int(ctx->node, "axis", -1), x->rank, axis);
    if (rc) return rc;
    if (ctx->opset < 10) {
        *k = ia_attr_int(ctx->node, "k", -1);
    } else {
        const struct ia_tensor *kt = sh_in(ctx, 1);
        if (!kt || kt->numel != 1) return ia_op_error(ctx, IA_EINVAL, "K must hold one value");
        size_t n;
        if ((rc = sh_read_i64s(ctx, kt, "K", k, 1, &n))) return rc;
    }
    if (*k < 0 || *k > x->dims[*axis])
        return ia_op_error(ctx, IA_EINVAL, "k = %lld for an axis of %lld", (long long)*k,
                           (long long)x->dims[*axis]);
    return IA_OK;
}

static int topk_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int axis;
    int64_t k, d[IA_MAX_RANK];
    int rc = topk_plan(ctx, &axis, &k);
    if (rc) return rc;
    memcpy(d, x->dims, sizeof d[0] * (size_t)x->rank);
    d[axis] = k;
    if (sh_out(ctx, 0) && (rc = ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, d)))
        return rc;
    if (sh_out(ctx, 1)) rc = ia_tensor_set_shape(sh_out(ctx, 1), IA_DTYPE_INT64, x->rank, d);
    return rc;
}

static int topk_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *yv = sh_out(ctx, 0), *yi = sh_out(ctx, 1);
    int axis;
    int64_t k;
    int rc = topk_plan(ctx, &axis, &k);
    if (rc) return rc;
    if (!sh_is_numeric(x->dtype))
        return ia_op_error(ctx, IA_EINVAL, "type %s", ia_dtype_name(x->dtype));
    if (!x->numel) return IA_OK;
    int64_t outer = 1, inner = 1, n = x->dims[axis];
    for (int j = 0; j < axis; j++) outer *= x->dims[j];
    for (int j = axis + 1; j < x->rank; j++) inner *= x->dims[j];
    if (!k || !outer || !inner) return IA_OK;
    size_t es = sh_esize(x->dtype);
    /* One slice along the axis at a time: keys gathered densely, then sorted. */
    uint8_t *keys = ia_malloc((size_t)n * es);
    int64_t *idx = ia_malloc((size_t)n * 2 * sizeof(int64_t));
    if (!keys || !idx) {
        ia_free(keys);
        ia_free(idx);
        return ia_op_error(ctx, IA_ENOMEM, "no memory for an axis of %lld", (long long)n);
    }
    struct topk_keys kk = {keys, x->dtype, ia_attr_int(ctx->node, "largest", 1) != 0,
                           x->dtype != IA_DTYPE_FLOAT32 && x->dtype != IA_DTYPE_FLOAT64 &&
                               x->dtype != IA_DTYPE_FLOAT16 && x->dtype != IA_DTYPE_BFLOAT16};
    const uint8_t *src = x->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            for (int64_t j = 0; j < n; j++) {
                memcpy(keys + (size_t)j * es, src + (size_t)((o * n + j) * inner + in) * es, es);
                idx[j] = j;
            }
            merge_sort(idx, idx + n, n, topk_cmp, &kk);
            for (int64_t j = 0; j < k; j++) {
                size_t at = (size_t)((o * k + j) * inner + in);
                if (yv) memcpy((uint8_t *)yv->data + at * es, keys + (size_t)idx[j] * es, es);
                if (yi) ((int64_t *)yi->data)[at] = idx[j];
            }
        }
    ia_free(keys);
    ia_free(idx);
    return IA_OK;
}

const struct ia_op_def ia_op_TopK = {"", "TopK", 1, 0, topk_infer, topk_compute};

/* ---- Unique ------------------------------------------------------------- */

/* Slices along the axis (or single elements without one), gathered densely
 * so slice s is rows[s * len .. (s+1) * len). */
struct uniq_keys {
    const uint8_t *rows;
    int64_t len;
    size_t es;
    enum ia_dtype t;
};

static int uniq_cmp(const void *u, int64_t a, int64_t b) {
    const struct uniq_keys *k = u;
    for (int64_t j = 0; j < k->len; j++) {
        uint64_t ia = (uint64_t)(a * k->len + j), ib = (uint64_t)(b * k->len + j);
        int c;
        if (k->t == IA_DTYPE_STRING) {
            const struct ia_onnx_bytes *x = (const void *)k->rows, *y = x;
            size_t la = x[ia].len, lb = y[ib].len, m = la < lb ? la : lb;
            c = m ? memcmp(x[ia].data, y[ib].data, m) : 0;
            if (!c) c = la < lb ? -1 : la > lb;
        } else if (k->t == IA_DTYPE_INT64 || k->t == IA_DTYPE_UINT64) {
            int64_t x, y;
            memcpy(&x, k->rows + ia * 8, 8);
            memcpy(&y, k->rows + ib * 8, 8);
            c = k->t == IA_DTYPE_UINT64
                    ? ((uint64_t)x < (uint64_t)y ? -1 : (uint64_t)x > (uint64_t)y)
                    : (x < y ? -1 : x > y);
        } else {
            double x = sh_get_f64(k->rows, k->t, ia), y = sh_get_f64(k->rows, k->t, ib);
            int xn = x != x, yn = y != y;
            c = xn || yn ? xn - yn : x < y ? -1 : x > y;
        }
        if (c) return c;
    }
    return 0;
}

struct uniq_result {
    int64_t n_slices, n_unique;
    int64_t *order;   /* (n_unique) first-occurrence slice of each output entry */
    int64_t *inverse; /* (n_slices) */
    int64_t *counts;  /* (n_unique) */
    uint8_t *rows;    /* gathered slices */
    int64_t len;
};

static void uniq_free(struct uniq_result *u) {
    ia_free(u->order);
    ia_free(u->inverse);
    ia_free(u->counts);
    ia_free(u->rows);
}

static int uniq_run(struct ia_op_ctx *ctx, int *axis, struct uniq_result *u) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    memset(u, 0, sizeof *u);
    if (!sh_src(x) && x->numel) return IA_EAGAIN;
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "axis");
    int sorted = ia_attr_int(ctx->node, "sorted", 1) != 0;
    size_t es = sh_esize(x->dtype);
    int64_t outer = 1, inner = 1;
    *axis = -1;
    if (a) {
        int rc = ia_norm_axis(ctx, a->i, x->rank, axis);
        if (rc) return rc;
        if (x->rank == 0) return ia_op_error(ctx, IA_EINVAL, "axis on a scalar");
        u->n_slices = x->dims[*axis];
        outer = sh_prod(x->dims, 0, *axis);
        inner = sh_prod(x->dims, *axis + 1, x->rank);
        if (!x->numel) outer = inner = 0; /* empty slices, all equal */
    } else {
        u->n_slices = (int64_t)x->numel;
    }
    u->len = outer * inner;
    int64_t S = u->n_slices;
    u->rows = ia_malloc((size_t)x->numel * es + 1);
    int64_t *idx = ia_malloc((size_t)(2 * S + 1) * sizeof(int64_t));
    u->order = ia_malloc((size_t)(S + 1) * sizeof(int64_t));
    u->inverse = ia_malloc((size_t)(S + 1) * sizeof(int64_t));
    u->counts = ia_malloc((size_t)(S + 1) * sizeof(int64_t));
    if (!u->rows || !idx || !u->order || !u->inverse || !u->counts) {
        ia_free(idx);
        uniq_free(u);
        return ia_op_error(ctx, IA_ENOMEM, "no memory for %lld slices", (long long)S);
    }
    /* rows[s][o * inner + i] = x[o][s][i] */
    const uint8_t *src = sh_src(x);
    for (int64_t o = 0; o < outer && x->numel; o++)
        for (int64_t s = 0; s < S; s++)
            sh_memcpy(u->rows + (size_t)((s * outer + o) * inner) * es,
                      src + (size_t)((o * S + s) * inner) * es, (size_t)inner * es);
    struct uniq_keys kk = {u->rows, u->len, es, x->dtype};
    for (int64_t s = 0; s < S; s++) idx[s] = s;
    merge_sort(idx, idx + S, S, uniq_cmp, &kk);
    /* Groups of equal slices in sorted order; the stable sort puts each
     * group's first occurrence first. */
    int64_t n = 0, *group_of = idx + S; /* reuse: group index per sorted position */
    for (int64_t i = 0; i < S; i++) {
        if (i == 0 || uniq_cmp(&kk, idx[i - 1], idx[i]) != 0) {
            u->order[n] = idx[i];
            u->counts[n] = 0;
            n++;
        }
        u->counts[n - 1]++;
        group_of[i] = n - 1;
    }
    u->n_unique = n;
    if (!sorted) {
        /* Output in order of first occurrence: rank groups by first index. */
        int64_t *perm = ia_malloc((size_t)(2 * n + 1) * sizeof(int64_t));
        int64_t *tmp = ia_malloc((size_t)(2 * n + 1) * sizeof(int64_t));
        if (!perm || !tmp) {
            ia_free(perm);
            ia_free(tmp);
            ia_free(idx);
            uniq_free(u);
            return ia_op_error(ctx, IA_ENOMEM, "no memory");
        }
        /* perm sorts groups by their first slice index (all distinct). */
        for (int64_t g = 0; g < n; g++) perm[g] = g;
        for (int64_t w = 1; w < n; w *= 2) {
            for (int64_t lo = 0; lo < n; lo += 2 * w) {
                int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
                int64_t i = lo, j = mid, k = lo;
                while (i < mid && j < hi)
                    tmp[k++] = u->order[perm[j]] < u->order[perm[i]] ? perm[j++] : perm[i++];
                while (i < mid) tmp[k++] = perm[i++];
                while (j < hi) tmp[k++] = perm[j++];
            }
            memcpy(perm, tmp, (size_t)n * sizeof *perm);
        }
        int64_t *rank_of = tmp + n;
        for (int64_t g = 0; g < n; g++) rank_of[perm[g]] = g;
        int64_t *order2 = tmp, *counts2 = perm + n;
        for (int64_t g = 0; g < n; g++) {
            order2[rank_of[g]] = u->order[g];
            counts2[rank_of[g]] = u->counts[g];
        }
        memcpy(u->order, order2, (size_t)n * sizeof(int64_t));
        memcpy(u->counts, counts2, (size_t)n * sizeof(int64_t));
        for (int64_t i = 0; i < S; i++) group_of[i] = rank_of[group_of[i]];
        ia_free(perm);
        ia_free(tmp);
    }
    for (int64_t i = 0; i < S; i++) u->inverse[idx[i]] = group_of[i];
    ia_free(idx);
    return IA_OK;
}

static int unique_shapes(struct ia_op_ctx *ctx, int axis, const struct uniq_result *u) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int64_t d[IA_MAX_RANK];
    int rc = IA_OK;
    if (axis < 0) {
        d[0] = u->n_unique;
        rc = ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, 1, d);
    } else {
        memcpy(d, x->dims, sizeof d[0] * (size_t)x->rank);
        d[axis] = u->n_unique;
        rc = ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, d);
    }
    if (!rc && sh_out(ctx, 1))
        rc = ia_tensor_set_shape(sh_out(ctx, 1), IA_DTYPE_INT64, 1, &u->n_unique);
    if (!rc && sh_out(ctx, 2))
        rc = ia_tensor_set_shape(sh_out(ctx, 2), IA_DTYPE_INT64, 1, &u->n_slices);
    if (!rc && sh_out(ctx, 3))
        rc = ia_tensor_set_shape(sh_out(ctx, 3), IA_DTYPE_INT64, 1, &u->n_unique);
    return rc;
}

static int unique_infer(struct ia_op_ctx *ctx) {
    struct uniq_result u;
    int axis;
    int rc = uniq_run(ctx, &axis, &u);
    if (rc) return rc;
    rc = unique_shapes(ctx, axis, &u);
    uniq_free(&u);
    return rc;
}

static int unique_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct uniq_result u;
    int axis;
    int rc = uniq_run(ctx, &axis, &u);
    if (rc) return rc;
    struct ia_tensor *y = sh_out(ctx, 0);
    size_t es = sh_esize(x->dtype);
    if ((uint64_t)(u.n_unique * u.len) != y->numel) {
        uniq_free(&u);
        return ia_op_error(ctx, IA_EINTERNAL, "output size changed");
    }
    /* y[o][g][i] = rows[order[g]][o * inner + i] */
    int64_t outer = 1, inner = u.len;
    if (axis >= 0 && y->numel) {
        outer = sh_prod(x->dims, 0, axis);
        inner = u.len / (outer ? outer : 1);
    }
    if (!y->numel) outer = 0;
    uint8_t *dst = sh_dst(y);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t g = 0; g < u.n_unique; g++)
            sh_memcpy(dst + (size_t)((o * u.n_unique + g) * inner) * es,
                      u.rows + (size_t)(u.order[g] * u.len + o * inner) * es, (size_t)inner * es);
    if (sh_out(ctx, 1)) sh_memcpy(sh_out(ctx, 1)->data, u.order, (size_t)u.n_unique * 8);
    if (sh_out(ctx, 2)) sh_memcpy(sh_out(ctx, 2)->data, u.inverse, (size_t)u.n_slices * 8);
    if (sh_out(ctx, 3)) sh_memcpy(sh_out(ctx, 3)->data, u.counts, (size_t)u.n_unique * 8);
    uniq_free(&u);
    return IA_OK;
}

const struct ia_op_def ia_op_Unique = {"", "Unique", 11, 0, unique_infer, unique_compute};
