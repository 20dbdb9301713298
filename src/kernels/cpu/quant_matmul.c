/* Integer matrix products: MatMulInteger and QLinearMatMul (opset 10).
 *
 * Both follow numpy matmul shapes: a 1-D A is one row (dropped from the
 * output), a 1-D B one column, leading dims broadcast. Zero points are
 * subtracted before multiplying and products are summed in int32 (as the
 * spec says; |a - za| * |b - zb| * K stays below 2^31 up to K = 33025):
 *   MatMulInteger: Y(int32) = (A - a_zero_point) · (B - b_zero_point)
 *   QLinearMatMul: Y = saturate(round_half_even(acc * a_scale*b_scale/y_scale) + y_zero_point)
 * A's zero point (and scale) is one value or one per row of A ([M] or
 * [M,1]); B's is one value, one per column ([N] or [1,N]) or one per column
 * of each matrix of B (B's batch dims followed by [1,N]).
 *
 * Both operands are widened once into int16 copies with the zero point
 * taken off; rows of the output are then independent tasks for the pool. */
#include <math.h>
#include <string.h>

#include "ia/kernels.h"

static const struct ia_tensor *in_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

struct mm_shape {
    int64_t M, K, N;
    int64_t batch; /* product of the output's batch dims */
    int out_rank;
    int64_t out_dims[IA_MAX_RANK];
    int bat_rank; /* broadcast batch rank */
    int64_t bat[IA_MAX_RANK];
    int64_t a_bstride[IA_MAX_RANK]; /* in matrices; 0 where A broadcasts */
    int64_t b_bstride[IA_MAX_RANK];
    int64_t a_mats, b_mats; /* matrices held by A and B */
};

static int mm_shapes(struct ia_op_ctx *ctx, const struct ia_tensor *A, const struct ia_tensor *B,
                     struct mm_shape *s) {
    memset(s, 0, sizeof *s);
    char sa[128], sb[128];
    if (A->rank < 1 || B->rank < 1)
        return ia_op_error(ctx, IA_EINVAL, "inputs must have rank >= 1 (got %s and %s)",
                           ia_tensor_describe(A, sa, sizeof sa),
                           ia_tensor_describe(B, sb, sizeof sb));
    s->M = A->rank == 1 ? 1 : A->dims[A->rank - 2];
    s->K = A->dims[A->rank - 1];
    int64_t kb = B->rank == 1 ? B->dims[0] : B->dims[B->rank - 2];
    s->N = B->rank == 1 ? 1 : B->dims[B->rank - 1];
    if (kb != s->K)
        return ia_op_error(ctx, IA_EINVAL, "shapes %s and %s do not multiply",
                           ia_tensor_describe(A, sa, sizeof sa),
                           ia_tensor_describe(B, sb, sizeof sb));
    int ra = A->rank > 2 ? A->rank - 2 : 0, rb = B->rank > 2 ? B->rank - 2 : 0;
    s->bat_rank = ra > rb ? ra : rb;
    s->batch = 1;
    int64_t sta = 1, stb = 1;
    s->a_mats = 1, s->b_mats = 1;
    for (int i = s->bat_rank - 1; i >= 0; i--) {
        int ia = i - (s->bat_rank - ra), ib = i - (s->bat_rank - rb);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, db = ib >= 0 ? B->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ia_op_error(ctx, IA_EINVAL, "batch dims of %s and %s do not broadcast",
                               ia_tensor_describe(A, sa, sizeof sa),
                               ia_tensor_describe(B, sb, sizeof sb));
        s->bat[i] = da == 1 ? db : da;
        s->a_bstride[i] = da == 1 ? 0 : sta;
        s->b_bstride[i] = db == 1 ? 0 : stb;
        sta *= da, stb *= db;
        s->batch *= s->bat[i];
    }
    s->a_mats = sta, s->b_mats = stb;
    int r = 0;
    for (int i = 0; i < s->bat_rank; i++) s->out_dims[r++] = s->bat[i];
    if (A->rank > 1) s->out_dims[r++] = s->M;
    if (B->rank > 1) s->out_dims[r++] = s->N;
    s->out_rank = r;
    return IA_OK;
}

