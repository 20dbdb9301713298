/* SGEMM driver: blocking, packing, threading and the run-time choice of
 * micro-kernel (see gemm.h for the layout and the contract).
 *
 * Loop nest, outermost first (BLIS naming):
 *   jc over N in NC steps     B block (KC x NC) packed once, shared by all threads
 *   pc over K in KC steps
 *     task = (M block of MC rows, N slice of the B block)   spread over the pool
 *       pack the task's A block (MC x KC, times alpha) into its thread's buffer
 *       jr over the slice in NR steps, ir over the block in MR steps: micro-kernel
 * Edge tiles (fewer than MR rows or NR columns left) run the same micro-kernel
 * into a zeroed MR x NR scratch tile whose valid part is then added to C, so
 * the micro-kernels only know full tiles. Packed slivers are zero-padded. */
#include "gemm.h"

#include <string.h>

/* Block sizes. KC can be overridden at build time for tuning sweeps
 * (bench/gemm_micro.c): 128..384 measured within 5% of each other on a
 * Xeon with AVX-512, 48 KiB L1d and 2 MiB L2 per core. */
#ifndef KC
#define KC 256
#endif
#define NC 3072
/* Rows of K the pre-packed path packs A for at once (see pp_task). */
#define KBIG 1024
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
static void ukr_c(int64_t kc, const float *a, const float *b, float *c, int64_t ldc) {
    float acc[C_MR][C_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += C_MR, b += C_NR)
        for (int i = 0; i < C_MR; i++)
            for (int j = 0; j < C_NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < C_MR; i++)
        for (int j = 0; j < C_NR; j++) c[i * ldc + j] += acc[i][j];
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
    /* An A block of about 144 KiB stays in L2 while the B slivers stream. */
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

/* ---- packing ------------------------------------------------------------------- */

/* op(A)[i0 .. i0+mc) x [p0 .. p0+kc) times alpha into MR-tall slivers:
 * dst[(i / MR) * kc * MR + k * MR + i % MR], zero rows past mc. */
static void pack_a(int transA, const float *A, int64_t lda, int64_t i0, int64_t p0, int64_t mc,
                   int64_t kc, float alpha, int mr, float *dst) {
    for (int64_t is = 0; is < mc; is += mr) {
        int64_t rows = mc - is < mr ? mc - is : mr;
        float *d = dst + (is / mr) * kc * mr;
        if (!transA) {
            for (int64_t r = 0; r < rows; r++) {
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

/* ---- the blocked product ------------------------------------------------------------ */

struct job {
    struct ukr_info u;
    int transA, transB;
    const float *A, *B;
    int64_t lda, ldb, ldc;
    float alpha;
    float *C;
    int64_t M;
    int64_t jc, nc, pc, kc; /* the current B block */
    int64_t n_slices, slice_w; /* N slices per block, slivers per slice */
    int64_t b_chunk;           /* slivers per B-packing task */
    float *bpack;              /* KC x NC, shared */
    float *apack;              /* one MC x KC block per thread */
};

static void pack_b_task(void *vj, int64_t t, int thread) {
    (void)thread;
    struct job *j = vj;
    int64_t n_sl = (j->nc + j->u.nr - 1) / j->u.nr;
    int64_t s0 = t * j->b_chunk, s1 = s0 + j->b_chunk < n_sl ? s0 + j->b_chunk : n_sl;
    pack_b(j->transB, j->B, j->ldb, j->pc, j->jc, j->nc, j->kc, j->u.nr, s0, s1, j->bpack);
}

static void tile_task(void *vj, int64_t t, int thread) {
    struct job *j = vj;
    const struct ukr_info *u = &j->u;
    int64_t mb = t / j->n_slices, sl = t % j->n_slices;
    int64_t ic = mb * u->mc, mc = j->M - ic < u->mc ? j->M - ic : u->mc;
    int64_t n_sl = (j->nc + u->nr - 1) / u->nr;
    int64_t s0 = sl * j->slice_w, s1 = s0 + j->slice_w < n_sl ? s0 + j->slice_w : n_sl;
    if (s0 >= s1) return;
    float *ap = j->apack + (size_t)thread * (size_t)u->mc * KC;
    pack_a(j->transA, j->A, j->lda, ic, j->pc, mc, j->kc, j->alpha, u->mr, ap);
    float tile[MAX_MR * MAX_NR];
    for (int64_t s = s0; s < s1; s++) {
        int64_t jr = s * u->nr, nr = j->nc - jr < u->nr ? j->nc - jr : u->nr;
        const float *bp = j->bpack + s * j->kc * u->nr;
        for (int64_t ir = 0; ir < mc; ir += u->mr) {
            int64_t mr = mc - ir < u->mr ? mc - ir : u->mr;
            const float *a = ap + (ir / u->mr) * j->kc * u->mr;
            float *c = j->C + (ic + ir) * j->ldc + j->jc + jr;
            if (mr == u->mr && nr == u->nr) {
                u->fn(j->kc, a, bp, c, j->ldc);
                continue;
            }
            memset(tile, 0, sizeof(float) * (size_t)(u->mr * u->nr));
            u->fn(j->kc, a, bp, tile, u->nr);
            for (int64_t r = 0; r < mr; r++)
                for (int64_t q = 0; q < nr; q++) c[r * j->ldc + q] += tile[r * u->nr + q];
        }
    }
}

static int sgemm_packed(struct ukr_info u, int transA, int transB, int64_t M, int64_t N,
                        int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                        int64_t ldb, float beta, float *C, int64_t ldc, struct ia_pool *pool) {
    int threads = pool ? ia_pool_size(pool) : 1;
    int64_t ncmax = N < NC ? (N + u.nr - 1) / u.nr * u.nr : NC / u.nr * u.nr;
    size_t bfl = (size_t)KC * (size_t)ncmax, afl = (size_t)u.mc * KC * (size_t)threads;
    /* One allocation, 64-byte aligned by hand: ia_malloc promises less. */
    uint8_t *mem = ia_malloc((bfl + afl) * sizeof(float) + 64);
    if (!mem) return ia_error_set(IA_ENOMEM, "sgemm: no memory for %zu packed floats", bfl + afl);
    float *bpack = (float *)(void *)(mem + (64 - ((uintptr_t)mem & 63)) % 64);
    scale_c(M, N, beta, C, ldc);
    struct job j = {.u = u, .transA = transA, .transB = transB, .A = A, .B = B, .lda = lda,
                    .ldb = ldb, .ldc = ldc, .alpha = alpha, .C = C, .M = M, .bpack = bpack,
                    .apack = bpack + bfl};
    int64_t m_blocks = (M + u.mc - 1) / u.mc;
    for (int64_t jc = 0; jc < N; jc += ncmax) {
        j.jc = jc;
        j.nc = N - jc < ncmax ? N - jc : ncmax;
        int64_t n_sl = (j.nc + u.nr - 1) / u.nr;
        /* Enough tasks for every thread to have two, without slices so thin
         * that re-packing A for each one costs more than it saves. */
        int64_t want = threads > 1 ? (2 * threads + m_blocks - 1) / m_blocks : 1;
        if (want > n_sl) want = n_sl;
        if (want > 1 && n_sl / want < 4) want = n_sl / 4 > 1 ? n_sl / 4 : 1;
        j.slice_w = (n_sl + want - 1) / want;
        j.n_slices = (n_sl + j.slice_w - 1) / j.slice_w;
        j.b_chunk = threads > 1 ? (n_sl + threads - 1) / threads : n_sl;
        int64_t b_tasks = (n_sl + j.b_chunk - 1) / j.b_chunk;
        for (int64_t pc = 0; pc < K; pc += KC) {
            j.pc = pc;
            j.kc = K - pc < KC ? K - pc : KC;
            if (pool && b_tasks > 1)
                ia_pool_run(pool, b_tasks, pack_b_task, &j);
            else
                for (int64_t t = 0; t < b_tasks; t++) pack_b_task(&j, t, 0);
            int64_t tasks = m_blocks * j.n_slices;
            if (pool && tasks > 1)
                ia_pool_run(pool, tasks, tile_task, &j);
            else
                for (int64_t t = 0; t < tasks; t++) tile_task(&j, t, 0);
        }
    }
    ia_free(mem);
    return IA_OK;
}

/* ---- pre-packed B -------------------------------------------------------------------- */

static int64_t ncmax_for(int64_t N, int nr) {
    return N < NC ? (N + nr - 1) / nr * nr : NC / nr * nr;
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

/* Block jc's panels start at base; panel pc at base + pc * ncp (every
 * panel before it has KC rows of ncp floats); sliver s at s * kc * nr. */
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
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = K - pc < KC ? K - pc : KC;
            pack_b(transB, B, ldb, pc, jc, nc, kc, u.nr, 0, n_sl, base + pc * n_sl * u.nr);
        }
        base += K * n_sl * u.nr;
    }
    return IA_OK;
}

struct pp_job {
    struct ukr_info u;
    const float *A, *Bp; /* Bp: the current column block's panels */
    int64_t lda, ldc, M, K;
    float *C;
    int64_t jc, nc, n_slices, slice_w;
    const struct ia_sgemm_epi *epi;
    float *apack; /* one MC x KC block per thread */
};

/* One (M block, N slice) tile through all of K, then its epilogue. The A
 * block is packed for up to KBIG of K at once so the loop over B slivers
 * can run outside the loop over K panels: each MC x NR column of C then
 * stays in cache through the whole sum instead of making a pass over the
 * task's C per KC panel. */
static void pp_task(void *vj, int64_t t, int thread) {
    struct pp_job *j = vj;
    const struct ukr_info *u = &j->u;
    int64_t mb = t / j->n_slices, sl = t % j->n_slices;
    int64_t ic = mb * u->mc, mc = j->M - ic < u->mc ? j->M - ic : u->mc;
    int64_t mcp = (mc + u->mr - 1) / u->mr * u->mr;
    int64_t n_sl = (j->nc + u->nr - 1) / u->nr, ncp = n_sl * u->nr;
    int64_t s0 = sl * j->slice_w, s1 = s0 + j->slice_w < n_sl ? s0 + j->slice_w : n_sl;
    if (s0 >= s1) return;
    int64_t col0 = j->jc + s0 * u->nr, cols = (s1 * u->nr < j->nc ? s1 * u->nr : j->nc) - s0 * u->nr;
    for (int64_t r = 0; r < mc; r++)
        memset(j->C + (ic + r) * j->ldc + col0, 0, (size_t)cols * sizeof(float));
    float *ap = j->apack + (size_t)thread * (size_t)u->mc * KBIG;
    float tile[MAX_MR * MAX_NR];
    for (int64_t p0 = 0; p0 < j->K; p0 += KBIG) {
        int64_t p1 = j->K - p0 < KBIG ? j->K : p0 + KBIG;
        for (int64_t pc = p0; pc < p1; pc += KC)
            pack_a(0, j->A, j->lda, ic, pc, mc, p1 - pc < KC ? p1 - pc : KC, 1.0f, u->mr,
                   ap + (pc - p0) * mcp);
        for (int64_t s = s0; s < s1; s++) {
            int64_t jr = s * u->nr, nr = j->nc - jr < u->nr ? j->nc - jr : u->nr;
            float *cs = j->C + ic * j->ldc + j->jc + jr;
            for (int64_t pc = p0; pc < p1; pc += KC) {
                int64_t kc = p1 - pc < KC ? p1 - pc : KC;
                const float *bp = j->Bp + pc * ncp + s * kc * u->nr;
                const float *apc = ap + (pc - p0) * mcp;
                for (int64_t ir = 0; ir < mc; ir += u->mr) {
                    int64_t mr = mc - ir < u->mr ? mc - ir : u->mr;
                    const float *a = apc + (ir / u->mr) * kc * u->mr;
                    float *c = cs + ir * j->ldc;
                    if (mr == u->mr && nr == u->nr) {
                        u->fn(kc, a, bp, c, j->ldc);
                        continue;
                    }
                    memset(tile, 0, sizeof(float) * (size_t)(u->mr * u->nr));
                    u->fn(kc, a, bp, tile, u->nr);
                    for (int64_t r = 0; r < mr; r++)
                        for (int64_t q = 0; q < nr; q++) c[r * j->ldc + q] += tile[r * u->nr + q];
                }
            }
        }
    }
    if (j->epi && j->epi->row)
        for (int64_t r = 0; r < mc; r++)
            j->epi->row(j->epi->user, j->C + (ic + r) * j->ldc + col0, col0, cols);
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
    int threads = pool ? ia_pool_size(pool) : 1;
    size_t afl = (size_t)u.mc * KBIG * (size_t)threads;
    uint8_t *mem = ia_malloc(afl * sizeof(float) + 64);
    if (!mem) return ia_error_set(IA_ENOMEM, "sgemm: no memory for %zu packed floats", afl);
    struct pp_job j = {.u = u, .A = A, .lda = lda, .ldc = ldc, .M = M, .K = K, .C = C,
                       .epi = epi,
                       .apack = (float *)(void *)(mem + (64 - ((uintptr_t)mem & 63)) % 64)};
    int64_t ncm = ncmax_for(N, u.nr), m_blocks = (M + u.mc - 1) / u.mc;
    const float *base = Bp;
    for (int64_t jc = 0; jc < N; jc += ncm) {
        j.jc = jc;
        j.nc = N - jc < ncm ? N - jc : ncm;
        j.Bp = base;
        int64_t n_sl = (j.nc + u.nr - 1) / u.nr;
        base += K * n_sl * u.nr;
        /* A few tasks per thread so uneven progress (a shared machine) evens
         * out, without slices so thin that re-packing A costs much. */
        int64_t want = threads > 1 ? (3 * threads + m_blocks - 1) / m_blocks : 1;
        if (want > n_sl) want = n_sl;
        if (want > 1 && n_sl / want < 2) want = n_sl / 2 > 1 ? n_sl / 2 : 1;
        j.slice_w = (n_sl + want - 1) / want;
        j.n_slices = (n_sl + j.slice_w - 1) / j.slice_w;
        int64_t tasks = m_blocks * j.n_slices;
        if (pool && tasks > 1)
            ia_pool_run(pool, tasks, pp_task, &j);
        else
            for (int64_t t = 0; t < tasks; t++) pp_task(&j, t, 0);
    }
    ia_free(mem);
    return IA_OK;
}

/* ---- transposed matrix-vector ------------------------------------------------------- */

void ia_sgemv_t(int64_t N, int64_t K, float alpha, const float *a, const float *B, int64_t ldb,
                float *c) {
    float (*dot)(int64_t, const float *, const float *) = NULL;
    if (ia_sgemm_path_available(IA_SGEMM_AVX512))
        dot = ia_sdot_avx512;
    else if (ia_sgemm_path_available(IA_SGEMM_AVX2))
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
    int gemv = path == IA_SGEMM_AUTO; /* forced paths keep their kernels (tests) */
    if (path == IA_SGEMM_AUTO) {
        /* Packing costs more than it saves on tiny products and on
         * matrix-vector ones, which are bound by reading B once. */
        if ((double)M * (double)N * (double)K <= 32768.0 || (M <= 2 && !transB))
            path = IA_SGEMM_REF;
        else
            path = ia_sgemm_best_path();
    }
    if (path == IA_SGEMM_REF) {
        sgemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return IA_OK;
    }
    if (gemv && M <= 4 && transB && !transA) {
        /* A few rows against a transposed B (an RNN step, a decode step):
         * packing all of B for so few rows costs more than the product. */
        scale_c(M, N, beta, C, ldc);
        for (int64_t i = 0; i < M; i++) ia_sgemv_t(N, K, alpha, A + i * lda, B, ldb, C + i * ldc);
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
