/* Activations: Relu LeakyRelu Elu Selu Celu HardSigmoid HardSwish Softplus
 * Softsign ThresholdedRelu Mish PRelu Clip, ONNX Gelu (opset 20) and the
 * com.microsoft Gelu / FastGelu / BiasGelu contrib ops. Attribute values
 * travel in struct ew_param (a, b, c). */
#include "ew_internal.h"

#include <float.h>
#include <tgmath.h>

#define SQRT1_2 0.70710678118654752440
#define SQRT2_PI 0.79788456080286535588 /* sqrt(2/pi), FastGelu's constant */

#define RELU_S(s, T, U) EW_UNARY(relu_##s, T, T, X < 0 ? 0 : X)
EW_SINTS(RELU_S)
EW_UNARY(relu_f32, float, float, X < 0 ? 0.0f : X)
EW_UNARY(relu_f64, double, double, X < 0 ? 0.0 : X)
static const ew_fn relu_i_tab[IA_DTYPE_COUNT] = {EW_T_SINTS(relu), EW_T_FLOATS(relu)};

EW_FLOAT_UNARY(leaky, X < 0 ? (T_)P->a * X : X)
EW_FLOAT_UNARY(elu, X < 0 ? (T_)P->a * expm1(X) : X)
EW_FLOAT_UNARY(selu, X <= 0 ? (T_)P->b * (T_)P->a * expm1(X) : (T_)P->b * X)
EW_FLOAT_UNARY(celu, fmax(X, (T_)0) + fmin((T_)0, (T_)P->a *expm1(X / (T_)P->a)))
EW_FLOAT_UNARY(hsig, fmax((T_)0, fmin((T_)1, (T_)P->a *X + (T_)P->b)))
EW_FLOAT_UNARY(hswish, X *fmax((T_)0, fmin((T_)1, X / (T_)6 + (T_)0.5)))
/* log(1 + e^x) without overflowing for large x. */
EW_FLOAT_UNARY(softplus, X > 0 ? X + log1p(exp(-X)) : log1p(exp(X)))
EW_FLOAT_UNARY(softsign, X / ((T_)1 + fabs(X)))
EW_FLOAT_UNARY(threlu, X > (T_)P->a ? X : (T_)0)
EW_FLOAT_UNARY(mish, X *tanh(X > 0 ? X + log1p(exp(-X)) : log1p(exp(X))))
EW_FLOAT_UNARY(gelu, (T_)0.5 * X * ((T_)1 + erf(X * (T_)SQRT1_2)))
EW_FLOAT_UNARY(gelut, (T_)0.5 * X * ((T_)1 + tanh((T_)SQRT2_PI * (X + (T_)0.044715 * X * X * X))))

EW_DEFINE_UNARY(Relu, relu_i_tab, t_, (void)0)
EW_DEFINE_UNARY(LeakyRelu, leaky_tab, t_, p_.a = ia_attr_float(ctx->node, "alpha", 0.01f))
EW_DEFINE_UNARY(Elu, elu_tab, t_, p_.a = ia_attr_float(ctx->node, "alpha", 1.0f))
EW_DEFINE_UNARY(Selu, selu_tab, t_,
                (p_.a = ia_attr_float(ctx->node, "alpha", 1.67326319217681884765625f),
                 p_.b = ia_attr_float(ctx->node, "gamma", 1.05070102214813232421875f)))
EW_DEFINE_UNARY(Celu, celu_tab, t_, p_.a = ia_attr_float(ctx->node, "alpha", 1.0f))
EW_DEFINE_UNARY(HardSigmoid, hsig_tab, t_,
                (p_.a = ia_attr_float(ctx->node, "alpha", 0.2f),
                 p_.b = ia_attr_float(ctx->node, "beta", 0.5f)))
EW_DEFINE_UNARY(HardSwish, hswish_tab, t_, (void)0)
EW_DEFINE_UNARY(Softplus, softplus_tab, t_, (void)0)
EW_DEFINE_UNARY(Softsign, softsign_tab, t_, (void)0)
EW_DEFINE_UNARY(ThresholdedRelu, threlu_tab, t_, p_.a = ia_attr_float(ctx->node, "alpha", 1.0f))
EW_DEFINE_UNARY(Mish, mish_tab, t_, (void)0)
EW_DEFINE_UNARY(MsGelu, gelu_tab, t_, (void)0)

