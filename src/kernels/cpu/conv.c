/* Conv and ConvTranspose (1-D to 6-D spatial, groups incl. depthwise,
 * strides, dilations, pads, auto_pad, bias; ConvTranspose's
 * output_padding and output_shape), plus the window geometry the pools
 * share (nn_geom_init).
 *
 * Conv lowers to GEMM: per (image, group), im2col lays the input windows
 * out as a (Cg*ksz) x outsz matrix and Y_g = W_g (Mg x Cg*ksz) times it.
 * A 1x1 kernel with unit strides and no padding needs no im2col: the input
 * already is that matrix. ConvTranspose is the adjoint: a GEMM makes
 * (Mg*ksz) x insz columns from W_g^T X_g and col2im adds them into Y.
 * Several (image, group) products run side by side over the pool when
 * there are enough of them (depthwise convolutions); otherwise ia_sgemm
 * splits each product over the pool. float16/bfloat16/float64 are widened
 * to float32 (nn_util.h). */
#include "conv_internal.h"
#include "gemm.h"

/* ---- geometry ---------------------------------------------------------------- */

static int read_ints(struct ia_op_ctx *ctx, const char *name, int S, int64_t dflt, int64_t *out,
                     int n_per_dim) {
    const int64_t *v;
    size_t n = ia_attr_ints(ctx->node, name, &v);
    for (int i = 0; i < S * n_per_dim; i++) out[i] = dflt;
    if (!v) return IA_OK;
    if (n != (size_t)(S * n_per_dim))
        return ia_op_error(ctx, IA_EINVAL, "%s has %zu values; %d expected", name, n,
                           S * n_per_dim);
    for (int i = 0; i < S * n_per_dim; i++) out[i] = v[i];
    return IA_OK;
}

enum auto_pad { AP_NOTSET, AP_SAME_UPPER, AP_SAME_LOWER, AP_VALID };

static int read_auto_pad(struct ia_op_ctx *ctx, enum auto_pad *ap) {
    char buf[32];
    const char *s = ia_attr_string(ctx->node, "auto_pad", buf, sizeof buf, "NOTSET");
    if (!strcmp(s, "NOTSET") || !s[0]) *ap = AP_NOTSET;
    else if (!strcmp(s, "SAME_UPPER")) *ap = AP_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER")) *ap = AP_SAME_LOWER;
    else if (!strcmp(s, "VALID")) *ap = AP_VALID;
    else return ia_op_error(ctx, IA_EINVAL, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, "
                            "SAME_LOWER, VALID", s);
    return IA_OK;
}

/* Window sizes beyond this are refused: no real model comes near, and it
 * keeps every size product below 2^63. */
#define KSZ_MAX ((uint64_t)1 << 32)

/* Floor division for possibly negative numerators (positive d). */
static int64_t floordiv(int64_t a, int64_t d) { return a >= 0 ? a / d : -((-a + d - 1) / d); }

