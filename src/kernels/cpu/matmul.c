/* MatMul (numpy matmul: batched, broadcast batch dims, 1-D operands) and
 * Gemm (transA/transB, alpha, beta, optional C broadcast to M x N).
 *
 * float32 (and float16/bfloat16, widened to float32) run on ia_sgemm;
 * float64 and the integer types run plain loops (integers wrap like
 * numpy's). A MatMul whose B has no batch of its own (the common
 * activations x weights case) folds A's batch into M: one big product. */
#include <stdlib.h>

#include "gemm.h"
#include "nn_util.h"

/* ---- plain loops for the dtypes ia_sgemm does not cover -------------------------- */

/* C (M x N, row stride ldc) = alpha * op(A) op(B) + beta * C (beta 0: ignore C).
 * alpha/beta 1/0 keep integer arithmetic exact. */
#define MM_LOOP(NAME, T, ACC)                                                                   \
    static void NAME(int ta, int tb, int64_t M, int64_t N, int64_t K, double alpha,            \
                     const void *av, int64_t lda, const void *bv, int64_t ldb, double beta,    \
                     void *cv, int64_t ldc) {                                                   \
        const T *A = av, *B = bv;                                                               \
        T *C = cv;                                                                              \
        for (int64_t i = 0; i < M; i++)                                                         \
            for (int64_t j = 0; j < N; j++) {                                                   \
                ACC s = 0;                                                                      \
                for (int64_t k = 0; k < K; k++)                                                 \
                    s += (ACC)(ta ? A[k * lda + i] : A[i * lda + k]) *                          \
                         (ACC)(tb ? B[j * ldb + k] : B[k * ldb + j]);                           \
                T *c = C + i * ldc + j;                                                         \
                if (alpha == 1.0 && beta == 0.0)                                                \
                    *c = (T)s;                                                                  \
                else if (alpha == 1.0 && beta == 1.0)                                           \
                    *c = (T)(s + (ACC)*c);                                                      \
                else                                                                            \
                    *c = (T)(alpha * (double)s + (beta == 0.0 ? 0.0 : beta * (double)*c));      \
            }                                                                                   \
    }
MM_LOOP(mm_f64, double, double)
MM_LOOP(mm_i32, int32_t, uint32_t)
MM_LOOP(mm_i64, int64_t, uint64_t)
MM_LOOP(mm_u32, uint32_t, uint32_t)
MM_LOOP(mm_u64, uint64_t, uint64_t)
#undef MM_LOOP

typedef void (*mm_fn)(int, int, int64_t, int64_t, int64_t, double, const void *, int64_t,
                      const void *, int64_t, double, void *, int64_t);

static mm_fn mm_pick(enum ia_dtype t) {
    switch (t) {
    case IA_DTYPE_FLOAT64: return mm_f64;
    case IA_DTYPE_INT32: return mm_i32;
    case IA_DTYPE_INT64: return mm_i64;
    case IA_DTYPE_UINT32: return mm_u32;
    case IA_DTYPE_UINT64: return mm_u64;
    default: return NULL;
    }
}

/* float32 (native or widened) or a looped dtype. */
static int mm_dtype_ok(enum ia_dtype t) {
    return t == IA_DTYPE_FLOAT32 || t == IA_DTYPE_FLOAT16 || t == IA_DTYPE_BFLOAT16 ||
           mm_pick(t) != NULL;
}

static int need_inputs(struct ia_op_ctx *ctx, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!sh_in(ctx, i)) return ia_op_error(ctx, IA_EINVAL, "input %zu is missing", i);
    if (!sh_out(ctx, 0)) return ia_op_error(ctx, IA_EINVAL, "output 0 is missing");
    return IA_OK;
}

/* ---- MatMul ------------------------------------------------------------------------ */

struct mm_plan {
    int64_t M, N, K;
    int brank;                    /* output batch rank */
    int64_t bdims[IA_MAX_RANK];   /* output batch dims */
    int64_t astr[IA_MAX_RANK];    /* A's element stride per batch dim (0: broadcast) */
    int64_t bstr[IA_MAX_RANK];
    uint64_t nbatch, a_nbatch, b_nbatch;
    int out_rank;
    int64_t out_dims[IA_MAX_RANK];
};

