/* SGEMM driver: blocking, packing, threading and the run-time choice of
 * micro-kernel (see gemm.h for the layout and the contract).
 *
 * Loop nest, outermost first:
 *   jc over N in column blocks   B block (K x some columns) packed once, shared
 *                                by all threads (pre-packed weights: done once
 *                                at load; ia_sgemm: per call, PACK_B_FLOATS)
 *     task = (M block of MC rows, N slice of the block)   spread over the pool,
 *                                slice-major
 *       pc over K in panels of at most KC_PP
 *         pack the task's A block (MC x kc, times alpha) into its thread's buffer,
 *         or read it from all of A packed once for the call where several
 *         tasks share each A block
 *         jr over the slice in NR steps, ir over the block in MR steps:
 *           micro-kernel over the whole panel (B sliver from L2, A from L2)
 * Packed B keeps each NR-wide sliver's K rows together, so a block is read
 * front to back; each micro-kernel call prefetches a share of the next
 * sliver into L2. Edge tiles (fewer than MR rows or NR columns left) run
 * the same micro-kernel into an MR x NR scratch tile whose valid part is
 * then moved to C, so the micro-kernels only know full tiles. Packed
 * slivers are zero-padded. */
#include "gemm.h"

#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* Block sizes (override at build time for tuning sweeps).
 * KC_PP: the longest K panel one micro-kernel call runs. A whole panel per
 * call writes each C tile once per panel (C's rows, 12 KiB apart in a
 * BERT FFN, all fall in the same L1 sets) and the B sliver is read
 * straight from L2 with software prefetch. Measured on a 2-core Cascade
 * Lake VM (1 MiB L2), pre-packed 128x768x3072, one thread, best of 100 in
 * thread CPU time: 70% of the FMA peak with KC_PP 128, 73% with 256, 77%
 * with 768 (one panel).
 * PACK_B_FLOATS: the packing path packs op(B) in blocks of about this
 * many floats (4 MiB, read back from the shared L3); 2 MiB measured a few
 * percent slower on the BERT shapes. MC_ROWS: rows of A per task (about
 * 432 KiB packed at K 768). */
#ifndef KC_PP
#define KC_PP 768
#endif
#ifndef PACK_B_FLOATS
#define PACK_B_FLOATS (1 << 20)
#endif
#ifndef PACK_ROWS
#define PACK_ROWS 16
#endif
/* PACK_PF: pack_b prefetches the B rows this far ahead; one thread,
 * bench/gemm_vs_blas, interleaved with the build without it (load 3-6):
 * 64x6400x576 72-74 vs 66-69 GFLOP/s, 128x1600x1152 83-86 vs 75-81,
 * 197x768x3072 85-87 vs 71-81; 16x102400x27 (K under 16) 22-24 vs 21-26. */
#ifndef PACK_PF
#define PACK_PF 16
#endif
/* PACK_A_FLOATS: op(A) is packed whole, once per call, when it has at most
 * this many floats (see sgemm_cols and ia_sgemm_prepacked). */
#ifndef PACK_A_FLOATS
#define PACK_A_FLOATS (1 << 20)
#endif
#ifndef MC_ROWS
#define MC_ROWS 144
#endif
#define MAX_MR 16
#define MAX_NR 32
#define C_MR 4
#define C_NR 16

struct ukr_info {
    ia_sgemm_ukr fn;
    int mr, nr, mc;
};

/* The plain C micro-kernel: the accumulator tile is small enough for the
 * compiler to keep in vector registers with the target's baseline SIMD. */
static void ukr_c(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                  uintptr_t pf, int add) {
    (void)pf;
    float acc[C_MR][C_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += C_MR, b += C_NR)
        for (int i = 0; i < C_MR; i++)
            for (int j = 0; j < C_NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < C_MR; i++)
        for (int j = 0; j < C_NR; j++) c[i * ldc + j] = (add ? c[i * ldc + j] : 0.0f) + acc[i][j];
}