// clang-format off
const struct ia_op_def ia_op_Relu = {"", "Relu", 1, 0, Relu_infer, Relu_compute};
const struct ia_op_def ia_op_LeakyRelu = {"", "LeakyRelu", 1, 0, LeakyRelu_infer, LeakyRelu_compute};
const struct ia_op_def ia_op_Elu = {"", "Elu", 1, 0, Elu_infer, Elu_compute};
const struct ia_op_def ia_op_Selu = {"", "Selu", 1, 0, Selu_infer, Selu_compute};
const struct ia_op_def ia_op_Celu = {"", "Celu", 12, 0, Celu_infer, Celu_compute};
const struct ia_op_def ia_op_HardSigmoid = {"", "HardSigmoid", 1, 0, HardSigmoid_infer, HardSigmoid_compute};
const struct ia_op_def ia_op_HardSwish = {"", "HardSwish", 14, 0, HardSwish_infer, HardSwish_compute};
const struct ia_op_def ia_op_Softplus = {"", "Softplus", 1, 0, Softplus_infer, Softplus_compute};
const struct ia_op_def ia_op_Softsign = {"", "Softsign", 1, 0, Softsign_infer, Softsign_compute};
const struct ia_op_def ia_op_ThresholdedRelu = {"", "ThresholdedRelu", 10, 0, ThresholdedRelu_infer, ThresholdedRelu_compute};
const struct ia_op_def ia_op_Mish = {"", "Mish", 18, 0, Mish_infer, Mish_compute};
const struct ia_op_def ia_op_ms_Gelu = {"com.microsoft", "Gelu", 1, 0, MsGelu_infer, MsGelu_compute};
// clang-format on

/* ---- Gelu (opset 20): approximate = "none" | "tanh" ---------------------- */

static int gelu_tanh(struct ia_op_ctx *ctx, int *out) {
    char buf[16];
    const char *s = ia_attr_string(ctx->node, "approximate", buf, sizeof buf, "none");
    if (strcmp(s, "none") && strcmp(s, "tanh"))
        return ia_op_error(ctx, IA_EINVAL, "approximate '%s' is not 'none' or 'tanh'", s);
    *out = strcmp(s, "tanh") == 0;
    return IA_OK;
}

static int Gelu_infer(struct ia_op_ctx *ctx) {
    int rc = ew_need_inputs(ctx, 1, 1), th = 0;
    if (!rc) rc = gelu_tanh(ctx, &th);
    if (rc) return rc;
    if (!ew_pick(gelu_tab, ctx->inputs[0]->dtype)) return ew_bad_dtype(ctx, ctx->inputs[0]);
    return ew_infer_same(ctx, ctx->inputs[0]->dtype);
}

static int Gelu_compute(struct ia_op_ctx *ctx) {
    int th, rc = gelu_tanh(ctx, &th);
    if (rc) return rc;
    return ew_run(ctx, ctx->outputs[0], 1, ctx->inputs,
                  ew_pick(th ? gelut_tab : gelu_tab, ctx->inputs[0]->dtype), NULL);
}

// clang-format off
const struct ia_op_def ia_op_Gelu = {"", "Gelu", 20, 0, Gelu_infer, Gelu_compute};
// clang-format on

/* ---- two-input activations: PRelu, BiasGelu, FastGelu(x, bias) ------------ */

#define PRELU_S(s, T, U) EW_BINARY(prelu_##s, T, T, T, X < 0 ? (U)(1u * (U)X * (U)Y) : (U)X)
#define PRELU_U(s, T, U) EW_BINARY(prelu_##s, T, T, T, X)
EW_SINTS(PRELU_S)
EW_UINTS(PRELU_U)
EW_BINARY(prelu_f32, float, float, float, X < 0 ? X * Y : X)
EW_BINARY(prelu_f64, double, double, double, X < 0 ? X * Y : X)
static const ew_fn prelu_tab[IA_DTYPE_COUNT] = {EW_T_ALL(prelu)};