static int mm_plan(struct ia_op_ctx *ctx, const struct ia_tensor *a, const struct ia_tensor *b,
                   struct mm_plan *p) {
    char sa[128], sb[128];
    if (a->rank < 1 || b->rank < 1)
        return ia_op_error(ctx, IA_EINVAL, "operands must have rank >= 1, got %s and %s",
                           ia_tensor_describe(a, sa, sizeof sa),
                           ia_tensor_describe(b, sb, sizeof sb));
    int ar = a->rank >= 2 ? a->rank - 2 : 0, br = b->rank >= 2 ? b->rank - 2 : 0;
    p->M = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    p->K = a->dims[a->rank - 1];
    int64_t kb = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
    p->N = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    if (kb != p->K)
        return ia_op_error(ctx, IA_EINVAL, "inner dims differ: %s x %s",
                           ia_tensor_describe(a, sa, sizeof sa),
                           ia_tensor_describe(b, sb, sizeof sb));
    p->brank = ar > br ? ar : br;
    p->nbatch = p->a_nbatch = p->b_nbatch = 1;
    /* Unsigned: with a zero dim elsewhere the other products may wrap, and
     * then no element is ever addressed with them. */
    uint64_t as = (uint64_t)p->M * (uint64_t)p->K, bs = (uint64_t)p->K * (uint64_t)p->N;
    for (int i = p->brank - 1; i >= 0; i--) {
        int ia_ = i - (p->brank - ar), ib = i - (p->brank - br);
        int64_t da = ia_ >= 0 ? a->dims[ia_] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ia_op_error(ctx, IA_EINVAL, "batch dims of %s and %s do not broadcast",
                               ia_tensor_describe(a, sa, sizeof sa),
                               ia_tensor_describe(b, sb, sizeof sb));
        p->bdims[i] = da == 1 ? db : da;
        p->astr[i] = da == 1 ? 0 : (int64_t)as;
        p->bstr[i] = db == 1 ? 0 : (int64_t)bs;
        as *= (uint64_t)da;
        bs *= (uint64_t)db;
        p->nbatch *= (uint64_t)p->bdims[i];
        p->a_nbatch *= (uint64_t)da;
        p->b_nbatch *= (uint64_t)db;
    }
    p->out_rank = 0;
    for (int i = 0; i < p->brank; i++) p->out_dims[p->out_rank++] = p->bdims[i];
    if (a->rank >= 2) p->out_dims[p->out_rank++] = p->M;
    if (b->rank >= 2) p->out_dims[p->out_rank++] = p->N;
    return IA_OK;
}

static int matmul_infer(struct ia_op_ctx *ctx) {
    int rc = need_inputs(ctx, 2);
    if (rc) return rc;
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1];
    if (a->dtype != b->dtype)
        return ia_op_error(ctx, IA_EINVAL, "operand types differ: %s and %s",
                           ia_dtype_name(a->dtype), ia_dtype_name(b->dtype));
    if (!mm_dtype_ok(a->dtype))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "type %s is not supported",
                           ia_dtype_name(a->dtype));
    struct mm_plan p;
    if ((rc = mm_plan(ctx, a, b, &p))) return rc;
    return ia_tensor_set_shape(ctx->outputs[0], a->dtype, p.out_rank, p.out_dims);
}

struct mm_batch_job {
    const struct mm_plan *p;
    const char *a, *b;
    char *c;
    size_t esize;
    mm_fn fn; /* NULL: float32 */
    int rc;
};

static void mm_batch_offsets(const struct mm_plan *p, uint64_t bi, int64_t *ao, int64_t *bo) {
    int64_t oa = 0, ob = 0;
    for (int i = p->brank - 1; i >= 0; i--) {
        int64_t d = (int64_t)(bi % (uint64_t)p->bdims[i]);
        bi /= (uint64_t)p->bdims[i];
        oa += d * p->astr[i];
        ob += d * p->bstr[i];
    }
    *ao = oa;
    *bo = ob;
}

static void mm_batch_task(void *vj, int64_t t, int thread) {
    (void)thread;
    struct mm_batch_job *j = vj;
    const struct mm_plan *p = j->p;
    int64_t ao, bo;
    mm_batch_offsets(p, (uint64_t)t, &ao, &bo);
    const char *a = j->a + (size_t)ao * j->esize, *b = j->b + (size_t)bo * j->esize;
    char *c = j->c + (size_t)t * (size_t)(p->M * p->N) * j->esize;
    if (j->fn) {
        j->fn(0, 0, p->M, p->N, p->K, 1.0, a, p->K, b, p->N, 0.0, c, p->N);
    } else {
        int rc = ia_sgemm(0, 0, p->M, p->N, p->K, 1.0f, (const float *)a, p->K,
                          (const float *)b, p->N, 0.0f, (float *)c, p->N, NULL);
        if (rc) __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
    }
}

