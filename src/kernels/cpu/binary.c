/* Arithmetic with numpy broadcasting: Add Sub Mul Div Pow Mod BitShift
 * BitwiseAnd/Or/Xor, and the variadic Max Min Sum Mean.
 *
 * Integer arithmetic wraps (computed in the unsigned twin; `1u *` lifts
 * narrow types past int promotion). Integer division truncates toward zero
 * like C and onnxruntime; a zero divisor gives 0 rather than a trap, and
 * INT_MIN / -1 wraps. */
#include "ew_internal.h"

#include <tgmath.h>

#define ARITH_I(s, T, U)                                                                           \
    EW_BINARY(add_##s, T, T, T, (U)(1u * (U)X + (U)Y))                                             \
    EW_BINARY(sub_##s, T, T, T, (U)(1u * (U)X - (U)Y))                                             \
    EW_BINARY(mul_##s, T, T, T, (U)(1u * (U)X * (U)Y))                                             \
    EW_BINARY(band_##s, T, T, T, X &Y)                                                             \
    EW_BINARY(bor_##s, T, T, T, X | Y)                                                             \
    EW_BINARY(bxor_##s, T, T, T, X ^ Y)                                                            \
    EW_BINARY(max_##s, T, T, T, X > Y ? X : Y)                                                     \
    EW_BINARY(min_##s, T, T, T, X < Y ? X : Y)
#define DIV_S(s, T, U)                                                                             \
    EW_BINARY(div_##s, T, T, T, Y == 0 ? (T)0 : (Y == -1 ? (T)(U)(0u - (U)X) : (T)(X / Y)))        \
    EW_BINARY(fmod_##s, T, T, T, Y == 0 || Y == -1 ? 0 : X % Y)                                    \
    EW_BINARY(mod_##s, T, T, T,                                                                    \
              Y == 0 || Y == -1 ? 0                                                                \
                                : (X % Y != 0 && ((X % Y < 0) != (Y < 0)) ? X % Y + Y : X % Y))
#define DIV_U(s, T, U)                                                                             \
    EW_BINARY(div_##s, T, T, T, Y == 0 ? 0 : X / Y)                                                \
    EW_BINARY(fmod_##s, T, T, T, Y == 0 ? 0 : X % Y)                                               \
    EW_BINARY(mod_##s, T, T, T, Y == 0 ? 0 : X % Y)                                                \
    EW_BINARY(shl_##s, T, T, T, Y >= sizeof(T) * 8 ? 0 : (U)(1u * X << Y))                         \
    EW_BINARY(shr_##s, T, T, T, Y >= sizeof(T) * 8 ? 0 : X >> Y)
EW_SINTS(ARITH_I)
EW_UINTS(ARITH_I)
EW_SINTS(DIV_S)
EW_UINTS(DIV_U)

/* Max/Min propagate NaN like numpy.maximum. The Python-style float mod
 * takes the divisor's sign. */
#define ARITH_F(s, T, U)                                                                           \
    EW_BINARY(add_##s, T, T, T, X + Y)                                                             \
    EW_BINARY(sub_##s, T, T, T, X - Y)                                                             \
    EW_BINARY(mul_##s, T, T, T, X *Y)                                                              \
    EW_BINARY(div_##s, T, T, T, X / Y)                                                             \
    EW_BINARY(pow_##s, T, T, T, pow(X, Y))                                                         \
    EW_BINARY(max_##s, T, T, T, (X > Y || X != X) ? X : Y)                                         \
    EW_BINARY(min_##s, T, T, T, (X < Y || X != X) ? X : Y)                                         \
    EW_BINARY(fmod_##s, T, T, T, fmod(X, Y))                                                       \
    EW_BINARY(mod_##s, T, T, T,                                                                    \
              fmod(X, Y) != 0 && ((fmod(X, Y) < 0) != (Y < 0)) ? fmod(X, Y) + Y : fmod(X, Y))      \
    EW_UNARY(mean_##s, T, T, X / (T)P->a)
EW_FLOATS(ARITH_F)

static const ew_fn add_tab[IA_DTYPE_COUNT] = {EW_T_ALL(add)};
static const ew_fn sub_tab[IA_DTYPE_COUNT] = {EW_T_ALL(sub)};
static const ew_fn mul_tab[IA_DTYPE_COUNT] = {EW_T_ALL(mul)};
static const ew_fn div_tab[IA_DTYPE_COUNT] = {EW_T_ALL(div)};
static const ew_fn mod_tab[IA_DTYPE_COUNT] = {EW_T_ALL(mod)};
static const ew_fn fmod_tab[IA_DTYPE_COUNT] = {EW_T_ALL(fmod)};
static const ew_fn max_tab[IA_DTYPE_COUNT] = {EW_T_ALL(max)};
static const ew_fn min_tab[IA_DTYPE_COUNT] = {EW_T_ALL(min)};
static const ew_fn mean_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(mean)};
static const ew_fn band_tab[IA_DTYPE_COUNT] = {EW_T_INTS(band)};
static const ew_fn bor_tab[IA_DTYPE_COUNT] = {EW_T_INTS(bor)};
static const ew_fn bxor_tab[IA_DTYPE_COUNT] = {EW_T_INTS(bxor)};
static const ew_fn shl_tab[IA_DTYPE_COUNT] = {EW_T_UINTS(shl)};
static const ew_fn shr_tab[IA_DTYPE_COUNT] = {EW_T_UINTS(shr)};

#define BINARY_OP(Name, tab)                                                                       \
    static int Name##_infer(struct ia_op_ctx *ctx) {                                               \
        return ew_binary_infer(ctx, tab, IA_DTYPE_UNDEFINED);                                      \
    }                                                                                              \
    static int Name##_compute(struct ia_op_ctx *ctx) { return ew_binary_compute(ctx, tab, NULL); }
BINARY_OP(Add, add_tab)
BINARY_OP(Sub, sub_tab)
BINARY_OP(Mul, mul_tab)
BINARY_OP(Div, div_tab)
BINARY_OP(BitwiseAnd, band_tab)
BINARY_OP(BitwiseOr, bor_tab)
BINARY_OP(BitwiseXor, bxor_tab)

// clang-format off
const struct ia_op_def ia_op_Add = {"", "Add", 1, 0, Add_infer, Add_compute};
const struct ia_op_def ia_op_Sub = {"", "Sub", 1, 0, Sub_infer, Sub_compute};
const struct ia_op_def ia_op_Mul = {"", "Mul", 1, 0, Mul_infer, Mul_compute};
const struct ia_op_def ia_op_Div = {"", "Div", 1, 0, Div_infer, Div_compute};
const struct ia_op_def ia_op_BitwiseAnd = {"", "BitwiseAnd", 18, 0, BitwiseAnd_infer, BitwiseAnd_compute};
const struct ia_op_def ia_op_BitwiseOr = {"", "BitwiseOr", 18, 0, BitwiseOr_infer, BitwiseOr_compute};
const struct ia_op_def ia_op_BitwiseXor = {"", "BitwiseXor", 18, 0, BitwiseXor_infer, BitwiseXor_compute};
// clang-format on

/* ---- Mod: fmod=0 takes the divisor's sign (numpy.mod), fmod=1 the
 * dividend's (C fmod / %). ------------------------------------------------- */

static int Mod_infer(struct ia_op_ctx *ctx) {
    int64_t f = ia_attr_int(ctx->node, "fmod", 0);
    if (f != 0 && f != 1)
        return ia_op_error(ctx, IA_EINVAL, "fmod is %lld, not 0 or 1", (long long)f);
    return ew_binary_infer(ctx, f ? fmod_tab : mod_tab, IA_DTYPE_UNDEFINED);
}
static int Mod_compute(struct ia_op_ctx *ctx) {
    return ew_binary_compute(ctx, ia_attr_int(ctx->node, "fmod", 0) ? fmod_tab : mod_tab, NULL);
}
// clang-format off
const struct ia_op_def ia_op_Mod = {"", "Mod", 10, 0, Mod_infer, Mod_compute};
// clang-format on

/* ---- BitShift ------------------------------------------------------------- */

static int shift_dir(struct ia_op_ctx *ctx, const ew_fn **tab) {
    char buf[8];
    const char *d = ia_attr_string(ctx->node, "direction", buf, sizeof buf, "");
    if (!strcmp(d, "LEFT"))
        *tab = shl_tab;
    else if (!strcmp(d, "RIGHT"))
        *tab = shr_tab;
    else
        return ia_op_error(ctx, IA_EINVAL, "direction '%s' is not LEFT or RIGHT", d);
    return IA_OK;
}
static int BitShift_infer(struct ia_op_ctx *ctx) {
    const ew_fn *tab = NULL;
    int rc = shift_dir(ctx, &tab);
    return rc ? rc : ew_binary_infer(ctx, tab, IA_DTYPE_UNDEFINED);
}
static int BitShift_compute(struct ia_op_ctx *ctx) {
    const ew_fn *tab = NULL;
    int rc = shift_dir(ctx, &tab);
    return rc ? rc : ew_binary_compute(ctx, tab, NULL);
}
// clang-format off
const struct ia_op_def ia_op_BitShift = {"", "BitShift", 11, 0, BitShift_infer, BitShift_compute};
// clang-format on

/* ---- Pow: the exponent may have another type than the base ----------------
 * A float base computes in its own precision (the exponent converted to
 * it); an integer base with an integer exponent multiplies exactly (with
 * wrap-around) and with a float exponent goes through double. */

static int64_t ipow(int64_t b, int64_t e) {
    if (e < 0) return b == 1 ? 1 : (b == -1 ? ((e & 1) ? -1 : 1) : 0);
    uint64_t r = 1, x = (uint64_t)b;
    for (uint64_t k = (uint64_t)e; k; k >>= 1) {
        if (k & 1) r *= x;
        x *= x;
    }
    return (int64_t)r;
}

#define POW_I(s, T, U)                                                                             \
    EW_BINARY(powi_##s, T, int64_t, T, (U)ipow((int64_t)X, Y))                                     \
    EW_BINARY(powd_##s, T, double, T, (U)ew_d2i(pow((double)X, Y)))
EW_SINTS(POW_I)
EW_UINTS(POW_I)
static const ew_fn pow_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(pow)};
static const ew_fn powi_tab[IA_DTYPE_COUNT] = {EW_T_INTS(powi)};
static const ew_fn powd_tab[IA_DTYPE_COUNT] = {EW_T_INTS(powd)};

/* The dtype the exponent must have for the base's loop; UNDEFINED when it
 * can be used as it is. */
static enum ia_dtype pow_exp_type(enum ia_dtype x, enum ia_dtype y) {
    if (x == IA_DTYPE_FLOAT64) return y == x ? IA_DTYPE_UNDEFINED : IA_DTYPE_FLOAT64;
    if (ew_is_float(x))
        return ew_is_float(y) && y != IA_DTYPE_FLOAT64 ? IA_DTYPE_UNDEFINED : IA_DTYPE_FLOAT32;
    if (ew_is_float(y)) return y == IA_DTYPE_FLOAT64 ? IA_DTYPE_UNDEFINED : IA_DTYPE_FLOAT64;
    return y == IA_DTYPE_INT64 ? IA_DTYPE_UNDEFINED : IA_DTYPE_INT64;
}

static int Pow_infer(struct ia_op_ctx *ctx) {
    int rc = ew_need_inputs(ctx, 2, 2);
    if (rc) return rc;
    const struct ia_tensor *x = ctx->inputs[0], *y = ctx->inputs[1], *args[2];
    if (!ew_pick(ew_is_float(x->dtype) ? pow_tab : powi_tab, x->dtype)) return ew_bad_dtype(ctx, x);
    if (!ia_dtype_size(y->dtype) || y->dtype == IA_DTYPE_BOOL) return ew_bad_dtype(ctx, y);
    struct ia_tensor bview;
    rc = ew_binary_args(ctx, &bview, args);
    return rc ? rc : ew_infer_bcast(ctx, 2, args, x->dtype);
}

static int Pow_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *args[2];
    struct ia_tensor bview, yconv;
    int rc = ew_binary_args(ctx, &bview, args);
    if (rc) return rc;
    const struct ia_tensor *x = args[0], *y = args[1];
    enum ia_dtype yt = pow_exp_type(x->dtype, y->dtype);
    const ew_fn *tab = ew_is_float(x->dtype)                                  ? pow_tab
                       : (yt == IA_DTYPE_INT64 || y->dtype == IA_DTYPE_INT64) ? powi_tab
                                                                              : powd_tab;
    void *buf = NULL;
    if (yt != IA_DTYPE_UNDEFINED) {
        yconv = *y;
        yconv.dtype = yt;
        if (!(buf = ia_calloc(y->numel ? y->numel : 1, ia_dtype_size(yt))))
            return ia_op_error(ctx, IA_ENOMEM, "no memory for the converted exponent");
        rc = ew_convert(ctx, y, yt, buf);
        yconv.data = buf;
        args[1] = &yconv;
    }
    if (rc == IA_OK) rc = ew_run(ctx, ctx->outputs[0], 2, args, ew_pick(tab, x->dtype), NULL);
    ia_free(buf);
    return rc;
}
// clang-format off
const struct ia_op_def ia_op_Pow = {"", "Pow", 1, 0, Pow_infer, Pow_compute};
// clang-format on

/* ---- variadic: Max Min Sum Mean -------------------------------------------
 * The output is the broadcast of all inputs; it is built by folding each
 * input into it pairwise (the output is the left operand from the third
 * input on, which is safe: each element is read before it is written). */

static int variadic_infer(struct ia_op_ctx *ctx, const ew_fn *tab) {
    int rc = ew_need_inputs(ctx, 1, SIZE_MAX);
    if (rc) return rc;
    const struct ia_tensor *a = ctx->inputs[0];
    for (size_t i = 1; i < ctx->n_inputs; i++) {
        if (!ctx->inputs[i]) return ia_op_error(ctx, IA_EINVAL, "input %zu is missing", i);
        if (ctx->inputs[i]->dtype != a->dtype)
            return ia_op_error(ctx, IA_EINVAL, "input %zu is %s, input 0 is %s", i,
                               ia_dtype_name(ctx->inputs[i]->dtype), ia_dtype_name(a->dtype));
    }
    if (!ew_pick(tab, a->dtype)) return ew_bad_dtype(ctx, a);
    return ew_infer_bcast(ctx, ctx->n_inputs, ctx->inputs, a->dtype);
}

static int variadic_compute(struct ia_op_ctx *ctx, const ew_fn *tab) {
    struct ia_tensor *out = ctx->outputs[0];
    ew_fn fn = ew_pick(tab, ctx->inputs[0]->dtype);
    if (ctx->n_inputs == 1) {
        const struct ia_tensor *a = ctx->inputs[0];
        if (a->nbytes != out->nbytes || (out->nbytes && (!a->data || !out->data)))
            return ia_op_error(ctx, IA_EINVAL, "output does not match the single input");
        if (out->nbytes && out->data != a->data) memcpy(out->data, a->data, out->nbytes);
        return IA_OK;
    }
    int rc = ew_run(ctx, out, 2, ctx->inputs, fn, NULL);
    for (size_t i = 2; i < ctx->n_inputs && rc == IA_OK; i++) {
        const struct ia_tensor *args[2] = {out, ctx->inputs[i]};
        rc = ew_run(ctx, out, 2, args, fn, NULL);
    }
    return rc;
}

static int Max_infer(struct ia_op_ctx *ctx) { return variadic_infer(ctx, max_tab); }
static int Max_compute(struct ia_op_ctx *ctx) { return variadic_compute(ctx, max_tab); }
static int Min_infer(struct ia_op_ctx *ctx) { return variadic_infer(ctx, min_tab); }
static int Min_compute(struct ia_op_ctx *ctx) { return variadic_compute(ctx, min_tab); }
static int Sum_infer(struct ia_op_ctx *ctx) { return variadic_infer(ctx, add_tab); }
static int Sum_compute(struct ia_op_ctx *ctx) { return variadic_compute(ctx, add_tab); }
static int Mean_infer(struct ia_op_ctx *ctx) { return variadic_infer(ctx, mean_tab); }
static int Mean_compute(struct ia_op_ctx *ctx) {
    int rc = variadic_compute(ctx, add_tab);
    if (rc || ctx->n_inputs == 1) return rc;
    struct ew_param p = {.a = (double)ctx->n_inputs};
    const struct ia_tensor *args[1] = {ctx->outputs[0]};
    return ew_run(ctx, ctx->outputs[0], 1, args, ew_pick(mean_tab, args[0]->dtype), &p);
}

// clang-format off
const struct ia_op_def ia_op_Max = {"", "Max", 1, 0, Max_infer, Max_compute};
const struct ia_op_def ia_op_Min = {"", "Min", 1, 0, Min_infer, Min_compute};
const struct ia_op_def ia_op_Sum = {"", "Sum", 1, 0, Sum_infer, Sum_compute};
const struct ia_op_def ia_op_Mean = {"", "Mean", 1, 0, Mean_infer, Mean_compute};
// clang-format on