EW_BINARY(bgelu_f32, float, float, float, 0.5f * (X + Y) * (1.0f + erf((X + Y) * (float)SQRT1_2)))
EW_BINARY(bgelu_f64, double, double, double, 0.5 * (X + Y) * (1.0 + erf((X + Y) * SQRT1_2)))
static const ew_fn bgelu_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(bgelu)};

#define FASTGELU(T, V)                                                                             \
    ((T)0.5 * (V) * ((T)1 + tanh((T)SQRT2_PI * ((V) + (T)0.044715 * (V) * (V) * (V)))))
EW_BINARY(fgelub_f32, float, float, float, FASTGELU(float, X + Y))
EW_BINARY(fgelub_f64, double, double, double, FASTGELU(double, X + Y))
static const ew_fn fgelub_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(fgelub)};

/* PRelu's slope broadcasts to X only (unidirectional): the output is X's
 * shape. BiasGelu and FastGelu's bias likewise broadcast to the input. */
static int unidir_infer(struct ia_op_ctx *ctx, const ew_fn *tab, size_t n_min) {
    int rc = ew_need_inputs(ctx, n_min, 2);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0], *s = ctx->n_inputs > 1 ? ctx->inputs[1] : NULL;
    if (!ew_pick(tab, x->dtype)) return ew_bad_dtype(ctx, x);
    if (s) {
        if (s->dtype != x->dtype)
            return ia_op_error(ctx, IA_EINVAL, "second input is %s, first is %s",
                               ia_dtype_name(s->dtype), ia_dtype_name(x->dtype));
        int ok = s->rank <= x->rank;
        for (int i = 0; ok && i < s->rank; i++) {
            int64_t d = s->dims[s->rank - 1 - i];
            ok = d == 1 || d == x->dims[x->rank - 1 - i];
        }
        if (!ok) {
            char a[128], b[128];
            return ia_op_error(ctx, IA_EINVAL, "%s does not broadcast to %s",
                               ia_tensor_describe(s, b, sizeof b),
                               ia_tensor_describe(x, a, sizeof a));
        }
    }
    return ew_infer_same(ctx, x->dtype);
}

static int PRelu_infer(struct ia_op_ctx *ctx) { return unidir_infer(ctx, prelu_tab, 2); }
static int PRelu_compute(struct ia_op_ctx *ctx) {
    return ew_run(ctx, ctx->outputs[0], 2, ctx->inputs, ew_pick(prelu_tab, ctx->inputs[0]->dtype),
                  NULL);
}
static int BiasGelu_infer(struct ia_op_ctx *ctx) { return unidir_infer(ctx, bgelu_tab, 2); }
static int BiasGelu_compute(struct ia_op_ctx *ctx) {
    return ew_run(ctx, ctx->outputs[0], 2, ctx->inputs, ew_pick(bgelu_tab, ctx->inputs[0]->dtype),
                  NULL);
}
static int FastGelu_infer(struct ia_op_ctx *ctx) { return unidir_infer(ctx, fgelub_tab, 1); }
static int FastGelu_compute(struct ia_op_ctx *ctx) {
    enum ia_dtype t = ctx->inputs[0]->dtype;
    if (ctx->n_inputs > 1 && ctx->inputs[1])
        return ew_run(ctx, ctx->outputs[0], 2, ctx->inputs, ew_pick(fgelub_tab, t), NULL);
    return ew_run(ctx, ctx->outputs[0], 1, ctx->inputs, ew_pick(gelut_tab, t), NULL);
}

// clang-format off
const struct ia_op_def ia_op_PRelu = {"", "PRelu", 1, 0, PRelu_infer, PRelu_compute};
const struct ia_op_def ia_op_ms_BiasGelu = {"com.microsoft", "BiasGelu", 1, 0, BiasGelu_infer, BiasGelu_compute};
const struct ia_op_def ia_op_ms_FastGelu = {"com.microsoft", "FastGelu", 1, 0, FastGelu_infer, FastGelu_compute};
// clang-format on

