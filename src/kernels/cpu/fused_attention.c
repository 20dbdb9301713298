/* FusedAttention (domain "ai.ia.fused", internal; see src/graph/fuse.c):
 *
 *   FusedAttention(Q, K, V, mask?) -> O
 *       O = softmax(scale * Q K^T + mask) V, per batch b and head h,
 *       softmax over the keys.
 *   attrs: scale (float, default 1)
 *          q_layout, v_layout, out_layout: 0 = [B, H, S, D], 1 = [B, S, H, D]
 *          k_layout: 0 = K^T [B, H, D, Sk], 1 = [B, Sk, H, D], 2 = [B, H, Sk, D]
 *   mask: float32, broadcastable (numpy rules, rank <= 4) to [B, H, Sq, Sk].
 * The [B, S, H, D] layouts are the tensors before the head Transposes an
 * exported graph has, read in place with strides, so those copies go too.
 *
 * Work is split over the pool by (batch, head, block of query rows); each
 * task keeps only its block's scores (rows x Sk) in scratch, never the
 * whole B x H x Sq x Sk matrix. With AVX-512 and 8 or more query rows,
 * a task is a chunk of one head's rows: K^T is packed once per task and
 * the products are register-blocked kernels (attention_avx512.c) reading
 * Q, V and the output in place. Otherwise (a decode step's single row,
 * other CPUs) products go through ia_sgemm with row strides (one thread
 * each). The softmax's exps are vectorised (fused_math.h, relative error
 * ~2e-7) and its sum ends in double. Q, K and V must agree on B and H
 * (exported attention never broadcasts them); anything else is an error
 * naming the node. */
#include <math.h>
#include <string.h>

#include "attention_avx512.h"
#include "fused_math.h"
#include "gemm.h"
#include "ia/kernels.h"

#define ROW_BLOCK 32

struct att_dims {
    int64_t B, H, Sq, Sk, D, Dv;
    int ql, kl, vl, ol;
    int64_t mstr[4]; /* mask element strides over (b, h, q, k); 0 = broadcast */
};

static const struct ia_tensor *opt_in(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

static int att_check(struct ia_op_ctx *ctx, struct att_dims *a) {
    const struct ia_tensor *q = opt_in(ctx, 0), *k = opt_in(ctx, 1), *v = opt_in(ctx, 2),
                           *m = opt_in(ctx, 3);
    char s1[128], s2[128], s3[128];
    if (!q || !k || !v || ctx->n_outputs < 1 || !ctx->outputs[0])
        return ia_op_error(ctx, IA_EINVAL, "Q, K, V and the output are required");
    if (q->dtype != IA_DTYPE_FLOAT32 || k->dtype != IA_DTYPE_FLOAT32 ||
        v->dtype != IA_DTYPE_FLOAT32 || (m && m->dtype != IA_DTYPE_FLOAT32))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "float32 only");
    if (q->rank != 4 || k->rank != 4 || v->rank != 4)
        return ia_op_error(ctx, IA_EINVAL, "Q %s, K %s and V %s must be 4-D",
                           ia_tensor_describe(q, s1, sizeof s1), ia_tensor_describe(k, s2, sizeof s2),
                           ia_tensor_describe(v, s3, sizeof s3));
    int64_t ql = ia_attr_int(ctx->node, "q_layout", 0), kl = ia_attr_int(ctx->node, "k_layout", 0),
            vl = ia_attr_int(ctx->node, "v_layout", 0), ol = ia_attr_int(ctx->node, "out_layout", 0);
    if (ql < 0 || ql > 1 || vl < 0 || vl > 1 || ol < 0 || ol > 1 || kl < 0 || kl > 2)
        return ia_op_error(ctx, IA_EINVAL, "bad layout attribute (q %lld k %lld v %lld out %lld)",
                           (long long)ql, (long long)kl, (long long)vl, (long long)ol);
    a->ql = (int)ql, a->kl = (int)kl, a->vl = (int)vl, a->ol = (int)ol;
    a->B = q->dims[0];
    a->H = q->dims[ql ? 2 : 1];
    a->Sq = q->dims[ql ? 1 : 2];
    a->D = q->dims[3];
    int64_t kb = k->dims[0], kh, ksk, kd;
    if (kl == 0) kh = k->dims[1], kd = k->dims[2], ksk = k->dims[3];
    else if (kl == 1) ksk = k->dims[1], kh = k->dims[2], kd = k->dims[3];
    else kh = k->dims[1], ksk = k->dims[2], kd = k->dims[3];
    int64_t vb = v->dims[0], vh = v->dims[vl ? 2 : 1], vsk = v->dims[vl ? 1 : 2];
    a->Sk = ksk;
    a->Dv = v->dims[3];
    if (kb != a->B || vb != a->B || kh != a->H || vh != a->H || kd != a->D || vsk != ksk)
        return ia_op_error(ctx, IA_EINVAL, "Q %s, K %s and V %s do not fit together (layouts %d %d %d)",
                           ia_tensor_describe(q, s1, sizeof s1), ia_tensor_describe(k, s2, sizeof s2),
                           ia_tensor_describe(v, s3, sizeof s3), a->ql, a->kl, a->vl);
    memset(a->mstr, 0, sizeof a->mstr);
    if (m) {
        if (m->rank > 4)
            return ia_op_error(ctx, IA_EINVAL, "mask %s has rank over 4",
                               ia_tensor_describe(m, s1, sizeof s1));
        const int64_t want[4] = {a->B, a->H, a->Sq, a->Sk};
        int64_t stride = 1;
        for (int i = m->rank - 1; i >= 0; i--) {
            int slot = 4 - m->rank + i;
            int64_t d = m->dims[i];
            if (d != 1 && d != want[slot])
                return ia_op_error(ctx, IA_EINVAL, "mask %s does not broadcast to [%lld,%lld,%lld,%lld]",
                                   ia_tensor_describe(m, s1, sizeof s1), (long long)a->B,
                                   (long long)a->H, (long long)a->Sq, (long long)a->Sk);
            a->mstr[slot] = d == 1 ? 0 : stride;
            stride *= d;
        }
    }
    return IA_OK;
}

