/*
 * Single-precision GEMM for the CPU kernels (MatMul, Gemm, Conv,
 * ConvTranspose). Private to src/kernels/cpu.
 *
 *   C = alpha * op(A) * op(B) + beta * C      op(X) = X or X^T
 *
 * Row-major: op(A) is M x K, op(B) is K x N, C is M x N with row stride
 * ldc. A is M x K (lda >= K) or, with transA, K x M (lda >= M); likewise B.
 * beta == 0 ignores C's old contents (NaN in C does not survive).
 *
 * Design (after GotoBLAS/BLIS): B is packed a column block at a time (all
 * of K, or panels of it) into NR-wide column slivers, A an MC x KC block into
 * MR-tall row slivers (scaled by alpha), and a register-blocked MR x NR
 * micro-kernel adds their product into C. The micro-kernel is picked at
 * run time: an AVX-512 or AVX2 FMA one where the CPU has it, a plain C one
 * elsewhere. The plain reference loop stays for tests and tiny products.
 * Work is split over `pool` by (M block, N slice) tiles; pool may be NULL.
 */
#ifndef IA_KERNELS_GEMM_H
#define IA_KERNELS_GEMM_H

#include <stdint.h>

#include "ia/core.h"

enum ia_sgemm_path {
    IA_SGEMM_AUTO = 0, /* the fastest available; reference loop for tiny products */
    IA_SGEMM_REF,      /* plain triple loop */
    IA_SGEMM_PACKED_C, /* blocked + packed, plain C micro-kernel */
    IA_SGEMM_AVX2,     /* blocked + packed, AVX2/FMA micro-kernel */
    IA_SGEMM_AVX512,   /* blocked + packed, AVX-512 micro-kernel */
};

/* IA_OK, or IA_ENOMEM when the packing buffers cannot be had (C is then
 * unchanged only if M, N or K is 0; callers treat it as a failed op). */
int ia_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
             const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
             int64_t ldc, struct ia_pool *pool);

/* ia_sgemm with a forced path (tests and benchmarks). IA_EUNSUPPORTED when
 * the CPU lacks the path's instructions. */
int ia_sgemm_path(enum ia_sgemm_path path, int transA, int transB, int64_t M, int64_t N,
                  int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                  int64_t ldb, float beta, float *C, int64_t ldc, struct ia_pool *pool);

/* 1 when this CPU can run `path`. */
int ia_sgemm_path_available(enum ia_sgemm_path path);
/* "ref", "c", "avx2", "avx512": the path IA_SGEMM_AUTO takes for big products. */
const char *ia_sgemm_path_name(enum ia_sgemm_path path);
enum ia_sgemm_path ia_sgemm_best_path(void);

/* ---- pre-packed B (constant weights) ------------------------------------------------ */

/* Inference multiplies by the same weights every run, so their packing is
 * done once (graph fusion, src/graph/fuse.c) instead of in every call:
 * ia_sgemm_pack_b writes op(B) (K x N) in exactly the order the blocked
 * driver reads it (per NC column block, NR-wide zero-padded slivers each
 * holding all K rows of its columns) for `path`'s micro-kernel (AUTO: the
 * best path; REF has no packed form and is refused with IA_EUNSUPPORTED).
 * dst holds ia_sgemm_packed_b_floats(path, K, N) floats. */
size_t ia_sgemm_packed_b_floats(enum ia_sgemm_path path, int64_t K, int64_t N);
int ia_sgemm_pack_b(enum ia_sgemm_path path, int transB, int64_t K, int64_t N, const float *B,
                    int64_t ldb, float *dst);

/* What runs on each finished piece of C while it is still in cache: `row`
 * gets n elements of one row of C starting at column col0 (bias, GELU ...). */
struct ia_sgemm_epi {
    void (*row)(const void *user, float *c, int64_t col0, int64_t n);
    const void *user;
};

/* C (M x N, row stride ldc) = A (M x K, row stride lda) * B, with B packed
 * by ia_sgemm_pack_b for the same path, K and N; then epi (may be NULL)
 * over every element of C once. C's old contents are ignored. IA_ENOMEM
 * when the A packing buffers cannot be had. Up to 4 rows (a decode step)
 * on the AVX-512 path read each packed sliver once, in storage order. */
int ia_sgemm_prepacked(enum ia_sgemm_path path, int64_t M, int64_t N, int64_t K, const float *A,
                       int64_t lda, const float *Bp, float *C, int64_t ldc,
                       const struct ia_sgemm_epi *epi, struct ia_pool *pool);

/* c[j] += alpha * dot(a, B row j) for j < N (B row-major N x K, row
 * stride ldb): the transposed matrix-vector product, vectorised. */
void ia_sgemv_t(int64_t N, int64_t K, float alpha, const float *a, const float *B, int64_t ldb,
                float *c);

/* ---- micro-kernels (gemm_avx2.c, gemm_avx512.c) --------------------------------- */

/* C[0..MR)[0..NR) (+)= sum_k a[k*MR + i] * b[k*NR + j], C with row stride
 * ldc: added to C when add, else stored over it (C's old contents, NaN
 * included, are not read). a and b are packed slivers; kc >= 1. pf: an address whose next
 * kc / 4 cache lines the kernel may prefetch into L2 (the B panel the
 * driver multiplies next); only a hint, never read. */
typedef void (*ia_sgemm_ukr)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                             uintptr_t pf, int add);

#define IA_SGEMM_AVX2_MR 6
#define IA_SGEMM_AVX2_NR 16
#define IA_SGEMM_AVX512_MR 12
#define IA_SGEMM_AVX512_NR 32
void ia_sgemm_ukr_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                       uintptr_t pf, int add);
void ia_sgemm_ukr_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                         uintptr_t pf, int add);
/* C[0..m)[0..n) = A[0..m) (row stride lda) times one packed B sliver of kc
 * rows (NR = 32 floats each); m <= 4, n <= 32: pre-packed products of a few
 * rows (a decode step), which read B once in storage order. */
void ia_sgemm_few_rows_avx512(int64_t m, int64_t kc, const float *a, int64_t lda, const float *b,
                              float *c, int64_t ldc, int64_t n);
/* sum_k a[k] * b[k] over n elements, 8-wide / 16-wide FMAs. */
float ia_sdot_avx2(int64_t n, const float *a, const float *b);
float ia_sdot_avx512(int64_t n, const float *a, const float *b);
void ia_sgemv_t_avx512(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                       int64_t ldb, float *c);

/* One A against several pre-packed Bs (a transformer's Q, K and V
 * projections of the same input): as ia_sgemm_prepacked for each part, but
 * A is packed once and the tiles of all parts run as one pool job. Each
 * part's Bp is packed for its K and N, and its C is M x N (row stride ldc). */
struct ia_sgemm_part {
    int64_t N, ldc;
    const float *Bp;
    float *C;
    const struct ia_sgemm_epi *epi; /* may be NULL */
};
int ia_sgemm_prepacked_multi(enum ia_sgemm_path path, int64_t M, int64_t K, const float *A,
                             int64_t lda, size_t n_parts, const struct ia_sgemm_part *parts,
                             struct ia_pool *pool);

#endif
