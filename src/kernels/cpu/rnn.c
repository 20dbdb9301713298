/* Recurrent layers: RNN (simple), GRU and LSTM, opsets 7-14.
 *
 * Shared shape rules (layout 0, the only form before opset 14):
 *   X [seq, batch, input]; W [dirs, G*H, input]; R [dirs, G*H, H];
 *   B [dirs, 2*G*H] (Wb then Rb); sequence_lens [batch] (int32);
 *   initial_h / initial_c [dirs, batch, H]; P [dirs, 3*H] (LSTM);
 *   Y [seq, dirs, batch, H]; Y_h / Y_c [dirs, batch, H].
 * layout 1 (opset 14) puts batch first: X [batch, seq, input],
 * initial_h [batch, dirs, H], Y [batch, seq, dirs, H], Y_h [batch, dirs, H].
 * G is 1 (RNN), 3 (GRU, gates z r h) or 4 (LSTM, gates i o f c).
 *
 * Each direction first multiplies every time step's input by W in one
 * product (the steps do not depend on each other there), folding in the
 * biases that sit outside a nonlinearity; the recurrence then adds H·R^T
 * per step. A batch entry with sequence_lens[b] = L runs L steps (reverse
 * starts at L-1); Y rows past L stay zero and Y_h/Y_c hold the state after
 * step L, zero when L is 0 (onnxruntime does the same).
 *
 * Activations (case-insensitive names) take alpha/beta from
 * activation_alpha/activation_beta in order, one value per activation that
 * uses it; absent values get the defaults of the ONNX op of the same name.
 * clip bounds every gate's input before its activation. The input product
 * goes through ia_sgemm (gemm.h). The recurrence with the default
 * activations runs in rnn_fast.c, vectorised and split over the pool; the
 * rest runs the generic loop here, whose per-step products are too small to
 * share out. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gemm.h"
#include "ia/kernels.h"
#include "rnn.h"
#include "rnn_internal.h"

static const struct {
    const char *name;
    enum act_kind k;
    int uses_alpha, uses_beta;
    float alpha, beta; /* defaults */
} act_table[] = {
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0, 0},
    {"Relu", ACT_RELU, 0, 0, 0, 0},
    {"Affine", ACT_AFFINE, 1, 1, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKYRELU, 1, 0, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDEDRELU, 1, 0, 1.0f, 0},
    {"ScaledTanh", ACT_SCALEDTANH, 1, 1, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARDSIGMOID, 1, 1, 0.2f, 0.5f},
    {"Elu", ACT_ELU, 1, 0, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0, 0},
};

static void act_apply(const struct act *a, float *x, int64_t n) {
    switch (a->k) {
    case ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case ACT_TANH:
        for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
        break;
    case ACT_RELU:
        for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
        break;
    case ACT_AFFINE:
        for (int64_t i = 0; i < n; i++) x[i] = a->alpha * x[i] + a->beta;
        break;
    case ACT_LEAKYRELU:
        for (int64_t i = 0; i < n; i++) x[i] = x[i] >= 0 ? x[i] : a->alpha * x[i];
        break;
    case ACT_THRESHOLDEDRELU:
        for (int64_t i = 0; i < n; i++) x[i] = x[i] > a->alpha ? x[i] : 0;
        break;
    case ACT_SCALEDTANH:
        for (int64_t i = 0; i < n; i++) x[i] = a->alpha * tanhf(a->beta * x[i]);
        break;
    case ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float v = a->alpha * x[i] + a->beta;
            x[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
        break;
    case ACT_ELU:
        for (int64_t i = 0; i < n; i++) x[i] = x[i] >= 0 ? x[i] : a->alpha * (expf(x[i]) - 1.0f);
        break;
    case ACT_SOFTSIGN:
        for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + fabsf(x[i]));
        break;
    case ACT_SOFTPLUS:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 20.0f ? x[i] : log1pf(expf(x[i])); /* equal in float past 20 */
        break;
    }
}

