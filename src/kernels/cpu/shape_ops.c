/* Ops that change a tensor's shape or move its elements around without
 * arithmetic: Reshape, Flatten, Squeeze, Unsqueeze, Expand, Tile, Transpose,
 * DepthToSpace, SpaceToDepth. Every dtype is moved by element size. */
#include "sh_common.h"

/* ---- Reshape ------------------------------------------------------------ */

static int reshape_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *shp = sh_in(ctx, 1);
    struct ia_tensor *y = sh_out(ctx, 0);
    int64_t want[IA_MAX_RANK];
    size_t n = 0;
    if (!x || !y) return ia_op_error(ctx, IA_EINVAL, "needs data and an output");
    if (shp) {
        int rc = sh_read_i64s(ctx, shp, "shape", want, IA_MAX_RANK, &n);
        if (rc) return rc;
    } else {
        /* Reshape-1..4 took the shape as an attribute. */
        const int64_t *a;
        n = ia_attr_ints(ctx->node, "shape", &a);
        if (!a) return ia_op_error(ctx, IA_EINVAL, "no shape input");
        if (n > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "shape rank %zu too big", n);
        memcpy(want, a, n * sizeof *a);
    }
    int allowzero = (int)ia_attr_int(ctx->node, "allowzero", 0);
    int infer_at = -1;
    uint64_t known = 1;
    int64_t dims[IA_MAX_RANK];
    for (size_t i = 0; i < n; i++) {
        int64_t d = want[i];
        if (d == 0 && !allowzero) {
            if ((int)i >= x->rank)
                return ia_op_error(ctx, IA_EINVAL, "shape[%zu] = 0 copies a dim the input lacks",
                                   i);
            d = x->dims[i];
        } else if (d == -1) {
            if (infer_at >= 0) return ia_op_error(ctx, IA_EINVAL, "more than one -1 in shape");
            infer_at = (int)i;
            dims[i] = 1;
            continue;
        } else if (d < 0) {
            return ia_op_error(ctx, IA_EINVAL, "shape[%zu] = %lld", i, (long long)d);
        }
        dims[i] = d;
        if (__builtin_mul_overflow(known, (uint64_t)d, &known))
            return ia_op_error(ctx, IA_ERANGE, "shape size overflows");
    }
    if (infer_at >= 0) {
        if (known == 0) {
            if (x->numel != 0)
                return ia_op_error(ctx, IA_EINVAL, "cannot infer -1 with a zero dim");
            dims[infer_at] = 0;
        } else {
            if (x->numel % known)
                return ia_op_error(ctx, IA_EINVAL, "%llu elements do not divide into %llu",
                                   (unsigned long long)x->numel, (unsigned long long)known);
            dims[infer_at] = (int64_t)(x->numel / known);
        }
        known = x->numel;
    }
    if (known != x->numel)
        return ia_op_error(ctx, IA_EINVAL, "cannot reshape %llu elements into %llu",
                           (unsigned long long)x->numel, (unsigned long long)known);
    return ia_tensor_set_shape(y, x->dtype, (int)n, dims);
}

static int copy_compute(struct ia_op_ctx *ctx) {
    struct ia_tensor *y = sh_out(ctx, 0);
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (y->numel != x->numel) return ia_op_error(ctx, IA_EINTERNAL, "output size mismatch");
    sh_copy_all(y, x);
    return IA_OK;
}

const struct ia_op_def ia_op_Reshape = {"", "Reshape", 1, 0, reshape_infer, copy_compute};

/* ---- Flatten ------------------------------------------------------------ */

static int flatten_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int64_t axis = ia_attr_int(ctx->node, "axis", 1);
    if (axis < -(int64_t)x->rank || axis > x->rank)
        return ia_op_error(ctx, IA_EINVAL, "axis %lld is outside rank %d", (long long)axis,
                           x->rank);
    if (axis < 0) axis += x->rank;
    int64_t d[2] = {sh_prod(x->dims, 0, (int)axis), sh_prod(x->dims, (int)axis, x->rank)};
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, 2, d);
}

const struct ia_op_def ia_op_Flatten = {"", "Flatten", 1, 0, flatten_infer, copy_compute};

/* ---- Squeeze / Unsqueeze ------------------------------------------------ */

