/* FMA throughput of one core: the ceiling a float32 GEMM can reach.
 *
 * Each loop keeps 12 independent accumulator registers busy with fused
 * multiply-adds (enough to cover the FMA latency, 4 cycles, on two ports),
 * so it runs at the core's FMA issue rate; GFLOP/s = 2 x lanes x FMAs / s.
 * Best of several runs, on the calling thread only. Seconds are the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time: on a shared
 * machine the time the thread waits for a core is not counted, so peak and
 * GEMM are measured alike (a loaded machine still lowers both a little
 * through clocks and shared caches).
 * With a GEMM shape, also times ia_sgemm (AUTO path, one thread) on it and
 * prints its share of the measured peak of the widest available ISA.
 *
 *   fma_peak [M N K]        e.g. fma_peak 128 3072 768   (128x768 times 768x3072)
 *
 * Build (run.sh does it):
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/fma_peak.c \
 *       src/kernels/cpu/gemm[._]*c src/core/[a-z]*.c -lpthread -lm -o fma_peak
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ia/core.h"
#include "kernels/cpu/gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define ITERS 20000000L

/* 12 chains of iters FMAs each; returns a value that depends on all of
 * them so the compiler keeps the work. */
__attribute__((target("avx512f"), noinline)) static float loop512(long iters) {
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
#define D(i) __m512 c##i = _mm512_set1_ps((float)(i));
    D(0) D(1) D(2) D(3) D(4) D(5) D(6) D(7) D(8) D(9) D(10) D(11)
#undef D
    for (long n = 0; n < iters; n++) {
#define F(i) c##i = _mm512_fmadd_ps(c##i, a, b);
        F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
#undef F
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"), noinline)) static float loop256(long iters) {
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
#define D(i) __m256 c##i = _mm256_set1_ps((float)(i));
    D(0) D(1) D(2) D(3) D(4) D(5) D(6) D(7) D(8) D(9) D(10) D(11)
#undef D
    for (long n = 0; n < iters; n++) {
#define F(i) c##i = _mm256_fmadd_ps(c##i, a, b);
        F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
#undef F
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

static volatile float sink;

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best GFLOP/s of `runs` timed runs of fn. */
static double peak(float (*fn)(long), int lanes, int runs) {
    double best = 0;
    sink = fn(ITERS / 10); /* warm up: clocks settle, code paged in */
    for (int r = 0; r < runs; r++) {
        double t0 = cpu_now();
        sink = fn(ITERS);
        double dt = cpu_now() - t0, g = 2.0 * lanes * 12.0 * (double)ITERS / dt * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv) {
    int has512 = __builtin_cpu_supports("avx512f"),
        has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    double p512 = has512 ? peak(loop512, 16, 5) : 0, p256 = has2 ? peak(loop256, 8, 5) : 0;
    printf("fma_peak avx512 %.1f GFLOP/s per core\n", p512);
    printf("fma_peak avx2 %.1f GFLOP/s per core\n", p256);
    if (argc < 4) return 0;
    int64_t M = atoll(argv[1]), N = atoll(argv[2]), K = atoll(argv[3]);
    if (M <= 0 || N <= 0 || K <= 0 || M * K > (1 << 28) || K * N > (1 << 28) || M * N > (1 << 28)) {
        fprintf(stderr, "fma_peak: bad GEMM shape\n");
        return 2;
    }
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N)),
          *C = malloc(sizeof(float) * (size_t)(M * N));
    if (!A || !B || !C) return 1;
    for (int64_t i = 0; i < M * K; i++) A[i] = (float)(i % 17) / 17.0f - 0.5f;
    for (int64_t i = 0; i < K * N; i++) B[i] = (float)(i % 13) / 13.0f - 0.5f;
    float *Bp = malloc(sizeof(float) * ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, K, N));
    if (!Bp || ia_sgemm_pack_b(IA_SGEMM_AUTO, 0, K, N, B, N, Bp)) return 1;
    /* mode 0: ia_sgemm, which packs B in every call; mode 1: B packed once,
     * as the engine does for constant weights (ia_sgemm_prepacked). The
     * peak moves with the machine's load (clocks, a busy sibling
     * hyper-thread), so each round measures the peak right before the two
     * products and the share is the median over rounds of their ratios. */
    enum { ROUNDS = 7 };
    double share[2][ROUNDS], gf[2][ROUNDS], pk[ROUNDS];
    float (*loop)(long) = has512 ? loop512 : loop256;
    for (int r = 0; r < ROUNDS; r++) {
        pk[r] = peak(loop, has512 ? 16 : 8, 2);
        for (int mode = 0; mode < 2; mode++) {
            double best = 1e30;
            for (int k = 0; k < 6; k++) {
                double t0 = cpu_now();
                int rc = mode ? ia_sgemm_prepacked(IA_SGEMM_AUTO, M, N, K, A, K, Bp, C, N, NULL, NULL)
                              : ia_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, NULL);
                if (rc) return 1;
                double dt = cpu_now() - t0;
                if (k > 0 && dt < best) best = dt;
            }
            gf[mode][r] = 2.0 * (double)M * (double)N * (double)K / best * 1e-9;
            share[mode][r] = gf[mode][r] / pk[r];
        }
    }
    for (int mode = 0; mode < 2; mode++) {
        /* median round by share */
        int idx[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) idx[r] = r;
        for (int x = 0; x < ROUNDS; x++)
            for (int y = x + 1; y < ROUNDS; y++)
                if (share[mode][idx[y]] < share[mode][idx[x]]) {
                    int t = idx[x];
                    idx[x] = idx[y];
                    idx[y] = t;
                }
        int m = idx[ROUNDS / 2];
        printf("sgemm %s%s %lldx%lldx%lld %.1f GFLOP/s = %.0f%% of the %s peak measured "
               "with it (%.1f); median of %d rounds\n",
               ia_sgemm_path_name(IA_SGEMM_AUTO), mode ? " prepacked-B" : " packing-B",
               (long long)M, (long long)K, (long long)N, gf[mode][m], 100.0 * share[mode][m],
               has512 ? "avx512" : "avx2", pk[m], ROUNDS);
    }
    free(Bp);
    free(A);
    free(B);
    free(C);
    return 0;
}
#else
int main(void) {
    printf("fma_peak: x86-64 only\n");
    return 0;
}
#endif