static const struct ia_tensor *in_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

static struct ia_tensor *out_opt(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_outputs ? ctx->outputs[i] : NULL;
}

static int parse_acts(struct ia_op_ctx *ctx, struct rnn_cfg *c) {
    static const char *const dflt[3][3] = {
        {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    const struct ia_onnx_attr *a = ia_attr_find(ctx->node, "activations");
    size_t n_names = a && a->type == IA_ONNX_ATTR_STRINGS ? a->n : 0;
    int per = c->n_acts;
    if (n_names && n_names != (size_t)per && n_names != (size_t)(per * c->dirs))
        return ia_op_error(ctx, IA_EINVAL, "activations lists %zu names; %d or %d expected",
                           n_names, per, per * c->dirs);
    const float *alphas, *betas;
    size_t n_alpha = ia_attr_floats(ctx->node, "activation_alpha", &alphas);
    size_t n_beta = ia_attr_floats(ctx->node, "activation_beta", &betas);
    size_t ia = 0, ib = 0;
    for (int d = 0; d < c->dirs; d++) {
        for (int j = 0; j < per; j++) {
            char name[32];
            if (n_names) {
                /* one direction's list serves both when bidirectional gives only one */
                const struct ia_onnx_bytes *s =
                    &a->strings[n_names == (size_t)per ? j : d * per + j];
                size_t len = s->len < sizeof name - 1 ? s->len : sizeof name - 1;
                memcpy(name, s->data, len);
                name[len] = '\0';
            } else {
                strcpy(name, dflt[per - 1][j]);
            }
            size_t t;
            for (t = 0; t < sizeof act_table / sizeof act_table[0]; t++)
                if (strcasecmp(name, act_table[t].name) == 0) break;
            if (t == sizeof act_table / sizeof act_table[0])
                return ia_op_error(ctx, IA_EUNSUPPORTED, "unknown activation '%s'", name);
            struct act *ac = &c->acts[d][j];
            ac->k = act_table[t].k;
            ac->alpha = act_table[t].alpha;
            ac->beta = act_table[t].beta;
            if (act_table[t].uses_alpha && ia < n_alpha) ac->alpha = alphas[ia++];
            if (act_table[t].uses_beta && ib < n_beta) ac->beta = betas[ib++];
        }
    }
    return IA_OK;
}

/* Checks a tensor's rank and dims against an expected shape; -1 skips a dim. */
static int want_shape(struct ia_op_ctx *ctx, const struct ia_tensor *t, const char *what, int rank,
                      const int64_t *dims) {
    int ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        if (dims[i] >= 0 && t->dims[i] != dims[i]) ok = 0;
    if (ok) return IA_OK;
    char got[160], exp[160];
    size_t n = (size_t)snprintf(exp, sizeof exp, "[");
    for (int i = 0; i < rank && n < sizeof exp; i++)
        n += (size_t)snprintf(exp + n, sizeof exp - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < sizeof exp) snprintf(exp + n, sizeof exp - n, "]");
    return ia_op_error(ctx, IA_EINVAL, "%s is %s; expected shape %s", what,
                       ia_tensor_describe(t, got, sizeof got), exp);
}

static int rnn_setup(struct ia_op_ctx *ctx, enum rnn_kind kind, struct rnn_cfg *c) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->gates = kind == RNN_SIMPLE ? 1 : kind == RNN_GRU ? 3 : 4;
    c->n_acts = kind == RNN_SIMPLE ? 1 : kind == RNN_GRU ? 2 : 3;
    const struct ia_tensor *X = in_opt(ctx, 0), *W = in_opt(ctx, 1), *R = in_opt(ctx, 2);
    if (!X || !W || !R) return ia_op_error(ctx, IA_EINVAL, "X, W and R are required");
    if (X->dtype != IA_DTYPE_FLOAT32 || W->dtype != X->dtype || R->dtype != X->dtype)
        return ia_op_error(ctx, IA_EUNSUPPORTED, "only float32 X, W and R are supported (got %s)",
                           ia_dtype_name(X->dtype));
    char dbuf[32];
    const char *dir = ia_attr_string(ctx->node, "direction", dbuf, sizeof dbuf, "forward");
    if (!strcmp(dir, "forward")) {
        c->dirs = 1;
    } else if (!strcmp(dir, "reverse")) {
        c->dirs = 1;
        c->reverse[0] = 1;
    } else if (!strcmp(dir, "bidirectional")) {
        c->dirs = 2;
        c->reverse[1] = 1;
    } else {
        return ia_op_error(ctx, IA_EINVAL, "unknown direction '%s'", dir);
    }
    c->layout = ctx->opset >= 14 ? (int)ia_attr_int(ctx->node, "layout", 0) : 0;
    if (c->layout != 0 && c->layout != 1)
        return ia_op_error(ctx, IA_EINVAL, "layout must be 0 or 1, not %d", c->layout);
    if (X->rank != 3) return ia_op_error(ctx, IA_EINVAL, "X must have rank 3, not %d", X->rank);
    c->seq = X->dims[c->layout ? 1 : 0];
    c->batch = X->dims[c->layout ? 0 : 1];
    c->in = X->dims[2];
    if (R->rank != 3) return ia_op_error(ctx, IA_EINVAL, "R must have rank 3, not %d", R->rank);
    c->hid = ia_attr_int(ctx->node, "hidden_size", R->dims[2]);
    if (c->hid < 0 || c->hid > ((int64_t)1 << 32))
        return ia_op_error(ctx, IA_EINVAL, "hidden_size %lld is out of range", (long long)c->hid);
    int64_t gh = c->gates * c->hid, D = c->dirs, H = c->hid;
    int rc = want_shape(ctx, W, "W", 3, (int64_t[]){D, gh, c->in});
    if (rc == IA_OK) rc = want_shape(ctx, R, "R", 3, (int64_t[]){D, gh, H});
    const struct ia_tensor *B = in_opt(ctx, 3), *sl = in_opt(ctx, 4), *h0 = in_opt(ctx, 5);
    if (rc == IA_OK && B) {
        rc = want_shape(ctx, B, "B", 2, (int64_t[]){D, 2 * gh});
        if (rc == IA_OK && B->dtype != X->dtype)
            rc = ia_op_error(ctx, IA_EINVAL, "B must be %s", ia_dtype_name(X->dtype));
    }
    if (rc == IA_OK && sl) {
        rc = want_shape(ctx, sl, "sequence_lens", 1, (int64_t[]){c->batch});
        if (rc == IA_OK && sl->dtype != IA_DTYPE_INT32 && sl->dtype != IA_DTYPE_INT64)
            rc = ia_op_error(ctx, IA_EINVAL, "sequence_lens must be int32");
    }
    int64_t hshape[3] = {D, c->batch, H};
    if (c->layout) hshape[0] = c->batch, hshape[1] = D;
    if (rc == IA_OK && h0) {
        rc = want_shape(ctx, h0, "initial_h", 3, hshape);
        if (rc == IA_OK && h0->dtype != X->dtype)
            rc = ia_op_error(ctx, IA_EINVAL, "initial_h must be %s", ia_dtype_name(X->dtype));
    }
    if (rc == IA_OK && kind == RNN_LSTM) {
        const struct ia_tensor *c0 = in_opt(ctx, 6), *P = in_opt(ctx, 7);
        if (c0) {
            rc = want_shape(ctx, c0, "initial_c", 3, hshape);
            if (rc == IA_OK && c0->dtype != X->dtype)
                rc = ia_op_error(ctx, IA_EINVAL, "initial_c must be %s", ia_dtype_name(X->dtype));
        }
        if (rc == IA_OK && P) {
            rc = want_shape(ctx, P, "P", 2, (int64_t[]){D, 3 * H});
            if (rc == IA_OK && P->dtype != X->dtype)
                rc = ia_op_error(ctx, IA_EINVAL, "P must be %s", ia_dtype_name(X->dtype));
        }
        c->input_forget = ia_attr_int(ctx->node, "input_forget", 0) != 0;
    }
    if (rc) return rc;
    if (kind == RNN_GRU)
        c->linear_before_reset = ia_attr_int(ctx->node, "linear_before_reset", 0) != 0;
    const struct ia_onnx_attr *clip = ia_attr_find(ctx->node, "clip");
    if (clip && clip->type == IA_ONNX_ATTR_FLOAT) {
        if (!(clip->f > 0))
            return ia_op_error(ctx, IA_EINVAL, "clip must be positive, not %g", clip->f);
        c->has_clip = 1;
        c->clip = clip->f;
    }
    return parse_acts(ctx, c);
}

static int rnn_infer(struct ia_op_ctx *ctx, enum rnn_kind kind) {
    struct rnn_cfg c;
    int rc = rnn_setup(ctx, kind, &c);
    if (rc) return rc;
    size_t n_out = kind == RNN_LSTM ? 3 : 2;
    if (ctx->n_outputs > n_out)
        return ia_op_error(ctx, IA_EINVAL, "%zu outputs; at most %zu", ctx->n_outputs, n_out);
    int64_t y[4] = {c.seq, c.dirs, c.batch, c.hid}, h[3] = {c.dirs, c.batch, c.hid};
    if (c.layout) {
        y[0] = c.batch, y[1] = c.seq, y[2] = c.dirs;
        h[0] = c.batch, h[1] = c.dirs;
    }
    enum ia_dtype dt = ctx->inputs[0]->dtype;
    struct ia_tensor *o;
    if ((o = out_opt(ctx, 0)) && (rc = ia_tensor_set_shape(o, dt, 4, y))) return rc;
    for (size_t i = 1; i < n_out; i++)
        if ((o = out_opt(ctx, i)) && (rc = ia_tensor_set_shape(o, dt, 3, h))) return rc;
    return IA_OK;
}

/* Per-direction work buffers, sized once in compute. */
struct rnn_bufs {
    float *xw;    /* (seq*batch, G*H): X·W^T + folded biases, in X's row order */
    float *gates; /* (batch, G*H): H·R^T for the current step */
    float *h, *c; /* (batch, H) states */
    float *tmp;   /* (batch, H): r ⊙ H, for GRU without linear_before_reset */
    float *h2;    /* fast path: (batch, H), the other half of h's ping-pong */
};

static inline int64_t h_off(const struct rnn_cfg *c, int d, int64_t b) {
    return (c->layout ? b * c->dirs + d : d * c->batch + b) * c->hid;
}

static inline void clip_n(const struct rnn_cfg *c, float *x, int64_t n) {
    if (!c->has_clip) return;
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] < -c->clip ? -c->clip : x[i] > c->clip ? c->clip : x[i];
}