/* Kernel, strides, dilations and pads shared by both directions. */
static int geom_common(struct ia_op_ctx *ctx, const struct ia_tensor *x, const int64_t *kdims,
                       struct nn_geom *g, enum auto_pad *ap) {
    char sx[128];
    if (x->rank < 3 || x->rank > IA_MAX_RANK)
        return ia_op_error(ctx, IA_EINVAL, "input %s must be [N, C, spatial...] with 1 to %d "
                           "spatial dims", ia_tensor_describe(x, sx, sizeof sx), NN_MAX_SPATIAL);
    memset(g, 0, sizeof *g);
    g->S = x->rank - 2;
    g->N = x->dims[0];
    g->C = x->dims[1];
    int rc;
    int64_t pads[2 * NN_MAX_SPATIAL];
    if ((rc = read_ints(ctx, "strides", g->S, 1, g->s, 1)) ||
        (rc = read_ints(ctx, "dilations", g->S, 1, g->d, 1)) ||
        (rc = read_ints(ctx, "pads", g->S, 0, pads, 2)) || (rc = read_auto_pad(ctx, ap)))
        return rc;
    const int64_t *ks;
    size_t nk = ia_attr_ints(ctx->node, "kernel_shape", &ks);
    if (ks && nk != (size_t)g->S)
        return ia_op_error(ctx, IA_EINVAL, "kernel_shape has %zu values for %d spatial dims", nk,
                           g->S);
    if (!ks && !kdims) return ia_op_error(ctx, IA_EINVAL, "kernel_shape is required");
    g->insz = g->ksz = 1;
    for (int i = 0; i < g->S; i++) {
        g->in[i] = x->dims[2 + i];
        g->k[i] = ks ? ks[i] : kdims[i];
        if (ks && kdims && ks[i] != kdims[i])
            return ia_op_error(ctx, IA_EINVAL, "kernel_shape[%d] is %lld but the weights have "
                               "%lld", i, (long long)ks[i], (long long)kdims[i]);
        g->pb[i] = pads[i];
        g->pe[i] = pads[g->S + i];
        if (g->k[i] < 1 || g->s[i] < 1 || g->d[i] < 1 || g->k[i] > ((int64_t)1 << 31) ||
            g->s[i] > ((int64_t)1 << 31) || g->d[i] > ((int64_t)1 << 31))
            return ia_op_error(ctx, IA_EINVAL, "spatial dim %d: kernel %lld, stride %lld, "
                               "dilation %lld (each must be >= 1)", i, (long long)g->k[i],
                               (long long)g->s[i], (long long)g->d[i]);
        if (g->pb[i] < 0 || g->pe[i] < 0 || g->pb[i] > ((int64_t)1 << 40) ||
            g->pe[i] > ((int64_t)1 << 40))
            return ia_op_error(ctx, IA_EINVAL, "pads of spatial dim %d are %lld, %lld", i,
                               (long long)g->pb[i], (long long)g->pe[i]);
        g->insz *= (uint64_t)g->in[i];
        if (__builtin_mul_overflow(g->ksz, (uint64_t)g->k[i], &g->ksz) || g->ksz > KSZ_MAX)
            return ia_op_error(ctx, IA_ERANGE, "the kernel has too many elements");
    }
    return IA_OK;
}

int nn_geom_init(struct ia_op_ctx *ctx, const struct ia_tensor *x, const int64_t *kdims,
                 int ceil_mode, struct nn_geom *g) {
    enum auto_pad ap;
    int rc = geom_common(ctx, x, kdims, g, &ap);
    if (rc) return rc;
    g->outsz = 1;
    for (int i = 0; i < g->S; i++) {
        int64_t dk = (g->k[i] - 1) * g->d[i] + 1, in = g->in[i], o;
        if (ap == AP_SAME_UPPER || ap == AP_SAME_LOWER) {
            o = (in + g->s[i] - 1) / g->s[i];
            int64_t total = (o - 1) * g->s[i] + dk - in;
            if (total < 0) total = 0;
            g->pb[i] = ap == AP_SAME_UPPER ? total / 2 : total - total / 2;
            g->pe[i] = total - g->pb[i];
        } else {
            if (ap == AP_VALID) g->pb[i] = g->pe[i] = 0;
            int64_t span = in + g->pb[i] + g->pe[i] - dk;
            if (span < 0)
                return ia_op_error(ctx, IA_EINVAL, "spatial dim %d: the kernel (%lld with "
                                   "dilation) is larger than the padded input (%lld)", i,
                                   (long long)dk, (long long)(in + g->pb[i] + g->pe[i]));
            o = (ceil_mode ? (span + g->s[i] - 1) / g->s[i] : span / g->s[i]) + 1;
            /* A last window starting in the right padding sees no input. */
            if (ceil_mode && o > 1 && (o - 1) * g->s[i] >= in + g->pb[i]) o--;
        }
        g->out[i] = o;
        if (__builtin_mul_overflow(g->outsz, (uint64_t)o, &g->outsz))
            return ia_op_error(ctx, IA_ERANGE, "the output has too many elements");
    }
    return IA_OK;
}

/* ---- im2col / col2im ------------------------------------------------------------ */

/* Advances a multi-index over dims[0..n) (last fastest); 0 when it wraps. */
static int next_index(int64_t *idx, const int64_t *dims, int n) {
    for (int i = n - 1; i >= 0; i--) {
        if (++idx[i] < dims[i]) return 1;
        idx[i] = 0;
    }
    return 0;
}

/* The output columns [lo, hi) of the innermost dim whose input position
 * o*s + off lies in [0, in) (clamped to [0, W)). */
static void valid_range(int64_t off, int64_t s, int64_t in, int64_t W, int64_t *lo, int64_t *hi) {
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = in - off <= 0 ? 0 : (in - off - 1) / s + 1;
    *lo = l < W ? l : W;
    *hi = h < W ? h : W;
    if (*hi < *lo) *hi = *lo;
}

