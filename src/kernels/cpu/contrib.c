/* com.microsoft Attention: the fused multi-head self-attention of exported
 * BERT / GPT-2 style models, float32.
 *
 *   input   [B, S, Hin]          weights [Hin, Hq + Hk + Hv]   bias [Hq + Hk + Hv]
 *   past    [2, B, nh, P, hd]    (keys then values of earlier steps)
 *   output  [B, S, Hv]           present [2, B, nh, P + S, hd]
 * Hq = Hk = Hv = weights.dims[1] / 3 unless qkv_hidden_sizes says
 * otherwise; head sizes are Hq/nh (q, k) and Hv/nh (v). T = P + S keys.
 *
 *   QKV = input · weights + bias; per batch b and head h:
 *   probs = softmax(scale · Q K^T + mask + attention_bias)   (S, T)
 *   out   = probs · V                                         (S, hdv)
 * scale defaults to 1/sqrt(head size). mask_index forms (int32), as in
 * onnxruntime's CPU kernel: [B, T] or [B, S, T] raw 0/1 masks (0 adds
 * mask_filter_value, default -10000); [B] key lengths (keys at or past the
 * end are masked); [2B] ends then starts (keys before the start masked
 * too). unidirectional masks keys after P + s outright. attention_bias
 * (input 5) is [B or 1, nh or 1, S, T]. The 4-D Megatron mask, packed
 * (3B+2) index, past_present_share_buffer and do_rotary are refused as
 * unsupported.
 *
 * Batch x head pairs are the pool's tasks; each has its own (S, T) scores. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "gemm.h"
#include "ia/kernels.h"

static const struct ia_tensor *in_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

struct attn {
    int64_t B, S, Hin, Hq, Hk, Hv, nh, hd, hdv, P, T, Htot;
    float scale, filter;
    int causal;
    int mask_kind;      /* 0 none, 1 [B] ends, 2 [2B] ends+starts, 3 [B,T], 4 [B,S,T] */
    int bias_b, bias_h; /* attention_bias broadcasts over batch / heads when 0 */
};