/* Where a zero point or scale comes from: one value, per row of A, per
 * column of B, or per column of each of B's matrices. */
enum qp_mode { QP_NONE, QP_ONE, QP_ROW, QP_COL, QP_MAT_COL };

static int qp_mode(struct ia_op_ctx *ctx, const struct ia_tensor *p, const char *what, int for_a,
                   const struct ia_tensor *op, const struct mm_shape *s, enum qp_mode *mode) {
    char buf[128];
    *mode = QP_NONE;
    if (!p) return IA_OK;
    if (p->numel == 1 && p->rank <= 1) {
        *mode = QP_ONE;
    } else if (for_a && (int64_t)p->numel == s->M && op->rank >= 2 &&
               (p->rank == 1 || (p->rank == 2 && p->dims[1] == 1))) {
        *mode = QP_ROW;
    } else if (!for_a && (int64_t)p->numel == s->N && op->rank >= 2 &&
               (p->rank == 1 || (p->rank == 2 && p->dims[0] == 1))) {
        *mode = QP_COL;
    } else if (!for_a && op->rank > 2 && p->rank == op->rank && p->dims[p->rank - 2] == 1 &&
               p->dims[p->rank - 1] == s->N) {
        *mode = QP_MAT_COL;
        for (int i = 0; i < op->rank - 2; i++)
            if (p->dims[i] != op->dims[i]) *mode = QP_NONE;
    }
    if (*mode == QP_NONE)
        return ia_op_error(ctx, IA_EINVAL, "%s %s does not fit %s", what,
                           ia_tensor_describe(p, buf, sizeof buf),
                           for_a ? "per-tensor or per-row of A" : "per-tensor or per-column of B");
    return IA_OK;
}

static int is_q8(enum ia_dtype t) { return t == IA_DTYPE_UINT8 || t == IA_DTYPE_INT8; }

/* The int16 copy of x - zp, where zp follows mode (mat = matrix index,
 * rows x cols per matrix). */
static void widen(const struct ia_tensor *x, const struct ia_tensor *zp, enum qp_mode mode,
                  int64_t mats, int64_t rows, int64_t cols, int16_t *out) {
    const uint8_t *u = x->data;
    const int8_t *s8 = x->data;
    int sgn = x->dtype == IA_DTYPE_INT8;
    for (int64_t m = 0; m < mats; m++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t base = (m * rows + r) * cols;
            for (int64_t c = 0; c < cols; c++) {
                int64_t z = 0;
                if (mode == QP_ONE)
                    z = ia_tensor_get_i64(zp, 0);
                else if (mode == QP_ROW)
                    z = ia_tensor_get_i64(zp, (uint64_t)r);
                else if (mode == QP_COL)
                    z = ia_tensor_get_i64(zp, (uint64_t)c);
                else if (mode == QP_MAT_COL)
                    z = ia_tensor_get_i64(zp, (uint64_t)(m * cols + c));
                int v = sgn ? s8[base + c] : u[base + c];
                out[base + c] = (int16_t)(v - z);
            }
        }
}

struct mm_job {
    const struct mm_shape *s;
    const int16_t *a, *b; /* widened A (a_mats, M, K) and B (b_mats, K, N) */
    int32_t *acc;         /* MatMulInteger: the output; else per-thread rows (threads, N) */
    /* QLinearMatMul requantisation */
    const struct ia_tensor *as, *bs, *ys, *yz;
    enum qp_mode as_mode, bs_mode;
    void *y;
    enum ia_dtype yt;
};

