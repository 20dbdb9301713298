/* The AVX2 SGEMM micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators,
 * one broadcast of A and two 8-wide loads of B per k step. Compiled for
 * avx2+fma by function attribute; gemm.c calls it only when
 * __builtin_cpu_supports says the CPU has both. */
#include "gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR IA_SGEMM_AVX2_MR
#define NR IA_SGEMM_AVX2_NR

__attribute__((target("avx2,fma"))) void ia_sgemm_ukr_avx2(int64_t kc, const float *a,
                                                            const float *b, float *c,
                                                            int64_t ldc, uintptr_t pf, int add) {
    (void)pf;
#define Z(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
    Z(0) Z(1) Z(2) Z(3) Z(4) Z(5)
#undef Z
    for (int64_t k = 0; k < kc; k++, a += MR, b += NR) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#define S(i)                                                                 \
    {                                                                        \
        __m256 ai = _mm256_broadcast_ss(a + (i));                            \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                          \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                          \
    }
        S(0) S(1) S(2) S(3) S(4) S(5)
#undef S
    }
#define W(i)                                                                 \
    {                                                                        \
        float *ci = c + (i) * ldc;                                           \
        if (add) {                                                           \
            c##i##0 = _mm256_add_ps(_mm256_loadu_ps(ci), c##i##0);           \
            c##i##1 = _mm256_add_ps(_mm256_loadu_ps(ci + 8), c##i##1);       \
        }                                                                    \
        _mm256_storeu_ps(ci, c##i##0);                                       \
        _mm256_storeu_ps(ci + 8, c##i##1);                                   \
    }
    W(0) W(1) W(2) W(3) W(4) W(5)
#undef W
}

#else
void ia_sgemm_ukr_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                       uintptr_t pf, int add) {
    (void)kc, (void)a, (void)b, (void)c, (void)ldc, (void)pf, (void)add;
    IA_ASSERT(!"AVX2 micro-kernel called on a CPU without it");
}
#endif

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) float ia_sdot_avx2(int64_t n, const float *a,
                                                        const float *b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
    }
    float v[8], s = 0.0f;
    _mm256_storeu_ps(v, _mm256_add_ps(s0, s1));
    for (int i = 0; i < 8; i++) s += v[i];
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}
#else
float ia_sdot_avx2(int64_t n, const float *a, const float *b) {
    (void)n, (void)a, (void)b;
    IA_ASSERT(!"AVX2 dot called on a CPU without it");
    return 0.0f;
}
#endif
