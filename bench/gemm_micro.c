/* SGEMM micro-benchmark: GFLOP/s of each available ia_sgemm path on one
 * shape, best of several runs after a warm-up.
 *
 *   gemm_micro [M N K [threads [reps]]]      default 128 3072 768, 1 thread
 *
 * Build (no CMake target; it needs only core and the GEMM sources):
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/gemm_micro.c \
 *       src/kernels/cpu/gemm[._]*c src/core/[a-z]*.c -lpthread -lm -o gemm_micro
 */
#include <stdio.h>
#include <stdlib.h>

#include "ia/core.h"
#include "kernels/cpu/gemm.h"

int main(int argc, char **argv) {
    int64_t M = argc > 3 ? atoll(argv[1]) : 128, N = argc > 3 ? atoll(argv[2]) : 3072,
            K = argc > 3 ? atoll(argv[3]) : 768;
    int threads = argc > 4 ? atoi(argv[4]) : 1, reps = argc > 5 ? atoi(argv[5]) : 10;
    if (M <= 0 || N <= 0 || K <= 0 || threads <= 0 || reps <= 0) {
        fprintf(stderr, "usage: gemm_micro [M N K [threads [reps]]]\n");
        return 2;
    }
    float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N)),
          *C = malloc(sizeof(float) * (size_t)(M * N));
    if (!A || !B || !C) return 1;
    for (int64_t i = 0; i < M * K; i++) A[i] = (float)(i % 17) / 17.0f - 0.5f;
    for (int64_t i = 0; i < K * N; i++) B[i] = (float)(i % 13) / 13.0f - 0.5f;
    struct ia_pool *pool = NULL;
    if (threads > 1 && ia_pool_create(threads, &pool)) return 1;
    double flop = 2.0 * (double)M * (double)N * (double)K;
    printf("M=%lld N=%lld K=%lld threads=%d\n", (long long)M, (long long)N, (long long)K, threads);
    for (int path = IA_SGEMM_REF; path <= IA_SGEMM_AVX512; path++) {
        if (!ia_sgemm_path_available(path)) continue;
        int n = path == IA_SGEMM_REF ? 2 : reps;
        double best = 1e30;
        for (int r = 0; r <= n; r++) {
            double t0 = ia_time_now();
            if (ia_sgemm_path(path, 0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, pool)) return 1;
            double dt = ia_time_now() - t0;
            if (r > 0 && dt < best) best = dt; /* run 0 warms caches and pages */
        }
        printf("%-7s %8.3f ms  %7.1f GFLOP/s\n", ia_sgemm_path_name(path), best * 1e3,
               flop / best * 1e-9);
    }
    ia_pool_destroy(pool);
    free(A);
    free(B);
    free(C);
    return 0;
}