/* FusedLSTM's session-time forms of W and B (fuse_rnn.c), for direction d;
 * NULL members: the op's own inputs are used. */
struct rnn_prepacked {
    const float *Wp;   /* W^T packed by ia_sgemm_pack_b (AUTO path) */
    const float *bsum; /* (G*H) Wb + Rb, or NULL: B absent or not constant */
    const float *Rp;   /* R packed (ia_rnn_pack_r) on huge pages, or NULL */
};

/* The bias add that runs on each finished row piece of X·W^T. */
static void add_bias_row(const void *user, float *c, int64_t col0, int64_t n) {
    const float *b = (const float *)user + col0;
    for (int64_t j = 0; j < n; j++) c[j] += b[j];
}

/* Runs direction d over every batch entry. */
static int rnn_direction(struct ia_op_ctx *ctx, const struct rnn_cfg *c, int d, const int64_t *lens,
                         struct rnn_bufs *bf, int fast, const struct rnn_prepacked *pp) {
    const int64_t H = c->hid, G = c->gates, GH = G * H, I = c->in, N = c->batch;
    const float *X = ctx->inputs[0]->data;
    const float *W = (const float *)ctx->inputs[1]->data + d * GH * I;
    const float *R = (const float *)ctx->inputs[2]->data + d * GH * H;
    const struct ia_tensor *Bt = in_opt(ctx, 3), *h0 = in_opt(ctx, 5);
    const float *Wb = Bt ? (const float *)Bt->data + d * 2 * GH : NULL;
    const float *Rb = Wb ? Wb + GH : NULL;
    const struct ia_tensor *c0 = c->kind == RNN_LSTM ? in_opt(ctx, 6) : NULL;
    const struct ia_tensor *Pt = c->kind == RNN_LSTM ? in_opt(ctx, 7) : NULL;
    const float *P = Pt ? (const float *)Pt->data + d * 3 * H : NULL;
    struct ia_tensor *Y = out_opt(ctx, 0), *Yh = out_opt(ctx, 1);
    struct ia_tensor *Yc = c->kind == RNN_LSTM ? out_opt(ctx, 2) : NULL;
    const struct act *act = c->acts[d];
    const int gru_lbr = c->kind == RNN_GRU && c->linear_before_reset;

    int64_t rows = c->seq * N;
    int rc;
    if (pp && pp->Wp) {
        /* the biases, pre-summed, go in while each piece of xw is in cache */
        struct ia_sgemm_epi epi = {add_bias_row, pp->bsum};
        rc = ia_sgemm_prepacked(IA_SGEMM_AUTO, rows, GH, I, X, I, pp->Wp, bf->xw, GH,
                                pp->bsum ? &epi : NULL, ctx->pool);
    } else {
        rc = ia_sgemm(0, 1, rows, GH, I, 1.0f, X, I, W, I, 0.0f, bf->xw, GH, ctx->pool);
    }
    if (rc) return ia_op_error(ctx, rc, "no memory for the input product");
    if (Wb && !(pp && pp->Wp && pp->bsum)) {
        for (int64_t r = 0; r < rows; r++) {
            float *xw = bf->xw + r * GH;
            for (int64_t j = 0; j < GH; j++) xw[j] += Wb[j];
            /* GRU with linear_before_reset keeps Rbh inside r·(...) */
            int64_t rb_end = gru_lbr ? 2 * H : GH;
            for (int64_t j = 0; j < rb_end; j++) xw[j] += Rb[j];
        }
    }
    for (int64_t b = 0; b < N; b++) {
        float *h = bf->h + b * H, *cs = bf->c + b * H;
        if (h0)
            memcpy(h, (const float *)h0->data + h_off(c, d, b), (size_t)H * sizeof *h);
        else
            memset(h, 0, (size_t)H * sizeof *h);
        if (c0)
            memcpy(cs, (const float *)c0->data + h_off(c, d, b), (size_t)H * sizeof *cs);
        else
            memset(cs, 0, (size_t)H * sizeof *cs);
    }
    int64_t max_len = 0;
    for (int64_t b = 0; b < N; b++) max_len = lens[b] > max_len ? lens[b] : max_len;

    const float *h_end = bf->h; /* the state after the last step */
    if (fast) {
        struct rnn_fast_dir fd = {.d = d,
                                  .lens = lens,
                                  .max_len = max_len,
                                  .R = R,
                                  .Rp = pp ? pp->Rp : NULL,
                                  .xw = bf->xw,
                                  .rbh = gru_lbr && Rb ? Rb + 2 * H : NULL,
                                  .P = P,
                                  .h = {bf->h, bf->h2},
                                  .c = bf->c,
                                  .Y = Y ? (float *)Y->data : NULL,
                                  .work = bf->gates};
        rnn_fast_run(c, &fd, ctx->pool);
        h_end = fd.h[max_len & 1];
    } else {
        for (int64_t s = 0; s < max_len; s++) {
            /* GRU without linear_before_reset needs r before the h-gate product */
            int gru_split = c->kind == RNN_GRU && !gru_lbr;
            rc = ia_sgemm(0, 1, N, gru_split ? 2 * H : GH, H, 1.0f, bf->h, H, R, H, 0.0f, bf->gates,
                          GH, NULL);
            if (rc) return ia_op_error(ctx, rc, "no memory for the recurrent product");
            if (gru_split) {
                for (int64_t b = 0; b < N; b++) {
                    float *g = bf->gates + b * GH, *tmp = bf->tmp + b * H, *h = bf->h + b * H;
                    if (s >= lens[b]) {
                        memset(tmp, 0, (size_t)H * sizeof *tmp);
                        continue;
                    }
                    const float *xw =
                        bf->xw + rnn_x_row(c, rnn_step_time(c, d, lens[b], s), b) * GH;
                    for (int64_t j = 0; j < 2 * H; j++) g[j] += xw[j];
                    clip_n(c, g, 2 * H);
                    act_apply(&act[0], g, 2 * H);
                    for (int64_t j = 0; j < H; j++) tmp[j] = g[H + j] * h[j];
                }
                /* (r ⊙ H)·Rh^T into the h-gate columns */
                rc = ia_sgemm(0, 1, N, H, H, 1.0f, bf->tmp, H, R + 2 * H * H, H, 0.0f,
                              bf->gates + 2 * H, GH, NULL);
                if (rc) return ia_op_error(ctx, rc, "no memory for the recurrent product");
            }
            for (int64_t b = 0; b < N; b++) {
                if (s >= lens[b]) continue;
                int64_t t = rnn_step_time(c, d, lens[b], s);
                const float *xw = bf->xw + rnn_x_row(c, t, b) * GH;
                float *g = bf->gates + b * GH, *h = bf->h + b * H, *cs = bf->c + b * H;
                if (c->kind == RNN_SIMPLE) {
                    for (int64_t j = 0; j < H; j++) h[j] = g[j] + xw[j];
                    clip_n(c, h, H);
                    act_apply(&act[0], h, H);
                } else if (c->kind == RNN_GRU) {
                    float *z = g, *r = g + H, *hh = g + 2 * H;
                    if (gru_lbr) {
                        for (int64_t j = 0; j < 2 * H; j++) g[j] += xw[j];
                        clip_n(c, g, 2 * H);
                        act_apply(&act[0], g, 2 * H);
                        /* hh = Xh + r ⊙ (H·Rh^T + Rbh) */
                        for (int64_t j = 0; j < H; j++)
                            hh[j] = xw[2 * H + j] + r[j] * (hh[j] + (Rb ? Rb[2 * H + j] : 0));
                    } else {
                        for (int64_t j = 0; j < H; j++) hh[j] += xw[2 * H + j];
                    }
                    clip_n(c, hh, H);
                    act_apply(&act[1], hh, H);
                    for (int64_t j = 0; j < H; j++) h[j] = (1.0f - z[j]) * hh[j] + z[j] * h[j];
                } else {
                    float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
                    for (int64_t j = 0; j < GH; j++) g[j] += xw[j];
                    if (P)
                        for (int64_t j = 0; j < H; j++) {
                            gi[j] += P[j] * cs[j];
                            gf[j] += P[2 * H + j] * cs[j];
                        }
                    clip_n(c, gi, H);
                    clip_n(c, gf, H);
                    clip_n(c, gc, H);
                    act_apply(&act[0], gi, H);
                    if (c->input_forget)
                        for (int64_t j = 0; j < H; j++) gf[j] = 1.0f - gi[j];
                    else
                        act_apply(&act[0], gf, H);
                    act_apply(&act[1], gc, H);
                    for (int64_t j = 0; j < H; j++) cs[j] = gf[j] * cs[j] + gi[j] * gc[j];
                    if (P)
                        for (int64_t j = 0; j < H; j++) go[j] += P[H + j] * cs[j];
                    clip_n(c, go, H);
                    act_apply(&act[0], go, H);
                    memcpy(h, cs, (size_t)H * sizeof *h);
                    act_apply(&act[2], h, H);
                    for (int64_t j = 0; j < H; j++) h[j] *= go[j];
                }
                if (Y) memcpy((float *)Y->data + rnn_y_off(c, t, d, b), h, (size_t)H * sizeof *h);
            }
        }
    }
    for (int64_t b = 0; b < N; b++) {
        int zero = lens[b] == 0;
        if (Yh) {
            float *o = (float *)Yh->data + h_off(c, d, b);
            if (zero)
                memset(o, 0, (size_t)H * sizeof *o);
            else
                memcpy(o, h_end + b * H, (size_t)H * sizeof *o);
        }
        if (Yc) {
            float *o = (float *)Yc->data + h_off(c, d, b);
            if (zero)
                memset(o, 0, (size_t)H * sizeof *o);
            else
                memcpy(o, bf->c + b * H, (size_t)H * sizeof *o);
        }
    }
    return IA_OK;
}