int ia_sgemm_path_available(enum ia_sgemm_path path) {
    switch (path) {
    case IA_SGEMM_AUTO: case IA_SGEMM_REF: case IA_SGEMM_PACKED_C: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case IA_SGEMM_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case IA_SGEMM_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

enum ia_sgemm_path ia_sgemm_best_path(void) {
    if (ia_sgemm_path_available(IA_SGEMM_AVX512)) return IA_SGEMM_AVX512;
    if (ia_sgemm_path_available(IA_SGEMM_AVX2)) return IA_SGEMM_AVX2;
    return IA_SGEMM_PACKED_C;
}

const char *ia_sgemm_path_name(enum ia_sgemm_path path) {
    switch (path) {
    case IA_SGEMM_AUTO: return ia_sgemm_path_name(ia_sgemm_best_path());
    case IA_SGEMM_REF: return "ref";
    case IA_SGEMM_PACKED_C: return "c";
    case IA_SGEMM_AVX2: return "avx2";
    case IA_SGEMM_AVX512: return "avx512";
    }
    return "?";
}

static struct ukr_info ukr_for(enum ia_sgemm_path path) {
    struct ukr_info u;
    switch (path) {
    case IA_SGEMM_AVX512:
        u = (struct ukr_info){ia_sgemm_ukr_avx512, IA_SGEMM_AVX512_MR, IA_SGEMM_AVX512_NR, 0};
        break;
    case IA_SGEMM_AVX2:
        u = (struct ukr_info){ia_sgemm_ukr_avx2, IA_SGEMM_AVX2_MR, IA_SGEMM_AVX2_NR, 0};
        break;
    default: u = (struct ukr_info){ukr_c, C_MR, C_NR, 0}; break;
    }
    /* An A block (MC_ROWS x KC_PP) stays in L2 while the B slivers stream. */
    u.mc = (MC_ROWS / u.mr) * u.mr;
    return u;
}

/* C = beta * C over M x N (beta == 0 clears, so old NaNs do not survive). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    if (beta == 1.0f) return;
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f)
            memset(c, 0, (size_t)N * sizeof *c);
        else
            for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
}

/* The reference: C = beta*C, then row by row. Non-transposed B runs as
 * axpy over C's row (contiguous), transposed B as dot products. */
static void sgemm_ref(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc) {
    scale_c(M, N, beta, C, ldc);
    if (alpha == 0.0f) return;
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (!transB) {
            for (int64_t k = 0; k < K; k++) {
                float a = alpha * (transA ? A[k * lda + i] : A[i * lda + k]);
                const float *b = B + k * ldb;
                for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
            }
        } else {
            for (int64_t j = 0; j < N; j++) {
                const float *b = B + j * ldb;
                float s = 0.0f;
                if (!transA) {
                    const float *a = A + i * lda;
                    for (int64_t k = 0; k < K; k++) s += a[k] * b[k];
                } else {
                    for (int64_t k = 0; k < K; k++) s += A[k * lda + i] * b[k];
                }
                c[j] += alpha * s;
            }
        }
    }
}

/* ---- packing buffers ------------------------------------------------------------ */

/* Each thread keeps its packing buffer between calls (grown, never shrunk)
 * so a session's runs after the first allocate nothing here; a thread's
 * buffer is freed when the thread exits (pool workers at ia_pool_destroy). */
struct pack_buf {
    uint8_t *mem;
    size_t cap;
};
static pthread_key_t pack_key;
static pthread_once_t pack_once = PTHREAD_ONCE_INIT;
static int pack_key_ok;

static void pack_buf_free(void *p) {
    struct pack_buf *b = p;
    ia_free(b->mem);
    ia_free(b);
}

static void pack_key_init(void) { pack_key_ok = pthread_key_create(&pack_key, pack_buf_free) == 0; }

/* 64-byte aligned room for n floats, owned by the calling thread until its
 * next call; NULL (IA_ENOMEM set) when it cannot be had. */
static float *pack_mem(size_t n) {
    pthread_once(&pack_once, pack_key_init);
    if (!pack_key_ok) {
        ia_error_set(IA_ENOMEM, "sgemm: no thread key for packing buffers");
        return NULL;
    }
    struct pack_buf *b = pthread_getspecific(pack_key);
    if (!b) {
        b = ia_calloc(1, sizeof *b);
        if (!b || pthread_setspecific(pack_key, b)) {
            ia_free(b);
            ia_error_set(IA_ENOMEM, "sgemm: out of memory");
            return NULL;
        }
    }
    size_t need;
    if (ia_mul_size(n, sizeof(float), &need) || ia_add_size(need, 64, &need)) {
        ia_error_set(IA_ENOMEM, "sgemm: %zu packed floats is too many", n);
        return NULL;
    }
    if (need > b->cap) {
        ia_free(b->mem);
        b->mem = ia_malloc(need);
        b->cap = b->mem ? need : 0;
        if (!b->mem) {
            ia_error_set(IA_ENOMEM, "sgemm: no memory for %zu packed floats", n);
            return NULL;
        }
    }
    return (float *)(void *)(b->mem + (64 - ((uintptr_t)b->mem & 63)) % 64);
}

/* ---- packing ------------------------------------------------------------------- */

/* op(A)[i0 .. i0+mc) x [p0 .. p0+kc) times alpha into MR-tall slivers:
 * dst[(i / MR) * kc * MR + k * MR + i % MR], zero rows past mc. */
#if defined(__x86_64__)
/* Four rows of A (row stride lda), kc long, into the sliver layout
 * d[k * mr + r], 4 x 4 blocks transposed in registers: the scalar loop
 * stored one float at a time, 4 * mr bytes apart, and was 6% of a ViT-base
 * run (perf record, one thread). SSE is part of baseline x86-64. */
static void pack_a_rows4(const float *a, int64_t lda, int64_t kc, float alpha, int mr, float *d) {
    const __m128 s = _mm_set1_ps(alpha);
    const float *a1 = a + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4) {
        __m128 r0 = _mm_mul_ps(_mm_loadu_ps(a + k), s), r1 = _mm_mul_ps(_mm_loadu_ps(a1 + k), s),
               r2 = _mm_mul_ps(_mm_loadu_ps(a2 + k), s), r3 = _mm_mul_ps(_mm_loadu_ps(a3 + k), s);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(d + (k + 0) * mr, r0);
        _mm_storeu_ps(d + (k + 1) * mr, r1);
        _mm_storeu_ps(d + (k + 2) * mr, r2);
        _mm_storeu_ps(d + (k + 3) * mr, r3);
    }
    for (; k < kc; k++) {
        d[k * mr + 0] = alpha * a[k];
        d[k * mr + 1] = alpha * a1[k];
        d[k * mr + 2] = alpha * a2[k];
        d[k * mr + 3] = alpha * a3[k];
    }
}
#endif

static void pack_a(int transA, const float *A, int64_t lda, int64_t i0, int64_t p0, int64_t mc,
                   int64_t kc, float alpha, int mr, float *dst) {
    for (int64_t is = 0; is < mc; is += mr) {
        int64_t rows = mc - is < mr ? mc - is : mr;
        float *d = dst + (is / mr) * kc * mr;
        if (!transA) {
            int64_t r = 0;
#if defined(__x86_64__)
            for (; r + 4 <= rows; r += 4)
                pack_a_rows4(A + (i0 + is + r) * lda + p0, lda, kc, alpha, mr, d + r);
#endif
            for (; r < rows; r++) {
                const float *a = A + (i0 + is + r) * lda + p0;
                for (int64_t k = 0; k < kc; k++) d[k * mr + r] = alpha * a[k];
            }
        } else {
            for (int64_t k = 0; k < kc; k++) {
                const float *a = A + (p0 + k) * lda + i0 + is;
                for (int64_t r = 0; r < rows; r++) d[k * mr + r] = alpha * a[r];
            }
        }
        if (rows < mr)
            for (int64_t k = 0; k < kc; k++)
                for (int64_t r = rows; r < mr; r++) d[k * mr + r] = 0.0f;
    }
}

/* Slivers [s0, s1) of op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into NR-wide
 * slivers: dst[(j / NR) * kc * NR + k * NR + j % NR], zero past nc. */