static int att_infer(struct ia_op_ctx *ctx) {
    struct att_dims a;
    int rc = att_check(ctx, &a);
    if (rc) return rc;
    int64_t d[4] = {a.B, a.ol ? a.Sq : a.H, a.ol ? a.H : a.Sq, a.Dv};
    return ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_FLOAT32, 4, d);
}

/* row += mask (element stride mk), then softmax in place; the exps 16 at a
 * time (fused_math.h), the sum in float lanes then double. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
softmax_row(float *sr, int64_t n, const float *mr, int64_t mk) {
    if (mr) {
        if (mk == 1)
            for (int64_t c = 0; c < n; c++) sr[c] += mr[c];
        else
            for (int64_t c = 0; c < n; c++) sr[c] += mr[c * mk];
    }
    float mx = sr[0];
    int64_t c = 0;
    if (n >= 16) {
        v16f vm;
        memcpy(&vm, sr, sizeof vm);
        for (c = 16; c + 16 <= n; c += 16) {
            v16f v;
            memcpy(&v, sr + c, sizeof v);
            vm = VSEL(v > vm, v, vm);
        }
        for (int i = 0; i < 16; i++) mx = vm[i] > mx ? vm[i] : mx;
    }
    for (; c < n; c++) mx = sr[c] > mx ? sr[c] : mx;
    v16f acc = {0};
    c = 0;
    for (; c + 16 <= n; c += 16) {
        v16f v;
        memcpy(&v, sr + c, sizeof v);
        v -= mx;
        v_exp(&v);
        memcpy(sr + c, &v, sizeof v);
        acc += v;
    }
    if (c < n) { /* the tail in one padded vector: lanes past n exp to 0 */
        v16f v;
        for (int i = 0; i < 16; i++) v[i] = -INFINITY;
        memcpy(&v, sr + c, (size_t)(n - c) * sizeof(float));
        v -= mx;
        v_exp(&v);
        memcpy(sr + c, &v, (size_t)(n - c) * sizeof(float));
        acc += v;
    }
    double sum = 0.0;
    for (int i = 0; i < 16; i++) sum += acc[i];
    float inv = (float)(1.0 / sum);
    for (c = 0; c < n; c++) sr[c] *= inv;
}

struct att_job {
    struct att_dims a;
    const float *q, *k, *v, *m;
    float *o, *scratch; /* per thread: ROW_BLOCK x Sk, or (AVX-512) K^T + 8 x skp */
    float scale;
    int64_t n_rblk;   /* tasks per (batch, head) */
    int64_t chunk;    /* AVX-512: query rows per task */
    int64_t per_thr;  /* AVX-512: scratch floats per thread */
    int rc;
};

/* Where query row r of head (b, h) starts, and the row stride; same for
 * the output. */
static const float *q_at(const struct att_job *j, int64_t b, int64_t h, int64_t r, int64_t *ld) {
    const struct att_dims *a = &j->a;
    *ld = a->ql ? a->H * a->D : a->D;
    return a->ql ? j->q + ((b * a->Sq + r) * a->H + h) * a->D
                 : j->q + ((b * a->H + h) * a->Sq + r) * a->D;
}