/* Axes from the attribute (before opset 13) or the optional input. */
static int read_axes(struct ia_op_ctx *ctx, size_t input, int64_t *axes, size_t *n, int *given) {
    *n = 0;
    *given = 0;
    if (ctx->opset < 13) {
        const int64_t *a;
        size_t k = ia_attr_ints(ctx->node, "axes", &a);
        if (!a) return IA_OK;
        if (k > IA_MAX_RANK) return ia_op_error(ctx, IA_EINVAL, "%zu axes", k);
        memcpy(axes, a, k * sizeof *a);
        *n = k;
        *given = 1;
        return IA_OK;
    }
    const struct ia_tensor *t = sh_in(ctx, input);
    if (!t) return IA_OK;
    *given = 1;
    return sh_read_i64s(ctx, t, "axes", axes, IA_MAX_RANK, n);
}

static int squeeze_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int64_t axes[IA_MAX_RANK];
    int ax[IA_MAX_RANK];
    size_t n;
    int given;
    int rc = read_axes(ctx, 1, axes, &n, &given);
    if (rc) return rc;
    int drop[IA_MAX_RANK] = {0};
    if (given) {
        rc = sh_norm_axes(ctx, axes, n, x->rank, ax);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++) {
            if (x->dims[ax[i]] != 1)
                return ia_op_error(ctx, IA_EINVAL, "cannot squeeze axis %d of size %lld", ax[i],
                                   (long long)x->dims[ax[i]]);
            drop[ax[i]] = 1;
        }
    } else {
        for (int i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
    }
    int64_t d[IA_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) d[r++] = x->dims[i];
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, r, d);
}

const struct ia_op_def ia_op_Squeeze = {"", "Squeeze", 1, 0, squeeze_infer, copy_compute};

static int unsqueeze_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int64_t axes[IA_MAX_RANK];
    int ax[IA_MAX_RANK];
    size_t n;
    int given;
    int rc = read_axes(ctx, 1, axes, &n, &given);
    if (rc) return rc;
    if (!given) return ia_op_error(ctx, IA_EINVAL, "axes are required");
    int r = x->rank + (int)n;
    if (r > IA_MAX_RANK) return ia_op_error(ctx, IA_ERANGE, "rank %d is over %d", r, IA_MAX_RANK);
    rc = sh_norm_axes(ctx, axes, n, r, ax);
    if (rc) return rc;
    int64_t d[IA_MAX_RANK];
    size_t j = 0;
    int src = 0;
    for (int i = 0; i < r; i++) {
        if (j < n && ax[j] == i) {
            d[i] = 1;
            j++;
        } else {
            d[i] = x->dims[src++];
        }
    }
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, r, d);
}

const struct ia_op_def ia_op_Unsqueeze = {"", "Unsqueeze", 1, 0, unsqueeze_infer, copy_compute};

/* ---- Expand ------------------------------------------------------------- */

static int expand_shape(struct ia_op_ctx *ctx, int *rank, int64_t *dims) {
    const struct ia_tensor *x = sh_in(ctx, 0), *s = sh_in(ctx, 1);
    if (!s) return ia_op_error(ctx, IA_EINVAL, "needs a shape input");
    int64_t want[IA_MAX_RANK];
    size_t n;
    int rc = sh_read_i64s(ctx, s, "shape", want, IA_MAX_RANK, &n);
    if (rc) return rc;
    int r = x->rank > (int)n ? x->rank : (int)n;
    for (int i = 0; i < r; i++) {
        int ix = i - (r - x->rank), is = i - (r - (int)n);
        int64_t a = ix >= 0 ? x->dims[ix] : 1, b = is >= 0 ? want[is] : 1;
        if (b < 0) return ia_op_error(ctx, IA_EINVAL, "shape[%d] = %lld", is, (long long)b);
        if (a != b && a != 1 && b != 1)
            return ia_op_error(ctx, IA_EINVAL, "input dim %lld does not broadcast to %lld",
                               (long long)a, (long long)b);
        dims[i] = a == 1 ? b : a;
    }
    *rank = r;
    return IA_OK;
}

static int expand_infer(struct ia_op_ctx *ctx) {
    int r;
    int64_t d[IA_MAX_RANK];
    int rc = expand_shape(ctx, &r, d);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 0)->dtype, r, d);
}

static int expand_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    size_t es = sh_esize(x->dtype);
    int64_t xs[IA_MAX_RANK], st[IA_MAX_RANK];
    sh_strides(x->rank, x->dims, es, xs);
    int r = y->rank;
    for (int i = 0; i < r; i++) {
        int ix = i - (r - x->rank);
        st[i] = ix >= 0 && x->dims[ix] != 1 ? xs[ix] : 0;
    }
    if (y->numel) sh_copy_strided_pool(ctx->pool, sh_dst(y), sh_src(x), es, r, y->dims, st);
    return IA_OK;
}

const struct ia_op_def ia_op_Expand = {"", "Expand", 8, 0, expand_infer, expand_compute};