static void pack_b(int transB, const float *B, int64_t ldb, int64_t p0, int64_t j0, int64_t nc,
                   int64_t kc, int nr, int64_t s0, int64_t s1, float *dst) {
    /* Full slivers of a row-major B: read each row once, front to back
     * (the memory side is what packing waits on); the last, partial sliver
     * below. */
    int64_t full = nc / nr < s1 ? nc / nr : s1;
    if (!transB && s0 < full) {
        /* fixed-size copies compile to a few vector moves; a memcpy call
         * per 64-128 bytes cost more than the copy */
        /* PACK_ROWS rows at a time, sliver by sliver: each sliver then gets
         * a contiguous run of writes instead of one 128-byte piece per row
         * (tens of scattered write streams defeat the prefetchers) */
        for (int64_t k0 = 0; k0 < kc; k0 += PACK_ROWS) {
            int64_t k1 = kc - k0 < PACK_ROWS ? kc : k0 + PACK_ROWS;
            const float *b = B + (p0 + k0) * ldb + j0;
            for (int64_t s = s0; s < full; s++) {
                float *d = dst + s * kc * nr + k0 * nr;
                const float *bs = b + s * nr;
                if (nr == 32)
                    for (int64_t k = k0; k < k1; k++, d += 32, bs += ldb) {
                        /* the same 128 bytes PACK_PF rows on (an address
                         * only: prefetches past B's end do not fault) */
                        __builtin_prefetch(bs + PACK_PF * ldb);
                        __builtin_prefetch(bs + PACK_PF * ldb + 16);
                        memcpy(d, bs, 128);
                    }
                else if (nr == 16)
                    for (int64_t k = k0; k < k1; k++, d += 16, bs += ldb) memcpy(d, bs, 64);
                else
                    for (int64_t k = k0; k < k1; k++, d += nr, bs += ldb)
                        for (int c = 0; c < nr; c++) d[c] = bs[c];
            }
        }
        s0 = full;
    }
    for (int64_t s = s0; s < s1; s++) {
        int64_t js = s * nr, cols = nc - js < nr ? nc - js : nr;
        float *d = dst + s * kc * nr;
        if (!transB) {
            for (int64_t k = 0; k < kc; k++) {
                const float *b = B + (p0 + k) * ldb + j0 + js;
                float *dk = d + k * nr;
                for (int64_t c = 0; c < cols; c++) dk[c] = b[c];
                for (int64_t c = cols; c < nr; c++) dk[c] = 0.0f;
            }
        } else {
            for (int64_t c = 0; c < cols; c++) {
                const float *b = B + (j0 + js + c) * ldb + p0;
                for (int64_t k = 0; k < kc; k++) d[k * nr + c] = b[k];
            }
            for (int64_t k = 0; k < kc; k++)
                for (int64_t c = cols; c < nr; c++) d[k * nr + c] = 0.0f;
        }
    }
}

/* ---- pre-packed B -------------------------------------------------------------------- */

/* Pre-packed weights are packed in column blocks of NC_PP. */
#define NC_PP 3072

static int64_t ncmax_for(int64_t N, int nr) {
    return N < NC_PP ? (N + nr - 1) / nr * nr : NC_PP / nr * nr;
}

static enum ia_sgemm_path packed_path(enum ia_sgemm_path path) {
    return path == IA_SGEMM_AUTO ? ia_sgemm_best_path() : path;
}

size_t ia_sgemm_packed_b_floats(enum ia_sgemm_path path, int64_t K, int64_t N) {
    struct ukr_info u = ukr_for(packed_path(path));
    int64_t ncm = ncmax_for(N, u.nr);
    size_t total = 0;
    for (int64_t jc = 0; jc < N; jc += ncm) {
        int64_t nc = N - jc < ncm ? N - jc : ncm;
        total += (size_t)K * (size_t)((nc + u.nr - 1) / u.nr * u.nr);
    }
    return total;
}

/* Block jc starts at base (every block before it holds K rows of its
 * padded width); in it, sliver s holds all K rows of its NR columns at
 * base + s * K * NR, so the driver reads each block front to back. */
int ia_sgemm_pack_b(enum ia_sgemm_path path, int transB, int64_t K, int64_t N, const float *B,
                    int64_t ldb, float *dst) {
    path = packed_path(path);
    if (path == IA_SGEMM_REF || !ia_sgemm_path_available(path))
        return ia_error_set(IA_EUNSUPPORTED, "sgemm: no packed form for the %s path",
                            ia_sgemm_path_name(path));
    struct ukr_info u = ukr_for(path);
    int64_t ncm = ncmax_for(N, u.nr);
    float *base = dst;
    for (int64_t jc = 0; jc < N; jc += ncm) {
        int64_t nc = N - jc < ncm ? N - jc : ncm, n_sl = (nc + u.nr - 1) / u.nr;
        pack_b(transB, B, ldb, 0, jc, nc, K, u.nr, 0, n_sl, base);
        base += K * n_sl * u.nr;
    }
    return IA_OK;
}

/* K is cut into as few near-equal panels of at most KC_PP rows as it
 * takes: the rows per panel. */
static int64_t panel_rows(int64_t K) {
    int64_t panels = (K + KC_PP - 1) / KC_PP;
    return (K + panels - 1) / panels;
}

/* One product over column blocks of B packed as ia_sgemm_pack_b lays
 * them out (sliver s of a block: all K rows of its NR columns). */
struct pp_job {
    struct ukr_info u;
    int transA, add_first; /* add_first: C holds beta * C to add to */
    float alpha;
    const float *A, *Bp; /* Bp: the current column block */
    int64_t lda, ldc, M;
    int64_t k0, K; /* the rows [k0, k0 + K) of op(B) that Bp holds, K per sliver */
    float *C;
    int64_t mc, jc, nc, n_slices, slice_w; /* mc: rows per M block, <= u.mc */
    const struct ia_sgemm_epi *epi;
    float *apack; /* one MC x KC_PP block per thread */
    /* packing path only: op(B), packed a block at a time into bpack */
    int transB;
    const float *B;
    int64_t ldb, b_chunk;
    float *bpack;
    /* cols path only: all of op(A) packed once (times alpha); the block of
     * M block mb and the K panel at row p starts at
     * apre + mb * mc * Ka + p * (the block's rows rounded up to MR) */
    const float *apre;
    int64_t Ka;
};