static void mm_row(void *arg, int64_t task, int thread) {
    struct mm_job *j = arg;
    const struct mm_shape *s = j->s;
    int64_t bi = task / s->M, m = task % s->M, K = s->K, N = s->N;
    int64_t am = 0, bm = 0, rem = bi;
    for (int i = s->bat_rank - 1; i >= 0; i--) {
        int64_t idx = rem % s->bat[i];
        rem /= s->bat[i];
        am += idx * s->a_bstride[i];
        bm += idx * s->b_bstride[i];
    }
    const int16_t *a = j->a + (am * s->M + m) * K;
    const int16_t *b = j->b + bm * K * N;
    int32_t *acc = j->y ? j->acc + (int64_t)thread * N : j->acc + task * N;
    memset(acc, 0, (size_t)N * sizeof *acc);
    for (int64_t k = 0; k < K; k++) {
        int32_t av = a[k];
        const int16_t *br = b + k * N;
        for (int64_t n = 0; n < N; n++) acc[n] += av * br[n];
    }
    if (!j->y) return;
    float lo = j->yt == IA_DTYPE_UINT8 ? 0 : -128, hi = j->yt == IA_DTYPE_UINT8 ? 255 : 127;
    float ys = (float)ia_tensor_get_f64(j->ys, 0);
    float yz = j->yz ? (float)ia_tensor_get_i64(j->yz, 0) : 0;
    float as = (float)ia_tensor_get_f64(j->as, j->as_mode == QP_ROW ? (uint64_t)m : 0);
    for (int64_t n = 0; n < N; n++) {
        uint64_t bsi = j->bs_mode == QP_COL       ? (uint64_t)n
                       : j->bs_mode == QP_MAT_COL ? (uint64_t)(bm * N + n)
                                                  : 0;
        float mult = as * (float)ia_tensor_get_f64(j->bs, bsi) / ys;
        float v = rintf((float)acc[n] * mult) + yz;
        v = v < lo ? lo : v > hi ? hi : v;
        if (j->yt == IA_DTYPE_UINT8)
            ((uint8_t *)j->y)[task * N + n] = (uint8_t)v;
        else
            ((int8_t *)j->y)[task * N + n] = (int8_t)v;
    }
}

/* Shared body: A = inputs[ia], B = inputs[ib], zero points at iaz / ibz. */
static int mm_prepare(struct ia_op_ctx *ctx, size_t ia, size_t iaz, size_t ib, size_t ibz,
                      struct mm_shape *s, enum qp_mode *az_mode, enum qp_mode *bz_mode) {
    const struct ia_tensor *A = in_opt(ctx, ia), *B = in_opt(ctx, ib);
    const struct ia_tensor *az = in_opt(ctx, iaz), *bz = in_opt(ctx, ibz);
    if (!A || !B) return ia_op_error(ctx, IA_EINVAL, "both matrices are required");
    if (!is_q8(A->dtype) || !is_q8(B->dtype))
        return ia_op_error(ctx, IA_EINVAL, "matrices must be uint8 or int8 (got %s and %s)",
                           ia_dtype_name(A->dtype), ia_dtype_name(B->dtype));
    if ((az && az->dtype != A->dtype) || (bz && bz->dtype != B->dtype))
        return ia_op_error(ctx, IA_EINVAL, "a zero point's type differs from its matrix's");
    int rc = mm_shapes(ctx, A, B, s);
    if (rc == IA_OK) rc = qp_mode(ctx, az, "A's zero point", 1, A, s, az_mode);
    if (rc == IA_OK) rc = qp_mode(ctx, bz, "B's zero point", 0, B, s, bz_mode);
    return rc;
}

static int mm_run(struct ia_op_ctx *ctx, size_t ia, size_t iaz, size_t ib, size_t ibz,
                  struct mm_job *j) {
    struct mm_shape s;
    enum qp_mode azm, bzm;
    int rc = mm_prepare(ctx, ia, iaz, ib, ibz, &s, &azm, &bzm);
    if (rc) return rc;
    const struct ia_tensor *A = ctx->inputs[ia], *B = ctx->inputs[ib];
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    uint64_t na = A->numel, nb = B->numel;
    uint64_t bytes = (na + nb) * sizeof(int16_t) + 64;
    if (j->y) bytes += (uint64_t)threads * (uint64_t)s.N * sizeof(int32_t);
    unsigned char *mem = ctx->scratch(ctx, (size_t)bytes);
    if (!mem)
        return ia_op_error(ctx, IA_ENOMEM, "no memory for %llu bytes of work space",
                           (unsigned long long)bytes);
    int16_t *a16 = (int16_t *)mem, *b16 = a16 + na;
    if (j->y) j->acc = (int32_t *)(((uintptr_t)(b16 + nb) + 7) & ~(uintptr_t)7);
    widen(A, in_opt(ctx, iaz), azm, s.a_mats, s.M, s.K, a16);
    widen(B, in_opt(ctx, ibz), bzm, s.b_mats, s.K, s.N, b16);
    j->s = &s;
    j->a = a16;
    j->b = b16;
    int64_t tasks = s.batch * s.M;
    if (s.N == 0 || tasks == 0) return IA_OK;
    if (ctx->pool && tasks > 1 && (double)tasks * (double)s.K * (double)s.N > 32768.0)
        ia_pool_run(ctx->pool, tasks, mm_row, j);
    else
        for (int64_t t = 0; t < tasks; t++) mm_row(j, t, 0);
    return IA_OK;
}

