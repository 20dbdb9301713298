/* The AVX-512 SGEMM micro-kernel: a 12 x 32 tile of C in 24 zmm
 * accumulators, fed by one broadcast of A and two 16-wide loads of B per
 * k step. Compiled for avx512f+fma by function attribute so the rest of
 * the library stays baseline x86-64; gemm.c calls it only when
 * __builtin_cpu_supports says the CPU has both. */
#include "gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR IA_SGEMM_AVX512_MR
#define NR IA_SGEMM_AVX512_NR

/* Prefetch distances in floats: A (12 floats a step, streamed from L2)
 * 16 steps ahead; B (32 a step, from L2) 8 steps ahead. Near the end of
 * the slivers they point past them: prefetches are hints and never fault.
 * Measured on 128x768x3072 pre-packed, one thread, 128-row K panels:
 * without prefetch the kernel stalled on the loads of A (perf record); these
 * prefetches with the driver's next-sliver ones (pf) took it from about
 * 60% to 70% of the FMA peak, before the panels grew to 768 rows. */
#ifndef PF_A
#define PF_A 192
#endif
#ifndef PF_B
#define PF_B 256
#endif

/* One k step: two vectors of B, twelve broadcasts of A. */
#define STEP(a, b)                                                           \
    {                                                                        \
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps((b) + 16);      \
        S(a, 0) S(a, 1) S(a, 2) S(a, 3) S(a, 4) S(a, 5) S(a, 6) S(a, 7) S(a, 8) \
        S(a, 9) S(a, 10) S(a, 11)                                            \
    }
#define PF(x, y)                                                             \
    _mm_prefetch((const char *)(x), _MM_HINT_T0);                            \
    _mm_prefetch((const char *)(y), _MM_HINT_T0);                            \
    _mm_prefetch((const char *)((y) + 16), _MM_HINT_T0);
#define S(a, i)                                                              \
    {                                                                        \
        __m512 ai = _mm512_set1_ps((a)[i]);                                  \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                          \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                          \
    }

__attribute__((target("avx512f,fma"))) void
ia_sgemm_ukr_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, uintptr_t pf,
                    int add) {
#define Z(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
    Z(0) Z(1) Z(2) Z(3) Z(4) Z(5) Z(6) Z(7) Z(8) Z(9) Z(10) Z(11)
#undef Z
    int64_t k = 0;
    /* Four steps per turn: three lines of A and eight of B are prefetched
     * into L1, one line of pf into L2. */
    for (; k + 4 <= kc; k += 4, a += 4 * MR, b += 4 * NR, pf += 64) {
        PF(a + PF_A, b + PF_B)
        STEP(a, b)
        PF(a + PF_A + 16, b + PF_B + NR)
        STEP(a + MR, b + NR)
        PF(a + PF_A + 32, b + PF_B + 2 * NR)
        STEP(a + 2 * MR, b + 2 * NR)
        _mm_prefetch((const char *)pf, _MM_HINT_T1);
        _mm_prefetch((const char *)(b + PF_B + 3 * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + PF_B + 3 * NR + 16), _MM_HINT_T0);
        STEP(a + 3 * MR, b + 3 * NR)
    }
    for (; k < kc; k++, a += MR, b += NR) STEP(a, b)
#define W(i)                                                                 \
    {                                                                        \
        float *ci = c + (i) * ldc;                                           \
        if (add) {                                                           \
            c##i##0 = _mm512_add_ps(_mm512_loadu_ps(ci), c##i##0);           \
            c##i##1 = _mm512_add_ps(_mm512_loadu_ps(ci + 16), c##i##1);      \
        }                                                                    \
        _mm512_storeu_ps(ci, c##i##0);                                       \
        _mm512_storeu_ps(ci + 16, c##i##1);                                  \
    }
    W(0) W(1) W(2) W(3) W(4) W(5) W(6) W(7) W(8) W(9) W(10) W(11)
#undef W
}
#undef S
#undef STEP
#undef PF

#else
void ia_sgemm_ukr_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                         uintptr_t pf, int add) {
    (void)kc, (void)a, (void)b, (void)c, (void)ldc, (void)pf, (void)add;
    IA_ASSERT(!"AVX-512 micro-kernel called on a CPU without it");
}
#endif

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,fma"))) float ia_sdot_avx512(int64_t n, const float *a,
                                                             const float *b) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= n; k += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), s1);
    }
    if (k + 16 <= n) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), s0);
        k += 16;
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}
#else
float ia_sdot_avx512(int64_t n, const float *a, const float *b) {
    (void)n, (void)a, (void)b;
    IA_ASSERT(!"AVX-512 dot called on a CPU without it");
    return 0.0f;
}
#endif

#if defined(__x86_64__) || defined(__i386__)
/* c[j] += alpha * dot(a, B row j), four rows of B at a time: eight
 * independent FMA chains hide the FMA latency that one dot product alone
 * is bound by, and the K tail is a masked load instead of scalar code. */