/* One (M block, N slice) tile through the K rows Bp holds, then its
 * epilogue. They are cut into as few near-equal panels of at most KC_PP as
 * it takes; for each
 * panel the A block is packed once and every B sliver of the slice runs
 * the whole panel in one micro-kernel call per MR rows, so C is written
 * once per panel (on the first, stored over C unless add_first: no
 * clearing pass). */
static void pp_task(void *vj, int64_t t, int thread) {
    struct pp_job *j = vj;
    const struct ukr_info *u = &j->u;
    /* slice-major: the tasks running at the same time on different
     * threads read the same B slivers (one trip from memory) */
    int64_t m_blocks = (j->M + j->mc - 1) / j->mc, mb = t % m_blocks, sl = t / m_blocks;
    int64_t ic = mb * j->mc, mc = j->M - ic < j->mc ? j->M - ic : j->mc;
    int64_t n_sl = (j->nc + u->nr - 1) / u->nr;
    int64_t s0 = sl * j->slice_w, s1 = s0 + j->slice_w < n_sl ? s0 + j->slice_w : n_sl;
    if (s0 >= s1) return;
    int64_t col0 = j->jc + s0 * u->nr, cols = (s1 * u->nr < j->nc ? s1 * u->nr : j->nc) - s0 * u->nr;
    int64_t kcp = panel_rows(j->K);
    float *ap = j->apack + (size_t)thread * (size_t)u->mc * KC_PP;
    float tile[MAX_MR * MAX_NR];
    for (int64_t pc = 0; pc < j->K; pc += kcp) {
        int64_t kc = j->K - pc < kcp ? j->K - pc : kcp;
        int add = pc > 0 || j->k0 > 0 || j->add_first;
        if (j->apre)
            ap = (float *)j->apre + ic * j->Ka + (j->k0 + pc) * ((mc + u->mr - 1) / u->mr * u->mr);
        else
            pack_a(j->transA, j->A, j->lda, ic, j->k0 + pc, mc, kc, j->alpha, u->mr, ap);
        for (int64_t s = s0; s < s1; s++) {
            int64_t jr = s * u->nr, nr = j->nc - jr < u->nr ? j->nc - jr : u->nr;
            float *cs = j->C + ic * j->ldc + j->jc + jr;
            const float *bp = j->Bp + s * j->K * u->nr + pc * u->nr;
            /* Each call prefetches its share of the next sliver's panel
             * into L2 so that the first call on it does not wait for
             * memory (an address only: past the last sliver it is never
             * read). */
            uintptr_t pf = (uintptr_t)(bp + j->K * u->nr), pf_step = (uintptr_t)(kc / 4 * 64);
            for (int64_t ir = 0; ir < mc; ir += u->mr, pf += pf_step) {
                int64_t mr = mc - ir < u->mr ? mc - ir : u->mr;
                const float *a = ap + (ir / u->mr) * kc * u->mr;
                float *c = cs + ir * j->ldc;
                if (mr == u->mr && nr == u->nr) {
                    u->fn(kc, a, bp, c, j->ldc, pf, add);
                    continue;
                }
                u->fn(kc, a, bp, tile, u->nr, pf, 0);
                for (int64_t r = 0; r < mr; r++) {
                    float *cr = c + r * j->ldc;
                    const float *tr = tile + r * u->nr;
                    if (add)
                        for (int64_t q = 0; q < nr; q++) cr[q] += tr[q];
                    else
                        memcpy(cr, tr, (size_t)nr * sizeof(float));
                }
            }
        }
    }
    if (j->epi && j->epi->row)
        for (int64_t r = 0; r < mc; r++)
            j->epi->row(j->epi->user, j->C + (ic + r) * j->ldc + col0, col0, cols);
}

/* Split the current column block into N slices: four tasks per thread so
 * uneven progress (a shared machine) evens out at the end of the job
 * (two a thread left each thread waiting 5-7% of a two-thread ViT-base
 * run, perf record; four: 4-6%), or one where that would leave slices
 * under 8 slivers and each task packs its own A block (at M 128, N 768,
 * K 3072 that is a tenth of a 6-sliver task's time). */
static int64_t slices_wanted(int threads, int64_t m_blocks) {
    return threads > 1 ? (4 * threads + m_blocks - 1) / m_blocks : 1;
}

static void pp_slices(struct pp_job *j, int threads, int64_t m_blocks) {
    int64_t n_sl = (j->nc + j->u.nr - 1) / j->u.nr;
    int64_t want = slices_wanted(threads, m_blocks);
    if (want > 1 && n_sl / want < 8 && !j->apre) want = (threads + m_blocks - 1) / m_blocks;
    if (want > n_sl) want = n_sl;
    j->slice_w = (n_sl + want - 1) / want;
    j->n_slices = (n_sl + j->slice_w - 1) / j->slice_w;
}

/* Rows per M block: M in blocks of equal size (in whole slivers) rather
 * than full ones and a remnant, so tasks cost alike: 1024 rows as 8 x 128,
 * not 7 x 144 + 16; 197 as 108 + 89, not 144 + 53. */
static int64_t block_rows(const struct ukr_info *u, int64_t M) {
    int64_t m_blocks = (M + u->mc - 1) / u->mc;
    return ((M + m_blocks - 1) / m_blocks + u->mr - 1) / u->mr * u->mr;
}

static void pp_run(struct pp_job *j, struct ia_pool *pool, int threads) {
    j->mc = block_rows(&j->u, j->M);
    int64_t m_blocks = (j->M + j->mc - 1) / j->mc;
    pp_slices(j, threads, m_blocks);
    int64_t tasks = m_blocks * j->n_slices;
    if (pool && tasks > 1)
        ia_pool_run(pool, tasks, pp_task, j);
    else
        for (int64_t t = 0; t < tasks; t++) pp_task(j, t, 0);
}

/* All of op(A) packed once, times alpha, in the layout pp_task reads
 * through j->apre (j->mc, M, Ka, A, lda, transA, alpha set): one pool task
 * per (M block, K panel of kcp rows). */
struct apre_job {
    const struct pp_job *j;
    int64_t kcp;
    float *apre;
};