static float *o_at(const struct att_job *j, int64_t b, int64_t h, int64_t r, int64_t *ld) {
    const struct att_dims *a = &j->a;
    *ld = a->ol ? a->H * a->Dv : a->Dv;
    return a->ol ? j->o + ((b * a->Sq + r) * a->H + h) * a->Dv
                 : j->o + ((b * a->H + h) * a->Sq + r) * a->Dv;
}

static const float *v_at(const struct att_job *j, int64_t b, int64_t h, int64_t *ld) {
    const struct att_dims *a = &j->a;
    *ld = a->vl ? a->H * a->Dv : a->Dv;
    return a->vl ? j->v + (b * a->Sk * a->H + h) * a->Dv : j->v + (b * a->H + h) * a->Sk * a->Dv;
}

/* AVX-512: one task is a chunk of query rows of one head; K^T is packed
 * once for it, then each block of 8 rows goes scores, softmax, P V while
 * its scores are in L1. */
static void att_task_avx512(void *vj, int64_t t, int thread) {
    struct att_job *j = vj;
    const struct att_dims *a = &j->a;
    int64_t bh = t / j->n_rblk, b = bh / a->H, h = bh % a->H, Sk = a->Sk;
    int64_t r_begin = (t % j->n_rblk) * j->chunk;
    int64_t r_end = r_begin + j->chunk < a->Sq ? r_begin + j->chunk : a->Sq;
    int64_t skp = (Sk + IA_ATT_KT_ALIGN - 1) / IA_ATT_KT_ALIGN * IA_ATT_KT_ALIGN;
    float *kt = j->scratch + (size_t)thread * (size_t)j->per_thr;
    float *s = kt + ia_att_kt_floats(Sk, a->D);
    const float *k = a->kl == 0   ? j->k + (b * a->H + h) * a->D * Sk
                     : a->kl == 1 ? j->k + (b * Sk * a->H + h) * a->D
                                  : j->k + (b * a->H + h) * Sk * a->D;
    int64_t kc = a->kl == 0 ? 1 : a->kl == 1 ? a->H * a->D : a->D, kd = a->kl == 0 ? Sk : 1;
    ia_att_pack_kt(Sk, a->D, k, kc, kd, kt);
    int64_t ldv;
    const float *v = v_at(j, b, h, &ldv);
    for (int64_t r0 = r_begin; r0 < r_end; r0 += 8) {
        int64_t rows = r_end - r0 < 8 ? r_end - r0 : 8, ldq, ldo;
        const float *q = q_at(j, b, h, r0, &ldq);
        ia_att_scores_avx512(rows, a->D, skp, j->scale, q, ldq, kt, s);
        for (int64_t r = 0; r < rows; r++) {
            const float *mr =
                j->m ? j->m + b * a->mstr[0] + h * a->mstr[1] + (r0 + r) * a->mstr[2] : NULL;
            softmax_row(s + r * skp, Sk, mr, a->mstr[3]);
        }
        float *o = o_at(j, b, h, r0, &ldo);
        ia_att_pv_avx512(rows, Sk, a->Dv, s, skp, v, ldv, o, ldo);
    }
}

/* Sets up the AVX-512 path: rows per task so that there are at least
 * 2 tasks per thread (B x H alone is 12 for BERT-base, fine; one head of
 * a long sequence gets split), in multiples of 8. */
static int att_plan_avx512(struct ia_op_ctx *ctx, struct att_job *j, int threads) {
    const struct att_dims *a = &j->a;
    int64_t bh = a->B * a->H, want = 2 * (int64_t)threads;
    int64_t split = bh >= want ? 1 : (want + bh - 1) / bh;
    int64_t chunk = (a->Sq + split - 1) / split;
    chunk = (chunk + 7) / 8 * 8;
    j->chunk = chunk;
    j->n_rblk = (a->Sq + chunk - 1) / chunk;
    int64_t skp = (a->Sk + IA_ATT_KT_ALIGN - 1) / IA_ATT_KT_ALIGN * IA_ATT_KT_ALIGN;
    j->per_thr = (ia_att_kt_floats(a->Sk, a->D) + 8 * skp + 15) / 16 * 16;
    if ((uint64_t)j->per_thr * (uint64_t)threads > ((uint64_t)1 << 34))
        return ia_op_error(ctx, IA_ERANGE, "%lld keys is too many", (long long)a->Sk);
    j->scratch = ctx->scratch(ctx, (size_t)j->per_thr * (size_t)threads * sizeof(float));
    if (!j->scratch) return ia_op_error(ctx, IA_ENOMEM, "no scratch for the scores");
    return IA_OK;
}