/* ---- Tile --------------------------------------------------------------- */

static int tile_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0), *rep = sh_in(ctx, 1);
    if (!rep) return ia_op_error(ctx, IA_EINVAL, "needs a repeats input");
    int64_t r[IA_MAX_RANK], d[IA_MAX_RANK];
    size_t n;
    int rc = sh_read_i64s(ctx, rep, "repeats", r, IA_MAX_RANK, &n);
    if (rc) return rc;
    if ((int)n != x->rank)
        return ia_op_error(ctx, IA_EINVAL, "%zu repeats for rank %d", n, x->rank);
    for (int i = 0; i < x->rank; i++) {
        if (r[i] < 0) return ia_op_error(ctx, IA_EINVAL, "repeats[%d] = %lld", i, (long long)r[i]);
        if (__builtin_mul_overflow(x->dims[i], r[i], &d[i]))
            return ia_op_error(ctx, IA_ERANGE, "tiled size overflows");
    }
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, d);
}

static int tile_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    size_t es = sh_esize(x->dtype);
    const uint8_t *src = sh_src(x);
    uint8_t *dst = sh_dst(y);
    if (!y->numel) return IA_OK;
    int r = x->rank;
    if (r == 0) {
        memcpy(dst, src, es);
        return IA_OK;
    }
    int64_t xs[IA_MAX_RANK], idx[IA_MAX_RANK] = {0};
    sh_strides(r, x->dims, es, xs);
    size_t row = (size_t)x->dims[r - 1] * es;
    int64_t reps = y->dims[r - 1] / x->dims[r - 1];
    for (;;) {
        int64_t off = 0;
        for (int k = 0; k < r - 1; k++) off += (idx[k] % x->dims[k]) * xs[k];
        for (int64_t j = 0; j < reps; j++, dst += row) memcpy(dst, src + off, row);
        int k = r - 2;
        for (; k >= 0; k--) {
            if (++idx[k] < y->dims[k]) break;
            idx[k] = 0;
        }
        if (k < 0) break;
    }
    return IA_OK;
}

const struct ia_op_def ia_op_Tile = {"", "Tile", 6, 0, tile_infer, tile_compute};

/* ---- Transpose ---------------------------------------------------------- */

static int transpose_perm(struct ia_op_ctx *ctx, int rank, int *perm) {
    const int64_t *p;
    size_t n = ia_attr_ints(ctx->node, "perm", &p);
    if (!p) {
        for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        return IA_OK;
    }
    if ((int)n != rank)
        return ia_op_error(ctx, IA_EINVAL, "perm has %zu entries for rank %d", n, rank);
    unsigned seen = 0;
    for (int i = 0; i < rank; i++) {
        int64_t a = p[i];
        if (a < -(int64_t)rank || a >= rank)
            return ia_op_error(ctx, IA_EINVAL, "perm[%d] = %lld is outside rank %d", i,
                               (long long)a, rank);
        if (a < 0) a += rank;
        if (seen & (1u << a)) return ia_op_error(ctx, IA_EINVAL, "perm repeats %lld", (long long)a);
        seen |= 1u << a;
        perm[i] = (int)a;
    }
    return IA_OK;
}

static int transpose_infer(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int perm[IA_MAX_RANK];
    int rc = transpose_perm(ctx, x->rank, perm);
    if (rc) return rc;
    int64_t d[IA_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = x->dims[perm[i]];
    return ia_tensor_set_shape(sh_out(ctx, 0), x->dtype, x->rank, d);
}

static int transpose_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    struct ia_tensor *y = sh_out(ctx, 0);
    int perm[IA_MAX_RANK];
    int rc = transpose_perm(ctx, x->rank, perm);
    if (rc) return rc;
    size_t es = sh_esize(x->dtype);
    int64_t xs[IA_MAX_RANK], st[IA_MAX_RANK];
    sh_strides(x->rank, x->dims, es, xs);
    for (int i = 0; i < x->rank; i++) st[i] = xs[perm[i]];
    if (y->numel) sh_copy_strided_pool(ctx->pool, sh_dst(y), sh_src(x), es, y->rank, y->dims, st);
    return IA_OK;
}

const struct ia_op_def ia_op_Transpose = {"", "Transpose",     1,
                                          0,  transpose_infer, transpose_compute};

/* ---- DepthToSpace / SpaceToDepth ---------------------------------------- */

/* Both are a reshape to 6D, a transpose and a reshape back; this builds the
 * 6D output dims and the matching source strides. */