static void apre_task(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct apre_job *aj = vj;
    const struct pp_job *j = aj->j;
    int64_t panels = (j->Ka + aj->kcp - 1) / aj->kcp, mb = t / panels, p = t % panels * aj->kcp;
    int64_t ic = mb * j->mc, mc = j->M - ic < j->mc ? j->M - ic : j->mc;
    int64_t kc = j->Ka - p < aj->kcp ? j->Ka - p : aj->kcp;
    pack_a(j->transA, j->A, j->lda, ic, p, mc, kc, j->alpha, j->u.mr,
           aj->apre + ic * j->Ka + p * ((mc + j->u.mr - 1) / j->u.mr * j->u.mr));
}

static void pack_a_all(const struct pp_job *j, int64_t kcp, float *apre, struct ia_pool *pool) {
    struct apre_job aj = {j, kcp, apre};
    int64_t tasks = (j->M + j->mc - 1) / j->mc * ((j->Ka + kcp - 1) / kcp);
    if (pool && tasks > 1 && (double)j->M * (double)j->Ka >= 65536.0)
        ia_pool_run(pool, tasks, apre_task, &aj);
    else
        for (int64_t t = 0; t < tasks; t++) apre_task(&aj, t, 0);
}

/* A few rows against pre-packed B (a decode step): the product is bound by
 * reading B, so B's slivers are read once each, in storage order, split
 * over the pool in contiguous runs. Every column block but the last is
 * NC_PP (a multiple of NR) wide, so sliver g of the whole packed B starts
 * at Bp + g * K * NR and covers columns [g * NR, g * NR + NR). */
struct few_job {
    int64_t M, N, K, lda, ldc, chunk;
    const float *A, *Bp;
    float *C;
    const struct ia_sgemm_epi *epi;
};

static void few_task(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct few_job *j = vj;
    const int nr = IA_SGEMM_AVX512_NR;
    int64_t n_sl = (j->N + nr - 1) / nr, g0 = t * j->chunk;
    int64_t g1 = g0 + j->chunk < n_sl ? g0 + j->chunk : n_sl;
    for (int64_t g = g0; g < g1; g++) {
        int64_t n = j->N - g * nr < nr ? j->N - g * nr : nr;
        ia_sgemm_few_rows_avx512(j->M, j->K, j->A, j->lda, j->Bp + g * j->K * nr, j->C + g * nr,
                                 j->ldc, n);
    }
    if (j->epi && j->epi->row && g0 < g1) {
        int64_t col0 = g0 * nr, cols = (g1 * nr < j->N ? g1 * nr : j->N) - col0;
        for (int64_t i = 0; i < j->M; i++)
            j->epi->row(j->epi->user, j->C + i * j->ldc + col0, col0, cols);
    }
}

static void sgemm_few_rows(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                           const float *Bp, float *C, int64_t ldc, const struct ia_sgemm_epi *epi,
                           struct ia_pool *pool) {
    int64_t n_sl = (N + IA_SGEMM_AVX512_NR - 1) / IA_SGEMM_AVX512_NR;
    int threads = pool ? ia_pool_size(pool) : 1;
    /* a pool wake-up costs microseconds: split only products of >= 256K
     * MACs, into a few runs per thread so uneven progress evens out */
    int64_t tasks = threads > 1 && (double)M * (double)N * (double)K >= 262144.0
                        ? 4 * (int64_t)threads : 1;
    if (tasks > n_sl) tasks = n_sl;
    struct few_job j = {.M = M, .N = N, .K = K, .lda = lda, .ldc = ldc,
                        .chunk = (n_sl + tasks - 1) / tasks, .A = A, .Bp = Bp, .C = C, .epi = epi};
    tasks = (n_sl + j.chunk - 1) / j.chunk;
    if (tasks > 1)
        ia_pool_run(pool, tasks, few_task, &j);
    else
        few_task(&j, 0, 0);
}

int ia_sgemm_prepacked(enum ia_sgemm_path path, int64_t M, int64_t N, int64_t K, const float *A,
                       int64_t lda, const float *Bp, float *C, int64_t ldc,
                       const struct ia_sgemm_epi *epi, struct ia_pool *pool) {
    if (M <= 0 || N <= 0) return IA_OK;
    path = packed_path(path);
    if (path == IA_SGEMM_REF || !ia_sgemm_path_available(path))
        return ia_error_set(IA_EUNSUPPORTED, "sgemm: no packed form for the %s path",
                            ia_sgemm_path_name(path));
    struct ukr_info u = ukr_for(path);
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++) {
            memset(C + i * ldc, 0, (size_t)N * sizeof(float));
            if (epi && epi->row) epi->row(epi->user, C + i * ldc, 0, N);
        }
        return IA_OK;
    }
    if (M <= 4 && path == IA_SGEMM_AVX512) {
        sgemm_few_rows(M, N, K, A, lda, Bp, C, ldc, epi, pool);
        return IA_OK;
    }
    int threads = pool ? ia_pool_size(pool) : 1;
    int64_t ncm = ncmax_for(N, u.nr), mc = block_rows(&u, M);
    /* Where an A block would be packed by several tasks (threads taking N
     * slices of it, as pp_slices splits when there are fewer than two M
     * blocks a thread, or B in several column blocks), pack all of A once
     * up front: at two threads each task packed its own copy, and pack_a
     * took 1.8x the samples it takes at one thread (ViT-base). Otherwise
     * each task packs its block right before it reads it, from L2. */
    int64_t m_blocks = (M + mc - 1) / mc;
    int share_a = (N > ncm || slices_wanted(threads, m_blocks) > 1) &&
                  (double)M * (double)K <= (double)PACK_A_FLOATS;
    size_t afl = share_a ? (size_t)(m_blocks * mc * K) : (size_t)u.mc * KC_PP * (size_t)threads;
    float *apack = pack_mem(afl);
    if (!apack) return IA_ENOMEM;
    struct pp_job j = {.u = u, .alpha = 1.0f, .A = A, .lda = lda, .ldc = ldc, .M = M, .K = K,
                       .C = C, .epi = epi, .apack = apack, .mc = mc, .Ka = K};
    if (share_a) {
        j.apre = apack;
        pack_a_all(&j, panel_rows(K), apack, pool);
    }
    const float *base = Bp;
    for (int64_t jc = 0; jc < N; jc += ncm) {
        j.jc = jc;
        j.nc = N - jc < ncm ? N - jc : ncm;
        j.Bp = base;
        base += K * ((j.nc + u.nr - 1) / u.nr) * u.nr;
        pp_run(&j, pool, threads);
    }
    return IA_OK;
}