/* col[(c*ksz + kk) * outsz + o] = x[c][o*s + kk*d - pb] (0 outside). */
static void im2col(const struct nn_geom *g, const float *x, int64_t C, float *col) {
    int S = g->S;
    int64_t W = g->out[S - 1], IW = g->in[S - 1];
    if (W == 0 || g->outsz == 0) return;
    for (int64_t c = 0; c < C; c++) {
        const float *xc = x + (uint64_t)c * g->insz;
        int64_t kk[NN_MAX_SPATIAL] = {0};
        do {
            int64_t off = kk[S - 1] * g->d[S - 1] - g->pb[S - 1], lo, hi, s = g->s[S - 1];
            valid_range(off, s, IW, W, &lo, &hi);
            int64_t oo[NN_MAX_SPATIAL] = {0};
            do {
                int ok = 1;
                int64_t base = 0;
                for (int i = 0; i < S - 1; i++) {
                    int64_t p = oo[i] * g->s[i] + kk[i] * g->d[i] - g->pb[i];
                    if (p < 0 || p >= g->in[i]) ok = 0;
                    base = base * g->in[i] + p;
                }
                if (!ok) {
                    memset(col, 0, (size_t)W * sizeof *col);
                } else {
                    const float *xr = xc + base * IW + off;
                    for (int64_t o = 0; o < lo; o++) col[o] = 0.0f;
                    if (s == 1)
                        memcpy(col + lo, xr + lo, (size_t)(hi - lo) * sizeof *col);
                    else
                        for (int64_t o = lo; o < hi; o++) col[o] = xr[o * s];
                    for (int64_t o = hi; o < W; o++) col[o] = 0.0f;
                }
                col += W;
            } while (next_index(oo, g->out, S - 1));
        } while (next_index(kk, g->k, S));
    }
}

/* The adjoint for ConvTranspose, where g's "in" is the transposed conv's
 * input and "out" its output: y[m][i*s + kk*d - pb] += col[(m*ksz + kk) *
 * insz + i]. */
static void col2im(const struct nn_geom *g, const float *col, int64_t M, float *y) {
    int S = g->S;
    int64_t W = g->in[S - 1], OW = g->out[S - 1];
    if (W == 0 || g->insz == 0) return;
    for (int64_t m = 0; m < M; m++) {
        float *ym = y + (uint64_t)m * g->outsz;
        int64_t kk[NN_MAX_SPATIAL] = {0};
        do {
            int64_t off = kk[S - 1] * g->d[S - 1] - g->pb[S - 1], lo, hi, s = g->s[S - 1];
            valid_range(off, s, OW, W, &lo, &hi);
            int64_t ii[NN_MAX_SPATIAL] = {0};
            do {
                int ok = 1;
                int64_t base = 0;
                for (int i = 0; i < S - 1; i++) {
                    int64_t p = ii[i] * g->s[i] + kk[i] * g->d[i] - g->pb[i];
                    if (p < 0 || p >= g->out[i]) ok = 0;
                    base = base * g->out[i] + p;
                }
                if (ok) {
                    float *yr = ym + base * OW + off;
                    for (int64_t i = lo; i < hi; i++) yr[i * s] += col[i];
                }
                col += W;
            } while (next_index(ii, g->in, S - 1));
        } while (next_index(kk, g->k, S));
    }
}

/* ---- shared op plumbing ------------------------------------------------------------- */

static int conv_inputs(struct ia_op_ctx *ctx, const struct ia_tensor **x,
                       const struct ia_tensor **w, const struct ia_tensor **b) {
    *x = sh_in(ctx, 0);
    *w = sh_in(ctx, 1);
    *b = sh_in(ctx, 2);
    if (!*x || !*w) return ia_op_error(ctx, IA_EINVAL, "X and W are required");
    if (!sh_out(ctx, 0)) return ia_op_error(ctx, IA_EINVAL, "output Y is missing");
    int rc;
    if ((rc = nn_need_float(ctx, *x, "X"))) return rc;
    if ((*w)->dtype != (*x)->dtype || (*b && (*b)->dtype != (*x)->dtype))
        return ia_op_error(ctx, IA_EINVAL, "X, W and B must have one type (%s, %s, %s)",
                           ia_dtype_name((*x)->dtype), ia_dtype_name((*w)->dtype),
                           *b ? ia_dtype_name((*b)->dtype) : "-");
    char sx[128], sw[128];
    if ((*w)->rank != (*x)->rank)
        return ia_op_error(ctx, IA_EINVAL, "W %s must have the rank of X %s",
                           ia_tensor_describe(*w, sw, sizeof sw),
                           ia_tensor_describe(*x, sx, sizeof sx));
    return IA_OK;
}