static int mmi_infer(struct ia_op_ctx *ctx) {
    struct mm_shape s;
    enum qp_mode a, b;
    int rc = mm_prepare(ctx, 0, 2, 1, 3, &s, &a, &b);
    if (rc) return rc;
    return ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_INT32, s.out_rank, s.out_dims);
}

static int mmi_compute(struct ia_op_ctx *ctx) {
    struct mm_job j = {0};
    j.acc = ctx->outputs[0]->data;
    return mm_run(ctx, 0, 2, 1, 3, &j);
}

/* QLinearMatMul inputs: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp. */
static int qlmm_check(struct ia_op_ctx *ctx, struct mm_shape *s, enum qp_mode *asm_,
                      enum qp_mode *bsm) {
    enum qp_mode a, b;
    int rc = mm_prepare(ctx, 0, 2, 3, 5, s, &a, &b);
    if (rc) return rc;
    const struct ia_tensor *as = in_opt(ctx, 1), *bs = in_opt(ctx, 4), *ys = in_opt(ctx, 6),
                           *yz = in_opt(ctx, 7);
    if (!as || !bs || !ys)
        return ia_op_error(ctx, IA_EINVAL, "a_scale, b_scale and y_scale are required");
    if (as->dtype != IA_DTYPE_FLOAT32 || bs->dtype != IA_DTYPE_FLOAT32 ||
        ys->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EINVAL, "scales must be float32");
    if (ys->numel != 1 || (yz && yz->numel != 1))
        return ia_op_error(ctx, IA_EINVAL, "y_scale and y_zero_point must be scalars");
    if (yz && !is_q8(yz->dtype))
        return ia_op_error(ctx, IA_EINVAL, "y_zero_point must be uint8 or int8");
    rc = qp_mode(ctx, as, "a_scale", 1, ctx->inputs[0], s, asm_);
    if (rc == IA_OK) rc = qp_mode(ctx, bs, "b_scale", 0, ctx->inputs[3], s, bsm);
    return rc;
}

static int qlmm_infer(struct ia_op_ctx *ctx) {
    struct mm_shape s;
    enum qp_mode a, b;
    int rc = qlmm_check(ctx, &s, &a, &b);
    if (rc) return rc;
    const struct ia_tensor *yz = in_opt(ctx, 7);
    return ia_tensor_set_shape(ctx->outputs[0], yz ? yz->dtype : IA_DTYPE_UINT8, s.out_rank,
                               s.out_dims);
}

static int qlmm_compute(struct ia_op_ctx *ctx) {
    struct mm_shape s;
    struct mm_job j = {0};
    int rc = qlmm_check(ctx, &s, &j.as_mode, &j.bs_mode);
    if (rc) return rc;
    j.as = ctx->inputs[1];
    j.bs = ctx->inputs[4];
    j.ys = ctx->inputs[6];
    j.yz = in_opt(ctx, 7);
    j.y = ctx->outputs[0]->data;
    j.yt = ctx->outputs[0]->dtype;
    if (!(ia_tensor_get_f64(j.ys, 0) != 0)) return ia_op_error(ctx, IA_EINVAL, "y_scale is 0");
    return mm_run(ctx, 0, 2, 3, 5, &j);
}

// clang-format off
const struct ia_op_def ia_op_MatMulInteger = {"", "MatMulInteger", 10, 0, mmi_infer, mmi_compute};
const struct ia_op_def ia_op_QLinearMatMul = {"", "QLinearMatMul", 10, 0, qlmm_infer, qlmm_compute};
// clang-format on