/* ia_sgemm_prepacked_multi: one pp_job per (part, column block), their
 * tasks numbered one after another. */
#define MULTI_UNITS 32

struct multi_job {
    struct pp_job unit[MULTI_UNITS];
    int64_t first[MULTI_UNITS + 1]; /* unit u's tasks are [first[u], first[u + 1]) */
    size_t n;
};

static void multi_task(void *vj, int64_t t, int thread) {
    struct multi_job *mj = vj;
    size_t u = 0;
    while (t >= mj->first[u + 1]) u++;
    pp_task(&mj->unit[u], t - mj->first[u], thread);
}

int ia_sgemm_prepacked_multi(enum ia_sgemm_path path, int64_t M, int64_t K, const float *A,
                             int64_t lda, size_t n_parts, const struct ia_sgemm_part *parts,
                             struct ia_pool *pool) {
    path = packed_path(path);
    struct ukr_info u = ukr_for(path);
    size_t units = 0;
    for (size_t p = 0; p < n_parts; p++) {
        int64_t N = parts[p].N, ncm = N > 0 ? ncmax_for(N, u.nr) : 1;
        units += (size_t)((N > 0 ? N : 0) + ncm - 1) / (size_t)ncm; /* its column blocks */
    }
    /* what one job cannot take runs part by part */
    if (M <= 0) return IA_OK;
    if (M <= 4 || K <= 0 || path == IA_SGEMM_REF || !ia_sgemm_path_available(path) ||
        units > MULTI_UNITS || (double)M * (double)K > (double)PACK_A_FLOATS) {
        for (size_t p = 0; p < n_parts; p++) {
            if (parts[p].N <= 0) continue;
            int rc = ia_sgemm_prepacked(path, M, parts[p].N, K, A, lda, parts[p].Bp, parts[p].C,
                                        parts[p].ldc, parts[p].epi, pool);
            if (rc) return rc;
        }
        return IA_OK;
    }
    int threads = pool ? ia_pool_size(pool) : 1;
    int64_t mc = block_rows(&u, M), m_blocks = (M + mc - 1) / mc;
    float *apre = pack_mem((size_t)(m_blocks * mc * K));
    if (!apre) return IA_ENOMEM;
    struct multi_job job, *mj = &job; /* ~7 KiB of stack */
    mj->n = 0;
    mj->first[0] = 0;
    for (size_t p = 0; p < n_parts; p++) {
        if (parts[p].N <= 0) continue;
        int64_t N = parts[p].N, ncm = ncmax_for(N, u.nr);
        const float *base = parts[p].Bp;
        for (int64_t jc = 0; jc < N; jc += ncm) {
            struct pp_job *j = &mj->unit[mj->n];
            *j = (struct pp_job){.u = u, .alpha = 1.0f, .A = A, .lda = lda, .ldc = parts[p].ldc,
                                 .M = M, .K = K, .C = parts[p].C, .epi = parts[p].epi,
                                 .mc = mc, .Ka = K, .apre = apre, .jc = jc,
                                 .nc = N - jc < ncm ? N - jc : ncm, .Bp = base};
            base += K * ((j->nc + u.nr - 1) / u.nr) * u.nr;
            pp_slices(j, threads, m_blocks);
            mj->first[mj->n + 1] = mj->first[mj->n] + m_blocks * j->n_slices;
            mj->n++;
        }
    }
    if (mj->n == 0) return IA_OK;
    pack_a_all(&mj->unit[0], panel_rows(K), apre, pool);
    int64_t tasks = mj->first[mj->n];
    if (pool && tasks > 1)
        ia_pool_run(pool, tasks, multi_task, mj);
    else
        for (int64_t t = 0; t < tasks; t++) multi_task(mj, t, 0);
    return IA_OK;
}

/* ---- the packing driver ------------------------------------------------------------- */

static void pack_b_task(void *vj, int64_t t, int thread) {
    (void)thread;
    struct pp_job *j = vj;
    int64_t n_sl = (j->nc + j->u.nr - 1) / j->u.nr;
    int64_t s0 = t * j->b_chunk, s1 = s0 + j->b_chunk < n_sl ? s0 + j->b_chunk : n_sl;
    pack_b(j->transB, j->B, j->ldb, j->k0, j->jc, j->nc, j->K, j->u.nr, s0, s1, j->bpack);
}

/* ia_sgemm's blocked path when all of op(A) packed fits in PACK_A_FLOATS
 * (a convolution's weights, BERT-sized activations): A is packed once per
 * call, then each thread takes a contiguous range of B's slivers and, a
 * block of about PACK_B_L2_FLOATS at a time, packs it into its own buffer
 * and runs it against every M block right away, so the kernels read the
 * packed B from the thread's L2 instead of the shared L3. Packing A once
 * is what lets the B blocks be L2-sized: with A repacked per block, the
 * A packing grows with N / block width. Measured (bench/gemm_vs_blas, one
 * thread, thread CPU time, load 6-7): 128x3072x768 51 -> 82-88 GFLOP/s,
 * 64x6400x576 54 -> 69-70; 64K-float blocks were slower than the old path
 * at K 576 (3 slivers: B is read in 384-byte pieces per row), 128K and
 * 256K alike. */
#ifndef PACK_B_L2_FLOATS
#define PACK_B_L2_FLOATS (1 << 17)
#endif

struct cols_job {
    struct pp_job pj; /* the shared part; each task works on a copy */
    int64_t m_blocks, kcp, chunk, blk_sl;
    float *bbuf; /* one kcp x blk_sl * NR block per thread */
};

