/*
 * Shared machinery of the elementwise kernels (unary.c, activation.c,
 * binary.c, logic.c, cast.c): one broadcast iterator that every unary,
 * binary, ternary and variadic op runs through, and the macros that stamp
 * out the typed inner loops.
 *
 * An inner loop (ew_fn) gets one row of the output: `n` contiguous output
 * elements and, per input, a base pointer and an element stride along the
 * row (0 for a broadcast operand, 1 for a contiguous one). The loop macros
 * special-case stride 1 and 0 so the common float32 paths vectorise.
 *
 * float16 and bfloat16 have no loops of their own: ew_run widens their
 * operands to float32 a block at a time and narrows the result back, so an
 * op only supplies a float32 loop for them.
 */
#ifndef IA_KERNELS_EW_INTERNAL_H
#define IA_KERNELS_EW_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ia/kernels.h"

/* GCC's -O2 cost model ("very-cheap") vectorises no loop that needs an
 * alias check or a scalar tail, which is every loop here; the dynamic model
 * does, and keeps a scalar fallback for operands that overlap. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

#define EW_MAX_IN 3

/* Scalar parameters of an op (alpha, beta, gamma...), plus typed bounds
 * for Clip. Loops read what they need. */
struct ew_param {
    double a, b, c;
    const void *lo, *hi; /* Clip bounds, of the input's dtype; NULL = none */
};

typedef void (*ew_fn)(void *out, const void *const *in, const int64_t *is, int64_t n,
                      const struct ew_param *p);

/* Runs fn over out's elements, broadcasting each input (numpy rules,
 * right-aligned) to out's shape. Inputs may alias out when their shape
 * equals out's (variadic accumulation). Half-precision operands and a
 * half-precision output are converted around a float32 fn. Splits large
 * work over ctx->pool. */
int ew_run(struct ia_op_ctx *ctx, struct ia_tensor *out, int n_in,
           const struct ia_tensor *const *in, ew_fn fn, const struct ew_param *p);

/* The loop for dtype t from a table indexed by enum ia_dtype, with
 * float16/bfloat16 mapped to the float32 entry. */
static inline ew_fn ew_pick(const ew_fn *table, enum ia_dtype t) {
    if (t == IA_DTYPE_FLOAT16 || t == IA_DTYPE_BFLOAT16) t = IA_DTYPE_FLOAT32;
    return t > IA_DTYPE_UNDEFINED && t < IA_DTYPE_COUNT ? table[t] : NULL;
}

static inline int ew_is_float(enum ia_dtype t) {
    return t == IA_DTYPE_FLOAT32 || t == IA_DTYPE_FLOAT64 || t == IA_DTYPE_FLOAT16 ||
           t == IA_DTYPE_BFLOAT16;
}

/* Input i or an error naming the node when it is missing. */
int ew_need_inputs(struct ia_op_ctx *ctx, size_t n_min, size_t n_max);
/* Output 0 takes input 0's shape, with `dtype`. */
int ew_infer_same(struct ia_op_ctx *ctx, enum ia_dtype dtype);
/* Output 0 is the broadcast of in[0, n) (all present), with `dtype`. */
int ew_infer_bcast(struct ia_op_ctx *ctx, size_t n, const struct ia_tensor *const *in,
                   enum ia_dtype dtype);
/* The two operands of a binary op as ew_run should see them: for opset < 7
 * with broadcast=1, B is re-shaped into *bview so it aligns at `axis` of A
 * (the pre-numpy rule). */
int ew_binary_args(struct ia_op_ctx *ctx, struct ia_tensor *bview, const struct ia_tensor *args[2]);
/* A binary op over inputs of one dtype whose loop is in `tab`; the output
 * has that dtype, or out_dtype when it is not UNDEFINED (comparisons). */
int ew_binary_infer(struct ia_op_ctx *ctx, const ew_fn *tab, enum ia_dtype out_dtype);
int ew_binary_compute(struct ia_op_ctx *ctx, const ew_fn *tab, const struct ew_param *p);
/* Error for a dtype an op has no loop for. */
int ew_bad_dtype(struct ia_op_ctx *ctx, const struct ia_tensor *t);

/* Converts src's numel elements (contiguous, any numeric dtype or bool)
 * into dst as dtype `to` (cast.c). Float to integer truncates toward zero
 * and saturates at the int64 range before narrowing; NaN becomes 0. */
int ew_convert(struct ia_op_ctx *ctx, const struct ia_tensor *src, enum ia_dtype to, void *dst);

/* double -> int64 without undefined behaviour: truncates, saturates, NaN 0. */
static inline int64_t ew_d2i(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

/* ---- loop stamping -------------------------------------------------------
 * X is the input element, Y the second, Z the third; P the ew_param. The
 * expression is evaluated per element with those names bound. */

#define EW_UNARY(name, TI, TO, EXPR)                                                               \
    static void name(void *o_, const void *const *in_, const int64_t *is_, int64_t n_,             \
                     const struct ew_param *P) {                                                   \
        typedef TI T_;                                                                             \
        (void)P;                                                                                   \
        (void)sizeof(T_);                                                                          \
        TO *o = (TO *)o_;                                                                          \
        const TI *a_ = (const TI *)in_[0];                                                         \
        if (is_[0] == 1) {                                                                         \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                  \
                TI X = a_[i_];                                                                     \
                o[i_] = (TO)(EXPR);                                                                \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                  \
                TI X = a_[i_ * is_[0]];                                                            \
                o[i_] = (TO)(EXPR);                                                                \
            }                                                                                      \
        }                                                                                          \
    }