static int attn_setup(struct ia_op_ctx *ctx, struct attn *a) {
    memset(a, 0, sizeof *a);
    const struct ia_tensor *x = in_opt(ctx, 0), *w = in_opt(ctx, 1), *bias = in_opt(ctx, 2);
    const struct ia_tensor *mask = in_opt(ctx, 3), *past = in_opt(ctx, 4), *ab = in_opt(ctx, 5);
    char s1[128], s2[128];
    if (!x || !w) return ia_op_error(ctx, IA_EINVAL, "input and weights are required");
    if (x->dtype != IA_DTYPE_FLOAT32 || w->dtype != IA_DTYPE_FLOAT32)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "only float32 is supported (got %s)",
                           ia_dtype_name(x->dtype));
    if (ia_attr_int(ctx->node, "past_present_share_buffer", 0) ||
        ia_attr_int(ctx->node, "do_rotary", 0))
        return ia_op_error(ctx, IA_EUNSUPPORTED,
                           "past_present_share_buffer and do_rotary are not supported");
    if (in_opt(ctx, 6))
        return ia_op_error(ctx, IA_EUNSUPPORTED, "past_sequence_length is not supported");
    if (x->rank != 3 || w->rank != 2 || w->dims[0] != x->dims[2])
        return ia_op_error(ctx, IA_EINVAL, "input %s and weights %s do not fit",
                           ia_tensor_describe(x, s1, sizeof s1),
                           ia_tensor_describe(w, s2, sizeof s2));
    a->B = x->dims[0], a->S = x->dims[1], a->Hin = x->dims[2], a->Htot = w->dims[1];
    a->nh = ia_attr_int(ctx->node, "num_heads", 0);
    if (a->nh < 1 || a->nh > (1 << 20))
        return ia_op_error(ctx, IA_EINVAL, "num_heads must be positive");
    const int64_t *qkv;
    size_t nq = ia_attr_ints(ctx->node, "qkv_hidden_sizes", &qkv);
    if (nq) {
        if (nq != 3 || qkv[0] < 0 || qkv[1] < 0 || qkv[2] < 0 || qkv[0] > a->Htot ||
            qkv[1] > a->Htot || qkv[2] > a->Htot || qkv[0] + qkv[1] + qkv[2] != a->Htot)
            return ia_op_error(ctx, IA_EINVAL, "qkv_hidden_sizes does not add up to %lld",
                               (long long)a->Htot);
        a->Hq = qkv[0], a->Hk = qkv[1], a->Hv = qkv[2];
    } else {
        if (a->Htot % 3)
            return ia_op_error(ctx, IA_EINVAL, "weights' second dim %lld is not 3 * hidden",
                               (long long)a->Htot);
        a->Hq = a->Hk = a->Hv = a->Htot / 3;
    }
    if (a->Hq != a->Hk || a->Hq % a->nh || a->Hv % a->nh)
        return ia_op_error(ctx, IA_EINVAL,
                           "hidden sizes %lld/%lld/%lld do not split into %lld heads",
                           (long long)a->Hq, (long long)a->Hk, (long long)a->Hv, (long long)a->nh);
    a->hd = a->Hq / a->nh;
    a->hdv = a->Hv / a->nh;
    if (bias && (bias->rank != 1 || bias->dims[0] != a->Htot || bias->dtype != IA_DTYPE_FLOAT32))
        return ia_op_error(ctx, IA_EINVAL, "bias %s must be float32[%lld]",
                           ia_tensor_describe(bias, s1, sizeof s1), (long long)a->Htot);
    if (past) {
        if (a->hd != a->hdv || past->dtype != IA_DTYPE_FLOAT32 || past->rank != 5 ||
            past->dims[0] != 2 || past->dims[1] != a->B || past->dims[2] != a->nh ||
            past->dims[4] != a->hd)
            return ia_op_error(ctx, IA_EINVAL, "past %s must be float32[2,%lld,%lld,P,%lld]",
                               ia_tensor_describe(past, s1, sizeof s1), (long long)a->B,
                               (long long)a->nh, (long long)a->hd);
        a->P = past->dims[3];
    }
    a->T = a->P + a->S;
    a->causal = ia_attr_int(ctx->node, "unidirectional", 0) != 0;
    a->filter = ia_attr_float(ctx->node, "mask_filter_value", -10000.0f);
    a->scale = ia_attr_float(ctx->node, "scale", 0.0f);
    if (a->scale == 0.0f) a->scale = a->hd ? 1.0f / sqrtf((float)a->hd) : 1.0f;
    if (mask) {
        if (mask->dtype != IA_DTYPE_INT32)
            return ia_op_error(ctx, IA_EINVAL, "mask_index must be int32, not %s",
                               ia_dtype_name(mask->dtype));
        if (mask->rank == 1 && mask->dims[0] == a->B)
            a->mask_kind = 1;
        else if (mask->rank == 1 && mask->dims[0] == 2 * a->B)
            a->mask_kind = 2;
        else if (mask->rank == 2 && mask->dims[0] == a->B && mask->dims[1] == a->T)
            a->mask_kind = 3;
        else if (mask->rank == 3 && mask->dims[0] == a->B && mask->dims[1] == a->S &&
                 mask->dims[2] == a->T)
            a->mask_kind = 4;
        else
            return ia_op_error(ctx, IA_EUNSUPPORTED,
                               "mask_index %s is not a supported form "
                               "([B], [2B], [B,T] or [B,S,T] with B=%lld S=%lld T=%lld)",
                               ia_tensor_describe(mask, s1, sizeof s1), (long long)a->B,
                               (long long)a->S, (long long)a->T);
    }
    if (ab) {
        if (ab->dtype != IA_DTYPE_FLOAT32 || ab->rank != 4 ||
            (ab->dims[0] != 1 && ab->dims[0] != a->B) ||
            (ab->dims[1] != 1 && ab->dims[1] != a->nh) || ab->dims[2] != a->S ||
            ab->dims[3] != a->T)
            return ia_op_error(
                ctx, IA_EINVAL, "attention_bias %s must be float32[B or 1, nh or 1, %lld, %lld]",
                ia_tensor_describe(ab, s1, sizeof s1), (long long)a->S, (long long)a->T);
        a->bias_b = ab->dims[0] != 1;
        a->bias_h = ab->dims[1] != 1;
    }
    return IA_OK;
}

