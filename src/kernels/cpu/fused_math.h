/* Vector math for the fused kernels (fused*.c), private to src/kernels/cpu:
 * 16 floats at a time with GCC's vector extensions, which compile to
 * AVX-512, AVX2 or SSE depending on the function's target (the callers use
 * target_clones). exp: range reduction to [-ln2/2, ln2/2] and a degree-6
 * polynomial, relative error about 2e-7; inputs below -87 give 0 (never a
 * subnormal), above 88 the float maximum's neighbourhood (no inf). */
#ifndef IA_KERNELS_FUSED_MATH_H
#define IA_KERNELS_FUSED_MATH_H

#include <stdint.h>

/* The helpers work through pointers: 64-byte vectors passed or returned by
 * value would make GCC note an ABI question for builds without AVX-512. */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

/* m ? a : b, m all-ones or 0 per lane */
#define VSEL(m, a, b) ((v16f)(((v16i)(a) & (m)) | ((v16i)(b) & ~(m))))

static inline __attribute__((always_inline)) void v_exp(v16f *px) {
    v16f x = *px, zero = {0};
    /* Below -87 the result is exactly 0, not 2^-126-ish: tiny results
     * would go on as subnormals (a masked softmax, GELU's tail) and every
     * FMA that touches a subnormal takes a microcode assist, ~100x slower. */
    v16i tiny = x < -87.0f;
    x = VSEL(tiny, zero - 87.0f, x);
    x = VSEL(x > 88.0f, zero + 88.0f, x);
    v16f t = x * 1.44269504f;
    v16f half = VSEL(t < 0.0f, zero - 0.5f, zero + 0.5f);
    v16i ni = __builtin_convertvector(t + half, v16i); /* round to nearest, in [-125, 127] */
    v16f n = __builtin_convertvector(ni, v16f);
    v16f r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    v16f p = zero + 1.3888889e-3f;
    p = p * r + 8.3333333e-3f;
    p = p * r + 4.1666667e-2f;
    p = p * r + 1.6666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    p = p * (v16f)((ni + 127) << 23);
    *px = VSEL(tiny, zero, p);
}

/* sigmoid(x) = 1 / (1 + e^-x), through e = e^-|x| so nothing overflows:
 * sigmoid(|x|) = 1 / (1 + e) and sigmoid(-|x|) = e / (1 + e) keep full
 * relative precision on both sides (about 3e-7 against libm); below -87
 * the result is exactly 0 (v_exp's floor), never a subnormal. */
static inline __attribute__((always_inline)) void v_sigmoid(v16f *px) {
    v16f x = *px, zero = {0};
    v16i neg = x < 0.0f;
    v16f e = VSEL(neg, x, zero - x);
    v_exp(&e);
    v16f s = (zero + 1.0f) / (1.0f + e);
    *px = VSEL(neg, e * s, s);
}

/* tanh(x): below |x| = 0.4 the odd Taylor series to x^13 (the next term is
 * under 2e-9 there); above, (1 - e) / (1 + e) with e = e^-2|x|, where
 * 1 - e >= 0.55 so the subtraction loses nothing (relative error about
 * 4e-7 against libm); |x| > 43 gives exactly +-1. */
static inline __attribute__((always_inline)) void v_tanh(v16f *px) {
    v16f x = *px, zero = {0};
    v16i neg = x < 0.0f;
    v16f ax = VSEL(neg, zero - x, x);
    v16f e = zero - 2.0f * ax;
    v_exp(&e);
    v16f big = (1.0f - e) / (1.0f + e);
    big = VSEL(neg, zero - big, big);
    v16f x2 = x * x;
    v16f p = zero + 3.5921280e-3f; /* 21844/6081075 */
    p = p * x2 - 8.8632355e-3f;    /* 1382/155925 */
    p = p * x2 + 2.1869489e-2f;    /* 62/2835 */
    p = p * x2 - 5.3968254e-2f;    /* 17/315 */
    p = p * x2 + 1.3333334e-1f;    /* 2/15 */
    p = p * x2 - 3.3333334e-1f;    /* 1/3 */
    v16f small = x + x * x2 * p;
    *px = VSEL(ax < 0.4f, small, big);
}

#endif