static int d2s_plan(struct ia_op_ctx *ctx, int to_space, int64_t *od4, int64_t *d6, int64_t *s6) {
    const struct ia_tensor *x = sh_in(ctx, 0);
    int64_t b = ia_attr_int(ctx->node, "blocksize", 0);
    if (x->rank != 4) return ia_op_error(ctx, IA_EINVAL, "input must be 4D, is %dD", x->rank);
    if (b <= 0 || b > (1 << 20)) return ia_op_error(ctx, IA_EINVAL, "blocksize %lld", (long long)b);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    size_t es = sh_esize(x->dtype);
    int64_t in6[6], st6[6];
    if (to_space) {
        if (C % (b * b))
            return ia_op_error(ctx, IA_EINVAL, "channels %lld not divisible by blocksize^2",
                               (long long)C);
        int64_t c = C / (b * b);
        char buf[8];
        const char *mode = ia_attr_string(ctx->node, "mode", buf, sizeof buf, "DCR");
        int crd = strcmp(mode, "CRD") == 0;
        if (!crd && strcmp(mode, "DCR"))
            return ia_op_error(ctx, IA_EINVAL, "mode '%s' is not DCR or CRD", mode);
        /* out (N, c, H, b, W, b) */
        int64_t o[6] = {N, c, H, b, W, b};
        memcpy(d6, o, sizeof o);
        if (crd) { /* in (N, c, b1, b2, H, W) */
            int64_t v[6] = {N, c, b, b, H, W};
            memcpy(in6, v, sizeof v);
            sh_strides(6, in6, es, st6);
            int64_t s[6] = {st6[0], st6[1], st6[4], st6[2], st6[5], st6[3]};
            memcpy(s6, s, sizeof s);
        } else { /* in (N, b1, b2, c, H, W) */
            int64_t v[6] = {N, b, b, c, H, W};
            memcpy(in6, v, sizeof v);
            sh_strides(6, in6, es, st6);
            int64_t s[6] = {st6[0], st6[3], st6[4], st6[1], st6[5], st6[2]};
            memcpy(s6, s, sizeof s);
        }
        od4[0] = N, od4[1] = c, od4[2] = H * b, od4[3] = W * b;
    } else {
        if (H % b || W % b)
            return ia_op_error(ctx, IA_EINVAL, "spatial dims %lldx%lld not divisible by %lld",
                               (long long)H, (long long)W, (long long)b);
        /* in (N, C, h, b1, w, b2) -> out (N, b1, b2, C, h, w) */
        int64_t v[6] = {N, C, H / b, b, W / b, b};
        memcpy(in6, v, sizeof v);
        sh_strides(6, in6, es, st6);
        int64_t o[6] = {N, b, b, C, H / b, W / b};
        memcpy(d6, o, sizeof o);
        int64_t s[6] = {st6[0], st6[3], st6[5], st6[1], st6[2], st6[4]};
        memcpy(s6, s, sizeof s);
        od4[0] = N, od4[1] = C * b * b, od4[2] = H / b, od4[3] = W / b;
    }
    return IA_OK;
}

static int d2s_infer_(struct ia_op_ctx *ctx, int to_space) {
    int64_t od[4], d6[6], s6[6];
    int rc = d2s_plan(ctx, to_space, od, d6, s6);
    if (rc) return rc;
    return ia_tensor_set_shape(sh_out(ctx, 0), sh_in(ctx, 0)->dtype, 4, od);
}

static int d2s_compute_(struct ia_op_ctx *ctx, int to_space) {
    int64_t od[4], d6[6], s6[6];
    int rc = d2s_plan(ctx, to_space, od, d6, s6);
    if (rc) return rc;
    struct ia_tensor *y = sh_out(ctx, 0);
    const struct ia_tensor *x = sh_in(ctx, 0);
    if (y->numel)
        sh_copy_strided_pool(ctx->pool, sh_dst(y), sh_src(x), sh_esize(x->dtype), 6, d6, s6);
    return IA_OK;
}

static int d2s_infer(struct ia_op_ctx *ctx) { return d2s_infer_(ctx, 1); }
static int d2s_compute(struct ia_op_ctx *ctx) { return d2s_compute_(ctx, 1); }
static int s2d_infer(struct ia_op_ctx *ctx) { return d2s_infer_(ctx, 0); }
static int s2d_compute(struct ia_op_ctx *ctx) { return d2s_compute_(ctx, 0); }

const struct ia_op_def ia_op_DepthToSpace = {"", "DepthToSpace", 1, 0, d2s_infer, d2s_compute};
const struct ia_op_def ia_op_SpaceToDepth = {"", "SpaceToDepth", 1, 0, s2d_infer, s2d_compute};
