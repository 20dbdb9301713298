/* AVX-512 building blocks of FusedAttention (fused_attention.c), private to
 * src/kernels/cpu. One attention head's two products, register-blocked
 * for head sizes like 64, with K^T packed once per head so that every
 * block of query rows reuses it (ia_sgemm would pack it again per block).
 * Compiled per function for avx512f+fma; call them only when
 * ia_att_avx512_available() says so. The plain path they replace stays in
 * fused_attention.c (ia_sgemm), and tests/unit/test_fusion.c checks both
 * against the unfused graph. */
#ifndef IA_KERNELS_ATTENTION_AVX512_H
#define IA_KERNELS_ATTENTION_AVX512_H

#include <stdint.h>

/* skp below: Sk rounded up to a multiple of this. */
#define IA_ATT_KT_ALIGN 16

/* 1 when this CPU has avx512f and fma. */
int ia_att_avx512_available(void);

/* The floats ia_att_pack_kt writes for Sk keys of size D. */
int64_t ia_att_kt_floats(int64_t Sk, int64_t D);

/* kt = K^T in column panels: panel j holds keys 32j .. 32j + w - 1 (w = 32,
 * or 16 for the last when skp is an odd multiple of 16) as D rows of w
 * floats, at kt + 32 * j * D; keys past Sk are zeros. K's key c, element
 * d is at k[c * kc + d * kd] (element strides: [Sk, D] rows or a K^T). */
void ia_att_pack_kt(int64_t Sk, int64_t D, const float *k, int64_t kc, int64_t kd, float *kt);

/* s (rows x skp, row stride skp) = scale * q kt: q is rows x D with row
 * stride ldq, kt from ia_att_pack_kt. The padding columns get 0. */
void ia_att_scores_avx512(int64_t rows, int64_t D, int64_t skp, float scale, const float *q,
                          int64_t ldq, const float *kt, float *s);

/* o (rows x Dv, row stride ldo) = p v: p is rows x Sk (row stride ldp),
 * v is Sk x Dv (row stride ldv). o's old contents are ignored. */
void ia_att_pv_avx512(int64_t rows, int64_t Sk, int64_t Dv, const float *p, int64_t ldp,
                      const float *v, int64_t ldv, float *o, int64_t ldo);

#endif