static void cols_task(void *vj, int64_t t, int thread) {
    struct cols_job *cj = vj;
    struct pp_job j = cj->pj;
    const int64_t nr = j.u.nr, n_sl = (j.nc + nr - 1) / nr, N = j.nc;
    int64_t s0 = t * cj->chunk, s1 = s0 + cj->chunk < n_sl ? s0 + cj->chunk : n_sl;
    float *bp = cj->bbuf + (size_t)thread * (size_t)(cj->kcp * cj->blk_sl * nr);
    j.Bp = bp;
    j.n_slices = 1;
    for (int64_t sb = s0; sb < s1; sb += cj->blk_sl) {
        int64_t se = sb + cj->blk_sl < s1 ? sb + cj->blk_sl : s1;
        j.jc = sb * nr;
        j.nc = (se * nr < N ? se * nr : N) - j.jc;
        j.slice_w = se - sb;
        for (int64_t pc = 0; pc < j.Ka; pc += cj->kcp) {
            j.k0 = pc;
            j.K = j.Ka - pc < cj->kcp ? j.Ka - pc : cj->kcp;
            pack_b(j.transB, j.B, j.ldb, pc, j.jc, j.nc, j.K, (int)nr, 0, se - sb, bp);
            for (int64_t mb = 0; mb < cj->m_blocks; mb++) pp_task(&j, mb, thread);
        }
    }
}

static int sgemm_cols(struct ukr_info u, int transA, int transB, int64_t M, int64_t N,
                      int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                      int64_t ldb, float beta, float *C, int64_t ldc, struct ia_pool *pool) {
    int threads = pool ? ia_pool_size(pool) : 1;
    int64_t kcp = panel_rows(K);
    int64_t mc = block_rows(&u, M), m_blocks = (M + mc - 1) / mc;
    int64_t n_sl = (N + u.nr - 1) / u.nr, blk_sl = PACK_B_L2_FLOATS / (kcp * u.nr);
    if (blk_sl < 1) blk_sl = 1;
    int64_t tasks = threads > 1 ? 2 * (int64_t)threads : 1;
    if (tasks > n_sl) tasks = n_sl;
    int64_t chunk = (n_sl + tasks - 1) / tasks;
    tasks = (n_sl + chunk - 1) / chunk;
    if (blk_sl > chunk) blk_sl = chunk;
    size_t afl = (size_t)(m_blocks * mc * K), bfl = (size_t)(kcp * blk_sl * u.nr);
    float *apre = pack_mem(afl + bfl * (size_t)threads);
    if (!apre) return IA_ENOMEM;
    if (beta != 0.0f) scale_c(M, N, beta, C, ldc);
    struct cols_job cj = {
        .pj = {.u = u, .transA = transA, .add_first = beta != 0.0f, .alpha = alpha, .A = A,
               .lda = lda, .ldc = ldc, .M = M, .C = C, .mc = mc, .nc = N, .transB = transB,
               .B = B, .ldb = ldb, .apre = apre, .Ka = K},
        .m_blocks = m_blocks, .kcp = kcp, .chunk = chunk, .blk_sl = blk_sl, .bbuf = apre + afl};
    pack_a_all(&cj.pj, kcp, apre, pool);
    if (pool && tasks > 1)
        ia_pool_run(pool, tasks, cols_task, &cj);
    else
        for (int64_t t = 0; t < tasks; t++) cols_task(&cj, t, 0);
    return IA_OK;
}

/* ia_sgemm's blocked path otherwise: op(B) is packed a block at a time (K panels of
 * at most KC_PP rows, columns for about PACK_B_FLOATS floats, so it stays
 * in cache while the block's products read it back) in the pre-packed
 * layout, then the block runs as a pre-packed product. */
static int sgemm_packed(struct ukr_info u, int transA, int transB, int64_t M, int64_t N,
                        int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                        int64_t ldb, float beta, float *C, int64_t ldc, struct ia_pool *pool) {
    if ((double)M * (double)K <= (double)PACK_A_FLOATS)
        return sgemm_cols(u, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool);
    int threads = pool ? ia_pool_size(pool) : 1;
    int64_t kcp = panel_rows(K);
    int64_t ncmax = PACK_B_FLOATS / kcp / u.nr * u.nr, npad = (N + u.nr - 1) / u.nr * u.nr;
    if (ncmax < u.nr) ncmax = u.nr;
    if (ncmax > npad) ncmax = npad;
    size_t bfl = (size_t)kcp * (size_t)ncmax, afl = (size_t)u.mc * KC_PP * (size_t)threads;
    float *bpack = pack_mem(bfl + afl);
    if (!bpack) return IA_ENOMEM;
    if (beta != 0.0f) scale_c(M, N, beta, C, ldc);
    struct pp_job j = {.u = u, .transA = transA, .add_first = beta != 0.0f, .alpha = alpha,
                       .A = A, .Bp = bpack, .lda = lda, .ldc = ldc, .M = M, .C = C,
                       .apack = bpack + bfl, .transB = transB, .B = B, .ldb = ldb,
                       .bpack = bpack};
    for (int64_t jc = 0; jc < N; jc += ncmax) {
        j.jc = jc;
        j.nc = N - jc < ncmax ? N - jc : ncmax;
        int64_t n_sl = (j.nc + u.nr - 1) / u.nr;
        j.b_chunk = threads > 1 ? (n_sl + threads - 1) / threads : n_sl;
        int64_t b_tasks = (n_sl + j.b_chunk - 1) / j.b_chunk;
        for (int64_t pc = 0; pc < K; pc += kcp) {
            j.k0 = pc;
            j.K = K - pc < kcp ? K - pc : kcp;
            if (pool && b_tasks > 1)
                ia_pool_run(pool, b_tasks, pack_b_task, &j);
            else
                for (int64_t t = 0; t < b_tasks; t++) pack_b_task(&j, t, 0);
            pp_run(&j, pool, threads);
        }
    }
    return IA_OK;
}

/* ---- transposed matrix-vector ------------------------------------------------------- */

void ia_sgemv_t(int64_t N, int64_t K, float alpha, const float *a, const float *B, int64_t ldb,
                float *c) {
    float (*dot)(int64_t, const float *, const float *) = NULL;
    if (ia_sgemm_path_available(IA_SGEMM_AVX512)) {
        ia_sgemv_t_avx512(N, K, alpha, a, B, ldb, c);
        return;
    }
    if (ia_sgemm_path_available(IA_SGEMM_AVX2))
        dot = ia_sdot_avx2;
    for (int64_t j = 0; j < N; j++) {
        const float *b = B + j * ldb;
        float s = 0.0f;
        if (dot) {
            s = dot(K, a, b);
        } else {
            for (int64_t k = 0; k < K; k++) s += a[k] * b[k];
        }
        c[j] += alpha * s;
    }
}