/* FusedLSTM's inputs 8 (Wp: dirs slices of ia_rnn_packed_w_floats), 9
 * (bsum: [dirs, G*H]) and 10 (R packed by ia_rnn_pack_r: dirs slices of
 * ia_rnn_packed_r_floats) for direction d, each when present and of the
 * right size; anything else leaves its member NULL and the plain inputs
 * are used. */
static void prepacked_for(const struct ia_op_ctx *ctx, const struct rnn_cfg *c, int d,
                          struct rnn_prepacked *pp) {
    const int64_t GH = (int64_t)c->gates * c->hid;
    const struct ia_tensor *wp = in_opt(ctx, 8), *bs = in_opt(ctx, 9), *rh = in_opt(ctx, 10);
    size_t per = ia_rnn_packed_w_floats(c->in, GH);
    memset(pp, 0, sizeof *pp);
    size_t rper = ia_rnn_packed_r_floats(c->gates, c->hid);
    if (rh && rh->dtype == IA_DTYPE_FLOAT32 && rper && rh->numel == rper * (uint64_t)c->dirs)
        pp->Rp = (const float *)rh->data + (size_t)d * rper;
    if (!per || !wp || wp->dtype != IA_DTYPE_FLOAT32 || wp->numel != per * (uint64_t)c->dirs)
        return;
    pp->Wp = (const float *)wp->data + (size_t)d * per;
    if (bs && bs->dtype == IA_DTYPE_FLOAT32 && bs->numel == (uint64_t)(c->dirs * GH) &&
        in_opt(ctx, 3))
        pp->bsum = (const float *)bs->data + d * GH;
}

