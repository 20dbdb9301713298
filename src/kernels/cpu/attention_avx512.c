/* FusedAttention's AVX-512 products (see attention_avx512.h). Both are the
 * same register block: 8 rows x 32 columns in 16 zmm accumulators, one
 * broadcast per row and two 16-wide loads per step, like the GEMM
 * micro-kernel (gemm_avx512.c) but reading Q, the scores and V in place.
 * Row tails take 4- and 1-row blocks; column tails a 16-wide block
 * (scores) or masked loads and stores (P V). */
#include "attention_avx512.h"

#include <string.h>

#include "ia/core.h"

#define RB 8 /* rows per register block */
#define PW 32 /* K^T panel width: the block's columns */

int64_t ia_att_kt_floats(int64_t Sk, int64_t D) {
    int64_t skp = (Sk + IA_ATT_KT_ALIGN - 1) / IA_ATT_KT_ALIGN * IA_ATT_KT_ALIGN;
    return skp * D;
}

void ia_att_pack_kt(int64_t Sk, int64_t D, const float *k, int64_t kc, int64_t kd, float *kt) {
    int64_t skp = (Sk + IA_ATT_KT_ALIGN - 1) / IA_ATT_KT_ALIGN * IA_ATT_KT_ALIGN;
    for (int64_t c0 = 0; c0 < skp; c0 += PW) {
        int64_t w = skp - c0 < PW ? skp - c0 : PW, n = Sk - c0 < w ? Sk - c0 : w;
        float *panel = kt + c0 * D;
        for (int64_t c = 0; c < n; c++)
            for (int64_t d = 0; d < D; d++) panel[d * w + c] = k[(c0 + c) * kc + d * kd];
        for (int64_t d = 0; n < w && d < D; d++)
            memset(panel + d * w + n, 0, (size_t)(w - n) * sizeof(float));
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

int ia_att_avx512_available(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

/* s[r][0 .. 16 nv) = scale * sum_d q[r][d] panel[d][.], rb rows. */
static inline __attribute__((always_inline, target("avx512f,fma"))) void
scores_block(int rb, int nv, int64_t D, __m512 vs, const float *q, int64_t ldq,
             const float *panel, float *s, int64_t lds) {
    __m512 c0[RB], c1[RB];
#pragma GCC unroll 8
    for (int r = 0; r < rb; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    int64_t w = 16 * nv;
    for (int64_t d = 0; d < D; d++) {
        __m512 b0 = _mm512_loadu_ps(panel + d * w), b1 = b0;
        if (nv == 2) b1 = _mm512_loadu_ps(panel + d * w + 16);
#pragma GCC unroll 8
        for (int r = 0; r < rb; r++) {
            __m512 a = _mm512_set1_ps(q[r * ldq + d]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            if (nv == 2) c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < rb; r++) {
        _mm512_storeu_ps(s + r * lds, _mm512_mul_ps(c0[r], vs));
        if (nv == 2) _mm512_storeu_ps(s + r * lds + 16, _mm512_mul_ps(c1[r], vs));
    }
}

__attribute__((target("avx512f,fma"))) void
ia_att_scores_avx512(int64_t rows, int64_t D, int64_t skp, float scale, const float *q,
                     int64_t ldq, const float *kt, float *s) {
    __m512 vs = _mm512_set1_ps(scale);
    for (int64_t c0 = 0; c0 < skp; c0 += PW) {
        const float *panel = kt + c0 * D;
        int wide = skp - c0 >= PW;
        int64_t r = 0;
        for (; r + 8 <= rows; r += 8) {
            if (wide) scores_block(8, 2, D, vs, q + r * ldq, ldq, panel, s + r * skp + c0, skp);
            else scores_block(8, 1, D, vs, q + r * ldq, ldq, panel, s + r * skp + c0, skp);
        }
        for (; r + 4 <= rows; r += 4) {
            if (wide) scores_block(4, 2, D, vs, q + r * ldq, ldq, panel, s + r * skp + c0, skp);
            else scores_block(4, 1, D, vs, q + r * ldq, ldq, panel, s + r * skp + c0, skp);
        }
        for (; r < rows; r++) {
            if (wide) scores_block(1, 2, D, vs, q + r * ldq, ldq, panel, s + r * skp + c0, skp);
            else scores_block(1, 1, D, vs, q + r * ldq, ldq, panel, s + r * skp + c0, skp);
        }
    }
}

/* o[r][0 .. 32) = sum_c p[r][c] v[c][.], rb rows; m0, m1 mask the columns
 * that exist (o and v are not padded). */
static inline __attribute__((always_inline, target("avx512f,fma"))) void
pv_block(int rb, int64_t Sk, __mmask16 m0, __mmask16 m1, const float *p, int64_t ldp,
         const float *v, int64_t ldv, float *o, int64_t ldo) {
    __m512 c0[RB], c1[RB];
#pragma GCC unroll 8
    for (int r = 0; r < rb; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    for (int64_t c = 0; c < Sk; c++) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, v + c * ldv),
               b1 = _mm512_maskz_loadu_ps(m1, v + c * ldv + 16);
#pragma GCC unroll 8
        for (int r = 0; r < rb; r++) {
            __m512 a = _mm512_set1_ps(p[r * ldp + c]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < rb; r++) {
        _mm512_mask_storeu_ps(o + r * ldo, m0, c0[r]);
        _mm512_mask_storeu_ps(o + r * ldo + 16, m1, c1[r]);
    }
}

static __mmask16 lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

__attribute__((target("avx512f,fma"))) void
ia_att_pv_avx512(int64_t rows, int64_t Sk, int64_t Dv, const float *p, int64_t ldp,
                 const float *v, int64_t ldv, float *o, int64_t ldo) {
    for (int64_t j0 = 0; j0 < Dv; j0 += PW) {
        __mmask16 m0 = lanes(Dv - j0), m1 = lanes(Dv - j0 - 16);
        int64_t r = 0;
        for (; r + 8 <= rows; r += 8)
            pv_block(8, Sk, m0, m1, p + r * ldp, ldp, v + j0, ldv, o + r * ldo + j0, ldo);
        for (; r + 4 <= rows; r += 4)
            pv_block(4, Sk, m0, m1, p + r * ldp, ldp, v + j0, ldv, o + r * ldo + j0, ldo);
        for (; r < rows; r++)
            pv_block(1, Sk, m0, m1, p + r * ldp, ldp, v + j0, ldv, o + r * ldo + j0, ldo);
    }
}

#else
int ia_att_avx512_available(void) { return 0; }

void ia_att_scores_avx512(int64_t rows, int64_t D, int64_t skp, float scale, const float *q,
                          int64_t ldq, const float *kt, float *s) {
    (void)rows, (void)D, (void)skp, (void)scale, (void)q, (void)ldq, (void)kt, (void)s;
    IA_ASSERT(!"AVX-512 attention called on a CPU without it");
}

void ia_att_pv_avx512(int64_t rows, int64_t Sk, int64_t Dv, const float *p, int64_t ldp,
                      const float *v, int64_t ldv, float *o, int64_t ldo) {
    (void)rows, (void)Sk, (void)Dv, (void)p, (void)ldp, (void)v, (void)ldv, (void)o, (void)ldo;
    IA_ASSERT(!"AVX-512 attention called on a CPU without it");
}
#endif