/* ---- Clip ------------------------------------------------------------------
 * opset < 11: float attributes min/max (defaults: the float range);
 * opset >= 11: optional scalar inputs 1 and 2 of the input's dtype, any
 * numeric type from opset 12. An absent bound does not clip. */

#define CLIP_LOOP(s, T, U)                                                                         \
    static void clip_##s(void *o_, const void *const *in, const int64_t *is, int64_t n,            \
                         const struct ew_param *P) {                                               \
        T *o = o_;                                                                                 \
        const T *a = in[0];                                                                        \
        int hl = P->lo != NULL, hh = P->hi != NULL;                                                \
        T lo = hl ? *(const T *)P->lo : 0, hi = hh ? *(const T *)P->hi : 0;                        \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = a[i * is[0]];                                                                    \
            if (hl && v < lo) v = lo;                                                              \
            if (hh && v > hi) v = hi;                                                              \
            o[i] = v;                                                                              \
        }                                                                                          \
    }
EW_SINTS(CLIP_LOOP)
EW_UINTS(CLIP_LOOP)
EW_FLOATS(CLIP_LOOP)
static const ew_fn clip_tab[IA_DTYPE_COUNT] = {EW_T_ALL(clip)};

static int Clip_infer(struct ia_op_ctx *ctx) {
    int rc = ew_need_inputs(ctx, 1, ctx->opset < 11 ? 1 : 3);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0];
    if (!ew_pick(clip_tab, x->dtype)) return ew_bad_dtype(ctx, x);
    for (size_t i = 1; i < ctx->n_inputs; i++) {
        const struct ia_tensor *b = ctx->inputs[i];
        if (!b) continue;
        if (b->dtype != x->dtype)
            return ia_op_error(ctx, IA_EINVAL, "bound %s is %s, input is %s",
                               i == 1 ? "min" : "max", ia_dtype_name(b->dtype),
                               ia_dtype_name(x->dtype));
        if (b->numel != 1)
            return ia_op_error(ctx, IA_EINVAL, "bound %s has %llu elements, expects a scalar",
                               i == 1 ? "min" : "max", (unsigned long long)b->numel);
    }
    return ew_infer_same(ctx, x->dtype);
}

static int Clip_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *x = ctx->inputs[0];
    struct ew_param p = {0};
    /* Bounds as the loop's type: the input's, or float32 for half inputs. */
    union {
        float f;
        double d;
    } v[2];
    if (ctx->opset < 11) {
        if (!ew_is_float(x->dtype)) return ew_bad_dtype(ctx, x);
        float lo = ia_attr_float(ctx->node, "min", -FLT_MAX);
        float hi = ia_attr_float(ctx->node, "max", FLT_MAX);
        if (x->dtype == IA_DTYPE_FLOAT64) {
            v[0].d = ia_attr_find(ctx->node, "min") ? lo : -DBL_MAX;
            v[1].d = ia_attr_find(ctx->node, "max") ? hi : DBL_MAX;
        } else {
            v[0].f = lo;
            v[1].f = hi;
        }
        p.lo = &v[0];
        p.hi = &v[1];
    } else {
        for (int i = 0; i < 2; i++) {
            const struct ia_tensor *b = (size_t)i + 1 < ctx->n_inputs ? ctx->inputs[i + 1] : NULL;
            if (!b) continue;
            if (b->dtype != x->dtype || b->numel != 1 || !b->data)
                return ia_op_error(ctx, IA_EINVAL, "bound %d is not a %s scalar", i + 1,
                                   ia_dtype_name(x->dtype));
            const void *ptr = b->data;
            if (x->dtype == IA_DTYPE_FLOAT16 || x->dtype == IA_DTYPE_BFLOAT16) {
                v[i].f = (float)ia_tensor_get_f64(b, 0);
                ptr = &v[i];
            }
            if (i == 0)
                p.lo = ptr;
            else
                p.hi = ptr;
        }
    }
    return ew_run(ctx, ctx->outputs[0], 1, ctx->inputs, ew_pick(clip_tab, x->dtype), &p);
}

// clang-format off
const struct ia_op_def ia_op_Clip = {"", "Clip", 1, 0, Clip_infer, Clip_compute};
// clang-format on
