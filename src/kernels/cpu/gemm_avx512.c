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

/* Written in inline assembly with fixed registers: C in zmm0-23 (row i in
 * zmm 2i and 2i+1), B's two vectors of a k step in zmm24-25, A's
 * broadcasts in zmm26-29 in turn. From intrinsics GCC 12 kept the 24
 * accumulators moving between registers and spent 16 vmovaps per four
 * k steps fixing that up: 186 instructions for 96 FMAs, at the 4 per
 * cycle the core can issue, so the loop was issue-bound rather than
 * FMA-bound; this loop is 170. */
#define ROW(s, i, t, c0, c1)                                                 \
    "vbroadcastss " #s "*48+" #i "*4(%[a]), %%zmm" #t "\n\t"               \
    "vfmadd231ps %%zmm" #t ", %%zmm24, %%zmm" #c0 "\n\t"                   \
    "vfmadd231ps %%zmm" #t ", %%zmm25, %%zmm" #c1 "\n\t"
#define STEP(s)                                                              \
    "vmovups " #s "*128(%[b]), %%zmm24\n\t"                                  \
    "vmovups " #s "*128+64(%[b]), %%zmm25\n\t"                               \
    ROW(s, 0, 26, 0, 1) ROW(s, 1, 27, 2, 3) ROW(s, 2, 28, 4, 5) ROW(s, 3, 29, 6, 7)       \
    ROW(s, 4, 26, 8, 9) ROW(s, 5, 27, 10, 11) ROW(s, 6, 28, 12, 13) ROW(s, 7, 29, 14, 15) \
    ROW(s, 8, 26, 16, 17) ROW(s, 9, 27, 18, 19) ROW(s, 10, 28, 20, 21) ROW(s, 11, 29, 22, 23)
#define ST(x) #x
#define XS(x) ST(x)
/* prefetch A (B) PF_A (PF_B) floats ahead, plus off bytes */
#define PFA(off) "prefetcht0 " XS(PF_A) "*4+" #off "(%[a])\n\t"
#define PFB(off) "prefetcht0 " XS(PF_B) "*4+" #off "(%[b])\n\t"
#define OUT(c0, c1, ADD)                                                     \
    ADD(c0, c1)                                                              \
    "vmovups %%zmm" #c0 ", (%[c])\n\t"                                       \
    "vmovups %%zmm" #c1 ", 64(%[c])\n\t"                                     \
    "add %[ldcb], %[c]\n\t"
#define NOADD(c0, c1)
#define DOADD(c0, c1)                                                        \
    "vaddps (%[c]), %%zmm" #c0 ", %%zmm" #c0 "\n\t"                          \
    "vaddps 64(%[c]), %%zmm" #c1 ", %%zmm" #c1 "\n\t"
#define OUT12(ADD) OUT(0, 1, ADD) OUT(2, 3, ADD) OUT(4, 5, ADD) OUT(6, 7, ADD) OUT(8, 9, ADD) \
    OUT(10, 11, ADD) OUT(12, 13, ADD) OUT(14, 15, ADD) OUT(16, 17, ADD) OUT(18, 19, ADD)     \
    OUT(20, 21, ADD) OUT(22, 23, ADD)
#define Z(r) "vpxord %%zmm" #r ", %%zmm" #r ", %%zmm" #r "\n\t"

__attribute__((target("avx512f,fma"))) void
ia_sgemm_ukr_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, uintptr_t pf, int add) {
    int64_t k4 = kc >> 2, kr = kc & 3, ldcb = ldc * 4;
    __asm__ volatile(
        Z(0) Z(1) Z(2) Z(3) Z(4) Z(5) Z(6) Z(7) Z(8) Z(9) Z(10) Z(11)
        Z(12) Z(13) Z(14) Z(15) Z(16) Z(17) Z(18) Z(19) Z(20) Z(21) Z(22) Z(23)
        "test %[k4], %[k4]\n\t"
        "jz 2f\n\t"
        ".p2align 5\n"
        "1:\n\t"
        /* three lines of A and eight of B into L1, one line of pf
         * (the driver's next sliver) into L2 */
        PFA(0) PFB(0) PFB(64)
        STEP(0)
        PFA(64) PFB(128) PFB(192)
        STEP(1)
        PFA(128) PFB(256) PFB(320)
        STEP(2)
        "prefetcht1 (%[pf])\n\t"
        PFB(384) PFB(448)
        STEP(3)
        "add $192, %[a]\n\t"
        "add $512, %[b]\n\t"
        "add $64, %[pf]\n\t"
        "dec %[k4]\n\t"
        "jnz 1b\n"
        "2:\n\t"
        "test %[kr], %[kr]\n\t"
        "jz 4f\n"
        "3:\n\t"
        STEP(0)
        "add $48, %[a]\n\t"
        "add $128, %[b]\n\t"
        "dec %[kr]\n\t"
        "jnz 3b\n"
        "4:\n\t"
        "test %[add], %[add]\n\t"
        "jnz 5f\n\t"
        OUT12(NOADD)
        "jmp 6f\n"
        "5:\n\t"
        OUT12(DOADD)
        "6:\n\t"
        "vzeroupper\n\t"
        : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [k4] "+r"(k4), [kr] "+r"(kr), [pf] "+r"(pf)
        : [ldcb] "r"(ldcb), [add] "r"(add)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17",
          "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26",
          "xmm27", "xmm28", "xmm29");
}
#undef ROW
#undef STEP
#undef PFA
#undef PFB
#undef ST
#undef XS
#undef OUT
#undef NOADD
#undef DOADD
#undef OUT12
#undef Z

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