struct conv_job {
    const struct nn_geom *g;
    const float *x, *w;
    const float *b;              /* Conv's bias (or NULL), added per tile */
    const struct conv_epi *epi;  /* Conv's fused activation (or NULL), per tile */
    float *y, *col; /* col: one buffer per thread (or NULL: 1x1 direct) */
    int64_t G, Cg, Mg, M;
    int64_t tile_rows, n_tiles; /* Conv: output rows (first spatial dim) per task */
    uint64_t col_floats;        /* per buffer */
    int transpose;
    int convt_split; /* ConvTranspose: tiles write disjoint output rows */
    int rc;
};

/* Floats of im2col columns per Conv tile: the tile's columns stay in L2
 * between im2col writing them and the GEMM packing them. */
#define CONV_TILE_FLOATS 49152

/* Splits a Conv's output rows into tiles of about CONV_TILE_FLOATS im2col
 * floats (at least one row); a 1x1 Conv reads x in place, so its tiles
 * only bound the work per task. */
static void conv_tiles(struct conv_job *j, int need_col) {
    const struct nn_geom *g = j->g;
    int64_t rows = g->S ? g->out[0] : 1, row_cols = (int64_t)(g->outsz / (uint64_t)rows);
    uint64_t per_row = (uint64_t)row_cols * (uint64_t)(need_col ? j->Cg * (int64_t)g->ksz : 64);
    int64_t t = per_row ? (int64_t)(CONV_TILE_FLOATS / per_row) : rows;
    if (t < 1) t = 1;
    if (t > rows) t = rows;
    j->tile_rows = t;
    j->n_tiles = (rows + t - 1) / t;
    j->col_floats = (uint64_t)t * per_row;
    if (!need_col) j->col_floats = 0;
}

/* y[m][0..n) = epilogue(y[m][0..n) + b[m]) for the Mg rows of one tile. */
static void conv_tile_epilogue(const struct conv_job *j, const float *b, float *y, int64_t n) {
    for (int64_t m = 0; m < j->Mg; m++) {
        float *r = y + (uint64_t)m * j->g->outsz;
        if (b)
            for (int64_t i = 0; i < n; i++) r[i] += b[m];
        if (j->epi) conv_epi_run(j->epi, r, (uint64_t)n);
    }
}

/* Conv: one tile of output rows of one (image, group) product (t = (n*G +
 * g) * n_tiles + tile), im2col'd into `col` (NULL for a 1x1 Conv, whose
 * input is the GEMM operand itself). The tile is a Conv of its own: the
 * geometry with fewer output rows and the pads shifted by where it starts. */
static int conv_tile(const struct conv_job *j, int64_t t, float *col, struct ia_pool *pool) {
    const struct nn_geom *g = j->g;
    int64_t tile = t % j->n_tiles, ng = t / j->n_tiles, n = ng / j->G, gi = ng % j->G;
    const float *x = j->x + ((uint64_t)n * (uint64_t)g->C + (uint64_t)(gi * j->Cg)) * g->insz;
    float *y = j->y + ((uint64_t)n * (uint64_t)j->M + (uint64_t)(gi * j->Mg)) * g->outsz;
    const float *wg = j->w + (uint64_t)(gi * j->Mg) * (uint64_t)j->Cg * g->ksz;
    int64_t K = j->Cg * (int64_t)g->ksz, rows = g->S ? g->out[0] : 1;
    int64_t r0 = tile * j->tile_rows, r1 = r0 + j->tile_rows < rows ? r0 + j->tile_rows : rows;
    int64_t row_cols = (int64_t)(g->outsz / (uint64_t)rows), o0 = r0 * row_cols;
    int64_t ncols = (r1 - r0) * row_cols;
    const float *B = x + o0;
    int64_t ldb = (int64_t)g->outsz;
    if (col) {
        struct nn_geom sub = *g;
        sub.out[0] = r1 - r0;
        sub.pb[0] -= r0 * g->s[0];
        sub.outsz = (uint64_t)ncols;
        im2col(&sub, x, j->Cg, col);
        B = col;
        ldb = ncols;
    }
    int rc = ia_sgemm(0, 0, j->Mg, ncols, K, 1.0f, wg, K, B, ldb, 0.0f, y + o0,
                      (int64_t)g->outsz, pool);
    if (!rc && (j->b || j->epi))
        conv_tile_epilogue(j, j->b ? j->b + gi * j->Mg : NULL, y + o0, ncols);
    return rc;
}