__attribute__((target("avx512f,fma"))) void ia_sgemv_t_avx512(int64_t N, int64_t K, float alpha,
                                                                const float *a, const float *B,
                                                                int64_t ldb, float *c) {
    int64_t kt = K & ~(int64_t)15;
    __mmask16 tail = (__mmask16)((1u << (K & 15)) - 1u);
    int64_t j = 0;
    for (; j + 4 <= N; j += 4) {
        const float *b0 = B + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),
               s3 = _mm512_setzero_ps();
        for (int64_t k = 0; k < kt; k += 16) {
            __m512 av = _mm512_loadu_ps(a + k);
            s0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b0 + k), s0);
            s1 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b1 + k), s1);
            s2 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b2 + k), s2);
            s3 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b3 + k), s3);
        }
        if (tail) {
            __m512 av = _mm512_maskz_loadu_ps(tail, a + kt);
            s0 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(tail, b0 + kt), s0);
            s1 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(tail, b1 + kt), s1);
            s2 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(tail, b2 + kt), s2);
            s3 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(tail, b3 + kt), s3);
        }
        c[j] += alpha * _mm512_reduce_add_ps(s0);
        c[j + 1] += alpha * _mm512_reduce_add_ps(s1);
        c[j + 2] += alpha * _mm512_reduce_add_ps(s2);
        c[j + 3] += alpha * _mm512_reduce_add_ps(s3);
    }
    for (; j < N; j++) c[j] += alpha * ia_sdot_avx512(K, a, B + j * ldb);
}
#else
void ia_sgemv_t_avx512(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                       int64_t ldb, float *c) {
    (void)N, (void)K, (void)alpha, (void)a, (void)B, (void)ldb, (void)c;
    IA_ASSERT(!"AVX-512 matrix-vector called on a CPU without it");
}
#endif

#if defined(__x86_64__) || defined(__i386__)
/* m (1..4) rows of A times one packed sliver of B (kc rows of NR floats):
 * bound by reading B, which it does front to back once. Two steps of k
 * per turn into separate accumulators keep 4 chains of FMAs in flight even
 * for one row. n (1..NR) columns of C are written (masked). */
__attribute__((target("avx512f,fma"))) void ia_sgemm_few_rows_avx512(int64_t m, int64_t kc,
                                                                      const float *a,
                                                                      int64_t lda,
                                                                      const float *b, float *c,
                                                                      int64_t ldc, int64_t n) {
    __m512 s[4][4];
    for (int i = 0; i < 4; i++)
        for (int q = 0; q < 4; q++) s[i][q] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 2 <= kc; k += 2, b += 2 * NR) {
        /* 4 KiB ahead; an address only (past the last sliver it is never
         * read) */
        uintptr_t ahead = (uintptr_t)b + 4096;
        for (int q = 0; q < 4; q++)
            _mm_prefetch((const char *)(ahead + 64u * (unsigned)q), _MM_HINT_T0);
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        __m512 b2 = _mm512_loadu_ps(b + NR), b3 = _mm512_loadu_ps(b + NR + 16);
        for (int i = 0; i < m; i++) {
            __m512 x0 = _mm512_set1_ps(a[i * lda + k]), x1 = _mm512_set1_ps(a[i * lda + k + 1]);
            s[i][0] = _mm512_fmadd_ps(x0, b0, s[i][0]);
            s[i][1] = _mm512_fmadd_ps(x0, b1, s[i][1]);
            s[i][2] = _mm512_fmadd_ps(x1, b2, s[i][2]);
            s[i][3] = _mm512_fmadd_ps(x1, b3, s[i][3]);
        }
    }
    if (k < kc) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < m; i++) {
            __m512 x0 = _mm512_set1_ps(a[i * lda + k]);
            s[i][0] = _mm512_fmadd_ps(x0, b0, s[i][0]);
            s[i][1] = _mm512_fmadd_ps(x0, b1, s[i][1]);
        }
    }
    __mmask16 m0 = (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u);
    __mmask16 m1 = (__mmask16)(n >= 32 ? 0xffffu : n <= 16 ? 0u : (1u << (n - 16)) - 1u);
    for (int i = 0; i < m; i++) {
        _mm512_mask_storeu_ps(c + i * ldc, m0, _mm512_add_ps(s[i][0], s[i][2]));
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, _mm512_add_ps(s[i][1], s[i][3]));
    }
}
#else
void ia_sgemm_few_rows_avx512(int64_t m, int64_t kc, const float *a, int64_t lda, const float *b,
                              float *c, int64_t ldc, int64_t n) {
    (void)m, (void)kc, (void)a, (void)lda, (void)b, (void)c, (void)ldc, (void)n;
    IA_ASSERT(!"AVX-512 few-rows kernel called on a CPU without it");
}
#endif