/* ---- a few rows: matrix-vector products, split over N ------------------------------- */

struct mv_job {
    int transB;
    int64_t M, N, K, lda, ldb, ldc, chunk;
    float alpha;
    const float *A, *B;
    float *C;
    float *part; /* non-transposed B split over K: (tasks, M, N) partial sums */
};

/* Cloned for AVX-512 and AVX2 (ifunc): the axpy loop is the whole of a
 * decode step's products and the baseline build vectorises it 4 wide.
 * Transposed B: task t takes rows [t*chunk, ...) of B (columns of C), each
 * a contiguous dot product. Row-major B: task t takes rows [t*chunk, ...)
 * of B (a range of K), read front to back, into its own partial C (or C
 * itself when there is one task): splitting by columns instead cuts every
 * row of B into short pieces the prefetchers stream badly. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
mv_task(void *vj, int64_t t, int thread) {
    (void)thread;
    const struct mv_job *j = vj;
    if (j->transB) {
        int64_t j0 = t * j->chunk, n = j->N - j0 < j->chunk ? j->N - j0 : j->chunk;
        for (int64_t i = 0; i < j->M; i++)
            ia_sgemv_t(n, j->K, j->alpha, j->A + i * j->lda, j->B + j0 * j->ldb, j->ldb,
                       j->C + i * j->ldc + j0);
        return;
    }
    int64_t k0 = t * j->chunk, k1 = j->K - k0 < j->chunk ? j->K : k0 + j->chunk;
    for (int64_t i = 0; i < j->M; i++) {
        const float *a = j->A + i * j->lda;
        float *c = j->part ? j->part + (t * j->M + i) * j->N : j->C + i * j->ldc;
        if (j->part) memset(c, 0, (size_t)j->N * sizeof(float));
        /* four rows of B per pass over c: a quarter of the loads and
         * stores of c, whose addresses (a multiple of 4 KiB away from B's
         * in a BERT-sized product) otherwise make B's loads wait on them */
        int64_t k = k0;
        for (; k + 4 <= k1; k += 4) {
            float a0 = j->alpha * a[k], a1 = j->alpha * a[k + 1], a2 = j->alpha * a[k + 2],
                  a3 = j->alpha * a[k + 3];
            const float *b0 = j->B + k * j->ldb, *b1 = b0 + j->ldb, *b2 = b1 + j->ldb,
                        *b3 = b2 + j->ldb;
            for (int64_t q = 0; q < j->N; q++)
                c[q] += a0 * b0[q] + a1 * b1[q] + a2 * b2[q] + a3 * b3[q];
        }
        for (; k < k1; k++) {
            float ak = j->alpha * a[k];
            const float *b = j->B + k * j->ldb;
            for (int64_t q = 0; q < j->N; q++) c[q] += ak * b[q];
        }
    }
}

/* C = alpha * A op(B) + beta * C for M of a few rows and A not transposed:
 * bound by reading B once, so no packing; big ones are split over the pool
 * (a pool wake-up costs microseconds: only for >= 256K MACs). */
static int sgemm_rows(int transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                      int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                      int64_t ldc, struct ia_pool *pool) {
    scale_c(M, N, beta, C, ldc);
    struct mv_job j = {.transB = transB, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb,
                       .ldc = ldc, .chunk = transB ? N : K, .alpha = alpha, .A = A, .B = B, .C = C};
    int threads = pool ? ia_pool_size(pool) : 1;
    if (threads <= 1 || (double)M * (double)N * (double)K < 262144.0) {
        mv_task(&j, 0, 0);
        return IA_OK;
    }
    if (transB) {
        int64_t parts = 4 * (int64_t)threads;
        j.chunk = ((N + parts - 1) / parts + 15) / 16 * 16;
        ia_pool_run(pool, (N + j.chunk - 1) / j.chunk, mv_task, &j);
        return IA_OK;
    }
    int64_t tasks = K < threads ? K : threads;
    j.chunk = (K + tasks - 1) / tasks;
    tasks = (K + j.chunk - 1) / j.chunk;
    j.part = pack_mem((size_t)(tasks * M * N));
    if (!j.part) return IA_ENOMEM;
    ia_pool_run(pool, tasks, mv_task, &j);
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        for (int64_t t = 0; t < tasks; t++) {
            const float *p = j.part + (t * M + i) * N;
            for (int64_t q = 0; q < N; q++) c[q] += p[q];
        }
    }
    return IA_OK;
}

int ia_sgemm_path(enum ia_sgemm_path path, int transA, int transB, int64_t M, int64_t N,
                  int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                  int64_t ldb, float beta, float *C, int64_t ldc, struct ia_pool *pool) {
    if (M <= 0 || N <= 0) return IA_OK;
    if (!ia_sgemm_path_available(path))
        return ia_error_set(IA_EUNSUPPORTED, "sgemm: this CPU cannot run the %s path",
                            ia_sgemm_path_name(path));
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return IA_OK;
    }
    if (path == IA_SGEMM_AUTO) {
        /* Packing costs more than it saves on tiny products and on
         * matrix-vector ones (an RNN step, a decode step), which are bound
         * by reading B once. Forced paths keep their kernels (tests). */
        if ((double)M * (double)N * (double)K <= 32768.0) {
            path = IA_SGEMM_REF;
        } else if (!transA && (transB ? M <= 4 : M <= 2)) {
            return sgemm_rows(transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool);
        } else {
            path = ia_sgemm_best_path();
        }
    }
    if (path == IA_SGEMM_REF) {
        sgemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return IA_OK;
    }
    return sgemm_packed(ukr_for(path), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C,
                        ldc, pool);
}

int ia_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
             const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
             int64_t ldc, struct ia_pool *pool) {
    return ia_sgemm_path(IA_SGEMM_AUTO, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C,
                         ldc, pool);
}