size_t ia_rnn_packed_w_floats(int64_t in, int64_t gh) {
    enum ia_sgemm_path best = ia_sgemm_best_path();
    if (best == IA_SGEMM_REF || !ia_sgemm_path_available(best) || in <= 0 || gh <= 0) return 0;
    size_t n = ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, in, gh);
    return (n + 15) / 16 * 16; /* each direction's slice starts on a cache line */
}

static int rnn_compute(struct ia_op_ctx *ctx, enum rnn_kind kind, int allow_fast) {
    struct rnn_cfg c;
    int rc = rnn_setup(ctx, kind, &c);
    if (rc) return rc;
    const int fused = !strcmp(ctx->node->op_type, "FusedLSTM");
    const int fast = allow_fast && rnn_fast_supported(&c);
    const int64_t N = c.batch, H = c.hid, GH = c.gates * c.hid;
    const struct ia_tensor *sl = in_opt(ctx, 4);
    uint64_t n_xw = (uint64_t)c.seq * (uint64_t)N * (uint64_t)GH;
    uint64_t n_small = (uint64_t)N * (uint64_t)GH + 4 * (uint64_t)N * (uint64_t)H;
    uint64_t total = n_xw + n_small + (uint64_t)N * 2; /* + lens as int64 */
    float *mem = ctx->scratch(ctx, (size_t)(total * sizeof(float)) + 64);
    if (!mem)
        return ia_op_error(ctx, IA_ENOMEM, "no memory for %llu work values",
                           (unsigned long long)total);
    struct rnn_bufs bf;
    bf.xw = mem;
    bf.gates = bf.xw + n_xw;
    bf.h = bf.gates + N * GH;
    bf.c = bf.h + N * H;
    bf.tmp = bf.c + N * H;
    bf.h2 = bf.tmp + N * H;
    int64_t *lens = (int64_t *)(((uintptr_t)(bf.h2 + N * H) + 7) & ~(uintptr_t)7);
    for (int64_t b = 0; b < N; b++) {
        lens[b] = sl ? ia_tensor_get_i64(sl, (uint64_t)b) : c.seq;
        if (lens[b] < 0 || lens[b] > c.seq)
            return ia_op_error(ctx, IA_EINVAL, "sequence_lens[%lld] is %lld, outside [0, %lld]",
                               (long long)b, (long long)lens[b], (long long)c.seq);
    }
    struct ia_tensor *Y = out_opt(ctx, 0);
    if (Y && Y->nbytes) memset(Y->data, 0, (size_t)Y->nbytes);
    for (int d = 0; d < c.dirs && rc == IA_OK; d++) {
        struct rnn_prepacked pp;
        if (fused) prepacked_for(ctx, &c, d, &pp);
        rc = rnn_direction(ctx, &c, d, lens, &bf, fast, fused ? &pp : NULL);
    }
    return rc;
}

