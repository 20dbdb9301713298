/* Our SGEMM against OpenBLAS (cblas_sgemm) and oneDNN (dnnl_sgemm) on the
 * shapes the benchmark workloads run: BERT/GPT-2/ViT projections and FFNs,
 * PP-OCR's convolutions as im2col products, a decode step's few-row
 * products. Row-major C = A (M x K) times B (K x N), fp32, alpha 1, beta 0.
 *
 *   gemm_vs_blas [threads...]          default: 1 2
 *
 * For each thread count and shape it prints GFLOP/s of
 *   ours-pack  ia_sgemm: packs B in every call (activations, im2col)
 *   ours-pp    ia_sgemm_prepacked: B packed once (constant weights)
 *   openblas   cblas_sgemm (built with -DHAVE_OPENBLAS)
 *   onednn     dnnl_sgemm (built with -DHAVE_DNNL)
 * and ours/blas: ours-pack and ours-pp each over the faster library. Each
 * figure is the best of ROUNDS rounds that take the four in turn (the
 * machine's speed drifts over seconds: measured one after the other, one
 * library could get a fast spell and another a slow one), each round the
 * best of several runs after a warm-up, timed in the calling
 * thread's CPU time at one thread (all four then compute on the calling
 * thread, and time spent waiting for a core on a shared machine is not
 * counted) and in wall time at more; compare within one run.
 * Threads: ours through its pool; OpenBLAS through
 * openblas_set_num_threads; oneDNN (OpenMP) through omp_set_num_threads.
 *
 * Build: bench/gemm_vs_blas.sh does it (with whichever libraries exist).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ia/core.h"
#include "kernels/cpu/gemm.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
void omp_set_num_threads(int n); /* libgomp, which oneDNN links */
#endif

struct shape {
    const char *what;
    int64_t M, N, K;
};

static const struct shape SHAPES[] = {
    {"bert/gpt2 ffn1 b1", 128, 3072, 768},
    {"bert/gpt2 ffn2 b1", 128, 768, 3072},
    {"bert attn-out b1", 128, 768, 768},
    {"gpt2 qkv prefill", 128, 2304, 768},
    {"bert ffn1 b8", 1024, 3072, 768},
    {"vit qkv", 197, 2304, 768},
    {"vit ffn1", 197, 3072, 768},
    {"vit ffn2", 197, 768, 3072},
    {"ppocr conv 3->16 s2 320^2", 16, 102400, 27},
    {"ppocr conv 16->32 3x3 160^2", 32, 25600, 144},
    {"ppocr conv 64->64 3x3 80^2", 64, 6400, 576},
    {"ppocr conv 128->128 3x3 40^2", 128, 1600, 1152},
    {"ppocr conv 1x1 256 20^2", 256, 400, 256},
    {"gpt2 decode ffn1", 1, 3072, 768},
    {"gpt2 decode lm_head", 1, 50257, 768},
};

enum { OURS_PACK, OURS_PP, OPENBLAS, ONEDNN, N_IMPL };
static const char *const IMPL_NAME[N_IMPL] = {"ours-pack", "ours-pp", "openblas", "onednn"};

struct ctx {
    const struct shape *s;
    const float *A, *B, *Bp;
    float *C;
    struct ia_pool *pool;
};

/* 0 on success, -1 when impl is not built in. */
static int run(int impl, const struct ctx *x) {
    const struct shape *s = x->s;
    switch (impl) {
    case OURS_PACK:
        return ia_sgemm(0, 0, s->M, s->N, s->K, 1.0f, x->A, s->K, x->B, s->N, 0.0f, x->C, s->N,
                        x->pool) == IA_OK ? 0 : -2;
    case OURS_PP:
        return ia_sgemm_prepacked(IA_SGEMM_AUTO, s->M, s->N, s->K, x->A, s->K, x->Bp, x->C, s->N,
                                  NULL, x->pool) == IA_OK ? 0 : -2;
    case OPENBLAS:
#ifdef HAVE_OPENBLAS
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->M, (int)s->N, (int)s->K,
                    1.0f, x->A, (int)s->K, x->B, (int)s->N, 0.0f, x->C, (int)s->N);
        return 0;
#else
        return -1;
#endif
    case ONEDNN:
#ifdef HAVE_DNNL
        return dnnl_sgemm('N', 'N', s->M, s->N, s->K, 1.0f, x->A, s->K, x->B, s->N, 0.0f, x->C,
                          s->N) == dnnl_success ? 0 : -2;
#else
        return -1;
#endif
    }
    return -1;
}