/* ConvTranspose: input rows [i0, i1) of one (image, group) product (n,
 * gi): the GEMM makes their columns in `col` and col2im adds them into y,
 * through the geometry of a ConvTranspose of those rows alone. */
static int convt_rows(const struct conv_job *j, int64_t n, int64_t gi, int64_t i0, int64_t i1,
                      float *col, struct ia_pool *pool) {
    const struct nn_geom *g = j->g;
    const float *x = j->x + ((uint64_t)n * (uint64_t)g->C + (uint64_t)(gi * j->Cg)) * g->insz;
    float *y = j->y + ((uint64_t)n * (uint64_t)j->M + (uint64_t)(gi * j->Mg)) * g->outsz;
    const float *wg = j->w + (uint64_t)(gi * j->Cg) * (uint64_t)j->Mg * g->ksz;
    int64_t R = j->Mg * (int64_t)g->ksz, row_cols = (int64_t)(g->insz / (uint64_t)g->in[0]);
    int64_t ncols = (i1 - i0) * row_cols;
    struct nn_geom sub = *g;
    sub.in[0] = i1 - i0;
    sub.pb[0] -= i0 * g->s[0];
    sub.insz = (uint64_t)ncols;
    int rc = ia_sgemm(1, 0, R, ncols, j->Cg, 1.0f, wg, R, x + i0 * row_cols, (int64_t)g->insz,
                      0.0f, col, ncols, pool);
    if (!rc) col2im(&sub, col, j->Mg, y);
    return rc;
}

/* ConvTranspose task t: one tile of input rows of one (image, group)
 * product when tiles write disjoint output rows (j->n_tiles tasks a
 * product), else every tile of the product in turn. */
static int convt_one(const struct conv_job *j, int64_t t, float *col, struct ia_pool *pool) {
    int64_t per = j->convt_split ? j->n_tiles : 1, ng = t / per, rows = j->g->in[0];
    int64_t a = j->convt_split ? t % per : 0, b = j->convt_split ? a + 1 : j->n_tiles;
    int rc = IA_OK;
    for (int64_t tile = a; rc == IA_OK && tile < b; tile++) {
        int64_t i0 = tile * j->tile_rows, i1 = i0 + j->tile_rows < rows ? i0 + j->tile_rows : rows;
        rc = convt_rows(j, ng / j->G, ng % j->G, i0, i1, col, pool);
    }
    return rc;
}

/* ConvTranspose's tiles: input rows whose GEMM columns make about
 * CONV_TILE_FLOATS floats, so col2im reads them from cache. They may run
 * side by side when the output rows of neighbouring tiles cannot overlap:
 * when an input row's window reaches (k - 1) * d rows past its first
 * output row, less than the stride. */
static void convt_tiles(struct conv_job *j) {
    const struct nn_geom *g = j->g;
    int64_t rows = g->in[0], row_cols = rows ? (int64_t)(g->insz / (uint64_t)rows) : 1;
    uint64_t per_row = (uint64_t)row_cols * (uint64_t)(j->Mg * (int64_t)g->ksz);
    int64_t t = per_row ? (int64_t)(CONV_TILE_FLOATS / per_row) : rows;
    if (t < 1) t = 1;
    if (t > rows) t = rows;
    j->tile_rows = t;
    j->n_tiles = rows ? (rows + t - 1) / t : 0;
    j->col_floats = (uint64_t)t * per_row;
    j->convt_split = (g->k[0] - 1) * g->d[0] < g->s[0];
}

static int conv_one(const struct conv_job *j, int64_t t, float *col, struct ia_pool *pool) {
    return j->transpose ? convt_one(j, t, col, pool) : conv_tile(j, t, col, pool);
}

static void conv_task(void *vj, int64_t t, int thread) {
    struct conv_job *j = vj;
    float *col = j->col ? j->col + (uint64_t)thread * j->col_floats : NULL;
    int rc = conv_one(j, t, col, NULL);
    if (rc) __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
}

/* Runs every task (Conv: tile; ConvTranspose: (image, group) product):
 * side by side over the pool when there are enough of them (each output
 * block belongs to one task, so col2im's adds never race), else one after
 * the other with each GEMM split over the pool. */