#define EW_BINARY(name, TA, TB, TO, EXPR)                                                          \
    static void name(void *o_, const void *const *in_, const int64_t *is_, int64_t n_,             \
                     const struct ew_param *P) {                                                   \
        typedef TA T_;                                                                             \
        (void)P;                                                                                   \
        (void)sizeof(T_);                                                                          \
        TO *o = (TO *)o_;                                                                          \
        const TA *a_ = (const TA *)in_[0];                                                         \
        const TB *b_ = (const TB *)in_[1];                                                         \
        if (is_[0] == 1 && is_[1] == 1) {                                                          \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                  \
                TA X = a_[i_];                                                                     \
                TB Y = b_[i_];                                                                     \
                (void)X;                                                                           \
                (void)Y;                                                                           \
                o[i_] = (TO)(EXPR);                                                                \
            }                                                                                      \
        } else if (is_[0] == 1 && is_[1] == 0) {                                                   \
            const TB Y = b_[0];                                                                    \
            (void)Y;                                                                               \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                  \
                TA X = a_[i_];                                                                     \
                o[i_] = (TO)(EXPR);                                                                \
            }                                                                                      \
        } else if (is_[0] == 0 && is_[1] == 1) {                                                   \
            const TA X = a_[0];                                                                    \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                  \
                TB Y = b_[i_];                                                                     \
                (void)X;                                                                           \
                (void)Y;                                                                           \
                o[i_] = (TO)(EXPR);                                                                \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                  \
                TA X = a_[i_ * is_[0]];                                                            \
                TB Y = b_[i_ * is_[1]];                                                            \
                (void)Y;                                                                           \
                o[i_] = (TO)(EXPR);                                                                \
            }                                                                                      \
        }                                                                                          \
    }

/* Integer types as (suffix, type, unsigned type of the same width); the
 * unsigned twin lets signed arithmetic wrap instead of overflowing. */
#define EW_SINTS(X)                                                                                \
    X(i8, int8_t, uint8_t)                                                                         \
    X(i16, int16_t, uint16_t) X(i32, int32_t, uint32_t) X(i64, int64_t, uint64_t)
#define EW_UINTS(X)                                                                                \
    X(u8, uint8_t, uint8_t)                                                                        \
    X(u16, uint16_t, uint16_t) X(u32, uint32_t, uint32_t) X(u64, uint64_t, uint64_t)
#define EW_FLOATS(X) X(f32, float, float) X(f64, double, double)

/* Table initialisers: [IA_DTYPE_x] = prefix_suffix. */
#define EW_T_SINTS(p)                                                                              \
    [IA_DTYPE_INT8] = p##_i8, [IA_DTYPE_INT16] = p##_i16, [IA_DTYPE_INT32] = p##_i32,              \
    [IA_DTYPE_INT64] = p##_i64
#define EW_T_UINTS(p)                                                                              \
    [IA_DTYPE_UINT8] = p##_u8, [IA_DTYPE_UINT16] = p##_u16, [IA_DTYPE_UINT32] = p##_u32,           \
    [IA_DTYPE_UINT64] = p##_u64
#define EW_T_FLOATS(p) [IA_DTYPE_FLOAT32] = p##_f32, [IA_DTYPE_FLOAT64] = p##_f64
#define EW_T_INTS(p) EW_T_SINTS(p), EW_T_UINTS(p)
#define EW_T_ALL(p) EW_T_INTS(p), EW_T_FLOATS(p)

/* infer/compute for a one-input op whose loop table is TAB; OUT_DT may use
 * t_ (the input dtype); PARAMS fills p_ (struct ew_param) from attributes. */
#define EW_DEFINE_UNARY(Name, TAB, OUT_DT, PARAMS)                                                 \
    static int Name##_infer(struct ia_op_ctx *ctx) {                                               \
        int rc_ = ew_need_inputs(ctx, 1, 1);                                                       \
        if (rc_) return rc_;                                                                       \
        enum ia_dtype t_ = ctx->inputs[0]->dtype;                                                  \
        if (!ew_pick(TAB, t_)) return ew_bad_dtype(ctx, ctx->inputs[0]);                           \
        return ew_infer_same(ctx, OUT_DT);                                                         \
    }                                                                                              \
    static int Name##_compute(struct ia_op_ctx *ctx) {                                             \
        struct ew_param p_ = {0};                                                                  \
        PARAMS;                                                                                    \
        return ew_run(ctx, ctx->outputs[0], 1, ctx->inputs, ew_pick(TAB, ctx->inputs[0]->dtype),   \
                      &p_);                                                                        \
    }

/* Float-only one-input loops: f32 and f64 from one <tgmath.h> expression. */
#define EW_FLOAT_UNARY(nm, EXPR)                                                                   \
    EW_UNARY(nm##_f32, float, float, EXPR)                                                         \
    EW_UNARY(nm##_f64, double, double, EXPR)                                                       \
    static const ew_fn nm##_tab[IA_DTYPE_COUNT] = {EW_T_FLOATS(nm)};

#endif
