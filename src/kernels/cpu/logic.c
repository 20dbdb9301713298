/* Comparisons (Equal Greater GreaterOrEqual Less LessOrEqual -> bool), the
 * boolean And Or Xor, and Where (three-way broadcast select). Booleans are
 * one byte, 0 or 1. */
#include "ew_internal.h"

#define CMP(s, T, U)                                                                               \
    EW_BINARY(eq_##s, T, T, uint8_t, X == Y)                                                       \
    EW_BINARY(gt_##s, T, T, uint8_t, X > Y)                                                        \
    EW_BINARY(ge_##s, T, T, uint8_t, X >= Y)                                                       \
    EW_BINARY(lt_##s, T, T, uint8_t, X < Y)                                                        \
    EW_BINARY(le_##s, T, T, uint8_t, X <= Y)
EW_SINTS(CMP)
EW_UINTS(CMP)
EW_FLOATS(CMP)
EW_BINARY(eq_b, uint8_t, uint8_t, uint8_t, (X != 0) == (Y != 0))
EW_BINARY(and_b, uint8_t, uint8_t, uint8_t, (X != 0) & (Y != 0))
EW_BINARY(or_b, uint8_t, uint8_t, uint8_t, (X != 0) | (Y != 0))
EW_BINARY(xor_b, uint8_t, uint8_t, uint8_t, (X != 0) ^ (Y != 0))

static const ew_fn eq_tab[IA_DTYPE_COUNT] = {EW_T_ALL(eq), [IA_DTYPE_BOOL] = eq_b};
static const ew_fn gt_tab[IA_DTYPE_COUNT] = {EW_T_ALL(gt)};
static const ew_fn ge_tab[IA_DTYPE_COUNT] = {EW_T_ALL(ge)};
static const ew_fn lt_tab[IA_DTYPE_COUNT] = {EW_T_ALL(lt)};
static const ew_fn le_tab[IA_DTYPE_COUNT] = {EW_T_ALL(le)};
static const ew_fn and_tab[IA_DTYPE_COUNT] = {[IA_DTYPE_BOOL] = and_b};
static const ew_fn or_tab[IA_DTYPE_COUNT] = {[IA_DTYPE_BOOL] = or_b};
static const ew_fn xor_tab[IA_DTYPE_COUNT] = {[IA_DTYPE_BOOL] = xor_b};

#define BOOL_OP(Name, tab)                                                                         \
    static int Name##_infer(struct ia_op_ctx *ctx) {                                               \
        return ew_binary_infer(ctx, tab, IA_DTYPE_BOOL);                                           \
    }                                                                                              \
    static int Name##_compute(struct ia_op_ctx *ctx) { return ew_binary_compute(ctx, tab, NULL); }
BOOL_OP(Equal, eq_tab)
BOOL_OP(Greater, gt_tab)
BOOL_OP(GreaterOrEqual, ge_tab)
BOOL_OP(Less, lt_tab)
BOOL_OP(LessOrEqual, le_tab)
BOOL_OP(And, and_tab)
BOOL_OP(Or, or_tab)
BOOL_OP(Xor, xor_tab)

// clang-format off
const struct ia_op_def ia_op_Equal = {"", "Equal", 1, 0, Equal_infer, Equal_compute};
const struct ia_op_def ia_op_Greater = {"", "Greater", 1, 0, Greater_infer, Greater_compute};
const struct ia_op_def ia_op_GreaterOrEqual = {"", "GreaterOrEqual", 12, 0, GreaterOrEqual_infer, GreaterOrEqual_compute};
const struct ia_op_def ia_op_Less = {"", "Less", 1, 0, Less_infer, Less_compute};
const struct ia_op_def ia_op_LessOrEqual = {"", "LessOrEqual", 12, 0, LessOrEqual_infer, LessOrEqual_compute};
const struct ia_op_def ia_op_And = {"", "And", 1, 0, And_infer, And_compute};
const struct ia_op_def ia_op_Or = {"", "Or", 1, 0, Or_infer, Or_compute};
const struct ia_op_def ia_op_Xor = {"", "Xor", 1, 0, Xor_infer, Xor_compute};
// clang-format on

/* ---- Where(cond, X, Y) ------------------------------------------------------
 * The select only moves bits, so loops go by element size; float16 and
 * bfloat16 are moved as 2-byte integers, not through float32. */

#define WHERE_LOOP(s, T)                                                                           \
    static void where_##s(void *o_, const void *const *in, const int64_t *is, int64_t n,           \
                          const struct ew_param *P) {                                              \
        (void)P;                                                                                   \
        T *o = o_;                                                                                 \
        const uint8_t *c = in[0];                                                                  \
        const T *x = in[1], *y = in[2];                                                            \
        if (is[0] == 1 && is[1] == 1 && is[2] == 1) {                                              \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                             \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) o[i] = c[i * is[0]] ? x[i * is[1]] : y[i * is[2]];     \
        }                                                                                          \
    }
WHERE_LOOP(1, uint8_t)
WHERE_LOOP(2, uint16_t)
WHERE_LOOP(4, uint32_t)
WHERE_LOOP(8, uint64_t)

static int Where_infer(struct ia_op_ctx *ctx) {
    int rc = ew_need_inputs(ctx, 3, 3);
    if (rc) return rc;
    const struct ia_tensor *c = ctx->inputs[0], *x = ctx->inputs[1], *y = ctx->inputs[2];
    if (c->dtype != IA_DTYPE_BOOL)
        return ia_op_error(ctx, IA_EINVAL, "condition is %s, not bool", ia_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return ia_op_error(ctx, IA_EINVAL, "X is %s and Y is %s", ia_dtype_name(x->dtype),
                           ia_dtype_name(y->dtype));
    size_t sz = ia_dtype_size(x->dtype);
    if (sz != 1 && sz != 2 && sz != 4 && sz != 8) return ew_bad_dtype(ctx, x);
    return ew_infer_bcast(ctx, 3, ctx->inputs, x->dtype);
}

static int Where_compute(struct ia_op_ctx *ctx) {
    const struct ia_tensor *c = ctx->inputs[0], *x = ctx->inputs[1], *y = ctx->inputs[2];
    struct ia_tensor *out = ctx->outputs[0];
    /* Present half-precision operands to ew_run as raw 16-bit words so it
     * does not widen them. */
    struct ia_tensor xv = *x, yv = *y, ov = *out;
    xv.dtype = yv.dtype = ov.dtype = IA_DTYPE_UNDEFINED;
    ew_fn fn = NULL;
    switch (ia_dtype_size(x->dtype)) {
    case 1:
        fn = where_1;
        xv.dtype = IA_DTYPE_UINT8;
        break;
    case 2:
        fn = where_2;
        xv.dtype = IA_DTYPE_UINT16;
        break;
    case 4:
        fn = where_4;
        xv.dtype = IA_DTYPE_UINT32;
        break;
    case 8:
        fn = where_8;
        xv.dtype = IA_DTYPE_UINT64;
        break;
    default:
        return ew_bad_dtype(ctx, x);
    }
    if (c->dtype != IA_DTYPE_BOOL || y->dtype != x->dtype) return ew_bad_dtype(ctx, c);
    yv.dtype = ov.dtype = xv.dtype;
    const struct ia_tensor *args[3] = {c, &xv, &yv};
    return ew_run(ctx, &ov, 3, args, fn, NULL);
}

// clang-format off
const struct ia_op_def ia_op_Where = {"", "Where", 9, 0, Where_infer, Where_compute};
// clang-format on