static int conv_run(struct ia_op_ctx *ctx, struct conv_job *j, int need_col) {
    int64_t tasks = j->g->N * j->G * (j->transpose && !j->convt_split ? 1 : j->n_tiles);
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    int parallel = threads > 1 && tasks >= threads;
    int nbuf = parallel ? threads : 1;
    if (need_col) {
        uint64_t n;
        if (__builtin_mul_overflow(j->col_floats, (uint64_t)nbuf, &n))
            return ia_op_error(ctx, IA_ERANGE, "the im2col matrix is too large");
        j->col = nn_scratch_f32(ctx, n);
        if (!j->col) return IA_ENOMEM;
    }
    if (parallel) {
        ia_pool_run(ctx->pool, tasks, conv_task, j);
        if (j->rc) return ia_op_error(ctx, j->rc, "GEMM failed: %s", ia_status_str(j->rc));
        return IA_OK;
    }
    for (int64_t t = 0; t < tasks; t++) {
        int rc = conv_one(j, t, j->col, ctx->pool);
        if (rc) return ia_op_error(ctx, rc, "%s", ia_error_msg());
    }
    return IA_OK;
}

/* *out = a * b * c; nonzero on overflow. */
static int mul3(int64_t a, uint64_t b, uint64_t c, uint64_t *out) {
    return __builtin_mul_overflow((uint64_t)a, b, out) || __builtin_mul_overflow(*out, c, out);
}

/* y[n][m][...] += b[m]. */
static void add_bias(float *y, const float *b, int64_t N, int64_t M, uint64_t sp) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            float *p = y + ((uint64_t)(n * M + m)) * sp, v = b[m];
            for (uint64_t i = 0; i < sp; i++) p[i] += v;
        }
}

/* ---- Conv --------------------------------------------------------------------------- */

static int conv_geom(struct ia_op_ctx *ctx, struct nn_geom *g, int64_t *G) {
    const struct ia_tensor *x, *w, *b;
    int rc = conv_inputs(ctx, &x, &w, &b);
    if (rc) return rc;
    if ((rc = nn_geom_init(ctx, x, w->dims + 2, 0, g))) return rc;
    *G = ia_attr_int(ctx->node, "group", 1);
    int64_t M = w->dims[0];
    char sx[128], sw[128];
    if (*G < 1 || g->C % *G || M % *G || w->dims[1] != g->C / *G)
        return ia_op_error(ctx, IA_EINVAL, "X %s, W %s and group %lld do not fit (W must be "
                           "[M, C/group, k...] with M and C divisible by group)",
                           ia_tensor_describe(x, sx, sizeof sx),
                           ia_tensor_describe(w, sw, sizeof sw), (long long)*G);
    if (b && (b->rank != 1 || b->dims[0] != M))
        return ia_op_error(ctx, IA_EINVAL, "B %s must be [%lld]",
                           ia_tensor_describe(b, sx, sizeof sx), (long long)M);
    return IA_OK;
}

static int conv_infer(struct ia_op_ctx *ctx) {
    struct nn_geom g;
    int64_t G;
    int rc = conv_geom(ctx, &g, &G);
    if (rc) return rc;
    int64_t d[IA_MAX_RANK] = {g.N, ctx->inputs[1]->dims[0]};
    for (int i = 0; i < g.S; i++) d[2 + i] = g.out[i];
    return ia_tensor_set_shape(ctx->outputs[0], ctx->inputs[0]->dtype, g.S + 2, d);
}

/* Conv, then epi (may be NULL) over the output, piece by piece while it
 * is in cache. */