static int matmul_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1];
    struct ia_tensor *y = ctx->outputs[0];
    struct mm_plan p;
    int rc = mm_plan(ctx, a, b, &p);
    if (rc || y->numel == 0) return rc;
    mm_fn fn = mm_pick(a->dtype);
    struct mm_batch_job j = {.p = &p, .fn = fn};
    float *yf = NULL;
    if (fn) {
        j.a = a->data;
        j.b = b->data;
        j.c = y->data;
        j.esize = ia_dtype_size(a->dtype);
    } else {
        const float *af, *bf;
        if ((rc = nn_f32_in(ctx, a, &af)) || (rc = nn_f32_in(ctx, b, &bf)) ||
            (rc = nn_f32_out(ctx, y, &yf)))
            return rc;
        j.a = (const char *)af;
        j.b = (const char *)bf;
        j.c = (char *)yf;
        j.esize = sizeof(float);
        if (p.b_nbatch == 1 && p.a_nbatch == p.nbatch) {
            /* A's batches are consecutive rows of one (nbatch*M) x K matrix. */
            rc = ia_sgemm(0, 0, (int64_t)p.nbatch * p.M, p.N, p.K, 1.0f, af, p.K, bf, p.N, 0.0f,
                          yf, p.N, ctx->pool);
            if (rc) return ia_op_error(ctx, rc, "%s", ia_error_msg());
            return nn_f32_out_done(ctx, y, yf);
        }
    }
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    double work = (double)p.M * (double)p.N * (double)p.K;
    if (fn || (threads > 1 && p.nbatch >= (uint64_t)threads && work < 1e7)) {
        /* Many small products: one per task, each on one thread. */
        if (ctx->pool && p.nbatch > 1)
            ia_pool_run(ctx->pool, (int64_t)p.nbatch, mm_batch_task, &j);
        else
            for (uint64_t t = 0; t < p.nbatch; t++) mm_batch_task(&j, (int64_t)t, 0);
        rc = j.rc;
    } else {
        for (uint64_t t = 0; t < p.nbatch && !rc; t++) {
            int64_t ao, bo;
            mm_batch_offsets(&p, t, &ao, &bo);
            rc = ia_sgemm(0, 0, p.M, p.N, p.K, 1.0f, (const float *)j.a + ao, p.K,
                          (const float *)j.b + bo, p.N, 0.0f, yf + t * (uint64_t)(p.M * p.N),
                          p.N, ctx->pool);
        }
    }
    if (rc) return ia_op_error(ctx, rc, "%s", ia_error_msg());
    return fn ? IA_OK : nn_f32_out_done(ctx, y, yf);
}

/* ---- Gemm ---------------------------------------------------------------------------- */

struct gemm_dims {
    int64_t M, N, K;
    int ta, tb;
};

static int gemm_dims(struct ia_op_ctx *ctx, struct gemm_dims *g) {
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1];
    char sa[128], sb[128];
    if (a->rank != 2 || b->rank != 2)
        return ia_op_error(ctx, IA_EINVAL, "A and B must be 2-D, got %s and %s",
                           ia_tensor_describe(a, sa, sizeof sa),
                           ia_tensor_describe(b, sb, sizeof sb));
    g->ta = ia_attr_int(ctx->node, "transA", 0) != 0;
    g->tb = ia_attr_int(ctx->node, "transB", 0) != 0;
    g->M = a->dims[g->ta ? 1 : 0];
    g->K = a->dims[g->ta ? 0 : 1];
    int64_t kb = b->dims[g->tb ? 1 : 0];
    g->N = b->dims[g->tb ? 0 : 1];
    if (kb != g->K)
        return ia_op_error(ctx, IA_EINVAL, "inner dims differ: %s%s x %s%s",
                           ia_tensor_describe(a, sa, sizeof sa), g->ta ? "^T" : "",
                           ia_tensor_describe(b, sb, sizeof sb), g->tb ? "^T" : "");
    const struct ia_tensor *c = sh_in(ctx, 2);
    if (c) {
        int ok = c->rank <= 2;
        int64_t want[2] = {g->M, g->N};
        for (int i = 0; ok && i < c->rank; i++) {
            int64_t d = c->dims[i], w = want[2 - c->rank + i];
            ok = d == w || d == 1;
        }
        if (!ok)
            return ia_op_error(ctx, IA_EINVAL, "C %s does not broadcast to [%lld,%lld]",
                               ia_tensor_describe(c, sa, sizeof sa), (long long)g->M,
                               (long long)g->N);
        if (c->dtype != a->dtype)
            return ia_op_error(ctx, IA_EINVAL, "C has type %s, A %s", ia_dtype_name(c->dtype),
                               ia_dtype_name(a->dtype));
    } else if (ctx->opset < 11) {
        return ia_op_error(ctx, IA_EINVAL, "C is required before opset 11");
    }
    return IA_OK;
}