int ia_rnn_compute_path(struct ia_op_ctx *ctx, int allow_fast) {
    const char *op = ctx->node->op_type;
    enum rnn_kind kind = !strcmp(op, "LSTM") || !strcmp(op, "FusedLSTM") ? RNN_LSTM
                         : !strcmp(op, "GRU")                            ? RNN_GRU
                                                                         : RNN_SIMPLE;
    return rnn_compute(ctx, kind, allow_fast);
}

static int rnn_infer_simple(struct ia_op_ctx *ctx) { return rnn_infer(ctx, RNN_SIMPLE); }
static int rnn_compute_simple(struct ia_op_ctx *ctx) { return rnn_compute(ctx, RNN_SIMPLE, 1); }
static int gru_infer(struct ia_op_ctx *ctx) { return rnn_infer(ctx, RNN_GRU); }
static int gru_compute(struct ia_op_ctx *ctx) { return rnn_compute(ctx, RNN_GRU, 1); }
static int lstm_infer(struct ia_op_ctx *ctx) { return rnn_infer(ctx, RNN_LSTM); }
static int lstm_compute(struct ia_op_ctx *ctx) { return rnn_compute(ctx, RNN_LSTM, 1); }

/* FusedLSTM (ai.ia.fused, made by src/graph/fuse_rnn.c): LSTM's inputs
 * 0-7, then 8: W packed once per session (ia_rnn_packed_w_floats per
 * direction), 9: Wb + Rb per direction (omitted when B is not constant),
 * 10: R packed by ia_rnn_pack_r per direction, on huge pages (omitted for
 * a small R or without huge pages); LSTM's attributes, outputs and
 * semantics. The node keeps its model opset (layout is read from opset 14
 * on). */
static int flstm_infer(struct ia_op_ctx *ctx) {
    if (ctx->n_inputs > 11)
        return ia_op_error(ctx, IA_EINVAL, "%zu inputs; at most 11", ctx->n_inputs);
    return rnn_infer(ctx, RNN_LSTM);
}

// clang-format off
const struct ia_op_def ia_op_RNN = {"", "RNN", 7, 0, rnn_infer_simple, rnn_compute_simple};
const struct ia_op_def ia_op_GRU = {"", "GRU", 7, 0, gru_infer, gru_compute};
const struct ia_op_def ia_op_LSTM = {"", "LSTM", 7, 0, lstm_infer, lstm_compute};
const struct ia_op_def ia_op_ia_FusedLSTM = {"ai.ia.fused", "FusedLSTM", 1, 0, flstm_infer, lstm_compute};
// clang-format on