static int conv_compute_epi(struct ia_op_ctx *ctx, const struct conv_epi *epi) {
    struct nn_geom g;
    int64_t G;
    int rc = conv_geom(ctx, &g, &G);
    struct ia_tensor *yt = ctx->outputs[0];
    if (rc || yt->numel == 0) return rc;
    const struct ia_tensor *b = sh_in(ctx, 2);
    struct conv_job j = {.g = &g, .G = G, .Cg = g.C / G, .M = ctx->inputs[1]->dims[0], .epi = epi};
    j.Mg = j.M / G;
    float *y;
    if ((rc = nn_f32_in(ctx, ctx->inputs[0], &j.x)) || (rc = nn_f32_in(ctx, ctx->inputs[1], &j.w)) ||
        (rc = nn_f32_out(ctx, yt, &y)))
        return rc;
    j.y = y;
    if (b && b->numel && (rc = nn_f32_in(ctx, b, &j.b))) return rc;
    if (conv_depthwise_fits(&g, G, j.M)) {
        conv_depthwise(&g, j.x, j.w, j.b, y, epi, ctx->pool);
        return nn_f32_out_done(ctx, yt, y);
    }
    if (conv_direct_fits(&g, G, j.M)) {
        int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
        float *s = nn_scratch_f32(ctx, conv_direct_scratch_floats(&g, G, j.M, threads));
        if (!s) return IA_ENOMEM;
        conv_direct(&g, G, j.M, j.x, j.w, j.b, y, s, epi, ctx->pool);
        return nn_f32_out_done(ctx, yt, y);
    }
    int direct = 1;
    for (int i = 0; i < g.S; i++)
        direct &= g.k[i] == 1 && g.s[i] == 1 && g.pb[i] == 0 && g.pe[i] == 0;
    uint64_t full_col;
    if (mul3(j.Cg, g.ksz, g.outsz, &full_col))
        return ia_op_error(ctx, IA_ERANGE, "the im2col matrix is too large");
    conv_tiles(&j, !direct);
    if ((rc = conv_run(ctx, &j, !direct))) return rc;
    return nn_f32_out_done(ctx, yt, y);
}

static int conv_compute(struct ia_op_ctx *ctx) { return conv_compute_epi(ctx, NULL); }

/* FusedConv (domain "ai.ia.fused", internal; made by src/graph/fuse_conv.c):
 * Conv(X, W[, B]) with Conv's attributes, followed by the elementwise
 * program of its "ops" and "consts" attributes (ew_prog.h) run on each
 * piece of the output as it is finished. float32 only. */
static int fconv_check(struct ia_op_ctx *ctx, struct ew_prog *p) {
    if (ctx->n_inputs < 2 || !ctx->inputs[0]) return ia_op_error(ctx, IA_EINVAL, "X is required");
    if (ctx->inputs[0]->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "float32 only, got %s",
                           ia_dtype_name(ctx->inputs[0]->dtype));
    return ew_prog_parse(ctx, p);
}

static int fconv_infer(struct ia_op_ctx *ctx) {
    struct ew_prog p;
    int rc = fconv_check(ctx, &p);
    return rc ? rc : conv_infer(ctx);
}

static int fconv_compute(struct ia_op_ctx *ctx) {
    struct ew_prog p;
    int rc = fconv_check(ctx, &p);
    struct conv_epi epi = {&p};
    return rc ? rc : conv_compute_epi(ctx, &epi);
}

/* ---- ConvTranspose ------------------------------------------------------------------ */