static int attn_infer(struct ia_op_ctx *ctx) {
    struct attn a;
    int rc = attn_setup(ctx, &a);
    if (rc) return rc;
    if (ctx->n_outputs > 2) return ia_op_error(ctx, IA_EINVAL, "at most 2 outputs");
    rc = ia_tensor_set_shape(ctx->outputs[0], IA_DTYPE_FLOAT32, 3, (int64_t[]){a.B, a.S, a.Hv});
    if (rc == IA_OK && ctx->n_outputs > 1 && ctx->outputs[1]) {
        if (a.hd != a.hdv)
            return ia_op_error(ctx, IA_EINVAL, "present needs equal k and v head sizes");
        rc = ia_tensor_set_shape(ctx->outputs[1], IA_DTYPE_FLOAT32, 5,
                                 (int64_t[]){2, a.B, a.nh, a.T, a.hd});
    }
    return rc;
}

struct attn_job {
    const struct attn *a;
    const struct ia_op_ctx *ctx;
    const float *qkv;  /* (B*S, Htot) */
    const float *kall; /* (B, nh, T, hd) */
    const float *vall; /* (B, nh, T, hdv) */
    float *scores;     /* (threads, S, T) */
    float *out;        /* (B, S, Hv) */
    int failed;
};

static void attn_head(void *arg, int64_t task, int thread) {
    struct attn_job *j = arg;
    const struct attn *a = j->a;
    int64_t b = task / a->nh, h = task % a->nh, S = a->S, T = a->T;
    float *sc = j->scores + (int64_t)thread * S * T;
    const float *q = j->qkv + b * S * a->Htot + h * a->hd;
    const float *k = j->kall + (b * a->nh + h) * T * a->hd;
    const float *v = j->vall + (b * a->nh + h) * T * a->hdv;
    if (ia_sgemm(0, 1, S, T, a->hd, a->scale, q, a->Htot, k, a->hd, 0.0f, sc, T, NULL)) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    const struct ia_tensor *mask = in_opt(j->ctx, 3), *ab = in_opt(j->ctx, 5);
    const int32_t *m = mask ? mask->data : NULL;
    int64_t lo = 0, hi = T; /* keys outside [lo, hi) are masked by a 1-D index */
    if (a->mask_kind == 1 || a->mask_kind == 2) {
        hi = m[b] < 0 ? 0 : m[b] > T ? T : m[b];
        if (a->mask_kind == 2) lo = m[a->B + b] < 0 ? 0 : m[a->B + b] > T ? T : m[a->B + b];
    }
    const float *abp =
        ab ? (const float *)ab->data +
                 ((a->bias_b ? b : 0) * (a->bias_h ? a->nh : 1) + (a->bias_h ? h : 0)) * S * T
           : NULL;
    for (int64_t s = 0; s < S; s++) {
        float *row = sc + s * T;
        const int32_t *mrow = a->mask_kind == 3   ? m + b * T
                              : a->mask_kind == 4 ? m + (b * S + s) * T
                                                  : NULL;
        for (int64_t t = 0; t < T; t++) {
            float add = 0;
            if (mrow)
                add = mrow[t] > 0 ? 0.0f : a->filter;
            else if (t < lo || t >= hi)
                add = a->filter;
            row[t] += add;
            if (abp) row[t] += abp[s * T + t];
        }
        int64_t vis = a->causal ? a->P + s + 1 : T; /* keys a causal row may see */
        if (vis > T) vis = T;
        float mx = -FLT_MAX;
        for (int64_t t = 0; t < vis; t++) mx = row[t] > mx ? row[t] : mx;
        float sum = 0;
        for (int64_t t = 0; t < vis; t++) {
            row[t] = expf(row[t] - mx);
            sum += row[t];
        }
        float inv = sum > 0 ? 1.0f / sum : 0.0f;
        for (int64_t t = 0; t < vis; t++) row[t] *= inv;
        for (int64_t t = vis; t < T; t++) row[t] = 0.0f;
    }
    float *o = j->out + b * S * a->Hv + h * a->hdv;
    if (ia_sgemm(0, 0, S, a->hdv, T, 1.0f, sc, T, v, a->hdv, 0.0f, o, a->Hv, NULL))
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

static int attn_compute(struct ia_op_ctx *ctx) {
    struct attn a;
    int rc = attn_setup(ctx, &a);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0], *w = ctx->inputs[1], *bias = in_opt(ctx, 2),
                           *past = in_opt(ctx, 4);
    struct ia_tensor *present = ctx->n_outputs > 1 ? ctx->outputs[1] : NULL;
    int threads = ctx->pool ? ia_pool_size(ctx->pool) : 1;
    double need = (double)a.B * a.S * a.Htot + (double)threads * a.S * a.T +
                  (present ? 0.0 : (double)a.B * a.nh * a.T * (a.hd + a.hdv));
    if (need > (double)((uint64_t)1 << 38))
        return ia_op_error(ctx, IA_ERANGE, "work space of %.0f values is too large", need);
    float *mem = ctx->scratch(ctx, (size_t)need * sizeof(float) + 64);
    if (!mem) return ia_op_error(ctx, IA_ENOMEM, "no memory for %.0f work values", need);
    float *qkv = mem, *scores = qkv + a.B * a.S * a.Htot;
    float *kall, *vall;
    if (present) {
        kall = present->data;
        vall = kall + a.B * a.nh * a.T * a.hd;
    } else {
        kall = scores + (int64_t)threads * a.S * a.T;
        vall = kall + a.B * a.nh * a.T * a.hd;
    }
    rc = ia_sgemm(0, 0, a.B * a.S, a.Htot, a.Hin, 1.0f, x->data, a.Hin, w->data, a.Htot, 0.0f, qkv,
                  a.Htot, ctx->pool);
    if (rc) return ia_op_error(ctx, rc, "no memory for the input projection");
    if (bias) {
        const float *bv = bias->data;
        for (int64_t r = 0; r < a.B * a.S; r++)
            for (int64_t c = 0; c < a.Htot; c++) qkv[r * a.Htot + c] += bv[c];
    }
    /* keys and values per (b, h): past rows first, then this call's */
    for (int64_t b = 0; b < a.B; b++)
        for (int64_t h = 0; h < a.nh; h++) {
            float *kd = kall + (b * a.nh + h) * a.T * a.hd;
            float *vd = vall + (b * a.nh + h) * a.T * a.hdv;
            if (a.P) {
                const float *pk = (const float *)past->data + (b * a.nh + h) * a.P * a.hd;
                const float *pv = pk + a.B * a.nh * a.P * a.hd;
                memcpy(kd, pk, (size_t)(a.P * a.hd) * sizeof(float));
                memcpy(vd, pv, (size_t)(a.P * a.hdv) * sizeof(float));
            }
            for (int64_t s = 0; s < a.S; s++) {
                const float *row = qkv + (b * a.S + s) * a.Htot;
                memcpy(kd + (a.P + s) * a.hd, row + a.Hq + h * a.hd, (size_t)a.hd * sizeof(float));
                memcpy(vd + (a.P + s) * a.hdv, row + a.Hq + a.Hk + h * a.hdv,
                       (size_t)a.hdv * sizeof(float));
            }
        }
    struct attn_job j = {&a, ctx, qkv, kall, vall, scores, ctx->outputs[0]->data, 0};
    int64_t tasks = a.B * a.nh;
    if (a.S == 0 || tasks == 0) return IA_OK;
    if (ctx->pool && tasks > 1)
        ia_pool_run(ctx->pool, tasks, attn_head, &j);
    else
        for (int64_t t = 0; t < tasks; t++) attn_head(&j, t, 0);
    if (j.failed) return ia_op_error(ctx, IA_ENOMEM, "no memory for a head's product");
    return IA_OK;
}

// clang-format off
const struct ia_op_def ia_op_ms_Attention = {"com.microsoft", "Attention", 1, 0, attn_infer, attn_compute};
// clang-format on