static void att_task(void *vj, int64_t t, int thread) {
    struct att_job *j = vj;
    const struct att_dims *a = &j->a;
    int64_t bh = t / j->n_rblk, r0 = (t % j->n_rblk) * ROW_BLOCK, b = bh / a->H, h = bh % a->H;
    int64_t rows = a->Sq - r0 < ROW_BLOCK ? a->Sq - r0 : ROW_BLOCK, Sk = a->Sk;
    float *s = j->scratch + (size_t)thread * ROW_BLOCK * (size_t)Sk;
    const float *q = a->ql ? j->q + ((b * a->Sq + r0) * a->H + h) * a->D
                           : j->q + ((b * a->H + h) * a->Sq + r0) * a->D;
    int64_t ldq = a->ql ? a->H * a->D : a->D;
    const float *k;
    int64_t ldk;
    int tk;
    if (a->kl == 0) k = j->k + (b * a->H + h) * a->D * Sk, ldk = Sk, tk = 0;
    else if (a->kl == 1) k = j->k + (b * Sk * a->H + h) * a->D, ldk = a->H * a->D, tk = 1;
    else k = j->k + (b * a->H + h) * Sk * a->D, ldk = a->D, tk = 1;
    int rc = ia_sgemm(0, tk, rows, Sk, a->D, j->scale, q, ldq, k, ldk, 0.0f, s, Sk, NULL);
    for (int64_t r = 0; rc == IA_OK && r < rows; r++) {
        const float *mr = j->m ? j->m + b * a->mstr[0] + h * a->mstr[1] + (r0 + r) * a->mstr[2] : NULL;
        softmax_row(s + r * Sk, Sk, mr, a->mstr[3]);
    }
    const float *v = a->vl ? j->v + (b * Sk * a->H + h) * a->Dv : j->v + (b * a->H + h) * Sk * a->Dv;
    int64_t ldv = a->vl ? a->H * a->Dv : a->Dv;
    float *o = a->ol ? j->o + ((b * a->Sq + r0) * a->H + h) * a->Dv
                     : j->o + ((b * a->H + h) * a->Sq + r0) * a->Dv;
    int64_t ldo = a->ol ? a->H * a->Dv : a->Dv;
    if (rc == IA_OK) rc = ia_sgemm(0, 0, rows, a->Dv, Sk, 1.0f, s, Sk, v, ldv, 0.0f, o, ldo, NULL);
    if (rc) __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
}

static int att_compute(struct ia_op_ctx *ctx) {
    struct att_job j = {0};
    int rc = att_check(ctx, &j.a);
    struct ia_tensor *y = ctx->outputs[0];
    if (rc || y->numel == 0) return rc;
    const struct att_dims *a = &j.a;
    if (a->Sk == 0) { /* no keys: softmax of nothing; like the unfused graph's empty sum */
        memset(y->data, 0, (size_t)y->nbytes);
        return IA_OK;
    }
    const struct ia_tensor *m = opt_in(ctx, 3);
    j.q = ctx->inputs[0]->data;
    j.k = ctx->inputs[1]->data;
    j.v = ctx->inputs[2]->data;
    j.m = m ? m->data : NULL;
    j.o = y->data;
    j.scale = ia_attr_float(ctx->node, "scale", 1.0f);
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    /* A few query rows (a decode step) would spend more packing K^T than
     * multiplying: those stay on ia_sgemm's dot products. */
    if (a->Sq >= 8 && ia_att_avx512_available()) {
        rc = att_plan_avx512(ctx, &j, threads);
        if (rc) return rc;
        int64_t tasks = a->B * a->H * j.n_rblk;
        if (ctx->pool && tasks > 1)
            ia_pool_run(ctx->pool, tasks, att_task_avx512, &j);
        else
            for (int64_t t = 0; t < tasks; t++) att_task_avx512(&j, t, 0);
        return IA_OK;
    }
    j.n_rblk = (a->Sq + ROW_BLOCK - 1) / ROW_BLOCK;
    uint64_t n = (uint64_t)threads * ROW_BLOCK * (uint64_t)a->Sk;
    if (n > ((uint64_t)1 << 34))
        return ia_op_error(ctx, IA_ERANGE, "%lld keys is too many", (long long)a->Sk);
    j.scratch = ctx->scratch(ctx, (size_t)n * sizeof(float));
    if (!j.scratch) return ia_op_error(ctx, IA_ENOMEM, "no scratch for the scores");
    int64_t tasks = a->B * a->H * j.n_rblk;
    if (ctx->pool && tasks > 1)
        ia_pool_run(ctx->pool, tasks, att_task, &j);
    else
        for (int64_t t = 0; t < tasks; t++) att_task(&j, t, 0);
    if (j.rc) return ia_op_error(ctx, j.rc, "%s", ia_error_msg());
    return IA_OK;
}

const struct ia_op_def ia_op_ia_FusedAttention = {"ai.ia.fused", "FusedAttention", 1, 0, att_infer, att_compute};