static int convt_geom(struct ia_op_ctx *ctx, struct nn_geom *g, int64_t *G, int64_t *M) {
    const struct ia_tensor *x, *w, *b;
    int rc = conv_inputs(ctx, &x, &w, &b);
    if (rc) return rc;
    enum auto_pad ap;
    if ((rc = geom_common(ctx, x, w->dims + 2, g, &ap))) return rc;
    *G = ia_attr_int(ctx->node, "group", 1);
    char sx[128], sw[128];
    if (*G < 1 || g->C % *G || w->dims[0] != g->C)
        return ia_op_error(ctx, IA_EINVAL, "X %s, W %s and group %lld do not fit (W must be "
                           "[C, M/group, k...] with C divisible by group)",
                           ia_tensor_describe(x, sx, sizeof sx),
                           ia_tensor_describe(w, sw, sizeof sw), (long long)*G);
    if (w->dims[1] > INT64_MAX / *G) return ia_op_error(ctx, IA_ERANGE, "too many channels");
    *M = w->dims[1] * *G;
    if (b && (b->rank != 1 || b->dims[0] != *M))
        return ia_op_error(ctx, IA_EINVAL, "B %s must be [%lld]",
                           ia_tensor_describe(b, sx, sizeof sx), (long long)*M);
    int64_t opad[NN_MAX_SPATIAL];
    if ((rc = read_ints(ctx, "output_padding", g->S, 0, opad, 1))) return rc;
    const int64_t *os;
    size_t nos = ia_attr_ints(ctx->node, "output_shape", &os);
    if (os && nos != (size_t)g->S && nos != (size_t)(g->S + 2))
        return ia_op_error(ctx, IA_EINVAL, "output_shape has %zu values for %d spatial dims",
                           nos, g->S);
    if (os) os += nos - (size_t)g->S;
    g->outsz = 1;
    for (int i = 0; i < g->S; i++) {
        int64_t dk = (g->k[i] - 1) * g->d[i] + 1;
        if (opad[i] < 0 || opad[i] > ((int64_t)1 << 31))
            return ia_op_error(ctx, IA_EINVAL, "output_padding[%d] is %lld", i,
                               (long long)opad[i]);
        int64_t full, o;
        if (__builtin_mul_overflow(g->s[i], g->in[i] ? g->in[i] - 1 : 0, &full) ||
            __builtin_add_overflow(full, opad[i] + dk, &full))
            return ia_op_error(ctx, IA_ERANGE, "spatial dim %d: the output size overflows", i);
        if (g->in[i] == 0) full = 0;
        if (os || ap == AP_SAME_UPPER || ap == AP_SAME_LOWER) {
            if (os)
                o = os[i];
            else if (__builtin_mul_overflow(g->in[i], g->s[i], &o))
                return ia_op_error(ctx, IA_ERANGE, "spatial dim %d: the output size overflows", i);
            if (o < 0) return ia_op_error(ctx, IA_EINVAL, "output_shape[%d] is %lld", i,
                                          (long long)o);
            int64_t total = full - o;
            if (ap == AP_SAME_UPPER) {
                g->pb[i] = floordiv(total, 2);
                g->pe[i] = total - g->pb[i];
            } else {
                g->pe[i] = floordiv(total, 2);
                g->pb[i] = total - g->pe[i];
            }
        } else {
            if (ap == AP_VALID) g->pb[i] = g->pe[i] = 0;
            o = full - g->pb[i] - g->pe[i];
            if (o < 0)
                return ia_op_error(ctx, IA_EINVAL, "spatial dim %d: pads %lld+%lld exceed the "
                                   "output size %lld", i, (long long)g->pb[i],
                                   (long long)g->pe[i], (long long)full);
        }
        g->out[i] = o;
        if (__builtin_mul_overflow(g->outsz, (uint64_t)o, &g->outsz))
            return ia_op_error(ctx, IA_ERANGE, "the output has too many elements");
    }
    return IA_OK;
}

static int convt_infer(struct ia_op_ctx *ctx) {
    struct nn_geom g;
    int64_t G, M;
    int rc = convt_geom(ctx, &g, &G, &M);
    if (rc) return rc;
    int64_t d[IA_MAX_RANK] = {g.N, M};
    for (int i = 0; i < g.S; i++) d[2 + i] = g.out[i];
    return ia_tensor_set_shape(ctx->outputs[0], ctx->inputs[0]->dtype, g.S + 2, d);
}

static int convt_compute(struct ia_op_ctx *ctx) {
    struct nn_geom g;
    int64_t G, M;
    int rc = convt_geom(ctx, &g, &G, &M);
    struct ia_tensor *yt = ctx->outputs[0];
    if (rc || yt->numel == 0) return rc;
    const struct ia_tensor *b = sh_in(ctx, 2);
    struct conv_job j = {.g = &g, .G = G, .Cg = g.C / G, .M = M, .Mg = M / G, .transpose = 1};
    float *y;
    if ((rc = nn_f32_in(ctx, ctx->inputs[0], &j.x)) || (rc = nn_f32_in(ctx, ctx->inputs[1], &j.w)) ||
        (rc = nn_f32_out(ctx, yt, &y)))
        return rc;
    j.y = y;
    memset(y, 0, yt->numel * sizeof *y);
    uint64_t full_col;
    if (mul3(j.Mg, g.ksz, g.insz, &full_col))
        return ia_op_error(ctx, IA_ERANGE, "the col2im matrix is too large");
    convt_tiles(&j);
    if ((rc = conv_run(ctx, &j, 1))) return rc;
    if (b && b->numel) {
        const float *bf;
        if ((rc = nn_f32_in(ctx, b, &bf))) return rc;
        add_bias(y, bf, g.N, M, g.outsz);
    }
    return nn_f32_out_done(ctx, yt, y);
}

const struct ia_op_def ia_op_Conv = {"", "Conv", 1, 0, conv_infer, conv_compute};
const struct ia_op_def ia_op_ia_FusedConv = {"ai.ia.fused", "FusedConv", 1, 0, fconv_infer, fconv_compute};
const struct ia_op_def ia_op_ConvTranspose = {"", "ConvTranspose", 1, 0, convt_infer, convt_compute};