static int gemm_infer(struct ia_op_ctx *ctx) {
    int rc = need_inputs(ctx, 2);
    if (rc) return rc;
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1];
    if (a->dtype != b->dtype)
        return ia_op_error(ctx, IA_EINVAL, "operand types differ: %s and %s",
                           ia_dtype_name(a->dtype), ia_dtype_name(b->dtype));
    if (!mm_dtype_ok(a->dtype))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "type %s is not supported",
                           ia_dtype_name(a->dtype));
    struct gemm_dims g;
    if ((rc = gemm_dims(ctx, &g))) return rc;
    int64_t d[2] = {g.M, g.N};
    return ia_tensor_set_shape(ctx->outputs[0], a->dtype, 2, d);
}

/* y (M x N) = C broadcast, element by element in C's own dtype. */
static void fill_bcast_c(const struct ia_tensor *c, void *yv, size_t es, int64_t M, int64_t N) {
    int64_t cm = c->rank == 2 ? c->dims[0] : 1;
    int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    const char *cp = c->data;
    char *y = yv;
    for (int64_t i = 0; i < M; i++) {
        const char *row = cp + (size_t)(cm == 1 ? 0 : i) * (size_t)cn * es;
        char *yr = y + (size_t)(i * N) * es;
        if (cn == N)
            memcpy(yr, row, (size_t)N * es);
        else
            for (int64_t j = 0; j < N; j++) memcpy(yr + (size_t)j * es, row, es);
    }
}

static int gemm_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *a = ctx->inputs[0], *b = ctx->inputs[1], *c = sh_in(ctx, 2);
    struct ia_tensor *y = ctx->outputs[0];
    struct gemm_dims g;
    int rc = gemm_dims(ctx, &g);
    if (rc || y->numel == 0) return rc;
    float alpha = ia_attr_float(ctx->node, "alpha", 1.0f);
    float beta = ia_attr_float(ctx->node, "beta", 1.0f);
    if (!c || c->numel == 0) beta = 0.0f;
    int64_t lda = a->dims[1], ldb = b->dims[1];
    mm_fn fn = mm_pick(a->dtype);
    if (fn) {
        if (beta != 0.0f) fill_bcast_c(c, y->data, ia_dtype_size(y->dtype), g.M, g.N);
        fn(g.ta, g.tb, g.M, g.N, g.K, alpha, a->data, lda, b->data, ldb, beta, y->data, g.N);
        return IA_OK;
    }
    const float *af, *bf;
    float *yf;
    if ((rc = nn_f32_in(ctx, a, &af)) || (rc = nn_f32_in(ctx, b, &bf)) ||
        (rc = nn_f32_out(ctx, y, &yf)))
        return rc;
    if (beta != 0.0f) {
        const float *cf;
        if ((rc = nn_f32_in(ctx, c, &cf))) return rc;
        struct ia_tensor cv = *c;
        cv.dtype = IA_DTYPE_FLOAT32;
        cv.data = (void *)cf;
        fill_bcast_c(&cv, yf, sizeof(float), g.M, g.N);
    }
    rc = ia_sgemm(g.ta, g.tb, g.M, g.N, g.K, alpha, af, lda, bf, ldb, beta, yf, g.N, ctx->pool);
    if (rc) return ia_op_error(ctx, rc, "%s", ia_error_msg());
    return nn_f32_out_done(ctx, y, yf);
}

const struct ia_op_def ia_op_MatMul = {"", "MatMul", 1, 0, matmul_infer, matmul_compute};
const struct ia_op_def ia_op_Gemm = {"", "Gemm", 1, 0, gemm_infer, gemm_compute};