static double now(int cpu) {
    if (!cpu) return ia_time_now();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define ROUNDS 5

/* Best GFLOP/s over runs that together take about 0.3 s / ROUNDS (at least 3), or
 * a negative code from run(). cpu: time in the thread's CPU time. */
static double measure(int impl, const struct ctx *x, int cpu) {
    double flop = 2.0 * (double)x->s->M * (double)x->s->N * (double)x->s->K;
    int rc = run(impl, x); /* warm-up: pages, caches, thread start */
    if (rc) return rc;
    double best = 1e30, spent = 0;
    for (int r = 0; r < 200 && (r < 3 || spent < 0.3 / ROUNDS); r++) {
        double t0 = now(cpu);
        run(impl, x);
        double dt = now(cpu) - t0;
        spent += dt;
        if (dt < best) best = dt;
    }
    return flop / best * 1e-9;
}

static void set_threads(int t) {
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(t);
#endif
#ifdef HAVE_DNNL
    omp_set_num_threads(t);
#endif
    (void)t;
}

int main(int argc, char **argv) {
    int counts[8] = {1, 2}, n_counts = 2;
    if (argc > 1) {
        n_counts = 0;
        for (int i = 1; i < argc && n_counts < 8; i++) {
            counts[n_counts] = atoi(argv[i]);
            if (counts[n_counts] < 1 || counts[n_counts] > 256) {
                fprintf(stderr, "gemm_vs_blas: bad thread count %s\n", argv[i]);
                return 2;
            }
            n_counts++;
        }
    }
#ifdef HAVE_OPENBLAS
    printf("openblas: %s\n", openblas_get_config());
#endif
#ifdef HAVE_DNNL
    const dnnl_version_t *v = dnnl_version();
    printf("onednn: %d.%d.%d (%s)\n", v->major, v->minor, v->patch,
           v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other runtime");
#endif
    printf("ours: %s micro-kernel\n", ia_sgemm_path_name(IA_SGEMM_AUTO));
    for (int c = 0; c < n_counts; c++) {
        int t = counts[c];
        struct ia_pool *pool = NULL;
        if (t > 1 && ia_pool_create(t, &pool)) return 1;
        set_threads(t);
        printf("\nthreads %d (GFLOP/s, best %s)\n", t, t == 1 ? "thread CPU time" : "wall time");
        printf("%-30s %16s", "shape", "M x N x K");
        for (int i = 0; i < N_IMPL; i++) printf(" %9s", IMPL_NAME[i]);
        printf("  pack/blas   pp/blas\n");
        for (size_t si = 0; si < sizeof SHAPES / sizeof SHAPES[0]; si++) {
            const struct shape *s = &SHAPES[si];
            float *A = malloc(sizeof(float) * (size_t)(s->M * s->K));
            float *B = malloc(sizeof(float) * (size_t)(s->K * s->N));
            float *C = malloc(sizeof(float) * (size_t)(s->M * s->N));
            float *Bp = malloc(sizeof(float) * ia_sgemm_packed_b_floats(IA_SGEMM_AUTO, s->K, s->N));
            if (!A || !B || !C || !Bp) return 1;
            for (int64_t i = 0; i < s->M * s->K; i++) A[i] = (float)(i % 17) / 17.0f - 0.5f;
            for (int64_t i = 0; i < s->K * s->N; i++) B[i] = (float)(i % 13) / 13.0f - 0.5f;
            if (ia_sgemm_pack_b(IA_SGEMM_AUTO, 0, s->K, s->N, B, s->N, Bp)) return 1;
            struct ctx x = {s, A, B, Bp, C, pool};
            double g[N_IMPL];
            char dims[40];
            snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)s->M, (long long)s->N,
                     (long long)s->K);
            printf("%-30s %16s", s->what, dims);
            for (int i = 0; i < N_IMPL; i++) g[i] = 0;
            for (int r = 0; r < ROUNDS; r++)
                for (int i = 0; i < N_IMPL; i++) {
                    double v = measure(i, &x, t == 1);
                    if (r == 0 || v > g[i]) g[i] = v; /* errors (< 0) stay from round 0 */
                }
            for (int i = 0; i < N_IMPL; i++) {
                if (g[i] > 0)
                    printf(" %9.1f", g[i]);
                else
                    printf(" %9s", g[i] == -1 ? "-" : "error");
            }
            double blas = g[OPENBLAS] > g[ONEDNN] ? g[OPENBLAS] : g[ONEDNN];
            if (blas > 0)
                printf("  %9.2f %9.2f\n", g[OURS_PACK] / blas, g[OURS_PP] / blas);
            else
                printf("  %9s %9s\n", "-", "-");
            fflush(stdout);
            free(A);
            free(B);
            free(C);
            free(Bp);
        }
        ia_pool_destroy(pool);
    }
    return 0;
}
